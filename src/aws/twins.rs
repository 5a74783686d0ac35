//! ELBv2 calls of the listener path (`cutover --via listener`): listener
//! forwards with their weights, and the twin target groups the switch makes
//! and removes.

use super::elbv2::{Elbv2, elb_tags, not_found};
use super::{AwsError, sdk_error};
use crate::model::TargetGroup;
use std::collections::BTreeMap;

/// One listener and where its default action forwards new connections.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerForward {
    pub arn: String,
    pub protocol: String,
    pub port: i32,
    /// (target group ARN, weight): a plain forward has one, without weight.
    pub forward: Vec<(String, Option<i32>)>,
}

impl Elbv2 {
    /// Every listener of a load balancer with its forward: one call.
    pub async fn listener_forwards(&self, lb_arn: &str) -> Result<Vec<ListenerForward>, AwsError> {
        let out = self
            .client
            .describe_listeners()
            .load_balancer_arn(lb_arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeListeners", &self.endpoint, e))?;
        Ok(out.listeners().iter().map(forward_of).collect())
    }

    /// Creates a target group like `own` (protocol, port, VPC, target type,
    /// health check) unless one named `name` exists; returns its ARN and
    /// whether it was created. Attributes are set apart (`set_attributes`).
    pub async fn ensure_twin(
        &self,
        name: &str,
        own: &TargetGroup,
        tags: &[(String, String)],
    ) -> Result<(String, bool), AwsError> {
        use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
        if let Some(tg) = self.target_group(name).await? {
            return Ok((tg.arn, false));
        }
        let hc = &own.health_check;
        let out = self
            .client
            .create_target_group()
            .name(name)
            .set_protocol(own.protocol.as_deref().map(ProtocolEnum::from))
            .set_port(own.port)
            .set_vpc_id(own.vpc_id.clone())
            .set_target_type(own.target_type.as_deref().map(TargetTypeEnum::from))
            .set_health_check_protocol(hc.protocol.as_deref().map(ProtocolEnum::from))
            .set_health_check_port(hc.port.clone())
            .set_health_check_path(hc.path.clone())
            .set_health_check_interval_seconds(hc.interval_seconds)
            .set_health_check_timeout_seconds(hc.timeout_seconds)
            .set_healthy_threshold_count(hc.healthy_threshold)
            .set_unhealthy_threshold_count(hc.unhealthy_threshold)
            .set_tags(Some(elb_tags(tags)))
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

    /// Target groups by ARN, in one call (≤20, as ELBv2 allows), with their
    /// attributes; one that no longer exists fails the call (NotFound).
    pub async fn groups_by_arn(&self, arns: &[String]) -> Result<Vec<TargetGroup>, AwsError> {
        let out = self
            .client
            .describe_target_groups()
            .set_target_group_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTargetGroups", &self.endpoint, e))?;
        let mut groups: Vec<TargetGroup> = out
            .target_groups()
            .iter()
            .map(super::elbv2::target_group_model)
            .collect();
        self.fill_attributes(&mut groups).await?;
        Ok(groups)
    }

    /// Sets several attributes of a target group in one call.
    pub async fn set_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        use aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute;
        let list = attributes
            .iter()
            .map(|(k, v)| TargetGroupAttribute::builder().key(k).value(v).build())
            .collect();
        self.client
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .set_attributes(Some(list))
            .send()
            .await
            .map_err(|e| sdk_error("ModifyTargetGroupAttributes", &self.endpoint, e))?;
        Ok(())
    }

    /// Deletes a target group; `Ok(false)` when it was already gone.
    pub async fn delete_target_group(&self, arn: &str) -> Result<bool, AwsError> {
        match self
            .client
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = sdk_error("DeleteTargetGroup", &self.endpoint, e);
                if not_found(&e) { Ok(false) } else { Err(e) }
            }
        }
    }
}

/// A listener's forward: the weighted list when AWS gives one, else the
/// plain target group (DescribeListeners returns `ForwardConfig` for
/// weighted forwards, `TargetGroupArn` for plain ones, API_Action.html).
fn forward_of(l: &aws_sdk_elasticloadbalancingv2::types::Listener) -> ListenerForward {
    let mut forward = Vec::new();
    for a in l.default_actions() {
        let weighted: Vec<(String, Option<i32>)> = a
            .forward_config()
            .map(|f| {
                f.target_groups()
                    .iter()
                    .filter_map(|t| Some((t.target_group_arn()?.to_string(), t.weight())))
                    .collect()
            })
            .unwrap_or_default();
        if !weighted.is_empty() {
            forward.extend(weighted);
        } else if let Some(arn) = a.target_group_arn() {
            forward.push((arn.to_string(), None));
        }
    }
    ListenerForward {
        arn: l.listener_arn().unwrap_or_default().to_string(),
        protocol: l
            .protocol()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        port: l.port().unwrap_or_default(),
        forward,
    }
}
