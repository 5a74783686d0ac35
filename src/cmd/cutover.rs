//! `kubectl nlb cutover`: preflight → plan → confirm → journal → drive.
//! The `status`, `resume` and `abort` verbs live with the engine, in
//! `cmd::switch`, since migrate shares them.
//!
//! Every check that can refuse runs before the first write, so a refusal
//! changes nothing (exit 1).

use super::switch::{self as engine, PROVENANCE, Stored, SwitchRequest};
use crate::classify::{self, Owner};
use crate::cli::{CutoverArgs, CutoverStart, DryRun, GlobalArgs, ManifestOutput, SwitchAction};
use crate::context::Context;
use crate::error::Error;
use crate::model::{DnsRecord, ServiceInfo};
use crate::switch::{self, Journal, Kind, LbTarget, Start, preflight};
use crate::ui::{Ui, render};
use k8s_openapi::api::core::v1::Service;
use std::collections::BTreeMap;
use std::io::Write;

const ATTRIBUTE: &str = "preserve_client_ip.enabled";

pub async fn run(global: &GlobalArgs, args: &CutoverArgs, ui: &Ui) -> Result<(), Error> {
    match &args.action {
        Some(SwitchAction::Status(a)) => engine::status(global, a).await,
        Some(SwitchAction::Resume(a)) => engine::resume(global, a, ui).await,
        Some(SwitchAction::Abort(a)) => engine::abort(global, a, ui).await,
        None => start(global, &args.start, ui).await,
    }
}

/// Flags that need no peer to check.
struct Request {
    service: String,
    preserve: bool,
    switch: SwitchRequest,
}

fn check_flags(a: &CutoverStart) -> Result<Request, Error> {
    let service = a.service.clone().unwrap_or_default();
    let preserve = a
        .preserve_client_ip
        .ok_or_else(|| Error::Invalid("--preserve-client-ip=true|false is required".into()))?;
    let switch = engine::check_switch_flags(&a.switch)?;
    if let Some(name) = &a.new_name {
        crate::names::service(name).map_err(|e| Error::Invalid(format!("--new-name: {e}")))?;
        if *name == service {
            return Err(Error::Invalid(format!(
                "--new-name {name} is the Service being replaced; pick another name"
            )));
        }
    }
    Ok(Request {
        service,
        preserve,
        switch,
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
    /// external-dns owns the records: they move through it.
    xdns: Option<crate::switch::xdns::XdnsState>,
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
    let (old, info) = lbc_service(ctx, name, "not the AWS Load Balancer Controller").await?;
    engine::check_not_running(ctx, ns, name).await?;
    if ctx.kube.service_object(ns, new_name).await?.is_some() {
        return Err(Error::Invalid(format!(
            "service {ns}/{new_name} already exists; pick the parallel Service's name with --new-name"
        )));
    }
    let lb = nlb_of(ctx, name, &info).await?;
    // A DNS switch moves clients that resolve a name; addresses pinned to
    // the old NLB cannot move to a parallel one (domain.md §1.2 EIP row).
    let mut pins: Vec<String> = switch::parallel::ADDRESS_PINS
        .iter()
        .filter(|k| info.annotation(k).is_some())
        .map(|k| {
            let key = k.rsplit('/').next().unwrap_or(k);
            if *k == crate::annotations::EIP_ALLOCATIONS {
                format!("Elastic IPs, {key}")
            } else {
                key.to_string()
            }
        })
        .collect();
    if lb.addresses.iter().any(|a| a.allocation_id.is_some()) && pins.is_empty() {
        pins.push("Elastic IPs".into());
    }
    if !pins.is_empty() && !a.accept_new_addresses {
        return Err(Error::Invalid(format!(
            "service {ns}/{name} pins the addresses of NLB {} ({}); an address belongs to one NLB at a time, so the parallel NLB gets new ones and clients of the old addresses are not moved by DNS. Keep the NLB and its addresses with --via listener, or pass --accept-new-addresses if clients only use DNS names",
            lb.name,
            pins.join(", ")
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

    let around = engine::surroundings(ctx, &a.switch).await?;
    warnings.extend(around.check_private_link(&lb).map_err(|e| {
        Error::Invalid(format!(
            "{e}. Keep the NLB, and its endpoint service, with --via listener"
        ))
    })?);
    let (records, xdns) = around
        .records_for(
            &lb.dns_name,
            a.switch.record.as_deref(),
            &format!("{ns}/{name}"),
            &info.annotations,
        )
        .map_err(Error::Invalid)?;
    if records.is_empty() {
        return Err(Error::Invalid(preflight::no_record(&lb.dns_name)));
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
        xdns,
        warnings,
    })
}

/// The LBC Service a cutover starts from, with its summary; refused with
/// the fix when it is not one. `in_tree` says why an in-tree Service
/// cannot take this path.
pub(crate) async fn lbc_service(
    ctx: &Context,
    name: &str,
    in_tree: &str,
) -> Result<(Service, ServiceInfo), Error> {
    let ns = &ctx.namespace;
    let svc = ctx.kube.service_object(ns, name).await?.ok_or_else(|| {
        Error::Invalid(format!(
            "service {ns}/{name} not found; list Services with kubectl get services -n {ns}"
        ))
    })?;
    let info = crate::k8s::service_info(&svc);
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
                "service {ns}/{name} is served by the in-tree cloud provider, {in_tree}; move it with `kubectl nlb migrate {name} -n {ns}` (which also sets the client-IP behaviour)"
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
    Ok((svc, info))
}

/// The NLB a Service's status names, refused when there is none yet or it
/// is another kind of load balancer.
pub(crate) async fn nlb_of(
    ctx: &Context,
    name: &str,
    info: &ServiceInfo,
) -> Result<crate::model::LoadBalancer, Error> {
    let ns = &ctx.namespace;
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
    Ok(lb)
}

async fn start(global: &GlobalArgs, a: &CutoverStart, ui: &Ui) -> Result<(), Error> {
    let req = check_flags(a)?;
    if a.via == crate::cli::Via::Listener {
        // No records: the soak defaults to a minute, as for an alias.
        let settings = req.switch.settings(&[]);
        return engine::start_listener(global, a, req.preserve, settings, ui).await;
    }
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
    let mut obs = obs;
    let parallel = switch::parallel::parallel_service(
        &obs.old,
        &new_name,
        &[(ATTRIBUTE, req.preserve.to_string())],
        (PROVENANCE, format!("{ns}/{}", req.service)),
    )
    .map_err(Error::Invalid)?;
    obs.warnings.extend(parallel.notes);
    let manifest = parallel.service;
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
    let settings = req.switch.settings(&obs.records);
    let journal = Journal::new(
        Start {
            kind: Kind::Cutover,
            namespace: ns.clone(),
            old_service: req.service.clone(),
            old_uid: obs.old_uid.clone(),
            new_service: new_name.clone(),
            new_manifest: manifest_json.clone(),
            old_lb: obs.old_lb.clone(),
            old_lb_arn: obs.old_lb_arn.clone(),
            records: obs.records.clone(),
            expect_attributes: BTreeMap::from([(ATTRIBUTE.to_string(), req.preserve.to_string())]),
            mirror_endpoints: no_selector(&obs.old),
            listener: None,
            external_dns: obs.xdns.clone(),
            settings,
        },
        engine::now(),
    );
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
    let mut out = crate::ui::Narration::default();
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

/// A Service whose endpoints are kept by hand or by another controller.
pub fn no_selector(svc: &k8s_openapi::api::core::v1::Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_none_or(|s| s.is_empty())
}

fn write_plan(out: &mut dyn Write, j: &Journal, obs: &Observed) -> std::io::Result<()> {
    let current: Vec<String> = obs
        .current
        .iter()
        .map(|(v, n)| format!("{n} target group(s) {v}"))
        .collect();
    let want = j
        .expect_attributes
        .get(ATTRIBUTE)
        .map(String::as_str)
        .unwrap_or("?");
    writeln!(
        out,
        "Cutover of service {}/{}: {ATTRIBUTE} {} → {want}",
        j.namespace,
        j.old_service,
        current.join(", ")
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
    engine::write_steps(
        out,
        j,
        &format!(
            "create service/{} (copy of {}, {ATTRIBUTE}={want}, annotation {PROVENANCE})",
            j.new_service, j.old_service
        ),
    )
}
