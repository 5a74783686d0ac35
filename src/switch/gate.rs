//! The health gate: may traffic move to (or stay on) the new NLB?
//!
//! A target group with no registered targets counts as unhealthy, as Route 53
//! counts it for an alias with EvaluateTargetHealth, while the NLB itself
//! "fails open" to all targets (domain.md §5.1, §7.3): neither is a state to
//! send clients to. `initial`, `draining`, `unhealthy`, `unused` and
//! `unavailable` targets are not healthy (§7.2).

use crate::model::TargetHealth;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one target group looked like at one poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupHealth {
    pub name: String,
    pub healthy: usize,
    pub total: usize,
    /// Target count per state, for the journal and `status`.
    pub states: BTreeMap<String, usize>,
    /// `id:port state (reason)` of each target that is not healthy, at most 5.
    pub problems: Vec<String>,
}

/// One poll of every target group of one NLB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    pub ok: bool,
    pub groups: Vec<GroupHealth>,
    /// Why the gate is closed, in one line.
    pub reason: Option<String>,
}

impl Reading {
    /// `web-80 3/3 healthy, web-443 2/3 healthy (1 initial)`.
    pub fn summary(&self) -> String {
        if self.groups.is_empty() {
            return "no target groups".into();
        }
        self.groups
            .iter()
            .map(|g| {
                let others: Vec<String> = g
                    .states
                    .iter()
                    .filter(|(s, _)| s.as_str() != "healthy")
                    .map(|(s, n)| format!("{n} {s}"))
                    .collect();
                if others.is_empty() {
                    format!("{} {}/{} healthy", g.name, g.healthy, g.total)
                } else {
                    format!(
                        "{} {}/{} healthy ({})",
                        g.name,
                        g.healthy,
                        g.total,
                        others.join(", ")
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Judges the target groups of one NLB: each needs at least one target and
/// at least `min_healthy_percent` of its targets healthy (100 = all).
pub fn read(groups: &[(String, Vec<TargetHealth>)], min_healthy_percent: u8) -> Reading {
    let mut failures = Vec::new();
    let groups: Vec<GroupHealth> = groups
        .iter()
        .map(|(name, targets)| {
            let mut states = BTreeMap::new();
            for t in targets {
                *states.entry(t.state.clone()).or_insert(0) += 1;
            }
            let healthy = states.get("healthy").copied().unwrap_or(0);
            let total = targets.len();
            let problems: Vec<String> = targets
                .iter()
                .filter(|t| t.state != "healthy")
                .take(5)
                .map(|t| {
                    let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
                    match &t.reason {
                        Some(r) => format!("{}{port} {} ({r})", t.id, t.state),
                        None => format!("{}{port} {}", t.id, t.state),
                    }
                })
                .collect();
            if total == 0 {
                failures.push(format!("{name} has no registered targets"));
            } else if healthy * 100 < total * usize::from(min_healthy_percent) || healthy == 0 {
                let detail = if problems.is_empty() {
                    String::new()
                } else {
                    format!(": {}", problems.join(", "))
                };
                failures.push(format!(
                    "{name} has {healthy}/{total} targets healthy, below {min_healthy_percent}%{detail}"
                ));
            }
            GroupHealth {
                name: name.clone(),
                healthy,
                total,
                states,
                problems,
            }
        })
        .collect();
    if groups.is_empty() {
        failures.push("the load balancer has no target groups".into());
    }
    Reading {
        ok: failures.is_empty(),
        reason: (!failures.is_empty()).then(|| failures.join("; ")),
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, state: &str) -> TargetHealth {
        TargetHealth {
            id: id.into(),
            port: Some(8080),
            state: state.into(),
            reason: (state == "unhealthy").then(|| "Target.FailedHealthChecks".into()),
        }
    }

    #[test]
    fn all_healthy_opens_the_gate() {
        let r = read(
            &[(
                "tg-80".into(),
                vec![t("10.0.1.5", "healthy"), t("10.0.2.6", "healthy")],
            )],
            100,
        );
        assert!(r.ok);
        assert_eq!(r.reason, None);
        assert_eq!(r.summary(), "tg-80 2/2 healthy");
    }

    #[test]
    fn any_state_but_healthy_closes_it_at_100_percent() {
        for state in ["initial", "draining", "unhealthy", "unused", "unavailable"] {
            let r = read(
                &[(
                    "tg-80".into(),
                    vec![t("10.0.1.5", "healthy"), t("10.0.2.6", state)],
                )],
                100,
            );
            assert!(!r.ok, "{state}");
            let reason = r.reason.unwrap();
            assert!(reason.contains("1/2") && reason.contains(state), "{reason}");
        }
    }

    #[test]
    fn the_threshold_is_a_percentage_of_each_group() {
        let targets = vec![
            t("a", "healthy"),
            t("b", "healthy"),
            t("c", "healthy"),
            t("d", "initial"),
        ];
        assert!(read(&[("tg".into(), targets.clone())], 75).ok);
        assert!(!read(&[("tg".into(), targets.clone())], 76).ok);
        // Never open with no healthy target at all, whatever the threshold.
        assert!(!read(&[("tg".into(), vec![t("a", "initial")])], 0).ok);
    }

    #[test]
    fn empty_groups_and_no_groups_close_it() {
        let r = read(&[("tg".into(), vec![])], 100);
        assert!(!r.ok);
        assert!(r.reason.unwrap().contains("no registered targets"));
        let r = read(&[], 100);
        assert!(!r.ok);
        assert_eq!(r.summary(), "no target groups");
    }

    #[test]
    fn every_group_must_pass() {
        let r = read(
            &[
                ("tg-80".into(), vec![t("a", "healthy")]),
                ("tg-443".into(), vec![t("a", "unhealthy")]),
            ],
            100,
        );
        assert!(!r.ok);
        let reason = r.reason.clone().unwrap();
        assert!(reason.starts_with("tg-443"), "{reason}");
        assert!(reason.contains("Target.FailedHealthChecks"), "{reason}");
        assert_eq!(
            r.summary(),
            "tg-80 1/1 healthy, tg-443 0/1 healthy (1 unhealthy)"
        );
    }
}
