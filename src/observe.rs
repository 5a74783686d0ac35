//! Reads the cluster and AWS into a [`Snapshot`]: one paged LIST per resource
//! kind, paged describes in AWS, and per-target-group calls only for the
//! target groups of the Services in scope.

use crate::aws::AwsError;
use crate::context::Context;
use crate::error::Error;
use crate::k8s::Scope;
use crate::model::{
    CniInstall, Detection, DnsRecord, EndpointService, LbcInstall, LoadBalancer, PodInfo,
    ServiceInfo, TargetGroup, normalize_dns,
};
use crate::ui::Progress;
use std::collections::{BTreeMap, BTreeSet};

/// Beyond this many namespaces, one cluster-wide pod LIST is cheaper than one per namespace.
const PER_NAMESPACE_POD_LISTS: usize = 5;

/// Everything the audit reasons over, as plain data.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub context: Option<String>,
    pub region: Option<String>,
    /// Services of type LoadBalancer in scope.
    pub services: Vec<ServiceInfo>,
    /// Namespace name → labels, for the namespaces in scope.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Pods of namespaces whose Services need pod placement.
    pub pods: Vec<PodInfo>,
    pub lbc: Detection<LbcInstall>,
    pub cni: Detection<CniInstall>,
    pub external_dns: Detection<Vec<crate::external_dns::Install>>,
    pub load_balancers: Vec<LoadBalancer>,
    /// Target groups of the load balancers in scope, with attributes and health.
    pub target_groups: Vec<TargetGroup>,
    pub records: Vec<DnsRecord>,
    pub endpoint_services: Vec<EndpointService>,
    /// Hosted zones searched, by name.
    pub hosted_zones: Vec<String>,
    /// Whether target-group attributes and target health were read.
    pub target_details: bool,
    /// Parts that could not be read, and why: the report says so instead of failing.
    pub notes: Vec<String>,
}

/// What to read beyond the Services in scope.
#[derive(Debug, Clone, Default)]
pub struct Depth {
    /// Hosted zones to search (ids or names); empty means every zone.
    pub zones: Vec<String>,
    /// Read attributes and health of each target group (two calls each).
    pub target_details: bool,
}

pub async fn snapshot(
    ctx: &Context,
    scope: &Scope,
    depth: &Depth,
    progress: &Progress,
) -> Result<Snapshot, Error> {
    let mut snap = Snapshot {
        context: ctx.kube_context.clone(),
        region: Some(ctx.aws.region.clone()),
        target_details: depth.target_details,
        ..Default::default()
    };

    progress.set_message("reading Services and add-ons");
    let namespaces = async {
        match scope {
            Scope::Namespace(ns) => {
                let labels = ctx.kube.namespace_labels(ns).await?;
                Ok(BTreeMap::from([(ns.clone(), labels)]))
            }
            Scope::All => ctx.kube.all_namespace_labels().await,
        }
    };
    // The namespace is read first so that a wrong -n fails before anything else.
    snap.namespaces = namespaces.await?;
    let (services, (lbc, external_dns), cni) = tokio::try_join!(
        ctx.kube.services(scope),
        ctx.kube.detect_controllers(),
        ctx.kube.detect_vpc_cni(),
    )?;
    snap.external_dns = external_dns;
    snap.services = services
        .into_iter()
        .filter(ServiceInfo::is_load_balancer)
        .collect();
    snap.lbc = lbc;
    snap.cni = cni;

    if !snap.services.is_empty() {
        progress.set_message("reading load balancers and target groups");
        let (load_balancers, target_groups) = tokio::try_join!(
            ctx.aws.elbv2.load_balancers(),
            ctx.aws.elbv2.target_groups(),
        )?;
        let wanted: BTreeSet<String> = snap
            .services
            .iter()
            .flat_map(|s| s.ingress_hostnames.iter().map(|h| normalize_dns(h)))
            .collect();
        snap.load_balancers = load_balancers
            .into_iter()
            .filter(|lb| wanted.contains(&normalize_dns(&lb.dns_name)))
            .collect();
        let arns: BTreeSet<&str> = snap
            .load_balancers
            .iter()
            .map(|lb| lb.arn.as_str())
            .collect();
        let mut target_groups: Vec<TargetGroup> = target_groups
            .into_iter()
            .filter(|tg| {
                tg.load_balancer_arns
                    .iter()
                    .any(|a| arns.contains(a.as_str()))
            })
            .collect();
        if depth.target_details {
            progress.set_message(format!(
                "reading attributes and health of {} target groups",
                target_groups.len()
            ));
            ctx.aws.elbv2.fill_details(&mut target_groups).await?;
        }
        snap.target_groups = target_groups;

        progress.set_message("reading PrivateLink endpoint services");
        match ctx.aws.ec2.endpoint_services().await {
            Ok(services) => snap.endpoint_services = services,
            Err(e) if e.is_access_denied() => snap
                .notes
                .push(format!("PrivateLink endpoint services not checked: {e}")),
            Err(e) => return Err(e.into()),
        }

        progress.set_message("reading Route 53 records");
        read_dns(ctx, &depth.zones, &mut snap).await?;

        let local_namespaces: BTreeSet<&str> = snap
            .services
            .iter()
            .filter(|s| s.traffic_policy_local())
            .map(|s| s.namespace.as_str())
            .collect();
        if !local_namespaces.is_empty() {
            progress.set_message("reading pod placement");
            snap.pods = if *scope == Scope::All && local_namespaces.len() > PER_NAMESPACE_POD_LISTS
            {
                ctx.kube.pods(&Scope::All).await?
            } else {
                let mut pods = Vec::new();
                for ns in local_namespaces {
                    pods.extend(ctx.kube.pods(&Scope::Namespace(ns.to_string())).await?);
                }
                pods
            };
        }
    }
    Ok(snap)
}

async fn read_dns(ctx: &Context, wanted: &[String], snap: &mut Snapshot) -> Result<(), Error> {
    let r53 = &ctx.aws.route53;
    let zones = if wanted.is_empty() {
        match r53.zones().await {
            Ok(zones) => zones,
            Err(e) if e.is_access_denied() => {
                snap.notes.push(format!("Route 53 not searched: {e}"));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        let mut zones = Vec::new();
        for w in wanted {
            let found = r53.find_zones(w).await?;
            if found.is_empty() {
                return Err(Error::Invalid(format!(
                    "hosted zone \"{w}\" not found; list zones with aws route53 list-hosted-zones"
                )));
            }
            zones.extend(found);
        }
        zones.dedup();
        zones
    };
    for zone in &zones {
        match r53.records(zone).await {
            Ok(records) => snap.records.extend(records),
            Err(e @ AwsError::Api { .. }) if e.is_access_denied() => snap
                .notes
                .push(format!("zone {} not searched: {e}", zone.name)),
            Err(e) => return Err(e.into()),
        }
    }
    snap.hosted_zones = zones.into_iter().map(|z| z.name).collect();
    Ok(())
}
