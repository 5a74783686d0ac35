//! Annotation keys and class names shared by the in-tree provider and the AWS
//! Load Balancer Controller (domain.md §1.2).

pub const LB_TYPE: &str = "service.beta.kubernetes.io/aws-load-balancer-type";
pub const NLB_TARGET_TYPE: &str = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type";
pub const SCHEME: &str = "service.beta.kubernetes.io/aws-load-balancer-scheme";
pub const INTERNAL: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";
pub const TARGET_GROUP_ATTRIBUTES: &str =
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes";
pub const PROXY_PROTOCOL: &str = "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol";
pub const EIP_ALLOCATIONS: &str = "service.beta.kubernetes.io/aws-load-balancer-eip-allocations";
pub const PRIVATE_IPV4_ADDRESSES: &str =
    "service.beta.kubernetes.io/aws-load-balancer-private-ipv4-addresses";
pub const SECURITY_GROUPS: &str = "service.beta.kubernetes.io/aws-load-balancer-security-groups";
pub const HEALTHCHECK_TIMEOUT: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout";
pub const HEALTHCHECK_PORT: &str = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port";
pub const SSL_PORTS: &str = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports";

/// The class the LBC claims by default (`--load-balancer-class`, domain.md §2.3).
pub const LBC_CLASS: &str = "service.k8s.aws/nlb";
/// EKS Auto Mode's class: not the LBC, and its annotation support differs (domain.md §2.3).
pub const EKS_AUTO_CLASS: &str = "eks.amazonaws.com/nlb";

/// Namespace label that makes the LBC inject pod readiness gates (domain.md §7.1).
pub const READINESS_GATE_LABEL: &str = "elbv2.k8s.aws/pod-readiness-gate-inject";

/// Classic-ELB-only annotations: neither the in-tree NLB path nor the LBC reads
/// them (domain.md §1.2), with the NLB equivalent to suggest.
pub const CLB_ONLY: &[(&str, &str)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout",
        "aws-load-balancer-listener-attributes.TCP-<port>: tcp.idle_timeout.seconds=N",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled",
        "aws-load-balancer-target-group-attributes: deregistration_delay.timeout_seconds=N",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout",
        "aws-load-balancer-target-group-attributes: deregistration_delay.timeout_seconds=N",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-extra-security-groups",
        "aws-load-balancer-security-groups (LBC, frontend security groups)",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-access-log-emit-interval",
        "none: NLB access logs have no emit interval",
    ),
];

/// Annotations only the LBC reads; on an in-tree NLB Service they do nothing
/// (domain.md §1.2 last row, and the LBC-only rows).
pub const LBC_ONLY: &[&str] = &[
    "service.beta.kubernetes.io/aws-load-balancer-scheme",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
    "service.beta.kubernetes.io/aws-load-balancer-name",
    "service.beta.kubernetes.io/aws-load-balancer-attributes",
    "service.beta.kubernetes.io/aws-load-balancer-ip-address-type",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes",
    "service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules",
    "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol-per-target-group",
];
