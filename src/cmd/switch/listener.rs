//! The listener backend of the engine (`cutover --via listener`): twin
//! target groups on the Service's own NLB, listener weights written through
//! the LBC's `actions.*` annotation, the Service's own attribute changed
//! while its groups carry no new connections. Decisions are in
//! `switch::listener`; this is the I/O.
//!
//! What the sandbox cannot show: a real NLB keeps a connection on the
//! target group it was opened to (flows are not moved by a weight change),
//! so long-lived connections opened before a step stay where they were
//! until they close.

use super::{
    Backoff, Context, Error, Journal, POLL_READY, POLL_READY_FIRST, Stored, Ui, deadline_in, gate,
    journal_name, next_commands, now, rule, timeout_error,
};
use crate::aws::twins::ListenerForward;
use crate::switch::listener::{
    self as plan, ATTRIBUTE, ATTRIBUTES_ANNOTATION, AbortStep, ListenerState, Pair, Progress,
    TAG_SERVICE, TAG_TWIN_OF,
};
use crate::switch::{Step, journal::Via};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

mod start;
pub use start::start;

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The longest pause between reads of the listeners after a write.
const CONFIRM_POLL: std::time::Duration = std::time::Duration::from_secs(1);

fn state(j: &Journal) -> Result<&ListenerState, Error> {
    j.listener.as_ref().ok_or_else(|| {
        Error::Invalid(format!(
            "the journal of {}/{} has no listener plan: it was edited; {}",
            j.namespace,
            j.old_service,
            next_commands(j)
        ))
    })
}

fn service(j: &Journal) -> String {
    format!("{}/{}", j.namespace, j.old_service)
}

/// Twin target groups and their bindings, one per listener; each found
/// again by name when a crash came between its creation and the journal.
pub(super) async fn create_twins(
    ctx: &Context,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let l = state(&stored.journal)?.clone();
    let sources = Sources::read(ctx, &stored.journal, &l).await?;
    for (i, p) in l.pairs.iter().enumerate() {
        let arn = ensure_twin(ctx, &stored.journal, &l, p).await?;
        if let Some(st) = stored.journal.listener.as_mut() {
            st.pairs[i].twin_arn = Some(arn.clone());
        }
        stored.save(ctx).await?;
        ensure_binding(ctx, &stored.journal, &l, p, &arn, &sources).await?;
        writeln!(
            out,
            "target group {} ({ATTRIBUTE}={}, like {}) and targetgroupbinding/{} created",
            p.twin_name, l.want, p.own_name, p.twin_name
        )?;
    }
    Ok(())
}

async fn ensure_twin(
    ctx: &Context,
    j: &Journal,
    l: &ListenerState,
    p: &Pair,
) -> Result<String, Error> {
    let own = ctx
        .aws
        .elbv2
        .groups_by_arn(std::slice::from_ref(&p.own_arn))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::Invalid(format!(
                "target group {} of service {} is gone; {}",
                p.own_name,
                service(j),
                next_commands(j)
            ))
        })?;
    let tags = vec![
        (TAG_SERVICE.to_string(), service(j)),
        (TAG_TWIN_OF.to_string(), p.own_arn.clone()),
    ];
    let (arn, created) = ctx.aws.elbv2.ensure_twin(&p.twin_name, &own, &tags).await?;
    if !created {
        check_ours(ctx, j, p, &arn).await?;
    }
    let mut attributes = own.attributes.clone();
    attributes.insert(ATTRIBUTE.to_string(), l.want.to_string());
    ctx.aws.elbv2.set_attributes(&arn, &attributes).await?;
    Ok(arn)
}

/// A target group of the twin's name must be one this switch made.
async fn check_ours(ctx: &Context, j: &Journal, p: &Pair, arn: &str) -> Result<(), Error> {
    let tags = ctx.aws.elbv2.tags(&[arn.to_string()]).await?;
    let ours = tags
        .get(arn)
        .and_then(|t| t.get(TAG_TWIN_OF))
        .is_some_and(|v| *v == p.own_arn);
    if ours {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "target group {} exists and was not made by this switch (no tag {TAG_TWIN_OF}={}); delete or rename it, then {}",
            p.twin_name,
            p.own_arn,
            next_commands(j)
        )))
    }
}

/// Who may reach the targets, for the twins' networking rules.
struct Sources {
    clients: Vec<String>,
    default_clients: bool,
    subnets: Vec<String>,
}

impl Sources {
    async fn read(ctx: &Context, j: &Journal, l: &ListenerState) -> Result<Sources, Error> {
        let lb = ctx
            .aws
            .elbv2
            .load_balancer(&l.lb_arn)
            .await?
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "NLB {} of service {} is gone; {}",
                    l.lb_name,
                    service(j),
                    next_commands(j)
                ))
            })?;
        let subnets = ctx
            .aws
            .ec2
            .subnets(crate::aws::ec2::SubnetQuery::Ids(&lb.subnet_ids))
            .await?
            .into_iter()
            .map(|s| s.cidr)
            .collect();
        let svc = ctx
            .kube
            .service_object(&j.namespace, &j.old_service)
            .await?;
        let mut clients = svc
            .as_ref()
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.load_balancer_source_ranges.clone())
            .unwrap_or_default();
        if clients.is_empty() {
            clients = crate::k8s::service_info(svc.as_ref().unwrap_or(&Default::default()))
                .annotation("service.beta.kubernetes.io/aws-load-balancer-source-ranges")
                .map(|v| {
                    v.split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect()
                })
                .unwrap_or_default();
        }
        let default_clients = clients.is_empty();
        if default_clients {
            // The LBC's default: the VPC for internal NLBs, else anywhere
            // (`model_build_target_group.go` `buildTargetGroupBindingNetworkingLegacy`).
            clients = if lb.scheme.as_deref() == Some("internal") {
                match &lb.vpc_id {
                    Some(vpc) => ctx.aws.ec2.vpc_cidrs(vpc).await?,
                    None => Vec::new(),
                }
            } else {
                vec!["0.0.0.0/0".into()]
            };
        }
        Ok(Sources {
            clients,
            default_clients,
            subnets,
        })
    }
}

async fn ensure_binding(
    ctx: &Context,
    j: &Journal,
    l: &ListenerState,
    p: &Pair,
    arn: &str,
    sources: &Sources,
) -> Result<(), Error> {
    let own_binding = ctx.kube.binding_for(&j.namespace, &p.own_arn).await?;
    let own_tg = ctx.aws.elbv2.target_group(&p.own_arn).await?;
    let target_type = own_tg
        .as_ref()
        .and_then(|t| t.target_type.clone())
        .unwrap_or_else(|| "ip".into());
    let port = own_tg.as_ref().and_then(|t| t.port).unwrap_or(p.port);
    let hc_port = own_tg
        .as_ref()
        .and_then(|t| t.health_check.port.as_deref())
        .and_then(|p| p.parse().ok());
    let networking = plan::twin_networking(&plan::NetworkingInputs {
        own: own_binding.as_ref().map(|b| &b["networking"]),
        preserve: l.want,
        protocol: &p.protocol,
        port: json!(port),
        health_check_port: hc_port,
        client_cidrs: &sources.clients,
        default_clients: sources.default_clients,
        subnet_cidrs: &sources.subnets,
    });
    let manifest = binding_manifest(j, p, arn, &target_type, networking);
    if !ctx.kube.create(&manifest, false).await? {
        let spec = ctx.kube.binding_spec(&j.namespace, &p.twin_name).await?;
        let same = spec
            .as_ref()
            .is_some_and(|s| s["targetGroupARN"].as_str() == Some(arn));
        if !same {
            return Err(Error::Invalid(format!(
                "targetgroupbinding {}/{} exists and binds another target group; delete it, then {}",
                j.namespace,
                p.twin_name,
                next_commands(j)
            )));
        }
    }
    Ok(())
}

/// The twin's TargetGroupBinding: the Service's port, the twin's group.
pub(super) fn binding_manifest(
    j: &Journal,
    p: &Pair,
    arn: &str,
    target_type: &str,
    networking: Value,
) -> Value {
    json!({
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "TargetGroupBinding",
        "metadata": {
            "name": p.twin_name,
            "namespace": j.namespace,
            "labels": {MANAGED_BY: "kubectl-nlb"},
            "annotations": {super::PROVENANCE: service(j)},
        },
        "spec": {
            "targetGroupARN": arn,
            "targetType": target_type,
            "serviceRef": {"name": j.old_service, "port": p.port},
            "networking": networking,
        },
    })
}

/// Waits until AWS shows `value` on `arns` and their targets pass the gate.
async fn wait_groups(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    arns: Vec<String>,
    value: bool,
    what: &str,
) -> Result<String, Error> {
    let deadline = deadline_in(stored.journal.settings.timeout_secs);
    let progress = ui.spinner(&format!("waiting for {what}"));
    let on = super::GateOn::Groups(arns.clone());
    let rule = rule(&stored.journal);
    let mut backoff = Backoff::new(deadline, POLL_READY);
    loop {
        stored.heartbeat(ctx).await?;
        let problem = match ctx.aws.elbv2.groups_by_arn(&arns).await {
            Err(e) => e.to_string(),
            Ok(groups) => match groups
                .iter()
                .find(|g| g.attribute_bool(ATTRIBUTE) != Some(value))
            {
                Some(g) => format!(
                    "target group {} has {ATTRIBUTE}={}, waiting for {value}",
                    g.name,
                    g.attributes
                        .get(ATTRIBUTE)
                        .map(String::as_str)
                        .unwrap_or("unset")
                ),
                None => {
                    let reading = gate(ctx, &on, rule, &mut stored.joining).await?;
                    if reading.ok {
                        let summary = reading.summary();
                        stored.journal.last_gate = Some(reading);
                        return Ok(summary);
                    }
                    reading.reason.unwrap_or_default()
                }
            },
        };
        progress.set_message(format!("{what}: {problem}"));
        if !backoff.next().await {
            return Err(timeout_error(
                &stored.journal,
                &format!("{what} ({problem})"),
            ));
        }
    }
}

pub(super) async fn wait_twins(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let l = state(&stored.journal)?;
    let arns: Vec<String> = l.pairs.iter().filter_map(|p| p.twin_arn.clone()).collect();
    let want = l.want;
    let summary = wait_groups(ctx, ui, stored, arns, want, "the twin target groups").await?;
    writeln!(out, "twin target groups ready; targets: {summary}")?;
    Ok(())
}

/// Writes the `actions.*` annotations for `share` percent on the twins and
/// waits until every listener forwards so (the LBC has reconciled).
pub(super) async fn apply_share(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    share: u8,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let l = state(j)?;
    if let Some(p) = l.pairs.iter().find(|p| p.twin_arn.is_none()) {
        return Err(Error::Invalid(format!(
            "the journal has no twin target group for listener {}-{}; {}",
            p.protocol,
            p.port,
            next_commands(j)
        )));
    }
    ctx.kube
        .patch_service_annotations(&j.namespace, &j.old_service, &l.annotations(share))
        .await?;
    let what = format!("listener weights own {} / twins {share}", 100 - share);
    confirm(ctx, ui, j, &what, |f, p| {
        plan::share_on_twin(
            &f.forward,
            &p.own_arn,
            p.twin_arn.as_deref().unwrap_or_default(),
        ) == Some(share)
    })
    .await?;
    writeln!(out, "{what}: DescribeListeners shows them")?;
    Ok(())
}

/// Polls DescribeListeners until `ok` holds for every pair's listener.
async fn confirm(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    what: &str,
    ok: impl Fn(&ListenerForward, &Pair) -> bool,
) -> Result<(), Error> {
    let l = state(j)?;
    let deadline = deadline_in(j.settings.timeout_secs);
    let progress = ui.spinner(&format!(
        "{what}: waiting for the AWS Load Balancer Controller"
    ));
    // The controller needs a pass after the write: the first read waits
    // for one (a read at once showed the weights in 1 of 216 benchmark
    // steps), and later reads come every second at most, so a controller
    // slower than a few seconds costs a step under a second more than it
    // takes (benches/README.md, listener-step.sh).
    tokio::time::sleep(POLL_READY_FIRST).await;
    let mut backoff = Backoff::new(deadline, CONFIRM_POLL);
    loop {
        let listeners = ctx.aws.elbv2.listener_forwards(&l.lb_arn).await?;
        let behind: Vec<String> = l
            .pairs
            .iter()
            .filter(|p| {
                !listeners
                    .iter()
                    .any(|f| f.port == p.port && f.protocol == p.protocol && ok(f, p))
            })
            .map(|p| describe_listener(&listeners, p))
            .collect();
        if behind.is_empty() {
            return Ok(());
        }
        if !backoff.next().await {
            drop(progress);
            return Err(Error::Timeout(format!(
                "timed out after {}s waiting for the AWS Load Balancer Controller to write {what} on NLB {} ({}). It has not reconciled service {}: see `kubectl describe service {} -n {}` for its events and the controller's logs; {}",
                j.settings.timeout_secs,
                l.lb_name,
                behind.join("; "),
                service(j),
                j.old_service,
                j.namespace,
                next_commands(j)
            )));
        }
    }
}

/// `TCP-80 forwards to NAME 90, NAME 10`, with the journal's names.
fn describe_listener(listeners: &[ListenerForward], p: &Pair) -> String {
    let Some(f) = listeners
        .iter()
        .find(|f| f.port == p.port && f.protocol == p.protocol)
    else {
        return format!("listener {}-{} not found", p.protocol, p.port);
    };
    let name = |arn: &str| {
        if arn == p.own_arn {
            p.own_name.clone()
        } else if Some(arn) == p.twin_arn.as_deref() {
            p.twin_name.clone()
        } else {
            arn.to_string()
        }
    };
    let parts: Vec<String> = f
        .forward
        .iter()
        .map(|(arn, w)| match w {
            Some(w) => format!("{} {w}", name(arn)),
            None => name(arn),
        })
        .collect();
    format!(
        "listener {}-{} forwards to {}",
        p.protocol,
        p.port,
        parts.join(", ")
    )
}

/// What the listeners forward now, for progress lines and `status`.
pub(super) async fn live(ctx: &Context, j: &Journal) -> Result<String, Error> {
    let l = state(j)?;
    let listeners = ctx.aws.elbv2.listener_forwards(&l.lb_arn).await?;
    Ok(live_text(&listeners, l))
}

fn live_text(listeners: &[ListenerForward], l: &ListenerState) -> String {
    let shares: Vec<Option<u8>> = l.pairs.iter().map(|p| live_share(listeners, p)).collect();
    match shares.first() {
        Some(Some(s)) if shares.iter().all(|x| *x == Some(*s)) => {
            format!("DescribeListeners: own {} / twins {s}", 100 - s)
        }
        _ => {
            let each: Vec<String> = l
                .pairs
                .iter()
                .map(|p| describe_listener(listeners, p))
                .collect();
            format!("DescribeListeners: {}", each.join("; "))
        }
    }
}

fn live_share(listeners: &[ListenerForward], p: &Pair) -> Option<u8> {
    let f = listeners
        .iter()
        .find(|f| f.port == p.port && f.protocol == p.protocol)?;
    plan::share_on_twin(
        &f.forward,
        &p.own_arn,
        p.twin_arn.as_deref().unwrap_or("(none)"),
    )
}

/// The Service's target-group-attributes annotation: the new value
/// (`forward`), or exactly the original one. When the original had no
/// annotation, the LBC leaves an attribute it is no longer asked for as it
/// is, so the original value is also written to the own groups directly.
pub(super) async fn change_own(
    ctx: &Context,
    j: &Journal,
    forward: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let l = state(j)?;
    let value = if forward {
        Some(l.new_attributes.clone())
    } else {
        l.original_attributes.clone()
    };
    let patch = BTreeMap::from([(ATTRIBUTES_ANNOTATION.to_string(), value.clone())]);
    ctx.kube
        .patch_service_annotations(&j.namespace, &j.old_service, &patch)
        .await?;
    if value.is_none() {
        for p in &l.pairs {
            ctx.aws
                .elbv2
                .set_target_group_attribute(&p.own_arn, ATTRIBUTE, &l.original().to_string())
                .await?;
        }
    }
    let key = ATTRIBUTES_ANNOTATION.rsplit('/').next().unwrap_or_default();
    writeln!(
        out,
        "service/{}: {key} {}",
        j.old_service,
        match &value {
            Some(v) => format!("= {v}"),
            None => "removed, as it was".into(),
        }
    )?;
    Ok(())
}

pub(super) async fn wait_own(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    forward: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let l = state(&stored.journal)?;
    let arns: Vec<String> = l.pairs.iter().map(|p| p.own_arn.clone()).collect();
    let value = if forward { l.want } else { l.original() };
    let summary = wait_groups(
        ctx,
        ui,
        stored,
        arns,
        value,
        "the Service's own target groups",
    )
    .await?;
    writeln!(
        out,
        "the Service's own target groups show {ATTRIBUTE}={value}; targets: {summary}"
    )?;
    Ok(())
}

/// The `actions.*` annotations removed (confirmed: every listener forwards
/// to its own group alone), then the bindings (their finalizer deregisters
/// the targets) and the twins, each confirmed gone.
pub(super) async fn cleanup(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let l = state(j)?;
    ctx.kube
        .patch_service_annotations(&j.namespace, &j.old_service, &l.no_annotations())
        .await?;
    confirm(
        ctx,
        ui,
        j,
        "plain forwards to the own target groups",
        |f, p| matches!(f.forward.as_slice(), [(arn, _)] if *arn == p.own_arn),
    )
    .await?;
    for p in &l.pairs {
        ctx.kube.delete_binding(&j.namespace, &p.twin_name).await?;
    }
    wait_bindings_gone(ctx, ui, j, l).await?;
    for p in &l.pairs {
        if let Some(tg) = ctx.aws.elbv2.target_group(&p.twin_name).await? {
            check_ours(ctx, j, p, &tg.arn).await?;
            ctx.aws.elbv2.delete_target_group(&tg.arn).await?;
        }
        if ctx.aws.elbv2.target_group(&p.twin_name).await?.is_some() {
            return Err(Error::Invalid(format!(
                "target group {} is still there after its deletion; {}",
                p.twin_name,
                next_commands(j)
            )));
        }
    }
    writeln!(
        out,
        "the actions annotations, the twin target groups and their bindings are gone"
    )?;
    Ok(())
}

async fn wait_bindings_gone(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    l: &ListenerState,
) -> Result<(), Error> {
    let deadline = deadline_in(j.settings.timeout_secs);
    let progress = ui.spinner("waiting for the controller to release the twins' bindings");
    let mut backoff = Backoff::new(deadline, POLL_READY);
    loop {
        let mut left = Vec::new();
        for p in &l.pairs {
            if ctx
                .kube
                .binding_spec(&j.namespace, &p.twin_name)
                .await?
                .is_some()
            {
                left.push(p.twin_name.clone());
            }
        }
        if left.is_empty() {
            drop(progress);
            return Ok(());
        }
        if !backoff.next().await {
            return Err(timeout_error(
                j,
                &format!(
                    "the AWS Load Balancer Controller to release targetgroupbinding(s) {} (its finalizer deregisters their targets)",
                    left.join(", ")
                ),
            ));
        }
    }
}

/// After a failed gate: the journal already says where traffic goes back
/// (`Journal::roll_back`); write it, and say where clients are.
pub(super) async fn roll_back(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    reason: &str,
    out: &mut dyn Write,
) -> Result<Error, Error> {
    let l = state(j)?;
    let share = j.twin_share();
    apply_share(ctx, ui, j, share, out).await?;
    let (where_, value) = if share == 0 {
        ("the Service's own target groups", l.original())
    } else {
        ("the twin target groups", l.want)
    };
    Ok(Error::Aborted(format!(
        "rolled back: {reason}. Every new connection goes to {where_} ({ATTRIBUTE}={value}) again. Retry with `kubectl nlb cutover resume {svc} -n {ns}`, or undo with `kubectl nlb cutover abort {svc} -n {ns}`",
        svc = j.old_service,
        ns = j.namespace
    )))
}

/// The end of a run: read back what the Service's groups have.
pub(super) async fn finished(ctx: &Context, j: &Journal, out: &mut dyn Write) -> Result<(), Error> {
    let l = state(j)?;
    if !j.settings.finalize {
        let live = live(ctx, j).await?;
        writeln!(
            out,
            "switched: every new connection goes to the twin target groups ({ATTRIBUTE}={}; {live}) on NLB {}. Finish with `kubectl nlb cutover resume {svc} -n {ns} --finalize` (the Service's own target groups change while they carry nothing, then traffic moves back), or undo with `kubectl nlb cutover abort {svc} -n {ns}`",
            l.want,
            l.lb_name,
            svc = j.old_service,
            ns = j.namespace
        )?;
        return Ok(());
    }
    let own: Vec<String> = l.pairs.iter().map(|p| p.own_arn.clone()).collect();
    let groups = ctx.aws.elbv2.groups_by_arn(&own).await?;
    let shown: Vec<String> = groups
        .iter()
        .map(|g| {
            format!(
                "{} {ATTRIBUTE}={}",
                g.name,
                g.attributes
                    .get(ATTRIBUTE)
                    .map(String::as_str)
                    .unwrap_or("unset")
            )
        })
        .collect();
    ctx.kube
        .delete_config_map(&j.namespace, &journal_name(&j.old_service))
        .await?;
    writeln!(
        out,
        "done: service/{} serves every connection from its own target groups on the same NLB {} ({}); nothing the switch made remains",
        j.old_service,
        l.lb_name,
        shown.join(", ")
    )?;
    Ok(())
}

/// `abort`: every client back on a target group with the original value,
/// then everything the switch made removed (`switch::listener::abort_plan`).
pub(super) async fn undo(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let cleaning = Step::Cleanup.label();
    let j = &stored.journal;
    let cleaned = j.steps()[..j.done.min(j.steps().len())].contains(&Step::Cleanup);
    if cleaned || j.in_flight.as_deref() == Some(cleaning.as_str()) {
        let j = &stored.journal;
        return Err(Error::Invalid(format!(
            "the cutover of {} has reached its cleanup: the Service's own target groups already have the new value and carry every connection, and the twins are going. Finish it with `kubectl nlb cutover resume {} -n {}`, then cut over again with the original value to go back",
            service(j),
            j.old_service,
            j.namespace
        )));
    }
    stored.journal.note(now(), "abort began".into());
    stored.save(ctx).await?;
    let j = stored.journal.clone();
    let l = state(&j)?;
    let listeners = ctx.aws.elbv2.listener_forwards(&l.lb_arn).await?;
    let live: Option<Vec<u8>> = l.pairs.iter().map(|p| live_share(&listeners, p)).collect();
    let share = live
        .and_then(|s| s.into_iter().max())
        .unwrap_or_else(|| j.twin_share());
    let progress = Progress {
        twins_made: j.done > 0 || j.in_flight.is_some(),
        own_changed: j.own_changed(),
        share_on_twins: share,
    };
    for step in plan::abort_plan(progress) {
        match step {
            AbortStep::Share(s) => apply_share(ctx, ui, &j, s, out).await?,
            AbortStep::RestoreOwn => change_own(ctx, &j, false, out).await?,
            AbortStep::WaitOwn => wait_own(ctx, ui, stored, false, out).await?,
            AbortStep::Cleanup => cleanup(ctx, ui, &j, out).await?,
        }
    }
    ctx.kube
        .delete_config_map(&j.namespace, &journal_name(&j.old_service))
        .await?;
    writeln!(
        out,
        "aborted: service/{} serves every new connection from its own target groups with {ATTRIBUTE}={} again; nothing the switch made remains",
        j.old_service,
        l.original()
    )?;
    Ok(())
}

/// Whether a journal is a listener switch's.
pub(super) fn is_listener(j: &Journal) -> bool {
    j.via == Via::Listener
}

/// A listener step, for plans (`--dry-run=client` and the prompt).
pub(super) fn describe_step(j: &Journal, step: &Step, fmt: &dyn Fn(u64) -> String) -> String {
    let s = &j.settings;
    let Some(l) = &j.listener else {
        return step.label();
    };
    let twins: Vec<&str> = l.pairs.iter().map(|p| p.twin_name.as_str()).collect();
    let own: Vec<&str> = l.pairs.iter().map(|p| p.own_name.as_str()).collect();
    let soak = format!(
        "soak {} reading health every {}",
        fmt(s.soak_secs),
        fmt(s.interval_secs)
    );
    let annotation = |share: u8| {
        l.pairs
            .iter()
            .map(|p| {
                format!(
                    "{}={}",
                    plan::key(&p.protocol, p.port),
                    plan::value(&format!("<{}>", p.twin_name), share)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    match step {
        Step::CreateTwins => format!(
            "create target group(s) {} like {} but {ATTRIBUTE}={}, tagged {TAG_SERVICE}={}/{}, and a targetgroupbinding of the same name from the Service's port, with the networking rules the LBC gives that value",
            twins.join(", "),
            own.join(", "),
            l.want,
            j.namespace,
            j.old_service
        ),
        Step::WaitTwins => format!(
            "wait (≤{}) until AWS shows {ATTRIBUTE}={} on the twins and ≥{}% of their targets are healthy",
            fmt(s.timeout_secs),
            l.want,
            s.min_healthy_percent
        ),
        Step::ToTwins(w) => format!(
            "health gate on the twins, then annotate {}; wait until DescribeListeners shows own {} / twins {w}; {soak} (roll back to own 100 if the gate fails)",
            annotation(*w),
            100 - w
        ),
        Step::ChangeOwn => format!(
            "while the own groups carry no new connections: annotation {ATTRIBUTES_ANNOTATION} {:?} → {:?}",
            l.original_attributes.as_deref().unwrap_or("(none)"),
            l.new_attributes
        ),
        Step::WaitOwn => format!(
            "wait (≤{}) until AWS shows {ATTRIBUTE}={} on {} and ≥{}% of their targets are healthy",
            fmt(s.timeout_secs),
            l.want,
            own.join(", "),
            s.min_healthy_percent
        ),
        Step::BackToOwn(w) => format!(
            "health gate on the own groups, then annotate {}; wait until DescribeListeners shows own {w} / twins {}; {soak} (roll back to twins 100 if the gate fails)",
            annotation(100 - w),
            100 - w
        ),
        Step::Cleanup => format!(
            "remove the actions annotations (listeners forward to the own groups alone, confirmed), delete targetgroupbinding(s) {} and target group(s) {} (confirmed gone)",
            twins.join(", "),
            twins.join(", ")
        ),
        other => other.label(),
    }
}

/// `status` of a listener switch.
pub(super) fn status_lines(
    j: &Journal,
    at: u64,
    live: Result<String, String>,
) -> Vec<(String, String)> {
    let asked = j.twin_share();
    let asked_text = format!("own {} / twins {asked}", 100 - asked);
    let weights = match live {
        Ok(live) if live.ends_with(&asked_text) => live,
        Ok(live) => format!("{live} (the last finished step: {asked_text})"),
        Err(why) => format!("{asked_text} (the journal's; the listeners could not be read: {why})"),
    };
    let l = j.listener.as_ref();
    let switch = format!(
        "cutover --via listener of {}/{}: {ATTRIBUTE} {} → {}",
        j.namespace,
        j.old_service,
        l.map(|l| l.original().to_string()).unwrap_or_default(),
        l.map(|l| l.want.to_string()).unwrap_or_default()
    );
    let mut lines = super::head_status_lines(j, switch, weights);
    lines.extend([
        (
            "NLB".into(),
            format!(
                "{} ({})",
                l.map(|l| l.lb_name.as_str()).unwrap_or("?"),
                j.old_lb.dns_name
            ),
        ),
        (
            "Groups".into(),
            l.map(|l| {
                l.pairs
                    .iter()
                    .map(|p| {
                        format!(
                            "{}-{}: {} ↔ {}",
                            p.protocol, p.port, p.own_name, p.twin_name
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        ),
        super::gate_status_line(j),
    ]);
    lines.extend(super::common_status_lines(j, at));
    lines
}

/// What an abort will do, for its prompt and dry run.
pub(super) fn abort_summary(j: &Journal) -> String {
    let Some(l) = &j.listener else {
        return "nothing recorded".into();
    };
    let steps = plan::abort_plan(Progress {
        twins_made: j.done > 0 || j.in_flight.is_some(),
        own_changed: j.own_changed(),
        share_on_twins: j.twin_share(),
    });
    let text: Vec<String> = steps
        .iter()
        .map(|s| match s {
            AbortStep::Share(0) => "every new connection back to the own target groups".into(),
            AbortStep::Share(x) => format!("{x}% of new connections to the twins"),
            AbortStep::RestoreOwn => format!(
                "the own groups back to {ATTRIBUTE}={} (annotation as it was)",
                l.original()
            ),
            AbortStep::WaitOwn => "wait until AWS shows it and the targets are healthy".into(),
            AbortStep::Cleanup => {
                "remove the actions annotations, the twins and their bindings".into()
            }
        })
        .collect();
    if text.is_empty() {
        "nothing was made yet; forget the journal".into()
    } else {
        text.join(", then ")
    }
}
