//! `kubectl nlb bind-hostnetwork`: observe → plan → render → confirm → apply → wait.
//!
//! Apply order makes a re-run the way to resume: AWS first (a target group
//! found by its stable name is reused), then the Service, then the bindings;
//! each step skips what already exists.

use crate::aws::ec2::SubnetQuery;
use crate::aws::elbv2::NewTargetGroup;
use crate::bind::{self, Plan, Request, ServiceStep, TargetChoice, TargetGroupStep};
use crate::classify::TargetType;
use crate::cli::{BindArgs, DryRun, GlobalArgs, ManifestOutput, SchemeArg, TargetTypeArg};
use crate::context::Context;
use crate::error::Error;
use crate::model::Detection;
use crate::ui::{Ui, render};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

const POLL: Duration = Duration::from_secs(2);

/// `daemonset/edge-proxy` → (`daemonset`, `edge-proxy`); plural and short kinds accepted.
pub fn parse_workload(text: &str) -> Result<(&'static str, &str), Error> {
    let (kind, name) = text.split_once('/').ok_or_else(|| {
        Error::Invalid(format!(
            "\"{text}\" is not KIND/NAME: use deployment/NAME, daemonset/NAME or statefulset/NAME"
        ))
    })?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" => "deployment",
        "daemonset" | "daemonsets" | "ds" => "daemonset",
        "statefulset" | "statefulsets" | "sts" => "statefulset",
        other => {
            return Err(Error::Invalid(format!(
                "\"{other}\" is not a workload kind: use deployment, daemonset or statefulset"
            )));
        }
    };
    if name.is_empty() {
        return Err(Error::Invalid(format!("\"{text}\" names no workload")));
    }
    crate::names::workload(kind, name).map_err(Error::Invalid)?;
    Ok((kind, name))
}

/// `--source-cidr` must be an IPv4 or IPv6 block, `--source-sg` a group id:
/// checked before anything is read or written (qa D-W5: `10.0.0.0/33` and
/// `banana` reached the binding).
fn check_sources(args: &BindArgs) -> Result<(), Error> {
    for c in &args.source_cidrs {
        let valid = c.split_once('/').is_some_and(|(addr, bits)| {
            match (addr.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
                (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32,
                (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128,
                _ => false,
            }
        });
        if !valid {
            return Err(Error::Invalid(format!(
                "--source-cidr {c}: not an address block; use e.g. 10.0.0.0/16, 203.0.113.7/32 or 2001:db8::/32"
            )));
        }
    }
    for g in &args.source_sgs {
        let hex = g.strip_prefix("sg-").unwrap_or_default();
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::Invalid(format!(
                "--source-sg {g}: not a security group id; use e.g. sg-0123456789abcdef0"
            )));
        }
    }
    Ok(())
}

pub async fn run(global: &GlobalArgs, args: &BindArgs, ui: &Ui) -> Result<(), Error> {
    // Everything that needs no peer is checked before the first request.
    let (kind, name) = parse_workload(&args.workload)?;
    check_sources(args)?;
    // The same parser as cutover's --timeout: 0 is refused, not the default.
    let timeout = super::switch::timeout("--timeout", &args.timeout)?;
    if args.dry_run == DryRun::Server && args.create_target_group {
        return Err(Error::Invalid(
            "--dry-run=server needs an existing target group (the controller's webhook checks it in AWS); use --dry-run=client with --create-target-group".into(),
        ));
    }
    // A run that would change things and cannot be confirmed is refused
    // before anything is read or printed, as cutover does (qa D-C3: the
    // plan came first, then "not a terminal").
    if args.output.is_none() && args.dry_run == DryRun::None {
        ui.check_confirmable(args.yes)?;
    }
    let target_type = match args.target_type {
        TargetTypeArg::Instance => TargetType::Instance,
        TargetTypeArg::Ip => TargetType::Ip,
    };

    let ctx = Context::build(global).await?;
    let ns = ctx.namespace.clone();
    let world = {
        let _progress = ui.spinner("reading the workload, nodes and target group");
        observe(&ctx, args, kind, name, &ns).await?
    };
    let request = Request {
        ports: args.ports.clone(),
        target: if args.create_target_group {
            TargetChoice::Create
        } else {
            TargetChoice::Existing
        },
        target_type,
        source_cidrs: args.source_cidrs.clone(),
        source_sgs: args.source_sgs.clone(),
        preserve_client_ip: args.preserve_client_ip,
        cluster: args.cluster_name.clone().or(world.1),
    };
    let plan = bind::plan(&request, &world.0).map_err(|e| Error::Invalid(e.0))?;

    let mut out = std::io::stdout().lock();
    if let Some(format) = args.output
        && args.dry_run != DryRun::Server
    {
        let manifests = manifests(&ctx, &plan).await?;
        write_manifests(&mut out, &manifests, format)?;
        return Ok(());
    }
    match args.dry_run {
        DryRun::Client => {
            write_plan(&mut out, &plan)?;
            writeln!(out)?;
            let manifests = manifests(&ctx, &plan).await?;
            write_manifests(&mut out, &manifests, ManifestOutput::Yaml)?;
            return Ok(());
        }
        DryRun::Server => {
            for m in manifests(&ctx, &plan).await? {
                ctx.kube.create(&m, true).await?;
            }
            writeln!(
                out,
                "server dry run: the Service and TargetGroupBinding manifests were accepted; nothing was changed"
            )?;
            return Ok(());
        }
        DryRun::None => {}
    }

    let mut err = std::io::stderr().lock();
    write_plan(&mut err, &plan)?;
    drop(err);
    ui.confirm("Apply this plan?", args.yes)?;
    let mut out = crate::ui::Narration::default();
    let work = async {
        let arns = apply(&ctx, &plan, world.0.new_load_balancer.as_ref(), &mut out).await?;
        wait_healthy(&ctx, ui, &plan, &arns, timeout, &mut out).await
    };
    tokio::select! {
        r = work => r,
        // What was made stays and a re-run picks it up (every step reuses
        // what exists): say so rather than ending silently (qa D-M13).
        why = crate::ui::stop_requested() => Err(Error::Aborted(format!(
            "{why}: what was created so far stays (see the lines above); run the same command again to finish the binding, or delete {} and the target groups it made to undo it",
            plan.ports.iter().map(|p| format!("targetgroupbinding/{}", p.binding_name)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Reads what the plan needs; returns the plain world and the LBC's cluster name.
async fn observe(
    ctx: &Context,
    args: &BindArgs,
    kind: &str,
    name: &str,
    ns: &str,
) -> Result<(bind::World, Option<String>), Error> {
    ctx.kube.namespace_labels(ns).await?;
    let workload = ctx
        .kube
        .workload(kind, ns, name)
        .await?
        .ok_or_else(|| Error::Invalid(format!("{kind}/{name} not found in namespace {ns}")))?;
    let scope = crate::k8s::Scope::Namespace(ns.to_string());
    let (nodes, services, bindings, lbc) = tokio::try_join!(
        ctx.kube.nodes(),
        ctx.kube.services(&scope),
        ctx.kube.target_group_bindings(),
        ctx.kube.detect_lbc(),
    )?;
    let pods = ctx.kube.pods_matching(ns, &workload.selector).await?;
    let elbv2 = &ctx.aws.elbv2;
    let wanted_tg = args
        .target_group_arn
        .as_deref()
        .or(args.target_group_name.as_deref());
    let target_group = match wanted_tg {
        Some(tg) => Some(elbv2.target_group(tg).await?.ok_or_else(|| {
            Error::Invalid(format!(
                "target group \"{tg}\" not found in {}; check the ARN or name, --region and --profile",
                ctx.aws.region
            ))
        })?),
        None => None,
    };
    let lb_ref = args.load_balancer.clone().or_else(|| {
        target_group
            .as_ref()
            .and_then(|tg| tg.load_balancer_arns.first().cloned())
    });
    let load_balancer = match lb_ref {
        Some(lb) => Some(elbv2.load_balancer(&lb).await?.ok_or_else(|| {
            Error::Invalid(format!(
                "load balancer \"{lb}\" not found in {}",
                ctx.aws.region
            ))
        })?),
        None => None,
    };
    let load_balancer_subnet_cidrs = match &load_balancer {
        Some(lb) if lb.security_groups.is_empty() => {
            let subnets: Vec<String> = lb.subnet_ids.clone();
            ctx.aws
                .ec2
                .subnets(SubnetQuery::Ids(&subnets))
                .await?
                .into_iter()
                .map(|s| s.cidr)
                .collect()
        }
        _ => Vec::new(),
    };
    let instance_ids: Vec<String> = bind::eligible_nodes(&nodes, &workload.node_selector)
        .iter()
        .filter_map(|n| n.instance_id.clone())
        .collect();
    let vpcs = ctx.aws.ec2.instance_vpcs(&instance_ids).await?;
    if vpcs.len() > 1 {
        return Err(Error::Invalid(format!(
            "the nodes of {kind}/{name} are in several VPCs ({}); narrow them with a node selector",
            vpcs.join(", ")
        )));
    }
    let mut created_earlier = Vec::new();
    if args.create_target_group {
        for p in &workload.ports {
            let name = bind::target_group_name(ns, &workload.name, p);
            if let Some(tg) = elbv2.target_group(&name).await? {
                created_earlier.push(tg);
            }
        }
    }
    let vpc_id = vpcs.into_iter().next();
    let vpc_cidrs = match &vpc_id {
        Some(vpc) => ctx.aws.ec2.vpc_cidrs(vpc).await?,
        None => Vec::new(),
    };
    let owned_arns: Vec<String> = target_group
        .iter()
        .map(|tg| tg.arn.clone())
        .chain(load_balancer.iter().map(|lb| lb.arn.clone()))
        .collect();
    let tags = if owned_arns.is_empty() {
        Default::default()
    } else {
        elbv2.tags(&owned_arns).await?
    };
    let mut target_group = target_group;
    if let Some(tg) = target_group.as_mut() {
        tg.attributes = elbv2.attributes(&tg.arn).await?;
    }
    let new_load_balancer = match (&vpc_id, args.create_load_balancer) {
        (Some(vpc), true) => Some(new_load_balancer(ctx, args, &workload, vpc).await?),
        _ => None,
    };
    // The listeners of the NLB a new listener would go on, so that a port
    // already taken is refused before any target group is made.
    let front_arn = match (&load_balancer, &new_load_balancer) {
        (Some(lb), _) => Some(lb.arn.clone()),
        (None, Some(new)) => new.arn.clone(),
        (None, None) => None,
    };
    let mut listeners: std::collections::BTreeMap<i32, Vec<String>> = Default::default();
    if args.create_target_group
        && let Some(arn) = front_arn
    {
        for (port, tg) in elbv2.listener_targets(&arn).await? {
            listeners.entry(port).or_default().push(tg);
        }
    }
    let cluster = match lbc {
        Detection::Found(l) => l.cluster_name,
        _ => None,
    };
    Ok((
        bind::World {
            workload,
            pods,
            nodes,
            services,
            bindings,
            target_group,
            load_balancer,
            load_balancer_subnet_cidrs,
            vpc_id,
            vpc_cidrs,
            tags,
            new_load_balancer,
            created_earlier,
            listeners,
        },
        cluster,
    ))
}

/// The NLB `--create-load-balancer` asks for: named after the workload, in the
/// given subnets or the VPC's subnets tagged for load balancers of that scheme,
/// one per zone.
async fn new_load_balancer(
    ctx: &Context,
    args: &BindArgs,
    workload: &bind::Workload,
    vpc: &str,
) -> Result<bind::NewLoadBalancer, Error> {
    let scheme = match args.scheme {
        SchemeArg::Internal => "internal",
        SchemeArg::InternetFacing => "internet-facing",
    };
    let name = bind::load_balancer_name(&workload.namespace, &workload.name);
    if let Some(lb) = ctx.aws.elbv2.load_balancer(&name).await? {
        let subnets: Vec<String> = lb.subnet_ids.clone();
        let cidrs = ctx.aws.ec2.subnets(SubnetQuery::Ids(&subnets)).await?;
        return Ok(bind::NewLoadBalancer {
            name,
            arn: Some(lb.arn.clone()),
            scheme: lb.scheme.unwrap_or_else(|| scheme.to_string()),
            subnet_cidrs: cidrs.into_iter().map(|s| s.cidr).collect(),
            subnets,
            exists: true,
            security_groups: lb.security_groups,
        });
    }
    // The subnet tags the LBC and the in-tree provider use to pick subnets.
    let role = if scheme == "internal" {
        "kubernetes.io/role/internal-elb"
    } else {
        "kubernetes.io/role/elb"
    };
    let query = if args.subnets.is_empty() {
        SubnetQuery::Tagged { vpc, tag_key: role }
    } else {
        SubnetQuery::Ids(&args.subnets)
    };
    let mut subnets = ctx.aws.ec2.subnets(query).await?;
    if !args.subnets.is_empty() && subnets.len() != args.subnets.len() {
        return Err(Error::Invalid(format!(
            "--subnets {}: not every subnet exists in {}",
            args.subnets.join(","),
            ctx.aws.region
        )));
    }
    subnets.dedup_by(|a, b| a.zone == b.zone);
    if subnets.is_empty() {
        return Err(Error::Invalid(format!(
            "no subnet of {vpc} is tagged {role} for a {scheme} load balancer: pass --subnets"
        )));
    }
    Ok(bind::NewLoadBalancer {
        name,
        scheme: scheme.to_string(),
        subnets: subnets.iter().map(|s| s.id.clone()).collect(),
        subnet_cidrs: subnets.into_iter().map(|s| s.cidr).collect(),
        exists: false,
        arn: None,
        security_groups: Vec::new(),
    })
}

/// The Service (when new) and the bindings, with what is known before applying:
/// a target group still to be created and a NodePort not yet allocated are
/// named as placeholders.
async fn manifests(ctx: &Context, plan: &Plan) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    let service_name = match &plan.service {
        ServiceStep::Create { name, manifest } => {
            out.push(manifest.clone());
            name.clone()
        }
        ServiceStep::AddPorts { name, ports } => {
            // The Service as it will be: today's, with the ports added.
            if let Some(mut svc) = ctx.kube.service_object(&plan.namespace, name).await? {
                let spec = svc.spec.get_or_insert_with(Default::default);
                let list = spec.ports.get_or_insert_with(Vec::new);
                for p in ports {
                    let port = serde_json::from_value(p.clone())
                        .map_err(|e| Error::Invalid(format!("encoding a Service port: {e}")))?;
                    list.push(port);
                }
                svc.metadata.managed_fields = None;
                svc.status = None;
                let mut v = serde_json::to_value(&svc)
                    .map_err(|e| Error::Invalid(format!("encoding the Service: {e}")))?;
                v["apiVersion"] = "v1".into();
                v["kind"] = "Service".into();
                out.push(v);
            }
            name.clone()
        }
        ServiceStep::Reuse { name } => name.clone(),
    };
    let service = ctx.kube.service(&plan.namespace, &service_name).await?;
    for p in &plan.ports {
        let arn = match &p.target_group {
            TargetGroupStep::Existing { arn, .. } => arn.clone(),
            TargetGroupStep::Create {
                existing_arn: Some(arn),
                ..
            } => arn.clone(),
            TargetGroupStep::Create { name, .. } => {
                format!("<ARN of target group {name}, created on apply>")
            }
        };
        let node_port = node_port_of(service.as_ref(), p.service_port);
        out.push(bind::binding_manifest(
            plan,
            p,
            &arn,
            node_port,
            &service_name,
            None,
        ));
    }
    Ok(out)
}

fn node_port_of(service: Option<&crate::model::ServiceInfo>, port: i32) -> Option<i32> {
    service?.ports.iter().find(|sp| sp.port == port)?.node_port
}

fn write_manifests(
    out: &mut dyn Write,
    manifests: &[Value],
    format: ManifestOutput,
) -> Result<(), Error> {
    match format {
        ManifestOutput::Yaml => {
            for m in manifests {
                writeln!(out, "---")?;
                render::yaml(out, m)?;
            }
        }
        ManifestOutput::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": manifests});
            render::json(out, &list)?;
        }
    }
    Ok(())
}

fn write_plan(out: &mut dyn Write, plan: &Plan) -> Result<(), Error> {
    writeln!(
        out,
        "Plan for {} in namespace {} ({} targets):",
        plan.workload,
        plan.namespace,
        plan.target_type.as_str()
    )?;
    match &plan.service {
        ServiceStep::Reuse { name } => writeln!(out, "  - reuse Service {name}")?,
        ServiceStep::Create { name, .. } => writeln!(out, "  - create Service {name}")?,
        ServiceStep::AddPorts { name, ports } => writeln!(
            out,
            "  - add port(s) {} to Service {name}, made by an earlier run (its other ports stay)",
            ports
                .iter()
                .map(|p| format!("{} ({})", p["name"].as_str().unwrap_or("?"), p["port"]))
                .collect::<Vec<_>>()
                .join(", ")
        )?,
    }
    for p in &plan.ports {
        match &p.target_group {
            TargetGroupStep::Existing { name, .. } => writeln!(
                out,
                "  - port {}: bind existing target group {name}",
                p.port.container_port
            )?,
            TargetGroupStep::Create {
                existing_arn: Some(_),
                name,
                ..
            } => {
                writeln!(
                    out,
                    "  - port {}: reuse target group {name}, created by an earlier run",
                    p.port.container_port
                )?;
            }
            TargetGroupStep::Create {
                name,
                protocol,
                vpc_id,
                listener_on,
                ..
            } => {
                writeln!(
                    out,
                    "  - port {}: create target group {name} ({protocol}, {vpc_id}, tagged elbv2.k8s.aws/cluster)",
                    p.port.container_port
                )?;
                if let Some(lb) = listener_on {
                    writeln!(
                        out,
                        "    and a {protocol} listener on port {} of {lb} forwarding to it",
                        p.port.container_port
                    )?;
                }
            }
        }
        writeln!(
            out,
            "    TargetGroupBinding {} → Service port {}; expected targets: {}",
            p.binding_name,
            p.service_port,
            p.expected_targets.join(", ")
        )?;
        for (target, why) in &p.expected_unhealthy {
            let node = plan
                .target_nodes
                .get(target)
                .map(String::as_str)
                .unwrap_or("-");
            writeln!(out, "      {target} ({node}) will be unhealthy: {why}")?;
        }
    }
    for note in &plan.notes {
        writeln!(out, "  note: {note}")?;
    }
    Ok(())
}

/// Creates what is missing, in an order a re-run can resume; returns the target group ARN per port.
async fn apply(
    ctx: &Context,
    plan: &Plan,
    new_lb: Option<&bind::NewLoadBalancer>,
    out: &mut dyn Write,
) -> Result<Vec<String>, Error> {
    let mut new_lb_arn = None;
    let mut new_lb_sg: Option<String> = None;
    if let Some(lb) = new_lb {
        let tags = plan
            .ports
            .iter()
            .find_map(|p| match &p.target_group {
                TargetGroupStep::Create { tags, .. } => Some(tags.clone()),
                TargetGroupStep::Existing { .. } => None,
            })
            .unwrap_or_default();
        let group = if lb.exists && !lb.security_groups.is_empty() {
            lb.security_groups.first().cloned()
        } else if lb.exists {
            None
        } else {
            Some(new_lb_group(ctx, plan, lb, &tags, out).await?)
        };
        let (arn, created) = ctx
            .aws
            .elbv2
            .ensure_network_load_balancer(
                &lb.name,
                &lb.scheme,
                &lb.subnets,
                group.as_slice(),
                &tags,
            )
            .await?;
        writeln!(
            out,
            "load balancer {} {}",
            lb.name,
            if created { "created" } else { "unchanged" }
        )?;
        new_lb_arn = Some(arn);
        new_lb_sg = group;
    }
    let mut arns = Vec::new();
    for p in &plan.ports {
        let arn = match &p.target_group {
            TargetGroupStep::Existing { arn, .. } => arn.clone(),
            TargetGroupStep::Create {
                name,
                protocol,
                port,
                vpc_id,
                tags,
                listener_on,
                preserve_client_ip,
                ..
            } => {
                let (arn, created) = ctx
                    .aws
                    .elbv2
                    .ensure_target_group(&NewTargetGroup {
                        name: name.clone(),
                        protocol: protocol.clone(),
                        port: *port,
                        vpc_id: vpc_id.clone(),
                        target_type: plan.target_type.as_str().to_string(),
                        tags: tags.clone(),
                    })
                    .await?;
                writeln!(
                    out,
                    "target group {name} {}",
                    if created { "created" } else { "unchanged" }
                )?;
                ctx.aws
                    .elbv2
                    .set_target_group_attribute(
                        &arn,
                        "preserve_client_ip.enabled",
                        &preserve_client_ip.to_string(),
                    )
                    .await?;
                if let Some(lb) = listener_on {
                    // The plan names a load balancer it creates by name; use its ARN.
                    let lb = match (&new_lb_arn, new_lb) {
                        (Some(new_arn), Some(new)) if new.name == *lb => new_arn.clone(),
                        _ => lb.clone(),
                    };
                    let created = ctx
                        .aws
                        .elbv2
                        .ensure_listener(&lb, protocol, *port, &arn)
                        .await?;
                    writeln!(
                        out,
                        "listener {protocol}:{port} {}",
                        if created { "created" } else { "unchanged" }
                    )?;
                }
                arn
            }
        };
        arns.push(arn);
    }
    let service_name = match &plan.service {
        ServiceStep::Create { name, manifest } => {
            let created = ctx.kube.create(manifest, false).await?;
            writeln!(
                out,
                "service/{name} {}",
                if created { "created" } else { "unchanged" }
            )?;
            name.clone()
        }
        ServiceStep::AddPorts { name, ports } => {
            let added = ctx
                .kube
                .add_service_ports(&plan.namespace, name, ports)
                .await?;
            writeln!(
                out,
                "service/{name} {}",
                if added { "configured" } else { "unchanged" }
            )?;
            name.clone()
        }
        ServiceStep::Reuse { name } => name.clone(),
    };
    let service = ctx.kube.service(&plan.namespace, &service_name).await?;
    for (p, arn) in plan.ports.iter().zip(&arns) {
        let node_port = node_port_of(service.as_ref(), p.service_port);
        if plan.target_type == TargetType::Instance && node_port.is_none() {
            return Err(Error::Invalid(format!(
                "Service {}/{service_name} has no NodePort for port {}: instance targets need one",
                plan.namespace, p.service_port
            )));
        }
        let manifest =
            bind::binding_manifest(plan, p, arn, node_port, &service_name, new_lb_sg.as_deref());
        match ctx
            .kube
            .binding_spec(&plan.namespace, &p.binding_name)
            .await?
        {
            Some(spec) if spec["targetGroupARN"].as_str() == Some(arn.as_str()) => {
                // A re-run with other flags applies the difference (qa D-W5:
                // "unchanged" while the CIDR differed); targetGroupARN and
                // serviceRef stay as they are.
                let want = &manifest["spec"];
                let mut changes = serde_json::Map::new();
                for field in ["networking", "nodeSelector"] {
                    if spec.get(field) != want.get(field) {
                        changes.insert(
                            field.into(),
                            want.get(field).cloned().unwrap_or(Value::Null),
                        );
                    }
                }
                if changes.is_empty() {
                    writeln!(
                        out,
                        "targetgroupbinding.elbv2.k8s.aws/{} unchanged",
                        p.binding_name
                    )?;
                } else {
                    ctx.kube
                        .patch_binding_spec(
                            &plan.namespace,
                            &p.binding_name,
                            &Value::Object(changes),
                        )
                        .await?;
                    writeln!(
                        out,
                        "targetgroupbinding.elbv2.k8s.aws/{} configured",
                        p.binding_name
                    )?;
                }
            }
            Some(spec) => {
                return Err(Error::Invalid(format!(
                    "TargetGroupBinding {}/{} exists for another target group ({}); targetGroupARN is immutable, delete it first",
                    plan.namespace,
                    p.binding_name,
                    spec["targetGroupARN"].as_str().unwrap_or("?")
                )));
            }
            None => {
                ctx.kube.create(&manifest, false).await?;
                writeln!(
                    out,
                    "targetgroupbinding.elbv2.k8s.aws/{} created",
                    p.binding_name
                )?;
            }
        }
    }
    Ok(arns)
}

/// The security group `--create-load-balancer` gives its NLB, as the LBC
/// does since v2.6: named after the NLB, admitting the plan's clients on
/// the listener ports; re-runs find it by name.
async fn new_lb_group(
    ctx: &Context,
    plan: &Plan,
    lb: &bind::NewLoadBalancer,
    tags: &[(String, String)],
    out: &mut dyn Write,
) -> Result<String, Error> {
    let vpc = plan
        .ports
        .iter()
        .find_map(|p| match &p.target_group {
            TargetGroupStep::Create { vpc_id, .. } => Some(vpc_id.clone()),
            TargetGroupStep::Existing { .. } => None,
        })
        .unwrap_or_default();
    let (id, created) = ctx
        .aws
        .ec2
        .ensure_security_group(
            &lb.name,
            &vpc,
            &format!("kubectl nlb bind-hostnetwork: NLB {}", lb.name),
            tags,
        )
        .await?;
    let rules: Vec<crate::aws::ec2::Inbound> = plan
        .ports
        .iter()
        .flat_map(|p| {
            plan.new_lb_inbound.iter().filter_map(move |f| {
                let source = match f {
                    bind::traffic::From::Cidr(c) => c.clone(),
                    bind::traffic::From::Group(g) => g.clone(),
                    bind::traffic::From::NewLbGroup => return None,
                };
                Some(crate::aws::ec2::Inbound {
                    protocol: if p.port.protocol.eq_ignore_ascii_case("UDP") {
                        "udp"
                    } else {
                        "tcp"
                    }
                    .into(),
                    port: p.port.container_port,
                    source,
                    description: format!("{}: {}", bind::PROVENANCE, plan.workload),
                })
            })
        })
        .collect();
    ctx.aws.ec2.authorize_inbound(&id, &rules).await?;
    writeln!(
        out,
        "security group {} ({id}) {}",
        lb.name,
        if created { "created" } else { "unchanged" }
    )?;
    Ok(id)
}

/// Polls target health until every target expected to be healthy is: the
/// nodes a Local Service cannot serve from are registered and reported,
/// not waited for.
async fn wait_healthy(
    ctx: &Context,
    ui: &Ui,
    plan: &Plan,
    arns: &[String],
    timeout: Duration,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let wanted = |p: &bind::PortPlan| -> BTreeSet<String> {
        p.expected_targets
            .iter()
            .filter(|t| !p.expected_unhealthy.contains_key(*t))
            .cloned()
            .collect()
    };
    let expected: usize = plan.ports.iter().map(|p| wanted(p).len()).sum();
    let bar = ui.bar(expected as u64, "targets healthy");
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut healthy_total = 0;
        let mut rows = Vec::new();
        for (p, arn) in plan.ports.iter().zip(arns) {
            let health = ctx.aws.elbv2.health(arn).await?;
            let want = wanted(p);
            for t in &health {
                rows.push(vec![
                    p.binding_name.clone(),
                    plan.target_nodes
                        .get(&t.id)
                        .cloned()
                        .unwrap_or_else(|| "-".into()),
                    t.id.clone(),
                    t.port.map(|n| n.to_string()).unwrap_or_default(),
                    t.state.clone(),
                    match p.expected_unhealthy.get(&t.id) {
                        Some(why) => format!("unhealthy: {why}"),
                        None => "healthy".into(),
                    },
                ]);
            }
            healthy_total += health
                .iter()
                .filter(|t| t.state == "healthy" && want.contains(&t.id))
                .count();
        }
        bar.set_position(healthy_total as u64);
        if healthy_total >= expected {
            bar.finish_and_clear();
            writeln!(out)?;
            render::table(
                out,
                &["BINDING", "NODE", "TARGET", "PORT", "STATE", "EXPECTED"],
                &rows,
            )?;
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bar.finish_and_clear();
            return Err(Error::Timeout(format!(
                "timed out after {} with {healthy_total}/{expected} targets healthy; what was created stays, and running the same command again resumes the wait",
                humantime::format_duration(timeout)
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_kind_slash_name() {
        assert_eq!(parse_workload("ds/edge").ok(), Some(("daemonset", "edge")));
        assert_eq!(
            parse_workload("Deployment/x").ok(),
            Some(("deployment", "x"))
        );
        assert!(parse_workload("edge").is_err());
        assert!(parse_workload("pod/edge").is_err());
        assert!(parse_workload("daemonset/").is_err());
    }
}
