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

/// One inbound permission of a security group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub protocol: String,
    pub port: i32,
    /// A CIDR, or a security group id (`sg-…`).
    pub source: String,
    pub description: String,
}

impl Ec2 {
    /// The CIDR blocks of a VPC.
    pub async fn vpc_cidrs(&self, vpc: &str) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .describe_vpcs()
            .vpc_ids(vpc)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeVpcs", &self.endpoint, e))?;
        Ok(out
            .vpcs()
            .iter()
            .flat_map(|v| {
                v.cidr_block_association_set()
                    .iter()
                    .filter_map(|a| a.cidr_block().map(str::to_string))
                    .chain(v.cidr_block().map(str::to_string))
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect())
    }

    /// The id of the security group of that name in the VPC, created (with
    /// tags) if there is none; and whether it was created.
    pub async fn ensure_security_group(
        &self,
        name: &str,
        vpc: &str,
        description: &str,
        tags: &[(String, String)],
    ) -> Result<(String, bool), AwsError> {
        use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
        let found = self
            .client
            .describe_security_groups()
            .filters(Filter::builder().name("group-name").values(name).build())
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .send()
            .await
            .map_err(|e| sdk_error("DescribeSecurityGroups", &self.endpoint, e))?;
        if let Some(id) = found.security_groups().first().and_then(|g| g.group_id()) {
            return Ok((id.to_string(), false));
        }
        let spec = TagSpecification::builder()
            .resource_type(ResourceType::SecurityGroup)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build();
        let out = self
            .client
            .create_security_group()
            .group_name(name)
            .description(description)
            .vpc_id(vpc)
            .tag_specifications(spec)
            .send()
            .await
            .map_err(|e| sdk_error("CreateSecurityGroup", &self.endpoint, e))?;
        Ok((out.group_id().unwrap_or_default().to_string(), true))
    }

    /// Adds the permissions a group lacks (one already there is fine).
    pub async fn authorize_inbound(&self, group: &str, rules: &[Inbound]) -> Result<(), AwsError> {
        use aws_sdk_ec2::types::{IpPermission, IpRange, UserIdGroupPair};
        for r in rules {
            let b = IpPermission::builder()
                .ip_protocol(r.protocol.to_ascii_lowercase())
                .from_port(r.port)
                .to_port(r.port);
            let perm = if r.source.starts_with("sg-") {
                b.user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(&r.source)
                        .description(&r.description)
                        .build(),
                )
            } else {
                b.ip_ranges(
                    IpRange::builder()
                        .cidr_ip(&r.source)
                        .description(&r.description)
                        .build(),
                )
            }
            .build();
            match self
                .client
                .authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(perm)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    let e = sdk_error("AuthorizeSecurityGroupIngress", &self.endpoint, e);
                    if !matches!(&e, AwsError::Api { code, .. } if code == "InvalidPermission.Duplicate")
                    {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }
}
