//! `cutover --via listener` decided as data (issue 15): change
//! `preserve_client_ip.enabled` on the *same* NLB by moving each listener's
//! traffic to a twin target group and back, through the LBC's
//! `service.beta.kubernetes.io/actions.<PROTO>-<PORT>` annotation, so the
//! DNS name, the addresses and any PrivateLink endpoint service stay.
//!
//! The engine (`cmd::switch`) drives these decisions; the I/O for this
//! backend is `cmd::listener`.
//!
//! Sources (aws-load-balancer-controller, commit f111ae2ad "Add support for
//! service weighted target groups", first released in v2.16.0):
//! - the key is `actions.<listener protocol>-<port>` under the Service
//!   annotation prefix: `pkg/service/model_build_listener.go:216`;
//! - the value is an `Action`: `{"type":"forward","forwardConfig":
//!   {"baseServiceWeight":N,"targetGroups":[{"targetGroupARN":…,"weight":N}]}}`,
//!   weights 0–999, several target groups need a weight each, exactly one of
//!   `targetGroupARN` and `serviceName`: `pkg/service/config_types.go:10-110`;
//! - the Service's own target group is built as without the annotation, at
//!   `baseServiceWeight`: `pkg/service/model_build_target_group.go:31-45`;
//! - with the `WeightedTargetGroups` gate off (it defaults on,
//!   `pkg/config/feature_gates.go:23,78`) a forward to several target groups
//!   fails the deploy: `pkg/deploy/elbv2/listener_utils.go:73-78`.

use crate::model::Version;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The Service annotation prefix of the LBC.
pub const ACTIONS_PREFIX: &str = "service.beta.kubernetes.io/actions.";
/// The first LBC release that honours `actions.*` on Services.
pub const FIRST_VERSION: Version = Version::new(2, 16, 0);
/// The feature gate that lets a listener forward to several target groups.
pub const GATE: &str = "WeightedTargetGroups";
pub const ATTRIBUTE: &str = "preserve_client_ip.enabled";
/// The Service annotation the LBC builds target group attributes from.
pub const ATTRIBUTES_ANNOTATION: &str =
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes";
/// Tags on what the switch makes: which Service, and which group it twins.
pub const TAG_SERVICE: &str = "kubectl-nlb/service";
pub const TAG_TWIN_OF: &str = "kubectl-nlb/twin-of";

/// What a listener switch journals when it starts: enough to find, resume
/// and undo everything it makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerState {
    pub lb_name: String,
    pub lb_arn: String,
    /// The value asked for.
    pub want: bool,
    /// The Service's target-group-attributes annotation before the switch
    /// (`None`: it had none), restored exactly by an abort.
    pub original_attributes: Option<String>,
    /// The annotation's value once the Service's own groups change.
    pub new_attributes: String,
    pub pairs: Vec<Pair>,
}

/// One listener: the Service's own target group and the twin the switch
/// makes for it (same settings, the other client-IP value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pair {
    pub protocol: String,
    pub port: i32,
    pub own_arn: String,
    pub own_name: String,
    /// Its name, and its TargetGroupBinding's: found again by name after a
    /// crash between its creation and the journal write.
    pub twin_name: String,
    pub twin_arn: Option<String>,
}

impl ListenerState {
    /// The value the Service's own groups had: the opposite of the twin's.
    pub fn original(&self) -> bool {
        !self.want
    }

    /// Every `actions.*` annotation for `share` percent on the twins.
    pub fn annotations(&self, share: u8) -> BTreeMap<String, Option<String>> {
        self.pairs
            .iter()
            .map(|p| {
                let v = p.twin_arn.as_deref().map(|arn| value(arn, share));
                (key(&p.protocol, p.port), v)
            })
            .collect()
    }

    /// Every `actions.*` annotation removed.
    pub fn no_annotations(&self) -> BTreeMap<String, Option<String>> {
        self.pairs
            .iter()
            .map(|p| (key(&p.protocol, p.port), None))
            .collect()
    }
}

/// The twin's name: ELBv2 names hold ≤32 of `[A-Za-z0-9-]`, and a
/// TargetGroupBinding of the same name must be a DNS label, so lowercase
/// hex of a stable hash of the group it twins (FNV-1a, 32 bits).
pub fn twin_name(own_arn: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in own_arn.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("kubectl-nlb-twin-{h:08x}")
}

/// The target-group-attributes annotation with `preserve_client_ip.enabled`
/// set to `want` and every other entry kept in its place (the LBC reads
/// `k=v` pairs separated by commas, `pkg/annotations/parser.go`
/// `ParseStringMapAnnotation`).
pub fn with_attribute(annotation: Option<&str>, want: bool) -> String {
    let mut found = false;
    let mut parts: Vec<String> = annotation
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.trim() == ATTRIBUTE => {
                found = true;
                format!("{ATTRIBUTE}={want}")
            }
            _ => p.to_string(),
        })
        .collect();
    if !found {
        parts.push(format!("{ATTRIBUTE}={want}"));
    }
    parts.join(",")
}

/// What the twin's TargetGroupBinding lets through, as the LBC would build
/// it for the Service with the twin's value
/// (`pkg/service/model_build_target_group.go`
/// `buildTargetGroupBindingNetworking`): rules that name a security group
/// (the LBC's backend group, used whatever the client-IP value) are
/// copied; without one (`…NetworkingLegacy`) the targets see the clients
/// when the address is kept, so the clients' ranges on the traffic port and
/// the NLB's subnets for the health check; otherwise the subnets for both.
pub struct NetworkingInputs<'a> {
    pub own: Option<&'a Value>,
    pub preserve: bool,
    pub protocol: &'a str,
    pub port: Value,
    pub health_check_port: Option<i32>,
    pub client_cidrs: &'a [String],
    /// The clients are the LBC's default range, not the Service's own.
    pub default_clients: bool,
    pub subnet_cidrs: &'a [String],
}

pub fn twin_networking(i: &NetworkingInputs) -> Value {
    if let Some(own) = i.own {
        let names_group = own["ingress"].as_array().is_some_and(|rules| {
            rules.iter().any(|r| {
                r["from"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x.get("securityGroup").is_some()))
            })
        });
        if names_group {
            return own.clone();
        }
    }
    let cidrs = |list: &[String]| -> Vec<Value> {
        list.iter()
            .map(|c| json!({"ipBlock": {"cidr": c}}))
            .collect()
    };
    let protocol = if matches!(i.protocol, "UDP" | "TCP_UDP") {
        "UDP"
    } else {
        "TCP"
    };
    let traffic = json!({"protocol": protocol, "port": i.port});
    let udp = protocol == "UDP";
    if !(i.preserve || udp) {
        return json!({"ingress": [{"from": cidrs(i.subnet_cidrs), "ports": [traffic]}]});
    }
    let clients = json!({"from": cidrs(i.client_cidrs), "ports": [traffic]});
    // Health checks on the traffic port already pass a rule that lets
    // everyone in (`buildHealthCheckSourceCIDRs`, model_build_target_group.go:861-878).
    let on_traffic_port = i
        .health_check_port
        .is_none_or(|p| Some(i64::from(p)) == i.port.as_i64());
    let anyone = i.default_clients
        || i.client_cidrs
            .iter()
            .any(|c| c == "0.0.0.0/0" || c == "::/0");
    if !udp && on_traffic_port && anyone {
        return json!({"ingress": [clients]});
    }
    let hc = match i.health_check_port {
        Some(p) => json!({"protocol": "TCP", "port": p}),
        None => json!({"protocol": "TCP", "port": i.port}),
    };
    json!({"ingress": [clients, {"from": cidrs(i.subnet_cidrs), "ports": [hc]}]})
}

/// One listener of the Service's NLB and the target group it forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub protocol: String,
    pub port: i32,
    pub target_group_arn: String,
    /// `preserve_client_ip.enabled` as AWS shows it on that target group.
    pub preserve_client_ip: bool,
}

/// What the preflight reads before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// `namespace/name`, for messages.
    pub service: String,
    pub listeners: Vec<Listener>,
    /// `None`: no controller found; `Some(None)`: found, version unreadable.
    pub lbc_version: Option<Option<Version>>,
    pub feature_gates: BTreeMap<String, bool>,
    pub annotations: BTreeMap<String, String>,
    /// The value asked for.
    pub want: bool,
}

/// The annotation key for one listener: `…/actions.TCP-443`.
pub fn key(protocol: &str, port: i32) -> String {
    format!("{ACTIONS_PREFIX}{}-{port}", protocol.to_ascii_uppercase())
}

/// The annotation value that sends `share` percent of a listener's new
/// connections to `twin` and the rest to the Service's own target group.
/// Percentages are valid weights (0–999) and read as such in the console.
pub fn value(twin_arn: &str, share: u8) -> String {
    let share = share.min(100);
    serde_json::json!({
        "type": "forward",
        "forwardConfig": {
            "baseServiceWeight": 100 - share,
            "targetGroups": [{"targetGroupARN": twin_arn, "weight": share}],
        },
    })
    .to_string()
}

/// Everything that stops the listener path, all at once (empty: go).
pub fn blockers(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(controller_blocker(f));
    if f.listeners.is_empty() {
        out.push(format!(
            "service {} has no listener on its NLB yet",
            f.service
        ));
    }
    for l in &f.listeners {
        if !matches!(l.protocol.as_str(), "TCP" | "TLS" | "UDP" | "TCP_UDP") {
            out.push(format!(
                "listener {}-{} of service {}: a {} listener cannot forward to weighted target groups (TCP, TLS, UDP and TCP_UDP can)",
                l.protocol, l.port, f.service, l.protocol
            ));
        }
        let udp = matches!(l.protocol.as_str(), "UDP" | "TCP_UDP");
        if udp && !f.want {
            out.push(format!(
                "listener {}-{} of service {}: AWS keeps the client address on UDP target groups; {ATTRIBUTE}=false is refused there (InvalidConfigurationRequest)",
                l.protocol, l.port, f.service
            ));
        }
    }
    for k in f
        .annotations
        .keys()
        .filter(|k| k.starts_with(ACTIONS_PREFIX))
    {
        out.push(format!(
            "service {} already has the annotation {k}: the listener path writes it; remove it first, or change the attribute with `--via dns`",
            f.service
        ));
    }
    if !f.listeners.is_empty() && f.listeners.iter().all(|l| l.preserve_client_ip == f.want) {
        out.push(format!(
            "every target group of service {} already has {ATTRIBUTE}={}: nothing to cut over",
            f.service, f.want
        ));
    }
    out
}

fn controller_blocker(f: &Facts) -> Option<String> {
    let fix = format!(
        "upgrade the AWS Load Balancer Controller to {FIRST_VERSION} or later, or use `--via dns`"
    );
    match &f.lbc_version {
        None => Some(format!(
            "no AWS Load Balancer Controller found in the cluster: {fix}"
        )),
        Some(Some(v)) if *v < FIRST_VERSION => Some(format!(
            "the AWS Load Balancer Controller is {v}: Services get weighted target groups from {FIRST_VERSION}; {fix}"
        )),
        _ if f.feature_gates.get(GATE) == Some(&false) => Some(format!(
            "the AWS Load Balancer Controller runs with --feature-gates={GATE}=false: it would fail to deploy a listener with two target groups; turn the gate on (its default), or use `--via dns`"
        )),
        // An unreadable version is taken as new enough, as the translation
        // does; the wait for the listener weights then tells.
        _ => None,
    }
}

/// The share of new connections on the twin, in percent, from a listener's
/// default forward as `DescribeListeners` shows it: `(target group, weight)`
/// pairs (a plain forward has one, without a weight). `None` when the
/// listener forwards anywhere else, which the switch did not write.
pub fn share_on_twin(forward: &[(String, Option<i32>)], own: &str, twin: &str) -> Option<u8> {
    let weight = |arn: &str| {
        forward
            .iter()
            .find(|(a, _)| a == arn)
            .map(|(_, w)| w.unwrap_or(1).max(0))
    };
    if forward.iter().any(|(a, _)| a != own && a != twin) {
        return None;
    }
    let (own_w, twin_w) = (weight(own).unwrap_or(0), weight(twin).unwrap_or(0));
    let total = own_w + twin_w;
    if total == 0 {
        return None;
    }
    u8::try_from((twin_w * 100 + total / 2) / total).ok()
}

/// Where an abort starts from: how far the switch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The twins exist (possibly only some of them).
    pub twins_made: bool,
    /// The Service's own groups may carry the new value: `ChangeOwn` began.
    pub own_changed: bool,
    /// The twins' share of new connections now, as the listeners show it.
    pub share_on_twins: u8,
}

/// What an abort does, so that every client ends on a target group with the
/// *original* value. While the Service's own groups have it, traffic goes
/// back to them. Once they may not, no group has it (the twins have the new
/// value): traffic goes wholly to the twins, the own groups are changed back
/// while they carry nothing, and traffic returns to them. Then everything
/// made goes.
pub fn abort_plan(p: Progress) -> Vec<AbortStep> {
    let mut out = Vec::new();
    if p.own_changed {
        if p.share_on_twins < 100 {
            out.push(AbortStep::Share(100));
        }
        out.push(AbortStep::RestoreOwn);
        out.push(AbortStep::WaitOwn);
        out.push(AbortStep::Share(0));
    } else if p.share_on_twins > 0 {
        out.push(AbortStep::Share(0));
    }
    if p.twins_made || p.own_changed || p.share_on_twins > 0 {
        out.push(AbortStep::Cleanup);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbortStep {
    /// Set the twins' share, in one step (an abort does not soak).
    Share(u8),
    /// The Service's `target-group-attributes` as they were.
    RestoreOwn,
    /// AWS shows the original value on the own groups, targets healthy.
    WaitOwn,
    Cleanup,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            service: "web/frontend".into(),
            listeners: vec![Listener {
                protocol: "TCP".into(),
                port: 80,
                target_group_arn: "arn:tg/own".into(),
                preserve_client_ip: true,
            }],
            lbc_version: Some(Some(Version::new(2, 16, 0))),
            feature_gates: BTreeMap::new(),
            annotations: BTreeMap::new(),
            want: false,
        }
    }

    #[test]
    fn the_annotation_is_the_one_the_lbc_parses() {
        assert_eq!(
            key("tcp", 443),
            "service.beta.kubernetes.io/actions.TCP-443"
        );
        let v: serde_json::Value = serde_json::from_str(&value("arn:tg/twin", 10)).unwrap();
        assert_eq!(v["type"], "forward");
        assert_eq!(v["forwardConfig"]["baseServiceWeight"], 90);
        assert_eq!(
            v["forwardConfig"]["targetGroups"][0]["targetGroupARN"],
            "arn:tg/twin"
        );
        assert_eq!(v["forwardConfig"]["targetGroups"][0]["weight"], 10);
        let all: serde_json::Value = serde_json::from_str(&value("t", 250)).unwrap();
        assert_eq!(
            all["forwardConfig"]["baseServiceWeight"], 0,
            "capped at 100%"
        );
    }

    #[test]
    fn a_supported_controller_and_a_tcp_listener_have_no_blocker() {
        assert!(blockers(&facts()).is_empty(), "{:?}", blockers(&facts()));
        let mut unknown = facts();
        unknown.lbc_version = Some(None);
        assert!(blockers(&unknown).is_empty());
    }

    #[test]
    fn every_blocker_is_reported_at_once() {
        let mut f = facts();
        f.lbc_version = Some(Some(Version::new(2, 14, 1)));
        f.listeners.push(Listener {
            protocol: "UDP".into(),
            port: 53,
            target_group_arn: "arn:tg/udp".into(),
            preserve_client_ip: true,
        });
        f.annotations.insert(key("TCP", 80), "{}".into());
        let b = blockers(&f);
        assert_eq!(b.len(), 3, "{b:#?}");
        assert!(
            b[0].contains("is v2.14.1:") && b[0].contains("from v2.16.0;"),
            "{}",
            b[0]
        );
        assert!(b[1].contains("UDP-53") && b[1].contains("InvalidConfigurationRequest"));
        assert!(b[2].contains("actions.TCP-80"));
    }

    #[test]
    fn a_controller_missing_or_with_the_gate_off_blocks() {
        let mut none = facts();
        none.lbc_version = None;
        assert!(blockers(&none)[0].contains("no AWS Load Balancer Controller"));
        let mut off = facts();
        off.feature_gates.insert(GATE.into(), false);
        assert!(blockers(&off)[0].contains("WeightedTargetGroups=false"));
    }

    #[test]
    fn an_attribute_already_as_asked_has_nothing_to_do() {
        let mut f = facts();
        f.want = true;
        let b = blockers(&f);
        assert_eq!(b.len(), 1);
        assert!(b[0].contains("nothing to cut over"), "{}", b[0]);
    }

    #[test]
    fn the_share_is_read_from_the_listener_weights() {
        let own = "own".to_string();
        let twin = "twin".to_string();
        assert_eq!(share_on_twin(&[(own.clone(), None)], &own, &twin), Some(0));
        assert_eq!(
            share_on_twin(
                &[(own.clone(), Some(90)), (twin.clone(), Some(10))],
                &own,
                &twin
            ),
            Some(10)
        );
        assert_eq!(
            share_on_twin(
                &[(own.clone(), Some(0)), (twin.clone(), Some(100))],
                &own,
                &twin
            ),
            Some(100)
        );
        // Weights are relative: 1:3 is 75%.
        assert_eq!(
            share_on_twin(
                &[(own.clone(), Some(1)), (twin.clone(), Some(3))],
                &own,
                &twin
            ),
            Some(75)
        );
        // Someone else's target group: not what the switch wrote.
        assert_eq!(
            share_on_twin(
                &[(own.clone(), Some(50)), ("x".into(), Some(50))],
                &own,
                &twin
            ),
            None
        );
        assert_eq!(share_on_twin(&[], &own, &twin), None);
    }

    #[test]
    fn the_attribute_annotation_keeps_every_other_entry() {
        assert_eq!(
            with_attribute(None, false),
            "preserve_client_ip.enabled=false"
        );
        assert_eq!(
            with_attribute(Some("preserve_client_ip.enabled=true"), false),
            "preserve_client_ip.enabled=false"
        );
        assert_eq!(
            with_attribute(
                Some(
                    "deregistration_delay.timeout_seconds=30, preserve_client_ip.enabled = true,proxy_protocol_v2.enabled=false"
                ),
                false
            ),
            "deregistration_delay.timeout_seconds=30,preserve_client_ip.enabled=false,proxy_protocol_v2.enabled=false"
        );
        assert_eq!(
            with_attribute(Some("stickiness.enabled=true"), true),
            "stickiness.enabled=true,preserve_client_ip.enabled=true"
        );
    }

    #[test]
    fn twin_names_are_stable_short_dns_labels() {
        let a =
            twin_name("arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/k8s-web-frontend/abc");
        assert_eq!(
            a,
            twin_name("arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/k8s-web-frontend/abc")
        );
        assert_ne!(
            a,
            twin_name("arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/k8s-web-frontend/abd")
        );
        assert!(a.len() <= 32, "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn twin_networking_follows_the_lbc_for_the_twins_value() {
        let clients = vec!["0.0.0.0/0".to_string()];
        let subnets = vec!["10.0.1.0/24".to_string(), "10.0.2.0/24".to_string()];
        let inputs = |own, preserve, protocol| NetworkingInputs {
            own,
            preserve,
            protocol,
            port: json!(8080),
            health_check_port: None,
            client_cidrs: &clients,
            default_clients: false,
            subnet_cidrs: &subnets,
        };
        // A backend security group: copied, whatever the value.
        let sg = json!({"ingress": [{"from": [{"securityGroup": {"groupID": "sg-1"}}], "ports": [{"protocol": "TCP", "port": 8080}]}]});
        assert_eq!(twin_networking(&inputs(Some(&sg), false, "TCP")), sg);
        // Client address not kept: the NLB's subnets, traffic port.
        let off = twin_networking(&inputs(None, false, "TCP"));
        assert_eq!(off["ingress"].as_array().unwrap().len(), 1);
        assert_eq!(
            off["ingress"][0]["from"][1]["ipBlock"]["cidr"],
            "10.0.2.0/24"
        );
        // Kept, open to anyone: one rule covers the health checks too.
        let on = twin_networking(&inputs(None, true, "TCP"));
        assert_eq!(on["ingress"].as_array().unwrap().len(), 1, "{on}");
        assert_eq!(on["ingress"][0]["from"][0]["ipBlock"]["cidr"], "0.0.0.0/0");
        // Kept, some clients only: the subnets for the health checks.
        let few = vec!["203.0.113.0/24".to_string()];
        let narrow = twin_networking(&NetworkingInputs {
            client_cidrs: &few,
            ..inputs(None, true, "TCP")
        });
        assert_eq!(
            narrow["ingress"][0]["from"][0]["ipBlock"]["cidr"],
            "203.0.113.0/24"
        );
        assert_eq!(
            narrow["ingress"][1]["from"][0]["ipBlock"]["cidr"],
            "10.0.1.0/24"
        );
        let defaulted = twin_networking(&NetworkingInputs {
            client_cidrs: &few,
            default_clients: true,
            ..inputs(None, true, "TCP")
        });
        assert_eq!(defaulted["ingress"].as_array().unwrap().len(), 1);
        // UDP always keeps it.
        let udp = twin_networking(&inputs(None, false, "UDP"));
        assert_eq!(udp["ingress"][0]["ports"][0]["protocol"], "UDP");
        assert_eq!(udp["ingress"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn an_abort_leaves_every_client_on_the_original_value() {
        use AbortStep::*;
        let at = |twins_made, own_changed, share_on_twins| {
            abort_plan(Progress {
                twins_made,
                own_changed,
                share_on_twins,
            })
        };
        // Nothing made yet: nothing to do.
        assert_eq!(at(false, false, 0), vec![]);
        // Twins made, no traffic moved: remove them.
        assert_eq!(at(true, false, 0), vec![Cleanup]);
        // Mid-shift, own groups untouched: all back to them first.
        assert_eq!(at(true, false, 50), vec![Share(0), Cleanup]);
        // Own groups changing while the twins carry everything: change them
        // back before any client returns to them.
        assert_eq!(
            at(true, true, 100),
            vec![RestoreOwn, WaitOwn, Share(0), Cleanup]
        );
        // On the way back (own groups have the new value and some traffic):
        // everything to the twins first.
        assert_eq!(
            at(true, true, 50),
            vec![Share(100), RestoreOwn, WaitOwn, Share(0), Cleanup]
        );
        // Every plan that ends with traffic ends with none on the twins.
        for (made, changed, share) in [(true, false, 10), (true, true, 0), (true, true, 90)] {
            let plan = at(made, changed, share);
            let last_share = plan.iter().rev().find_map(|s| match s {
                Share(x) => Some(*x),
                _ => None,
            });
            assert!(matches!(last_share, Some(0) | None), "{plan:?}");
            if changed {
                let restore = plan.iter().position(|s| *s == RestoreOwn).unwrap();
                let back = plan.iter().position(|s| *s == Share(0)).unwrap();
                assert!(
                    restore < back,
                    "own groups restored before traffic returns: {plan:?}"
                );
            }
        }
    }
}
