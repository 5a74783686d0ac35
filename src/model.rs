//! Plain data observed in the cluster and in AWS: what the pure core reasons about.
//!
//! Adapters in `kube/` and `aws/` fill these from API objects; nothing here talks
//! to a network, so every decision made over them is unit-testable.

use std::collections::BTreeMap;

/// A Kubernetes Service, reduced to what the load-balancer logic needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// `spec.type`; empty means ClusterIP, as on the API server.
    pub type_: String,
    pub load_balancer_class: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
    pub external_traffic_policy: Option<String>,
    pub health_check_node_port: Option<i32>,
    pub load_balancer_source_ranges: Vec<String>,
    /// `status.loadBalancer.ingress[].hostname`.
    pub ingress_hostnames: Vec<String>,
    pub deleting: bool,
}

impl ServiceInfo {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    pub fn is_load_balancer(&self) -> bool {
        self.type_ == "LoadBalancer"
    }

    pub fn traffic_policy_local(&self) -> bool {
        self.external_traffic_policy.as_deref() == Some("Local")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: i32,
    /// TCP, UDP or SCTP; the API server defaults it to TCP.
    pub protocol: String,
    /// A number or a container port name, as written.
    pub target_port: Option<String>,
    pub node_port: Option<i32>,
}

/// A Pod, reduced to placement and readiness.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub node_name: Option<String>,
    pub ip: Option<String>,
    pub ready: bool,
}

/// Whether a cluster add-on was found, and if it could not be looked for, why.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Detection<T> {
    Found(T),
    #[default]
    Missing,
    Unknown(String),
}

/// The AWS Load Balancer Controller as installed (domain.md §8.2).
#[derive(Debug, Clone, PartialEq)]
pub struct LbcInstall {
    pub namespace: String,
    pub name: String,
    pub image: Option<String>,
    pub version: Option<Version>,
    /// Where the version was read: `image` tag or `label` (`app.kubernetes.io/version`).
    pub version_source: Option<&'static str>,
    /// The controller's `--cluster-name`, which its IAM policy keys tags on.
    pub cluster_name: Option<String>,
    /// `--load-balancer-class`, when set (the controller's default is
    /// `service.k8s.aws/nlb`, `pkg/config/service_config.go:6-7`).
    pub load_balancer_class: Option<String>,
    /// `--feature-gates` as given, gate → on/off.
    pub feature_gates: BTreeMap<String, bool>,
    /// Ready replicas from the Deployment's status (`None`: no status).
    pub ready_replicas: Option<i32>,
}

/// The Amazon VPC CNI (`kube-system/aws-node`).
#[derive(Debug, Clone, PartialEq)]
pub struct CniInstall {
    pub image: Option<String>,
    pub version: Option<Version>,
}

/// A `vMAJOR.MINOR.PATCH` version, ordered numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses `v2.13.3`, `2.13.3`, `v2.13.3-eksbuild.1`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version::new(major, minor, patch))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// An elbv2 load balancer as DescribeLoadBalancers reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub dns_name: String,
    pub canonical_hosted_zone_id: Option<String>,
    pub scheme: Option<String>,
    pub state: Option<String>,
    pub type_: Option<String>,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// One subnet per enabled zone.
    pub subnet_ids: Vec<String>,
    /// Addresses AWS reports (Elastic IPs, fixed private addresses).
    pub addresses: Vec<LbAddress>,
}

/// One address of a load balancer in one subnet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LbAddress {
    pub zone: Option<String>,
    pub subnet_id: Option<String>,
    pub ip_address: Option<String>,
    pub allocation_id: Option<String>,
    pub private_ipv4_address: Option<String>,
}

/// A target group with its attributes and target health.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub target_type: Option<String>,
    pub vpc_id: Option<String>,
    pub load_balancer_arns: Vec<String>,
    pub health_check: HealthCheck,
    /// Attribute key → value; empty when the attributes were not read.
    pub attributes: BTreeMap<String, String>,
    pub targets: Vec<TargetHealth>,
}

impl TargetGroup {
    pub fn attribute_bool(&self, key: &str) -> Option<bool> {
        self.attributes.get(key).and_then(|v| v.parse().ok())
    }

    /// Number of targets in each state, sorted by state name.
    pub fn health_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for t in &self.targets {
            *counts.entry(t.state.clone()).or_insert(0) += 1;
        }
        counts
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthCheck {
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub path: Option<String>,
    pub interval_seconds: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub healthy_threshold: Option<i32>,
    pub unhealthy_threshold: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetHealth {
    pub id: String,
    pub port: Option<i32>,
    /// `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable` (domain.md §7.2).
    pub state: String,
    pub reason: Option<String>,
}

/// A Route 53 record set.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DnsRecord {
    pub zone_id: String,
    pub zone_name: String,
    pub name: String,
    pub type_: String,
    pub set_identifier: Option<String>,
    pub weight: Option<i64>,
    pub ttl: Option<i64>,
    pub alias: Option<AliasTarget>,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AliasTarget {
    pub hosted_zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

impl DnsRecord {
    /// The load-balancer DNS names this record sends clients to: an alias target,
    /// or the values of a CNAME.
    pub fn targets(&self) -> Vec<String> {
        match (&self.alias, self.type_.as_str()) {
            (Some(alias), _) => vec![normalize_dns(&alias.dns_name)],
            (None, "CNAME") => self.values.iter().map(|v| normalize_dns(v)).collect(),
            _ => Vec::new(),
        }
    }
}

impl DnsRecord {
    /// Whether two records are the same record set as Route 53 means it:
    /// names and alias targets compared case-insensitively with the
    /// trailing dot optional and `\ddd` escapes decoded (Route 53 answers
    /// `\052.example.com.` for `*.example.com` and alias targets lower-cased
    /// and fully qualified; DeveloperGuide DomainNameFormat.html), hosted
    /// zone ids without a `/hostedzone/` prefix, CNAME values as host names.
    pub fn same_as(&self, other: &DnsRecord) -> bool {
        let alias = |a: &AliasTarget| {
            (
                a.hosted_zone_id
                    .trim_start_matches("/hostedzone/")
                    .to_ascii_uppercase(),
                fqdn_key(&a.dns_name),
                a.evaluate_target_health,
            )
        };
        let values = |r: &DnsRecord| -> Vec<String> {
            let mut v: Vec<String> = if r.type_ == "CNAME" {
                r.values.iter().map(|x| fqdn_key(x)).collect()
            } else {
                r.values.clone()
            };
            v.sort();
            v
        };
        self.same_set_as(other)
            && self.set_identifier == other.set_identifier
            && self.weight == other.weight
            && self.ttl == other.ttl
            && self.alias.as_ref().map(alias) == other.alias.as_ref().map(alias)
            && values(self) == values(other)
    }

    /// Same name and type: the same set of records, whatever their routing.
    pub fn same_set_as(&self, other: &DnsRecord) -> bool {
        self.type_ == other.type_ && record_name_key(&self.name) == record_name_key(&other.name)
    }
}

/// A host name as Route 53 compares it: lower case, no trailing dot.
fn fqdn_key(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// A record name as Route 53 compares it: escapes such as `\052` decoded,
/// lower case, no trailing dot.
pub fn record_name_key(name: &str) -> String {
    let mut out = Vec::with_capacity(name.len());
    let bytes = name.trim().as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    fqdn_key(&String::from_utf8_lossy(&out))
}

/// Lower case, no trailing dot, no `dualstack.` prefix: the form in which an alias
/// target, a CNAME value and an NLB DNS name compare equal.
pub fn normalize_dns(name: &str) -> String {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    match name.strip_prefix("dualstack.") {
        Some(rest) => rest.to_string(),
        None => name,
    }
}

/// A PrivateLink endpoint service configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointService {
    pub service_id: String,
    pub service_name: Option<String>,
    pub network_load_balancer_arns: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_and_without_prefix_and_suffix() {
        assert_eq!(Version::parse("v2.13.3"), Some(Version::new(2, 13, 3)));
        assert_eq!(Version::parse("2.4.0"), Some(Version::new(2, 4, 0)));
        assert_eq!(
            Version::parse("v1.19.2-eksbuild.1"),
            Some(Version::new(1, 19, 2))
        );
        assert_eq!(Version::parse("v3.5"), Some(Version::new(3, 5, 0)));
        assert_eq!(Version::parse("latest"), None);
        assert_eq!(Version::parse("sha256"), None);
        assert_eq!(Version::parse("1.2.3.4"), None);
    }

    #[test]
    fn versions_order_numerically_not_lexically() {
        assert!(Version::new(2, 10, 0) > Version::new(2, 9, 9));
        assert!(Version::new(3, 0, 0) > Version::new(2, 99, 0));
    }

    #[test]
    fn records_compare_as_route53_returns_them() {
        let written = DnsRecord {
            zone_id: "Z1".into(),
            name: "*.Example.com".into(),
            type_: "A".into(),
            alias: Some(AliasTarget {
                hosted_zone_id: "Z2P70J7EXAMPLE".into(),
                dns_name: "K8s-Web-Front-1.elb.us-west-2.amazonaws.com".into(),
                evaluate_target_health: true,
            }),
            ..Default::default()
        };
        let mut read = written.clone();
        read.name = "\\052.example.com.".into();
        read.alias.as_mut().unwrap().dns_name =
            "k8s-web-front-1.elb.us-west-2.amazonaws.com.".into();
        assert!(written.same_as(&read));
        let mut other = read.clone();
        other.alias.as_mut().unwrap().dns_name =
            "dualstack.k8s-web-front-1.elb.us-west-2.amazonaws.com.".into();
        assert!(!written.same_as(&other), "dualstack. is a different target");
        let mut weighted = read.clone();
        weighted.weight = Some(0);
        assert!(!written.same_as(&weighted));
        assert!(written.same_set_as(&weighted));
        let cname = |v: &str| DnsRecord {
            name: "api.example.com".into(),
            type_: "CNAME".into(),
            ttl: Some(300),
            values: vec![v.into()],
            ..Default::default()
        };
        assert!(cname("A-1.elb.amazonaws.com").same_as(&cname("a-1.elb.amazonaws.com.")));
        assert_eq!(
            record_name_key("\\100home.example.com."),
            "@home.example.com"
        );
        assert_eq!(record_name_key("bad\\0"), "bad\\0");
    }

    #[test]
    fn dns_names_compare_after_normalisation() {
        assert_eq!(
            normalize_dns("dualstack.K8s-Web-Abc.elb.us-west-2.amazonaws.com."),
            "k8s-web-abc.elb.us-west-2.amazonaws.com"
        );
    }

    #[test]
    fn cname_and_alias_records_name_their_targets() {
        let cname = DnsRecord {
            type_: "CNAME".into(),
            values: vec!["A.example.".into()],
            ..Default::default()
        };
        assert_eq!(cname.targets(), vec!["a.example"]);
        let plain_a = DnsRecord {
            type_: "A".into(),
            values: vec!["192.0.2.1".into()],
            ..Default::default()
        };
        assert!(plain_a.targets().is_empty());
    }

    #[test]
    fn health_counts_group_by_state() {
        let tg = TargetGroup {
            targets: vec![
                TargetHealth {
                    id: "a".into(),
                    state: "healthy".into(),
                    ..Default::default()
                },
                TargetHealth {
                    id: "b".into(),
                    state: "unhealthy".into(),
                    ..Default::default()
                },
                TargetHealth {
                    id: "c".into(),
                    state: "healthy".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let counts = tg.health_counts();
        assert_eq!(counts.get("healthy"), Some(&2));
        assert_eq!(counts.get("unhealthy"), Some(&1));
    }
}
