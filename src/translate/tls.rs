//! TLS rows of domain.md §1.2: ssl-cert, ssl-ports, ssl-negotiation-policy
//! and backend-protocol.

use super::{Cx, is_udp, keys};
use crate::annotations as ann;
use std::collections::BTreeSet;

pub(super) fn translate(cx: &mut Cx) {
    let cert = cx.take(keys::SSL_CERT).filter(|c| !c.trim().is_empty());
    let ports = cx.take(ann::SSL_PORTS);
    let policy = cx.take(keys::SSL_NEGOTIATION_POLICY);
    let backend = cx.take(keys::BACKEND_PROTOCOL);

    let Some(cert) = cert else {
        // Without a certificate neither controller makes a TLS listener, so
        // these did nothing.
        for (key, value) in [
            (ann::SSL_PORTS, ports),
            (keys::SSL_NEGOTIATION_POLICY, policy),
        ] {
            if let Some(v) = value {
                cx.info(
                    "tls-without-certificate",
                    key,
                    format!(
                        "\"{v}\" is left out: without aws-load-balancer-ssl-cert no listener is TLS, so it had no effect"
                    ),
                );
            }
        }
        if let Some(b) = backend {
            if b.eq_ignore_ascii_case("ssl") {
                cx.info(
                    "tls-without-certificate",
                    keys::BACKEND_PROTOCOL,
                    "\"ssl\" is left out: the in-tree provider uses TLS to the targets only together with a certificate, so the targets got TCP",
                );
            } else {
                backend_protocol(cx, b);
            }
        }
        return;
    };

    cx.put(keys::SSL_CERT, cert);
    let tls_ports = match ports {
        Some(p) => ssl_ports(cx, &p),
        None => true,
    };
    if !tls_ports {
        // Every entry named a UDP port: no TLS listener in-tree. The LBC
        // reads an absent ssl-ports as "all ports", so the certificate goes.
        cx.out.remove(keys::SSL_CERT);
        cx.info(
            "tls-without-ports",
            keys::SSL_CERT,
            "left out: ssl-ports names only UDP ports, which never get TLS listeners, so the NLB had no TLS listener; the LBC would make every TCP port TLS if the certificate stayed without ssl-ports",
        );
        return;
    }
    match policy {
        Some(p) => cx.put(keys::SSL_NEGOTIATION_POLICY, p),
        None => cx.info(
            "ssl-policy-default",
            keys::SSL_NEGOTIATION_POLICY,
            "not set: the in-tree NLB's TLS listeners got the AWS API default, while the LBC sends its own default ELBSecurityPolicy-2016-08 (--default-ssl-policy); the policy may change",
        ),
    }
    if let Some(b) = backend {
        backend_protocol(cx, b);
    }
}

/// Whether the LBC makes this port's listener TLS, from what the
/// translation wrote: a certificate, and the port in ssl-ports (absent: all).
pub(super) fn is_tls_port(cx: &Cx, port: i32) -> bool {
    if !cx.out.contains_key(keys::SSL_CERT) {
        return false;
    }
    match cx.out.get(ann::SSL_PORTS) {
        None => true,
        Some(list) => list.split(',').any(|e| e.trim() == port.to_string()),
    }
}

/// `ssl` and `tcp` mean the same in both controllers; the CLB values
/// `http`/`https` meant TCP for an NLB.
fn backend_protocol(cx: &mut Cx, value: String) {
    let lower = value.trim().to_ascii_lowercase();
    if lower == "ssl" || lower == "tcp" {
        cx.put(keys::BACKEND_PROTOCOL, lower);
    } else {
        cx.info(
            "backend-protocol-tcp",
            keys::BACKEND_PROTOCOL,
            format!(
                "\"{value}\" is left out: for an NLB the in-tree provider treats every value but \"ssl\" as TCP, which is the LBC default"
            ),
        );
    }
}

/// Resolves ssl-ports to Service port numbers; returns false when no TCP
/// port is left.
fn ssl_ports(cx: &mut Cx, text: &str) -> bool {
    let entries: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() || entries.contains(&"*") {
        cx.info(
            "ssl-ports-wildcard",
            ann::SSL_PORTS,
            format!(
                "\"{text}\" is left out: in-tree, \"*\" (or nothing) means every port, but the LBC matches \"*\" to no port (v2.5 and later fail the whole reconcile with \"Unused port in ssl-ports annotation [*]\", model_build_listener.go `validateTLSPortsSet`); absent means every port in both"
            ),
        );
        return true;
    }
    let mut numbers = BTreeSet::new();
    let mut unknown = Vec::new();
    let mut udp = Vec::new();
    for e in &entries {
        let port = cx
            .svc
            .ports
            .iter()
            .find(|p| p.name.as_deref() == Some(*e) || p.port.to_string() == *e);
        match port {
            Some(p) if is_udp(&p.protocol) => udp.push(e.to_string()),
            Some(p) => {
                numbers.insert(p.port);
            }
            None => unknown.push(e.to_string()),
        }
    }
    let known: Vec<String> = cx
        .svc
        .ports
        .iter()
        .map(|p| match &p.name {
            Some(n) => format!("{} ({n})", p.port),
            None => p.port.to_string(),
        })
        .collect();
    if !unknown.is_empty() {
        cx.error(
            "ssl-ports-unknown-port",
            ann::SSL_PORTS,
            format!(
                "entries that match no port of the Service: {} (its ports: {}); the in-tree provider skipped them, but LBC v2.5 or later fails the whole reconcile (\"Unused port in ssl-ports annotation\"); the new Service lists only the ports that match",
                unknown.join(", "),
                known.join(", ")
            ),
            "correct or remove the entry on the legacy Service (a typo may mean a port that should be TLS is not), then run migrate again",
        );
    }
    if !udp.is_empty() {
        cx.info(
            "ssl-ports-udp",
            ann::SSL_PORTS,
            format!(
                "{} left out: UDP ports never get TLS listeners",
                udp.join(", ")
            ),
        );
    }
    if numbers.is_empty() {
        return !unknown.is_empty();
    }
    let written = numbers
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    if written != entries.join(",") && udp.is_empty() && unknown.is_empty() {
        cx.info(
            "ssl-ports-resolved",
            ann::SSL_PORTS,
            format!("\"{text}\" written as \"{written}\": port names resolved to numbers"),
        );
    }
    cx.put(ann::SSL_PORTS, written);
    true
}

#[cfg(test)]
mod tests {
    use super::super::tests::{anns, codes, legacy, online, run};
    use super::*;
    use serde_json::json;

    const CERT: &str = "arn:aws:acm:eu-west-1:111122223333:certificate/abc";

    #[test]
    fn certificate_policy_and_backend_are_carried() {
        let t = run(
            &legacy(
                &[
                    (keys::SSL_CERT, CERT),
                    (
                        keys::SSL_NEGOTIATION_POLICY,
                        "ELBSecurityPolicy-TLS13-1-2-2021-06",
                    ),
                    (keys::BACKEND_PROTOCOL, "ssl"),
                ],
                json!({}),
            ),
            &online(),
        );
        let a = anns(&t);
        assert_eq!(a[keys::SSL_CERT], CERT);
        assert_eq!(
            a[keys::SSL_NEGOTIATION_POLICY],
            "ELBSecurityPolicy-TLS13-1-2-2021-06"
        );
        assert_eq!(a[keys::BACKEND_PROTOCOL], "ssl");
        assert!(!a.contains_key(ann::SSL_PORTS));
        assert!(!codes(&t).contains(&"ssl-policy-default"));
    }

    #[test]
    fn a_wildcard_is_removed_because_absent_means_all() {
        let t = run(
            &legacy(&[(keys::SSL_CERT, CERT), (ann::SSL_PORTS, "*")], json!({})),
            &online(),
        );
        assert!(!anns(&t).contains_key(ann::SSL_PORTS));
        assert!(codes(&t).contains(&"ssl-ports-wildcard"));
        assert!(codes(&t).contains(&"ssl-policy-default"));
    }

    #[test]
    fn port_names_become_numbers() {
        let t = run(
            &legacy(
                &[(keys::SSL_CERT, CERT), (ann::SSL_PORTS, "https")],
                json!({}),
            ),
            &online(),
        );
        assert_eq!(anns(&t)[ann::SSL_PORTS], "443");
        assert!(codes(&t).contains(&"ssl-ports-resolved"));
        let t = run(
            &legacy(
                &[(keys::SSL_CERT, CERT), (ann::SSL_PORTS, "443")],
                json!({}),
            ),
            &online(),
        );
        assert_eq!(anns(&t)[ann::SSL_PORTS], "443");
        assert!(!codes(&t).contains(&"ssl-ports-resolved"));
    }

    #[test]
    fn an_unknown_port_blocks() {
        let t = run(
            &legacy(
                &[(keys::SSL_CERT, CERT), (ann::SSL_PORTS, "443,8443")],
                json!({}),
            ),
            &online(),
        );
        let e = t.blockers().next().unwrap();
        assert_eq!(e.code, "ssl-ports-unknown-port");
        assert!(e.message.contains("8443") && e.message.contains("443 (https)"));
        assert_eq!(anns(&t)[ann::SSL_PORTS], "443");
    }

    #[test]
    fn only_udp_ports_means_no_tls_at_all() {
        let svc = legacy(
            &[(keys::SSL_CERT, CERT), (ann::SSL_PORTS, "dns")],
            json!({"ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353},
                {"name": "api", "port": 443, "protocol": "TCP", "targetPort": 8443}
            ]}),
        );
        let t = run(&svc, &online());
        assert!(!anns(&t).contains_key(keys::SSL_CERT));
        assert!(!anns(&t).contains_key(ann::SSL_PORTS));
        assert!(codes(&t).contains(&"tls-without-ports"));
    }

    #[test]
    fn tls_settings_without_a_certificate_are_dropped() {
        let t = run(
            &legacy(
                &[
                    (ann::SSL_PORTS, "443"),
                    (keys::SSL_NEGOTIATION_POLICY, "ELBSecurityPolicy-2016-08"),
                    (keys::BACKEND_PROTOCOL, "ssl"),
                ],
                json!({}),
            ),
            &online(),
        );
        let a = anns(&t);
        for k in [
            ann::SSL_PORTS,
            keys::SSL_NEGOTIATION_POLICY,
            keys::BACKEND_PROTOCOL,
        ] {
            assert!(!a.contains_key(k), "{k}");
        }
        assert_eq!(
            codes(&t)
                .iter()
                .filter(|c| **c == "tls-without-certificate")
                .count(),
            3
        );
    }

    #[test]
    fn clb_backend_protocols_mean_tcp() {
        let t = run(
            &legacy(&[(keys::BACKEND_PROTOCOL, "http")], json!({})),
            &online(),
        );
        assert!(!anns(&t).contains_key(keys::BACKEND_PROTOCOL));
        assert!(codes(&t).contains(&"backend-protocol-tcp"));
    }
}
