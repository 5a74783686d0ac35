//! Where the workload's pods can run, and which registered nodes the NLB
//! will therefore find healthy (fidelity review A9).
//!
//! The LBC registers every node its node selector picks (default
//! exclusions, the binding's `nodeSelector`; `docs/guide/targetgroupbinding`
//! "Default Node Selector"), whatever the pods' affinity and tolerations.
//! With `externalTrafficPolicy: Local` kube-proxy answers the NodePort health
//! check only on nodes with a ready pod ("If the traffic policy is Local and
//! there are no node-local endpoints, the kube-proxy does not forward any
//! traffic", kubernetes.io services-networking/service.md), so the others
//! are registered and unhealthy by design.

use super::{NodeInfo, Workload};
use crate::model::PodInfo;
use std::collections::{BTreeMap, BTreeSet};

/// One `matchExpressions` entry of a required node-affinity term.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchExpr {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl MatchExpr {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let have = labels.get(&self.key);
        match self.operator.as_str() {
            "In" => have.is_some_and(|h| self.values.contains(h)),
            "NotIn" => have.is_none_or(|h| !self.values.contains(h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            // Gt/Lt compare integers (core/v1 NodeSelectorOperator).
            "Gt" | "Lt" => {
                let (Some(h), Some(v)) = (
                    have.and_then(|h| h.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == "Gt" { h > v } else { h < v }
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Toleration {
    pub key: Option<String>,
    /// `Exists` or `Equal` (the default).
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    pub effect: String,
}

impl Toleration {
    /// core/v1 `Toleration.ToleratesTaint`.
    fn tolerates(&self, t: &Taint) -> bool {
        if self
            .effect
            .as_deref()
            .is_some_and(|e| !e.is_empty() && e != t.effect)
        {
            return false;
        }
        if self
            .key
            .as_deref()
            .is_some_and(|k| !k.is_empty() && k != t.key)
        {
            return false;
        }
        match self.operator.as_deref() {
            Some("Exists") => true,
            _ => self.value.as_deref().unwrap_or("") == t.value.as_deref().unwrap_or(""),
        }
    }
}

/// Why no pod of the workload can run on this node, if none can: a taint
/// it does not tolerate, or required node affinity it does not match.
pub fn cannot_run(node: &NodeInfo, w: &Workload) -> Option<String> {
    for t in node
        .taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
    {
        if !w.tolerations.iter().any(|tol| tol.tolerates(t)) {
            let value = t
                .value
                .as_deref()
                .map(|v| format!("={v}"))
                .unwrap_or_default();
            return Some(format!(
                "taint {}{value}:{} is not tolerated by the pods",
                t.key, t.effect
            ));
        }
    }
    if !w.affinity_terms.is_empty()
        && !w
            .affinity_terms
            .iter()
            .any(|term| term.iter().all(|e| e.matches(&node.labels)))
    {
        return Some("the pods' required node affinity excludes it".into());
    }
    None
}

/// The registered nodes that will not be healthy, each with why: with
/// `local` (externalTrafficPolicy: Local), every node without a ready pod.
pub fn expected_unhealthy(
    registered: &[&NodeInfo],
    w: &Workload,
    pods: &[PodInfo],
    local: bool,
) -> BTreeMap<String, String> {
    if !local {
        return BTreeMap::new();
    }
    let serving: BTreeSet<&str> = pods
        .iter()
        .filter(|p| p.ready)
        .filter_map(|p| p.node_name.as_deref())
        .collect();
    registered
        .iter()
        .filter(|n| !serving.contains(n.name.as_str()))
        .map(|n| {
            let why = cannot_run(n, w)
                .unwrap_or_else(|| "no ready pod of the workload runs there".into());
            (
                n.name.clone(),
                format!(
                    "{why}, and with externalTrafficPolicy: Local the NodePort health check fails"
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, taints: Vec<Taint>, zone: &str) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            labels: [("topology.kubernetes.io/zone".to_string(), zone.to_string())].into(),
            ready: true,
            taints,
            ..Default::default()
        }
    }

    fn pod(node: &str) -> PodInfo {
        PodInfo {
            node_name: Some(node.into()),
            ready: true,
            ..Default::default()
        }
    }

    #[test]
    fn taints_need_a_matching_toleration() {
        let t = Taint {
            key: "dedicated".into(),
            value: Some("gpu".into()),
            effect: "NoSchedule".into(),
        };
        let n = node("gpu-1", vec![t.clone()], "a");
        let mut w = Workload::default();
        assert!(
            cannot_run(&n, &w)
                .unwrap()
                .contains("taint dedicated=gpu:NoSchedule")
        );
        w.tolerations = vec![Toleration {
            key: Some("dedicated".into()),
            operator: Some("Exists".into()),
            ..Default::default()
        }];
        assert_eq!(cannot_run(&n, &w), None);
        w.tolerations = vec![Toleration {
            key: Some("dedicated".into()),
            value: Some("cpu".into()),
            ..Default::default()
        }];
        assert!(cannot_run(&n, &w).is_some());
        let soft = Taint {
            effect: "PreferNoSchedule".into(),
            ..t
        };
        assert_eq!(
            cannot_run(&node("x", vec![soft], "a"), &Workload::default()),
            None
        );
    }

    #[test]
    fn required_affinity_is_any_term_with_all_expressions() {
        let w = Workload {
            affinity_terms: vec![vec![MatchExpr {
                key: "topology.kubernetes.io/zone".into(),
                operator: "In".into(),
                values: vec!["a".into()],
            }]],
            ..Default::default()
        };
        assert_eq!(cannot_run(&node("n1", vec![], "a"), &w), None);
        assert!(
            cannot_run(&node("n2", vec![], "b"), &w)
                .unwrap()
                .contains("affinity")
        );
    }

    #[test]
    fn with_local_the_nodes_without_a_ready_pod_are_expected_unhealthy() {
        let nodes = [
            node("a", vec![], "a"),
            node("b", vec![], "b"),
            node("c", vec![], "c"),
        ];
        let registered: Vec<&NodeInfo> = nodes.iter().collect();
        let pods = [pod("a")];
        let w = Workload::default();
        let e = expected_unhealthy(&registered, &w, &pods, true);
        assert_eq!(e.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert!(
            e["b"].starts_with("no ready pod of the workload runs there"),
            "{}",
            e["b"]
        );
        assert!(expected_unhealthy(&registered, &w, &pods, false).is_empty());
    }
}
