//! Pure planning for `bind-hostnetwork`: from a hostNetwork workload, its nodes,
//! the Services of its namespace and the target group, decide the Service, the
//! target group and the TargetGroupBinding to have (domain.md §4).

pub mod ownership;
pub mod placement;
pub mod traffic;

use crate::annotations as ann;
use crate::classify::{self, Owner, TargetType};
use crate::model::{LoadBalancer, PodInfo, ServiceInfo, TargetGroup};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Annotation on what kubectl nlb creates, naming its source.
pub const PROVENANCE: &str = "nlb.kubectl.io/bound-to";

/// Labels that exclude a node from load-balancer targets (domain.md §4.4).
const EXCLUDING_LABELS: &[&str] = &[
    "node-role.kubernetes.io/master",
    "node.kubernetes.io/exclude-from-external-load-balancers",
    "alpha.service-controller.kubernetes.io/exclude-balancer",
];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub container_port: i32,
    pub host_port: Option<i32>,
    pub protocol: String,
}

impl ContainerPort {
    fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.container_port.to_string())
    }
}

/// A Deployment, DaemonSet or StatefulSet, reduced to its pod template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Workload {
    /// `deployment`, `daemonset` or `statefulset`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub host_network: bool,
    /// `spec.selector.matchLabels`.
    pub selector: BTreeMap<String, String>,
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity: any term, each with all its expressions.
    pub affinity_terms: Vec<Vec<placement::MatchExpr>>,
    pub tolerations: Vec<placement::Toleration>,
    pub ports: Vec<ContainerPort>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeInfo {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub instance_id: Option<String>,
    pub internal_ip: Option<String>,
    pub ready: bool,
    pub taints: Vec<placement::Taint>,
}

/// A TargetGroupBinding that already exists anywhere in the cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExistingBinding {
    pub namespace: String,
    pub name: String,
    pub target_group_arn: String,
    pub multi_cluster: bool,
}

/// Which target group to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetChoice {
    /// `--target-group-arn` or `--target-group-name`, looked up in AWS.
    Existing,
    /// `--create-target-group`, optionally behind an existing load balancer.
    Create,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Port names or numbers; empty means every port of the pod template.
    pub ports: Vec<String>,
    pub target: TargetChoice,
    pub target_type: TargetType,
    pub source_cidrs: Vec<String>,
    pub source_sgs: Vec<String>,
    /// `preserve_client_ip.enabled` for target groups the plan creates
    /// (`None`: AWS's default).
    pub preserve_client_ip: Option<bool>,
    /// The cluster name the LBC runs with (`--cluster-name`), for the tag its IAM policy needs.
    pub cluster: Option<String>,
}

/// Everything observed, as plain data.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub workload: Workload,
    pub pods: Vec<PodInfo>,
    pub nodes: Vec<NodeInfo>,
    pub services: Vec<ServiceInfo>,
    pub bindings: Vec<ExistingBinding>,
    /// The target group named by the user, when one was.
    pub target_group: Option<TargetGroup>,
    /// The load balancer in front: the target group's, or `--load-balancer`.
    pub load_balancer: Option<LoadBalancer>,
    /// CIDRs of the load balancer's subnets.
    pub load_balancer_subnet_cidrs: Vec<String>,
    /// The VPC of the nodes (from EC2), and its CIDR blocks.
    pub vpc_id: Option<String>,
    pub vpc_cidrs: Vec<String>,
    /// Tags of the load balancer and the target group, by ARN.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// `--create-load-balancer`: the NLB to create (or reuse, by name).
    pub new_load_balancer: Option<NewLoadBalancer>,
    /// Target groups that already carry the names `--create-target-group`
    /// would give: an earlier run made them, and a re-run reuses them.
    pub created_earlier: Vec<TargetGroup>,
    /// The listeners of the load balancer a new listener would go on (the
    /// existing one, or the one `--create-load-balancer` reuses): port →
    /// the ARNs of the target groups it forwards to.
    pub listeners: BTreeMap<i32, Vec<String>>,
}

/// An NLB `bind-hostnetwork` creates in front of the new target groups.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewLoadBalancer {
    pub name: String,
    pub scheme: String,
    pub subnets: Vec<String>,
    pub subnet_cidrs: Vec<String>,
    /// It exists from an earlier run and will be reused.
    pub exists: bool,
    /// Its ARN, when it exists.
    pub arn: Option<String>,
    /// Its security groups, when it exists.
    pub security_groups: Vec<String>,
}

/// The load balancer name kubectl nlb creates for a workload.
pub fn load_balancer_name(namespace: &str, workload: &str) -> String {
    let raw = format!("hn-{}-{}", truncate(namespace, 10), truncate(workload, 18));
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    truncate(cleaned.trim_matches('-'), 32).to_string()
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceStep {
    Reuse {
        name: String,
    },
    Create {
        name: String,
        manifest: Value,
    },
    /// The Service an earlier run made for this workload lacks some of the
    /// ports: add them (`ports`, ServicePort entries), keeping the others,
    /// which live bindings use (qa D-M2b).
    AddPorts {
        name: String,
        ports: Vec<Value>,
    },
}

impl ServiceStep {
    pub fn name(&self) -> &str {
        match self {
            ServiceStep::Reuse { name }
            | ServiceStep::Create { name, .. }
            | ServiceStep::AddPorts { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TargetGroupStep {
    Existing {
        arn: String,
        name: String,
    },
    Create {
        /// The ARN of a group of that name an earlier run made, to be reused.
        existing_arn: Option<String>,
        name: String,
        protocol: String,
        port: i32,
        vpc_id: String,
        tags: Vec<(String, String)>,
        /// Add a listener on this load balancer forwarding to the new group:
        /// an ARN, or the name of the NLB this plan creates.
        listener_on: Option<String>,
        /// `preserve_client_ip.enabled` to set on it.
        preserve_client_ip: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortPlan {
    pub port: ContainerPort,
    /// The Service port the binding refers to (the Service *port*, domain.md §4.1).
    pub service_port: i32,
    pub target_group: TargetGroupStep,
    pub binding_name: String,
    /// The binding's networking rules.
    pub rules: Vec<traffic::Rule>,
    /// The health-check port when the target group checks another port
    /// than the traffic one.
    pub health_check_port: Option<i32>,
    /// Targets expected once bound: instance ids, or node IPs for ip targets.
    pub expected_targets: Vec<String>,
    /// Registered targets that will not be healthy, by target id, with why.
    pub expected_unhealthy: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub namespace: String,
    pub workload: String,
    pub target_type: TargetType,
    pub service: ServiceStep,
    pub ports: Vec<PortPlan>,
    /// For instance targets: the binding's nodeSelector.
    pub node_selector: BTreeMap<String, String>,
    /// Target id (instance id or node IP) → node name, for reporting.
    pub target_nodes: BTreeMap<String, String>,
    /// Who may reach the NLB the plan creates (its security group's inbound).
    pub new_lb_inbound: Vec<traffic::From>,
    /// Every choice the plan made, said plainly.
    pub notes: Vec<String>,
}

/// Why a binding cannot be planned; each names the object, the problem and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

fn fail<T>(msg: String) -> Result<T, PlanError> {
    Err(PlanError(msg))
}

/// Decides the whole binding, or says why not. Nothing here talks to an API.
pub fn plan(req: &Request, world: &World) -> Result<Plan, PlanError> {
    let w = &world.workload;
    let what = format!("{}/{} in namespace {}", w.kind, w.name, w.namespace);
    if !w.host_network {
        return fail(format!(
            "{what} does not set hostNetwork: true; bind-hostnetwork is for host-network pods (use a LoadBalancer Service with the LBC for the others)"
        ));
    }
    if w.selector.is_empty() {
        return fail(format!(
            "{what} has no spec.selector.matchLabels; a Service cannot select its pods"
        ));
    }
    let ports = select_ports(req, w, &what)?;
    refuse_owned(world)?;
    if req.preserve_client_ip.is_some() && req.target == TargetChoice::Existing {
        return fail(
            "--preserve-client-ip sets the attribute of a target group the tool creates (--create-target-group); change an existing group's attribute with kubectl nlb cutover or in AWS".into(),
        );
    }

    let nodes = eligible_nodes(&world.nodes, &w.node_selector);
    if nodes.is_empty() {
        return fail(format!(
            "no ready node matches the node selector of {what} ({}); nothing could be registered",
            fmt_labels(&w.node_selector)
        ));
    }
    let mut notes = Vec::new();
    let expected: Vec<String> = match req.target_type {
        TargetType::Instance => {
            notes.push(format!(
                "instance targets: every ready node matching {} is registered on the Service's NodePort, and kube-proxy forwards to the pod; externalTrafficPolicy: Local keeps traffic on nodes that run a pod and keeps the client address (the others fail the health check)",
                if w.node_selector.is_empty() { "the workload (no node selector)".to_string() } else { fmt_labels(&w.node_selector) }
            ));
            nodes.iter().filter_map(|n| n.instance_id.clone()).collect()
        }
        TargetType::Ip => {
            notes.push(
                "ip targets: a host-network pod's IP is its node's IP, so the target group receives nodeIP:port directly, with no NodePort hop".into(),
            );
            let mut ips: Vec<String> = world
                .pods
                .iter()
                .filter(|p| p.ready)
                .filter_map(|p| p.ip.clone())
                .collect();
            ips.sort();
            ips.dedup();
            ips
        }
    };

    let service = service_step(req, world, &ports, &what, &mut notes)?;
    let service_name = service.name().to_string();

    let local = match &service {
        ServiceStep::Create { .. } => req.target_type == TargetType::Instance,
        ServiceStep::Reuse { name } | ServiceStep::AddPorts { name, .. } => {
            req.target_type == TargetType::Instance
                && world
                    .services
                    .iter()
                    .any(|s| s.name == *name && s.traffic_policy_local())
        }
    };
    let unhealthy: BTreeMap<String, String> = if req.target_type == TargetType::Instance {
        placement::expected_unhealthy(&nodes, w, &world.pods, local)
            .into_iter()
            .filter_map(|(node, why)| {
                let id = world
                    .nodes
                    .iter()
                    .find(|n| n.name == node)?
                    .instance_id
                    .clone()?;
                Some((id, why))
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut port_plans = Vec::new();
    let mut new_lb_inbound = Vec::new();
    for p in &ports {
        let target_group = target_group_step(req, world, p, &what)?;
        let preserve = match &target_group {
            TargetGroupStep::Create {
                preserve_client_ip, ..
            } => *preserve_client_ip,
            TargetGroupStep::Existing { .. } => world
                .target_group
                .as_ref()
                .and_then(|tg| {
                    tg.attribute_bool("preserve_client_ip.enabled").or(Some(
                        traffic::default_preserve(
                            tg.target_type.as_deref() == Some("instance"),
                            tg.protocol.as_deref().unwrap_or("TCP"),
                        ),
                    ))
                })
                .unwrap_or(true),
        };
        let decided = traffic::decide(&traffic_inputs(req, world, preserve), &what)?;
        if !notes.contains(&decided.note) {
            notes.push(decided.note.clone());
        }
        new_lb_inbound = decided.new_lb_inbound;
        let health_check_port = world
            .target_group
            .as_ref()
            .filter(|_| req.target == TargetChoice::Existing)
            .and_then(|tg| tg.health_check.port.as_deref())
            .and_then(|p| p.parse::<i32>().ok());
        // A port the Service lacks is added with the container port's number.
        let service_port = match &service {
            ServiceStep::Reuse { .. } | ServiceStep::AddPorts { .. } => world
                .services
                .iter()
                .find(|s| s.name == service_name)
                .and_then(|s| service_port_for(s, p))
                .unwrap_or(p.container_port),
            ServiceStep::Create { .. } => p.container_port,
        };
        port_plans.push(PortPlan {
            port: p.clone(),
            service_port,
            binding_name: dns_label(&format!("{}-{}", w.name, p.label())),
            target_group,
            rules: decided.rules,
            health_check_port,
            expected_targets: expected.clone(),
            expected_unhealthy: unhealthy.clone(),
        });
    }
    if let Some(lb) = &world.new_load_balancer {
        notes.push(if lb.exists {
            format!(
                "load balancer: reuse {} (created by an earlier run)",
                lb.name
            )
        } else {
            format!(
                "load balancer: create the {} NLB {} in subnets {}",
                lb.scheme,
                lb.name,
                lb.subnets.join(", ")
            )
        });
    }
    if !unhealthy.is_empty() {
        notes.push(format!(
            "targets: {} of the {} registered nodes will not be healthy (externalTrafficPolicy: Local and no ready pod there); the wait expects only the others",
            unhealthy.len(),
            expected.len()
        ));
    }
    Ok(Plan {
        new_lb_inbound,
        namespace: w.namespace.clone(),
        workload: format!("{}/{}", w.kind, w.name),
        target_type: req.target_type,
        service,
        ports: port_plans,
        target_nodes: world
            .nodes
            .iter()
            .flat_map(|n| {
                let ids = n.instance_id.iter().chain(n.internal_ip.iter());
                ids.map(|id| (id.clone(), n.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect(),
        node_selector: if req.target_type == TargetType::Instance {
            w.node_selector.clone()
        } else {
            BTreeMap::new()
        },
        notes,
    })
}

fn select_ports(req: &Request, w: &Workload, what: &str) -> Result<Vec<ContainerPort>, PlanError> {
    if w.ports.is_empty() {
        return fail(format!(
            "{what} declares no container ports; name the ports in the pod template"
        ));
    }
    if req.ports.is_empty() {
        return Ok(w.ports.clone());
    }
    let mut out = Vec::new();
    for wanted in &req.ports {
        let found = w.ports.iter().find(|p| {
            p.name.as_deref() == Some(wanted.as_str())
                || p.container_port.to_string() == *wanted
                || p.host_port.map(|h| h.to_string()).as_deref() == Some(wanted.as_str())
        });
        match found {
            Some(p) => out.push(p.clone()),
            None => {
                let known: Vec<String> = w
                    .ports
                    .iter()
                    .map(|p| match &p.name {
                        Some(n) => format!("{n} ({})", p.container_port),
                        None => p.container_port.to_string(),
                    })
                    .collect();
                return fail(format!(
                    "port \"{wanted}\" is not a container port of {what} (ports: {})",
                    known.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

/// Ready nodes that match the selector and are not excluded (domain.md §4.4).
pub fn eligible_nodes<'a>(
    nodes: &'a [NodeInfo],
    selector: &BTreeMap<String, String>,
) -> Vec<&'a NodeInfo> {
    nodes
        .iter()
        .filter(|n| n.ready)
        .filter(|n| !EXCLUDING_LABELS.iter().any(|l| n.labels.contains_key(*l)))
        .filter(|n| {
            n.labels
                .get("eks.amazonaws.com/compute-type")
                .map(String::as_str)
                != Some("fargate")
        })
        .filter(|n| selector.iter().all(|(k, v)| n.labels.get(k) == Some(v)))
        .collect()
}

fn has_lbc_claim(svc: &ServiceInfo) -> bool {
    matches!(classify::owner(svc), Owner::Lbc(_)) || svc.annotation(ann::LB_TYPE).is_some()
}

/// The Service name kubectl nlb creates for a workload.
pub fn service_name(workload: &str) -> String {
    dns_label(&format!("{workload}-hostnet"))
}

fn service_step(
    req: &Request,
    world: &World,
    ports: &[ContainerPort],
    what: &str,
    notes: &mut Vec<String>,
) -> Result<ServiceStep, PlanError> {
    let w = &world.workload;
    let wanted_type = match req.target_type {
        TargetType::Instance => "NodePort",
        TargetType::Ip => "ClusterIP",
    };
    let selects_workload = |s: &ServiceInfo| {
        !s.selector.is_empty() && s.selector.iter().all(|(k, v)| w.selector.get(k) == Some(v))
    };
    let serves_ports = |s: &ServiceInfo| ports.iter().all(|p| service_port_for(s, p).is_some());
    let type_fits = |s: &ServiceInfo| match req.target_type {
        // Instance targets need a NodePort (domain.md §4.4).
        TargetType::Instance => s.type_ == "NodePort",
        TargetType::Ip => s.type_ == "ClusterIP" || s.type_ == "NodePort",
    };
    let mut candidates: Vec<&ServiceInfo> = world
        .services
        .iter()
        .filter(|s| selects_workload(s) && serves_ports(s) && type_fits(s) && !has_lbc_claim(s))
        .collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(s) = candidates.first() {
        notes.push(format!(
            "Service: reuse {} ({}), which selects the pods and serves the ports",
            s.name, s.type_
        ));
        return Ok(ServiceStep::Reuse {
            name: s.name.clone(),
        });
    }
    let name = service_name(&w.name);
    if let Some(existing) = world.services.iter().find(|s| s.name == name) {
        let provenance = format!("{}/{}", w.kind, w.name);
        if existing.annotation(PROVENANCE) != Some(provenance.as_str()) {
            return fail(format!(
                "Service {}/{name} exists but does not fit {what} (type {}, or other selector or ports) and was not made by kubectl nlb for it (no {PROVENANCE}: {provenance}); delete or rename it",
                w.namespace, existing.type_
            ));
        }
        // Ours, from an earlier run, and live bindings may use it: never
        // advise deleting it; extend it when that is all it takes.
        if !(selects_workload(existing) && type_fits(existing) && !has_lbc_claim(existing)) {
            return fail(format!(
                "Service {}/{name}, made by an earlier bind-hostnetwork run for {what}, is type {} or selects other pods, so it cannot serve {} targets; its bindings may be live, so it is left alone: bind with the --target-type of the earlier run",
                w.namespace,
                existing.type_,
                req.target_type.as_str()
            ));
        }
        let missing: Vec<&ContainerPort> = ports
            .iter()
            .filter(|p| service_port_for(existing, p).is_none())
            .collect();
        let mut added = Vec::new();
        for p in &missing {
            let port = service_port_json(p);
            let port_name = port["name"].as_str().unwrap_or_default().to_string();
            let clash = existing.ports.iter().find(|sp| {
                sp.name.as_deref() == Some(port_name.as_str())
                    || (sp.port == p.container_port
                        && sp.protocol.eq_ignore_ascii_case(&p.protocol))
            });
            if let Some(sp) = clash {
                return fail(format!(
                    "Service {}/{name} already has a port {} ({} {}) that does not reach container port {} of {what}; adding it would clash: free that port in the Service, or bind the other port",
                    w.namespace,
                    sp.name.as_deref().unwrap_or("(unnamed)"),
                    sp.protocol,
                    sp.port,
                    p.label()
                ));
            }
            added.push(port);
        }
        notes.push(format!(
            "Service: add port(s) {} to {name} ({}), made by an earlier run for {what}; its other ports, and the bindings that use them, stay",
            missing.iter().map(|p| p.label()).collect::<Vec<_>>().join(", "),
            existing.type_
        ));
        return Ok(ServiceStep::AddPorts { name, ports: added });
    }
    notes.push(format!(
        "Service: create {name} ({wanted_type}) without load-balancer annotations, so the LBC does not build a second NLB for it"
    ));
    let mut spec = json!({
        "type": wanted_type,
        "selector": w.selector,
        "ports": ports.iter().map(service_port_json).collect::<Vec<_>>(),
    });
    if req.target_type == TargetType::Instance {
        spec["externalTrafficPolicy"] = json!("Local");
    }
    let manifest = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": w.namespace,
            "annotations": { PROVENANCE: format!("{}/{}", w.kind, w.name) },
        },
        "spec": spec,
    });
    Ok(ServiceStep::Create { name, manifest })
}

/// The Service port made for a container port: same number, named after it,
/// targeting it by name when it has one.
fn service_port_json(p: &ContainerPort) -> Value {
    let mut port = json!({
        "name": dns_label(&p.label()),
        "port": p.container_port,
        "targetPort": p.container_port,
        "protocol": p.protocol,
    });
    if let Some(name) = &p.name {
        port["targetPort"] = json!(name);
    }
    port
}

/// The port of `svc` whose targetPort reaches the container port (by number or
/// name; an unset targetPort means the same number as the port).
fn service_port_for(svc: &ServiceInfo, p: &ContainerPort) -> Option<i32> {
    svc.ports
        .iter()
        .find(|sp| match sp.target_port.as_deref() {
            Some(target) => {
                target == p.container_port.to_string() || Some(target) == p.name.as_deref()
            }
            None => sp.port == p.container_port,
        })
        .map(|sp| sp.port)
}

/// The target group name kubectl nlb creates: stable, so a re-run finds it.
pub fn target_group_name(namespace: &str, workload: &str, port: &ContainerPort) -> String {
    let raw = format!(
        "hn-{}-{}-{}",
        truncate(namespace, 8),
        truncate(workload, 12),
        port.container_port
    );
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    truncate(cleaned.trim_matches('-'), 32).to_string()
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn target_group_step(
    req: &Request,
    world: &World,
    p: &ContainerPort,
    what: &str,
) -> Result<TargetGroupStep, PlanError> {
    let protocol = if p.protocol.eq_ignore_ascii_case("UDP") {
        "UDP"
    } else {
        "TCP"
    };
    match req.target {
        TargetChoice::Existing => {
            let Some(tg) = &world.target_group else {
                return fail("the target group was not found in this account and region; check --target-group-arn/--target-group-name, --region and --profile".into());
            };
            let tg_type = tg.target_type.as_deref().unwrap_or("");
            if tg_type != req.target_type.as_str() {
                return fail(format!(
                    "target group {} has target type {tg_type}, but the binding asks for {}; pass --target-type {tg_type} or use another target group",
                    tg.name,
                    req.target_type.as_str()
                ));
            }
            let tg_protocol = tg.protocol.as_deref().unwrap_or("");
            let compatible = tg_protocol == protocol
                || (protocol == "TCP" && matches!(tg_protocol, "TLS" | "TCP_UDP"))
                || (protocol == "UDP" && tg_protocol == "TCP_UDP");
            if !compatible {
                return fail(format!(
                    "target group {} uses {tg_protocol}, which cannot carry the {protocol} port {} of {what}",
                    tg.name,
                    p.label()
                ));
            }
            if let (Some(tg_vpc), Some(vpc)) = (&tg.vpc_id, &world.vpc_id)
                && tg_vpc != vpc
            {
                return fail(format!(
                    "target group {} is in {tg_vpc}, but the nodes are in {vpc}; create the target group in the nodes' VPC",
                    tg.name
                ));
            }
            let others: Vec<&ExistingBinding> = world
                .bindings
                .iter()
                .filter(|b| b.target_group_arn == tg.arn)
                .filter(|b| {
                    !(b.namespace == world.workload.namespace
                        && b.name == dns_label(&format!("{}-{}", world.workload.name, p.label())))
                })
                .collect();
            if let Some(b) = others.iter().find(|b| !b.multi_cluster) {
                // Only one binding per target group unless all are multi-cluster (domain.md §4.2).
                return fail(format!(
                    "target group {} is already bound by TargetGroupBinding {}/{}; a target group takes one binding unless all set multiClusterTargetGroup",
                    tg.name, b.namespace, b.name
                ));
            }
            Ok(TargetGroupStep::Existing {
                arn: tg.arn.clone(),
                name: tg.name.clone(),
            })
        }
        TargetChoice::Create => {
            let Some(vpc_id) = world.vpc_id.clone() else {
                return fail(format!(
                    "could not find the VPC of the nodes of {what} (no spec.providerID with an EC2 instance id)"
                ));
            };
            let Some(cluster) = req.cluster.clone() else {
                return fail("cannot tell the cluster name for the elbv2.k8s.aws/cluster tag: pass --cluster-name (the LBC's --cluster-name)".into());
            };
            let w = &world.workload;
            let name = target_group_name(&w.namespace, &w.name, p);
            // Still a Create step, so a resumed run also adds a listener that an
            // interrupted one did not; applying it reuses the group.
            let existing_arn = world
                .created_earlier
                .iter()
                .find(|tg| tg.name == name)
                .map(|tg| tg.arn.clone());
            let listener_on = world
                .load_balancer
                .as_ref()
                .map(|lb| lb.arn.clone())
                .or_else(|| world.new_load_balancer.as_ref().map(|lb| lb.name.clone()));
            if listener_on.is_some() {
                check_listener_port(world, p, existing_arn.as_deref())?;
            }
            Ok(TargetGroupStep::Create {
                existing_arn,
                name,
                protocol: protocol.to_string(),
                port: p.container_port,
                vpc_id,
                // The LBC's IAM policy manages only resources with the cluster tag (domain.md §4.3).
                tags: vec![
                    ("elbv2.k8s.aws/cluster".into(), cluster),
                    (
                        PROVENANCE.into(),
                        format!("{}/{}/{}:{}", w.namespace, w.kind, w.name, p.label()),
                    ),
                ],
                listener_on,
                preserve_client_ip: req.preserve_client_ip.unwrap_or_else(|| {
                    traffic::default_preserve(req.target_type == TargetType::Instance, protocol)
                }),
            })
        }
    }
}

/// A listener port forwards to one target group: when the load balancer
/// already listens on the port for another group, creating the new group
/// would only fail later, at CreateListener, and leave it behind. Found
/// here, before anything is made. A listener that forwards to the group an
/// earlier run made is that run's, and is reused.
fn check_listener_port(
    world: &World,
    p: &ContainerPort,
    ours: Option<&str>,
) -> Result<(), PlanError> {
    let Some(groups) = world.listeners.get(&p.container_port) else {
        return Ok(());
    };
    if groups.iter().any(|g| Some(g.as_str()) == ours) {
        return Ok(());
    }
    let lb = world
        .load_balancer
        .as_ref()
        .map(|lb| lb.name.clone())
        .or_else(|| world.new_load_balancer.as_ref().map(|lb| lb.name.clone()))
        .unwrap_or_default();
    let to = groups
        .iter()
        .map(|g| tg_name_of(g))
        .collect::<Vec<_>>()
        .join(", ");
    fail(format!(
        "load balancer {lb} already listens on port {} (forwarding to target group {to}), and the binding's listener for port {} of {}/{} needs that port; the listener port is the container port, so remove or move that listener, or bind behind another NLB (--load-balancer NAME, or --create-load-balancer for one of the binding's own)",
        p.container_port,
        p.label(),
        world.workload.kind,
        world.workload.name
    ))
}

/// `arn:…:targetgroup/NAME/ID` → `NAME`; the ARN itself when not of that form.
fn tg_name_of(arn: &str) -> &str {
    arn.split_once(":targetgroup/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or(arn)
}

/// What the traffic decision needs from the request and the world.
fn traffic_inputs<'a>(req: &'a Request, world: &'a World, preserve: bool) -> traffic::Inputs<'a> {
    let front = match (&world.new_load_balancer, &world.load_balancer) {
        (Some(lb), _) if !lb.exists || lb.security_groups.is_empty() => {
            traffic::Front::New { scheme: &lb.scheme }
        }
        (Some(lb), _) => traffic::Front::Existing {
            groups: &lb.security_groups,
            subnet_cidrs: &lb.subnet_cidrs,
            scheme: Some(&lb.scheme),
        },
        (None, Some(lb)) => traffic::Front::Existing {
            groups: &lb.security_groups,
            subnet_cidrs: &world.load_balancer_subnet_cidrs,
            scheme: lb.scheme.as_deref(),
        },
        (None, None) => traffic::Front::Unknown,
    };
    traffic::Inputs {
        front,
        preserve,
        vpc_cidrs: &world.vpc_cidrs,
        user_cidrs: &req.source_cidrs,
        user_groups: &req.source_sgs,
    }
}

/// Refuses a load balancer or target group that a controller owns.
fn refuse_owned(world: &World) -> Result<(), PlanError> {
    let owner = |arn: &str| world.tags.get(arn).and_then(ownership::owner);
    if let Some(tg) = &world.target_group
        && let Some(who) = owner(&tg.arn)
    {
        return fail(format!(
            "target group {} belongs to {who}, which registers its own targets and removes others, so the binding would be fought over; bind a target group of your own (--create-target-group)",
            tg.name
        ));
    }
    if let Some(lb) = &world.load_balancer
        && let Some(who) = owner(&lb.arn)
    {
        return fail(format!(
            "load balancer {} is managed by {who}, which deletes listeners it did not build on its next reconcile, so the binding's listener would disappear; pass --create-load-balancer for an NLB of the binding's own",
            lb.name
        ));
    }
    Ok(())
}

/// The TargetGroupBinding manifest for one port. `node_port` is the Service's
/// NodePort for this port, needed by instance targets' networking rules.
pub fn binding_manifest(
    plan: &Plan,
    port: &PortPlan,
    arn: &str,
    node_port: Option<i32>,
    service: &str,
    new_lb_group: Option<&str>,
) -> Value {
    let rule_port = match plan.target_type {
        // For instance targets the rule port must be the numeric NodePort (domain.md §4.1, §4.5).
        TargetType::Instance => node_port.map(|p| json!(p)),
        TargetType::Ip => Some(json!(port.port.container_port)),
    };
    let protocol = if port.port.protocol.eq_ignore_ascii_case("UDP") {
        "UDP"
    } else {
        "TCP"
    };
    let ingress: Vec<Value> = port
        .rules
        .iter()
        .map(|rule| {
            // Health checks are TCP (or HTTP) on the traffic port unless
            // the target group names another one.
            let mut ports = json!({"protocol": if rule.health_check { "TCP" } else { protocol }});
            let p = match (rule.health_check, port.health_check_port) {
                (true, Some(hc)) => Some(json!(hc)),
                _ => rule_port.clone(),
            };
            if let Some(p) = p {
                ports["port"] = p;
            }
            let from: Vec<Value> = rule
                .from
                .iter()
                .map(|f| match f {
                    traffic::From::Cidr(c) => json!({"ipBlock": {"cidr": c}}),
                    traffic::From::Group(g) => json!({"securityGroup": {"groupID": g}}),
                    traffic::From::NewLbGroup => json!({"securityGroup": {"groupID": new_lb_group.unwrap_or("<security group of the new NLB, created on apply>")}}),
                })
                .collect();
            json!({"from": from, "ports": [ports]})
        })
        .collect();
    let mut spec = json!({
        "targetGroupARN": arn,
        "targetType": plan.target_type.as_str(),
        "serviceRef": {"name": service, "port": port.service_port},
        "networking": {"ingress": ingress},
    });
    if plan.target_type == TargetType::Instance && !plan.node_selector.is_empty() {
        spec["nodeSelector"] = json!({"matchLabels": plan.node_selector});
    }
    json!({
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "TargetGroupBinding",
        "metadata": {
            "name": port.binding_name,
            "namespace": plan.namespace,
            "annotations": {PROVENANCE: plan.workload},
        },
        "spec": spec,
    })
}

fn fmt_labels(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "{}".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Lower case, alphanumerics and '-', at most 63 characters.
fn dns_label(s: &str) -> String {
    let cleaned: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    truncate(cleaned.trim_matches('-'), 63)
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServicePort;

    fn world() -> World {
        World {
            workload: Workload {
                kind: "daemonset".into(),
                namespace: "edge".into(),
                name: "edge-proxy".into(),
                host_network: true,
                selector: [("app".to_string(), "edge-proxy".to_string())].into(),
                ports: vec![
                    ContainerPort {
                        name: Some("http".into()),
                        container_port: 80,
                        host_port: Some(80),
                        protocol: "TCP".into(),
                    },
                    ContainerPort {
                        name: Some("https".into()),
                        container_port: 443,
                        host_port: Some(443),
                        protocol: "TCP".into(),
                    },
                ],
                ..Default::default()
            },
            nodes: (0..3)
                .map(|i| NodeInfo {
                    name: format!("n{i}"),
                    labels: [("zone".to_string(), format!("z{i}"))].into(),
                    instance_id: Some(format!("i-{i}")),
                    internal_ip: Some(format!("10.0.{i}.4")),
                    ready: true,
                    ..Default::default()
                })
                .collect(),
            target_group: Some(TargetGroup {
                arn: "arn:tg/web".into(),
                name: "web".into(),
                protocol: Some("TCP".into()),
                port: Some(80),
                target_type: Some("instance".into()),
                vpc_id: Some("vpc-1".into()),
                load_balancer_arns: vec!["arn:lb/1".into()],
                ..Default::default()
            }),
            load_balancer: Some(LoadBalancer {
                arn: "arn:lb/1".into(),
                name: "web".into(),
                scheme: Some("internal".into()),
                ..Default::default()
            }),
            load_balancer_subnet_cidrs: vec!["10.0.0.0/20".into(), "10.0.16.0/20".into()],
            vpc_id: Some("vpc-1".into()),
            vpc_cidrs: vec!["10.0.0.0/16".into()],
            pods: (0..3)
                .map(|i| PodInfo {
                    node_name: Some(format!("n{i}")),
                    ready: true,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn request() -> Request {
        Request {
            ports: vec!["http".into()],
            target: TargetChoice::Existing,
            target_type: TargetType::Instance,
            source_cidrs: vec![],
            source_sgs: vec![],
            preserve_client_ip: None,
            cluster: Some("sandbox".into()),
        }
    }

    #[test]
    fn an_existing_target_group_gets_a_node_port_service_and_a_binding() {
        let plan = plan(&request(), &world()).expect("plan");
        let ServiceStep::Create { name, manifest } = &plan.service else {
            panic!("expected a new Service");
        };
        assert_eq!(name, "edge-proxy-hostnet");
        assert_eq!(manifest["spec"]["type"], "NodePort");
        assert_eq!(manifest["spec"]["externalTrafficPolicy"], "Local");
        assert_eq!(manifest["spec"]["ports"][0]["targetPort"], "http");
        assert!(
            manifest["metadata"]["annotations"]
                .get(ann::LB_TYPE)
                .is_none()
        );
        let p = &plan.ports[0];
        assert_eq!(p.service_port, 80);
        assert_eq!(p.expected_targets, vec!["i-0", "i-1", "i-2"]);
        let tgb = binding_manifest(&plan, p, "arn:tg/web", Some(31080), name, None);
        assert_eq!(tgb["spec"]["serviceRef"]["port"], 80);
        assert_eq!(tgb["spec"]["targetType"], "instance");
        let ingress = &tgb["spec"]["networking"]["ingress"];
        // Instance targets keep the client address: the clients (an internal
        // NLB's VPC) for traffic, the NLB's subnets for health checks.
        assert_eq!(ingress[0]["ports"][0]["port"], 31080);
        assert_eq!(ingress[0]["from"][0]["ipBlock"]["cidr"], "10.0.0.0/16");
        assert_eq!(ingress[1]["from"][1]["ipBlock"]["cidr"], "10.0.16.0/20");
        assert_eq!(ingress[1]["ports"][0]["port"], 31080);
        assert!(tgb["spec"].get("nodeSelector").is_none());
    }

    #[test]
    fn load_balancer_security_groups_win_over_subnets() {
        let mut w = world();
        if let Some(lb) = w.load_balancer.as_mut() {
            lb.security_groups = vec!["sg-1".into()];
        }
        let plan = plan(&request(), &w).expect("plan");
        assert_eq!(
            plan.ports[0].rules[0].from,
            vec![traffic::From::Group("sg-1".into())]
        );
    }

    #[test]
    fn an_internet_facing_nlb_without_groups_needs_the_clients_named() {
        let mut w = world();
        if let Some(lb) = w.load_balancer.as_mut() {
            lb.scheme = Some("internet-facing".into());
        }
        let err = plan(&request(), &w).unwrap_err();
        assert!(err.0.contains("--source-cidr 0.0.0.0/0"), "{}", err.0);
    }

    #[test]
    fn load_balancers_and_target_groups_a_controller_owns_are_refused() {
        let mut w = world();
        w.tags.insert(
            "arn:lb/1".into(),
            [(
                "service.k8s.aws/stack".to_string(),
                "web/frontend".to_string(),
            )]
            .into(),
        );
        let err = plan(&request(), &w).unwrap_err();
        assert!(
            err.0
                .contains("AWS Load Balancer Controller for Service web/frontend"),
            "{}",
            err.0
        );
        let mut w = world();
        w.tags.insert(
            "arn:tg/web".into(),
            [(
                "kubernetes.io/service-name".to_string(),
                "shop/checkout".to_string(),
            )]
            .into(),
        );
        let err = plan(&request(), &w).unwrap_err();
        assert!(
            err.0
                .contains("in-tree cloud provider for Service shop/checkout"),
            "{}",
            err.0
        );
    }

    #[test]
    fn with_local_nodes_without_a_pod_are_expected_unhealthy() {
        let mut w = world();
        w.pods.truncate(1);
        let plan = plan(&request(), &w).expect("plan");
        let p = &plan.ports[0];
        assert_eq!(p.expected_targets, vec!["i-0", "i-1", "i-2"]);
        assert_eq!(
            p.expected_unhealthy.keys().collect::<Vec<_>>(),
            ["i-1", "i-2"]
        );
        assert!(p.expected_unhealthy["i-1"].contains("no ready pod"));
    }

    #[test]
    fn user_sources_win_and_no_sources_at_all_is_an_error() {
        let mut req = request();
        req.source_cidrs = vec!["192.0.2.0/24".into()];
        let plan_ = plan(&req, &world()).expect("plan");
        assert_eq!(
            plan_.ports[0].rules[0].from,
            vec![traffic::From::Cidr("192.0.2.0/24".into())]
        );
        let mut w = world();
        w.load_balancer = None;
        assert!(plan(&request(), &w).is_err());
    }

    #[test]
    fn ip_targets_use_pod_ips_and_a_cluster_ip_service_without_node_selector() {
        let mut w = world();
        w.workload.node_selector = [("zone".to_string(), "z1".to_string())].into();
        if let Some(tg) = w.target_group.as_mut() {
            tg.target_type = Some("ip".into());
        }
        w.pods = vec![PodInfo {
            ip: Some("10.0.1.4".into()),
            ready: true,
            ..Default::default()
        }];
        let mut req = request();
        req.target_type = TargetType::Ip;
        let plan = plan(&req, &w).expect("plan");
        let ServiceStep::Create { manifest, .. } = &plan.service else {
            panic!("new Service");
        };
        assert_eq!(manifest["spec"]["type"], "ClusterIP");
        assert_eq!(plan.ports[0].expected_targets, vec!["10.0.1.4"]);
        let tgb = binding_manifest(&plan, &plan.ports[0], "arn", None, "s", None);
        assert!(tgb["spec"].get("nodeSelector").is_none());
        assert_eq!(
            tgb["spec"]["networking"]["ingress"][0]["ports"][0]["port"],
            80
        );
    }

    #[test]
    fn a_node_selector_narrows_instance_targets() {
        let mut w = world();
        w.workload.node_selector = [("zone".to_string(), "z1".to_string())].into();
        let plan = plan(&request(), &w).expect("plan");
        assert_eq!(plan.ports[0].expected_targets, vec!["i-1"]);
        let tgb = binding_manifest(&plan, &plan.ports[0], "arn", Some(1), "s", None);
        assert_eq!(tgb["spec"]["nodeSelector"]["matchLabels"]["zone"], "z1");
    }

    #[test]
    fn a_fitting_service_is_reused_and_an_lbc_service_is_not() {
        let mut w = world();
        let fitting = ServiceInfo {
            namespace: "edge".into(),
            name: "edge".into(),
            type_: "NodePort".into(),
            selector: [("app".to_string(), "edge-proxy".to_string())].into(),
            ports: vec![ServicePort {
                name: Some("web".into()),
                port: 8080,
                protocol: "TCP".into(),
                target_port: Some("80".into()),
                node_port: Some(30000),
            }],
            ..Default::default()
        };
        let mut lbc = fitting.clone();
        lbc.name = "aaa-lbc".into();
        lbc.load_balancer_class = Some(ann::LBC_CLASS.into());
        w.services = vec![lbc, fitting];
        let plan = plan(&request(), &w).expect("plan");
        assert_eq!(
            plan.service,
            ServiceStep::Reuse {
                name: "edge".into()
            }
        );
        assert_eq!(plan.ports[0].service_port, 8080);
    }

    #[test]
    fn bad_inputs_name_the_problem() {
        type Mutation = Box<dyn Fn(&mut Request, &mut World)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|_, w| w.workload.host_network = false),
                "does not set hostNetwork: true",
            ),
            (
                Box::new(|r, _| r.ports = vec!["9999".into()]),
                "port \"9999\" is not a container port",
            ),
            (Box::new(|_, w| w.nodes.clear()), "no ready node matches"),
            (
                Box::new(|_, w| w.target_group = None),
                "target group was not found",
            ),
            (
                Box::new(|r, _| r.target_type = TargetType::Ip),
                "has target type instance",
            ),
            (
                Box::new(|_, w| {
                    if let Some(tg) = w.target_group.as_mut() {
                        tg.vpc_id = Some("vpc-other".into());
                    }
                }),
                "is in vpc-other",
            ),
            (
                Box::new(|_, w| {
                    if let Some(tg) = w.target_group.as_mut() {
                        tg.protocol = Some("UDP".into());
                    }
                }),
                "uses UDP",
            ),
            (
                Box::new(|_, w| {
                    w.bindings.push(ExistingBinding {
                        namespace: "other".into(),
                        name: "tgb".into(),
                        target_group_arn: "arn:tg/web".into(),
                        multi_cluster: false,
                    })
                }),
                "already bound by TargetGroupBinding other/tgb",
            ),
            (
                Box::new(|r, _| {
                    r.target = TargetChoice::Create;
                    r.cluster = None;
                }),
                "--cluster-name",
            ),
        ];
        for (mutate, needle) in cases {
            let (mut r, mut w) = (request(), world());
            mutate(&mut r, &mut w);
            let err = plan(&r, &w).expect_err(needle);
            assert!(err.0.contains(needle), "{needle:?} in {}", err.0);
        }
    }

    /// The Service an earlier `--port http` run made.
    fn own_service(w: &World) -> ServiceInfo {
        ServiceInfo {
            namespace: "edge".into(),
            name: "edge-proxy-hostnet".into(),
            type_: "NodePort".into(),
            annotations: [(PROVENANCE.to_string(), "daemonset/edge-proxy".to_string())].into(),
            selector: w.workload.selector.clone(),
            ports: vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                protocol: "TCP".into(),
                target_port: Some("http".into()),
                node_port: Some(31080),
            }],
            external_traffic_policy: Some("Local".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_later_port_is_added_to_the_service_an_earlier_run_made() {
        // qa D-M2b: "exists but does not fit … delete or rename it".
        let mut w = world();
        w.services = vec![own_service(&w)];
        let mut req = request();
        req.ports = vec!["https".into()];
        let plan = plan(&req, &w).expect("plan");
        let ServiceStep::AddPorts { name, ports } = &plan.service else {
            panic!("expected added ports, got {:?}", plan.service);
        };
        assert_eq!(name, "edge-proxy-hostnet");
        assert_eq!(
            ports,
            &vec![json!({"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"})]
        );
        assert_eq!(plan.ports[0].service_port, 443);
        assert_eq!(plan.ports[0].binding_name, "edge-proxy-https");
        // Both ports at once: http is served already, only https is added.
        req.ports = vec!["http".into(), "https".into()];
        let both = super::plan(&req, &w).expect("plan");
        let ServiceStep::AddPorts { ports, .. } = &both.service else {
            panic!("expected added ports");
        };
        assert_eq!(ports.len(), 1);
        // The port it already serves: plain reuse, as before.
        req.ports = vec!["http".into()];
        let same = super::plan(&req, &w).expect("plan");
        assert_eq!(
            same.service,
            ServiceStep::Reuse {
                name: "edge-proxy-hostnet".into()
            }
        );
    }

    #[test]
    fn a_namesake_service_that_is_not_ours_or_cannot_be_extended_is_refused() {
        let mut w = world();
        let mut foreign = own_service(&w);
        foreign.annotations.clear();
        w.services = vec![foreign];
        let mut req = request();
        req.ports = vec!["https".into()];
        let err = plan(&req, &w).unwrap_err();
        assert!(err.0.contains("delete or rename it"), "{}", err.0);
        // Ours, but made for ip targets: left alone, never "delete it".
        let mut w = world();
        let mut ip = own_service(&w);
        ip.type_ = "ClusterIP".into();
        w.services = vec![ip];
        let err = plan(&req, &w).unwrap_err();
        assert!(
            err.0.contains("--target-type of the earlier run"),
            "{}",
            err.0
        );
        assert!(!err.0.contains("delete"), "{}", err.0);
        // Ours, but the new port's number is taken by another port.
        let mut w = world();
        let mut taken = own_service(&w);
        taken.ports[0].port = 443;
        w.services = vec![taken];
        let err = plan(&req, &w).unwrap_err();
        assert!(err.0.contains("would clash"), "{}", err.0);
    }

    #[test]
    fn a_listener_port_taken_by_another_target_group_is_refused_before_anything() {
        // qa: CreateListener failed after the target group was created.
        let mut req = request();
        req.target = TargetChoice::Create;
        let mut w = world();
        w.listeners.insert(
            80,
            vec!["arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/someone/abc".into()],
        );
        let err = plan(&req, &w).unwrap_err();
        assert!(
            err.0
                .contains("load balancer web already listens on port 80")
                && err.0.contains("target group someone")
                && err.0.contains("--create-load-balancer"),
            "{}",
            err.0
        );
        // The listener an earlier run made for its own group is reused.
        let name = target_group_name("edge", "edge-proxy", &w.workload.ports[0]);
        w.created_earlier.push(TargetGroup {
            arn: "arn:tg/ours".into(),
            name,
            ..Default::default()
        });
        w.listeners.insert(80, vec!["arn:tg/ours".into()]);
        assert!(plan(&req, &w).is_ok());
        // Another port is free.
        req.ports = vec!["https".into()];
        let mut w = world();
        w.listeners.insert(80, vec!["arn:tg/other".into()]);
        assert!(plan(&req, &w).is_ok());
    }

    #[test]
    fn a_created_target_group_is_tagged_for_the_controller() {
        let mut req = request();
        req.target = TargetChoice::Create;
        let plan = plan(&req, &world()).expect("plan");
        let TargetGroupStep::Create {
            name,
            tags,
            vpc_id,
            listener_on,
            ..
        } = &plan.ports[0].target_group
        else {
            panic!("create");
        };
        assert_eq!(name, "hn-edge-edge-proxy-80");
        assert!(name.len() <= 32);
        assert_eq!(vpc_id, "vpc-1");
        assert!(tags.contains(&("elbv2.k8s.aws/cluster".to_string(), "sandbox".to_string())));
        assert_eq!(listener_on.as_deref(), Some("arn:lb/1"));
    }

    #[test]
    fn a_new_load_balancer_gets_listeners_and_a_security_group_of_its_own() {
        let mut req = request();
        req.target = TargetChoice::Create;
        let mut w = world();
        w.load_balancer = None;
        w.new_load_balancer = Some(NewLoadBalancer {
            name: "hn-edge-edge-proxy".into(),
            scheme: "internal".into(),
            subnets: vec!["subnet-a".into()],
            subnet_cidrs: vec!["10.0.0.0/20".into()],
            exists: false,
            arn: None,
            security_groups: vec![],
        });
        let plan = plan(&req, &w).expect("plan");
        let TargetGroupStep::Create {
            listener_on,
            preserve_client_ip,
            ..
        } = &plan.ports[0].target_group
        else {
            panic!("create");
        };
        assert_eq!(listener_on.as_deref(), Some("hn-edge-edge-proxy"));
        assert!(*preserve_client_ip, "AWS's default for instance targets");
        // The nodes admit the NLB's own group; the group admits the clients
        // (an internal NLB: the VPC).
        assert_eq!(plan.ports[0].rules[0].from, vec![traffic::From::NewLbGroup]);
        assert_eq!(
            plan.new_lb_inbound,
            vec![traffic::From::Cidr("10.0.0.0/16".into())]
        );
        let tgb = binding_manifest(&plan, &plan.ports[0], "arn", Some(1), "s", Some("sg-new"));
        assert_eq!(
            tgb["spec"]["networking"]["ingress"][0]["from"][0]["securityGroup"]["groupID"],
            "sg-new"
        );
        assert_eq!(
            load_balancer_name("edge", "edge-proxy"),
            "hn-edge-edge-proxy"
        );
        assert!(
            load_balancer_name("a-very-long-namespace", "an-even-longer-workload-name").len() <= 32
        );
    }

    #[test]
    fn a_re_run_reuses_the_target_group_it_created() {
        let mut req = request();
        req.target = TargetChoice::Create;
        let mut w = world();
        w.created_earlier = vec![TargetGroup {
            arn: "arn:tg/made".into(),
            name: "hn-edge-edge-proxy-80".into(),
            ..Default::default()
        }];
        let plan = plan(&req, &w).expect("plan");
        assert!(matches!(
            plan.ports[0].target_group,
            TargetGroupStep::Create { existing_arn: Some(ref arn), .. } if arn == "arn:tg/made"
        ));
    }
}
