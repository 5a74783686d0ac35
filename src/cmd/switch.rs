//! Runs a switch journal against the cluster and AWS: the I/O half of
//! `crate::switch`, shared by `cutover` and `migrate`.
//!
//! Order of every step: journal "began" → act → journal "done". Each action
//! first looks at what is already there (the Service, the records in Route
//! 53), so re-running a step that was interrupted is always safe.

use crate::aws::route53::Zone;
use crate::cli::{AbortArgs, GlobalArgs, Output, ResumeArgs, SwitchRef};
use crate::context::Context;
use crate::error::Error;
use crate::model::{DnsRecord, LoadBalancer};
use crate::switch::{self, Change, Journal, LbTarget, Reading, Step};
use crate::ui::{Ui, render};
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

mod listener;
mod traffic;
mod xdns;

pub use listener::start as start_listener;
use traffic::GateOn;

/// Names the Service a switch moved away from, on the new Service.
pub const PROVENANCE: &str = "nlb.kubectl.io/switched-from";
const JOURNAL_KEY: &str = "journal.json";
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Polling while waiting for a Service or NLB to come up: quick at first
/// (the controller often answers within a second), then every 2 s.
const POLL_READY_FIRST: Duration = Duration::from_millis(250);
const POLL_READY: Duration = Duration::from_secs(2);

/// The polls of one wait: quick at first, doubling up to `max`, and none
/// that would come after the deadline.
struct Backoff {
    pause: Duration,
    max: Duration,
    deadline: Instant,
}

impl Backoff {
    fn new(deadline: Instant, max: Duration) -> Backoff {
        Backoff {
            pause: POLL_READY_FIRST,
            max,
            deadline,
        }
    }

    /// Sleeps until the next poll; `false`, without sleeping, when that
    /// poll would come after the deadline: the wait has timed out.
    async fn next(&mut self) -> bool {
        if Instant::now() + self.pause > self.deadline {
            return false;
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(self.max);
        true
    }
}

pub fn journal_name(old_service: &str) -> String {
    format!("kubectl-nlb-switch-{old_service}")
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The journal as stored, with the resourceVersion it was read at so that
/// two processes never both drive one switch.
pub struct Stored {
    pub journal: Journal,
    resource_version: Option<String>,
    /// When the new NLB's `initial` targets were first seen, in this run.
    joining: switch::gate::Joining,
    /// The last time this run found the records as it wrote them, and the
    /// new NLB's weight then: the next step need not read them again at once.
    checked: Option<(Instant, u8)>,
}

pub async fn load(ctx: &Context, ns: &str, old_service: &str) -> Result<Option<Stored>, Error> {
    let name = journal_name(old_service);
    match ctx.kube.config_map(ns, &name).await? {
        Some(cm) => from_config_map(ns, old_service, cm).map(Some),
        None => Ok(None),
    }
}

/// The journal a ConfigMap holds; every verb reads it here, so a damaged one
/// gets the same message, with the way out, everywhere (qa D-M3).
fn from_config_map(ns: &str, old_service: &str, cm: ConfigMap) -> Result<Stored, Error> {
    let name = journal_name(old_service);
    let by_hand = format!(
        "the records stay as they are until then; a switch's weighted records carry SetIdentifiers beginning `kubectl-nlb:{ns}/{old_service}`, should you restore them by hand"
    );
    let Some(text) = cm.data.as_ref().and_then(|d| d.get(JOURNAL_KEY)) else {
        return Err(Error::Invalid(format!(
            "configmap {ns}/{name} has no {JOURNAL_KEY}: it was not written by kubectl nlb, or was edited. If no switch of service {ns}/{old_service} is running, delete it with `kubectl delete configmap {name} -n {ns}`; if one was, {by_hand}"
        )));
    };
    let journal = switch::journal::parse(text).map_err(|e| {
        let fix = match e {
            switch::journal::Unreadable::Newer { .. } => {
                "then run the same command again".to_string()
            }
            _ => format!(
                "repair it with `kubectl edit configmap {name} -n {ns}` (key {JOURNAL_KEY}) and run the command again; {by_hand}"
            ),
        };
        Error::Invalid(format!(
            "configmap {ns}/{name} holds the journal of a switch of service {ns}/{old_service}, but {e}; {fix}"
        ))
    })?;
    Ok(Stored {
        journal,
        resource_version: cm.metadata.resource_version,
        joining: Default::default(),
        checked: None,
    })
}

impl Stored {
    pub fn new(journal: Journal) -> Stored {
        Stored {
            journal,
            resource_version: None,
            joining: Default::default(),
            checked: None,
        }
    }

    /// Writes the journal; a conflict means another process wrote it since.
    pub async fn save(&mut self, ctx: &Context) -> Result<(), Error> {
        if let Some(d) = self.journal.driver.as_mut()
            && d.id == me()
        {
            d.seen = now();
        }
        let j = &self.journal;
        let name = journal_name(&j.old_service);
        let text = serde_json::to_string_pretty(j)
            .map_err(|e| Error::Invalid(format!("encoding the journal: {e}")))?;
        let cm = ConfigMap {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(j.namespace.clone()),
                resource_version: self.resource_version.clone(),
                labels: Some(BTreeMap::from([(
                    MANAGED_BY.to_string(),
                    "kubectl-nlb".to_string(),
                )])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(JOURNAL_KEY.to_string(), text)])),
            ..Default::default()
        };
        let written = match ctx.kube.write_config_map(&cm).await {
            Ok(w) => w,
            // 409: written by another since it was read; 404 on a replace:
            // deleted since (an abort ends by deleting it).
            Err(crate::k8s::KubeError::Api { code, .. })
                if code == 409 || (code == 404 && self.resource_version.is_some()) =>
            {
                return Err(self.conflict(ctx).await);
            }
            Err(e) => return Err(e.into()),
        };
        self.resource_version = written.metadata.resource_version;
        Ok(())
    }

    /// Before a Route 53 write: the journal must still be the one this
    /// process last wrote. An abort journals itself first, so a driver never
    /// writes records under an abort's restore, nor fails on them after it.
    async fn fence(&self, ctx: &Context) -> Result<(), Error> {
        let j = &self.journal;
        let current = ctx
            .kube
            .config_map(&j.namespace, &journal_name(&j.old_service))
            .await?;
        match current {
            Some(cm) if cm.metadata.resource_version == self.resource_version => Ok(()),
            _ => Err(self.conflict(ctx).await),
        }
    }

    /// Why the journal changed under this process: an abort (it then stops
    /// here, qa D-M2), or another driver.
    async fn conflict(&self, ctx: &Context) -> Error {
        let j = &self.journal;
        if was_aborted(ctx, j).await {
            return Error::Aborted(format!(
                "the {} of {}/{} was aborted while this process drove it; it stopped here and changed nothing more",
                j.kind.command(),
                j.namespace,
                j.old_service
            ));
        }
        Error::Invalid(format!(
            "configmap {}/{} changed under us: another kubectl nlb is driving this switch (or one started first); see `kubectl nlb {} status {} -n {}`",
            j.namespace,
            journal_name(&j.old_service),
            j.kind.command(),
            j.old_service,
            j.namespace
        ))
    }

    /// Keeps this process's lease on the switch fresh during long waits.
    async fn heartbeat(&mut self, ctx: &Context) -> Result<(), Error> {
        let stale = self
            .journal
            .driver
            .as_ref()
            .is_some_and(|d| d.id == me() && now().saturating_sub(d.seen) >= 15);
        if stale { self.save(ctx).await } else { Ok(()) }
    }

    /// Takes the lease: this process drives the switch from now on.
    fn take_lease(&mut self) {
        self.journal.driver = Some(switch::journal::Driver {
            id: me().to_string(),
            host: host(),
            pid: std::process::id(),
            seen: now(),
        });
    }

    async fn begin(&mut self, ctx: &Context, step: &Step) -> Result<(), Error> {
        self.journal.begin(step, now());
        self.save(ctx).await?;
        fault_point(&step.label(), "began");
        Ok(())
    }

    async fn finish(&mut self, ctx: &Context, step: &Step) -> Result<(), Error> {
        self.journal.finish(step, now());
        self.save(ctx).await?;
        fault_point(&step.label(), "done");
        Ok(())
    }
}

/// This machine's name, to tell whether a driver's pid can be checked here.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Whether a process of this machine is running (a crashed driver leaves
/// its lease behind; a pid that is gone frees it).
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// This process, as a journal's driver.
fn me() -> &'static str {
    static ME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ME.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("{}-{nanos:x}", std::process::id())
    })
}

/// Test hook: `KUBECTL_NLB_FAULT_EXIT_AT=shift-50:began` makes the process
/// die right after journalling that point, as `kill -9` would, so tests can
/// prove `resume` and `abort` work from every step boundary.
fn fault_point(label: &str, status: &str) {
    if let Ok(at) = std::env::var("KUBECTL_NLB_FAULT_EXIT_AT")
        && at == format!("{label}:{status}")
    {
        eprintln!("KUBECTL_NLB_FAULT_EXIT_AT={at}: exiting");
        std::process::exit(137);
    }
}

/// The commands that continue or undo a switch, for messages.
pub fn next_commands(j: &Journal) -> String {
    let cmd = j.kind.command();
    format!(
        "continue with `kubectl nlb {cmd} resume {svc} -n {ns}`, or undo with `kubectl nlb {cmd} abort {svc} -n {ns}`",
        svc = j.old_service,
        ns = j.namespace
    )
}

fn zone(j: &Journal) -> Zone {
    Zone {
        id: j.zone_id.clone(),
        name: j.zone_name.clone(),
    }
}

fn secs(d: u64) -> Duration {
    Duration::from_secs(d)
}

/// Runs every remaining step. Ctrl-C stops between polls; what is journalled
/// stays, and the message says how to go on.
pub async fn drive(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    stored.take_lease();
    let result = tokio::select! {
        r = steps(ctx, ui, stored, out) => r,
        why = crate::ui::stop_requested() => Err(Error::Aborted(format!(
            "{why} during {}; nothing was rolled back: {}",
            stored_phase(ctx, &stored.journal.old_service, &stored.journal.namespace).await,
            next_commands(&stored.journal)
        ))),
    };
    release_lease(ctx, stored).await;
    // An error met after an abort began (a record the restore put back, a
    // Service it deleted) is the abort's doing: say so, not how to resume.
    let result = match result {
        Err(Error::Kube(_) | Error::Aws(_)) if was_aborted(ctx, &stored.journal).await => {
            Err(stored.conflict(ctx).await)
        }
        other => other,
    };
    // A Kubernetes or AWS error mid-switch leaves a journalled, resumable
    // state: say where it stopped and how to go on, not only what failed.
    result.map_err(|e| match e {
        Error::Kube(_) | Error::Aws(_) => Error::Invalid(format!(
            "{e}. The switch stopped at {}; {}",
            stored.journal.phase(),
            next_commands(&stored.journal)
        )),
        other => other,
    })
}

/// The journal is gone, or says an abort began.
async fn was_aborted(ctx: &Context, j: &Journal) -> bool {
    match load(ctx, &j.namespace, &j.old_service).await {
        Ok(None) => true,
        Ok(Some(s)) => s.journal.aborting(),
        Err(_) => false,
    }
}

/// Gives the switch up when this process stops driving it, if its journal
/// is still there and still names this process; best effort.
async fn release_lease(ctx: &Context, stored: &mut Stored) {
    let j = &stored.journal;
    let ours = j.driver.as_ref().is_some_and(|d| d.id == me());
    if !ours {
        return;
    }
    if let Ok(Some(fresh)) = load(ctx, &j.namespace, &j.old_service).await
        && fresh.journal.driver.as_ref().is_some_and(|d| d.id == me())
        && fresh.resource_version == stored.resource_version
    {
        stored.journal.driver = None;
        let _ = stored.save(ctx).await;
    }
}

async fn stored_phase(ctx: &Context, svc: &str, ns: &str) -> String {
    match load(ctx, ns, svc).await {
        Ok(Some(s)) => s.journal.phase(),
        _ => "the switch".into(),
    }
}

async fn steps(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    while let Some(step) = stored.journal.next() {
        stored.begin(ctx, &step).await?;
        if step != Step::CreateService {
            sync_mirror(ctx, &stored.journal).await?;
        }
        match &step {
            Step::CreateService => {
                create_service(ctx, &stored.journal, out).await?;
                sync_mirror(ctx, &stored.journal).await?;
            }
            Step::WaitReady => wait_ready(ctx, ui, stored, out).await?,
            Step::Convert => convert(ctx, ui, stored, out).await?,
            Step::Shift(_) | Step::ToTwins(_) | Step::BackToOwn(_) => {
                shift(ctx, ui, stored, &step, out).await?
            }
            Step::CreateTwins => listener::create_twins(ctx, stored, out).await?,
            Step::WaitTwins => listener::wait_twins(ctx, ui, stored, out).await?,
            Step::ChangeOwn => listener::change_own(ctx, &stored.journal, true, out).await?,
            Step::WaitOwn => listener::wait_own(ctx, ui, stored, true, out).await?,
            Step::Cleanup => listener::cleanup(ctx, ui, &stored.journal, out).await?,
            Step::Collapse => collapse(ctx, ui, stored, out).await?,
            Step::Drain => drain(ctx, ui, stored, out).await?,
            Step::DeleteOld => {
                check_collapsed(ctx, &stored.journal).await?;
                delete_old(ctx, ui, &stored.journal, out).await?
            }
        }
        stored.finish(ctx, &step).await?;
    }
    let j = &stored.journal;
    if j.via == switch::journal::Via::Listener {
        return listener::finished(ctx, j, out).await;
    }
    if j.original_records.is_empty() {
        // Nothing of ours to resume or undo: the new Service is the result.
        ctx.kube
            .delete_config_map(&j.namespace, &journal_name(&j.old_service))
            .await?;
        writeln!(
            out,
            "service/{} is ready at {}. No Route 53 record pointed at the old NLB, so clients use its hostname and no traffic was moved: point them at the new hostname, then delete service/{}",
            j.new_service,
            j.new_lb
                .as_ref()
                .map(|l| l.dns_name.as_str())
                .unwrap_or("?"),
            j.old_service
        )?;
    } else if j.settings.finalize {
        ctx.kube
            .delete_config_map(&j.namespace, &journal_name(&j.old_service))
            .await?;
        writeln!(
            out,
            "done: clients use {}/{}; the old Service and its NLB are gone",
            j.namespace, j.new_service
        )?;
        if j.mirror_endpoints {
            writeln!(
                out,
                "service/{new} has no selector: its endpoints are the copy this switch kept (labelled {}={}); whatever kept {}'s endpoints must keep {new}'s from now on",
                switch::mirror::MANAGED_BY,
                switch::mirror::OURS,
                j.old_service,
                new = j.new_service
            )?;
        }
    } else {
        writeln!(
            out,
            "switched: 100% of DNS answers go to {}/{}. When clients have left the old NLB, finish with `kubectl nlb {} resume {} -n {} --finalize` (or undo with `kubectl nlb {} abort {} -n {}`)",
            j.namespace,
            j.new_service,
            j.kind.command(),
            j.old_service,
            j.namespace,
            j.kind.command(),
            j.old_service,
            j.namespace
        )?;
    }
    Ok(())
}

/// Copies the old Service's endpoints to the new one, when it has no
/// selector (`switch::mirror`): before every step and every health poll, so
/// the copy follows whatever keeps the originals.
async fn sync_mirror(ctx: &Context, j: &Journal) -> Result<(), Error> {
    if !j.mirror_endpoints {
        return Ok(());
    }
    let Some(new) = ctx
        .kube
        .service_object(&j.namespace, &j.new_service)
        .await?
    else {
        return Ok(());
    };
    let owner = switch::mirror::owner(
        &j.new_service,
        new.metadata.uid.as_deref().unwrap_or_default(),
    );
    let (old_slices, old_endpoints) = tokio::try_join!(
        ctx.kube.endpoint_slices_of(&j.namespace, &j.old_service),
        ctx.kube.endpoints_object(&j.namespace, &j.old_service),
    )?;
    let slices = switch::mirror::slices(&old_slices, &j.namespace, &j.new_service, &owner);
    let endpoints =
        switch::mirror::endpoints(old_endpoints.as_ref(), &j.namespace, &j.new_service, &owner);
    ctx.kube
        .apply_mirror(&j.namespace, &j.new_service, &slices, endpoints.as_ref())
        .await?;
    Ok(())
}

async fn create_service(ctx: &Context, j: &Journal, out: &mut dyn Write) -> Result<(), Error> {
    if let Some(existing) = ctx
        .kube
        .service_object(&j.namespace, &j.new_service)
        .await?
    {
        return ensure_ours(&existing, j);
    }
    let svc: Service = serde_json::from_value(j.new_manifest.clone())
        .map_err(|e| Error::Invalid(format!("the journalled Service cannot be read: {e}")))?;
    match ctx.kube.create_service(&svc).await? {
        Some(_) => writeln!(out, "service/{} created", j.new_service)?,
        None => {
            // Created between our read and write: only ours is acceptable.
            if let Some(existing) = ctx
                .kube
                .service_object(&j.namespace, &j.new_service)
                .await?
            {
                ensure_ours(&existing, j)?;
            }
        }
    }
    Ok(())
}

fn ensure_ours(svc: &Service, j: &Journal) -> Result<(), Error> {
    // Each command marks what it creates with its own provenance annotation.
    let key = match j.kind {
        switch::Kind::Cutover => PROVENANCE,
        switch::Kind::Migrate => crate::translate::MIGRATED_FROM,
    };
    let from = svc.metadata.annotations.as_ref().and_then(|a| a.get(key));
    if from.map(String::as_str) == Some(&format!("{}/{}", j.namespace, j.old_service)) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "service {}/{} exists and was not created by this switch; pick another name with --new-name",
            j.namespace, j.new_service
        )))
    }
}

/// The new Service's NLB, once the controller has written its hostname.
async fn new_load_balancer(ctx: &Context, j: &Journal) -> Result<Option<LoadBalancer>, Error> {
    let Some(svc) = ctx
        .kube
        .service_object(&j.namespace, &j.new_service)
        .await?
    else {
        return Err(Error::Invalid(format!(
            "service {}/{} disappeared during the switch; {}",
            j.namespace,
            j.new_service,
            next_commands(j)
        )));
    };
    let host = crate::k8s::service_info(&svc)
        .ingress_hostnames
        .into_iter()
        .next();
    match host {
        Some(host) => Ok(ctx.aws.elbv2.load_balancer_by_dns(&host).await?),
        None => Ok(None),
    }
}

/// The gate's rule for this switch.
fn rule(j: &Journal) -> switch::gate::Rule {
    switch::gate::Rule {
        min_healthy_percent: j.settings.min_healthy_percent,
        initial_grace_secs: j.settings.initial_grace_secs,
    }
}

/// Reads the gate for an NLB's target groups, or for named ones: 1 +
/// O(target groups) calls. An NLB or target group that no longer exists is
/// a closed gate, not an error: the switch must roll back rather than leave
/// traffic on it.
async fn gate(
    ctx: &Context,
    on: &GateOn,
    rule: switch::gate::Rule,
    joining: &mut switch::gate::Joining,
) -> Result<Reading, Error> {
    let read = async {
        let mut groups = match on {
            GateOn::Lb(arn) => ctx.aws.elbv2.groups_behind(arn).await?,
            GateOn::Groups(arns) => ctx.aws.elbv2.groups_by_arn(arns).await?,
        };
        let plain: Vec<(String, String)> = groups
            .iter()
            .map(|g| (g.name.clone(), g.arn.clone()))
            .collect();
        for (g, (_, targets)) in groups
            .iter_mut()
            .zip(ctx.aws.elbv2.health_of(&plain).await?)
        {
            g.targets = targets;
        }
        Ok::<_, crate::aws::AwsError>(groups)
    };
    let groups = match read.await {
        Ok(groups) => groups,
        Err(e) if e.is_not_found() => {
            return Ok(Reading {
                ok: false,
                groups: Vec::new(),
                reason: Some(format!("{} cannot be read any more: {e}", on.describe())),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let view: Vec<switch::gate::Group> = groups.iter().map(switch::gate::Group::of).collect();
    joining.observe(&view, now());
    Ok(switch::gate::read(&view, rule, joining, now()))
}

fn timeout_error(j: &Journal, what: &str) -> Error {
    Error::Timeout(format!(
        "timed out after {}s waiting for {what}; {}",
        j.settings.timeout_secs,
        next_commands(j)
    ))
}

async fn wait_ready(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let deadline = deadline_in(stored.journal.settings.timeout_secs);
    let progress = ui.spinner(&format!(
        "waiting for service/{} to get its NLB",
        stored.journal.new_service
    ));
    let mut last_problem: String;
    let mut backoff = Backoff::new(deadline, POLL_READY);
    loop {
        stored.heartbeat(ctx).await?;
        let j = &stored.journal;
        sync_mirror(ctx, j).await?;
        match poll_ready(ctx, j, &mut stored.joining).await {
            Ok(Ready::Yes(lb, reading)) => {
                let summary = reading.summary();
                let j = &mut stored.journal;
                j.new_lb = Some(LbTarget {
                    dns_name: lb.dns_name.clone(),
                    canonical_hosted_zone_id: lb
                        .canonical_hosted_zone_id
                        .clone()
                        .unwrap_or_default(),
                });
                j.new_lb_arn = Some(lb.arn.clone());
                j.last_gate = Some(reading);
                drop(progress);
                writeln!(out, "new NLB {} is active; targets: {summary}", lb.dns_name)?;
                return Ok(());
            }
            Ok(Ready::No(problem)) => {
                progress.set_message(format!("service/{}: {problem}", j.new_service));
                last_problem = problem;
            }
            // A failed read is not evidence either way: try again until the deadline.
            Err(e) => {
                tracing::info!("reading the new NLB: {e}");
                last_problem = e.to_string();
            }
        }
        if !backoff.next().await {
            return Err(timeout_error(
                &stored.journal,
                &format!("service/{} ({last_problem})", stored.journal.new_service),
            ));
        }
    }
}

enum Ready {
    Yes(Box<LoadBalancer>, Reading),
    No(String),
}

async fn poll_ready(
    ctx: &Context,
    j: &Journal,
    joining: &mut switch::gate::Joining,
) -> Result<Ready, Error> {
    let Some(lb) = new_load_balancer(ctx, j).await? else {
        return Ok(Ready::No(
            "waiting for the controller to provision its NLB".into(),
        ));
    };
    let state = lb.state.clone().unwrap_or_default();
    if state != "active" {
        return Ok(Ready::No(format!("NLB {} is {state}", lb.name)));
    }
    if lb.canonical_hosted_zone_id.is_none() {
        return Ok(Ready::No(format!(
            "NLB {} has no canonical hosted zone yet",
            lb.name
        )));
    }
    let groups = ctx.aws.elbv2.target_groups_of(&lb.arn).await?;
    // The attributes the switch exists for must be live before any traffic
    // moves: the controller writes them after creating the target groups.
    let annotations: BTreeMap<String, String> =
        serde_json::from_value(j.new_manifest["metadata"]["annotations"].clone())
            .unwrap_or_default();
    let ports: BTreeMap<String, i32> = if switch::expect::has_port_overrides(&annotations) {
        ctx.aws
            .elbv2
            .listener_targets(&lb.arn)
            .await?
            .into_iter()
            .map(|(port, arn)| (arn, port))
            .collect()
    } else {
        BTreeMap::new()
    };
    for tg in &groups {
        let expected = switch::expect::for_group(
            &j.expect_attributes,
            &annotations,
            ports.get(&tg.arn).copied(),
            tg.protocol.as_deref(),
        );
        for (key, want) in &expected {
            let have = tg
                .attributes
                .get(key)
                .map(String::as_str)
                .unwrap_or("unset");
            if have != want {
                return Ok(Ready::No(format!(
                    "target group {} has {key}={have}, waiting for {want}",
                    tg.name
                )));
            }
        }
    }
    let view: Vec<switch::gate::Group> = groups.iter().map(switch::gate::Group::of).collect();
    joining.observe(&view, now());
    let reading = switch::gate::read(&view, rule(j), joining, now());
    if reading.ok {
        Ok(Ready::Yes(Box::new(lb), reading))
    } else {
        Ok(Ready::No(reading.reason.unwrap_or_default()))
    }
}

async fn current_records(ctx: &Context, j: &Journal) -> Result<Vec<DnsRecord>, Error> {
    let zone = zone(j);
    let mut names: Vec<&str> = j.original_records.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        out.extend(ctx.aws.route53.records_named(&zone, name).await?);
    }
    Ok(out)
}

/// Applies a batch and waits for Route 53 to serve it everywhere.
async fn apply(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    what: &str,
    changes: &[Change],
    out: &mut dyn Write,
) -> Result<(), Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let comment = format!(
        "kubectl nlb {}: {}/{} {what}",
        j.kind.command(),
        j.namespace,
        j.old_service
    );
    let id = ctx
        .aws
        .route53
        .change(&j.zone_id, &comment, changes)
        .await?;
    let progress = ui.spinner(&format!(
        "{what}: waiting for Route 53 change {id} to be INSYNC"
    ));
    let deadline = deadline_in(j.settings.timeout_secs);
    if !ctx.aws.route53.wait_insync(&id, deadline).await? {
        return Err(timeout_error(
            j,
            &format!("Route 53 change {id} to be INSYNC"),
        ));
    }
    drop(progress);
    for c in changes {
        tracing::debug!("applied {c}");
    }
    writeln!(out, "{what}: Route 53 change {id} is INSYNC")?;
    Ok(())
}

fn new_lb(j: &Journal) -> Result<&LbTarget, Error> {
    j.new_lb.as_ref().ok_or_else(|| {
        Error::Invalid(format!(
            "the journal of {}/{} has no new NLB yet; {}",
            j.namespace,
            j.old_service,
            next_commands(j)
        ))
    })
}

async fn convert(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let j = &stored.journal;
    let new = new_lb(j)?;
    if xdns::is_xdns(j) {
        stored.fence(ctx).await?;
        return xdns::convert(ctx, ui, &stored.journal, out).await;
    }
    let current = current_records(ctx, j).await?;
    let weights = switch::dns::observed_weights(&j.original_records, &current, &j.ids);
    if weights.iter().all(Option::is_some) {
        return Ok(()); // converted before an interruption
    }
    for original in &j.original_records {
        if !current.iter().any(|r| r.same_as(original)) {
            return Err(Error::Invalid(format!(
                "{} {} changed since the switch began (it no longer matches the journal); run `kubectl nlb {} abort {} -n {}`, check the record, and start again",
                original.name,
                original.type_,
                j.kind.command(),
                j.old_service,
                j.namespace
            )));
        }
    }
    let batch = switch::dns::convert(&j.original_records, &j.old_lb, new, &j.ids);
    stored.fence(ctx).await?;
    let j = &stored.journal;
    apply(
        ctx,
        ui,
        j,
        "records made weighted (old 100, new 0)",
        &batch,
        out,
    )
    .await
}

/// One traffic step of either backend: the gate, the write (confirmed),
/// the soak, then what the backend serves now.
async fn shift(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    step: &Step,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let rule = rule(&stored.journal);
    let on = traffic::gate_on(&stored.journal, step);
    if let Step::Shift(weight) = step {
        dns_check_before(ctx, stored, *weight).await?;
    }
    // The gate before the step: never send more to unhealthy targets.
    let reading = gate(ctx, &on, rule, &mut stored.joining).await?;
    if !reading.ok {
        return roll_back(ctx, ui, stored, reading, out).await;
    }
    stored.fence(ctx).await?;
    traffic::write(ctx, ui, &stored.journal, step, out).await?;
    soak(ctx, ui, stored, &on, &traffic::soak_label(step), out).await?;
    let live = match step {
        Step::Shift(weight) => dns_check_after(ctx, stored, *weight).await?,
        _ => listener::live(ctx, &stored.journal).await?,
    };
    let summary = stored
        .journal
        .last_gate
        .as_ref()
        .map(Reading::summary)
        .unwrap_or_default();
    writeln!(
        out,
        "{} ({live}); targets: {summary}",
        traffic::done_label(step)
    )?;
    Ok(())
}

/// Route 53 must hold what this switch wrote: the previous step's weights,
/// or this step's if it was applied before an interruption. Read again
/// unless this run read them at the end of the previous step, moments ago:
/// each read is one more paced Route 53 call per step.
async fn dns_check_before(ctx: &Context, stored: &mut Stored, weight: u8) -> Result<(), Error> {
    if xdns::is_xdns(&stored.journal) {
        // external-dns puts back any hand edit of its records itself.
        return Ok(());
    }
    let previous = stored.journal.weight().unwrap_or(0);
    let fresh = stored
        .checked
        .take()
        .is_some_and(|(at, w)| w == previous && at.elapsed() < Duration::from_secs(5));
    if !fresh {
        check_drift(ctx, stored, &written_weights(&stored.journal, weight)).await?;
    }
    Ok(())
}

/// Says what Route 53 serves after the soak, not what was asked: an edit
/// made meanwhile stops the switch here rather than after the next step.
async fn dns_check_after(ctx: &Context, stored: &mut Stored, weight: u8) -> Result<String, Error> {
    if xdns::is_xdns(&stored.journal) {
        let j = &stored.journal;
        let current = current_records(ctx, j).await?;
        let live = switch::dns::live(&j.original_records, &current, &j.ids, j.new_lb.as_ref());
        return Ok(format!("Route 53 answers: {live}"));
    }
    let current = check_drift(ctx, stored, &[weight]).await?;
    stored.checked = Some((Instant::now(), weight));
    let j = &stored.journal;
    let live = switch::dns::live(&j.original_records, &current, &j.ids, j.new_lb.as_ref());
    Ok(format!("Route 53 answers: {live}"))
}

/// Reads the gate every interval until the soak is over, the last reading
/// at its very end; a closed gate rolls back.
async fn soak(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    on: &GateOn,
    label: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let rule = rule(&stored.journal);
    let j = &stored.journal;
    let interval = secs(j.settings.interval_secs.max(1));
    let end = deadline_in(j.settings.soak_secs);
    let progress = ui.spinner(&format!("soaking at {label}"));
    loop {
        stored.heartbeat(ctx).await?;
        sync_mirror(ctx, &stored.journal).await?;
        let reading = match gate(ctx, on, rule, &mut stored.joining).await {
            Ok(r) => r,
            Err(e) if Instant::now() < end => {
                tracing::info!("reading target health: {e}");
                tokio::time::sleep(interval.min(end - Instant::now())).await;
                continue;
            }
            // A soak without one good reading at its end proves nothing.
            Err(e) => Reading {
                ok: false,
                groups: Vec::new(),
                reason: Some(format!("target health could not be read: {e}")),
            },
        };
        if !reading.ok {
            drop(progress);
            return roll_back(ctx, ui, stored, reading, out).await;
        }
        progress.set_message(format!("soaking at {label}: {}", reading.summary()));
        stored.journal.last_gate = Some(reading);
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        tokio::time::sleep(interval.min(left)).await;
    }
}

/// The weights Route 53 may hold for the new NLB when `weight` is next: the
/// last step's, or `weight` itself if it was written before an interruption.
/// After a rollback, whatever step the rollback interrupted, since the
/// journal records the rollback before its write.
fn written_weights(j: &Journal, weight: u8) -> Vec<u8> {
    let mut out = vec![j.weight().unwrap_or(0), weight];
    out.extend(j.adopted);
    if j.rolled_back.is_some() {
        out.extend(j.settings.weights.iter().copied());
    }
    out
}

/// Stops the switch when someone else edited its records since it wrote
/// them (qa D-W8). Returns the records as Route 53 holds them.
async fn check_drift(
    ctx: &Context,
    stored: &mut Stored,
    expected: &[u8],
) -> Result<Vec<DnsRecord>, Error> {
    let j = &stored.journal;
    match read_drift(ctx, j, expected).await? {
        (current, None) => Ok(current),
        (current, Some(drift)) => Err(drift_error(j, &drift, &current)),
    }
}

/// The records as Route 53 holds them, and how they differ from what the
/// switch wrote (the new NLB at one of `expected`), if they do.
async fn read_drift(
    ctx: &Context,
    j: &Journal,
    expected: &[u8],
) -> Result<(Vec<DnsRecord>, Option<switch::dns::Drift>), Error> {
    let current = current_records(ctx, j).await?;
    let drift = switch::dns::drift(&j.original_records, &current, &j.ids, expected);
    Ok((current, drift))
}

/// The records found and what to do about them, in one line.
fn drift_error(j: &Journal, drift: &switch::dns::Drift, current: &[DnsRecord]) -> Error {
    use switch::dns::DriftFix;
    let found: Vec<String> = current
        .iter()
        .map(|r| {
            format!(
                "{}",
                Change {
                    action: switch::Action::Upsert,
                    record: r.clone(),
                }
            )
            .trim_start_matches("Upsert ")
            .to_string()
        })
        .collect();
    let (cmd, svc, ns) = (j.kind.command(), &j.old_service, &j.namespace);
    let abort = format!("`kubectl nlb {cmd} abort {svc} -n {ns}`");
    let fix = match drift.fix {
        DriftFix::Adopt(live) => format!(
            "carry on from them with `kubectl nlb {cmd} resume {svc} -n {ns} --adopt` (the next step then raises the new NLB above {live}%), or undo with {abort}"
        ),
        DriftFix::Abort => format!("finish undoing it with {abort}"),
        DriftFix::ByHand => format!(
            "remove by hand what this switch did not write, then continue with `kubectl nlb {cmd} resume {svc} -n {ns}` or undo with {abort}"
        ),
    };
    Error::Invalid(format!(
        "the records changed since this switch wrote them: {} (found: {}). The switch stopped at {}; {fix}",
        drift.what,
        found.join("; "),
        j.phase()
    ))
}

/// `resume`: the records must be as the switch wrote them before it goes
/// on, or adopted with `--adopt`; decided before any prompt, so a dry run
/// says it too (QA round 2: a dry run ignored edits, `--adopt` re-applied
/// the step it had stopped at, and a refused one stayed in the journal).
async fn check_or_adopt(
    ctx: &Context,
    s: &mut Stored,
    adopt: bool,
) -> Result<Option<String>, Error> {
    let j = &s.journal;
    if !j.weighted() {
        return Ok(adopt
            .then(|| "--adopt: the records are not weighted pairs now; nothing to adopt".into()));
    }
    let next = match j.next() {
        Some(Step::Shift(w)) => w,
        _ => j.weight().unwrap_or(0),
    };
    let (current, drift) = read_drift(ctx, j, &written_weights(j, next)).await?;
    let Some(drift) = drift else {
        return Ok(adopt.then(|| {
            "--adopt: the records are as this switch wrote them; nothing to adopt".into()
        }));
    };
    match drift.fix {
        switch::dns::DriftFix::Adopt(live) if adopt => {
            s.journal.adopt(live, now());
            Ok(Some(format!(
                "adopting the weights Route 53 holds (old {} / new {live}); next: {}",
                100 - live,
                s.journal
                    .next()
                    .map(|st| st.label())
                    .unwrap_or_else(|| "nothing".into())
            )))
        }
        _ => Err(drift_error(j, &drift, &current)),
    }
}

/// Before the old Service and its NLB go: the records must still send
/// every client to the new NLB, as the collapse left them.
async fn check_collapsed(ctx: &Context, j: &Journal) -> Result<(), Error> {
    let Some(new) = j.new_lb.as_ref() else {
        return Ok(());
    };
    let current = current_records(ctx, j).await?;
    let xdns_drift = || {
        let ok = switch::xdns::shows(
            &switch::xdns::Expect::SimpleToNew,
            &j.original_records,
            &current,
            &j.ids,
            &j.old_lb,
            Some(new),
        );
        (!ok).then(|| "the record is not a simple record to the new NLB".to_string())
    };
    let drift = if xdns::is_xdns(j) {
        xdns_drift()
    } else {
        switch::dns::collapse_drift(&j.original_records, &current, new)
    };
    match drift {
        None => Ok(()),
        Some(what) => Err(Error::Invalid(format!(
            "{what}: someone changed the record since the collapse, so service/{} and its NLB were not deleted. Point the record at {} again and continue with `kubectl nlb {cmd} resume {svc} -n {ns}`, or undo the switch with `kubectl nlb {cmd} abort {svc} -n {ns}`",
            j.old_service,
            new.dns_name,
            cmd = j.kind.command(),
            svc = j.old_service,
            ns = j.namespace
        ))),
    }
}

/// `secs` from now; durations are bounded when parsed, and this never
/// overflows whatever a journal says.
fn deadline_in(secs_from_now: u64) -> Instant {
    let now = Instant::now();
    now.checked_add(secs(secs_from_now))
        .unwrap_or_else(|| now + secs(MAX_DURATION_SECS))
}

/// All traffic back to the old NLB, the pair kept so `resume` can retry.
async fn roll_back(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    reading: Reading,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let reason = reading
        .reason
        .clone()
        .unwrap_or_else(|| "the health gate failed".into());
    writeln!(out, "health gate failed: {reason}; rolling back")?;
    // Journal first: if the switch was aborted meanwhile the write fails
    // and no record is touched under the abort's restore.
    stored.journal.last_gate = Some(reading);
    stored.journal.roll_back(reason.clone(), now());
    stored.save(ctx).await?;
    let j = &stored.journal;
    if j.via == switch::journal::Via::Listener {
        return Err(listener::roll_back(ctx, ui, j, &reason, out).await?);
    }
    if xdns::is_xdns(j) {
        xdns::roll_back(ctx, ui, j, out).await?;
    } else {
        let batch = switch::dns::shift(&j.original_records, &j.old_lb, new_lb(j)?, &j.ids, 0);
        apply(ctx, ui, j, "rolled back (old 100, new 0)", &batch, out).await?;
    }
    Err(Error::Aborted(format!(
        "rolled back: {reason}. All DNS answers go to the old NLB again; service/{} is kept for inspection. Retry with `kubectl nlb {cmd} resume {svc} -n {ns}`, or clean up with `kubectl nlb {cmd} abort {svc} -n {ns}`",
        j.new_service,
        cmd = j.kind.command(),
        svc = j.old_service,
        ns = j.namespace
    )))
}

async fn collapse(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let j = &stored.journal;
    let new = new_lb(j)?;
    if xdns::is_xdns(j) {
        stored.fence(ctx).await?;
        xdns::collapse(ctx, ui, &stored.journal, out).await?;
    } else {
        let current = current_records(ctx, j).await?;
        let batch = switch::dns::collapse(&j.original_records, &current, new, &j.ids)
            .map_err(|e| Error::Invalid(format!("{e}, then {}", next_commands(j))))?;
        stored.fence(ctx).await?;
        apply(
            ctx,
            ui,
            &stored.journal,
            "records point at the new NLB only",
            &batch,
            out,
        )
        .await?;
    }
    let j = &stored.journal;
    let drain = match j.settings.drain_secs {
        Some(d) => d,
        None => default_drain(ctx, j).await?,
    };
    stored.journal.drain_until = Some(now() + drain);
    Ok(())
}

/// The record TTL (how long resolvers may still answer with the old NLB)
/// plus the old target groups' deregistration delay (domain.md §5.3, §7.5, §7.6).
async fn default_drain(ctx: &Context, j: &Journal) -> Result<u64, Error> {
    let ttl = j
        .original_records
        .iter()
        .map(|r| {
            if r.alias.is_some() {
                60
            } else {
                r.ttl.unwrap_or(60)
            }
        })
        .max()
        .unwrap_or(60);
    let groups = ctx.aws.elbv2.target_groups_of(&j.old_lb_arn).await?;
    let delay = groups
        .iter()
        .filter_map(|tg| tg.attributes.get("deregistration_delay.timeout_seconds"))
        .filter_map(|v| v.parse::<i64>().ok())
        .max()
        .unwrap_or(300);
    Ok(ttl.max(0) as u64 + delay.max(0) as u64)
}

async fn drain(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let until = stored.journal.drain_until.unwrap_or_else(now);
    let left = until.saturating_sub(now());
    if left > 0 {
        // Minutes of silence on a non-terminal otherwise (QA round 2).
        writeln!(
            out,
            "draining for {} (record TTL and the old target groups' deregistration delay) before the old Service is deleted",
            humantime::format_duration(secs(left))
        )?;
        let bar = ui.bar(left, "letting clients leave the old NLB");
        let start = Instant::now();
        while start.elapsed() < secs(left) {
            tokio::time::sleep(Duration::from_secs(1).min(secs(left))).await;
            bar.set_position(start.elapsed().as_secs().min(left));
            stored.heartbeat(ctx).await?;
        }
        bar.finish_and_clear();
    }
    writeln!(out, "drain finished")?;
    Ok(())
}

/// Deletes the old Service and waits until it and its NLB are gone: the
/// DELETE only starts the controller's cleanup (`switch::deletion`).
async fn delete_old(ctx: &Context, ui: &Ui, j: &Journal, out: &mut dyn Write) -> Result<(), Error> {
    let (ns, old) = (&j.namespace, &j.old_service);
    if let Some(svc) = ctx.kube.service_object(ns, old).await?
        && svc.metadata.uid.as_deref() == Some(j.old_uid.as_str())
        && !switch::deletion::is_terminating(&svc)
    {
        ctx.kube.delete_service(ns, old, &j.old_uid).await?;
        writeln!(
            out,
            "service/{old} deleted; waiting for its controller to delete NLB {}",
            j.old_lb.dns_name
        )?;
    }
    let gone = Gone {
        name: old,
        uid: &j.old_uid,
        lb_arn: Some(&j.old_lb_arn),
    };
    wait_gone(ctx, ui, j, &gone).await?;
    writeln!(out, "service/{old} and NLB {} are gone", j.old_lb.dns_name)?;
    Ok(())
}

/// A Service (by UID) and its NLB that must disappear.
struct Gone<'a> {
    name: &'a str,
    uid: &'a str,
    lb_arn: Option<&'a str>,
}

/// Polls until the Service with that UID and the NLB no longer exist,
/// within the journal's timeout (exit 3 with why, the journal kept).
async fn wait_gone(ctx: &Context, ui: &Ui, j: &Journal, g: &Gone<'_>) -> Result<(), Error> {
    let ns = &j.namespace;
    let deadline = deadline_in(j.settings.timeout_secs);
    let progress = ui.spinner(&format!(
        "waiting for service/{} and its NLB to be deleted",
        g.name
    ));
    let mut backoff = Backoff::new(deadline, POLL_READY);
    loop {
        let svc = ctx
            .kube
            .service_object(ns, g.name)
            .await?
            .filter(|s| s.metadata.uid.as_deref() == Some(g.uid));
        let lb = match g.lb_arn {
            Some(arn) => ctx.aws.elbv2.load_balancer(arn).await?,
            None => None,
        };
        match (&svc, &lb) {
            (None, None) => return Ok(()),
            (Some(_), _) => {
                progress.set_message(format!("service/{} is still being deleted", g.name))
            }
            (None, Some(lb)) => progress.set_message(format!("NLB {} still exists", lb.name)),
        }
        if !backoff.next().await {
            drop(progress);
            let why = why_not_gone(ctx, ns, g, svc.as_ref(), lb.as_ref()).await;
            return Err(timeout_error(
                j,
                &format!("service/{} and its NLB to be deleted: {why}", g.name),
            ));
        }
    }
}

async fn why_not_gone(
    ctx: &Context,
    ns: &str,
    g: &Gone<'_>,
    svc: Option<&Service>,
    lb: Option<&LoadBalancer>,
) -> String {
    let protected = match lb {
        Some(lb) => ctx
            .aws
            .elbv2
            .load_balancer_attributes(&lb.arn)
            .await
            .ok()
            .flatten()
            .is_some_and(|a| {
                a.get("deletion_protection.enabled").map(String::as_str) == Some("true")
            }),
        None => false,
    };
    let lbc_ready = match ctx.kube.detect_lbc().await {
        Ok(crate::model::Detection::Found(l)) => l.ready_replicas.map(|r| r > 0),
        Ok(crate::model::Detection::Missing) => Some(false),
        _ => None,
    };
    switch::deletion::why_not_gone(
        ns,
        g.name,
        &switch::deletion::Seen {
            service: svc,
            lb_name: lb.map(|l| l.name.as_str()),
            lb_arn: lb.map(|l| l.arn.as_str()).or(g.lb_arn).unwrap_or_default(),
            lb_protected: protected,
            lbc_ready,
        },
    )
}

/// Refuses `abort` (always) and `resume` (unless the switch is deleting it)
/// while the old Service is being deleted: its NLB is going away, so no
/// record may point back at it, and the new Service must stay.
fn refuse_if_old_is_going(j: &Journal, old: &Service, verb: &str) -> Result<(), Error> {
    if !switch::deletion::is_terminating(old) {
        return Ok(());
    }
    let deleting_it = j.next() == Some(Step::DeleteOld);
    if verb == "resume" && deleting_it {
        return Ok(());
    }
    let (cmd, ns, svc) = (j.kind.command(), &j.namespace, &j.old_service);
    let finalizers = old
        .metadata
        .finalizers
        .clone()
        .unwrap_or_default()
        .join(", ");
    let serving = format!(
        "service {ns}/{svc} is being deleted (finalizers: {finalizers}), so its NLB {} is going away and {ns}/{} is what serves clients",
        j.old_lb.dns_name, j.new_service
    );
    Err(Error::Invalid(if deleting_it {
        format!(
            "cannot {verb}: {serving}. The switch is at its last step; let it finish with `kubectl nlb {cmd} resume {svc} -n {ns}`"
        )
    } else {
        format!(
            "cannot {verb}: {serving}, though the switch was only at {}. Someone else deleted it: point the records that still name the old NLB (`kubectl nlb {cmd} status {svc} -n {ns}`) at {} by hand, then delete configmap {ns}/{}",
            j.phase(),
            j.new_lb
                .as_ref()
                .map(|l| l.dns_name.as_str())
                .unwrap_or("the new NLB"),
            journal_name(svc)
        )
    }))
}

/// `abort`: the original records back exactly, the parallel Service and
/// its NLB gone (observed), then the journal deleted. Refused once the old
/// Service is gone or going.
pub async fn undo(
    ctx: &Context,
    ui: &Ui,
    stored: &mut Stored,
    out: &mut dyn Write,
) -> Result<(), Error> {
    if stored.journal.via == switch::journal::Via::Listener {
        return listener::undo(ctx, ui, stored, out).await;
    }
    let j = &stored.journal;
    let old = ctx
        .kube
        .service_object(&j.namespace, &j.old_service)
        .await?
        .filter(|s| s.metadata.uid.as_deref() == Some(j.old_uid.as_str()));
    let Some(old) = old else {
        return Err(Error::Invalid(format!(
            "service {}/{} is gone, so there is nothing to go back to; clients use {}/{}. Delete configmap {}/{} to forget the switch",
            j.namespace,
            j.old_service,
            j.namespace,
            j.new_service,
            j.namespace,
            journal_name(&j.old_service)
        )));
    };
    refuse_if_old_is_going(j, &old, "abort")?;
    // Journal the abort first: a process still driving this switch then
    // fails its next write (the resourceVersion moved) instead of shifting
    // weights under the restore.
    stored.journal.note(now(), "abort began".into());
    stored.save(ctx).await?;
    let j = &stored.journal;
    if xdns::is_xdns(j) {
        xdns::restore(ctx, ui, j, out).await?;
    } else {
        restore_records(ctx, ui, j, out).await?;
    }
    if let Some(svc) = ctx
        .kube
        .service_object(&j.namespace, &j.new_service)
        .await?
    {
        if ensure_ours(&svc, j).is_ok() {
            let uid = svc.metadata.uid.clone().unwrap_or_default();
            if !switch::deletion::is_terminating(&svc) {
                ctx.kube
                    .delete_service(&j.namespace, &j.new_service, &uid)
                    .await?;
                writeln!(
                    out,
                    "service/{} deleted; waiting for its controller to delete its NLB",
                    j.new_service
                )?;
            }
            let gone = Gone {
                name: &j.new_service,
                uid: &uid,
                lb_arn: j.new_lb_arn.as_deref(),
            };
            wait_gone(ctx, ui, j, &gone).await?;
            writeln!(out, "service/{} and its NLB are gone", j.new_service)?;
        } else {
            writeln!(
                out,
                "service/{} was not created by this switch; left alone",
                j.new_service
            )?;
        }
    }
    ctx.kube
        .delete_config_map(&j.namespace, &journal_name(&j.old_service))
        .await?;
    writeln!(
        out,
        "aborted: {}/{} serves every client again",
        j.namespace, j.old_service
    )?;
    Ok(())
}

/// The original records back. A driver fenced by the abort's journal write
/// may still land the one Route 53 change it had in flight; Route 53 then
/// refuses the DELETEs made from the earlier read ("the values provided do
/// not match the current values"), so read again and retry.
async fn restore_records(
    ctx: &Context,
    ui: &Ui,
    j: &Journal,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut attempt = 0;
    loop {
        let current = current_records(ctx, j).await?;
        let batch = switch::dns::restore(&j.original_records, &current, j.new_lb.as_ref(), &j.ids)
            .map_err(|e| {
                // qa D-M11: say which command to run again, not "the command".
                Error::Invalid(format!(
                    "{e}, then run `kubectl nlb {} abort {} -n {}` again; nothing was changed",
                    j.kind.command(),
                    j.old_service,
                    j.namespace
                ))
            })?;
        match apply(ctx, ui, j, "original records restored", &batch, out).await {
            Err(Error::Aws(e)) if attempt < 3 && e.is_stale_change() => {
                attempt += 1;
                tracing::info!("records changed while restoring ({e}); reading them again");
                tokio::time::sleep(Duration::from_secs(attempt)).await;
            }
            other => return other,
        }
    }
}

/// What `status` prints in the table form.
pub fn status_lines(j: &Journal, at: u64, live: Result<String, String>) -> Vec<(String, String)> {
    if listener::is_listener(j) {
        return listener::status_lines(j, at, live);
    }
    let asked = match j.weight() {
        None => "records not converted yet".into(),
        Some(w) => format!("old {} / new {w}", 100 - w),
    };
    // What Route 53 serves comes first; the journal's weights are what the
    // last finished step wrote, and differ during a step or after an edit.
    let weight = match live {
        Ok(live) if live == asked => live,
        Ok(live) if j.weight().is_none() && live == "the original record" => {
            format!("{live} (not converted yet)")
        }
        Ok(live) => format!("{live} (as Route 53 answers; the last finished step: {asked})"),
        Err(why) if j.original_records.is_empty() => why,
        Err(why) => format!("{asked} (the journal's; Route 53 could not be read: {why})"),
    };
    let switch = format!(
        "{} {}/{} → {}/{}",
        j.kind.command(),
        j.namespace,
        j.old_service,
        j.namespace,
        j.new_service
    );
    let mut lines = head_status_lines(j, switch, weight);
    lines.extend([
        (
            "Records".into(),
            j.original_records
                .iter()
                .map(|r| format!("{} {}", r.name, r.type_))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Old NLB".into(), j.old_lb.dns_name.clone()),
        (
            "New NLB".into(),
            j.new_lb
                .as_ref()
                .map(|l| l.dns_name.clone())
                .unwrap_or_else(|| "-".into()),
        ),
        gate_status_line(j),
        (
            "Age".into(),
            format!(
                "{} (updated {} ago)",
                ago(at, j.started_at),
                ago(at, j.updated_at)
            ),
        ),
    ]);
    lines.extend(common_status_lines(j, at));
    lines
}

/// The first status lines of every backend: what switches, the phase, the
/// steps done, the weights now and the plan.
fn head_status_lines(j: &Journal, switch: String, weights: String) -> Vec<(String, String)> {
    vec![
        ("Switch".into(), switch),
        ("Phase".into(), j.phase()),
        (
            "Steps".into(),
            format!("{}/{} done", j.done, j.steps().len()),
        ),
        ("Weights".into(), weights),
        (
            "Plan".into(),
            j.settings
                .weights
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
    ]
}

/// The last health reading, for `status`.
fn gate_status_line(j: &Journal) -> (String, String) {
    (
        "Last gate".into(),
        j.last_gate
            .as_ref()
            .map(|g| format!("{} {}", if g.ok { "pass:" } else { "FAIL:" }, g.summary()))
            .unwrap_or_else(|| "-".into()),
    )
}

/// The status lines of both backends: who drives, the drain, the last event.
fn common_status_lines(j: &Journal, at: u64) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    if let Some(d) = &j.driver {
        lines.push((
            "Driver".into(),
            format!(
                "pid {} on {} (wrote the journal {} ago)",
                d.pid,
                if d.host.is_empty() {
                    "?"
                } else {
                    d.host.as_str()
                },
                ago(at, d.seen)
            ),
        ));
    }
    if let Some(until) = j.drain_until.filter(|u| *u > at) {
        lines.push(("Drain".into(), format!("ends in {}", ago(until, at))));
    }
    if let Some(e) = j.events.last() {
        lines.push(("Last event".into(), e.message.clone()));
    }
    lines
}

fn ago(now: u64, then: u64) -> String {
    humantime::format_duration(Duration::from_secs(now.saturating_sub(then))).to_string()
}

/// The longest any duration flag may be: a week. Longer soaks, drains and
/// timeouts are mistakes, and would overflow a deadline.
pub const MAX_DURATION_SECS: u64 = 7 * 24 * 3600;

/// A duration flag: a number of seconds, or `30s`, `2m`, `1h`; at most a week.
pub fn duration(flag: &str, text: &str) -> Result<Duration, Error> {
    let text = text.trim();
    crate::context::refuse_negative(flag, text).map_err(Error::Invalid)?;
    let parsed = match text.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(text).ok(),
    };
    let Some(d) = parsed else {
        return Err(Error::Invalid(format!(
            "{flag} {text}: not a duration; use a number of seconds or a value such as 30s, 2m, 1h"
        )));
    };
    if d.as_secs() > MAX_DURATION_SECS {
        return Err(Error::Invalid(format!(
            "{flag} {text}: longer than the 7d limit; use e.g. 30m or 2h"
        )));
    }
    Ok(d)
}

/// A limit on a wait: a [`duration`] that is not zero. Every command's
/// `--timeout` goes through here, so `0` means the same everywhere: refused,
/// never "the default" nor "forever" (qa D-C6: bind-hostnetwork took it as
/// its 5-minute default and waited until killed).
pub fn timeout(flag: &str, text: &str) -> Result<Duration, Error> {
    let d = duration(flag, text)?;
    if d.is_zero() {
        return Err(Error::Invalid(format!(
            "{flag} {}: every wait needs a limit; use e.g. {flag} 15m",
            text.trim()
        )));
    }
    Ok(d)
}

/// The traffic-switch flags, checked before any request.
pub struct SwitchRequest {
    pub weights: Vec<u8>,
    pub soak: Option<Duration>,
    pub interval: Duration,
    pub timeout: Duration,
    pub drain: Option<Duration>,
    pub min_healthy_percent: u8,
    pub initial_grace: Option<Duration>,
    pub finalize: bool,
}

pub fn check_switch_flags(f: &crate::cli::SwitchFlags) -> Result<SwitchRequest, Error> {
    let weights = switch::weights::parse(&f.weights).map_err(Error::Invalid)?;
    let interval = duration("--interval", &f.interval)?;
    if interval.is_zero() {
        return Err(Error::Invalid(
            "--interval 0: health is read at least every second; use e.g. --interval 10s".into(),
        ));
    }
    let timeout = timeout("--timeout", &f.timeout)?;
    if let Some(zone) = &f.zone
        && zone.trim().is_empty()
    {
        return Err(Error::Invalid(
            "--zone is empty: pass a hosted zone id or name".into(),
        ));
    }
    Ok(SwitchRequest {
        weights,
        soak: f
            .soak
            .as_deref()
            .map(|s| duration("--soak", s))
            .transpose()?,
        interval,
        timeout,
        drain: f
            .drain
            .as_deref()
            .map(|s| duration("--drain", s))
            .transpose()?,
        min_healthy_percent: f.min_healthy_percent,
        initial_grace: f
            .initial_grace
            .as_deref()
            .map(|s| duration("--initial-grace", s))
            .transpose()?,
        finalize: f.finalize,
    })
}

impl SwitchRequest {
    /// The journal's settings; the soak defaults to the records' TTL (60 s
    /// for aliases, domain.md §5.3) so resolvers have turned over once.
    pub fn settings(&self, records: &[DnsRecord]) -> switch::Settings {
        let ttl = records
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
        switch::Settings {
            weights: self.weights.clone(),
            soak_secs: self.soak.map(|d| d.as_secs()).unwrap_or(ttl),
            interval_secs: self.interval.as_secs().max(1),
            timeout_secs: self.timeout.as_secs().max(1),
            min_healthy_percent: self.min_healthy_percent,
            initial_grace_secs: self.initial_grace.map(|d| d.as_secs()),
            drain_secs: self.drain.map(|d| d.as_secs()),
            finalize: self.finalize,
        }
    }
}

/// What Route 53 and EC2 hold around the Services a command looks at, read
/// once however many Services it plans: every record of the zones searched
/// (`--zone`, else all the caller can list) and the PrivateLink endpoint
/// services.
pub struct Surroundings {
    records: Vec<DnsRecord>,
    /// external-dns installations, for records it owns.
    external_dns: crate::model::Detection<Vec<crate::external_dns::Install>>,
    /// `Err` holds a warning: EC2 would not let us look.
    endpoint_services: Result<Vec<crate::model::EndpointService>, String>,
}

pub async fn surroundings(
    ctx: &Context,
    f: &crate::cli::SwitchFlags,
) -> Result<Surroundings, Error> {
    let zones = match &f.zone {
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
    let mut records = Vec::new();
    for zone in &zones {
        records.extend(ctx.aws.route53.records(zone).await?);
    }
    let external_dns = if records.iter().any(|r| r.type_ == "TXT") {
        ctx.kube.detect_controllers().await?.1
    } else {
        crate::model::Detection::Missing
    };
    let endpoint_services = match ctx.aws.ec2.endpoint_services().await {
        Ok(services) => Ok(services),
        Err(e) if e.is_access_denied() => Err(format!(
            "could not check for PrivateLink endpoint services ({e}); consumers of one would not move"
        )),
        Err(e) => return Err(e.into()),
    };
    Ok(Surroundings {
        records,
        external_dns,
        endpoint_services,
    })
}

impl Surroundings {
    /// Refuses an NLB that backs a PrivateLink endpoint service: its
    /// consumers connect through endpoints, which no DNS change moves.
    /// `Ok` holds warnings.
    pub fn check_private_link(&self, lb: &LoadBalancer) -> Result<Vec<String>, String> {
        match &self.endpoint_services {
            Err(warning) => Ok(vec![warning.clone()]),
            Ok(services) => match services
                .iter()
                .find(|s| s.network_load_balancer_arns.contains(&lb.arn))
            {
                Some(s) => Err(format!(
                    "NLB {} backs the PrivateLink endpoint service {}; its consumers connect through endpoints, not DNS, so they cannot be moved by a DNS switch",
                    lb.name, s.service_id
                )),
                None => Ok(Vec::new()),
            },
        }
    }

    /// The records to move for one NLB (possibly none), after refusing what
    /// a switch must not touch: routing policies, two zones, external-dns
    /// records it cannot move through external-dns. `Some` plan when
    /// external-dns owns them for this Service: they move through it.
    pub fn records_for(
        &self,
        lb_dns: &str,
        record: Option<&str>,
        service: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(Vec<DnsRecord>, Option<switch::xdns::XdnsState>), String> {
        let records = switch::preflight::records_to_move(&self.records, lb_dns, record)?;
        let Some(first) = records.first() else {
            return Ok((records, None));
        };
        let zone_records: Vec<DnsRecord> = self
            .records
            .iter()
            .filter(|r| r.zone_id == first.zone_id)
            .cloned()
            .collect();
        let Some(why) =
            switch::preflight::external_dns_owner(service, annotations, &zone_records, &records)
        else {
            return Ok((records, None));
        };
        let refuse = |detail: String| {
            format!(
                "{why}. {detail}. Editing its records directly would fight external-dns, which puts its own weights back on every sync"
            )
        };
        let crate::model::Detection::Found(installs) = &self.external_dns else {
            return Err(refuse(
                "No external-dns Deployment could be read in the cluster, so the switch cannot move the record through it: run it with permission to list Deployments, or take the name out of external-dns's scope first".into(),
            ));
        };
        let plan = xdns_plan(installs, service, annotations, &zone_records, &records)
            .map_err(|b| refuse(format!("It cannot move through external-dns: {b}")))?;
        Ok((records, Some(plan)))
    }
}

/// The external-dns plan for records it owns, or every reason it cannot
/// move them (`switch::xdns::blockers`).
fn xdns_plan(
    installs: &[crate::external_dns::Install],
    service: &str,
    annotations: &BTreeMap<String, String>,
    zone: &[DnsRecord],
    records: &[DnsRecord],
) -> Result<switch::xdns::XdnsState, String> {
    use crate::external_dns::ownership;
    let owned: Vec<_> = installs
        .iter()
        .flat_map(|i| {
            records
                .iter()
                .map(move |r| (i, ownership(r, zone, &i.mapper())))
        })
        .collect();
    let (install, own) = owned
        .iter()
        .find(|(_, o)| o.is_some())
        .map(|(i, o)| (*i, o.clone()))
        .unwrap_or((&installs[0], None));
    let keys = switch::xdns::Keys {
        prefix: install.annotation_prefix.clone(),
    };
    let hostname = annotations.get(&keys.hostname()).cloned();
    let hand_made = records
        .iter()
        .any(|r| ownership(r, zone, &install.mapper()).is_none());
    let zone_name = records
        .first()
        .map(|r| r.zone_name.clone())
        .unwrap_or_default();
    let facts = switch::xdns::Facts {
        service,
        policy: install.policy.as_deref(),
        policy_required: install
            .version
            .as_deref()
            .and_then(crate::model::Version::parse)
            .is_some_and(|v| v >= crate::model::Version::new(0, 22, 0)),
        watches_services: install.sources.iter().any(|s| s == "service"),
        domain_filters: &install.domain_filters,
        zone_name: &zone_name,
        resource: own.as_ref().and_then(|o| o.resource.as_deref()),
        record_owner: own.as_ref().and_then(|o| o.owner_id.as_deref()),
        owner_id: &install.owner_id,
        hand_made,
        annotated: hostname.is_some(),
    };
    let blockers = switch::xdns::blockers(&facts);
    if !blockers.is_empty() {
        return Err(blockers.join("; "));
    }
    let interval = install
        .interval
        .as_deref()
        .and_then(|i| humantime::parse_duration(i).ok());
    Ok(switch::xdns::XdnsState {
        original: keys
            .all()
            .into_iter()
            .filter_map(|k| annotations.get(&k).map(|v| (k, v.clone())))
            .collect(),
        hostname: hostname.unwrap_or_default(),
        keys,
        deployment: format!("{}/{}", install.namespace, install.name),
        wait_secs: switch::xdns::wait_secs(interval),
    })
}

/// Refuses when a switch of this Service is journalled already.
pub async fn check_not_running(ctx: &Context, ns: &str, name: &str) -> Result<(), Error> {
    match load(ctx, ns, name).await? {
        Some(s) => Err(Error::Invalid(format!(
            "a {} of {ns}/{name} is already in progress ({}); see `kubectl nlb {} status {name} -n {ns}`",
            s.journal.kind.command(),
            s.journal.phase(),
            s.journal.kind.command()
        ))),
        None => Ok(()),
    }
}

/// The numbered steps of a plan, for `--dry-run=client` and the prompt.
pub fn write_steps(out: &mut dyn Write, j: &Journal, create: &str) -> std::io::Result<()> {
    let s = &j.settings;
    let fmt = |secs: u64| humantime::format_duration(Duration::from_secs(secs)).to_string();
    writeln!(out, "Steps:")?;
    for (i, step) in j.steps().iter().enumerate() {
        let through = xdns::describe_step(j, step);
        let what = match step {
            _ if through.is_some() => match step {
                Step::Shift(_) => format!(
                    "health gate, then {}; soak {} reading health every {} (roll back to old 100 if the gate fails)",
                    through.clone().unwrap_or_default(),
                    fmt(s.soak_secs),
                    fmt(s.interval_secs)
                ),
                _ => through.clone().unwrap_or_default(),
            },
            Step::CreateService => create.to_string(),
            Step::WaitReady => format!(
                "wait (≤{}) until its NLB is active{}, and ≥{}% of each target group's targets are healthy",
                fmt(s.timeout_secs),
                if j.expect_attributes.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} live",
                        j.expect_attributes
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                s.min_healthy_percent
            ),
            Step::Convert => format!(
                "one Route 53 batch: DELETE the simple record(s), CREATE weighted pairs [{}]=100 and [{}]=0; wait INSYNC",
                j.ids.old, j.ids.new
            ),
            Step::Shift(w) => format!(
                "health gate, then weights old {} / new {w}; wait INSYNC; soak {} reading health every {} (roll back to old 100 if the gate fails)",
                100 - w,
                fmt(s.soak_secs),
                fmt(s.interval_secs)
            ),
            Step::Collapse => "one batch: the weighted pairs become simple records pointing at the new NLB; wait INSYNC".into(),
            Step::Drain => match s.drain_secs {
                Some(d) => format!("wait {} for clients to leave the old NLB", fmt(d)),
                None => "wait the records' TTL plus the old target groups' deregistration delay".into(),
            },
            Step::DeleteOld => format!(
                "delete service/{} (its controller deletes NLB {})",
                j.old_service, j.old_lb.dns_name
            ),
            other => listener::describe_step(j, other, &fmt),
        };
        writeln!(out, "  {}. {what}", i + 1)?;
    }
    if listener::is_listener(j) {
        if !s.finalize {
            writeln!(
                out,
                "  then: finish later with `kubectl nlb cutover resume {} -n {} --finalize` (the own target groups change, traffic moves back, the twins go)",
                j.old_service, j.namespace
            )?;
        }
    } else if j.original_records.is_empty() {
        writeln!(
            out,
            "  then: no Route 53 record points at the old NLB, so clients use its hostname; point them at the new hostname, then delete service/{}",
            j.old_service
        )?;
    } else if !s.finalize {
        writeln!(
            out,
            "  then: finish later with `kubectl nlb {} resume {} -n {} --finalize`",
            j.kind.command(),
            j.old_service,
            j.namespace
        )?;
    }
    writeln!(out, "{}", journal_line(j))?;
    Ok(())
}

/// What the journal offers. Without records to move, the run deletes its
/// journal once the new Service is ready, so abort cannot undo it then:
/// say what stays and how to remove it rather than promise an undo.
fn journal_line(j: &Journal) -> String {
    let name = journal_name(&j.old_service);
    if listener::is_listener(j) {
        format!(
            "Journal: configmap/{name} (status, resume, abort work from any point; abort refuses only once the cleanup began)"
        )
    } else if j.original_records.is_empty() {
        format!(
            "Journal: configmap/{name} while the new Service comes up (status, resume, abort work until then); it is deleted once service/{new} is ready, and service/{new} stays: remove it with `kubectl delete service {new} -n {ns}`",
            new = j.new_service,
            ns = j.namespace
        )
    } else {
        format!("Journal: configmap/{name} (status, resume, abort work from any point)")
    }
}

// --- the verbs over a journal: status, resume, abort (cutover and migrate) ---

/// `--dry-run` of resume and abort: what they would do, from the journal
/// (qa D-M4: the refusal to run unconfirmed pointed at a flag they lacked).
/// No server dry run: the steps are Route 53 and AWS calls, not API objects.
fn client_dry_run(mode: crate::cli::DryRun, verb: &str) -> Result<bool, Error> {
    match mode {
        crate::cli::DryRun::None => Ok(false),
        crate::cli::DryRun::Client => Ok(true),
        crate::cli::DryRun::Server => Err(Error::Invalid(format!(
            "{verb} has no server dry run (its steps are AWS calls, not API objects the server could validate): use --dry-run=client"
        ))),
    }
}

pub async fn stored(ctx: &Context, service: &str) -> Result<Stored, Error> {
    let ns = &ctx.namespace;
    load(ctx, ns, service).await?.ok_or_else(|| {
        Error::Invalid(format!(
            "no cutover or migration of service {ns}/{service} is in progress (no configmap {ns}/{})",
            journal_name(service)
        ))
    })
}

pub async fn status(global: &GlobalArgs, a: &SwitchRef) -> Result<(), Error> {
    let (kube, _, ns) = crate::context::kube_client(global).await?;
    let name = journal_name(&a.service);
    let Some(cm) = kube.config_map(&ns, &name).await? else {
        return Err(Error::Invalid(format!(
            "no cutover or migration of service {ns}/{} is in progress (no configmap {ns}/{name})",
            a.service
        )));
    };
    let journal = from_config_map(&ns, &a.service, cm)?.journal;
    let mut out = std::io::stdout().lock();
    match a.output {
        Output::Json => render::json(&mut out, &journal)?,
        Output::Yaml => render::yaml(&mut out, &journal)?,
        Output::Table => {
            let live = live_records(global, &journal).await;
            for (k, v) in status_lines(&journal, now(), live) {
                writeln!(out, "{:<11} {v}", format!("{k}:"))?;
            }
        }
    }
    Ok(())
}

/// What Route 53 answers now for the switch's records (qa D-M1), or why it
/// could not be read: `status` still shows the journal then.
async fn live_records(global: &GlobalArgs, j: &Journal) -> Result<String, String> {
    if listener::is_listener(j) {
        let ctx = Context::build(global).await.map_err(|e| e.to_string())?;
        return listener::live(&ctx, j).await.map_err(|e| e.to_string());
    }
    if j.original_records.is_empty() {
        return Err("no records to move".into());
    }
    let ctx = Context::build(global).await.map_err(|e| e.to_string())?;
    let current = current_records(&ctx, j).await.map_err(|e| e.to_string())?;
    Ok(switch::dns::live(
        &j.original_records,
        &current,
        &j.ids,
        j.new_lb.as_ref(),
    ))
}

pub async fn resume(global: &GlobalArgs, a: &ResumeArgs, ui: &Ui) -> Result<(), Error> {
    let timeout = a
        .timeout
        .as_deref()
        .map(|t| timeout("--timeout", t))
        .transpose()?;
    let ctx = Context::build(global).await?;
    let mut s = stored(&ctx, &a.service).await?;
    if let Some(d) = s.journal.driven_by_other(me(), &host(), now(), alive) {
        return Err(Error::Invalid(format!(
            "another kubectl nlb (pid {} on {}) is driving this {} (it wrote the journal {}s ago); let it finish, or stop it and resume then (a driver silent for {}s is taken to be gone)",
            d.pid,
            if d.host.is_empty() {
                "this or another machine"
            } else {
                d.host.as_str()
            },
            s.journal.kind.command(),
            now().saturating_sub(d.seen),
            switch::journal::DRIVER_TTL_SECS
        )));
    }
    if let Some(old) = ctx
        .kube
        .service_object(&s.journal.namespace, &s.journal.old_service)
        .await?
        .filter(|o| o.metadata.uid.as_deref() == Some(s.journal.old_uid.as_str()))
    {
        refuse_if_old_is_going(&s.journal, &old, "resume")?;
    }
    let dry_run = client_dry_run(a.dry_run, "resume")?;
    if !dry_run {
        ui.check_confirmable(a.yes)?;
    }
    if a.finalize {
        s.journal.settings.finalize = true;
    }
    if let Some(t) = timeout {
        s.journal.settings.timeout_secs = t.as_secs().max(1);
    }
    // A finalized switch that completed its steps only has its end left
    // (the journal deleted): drive it there rather than say "nothing".
    if s.journal.is_complete()
        && !a.finalize
        && !s.journal.settings.finalize
        && s.journal.rolled_back.is_none()
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "nothing to resume: {}; pass --finalize to finish, or abort",
            s.journal.phase()
        )?;
        return Ok(());
    }
    let adopted = check_or_adopt(&ctx, &mut s, a.adopt).await?;
    {
        // The plan goes to stdout for a dry run, to stderr before a prompt.
        let mut err: Box<dyn Write> = if dry_run {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(std::io::stderr().lock())
        };
        writeln!(
            err,
            "{} {} of {}/{}: {}",
            if dry_run { "Would resume" } else { "Resuming" },
            s.journal.kind.command(),
            s.journal.namespace,
            s.journal.old_service,
            s.journal.phase()
        )?;
        if let Some(line) = &adopted {
            writeln!(err, "  {line}")?;
        }
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
    if dry_run {
        return Ok(());
    }
    ui.confirm("Resume?", a.yes)?;
    s.journal.retry(now());
    let mut out = crate::ui::Narration::default();
    drive(&ctx, ui, &mut s, &mut out).await
}

pub async fn abort(global: &GlobalArgs, a: &AbortArgs, ui: &Ui) -> Result<(), Error> {
    let timeout = a
        .timeout
        .as_deref()
        .map(|t| timeout("--timeout", t))
        .transpose()?;
    let ctx = Context::build(global).await?;
    let mut s = stored(&ctx, &a.service).await?;
    if let Some(t) = timeout {
        s.journal.settings.timeout_secs = t.as_secs().max(1);
    }
    let dry_run = client_dry_run(a.dry_run, "abort")?;
    if !dry_run {
        ui.check_confirmable(a.yes)?;
    }
    {
        let mut err: Box<dyn Write> = if dry_run {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(std::io::stderr().lock())
        };
        if listener::is_listener(&s.journal) {
            writeln!(
                err,
                "{} cutover of {}/{} ({}): {}",
                if dry_run { "Would abort the" } else { "Abort" },
                s.journal.namespace,
                s.journal.old_service,
                s.journal.phase(),
                listener::abort_summary(&s.journal)
            )?;
        } else {
            writeln!(
                err,
                "{} {} of {}/{} ({}): restore {} record(s) to {}, delete service/{}",
                if dry_run { "Would abort the" } else { "Abort" },
                s.journal.kind.command(),
                s.journal.namespace,
                s.journal.old_service,
                s.journal.phase(),
                s.journal.original_records.len(),
                s.journal.old_lb.dns_name,
                s.journal.new_service
            )?;
        }
    }
    if dry_run {
        return Ok(());
    }
    ui.confirm("Abort?", a.yes)?;
    let mut out = crate::ui::Narration::default();
    undo(&ctx, ui, &mut s, &mut out).await
}

#[cfg(test)]
mod tests {
    use super::{duration, timeout};
    use std::time::Duration;

    #[test]
    fn a_zero_timeout_is_refused_and_other_durations_parse_alike() {
        // qa D-C6: one parser for every --timeout.
        for zero in ["0", "0s", " 0m "] {
            let e = timeout("--timeout", zero).unwrap_err().to_string();
            assert!(e.contains("every wait needs a limit"), "{zero}: {e}");
        }
        assert_eq!(
            timeout("--timeout", "90").ok(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            timeout("--timeout", "5m").ok(),
            Some(Duration::from_secs(300))
        );
        assert!(timeout("--timeout", "8d").is_err(), "over the week limit");
        assert_eq!(
            duration("--soak", "0s").ok(),
            Some(Duration::ZERO),
            "a soak may be 0"
        );
    }
}
