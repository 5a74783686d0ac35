//! `kubectl nlb cutover` against the sandbox: moto for Route 53 and ELBv2,
//! the LBC stand-in provisioning the parallel Service in the background.
//!
//! The seeded `web/frontend` is an LBC ip-mode Service with
//! preserve_client_ip=true and the alias `www.example.com` pointing at it.

use crate::switching::{
    self, alias_target, config_map_exists, create_record, groups_of, inventory, load_balancers,
    records, sandbox, service, settle,
};
use crate::util::{Env, run};
use aws_sdk_route53::types::RrType;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use nlb_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;
use std::time::Duration;

const WWW: &str = "www.example.com.";
const JOURNAL: &str = "kubectl-nlb-switch-frontend";

async fn weights(sandbox: &Sandbox, old: &str, new: &str) -> (i64, i64) {
    switching::weights(sandbox, WWW, "web", old, new).await
}

async fn hostname(sandbox: &Sandbox, name: &str) -> Option<String> {
    switching::hostname(&service(sandbox, "web", name).await?)
}

async fn service_exists(sandbox: &Sandbox, name: &str) -> bool {
    service(sandbox, "web", name).await.is_some()
}

async fn journal_exists(sandbox: &Sandbox, name: &str) -> bool {
    config_map_exists(sandbox, "web", name).await
}

async fn attribute_of_new_groups(sandbox: &Sandbox, dns: &str) -> Vec<String> {
    groups_of(sandbox, dns)
        .await
        .into_iter()
        .map(|(_, pcip)| pcip)
        .collect()
}

/// An external-dns TXT ownership record for web/frontend.
async fn txt_owner(sandbox: &Sandbox, name: &str) {
    create_record(
        sandbox,
        &sandbox.world().hosted_zone_id,
        name,
        RrType::Txt,
        300,
        "\"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/web/frontend\"",
    )
    .await;
}

/// A fast cutover: no soak, 1 s polls, no drain.
fn fast<'a>(service: &'a str, preserve: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = switching::quick("cutover", service, "web", &[preserve]);
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_shifts_weights_step_by_step_and_finalizes() {
    let (sandbox, env) = sandbox().await;
    let old_dns = hostname(&sandbox, "frontend")
        .await
        .expect("seeded hostname");
    let lbs_before = load_balancers(&sandbox).await.len();
    sandbox.reset_aws_requests().await.expect("reset");

    // Stop after each step to look at what Route 53 holds, then resume.
    let first = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-10:done")),
        &fast(
            "frontend",
            "--preserve-client-ip=false",
            &["--weights", "10,50,100"],
        ),
    )
    .await;
    assert_eq!(first.code, 137, "{}", first.stderr);
    assert!(
        first.stdout.contains("service/frontend-cip-off created"),
        "{}",
        first.stdout
    );
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (90, 10)
    );
    let new_dns = hostname(&sandbox, "frontend-cip-off")
        .await
        .expect("new hostname");
    // §3.3: the attribute is written explicitly and is live on every new group.
    let values = attribute_of_new_groups(&sandbox, &new_dns).await;
    assert!(
        !values.is_empty() && values.iter().all(|v| v == "false"),
        "{values:?}"
    );

    let status = run(&env, &["cutover", "status", "frontend", "-n", "web"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("old 90 / new 10"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("next: shift-50"),
        "{}",
        status.stdout
    );
    let status = run(
        &env,
        &["cutover", "status", "frontend", "-n", "web", "-o", "json"],
    )
    .await;
    assert_eq!(status.json()["done"], 4, "{}", status.stdout);

    let second = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-50:done")),
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(second.code, 137, "{}", second.stderr);
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (50, 50)
    );

    let last = run(
        &env,
        &[
            "cutover",
            "resume",
            "frontend",
            "-n",
            "web",
            "--finalize",
            "--yes",
        ],
    )
    .await;
    assert_eq!(
        last.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        last.stdout, last.stderr
    );
    assert!(
        last.stdout.contains("100% on the new NLB"),
        "{}",
        last.stdout
    );
    assert!(
        last.stdout.contains("service/frontend deleted"),
        "{}",
        last.stdout
    );

    // One simple alias to the new NLB; the old Service, its NLB and the journal gone.
    let sets = records(&sandbox, WWW).await;
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0].set_identifier(), None);
    assert_eq!(alias_target(&sets[0]), new_dns);
    assert!(!service_exists(&sandbox, "frontend").await);
    assert!(service_exists(&sandbox, "frontend-cip-off").await);
    assert!(!journal_exists(&sandbox, JOURNAL).await);
    settle(&sandbox).await;
    let lbs = load_balancers(&sandbox).await;
    assert!(!lbs.contains(&old_dns), "old NLB deleted: {lbs:?}");
    assert!(lbs.contains(&new_dns));
    assert_eq!(lbs.len(), lbs_before);

    // Every batch was waited on: one GetChange (at least) per change.
    let calls = sandbox.aws_requests().await.expect("requests");
    let count = |action: &str| -> u64 {
        calls
            .iter()
            .filter(|(_, a, _)| a == action)
            .map(|(_, _, n)| n)
            .sum()
    };
    // convert + 3 shifts + collapse
    assert_eq!(count("ChangeResourceRecordSets"), 5, "{calls:?}");
    assert!(count("GetChange") >= 5, "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_prints_every_step_and_leaves_a_finalize_command() {
    let (sandbox, env) = sandbox().await;
    let run1 = run(&env, &fast("frontend", "--preserve-client-ip=false", &[])).await;
    assert_eq!(
        run1.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run1.stdout, run1.stderr
    );
    for line in [
        "service/frontend-cip-off created",
        "new NLB",
        "records made weighted (old 100, new 0)",
        "10% on the new NLB",
        "50% on the new NLB",
        "100% on the new NLB",
        "kubectl nlb cutover resume frontend -n web --finalize",
    ] {
        assert!(run1.stdout.contains(line), "{line:?} in:\n{}", run1.stdout);
    }
    // Not finalized: the old Service stays, weights sit at 0/100, the journal stays.
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (0, 100)
    );
    assert!(service_exists(&sandbox, "frontend").await);
    assert!(journal_exists(&sandbox, JOURNAL).await);
    let again = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to resume"),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_new_targets_roll_back_and_abort_restores_the_record() {
    let (sandbox, env) = sandbox().await;
    let original = records(&sandbox, WWW).await;
    let lbs_before = load_balancers(&sandbox).await;
    let first = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-10:done")),
        &fast(
            "frontend",
            "--preserve-client-ip=false",
            &["--weights", "10,50,100"],
        ),
    )
    .await;
    assert_eq!(first.code, 137, "{}", first.stderr);
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (90, 10)
    );

    // The pods behind both NLBs start failing health checks mid-shift.
    let pods = sandbox
        .world()
        .service("web", "frontend")
        .expect("frontend")
        .pod_ips
        .clone();
    assert!(!pods.is_empty());
    for ip in &pods {
        sandbox
            .set_target_health(ip, "unhealthy", "Target.FailedHealthChecks")
            .await
            .expect("override");
    }
    let resumed = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(
        resumed.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        resumed.stdout, resumed.stderr
    );
    assert!(resumed.stderr.contains("rolled back"), "{}", resumed.stderr);
    assert!(
        resumed.stderr.contains("Target.FailedHealthChecks"),
        "{}",
        resumed.stderr
    );
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (100, 0)
    );
    assert!(
        service_exists(&sandbox, "frontend-cip-off").await,
        "kept for inspection"
    );
    let status = run(&env, &["cutover", "status", "frontend", "-n", "web"]).await;
    assert!(status.stdout.contains("rolled back"), "{}", status.stdout);
    assert!(status.stdout.contains("FAIL"), "{}", status.stdout);

    sandbox.clear_target_health().await.expect("clear");
    let aborted = run(
        &env,
        &["cutover", "abort", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(aborted.code, 0, "{}", aborted.stderr);
    assert_eq!(
        records(&sandbox, WWW).await,
        original,
        "the original record, exactly"
    );
    assert!(!service_exists(&sandbox, "frontend-cip-off").await);
    assert!(!journal_exists(&sandbox, JOURNAL).await);
    settle(&sandbox).await;
    assert_eq!(load_balancers(&sandbox).await, lbs_before, "no leaked NLB");
}

/// Kills the process at a step boundary, aborts (original state back
/// exactly, no NLB left behind), starts again, kills at the same boundary,
/// and resumes to the end. Each case starts from the Service the previous
/// case left, so one sandbox serves a chain of cutovers.
async fn kill_chain(boundaries: &[&str]) {
    let (sandbox, env) = sandbox().await;
    let mut current = "frontend".to_string();
    let mut preserve = false;
    for boundary in boundaries {
        let new = if preserve {
            current.replace("-cip-off", "-cip-on")
        } else if current.ends_with("-cip-on") {
            current.replace("-cip-on", "-cip-off")
        } else {
            format!("{current}-cip-off")
        };
        let flag = format!("--preserve-client-ip={preserve}");
        let args = fast(&current, &flag, &["--weights", "50,100", "--finalize"]);
        let killed = env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some(boundary));
        let before = records(&sandbox, WWW).await;
        let lbs_before = load_balancers(&sandbox).await;

        let r = run(&killed, &args).await;
        assert_eq!(r.code, 137, "{boundary}: {}", r.stderr);
        let r = run(&env, &["cutover", "abort", &current, "-n", "web", "--yes"]).await;
        if *boundary == "delete-old-service:done" {
            assert_eq!(r.code, 1, "{boundary}: {}", r.stderr);
            assert!(r.stderr.contains("nothing to go back to"), "{}", r.stderr);
        } else {
            assert_eq!(r.code, 0, "{boundary}: {}\n{}", r.stdout, r.stderr);
            assert_eq!(
                records(&sandbox, WWW).await,
                before,
                "{boundary}: record restored"
            );
            assert!(!service_exists(&sandbox, &new).await, "{boundary}");
            settle(&sandbox).await;
            assert_eq!(
                load_balancers(&sandbox).await,
                lbs_before,
                "{boundary}: leak"
            );
            let r = run(&killed, &args).await;
            assert_eq!(r.code, 137, "{boundary}: {}", r.stderr);
        }
        let r = run(&env, &["cutover", "resume", &current, "-n", "web", "--yes"]).await;
        assert_eq!(r.code, 0, "{boundary}: {}\n{}", r.stdout, r.stderr);
        let sets = records(&sandbox, WWW).await;
        assert_eq!(sets.len(), 1, "{boundary}: {sets:?}");
        let new_dns = hostname(&sandbox, &new).await.expect("new hostname");
        assert_eq!(alias_target(&sets[0]), new_dns, "{boundary}");
        assert!(!service_exists(&sandbox, &current).await, "{boundary}");
        settle(&sandbox).await;
        assert_eq!(
            load_balancers(&sandbox).await.len(),
            lbs_before.len(),
            "{boundary}"
        );
        current = new;
        preserve = !preserve;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_traffic_moves_then_abort_or_resume() {
    kill_chain(&[
        "create-service:began",
        "create-service:done",
        "wait-ready:done",
        "convert-records:began",
        "convert-records:done",
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_traffic_moves_then_abort_or_resume() {
    kill_chain(&[
        "shift-50:began",
        "shift-50:done",
        "shift-100:done",
        "collapse-records:began",
        "collapse-records:done",
        "drain:done",
        "delete-old-service:began",
        "delete-old-service:done",
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_on_route53_and_elbv2_is_retried() {
    let (sandbox, env) = sandbox().await;
    // More than the SDK's own 6 attempts, and PriorRequestNotComplete, which the
    // SDK does not retry: the tool's own backoff must carry the change through.
    sandbox
        .inject_aws_fault("route53", "ChangeResourceRecordSets", "Throttling", 7)
        .await
        .expect("fault");
    sandbox
        .inject_aws_fault(
            "route53",
            "ChangeResourceRecordSets",
            "PriorRequestNotComplete",
            2,
        )
        .await
        .expect("fault");
    sandbox
        .inject_aws_fault("route53", "GetChange", "Throttling", 2)
        .await
        .expect("fault");
    sandbox
        .inject_aws_fault(
            "elasticloadbalancing",
            "DescribeTargetHealth",
            "Throttling",
            5,
        )
        .await
        .expect("fault");
    let r = run(
        &env,
        &fast("frontend", "--preserve-client-ip=false", &["--finalize"]),
    )
    .await;
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let sets = records(&sandbox, WWW).await;
    assert_eq!(sets.len(), 1);
    let new_dns = hostname(&sandbox, "frontend-cip-off")
        .await
        .expect("hostname");
    assert_eq!(alias_target(&sets[0]), new_dns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_changes_nothing() {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sandbox);
    // A ClusterIP Service and an LBC Service with EIPs, made by hand.
    let api = Api::<Service>::namespaced(sandbox.kube_client(), "web");
    for svc in [
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "internal-only", "namespace": "web"},
               "spec": {"selector": {"app": "frontend"}, "ports": [{"port": 80}]}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "pinned", "namespace": "web", "annotations": {
                   "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                   "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                   "service.beta.kubernetes.io/aws-load-balancer-eip-allocations": "eipalloc-1,eipalloc-2"}},
               "spec": {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb",
                        "selector": {"app": "frontend"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
    ] {
        api.create(
            &PostParams::default(),
            &serde_json::from_value(svc).expect("svc"),
        )
        .await
        .expect("create");
    }
    sandbox.reconcile().await.expect("reconcile");
    let before = inventory(&sandbox).await;

    let ok = "--preserve-client-ip=false";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["frontend", ok, "--weights", "0,50,100"],
            "out of range",
        ),
        (
            vec!["frontend", ok, "--weights", "50,10,100"],
            "does not increase",
        ),
        (
            vec!["frontend", ok, "--weights", "10,50"],
            "last step must be 100",
        ),
        (
            vec!["frontend", ok, "--weights", "abc"],
            "not a whole number",
        ),
        (vec!["frontend", ok, "--interval", "0"], "--interval 0"),
        (vec!["frontend", ok, "--timeout", "soon"], "not a duration"),
        (vec!["frontend", ok, "--soak", "forever"], "not a duration"),
        (
            vec!["frontend", ok, "--new-name", "Bad_Name"],
            "not a valid Service name",
        ),
        (
            vec!["frontend", ok, "--new-name", "frontend"],
            "is the Service being replaced",
        ),
        (vec!["nosuch", ok], "service web/nosuch not found"),
        (vec!["internal-only", ok], "not LoadBalancer"),
        (
            vec!["frontend", "--preserve-client-ip=true"],
            "already has preserve_client_ip.enabled=true",
        ),
        (
            vec!["frontend", ok, "--new-name", "static-eip"],
            "service web/static-eip already exists",
        ),
        (
            vec!["frontend", ok, "--record", "nothere.example.com"],
            "no A, AAAA or CNAME record named nothere.example.com",
        ),
        (
            vec!["frontend", ok, "--zone", "nosuch.example"],
            "hosted zone nosuch.example not found",
        ),
        (vec!["pinned", ok], "Elastic IPs"),
    ];
    for (args, needle) in &cases {
        let mut argv = vec!["cutover", "-n", "web", "--yes"];
        argv.extend(args.iter().copied());
        let r = run(&env, &argv).await;
        crate::util::assert_one_line_error(&r, needle);
    }
    // Other namespaces: the in-tree Service and the PrivateLink one.
    for (args, needle) in [
        (
            vec!["cutover", "checkout", "-n", "shop", ok, "--yes"],
            "kubectl nlb migrate checkout -n shop",
        ),
        (
            // payments' target groups are ip TCP: AWS's default is off, so
            // only turning it on is a change (and meets the PrivateLink check).
            vec![
                "cutover",
                "payments",
                "-n",
                "shop",
                "--preserve-client-ip=true",
                "--yes",
            ],
            "PrivateLink",
        ),
        (
            vec!["cutover", "status", "frontend", "-n", "web"],
            "no cutover or migration of service web/frontend",
        ),
        (
            vec!["cutover", "resume", "frontend", "-n", "web", "--yes"],
            "no cutover or migration",
        ),
        (
            vec!["cutover", "abort", "frontend", "-n", "web", "--yes"],
            "no cutover or migration",
        ),
    ] {
        let r = run(&env, &args).await;
        crate::util::assert_one_line_error(&r, needle);
    }
    // Usage errors: clap's message, exit 1.
    for args in [
        vec![
            "cutover",
            "frontend",
            "-n",
            "web",
            "--preserve-client-ip=maybe",
        ],
        vec!["cutover", "frontend", "-n", "web"],
    ] {
        let r = run(&env, &args).await;
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("preserve-client-ip"), "{}", r.stderr);
    }
    // Not a terminal and no --yes: refused before any write.
    let r = run(&env, &["cutover", "frontend", "-n", "web", ok]).await;
    crate::util::assert_one_line_error(&r, "pass --yes");
    assert_eq!(inventory(&sandbox).await, before, "nothing changed");

    // A record owned by external-dns (its TXT registry record) is refused.
    txt_owner(&sandbox, "a-www.example.com.").await;
    let before = inventory(&sandbox).await;
    let r = run(&env, &["cutover", "frontend", "-n", "web", ok, "--yes"]).await;
    crate::util::assert_one_line_error(&r, "owned by external-dns");
    assert_eq!(inventory(&sandbox).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_dns_annotations_a_second_zone_and_a_running_cutover_are_refused() {
    let (sandbox, env) = sandbox().await;
    let ok = "--preserve-client-ip=false";
    let api = Api::<Service>::namespaced(sandbox.kube_client(), "web");
    api.patch(
        "frontend",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {
            "external-dns.alpha.kubernetes.io/hostname": "www.example.com"}}})),
    )
    .await
    .expect("annotate");
    let before = inventory(&sandbox).await;
    let r = run(&env, &["cutover", "frontend", "-n", "web", ok, "--yes"]).await;
    crate::util::assert_one_line_error(&r, "external-dns.alpha.kubernetes.io/hostname");
    assert_eq!(inventory(&sandbox).await, before);
    api.patch(
        "frontend",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {
            "external-dns.alpha.kubernetes.io/hostname": null}}})),
    )
    .await
    .expect("unannotate");

    // The same record name in a second (private) zone, also at the NLB.
    let dns = hostname(&sandbox, "frontend").await.expect("hostname");
    let r53 = &sandbox.aws_internal().r53;
    let zone = r53
        .create_hosted_zone()
        .name("example.com")
        .caller_reference("second-zone")
        .send()
        .await
        .expect("zone");
    let zone_id = zone
        .hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    create_record(
        &sandbox,
        &zone_id,
        "www.example.com.",
        RrType::Cname,
        60,
        &dns,
    )
    .await;
    let before = inventory(&sandbox).await;
    let r = run(&env, &["cutover", "frontend", "-n", "web", ok, "--yes"]).await;
    crate::util::assert_one_line_error(&r, "2 hosted zones");
    assert_eq!(inventory(&sandbox).await, before);

    // --zone picks one; a second cutover of the same Service is then refused.
    let zone_flag = sandbox.world().hosted_zone_id.clone();
    let r = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("create-service:done")),
        &fast("frontend", ok, &["--zone", &zone_flag]),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    // Let the controller stand-in provision the parallel Service first.
    settle(&sandbox).await;
    let before = inventory(&sandbox).await;
    let r = run(
        &env,
        &[
            "cutover", "frontend", "-n", "web", ok, "--zone", &zone_flag, "--yes",
        ],
    )
    .await;
    crate::util::assert_one_line_error(&r, "already in progress");
    assert_eq!(inventory(&sandbox).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_and_manifests_change_nothing() {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sandbox);
    let before = inventory(&sandbox).await;
    let r = run(
        &env,
        &[
            "cutover",
            "frontend",
            "-n",
            "web",
            "--preserve-client-ip=false",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "Cutover of service web/frontend: preserve_client_ip.enabled 1 target group(s) true → false",
        "www.example.com. A",
        "create service/frontend-cip-off",
        "weights old 90 / new 10",
        "kubectl nlb cutover resume frontend -n web --finalize",
        "kind: Service",
    ] {
        assert!(r.stdout.contains(needle), "{needle:?} in:\n{}", r.stdout);
    }
    let r = run(
        &env,
        &[
            "cutover",
            "frontend",
            "-n",
            "web",
            "--preserve-client-ip=false",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = r.json();
    assert_eq!(m["metadata"]["name"], "frontend-cip-off");
    assert_eq!(
        m["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"],
        "preserve_client_ip.enabled=false"
    );
    assert_eq!(
        m["metadata"]["annotations"]["nlb.kubectl.io/switched-from"],
        "web/frontend"
    );
    let r = run(
        &env,
        &[
            "cutover",
            "frontend",
            "-n",
            "web",
            "--preserve-client-ip=false",
            "--dry-run=server",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("nothing was changed"), "{}", r.stdout);
    assert_eq!(inventory(&sandbox).await, before);
}

/// The journal's step in flight, if any.
async fn in_flight(sandbox: &Sandbox) -> Option<String> {
    let cm = Api::<ConfigMap>::namespaced(sandbox.kube_client(), "web")
        .get_opt(JOURNAL)
        .await
        .expect("get journal")?;
    let text = cm.data?.get("journal.json")?.clone();
    let j: serde_json::Value = serde_json::from_str(&text).expect("journal json");
    j["inFlight"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_controller_times_out_with_exit_3_and_resume_finishes() {
    let (sandbox, env) = sandbox().await;
    sandbox.set_provisioning_delay(Duration::from_secs(600));
    let mut args = fast("frontend", "--preserve-client-ip=false", &["--finalize"]);
    let i = args.iter().position(|a| *a == "60s").expect("timeout flag");
    args[i] = "2s";
    let r = run(&env, &args).await;
    assert_eq!(r.code, 3, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("timed out after 2s"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("kubectl nlb cutover resume frontend -n web"),
        "{}",
        r.stderr
    );
    // Nothing moved: the record is still the simple alias to the old NLB.
    assert_eq!(records(&sandbox, WWW).await[0].set_identifier(), None);
    assert_eq!(in_flight(&sandbox).await.as_deref(), Some("wait-ready"));

    sandbox.set_provisioning_delay(Duration::ZERO);
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(!service_exists(&sandbox, "frontend").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_wait_stops_cleanly_and_says_how_to_go_on() {
    let (sandbox, env) = sandbox().await;
    sandbox.set_provisioning_delay(Duration::from_secs(600));
    let args = fast("frontend", "--preserve-client-ip=false", &[]);
    let child = crate::util::command(&env, &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut waited = 0;
    while in_flight(&sandbox).await.as_deref() != Some("wait-ready") {
        waited += 1;
        assert!(waited < 200, "the cutover never reached wait-ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted during wait-ready"), "{stderr}");
    assert!(
        stderr.contains("kubectl nlb cutover resume frontend -n web"),
        "{stderr}"
    );
    assert!(
        stderr.contains("kubectl nlb cutover abort frontend -n web"),
        "{stderr}"
    );
    // The journal still says where it stopped; abort cleans up.
    let r = run(
        &env,
        &["cutover", "abort", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!service_exists(&sandbox, "frontend-cip-off").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_and_cname_records_move_together_and_cname_keeps_its_ttl() {
    let (sandbox, env) = sandbox().await;
    let old_dns = hostname(&sandbox, "frontend").await.expect("hostname");
    let zone = sandbox.world().hosted_zone_id.clone();
    create_record(
        &sandbox,
        &zone,
        "app.example.com.",
        RrType::Cname,
        120,
        &old_dns,
    )
    .await;
    let killed = env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-50:done"));
    let r = run(
        &killed,
        &fast(
            "frontend",
            "--preserve-client-ip=false",
            &["--weights", "50,100", "--finalize"],
        ),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    let app = records(&sandbox, "app.example.com.").await;
    assert_eq!(app.len(), 2, "{app:?}");
    for rec in &app {
        assert_eq!(rec.weight(), Some(50));
        assert_eq!(
            rec.ttl(),
            Some(120),
            "a weighted group shares the CNAME's TTL"
        );
    }
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (50, 50)
    );
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new_dns = hostname(&sandbox, "frontend-cip-off")
        .await
        .expect("hostname");
    let app = records(&sandbox, "app.example.com.").await;
    assert_eq!(app.len(), 1, "{app:?}");
    assert_eq!(app[0].set_identifier(), None);
    assert_eq!(app[0].ttl(), Some(120));
    assert_eq!(
        app[0].resource_records()[0].value().to_ascii_lowercase(),
        new_dns
    );
    let www = records(&sandbox, WWW).await;
    assert_eq!(www.len(), 1);
    assert_eq!(alias_target(&www[0]), new_dns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_error_midway_says_where_it_stopped_and_resume_carries_on() {
    let (sandbox, env) = sandbox().await;
    let killed = env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("convert-records:done"));
    let args = fast(
        "frontend",
        "--preserve-client-ip=false",
        &["--weights", "50,100"],
    );
    let r = run(&killed, &args).await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    // Not a throttle: Route 53 refuses the next batch outright, once.
    sandbox
        .inject_aws_fault(
            "route53",
            "ChangeResourceRecordSets",
            "InvalidChangeBatch",
            1,
        )
        .await
        .expect("fault");
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(last.contains("InvalidChangeBatch"), "{last}");
    assert!(last.contains("The switch stopped at shift-50"), "{last}");
    assert!(
        last.contains("kubectl nlb cutover resume frontend -n web"),
        "{last}"
    );
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (100, 0)
    );
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        weights(&sandbox, "frontend", "frontend-cip-off").await,
        (0, 100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_while_another_process_drives_the_switch_stops_that_process() {
    let (sandbox, env) = sandbox().await;
    let original = records(&sandbox, WWW).await;
    let mut args = fast(
        "frontend",
        "--preserve-client-ip=false",
        &["--weights", "10,100"],
    );
    let i = args.iter().position(|a| *a == "--soak").expect("soak flag");
    args[i + 1] = "5s";
    let driver = crate::util::command(&env, &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut waited = 0;
    while in_flight(&sandbox).await.as_deref() != Some("shift-10") {
        waited += 1;
        assert!(waited < 300, "the cutover never reached shift-10");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = run(
        &env,
        &["cutover", "abort", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = tokio::task::spawn_blocking(move || driver.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // It stops at its next journal write, whatever it meets first, and
    // says the switch was aborted (exit 2), not how to resume it.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("was aborted while this process drove it"),
        "{stderr}"
    );
    // The driver wrote nothing after the abort: the original record stands.
    assert_eq!(records(&sandbox, WWW).await, original);
    assert!(!service_exists(&sandbox, "frontend-cip-off").await);
}
