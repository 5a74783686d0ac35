//! The pure half of the external-dns stand-in ([`crate::external_dns`]): the
//! configuration its Deployment's flags give, the TXT registry, the planner
//! and the AWS provider's change batches. Records and Services come in as
//! [`Endpoint`]s, Route 53 changes come out.
//!
//! Read from kubernetes-sigs/external-dns at v0.22.0 (and v0.15.0 where the
//! versions differ; file:line at those tags):
//! - flags: `pkg/apis/externaldns/types.go` (v0.22.0: `--policy` has no
//!   default, :333, :657, and `controller/execute.go:155-158` refuses to start
//!   without one; v0.15.0 :283 defaults it to `sync`; `--annotation-prefix`
//!   exists from v0.20.0, v0.22.0 :510; `--txt-owner-id` "default", v0.22.0 :376;
//!   `--aws-evaluate-target-health` true, v0.22.0 :241);
//! - the TXT registry: `registry/txt/registry.go` (v0.22.0) and
//!   `registry/txt.go` (v0.15.0), names from `registry/mapper/mapper.go`;
//! - the planner: `plan/plan.go`, `plan/policy.go`, `plan/conflict.go`;
//! - the AWS provider: `provider/aws/aws.go`.

use std::collections::{BTreeMap, BTreeSet};

/// `endpoint.ProviderSpecificAlias` and the AWS provider's property names
/// (`provider/aws/aws.go:53-62` at v0.22.0).
pub const ALIAS: &str = "alias";
pub const EVALUATE_TARGET_HEALTH: &str = "aws/evaluate-target-health";
pub const WEIGHT: &str = "aws/weight";
/// `defaultTTL` (`provider/aws/aws.go:45`).
pub const DEFAULT_TTL: i64 = 300;

/// A release, `v0.15.0` → (0, 15, 0).
pub type Version = (u32, u32, u32);

pub fn parse_version(tag: &str) -> Option<Version> {
    let mut it = tag.trim_start_matches('v').split(['.', '-']);
    let mut n = || it.next()?.parse().ok();
    Some((n()?, n()?, n().unwrap_or(0)))
}

/// `plan.Policies` (`plan/policy.go:25-29`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Sync,
    UpsertOnly,
    CreateOnly,
}

/// What one external-dns Deployment is configured to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub version: Version,
    pub annotation_prefix: String,
    pub policy: Policy,
    pub owner_id: String,
    pub txt_prefix: String,
    pub txt_suffix: String,
    pub sources: Vec<String>,
    pub domain_filters: Vec<String>,
    pub prefer_cname: bool,
    pub evaluate_target_health: bool,
}

impl Config {
    /// The configuration external-dns `version` builds from `args`; `Err`
    /// when it would refuse to start.
    pub fn from_args(version: Version, args: &[String]) -> Result<Config, String> {
        let all = |flag: &str| flag_values(args, flag);
        let last = |flag: &str| all(flag).pop();
        let prefix = match last("annotation-prefix") {
            // kingpin refuses unknown flags; the flag came with v0.20.0.
            Some(_) if version < (0, 20, 0) => {
                return Err("unknown long flag '--annotation-prefix'".into());
            }
            Some(p) => p,
            // `source/annotations/annotations.go:22` (v0.22.0); `source/source.go:45` (v0.15.0).
            None if version >= (0, 22, 0) => "external-dns.kubernetes.io/".into(),
            None => "external-dns.alpha.kubernetes.io/".into(),
        };
        let policy = match last("policy").as_deref() {
            Some("sync") => Policy::Sync,
            Some("upsert-only") => Policy::UpsertOnly,
            Some("create-only") => Policy::CreateOnly,
            None if version < (0, 22, 0) => Policy::Sync,
            other => return Err(format!("unknown policy: {}", other.unwrap_or_default())),
        };
        let on = |flag: &str| {
            args.iter().rev().find_map(|a| match a.strip_prefix("--")? {
                f if f == flag => Some(true),
                f if f == format!("no-{flag}") => Some(false),
                f => Some(f.strip_prefix(&format!("{flag}="))? != "false"),
            })
        };
        Ok(Config {
            version,
            annotation_prefix: prefix,
            policy,
            owner_id: last("txt-owner-id").unwrap_or_else(|| "default".into()),
            txt_prefix: last("txt-prefix").unwrap_or_default().to_ascii_lowercase(),
            txt_suffix: last("txt-suffix").unwrap_or_default().to_ascii_lowercase(),
            sources: all("source"),
            domain_filters: all("domain-filter"),
            prefer_cname: on("aws-prefer-cname").unwrap_or(false),
            evaluate_target_health: on("aws-evaluate-target-health").unwrap_or(true),
        })
    }

    /// `DomainFilter.Match` (`endpoint/domain_filter.go:134-157`, v0.22.0).
    pub fn in_domain(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        let filters: Vec<&str> = self
            .domain_filters
            .iter()
            .map(|f| f.trim_end_matches('.'))
            .collect();
        filters.is_empty()
            || filters.iter().any(|f| {
                (f.starts_with('.') && name.ends_with(f))
                    || name == *f
                    || name.ends_with(&format!(".{f}"))
            })
    }
}

/// The values of `--flag=v` and `--flag v`, in order.
fn flag_values(args: &[String], flag: &str) -> Vec<String> {
    let long = format!("--{flag}");
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix(&format!("{long}=")) {
            out.push(v.to_string());
        } else if *a == long {
            out.extend(it.next().cloned());
        }
    }
    out
}

/// (record name, set identifier) pairs.
pub type Keys = BTreeSet<(String, String)>;

/// `endpoint.Endpoint`, the fields the stand-in uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// Lower case, no trailing dot.
    pub name: String,
    pub type_: String,
    pub targets: Vec<String>,
    /// `None` = not configured.
    pub ttl: Option<i64>,
    /// `""` = none.
    pub set_id: String,
    pub props: BTreeMap<String, String>,
    /// `owner`, `resource` (`endpoint/labels.go`).
    pub labels: BTreeMap<String, String>,
}

impl Endpoint {
    fn owner(&self) -> Option<&str> {
        self.labels.get("owner").map(String::as_str)
    }

    fn is_alias(&self) -> bool {
        self.props.get(ALIAS).is_some_and(|v| v == "true")
    }
}

// --- the AWS provider's view of the desired records ---------------------------

/// `canonicalHostedZones` (`provider/aws/aws.go:85-180`, v0.22.0), the
/// us-west-2 entries the sandbox needs: ELB/ALB-style and NLB-style names.
const CANONICAL_ZONES: [(&str, &str); 2] = [
    ("us-west-2.elb.amazonaws.com", "Z1H1FL5HABSF5"),
    ("elb.us-west-2.amazonaws.com", "Z18D5FSROUN65G"),
];

/// `canonicalHostedZone` (`provider/aws/aws.go:1424-1445`): the zone of the
/// longest matching suffix, `None` for a target that cannot be an alias.
pub fn canonical_zone(target: &str) -> Option<&'static str> {
    let parts: Vec<&str> = target.trim_end_matches('.').split('.').collect();
    (0..parts.len().saturating_sub(1)).rev().find_map(|i| {
        let suffix = parts[i..].join(".");
        CANONICAL_ZONES
            .iter()
            .find(|(s, _)| *s == suffix)
            .map(|(_, z)| *z)
    })
}

/// `AWSProvider.AdjustEndpoints`: a CNAME to an ELB becomes an alias A
/// (`useAlias`, aws.go:1388-1399, unless `--aws-prefer-cname`), with an
/// alias AAAA next to it from v0.16.0 (v0.22.0 aws.go:896-913; v0.16.0
/// aws.go:815-828; v0.15.0 aws.go:728-771 makes the A only). Alias TTLs are
/// `defaultTTL` when configured (aws.go:871-875).
pub fn adjust(cfg: &Config, desired: Vec<Endpoint>) -> Vec<Endpoint> {
    let mut extra = Vec::new();
    let mut out: Vec<Endpoint> = desired
        .into_iter()
        .map(|mut ep| {
            if ep.type_ != "CNAME" {
                return ep;
            }
            let alias = !cfg.prefer_cname
                && ep
                    .targets
                    .first()
                    .is_some_and(|t| canonical_zone(t).is_some());
            ep.props.insert(ALIAS.into(), alias.to_string());
            if alias {
                ep.type_ = "A".into();
                ep.ttl = ep.ttl.map(|_| DEFAULT_TTL);
                ep.props.insert(
                    EVALUATE_TARGET_HEALTH.into(),
                    cfg.evaluate_target_health.to_string(),
                );
                if cfg.version >= (0, 16, 0) {
                    extra.push(Endpoint {
                        type_: "AAAA".into(),
                        ..ep.clone()
                    });
                }
            }
            ep
        })
        .collect();
    out.extend(extra);
    out
}

// --- the TXT registry ---------------------------------------------------------

/// The labels of a registry TXT value (`endpoint/labels.go:60-87`,
/// `NewLabelsFromStringPlain`), `None` without `heritage=external-dns`.
pub fn parse_labels(value: &str) -> Option<BTreeMap<String, String>> {
    let mut heritage = false;
    let mut out = BTreeMap::new();
    for token in value.trim_matches('"').split(',') {
        let Some((k, v)) = token.split_once('=') else {
            continue;
        };
        if k == "heritage" && v != "external-dns" {
            return None;
        }
        heritage |= k == "heritage";
        if let Some(key) = k.strip_prefix("external-dns/") {
            out.insert(key.to_string(), v.to_string());
        }
    }
    heritage.then_some(out)
}

/// `Labels.SerializePlain(true)` (`endpoint/labels.go:108-127`): heritage
/// first, then the keys sorted, quoted.
pub fn serialize_labels(labels: &BTreeMap<String, String>) -> String {
    let mut tokens = vec!["heritage=external-dns".to_string()];
    tokens.extend(labels.iter().map(|(k, v)| format!("external-dns/{k}={v}")));
    format!("\"{}\"", tokens.join(","))
}

/// `AffixNameMapper` without `%{record_type}` templates: the record name
/// and type (`""` for the old, typeless format) a TXT name speaks for
/// (`registry/mapper/mapper.go:69-92`, `:149-196`).
pub fn txt_owner_name(cfg: &Config, txt: &str) -> Option<(String, String)> {
    let name = txt.to_ascii_lowercase();
    let stripped = if cfg.txt_suffix.is_empty() {
        name.strip_prefix(&cfg.txt_prefix)?.to_string()
    } else {
        let (head, rest) = name.split_once('.').unwrap_or((&name, ""));
        let head = head.strip_suffix(&cfg.txt_suffix)?;
        if rest.is_empty() {
            head.to_string()
        } else {
            format!("{head}.{rest}")
        }
    };
    let first = stripped.split('-').next().unwrap_or_default();
    Some(
        match ["A", "AAAA", "CNAME", "NS", "MX", "SRV", "NAPTR", "TXT"]
            .iter()
            .find(|t| t.eq_ignore_ascii_case(first))
        {
            Some(t) => (
                stripped[first.len()..].trim_start_matches('-').to_string(),
                t.to_string(),
            ),
            None => (stripped, String::new()),
        },
    )
}

/// `ToTXTName` (`mapper.go:94-116`): the type in front of the first label,
/// then the affix; `type_` `""` gives the old format (v0.15.0 txt.go:414-428).
pub fn txt_name(cfg: &Config, name: &str, type_: &str) -> String {
    let (first, rest) = name
        .split_once('.')
        .map_or((name, None), |(f, r)| (f, Some(r)));
    let typed = match type_ {
        "" => first.to_string(),
        t => format!("{}-{first}", t.to_ascii_lowercase()),
    };
    let head = format!("{}{typed}{}", cfg.txt_prefix, cfg.txt_suffix);
    rest.map_or(head.clone(), |r| format!("{head}.{r}"))
}

/// The TXT records external-dns `cfg.version` writes for `ep`
/// (`generateTXTRecord`): v0.22.0 registry.go:334-354 writes one, named for
/// the record's own type (`a-` for an alias A); v0.18.0–v0.21.x write one
/// named `cname-` for an alias A; v0.15.0–v0.17.x also write the old,
/// typeless name for all but AAAA (v0.15.0 txt.go:214-242).
pub fn txt_records(cfg: &Config, ep: &Endpoint) -> Vec<Endpoint> {
    let value = serialize_labels(&ep.labels);
    let typed = if ep.is_alias() && ep.type_ == "A" && cfg.version < (0, 22, 0) {
        "CNAME"
    } else {
        ep.type_.as_str()
    };
    let mut names = Vec::new();
    if cfg.version < (0, 18, 0) && ep.type_ != "AAAA" {
        names.push(txt_name(cfg, &ep.name, ""));
    }
    names.push(txt_name(cfg, &ep.name, typed));
    names
        .into_iter()
        .map(|name| Endpoint {
            name,
            type_: "TXT".into(),
            targets: vec![value.clone()],
            ttl: None,
            set_id: ep.set_id.clone(),
            // The TXT carries the record's provider-specific properties, so a
            // weighted record's TXT is weighted too (registry.go:348).
            props: ep.props.clone(),
            labels: BTreeMap::from([("ownedRecord".into(), ep.name.clone())]),
        })
        .collect()
}

/// `TXTRegistry.Records`: the non-TXT records with the labels of their TXT
/// (v0.22.0 registry.go:209-278): key = name, type, set identifier; an alias
/// A falls back to its `cname-` TXT (v0.22.0 :258-269; before v0.22.0 the
/// `cname-` TXT is its own key, v0.15.0 txt.go:171-174); anything but AAAA
/// falls back to the typeless TXT (:271-275). Also the TXT records that
/// exist, by name and set identifier (`existingTXTs`, :94-110), and whether an owned record misses one of the TXT
/// records this version writes (the migration's force-update, :284-297).
pub fn read_registry(cfg: &Config, records: Vec<Endpoint>) -> (Vec<Endpoint>, Keys, Keys) {
    let mut labels = BTreeMap::new();
    let mut txt_names = BTreeSet::new();
    let mut existing = BTreeSet::new();
    let mut plain = Vec::new();
    for r in records {
        let found = (r.type_ == "TXT")
            .then(|| r.targets.first().and_then(|v| parse_labels(v)))
            .flatten();
        match (found, txt_owner_name(cfg, &r.name)) {
            (Some(l), Some((name, type_))) => {
                labels.insert((name, type_, r.set_id.clone()), l);
                txt_names.insert(r.name.clone());
                existing.insert((r.name.clone(), r.set_id.clone()));
            }
            _ => plain.push(r),
        }
    }
    let mut stale = BTreeSet::new();
    for ep in &mut plain {
        let key = |t: &str| (ep.name.clone(), t.to_string(), ep.set_id.clone());
        let own = if ep.is_alias() && ep.type_ == "A" && cfg.version < (0, 22, 0) {
            "CNAME"
        } else {
            &ep.type_
        };
        let mut found = labels.get(&key(own));
        if found.is_none() && ep.is_alias() && ep.type_ == "A" {
            found = labels.get(&key("CNAME"));
        }
        if found.is_none() && ep.type_ != "AAAA" {
            found = labels.get(&key(""));
        }
        ep.labels.extend(found.cloned().unwrap_or_default());
        let missing = txt_records(cfg, ep)
            .iter()
            .any(|t| !txt_names.contains(&t.name));
        if ep.owner() == Some(cfg.owner_id.as_str()) && missing {
            stale.insert((ep.name.clone(), ep.set_id.clone()));
        }
    }
    (plain, existing, stale)
}

// --- the planner ----------------------------------------------------------------

/// `plan.Changes`.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    pub create: Vec<Endpoint>,
    pub update_old: Vec<Endpoint>,
    pub update_new: Vec<Endpoint>,
    pub delete: Vec<Endpoint>,
}

/// `Plan.Calculate` with the `PerResource` resolver. Rows are keyed by
/// name and set identifier (plan.go:137-153), so a simple and a weighted
/// record of one name are two rows. Per row: a name nobody holds is created
/// (plan.go:205-211); a name nothing asks for any more is deleted (:214-215);
/// otherwise per type create/update/delete (:273-298), where creates need
/// every current record of the row to be ours (:251-270). Then the policy
/// (policy.go), then only our records are updated or deleted (:224-230).
/// Only A, AAAA and CNAME are managed, inside the domain filter
/// (plan.go:363-378). `stale` rows are updated even when equal (the TXT
/// registry's `providerSpecificForceUpdate`).
pub fn plan(cfg: &Config, current: Vec<Endpoint>, desired: Vec<Endpoint>, stale: &Keys) -> Changes {
    type Row = (Vec<Endpoint>, Vec<Endpoint>);
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    let managed =
        |e: &Endpoint| ["A", "AAAA", "CNAME"].contains(&e.type_.as_str()) && cfg.in_domain(&e.name);
    for e in current.into_iter().filter(managed) {
        rows.entry((e.name.clone(), e.set_id.clone()))
            .or_default()
            .0
            .push(e);
    }
    for e in desired.into_iter().filter(managed) {
        rows.entry((e.name.clone(), e.set_id.clone()))
            .or_default()
            .1
            .push(e);
    }
    let mut ch = Changes::default();
    for (key, (current, candidates)) in rows {
        plan_row(
            &mut ch,
            current,
            candidates,
            stale.contains(&key),
            &cfg.owner_id,
        );
    }
    ch = match cfg.policy {
        Policy::Sync => ch,
        Policy::UpsertOnly => Changes {
            delete: Vec::new(),
            ..ch
        },
        Policy::CreateOnly => Changes {
            create: ch.create,
            ..Changes::default()
        },
    };
    let ours = |v: Vec<Endpoint>| -> Vec<Endpoint> {
        v.into_iter()
            .filter(|e| e.owner() == Some(cfg.owner_id.as_str()))
            .collect()
    };
    Changes {
        create: ch.create,
        update_old: ours(ch.update_old),
        update_new: ours(ch.update_new),
        delete: ours(ch.delete),
    }
}

fn plan_row(
    ch: &mut Changes,
    current: Vec<Endpoint>,
    candidates: Vec<Endpoint>,
    stale: bool,
    owner: &str,
) {
    let types: BTreeSet<String> = current
        .iter()
        .chain(&candidates)
        .map(|e| e.type_.clone())
        .collect();
    let ours = current.iter().all(|c| c.owner() == Some(owner));
    for t in types {
        let cur = current.iter().find(|e| e.type_ == t);
        let cands: Vec<&Endpoint> = candidates.iter().filter(|e| e.type_ == t).collect();
        match (cur, resolve(cur, &cands)) {
            (Some(c), None) => ch.delete.push(c.clone()),
            (None, Some(d)) if ours => ch.create.push(d),
            (Some(c), Some(mut d)) if stale || differs(&d, c) => {
                // `inheritOwner` (plan.go:315-323).
                d.labels
                    .insert("owner".into(), c.owner().unwrap_or_default().into());
                ch.update_new.push(d);
                ch.update_old.push(c.clone());
            }
            _ => {}
        }
    }
}

/// `PerResource.ResolveUpdate`/`ResolveCreate` (`plan/conflict.go:40-60`):
/// the candidate of the resource that holds the record, else the one with
/// the least targets. CNAME-versus-other conflicts (:65-100) are not modelled.
fn resolve(current: Option<&Endpoint>, cands: &[&Endpoint]) -> Option<Endpoint> {
    let held = current.and_then(|c| c.labels.get("resource"));
    let same = cands
        .iter()
        .find(|e| held.is_some() && e.labels.get("resource") == held);
    same.or_else(|| cands.iter().min_by(|a, b| a.targets.cmp(&b.targets)))
        .map(|e| (*e).clone())
}

/// `shouldUpdateTTL`, `targetChanged`, `providerSpecificChanged` (plan.go:300-354).
fn differs(desired: &Endpoint, current: &Endpoint) -> bool {
    desired.ttl.is_some_and(|t| Some(t) != current.ttl)
        || desired.targets != current.targets
        || desired.props != current.props
}

// --- the AWS provider's change batches -------------------------------------------

/// One Route 53 change, with the record its TXT speaks for (`Route53Change.OwnedRecord`).
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub action: &'static str,
    pub record: Endpoint,
    pub owned_record: String,
}

impl Change {
    /// `UPSERT www.example.com A [blue]`.
    pub fn describe(&self) -> String {
        let set = match self.record.set_id.as_str() {
            "" => String::new(),
            s => format!(" [{s}]"),
        };
        format!(
            "{} {} {}{set}",
            self.action, self.record.name, self.record.type_
        )
    }
}

/// The TXT registry's `ApplyChanges` (v0.22.0 registry.go:358-415) and the
/// AWS provider's (aws.go:707-721, `createUpdateChanges` :664-690): records
/// to create get our owner label and their TXT (v0.22.0 leaves out a TXT
/// that exists with that name and set identifier, :372); deletes and updates carry their TXT; an update that changes
/// type, alias-ness, set identifier or routing policy is a DELETE and a
/// CREATE (`requiresDeleteCreate`, :629-662), the rest UPSERTs.
pub fn route53_changes(cfg: &Config, mut ch: Changes, existing_txt: &Keys) -> Vec<Change> {
    let with_txt = |eps: &[Endpoint], skip_existing: bool| -> Vec<Endpoint> {
        let mut out = eps.to_vec();
        for ep in eps {
            let txts = txt_records(cfg, ep).into_iter();
            out.extend(txts.filter(|t| {
                !(skip_existing && existing_txt.contains(&(t.name.clone(), t.set_id.clone())))
            }));
        }
        out
    };
    for ep in &mut ch.create {
        ep.labels.insert("owner".into(), cfg.owner_id.clone());
    }
    let create = with_txt(&ch.create, cfg.version >= (0, 22, 0));
    let delete = with_txt(&ch.delete, false);
    let (mut replaced_old, mut replaced_new, mut upserts) = (Vec::new(), Vec::new(), Vec::new());
    for (old, new) in ch.update_old.iter().zip(&ch.update_new) {
        if requires_delete_create(old, new) {
            replaced_old.push(old.clone());
            replaced_new.push(new.clone());
        } else {
            upserts.push(new.clone());
        }
    }
    let mut out = changes("CREATE", create);
    out.extend(changes("DELETE", delete));
    out.extend(changes("CREATE", with_txt(&replaced_new, false)));
    out.extend(changes("UPSERT", with_txt(&upserts, false)));
    out.extend(changes("DELETE", with_txt(&replaced_old, false)));
    out
}

fn changes(action: &'static str, eps: Vec<Endpoint>) -> Vec<Change> {
    eps.into_iter()
        .map(|record| Change {
            action,
            owned_record: record
                .labels
                .get("ownedRecord")
                .cloned()
                .unwrap_or_default(),
            record,
        })
        .collect()
}

fn requires_delete_create(old: &Endpoint, new: &Endpoint) -> bool {
    old.type_ != new.type_
        || (old.type_ == "A" && old.props.get(ALIAS) != new.props.get(ALIAS))
        || old.set_id != new.set_id
        || old.props.contains_key(WEIGHT) != new.props.contains_key(WEIGHT)
}

/// `sortChangesByActionNameType` (v0.22.0 aws.go:1276-1295, v0.15.0
/// aws.go:1007-1024): action in descending string order, so UPSERT, DELETE,
/// CREATE; then name, then type. Under the batch limits (1000 changes by
/// default) a zone's changes go in one batch (`batchChangeSet`, :1222-1226).
pub fn sort_batch(mut batch: Vec<Change>) -> Vec<Change> {
    batch.sort_by(|a, b| {
        b.action
            .cmp(a.action)
            .then_with(|| a.record.name.cmp(&b.record.name))
            .then_with(|| a.record.type_.cmp(&b.record.type_))
    });
    batch
}

/// `groupChangesByNameAndOwnershipRelation` (aws.go:1167-1177): a failed
/// batch is sent again as one batch per record name, a TXT with its record
/// (`submitChanges`, aws.go:777-800). The groups that fail again are queued
/// for the next pass, but that queue is matched by pointer
/// (`findChangesInQueue`, aws.go:1143-1162, `slices.Contains` on
/// `[]*Route53Change`), so the next pass simply plans them again.
pub fn groups(batch: &[Change]) -> Vec<Vec<Change>> {
    let mut by: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    for c in batch {
        let key = if c.owned_record.is_empty() {
            c.record.name.clone()
        } else {
            c.owned_record.clone()
        };
        by.entry(key).or_default().push(c.clone());
    }
    by.into_values().collect()
}
