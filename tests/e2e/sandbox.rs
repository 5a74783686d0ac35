//! Self-tests of the nlb-sandbox crate (tests/sandbox): the Kubernetes HTTP
//! server, moto with its middleware, the seeded world and the LBC stand-in.
//! Where a behaviour is the fake's rather than a real API server's, the
//! assertion says so.

use aws_sdk_elasticloadbalancingv2 as elb;
use elb::error::ProvideErrorMetadata;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use nlb_sandbox::world::{self, Controller};
use nlb_sandbox::{Sandbox, SandboxOptions, TargetGroupBinding};
use serde_json::{Value, json};
use std::collections::BTreeSet;

async fn start() -> Sandbox {
    Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

async fn start_unseeded() -> Sandbox {
    Sandbox::start(SandboxOptions {
        seed: false,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

async fn get_json(sb: &Sandbox, path: &str) -> (u16, Value) {
    let (code, body) = sb.kube_raw("GET", path, None).await.expect("raw GET");
    (code, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn api_code(e: &kube::Error) -> Option<(u16, String)> {
    match e {
        kube::Error::Api(s) => Some((s.code, s.reason.clone())),
        _ => None,
    }
}

async fn targets(sb: &Sandbox, tg: &str) -> BTreeSet<(String, i32, String)> {
    let out = sb
        .aws_internal()
        .elb
        .describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .expect("DescribeTargetHealth");
    out.target_health_descriptions()
        .iter()
        .map(|d| {
            let t = d.target().expect("target");
            (
                t.id().unwrap_or_default().to_string(),
                t.port().unwrap_or_default(),
                d.target_health()
                    .and_then(|h| h.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

async fn lb_tags(sb: &Sandbox, arn: &str) -> Vec<(String, String)> {
    let out = sb
        .aws_internal()
        .elb
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .expect("DescribeTags");
    out.tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn has_tag(tags: &[(String, String)], k: &str, v: &str) -> bool {
    tags.iter().any(|(a, b)| a == k && b == v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_kube_server_discovery_namespaces_crud_dry_run() {
    let sb = start().await;
    let c = sb.kube_client();

    // discovery
    let (code, v) = get_json(&sb, "/version").await;
    assert_eq!(code, 200);
    assert_eq!(v["gitVersion"], "v1.32.0");
    assert_eq!(v["minor"], "32");
    let (_, v) = get_json(&sb, "/api").await;
    assert_eq!(v["versions"], json!(["v1"]));
    let (_, v) = get_json(&sb, "/apis").await;
    let groups = v["groups"].as_array().expect("groups");
    let elbv2 = groups
        .iter()
        .find(|g| g["name"] == "elbv2.k8s.aws")
        .expect("elbv2.k8s.aws group");
    assert_eq!(elbv2["preferredVersion"]["version"], "v1beta1");
    let apps = groups.iter().find(|g| g["name"] == "apps").expect("apps");
    assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
    let (_, v) = get_json(&sb, "/api/v1").await;
    let svc = v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "services")
        .expect("services")
        .clone();
    assert_eq!(svc["namespaced"], true);
    assert!(
        svc["shortNames"]
            .as_array()
            .expect("short")
            .contains(&json!("svc"))
    );
    assert!(
        v["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r["name"] == "services/status")
    );
    let (code, v) = get_json(&sb, "/apis/elbv2.k8s.aws/v1beta1").await;
    assert_eq!(code, 200);
    assert_eq!(v["resources"][0]["kind"], "TargetGroupBinding");
    assert_eq!(v["resources"][0]["shortNames"], json!(["tgb"]));
    let (code, v) = get_json(&sb, "/openapi/v2").await;
    assert_eq!(code, 404);
    assert_eq!(v["kind"], "Status");
    let (code, v) = get_json(&sb, "/api/v1/nonsense/x/y/z/w").await;
    assert_eq!(code, 404, "{v}");
    assert_eq!(v["kind"], "Status");

    // namespaces: held by the server; a missing one is a NotFound Status
    let nss: Api<Namespace> = Api::all(c.clone());
    let web = nss.get("web").await.expect("web namespace");
    assert_eq!(
        web.metadata.labels.expect("labels")[world::READINESS_GATE_LABEL],
        "enabled"
    );
    let err = nss
        .get("does-not-exist")
        .await
        .expect_err("missing namespace");
    assert_eq!(api_code(&err), Some((404, "NotFound".into())));
    let names: Vec<String> = nss
        .list(&ListParams::default())
        .await
        .expect("list namespaces")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    for n in world::NAMESPACES {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    let labelled = nss
        .list(&ListParams::default().labels(&format!("{}=enabled", world::READINESS_GATE_LABEL)))
        .await
        .expect("list by label");
    assert_eq!(labelled.items.len(), 1);
    // creating into a missing namespace fails as on a real API server
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "nope");
    let err = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "x"}})).expect("cm"),
        )
        .await
        .expect_err("namespace nope is missing");
    assert_eq!(api_code(&err).map(|x| x.0), Some(404));

    // list across namespaces is sorted; set-based selectors work ('+' -> %20)
    let svcs: Api<Service> = Api::all(c.clone());
    let all = svcs.list(&ListParams::default()).await.expect("list svc");
    let keys: Vec<(String, String)> = all
        .items
        .iter()
        .map(|s| {
            (
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 7);
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let sel = pods
        .list(&ListParams::default().labels("app in (checkout, payments)"))
        .await
        .expect("set-based selector");
    assert_eq!(sel.items.len(), 5);

    // Service CRUD; the server allocates clusterIP and nodePorts like a real one
    let default_svcs: Api<Service> = Api::namespaced(c.clone(), "default");
    let new: Service = serde_json::from_value(json!({
        "metadata": {"name": "crud"},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "selector": {"app": "classic"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }))
    .expect("svc");
    let created = default_svcs
        .create(&PostParams::default(), &new)
        .await
        .expect("create");
    let spec = created.spec.clone().expect("spec");
    assert!(spec.cluster_ip.is_some());
    let np = spec.ports.as_ref().expect("ports")[0]
        .node_port
        .expect("nodePort allocated");
    assert!((30000..=32767).contains(&np));
    assert!(spec.health_check_node_port.is_some());
    let err = default_svcs
        .create(&PostParams::default(), &new)
        .await
        .expect_err("duplicate");
    assert_eq!(api_code(&err), Some((409, "AlreadyExists".into())));
    default_svcs
        .patch(
            "crud",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect("patch");
    default_svcs
        .patch_status(
            "crud",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"loadBalancer": {"ingress": [{"hostname": "h.example"}]}}}),
            ),
        )
        .await
        .expect("patch status");
    let got = default_svcs.get("crud").await.expect("get");
    assert_eq!(got.metadata.labels.expect("labels")["x"], "y");
    assert_eq!(
        got.status
            .expect("status")
            .load_balancer
            .expect("lb")
            .ingress
            .expect("ingress")[0]
            .hostname
            .as_deref(),
        Some("h.example")
    );

    // dryRun: nothing persists
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let ghost: Service = serde_json::from_value(json!({
        "metadata": {"name": "ghost"},
        "spec": {"type": "ClusterIP", "ports": [{"port": 80}]},
    }))
    .expect("svc");
    default_svcs
        .create(&dry, &ghost)
        .await
        .expect("dry-run create");
    assert!(
        default_svcs
            .get_opt("ghost")
            .await
            .expect("get_opt")
            .is_none()
    );
    let err = default_svcs
        .create(&dry, &new)
        .await
        .expect_err("dry-run duplicate");
    assert_eq!(api_code(&err).map(|x| x.0), Some(409));
    let patched = default_svcs
        .patch(
            "crud",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "z"}}})),
        )
        .await
        .expect("dry-run patch");
    assert_eq!(patched.metadata.labels.expect("labels")["x"], "z");
    assert_eq!(
        default_svcs
            .get("crud")
            .await
            .expect("get")
            .metadata
            .labels
            .expect("labels")["x"],
        "y"
    );
    let dp = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    default_svcs
        .delete("crud", &dp)
        .await
        .expect("dry-run delete");
    assert!(
        default_svcs
            .get_opt("crud")
            .await
            .expect("get_opt")
            .is_some()
    );
    default_svcs
        .delete("crud", &DeleteParams::default())
        .await
        .expect("delete");
    let err = default_svcs.get("crud").await.expect_err("deleted");
    assert_eq!(api_code(&err).map(|x| x.0), Some(404));

    // TargetGroupBinding CRUD
    let tgbs: Api<TargetGroupBinding> = Api::namespaced(c.clone(), "default");
    let tgb: TargetGroupBinding = serde_json::from_value(json!({
        "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
        "metadata": {"name": "mine"},
        "spec": {"targetGroupARN": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/x/1", "targetType": "ip", "serviceRef": {"name": "classic", "port": 80}},
    }))
    .expect("tgb");
    tgbs.create(&PostParams::default(), &tgb)
        .await
        .expect("create tgb");
    tgbs.patch(
        "mine",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
    )
    .await
    .expect("patch tgb");
    let all_tgbs = Api::<TargetGroupBinding>::all(c.clone())
        .list(&ListParams::default())
        .await
        .expect("list tgb");
    assert_eq!(all_tgbs.items.len(), 3, "2 from the LBC stand-in + mine");
    tgbs.delete("mine", &DeleteParams::default())
        .await
        .expect("delete tgb");

    // request counting
    sb.reset_kube_requests();
    assert_eq!(sb.kube_requests(), 0);
    svcs.list(&ListParams::default()).await.expect("list");
    let _ = nss.get("nope").await;
    assert_eq!(sb.kube_requests(), 2);
    let counts = sb.kube_request_counts();
    assert!(
        counts.contains(&("GET /api/v1/services".to_string(), 1)),
        "{counts:?}"
    );
    let (_, v) = get_json(&sb, "/_sandbox/requests").await;
    assert_eq!(v["total"], 2, "/_sandbox/* is not counted: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_kube_paging_watch_and_independence() {
    // two sandboxes at once: separate ports, moto processes and state dirs
    let (a, b) = tokio::join!(start_unseeded(), start_unseeded());
    assert_ne!(a.kube_url(), b.kube_url());
    assert_ne!(a.aws_endpoint(), b.aws_endpoint());
    assert_ne!(a.kubeconfig_path(), b.kubeconfig_path());
    drop(b);

    // 1,200 ConfigMaps, inserted through the fake directly (fast)
    let direct: Api<ConfigMap> = Api::namespaced(a.fake_client(), "default");
    for i in 0..1200 {
        let cm: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": format!("cm-{i:04}")}, "data": {"i": i.to_string()}}),
        )
        .expect("cm");
        direct
            .create(&PostParams::default(), &cm)
            .await
            .expect("create cm");
    }
    let api: Api<ConfigMap> = Api::namespaced(a.kube_client(), "default");
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(500);
    let mut pages = 0;
    loop {
        let page = api.list(&lp).await.expect("page");
        pages += 1;
        assert!(page.items.len() <= 500);
        names.extend(page.items.into_iter().filter_map(|c| c.metadata.name));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(tok) => {
                assert!(page.metadata.remaining_item_count.unwrap_or(0) > 0);
                lp = lp.continue_token(&tok);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 1200);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), 1200);

    // watch is emulated as ADDED events for the current list, then the end
    let (code, text) = a
        .kube_raw(
            "GET",
            "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=",
            None,
        )
        .await
        .expect("watch");
    assert_eq!(code, 200);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1200);
    let first: Value = serde_json::from_str(lines[0]).expect("event");
    assert_eq!(first["type"], "ADDED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_kubectl_works_against_the_server() {
    if std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl not on PATH; skipping");
        return;
    }
    let sb = start().await;
    let kc = sb.kubeconfig_path().to_path_buf();
    let dir = sb.state_dir().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let kubectl = |args: &[&str]| {
            let out = std::process::Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&kc)
                .args(args)
                .env("KUBECACHEDIR", dir.join("kube-cache"))
                .output()
                .expect("kubectl runs");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (ok, out, err) = kubectl(&["get", "svc", "-A", "-o", "json"]);
        assert!(ok, "{err}");
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["items"].as_array().expect("items").len(), 7);
        // human output: the server answers kubectl's Table requests
        let (ok, out, err) = kubectl(&["get", "svc", "-n", "shop", "checkout"]);
        assert!(ok, "{err}");
        assert!(out.contains("EXTERNAL-IP") && out.contains("443:30443/TCP"), "{out}");
        assert!(out.contains(".elb.amazonaws.com"), "{out}");
        let (ok, out, err) = kubectl(&["get", "nodes", "-o", "name"]);
        assert!(ok, "{err}");
        assert_eq!(out.lines().count(), 3);
        let (ok, out, err) = kubectl(&["get", "tgb", "-A"]);
        assert!(ok, "{err}");
        assert!(out.contains("k8s-web-frontend"), "{out}");
        let (ok, _, err) = kubectl(&["get", "ns", "nope"]);
        assert!(!ok);
        assert!(err.contains("NotFound") || err.contains("not found"), "{err}");
        let manifest = dir.join("cm.yaml");
        std::fs::write(&manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\ndata:\n  a: b\n")
            .expect("write manifest");
        let (ok, _, err) = kubectl(&["apply", "--validate=false", "-f", manifest.to_str().expect("path")]);
        assert!(ok, "{err}");
        let (ok, out, err) = kubectl(&["get", "cm", "applied", "-n", "default", "-o", "jsonpath={.data.a}"]);
        assert!(ok, "{err}");
        assert_eq!(out, "b");
    })
    .await
    .expect("kubectl checks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_moto_counting_faults_and_target_health() {
    let sb = start().await;
    let cfg = sb.aws_config().clone();
    let elbc = elb::Client::new(&cfg);
    let r53 = aws_sdk_route53::Client::new(&cfg);
    let ec2 = aws_sdk_ec2::Client::new(&cfg);

    // counting: only requests signed with the `testing` credentials
    sb.reset_aws_requests().await.expect("reset");
    let lbs = elbc
        .describe_load_balancers()
        .send()
        .await
        .expect("describe");
    assert_eq!(lbs.load_balancers().len(), 5, "3 in-tree + 2 LBC NLBs");
    elbc.describe_load_balancers()
        .send()
        .await
        .expect("describe");
    r53.list_hosted_zones().send().await.expect("zones");
    sb.reconcile().await.expect("stand-in pass (not counted)");
    let reqs = sb.aws_requests().await.expect("requests");
    assert!(
        reqs.contains(&(
            "elasticloadbalancing".into(),
            "DescribeLoadBalancers".into(),
            2
        )),
        "{reqs:?}"
    );
    assert!(
        reqs.contains(&("route53".into(), "ListHostedZones".into(), 1)),
        "{reqs:?}"
    );
    assert_eq!(reqs.iter().map(|r| r.2).sum::<u64>(), 3, "{reqs:?}");

    // faults
    sb.inject_aws_fault("route53", "ListHostedZones", "Throttling", 1)
        .await
        .expect("inject");
    let err = r53.list_hosted_zones().send().await.expect_err("throttled");
    assert_eq!(err.code(), Some("Throttling"));
    r53.list_hosted_zones().send().await.expect("only once");
    sb.inject_aws_fault("elbv2", "DescribeTargetGroups", "Throttling", 1)
        .await
        .expect("inject");
    let err = elbc
        .describe_target_groups()
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(err.code(), Some("Throttling"));
    sb.inject_aws_fault("ec2", "DescribeVpcs", "UnauthorizedOperation", 1)
        .await
        .expect("inject");
    let err = ec2.describe_vpcs().send().await.expect_err("denied");
    assert_eq!(err.code(), Some("UnauthorizedOperation"));
    ec2.describe_vpcs().send().await.expect("only once");

    // target-health overrides
    let frontend = sb
        .world()
        .service("web", "frontend")
        .expect("frontend")
        .clone();
    let tg = frontend.target_group_arns[0].clone();
    let ip = frontend.pod_ips[0].clone();
    sb.set_target_health(&ip, "unhealthy", "Target.FailedHealthChecks")
        .await
        .expect("override");
    let th = elbc
        .describe_target_health()
        .target_group_arn(&tg)
        .send()
        .await
        .expect("health");
    for d in th.target_health_descriptions() {
        let id = d.target().and_then(|t| t.id()).unwrap_or_default();
        let h = d.target_health().expect("health");
        if id == ip {
            assert_eq!(h.state().map(|s| s.as_str()), Some("unhealthy"));
            assert_eq!(
                h.reason().map(|s| s.as_str()),
                Some("Target.FailedHealthChecks")
            );
        } else {
            assert_eq!(h.state().map(|s| s.as_str()), Some("healthy"));
        }
    }
    sb.clear_target_health().await.expect("clear");
    let all: Vec<String> = targets(&sb, &tg).await.into_iter().map(|t| t.2).collect();
    assert!(all.iter().all(|s| s == "healthy"), "{all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_target_health_overrides_per_target_group() {
    // A second target group with web/frontend's pod IPs: keys with a target
    // group ARN reach that group only; the others reach every group.
    let sb = start().await;
    let frontend = sb
        .world()
        .service("web", "frontend")
        .expect("frontend")
        .clone();
    let ours = frontend.target_group_arns[0].clone();
    let elbc = &sb.aws_internal().elb;
    let other = elbc
        .create_target_group()
        .name("same-pods")
        .protocol(elb::types::ProtocolEnum::Tcp)
        .port(8080)
        .vpc_id(&sb.world().vpc_id)
        .target_type(elb::types::TargetTypeEnum::Ip)
        .send()
        .await
        .expect("CreateTargetGroup")
        .target_groups()[0]
        .target_group_arn()
        .expect("arn")
        .to_string();
    let ips = frontend.pod_ips.clone();
    assert!(ips.len() >= 3, "{ips:?}");
    let mut register = elbc.register_targets().target_group_arn(&other);
    for ip in &ips {
        register = register.targets(
            elb::types::TargetDescription::builder()
                .id(ip)
                .port(8080)
                .build(),
        );
    }
    register.send().await.expect("RegisterTargets");
    sb.settle_targets().await.expect("settle");
    let state = |tg: String, ip: String| {
        let sb = &sb;
        async move {
            targets(sb, &tg)
                .await
                .into_iter()
                .find(|t| t.0 == ip)
                .map(|t| t.2)
                .unwrap_or_default()
        }
    };

    // `<ARN>/<id>:<port>` and `<ARN>/<id>`: that group only.
    sb.set_target_health(
        &format!("{other}/{}:8080", ips[0]),
        "unhealthy",
        "Target.FailedHealthChecks",
    )
    .await
    .expect("override");
    sb.set_target_health(
        &format!("{other}/{}", ips[1]),
        "unhealthy",
        "Target.Timeout",
    )
    .await
    .expect("override");
    for ip in &ips[..2] {
        assert_eq!(state(other.clone(), ip.clone()).await, "unhealthy", "{ip}");
        assert_eq!(state(ours.clone(), ip.clone()).await, "healthy", "{ip}");
    }
    assert_eq!(state(other.clone(), ips[2].clone()).await, "healthy");

    // A per-group key wins over a key for every group.
    sb.set_target_health(&ips[2], "unhealthy", "Target.FailedHealthChecks")
        .await
        .expect("override");
    sb.set_target_health(&format!("{ours}/{}", ips[2]), "healthy", "")
        .await
        .expect("override");
    assert_eq!(state(other.clone(), ips[2].clone()).await, "unhealthy");
    assert_eq!(state(ours.clone(), ips[2].clone()).await, "healthy");

    sb.clear_target_health().await.expect("clear");
    for tg in [&ours, &other] {
        let all: Vec<String> = targets(&sb, tg).await.into_iter().map(|t| t.2).collect();
        assert!(all.iter().all(|s| s == "healthy"), "{tg}: {all:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_seeded_world() {
    let sb = start().await;
    let w = sb.world().clone();
    let k = sb.kube_client();
    assert_eq!(sb.cluster_name(), "sandbox");
    assert_eq!(sb.region(), "us-west-2");
    assert_eq!(w.account_id, "123456789012");
    assert_eq!(w.subnets.len(), 3);
    assert_eq!(w.nodes.len(), 3);
    let env = sb.env();
    assert!(env.contains(&("AWS_ACCESS_KEY_ID".into(), "testing".into())));
    assert!(env.contains(&("AWS_ENDPOINT_URL".into(), sb.aws_endpoint().to_string())));

    // nodes
    let nodes = Api::<Node>::all(k.clone())
        .list(&ListParams::default())
        .await
        .expect("nodes")
        .items;
    assert_eq!(nodes.len(), 3);
    for (n, info) in nodes.iter().zip(&w.nodes) {
        assert_eq!(n.metadata.name.as_deref(), Some(info.name.as_str()));
        assert_eq!(
            n.spec.as_ref().and_then(|s| s.provider_id.clone()),
            Some(format!("aws:///{}/{}", info.az, info.instance_id))
        );
        let labels = n.metadata.labels.clone().expect("labels");
        assert_eq!(labels["topology.kubernetes.io/zone"], info.az);
        assert_eq!(
            labels["node.kubernetes.io/instance-type"],
            world::INSTANCE_TYPE
        );
    }

    // system workloads
    let lbc = Api::<Deployment>::namespaced(k.clone(), "kube-system")
        .get("aws-load-balancer-controller")
        .await
        .expect("LBC deployment");
    assert_eq!(
        lbc.metadata.labels.expect("labels")["app.kubernetes.io/version"],
        "v2.13.3"
    );
    let c = &lbc
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers[0];
    assert_eq!(
        c.image.as_deref(),
        Some("public.ecr.aws/eks/aws-load-balancer-controller:v2.13.3")
    );
    assert!(
        c.args
            .clone()
            .expect("args")
            .contains(&"--cluster-name=sandbox".to_string())
    );
    Api::<DaemonSet>::namespaced(k.clone(), "kube-system")
        .get("aws-node")
        .await
        .expect("aws-node");
    let edge = Api::<Pod>::namespaced(k.clone(), "edge")
        .list(&ListParams::default())
        .await
        .expect("edge")
        .items;
    assert_eq!(edge.len(), 3);
    for p in &edge {
        let st = p.status.clone().expect("status");
        assert_eq!(st.pod_ip, st.host_ip, "hostNetwork pod IP = node IP");
    }

    // legacy in-tree NLBs
    let svcs: Api<Service> = Api::all(k.clone());
    for (ns, name, scheme) in [
        ("shop", "checkout", "internet-facing"),
        ("shop", "legacy-api", "internal"),
        ("web", "static-eip", "internet-facing"),
    ] {
        let info = w.service(ns, name).expect("seeded");
        assert_eq!(info.controller, Controller::InTree);
        let expect_name: String = format!("a{}", info.uid.replace('-', ""))
            .chars()
            .take(32)
            .collect();
        assert_eq!(info.nlb_name.as_deref(), Some(expect_name.as_str()));
        assert_eq!(info.scheme.as_deref(), Some(scheme));
        let arn = info.nlb_arn.clone().expect("arn");
        let tags = lb_tags(&sb, &arn).await;
        assert!(
            has_tag(&tags, "kubernetes.io/cluster/sandbox", "owned"),
            "{tags:?}"
        );
        assert!(has_tag(
            &tags,
            "kubernetes.io/service-name",
            &format!("{ns}/{name}")
        ));
        let lb = sb
            .aws_internal()
            .elb
            .describe_load_balancers()
            .load_balancer_arns(&arn)
            .send()
            .await
            .expect("lb");
        assert_eq!(
            lb.load_balancers()[0].scheme().map(|s| s.as_str()),
            Some(scheme)
        );
        let tg = &info.target_group_arns[0];
        assert!(info.target_group_names[0].starts_with(&format!(
            "k8s-{}-{}-",
            ns,
            &name.replace('-', "")[..name.replace('-', "").len().min(8)]
        )));
        let np = info.node_ports[0].1;
        // checkout is Local with pods on nodes a and b: kube-proxy fails
        // node c's NodePort health check.
        let expect: BTreeSet<(String, i32, String)> = w
            .nodes
            .iter()
            .map(|n| {
                let podless = name == "checkout" && n.az == "us-west-2c";
                let state = if podless { "unhealthy" } else { "healthy" };
                (n.instance_id.clone(), np, state.to_string())
            })
            .collect();
        assert_eq!(targets(&sb, tg).await, expect, "{ns}/{name}");
        let tgd = sb
            .aws_internal()
            .elb
            .describe_target_groups()
            .target_group_arns(tg)
            .send()
            .await
            .expect("tg");
        let tgd = &tgd.target_groups()[0];
        assert_eq!(tgd.target_type().map(|t| t.as_str()), Some("instance"));
        assert_eq!(tgd.port(), Some(np));
        let tg_tags = lb_tags(&sb, tg).await;
        assert!(has_tag(
            &tg_tags,
            "kubernetes.io/service-name",
            &format!("{ns}/{name}")
        ));
        let s = svcs.clone();
        let live = Api::<Service>::namespaced(s.into_client(), ns)
            .get(name)
            .await
            .expect("svc");
        let host = live
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|l| l.ingress)
            .expect("ingress")[0]
            .hostname
            .clone();
        assert_eq!(host, info.dns_name);
    }
    let checkout = w.service("shop", "checkout").expect("checkout");
    let tgd = sb
        .aws_internal()
        .elb
        .describe_target_groups()
        .target_group_arns(&checkout.target_group_arns[0])
        .send()
        .await
        .expect("tg");
    let tgd = &tgd.target_groups()[0];
    assert_eq!(
        tgd.health_check_protocol().map(|p| p.as_str()),
        Some("HTTP")
    );
    assert_eq!(tgd.health_check_path(), Some("/healthz"));
    assert_eq!(
        tgd.health_check_port(),
        checkout
            .health_check_node_port
            .map(|p| p.to_string())
            .as_deref()
    );
    assert_eq!(checkout.pod_ips.len(), 3);

    // LBC NLBs: ip targets = pod IPs, TGBs, attributes
    let tgbs = Api::<TargetGroupBinding>::all(k.clone())
        .list(&ListParams::default())
        .await
        .expect("tgbs")
        .items;
    assert_eq!(tgbs.len(), 2);
    for (ns, name, port, tport, scheme) in [
        ("web", "frontend", 80, 8080, "internet-facing"),
        ("shop", "payments", 8443, 8443, "internal"),
    ] {
        let info = w.service(ns, name).expect("seeded");
        assert_eq!(info.controller, Controller::Lbc);
        assert!(
            info.nlb_name
                .clone()
                .expect("name")
                .starts_with(&format!("k8s-{ns}-"))
        );
        assert_eq!(info.scheme.as_deref(), Some(scheme));
        let tags = lb_tags(&sb, info.nlb_arn.as_deref().expect("arn")).await;
        assert!(has_tag(&tags, "elbv2.k8s.aws/cluster", "sandbox"));
        assert!(has_tag(
            &tags,
            "service.k8s.aws/stack",
            &format!("{ns}/{name}")
        ));
        assert!(has_tag(&tags, "service.k8s.aws/resource", "LoadBalancer"));
        let tg = &info.target_group_arns[0];
        let expect: BTreeSet<(String, i32, String)> = info
            .pod_ips
            .iter()
            .map(|ip| (ip.clone(), tport, "healthy".to_string()))
            .collect();
        assert_eq!(targets(&sb, tg).await, expect);
        let tg_tags = lb_tags(&sb, tg).await;
        assert!(has_tag(
            &tg_tags,
            "service.k8s.aws/resource",
            &format!("{ns}/{name}:{port}")
        ));
        let tgb = tgbs
            .iter()
            .find(|t| t.spec.target_group_arn.as_deref() == Some(tg.as_str()))
            .expect("TGB for the TG");
        assert_eq!(tgb.metadata.namespace.as_deref(), Some(ns));
        assert_eq!(
            tgb.metadata.name.as_deref(),
            Some(info.target_group_names[0].as_str())
        );
        assert_eq!(tgb.spec.target_type.as_deref(), Some("ip"));
        assert_eq!(tgb.spec.service_ref.name, name);
        assert_eq!(tgb.spec.service_ref.port, json!(port));
        assert_eq!(tgb.spec.vpc_id.as_deref(), Some(w.vpc_id.as_str()));
        let labels = tgb.metadata.labels.clone().expect("labels");
        assert_eq!(labels["service.k8s.aws/stack-name"], name);
        let live = Api::<Service>::namespaced(k.clone(), ns)
            .get(name)
            .await
            .expect("svc");
        assert!(
            live.metadata
                .finalizers
                .clone()
                .unwrap_or_default()
                .contains(&"service.k8s.aws/resources".to_string())
        );
        let host = live
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|l| l.ingress)
            .expect("ingress")[0]
            .hostname
            .clone();
        assert_eq!(host, info.dns_name);
    }
    let attrs = |tg: String| {
        let c = sb.aws_internal().elb.clone();
        async move {
            c.describe_target_group_attributes()
                .target_group_arn(tg)
                .send()
                .await
                .expect("attributes")
                .attributes()
                .iter()
                .map(|a| {
                    (
                        a.key().unwrap_or_default().to_string(),
                        a.value().unwrap_or_default().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let fa = attrs(w.service("web", "frontend").expect("f").target_group_arns[0].clone()).await;
    assert!(has_tag(&fa, "preserve_client_ip.enabled", "true"), "{fa:?}");
    let pa = attrs(w.service("shop", "payments").expect("p").target_group_arns[0].clone()).await;
    assert!(has_tag(&pa, "proxy_protocol_v2.enabled", "true"), "{pa:?}");
    assert!(w.vpc_endpoint_service_id.is_some());

    // not provisioned by anything
    for (ns, name) in [("default", "other-class"), ("default", "classic")] {
        assert_eq!(
            w.service(ns, name).expect("seeded").controller,
            Controller::None
        );
        let live = Api::<Service>::namespaced(k.clone(), ns)
            .get(name)
            .await
            .expect("svc");
        assert!(
            live.status
                .and_then(|s| s.load_balancer)
                .and_then(|l| l.ingress)
                .is_none_or(|i| i.is_empty())
        );
    }

    // Route 53
    let rrs = sb
        .aws_internal()
        .r53
        .list_resource_record_sets()
        .hosted_zone_id(&w.hosted_zone_id)
        .send()
        .await
        .expect("records");
    let find = |n: &str| {
        rrs.resource_record_sets()
            .iter()
            .find(|r| r.name() == n)
            .cloned()
            .expect(n)
    };
    let co = find("checkout.example.com.");
    let alias = co.alias_target().expect("alias");
    // Route 53 answers alias targets lower-cased and fully qualified.
    assert_eq!(
        Some(alias.dns_name().to_string()),
        checkout
            .dns_name
            .as_deref()
            .map(|d| format!("{}.", d.to_ascii_lowercase()))
    );
    assert_eq!(
        Some(alias.hosted_zone_id()),
        checkout.canonical_hosted_zone_id.as_deref()
    );
    assert!(alias.evaluate_target_health());
    let www = find("www.example.com.");
    assert_eq!(
        Some(www.alias_target().expect("alias").dns_name().to_string()),
        w.service("web", "frontend")
            .and_then(|s| s.dns_name.as_deref())
            .map(|d| format!("{}.", d.to_ascii_lowercase()))
    );
    let api = find("api.example.com.");
    assert_eq!(api.r#type().as_str(), "CNAME");
    assert_eq!(api.ttl(), Some(300));
    assert_eq!(
        Some(api.resource_records()[0].value()),
        w.service("shop", "legacy-api")
            .and_then(|s| s.dns_name.as_deref())
    );
    assert_eq!(
        find("mail.example.com.").resource_records()[0].value(),
        "192.0.2.25"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_lbc_standin_lifecycle_and_user_tgb() {
    let sb = start().await;
    let k = sb.kube_client();
    let w = sb.world().clone();
    let web: Api<Service> = Api::namespaced(k.clone(), "web");

    // Targets stay `initial` for 3 health checks × 10 s, scaled to 3 s: long
    // enough to be read as such on a busy machine (at 0.3 s, the default
    // scale, a slow reconcile let them turn healthy before the first read).
    sb.set_target_lifecycle(0.1, None).await.expect("lifecycle");

    // a new LBC Service gets an NLB, a TG with ip targets, a TGB and a hostname
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "frontend-v2", "annotations": {"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"}},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb", "selector": {"app": "frontend"},
                  "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }))
    .expect("svc");
    web.create(&PostParams::default(), &svc)
        .await
        .expect("create");
    let report = sb.reconcile_report().await.expect("reconcile");
    assert_eq!(
        report.provisioned,
        vec!["web/frontend-v2".to_string()],
        "{report:?}"
    );
    let live = web.get("frontend-v2").await.expect("svc");
    let host = live
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|l| l.ingress)
        .expect("ingress")[0]
        .hostname
        .clone()
        .expect("hostname");
    let p = sb.lbc().provisioned().await["web/frontend-v2"].clone();
    assert_eq!(host, p.dns_name);
    assert_eq!(p.scheme, "internal", "LBC default scheme");
    let tg = p.target_groups[0].arn.clone();
    let frontend_ips: BTreeSet<(String, i32, String)> = w
        .service("web", "frontend")
        .expect("frontend")
        .pod_ips
        .iter()
        .map(|ip| (ip.clone(), 8080, "healthy".to_string()))
        .collect();
    // Just registered: `initial` until the health checks pass (launcher.py
    // "target lifecycle": 3 checks × 10 s, scaled to 3 s above).
    let initial: BTreeSet<(String, i32, String)> = frontend_ips
        .iter()
        .map(|(ip, port, _)| (ip.clone(), *port, "initial".to_string()))
        .collect();
    assert_eq!(targets(&sb, &tg).await, initial);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while targets(&sb, &tg).await != frontend_ips {
        assert!(std::time::Instant::now() < deadline, "never healthy");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let tgbs: Api<TargetGroupBinding> = Api::namespaced(k.clone(), "web");
    tgbs.get(&p.target_groups[0].name)
        .await
        .expect("TGB created");

    // pods change -> targets follow
    let pods: Api<Pod> = Api::namespaced(sb.fake_client(), "web");
    let node = &w.nodes[0];
    let extra: Pod = serde_json::from_value(json!({
        "metadata": {"name": "frontend-extra", "namespace": "web", "labels": {"app": "frontend"}},
        "spec": {"nodeName": node.name, "containers": [{"name": "app", "image": "x", "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"phase": "Running", "podIP": "10.0.1.200", "hostIP": node.private_ip, "conditions": [{"type": "Ready", "status": "True"}]},
    }))
    .expect("pod");
    pods.create(&PostParams::default(), &extra)
        .await
        .expect("pod");
    sb.reconcile().await.expect("reconcile");
    assert_eq!(targets(&sb, &tg).await.len(), 4);

    // provisioning delay: a new Service waits
    sb.set_provisioning_delay(std::time::Duration::from_secs(600));
    let mut later = svc.clone();
    later.metadata.name = Some("frontend-v3".into());
    web.create(&PostParams::default(), &later)
        .await
        .expect("create");
    let report = sb.reconcile_report().await.expect("reconcile");
    assert_eq!(report.waiting, vec!["web/frontend-v3".to_string()]);
    assert!(
        web.get("frontend-v3")
            .await
            .expect("svc")
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|l| l.ingress)
            .is_none()
    );
    sb.set_provisioning_delay(std::time::Duration::ZERO);

    // delete the Service -> the stand-in deletes its AWS resources and TGB
    web.delete("frontend-v2", &DeleteParams::default())
        .await
        .expect("delete");
    let report = sb.reconcile_report().await.expect("reconcile");
    assert!(
        report
            .deprovisioned
            .contains(&"web/frontend-v2".to_string()),
        "{report:?}"
    );
    let err = sb
        .aws_internal()
        .elb
        .describe_load_balancers()
        .load_balancer_arns(&p.arn)
        .send()
        .await
        .expect_err("NLB deleted");
    assert_eq!(err.code(), Some("LoadBalancerNotFound"));
    let err = sb
        .aws_internal()
        .elb
        .describe_target_groups()
        .target_group_arns(&tg)
        .send()
        .await
        .expect_err("TG deleted");
    assert_eq!(err.code(), Some("TargetGroupNotFound"));
    assert!(
        tgbs.get_opt(&p.target_groups[0].name)
            .await
            .expect("get_opt")
            .is_none()
    );

    // a user-created TGB (instance, nodeSelector) gets eligible nodes on the nodePort
    let user_tg = sb
        .aws_internal()
        .elb
        .create_target_group()
        .name("user-classic")
        .protocol(elb::types::ProtocolEnum::Tcp)
        .port(30091)
        .vpc_id(&w.vpc_id)
        .target_type(elb::types::TargetTypeEnum::Instance)
        .send()
        .await
        .expect("user TG")
        .target_groups()[0]
        .target_group_arn()
        .expect("arn")
        .to_string();
    let user_ip_tg = sb
        .aws_internal()
        .elb
        .create_target_group()
        .name("user-legacy-api-ip")
        .protocol(elb::types::ProtocolEnum::Tcp)
        .port(8080)
        .vpc_id(&w.vpc_id)
        .target_type(elb::types::TargetTypeEnum::Ip)
        .send()
        .await
        .expect("user ip TG")
        .target_groups()[0]
        .target_group_arn()
        .expect("arn")
        .to_string();
    let tgb_default: Api<TargetGroupBinding> = Api::namespaced(k.clone(), "default");
    tgb_default
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
            "metadata": {"name": "classic-a", "namespace": "default"},
            "spec": {"targetGroupARN": user_tg, "targetType": "instance", "serviceRef": {"name": "classic", "port": 80},
                     "nodeSelector": {"matchLabels": {"topology.kubernetes.io/zone": "us-west-2a"}}},
        })).expect("tgb"))
        .await
        .expect("create TGB");
    let tgb_shop: Api<TargetGroupBinding> = Api::namespaced(k.clone(), "shop");
    tgb_shop
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
            "metadata": {"name": "legacy-api-ip", "namespace": "shop"},
            "spec": {"targetGroupARN": user_ip_tg, "targetType": "ip", "serviceRef": {"name": "legacy-api", "port": "http"}},
        })).expect("tgb"))
        .await
        .expect("create TGB");
    sb.reconcile().await.expect("reconcile");
    // Registration itself is the lifecycle test above; here, the result.
    sb.settle_targets().await.expect("settle");
    let a = w
        .nodes
        .iter()
        .find(|n| n.az == "us-west-2a")
        .expect("node a");
    assert_eq!(
        targets(&sb, &user_tg).await,
        BTreeSet::from([(a.instance_id.clone(), 30091, "healthy".to_string())])
    );
    let legacy_ips: BTreeSet<(String, i32, String)> = w
        .service("shop", "legacy-api")
        .expect("legacy")
        .pod_ips
        .iter()
        .map(|ip| (ip.clone(), 8080, "healthy".to_string()))
        .collect();
    assert_eq!(targets(&sb, &user_ip_tg).await, legacy_ips);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_without_lbc_provisions_nothing_for_lbc_services() {
    let sb = Sandbox::start(SandboxOptions {
        lbc_version: None,
        vpc_cni: false,
        ..SandboxOptions::default()
    })
    .await
    .expect("start");
    let k = sb.kube_client();
    assert!(
        Api::<Deployment>::namespaced(k.clone(), "kube-system")
            .get_opt("aws-load-balancer-controller")
            .await
            .expect("get_opt")
            .is_none()
    );
    assert!(
        Api::<DaemonSet>::namespaced(k.clone(), "kube-system")
            .get_opt("aws-node")
            .await
            .expect("get_opt")
            .is_none()
    );
    // no LBC: no TargetGroupBinding CRD in discovery, its paths are 404
    let (code, v) = get_json(&sb, "/apis").await;
    assert_eq!(code, 200);
    assert!(
        !v["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["name"] == "elbv2.k8s.aws")
    );
    let (code, _) = get_json(&sb, "/apis/elbv2.k8s.aws/v1beta1/targetgroupbindings").await;
    assert_eq!(code, 404);
    let f = sb.world().service("web", "frontend").expect("frontend");
    assert!(f.nlb_arn.is_none());
    assert!(
        sb.world()
            .service("shop", "checkout")
            .expect("checkout")
            .nlb_arn
            .is_some()
    );
    sb.reconcile().await.expect("no-op pass");
    assert!(sb.lbc().provisioned().await.is_empty());
}
