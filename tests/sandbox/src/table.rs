//! `meta.k8s.io/v1` Table rendering for kubectl's human-readable `get`
//! (kubectl asks for `Accept: application/json;as=Table;…`). Columns follow
//! the real API server's printers for the kinds the sandbox seeds; anything
//! else gets Name + Age.

use serde_json::{Value, json};

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

fn age(v: &Value) -> String {
    let ts = s(v, "/metadata/creationTimestamp");
    let Ok(t) = ts.parse::<k8s_openapi::jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let secs = k8s_openapi::jiff::Timestamp::now()
        .duration_since(t)
        .as_secs()
        .max(0);
    match secs {
        0..120 => format!("{secs}s"),
        120..10_800 => format!("{}m", secs / 60),
        10_800..172_800 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

fn col(name: &str, priority: i32) -> Value {
    json!({"name": name, "type": "string", "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority})
}

fn or_none(x: String) -> String {
    if x.is_empty() { "<none>".into() } else { x }
}

fn service_cells(o: &Value) -> Vec<Value> {
    let ty = s(o, "/spec/type");
    let ty = if ty.is_empty() { "ClusterIP" } else { ty };
    let ingress: Vec<String> = o
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    i.get("hostname")
                        .or_else(|| i.get("ip"))
                        .and_then(Value::as_str)
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let external = if ty == "LoadBalancer" && ingress.is_empty() {
        "<pending>".to_string()
    } else {
        or_none(ingress.join(","))
    };
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                    match p.get("nodePort").and_then(Value::as_i64) {
                        Some(np) => format!("{}:{np}/{proto}", p["port"]),
                        None => format!("{}/{proto}", p["port"]),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    vec![
        json!(s(o, "/metadata/name")),
        json!(ty),
        json!(or_none(s(o, "/spec/clusterIP").to_string())),
        json!(external),
        json!(or_none(ports.join(","))),
        json!(age(o)),
    ]
}

fn pod_cells(o: &Value) -> Vec<Value> {
    let total = o
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map_or(0, |a| a.iter().filter(|c| c["ready"] == true).count());
    vec![
        json!(s(o, "/metadata/name")),
        json!(format!("{ready}/{total}")),
        json!(s(o, "/status/phase")),
        json!("0"),
        json!(age(o)),
        json!(or_none(s(o, "/status/podIP").to_string())),
        json!(or_none(s(o, "/spec/nodeName").to_string())),
    ]
}

fn node_cells(o: &Value) -> Vec<Value> {
    let ready = o
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
    vec![
        json!(s(o, "/metadata/name")),
        json!(if ready { "Ready" } else { "NotReady" }),
        json!("<none>"),
        json!(age(o)),
        json!(s(o, "/status/nodeInfo/kubeletVersion")),
    ]
}

fn n(o: &Value, ptr: &str) -> i64 {
    o.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

type Cells = fn(&Value) -> Vec<Value>;

/// A Table for `items` of resource `plural`, carrying `list_meta`.
pub fn table(plural: &str, items: &[Value], list_meta: Value) -> Value {
    let (cols, cells): (Vec<Value>, Cells) = match plural {
        "services" => (
            vec![
                col("Name", 0),
                col("Type", 0),
                col("Cluster-IP", 0),
                col("External-IP", 0),
                col("Port(s)", 0),
                col("Age", 0),
            ],
            service_cells,
        ),
        "pods" => (
            vec![
                col("Name", 0),
                col("Ready", 0),
                col("Status", 0),
                col("Restarts", 0),
                col("Age", 0),
                col("IP", 1),
                col("Node", 1),
            ],
            pod_cells,
        ),
        "nodes" => (
            vec![
                col("Name", 0),
                col("Status", 0),
                col("Roles", 0),
                col("Age", 0),
                col("Version", 0),
            ],
            node_cells,
        ),
        "namespaces" => (vec![col("Name", 0), col("Status", 0), col("Age", 0)], |o| {
            vec![
                json!(s(o, "/metadata/name")),
                json!(s(o, "/status/phase")),
                json!(age(o)),
            ]
        }),
        "deployments" => (
            vec![
                col("Name", 0),
                col("Ready", 0),
                col("Up-to-date", 0),
                col("Available", 0),
                col("Age", 0),
            ],
            |o| {
                vec![
                    json!(s(o, "/metadata/name")),
                    json!(format!(
                        "{}/{}",
                        n(o, "/status/readyReplicas"),
                        n(o, "/spec/replicas")
                    )),
                    json!(n(o, "/status/updatedReplicas")),
                    json!(n(o, "/status/availableReplicas")),
                    json!(age(o)),
                ]
            },
        ),
        "daemonsets" => (
            vec![
                col("Name", 0),
                col("Desired", 0),
                col("Current", 0),
                col("Ready", 0),
                col("Up-to-date", 0),
                col("Available", 0),
                col("Age", 0),
            ],
            |o| {
                vec![
                    json!(s(o, "/metadata/name")),
                    json!(n(o, "/status/desiredNumberScheduled")),
                    json!(n(o, "/status/currentNumberScheduled")),
                    json!(n(o, "/status/numberReady")),
                    json!(n(o, "/status/updatedNumberScheduled")),
                    json!(n(o, "/status/numberAvailable")),
                    json!(age(o)),
                ]
            },
        ),
        "targetgroupbindings" => (
            vec![
                col("Name", 0),
                col("Service-Name", 0),
                col("Service-Port", 0),
                col("Target-Type", 0),
                col("ARN", 1),
                col("Age", 0),
            ],
            |o| {
                vec![
                    json!(s(o, "/metadata/name")),
                    json!(s(o, "/spec/serviceRef/name")),
                    json!(
                        o.pointer("/spec/serviceRef/port")
                            .map(|p| p.to_string().trim_matches('"').to_string())
                            .unwrap_or_default()
                    ),
                    json!(s(o, "/spec/targetType")),
                    json!(s(o, "/spec/targetGroupARN")),
                    json!(age(o)),
                ]
            },
        ),
        _ => (vec![col("Name", 0), col("Age", 0)], |o| {
            vec![json!(s(o, "/metadata/name")), json!(age(o))]
        }),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| json!({"cells": cells(o), "object": o}))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": cols,
        "rows": rows,
    })
}
