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
