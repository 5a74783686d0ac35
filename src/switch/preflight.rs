//! Pure checks made before a switch writes anything: which records move,
//! whether another controller owns them, what the new Service is called.

use crate::model::{DnsRecord, normalize_dns};
use std::collections::BTreeMap;

/// Annotation prefixes of external-dns: GA since v0.22.0, alpha before
/// (domain.md §6).
pub const EXTERNAL_DNS_PREFIXES: &[&str] = &[
    "external-dns.kubernetes.io/",
    "external-dns.alpha.kubernetes.io/",
];

/// The simple records, in every zone searched, that send clients to `lb_dns`
/// (none is not an error: see [`no_record`]); `record` narrows them to one
/// name and must match. Refuses what a weighted switch cannot
/// take over: records already weighted (or under another routing policy),
/// and matches in more than one zone.
pub fn records_to_move(
    all: &[DnsRecord],
    lb_dns: &str,
    record: Option<&str>,
) -> Result<Vec<DnsRecord>, String> {
    let lb = normalize_dns(lb_dns);
    let wanted = record.map(crate::model::record_name_key);
    let pointing: Vec<&DnsRecord> = all
        .iter()
        .filter(|r| r.targets().contains(&lb))
        .filter(|r| {
            wanted
                .as_ref()
                .is_none_or(|w| crate::model::record_name_key(&r.name) == *w)
        })
        .collect();
    if pointing.is_empty() {
        return match &wanted {
            Some(w) => Err(format!(
                "no A, AAAA or CNAME record named {w} points at {lb}; check --record and --zone"
            )),
            None => Ok(Vec::new()),
        };
    }
    if let Some(r) = pointing.iter().find(|r| r.set_identifier.is_some()) {
        return Err(format!(
            "{} {} already has a routing policy (SetIdentifier {}); kubectl nlb only converts simple records. Move it by hand, or make it a simple record first",
            r.name,
            r.type_,
            r.set_identifier.as_deref().unwrap_or_default()
        ));
    }
    let mut zones: Vec<(&str, &str)> = pointing
        .iter()
        .map(|r| (r.zone_id.as_str(), r.zone_name.as_str()))
        .collect();
    zones.sort();
    zones.dedup();
    if zones.len() > 1 {
        return Err(format!(
            "records pointing at {lb} are in {} hosted zones ({}); switch one zone at a time with --zone ID",
            zones.len(),
            zones
                .iter()
                .map(|(id, name)| format!("{id} {name}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut out: Vec<DnsRecord> = pointing.into_iter().cloned().collect();
    out.sort_by(|a, b| (&a.name, &a.type_).cmp(&(&b.name, &b.type_)));
    Ok(out)
}

/// Why a switch cannot move clients when no record points at the NLB.
pub fn no_record(lb_dns: &str) -> String {
    format!(
        "no Route 53 record in the zones searched points at {}, so clients use the NLB's own hostname and a DNS switch cannot move them; name the record with --record and --zone if it lives in a zone you did not search",
        normalize_dns(lb_dns)
    )
}

/// Why external-dns appears to own these records, if it does: external-dns
/// annotations on the Service, or its TXT ownership records next to a record
/// (`heritage=external-dns`, named like the record with an optional type
/// prefix such as `a-` or `cname-`, §6). Editing such records directly would
/// fight it: it reverts weights on its next sync.
pub fn external_dns_owner(
    service: &str,
    annotations: &BTreeMap<String, String>,
    zone_records: &[DnsRecord],
    moving: &[DnsRecord],
) -> Option<String> {
    if let Some(key) = annotations
        .keys()
        .find(|k| EXTERNAL_DNS_PREFIXES.iter().any(|p| k.starts_with(p)))
    {
        return Some(format!(
            "service {service} has the external-dns annotation {key}"
        ));
    }
    for record in moving {
        let name = normalize_dns(&record.name);
        let owner = zone_records.iter().find(|txt| {
            txt.type_ == "TXT"
                && txt
                    .values
                    .iter()
                    .any(|v| v.contains("heritage=external-dns"))
                && txt_may_speak_for(&normalize_dns(&txt.name), &name)
        });
        if let Some(txt) = owner {
            // Name the owner and the object asking for the name, as the
            // registry records them, so the user knows where to act.
            let labels = txt
                .values
                .iter()
                .find_map(|v| crate::external_dns::labels(v));
            let whose = labels
                .map(|l| {
                    format!(
                        ", owner {}, for {}",
                        l.get("owner").map(String::as_str).unwrap_or("?"),
                        l.get("resource")
                            .map(String::as_str)
                            .unwrap_or("an unrecorded object")
                    )
                })
                .unwrap_or_default();
            return Some(format!(
                "{} is owned by external-dns (TXT record {}{whose})",
                record.name, txt.name
            ));
        }
    }
    None
}

/// Whether a registry TXT named `txt` may speak for the record `name`,
/// whatever the installation's affixes (registry/mapper/mapper.go): the
/// name itself (old format), behind a prefix (`a-www.example.com`,
/// `edns-a-www.example.com`, `a-owner.www.example.com`), or with a suffix on
/// its first label (`a-www-sfx.example.com`, QA round 2: missed before). Errs
/// on the side of "owned": a refusal names the TXT record it saw.
fn txt_may_speak_for(txt: &str, name: &str) -> bool {
    if txt == name || txt.ends_with(&format!("-{name}")) || txt.ends_with(&format!(".{name}")) {
        return true;
    }
    // A suffix: the first label carries it; the parent domain is the same.
    let Some((first, parent)) = name.split_once('.') else {
        return false;
    };
    let Some(head) = txt.strip_suffix(&format!(".{parent}")) else {
        return false;
    };
    let boundary = |c: Option<char>| c.is_none_or(|c| c == '-' || c == '.');
    head.match_indices(first).any(|(i, _)| {
        boundary(head[..i].chars().next_back()) && boundary(head[i + first.len()..].chars().next())
    })
}

/// `frontend` → `frontend-cip-off` (or `-cip-on`); a previous cutover's suffix
/// is replaced, so flipping back does not stack suffixes.
pub fn default_new_name(name: &str, preserve_client_ip: bool) -> String {
    let base = name
        .strip_suffix("-cip-on")
        .or_else(|| name.strip_suffix("-cip-off"))
        .unwrap_or(name);
    let suffix = if preserve_client_ip {
        "-cip-on"
    } else {
        "-cip-off"
    };
    let mut base = base.to_string();
    base.truncate(63 - suffix.len());
    let base = base.trim_end_matches('-');
    format!("{base}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AliasTarget;

    fn rec(zone: &str, name: &str, type_: &str, target: &str) -> DnsRecord {
        let alias = (type_ != "CNAME" && type_ != "TXT").then(|| AliasTarget {
            hosted_zone_id: "ZNLB".into(),
            dns_name: target.into(),
            evaluate_target_health: true,
        });
        DnsRecord {
            zone_id: zone.into(),
            zone_name: format!("{zone}.example"),
            name: name.into(),
            type_: type_.into(),
            values: if alias.is_none() {
                vec![target.into()]
            } else {
                vec![]
            },
            ttl: alias.is_none().then_some(300),
            alias,
            ..Default::default()
        }
    }

    const LB: &str = "k8s-web-frontend-1.elb.amazonaws.com";

    #[test]
    fn finds_alias_and_cname_records_for_the_nlb() {
        let all = vec![
            rec(
                "Z1",
                "www.example.com.",
                "A",
                "k8s-web-frontend-1.elb.amazonaws.com.",
            ),
            rec(
                "Z1",
                "www.example.com.",
                "AAAA",
                "dualstack.k8s-web-frontend-1.elb.amazonaws.com.",
            ),
            rec(
                "Z1",
                "api.example.com.",
                "CNAME",
                "K8S-web-frontend-1.elb.amazonaws.com",
            ),
            rec(
                "Z1",
                "other.example.com.",
                "A",
                "elsewhere.elb.amazonaws.com",
            ),
        ];
        let got = records_to_move(&all, LB, None).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|r| format!("{} {}", r.name, r.type_))
            .collect();
        assert_eq!(
            names,
            [
                "api.example.com. CNAME",
                "www.example.com. A",
                "www.example.com. AAAA"
            ]
        );
        let got = records_to_move(&all, LB, Some("WWW.example.com")).unwrap();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn no_record_is_empty_and_weighted_records_or_two_zones_are_refused() {
        assert_eq!(records_to_move(&[], LB, None), Ok(vec![]));
        assert!(no_record(LB).contains("clients use the NLB's own hostname"));
        let all = vec![rec("Z1", "www.example.com.", "A", LB)];
        let wrong = records_to_move(&all, LB, Some("api.example.com")).unwrap_err();
        assert!(wrong.contains("api.example.com"), "{wrong}");

        let mut weighted = rec("Z1", "www.example.com.", "A", LB);
        weighted.set_identifier = Some("blue".into());
        weighted.weight = Some(1);
        let err = records_to_move(&[weighted], LB, None).unwrap_err();
        assert!(err.contains("SetIdentifier blue"), "{err}");

        let two = vec![
            rec("Z1", "www.example.com.", "A", LB),
            rec("Z2", "www.example.com.", "A", LB),
        ];
        let err = records_to_move(&two, LB, None).unwrap_err();
        assert!(
            err.contains("2 hosted zones") && err.contains("--zone"),
            "{err}"
        );
    }

    #[test]
    fn registry_txt_names_are_recognised_whatever_the_affixes() {
        for txt in [
            "www.example.com",
            "a-www.example.com",
            "edns-a-www.example.com",
            "a-owner.www.example.com",
            "a-www-sfx.example.com",
            "www-a.example.com",
            "cname-www.sfx.example.com",
        ] {
            assert!(txt_may_speak_for(txt, "www.example.com"), "{txt}");
        }
        for txt in [
            "a-www2.example.com",
            "a-api.example.com",
            "a-www.example.org",
            "xwww.example.com",
        ] {
            assert!(!txt_may_speak_for(txt, "www.example.com"), "{txt}");
        }
        assert!(txt_may_speak_for(
            "a-my-app-sfx.example.com",
            "my-app.example.com"
        ));
    }

    #[test]
    fn external_dns_is_recognised_by_annotation_or_txt_owner() {
        let moving = vec![rec("Z1", "www.example.com.", "A", LB)];
        for key in [
            "external-dns.alpha.kubernetes.io/hostname",
            "external-dns.kubernetes.io/hostname",
        ] {
            let ann = BTreeMap::from([(key.to_string(), "www.example.com".to_string())]);
            let why = external_dns_owner("web/frontend", &ann, &[], &moving).unwrap();
            assert!(why.contains(key), "{why}");
        }
        let ann = BTreeMap::new();
        assert_eq!(external_dns_owner("web/frontend", &ann, &[], &moving), None);
        for txt_name in [
            "a-www.example.com.",
            "www.example.com.",
            "cname-www.example.com.",
        ] {
            let mut txt = rec("Z1", txt_name, "TXT", "");
            txt.values = vec!["\"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/web/frontend\"".into()];
            let why = external_dns_owner("web/frontend", &ann, &[txt], &moving).unwrap();
            assert!(why.contains("owned by external-dns"), "{why}");
            assert!(
                why.contains("owner default, for service/web/frontend"),
                "{why}"
            );
        }
        let mut unrelated = rec("Z1", "a-www.example.com.", "TXT", "");
        unrelated.values = vec!["\"v=spf1 -all\"".into()];
        assert_eq!(
            external_dns_owner("web/frontend", &ann, &[unrelated], &moving),
            None
        );
    }

    #[test]
    fn new_names_flip_suffixes_and_fit_a_label() {
        assert_eq!(default_new_name("frontend", false), "frontend-cip-off");
        assert_eq!(
            default_new_name("frontend-cip-off", true),
            "frontend-cip-on"
        );
        assert_eq!(
            default_new_name("frontend-cip-on", false),
            "frontend-cip-off"
        );
        let long = default_new_name(&"a".repeat(63), true);
        assert_eq!(long.len(), 63);
        assert!(crate::names::service(&long).is_ok());
    }
}
