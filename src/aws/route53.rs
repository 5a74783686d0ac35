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
    ///
    /// It asks for that zone only (GetHostedZone by id, ListHostedZonesByName
    /// by name), so `--zone` works for an identity that may not list every
    /// zone, as the access-denied message of ListHostedZones promises (qa D-M7).
    pub async fn find_zones(&self, wanted: &str) -> Result<Vec<Zone>, AwsError> {
        let wanted_id = short_zone_id(wanted);
        let wanted_name = wanted.trim_end_matches('.').to_ascii_lowercase();
        self.pace().await;
        if looks_like_zone_id(&wanted_id) {
            return match self.client.get_hosted_zone().id(&wanted_id).send().await {
                Ok(out) => Ok(out
                    .hosted_zone()
                    .map(|z| Zone {
                        id: short_zone_id(z.id()),
                        name: z.name().trim_end_matches('.').to_string(),
                    })
                    .into_iter()
                    .collect()),
                Err(e) => {
                    let e = sdk_error("GetHostedZone", &self.endpoint, e);
                    match &e {
                        AwsError::Api { code, .. }
                            if code == "NoSuchHostedZone" || code == "InvalidInput" =>
                        {
                            Ok(Vec::new())
                        }
                        _ => Err(e),
                    }
                }
            };
        }
        // Zones come sorted by name from the one asked for; a name can belong
        // to several zones (public and private), all on the first page.
        let out = self
            .client
            .list_hosted_zones_by_name()
            .dns_name(&wanted_name)
            .max_items(100)
            .send()
            .await
            .map_err(|e| sdk_error("ListHostedZonesByName", &self.endpoint, e))?;
        let mut zones: Vec<Zone> = out
            .hosted_zones()
            .iter()
            .map(|z| Zone {
                id: short_zone_id(z.id()),
                name: z.name().trim_end_matches('.').to_string(),
            })
            .filter(|z| z.name.to_ascii_lowercase() == wanted_name)
            .collect();
        zones.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        Ok(zones)
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
            out.extend(
                page.resource_record_sets()
                    .iter()
                    .map(|r| record_model(zone, r)),
            );
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

/// How often a change is retried when Route 53 throttles it or is still busy
/// with an earlier change to the zone (domain.md §5.5). Those two errors mean
/// the batch was not applied, so sending it again is safe.
const CHANGE_ATTEMPTS: u32 = 8;
const POLL_INSYNC: Duration = Duration::from_secs(2);

fn retryable(e: &AwsError) -> bool {
    matches!(e, AwsError::Api { code, .. }
        if code == "Throttling" || code == "PriorRequestNotComplete" || code == "ThrottlingException")
}

impl Route53 {
    /// Applies one change batch (all of it or none, §5.2); returns the change id.
    pub async fn change(
        &self,
        zone_id: &str,
        comment: &str,
        changes: &[crate::switch::Change],
    ) -> Result<String, AwsError> {
        use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
        let sdk_changes = changes
            .iter()
            .map(|c| {
                let action = match c.action {
                    crate::switch::Action::Create => ChangeAction::Create,
                    crate::switch::Action::Delete => ChangeAction::Delete,
                    crate::switch::Action::Upsert => ChangeAction::Upsert,
                };
                Change::builder()
                    .action(action)
                    .resource_record_set(record_set(&c.record)?)
                    .build()
                    .map_err(build_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let batch = ChangeBatch::builder()
            .comment(comment)
            .set_changes(Some(sdk_changes))
            .build()
            .map_err(build_error)?;
        let mut delay = Duration::from_millis(500);
        let mut attempt = 1;
        loop {
            self.pace().await;
            let result = self
                .client
                .change_resource_record_sets()
                .hosted_zone_id(zone_id)
                .change_batch(batch.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ChangeResourceRecordSets", &self.endpoint, e));
            match result {
                Ok(out) => {
                    return Ok(out
                        .change_info()
                        .map(|c| c.id().trim_start_matches("/change/").to_string())
                        .unwrap_or_default());
                }
                Err(e) if retryable(&e) && attempt < CHANGE_ATTEMPTS => {
                    tracing::info!("ChangeResourceRecordSets: {e}; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(16));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Polls GetChange until every authoritative server has the change
    /// (`INSYNC`, §5.4) or `deadline` passes; `Ok(false)` on the deadline.
    pub async fn wait_insync(&self, change_id: &str, deadline: Instant) -> Result<bool, AwsError> {
        if change_id.is_empty() {
            return Ok(true);
        }
        loop {
            self.pace().await;
            let result = self
                .client
                .get_change()
                .id(change_id)
                .send()
                .await
                .map_err(|e| sdk_error("GetChange", &self.endpoint, e));
            match result {
                Ok(out) => {
                    let status = out.change_info().map(|c| c.status().as_str().to_string());
                    if status.as_deref() == Some("INSYNC") {
                        return Ok(true);
                    }
                }
                Err(e) if retryable(&e) => tracing::info!("GetChange: {e}; retrying"),
                Err(e) => return Err(e),
            }
            if Instant::now() + POLL_INSYNC > deadline {
                return Ok(false);
            }
            tokio::time::sleep(POLL_INSYNC).await;
        }
    }

    /// The record sets named `name` (every type and identifier), read from
    /// where that name starts in the zone's sorted listing.
    pub async fn records_named(&self, zone: &Zone, name: &str) -> Result<Vec<DnsRecord>, AwsError> {
        let wanted = crate::model::normalize_dns(name);
        let mut out = Vec::new();
        let mut start: (String, Option<RrType>, Option<String>) = (name.to_string(), None, None);
        loop {
            self.pace().await;
            let page = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(&zone.id)
                .start_record_name(&start.0)
                .set_start_record_type(start.1.clone())
                .set_start_record_identifier(start.2.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ListResourceRecordSets", &self.endpoint, e))?;
            let mut past = false;
            for r in page.resource_record_sets() {
                if crate::model::normalize_dns(r.name()) == wanted {
                    out.push(record_model(zone, r));
                } else if !out.is_empty() {
                    past = true;
                }
            }
            match (page.is_truncated() && !past, page.next_record_name()) {
                (true, Some(next)) => {
                    start = (
                        next.to_string(),
                        page.next_record_type().cloned(),
                        page.next_record_identifier().map(str::to_string),
                    )
                }
                _ => break,
            }
        }
        Ok(out)
    }
}

fn build_error(e: aws_sdk_route53::error::BuildError) -> AwsError {
    AwsError::Api {
        op: "ChangeResourceRecordSets",
        code: "InvalidInput".into(),
        message: e.to_string(),
    }
}

fn record_set(r: &DnsRecord) -> Result<aws_sdk_route53::types::ResourceRecordSet, AwsError> {
    use aws_sdk_route53::types::{AliasTarget as SdkAlias, ResourceRecord, ResourceRecordSet};
    let mut b = ResourceRecordSet::builder()
        .name(&r.name)
        .r#type(RrType::from(r.type_.as_str()))
        .set_set_identifier(r.set_identifier.clone())
        .set_weight(r.weight);
    match &r.alias {
        Some(a) => {
            b = b.alias_target(
                SdkAlias::builder()
                    .hosted_zone_id(&a.hosted_zone_id)
                    .dns_name(&a.dns_name)
                    .evaluate_target_health(a.evaluate_target_health)
                    .build()
                    .map_err(build_error)?,
            )
        }
        None => {
            b = b.set_ttl(r.ttl);
            for v in &r.values {
                b = b.resource_records(
                    ResourceRecord::builder()
                        .value(v)
                        .build()
                        .map_err(build_error)?,
                );
            }
        }
    }
    b.build().map_err(build_error)
}

fn record_model(zone: &Zone, r: &aws_sdk_route53::types::ResourceRecordSet) -> DnsRecord {
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
}

/// `/hostedzone/Z123` → `Z123`.
/// Zone ids are upper-case letters and digits (`Z0123456789ABCDEFGHIJ`);
/// zone names are lower-case by habit and have dots.
pub fn looks_like_zone_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

pub fn short_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // qa D-M7: --zone by id asks for that zone, by name lists by name.
    #[test]
    fn zone_ids_and_zone_names_are_told_apart() {
        assert!(looks_like_zone_id("Z0123456789ABCDEFGHIJ"));
        assert!(looks_like_zone_id(&short_zone_id(
            "/hostedzone/Z1D633PJN98FT9"
        )));
        assert!(!looks_like_zone_id("example.com"));
        assert!(!looks_like_zone_id("internal"));
        assert!(!looks_like_zone_id(""));
    }

    #[test]
    fn zone_ids_lose_their_prefix() {
        assert_eq!(short_zone_id("/hostedzone/Z1ABC"), "Z1ABC");
        assert_eq!(short_zone_id("Z1ABC"), "Z1ABC");
    }
}
