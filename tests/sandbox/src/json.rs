//! Small JSON helpers: RFC 7386 merge patch, a subset of RFC 6902 JSON patch,
//! and a Kubernetes label-selector matcher.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(ptr: &str) -> Option<(Vec<String>, String)> {
    let rest = ptr.strip_prefix('/')?;
    let mut parts: Vec<String> = rest.split('/').map(unescape).collect();
    let last = parts.pop()?;
    Some((parts, last))
}

fn walk<'a>(mut v: &'a mut Value, parts: &[String]) -> Option<&'a mut Value> {
    for p in parts {
        v = match v {
            Value::Object(m) => m.get_mut(p)?,
            Value::Array(a) => a.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Apply the `add`, `replace`, `remove` and `test` operations of an RFC 6902
/// patch. Returns false if an operation could not be applied.
pub fn json_patch(target: &mut Value, ops: &Value) -> bool {
    let Some(ops) = ops.as_array() else {
        return false;
    };
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        if path.is_empty() {
            if kind == "add" || kind == "replace" {
                *target = value;
                continue;
            }
            return false;
        }
        let Some((parents, last)) = split_pointer(path) else {
            return false;
        };
        let Some(parent) = walk(target, &parents) else {
            return false;
        };
        let ok = match (kind, parent) {
            ("add" | "replace", Value::Object(m)) => {
                m.insert(last, value);
                true
            }
            ("remove", Value::Object(m)) => m.remove(&last).is_some(),
            ("add", Value::Array(a)) => {
                if last == "-" {
                    a.push(value);
                    true
                } else if let Ok(i) = last.parse::<usize>() {
                    if i <= a.len() {
                        a.insert(i, value);
                        true
                    } else {
                        false
                    }
                } else {
                    false
                }
            }
            ("replace", Value::Array(a)) => match last.parse::<usize>() {
                Ok(i) if i < a.len() => {
                    a[i] = value;
                    true
                }
                _ => false,
            },
            ("remove", Value::Array(a)) => match last.parse::<usize>() {
                Ok(i) if i < a.len() => {
                    a.remove(i);
                    true
                }
                _ => false,
            },
            ("test", Value::Object(m)) => m.get(&last) == Some(&value),
            ("test", Value::Array(a)) => last
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .is_some_and(|v| *v == value),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Labels of an object (`metadata.labels`).
pub fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Split a selector on commas that are not inside parentheses.
fn split_requirements(sel: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in sel.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn set_values(s: &str) -> Vec<String> {
    s.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|v| v.trim().to_string())
        .collect()
}

/// Match a Kubernetes label selector string (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`).
pub fn selector_matches(labels: &BTreeMap<String, String>, selector: &str) -> bool {
    split_requirements(selector).iter().all(|req| {
        if let Some(k) = req.strip_prefix('!') {
            return !labels.contains_key(k.trim());
        }
        if let Some((k, v)) = req.split_once(" notin ") {
            let vals = set_values(v);
            return labels.get(k.trim()).is_none_or(|l| !vals.contains(l));
        }
        if let Some((k, v)) = req.split_once(" in ") {
            let vals = set_values(v);
            return labels.get(k.trim()).is_some_and(|l| vals.contains(l));
        }
        if let Some((k, v)) = req.split_once("!=") {
            return labels.get(k.trim()).is_none_or(|l| l != v.trim());
        }
        if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
            return labels.get(k.trim()).is_some_and(|l| l == v.trim());
        }
        labels.contains_key(req.as_str())
    })
}

/// Match a `metav1.LabelSelector` object (matchLabels + matchExpressions).
pub fn label_selector_object_matches(labels: &BTreeMap<String, String>, sel: &Value) -> bool {
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if labels.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let op = e.get("operator").and_then(Value::as_str).unwrap_or("");
            let vals: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = labels.get(key).map(String::as_str);
            let ok = match op {
                "In" => have.is_some_and(|h| vals.contains(&h)),
                "NotIn" => have.is_none_or(|h| !vals.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}
