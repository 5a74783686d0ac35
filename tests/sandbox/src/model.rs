//! Kubernetes-side helpers shared by the stand-ins: annotations, endpoint
//! resolution (ready pods, eligible nodes).

use crate::json::label_selector_object_matches;
use k8s_openapi::api::core::v1::{Node, Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub const ANN_PREFIX: &str = "service.beta.kubernetes.io/";

/// `service.beta.kubernetes.io/<key>` annotation value.
pub fn ann<'a>(svc: &'a Service, key: &str) -> Option<&'a str> {
    svc.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(&format!("{ANN_PREFIX}{key}")))
        .map(String::as_str)
}

/// `namespace/name`.
pub fn key(svc: &Service) -> String {
    let (ns, name) = ns_name(svc);
    format!("{ns}/{name}")
}

pub fn ns_name(svc: &Service) -> (String, String) {
    (
        svc.metadata.namespace.clone().unwrap_or_default(),
        svc.metadata.name.clone().unwrap_or_default(),
    )
}

pub fn ports(svc: &Service) -> Vec<ServicePort> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default()
}

pub fn is_load_balancer(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

pub fn lb_class(svc: &Service) -> Option<&str> {
    svc.spec
        .as_ref()
        .and_then(|s| s.load_balancer_class.as_deref())
}

pub fn external_traffic_local(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.external_traffic_policy.as_deref())
        == Some("Local")
}

pub fn health_check_node_port(svc: &Service) -> Option<i32> {
    svc.spec.as_ref().and_then(|s| s.health_check_node_port)
}

/// Instance id from `spec.providerID` (`aws:///us-west-2a/i-0123`).
pub fn instance_id(node: &Node) -> Option<String> {
    let pid = node.spec.as_ref()?.provider_id.as_deref()?;
    let id = pid.rsplit('/').next()?;
    id.starts_with("i-").then(|| id.to_string())
}

fn node_labels(node: &Node) -> BTreeMap<String, String> {
    node.metadata.labels.clone().unwrap_or_default()
}

fn node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Nodes the LBC would register as instance targets (domain.md §4.4):
/// default exclusions, the optional TGB nodeSelector, Ready only.
pub fn eligible_instances(nodes: &[Node], selector: Option<&serde_json::Value>) -> Vec<String> {
    let mut out: Vec<String> = nodes
        .iter()
        .filter(|n| {
            let l = node_labels(n);
            !l.contains_key("node-role.kubernetes.io/master")
                && !l.contains_key("node.kubernetes.io/exclude-from-external-load-balancers")
                && !l.contains_key("alpha.service-controller.kubernetes.io/exclude-balancer")
                && l.get("eks.amazonaws.com/compute-type").map(String::as_str) != Some("fargate")
                && selector.is_none_or(|s| label_selector_object_matches(&l, s))
        })
        .filter(|n| {
            !n.spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .is_some_and(|ts| {
                    ts.iter().any(|t| {
                        t.key == "ToBeDeletedByClusterAutoscaler"
                            || (t.key == "karpenter.sh/disrupted" && t.effect == "NoSchedule")
                    })
                })
        })
        .filter(|n| node_ready(n))
        .filter_map(instance_id)
        .collect();
    out.sort();
    out
}

/// All nodes' instance ids (what the in-tree provider registers).
pub fn all_instances(nodes: &[Node]) -> Vec<String> {
    let mut v: Vec<String> = nodes.iter().filter_map(instance_id).collect();
    v.sort();
    v
}

fn pod_ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The ready pods a Service's selector picks (none without a selector).
pub fn ready_pods_selected<'a>(svc: &Service, pods: &'a PodsByNamespace) -> Vec<&'a Pod> {
    let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
    let Some(selector) = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
    else {
        return Vec::new();
    };
    pods.get(ns)
        .into_iter()
        .flatten()
        .filter(|p| {
            let l = p.metadata.labels.as_ref();
            selector
                .iter()
                .all(|(k, v)| l.and_then(|l| l.get(k)) == Some(v))
        })
        .filter(|p| pod_ready(p))
        .collect()
}

/// Ready pods selected by the Service, with their IP and the resolved target port.
/// `pods` is indexed by namespace (see [`pods_by_namespace`]).
pub fn ready_pod_targets(
    svc: &Service,
    port: &ServicePort,
    pods: &PodsByNamespace,
) -> Vec<(String, i32)> {
    let mut out: Vec<(String, i32)> = ready_pods_selected(svc, pods)
        .into_iter()
        .filter_map(|p| {
            let ip = p.status.as_ref()?.pod_ip.clone()?;
            let tp = target_port(port, p)?;
            Some((ip, tp))
        })
        .collect();
    out.sort();
    out
}

/// Pods grouped by namespace.
pub type PodsByNamespace = std::collections::HashMap<String, Vec<Pod>>;

/// Where the LBC finds a Service's endpoints when it cannot select pods
/// itself (pkg/backend/endpoint_resolver.go): EndpointSlices from v2.14.0
/// (`--enable-endpoint-slices`), the Endpoints object before.
pub enum EndpointSource<'a> {
    Slices(&'a [k8s_openapi::api::discovery::v1::EndpointSlice]),
    Endpoints(Option<&'a k8s_openapi::api::core::v1::Endpoints>),
}

/// The ip targets of a Service port from its endpoint objects: only
/// endpoints that reference a Pod the controller knows are registered
/// (endpoint_resolver.go:147-167), ready or with an unknown condition
/// (:170-174); the port is the endpoint port named like the Service port
/// (:141-144).
pub fn endpoint_targets(
    svc: &Service,
    port: &ServicePort,
    source: EndpointSource,
    pods: &PodsByNamespace,
) -> Vec<(String, i32)> {
    let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
    let known = |kind: Option<&str>, name: Option<&str>| {
        kind == Some("Pod")
            && pods
                .get(ns)
                .is_some_and(|ps| ps.iter().any(|p| p.metadata.name.as_deref() == name))
    };
    let named = |n: Option<&str>| port.name.is_none() || n == port.name.as_deref();
    let mut out = Vec::new();
    match source {
        EndpointSource::Slices(slices) => {
            for slice in slices {
                let Some(p) = slice
                    .ports
                    .iter()
                    .flatten()
                    .find(|p| named(p.name.as_deref()))
                else {
                    continue;
                };
                for e in &slice.endpoints {
                    let r = e.target_ref.as_ref();
                    let ready = e.conditions.as_ref().and_then(|c| c.ready) != Some(false);
                    if ready
                        && known(
                            r.and_then(|r| r.kind.as_deref()),
                            r.and_then(|r| r.name.as_deref()),
                        )
                        && let (Some(ip), Some(n)) = (e.addresses.first(), p.port)
                    {
                        out.push((ip.clone(), n));
                    }
                }
            }
        }
        EndpointSource::Endpoints(eps) => {
            for subset in eps.iter().flat_map(|e| e.subsets.iter().flatten()) {
                let Some(p) = subset
                    .ports
                    .iter()
                    .flatten()
                    .find(|p| named(p.name.as_deref()))
                else {
                    continue;
                };
                for a in subset.addresses.iter().flatten() {
                    let r = a.target_ref.as_ref();
                    if known(
                        r.and_then(|r| r.kind.as_deref()),
                        r.and_then(|r| r.name.as_deref()),
                    ) {
                        out.push((a.ip.clone(), p.port));
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

pub fn pods_by_namespace(pods: Vec<Pod>) -> PodsByNamespace {
    let mut m = PodsByNamespace::new();
    for p in pods {
        m.entry(p.metadata.namespace.clone().unwrap_or_default())
            .or_default()
            .push(p);
    }
    m
}

/// The pod port a Service port targets (numeric, or a named container port).
pub fn target_port(port: &ServicePort, pod: &Pod) -> Option<i32> {
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.clone().unwrap_or_default())
            .find(|cp| cp.name.as_deref() == Some(name.as_str()))
            .map(|cp| cp.container_port),
    }
}

/// Numeric target port if the Service port names a number (else the port).
pub fn numeric_target_port(port: &ServicePort) -> i32 {
    match &port.target_port {
        Some(IntOrString::Int(n)) => *n,
        _ => port.port,
    }
}

/// Find the Service port a TGB `serviceRef.port` (number or name) refers to.
pub fn find_port(svc: &Service, r: &serde_json::Value) -> Option<ServicePort> {
    let ps = ports(svc);
    match r {
        serde_json::Value::Number(n) => {
            let n = n.as_i64()?;
            ps.into_iter().find(|p| i64::from(p.port) == n)
        }
        serde_json::Value::String(s) => match s.parse::<i32>() {
            Ok(n) => ps.into_iter().find(|p| p.port == n),
            Err(_) => ps
                .into_iter()
                .find(|p| p.name.as_deref() == Some(s.as_str())),
        },
        _ => None,
    }
}
