//! The seeded world: an EKS-like cluster `sandbox` in us-west-2 with three
//! nodes, the LBC and VPC CNI, a mix of legacy in-tree NLB Services, LBC
//! Services, non-NLB Services and a hostNetwork DaemonSet, plus a Route 53
//! zone pointing at some of the NLBs. Constants are public so tests can
//! assert on them; generated ids are in [`World`].

use crate::Error;
use crate::aws::{AwsClients, aws_err};
use crate::intree;
use crate::lbc::{LBC_CLASS, Lbc};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const CLUSTER_NAME: &str = "sandbox";
pub const REGION: &str = "us-west-2";
/// moto's default account.
pub const ACCOUNT_ID: &str = "123456789012";
pub const VPC_CIDR: &str = "10.0.0.0/16";
/// (availability zone, CIDR) of the three subnets, in node order a, b, c.
pub const SUBNETS: [(&str, &str); 3] = [
    ("us-west-2a", "10.0.0.0/20"),
    ("us-west-2b", "10.0.16.0/20"),
    ("us-west-2c", "10.0.32.0/20"),
];
pub const INSTANCE_TYPE: &str = "m5.large";
pub const DEFAULT_LBC_VERSION: &str = "v2.13.3";
pub const VPC_CNI_IMAGE: &str =
    "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.2";
pub const HOSTED_ZONE_NAME: &str = "example.com.";
/// Namespaces the seeded world creates.
pub const NAMESPACES: [&str; 5] = ["default", "kube-system", "web", "shop", "edge"];
pub const READINESS_GATE_LABEL: &str = "elbv2.k8s.aws/pod-readiness-gate-inject";

/// Which controller serves a seeded Service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// Legacy in-tree cloud provider NLB (`aws-load-balancer-type: nlb`).
    InTree,
    /// AWS Load Balancer Controller NLB.
    Lbc,
    /// Not provisioned by anything in the sandbox (other class, Classic ELB).
    None,
}

#[derive(Clone, Debug)]
pub struct SubnetInfo {
    pub az: String,
    pub id: String,
    pub cidr: String,
}

#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub name: String,
    pub instance_id: String,
    pub private_ip: String,
    pub az: String,
    pub subnet_id: String,
}

/// A seeded Service and what backs it.
#[derive(Clone, Debug)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub controller: Controller,
    /// Service port → nodePort.
    pub node_ports: Vec<(i32, i32)>,
    pub health_check_node_port: Option<i32>,
    /// IPs of the Service's pods.
    pub pod_ips: Vec<String>,
    pub nlb_name: Option<String>,
    pub nlb_arn: Option<String>,
    pub dns_name: Option<String>,
    pub canonical_hosted_zone_id: Option<String>,
    pub scheme: Option<String>,
    pub target_group_arns: Vec<String>,
    pub target_group_names: Vec<String>,
    pub listener_arns: Vec<String>,
}

/// Everything the seeder created.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub cluster: String,
    pub region: String,
    pub account_id: String,
    pub vpc_id: String,
    pub subnets: Vec<SubnetInfo>,
    pub nodes: Vec<NodeInfo>,
    pub eip_allocations: Vec<String>,
    /// By `ns/name`.
    pub services: BTreeMap<String, ServiceInfo>,
    pub hosted_zone_id: String,
    pub hosted_zone_name: String,
    /// Record names created (with trailing dot).
    pub records: Vec<String>,
    /// The PrivateLink endpoint service on shop/payments' NLB, if moto made one.
    pub vpc_endpoint_service_id: Option<String>,
    pub lbc_version: Option<String>,
}

impl World {
    /// A seeded Service by namespace and name.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&ServiceInfo> {
        self.services.get(&format!("{namespace}/{name}"))
    }

    pub fn subnet_ids(&self) -> Vec<String> {
        self.subnets.iter().map(|s| s.id.clone()).collect()
    }

    pub fn instance_ids(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.instance_id.clone()).collect()
    }
}

/// Seeding options (from `SandboxOptions`).
pub struct SeedOptions {
    pub seed: bool,
    pub lbc_version: Option<String>,
    /// Extra container args of the LBC Deployment (`--load-balancer-class=…`,
    /// `--feature-gates=…`), which the stand-in honours.
    pub lbc_args: Vec<String>,
    pub vpc_cni: bool,
}

pub(crate) async fn create<K>(client: &kube::Client, obj: Value) -> Result<K, Error>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let ar = kube::api::ApiResource::erase::<K>(&());
    let dynobj: kube::api::DynamicObject =
        serde_json::from_value(obj).map_err(|e| Error::Other(format!("building object: {e}")))?;
    let api: Api<kube::api::DynamicObject> = match dynobj.metadata.namespace.clone() {
        Some(ns) => Api::namespaced_with(client.clone(), &ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    let created = api.create(&PostParams::default(), &dynobj).await?;
    let v = serde_json::to_value(created).map_err(|e| Error::Other(format!("serializing: {e}")))?;
    serde_json::from_value(v).map_err(|e| Error::Other(format!("decoding created object: {e}")))
}

/// Pod IP allocator: deterministic per node.
pub(crate) struct PodIps {
    next: [u32; 3],
}

impl PodIps {
    pub fn new() -> PodIps {
        PodIps { next: [10, 10, 10] }
    }
    /// Next IP in node `i`'s subnet: 10.0.(16*i+1).n
    pub fn next(&mut self, node: usize) -> String {
        let n = self.next[node];
        self.next[node] += 1;
        let third = 16 * node as u32 + 1 + n / 250;
        format!("10.0.{third}.{}", n % 250 + 1)
    }
}

pub(crate) fn namespace_json(name: &str, labels: &[(&str, &str)]) -> Value {
    let mut l = serde_json::Map::new();
    for (k, v) in labels {
        l.insert((*k).to_string(), json!(v));
    }
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": l}})
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn pod_json(
    ns: &str,
    name: &str,
    labels: &Value,
    node: &NodeInfo,
    ip: &str,
    container_ports: &Value,
    host_network: bool,
    image: &str,
) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "nodeName": node.name,
            "hostNetwork": host_network,
            "containers": [{"name": "app", "image": image, "ports": container_ports}],
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "hostIP": node.private_ip,
            "hostIPs": [{"ip": node.private_ip}],
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "ContainersReady", "status": "True"},
                {"type": "Ready", "status": "True"},
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": image, "imageID": "", "started": true, "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}}}],
        }
    })
}

fn deployment_json(ns: &str, name: &str, labels: &Value, replicas: i32, container: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas, "observedGeneration": 1},
    })
}

/// A workload in the seeded world.
struct Workload {
    ns: &'static str,
    app: &'static str,
    /// node index of each pod
    pods: &'static [usize],
    container_port: (&'static str, i32),
}

const WORKLOADS: &[Workload] = &[
    Workload {
        ns: "shop",
        app: "checkout",
        pods: &[0, 0, 1],
        container_port: ("https", 8443),
    },
    Workload {
        ns: "shop",
        app: "legacy-api",
        pods: &[0, 2],
        container_port: ("http", 8080),
    },
    Workload {
        ns: "web",
        app: "static-eip",
        pods: &[1],
        container_port: ("http", 80),
    },
    Workload {
        ns: "web",
        app: "frontend",
        pods: &[0, 1, 2],
        container_port: ("http", 8080),
    },
    Workload {
        ns: "shop",
        app: "payments",
        pods: &[0, 1],
        container_port: ("tls", 8443),
    },
    Workload {
        ns: "default",
        app: "other-class",
        pods: &[2],
        container_port: ("http", 8080),
    },
    Workload {
        ns: "default",
        app: "classic",
        pods: &[0],
        container_port: ("http", 8080),
    },
];

/// Seed AWS and Kubernetes. `kube` is the fake itself; namespaces are
/// returned for the HTTP server to hold.
pub(crate) async fn seed(
    aws: &AwsClients,
    kube: &kube::Client,
    lbc: &Arc<Lbc>,
    opts: &SeedOptions,
) -> Result<(World, Vec<Value>), Error> {
    let mut world = World {
        cluster: CLUSTER_NAME.into(),
        region: REGION.into(),
        account_id: ACCOUNT_ID.into(),
        hosted_zone_name: HOSTED_ZONE_NAME.into(),
        lbc_version: opts.lbc_version.clone(),
        ..Default::default()
    };
    // --- EC2
    let vpc = aws
        .ec2
        .create_vpc()
        .cidr_block(VPC_CIDR)
        .send()
        .await
        .map_err(aws_err("CreateVpc"))?;
    world.vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string();
    tag_ec2(
        aws,
        &world.vpc_id,
        &[
            ("Name", "eksctl-sandbox-cluster/VPC"),
            (&format!("kubernetes.io/cluster/{CLUSTER_NAME}"), "shared"),
        ],
    )
    .await?;
    for (az, cidr) in SUBNETS {
        let s = aws
            .ec2
            .create_subnet()
            .vpc_id(&world.vpc_id)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .map_err(aws_err("CreateSubnet"))?;
        let id = s
            .subnet()
            .and_then(|s| s.subnet_id())
            .unwrap_or_default()
            .to_string();
        tag_ec2(
            aws,
            &id,
            &[
                ("kubernetes.io/role/elb", "1"),
                (&format!("kubernetes.io/cluster/{CLUSTER_NAME}"), "shared"),
            ],
        )
        .await?;
        world.subnets.push(SubnetInfo {
            az: az.into(),
            id,
            cidr: cidr.into(),
        });
    }
    // the sandbox's subnets go to the stand-in whatever happens next
    lbc.set_subnets(
        world
            .subnets
            .iter()
            .map(|s| (s.id.clone(), s.cidr.clone()))
            .collect(),
        &world.vpc_id,
    );
    if !opts.seed {
        return Ok((
            world,
            NAMESPACES[..2]
                .iter()
                .map(|n| namespace_json(n, &[]))
                .collect(),
        ));
    }
    for s in world.subnets.clone() {
        let r = aws
            .ec2
            .run_instances()
            .image_id("ami-12c6146b")
            .min_count(1)
            .max_count(1)
            .instance_type(aws_sdk_ec2::types::InstanceType::from(INSTANCE_TYPE))
            .subnet_id(&s.id)
            .send()
            .await
            .map_err(aws_err("RunInstances"))?;
        let inst = r
            .instances()
            .first()
            .ok_or_else(|| Error::Other("RunInstances returned no instance".into()))?;
        let id = inst.instance_id().unwrap_or_default().to_string();
        let ip = inst.private_ip_address().unwrap_or_default().to_string();
        let dns = inst
            .private_dns_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("ip-{}.{REGION}.compute.internal", ip.replace('.', "-")));
        tag_ec2(
            aws,
            &id,
            &[
                (&format!("kubernetes.io/cluster/{CLUSTER_NAME}"), "owned"),
                ("eks:nodegroup-name", "sandbox-ng"),
            ],
        )
        .await?;
        world.nodes.push(NodeInfo {
            name: dns,
            instance_id: id,
            private_ip: ip,
            az: s.az.clone(),
            subnet_id: s.id.clone(),
        });
    }
    for _ in 0..3 {
        let a = aws
            .ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .map_err(aws_err("AllocateAddress"))?;
        world
            .eip_allocations
            .push(a.allocation_id().unwrap_or_default().to_string());
    }

    // --- Kubernetes: namespaces (held by the HTTP server), nodes, system workloads
    let namespaces: Vec<Value> = vec![
        namespace_json("default", &[]),
        namespace_json("kube-system", &[]),
        namespace_json("web", &[(READINESS_GATE_LABEL, "enabled")]),
        namespace_json("shop", &[]),
        namespace_json("edge", &[]),
    ];
    for n in &world.nodes {
        create::<Node>(kube, json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": n.name, "labels": {
                "topology.kubernetes.io/zone": n.az,
                "topology.kubernetes.io/region": REGION,
                "failure-domain.beta.kubernetes.io/zone": n.az,
                "kubernetes.io/hostname": n.name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": INSTANCE_TYPE,
                "eks.amazonaws.com/nodegroup": "sandbox-ng",
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
            }},
            "spec": {"providerID": format!("aws:///{}/{}", n.az, n.instance_id)},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": n.private_ip},
                    {"type": "Hostname", "address": n.name},
                    {"type": "InternalDNS", "address": n.name},
                ],
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0-eks-sandbox", "kubeProxyVersion": "v1.32.0-eks-sandbox", "architecture": "amd64", "operatingSystem": "linux", "osImage": "Amazon Linux 2023", "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.0", "machineID": "", "systemUUID": "", "bootID": ""},
            },
        })).await?;
    }
    if let Some(v) = &opts.lbc_version {
        create_lbc_deployment(kube, v, &opts.lbc_args).await?;
        create_tgb_crd(kube).await?;
    }
    if opts.vpc_cni {
        let labels = json!({"k8s-app": "aws-node", "app.kubernetes.io/name": "aws-node", "app.kubernetes.io/instance": "aws-vpc-cni"});
        create::<DaemonSet>(kube, json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "aws-node", "namespace": "kube-system", "labels": labels},
            "spec": {
                "selector": {"matchLabels": {"k8s-app": "aws-node"}},
                "template": {"metadata": {"labels": labels}, "spec": {"hostNetwork": true, "containers": [{"name": "aws-node", "image": VPC_CNI_IMAGE}]}},
            },
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 3, "numberMisscheduled": 0},
        })).await?;
    }

    // --- workloads
    let mut ips = PodIps::new();
    let mut pod_ips: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in WORKLOADS {
        let labels = json!({"app": w.app});
        let (pname, pport) = w.container_port;
        let cports = json!([{"name": pname, "containerPort": pport, "protocol": "TCP"}]);
        create::<Deployment>(kube, deployment_json(w.ns, w.app, &labels, w.pods.len() as i32, json!({"name": "app", "image": format!("public.ecr.aws/sandbox/{}:1.0", w.app), "ports": cports}))).await?;
        for (i, node) in w.pods.iter().enumerate() {
            let ip = ips.next(*node);
            let n = &world.nodes[*node];
            create::<Pod>(
                kube,
                pod_json(
                    w.ns,
                    &format!("{}-7d4b9c-{}", w.app, pod_suffix(i)),
                    &labels,
                    n,
                    &ip,
                    &cports,
                    false,
                    &format!("public.ecr.aws/sandbox/{}:1.0", w.app),
                ),
            )
            .await?;
            pod_ips
                .entry(format!("{}/{}", w.ns, w.app))
                .or_default()
                .push(ip);
        }
    }
    // edge-proxy: hostNetwork DaemonSet, pod IP = node IP
    let edge_labels = json!({"app": "edge-proxy"});
    let edge_ports = json!([
        {"name": "http", "containerPort": 80, "hostPort": 80, "protocol": "TCP"},
        {"name": "https", "containerPort": 443, "hostPort": 443, "protocol": "TCP"},
    ]);
    create::<DaemonSet>(kube, json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "edge-proxy", "namespace": "edge", "labels": edge_labels},
        "spec": {
            "selector": {"matchLabels": edge_labels},
            "template": {"metadata": {"labels": edge_labels}, "spec": {"hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet", "containers": [{"name": "envoy", "image": "public.ecr.aws/sandbox/edge-proxy:1.0", "ports": edge_ports}]}},
        },
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 3, "numberMisscheduled": 0},
    })).await?;
    for (i, n) in world.nodes.iter().enumerate() {
        create::<Pod>(
            kube,
            pod_json(
                "edge",
                &format!("edge-proxy-{}", pod_suffix(i)),
                &edge_labels,
                n,
                &n.private_ip,
                &edge_ports,
                true,
                "public.ecr.aws/sandbox/edge-proxy:1.0",
            ),
        )
        .await?;
    }

    // --- Services
    let nlb = "service.beta.kubernetes.io/aws-load-balancer-type";
    let eips = world.eip_allocations.join(",");
    let specs: Vec<(&str, &str, Value, Value, Controller)> = vec![
        (
            "shop",
            "checkout",
            json!({nlb: "nlb"}),
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": 32443, "clusterIP": "172.20.10.10",
                "ports": [{"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP", "nodePort": 30443}]}),
            Controller::InTree,
        ),
        (
            "shop",
            "legacy-api",
            json!({nlb: "nlb", "service.beta.kubernetes.io/aws-load-balancer-internal": "0.0.0.0/0"}),
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "clusterIP": "172.20.10.11",
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}]}),
            Controller::InTree,
        ),
        (
            "web",
            "static-eip",
            json!({nlb: "nlb", "service.beta.kubernetes.io/aws-load-balancer-eip-allocations": eips}),
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "clusterIP": "172.20.10.12",
                "ports": [{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP", "nodePort": 30081}]}),
            Controller::InTree,
        ),
        (
            "web",
            "frontend",
            json!({"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true"}),
            json!({"type": "LoadBalancer", "loadBalancerClass": LBC_CLASS, "externalTrafficPolicy": "Cluster", "clusterIP": "172.20.10.13",
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30082}]}),
            Controller::Lbc,
        ),
        (
            "shop",
            "payments",
            json!({nlb: "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
                "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol": "*",
                "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout": "350"}),
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "clusterIP": "172.20.10.14",
                "ports": [{"name": "tls", "port": 8443, "targetPort": 8443, "protocol": "TCP", "nodePort": 30843}]}),
            Controller::Lbc,
        ),
        (
            "default",
            "other-class",
            json!({}),
            json!({"type": "LoadBalancer", "loadBalancerClass": "example.com/other", "externalTrafficPolicy": "Cluster", "clusterIP": "172.20.10.15",
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30090}]}),
            Controller::None,
        ),
        (
            "default",
            "classic",
            json!({}),
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "clusterIP": "172.20.10.16",
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30091}]}),
            Controller::None,
        ),
    ];
    let mut created: Vec<(Service, Controller)> = Vec::new();
    for (ns, name, annotations, mut spec, ctl) in specs {
        spec["selector"] = json!({"app": name});
        spec["sessionAffinity"] = json!("None");
        spec["ipFamilies"] = json!(["IPv4"]);
        spec["ipFamilyPolicy"] = json!("SingleStack");
        spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
        spec["allocateLoadBalancerNodePorts"] = json!(true);
        spec["internalTrafficPolicy"] = json!("Cluster");
        let svc: Service = create(kube, json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name}, "annotations": annotations},
            "spec": spec,
        })).await?;
        let info = ServiceInfo {
            namespace: ns.into(),
            name: name.into(),
            uid: svc.metadata.uid.clone().unwrap_or_default(),
            controller: ctl,
            node_ports: crate::model::ports(&svc)
                .iter()
                .filter_map(|p| Some((p.port, p.node_port?)))
                .collect(),
            health_check_node_port: crate::model::health_check_node_port(&svc),
            pod_ips: pod_ips
                .get(&format!("{ns}/{name}"))
                .cloned()
                .unwrap_or_default(),
            nlb_name: None,
            nlb_arn: None,
            dns_name: None,
            canonical_hosted_zone_id: None,
            scheme: None,
            target_group_arns: Vec::new(),
            target_group_names: Vec::new(),
            listener_arns: Vec::new(),
        };
        world.services.insert(format!("{ns}/{name}"), info);
        created.push((svc, ctl));
    }

    // --- the in-tree provider's NLBs
    let subnet_ids = world.subnet_ids();
    let instances = world.instance_ids();
    for (svc, ctl) in &created {
        if *ctl != Controller::InTree {
            continue;
        }
        let nlb = adopt_intree(aws, kube, lbc, &world.vpc_id, &subnet_ids, &instances, svc).await?;
        let (ns, name) = crate::model::ns_name(svc);
        if let Some(info) = world.services.get_mut(&format!("{ns}/{name}")) {
            info.nlb_name = Some(nlb.name);
            info.nlb_arn = Some(nlb.arn);
            info.dns_name = Some(nlb.dns_name);
            info.canonical_hosted_zone_id = Some(nlb.canonical_hosted_zone_id);
            info.scheme = Some(nlb.scheme);
            info.target_group_arns = nlb.target_group_arns;
            info.target_group_names = nlb.target_group_names;
            info.listener_arns = nlb.listener_arns;
        }
    }

    // --- the LBC's NLBs (only if the LBC is "installed")
    if lbc.is_enabled() {
        let report = lbc.reconcile_once().await?;
        if let Some(e) = report.errors.first() {
            return Err(Error::Other(format!("LBC stand-in while seeding: {e}")));
        }
        for (key, p) in lbc.provisioned().await {
            if let Some(info) = world.services.get_mut(&key) {
                info.nlb_name = Some(p.nlb_name.clone());
                info.nlb_arn = Some(p.arn.clone());
                info.dns_name = Some(p.dns_name.clone());
                info.canonical_hosted_zone_id = Some(p.canonical_hosted_zone_id.clone());
                info.scheme = Some(p.scheme.clone());
                info.target_group_arns = p.target_groups.iter().map(|t| t.arn.clone()).collect();
                info.target_group_names = p.target_groups.iter().map(|t| t.name.clone()).collect();
                info.listener_arns = p.listener_arns.clone();
            }
        }
        // PrivateLink on payments' NLB
        if let Some(arn) = world
            .service("shop", "payments")
            .and_then(|s| s.nlb_arn.clone())
            && let Ok(out) = aws
                .ec2
                .create_vpc_endpoint_service_configuration()
                .network_load_balancer_arns(arn)
                .acceptance_required(false)
                .send()
                .await
        {
            world.vpc_endpoint_service_id = out
                .service_configuration()
                .and_then(|c| c.service_id())
                .map(str::to_string);
        }
    }

    // --- Route 53
    seed_route53(aws, &mut world).await?;
    Ok((world, namespaces))
}

fn pod_suffix(i: usize) -> String {
    const S: [&str; 6] = ["x2k9p", "m4q7z", "b8n3w", "t5v1c", "h6r2j", "d9f4s"];
    S[i % S.len()].to_string()
}

/// What the in-tree service controller does for a new Service: the NLB
/// (cloud-provider-aws `EnsureLoadBalancer`), the status hostname, its
/// finalizer, and the cleanup it owes on deletion (tracked by the stand-in).
pub async fn adopt_intree(
    aws: &AwsClients,
    kube: &kube::Client,
    lbc: &Lbc,
    vpc_id: &str,
    subnet_ids: &[String],
    instances: &[String],
    svc: &Service,
) -> Result<intree::IntreeNlb, Error> {
    let nlb = intree::provision(aws, CLUSTER_NAME, vpc_id, subnet_ids, instances, svc).await?;
    let (ns, name) = crate::model::ns_name(svc);
    let api = Api::<Service>::namespaced(kube.clone(), &ns);
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({
            "status": {"loadBalancer": {"ingress": [{"hostname": nlb.dns_name}]}}
        })),
    )
    .await?;
    api.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": [crate::lbc::INTREE_FINALIZER]}})),
    )
    .await?;
    lbc.track_intree(
        &format!("{ns}/{name}"),
        svc.metadata.uid.as_deref().unwrap_or_default(),
        &nlb.arn,
        &nlb.target_group_arns,
    )
    .await;
    Ok(nlb)
}

async fn create_lbc_deployment(
    kube: &kube::Client,
    version: &str,
    extra_args: &[String],
) -> Result<(), Error> {
    let chart = match version
        .trim_start_matches('v')
        .split('.')
        .collect::<Vec<_>>()
        .as_slice()
    {
        [_, minor, patch, ..] => format!("1.{minor}.{patch}"),
        _ => "1.13.3".to_string(),
    };
    let labels = json!({
        "app.kubernetes.io/name": "aws-load-balancer-controller",
        "app.kubernetes.io/instance": "aws-load-balancer-controller",
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/managed-by": "Helm",
        "helm.sh/chart": format!("aws-load-balancer-controller-{chart}"),
    });
    let sel = json!({"app.kubernetes.io/name": "aws-load-balancer-controller", "app.kubernetes.io/instance": "aws-load-balancer-controller"});
    let mut args = vec![
        format!("--cluster-name={CLUSTER_NAME}"),
        "--ingress-class=alb".to_string(),
    ];
    args.extend(extra_args.iter().cloned());
    create::<Deployment>(kube, json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": sel},
            "template": {"metadata": {"labels": sel}, "spec": {
                "serviceAccountName": "aws-load-balancer-controller",
                "containers": [{
                    "name": "aws-load-balancer-controller",
                    "image": format!("public.ecr.aws/eks/aws-load-balancer-controller:{version}"),
                    "args": args,
                }],
            }},
        },
        "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2, "observedGeneration": 1},
    })).await?;
    Ok(())
}

/// The TargetGroupBinding CustomResourceDefinition object the LBC chart installs.
async fn create_tgb_crd(kube: &kube::Client) -> Result<(), Error> {
    let col = |name: &str, path: &str, ty: &str, priority: i32| json!({"name": name, "jsonPath": path, "type": ty, "priority": priority});
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "targetgroupbindings.elbv2.k8s.aws", "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.5"}},
        "spec": {
            "group": "elbv2.k8s.aws",
            "names": {"kind": "TargetGroupBinding", "listKind": "TargetGroupBindingList", "plural": "targetgroupbindings", "singular": "targetgroupbinding", "categories": ["all"]},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1alpha1", "served": true, "storage": false, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
                {"name": "v1beta1", "served": true, "storage": true, "subresources": {"status": {}},
                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                 "additionalPrinterColumns": [
                    col("SERVICE-NAME", ".spec.serviceRef.name", "string", 0),
                    col("SERVICE-PORT", ".spec.serviceRef.port", "string", 0),
                    col("TARGET-TYPE", ".spec.targetType", "string", 0),
                    col("ARN", ".spec.targetGroupARN", "string", 1),
                    col("AGE", ".metadata.creationTimestamp", "date", 0),
                 ]},
            ],
        },
        "status": {"acceptedNames": {"kind": "TargetGroupBinding", "plural": "targetgroupbindings"}, "storedVersions": ["v1beta1"],
                   "conditions": [{"type": "Established", "status": "True"}, {"type": "NamesAccepted", "status": "True"}]},
    });
    create::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>(kube, crd).await?;
    Ok(())
}

async fn tag_ec2(aws: &AwsClients, id: &str, tags: &[(&str, &str)]) -> Result<(), Error> {
    aws.ec2
        .create_tags()
        .resources(id)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(aws_err("CreateTags"))?;
    Ok(())
}

async fn seed_route53(aws: &AwsClients, world: &mut World) -> Result<(), Error> {
    use aws_sdk_route53::types::{
        AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let be = |e: aws_sdk_route53::error::BuildError| {
        Error::Other(format!("building Route 53 change: {e}"))
    };
    let zone = aws
        .r53
        .create_hosted_zone()
        .name(HOSTED_ZONE_NAME)
        .caller_reference(format!("nlb-sandbox-{}", std::process::id()))
        .send()
        .await
        .map_err(aws_err("CreateHostedZone"))?;
    let zone_id = zone
        .hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .unwrap_or_default();
    world.hosted_zone_id = zone_id.clone();
    let mut changes = Vec::new();
    let alias = |name: &str, svc: Option<&ServiceInfo>| -> Result<Option<Change>, Error> {
        let Some(s) = svc else { return Ok(None) };
        let (Some(dns), Some(zone)) = (&s.dns_name, &s.canonical_hosted_zone_id) else {
            return Ok(None);
        };
        let rrs = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id(zone)
                    .dns_name(dns)
                    .evaluate_target_health(true)
                    .build()
                    .map_err(be)?,
            )
            .build()
            .map_err(be)?;
        Ok(Some(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(rrs)
                .build()
                .map_err(be)?,
        ))
    };
    let simple = |name: &str, t: RrType, value: &str| -> Result<Change, Error> {
        let rrs = ResourceRecordSet::builder()
            .name(name)
            .r#type(t)
            .ttl(300)
            .resource_records(ResourceRecord::builder().value(value).build().map_err(be)?)
            .build()
            .map_err(be)?;
        Change::builder()
            .action(ChangeAction::Create)
            .resource_record_set(rrs)
            .build()
            .map_err(be)
    };
    if let Some(c) = alias("checkout.example.com.", world.service("shop", "checkout"))? {
        changes.push(c);
        world.records.push("checkout.example.com.".into());
    }
    if let Some(c) = alias("www.example.com.", world.service("web", "frontend"))? {
        changes.push(c);
        world.records.push("www.example.com.".into());
    }
    if let Some(dns) = world
        .service("shop", "legacy-api")
        .and_then(|s| s.dns_name.clone())
    {
        changes.push(simple("api.example.com.", RrType::Cname, &dns)?);
        world.records.push("api.example.com.".into());
    }
    changes.push(simple("mail.example.com.", RrType::A, "192.0.2.25")?);
    world.records.push("mail.example.com.".into());
    aws.r53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .map_err(be)?,
        )
        .send()
        .await
        .map_err(aws_err("ChangeResourceRecordSets"))?;
    Ok(())
}

/// Number of namespaces `seed_scale` spreads Services over.
pub const SCALE_NAMESPACES: usize = 20;

/// Add `services` LoadBalancer Services over [`SCALE_NAMESPACES`] namespaces
/// `scale-00`…`scale-19` (Service `i` is `svc-{i:05}`): `i % 10` in 0..=5 is
/// LBC ip mode (even: `loadBalancerClass`, odd: `aws-load-balancer-type:
/// external`), 6..=8 legacy in-tree `nlb`, 9 `loadBalancerClass:
/// example.com/other`. `pods` Running/Ready pods are dealt round-robin to the
/// Services (pod IPs from 100.64.0.0/16, a custom-networking secondary range).
/// Every in-tree and LBC Service gets its NLB in moto (LBC ones only when the
/// LBC is "installed").
pub async fn seed_scale(
    aws: &AwsClients,
    kube: &kube::Client,
    server: &crate::kube_server::KubeServer,
    lbc: &Arc<Lbc>,
    world: &World,
    services: usize,
    pods: usize,
) -> Result<(), Error> {
    if world.nodes.is_empty() {
        return Err(Error::Other(
            "seed_scale needs the seeded world (SandboxOptions::seed)".into(),
        ));
    }
    for i in 0..SCALE_NAMESPACES {
        server.put_namespace(namespace_json(
            &format!("scale-{i:02}"),
            &[("sandbox/scale", "true")],
        ));
    }
    let used: std::collections::BTreeSet<i32> = world
        .services
        .values()
        .flat_map(|s| {
            s.node_ports
                .iter()
                .map(|(_, np)| *np)
                .chain(s.health_check_node_port)
        })
        .collect();
    let mut next_np = 30100;
    let mut alloc_np = || -> Option<i32> {
        while next_np <= 32767 {
            let n = next_np;
            next_np += 1;
            if !used.contains(&n) {
                return Some(n);
            }
        }
        None
    };
    let nlb = "service.beta.kubernetes.io/aws-load-balancer-type";
    let tt = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type";
    let mut svc_objs: Vec<Value> = Vec::with_capacity(services);
    for i in 0..services {
        let ns = format!("scale-{:02}", i % SCALE_NAMESPACES);
        let name = format!("svc-{i:05}");
        let mut spec = json!({
            "type": "LoadBalancer",
            "selector": {"app": name},
            "clusterIP": format!("172.21.{}.{}", i / 250, i % 250 + 1),
            "externalTrafficPolicy": "Cluster",
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        });
        let mut annotations = json!({});
        match i % 10 {
            0..=5 => {
                spec["allocateLoadBalancerNodePorts"] = json!(false);
                annotations[tt] = json!("ip");
                annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] =
                    json!(if i % 3 == 0 {
                        "internet-facing"
                    } else {
                        "internal"
                    });
                if i % 2 == 0 {
                    spec["loadBalancerClass"] = json!(LBC_CLASS);
                } else {
                    annotations[nlb] = json!("external");
                }
            }
            6..=8 => {
                annotations[nlb] = json!("nlb");
                let np = alloc_np().ok_or_else(|| {
                    Error::Other("out of nodePorts (30000-32767) for the in-tree Services".into())
                })?;
                spec["ports"][0]["nodePort"] = json!(np);
            }
            _ => {
                spec["loadBalancerClass"] = json!("example.com/other");
                spec["allocateLoadBalancerNodePorts"] = json!(false);
            }
        }
        svc_objs.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name, "sandbox/scale": "true"}, "annotations": annotations},
            "spec": spec,
        }));
    }
    let t0 = std::time::Instant::now();
    let created = create_many::<Service>(kube, svc_objs, 4).await?;

    let mut pod_objs = Vec::with_capacity(pods);
    if services > 0 {
        for j in 0..pods {
            let i = j % services;
            let ns = format!("scale-{:02}", i % SCALE_NAMESPACES);
            let app = format!("svc-{i:05}");
            let node = &world.nodes[j % world.nodes.len()];
            let ip = format!("100.64.{}.{}", j / 250, j % 250 + 1);
            pod_objs.push(pod_json(
                &ns,
                &format!("{app}-{j}"),
                &json!({"app": app}),
                node,
                &ip,
                &json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}]),
                false,
                "public.ecr.aws/sandbox/scale:1.0",
            ));
        }
    }
    create_many::<Pod>(kube, pod_objs, 4).await?;
    tracing::info!(elapsed = ?t0.elapsed(), "seed_scale: Kubernetes objects created");
    let t1 = std::time::Instant::now();

    // in-tree NLBs
    let subnets = world.subnet_ids();
    let instances = world.instance_ids();
    let sem = Arc::new(tokio::sync::Semaphore::new(6));
    let mut set = tokio::task::JoinSet::new();
    for svc in created
        .into_iter()
        .filter(|s| crate::model::ann(s, "aws-load-balancer-type") == Some("nlb"))
    {
        let (aws, kube, sem) = (aws.clone(), kube.clone(), sem.clone());
        let (vpc, subnets, instances) = (world.vpc_id.clone(), subnets.clone(), instances.clone());
        set.spawn(async move {
            let _p = sem.acquire_owned().await;
            let nlb =
                intree::provision(&aws, CLUSTER_NAME, &vpc, &subnets, &instances, &svc).await?;
            let (ns, name) = crate::model::ns_name(&svc);
            Api::<Service>::namespaced(kube, &ns)
                .patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({
                        "status": {"loadBalancer": {"ingress": [{"hostname": nlb.dns_name}]}}
                    })),
                )
                .await?;
            Ok::<(), Error>(())
        });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| Error::Other(format!("in-tree provisioning task: {e}")))??;
    }
    tracing::info!(elapsed = ?t1.elapsed(), "seed_scale: in-tree NLBs created");
    let t2 = std::time::Instant::now();
    // LBC NLBs
    let report = lbc.provision_pending(6).await?;
    tracing::info!(elapsed = ?t2.elapsed(), "seed_scale: LBC NLBs created");
    if let Some(e) = report.errors.first() {
        return Err(Error::Other(format!("LBC stand-in (scale): {e}")));
    }
    Ok(())
}

/// Create many objects through the fake, `concurrency` at a time.
async fn create_many<K>(
    client: &kube::Client,
    objs: Vec<Value>,
    concurrency: usize,
) -> Result<Vec<K>, Error>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let mut out = Vec::with_capacity(objs.len());
    let chunk = objs.len().div_ceil(concurrency.max(1)).max(1);
    let mut set = tokio::task::JoinSet::new();
    let mut objs = objs;
    while !objs.is_empty() {
        let rest = objs.split_off(chunk.min(objs.len()));
        let mine = std::mem::replace(&mut objs, rest);
        let client = client.clone();
        set.spawn(async move {
            let mut v = Vec::with_capacity(mine.len());
            for o in mine {
                v.push(create::<K>(&client, o).await?);
            }
            Ok::<Vec<K>, Error>(v)
        });
    }
    while let Some(r) = set.join_next().await {
        out.extend(r.map_err(|e| Error::Other(format!("create task: {e}")))??);
    }
    Ok(out)
}
