//! Load balancers and target groups that a controller owns (fidelity review
//! A3): both controllers delete listeners they did not build on their next
//! reconcile (LBC `pkg/deploy/elbv2/listener_synthesizer.go:69-79`;
//! cloud-provider-aws `aws_loadbalancer.go:401-412`), and the in-tree one
//! deregisters targets it did not register (`ensureTargetGroupTargets`,
//! :879-905), so a binding there would be undone or fought over. They are
//! known by the tags each controller writes (LBC `pkg/deploy/tracking/provider.go`;
//! in-tree `aws_loadbalancer.go:158-161`).

use std::collections::BTreeMap;

/// Who owns a resource with these tags; `None` for no controller, or for
/// what bind-hostnetwork itself made (its provenance tag).
pub fn owner(tags: &BTreeMap<String, String>) -> Option<String> {
    if tags.contains_key(super::PROVENANCE) {
        return None;
    }
    if let Some(stack) = tags.get("service.k8s.aws/stack") {
        return Some(format!(
            "the AWS Load Balancer Controller for Service {stack}"
        ));
    }
    if let Some(stack) = tags.get("ingress.k8s.aws/stack") {
        return Some(format!(
            "the AWS Load Balancer Controller for Ingress group {stack}"
        ));
    }
    if let Some(svc) = tags.get("kubernetes.io/service-name") {
        return Some(format!("the in-tree cloud provider for Service {svc}"));
    }
    tags.iter()
        .find(|(k, v)| k.starts_with("kubernetes.io/cluster/") && v.as_str() == "owned")
        .map(|(k, _)| {
            format!(
                "the in-tree cloud provider of cluster {}",
                k.trim_start_matches("kubernetes.io/cluster/")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_controller_is_known_by_its_tags() {
        let lbc = tags(&[
            ("elbv2.k8s.aws/cluster", "prod"),
            ("service.k8s.aws/stack", "web/frontend"),
        ]);
        assert_eq!(
            owner(&lbc).unwrap(),
            "the AWS Load Balancer Controller for Service web/frontend"
        );
        let intree = tags(&[
            ("kubernetes.io/cluster/prod", "owned"),
            ("kubernetes.io/service-name", "shop/checkout"),
        ]);
        assert_eq!(
            owner(&intree).unwrap(),
            "the in-tree cloud provider for Service shop/checkout"
        );
        assert!(
            owner(&tags(&[("kubernetes.io/cluster/prod", "owned")]))
                .unwrap()
                .contains("cluster prod")
        );
        // What bind-hostnetwork made (cluster tag for the LBC's IAM policy) is fine.
        let ours = tags(&[
            ("elbv2.k8s.aws/cluster", "prod"),
            (super::super::PROVENANCE, "edge/ds/x:http"),
        ]);
        assert_eq!(owner(&ours), None);
        assert_eq!(owner(&tags(&[("team", "edge")])), None);
    }
}
