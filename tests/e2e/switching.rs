//! What the cutover and migrate tests both read from the sandbox: records,
//! load balancers, Services, target groups, and the inventory that proves a
//! refused command changed nothing.

use crate::util::Env;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, ListParams};
use nlb_sandbox::{Sandbox, SandboxOptions};
use std::time::Duration;

/// A seeded sandbox with the LBC stand-in running in the background, as a
/// real controller would while the binary waits.
pub async fn sandbox() -> (Sandbox, Env) {
    let sandbox = Sandbox::start(SandboxOptions {
        lbc_background: true,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let env = Env::of(&sandbox);
    (sandbox, env)
}

/// preserve_client_ip.enabled of a target group as AWS shows it ("unset"
/// when the attribute is not listed).
pub async fn preserve_client_ip(sandbox: &Sandbox, arn: &str) -> String {
    let attrs = sandbox
        .aws_internal()
        .elb
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .expect("attributes");
    attrs
        .attributes()
        .iter()
        .find(|a| a.key() == Some("preserve_client_ip.enabled"))
        .and_then(|a| a.value())
        .unwrap_or("unset")
        .to_string()
}

/// Every record set named `name` in the seeded zone, sorted by identifier.
pub async fn records(sandbox: &Sandbox, name: &str) -> Vec<ResourceRecordSet> {
    let out = sandbox
        .aws_internal()
        .r53
        .list_resource_record_sets()
        .hosted_zone_id(&sandbox.world().hosted_zone_id)
        .send()
        .await
        .expect("list records");
    let mut sets: Vec<_> = out
        .resource_record_sets()
        .iter()
        .filter(|r| r.name() == name)
        .cloned()
        .collect();
    sets.sort_by(|a, b| a.set_identifier().cmp(&b.set_identifier()));
    sets
}

/// (weight of `old`, weight of `new`) in a weighted pair the tool wrote.
pub async fn weights(
    sandbox: &Sandbox,
    record: &str,
    ns: &str,
    old: &str,
    new: &str,
) -> (i64, i64) {
    let sets = records(sandbox, record).await;
    let w = |svc: &str| {
        let id = format!("kubectl-nlb:{ns}/{svc}");
        sets.iter()
            .find(|r| r.set_identifier() == Some(id.as_str()))
            .and_then(|r| r.weight())
            .unwrap_or_else(|| panic!("no weighted record {id}: {sets:?}"))
    };
    (w(old), w(new))
}

/// An alias target as Route 53 answers it (lower case, trailing dot),
/// in the form the tool prints: no trailing dot.
pub fn alias_dns(a: &aws_sdk_route53::types::AliasTarget) -> String {
    a.dns_name().trim_end_matches('.').to_ascii_lowercase()
}

pub fn alias_target(r: &ResourceRecordSet) -> String {
    r.alias_target().map(alias_dns).unwrap_or_default()
}

/// An alias A record in the seeded zone at the NLB with that DNS name, as a
/// user would make it (EvaluateTargetHealth on).
pub async fn create_alias(sandbox: &Sandbox, name: &str, nlb_dns: &str) {
    let lbs = sandbox
        .aws_internal()
        .elb
        .describe_load_balancers()
        .send()
        .await
        .expect("lbs");
    let zone = lbs
        .load_balancers()
        .iter()
        .find(|lb| lb.dns_name().map(str::to_ascii_lowercase).as_deref() == Some(nlb_dns))
        .and_then(|lb| lb.canonical_hosted_zone_id())
        .expect("the NLB")
        .to_string();
    let rr = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .alias_target(
            aws_sdk_route53::types::AliasTarget::builder()
                .hosted_zone_id(zone)
                .dns_name(nlb_dns)
                .evaluate_target_health(true)
                .build()
                .expect("alias"),
        )
        .build()
        .expect("record");
    create_set(sandbox, &sandbox.world().hosted_zone_id, rr).await;
}

/// One CREATE of one record set, as a user would send it.
async fn create_set(sandbox: &Sandbox, zone_id: &str, rrs: ResourceRecordSet) {
    sandbox
        .aws_internal()
        .r53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(rrs)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("create record");
}

/// Creates one record set in a zone, as a user would.
pub async fn create_record(
    sandbox: &Sandbox,
    zone_id: &str,
    name: &str,
    type_: RrType,
    ttl: i64,
    value: &str,
) {
    let rrs = ResourceRecordSet::builder()
        .name(name)
        .r#type(type_)
        .ttl(ttl)
        .resource_records(ResourceRecord::builder().value(value).build().expect("rr"))
        .build()
        .expect("rrs");
    create_set(sandbox, zone_id, rrs).await;
}

pub async fn service(sandbox: &Sandbox, ns: &str, name: &str) -> Option<Service> {
    Api::<Service>::namespaced(sandbox.kube_client(), ns)
        .get_opt(name)
        .await
        .expect("get service")
}

pub fn hostname(svc: &Service) -> Option<String> {
    svc.status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?
        .hostname
        .clone()
}

pub async fn config_map_exists(sandbox: &Sandbox, ns: &str, name: &str) -> bool {
    Api::<ConfigMap>::namespaced(sandbox.kube_client(), ns)
        .get_opt(name)
        .await
        .expect("get configmap")
        .is_some()
}

/// DNS names of every load balancer in moto, sorted.
pub async fn load_balancers(sandbox: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = sandbox
        .aws_internal()
        .elb
        .describe_load_balancers()
        .send()
        .await
        .expect("describe load balancers")
        .load_balancers()
        .iter()
        .filter_map(|lb| lb.dns_name().map(str::to_ascii_lowercase))
        .collect();
    names.sort();
    names
}

/// A quick switch: `cmd SERVICE -n NS` with no soak, 1 s polls, a 60 s
/// limit per wait, no drain, no prompt; then `extra`.
pub fn quick<'a>(cmd: &'a str, service: &'a str, ns: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        cmd,
        service,
        "-n",
        ns,
        "--soak",
        "0s",
        "--interval",
        "1s",
        "--timeout",
        "60s",
        "--drain",
        "0s",
        "--yes",
    ];
    args.extend_from_slice(extra);
    args
}

/// Lets the controller stand-ins catch up with created and deleted Services.
pub async fn settle(sandbox: &Sandbox) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    sandbox.reconcile().await.expect("reconcile");
}

/// (target type, preserve_client_ip.enabled) of each target group behind an NLB.
pub async fn groups_of(sandbox: &Sandbox, dns: &str) -> Vec<(String, String)> {
    let elb = &sandbox.aws_internal().elb;
    let lbs = elb.describe_load_balancers().send().await.expect("lbs");
    let arn = lbs
        .load_balancers()
        .iter()
        .find(|lb| lb.dns_name().map(str::to_ascii_lowercase).as_deref() == Some(dns))
        .and_then(|lb| lb.load_balancer_arn())
        .expect("NLB")
        .to_string();
    let tgs = elb
        .describe_target_groups()
        .load_balancer_arn(&arn)
        .send()
        .await
        .expect("tgs");
    let mut out = Vec::new();
    for tg in tgs.target_groups() {
        let pcip = preserve_client_ip(sandbox, tg.target_group_arn().expect("arn")).await;
        out.push((
            tg.target_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            pcip,
        ));
    }
    out
}

/// Services (with resourceVersions), ConfigMaps, load balancers and the
/// seeded zone's records: what a refused command must not have touched.
pub async fn inventory(sandbox: &Sandbox) -> String {
    let services: Vec<String> = Api::<Service>::all(sandbox.kube_client())
        .list(&ListParams::default())
        .await
        .expect("services")
        .items
        .iter()
        .map(|s| {
            format!(
                "{}/{}@{}",
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name.clone().unwrap_or_default(),
                s.metadata.resource_version.clone().unwrap_or_default()
            )
        })
        .collect();
    let maps: Vec<String> = Api::<ConfigMap>::all(sandbox.kube_client())
        .list(&ListParams::default())
        .await
        .expect("configmaps")
        .items
        .iter()
        .map(|c| c.metadata.name.clone().unwrap_or_default())
        .collect();
    let all_records = sandbox
        .aws_internal()
        .r53
        .list_resource_record_sets()
        .hosted_zone_id(&sandbox.world().hosted_zone_id)
        .send()
        .await
        .expect("records");
    format!(
        "{services:?}\n{maps:?}\n{:?}\n{:?}",
        load_balancers(sandbox).await,
        all_records.resource_record_sets()
    )
}
