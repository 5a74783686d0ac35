//! cutover and migrate against what the sandbox learned from the real
//! systems (fidelity review A1, A4, A6–A8, A10, A11): Services that stay
//! Terminating while their controller deletes the NLB, cleanups that fail,
//! target churn during a soak, UDP, address pins and GitOps marks, and the
//! controller's own flags.

use crate::switching::{
    alias_target, config_map_exists, create_alias, groups_of, inventory, records, sandbox, service,
};
use crate::util::{Env, run};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use nlb_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;
use std::time::Duration;

const WWW: &str = "www.example.com.";

use crate::switching::quick as fast;

fn cutover<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = fast(
        "cutover",
        "frontend",
        "web",
        &["--preserve-client-ip=false"],
    );
    args.extend_from_slice(extra);
    args
}

fn killed_at(env: &Env, boundary: &str) -> Env {
    env.with("KUBECTL_NLB_FAULT_EXIT_AT", Some(boundary))
}

async fn nlb_exists(sb: &Sandbox, dns: &str) -> bool {
    crate::switching::load_balancers(sb)
        .await
        .iter()
        .any(|d| d == dns)
}

fn dns_of(svc: &Service) -> String {
    crate::switching::hostname(svc).expect("hostname")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalize_waits_for_the_old_nlb_and_abort_refuses_while_it_is_deleted() {
    let (sb, env) = sandbox().await;
    let old_dns = dns_of(&service(&sb, "web", "frontend").await.unwrap());
    let r = run(
        &killed_at(&env, "drain:done"),
        &cutover(&["--weights", "100", "--finalize"]),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);

    // The controller takes its time: the old Service stays Terminating.
    sb.lbc().set_cleanup_delay(Duration::from_secs(600));
    let r = run(
        &env,
        &[
            "cutover",
            "resume",
            "frontend",
            "-n",
            "web",
            "--timeout",
            "3s",
            "--yes",
        ],
    )
    .await;
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("service web/frontend is still being deleted"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "finalizer service.k8s.aws/resources is held by the AWS Load Balancer Controller"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !r.stdout.contains("gone"),
        "no success claimed: {}",
        r.stdout
    );
    let old = service(&sb, "web", "frontend").await.expect("still there");
    assert!(old.metadata.deletion_timestamp.is_some());
    assert!(nlb_exists(&sb, &old_dns).await);
    assert!(config_map_exists(&sb, "web", "kubectl-nlb-switch-frontend").await);

    // abort would point DNS back at the dying NLB and delete the live one.
    let before = inventory(&sb).await;
    let r = run(
        &env,
        &["cutover", "abort", "frontend", "-n", "web", "--yes"],
    )
    .await;
    crate::util::assert_one_line_error(&r.with_stderr_tail(), "cannot abort");
    assert!(r.stderr.contains("is what serves clients"), "{}", r.stderr);
    assert_eq!(inventory(&sb).await, before, "abort changed nothing");

    // Once the controller is done, resume sees it gone and finishes.
    sb.lbc().set_cleanup_delay(Duration::ZERO);
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("the old Service and its NLB are gone"),
        "{}",
        r.stdout
    );
    assert!(service(&sb, "web", "frontend").await.is_none());
    assert!(!nlb_exists(&sb, &old_dns).await);
    assert!(!config_map_exists(&sb, "web", "kubectl-nlb-switch-frontend").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleanup_that_never_finishes_is_named_and_the_journal_kept() {
    let (sb, env) = sandbox().await;
    let web: Api<Service> = Api::namespaced(sb.kube_client(), "web");
    let protected = json!({"metadata": {"annotations": {
        "service.beta.kubernetes.io/aws-load-balancer-attributes": "deletion_protection.enabled=true"}}});
    web.patch(
        "frontend",
        &PatchParams::default(),
        &Patch::Merge(protected),
    )
    .await
    .unwrap();
    let r = run(
        &killed_at(&env, "drain:done"),
        &cutover(&["--weights", "100", "--finalize"]),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    let r = run(
        &env,
        &[
            "cutover",
            "resume",
            "frontend",
            "-n",
            "web",
            "--timeout",
            "3s",
            "--yes",
        ],
    )
    .await;
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("sets deletion_protection.enabled=true, and the controller will not delete such a Service"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("kubectl nlb cutover resume frontend -n web"),
        "{}",
        r.stderr
    );
    assert!(config_map_exists(&sb, "web", "kubectl-nlb-switch-frontend").await);

    // The fix the message names, then resume.
    let unprotected = json!({"metadata": {"annotations": {
        "service.beta.kubernetes.io/aws-load-balancer-attributes": null}}});
    web.patch(
        "frontend",
        &PatchParams::default(),
        &Patch::Merge(unprotected),
    )
    .await
    .unwrap();
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(service(&sb, "web", "frontend").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_service_deleted_by_someone_else_mid_switch_stops_resume_and_abort() {
    let (sb, env) = sandbox().await;
    let r = run(
        &killed_at(&env, "shift-50:done"),
        &cutover(&["--weights", "50,100"]),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    sb.lbc().set_cleanup_delay(Duration::from_secs(600));
    Api::<Service>::namespaced(sb.kube_client(), "web")
        .delete("frontend", &DeleteParams::default())
        .await
        .unwrap();
    let before = inventory(&sb).await;
    for verb in ["resume", "abort"] {
        let r = run(&env, &["cutover", verb, "frontend", "-n", "web", "--yes"]).await;
        crate::util::assert_one_line_error(&r.with_stderr_tail(), &format!("cannot {verb}"));
        assert!(r.stderr.contains("Someone else deleted it"), "{}", r.stderr);
    }
    assert_eq!(inventory(&sb).await, before, "nothing changed");
}

/// Stops a 50,100 cutover after its first step, with the new targets in
/// the given states (by pod IP), then resumes it.
async fn resume_with_targets(states: &[(usize, &str, &str)]) -> (Sandbox, crate::util::Run) {
    let (sb, env) = sandbox().await;
    let r = run(
        &killed_at(&env, "shift-50:done"),
        &cutover(&["--weights", "50,100"]),
    )
    .await;
    assert_eq!(r.code, 137, "{}", r.stderr);
    let pods = sb
        .world()
        .service("web", "frontend")
        .unwrap()
        .pod_ips
        .clone();
    assert_eq!(pods.len(), 3);
    for (i, state, reason) in states {
        sb.set_target_health(&format!("{}:8080", pods[*i]), state, reason)
            .await
            .unwrap();
    }
    let r = run(
        &env,
        &["cutover", "resume", "frontend", "-n", "web", "--yes"],
    )
    .await;
    (sb, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_and_an_initial_target_during_a_soak_do_not_stop_the_switch() {
    let (sb, r) = resume_with_targets(&[
        (0, "draining", "Target.DeregistrationInProgress"),
        (1, "initial", "Elb.InitialHealthChecking"),
    ])
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("1 draining (leaving): not counted"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("1 initial (joining, within 50s): not counted"),
        "{}",
        r.stdout
    );
    assert_eq!(
        crate::switching::weights(&sb, WWW, "web", "frontend", "frontend-cip-off").await,
        (0, 100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unhealthy_target_during_a_soak_rolls_back() {
    let (sb, r) = resume_with_targets(&[(2, "unhealthy", "Target.FailedHealthChecks")]).await;
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("2/3 targets healthy, below 100%"),
        "{}",
        r.stderr
    );
    assert_eq!(
        crate::switching::weights(&sb, WWW, "web", "frontend", "frontend-cip-off").await,
        (100, 0)
    );
}

/// A legacy in-tree Service with a TCP and a UDP port, eTP Cluster, and an
/// alias record at its NLB.
async fn legacy_dns_service(sb: &Sandbox) {
    let svc = sb
        .add_service(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "resolver", "namespace": "shop",
                         "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "selector": {"app": "checkout"},
                     "ports": [{"name": "tcp", "port": 80, "targetPort": 8443, "protocol": "TCP"},
                               {"name": "udp", "port": 5353, "targetPort": 5353, "protocol": "UDP"}]},
        }))
        .await
        .unwrap();
    let live = service(sb, "shop", svc.metadata.name.as_deref().unwrap())
        .await
        .unwrap();
    create_alias(sb, "resolver.example.com", &dns_of(&live)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_tcp_udp_service_migrates_with_client_ip_off_on_lbc_2_14() {
    let sb = Sandbox::start(SandboxOptions {
        lbc_version: Some("v2.14.0".into()),
        lbc_background: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let env = Env::of(&sb);
    legacy_dns_service(&sb).await;
    let r = run(
        &env,
        &fast(
            "migrate",
            "resolver",
            "shop",
            &["--weights", "100", "--finalize"],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let new = service(&sb, "shop", "resolver-lbc")
        .await
        .expect("new Service");
    let mut groups = groups_of(&sb, &dns_of(&new)).await;
    groups.sort();
    // UDP keeps the client address whatever is asked; TCP follows the
    // translation (eTP Cluster: pods saw a node, so off).
    assert_eq!(
        groups,
        vec![
            ("ip".to_string(), "false".to_string()),
            ("ip".to_string(), "true".to_string())
        ]
    );
    assert!(service(&sb, "shop", "resolver").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_leaves_ipv6_pins_and_argo_tracking_behind() {
    let (sb, env) = sandbox().await;
    let web: Api<Service> = Api::namespaced(sb.kube_client(), "web");
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "pinned6", "labels": {"app.kubernetes.io/instance": "shop"}, "annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true",
            "service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses": "2600:1f14::10,2600:1f14::11,2600:1f14::12",
            "argocd.argoproj.io/tracking-id": "shop:/Service:web/pinned6",
        }},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb", "selector": {"app": "frontend"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }))
    .unwrap();
    web.create(&PostParams::default(), &svc).await.unwrap();
    let mut host = None;
    for _ in 0..50 {
        host = service(&sb, "web", "pinned6")
            .await
            .and_then(|s| crate::switching::hostname(&s));
        if host.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    create_alias(&sb, "pinned6.example.com", &host.expect("hostname")).await;
    sb.settle_targets().await.unwrap();

    let before = inventory(&sb).await;
    let args = fast(
        "cutover",
        "pinned6",
        "web",
        &[
            "--preserve-client-ip=false",
            "--weights",
            "100",
            "--finalize",
        ],
    );
    let r = run(&env, &args).await;
    crate::util::assert_one_line_error(&r.with_stderr_tail(), "--accept-new-addresses");
    assert!(
        r.stderr.contains("aws-load-balancer-ipv6-addresses"),
        "{}",
        r.stderr
    );
    assert_eq!(inventory(&sb).await, before, "nothing changed");

    let mut accepted = args.clone();
    accepted.push("--accept-new-addresses");
    let r = run(&env, &accepted).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("ipv6-addresses is not copied"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("argocd.argoproj.io/tracking-id is not copied"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Argo CD ownership marks"), "{}", r.stderr);
    let new = service(&sb, "web", "pinned6-cip-off").await.expect("new");
    let anns = new.metadata.annotations.clone().unwrap_or_default();
    assert!(!anns.contains_key("service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses"));
    assert!(!anns.contains_key("argocd.argoproj.io/tracking-id"));
    let sets = records(&sb, "pinned6.example.com.").await;
    assert_eq!(alias_target(&sets[0]), dns_of(&new));
}

/// Replaces the LBC Deployment's args, as an operator upgrading its Helm
/// values would; the stand-in reads them on every pass.
async fn lbc_args(sb: &Sandbox, extra: &[&str]) {
    let mut args = vec![
        format!("--cluster-name={}", sb.cluster_name()),
        "--ingress-class=alb".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let patch = json!({"spec": {"template": {"spec": {"containers": [{
        "name": "aws-load-balancer-controller",
        "image": "public.ecr.aws/eks/aws-load-balancer-controller:v2.13.3",
        "args": args}]}}}});
    Api::<Deployment>::namespaced(sb.kube_client(), "kube-system")
        .patch(
            "aws-load-balancer-controller",
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_uses_the_class_the_controller_reconciles() {
    let (sb, env) = sandbox().await;
    lbc_args(&sb, &["--load-balancer-class=example.com/nlb"]).await;
    let r = run(
        &env,
        &fast(
            "migrate",
            "checkout",
            "shop",
            &["--weights", "100", "--finalize"],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let new = service(&sb, "shop", "checkout-lbc").await.expect("new");
    assert_eq!(
        new.spec.and_then(|s| s.load_balancer_class).as_deref(),
        Some("example.com/nlb")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_refuses_source_ranges_no_security_group_would_enforce() {
    let (sb, env) = sandbox().await;
    lbc_args(&sb, &["--feature-gates=NLBSecurityGroup=false"]).await;
    sb.add_service(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "admin", "namespace": "shop",
                     "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "selector": {"app": "checkout"},
                 "loadBalancerSourceRanges": ["203.0.113.0/24"],
                 "ports": [{"name": "https", "port": 443, "targetPort": 8443}]},
    }))
    .await
    .unwrap();
    let live = service(&sb, "shop", "admin").await.unwrap();
    create_alias(&sb, "admin.example.com", &dns_of(&live)).await;
    let before = inventory(&sb).await;
    let r = run(&env, &fast("migrate", "admin", "shop", &[])).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("source-ranges-not-enforced")
            || r.stderr.contains("anyone could connect"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("NLBSecurityGroup=false"), "{}", r.stderr);
    assert_eq!(inventory(&sb).await, before, "nothing changed");
}

/// An EndpointSlice for `service` in shop: the checkout pods (by reference)
/// or, with `plain`, bare addresses.
async fn endpoint_slice(sb: &Sandbox, service: &str, plain: bool) {
    use k8s_openapi::api::core::v1::Pod;
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    let pods = Api::<Pod>::namespaced(sb.kube_client(), "shop")
        .list(&kube::api::ListParams::default().labels("app=checkout"))
        .await
        .unwrap()
        .items;
    assert!(!pods.is_empty());
    let endpoints: Vec<serde_json::Value> = pods
        .iter()
        .map(|p| {
            let ip = p.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap();
            let mut e = json!({"addresses": [ip], "conditions": {"ready": true}});
            if !plain {
                e["targetRef"] =
                    json!({"kind": "Pod", "namespace": "shop", "name": p.metadata.name});
            }
            e
        })
        .collect();
    let slice: EndpointSlice = serde_json::from_value(json!({
        "metadata": {"name": format!("{service}-hand"), "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "https", "port": 8443, "protocol": "TCP"}],
    }))
    .unwrap();
    Api::<EndpointSlice>::namespaced(sb.kube_client(), "shop")
        .create(&PostParams::default(), &slice)
        .await
        .unwrap();
}

async fn selectorless(sb: &Sandbox, name: &str, plain: bool) {
    sb.add_service(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "shop",
                     "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster",
                 "ports": [{"name": "https", "port": 443, "targetPort": 8443}]},
    }))
    .await
    .unwrap();
    endpoint_slice(sb, name, plain).await;
    let live = service(sb, "shop", name).await.unwrap();
    create_alias(sb, &format!("{name}.example.com"), &dns_of(&live)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_a_selector_migrates_with_its_endpoints_copied() {
    let sb = Sandbox::start(SandboxOptions {
        lbc_version: Some("v2.14.0".into()),
        lbc_background: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let env = Env::of(&sb);
    selectorless(&sb, "external-api", false).await;
    selectorless(&sb, "plain-db", true).await;

    // Bare addresses: the LBC would register none of them.
    let before = inventory(&sb).await;
    let r = run(&env, &fast("migrate", "plain-db", "shop", &[])).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("references a Pod"), "{}", r.stderr);
    assert_eq!(inventory(&sb).await, before, "nothing changed");

    let r = run(
        &env,
        &fast(
            "migrate",
            "external-api",
            "shop",
            &["--weights", "100", "--finalize"],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("has no selector: its endpoints are the copy"),
        "{}",
        r.stdout
    );
    let slices =
        Api::<k8s_openapi::api::discovery::v1::EndpointSlice>::namespaced(sb.kube_client(), "shop")
            .list(
                &kube::api::ListParams::default()
                    .labels("kubernetes.io/service-name=external-api-lbc"),
            )
            .await
            .unwrap()
            .items;
    assert_eq!(slices.len(), 1);
    assert_eq!(
        slices[0].endpoints.len(),
        sb.world()
            .service("shop", "checkout")
            .unwrap()
            .pod_ips
            .len()
    );
    let new = service(&sb, "shop", "external-api-lbc").await.unwrap();
    assert!(new.spec.and_then(|s| s.selector).is_none());
    assert!(service(&sb, "shop", "external-api").await.is_none());
}
