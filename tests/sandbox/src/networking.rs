//! What reaches a target: the security-group rules the LBC writes from
//! TargetGroupBindings, the NodePort health of `externalTrafficPolicy:
//! Local` Services, and a reachability question tests can ask.
//!
//! * **Rules.** The LBC's networking manager aggregates the `networking`
//!   rules of every TargetGroupBinding per target security group and keeps
//!   only the rules it labelled: description
//!   `elbv2.k8s.aws/targetGroupBinding=shared`; it grants what is missing and
//!   revokes what no binding wants (pkg/targetgroupbinding/networking_manager.go:28-29,
//!   :230-232, :271-272; pkg/networking/security_group_reconciler.go). The
//!   target security group is the node's (instance targets, and ip targets on
//!   a node's addresses).
//! * **Local NodePorts.** "If the traffic policy is `Local` and there are no
//!   node-local endpoints, the kube-proxy does not forward any traffic"
//!   (kubernetes.io, services-networking/service.md), so the NLB's health
//!   check of that node fails: moto is told which `instance:nodePort` targets
//!   have a ready local pod.
//! * **Reachability.** [`reaches`]: a client address, through an NLB listener,
//!   to a node: the NLB's own security groups must admit the client; the node
//!   sees the client's address when the target group preserves it (else an
//!   address of the NLB in the node's subnet) and the NLB's security groups as
//!   the source group (AWS lets targets reference them either way); a rule of
//!   the node's security groups must admit that source on the target port.

use crate::Error;
use crate::aws::{AwsClients, aws_err};
use aws_sdk_ec2::types::{IpPermission, IpRange, UserIdGroupPair};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use std::collections::{BTreeMap, BTreeSet};

pub const RULE_DESCRIPTION: &str = "elbv2.k8s.aws/targetGroupBinding=shared";

/// One ingress permission: protocol, port, and a CIDR or a group id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Perm {
    pub protocol: String,
    pub port: i32,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Cidr(String),
    Group(String),
}

/// The permissions of one TargetGroupBinding's `spec.networking`.
pub fn binding_perms(networking: Option<&serde_json::Value>) -> Vec<Perm> {
    let mut out = Vec::new();
    for rule in networking
        .and_then(|n| n["ingress"].as_array())
        .into_iter()
        .flatten()
    {
        let sources: Vec<Source> = rule["from"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                f.pointer("/ipBlock/cidr")
                    .and_then(|c| c.as_str())
                    .map(|c| Source::Cidr(c.to_string()))
                    .or_else(|| {
                        f.pointer("/securityGroup/groupID")
                            .and_then(|g| g.as_str())
                            .map(|g| Source::Group(g.to_string()))
                    })
            })
            .collect();
        for p in rule["ports"].as_array().into_iter().flatten() {
            let Some(port) = p["port"].as_i64() else {
                continue;
            };
            let protocol = p["protocol"].as_str().unwrap_or("TCP").to_ascii_lowercase();
            for s in &sources {
                out.push(Perm {
                    protocol: protocol.clone(),
                    port: port as i32,
                    source: s.clone(),
                });
            }
        }
    }
    out
}

/// An instance as the rules need it.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    pub id: String,
    pub private_ip: String,
    pub subnet_id: String,
    pub groups: Vec<String>,
}

pub async fn instances(aws: &AwsClients) -> Result<Vec<Instance>, Error> {
    let out = aws
        .ec2
        .describe_instances()
        .send()
        .await
        .map_err(aws_err("DescribeInstances"))?;
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| Instance {
            id: i.instance_id().unwrap_or_default().to_string(),
            private_ip: i.private_ip_address().unwrap_or_default().to_string(),
            subnet_id: i.subnet_id().unwrap_or_default().to_string(),
            // The groups of its interfaces: the LBC adds rules to the ENI's
            // groups (and moto lists a default-group instance's group only there).
            groups: i
                .security_groups()
                .iter()
                .filter_map(|g| g.group_id())
                .chain(
                    i.network_interfaces()
                        .iter()
                        .flat_map(|n| n.groups())
                        .filter_map(|g| g.group_id()),
                )
                .map(str::to_string)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        })
        .collect())
}

/// The instance behind a target: an instance id, a node's own address
/// (host-network pods), or a pod address on a node.
pub fn instance_of<'a>(
    target: &str,
    instances: &'a [Instance],
    pods: &[Pod],
) -> Option<&'a Instance> {
    if let Some(i) = instances
        .iter()
        .find(|i| i.id == target || i.private_ip == target)
    {
        return Some(i);
    }
    let host = pods.iter().find_map(|p| {
        let s = p.status.as_ref()?;
        (s.pod_ip.as_deref() == Some(target))
            .then(|| s.host_ip.clone())
            .flatten()
    })?;
    instances.iter().find(|i| i.private_ip == host)
}

/// The labelled rules one security group has now.
pub async fn labelled_perms(aws: &AwsClients, group: &str) -> Result<BTreeSet<Perm>, Error> {
    let out = aws
        .ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .map_err(aws_err("DescribeSecurityGroups"))?;
    let mut perms = BTreeSet::new();
    for g in out.security_groups() {
        for p in g.ip_permissions() {
            let (Some(proto), Some(port)) = (p.ip_protocol(), p.from_port()) else {
                continue;
            };
            for r in p
                .ip_ranges()
                .iter()
                .filter(|r| r.description() == Some(RULE_DESCRIPTION))
            {
                perms.insert(Perm {
                    protocol: proto.to_string(),
                    port,
                    source: Source::Cidr(r.cidr_ip().unwrap_or_default().to_string()),
                });
            }
            for u in p
                .user_id_group_pairs()
                .iter()
                .filter(|u| u.description() == Some(RULE_DESCRIPTION))
            {
                perms.insert(Perm {
                    protocol: proto.to_string(),
                    port,
                    source: Source::Group(u.group_id().unwrap_or_default().to_string()),
                });
            }
        }
    }
    Ok(perms)
}

fn permission(p: &Perm) -> IpPermission {
    let b = IpPermission::builder()
        .ip_protocol(&p.protocol)
        .from_port(p.port)
        .to_port(p.port);
    match &p.source {
        Source::Cidr(c) => b
            .ip_ranges(
                IpRange::builder()
                    .cidr_ip(c)
                    .description(RULE_DESCRIPTION)
                    .build(),
            )
            .build(),
        Source::Group(g) => b
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id(g)
                    .description(RULE_DESCRIPTION)
                    .build(),
            )
            .build(),
    }
}

/// Grants what `want` has and the group lacks, revokes labelled rules it
/// no longer wants (grant first, as `security_group_reconciler.go` does).
pub async fn reconcile_group(
    aws: &AwsClients,
    group: &str,
    want: &BTreeSet<Perm>,
) -> Result<(), Error> {
    let have = labelled_perms(aws, group).await?;
    let grant: Vec<IpPermission> = want.difference(&have).map(permission).collect();
    let revoke: Vec<IpPermission> = have.difference(want).map(permission).collect();
    if !grant.is_empty() {
        aws.ec2
            .authorize_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(grant))
            .send()
            .await
            .map_err(aws_err("AuthorizeSecurityGroupIngress"))?;
    }
    if !revoke.is_empty() {
        aws.ec2
            .revoke_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(revoke))
            .send()
            .await
            .map_err(aws_err("RevokeSecurityGroupIngress"))?;
    }
    Ok(())
}

/// `instance:nodePort` → whether the node runs a ready pod of the Service,
/// for every Service with `externalTrafficPolicy: Local` and node ports.
pub fn local_nodeport_health(
    services: &[Service],
    pods: &crate::model::PodsByNamespace,
    nodes: &[Node],
) -> BTreeMap<String, bool> {
    let mut out = BTreeMap::new();
    for svc in services
        .iter()
        .filter(|s| crate::model::external_traffic_local(s))
    {
        let node_ports: Vec<i32> = crate::model::ports(svc)
            .iter()
            .filter_map(|p| p.node_port)
            .collect();
        if node_ports.is_empty() {
            continue;
        }
        let serving: BTreeSet<String> = crate::model::ready_pods_selected(svc, pods)
            .into_iter()
            .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.clone()))
            .collect();
        for node in nodes {
            let (Some(id), Some(name)) =
                (crate::model::instance_id(node), node.metadata.name.as_ref())
            else {
                continue;
            };
            for np in &node_ports {
                out.insert(format!("{id}:{np}"), serving.contains(name));
            }
        }
    }
    out
}

/// IPv4 `addr` inside `cidr`.
pub fn cidr_contains(cidr: &str, addr: &str) -> bool {
    let parse = |s: &str| -> Option<u32> {
        let o: Vec<u32> = s
            .split('.')
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        (o.len() == 4 && o.iter().all(|x| *x < 256))
            .then(|| (o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3])
    };
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Some(net), Some(ip), Ok(bits)) = (parse(net), parse(addr), bits.parse::<u32>()) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    net & mask == ip & mask
}

/// What the node sees of one connection.
pub struct Packet<'a> {
    pub source_ip: &'a str,
    pub source_groups: &'a [String],
    pub protocol: &'a str,
    pub port: i32,
}

/// Whether any ingress rule of these security groups admits the packet.
pub async fn admitted(aws: &AwsClients, groups: &[String], p: &Packet<'_>) -> Result<bool, Error> {
    if groups.is_empty() {
        return Ok(false);
    }
    let out = aws
        .ec2
        .describe_security_groups()
        .set_group_ids(Some(groups.to_vec()))
        .send()
        .await
        .map_err(aws_err("DescribeSecurityGroups"))?;
    for g in out.security_groups() {
        for perm in g.ip_permissions() {
            let proto = perm.ip_protocol().unwrap_or_default();
            let ports_ok = proto == "-1"
                || (proto.eq_ignore_ascii_case(p.protocol)
                    && perm.from_port().is_some_and(|f| f <= p.port)
                    && perm.to_port().is_some_and(|t| p.port <= t));
            if !ports_ok {
                continue;
            }
            if perm
                .ip_ranges()
                .iter()
                .any(|r| r.cidr_ip().is_some_and(|c| cidr_contains(c, p.source_ip)))
                || perm.user_id_group_pairs().iter().any(|u| {
                    u.group_id()
                        .is_some_and(|id| p.source_groups.iter().any(|s| s == id))
                })
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether a connection from `client_ip` to port `listener_port` of the NLB
/// `lb_arn` reaches the node `instance_id` (see the module docs).
pub async fn reaches(
    aws: &AwsClients,
    lb_arn: &str,
    listener_port: i32,
    client_ip: &str,
    instance_id: &str,
) -> Result<bool, Error> {
    let lbs = aws
        .elb
        .describe_load_balancers()
        .load_balancer_arns(lb_arn)
        .send()
        .await
        .map_err(aws_err("DescribeLoadBalancers"))?;
    let lb_groups: Vec<String> = lbs
        .load_balancers()
        .first()
        .map(|l| l.security_groups().to_vec())
        .unwrap_or_default();
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .map_err(aws_err("DescribeListeners"))?;
    let Some(listener) = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(listener_port))
    else {
        return Ok(false);
    };
    let protocol = match listener.protocol().map(|p| p.as_str()) {
        Some("UDP") => "udp",
        _ => "tcp",
    };
    if !lb_groups.is_empty()
        && !admitted(
            aws,
            &lb_groups,
            &Packet {
                source_ip: client_ip,
                source_groups: &[],
                protocol,
                port: listener_port,
            },
        )
        .await?
    {
        return Ok(false);
    }
    let Some(tg) = listener
        .default_actions()
        .iter()
        .find_map(|a| a.target_group_arn())
        .map(str::to_string)
    else {
        return Ok(false);
    };
    let all = instances(aws).await?;
    let Some(node) = all.iter().find(|i| i.id == instance_id) else {
        return Ok(false);
    };
    let health = aws
        .elb
        .describe_target_health()
        .target_group_arn(&tg)
        .send()
        .await
        .map_err(aws_err("DescribeTargetHealth"))?;
    let Some(target_port) = health.target_health_descriptions().iter().find_map(|d| {
        let t = d.target()?;
        let id = t.id()?;
        (id == node.id || id == node.private_ip)
            .then(|| t.port())
            .flatten()
    }) else {
        return Ok(false);
    };
    let preserve = aws
        .elb
        .describe_target_group_attributes()
        .target_group_arn(&tg)
        .send()
        .await
        .map_err(aws_err("DescribeTargetGroupAttributes"))?
        .attributes()
        .iter()
        .any(|a| a.key() == Some("preserve_client_ip.enabled") && a.value() == Some("true"));
    let nlb_address = nlb_address_in(aws, &node.subnet_id).await?;
    let source_ip = if preserve {
        client_ip
    } else {
        nlb_address.as_str()
    };
    admitted(
        aws,
        &node.groups,
        &Packet {
            source_ip,
            source_groups: &lb_groups,
            protocol,
            port: target_port,
        },
    )
    .await
}

/// An address the NLB's node in that subnet would use: the subnet's tenth.
async fn nlb_address_in(aws: &AwsClients, subnet: &str) -> Result<String, Error> {
    let out = aws
        .ec2
        .describe_subnets()
        .subnet_ids(subnet)
        .send()
        .await
        .map_err(aws_err("DescribeSubnets"))?;
    let cidr = out
        .subnets()
        .first()
        .and_then(|s| s.cidr_block())
        .unwrap_or("0.0.0.0/0")
        .to_string();
    let net = cidr.split('/').next().unwrap_or("0.0.0.0");
    let mut o: Vec<u32> = net.split('.').filter_map(|x| x.parse().ok()).collect();
    if o.len() == 4 {
        o[3] += 10;
    }
    Ok(o.iter().map(u32::to_string).collect::<Vec<_>>().join("."))
}
