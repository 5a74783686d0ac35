//! The sandbox's reading of the LBC's `actions.<PROTO>-<PORT>` annotation
//! (tests/sandbox/src/listener_action.rs), checked against what the real
//! controller does. Here rather than in the sandbox crate, which has no test
//! target of its own (tests/sandbox/Cargo.toml).

use k8s_openapi::api::core::v1::Service;
use nlb_sandbox::lbc_config::ControllerConfig;
use nlb_sandbox::listener_action::{DefaultAction, ListenerAction, listener_action};
use serde_json::json;

fn svc(key: &str, value: &str) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "s", "annotations": {format!("service.beta.kubernetes.io/{key}"): value}},
    }))
    .unwrap()
}

fn cfg(version: (u32, u32, u32)) -> ControllerConfig {
    ControllerConfig {
        version: Some(version),
        ..Default::default()
    }
}

fn at_80(value: &str) -> Result<Option<ListenerAction>, String> {
    listener_action(&svc("actions.TCP-80", value), "TCP", 80, &cfg((2, 16, 0)))
}

#[test]
fn a_weighted_forward_keeps_the_base_weight_and_the_arns_in_order() {
    let a = at_80(
        r#"{"type":"forward","forwardConfig":{"baseServiceWeight":90,
           "targetGroups":[{"targetGroupARN":"arn:b","weight":10}],
           "targetGroupStickinessConfig":{"enabled":true}}}"#,
    )
    .unwrap()
    .unwrap();
    assert_eq!(a.base_weight, Some(90));
    assert_eq!(a.target_groups, vec![("arn:b".to_string(), Some(10))]);
    assert_eq!(a.stickiness, Some(true));
}

#[test]
fn field_names_fold_case_and_unknown_fields_are_ignored_as_in_go() {
    let a = at_80(r#"{"Type":"forward","FORWARDCONFIG":{"BaseServiceWeight":5,"extra":1}}"#)
        .unwrap()
        .unwrap();
    assert_eq!(a.base_weight, Some(5));
}

#[test]
fn controllers_before_v2_16_and_other_listeners_ignore_it() {
    let s = svc("actions.TCP-80", "not json");
    assert_eq!(listener_action(&s, "TCP", 80, &cfg((2, 15, 9))), Ok(None));
    assert_eq!(
        listener_action(&s, "TLS", 80, &cfg((2, 16, 0))),
        Ok(None),
        "the key names the listener protocol"
    );
    assert!(listener_action(&s, "TCP", 80, &cfg((2, 16, 0))).is_err());
}

#[test]
fn invalid_values_fail_the_model_build_with_the_controllers_words() {
    for (value, want) in [
        (r#"{"type":"redirect"}"#, "unknown action type: redirect"),
        (
            r#"{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"a","weight":1000}]}}"#,
            "invalid ForwardConfig: invalid TargetGroupTuple: target group weight must be between 0 and 999",
        ),
        (
            r#"{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"a","weight":1},{"targetGroupARN":"b"}]}}"#,
            "invalid ForwardConfig: weight must be set when routing to multiple target groups",
        ),
        (
            r#"{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"a","serviceName":"x","servicePort":80}]}}"#,
            "precisely one of targetGroupARN and serviceName can be specified",
        ),
        (
            r#"{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"x"}]}}"#,
            "invalid TargetGroupTuple: missing servicePort",
        ),
        (
            r#"{"type":"forward","forwardConfig":{"baseServiceWeight":"10"}}"#,
            "failed to parse json annotation, service.beta.kubernetes.io/actions.TCP-80",
        ),
        (
            r#"{"type":"forward","forwardConfig":{"baseServiceWeight":1.5}}"#,
            "cannot unmarshal number 1.5",
        ),
        (r#"{"type":"forward"}"#, "nil pointer dereference"),
    ] {
        let e = at_80(value).expect_err(value);
        assert!(e.contains(want), "{value}: {e}");
    }
    // Not checked by LBC: AWS refuses it when the listener is written.
    assert_eq!(
        at_80(r#"{"type":"forward","forwardConfig":{"baseServiceWeight":1000}}"#)
            .unwrap()
            .unwrap()
            .base_weight,
        Some(1000)
    );
}

#[test]
fn the_gate_off_sends_one_target_group_plain_and_refuses_several() {
    let mut c = cfg((2, 16, 0));
    c.weighted_target_groups = false;
    let only_base = ListenerAction {
        base_weight: Some(7),
        target_groups: vec![],
        stickiness: None,
    };
    assert_eq!(
        DefaultAction::build(Some(&only_base), "own", &c),
        Ok(DefaultAction::Plain("own".into()))
    );
    let two = ListenerAction {
        target_groups: vec![("other".into(), Some(1))],
        ..only_base
    };
    assert_eq!(
        DefaultAction::build(Some(&two), "own", &c),
        Err("weighted target groups feature is disabled".into())
    );
}
