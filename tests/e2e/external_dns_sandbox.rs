//! Self-tests of the external-dns stand-in (`tests/sandbox/src/external_dns.rs`
//! and `external_dns_plan.rs`, where each behaviour cites external-dns's
//! source): the Service source, the TXT registry's names and labels, the
//! planner's ownership and policies, the AWS provider's batches, and the
//! Deployment the tool detects.

use aws_sdk_route53::types::ResourceRecordSet;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use nlb_sandbox::{ExternalDnsOptions, Sandbox, SandboxOptions, SyncReport};
use serde_json::{Value, json};

const NEW: &str = "external-dns.kubernetes.io/";
const ALPHA: &str = "external-dns.alpha.kubernetes.io/";

async fn start(edns: ExternalDnsOptions) -> Sandbox {
    Sandbox::start(SandboxOptions {
        external_dns: Some(edns),
        ..Default::default()
    })
    .await
    .expect("sandbox starts")
}

fn version(v: &str) -> ExternalDnsOptions {
    ExternalDnsOptions {
        version: v.into(),
        ..Default::default()
    }
}

/// Merge-patches the annotations of `web/frontend` (`null` removes one).
async fn annotate(sb: &Sandbox, annotations: Value) {
    Api::<Service>::namespaced(sb.fake_client(), "web")
        .patch(
            "frontend",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": annotations}})),
        )
        .await
        .expect("annotate");
}

async fn sync(sb: &Sandbox) -> SyncReport {
    let report = sb.external_dns_sync().await.expect("pass");
    assert!(report.errors.is_empty(), "{report:?}");
    report
}

/// The zone's records named `name` (with or without the trailing dot).
async fn records(sb: &Sandbox, name: &str) -> Vec<ResourceRecordSet> {
    let want = format!("{}.", name.trim_end_matches('.'));
    let out = sb
        .aws_internal()
        .r53
        .list_resource_record_sets()
        .hosted_zone_id(&sb.world().hosted_zone_id)
        .send()
        .await
        .expect("list records");
    out.resource_record_sets()
        .iter()
        .filter(|r| r.name() == want)
        .cloned()
        .collect()
}

fn types(rs: &[ResourceRecordSet]) -> Vec<String> {
    let mut t: Vec<String> = rs.iter().map(|r| r.r#type().as_str().to_string()).collect();
    t.sort();
    t
}

fn txt_value(rs: &[ResourceRecordSet]) -> String {
    rs[0].resource_records()[0].value().to_string()
}

#[tokio::test]
async fn a_hostname_annotation_gets_alias_records_and_their_txt() {
    let sb = start(version("v0.22.0")).await;
    annotate(&sb, json!({format!("{NEW}hostname"): "app.example.com"})).await;
    let first = sync(&sb).await;
    assert_eq!(first.batches.len(), 1, "{first:?}");

    let app = records(&sb, "app.example.com").await;
    assert_eq!(types(&app), ["A", "AAAA"], "an alias pair from v0.16.0");
    let lb = sb
        .world()
        .service("web", "frontend")
        .unwrap()
        .dns_name
        .clone()
        .unwrap();
    let alias = app[0].alias_target().expect("alias");
    assert_eq!(
        alias.dns_name().trim_end_matches('.'),
        lb.to_ascii_lowercase()
    );
    assert!(alias.evaluate_target_health());
    let txt = records(&sb, "a-app.example.com").await;
    assert_eq!(
        txt_value(&txt),
        "\"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/web/frontend\""
    );
    assert_eq!(records(&sb, "aaaa-app.example.com").await.len(), 1);
    assert!(records(&sb, "cname-app.example.com").await.is_empty());
    assert!(
        records(&sb, "app.example.com")
            .await
            .iter()
            .all(|r| r.r#type().as_str() != "TXT")
    );

    assert!(
        sync(&sb).await.batches.is_empty(),
        "nothing to do the second time"
    );

    // Sync: the record goes with the annotation.
    annotate(&sb, json!({format!("{NEW}hostname"): null})).await;
    sync(&sb).await;
    assert!(records(&sb, "app.example.com").await.is_empty());
    assert!(records(&sb, "a-app.example.com").await.is_empty());
}

#[tokio::test]
async fn a_set_identifier_replaces_the_simple_records_in_one_accepted_batch() {
    let sb = start(version("v0.22.0")).await;
    annotate(&sb, json!({format!("{NEW}hostname"): "app.example.com"})).await;
    sync(&sb).await;
    annotate(
        &sb,
        json!({format!("{NEW}set-identifier"): "blue", format!("{NEW}aws-weight"): "100"}),
    )
    .await;
    let report = sync(&sb).await;
    assert_eq!(report.batches.len(), 1, "{report:?}");
    // DELETE before CREATE (sortChangesByActionNameType), so Route 53,
    // which refuses simple and weighted sets of one name together, accepts it.
    let batch = &report.batches[0];
    let first_create = batch.iter().position(|c| c.starts_with("CREATE")).unwrap();
    assert!(
        batch[..first_create]
            .iter()
            .all(|c| c.starts_with("DELETE")),
        "{batch:?}"
    );
    assert!(
        batch.contains(&"CREATE app.example.com A [blue]".to_string()),
        "{batch:?}"
    );

    let app = records(&sb, "app.example.com").await;
    assert_eq!(app.len(), 2, "A and AAAA, weighted");
    assert!(
        app.iter()
            .all(|r| r.set_identifier() == Some("blue") && r.weight() == Some(100))
    );
    let txt = records(&sb, "a-app.example.com").await;
    assert_eq!(txt.len(), 1);
    assert_eq!(
        txt[0].set_identifier(),
        Some("blue"),
        "the TXT carries the set identifier"
    );

    // A new weight is an UPSERT of the record and its TXT.
    annotate(&sb, json!({format!("{NEW}aws-weight"): "0"})).await;
    let report = sync(&sb).await;
    assert!(
        report.batches[0].iter().all(|c| c.starts_with("UPSERT")),
        "{report:?}"
    );
    assert!(
        records(&sb, "app.example.com")
            .await
            .iter()
            .all(|r| r.weight() == Some(0))
    );
}

#[tokio::test]
async fn records_the_owner_does_not_hold_are_left_alone() {
    let sb = start(ExternalDnsOptions {
        txt_owner_id: Some("blue-cluster".into()),
        ..version("v0.22.0")
    })
    .await;
    // The seeded `www` alias has no TXT; `app` is another owner's.
    annotate(&sb, json!({format!("{NEW}hostname"): "app.example.com"})).await;
    sync(&sb).await;
    // Hand the records to another owner by rewriting the TXT values.
    for name in ["a-app.example.com", "aaaa-app.example.com"] {
        let txt = records(&sb, name).await;
        let theirs = txt_value(&txt).replace("owner=blue-cluster", "owner=green-cluster");
        rewrite_txt(&sb, &txt[0], &theirs).await;
    }
    annotate(
        &sb,
        json!({format!("{NEW}hostname"): "www.example.com,app.example.com"}),
    )
    .await;
    let www_before = records(&sb, "www.example.com").await;
    let report = sync(&sb).await;
    assert!(report.batches.is_empty(), "{report:?}");
    assert_eq!(records(&sb, "www.example.com").await, www_before);
    annotate(&sb, json!({format!("{NEW}hostname"): null})).await;
    assert!(sync(&sb).await.batches.is_empty(), "not ours to delete");
    assert_eq!(records(&sb, "app.example.com").await.len(), 2);
}

async fn rewrite_txt(sb: &Sandbox, old: &ResourceRecordSet, value: &str) {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord};
    let new = ResourceRecordSet::builder()
        .name(old.name())
        .r#type(old.r#type().clone())
        .ttl(old.ttl().unwrap_or(300))
        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
        .build()
        .unwrap();
    let change = |a, r: &ResourceRecordSet| {
        Change::builder()
            .action(a)
            .resource_record_set(r.clone())
            .build()
            .unwrap()
    };
    sb.aws_internal()
        .r53
        .change_resource_record_sets()
        .hosted_zone_id(&sb.world().hosted_zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(change(ChangeAction::Delete, old))
                .changes(change(ChangeAction::Create, &new))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("rewrite TXT");
}

#[tokio::test]
async fn upsert_only_keeps_a_record_whose_service_let_go() {
    let sb = start(ExternalDnsOptions {
        policy: Some("upsert-only".into()),
        ..version("v0.22.0")
    })
    .await;
    annotate(&sb, json!({format!("{NEW}hostname"): "app.example.com"})).await;
    sync(&sb).await;
    annotate(&sb, json!({format!("{NEW}hostname"): null})).await;
    assert!(sync(&sb).await.batches.is_empty());
    assert_eq!(records(&sb, "app.example.com").await.len(), 2);
}

#[tokio::test]
async fn each_version_reads_only_its_own_annotation_prefix_and_writes_its_own_txt_names() {
    let sb = start(version("v0.15.0")).await;
    annotate(
        &sb,
        json!({format!("{ALPHA}hostname"): "old.example.com", format!("{NEW}hostname"): "new.example.com"}),
    )
    .await;
    sync(&sb).await;
    // v0.15.0: the alias A only, TXT in the old and the cname- format.
    assert_eq!(types(&records(&sb, "old.example.com").await), ["A", "TXT"]);
    assert_eq!(records(&sb, "cname-old.example.com").await.len(), 1);
    assert!(records(&sb, "new.example.com").await.is_empty());

    // Upgraded to v0.22.0: only the new prefix is read; `old` is still ours
    // (cname- fallback) and its deletion asks for an a- TXT that does not
    // exist, so that name's batch fails while `new` goes through.
    Api::<Deployment>::namespaced(sb.fake_client(), "kube-system")
        .patch(
            "external-dns",
            &PatchParams::default(),
            &Patch::Json::<()>(
                serde_json::from_value(json!([{"op": "replace",
                    "path": "/spec/template/spec/containers/0/image",
                    "value": "registry.k8s.io/external-dns/external-dns:v0.22.0"}]))
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    let report = sb.external_dns_sync().await.unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("a-old.example.com")),
        "{report:?}"
    );
    assert_eq!(types(&records(&sb, "new.example.com").await), ["A", "AAAA"]);
    assert_eq!(records(&sb, "a-new.example.com").await.len(), 1);
    assert_eq!(types(&records(&sb, "old.example.com").await), ["A", "TXT"]);
}

#[tokio::test]
async fn without_a_policy_v0_22_does_not_start() {
    let sb = start(ExternalDnsOptions {
        policy: None,
        ..version("v0.22.0")
    })
    .await;
    annotate(&sb, json!({format!("{NEW}hostname"): "app.example.com"})).await;
    let report = sb.external_dns_sync().await.unwrap();
    assert_eq!(report.errors, ["unknown policy: "]);
    assert!(records(&sb, "app.example.com").await.is_empty());
}

#[tokio::test]
async fn the_tool_detects_the_deployment_and_its_flags() {
    let sb = start(ExternalDnsOptions {
        txt_owner_id: Some("prod".into()),
        txt_prefix: Some("edns-".into()),
        domain_filters: vec!["example.com".into()],
        ..version("v0.15.0")
    })
    .await;
    let env = crate::util::Env::of(&sb);
    let run = crate::util::run(&env, &["audit", "-A", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let installs = &run.json()["cluster"]["externalDns"]["installations"];
    let i = &installs[0];
    assert_eq!(i["version"], "v0.15.0", "{installs}");
    assert_eq!(i["namespace"], "kube-system");
    assert_eq!(i["ownerId"], "prod");
    assert_eq!(i["txtPrefix"], "edns-");
    assert_eq!(i["policy"], "sync");
    assert_eq!(i["sources"], json!(["service"]));
    assert_eq!(i["domainFilters"], json!(["example.com"]));
    assert_eq!(i["annotationPrefix"], ALPHA);

    // The TXT the stand-in writes is the one the tool reads.
    annotate(&sb, json!({format!("{ALPHA}hostname"): "app.example.com"})).await;
    sync(&sb).await;
    assert_eq!(records(&sb, "edns-cname-app.example.com").await.len(), 1);
    assert_eq!(records(&sb, "edns-app.example.com").await.len(), 1);
}
