//! The AWS Load Balancer Controller stand-in (domain.md §2.3–§2.6, §4.4).
//!
//! One pass (`reconcile_once`) does what the real controller converges to:
//!
//! * provisions an NLB (+ frontend SG, shared backend SG, target groups,
//!   listeners, TargetGroupBindings, finalizer, status hostname) for every
//!   LBC-managed Service it has not provisioned yet (after the optional
//!   provisioning delay);
//! * tears those resources down when the Service is being deleted (it stays
//!   Terminating until the stand-in removes `service.k8s.aws/resources`, as
//!   `controllers/service/service_controller.go:224-243` does), stops being
//!   LBC-managed, or is replaced by a Service with a new UID;
//! * keeps the attributes of the target groups it built equal to the
//!   Service's model and their bindings' `networking` to what those
//!   attributes call for (`sync_target_groups`), as the real controller's
//!   redeploy on every Service change does;
//! * keeps the registered targets of every TargetGroupBinding (its own and
//!   user-created ones) equal to the ready pod IPs (ip) or eligible nodes on
//!   the nodePort (instance).
//!
//! It also plays the in-tree service controller's cleanup: an in-tree NLB
//! registered with [`Lbc::track_intree`] (the seeded ones are) is deleted with
//! its target groups once its Service is being deleted, and only then is
//! `service.kubernetes.io/load-balancer-cleanup` removed (domain.md §2.1).
//! What the stand-in does depends on the controller's Deployment
//! ([`crate::lbc_config`]).
//!
//! What it provisioned is remembered in memory (not rediscovered from AWS
//! tags), so a sandbox has exactly one stand-in. Background passes trust the
//! last registrations and target group attributes they applied and re-read
//! them from AWS at most every 30 s; `reconcile_once` always re-reads.

use crate::Error;
use crate::aws::{self, AwsClients, HealthCheck, aws_err, parse_kv_list};
use crate::crd::{ServiceReference, TargetGroupBinding, TargetGroupBindingSpec};
use crate::finalizer;
use crate::hash;
use crate::lbc_config::{self, ControllerConfig};
use crate::listener_action::{self, DefaultAction, ListenerAction};
use crate::model::{self, ann, ns_name, ports};
use crate::networking;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod, Service, ServicePort};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The controller's default `--load-balancer-class`.
pub const LBC_CLASS: &str = lbc_config::DEFAULT_CLASS;
/// The finalizer the LBC puts on Services.
pub const SERVICE_FINALIZER: &str = "service.k8s.aws/resources";
/// The finalizer the LBC puts on every TargetGroupBinding it reconciles.
pub const TGB_FINALIZER: &str = "elbv2.k8s.aws/resources";
/// The in-tree service controller's finalizer (KEP-980).
pub const INTREE_FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";

/// One target group the stand-in created.
#[derive(Clone, Debug)]
pub struct ProvisionedTg {
    pub arn: String,
    pub name: String,
    /// The Service port (not the target port).
    pub service_port: i32,
    pub target_port: i32,
    pub protocol: String,
}

/// One listener the stand-in created, and the default action it last wrote.
#[derive(Clone, Debug)]
pub struct ProvisionedListener {
    pub arn: String,
    pub port: i32,
    pub protocol: String,
    /// The Service's own target group for this port.
    pub target_group_arn: String,
    pub action: DefaultAction,
}

/// Everything the stand-in created for one Service.
#[derive(Clone, Debug)]
pub struct Provisioned {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub nlb_name: String,
    pub arn: String,
    pub dns_name: String,
    pub canonical_hosted_zone_id: String,
    pub scheme: String,
    pub target_type: String,
    pub target_groups: Vec<ProvisionedTg>,
    pub listener_arns: Vec<String>,
    /// The same listeners, with what they forward to.
    pub listeners: Vec<ProvisionedListener>,
    pub frontend_sg: Option<String>,
    /// The shared backend security group its bindings admit; `None`: the
    /// NLB has no security group of the controller's, and the bindings carry
    /// the legacy rules.
    pub backend_sg: Option<String>,
    pub tgb_names: Vec<String>,
}

/// What one pass did.
#[derive(Clone, Debug, Default)]
pub struct ReconcileReport {
    /// `ns/name` of Services provisioned in this pass.
    pub provisioned: Vec<String>,
    /// `ns/name` of Services whose AWS resources were deleted.
    pub deprovisioned: Vec<String>,
    /// `ns/name` of LBC Services still inside the provisioning delay.
    pub waiting: Vec<String>,
    /// Target group ARNs whose registrations changed.
    pub targets_changed: Vec<String>,
    /// Non-fatal errors (the pass continued).
    pub errors: Vec<String>,
}

#[derive(Default)]
struct LbcState {
    first_seen: HashMap<String, Instant>,
    provisioned: BTreeMap<String, Provisioned>,
    applied: HashMap<String, BTreeSet<(String, i32)>>,
    /// The attributes of its own target groups as last read from or written
    /// to AWS, by ARN; trusted on background passes, re-read on full ones.
    tg_attrs: HashMap<String, BTreeMap<String, String>>,
    tg_types: HashMap<String, String>,
    backend_sg: Option<String>,
    /// In-tree NLBs by `ns/name`: (Service UID, NLB ARN, target group ARNs).
    intree: BTreeMap<String, (String, String, Vec<String>)>,
    /// When each Service (by UID) was first seen being deleted.
    deleting_since: HashMap<String, Instant>,
    /// The labelled rules last written, per security group.
    sg_rules: BTreeMap<String, BTreeSet<networking::Perm>>,
    /// The Local NodePort health last sent to moto.
    nodeport_health: Option<BTreeMap<String, bool>>,
    /// EC2 instances, read once per full pass.
    instances: Vec<networking::Instance>,
}

/// The stand-in. Cheap to share (`Arc`).
pub struct Lbc {
    kube: kube::Client,
    aws: AwsClients,
    cluster: String,
    net: std::sync::RwLock<(String, Vec<(String, String)>)>,
    enabled: AtomicBool,
    delay: Mutex<Duration>,
    cleanup_delay: Mutex<Duration>,
    moto_port: std::sync::OnceLock<u16>,
    state: tokio::sync::Mutex<LbcState>,
}

/// The listener protocol of one Service port: TLS where a certificate
/// covers the port (`pkg/service/model_build_listener.go:107-113`), else the
/// port's own.
fn listener_protocol(svc: &Service, p: &ServicePort) -> String {
    let port_proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
    let ssl_ports: Option<Vec<String>> = ann(svc, "aws-load-balancer-ssl-ports")
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let tls = port_proto != "UDP"
        && ann(svc, "aws-load-balancer-ssl-cert").is_some()
        && ssl_ports.as_ref().is_none_or(|ps| {
            ps.iter().any(|x| {
                x == "*" || *x == p.port.to_string() || Some(x.as_str()) == p.name.as_deref()
            })
        });
    if tls { "TLS".to_string() } else { port_proto }
}

/// The `actions.<PROTO>-<PORT>` annotation of every listener port, or the
/// model-build error it causes.
fn listener_actions(
    svc: &Service,
    cfg: &ControllerConfig,
) -> Result<BTreeMap<i32, ListenerAction>, String> {
    let mut out = BTreeMap::new();
    for p in ports(svc) {
        let proto = listener_protocol(svc, &p);
        if let Some(a) = listener_action::listener_action(svc, &proto, p.port, cfg)? {
            out.insert(p.port, a);
        }
    }
    Ok(out)
}

/// The scheme the LBC would use (default internal).
pub fn lbc_scheme(svc: &Service) -> String {
    match ann(svc, "aws-load-balancer-scheme") {
        Some(s @ ("internal" | "internet-facing")) => s.to_string(),
        _ => match ann(svc, "aws-load-balancer-internal") {
            Some("false") => "internet-facing".into(),
            _ => "internal".into(),
        },
    }
}

/// `k8s-<ns:8>-<name:8>-<10 hex>` from the given hash inputs.
pub fn k8s_name(ns: &str, name: &str, parts: &[&str]) -> String {
    format!(
        "k8s-{}-{}-{}",
        hash::prefix(&hash::alnum(ns), 8),
        hash::prefix(&hash::alnum(name), 8),
        hash::hex(parts, 10)
    )
}

/// The NLB name the LBC gives a Service (without `aws-load-balancer-name`).
pub fn lbc_nlb_name(cluster: &str, ns: &str, name: &str, uid: &str, scheme: &str) -> String {
    k8s_name(ns, name, &[cluster, uid, scheme])
}

/// The health check of a Service's target groups
/// (`pkg/service/model_build_target_group.go:159-246`, `buildTargetGroupHealthCheckConfig`):
/// HTTP `/healthz` on the health-check node port for instance targets of a
/// Local Service, else TCP on the traffic port; the annotations override.
fn health_check(svc: &Service, target_type: &str) -> HealthCheck {
    let local = model::external_traffic_local(svc);
    let mut hc = if target_type == "instance" && local {
        HealthCheck {
            protocol: "HTTP".into(),
            port: model::health_check_node_port(svc)
                .map_or_else(|| "traffic-port".to_string(), |n| n.to_string()),
            path: Some("/healthz".into()),
            interval: 10,
            timeout: 6,
            healthy: 2,
            unhealthy: 2,
        }
    } else {
        HealthCheck {
            protocol: "TCP".into(),
            port: "traffic-port".into(),
            path: None,
            interval: 10,
            timeout: 10,
            healthy: 3,
            unhealthy: 3,
        }
    };
    if let Some(v) = ann(svc, "aws-load-balancer-healthcheck-protocol") {
        hc.protocol = v.to_uppercase();
        if hc.protocol == "TCP" {
            hc.path = None;
        } else if hc.path.is_none() {
            hc.path = Some("/".into());
        }
    }
    if let Some(v) = ann(svc, "aws-load-balancer-healthcheck-port") {
        hc.port = v.to_string();
    }
    if let Some(v) = ann(svc, "aws-load-balancer-healthcheck-path")
        && hc.protocol != "TCP"
    {
        hc.path = Some(v.to_string());
    }
    let num = |k: &str, d: i32| ann(svc, k).and_then(|v| v.parse().ok()).unwrap_or(d);
    hc.interval = num("aws-load-balancer-healthcheck-interval", hc.interval);
    hc.timeout = num("aws-load-balancer-healthcheck-timeout", hc.timeout);
    hc.healthy = num(
        "aws-load-balancer-healthcheck-healthy-threshold",
        hc.healthy,
    );
    hc.unhealthy = num(
        "aws-load-balancer-healthcheck-unhealthy-threshold",
        hc.unhealthy,
    );
    hc
}

impl Lbc {
    /// `kube` should be the fake itself (so the stand-in's requests are not
    /// counted as the product's); `aws` should sign with the internal key.
    pub fn new(
        kube: kube::Client,
        aws: AwsClients,
        cluster: &str,
        vpc_id: &str,
        subnets: Vec<(String, String)>,
        enabled: bool,
    ) -> Lbc {
        Lbc {
            kube,
            aws,
            cluster: cluster.to_string(),
            net: std::sync::RwLock::new((vpc_id.to_string(), subnets)),
            enabled: AtomicBool::new(enabled),
            delay: Mutex::new(Duration::ZERO),
            cleanup_delay: Mutex::new(Duration::ZERO),
            moto_port: std::sync::OnceLock::new(),
            state: tokio::sync::Mutex::new(LbcState::default()),
        }
    }

    /// Set the VPC and the (subnet id, CIDR) list new NLBs go into.
    pub fn set_subnets(&self, subnets: Vec<(String, String)>, vpc_id: &str) {
        *self.net.write().unwrap_or_else(|e| e.into_inner()) = (vpc_id.to_string(), subnets);
    }

    fn vpc_id(&self) -> String {
        self.net.read().unwrap_or_else(|e| e.into_inner()).0.clone()
    }

    fn subnets(&self) -> Vec<(String, String)> {
        self.net.read().unwrap_or_else(|e| e.into_inner()).1.clone()
    }

    /// Turn the stand-in on or off (off = no LBC installed: passes do nothing).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// A Service waits this long after it is first seen before its NLB is created.
    pub fn set_provisioning_delay(&self, d: Duration) {
        *self.delay.lock().unwrap_or_else(|e| e.into_inner()) = d;
    }

    /// A deleted Service's cleanup (by either controller) finishes no sooner
    /// than this after the deletion is first seen. The real ones take
    /// seconds to minutes: cloud-provider-aws retries the security-group
    /// deletion with backoff (`deleteSecurityGroupsWithBackoff`).
    pub fn set_cleanup_delay(&self, d: Duration) {
        *self.cleanup_delay.lock().unwrap_or_else(|e| e.into_inner()) = d;
    }

    fn cleanup_due(&self, st: &mut LbcState, uid: &str) -> bool {
        let delay = *self.cleanup_delay.lock().unwrap_or_else(|e| e.into_inner());
        let since = *st
            .deleting_since
            .entry(uid.to_string())
            .or_insert_with(Instant::now);
        since.elapsed() >= delay
    }

    async fn release(&self, svc: &Service, finalizer: &str) -> Result<(), Error> {
        let (ns, _) = ns_name(svc);
        let api = Api::<Service>::namespaced(self.kube.clone(), &ns);
        Ok(finalizer::remove(&api, svc, finalizer).await?)
    }

    /// The in-tree service controller's cleanup (k8s.io/cloud-provider
    /// `controllers/service/controller.go` `processLoadBalancerDelete`): the
    /// NLB and its target groups go first (cloud-provider-aws
    /// `EnsureLoadBalancerDeleted`), then the finalizer. A failure keeps the
    /// finalizer and is retried on the next pass.
    async fn intree_cleanup(
        &self,
        st: &mut LbcState,
        services: &[Service],
        report: &mut ReconcileReport,
    ) {
        let keys: Vec<String> = st.intree.keys().cloned().collect();
        for key in keys {
            let Some((uid, arn, tgs)) = st.intree.get(&key).cloned() else {
                continue;
            };
            let svc = services
                .iter()
                .find(|s| model::key(s) == key && s.metadata.uid.as_deref() == Some(uid.as_str()));
            if svc.is_some_and(|s| s.metadata.deletion_timestamp.is_none()) {
                continue;
            }
            if !self.cleanup_due(st, &uid) {
                report.waiting.push(key);
                continue;
            }
            let done = async {
                aws::delete_nlb(&self.aws, &arn, &tgs).await?;
                if let Some(svc) = svc {
                    self.release(svc, INTREE_FINALIZER).await?;
                }
                Ok::<(), Error>(())
            }
            .await;
            match done {
                Ok(()) => {
                    st.intree.remove(&key);
                    st.deleting_since.remove(&uid);
                    report.deprovisioned.push(key);
                }
                Err(e) => report
                    .errors
                    .push(format!("deleting in-tree NLB {arn} of {key}: {e}")),
            }
        }
    }

    /// The networking manager's part: every binding's rules, aggregated per
    /// target security group (see [`crate::networking`]).
    async fn sync_rules(
        &self,
        st: &mut LbcState,
        tgbs: &[TargetGroupBinding],
        pods: &[Pod],
        full: bool,
    ) -> Result<(), Error> {
        let mut want: BTreeMap<String, BTreeSet<networking::Perm>> = BTreeMap::new();
        for tgb in tgbs
            .iter()
            .filter(|t| t.metadata.deletion_timestamp.is_none())
        {
            let perms = networking::binding_perms(tgb.spec.networking.as_ref());
            if perms.is_empty() {
                continue;
            }
            let Some(arn) = tgb.spec.target_group_arn.as_deref() else {
                continue;
            };
            for (target, _) in st.applied.get(arn).into_iter().flatten() {
                let Some(i) = networking::instance_of(target, &st.instances, pods) else {
                    continue;
                };
                for g in &i.groups {
                    want.entry(g.clone())
                        .or_default()
                        .extend(perms.iter().cloned());
                }
            }
        }
        if !full && want == st.sg_rules {
            return Ok(());
        }
        let groups: BTreeSet<String> = want.keys().chain(st.sg_rules.keys()).cloned().collect();
        let none = BTreeSet::new();
        for g in groups {
            networking::reconcile_group(&self.aws, &g, want.get(&g).unwrap_or(&none)).await?;
        }
        st.sg_rules = want;
        Ok(())
    }

    /// The target groups and bindings of the Services it provisioned,
    /// redeployed on every pass: the real controller rebuilds a Service's
    /// model on each reconcile and deploys the whole stack
    /// (controllers/service/service_controller.go:124-190), target groups
    /// before bindings (pkg/deploy/stack_deployer.go:146-151), stopping at
    /// the first failure (:168-178).
    ///
    /// * Attributes: the model's set
    ///   ([`lbc_config::desired_target_group_attributes`]) against what AWS
    ///   has; only the keys whose values differ are sent
    ///   (pkg/deploy/elbv2/target_group_attributes_reconciler.go:37-70, called
    ///   from target_group_manager.go:95-107). A key the model no longer has
    ///   is left as AWS has it: the reconciler drops the "remove" half of
    ///   `algorithm.DiffStringMap` (:44; pkg/algorithm/maps.go:38-58), so
    ///   taking `preserve_client_ip.enabled` out of the annotation does not
    ///   put the AWS default back. Background passes compare with the set
    ///   last read or written, full passes re-read it (so a hand-made change
    ///   is reverted), as `applied` does for targets.
    /// * Bindings: `spec.networking` follows the model
    ///   ([`Lbc::binding_networking`]: the legacy rules change with
    ///   `preserve_client_ip.enabled` and the source ranges). The real manager
    ///   patches the whole spec when it differs
    ///   (pkg/deploy/elbv2/target_group_binding_manager.go:107-140); the
    ///   stand-in only the networking. `tgbs` is updated in place, so
    ///   [`Lbc::sync_rules`] moves the security-group rules in the same pass.
    async fn sync_target_groups(
        &self,
        cfg: &ControllerConfig,
        st: &mut LbcState,
        by_key: &BTreeMap<String, &Service>,
        tgbs: &mut [TargetGroupBinding],
        full: bool,
        report: &mut ReconcileReport,
    ) {
        let LbcState {
            provisioned,
            tg_attrs,
            ..
        } = st;
        for (key, p) in provisioned.iter() {
            let Some(svc) = by_key
                .get(key)
                .filter(|s| {
                    s.metadata.uid.as_deref() == Some(&p.uid)
                        && lbc_config::target_type(s, cfg).is_some()
                })
                .copied()
            else {
                continue;
            };
            // A model that does not build deploys nothing
            // (service_controller.go:124-131); sync_listeners reports the
            // listener errors.
            if let Some(e) = lbc_config::build_error(svc) {
                report
                    .errors
                    .push(format!("reconciling {key}: Failed build model due to {e}"));
                continue;
            }
            if listener_actions(svc, cfg).is_err() {
                continue;
            }
            let models: Vec<(&ProvisionedTg, ServicePort, BTreeMap<String, String>)> = p
                .target_groups
                .iter()
                .filter_map(|tg| {
                    let port = ports(svc).into_iter().find(|x| x.port == tg.service_port)?;
                    let want = lbc_config::desired_target_group_attributes(svc, &port, cfg);
                    Some((tg, port, want))
                })
                .collect();
            let mut failed = false;
            for (tg, _, want) in &models {
                if let Err(e) = self.sync_attributes(tg_attrs, &tg.arn, want, full).await {
                    report
                        .errors
                        .push(format!("reconciling {key}: Failed deploy model due to {e}"));
                    failed = true;
                    break;
                }
            }
            if failed {
                continue;
            }
            let hc = health_check(svc, &p.target_type);
            for (tg, port, want) in &models {
                let Some(tgb) = tgbs.iter_mut().find(|t| {
                    t.metadata.namespace.as_deref() == Some(p.namespace.as_str())
                        && t.metadata.name.as_deref() == Some(tg.name.as_str())
                        && t.metadata.deletion_timestamp.is_none()
                }) else {
                    continue;
                };
                let attrs: Vec<(String, String)> =
                    want.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                let networking = self.binding_networking(
                    svc,
                    &p.scheme,
                    &p.target_type,
                    p.backend_sg.as_deref(),
                    &attrs,
                    port.protocol.as_deref().unwrap_or("TCP"),
                    tg.target_port,
                    &hc,
                );
                if tgb.spec.networking.as_ref() == Some(&networking) {
                    continue;
                }
                let patched =
                    Api::<TargetGroupBinding>::namespaced(self.kube.clone(), &p.namespace)
                        .patch(
                            &tg.name,
                            &PatchParams::default(),
                            &Patch::Merge(json!({"spec": {"networking": networking}})),
                        )
                        .await;
                match patched {
                    Ok(_) => tgb.spec.networking = Some(networking),
                    Err(e) => {
                        report
                            .errors
                            .push(format!("reconciling {key}: Failed deploy model due to {e}"));
                        break;
                    }
                }
            }
        }
    }

    /// Brings one target group's attributes to `want` (see
    /// [`Lbc::sync_target_groups`]); `known` caches what AWS has.
    async fn sync_attributes(
        &self,
        known: &mut HashMap<String, BTreeMap<String, String>>,
        arn: &str,
        want: &BTreeMap<String, String>,
        full: bool,
    ) -> Result<(), Error> {
        let mut have = match known.get(arn) {
            Some(h) if !full => h.clone(),
            _ => {
                let out = self
                    .aws
                    .elb
                    .describe_target_group_attributes()
                    .target_group_arn(arn)
                    .send()
                    .await
                    .map_err(aws_err("DescribeTargetGroupAttributes"))?;
                out.attributes()
                    .iter()
                    .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
                    .collect()
            }
        };
        let changed: Vec<(&String, &String)> = want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .collect();
        if !changed.is_empty() {
            let attrs = changed
                .iter()
                .map(|(k, v)| {
                    aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
                        .key(*k)
                        .value(*v)
                        .build()
                })
                .collect();
            let sent = self
                .aws
                .elb
                .modify_target_group_attributes()
                .target_group_arn(arn)
                .set_attributes(Some(attrs))
                .send()
                .await;
            if let Err(e) = sent {
                // Not knowing what AWS kept, read it again next time.
                known.remove(arn);
                return Err(aws_err("ModifyTargetGroupAttributes")(e));
            }
            have.extend(changed.into_iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        known.insert(arn.to_string(), have);
        Ok(())
    }

    /// The listeners of the NLBs it manages. A listener it did not build is
    /// deleted (pkg/deploy/elbv2/listener_synthesizer.go:75-79); one whose
    /// default action is not the model's is modified, which is how the
    /// `actions.<PROTO>-<PORT>` annotation ([`crate::listener_action`]) comes
    /// and goes on a running Service. Full passes compare with what AWS has
    /// (a hand-made change is reverted); the others with what was last written.
    async fn sync_listeners(
        &self,
        cfg: &ControllerConfig,
        st: &mut LbcState,
        by_key: &BTreeMap<String, &Service>,
        full: bool,
        report: &mut ReconcileReport,
    ) {
        for (key, p) in st.provisioned.iter_mut() {
            let svc = by_key
                .get(key)
                .filter(|s| {
                    s.metadata.uid.as_deref() == Some(&p.uid)
                        && lbc_config::target_type(s, cfg).is_some()
                })
                .copied();
            let actual = if full {
                match self
                    .aws
                    .elb
                    .describe_listeners()
                    .load_balancer_arn(&p.arn)
                    .send()
                    .await
                {
                    Ok(out) => Some(out.listeners().to_vec()),
                    Err(_) => continue, // the NLB is gone: nothing to sync
                }
            } else {
                None
            };
            for l in actual.iter().flatten() {
                let ours = p
                    .listeners
                    .iter()
                    .any(|x| Some(x.arn.as_str()) == l.listener_arn());
                if let (false, Some(arn)) = (ours, l.listener_arn())
                    && let Err(e) = self
                        .aws
                        .elb
                        .delete_listener()
                        .listener_arn(arn)
                        .send()
                        .await
                {
                    report.errors.push(format!(
                        "listeners of {}: {}",
                        p.arn,
                        aws_err("DeleteListener")(e)
                    ));
                }
            }
            let Some(svc) = svc else {
                continue;
            };
            // The whole model is built before anything is deployed: one bad
            // annotation leaves every listener of the Service as it is.
            let desired: Result<Vec<DefaultAction>, String> = p
                .listeners
                .iter()
                .map(|l| {
                    let a = listener_action::listener_action(svc, &l.protocol, l.port, cfg)
                        .map_err(|e| format!("Failed build model due to {e}"))?;
                    DefaultAction::build(a.as_ref(), &l.target_group_arn, cfg)
                        .map_err(|e| format!("Failed deploy model due to {e}"))
                })
                .collect();
            let desired = match desired {
                Ok(d) => d,
                Err(e) => {
                    report.errors.push(format!("reconciling {key}: {e}"));
                    continue;
                }
            };
            for (l, want) in p.listeners.iter_mut().zip(desired) {
                let same = match &actual {
                    Some(ls) => ls
                        .iter()
                        .find(|x| x.listener_arn() == Some(l.arn.as_str()))
                        .is_none_or(|x| want.matches(x.default_actions())),
                    None => l.action == want,
                };
                if same {
                    l.action = want;
                    continue;
                }
                match self
                    .aws
                    .elb
                    .modify_listener()
                    .listener_arn(&l.arn)
                    .default_actions(want.to_sdk())
                    .send()
                    .await
                {
                    Ok(_) => l.action = want,
                    Err(e) => report.errors.push(format!(
                        "reconciling {key}: Failed deploy model due to {}",
                        aws_err("ModifyListener")(e)
                    )),
                }
            }
        }
    }

    /// The in-tree provider's sync of its NLBs (cloud-provider-aws
    /// `ensureLoadBalancerv2`): listeners on ports the Service does not have
    /// are deleted (aws_loadbalancer.go:401-412), and targets it did not
    /// register are deregistered (`ensureTargetGroupTargets`, :879-905).
    async fn intree_sync(
        &self,
        st: &LbcState,
        services: &[Service],
        nodes: &[Node],
        report: &mut ReconcileReport,
    ) {
        let instances = model::all_instances(nodes);
        for (key, (uid, arn, tgs)) in &st.intree {
            let Some(svc) = services
                .iter()
                .find(|s| model::key(s) == *key && s.metadata.uid.as_deref() == Some(uid.as_str()))
            else {
                continue;
            };
            let ports: Vec<i32> = ports(svc).iter().map(|p| p.port).collect();
            if let Err(e) = delete_listeners_except(&self.aws, arn, |l| {
                l.port().is_some_and(|p| ports.contains(&p))
            })
            .await
            {
                report
                    .errors
                    .push(format!("in-tree listeners of {key}: {e}"));
            }
            for tg in tgs {
                if let Err(e) = self.intree_targets(tg, &instances).await {
                    report.errors.push(format!("in-tree targets of {key}: {e}"));
                }
            }
        }
    }

    async fn intree_targets(&self, tg: &str, instances: &[String]) -> Result<(), Error> {
        let out = self
            .aws
            .elb
            .describe_target_groups()
            .target_group_arns(tg)
            .send()
            .await
            .map_err(aws_err("DescribeTargetGroups"))?;
        let Some(port) = out.target_groups().first().and_then(|t| t.port()) else {
            return Ok(());
        };
        let current = aws::registered_targets(&self.aws, tg).await?;
        let desired: BTreeSet<(String, i32)> =
            instances.iter().map(|i| (i.clone(), port)).collect();
        let foreign: BTreeSet<(String, i32)> = current.difference(&desired).cloned().collect();
        if !foreign.is_empty() {
            let keep: BTreeSet<(String, i32)> = current.intersection(&desired).cloned().collect();
            aws::sync_targets(&self.aws, tg, &current, &keep).await?;
        }
        Ok(())
    }

    /// kube-proxy's answer to NodePort health checks of Local Services.
    async fn nodeport_health(
        &self,
        st: &mut LbcState,
        services: &[Service],
        pods: &model::PodsByNamespace,
        nodes: &[Node],
        report: &mut ReconcileReport,
    ) {
        let health = networking::local_nodeport_health(services, pods, nodes);
        if st.nodeport_health.as_ref() == Some(&health) {
            return;
        }
        let Some(port) = self.moto_port.get() else {
            return;
        };
        let body = serde_json::to_string(&health).unwrap_or_default();
        match crate::moto::http_call(*port, "POST", "/_sandbox/nodeport-health", Some(&body)).await
        {
            Ok(_) => st.nodeport_health = Some(health),
            Err(e) => report.errors.push(format!("NodePort health: {e}")),
        }
    }

    /// Where moto's sandbox endpoints are (set once by the sandbox).
    pub fn set_moto_port(&self, port: u16) {
        let _ = self.moto_port.set(port);
    }

    /// The controller's flags, from its Deployment (absent: the defaults).
    async fn config(&self) -> Result<ControllerConfig, Error> {
        let dep = Api::<Deployment>::namespaced(self.kube.clone(), lbc_config::NAMESPACE)
            .get_opt(lbc_config::NAME)
            .await?;
        Ok(ControllerConfig::from_deployment(dep.as_ref()))
    }

    /// What the stand-in has provisioned, by `ns/name`.
    pub async fn provisioned(&self) -> BTreeMap<String, Provisioned> {
        self.state.lock().await.provisioned.clone()
    }

    /// One full pass (re-reads target registrations from AWS).
    pub async fn reconcile_once(&self) -> Result<ReconcileReport, Error> {
        self.pass(true).await
    }

    /// Run passes until the task is aborted: the next pass starts `every`
    /// after the previous one ended, or twice the pass's duration if that is
    /// longer (so a large world does not keep a core busy). Target
    /// registrations are re-read from AWS at most every 30 s.
    pub fn spawn_background(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut last_full: Option<Instant> = None;
            loop {
                let full = last_full.is_none_or(|t| t.elapsed() > Duration::from_secs(30));
                let started = Instant::now();
                if let Err(e) = me.pass(full).await {
                    tracing::warn!("LBC stand-in pass failed: {e}");
                }
                if full {
                    last_full = Some(Instant::now());
                }
                tokio::time::sleep(every.max(started.elapsed() * 2)).await;
            }
        })
    }

    /// Remember an in-tree NLB, to delete it when its Service goes.
    pub async fn track_intree(&self, key: &str, uid: &str, arn: &str, target_groups: &[String]) {
        self.state.lock().await.intree.insert(
            key.to_string(),
            (uid.to_string(), arn.to_string(), target_groups.to_vec()),
        );
    }

    async fn pass(&self, full: bool) -> Result<ReconcileReport, Error> {
        let mut report = ReconcileReport::default();
        let mut st = self.state.lock().await;
        let services = Api::<Service>::all(self.kube.clone())
            .list(&ListParams::default())
            .await?
            .items;
        let pods = model::pods_by_namespace(
            Api::<Pod>::all(self.kube.clone())
                .list(&ListParams::default())
                .await?
                .items,
        );
        let nodes = Api::<Node>::all(self.kube.clone())
            .list(&ListParams::default())
            .await?
            .items;
        if full || st.instances.is_empty() {
            st.instances = networking::instances(&self.aws).await?;
        }
        // The in-tree service controller's and kube-proxy's parts: they run
        // whether or not the LBC is installed.
        self.intree_cleanup(&mut st, &services, &mut report).await;
        if full {
            self.intree_sync(&st, &services, &nodes, &mut report).await;
        }
        self.nodeport_health(&mut st, &services, &pods, &nodes, &mut report)
            .await;
        if !self.is_enabled() {
            return Ok(report);
        }
        let cfg = self.config().await?;
        let by_key: BTreeMap<String, &Service> = services
            .iter()
            .map(|s| {
                let (ns, n) = ns_name(s);
                (format!("{ns}/{n}"), s)
            })
            .collect();

        // 1. tear down what no longer has an LBC Service behind it: the
        // real controller deploys an empty stack, then removes its finalizer
        // (controllers/service/service_controller.go `cleanupLoadBalancerResources`);
        // a failed deletion keeps both, and the next pass retries.
        let stale: Vec<String> = st
            .provisioned
            .iter()
            .filter(|(k, p)| match by_key.get(*k) {
                None => true,
                Some(s) => {
                    lbc_config::target_type(s, &cfg).is_none()
                        || s.metadata.uid.as_deref() != Some(&p.uid)
                }
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            let Some(p) = st.provisioned.get(&key).cloned() else {
                continue;
            };
            let still = by_key
                .get(&key)
                .filter(|s| s.metadata.uid.as_deref() == Some(&p.uid))
                .copied();
            if !self.cleanup_due(&mut st, &p.uid) {
                report.waiting.push(key);
                continue;
            }
            if let Err(e) = self.deprovision(&p, still).await {
                report
                    .errors
                    .push(format!("deleting the NLB of {key}: {e}"));
                continue;
            }
            st.provisioned.remove(&key);
            st.deleting_since.remove(&p.uid);
            for tg in &p.target_groups {
                st.applied.remove(&tg.arn);
                st.tg_attrs.remove(&tg.arn);
            }
            report.deprovisioned.push(key);
        }
        // A Service deleted before its NLB was built holds only the finalizer.
        for svc in services.iter().filter(|s| {
            s.metadata.deletion_timestamp.is_some()
                && finalizer::has(*s, SERVICE_FINALIZER)
                && !st.provisioned.contains_key(&model::key(s))
        }) {
            if let Err(e) = self.release(svc, SERVICE_FINALIZER).await {
                report
                    .errors
                    .push(format!("releasing {}: {e}", model::key(svc)));
            }
        }

        // 2. provision new LBC Services
        let delay = *self.delay.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for (key, svc) in &by_key {
            let Some(tt) = lbc_config::target_type(svc, &cfg) else {
                continue;
            };
            if st.provisioned.contains_key(key) {
                continue;
            }
            let uid = svc.metadata.uid.clone().unwrap_or_default();
            let seen = *st.first_seen.entry(uid).or_insert(now);
            if now.duration_since(seen) < delay {
                report.waiting.push(key.clone());
                continue;
            }
            let backend_sg = self.ensure_backend_sg(&mut st).await;
            match self
                .provision(&cfg, backend_sg, svc, &tt, &pods, &nodes)
                .await
            {
                Ok((p, applied)) => {
                    st.applied.extend(applied);
                    for tg in &p.target_groups {
                        st.tg_types.insert(tg.arn.clone(), p.target_type.clone());
                    }
                    st.provisioned.insert(key.clone(), p);
                    report.provisioned.push(key.clone());
                }
                Err(e) => report.errors.push(format!("provisioning {key}: {e}")),
            }
        }

        // 3. the provisioned Services' target group attributes and binding
        // networking, then the targets of every TargetGroupBinding
        let mut tgbs = Api::<TargetGroupBinding>::all(self.kube.clone())
            .list(&ListParams::default())
            .await?
            .items;
        self.sync_target_groups(&cfg, &mut st, &by_key, &mut tgbs, full, &mut report)
            .await;
        for tgb in &tgbs {
            if let Err(e) = self
                .sync_tgb(
                    &cfg,
                    &mut st,
                    tgb,
                    &by_key,
                    &pods,
                    &nodes,
                    full,
                    &mut report,
                )
                .await
            {
                report.errors.push(format!(
                    "TargetGroupBinding {}/{}: {e}",
                    tgb.metadata.namespace.as_deref().unwrap_or_default(),
                    tgb.metadata.name.as_deref().unwrap_or_default()
                ));
            }
        }
        // 4. the bindings' networking rules, and no listener it did not build
        let all_pods: Vec<Pod> = pods.values().flatten().cloned().collect();
        if let Err(e) = self.sync_rules(&mut st, &tgbs, &all_pods, full).await {
            report.errors.push(format!("security group rules: {e}"));
        }
        self.sync_listeners(&cfg, &mut st, &by_key, full, &mut report)
            .await;
        Ok(report)
    }

    /// Provision every LBC Service that has no NLB yet, `concurrency` at a
    /// time (for the scale seeder; ignores the provisioning delay).
    pub async fn provision_pending(
        self: &Arc<Self>,
        concurrency: usize,
    ) -> Result<ReconcileReport, Error> {
        let mut report = ReconcileReport::default();
        if !self.is_enabled() {
            return Ok(report);
        }
        let mut st = self.state.lock().await;
        let cfg = Arc::new(self.config().await?);
        let services = Api::<Service>::all(self.kube.clone())
            .list(&ListParams::default())
            .await?
            .items;
        let pods = Arc::new(model::pods_by_namespace(
            Api::<Pod>::all(self.kube.clone())
                .list(&ListParams::default())
                .await?
                .items,
        ));
        let nodes = Arc::new(
            Api::<Node>::all(self.kube.clone())
                .list(&ListParams::default())
                .await?
                .items,
        );
        let todo: Vec<(String, Service, String)> = services
            .into_iter()
            .filter_map(|s| {
                let tt = lbc_config::target_type(&s, &cfg)?;
                let (ns, n) = ns_name(&s);
                let key = format!("{ns}/{n}");
                (!st.provisioned.contains_key(&key)).then_some((key, s, tt))
            })
            .collect();
        if todo.is_empty() {
            return Ok(report);
        }
        let backend_sg = self.ensure_backend_sg(&mut st).await;
        let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut set = tokio::task::JoinSet::new();
        for (key, svc, tt) in todo {
            let me = self.clone();
            let (pods, nodes, sem, sg, cfg) = (
                pods.clone(),
                nodes.clone(),
                sem.clone(),
                backend_sg.clone(),
                cfg.clone(),
            );
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = me.provision(&cfg, sg, &svc, &tt, &pods, &nodes).await;
                (key, r)
            });
        }
        while let Some(res) = set.join_next().await {
            match res {
                Ok((key, Ok((p, applied)))) => {
                    st.applied.extend(applied);
                    for tg in &p.target_groups {
                        st.tg_types.insert(tg.arn.clone(), p.target_type.clone());
                    }
                    st.provisioned.insert(key.clone(), p);
                    report.provisioned.push(key);
                }
                Ok((key, Err(e))) => report.errors.push(format!("provisioning {key}: {e}")),
                Err(e) => report.errors.push(format!("provisioning task: {e}")),
            }
        }
        report.provisioned.sort();
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn sync_tgb(
        &self,
        cfg: &ControllerConfig,
        st: &mut LbcState,
        tgb: &TargetGroupBinding,
        services: &BTreeMap<String, &Service>,
        pods: &model::PodsByNamespace,
        nodes: &[Node],
        full: bool,
        report: &mut ReconcileReport,
    ) -> Result<(), Error> {
        let ns = tgb.metadata.namespace.clone().unwrap_or_default();
        let api = Api::<TargetGroupBinding>::namespaced(self.kube.clone(), &ns);
        if tgb.metadata.deletion_timestamp.is_some() {
            return self.release_tgb(st, &api, tgb).await;
        }
        // The controller holds every binding it reconciles
        // (controllers/elbv2/targetgroupbinding_controller.go
        // `reconcileTargetGroupBinding` → `AddFinalizers`).
        if !finalizer::has(tgb, TGB_FINALIZER) {
            let mut all = tgb.metadata.finalizers.clone().unwrap_or_default();
            all.push(TGB_FINALIZER.into());
            api.patch(
                &tgb.name_any(),
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"finalizers": all}})),
            )
            .await?;
        }
        let Some(arn) = self.tgb_arn(tgb).await? else {
            return Ok(());
        };
        let spec = &tgb.spec;
        let Some(svc) = services.get(&format!("{ns}/{}", spec.service_ref.name)) else {
            return Ok(());
        };
        let Some(port) = model::find_port(svc, &spec.service_ref.port) else {
            return Ok(());
        };
        let tt = match &spec.target_type {
            Some(t) => t.clone(),
            None => match st.tg_types.get(&arn) {
                Some(t) => t.clone(),
                None => {
                    let out = self
                        .aws
                        .elb
                        .describe_target_groups()
                        .target_group_arns(&arn)
                        .send()
                        .await
                        .map_err(aws_err("DescribeTargetGroups"))?;
                    let t = out
                        .target_groups()
                        .first()
                        .and_then(|t| t.target_type())
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_else(|| "instance".into());
                    st.tg_types.insert(arn.clone(), t.clone());
                    t
                }
            },
        };
        let desired: BTreeSet<(String, i32)> = if tt == "ip" {
            self.ip_targets(cfg, svc, &port, pods)
                .await?
                .into_iter()
                .collect()
        } else {
            let Some(np) = port.node_port else {
                return Ok(());
            };
            model::eligible_instances(nodes, spec.node_selector.as_ref())
                .into_iter()
                .map(|i| (i, np))
                .collect()
        };
        let current = match st.applied.get(&arn) {
            Some(c) if !full => c.clone(),
            _ => aws::registered_targets(&self.aws, &arn).await?,
        };
        if current != desired {
            aws::sync_targets(&self.aws, &arn, &current, &desired).await?;
            report.targets_changed.push(arn.clone());
        }
        st.applied.insert(arn, desired);
        Ok(())
    }

    /// The ip targets of one Service port: the ready pods its selector
    /// picks, or, without a selector, what its endpoint objects reference.
    async fn ip_targets(
        &self,
        cfg: &ControllerConfig,
        svc: &Service,
        port: &k8s_openapi::api::core::v1::ServicePort,
        pods: &model::PodsByNamespace,
    ) -> Result<Vec<(String, i32)>, Error> {
        let selected = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .is_some_and(|s| !s.is_empty());
        if selected {
            return Ok(model::ready_pod_targets(svc, port, pods));
        }
        let (ns, name) = ns_name(svc);
        if cfg.endpoint_slices {
            let slices = Api::<k8s_openapi::api::discovery::v1::EndpointSlice>::namespaced(
                self.kube.clone(),
                &ns,
            )
            .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={name}")))
            .await?
            .items;
            Ok(model::endpoint_targets(
                svc,
                port,
                model::EndpointSource::Slices(&slices),
                pods,
            ))
        } else {
            let eps =
                Api::<k8s_openapi::api::core::v1::Endpoints>::namespaced(self.kube.clone(), &ns)
                    .get_opt(&name)
                    .await?;
            Ok(model::endpoint_targets(
                svc,
                port,
                model::EndpointSource::Endpoints(eps.as_ref()),
                pods,
            ))
        }
    }

    /// The target group a binding names, by ARN or by name.
    async fn tgb_arn(&self, tgb: &TargetGroupBinding) -> Result<Option<String>, Error> {
        let spec = &tgb.spec;
        Ok(match (&spec.target_group_arn, &spec.target_group_name) {
            (Some(a), _) if !a.is_empty() => Some(a.clone()),
            (_, Some(n)) => self
                .aws
                .elb
                .describe_target_groups()
                .names(n)
                .send()
                .await
                .ok()
                .and_then(|out| {
                    out.target_groups()
                        .first()
                        .and_then(|t| t.target_group_arn())
                        .map(str::to_string)
                }),
            _ => None,
        })
    }

    /// A binding being deleted: its targets are deregistered, then its
    /// finalizer removed (`targetgroupbinding_controller.go`
    /// `cleanupTargetGroupBinding` → `resource_manager.go` `Cleanup`); a
    /// target group already gone has nothing to deregister.
    async fn release_tgb(
        &self,
        st: &mut LbcState,
        api: &Api<TargetGroupBinding>,
        tgb: &TargetGroupBinding,
    ) -> Result<(), Error> {
        if let Some(arn) = self.tgb_arn(tgb).await? {
            if let Ok(current) = aws::registered_targets(&self.aws, &arn).await {
                aws::sync_targets(&self.aws, &arn, &current, &BTreeSet::new()).await?;
            }
            st.applied.remove(&arn);
        }
        Ok(finalizer::remove(api, tgb, TGB_FINALIZER).await?)
    }

    async fn ensure_backend_sg(&self, st: &mut LbcState) -> Option<String> {
        if st.backend_sg.is_some() {
            return st.backend_sg.clone();
        }
        let name = format!(
            "k8s-traffic-{}-{}",
            hash::prefix(&hash::alnum(&self.cluster), 16),
            hash::hex(&[&self.cluster, "backend-sg"], 10)
        );
        let tags = [
            ("elbv2.k8s.aws/cluster", self.cluster.as_str()),
            ("elbv2.k8s.aws/resource", "backend-sg"),
        ];
        let id = self
            .create_sg(
                &name,
                "[k8s] Shared Backend SecurityGroup for LoadBalancer",
                &tags,
            )
            .await?;
        st.backend_sg = Some(id.clone());
        Some(id)
    }

    async fn create_sg(
        &self,
        name: &str,
        description: &str,
        tags: &[(&str, &str)],
    ) -> Option<String> {
        let spec = aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build())
                    .collect(),
            ))
            .build();
        self.aws
            .ec2
            .create_security_group()
            .group_name(name)
            .description(description)
            .vpc_id(self.vpc_id())
            .tag_specifications(spec)
            .send()
            .await
            .ok()
            .and_then(|o| o.group_id().map(str::to_string))
    }

    #[allow(clippy::too_many_arguments)]
    async fn provision(
        &self,
        cfg: &ControllerConfig,
        backend_sg_shared: Option<String>,
        svc: &Service,
        target_type: &str,
        pods: &model::PodsByNamespace,
        nodes: &[Node],
    ) -> Result<(Provisioned, Vec<(String, BTreeSet<(String, i32)>)>), Error> {
        let mut applied = Vec::new();
        let (ns, name) = ns_name(svc);
        let uid = svc
            .metadata
            .uid
            .clone()
            .ok_or_else(|| Error::Other(format!("Service {ns}/{name} has no UID")))?;
        if let Some(e) = lbc_config::build_error(svc) {
            return Err(Error::Other(format!("Failed build model due to {e}")));
        }
        let actions = listener_actions(svc, cfg)
            .map_err(|e| Error::Other(format!("Failed build model due to {e}")))?;
        // The finalizer first, before any AWS resource, as the LBC does
        // (domain.md §2.1): a Service already gone fails here, leaking nothing.
        let mut finalizers = svc.metadata.finalizers.clone().unwrap_or_default();
        if !finalizers.iter().any(|f| f == SERVICE_FINALIZER) {
            finalizers.push(SERVICE_FINALIZER.into());
            Api::<Service>::namespaced(self.kube.clone(), &ns)
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
                )
                .await?;
        }
        let scheme = lbc_scheme(svc);
        let cluster = self.cluster.clone();
        let nlb_name = ann(svc, "aws-load-balancer-name")
            .map(str::to_string)
            .unwrap_or_else(|| lbc_nlb_name(&cluster, &ns, &name, &uid, &scheme));
        let subnets: Vec<String> = match ann(svc, "aws-load-balancer-subnets") {
            Some(list) => {
                let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
                let v: Vec<String> = self
                    .subnets()
                    .iter()
                    .filter(|(id, _)| wanted.contains(&id.as_str()))
                    .map(|(id, _)| id.clone())
                    .collect();
                if v.is_empty() {
                    self.subnets().iter().map(|(id, _)| id.clone()).collect()
                } else {
                    v
                }
            }
            None => self.subnets().iter().map(|(id, _)| id.clone()).collect(),
        };
        let stack = format!("{ns}/{name}");
        let mut base_tags = vec![
            ("elbv2.k8s.aws/cluster".to_string(), cluster.clone()),
            ("service.k8s.aws/stack".to_string(), stack.clone()),
        ];
        if let Some(extra) = ann(svc, "aws-load-balancer-additional-resource-tags") {
            base_tags.extend(parse_kv_list(extra));
        }
        let with_resource = |r: &str| {
            let mut t = base_tags.clone();
            t.push(("service.k8s.aws/resource".to_string(), r.to_string()));
            t
        };

        // security groups
        let mut sgs: Vec<String> = Vec::new();
        let mut frontend_sg = None;
        let backend_sg;
        if let Some(list) = ann(svc, "aws-load-balancer-security-groups") {
            sgs = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            backend_sg = None;
        } else if !cfg.nlb_security_group {
            // buildLoadBalancerSecurityGroups returns none: legacy networking.
            backend_sg = None;
        } else {
            let fname = k8s_name(&ns, &name, &[&cluster, &uid, "sg"]);
            let tags: Vec<(String, String)> = with_resource("ManagedLBSecurityGroup");
            let tag_refs: Vec<(&str, &str)> =
                tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            frontend_sg = self
                .create_sg(
                    &fname,
                    "[k8s] Managed SecurityGroup for LoadBalancer",
                    &tag_refs,
                )
                .await;
            backend_sg = backend_sg_shared;
            sgs.extend(frontend_sg.clone());
            sgs.extend(backend_sg.clone());
        }

        let eips: Vec<String> = ann(svc, "aws-load-balancer-eip-allocations")
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let lb = aws::create_nlb(
            &self.aws,
            &nlb_name,
            Some(scheme == "internal"),
            &subnets,
            &eips,
            &sgs,
            &with_resource("LoadBalancer"),
        )
        .await?;
        if let Some(attrs) = ann(svc, "aws-load-balancer-attributes") {
            let attrs: Vec<aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute> =
                parse_kv_list(attrs)
                    .into_iter()
                    .map(|(k, v)| {
                        aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute::builder()
                            .key(k)
                            .value(v)
                            .build()
                    })
                    .collect();
            let _ = self
                .aws
                .elb
                .modify_load_balancer_attributes()
                .load_balancer_arn(&lb.arn)
                .set_attributes(Some(attrs))
                .send()
                .await;
        }

        let backend_ssl = ann(svc, "aws-load-balancer-backend-protocol") == Some("ssl");
        let cert = ann(svc, "aws-load-balancer-ssl-cert");

        let mut out = Provisioned {
            namespace: ns.clone(),
            name: name.clone(),
            uid: uid.clone(),
            nlb_name,
            arn: lb.arn.clone(),
            dns_name: lb.dns_name.clone(),
            canonical_hosted_zone_id: lb.canonical_hosted_zone_id.clone(),
            scheme: scheme.clone(),
            target_type: target_type.to_string(),
            target_groups: Vec::new(),
            listener_arns: Vec::new(),
            listeners: Vec::new(),
            frontend_sg,
            backend_sg: backend_sg.clone(),
            tgb_names: Vec::new(),
        };
        let tgb_api = Api::<TargetGroupBinding>::namespaced(self.kube.clone(), &ns);
        let built = async {
            for p in ports(svc) {
                let port_proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                let tg_proto = if backend_ssl && port_proto == "TCP" {
                    "TLS".to_string()
                } else {
                    port_proto.clone()
                };
                let tg_port = if target_type == "ip" {
                    model::numeric_target_port(&p)
                } else {
                    match p.node_port {
                        Some(np) => np,
                        None => continue,
                    }
                };
                let hc = health_check(svc, target_type);

                let tg_name = k8s_name(
                    &ns,
                    &name,
                    &[
                        &cluster,
                        &uid,
                        &tg_port.to_string(),
                        &p.port.to_string(),
                        target_type,
                        &tg_proto,
                        &hc.protocol,
                        &hc.interval.to_string(),
                    ],
                );
                let tg_arn = aws::create_tg(
                    &self.aws,
                    &tg_name,
                    &tg_proto,
                    tg_port,
                    &self.vpc_id(),
                    target_type,
                    &hc,
                    &with_resource(&format!("{ns}/{name}:{}", p.port)),
                )
                .await?;
                out.target_groups.push(ProvisionedTg {
                    arn: tg_arn.clone(),
                    name: tg_name.clone(),
                    service_port: p.port,
                    target_port: tg_port,
                    protocol: tg_proto.clone(),
                });
                let tg_attrs = lbc_config::target_group_attributes(svc, &p, cfg);
                if !tg_attrs.is_empty() {
                    let attrs = tg_attrs
                        .iter()
                        .map(|(k, v)| {
                            aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
                                .key(k)
                                .value(v)
                                .build()
                        })
                        .collect();
                    self.aws
                        .elb
                        .modify_target_group_attributes()
                        .target_group_arn(&tg_arn)
                        .set_attributes(Some(attrs))
                        .send()
                        .await
                        .map_err(aws_err("ModifyTargetGroupAttributes"))?;
                }
                let listener_proto = listener_protocol(svc, &p);
                let tls = listener_proto == "TLS";
                let action = DefaultAction::build(actions.get(&p.port), &tg_arn, cfg)
                    .map_err(|e| Error::Other(format!("Failed deploy model due to {e}")))?;
                let listener = aws::create_listener_with(
                    &self.aws,
                    &lb.arn,
                    &listener_proto,
                    p.port,
                    action.to_sdk(),
                    if tls { cert } else { None },
                    &with_resource("LoadBalancer"),
                )
                .await?;
                out.listeners.push(ProvisionedListener {
                    arn: listener.clone(),
                    port: p.port,
                    protocol: listener_proto.clone(),
                    target_group_arn: tg_arn.clone(),
                    action,
                });

                // targets now, so the NLB is usable as soon as the status is written
                let desired: BTreeSet<(String, i32)> = if target_type == "ip" {
                    self.ip_targets(cfg, svc, &p, pods)
                        .await?
                        .into_iter()
                        .collect()
                } else {
                    model::eligible_instances(nodes, None)
                        .into_iter()
                        .map(|i| (i, tg_port))
                        .collect()
                };
                aws::sync_targets(&self.aws, &tg_arn, &BTreeSet::new(), &desired).await?;
                applied.push((tg_arn.clone(), desired));

                // the TargetGroupBinding
                let networking = self.binding_networking(
                    svc,
                    &scheme,
                    target_type,
                    backend_sg.as_deref(),
                    &tg_attrs,
                    &port_proto,
                    tg_port,
                    &hc,
                );
                let mut tgb = TargetGroupBinding::new(
                    &tg_name,
                    TargetGroupBindingSpec {
                        target_group_arn: Some(tg_arn.clone()),
                        target_type: Some(target_type.to_string()),
                        service_ref: ServiceReference {
                            name: name.clone(),
                            port: json!(p.port),
                        },
                        networking: Some(networking),
                        ip_address_type: Some("ipv4".into()),
                        vpc_id: Some(self.vpc_id()),
                        target_group_protocol: Some(tg_proto.clone()),
                        ..Default::default()
                    },
                );
                tgb.metadata.namespace = Some(ns.clone());
                tgb.metadata.labels = Some(BTreeMap::from([
                    ("service.k8s.aws/stack-namespace".to_string(), ns.clone()),
                    ("service.k8s.aws/stack-name".to_string(), name.clone()),
                ]));
                tgb.metadata.finalizers = Some(vec![TGB_FINALIZER.into()]);
                match tgb_api.create(&PostParams::default(), &tgb).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 409 => {
                        tgb_api
                            .patch(
                                &tg_name,
                                &PatchParams::default(),
                                &Patch::Merge(json!({"spec": tgb.spec})),
                            )
                            .await?;
                    }
                    Err(e) => return Err(e.into()),
                }
                out.tgb_names.push(tg_name.clone());
                out.listener_arns.push(listener);
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = built {
            // The real deployer stops at the failing target group, before
            // the load balancer (pkg/deploy/stack_deployer.go:147-151); here
            // the NLB came first, so undo it all to leave the same nothing.
            if let Err(undo) = self.deprovision(&out, None).await {
                tracing::warn!("undoing a failed provision of {ns}/{name}: {undo}");
            }
            return Err(e);
        }

        // The status hostname. A Service deleted meanwhile (the fake deletes at
        // once, finalizer or not) still returns what was built, so the next
        // pass deprovisions it instead of leaking it.
        let svc_api = Api::<Service>::namespaced(self.kube.clone(), &ns);
        match svc_api
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(
                    json!({"status": {"loadBalancer": {"ingress": [{"hostname": lb.dns_name}]}}}),
                ),
            )
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
        Ok((out, applied))
    }

    /// The `spec.networking` of a Service's own binding: the shared backend
    /// security group on the target port when the NLB has one (`buildTargetGroupBindingNetworking`,
    /// `pkg/service/model_build_target_group.go:613-683`), else the legacy
    /// rules ([`Lbc::legacy_ingress`]; the choice is made at :575-579).
    #[allow(clippy::too_many_arguments)]
    fn binding_networking(
        &self,
        svc: &Service,
        scheme: &str,
        target_type: &str,
        backend_sg: Option<&str>,
        attrs: &[(String, String)],
        protocol: &str,
        port: i32,
        hc: &HealthCheck,
    ) -> Value {
        let ingress = match backend_sg {
            Some(sg) => vec![json!({
                "from": [{"securityGroup": {"groupID": sg}}],
                "ports": [{"protocol": protocol, "port": port}],
            })],
            None => self.legacy_ingress(svc, scheme, target_type, attrs, protocol, port, hc),
        };
        json!({ "ingress": ingress })
    }

    /// Networking rules without an NLB security group
    /// (`pkg/service/model_build_target_group.go`
    /// `buildTargetGroupBindingNetworkingLegacy`): when the targets see the
    /// client's address (client IP kept, or UDP, which always keeps it) the
    /// traffic rule allows the client ranges (source ranges, else 0.0.0.0/0
    /// for internet-facing and the VPC for internal NLBs) and a second rule
    /// the health check from the NLB's subnets; otherwise the subnets carry
    /// both.
    #[allow(clippy::too_many_arguments)]
    fn legacy_ingress(
        &self,
        svc: &Service,
        scheme: &str,
        target_type: &str,
        attrs: &[(String, String)],
        protocol: &str,
        port: i32,
        hc: &HealthCheck,
    ) -> Vec<Value> {
        let cidrs = |list: Vec<String>| -> Vec<Value> {
            list.into_iter()
                .map(|c| json!({"ipBlock": {"cidr": c}}))
                .collect()
        };
        let subnets: Vec<String> = self.subnets().into_iter().map(|(_, c)| c).collect();
        let preserve = attrs
            .iter()
            .find(|(k, _)| k == "preserve_client_ip.enabled")
            .map(|(_, v)| v == "true")
            .unwrap_or(target_type == "instance");
        let udp = protocol == "UDP" || protocol == "TCP_UDP";
        if !(preserve || udp) {
            return vec![json!({
                "from": cidrs(subnets),
                "ports": [{"protocol": protocol, "port": port}],
            })];
        }
        let mut sources: Vec<String> = svc
            .spec
            .as_ref()
            .and_then(|s| s.load_balancer_source_ranges.clone())
            .unwrap_or_default();
        if sources.is_empty() {
            sources = ann(svc, "aws-load-balancer-source-ranges")
                .map(|v| {
                    v.split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect()
                })
                .unwrap_or_default();
        }
        if sources.is_empty() {
            sources = vec![if scheme == "internal" {
                crate::world::VPC_CIDR.to_string()
            } else {
                "0.0.0.0/0".to_string()
            }];
        }
        let hc_port = hc.port.parse::<i32>().unwrap_or(port);
        vec![
            json!({"from": cidrs(sources), "ports": [{"protocol": protocol, "port": port}]}),
            json!({"from": cidrs(subnets), "ports": [{"protocol": "TCP", "port": hc_port}]}),
        ]
    }

    /// Deletes what was built for `p`, in the order the LBC's deployer
    /// does: the load balancer (with its listeners), then the
    /// TargetGroupBindings (whose own finalizer deregisters their targets),
    /// the target groups and the frontend security group; the Service's
    /// finalizer goes last. The first failure stops it, finalizer kept.
    async fn deprovision(&self, p: &Provisioned, svc: Option<&Service>) -> Result<(), Error> {
        if let Some(e) = svc.and_then(lbc_config::deletion_error) {
            return Err(Error::Other(format!("Failed build model due to {e}")));
        }
        if let Err(e) = aws::delete_nlb(&self.aws, &p.arn, &[]).await {
            if !e.to_string().contains("OperationNotPermitted") {
                return Err(e);
            }
            // Protection set outside the Service: the controller turns it
            // off and tries once more (pkg/deploy/elbv2/load_balancer_synthesizer.go:69-81).
            let off = aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("false")
                .build();
            let _ = self
                .aws
                .elb
                .modify_load_balancer_attributes()
                .load_balancer_arn(&p.arn)
                .attributes(off)
                .send()
                .await;
            aws::delete_nlb(&self.aws, &p.arn, &[]).await?;
        }
        let tgb_api = Api::<TargetGroupBinding>::namespaced(self.kube.clone(), &p.namespace);
        for n in &p.tgb_names {
            match tgb_api.delete(n, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        for tg in &p.target_groups {
            aws::delete_target_group(&self.aws, &tg.arn).await?;
        }
        if let Some(sg) = &p.frontend_sg {
            let _ = self
                .aws
                .ec2
                .delete_security_group()
                .group_id(sg)
                .send()
                .await;
        }
        if let Some(svc) = svc {
            self.release(svc, SERVICE_FINALIZER).await?;
            if svc.metadata.deletion_timestamp.is_none() {
                // Still there but no longer the LBC's: its status goes too.
                let _ = Api::<Service>::namespaced(self.kube.clone(), &p.namespace)
                    .patch_status(
                        &p.name,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": null}}})),
                    )
                    .await;
            }
        }
        Ok(())
    }
}

/// Deletes every listener of `lb` that `keep` rejects; an NLB already gone
/// has none.
async fn delete_listeners_except(
    aws: &AwsClients,
    lb: &str,
    keep: impl Fn(&aws_sdk_elasticloadbalancingv2::types::Listener) -> bool,
) -> Result<(), Error> {
    let Ok(out) = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
    else {
        return Ok(());
    };
    for l in out.listeners().iter().filter(|l| !keep(l)) {
        if let Some(arn) = l.listener_arn() {
            aws.elb
                .delete_listener()
                .listener_arn(arn)
                .send()
                .await
                .map_err(aws_err("DeleteListener"))?;
        }
    }
    Ok(())
}
