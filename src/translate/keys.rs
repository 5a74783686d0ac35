//! Annotation keys the translation reads or writes beyond those in
//! `crate::annotations`, and the list of domain.md §1.2 rows the fixture
//! corpus must cover.

use crate::annotations as ann;
use crate::model::Version;

const P: &str = "service.beta.kubernetes.io/";

pub const CROSS_ZONE: &str =
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled";
pub const ACCESS_LOG_ENABLED: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-enabled";
pub const ACCESS_LOG_BUCKET: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-name";
pub const ACCESS_LOG_PREFIX: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-prefix";
// Handled through `annotations::CLB_ONLY`/`LBC_ONLY`; named here for the §1.2 coverage test.
#[cfg(test)]
pub const ACCESS_LOG_EMIT_INTERVAL: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-emit-interval";
// Handled through `annotations::CLB_ONLY`/`LBC_ONLY`; named here for the §1.2 coverage test.
#[cfg(test)]
pub const DRAINING_ENABLED: &str =
    "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled";
pub const DRAINING_TIMEOUT: &str =
    "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout";
pub const IDLE_TIMEOUT: &str =
    "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout";
// Handled through `annotations::CLB_ONLY`/`LBC_ONLY`; named here for the §1.2 coverage test.
#[cfg(test)]
pub const EXTRA_SECURITY_GROUPS: &str =
    "service.beta.kubernetes.io/aws-load-balancer-extra-security-groups";
pub const SSL_CERT: &str = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert";
pub const SSL_NEGOTIATION_POLICY: &str =
    "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy";
pub const BACKEND_PROTOCOL: &str = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol";
pub const ADDITIONAL_TAGS: &str =
    "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags";
pub const HEALTHCHECK_PROTOCOL: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol";
pub const HEALTHCHECK_PATH: &str = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path";
pub const HEALTHCHECK_INTERVAL: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval";
pub const HEALTHY_THRESHOLD: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold";
pub const UNHEALTHY_THRESHOLD: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold";
// Handled through `annotations::CLB_ONLY`/`LBC_ONLY`; named here for the §1.2 coverage test.
#[cfg(test)]
pub const HEALTHCHECK_SUCCESS_CODES: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes";
pub const SUBNETS: &str = "service.beta.kubernetes.io/aws-load-balancer-subnets";
pub const TARGET_NODE_LABELS: &str =
    "service.beta.kubernetes.io/aws-load-balancer-target-node-labels";
pub const ATTRIBUTES: &str = "service.beta.kubernetes.io/aws-load-balancer-attributes";
pub const PROXY_PROTOCOL_PER_TG: &str =
    "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol-per-target-group";
pub const DISABLE_NLB_SG: &str = "service.beta.kubernetes.io/aws-load-balancer-disable-nlb-sg";
/// The generic (not AWS-specific) source-range annotation; `spec` wins over it.
pub const SOURCE_RANGES: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Argo CD's resource tracking annotation: it names the object it was put on,
/// so on a copy it points at the old Service.
pub const ARGOCD_TRACKING: &str = "argocd.argoproj.io/tracking-id";

/// Annotation prefixes of external-dns: GA since v0.22.0, alpha before
/// (domain.md §6).
pub const EXTERNAL_DNS_PREFIXES: &[&str] = &[
    "external-dns.kubernetes.io/",
    "external-dns.alpha.kubernetes.io/",
];

/// Provenance on the new Service, in the key style of `bind::PROVENANCE`
/// and `cmd::switch::PROVENANCE`: `<namespace>/<name>` of the legacy Service.
pub const MIGRATED_FROM: &str = "nlb.kubectl.io/migrated-from";

/// First LBC release that gives NLBs security groups, where source ranges
/// go into the frontend SG (domain.md §1.2 source-ranges row, §8.1).
pub const LBC_MIN_NLB_SG: Version = Version::new(2, 6, 0);
/// First LBC release with `aws-load-balancer-attributes` (domain.md §8.1).
pub const LBC_MIN_ATTRIBUTES: Version = Version::new(2, 3, 0);
/// First LBC release with per-port target-group attributes (domain.md §8.1).
pub const LBC_MIN_PER_PORT_ATTRIBUTES: Version = Version::new(2, 14, 0);

/// Annotations only the LBC reads (domain.md §1.2 last row and the LBC-only
/// rows), beyond `ann::LBC_ONLY`. On an in-tree Service they did nothing;
/// carried to the new Service they start to apply.
const LBC_ONLY_MORE: &[&str] = &[
    "service.beta.kubernetes.io/aws-load-balancer-alpn-policy",
    "service.beta.kubernetes.io/aws-load-balancer-security-group-prefix-lists",
    "service.beta.kubernetes.io/aws-load-balancer-inbound-sg-rules-on-private-link-traffic",
    "service.beta.kubernetes.io/aws-load-balancer-multi-cluster-target-group",
    "service.beta.kubernetes.io/aws-load-balancer-disable-nlb-sg",
    "service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener",
    "service.beta.kubernetes.io/aws-load-balancer-minimum-load-balancer-capacity",
    "service.beta.kubernetes.io/aws-load-balancer-enable-icmp-for-path-mtu-discovery",
    "service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses",
    "service.beta.kubernetes.io/aws-load-balancer-source-nat-ipv6-prefixes",
    "service.beta.kubernetes.io/aws-load-balancer-enable-prefix-for-ipv6-source-nat",
    "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-ports",
];

/// Key prefixes of LBC-only annotation families (`…listener-attributes.TCP-80`,
/// per-port `…target-group-attributes.443`, `actions.<proto>-<port>`).
const LBC_ONLY_PREFIXES: &[&str] = &[
    "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.",
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes.",
    "service.beta.kubernetes.io/actions.",
];

pub fn is_lbc_only(key: &str) -> bool {
    ann::LBC_ONLY.contains(&key)
        || LBC_ONLY_MORE.contains(&key)
        || LBC_ONLY_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// A key of the AWS load-balancer family that neither controller is known to read.
pub fn is_aws_load_balancer_key(key: &str) -> bool {
    key.strip_prefix(P)
        .is_some_and(|rest| rest.starts_with("aws-load-balancer-"))
}

/// Every key or field named in a row of domain.md §1.2, with the row it
/// stands for. The fixture corpus must mention each one at least once.
#[cfg(test)]
pub const SECTION_1_2_ROWS: &[(&str, &str)] = &[
    (ann::LB_TYPE, "type: nlb"),
    (ann::NLB_TARGET_TYPE, "nlb-target-type (LBC only)"),
    (ann::INTERNAL, "scheme"),
    (ann::SCHEME, "scheme"),
    (ann::PROXY_PROTOCOL, "proxy protocol"),
    (PROXY_PROTOCOL_PER_TG, "proxy protocol"),
    (CROSS_ZONE, "cross-zone"),
    (ACCESS_LOG_ENABLED, "access logs"),
    (ACCESS_LOG_BUCKET, "access logs"),
    (ACCESS_LOG_PREFIX, "access logs"),
    (ACCESS_LOG_EMIT_INTERVAL, "access-log emit interval"),
    (DRAINING_ENABLED, "connection draining"),
    (DRAINING_TIMEOUT, "connection draining"),
    (IDLE_TIMEOUT, "idle timeout"),
    (SSL_CERT, "ssl-cert"),
    (ann::SSL_PORTS, "ssl-ports"),
    (SSL_NEGOTIATION_POLICY, "ssl-negotiation-policy"),
    (BACKEND_PROTOCOL, "backend-protocol"),
    (ADDITIONAL_TAGS, "additional-resource-tags"),
    (HEALTHCHECK_PROTOCOL, "healthcheck-protocol"),
    (ann::HEALTHCHECK_PORT, "healthcheck-port"),
    (HEALTHCHECK_PATH, "healthcheck-path"),
    (HEALTHCHECK_INTERVAL, "healthcheck-interval"),
    (ann::HEALTHCHECK_TIMEOUT, "healthcheck-timeout"),
    (HEALTHY_THRESHOLD, "healthcheck thresholds"),
    (UNHEALTHY_THRESHOLD, "healthcheck thresholds"),
    (
        HEALTHCHECK_SUCCESS_CODES,
        "healthcheck-success-codes (LBC only)",
    ),
    (ann::EIP_ALLOCATIONS, "eip-allocations"),
    (ann::PRIVATE_IPV4_ADDRESSES, "private-ipv4-addresses"),
    (SUBNETS, "subnets"),
    (TARGET_NODE_LABELS, "target-node-labels"),
    (ann::SECURITY_GROUPS, "security-groups"),
    (EXTRA_SECURITY_GROUPS, "extra-security-groups"),
    (ann::TARGET_GROUP_ATTRIBUTES, "target-group-attributes"),
    (SOURCE_RANGES, "source ranges"),
    ("loadBalancerSourceRanges", "source ranges"),
    ("externalTrafficPolicy", "spec.externalTrafficPolicy"),
    ("loadBalancerIP", "spec.loadBalancerIP"),
    // The LBC-only last row.
    (
        "service.beta.kubernetes.io/aws-load-balancer-name",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-ip-address-type",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-alpn-policy",
        "LBC only",
    ),
    (ATTRIBUTES, "LBC only"),
    (
        "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-security-group-prefix-lists",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-inbound-sg-rules-on-private-link-traffic",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-multi-cluster-target-group",
        "LBC only",
    ),
    (DISABLE_NLB_SG, "LBC only"),
    (
        "service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-minimum-load-balancer-capacity",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-enable-icmp-for-path-mtu-discovery",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-source-nat-ipv6-prefixes",
        "LBC only",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-ports",
        "LBC only",
    ),
    ("service.beta.kubernetes.io/actions.", "LBC only"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbc_only_keys_include_families_and_the_shared_list() {
        assert!(is_lbc_only(ann::SCHEME));
        assert!(is_lbc_only(
            "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-80"
        ));
        assert!(is_lbc_only(
            "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes.443"
        ));
        assert!(!is_lbc_only(ann::TARGET_GROUP_ATTRIBUTES));
        assert!(!is_lbc_only(SSL_CERT));
    }

    #[test]
    fn the_aws_family_is_recognised_by_prefix() {
        assert!(is_aws_load_balancer_key(
            "service.beta.kubernetes.io/aws-load-balancer-made-up"
        ));
        assert!(!is_aws_load_balancer_key(SOURCE_RANGES));
        assert!(!is_aws_load_balancer_key("example.com/aws-load-balancer-x"));
    }
}
