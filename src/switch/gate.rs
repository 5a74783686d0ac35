//! The health gate: may traffic move to (or stay on) the new NLB?
//!
//! It counts what a real NLB does with each target state (ELBv2
//! `TargetHealth`, domain.md §7.2):
//!
//! * `healthy` serves;
//! * `draining` targets are leaving (a pod replaced or scaled in: the LBC
//!   deregisters it, and the NLB stops sending it new connections), so they
//!   are left out of the ratio; a group whose every target is draining is
//!   closed all the same;
//! * `initial` targets are joining: tolerated for a grace period (by default
//!   a few health-check intervals of their target group), then counted as
//!   not healthy;
//! * `unhealthy`, `unavailable`, `unused` and anything else count as not
//!   healthy.
//!
//! A target group with no healthy target closes the gate: Route 53 counts it
//! unhealthy for an alias with EvaluateTargetHealth, while the NLB itself
//! "fails open" to all targets (§5.1, §7.3); neither is a state to send
//! clients to.

use crate::model::{TargetGroup, TargetHealth};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one target group looked like at one poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupHealth {
    pub name: String,
    pub healthy: usize,
    /// Targets counted: every registered target but the excluded ones.
    pub total: usize,
    /// Count per state of the counted targets, for the journal and `status`.
    pub states: BTreeMap<String, usize>,
    /// `id:port state (reason)` of each counted target that is not healthy, at most 5.
    pub problems: Vec<String>,
    /// What was left out of the ratio and why, e.g. `1 draining (leaving)`.
    #[serde(default)]
    pub excluded: Vec<String>,
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
    /// `web-80 3/3 healthy, web-443 2/2 healthy (1 draining, leaving: not counted)`.
    pub fn summary(&self) -> String {
        if self.groups.is_empty() {
            return "no target groups".into();
        }
        self.groups
            .iter()
            .map(|g| {
                let mut notes: Vec<String> = g
                    .states
                    .iter()
                    .filter(|(s, _)| s.as_str() != "healthy")
                    .map(|(s, n)| format!("{n} {s}"))
                    .collect();
                notes.extend(g.excluded.iter().map(|e| format!("{e}: not counted")));
                if notes.is_empty() {
                    format!("{} {}/{} healthy", g.name, g.healthy, g.total)
                } else {
                    format!(
                        "{} {}/{} healthy ({})",
                        g.name,
                        g.healthy,
                        g.total,
                        notes.join(", ")
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How the gate judges: the share of counted targets that must be healthy,
/// and how long an `initial` target is tolerated (`None`: per target group,
/// [`default_initial_grace`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub min_healthy_percent: u8,
    pub initial_grace_secs: Option<u64>,
}

/// One target group as the gate needs it: its targets, and its health
/// check (for the default grace).
pub struct Group<'a> {
    pub name: &'a str,
    pub targets: &'a [TargetHealth],
    pub interval_seconds: Option<i32>,
    pub healthy_threshold: Option<i32>,
}

impl<'a> Group<'a> {
    pub fn of(tg: &'a TargetGroup) -> Group<'a> {
        Group {
            name: &tg.name,
            targets: &tg.targets,
            interval_seconds: tg.health_check.interval_seconds,
            healthy_threshold: tg.health_check.healthy_threshold,
        }
    }
}

/// A new target needs HealthyThresholdCount passing checks, one per
/// interval, before it is healthy; two more intervals absorb the
/// registration itself. (ELBv2 defaults for NLBs: 30 s, 5; the LBC's: 10 s, 3.)
pub fn default_initial_grace(interval_seconds: Option<i32>, healthy_threshold: Option<i32>) -> u64 {
    let interval = interval_seconds.unwrap_or(30).max(1) as u64;
    let threshold = healthy_threshold.unwrap_or(5).max(1) as u64;
    interval * (threshold + 2)
}

/// When each target was first seen `initial`, across polls of one run.
#[derive(Debug, Default, Clone)]
pub struct Joining {
    since: BTreeMap<String, u64>,
}

fn key(group: &str, t: &TargetHealth) -> String {
    format!("{group}/{}:{}", t.id, t.port.unwrap_or(0))
}

impl Joining {
    /// Notes which targets are `initial` at `now`; forgets the others.
    pub fn observe(&mut self, groups: &[Group], now: u64) {
        let mut seen = BTreeMap::new();
        for g in groups {
            for t in g.targets.iter().filter(|t| t.state == "initial") {
                let k = key(g.name, t);
                let since = self.since.get(&k).copied().unwrap_or(now);
                seen.insert(k, since);
            }
        }
        self.since = seen;
    }

    fn age(&self, group: &str, t: &TargetHealth, now: u64) -> u64 {
        self.since
            .get(&key(group, t))
            .map_or(0, |since| now.saturating_sub(*since))
    }
}

/// Judges the target groups of one NLB at `now` (seconds), given when
/// `initial` targets were first seen (see [`Joining`]).
pub fn read(groups: &[Group], rule: Rule, joining: &Joining, now: u64) -> Reading {
    let mut failures = Vec::new();
    let groups: Vec<GroupHealth> = groups
        .iter()
        .map(|g| judge(g, rule, joining, now, &mut failures))
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

fn judge(
    g: &Group,
    rule: Rule,
    joining: &Joining,
    now: u64,
    failures: &mut Vec<String>,
) -> GroupHealth {
    let grace = rule
        .initial_grace_secs
        .unwrap_or_else(|| default_initial_grace(g.interval_seconds, g.healthy_threshold));
    let mut states = BTreeMap::new();
    let (mut draining, mut joining_now) = (0, 0);
    let mut counted: Vec<&TargetHealth> = Vec::new();
    for t in g.targets {
        match t.state.as_str() {
            "draining" => draining += 1,
            "initial" if joining.age(g.name, t, now) < grace => joining_now += 1,
            _ => {
                *states.entry(t.state.clone()).or_insert(0) += 1;
                counted.push(t);
            }
        }
    }
    let healthy = counted.iter().filter(|t| t.state == "healthy").count();
    let total = counted.len();
    let problems: Vec<String> = counted
        .iter()
        .filter(|t| t.state != "healthy")
        .take(5)
        .map(|t| describe(t, grace))
        .collect();
    let mut excluded = Vec::new();
    if draining > 0 {
        excluded.push(format!("{draining} draining (leaving)"));
    }
    if joining_now > 0 {
        excluded.push(format!("{joining_now} initial (joining, within {grace}s)"));
    }
    let name = g.name;
    if g.targets.is_empty() {
        failures.push(format!("{name} has no registered targets"));
    } else if total == 0 && joining_now == 0 {
        failures.push(format!("{name}: every target is draining"));
    } else if healthy == 0 {
        failures.push(format!(
            "{name} has no healthy target{}",
            detail(&problems, &excluded)
        ));
    } else if healthy * 100 < total * usize::from(rule.min_healthy_percent) {
        failures.push(format!(
            "{name} has {healthy}/{total} targets healthy, below {}%{}",
            rule.min_healthy_percent,
            detail(&problems, &excluded)
        ));
    }
    GroupHealth {
        name: name.to_string(),
        healthy,
        total,
        states,
        problems,
        excluded,
    }
}

fn describe(t: &TargetHealth, grace: u64) -> String {
    let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
    let reason = match (&t.reason, t.state.as_str()) {
        (_, "initial") => Some(format!("still initial after {grace}s")),
        (Some(r), _) => Some(r.clone()),
        (None, _) => None,
    };
    match reason {
        Some(r) => format!("{}{port} {} ({r})", t.id, t.state),
        None => format!("{}{port} {}", t.id, t.state),
    }
}

fn detail(problems: &[String], excluded: &[String]) -> String {
    let mut parts: Vec<String> = problems.to_vec();
    parts.extend(excluded.iter().map(|e| format!("{e}, not counted")));
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
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

    const STRICT: Rule = Rule {
        min_healthy_percent: 100,
        initial_grace_secs: None,
    };

    fn group<'a>(name: &'a str, targets: &'a [TargetHealth]) -> Group<'a> {
        Group {
            name,
            targets,
            interval_seconds: Some(10),
            healthy_threshold: Some(3),
        }
    }

    fn one(targets: &[TargetHealth], rule: Rule, joining: &Joining, now: u64) -> Reading {
        read(&[group("tg-80", targets)], rule, joining, now)
    }

    #[test]
    fn all_healthy_opens_the_gate() {
        let r = one(
            &[t("a", "healthy"), t("b", "healthy")],
            STRICT,
            &Joining::default(),
            0,
        );
        assert!(r.ok);
        assert_eq!(r.reason, None);
        assert_eq!(r.summary(), "tg-80 2/2 healthy");
    }

    #[test]
    fn draining_targets_are_leaving_and_not_counted() {
        let targets = [t("a", "healthy"), t("b", "healthy"), t("c", "draining")];
        let r = one(&targets, STRICT, &Joining::default(), 0);
        assert!(r.ok, "{r:?}");
        assert_eq!(
            r.summary(),
            "tg-80 2/2 healthy (1 draining (leaving): not counted)"
        );
    }

    #[test]
    fn a_group_that_is_all_draining_is_closed() {
        let targets = [t("a", "draining"), t("b", "draining")];
        let r = one(&targets, STRICT, &Joining::default(), 0);
        assert!(!r.ok);
        assert!(r.reason.unwrap().contains("every target is draining"));
    }

    #[test]
    fn initial_targets_get_a_grace_then_count_against_the_gate() {
        let targets = [t("a", "healthy"), t("b", "healthy"), t("c", "initial")];
        let groups = [group("tg-80", &targets)];
        let mut joining = Joining::default();
        joining.observe(&groups, 1000);
        // default grace: 10 s × (3 + 2)
        let r = read(&groups, STRICT, &joining, 1049);
        assert!(r.ok, "{r:?}");
        assert!(
            r.summary()
                .contains("1 initial (joining, within 50s): not counted")
        );
        joining.observe(&groups, 1050);
        let r = read(&groups, STRICT, &joining, 1050);
        assert!(!r.ok);
        assert!(r.reason.unwrap().contains("still initial after 50s"));
        // a flag overrides the grace
        let rule = Rule {
            initial_grace_secs: Some(600),
            ..STRICT
        };
        assert!(read(&groups, rule, &joining, 1050).ok);
    }

    #[test]
    fn a_target_that_leaves_initial_is_forgotten() {
        let mut joining = Joining::default();
        let first = [t("c", "initial")];
        joining.observe(&[group("tg", &first)], 0);
        let healthy = [t("c", "healthy")];
        joining.observe(&[group("tg", &healthy)], 100);
        let again = [t("c", "initial")];
        joining.observe(&[group("tg", &again)], 200);
        assert_eq!(joining.age("tg", &again[0], 210), 10);
    }

    #[test]
    fn only_initial_targets_is_not_yet_open() {
        let targets = [t("a", "initial")];
        let mut joining = Joining::default();
        joining.observe(&[group("tg-80", &targets)], 0);
        let r = one(&targets, STRICT, &joining, 1);
        assert!(!r.ok);
        let reason = r.reason.clone().unwrap();
        assert!(reason.contains("no healthy target"), "{reason}");
    }

    #[test]
    fn unhealthy_unused_unavailable_close_it_at_100_percent() {
        for state in ["unhealthy", "unused", "unavailable"] {
            let r = one(
                &[t("a", "healthy"), t("b", state)],
                STRICT,
                &Joining::default(),
                0,
            );
            assert!(!r.ok, "{state}");
            let reason = r.reason.unwrap();
            assert!(reason.contains("1/2") && reason.contains(state), "{reason}");
        }
    }

    #[test]
    fn the_threshold_is_a_percentage_of_the_counted_targets() {
        let targets = vec![
            t("a", "healthy"),
            t("b", "healthy"),
            t("c", "healthy"),
            t("d", "unhealthy"),
            t("e", "draining"),
        ];
        let rule = |min| Rule {
            min_healthy_percent: min,
            initial_grace_secs: None,
        };
        assert!(one(&targets, rule(75), &Joining::default(), 0).ok);
        assert!(!one(&targets, rule(76), &Joining::default(), 0).ok);
        // Never open with no healthy target at all, whatever the threshold.
        assert!(!one(&[t("a", "unhealthy")], rule(1), &Joining::default(), 0).ok);
    }

    #[test]
    fn empty_groups_and_no_groups_close_it() {
        let r = one(&[], STRICT, &Joining::default(), 0);
        assert!(!r.ok);
        assert!(r.reason.unwrap().contains("no registered targets"));
        let r = read(&[], STRICT, &Joining::default(), 0);
        assert!(!r.ok);
        assert_eq!(r.summary(), "no target groups");
    }

    #[test]
    fn every_group_must_pass() {
        let ok = [t("a", "healthy")];
        let bad = [t("a", "unhealthy")];
        let r = read(
            &[group("tg-80", &ok), group("tg-443", &bad)],
            STRICT,
            &Joining::default(),
            0,
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

    #[test]
    fn the_default_grace_follows_the_health_check() {
        assert_eq!(default_initial_grace(Some(10), Some(3)), 50);
        assert_eq!(default_initial_grace(None, None), 210);
    }
}
