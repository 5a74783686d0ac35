//! Self-tests of what the sandbox learned from the real systems (each
//! behaviour's source is cited where the sandbox implements it):
//! kube-apiserver's finalizers and preconditions (`tests/sandbox/src/apiserver.rs`),
//! the controllers' cleanup (`lbc.rs`), Route 53's read-back and batch rules,
//! the target lifecycle, UDP attributes, deletion protection and listener
//! weights (`moto/launcher.py`), the LBC's own flags (`lbc_config.rs`), its
//! `actions.<PROTO>-<PORT>` weighted listener actions (`listener_action.rs`)
//! and its redeploy of target group attributes and binding rules on every
//! change (`lbc.rs` `sync_target_groups`).

use aws_sdk_elasticloadbalancingv2 as elb;
use aws_sdk_route53 as r53;
use elb::error::ProvideErrorMetadata;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use nlb_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;
use std::time::{Duration, Instant};

async fn start(opts: SandboxOptions) -> Sandbox {
    Sandbox::start(opts).await.expect("sandbox starts")
}

fn code(e: &kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("not an API error: {other}"),
    }
}

/// Polls `check` every 100 ms for up to 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < end, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn nlb_exists(sb: &Sandbox, arn: &str) -> bool {
    match sb
        .aws_internal()
        .elb
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) if e.code() == Some("LoadBalancerNotFound") => false,
        Err(e) => panic!("DescribeLoadBalancers: {e:?}"),
    }
}

async fn protect(sb: &Sandbox, arn: &str) {
    sb.aws_internal()
        .elb
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .attributes(
            elb::types::LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .expect("protect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_wait_for_finalizers_and_honour_preconditions() {
    let sb = start(SandboxOptions {
        seed: false,
        ..Default::default()
    })
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(sb.kube_client(), "default");
    let held: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
        "data": {"k": "v"},
    }))
    .unwrap();
    let created = cms.create(&PostParams::default(), &held).await.unwrap();

    // A precondition that does not match: 409, nothing deleted.
    let wrong = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("not-the-uid".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let e = cms.delete("held", &wrong).await.expect_err("409");
    assert_eq!(code(&e), 409);
    assert!(e.to_string().contains("Precondition failed: UID"), "{e}");
    assert!(
        cms.get("held")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_none()
    );

    // DELETE with a finalizer: kept, Terminating; again: unchanged.
    cms.delete("held", &DeleteParams::default()).await.unwrap();
    let terminating = cms.get("held").await.unwrap();
    let at = terminating
        .metadata
        .deletion_timestamp
        .clone()
        .expect("deletionTimestamp");
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(0));
    assert_eq!(terminating.metadata.uid, created.metadata.uid);
    assert!(
        !terminating
            .metadata
            .annotations
            .unwrap_or_default()
            .keys()
            .any(|k| k.starts_with("nlb-sandbox")),
        "the sandbox's bookkeeping never shows"
    );
    cms.delete("held", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        cms.get("held").await.unwrap().metadata.deletion_timestamp,
        Some(at)
    );

    // Updates still work, but may not add a finalizer.
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "w"}})),
    )
    .await
    .unwrap();
    let e = cms
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}),
            ),
        )
        .await
        .expect_err("422");
    assert_eq!(code(&e), 422);
    assert!(
        e.to_string().contains("no new finalizers can be added"),
        "{e}"
    );

    // The last finalizer goes: so does the object.
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": []}})),
    )
    .await
    .unwrap();
    assert!(cms.get_opt("held").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloud_provider_holds_its_finalizer_until_the_nlb_is_gone() {
    let sb = start(SandboxOptions::default()).await;
    let w = sb.world().clone();
    let shop: Api<Service> = Api::namespaced(sb.kube_client(), "shop");
    let legacy = w
        .service("shop", "legacy-api")
        .unwrap()
        .nlb_arn
        .clone()
        .unwrap();
    let checkout = w
        .service("shop", "checkout")
        .unwrap()
        .nlb_arn
        .clone()
        .unwrap();

    // A cleanup that takes time: Terminating meanwhile, NLB still there.
    sb.lbc().set_cleanup_delay(Duration::from_secs(1));
    shop.delete("legacy-api", &DeleteParams::default())
        .await
        .unwrap();
    let report = sb.reconcile_report().await.unwrap();
    assert!(
        report.waiting.contains(&"shop/legacy-api".into()),
        "{report:?}"
    );
    let svc = shop.get("legacy-api").await.unwrap();
    assert!(svc.metadata.deletion_timestamp.is_some());
    assert_eq!(
        svc.metadata.finalizers,
        Some(vec!["service.kubernetes.io/load-balancer-cleanup".into()])
    );
    assert!(nlb_exists(&sb, &legacy).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sb.reconcile().await.unwrap();
    assert!(!nlb_exists(&sb, &legacy).await);
    assert!(shop.get_opt("legacy-api").await.unwrap().is_none());

    // A cleanup that fails: DeleteLoadBalancer refuses a protected NLB.
    sb.lbc().set_cleanup_delay(Duration::ZERO);
    protect(&sb, &checkout).await;
    shop.delete("checkout", &DeleteParams::default())
        .await
        .unwrap();
    let report = sb.reconcile_report().await.unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("OperationNotPermitted")),
        "{report:?}"
    );
    assert!(
        shop.get("checkout")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    );
    assert!(nlb_exists(&sb, &checkout).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lbc_holds_its_finalizer_and_refuses_a_protected_service() {
    let sb = start(SandboxOptions::default()).await;
    let web: Api<Service> = Api::namespaced(sb.kube_client(), "web");
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "kept", "annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-attributes": "deletion_protection.enabled=true",
        }},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb", "selector": {"app": "frontend"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }))
    .unwrap();
    web.create(&PostParams::default(), &svc).await.unwrap();
    sb.reconcile().await.unwrap();
    let arn = sb.lbc().provisioned().await["web/kept"].arn.clone();
    assert_eq!(
        web.get("kept").await.unwrap().metadata.finalizers,
        Some(vec!["service.k8s.aws/resources".into()])
    );

    web.delete("kept", &DeleteParams::default()).await.unwrap();
    let report = sb.reconcile_report().await.unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("deletion_protection is enabled, cannot delete the service: kept")),
        "{report:?}"
    );
    assert!(nlb_exists(&sb, &arn).await);
    // Taking the setting out of the annotation lets the controller finish;
    // protection set in AWS alone it turns off itself.
    web.patch(
        "kept",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-attributes": null}}})),
    )
    .await
    .unwrap();
    sb.reconcile().await.unwrap();
    assert!(!nlb_exists(&sb, &arn).await);
    assert!(web.get_opt("kept").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_answers_names_and_aliases_as_it_stores_them() {
    let sb = start(SandboxOptions::default()).await;
    let zone = sb.world().hosted_zone_id.clone();
    let r = &sb.aws_internal().r53;
    let alias = |dns: &str| {
        r53::types::AliasTarget::builder()
            .hosted_zone_id("Z2P70J7EXAMPLE")
            .dns_name(dns)
            .evaluate_target_health(true)
            .build()
            .unwrap()
    };
    let set = |name: &str, id: Option<&str>, dns: &str| {
        let b = r53::types::ResourceRecordSet::builder()
            .name(name)
            .r#type(r53::types::RrType::A)
            .alias_target(alias(dns));
        match id {
            Some(id) => b.set_identifier(id).weight(10),
            None => b,
        }
        .build()
        .unwrap()
    };
    let change = |action: r53::types::ChangeAction, rr| {
        r53::types::Change::builder()
            .action(action)
            .resource_record_set(rr)
            .build()
            .unwrap()
    };
    let batch = |changes: Vec<r53::types::Change>| {
        r.change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(
                r53::types::ChangeBatch::builder()
                    .set_changes(Some(changes))
                    .build()
                    .unwrap(),
            )
            .send()
    };
    use r53::types::ChangeAction::{Create, Delete};
    batch(vec![change(
        Create,
        set("*.Wild.example.com", None, "K8s-Mixed-1.elb.amazonaws.com"),
    )])
    .await
    .unwrap();
    let listed = r
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .unwrap();
    let wild = listed
        .resource_record_sets()
        .iter()
        .find(|s| s.name().contains("wild"))
        .expect("the wildcard");
    assert_eq!(wild.name(), "\\052.wild.example.com.");
    assert_eq!(
        wild.alias_target().unwrap().dns_name(),
        "k8s-mixed-1.elb.amazonaws.com."
    );

    // A DELETE must repeat the current values; written forms match.
    let stale = batch(vec![change(
        Delete,
        set("*.wild.example.com", None, "other-1.elb.amazonaws.com"),
    )])
    .await;
    assert!(
        format!("{stale:?}").contains("do not match the current values"),
        "{stale:?}"
    );
    // Simple and weighted sets of one name and type never coexist.
    let mixed = batch(vec![change(
        Create,
        set("*.wild.example.com", Some("a"), "x-1.elb.amazonaws.com"),
    )])
    .await;
    assert!(
        format!("{mixed:?}").contains("cannot be created as a non-weighted set exists"),
        "{mixed:?}"
    );
    batch(vec![change(
        Delete,
        set("*.WILD.example.com.", None, "k8s-mixed-1.elb.amazonaws.com"),
    )])
    .await
    .unwrap();

    // Deleting a weighted record of one name leaves another name's record
    // with the same identifier.
    batch(vec![
        change(
            Create,
            set("one.example.com", Some("same"), "a-1.elb.amazonaws.com"),
        ),
        change(
            Create,
            set("two.example.com", Some("same"), "a-1.elb.amazonaws.com"),
        ),
    ])
    .await
    .unwrap();
    batch(vec![change(
        Delete,
        set("one.example.com", Some("same"), "a-1.elb.amazonaws.com"),
    )])
    .await
    .unwrap();
    let listed = r
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .resource_record_sets()
        .iter()
        .map(|s| s.name())
        .collect();
    assert!(
        names.contains(&"two.example.com.") && !names.contains(&"one.example.com."),
        "{names:?}"
    );
}

async fn states(sb: &Sandbox, tg: &str) -> Vec<String> {
    let out = sb
        .aws_internal()
        .elb
        .describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .unwrap();
    out.target_health_descriptions()
        .iter()
        .map(|d| {
            d.target_health()
                .and_then(|h| h.state())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        })
        .collect()
}

async fn target_group(sb: &Sandbox, name: &str, proto: elb::types::ProtocolEnum) -> String {
    sb.aws_internal()
        .elb
        .create_target_group()
        .name(name)
        .protocol(proto)
        .port(8080)
        .vpc_id(&sb.world().vpc_id)
        .target_type(elb::types::TargetTypeEnum::Ip)
        .health_check_interval_seconds(10)
        .healthy_threshold_count(3)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_join_initial_and_leave_draining() {
    let sb = start(SandboxOptions::default()).await;
    let tg = target_group(&sb, "lifecycle", elb::types::ProtocolEnum::Tcp).await;
    let e = &sb.aws_internal().elb;
    e.modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(
            elb::types::TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value("60")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let target = elb::types::TargetDescription::builder()
        .id("10.0.1.77")
        .port(8080)
        .build();
    e.register_targets()
        .target_group_arn(&tg)
        .targets(target.clone())
        .send()
        .await
        .unwrap();
    // 3 checks × 10 s, at the default scale of 0.01: 0.3 s.
    assert_eq!(states(&sb, &tg).await, ["initial"]);
    eventually("healthy", || async {
        states(&sb, &tg).await == ["healthy"]
    })
    .await;
    e.deregister_targets()
        .target_group_arn(&tg)
        .targets(target)
        .send()
        .await
        .unwrap();
    // 60 s of deregistration delay: draining for 0.6 s, then gone.
    assert_eq!(states(&sb, &tg).await, ["draining"]);
    eventually("gone", || async { states(&sb, &tg).await.is_empty() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_target_groups_keep_the_client_address() {
    let sb = start(SandboxOptions::default()).await;
    let attr = |tg: String| {
        let sb = &sb;
        async move {
            sb.aws_internal()
                .elb
                .describe_target_group_attributes()
                .target_group_arn(tg)
                .send()
                .await
                .unwrap()
                .attributes()
                .iter()
                .find(|a| a.key() == Some("preserve_client_ip.enabled"))
                .and_then(|a| a.value().map(str::to_string))
        }
    };
    let udp = target_group(&sb, "dns-udp", elb::types::ProtocolEnum::Udp).await;
    let tcp = target_group(&sb, "web-tcp", elb::types::ProtocolEnum::Tcp).await;
    assert_eq!(attr(udp.clone()).await.as_deref(), Some("true"));
    assert_eq!(
        attr(tcp).await.as_deref(),
        Some("false"),
        "ip TCP default is off"
    );
    let e = sb
        .aws_internal()
        .elb
        .modify_target_group_attributes()
        .target_group_arn(&udp)
        .attributes(
            elb::types::TargetGroupAttribute::builder()
                .key("preserve_client_ip.enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .expect_err("AWS refuses");
    assert_eq!(e.code(), Some("InvalidConfigurationRequest"));
    assert_eq!(attr(udp).await.as_deref(), Some("true"));
}

fn lbc_service(name: &str, class: &str, extra: serde_json::Value) -> Service {
    let mut anns = json!({"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"});
    if let (Some(a), Some(e)) = (anns.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    serde_json::from_value(json!({
        "metadata": {"name": name, "annotations": anns},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": class, "selector": {"app": "frontend"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                           {"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"}]},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lbc_reads_its_class_and_feature_gates_from_its_deployment() {
    let sb = start(SandboxOptions {
        lbc_args: vec![
            "--load-balancer-class=example.com/nlb".into(),
            "--feature-gates=NLBSecurityGroup=false".into(),
        ],
        ..Default::default()
    })
    .await;
    let web: Api<Service> = Api::namespaced(sb.kube_client(), "web");
    let off = json!({"service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true"});
    for (name, class) in [
        ("default-class", "service.k8s.aws/nlb"),
        ("own-class", "example.com/nlb"),
    ] {
        web.create(
            &PostParams::default(),
            &lbc_service(name, class, off.clone()),
        )
        .await
        .unwrap();
    }
    let report = sb.reconcile_report().await.unwrap();
    assert_eq!(
        report.provisioned,
        vec!["web/own-class".to_string()],
        "{report:?}"
    );
    let p = sb.lbc().provisioned().await["web/own-class"].clone();
    assert!(
        p.frontend_sg.is_none(),
        "NLBSecurityGroup=false: no NLB security group"
    );
    let lb = sb
        .aws_internal()
        .elb
        .describe_load_balancers()
        .load_balancer_arns(&p.arn)
        .send()
        .await
        .unwrap();
    assert!(lb.load_balancers()[0].security_groups().is_empty());

    // Names over 32 characters fail the model build: nothing is made.
    web.create(
        &PostParams::default(),
        &lbc_service(
            "long-name",
            "example.com/nlb",
            json!({"service.beta.kubernetes.io/aws-load-balancer-name": "x".repeat(33)}),
        ),
    )
    .await
    .unwrap();
    let report = sb.reconcile_report().await.unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("load balancer name cannot be longer than 32 characters")),
        "{report:?}"
    );
    let long = web.get("long-name").await.unwrap();
    assert!(
        long.metadata.finalizers.is_none()
            && long
                .status
                .and_then(|s| s.load_balancer)
                .and_then(|l| l.ingress)
                .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_port_attributes_need_lbc_v2_14_and_udp_cannot_turn_preservation_off() {
    let off = json!({
        "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=false",
        "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes.53": "preserve_client_ip.enabled=true",
    });
    for (version, works) in [("v2.14.0", true), ("v2.13.3", false)] {
        let sb = start(SandboxOptions {
            lbc_version: Some(version.into()),
            ..Default::default()
        })
        .await;
        let web: Api<Service> = Api::namespaced(sb.kube_client(), "web");
        web.create(
            &PostParams::default(),
            &lbc_service("mixed", "service.k8s.aws/nlb", off.clone()),
        )
        .await
        .unwrap();
        let report = sb.reconcile_report().await.unwrap();
        if works {
            assert_eq!(
                report.provisioned,
                vec!["web/mixed".to_string()],
                "{report:?}"
            );
        } else {
            // v2.13 ignores the per-port key: false reaches the UDP group.
            assert!(
                report
                    .errors
                    .iter()
                    .any(|e| e.contains("InvalidConfigurationRequest")),
                "{version}: {report:?}"
            );
            assert!(!sb.lbc().provisioned().await.contains_key("web/mixed"));
        }
    }
}

async fn listener_ports(sb: &Sandbox, lb: &str) -> Vec<i32> {
    let mut ports: Vec<i32> = sb
        .aws_internal()
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .unwrap()
        .listeners()
        .iter()
        .filter_map(|l| l.port())
        .collect();
    ports.sort();
    ports
}

async fn add_listener(sb: &Sandbox, lb: &str, tg: &str, port: i32) {
    sb.aws_internal()
        .elb
        .create_listener()
        .load_balancer_arn(lb)
        .protocol(elb::types::ProtocolEnum::Tcp)
        .port(port)
        .default_actions(
            elb::types::Action::builder()
                .r#type(elb::types::ActionTypeEnum::Forward)
                .target_group_arn(tg)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_delete_what_they_did_not_build_on_their_nlbs() {
    let sb = start(SandboxOptions::default()).await;
    let w = sb.world().clone();
    for (ns, name) in [("web", "frontend"), ("shop", "checkout")] {
        let s = w.service(ns, name).unwrap();
        let (lb, tg) = (s.nlb_arn.clone().unwrap(), s.target_group_arns[0].clone());
        let before = listener_ports(&sb, &lb).await;
        add_listener(&sb, &lb, &tg, 9999).await;
        sb.reconcile().await.unwrap();
        assert_eq!(
            listener_ports(&sb, &lb).await,
            before,
            "{ns}/{name}: the extra listener is gone"
        );
    }
    // The in-tree provider deregisters targets it did not register.
    let checkout = w.service("shop", "checkout").unwrap();
    let tg = checkout.target_group_arns[0].clone();
    sb.aws_internal()
        .elb
        .register_targets()
        .target_group_arn(&tg)
        .targets(
            elb::types::TargetDescription::builder()
                .id(&w.nodes[0].instance_id)
                .port(31999)
                .build(),
        )
        .send()
        .await
        .unwrap();
    sb.reconcile().await.unwrap();
    let out = sb
        .aws_internal()
        .elb
        .describe_target_health()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    assert!(
        !out.target_health_descriptions().iter().any(|d| {
            d.target().and_then(|t| t.port()) == Some(31999)
                && d.target_health()
                    .and_then(|h| h.state())
                    .map(|s| s.as_str())
                    != Some("draining")
        }),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_rules_go_to_the_nodes_security_groups_and_leave_with_the_binding() {
    let sb = start(SandboxOptions::default()).await;
    let w = sb.world().clone();
    let edge: Api<Service> = Api::namespaced(sb.kube_client(), "edge");
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "edge-np"},
        "spec": {"type": "NodePort", "selector": {"app": "edge-proxy"}, "externalTrafficPolicy": "Cluster",
                 "ports": [{"name": "http", "port": 80, "targetPort": 80}]},
    }))
    .unwrap();
    let svc = edge.create(&PostParams::default(), &svc).await.unwrap();
    let node_port = svc.spec.unwrap().ports.unwrap()[0].node_port.unwrap();
    let tg = sb
        .aws_internal()
        .elb
        .create_target_group()
        .name("rules")
        .protocol(elb::types::ProtocolEnum::Tcp)
        .port(node_port)
        .vpc_id(&w.vpc_id)
        .target_type(elb::types::TargetTypeEnum::Instance)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let tgbs: Api<nlb_sandbox::TargetGroupBinding> = Api::namespaced(sb.kube_client(), "edge");
    let tgb: nlb_sandbox::TargetGroupBinding = serde_json::from_value(json!({
        "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
        "metadata": {"name": "rules"},
        "spec": {"targetGroupARN": tg, "targetType": "instance", "serviceRef": {"name": "edge-np", "port": 80},
                 "networking": {"ingress": [{"from": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
                                             "ports": [{"protocol": "TCP", "port": node_port}]}]}},
    }))
    .unwrap();
    tgbs.create(&PostParams::default(), &tgb).await.unwrap();
    sb.reconcile().await.unwrap();
    let instances = nlb_sandbox::networking::instances(sb.aws_internal())
        .await
        .unwrap();
    let group = instances[0].groups[0].clone();
    let ours = nlb_sandbox::networking::Perm {
        protocol: "tcp".into(),
        port: node_port,
        source: nlb_sandbox::networking::Source::Cidr("198.51.100.0/24".into()),
    };
    let rules = nlb_sandbox::networking::labelled_perms(sb.aws_internal(), &group)
        .await
        .unwrap();
    assert!(rules.contains(&ours), "{rules:?}");
    // The seeded LBC Services' bindings keep theirs; this one's goes with it.
    let others = rules.len() - 1;
    tgbs.delete("rules", &DeleteParams::default())
        .await
        .unwrap();
    sb.reconcile().await.unwrap();
    let rules = nlb_sandbox::networking::labelled_perms(sb.aws_internal(), &group)
        .await
        .unwrap();
    assert!(!rules.contains(&ours), "{rules:?}");
    assert_eq!(rules.len(), others, "{rules:?}");
}

/// The port's listener's default forward: `(TargetGroupArn, weighted groups)`.
/// A plain forward has the first and no ForwardConfig in moto.
async fn forward_of(sb: &Sandbox, lb: &str, port: i32) -> (Option<String>, Vec<(String, i32)>) {
    let out = sb
        .aws_internal()
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .unwrap();
    let l = out
        .listeners()
        .iter()
        .find(|l| l.port() == Some(port))
        .expect("listener");
    let [a] = l.default_actions() else {
        panic!("one default action: {l:?}");
    };
    let groups = a
        .forward_config()
        .map(|f| {
            f.target_groups()
                .iter()
                .map(|t| {
                    (
                        t.target_group_arn().unwrap().to_string(),
                        t.weight().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (a.target_group_arn().map(str::to_string), groups)
}

async fn tg_load_balancers(sb: &Sandbox, tg: &str) -> Vec<String> {
    sb.aws_internal()
        .elb
        .describe_target_groups()
        .target_group_arns(tg)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .load_balancer_arns()
        .to_vec()
}

const ACTIONS_TCP_80: &str = "service.beta.kubernetes.io/actions.TCP-80";

fn forward(base: i32, others: &[(&str, i32)]) -> String {
    let tgs: Vec<_> = others
        .iter()
        .map(|(arn, w)| json!({"targetGroupARN": arn, "weight": w}))
        .collect();
    json!({"type": "forward", "forwardConfig": {"baseServiceWeight": base, "targetGroups": tgs}})
        .to_string()
}

async fn annotate(sb: &Sandbox, value: Option<String>) {
    Api::<Service>::namespaced(sb.kube_client(), "web")
        .patch(
            "frontend",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {ACTIONS_TCP_80: value}}})),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lbc_v2_16_weights_a_listener_by_its_actions_annotation_and_drops_it_with_the_annotation() {
    let sb = start(SandboxOptions {
        lbc_version: Some("v2.16.0".into()),
        ..Default::default()
    })
    .await;
    let w = sb.world().clone();
    let s = w.service("web", "frontend").unwrap();
    let (lb, own) = (s.nlb_arn.clone().unwrap(), s.target_group_arns[0].clone());
    let canary = target_group(&sb, "frontend-canary", elb::types::ProtocolEnum::Tcp).await;
    assert_eq!(forward_of(&sb, &lb, 80).await, (Some(own.clone()), vec![]));

    annotate(&sb, Some(forward(90, &[(&canary, 10)]))).await;
    sb.reconcile().await.unwrap();
    assert_eq!(
        forward_of(&sb, &lb, 80).await.1,
        vec![(own.clone(), 90), (canary.clone(), 10)]
    );
    assert_eq!(tg_load_balancers(&sb, &canary).await, vec![lb.clone()]);

    // New weights reach the listener; a hand-made change is put back.
    annotate(&sb, Some(forward(0, &[(&canary, 100)]))).await;
    sb.reconcile().await.unwrap();
    let want = vec![(own.clone(), 0), (canary.clone(), 100)];
    assert_eq!(forward_of(&sb, &lb, 80).await.1, want);
    let listener = sb.lbc().provisioned().await["web/frontend"].listener_arns[0].clone();
    sb.aws_internal()
        .elb
        .modify_listener()
        .listener_arn(&listener)
        .default_actions(
            elb::types::Action::builder()
                .r#type(elb::types::ActionTypeEnum::Forward)
                .target_group_arn(&own)
                .build(),
        )
        .send()
        .await
        .unwrap();
    sb.reconcile().await.unwrap();
    assert_eq!(forward_of(&sb, &lb, 80).await.1, want);

    // What the controller refuses, and what only AWS refuses (LBC does not
    // range-check baseServiceWeight): the listener keeps its weights.
    for (value, error) in [
        (
            forward(50, &[(&canary, 1000)]),
            "target group weight must be between 0 and 999",
        ),
        (
            json!({"type": "forward", "forwardConfig": {"targetGroups": [
                {"targetGroupARN": &canary, "weight": 1}, {"targetGroupARN": &own}]}})
            .to_string(),
            "weight must be set when routing to multiple target groups",
        ),
        ("{not json".to_string(), "failed to parse json annotation"),
        (forward(1000, &[(&canary, 1)]), "ValidationError"),
    ] {
        annotate(&sb, Some(value.clone())).await;
        let report = sb.reconcile_report().await.unwrap();
        assert!(
            report.errors.iter().any(|e| e.contains(error)),
            "{value}: {report:?}"
        );
        assert_eq!(forward_of(&sb, &lb, 80).await.1, want, "{value}");
    }

    // Without the annotation: a plain forward to the Service's own group.
    annotate(&sb, None).await;
    sb.reconcile().await.unwrap();
    assert_eq!(forward_of(&sb, &lb, 80).await, (Some(own.clone()), vec![]));
    assert!(tg_load_balancers(&sb, &canary).await.is_empty());

    // A new Service: the listener is created weighted; a bad annotation
    // fails the model build before anything is made.
    let web: Api<Service> = Api::namespaced(sb.kube_client(), "web");
    for (name, value) in [
        ("fresh", forward(3, &[(&canary, 1)])),
        ("broken", forward(3, &[(&canary, -1)])),
    ] {
        web.create(
            &PostParams::default(),
            &lbc_service(name, "service.k8s.aws/nlb", json!({ACTIONS_TCP_80: value})),
        )
        .await
        .unwrap();
    }
    let report = sb.reconcile_report().await.unwrap();
    assert_eq!(
        report.provisioned,
        vec!["web/fresh".to_string()],
        "{report:?}"
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("provisioning web/broken: Failed build model")),
        "{report:?}"
    );
    assert!(
        web.get("broken")
            .await
            .unwrap()
            .metadata
            .finalizers
            .is_none()
    );
    let fresh = sb.lbc().provisioned().await["web/fresh"].clone();
    let fresh_own = fresh.target_groups[0].arn.clone();
    assert_eq!(
        forward_of(&sb, &fresh.arn, 80).await.1,
        vec![(fresh_own, 3), (canary.clone(), 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lbc_before_v2_16_ignores_the_actions_annotation_and_the_gate_off_refuses_several_groups() {
    let sb = start(SandboxOptions {
        lbc_version: Some("v2.15.0".into()),
        ..Default::default()
    })
    .await;
    let w = sb.world().clone();
    let s = w.service("web", "frontend").unwrap();
    let (lb, own) = (s.nlb_arn.clone().unwrap(), s.target_group_arns[0].clone());
    let canary = target_group(&sb, "frontend-canary", elb::types::ProtocolEnum::Tcp).await;
    let plain = (Some(own.clone()), vec![]);

    // v2.15 does not know the annotation, valid or not.
    annotate(&sb, Some(forward(90, &[(&canary, 10)]))).await;
    sb.reconcile().await.unwrap();
    assert_eq!(forward_of(&sb, &lb, 80).await, plain);
    annotate(&sb, Some("{not json".into())).await;
    sb.reconcile().await.unwrap();

    // v2.16 with WeightedTargetGroups=false: the annotation is read, one
    // target group goes out plain, several fail the deploy.
    let deps: Api<Deployment> = Api::namespaced(sb.kube_client(), "kube-system");
    let mut dep = deps.get("aws-load-balancer-controller").await.unwrap();
    let c = &mut dep
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0];
    c.image = Some("public.ecr.aws/eks/aws-load-balancer-controller:v2.16.0".into());
    c.args
        .get_or_insert_with(Vec::new)
        .push("--feature-gates=WeightedTargetGroups=false".into());
    deps.replace("aws-load-balancer-controller", &PostParams::default(), &dep)
        .await
        .unwrap();
    let report = sb.reconcile_report().await.unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("failed to parse json annotation")),
        "v2.16 reads it: {report:?}"
    );
    annotate(&sb, Some(forward(90, &[(&canary, 10)]))).await;
    let report = sb.reconcile_report().await.unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("weighted target groups feature is disabled")),
        "{report:?}"
    );
    assert_eq!(forward_of(&sb, &lb, 80).await, plain);
    annotate(&sb, Some(forward(90, &[]))).await;
    sb.reconcile().await.unwrap();
    assert_eq!(forward_of(&sb, &lb, 80).await, plain);
}

const TG_ATTRIBUTES: &str = "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes";

/// web/frontend's target-group-attributes annotation (`None` removes it).
async fn frontend_attributes(sb: &Sandbox, value: Option<&str>) {
    Api::<Service>::namespaced(sb.kube_client(), "web")
        .patch(
            "frontend",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {TG_ATTRIBUTES: value}}})),
        )
        .await
        .unwrap();
}

/// One attribute of a target group, as AWS reports it.
async fn tg_attribute(sb: &Sandbox, tg: &str, key: &str) -> Option<String> {
    sb.aws_internal()
        .elb
        .describe_target_group_attributes()
        .target_group_arn(tg)
        .send()
        .await
        .unwrap()
        .attributes()
        .iter()
        .find(|a| a.key() == Some(key))
        .and_then(|a| a.value().map(str::to_string))
}

async fn set_tg_attribute(sb: &Sandbox, tg: &str, key: &str, value: &str) {
    sb.aws_internal()
        .elb
        .modify_target_group_attributes()
        .target_group_arn(tg)
        .attributes(
            elb::types::TargetGroupAttribute::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The `spec.networking` of the binding of target group `tg` in `ns`.
async fn binding_networking(sb: &Sandbox, ns: &str, tg: &str) -> serde_json::Value {
    Api::<nlb_sandbox::TargetGroupBinding>::namespaced(sb.kube_client(), ns)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|t| t.spec.target_group_arn.as_deref() == Some(tg))
        .and_then(|t| t.spec.networking)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lbc_reconciles_target_group_attributes_and_the_legacy_rules_on_every_pass() {
    // No NLB security group: the bindings carry the legacy rules, which
    // depend on preserve_client_ip. The background passes are the
    // incremental ones (they trust the attributes they last saw).
    let sb = start(SandboxOptions {
        lbc_args: vec!["--feature-gates=NLBSecurityGroup=false".into()],
        lbc_background: true,
        ..Default::default()
    })
    .await;
    let w = sb.world().clone();
    let tg = w.service("web", "frontend").unwrap().target_group_arns[0].clone();
    let subnets: Vec<serde_json::Value> = w
        .subnets
        .iter()
        .map(|s| json!({"ipBlock": {"cidr": s.cidr}}))
        .collect();
    let traffic = |from: serde_json::Value| json!({"from": from, "ports": [{"protocol": "TCP", "port": 8080}]});
    let preserved = json!({"ingress": [
        traffic(json!([{"ipBlock": {"cidr": "0.0.0.0/0"}}])),
        traffic(json!(subnets)),
    ]});
    let not_preserved = json!({"ingress": [traffic(json!(subnets))]});
    assert_eq!(
        tg_attribute(&sb, &tg, "preserve_client_ip.enabled")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(binding_networking(&sb, "web", &tg).await, preserved);
    let group = nlb_sandbox::networking::instances(sb.aws_internal())
        .await
        .unwrap()[0]
        .groups[0]
        .clone();
    let anyone = nlb_sandbox::networking::Perm {
        protocol: "tcp".into(),
        port: 8080,
        source: nlb_sandbox::networking::Source::Cidr("0.0.0.0/0".into()),
    };
    let rules = nlb_sandbox::networking::labelled_perms(sb.aws_internal(), &group)
        .await
        .unwrap();
    assert!(rules.contains(&anyone), "{rules:?}");

    // preserve_client_ip off: AWS, the binding and the node rules follow.
    frontend_attributes(&sb, Some("preserve_client_ip.enabled=false")).await;
    eventually("AWS shows preserve_client_ip.enabled=false", || async {
        tg_attribute(&sb, &tg, "preserve_client_ip.enabled")
            .await
            .as_deref()
            == Some("false")
    })
    .await;
    eventually("the binding has the NLB-subnets rule only", || async {
        binding_networking(&sb, "web", &tg).await == not_preserved
    })
    .await;
    eventually("the node no longer admits anyone on 8080", || async {
        let rules = nlb_sandbox::networking::labelled_perms(sb.aws_internal(), &group)
            .await
            .unwrap();
        !rules.contains(&anyone)
    })
    .await;
    sb.reconcile().await.unwrap();
    assert_eq!(binding_networking(&sb, "web", &tg).await, not_preserved);

    // A key taken out of the annotation is left as AWS has it
    // (target_group_attributes_reconciler.go:44 drops the removals); the
    // rules follow the target type's default, off for ip targets.
    frontend_attributes(&sb, None).await;
    sb.reconcile().await.unwrap();
    assert_eq!(
        tg_attribute(&sb, &tg, "preserve_client_ip.enabled")
            .await
            .as_deref(),
        Some("false"),
        "not reset to a default"
    );
    assert_eq!(binding_networking(&sb, "web", &tg).await, not_preserved);

    // The model always carries proxy_protocol_v2.enabled=false: a full pass
    // puts back a hand-made change of it.
    set_tg_attribute(&sb, &tg, "proxy_protocol_v2.enabled", "true").await;
    sb.reconcile().await.unwrap();
    assert_eq!(
        tg_attribute(&sb, &tg, "proxy_protocol_v2.enabled")
            .await
            .as_deref(),
        Some("false")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_backend_security_group_the_attributes_change_and_the_binding_rule_does_not() {
    let sb = start(SandboxOptions::default()).await;
    let tg = sb
        .world()
        .service("web", "frontend")
        .unwrap()
        .target_group_arns[0]
        .clone();
    let before = binding_networking(&sb, "web", &tg).await;
    assert!(
        before
            .pointer("/ingress/0/from/0/securityGroup/groupID")
            .is_some(),
        "{before}"
    );
    frontend_attributes(&sb, Some("preserve_client_ip.enabled=false")).await;
    sb.reconcile().await.unwrap();
    assert_eq!(
        tg_attribute(&sb, &tg, "preserve_client_ip.enabled")
            .await
            .as_deref(),
        Some("false")
    );
    assert_eq!(binding_networking(&sb, "web", &tg).await, before);
    // Back on, with a second key: only what differs is sent.
    frontend_attributes(
        &sb,
        Some("preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=10"),
    )
    .await;
    sb.reconcile().await.unwrap();
    assert_eq!(
        tg_attribute(&sb, &tg, "preserve_client_ip.enabled")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        tg_attribute(&sb, &tg, "deregistration_delay.timeout_seconds")
            .await
            .as_deref(),
        Some("10")
    );
}
