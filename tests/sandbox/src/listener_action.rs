//! The LBC's `service.beta.kubernetes.io/actions.${protocol}-${port}`
//! annotation: a listener's default action as a weighted forward to the
//! Service's own target group and others. Sources:
//! kubernetes-sigs/aws-load-balancer-controller at 225f44568 (the feature is
//! commit f111ae2ad, first released in v2.16.0; the files cited are unchanged
//! since apart from the `/v3` module path).
//!
//! * The key uses the *listener* protocol after TLS is applied (`actions.TLS-443`
//!   for a port covered by ssl-cert/ssl-ports) and the Service port
//!   (`pkg/service/model_build_listener.go:136`, `:214-229`).
//! * The value is JSON read with Go's `encoding/json` (`pkg/annotations/parser.go:137-147`):
//!   field names match case-insensitively, unknown fields are ignored, and a
//!   value of the wrong type fails the parse.
//! * Validation (`pkg/service/config_types.go:31-112`) fails the model build;
//!   the listener keeps whatever it had.
//! * The base target group takes `baseServiceWeight` as is; LBC does not range
//!   check it (AWS does: weights 0–999, see `moto/launcher.py`)
//!   (`pkg/service/model_build_target_group.go:35-45`).
//! * `--feature-gates=WeightedTargetGroups=false` does not make LBC ignore the
//!   annotation: at deploy time a forward to one target group is sent as a
//!   plain `TargetGroupArn` and one to several fails the listener with
//!   "weighted target groups feature is disabled"
//!   (`pkg/deploy/elbv2/listener_utils.go:68-81`).

use crate::lbc_config::ControllerConfig;
use crate::model::ann;
use k8s_openapi::api::core::v1::Service;
use serde_json::{Map, Value};

/// The parsed, validated annotation of one listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerAction {
    /// `forwardConfig.baseServiceWeight` (absent: no weight is sent).
    pub base_weight: Option<i32>,
    /// `forwardConfig.targetGroups[]` given by ARN, with their weights.
    pub target_groups: Vec<(String, Option<i32>)>,
    /// `forwardConfig.targetGroupStickinessConfig.enabled`.
    pub stickiness: Option<bool>,
}

/// What a listener's default action should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// `TargetGroupArn` only: what the stand-in always sent before this
    /// annotation, and what the real one sends for one target group with
    /// the gate off.
    Plain(String),
    /// `ForwardConfig` with weighted target groups.
    Weighted {
        target_groups: Vec<(String, Option<i32>)>,
        stickiness: Option<bool>,
    },
}

impl DefaultAction {
    /// The default action for a listener whose own target group is
    /// `own_tg`: the annotation's forward when there is one, else plain.
    pub fn build(
        action: Option<&ListenerAction>,
        own_tg: &str,
        cfg: &ControllerConfig,
    ) -> Result<DefaultAction, String> {
        let Some(a) = action else {
            return Ok(DefaultAction::Plain(own_tg.to_string()));
        };
        let mut tgs = vec![(own_tg.to_string(), a.base_weight)];
        tgs.extend(a.target_groups.iter().cloned());
        if !cfg.weighted_target_groups {
            // pkg/deploy/elbv2/listener_utils.go:73-78
            return match tgs.len() {
                1 => Ok(DefaultAction::Plain(own_tg.to_string())),
                _ => Err("weighted target groups feature is disabled".into()),
            };
        }
        Ok(DefaultAction::Weighted {
            target_groups: tgs,
            stickiness: a.stickiness,
        })
    }

    /// The SDK action to send.
    pub fn to_sdk(&self) -> aws_sdk_elasticloadbalancingv2::types::Action {
        use aws_sdk_elasticloadbalancingv2::types as t;
        let b = t::Action::builder().r#type(t::ActionTypeEnum::Forward);
        match self {
            DefaultAction::Plain(arn) => b.target_group_arn(arn).build(),
            DefaultAction::Weighted {
                target_groups,
                stickiness,
            } => {
                let mut fc = t::ForwardActionConfig::builder();
                for (arn, w) in target_groups {
                    fc = fc.target_groups(
                        t::TargetGroupTuple::builder()
                            .target_group_arn(arn)
                            .set_weight(*w)
                            .build(),
                    );
                }
                if let Some(on) = stickiness {
                    fc = fc.target_group_stickiness_config(
                        t::TargetGroupStickinessConfig::builder()
                            .enabled(*on)
                            .build(),
                    );
                }
                b.forward_config(fc.build()).build()
            }
        }
    }

    /// Whether a listener's actual default actions already do this: the
    /// same target groups with the same weights (AWS and moto store an
    /// omitted weight as 1 and omitted stickiness as off, and a plain
    /// forward is one target group of weight 1).
    pub fn matches(&self, actual: &[aws_sdk_elasticloadbalancingv2::types::Action]) -> bool {
        let [a] = actual else {
            return false;
        };
        if a.r#type() != Some(&aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward) {
            return false;
        }
        let have: (Vec<(String, i32)>, bool) = match a.forward_config() {
            Some(fc) => (
                fc.target_groups()
                    .iter()
                    .map(|t| {
                        (
                            t.target_group_arn().unwrap_or_default().to_string(),
                            t.weight().unwrap_or(1),
                        )
                    })
                    .collect(),
                fc.target_group_stickiness_config()
                    .and_then(|s| s.enabled())
                    .unwrap_or(false),
            ),
            None => (
                vec![(a.target_group_arn().unwrap_or_default().to_string(), 1)],
                false,
            ),
        };
        normal(have) == normal(self.canonical())
    }

    fn canonical(&self) -> (Vec<(String, i32)>, bool) {
        match self {
            DefaultAction::Plain(arn) => (vec![(arn.clone(), 1)], false),
            DefaultAction::Weighted {
                target_groups,
                stickiness,
            } => (
                target_groups
                    .iter()
                    .map(|(a, w)| (a.clone(), w.unwrap_or(1)))
                    .collect(),
                stickiness.unwrap_or(false),
            ),
        }
    }
}

fn normal(mut x: (Vec<(String, i32)>, bool)) -> (Vec<(String, i32)>, bool) {
    x.0.sort();
    x
}

/// The annotation key for one listener (without the
/// `service.beta.kubernetes.io/` prefix).
pub fn annotation_key(listener_protocol: &str, port: i32) -> String {
    format!("actions.{listener_protocol}-{port}")
}

/// The annotation of one listener, parsed and validated as the real model
/// build does; `Ok(None)` when it is absent or the controller predates it
/// (an unknown annotation is ignored). `Err` fails the model build.
pub fn listener_action(
    svc: &Service,
    listener_protocol: &str,
    port: i32,
    cfg: &ControllerConfig,
) -> Result<Option<ListenerAction>, String> {
    if !cfg.at_least(2, 16) {
        return Ok(None);
    }
    let key = annotation_key(listener_protocol, port);
    let Some(raw) = ann(svc, &key) else {
        return Ok(None);
    };
    // pkg/annotations/parser.go:143-145
    let parsed = parse(raw).map_err(|e| {
        format!("failed to parse json annotation, service.beta.kubernetes.io/{key}: {raw}: {e}")
    })?;
    validate(&parsed)?;
    let Some(fc) = parsed.forward else {
        // loadBackendServices reads action.ForwardConfig.TargetGroups without
        // a nil check (pkg/service/enhanced_backend_builder.go:49): the
        // reconciler panics, and controller-runtime's panic recovery turns it
        // into a reconcile error [inference: RecoverPanic defaults on].
        return Err(
            "panic: runtime error: invalid memory address or nil pointer dereference".into(),
        );
    };
    let mut target_groups = Vec::new();
    for t in fc.target_groups {
        match (t.arn, t.service_name) {
            (Some(arn), _) => target_groups.push((arn, t.weight)),
            (None, Some(name)) => {
                // The real controller builds a target group and a
                // TargetGroupBinding of its own for that Service
                // (pkg/service/model_build_target_group.go:52-78); the
                // stand-in does not.
                return Err(format!(
                    "nlb-sandbox: serviceName entries ({name}) are not modelled; use targetGroupARN"
                ));
            }
            (None, None) => unreachable!("validated"),
        }
    }
    Ok(Some(ListenerAction {
        base_weight: fc.base_weight,
        target_groups,
        stickiness: fc.stickiness,
    }))
}

struct Parsed {
    ty: String,
    forward: Option<Forward>,
}

struct Forward {
    base_weight: Option<i32>,
    target_groups: Vec<Tuple>,
    stickiness: Option<bool>,
}

struct Tuple {
    arn: Option<String>,
    service_name: Option<String>,
    service_port: bool,
    weight: Option<i32>,
}

/// `pkg/service/config_types.go:31-44`, `:69-83`, `:100-112`.
fn validate(a: &Parsed) -> Result<(), String> {
    if a.ty != "forward" {
        return Err(format!("unknown action type: {}", a.ty));
    }
    let Some(fc) = &a.forward else {
        return Ok(());
    };
    let wrap = |e: &str| format!("invalid ForwardConfig: {e}");
    for t in &fc.target_groups {
        let e = if t.arn.is_some() == t.service_name.is_some() {
            Some("precisely one of targetGroupARN and serviceName can be specified")
        } else if t.service_name.is_some() && !t.service_port {
            Some("missing servicePort")
        } else if t.weight.is_some_and(|w| !(0..=999).contains(&w)) {
            Some("target group weight must be between 0 and 999")
        } else {
            None
        };
        if let Some(e) = e {
            return Err(wrap(&format!("invalid TargetGroupTuple: {e}")));
        }
    }
    if fc.target_groups.len() > 1 && fc.target_groups.iter().any(|t| t.weight.is_none()) {
        return Err(wrap(
            "weight must be set when routing to multiple target groups",
        ));
    }
    Ok(())
}

/// Decodes as Go's `json.Unmarshal` into `service.Action` would: exact key
/// first, else a case-insensitive one; unknown keys ignored; `null` leaves a
/// field unset. Messages follow Go's wording closely, not exactly.
fn parse(raw: &str) -> Result<Parsed, String> {
    let v: Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let obj = match &v {
        Value::Null => {
            return Ok(Parsed {
                ty: String::new(),
                forward: None,
            });
        }
        Value::Object(o) => o,
        other => return Err(type_err(other, "", "service.Action")),
    };
    let ty = match field(obj, "type") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => return Err(type_err(other, "Action.type", "service.ActionType")),
    };
    let forward = match field(obj, "forwardConfig") {
        None | Some(Value::Null) => None,
        Some(Value::Object(fc)) => Some(parse_forward(fc)?),
        Some(other) => {
            return Err(type_err(
                other,
                "Action.forwardConfig",
                "service.ForwardActionConfig",
            ));
        }
    };
    Ok(Parsed { ty, forward })
}

fn parse_forward(fc: &Map<String, Value>) -> Result<Forward, String> {
    let base_weight = int32(
        field(fc, "baseServiceWeight"),
        "ForwardActionConfig.forwardConfig.baseServiceWeight",
    )?;
    let mut target_groups = Vec::new();
    match field(fc, "targetGroups") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                target_groups.push(parse_tuple(item)?);
            }
        }
        Some(other) => {
            return Err(type_err(
                other,
                "ForwardActionConfig.forwardConfig.targetGroups",
                "[]service.TargetGroupTuple",
            ));
        }
    }
    let stickiness = match field(fc, "targetGroupStickinessConfig") {
        None | Some(Value::Null) => None,
        Some(Value::Object(s)) => match field(s, "enabled") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                return Err(type_err(
                    other,
                    "TargetGroupStickinessConfig.forwardConfig.targetGroupStickinessConfig.enabled",
                    "bool",
                ));
            }
        },
        Some(other) => {
            return Err(type_err(
                other,
                "ForwardActionConfig.forwardConfig.targetGroupStickinessConfig",
                "service.TargetGroupStickinessConfig",
            ));
        }
    };
    Ok(Forward {
        base_weight,
        target_groups,
        stickiness,
    })
}

fn parse_tuple(v: &Value) -> Result<Tuple, String> {
    const AT: &str = "TargetGroupTuple.forwardConfig.targetGroups";
    let t = match v {
        // A null element decodes to an empty tuple, which validation refuses.
        Value::Null => {
            return Ok(Tuple {
                arn: None,
                service_name: None,
                service_port: false,
                weight: None,
            });
        }
        Value::Object(t) => t,
        other => return Err(type_err(other, AT, "service.TargetGroupTuple")),
    };
    let string = |name: &str| -> Result<Option<String>, String> {
        match field(t, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(type_err(other, &format!("{AT}.{name}"), "string")),
        }
    };
    let arn = string("targetGroupARN")?;
    let service_name = string("serviceName")?;
    let service_port = match field(t, "servicePort") {
        None | Some(Value::Null) => false,
        Some(Value::String(_)) => true,
        Some(n @ Value::Number(_)) => int32(Some(n), &format!("{AT}.servicePort"))?.is_some(),
        Some(other) => {
            return Err(type_err(
                other,
                &format!("{AT}.servicePort"),
                "intstr.IntOrString",
            ));
        }
    };
    if let Some(d) = field(t, "decrypt")
        && !matches!(d, Value::Null | Value::Bool(_))
    {
        return Err(type_err(d, &format!("{AT}.decrypt"), "bool"));
    }
    let weight = int32(field(t, "weight"), &format!("{AT}.weight"))?;
    Ok(Tuple {
        arn,
        service_name,
        service_port,
        weight,
    })
}

/// Go's struct field lookup: the exact name, else any that folds to it.
fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn int32(v: Option<&Value>, at: &str) -> Result<Option<i32>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(Some)
            .ok_or_else(|| {
                format!("json: cannot unmarshal number {n} into Go struct field {at} of type int32")
            }),
        Some(other) => Err(type_err(other, at, "int32")),
    }
}

fn type_err(v: &Value, at: &str, ty: &str) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if at.is_empty() {
        format!("json: cannot unmarshal {kind} into Go value of type {ty}")
    } else {
        format!("json: cannot unmarshal {kind} into Go struct field {at} of type {ty}")
    }
}
