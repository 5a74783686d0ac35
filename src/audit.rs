//! The audit report: a pure function from an observed [`Snapshot`] to findings.
//!
//! Severity means: `critical` — traffic is or will be broken; `warning` — a risk
//! or something a migration must handle; `info` — worth knowing.

use crate::annotations as ann;
use crate::classify::{self, LbcRoute, Owner, TargetType};
use crate::model::{
    CniInstall, Detection, DnsRecord, LbcInstall, LoadBalancer, TargetGroup, Version, normalize_dns,
};
use crate::observe::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// First LBC release with `external` + `nlb-target-type` and instance mode (domain.md §8.1).
pub const LBC_MIN_IP_MODE: Version = Version::new(2, 2, 0);
/// First LBC release that honours `spec.loadBalancerClass` (domain.md §8.1).
pub const LBC_MIN_CLASS: Version = Version::new(2, 4, 0);
/// The EKS user guide recommends at least this release (domain.md §8.1).
pub const LBC_RECOMMENDED: Version = Version::new(2, 7, 2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier, for scripts.
    pub code: &'static str,
    /// `namespace/name` of the Service, or `cluster`.
    pub object: String,
    pub message: String,
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub cluster: ClusterReport,
    /// False with `--shallow`: target health and attributes were not read.
    pub target_details: bool,
    pub services: Vec<ServiceReport>,
    /// Findings about the cluster as a whole; Service findings sit with each Service.
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReport {
    pub context: Option<String>,
    pub region: Option<String>,
    pub load_balancer_controller: AddonReport,
    pub vpc_cni: AddonReport,
    pub external_dns: ExternalDnsReport,
    /// Hosted zones searched for records, by name.
    pub hosted_zones: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonReport {
    /// `found`, `missing` or `unknown`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The external-dns installations found, each as its flags configure it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDnsReport {
    /// `found`, `missing` or `unknown`.
    pub status: &'static str,
    pub installations: Vec<crate::external_dns::Install>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReport {
    pub namespace: String,
    pub name: String,
    /// `in-tree-nlb`, `in-tree-clb`, `lbc`, `other-class` or `unclaimed`.
    pub owner: &'static str,
    /// For `lbc`: `loadBalancerClass`, `annotation` or `nlb-ip`; for `other-class`: the class.
    pub owner_detail: Option<String>,
    /// From AWS when the target groups were found, else as declared.
    pub target_type: Option<&'static str>,
    pub scheme: Option<String>,
    pub external_traffic_policy: Option<String>,
    /// Source address the pods see: `client`, `node-ip` or `nlb-ip`.
    pub client_ip: Option<&'static str>,
    pub load_balancer: Option<LoadBalancerReport>,
    pub target_groups: Vec<TargetGroupReport>,
    pub dns_records: Vec<RecordReport>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerReport {
    pub dns_name: String,
    pub arn: Option<String>,
    pub name: Option<String>,
    pub state: Option<String>,
    pub scheme: Option<String>,
    pub eip_allocations: Vec<String>,
    pub private_ipv4_addresses: Vec<String>,
    pub endpoint_services: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupReport {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub target_type: Option<String>,
    /// `preserve_client_ip.enabled` as AWS reports it.
    pub preserve_client_ip: Option<bool>,
    /// `proxy_protocol_v2.enabled` as AWS reports it.
    pub proxy_protocol_v2: Option<bool>,
    /// Registered targets per state; absent when not read (`--shallow`).
    pub targets: Option<BTreeMap<String, usize>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordReport {
    pub zone: String,
    pub zone_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub alias: bool,
    pub set_identifier: Option<String>,
    pub weight: Option<i64>,
    /// What external-dns's TXT registry says of the record, when it owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_dns: Option<crate::external_dns::Ownership>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub services: usize,
    pub by_owner: BTreeMap<&'static str, usize>,
    pub findings: BTreeMap<&'static str, usize>,
}

/// Builds the report. Deterministic: services sorted by namespace/name,
/// findings by severity (highest first), then code.
pub fn audit(snap: &Snapshot) -> AuditReport {
    let lb_by_dns: BTreeMap<String, &LoadBalancer> = snap
        .load_balancers
        .iter()
        .map(|lb| (normalize_dns(&lb.dns_name), lb))
        .collect();

    let mut services: Vec<ServiceReport> = snap
        .services
        .iter()
        .filter(|s| s.is_load_balancer())
        .map(|svc| audit_service(snap, svc, &lb_by_dns))
        .collect();
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

    let findings = cluster_findings(snap);

    let mut by_owner = BTreeMap::new();
    for s in &services {
        *by_owner.entry(s.owner).or_insert(0) += 1;
    }
    let mut counts = BTreeMap::new();
    for f in services.iter().flat_map(|s| &s.findings).chain(&findings) {
        *counts.entry(f.severity.as_str()).or_insert(0) += 1;
    }

    AuditReport {
        api_version: "nlb.kubectl.io/v1alpha1",
        kind: "AuditReport",
        target_details: snap.target_details,
        cluster: ClusterReport {
            context: snap.context.clone(),
            region: snap.region.clone(),
            load_balancer_controller: lbc_report(&snap.lbc),
            vpc_cni: cni_report(&snap.cni),
            external_dns: external_dns_report(&snap.external_dns),
            hosted_zones: snap.hosted_zones.clone(),
        },
        summary: Summary {
            services: services.len(),
            by_owner,
            findings: counts,
        },
        services,
        findings,
    }
}

fn external_dns_report(d: &Detection<Vec<crate::external_dns::Install>>) -> ExternalDnsReport {
    match d {
        Detection::Found(installs) => ExternalDnsReport {
            status: "found",
            installations: installs.clone(),
            reason: None,
        },
        Detection::Missing => ExternalDnsReport {
            status: "missing",
            ..Default::default()
        },
        Detection::Unknown(why) => ExternalDnsReport {
            status: "unknown",
            reason: Some(why.clone()),
            ..Default::default()
        },
    }
}

/// What external-dns's registry says of `record`: read with the name
/// mapping of each installation found (their `--txt-prefix`/`--txt-suffix`),
/// or external-dns's default one when none was found (a TXT record with its
/// heritage says it all the same).
pub fn external_dns_owner(
    snap: &Snapshot,
    record: &DnsRecord,
) -> Option<crate::external_dns::Ownership> {
    let mappers: Vec<crate::external_dns::Mapper> = match &snap.external_dns {
        Detection::Found(installs) if !installs.is_empty() => {
            installs.iter().map(|i| i.mapper()).collect()
        }
        _ => vec![crate::external_dns::Mapper::new("", "")],
    };
    mappers
        .iter()
        .find_map(|m| crate::external_dns::ownership(record, &snap.records, m))
}

fn lbc_report(d: &Detection<LbcInstall>) -> AddonReport {
    addon_report(d, |l| AddonReport {
        status: "found",
        namespace: Some(l.namespace.clone()),
        name: Some(l.name.clone()),
        image: l.image.clone(),
        version: l.version.map(|v| v.to_string()),
        version_source: l.version_source,
        reason: None,
    })
}

fn cni_report(d: &Detection<CniInstall>) -> AddonReport {
    addon_report(d, |c| AddonReport {
        status: "found",
        namespace: Some("kube-system".into()),
        name: Some("aws-node".into()),
        image: c.image.clone(),
        version: c.version.map(|v| v.to_string()),
        version_source: c.version.map(|_| "image"),
        reason: None,
    })
}

fn addon_report<T>(d: &Detection<T>, found: impl Fn(&T) -> AddonReport) -> AddonReport {
    match d {
        Detection::Found(t) => found(t),
        Detection::Missing => AddonReport {
            status: "missing",
            ..Default::default()
        },
        Detection::Unknown(why) => AddonReport {
            status: "unknown",
            reason: Some(why.clone()),
            ..Default::default()
        },
    }
}

fn finding(
    severity: Severity,
    code: &'static str,
    object: &str,
    message: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        severity,
        code,
        object: object.to_string(),
        message: message.into(),
        fix: fix.into(),
    }
}

fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(b.code))
            .then(a.message.cmp(&b.message))
    });
}

fn cluster_findings(snap: &Snapshot) -> Vec<Finding> {
    let owners: Vec<Owner> = snap
        .services
        .iter()
        .filter(|s| s.is_load_balancer())
        .map(classify::owner)
        .collect();
    let legacy = owners.iter().filter(|o| **o == Owner::InTreeNlb).count();
    let lbc_managed = owners.iter().filter(|o| matches!(o, Owner::Lbc(_))).count();
    let class_managed = owners
        .iter()
        .filter(|o| **o == Owner::Lbc(LbcRoute::Class))
        .count();
    let ip_mode = snap
        .services
        .iter()
        .filter(|s| s.is_load_balancer())
        .filter(|s| classify::declared_target_type(s, &classify::owner(s)) == Some(TargetType::Ip))
        .count();

    let mut out = Vec::new();
    let obj = "cluster";
    match &snap.lbc {
        Detection::Missing if lbc_managed > 0 => out.push(finding(
            Severity::Critical,
            "lbc-missing",
            obj,
            format!("{lbc_managed} Service(s) ask for the AWS Load Balancer Controller, but no Deployment labelled app.kubernetes.io/name=aws-load-balancer-controller was found: their load balancers are not reconciled"),
            "install the AWS Load Balancer Controller (Helm chart eks/aws-load-balancer-controller), v2.7.2 or newer",
        )),
        Detection::Missing if legacy > 0 => out.push(finding(
            Severity::Warning,
            "lbc-missing",
            obj,
            format!("no AWS Load Balancer Controller found; moving the {legacy} in-tree NLB Service(s) to IP targets needs it (v2.2 or newer, v2.4 or newer for spec.loadBalancerClass)"),
            "install the AWS Load Balancer Controller (Helm chart eks/aws-load-balancer-controller), v2.7.2 or newer",
        )),
        Detection::Found(lbc) => match lbc.version {
            Some(v) if v < LBC_MIN_IP_MODE && (legacy > 0 || lbc_managed > 0) => out.push(finding(
                Severity::Critical,
                "lbc-too-old",
                obj,
                format!("the AWS Load Balancer Controller is {v}: IP targets through aws-load-balancer-type: external need v2.2.0 or newer, spec.loadBalancerClass v2.4.0 or newer"),
                "upgrade the controller to v2.7.2 or newer",
            )),
            Some(v) if v < LBC_MIN_CLASS => {
                let severity = if class_managed > 0 { Severity::Critical } else { Severity::Info };
                out.push(finding(
                    severity,
                    "lbc-no-class-support",
                    obj,
                    format!("the AWS Load Balancer Controller is {v}, older than v2.4.0: it ignores spec.loadBalancerClass ({class_managed} Service(s) use it); use aws-load-balancer-type: external with aws-load-balancer-nlb-target-type"),
                    "upgrade the controller to v2.7.2 or newer",
                ));
            }
            Some(v) if v < LBC_RECOMMENDED => out.push(finding(
                Severity::Info,
                "lbc-outdated",
                obj,
                format!("the AWS Load Balancer Controller is {v}; the EKS user guide recommends v2.7.2 or newer"),
                "upgrade the controller",
            )),
            Some(_) => {}
            None => out.push(finding(
                Severity::Info,
                "lbc-version-unknown",
                obj,
                format!("found {}/{} but could not read its version (image pinned by digest or mirrored, and no app.kubernetes.io/version label)", lbc.namespace, lbc.name),
                "label the Deployment with app.kubernetes.io/version, or check the image tag by hand",
            )),
        },
        Detection::Unknown(why) => out.push(finding(
            Severity::Info,
            "lbc-undetectable",
            obj,
            format!("could not look for the AWS Load Balancer Controller: {why}"),
            "grant list on deployments.apps (see the RBAC section of the README)",
        )),
        Detection::Missing => {}
    }
    match &snap.cni {
        Detection::Missing if ip_mode > 0 || legacy > 0 => out.push(finding(
            Severity::Warning,
            "vpc-cni-missing",
            obj,
            "the Amazon VPC CNI (kube-system/aws-node) was not found: IP targets need pod IPs routable in the VPC", // domain.md §1.3
            "confirm your CNI gives pods VPC addresses before using IP targets",
        )),
        Detection::Unknown(why) if ip_mode > 0 || legacy > 0 => out.push(finding(
            Severity::Info,
            "vpc-cni-undetectable",
            obj,
            format!("could not look for the Amazon VPC CNI: {why}"),
            "grant get on daemonsets.apps in kube-system",
        )),
        _ => {}
    }
    for note in &snap.notes {
        out.push(finding(
            Severity::Warning,
            "partial-view",
            obj,
            note.clone(),
            "grant the read permissions listed in the README's IAM section",
        ));
    }
    sort_findings(&mut out);
    out
}

fn audit_service(
    snap: &Snapshot,
    svc: &crate::model::ServiceInfo,
    lb_by_dns: &BTreeMap<String, &LoadBalancer>,
) -> ServiceReport {
    let key = svc.key();
    let owner = classify::owner(svc);
    let mut findings = Vec::new();

    let hostname = svc.ingress_hostnames.first().map(|h| normalize_dns(h));
    let lb = hostname.as_ref().and_then(|h| lb_by_dns.get(h).copied());
    let tgs: Vec<&TargetGroup> = match lb {
        Some(lb) => {
            let mut v: Vec<&TargetGroup> = snap
                .target_groups
                .iter()
                .filter(|tg| tg.load_balancer_arns.contains(&lb.arn))
                .collect();
            v.sort_by(|a, b| (a.port, &a.name).cmp(&(b.port, &b.name)));
            v
        }
        None => Vec::new(),
    };

    let declared_target = classify::declared_target_type(svc, &owner);
    let live_target = tgs
        .iter()
        .find_map(|tg| tg.target_type.as_deref().and_then(TargetType::parse));
    let target_type = live_target.or(declared_target);

    let declared_scheme = classify::declared_scheme(svc, &owner);
    let scheme = lb.and_then(|lb| lb.scheme.clone()).or_else(|| {
        declared_scheme
            .as_ref()
            .ok()
            .and_then(|s| s.map(|s| s.as_str().to_string()))
    });

    let protocol = tgs
        .first()
        .and_then(|tg| tg.protocol.clone())
        .or_else(|| svc.ports.first().map(|p| p.protocol.clone()))
        .unwrap_or_else(|| "TCP".into());
    // The live attribute is the truth; without it, what the Service declares.
    let live_preserve = tgs
        .first()
        .and_then(|tg| tg.attribute_bool("preserve_client_ip.enabled"))
        .or_else(|| classify::declared_preserve_client_ip(svc));
    let client_ip = match owner {
        Owner::InTreeNlb | Owner::Lbc(_) => target_type.map(|t| {
            classify::client_ip_seen(t, &protocol, live_preserve, svc.traffic_policy_local())
                .as_str()
        }),
        _ => None,
    };

    let records: Vec<&DnsRecord> = match lb {
        Some(lb) => {
            let dns = normalize_dns(&lb.dns_name);
            snap.records
                .iter()
                .filter(|r| r.targets().contains(&dns))
                .collect()
        }
        None => Vec::new(),
    };

    // Records external-dns owns: a switch cannot edit them under it.
    for r in &records {
        if let Some(o) = external_dns_owner(snap, r) {
            let own = o.resource.as_deref() == Some(format!("service/{key}").as_str());
            findings.push(finding(
                Severity::Info,
                "record-owned-by-external-dns",
                &key,
                format!(
                    "{} {} is owned by {}{}; cutover and migrate do not edit records external-dns owns: it would put them back on its next sync",
                    r.name.trim_end_matches('.'),
                    r.type_,
                    o.describe(),
                    if own { "" } else { ", not by this Service" }
                ),
                "change it through external-dns: its set-identifier and aws-weight annotations on the object that asks for the name",
            ));
        }
    }

    // Owner-specific findings.
    match &owner {
        Owner::InTreeNlb => findings.push(legacy_finding(svc, &key)),
        Owner::InTreeClb => findings.push(finding(
            Severity::Info,
            "classic-elb",
            &key,
            "served by a Classic ELB from the in-tree provider; kubectl nlb handles Network Load Balancers only",
            "none needed here",
        )),
        Owner::OtherClass(class) => findings.push(finding(
            Severity::Info,
            "other-class",
            &key,
            if class == ann::EKS_AUTO_CLASS {
                format!("spec.loadBalancerClass is {class}: EKS Auto Mode owns this Service (not the LBC; its annotation support differs)")
            } else {
                format!("spec.loadBalancerClass is {class}: another controller owns this Service, so neither the in-tree provider nor the LBC touches it")
            },
            "none needed here",
        )),
        Owner::Unclaimed(why) => findings.push(finding(
            Severity::Critical,
            "unclaimed",
            &key,
            format!("no controller reconciles this Service: {why}"),
            "set service.beta.kubernetes.io/aws-load-balancer-nlb-target-type to ip (or instance)",
        )),
        Owner::Lbc(route) => lbc_service_findings(snap, svc, &key, *route, target_type, &mut findings),
    }
    if let Err(why) = &declared_scheme {
        findings.push(finding(
            Severity::Critical,
            "invalid-annotation",
            &key,
            why.clone(),
            "fix the annotation; the controller stops reconciling this Service until then",
        ));
    }
    ignored_annotation_findings(svc, &owner, target_type, &key, &mut findings);

    let nlb_backed = matches!(owner, Owner::InTreeNlb | Owner::Lbc(_));
    if nlb_backed {
        match (&hostname, lb) {
            (None, _) => findings.push(finding(
                Severity::Warning,
                "not-provisioned",
                &key,
                "status.loadBalancer has no hostname: no load balancer has been provisioned",
                match (&owner, &snap.lbc) {
                    (Owner::Lbc(_), Detection::Found(l)) => format!(
                        "read the controller's log: kubectl logs -n {} deploy/{}",
                        l.namespace, l.name
                    ),
                    _ => format!("read the Service's events: kubectl describe service -n {} {}", svc.namespace, svc.name),
                },
            )),
            (Some(h), None) => findings.push(finding(
                Severity::Warning,
                "load-balancer-not-found",
                &key,
                format!(
                    "status names {h}, but no load balancer with that DNS name exists in {}",
                    snap.region.as_deref().unwrap_or("this region")
                ),
                "check --region and --profile: they must select the account and region that own the NLB",
            )),
            (Some(_), Some(lb)) => {
                load_balancer_findings(snap, svc, lb, &tgs, &records, &key, &mut findings)
            }
        }
        if svc.traffic_policy_local() && target_type == Some(TargetType::Instance) {
            uneven_pods_finding(snap, svc, &key, &mut findings);
        }
    }

    sort_findings(&mut findings);
    ServiceReport {
        namespace: svc.namespace.clone(),
        name: svc.name.clone(),
        owner: owner.id(),
        owner_detail: match &owner {
            Owner::Lbc(LbcRoute::Class) => Some("loadBalancerClass".into()),
            Owner::Lbc(LbcRoute::External) => Some("annotation".into()),
            Owner::Lbc(LbcRoute::NlbIp) => Some("nlb-ip".into()),
            Owner::OtherClass(c) => Some(c.clone()),
            _ => None,
        },
        target_type: target_type.map(TargetType::as_str),
        scheme,
        external_traffic_policy: svc.external_traffic_policy.clone(),
        client_ip,
        load_balancer: hostname.map(|h| match lb {
            Some(lb) => LoadBalancerReport {
                dns_name: lb.dns_name.clone(),
                arn: Some(lb.arn.clone()),
                name: Some(lb.name.clone()),
                state: lb.state.clone(),
                scheme: lb.scheme.clone(),
                eip_allocations: lb
                    .addresses
                    .iter()
                    .filter_map(|a| a.allocation_id.clone())
                    .collect(),
                private_ipv4_addresses: lb
                    .addresses
                    .iter()
                    .filter_map(|a| a.private_ipv4_address.clone())
                    .collect(),
                endpoint_services: endpoint_services_of(snap, &lb.arn),
            },
            None => LoadBalancerReport {
                dns_name: h,
                arn: None,
                name: None,
                state: None,
                scheme: None,
                eip_allocations: Vec::new(),
                private_ipv4_addresses: Vec::new(),
                endpoint_services: Vec::new(),
            },
        }),
        target_groups: tgs
            .iter()
            .map(|tg| TargetGroupReport {
                arn: tg.arn.clone(),
                name: tg.name.clone(),
                protocol: tg.protocol.clone(),
                port: tg.port,
                target_type: tg.target_type.clone(),
                preserve_client_ip: tg.attribute_bool("preserve_client_ip.enabled"),
                proxy_protocol_v2: tg.attribute_bool("proxy_protocol_v2.enabled"),
                targets: snap.target_details.then(|| tg.health_counts()),
            })
            .collect(),
        dns_records: records
            .iter()
            .map(|r| RecordReport {
                zone: r.zone_name.clone(),
                zone_id: r.zone_id.clone(),
                name: r.name.trim_end_matches('.').to_string(),
                type_: r.type_.clone(),
                alias: r.alias.is_some(),
                set_identifier: r.set_identifier.clone(),
                weight: r.weight,
                external_dns: external_dns_owner(snap, r),
            })
            .collect(),
        findings,
    }
}

fn endpoint_services_of(snap: &Snapshot, lb_arn: &str) -> Vec<String> {
    snap.endpoint_services
        .iter()
        .filter(|e| e.network_load_balancer_arns.iter().any(|a| a == lb_arn))
        .map(|e| e.service_id.clone())
        .collect()
}

/// What a move to LBC IP mode would have to change for this Service (domain.md §1.2).
fn legacy_finding(svc: &crate::model::ServiceInfo, key: &str) -> Finding {
    let owner = Owner::InTreeNlb;
    let scheme = classify::declared_scheme(svc, &owner)
        .ok()
        .flatten()
        .map(|s| s.as_str())
        .unwrap_or("internet-facing");
    let mut changes = vec![
        "register pod IPs instead of nodes (no NodePort hop)".to_string(),
        format!(
            "write aws-load-balancer-scheme: {scheme} explicitly (the LBC default is internal)"
        ),
    ];
    changes.push(if svc.traffic_policy_local() {
        "write preserve_client_ip.enabled=true so pods keep seeing client addresses (ip targets default to off)".into()
    } else {
        "write preserve_client_ip.enabled=false: with externalTrafficPolicy: Cluster the pods never saw client addresses".into()
    });
    if svc.annotation(ann::SSL_PORTS) == Some("*") {
        changes.push(
            "drop ssl-ports: \"*\" (the LBC matches no port with it; absent means all)".into(),
        );
    }
    if let Some(port) = svc.annotation(ann::HEALTHCHECK_PORT)
        && port.parse::<i32>().is_ok()
    {
        changes.push(format!(
            "health-check port {port} is a node port; it becomes traffic-port in IP mode"
        ));
    }
    Finding {
        severity: Severity::Warning,
        code: "legacy-in-tree-nlb",
        object: key.to_string(),
        message: format!(
            "in-tree NLB: instance targets reached through NodePort and kube-proxy (a double hop). A move to LBC IP mode would {}",
            changes.join("; ")
        ),
        fix: "move it blue/green: a parallel LBC IP-mode Service, then weighted Route 53 records; never change aws-load-balancer-type in place (it leaks the old NLB)".into(), // domain.md §2.2
    }
}

fn lbc_service_findings(
    snap: &Snapshot,
    svc: &crate::model::ServiceInfo,
    key: &str,
    route: LbcRoute,
    target_type: Option<TargetType>,
    findings: &mut Vec<Finding>,
) {
    if route == LbcRoute::NlbIp {
        findings.push(finding(
            Severity::Info,
            "deprecated-nlb-ip",
            key,
            "aws-load-balancer-type: nlb-ip is deprecated",
            "use spec.loadBalancerClass: service.k8s.aws/nlb (or type external) with aws-load-balancer-nlb-target-type: ip on a new Service",
        ));
    }
    if route == LbcRoute::Class
        && let Detection::Found(LbcInstall {
            version: Some(v), ..
        }) = &snap.lbc
        && *v < LBC_MIN_CLASS
    {
        findings.push(finding(
            Severity::Critical,
            "class-unsupported",
            key,
            format!("spec.loadBalancerClass needs LBC v2.4.0 or newer; the controller is {v}"),
            "upgrade the controller",
        ));
    }
    if target_type == Some(TargetType::Ip)
        && let Some(labels) = snap.namespaces.get(&svc.namespace)
        && labels.get(ann::READINESS_GATE_LABEL).map(String::as_str) != Some("enabled")
    {
        findings.push(finding(
            Severity::Warning,
            "readiness-gate-missing",
            key,
            format!(
                "namespace {} lacks {}=enabled: during a rollout old pods can go before new targets are healthy",  // domain.md §7.1
                svc.namespace,
                ann::READINESS_GATE_LABEL
            ),
            format!(
                "kubectl label namespace {} {}=enabled, then restart the workload so its pods get the gate",
                svc.namespace,
                ann::READINESS_GATE_LABEL
            ),
        ));
    }
    if classify::declared_preserve_client_ip(svc).is_none() {
        let default = target_type
            .map(|t| classify::default_preserve_client_ip(t, "TCP"))
            .unwrap_or(false);
        findings.push(finding(
            Severity::Info,
            "client-ip-implicit",
            key,
            format!(
                "preserve_client_ip.enabled is not written, so it follows AWS's default ({}); removing the key later would not reset it",  // domain.md §3.3
                if default { "on" } else { "off" }
            ),
            format!(
                "write service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: preserve_client_ip.enabled={default}"
            ),
        ));
    }
}

/// Annotations the owner of this Service does not read (domain.md §1.2).
fn ignored_annotation_findings(
    svc: &crate::model::ServiceInfo,
    owner: &Owner,
    target_type: Option<TargetType>,
    key: &str,
    findings: &mut Vec<Finding>,
) {
    let nlb_backed = matches!(owner, Owner::InTreeNlb | Owner::Lbc(_));
    if !nlb_backed {
        return;
    }
    for (annotation, instead) in ann::CLB_ONLY {
        if svc.annotations.contains_key(*annotation) {
            findings.push(finding(
                Severity::Info,
                "ignored-annotation",
                key,
                format!("{annotation} applies to Classic ELBs only; nothing reads it here"),
                format!("remove it; the NLB equivalent is {instead}"),
            ));
        }
    }
    match owner {
        Owner::InTreeNlb => {
            for annotation in ann::LBC_ONLY {
                if svc.annotations.contains_key(*annotation) {
                    findings.push(finding(
                        Severity::Warning,
                        "ignored-annotation",
                        key,
                        format!("{annotation} is read only by the AWS Load Balancer Controller; the in-tree provider serving this Service ignores it"),
                        "remove it, or move the Service to the LBC",
                    ));
                }
            }
            if svc.annotations.contains_key(ann::PROXY_PROTOCOL) {
                findings.push(finding(
                    Severity::Info,
                    "ignored-annotation",
                    key,
                    format!("{} is ignored for NLBs by the in-tree provider (Classic ELB only): proxy protocol v2 is off unless set on the target group out of band", ann::PROXY_PROTOCOL),
                    "check proxy_protocol_v2.enabled on the target groups before relying on it",
                ));
            }
            if svc.annotations.contains_key(ann::HEALTHCHECK_TIMEOUT) {
                findings.push(finding(
                    Severity::Info,
                    "ignored-annotation",
                    key,
                    format!(
                        "{} is parsed but never sent for in-tree NLB target groups",
                        ann::HEALTHCHECK_TIMEOUT
                    ),
                    "expect it to take effect only after a move to the LBC",
                ));
            }
            for annotation in [
                ann::TARGET_GROUP_ATTRIBUTES,
                ann::SECURITY_GROUPS,
                ann::PRIVATE_IPV4_ADDRESSES,
            ] {
                if svc.annotations.contains_key(annotation) {
                    findings.push(finding(
                        Severity::Info,
                        "ignored-annotation",
                        key,
                        format!("{annotation} on an in-tree NLB is read only by cloud-provider-aws v1.34 or newer (security groups: v1.35 in Managed mode); the legacy in-tree provider ignores it"),
                        "check the live load balancer and target groups rather than the annotation",
                    ));
                }
            }
        }
        Owner::Lbc(_) => {
            if svc.annotations.contains_key(ann::SCHEME)
                && svc.annotations.contains_key(ann::INTERNAL)
            {
                findings.push(finding(
                    Severity::Info,
                    "ignored-annotation",
                    key,
                    format!(
                        "{} is ignored because {} is set (the scheme annotation wins)",
                        ann::INTERNAL,
                        ann::SCHEME
                    ),
                    format!("remove {}", ann::INTERNAL),
                ));
            }
            let node_labels = "service.beta.kubernetes.io/aws-load-balancer-target-node-labels";
            if target_type == Some(TargetType::Ip) && svc.annotations.contains_key(node_labels) {
                findings.push(finding(
                    Severity::Info,
                    "ignored-annotation",
                    key,
                    format!("{node_labels} applies to instance targets only; this Service uses ip targets"),
                    "remove it",
                ));
            }
        }
        _ => {}
    }
}

/// An LBC Service whose clients a DNS switch cannot move (addresses,
/// PrivateLink, names outside Route 53): only `cutover --via listener`,
/// which keeps the NLB, changes its client-IP behaviour without moving
/// them; it needs LBC v2.16.0 or later (`switch::listener::FIRST_VERSION`).
fn listener_only(
    snap: &Snapshot,
    svc: &crate::model::ServiceInfo,
    pinned: &[&str],
    key: &str,
) -> Option<Finding> {
    if pinned.is_empty() || !matches!(crate::classify::owner(svc), Owner::Lbc(_)) {
        return None;
    }
    let first = crate::switch::listener::FIRST_VERSION;
    let fix = match &snap.lbc {
        Detection::Found(l) if l.version.is_some_and(|v| v < first) => format!(
            "upgrade the AWS Load Balancer Controller ({}) to {first} or later, then use `kubectl nlb cutover {} -n {} --via listener`",
            l.version.map(|v| v.to_string()).unwrap_or_default(),
            svc.name,
            svc.namespace
        ),
        _ => format!(
            "use `kubectl nlb cutover {} -n {} --via listener` (same NLB, addresses and endpoint services; LBC {first} or later)",
            svc.name, svc.namespace
        ),
    };
    Some(finding(
        Severity::Info,
        "listener-cutover-only",
        key,
        format!(
            "only a cutover on the same NLB keeps every client ({}): a DNS cutover moves only clients that resolve a Route 53 name",
            pinned.join(", ")
        ),
        fix,
    ))
}

fn load_balancer_findings(
    snap: &Snapshot,
    svc: &crate::model::ServiceInfo,
    lb: &LoadBalancer,
    tgs: &[&TargetGroup],
    records: &[&DnsRecord],
    key: &str,
    findings: &mut Vec<Finding>,
) {
    if let Some(state) = lb.state.as_deref()
        && state != "active"
    {
        findings.push(finding(
            Severity::Warning,
            "load-balancer-not-active",
            key,
            format!("load balancer {} is {state}", lb.name),
            "wait for it to become active, or read its state reason in the EC2 console",
        ));
    }

    let mut eips: Vec<String> = lb
        .addresses
        .iter()
        .filter_map(|a| a.allocation_id.clone())
        .collect();
    if eips.is_empty()
        && let Some(v) = svc.annotation(ann::EIP_ALLOCATIONS)
    {
        eips = v.split(',').map(|s| s.trim().to_string()).collect();
    }
    if !eips.is_empty() {
        findings.push(finding(
            Severity::Warning,
            "static-addresses",
            key,
            format!("the NLB holds Elastic IPs ({}): an EIP belongs to one NLB at a time, so a parallel NLB cannot take them and a DNS switch cannot move clients that use the addresses", eips.join(", ")),
            "plan new addresses with the clients that pin these IPs, or a maintenance window",
        ));
    }
    if let Some(v) = svc.annotation(ann::PRIVATE_IPV4_ADDRESSES) {
        findings.push(finding(
            Severity::Warning,
            "static-addresses",
            key,
            format!("the NLB uses fixed private IPv4 addresses ({v}): a parallel NLB cannot take them while this one holds them"),
            "plan new addresses with the clients that pin these IPs, or a maintenance window",
        ));
    }
    let endpoint_services = endpoint_services_of(snap, &lb.arn);
    if !endpoint_services.is_empty() {
        findings.push(finding(
            Severity::Warning,
            "privatelink",
            key,
            format!("PrivateLink endpoint service {} fronts this NLB: consumers connect through their endpoints, not DNS, so a DNS switch does not move them", endpoint_services.join(", ")),
            "add the new NLB to the endpoint service and remove the old one there, as a separate step",
        ));
    }

    let mut pinned: Vec<&str> = Vec::new();
    if !eips.is_empty() {
        pinned.push("Elastic IPs");
    }
    if svc.annotation(ann::PRIVATE_IPV4_ADDRESSES).is_some() {
        pinned.push("fixed private addresses");
    }
    if !endpoint_services.is_empty() {
        pinned.push("a PrivateLink endpoint service");
    }
    if records.is_empty() {
        pinned.push("no Route 53 record in the zones searched");
    }
    if let Some(f) = listener_only(snap, svc, &pinned, key) {
        findings.push(f);
    }

    if tgs.is_empty() {
        findings.push(finding(
            Severity::Warning,
            "no-target-groups",
            key,
            format!("load balancer {} has no target groups", lb.name),
            "check the controller's log",
        ));
    }
    for tg in tgs.iter().filter(|_| snap.target_details) {
        let counts = tg.health_counts();
        let total: usize = counts.values().sum();
        let healthy = counts.get("healthy").copied().unwrap_or(0);
        if total == 0 {
            findings.push(finding(
                Severity::Warning,
                "no-targets",
                key,
                format!("target group {} has no registered targets: the NLB fails open, and Route 53 counts it unhealthy", tg.name), // domain.md §5.1, §7.3
                "check that the Service selects ready pods and that the controller registers them",
            ));
        } else if healthy < total
            && healthy > 0
            && local_nodes_expected(snap, svc, tg, total - healthy)
        {
            let podless = total.saturating_sub(local_pod_nodes(snap, svc).len());
            findings.push(finding(
                Severity::Info,
                "local-nodes-without-pods",
                key,
                format!(
                    "target group {}: {healthy}/{total} healthy; {podless} node(s) run no ready pod of the Service and fail the health check by design (externalTrafficPolicy: Local), so the NLB sends them nothing",
                    tg.name
                ),
                "nothing to do; run a pod on every node (a DaemonSet) to use them",
            ));
        } else if healthy < total {
            let detail: Vec<String> = counts
                .iter()
                .filter(|(state, _)| state.as_str() != "healthy")
                .map(|(state, n)| format!("{n} {state}"))
                .collect();
            findings.push(finding(
                if healthy == 0 {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                "targets-not-healthy",
                key,
                format!(
                    "target group {}: {healthy}/{total} healthy ({})",
                    tg.name,
                    detail.join(", ")
                ),
                format!(
                    "aws elbv2 describe-target-health --target-group-arn {}",
                    tg.arn
                ),
            ));
        }
    }

    if records.is_empty() {
        findings.push(finding(
            Severity::Info,
            "no-dns-record",
            key,
            if snap.hosted_zones.is_empty() {
                "no hosted zone was searched, so no Route 53 record is known to point at this NLB".to_string()
            } else {
                format!("no Route 53 record in the searched zones ({}) points at this NLB: clients use its hostname directly, which a weighted-DNS switch cannot move", snap.hosted_zones.join(", "))
            },
            "pass --zone to search another hosted zone, or give clients a record you control",
        ));
    }
}

/// The nodes that run a ready pod of the Service.
fn local_pod_nodes<'a>(snap: &'a Snapshot, svc: &crate::model::ServiceInfo) -> BTreeSet<&'a str> {
    if svc.selector.is_empty() {
        return BTreeSet::new();
    }
    snap.pods
        .iter()
        .filter(|p| p.namespace == svc.namespace && p.ready)
        .filter(|p| svc.selector.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
        .filter_map(|p| p.node_name.as_deref())
        .collect()
}

/// Whether `not_healthy` instance targets of a Local Service are the nodes
/// without a ready pod: kube-proxy fails their NodePort health check by
/// design ("If the traffic policy is Local and there are no node-local
/// endpoints, the kube-proxy does not forward any traffic").
fn local_nodes_expected(
    snap: &Snapshot,
    svc: &crate::model::ServiceInfo,
    tg: &TargetGroup,
    not_healthy: usize,
) -> bool {
    if !svc.traffic_policy_local() || tg.target_type.as_deref() != Some("instance") {
        return false;
    }
    let only_unhealthy = tg
        .targets
        .iter()
        .all(|t| t.state == "healthy" || t.state == "unhealthy");
    let podless = tg
        .targets
        .len()
        .saturating_sub(local_pod_nodes(snap, svc).len());
    only_unhealthy && not_healthy <= podless
}

/// With `externalTrafficPolicy: Local` and instance targets the NLB spreads
/// traffic evenly over nodes that have a ready pod, so pods on crowded nodes
/// get a smaller share each (seed 002).
fn uneven_pods_finding(
    snap: &Snapshot,
    svc: &crate::model::ServiceInfo,
    key: &str,
    findings: &mut Vec<Finding>,
) {
    if svc.selector.is_empty() {
        return;
    }
    let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for pod in &snap.pods {
        if pod.namespace != svc.namespace || !pod.ready {
            continue;
        }
        if !svc
            .selector
            .iter()
            .all(|(k, v)| pod.labels.get(k) == Some(v))
        {
            continue;
        }
        if let Some(node) = pod.node_name.as_deref() {
            *per_node.entry(node).or_insert(0) += 1;
        }
    }
    let (min, max) = match (per_node.values().min(), per_node.values().max()) {
        (Some(min), Some(max)) => (*min, *max),
        _ => return,
    };
    if min != max {
        let spread: Vec<String> = per_node
            .iter()
            .map(|(node, n)| format!("{node}: {n}"))
            .collect();
        findings.push(finding(
            Severity::Warning,
            "uneven-local-pods",
            key,
            format!("externalTrafficPolicy: Local with instance targets splits traffic per node, not per pod, and the ready pods are uneven ({}): pods on crowded nodes each get less", spread.join(", ")),
            "spread the pods evenly (topologySpreadConstraints or a DaemonSet), or move to ip targets",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AliasTarget, EndpointService, LbAddress, PodInfo, ServiceInfo, ServicePort, TargetHealth,
    };

    fn lbc(version: &str) -> Detection<LbcInstall> {
        Detection::Found(LbcInstall {
            namespace: "kube-system".into(),
            name: "aws-load-balancer-controller".into(),
            image: None,
            version: Version::parse(version),
            version_source: Some("image"),
            cluster_name: Some("test".into()),
            load_balancer_class: None,
            feature_gates: Default::default(),
            ready_replicas: Some(1),
        })
    }

    fn base_snapshot() -> Snapshot {
        Snapshot {
            context: Some("test".into()),
            region: Some("us-west-2".into()),
            lbc: lbc("v2.13.3"),
            cni: Detection::Found(CniInstall {
                image: None,
                version: None,
            }),
            hosted_zones: vec!["example.com".into()],
            target_details: true,
            ..Default::default()
        }
    }

    fn service(ns: &str, name: &str, annotations: &[(&str, &str)]) -> ServiceInfo {
        ServiceInfo {
            namespace: ns.into(),
            name: name.into(),
            type_: "LoadBalancer".into(),
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            selector: [("app".to_string(), name.to_string())].into(),
            ports: vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                protocol: "TCP".into(),
                target_port: Some("8080".into()),
                node_port: Some(30080),
            }],
            ingress_hostnames: vec![format!("{name}.elb.us-west-2.amazonaws.com")],
            ..Default::default()
        }
    }

    fn nlb(name: &str) -> LoadBalancer {
        LoadBalancer {
            arn: format!("arn:lb/{name}"),
            name: name.into(),
            dns_name: format!("{name}.elb.us-west-2.amazonaws.com"),
            scheme: Some("internet-facing".into()),
            state: Some("active".into()),
            ..Default::default()
        }
    }

    fn tg(lb: &str, target_type: &str, states: &[&str]) -> TargetGroup {
        TargetGroup {
            arn: format!("arn:tg/{lb}"),
            name: format!("tg-{lb}"),
            protocol: Some("TCP".into()),
            port: Some(80),
            target_type: Some(target_type.into()),
            load_balancer_arns: vec![format!("arn:lb/{lb}")],
            targets: states
                .iter()
                .enumerate()
                .map(|(i, s)| TargetHealth {
                    id: format!("t{i}"),
                    state: s.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn codes(report: &AuditReport, svc: usize) -> Vec<&'static str> {
        report.services[svc]
            .findings
            .iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn a_legacy_service_is_a_migration_candidate_with_its_facts() {
        let mut snap = base_snapshot();
        let mut svc = service("shop", "checkout", &[(ann::LB_TYPE, "nlb")]);
        svc.external_traffic_policy = Some("Local".into());
        snap.services.push(svc);
        snap.load_balancers.push(nlb("checkout"));
        snap.target_groups
            .push(tg("checkout", "instance", &["healthy", "healthy"]));
        snap.records.push(DnsRecord {
            zone_id: "Z1".into(),
            zone_name: "example.com".into(),
            name: "checkout.example.com.".into(),
            type_: "A".into(),
            alias: Some(AliasTarget {
                hosted_zone_id: "ZLB".into(),
                dns_name: "dualstack.checkout.elb.us-west-2.amazonaws.com.".into(),
                evaluate_target_health: true,
            }),
            ..Default::default()
        });
        let report = audit(&snap);
        let s = &report.services[0];
        assert_eq!(s.owner, "in-tree-nlb");
        assert_eq!(s.target_type, Some("instance"));
        assert_eq!(s.scheme.as_deref(), Some("internet-facing"));
        assert_eq!(s.client_ip, Some("client"));
        assert_eq!(s.dns_records.len(), 1);
        assert_eq!(s.dns_records[0].name, "checkout.example.com");
        assert_eq!(codes(&report, 0), vec!["legacy-in-tree-nlb"]);
        let msg = &s.findings[0].message;
        assert!(
            msg.contains("aws-load-balancer-scheme: internet-facing"),
            "{msg}"
        );
        assert!(msg.contains("preserve_client_ip.enabled=true"), "{msg}");
    }

    #[test]
    fn cluster_policy_legacy_services_keep_client_ip_off() {
        let mut snap = base_snapshot();
        snap.services
            .push(service("shop", "api", &[(ann::LB_TYPE, "nlb")]));
        let report = audit(&snap);
        let legacy = report.services[0]
            .findings
            .iter()
            .find(|f| f.code == "legacy-in-tree-nlb")
            .expect("finding");
        assert!(legacy.message.contains("preserve_client_ip.enabled=false"));
        assert_eq!(report.services[0].client_ip, Some("node-ip"));
    }

    #[test]
    fn an_unprovisioned_lbc_service_points_at_the_controller_log() {
        let mut snap = base_snapshot();
        let mut svc = service(
            "web",
            "frontend",
            &[
                (ann::NLB_TARGET_TYPE, "ip"),
                (
                    ann::TARGET_GROUP_ATTRIBUTES,
                    "preserve_client_ip.enabled=true",
                ),
            ],
        );
        svc.load_balancer_class = Some(ann::LBC_CLASS.into());
        svc.ingress_hostnames.clear();
        snap.services.push(svc);
        snap.namespaces.insert(
            "web".into(),
            [(ann::READINESS_GATE_LABEL.to_string(), "enabled".to_string())].into(),
        );
        let report = audit(&snap);
        assert_eq!(codes(&report, 0), vec!["not-provisioned"]);
        assert!(
            report.services[0].findings[0]
                .fix
                .contains("kubectl logs -n kube-system deploy/aws-load-balancer-controller")
        );
    }

    #[test]
    fn ip_mode_without_readiness_gates_is_a_warning() {
        let mut snap = base_snapshot();
        let svc = service(
            "shop",
            "payments",
            &[
                (ann::LB_TYPE, "external"),
                (ann::NLB_TARGET_TYPE, "ip"),
                (
                    "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout",
                    "350",
                ),
            ],
        );
        snap.services.push(svc);
        snap.namespaces.insert("shop".into(), BTreeMap::new());
        snap.load_balancers.push(nlb("payments"));
        snap.target_groups
            .push(tg("payments", "ip", &["healthy", "healthy"]));
        let report = audit(&snap);
        assert_eq!(
            codes(&report, 0),
            vec![
                "readiness-gate-missing",
                "client-ip-implicit",
                "ignored-annotation",
                "listener-cutover-only",
                "no-dns-record"
            ]
        );
        assert_eq!(report.services[0].client_ip, Some("nlb-ip"));
    }

    #[test]
    fn unhealthy_and_empty_target_groups_are_reported() {
        let mut snap = base_snapshot();
        snap.services
            .push(service("a", "one", &[(ann::LB_TYPE, "nlb")]));
        snap.services
            .push(service("a", "two", &[(ann::LB_TYPE, "nlb")]));
        snap.load_balancers.push(nlb("one"));
        snap.load_balancers.push(nlb("two"));
        snap.target_groups
            .push(tg("one", "instance", &["healthy", "unhealthy", "draining"]));
        snap.target_groups.push(tg("two", "instance", &[]));
        let report = audit(&snap);
        let one = &report.services[0].findings;
        let bad = one
            .iter()
            .find(|f| f.code == "targets-not-healthy")
            .expect("finding");
        assert_eq!(bad.severity, Severity::Warning);
        assert!(
            bad.message
                .contains("1/3 healthy (1 draining, 1 unhealthy)")
        );
        assert!(
            report.services[1]
                .findings
                .iter()
                .any(|f| f.code == "no-targets")
        );
    }

    #[test]
    fn static_addresses_and_privatelink_block_a_dns_switch() {
        let mut snap = base_snapshot();
        snap.services
            .push(service("web", "static", &[(ann::LB_TYPE, "nlb")]));
        let mut lb = nlb("static");
        lb.addresses.push(LbAddress {
            allocation_id: Some("eipalloc-1".into()),
            ..Default::default()
        });
        snap.endpoint_services.push(EndpointService {
            service_id: "vpce-svc-1".into(),
            service_name: None,
            network_load_balancer_arns: vec![lb.arn.clone()],
        });
        snap.load_balancers.push(lb);
        snap.target_groups
            .push(tg("static", "instance", &["healthy"]));
        let report = audit(&snap);
        let c = codes(&report, 0);
        assert!(c.contains(&"static-addresses"), "{c:?}");
        assert!(c.contains(&"privatelink"), "{c:?}");
        let lb = report.services[0].load_balancer.as_ref().expect("lb");
        assert_eq!(lb.eip_allocations, vec!["eipalloc-1"]);
        assert_eq!(lb.endpoint_services, vec!["vpce-svc-1"]);
    }

    #[test]
    fn lbc_services_only_a_listener_cutover_keeps_are_marked() {
        let with = |anns: &[(&str, &str)], eip: bool| {
            let mut snap = base_snapshot();
            snap.services.push(service("web", "edge", anns));
            let mut lb = nlb("edge");
            if eip {
                lb.addresses.push(LbAddress {
                    allocation_id: Some("eipalloc-1".into()),
                    ..Default::default()
                });
            }
            snap.load_balancers.push(lb);
            snap.target_groups.push(tg("edge", "ip", &["healthy"]));
            audit(&snap)
        };
        let lbc = [(ann::LB_TYPE, "external"), (ann::NLB_TARGET_TYPE, "ip")];
        let report = with(&lbc, true);
        let f = report.services[0]
            .findings
            .iter()
            .find(|f| f.code == "listener-cutover-only")
            .expect("marked");
        assert!(f.message.contains("Elastic IPs"), "{}", f.message);
        assert!(f.fix.contains("--via listener"), "{}", f.fix);
        assert!(
            f.fix.contains("upgrade"),
            "the seeded LBC is v2.13.3: {}",
            f.fix
        );
        // In-tree Services cannot take that path (their NLBs have no
        // weighted listeners): migrate is their way.
        let intree = with(&[(ann::LB_TYPE, "nlb")], true);
        assert!(!codes(&intree, 0).contains(&"listener-cutover-only"));
    }

    #[test]
    fn eip_annotation_counts_when_aws_does_not_report_allocations() {
        let mut snap = base_snapshot();
        snap.services.push(service(
            "web",
            "static",
            &[
                (ann::LB_TYPE, "nlb"),
                (ann::EIP_ALLOCATIONS, "eipalloc-a, eipalloc-b"),
            ],
        ));
        snap.load_balancers.push(nlb("static"));
        snap.target_groups
            .push(tg("static", "instance", &["healthy"]));
        let report = audit(&snap);
        let f = report.services[0]
            .findings
            .iter()
            .find(|f| f.code == "static-addresses")
            .expect("finding");
        assert!(f.message.contains("eipalloc-a, eipalloc-b"));
    }

    #[test]
    fn uneven_pods_behind_local_instance_targets() {
        let mut snap = base_snapshot();
        let mut svc = service("shop", "checkout", &[(ann::LB_TYPE, "nlb")]);
        svc.external_traffic_policy = Some("Local".into());
        snap.services.push(svc);
        for (i, node) in ["n1", "n1", "n2"].iter().enumerate() {
            snap.pods.push(PodInfo {
                namespace: "shop".into(),
                name: format!("p{i}"),
                labels: [("app".to_string(), "checkout".to_string())].into(),
                node_name: Some(node.to_string()),
                ip: None,
                ready: true,
            });
        }
        let report = audit(&snap);
        let f = report.services[0]
            .findings
            .iter()
            .find(|f| f.code == "uneven-local-pods")
            .expect("finding");
        assert!(f.message.contains("n1: 2, n2: 1"), "{}", f.message);
    }

    #[test]
    fn even_pods_or_cluster_policy_raise_nothing() {
        let mut snap = base_snapshot();
        let mut svc = service("shop", "checkout", &[(ann::LB_TYPE, "nlb")]);
        svc.external_traffic_policy = Some("Local".into());
        snap.services.push(svc);
        for (i, node) in ["n1", "n2"].iter().enumerate() {
            snap.pods.push(PodInfo {
                namespace: "shop".into(),
                name: format!("p{i}"),
                labels: [("app".to_string(), "checkout".to_string())].into(),
                node_name: Some(node.to_string()),
                ip: None,
                ready: true,
            });
        }
        let report = audit(&snap);
        assert!(!codes(&report, 0).contains(&"uneven-local-pods"));
    }

    #[test]
    fn lbc_missing_is_critical_when_services_depend_on_it() {
        let mut snap = base_snapshot();
        snap.lbc = Detection::Missing;
        let mut svc = service("web", "frontend", &[]);
        svc.load_balancer_class = Some(ann::LBC_CLASS.into());
        snap.services.push(svc);
        let report = audit(&snap);
        assert_eq!(report.findings[0].code, "lbc-missing");
        assert_eq!(report.findings[0].severity, Severity::Critical);
    }

    #[test]
    fn lbc_missing_is_a_warning_for_legacy_only_clusters() {
        let mut snap = base_snapshot();
        snap.lbc = Detection::Missing;
        snap.services
            .push(service("shop", "api", &[(ann::LB_TYPE, "nlb")]));
        let report = audit(&snap);
        assert_eq!(report.findings[0].code, "lbc-missing");
        assert_eq!(report.findings[0].severity, Severity::Warning);
    }

    #[test]
    fn lbc_versions_gate_ip_mode_and_classes() {
        let mut snap = base_snapshot();
        snap.services
            .push(service("shop", "api", &[(ann::LB_TYPE, "nlb")]));
        snap.lbc = lbc("v2.1.3");
        assert_eq!(audit(&snap).findings[0].code, "lbc-too-old");
        snap.lbc = lbc("v2.3.1");
        let r = audit(&snap);
        assert_eq!(r.findings[0].code, "lbc-no-class-support");
        assert_eq!(r.findings[0].severity, Severity::Info);
        snap.lbc = lbc("v2.6.0");
        assert_eq!(audit(&snap).findings[0].code, "lbc-outdated");
        snap.lbc = lbc("v2.13.3");
        assert!(audit(&snap).findings.is_empty());
    }

    #[test]
    fn a_class_service_under_an_old_controller_is_critical() {
        let mut snap = base_snapshot();
        snap.lbc = lbc("v2.3.0");
        let mut svc = service("web", "frontend", &[(ann::NLB_TARGET_TYPE, "ip")]);
        svc.load_balancer_class = Some(ann::LBC_CLASS.into());
        snap.services.push(svc);
        let r = audit(&snap);
        assert_eq!(r.findings[0].severity, Severity::Critical);
        assert!(codes(&r, 0).contains(&"class-unsupported"));
    }

    #[test]
    fn vpc_cni_missing_matters_only_for_ip_mode_or_migrations() {
        let mut snap = base_snapshot();
        snap.cni = Detection::Missing;
        assert!(audit(&snap).findings.is_empty());
        snap.services
            .push(service("shop", "api", &[(ann::LB_TYPE, "nlb")]));
        assert_eq!(audit(&snap).findings[0].code, "vpc-cni-missing");
    }

    #[test]
    fn invalid_internal_annotation_on_an_lbc_service_is_critical() {
        let mut snap = base_snapshot();
        let mut svc = service("web", "x", &[(ann::INTERNAL, "0.0.0.0/0")]);
        svc.load_balancer_class = Some(ann::LBC_CLASS.into());
        snap.services.push(svc);
        let r = audit(&snap);
        assert_eq!(r.services[0].findings[0].code, "invalid-annotation");
    }

    #[test]
    fn lbc_only_annotations_on_a_legacy_service_are_flagged() {
        let mut snap = base_snapshot();
        snap.services.push(service(
            "shop",
            "api",
            &[(ann::LB_TYPE, "nlb"), (ann::SCHEME, "internal")],
        ));
        let r = audit(&snap);
        let f = r.services[0]
            .findings
            .iter()
            .find(|f| f.code == "ignored-annotation")
            .expect("finding");
        assert_eq!(f.severity, Severity::Warning);
        // The legacy Service is still internet-facing: the scheme annotation is not read.
        assert_eq!(r.services[0].scheme.as_deref(), Some("internet-facing"));
    }

    #[test]
    fn other_classes_and_classic_elbs_are_named_not_inspected() {
        let mut snap = base_snapshot();
        let mut other = service("default", "other", &[]);
        other.load_balancer_class = Some("example.com/other".into());
        other.ingress_hostnames.clear();
        let mut classic = service("default", "classic", &[]);
        classic.ingress_hostnames.clear();
        snap.services.push(other);
        snap.services.push(classic);
        let r = audit(&snap);
        assert_eq!(r.services[0].name, "classic");
        assert_eq!(codes(&r, 0), vec!["classic-elb"]);
        assert_eq!(codes(&r, 1), vec!["other-class"]);
        assert_eq!(
            r.services[1].owner_detail.as_deref(),
            Some("example.com/other")
        );
        assert_eq!(r.summary.by_owner.get("other-class"), Some(&1));
    }

    #[test]
    fn a_hostname_without_a_load_balancer_points_at_the_region() {
        let mut snap = base_snapshot();
        snap.services
            .push(service("shop", "api", &[(ann::LB_TYPE, "nlb")]));
        let r = audit(&snap);
        assert!(codes(&r, 0).contains(&"load-balancer-not-found"));
    }

    #[test]
    fn a_shallow_snapshot_raises_no_health_findings() {
        let mut snap = base_snapshot();
        snap.target_details = false;
        snap.services
            .push(service("a", "one", &[(ann::LB_TYPE, "nlb")]));
        snap.load_balancers.push(nlb("one"));
        snap.target_groups.push(tg("one", "instance", &[]));
        let report = audit(&snap);
        assert!(!report.target_details);
        assert!(!codes(&report, 0).contains(&"no-targets"));
        assert_eq!(report.services[0].target_groups[0].targets, None);
    }

    #[test]
    fn non_load_balancer_services_are_skipped() {
        let mut snap = base_snapshot();
        let mut svc = service("a", "b", &[]);
        svc.type_ = "ClusterIP".into();
        snap.services.push(svc);
        assert!(audit(&snap).services.is_empty());
    }
}
