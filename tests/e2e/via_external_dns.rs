//! `cutover` and `migrate` of Services whose record external-dns owns,
//! against the external-dns stand-in (tests/sandbox/src/external_dns.rs):
//! the switch writes annotations, external-dns writes Route 53.

use crate::switching::{config_map_exists, load_balancers, quick, service};
use crate::util::{Env, run};
use aws_sdk_route53::types::ResourceRecordSet;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use nlb_sandbox::{ExternalDnsOptions, Sandbox, SandboxOptions};
use serde_json::{Value, json};
use std::time::Duration;

const APP: &str = "app.example.com";
const NEW_PREFIX: &str = "external-dns.kubernetes.io/";
const ALPHA: &str = "external-dns.alpha.kubernetes.io/";

async fn sandbox(edns: ExternalDnsOptions) -> (Sandbox, Env) {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        external_dns: Some(ExternalDnsOptions {
            interval: Some(Duration::from_millis(500)),
            ..edns
        }),
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    (sandbox, env)
}

async fn annotate(sb: &Sandbox, ns: &str, name: &str, annotations: Value) {
    Api::<Service>::namespaced(sb.kube_client(), ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": annotations}})),
        )
        .await
        .expect("annotate");
}

/// Every record set named `name` (A, AAAA and TXT), sorted.
async fn records(sb: &Sandbox, name: &str) -> Vec<ResourceRecordSet> {
    let want = format!("{}.", name.trim_end_matches('.'));
    let out = sb
        .aws_internal()
        .r53
        .list_resource_record_sets()
        .hosted_zone_id(&sb.world().hosted_zone_id)
        .send()
        .await
        .expect("records");
    let mut sets: Vec<ResourceRecordSet> = out
        .resource_record_sets()
        .iter()
        .filter(|r| r.name() == want || r.name().ends_with(&format!("-{want}")))
        .cloned()
        .collect();
    sets.sort_by_key(|r| {
        format!(
            "{} {} {:?}",
            r.name(),
            r.r#type().as_str(),
            r.set_identifier()
        )
    });
    sets
}

/// The A records named APP.
async fn a_records(sb: &Sandbox) -> Vec<ResourceRecordSet> {
    records(sb, APP)
        .await
        .into_iter()
        .filter(|r| r.name() == format!("{APP}.") && r.r#type().as_str() == "A")
        .collect()
}

/// The values of the TXT ownership records of APP.
async fn txt_values(sb: &Sandbox) -> Vec<String> {
    records(sb, APP)
        .await
        .iter()
        .filter(|r| r.r#type().as_str() == "TXT")
        .flat_map(|r| r.resource_records().iter().map(|v| v.value().to_string()))
        .collect()
}

/// APP is one simple A record to `dns`.
async fn assert_simple_to(sb: &Sandbox, dns: &str, what: &str) {
    let a = a_records(sb).await;
    assert_eq!(a.len(), 1, "{what}: {a:?}");
    assert!(
        a[0].set_identifier().is_none(),
        "{what}: simple again: {a:?}"
    );
    assert_eq!(alias_target(&a[0]), dns, "{what}");
}

/// (set identifier, weight) of the A records named APP.
async fn weights(sb: &Sandbox) -> Vec<(String, i64)> {
    a_records(sb)
        .await
        .iter()
        .map(|r| {
            (
                r.set_identifier().unwrap_or("-").to_string(),
                r.weight().unwrap_or(-1),
            )
        })
        .collect()
}

/// Polls (≤20 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never: {what}");
}

/// web/frontend asks external-dns for APP; waits until the record is there.
async fn owned_by_external_dns(sb: &Sandbox, prefix: &str) {
    annotate(
        sb,
        "web",
        "frontend",
        json!({format!("{prefix}hostname"): APP}),
    )
    .await;
    eventually("external-dns wrote the record", || async {
        weights(sb).await == vec![("-".to_string(), -1)]
    })
    .await;
}

fn alias_target(r: &ResourceRecordSet) -> String {
    r.alias_target()
        .map(|a| a.dns_name().trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default()
}

async fn hostname(sb: &Sandbox, ns: &str, name: &str) -> String {
    crate::switching::hostname(&service(sb, ns, name).await.expect("service")).expect("hostname")
}

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = quick(
        "cutover",
        "frontend",
        "web",
        &["--preserve-client-ip=false", "--record", APP],
    );
    a.extend_from_slice(extra);
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_moves_an_external_dns_record_through_its_annotations() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    let old_dns = hostname(&sb, "web", "frontend").await;
    let lbs_before = load_balancers(&sb).await.len();

    let r = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-10:done")),
        &args(&["--weights", "10,50,100", "--finalize"]),
    )
    .await;
    assert_eq!(r.code, 137, "{}\n{}", r.stdout, r.stderr);
    let w = weights(&sb).await;
    assert_eq!(
        w.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![90, 10],
        "{w:?}"
    );
    let old = annotations(&sb, "frontend").await;
    assert_eq!(
        old.get(&format!("{NEW_PREFIX}aws-weight"))
            .map(String::as_str),
        Some("90")
    );
    let new = annotations(&sb, "frontend-cip-off").await;
    assert_eq!(
        new.get(&format!("{NEW_PREFIX}hostname"))
            .map(String::as_str),
        Some(APP)
    );
    assert_eq!(
        new.get(&format!("{NEW_PREFIX}aws-weight"))
            .map(String::as_str),
        Some("10")
    );

    let r = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-50:done")),
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 137, "{}\n{}", r.stdout, r.stderr);
    let w = weights(&sb).await;
    assert_eq!(
        w.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![50, 50],
        "{w:?}"
    );

    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let new_dns = hostname(&sb, "web", "frontend-cip-off").await;
    assert_simple_to(&sb, &new_dns, "cutover").await;
    assert_ne!(new_dns, old_dns);
    let txt = txt_values(&sb).await;
    assert!(!txt.is_empty(), "ownership records");
    assert!(
        txt.iter()
            .all(|v| v.contains("external-dns/resource=service/web/frontend-cip-off")),
        "the ownership moved to the new Service: {txt:?}"
    );
    assert!(service(&sb, "web", "frontend").await.is_none());
    assert!(!config_map_exists(&sb, "web", "kubectl-nlb-switch-frontend").await);
    crate::switching::settle(&sb).await;
    assert_eq!(load_balancers(&sb).await.len(), lbs_before);
}

async fn annotations(sb: &Sandbox, name: &str) -> std::collections::BTreeMap<String, String> {
    service(sb, "web", name)
        .await
        .and_then(|s| s.metadata.annotations)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_new_targets_roll_back_through_external_dns_and_abort_restores_everything() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    let before_records = records(&sb, APP).await;
    let before_annotations = annotations(&sb, "frontend").await;
    let r = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-10:done")),
        &args(&["--weights", "10,50,100"]),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    let new_dns = hostname(&sb, "web", "frontend-cip-off").await;
    let new_arn = load_balancer_arn(&sb, &new_dns).await;
    for tg in target_groups_of(&sb, &new_arn).await {
        for ip in &sb
            .world()
            .service("web", "frontend")
            .expect("seeded")
            .pod_ips
        {
            sb.set_target_health(
                &format!("{tg}/{ip}"),
                "unhealthy",
                "Target.FailedHealthChecks",
            )
            .await
            .expect("health");
        }
    }
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    let w = weights(&sb).await;
    assert_eq!(
        w.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![100, 0],
        "{w:?}"
    );

    let r = run(
        &env,
        &["cutover", "abort", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(annotations(&sb, "frontend").await, before_annotations);
    assert_eq!(
        records(&sb, APP).await,
        before_records,
        "the record and its TXT, exactly"
    );
    assert!(service(&sb, "web", "frontend-cip-off").await.is_none());
}

async fn load_balancer_arn(sb: &Sandbox, dns: &str) -> String {
    let out = sb
        .aws_internal()
        .elb
        .describe_load_balancers()
        .send()
        .await
        .expect("lbs");
    out.load_balancers()
        .iter()
        .find(|l| l.dns_name().map(str::to_ascii_lowercase).as_deref() == Some(dns))
        .and_then(|l| l.load_balancer_arn())
        .unwrap_or_default()
        .to_string()
}

async fn target_groups_of(sb: &Sandbox, lb: &str) -> Vec<String> {
    let out = sb
        .aws_internal()
        .elb
        .describe_target_groups()
        .load_balancer_arn(lb)
        .send()
        .await
        .expect("tgs");
    out.target_groups()
        .iter()
        .filter_map(|t| t.target_group_arn().map(str::to_string))
        .collect()
}

/// Kills at each boundary, aborts (annotations and records exactly as
/// before), and the next boundary starts again from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_from_every_boundary_restores_annotations_and_records_exactly() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    let before_records = records(&sb, APP).await;
    let before_annotations = annotations(&sb, "frontend").await;
    for boundary in [
        "create-service:done",
        "wait-ready:done",
        "convert-records:began",
        "convert-records:done",
        "shift-50:began",
        "shift-50:done",
        "shift-100:done",
        "collapse-records:began",
        "collapse-records:done",
        "drain:done",
    ] {
        let r = run(
            &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some(boundary)),
            &args(&["--weights", "50,100", "--finalize"]),
        )
        .await;
        assert_eq!(r.code, 137, "{boundary}: {}\n{}", r.stdout, r.stderr);
        let r = run(
            &env,
            &["cutover", "abort", "frontend", "-n", "web", "--yes"],
        )
        .await;
        assert_eq!(r.code, 0, "{boundary}: {}\n{}", r.stdout, r.stderr);
        assert_eq!(
            annotations(&sb, "frontend").await,
            before_annotations,
            "{boundary}"
        );
        eventually("external-dns settled", || async {
            records(&sb, APP).await == before_records
        })
        .await;
        assert!(
            service(&sb, "web", "frontend-cip-off").await.is_none(),
            "{boundary}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_a_boundary_then_resume_finishes_through_external_dns() {
    let (sb, env) = sandbox(ExternalDnsOptions {
        version: "v0.15.0".into(),
        ..Default::default()
    })
    .await;
    // v0.15 reads the alpha prefix.
    owned_by_external_dns(&sb, ALPHA).await;
    let r = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("collapse-records:began")),
        &args(&["--weights", "50,100", "--finalize"]),
    )
    .await;
    assert_eq!(r.code, 137, "{}\n{}", r.stdout, r.stderr);
    let new = annotations(&sb, "frontend-cip-off").await;
    assert_eq!(
        new.get(&format!("{ALPHA}hostname")).map(String::as_str),
        Some(APP)
    );
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let w = weights(&sb).await;
    assert_eq!(w, vec![("-".to_string(), -1)], "a simple record again");
    assert!(service(&sb, "web", "frontend").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_external_dns_cannot_move_is_refused_and_nothing_changes() {
    for (opts, prefix, needle) in [
        (
            ExternalDnsOptions {
                policy: Some("upsert-only".into()),
                ..Default::default()
            },
            NEW_PREFIX,
            "--policy=upsert-only",
        ),
        (
            ExternalDnsOptions {
                policy: Some("create-only".into()),
                ..Default::default()
            },
            NEW_PREFIX,
            "--policy=create-only",
        ),
    ] {
        let (sb, env) = sandbox(opts).await;
        owned_by_external_dns(&sb, prefix).await;
        let before = (
            crate::switching::inventory(&sb).await,
            annotations(&sb, "frontend").await,
        );
        let r = run(&env, &args(&[])).await;
        crate::util::assert_one_line_error(&r, needle);
        assert_eq!(
            (
                crate::switching::inventory(&sb).await,
                annotations(&sb, "frontend").await
            ),
            before
        );
    }
}

/// Replaces the external-dns Deployment's args (the stand-in re-reads them
/// on every pass, as a rollout would change them).
async fn set_args(sb: &Sandbox, f: impl Fn(&mut Vec<String>)) {
    use k8s_openapi::api::apps::v1::Deployment;
    let api: Api<Deployment> = Api::namespaced(sb.kube_client(), "kube-system");
    let mut d = api.get("external-dns").await.expect("deployment");
    let c = &mut d
        .spec
        .as_mut()
        .and_then(|s| s.template.spec.as_mut())
        .expect("pod spec")
        .containers[0];
    let mut args = c.args.clone().unwrap_or_default();
    f(&mut args);
    c.args = Some(args);
    d.metadata.managed_fields = None;
    api.replace("external-dns", &Default::default(), &d)
        .await
        .expect("replace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_another_owner_or_scope_holds_are_refused_all_at_once() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    // Another owner id, no Service source, another domain: three reasons.
    set_args(&sb, |args| {
        args.retain(|a| !a.starts_with("--txt-owner-id") && !a.starts_with("--source"));
        args.push("--txt-owner-id=green".into());
        args.push("--source=ingress".into());
        args.push("--domain-filter=example.org".into());
    })
    .await;
    let before = (
        crate::switching::inventory(&sb).await,
        annotations(&sb, "frontend").await,
    );
    let r = run(&env, &args(&[])).await;
    for needle in [
        "owner id default, and this external-dns is green",
        "--source=service",
        "--domain-filter (example.org)",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    crate::util::assert_one_line_error(&r, "cannot move through external-dns");
    assert_eq!(
        (
            crate::switching::inventory(&sb).await,
            annotations(&sb, "frontend").await
        ),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_external_dns_and_a_hand_made_record_both_claim_is_refused() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    // The seeded www record is hand-made and points at the same NLB: moving
    // every record of the NLB would mix the two.
    let before = crate::switching::inventory(&sb).await;
    let r = run(
        &env,
        &quick(
            "cutover",
            "frontend",
            "web",
            &["--preserve-client-ip=false"],
        ),
    )
    .await;
    crate::util::assert_one_line_error(&r, "does not own");
    assert_eq!(crate::switching::inventory(&sb).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_an_external_dns_record_of_an_in_tree_service() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    annotate(
        &sb,
        "shop",
        "checkout",
        json!({format!("{NEW_PREFIX}hostname"): APP}),
    )
    .await;
    eventually("external-dns wrote the record", || async {
        weights(&sb).await == vec![("-".to_string(), -1)]
    })
    .await;
    let mut a = quick("migrate", "checkout", "shop", &["--record", APP]);
    a.extend_from_slice(&["--weights", "10,50,100", "--finalize"]);
    for (boundary, want) in [
        ("shift-10:done", vec![90, 10]),
        ("shift-50:done", vec![50, 50]),
    ] {
        let r = run(&env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some(boundary)), &a).await;
        assert_eq!(r.code, 137, "{boundary}: {}\n{}", r.stdout, r.stderr);
        let w = weights(&sb).await;
        assert_eq!(
            w.iter().map(|x| x.1).collect::<Vec<_>>(),
            want,
            "old, new: {w:?}"
        );
        a = vec!["migrate", "resume", "checkout", "-n", "shop", "--yes"];
    }
    let r = run(&env, &a).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let new = crate::switching::hostname(
        &service(&sb, "shop", "checkout-lbc")
            .await
            .expect("the new Service"),
    )
    .expect("hostname");
    assert_simple_to(&sb, &new, "migrate").await;
    assert!(service(&sb, "shop", "checkout").await.is_none());
    let txt = txt_values(&sb).await;
    assert!(
        !txt.is_empty()
            && txt
                .iter()
                .all(|v| v.contains("external-dns/resource=service/shop/checkout-lbc")),
        "the ownership moved to the new Service: {txt:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_shows_each_annotation_change_and_what_route_53_shows_after_it() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    let before = crate::switching::inventory(&sb).await;
    let mut a = args(&["--weights", "50,100", "--finalize", "--dry-run=client"]);
    a.retain(|x| *x != "--yes");
    let r = run(&env, &a).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "annotate service/frontend external-dns.kubernetes.io/aws-weight=100 external-dns.kubernetes.io/set-identifier=kubectl-nlb:web/frontend → Route 53 shows the old NLB's weighted record alone (weight 100)",
        "annotate service/frontend-cip-off external-dns.kubernetes.io/aws-weight=0 external-dns.kubernetes.io/hostname=app.example.com",
        "→ Route 53 shows weights old 100 / new 0",
        "→ Route 53 shows weights old 50 / new 50",
        "→ Route 53 shows a simple record to the new NLB",
        "through external-dns (kube-system/external-dns",
    ] {
        assert!(r.stdout.contains(needle), "{needle}:\n{}", r.stdout);
    }
    assert!(
        !r.stdout
            .contains("external-dns.kubernetes.io/hostname: app.example.com"),
        "the parallel Service's manifest does not ask for the name: {}",
        r.stdout
    );
    assert_eq!(crate::switching::inventory(&sb).await, before);
}

/// Kills at each boundary and resumes to the end; each case cuts over the
/// Service the previous one left (frontend → frontend-cip-off → -cip-on …).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_every_boundary_then_resume_finishes() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    let mut current = "frontend".to_string();
    let mut preserve = false;
    for boundary in [
        "create-service:done",
        "convert-records:began",
        "convert-records:done",
        "shift-50:began",
        "shift-100:done",
        "collapse-records:began",
        "collapse-records:done",
        "drain:done",
        "delete-old-service:began",
    ] {
        let new = if preserve {
            current.replace("-cip-off", "-cip-on")
        } else if current.ends_with("-cip-on") {
            current.replace("-cip-on", "-cip-off")
        } else {
            format!("{current}-cip-off")
        };
        let flag = format!("--preserve-client-ip={preserve}");
        let mut a = quick("cutover", &current, "web", &[&flag, "--record", APP]);
        a.extend_from_slice(&["--weights", "50,100", "--finalize"]);
        let r = run(&env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some(boundary)), &a).await;
        assert_eq!(r.code, 137, "{boundary}: {}\n{}", r.stdout, r.stderr);
        let r = run(&env, &["cutover", "resume", &current, "-n", "web", "--yes"]).await;
        assert_eq!(r.code, 0, "{boundary}: {}\n{}", r.stdout, r.stderr);
        let new_dns = hostname(&sb, "web", &new).await;
        assert_simple_to(&sb, &new_dns, boundary).await;
        assert!(service(&sb, "web", &current).await.is_none(), "{boundary}");
        current = new;
        preserve = !preserve;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v0_22_external_dns_without_a_policy_is_refused() {
    let (sb, env) = sandbox(ExternalDnsOptions::default()).await;
    owned_by_external_dns(&sb, NEW_PREFIX).await;
    set_args(&sb, |args| args.retain(|a| !a.starts_with("--policy"))).await;
    let before = crate::switching::inventory(&sb).await;
    let r = run(&env, &args(&[])).await;
    crate::util::assert_one_line_error(&r, "does not start without one");
    assert_eq!(crate::switching::inventory(&sb).await, before);
}
