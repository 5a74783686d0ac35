//! Route 53 change batches for a weighted switch (domain.md §5).
//!
//! The records being moved are simple records (alias A/AAAA or CNAME) that
//! point at the old NLB. Each becomes a pair of weighted records of the same
//! name and type, one per NLB, told apart by their SetIdentifiers; every
//! batch keeps at least one weight above zero, because an all-zero weighted
//! alias group has no documented meaning (§5.2).

use crate::model::{AliasTarget, DnsRecord};
use serde::{Deserialize, Serialize};

/// A load balancer as Route 53 must name it in an alias target: its DNS name
/// and its `CanonicalHostedZoneId` from DescribeLoadBalancers (§5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LbTarget {
    pub dns_name: String,
    pub canonical_hosted_zone_id: String,
}

/// The SetIdentifiers of the two weighted records (1–128 characters, §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifiers {
    pub old: String,
    pub new: String,
}

impl Identifiers {
    /// `kubectl-nlb:<namespace>/<service>`; past Route 53's 128 characters,
    /// a prefix and a hash of the whole, so that two long names never share
    /// one (qa D-W6: both were cut to the same 128).
    pub fn for_services(namespace: &str, old: &str, new: &str) -> Identifiers {
        let id = |name: &str| {
            let full = format!("kubectl-nlb:{namespace}/{name}");
            if full.len() <= 128 {
                return full;
            }
            let hash = full.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            let cut = (0..=110)
                .rev()
                .find(|i| full.is_char_boundary(*i))
                .unwrap_or(0);
            format!("{}~{hash:016x}", &full[..cut])
        };
        Identifiers {
            old: id(old),
            new: id(new),
        }
    }

    fn is_ours(&self, record: &DnsRecord) -> bool {
        matches!(record.set_identifier.as_deref(), Some(id) if id == self.old || id == self.new)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Create,
    Delete,
    Upsert,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub action: Action,
    pub record: DnsRecord,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.record;
        write!(f, "{:?} {} {}", self.action, r.name, r.type_)?;
        if let Some(id) = &r.set_identifier {
            write!(f, " [{id}")?;
            if let Some(w) = r.weight {
                write!(f, " weight {w}")?;
            }
            write!(f, "]")?;
        }
        let targets = r.targets();
        if targets.is_empty() {
            write!(f, " → {}", r.values.join(","))
        } else {
            write!(f, " → {}", targets.join(","))
        }
    }
}

/// The record `original` would be if it sent clients to `target` instead:
/// the same name, type, TTL and health evaluation.
fn pointing_at(original: &DnsRecord, target: &LbTarget) -> DnsRecord {
    let mut record = original.clone();
    match &mut record.alias {
        Some(alias) => {
            // Keep a `dualstack.` prefix if the original used one: it decides
            // whether AAAA lookups through the alias answer.
            let dualstack = alias
                .dns_name
                .to_ascii_lowercase()
                .starts_with("dualstack.");
            *alias = AliasTarget {
                hosted_zone_id: target.canonical_hosted_zone_id.clone(),
                dns_name: if dualstack {
                    format!("dualstack.{}", target.dns_name)
                } else {
                    target.dns_name.clone()
                },
                evaluate_target_health: alias.evaluate_target_health,
            };
        }
        None => record.values = vec![target.dns_name.clone()],
    }
    record
}

fn weighted(original: &DnsRecord, target: &LbTarget, id: &str, weight: u8) -> DnsRecord {
    let mut record = pointing_at(original, target);
    record.set_identifier = Some(id.to_string());
    record.weight = Some(i64::from(weight));
    record
}

fn pair(
    originals: &[DnsRecord],
    old: &LbTarget,
    new: &LbTarget,
    ids: &Identifiers,
    new_weight: u8,
) -> Vec<DnsRecord> {
    let new_weight = new_weight.min(100);
    originals
        .iter()
        .flat_map(|o| {
            [
                weighted(o, old, &ids.old, 100 - new_weight),
                weighted(o, new, &ids.new, new_weight),
            ]
        })
        .collect()
}

/// The atomic conversion: DELETE each simple record and CREATE its weighted
/// pair, old at 100 and new at 0, in one batch, so that a failure leaves the
/// original in place (§5.2).
pub fn convert(
    originals: &[DnsRecord],
    old: &LbTarget,
    new: &LbTarget,
    ids: &Identifiers,
) -> Vec<Change> {
    let deletes = originals.iter().map(|o| Change {
        action: Action::Delete,
        record: o.clone(),
    });
    let creates = pair(originals, old, new, ids, 0)
        .into_iter()
        .map(|record| Change {
            action: Action::Create,
            record,
        });
    deletes.chain(creates).collect()
}

/// One step: the new NLB gets `new_weight`, the old one the rest. UPSERT
/// keeps the routing policy, which is all a weight change needs.
pub fn shift(
    originals: &[DnsRecord],
    old: &LbTarget,
    new: &LbTarget,
    ids: &Identifiers,
    new_weight: u8,
) -> Vec<Change> {
    pair(originals, old, new, ids, new_weight)
        .into_iter()
        .map(|record| Change {
            action: Action::Upsert,
            record,
        })
        .collect()
}

/// Records in `current` that have the name and type of `original`.
fn same_set<'a>(original: &DnsRecord, current: &'a [DnsRecord]) -> Vec<&'a DnsRecord> {
    current.iter().filter(|r| r.same_set_as(original)).collect()
}

/// Whether `set` holds `record`, compared as Route 53 means it
/// ([`DnsRecord::same_as`]): what is read back is normalised.
pub fn holds(set: &[&DnsRecord], record: &DnsRecord) -> bool {
    set.iter().any(|r| r.same_as(record))
}

/// What must go for `original`'s name and type to be ours alone again: our
/// weighted records, and a simple record equal to `ours_simple` (the
/// collapsed form). Anything else there is someone else's, and we stop.
fn removable(
    original: &DnsRecord,
    current: &[DnsRecord],
    ids: &Identifiers,
    ours_simple: &[DnsRecord],
) -> Result<Vec<DnsRecord>, String> {
    let mut out = Vec::new();
    for r in same_set(original, current) {
        if ids.is_ours(r) || ours_simple.iter().any(|o| o.same_as(r)) {
            out.push(r.clone());
        } else if !r.same_as(original) {
            return Err(format!(
                "{} {} has a record this tool did not write ({}); remove it by hand",
                r.name,
                r.type_,
                r.set_identifier
                    .as_deref()
                    .map(|id| format!("SetIdentifier {id}"))
                    .unwrap_or_else(|| format!("pointing at {}", r.targets().join(","))),
            ));
        }
    }
    Ok(out)
}

/// Puts the original records back exactly, from whatever state the switch
/// left (`current` is what Route 53 holds now, for the exact DELETEs §5.2
/// demands). Empty when nothing needs to change.
pub fn restore(
    originals: &[DnsRecord],
    current: &[DnsRecord],
    new: Option<&LbTarget>,
    ids: &Identifiers,
) -> Result<Vec<Change>, String> {
    let collapsed: Vec<DnsRecord> = match new {
        Some(new) => originals.iter().map(|o| pointing_at(o, new)).collect(),
        None => Vec::new(),
    };
    let mut changes = Vec::new();
    for original in originals {
        let gone = removable(original, current, ids, &collapsed)?;
        let present = holds(&same_set(original, current), original);
        changes.extend(gone.into_iter().map(|record| Change {
            action: Action::Delete,
            record,
        }));
        if !present {
            changes.push(Change {
                action: Action::Create,
                record: original.clone(),
            });
        }
    }
    Ok(changes)
}

/// After the switch: one simple record per original, pointing at the new
/// NLB, replacing the weighted pair in one batch. Empty when already done.
pub fn collapse(
    originals: &[DnsRecord],
    current: &[DnsRecord],
    new: &LbTarget,
    ids: &Identifiers,
) -> Result<Vec<Change>, String> {
    let mut changes = Vec::new();
    for original in originals {
        let target = pointing_at(original, new);
        let set = same_set(original, current);
        if set.len() == 1 && set[0].same_as(&target) {
            continue;
        }
        for r in &set {
            if !ids.is_ours(r) {
                return Err(format!(
                    "{} {} has a record this tool did not write; remove it by hand",
                    r.name, r.type_
                ));
            }
        }
        changes.extend(set.into_iter().map(|r| Change {
            action: Action::Delete,
            record: r.clone(),
        }));
        changes.push(Change {
            action: Action::Create,
            record: target,
        });
    }
    Ok(changes)
}

/// After the collapse: whether every original's name and type hold exactly
/// the one record the collapse wrote, pointing at the new NLB. `None` when
/// they do; else what differs. Checked before the old NLB is deleted: a
/// record put back at it during the drain would otherwise be left pointing
/// at a deleted load balancer.
pub fn collapse_drift(
    originals: &[DnsRecord],
    current: &[DnsRecord],
    new: &LbTarget,
) -> Option<String> {
    originals.iter().find_map(|o| {
        let set = same_set(o, current);
        let target = pointing_at(o, new);
        (set.len() != 1 || !set[0].same_as(&target)).then(|| {
            let found: Vec<String> = set.iter().map(|r| r.targets().join(",")).collect();
            format!(
                "{} {} no longer points at the new NLB only (it points at: {})",
                o.name,
                o.type_,
                if found.is_empty() {
                    "nothing".to_string()
                } else {
                    found.join("; ")
                }
            )
        })
    })
}

/// How Route 53 differs from what a switch wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub what: String,
    pub fix: DriftFix,
}

/// What can be done about a drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftFix {
    /// Only the pair's weights changed, the same on every record: `resume
    /// --adopt` can carry on from this new-NLB weight.
    Adopt(u8),
    /// Every original record is back as it was: the switch was undone by
    /// hand, and `abort` finishes undoing it (removing the record would
    /// leave the name unanswered).
    Abort,
    /// A record the switch did not write, or a pair gone: collapse and
    /// restore both refuse to end with it, so it must go by hand first.
    ByHand,
}

/// What differs between Route 53 and what this switch wrote, if anything:
/// for each original, exactly our weighted pair, with the new NLB at one of
/// `expected` (qa D-W8: edits between steps were silently overwritten).
pub fn drift(
    originals: &[DnsRecord],
    current: &[DnsRecord],
    ids: &Identifiers,
    expected: &[u8],
) -> Option<Drift> {
    let by_hand = |what: String| {
        Some(Drift {
            what,
            fix: DriftFix::ByHand,
        })
    };
    if !originals.is_empty()
        && originals
            .iter()
            .all(|o| matches!(same_set(o, current).as_slice(), [only] if only.same_as(o)))
    {
        return Some(Drift {
            what: "the original records are back: the switch was undone by hand".into(),
            fix: DriftFix::Abort,
        });
    }
    let weights = observed_weights(originals, current, ids);
    let mut edited: Vec<(String, i64, i64)> = Vec::new();
    for (original, w) in originals.iter().zip(&weights) {
        let set = same_set(original, current);
        if let Some(r) = set.iter().find(|r| !ids.is_ours(r)) {
            return by_hand(format!(
                "{} {} has a record this switch did not write ({})",
                original.name,
                original.type_,
                r.set_identifier
                    .as_deref()
                    .map(|id| format!("SetIdentifier {id}"))
                    .unwrap_or_else(|| "a simple record".into())
            ));
        }
        match w {
            None => {
                return by_hand(format!(
                    "{} {}: the weighted pair this switch wrote is no longer there",
                    original.name, original.type_
                ));
            }
            Some((old, new))
                if !expected
                    .iter()
                    .any(|e| *new == i64::from(*e) && *old == 100 - i64::from(*e)) =>
            {
                edited.push((format!("{} {}", original.name, original.type_), *old, *new));
            }
            Some(_) => {}
        }
    }
    let (name, old, new) = edited.first()?.clone();
    let wrote: Vec<String> = expected.iter().map(|e| format!("new {e}")).collect();
    let what = format!(
        "{name} is weighted old {old} / new {new}; this switch wrote {}",
        wrote.join(" or ")
    );
    // Adoptable when every record holds the same split, one of 0–100.
    let same = weights.iter().all(|w| *w == Some((old, new)));
    match u8::try_from(new) {
        Ok(live) if same && live <= 100 && old == 100 - new => Some(Drift {
            what,
            fix: DriftFix::Adopt(live),
        }),
        _ => by_hand(what),
    }
}

/// What Route 53 answers now for a switch, in words, for progress lines and
/// `status` (qa D-M1: the journal's weights are what was asked, not what is
/// served). One phrase when every original is in the same state.
pub fn live(
    originals: &[DnsRecord],
    current: &[DnsRecord],
    ids: &Identifiers,
    new: Option<&LbTarget>,
) -> String {
    let weights = observed_weights(originals, current, ids);
    let each: Vec<String> = originals
        .iter()
        .zip(weights)
        .map(|(o, w)| {
            let set = same_set(o, current);
            let only = |r: &DnsRecord| set.len() == 1 && set[0].same_as(r);
            match w {
                Some((old, new)) if set.len() == 2 => format!("old {old} / new {new}"),
                _ if only(o) => "the original record".to_string(),
                _ if new.is_some_and(|n| only(&pointing_at(o, n))) => {
                    "one record to the new NLB".to_string()
                }
                _ if set.is_empty() => "no record".to_string(),
                _ => format!("{} records, not the switch's pair", set.len()),
            }
        })
        .collect();
    let mut distinct = each.clone();
    distinct.dedup();
    match distinct.as_slice() {
        [one] => one.clone(),
        _ => originals
            .iter()
            .zip(&each)
            .map(|(o, e)| format!("{} {}: {e}", o.name, o.type_))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The weights Route 53 holds now for our pair, as (old, new) per original;
/// `None` for an original whose pair is not (fully) there.
pub fn observed_weights(
    originals: &[DnsRecord],
    current: &[DnsRecord],
    ids: &Identifiers,
) -> Vec<Option<(i64, i64)>> {
    originals
        .iter()
        .map(|o| {
            let set = same_set(o, current);
            let weight = |id: &str| {
                set.iter()
                    .find(|r| r.set_identifier.as_deref() == Some(id))
                    .and_then(|r| r.weight)
            };
            Some((weight(&ids.old)?, weight(&ids.new)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(dns: &str, zone: &str) -> LbTarget {
        LbTarget {
            dns_name: dns.into(),
            canonical_hosted_zone_id: zone.into(),
        }
    }

    fn alias(name: &str, dns: &str) -> DnsRecord {
        DnsRecord {
            zone_id: "Z1".into(),
            zone_name: "example.com".into(),
            name: name.into(),
            type_: "A".into(),
            alias: Some(AliasTarget {
                hosted_zone_id: "ZOLD".into(),
                dns_name: dns.into(),
                evaluate_target_health: true,
            }),
            ..Default::default()
        }
    }

    fn cname(name: &str, dns: &str) -> DnsRecord {
        DnsRecord {
            zone_id: "Z1".into(),
            zone_name: "example.com".into(),
            name: name.into(),
            type_: "CNAME".into(),
            ttl: Some(300),
            values: vec![dns.into()],
            ..Default::default()
        }
    }

    fn ids() -> Identifiers {
        Identifiers::for_services("web", "frontend", "frontend-cip-off")
    }

    /// What Route 53 keeps of a record, and answers afterwards: the name
    /// and the alias target lower-cased and fully qualified.
    fn as_read_back(r: &DnsRecord) -> DnsRecord {
        let fq = |n: &str| format!("{}.", n.trim_end_matches('.').to_ascii_lowercase());
        let mut r = r.clone();
        r.name = fq(&r.name);
        if let Some(a) = r.alias.as_mut() {
            a.dns_name = fq(&a.dns_name);
        }
        r
    }

    /// Route 53: changes in order, DELETEs must match a record exactly (as
    /// Route 53 compares them), and what is stored is the read-back form.
    fn apply(current: &mut Vec<DnsRecord>, changes: &[Change]) {
        for c in changes {
            let same_key = |r: &DnsRecord| {
                r.same_set_as(&c.record) && r.set_identifier == c.record.set_identifier
            };
            match c.action {
                Action::Delete => {
                    let i = current
                        .iter()
                        .position(|r| r.same_as(&c.record))
                        .expect("DELETE must repeat the record exactly");
                    current.remove(i);
                }
                Action::Create => {
                    assert!(!current.iter().any(same_key), "{c}");
                    current.push(as_read_back(&c.record));
                }
                Action::Upsert => {
                    current.retain(|r| !same_key(r));
                    current.push(as_read_back(&c.record));
                }
            }
        }
        // Route 53's rule: simple and weighted sets never share a name and type.
        for r in current.iter() {
            let mixed = current.iter().any(|o| {
                o.name == r.name
                    && o.type_ == r.type_
                    && o.set_identifier.is_some() != r.set_identifier.is_some()
            });
            assert!(!mixed, "simple and weighted {} {} coexist", r.name, r.type_);
        }
    }

    #[test]
    fn identifiers_are_stable_and_short_enough() {
        let ids = ids();
        assert_eq!(ids.old, "kubectl-nlb:web/frontend");
        assert_eq!(ids.new, "kubectl-nlb:web/frontend-cip-off");
        let long = Identifiers::for_services(&"n".repeat(63), &"a".repeat(63), &"b".repeat(63));
        assert!(long.old.len() <= 128 && long.new.len() <= 128);
        // Names that differ only past the cut still get distinct identifiers.
        let (a, b) = (
            format!("q{}", "x".repeat(53)),
            format!("q{}-cip-off", "x".repeat(53)),
        );
        let ids = Identifiers::for_services(&"n".repeat(63), &a, &b);
        assert_ne!(ids.old, ids.new);
        assert!(ids.old.starts_with("kubectl-nlb:nnn"));
    }

    #[test]
    fn a_whole_switch_of_an_alias_record_then_a_collapse() {
        let old = lb("old-1.elb.amazonaws.com", "ZNLB");
        let new = lb("new-1.elb.amazonaws.com", "ZNLB2");
        let original = alias("www.example.com.", "old-1.elb.amazonaws.com");
        let originals = vec![original.clone()];
        let mut current = originals.clone();

        let batch = convert(&originals, &old, &new, &ids());
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[0].action, Action::Delete);
        apply(&mut current, &batch);
        assert_eq!(
            observed_weights(&originals, &current, &ids()),
            vec![Some((100, 0))]
        );
        let new_record = current
            .iter()
            .find(|r| r.set_identifier.as_deref() == Some(ids().new.as_str()))
            .unwrap();
        // §5.1: the alias names the NLB's canonical hosted zone, not ours.
        let a = new_record.alias.as_ref().unwrap();
        assert_eq!(a.hosted_zone_id, "ZNLB2");
        assert!(a.evaluate_target_health);

        for w in [10u8, 50, 100] {
            apply(&mut current, &shift(&originals, &old, &new, &ids(), w));
            assert_eq!(
                observed_weights(&originals, &current, &ids()),
                vec![Some((100 - i64::from(w), i64::from(w)))]
            );
        }
        let batch = collapse(&originals, &current, &new, &ids()).unwrap();
        apply(&mut current, &batch);
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].set_identifier, None);
        assert_eq!(current[0].targets(), vec!["new-1.elb.amazonaws.com"]);
        assert!(
            collapse(&originals, &current, &new, &ids())
                .unwrap()
                .is_empty()
        );

        // Restoring from the collapsed state, read back as Route 53 answers
        // it, brings the original back exactly.
        let batch = restore(&originals, &current, Some(&new), &ids()).unwrap();
        apply(&mut current, &batch);
        assert_eq!(current.len(), 1);
        assert!(current[0].same_as(&original), "{current:?}");
        assert!(
            restore(&originals, &current, Some(&new), &ids())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_record_put_back_after_the_collapse_is_found() {
        let old = lb("old-1.elb.amazonaws.com", "ZNLB");
        let new = lb("new-1.elb.amazonaws.com", "ZNLB");
        let originals = vec![alias("www.example.com.", "old-1.elb.amazonaws.com")];
        let mut current = originals.clone();
        apply(&mut current, &convert(&originals, &old, &new, &ids()));
        apply(&mut current, &shift(&originals, &old, &new, &ids(), 100));
        let batch = collapse(&originals, &current, &new, &ids()).unwrap();
        apply(&mut current, &batch);
        assert_eq!(collapse_drift(&originals, &current, &new), None);
        let d = collapse_drift(&originals, &originals, &new).unwrap();
        assert!(d.contains("old-1.elb.amazonaws.com"), "{d}");
        assert!(
            collapse_drift(&originals, &[], &new)
                .unwrap()
                .contains("nothing")
        );
    }

    #[test]
    fn edits_made_by_others_between_steps_are_found() {
        let old = lb("old-1.elb.amazonaws.com", "ZNLB");
        let new = lb("new-1.elb.amazonaws.com", "ZNLB");
        let originals = vec![alias("www.example.com.", "old-1.elb.amazonaws.com")];
        let mut current = originals.clone();
        apply(&mut current, &convert(&originals, &old, &new, &ids()));
        apply(&mut current, &shift(&originals, &old, &new, &ids(), 10));
        assert_eq!(drift(&originals, &current, &ids(), &[10, 50]), None);
        // Someone set 70/30: adoptable at 30, and the message says what was written.
        let mut edited = current.clone();
        apply(&mut edited, &shift(&originals, &old, &new, &ids(), 30));
        let d = drift(&originals, &edited, &ids(), &[10, 50]).unwrap();
        assert!(
            d.what
                .contains("old 70 / new 30; this switch wrote new 10 or new 50"),
            "{d:?}"
        );
        assert_eq!(d.fix, DriftFix::Adopt(30));
        // A third weighted record: by hand.
        let mut extra = current.clone();
        let mut manual = current[0].clone();
        manual.set_identifier = Some("manual".into());
        manual.weight = Some(5);
        extra.push(manual);
        let d = drift(&originals, &extra, &ids(), &[10]).unwrap();
        assert!(d.what.contains("SetIdentifier manual"), "{d:?}");
        assert_eq!(d.fix, DriftFix::ByHand);
        // The pair replaced by the original: abort finishes undoing it.
        let d = drift(&originals, &originals, &ids(), &[10]).unwrap();
        assert_eq!(d.fix, DriftFix::Abort, "{d:?}");
        // Weights that do not add up to 100 cannot be a step of the switch.
        let mut odd = current.clone();
        for r in &mut odd {
            r.weight = Some(7);
        }
        assert_eq!(
            drift(&originals, &odd, &ids(), &[10]).unwrap().fix,
            DriftFix::ByHand
        );
    }

    #[test]
    fn cname_records_keep_their_ttl_and_get_the_new_name_as_value() {
        let old = lb("old-1.elb.amazonaws.com", "ZNLB");
        let new = lb("new-1.elb.amazonaws.com", "ZNLB");
        let originals = vec![cname("api.example.com.", "old-1.elb.amazonaws.com")];
        let batch = shift(&originals, &old, &new, &ids(), 10);
        assert_eq!(batch.len(), 2);
        for c in &batch {
            assert_eq!(
                c.record.ttl,
                Some(300),
                "a weighted group shares one TTL (§5.3)"
            );
            assert!(c.record.alias.is_none());
        }
        assert_eq!(batch[1].record.values, vec!["new-1.elb.amazonaws.com"]);
        assert_eq!(batch[0].record.weight, Some(90));
        assert_eq!(batch[1].record.weight, Some(10));
    }

    #[test]
    fn dualstack_aliases_stay_dualstack() {
        let new = lb("new-1.elb.amazonaws.com", "ZNLB");
        let original = alias("www.example.com.", "dualstack.old-1.elb.amazonaws.com.");
        let moved = pointing_at(&original, &new);
        assert_eq!(
            moved.alias.unwrap().dns_name,
            "dualstack.new-1.elb.amazonaws.com"
        );
    }

    #[test]
    fn no_batch_ever_sets_both_weights_to_zero() {
        let old = lb("o", "Z");
        let new = lb("n", "Z");
        let originals = vec![alias("a.example.com.", "o")];
        for w in 0..=100u8 {
            let batch = shift(&originals, &old, &new, &ids(), w);
            let sum: i64 = batch.iter().filter_map(|c| c.record.weight).sum();
            assert_eq!(sum, 100);
        }
    }

    #[test]
    fn restore_from_every_state_of_a_switch() {
        let old = lb("old-1.elb.amazonaws.com", "ZNLB");
        let new = lb("new-1.elb.amazonaws.com", "ZNLB");
        // As read from Route 53, so a restore is byte for byte.
        let originals = vec![
            as_read_back(&alias("www.example.com.", "old-1.elb.amazonaws.com")),
            as_read_back(&cname("api.example.com.", "old-1.elb.amazonaws.com")),
        ];
        let mut states = vec![originals.clone()];
        let mut current = originals.clone();
        apply(&mut current, &convert(&originals, &old, &new, &ids()));
        states.push(current.clone());
        for w in [10, 50, 100] {
            apply(&mut current, &shift(&originals, &old, &new, &ids(), w));
            states.push(current.clone());
        }
        let batch = collapse(&originals, &current, &new, &ids()).unwrap();
        apply(&mut current, &batch);
        states.push(current.clone());
        for mut state in states {
            let batch = restore(&originals, &state, Some(&new), &ids()).unwrap();
            apply(&mut state, &batch);
            state.sort_by(|a, b| a.name.cmp(&b.name));
            let mut want = originals.clone();
            want.sort_by(|a, b| a.name.cmp(&b.name));
            assert_eq!(state, want);
        }
    }

    #[test]
    fn foreign_records_stop_restore_and_collapse() {
        let new = lb("new-1.elb.amazonaws.com", "ZNLB");
        let originals = vec![alias("www.example.com.", "old-1.elb.amazonaws.com")];
        let mut foreign = alias("www.example.com.", "elsewhere.example.net");
        foreign.set_identifier = Some("someone-else".into());
        foreign.weight = Some(5);
        let current = vec![foreign];
        let err = restore(&originals, &current, Some(&new), &ids()).unwrap_err();
        assert!(err.contains("someone-else"), "{err}");
        assert!(collapse(&originals, &current, &new, &ids()).is_err());
    }
}
