//! Thin adapters over the AWS APIs, returning the plain types of `model`.
//!
//! One `SdkConfig` is loaded in `context` and every client is built from it;
//! retries (standard mode) and timeouts are set there, explicitly.

pub mod ec2;
pub mod elbv2;
pub mod route53;

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
    #[error("{op}: {code}: {message}")]
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
        matches!(self, AwsError::Api { code, .. }
            if code.contains("AccessDenied") || code == "UnauthorizedOperation")
    }
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
