//! EC2: PrivateLink endpoint services that front a load balancer.

use super::{AwsError, Endpoint, sdk_error};
use crate::model::EndpointService;
use aws_sdk_ec2::Client;

#[derive(Clone)]
pub struct Ec2 {
    pub client: Client,
    pub endpoint: Endpoint,
}

impl Ec2 {
    pub async fn endpoint_services(&self) -> Result<Vec<EndpointService>, AwsError> {
        let pages: Vec<_> = self
            .client
            .describe_vpc_endpoint_service_configurations()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                sdk_error(
                    "DescribeVpcEndpointServiceConfigurations",
                    &self.endpoint,
                    e,
                )
            })?;
        Ok(pages
            .iter()
            .flat_map(|p| p.service_configurations())
            .map(|c| EndpointService {
                service_id: c.service_id().unwrap_or_default().to_string(),
                service_name: c.service_name().map(str::to_string),
                network_load_balancer_arns: c.network_load_balancer_arns().to_vec(),
            })
            .collect())
    }
}

impl Ec2 {
    /// The VPC ids of the given instances.
    pub async fn instance_vpcs(&self, ids: &[String]) -> Result<Vec<String>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .describe_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeInstances", &self.endpoint, e))?;
        let mut vpcs: Vec<String> = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| i.vpc_id().map(str::to_string))
            .collect();
        vpcs.sort();
        vpcs.dedup();
        Ok(vpcs)
    }
}

/// A subnet: id, zone and CIDR.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub id: String,
    pub zone: String,
    pub cidr: String,
}

/// Which subnets to describe.
#[derive(Debug, Clone, Copy)]
pub enum SubnetQuery<'a> {
    Ids(&'a [String]),
    /// The VPC's subnets that carry this tag key.
    Tagged {
        vpc: &'a str,
        tag_key: &'a str,
    },
}

impl Ec2 {
    pub async fn subnets(&self, query: SubnetQuery<'_>) -> Result<Vec<Subnet>, AwsError> {
        use aws_sdk_ec2::types::Filter;
        let req = self.client.describe_subnets();
        let req = match query {
            SubnetQuery::Ids([]) => return Ok(Vec::new()),
            SubnetQuery::Ids(ids) => req.set_subnet_ids(Some(ids.to_vec())),
            SubnetQuery::Tagged { vpc, tag_key } => req
                .filters(Filter::builder().name("vpc-id").values(vpc).build())
                .filters(Filter::builder().name("tag-key").values(tag_key).build()),
        };
        let out = req
            .send()
            .await
            .map_err(|e| sdk_error("DescribeSubnets", &self.endpoint, e))?;
        let mut subnets: Vec<Subnet> = out
            .subnets()
            .iter()
            .map(|s| Subnet {
                id: s.subnet_id().unwrap_or_default().to_string(),
                zone: s.availability_zone().unwrap_or_default().to_string(),
                cidr: s.cidr_block().unwrap_or_default().to_string(),
            })
            .collect();
        subnets.sort_by(|a, b| (&a.zone, &a.id).cmp(&(&b.zone, &b.id)));
        Ok(subnets)
    }
}
