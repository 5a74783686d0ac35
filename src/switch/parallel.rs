//! The parallel Service: a copy of what the user owns in the old one, with
//! the target group attributes the switch is for written explicitly.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use kube::api::ObjectMeta;
use std::collections::BTreeMap;

use crate::annotations as ann;

/// Annotations never copied: kubectl's bookkeeping, and the name annotation,
/// which would make the controller look for the old NLB's name (domain.md
/// §2.4: a name set on a second Service would collide with the first).
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "service.beta.kubernetes.io/aws-load-balancer-name",
];

/// Addresses an NLB holds while it lives: a second NLB cannot take them
/// (`buildLoadBalancerSubnetMappings` in the LBC puts them in the subnet
/// mappings of CreateLoadBalancer), so they are not copied.
pub const ADDRESS_PINS: &[&str] = &[
    ann::EIP_ALLOCATIONS,
    ann::PRIVATE_IPV4_ADDRESSES,
    "service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses",
    "service.beta.kubernetes.io/aws-load-balancer-source-nat-ipv6-prefixes",
];

/// Argo CD's annotation tracking names the object it was applied as; on a
/// copy it makes Argo CD treat the parallel Service as the old one (and
/// prune it). migrate drops it the same way.
const ARGOCD_TRACKING: &str = "argocd.argoproj.io/tracking-id";

/// The new Service and what was left out of it or rewritten, one line each.
pub struct Parallel {
    pub service: Service,
    pub notes: Vec<String>,
}

/// Builds the new Service. `attributes` are merged into
/// `aws-load-balancer-target-group-attributes`, replacing keys already there,
/// and into every per-port override (`…-target-group-attributes.<port>`,
/// LBC v2.14+) of a TCP or TLS port that names them, so no port keeps the
/// old value; UDP ports keep theirs, AWS preserving the client address there
/// whatever is asked. The LBC only writes what the annotation names, so the
/// value is always explicit (§3.3).
pub fn parallel_service(
    old: &Service,
    new_name: &str,
    attributes: &[(&str, String)],
    provenance: (&str, String),
) -> Result<Parallel, String> {
    let meta = &old.metadata;
    let spec = old.spec.clone().unwrap_or_default();
    let mut notes = Vec::new();
    let mut annotations: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in meta.annotations.clone().unwrap_or_default() {
        if NOT_COPIED.contains(&k.as_str()) {
            continue;
        }
        if ADDRESS_PINS.contains(&k.as_str()) {
            notes.push(format!(
                "{k} is not copied: those addresses stay with the old NLB until it is deleted, and the new NLB gets addresses of its own"
            ));
            continue;
        }
        if crate::switch::preflight::EXTERNAL_DNS_PREFIXES
            .iter()
            .any(|p| k.starts_with(p))
            && ["hostname", "set-identifier", "aws-weight"]
                .iter()
                .any(|suffix| k.ends_with(suffix))
        {
            // The switch writes these itself, in an order external-dns can
            // follow (`switch::xdns`); copied, both Services would claim
            // the name as simple records at once.
            notes.push(format!(
                "{k} is not copied: the switch asks external-dns for the name on the new Service itself, weighted"
            ));
            continue;
        }
        if k == ARGOCD_TRACKING {
            notes.push(format!(
                "{k} is not copied: it names the old Service, and Argo CD would treat the copy as that Service"
            ));
            continue;
        }
        annotations.insert(k, v);
    }
    let name_of = || {
        format!(
            "{}/{}",
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default()
        )
    };
    let merge = |key: &str, annotations: &mut BTreeMap<String, String>, force: bool| {
        let existing = annotations.get(key).map(String::as_str).unwrap_or_default();
        let mut pairs = crate::classify::parse_string_map(existing).map_err(|e| {
            format!(
                "annotation {key} on service {}: {e}; fix it before the cutover",
                name_of()
            )
        })?;
        let mut changed = false;
        for (k, value) in attributes {
            match pairs.iter_mut().find(|(pk, _)| pk == k) {
                Some(pair) if pair.1 != *value => {
                    pair.1 = value.clone();
                    changed = true;
                }
                Some(_) => {}
                None if force => {
                    pairs.push((k.to_string(), value.clone()));
                    changed = true;
                }
                None => {}
            }
        }
        if force || changed {
            annotations.insert(
                key.to_string(),
                pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        Ok::<bool, String>(changed)
    };
    merge(ann::TARGET_GROUP_ATTRIBUTES, &mut annotations, true)?;
    for port in spec.ports.iter().flatten() {
        let udp = matches!(port.protocol.as_deref(), Some("UDP" | "TCP_UDP"));
        let key = format!("{}.{}", ann::TARGET_GROUP_ATTRIBUTES, port.port);
        if !udp && annotations.contains_key(&key) && merge(&key, &mut annotations, false)? {
            notes.push(format!(
                "{key} overrode the attribute for port {}; the copy has the new value there too",
                port.port
            ));
        }
    }
    annotations.insert(provenance.0.to_string(), provenance.1);
    let labels = meta.labels.clone().unwrap_or_default();
    let helm = labels
        .get("app.kubernetes.io/managed-by")
        .map(String::as_str)
        == Some("Helm")
        || annotations.contains_key("meta.helm.sh/release-name");
    if helm || labels.contains_key("app.kubernetes.io/instance") {
        notes.push(
            "the Helm or Argo CD ownership marks are copied with the labels: a GitOps tool may show the parallel Service as extra or prune it; commit it (kubectl nlb cutover … -o yaml) or pause auto-sync during the cutover".into(),
        );
    }

    let service = Service {
        metadata: ObjectMeta {
            name: Some(new_name.to_string()),
            namespace: meta.namespace.clone(),
            labels: meta.labels.clone(),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            type_: spec.type_,
            selector: spec.selector,
            // Cluster-assigned: a node port is allocated anew, never shared.
            ports: spec.ports.map(|ports| {
                ports
                    .into_iter()
                    .map(|p| ServicePort {
                        node_port: None,
                        ..p
                    })
                    .collect()
            }),
            load_balancer_class: spec.load_balancer_class,
            external_traffic_policy: spec.external_traffic_policy,
            internal_traffic_policy: spec.internal_traffic_policy,
            session_affinity: spec.session_affinity,
            session_affinity_config: spec.session_affinity_config,
            load_balancer_source_ranges: spec.load_balancer_source_ranges,
            ip_families: spec.ip_families,
            ip_family_policy: spec.ip_family_policy,
            allocate_load_balancer_node_ports: spec.allocate_load_balancer_node_ports,
            publish_not_ready_addresses: spec.publish_not_ready_addresses,
            ..Default::default()
        }),
        status: None,
    };
    Ok(Parallel { service, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn old() -> Service {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "frontend", "namespace": "web", "uid": "u-1", "resourceVersion": "42",
                "labels": {"app": "frontend"},
                "finalizers": ["service.k8s.aws/resources"],
                "annotations": {
                    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=30",
                    "service.beta.kubernetes.io/aws-load-balancer-name": "frontend",
                    "kubectl.kubernetes.io/last-applied-configuration": "{}"
                }
            },
            "spec": {
                "type": "LoadBalancer",
                "loadBalancerClass": "service.k8s.aws/nlb",
                "selector": {"app": "frontend"},
                "clusterIP": "10.100.0.10", "clusterIPs": ["10.100.0.10"],
                "externalTrafficPolicy": "Cluster",
                "healthCheckNodePort": 31000,
                "loadBalancerSourceRanges": ["203.0.113.0/24"],
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}]
            },
            "status": {"loadBalancer": {"ingress": [{"hostname": "old.elb.amazonaws.com"}]}}
        }))
        .unwrap()
    }

    #[test]
    fn copies_what_the_user_owns_and_nothing_the_cluster_assigned() {
        let new = parallel_service(
            &old(),
            "frontend-cip-off",
            &[("preserve_client_ip.enabled", "false".into())],
            ("nlb.kubectl.io/switched-from", "web/frontend".into()),
        )
        .unwrap()
        .service;
        let v = serde_json::to_value(&new).unwrap();
        assert_eq!(v["metadata"]["name"], "frontend-cip-off");
        assert_eq!(v["metadata"]["namespace"], "web");
        assert_eq!(v["metadata"]["labels"]["app"], "frontend");
        for absent in ["uid", "resourceVersion", "finalizers"] {
            assert!(v["metadata"].get(absent).is_none(), "{absent}");
        }
        let a = &v["metadata"]["annotations"];
        assert_eq!(
            a["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"],
            "preserve_client_ip.enabled=false,deregistration_delay.timeout_seconds=30"
        );
        assert_eq!(a["nlb.kubectl.io/switched-from"], "web/frontend");
        assert_eq!(
            a["service.beta.kubernetes.io/aws-load-balancer-scheme"],
            "internet-facing"
        );
        assert!(
            a.get("service.beta.kubernetes.io/aws-load-balancer-name")
                .is_none()
        );
        assert!(
            a.get("kubectl.kubernetes.io/last-applied-configuration")
                .is_none()
        );
        let spec = &v["spec"];
        assert_eq!(spec["loadBalancerClass"], "service.k8s.aws/nlb");
        assert_eq!(spec["loadBalancerSourceRanges"][0], "203.0.113.0/24");
        assert_eq!(spec["ports"][0]["targetPort"], 8080);
        for absent in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
            assert!(spec.get(absent).is_none(), "{absent}");
        }
        assert!(spec["ports"][0].get("nodePort").is_none());
        assert!(v.get("status").is_none());
    }

    #[test]
    fn adds_the_attribute_when_the_old_service_had_none() {
        let mut svc = old();
        svc.metadata
            .annotations
            .as_mut()
            .unwrap()
            .remove(ann::TARGET_GROUP_ATTRIBUTES);
        let new = parallel_service(
            &svc,
            "x",
            &[("preserve_client_ip.enabled", "true".into())],
            ("p", "web/frontend".into()),
        )
        .unwrap()
        .service;
        let a = new.metadata.annotations.unwrap();
        assert_eq!(
            a[ann::TARGET_GROUP_ATTRIBUTES],
            "preserve_client_ip.enabled=true"
        );
    }

    #[test]
    fn address_pins_and_argo_tracking_are_left_out_and_said() {
        let mut svc = old();
        let a = svc.metadata.annotations.as_mut().unwrap();
        a.insert(
            "service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses".into(),
            "2600:1f13::1,2600:1f13::2".into(),
        );
        a.insert(
            "argocd.argoproj.io/tracking-id".into(),
            "shop:/Service:web/frontend".into(),
        );
        svc.metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("app.kubernetes.io/instance".into(), "shop".into());
        let p = parallel_service(
            &svc,
            "x",
            &[("preserve_client_ip.enabled", "false".into())],
            ("p", "web/frontend".into()),
        )
        .unwrap();
        let a = p.service.metadata.annotations.unwrap();
        assert!(!a.contains_key("service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses"));
        assert!(!a.contains_key("argocd.argoproj.io/tracking-id"));
        assert_eq!(p.notes.len(), 3, "{:?}", p.notes);
        assert!(p.notes[0].contains("ipv6-addresses") || p.notes[1].contains("ipv6-addresses"));
    }

    #[test]
    fn per_port_overrides_of_tcp_ports_take_the_new_value_udp_ones_keep_theirs() {
        let mut svc: Service = old();
        let spec = svc.spec.as_mut().unwrap();
        spec.ports.as_mut().unwrap().push(
            serde_json::from_value(
                serde_json::json!({"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"}),
            )
            .unwrap(),
        );
        let a = svc.metadata.annotations.as_mut().unwrap();
        a.insert(
            format!("{}.80", ann::TARGET_GROUP_ATTRIBUTES),
            "preserve_client_ip.enabled=true,proxy_protocol_v2.enabled=true".into(),
        );
        a.insert(
            format!("{}.53", ann::TARGET_GROUP_ATTRIBUTES),
            "preserve_client_ip.enabled=true".into(),
        );
        let p = parallel_service(
            &svc,
            "x",
            &[("preserve_client_ip.enabled", "false".into())],
            ("p", "web/frontend".into()),
        )
        .unwrap();
        let a = p.service.metadata.annotations.unwrap();
        assert_eq!(
            a[&format!("{}.80", ann::TARGET_GROUP_ATTRIBUTES)],
            "preserve_client_ip.enabled=false,proxy_protocol_v2.enabled=true"
        );
        assert_eq!(
            a[&format!("{}.53", ann::TARGET_GROUP_ATTRIBUTES)],
            "preserve_client_ip.enabled=true"
        );
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
    }

    #[test]
    fn a_malformed_attribute_annotation_is_an_error() {
        let mut svc = old();
        svc.metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert(ann::TARGET_GROUP_ATTRIBUTES.into(), "novalue".into());
        let err = parallel_service(&svc, "x", &[], ("p", "v".into()))
            .err()
            .unwrap();
        assert!(err.contains("web/frontend"), "{err}");
    }
}
