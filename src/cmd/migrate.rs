//! `kubectl nlb migrate`: in-tree NLB Services to the LBC in IP mode.
//!
//! Three ways in: `-f` translates manifests offline; `SERVICE`, `-A` or `-l`
//! with `--dry-run=client` plan against the live NLB; `SERVICE` alone
//! migrates, creating the translated Service and moving traffic with the
//! engine `cutover` uses (`cmd::switch`). The translation itself is pure
//! (`crate::translate`).

use super::switch::{self as engine, Stored, SwitchRequest};
use crate::annotations as ann;
use crate::classify::{self, Owner};
use crate::cli::{DryRun, GlobalArgs, ManifestOutput, MigrateArgs, MigrateStart, SwitchAction};
use crate::context::Context;
use crate::error::Error;
use crate::k8s::Scope;
use crate::model::{Detection, DnsRecord, LoadBalancer, TargetGroup, normalize_dns};
use crate::switch::{Journal, Kind, LbTarget, Start};
use crate::translate::{self, Entry, Lbc, Live, Options, Severity, Translation};
use crate::ui::{Ui, render};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Service;
use serde::Deserialize;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};

pub async fn run(global: &GlobalArgs, args: &MigrateArgs, ui: &Ui) -> Result<(), Error> {
    match &args.action {
        Some(SwitchAction::Status(a)) => engine::status(global, a).await,
        Some(SwitchAction::Resume(a)) => engine::resume(global, a, ui).await,
        Some(SwitchAction::Abort(a)) => engine::abort(global, a, ui).await,
        None => start(global, &args.start, ui).await,
    }
}

fn options(global: &GlobalArgs, a: &MigrateStart) -> Options {
    Options {
        new_name: a.new_name.clone(),
        namespace: global.namespace.clone(),
        preserve_client_ip: a.preserve_client_ip,
        accept_new_addresses: a.accept_new_addresses,
        provenance: true,
    }
}

async fn start(global: &GlobalArgs, a: &MigrateStart, ui: &Ui) -> Result<(), Error> {
    if !a.filename.is_empty() {
        return offline(global, a);
    }
    let switch = engine::check_switch_flags(&a.switch)?;
    if a.all_namespaces || a.selector.is_some() {
        if a.dry_run == DryRun::None && a.output.is_none() {
            return Err(Error::Invalid(
                "-A and -l only plan: add --dry-run=client (or -o yaml|json), then migrate one Service at a time by name".into(),
            ));
        }
        return plan_many(global, a, ui).await;
    }
    let Some(service) = a.service.clone() else {
        return Err(Error::Invalid(
            "name the Service to migrate, or pass -f FILE (offline), or -A / -l SELECTOR with --dry-run=client".into(),
        ));
    };
    single(global, a, ui, &service, &switch).await
}

// --- offline: -f ---

/// One Service read from a manifest, with where it came from.
struct Input {
    source: String,
    service: Service,
}

fn read_inputs(files: &[String]) -> Result<Vec<Input>, Error> {
    let mut out = Vec::new();
    for file in files {
        let text = if file == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::Invalid(format!("reading stdin: {e}")))?;
            text
        } else {
            std::fs::read_to_string(file)
                .map_err(|e| Error::Invalid(format!("reading {file}: {e}")))?
        };
        let name = if file == "-" { "stdin" } else { file.as_str() };
        out.extend(parse_manifests(name, &text)?);
    }
    if out.is_empty() {
        return Err(Error::Invalid("the files hold no Service manifests".into()));
    }
    Ok(out)
}

/// The Services of one file's text: YAML documents, JSON, or `List`s.
fn parse_manifests(name: &str, text: &str) -> Result<Vec<Input>, Error> {
    // Editors on Windows save UTF-8 with a byte-order mark, which the YAML
    // parser would read as part of the first key (qa D-M9: "document 1 is
    // (no kind) (no name)"); kubectl reads such files.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = serde_json::Value::deserialize(doc).map_err(|e| {
            Error::Invalid(format!(
                "{name}: document {} is not YAML or JSON: {e}",
                i + 1
            ))
        })?;
        if value.is_null() {
            continue; // an empty document, e.g. after a trailing ---
        }
        let items = if value["kind"] == "List" {
            value["items"].as_array().cloned().unwrap_or_default()
        } else {
            vec![value]
        };
        for item in items {
            let kind = item["kind"].as_str().unwrap_or("(no kind)");
            let obj = item["metadata"]["name"].as_str().unwrap_or("(no name)");
            if kind != "Service" || item["apiVersion"] != "v1" {
                return Err(Error::Invalid(format!(
                    "{name}: document {} is {kind} {obj}, not a v1 Service; migrate only reads Services",
                    i + 1
                )));
            }
            let service: Service = serde_json::from_value(item.clone()).map_err(|e| {
                Error::Invalid(format!("{name}: service {obj} is not a valid Service: {e}"))
            })?;
            out.push(Input {
                source: format!("{name}: service {obj}"),
                service,
            });
        }
    }
    Ok(out)
}

/// `-n` against a manifest's own namespace, as kubectl checks it: a
/// manifest without one takes `-n`; a different one is refused rather than
/// silently winning (qa D-M14). kubectl's check and wording: cli-runtime
/// `pkg/resource/visitor.go` `RequireNamespace`, which kubectl uses only
/// when `-n` was given (`enforceNamespace`).
fn check_namespace(flag: Option<&str>, inputs: &[Input]) -> Result<(), Error> {
    let Some(flag) = flag else { return Ok(()) };
    for input in inputs {
        if let Some(ns) = input.service.metadata.namespace.as_deref()
            && !ns.is_empty()
            && ns != flag
        {
            return Err(Error::Invalid(format!(
                "{}: the namespace from the provided object \"{ns}\" does not match the namespace \"{flag}\". You must pass '--namespace={ns}' to perform this operation.",
                input.source
            )));
        }
    }
    Ok(())
}

/// One translated Service as `-o json` prints it: the report under `report`.
#[derive(Serialize)]
struct Item<'a> {
    source: String,
    service: serde_json::Value,
    report: &'a [Entry],
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
}

#[derive(Serialize)]
struct Items<'a> {
    items: Vec<Item<'a>>,
}

fn manifest(t: &Translation) -> Result<serde_json::Value, Error> {
    let mut v = serde_json::to_value(&t.service)
        .map_err(|e| Error::Invalid(format!("encoding the Service: {e}")))?;
    v["apiVersion"] = "v1".into();
    v["kind"] = "Service".into();
    Ok(v)
}

fn offline(global: &GlobalArgs, a: &MigrateStart) -> Result<(), Error> {
    if a.dry_run == DryRun::Server {
        // Nothing here talks to a cluster, so there is nothing to validate
        // against; saying nothing would pass an unchecked manifest off as
        // a checked one (qa D-M14).
        return Err(Error::Invalid(
            "--dry-run=server needs a cluster, but -f reads files only: use --dry-run=client (or no --dry-run) with -f, or drop -f and name the Service to plan it against the cluster".into(),
        ));
    }
    let inputs = read_inputs(&a.filename)?;
    check_namespace(global.namespace.as_deref(), &inputs)?;
    if a.new_name.is_some() && inputs.len() > 1 {
        return Err(Error::Invalid(format!(
            "--new-name names one Service, but the files hold {}",
            inputs.len()
        )));
    }
    let opts = options(global, a);
    let mut done = Vec::new();
    for input in &inputs {
        let t = translate::translate(&input.service, &Live::default(), &opts)
            .map_err(|e| Error::Invalid(format!("{}: {e}", input.source)))?;
        done.push((input, t));
    }
    let mut err = std::io::stderr().lock();
    for (input, t) in &done {
        write_report(&mut err, &input.source, t)?;
    }
    drop(err);
    check_blocked(done.iter().map(|(i, t)| (i.source.as_str(), t)))?;
    let mut out = std::io::stdout().lock();
    match a.output.unwrap_or(ManifestOutput::Yaml) {
        ManifestOutput::Yaml => {
            for (i, (_, t)) in done.iter().enumerate() {
                if i > 0 {
                    writeln!(out, "---")?;
                }
                render::yaml(&mut out, &manifest(t)?)?;
            }
        }
        ManifestOutput::Json => {
            let items = done
                .iter()
                .map(|(input, t)| {
                    Ok(Item {
                        source: input.source.clone(),
                        service: manifest(t)?,
                        report: &t.report,
                        records: None,
                        steps: None,
                        refused: None,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            render::json(&mut out, &Items { items })?;
        }
    }
    Ok(())
}

/// Exit 1 when any translation has error entries: applying it as it is
/// would break the Service.
fn check_blocked<'a>(all: impl Iterator<Item = (&'a str, &'a Translation)>) -> Result<(), Error> {
    let blocked: Vec<String> = all
        .filter(|(_, t)| t.is_blocked())
        .map(|(source, t)| {
            let codes: Vec<&str> = t.blockers().map(|e| e.code).collect();
            format!("{source} ({})", codes.join(", "))
        })
        .collect();
    if blocked.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "cannot migrate as it is: {}; see the errors in the report above",
            blocked.join("; ")
        )))
    }
}

fn write_report(out: &mut dyn Write, source: &str, t: &Translation) -> std::io::Result<()> {
    let new = t.service.metadata.name.as_deref().unwrap_or("?");
    writeln!(out, "Translation of {source} → {new}:")?;
    for e in &t.report {
        let sev = match e.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        writeln!(out, "  {sev:<8} {:<34} {}", e.code, e.field)?;
        writeln!(out, "           {}", e.message)?;
        if let Some(fix) = &e.fix {
            writeln!(out, "           fix: {fix}")?;
        }
    }
    Ok(())
}

// --- against the cluster ---

/// What is read once for every Service planned.
struct Cluster {
    lbc: Lbc,
    lbc_flags: translate::LbcFlags,
    vpc_cni: Option<bool>,
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
}

/// The controller, the CNI, and the labels of the namespaces in `scope`.
async fn cluster(ctx: &Context, scope: &Scope) -> Result<Cluster, Error> {
    let (lbc, cni) = tokio::try_join!(ctx.kube.detect_lbc(), ctx.kube.detect_vpc_cni())?;
    let namespaces = match scope {
        Scope::All => ctx.kube.all_namespace_labels().await?,
        Scope::Namespace(ns) => {
            BTreeMap::from([(ns.clone(), ctx.kube.namespace_labels(ns).await?)])
        }
    };
    Ok(Cluster {
        lbc: Lbc::from_detection(&lbc),
        lbc_flags: translate::LbcFlags::from_detection(&lbc),
        vpc_cni: match cni {
            Detection::Found(_) => Some(true),
            Detection::Missing => Some(false),
            Detection::Unknown(_) => None,
        },
        namespaces,
    })
}

/// Where the planner finds a Service's NLB and its target groups.
enum Nlbs {
    /// One Service: its NLB looked up by name, then its target groups.
    Lookup,
    /// Many Services: the region listed once, in pages of 400, so that each
    /// Service costs only its target groups' attributes.
    Listed {
        by_dns: BTreeMap<String, LoadBalancer>,
        groups: BTreeMap<String, Vec<TargetGroup>>,
    },
}

impl Nlbs {
    async fn list(ctx: &Context) -> Result<Nlbs, Error> {
        let (lbs, tgs) = tokio::try_join!(
            ctx.aws.elbv2.load_balancers(),
            ctx.aws.elbv2.target_groups()
        )?;
        let mut groups: BTreeMap<String, Vec<TargetGroup>> = BTreeMap::new();
        for tg in tgs {
            for lb in &tg.load_balancer_arns {
                groups.entry(lb.clone()).or_default().push(tg.clone());
            }
        }
        for g in groups.values_mut() {
            g.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let by_dns = lbs
            .into_iter()
            .map(|lb| (normalize_dns(&lb.dns_name), lb))
            .collect();
        Ok(Nlbs::Listed { by_dns, groups })
    }

    /// The NLB answering at `host` and its target groups, with attributes:
    /// the live settings the translation trusts over annotations.
    async fn find(
        &self,
        ctx: &Context,
        host: &str,
    ) -> Result<Option<(LoadBalancer, Vec<TargetGroup>)>, Error> {
        let found = match self {
            Nlbs::Lookup => match ctx.aws.elbv2.load_balancer_by_dns(host).await? {
                Some(lb) => {
                    let groups = ctx.aws.elbv2.groups_behind(&lb.arn).await?;
                    Some((lb, groups))
                }
                None => None,
            },
            Nlbs::Listed { by_dns, groups } => by_dns.get(&normalize_dns(host)).map(|lb| {
                let behind = groups.get(&lb.arn).cloned().unwrap_or_default();
                (lb.clone(), behind)
            }),
        };
        let Some((lb, mut groups)) = found else {
            return Ok(None);
        };
        ctx.aws.elbv2.fill_attributes(&mut groups).await?;
        Ok(Some((lb, groups)))
    }
}

/// How a plan names a Service: `service NS/NAME`.
fn source_of(info: &crate::model::ServiceInfo) -> String {
    format!("service {}/{}", info.namespace, info.name)
}

/// One Service, read and translated against its live NLB.
struct Planned {
    source: String,
    old: Service,
    lb: Option<LoadBalancer>,
    translation: Translation,
    records: Result<Vec<DnsRecord>, String>,
    /// external-dns owns the records: they move through it.
    xdns: Option<crate::switch::xdns::XdnsState>,
    warnings: Vec<String>,
}

async fn plan_one(
    ctx: &Context,
    cl: &Cluster,
    nlbs: &Nlbs,
    around: &engine::Surroundings,
    old: Service,
    opts: &Options,
    a: &MigrateStart,
) -> Result<Planned, Error> {
    let info = crate::k8s::service_info(&old);
    let ns = info.namespace.clone();
    let source = source_of(&info);
    let (lb, groups) = match info.ingress_hostnames.first() {
        Some(host) => match nlbs.find(ctx, host).await? {
            Some((lb, groups)) => (Some(lb), Some(groups)),
            None => (None, None),
        },
        None => (None, None),
    };
    let endpoints = if super::cutover::no_selector(&old) && !info.deleting {
        let (slices, eps) = tokio::try_join!(
            ctx.kube.endpoint_slices_of(&ns, &info.name),
            ctx.kube.endpoints_object(&ns, &info.name),
        )?;
        Some(crate::switch::mirror::facts(&slices, eps.as_ref()))
    } else {
        None
    };
    let live = Live {
        load_balancer: lb.clone(),
        endpoints,
        target_groups: groups,
        lbc: cl.lbc.clone(),
        lbc_flags: cl.lbc_flags.clone(),
        vpc_cni: cl.vpc_cni,
        namespace_labels: cl.namespaces.get(&ns).cloned(),
    };
    let translation =
        translate::translate(&old, &live, opts).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut warnings = Vec::new();
    let moving = match &lb {
        None => Err(format!(
            "{source} has no load balancer in region {} (hostname {}); nothing to switch from",
            ctx.aws.region,
            info.ingress_hostnames
                .first()
                .map(String::as_str)
                .unwrap_or("none")
        )),
        Some(lb) => around.check_private_link(lb).and_then(|w| {
            warnings.extend(w);
            around.records_for(
                &lb.dns_name,
                a.switch.record.as_deref(),
                &format!("{ns}/{}", info.name),
                &info.annotations,
            )
        }),
    };
    let (records, xdns) = match moving {
        Ok((records, xdns)) => (Ok(records), xdns),
        Err(e) => (Err(e), None),
    };
    Ok(Planned {
        source,
        old,
        lb,
        translation,
        records,
        xdns,
        warnings,
    })
}

fn expect_attributes(t: &Translation) -> BTreeMap<String, String> {
    let text = t
        .service
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ann::TARGET_GROUP_ATTRIBUTES))
        .cloned()
        .unwrap_or_default();
    classify::parse_string_map(&text)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "preserve_client_ip.enabled" || k == "proxy_protocol_v2.enabled")
        .collect()
}

fn journal(p: &Planned, switch: &SwitchRequest, records: Vec<DnsRecord>) -> Result<Journal, Error> {
    let info = crate::k8s::service_info(&p.old);
    let lb =
        p.lb.as_ref()
            .ok_or_else(|| Error::Invalid(format!("{} has no NLB", p.source)))?;
    let new_name = p
        .translation
        .service
        .metadata
        .name
        .clone()
        .unwrap_or_default();
    Ok(Journal::new(
        Start {
            kind: Kind::Migrate,
            namespace: info.namespace.clone(),
            old_service: info.name.clone(),
            old_uid: info.uid.clone(),
            new_service: new_name,
            new_manifest: manifest(&p.translation)?,
            old_lb: LbTarget {
                dns_name: lb.dns_name.clone(),
                canonical_hosted_zone_id: lb.canonical_hosted_zone_id.clone().unwrap_or_default(),
            },
            old_lb_arn: lb.arn.clone(),
            expect_attributes: expect_attributes(&p.translation),
            mirror_endpoints: super::cutover::no_selector(&p.old),
            listener: None,
            external_dns: p.xdns.clone(),
            settings: switch.settings(&records),
            records,
        },
        engine::now(),
    ))
}

fn write_plan(out: &mut dyn Write, p: &Planned, j: Option<&Journal>) -> std::io::Result<()> {
    write_report(out, &p.source, &p.translation)?;
    if let Some(lb) = &p.lb {
        writeln!(
            out,
            "  old NLB: {} ({})",
            lb.dns_name,
            lb.scheme.as_deref().unwrap_or("?")
        )?;
    }
    for w in &p.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    match (&p.records, j) {
        (Err(why), _) => writeln!(out, "  traffic cannot be switched: {why}")?,
        (Ok(records), Some(j)) => {
            if records.is_empty() {
                writeln!(
                    out,
                    "  {}",
                    crate::switch::preflight::no_record(&j.old_lb.dns_name)
                )?;
            } else {
                writeln!(out, "  records ({} zone {}):", j.zone_id, j.zone_name)?;
                for r in records {
                    writeln!(
                        out,
                        "    {} {} → {}",
                        r.name,
                        r.type_,
                        r.targets().join(",")
                    )?;
                }
            }
            engine::write_steps(
                out,
                j,
                &format!(
                    "create service/{} (the translation above, annotation {})",
                    j.new_service,
                    translate::MIGRATED_FROM
                ),
            )?;
        }
        (Ok(_), None) => {}
    }
    Ok(())
}

/// How many Services `-A` and `-l` plan at once. Each one's target-group
/// reads are concurrent too, so up to 4 × 8 requests are in flight; the SDK
/// retries what ELBv2 throttles.
const PLAN_CONCURRENCY: usize = 4;

/// One Service of a plan.
enum Outcome {
    /// Translated, with its switch when traffic can be switched.
    Planned(Box<(Planned, Option<Journal>)>),
    /// Refused from the object alone (no selector, being deleted, no valid
    /// new name): listed, so that one Service does not hide the others' plans.
    Refused { source: String, why: String },
}

async fn plan_many(global: &GlobalArgs, a: &MigrateStart, ui: &Ui) -> Result<(), Error> {
    let switch = engine::check_switch_flags(&a.switch)?;
    let ctx = Context::build(global).await?;
    let scope = if a.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(ctx.namespace.clone())
    };
    let services = {
        let _p = ui.spinner("reading Services");
        ctx.kube
            .service_objects(&scope, a.selector.as_deref())
            .await?
    };
    let opts = Options {
        new_name: None,
        ..options(global, a)
    };
    // What can be refused from the object alone is, before any AWS call.
    let candidates: Vec<Result<Service, Outcome>> = services
        .into_iter()
        .filter(|s| {
            let info = crate::k8s::service_info(s);
            info.type_ == "LoadBalancer" && classify::owner(&info) == Owner::InTreeNlb
        })
        .map(
            |s| match translate::translate(&s, &Live::default(), &opts) {
                Ok(_) => Ok(s),
                Err(e) => Err(Outcome::Refused {
                    source: source_of(&crate::k8s::service_info(&s)),
                    why: e.to_string(),
                }),
            },
        )
        .collect();
    if candidates.is_empty() {
        // Scripts reading -o json get an empty list, not prose.
        let none = "no in-tree NLB Services found";
        match a.output {
            Some(ManifestOutput::Json) => emit(&mut std::io::stdout().lock(), a.output, &[])?,
            Some(ManifestOutput::Yaml) => writeln!(std::io::stderr().lock(), "{none}")?,
            None => writeln!(std::io::stdout().lock(), "{none}")?,
        }
        return Ok(());
    }
    let outcomes: Vec<Outcome> = if candidates.iter().any(Result::is_ok) {
        let _p = ui.spinner("reading the controller, the NLBs and DNS, and translating");
        let (cl, nlbs, around) = tokio::try_join!(
            cluster(&ctx, &scope),
            Nlbs::list(&ctx),
            engine::surroundings(&ctx, &a.switch)
        )?;
        let (ctx, cl, nlbs, around, opts, switch) = (&ctx, &cl, &nlbs, &around, &opts, &switch);
        futures::stream::iter(candidates.into_iter().map(|c| async move {
            let svc = match c {
                Ok(svc) => svc,
                Err(refused) => return Ok(refused),
            };
            let p = plan_one(ctx, cl, nlbs, around, svc, opts, a).await?;
            let j = match &p.records {
                Ok(r) => journal(&p, switch, r.clone()).ok(),
                Err(_) => None,
            };
            Ok::<_, Error>(Outcome::Planned(Box::new((p, j))))
        }))
        .buffered(PLAN_CONCURRENCY)
        .try_collect()
        .await?
    } else {
        candidates.into_iter().filter_map(Result::err).collect()
    };
    emit(&mut std::io::stdout().lock(), a.output, &outcomes)
}

fn emit(
    out: &mut dyn Write,
    format: Option<ManifestOutput>,
    outcomes: &[Outcome],
) -> Result<(), Error> {
    match format {
        Some(ManifestOutput::Json) => {
            let items = outcomes
                .iter()
                .map(|o| match o {
                    Outcome::Planned(pj) => {
                        let (p, j) = &**pj;
                        Ok(Item {
                            source: p.source.clone(),
                            service: manifest(&p.translation)?,
                            report: &p.translation.report,
                            records: p.records.as_ref().ok().map(|r| {
                                r.iter()
                                    .map(|r| format!("{} {}", r.name, r.type_))
                                    .collect()
                            }),
                            steps: j
                                .as_ref()
                                .map(|j| j.steps().iter().map(|s| s.label()).collect()),
                            refused: p.records.as_ref().err().cloned(),
                        })
                    }
                    Outcome::Refused { source, why } => Ok(Item {
                        source: source.clone(),
                        service: serde_json::Value::Null,
                        report: &[],
                        records: None,
                        steps: None,
                        refused: Some(why.clone()),
                    }),
                })
                .collect::<Result<Vec<_>, Error>>()?;
            render::json(out, &Items { items })?;
        }
        Some(ManifestOutput::Yaml) => {
            // Manifests on stdout, one document per translated Service; the
            // plans and refusals on stderr. A blocked translation is never
            // emitted: stdout stays empty and the command fails, as with -f
            // (qa D-W7: applying it would have given a Service new addresses).
            let mut err = std::io::stderr().lock();
            let blocked = check_blocked(outcomes.iter().filter_map(|o| match o {
                Outcome::Planned(pj) => Some((pj.0.source.as_str(), &pj.0.translation)),
                Outcome::Refused { .. } => None,
            }));
            if blocked.is_err() {
                for o in outcomes {
                    if let Outcome::Planned(pj) = o
                        && pj.0.translation.is_blocked()
                    {
                        write_report(&mut err, &pj.0.source, &pj.0.translation)?;
                    }
                }
                return blocked;
            }
            let mut first = true;
            for o in outcomes {
                match o {
                    Outcome::Planned(pj) => {
                        let (p, j) = &**pj;
                        write_plan(&mut err, p, j.as_ref())?;
                        if !first {
                            writeln!(out, "---")?;
                        }
                        first = false;
                        render::yaml(out, &manifest(&p.translation)?)?;
                    }
                    Outcome::Refused { why, .. } => writeln!(err, "cannot migrate: {why}")?,
                }
            }
        }
        None => {
            for (i, o) in outcomes.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                match o {
                    Outcome::Planned(pj) => {
                        let (p, j) = &**pj;
                        write_plan(out, p, j.as_ref())?;
                        writeln!(out, "---")?;
                        render::yaml(out, &manifest(&p.translation)?)?;
                    }
                    Outcome::Refused { why, .. } => writeln!(out, "cannot migrate: {why}")?,
                }
            }
        }
    }
    Ok(())
}

async fn single(
    global: &GlobalArgs,
    a: &MigrateStart,
    ui: &Ui,
    service: &str,
    switch: &SwitchRequest,
) -> Result<(), Error> {
    if let Some(name) = &a.new_name {
        translate::validate_name(name).map_err(|e| Error::Invalid(format!("--new-name: {e}")))?;
    }
    // A run that would change things and cannot be confirmed is refused
    // before anything is read or printed, as cutover does: a script gets
    // one error line, not a 30-line report and then a refusal (qa D-C3).
    let executes = a.output.is_none() && a.dry_run == DryRun::None;
    if executes {
        ui.check_confirmable(a.yes)?;
    }
    let ctx = Context::build(global).await?;
    let ns = ctx.namespace.clone();
    let old = ctx
        .kube
        .service_object(&ns, service)
        .await?
        .ok_or_else(|| {
            Error::Invalid(format!(
                "service {ns}/{service} not found; list Services with kubectl get services -n {ns}"
            ))
        })?;
    // What can be refused from the object alone is refused before any AWS call.
    translate::translate(&old, &Live::default(), &options(global, a))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let scope = Scope::Namespace(ns.clone());
    let (cl, p) = {
        let _p = ui.spinner("reading the Service, its NLB and target groups, and DNS");
        let (cl, around) =
            tokio::try_join!(cluster(&ctx, &scope), engine::surroundings(&ctx, &a.switch))?;
        let p = plan_one(
            &ctx,
            &cl,
            &Nlbs::Lookup,
            &around,
            old,
            &options(global, a),
            a,
        )
        .await?;
        (cl, p)
    };
    let journal = match &p.records {
        Ok(records) => Some(journal(&p, switch, records.clone())?),
        Err(_) => None,
    };
    let mut out = std::io::stdout().lock();
    if a.output.is_some() || a.dry_run == DryRun::Client {
        let blocked = check_blocked(std::iter::once((p.source.as_str(), &p.translation)));
        emit(
            &mut out,
            a.output,
            &[Outcome::Planned(Box::new((p, journal)))],
        )?;
        return blocked;
    }
    // Executing: everything that can refuse, before the first write. The
    // report is printed here only when it is why the run stops; otherwise
    // it is part of the plan below, printed once (qa D-C1: it came twice).
    if p.translation.is_blocked() {
        let mut err = std::io::stderr().lock();
        write_report(&mut err, &p.source, &p.translation)?;
        drop(err);
        return check_blocked(std::iter::once((p.source.as_str(), &p.translation)));
    }
    let Some(journal) = journal else {
        return Err(Error::Invalid(p.records.err().unwrap_or_default()));
    };
    engine::check_not_running(&ctx, &ns, service).await?;
    if ctx
        .kube
        .service_object(&ns, &journal.new_service)
        .await?
        .is_some()
    {
        return Err(Error::Invalid(format!(
            "service {ns}/{} already exists; pick the new Service's name with --new-name",
            journal.new_service
        )));
    }
    if a.dry_run == DryRun::Server {
        ctx.kube.create(&journal.new_manifest, true).await?;
        writeln!(
            out,
            "server dry run: service/{} was accepted; nothing was changed",
            journal.new_service
        )?;
        return Ok(());
    }
    let missing = cl
        .namespaces
        .get(&ns)
        .and_then(|l| l.get(ann::READINESS_GATE_LABEL))
        .map(String::as_str)
        != Some("enabled");
    let gate_label = match readiness_gate_offer(missing, a.enable_readiness_gate, a.yes) {
        Offer::Label => true,
        Offer::Skip => false,
        Offer::Ask => ui.ask(&format!(
            "Label namespace {ns} {}=enabled so that rollouts wait for the NLB (existing pods get gates only when restarted)?",
            ann::READINESS_GATE_LABEL
        ))?,
    };
    {
        let mut err = std::io::stderr().lock();
        write_plan(&mut err, &p, Some(&journal))?;
        if gate_label {
            writeln!(
                err,
                "  first: label namespace {ns} {}=enabled (existing pods get gates only when restarted)",
                ann::READINESS_GATE_LABEL
            )?;
        }
    }
    ui.confirm("Start this migration?", a.yes)?;
    let mut out = crate::ui::Narration::default();
    if gate_label {
        ctx.kube
            .label_namespace(&ns, ann::READINESS_GATE_LABEL, "enabled")
            .await?;
        writeln!(
            out,
            "namespace/{ns} labelled {}=enabled; restart existing pods to give them readiness gates",
            ann::READINESS_GATE_LABEL
        )?;
    }
    let mut stored = Stored::new(journal);
    stored.save(&ctx).await?;
    engine::drive(&ctx, ui, &mut stored, &mut out).await
}

/// What to do about a namespace without pod readiness gates.
#[derive(Debug, PartialEq, Eq)]
enum Offer {
    Label,
    Ask,
    Skip,
}

/// The label is an extra change to the namespace, so it is made only when
/// asked for (`--enable-readiness-gate`) or accepted at the prompt; `--yes`
/// confirms the migration, not this.
fn readiness_gate_offer(missing: bool, flag: bool, yes: bool) -> Offer {
    match (missing, flag, yes) {
        (false, _, _) => Offer::Skip,
        (true, true, _) => Offer::Label,
        (true, false, false) => Offer::Ask,
        (true, false, true) => Offer::Skip,
    }
}

#[cfg(test)]
mod tests {
    use super::{Offer, check_namespace, parse_manifests, readiness_gate_offer};

    const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  type: LoadBalancer\n";

    #[test]
    fn a_manifest_saved_with_a_byte_order_mark_is_read() {
        // qa D-M9
        let with_bom = format!("\u{feff}{SERVICE}");
        let inputs = parse_manifests("svc.yaml", &with_bom).expect("read");
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].source, "svc.yaml: service web");
        let json =
            "\u{feff}{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"j\"}}";
        assert_eq!(parse_manifests("svc.json", json).expect("read").len(), 1);
    }

    #[test]
    fn a_namespace_flag_that_contradicts_the_manifest_is_refused_like_kubectl() {
        // qa D-M14
        let inputs = parse_manifests("svc.yaml", SERVICE).expect("read");
        let err = check_namespace(Some("other"), &inputs)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "svc.yaml: service web: the namespace from the provided object \"shop\" does not match the namespace \"other\". You must pass '--namespace=shop' to perform this operation."
        );
        assert!(check_namespace(Some("shop"), &inputs).is_ok());
        assert!(check_namespace(None, &inputs).is_ok());
        let unplaced =
            parse_manifests("svc.yaml", &SERVICE.replace("  namespace: shop\n", "")).expect("read");
        assert!(
            check_namespace(Some("other"), &unplaced).is_ok(),
            "takes -n"
        );
    }

    #[test]
    fn the_readiness_gate_label_is_offered_only_when_missing_and_never_made_unasked() {
        for flag in [false, true] {
            for yes in [false, true] {
                assert_eq!(readiness_gate_offer(false, flag, yes), Offer::Skip);
            }
        }
        assert_eq!(readiness_gate_offer(true, true, false), Offer::Label);
        assert_eq!(readiness_gate_offer(true, true, true), Offer::Label);
        assert_eq!(readiness_gate_offer(true, false, false), Offer::Ask);
        assert_eq!(readiness_gate_offer(true, false, true), Offer::Skip);
    }
}
