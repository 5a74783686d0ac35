//! What reaches the node, and so what the binding's networking rules must
//! allow (fidelity review A2).
//!
//! * With an NLB security group (one the tool creates with the NLB, as the
//!   LBC does since v2.6, or the NLB's own), the NLB's group filters the
//!   clients and the targets allow that group: AWS lets target rules
//!   reference the NLB's group whether or not the client address is kept
//!   (the LBC's own rules do exactly this, `buildTargetGroupBindingNetworking`).
//! * Without one, the node sees what the target group delivers: the client's
//!   address when `preserve_client_ip.enabled` is on (the AWS default for
//!   instance targets, and always for UDP), else the NLB's private addresses
//!   in its subnets. With the client address kept the traffic rule allows
//!   the clients (the given sources; for an internal NLB the VPC by default)
//!   and a second rule the health checks from the NLB's subnets, as the LBC's
//!   `buildTargetGroupBindingNetworkingLegacy` does; "If you create a
//!   Network Load Balancer without security groups, it's a best practice to
//!   allowlist the client IP addresses in the target security groups"
//!   (repost.aws/knowledge-center/security-group-load-balancer).

use super::PlanError;

/// One source of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    Cidr(String),
    Group(String),
    /// The security group the plan creates with its NLB (its id is known
    /// only once it exists).
    NewLbGroup,
}

/// One ingress rule of the binding: traffic on the target port, or the
/// health check (on the health-check port when it is another one).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub from: Vec<From>,
    pub health_check: bool,
}

/// The load balancer in front, as far as sources go.
pub enum Front<'a> {
    /// One the plan creates, with a security group of its own.
    New { scheme: &'a str },
    Existing {
        groups: &'a [String],
        subnet_cidrs: &'a [String],
        scheme: Option<&'a str>,
    },
    /// Not known (a target group behind no load balancer yet).
    Unknown,
}

pub struct Inputs<'a> {
    pub front: Front<'a>,
    /// Whether the targets see the client's address.
    pub preserve: bool,
    pub vpc_cidrs: &'a [String],
    pub user_cidrs: &'a [String],
    pub user_groups: &'a [String],
}

/// The decision: the binding's rules, who may reach a new NLB, and what
/// the pods see, for the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub rules: Vec<Rule>,
    /// The inbound sources of the security group created with the NLB.
    pub new_lb_inbound: Vec<From>,
    pub note: String,
}

fn user(i: &Inputs) -> Vec<From> {
    i.user_cidrs
        .iter()
        .map(|c| From::Cidr(c.clone()))
        .chain(i.user_groups.iter().map(|g| From::Group(g.clone())))
        .collect()
}

fn cidrs(list: &[String]) -> Vec<From> {
    list.iter().map(|c| From::Cidr(c.clone())).collect()
}

/// The clients when the user named none: the VPC for an internal NLB;
/// nobody is assumed for an internet-facing one.
fn clients(i: &Inputs, scheme: Option<&str>, what: &str) -> Result<Vec<From>, PlanError> {
    let given = user(i);
    if !given.is_empty() {
        return Ok(given);
    }
    match scheme {
        Some("internal") if !i.vpc_cidrs.is_empty() => Ok(cidrs(i.vpc_cidrs)),
        Some("internet-facing") => Err(PlanError(format!(
            "the binding of {what} would be reached through an internet-facing NLB, so the clients are not known: pass --source-cidr with their ranges (--source-cidr 0.0.0.0/0 to allow everyone) or --source-sg"
        ))),
        _ => Err(PlanError(format!(
            "the clients of {what} cannot be derived (the load balancer's scheme is not known): pass --source-cidr or --source-sg"
        ))),
    }
}

fn sees(preserve: bool) -> &'static str {
    if preserve {
        "the pods see each client's own address (preserve_client_ip on)"
    } else {
        "the pods see the NLB's private addresses, not the clients' (preserve_client_ip off)"
    }
}

pub fn decide(i: &Inputs, what: &str) -> Result<Traffic, PlanError> {
    match i.front {
        Front::New { scheme } => {
            let inbound = clients(i, Some(scheme), what)?;
            Ok(Traffic {
                rules: vec![Rule {
                    from: vec![From::NewLbGroup],
                    health_check: false,
                }],
                note: format!(
                    "networking: the new NLB gets a security group of its own admitting {} on its listener ports; the nodes admit that group; {}",
                    describe(&inbound),
                    sees(i.preserve)
                ),
                new_lb_inbound: inbound,
            })
        }
        Front::Existing { groups, .. } if !groups.is_empty() => {
            let mut from: Vec<From> = groups.iter().map(|g| From::Group(g.clone())).collect();
            from.extend(
                user(i)
                    .into_iter()
                    .filter(|f| !matches!(f, From::Group(g) if groups.contains(g))),
            );
            Ok(Traffic {
                note: format!(
                    "networking: the nodes admit the NLB's security groups ({}), which decide who may connect; {}",
                    groups.join(", "),
                    sees(i.preserve)
                ),
                rules: vec![Rule {
                    from,
                    health_check: false,
                }],
                new_lb_inbound: Vec::new(),
            })
        }
        Front::Existing {
            subnet_cidrs,
            scheme,
            ..
        } => {
            if i.preserve {
                let from = clients(i, scheme, what)?;
                Ok(Traffic {
                    note: format!(
                        "networking: the NLB has no security group and keeps the client address, so the nodes admit the clients ({}) and the health checks from the NLB's subnets ({}); {}",
                        describe(&from),
                        subnet_cidrs.join(", "),
                        sees(true)
                    ),
                    rules: vec![
                        Rule {
                            from,
                            health_check: false,
                        },
                        Rule {
                            from: cidrs(subnet_cidrs),
                            health_check: true,
                        },
                    ],
                    new_lb_inbound: Vec::new(),
                })
            } else if !user(i).is_empty() {
                Err(PlanError(format!(
                    "--source-cidr/--source-sg cannot restrict the clients of {what}: its NLB has no security group and preserve_client_ip is off, so the nodes only see the NLB's own addresses; keep the client address (--preserve-client-ip=true on a new target group) or use an NLB with a security group"
                )))
            } else {
                Ok(Traffic {
                    note: format!(
                        "networking: the nodes admit the NLB's subnets ({}); anyone the NLB accepts reaches the pods; {}",
                        subnet_cidrs.join(", "),
                        sees(false)
                    ),
                    rules: vec![Rule {
                        from: cidrs(subnet_cidrs),
                        health_check: false,
                    }],
                    new_lb_inbound: Vec::new(),
                })
            }
        }
        Front::Unknown => {
            let from = user(i);
            if from.is_empty() {
                return Err(PlanError(format!(
                    "no load balancer is known for the binding of {what}, so the traffic sources cannot be derived: pass --source-cidr or --source-sg (without networking rules the controller opens no port and traffic fails)"
                )));
            }
            Ok(Traffic {
                note: format!(
                    "networking: the nodes admit {} as given; {}",
                    describe(&from),
                    sees(i.preserve)
                ),
                rules: vec![Rule {
                    from,
                    health_check: false,
                }],
                new_lb_inbound: Vec::new(),
            })
        }
    }
}

fn describe(from: &[From]) -> String {
    from.iter()
        .map(|f| match f {
            From::Cidr(c) => c.clone(),
            From::Group(g) => g.clone(),
            From::NewLbGroup => "the new NLB's security group".into(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// AWS's default `preserve_client_ip.enabled` for a new target group: on
/// for instance targets and for UDP, off for ip TCP/TLS
/// (network/edit-target-group-attributes.html#client-ip-preservation).
pub fn default_preserve(instance: bool, protocol: &str) -> bool {
    instance || matches!(protocol, "UDP" | "TCP_UDP")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(front: Front<'a>, preserve: bool, user_cidrs: &'a [String]) -> Inputs<'a> {
        Inputs {
            front,
            preserve,
            vpc_cidrs: VPC,
            user_cidrs,
            user_groups: &[],
        }
    }
    static VPC: &[String] = &[];
    const SUBNETS: &[&str] = &["10.0.0.0/20", "10.0.16.0/20"];

    fn subnets() -> Vec<String> {
        SUBNETS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_internet_facing_nlb_without_sources_is_refused() {
        let err = decide(
            &inputs(
                Front::New {
                    scheme: "internet-facing",
                },
                true,
                &[],
            ),
            "ds/edge",
        )
        .unwrap_err();
        assert!(err.0.contains("--source-cidr 0.0.0.0/0"), "{}", err.0);
        let given = vec!["203.0.113.0/24".to_string()];
        let t = decide(
            &inputs(
                Front::New {
                    scheme: "internet-facing",
                },
                true,
                &given,
            ),
            "ds/edge",
        )
        .unwrap();
        assert_eq!(t.new_lb_inbound, vec![From::Cidr("203.0.113.0/24".into())]);
        assert_eq!(
            t.rules,
            vec![Rule {
                from: vec![From::NewLbGroup],
                health_check: false
            }]
        );
    }

    #[test]
    fn an_internal_nlb_admits_the_vpc_by_default() {
        let vpc = vec!["10.0.0.0/16".to_string()];
        let i = Inputs {
            vpc_cidrs: &vpc,
            ..inputs(Front::New { scheme: "internal" }, true, &[])
        };
        assert_eq!(
            decide(&i, "x").unwrap().new_lb_inbound,
            vec![From::Cidr("10.0.0.0/16".into())]
        );
    }

    #[test]
    fn without_an_nlb_group_kept_client_addresses_need_client_and_health_rules() {
        let s = subnets();
        let given = vec!["198.51.100.0/24".to_string()];
        let front = Front::Existing {
            groups: &[],
            subnet_cidrs: &s,
            scheme: Some("internet-facing"),
        };
        let t = decide(&inputs(front, true, &given), "x").unwrap();
        assert_eq!(t.rules.len(), 2);
        assert_eq!(t.rules[0].from, vec![From::Cidr("198.51.100.0/24".into())]);
        assert!(t.rules[1].health_check);
        assert_eq!(t.rules[1].from, cidrs(&s));
        assert!(t.note.contains("client's own address"));
        // Client IP off: only the NLB's addresses arrive; sources cannot apply.
        let front = Front::Existing {
            groups: &[],
            subnet_cidrs: &s,
            scheme: Some("internet-facing"),
        };
        assert!(decide(&inputs(front, false, &given), "x").is_err());
        let front = Front::Existing {
            groups: &[],
            subnet_cidrs: &s,
            scheme: Some("internet-facing"),
        };
        let t = decide(&inputs(front, false, &[]), "x").unwrap();
        assert_eq!(
            t.rules,
            vec![Rule {
                from: cidrs(&s),
                health_check: false
            }]
        );
    }

    #[test]
    fn an_nlb_with_groups_is_admitted_by_group() {
        let g = vec!["sg-nlb".to_string()];
        let front = Front::Existing {
            groups: &g,
            subnet_cidrs: &[],
            scheme: None,
        };
        let t = decide(&inputs(front, true, &[]), "x").unwrap();
        assert_eq!(t.rules[0].from, vec![From::Group("sg-nlb".into())]);
    }

    #[test]
    fn aws_defaults_for_new_groups() {
        assert!(default_preserve(true, "TCP"));
        assert!(!default_preserve(false, "TCP"));
        assert!(default_preserve(false, "UDP"));
    }
}
