//! `kubectl nlb audit` against the seeded sandbox world.

use crate::util::{kubectl_nlb, shared};
use serde_json::Value;

fn audit_all() -> Value {
    let run = kubectl_nlb(shared(), &["audit", "-A", "-o", "json"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    run.json()
}

fn service<'a>(report: &'a Value, ns: &str, name: &str) -> &'a Value {
    report["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["namespace"] == ns && s["name"] == name)
        .unwrap_or_else(|| panic!("{ns}/{name} missing from {report:#}"))
}

fn codes(svc: &Value) -> Vec<String> {
    let mut codes: Vec<String> = svc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect();
    codes.sort();
    codes
}

#[test]
fn the_report_lists_every_load_balancer_service_sorted() {
    let report = audit_all();
    assert_eq!(report["kind"], "AuditReport");
    assert_eq!(report["apiVersion"], "nlb.kubectl.io/v1alpha1");
    let names: Vec<String> = report["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["namespace"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "default/classic",
            "default/other-class",
            "shop/checkout",
            "shop/legacy-api",
            "shop/payments",
            "web/frontend",
            "web/static-eip",
        ]
    );
    assert_eq!(report["summary"]["services"], 7);
    assert_eq!(report["summary"]["byOwner"]["in-tree-nlb"], 3);
    assert_eq!(report["summary"]["byOwner"]["lbc"], 2);
}

#[test]
fn cluster_add_ons_are_detected_with_versions() {
    let report = audit_all();
    let lbc = &report["cluster"]["loadBalancerController"];
    assert_eq!(lbc["status"], "found");
    assert_eq!(lbc["namespace"], "kube-system");
    assert_eq!(lbc["name"], "aws-load-balancer-controller");
    assert_eq!(lbc["version"], "v2.13.3");
    assert_eq!(lbc["versionSource"], "image");
    assert_eq!(report["cluster"]["vpcCni"]["version"], "v1.19.2");
    assert_eq!(report["cluster"]["context"], "sandbox");
    assert_eq!(report["cluster"]["region"], "us-west-2");
    assert_eq!(
        report["cluster"]["hostedZones"],
        serde_json::json!(["example.com"])
    );
    // A healthy, current cluster has nothing to say about itself.
    assert_eq!(report["findings"], serde_json::json!([]));
}

#[test]
fn a_legacy_local_service_with_uneven_pods() {
    let report = audit_all();
    let s = service(&report, "shop", "checkout");
    assert_eq!(s["owner"], "in-tree-nlb");
    assert_eq!(s["targetType"], "instance");
    assert_eq!(s["scheme"], "internet-facing");
    assert_eq!(s["externalTrafficPolicy"], "Local");
    assert_eq!(s["clientIp"], "client");
    assert_eq!(s["loadBalancer"]["state"], "active");
    let tgs = s["targetGroups"].as_array().expect("tgs");
    assert_eq!(tgs.len(), 1);
    assert_eq!(tgs[0]["targetType"], "instance");
    // The node without a pod fails kube-proxy's NodePort health check.
    assert_eq!(tgs[0]["targets"]["healthy"], 2, "{s:#}");
    assert_eq!(tgs[0]["targets"]["unhealthy"], 1, "{s:#}");
    assert_eq!(s["dnsRecords"][0]["name"], "checkout.example.com");
    assert_eq!(s["dnsRecords"][0]["type"], "A");
    assert_eq!(s["dnsRecords"][0]["alias"], true);
    assert_eq!(
        codes(s),
        vec![
            "legacy-in-tree-nlb",
            "local-nodes-without-pods",
            "uneven-local-pods"
        ]
    );
}

#[test]
fn a_legacy_internal_service_behind_a_cname() {
    let report = audit_all();
    let s = service(&report, "shop", "legacy-api");
    assert_eq!(s["owner"], "in-tree-nlb");
    assert_eq!(s["scheme"], "internal");
    // externalTrafficPolicy: Cluster: kube-proxy SNATs to the node's address.
    assert_eq!(s["clientIp"], "node-ip");
    assert_eq!(s["dnsRecords"][0]["name"], "api.example.com");
    assert_eq!(s["dnsRecords"][0]["type"], "CNAME");
    assert_eq!(codes(s), vec!["legacy-in-tree-nlb"]);
}

#[test]
fn a_legacy_service_with_elastic_ips_cannot_move_by_dns() {
    let report = audit_all();
    let s = service(&report, "web", "static-eip");
    assert_eq!(s["owner"], "in-tree-nlb");
    assert_eq!(
        codes(s),
        vec!["legacy-in-tree-nlb", "no-dns-record", "static-addresses"]
    );
}

#[test]
fn an_lbc_ip_service_in_a_namespace_without_readiness_gates() {
    let report = audit_all();
    let s = service(&report, "shop", "payments");
    assert_eq!(s["owner"], "lbc");
    assert_eq!(s["ownerDetail"], "annotation");
    assert_eq!(s["targetType"], "ip");
    assert_eq!(s["scheme"], "internal");
    assert_eq!(s["clientIp"], "nlb-ip");
    assert_eq!(s["targetGroups"][0]["proxyProtocolV2"], true);
    assert_eq!(s["targetGroups"][0]["targets"]["healthy"], 2, "{s:#}");
    // No Route 53 record (and, when moto made it, a PrivateLink endpoint
    // service): only a cutover on the same NLB keeps its clients.
    let mut expected = vec![
        "client-ip-implicit",
        "ignored-annotation",
        "listener-cutover-only",
        "no-dns-record",
        "readiness-gate-missing",
    ];
    if !s["loadBalancer"]["endpointServices"]
        .as_array()
        .expect("endpoint services")
        .is_empty()
    {
        expected.push("privatelink");
        expected.sort();
    }
    assert_eq!(codes(s), expected);
}

#[test]
fn a_well_configured_lbc_service_has_no_findings() {
    let report = audit_all();
    let s = service(&report, "web", "frontend");
    assert_eq!(s["owner"], "lbc");
    assert_eq!(s["ownerDetail"], "loadBalancerClass");
    assert_eq!(s["targetType"], "ip");
    assert_eq!(s["scheme"], "internet-facing");
    assert_eq!(s["targetGroups"][0]["preserveClientIp"], true);
    assert_eq!(s["clientIp"], "client");
    assert_eq!(s["targetGroups"][0]["targets"]["healthy"], 3, "{s:#}");
    assert_eq!(s["dnsRecords"][0]["name"], "www.example.com");
    assert_eq!(codes(s), Vec::<String>::new());
}

#[test]
fn other_classes_and_classic_elbs_are_named() {
    let report = audit_all();
    assert_eq!(
        codes(service(&report, "default", "classic")),
        vec!["classic-elb"]
    );
    let other = service(&report, "default", "other-class");
    assert_eq!(other["owner"], "other-class");
    assert_eq!(other["ownerDetail"], "example.com/other");
    assert_eq!(codes(other), vec!["other-class"]);
}

#[test]
fn the_default_table_is_narrow_and_wide_has_every_column() {
    // qa D-C4: the only table was ~190 columns wide with the seeded names.
    let narrow = kubectl_nlb(shared(), &["audit", "-A"]);
    assert_eq!(narrow.code, 0, "{}", narrow.stderr);
    let header = narrow
        .stdout
        .lines()
        .find(|l| l.starts_with("NAMESPACE"))
        .expect("table header");
    for gone in ["SCHEME", "STATE", "CLIENT IP"] {
        assert!(!header.contains(gone), "{header}");
    }
    let rows: Vec<&str> = narrow
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("NAMESPACE"))
        .take_while(|l| !l.is_empty())
        .collect();
    let widest = rows.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 150, "{widest} columns:\n{}", rows.join("\n"));
    let wide = kubectl_nlb(shared(), &["audit", "-A", "-o", "wide"]);
    assert!(wide.stdout.contains("CLIENT IP"), "{}", wide.stdout);
}

#[test]
fn the_table_shows_one_row_per_service_and_every_finding_with_its_fix() {
    let run = kubectl_nlb(shared(), &["audit", "-A", "-o", "wide"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("AWS Load Balancer Controller: v2.13.3 (kube-system/aws-load-balancer-controller, version from the image)"), "{out}");
    let header = out
        .lines()
        .find(|l| l.starts_with("NAMESPACE"))
        .expect("table header");
    for column in [
        "OWNER",
        "TARGETS",
        "SCHEME",
        "LOAD BALANCER",
        "HEALTHY",
        "CLIENT IP",
        "DNS",
        "FINDINGS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = out
        .lines()
        .find(|l| l.starts_with("shop ") && l.contains("checkout"))
        .expect("checkout row");
    assert!(row.contains("in-tree-nlb"), "{row}");
    assert!(row.contains("2/3"), "{row}");
    assert!(row.contains("checkout.example.com (A)"), "{row}");
    assert!(
        out.contains("[warning] shop/checkout uneven-local-pods"),
        "{out}"
    );
    assert!(
        out.contains(
            "fix: kubectl label namespace shop elbv2.k8s.aws/pod-readiness-gate-inject=enabled"
        ),
        "{out}"
    );
    // No colour codes when stdout is not a terminal.
    assert!(!out.contains('\x1b'), "{out}");
    let forced = kubectl_nlb(shared(), &["audit", "-A", "--color", "always"]);
    assert!(
        forced.stdout.contains("\x1b[33m[warning]\x1b[0m"),
        "{}",
        forced.stdout
    );
}

#[test]
fn yaml_and_json_carry_the_same_report() {
    let json = audit_all();
    let run = kubectl_nlb(shared(), &["audit", "-A", "-o", "yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let yaml: Value = serde_yaml::from_str(&run.stdout).expect("yaml");
    assert_eq!(yaml, json);
}

#[test]
fn one_namespace_at_a_time() {
    let run = kubectl_nlb(shared(), &["audit", "-n", "web", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["services"], 2);
    let empty = kubectl_nlb(shared(), &["audit", "-n", "edge"]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(
        empty
            .stderr
            .contains("No Services of type LoadBalancer found in namespace edge."),
        "{}",
        empty.stderr
    );
}

#[test]
fn a_zone_can_be_named_by_name() {
    let run = kubectl_nlb(
        shared(),
        &["audit", "-n", "web", "--zone", "example.com", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        service(&report, "web", "frontend")["dnsRecords"][0]["name"],
        "www.example.com"
    );
}

mod private {
    //! Tests that change the world get a sandbox of their own.
    use super::{codes, service};
    use crate::util::{Env, kubectl_nlb};
    use nlb_sandbox::{Sandbox, SandboxOptions};
    use serde_json::Value;

    async fn audit_json(env: Env, args: &'static [&'static str]) -> serde_json::Value {
        let run = tokio::task::spawn_blocking(move || kubectl_nlb(&env, args))
            .await
            .expect("join");
        assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
        run.json()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_old_controller_and_no_cni_are_cluster_findings() {
        let sandbox = Sandbox::start(SandboxOptions {
            lbc_version: Some("v2.3.0".into()),
            vpc_cni: false,
            ..Default::default()
        })
        .await
        .expect("sandbox");
        let report = audit_json(Env::of(&sandbox), &["audit", "-A", "-o", "json"]).await;
        let cluster: Vec<(&str, &str)> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    f["severity"].as_str().unwrap_or(""),
                    f["code"].as_str().unwrap_or(""),
                )
            })
            .collect();
        // web/frontend uses spec.loadBalancerClass, which v2.3 ignores.
        assert_eq!(
            cluster,
            vec![
                ("critical", "lbc-no-class-support"),
                ("warning", "vpc-cni-missing")
            ]
        );
        assert!(
            codes(service(&report, "web", "frontend")).contains(&"class-unsupported".to_string())
        );
        assert_eq!(report["cluster"]["vpcCni"]["status"], "missing");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_controller_at_all_is_critical() {
        let sandbox = Sandbox::start(SandboxOptions {
            lbc_version: None,
            ..Default::default()
        })
        .await
        .expect("sandbox");
        let report = audit_json(Env::of(&sandbox), &["audit", "-A", "-o", "json"]).await;
        assert_eq!(
            report["cluster"]["loadBalancerController"]["status"],
            "missing"
        );
        assert_eq!(report["findings"][0]["code"], "lbc-missing");
        assert_eq!(report["findings"][0]["severity"], "critical");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unhealthy_targets_are_reported_as_aws_sees_them() {
        let sandbox = Sandbox::start(SandboxOptions::default())
            .await
            .expect("sandbox");
        let frontend = sandbox
            .world()
            .service("web", "frontend")
            .expect("frontend")
            .clone();
        let pod_ip = frontend.pod_ips.first().expect("a pod ip").clone();
        sandbox
            .set_target_health(&pod_ip, "unhealthy", "Target.FailedHealthChecks")
            .await
            .expect("override");
        let report = audit_json(Env::of(&sandbox), &["audit", "-n", "web", "-o", "json"]).await;
        let s = service(&report, "web", "frontend");
        assert_eq!(s["targetGroups"][0]["targets"]["healthy"], 2, "{s:#}");
        assert_eq!(s["targetGroups"][0]["targets"]["unhealthy"], 1, "{s:#}");
        let f = s["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == "targets-not-healthy")
            .expect("finding");
        assert_eq!(f["severity"], "warning");
        assert!(
            f["message"]
                .as_str()
                .unwrap_or("")
                .contains("2/3 healthy (1 unhealthy)"),
            "{f}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_grow_with_kinds_and_target_groups_not_services() {
        let sandbox = Sandbox::start(SandboxOptions::default())
            .await
            .expect("sandbox");
        sandbox.reset_kube_requests();
        sandbox.reset_aws_requests().await.expect("reset");
        audit_json(Env::of(&sandbox), &["audit", "-A", "-o", "json"]).await;
        // namespaces, services, deployments (LBC), daemonset (CNI), pods (for
        // the one namespace with a Local Service).
        assert_eq!(
            sandbox.kube_requests(),
            5,
            "{:?}",
            sandbox.kube_request_counts()
        );
        let aws = sandbox.aws_requests().await.expect("counts");
        let count = |action: &str| -> u64 {
            aws.iter()
                .filter(|(_, a, _)| a == action)
                .map(|(_, _, n)| *n)
                .sum()
        };
        assert_eq!(count("DescribeLoadBalancers"), 1, "{aws:?}");
        assert_eq!(count("DescribeTargetGroups"), 1, "{aws:?}");
        // One per target group of the 5 provisioned NLB Services: the API has no batch form.
        assert_eq!(count("DescribeTargetGroupAttributes"), 5, "{aws:?}");
        assert_eq!(count("DescribeTargetHealth"), 5, "{aws:?}");
        assert_eq!(
            count("DescribeVpcEndpointServiceConfigurations"),
            1,
            "{aws:?}"
        );

        // --shallow: AWS calls no longer grow with the number of target groups.
        sandbox.reset_aws_requests().await.expect("reset");
        let shallow = audit_json(
            Env::of(&sandbox),
            &["audit", "-A", "--shallow", "-o", "json"],
        )
        .await;
        assert_eq!(shallow["targetDetails"], false);
        let frontend = service(&shallow, "web", "frontend");
        assert_eq!(frontend["targetGroups"][0]["targets"], Value::Null);
        // Without the live attribute, the declared one decides what pods see.
        assert_eq!(frontend["clientIp"], "client");
        let aws = sandbox.aws_requests().await.expect("counts");
        let per_group: u64 = aws
            .iter()
            .filter(|(_, a, _)| a == "DescribeTargetGroupAttributes" || a == "DescribeTargetHealth")
            .map(|(_, _, n)| *n)
            .sum();
        assert_eq!(per_group, 0, "{aws:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_external_dns_owns_are_marked_with_the_object_that_owns_them() {
    // Issue 14 (audit): for each record, whether external-dns owns it and
    // through which object, read from its TXT registry with the install's
    // own --txt-prefix.
    use aws_sdk_route53::types::RrType;
    use k8s_openapi::api::apps::v1::Deployment;
    let (sb, env) = crate::switching::sandbox().await;
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "external-dns", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"app": "edns"}},
            "template": {
                "metadata": {"labels": {"app": "edns"}},
                "spec": {"containers": [{
                    "name": "external-dns",
                    "image": "registry.k8s.io/external-dns/external-dns:v0.22.0",
                    "args": ["--source=service", "--provider=aws", "--policy=sync",
                             "--txt-owner-id=prod", "--txt-prefix=edns-"],
                }]},
            },
        },
    }))
    .expect("deployment");
    kube::Api::<Deployment>::namespaced(sb.kube_client(), "kube-system")
        .create(&Default::default(), &deployment)
        .await
        .expect("create deployment");
    let zone = sb.world().hosted_zone_id.clone();
    let owned = "\"heritage=external-dns,external-dns/owner=prod,external-dns/resource=service/web/frontend\"";
    // The registry's TXT for www under this prefix, and one for checkout
    // without it: that one is not this installation's naming.
    crate::switching::create_record(
        &sb,
        &zone,
        "edns-a-www.example.com",
        RrType::Txt,
        300,
        owned,
    )
    .await;
    crate::switching::create_record(
        &sb,
        &zone,
        "a-checkout.example.com",
        RrType::Txt,
        300,
        owned,
    )
    .await;

    let json = crate::util::run(&env, &["audit", "-A", "-o", "json"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let report = json.json();
    let installs = &report["cluster"]["externalDns"]["installations"];
    assert_eq!(installs[0]["ownerId"], "prod", "{installs}");
    assert_eq!(installs[0]["txtPrefix"], "edns-");
    assert_eq!(installs[0]["version"], "v0.22.0");
    assert_eq!(
        installs[0]["annotationPrefix"],
        "external-dns.kubernetes.io/"
    );
    let www = &service(&report, "web", "frontend")["dnsRecords"][0];
    assert_eq!(www["externalDns"]["ownerId"], "prod", "{www}");
    assert_eq!(www["externalDns"]["resource"], "service/web/frontend");
    assert_eq!(www["externalDns"]["txtRecord"], "edns-a-www.example.com");
    assert!(
        codes(service(&report, "web", "frontend"))
            .contains(&"record-owned-by-external-dns".to_string())
    );
    let checkout = &service(&report, "shop", "checkout")["dnsRecords"][0];
    assert!(checkout.get("externalDns").is_none(), "{checkout}");

    let table = crate::util::run(&env, &["audit", "-A", "-o", "wide"]).await;
    assert!(
        table.stdout.contains("external-dns: v0.22.0 (kube-system/external-dns, owner prod, policy sync, sources service)"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("www.example.com (A, external-dns)"),
        "{}",
        table.stdout
    );
}
