//! `cutover --via listener`: preflight (every blocker at once, before any
//! write) → plan → confirm → journal → the engine drives it.

use super::super::{Stored, check_not_running, drive, now, write_steps};
use super::{Error, binding_manifest};
use crate::cli::{CutoverStart, DryRun, GlobalArgs, ManifestOutput};
use crate::context::Context;
use crate::model::{Detection, Version};
use crate::switch::listener::{
    self as plan, ATTRIBUTE, ATTRIBUTES_ANNOTATION, Facts, ListenerState, Pair,
};
use crate::switch::{Journal, Kind, LbTarget, Settings, Start};
use crate::ui::{Ui, render};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

/// Flags of `cutover` that only the DNS path reads: refused, not ignored.
fn check_flags(a: &CutoverStart) -> Result<(), Error> {
    let dns_only: Vec<&str> = [
        (a.new_name.is_some(), "--new-name"),
        (a.accept_new_addresses, "--accept-new-addresses"),
        (a.switch.record.is_some(), "--record"),
        (a.switch.zone.is_some(), "--zone"),
        (a.switch.drain.is_some(), "--drain"),
    ]
    .into_iter()
    .filter_map(|(set, flag)| set.then_some(flag))
    .collect();
    if !dns_only.is_empty() {
        return Err(Error::Invalid(format!(
            "{} only apply to --via dns (a parallel Service and DNS records); --via listener keeps the Service, its NLB and its records: drop {}",
            dns_only.join(", "),
            if dns_only.len() == 1 { "it" } else { "them" }
        )));
    }
    if a.dry_run == DryRun::Server {
        return Err(Error::Invalid(
            "--via listener has no server dry run (its steps are AWS target groups and controller reconciles, which the API server cannot validate): use --dry-run=client".into(),
        ));
    }
    Ok(())
}

/// What the preflight read.
struct Observed {
    state: ListenerState,
    old_uid: String,
    lb: LbTarget,
    lbc: String,
}

pub async fn start(
    global: &GlobalArgs,
    a: &CutoverStart,
    want: bool,
    settings: Settings,
    ui: &Ui,
) -> Result<(), Error> {
    check_flags(a)?;
    let ctx = Context::build(global).await?;
    let name = a.service.clone().unwrap_or_default();
    let obs = {
        let _p = ui.spinner("reading the Service, its NLB, listeners and controller");
        observe(&ctx, &name, want).await?
    };
    let ns = ctx.namespace.clone();
    let journal = Journal::new(
        Start {
            kind: Kind::Cutover,
            namespace: ns.clone(),
            old_service: name.clone(),
            old_uid: obs.old_uid.clone(),
            new_service: name.clone(),
            new_manifest: Value::Null,
            old_lb: obs.lb.clone(),
            old_lb_arn: obs.state.lb_arn.clone(),
            records: Vec::new(),
            expect_attributes: BTreeMap::from([(ATTRIBUTE.to_string(), want.to_string())]),
            mirror_endpoints: false,
            settings,
            listener: Some(obs.state.clone()),
            external_dns: None,
        },
        now(),
    );
    let mut out = std::io::stdout().lock();
    if let Some(format) = a.output {
        let list = manifests(&journal);
        return match format {
            ManifestOutput::Yaml => render::yaml(&mut out, &list),
            ManifestOutput::Json => render::json(&mut out, &list),
        }
        .map_err(Error::from);
    }
    if a.dry_run == DryRun::Client {
        return write_plan(&mut out, &journal, &obs).map_err(Error::from);
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
            "a switch of {ns}/{name} started at the same moment; see `kubectl nlb cutover status {name} -n {ns}`"
        )),
        other => other,
    })?;
    drive(&ctx, ui, &mut stored, &mut out).await
}

async fn observe(ctx: &Context, name: &str, want: bool) -> Result<Observed, Error> {
    let ns = &ctx.namespace;
    let (svc, info) =
        crate::cmd::cutover::lbc_service(ctx, name, "whose NLBs have no weighted listeners")
            .await?;
    check_not_running(ctx, ns, name).await?;
    let lb = crate::cmd::cutover::nlb_of(ctx, name, &info).await?;
    let forwards = ctx.aws.elbv2.listener_forwards(&lb.arn).await?;
    let arns: Vec<String> = forwards
        .iter()
        .flat_map(|f| f.forward.iter().map(|(a, _)| a.clone()))
        .collect();
    let groups = if arns.is_empty() {
        Vec::new()
    } else {
        ctx.aws.elbv2.groups_by_arn(&arns).await?
    };
    let (lbc_version, feature_gates, lbc) = match ctx.kube.detect_lbc().await? {
        Detection::Found(l) => (
            Some(l.version),
            l.feature_gates.clone(),
            format!(
                "{}/{} {}",
                l.namespace,
                l.name,
                l.version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(version unknown)".into())
            ),
        ),
        Detection::Missing => (None, BTreeMap::new(), "not found".into()),
        // Not allowed to look: taken as new enough; the first shift's wait
        // for the listener weights then tells.
        Detection::Unknown(why) => (
            Some(None::<Version>),
            BTreeMap::new(),
            format!("not readable ({why})"),
        ),
    };
    let mut listeners = Vec::new();
    let mut extra = Vec::new();
    for f in &forwards {
        match f.forward.as_slice() {
            [(arn, _)] => {
                let g = groups.iter().find(|g| g.arn == *arn);
                listeners.push(plan::Listener {
                    protocol: f.protocol.clone(),
                    port: f.port,
                    target_group_arn: arn.clone(),
                    preserve_client_ip: g
                        .and_then(|g| g.attribute_bool(ATTRIBUTE))
                        .unwrap_or(false),
                });
            }
            _ => extra.push(format!(
                "listener {}-{} of NLB {} already forwards to {} target groups: the listener path needs plain forwards; put it back to the Service's own group first",
                f.protocol,
                f.port,
                lb.name,
                f.forward.len()
            )),
        }
    }
    let facts = Facts {
        service: format!("{ns}/{name}"),
        listeners,
        lbc_version,
        feature_gates,
        annotations: info.annotations.clone(),
        want,
    };
    let mut blockers = plan::blockers(&facts);
    blockers.extend(extra);
    if !blockers.is_empty() {
        return Err(Error::Invalid(format!(
            "cannot cut over service {ns}/{name} through its listeners: {}; nothing was changed",
            blockers.join("; ")
        )));
    }
    let original = info.annotation(ATTRIBUTES_ANNOTATION).map(str::to_string);
    let pairs = facts
        .listeners
        .iter()
        .map(|l| Pair {
            protocol: l.protocol.clone(),
            port: l.port,
            own_arn: l.target_group_arn.clone(),
            own_name: groups
                .iter()
                .find(|g| g.arn == l.target_group_arn)
                .map(|g| g.name.clone())
                .unwrap_or_default(),
            twin_name: plan::twin_name(&l.target_group_arn),
            twin_arn: None,
        })
        .collect();
    Ok(Observed {
        state: ListenerState {
            lb_name: lb.name.clone(),
            lb_arn: lb.arn.clone(),
            want,
            new_attributes: plan::with_attribute(original.as_deref(), want),
            original_attributes: original,
            pairs,
        },
        old_uid: svc.metadata.uid.clone().unwrap_or_default(),
        lb: LbTarget {
            dns_name: lb.dns_name.clone(),
            canonical_hosted_zone_id: lb.canonical_hosted_zone_id.clone().unwrap_or_default(),
        },
        lbc,
    })
}

fn write_plan(out: &mut dyn Write, j: &Journal, obs: &Observed) -> std::io::Result<()> {
    let l = &obs.state;
    writeln!(
        out,
        "Cutover of service {}/{} through its listeners: {ATTRIBUTE} {} → {}, on the same NLB {} ({}: DNS name, addresses and endpoint services unchanged)",
        j.namespace,
        j.old_service,
        l.original(),
        l.want,
        l.lb_name,
        obs.lb.dns_name
    )?;
    writeln!(out, "  AWS Load Balancer Controller: {}", obs.lbc)?;
    for p in &l.pairs {
        writeln!(
            out,
            "  listener {}-{}: target group {} ({ATTRIBUTE}={}) and twin {} ({ATTRIBUTE}={})",
            p.protocol,
            p.port,
            p.own_name,
            l.original(),
            p.twin_name,
            l.want
        )?;
    }
    write_steps(out, j, "")
}

/// `-o yaml|json`: the bindings the switch creates, then the Service
/// annotations each step writes, as Service patches in one List.
fn manifests(j: &Journal) -> Value {
    let Some(l) = &j.listener else {
        return json!({"apiVersion": "v1", "kind": "List", "items": []});
    };
    let mut items: Vec<Value> = l
        .pairs
        .iter()
        .map(|p| {
            binding_manifest(
                j,
                p,
                &format!("<ARN of target group {}, made by kubectl nlb>", p.twin_name),
                "ip",
                json!({"ingress": "<the rules the LBC gives the Service with this value>"}),
            )
        })
        .collect();
    let patch = |step: String, annotations: BTreeMap<String, Option<String>>| {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": j.old_service,
                "namespace": j.namespace,
                "annotations": annotations,
                "labels": {"kubectl-nlb/step": step},
            },
        })
    };
    let with_placeholder = |share: u8| -> BTreeMap<String, Option<String>> {
        l.pairs
            .iter()
            .map(|p| {
                let arn = format!("<ARN of target group {}>", p.twin_name);
                (
                    plan::key(&p.protocol, p.port),
                    Some(plan::value(&arn, share)),
                )
            })
            .collect()
    };
    for step in j.steps() {
        use crate::switch::Step;
        let annotations = match step {
            Step::ToTwins(w) => with_placeholder(w),
            Step::BackToOwn(w) => with_placeholder(100 - w),
            Step::ChangeOwn => BTreeMap::from([(
                ATTRIBUTES_ANNOTATION.to_string(),
                Some(l.new_attributes.clone()),
            )]),
            Step::Cleanup => l.no_annotations(),
            _ => continue,
        };
        items.push(patch(step.label(), annotations));
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}
