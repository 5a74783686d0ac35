//! The journal: everything a switch needs to resume or undo itself, kept in
//! the cluster and rewritten before and after every step.
//!
//! A switch is a fixed list of steps (`steps`); the journal records how many
//! are done and which one has begun. Every step is safe to run again, so
//! after a crash `resume` re-runs the step that had begun and goes on.

use super::dns::{Identifiers, LbTarget};
use super::gate::Reading;
use super::listener::ListenerState;
use super::xdns::XdnsState;
use crate::model::DnsRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const VERSION: u32 = 1;
/// Events kept in the journal; older ones are dropped.
const MAX_EVENTS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cutover,
    Migrate,
}

impl Kind {
    pub fn command(self) -> &'static str {
        match self {
            Kind::Cutover => "cutover",
            Kind::Migrate => "migrate",
        }
    }
}

/// How traffic moves: which backend of the engine drives the shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// Route 53 weighted records between the old NLB and a parallel one.
    #[default]
    Dns,
    /// Listener weights between the Service's target groups and twins on
    /// the same NLB (`switch::listener`).
    Listener,
    /// The same weighted records, written by external-dns from annotations
    /// on both Services (`switch::xdns`).
    ExternalDns,
}

/// What the user asked for; fixed when the switch starts, except `finalize`,
/// which `resume --finalize` may turn on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub weights: Vec<u8>,
    pub soak_secs: u64,
    pub interval_secs: u64,
    pub timeout_secs: u64,
    pub min_healthy_percent: u8,
    /// How long an `initial` target is not counted; `None`: per target
    /// group, from its health check (`gate::default_initial_grace`).
    #[serde(default)]
    pub initial_grace_secs: Option<u64>,
    /// Wait after the collapse before deleting the old Service; `None` = the
    /// records' TTL plus the old target groups' deregistration delay.
    pub drain_secs: Option<u64>,
    pub finalize: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the new Service (from `Journal::new_manifest`).
    CreateService,
    /// Wait for its NLB to be active and its targets to pass the gate.
    WaitReady,
    /// Simple records → weighted pair, old 100 / new 0.
    Convert,
    /// Set the new NLB's weight, then soak while the gate holds.
    Shift(u8),
    /// Weighted pair → one simple record to the new NLB.
    Collapse,
    /// Let clients and connections leave the old NLB.
    Drain,
    /// Delete the old Service; its controller deletes the old NLB.
    DeleteOld,
    /// Listener path: twin target groups (the other client-IP value) and
    /// their TargetGroupBindings.
    CreateTwins,
    /// The twins' targets pass the gate.
    WaitTwins,
    /// This percent of new connections on the twins; gate and soak there.
    ToTwins(u8),
    /// The Service's target-group-attributes annotation takes the new value
    /// while its own groups carry no new connections.
    ChangeOwn,
    /// AWS shows it on the own groups, and their targets pass the gate.
    WaitOwn,
    /// This percent of new connections back on the own groups.
    BackToOwn(u8),
    /// `actions.*` annotations, bindings and twins removed.
    Cleanup,
}

impl Step {
    pub fn label(&self) -> String {
        match self {
            Step::CreateService => "create-service".into(),
            Step::WaitReady => "wait-ready".into(),
            Step::Convert => "convert-records".into(),
            Step::Shift(w) => format!("shift-{w}"),
            Step::Collapse => "collapse-records".into(),
            Step::Drain => "drain".into(),
            Step::DeleteOld => "delete-old-service".into(),
            Step::CreateTwins => "create-twins".into(),
            Step::WaitTwins => "wait-twins".into(),
            Step::ToTwins(w) => format!("to-twins-{w}"),
            Step::ChangeOwn => "change-own".into(),
            Step::WaitOwn => "wait-own".into(),
            Step::BackToOwn(w) => format!("back-to-own-{w}"),
            Step::Cleanup => "cleanup".into(),
        }
    }

    /// A step that moves traffic and soaks, and the first step of its kind
    /// (where a rollback sends the switch back to).
    fn shift_kind(&self) -> Option<u8> {
        match self {
            Step::Shift(_) => Some(0),
            Step::ToTwins(_) => Some(1),
            Step::BackToOwn(_) => Some(2),
            _ => None,
        }
    }
}

/// The steps of a listener switch: twins made and healthy, traffic moved to
/// them; with `finalize`, the own groups changed while they carry nothing,
/// traffic moved back, and what the switch made removed.
pub fn listener_steps(settings: &Settings) -> Vec<Step> {
    let mut steps = vec![Step::CreateTwins, Step::WaitTwins];
    steps.extend(settings.weights.iter().map(|&w| Step::ToTwins(w)));
    if settings.finalize {
        steps.extend([Step::ChangeOwn, Step::WaitOwn]);
        steps.extend(settings.weights.iter().map(|&w| Step::BackToOwn(w)));
        steps.push(Step::Cleanup);
    }
    steps
}

/// The steps of a switch with these settings, in order. Without records to
/// move (`moves_dns` false) it ends once the new Service is ready.
pub fn steps(settings: &Settings, moves_dns: bool) -> Vec<Step> {
    if !moves_dns {
        return vec![Step::CreateService, Step::WaitReady];
    }
    let mut steps = vec![Step::CreateService, Step::WaitReady, Step::Convert];
    steps.extend(settings.weights.iter().map(|&w| Step::Shift(w)));
    if settings.finalize {
        steps.extend([Step::Collapse, Step::Drain, Step::DeleteOld]);
    }
    steps
}

/// Who drives a switch: one process at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// When it last wrote the journal (seconds since the epoch).
    pub seen: u64,
}

/// A driver that has not written for this long is taken to be gone.
pub const DRIVER_TTL_SECS: u64 = 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub version: u32,
    pub kind: Kind,
    pub namespace: String,
    pub old_service: String,
    pub old_uid: String,
    pub new_service: String,
    /// The Service to create, exactly; `resume` creates the same one.
    pub new_manifest: serde_json::Value,
    pub old_lb: LbTarget,
    pub old_lb_arn: String,
    pub new_lb: Option<LbTarget>,
    pub new_lb_arn: Option<String>,
    pub zone_id: String,
    pub zone_name: String,
    /// The records as they were, to restore them exactly.
    pub original_records: Vec<DnsRecord>,
    pub ids: Identifiers,
    /// Target group attributes the new NLB must show before traffic moves.
    #[serde(default)]
    pub expect_attributes: BTreeMap<String, String>,
    /// The old Service has no selector: the new one gets a copy of its
    /// endpoints, kept in step while the switch runs (`switch::mirror`).
    #[serde(default)]
    pub mirror_endpoints: bool,
    pub settings: Settings,
    /// Steps completed, counted from the start of `steps(settings)`.
    pub done: usize,
    /// The label of a step that has begun and not finished.
    pub in_flight: Option<String>,
    /// Set when the gate failed and traffic went back to the old NLB.
    pub rolled_back: Option<String>,
    /// When the drain ends (seconds since the epoch).
    pub drain_until: Option<u64>,
    pub started_at: u64,
    pub updated_at: u64,
    pub last_gate: Option<Reading>,
    /// The process driving the switch, and when it last said so.
    #[serde(default)]
    pub driver: Option<Driver>,
    /// A new-NLB weight someone set by hand that `resume --adopt` accepted:
    /// Route 53 may hold it until the next shift finishes.
    #[serde(default)]
    pub adopted: Option<u8>,
    /// How traffic moves; journals written before `--via` are DNS ones.
    #[serde(default)]
    pub via: Via,
    /// The listener path's plan and what it made (`via: listener`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<ListenerState>,
    /// The external-dns path's plan (`via: externaldns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_dns: Option<XdnsState>,
    pub events: Vec<Event>,
}

/// Why a stored journal cannot be used (qa D-M3: one message for three
/// different problems, and none said how to get out of them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("it is not valid JSON (line {line}, column {column}): it was edited or cut short")]
    Syntax { line: usize, column: usize },
    #[error(
        "it is a version {found} journal and this kubectl nlb understands version {VERSION}: upgrade kubectl nlb"
    )]
    Newer { found: u64 },
    #[error("it does not have the shape of a journal ({0}): it was edited")]
    Shape(String),
}

/// Reads a stored journal, telling apart a damaged one from a newer one.
pub fn parse(text: &str) -> Result<Journal, Unreadable> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Unreadable::Syntax {
        line: e.line(),
        column: e.column(),
    })?;
    // The version first: a newer journal may have any shape.
    if let Some(found) = value.get("version").and_then(serde_json::Value::as_u64)
        && found > u64::from(VERSION)
    {
        return Err(Unreadable::Newer { found });
    }
    serde_json::from_value(value).map_err(|e| Unreadable::Shape(e.to_string()))
}

/// What a command decides before a switch starts; the rest of the journal
/// starts empty.
pub struct Start {
    pub kind: Kind,
    pub namespace: String,
    pub old_service: String,
    pub old_uid: String,
    pub new_service: String,
    pub new_manifest: serde_json::Value,
    pub old_lb: LbTarget,
    pub old_lb_arn: String,
    /// The records to move, all in one zone (possibly none).
    pub records: Vec<DnsRecord>,
    pub expect_attributes: BTreeMap<String, String>,
    pub mirror_endpoints: bool,
    pub settings: Settings,
    /// `Some` for a listener switch.
    pub listener: Option<ListenerState>,
    /// `Some` when external-dns owns the records: they move through it.
    pub external_dns: Option<XdnsState>,
}

impl Journal {
    pub fn new(s: Start, now: u64) -> Journal {
        Journal {
            version: VERSION,
            kind: s.kind,
            ids: Identifiers::for_services(&s.namespace, &s.old_service, &s.new_service),
            zone_id: s
                .records
                .first()
                .map(|r| r.zone_id.clone())
                .unwrap_or_default(),
            zone_name: s
                .records
                .first()
                .map(|r| r.zone_name.clone())
                .unwrap_or_default(),
            namespace: s.namespace,
            old_service: s.old_service,
            old_uid: s.old_uid,
            new_service: s.new_service,
            new_manifest: s.new_manifest,
            old_lb: s.old_lb,
            old_lb_arn: s.old_lb_arn,
            new_lb: None,
            new_lb_arn: None,
            original_records: s.records,
            expect_attributes: s.expect_attributes,
            mirror_endpoints: s.mirror_endpoints,
            settings: s.settings,
            done: 0,
            in_flight: None,
            rolled_back: None,
            drain_until: None,
            started_at: now,
            updated_at: now,
            last_gate: None,
            driver: None,
            adopted: None,
            via: match (&s.listener, &s.external_dns) {
                (Some(_), _) => Via::Listener,
                (None, Some(_)) => Via::ExternalDns,
                _ => Via::Dns,
            },
            listener: s.listener,
            external_dns: s.external_dns,
            events: Vec::new(),
        }
    }

    pub fn steps(&self) -> Vec<Step> {
        match self.via {
            Via::Dns | Via::ExternalDns => steps(&self.settings, !self.original_records.is_empty()),
            Via::Listener => listener_steps(&self.settings),
        }
    }

    /// Listener path: the twins' share of new connections once every
    /// finished step took effect (after a rollback, where it sent them).
    pub fn twin_share(&self) -> u8 {
        let steps = self.steps();
        let done = &steps[..self.done.min(steps.len())];
        let last = done.iter().rev().find_map(|s| match s {
            Step::ToTwins(w) => Some(*w),
            Step::BackToOwn(w) => Some(100 - w),
            Step::Cleanup => Some(0),
            _ => None,
        });
        match (self.rolled_back.is_some(), steps.get(self.done)) {
            (true, Some(Step::ToTwins(_))) => 0,
            (true, Some(Step::BackToOwn(_))) => 100,
            _ => last.unwrap_or(0),
        }
    }

    /// Listener path: the own groups may carry the new value (the change
    /// began, or is done).
    pub fn own_changed(&self) -> bool {
        let steps = self.steps();
        let label = Step::ChangeOwn.label();
        self.in_flight.as_deref() == Some(label.as_str())
            || steps[..self.done.min(steps.len())].contains(&Step::ChangeOwn)
    }

    /// The next step to run; `None` when the switch is complete.
    pub fn next(&self) -> Option<Step> {
        if self.rolled_back.is_some() {
            return None;
        }
        self.steps().get(self.done).cloned()
    }

    pub fn is_complete(&self) -> bool {
        self.rolled_back.is_none() && self.done >= self.steps().len()
    }

    pub fn begin(&mut self, step: &Step, now: u64) {
        self.in_flight = Some(step.label());
        self.note(now, format!("{} began", step.label()));
    }

    pub fn finish(&mut self, step: &Step, now: u64) {
        self.in_flight = None;
        self.done += 1;
        if matches!(step, Step::Shift(_)) {
            self.adopted = None;
        }
        self.note(now, format!("{} done", step.label()));
    }

    /// Whether the records are weighted pairs of this switch's: converted
    /// and not (being) collapsed.
    pub fn weighted(&self) -> bool {
        let steps = self.steps();
        let done = &steps[..self.done.min(steps.len())];
        done.contains(&Step::Convert)
            && !done.contains(&Step::Collapse)
            && self.in_flight.as_deref() != Some(Step::Collapse.label().as_str())
    }

    /// `resume --adopt`: Route 53 holds `live` percent for the new NLB, set
    /// by hand; the switch goes on from the first step above it (back to an
    /// earlier one if it was lowered), as if it had written it.
    pub fn adopt(&mut self, live: u8, now: u64) {
        let steps = self.steps();
        let next = steps
            .iter()
            .position(|s| matches!(s, Step::Shift(w) if *w > live))
            .or_else(|| {
                steps
                    .iter()
                    .rposition(|s| matches!(s, Step::Shift(_)))
                    .map(|i| i + 1)
            })
            .unwrap_or(self.done);
        self.done = next;
        self.in_flight = None;
        self.rolled_back = None;
        self.adopted = Some(live);
        self.note(
            now,
            format!(
                "adopted the weights Route 53 holds: old {} / new {live}",
                100 - live
            ),
        );
    }

    pub fn note(&mut self, now: u64, message: String) {
        self.updated_at = now;
        self.events.push(Event { at: now, message });
        if self.events.len() > MAX_EVENTS {
            let extra = self.events.len() - MAX_EVENTS;
            self.events.drain(..extra);
        }
    }

    /// The new NLB's weight once every finished step took effect: `None`
    /// before the conversion, then the last finished shift's weight.
    pub fn weight(&self) -> Option<u8> {
        let steps = self.steps();
        let done = &steps[..self.done.min(steps.len())];
        if !done.contains(&Step::Convert) {
            return None;
        }
        if self.rolled_back.is_some() {
            return Some(0);
        }
        Some(
            done.iter()
                .filter_map(|s| match s {
                    Step::Shift(w) => Some(*w),
                    _ => None,
                })
                .next_back()
                .unwrap_or(0),
        )
    }

    /// After a rollback: traffic is back on the old NLB with the pair in
    /// place; `resume` starts the shifts again from the first weight.
    pub fn roll_back(&mut self, reason: String, now: u64) {
        let steps = self.steps();
        // Back to the first step of the shifts under way: on the listener
        // path, those to the twins or those back to the own groups.
        let kind = steps
            .get(self.done)
            .and_then(Step::shift_kind)
            .or_else(|| steps.iter().find_map(Step::shift_kind));
        let first_shift = steps
            .iter()
            .position(|s| s.shift_kind().is_some() && s.shift_kind() == kind)
            .unwrap_or(self.done);
        self.done = first_shift;
        self.in_flight = None;
        self.note(now, format!("rolled back: {reason}"));
        self.rolled_back = Some(reason);
    }

    /// `resume` after a rollback: check the gate and shift again.
    /// Another process that drove this switch within the lease and may
    /// still be running: `alive` says whether a process on this host runs.
    pub fn driven_by_other(
        &self,
        me: &str,
        host: &str,
        now: u64,
        alive: impl Fn(u32) -> bool,
    ) -> Option<&Driver> {
        self.driver.as_ref().filter(|d| {
            d.id != me
                && now.saturating_sub(d.seen) < DRIVER_TTL_SECS
                && (d.host != host || alive(d.pid))
        })
    }

    /// Whether an abort was started on this journal.
    pub fn aborting(&self) -> bool {
        self.events.iter().any(|e| e.message == "abort began")
    }

    pub fn retry(&mut self, now: u64) {
        if self.rolled_back.take().is_some() {
            self.note(now, "resumed after a rollback".into());
        }
    }

    /// The step a human would name: what is running, or what comes next.
    pub fn phase(&self) -> String {
        if let Some(reason) = &self.rolled_back {
            return format!("rolled back ({reason})");
        }
        if let Some(step) = &self.in_flight {
            return format!("{step} (in progress or interrupted)");
        }
        match self.next() {
            Some(step) => format!("next: {}", step.label()),
            None if self.settings.finalize => "complete".into(),
            None => "switched; not finalized".into(),
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn settings(weights: &[u8], finalize: bool) -> Settings {
        Settings {
            weights: weights.to_vec(),
            soak_secs: 0,
            interval_secs: 1,
            timeout_secs: 60,
            min_healthy_percent: 100,
            initial_grace_secs: None,
            drain_secs: None,
            finalize,
        }
    }

    pub fn journal(weights: &[u8], finalize: bool) -> Journal {
        Journal::new(
            Start {
                kind: Kind::Cutover,
                namespace: "web".into(),
                old_service: "frontend".into(),
                old_uid: "uid-1".into(),
                new_service: "frontend-cip-off".into(),
                new_manifest: serde_json::json!({}),
                old_lb: LbTarget {
                    dns_name: "old".into(),
                    canonical_hosted_zone_id: "Z".into(),
                },
                old_lb_arn: "arn:old".into(),
                records: vec![DnsRecord {
                    zone_id: "Z1".into(),
                    zone_name: "example.com".into(),
                    ..Default::default()
                }],
                expect_attributes: BTreeMap::new(),
                mirror_endpoints: false,
                listener: None,
                external_dns: None,
                settings: settings(weights, finalize),
            },
            0,
        )
    }

    fn listener_journal(weights: &[u8], finalize: bool) -> Journal {
        let mut j = journal(weights, finalize);
        j.original_records.clear();
        j.via = Via::Listener;
        j.listener = Some(ListenerState {
            lb_name: "lb".into(),
            lb_arn: "arn:lb".into(),
            want: false,
            original_attributes: None,
            new_attributes: "preserve_client_ip.enabled=false".into(),
            pairs: Vec::new(),
        });
        j
    }

    #[test]
    fn a_listener_switch_goes_to_the_twins_and_with_finalize_comes_back() {
        use Step::*;
        let j = listener_journal(&[10, 50, 100], true);
        assert_eq!(
            j.steps(),
            vec![
                CreateTwins,
                WaitTwins,
                ToTwins(10),
                ToTwins(50),
                ToTwins(100),
                ChangeOwn,
                WaitOwn,
                BackToOwn(10),
                BackToOwn(50),
                BackToOwn(100),
                Cleanup
            ]
        );
        assert_eq!(
            listener_journal(&[50, 100], false).steps(),
            vec![CreateTwins, WaitTwins, ToTwins(50), ToTwins(100)],
            "without --finalize it stops with every new connection on the twins"
        );
        let labels: Vec<String> = j.steps().iter().map(Step::label).collect();
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(labels, unique, "labels tell every step apart");
    }

    #[test]
    fn the_twins_share_follows_the_finished_steps_and_rollbacks() {
        let mut j = listener_journal(&[10, 50, 100], true);
        let shares: Vec<u8> = (0..=j.steps().len())
            .map(|done| {
                j.done = done;
                j.twin_share()
            })
            .collect();
        assert_eq!(shares, vec![0, 0, 0, 10, 50, 100, 100, 100, 90, 50, 0, 0]);
        // A rollback while moving to the twins: all back on the own groups,
        // and resume starts the shifts to the twins again.
        j.done = 4; // to-twins-10 done, to-twins-50 next
        j.roll_back("gate".into(), 1);
        assert_eq!(j.done, 2);
        assert_eq!(j.twin_share(), 0);
        assert!(!j.own_changed());
        // Moving back: all on the twins, the shifts back start again.
        j.rolled_back = None;
        j.done = 9; // back-to-own-10 done
        j.roll_back("gate".into(), 2);
        assert_eq!(j.steps()[j.done], Step::BackToOwn(10));
        assert_eq!(j.twin_share(), 100);
        assert!(j.own_changed());
    }

    #[test]
    fn the_own_groups_count_as_changed_once_the_change_began() {
        let mut j = listener_journal(&[100], true);
        j.done = 3; // create, wait, to-twins-100
        assert!(!j.own_changed());
        j.begin(&Step::ChangeOwn, 1);
        assert!(j.own_changed(), "in flight: it may have reached the LBC");
    }

    #[test]
    fn journals_from_before_via_read_as_dns_switches() {
        let mut v = serde_json::to_value(journal(&[100], false)).unwrap();
        v.as_object_mut().unwrap().remove("via");
        let j: Journal = serde_json::from_value(v).unwrap();
        assert_eq!(j.via, Via::Dns);
        assert!(j.listener.is_none());
    }

    #[test]
    fn a_lease_is_held_by_a_live_recent_driver_of_another_process() {
        let mut j = Journal::new(
            Start {
                kind: Kind::Cutover,
                namespace: "web".into(),
                old_service: "a".into(),
                old_uid: "u".into(),
                new_service: "b".into(),
                new_manifest: serde_json::Value::Null,
                old_lb: LbTarget {
                    dns_name: "x".into(),
                    canonical_hosted_zone_id: "Z".into(),
                },
                old_lb_arn: "arn".into(),
                records: vec![],
                expect_attributes: BTreeMap::new(),
                mirror_endpoints: false,
                listener: None,
                external_dns: None,
                settings: settings(&[100], false),
            },
            0,
        );
        assert!(j.driven_by_other("me", "h", 100, |_| true).is_none());
        j.driver = Some(Driver {
            id: "other".into(),
            host: "h".into(),
            pid: 7,
            seen: 100,
        });
        assert!(j.driven_by_other("me", "h", 120, |_| true).is_some());
        assert!(
            j.driven_by_other("other", "h", 120, |_| true).is_none(),
            "its own"
        );
        assert!(
            j.driven_by_other("me", "h", 120, |_| false).is_none(),
            "its process is gone"
        );
        assert!(
            j.driven_by_other("me", "elsewhere", 120, |_| false)
                .is_some(),
            "another host: trust the lease"
        );
        assert!(
            j.driven_by_other("me", "h", 100 + DRIVER_TTL_SECS, |_| true)
                .is_none(),
            "silent too long"
        );
    }

    #[test]
    fn steps_follow_the_weights_and_finalize() {
        let labels = |s: &Settings| steps(s, true).iter().map(Step::label).collect::<Vec<_>>();
        assert_eq!(
            labels(&settings(&[10, 50, 100], false)),
            [
                "create-service",
                "wait-ready",
                "convert-records",
                "shift-10",
                "shift-50",
                "shift-100"
            ]
        );
        assert_eq!(
            labels(&settings(&[100], true)),
            [
                "create-service",
                "wait-ready",
                "convert-records",
                "shift-100",
                "collapse-records",
                "drain",
                "delete-old-service"
            ]
        );
    }

    #[test]
    fn without_records_only_the_new_service_is_made() {
        let labels: Vec<String> = steps(&settings(&[10, 100], true), false)
            .iter()
            .map(Step::label)
            .collect();
        assert_eq!(labels, ["create-service", "wait-ready"]);
    }

    #[test]
    fn a_run_walks_every_step_once_and_tracks_the_weight() {
        let mut j = journal(&[10, 50, 100], true);
        let mut seen = Vec::new();
        let mut weights = Vec::new();
        let mut now = 0;
        while let Some(step) = j.next() {
            now += 1;
            j.begin(&step, now);
            assert_eq!(
                j.next(),
                Some(step.clone()),
                "a begun step is re-run on resume"
            );
            j.finish(&step, now);
            seen.push(step.label());
            weights.push(j.weight());
        }
        assert!(j.is_complete());
        assert_eq!(seen.len(), 9);
        assert_eq!(
            weights,
            [
                None,
                None,
                Some(0),
                Some(10),
                Some(50),
                Some(100),
                Some(100),
                Some(100),
                Some(100)
            ]
        );
        assert_eq!(j.updated_at, 9);
        assert_eq!(j.phase(), "complete");
    }

    #[test]
    fn rollback_returns_to_the_first_shift_and_resume_retries() {
        let mut j = journal(&[10, 50, 100], false);
        j.done = 4; // shift-10 done
        j.begin(&Step::Shift(50), 5);
        j.roll_back("tg-80 has 0/2 targets healthy".into(), 6);
        assert_eq!(j.next(), None, "nothing runs until resume");
        assert_eq!(j.weight(), Some(0));
        assert!(j.phase().starts_with("rolled back"));
        assert!(!j.is_complete());
        j.retry(7);
        assert_eq!(j.next(), Some(Step::Shift(10)));
    }

    #[test]
    fn events_are_bounded() {
        let mut j = journal(&[100], false);
        for i in 0..100 {
            j.note(i, format!("event {i}"));
        }
        assert_eq!(j.events.len(), MAX_EVENTS);
        assert_eq!(j.events.last().unwrap().message, "event 99");
    }

    #[test]
    fn a_new_journal_takes_its_zone_and_identifiers_from_the_start() {
        let j = journal(&[100], false);
        assert_eq!(
            (j.zone_id.as_str(), j.zone_name.as_str()),
            ("Z1", "example.com")
        );
        assert_eq!(j.ids.new, "kubectl-nlb:web/frontend-cip-off");
        assert_eq!((j.done, j.version), (0, VERSION));
    }

    #[test]
    fn adopting_hand_set_weights_goes_on_from_the_first_step_above_them() {
        let mut j = journal(&[10, 50, 100], true);
        let steps = j.steps();
        let at = |w: u8| steps.iter().position(|s| *s == Step::Shift(w)).unwrap();
        j.done = at(10) + 1; // shift-10 done, shift-50 next
        j.adopt(30, 1);
        assert_eq!(j.next(), Some(Step::Shift(50)));
        assert_eq!(j.adopted, Some(30));
        j.adopt(0, 2); // rolled back by hand: from the first step again
        assert_eq!(j.next(), Some(Step::Shift(10)));
        j.adopt(100, 3); // all moved by hand: straight to the collapse
        assert_eq!(j.next(), Some(Step::Collapse));
        assert!(j.weighted());
        j.finish(&Step::Collapse, 4);
        assert!(!j.weighted());
        let mut k = journal(&[10, 100], false);
        k.done = at(10);
        k.adopt(10, 5);
        k.finish(&Step::Shift(100), 6);
        assert_eq!(k.adopted, None, "cleared once a shift is written");
    }

    #[test]
    fn a_damaged_a_newer_and_an_edited_journal_are_told_apart() {
        let j = journal(&[10, 100], false);
        let text = serde_json::to_string_pretty(&j).unwrap();
        assert_eq!(parse(&text).unwrap(), j);
        let cut = &text[..text.len() / 2];
        assert!(matches!(parse(cut), Err(Unreadable::Syntax { .. })));
        let newer = text.replacen("\"version\": 1", "\"version\": 99", 1);
        assert_eq!(parse(&newer), Err(Unreadable::Newer { found: 99 }));
        let newer_shape = r#"{"version": 2, "somethingElse": true}"#;
        assert_eq!(parse(newer_shape), Err(Unreadable::Newer { found: 2 }));
        let edited = text.replacen("\"done\"", "\"dune\"", 1);
        assert!(matches!(parse(&edited), Err(Unreadable::Shape(m)) if m.contains("done")));
    }

    #[test]
    fn the_journal_round_trips_through_json() {
        let j = journal(&[10, 100], true);
        let text = serde_json::to_string(&j).unwrap();
        assert!(text.contains("\"oldService\":\"frontend\""));
        let back: Journal = serde_json::from_str(&text).unwrap();
        assert_eq!(back, j);
    }
}
