//! Load-balancer attributes, target-group attributes (preserve_client_ip,
//! proxy protocol v2, deregistration delay) and resource tags
//! (domain.md §1.2, §3).

use super::{Agreed, Cx, Severity, agreed, keys};
use crate::annotations as ann;
use crate::classify::{self, ClientIpSeen, TargetType};
use std::collections::BTreeMap;

const CROSS_ZONE_ATTR: &str = "load_balancing.cross_zone.enabled";
const ACCESS_LOGS_ENABLED: &str = "access_logs.s3.enabled";
const ACCESS_LOGS_BUCKET: &str = "access_logs.s3.bucket";
const ACCESS_LOGS_PREFIX: &str = "access_logs.s3.prefix";
const PRESERVE: &str = "preserve_client_ip.enabled";
const PPV2: &str = "proxy_protocol_v2.enabled";
const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";
/// AWS's default deregistration delay (domain.md §7.5).
const DEFAULT_DEREGISTRATION_DELAY: &str = "300";

/// Tags the in-tree provider puts on what it owns, and those the LBC sets
/// itself and will not let annotations override (domain.md §1.1, §2.5).
const CONTROLLER_TAG_PREFIXES: &[&str] = &["kubernetes.io/cluster/"];
const CONTROLLER_TAGS: &[&str] = &[
    "kubernetes.io/service-name",
    "elbv2.k8s.aws/cluster",
    "service.k8s.aws/stack",
    "service.k8s.aws/resource",
];

fn render(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a `k=v,…` annotation the LBC's way; a malformed one is an error.
fn take_map(cx: &mut Cx, key: &str) -> BTreeMap<String, String> {
    let Some(text) = cx.take(key) else {
        return BTreeMap::new();
    };
    match classify::parse_string_map(&text) {
        Ok(pairs) => pairs.into_iter().collect(),
        Err(why) => {
            cx.error(
                "invalid-annotation-value",
                key,
                format!("{why}: the LBC needs k=v pairs and fails to reconcile otherwise; left out of the new Service"),
                "correct the value on the legacy Service (or in the manifest) and run migrate again",
            );
            BTreeMap::new()
        }
    }
}

/// A boolean the in-tree provider reads with strconv.ParseBool.
fn take_bool(cx: &mut Cx, key: &str) -> Option<bool> {
    let raw = cx.take(key)?;
    let parsed = classify::parse_go_bool(raw.trim());
    if parsed.is_none() {
        cx.invalid(key, &raw, "true or false");
    }
    parsed
}

/// Cross-zone and access logs move into `aws-load-balancer-attributes`.
/// The in-tree provider enforces both (off when their annotations are
/// absent); the LBC leaves unnamed attributes alone, so cross-zone is always
/// written, and so is everything the in-tree provider decided that the
/// LBC-only annotation contradicts.
pub(super) fn load_balancer(cx: &mut Cx) {
    let inert = take_map(cx, keys::ATTRIBUTES);

    // What the in-tree provider applied.
    let mut in_tree: BTreeMap<String, String> = BTreeMap::new();
    let annotated = cx.rest.contains_key(keys::CROSS_ZONE);
    let cross_zone = take_bool(cx, keys::CROSS_ZONE);
    let value = cross_zone.unwrap_or(false).to_string();
    in_tree.insert(CROSS_ZONE_ATTR.into(), value.clone());
    if cross_zone.is_some() {
        cx.info(
            "cross-zone-moved",
            keys::CROSS_ZONE,
            format!("deprecated since LBC v2.3; written as {CROSS_ZONE_ATTR}={value} in aws-load-balancer-attributes"),
        );
    } else if !annotated {
        cx.info(
            "cross-zone-explicit",
            keys::ATTRIBUTES,
            format!(
                "{CROSS_ZONE_ATTR}=false written explicitly: the in-tree provider forced it off when the annotation was absent, while the LBC would leave a console change in place"
            ),
        );
    }
    let log_keys = [
        keys::ACCESS_LOG_ENABLED,
        keys::ACCESS_LOG_BUCKET,
        keys::ACCESS_LOG_PREFIX,
    ];
    if log_keys.iter().any(|k| cx.rest.contains_key(*k)) {
        access_logs(cx, &mut in_tree);
    } else if inert.keys().any(|k| k.starts_with("access_logs.")) {
        in_tree.insert(ACCESS_LOGS_ENABLED.into(), "false".into());
    }

    // The LBC-only annotation did nothing; where it contradicts what the
    // in-tree provider applied, the applied value stays.
    let mut attrs = in_tree.clone();
    let mut activated = Vec::new();
    for (k, v) in &inert {
        let controlled = k == CROSS_ZONE_ATTR || k.starts_with("access_logs.");
        if !controlled {
            attrs.insert(k.clone(), v.clone());
            activated.push(format!("{k}={v}"));
        } else if in_tree.get(k) != Some(v) {
            let kept = match in_tree.get(k) {
                Some(t) => format!("keeps {k}={t}"),
                None => "leaves it out".into(),
            };
            cx.warn(
                "attribute-overridden",
                keys::ATTRIBUTES,
                format!(
                    "{k}={v} was ignored by the in-tree provider, which enforced its own value; the new Service {kept}"
                ),
                "change it deliberately after the switch if the other value is wanted",
            );
        }
    }
    if !activated.is_empty() {
        cx.warn(
            "attributes-activated",
            keys::ATTRIBUTES,
            format!(
                "{} were ignored by the in-tree provider (only the LBC reads this annotation) and will apply to the new NLB",
                activated.join(", ")
            ),
            "check each attribute is still wanted; deletion_protection.enabled=true, for one, makes the LBC refuse to delete the Service",
        );
    }

    if cx.lbc_at_least(keys::LBC_MIN_ATTRIBUTES) == Some(false) {
        legacy_attribute_annotations(cx, &mut attrs);
    }
    if !attrs.is_empty() {
        cx.put(keys::ATTRIBUTES, render(&attrs));
    }
}

/// The deprecated access-log annotations, as the in-tree provider applied them.
fn access_logs(cx: &mut Cx, in_tree: &mut BTreeMap<String, String>) {
    let enabled = take_bool(cx, keys::ACCESS_LOG_ENABLED).unwrap_or(false);
    let bucket = cx.take(keys::ACCESS_LOG_BUCKET);
    let prefix = cx.take(keys::ACCESS_LOG_PREFIX);
    in_tree.insert(ACCESS_LOGS_ENABLED.into(), enabled.to_string());
    if !enabled {
        let unused = if bucket.is_some() || prefix.is_some() {
            "; the bucket and prefix are left out because logs are off"
        } else {
            ""
        };
        cx.info(
            "access-logs-moved",
            keys::ACCESS_LOG_ENABLED,
            format!("written as {ACCESS_LOGS_ENABLED}=false in aws-load-balancer-attributes (the LBC maps the old annotations only when they enable logs){unused}"),
        );
        return;
    }
    match bucket {
        Some(b) => {
            in_tree.insert(ACCESS_LOGS_BUCKET.into(), b);
        }
        None => cx.error(
            "access-logs-without-bucket",
            keys::ACCESS_LOG_ENABLED,
            "access logs are enabled but no bucket is named; AWS refuses that, so the in-tree NLB cannot have had logs on",
            "add aws-load-balancer-access-log-s3-bucket-name, or set access-log-enabled to false",
        ),
    }
    if let Some(p) = prefix {
        in_tree.insert(ACCESS_LOGS_PREFIX.into(), p);
    }
    cx.info(
        "access-logs-moved",
        keys::ACCESS_LOG_ENABLED,
        "the deprecated access-log annotations are written as access_logs.s3.* in aws-load-balancer-attributes",
    );
}

/// LBC v2.2 predates `aws-load-balancer-attributes` (domain.md §8.1): it
/// still reads the deprecated annotations, so cross-zone and access logs
/// stay in them.
fn legacy_attribute_annotations(cx: &mut Cx, attrs: &mut BTreeMap<String, String>) {
    let mut moved = Vec::new();
    for (attr, key) in [
        (CROSS_ZONE_ATTR, keys::CROSS_ZONE),
        (ACCESS_LOGS_ENABLED, keys::ACCESS_LOG_ENABLED),
        (ACCESS_LOGS_BUCKET, keys::ACCESS_LOG_BUCKET),
        (ACCESS_LOGS_PREFIX, keys::ACCESS_LOG_PREFIX),
    ] {
        if let Some(v) = attrs.remove(attr) {
            cx.put(key, v);
            moved.push(short(key).to_string());
        }
    }
    let version = cx.lbc_version().map(|v| v.to_string()).unwrap_or_default();
    cx.info(
        "attributes-legacy-annotations",
        keys::ATTRIBUTES,
        format!(
            "the LBC ({version}) predates aws-load-balancer-attributes (v2.3.0), so {} are written as the deprecated annotations it still reads",
            moved.join(", ")
        ),
    );
}

/// What pods saw before, in words.
fn seen(s: ClientIpSeen) -> &'static str {
    match s {
        ClientIpSeen::Client => "the client's address",
        ClientIpSeen::NodeIp => "a node's address (kube-proxy rewrote the source)",
        ClientIpSeen::NlbIp => "the NLB's private address",
    }
}

/// `aws-load-balancer-target-group-attributes`; returns the
/// preserve_client_ip value written.
pub(super) fn target_groups(cx: &mut Cx) -> bool {
    let mut attrs = take_map(cx, ann::TARGET_GROUP_ATTRIBUTES);
    let tgs = cx.target_groups().to_vec();
    let activated: Vec<String> = attrs
        .iter()
        .filter(|(k, _)| ![PRESERVE, PPV2].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();

    // preserve_client_ip: keep what pods saw (domain.md §3). In-tree targets
    // are instances; the legacy provider ignores the annotation, CCM ≥ 1.34
    // applies it, so the live attribute is the truth when known.
    let declared = attrs.get(PRESERVE).and_then(|v| classify::parse_go_bool(v));
    if attrs.contains_key(PRESERVE) && declared.is_none() {
        let raw = attrs.get(PRESERVE).cloned().unwrap_or_default();
        cx.invalid(
            ann::TARGET_GROUP_ATTRIBUTES,
            &format!("{PRESERVE}={raw}"),
            "a boolean",
        );
    }
    let live = match agreed(&tgs, |t| t.attribute_bool(PRESERVE)) {
        Agreed::Several(_) => {
            cx.warn(
                "live-target-groups-differ",
                ann::TARGET_GROUP_ATTRIBUTES,
                format!(
                    "the live target groups disagree on {PRESERVE} (edited out of band), so pods saw different addresses on different ports; the value follows externalTrafficPolicy"
                ),
                "check which address each port's backends expect, and pass --preserve-client-ip if needed",
            );
            None
        }
        other => other.one(),
    };
    let protocol = if cx.all_udp() { "UDP" } else { "TCP" };
    let local = cx.svc.traffic_policy_local();
    let before = classify::client_ip_seen(TargetType::Instance, protocol, live.or(declared), local);
    let kept = before == ClientIpSeen::Client;
    let mut value = cx.opts.preserve_client_ip.unwrap_or(kept);
    if !value && cx.all_udp() && cx.opts.preserve_client_ip.is_none() {
        // AWS cannot turn it off for UDP (domain.md §3.1); kube-proxy's SNAT
        // is what hid the client before, and it is gone with ip targets.
        value = true;
        cx.warn(
            "preserve-client-ip-udp-forced",
            ann::TARGET_GROUP_ATTRIBUTES,
            format!(
                "{PRESERVE}=true: AWS cannot turn it off for UDP target groups, so pods that saw {} will see the client's address",
                seen(before)
            ),
            "check allowlists, rate limits and logs that use the source address",
        );
    }
    let after = if value || cx.all_udp() {
        ClientIpSeen::Client
    } else {
        ClientIpSeen::NlbIp
    };
    let basis = match (live, declared) {
        (Some(l), _) => format!("the live target groups have {PRESERVE}={l}"),
        (None, Some(d)) => format!(
            "the annotation says {PRESERVE}={d} (applied by cloud-provider-aws v1.34 or later only)"
        ),
        (None, None) => "the AWS default for instance targets is on".into(),
    };
    let replaced = match declared {
        Some(d) if d != value => format!("; the annotation's {PRESERVE}={d} is replaced"),
        _ => String::new(),
    };
    cx.info(
        "preserve-client-ip",
        ann::TARGET_GROUP_ATTRIBUTES,
        format!(
            "{PRESERVE}={value}, {} (externalTrafficPolicy: {}; {basis}): before, pods saw {}; after, they see {}. Written explicitly because the LBC's default for ip targets is off and removing the key later does not reset the attribute{replaced}",
            if cx.opts.preserve_client_ip.is_some() {
                "from --preserve-client-ip"
            } else {
                "kept from what pods saw"
            },
            if local { "Local" } else { "Cluster" },
            seen(before),
            seen(after)
        ),
    );
    if cx.opts.preserve_client_ip.is_some()
        && (before == ClientIpSeen::Client) != (after == ClientIpSeen::Client)
    {
        cx.warn(
            "preserve-client-ip-changed",
            ann::TARGET_GROUP_ATTRIBUTES,
            format!("pods will see {} instead of {}", seen(after), seen(before)),
            "check allowlists, rate limits and logs that use the source address",
        );
    }
    attrs.insert(PRESERVE.into(), value.to_string());
    if !value && cx.has_udp() {
        udp_preserve(cx);
    }

    proxy_protocol(cx, &mut attrs, &tgs);

    // Out-of-band deregistration delay on the live target groups.
    if !attrs.contains_key(DEREGISTRATION_DELAY)
        && let Agreed::One(v) = agreed(&tgs, |t| t.attributes.get(DEREGISTRATION_DELAY).cloned())
        && v != DEFAULT_DEREGISTRATION_DELAY
    {
        cx.info(
            "deregistration-delay-from-live",
            ann::TARGET_GROUP_ATTRIBUTES,
            format!(
                "{DEREGISTRATION_DELAY}={v} kept from the live target groups (set out of band; the AWS default is 300)"
            ),
        );
        attrs.insert(DEREGISTRATION_DELAY.into(), v);
    }

    if !activated.is_empty() {
        cx.warn(
            "target-group-attributes-activated",
            ann::TARGET_GROUP_ATTRIBUTES,
            format!(
                "{} never applied to the in-tree NLB (the legacy provider ignores the annotation; cloud-provider-aws v1.34 or later accepts only preserve_client_ip and proxy_protocol_v2) and will apply to the new target groups",
                activated.join(", ")
            ),
            "check each attribute is still wanted",
        );
    }
    cx.put(ann::TARGET_GROUP_ATTRIBUTES, render(&attrs));
    value
}

/// AWS cannot turn preserve_client_ip off for UDP target groups (domain.md §3.1).
fn udp_preserve(cx: &mut Cx) {
    let udp: Vec<i32> = cx
        .svc
        .ports
        .iter()
        .filter(|p| super::is_udp(&p.protocol))
        .map(|p| p.port)
        .collect();
    if cx.lbc_at_least(keys::LBC_MIN_PER_PORT_ATTRIBUTES) == Some(true) && !cx.all_udp() {
        for port in &udp {
            cx.put(
                &format!("{}.{port}", ann::TARGET_GROUP_ATTRIBUTES),
                format!("{PRESERVE}=true"),
            );
        }
        cx.info(
            "preserve-client-ip-udp-per-port",
            ann::TARGET_GROUP_ATTRIBUTES,
            format!(
                "AWS cannot turn {PRESERVE} off for UDP; the UDP ports ({}) get a per-port {PRESERVE}=true (LBC v2.14 or later), so pods see the client's address on them",
                udp.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
            ),
        );
    } else {
        cx.note(
            Severity::Error,
            "preserve-client-ip-udp",
            ann::TARGET_GROUP_ATTRIBUTES,
            format!(
                "{PRESERVE}=false would apply to the UDP ports ({}) too, and AWS refuses to turn it off for UDP target groups: the LBC would fail to reconcile",
                udp.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
            ),
            "with LBC v2.14 or later add aws-load-balancer-target-group-attributes.<udp-port>: preserve_client_ip.enabled=true, or run with --preserve-client-ip=true",
        );
    }
}

/// Proxy protocol row: the in-tree provider ignores the annotation for NLB,
/// so PPv2 is enabled only where the live target groups already have it.
fn proxy_protocol(
    cx: &mut Cx,
    attrs: &mut BTreeMap<String, String>,
    tgs: &[crate::model::TargetGroup],
) {
    let mut asked: Vec<(String, String)> = Vec::new();
    for key in [ann::PROXY_PROTOCOL, keys::PROXY_PROTOCOL_PER_TG] {
        if let Some(v) = cx.take(key) {
            asked.push((key.to_string(), v));
        }
    }
    if let Some(v) = attrs.get(PPV2)
        && classify::parse_go_bool(v) == Some(true)
    {
        asked.push((
            ann::TARGET_GROUP_ATTRIBUTES.to_string(),
            format!("{PPV2}={v}"),
        ));
    }
    let field = asked
        .first()
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| "aws.targetGroups.attributes".into());
    let what = asked
        .iter()
        .map(|(k, v)| format!("{}: \"{v}\"", short(k)))
        .collect::<Vec<_>>()
        .join(", ");
    match agreed(tgs, |t| t.attribute_bool(PPV2)) {
        Agreed::One(true) => {
            attrs.insert(PPV2.into(), "true".into());
            cx.info(
                "proxy-protocol-from-live",
                &field,
                format!(
                    "the live target groups send proxy protocol v2 (set out of band or by cloud-provider-aws v1.34 or later), so {PPV2}=true is written to keep the backends' framing"
                ),
            );
        }
        Agreed::Several(_) => {
            attrs.remove(PPV2);
            cx.error(
                "proxy-protocol-mixed",
                &field,
                "some live target groups send proxy protocol v2 and some do not (edited out of band); which ports need it cannot be told from here",
                "add aws-load-balancer-proxy-protocol-per-target-group with the ports whose backends expect the header to the new Service, or turn it off consistently, then run migrate again",
            );
        }
        Agreed::One(false) if !asked.is_empty() => {
            attrs.insert(PPV2.into(), "false".into());
            cx.warn(
                "proxy-protocol-dropped",
                &field,
                format!(
                    "left out ({what}): the in-tree provider ignores proxy protocol for NLB and the live target groups have it off, so copying it would newly send a PPv2 header and break backends that do not expect one"
                ),
                "",
            );
        }
        Agreed::Unknown if !asked.is_empty() => {
            attrs.remove(PPV2);
            cx.warn(
                "proxy-protocol-unverified",
                &field,
                format!(
                    "left out ({what}): the in-tree provider ignores proxy protocol for NLB, and the live target groups were not read to see whether it was turned on another way; copying it could newly send a PPv2 header and break backends"
                ),
                "if the old target groups do have proxy_protocol_v2.enabled=true, add it to aws-load-balancer-target-group-attributes on the new Service",
            );
        }
        _ => {}
    }
}

fn short(key: &str) -> &str {
    key.strip_prefix("service.beta.kubernetes.io/")
        .unwrap_or(key)
}

/// `additional-resource-tags`: the LBC needs `k=v` for every pair and owns
/// some tags itself (domain.md §1.2).
pub(super) fn tags(cx: &mut Cx) {
    let Some(text) = cx.take(keys::ADDITIONAL_TAGS) else {
        return;
    };
    let mut kept: Vec<String> = Vec::new();
    let mut rewritten: Vec<String> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    let mut keyless: Vec<String> = Vec::new();
    // Empty items (`a=b,,c=d`) mean nothing to either controller: skipped.
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => {
                rewritten.push(pair.to_string());
                (pair, "")
            }
        };
        // AWS tag keys are 1 to 128 characters: CreateLoadBalancer and
        // AddTags refuse an empty one, so the LBC would never build the NLB
        // (qa D-W12: `=c` was carried).
        if key.is_empty() {
            keyless.push(pair.to_string());
            continue;
        }
        if CONTROLLER_TAGS.contains(&key)
            || CONTROLLER_TAG_PREFIXES.iter().any(|p| key.starts_with(p))
        {
            dropped.push(key.to_string());
            continue;
        }
        kept.push(format!("{key}={value}"));
    }
    if !rewritten.is_empty() {
        cx.info(
            "tags-rewritten",
            keys::ADDITIONAL_TAGS,
            format!(
                "{} written as {}: the in-tree provider accepts a key without \"=\", the LBC fails to reconcile it",
                rewritten.join(", "),
                rewritten.iter().map(|k| format!("{k}=")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    if !dropped.is_empty() {
        cx.warn(
            "tags-dropped",
            keys::ADDITIONAL_TAGS,
            format!(
                "{} left out: these are ownership tags the in-tree provider or the LBC sets itself; copied, they would mark the new NLB as the old one's, or clash with the LBC's own",
                dropped.join(", ")
            ),
            "",
        );
    }
    if !keyless.is_empty() {
        cx.error(
            "tags-empty-key",
            keys::ADDITIONAL_TAGS,
            format!(
                "empty tag key in {}: AWS refuses a tag without a key, so the LBC would fail to reconcile the new Service and never build its NLB; left out",
                keyless.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")
            ),
            "give the tag a key, or remove it from the annotation, then run migrate again",
        );
    }
    if !kept.is_empty() {
        cx.put(keys::ADDITIONAL_TAGS, kept.join(","));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{anns, codes, entry, legacy, online, run, tg};
    use super::super::{Lbc, Live, Options, translate};
    use super::*;
    use crate::model::Version;
    use serde_json::json;

    fn pairs(t: &super::super::Translation, key: &str) -> BTreeMap<String, String> {
        classify::parse_string_map(&anns(t)[key])
            .unwrap()
            .into_iter()
            .collect()
    }

    #[test]
    fn cross_zone_is_always_written_and_forced_false_when_absent() {
        let t = run(&legacy(&[], json!({})), &online());
        assert_eq!(pairs(&t, keys::ATTRIBUTES)[CROSS_ZONE_ATTR], "false");
        assert!(codes(&t).contains(&"cross-zone-explicit"));
        let t = run(&legacy(&[(keys::CROSS_ZONE, "true")], json!({})), &online());
        assert_eq!(pairs(&t, keys::ATTRIBUTES)[CROSS_ZONE_ATTR], "true");
        assert!(!anns(&t).contains_key(keys::CROSS_ZONE));
        assert!(codes(&t).contains(&"cross-zone-moved"));
    }

    #[test]
    fn an_unparseable_cross_zone_blocks() {
        let t = run(&legacy(&[(keys::CROSS_ZONE, "yes")], json!({})), &online());
        assert_eq!(t.blockers().next().unwrap().field, keys::CROSS_ZONE);
    }

    #[test]
    fn access_logs_move_into_attributes() {
        let t = run(
            &legacy(
                &[
                    (keys::ACCESS_LOG_ENABLED, "true"),
                    (keys::ACCESS_LOG_BUCKET, "logs"),
                    (keys::ACCESS_LOG_PREFIX, "web"),
                ],
                json!({}),
            ),
            &online(),
        );
        let a = pairs(&t, keys::ATTRIBUTES);
        assert_eq!(a[ACCESS_LOGS_ENABLED], "true");
        assert_eq!(a[ACCESS_LOGS_BUCKET], "logs");
        assert_eq!(a[ACCESS_LOGS_PREFIX], "web");
        for k in [
            keys::ACCESS_LOG_ENABLED,
            keys::ACCESS_LOG_BUCKET,
            keys::ACCESS_LOG_PREFIX,
        ] {
            assert!(!anns(&t).contains_key(k));
        }
        let t = run(
            &legacy(
                &[
                    (keys::ACCESS_LOG_ENABLED, "false"),
                    (keys::ACCESS_LOG_BUCKET, "logs"),
                ],
                json!({}),
            ),
            &online(),
        );
        let a = pairs(&t, keys::ATTRIBUTES);
        assert_eq!(a[ACCESS_LOGS_ENABLED], "false");
        assert!(!a.contains_key(ACCESS_LOGS_BUCKET));
        let t = run(
            &legacy(&[(keys::ACCESS_LOG_ENABLED, "true")], json!({})),
            &online(),
        );
        assert_eq!(
            t.blockers().next().unwrap().code,
            "access-logs-without-bucket"
        );
    }

    #[test]
    fn inert_attributes_are_carried_but_in_tree_values_win() {
        let t = run(
            &legacy(
                &[(
                    keys::ATTRIBUTES,
                    "load_balancing.cross_zone.enabled=true,deletion_protection.enabled=true",
                )],
                json!({}),
            ),
            &online(),
        );
        let a = pairs(&t, keys::ATTRIBUTES);
        assert_eq!(a[CROSS_ZONE_ATTR], "false");
        assert_eq!(a["deletion_protection.enabled"], "true");
        assert!(codes(&t).contains(&"attribute-overridden"));
        let activated = &entry(&t, "attributes-activated").message;
        assert!(activated.contains("deletion_protection"));
        assert!(!activated.contains("cross_zone"), "{activated}");
    }

    #[test]
    fn inert_access_logs_do_not_turn_logs_on() {
        let t = run(
            &legacy(
                &[(
                    keys::ATTRIBUTES,
                    "access_logs.s3.enabled=true,access_logs.s3.bucket=x",
                )],
                json!({}),
            ),
            &online(),
        );
        let a = pairs(&t, keys::ATTRIBUTES);
        assert_eq!(a[ACCESS_LOGS_ENABLED], "false");
        assert!(!a.contains_key(ACCESS_LOGS_BUCKET));
        assert_eq!(
            codes(&t)
                .iter()
                .filter(|c| **c == "attribute-overridden")
                .count(),
            2
        );
    }

    #[test]
    fn lbc_v2_2_keeps_the_deprecated_annotations() {
        let live = Live {
            lbc: Lbc::Installed(Some(Version::new(2, 2, 4))),
            ..online()
        };
        let t = run(
            &legacy(
                &[
                    (keys::ACCESS_LOG_ENABLED, "true"),
                    (keys::ACCESS_LOG_BUCKET, "logs"),
                ],
                json!({}),
            ),
            &live,
        );
        let a = anns(&t);
        assert!(!a.contains_key(keys::ATTRIBUTES));
        assert_eq!(a[keys::CROSS_ZONE], "false");
        assert_eq!(a[keys::ACCESS_LOG_ENABLED], "true");
        assert_eq!(a[keys::ACCESS_LOG_BUCKET], "logs");
        assert!(codes(&t).contains(&"attributes-legacy-annotations"));
    }

    #[test]
    fn preserve_client_ip_follows_what_pods_saw() {
        let t = run(&legacy(&[], json!({})), &online());
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PRESERVE], "false");
        assert!(
            entry(&t, "preserve-client-ip")
                .message
                .contains("a node's address")
        );
        let t = run(
            &legacy(&[], json!({"externalTrafficPolicy": "Local"})),
            &online(),
        );
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PRESERVE], "true");
        // Local with preservation turned off live: pods saw the NLB, keep off.
        let mut a = tg(30080);
        a.attributes.insert(PRESERVE.into(), "false".into());
        let live = Live {
            target_groups: Some(vec![a]),
            ..online()
        };
        let t = run(
            &legacy(&[], json!({"externalTrafficPolicy": "Local"})),
            &live,
        );
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PRESERVE], "false");
    }

    #[test]
    fn live_target_groups_that_disagree_on_preservation_are_reported() {
        let mut a = tg(30080);
        a.attributes.insert(PRESERVE.into(), "false".into());
        let live = Live {
            target_groups: Some(vec![a, tg(30443)]),
            ..online()
        };
        let t = run(
            &legacy(&[], json!({"externalTrafficPolicy": "Local"})),
            &live,
        );
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PRESERVE], "true");
        assert_eq!(
            entry(&t, "live-target-groups-differ").field,
            ann::TARGET_GROUP_ATTRIBUTES
        );
    }

    #[test]
    fn the_override_wins_and_a_visible_change_is_a_warning() {
        let opts = Options {
            preserve_client_ip: Some(true),
            ..Default::default()
        };
        let t = translate(&legacy(&[], json!({})), &online(), &opts).unwrap();
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PRESERVE], "true");
        assert!(codes(&t).contains(&"preserve-client-ip-changed"));
    }

    #[test]
    fn existing_attributes_are_merged_and_reported() {
        let t = run(
            &legacy(
                &[(
                    ann::TARGET_GROUP_ATTRIBUTES,
                    "deregistration_delay.timeout_seconds=30,preserve_client_ip.enabled=true",
                )],
                json!({}),
            ),
            &online(),
        );
        let a = pairs(&t, ann::TARGET_GROUP_ATTRIBUTES);
        assert_eq!(a[DEREGISTRATION_DELAY], "30");
        // Pods saw node addresses (Cluster), whatever the annotation said.
        assert_eq!(a[PRESERVE], "false");
        assert!(entry(&t, "preserve-client-ip").message.contains("replaced"));
        assert!(
            entry(&t, "target-group-attributes-activated")
                .message
                .contains("deregistration_delay.timeout_seconds=30")
        );
    }

    #[test]
    fn a_malformed_attribute_annotation_blocks() {
        let t = run(
            &legacy(&[(ann::TARGET_GROUP_ATTRIBUTES, "oops")], json!({})),
            &online(),
        );
        assert_eq!(
            t.blockers().next().unwrap().code,
            "invalid-annotation-value"
        );
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PRESERVE], "false");
    }

    #[test]
    fn udp_cannot_turn_preservation_off() {
        let mixed = legacy(
            &[],
            json!({"ports": [
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 5353},
                {"name": "dns-udp", "port": 53, "protocol": "UDP", "targetPort": 5353}
            ]}),
        );
        let t = run(&mixed, &online());
        assert_eq!(t.blockers().next().unwrap().code, "preserve-client-ip-udp");
        let recent = Live {
            lbc: Lbc::Installed(Some(Version::new(2, 14, 1))),
            ..online()
        };
        let t = run(&mixed, &recent);
        assert!(!t.is_blocked());
        assert_eq!(
            anns(&t)[&format!("{}.53", ann::TARGET_GROUP_ATTRIBUTES)],
            "preserve_client_ip.enabled=true"
        );
        let udp_only = legacy(
            &[],
            json!({"ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}]}),
        );
        let t = run(&udp_only, &online());
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PRESERVE], "true");
        assert!(!t.is_blocked());
        assert!(codes(&t).contains(&"preserve-client-ip-udp-forced"));
        let opts = Options {
            preserve_client_ip: Some(false),
            ..Default::default()
        };
        let t = translate(&udp_only, &online(), &opts).unwrap();
        assert_eq!(t.blockers().next().unwrap().code, "preserve-client-ip-udp");
    }

    #[test]
    fn proxy_protocol_is_enabled_only_from_live_target_groups() {
        let svc = legacy(&[(ann::PROXY_PROTOCOL, "*")], json!({}));
        // Offline: dropped, unverified.
        let t = run(&svc, &Live::default());
        assert!(!anns(&t).contains_key(ann::PROXY_PROTOCOL));
        assert!(!pairs(&t, ann::TARGET_GROUP_ATTRIBUTES).contains_key(PPV2));
        assert!(codes(&t).contains(&"proxy-protocol-unverified"));
        // Live off: dropped, and written off.
        let live = Live {
            target_groups: Some(vec![tg(30080), tg(30443)]),
            ..online()
        };
        let t = run(&svc, &live);
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PPV2], "false");
        assert!(codes(&t).contains(&"proxy-protocol-dropped"));
        // Live on, even with no annotation: kept.
        let mut a = tg(30080);
        a.attributes.insert(PPV2.into(), "true".into());
        let live = Live {
            target_groups: Some(vec![a.clone()]),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert_eq!(pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[PPV2], "true");
        assert!(codes(&t).contains(&"proxy-protocol-from-live"));
        // Mixed: a person decides.
        let live = Live {
            target_groups: Some(vec![a, tg(30443)]),
            ..online()
        };
        let t = run(&svc, &live);
        assert_eq!(t.blockers().next().unwrap().code, "proxy-protocol-mixed");
    }

    #[test]
    fn no_proxy_protocol_anywhere_says_nothing() {
        let live = Live {
            target_groups: Some(vec![tg(30080)]),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert!(!codes(&t).iter().any(|c| c.starts_with("proxy-protocol")));
    }

    #[test]
    fn per_target_group_proxy_protocol_is_treated_alike() {
        let t = run(
            &legacy(&[(keys::PROXY_PROTOCOL_PER_TG, "80")], json!({})),
            &Live::default(),
        );
        assert!(!anns(&t).contains_key(keys::PROXY_PROTOCOL_PER_TG));
        assert!(codes(&t).contains(&"proxy-protocol-unverified"));
    }

    #[test]
    fn a_live_deregistration_delay_is_kept() {
        let mut a = tg(30080);
        a.attributes
            .insert(DEREGISTRATION_DELAY.into(), "20".into());
        let live = Live {
            target_groups: Some(vec![a]),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert_eq!(
            pairs(&t, ann::TARGET_GROUP_ATTRIBUTES)[DEREGISTRATION_DELAY],
            "20"
        );
        assert!(codes(&t).contains(&"deregistration-delay-from-live"));
        assert!(!codes(&t).contains(&"target-group-attributes-activated"));
    }

    #[test]
    fn tags_get_equals_signs_and_lose_ownership_tags() {
        let t = run(
            &legacy(
                &[(
                    keys::ADDITIONAL_TAGS,
                    "team=web, KeyNoVal, kubernetes.io/cluster/prod=owned,kubernetes.io/service-name=shop/web",
                )],
                json!({}),
            ),
            &online(),
        );
        assert_eq!(anns(&t)[keys::ADDITIONAL_TAGS], "team=web,KeyNoVal=");
        assert!(codes(&t).contains(&"tags-rewritten"));
        assert!(
            entry(&t, "tags-dropped")
                .message
                .contains("kubernetes.io/cluster/prod")
        );
        let only_owned = run(
            &legacy(
                &[(keys::ADDITIONAL_TAGS, "kubernetes.io/service-name=shop/web")],
                json!({}),
            ),
            &online(),
        );
        assert!(!anns(&only_owned).contains_key(keys::ADDITIONAL_TAGS));
    }

    #[test]
    fn an_empty_tag_key_blocks_while_empty_items_are_only_skipped() {
        // qa D-W12
        let t = run(
            &legacy(&[(keys::ADDITIONAL_TAGS, "a=b,,=c,d")], json!({})),
            &online(),
        );
        let e = t.blockers().next().expect("a blocker");
        assert_eq!(e.code, "tags-empty-key");
        assert!(e.message.contains("\"=c\""), "{}", e.message);
        assert_eq!(t.blockers().count(), 1, "the empty item is not an error");
        assert_eq!(anns(&t)[keys::ADDITIONAL_TAGS], "a=b,d=");
        let skipped = run(
            &legacy(&[(keys::ADDITIONAL_TAGS, "a=b,, ,d=e")], json!({})),
            &online(),
        );
        assert!(!skipped.is_blocked(), "{:#?}", skipped.report);
        assert_eq!(anns(&skipped)[keys::ADDITIONAL_TAGS], "a=b,d=e");
    }
}
