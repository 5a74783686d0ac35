//! `kubectl nlb bind-hostnetwork` against the sandbox: the seed's runbook
//! (target group, tags, Service, TargetGroupBinding) as one command.

use crate::util::{Env, run};
use aws_sdk_elasticloadbalancingv2 as elb;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams};
use nlb_sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};

fn tgb_api(sandbox: &Sandbox, ns: Option<&str>) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("elbv2.k8s.aws", "v1beta1", "TargetGroupBinding");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "targetgroupbindings");
    match ns {
        Some(ns) => Api::namespaced_with(sandbox.kube_client(), ns, &ar),
        None => Api::all_with(sandbox.kube_client(), &ar),
    }
}

/// A target group made the way a user would, outside the cluster.
async fn make_target_group(
    sandbox: &Sandbox,
    name: &str,
    target_type: elb::types::TargetTypeEnum,
    protocol: elb::types::ProtocolEnum,
    vpc: &str,
) -> String {
    sandbox
        .aws_internal()
        .elb
        .create_target_group()
        .name(name)
        .protocol(protocol)
        .port(80)
        .vpc_id(vpc)
        .target_type(target_type)
        .send()
        .await
        .expect("create target group")
        .target_groups()[0]
        .target_group_arn()
        .expect("arn")
        .to_string()
}

/// What the cluster and moto hold, to show a failed command changed nothing.
/// Counts of what a refused command must not have touched: Services,
/// bindings, target groups, load balancers, listeners, security groups and
/// their rules.
async fn inventory(sandbox: &Sandbox) -> String {
    let services = Api::<Service>::all(sandbox.kube_client())
        .list(&ListParams::default())
        .await
        .expect("services")
        .items
        .len();
    let bindings = tgb_api(sandbox, None)
        .list(&ListParams::default())
        .await
        .expect("tgbs")
        .items
        .len();
    let elb = &sandbox.aws_internal().elb;
    let groups = elb
        .describe_target_groups()
        .send()
        .await
        .expect("tgs")
        .target_groups()
        .len();
    let lbs = elb.describe_load_balancers().send().await.expect("lbs");
    let mut listeners = 0;
    for lb in lbs.load_balancers() {
        listeners += elb
            .describe_listeners()
            .load_balancer_arn(lb.load_balancer_arn().unwrap_or_default())
            .send()
            .await
            .expect("listeners")
            .listeners()
            .len();
    }
    let sgs = sandbox
        .aws_internal()
        .ec2
        .describe_security_groups()
        .send()
        .await
        .expect("sgs");
    let rules: usize = sgs
        .security_groups()
        .iter()
        .map(|g| g.ip_permissions().len())
        .sum();
    format!(
        "services {services}, bindings {bindings}, target groups {groups}, load balancers {}, listeners {listeners}, security groups {}, rules {rules}",
        lbs.load_balancers().len(),
        sgs.security_groups().len()
    )
}

async fn health(sandbox: &Sandbox, arn: &str) -> Vec<(String, i32, String)> {
    let mut out: Vec<(String, i32, String)> = sandbox
        .aws_internal()
        .elb
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
        .expect("health")
        .target_health_descriptions()
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
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemonset_binds_to_an_existing_target_group() {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    let vpc = sandbox.world().vpc_id.clone();
    let arn = make_target_group(
        &sandbox,
        "edge-http",
        elb::types::TargetTypeEnum::Instance,
        elb::types::ProtocolEnum::Tcp,
        &vpc,
    )
    .await;

    let args = [
        "bind-hostnetwork",
        "daemonset/edge-proxy",
        "-n",
        "edge",
        "--port",
        "http",
        "--target-group-name",
        "edge-http",
        "--source-cidr",
        "10.0.0.0/16",
        "--yes",
        "--timeout",
        "30s",
    ];
    let first = run(&env, &args).await;
    assert_eq!(first.code, 0, "stderr:\n{}", first.stderr);
    assert!(
        first.stdout.contains("service/edge-proxy-hostnet created"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("targetgroupbinding.elbv2.k8s.aws/edge-proxy-http created"),
        "{}",
        first.stdout
    );
    // The result names each node with its target and health.
    for node in &sandbox.world().nodes {
        let row = first
            .stdout
            .lines()
            .find(|l| l.contains(&node.instance_id))
            .unwrap_or_else(|| panic!("{} in {}", node.instance_id, first.stdout));
        assert!(
            row.contains(&node.name) && row.ends_with("healthy"),
            "{row}"
        );
    }

    // The Service: NodePort, Local, selecting the pods, no LBC annotations.
    let svc = Api::<Service>::namespaced(sandbox.kube_client(), "edge")
        .get("edge-proxy-hostnet")
        .await
        .expect("service");
    let spec = svc.spec.clone().expect("spec");
    assert_eq!(spec.type_.as_deref(), Some("NodePort"));
    assert_eq!(spec.external_traffic_policy.as_deref(), Some("Local"));
    assert_eq!(
        spec.selector
            .expect("selector")
            .get("app")
            .map(String::as_str),
        Some("edge-proxy")
    );
    let annotations = svc.metadata.annotations.clone().unwrap_or_default();
    assert!(
        !annotations
            .keys()
            .any(|k| k.starts_with("service.beta.kubernetes.io/")),
        "{annotations:?}"
    );
    let node_port = spec.ports.expect("ports")[0].node_port.expect("nodePort");

    // The binding, every field.
    let tgb = tgb_api(&sandbox, Some("edge"))
        .get("edge-proxy-http")
        .await
        .expect("tgb");
    assert_eq!(
        tgb.data["spec"],
        json!({
            "targetGroupARN": arn,
            "targetType": "instance",
            "serviceRef": {"name": "edge-proxy-hostnet", "port": 80},
            "networking": {"ingress": [{
                "from": [{"ipBlock": {"cidr": "10.0.0.0/16"}}],
                "ports": [{"protocol": "TCP", "port": node_port}]
            }]}
        })
    );

    // The stand-in registered every node on the NodePort, as the controller does.
    let mut expected: Vec<(String, i32, String)> = sandbox
        .world()
        .instance_ids()
        .into_iter()
        .map(|id| (id, node_port, "healthy".to_string()))
        .collect();
    expected.sort();
    assert_eq!(health(&sandbox, &arn).await, expected);

    // Running it again changes nothing.
    let before = inventory(&sandbox).await;
    let second = run(&env, &args).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second
            .stdout
            .contains("targetgroupbinding.elbv2.k8s.aws/edge-proxy-http unchanged"),
        "{}",
        second.stdout
    );
    assert!(
        second.stderr.contains("reuse Service edge-proxy-hostnet"),
        "{}",
        second.stderr
    );
    assert_eq!(inventory(&sandbox).await, before);
}

/// A hostNetwork Deployment pinned to one zone, with its pods.
/// A plain internal NLB made by hand, in every subnet; returns its name.
async fn user_nlb(sandbox: &Sandbox, name: &str) -> String {
    sandbox
        .aws_internal()
        .elb
        .create_load_balancer()
        .name(name)
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
        .set_subnets(Some(sandbox.world().subnet_ids()))
        .send()
        .await
        .expect("user NLB");
    name.to_string()
}

async fn seed_pinned_deployment(sandbox: &Sandbox) -> String {
    let node = sandbox.world().nodes[1].clone();
    let labels = json!({"app": "ingress"});
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "ingress", "namespace": "edge", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "hostNetwork": true,
                "nodeSelector": {"topology.kubernetes.io/zone": node.az},
                "containers": [{"name": "nginx", "image": "nginx", "ports": [{"name": "https", "containerPort": 8443, "hostPort": 8443}]}]
            }}
        }
    }))
    .expect("deployment");
    Api::<Deployment>::namespaced(sandbox.kube_client(), "edge")
        .create(&PostParams::default(), &deployment)
        .await
        .expect("create deployment");
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "ingress-0", "namespace": "edge", "labels": labels},
        "spec": {"hostNetwork": true, "nodeName": node.name, "containers": [{"name": "nginx", "image": "nginx"}]},
        "status": {"phase": "Running", "podIP": node.private_ip, "hostIP": node.private_ip,
                   "conditions": [{"type": "Ready", "status": "True"}]}
    }))
    .expect("pod");
    Api::<Pod>::namespaced(sandbox.kube_client(), "edge")
        .create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
    node.az
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_deployment_gets_a_new_tagged_target_group_behind_an_nlb() {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    let zone = seed_pinned_deployment(&sandbox).await;
    // An NLB of the user's own: no controller would delete the listener
    // the binding adds (the LBC's and the in-tree provider's do).
    let nlb = user_nlb(&sandbox, "user-edge").await;

    let apply_args = [
        "bind-hostnetwork",
        "deploy/ingress",
        "-n",
        "edge",
        "--create-target-group",
        "--load-balancer",
        &nlb,
        "--yes",
        "--timeout",
        "30s",
    ];

    // -o yaml: manifests only, valid YAML, nothing created.
    let before = inventory(&sandbox).await;
    let yaml = run(
        &env,
        &[
            "bind-hostnetwork",
            "deploy/ingress",
            "-n",
            "edge",
            "--create-target-group",
            "--load-balancer",
            &nlb,
            "-o",
            "yaml",
        ],
    )
    .await;
    assert_eq!(yaml.code, 0, "{}", yaml.stderr);
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&yaml.stdout)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml doc"))
        .collect();
    assert_eq!(docs.len(), 2, "{}", yaml.stdout);
    assert_eq!(docs[0]["kind"], "Service");
    assert_eq!(docs[1]["kind"], "TargetGroupBinding");
    assert_eq!(
        docs[1]["spec"]["nodeSelector"]["matchLabels"]["topology.kubernetes.io/zone"],
        zone
    );
    assert_eq!(inventory(&sandbox).await, before);
    // The Service manifest applies cleanly to the cluster (a server-side dry run).
    let svc: Service = serde_json::from_value(docs[0].clone()).expect("service");
    Api::<Service>::namespaced(sandbox.kube_client(), "edge")
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &svc,
        )
        .await
        .expect("applies");

    let applied = run(&env, &apply_args).await;
    assert_eq!(applied.code, 0, "stderr:\n{}", applied.stderr);
    assert!(
        applied
            .stdout
            .contains("target group hn-edge-ingress-8443 created"),
        "{}",
        applied.stdout
    );
    assert!(
        applied.stdout.contains("listener TCP:8443 created"),
        "{}",
        applied.stdout
    );

    // The target group: instance type, the container port, the nodes' VPC, tagged for the controller.
    let elb = &sandbox.aws_internal().elb;
    let tg = elb
        .describe_target_groups()
        .names("hn-edge-ingress-8443")
        .send()
        .await
        .expect("tg")
        .target_groups()[0]
        .clone();
    assert_eq!(tg.target_type().map(|t| t.as_str()), Some("instance"));
    assert_eq!(tg.port(), Some(8443));
    assert_eq!(tg.vpc_id(), Some(sandbox.world().vpc_id.as_str()));
    let arn = tg.target_group_arn().expect("arn").to_string();
    let tags = elb
        .describe_tags()
        .resource_arns(&arn)
        .send()
        .await
        .expect("tags");
    let tags: Vec<(String, String)> = tags.tag_descriptions()[0]
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        tags.contains(&("elbv2.k8s.aws/cluster".into(), "sandbox".into())),
        "{tags:?}"
    );
    assert!(
        tags.contains(&(
            "nlb.kubectl.io/bound-to".into(),
            "edge/deployment/ingress:https".into()
        )),
        "{tags:?}"
    );

    // The user's internal NLB has no security group and instance targets
    // keep the client address: the VPC for traffic, the NLB's subnets for the
    // health checks. Only the pinned zone's node is a target.
    let tgb = tgb_api(&sandbox, Some("edge"))
        .get("ingress-https")
        .await
        .expect("tgb");
    let ingress = &tgb.data["spec"]["networking"]["ingress"];
    assert_eq!(
        ingress[0]["from"][0]["ipBlock"]["cidr"], "10.0.0.0/16",
        "{ingress}"
    );
    assert_eq!(
        ingress[1]["from"].as_array().map(Vec::len),
        Some(3),
        "{ingress}"
    );
    let node = sandbox.world().nodes[1].instance_id.clone();
    let targets: Vec<String> = health(&sandbox, &arn)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(targets, vec![node]);

    // Manifests after the fact name the target group the first run made.
    let after = run(
        &env,
        &[
            "bind-hostnetwork",
            "deploy/ingress",
            "-n",
            "edge",
            "--create-target-group",
            "--load-balancer",
            &nlb,
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(after.code, 0, "{}", after.stderr);
    let list: Value = serde_json::from_str(&after.stdout).expect("json");
    assert_eq!(list["kind"], "List");
    assert_eq!(
        list["items"][0]["kind"], "TargetGroupBinding",
        "the Service exists now: {list:#}"
    );
    assert_eq!(list["items"][0]["spec"]["targetGroupARN"], arn.as_str());

    // Again: nothing new.
    let before = inventory(&sandbox).await;
    let again = run(&env, &apply_args).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("target group hn-edge-ingress-8443 unchanged"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("listener TCP:8443 unchanged"),
        "{}",
        again.stdout
    );
    assert_eq!(inventory(&sandbox).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_clear_error_and_changes_nothing() {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sandbox);
    let vpc = sandbox.world().vpc_id.clone();
    make_target_group(
        &sandbox,
        "ok-instance",
        elb::types::TargetTypeEnum::Instance,
        elb::types::ProtocolEnum::Tcp,
        &vpc,
    )
    .await;
    make_target_group(
        &sandbox,
        "ip-group",
        elb::types::TargetTypeEnum::Ip,
        elb::types::ProtocolEnum::Tcp,
        &vpc,
    )
    .await;
    make_target_group(
        &sandbox,
        "udp-group",
        elb::types::TargetTypeEnum::Instance,
        elb::types::ProtocolEnum::Udp,
        &vpc,
    )
    .await;
    let other_vpc = sandbox
        .aws_internal()
        .ec2
        .create_vpc()
        .cidr_block("172.16.0.0/16")
        .send()
        .await
        .expect("vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    make_target_group(
        &sandbox,
        "elsewhere",
        elb::types::TargetTypeEnum::Instance,
        elb::types::ProtocolEnum::Tcp,
        &other_vpc,
    )
    .await;
    // A target group of the user's own, already bound in another namespace.
    let bound = make_target_group(
        &sandbox,
        "bound-ip",
        elb::types::TargetTypeEnum::Ip,
        elb::types::ProtocolEnum::Tcp,
        &vpc,
    )
    .await;
    let other: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
        "metadata": {"name": "someone-elses", "namespace": "web"},
        "spec": {"targetGroupARN": bound, "targetType": "ip", "serviceRef": {"name": "frontend", "port": 80}},
    }))
    .expect("tgb");
    tgb_api(&sandbox, Some("web"))
        .create(&PostParams::default(), &other)
        .await
        .expect("create tgb");
    let lbc_tg = sandbox
        .world()
        .service("web", "frontend")
        .expect("frontend")
        .target_group_arns[0]
        .clone();
    let lbc_nlb = sandbox
        .world()
        .service("web", "frontend")
        .and_then(|s| s.nlb_name.clone())
        .expect("nlb");
    let intree_tg = sandbox
        .world()
        .service("shop", "checkout")
        .expect("checkout")
        .target_group_arns[0]
        .clone();
    // A hostNetwork Deployment whose node selector matches no node.
    let nowhere: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nowhere", "namespace": "edge"},
        "spec": {"selector": {"matchLabels": {"app": "nowhere"}}, "template": {"metadata": {"labels": {"app": "nowhere"}}, "spec": {
            "hostNetwork": true, "nodeSelector": {"topology.kubernetes.io/zone": "mars-1a"},
            "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}]}]}}}
    }))
    .expect("deployment");
    Api::<Deployment>::namespaced(sandbox.kube_client(), "edge")
        .create(&PostParams::default(), &nowhere)
        .await
        .expect("create");

    // An NLB of the user's own whose port 80 already forwards to another
    // target group: a new listener there cannot be made.
    let busy = user_nlb(&sandbox, "user-busy").await;
    let busy_tg = make_target_group(
        &sandbox,
        "someone-80",
        elb::types::TargetTypeEnum::Instance,
        elb::types::ProtocolEnum::Tcp,
        &vpc,
    )
    .await;
    let elb = &sandbox.aws_internal().elb;
    let busy_arn = elb
        .describe_load_balancers()
        .names(&busy)
        .send()
        .await
        .expect("lb")
        .load_balancers()[0]
        .load_balancer_arn()
        .expect("arn")
        .to_string();
    elb.create_listener()
        .load_balancer_arn(&busy_arn)
        .protocol(elb::types::ProtocolEnum::Tcp)
        .port(80)
        .default_actions(
            elb::types::Action::builder()
                .r#type(elb::types::ActionTypeEnum::Forward)
                .target_group_arn(&busy_tg)
                .build(),
        )
        .send()
        .await
        .expect("listener");

    let before = inventory(&sandbox).await;
    let src = ["--source-cidr", "10.0.0.0/16", "--yes"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "deployment/checkout",
                "-n",
                "shop",
                "--target-group-name",
                "ok-instance",
            ],
            "does not set hostNetwork: true",
        ),
        (
            vec![
                "daemonset/ghost",
                "-n",
                "edge",
                "--target-group-name",
                "ok-instance",
            ],
            "daemonset/ghost not found in namespace edge",
        ),
        (
            vec![
                "pod/edge-proxy",
                "-n",
                "edge",
                "--target-group-name",
                "ok-instance",
            ],
            "\"pod\" is not a workload kind",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--port",
                "9999",
                "--target-group-name",
                "ok-instance",
            ],
            "port \"9999\" is not a container port",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-group-name",
                "elsewhere",
            ],
            "but the nodes are in",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-group-name",
                "ip-group",
            ],
            "has target type ip",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-group-name",
                "udp-group",
            ],
            "uses UDP",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-type",
                "ip",
                "--target-group-arn",
                &bound,
            ],
            "is already bound by TargetGroupBinding web/someone-elses",
        ),
        // What a controller owns (fidelity review A3).
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-type",
                "ip",
                "--target-group-arn",
                &lbc_tg,
            ],
            "belongs to the AWS Load Balancer Controller for Service web/frontend",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-group-arn",
                &intree_tg,
            ],
            "belongs to the in-tree cloud provider for Service shop/checkout",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--create-target-group",
                "--load-balancer",
                &lbc_nlb,
            ],
            "is managed by the AWS Load Balancer Controller for Service web/frontend",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-group-name",
                "missing",
            ],
            "target group \"missing\" not found",
        ),
        (
            vec![
                "deployment/nowhere",
                "-n",
                "edge",
                "--target-group-name",
                "ok-instance",
            ],
            "no ready node matches",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "nope",
                "--target-group-name",
                "ok-instance",
            ],
            "namespace \"nope\" not found",
        ),
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--create-target-group",
                "--dry-run=server",
            ],
            "--dry-run=server needs an existing target group",
        ),
        // qa D-C6: 0 meant the 5-minute default, and the wait ran on.
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--target-group-name",
                "ok-instance",
                "--timeout",
                "0",
            ],
            "--timeout 0: every wait needs a limit",
        ),
        // A listener port already taken: found before any target group is
        // made (it failed at CreateListener, after creating one).
        (
            vec![
                "daemonset/edge-proxy",
                "-n",
                "edge",
                "--port",
                "http",
                "--create-target-group",
                "--load-balancer",
                &busy,
            ],
            "load balancer user-busy already listens on port 80 (forwarding to target group someone-80)",
        ),
    ];
    for (args, needle) in cases {
        let mut full = vec!["bind-hostnetwork"];
        full.extend(args);
        full.extend(src);
        let out = run(&env, &full).await;
        assert_eq!(out.code, 1, "{full:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("error: ") && out.stderr.contains(needle),
            "{full:?}: expected {needle:?} in {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    // Without --yes and without a terminal, nothing is changed either, and
    // the refusal comes first, alone (qa D-C3: after the whole plan).
    let refused = run(
        &env,
        &[
            "bind-hostnetwork",
            "daemonset/edge-proxy",
            "-n",
            "edge",
            "--target-group-name",
            "ok-instance",
            "--source-cidr",
            "10.0.0.0/16",
        ],
    )
    .await;
    crate::util::assert_one_line_error(&refused, "not a terminal");
    assert!(refused.stderr.contains("pass --yes"), "{}", refused.stderr);
    // No sources known: no load balancer and no --source-cidr.
    let blind = run(
        &env,
        &[
            "bind-hostnetwork",
            "daemonset/edge-proxy",
            "-n",
            "edge",
            "--target-group-name",
            "ok-instance",
            "--yes",
        ],
    )
    .await;
    assert_eq!(blind.code, 1, "{}", blind.stderr);
    assert!(
        blind.stderr.contains("pass --source-cidr or --source-sg"),
        "{}",
        blind.stderr
    );
    assert_eq!(
        inventory(&sandbox).await,
        before,
        "a failed command changed the cluster or AWS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dry_run_submits_without_persisting() {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sandbox);
    let vpc = sandbox.world().vpc_id.clone();
    make_target_group(
        &sandbox,
        "edge-dry",
        elb::types::TargetTypeEnum::Instance,
        elb::types::ProtocolEnum::Tcp,
        &vpc,
    )
    .await;
    let before = inventory(&sandbox).await;
    let out = run(
        &env,
        &[
            "bind-hostnetwork",
            "ds/edge-proxy",
            "-n",
            "edge",
            "--target-group-name",
            "edge-dry",
            "--source-cidr",
            "10.0.0.0/16",
            "--dry-run=server",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("server dry run"), "{}", out.stdout);
    assert_eq!(inventory(&sandbox).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_load_balancer_and_target_group_in_one_command() {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);

    // Internal needs subnets tagged kubernetes.io/role/internal-elb; the sandbox has none.
    let before = inventory(&sandbox).await;
    let internal = run(
        &env,
        &[
            "bind-hostnetwork",
            "ds/edge-proxy",
            "-n",
            "edge",
            "--port",
            "https",
            "--create-target-group",
            "--create-load-balancer",
            "--yes",
        ],
    )
    .await;
    assert_eq!(internal.code, 1, "{}", internal.stderr);
    assert!(
        internal.stderr.contains("kubernetes.io/role/internal-elb")
            && internal.stderr.contains("pass --subnets"),
        "{}",
        internal.stderr
    );
    assert_eq!(inventory(&sandbox).await, before);

    // Internet-facing, instance targets (the client address is kept), no
    // source: who may connect is not known, so nothing is made (review A2).
    let mut args = vec![
        "bind-hostnetwork",
        "ds/edge-proxy",
        "-n",
        "edge",
        "--port",
        "https",
        "--create-target-group",
        "--create-load-balancer",
        "--scheme",
        "internet-facing",
        "--yes",
        "--timeout",
        "30s",
    ];
    let refused = run(&env, &args).await;
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--source-cidr 0.0.0.0/0"),
        "{}",
        refused.stderr
    );
    assert_eq!(inventory(&sandbox).await, before, "nothing made");

    args.extend(["--source-cidr", "203.0.113.0/24"]);
    let out = run(&env, &args).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    for line in [
        "security group hn-edge-edge-proxy",
        "load balancer hn-edge-edge-proxy created",
        "listener TCP:443 created",
    ] {
        assert!(out.stdout.contains(line), "{line}: {}", out.stdout);
    }
    let elb = &sandbox.aws_internal().elb;
    let lb = elb
        .describe_load_balancers()
        .names("hn-edge-edge-proxy")
        .send()
        .await
        .expect("lb")
        .load_balancers()[0]
        .clone();
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    assert_eq!(lb.availability_zones().len(), 3);
    assert_eq!(
        lb.security_groups().len(),
        1,
        "an NLB security group of its own"
    );
    let lb_arn = lb.load_balancer_arn().expect("arn").to_string();
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .expect("listeners");
    let tg_arn = listeners.listeners()[0].default_actions()[0]
        .target_group_arn()
        .expect("forward")
        .to_string();
    assert_eq!(listeners.listeners()[0].port(), Some(443));
    let tgb = tgb_api(&sandbox, Some("edge"))
        .get("edge-proxy-https")
        .await
        .expect("tgb");
    assert_eq!(tgb.data["spec"]["targetGroupARN"], tg_arn.as_str());
    assert_eq!(
        tgb.data["spec"]["networking"]["ingress"][0]["from"][0]["securityGroup"]["groupID"],
        lb.security_groups()[0]
    );
    // Give the controller a pass to write the binding's rules, then ask the
    // sandbox what gets through: every serving node from the allowed range,
    // none from elsewhere.
    sandbox.reconcile().await.expect("reconcile");
    for node in &sandbox.world().nodes {
        assert!(
            sandbox
                .reaches(&lb_arn, 443, "203.0.113.10", &node.instance_id)
                .await
                .expect("reach"),
            "{} from the allowed range",
            node.name
        );
        assert!(
            !sandbox
                .reaches(&lb_arn, 443, "198.51.100.7", &node.instance_id)
                .await
                .expect("reach"),
            "{} from elsewhere",
            node.name
        );
    }
    assert_eq!(health(&sandbox, &tg_arn).await.len(), 3);

    let before = inventory(&sandbox).await;
    let again = run(&env, &args).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    for line in [
        "load balancer hn-edge-edge-proxy unchanged",
        "listener TCP:443 unchanged",
    ] {
        assert!(again.stdout.contains(line), "{line}: {}", again.stdout);
    }
    assert_eq!(inventory(&sandbox).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_nlb_admits_the_vpc_by_default() {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    let subnets = sandbox.world().subnet_ids().join(",");
    let out = run(
        &env,
        &[
            "bind-hostnetwork",
            "ds/edge-proxy",
            "-n",
            "edge",
            "--port",
            "http",
            "--create-target-group",
            "--create-load-balancer",
            "--subnets",
            &subnets,
            "--yes",
            "--timeout",
            "30s",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lb = sandbox
        .aws_internal()
        .elb
        .describe_load_balancers()
        .names("hn-edge-edge-proxy")
        .send()
        .await
        .expect("lb")
        .load_balancers()[0]
        .clone();
    let lb_arn = lb.load_balancer_arn().expect("arn").to_string();
    sandbox.reconcile().await.expect("reconcile");
    let node = &sandbox.world().nodes[0];
    assert!(
        sandbox
            .reaches(&lb_arn, 80, "10.0.40.9", &node.instance_id)
            .await
            .expect("reach")
    );
    assert!(
        !sandbox
            .reaches(&lb_arn, 80, "203.0.113.10", &node.instance_id)
            .await
            .expect("reach")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_on_three_nodes_with_local_waits_only_for_its_node() {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    // One host-network pod, on node a; no node selector, so every node is
    // registered and two fail kube-proxy's Local health check (review A9).
    let node = sandbox.world().nodes[0].clone();
    let labels = json!({"app": "solo"});
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "solo", "namespace": "edge", "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"hostNetwork": true,
                     "containers": [{"name": "c", "image": "x", "ports": [{"name": "http", "containerPort": 9080, "hostPort": 9080}]}]}}},
    }))
    .expect("deployment");
    Api::<Deployment>::namespaced(sandbox.kube_client(), "edge")
        .create(&PostParams::default(), &deployment)
        .await
        .expect("deployment");
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "solo-0", "namespace": "edge", "labels": labels},
        "spec": {"hostNetwork": true, "nodeName": node.name, "containers": [{"name": "c", "image": "x", "ports": [{"name": "http", "containerPort": 9080}]}]},
        "status": {"phase": "Running", "podIP": node.private_ip, "hostIP": node.private_ip,
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }))
    .expect("pod");
    Api::<Pod>::namespaced(sandbox.kube_client(), "edge")
        .create(&PostParams::default(), &pod)
        .await
        .expect("pod");
    let out = run(
        &env,
        &[
            "bind-hostnetwork",
            "deploy/solo",
            "-n",
            "edge",
            "--create-target-group",
            "--create-load-balancer",
            "--scheme",
            "internet-facing",
            "--source-cidr",
            "0.0.0.0/0",
            "--yes",
            "--timeout",
            "30s",
        ],
    )
    .await;
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let others: Vec<&str> = sandbox.world().nodes[1..]
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let table: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("solo-http"))
        .collect();
    assert_eq!(table.len(), 3, "{}", out.stdout);
    for line in &table {
        if line.contains(&node.name) {
            assert!(
                line.contains("healthy") && line.ends_with("healthy"),
                "{line}"
            );
        } else {
            assert!(others.iter().any(|o| line.contains(o)), "{line}");
            assert!(
                line.contains("unhealthy: no ready pod of the workload runs there"),
                "{line}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_port_joins_the_service_the_first_binding_made() {
    // qa D-M2b: after --port http, --port https said the tool's own Service
    // "exists but does not fit … delete or rename it".
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    let vpc = sandbox.world().vpc_id.clone();
    for name in ["edge-http", "edge-https"] {
        make_target_group(
            &sandbox,
            name,
            elb::types::TargetTypeEnum::Instance,
            elb::types::ProtocolEnum::Tcp,
            &vpc,
        )
        .await;
    }
    let bind = |port: &'static str, group: &'static str| {
        vec![
            "bind-hostnetwork",
            "daemonset/edge-proxy",
            "-n",
            "edge",
            "--port",
            port,
            "--target-group-name",
            group,
            "--source-cidr",
            "10.0.0.0/16",
            "--yes",
            "--timeout",
            "30s",
        ]
    };
    let first = run(&env, &bind("http", "edge-http")).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let services = Api::<Service>::namespaced(sandbox.kube_client(), "edge");
    let http_node_port = services
        .get("edge-proxy-hostnet")
        .await
        .expect("service")
        .spec
        .and_then(|s| s.ports)
        .and_then(|p| p.first().and_then(|p| p.node_port))
        .expect("nodePort");
    let http_binding = tgb_api(&sandbox, Some("edge"))
        .get("edge-proxy-http")
        .await
        .expect("tgb");

    let second = run(&env, &bind("https", "edge-https")).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    for line in [
        "service/edge-proxy-hostnet configured",
        "targetgroupbinding.elbv2.k8s.aws/edge-proxy-https created",
    ] {
        assert!(second.stdout.contains(line), "{line}: {}", second.stdout);
    }
    assert!(
        second
            .stderr
            .contains("add port(s) https (443) to Service edge-proxy-hostnet"),
        "{}",
        second.stderr
    );
    let svc = services.get("edge-proxy-hostnet").await.expect("service");
    let ports = svc.spec.and_then(|s| s.ports).expect("ports");
    let by_name = |n: &str| ports.iter().find(|p| p.name.as_deref() == Some(n)).cloned();
    assert_eq!(
        by_name("http").and_then(|p| p.node_port),
        Some(http_node_port),
        "the live binding's port is untouched"
    );
    let https_node_port = by_name("https")
        .and_then(|p| p.node_port)
        .expect("the added port has a nodePort");
    assert_eq!(
        tgb_api(&sandbox, Some("edge"))
            .get("edge-proxy-http")
            .await
            .expect("tgb")
            .data["spec"],
        http_binding.data["spec"]
    );
    let https = tgb_api(&sandbox, Some("edge"))
        .get("edge-proxy-https")
        .await
        .expect("tgb");
    assert_eq!(https.data["spec"]["serviceRef"]["port"], 443);
    let https_arn = https.data["spec"]["targetGroupARN"]
        .as_str()
        .expect("arn")
        .to_string();
    let targets = health(&sandbox, &https_arn).await;
    assert_eq!(targets.len(), 3, "{targets:?}");
    assert!(
        targets
            .iter()
            .all(|(_, port, state)| *port == https_node_port && state == "healthy"),
        "{targets:?}"
    );

    // Again: nothing to add.
    let before = inventory(&sandbox).await;
    let again = run(&env, &bind("https", "edge-https")).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("reuse Service edge-proxy-hostnet"),
        "{}",
        again.stderr
    );
    assert_eq!(inventory(&sandbox).await, before);
}
