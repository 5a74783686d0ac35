//! The engine's seam between "how far has traffic moved" and "how it
//! moves": each backend reads the live split, writes a split and confirms
//! it, and says what to gate on. The journal, gates, soak, rollback, resume
//! and abort around it are the engine's (`cmd::switch`).
//!
//! * DNS (`Via::Dns`): Route 53 weighted records between the old NLB and a
//!   parallel one; confirmed when the change is INSYNC.
//! * Listener (`Via::Listener`): listener weights between the Service's own
//!   target groups and twins on the same NLB, written through the LBC's
//!   `actions.*` annotation; confirmed when DescribeListeners shows them.

use super::{Context, Error, Journal, Step, Ui, apply, listener, new_lb, next_commands};
use crate::switch;
use std::io::Write;

/// What a step's gate reads.
pub enum GateOn {
    /// Every target group behind a load balancer (the DNS path's new NLB).
    Lb(String),
    /// These target groups (the listener path's twins, or own groups).
    Groups(Vec<String>),
}

impl GateOn {
    pub fn describe(&self) -> String {
        match self {
            GateOn::Lb(_) => "the new NLB".into(),
            GateOn::Groups(g) => format!("target group(s) {}", g.join(", ")),
        }
    }
}

/// Where the traffic of `step` goes, and so what must be healthy.
pub fn gate_on(j: &Journal, step: &Step) -> GateOn {
    let Some(l) = &j.listener else {
        return GateOn::Lb(j.new_lb_arn.clone().unwrap_or_default());
    };
    let arns = match step {
        Step::BackToOwn(_) | Step::WaitOwn => l.pairs.iter().map(|p| p.own_arn.clone()).collect(),
        _ => l.pairs.iter().filter_map(|p| p.twin_arn.clone()).collect(),
    };
    GateOn::Groups(arns)
}

/// Writes the split a traffic step asks for and waits until it is served.
pub async fn write(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    step: &Step,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match step {
        Step::Shift(weight) if j.via == crate::switch::journal::Via::ExternalDns => {
            super::xdns::shift(ctx, ui, j, *weight, out).await
        }
        Step::Shift(weight) => {
            let batch =
                switch::dns::shift(&j.original_records, &j.old_lb, new_lb(j)?, &j.ids, *weight);
            let what = format!("weights old {} / new {weight}", 100 - weight);
            apply(ctx, ui, j, &what, &batch, out).await
        }
        Step::ToTwins(w) => listener::apply_share(ctx, ui, j, *w, out).await,
        Step::BackToOwn(w) => listener::apply_share(ctx, ui, j, 100 - w, out).await,
        other => Err(Error::Invalid(format!(
            "{} moves no traffic; {}",
            other.label(),
            next_commands(j)
        ))),
    }
}

/// The soak's spinner text.
pub fn soak_label(step: &Step) -> String {
    match step {
        Step::Shift(w) => format!("{w}%"),
        Step::ToTwins(w) => format!("{w}% on the twins"),
        Step::BackToOwn(w) => format!("{w}% back on the own target groups"),
        other => other.label(),
    }
}

/// The progress line once a step's soak held.
pub fn done_label(step: &Step) -> String {
    match step {
        Step::Shift(w) => format!("{w}% on the new NLB"),
        Step::ToTwins(w) => format!("{w}% of new connections on the twin target groups"),
        Step::BackToOwn(w) => format!("{w}% of new connections back on the own target groups"),
        other => other.label(),
    }
}
