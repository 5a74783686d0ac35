//! Messages for bad input and refused access: one line naming the object, the
//! problem and the fix, exit 1, and nothing changed (qa D-M5 … D-M10, D-W10, D-C7).

use crate::switching::{inventory, sandbox};
use crate::util::{Env, assert_one_line_error, run, shared};

/// The sandbox's kubeconfig path, from its environment.
fn kubeconfig(env: &Env) -> String {
    env.vars
        .iter()
        .find(|(k, _)| k == "KUBECONFIG")
        .map(|(_, v)| v.clone())
        .expect("sandbox sets KUBECONFIG")
}

/// A scratch directory of this test process, for kubeconfig variants.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kubectl-nlb-messages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_the_api_server_would_refuse_are_refused_with_its_rule_and_change_nothing() {
    // qa D-M6: "get service web/front end: invalid uri character".
    let (sb, env) = sandbox().await;
    let before = inventory(&sb).await;
    let service_rule = "is not a valid Service name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name')";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec![
                "cutover",
                "front end",
                "-n",
                "web",
                "--preserve-client-ip=false",
                "--yes",
            ],
            format!("\"front end\" {service_rule}"),
        ),
        (
            vec!["cutover", "status", "front end", "-n", "web"],
            format!("\"front end\" {service_rule}"),
        ),
        (
            vec!["cutover", "resume", "Frontend", "-n", "web", "--yes"],
            format!("\"Frontend\" {service_rule}"),
        ),
        (
            vec!["migrate", "abort", "check out", "-n", "shop", "--yes"],
            format!("\"check out\" {service_rule}"),
        ),
        (
            vec!["migrate", "check out", "-n", "shop", "--yes"],
            format!("\"check out\" {service_rule}"),
        ),
        (
            vec![
                "migrate",
                "checkout",
                "-n",
                "shop",
                "--new-name",
                "Check_Out",
                "--yes",
            ],
            format!("--new-name: \"Check_Out\" {service_rule}"),
        ),
        (
            vec!["audit", "-n", "my shop"],
            "\"my shop\" is not a valid namespace: a lowercase RFC 1123 label".into(),
        ),
        (
            vec![
                "bind-hostnetwork",
                "daemonset/Edge Proxy",
                "-n",
                "edge",
                "--port",
                "http",
                "--create-target-group",
                "--yes",
            ],
            "\"Edge Proxy\" is not a valid daemonset name: a lowercase RFC 1123 subdomain".into(),
        ),
    ];
    for (args, needle) in &cases {
        let r = run(&env, args).await;
        assert_one_line_error(&r, needle);
    }
    assert_eq!(inventory(&sb).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flag_values_are_refused_for_what_is_wrong_with_them() {
    // qa D-M5, D-M8: clap's "use -- -5" hint, a Service named `client`, and
    // an out-of-range weight called "not a whole number".
    let (sb, env) = sandbox().await;
    let before = inventory(&sb).await;
    let ok = "--preserve-client-ip=false";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "cutover", "frontend", "-n", "web", ok, "--soak", "-5s", "--yes",
            ],
            "--soak -5s: durations cannot be negative",
        ),
        (
            vec![
                "cutover",
                "frontend",
                "-n",
                "web",
                ok,
                "--timeout",
                "-1m",
                "--yes",
            ],
            "--timeout -1m: durations cannot be negative",
        ),
        (
            vec![
                "cutover",
                "resume",
                "frontend",
                "-n",
                "web",
                "--timeout",
                "-5",
                "--yes",
            ],
            "--timeout -5: durations cannot be negative",
        ),
        (
            vec!["audit", "-n", "web", "--request-timeout", "-5s"],
            "--request-timeout -5s: durations cannot be negative",
        ),
        (
            vec![
                "cutover",
                "frontend",
                "-n",
                "web",
                ok,
                "--weights",
                "99999999999,100",
                "--yes",
            ],
            "99999999999 is out of range (each step is 1–100)",
        ),
        (
            vec![
                "cutover",
                "frontend",
                "-n",
                "web",
                ok,
                "--weights",
                "-5,100",
                "--yes",
            ],
            "--weights -5,100: -5 is out of range",
        ),
        (
            vec!["migrate", "--dry-run", "client", "-n", "shop"],
            "write --dry-run=client (with '='): `--dry-run client` reads `client` as a Service name",
        ),
        (
            vec!["migrate", "checkout", "--dry-run", "client", "-n", "shop"],
            "write --dry-run=client (with '=')",
        ),
        (
            vec![
                "cutover",
                "frontend",
                "-n",
                "web",
                ok,
                "--dry-run",
                "server",
            ],
            "write --dry-run=server (with '=')",
        ),
        (
            vec![
                "bind-hostnetwork",
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--create-target-group",
                "--dry-run",
                "client",
            ],
            "write --dry-run=client (with '=')",
        ),
    ];
    for (args, needle) in &cases {
        let r = run(&env, args).await;
        assert_one_line_error(&r, needle);
    }
    assert_eq!(inventory(&sb).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_flag_takes_its_last_value_as_kubectl_does() {
    // qa D-C7: `--weights a --weights b` was a usage error.
    let env = shared();
    let r = run(
        env,
        &[
            "cutover",
            "frontend",
            "-n",
            "web",
            "--preserve-client-ip=false",
            "--weights",
            "10,100",
            "--weights",
            "50,100",
            "--dry-run=client",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan = format!("{}{}", r.stdout, r.stderr);
    assert!(plan.contains("weights old 50 / new 50"), "{plan}");
    assert!(!plan.contains("weights old 90 / new 10"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_in_kubeconfig_is_skipped_as_kubectl_does() {
    // qa D-W10: KUBECONFIG=/nonexistent/config:$REAL failed the command.
    let env = shared();
    let real = kubeconfig(env);
    let with_missing = env.with("KUBECONFIG", Some(&format!("/nonexistent/config:{real}")));
    let r = run(&with_missing, &["audit", "-n", "shop", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json();

    // None exists: as kubectl, an empty configuration, and a message saying so.
    let none = env.with("KUBECONFIG", Some("/nonexistent/a:/nonexistent/b"));
    let r = run(&none, &["audit", "-n", "shop"]).await;
    assert_one_line_error(
        &r,
        "none of the files in KUBECONFIG exists (/nonexistent/a:/nonexistent/b)",
    );

    // One that exists but is garbage is named, with the parser's position.
    let garbage = scratch("garbage-config");
    std::fs::write(
        &garbage,
        "apiVersion: v1\nkind: Config\nclusters: [\n  - {name: x\n: : :\n",
    )
    .expect("write");
    let bad = env.with("KUBECONFIG", Some(&format!("{real}:{}", garbage.display())));
    let r = run(&bad, &["audit", "-n", "shop"]).await;
    assert_one_line_error(
        &r,
        &format!(
            "cannot read kubeconfig {}: not a valid kubeconfig: ",
            garbage.display()
        ),
    );
    assert!(r.stderr.contains("line"), "{}", r.stderr);
    assert!(!r.stderr.contains(" | "), "no snippet: {}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_without_a_current_context_says_to_pass_context() {
    // qa D-M10: "kubeconfig: failed to determine current context".
    let env = shared();
    let text = std::fs::read_to_string(kubeconfig(env)).expect("read kubeconfig");
    let no_current: String = text
        .lines()
        .filter(|l| !l.starts_with("current-context"))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = scratch("no-current-context");
    std::fs::write(&path, no_current).expect("write");
    let r = run(
        env,
        &[
            "audit",
            "-n",
            "shop",
            "--kubeconfig",
            &path.to_string_lossy(),
        ],
    )
    .await;
    assert_one_line_error(
        &r,
        &format!(
            "the kubeconfig {} has no current context: pass --context NAME (contexts: ",
            path.display()
        ),
    );
    assert!(
        r.stderr
            .contains("or run `kubectl config use-context NAME`"),
        "{}",
        r.stderr
    );

    let r = run(env, &["audit", "-n", "shop", "--kubeconfig", "/dev/null"]).await;
    assert_one_line_error(
        &r,
        "the kubeconfig /dev/null has no current context and defines no contexts",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_region_is_refused_before_any_request() {
    // qa D-M7: "Unknown: invalid value for field: `region` - must be a valid host label".
    let env = shared();
    let r = run(env, &["audit", "-n", "shop", "--region", "not a region!"]).await;
    assert_one_line_error(
        &r,
        "invalid AWS region \"not a region!\": pass a region such as us-east-1 with --region",
    );
    let r = run(
        &env.with("AWS_REGION", Some("eu_west_1")),
        &["audit", "-n", "shop"],
    )
    .await;
    assert_one_line_error(&r, "invalid AWS region \"eu_west_1\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_credentials_and_refused_permissions_say_what_to_do() {
    // qa D-M7: raw "ExpiredToken" and "AccessDenied", and no --zone hint.
    let (sb, env) = sandbox().await;
    let before = inventory(&sb).await;
    sb.inject_aws_fault_full(
        "elbv2",
        "DescribeLoadBalancers",
        400,
        "ExpiredToken",
        "The security token included in the request is expired",
        100,
    )
    .await
    .expect("inject");
    let r = run(&env, &["audit", "-n", "web"]).await;
    assert_one_line_error(
        &r,
        "AWS credentials expired (DescribeLoadBalancers: ExpiredToken: The security token included in the request is expired): refresh them (aws sso login, or new keys) and run again",
    );
    sb.clear_aws_faults().await.expect("clear");

    sb.inject_aws_fault_full(
        "route53",
        "ListHostedZones",
        403,
        "AccessDenied",
        "not authorized",
        100,
    )
    .await
    .expect("inject");
    let cutover = [
        "cutover",
        "frontend",
        "-n",
        "web",
        "--preserve-client-ip=false",
        "--yes",
    ];
    let r = run(&env, &cutover).await;
    assert_one_line_error(
        &r,
        "ListHostedZones: AccessDenied: not authorized: allow route53:ListHostedZones for the AWS identity in use (the README section \"Permissions\" lists every IAM action kubectl nlb needs), or pass --zone",
    );
    assert_eq!(inventory(&sb).await, before, "nothing changed");
    // The hint holds: with --zone, the zone is found without listing zones.
    let r = run(
        &env,
        &[
            "cutover",
            "frontend",
            "-n",
            "web",
            "--preserve-client-ip=false",
            "--zone",
            "example.com",
            "--dry-run=client",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let zone_id = sb.world().hosted_zone_id.clone();
    let r = run(
        &env,
        &[
            "cutover",
            "frontend",
            "-n",
            "web",
            "--preserve-client-ip=false",
            "--zone",
            &zone_id,
            "--dry-run=client",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    sb.clear_aws_faults().await.expect("clear");
    assert_eq!(inventory(&sb).await, before, "nothing changed");
}
