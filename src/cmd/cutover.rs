//! `kubectl nlb cutover`: preflight → plan → confirm → journal → drive, and
//! the `status`, `resume` and `abort` verbs over the journal.
//!
//! Every check that can refuse runs before the first write, so a refusal
//! changes nothing (exit 1).

use super::switch::{self as engine, PROVENANCE, Stored};
use crate::annotations as ann;
use crate::classify::{self, Owner};
use crate::cli::{
    AbortArgs, CutoverAction, CutoverArgs, CutoverStart, DryRun, GlobalArgs, ManifestOutput,
    Output, ResumeArgs, SwitchRef,
};
use crate::context::Context;
use crate::error::Error;
use crate::model::DnsRecord;
use crate::switch::{self, Identifiers, Journal, Kind, LbTarget, Settings, preflight};
use crate::ui::{Ui, render};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

const ATTRIBUTE: &str = "preserve_client_ip.enabled";

pub async fn run(global: &GlobalArgs, args: &CutoverArgs, ui: &Ui) -> Result<(), Error> {
    match &args.action {
        Some(CutoverAction::Status(a)) => status(global, a).await,
        Some(CutoverAction::Resume(a)) => resume(global, a, ui).await,
        Some(CutoverAction::Abort(a)) => abort(global, a, ui).await,
        None => start(global, &args.start, ui).await,
    }
}

fn duration(flag: &str, text: &str) -> Result<Duration, Error> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(text).map_err(|_| {
        Error::Invalid(format!(
            "{flag} {text}: not a duration; use a number of seconds or a value such as 30s, 2m, 1h"
        ))
    })
}

/// Flags that need no peer to check.
struct Request {
    service: String,
    preserve: bool,
    weights: Vec<u8>,
    soak: Option<Duration>,
    interval: Duration,
    timeout: Duration,
    drain: Option<Duration>,
}

fn check_flags(a: &CutoverStart) -> Result<Request, Error> {
    let service = a.service.clone().unwrap_or_default();
    let preserve = a
        .preserve_client_ip
        .ok_or_else(|| Error::Invalid("--preserve-client-ip=true|false is required".into()))?;
    let weights = switch::weights::parse(&a.weights).map_err(Error::Invalid)?;
    let interval = duration("--interval", &a.interval)?;
    if interval.is_zero() {
        return Err(Error::Invalid(
            "--interval 0: health is read at least every second; use e.g. --interval 10s".into(),
        ));
    }
    let timeout = duration("--timeout", &a.timeout)?;
    if timeout.is_zero() {
        return Err(Error::Invalid(
            "--timeout 0: every wait needs a limit; use e.g. --timeout 15m".into(),
        ));
    }
    if let Some(name) = &a.new_name {
        preflight::check_service_name(name)
            .map_err(|e| Error::Invalid(format!("--new-name: {e}")))?;
        if *name == service {
            return Err(Error::Invalid(format!(
                "--new-name {name} is the Service being replaced; pick another name"
            )));
        }
    }
    if let Some(zone) = &a.zone
        && zone.trim().is_empty()
    {
        return Err(Error::Invalid(
            "--zone is empty: pass a hosted zone id or name".into(),
        ));
    }
    Ok(Request {
        service,
        preserve,
        weights,
        soak: a
            .soak
            .as_deref()
            .map(|s| duration("--soak", s))
            .transpose()?,
        interval,
        timeout,
        drain: a
            .drain
            .as_deref()
            .map(|s| duration("--drain", s))
            .transpose()?,
    })
}

/// Everything read before the plan.
struct Observed {
    old: k8s_openapi::api::core::v1::Service,
    old_uid: String,
    old_lb_arn: String,
    old_lb: LbTarget,
    current: BTreeMap<String, usize>,
    records: Vec<DnsRecord>,
    warnings: Vec<String>,
}

async fn observe(
    ctx: &Context,
    req: &Request,
    a: &CutoverStart,
    new_name: &str,
) -> Result<Observed, Error> {
    let ns = &ctx.namespace;
    let name = &req.service;
    let old = ctx.kube.service_object(ns, name).await?.ok_or_else(|| {
        Error::Invalid(format!(
            "service {ns}/{name} not found; list Services with kubectl get services -n {ns}"
        ))
    })?;
    let info = crate::k8s::service_info(&old);
    if info.type_ != "LoadBalancer" {
        return Err(Error::Invalid(format!(
            "service {ns}/{name} is of type {}, not LoadBalancer: it has no NLB to cut over",
            info.type_
        )));
    }
    match classify::owner(&info) {
        Owner::Lbc(_) => {}
        Owner::InTreeNlb => {
            return Err(Error::Invalid(format!(
                "service {ns}/{name} is served by the in-tree cloud provider, not the AWS Load Balancer Controller; move it with `kubectl nlb migrate {name} -n {ns}` (which also sets the client-IP behaviour)"
            )));
        }
        other => {
            return Err(Error::Invalid(format!(
                "service {ns}/{name} is not managed by the AWS Load Balancer Controller ({}); cutover only handles LBC NLB Services",
                other.describe()
            )));
        }
    }
    if info.deleting {
        return Err(Error::Invalid(format!(
            "service {ns}/{name} is being deleted"
        )));
    }
    if let Some(s) = engine::load(ctx, ns, name).await? {
        return Err(Error::Invalid(format!(
            "a {} of {ns}/{name} is already in progress ({}); see `kubectl nlb {} status {name} -n {ns}`",
            s.journal.kind.command(),
            s.journal.phase(),
            s.journal.kind.command()
        )));
    }
    if ctx.kube.service_object(ns, new_name).await?.is_some() {
        return Err(Error::Invalid(format!(
            "service {ns}/{new_name} already exists; pick the parallel Service's name with --new-name"
        )));
    }
    let host = info.ingress_hostnames.first().cloned().ok_or_else(|| {
        Error::Invalid(format!(
            "service {ns}/{name} has no load-balancer hostname yet; wait until `kubectl get service {name} -n {ns}` shows one"
        ))
    })?;
    let lb = ctx.aws.elbv2.load_balancer_by_dns(&host).await?.ok_or_else(|| {
        Error::Invalid(format!(
            "no load balancer in region {} has the DNS name {host} of service {ns}/{name}; check --region and --profile",
            ctx.aws.region
        ))
    })?;
    if lb.type_.as_deref().is_some_and(|t| t != "network") {
        return Err(Error::Invalid(format!(
            "{} is a {} load balancer, not an NLB",
            lb.name,
            lb.type_.clone().unwrap_or_default()
        )));
    }
    // A DNS switch moves clients that resolve a name; addresses pinned to
    // the old NLB cannot move to a parallel one (domain.md §1.2 EIP row).
    if lb.addresses.iter().any(|a| a.allocation_id.is_some())
        || info.annotation(ann::EIP_ALLOCATIONS).is_some()
    {
        return Err(Error::Invalid(format!(
            "NLB {} of service {ns}/{name} uses Elastic IPs; an EIP belongs to one NLB at a time, so a parallel NLB cannot take them and clients of those addresses cannot be moved by DNS",
            lb.name
        )));
    }
    if info.annotation(ann::PRIVATE_IPV4_ADDRESSES).is_some() {
        return Err(Error::Invalid(format!(
            "service {ns}/{name} pins private IPv4 addresses ({}); the parallel NLB cannot take them while the old one holds them",
            ann::PRIVATE_IPV4_ADDRESSES
        )));
    }
    let mut warnings = Vec::new();
    if info
        .annotation("service.beta.kubernetes.io/aws-load-balancer-name")
        .is_some()
    {
        // Two Services cannot share an NLB name (domain.md §2.4).
        warnings.push(
            "aws-load-balancer-name is not copied to the parallel Service: two NLBs cannot share a name, so the controller names the new one"
                .into(),
        );
    }
    match ctx.aws.ec2.endpoint_services().await {
        Ok(services) => {
            if let Some(s) = services.iter().find(|s| s.network_load_balancer_arns.contains(&lb.arn)) {
                return Err(Error::Invalid(format!(
                    "NLB {} backs the PrivateLink endpoint service {}; its consumers connect through endpoints, not DNS, so they cannot be moved by a DNS switch",
                    lb.name, s.service_id
                )));
            }
        }
        Err(e) if e.is_access_denied() => warnings.push(format!(
            "could not check for PrivateLink endpoint services ({e}); consumers of one would not move"
        )),
        Err(e) => return Err(e.into()),
    }
    let Some(zone_id) = lb.canonical_hosted_zone_id.clone() else {
        return Err(Error::Invalid(format!(
            "NLB {} reports no canonical hosted zone",
            lb.name
        )));
    };
    let groups = ctx.aws.elbv2.target_groups_of(&lb.arn).await?;
    if groups.is_empty() {
        return Err(Error::Invalid(format!(
            "NLB {} has no target groups",
            lb.name
        )));
    }
    let mut current = BTreeMap::new();
    for tg in &groups {
        let value = tg
            .attributes
            .get(ATTRIBUTE)
            .cloned()
            .unwrap_or_else(|| "unset".into());
        *current.entry(value).or_insert(0) += 1;
        let protocol = tg.protocol.as_deref().unwrap_or("TCP");
        // UDP keeps the client address whatever the attribute (domain.md §3.1).
        if !req.preserve && (protocol == "UDP" || protocol == "TCP_UDP") {
            return Err(Error::Invalid(format!(
                "target group {} is {protocol}: AWS cannot turn preserve_client_ip off for UDP",
                tg.name
            )));
        }
    }
    let want = req.preserve.to_string();
    if current.len() == 1 && current.contains_key(&want) {
        return Err(Error::Invalid(format!(
            "every target group of service {ns}/{name} already has {ATTRIBUTE}={want} in AWS; nothing to cut over"
        )));
    }

    let zones = match &a.zone {
        Some(z) => {
            let found = ctx.aws.route53.find_zones(z).await?;
            if found.is_empty() {
                return Err(Error::Invalid(format!(
                    "hosted zone {z} not found; list zones with aws route53 list-hosted-zones"
                )));
            }
            found
        }
        None => ctx.aws.route53.zones().await?,
    };
    let mut all = Vec::new();
    for zone in &zones {
        all.extend(ctx.aws.route53.records(zone).await?);
    }
    let records = preflight::records_to_move(&all, &lb.dns_name, a.record.as_deref())
        .map_err(Error::Invalid)?;
    let zone_records: Vec<DnsRecord> = all
        .into_iter()
        .filter(|r| r.zone_id == records[0].zone_id)
        .collect();
    if let Some(why) = preflight::external_dns_owner(
        &format!("{ns}/{name}"),
        &info.annotations,
        &zone_records,
        &records,
    ) {
        return Err(Error::Invalid(format!(
            "{why}. Editing its records directly would fight external-dns, which puts its own weights back on every sync. Either take the name out of external-dns's scope first (domain or annotation filter, or upsert-only with its TXT ownership removed), or drive the weights through its set-identifier and aws-weight annotations by hand"
        )));
    }
    Ok(Observed {
        old_uid: old.metadata.uid.clone().unwrap_or_default(),
        old,
        old_lb_arn: lb.arn.clone(),
        old_lb: LbTarget {
            dns_name: lb.dns_name.clone(),
            canonical_hosted_zone_id: zone_id,
        },
        current,
        records,
        warnings,
    })
}

async fn start(global: &GlobalArgs, a: &CutoverStart, ui: &Ui) -> Result<(), Error> {
    let req = check_flags(a)?;
    let new_name = a
        .new_name
        .clone()
        .unwrap_or_else(|| preflight::default_new_name(&req.service, req.preserve));
    let ctx = Context::build(global).await?;
    let ns = ctx.namespace.clone();
    let obs = {
        let _p = ui.spinner("reading the Service, its NLB and the DNS records");
        observe(&ctx, &req, a, &new_name).await?
    };
    let manifest = switch::parallel::parallel_service(
        &obs.old,
        &new_name,
        &[(ATTRIBUTE, req.preserve.to_string())],
        (PROVENANCE, format!("{ns}/{}", req.service)),
    )
    .map_err(Error::Invalid)?;
    let mut manifest_json = serde_json::to_value(&manifest)
        .map_err(|e| Error::Invalid(format!("encoding the Service: {e}")))?;
    manifest_json["apiVersion"] = "v1".into();
    manifest_json["kind"] = "Service".into();

    let mut out = std::io::stdout().lock();
    if let Some(format) = a.output {
        return match format {
            ManifestOutput::Yaml => render::yaml(&mut out, &manifest_json),
            ManifestOutput::Json => render::json(&mut out, &manifest_json),
        }
        .map_err(Error::from);
    }
    let ttl = obs
        .records
        .iter()
        .map(|r| {
            if r.alias.is_some() {
                60
            } else {
                r.ttl.unwrap_or(60).max(0) as u64
            }
        })
        .max()
        .unwrap_or(60);
    let settings = Settings {
        weights: req.weights.clone(),
        soak_secs: req.soak.map(|d| d.as_secs()).unwrap_or(ttl),
        interval_secs: req.interval.as_secs().max(1),
        timeout_secs: req.timeout.as_secs().max(1),
        min_healthy_percent: a.min_healthy_percent,
        drain_secs: req.drain.map(|d| d.as_secs()),
        finalize: a.finalize,
    };
    let t = engine::now();
    let journal = Journal {
        version: switch::journal::VERSION,
        kind: Kind::Cutover,
        namespace: ns.clone(),
        old_service: req.service.clone(),
        old_uid: obs.old_uid.clone(),
        new_service: new_name.clone(),
        new_manifest: manifest_json.clone(),
        old_lb: obs.old_lb.clone(),
        old_lb_arn: obs.old_lb_arn.clone(),
        new_lb: None,
        new_lb_arn: None,
        zone_id: obs.records[0].zone_id.clone(),
        zone_name: obs.records[0].zone_name.clone(),
        original_records: obs.records.clone(),
        ids: Identifiers::for_services(&ns, &req.service, &new_name),
        expect_attributes: BTreeMap::from([(ATTRIBUTE.to_string(), req.preserve.to_string())]),
        settings,
        done: 0,
        in_flight: None,
        rolled_back: None,
        drain_until: None,
        started_at: t,
        updated_at: t,
        last_gate: None,
        events: vec![],
    };
    match a.dry_run {
        DryRun::Client => {
            write_plan(&mut out, &journal, &obs)?;
            writeln!(out)?;
            return render::yaml(&mut out, &manifest_json).map_err(Error::from);
        }
        DryRun::Server => {
            ctx.kube.create(&manifest_json, true).await?;
            writeln!(
                out,
                "server dry run: service/{new_name} was accepted; nothing was changed"
            )?;
            return Ok(());
        }
        DryRun::None => {}
    }
    ui.check_confirmable(a.yes)?;
    {
        let mut err = std::io::stderr().lock();
        write_plan(&mut err, &journal, &obs)?;
    }
    ui.confirm("Start this cutover?", a.yes)?;
    let mut stored = Stored::new(journal);
    stored.save(&ctx).await.map_err(|e| match e {
        Error::Invalid(m) if m.contains("changed under us") => Error::Invalid(format!(
            "a switch of {ns}/{} started at the same moment; see `kubectl nlb cutover status {} -n {ns}`",
            req.service, req.service
        )),
        other => other,
    })?;
    engine::drive(&ctx, ui, &mut stored, &mut out).await
}

fn write_plan(out: &mut dyn Write, j: &Journal, obs: &Observed) -> std::io::Result<()> {
    let current: Vec<String> = obs
        .current
        .iter()
        .map(|(v, n)| format!("{n} target group(s) {v}"))
        .collect();
    writeln!(
        out,
        "Cutover of service {}/{}: {ATTRIBUTE} {} → {}",
        j.namespace,
        j.old_service,
        current.join(", "),
        j.expect_attributes
            .get(ATTRIBUTE)
            .map(String::as_str)
            .unwrap_or("?")
    )?;
    writeln!(out, "  old NLB: {}", j.old_lb.dns_name)?;
    writeln!(out, "  records ({} zone {}):", j.zone_id, j.zone_name)?;
    for r in &j.original_records {
        let ttl = if r.alias.is_some() {
            "alias, TTL 60s".to_string()
        } else {
            format!("TTL {}s", r.ttl.unwrap_or(0))
        };
        writeln!(
            out,
            "    {} {} → {} ({ttl})",
            r.name,
            r.type_,
            r.targets().join(",")
        )?;
    }
    for w in &obs.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    let s = &j.settings;
    writeln!(out, "Steps:")?;
    for (i, step) in j.steps().iter().enumerate() {
        let what = match step {
            switch::Step::CreateService => format!("create service/{} (copy of {}, {ATTRIBUTE}={}, annotation {PROVENANCE})", j.new_service, j.old_service, j.expect_attributes.get(ATTRIBUTE).map(String::as_str).unwrap_or("?")),
            switch::Step::WaitReady => format!("wait (≤{}) until its NLB is active, the attribute is live, and ≥{}% of each target group's targets are healthy", fmt_secs(s.timeout_secs), s.min_healthy_percent),
            switch::Step::Convert => format!("one Route 53 batch: DELETE the simple record(s), CREATE weighted pairs [{}]=100 and [{}]=0; wait INSYNC", j.ids.old, j.ids.new),
            switch::Step::Shift(w) => format!("health gate, then weights old {} / new {w}; wait INSYNC; soak {} reading health every {} (roll back to old 100 if the gate fails)", 100 - w, fmt_secs(s.soak_secs), fmt_secs(s.interval_secs)),
            switch::Step::Collapse => "one batch: the weighted pairs become simple records pointing at the new NLB; wait INSYNC".into(),
            switch::Step::Drain => match s.drain_secs {
                Some(d) => format!("wait {} for clients to leave the old NLB", fmt_secs(d)),
                None => "wait the records' TTL plus the old target groups' deregistration delay".into(),
            },
            switch::Step::DeleteOld => format!("delete service/{} (its controller deletes NLB {})", j.old_service, j.old_lb.dns_name),
        };
        writeln!(out, "  {}. {what}", i + 1)?;
    }
    if !s.finalize {
        writeln!(
            out,
            "  then: finish later with `kubectl nlb cutover resume {} -n {} --finalize`",
            j.old_service, j.namespace
        )?;
    }
    writeln!(
        out,
        "Journal: configmap/{} (status, resume, abort work from any point)",
        engine::journal_name(&j.old_service)
    )?;
    Ok(())
}

fn fmt_secs(s: u64) -> String {
    humantime::format_duration(Duration::from_secs(s)).to_string()
}

async fn stored(ctx: &Context, service: &str) -> Result<Stored, Error> {
    let ns = &ctx.namespace;
    engine::load(ctx, ns, service).await?.ok_or_else(|| {
        Error::Invalid(format!(
            "no cutover or migration of service {ns}/{service} is in progress (no configmap {ns}/{})",
            engine::journal_name(service)
        ))
    })
}

async fn status(global: &GlobalArgs, a: &SwitchRef) -> Result<(), Error> {
    let (kube, _, ns) = crate::context::kube_client(global).await?;
    let ctx_ns = ns.clone();
    let name = engine::journal_name(&a.service);
    let cm = kube.config_map(&ns, &name).await?;
    let Some(text) = cm
        .and_then(|c| c.data)
        .and_then(|d| d.get("journal.json").cloned())
    else {
        return Err(Error::Invalid(format!(
            "no cutover or migration of service {ctx_ns}/{} is in progress (no configmap {ctx_ns}/{name})",
            a.service
        )));
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|e| {
        Error::Invalid(format!(
            "configmap {ctx_ns}/{name}: the journal cannot be read ({e})"
        ))
    })?;
    let mut out = std::io::stdout().lock();
    match a.output {
        Output::Json => render::json(&mut out, &journal)?,
        Output::Yaml => render::yaml(&mut out, &journal)?,
        Output::Table => {
            for (k, v) in engine::status_lines(&journal, engine::now()) {
                writeln!(out, "{:<11} {v}", format!("{k}:"))?;
            }
        }
    }
    Ok(())
}

async fn resume(global: &GlobalArgs, a: &ResumeArgs, ui: &Ui) -> Result<(), Error> {
    let timeout = a
        .timeout
        .as_deref()
        .map(|t| duration("--timeout", t))
        .transpose()?;
    let ctx = Context::build(global).await?;
    let mut s = stored(&ctx, &a.service).await?;
    ui.check_confirmable(a.yes)?;
    if a.finalize {
        s.journal.settings.finalize = true;
    }
    if let Some(t) = timeout {
        s.journal.settings.timeout_secs = t.as_secs().max(1);
    }
    if s.journal.is_complete() && !a.finalize && s.journal.rolled_back.is_none() {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "nothing to resume: {}; pass --finalize to finish, or abort",
            s.journal.phase()
        )?;
        return Ok(());
    }
    {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "Resuming {} of {}/{}: {}",
            s.journal.kind.command(),
            s.journal.namespace,
            s.journal.old_service,
            s.journal.phase()
        )?;
        let remaining: Vec<String> = s
            .journal
            .steps()
            .iter()
            .skip(s.journal.done)
            .map(|st| st.label())
            .collect();
        writeln!(
            err,
            "  steps left: {}",
            if remaining.is_empty() {
                "(after a rollback) the shifts again".into()
            } else {
                remaining.join(", ")
            }
        )?;
    }
    ui.confirm("Resume?", a.yes)?;
    s.journal.retry(engine::now());
    let mut out = std::io::stdout().lock();
    engine::drive(&ctx, ui, &mut s, &mut out).await
}

async fn abort(global: &GlobalArgs, a: &AbortArgs, ui: &Ui) -> Result<(), Error> {
    let ctx = Context::build(global).await?;
    let mut s = stored(&ctx, &a.service).await?;
    ui.check_confirmable(a.yes)?;
    {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "Abort {} of {}/{} ({}): restore {} record(s) to {}, delete service/{}",
            s.journal.kind.command(),
            s.journal.namespace,
            s.journal.old_service,
            s.journal.phase(),
            s.journal.original_records.len(),
            s.journal.old_lb.dns_name,
            s.journal.new_service
        )?;
    }
    ui.confirm("Abort?", a.yes)?;
    let mut out = std::io::stdout().lock();
    engine::abort(&ctx, ui, &mut s, &mut out).await
}
