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
            .map(load_balancer_model)
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
            .map(target_group_model)
            .collect())
    }

    /// Reads attributes and target health of the given target groups, a few at
    /// a time. Two calls per target group: the API has no batch form.
    pub async fn fill_details(&self, groups: &mut [TargetGroup]) -> Result<(), AwsError> {
        let read = per_group(groups, |arn| async move {
            futures::try_join!(self.attributes(&arn), self.health(&arn))
        })
        .await?;
        for (i, (attributes, targets)) in read {
            groups[i].attributes = attributes;
            groups[i].targets = targets;
        }
        Ok(())
    }

    /// Reads only the attributes of the given target groups, a few at a
    /// time: one call each. Planning a migration needs no target health.
    pub async fn fill_attributes(&self, groups: &mut [TargetGroup]) -> Result<(), AwsError> {
        let read = per_group(groups, |arn| async move { self.attributes(&arn).await }).await?;
        for (i, attributes) in read {
            groups[i].attributes = attributes;
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

/// One load balancer as DescribeLoadBalancers reports it.
fn load_balancer_model(lb: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
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
        subnet_ids: lb
            .availability_zones()
            .iter()
            .filter_map(|az| az.subnet_id().map(str::to_string))
            .collect(),
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
    }
}

/// One target group as DescribeTargetGroups reports it (no attributes or health).
pub(super) fn target_group_model(
    tg: &aws_sdk_elasticloadbalancingv2::types::TargetGroup,
) -> TargetGroup {
    TargetGroup {
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
    }
}

/// What `create_target_group` needs.
#[derive(Debug, Clone)]
pub struct NewTargetGroup {
    pub name: String,
    pub protocol: String,
    pub port: i32,
    pub vpc_id: String,
    pub target_type: String,
    pub tags: Vec<(String, String)>,
}

pub(super) fn elb_tags(
    tags: &[(String, String)],
) -> Vec<aws_sdk_elasticloadbalancingv2::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

pub(super) fn not_found(e: &AwsError) -> bool {
    matches!(e, AwsError::Api { code, .. } if code.ends_with("NotFound"))
}

impl Elbv2 {
    /// A target group by ARN or by name; `None` when it does not exist.
    pub async fn target_group(&self, arn_or_name: &str) -> Result<Option<TargetGroup>, AwsError> {
        let req = self.client.describe_target_groups();
        let req = if arn_or_name.starts_with("arn:") {
            req.target_group_arns(arn_or_name)
        } else {
            req.names(arn_or_name)
        };
        match req.send().await {
            Ok(out) => Ok(out.target_groups().first().map(target_group_model)),
            Err(e) => {
                let e = sdk_error("DescribeTargetGroups", &self.endpoint, e);
                if not_found(&e) { Ok(None) } else { Err(e) }
            }
        }
    }

    /// A load balancer by ARN or by name; `None` when it does not exist.
    pub async fn load_balancer(&self, arn_or_name: &str) -> Result<Option<LoadBalancer>, AwsError> {
        let req = self.client.describe_load_balancers();
        let req = if arn_or_name.starts_with("arn:") {
            req.load_balancer_arns(arn_or_name)
        } else {
            req.names(arn_or_name)
        };
        match req.send().await {
            Ok(out) => Ok(out.load_balancers().first().map(load_balancer_model)),
            Err(e) => {
                let e = sdk_error("DescribeLoadBalancers", &self.endpoint, e);
                if not_found(&e) { Ok(None) } else { Err(e) }
            }
        }
    }

    /// Creates the target group unless one of that name exists; returns its ARN
    /// and whether it was created.
    pub async fn ensure_target_group(
        &self,
        spec: &NewTargetGroup,
    ) -> Result<(String, bool), AwsError> {
        use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
        if let Some(tg) = self.target_group(&spec.name).await? {
            return Ok((tg.arn, false));
        }
        let out = self
            .client
            .create_target_group()
            .name(&spec.name)
            .protocol(ProtocolEnum::from(spec.protocol.as_str()))
            .port(spec.port)
            .vpc_id(&spec.vpc_id)
            .target_type(TargetTypeEnum::from(spec.target_type.as_str()))
            // traffic-port: the NodePort for instance targets, the pod port for ip targets.
            .health_check_protocol(ProtocolEnum::Tcp)
            .health_check_port("traffic-port")
            .set_tags(Some(elb_tags(&spec.tags)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateTargetGroup", &self.endpoint, e))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|tg| tg.target_group_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn, true))
    }

    /// The tags of load balancers and target groups, by ARN: one call per 20.
    pub async fn tags(
        &self,
        arns: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, AwsError> {
        let mut out = BTreeMap::new();
        for chunk in arns.chunks(20) {
            let resp = self
                .client
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTags", &self.endpoint, e))?;
            for d in resp.tag_descriptions() {
                let tags = d
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_string(),
                            t.value().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect();
                out.insert(d.resource_arn().unwrap_or_default().to_string(), tags);
            }
        }
        Ok(out)
    }

    /// Sets one attribute of a target group.
    pub async fn set_target_group_attribute(
        &self,
        arn: &str,
        key: &str,
        value: &str,
    ) -> Result<(), AwsError> {
        self.client
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(
                aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
                    .key(key)
                    .value(value)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("ModifyTargetGroupAttributes", &self.endpoint, e))?;
        Ok(())
    }

    /// A load balancer's attributes; `None` once it no longer exists.
    pub async fn load_balancer_attributes(
        &self,
        arn: &str,
    ) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        match self
            .client
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.attributes()
                    .iter()
                    .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
                    .collect(),
            )),
            Err(e) => {
                let e = sdk_error("DescribeLoadBalancerAttributes", &self.endpoint, e);
                if not_found(&e) { Ok(None) } else { Err(e) }
            }
        }
    }

    /// (listener port, target group ARN) of each forward of a load balancer's
    /// listeners: one call.
    pub async fn listener_targets(&self, lb_arn: &str) -> Result<Vec<(i32, String)>, AwsError> {
        let out = self
            .client
            .describe_listeners()
            .load_balancer_arn(lb_arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeListeners", &self.endpoint, e))?;
        Ok(out
            .listeners()
            .iter()
            .flat_map(|l| {
                let port = l.port().unwrap_or_default();
                l.default_actions()
                    .iter()
                    .filter_map(move |a| a.target_group_arn().map(|t| (port, t.to_string())))
            })
            .collect())
    }

    /// Adds a listener on `port` forwarding to the target group, unless the load
    /// balancer already listens there; returns whether one was created.
    pub async fn ensure_listener(
        &self,
        lb_arn: &str,
        protocol: &str,
        port: i32,
        tg_arn: &str,
    ) -> Result<bool, AwsError> {
        use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};
        let existing = self
            .client
            .describe_listeners()
            .load_balancer_arn(lb_arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeListeners", &self.endpoint, e))?;
        if let Some(l) = existing.listeners().iter().find(|l| l.port() == Some(port)) {
            let forwards_here = l
                .default_actions()
                .iter()
                .any(|a| a.target_group_arn() == Some(tg_arn));
            return if forwards_here {
                Ok(false)
            } else {
                Err(AwsError::Api {
                    op: "CreateListener",
                    code: "PortInUse".into(),
                    message: format!(
                        "load balancer {lb_arn} already listens on port {port} for another target group; pick another load balancer or remove that listener"
                    ),
                })
            };
        }
        self.client
            .create_listener()
            .load_balancer_arn(lb_arn)
            .protocol(ProtocolEnum::from(protocol))
            .port(port)
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(tg_arn)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("CreateListener", &self.endpoint, e))?;
        Ok(true)
    }
}

impl Elbv2 {
    /// Creates a network load balancer unless one of that name exists; returns
    /// its ARN and whether it was created.
    pub async fn ensure_network_load_balancer(
        &self,
        name: &str,
        scheme: &str,
        subnets: &[String],
        security_groups: &[String],
        tags: &[(String, String)],
    ) -> Result<(String, bool), AwsError> {
        use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerSchemeEnum, LoadBalancerTypeEnum};
        if let Some(lb) = self.load_balancer(name).await? {
            return Ok((lb.arn, false));
        }
        let out = self
            .client
            .create_load_balancer()
            .name(name)
            .r#type(LoadBalancerTypeEnum::Network)
            .scheme(LoadBalancerSchemeEnum::from(scheme))
            .set_subnets(Some(subnets.to_vec()))
            .set_security_groups((!security_groups.is_empty()).then(|| security_groups.to_vec()))
            .set_tags(Some(elb_tags(tags)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateLoadBalancer", &self.endpoint, e))?;
        let arn = out
            .load_balancers()
            .first()
            .and_then(|lb| lb.load_balancer_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn, true))
    }
}

impl Elbv2 {
    /// The load balancer behind a DNS name. ELBv2 names its NLBs
    /// `<name>-<id>.elb.<region>.amazonaws.com`, so the name is tried first
    /// (one call); a full listing is the fallback.
    pub async fn load_balancer_by_dns(&self, dns: &str) -> Result<Option<LoadBalancer>, AwsError> {
        let wanted = crate::model::normalize_dns(dns);
        if let Some(name) = name_from_dns(&wanted)
            && let Some(lb) = self.load_balancer(name).await?
            && crate::model::normalize_dns(&lb.dns_name) == wanted
        {
            return Ok(Some(lb));
        }
        Ok(self
            .load_balancers()
            .await?
            .into_iter()
            .find(|lb| crate::model::normalize_dns(&lb.dns_name) == wanted))
    }

    /// The target groups a load balancer forwards to, sorted by name, without
    /// attributes or health: one call.
    pub async fn groups_behind(&self, lb_arn: &str) -> Result<Vec<TargetGroup>, AwsError> {
        let out = self
            .client
            .describe_target_groups()
            .load_balancer_arn(lb_arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTargetGroups", &self.endpoint, e))?;
        let mut groups: Vec<TargetGroup> =
            out.target_groups().iter().map(target_group_model).collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// The target groups a load balancer forwards to, with attributes and health.
    pub async fn target_groups_of(&self, lb_arn: &str) -> Result<Vec<TargetGroup>, AwsError> {
        let mut groups = self.groups_behind(lb_arn).await?;
        self.fill_details(&mut groups).await?;
        Ok(groups)
    }

    /// Target health of each group, one call per group (the API has no batch form).
    pub async fn health_of(
        &self,
        groups: &[(String, String)],
    ) -> Result<Vec<(String, Vec<TargetHealth>)>, AwsError> {
        futures::stream::iter(groups.iter().map(|(name, arn)| async move {
            Ok::<_, AwsError>((name.clone(), self.health(arn).await?))
        }))
        .buffered(CONCURRENCY)
        .try_collect()
        .await
    }
}

/// Runs `read` on each target group's ARN, a few at a time, and returns
/// what it read by the group's index.
async fn per_group<T, Fut>(
    groups: &[TargetGroup],
    read: impl Fn(String) -> Fut,
) -> Result<Vec<(usize, T)>, AwsError>
where
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    futures::stream::iter(groups.iter().enumerate().map(|(i, tg)| {
        let reading = read(tg.arn.clone());
        async move { Ok::<_, AwsError>((i, reading.await?)) }
    }))
    .buffer_unordered(CONCURRENCY)
    .try_collect()
    .await
}

/// `k8s-web-frontend-0a1b2c3d4e-0123456789abcdef.elb.us-east-1.amazonaws.com`
/// → `k8s-web-frontend-0a1b2c3d4e`: the first label without its last `-part`.
pub fn name_from_dns(dns: &str) -> Option<&str> {
    let label = dns.split('.').next()?;
    let (name, _id) = label.rsplit_once('-')?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod dns_tests {
    use super::name_from_dns;

    #[test]
    fn names_come_from_the_first_label() {
        assert_eq!(
            name_from_dns(
                "k8s-web-frontend-0a1b2c3d4e-0123456789abcdef.elb.us-east-1.amazonaws.com"
            ),
            Some("k8s-web-frontend-0a1b2c3d4e")
        );
        assert_eq!(
            name_from_dns("edge-1.us-east-1.elb.amazonaws.com"),
            Some("edge")
        );
        assert_eq!(name_from_dns("nodash.example.com"), None);
        assert_eq!(name_from_dns("-1.example.com"), None);
    }
}
