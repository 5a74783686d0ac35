//! `kubectl nlb migrate` against the sandbox. The seeded `shop/checkout` is
//! an in-tree NLB (instance targets, `externalTrafficPolicy: Local`) with
//! the alias `checkout.example.com`; `shop/legacy-api` has the CNAME
//! `api.example.com`; `web/static-eip` holds Elastic IPs and no record.

use crate::switching::{
    self, groups_of, inventory, load_balancers, records, sandbox, service, settle,
};
use crate::util::{Env, assert_one_line_error, run};
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, PostParams};
use nlb_sandbox::{Sandbox, SandboxOptions};
use serde::Deserialize;

const CHECKOUT: &str = "checkout.example.com.";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/migrate");

async fn weights(sandbox: &Sandbox) -> (i64, i64) {
    switching::weights(sandbox, CHECKOUT, "shop", "checkout", "checkout-lbc").await
}

fn hostname(svc: &Service) -> String {
    switching::hostname(svc).unwrap_or_default()
}

fn fast<'a>(service: &'a str, ns: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    crate::switching::quick("migrate", service, ns, extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_service_moves_to_ip_mode_without_downtime() {
    let (sandbox, env) = sandbox().await;
    let old = service(&sandbox, "shop", "checkout").await.expect("seeded");
    let old_dns = hostname(&old);
    let lbs_before = load_balancers(&sandbox).await.len();

    let first = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-10:done")),
        &fast(
            "checkout",
            "shop",
            &["--weights", "10,50,100", "--finalize"],
        ),
    )
    .await;
    assert_eq!(first.code, 137, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stderr.contains("readiness-gate-not-enabled"),
        "{}",
        first.stderr
    );
    assert_eq!(weights(&sandbox).await, (90, 10));
    let status = run(&env, &["migrate", "status", "checkout", "-n", "shop"]).await;
    assert!(
        status
            .stdout
            .contains("migrate shop/checkout → shop/checkout-lbc"),
        "{}",
        status.stdout
    );

    let done = run(
        &env,
        &["migrate", "resume", "checkout", "-n", "shop", "--yes"],
    )
    .await;
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains("service/checkout deleted"),
        "{}",
        done.stdout
    );

    let new = service(&sandbox, "shop", "checkout-lbc")
        .await
        .expect("new Service");
    let spec = new.spec.clone().expect("spec");
    assert_eq!(
        spec.load_balancer_class.as_deref(),
        Some("service.k8s.aws/nlb")
    );
    let annotations = new.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations["nlb.kubectl.io/migrated-from"], "shop/checkout");
    assert_eq!(
        annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internet-facing",
        "the in-tree default, written explicitly"
    );
    let new_dns = hostname(&new);
    // externalTrafficPolicy: Local meant pods saw the client: kept on, live.
    let groups = groups_of(&sandbox, &new_dns).await;
    assert!(!groups.is_empty());
    for (target_type, pcip) in &groups {
        assert_eq!(target_type, "ip");
        assert_eq!(pcip, "true");
    }
    let sets = records(&sandbox, CHECKOUT).await;
    assert_eq!(sets.len(), 1);
    assert_eq!(
        sets[0].alias_target().map(crate::switching::alias_dns),
        Some(new_dns.clone())
    );
    assert!(service(&sandbox, "shop", "checkout").await.is_none());
    settle(&sandbox).await;
    let lbs = load_balancers(&sandbox).await;
    assert!(
        !lbs.contains(&old_dns),
        "the in-tree NLB is deleted: {lbs:?}"
    );
    assert_eq!(lbs.len(), lbs_before);
    let journal = Api::<ConfigMap>::namespaced(sandbox.kube_client(), "shop")
        .get_opt("kubectl-nlb-switch-checkout")
        .await
        .expect("get");
    assert!(journal.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_pods_roll_the_migration_back() {
    let (sandbox, env) = sandbox().await;
    let original = records(&sandbox, CHECKOUT).await;
    let lbs_before = load_balancers(&sandbox).await;
    let first = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("shift-10:done")),
        &fast("checkout", "shop", &["--weights", "10,50,100"]),
    )
    .await;
    assert_eq!(first.code, 137, "{}", first.stderr);
    // Only the new NLB registers pod IPs; the old one has instance targets.
    for ip in &sandbox
        .world()
        .service("shop", "checkout")
        .expect("checkout")
        .pod_ips
    {
        sandbox
            .set_target_health(ip, "unhealthy", "Target.FailedHealthChecks")
            .await
            .expect("override");
    }
    let r = run(
        &env,
        &["migrate", "resume", "checkout", "-n", "shop", "--yes"],
    )
    .await;
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("rolled back"), "{}", r.stderr);
    assert_eq!(weights(&sandbox).await, (100, 0));
    let r = run(
        &env,
        &["migrate", "abort", "checkout", "-n", "shop", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(records(&sandbox, CHECKOUT).await, original);
    assert!(service(&sandbox, "shop", "checkout-lbc").await.is_none());
    assert!(service(&sandbox, "shop", "checkout").await.is_some());
    settle(&sandbox).await;
    assert_eq!(load_balancers(&sandbox).await, lbs_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_record_it_creates_the_service_and_says_so() {
    let (sandbox, env) = sandbox().await;
    let r = run(&env, &fast("static-eip", "web", &[])).await;
    assert_one_line_error(&r.with_stderr_tail(), "static-addresses");
    let r = run(
        &env,
        &fast("static-eip", "web", &["--accept-new-addresses"]),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("No Route 53 record pointed at the old NLB"),
        "{}",
        r.stdout
    );
    // qa D-C1: the report came twice, once alone and once in the plan.
    assert_eq!(
        r.stderr
            .matches("Translation of service web/static-eip")
            .count(),
        1,
        "{}",
        r.stderr
    );
    // No record to move: the journal goes when the Service is ready, so the
    // plan must not promise an abort from any point; it says what stays.
    assert!(
        !r.stderr.contains("work from any point")
            && r.stderr
                .contains("remove it with `kubectl delete service static-eip-lbc -n web`"),
        "{}",
        r.stderr
    );
    let new = service(&sandbox, "web", "static-eip-lbc")
        .await
        .expect("new Service");
    assert!(!hostname(&new).is_empty());
    assert!(r.stdout.contains(&hostname(&new)), "{}", r.stdout);
    assert!(
        service(&sandbox, "web", "static-eip").await.is_some(),
        "the old Service stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_manifests_need_no_cluster_and_pipe_into_a_yaml_parser() {
    let env = Env { vars: vec![] };
    let a = format!("{FIXTURES}/seed-local-nginx.yaml");
    let b = format!("{FIXTURES}/tls-wildcard.yaml");
    let r = run(&env, &["migrate", "-f", &a, "-f", &b, "-o", "yaml"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&r.stdout)
        .map(|d| serde_json::Value::deserialize(d).expect("YAML"))
        .collect();
    assert_eq!(docs.len(), 2, "{}", r.stdout);
    for d in &docs {
        assert_eq!(d["kind"], "Service");
        assert_eq!(d["spec"]["loadBalancerClass"], "service.k8s.aws/nlb");
        assert!(d["metadata"]["name"].as_str().unwrap().ends_with("-lbc"));
    }
    assert!(r.stderr.contains("Translation of"), "{}", r.stderr);
    assert!(r.stderr.contains("ssl-ports-wildcard"), "{}", r.stderr);

    // `-f -` reads stdin, as kubectl does.
    let text = std::fs::read_to_string(&b).expect("fixture");
    let mut child = crate::util::command(&env, &["migrate", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_yaml::from_slice(&out.stdout).expect("one YAML Service");
    assert_eq!(doc["kind"], "Service");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Translation of stdin: service"));

    let r = run(&env, &["migrate", "-f", &a, "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert!(
        v["items"][0]["report"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(v["items"][0]["service"]["kind"], "Service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_every_legacy_service_of_the_seeded_world() {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sandbox);
    // A legacy Service being deleted cannot be migrated; it is listed as
    // refused and does not hide the others' plans.
    let orphan: Service = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "orphan",
            "namespace": "shop",
            "finalizers": ["example.com/hold"],
            "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
        },
        "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 443, "protocol": "TCP"}]},
    }))
    .expect("orphan");
    let shop = Api::<Service>::namespaced(sandbox.kube_client(), "shop");
    shop.create(&PostParams::default(), &orphan)
        .await
        .expect("create orphan");
    shop.delete("orphan", &Default::default())
        .await
        .expect("delete orphan: Terminating, held by its finalizer");
    let before = inventory(&sandbox).await;
    sandbox.reset_aws_requests().await.expect("reset");
    let r = run(&env, &["migrate", "-A", "--dry-run=client", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Route 53 and EC2 are read once for all three Services, not per Service;
    // so are the NLBs and target groups (one page each). Planning reads the
    // target groups' attributes but never their health.
    let calls = sandbox.aws_requests().await.expect("requests");
    let count = |action: &str| -> u64 {
        calls
            .iter()
            .filter(|(_, a, _)| a == action)
            .map(|(_, _, n)| n)
            .sum()
    };
    assert_eq!(count("ListHostedZones"), 1, "{calls:?}");
    assert_eq!(count("ListResourceRecordSets"), 1, "{calls:?}");
    assert_eq!(
        count("DescribeVpcEndpointServiceConfigurations"),
        1,
        "{calls:?}"
    );
    assert_eq!(count("DescribeLoadBalancers"), 1, "{calls:?}");
    assert_eq!(count("DescribeTargetGroups"), 1, "{calls:?}");
    assert_eq!(count("DescribeTargetHealth"), 0, "{calls:?}");
    assert!(count("DescribeTargetGroupAttributes") >= 3, "{calls:?}");
    let v = r.json();
    let items = v["items"].as_array().expect("items");
    let sources: Vec<&str> = items.iter().filter_map(|i| i["source"].as_str()).collect();
    assert_eq!(
        sources,
        [
            "service shop/checkout",
            "service shop/legacy-api",
            "service shop/orphan",
            "service web/static-eip"
        ]
    );
    assert!(items[2]["service"].is_null(), "{}", items[2]);
    assert!(
        items[2]["refused"]
            .as_str()
            .is_some_and(|w| w.contains("shop/orphan is being deleted")),
        "{}",
        items[2]
    );
    assert_eq!(items[0]["records"][0], "checkout.example.com. A");
    assert_eq!(items[1]["records"][0], "api.example.com. CNAME");
    assert_eq!(items[0]["steps"].as_array().map(Vec::len), Some(6));
    let codes: Vec<&str> = items[3]["report"]
        .as_array()
        .expect("report")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert!(codes.contains(&"static-addresses"), "{codes:?}");
    // A label selector narrows the plan to one namespace's matching Services.
    let r = run(
        &env,
        &[
            "migrate",
            "-n",
            "shop",
            "-l",
            "app=checkout",
            "--dry-run=client",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["items"][0]["source"], "service shop/checkout");
    // Nothing to plan is still JSON for a script: an empty list.
    let r = run(
        &env,
        &[
            "migrate",
            "-A",
            "-l",
            "app=nothing",
            "--dry-run=client",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json(), serde_json::json!({"items": []}));
    // The table form names every Service and its steps.
    let r = run(&env, &["migrate", "-A", "--dry-run"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "shop/checkout → checkout-lbc",
        "shop/legacy-api → legacy-api-lbc",
        "api.example.com. CNAME",
        "cannot migrate: service shop/orphan is being deleted",
    ] {
        assert!(r.stdout.contains(needle), "{needle:?} in:\n{}", r.stdout);
    }
    assert_eq!(
        inventory(&sandbox).await,
        before,
        "planning changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_changes_nothing() {
    // Offline: no cluster at all.
    let offline = Env { vars: vec![] };
    let dir = std::env::temp_dir().join(format!("kubectl-nlb-migrate-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p.to_string_lossy().into_owned()
    };
    let deployment = write(
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n",
    );
    let clusterip = write(
        "clusterip.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: internal\nspec:\n  selector: {app: x}\n  ports: [{port: 80}]\n",
    );
    let garbage = write("garbage.yaml", "kind: [unclosed\n");
    for (args, needle) in [
        (
            vec!["migrate", "-f", deployment.as_str()],
            "is Deployment web, not a v1 Service",
        ),
        (
            vec!["migrate", "-f", clusterip.as_str()],
            "not LoadBalancer",
        ),
        (
            vec!["migrate", "-f", garbage.as_str()],
            "is not YAML or JSON",
        ),
        (
            vec!["migrate", "-f", "/nonexistent/svc.yaml"],
            "reading /nonexistent/svc.yaml",
        ),
        (
            vec![
                "migrate",
                "-f",
                &format!("{FIXTURES}/refused-already-lbc.yaml"),
            ],
            "not an in-tree NLB Service",
        ),
        (
            vec!["migrate", "-f", &format!("{FIXTURES}/refused-classic.yaml")],
            "not an in-tree NLB Service",
        ),
    ] {
        let r = run(&offline, &args).await;
        assert_one_line_error(&r, needle);
    }
    // Invalid values and malformed tags: the report on stderr, then one error, exit 1, no manifest.
    let r = run(
        &offline,
        &["migrate", "-f", &format!("{FIXTURES}/invalid-values.yaml")],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("invalid-annotation-value"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("error: cannot migrate as it is"),
        "{}",
        r.stderr
    );

    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sandbox);
    let before = inventory(&sandbox).await;
    for (args, needle) in [
        (
            vec!["migrate", "frontend", "-n", "web", "--yes"],
            "not an in-tree NLB Service",
        ),
        (
            vec!["migrate", "payments", "-n", "shop", "--yes"],
            "not an in-tree NLB Service",
        ),
        (
            vec!["migrate", "nosuch", "-n", "shop", "--yes"],
            "service shop/nosuch not found",
        ),
        (vec!["migrate", "-A", "--yes"], "-A and -l only plan"),
        (vec!["migrate", "--yes"], "name the Service to migrate"),
        (
            vec![
                "migrate",
                "checkout",
                "-n",
                "shop",
                "--weights",
                "50,10,100",
                "--yes",
            ],
            "does not increase",
        ),
        (
            vec![
                "migrate",
                "checkout",
                "-n",
                "shop",
                "--new-name",
                "Bad_Name",
                "--yes",
            ],
            "--new-name",
        ),
        (
            vec![
                "migrate",
                "checkout",
                "-n",
                "shop",
                "--new-name",
                "legacy-api",
                "--yes",
            ],
            "service shop/legacy-api already exists",
        ),
        (
            vec![
                "migrate",
                "checkout",
                "-n",
                "shop",
                "--zone",
                "nosuch.example",
                "--yes",
            ],
            "hosted zone nosuch.example not found",
        ),
    ] {
        let r = run(&env, &args).await;
        assert_one_line_error(&r.with_stderr_tail(), needle);
    }
    let r = run(&env, &["migrate", "checkout", "-n", "shop"]).await;
    assert_one_line_error(&r.with_stderr_tail(), "pass --yes");
    assert_eq!(inventory(&sandbox).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_creating_the_service_then_abort_or_resume() {
    let (sandbox, env) = sandbox().await;
    let original = records(&sandbox, CHECKOUT).await;
    let killed = env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("create-service:done"));
    let args = fast("checkout", "shop", &["--weights", "100", "--finalize"]);
    let r = run(&killed, &args).await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    let r = run(
        &env,
        &["migrate", "abort", "checkout", "-n", "shop", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(service(&sandbox, "shop", "checkout-lbc").await.is_none());
    assert_eq!(records(&sandbox, CHECKOUT).await, original);

    let r = run(&killed, &args).await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    let r = run(
        &env,
        &["migrate", "resume", "checkout", "-n", "shop", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(service(&sandbox, "shop", "checkout").await.is_none());
    assert!(service(&sandbox, "shop", "checkout-lbc").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_or_yes_migrate_refuses_before_printing_its_report() {
    // qa D-C3: the 30-line report came first, then "not a terminal".
    let (sandbox, env) = sandbox().await;
    let before = inventory(&sandbox).await;
    let r = run(&env, &["migrate", "checkout", "-n", "shop"]).await;
    assert_one_line_error(&r, "not a terminal");
    assert_eq!(inventory(&sandbox).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_the_api_server_or_the_lbc_would_refuse_are_reported_not_emitted() {
    // qa D-W12: duplicate port names and numbers, an empty tag key and the
    // name CheckOut passed through with exit 0.
    let env = Env { vars: vec![] };
    let file = format!("{FIXTURES}/api-would-reject.yaml");
    for output in ["yaml", "json"] {
        let r = run(&env, &["migrate", "-f", &file, "-o", output]).await;
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stdout.is_empty(), "nothing emitted: {}", r.stdout);
        for code in [
            "service-name-invalid",
            "port-name-duplicate",
            "port-duplicate",
            "tags-empty-key",
        ] {
            assert!(r.stderr.contains(code), "{code}: {}", r.stderr);
        }
        let last = r.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: cannot migrate as it is")
                && last.contains("service-name-invalid"),
            "{last}"
        );
    }
}

/// A temporary copy of a fixture, changed by `edit`.
fn edited_fixture(case: &str, tag: &str, edit: impl Fn(String) -> String) -> String {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{case}.yaml")).expect("fixture");
    let path = std::env::temp_dir().join(format!(
        "kubectl-nlb-e2e-{}-{tag}-{case}.yaml",
        std::process::id()
    ));
    std::fs::write(&path, edit(text)).expect("write");
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_saved_with_a_byte_order_mark_is_read() {
    // qa D-M9: "document 1 is (no kind) (no name), not a v1 Service".
    let env = Env { vars: vec![] };
    // The mark right before the first key made the key "\u{feff}apiVersion"
    // (before a comment line it did no harm), so the comments go.
    let file = edited_fixture("seed-local-nginx", "bom", |t| {
        let body: Vec<&str> = t.lines().filter(|l| !l.starts_with('#')).collect();
        format!("\u{feff}{}", body.join("\n"))
    });
    let r = run(&env, &["migrate", "-f", &file, "-o", "yaml"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_yaml::from_str(&r.stdout).expect("one YAML Service");
    assert_eq!(doc["kind"], "Service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_mode_refuses_a_contradicting_namespace_and_a_server_dry_run() {
    // qa D-M14: -n other and --dry-run=server were silently ignored.
    let env = Env { vars: vec![] };
    let placed = format!("{FIXTURES}/seed-local-nginx.yaml");
    let text = std::fs::read_to_string(&placed).expect("fixture");
    let ns = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("namespace: "))
        .expect("the fixture has a namespace")
        .to_string();
    let r = run(
        &env,
        &["migrate", "-f", &placed, "-n", "other", "-o", "yaml"],
    )
    .await;
    assert_one_line_error(
        &r,
        &format!(
            "the namespace from the provided object \"{ns}\" does not match the namespace \"other\". You must pass '--namespace={ns}' to perform this operation."
        ),
    );
    let r = run(&env, &["migrate", "-f", &placed, "-n", &ns, "-o", "yaml"]).await;
    assert_eq!(r.code, 0, "the same namespace is fine: {}", r.stderr);
    // A manifest without a namespace takes -n.
    let unplaced = edited_fixture("seed-local-nginx", "nons", |t| {
        t.lines()
            .filter(|l| !l.trim().starts_with("namespace: "))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let r = run(
        &env,
        &["migrate", "-f", &unplaced, "-n", "other", "-o", "yaml"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_yaml::from_str(&r.stdout).expect("YAML");
    assert_eq!(doc["metadata"]["namespace"], "other");
    // No cluster to validate against.
    let r = run(&env, &["migrate", "-f", &placed, "--dry-run=server"]).await;
    assert_one_line_error(
        &r,
        "--dry-run=server needs a cluster, but -f reads files only",
    );
}
