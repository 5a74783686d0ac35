//! Pure translation of a legacy in-tree NLB Service into a parallel Service
//! for the AWS Load Balancer Controller with ip targets (domain.md §1, §3),
//! with a report of everything changed, dropped, or needing a decision.
//!
//! Error design: [`translate`] returns `Err` only when the input is not
//! something to migrate at all: not a LoadBalancer Service, not an in-tree
//! NLB, no selector, an invalid new name. Everything else yields a complete
//! [`Translation`] whose report lists every problem at once; problems that
//! make the new Service unsafe or impossible to apply have severity `error`
//! ([`Translation::blockers`]). A caller exits 1 when `translate` fails or
//! [`Translation::is_blocked`] is true, and may still print the report.
//!
//! Every annotation of the old Service is accounted for: each rule takes the
//! keys it handles, and whatever is left is carried (and reported when it
//! belongs to the AWS load-balancer family).

mod attributes;
mod health;
mod keys;
mod tls;

#[cfg(test)]
mod corpus;

pub use keys::MIGRATED_FROM;

use crate::annotations as ann;
use crate::audit::{LBC_MIN_CLASS, LBC_MIN_IP_MODE};
use crate::classify::{self, Owner, Scheme};
use crate::k8s;
use crate::model::{Detection, LbcInstall, LoadBalancer, ServiceInfo, TargetGroup, Version};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::collections::BTreeMap;

/// Suffix of the default new name: `frontend` → `frontend-lbc`.
pub const DEFAULT_SUFFIX: &str = "-lbc";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A change made for the user, said so they know.
    Info,
    /// Behaviour changes, or something to check before or after the switch.
    Warning,
    /// The new Service must not be applied as it is.
    Error,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub severity: Severity,
    /// Stable kebab-case identifier, for scripts.
    pub code: &'static str,
    /// What it concerns: an annotation key verbatim, a field such as
    /// `spec.externalTrafficPolicy`, or an observed fact such as
    /// `aws.loadBalancer.scheme` or `cluster.loadBalancerController`.
    pub field: String,
    /// What happened and why.
    pub message: String,
    /// What to do about it, when there is something to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The new Service and the report of the translation.
#[derive(Debug, Clone, Serialize)]
pub struct Translation {
    pub service: Service,
    /// Sorted: errors first, then warnings, then info; by code, field, message.
    pub report: Vec<Entry>,
}

impl Translation {
    /// The entries that make the new Service unsafe or impossible to apply.
    pub fn blockers(&self) -> impl Iterator<Item = &Entry> {
        self.report.iter().filter(|e| e.severity == Severity::Error)
    }

    pub fn is_blocked(&self) -> bool {
        self.blockers().next().is_some()
    }
}

/// The AWS Load Balancer Controller as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lbc {
    /// Not looked for (offline `-f`), or the lookup failed; the reason says which.
    Unknown(String),
    Missing,
    /// Installed; the version is `None` when the image tag and labels do not say.
    Installed(Option<Version>),
}

impl Default for Lbc {
    fn default() -> Self {
        Lbc::Unknown("offline: no cluster was read".into())
    }
}

/// What the LBC's Deployment args say, when it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LbcFlags {
    /// `--load-balancer-class`, when set.
    pub class: Option<String>,
    /// `--feature-gates=NLBSecurityGroup=…`, when set.
    pub nlb_security_group: Option<bool>,
}

impl LbcFlags {
    pub fn from_detection(d: &Detection<LbcInstall>) -> LbcFlags {
        match d {
            Detection::Found(l) => LbcFlags {
                class: l.load_balancer_class.clone(),
                nlb_security_group: l.feature_gates.get("NLBSecurityGroup").copied(),
            },
            _ => LbcFlags::default(),
        }
    }
}

impl Lbc {
    pub fn from_detection(d: &Detection<LbcInstall>) -> Lbc {
        match d {
            Detection::Found(l) => Lbc::Installed(l.version),
            Detection::Missing => Lbc::Missing,
            Detection::Unknown(why) => Lbc::Unknown(why.clone()),
        }
    }
}

/// Facts observed in the cluster and in AWS. Every field is optional: the
/// default is offline mode, where nothing could be read.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// The legacy NLB: its scheme and fixed addresses.
    pub load_balancer: Option<LoadBalancer>,
    /// Its target groups (`port` is the NodePort), with health check and
    /// attributes; `None` when not read.
    pub target_groups: Option<Vec<TargetGroup>>,
    pub lbc: Lbc,
    /// The controller's flags that change what it makes of a Service.
    pub lbc_flags: LbcFlags,
    /// For a Service without a selector: what its endpoints reference.
    pub endpoints: Option<crate::switch::mirror::EndpointFacts>,
    /// Whether the Amazon VPC CNI (`kube-system/aws-node`) runs.
    pub vpc_cni: Option<bool>,
    /// Labels of the Service's namespace.
    pub namespace_labels: Option<BTreeMap<String, String>>,
}

/// Choices from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Name of the new Service; default `<name>-lbc` ([`default_new_name`]).
    pub new_name: Option<String>,
    /// Namespace to assume when the manifest has none (`-n`).
    pub namespace: Option<String>,
    /// Force `preserve_client_ip.enabled` instead of keeping what pods saw.
    pub preserve_client_ip: Option<bool>,
    /// Let a Service with Elastic IPs or fixed private addresses move to a
    /// new NLB with new addresses.
    pub accept_new_addresses: bool,
    /// Write [`MIGRATED_FROM`] on the new Service.
    pub provenance: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            new_name: None,
            namespace: None,
            preserve_client_ip: None,
            accept_new_addresses: false,
            provenance: true,
        }
    }
}

/// Why a Service cannot be translated at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    #[error("the Service has no metadata.name; name the Service to migrate")]
    Unnamed,
    #[error("service {service} is being deleted; there is nothing left to migrate")]
    Deleting { service: String },
    #[error(
        "service {service} is of type {type_}, not LoadBalancer: it has no load balancer to migrate"
    )]
    NotLoadBalancer { service: String, type_: String },
    #[error("service {service} is not an in-tree NLB Service: {reason}")]
    NotInTreeNlb {
        service: String,
        /// `classify::Owner::id` of whoever does own it.
        owner: &'static str,
        reason: String,
    },
    #[error("the new Service name \"{name}\" is invalid: {reason}")]
    InvalidName { name: String, reason: String },
}

/// `frontend` → `frontend-lbc`, shortened to stay a 63-character DNS label.
pub fn default_new_name(name: &str) -> String {
    let base: String = name.chars().take(63 - DEFAULT_SUFFIX.len()).collect();
    format!("{}{DEFAULT_SUFFIX}", base.trim_end_matches('-'))
}

/// A Service name must be an RFC 1035 label: at most 63 characters of
/// lower-case letters, digits and `-`, starting with a letter and ending
/// with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > 63 {
        return Err(format!("it has {} characters; at most 63", name.len()));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("only lower-case letters, digits and '-' are allowed".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("it must start with a lower-case letter".into());
    }
    if name.ends_with('-') {
        return Err("it must end with a letter or digit".into());
    }
    Ok(())
}

/// Translates a legacy in-tree NLB Service. Pure: everything observed comes in `live`.
pub fn translate(
    old: &Service,
    live: &Live,
    opts: &Options,
) -> Result<Translation, TranslateError> {
    let mut svc = k8s::service_info(old);
    if svc.name.is_empty() {
        return Err(TranslateError::Unnamed);
    }
    let namespace = old.metadata.namespace.clone().or(opts.namespace.clone());
    svc.namespace = namespace.clone().unwrap_or_else(|| "default".into());
    let key = svc.key();
    if svc.deleting {
        return Err(TranslateError::Deleting { service: key });
    }
    if !svc.is_load_balancer() {
        return Err(TranslateError::NotLoadBalancer {
            service: key,
            type_: svc.type_.clone(),
        });
    }
    let owner = classify::owner(&svc);
    if owner != Owner::InTreeNlb {
        return Err(TranslateError::NotInTreeNlb {
            service: key,
            owner: owner.id(),
            reason: not_in_tree_reason(&owner),
        });
    }
    let new_name = match &opts.new_name {
        Some(name) => {
            validate_name(name).map_err(|reason| TranslateError::InvalidName {
                name: name.clone(),
                reason,
            })?;
            if *name == svc.name {
                return Err(TranslateError::InvalidName {
                    name: name.clone(),
                    reason: "it is the legacy Service's own name; the new Service runs next to it until the switch is done".into(),
                });
            }
            name.clone()
        }
        None => default_new_name(&svc.name),
    };

    let mut cx = Cx::new(svc, live, opts);
    cx.rest.remove(keys::LAST_APPLIED);
    let route = controller(&mut cx);
    scheme(&mut cx);
    addresses(&mut cx);
    tls::translate(&mut cx);
    health::translate(&mut cx);
    attributes::load_balancer(&mut cx);
    let preserve = attributes::target_groups(&mut cx);
    attributes::tags(&mut cx);
    networking(&mut cx, preserve);
    clb_only(&mut cx);
    let spec = spec(&mut cx, old.spec.clone().unwrap_or_default(), route);
    readiness_gate(&mut cx);
    let labels = metadata(&mut cx, old.metadata.labels.clone());
    load_balancer_name(&mut cx);
    api_validity(&mut cx, &new_name);
    selectorless(&mut cx);
    leftovers(&mut cx);
    if opts.provenance {
        cx.out.insert(MIGRATED_FROM.into(), key);
    }

    let mut report = cx.report;
    report.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(b.code))
            .then(a.field.cmp(&b.field))
            .then(a.message.cmp(&b.message))
    });
    Ok(Translation {
        service: Service {
            metadata: ObjectMeta {
                name: Some(new_name),
                namespace,
                labels,
                annotations: Some(cx.out),
                ..Default::default()
            },
            spec: Some(spec),
            status: None,
        },
        report,
    })
}

fn not_in_tree_reason(owner: &Owner) -> String {
    match owner {
        Owner::Lbc(_) => "the AWS Load Balancer Controller already manages it; to change preserve_client_ip use `kubectl nlb cutover`".into(),
        Owner::InTreeClb => "it is a Classic ELB (aws-load-balancer-type is absent or not \"nlb\"); migrate handles in-tree NLBs only".into(),
        Owner::OtherClass(class) => format!(
            "spec.loadBalancerClass is \"{class}\", so another controller owns it"
        ),
        Owner::Unclaimed(why) => why.clone(),
        Owner::InTreeNlb => String::new(),
    }
}

/// Working state: annotations not yet handled (`rest`), those of the new
/// Service (`out`), and the report.
struct Cx<'a> {
    svc: ServiceInfo,
    live: &'a Live,
    opts: &'a Options,
    rest: BTreeMap<String, String>,
    out: BTreeMap<String, String>,
    report: Vec<Entry>,
}

impl<'a> Cx<'a> {
    fn new(svc: ServiceInfo, live: &'a Live, opts: &'a Options) -> Self {
        let rest = svc.annotations.clone();
        Cx {
            svc,
            live,
            opts,
            rest,
            out: BTreeMap::new(),
            report: Vec::new(),
        }
    }

    /// Takes an annotation out of the unhandled set.
    fn take(&mut self, key: &str) -> Option<String> {
        self.rest.remove(key)
    }

    /// Carries an annotation unchanged.
    fn carry(&mut self, key: &str) -> Option<String> {
        let value = self.take(key)?;
        self.out.insert(key.to_string(), value.clone());
        Some(value)
    }

    fn put(&mut self, key: &str, value: impl Into<String>) {
        self.out.insert(key.to_string(), value.into());
    }

    fn note(
        &mut self,
        severity: Severity,
        code: &'static str,
        field: &str,
        message: impl Into<String>,
        fix: &str,
    ) {
        self.report.push(Entry {
            severity,
            code,
            field: field.to_string(),
            message: message.into(),
            fix: (!fix.is_empty()).then(|| fix.to_string()),
        });
    }

    fn info(&mut self, code: &'static str, field: &str, message: impl Into<String>) {
        self.note(Severity::Info, code, field, message, "");
    }

    fn warn(&mut self, code: &'static str, field: &str, message: impl Into<String>, fix: &str) {
        self.note(Severity::Warning, code, field, message, fix);
    }

    fn error(&mut self, code: &'static str, field: &str, message: impl Into<String>, fix: &str) {
        self.note(Severity::Error, code, field, message, fix);
    }

    /// An annotation value the in-tree provider would have refused; the
    /// live NLB cannot reflect it, so a person must say what was meant.
    fn invalid(&mut self, key: &str, value: &str, expected: &str) {
        self.error(
            "invalid-annotation-value",
            key,
            format!(
                "\"{value}\" is not {expected}; the in-tree provider fails to reconcile such a value, so the live NLB does not reflect it and the LBC would fail too; the new Service does not use it"
            ),
            "correct the value on the legacy Service (or in the manifest) and run migrate again",
        );
    }

    fn target_groups(&self) -> &[TargetGroup] {
        self.live.target_groups.as_deref().unwrap_or_default()
    }

    fn lbc_version(&self) -> Option<Version> {
        match self.live.lbc {
            Lbc::Installed(v) => v,
            _ => None,
        }
    }

    /// Whether the LBC is known to be at least `v`; `None` when not known.
    fn lbc_at_least(&self, v: Version) -> Option<bool> {
        self.lbc_version().map(|have| have >= v)
    }

    fn has_udp(&self) -> bool {
        self.svc.ports.iter().any(|p| is_udp(&p.protocol))
    }

    fn all_udp(&self) -> bool {
        !self.svc.ports.is_empty() && self.svc.ports.iter().all(|p| is_udp(&p.protocol))
    }
}

fn is_udp(protocol: &str) -> bool {
    protocol.eq_ignore_ascii_case("UDP")
}

/// What the target groups of the live NLB say about one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Agreed<T> {
    /// Not read, or not read for every target group.
    Unknown,
    One(T),
    /// The target groups differ (edited out of band); the values, sorted.
    Several(Vec<T>),
}

impl<T> Agreed<T> {
    fn one(self) -> Option<T> {
        match self {
            Agreed::One(v) => Some(v),
            _ => None,
        }
    }
}

fn agreed<T: Ord + Clone>(
    tgs: &[TargetGroup],
    get: impl Fn(&TargetGroup) -> Option<T>,
) -> Agreed<T> {
    let values: Option<Vec<T>> = tgs.iter().map(get).collect();
    match values {
        Some(mut v) if !v.is_empty() => {
            v.sort();
            v.dedup();
            if v.len() == 1 {
                Agreed::One(v.remove(0))
            } else {
                Agreed::Several(v)
            }
        }
        _ => Agreed::Unknown,
    }
}

/// How the LBC is told to take the new Service (domain.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `spec.loadBalancerClass: service.k8s.aws/nlb` (LBC ≥ v2.4).
    Class,
    /// `aws-load-balancer-type: external` (LBC v2.2–v2.3).
    Annotations,
}

/// The class the LBC reconciles: its `--load-balancer-class`, default
/// `service.k8s.aws/nlb` (`pkg/config/service_config.go:6-7`;
/// `IsServiceSupported` ignores any other class).
fn lbc_class(cx: &Cx) -> String {
    cx.live
        .lbc_flags
        .class
        .clone()
        .unwrap_or_else(|| ann::LBC_CLASS.to_string())
}

/// `aws-load-balancer-type`, `nlb-target-type`, the LBC and the CNI
/// (domain.md §1.2 first two rows, §1.3, §8.1).
fn controller(cx: &mut Cx) -> Route {
    cx.take(ann::LB_TYPE);
    const CONTROLLER: &str = "cluster.loadBalancerController";
    let route = match cx.live.lbc.clone() {
        Lbc::Missing => {
            cx.error(
                "lbc-missing",
                CONTROLLER,
                "no AWS Load Balancer Controller was found in the cluster: nothing would reconcile the new Service, and it would never get a load balancer",
                "install the LBC (v2.4 or later; the EKS user guide recommends v2.7.2 or later), then run migrate again",
            );
            Route::Class
        }
        Lbc::Installed(Some(v)) if v < LBC_MIN_IP_MODE => {
            cx.error(
                "lbc-too-old",
                CONTROLLER,
                format!(
                    "the LBC is {v}; Services with aws-load-balancer-type: external and an explicit scheme need v2.2.0 or later"
                ),
                "upgrade the LBC (v2.4 or later for spec.loadBalancerClass), then run migrate again",
            );
            Route::Class
        }
        Lbc::Installed(Some(v)) if v < LBC_MIN_CLASS => Route::Annotations,
        Lbc::Installed(Some(_)) => Route::Class,
        Lbc::Installed(None) => {
            cx.warn(
                "lbc-version-unknown",
                CONTROLLER,
                "the LBC is installed but its version could not be read (digest-pinned or mirrored image, no version label); spec.loadBalancerClass needs v2.4.0 or later",
                "check the controller's version; on v2.2 or v2.3 replace spec.loadBalancerClass with the annotation aws-load-balancer-type: external",
            );
            Route::Class
        }
        Lbc::Unknown(why) => {
            cx.info(
                "lbc-not-checked",
                CONTROLLER,
                format!(
                    "the LBC was not checked ({why}); the new Service uses spec.loadBalancerClass, which needs LBC v2.4.0 or later; on v2.2 or v2.3 use aws-load-balancer-type: external instead"
                ),
            );
            Route::Class
        }
    };
    let removed = "aws-load-balancer-type: nlb is removed: the LBC never reconciles \"nlb\" without a class, and changing the annotation on a live Service would leak the old NLB";
    match route {
        Route::Class => {
            let class = lbc_class(cx);
            let flag = if class == ann::LBC_CLASS {
                String::new()
            } else {
                " (the controller's --load-balancer-class; it reconciles no other class)".into()
            };
            cx.info(
                "load-balancer-class",
                "spec.loadBalancerClass",
                format!(
                    "{removed}; the new Service sets spec.loadBalancerClass: {class}{flag} so that only the LBC takes it"
                ),
            )
        }
        Route::Annotations => {
            cx.put(ann::LB_TYPE, "external");
            let version = cx.lbc_version().map(|v| v.to_string()).unwrap_or_default();
            cx.info(
                "load-balancer-type-external",
                ann::LB_TYPE,
                format!(
                    "{removed}; the LBC ({version}) predates spec.loadBalancerClass (v2.4.0), so the new Service is claimed with aws-load-balancer-type: external"
                ),
            );
        }
    }

    let old_target = cx.take(ann::NLB_TARGET_TYPE);
    cx.put(ann::NLB_TARGET_TYPE, "ip");
    cx.info(
        "ip-targets",
        ann::NLB_TARGET_TYPE,
        "targets change from instance:NodePort through kube-proxy to the pods' IPs: the NLB sends straight to each pod, so scaling pods no longer resets connections at a node hop; pod IPs must be routable in the VPC (Amazon VPC CNI)",
    );
    if let Some(t) = old_target.filter(|t| t != "ip") {
        cx.warn(
            "target-type-replaced",
            ann::NLB_TARGET_TYPE,
            format!(
                "the legacy Service said \"{t}\", which the in-tree provider ignores (its targets are always instances); the new Service uses ip"
            ),
            "",
        );
    }
    if cx.live.vpc_cni == Some(false) {
        cx.warn(
            "vpc-cni-missing",
            "cluster.vpcCni",
            "the Amazon VPC CNI (kube-system/aws-node) was not found: ip targets need pod IPs that are routable in the VPC; with an overlay network the NLB cannot reach the pods",
            "confirm that pod IPs are VPC addresses before applying, or keep instance targets",
        );
    }
    route
}

/// Scheme row of domain.md §1.2: in-tree is internet-facing unless
/// `aws-load-balancer-internal` is non-empty and not "false"; the LBC
/// defaults to internal, so the scheme is always written.
fn scheme(cx: &mut Cx) {
    let internal = cx.take(ann::INTERNAL);
    let declared = cx.take(ann::SCHEME);
    let in_tree = match internal.as_deref() {
        Some(v) if !v.is_empty() && v != "false" => Scheme::Internal,
        _ => Scheme::InternetFacing,
    };
    let live = cx
        .live
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.scheme.as_deref())
        .and_then(Scheme::parse);
    let (scheme, source) = match (live, &internal) {
        (Some(s), _) => (s, "the live NLB".to_string()),
        (None, Some(v)) => (in_tree, format!("aws-load-balancer-internal: \"{v}\"")),
        (None, None) => (in_tree, "the in-tree default".to_string()),
    };
    cx.put(ann::SCHEME, scheme.as_str());
    cx.info(
        "scheme-explicit",
        ann::SCHEME,
        format!(
            "{} from {source}, written explicitly: {}",
            scheme.as_str(),
            match scheme {
                Scheme::InternetFacing => "the LBC defaults to internal since v2.2, so leaving it out would make the public NLB private",
                Scheme::Internal => "the LBC's default is internal too, but the controller flag --default-load-balancer-scheme (v2.11 or later) can change it",
            }
        ),
    );
    if let Some(l) = live
        && l != in_tree
    {
        cx.warn(
            "scheme-live-differs",
            "aws.loadBalancer.scheme",
            format!(
                "the live NLB is {}, but the annotations say {}; the live scheme is kept",
                l.as_str(),
                in_tree.as_str()
            ),
            "check which scheme clients need before switching traffic",
        );
    }
    if let Some(v) = internal {
        let bool_note = if classify::parse_go_bool(&v).is_none() {
            format!(
                "; the LBC parses it with strconv.ParseBool, so \"{v}\" would be a reconcile error"
            )
        } else {
            String::new()
        };
        cx.info(
            "internal-annotation-replaced",
            ann::INTERNAL,
            format!(
                "deprecated, replaced by aws-load-balancer-scheme: {}{bool_note}",
                scheme.as_str()
            ),
        );
    }
    if let Some(d) = declared
        && d != scheme.as_str()
    {
        cx.warn(
            "scheme-annotation-ignored",
            ann::SCHEME,
            format!(
                "the legacy Service said \"{d}\", which only the LBC reads: the in-tree NLB is {}; the new Service keeps {}",
                scheme.as_str(),
                scheme.as_str()
            ),
            "if the NLB should really change scheme, decide that separately: it changes who can reach the service",
        );
    }
}

/// Elastic IPs and fixed private addresses (domain.md §1.2): an address
/// belongs to one NLB, so the parallel NLB cannot have the old ones.
fn addresses(cx: &mut Cx) {
    let live_eips: Vec<String> = cx
        .live
        .load_balancer
        .iter()
        .flat_map(|lb| &lb.addresses)
        .filter_map(|a| {
            a.allocation_id.as_ref().map(|id| match &a.ip_address {
                Some(ip) => format!("{ip} ({id})"),
                None => id.clone(),
            })
        })
        .collect();
    let eips = cx.take(ann::EIP_ALLOCATIONS);
    let privates = cx.take(ann::PRIVATE_IPV4_ADDRESSES);
    let mut found: Vec<(&str, String)> = Vec::new();
    if let Some(v) = eips {
        let live = if live_eips.is_empty() {
            String::new()
        } else {
            format!("; the live NLB answers on {}", live_eips.join(", "))
        };
        found.push((
            ann::EIP_ALLOCATIONS,
            format!("the legacy NLB has the Elastic IPs {v}{live}"),
        ));
    } else if !live_eips.is_empty() {
        found.push((
            "aws.loadBalancer.addresses",
            format!(
                "the live NLB has Elastic IPs attached ({})",
                live_eips.join(", ")
            ),
        ));
    }
    if let Some(v) = privates {
        found.push((
            ann::PRIVATE_IPV4_ADDRESSES,
            format!("the legacy NLB asks for the fixed private addresses {v} (applied by cloud-provider-aws v1.35.0 or later)"),
        ));
    }
    for (field, what) in found {
        if cx.opts.accept_new_addresses {
            cx.warn(
                "static-addresses-dropped",
                field,
                format!(
                    "{what}; an address can belong to one NLB only, so the new NLB gets new addresses and this annotation is left out (accepted with --accept-new-addresses)"
                ),
                "update firewalls, allowlists and DNS that use the old addresses; to pin the new NLB's addresses, allocate new ones and add the annotation to the new Service",
            );
        } else {
            cx.error(
                "static-addresses",
                field,
                format!(
                    "{what}; an address can belong to one NLB only, so a parallel NLB cannot keep them: clients that use the addresses directly would lose the service after the switch"
                ),
                "run again with --accept-new-addresses once whoever depends on these addresses can take new ones",
            );
        }
    }
}

/// Subnets, target-node-labels, security groups and source ranges
/// (domain.md §1.2, §3.4).
fn networking(cx: &mut Cx, preserve_client_ip: bool) {
    cx.carry(keys::SUBNETS);
    if let Some(v) = cx.take(keys::TARGET_NODE_LABELS) {
        cx.info(
            "target-node-labels-dropped",
            keys::TARGET_NODE_LABELS,
            format!(
                "\"{v}\" chose which nodes were targets; with ip targets the pods are the targets and the LBC ignores it"
            ),
        );
    }
    let security_groups = cx.carry(ann::SECURITY_GROUPS);
    if let Some(sgs) = &security_groups {
        cx.warn(
            "security-groups-frontend",
            ann::SECURITY_GROUPS,
            format!(
                "carried: the in-tree provider applies it only on cloud-provider-aws v1.35 or later in Managed security-group mode; the LBC (v2.6 or later) attaches {sgs} as the NLB's frontend security groups instead of creating one, and then manages no rules on the pods' security groups"
            ),
            "make the pods' security groups allow these groups on the target ports, or add aws-load-balancer-manage-backend-security-group-rules: \"true\"",
        );
    }

    let spec_ranges = cx.svc.load_balancer_source_ranges.clone();
    let annotated = cx.take(keys::SOURCE_RANGES);
    let ranges: Vec<String> = if !spec_ranges.is_empty() {
        if let Some(a) = &annotated {
            cx.info(
                "source-ranges-annotation-shadowed",
                keys::SOURCE_RANGES,
                format!(
                    "\"{a}\" is left out: spec.loadBalancerSourceRanges wins over it in both controllers"
                ),
            );
        }
        spec_ranges
    } else {
        if let Some(a) = &annotated {
            cx.put(keys::SOURCE_RANGES, a.clone());
        }
        annotated
            .iter()
            .flat_map(|a| a.split(','))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect()
    };
    if ranges.is_empty() {
        return;
    }
    let field = "spec.loadBalancerSourceRanges";
    let list = ranges.join(", ");
    // No NLB security group: the annotation, an LBC before v2.6, or the
    // NLBSecurityGroup feature gate off (`buildLoadBalancerSecurityGroups`,
    // pkg/service/model_build_load_balancer.go:113).
    let no_nlb_sg = cx
        .rest
        .get(keys::DISABLE_NLB_SG)
        .and_then(|v| classify::parse_go_bool(v))
        == Some(true)
        || cx.lbc_at_least(keys::LBC_MIN_NLB_SG) == Some(false)
        || cx.live.lbc_flags.nlb_security_group == Some(false);
    if security_groups.is_some() {
        cx.warn(
            "source-ranges-ignored",
            field,
            format!(
                "the LBC ignores the source ranges ({list}) when aws-load-balancer-security-groups is set: the named groups alone decide who may connect"
            ),
            "put the ranges into the named security groups' inbound rules",
        );
    } else if no_nlb_sg && !preserve_client_ip {
        cx.error(
            "source-ranges-not-enforced",
            field,
            format!(
                "the in-tree provider enforced {list} on the nodes' security groups; this NLB will have no security group (LBC before v2.6, aws-load-balancer-disable-nlb-sg, or the controller's --feature-gates=NLBSecurityGroup=false), and without an NLB security group the LBC ignores source ranges when preserve_client_ip is off: anyone could connect"
            ),
            "give the NLB a security group (LBC v2.6 or later, NLBSecurityGroup on), or keep preserve_client_ip on (--preserve-client-ip=true), before migrating",
        );
    } else if no_nlb_sg {
        cx.info(
            "source-ranges-node-rules",
            field,
            format!(
                "{list}: enforced on the pods' ENI security groups as before, because preserve_client_ip is on and the NLB has no security group"
            ),
        );
    } else if cx.lbc_at_least(keys::LBC_MIN_NLB_SG) == Some(true) {
        cx.info(
            "source-ranges-frontend-sg",
            field,
            format!(
                "{list}: enforced by the NLB's own frontend security group (LBC v2.6 or later) instead of rules on the nodes' security groups"
            ),
        );
    } else {
        cx.warn(
            "source-ranges-unverified",
            field,
            format!(
                "{list}: with LBC v2.6 or later they go into the NLB's frontend security group; with an older LBC and preserve_client_ip off they would be ignored, and the LBC version is not known"
            ),
            "check that the LBC is v2.6 or later",
        );
    }
}

/// Classic-ELB-only annotations: neither controller applies them to an
/// NLB, so dropping them changes nothing (domain.md §1.2).
fn clb_only(cx: &mut Cx) {
    let ports = cx
        .svc
        .ports
        .iter()
        .filter(|p| !is_udp(&p.protocol))
        .map(|p| {
            (
                if tls::is_tls_port(cx, p.port) {
                    "TLS"
                } else {
                    "TCP"
                },
                p.port,
            )
        })
        .collect::<Vec<_>>();
    for (key, equivalent) in ann::CLB_ONLY {
        let Some(value) = cx.take(key) else { continue };
        let suggestion = match *key {
            keys::IDLE_TIMEOUT => {
                let keys: Vec<String> = ports
                    .iter()
                    .map(|(proto, port)| {
                        format!("aws-load-balancer-listener-attributes.{proto}-{port}")
                    })
                    .collect();
                format!(
                    "for the same intent on the NLB add tcp.idle_timeout.seconds={value} under {} (the key names the listener's protocol, model_build_listener.go:378); the NLB default is 350 s",
                    if keys.is_empty() {
                        "aws-load-balancer-listener-attributes.TCP-<port>".to_string()
                    } else {
                        keys.join(", ")
                    }
                )
            }
            keys::DRAINING_TIMEOUT => format!(
                "for the same intent add deregistration_delay.timeout_seconds={value} to aws-load-balancer-target-group-attributes (default 300 s); not done automatically because the NLB never applied it"
            ),
            _ => format!("NLB equivalent: {equivalent}"),
        };
        cx.info(
            "clb-only-dropped",
            key,
            format!("\"{value}\" is for Classic ELBs only and never applied to the NLB; dropped; {suggestion}"),
        );
    }
}

/// The new spec: user-owned fields only (domain.md §1.2 spec rows, §1.3).
fn spec(cx: &mut Cx, old: ServiceSpec, route: Route) -> ServiceSpec {
    let class = lbc_class(cx);
    let ports: Vec<ServicePort> = old.ports.clone().unwrap_or_default();
    let fixed: Vec<String> = ports
        .iter()
        .filter_map(|p| p.node_port.map(|n| format!("{}→{n}", p.port)))
        .collect();
    if !fixed.is_empty() {
        cx.info(
            "node-ports-dropped",
            "spec.ports[].nodePort",
            format!(
                "node ports ({}) are left out: the legacy Service still holds them, so the new Service could not be created with them, and ip targets do not use node ports",
                fixed.join(", ")
            ),
        );
    }
    cx.info(
        "node-ports-not-allocated",
        "spec.allocateLoadBalancerNodePorts",
        "set to false: the NLB sends to pod IPs, so node ports would only open an unused path on every node (only instance targets need them)",
    );
    if old.external_traffic_policy.as_deref() == Some("Local") {
        cx.info(
            "external-traffic-policy-dropped",
            "spec.externalTrafficPolicy",
            "Local is left out: it steers kube-proxy, which ip targets bypass; the client address the pods see is now set by preserve_client_ip, and no healthCheckNodePort is allocated",
        );
    }
    if let Some(ip) = old.load_balancer_ip.as_deref().filter(|ip| !ip.is_empty()) {
        cx.warn(
            "load-balancer-ip-dropped",
            "spec.loadBalancerIP",
            format!(
                "\"{ip}\" is left out: the in-tree provider refuses it (\"LoadBalancerIP cannot be specified for AWS ELB\") and the LBC does not read it"
            ),
            "for fixed addresses use aws-load-balancer-eip-allocations (internet-facing) or aws-load-balancer-private-ipv4-addresses (internal) on the new Service",
        );
    }
    if let Some(ips) = old.external_ips.as_ref().filter(|ips| !ips.is_empty()) {
        cx.warn(
            "external-ips-not-copied",
            "spec.externalIPs",
            format!(
                "{} left out: kube-proxy would route these addresses to both Services while they run side by side",
                ips.join(", ")
            ),
            "move spec.externalIPs to the new Service after the switch if still needed",
        );
    }
    if old.session_affinity.as_deref() == Some("ClientIP") {
        cx.warn(
            "session-affinity-not-applied",
            "spec.sessionAffinity",
            "ClientIP is carried, but it is kube-proxy's: with ip targets the NLB sends to pods directly, so it no longer pins clients arriving through the NLB",
            "for stickiness at the NLB add stickiness.enabled=true,stickiness.type=source_ip to aws-load-balancer-target-group-attributes",
        );
    }
    ServiceSpec {
        type_: Some("LoadBalancer".into()),
        selector: old.selector,
        ports: Some(
            ports
                .into_iter()
                .map(|p| ServicePort {
                    node_port: None,
                    ..p
                })
                .collect(),
        ),
        load_balancer_class: (route == Route::Class).then(|| class.clone()),
        load_balancer_source_ranges: old.load_balancer_source_ranges.filter(|r| !r.is_empty()),
        allocate_load_balancer_node_ports: Some(false),
        session_affinity: old.session_affinity,
        session_affinity_config: old.session_affinity_config,
        ip_families: old.ip_families,
        ip_family_policy: old.ip_family_policy,
        internal_traffic_policy: old.internal_traffic_policy,
        publish_not_ready_addresses: old.publish_not_ready_addresses,
        traffic_distribution: old.traffic_distribution,
        ..Default::default()
    }
}

/// Pod readiness gates keep a rollout from outrunning target registration
/// (domain.md §4.5, §7.1); they are opt-in per namespace.
fn readiness_gate(cx: &mut Cx) {
    let ns = cx.svc.namespace.clone();
    let field = format!("namespace.labels[{}]", ann::READINESS_GATE_LABEL);
    let fix = format!(
        "kubectl label namespace {ns} {}=enabled, then restart the workload: gates are injected only into pods created afterwards",
        ann::READINESS_GATE_LABEL
    );
    let labels = cx.live.namespace_labels.clone();
    match labels {
        Some(labels)
            if labels.get(ann::READINESS_GATE_LABEL).map(String::as_str) == Some("enabled") => {}
        Some(_) => cx.warn(
            "readiness-gate-not-enabled",
            &field,
            format!(
                "namespace {ns} does not inject pod readiness gates: during a rollout, pods can be replaced faster than the NLB registers the new ones and finds them healthy (minutes), dropping traffic"
            ),
            &fix,
        ),
        None => cx.note(
            Severity::Info,
            "readiness-gate-unverified",
            &field,
            format!(
                "namespace {ns} was not read; ip targets need pod readiness gates so that rollouts wait for the NLB to find new pods healthy"
            ),
            &fix,
        ),
    }
}

/// Labels are carried; GitOps ownership marks are reported.
fn metadata(
    cx: &mut Cx,
    labels: Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    let labels = labels.filter(|l| !l.is_empty());
    let tracking = cx.take(keys::ARGOCD_TRACKING);
    let helm = cx.rest.contains_key("meta.helm.sh/release-name")
        || labels
            .as_ref()
            .and_then(|l| l.get("app.kubernetes.io/managed-by"))
            .map(String::as_str)
            == Some("Helm");
    let argo_label = labels
        .as_ref()
        .is_some_and(|l| l.contains_key("app.kubernetes.io/instance"));
    if tracking.is_some() || helm || argo_label {
        let what = if tracking.is_some() {
            format!(
                "{} is left out (it names the legacy Service); ",
                keys::ARGOCD_TRACKING
            )
        } else {
            String::new()
        };
        cx.warn(
            "gitops-managed",
            "metadata",
            format!(
                "{what}the legacy Service carries Helm or Argo CD ownership marks, which the new Service copies through its labels: a GitOps tool may show it as extra or prune it, and the legacy Service may be re-created after the switch deletes it"
            ),
            "commit the new Service (kubectl nlb migrate -f … -o yaml) to the chart or repository, and remove the legacy one there when the switch is done",
        );
    }
    labels
}

/// A Service without a selector keeps endpoints made by hand or by another
/// controller. The LBC registers them in IP mode only when they reference a
/// Pod (pkg/backend/endpoint_resolver.go:147-167), from the Service's
/// EndpointSlices (v2.14+) or its Endpoints object; the switch copies them to
/// the new Service (`switch::mirror`).
fn selectorless(cx: &mut Cx) {
    if !cx.svc.selector.is_empty() {
        return;
    }
    const FIELD: &str = "spec.selector";
    let mirrored = "the migration copies its endpoints to the new Service and keeps the copy in step while the switch runs; after it, whatever keeps this Service's endpoints must keep the new Service's";
    match cx.live.endpoints {
        None => cx.warn(
            "endpoints-unverified",
            FIELD,
            format!("no selector: {mirrored}. The LBC registers only endpoints that reference a Pod, and they were not read"),
            "run migrate against the cluster to check the endpoints",
        ),
        Some(f) if f.pod_refs == 0 => cx.error(
            "endpoints-without-pods",
            FIELD,
            format!(
                "no selector, and none of its {} endpoints references a Pod: the LBC in IP mode registers only endpoints that reference a Pod, so the new NLB would have no targets",
                f.plain
            ),
            "give the Service a selector, or keep it on the in-tree provider",
        ),
        Some(f) => {
            let plain = if f.plain > 0 {
                format!("; {} endpoints without a Pod reference will get no target", f.plain)
            } else {
                String::new()
            };
            cx.warn(
                "endpoints-mirrored",
                FIELD,
                format!("no selector: {mirrored} ({} endpoints reference Pods{plain})", f.pod_refs),
                "point whatever maintains the endpoints at the new Service before the old one is deleted",
            )
        }
    }
}

/// `aws-load-balancer-name` is an LBC annotation the new Service carries;
/// longer than 32 characters the LBC fails the model build ("load balancer
/// name cannot be longer than 32 characters",
/// pkg/service/model_build_load_balancer.go:580-583) and never makes an NLB.
fn load_balancer_name(cx: &mut Cx) {
    const NAME: &str = "service.beta.kubernetes.io/aws-load-balancer-name";
    if let Some(name) = cx.rest.get(NAME).cloned()
        && name.len() > 32
    {
        cx.error(
            "load-balancer-name-too-long",
            NAME,
            format!(
                "\"{name}\" is {} characters; the LBC refuses names longer than 32 and would never build the NLB",
                name.len()
            ),
            "shorten the name to 32 characters or fewer, or remove the annotation and let the LBC name the NLB",
        );
    }
}

/// What the API server would refuse in the new Service (qa D-W12): a live
/// Service always passes these checks, so they matter for manifests (`-f`),
/// but the live path runs them too, through this same translation.
/// kube-apiserver `pkg/apis/core/validation/validation.go`:
/// `ValidateServiceName = apimachineryvalidation.NameIsDNS1035Label`;
/// `ValidateService` → `validateServicePort` (a name is required when there
/// are several ports, and must be unique: "Duplicate value"), then "Check for
/// duplicate Ports, considering (protocol,port) pairs".
fn api_validity(cx: &mut Cx, new_name: &str) {
    let old_name = cx.svc.name.clone();
    if let Err(reason) = validate_name(&old_name) {
        let suggestion = dns_label_like(&old_name)
            .map(|s| format!(", e.g. \"{s}\""))
            .unwrap_or_default();
        cx.error(
            "service-name-invalid",
            "metadata.name",
            format!(
                "\"{old_name}\" is not a valid Service name ({reason}): the API server accepts only DNS-1035 labels, so no live Service has this name, and the new name made from it, \"{new_name}\", would be refused too"
            ),
            &format!(
                "correct metadata.name in the manifest to a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters){suggestion}, then run migrate again"
            ),
        );
    } else if let Err(reason) = validate_name(new_name) {
        cx.error(
            "new-name-invalid",
            "metadata.name",
            format!("the new Service would be named \"{new_name}\", which the API server refuses: {reason}"),
            "name the new Service with --new-name",
        );
    }
    let ports = cx.svc.ports.clone();
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pairs: BTreeMap<(i32, String), usize> = BTreeMap::new();
    for (i, p) in ports.iter().enumerate() {
        let name = p.name.as_deref().unwrap_or_default();
        if name.is_empty() {
            if ports.len() > 1 {
                cx.error(
                    "port-name-missing",
                    &format!("spec.ports[{i}].name"),
                    format!(
                        "port {} has no name, but the Service has {} ports: the API server requires a name on each (spec.ports[{i}].name: Required value)",
                        p.port,
                        ports.len()
                    ),
                    "name every port in the manifest (e.g. http, https), then run migrate again",
                );
            }
        } else if let Some(first) = names.insert(name, i) {
            cx.error(
                "port-name-duplicate",
                &format!("spec.ports[{i}].name"),
                format!(
                    "\"{name}\" also names spec.ports[{first}]: the API server refuses the Service (spec.ports[{i}].name: Duplicate value: \"{name}\")"
                ),
                "give each port its own name in the manifest, then run migrate again",
            );
        }
        // The API server defaults an absent protocol to TCP before comparing.
        let protocol = p.protocol.to_ascii_uppercase();
        if let Some(first) = pairs.insert((p.port, protocol.clone()), i) {
            cx.error(
                "port-duplicate",
                &format!("spec.ports[{i}]"),
                format!(
                    "{protocol} port {} is also spec.ports[{first}]: the API server refuses the Service (spec.ports[{i}]: Duplicate value), and an NLB takes one listener per port and protocol",
                    p.port
                ),
                "remove the duplicate port from the manifest, or give it another port number, then run migrate again",
            );
        }
    }
}

/// A DNS-1035 label close to `name` (lower-cased, other characters as
/// '-'), to suggest; `None` when that is not valid either.
fn dns_label_like(name: &str) -> Option<String> {
    let lowered: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let trimmed = lowered.trim_matches('-').to_string();
    validate_name(&trimmed).ok().map(|()| trimmed)
}

/// Whatever no rule took: carried, and reported when it is an AWS
/// load-balancer annotation (domain.md §1.2 last row).
fn leftovers(cx: &mut Cx) {
    let rest = std::mem::take(&mut cx.rest);
    let mut external_dns = Vec::new();
    for (key, value) in rest {
        if keys::EXTERNAL_DNS_PREFIXES
            .iter()
            .any(|p| key.starts_with(p))
        {
            external_dns.push(key);
            continue;
        }
        if keys::is_lbc_only(&key) {
            cx.warn(
                "lbc-only-annotation",
                &key,
                format!(
                    "\"{value}\" is carried; only the LBC reads it, so it did nothing on the in-tree NLB and will apply to the new one"
                ),
                "check that the setting is still wanted before applying",
            );
        } else if keys::is_aws_load_balancer_key(&key) {
            cx.warn(
                "unknown-annotation",
                &key,
                format!(
                    "\"{value}\" is carried, but it is not a known annotation of either controller"
                ),
                "check the spelling against the LBC annotation reference",
            );
        }
        cx.out.insert(key, value);
    }
    if !external_dns.is_empty() {
        let list = external_dns.join(", ");
        cx.warn(
            "external-dns-not-copied",
            &external_dns[0],
            format!(
                "{list} left out: external-dns would claim the same names for both Services, and it reverts record edits the switch makes"
            ),
            "take the names out of external-dns's scope for the switch, then move the annotations to the new Service",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HealthCheck, LbAddress};
    use serde_json::{Value, json};

    /// A legacy in-tree NLB Service with extra annotations and spec fields.
    pub(super) fn legacy(annotations: &[(&str, &str)], spec: Value) -> Service {
        let mut ann: serde_json::Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        ann.entry(ann::LB_TYPE.to_string()).or_insert(json!("nlb"));
        let mut base = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "annotations": ann},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": "web"},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080},
                    {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP", "nodePort": 30443}
                ]
            }
        });
        if let (Some(s), Some(extra)) = (base["spec"].as_object_mut(), spec.as_object()) {
            for (k, v) in extra {
                s.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap()
    }

    pub(super) fn online() -> Live {
        Live {
            lbc: Lbc::Installed(Some(Version::new(2, 13, 0))),
            vpc_cni: Some(true),
            namespace_labels: Some(BTreeMap::from([(
                ann::READINESS_GATE_LABEL.to_string(),
                "enabled".to_string(),
            )])),
            ..Default::default()
        }
    }

    pub(super) fn run(svc: &Service, live: &Live) -> Translation {
        translate(svc, live, &Options::default()).unwrap()
    }

    pub(super) fn anns(t: &Translation) -> &BTreeMap<String, String> {
        t.service.metadata.annotations.as_ref().unwrap()
    }

    pub(super) fn codes(t: &Translation) -> Vec<&'static str> {
        t.report.iter().map(|e| e.code).collect()
    }

    pub(super) fn entry<'t>(t: &'t Translation, code: &str) -> &'t Entry {
        t.report
            .iter()
            .find(|e| e.code == code)
            .unwrap_or_else(|| panic!("no {code} in {:#?}", t.report))
    }

    pub(super) fn tg(port: i32) -> TargetGroup {
        TargetGroup {
            arn: format!("arn:tg/{port}"),
            name: format!("k8s-shop-web-{port}"),
            protocol: Some("TCP".into()),
            port: Some(port),
            health_check: HealthCheck {
                protocol: Some("TCP".into()),
                port: Some("traffic-port".into()),
                interval_seconds: Some(30),
                timeout_seconds: Some(10),
                healthy_threshold: Some(3),
                unhealthy_threshold: Some(3),
                ..Default::default()
            },
            attributes: BTreeMap::from([
                ("preserve_client_ip.enabled".to_string(), "true".to_string()),
                ("proxy_protocol_v2.enabled".to_string(), "false".to_string()),
                (
                    "deregistration_delay.timeout_seconds".to_string(),
                    "300".to_string(),
                ),
            ]),
            ..Default::default()
        }
    }

    #[test]
    fn default_names_get_a_suffix_and_stay_dns_labels() {
        assert_eq!(default_new_name("frontend"), "frontend-lbc");
        let long = "a".repeat(63);
        let name = default_new_name(&long);
        assert_eq!(name.len(), 63);
        assert!(validate_name(&name).is_ok());
        let dashy = format!("{}-b", "a".repeat(58));
        assert_eq!(default_new_name(&dashy), format!("{}-lbc", "a".repeat(58)));
    }

    #[test]
    fn names_must_be_rfc_1035_labels() {
        assert!(validate_name("web-lbc").is_ok());
        for bad in ["", "Web", "1web", "web-", "web_lbc", &"a".repeat(64)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_invalid_or_identical_new_name_is_refused() {
        let svc = legacy(&[], json!({}));
        for name in ["Bad_Name", "web"] {
            let opts = Options {
                new_name: Some(name.into()),
                ..Default::default()
            };
            assert!(matches!(
                translate(&svc, &online(), &opts),
                Err(TranslateError::InvalidName { .. })
            ));
        }
        let opts = Options {
            new_name: Some("web-v2".into()),
            ..Default::default()
        };
        let t = translate(&svc, &online(), &opts).unwrap();
        assert_eq!(t.service.metadata.name.as_deref(), Some("web-v2"));
    }

    #[test]
    fn only_in_tree_nlb_load_balancers_are_translated() {
        let cluster_ip = legacy(&[], json!({"type": "ClusterIP"}));
        assert!(matches!(
            translate(&cluster_ip, &online(), &Options::default()),
            Err(TranslateError::NotLoadBalancer { .. })
        ));
        for (annotations, class, owner) in [
            (
                vec![(ann::LB_TYPE, "external"), (ann::NLB_TARGET_TYPE, "ip")],
                None,
                "lbc",
            ),
            (vec![(ann::LB_TYPE, "classic")], None, "in-tree-clb"),
            (vec![], Some(ann::LBC_CLASS), "lbc"),
            (vec![], Some("example.com/lb"), "other-class"),
            (vec![(ann::LB_TYPE, "external")], None, "unclaimed"),
        ] {
            let svc = legacy(&annotations, json!({"loadBalancerClass": class}));
            match translate(&svc, &online(), &Options::default()) {
                Err(TranslateError::NotInTreeNlb { owner: o, .. }) => assert_eq!(o, owner),
                other => panic!("{annotations:?} {class:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_service_without_selector_needs_endpoints_that_reference_pods() {
        use crate::switch::mirror::EndpointFacts;
        let svc = legacy(&[], json!({"selector": null}));
        let with = |endpoints| Live {
            endpoints,
            ..online()
        };
        let t = translate(&svc, &with(None), &Options::default()).unwrap();
        assert_eq!(
            entry(&t, "endpoints-unverified").severity,
            Severity::Warning
        );
        let none = Some(EndpointFacts {
            pod_refs: 0,
            plain: 2,
        });
        let t = translate(&svc, &with(none), &Options::default()).unwrap();
        assert!(t.is_blocked());
        assert!(
            entry(&t, "endpoints-without-pods")
                .message
                .contains("none of its 2 endpoints")
        );
        let some = Some(EndpointFacts {
            pod_refs: 2,
            plain: 1,
        });
        let t = translate(&svc, &with(some), &Options::default()).unwrap();
        assert!(!t.is_blocked());
        let e = entry(&t, "endpoints-mirrored");
        assert!(
            e.message
                .contains("2 endpoints reference Pods; 1 endpoints without"),
            "{}",
            e.message
        );
        assert!(t.service.spec.unwrap().selector.is_none());
    }

    #[test]
    fn a_service_without_name_or_being_deleted_is_refused() {
        let mut unnamed = legacy(&[], json!({}));
        unnamed.metadata.name = None;
        assert_eq!(
            translate(&unnamed, &online(), &Options::default()).unwrap_err(),
            TranslateError::Unnamed
        );
        let mut deleting = legacy(&[], json!({}));
        deleting.metadata.deletion_timestamp =
            Some(serde_json::from_value(json!("2026-01-01T00:00:00Z")).unwrap());
        assert!(matches!(
            translate(&deleting, &online(), &Options::default()),
            Err(TranslateError::Deleting { .. })
        ));
    }

    #[test]
    fn errors_name_the_service_and_the_way_out() {
        let svc = legacy(
            &[(ann::LB_TYPE, "external"), (ann::NLB_TARGET_TYPE, "ip")],
            json!({}),
        );
        let err = translate(&svc, &online(), &Options::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("shop/web") && text.contains("cutover"),
            "{text}"
        );
    }

    #[test]
    fn a_recent_lbc_gets_the_class_and_ip_targets() {
        let t = run(&legacy(&[], json!({})), &online());
        let spec = t.service.spec.as_ref().unwrap();
        assert_eq!(spec.load_balancer_class.as_deref(), Some(ann::LBC_CLASS));
        let a = anns(&t);
        assert_eq!(a.get(ann::LB_TYPE), None);
        assert_eq!(a[ann::NLB_TARGET_TYPE], "ip");
        assert!(codes(&t).contains(&"load-balancer-class"));
        assert!(codes(&t).contains(&"ip-targets"));
        assert!(!t.is_blocked(), "{:#?}", t.report);
    }

    #[test]
    fn an_lbc_before_v2_4_gets_the_external_annotation() {
        let live = Live {
            lbc: Lbc::Installed(Some(Version::new(2, 3, 1))),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert_eq!(t.service.spec.as_ref().unwrap().load_balancer_class, None);
        assert_eq!(anns(&t)[ann::LB_TYPE], "external");
        assert_eq!(anns(&t)[ann::NLB_TARGET_TYPE], "ip");
        assert!(
            entry(&t, "load-balancer-type-external")
                .message
                .contains("v2.3.1")
        );
    }

    #[test]
    fn a_missing_or_too_old_lbc_blocks() {
        for (lbc, code) in [
            (Lbc::Missing, "lbc-missing"),
            (Lbc::Installed(Some(Version::new(2, 1, 3))), "lbc-too-old"),
        ] {
            let live = Live { lbc, ..online() };
            let t = run(&legacy(&[], json!({})), &live);
            assert!(t.is_blocked());
            assert_eq!(t.blockers().next().unwrap().code, code);
        }
    }

    #[test]
    fn an_unknown_lbc_prefers_the_class_and_says_so() {
        let t = run(&legacy(&[], json!({})), &Live::default());
        assert_eq!(entry(&t, "lbc-not-checked").severity, Severity::Info);
        let live = Live {
            lbc: Lbc::Installed(None),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert_eq!(entry(&t, "lbc-version-unknown").severity, Severity::Warning);
        assert_eq!(
            t.service
                .spec
                .as_ref()
                .unwrap()
                .load_balancer_class
                .as_deref(),
            Some(ann::LBC_CLASS)
        );
    }

    #[test]
    fn lbc_detection_maps_onto_the_three_states() {
        assert_eq!(Lbc::from_detection(&Detection::Missing), Lbc::Missing);
        assert_eq!(
            Lbc::from_detection(&Detection::Unknown("forbidden".into())),
            Lbc::Unknown("forbidden".into())
        );
        let found = Detection::Found(LbcInstall {
            namespace: "kube-system".into(),
            name: "aws-load-balancer-controller".into(),
            image: None,
            version: Some(Version::new(2, 8, 0)),
            version_source: Some("image"),
            cluster_name: None,
            load_balancer_class: Some("example.com/nlb".into()),
            feature_gates: BTreeMap::from([("NLBSecurityGroup".to_string(), false)]),
            ready_replicas: Some(2),
        });
        assert_eq!(
            LbcFlags::from_detection(&found),
            LbcFlags {
                class: Some("example.com/nlb".into()),
                nlb_security_group: Some(false)
            }
        );
        assert_eq!(
            Lbc::from_detection(&found),
            Lbc::Installed(Some(Version::new(2, 8, 0)))
        );
    }

    #[test]
    fn a_missing_vpc_cni_is_a_warning() {
        let live = Live {
            vpc_cni: Some(false),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert_eq!(entry(&t, "vpc-cni-missing").severity, Severity::Warning);
        assert!(!t.is_blocked());
    }

    #[test]
    fn an_inert_target_type_is_replaced() {
        let t = run(
            &legacy(&[(ann::NLB_TARGET_TYPE, "instance")], json!({})),
            &online(),
        );
        assert_eq!(anns(&t)[ann::NLB_TARGET_TYPE], "ip");
        assert!(codes(&t).contains(&"target-type-replaced"));
    }

    #[test]
    fn the_scheme_defaults_to_internet_facing_and_is_always_written() {
        let t = run(&legacy(&[], json!({})), &online());
        assert_eq!(anns(&t)[ann::SCHEME], "internet-facing");
        assert!(
            entry(&t, "scheme-explicit")
                .message
                .contains("in-tree default")
        );
    }

    #[test]
    fn any_internal_value_but_false_means_internal() {
        for (value, scheme) in [
            ("true", "internal"),
            ("0.0.0.0/0", "internal"),
            ("maybe", "internal"),
            ("false", "internet-facing"),
            ("", "internet-facing"),
        ] {
            let t = run(&legacy(&[(ann::INTERNAL, value)], json!({})), &online());
            assert_eq!(anns(&t)[ann::SCHEME], scheme, "{value}");
            assert!(!anns(&t).contains_key(ann::INTERNAL));
            let note = &entry(&t, "internal-annotation-replaced").message;
            assert_eq!(
                note.contains("reconcile error"),
                classify::parse_go_bool(value).is_none(),
                "{value}: {note}"
            );
        }
    }

    #[test]
    fn the_live_scheme_wins_and_a_disagreement_is_reported() {
        let live = Live {
            load_balancer: Some(LoadBalancer {
                scheme: Some("internal".into()),
                ..Default::default()
            }),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        assert_eq!(anns(&t)[ann::SCHEME], "internal");
        assert_eq!(entry(&t, "scheme-live-differs").severity, Severity::Warning);
    }

    #[test]
    fn an_inert_scheme_annotation_does_not_change_the_scheme() {
        let t = run(&legacy(&[(ann::SCHEME, "internal")], json!({})), &online());
        assert_eq!(anns(&t)[ann::SCHEME], "internet-facing");
        assert!(codes(&t).contains(&"scheme-annotation-ignored"));
        let same = run(
            &legacy(&[(ann::SCHEME, "internet-facing")], json!({})),
            &online(),
        );
        assert!(!codes(&same).contains(&"scheme-annotation-ignored"));
    }

    #[test]
    fn static_addresses_block_unless_accepted() {
        let svc = legacy(
            &[
                (ann::EIP_ALLOCATIONS, "eipalloc-1,eipalloc-2"),
                (ann::PRIVATE_IPV4_ADDRESSES, "10.0.1.10,10.0.2.10"),
            ],
            json!({}),
        );
        let t = run(&svc, &online());
        assert_eq!(
            t.blockers()
                .filter(|e| e.code == "static-addresses")
                .count(),
            2
        );
        let opts = Options {
            accept_new_addresses: true,
            ..Default::default()
        };
        let t = translate(&svc, &online(), &opts).unwrap();
        assert!(!t.is_blocked());
        assert!(!anns(&t).contains_key(ann::EIP_ALLOCATIONS));
        assert!(!anns(&t).contains_key(ann::PRIVATE_IPV4_ADDRESSES));
        assert_eq!(
            codes(&t)
                .iter()
                .filter(|c| **c == "static-addresses-dropped")
                .count(),
            2
        );
    }

    #[test]
    fn live_elastic_ips_block_even_without_the_annotation() {
        let live = Live {
            load_balancer: Some(LoadBalancer {
                addresses: vec![LbAddress {
                    ip_address: Some("198.51.100.7".into()),
                    allocation_id: Some("eipalloc-9".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        let e = t.blockers().next().unwrap();
        assert_eq!(e.field, "aws.loadBalancer.addresses");
        assert!(e.message.contains("198.51.100.7 (eipalloc-9)"));
    }

    #[test]
    fn subnets_are_carried_and_node_labels_dropped() {
        let t = run(
            &legacy(
                &[
                    (keys::SUBNETS, "subnet-a,subnet-b"),
                    (keys::TARGET_NODE_LABELS, "pool=edge"),
                ],
                json!({}),
            ),
            &online(),
        );
        assert_eq!(anns(&t)[keys::SUBNETS], "subnet-a,subnet-b");
        assert!(!anns(&t).contains_key(keys::TARGET_NODE_LABELS));
        assert!(codes(&t).contains(&"target-node-labels-dropped"));
    }

    #[test]
    fn security_groups_are_carried_with_their_new_meaning() {
        let t = run(
            &legacy(
                &[(ann::SECURITY_GROUPS, "sg-1")],
                json!({"loadBalancerSourceRanges": ["10.0.0.0/8"]}),
            ),
            &online(),
        );
        assert_eq!(anns(&t)[ann::SECURITY_GROUPS], "sg-1");
        assert!(codes(&t).contains(&"security-groups-frontend"));
        assert!(codes(&t).contains(&"source-ranges-ignored"));
    }

    #[test]
    fn spec_source_ranges_win_over_the_annotation() {
        let t = run(
            &legacy(
                &[(keys::SOURCE_RANGES, "192.0.2.0/24")],
                json!({"loadBalancerSourceRanges": ["203.0.113.0/24"]}),
            ),
            &online(),
        );
        assert!(!anns(&t).contains_key(keys::SOURCE_RANGES));
        assert_eq!(
            t.service.spec.as_ref().unwrap().load_balancer_source_ranges,
            Some(vec!["203.0.113.0/24".to_string()])
        );
        assert!(codes(&t).contains(&"source-ranges-annotation-shadowed"));
        assert!(
            entry(&t, "source-ranges-frontend-sg")
                .message
                .contains("203.0.113.0/24")
        );
    }

    #[test]
    fn the_source_range_annotation_alone_is_carried() {
        let t = run(
            &legacy(
                &[(keys::SOURCE_RANGES, "192.0.2.0/24, 198.51.100.0/24")],
                json!({}),
            ),
            &online(),
        );
        assert_eq!(
            anns(&t)[keys::SOURCE_RANGES],
            "192.0.2.0/24, 198.51.100.0/24"
        );
        assert!(
            entry(&t, "source-ranges-frontend-sg")
                .message
                .contains("192.0.2.0/24, 198.51.100.0/24")
        );
    }

    #[test]
    fn source_ranges_without_an_nlb_security_group_need_preserve_client_ip() {
        let old_lbc = Live {
            lbc: Lbc::Installed(Some(Version::new(2, 5, 4))),
            ..online()
        };
        let svc = legacy(&[], json!({"loadBalancerSourceRanges": ["203.0.113.0/24"]}));
        let t = run(&svc, &old_lbc);
        assert_eq!(
            t.blockers().next().unwrap().code,
            "source-ranges-not-enforced"
        );
        // Local keeps preserve_client_ip on, and the ranges then stay on ENI rules.
        let local = legacy(
            &[],
            json!({"loadBalancerSourceRanges": ["203.0.113.0/24"], "externalTrafficPolicy": "Local"}),
        );
        let t = run(&local, &old_lbc);
        assert!(!t.is_blocked(), "{:#?}", t.report);
        assert!(codes(&t).contains(&"source-ranges-node-rules"));
        // disable-nlb-sg on a new LBC is the same as an old LBC.
        let disabled = legacy(
            &[(keys::DISABLE_NLB_SG, "true")],
            json!({"loadBalancerSourceRanges": ["203.0.113.0/24"]}),
        );
        assert!(run(&disabled, &online()).is_blocked());
        // Unknown LBC version: a warning, not a block.
        let t = run(&svc, &Live::default());
        assert_eq!(
            entry(&t, "source-ranges-unverified").severity,
            Severity::Warning
        );
    }

    #[test]
    fn clb_only_annotations_are_dropped_with_the_nlb_equivalent() {
        let t = run(
            &legacy(
                &[
                    (keys::IDLE_TIMEOUT, "600"),
                    (keys::DRAINING_ENABLED, "true"),
                    (keys::DRAINING_TIMEOUT, "60"),
                    (keys::EXTRA_SECURITY_GROUPS, "sg-extra"),
                    (keys::ACCESS_LOG_EMIT_INTERVAL, "5"),
                ],
                json!({}),
            ),
            &online(),
        );
        let dropped: Vec<&Entry> = t
            .report
            .iter()
            .filter(|e| e.code == "clb-only-dropped")
            .collect();
        assert_eq!(dropped.len(), 5);
        for (key, _) in ann::CLB_ONLY {
            assert!(!anns(&t).contains_key(*key));
        }
        let idle = dropped
            .iter()
            .find(|e| e.field == keys::IDLE_TIMEOUT)
            .unwrap();
        assert!(
            idle.message.contains(
                "tcp.idle_timeout.seconds=600 under aws-load-balancer-listener-attributes.TCP-80"
            ),
            "{}",
            idle.message
        );
        let drain = dropped
            .iter()
            .find(|e| e.field == keys::DRAINING_TIMEOUT)
            .unwrap();
        assert!(
            drain
                .message
                .contains("deregistration_delay.timeout_seconds=60")
        );
        // Not translated: the NLB never applied it.
        assert!(!anns(&t)[ann::TARGET_GROUP_ATTRIBUTES].contains("deregistration_delay"));
    }

    #[test]
    fn only_user_owned_fields_are_copied() {
        let mut svc = legacy(
            &[(keys::LAST_APPLIED, "{}"), ("team", "payments")],
            json!({
                "clusterIP": "10.100.0.1", "clusterIPs": ["10.100.0.1"],
                "healthCheckNodePort": 32000, "externalTrafficPolicy": "Local",
                "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster"
            }),
        );
        svc.metadata.uid = Some("u-1".into());
        svc.metadata.resource_version = Some("7".into());
        svc.metadata.finalizers = Some(vec!["service.kubernetes.io/load-balancer-cleanup".into()]);
        svc.metadata.labels = Some(BTreeMap::from([("app".to_string(), "web".to_string())]));
        let t = run(&svc, &online());
        let meta = &t.service.metadata;
        assert_eq!(meta.name.as_deref(), Some("web-lbc"));
        assert_eq!(meta.namespace.as_deref(), Some("shop"));
        assert_eq!(meta.uid, None);
        assert_eq!(meta.resource_version, None);
        assert_eq!(meta.finalizers, None);
        assert_eq!(meta.labels.as_ref().unwrap()["app"], "web");
        let a = anns(&t);
        assert!(!a.contains_key(keys::LAST_APPLIED));
        assert_eq!(a["team"], "payments");
        assert_eq!(a[MIGRATED_FROM], "shop/web");
        let spec = t.service.spec.as_ref().unwrap();
        assert_eq!(spec.cluster_ip, None);
        assert_eq!(spec.cluster_ips, None);
        assert_eq!(spec.health_check_node_port, None);
        assert_eq!(spec.external_traffic_policy, None);
        assert_eq!(spec.allocate_load_balancer_node_ports, Some(false));
        assert_eq!(spec.ip_family_policy.as_deref(), Some("SingleStack"));
        assert_eq!(spec.internal_traffic_policy.as_deref(), Some("Cluster"));
        assert!(
            spec.ports
                .as_ref()
                .unwrap()
                .iter()
                .all(|p| p.node_port.is_none())
        );
        assert!(t.service.status.is_none());
        assert!(codes(&t).contains(&"node-ports-dropped"));
        assert!(codes(&t).contains(&"external-traffic-policy-dropped"));
    }

    #[test]
    fn provenance_can_be_left_out_and_the_namespace_defaulted() {
        let mut svc = legacy(&[], json!({}));
        svc.metadata.namespace = None;
        let opts = Options {
            provenance: false,
            namespace: Some("team-a".into()),
            ..Default::default()
        };
        let t = translate(&svc, &online(), &opts).unwrap();
        assert!(!anns(&t).contains_key(MIGRATED_FROM));
        assert_eq!(t.service.metadata.namespace.as_deref(), Some("team-a"));
        let t = translate(&svc, &online(), &Options::default()).unwrap();
        assert_eq!(t.service.metadata.namespace, None);
        assert_eq!(anns(&t)[MIGRATED_FROM], "default/web");
    }

    #[test]
    fn kube_proxy_only_fields_are_reported() {
        let t = run(
            &legacy(
                &[],
                json!({"sessionAffinity": "ClientIP", "loadBalancerIP": "198.51.100.1", "externalIPs": ["192.0.2.9"]}),
            ),
            &online(),
        );
        let spec = t.service.spec.as_ref().unwrap();
        assert_eq!(spec.session_affinity.as_deref(), Some("ClientIP"));
        assert_eq!(spec.load_balancer_ip, None);
        assert_eq!(spec.external_ips, None);
        for code in [
            "session-affinity-not-applied",
            "load-balancer-ip-dropped",
            "external-ips-not-copied",
        ] {
            assert_eq!(entry(&t, code).severity, Severity::Warning, "{code}");
        }
    }

    #[test]
    fn the_readiness_gate_label_is_checked() {
        let t = run(&legacy(&[], json!({})), &online());
        assert!(!codes(&t).iter().any(|c| c.starts_with("readiness-gate")));
        let live = Live {
            namespace_labels: Some(BTreeMap::new()),
            ..online()
        };
        let t = run(&legacy(&[], json!({})), &live);
        let e = entry(&t, "readiness-gate-not-enabled");
        assert_eq!(e.severity, Severity::Warning);
        let fix = e.fix.as_deref().unwrap();
        assert!(fix.contains(
            "kubectl label namespace shop elbv2.k8s.aws/pod-readiness-gate-inject=enabled"
        ));
        assert!(fix.contains("restart"));
        let t = run(&legacy(&[], json!({})), &Live::default());
        assert_eq!(
            entry(&t, "readiness-gate-unverified").severity,
            Severity::Info
        );
    }

    #[test]
    fn gitops_marks_are_reported_and_argo_tracking_dropped() {
        let mut svc = legacy(
            &[(keys::ARGOCD_TRACKING, "shop:/Service:shop/web")],
            json!({}),
        );
        svc.metadata.labels = Some(BTreeMap::from([(
            "app.kubernetes.io/instance".to_string(),
            "shop".to_string(),
        )]));
        let t = run(&svc, &online());
        assert!(!anns(&t).contains_key(keys::ARGOCD_TRACKING));
        assert_eq!(entry(&t, "gitops-managed").severity, Severity::Warning);
    }

    #[test]
    fn leftover_annotations_are_carried_and_classified() {
        let t = run(
            &legacy(
                &[
                    ("service.beta.kubernetes.io/aws-load-balancer-name", "web"),
                    ("service.beta.kubernetes.io/aws-load-balancer-made-up", "x"),
                    (
                        "external-dns.alpha.kubernetes.io/hostname",
                        "web.example.com",
                    ),
                    ("prometheus.io/scrape", "true"),
                ],
                json!({}),
            ),
            &online(),
        );
        let a = anns(&t);
        assert_eq!(
            a["service.beta.kubernetes.io/aws-load-balancer-name"],
            "web"
        );
        assert_eq!(
            a["service.beta.kubernetes.io/aws-load-balancer-made-up"],
            "x"
        );
        assert_eq!(a["prometheus.io/scrape"], "true");
        assert!(!a.contains_key("external-dns.alpha.kubernetes.io/hostname"));
        assert!(codes(&t).contains(&"lbc-only-annotation"));
        assert!(codes(&t).contains(&"unknown-annotation"));
        assert!(codes(&t).contains(&"external-dns-not-copied"));
        assert!(!t.report.iter().any(|e| e.field == "prometheus.io/scrape"));
    }

    #[test]
    fn the_report_is_sorted_errors_first() {
        let t = run(
            &legacy(&[(ann::EIP_ALLOCATIONS, "eipalloc-1")], json!({})),
            &Live {
                namespace_labels: Some(BTreeMap::new()),
                ..online()
            },
        );
        let severities: Vec<Severity> = t.report.iter().map(|e| e.severity).collect();
        let mut sorted = severities.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(severities, sorted);
        assert_eq!(t.report[0].severity, Severity::Error);
    }

    #[test]
    fn agreement_needs_every_target_group() {
        let a = tg(30080);
        let mut b = tg(30443);
        assert_eq!(
            agreed(&[a.clone(), b.clone()], |t| t.health_check.interval_seconds),
            Agreed::One(30)
        );
        b.health_check.interval_seconds = Some(10);
        assert_eq!(
            agreed(&[a.clone(), b.clone()], |t| t.health_check.interval_seconds),
            Agreed::Several(vec![10, 30])
        );
        b.health_check.interval_seconds = None;
        assert_eq!(
            agreed(&[a, b], |t| t.health_check.interval_seconds),
            Agreed::Unknown
        );
        assert_eq!(agreed(&[], |t: &TargetGroup| t.port), Agreed::Unknown);
    }

    #[test]
    fn a_name_the_api_server_refuses_blocks_with_a_suggestion() {
        // qa D-W12: `CheckOut` became `CheckOut-lbc`.
        let mut svc = legacy(&[], json!({}));
        svc.metadata.name = Some("CheckOut".into());
        let t = run(&svc, &online());
        let e = t.blockers().next().expect("a blocker");
        assert_eq!(
            (e.code, e.field.as_str()),
            ("service-name-invalid", "metadata.name")
        );
        assert!(e.message.contains("\"CheckOut-lbc\""), "{}", e.message);
        assert!(
            e.fix
                .as_deref()
                .unwrap_or_default()
                .contains("\"checkout\"")
        );
        // Longer than a label: the truncated new name would hide the problem.
        svc.metadata.name = Some("a".repeat(70));
        let t = run(&svc, &online());
        assert_eq!(
            t.blockers().next().map(|e| e.code),
            Some("service-name-invalid")
        );
        // A valid 63-character name still gives a valid new one.
        svc.metadata.name = Some("a".repeat(63));
        let t = run(&svc, &online());
        assert!(!t.is_blocked(), "{:#?}", t.report);
        assert_eq!(t.service.metadata.name.as_deref().map(str::len), Some(63));
    }

    #[test]
    fn ports_the_api_server_refuses_block() {
        // qa D-W12: duplicate names and port/protocol pairs passed through.
        let t = run(
            &legacy(
                &[],
                json!({"ports": [
                    {"name": "https", "port": 443},
                    {"name": "https", "port": 8443},
                    {"name": "alt", "port": 443, "protocol": "TCP"},
                    {"name": "dns", "port": 443, "protocol": "UDP"},
                    {"port": 80}
                ]}),
            ),
            &online(),
        );
        let blockers: Vec<(&str, &str)> = t
            .blockers()
            .filter(|e| e.code.starts_with("port-"))
            .map(|e| (e.code, e.field.as_str()))
            .collect();
        assert_eq!(
            blockers,
            vec![
                ("port-duplicate", "spec.ports[2]"),
                ("port-name-duplicate", "spec.ports[1].name"),
                ("port-name-missing", "spec.ports[4].name"),
            ],
            "UDP 443 next to TCP 443 is fine"
        );
        // One unnamed port is fine.
        let t = run(&legacy(&[], json!({"ports": [{"port": 80}]})), &online());
        assert!(!t.is_blocked(), "{:#?}", t.report);
    }

    #[test]
    fn the_translation_serializes_with_a_report_key() {
        let t = run(&legacy(&[], json!({})), &online());
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["service"]["kind"], "Service");
        assert_eq!(v["report"][0]["severity"], "info");
        assert!(v["report"][0]["code"].is_string());
    }
}
