//! The in-tree (legacy cloud provider) stand-in: builds an NLB for a Service
//! annotated `service.beta.kubernetes.io/aws-load-balancer-type: nlb` the way
//! the AWS cloud provider does (domain.md §1.1):
//!
//! * NLB name `a` + UID without dashes, truncated to 32 characters;
//! * scheme internet-facing unless `aws-load-balancer-internal` is set and not "false";
//! * per port a target group `k8s-<ns:8>-<name:8>-<10 hex>` (target type
//!   instance, protocol TCP, port = nodePort), health check TCP traffic-port
//!   every 30 s, or HTTP `/healthz` on the healthCheckNodePort every 10 s
//!   (thresholds 2/2) with `externalTrafficPolicy: Local`;
//! * a TCP listener per port; tags `kubernetes.io/cluster/<cluster>=owned` and
//!   `kubernetes.io/service-name=<ns>/<name>` on NLB, listeners and TGs;
//! * every node registered as an instance target on the nodePort.
//!
//! It runs only when asked (`provision`); it is not a controller loop.

use crate::Error;
use crate::aws::{self, AwsClients, HealthCheck, parse_kv_list};
use crate::hash;
use crate::model::{ann, health_check_node_port, ns_name, ports};
use k8s_openapi::api::core::v1::Service;
use std::collections::BTreeSet;

/// What the in-tree stand-in created for one Service.
#[derive(Clone, Debug)]
pub struct IntreeNlb {
    pub name: String,
    pub arn: String,
    pub dns_name: String,
    pub canonical_hosted_zone_id: String,
    pub scheme: String,
    pub target_group_arns: Vec<String>,
    pub target_group_names: Vec<String>,
    pub listener_arns: Vec<String>,
}

/// The in-tree NLB name for a Service UID.
pub fn nlb_name(uid: &str) -> String {
    let s: String = format!("a{}", uid.replace('-', ""));
    hash::prefix(&s, 32)
}

/// Whether the in-tree provider would make this NLB internal.
pub fn is_internal(svc: &Service) -> bool {
    ann(svc, "aws-load-balancer-internal").is_some_and(|v| !v.is_empty() && v != "false")
}

/// Target group name as `buildTargetGroupName` computes it (hash stand-in).
#[allow(clippy::too_many_arguments)]
pub fn target_group_name(
    cluster: &str,
    ns: &str,
    name: &str,
    port: i32,
    node_port: i32,
    protocol: &str,
    hc_protocol: &str,
    hc_interval: i32,
) -> String {
    let h = hash::hex(
        &[
            cluster,
            ns,
            name,
            &port.to_string(),
            &node_port.to_string(),
            protocol,
            "instance",
            hc_protocol,
            &hc_interval.to_string(),
        ],
        10,
    );
    format!(
        "k8s-{}-{}-{}",
        hash::prefix(&hash::alnum(ns), 8),
        hash::prefix(&hash::alnum(name), 8),
        h
    )
}

/// Create the NLB, target groups, listeners and registrations for `svc`.
pub async fn provision(
    aws: &AwsClients,
    cluster: &str,
    vpc_id: &str,
    subnets: &[String],
    instances: &[String],
    svc: &Service,
) -> Result<IntreeNlb, Error> {
    let (ns, name) = ns_name(svc);
    let uid = svc
        .metadata
        .uid
        .clone()
        .ok_or_else(|| Error::Other(format!("Service {ns}/{name} has no UID")))?;
    let lb_name = nlb_name(&uid);
    let internal = is_internal(svc);
    let mut tags = vec![
        (
            format!("kubernetes.io/cluster/{cluster}"),
            "owned".to_string(),
        ),
        (
            "kubernetes.io/service-name".to_string(),
            format!("{ns}/{name}"),
        ),
    ];
    if let Some(extra) = ann(svc, "aws-load-balancer-additional-resource-tags") {
        tags.extend(parse_kv_list(extra));
    }
    let eips: Vec<String> = ann(svc, "aws-load-balancer-eip-allocations")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    // The real provider sends Scheme only for internal NLBs and AWS defaults
    // to internet-facing; moto does not default it (DescribeLoadBalancers
    // would show no scheme), so the stand-in always sends it.
    let lb = aws::create_nlb(aws, &lb_name, Some(internal), subnets, &eips, &[], &tags).await?;
    let local = crate::model::external_traffic_local(svc);
    let mut out = IntreeNlb {
        name: lb_name,
        arn: lb.arn.clone(),
        dns_name: lb.dns_name,
        canonical_hosted_zone_id: lb.canonical_hosted_zone_id,
        scheme: if internal {
            "internal"
        } else {
            "internet-facing"
        }
        .to_string(),
        target_group_arns: Vec::new(),
        target_group_names: Vec::new(),
        listener_arns: Vec::new(),
    };
    for p in ports(svc) {
        let Some(node_port) = p.node_port else {
            continue;
        };
        let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
        let hc = match (local, health_check_node_port(svc)) {
            (true, Some(hcnp)) => HealthCheck {
                protocol: "HTTP".into(),
                port: hcnp.to_string(),
                path: Some("/healthz".into()),
                interval: 10,
                timeout: 5,
                healthy: 2,
                unhealthy: 2,
            },
            _ => HealthCheck {
                protocol: "TCP".into(),
                port: "traffic-port".into(),
                path: None,
                interval: 30,
                timeout: 10,
                healthy: 3,
                unhealthy: 3,
            },
        };
        let tg_name = target_group_name(
            cluster,
            &ns,
            &name,
            p.port,
            node_port,
            &protocol,
            &hc.protocol,
            hc.interval,
        );
        let tg = aws::create_tg(
            aws, &tg_name, &protocol, node_port, vpc_id, "instance", &hc, &tags,
        )
        .await?;
        let desired: BTreeSet<(String, i32)> =
            instances.iter().map(|i| (i.clone(), node_port)).collect();
        aws::sync_targets(aws, &tg, &BTreeSet::new(), &desired).await?;
        let l = aws::create_listener(aws, &lb.arn, &protocol, p.port, &tg, None, &tags).await?;
        out.target_group_arns.push(tg);
        out.target_group_names.push(tg_name);
        out.listener_arns.push(l);
    }
    Ok(out)
}
