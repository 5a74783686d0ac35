//! The external-dns stand-in: an `external-dns` Deployment in `kube-system`
//! (as the Helm chart labels and configures it) and passes that do what
//! external-dns with the Service source, the TXT registry and the AWS
//! provider does: Services → desired records → plan against Route 53 →
//! change batches. The logic is in [`crate::external_dns_plan`]; this module
//! reads the cluster and moto and writes the batches.
//!
//! Every pass reads the Deployment (image tag and args), so a test may patch
//! it to change the version or flags. Sources other than `service`, the
//! `target`/`internal-hostname`/`alias`/`record-type` annotations, FQDN
//! templates and routing policies other than weighted are not modelled.

use crate::Error;
use crate::aws::{AwsClients, aws_err};
use crate::external_dns_plan::{self as edp, Change, Config, Endpoint};
use aws_sdk_route53::types::{
    AliasTarget, Change as R53Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    RrType,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const NAMESPACE: &str = "kube-system";
pub const NAME: &str = "external-dns";

/// How external-dns is "installed" (`SandboxOptions::external_dns`).
#[derive(Clone, Debug)]
pub struct ExternalDnsOptions {
    /// Image tag, e.g. `v0.15.0` or `v0.22.0` (default).
    pub version: String,
    /// `--annotation-prefix` (v0.20.0+); `None`: the version's default.
    pub annotation_prefix: Option<String>,
    /// `--policy`: `sync` (default), `upsert-only`, `create-only`; `None`
    /// leaves the flag out (v0.22.0 then refuses to start).
    pub policy: Option<String>,
    /// `--txt-owner-id`; `None`: external-dns's `default`.
    pub txt_owner_id: Option<String>,
    pub txt_prefix: Option<String>,
    pub txt_suffix: Option<String>,
    /// `--source` (default `service`).
    pub sources: Vec<String>,
    pub domain_filters: Vec<String>,
    pub aws_prefer_cname: bool,
    /// `--interval`; `Some` also runs a pass that often in the background.
    pub interval: Option<Duration>,
}

impl Default for ExternalDnsOptions {
    fn default() -> Self {
        ExternalDnsOptions {
            version: "v0.22.0".into(),
            annotation_prefix: None,
            policy: Some("sync".into()),
            txt_owner_id: None,
            txt_prefix: None,
            txt_suffix: None,
            sources: vec!["service".into()],
            domain_filters: Vec::new(),
            aws_prefer_cname: false,
            interval: None,
        }
    }
}

impl ExternalDnsOptions {
    /// The container args, in the order of the chart's
    /// `charts/external-dns/templates/deployment.yaml:92-160` (v0.22.0).
    pub fn args(&self) -> Vec<String> {
        let mut a = vec![
            "--log-level=info".to_string(),
            "--log-format=text".to_string(),
        ];
        if let Some(i) = self.interval {
            a.push(format!("--interval={}ms", i.as_millis()));
        }
        a.extend(self.sources.iter().map(|s| format!("--source={s}")));
        a.extend(self.policy.iter().map(|p| format!("--policy={p}")));
        a.push("--registry=txt".into());
        a.extend(
            self.txt_owner_id
                .iter()
                .map(|o| format!("--txt-owner-id={o}")),
        );
        a.extend(self.txt_prefix.iter().map(|p| format!("--txt-prefix={p}")));
        a.extend(self.txt_suffix.iter().map(|s| format!("--txt-suffix={s}")));
        a.extend(
            self.domain_filters
                .iter()
                .map(|d| format!("--domain-filter={d}")),
        );
        a.extend(
            self.annotation_prefix
                .iter()
                .map(|p| format!("--annotation-prefix={p}")),
        );
        a.push("--provider=aws".into());
        if self.aws_prefer_cname {
            a.push("--aws-prefer-cname".into());
        }
        a
    }

    /// The Deployment, labelled as the chart's `_helpers.tpl:50-63` labels it.
    pub fn deployment(&self) -> serde_json::Value {
        let sel = json!({"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME});
        let labels = json!({
            "app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME,
            "app.kubernetes.io/version": self.version.trim_start_matches('v'),
            "app.kubernetes.io/managed-by": "Helm",
        });
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": sel},
                "template": {"metadata": {"labels": sel}, "spec": {
                    "serviceAccountName": NAME,
                    "containers": [{
                        "name": NAME,
                        "image": format!("registry.k8s.io/external-dns/external-dns:{}", self.version),
                        "args": self.args(),
                    }],
                }},
            },
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1},
        })
    }
}

/// What one pass did: the batches sent (each change as
/// [`Change::describe`]), and the errors (a refused batch, a bad config).
#[derive(Clone, Debug, Default)]
pub struct SyncReport {
    pub batches: Vec<Vec<String>>,
    pub errors: Vec<String>,
}

/// The stand-in.
pub struct ExternalDns {
    kube: kube::Client,
    aws: AwsClients,
}

impl ExternalDns {
    pub fn new(kube: kube::Client, aws: AwsClients) -> ExternalDns {
        ExternalDns { kube, aws }
    }

    /// Runs a pass every `every` until the task is aborted.
    pub fn spawn_background(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match me.sync_once().await {
                    Ok(r) if !r.errors.is_empty() => {
                        tracing::warn!("external-dns stand-in: {:?}", r.errors)
                    }
                    Err(e) => tracing::warn!("external-dns stand-in pass failed: {e}"),
                    _ => {}
                }
                tokio::time::sleep(every).await;
            }
        })
    }

    /// One pass (`Controller.RunOnce`); nothing when there is no Deployment.
    pub async fn sync_once(&self) -> Result<SyncReport, Error> {
        let mut report = SyncReport::default();
        let Some(cfg) = self.config(&mut report).await? else {
            return Ok(report);
        };
        let desired = if cfg.sources.iter().any(|s| s == "service") {
            let svcs = Api::<Service>::all(self.kube.clone())
                .list(&Default::default())
                .await?;
            edp::adjust(
                &cfg,
                svcs.items
                    .iter()
                    .flat_map(|s| service_endpoints(&cfg, s))
                    .collect(),
            )
        } else {
            Vec::new()
        };
        let zones = self.zones(&cfg).await?;
        let mut records = Vec::new();
        for (id, _) in &zones {
            records.extend(self.records(id).await?);
        }
        let (current, existing, stale) = edp::read_registry(&cfg, records);
        let changes = edp::plan(&cfg, current, desired, &stale);
        let all = edp::route53_changes(&cfg, changes, &existing);
        for (id, zone) in &zones {
            let mine: Vec<Change> = all
                .iter()
                .filter(|c| zone_of(&zones, &c.record.name) == Some(zone))
                .cloned()
                .collect();
            if !mine.is_empty() {
                self.submit(id, edp::sort_batch(mine), &mut report).await;
            }
        }
        Ok(report)
    }

    /// The configuration from the Deployment; `None` without one, or when
    /// external-dns would not start (the reason goes into the report).
    async fn config(&self, report: &mut SyncReport) -> Result<Option<Config>, Error> {
        let Some(dep) = Api::<Deployment>::namespaced(self.kube.clone(), NAMESPACE)
            .get_opt(NAME)
            .await?
        else {
            return Ok(None);
        };
        let container = dep
            .spec
            .and_then(|s| s.template.spec)
            .and_then(|p| p.containers.into_iter().next());
        let image = container
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default();
        let version = image
            .rsplit(':')
            .next()
            .and_then(edp::parse_version)
            .unwrap_or((0, 22, 0));
        let args = container.and_then(|c| c.args).unwrap_or_default();
        match Config::from_args(version, &args) {
            Ok(cfg) => Ok(Some(cfg)),
            Err(e) => {
                report.errors.push(e);
                Ok(None)
            }
        }
    }

    /// Hosted zones the domain filter lets in (`AWSProvider.zones`,
    /// aws.go:398-470), as (id, name without the dot).
    async fn zones(&self, cfg: &Config) -> Result<Vec<(String, String)>, Error> {
        let out = self
            .aws
            .r53
            .list_hosted_zones()
            .send()
            .await
            .map_err(aws_err("ListHostedZones"))?;
        Ok(out
            .hosted_zones()
            .iter()
            .map(|z| {
                (
                    z.id().trim_start_matches("/hostedzone/").to_string(),
                    z.name().trim_end_matches('.').to_string(),
                )
            })
            .filter(|(_, name)| {
                cfg.in_domain(name)
                    || cfg
                        .domain_filters
                        .iter()
                        .any(|f| f.trim_end_matches('.').ends_with(name.as_str()))
            })
            .collect())
    }

    /// The zone's records as endpoints (`AWSProvider.records`, aws.go:509-606):
    /// an alias has its target, `alias=true`, its evaluate-target-health and
    /// TTL 300; a weighted record its `aws/weight`.
    async fn records(&self, zone_id: &str) -> Result<Vec<Endpoint>, Error> {
        let mut out = Vec::new();
        let mut start: Option<(String, RrType, Option<String>)> = None;
        loop {
            let mut req = self
                .aws
                .r53
                .list_resource_record_sets()
                .hosted_zone_id(zone_id);
            if let Some((n, t, i)) = start.take() {
                req = req
                    .start_record_name(n)
                    .start_record_type(t)
                    .set_start_record_identifier(i);
            }
            let page = req
                .send()
                .await
                .map_err(aws_err("ListResourceRecordSets"))?;
            out.extend(
                page.resource_record_sets()
                    .iter()
                    .filter(|r| r.r#type() != &RrType::Soa)
                    .map(endpoint_of),
            );
            match (
                page.is_truncated(),
                page.next_record_name(),
                page.next_record_type(),
            ) {
                (true, Some(n), Some(t)) => {
                    start = Some((
                        n.into(),
                        t.clone(),
                        page.next_record_identifier().map(Into::into),
                    ))
                }
                _ => return Ok(out),
            }
        }
    }

    /// Sends one batch; when Route 53 refuses it, each name's changes alone
    /// (aws.go:777-800).
    async fn submit(&self, zone_id: &str, batch: Vec<Change>, report: &mut SyncReport) {
        report
            .batches
            .push(batch.iter().map(Change::describe).collect());
        let Err(e) = self.send(zone_id, &batch).await else {
            return;
        };
        report.errors.push(e.to_string());
        let groups = edp::groups(&batch);
        if groups.len() < 2 {
            return;
        }
        for g in groups {
            report
                .batches
                .push(g.iter().map(Change::describe).collect());
            if let Err(e) = self.send(zone_id, &g).await {
                report.errors.push(e.to_string());
            }
        }
    }

    async fn send(&self, zone_id: &str, batch: &[Change]) -> Result<(), Error> {
        let changes = batch
            .iter()
            .map(route53_change)
            .collect::<Result<Vec<_>, _>>()?;
        let batch = ChangeBatch::builder()
            .set_changes(Some(changes))
            .build()
            .map_err(aws_err("ChangeBatch"))?;
        self.aws
            .r53
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch)
            .send()
            .await
            .map_err(aws_err("ChangeResourceRecordSets"))?;
        Ok(())
    }
}

/// The hosted zone a name belongs to: the longest matching zone name
/// (`suitableZones`, aws.go:1352-1376).
fn zone_of<'a>(zones: &'a [(String, String)], name: &str) -> Option<&'a String> {
    zones
        .iter()
        .filter(|(_, z)| name == z || name.ends_with(&format!(".{z}")))
        .max_by_key(|(_, z)| z.len())
        .map(|(_, z)| z)
}

/// The Service source (`source/service.go`, v0.22.0): a LoadBalancer
/// Service's `hostname` annotation (comma-separated, trailing dots dropped,
/// :500-503, :514; `annotations/processors.go:139-141`) gets its
/// `status.loadBalancer.ingress` IPs and hostnames (:577-603) with the `ttl`
/// annotation (processors.go:38-54), the `set-identifier` and `aws-*`
/// annotations (`annotations/provider_specific.go:38-46`; v0.15.0
/// `source/source.go:200-214`) and the label `resource=service/NS/NAME`
/// (:516). Targets are grouped by type: IPs A/AAAA, names CNAME
/// (`endpoint/utils.go:76-99`). The prefix is the Deployment's: the other
/// one is ignored (v0.22.0 keeps a single `AnnotationKeyPrefix`,
/// `annotations.go:31`, `SetAnnotationPrefix` :78).
pub fn service_endpoints(cfg: &Config, svc: &Service) -> Vec<Endpoint> {
    let spec = svc.spec.as_ref();
    if spec.and_then(|s| s.type_.as_deref()) != Some("LoadBalancer") {
        return Vec::new();
    }
    let ann = svc.metadata.annotations.clone().unwrap_or_default();
    let key = |k: &str| ann.get(&format!("{}{k}", cfg.annotation_prefix));
    let Some(hostnames) = key("hostname") else {
        return Vec::new();
    };
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.clone())
        .unwrap_or_default();
    let targets: Vec<String> = ingress
        .iter()
        .flat_map(|i| i.ip.iter().chain(&i.hostname).cloned())
        .filter(|t| !t.is_empty())
        .collect();
    let mut props = BTreeMap::new();
    for (k, v) in &ann {
        if let Some(attr) = k.strip_prefix(&format!("{}aws-", cfg.annotation_prefix)) {
            props.insert(format!("aws/{attr}"), v.clone());
        }
    }
    let base = Endpoint {
        ttl: key("ttl").and_then(|t| parse_ttl(t)),
        set_id: key("set-identifier").cloned().unwrap_or_default(),
        props,
        labels: BTreeMap::from([(
            "resource".into(),
            format!(
                "service/{}/{}",
                svc.metadata.namespace.as_deref().unwrap_or_default(),
                svc.metadata.name.as_deref().unwrap_or_default()
            ),
        )]),
        ..Endpoint::default()
    };
    let mut out = Vec::new();
    for host in hostnames
        .replace(' ', "")
        .split(',')
        .filter(|h| !h.is_empty())
    {
        for type_ in ["A", "AAAA", "CNAME"] {
            let mut of: Vec<String> = targets
                .iter()
                .filter(|t| suitable_type(t) == type_)
                .map(|t| t.trim_end_matches('.').to_string())
                .collect();
            of.sort();
            if !of.is_empty() {
                out.push(Endpoint {
                    name: host.trim_end_matches('.').to_ascii_lowercase(),
                    type_: type_.into(),
                    targets: of,
                    ..base.clone()
                });
            }
        }
    }
    out
}

/// `SuitableType` (`endpoint/utils.go`): an IPv4 address A, IPv6 AAAA, else CNAME.
fn suitable_type(target: &str) -> &'static str {
    match target.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => "A",
        Ok(std::net::IpAddr::V6(_)) => "AAAA",
        Err(_) => "CNAME",
    }
}

/// `parseTTL` (processors.go:81-92): seconds or a Go duration such as `10m`;
/// 1..=MaxInt32, else not configured.
fn parse_ttl(s: &str) -> Option<i64> {
    let n = s.parse::<i64>().ok().or_else(|| {
        let (num, unit) = s.split_at(s.find(|c: char| c.is_alphabetic())?);
        let n: i64 = num.parse().ok()?;
        Some(
            n * match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => return None,
            },
        )
    })?;
    (1..=i64::from(i32::MAX)).contains(&n).then_some(n)
}

fn endpoint_of(r: &ResourceRecordSet) -> Endpoint {
    let mut props = BTreeMap::new();
    let (targets, ttl) = match r.alias_target() {
        Some(a) => {
            props.insert(edp::ALIAS.to_string(), "true".to_string());
            props.insert(
                edp::EVALUATE_TARGET_HEALTH.to_string(),
                a.evaluate_target_health().to_string(),
            );
            (
                vec![a.dns_name().trim_end_matches('.').to_string()],
                Some(r.ttl().unwrap_or(edp::DEFAULT_TTL)),
            )
        }
        None => {
            if r.r#type() == &RrType::Cname {
                props.insert(edp::ALIAS.to_string(), "false".to_string());
            }
            let mut v: Vec<String> = r
                .resource_records()
                .iter()
                .map(|v| v.value().trim_end_matches('.').to_string())
                .collect();
            v.sort();
            (v, r.ttl())
        }
    };
    if let Some(w) = r.weight() {
        props.insert(edp::WEIGHT.to_string(), w.to_string());
    }
    Endpoint {
        name: r.name().trim_end_matches('.').replace("\\052", "*"),
        type_: r.r#type().as_str().to_string(),
        targets,
        ttl,
        set_id: r.set_identifier().unwrap_or_default().to_string(),
        props,
        labels: BTreeMap::new(),
    }
}

/// `AWSProvider.newChange` (aws.go:948-1047): an alias A/AAAA gets the
/// target's canonical zone (`isAWSAlias`, :1402-1421), anything else its
/// values and TTL (300 when not configured); weight from `aws/weight` (0
/// when it does not parse, :999-1006).
fn route53_change(c: &Change) -> Result<R53Change, Error> {
    let ep = &c.record;
    let mut rrs = ResourceRecordSet::builder()
        .name(&ep.name)
        .r#type(RrType::from(ep.type_.as_str()));
    let alias = ep.props.get(edp::ALIAS).is_some_and(|v| v == "true")
        && ["A", "AAAA"].contains(&ep.type_.as_str());
    match ep.targets.first().filter(|_| alias) {
        Some(t) => {
            let health = ep
                .props
                .get(edp::EVALUATE_TARGET_HEALTH)
                .is_none_or(|v| v == "true");
            let target = AliasTarget::builder()
                .dns_name(t)
                .hosted_zone_id(edp::canonical_zone(t).unwrap_or("same-zone"))
                .evaluate_target_health(health)
                .build()
                .map_err(aws_err("AliasTarget"))?;
            rrs = rrs.alias_target(target);
        }
        None => {
            rrs = rrs.ttl(ep.ttl.unwrap_or(edp::DEFAULT_TTL));
            for v in &ep.targets {
                rrs = rrs.resource_records(
                    ResourceRecord::builder()
                        .value(v)
                        .build()
                        .map_err(aws_err("ResourceRecord"))?,
                );
            }
        }
    }
    if !ep.set_id.is_empty() {
        rrs = rrs.set_identifier(&ep.set_id);
    }
    if let Some(w) = ep.props.get(edp::WEIGHT) {
        rrs = rrs.weight(w.parse().unwrap_or(0));
    }
    R53Change::builder()
        .action(ChangeAction::from(c.action))
        .resource_record_set(rrs.build().map_err(aws_err("ResourceRecordSet"))?)
        .build()
        .map_err(aws_err("Change"))
}
