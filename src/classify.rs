//! Pure classification of a Service: which controller owns it, what targets and
//! scheme it asks for, and what source address its pods see.
//!
//! Every rule cites domain.md; nothing here does I/O.

use crate::annotations as ann;
use crate::model::ServiceInfo;
use serde::Serialize;

/// Who provisions the load balancer of a `type: LoadBalancer` Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The in-tree provider (or cloud-provider-aws), `aws-load-balancer-type: nlb`.
    InTreeNlb,
    /// The in-tree provider's Classic ELB: no or any other type annotation.
    InTreeClb,
    /// The AWS Load Balancer Controller.
    Lbc(LbcRoute),
    /// Another controller's `spec.loadBalancerClass`.
    OtherClass(String),
    /// Nothing reconciles it; the reason says why.
    Unclaimed(String),
}

/// How a Service asked the LBC to take it (domain.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbcRoute {
    /// `spec.loadBalancerClass: service.k8s.aws/nlb` (LBC ≥ v2.4).
    Class,
    /// `aws-load-balancer-type: external` + `nlb-target-type` (LBC ≥ v2.2).
    External,
    /// The deprecated `aws-load-balancer-type: nlb-ip` (LBC ≥ v2.0).
    NlbIp,
}

impl Owner {
    /// Stable identifier used in JSON output.
    pub fn id(&self) -> &'static str {
        match self {
            Owner::InTreeNlb => "in-tree-nlb",
            Owner::InTreeClb => "in-tree-clb",
            Owner::Lbc(_) => "lbc",
            Owner::OtherClass(_) => "other-class",
            Owner::Unclaimed(_) => "unclaimed",
        }
    }

    /// In words, for error messages.
    pub fn describe(&self) -> String {
        match self {
            Owner::InTreeNlb => "an in-tree NLB".into(),
            Owner::InTreeClb => "a Classic ELB of the in-tree provider".into(),
            Owner::Lbc(_) => "the AWS Load Balancer Controller".into(),
            Owner::OtherClass(class) => format!("loadBalancerClass {class}"),
            Owner::Unclaimed(why) => format!("no controller takes it: {why}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetType {
    Instance,
    Ip,
}

impl TargetType {
    pub fn parse(text: &str) -> Option<TargetType> {
        match text {
            "instance" => Some(TargetType::Instance),
            "ip" => Some(TargetType::Ip),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Instance => "instance",
            TargetType::Ip => "ip",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    Internal,
    InternetFacing,
}

impl Scheme {
    pub fn parse(text: &str) -> Option<Scheme> {
        match text {
            "internal" => Some(Scheme::Internal),
            "internet-facing" => Some(Scheme::InternetFacing),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Internal => "internal",
            Scheme::InternetFacing => "internet-facing",
        }
    }
}

/// Decides who owns a Service (domain.md §1.1, §2.3).
pub fn owner(svc: &ServiceInfo) -> Owner {
    if let Some(class) = svc.load_balancer_class.as_deref() {
        // A class makes every default implementation, the in-tree provider
        // included, ignore the Service whatever its annotations say (§2.3).
        return if class == ann::LBC_CLASS {
            Owner::Lbc(LbcRoute::Class)
        } else {
            Owner::OtherClass(class.to_string())
        };
    }
    match svc.annotation(ann::LB_TYPE) {
        Some("nlb") => Owner::InTreeNlb,
        Some("nlb-ip") => Owner::Lbc(LbcRoute::NlbIp),
        Some("external") => match svc.annotation(ann::NLB_TARGET_TYPE) {
            Some("ip") | Some("instance") => Owner::Lbc(LbcRoute::External),
            Some(other) => Owner::Unclaimed(format!(
                "aws-load-balancer-type is \"external\" but aws-load-balancer-nlb-target-type is \"{other}\"; the LBC takes only \"ip\" or \"instance\" and the in-tree provider ignores \"external\""
            )),
            None => Owner::Unclaimed(
                "aws-load-balancer-type is \"external\" without aws-load-balancer-nlb-target-type; the LBC needs \"ip\" or \"instance\" and the in-tree provider ignores \"external\"".into(),
            ),
        },
        // Any other value, or none, selects a Classic ELB in-tree (§1.1).
        _ => Owner::InTreeClb,
    }
}

/// The target type the owner will register, as declared by the Service.
pub fn declared_target_type(svc: &ServiceInfo, owner: &Owner) -> Option<TargetType> {
    match owner {
        // In-tree NLB targets are always instance + NodePort (§1.1).
        Owner::InTreeNlb => Some(TargetType::Instance),
        // A Classic ELB has no target groups.
        Owner::InTreeClb => None,
        Owner::Lbc(LbcRoute::NlbIp) => Some(TargetType::Ip),
        Owner::Lbc(_) => match svc.annotation(ann::NLB_TARGET_TYPE) {
            Some(t) => TargetType::parse(t),
            // With the class route the default is instance, unless the
            // controller runs with --default-target-type (§1.2 second row).
            None => Some(TargetType::Instance),
        },
        Owner::OtherClass(_) | Owner::Unclaimed(_) => None,
    }
}

/// The scheme the owner will build, or why the annotations are invalid for it.
pub fn declared_scheme(svc: &ServiceInfo, owner: &Owner) -> Result<Option<Scheme>, String> {
    let internal = svc.annotation(ann::INTERNAL);
    match owner {
        Owner::InTreeNlb | Owner::InTreeClb => {
            // In-tree: any non-empty value other than "false" means internal;
            // the default is internet-facing (§1.1, §1.2 scheme row).
            Ok(Some(match internal {
                Some(v) if !v.is_empty() && v != "false" => Scheme::Internal,
                _ => Scheme::InternetFacing,
            }))
        }
        Owner::Lbc(_) => {
            if let Some(s) = svc.annotation(ann::SCHEME) {
                // `scheme` wins over `internal` (§1.2).
                return Scheme::parse(s).map(Some).ok_or_else(|| {
                    format!("aws-load-balancer-scheme is \"{s}\"; the LBC accepts \"internal\" or \"internet-facing\"")
                });
            }
            match internal {
                // The LBC parses `internal` with strconv.ParseBool (§1.2).
                Some(v) => match parse_go_bool(v) {
                    Some(true) => Ok(Some(Scheme::Internal)),
                    Some(false) => Ok(Some(Scheme::InternetFacing)),
                    None => Err(format!(
                        "aws-load-balancer-internal is \"{v}\", which the LBC cannot parse as a boolean (reconcile error); write aws-load-balancer-scheme instead"
                    )),
                },
                // Default internal since LBC v2.2.0 (§1.2).
                None => Ok(Some(Scheme::Internal)),
            }
        }
        Owner::OtherClass(_) | Owner::Unclaimed(_) => Ok(None),
    }
}

/// Go's strconv.ParseBool, which the LBC uses for boolean annotations.
pub fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses a `k=v,k2=v2` annotation value the way the LBC does: pairs must
/// contain `=` (domain.md §1.2 additional-resource-tags row).
pub fn parse_string_map(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) => out.push((k.trim().to_string(), v.trim().to_string())),
            None => return Err(format!("\"{pair}\" has no \"=\"")),
        }
    }
    Ok(out)
}

/// `preserve_client_ip.enabled` as written in the target-group-attributes annotation.
pub fn declared_preserve_client_ip(svc: &ServiceInfo) -> Option<bool> {
    let text = svc.annotation(ann::TARGET_GROUP_ATTRIBUTES)?;
    parse_string_map(text)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "preserve_client_ip.enabled")
        .and_then(|(_, v)| parse_go_bool(&v))
}

/// AWS's default for `preserve_client_ip.enabled` (domain.md §3.1): on for
/// instance targets and always for UDP/TCP_UDP/QUIC, off for ip targets.
pub fn default_preserve_client_ip(target: TargetType, protocol: &str) -> bool {
    if always_preserves(protocol) {
        return true;
    }
    target == TargetType::Instance
}

fn always_preserves(protocol: &str) -> bool {
    matches!(
        protocol.to_ascii_uppercase().as_str(),
        "UDP" | "TCP_UDP" | "QUIC" | "TCP_QUIC"
    )
}

/// What source address a pod sees on a connection from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientIpSeen {
    Client,
    NodeIp,
    NlbIp,
}

impl ClientIpSeen {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientIpSeen::Client => "client",
            ClientIpSeen::NodeIp => "node-ip",
            ClientIpSeen::NlbIp => "nlb-ip",
        }
    }
}

/// The source address pods see (domain.md §3.1; seed 002 on kube-proxy SNAT).
///
/// `preserve` is the target group's live attribute when known, else AWS's default
/// applies. With instance targets the NLB delivers to a node, then kube-proxy:
/// `Local` keeps the source, `Cluster` SNATs to the node's address.
pub fn client_ip_seen(
    target: TargetType,
    protocol: &str,
    preserve: Option<bool>,
    traffic_policy_local: bool,
) -> ClientIpSeen {
    let preserved = always_preserves(protocol)
        || preserve.unwrap_or_else(|| default_preserve_client_ip(target, protocol));
    match target {
        TargetType::Ip if preserved => ClientIpSeen::Client,
        TargetType::Ip => ClientIpSeen::NlbIp,
        TargetType::Instance if !traffic_policy_local => ClientIpSeen::NodeIp,
        TargetType::Instance if preserved => ClientIpSeen::Client,
        TargetType::Instance => ClientIpSeen::NlbIp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn svc(class: Option<&str>, annotations: &[(&str, &str)]) -> ServiceInfo {
        ServiceInfo {
            namespace: "ns".into(),
            name: "svc".into(),
            type_: "LoadBalancer".into(),
            load_balancer_class: class.map(str::to_string),
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..Default::default()
        }
    }

    #[test]
    fn nlb_annotation_is_the_in_tree_provider() {
        assert_eq!(
            owner(&svc(None, &[(ann::LB_TYPE, "nlb")])),
            Owner::InTreeNlb
        );
    }

    #[test]
    fn no_annotation_or_other_values_are_a_classic_elb() {
        assert_eq!(owner(&svc(None, &[])), Owner::InTreeClb);
        assert_eq!(
            owner(&svc(None, &[(ann::LB_TYPE, "clb")])),
            Owner::InTreeClb
        );
    }

    #[test]
    fn the_lbc_class_wins_over_any_annotation() {
        let s = svc(Some(ann::LBC_CLASS), &[(ann::LB_TYPE, "nlb")]);
        assert_eq!(owner(&s), Owner::Lbc(LbcRoute::Class));
    }

    #[test]
    fn another_class_is_never_ours_even_with_nlb_annotation() {
        let s = svc(Some("example.com/lb"), &[(ann::LB_TYPE, "nlb")]);
        assert_eq!(owner(&s), Owner::OtherClass("example.com/lb".into()));
        let auto = svc(Some(ann::EKS_AUTO_CLASS), &[]);
        assert_eq!(owner(&auto), Owner::OtherClass(ann::EKS_AUTO_CLASS.into()));
    }

    #[test]
    fn external_needs_a_valid_target_type() {
        let ok = svc(
            None,
            &[(ann::LB_TYPE, "external"), (ann::NLB_TARGET_TYPE, "ip")],
        );
        assert_eq!(owner(&ok), Owner::Lbc(LbcRoute::External));
        let inst = svc(
            None,
            &[
                (ann::LB_TYPE, "external"),
                (ann::NLB_TARGET_TYPE, "instance"),
            ],
        );
        assert_eq!(owner(&inst), Owner::Lbc(LbcRoute::External));
        assert!(matches!(
            owner(&svc(None, &[(ann::LB_TYPE, "external")])),
            Owner::Unclaimed(_)
        ));
        assert!(matches!(
            owner(&svc(
                None,
                &[(ann::LB_TYPE, "external"), (ann::NLB_TARGET_TYPE, "pod")]
            )),
            Owner::Unclaimed(_)
        ));
    }

    #[test]
    fn nlb_ip_is_the_deprecated_lbc_ip_route() {
        let s = svc(None, &[(ann::LB_TYPE, "nlb-ip")]);
        assert_eq!(owner(&s), Owner::Lbc(LbcRoute::NlbIp));
        assert_eq!(declared_target_type(&s, &owner(&s)), Some(TargetType::Ip));
    }

    #[test]
    fn target_types_by_owner() {
        let intree = svc(None, &[(ann::LB_TYPE, "nlb")]);
        assert_eq!(
            declared_target_type(&intree, &owner(&intree)),
            Some(TargetType::Instance)
        );
        let class_default = svc(Some(ann::LBC_CLASS), &[]);
        assert_eq!(
            declared_target_type(&class_default, &owner(&class_default)),
            Some(TargetType::Instance)
        );
        let class_ip = svc(Some(ann::LBC_CLASS), &[(ann::NLB_TARGET_TYPE, "ip")]);
        assert_eq!(
            declared_target_type(&class_ip, &owner(&class_ip)),
            Some(TargetType::Ip)
        );
        let other = svc(Some("x/y"), &[]);
        assert_eq!(declared_target_type(&other, &owner(&other)), None);
        let classic = svc(None, &[]);
        assert_eq!(declared_target_type(&classic, &owner(&classic)), None);
    }

    #[test]
    fn in_tree_scheme_defaults_to_internet_facing() {
        let s = svc(None, &[(ann::LB_TYPE, "nlb")]);
        assert_eq!(
            declared_scheme(&s, &owner(&s)),
            Ok(Some(Scheme::InternetFacing))
        );
    }

    #[test]
    fn in_tree_internal_means_any_non_empty_value_but_false() {
        for (value, expected) in [
            ("true", Scheme::Internal),
            ("0.0.0.0/0", Scheme::Internal),
            ("yes", Scheme::Internal),
            ("false", Scheme::InternetFacing),
            ("", Scheme::InternetFacing),
        ] {
            let s = svc(None, &[(ann::LB_TYPE, "nlb"), (ann::INTERNAL, value)]);
            assert_eq!(
                declared_scheme(&s, &owner(&s)),
                Ok(Some(expected)),
                "{value}"
            );
        }
    }

    #[test]
    fn lbc_scheme_defaults_to_internal() {
        let s = svc(Some(ann::LBC_CLASS), &[]);
        assert_eq!(declared_scheme(&s, &owner(&s)), Ok(Some(Scheme::Internal)));
    }

    #[test]
    fn lbc_scheme_annotation_wins_over_internal() {
        let s = svc(
            Some(ann::LBC_CLASS),
            &[(ann::SCHEME, "internet-facing"), (ann::INTERNAL, "true")],
        );
        assert_eq!(
            declared_scheme(&s, &owner(&s)),
            Ok(Some(Scheme::InternetFacing))
        );
    }

    #[test]
    fn lbc_rejects_a_cidr_in_the_internal_annotation() {
        let s = svc(Some(ann::LBC_CLASS), &[(ann::INTERNAL, "0.0.0.0/0")]);
        assert!(declared_scheme(&s, &owner(&s)).is_err());
        let bad = svc(Some(ann::LBC_CLASS), &[(ann::SCHEME, "public")]);
        assert!(declared_scheme(&bad, &owner(&bad)).is_err());
    }

    #[test]
    fn lbc_parses_internal_as_a_go_bool() {
        let f = svc(Some(ann::LBC_CLASS), &[(ann::INTERNAL, "F")]);
        assert_eq!(
            declared_scheme(&f, &owner(&f)),
            Ok(Some(Scheme::InternetFacing))
        );
        let t = svc(Some(ann::LBC_CLASS), &[(ann::INTERNAL, "1")]);
        assert_eq!(declared_scheme(&t, &owner(&t)), Ok(Some(Scheme::Internal)));
    }

    #[test]
    fn preserve_client_ip_is_read_from_the_attributes_annotation() {
        let s = svc(
            Some(ann::LBC_CLASS),
            &[(
                ann::TARGET_GROUP_ATTRIBUTES,
                "deregistration_delay.timeout_seconds=30, preserve_client_ip.enabled=true",
            )],
        );
        assert_eq!(declared_preserve_client_ip(&s), Some(true));
        assert_eq!(declared_preserve_client_ip(&svc(None, &[])), None);
    }

    #[test]
    fn string_maps_need_equals_signs() {
        assert_eq!(
            parse_string_map("a=1,b=").unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "".into())]
        );
        assert!(parse_string_map("a=1,KeyNoVal").is_err());
    }

    #[test]
    fn aws_defaults_for_preserve_client_ip() {
        assert!(default_preserve_client_ip(TargetType::Instance, "TCP"));
        assert!(default_preserve_client_ip(TargetType::Instance, "TLS"));
        assert!(!default_preserve_client_ip(TargetType::Ip, "TCP"));
        assert!(!default_preserve_client_ip(TargetType::Ip, "TLS"));
        assert!(default_preserve_client_ip(TargetType::Ip, "UDP"));
        assert!(default_preserve_client_ip(TargetType::Ip, "TCP_UDP"));
    }

    #[test]
    fn ip_targets_see_the_client_only_when_preserved() {
        use ClientIpSeen::*;
        assert_eq!(client_ip_seen(TargetType::Ip, "TCP", None, false), NlbIp);
        assert_eq!(
            client_ip_seen(TargetType::Ip, "TCP", Some(true), false),
            Client
        );
        // UDP cannot turn preservation off (§3.1).
        assert_eq!(
            client_ip_seen(TargetType::Ip, "UDP", Some(false), false),
            Client
        );
        // Traffic policy does not matter for ip targets.
        assert_eq!(client_ip_seen(TargetType::Ip, "TCP", None, true), NlbIp);
    }

    #[test]
    fn instance_targets_depend_on_kube_proxy() {
        use ClientIpSeen::*;
        assert_eq!(
            client_ip_seen(TargetType::Instance, "TCP", None, true),
            Client
        );
        assert_eq!(
            client_ip_seen(TargetType::Instance, "TCP", None, false),
            NodeIp
        );
        assert_eq!(
            client_ip_seen(TargetType::Instance, "TCP", Some(false), true),
            NlbIp
        );
        assert_eq!(
            client_ip_seen(TargetType::Instance, "TCP", Some(false), false),
            NodeIp
        );
    }
}
