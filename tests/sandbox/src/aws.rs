//! AWS SDK clients against moto, and small helpers shared by the seeder and
//! the two controller stand-ins.

use crate::Error;
use aws_sdk_elasticloadbalancingv2 as elb;
use elb::types::{Tag, TargetDescription};
use std::collections::BTreeSet;

/// Access key the sandbox itself signs with. moto maps every unknown key to
/// account 123456789012; the launcher middleware neither counts requests
/// signed with this key nor injects faults into them, so `aws_requests()`
/// shows only what the code under test did.
pub const INTERNAL_ACCESS_KEY: &str = "SANDBOXINTERNAL";

/// SDK config for `endpoint` with the given static credentials.
///
/// The sandbox's own client (`INTERNAL_ACCESS_KEY`) retries: moto's threaded
/// server occasionally answers 500 under concurrent writes, and seeding must
/// not fail on that. The client handed to tests does not, so a test sees
/// exactly the errors it injects.
pub fn sdk_config(endpoint: &str, region: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    let attempts = if key == INTERNAL_ACCESS_KEY { 5 } else { 1 };
    let creds = aws_sdk_ec2::config::Credentials::new(key, secret, None, None, "nlb-sandbox");
    aws_config::SdkConfig::builder()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(creds))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .build()
}

/// The three clients the sandbox uses.
#[derive(Clone)]
pub struct AwsClients {
    pub elb: elb::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub r53: aws_sdk_route53::Client,
}

impl AwsClients {
    pub fn new(cfg: &aws_config::SdkConfig) -> AwsClients {
        AwsClients {
            elb: elb::Client::new(cfg),
            ec2: aws_sdk_ec2::Client::new(cfg),
            r53: aws_sdk_route53::Client::new(cfg),
        }
    }
}

/// Wrap an SDK error with the operation name (full error chain in the message).
pub fn aws_err<E>(op: &'static str) -> impl FnOnce(E) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| Error::Aws {
        op,
        message: format!("{}", aws_sdk_ec2::error::DisplayErrorContext(&e)),
    }
}

pub fn elb_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Parse `k=v,k2=v2` (annotation style).
pub fn parse_kv_list(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|kv| {
            let kv = kv.trim();
            if kv.is_empty() {
                return None;
            }
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Registered targets of a target group as (id, port).
pub async fn registered_targets(
    aws: &AwsClients,
    tg_arn: &str,
) -> Result<BTreeSet<(String, i32)>, Error> {
    let out = aws
        .elb
        .describe_target_health()
        .target_group_arn(tg_arn)
        .send()
        .await
        .map_err(aws_err("DescribeTargetHealth"))?;
    Ok(out
        .target_health_descriptions()
        .iter()
        .filter(|d| {
            d.target_health()
                .and_then(|h| h.state())
                .is_none_or(|s| s.as_str() != "unused" && s.as_str() != "draining")
        })
        .filter_map(|d| d.target())
        .filter_map(|t| Some((t.id()?.to_string(), t.port()?)))
        .collect())
}

/// Make the target group's registrations equal to `desired`.
/// Returns true if anything changed.
pub async fn sync_targets(
    aws: &AwsClients,
    tg_arn: &str,
    current: &BTreeSet<(String, i32)>,
    desired: &BTreeSet<(String, i32)>,
) -> Result<bool, Error> {
    let add: Vec<TargetDescription> = desired
        .difference(current)
        .map(|(id, port)| TargetDescription::builder().id(id).port(*port).build())
        .collect();
    let remove: Vec<TargetDescription> = current
        .difference(desired)
        .map(|(id, port)| TargetDescription::builder().id(id).port(*port).build())
        .collect();
    let changed = !add.is_empty() || !remove.is_empty();
    if !add.is_empty() {
        aws.elb
            .register_targets()
            .target_group_arn(tg_arn)
            .set_targets(Some(add))
            .send()
            .await
            .map_err(aws_err("RegisterTargets"))?;
    }
    if !remove.is_empty() {
        aws.elb
            .deregister_targets()
            .target_group_arn(tg_arn)
            .set_targets(Some(remove))
            .send()
            .await
            .map_err(aws_err("DeregisterTargets"))?;
    }
    Ok(changed)
}

/// What `CreateLoadBalancer` returned.
#[derive(Clone, Debug)]
pub struct CreatedLb {
    pub arn: String,
    pub dns_name: String,
    pub canonical_hosted_zone_id: String,
}

/// Create a network load balancer.
pub async fn create_nlb(
    aws: &AwsClients,
    name: &str,
    internal: Option<bool>,
    subnets: &[String],
    eip_allocations: &[String],
    security_groups: &[String],
    tags: &[(String, String)],
) -> Result<CreatedLb, Error> {
    let mappings: Vec<elb::types::SubnetMapping> = subnets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            elb::types::SubnetMapping::builder()
                .subnet_id(s)
                .set_allocation_id(eip_allocations.get(i).cloned())
                .build()
        })
        .collect();
    let mut req = aws
        .elb
        .create_load_balancer()
        .name(name)
        .r#type(elb::types::LoadBalancerTypeEnum::Network)
        .ip_address_type(elb::types::IpAddressType::Ipv4)
        .set_subnet_mappings(Some(mappings))
        .set_tags(Some(elb_tags(tags)));
    if let Some(internal) = internal {
        req = req.scheme(if internal {
            elb::types::LoadBalancerSchemeEnum::Internal
        } else {
            elb::types::LoadBalancerSchemeEnum::InternetFacing
        });
    }
    if !security_groups.is_empty() {
        req = req.set_security_groups(Some(security_groups.to_vec()));
    }
    let out = req.send().await.map_err(aws_err("CreateLoadBalancer"))?;
    let lb = out
        .load_balancers()
        .first()
        .ok_or_else(|| Error::Other("CreateLoadBalancer returned no load balancer".into()))?;
    Ok(CreatedLb {
        arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
        canonical_hosted_zone_id: lb
            .canonical_hosted_zone_id()
            .unwrap_or_default()
            .to_string(),
    })
}

/// Health check settings for a target group.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheck {
    pub protocol: String,
    pub port: String,
    pub path: Option<String>,
    pub interval: i32,
    pub timeout: i32,
    pub healthy: i32,
    pub unhealthy: i32,
}

/// Create a target group.
#[allow(clippy::too_many_arguments)]
pub async fn create_tg(
    aws: &AwsClients,
    name: &str,
    protocol: &str,
    port: i32,
    vpc_id: &str,
    target_type: &str,
    hc: &HealthCheck,
    tags: &[(String, String)],
) -> Result<String, Error> {
    let mut req = aws
        .elb
        .create_target_group()
        .name(name)
        .protocol(elb::types::ProtocolEnum::from(protocol))
        .port(port)
        .vpc_id(vpc_id)
        .target_type(elb::types::TargetTypeEnum::from(target_type))
        .ip_address_type(elb::types::TargetGroupIpAddressTypeEnum::Ipv4)
        .health_check_protocol(elb::types::ProtocolEnum::from(hc.protocol.as_str()))
        .health_check_port(&hc.port)
        .health_check_interval_seconds(hc.interval)
        .health_check_timeout_seconds(hc.timeout)
        .healthy_threshold_count(hc.healthy)
        .unhealthy_threshold_count(hc.unhealthy)
        .set_tags(Some(elb_tags(tags)));
    if let Some(p) = &hc.path {
        req = req.health_check_path(p);
    }
    let out = req.send().await.map_err(aws_err("CreateTargetGroup"))?;
    out.target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .map(str::to_string)
        .ok_or_else(|| Error::Other("CreateTargetGroup returned no target group".into()))
}

/// Create a forwarding listener; returns its ARN.
pub async fn create_listener(
    aws: &AwsClients,
    lb_arn: &str,
    protocol: &str,
    port: i32,
    tg_arn: &str,
    certificate: Option<&str>,
    tags: &[(String, String)],
) -> Result<String, Error> {
    let action = elb::types::Action::builder()
        .r#type(elb::types::ActionTypeEnum::Forward)
        .target_group_arn(tg_arn)
        .build();
    create_listener_with(aws, lb_arn, protocol, port, action, certificate, tags).await
}

/// A listener with the given default action.
pub async fn create_listener_with(
    aws: &AwsClients,
    lb_arn: &str,
    protocol: &str,
    port: i32,
    action: elb::types::Action,
    certificate: Option<&str>,
    tags: &[(String, String)],
) -> Result<String, Error> {
    let mut req = aws
        .elb
        .create_listener()
        .load_balancer_arn(lb_arn)
        .protocol(elb::types::ProtocolEnum::from(protocol))
        .port(port)
        .default_actions(action)
        .set_tags(Some(elb_tags(tags)));
    if let Some(c) = certificate {
        req = req.certificates(
            elb::types::Certificate::builder()
                .certificate_arn(c)
                .build(),
        );
    }
    let out = req.send().await.map_err(aws_err("CreateListener"))?;
    Ok(out
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .unwrap_or_default()
        .to_string())
}

/// Delete a load balancer with its listeners and then the given target groups.
pub async fn delete_nlb(aws: &AwsClients, lb_arn: &str, tg_arns: &[String]) -> Result<(), Error> {
    if let Ok(ls) = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
    {
        for l in ls.listeners() {
            if let Some(arn) = l.listener_arn() {
                aws.elb
                    .delete_listener()
                    .listener_arn(arn)
                    .send()
                    .await
                    .map_err(aws_err("DeleteListener"))?;
            }
        }
    }
    aws.elb
        .delete_load_balancer()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .map_err(aws_err("DeleteLoadBalancer"))?;
    for tg in tg_arns {
        delete_target_group(aws, tg).await?;
    }
    Ok(())
}

/// Deletes a target group; one already gone is fine, so an interrupted
/// cleanup can run again.
pub async fn delete_target_group(aws: &AwsClients, tg_arn: &str) -> Result<(), Error> {
    match aws
        .elb
        .delete_target_group()
        .target_group_arn(tg_arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // DeleteTargetGroup models no errors; moto answers TargetGroupNotFound.
        Err(e)
            if aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata::code(&e)
                == Some("TargetGroupNotFound") =>
        {
            Ok(())
        }
        Err(e) => Err(aws_err("DeleteTargetGroup")(e)),
    }
}
