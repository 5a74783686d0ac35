//! Deleting a Service behind an NLB, as the controllers really do it: the
//! DELETE only sets `deletionTimestamp`; the Service stays until its
//! controller has deleted the NLB and removed its finalizer (KEP-980
//! `service.kubernetes.io/load-balancer-cleanup`; the LBC's
//! `service.k8s.aws/resources`, `controllers/service/service_controller.go:224-243`).
//! So "gone" is something to observe, and a deletion that does not finish
//! needs a reason a user can act on.

use k8s_openapi::api::core::v1::Service;

pub const LBC_FINALIZER: &str = "service.k8s.aws/resources";
pub const INTREE_FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";

/// What was seen of a deletion that has not finished.
pub struct Seen<'a> {
    /// The Service, while it still exists (same UID).
    pub service: Option<&'a Service>,
    /// The NLB, while `DescribeLoadBalancers` still finds it.
    pub lb_name: Option<&'a str>,
    pub lb_arn: &'a str,
    /// `deletion_protection.enabled` of that NLB.
    pub lb_protected: bool,
    /// Whether the AWS Load Balancer Controller has a ready replica
    /// (`None`: not known).
    pub lbc_ready: Option<bool>,
}

/// Who holds a finalizer.
fn holder(finalizer: &str) -> &'static str {
    match finalizer {
        LBC_FINALIZER => "the AWS Load Balancer Controller",
        INTREE_FINALIZER => "the cloud provider's service controller",
        _ => "another controller",
    }
}

fn annotation_protects(svc: &Service) -> bool {
    svc.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("service.beta.kubernetes.io/aws-load-balancer-attributes"))
        .is_some_and(|v| {
            v.split(',')
                .filter_map(|kv| kv.split_once('='))
                .any(|(k, v)| k.trim() == "deletion_protection.enabled" && v.trim() == "true")
        })
}

/// Why the deletion of `ns/name` has not finished, and what to do.
pub fn why_not_gone(ns: &str, name: &str, seen: &Seen) -> String {
    let lb = seen.lb_name.unwrap_or(seen.lb_arn);
    let protection_off = format!(
        "turn it off with `aws elbv2 modify-load-balancer-attributes --load-balancer-arn {} --attributes Key=deletion_protection.enabled,Value=false`",
        seen.lb_arn
    );
    let Some(svc) = seen.service else {
        return if seen.lb_protected {
            format!(
                "service {ns}/{name} is gone but NLB {lb} still exists: it has deletion protection on; {protection_off}, then delete it with `aws elbv2 delete-load-balancer --load-balancer-arn {}`",
                seen.lb_arn
            )
        } else {
            format!(
                "service {ns}/{name} is gone but NLB {lb} still exists; its controller may still be deleting it (look again in a minute), or delete it with `aws elbv2 delete-load-balancer --load-balancer-arn {}`",
                seen.lb_arn
            )
        };
    };
    let finalizers = svc.metadata.finalizers.clone().unwrap_or_default();
    let held = if finalizers.is_empty() {
        "no finalizer is left".to_string()
    } else {
        finalizers
            .iter()
            .map(|f| format!("finalizer {f} is held by {}", holder(f)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let cause = if finalizers.iter().any(|f| f == LBC_FINALIZER) && annotation_protects(svc) {
        format!(
            "its aws-load-balancer-attributes annotation sets deletion_protection.enabled=true, and the controller will not delete such a Service: take that setting out of the annotation (`kubectl edit service {name} -n {ns}`)"
        )
    } else if seen.lb_protected && seen.lb_name.is_some() {
        format!(
            "NLB {lb} has deletion protection on, so DeleteLoadBalancer fails; {protection_off}"
        )
    } else if finalizers.iter().any(|f| f == LBC_FINALIZER) && seen.lbc_ready == Some(false) {
        "the AWS Load Balancer Controller has no ready replica: get it running again".to_string()
    } else {
        format!(
            "its controller has not finished; `kubectl describe service {name} -n {ns}` shows its events"
        )
    };
    format!("service {ns}/{name} is still being deleted ({held}): {cause}")
}

/// Whether a Service is being deleted.
pub fn is_terminating(svc: &Service) -> bool {
    svc.metadata.deletion_timestamp.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(finalizer: &str, attributes: Option<&str>) -> Service {
        let mut anns = serde_json::Map::new();
        if let Some(a) = attributes {
            anns.insert(
                "service.beta.kubernetes.io/aws-load-balancer-attributes".into(),
                a.into(),
            );
        }
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "frontend", "namespace": "web", "finalizers": [finalizer],
                         "deletionTimestamp": "2026-12-02T10:00:00Z", "annotations": anns},
        }))
        .unwrap()
    }

    fn seen<'a>(service: Option<&'a Service>, protected: bool, ready: Option<bool>) -> Seen<'a> {
        Seen {
            service,
            lb_name: Some("k8s-web-frontend-abc"),
            lb_arn: "arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/k8s-web-frontend-abc/1",
            lb_protected: protected,
            lbc_ready: ready,
        }
    }

    #[test]
    fn the_annotation_that_keeps_protection_on_is_named() {
        let s = svc(LBC_FINALIZER, Some("deletion_protection.enabled=true"));
        let why = why_not_gone("web", "frontend", &seen(Some(&s), true, Some(true)));
        assert!(
            why.contains(
                "finalizer service.k8s.aws/resources is held by the AWS Load Balancer Controller"
            ),
            "{why}"
        );
        assert!(
            why.contains("take that setting out of the annotation"),
            "{why}"
        );
        assert!(is_terminating(&s));
    }

    #[test]
    fn protection_set_on_the_nlb_says_how_to_turn_it_off() {
        let s = svc(INTREE_FINALIZER, None);
        let why = why_not_gone("shop", "checkout", &seen(Some(&s), true, None));
        assert!(why.contains("cloud provider's service controller"), "{why}");
        assert!(
            why.contains("Key=deletion_protection.enabled,Value=false"),
            "{why}"
        );
    }

    #[test]
    fn a_controller_that_is_down_is_named() {
        let s = svc(LBC_FINALIZER, None);
        let why = why_not_gone("web", "frontend", &seen(Some(&s), false, Some(false)));
        assert!(why.contains("no ready replica"), "{why}");
        let why = why_not_gone("web", "frontend", &seen(Some(&s), false, Some(true)));
        assert!(
            why.contains("kubectl describe service frontend -n web"),
            "{why}"
        );
    }

    #[test]
    fn an_nlb_left_behind_by_a_vanished_service_is_named() {
        let why = why_not_gone("web", "frontend", &seen(None, false, None));
        assert!(
            why.contains("is gone but NLB k8s-web-frontend-abc still exists"),
            "{why}"
        );
        assert!(why.contains("delete-load-balancer"), "{why}");
    }
}
