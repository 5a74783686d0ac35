//! Health-check rows of domain.md §1.2: work out the check the in-tree NLB
//! really ran (live target groups first, then annotations, then in-tree
//! defaults), then write the equivalent check for ip targets.

use super::{Agreed, Cx, agreed, keys};
use crate::annotations as ann;
use crate::model::TargetGroup;

/// kube-proxy's shared health endpoint, probed by cloud-provider-aws v1.33+
/// in `ClusterServiceLoadBalancerHealthProbeMode=Shared` (domain.md §1.2).
const KUBE_PROXY_HEALTH_PORT: i32 = 10256;
/// The default NodePort range: a number in it is almost surely a NodePort.
const NODE_PORT_RANGE: std::ops::RangeInclusive<i32> = 30000..=32767;
/// LBC defaults for ip targets (domain.md §1.2, §7.1).
const LBC_THRESHOLD: i32 = 3;

/// What the health-check port pointed at in-tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HcPort {
    /// `traffic-port`: the NodePort of each target group.
    Traffic,
    /// A numeric NodePort; `known` when it is one of the Service's.
    NodePort { port: i32, known: bool },
    /// kube-proxy's endpoint: `healthCheckNodePort` (Local) or 10256.
    KubeProxy(Option<i32>),
    /// Any other number.
    Number(i32),
    /// A Service port name (only the LBC accepts names).
    Name(String),
}

impl HcPort {
    fn describe(&self) -> String {
        match self {
            HcPort::Traffic => "traffic-port".into(),
            HcPort::NodePort { port, .. } | HcPort::Number(port) => port.to_string(),
            HcPort::KubeProxy(Some(p)) => p.to_string(),
            HcPort::KubeProxy(None) => "the healthCheckNodePort".into(),
            HcPort::Name(n) => n.clone(),
        }
    }
}

/// Where a value of the in-tree check came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Live,
    Annotation,
    Default,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Live => "from the live target groups",
            Source::Annotation => "from the annotation",
            Source::Default => "the in-tree default",
        }
    }
}

pub(super) fn translate(cx: &mut Cx) {
    let local = cx.svc.traffic_policy_local();
    let tgs: Vec<TargetGroup> = cx.target_groups().to_vec();

    let protocol_ann = take_protocol(cx);
    let port_ann = take_port(cx);
    let path_ann = cx.take(keys::HEALTHCHECK_PATH);
    let interval_ann = take_int(cx, keys::HEALTHCHECK_INTERVAL);
    let healthy_ann = take_int(cx, keys::HEALTHY_THRESHOLD);
    let unhealthy_ann = take_int(cx, keys::UNHEALTHY_THRESHOLD);
    timeout(cx, &tgs);

    // The in-tree check: live wins, because annotations had no effect before
    // Kubernetes 1.20 (domain.md §1.3).
    let live_protocol = live(cx, &tgs, keys::HEALTHCHECK_PROTOCOL, |t| {
        t.health_check
            .protocol
            .as_ref()
            .map(|p| p.to_ascii_uppercase())
    });
    let live_port = live(cx, &tgs, ann::HEALTHCHECK_PORT, |t| {
        t.health_check.port.clone()
    })
    .and_then(|p| classify_port(cx, &p));
    let live_path = live(cx, &tgs, keys::HEALTHCHECK_PATH, |t| {
        t.health_check.path.clone()
    });
    let live_interval = live(cx, &tgs, keys::HEALTHCHECK_INTERVAL, |t| {
        t.health_check.interval_seconds
    });
    let live_healthy = live(cx, &tgs, keys::HEALTHY_THRESHOLD, |t| {
        t.health_check.healthy_threshold
    });
    let live_unhealthy = live(cx, &tgs, keys::UNHEALTHY_THRESHOLD, |t| {
        t.health_check.unhealthy_threshold
    });

    let protocol = pick(
        cx,
        keys::HEALTHCHECK_PROTOCOL,
        live_protocol,
        protocol_ann.clone(),
        if local { "HTTP".into() } else { "TCP".into() },
    );
    let port = pick(
        cx,
        ann::HEALTHCHECK_PORT,
        live_port,
        port_ann.clone(),
        if local {
            HcPort::KubeProxy(cx.svc.health_check_node_port)
        } else {
            HcPort::Traffic
        },
    );
    let interval = pick(
        cx,
        keys::HEALTHCHECK_INTERVAL,
        live_interval,
        interval_ann,
        if local { 10 } else { 30 },
    );
    let healthy = pick(
        cx,
        keys::HEALTHY_THRESHOLD,
        live_healthy,
        healthy_ann,
        if local { 2 } else { 3 },
    );
    let unhealthy = pick(
        cx,
        keys::UNHEALTHY_THRESHOLD,
        live_unhealthy,
        unhealthy_ann,
        if local { 2 } else { 3 },
    );
    let http = protocol.0 != "TCP";
    let path = if http {
        Some(pick(
            cx,
            keys::HEALTHCHECK_PATH,
            live_path,
            path_ann.clone(),
            if local { "/healthz".into() } else { "/".into() },
        ))
    } else {
        None
    };
    if !http && let Some(p) = &path_ann {
        cx.info(
            "healthcheck-path-unused",
            keys::HEALTHCHECK_PATH,
            format!("\"{p}\" is left out: the health check is TCP, which has no path"),
        );
    }

    // The same check for ip targets.
    match &port.0 {
        HcPort::KubeProxy(p) => {
            let field = if port_ann.is_some() {
                ann::HEALTHCHECK_PORT
            } else {
                "spec.externalTrafficPolicy"
            };
            let what = match p {
                Some(p) => format!("port {p}"),
                None => "the healthCheckNodePort".into(),
            };
            let probe = match &path {
                Some((path, _)) => format!("{} {path}", protocol.0),
                None => protocol.0.clone(),
            };
            cx.warn(
                "healthcheck-kube-proxy",
                field,
                format!(
                    "the in-tree NLB probed kube-proxy ({probe} on {what}), which answers for the node, not the pod; with ip targets there is no kube-proxy hop, so the new NLB probes each pod with TCP on its targetPort and the protocol, path and port of the old check are not carried"
                ),
                "if the pods serve an HTTP health endpoint, add aws-load-balancer-healthcheck-protocol: http and aws-load-balancer-healthcheck-path to the new Service",
            );
            if port_ann.is_some() {
                cx.put(ann::HEALTHCHECK_PORT, "traffic-port");
            }
        }
        other => {
            write_port(cx, other, port_ann.is_some());
            if protocol_ann.is_some() || http {
                cx.put(keys::HEALTHCHECK_PROTOCOL, protocol.0.to_ascii_lowercase());
            }
            if let Some((p, src)) = &path
                && (path_ann.is_some() || p != "/")
            {
                cx.put(keys::HEALTHCHECK_PATH, p.clone());
                if path_ann.is_none() {
                    cx.info(
                        "healthcheck-path-explicit",
                        keys::HEALTHCHECK_PATH,
                        format!("{p} ({}), written explicitly", src.describe()),
                    );
                }
            }
            if protocol_ann.is_none() && http {
                cx.info(
                    "healthcheck-protocol-explicit",
                    keys::HEALTHCHECK_PROTOCOL,
                    format!(
                        "{} ({}), written explicitly: the LBC's default for ip targets is TCP",
                        protocol.0,
                        protocol.1.describe()
                    ),
                );
            }
        }
    }

    let on_traffic_port = matches!(
        port.0,
        HcPort::Traffic | HcPort::NodePort { .. } | HcPort::KubeProxy(_)
    );
    if on_traffic_port && cx.has_udp() {
        let udp: Vec<String> = cx
            .svc
            .ports
            .iter()
            .filter(|p| super::is_udp(&p.protocol))
            .map(|p| p.port.to_string())
            .collect();
        cx.warn(
            "healthcheck-udp",
            ann::HEALTHCHECK_PORT,
            format!(
                "the NLB cannot health-check over UDP: for the UDP ports ({}) it sends a TCP probe to traffic-port, the pod's UDP port, which fails unless the pod also accepts TCP there; when every target fails, the NLB fails open and sends to all of them",
                udp.join(", ")
            ),
            "set aws-load-balancer-healthcheck-port to a TCP port (number or name) the pods serve",
        );
    }
    cx.put(keys::HEALTHCHECK_INTERVAL, interval.0.to_string());
    cx.info(
        "healthcheck-interval-explicit",
        keys::HEALTHCHECK_INTERVAL,
        format!(
            "{} s ({}), written explicitly: the in-tree NLB defaults to 30 s (10 s with externalTrafficPolicy: Local) but the LBC to 10 s",
            interval.0,
            interval.1.describe()
        ),
    );
    for (key, (value, source), annotated) in [
        (keys::HEALTHY_THRESHOLD, healthy, healthy_ann.is_some()),
        (
            keys::UNHEALTHY_THRESHOLD,
            unhealthy,
            unhealthy_ann.is_some(),
        ),
    ] {
        if annotated || value != LBC_THRESHOLD {
            cx.put(key, value.to_string());
        }
        if !annotated && value != LBC_THRESHOLD {
            cx.info(
                "healthcheck-threshold-explicit",
                key,
                format!(
                    "{value} ({}), written explicitly: the LBC's default for ip targets is {LBC_THRESHOLD}",
                    source.describe()
                ),
            );
        }
    }
}

/// Chooses live, then annotation, then default; reports a live value that
/// differs from the annotation.
fn pick<T: Clone + PartialEq + std::fmt::Debug + Describe>(
    cx: &mut Cx,
    key: &str,
    live: Option<T>,
    annotated: Option<T>,
    default: T,
) -> (T, Source) {
    match (live, annotated) {
        (Some(l), Some(a)) => {
            if l != a {
                cx.warn(
                    "healthcheck-live-differs",
                    key,
                    format!(
                        "the annotation says {} but the live target groups use {}; the live value is what the in-tree NLB applied (health-check annotations take effect on NLBs from Kubernetes 1.20) and is kept",
                        a.text(),
                        l.text()
                    ),
                    "if the annotation's value is the one wanted, set it on the new Service deliberately",
                );
            }
            (l, Source::Live)
        }
        (Some(l), None) => (l, Source::Live),
        (None, Some(a)) => (a, Source::Annotation),
        (None, None) => (default, Source::Default),
    }
}

trait Describe {
    fn text(&self) -> String;
}

impl Describe for i32 {
    fn text(&self) -> String {
        self.to_string()
    }
}

impl Describe for String {
    fn text(&self) -> String {
        self.clone()
    }
}

impl Describe for HcPort {
    fn text(&self) -> String {
        self.describe()
    }
}

/// One value the live target groups agree on; disagreement is reported.
fn live<T: Ord + Clone + std::fmt::Display>(
    cx: &mut Cx,
    tgs: &[TargetGroup],
    key: &str,
    get: impl Fn(&TargetGroup) -> Option<T>,
) -> Option<T> {
    match agreed(tgs, get) {
        Agreed::One(v) => Some(v),
        Agreed::Unknown => None,
        Agreed::Several(values) => {
            let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            cx.warn(
                "live-target-groups-differ",
                key,
                format!(
                    "the live target groups disagree ({}), so they were edited out of band; the annotation or the in-tree default is used",
                    list.join(", ")
                ),
                "set the value wanted on the new Service explicitly",
            );
            None
        }
    }
}

fn take_protocol(cx: &mut Cx) -> Option<String> {
    let raw = cx.take(keys::HEALTHCHECK_PROTOCOL)?;
    let upper = raw.trim().to_ascii_uppercase();
    if matches!(upper.as_str(), "TCP" | "HTTP" | "HTTPS") {
        Some(upper)
    } else {
        cx.invalid(keys::HEALTHCHECK_PROTOCOL, &raw, "tcp, http or https");
        None
    }
}

fn take_port(cx: &mut Cx) -> Option<HcPort> {
    let raw = cx.take(ann::HEALTHCHECK_PORT)?;
    let port = classify_port(cx, &raw);
    if port.is_none() {
        cx.invalid(
            ann::HEALTHCHECK_PORT,
            &raw,
            "traffic-port, a port number or a Service port name",
        );
    }
    port
}

fn take_int(cx: &mut Cx, key: &str) -> Option<i32> {
    let raw = cx.take(key)?;
    match raw.trim().parse::<i32>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            cx.invalid(key, &raw, "a positive whole number");
            None
        }
    }
}

fn classify_port(cx: &Cx, text: &str) -> Option<HcPort> {
    let text = text.trim();
    if text == "traffic-port" {
        return Some(HcPort::Traffic);
    }
    if let Ok(n) = text.parse::<i32>() {
        let node_ports: Vec<i32> = cx
            .svc
            .ports
            .iter()
            .filter_map(|p| p.node_port)
            .chain(cx.target_groups().iter().filter_map(|t| t.port))
            .collect();
        let target_ports: Vec<String> = cx
            .svc
            .ports
            .iter()
            .filter_map(|p| p.target_port.clone())
            .collect();
        return Some(
            if Some(n) == cx.svc.health_check_node_port || n == KUBE_PROXY_HEALTH_PORT {
                HcPort::KubeProxy(Some(n))
            } else if node_ports.contains(&n) {
                HcPort::NodePort {
                    port: n,
                    known: true,
                }
            } else if NODE_PORT_RANGE.contains(&n) && !target_ports.contains(&n.to_string()) {
                HcPort::NodePort {
                    port: n,
                    known: false,
                }
            } else {
                HcPort::Number(n)
            },
        );
    }
    cx.svc
        .ports
        .iter()
        .any(|p| p.name.as_deref() == Some(text))
        .then(|| HcPort::Name(text.to_string()))
}

fn write_port(cx: &mut Cx, port: &HcPort, annotated: bool) {
    let key = ann::HEALTHCHECK_PORT;
    match port {
        HcPort::Traffic => {
            if annotated {
                cx.put(key, "traffic-port");
            }
        }
        HcPort::NodePort { port, known } => {
            cx.put(key, "traffic-port");
            let why = if *known {
                "a NodePort of this Service"
            } else {
                "in the NodePort range, so most likely a NodePort"
            };
            cx.warn(
                "healthcheck-port-rewritten",
                key,
                format!(
                    "{port} is {why}; ip targets are probed on the pod, where nothing listens on it, so it becomes traffic-port (each pod's targetPort)"
                ),
                "if the pods serve health checks on another port, set it (number or port name) on the new Service",
            );
        }
        HcPort::Number(n) => {
            cx.put(key, n.to_string());
            let target_ports: Vec<String> = cx
                .svc
                .ports
                .iter()
                .filter_map(|p| p.target_port.clone())
                .collect();
            if !target_ports.contains(&n.to_string()) {
                cx.warn(
                    "healthcheck-port-meaning-changes",
                    key,
                    format!(
                        "{n} was probed on each node; with ip targets it is probed on each pod"
                    ),
                    "check that the pods listen on this port, or use traffic-port",
                );
            }
        }
        HcPort::Name(name) => {
            cx.put(key, name.clone());
            cx.info(
                "healthcheck-port-named",
                key,
                format!(
                    "\"{name}\" is carried: for ip targets the LBC resolves a Service port name to its targetPort"
                ),
            );
        }
        HcPort::KubeProxy(_) => {}
    }
}

/// The timeout row: in-tree parsed it but never sent it, so carrying it
/// would start enforcing a value that never applied (domain.md §1.2).
fn timeout(cx: &mut Cx, tgs: &[TargetGroup]) {
    let Some(raw) = cx.take(ann::HEALTHCHECK_TIMEOUT) else {
        return;
    };
    let live = match agreed(tgs, |t| t.health_check.timeout_seconds) {
        Agreed::One(v) => format!(" (the live target groups use {v} s, AWS's value)"),
        _ => String::new(),
    };
    cx.warn(
        "healthcheck-timeout-dropped",
        ann::HEALTHCHECK_TIMEOUT,
        format!(
            "\"{raw}\" is left out: the in-tree provider never sent it to the NLB (\"Currently not configurable\"){live}, and the LBC would start enforcing it; the new NLB uses the LBC default (10 s)"
        ),
        "add it to the new Service only if that timeout is really wanted",
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::{anns, codes, entry, legacy, online, run, tg};
    use super::super::{Live, Severity};
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cluster_service_keeps_tcp_on_traffic_port_with_the_in_tree_interval() {
        let t = run(&legacy(&[], json!({})), &online());
        let a = anns(&t);
        assert_eq!(a[keys::HEALTHCHECK_INTERVAL], "30");
        assert!(!a.contains_key(keys::HEALTHCHECK_PROTOCOL));
        assert!(!a.contains_key(ann::HEALTHCHECK_PORT));
        assert!(!a.contains_key(keys::HEALTHY_THRESHOLD));
        assert!(
            entry(&t, "healthcheck-interval-explicit")
                .message
                .contains("in-tree default")
        );
    }

    #[test]
    fn local_defaults_probed_kube_proxy_and_are_not_carried() {
        let svc = legacy(
            &[],
            json!({"externalTrafficPolicy": "Local", "healthCheckNodePort": 32100}),
        );
        let t = run(&svc, &online());
        let a = anns(&t);
        assert!(!a.contains_key(keys::HEALTHCHECK_PROTOCOL));
        assert!(!a.contains_key(keys::HEALTHCHECK_PATH));
        assert!(!a.contains_key(ann::HEALTHCHECK_PORT));
        assert_eq!(a[keys::HEALTHCHECK_INTERVAL], "10");
        assert_eq!(a[keys::HEALTHY_THRESHOLD], "2");
        assert_eq!(a[keys::UNHEALTHY_THRESHOLD], "2");
        let e = entry(&t, "healthcheck-kube-proxy");
        assert_eq!(e.field, "spec.externalTrafficPolicy");
        assert!(
            e.message.contains("HTTP /healthz on port 32100"),
            "{}",
            e.message
        );
    }

    #[test]
    fn an_http_check_on_the_health_check_node_port_is_not_carried() {
        let svc = legacy(
            &[
                (keys::HEALTHCHECK_PROTOCOL, "http"),
                (keys::HEALTHCHECK_PATH, "/ready"),
                (ann::HEALTHCHECK_PORT, "32100"),
            ],
            json!({"externalTrafficPolicy": "Local", "healthCheckNodePort": 32100}),
        );
        let t = run(&svc, &online());
        let a = anns(&t);
        assert_eq!(a[ann::HEALTHCHECK_PORT], "traffic-port");
        assert!(!a.contains_key(keys::HEALTHCHECK_PROTOCOL));
        assert!(!a.contains_key(keys::HEALTHCHECK_PATH));
        assert_eq!(
            entry(&t, "healthcheck-kube-proxy").field,
            ann::HEALTHCHECK_PORT
        );
    }

    #[test]
    fn the_shared_kube_proxy_port_is_recognised() {
        let t = run(
            &legacy(&[(ann::HEALTHCHECK_PORT, "10256")], json!({})),
            &online(),
        );
        assert!(codes(&t).contains(&"healthcheck-kube-proxy"));
        assert_eq!(anns(&t)[ann::HEALTHCHECK_PORT], "traffic-port");
    }

    #[test]
    fn an_http_check_through_the_node_port_is_carried_to_the_pod() {
        let svc = legacy(
            &[
                (keys::HEALTHCHECK_PROTOCOL, "HTTP"),
                (keys::HEALTHCHECK_PATH, "/healthz"),
                (ann::HEALTHCHECK_PORT, "traffic-port"),
            ],
            json!({"externalTrafficPolicy": "Local"}),
        );
        let t = run(&svc, &online());
        let a = anns(&t);
        assert_eq!(a[keys::HEALTHCHECK_PROTOCOL], "http");
        assert_eq!(a[keys::HEALTHCHECK_PATH], "/healthz");
        assert_eq!(a[ann::HEALTHCHECK_PORT], "traffic-port");
        assert!(!codes(&t).contains(&"healthcheck-kube-proxy"));
    }

    #[test]
    fn numeric_node_ports_become_traffic_port() {
        for port in ["30080", "31999"] {
            let t = run(
                &legacy(&[(ann::HEALTHCHECK_PORT, port)], json!({})),
                &online(),
            );
            assert_eq!(anns(&t)[ann::HEALTHCHECK_PORT], "traffic-port", "{port}");
            assert_eq!(
                entry(&t, "healthcheck-port-rewritten").severity,
                Severity::Warning
            );
        }
    }

    #[test]
    fn other_ports_are_carried_with_their_new_meaning() {
        let t = run(
            &legacy(&[(ann::HEALTHCHECK_PORT, "8080")], json!({})),
            &online(),
        );
        assert_eq!(anns(&t)[ann::HEALTHCHECK_PORT], "8080");
        assert!(!codes(&t).contains(&"healthcheck-port-meaning-changes"));
        let t = run(
            &legacy(&[(ann::HEALTHCHECK_PORT, "9000")], json!({})),
            &online(),
        );
        assert!(codes(&t).contains(&"healthcheck-port-meaning-changes"));
        let t = run(
            &legacy(&[(ann::HEALTHCHECK_PORT, "https")], json!({})),
            &online(),
        );
        assert_eq!(anns(&t)[ann::HEALTHCHECK_PORT], "https");
        assert!(codes(&t).contains(&"healthcheck-port-named"));
    }

    #[test]
    fn invalid_values_block() {
        for (key, value) in [
            (keys::HEALTHCHECK_PROTOCOL, "udp"),
            (ann::HEALTHCHECK_PORT, "nope"),
            (keys::HEALTHCHECK_INTERVAL, "30s"),
            (keys::HEALTHY_THRESHOLD, "0"),
        ] {
            let t = run(&legacy(&[(key, value)], json!({})), &online());
            let e = t.blockers().next().unwrap();
            assert_eq!(
                (e.code, e.field.as_str()),
                ("invalid-annotation-value", key)
            );
        }
    }

    #[test]
    fn the_live_interval_wins_and_disagreement_is_reported() {
        let mut a = tg(30080);
        let mut b = tg(30443);
        a.health_check.interval_seconds = Some(10);
        b.health_check.interval_seconds = Some(10);
        let live = Live {
            target_groups: Some(vec![a, b]),
            ..online()
        };
        let t = run(
            &legacy(&[(keys::HEALTHCHECK_INTERVAL, "30")], json!({})),
            &live,
        );
        assert_eq!(anns(&t)[keys::HEALTHCHECK_INTERVAL], "10");
        assert_eq!(
            entry(&t, "healthcheck-live-differs").field,
            keys::HEALTHCHECK_INTERVAL
        );
    }

    #[test]
    fn live_target_groups_that_disagree_are_not_trusted() {
        let a = tg(30080);
        let mut b = tg(30443);
        b.health_check.interval_seconds = Some(10);
        let live = Live {
            target_groups: Some(vec![a, b]),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert_eq!(anns(&t)[keys::HEALTHCHECK_INTERVAL], "30");
        assert!(
            entry(&t, "live-target-groups-differ")
                .message
                .contains("10, 30")
        );
    }

    #[test]
    fn a_live_kube_proxy_check_is_recognised_without_annotations() {
        let mut a = tg(30080);
        a.health_check.protocol = Some("HTTP".into());
        a.health_check.port = Some("32100".into());
        a.health_check.path = Some("/healthz".into());
        a.health_check.interval_seconds = Some(10);
        let live = Live {
            target_groups: Some(vec![a]),
            ..online()
        };
        let svc = legacy(
            &[],
            json!({"externalTrafficPolicy": "Local", "healthCheckNodePort": 32100}),
        );
        let t = run(&svc, &live);
        assert!(
            entry(&t, "healthcheck-kube-proxy")
                .message
                .contains("HTTP /healthz on port 32100")
        );
        assert_eq!(anns(&t)[keys::HEALTHCHECK_INTERVAL], "10");
    }

    #[test]
    fn the_timeout_is_dropped_because_in_tree_never_applied_it() {
        let live = Live {
            target_groups: Some(vec![tg(30080)]),
            ..online()
        };
        let t = run(
            &legacy(&[(ann::HEALTHCHECK_TIMEOUT, "3")], json!({})),
            &live,
        );
        assert!(!anns(&t).contains_key(ann::HEALTHCHECK_TIMEOUT));
        let e = entry(&t, "healthcheck-timeout-dropped");
        assert!(
            e.message.contains("live target groups use 10 s"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_path_with_tcp_is_reported_unused() {
        let t = run(
            &legacy(&[(keys::HEALTHCHECK_PATH, "/x")], json!({})),
            &online(),
        );
        assert!(!anns(&t).contains_key(keys::HEALTHCHECK_PATH));
        assert!(codes(&t).contains(&"healthcheck-path-unused"));
    }

    #[test]
    fn udp_ports_on_traffic_port_get_a_warning() {
        let svc = legacy(
            &[],
            json!({"ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}]}),
        );
        let t = run(&svc, &online());
        assert!(entry(&t, "healthcheck-udp").message.contains("(53)"));
        let named = legacy(
            &[(ann::HEALTHCHECK_PORT, "8080")],
            json!({"ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}]}),
        );
        assert!(!codes(&run(&named, &online())).contains(&"healthcheck-udp"));
    }

    #[test]
    fn annotated_thresholds_are_carried() {
        let t = run(
            &legacy(
                &[
                    (keys::HEALTHY_THRESHOLD, "3"),
                    (keys::UNHEALTHY_THRESHOLD, "5"),
                ],
                json!({}),
            ),
            &online(),
        );
        assert_eq!(anns(&t)[keys::HEALTHY_THRESHOLD], "3");
        assert_eq!(anns(&t)[keys::UNHEALTHY_THRESHOLD], "5");
        assert!(!codes(&t).contains(&"healthcheck-threshold-explicit"));
    }
}
