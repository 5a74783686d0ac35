//! The AWS Load Balancer Controller's `TargetGroupBinding` (elbv2.k8s.aws/v1beta1),
//! as far as the sandbox needs it. Unknown fields are kept in `extra` so
//! objects written by the product round-trip unchanged.

use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `spec` of a TargetGroupBinding (LBC `apis/elbv2/v1beta1/targetgroupbinding_types.go`).
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "elbv2.k8s.aws",
    version = "v1beta1",
    kind = "TargetGroupBinding",
    plural = "targetgroupbindings",
    shortname = "tgb",
    namespaced,
    status = "TargetGroupBindingStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupBindingSpec {
    #[serde(
        rename = "targetGroupARN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub target_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    pub service_ref: ServiceReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networking: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
    #[serde(rename = "vpcID", default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_cluster_target_group: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_protocol: Option<String>,
    /// Any other field (kept so objects round-trip).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// `spec.serviceRef`: a Service name and a Service port (number or name).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ServiceReference {
    pub name: String,
    pub port: Value,
}

/// `status` of a TargetGroupBinding.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupBindingStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl Default for TargetGroupBinding {
    fn default() -> Self {
        TargetGroupBinding::new("", TargetGroupBindingSpec::default())
    }
}
