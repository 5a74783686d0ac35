//! The external-dns backend of the engine: the weighted records are the
//! DNS path's, but external-dns writes them from annotations on the two
//! Services (`switch::xdns` decides the order); each change is confirmed
//! in Route 53 before the next one is made.

use super::{Backoff, Context, Error, Journal, POLL_READY, Ui, current_records, next_commands};
use crate::model::DnsRecord;
use crate::switch::xdns::{self as plan, Change, Expect, Names, Side, XdnsState};
use std::collections::BTreeMap;
use std::io::Write;

fn state(j: &Journal) -> Result<&XdnsState, Error> {
    j.external_dns.as_ref().ok_or_else(|| {
        Error::Invalid(format!(
            "the journal of {}/{} has no external-dns plan: it was edited; {}",
            j.namespace,
            j.old_service,
            next_commands(j)
        ))
    })
}

fn names<'a>(j: &'a Journal, x: &'a XdnsState) -> Names<'a> {
    Names {
        keys: &x.keys,
        hostname: &x.hostname,
        old_id: &j.ids.old,
        new_id: &j.ids.new,
    }
}

fn service_of(j: &Journal, side: Side) -> &str {
    match side {
        Side::Old => &j.old_service,
        Side::New => &j.new_service,
    }
}

/// Patches one Service, then waits until Route 53 shows what the change
/// asks for, or what a later one of the same sequence does (a step that
/// resumes after its changes already landed).
async fn apply(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    changes: &[Change],
    out: &mut dyn Write,
) -> Result<(), Error> {
    for (i, c) in changes.iter().enumerate() {
        let svc = service_of(j, c.side);
        ctx.kube
            .patch_service_annotations(&j.namespace, svc, &c.annotations)
            .await?;
        let accept: Vec<&Expect> = changes[i..].iter().map(|c| &c.expect).collect();
        wait(ctx, ui, j, &accept, &format!("service/{svc} annotated")).await?;
        writeln!(
            out,
            "service/{svc} annotated; Route 53 shows {}",
            plan::describe(&c.expect)
        )?;
    }
    Ok(())
}

/// How long external-dns may take over one change: `wait_secs` (from its
/// interval) or `--timeout`, whichever is shorter.
fn limit(j: &Journal, x: &XdnsState) -> u64 {
    x.wait_secs.min(j.settings.timeout_secs)
}

/// Reads the switch's records until `done` holds: `None` then, or the
/// records last read when external-dns took longer than `limit`.
async fn poll(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    x: &XdnsState,
    spinner: &str,
    done: impl Fn(&[DnsRecord]) -> bool,
) -> Result<Option<Vec<DnsRecord>>, Error> {
    let progress = ui.spinner(spinner);
    let mut backoff = Backoff::new(super::deadline_in(limit(j, x)), POLL_READY);
    loop {
        let current = current_records(ctx, j).await?;
        if done(&current) {
            drop(progress);
            return Ok(None);
        }
        if !backoff.next().await {
            return Ok(Some(current));
        }
    }
}

/// Polls Route 53 until one of `accept` shows.
async fn wait(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    accept: &[&Expect],
    what: &str,
) -> Result<(), Error> {
    let x = state(j)?;
    let want = plan::describe(accept[0]);
    let spinner = format!("{what}: waiting for external-dns to write {want}");
    let seen = |current: &[DnsRecord]| {
        accept.iter().any(|e| {
            plan::shows(
                e,
                &j.original_records,
                current,
                &j.ids,
                &j.old_lb,
                j.new_lb.as_ref(),
            )
        })
    };
    let Some(current) = poll(ctx, ui, j, x, &spinner, seen).await? else {
        return Ok(());
    };
    let live = crate::switch::dns::live(&j.original_records, &current, &j.ids, j.new_lb.as_ref());
    Err(Error::Timeout(format!(
        "timed out after {}s waiting for external-dns (deployment {}) to write {want} for {} (Route 53 holds: {live}); read its logs with `kubectl logs -n {} deploy/{}`; {}",
        limit(j, x),
        x.deployment,
        x.hostname,
        x.deployment.split('/').next().unwrap_or_default(),
        x.deployment.rsplit('/').next().unwrap_or_default(),
        next_commands(j)
    )))
}

pub(super) async fn convert(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let x = state(j)?;
    apply(ctx, ui, j, &plan::convert(&names(j, x)), out).await
}

pub(super) async fn shift(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    to: u8,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let x = state(j)?;
    let from = j.weight().unwrap_or(0);
    apply(ctx, ui, j, &plan::shift(&names(j, x), from, to), out).await
}

pub(super) async fn collapse(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let x = state(j)?;
    let w = j.weight().unwrap_or(100);
    apply(ctx, ui, j, &plan::collapse(&names(j, x), w), out).await
}

/// Both weights back to old 100 / new 0 at once: whichever external-dns
/// applies first, every state in between is a valid weighted pair.
pub(super) async fn roll_back(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let x = state(j)?;
    let k = &x.keys;
    for (svc, w) in [(&j.new_service, "0"), (&j.old_service, "100")] {
        let patch = BTreeMap::from([(k.weight(), Some(w.to_string()))]);
        ctx.kube
            .patch_service_annotations(&j.namespace, svc, &patch)
            .await?;
    }
    wait(ctx, ui, j, &[&Expect::Pair(100, 0)], "rolling back").await?;
    writeln!(
        out,
        "rolled back through external-dns: Route 53 shows weights old 100 / new 0"
    )?;
    Ok(())
}

/// The abort: the new Service lets go of the name (confirmed: no record of
/// its identifier left), then the old one gets its annotations exactly as
/// they were, and Route 53 shows the original record again.
pub(super) async fn restore(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let x = state(j)?;
    let current = current_records(ctx, j).await?;
    let old_asks = current
        .iter()
        .any(|r| r.set_identifier.as_deref() == Some(j.ids.old.as_str()));
    let new_answers = current.iter().any(|r| {
        r.set_identifier.as_deref() == Some(j.ids.new.as_str())
            || j.new_lb.as_ref().is_some_and(|lb| {
                r.set_identifier.is_none()
                    && r.targets()
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(lb.dns_name.trim_end_matches('.')))
            })
    });
    if !old_asks && new_answers {
        // The collapse began: the old Service asks again before the new
        // one lets go, so the name is never unanswered.
        apply(ctx, ui, j, &plan::reclaim(&names(j, x)), out).await?;
    }
    let changes = plan::restore(&names(j, x), &x.original, 100);
    let new_exists = ctx
        .kube
        .service_object(&j.namespace, &j.new_service)
        .await?
        .is_some();
    if new_exists {
        ctx.kube
            .patch_service_annotations(&j.namespace, &j.new_service, &changes[0].annotations)
            .await?;
    }
    wait_until(ctx, ui, j, "the new Service's records gone", |current| {
        !current
            .iter()
            .any(|r| r.set_identifier.as_deref() == Some(j.ids.new.as_str()))
    })
    .await?;
    ctx.kube
        .patch_service_annotations(&j.namespace, &j.old_service, &changes[1].annotations)
        .await?;
    wait(
        ctx,
        ui,
        j,
        &[&Expect::Original],
        "restoring the old Service's annotations",
    )
    .await?;
    writeln!(
        out,
        "original annotations restored; external-dns wrote the original record back"
    )?;
    Ok(())
}

async fn wait_until(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    what: &str,
    done: impl Fn(&[DnsRecord]) -> bool,
) -> Result<(), Error> {
    let x = state(j)?;
    let spinner = format!("waiting for external-dns: {what}");
    match poll(ctx, ui, j, x, &spinner, done).await? {
        None => Ok(()),
        Some(_) => Err(Error::Timeout(format!(
            "timed out after {}s waiting for external-dns (deployment {}): {what}; {}",
            limit(j, x),
            x.deployment,
            next_commands(j)
        ))),
    }
}

/// Whether a journal moves its records through external-dns.
pub(super) fn is_xdns(j: &Journal) -> bool {
    j.via == crate::switch::journal::Via::ExternalDns
}

/// A step of a switch through external-dns, for plans: each annotation
/// change and what Route 53 must show after it.
pub(super) fn describe_step(j: &Journal, step: &crate::switch::Step) -> Option<String> {
    use crate::switch::Step;
    let x = j.external_dns.as_ref()?;
    let n = names(j, x);
    let changes = match step {
        Step::Convert => plan::convert(&n),
        Step::Shift(w) => {
            let steps = j.steps();
            let i = steps.iter().position(|s| s == step)?;
            let from = steps[..i]
                .iter()
                .rev()
                .find_map(|s| match s {
                    Step::Shift(p) => Some(*p),
                    _ => None,
                })
                .unwrap_or(0);
            plan::shift(&n, from, *w)
        }
        Step::Collapse => plan::collapse(&n, j.settings.weights.last().copied().unwrap_or(100)),
        _ => return None,
    };
    let text: Vec<String> = changes
        .iter()
        .map(|c| {
            let set: Vec<String> = c
                .annotations
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => format!("{k}-"),
                })
                .collect();
            format!(
                "annotate service/{} {} → Route 53 shows {}",
                service_of(j, c.side),
                set.join(" "),
                plan::describe(&c.expect)
            )
        })
        .collect();
    Some(format!(
        "through external-dns ({}, waits ≤{}s each): {}",
        x.deployment,
        x.wait_secs.min(j.settings.timeout_secs),
        text.join("; then ")
    ))
}
