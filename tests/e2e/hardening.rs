//! Defects found trying the tool as a user would (shared/reference/qa-findings.md),
//! each pinned by the test named after what it proves.

use crate::switching::{config_map_exists, quick, records, sandbox, service};
use crate::util::{Env, command, run};
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

/// Runs the binary, reads `keep` bytes (or the first line with `None`) of
/// its stdout, then closes it, as `| head` does; returns (exit code, stderr).
async fn with_stdout_closed(env: &Env, args: &[&str], keep: Option<usize>) -> (i32, String) {
    let env = env.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = command(&env, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        match keep {
            Some(n) => {
                let mut buf = vec![0u8; n];
                let _ = BufReader::new(stdout).read_exact(&mut buf);
            }
            None => {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
            }
        }
        let mut err = String::new();
        let _ = child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err);
        let status = child.wait().expect("wait");
        (status.code().unwrap_or(-1), err)
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_mid_switch_neither_stops_it_nor_fakes_success() {
    // qa D-L1: `cutover … | head -1` exited 0 at wait-ready and left the
    // parallel Service behind.
    let (sb, env) = sandbox().await;
    let args = quick(
        "cutover",
        "frontend",
        "web",
        &[
            "--preserve-client-ip=false",
            "--weights",
            "50,100",
            "--finalize",
        ],
    );
    let (code, stderr) = with_stdout_closed(&env, &args, None).await;
    assert_eq!(code, 0, "{stderr}");
    // The rest of the story went to stderr, and it is true.
    assert!(
        stderr.contains("done: clients use web/frontend-cip-off"),
        "{stderr}"
    );
    assert!(service(&sb, "web", "frontend").await.is_none());
    assert!(!config_map_exists(&sb, "web", "kubectl-nlb-switch-frontend").await);
    let sets = records(&sb, "www.example.com.").await;
    assert_eq!(sets.len(), 1, "{sets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_output_into_a_closed_pipe_exits_0_in_every_format() {
    // qa D-M12: `audit -A -o json | head -c 10` exited 1.
    let env = crate::util::shared();
    for format in ["json", "yaml", "table"] {
        let mut args = vec!["audit", "-A"];
        if format != "table" {
            args.extend(["-o", format]);
        }
        let (code, stderr) = with_stdout_closed(env, &args, Some(10)).await;
        assert_eq!(code, 0, "{format}: {stderr}");
        assert!(!stderr.contains("error"), "{format}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_durations_are_refused_before_anything_is_done() {
    // qa D-W3: --timeout/--soak near u64::MAX panicked after the first writes.
    let (sb, env) = sandbox().await;
    let before = crate::switching::inventory(&sb).await;
    for flag in [
        "--timeout",
        "--soak",
        "--drain",
        "--interval",
        "--initial-grace",
    ] {
        for value in ["18446744073709551615", "300000000000y", "8d"] {
            let r = run(
                &env,
                &[
                    "cutover",
                    "frontend",
                    "-n",
                    "web",
                    "--preserve-client-ip=false",
                    flag,
                    value,
                    "--yes",
                ],
            )
            .await;
            crate::util::assert_one_line_error(&r, flag);
            assert!(
                r.stderr.contains("7d") || r.stderr.contains("not a duration"),
                "{}",
                r.stderr
            );
        }
    }
    assert_eq!(crate::switching::inventory(&sb).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_soak_lasts_what_was_asked_even_with_a_longer_interval() {
    // qa D-W1: --soak 20s --interval 1m soaked 0 s.
    let (_sb, env) = sandbox().await;
    let args = [
        "cutover",
        "frontend",
        "-n",
        "web",
        "--preserve-client-ip=false",
        "--weights",
        "100",
        "--soak",
        "3s",
        "--interval",
        "1m",
        "--timeout",
        "60s",
        "--yes",
    ];
    let started = std::time::Instant::now();
    let r = run(&env, &args).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Starts `cutover frontend -n web --preserve-client-ip=false` with these
/// weights and soak in the background, and returns once Route 53 serves the
/// first step, 10%, so a test can disturb the switch mid-soak.
async fn cutover_at_10(
    sb: &nlb_sandbox::Sandbox,
    env: &Env,
    weights: &str,
    soak: &str,
) -> tokio::task::JoinHandle<crate::util::Run> {
    let args: Vec<String> = [
        "cutover",
        "frontend",
        "-n",
        "web",
        "--preserve-client-ip=false",
        "--weights",
        weights,
        "--soak",
        soak,
        "--interval",
        "1s",
        "--timeout",
        "60s",
        "--yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let runner = {
        let env = env.clone();
        tokio::spawn(async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&env, &args).await
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let sets = records(sb, "www.example.com.").await;
        if sets.iter().any(|r| r.weight() == Some(10)) {
            return runner;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never at 10%: {sets:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_nlb_that_vanishes_mid_soak_rolls_the_switch_back() {
    // qa D-W2: deleting the new Service mid-soak left 10% of answers on a
    // deleted NLB and exited 1.
    let (sb, env) = sandbox().await;
    let runner = cutover_at_10(&sb, &env, "10,100", "30s").await;
    kube::Api::<k8s_openapi::api::core::v1::Service>::namespaced(sb.kube_client(), "web")
        .delete("frontend-cip-off", &Default::default())
        .await
        .expect("delete");
    let r = runner.await.expect("join");
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("rolled back"), "{}", r.stderr);
    assert_eq!(
        crate::switching::weights(
            &sb,
            "www.example.com.",
            "web",
            "frontend",
            "frontend-cip-off"
        )
        .await,
        (100, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_wins_over_environment_credentials_and_an_unknown_one_is_named() {
    // qa D-W4: with AWS_ACCESS_KEY_ID set, --profile was ignored.
    let sb = nlb_sandbox::Sandbox::start(Default::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sb);
    let dir = sb.state_dir().join("aws");
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[profile other]\naws_access_key_id = OTHERKEY\naws_secret_access_key = other-secret\nregion = us-west-2\n",
    )
    .expect("config");
    let env = env.with("AWS_CONFIG_FILE", Some(&config.display().to_string()));
    sb.reset_aws_requests().await.expect("reset");
    let r = run(&env, &["audit", "-n", "web", "--profile", "other"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sb.aws_access_keys().await.expect("keys"), ["OTHERKEY"]);

    let r = run(&env, &["audit", "-n", "web", "--profile", "nosuch"]).await;
    crate::util::assert_one_line_error(&r, "the AWS profile \"nosuch\" is not defined in");
    assert!(
        r.stderr.contains(&config.display().to_string()),
        "{}",
        r.stderr
    );
}

/// What bash completes for `words` (the last one being completed), with
/// the script `kubectl-nlb completion bash` prints, as bash itself runs it.
fn bash_completes(words: &[&str]) -> String {
    let script = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-nlb"))
        .args(["completion", "bash"])
        .output()
        .expect("completion");
    let dir = std::env::temp_dir().join(format!("kubectl-nlb-bash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("kubectl-nlb.bash");
    std::fs::write(&file, &script.stdout).expect("script");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _kubectl__nlb kubectl-nlb '{}' '{}'; echo \"${{COMPREPLY[*]}}\"",
        file.display(),
        quoted.join(" "),
        n - 1,
        words[n - 1],
        words[n - 2],
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn bash_completes_flags_and_values_after_the_subcommand() {
    // qa D-W9: only the first word completed.
    assert_eq!(bash_completes(&["kubectl-nlb", "au"]), "audit");
    assert_eq!(
        bash_completes(&["kubectl-nlb", "cutover", "--pre"]),
        "--preserve-client-ip"
    );
    assert_eq!(
        bash_completes(&["kubectl-nlb", "audit", "-o", ""]),
        "table wide yaml json"
    );
    assert!(bash_completes(&["kubectl-nlb", "cutover", ""]).contains("resume"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_namespace_and_service_names_get_distinct_set_identifiers() {
    // qa D-W6: both identifiers were cut to the same 128 characters and the
    // switch failed at convert-records.
    use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
    use kube::api::{Api, ListParams, PostParams};
    let (sb, env) = sandbox().await;
    let ns = "n".repeat(63);
    let name = format!("q{}", "x".repeat(53));
    let k = sb.kube_client();
    Api::<Namespace>::all(k.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .expect("namespace");
    for p in Api::<Pod>::namespaced(k.clone(), "web")
        .list(&ListParams::default().labels("app=frontend"))
        .await
        .unwrap()
        .items
    {
        let mut copy = serde_json::json!({"metadata": {"name": p.metadata.name, "namespace": ns, "labels": p.metadata.labels}});
        copy["spec"] = serde_json::to_value(&p.spec).unwrap();
        copy["status"] = serde_json::to_value(&p.status).unwrap();
        Api::<Pod>::namespaced(k.clone(), &ns)
            .create(
                &PostParams::default(),
                &serde_json::from_value(copy).unwrap(),
            )
            .await
            .expect("pod");
    }
    let svc: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true"}},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb", "selector": {"app": "frontend"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }))
    .unwrap();
    Api::<Service>::namespaced(k.clone(), &ns)
        .create(&PostParams::default(), &svc)
        .await
        .expect("service");
    let mut host = None;
    for _ in 0..100 {
        host = service(&sb, &ns, &name)
            .await
            .and_then(|s| crate::switching::hostname(&s));
        if host.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    crate::switching::create_alias(&sb, "long.example.com", &host.expect("hostname")).await;
    sb.settle_targets().await.expect("settle");
    let r = run(
        &env,
        &quick(
            "cutover",
            &name,
            &ns,
            &[
                "--preserve-client-ip=false",
                "--weights",
                "100",
                "--finalize",
            ],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(records(&sb, "long.example.com.").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_all_as_yaml_never_emits_a_blocked_translation() {
    // qa D-W7: `migrate -A -o yaml > all.yaml` exited 0 with static-eip's
    // manifest, whose report has the static-addresses error.
    let r = run(crate::util::shared(), &["migrate", "-A", "-o", "yaml"]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "error: cannot migrate as it is: service web/static-eip (static-addresses)"
        ),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_sources_are_validated_first_and_a_re_run_applies_a_new_one() {
    // qa D-W5: 10.0.0.0/33 went into the binding, and a re-run with another
    // CIDR said "unchanged".
    let (sb, env) = sandbox().await;
    let bind = |cidr: &'static str| {
        vec![
            "bind-hostnetwork",
            "daemonset/edge-proxy",
            "-n",
            "edge",
            "--port",
            "http",
            "--create-target-group",
            "--source-cidr",
            cidr,
            "--yes",
            "--timeout",
            "30s",
        ]
    };
    let before = crate::switching::inventory(&sb).await;
    for bad in ["10.0.0.0/33", "banana", "10.0.0.0", "2001:db8::/129"] {
        let r = run(&env, &bind(bad)).await;
        crate::util::assert_one_line_error(
            &r,
            &format!("--source-cidr {bad}: not an address block"),
        );
    }
    assert_eq!(
        crate::switching::inventory(&sb).await,
        before,
        "nothing changed"
    );
    let r = run(&env, &bind("10.0.0.0/16")).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&env, &bind("10.1.0.0/16")).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("targetgroupbinding.elbv2.k8s.aws/edge-proxy-http configured"),
        "{}",
        r.stdout
    );
    let tgb = kube::Api::<kube::api::DynamicObject>::namespaced_with(
        sb.kube_client(),
        "edge",
        &kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "elbv2.k8s.aws",
            "v1beta1",
            "TargetGroupBinding",
        )),
    )
    .get("edge-proxy-http")
    .await
    .expect("tgb");
    assert_eq!(
        tgb.data["spec"]["networking"]["ingress"][0]["from"][0]["ipBlock"]["cidr"],
        "10.1.0.0/16"
    );
}

/// Starts the binary, waits until `ready` holds, sends `signal`, and
/// returns (exit code, stderr).
async fn signalled<F, Fut>(env: &Env, args: &[&str], signal: &str, mut ready: F) -> (i32, String)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let child = command(env, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut waited = 0;
    while !ready().await {
        waited += 1;
        assert!(waited < 300, "never ready for the signal");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill")
            .success()
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_switch_at_a_safe_point_and_says_how_to_go_on() {
    // qa D-M13: SIGTERM (timeout, CI) ended cutover and migrate silently.
    let (sb, env) = sandbox().await;
    sb.set_provisioning_delay(std::time::Duration::from_secs(600));
    let args = quick(
        "cutover",
        "frontend",
        "web",
        &["--preserve-client-ip=false"],
    );
    let (code, stderr) = signalled(&env, &args, "-TERM", || async {
        config_map_exists(&sb, "web", "kubectl-nlb-switch-frontend").await
            && service(&sb, "web", "frontend-cip-off").await.is_some()
    })
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("terminated (SIGTERM) during"), "{stderr}");
    assert!(
        stderr.contains("kubectl nlb cutover resume frontend -n web"),
        "{stderr}"
    );
    assert!(
        stderr.contains("kubectl nlb cutover abort frontend -n web"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_bind_says_what_was_made_and_how_to_finish() {
    // qa D-M13: SIGINT ended bind-hostnetwork silently.
    let (sb, env) = sandbox().await;
    for n in &sb.world().nodes {
        sb.set_target_health(&n.instance_id, "unhealthy", "Target.FailedHealthChecks")
            .await
            .expect("override");
    }
    let args = [
        "bind-hostnetwork",
        "daemonset/edge-proxy",
        "-n",
        "edge",
        "--port",
        "http",
        "--create-target-group",
        "--source-cidr",
        "10.0.0.0/16",
        "--yes",
        "--timeout",
        "5m",
    ];
    let k = sb.kube_client();
    let (code, stderr) = signalled(&env, &args, "-INT", || {
        let k = k.clone();
        async move {
            kube::Api::<kube::api::DynamicObject>::namespaced_with(
                k,
                "edge",
                &kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
                    "elbv2.k8s.aws",
                    "v1beta1",
                    "TargetGroupBinding",
                )),
            )
            .get_opt("edge-proxy-http")
            .await
            .ok()
            .flatten()
            .is_some()
        }
    })
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("interrupted: what was created so far stays"),
        "{stderr}"
    );
    assert!(stderr.contains("run the same command again"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_driver_per_switch_and_an_aborted_driver_says_so() {
    // qa D-M2: a second resume drove the same switch, and a resume that
    // outlived an abort ended with "continue with resume".
    let (sb, env) = sandbox().await;
    let first = cutover_at_10(&sb, &env, "10,100", "8s").await;
    let second = on_frontend(&env, "resume", &["--yes"]).await;
    crate::util::assert_one_line_error(&second, "another kubectl nlb (pid");
    let abort = on_frontend(&env, "abort", &["--yes"]).await;
    assert_eq!(abort.code, 0, "{}", abort.stderr);
    let first = first.await.expect("join");
    assert_eq!(first.code, 2, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first
            .stderr
            .contains("was aborted while this process drove it"),
        "{}",
        first.stderr
    );
    assert!(!first.stderr.contains("continue with"), "{}", first.stderr);
    let sets = records(&sb, "www.example.com.").await;
    assert_eq!(sets.len(), 1, "the original record only: {sets:?}");
    assert_eq!(sets[0].set_identifier(), None);
}

/// Sets the weights of the two record sets the tool wrote for `name`, as a
/// user would in the console: one UPSERT of each set as Route 53 holds it.
async fn reweigh(sb: &nlb_sandbox::Sandbox, name: &str, old: i64, new: i64) {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
    let changes: Vec<Change> = records(sb, name)
        .await
        .into_iter()
        .filter_map(|r| {
            let weight = match r.set_identifier()? {
                id if id.ends_with("-cip-off") => new,
                _ => old,
            };
            let set = aws_sdk_route53::types::ResourceRecordSet::builder()
                .set_name(Some(r.name().to_string()))
                .set_type(Some(r.r#type().clone()))
                .set_set_identifier(r.set_identifier().map(str::to_string))
                .weight(weight)
                .set_alias_target(r.alias_target().cloned())
                .set_ttl(r.ttl())
                .set_resource_records(Some(r.resource_records().to_vec()).filter(|v| !v.is_empty()))
                .build()
                .ok()?;
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(set)
                .build()
                .ok()
        })
        .collect();
    assert_eq!(changes.len(), 2, "the weighted pair");
    sb.aws_internal()
        .r53
        .change_resource_record_sets()
        .hosted_zone_id(&sb.world().hosted_zone_id)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("reweigh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_edited_by_someone_else_stop_the_switch_until_adopted() {
    // qa D-W8: a manual 70/30 set between steps was silently overwritten.
    let (sb, env) = sandbox().await;
    let runner = cutover_at_10(&sb, &env, "10,50,100", "6s").await;
    reweigh(&sb, "www.example.com.", 70, 30).await;
    let r = runner.await.expect("join");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("old 70 / new 30; this switch wrote new 10"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--adopt"), "{}", r.stderr);
    let held = crate::switching::weights(
        &sb,
        "www.example.com.",
        "web",
        "frontend",
        "frontend-cip-off",
    )
    .await;
    assert_eq!(held, (70, 30), "the edit is left as it was");
    // A plain resume stops the same way; --adopt carries on.
    let again = on_frontend(&env, "resume", &["--yes"]).await;
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("old 70 / new 30"), "{}", again.stderr);
    // QA round 2: a dry run of resume saw no edit.
    let dry = on_frontend(&env, "resume", &["--dry-run=client"]).await;
    assert_eq!(dry.code, 1, "{}\n{}", dry.stdout, dry.stderr);
    assert!(dry.stderr.contains("old 70 / new 30"), "{}", dry.stderr);
    let dry_adopt = on_frontend(&env, "resume", &["--adopt", "--dry-run=client"]).await;
    assert_eq!(dry_adopt.code, 0, "{}", dry_adopt.stderr);
    assert!(
        dry_adopt
            .stdout
            .contains("adopting the weights Route 53 holds (old 70 / new 30); next: shift-50"),
        "{}",
        dry_adopt.stdout
    );
    let adopted = on_frontend(&env, "resume", &["--adopt", "--yes"]).await;
    assert_eq!(adopted.code, 0, "{}\n{}", adopted.stdout, adopted.stderr);
    // QA round 2: --adopt first wrote 90/10 again, moving traffic back.
    assert!(
        !adopted.stdout.contains("weights old 90 / new 10"),
        "{}",
        adopted.stdout
    );
    assert!(
        adopted.stdout.contains("weights old 50 / new 50"),
        "{}",
        adopted.stdout
    );
    let done = crate::switching::weights(
        &sb,
        "www.example.com.",
        "web",
        "frontend",
        "frontend-cip-off",
    )
    .await;
    assert_eq!(done, (0, 100), "the rest of the plan was carried out");
}

/// Adds (or with `Delete`, removes) a weighted record `manual` of weight 5
/// beside the pair the tool wrote for `name`, pointing where the old one
/// points, as someone testing a third target by hand would.
async fn manual_record(
    sb: &nlb_sandbox::Sandbox,
    name: &str,
    action: aws_sdk_route53::types::ChangeAction,
) {
    use aws_sdk_route53::types::{Change, ChangeBatch, ResourceRecordSet};
    let sets = records(sb, name).await;
    let old = sets
        .iter()
        .find(|r| r.set_identifier() == Some("kubectl-nlb:web/frontend"))
        .expect("the old weighted record");
    let set = ResourceRecordSet::builder()
        .name(old.name())
        .r#type(old.r#type().clone())
        .set_identifier("manual")
        .weight(5)
        .set_alias_target(old.alias_target().cloned())
        .build()
        .expect("set");
    sb.aws_internal()
        .r53
        .change_resource_record_sets()
        .hosted_zone_id(&sb.world().hosted_zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(action)
                        .resource_record_set(set)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("manual record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_added_by_hand_stops_the_switch_and_each_message_names_the_command_to_run() {
    // qa D-W8 (2): a third weighted record went unnoticed until the collapse;
    // qa D-M11: the refusals then said "run the command again".
    use aws_sdk_route53::types::ChangeAction;
    let (sb, env) = sandbox().await;
    let www = "www.example.com.";
    let runner = cutover_at_10(&sb, &env, "10,100", "6s").await;
    manual_record(&sb, www, ChangeAction::Create).await;
    let stopped = runner.await.expect("join");
    assert_eq!(stopped.code, 1, "{}\n{}", stopped.stdout, stopped.stderr);
    assert!(
        stopped.stderr.contains("SetIdentifier manual"),
        "{}",
        stopped.stderr
    );
    assert!(!stopped.stderr.contains("--adopt"), "{}", stopped.stderr);
    assert!(
        !stopped.stdout.contains("10% on the new NLB"),
        "no success line for a step whose records were edited: {}",
        stopped.stdout
    );
    assert_eq!(records(&sb, www).await.len(), 3, "nothing was overwritten");
    // QA round 2: a refused --adopt stayed in the journal, and a later plain
    // resume then overwrote hand-set weights.
    let refused = on_frontend(&env, "resume", &["--adopt", "--yes"]).await;
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    manual_record(&sb, www, ChangeAction::Delete).await;
    reweigh(&sb, www, 20, 80).await;
    let plain = on_frontend(&env, "resume", &["--yes"]).await;
    assert_eq!(plain.code, 1, "{}\n{}", plain.stdout, plain.stderr);
    assert!(plain.stderr.contains("old 20 / new 80"), "{}", plain.stderr);
    reweigh(&sb, www, 90, 10).await;
    manual_record(&sb, www, ChangeAction::Create).await;

    // Removed by hand: resume carries on, and says what Route 53 serves.
    manual_record(&sb, www, ChangeAction::Delete).await;
    let resumed = on_frontend(&env, "resume", &["--yes"]).await;
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed
            .stdout
            .contains("100% on the new NLB (Route 53 answers: old 0 / new 100)"),
        "{}",
        resumed.stdout
    );

    // Added again: the collapse and the abort refuse, naming what to run.
    manual_record(&sb, www, ChangeAction::Create).await;
    let before = crate::switching::inventory(&sb).await;
    let finalize = on_frontend(&env, "resume", &["--finalize", "--yes"]).await;
    assert_eq!(finalize.code, 1, "{}\n{}", finalize.stdout, finalize.stderr);
    assert!(
        finalize
            .stderr
            .contains("continue with `kubectl nlb cutover resume frontend -n web`"),
        "{}",
        finalize.stderr
    );
    assert!(
        !finalize.stderr.contains("the command again"),
        "{}",
        finalize.stderr
    );
    let abort = on_frontend(&env, "abort", &["--yes"]).await;
    assert_eq!(abort.code, 1, "{}\n{}", abort.stdout, abort.stderr);
    assert!(
        abort
            .stderr
            .contains("run `kubectl nlb cutover abort frontend -n web` again"),
        "{}",
        abort.stderr
    );
    let after = crate::switching::inventory(&sb).await;
    assert_eq!(before, after, "the refusals changed nothing");
    manual_record(&sb, www, ChangeAction::Delete).await;
    let abort = on_frontend(&env, "abort", &["--yes"]).await;
    assert_eq!(abort.code, 0, "{}\n{}", abort.stdout, abort.stderr);
    let sets = records(&sb, www).await;
    assert_eq!(sets.len(), 1, "the original record only: {sets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_the_weights_route53_serves_not_the_journals() {
    // qa D-M1: after SIGTERM during shift-10, status said old 100 / new 0
    // while Route 53 served 90/10.
    let (sb, env) = sandbox().await;
    let args = [
        "cutover",
        "frontend",
        "-n",
        "web",
        "--preserve-client-ip=false",
        "--weights",
        "10,100",
        "--soak",
        "10m",
        "--interval",
        "1s",
        "--timeout",
        "60s",
        "--yes",
    ];
    let (code, stderr) = signalled(&env, &args, "-TERM", || async {
        records(&sb, "www.example.com.")
            .await
            .iter()
            .any(|r| r.weight() == Some(10))
    })
    .await;
    assert_eq!(code, 2, "{stderr}");
    let status = on_frontend(&env, "status", &[]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let line = status
        .stdout
        .lines()
        .find(|l| l.starts_with("Weights:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains(
            "old 90 / new 10 (as Route 53 answers; the last finished step: old 100 / new 0)"
        ),
        "{}",
        status.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_and_abort_have_a_client_dry_run_that_changes_nothing() {
    // qa D-M4: unconfirmed resume and abort pointed at --dry-run=client,
    // which neither accepted.
    let (sb, env) = sandbox().await;
    let start = run(
        &env,
        &quick(
            "cutover",
            "frontend",
            "web",
            &["--preserve-client-ip=false", "--weights", "100"],
        ),
    )
    .await;
    assert_eq!(start.code, 0, "{}", start.stderr);
    let before = crate::switching::inventory(&sb).await;
    let resume = on_frontend(&env, "resume", &["--finalize", "--dry-run=client"]).await;
    assert_eq!(resume.code, 0, "{}", resume.stderr);
    assert!(
        resume
            .stdout
            .contains("Would resume cutover of web/frontend")
            && resume.stdout.contains("collapse-records"),
        "{}",
        resume.stdout
    );
    let abort = on_frontend(&env, "abort", &["--dry-run=client"]).await;
    assert_eq!(abort.code, 0, "{}", abort.stderr);
    assert!(
        abort
            .stdout
            .contains("Would abort the cutover of web/frontend"),
        "{}",
        abort.stdout
    );
    let unconfirmed = on_frontend(&env, "abort", &[]).await;
    crate::util::assert_one_line_error(&unconfirmed, "review them with --dry-run=client");
    let server = on_frontend(&env, "abort", &["--dry-run=server"]).await;
    crate::util::assert_one_line_error(&server, "use --dry-run=client");
    assert_eq!(before, crate::switching::inventory(&sb).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_journal_gets_one_message_with_the_way_out_from_every_verb() {
    // qa D-M3: a corrupt journal, a ConfigMap without the key and a newer
    // journal were reported three different ways, none with a way out.
    use k8s_openapi::api::core::v1::ConfigMap;
    let (sb, env) = sandbox().await;
    let maps: kube::Api<ConfigMap> = kube::Api::namespaced(sb.kube_client(), "web");
    let cases: [(Option<&str>, &[&str]); 3] = [
        (
            Some("{\"version\": 1, \"kind\": \"cutover\", "),
            &[
                "is not valid JSON (line 1",
                "kubectl edit configmap kubectl-nlb-switch-frontend -n web",
            ],
        ),
        (
            Some("{\"version\": 99, \"kind\": \"teleport\"}"),
            &["version 99 journal", "upgrade kubectl nlb"],
        ),
        (
            None,
            &[
                "has no journal.json",
                "kubectl delete configmap kubectl-nlb-switch-frontend -n web",
            ],
        ),
    ];
    for (text, needles) in cases {
        let cm: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kubectl-nlb-switch-frontend", "namespace": "web"},
            "data": match text {
                Some(t) => serde_json::json!({"journal.json": t}),
                None => serde_json::json!({"other": "x"}),
            },
        }))
        .expect("configmap");
        let _ = maps
            .delete("kubectl-nlb-switch-frontend", &Default::default())
            .await;
        maps.create(&Default::default(), &cm).await.expect("create");
        let before = crate::switching::inventory(&sb).await;
        for args in [
            &["cutover", "status", "frontend", "-n", "web"][..],
            &["cutover", "resume", "frontend", "-n", "web", "--yes"],
            &["cutover", "abort", "frontend", "-n", "web", "--yes"],
            &quick(
                "cutover",
                "frontend",
                "web",
                &["--preserve-client-ip=false"],
            ),
        ] {
            let r = run(&env, args).await;
            for needle in needles {
                crate::util::assert_one_line_error(&r, needle);
            }
        }
        assert_eq!(before, crate::switching::inventory(&sb).await, "{text:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_replaced_by_the_original_record_stops_the_switch_and_abort_ends_it() {
    // qa D-W8 (3): the pair was put back to the simple record by hand and
    // the tool went on printing "100% on the new NLB".
    let (sb, env) = sandbox().await;
    let www = "www.example.com.";
    let original = records(&sb, www).await;
    let runner = cutover_at_10(&sb, &env, "10,100", "6s").await;
    put_back(&sb, www, &original).await;
    let stopped = runner.await.expect("join");
    assert_eq!(stopped.code, 1, "{}\n{}", stopped.stdout, stopped.stderr);
    // QA round 2: the advice was to remove that record, which would leave
    // the name unanswered; abort is what finishes undoing the switch.
    assert!(
        stopped.stderr.contains("undone by hand")
            && stopped
                .stderr
                .contains("finish undoing it with `kubectl nlb cutover abort frontend -n web`"),
        "{}",
        stopped.stderr
    );
    assert!(
        !stopped.stderr.contains("remove by hand"),
        "{}",
        stopped.stderr
    );
    assert!(!stopped.stderr.contains("--adopt"), "{}", stopped.stderr);
    assert!(
        !stopped.stdout.contains("% on the new NLB"),
        "{}",
        stopped.stdout
    );
    assert_eq!(records(&sb, www).await, original, "nothing written after");
    let abort = on_frontend(&env, "abort", &["--yes"]).await;
    assert_eq!(abort.code, 0, "{}\n{}", abort.stdout, abort.stderr);
    assert_eq!(records(&sb, www).await, original);
    assert!(service(&sb, "web", "frontend-cip-off").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_put_back_at_the_old_nlb_during_the_drain_keeps_the_old_nlb() {
    // QA round 2: a record pointed back at the old NLB during the drain was
    // not noticed; the old Service and its NLB were deleted under it.
    let (sb, env) = sandbox().await;
    let www = "www.example.com.";
    let original = records(&sb, www).await;
    let killed = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("drain:done")),
        &quick(
            "cutover",
            "frontend",
            "web",
            &[
                "--preserve-client-ip=false",
                "--weights",
                "100",
                "--finalize",
            ],
        ),
    )
    .await;
    assert_eq!(killed.code, 137, "{}", killed.stderr);
    put_back(&sb, www, &original).await;
    let before = crate::switching::inventory(&sb).await;
    let resumed = on_frontend(&env, "resume", &["--yes"]).await;
    assert_eq!(resumed.code, 1, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("no longer points at the new NLB only")
            && resumed.stderr.contains("were not deleted"),
        "{}",
        resumed.stderr
    );
    assert!(!resumed.stdout.contains("done"), "{}", resumed.stdout);
    assert_eq!(
        before,
        crate::switching::inventory(&sb).await,
        "nothing deleted"
    );
    let abort = on_frontend(&env, "abort", &["--yes"]).await;
    assert_eq!(abort.code, 0, "{}\n{}", abort.stdout, abort.stderr);
    assert_eq!(records(&sb, www).await, original);
    assert!(service(&sb, "web", "frontend").await.is_some());
}

/// Replaces whatever the switch left for `name` with the `original` record
/// sets, in one batch, as someone undoing it by hand would.
async fn put_back(
    sb: &nlb_sandbox::Sandbox,
    name: &str,
    original: &[aws_sdk_route53::types::ResourceRecordSet],
) {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
    let change = |action: ChangeAction, set: aws_sdk_route53::types::ResourceRecordSet| {
        Change::builder()
            .action(action)
            .resource_record_set(set)
            .build()
            .expect("change")
    };
    let mut changes: Vec<Change> = records(sb, name)
        .await
        .into_iter()
        .map(|set| change(ChangeAction::Delete, set))
        .collect();
    changes.extend(
        original
            .iter()
            .map(|set| change(ChangeAction::Create, set.clone())),
    );
    sb.aws_internal()
        .r53
        .change_resource_record_sets()
        .hosted_zone_id(&sb.world().hosted_zone_id)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("put the original back");
}

/// `kubectl-nlb cutover VERB frontend -n web EXTRA…`: the journal verbs the
/// tests above drive on the seeded Service.
async fn on_frontend(env: &Env, verb: &str, extra: &[&str]) -> crate::util::Run {
    let mut args = vec!["cutover", verb, "frontend", "-n", "web"];
    args.extend_from_slice(extra);
    run(env, &args).await
}
