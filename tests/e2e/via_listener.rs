//! `kubectl nlb cutover --via listener` against the sandbox: the LBC
//! stand-in at v2.16.0 turns the `actions.*` annotation into listener
//! weights (tests/sandbox/src/listener_action.rs) and reconciles the
//! Service's target group attributes; moto holds the weighted forwards.

use crate::switching::{inventory, load_balancers, service};
use crate::util::{Env, run};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use nlb_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

const TWIN_PREFIX: &str = "kubectl-nlb-twin-";
const ACTIONS: &str = "service.beta.kubernetes.io/actions.";
const ATTRIBUTES: &str = "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes";

async fn sandbox_with(version: &str, args: &[&str]) -> (Sandbox, Env) {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_version: Some(version.into()),
        lbc_args: args.iter().map(|a| a.to_string()).collect(),
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    (sandbox, env)
}

async fn sandbox() -> (Sandbox, Env) {
    sandbox_with("v2.16.0", &[]).await
}

/// A fast listener cutover: no soak, 1 s polls.
fn fast<'a>(svc: &'a str, ns: &'a str, preserve: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "cutover",
        svc,
        "-n",
        ns,
        preserve,
        "--via",
        "listener",
        "--soak",
        "0s",
        "--interval",
        "1s",
        "--timeout",
        "60s",
        "--yes",
    ];
    args.extend_from_slice(extra);
    args
}

/// The NLB of a Service: (ARN, DNS name).
async fn nlb_of(sandbox: &Sandbox, ns: &str, name: &str) -> (String, String) {
    let svc = service(sandbox, ns, name).await.expect("service");
    let host = crate::switching::hostname(&svc).expect("hostname");
    let out = sandbox
        .aws_internal()
        .elb
        .describe_load_balancers()
        .send()
        .await
        .expect("lbs");
    let lb = out
        .load_balancers()
        .iter()
        .find(|l| l.dns_name().map(str::to_ascii_lowercase).as_deref() == Some(host.as_str()))
        .expect("NLB of the service");
    (lb.load_balancer_arn().unwrap_or_default().to_string(), host)
}

/// Each listener's forward as (target group name, weight or 0 for a plain one).
async fn forwards(sandbox: &Sandbox, lb: &str) -> Vec<(i32, Vec<(String, i32)>)> {
    let elb = &sandbox.aws_internal().elb;
    let out = elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .expect("listeners");
    let mut all = Vec::new();
    for l in out.listeners() {
        let mut pairs = Vec::new();
        for a in l.default_actions() {
            let weighted: Vec<(String, i32)> = a
                .forward_config()
                .map(|f| {
                    f.target_groups()
                        .iter()
                        .map(|t| {
                            (
                                t.target_group_arn().unwrap_or_default().to_string(),
                                t.weight().unwrap_or(1),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if weighted.len() > 1 {
                pairs.extend(weighted);
            } else if let Some(arn) = a.target_group_arn() {
                pairs.push((arn.to_string(), 0));
            } else {
                pairs.extend(weighted.into_iter().map(|(a, _)| (a, 0)));
            }
        }
        let mut named = Vec::new();
        for (arn, w) in pairs {
            let tg = elb
                .describe_target_groups()
                .target_group_arns(&arn)
                .send()
                .await
                .expect("tg");
            let name = tg.target_groups()[0]
                .target_group_name()
                .unwrap_or_default()
                .to_string();
            named.push((name, w));
        }
        all.push((l.port().unwrap_or_default(), named));
    }
    all.sort();
    all
}

/// (own weight, twin weight) on the first listener; plain = (100, 0).
async fn split(sandbox: &Sandbox, lb: &str) -> (i32, i32) {
    let f = forwards(sandbox, lb).await;
    let pairs = &f[0].1;
    if pairs.len() == 1 {
        assert!(!pairs[0].0.starts_with(TWIN_PREFIX), "{pairs:?}");
        return (100, 0);
    }
    let own = pairs.iter().find(|(n, _)| !n.starts_with(TWIN_PREFIX));
    let twin = pairs.iter().find(|(n, _)| n.starts_with(TWIN_PREFIX));
    (
        own.map(|x| x.1).unwrap_or(0),
        twin.map(|x| x.1).unwrap_or(0),
    )
}

/// Every target group's name and preserve_client_ip.enabled.
async fn groups(sandbox: &Sandbox) -> Vec<(String, String)> {
    let elb = &sandbox.aws_internal().elb;
    let out = elb.describe_target_groups().send().await.expect("tgs");
    let mut all = Vec::new();
    for tg in out.target_groups() {
        let arn = tg.target_group_arn().unwrap_or_default();
        let pcip = crate::switching::preserve_client_ip(sandbox, arn).await;
        all.push((tg.target_group_name().unwrap_or_default().to_string(), pcip));
    }
    all.sort();
    all
}

/// preserve_client_ip.enabled of the Service's own target group(s).
async fn own_value(sandbox: &Sandbox, lb: &str) -> Vec<String> {
    let elb = &sandbox.aws_internal().elb;
    let out = elb
        .describe_target_groups()
        .load_balancer_arn(lb)
        .send()
        .await
        .expect("tgs");
    let names: Vec<String> = out
        .target_groups()
        .iter()
        .filter_map(|t| t.target_group_name().map(str::to_string))
        .filter(|n| !n.starts_with(TWIN_PREFIX))
        .collect();
    groups(sandbox)
        .await
        .into_iter()
        .filter(|(n, _)| names.contains(n))
        .map(|(_, v)| v)
        .collect()
}

async fn bindings(sandbox: &Sandbox) -> Vec<String> {
    let api: Api<DynamicObject> = Api::all_with(
        sandbox.kube_client(),
        &kube::api::ApiResource {
            group: "elbv2.k8s.aws".into(),
            version: "v1beta1".into(),
            api_version: "elbv2.k8s.aws/v1beta1".into(),
            kind: "TargetGroupBinding".into(),
            plural: "targetgroupbindings".into(),
        },
    );
    let mut names: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("bindings")
        .items
        .iter()
        .map(|o| o.metadata.name.clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

async fn annotations(sandbox: &Sandbox, ns: &str, name: &str) -> Vec<(String, String)> {
    service(sandbox, ns, name)
        .await
        .and_then(|s| s.metadata.annotations)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// Everything a listener switch may touch, beyond `inventory`: target
/// groups with their value, bindings, listener forwards.
async fn everything(sandbox: &Sandbox, lb: &str) -> String {
    format!(
        "{}\n{:?}\n{:?}\n{:?}",
        inventory(sandbox).await,
        groups(sandbox).await,
        bindings(sandbox).await,
        forwards(sandbox, lb).await
    )
}

/// What must hold once a switch ended or was undone: nothing it made.
async fn nothing_left(sandbox: &Sandbox, ns: &str, name: &str, lb: &str, what: &str) {
    assert!(
        groups(sandbox)
            .await
            .iter()
            .all(|(n, _)| !n.starts_with(TWIN_PREFIX)),
        "{what}: a twin is left: {:?}",
        groups(sandbox).await
    );
    assert!(
        bindings(sandbox)
            .await
            .iter()
            .all(|n| !n.starts_with(TWIN_PREFIX)),
        "{what}: a binding is left"
    );
    assert!(
        annotations(sandbox, ns, name)
            .await
            .iter()
            .all(|(k, _)| !k.starts_with(ACTIONS)),
        "{what}: an actions annotation is left"
    );
    assert_eq!(split(sandbox, lb).await, (100, 0), "{what}: plain forward");
    assert!(
        !crate::switching::config_map_exists(sandbox, ns, &format!("kubectl-nlb-switch-{name}"))
            .await,
        "{what}: journal left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_cutover_moves_to_twins_and_back_with_weights_observed_at_every_step() {
    let (sandbox, env) = sandbox().await;
    let (lb, dns) = nlb_of(&sandbox, "web", "frontend").await;
    let lbs_before = load_balancers(&sandbox).await;
    let groups_before: Vec<String> = groups(&sandbox).await.into_iter().map(|g| g.0).collect();
    let bindings_before = bindings(&sandbox).await;
    assert_eq!(own_value(&sandbox, &lb).await, vec!["true"]);

    let steps = [
        ("to-twins-10:done", (90, 10)),
        ("to-twins-50:done", (50, 50)),
        ("to-twins-100:done", (0, 100)),
        ("back-to-own-10:done", (10, 90)),
        ("back-to-own-50:done", (50, 50)),
        ("back-to-own-100:done", (100, 0)),
    ];
    let mut args = fast(
        "frontend",
        "web",
        "--preserve-client-ip=false",
        &["--weights", "10,50,100", "--finalize"],
    );
    for (boundary, want) in steps {
        let r = run(
            &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some(boundary)),
            &args,
        )
        .await;
        assert_eq!(r.code, 137, "{boundary}: {}\n{}", r.stdout, r.stderr);
        assert_eq!(split(&sandbox, &lb).await, want, "{boundary}");
        if boundary == "to-twins-100:done" {
            // The own group still has the original value; the twin the new one.
            assert_eq!(own_value(&sandbox, &lb).await, vec!["true"]);
            let status = run(&env, &["cutover", "status", "frontend", "-n", "web"]).await;
            assert_eq!(status.code, 0, "{}", status.stderr);
            assert!(
                status.stdout.contains("own 0 / twins 100"),
                "{}",
                status.stdout
            );
        }
        if boundary == "back-to-own-10:done" {
            assert_eq!(own_value(&sandbox, &lb).await, vec!["false"]);
        }
        args = vec!["cutover", "resume", "frontend", "-n", "web", "--yes"];
    }
    let done = run(&env, &args).await;
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains("done: service/frontend"),
        "{}",
        done.stdout
    );

    assert_eq!(own_value(&sandbox, &lb).await, vec!["false"]);
    nothing_left(&sandbox, "web", "frontend", &lb, "after the cutover").await;
    assert_eq!(nlb_of(&sandbox, "web", "frontend").await, (lb.clone(), dns));
    assert_eq!(load_balancers(&sandbox).await, lbs_before);
    let groups_after: Vec<String> = groups(&sandbox).await.into_iter().map(|g| g.0).collect();
    assert_eq!(groups_after, groups_before);
    assert_eq!(bindings(&sandbox).await, bindings_before);
    let ann: std::collections::BTreeMap<String, String> = annotations(&sandbox, "web", "frontend")
        .await
        .into_iter()
        .collect();
    assert_eq!(
        ann.get(ATTRIBUTES).map(String::as_str),
        Some("preserve_client_ip.enabled=false")
    );
}

/// Waits (≤30 s) until the LBC stand-in gave a Service its hostname.
async fn wait_hostname(sandbox: &Sandbox, ns: &str, name: &str) {
    for _ in 0..300 {
        if let Some(s) = service(sandbox, ns, name).await
            && crate::switching::hostname(&s).is_some()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{ns}/{name} never got its NLB");
}

/// The Elastic IPs the Service asks for. moto keeps no AllocationId of a
/// SubnetMapping (moto/elbv2/responses.py reads only the subnets), so the
/// addresses show as the NLB itself (same ARN and DNS name) plus this.
async fn allocation_ids(sandbox: &Sandbox, name: &str) -> Option<String> {
    annotations(sandbox, "web", name)
        .await
        .into_iter()
        .find(|(k, _)| k == "service.beta.kubernetes.io/aws-load-balancer-eip-allocations")
        .map(|(_, v)| v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_elastic_ips_keeps_its_addresses() {
    let (sandbox, env) = sandbox().await;
    let mut eips = Vec::new();
    for _ in 0..3 {
        let a = sandbox
            .aws_internal()
            .ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .expect("eip");
        eips.push(a.allocation_id().unwrap_or_default().to_string());
    }
    sandbox
        .add_service(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "edge", "namespace": "web", "annotations": {
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                "service.beta.kubernetes.io/aws-load-balancer-eip-allocations": eips.join(","),
                ATTRIBUTES: "preserve_client_ip.enabled=true",
            }},
            "spec": {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb",
                "selector": {"app": "frontend"},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
        }))
        .await
        .expect("service");
    wait_hostname(&sandbox, "web", "edge").await;
    let (lb, dns) = nlb_of(&sandbox, "web", "edge").await;
    let want_ids = Some(eips.join(","));

    // The DNS path cannot move clients of the addresses.
    let dns_path = run(
        &env,
        &[
            "cutover",
            "edge",
            "-n",
            "web",
            "--preserve-client-ip=false",
            "--yes",
        ],
    )
    .await;
    assert_eq!(dns_path.code, 1, "{}", dns_path.stderr);
    assert!(
        dns_path.stderr.contains("Elastic IPs"),
        "{}",
        dns_path.stderr
    );

    let r = run(
        &env,
        &fast(
            "edge",
            "web",
            "--preserve-client-ip=false",
            &["--weights", "50,100", "--finalize"],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(own_value(&sandbox, &lb).await, vec!["false"]);
    assert_eq!(nlb_of(&sandbox, "web", "edge").await, (lb.clone(), dns));
    assert_eq!(
        allocation_ids(&sandbox, "edge").await,
        want_ids,
        "same addresses"
    );
    nothing_left(&sandbox, "web", "edge", &lb, "edge").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_behind_a_privatelink_endpoint_service_keeps_it() {
    let (sandbox, env) = sandbox().await;
    let endpoint = sandbox
        .world()
        .vpc_endpoint_service_id
        .clone()
        .expect("the seeded endpoint service");
    let (lb, dns) = nlb_of(&sandbox, "shop", "payments").await;
    assert_eq!(own_value(&sandbox, &lb).await, vec!["false"], "ip default");

    let dns_path = run(
        &env,
        &[
            "cutover",
            "payments",
            "-n",
            "shop",
            "--preserve-client-ip=true",
            "--yes",
        ],
    )
    .await;
    assert_eq!(dns_path.code, 1, "{}", dns_path.stderr);
    assert!(
        dns_path.stderr.contains("PrivateLink"),
        "{}",
        dns_path.stderr
    );

    let r = run(
        &env,
        &fast(
            "payments",
            "shop",
            "--preserve-client-ip=true",
            &["--weights", "50,100", "--finalize"],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(own_value(&sandbox, &lb).await, vec!["true"]);
    assert_eq!(
        nlb_of(&sandbox, "shop", "payments").await,
        (lb.clone(), dns)
    );
    let services = sandbox
        .aws_internal()
        .ec2
        .describe_vpc_endpoint_service_configurations()
        .service_ids(&endpoint)
        .send()
        .await
        .expect("endpoint service");
    assert_eq!(
        services.service_configurations()[0].network_load_balancer_arns(),
        std::slice::from_ref(&lb),
        "the endpoint service still points at the same NLB"
    );
    nothing_left(&sandbox, "shop", "payments", &lb, "payments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_twin_targets_roll_back_to_the_own_group_then_abort_leaves_nothing() {
    let (sandbox, env) = sandbox().await;
    let (lb, _) = nlb_of(&sandbox, "web", "frontend").await;
    let before = everything(&sandbox, &lb).await;
    let r = run(
        &env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some("to-twins-10:done")),
        &fast(
            "frontend",
            "web",
            "--preserve-client-ip=false",
            &["--weights", "10,50,100"],
        ),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    assert_eq!(split(&sandbox, &lb).await, (90, 10));
    // The twin's targets fail their health checks (as they would if the
    // security groups did not let the NLB's addresses through); the own
    // group's, the same pods, stay healthy.
    let twin = groups(&sandbox)
        .await
        .into_iter()
        .find(|(n, _)| n.starts_with(TWIN_PREFIX))
        .expect("twin")
        .0;
    let twin_arn = sandbox
        .aws_internal()
        .elb
        .describe_target_groups()
        .names(&twin)
        .send()
        .await
        .expect("twin")
        .target_groups()[0]
        .target_group_arn()
        .unwrap_or_default()
        .to_string();
    for ip in &sandbox
        .world()
        .service("web", "frontend")
        .expect("seeded")
        .pod_ips
    {
        sandbox
            .set_target_health(
                &format!("{twin_arn}/{ip}"),
                "unhealthy",
                "Target.FailedHealthChecks",
            )
            .await
            .expect("health");
    }
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("rolled back"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("own target groups (preserve_client_ip.enabled=true)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        split(&sandbox, &lb).await,
        (100, 0),
        "every new connection on the own group"
    );
    let status = run(&env, &["cutover", "status", "frontend", "-n", "web"]).await;
    assert!(status.stdout.contains("rolled back"), "{}", status.stdout);

    let r = run(
        &env,
        &["cutover", "abort", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    sandbox.clear_target_health().await.expect("clear");
    nothing_left(&sandbox, "web", "frontend", &lb, "after the abort").await;
    assert_eq!(own_value(&sandbox, &lb).await, vec!["true"]);
    assert_eq!(
        everything(&sandbox, &lb)
            .await
            .lines()
            .skip(1)
            .collect::<Vec<_>>(),
        before.lines().skip(1).collect::<Vec<_>>(),
        "everything but the Services' resourceVersions as before"
    );
}

/// Kills the process at each boundary; aborts (the original value serving,
/// nothing left) and starts again, kills again, then resumes to the end.
/// Each case starts from the value the previous one left.
async fn kill_chain(boundaries: &[&str]) {
    let (sandbox, env) = sandbox().await;
    let (lb, _) = nlb_of(&sandbox, "web", "frontend").await;
    let mut value = true;
    for boundary in boundaries {
        let flag = format!("--preserve-client-ip={}", !value);
        let args = fast(
            "frontend",
            "web",
            &flag,
            &["--weights", "50,100", "--finalize"],
        );
        let killed = env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some(boundary));
        let r = run(&killed, &args).await;
        assert_eq!(r.code, 137, "{boundary}: {}\n{}", r.stdout, r.stderr);
        let r = run(
            &env,
            &["cutover", "abort", "frontend", "-n", "web", "--yes"],
        )
        .await;
        if boundary.starts_with("cleanup:") {
            assert_eq!(r.code, 1, "{boundary}: {}", r.stderr);
            assert!(r.stderr.contains("resume"), "{}", r.stderr);
        } else {
            assert_eq!(r.code, 0, "{boundary}: {}\n{}", r.stdout, r.stderr);
            nothing_left(&sandbox, "web", "frontend", &lb, boundary).await;
            assert_eq!(
                own_value(&sandbox, &lb).await,
                vec![value.to_string()],
                "{boundary}: the original value serves"
            );
            let r = run(&killed, &args).await;
            assert_eq!(r.code, 137, "{boundary}: {}\n{}", r.stdout, r.stderr);
        }
        let r = run(
            &env,
            &["cutover", "resume", "frontend", "-n", "web", "--yes"],
        )
        .await;
        assert_eq!(r.code, 0, "{boundary}: {}\n{}", r.stdout, r.stderr);
        value = !value;
        assert_eq!(
            own_value(&sandbox, &lb).await,
            vec![value.to_string()],
            "{boundary}"
        );
        nothing_left(&sandbox, "web", "frontend", &lb, boundary).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_the_own_group_changes_then_abort_or_resume() {
    kill_chain(&[
        "create-twins:began",
        "create-twins:done",
        "wait-twins:began",
        "wait-twins:done",
        "to-twins-50:began",
        "to-twins-50:done",
        "to-twins-100:began",
        "to-twins-100:done",
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_own_group_changes_then_abort_or_resume() {
    kill_chain(&[
        "change-own:began",
        "change-own:done",
        "wait-own:began",
        "wait-own:done",
        "back-to-own-50:began",
        "back-to-own-50:done",
        "back-to-own-100:began",
        "back-to-own-100:done",
        "cleanup:began",
        "cleanup:done",
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_without_weighted_target_groups_are_refused_and_nothing_changes() {
    for (version, args, needle) in [
        (
            "v2.13.3",
            vec![],
            "is v2.13.3: Services get weighted target groups from v2.16.0",
        ),
        (
            "v2.16.0",
            vec!["--feature-gates=WeightedTargetGroups=false"],
            "--feature-gates=WeightedTargetGroups=false",
        ),
    ] {
        let (sandbox, env) = sandbox_with(version, &args).await;
        let (lb, _) = nlb_of(&sandbox, "web", "frontend").await;
        let before = everything(&sandbox, &lb).await;
        let r = run(
            &env,
            &fast(
                "frontend",
                "web",
                "--preserve-client-ip=false",
                &["--finalize"],
            ),
        )
        .await;
        assert_eq!(r.code, 1, "{version}: {}", r.stderr);
        crate::util::assert_one_line_error(&r, needle);
        assert_eq!(everything(&sandbox, &lb).await, before, "{version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_one_line_and_change_nothing() {
    let (sandbox, env) = sandbox().await;
    let (lb, _) = nlb_of(&sandbox, "web", "frontend").await;
    // A Service that already carries an actions annotation.
    Api::<Service>::namespaced(sandbox.kube_client(), "shop")
        .patch(
            "payments",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                "service.beta.kubernetes.io/actions.TCP-8443": "{\"type\":\"forward\",\"forwardConfig\":{\"baseServiceWeight\":100}}"
            }}})),
        )
        .await
        .expect("annotate");
    crate::switching::settle(&sandbox).await;
    let before = everything(&sandbox, &lb).await;
    let base = |svc: &'static str, ns: &'static str, extra: &[&'static str]| {
        let mut a = vec!["cutover", svc, "-n", ns, "--via", "listener", "--yes"];
        a.extend_from_slice(extra);
        a
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            base("nope", "web", &["--preserve-client-ip=false"]),
            "service web/nope not found",
        ),
        (
            base("checkout", "shop", &["--preserve-client-ip=false"]),
            "in-tree cloud provider",
        ),
        (
            base("other-class", "default", &["--preserve-client-ip=false"]),
            "not managed by the AWS Load Balancer Controller",
        ),
        (
            base("frontend", "web", &["--preserve-client-ip=true"]),
            "nothing to cut over",
        ),
        (
            base("payments", "shop", &["--preserve-client-ip=true"]),
            "already has the annotation service.beta.kubernetes.io/actions.TCP-8443",
        ),
        (
            base(
                "frontend",
                "web",
                &["--preserve-client-ip=false", "--new-name", "x"],
            ),
            "--new-name only apply to --via dns",
        ),
        (
            base(
                "frontend",
                "web",
                &["--preserve-client-ip=false", "--zone", "example.com"],
            ),
            "--zone only apply to --via dns",
        ),
        (
            base(
                "frontend",
                "web",
                &["--preserve-client-ip=false", "--record", "www.example.com"],
            ),
            "--record only apply",
        ),
        (
            base(
                "frontend",
                "web",
                &[
                    "--preserve-client-ip=false",
                    "--accept-new-addresses",
                    "--drain",
                    "1s",
                ],
            ),
            "--accept-new-addresses, --drain only apply",
        ),
        (
            base(
                "frontend",
                "web",
                &["--preserve-client-ip=false", "--dry-run=server"],
            ),
            "no server dry run",
        ),
        (
            base(
                "frontend",
                "web",
                &["--preserve-client-ip=false", "--weights", "50,10"],
            ),
            "--weights",
        ),
        (
            base(
                "frontend",
                "web",
                &["--preserve-client-ip=false", "--timeout", "0"],
            ),
            "every wait needs a limit",
        ),
        (base("frontend", "web", &[]), "--preserve-client-ip"),
    ];
    for (args, needle) in &cases {
        let r = run(&env, args).await;
        assert_ne!(r.code, 0, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        if !needle.starts_with("--preserve") {
            crate::util::assert_one_line_error(&r, needle);
        }
        assert_eq!(everything(&sandbox, &lb).await, before, "{args:?}");
    }
    let r = run(
        &env,
        &[
            "cutover",
            "frontend",
            "-n",
            "web",
            "--via",
            "carrier-pigeon",
            "--preserve-client-ip=false",
        ],
    )
    .await;
    assert_eq!(r.code, 1, "a usage error: {}", r.stderr);
    assert!(
        r.stderr.contains("dns") && r.stderr.contains("listener"),
        "{}",
        r.stderr
    );
    assert_eq!(everything(&sandbox, &lb).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_and_manifests_show_the_plan_and_change_nothing() {
    let (sandbox, env) = sandbox().await;
    let (lb, _) = nlb_of(&sandbox, "web", "frontend").await;
    let before = everything(&sandbox, &lb).await;
    let mut args = fast(
        "frontend",
        "web",
        "--preserve-client-ip=false",
        &["--finalize", "--dry-run=client"],
    );
    args.retain(|a| *a != "--yes");
    let plan = run(&env, &args).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for needle in [
        "on the same NLB",
        "create target group(s) kubectl-nlb-twin-",
        "baseServiceWeight\":90",
        "own 0 / twins 100",
        "preserve_client_ip.enabled=true\" → \"preserve_client_ip.enabled=false\"",
        "remove the actions annotations",
    ] {
        assert!(plan.stdout.contains(needle), "{needle}: {}", plan.stdout);
    }
    let mut args = fast(
        "frontend",
        "web",
        "--preserve-client-ip=false",
        &["--finalize", "-o", "json"],
    );
    args.retain(|a| *a != "--yes");
    let list = run(&env, &args).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let v = list.json();
    assert_eq!(v["kind"], "List");
    assert_eq!(v["items"][0]["kind"], "TargetGroupBinding");
    assert!(
        v["items"][1]["metadata"]["annotations"]["service.beta.kubernetes.io/actions.TCP-80"]
            .as_str()
            .is_some_and(|s| s.contains("\"baseServiceWeight\":90")),
        "{v}"
    );
    assert_eq!(everything(&sandbox, &lb).await, before);
}
