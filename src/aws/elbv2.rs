//! Elastic Load Balancing v2: load balancers, target groups, attributes, health.

use super::{AwsError, Endpoint, sdk_error};
use crate::model::{HealthCheck, LbAddress, LoadBalancer, TargetGroup, TargetHealth};
use aws_sdk_elasticloadbalancingv2::Client;
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeMap;

/// How many per-target-group calls run at once: ELBv2 has no batch API for
/// attributes or health, and its describe calls share an account rate limit.
const CONCURRENCY: usize = 8;

#[derive(Clone)]
pub struct Elbv2 {
    pub client: Client,
    pub endpoint: Endpoint,
}

impl Elbv2 {
    /// Every load balancer in the region, in pages of 400.
    pub async fn load_balancers(&self) -> Result<Vec<LoadBalancer>, AwsError> {
        let pages: Vec<_> = self
            .client
            .describe_load_balancers()
            .page_size(400)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("DescribeLoadBalancers", &self.endpoint, e))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.load_balancers())
            .map(|lb| LoadBalancer {
                arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
                name: lb.load_balancer_name().unwrap_or_default().to_string(),
                dns_name: lb.dns_name().unwrap_or_default().to_string(),
                canonical_hosted_zone_id: lb.canonical_hosted_zone_id().map(str::to_string),
                scheme: lb.scheme().map(|s| s.as_str().to_string()),
                state: lb
                    .state()
                    .and_then(|s| s.code())
                    .map(|c| c.as_str().to_string()),
                type_: lb.r#type().map(|t| t.as_str().to_string()),
                vpc_id: lb.vpc_id().map(str::to_string),
                security_groups: lb.security_groups().to_vec(),
                addresses: lb
                    .availability_zones()
                    .iter()
                    .flat_map(|az| {
                        az.load_balancer_addresses().iter().map(|a| LbAddress {
                            zone: az.zone_name().map(str::to_string),
                            subnet_id: az.subnet_id().map(str::to_string),
                            ip_address: a.ip_address().map(str::to_string),
                            allocation_id: a.allocation_id().map(str::to_string),
                            private_ipv4_address: a.private_ipv4_address().map(str::to_string),
                        })
                    })
                    .collect(),
            })
            .collect())
    }

    /// Every target group in the region, in pages of 400, without attributes
    /// or health (see [`Elbv2::fill_details`]).
    pub async fn target_groups(&self) -> Result<Vec<TargetGroup>, AwsError> {
        let pages: Vec<_> = self
            .client
            .describe_target_groups()
            .page_size(400)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("DescribeTargetGroups", &self.endpoint, e))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.target_groups())
            .map(|tg| TargetGroup {
                arn: tg.target_group_arn().unwrap_or_default().to_string(),
                name: tg.target_group_name().unwrap_or_default().to_string(),
                protocol: tg.protocol().map(|p| p.as_str().to_string()),
                port: tg.port(),
                target_type: tg.target_type().map(|t| t.as_str().to_string()),
                vpc_id: tg.vpc_id().map(str::to_string),
                load_balancer_arns: tg.load_balancer_arns().to_vec(),
                health_check: HealthCheck {
                    protocol: tg.health_check_protocol().map(|p| p.as_str().to_string()),
                    port: tg.health_check_port().map(str::to_string),
                    path: tg.health_check_path().map(str::to_string),
                    interval_seconds: tg.health_check_interval_seconds(),
                    timeout_seconds: tg.health_check_timeout_seconds(),
                    healthy_threshold: tg.healthy_threshold_count(),
                    unhealthy_threshold: tg.unhealthy_threshold_count(),
                },
                attributes: BTreeMap::new(),
                targets: Vec::new(),
            })
            .collect())
    }

    /// Reads attributes and target health of the given target groups, a few at
    /// a time. Two calls per target group: the API has no batch form.
    pub async fn fill_details(&self, groups: &mut [TargetGroup]) -> Result<(), AwsError> {
        let details: Vec<(usize, BTreeMap<String, String>, Vec<TargetHealth>)> =
            futures::stream::iter(groups.iter().enumerate().map(|(i, tg)| {
                let arn = tg.arn.clone();
                async move {
                    let (attributes, health) =
                        futures::try_join!(self.attributes(&arn), self.health(&arn))?;
                    Ok::<_, AwsError>((i, attributes, health))
                }
            }))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for (i, attributes, targets) in details {
            groups[i].attributes = attributes;
            groups[i].targets = targets;
        }
        Ok(())
    }

    pub async fn attributes(&self, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let out = self
            .client
            .describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTargetGroupAttributes", &self.endpoint, e))?;
        Ok(out
            .attributes()
            .iter()
            .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
            .collect())
    }

    pub async fn health(&self, arn: &str) -> Result<Vec<TargetHealth>, AwsError> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTargetHealth", &self.endpoint, e))?;
        let mut targets: Vec<TargetHealth> = out
            .target_health_descriptions()
            .iter()
            .map(|d| TargetHealth {
                id: d
                    .target()
                    .and_then(|t| t.id())
                    .unwrap_or_default()
                    .to_string(),
                port: d.target().and_then(|t| t.port()),
                state: d
                    .target_health()
                    .and_then(|h| h.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "unknown".into()),
                reason: d
                    .target_health()
                    .and_then(|h| h.reason())
                    .map(|r| r.as_str().to_string()),
            })
            .collect();
        targets.sort_by(|a, b| (&a.id, a.port).cmp(&(&b.id, b.port)));
        Ok(targets)
    }
}
