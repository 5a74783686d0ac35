//! `kubectl nlb audit`: read-only report of every LoadBalancer Service.

use crate::cli::{AuditArgs, AuditOutput, GlobalArgs};
use crate::context::Context;
use crate::error::Error;
use crate::k8s::Scope;
use crate::ui::{Ui, render};
use crate::{audit, observe};
use std::io::Write;

pub async fn run(global: &GlobalArgs, args: &AuditArgs, ui: &Ui) -> Result<(), Error> {
    let ctx = Context::build(global).await?;
    let scope = if args.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(ctx.namespace.clone())
    };
    let snap = {
        let progress = ui.spinner("reading the cluster");
        let depth = observe::Depth {
            zones: args.zones.clone(),
            target_details: !args.shallow,
        };
        observe::snapshot(&ctx, &scope, &depth, &progress).await?
    };
    let report = audit::audit(&snap);
    if report.services.is_empty() {
        match &scope {
            Scope::Namespace(ns) => {
                eprintln!("No Services of type LoadBalancer found in namespace {ns}.")
            }
            Scope::All => eprintln!("No Services of type LoadBalancer found."),
        }
    }
    let mut out = std::io::stdout().lock();
    match args.output {
        AuditOutput::Table => render::audit_table(&mut out, &report, ui.color, false)?,
        AuditOutput::Wide => render::audit_table(&mut out, &report, ui.color, true)?,
        AuditOutput::Json => render::json(&mut out, &report)?,
        AuditOutput::Yaml => render::yaml(&mut out, &report)?,
    }
    out.flush()?;
    Ok(())
}
