//! What AWS will show on each target group of the new Service, for the
//! attributes a switch waits for: no wait may expect what can never appear.
//!
//! * The base `aws-load-balancer-target-group-attributes` applies to every
//!   port; a per-port `…-target-group-attributes.<service port>` (LBC v2.14
//!   and later) overrides it with its non-empty values
//!   (`pkg/service/model_build_target_group.go:277-305` `buildPortSpecificTargetGroupAttributes`).
//! * UDP and TCP_UDP target groups keep the client address whatever is asked:
//!   "client IP preservation is enabled (and can't be disabled) for ... UDP
//!   and TCP_UDP" (network/edit-target-group-attributes.html#client-ip-preservation).

use crate::annotations as ann;
use std::collections::BTreeMap;

pub const PRESERVE: &str = "preserve_client_ip.enabled";

/// The values to wait for on one target group, given the Service's
/// annotations, the Service port its listener serves (if known) and the
/// target group's protocol.
pub fn for_group(
    base: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    service_port: Option<i32>,
    protocol: Option<&str>,
) -> BTreeMap<String, String> {
    let mut want = base.clone();
    if let Some(port) = service_port
        && let Some(text) = annotations.get(&format!("{}.{port}", ann::TARGET_GROUP_ATTRIBUTES))
    {
        for (k, v) in crate::classify::parse_string_map(text).unwrap_or_default() {
            if !v.is_empty() && want.contains_key(&k) {
                want.insert(k, v);
            }
        }
    }
    if matches!(protocol, Some("UDP" | "TCP_UDP")) && want.contains_key(PRESERVE) {
        want.insert(PRESERVE.into(), "true".into());
    }
    want
}

/// Whether any per-port override exists (then the listeners must be read to
/// know which target group serves which port).
pub fn has_port_overrides(annotations: &BTreeMap<String, String>) -> bool {
    let prefix = format!("{}.", ann::TARGET_GROUP_ATTRIBUTES);
    annotations.keys().any(|k| k.starts_with(&prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn udp_groups_show_true_whatever_was_asked() {
        let base = m(&[(PRESERVE, "false")]);
        assert_eq!(
            for_group(&base, &m(&[]), Some(53), Some("UDP"))[PRESERVE],
            "true"
        );
        assert_eq!(
            for_group(&base, &m(&[]), Some(53), Some("TCP_UDP"))[PRESERVE],
            "true"
        );
        assert_eq!(
            for_group(&base, &m(&[]), Some(80), Some("TCP"))[PRESERVE],
            "false"
        );
    }

    #[test]
    fn per_port_overrides_win_with_non_empty_values_only() {
        let base = m(&[(PRESERVE, "false"), ("proxy_protocol_v2.enabled", "false")]);
        let key = format!("{}.443", ann::TARGET_GROUP_ATTRIBUTES);
        let anns = m(&[(
            key.as_str(),
            "preserve_client_ip.enabled=true,proxy_protocol_v2.enabled=,other=1",
        )]);
        let want = for_group(&base, &anns, Some(443), Some("TLS"));
        assert_eq!(want[PRESERVE], "true");
        assert_eq!(want["proxy_protocol_v2.enabled"], "false");
        assert!(!want.contains_key("other"), "only the awaited keys");
        assert_eq!(
            for_group(&base, &anns, Some(80), Some("TCP"))[PRESERVE],
            "false"
        );
        assert!(has_port_overrides(&anns));
        assert!(!has_port_overrides(&m(&[(
            ann::TARGET_GROUP_ATTRIBUTES,
            "a=b"
        )])));
    }
}
