//! What the LBC stand-in reads from its own Deployment (the real controller
//! reads the same things as flags at start-up), and the parts of its model
//! build that depend on them. Sources: kubernetes-sigs/aws-load-balancer-controller
//! at 225f44568.

use crate::model::ann;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServicePort};

/// The controller's default `--load-balancer-class`
/// (`pkg/config/service_config.go:6-7`).
pub const DEFAULT_CLASS: &str = "service.k8s.aws/nlb";
/// Where the sandbox installs the controller.
pub const NAMESPACE: &str = "kube-system";
pub const NAME: &str = "aws-load-balancer-controller";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerConfig {
    /// From the image tag; `None` when it is not a version (then the
    /// newest behaviour applies).
    pub version: Option<(u32, u32, u32)>,
    /// `--load-balancer-class`.
    pub class: String,
    /// `--feature-gates=NLBSecurityGroup=…` (default on, since v2.6:
    /// `pkg/config/feature_gates.go`; checked in
    /// `pkg/service/model_build_load_balancer.go:113`).
    pub nlb_security_group: bool,
    /// `--enable-endpoint-slices`: default on from v2.14.0 (commit a8c9e4b78).
    pub endpoint_slices: bool,
    /// `--feature-gates=WeightedTargetGroups=…` (default on:
    /// `pkg/config/feature_gates.go:23,78`; the gate dates from v2.3.1, commit
    /// 837ce7b69, for ALBs). Off, a listener forward to several target groups
    /// fails (`pkg/deploy/elbv2/listener_utils.go:73-78`; see
    /// [`crate::listener_action`]).
    pub weighted_target_groups: bool,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            version: None,
            class: DEFAULT_CLASS.into(),
            nlb_security_group: true,
            endpoint_slices: true,
            weighted_target_groups: true,
        }
    }
}

impl ControllerConfig {
    pub fn from_deployment(dep: Option<&Deployment>) -> ControllerConfig {
        let Some(container) = dep
            .and_then(|d| d.spec.as_ref())
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first())
        else {
            return ControllerConfig::default();
        };
        let args = container.args.clone().unwrap_or_default();
        let version = container
            .image
            .as_deref()
            .and_then(|i| i.rsplit_once(':'))
            .and_then(|(_, tag)| parse_version(tag));
        ControllerConfig {
            version,
            class: flag(&args, "load-balancer-class")
                .unwrap_or(DEFAULT_CLASS)
                .to_string(),
            nlb_security_group: feature_gate(&args, "NLBSecurityGroup").unwrap_or(true)
                && self_at_least(version, 2, 6),
            endpoint_slices: flag(&args, "enable-endpoint-slices")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| self_at_least(version, 2, 14)),
            weighted_target_groups: feature_gate(&args, "WeightedTargetGroups").unwrap_or(true),
        }
    }

    /// Whether the controller is at least `major.minor` (an unknown version
    /// counts as the newest).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self_at_least(self.version, major, minor)
    }
}

fn self_at_least(version: Option<(u32, u32, u32)>, major: u32, minor: u32) -> bool {
    version.is_none_or(|(a, b, _)| (a, b) >= (major, minor))
}

fn parse_version(tag: &str) -> Option<(u32, u32, u32)> {
    let core = tag.trim_start_matches('v').split(['-', '+']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}

/// `--name=value` or `--name value`, the last one winning (pflag).
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let long = format!("--{name}");
    let mut found = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix(&format!("{long}=")) {
            found = Some(v);
        } else if *a == long {
            found = it.next().map(String::as_str);
        }
    }
    found
}

/// One gate of `--feature-gates=A=true,B=false`.
pub fn feature_gate(args: &[String], gate: &str) -> Option<bool> {
    flag(args, "feature-gates")?
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == gate)
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The target type if this controller takes the Service
/// (`pkg/service/service_utils.go:47-77` `IsServiceSupported`): a class
/// must be the controller's own; without one, the `external` / `nlb-ip`
/// annotations route it here whatever the class flag says.
pub fn target_type(svc: &Service, cfg: &ControllerConfig) -> Option<String> {
    if svc.metadata.deletion_timestamp.is_some() || !crate::model::is_load_balancer(svc) {
        return None;
    }
    let tt = ann(svc, "aws-load-balancer-nlb-target-type");
    if let Some(class) = crate::model::lb_class(svc) {
        return (class == cfg.class).then(|| match tt {
            Some("ip") => "ip".into(),
            _ => "instance".into(),
        });
    }
    match ann(svc, "aws-load-balancer-type") {
        Some("nlb-ip") => Some("ip".into()),
        Some("external") => match tt {
            Some(t @ ("ip" | "instance")) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Errors of the model build that stop a Service before anything is made
/// (no finalizer, no status; a FailedBuildModel event and a retry:
/// `controllers/service/service_controller.go:124-158`).
pub fn build_error(svc: &Service) -> Option<String> {
    // pkg/service/model_build_load_balancer.go:580-583
    ann(svc, "aws-load-balancer-name")
        .filter(|n| n.len() > 32)
        .map(|_| "load balancer name cannot be longer than 32 characters".to_string())
}

/// A deleted Service whose annotation keeps deletion protection on cannot
/// be cleaned up (`pkg/service/model_builder.go:287-301`).
pub fn deletion_error(svc: &Service) -> Option<String> {
    let protected = ann(svc, "aws-load-balancer-attributes")
        .map(crate::aws::parse_kv_list)
        .unwrap_or_default()
        .iter()
        .any(|(k, v)| k == "deletion_protection.enabled" && v == "true");
    protected.then(|| {
        format!(
            "deletion_protection is enabled, cannot delete the service: {}",
            svc.metadata.name.as_deref().unwrap_or_default()
        )
    })
}

/// The attributes of one port's target group
/// (`pkg/service/model_build_target_group.go:277-394`): the base annotation,
/// then (v2.14.0 and later) `…-target-group-attributes.<port>`, whose
/// non-empty values win; `proxy-protocol: "*"` wins over both.
pub fn target_group_attributes(
    svc: &Service,
    port: &ServicePort,
    cfg: &ControllerConfig,
) -> Vec<(String, String)> {
    let mut attrs: Vec<(String, String)> = ann(svc, "aws-load-balancer-target-group-attributes")
        .map(crate::aws::parse_kv_list)
        .unwrap_or_default();
    if cfg.at_least(2, 14) {
        let key = format!("aws-load-balancer-target-group-attributes.{}", port.port);
        for (k, v) in ann(svc, &key)
            .map(crate::aws::parse_kv_list)
            .unwrap_or_default()
        {
            if v.is_empty() {
                continue;
            }
            attrs.retain(|(x, _)| *x != k);
            attrs.push((k, v));
        }
    }
    if ann(svc, "aws-load-balancer-proxy-protocol") == Some("*") {
        attrs.retain(|(k, _)| k != "proxy_protocol_v2.enabled");
        attrs.push(("proxy_protocol_v2.enabled".into(), "true".into()));
    }
    attrs
}

/// The attribute set the controller's model gives one port's target group
/// and its deployer brings AWS to: [`target_group_attributes`] plus the
/// default the model always carries, `proxy_protocol_v2.enabled=false`
/// unless something sets it (`pkg/service/model_build_target_group.go:328-330`;
/// at v2.13.0 the same default, :210-212). A key no annotation names any
/// more is simply absent, and the deployer leaves it as AWS has it (see
/// `Lbc::sync_target_groups`).
pub fn desired_target_group_attributes(
    svc: &Service,
    port: &ServicePort,
    cfg: &ControllerConfig,
) -> std::collections::BTreeMap<String, String> {
    let mut out: std::collections::BTreeMap<String, String> =
        target_group_attributes(svc, port, cfg)
            .into_iter()
            .collect();
    out.entry("proxy_protocol_v2.enabled".into())
        .or_insert_with(|| "false".into());
    out
}
