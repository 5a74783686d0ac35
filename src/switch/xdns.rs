//! The switch through external-dns (issue 14), decided as data: which
//! annotations change on which Service, in which order, and what Route 53
//! must show after each change before the next one is made.
//!
//! external-dns writes weighted records from a Service's `set-identifier`
//! and `aws-weight` annotations (provider/aws/aws.go, `providerSpecific`
//! properties) and owns each record through a TXT record naming the
//! Service. Route 53 refuses a simple and a weighted record of the same
//! name and type together ("RRSet … cannot be created because a non
//! multivalue answer rrset exists with the same name and type",
//! ChangeResourceRecordSets), so every change below leaves a state
//! external-dns can write in one batch: the old Service's record becomes
//! weighted *before* the new Service asks for the name, and on the way out
//! the old Service lets go of the name *before* the new one drops its
//! weight (the last record standing becomes simple again).

use super::dns::{Identifiers, LbTarget};
use crate::model::DnsRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a switch through external-dns journals when it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XdnsState {
    pub keys: Keys,
    /// The name both Services ask for (the hostname annotation's value).
    pub hostname: String,
    /// The old Service's values of `keys.all()` before the switch, restored
    /// exactly by an abort (absent keys stay absent).
    pub original: BTreeMap<String, String>,
    /// `namespace/name` of the external-dns Deployment, for messages.
    pub deployment: String,
    /// How long external-dns may take to apply one change: three of its
    /// `--interval` plus a minute (a pass, a retried batch, and Route 53).
    pub wait_secs: u64,
}

/// The wait for one change, from `--interval` (external-dns's default is
/// one minute, pkg/apis/externaldns/types.go `Interval`).
pub fn wait_secs(interval: Option<std::time::Duration>) -> u64 {
    3 * interval.map(|d| d.as_secs()).unwrap_or(60) + 60
}

fn host_key(name: &str) -> String {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n.strip_prefix("dualstack.")
        .map(str::to_string)
        .unwrap_or(n)
}

fn points_at(r: &DnsRecord, lb: &LbTarget) -> bool {
    r.targets()
        .iter()
        .any(|t| host_key(t) == host_key(&lb.dns_name))
}

/// Whether Route 53 shows `expect` for every original record's name and
/// type (`current` holds the records of those names; TXT ignored).
pub fn shows(
    expect: &Expect,
    original: &[DnsRecord],
    current: &[DnsRecord],
    ids: &Identifiers,
    old: &LbTarget,
    new: Option<&LbTarget>,
) -> bool {
    original.iter().all(|o| {
        let same: Vec<&DnsRecord> = current
            .iter()
            .filter(|r| host_key(&r.name) == host_key(&o.name) && r.type_ == o.type_)
            .collect();
        let weighted = |r: &DnsRecord, id: &str, w: u8, lb: Option<&LbTarget>| {
            r.set_identifier.as_deref() == Some(id)
                && r.weight == Some(i64::from(w))
                && lb.is_some_and(|lb| points_at(r, lb))
        };
        match expect {
            Expect::Original => same.len() == 1 && same[0].same_as(o),
            Expect::OldWeighted(w) => same.len() == 1 && weighted(same[0], &ids.old, *w, Some(old)),
            Expect::NewWeighted(w) => same.len() == 1 && weighted(same[0], &ids.new, *w, new),
            Expect::Pair(a, b) => {
                same.len() == 2
                    && same.iter().any(|r| weighted(r, &ids.old, *a, Some(old)))
                    && same.iter().any(|r| weighted(r, &ids.new, *b, new))
            }
            Expect::SimpleToNew => {
                same.len() == 1
                    && same[0].set_identifier.is_none()
                    && new.is_some_and(|lb| points_at(same[0], lb))
            }
        }
    })
}

/// `Expect` in words, for progress lines and errors.
pub fn describe(expect: &Expect) -> String {
    match expect {
        Expect::Original => "the original record".into(),
        Expect::OldWeighted(w) => format!("the old NLB's weighted record alone (weight {w})"),
        Expect::NewWeighted(w) => format!("the new NLB's weighted record alone (weight {w})"),
        Expect::Pair(a, b) => format!("weights old {a} / new {b}"),
        Expect::SimpleToNew => "a simple record to the new NLB".into(),
    }
}

/// The annotation keys of one external-dns installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keys {
    /// `external-dns.alpha.kubernetes.io/` (before v0.22) or
    /// `external-dns.kubernetes.io/`.
    pub prefix: String,
}

impl Keys {
    pub fn hostname(&self) -> String {
        format!("{}hostname", self.prefix)
    }
    pub fn set_identifier(&self) -> String {
        format!("{}set-identifier", self.prefix)
    }
    pub fn weight(&self) -> String {
        format!("{}aws-weight", self.prefix)
    }
    /// Every key the switch may write, for restoring them exactly.
    pub fn all(&self) -> [String; 3] {
        [self.hostname(), self.set_identifier(), self.weight()]
    }
}

/// Which Service an annotation change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Old,
    New,
}

/// What Route 53 must show once external-dns applied a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// The original records, exactly (simple, to the old NLB).
    Original,
    /// Only the old Service's weighted record(s), at this weight.
    OldWeighted(u8),
    /// The weighted pair: old NLB, new NLB.
    Pair(u8, u8),
    /// Only the new Service's weighted record(s).
    NewWeighted(u8),
    /// Simple record(s) to the new NLB.
    SimpleToNew,
}

/// One annotation change (`None` removes the key), then what to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub side: Side,
    pub annotations: BTreeMap<String, Option<String>>,
    pub expect: Expect,
}

/// The two set identifiers and the name both Services ask for.
pub struct Names<'a> {
    pub keys: &'a Keys,
    pub hostname: &'a str,
    pub old_id: &'a str,
    pub new_id: &'a str,
}

fn change(side: Side, pairs: &[(String, Option<String>)], expect: Expect) -> Change {
    Change {
        side,
        annotations: pairs.iter().cloned().collect(),
        expect,
    }
}

/// Simple → weighted pair (old 100, new 0): the old record first.
pub fn convert(n: &Names) -> Vec<Change> {
    let k = n.keys;
    vec![
        change(
            Side::Old,
            &[
                (k.set_identifier(), Some(n.old_id.to_string())),
                (k.weight(), Some("100".into())),
            ],
            Expect::OldWeighted(100),
        ),
        change(
            Side::New,
            &[
                (k.hostname(), Some(n.hostname.to_string())),
                (k.set_identifier(), Some(n.new_id.to_string())),
                (k.weight(), Some("0".into())),
            ],
            Expect::Pair(100, 0),
        ),
    ]
}

/// New weights on both Services, in two changes external-dns applies in
/// turn. Any pair of weights is a valid state, and either order keeps the
/// new NLB's share between the two steps'; the order chosen keeps it at the
/// lower of the two possible: raising the new NLB, the old one is lowered
/// first; lowering it (a rollback), the new one goes first.
pub fn shift(n: &Names, from: u8, to: u8) -> Vec<Change> {
    let k = n.keys;
    let old = change(
        Side::Old,
        &[(k.weight(), Some((100 - to).to_string()))],
        Expect::Pair(100 - to, from),
    );
    let new = change(
        Side::New,
        &[(k.weight(), Some(to.to_string()))],
        Expect::Pair(100 - to, to),
    );
    if to >= from {
        // Raising the new NLB: lower the old one first.
        vec![old, new]
    } else {
        let mut new_first = new;
        new_first.expect = Expect::Pair(100 - from, to);
        let mut old_then = old;
        old_then.expect = Expect::Pair(100 - to, to);
        vec![new_first, old_then]
    }
}

/// Weighted pair → simple record to the new NLB: the old Service lets go
/// of the name, then the new one drops its weight.
pub fn collapse(n: &Names, weight: u8) -> Vec<Change> {
    let k = n.keys;
    vec![
        change(
            Side::Old,
            &k.all().map(|key| (key, None)),
            Expect::NewWeighted(weight),
        ),
        change(
            Side::New,
            &[(k.set_identifier(), None), (k.weight(), None)],
            Expect::SimpleToNew,
        ),
    ]
}

/// Back to the original: the new Service lets go of the name first, then
/// the old one gets its annotations exactly as they were (external-dns
/// then turns its weighted record back into the simple one).
pub fn restore(n: &Names, original: &BTreeMap<String, String>, old_weight: u8) -> Vec<Change> {
    let k = n.keys;
    let back: Vec<(String, Option<String>)> = k
        .all()
        .into_iter()
        .map(|key| {
            let v = original.get(&key).cloned();
            (key, v)
        })
        .collect();
    vec![
        change(
            Side::New,
            &k.all().map(|key| (key, None)),
            Expect::OldWeighted(old_weight),
        ),
        change(Side::Old, &back, Expect::Original),
    ]
}

/// An abort after the collapse began, when the old Service no longer asks
/// for the name: it asks again, weighted, before the new one lets go, so
/// the name is answered throughout (the new record weighted at 0, then the
/// pair old 100 / new 0; `restore` goes on from there).
pub fn reclaim(n: &Names) -> Vec<Change> {
    let k = n.keys;
    vec![
        change(
            Side::New,
            &[
                (k.set_identifier(), Some(n.new_id.to_string())),
                (k.weight(), Some("0".into())),
            ],
            Expect::NewWeighted(0),
        ),
        change(
            Side::Old,
            &[
                (k.hostname(), Some(n.hostname.to_string())),
                (k.set_identifier(), Some(n.old_id.to_string())),
                (k.weight(), Some("100".into())),
            ],
            Expect::Pair(100, 0),
        ),
    ]
}

/// What the preflight knows about the name and external-dns.
pub struct Facts<'a> {
    pub service: &'a str,
    /// `--policy` (default sync before v0.22).
    pub policy: Option<&'a str>,
    /// v0.22 or later without `--policy`: it refuses to start
    /// (controller/execute.go:155-158, "unknown policy").
    pub policy_required: bool,
    /// The installation watches Services (`--source=service`).
    pub watches_services: bool,
    /// Its domain filters (empty: every zone).
    pub domain_filters: &'a [String],
    pub zone_name: &'a str,
    /// `external-dns/resource` of the TXT record that owns the name.
    pub resource: Option<&'a str>,
    /// `external-dns/owner` of that record, and the installation's owner id.
    pub record_owner: Option<&'a str>,
    pub owner_id: &'a str,
    /// A record of the name that external-dns does not own (a hand-made one).
    pub hand_made: bool,
    /// The Service asks for the name through the hostname annotation.
    pub annotated: bool,
}

/// Everything that stops the switch through external-dns, all at once.
pub fn blockers(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    if f.policy.is_none() && f.policy_required {
        out.push("external-dns runs without --policy, and from v0.22 it does not start without one (\"unknown policy\"): give it --policy=sync".into());
    }
    match f.policy.unwrap_or("sync") {
        "sync" => {}
        other => out.push(format!(
            "external-dns runs with --policy={other}: it would not delete the simple record the switch replaces (Route 53 refuses a simple and a weighted record of one name together); run it with --policy=sync for the switch, or cut over with the name out of its scope"
        )),
    }
    if !f.watches_services {
        out.push("external-dns does not watch Services (--source=service): it would not see the annotations the switch writes".into());
    }
    let zone = f.zone_name.trim_end_matches('.');
    if !f.domain_filters.is_empty()
        && !f.domain_filters.iter().any(|d| {
            zone == d.trim_end_matches('.')
                || zone.ends_with(&format!(".{}", d.trim_end_matches('.')))
        })
    {
        out.push(format!(
            "external-dns's --domain-filter ({}) leaves out zone {zone}",
            f.domain_filters.join(", ")
        ));
    }
    if let Some(owner) = f.record_owner
        && owner != f.owner_id
    {
        out.push(format!(
            "the record is owned by external-dns owner id {owner}, and this external-dns is {}: the other installation would fight the switch",
            f.owner_id
        ));
    }
    let mine = format!("service/{}", f.service);
    match f.resource {
        Some(r) if r == mine => {}
        Some(r) => out.push(format!(
            "the record belongs to {r}, not to service {}: move it from there",
            f.service
        )),
        None => out.push(format!(
            "the TXT ownership record does not say which object asked for the name (external-dns before v0.8 wrote none): add the hostname annotation to service {} and let external-dns take the record over first",
            f.service
        )),
    }
    if !f.annotated {
        out.push(format!(
            "service {} does not ask for the name through the hostname annotation",
            f.service
        ));
    }
    if f.hand_made {
        out.push("the name also has a record external-dns does not own: remove one of the two claims first".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(keys: &Keys) -> Names<'_> {
        Names {
            keys,
            hostname: "www.example.com",
            old_id: "kubectl-nlb:web/frontend:old",
            new_id: "kubectl-nlb:web/frontend:new",
        }
    }

    fn keys() -> Keys {
        Keys {
            prefix: "external-dns.alpha.kubernetes.io/".into(),
        }
    }

    /// Replays changes over two annotation maps and checks that no state
    /// has a simple and a weighted claim on the name at once.
    fn replay(
        changes: &[Change],
        old: &mut BTreeMap<String, String>,
        new: &mut BTreeMap<String, String>,
    ) {
        let k = keys();
        for c in changes {
            let target = match c.side {
                Side::Old => &mut *old,
                Side::New => &mut *new,
            };
            for (key, v) in &c.annotations {
                match v {
                    Some(v) => target.insert(key.clone(), v.clone()),
                    None => target.remove(key),
                };
            }
            let claims: Vec<bool> = [&*old, &*new]
                .iter()
                .filter(|a| a.contains_key(&k.hostname()))
                .map(|a| a.contains_key(&k.set_identifier()))
                .collect();
            let mixed = claims.len() == 2 && claims[0] != claims[1];
            let two_simple = claims.len() == 2 && claims.iter().all(|w| !w);
            assert!(
                !mixed && !two_simple,
                "after {c:?}: old {old:?} new {new:?}"
            );
        }
    }

    #[test]
    fn every_intermediate_state_is_one_external_dns_can_write() {
        let k = keys();
        let n = names(&k);
        let mut old = BTreeMap::from([(k.hostname(), "www.example.com".to_string())]);
        let original = old.clone();
        let mut new = BTreeMap::new();
        replay(&convert(&n), &mut old, &mut new);
        assert_eq!(old.get(&k.weight()).map(String::as_str), Some("100"));
        assert_eq!(new.get(&k.weight()).map(String::as_str), Some("0"));
        for (from, to) in [(0, 10), (10, 50), (50, 100), (100, 50)] {
            replay(&shift(&n, from, to), &mut old, &mut new);
            assert_eq!(new.get(&k.weight()), Some(&to.to_string()));
            assert_eq!(old.get(&k.weight()), Some(&(100 - to).to_string()));
        }
        let (mut o2, mut n2) = (old.clone(), new.clone());
        replay(&collapse(&n, 50), &mut o2, &mut n2);
        assert!(o2.is_empty(), "the old Service no longer asks: {o2:?}");
        assert_eq!(
            n2,
            BTreeMap::from([(k.hostname(), "www.example.com".to_string())])
        );
        replay(&restore(&n, &original, 50), &mut old, &mut new);
        assert_eq!(old, original, "exactly as before");
        assert!(new.is_empty());
        // An abort after the collapse: the old Service asks again first.
        replay(&reclaim(&n), &mut o2, &mut n2);
        assert_eq!(o2.get(&k.weight()).map(String::as_str), Some("100"));
        replay(&restore(&n, &original, 100), &mut o2, &mut n2);
        assert_eq!(o2, original);
        assert!(n2.is_empty());
    }

    #[test]
    fn the_old_record_turns_weighted_before_the_new_one_appears() {
        let k = keys();
        let c = convert(&names(&k));
        assert_eq!(c[0].side, Side::Old);
        assert_eq!(c[0].expect, Expect::OldWeighted(100));
        assert_eq!(c[1].side, Side::New);
        assert_eq!(c[1].expect, Expect::Pair(100, 0));
        let back = collapse(&names(&k), 100);
        assert_eq!((back[0].side, back[1].side), (Side::Old, Side::New));
        assert_eq!(back[1].expect, Expect::SimpleToNew);
        let undo = restore(&names(&k), &BTreeMap::new(), 90);
        assert_eq!((undo[0].side, undo[1].side), (Side::New, Side::Old));
    }

    #[test]
    fn a_shift_keeps_the_new_nlbs_share_low_in_between() {
        let k = keys();
        let up = shift(&names(&k), 10, 50);
        assert_eq!(up[0].side, Side::Old);
        assert_eq!(up[0].expect, Expect::Pair(50, 10));
        assert_eq!(up[1].expect, Expect::Pair(50, 50));
        let down = shift(&names(&k), 50, 0);
        assert_eq!(down[0].side, Side::New);
        assert_eq!(down[0].expect, Expect::Pair(50, 0));
        assert_eq!(down[1].expect, Expect::Pair(100, 0));
    }

    fn facts<'a>(filters: &'a [String]) -> Facts<'a> {
        Facts {
            service: "web/frontend",
            policy: None,
            policy_required: false,
            watches_services: true,
            domain_filters: filters,
            zone_name: "example.com.",
            resource: Some("service/web/frontend"),
            record_owner: Some("default"),
            owner_id: "default",
            hand_made: false,
            annotated: true,
        }
    }

    #[test]
    fn a_record_of_this_service_under_a_syncing_external_dns_has_no_blocker() {
        assert!(blockers(&facts(&[])).is_empty());
        let ok = vec!["example.com".to_string()];
        assert!(blockers(&facts(&ok)).is_empty());
    }

    #[test]
    fn every_refusal_is_reported_at_once() {
        let other = vec!["example.org".to_string()];
        let mut f = facts(&other);
        f.policy = Some("upsert-only");
        f.watches_services = false;
        f.resource = Some("ingress/web/site");
        f.record_owner = Some("blue");
        f.hand_made = true;
        f.annotated = false;
        let b = blockers(&f);
        assert_eq!(b.len(), 7, "{b:#?}");
        assert!(b[0].contains("--policy=upsert-only"));
        assert!(b[1].contains("--source=service"));
        assert!(b[2].contains("--domain-filter"));
        assert!(b[3].contains("owner id blue"));
        assert!(b[4].contains("ingress/web/site"));
        assert!(b[5].contains("hostname annotation"));
        assert!(b[6].contains("does not own"));
        let mut unset = facts(&[]);
        unset.policy_required = true;
        assert!(blockers(&unset)[0].contains("does not start"));
        let mut create_only = facts(&[]);
        create_only.policy = Some("create-only");
        assert!(blockers(&create_only)[0].contains("create-only"));
    }
}
