//! Thin adapters over the AWS APIs, returning the plain types of `model`.
//!
//! One `SdkConfig` is loaded in `context` and every client is built from it;
//! retries (standard mode) and timeouts are set there, explicitly.

pub mod ec2;
pub mod elbv2;
pub mod route53;
pub mod twins;

use aws_sdk_elasticloadbalancingv2::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS region: pass --region, set AWS_REGION, or set a region in the AWS profile")]
    NoRegion,
    #[error(
        "no usable AWS credentials: {0}; configure them as for the AWS CLI (aws configure, AWS_PROFILE, SSO or IRSA)"
    )]
    NoCredentials(String),
    #[error(
        "the AWS profile \"{profile}\" is not defined in {files}; list profiles with `aws configure list-profiles`, or leave out --profile"
    )]
    UnknownProfile { profile: String, files: String },
    #[error("cannot reach AWS at {endpoint} ({op}): {reason}")]
    Unreachable {
        op: &'static str,
        endpoint: String,
        reason: String,
    },
    #[error(
        "invalid AWS region \"{0}\": pass a region such as us-east-1 with --region (or fix AWS_REGION or the profile's region)"
    )]
    InvalidRegion(String),
    /// A service error; shown with the fix for the codes a user can fix.
    #[error("{}", explain(op, code, message))]
    Api {
        op: &'static str,
        code: String,
        message: String,
    },
}

impl AwsError {
    /// Route 53 refused a batch because the records changed since they were
    /// read (a DELETE that no longer matches, a CREATE that now exists).
    pub fn is_stale_change(&self) -> bool {
        matches!(self, AwsError::Api { code, message, .. }
            if code == "InvalidChangeBatch"
                && (message.contains("do not match") || message.contains("not found") || message.contains("already exists")))
    }

    /// The load balancer or target group asked about does not exist (any more).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::Api { code, .. }
            if code == "LoadBalancerNotFound" || code == "TargetGroupNotFound")
    }

    /// Errors that mean "this part of AWS is closed to us" rather than "AWS is
    /// unusable": a read-only command can go on without that part.
    pub fn is_access_denied(&self) -> bool {
        matches!(self, AwsError::Api { code, .. } if is_denied_code(code))
    }
}

/// The IAM action an operation needs, for "grant it" messages: the adapters
/// name operations by their API name, and the service is known from it.
pub fn iam_action(op: &str) -> String {
    const ROUTE53: &[&str] = &[
        "ListHostedZones",
        "ListHostedZonesByName",
        "GetHostedZone",
        "ListResourceRecordSets",
        "ChangeResourceRecordSets",
        "GetChange",
    ];
    const EC2_NOUNS: &[&str] = &["Vpc", "Subnet", "Instance", "SecurityGroup"];
    let service = if ROUTE53.contains(&op) {
        "route53"
    } else if EC2_NOUNS.iter().any(|n| op.contains(n)) {
        "ec2"
    } else {
        "elasticloadbalancing"
    };
    format!("{service}:{op}")
}

/// A region must be a DNS host label (it becomes part of every endpoint's
/// host name); the SDK checks that only when the first request is built, and
/// says "invalid value for field: `region`" (qa D-M7).
pub fn check_region(region: &str) -> Result<(), AwsError> {
    let ok = !region.is_empty()
        && region.len() <= 63
        && !region.starts_with('-')
        && !region.ends_with('-')
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AwsError::InvalidRegion(region.to_string()))
    }
}

/// One line for a service error: for expired credentials, a refused
/// permission and a bad region, what to do about it (qa D-M7); otherwise AWS's
/// code and message as they came.
fn explain(op: &str, code: &str, message: &str) -> String {
    match code {
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => format!(
            "AWS credentials expired ({op}: {code}: {message}): refresh them (aws sso login, or new keys) and run again{}",
            if code == "RequestExpired" {
                "; if they are fresh, check this machine's clock"
            } else {
                ""
            }
        ),
        _ if is_denied_code(code) => format!(
            "{op}: {code}: {message}: allow {} for the AWS identity in use (the README section \"Permissions\" lists every IAM action kubectl nlb needs){}",
            iam_action(op),
            if op == "ListHostedZones" {
                ", or pass --zone with the hosted zone's id or name so zones are not listed"
            } else {
                ""
            }
        ),
        "Unknown" if message.contains("`region`") => format!(
            "invalid AWS region ({op}: {message}): pass a region such as us-east-1 with --region"
        ),
        _ => format!("{op}: {code}: {message}"),
    }
}

fn is_denied_code(code: &str) -> bool {
    code.contains("AccessDenied") || code == "UnauthorizedOperation"
}

/// Where requests go, for error messages.
#[derive(Debug, Clone)]
pub struct Endpoint(pub String);

/// Maps an SDK error: transport failures name the endpoint, service errors keep
/// AWS's code and message.
pub fn sdk_error<E, R>(op: &'static str, endpoint: &Endpoint, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::DispatchFailure(d) => AwsError::Unreachable {
            op,
            endpoint: endpoint.0.clone(),
            reason: if d.is_timeout() {
                "timed out".to_string()
            } else {
                crate::k8s::root_cause(&err)
            },
        },
        SdkError::TimeoutError(_) => AwsError::Unreachable {
            op,
            endpoint: endpoint.0.clone(),
            reason: "timed out".to_string(),
        },
        _ => match err.code() {
            Some(code) => AwsError::Api {
                op,
                code: code.to_string(),
                message: err.message().unwrap_or_default().to_string(),
            },
            None => AwsError::Api {
                op,
                code: "Unknown".to_string(),
                message: crate::k8s::root_cause(&err),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(op: &'static str, code: &str, message: &str) -> AwsError {
        AwsError::Api {
            op,
            code: code.into(),
            message: message.into(),
        }
    }

    // qa D-M7: raw SDK text with no fix.
    #[test]
    fn expired_credentials_say_to_refresh_them() {
        for code in ["ExpiredToken", "ExpiredTokenException", "RequestExpired"] {
            let e = api(
                "DescribeTargetGroups",
                code,
                "The security token included in the request is expired",
            );
            let text = e.to_string();
            assert!(
                text.starts_with("AWS credentials expired (DescribeTargetGroups: "),
                "{text}"
            );
            assert!(
                text.contains("refresh them (aws sso login, or new keys) and run again"),
                "{text}"
            );
            assert!(!e.is_access_denied());
        }
    }

    // qa D-M7
    #[test]
    fn access_denied_names_the_iam_action_and_the_readme_section() {
        let e = api(
            "DescribeLoadBalancers",
            "AccessDenied",
            "User: x is not authorized",
        );
        assert!(e.is_access_denied());
        let text = e.to_string();
        assert!(
            text.contains(
                "allow elasticloadbalancing:DescribeLoadBalancers for the AWS identity in use"
            ),
            "{text}"
        );
        assert!(text.contains("README section \"Permissions\""), "{text}");
        assert!(!text.contains("--zone"), "{text}");
        let e = api("DescribeVpcs", "UnauthorizedOperation", "no");
        assert!(e.is_access_denied());
        assert!(e.to_string().contains("allow ec2:DescribeVpcs"));
        let e = api("ListHostedZones", "AccessDeniedException", "not authorized");
        assert!(e.is_access_denied());
        let text = e.to_string();
        assert!(text.contains("allow route53:ListHostedZones"), "{text}");
        assert!(text.contains("or pass --zone"), "{text}");
    }

    // qa D-M7: every operation the adapters call maps to its service's prefix.
    #[test]
    fn iam_actions_carry_the_service_of_the_operation() {
        for (op, service) in [
            ("ListHostedZones", "route53"),
            ("ListHostedZonesByName", "route53"),
            ("GetHostedZone", "route53"),
            ("ListResourceRecordSets", "route53"),
            ("ChangeResourceRecordSets", "route53"),
            ("GetChange", "route53"),
            ("DescribeVpcEndpointServiceConfigurations", "ec2"),
            ("DescribeInstances", "ec2"),
            ("DescribeSubnets", "ec2"),
            ("DescribeVpcs", "ec2"),
            ("DescribeSecurityGroups", "ec2"),
            ("CreateSecurityGroup", "ec2"),
            ("AuthorizeSecurityGroupIngress", "ec2"),
            ("DescribeLoadBalancers", "elasticloadbalancing"),
            ("DescribeTargetGroups", "elasticloadbalancing"),
            ("DescribeTargetGroupAttributes", "elasticloadbalancing"),
            ("DescribeTargetHealth", "elasticloadbalancing"),
            ("CreateTargetGroup", "elasticloadbalancing"),
            ("DescribeTags", "elasticloadbalancing"),
            ("ModifyTargetGroupAttributes", "elasticloadbalancing"),
            ("DescribeLoadBalancerAttributes", "elasticloadbalancing"),
            ("DescribeListeners", "elasticloadbalancing"),
            ("CreateListener", "elasticloadbalancing"),
            ("CreateLoadBalancer", "elasticloadbalancing"),
        ] {
            assert_eq!(iam_action(op), format!("{service}:{op}"));
        }
    }

    // qa D-M7: "Unknown: invalid value for field: `region`".
    #[test]
    fn regions_must_be_host_labels() {
        for good in ["us-east-1", "eu-west-3", "us-gov-west-1", "local"] {
            assert!(check_region(good).is_ok(), "{good}");
        }
        for bad in ["not a region!", "", "-us", "us_east_1", "eu-west-1/"] {
            let text = check_region(bad).expect_err(bad).to_string();
            assert!(
                text.starts_with(&format!(
                    "invalid AWS region \"{bad}\": pass a region such as us-east-1 with --region"
                )),
                "{text}"
            );
        }
        let sdk = api(
            "DescribeLoadBalancers",
            "Unknown",
            "invalid value for field: `region` - must be a valid host label",
        );
        assert!(
            sdk.to_string()
                .contains("pass a region such as us-east-1 with --region")
        );
    }

    #[test]
    fn other_errors_keep_aws_code_and_message() {
        let e = api("DescribeTargetGroups", "LoadBalancerNotFound", "gone");
        assert_eq!(
            e.to_string(),
            "DescribeTargetGroups: LoadBalancerNotFound: gone"
        );
        assert!(e.is_not_found());
    }
}
