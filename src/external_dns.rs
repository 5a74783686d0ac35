//! external-dns as this tool needs to know it (domain.md §7): how an
//! installation is configured, and which records its TXT registry says it
//! owns, for which Kubernetes object. Pure: the Deployment's image and args
//! and the zone's records come in, facts come out.
//!
//! Read from kubernetes-sigs/external-dns (v0.22.0 and HEAD 2bf1bf8af):
//! - labels in a TXT value: `endpoint/labels.go:60-87` (`NewLabelsFromStringPlain`);
//! - TXT name → record name and type: `registry/mapper/mapper.go`
//!   (`ToEndpointName`, `dropAffixExtractType`, `extractRecordTypeDefaultPosition`);
//! - which TXT a record takes its labels from: `registry/txt/registry.go:229-276`
//!   (key = name, type, set identifier; alias A falls back to the legacy
//!   `cname-` TXT; anything but AAAA falls back to the old, typeless name);
//! - flags and defaults: `pkg/apis/externaldns/types.go` (`txt-owner-id`
//!   "default", registry "txt"; policy "sync" before v0.22.0, no default since),
//!   `source/annotations/annotations.go:22` (prefix `external-dns.kubernetes.io/`
//!   from v0.22.0, `external-dns.alpha.kubernetes.io/` before).
//!
//! Not modelled: encrypted TXT values (`--txt-encrypt-enabled`), the
//! `--txt-wildcard-replacement` of `*`, and registries other than TXT (for
//! those no record is said to be owned).

use crate::model::{DnsRecord, Version};
use serde::Serialize;
use std::collections::BTreeMap;

/// `heritage=external-dns` marks a TXT value as the registry's.
const HERITAGE: &str = "external-dns";
/// The `%{record_type}` template a prefix or suffix may carry.
const TYPE_TEMPLATE: &str = "%{record_type}";
/// The record types the mapper recognises, in its order.
const TYPES: [&str; 10] = [
    "A", "AAAA", "CNAME", "NS", "MX", "PTR", "SRV", "NAPTR", "TXT", "DNAME",
];
/// From this release the annotation prefix lost its `alpha.`.
pub const GA_PREFIX_VERSION: Version = Version::new(0, 22, 0);

/// One external-dns Deployment, as its flags configure it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    pub owner_id: String,
    pub registry: String,
    /// `--policy`; `None` when not given.
    pub policy: Option<String>,
    pub txt_prefix: String,
    pub txt_suffix: String,
    pub annotation_prefix: String,
    pub sources: Vec<String>,
    pub domain_filters: Vec<String>,
    pub interval: Option<String>,
    pub aws_prefer_cname: bool,
}

impl Install {
    /// What the Deployment's image and container args say.
    pub fn from_args(
        namespace: &str,
        name: &str,
        version: Option<Version>,
        args: &[String],
    ) -> Install {
        let values = |flag: &str| crate::k8s::flag_values(args, flag, false);
        let last = |flag: &str| values(flag).pop();
        let default_prefix = match version {
            Some(v) if v < GA_PREFIX_VERSION => "external-dns.alpha.kubernetes.io/",
            _ => "external-dns.kubernetes.io/",
        };
        Install {
            namespace: namespace.into(),
            name: name.into(),
            version: version.map(|v| v.to_string()),
            owner_id: last("txt-owner-id").unwrap_or_else(|| "default".into()),
            registry: last("registry").unwrap_or_else(|| "txt".into()),
            policy: last("policy"),
            txt_prefix: last("txt-prefix").unwrap_or_default(),
            txt_suffix: last("txt-suffix").unwrap_or_default(),
            // The flag exists from v0.20.0 (pkg/apis/externaldns/types.go:614
            // there); older versions know only their default.
            annotation_prefix: last("annotation-prefix")
                .filter(|_| version.is_none_or(|v| v >= Version::new(0, 20, 0)))
                .unwrap_or_else(|| default_prefix.into()),
            sources: values("source"),
            domain_filters: values("domain-filter"),
            interval: last("interval"),
            aws_prefer_cname: crate::k8s::flag_values(args, "aws-prefer-cname", true)
                .last()
                .is_some_and(|v| v != "false"),
        }
    }

    pub fn mapper(&self) -> Mapper {
        let m = Mapper::new(&self.txt_prefix, &self.txt_suffix);
        let old = self
            .version
            .as_deref()
            .and_then(Version::parse)
            .is_some_and(|v| v < GA_PREFIX_VERSION);
        if old { m.without_typed_alias_a() } else { m }
    }
}

/// The labels of a registry TXT value, or `None` when it is not one
/// (no `heritage`, or another heritage).
pub fn labels(value: &str) -> Option<BTreeMap<String, String>> {
    let text = value.trim().trim_matches('"');
    let mut found = false;
    let mut out = BTreeMap::new();
    for token in text.split(',') {
        let Some((key, val)) = token.split_once('=') else {
            continue;
        };
        if key == "heritage" {
            if val != HERITAGE {
                return None;
            }
            found = true;
        } else if let Some(k) = key.strip_prefix(&format!("{HERITAGE}/")) {
            out.insert(k.to_string(), val.to_string());
        }
    }
    found.then_some(out)
}

/// external-dns's `AffixNameMapper`, the reading half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapper {
    prefix: String,
    suffix: String,
    /// Whether an alias A is owned through an `a-` TXT (v0.22 and later,
    /// registry/txt/registry.go:334-354); before, only `cname-` and the
    /// typeless name speak for it (v0.15.0 registry/txt.go:171-174).
    typed_alias_a: bool,
}

impl Mapper {
    pub fn new(prefix: &str, suffix: &str) -> Mapper {
        Mapper {
            prefix: prefix.to_ascii_lowercase(),
            suffix: suffix.to_ascii_lowercase(),
            typed_alias_a: true,
        }
    }

    /// The same mapper for an installation older than v0.22, whose registry
    /// does not read `a-` TXT records for alias A records.
    pub fn without_typed_alias_a(mut self) -> Mapper {
        self.typed_alias_a = false;
        self
    }

    /// The record name and type (`""` for the old, typeless format) a TXT
    /// record named `txt` speaks for; `None` when the affix does not match.
    pub fn endpoint_name(&self, txt: &str) -> Option<(String, String)> {
        let name = txt.to_ascii_lowercase();
        if self.suffix.is_empty() {
            return self.drop_affix(&name);
        }
        if !self.prefix.is_empty() {
            return None;
        }
        // A suffix sits after the first label(s): `a-www-sfx.example.com`.
        let dots = self.suffix.matches('.').count();
        let parts: Vec<&str> = name.splitn(2 + dots, '.').collect();
        if parts.len() <= dots {
            return None;
        }
        let head = parts[..(1 + dots).min(parts.len())].join(".");
        let (r, t) = self.drop_affix(&head)?;
        Some(match parts.get(1 + dots) {
            Some(rest) => (format!("{r}.{rest}"), t),
            None => (r, t),
        })
    }

    fn drop_affix(&self, name: &str) -> Option<(String, String)> {
        let (mut prefix, mut suffix) = (self.prefix.clone(), self.suffix.clone());
        if prefix.contains(TYPE_TEMPLATE) || suffix.contains(TYPE_TEMPLATE) {
            for t in TYPES {
                let lower = t.to_ascii_lowercase();
                let p = prefix.replace(TYPE_TEMPLATE, &lower);
                let s = suffix.replace(TYPE_TEMPLATE, &lower);
                if suffix.is_empty() && name.starts_with(&p) {
                    return Some((name[p.len()..].to_string(), t.to_string()));
                }
                if !suffix.is_empty() && prefix.is_empty() && name.ends_with(&s) {
                    return Some((name[..name.len() - s.len()].to_string(), t.to_string()));
                }
            }
            prefix = prefix.replace(TYPE_TEMPLATE, "");
            suffix = suffix.replace(TYPE_TEMPLATE, "");
        }
        if suffix.is_empty() {
            return name.strip_prefix(&prefix).map(type_in_front);
        }
        name.strip_suffix(&suffix).map(type_in_front)
    }
}

/// `a-www.example.com` → (`www.example.com`, `A`); no known type: typeless.
fn type_in_front(name: &str) -> (String, String) {
    let first = name.split('-').next().unwrap_or_default();
    match TYPES.iter().find(|t| t.eq_ignore_ascii_case(first)) {
        // `TrimPrefix`: a name that is only the type keeps it whole.
        Some(t) => {
            let rest = name.strip_prefix(&format!("{first}-")).unwrap_or(name);
            (rest.to_string(), t.to_string())
        }
        None => (name.to_string(), String::new()),
    }
}

/// What the registry says of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ownership {
    /// `external-dns/owner`: the `--txt-owner-id` of the instance that owns it.
    pub owner_id: Option<String>,
    /// `external-dns/resource`: the object asking for the name, such as
    /// `service/web/frontend`, `ingress/shop/www` or `crd/ns/name`.
    pub resource: Option<String>,
    /// The TXT record that says so.
    pub txt_record: String,
}

impl Ownership {
    /// `external-dns (owner X, service/web/frontend)`.
    pub fn describe(&self) -> String {
        format!(
            "external-dns (owner {}, {})",
            self.owner_id.as_deref().unwrap_or("?"),
            self.resource.as_deref().unwrap_or("object not recorded")
        )
    }
}

/// The registry's labels for `record`, from the TXT records of its zone.
pub fn ownership(record: &DnsRecord, zone: &[DnsRecord], mapper: &Mapper) -> Option<Ownership> {
    let name = plain(&record.name);
    let set = record.set_identifier.as_deref();
    let registry: Vec<(String, String, Option<&str>, Ownership)> = zone
        .iter()
        .filter(|r| r.type_ == "TXT" && r.zone_id == record.zone_id)
        .filter_map(|txt| {
            let found = txt.values.iter().find_map(|v| labels(v))?;
            let (endpoint, type_) = mapper.endpoint_name(&plain(&txt.name))?;
            let owned = Ownership {
                owner_id: found.get("owner").cloned(),
                resource: found.get("resource").cloned(),
                txt_record: txt.name.trim_end_matches('.').to_string(),
            };
            Some((endpoint, type_, txt.set_identifier.as_deref(), owned))
        })
        .collect();
    let find = |type_: &str| {
        registry
            .iter()
            .find(|(n, t, s, _)| *n == name && t == type_ && *s == set)
            .map(|(.., o)| o.clone())
    };
    let alias_a = record.type_ == "A" && record.alias.is_some();
    let typed = if alias_a && !mapper.typed_alias_a {
        None
    } else {
        find(&record.type_)
    };
    typed
        .or_else(|| alias_a.then(|| find("CNAME")).flatten())
        .or_else(|| (record.type_ != "AAAA").then(|| find("")).flatten())
}

/// A record name as external-dns compares it: lower case, no trailing dot.
fn plain(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AliasTarget;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn rec(name: &str, type_: &str, values: &[&str]) -> DnsRecord {
        DnsRecord {
            zone_id: "Z1".into(),
            zone_name: "example.com.".into(),
            name: name.into(),
            type_: type_.into(),
            set_identifier: None,
            weight: None,
            ttl: Some(300),
            alias: None,
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn alias(name: &str) -> DnsRecord {
        let mut r = rec(name, "A", &[]);
        r.alias = Some(AliasTarget {
            hosted_zone_id: "ZNLB".into(),
            dns_name: "k8s-web-frontend-1.elb.amazonaws.com.".into(),
            evaluate_target_health: true,
        });
        r
    }

    const OWNED: &str = "\"heritage=external-dns,external-dns/owner=prod,external-dns/resource=service/web/frontend\"";

    #[test]
    fn before_v0_22_an_a_txt_does_not_own_an_alias_a() {
        let record = alias("www.example.com.");
        let zone = vec![rec("a-www.example.com.", "TXT", &[OWNED])];
        let install =
            |v: &str| Install::from_args("ns", "external-dns", Version::parse(v), &args(&[]));
        assert!(ownership(&record, &zone, &install("v0.22.0").mapper()).is_some());
        assert!(
            ownership(&record, &zone, &install("v0.21.0").mapper()).is_none(),
            "v0.21 reads only cname- for an alias A"
        );
        let cname = vec![rec("cname-www.example.com.", "TXT", &[OWNED])];
        assert!(ownership(&record, &cname, &install("v0.21.0").mapper()).is_some());
    }

    #[test]
    fn annotation_prefix_is_a_flag_only_from_v0_20() {
        let flag = args(&["--annotation-prefix=custom.example.com/"]);
        let at =
            |v: &str| Install::from_args("ns", "e", Version::parse(v), &flag).annotation_prefix;
        assert_eq!(at("v0.20.0"), "custom.example.com/");
        assert_eq!(at("v0.19.0"), "external-dns.alpha.kubernetes.io/");
    }

    #[test]
    fn the_flags_and_their_defaults_are_read_as_external_dns_reads_them() {
        let i = Install::from_args(
            "ops",
            "external-dns",
            Some(Version::new(0, 21, 0)),
            &args(&[
                "--source=service",
                "--source",
                "ingress",
                "--policy=upsert-only",
                "--txt-owner-id",
                "prod",
                "--domain-filter=example.com",
                "--aws-prefer-cname",
            ]),
        );
        assert_eq!(i.sources, vec!["service", "ingress"]);
        assert_eq!(i.policy.as_deref(), Some("upsert-only"));
        assert_eq!(i.owner_id, "prod");
        assert_eq!(i.annotation_prefix, "external-dns.alpha.kubernetes.io/");
        assert!(i.aws_prefer_cname);
        assert_eq!(i.registry, "txt");
        let ga = Install::from_args("ops", "e", Some(Version::new(0, 22, 0)), &[]);
        assert_eq!(ga.annotation_prefix, "external-dns.kubernetes.io/");
        assert_eq!(ga.owner_id, "default");
        assert_eq!(ga.policy, None);
        let custom = Install::from_args("ops", "e", None, &args(&["--annotation-prefix=corp.io/"]));
        assert_eq!(custom.annotation_prefix, "corp.io/");
    }

    #[test]
    fn only_values_with_the_external_dns_heritage_are_labels() {
        let l = labels(OWNED).unwrap();
        assert_eq!(l["owner"], "prod");
        assert_eq!(l["resource"], "service/web/frontend");
        assert_eq!(labels("\"heritage=other,external-dns/owner=x\""), None);
        assert_eq!(labels("\"v=spf1 -all\""), None);
        assert_eq!(labels("\"external-dns/owner=x\""), None, "no heritage");
    }

    #[test]
    fn txt_names_map_back_to_records_as_the_mapper_does() {
        let none = Mapper::new("", "");
        assert_eq!(
            none.endpoint_name("a-www.example.com"),
            Some(("www.example.com".into(), "A".into()))
        );
        assert_eq!(
            none.endpoint_name("cname-api.example.com"),
            Some(("api.example.com".into(), "CNAME".into()))
        );
        assert_eq!(
            none.endpoint_name("www.example.com"),
            Some(("www.example.com".into(), String::new()))
        );
        let prefix = Mapper::new("edns-", "");
        assert_eq!(
            prefix.endpoint_name("edns-a-www.example.com"),
            Some(("www.example.com".into(), "A".into()))
        );
        assert_eq!(prefix.endpoint_name("a-www.example.com"), None);
        let templated = Mapper::new("%{record_type}-owner.", "");
        assert_eq!(
            templated.endpoint_name("aaaa-owner.www.example.com"),
            Some(("www.example.com".into(), "AAAA".into()))
        );
        assert_eq!(
            none.endpoint_name("a"),
            Some(("a".into(), "A".into())),
            "no panic"
        );
        let suffix = Mapper::new("", "-txt");
        assert_eq!(
            suffix.endpoint_name("a-www-txt.example.com"),
            Some(("www.example.com".into(), "A".into()))
        );
    }

    #[test]
    fn a_record_takes_the_labels_of_its_own_txt_then_the_legacy_ones() {
        let m = Mapper::new("", "");
        let www = alias("www.example.com.");
        let zone = vec![www.clone(), rec("a-www.example.com.", "TXT", &[OWNED])];
        let o = ownership(&www, &zone, &m).unwrap();
        assert_eq!(o.owner_id.as_deref(), Some("prod"));
        assert_eq!(o.resource.as_deref(), Some("service/web/frontend"));
        assert_eq!(
            o.describe(),
            "external-dns (owner prod, service/web/frontend)"
        );
        // Alias A records used the cname- TXT before (registry.go:258-268).
        let legacy = vec![www.clone(), rec("cname-www.example.com.", "TXT", &[OWNED])];
        assert!(ownership(&www, &legacy, &m).is_some());
        // The old, typeless TXT counts for all but AAAA.
        let old = vec![www.clone(), rec("www.example.com.", "TXT", &[OWNED])];
        assert!(ownership(&www, &old, &m).is_some());
        let mut v6 = alias("www.example.com.");
        v6.type_ = "AAAA".into();
        assert_eq!(ownership(&v6, &old, &m), None);
        // Another name, or a TXT that is not the registry's: not owned.
        let other = vec![
            rec("a-api.example.com.", "TXT", &[OWNED]),
            rec("www.example.com.", "TXT", &["\"v=spf1\""]),
        ];
        assert_eq!(ownership(&www, &other, &m), None);
    }

    #[test]
    fn weighted_records_are_owned_per_set_identifier() {
        let m = Mapper::new("", "");
        let mut blue = alias("www.example.com.");
        blue.set_identifier = Some("blue".into());
        let mut txt = rec("a-www.example.com.", "TXT", &[OWNED]);
        txt.set_identifier = Some("blue".into());
        let zone = vec![blue.clone(), txt];
        assert!(ownership(&blue, &zone, &m).is_some());
        let mut green = blue.clone();
        green.set_identifier = Some("green".into());
        assert_eq!(ownership(&green, &zone, &m), None);
    }
}
