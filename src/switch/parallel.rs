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

/// Builds the new Service. `attributes` are merged into
/// `aws-load-balancer-target-group-attributes`, replacing keys already there;
/// the LBC only writes what the annotation names, so the value is always
/// explicit (§3.3).
pub fn parallel_service(
    old: &Service,
    new_name: &str,
    attributes: &[(&str, String)],
    provenance: (&str, String),
) -> Result<Service, String> {
    let meta = &old.metadata;
    let spec = old.spec.clone().unwrap_or_default();
    let mut annotations: BTreeMap<String, String> = meta
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
        .collect();
    let existing = annotations
        .get(ann::TARGET_GROUP_ATTRIBUTES)
        .map(String::as_str)
        .unwrap_or_default();
    let mut pairs = crate::classify::parse_string_map(existing).map_err(|e| {
        format!(
            "annotation {} on service {}/{}: {e}; fix it before the cutover",
            ann::TARGET_GROUP_ATTRIBUTES,
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default()
        )
    })?;
    for (key, value) in attributes {
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value.clone(),
            None => pairs.push((key.to_string(), value.clone())),
        }
    }
    annotations.insert(
        ann::TARGET_GROUP_ATTRIBUTES.to_string(),
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    annotations.insert(provenance.0.to_string(), provenance.1);

    Ok(Service {
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
    })
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
        .unwrap();
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
        .unwrap();
        let a = new.metadata.annotations.unwrap();
        assert_eq!(
            a[ann::TARGET_GROUP_ATTRIBUTES],
            "preserve_client_ip.enabled=true"
        );
    }

    #[test]
    fn a_malformed_attribute_annotation_is_an_error() {
        let mut svc = old();
        svc.metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert(ann::TARGET_GROUP_ATTRIBUTES.into(), "novalue".into());
        let err = parallel_service(&svc, "x", &[], ("p", "v".into())).unwrap_err();
        assert!(err.contains("web/frontend"), "{err}");
    }
}
