//! Route 53: hosted zones and their record sets.
//!
//! Route 53 allows 5 requests per second per account, shared with every other
//! caller (domain.md §5.5); this adapter never sends faster than that.

use super::{AwsError, Endpoint, sdk_error};
use crate::model::{AliasTarget, DnsRecord};
use aws_sdk_route53::Client;
use aws_sdk_route53::types::RrType;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

const MIN_GAP: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct Route53 {
    pub client: Client,
    pub endpoint: Endpoint,
    next_slot: Arc<Mutex<Instant>>,
}

/// A hosted zone: its id without the `/hostedzone/` prefix, and its name
/// without the trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

impl Route53 {
    pub fn new(client: Client, endpoint: Endpoint) -> Self {
        Route53 {
            client,
            endpoint,
            next_slot: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Waits for this process's next slot under the account's rate limit.
    async fn pace(&self) {
        let mut next = self.next_slot.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = Instant::now() + MIN_GAP;
    }

    pub async fn zones(&self) -> Result<Vec<Zone>, AwsError> {
        self.pace().await;
        let pages: Vec<_> = self
            .client
            .list_hosted_zones()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("ListHostedZones", &self.endpoint, e))?;
        let mut zones: Vec<Zone> = pages
            .iter()
            .flat_map(|p| p.hosted_zones())
            .map(|z| Zone {
                id: short_zone_id(z.id()),
                name: z.name().trim_end_matches('.').to_string(),
            })
            .collect();
        zones.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        Ok(zones)
    }

    /// Resolves `--zone`: a zone id (`Z…`, with or without `/hostedzone/`) or a
    /// zone name. A name that matches several zones (public and private) is
    /// returned as all of them.
    pub async fn find_zones(&self, wanted: &str) -> Result<Vec<Zone>, AwsError> {
        let wanted_id = short_zone_id(wanted);
        let wanted_name = wanted.trim_end_matches('.').to_ascii_lowercase();
        Ok(self
            .zones()
            .await?
            .into_iter()
            .filter(|z| z.id == wanted_id || z.name.to_ascii_lowercase() == wanted_name)
            .collect())
    }

    /// Every record set of a zone, following Route 53's name/type/identifier paging.
    pub async fn records(&self, zone: &Zone) -> Result<Vec<DnsRecord>, AwsError> {
        let mut out = Vec::new();
        let mut start: Option<(String, RrType, Option<String>)> = None;
        loop {
            self.pace().await;
            let mut req = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(&zone.id);
            if let Some((name, type_, id)) = start.take() {
                req = req
                    .start_record_name(name)
                    .start_record_type(type_)
                    .set_start_record_identifier(id);
            }
            let page = req
                .send()
                .await
                .map_err(|e| sdk_error("ListResourceRecordSets", &self.endpoint, e))?;
            out.extend(page.resource_record_sets().iter().map(|r| {
                DnsRecord {
                    zone_id: zone.id.clone(),
                    zone_name: zone.name.clone(),
                    name: r.name().to_string(),
                    type_: r.r#type().as_str().to_string(),
                    set_identifier: r.set_identifier().map(str::to_string),
                    weight: r.weight(),
                    ttl: r.ttl(),
                    alias: r.alias_target().map(|a| AliasTarget {
                        hosted_zone_id: a.hosted_zone_id().to_string(),
                        dns_name: a.dns_name().to_string(),
                        evaluate_target_health: a.evaluate_target_health(),
                    }),
                    values: r
                        .resource_records()
                        .iter()
                        .map(|v| v.value().to_string())
                        .collect(),
                }
            }));
            match (
                page.is_truncated(),
                page.next_record_name(),
                page.next_record_type(),
            ) {
                (true, Some(name), Some(type_)) => {
                    start = Some((
                        name.to_string(),
                        type_.clone(),
                        page.next_record_identifier().map(str::to_string),
                    ))
                }
                _ => break,
            }
        }
        Ok(out)
    }
}

/// `/hostedzone/Z123` → `Z123`.
pub fn short_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_lose_their_prefix() {
        assert_eq!(short_zone_id("/hostedzone/Z1ABC"), "Z1ABC");
        assert_eq!(short_zone_id("Z1ABC"), "Z1ABC");
    }
}
