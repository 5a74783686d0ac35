//! What kube-apiserver does on writes and kube-fake-client 0.3 does not,
//! as a tower service in front of the fake. Every client of the fake goes
//! through it: the HTTP server (the product, kubectl) and the stand-ins.
//!
//! * **Finalizers.** A DELETE of an object that has finalizers sets
//!   `metadata.deletionTimestamp` (and `deletionGracePeriodSeconds: 0`),
//!   keeps the object and answers 200 with it; a second DELETE changes
//!   nothing. An update that leaves such an object without finalizers deletes
//!   it. An update may not add a finalizer to it, nor change its
//!   deletionTimestamp (kube-apiserver:
//!   `staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`
//!   `Delete` → `updateForGracefulDeletionAndFinalizers`, and `Update` →
//!   `ShouldDeleteDuringUpdate` / `deleteWithoutFinalizers`;
//!   `staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go`
//!   `ValidateObjectMetaUpdate`: "no new finalizers can be added if the
//!   object is being deleted").
//! * **Preconditions.** DeleteOptions `preconditions.uid` /
//!   `preconditions.resourceVersion` that do not match answer 409 Conflict
//!   and delete nothing (`store.go` `Delete`, `preconditions.Check`).
//! * **Atomic writes.** The fake's update reads, then writes under a second
//!   lock, so a DELETE between the two is undone (the object comes back).
//!   kube-apiserver's storage is a compare-and-swap; here writes are
//!   serialized instead.
//!
//! The fake refuses to change `deletionTimestamp` on update, so the time is
//! kept in an annotation ([`DELETION_MARK`]) and presented as the real field
//! on every response; no client ever sees the annotation.

use crate::json::{json_patch, merge_patch};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Where a deletion time is kept while the fake holds the object.
pub const DELETION_MARK: &str = "nlb-sandbox.internal/deletion-timestamp";

/// The fake behind kube-apiserver's write semantics; see the module docs.
#[derive(Clone)]
pub struct ApiServer {
    fake: kube::Client,
    writes: Arc<tokio::sync::Mutex<()>>,
}

/// A client of the fake with kube-apiserver's write semantics.
pub fn client(fake: kube::Client) -> kube::Client {
    let service = ApiServer {
        fake,
        writes: Arc::new(tokio::sync::Mutex::new(())),
    };
    kube::Client::new(service, "default")
}

type Answer = Result<Response<Body>, kube::Error>;

impl tower_service::Service<Request<Body>> for ApiServer {
    type Response = Response<Body>;
    type Error = kube::Error;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let me = self.clone();
        Box::pin(async move { me.handle(req).await })
    }
}

/// A request's target: the object path and what kind of write it is.
struct Target {
    /// `/api/v1/namespaces/web/services/frontend`, without a subresource.
    object: String,
    status: bool,
}

/// The object path of a single-object request (`None` for collections).
fn target(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // api/v1[/namespaces/NS]/RES/NAME[/SUB] or apis/G/V[/namespaces/NS]/RES/NAME[/SUB]
    let base = match parts.first() {
        Some(&"api") => 2,
        Some(&"apis") => 3,
        _ => return None,
    };
    let rest = &parts.get(base..)?;
    let rest = if rest.first() == Some(&"namespaces") && rest.len() >= 3 {
        &rest[2..]
    } else {
        rest
    };
    let (object_len, status) = match rest.len() {
        2 => (parts.len(), false),
        3 => (parts.len() - 1, rest[2] == "status"),
        _ => return None,
    };
    Some(Target {
        object: format!("/{}", parts[..object_len].join("/")),
        status,
    })
}

fn is_marked(obj: &Value) -> bool {
    obj.pointer(&format!(
        "/metadata/annotations/{}",
        DELETION_MARK.replace('/', "~1")
    ))
    .is_some()
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The object as kube-apiserver would show it: the mark becomes
/// `deletionTimestamp`; lists are presented item by item.
pub fn present(v: &mut Value) {
    if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
        items.iter_mut().for_each(present_object);
    } else {
        present_object(v);
    }
}

fn present_object(obj: &mut Value) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(anns) = meta.get_mut("annotations").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(at) = anns.remove(DELETION_MARK) else {
        return;
    };
    if anns.is_empty() {
        meta.remove("annotations");
    }
    meta.insert("deletionTimestamp".into(), at);
    meta.insert("deletionGracePeriodSeconds".into(), json!(0));
}

/// The body a write of `obj` must carry to keep `current`'s deletion: the
/// mark restored, the presented fields (which the fake would call a change
/// of an immutable field) removed.
fn keep_deletion(obj: &mut Value, current: &Value) {
    let at = current
        .pointer(&format!(
            "/metadata/annotations/{}",
            DELETION_MARK.replace('/', "~1")
        ))
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        let anns = meta
            .entry("annotations")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(anns) = anns {
            anns.insert(DELETION_MARK.into(), at);
        }
    }
}

fn status(code: u16, reason: &str, message: &str) -> Answer {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    });
    answer(code, &body)
}

fn answer(code: u16, v: &Value) -> Answer {
    Ok(Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(Bytes::from(v.to_string())))
        .unwrap_or_else(|_| Response::new(Body::empty())))
}

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl ApiServer {
    async fn handle(&self, req: Request<Body>) -> Answer {
        let method = req.method().clone();
        if method == Method::GET || method == Method::HEAD {
            return self.presented(req).await;
        }
        let _write = self.writes.lock().await;
        let path = req.uri().path().to_string();
        let Some(t) = target(&path) else {
            return self.presented(req).await;
        };
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let query = parts.uri.query().map(str::to_string);
        match method {
            Method::DELETE if !t.status => self.delete(&t.object, query, body).await,
            Method::PUT | Method::PATCH if !t.status => {
                let Some(current) = self.get(&t.object).await? else {
                    return self.send_raw(parts, body).await;
                };
                if !is_marked(&current) {
                    return self.send_raw(parts, body).await;
                }
                let Ok(mut wanted) = serde_json::from_slice::<Value>(&body) else {
                    return status(400, "BadRequest", "the request body is not JSON");
                };
                if method == Method::PATCH {
                    let mut patched = current.clone();
                    if content_type.contains("json-patch") {
                        if !json_patch(&mut patched, &wanted) {
                            return status(422, "Invalid", "the JSON patch could not be applied");
                        }
                    } else {
                        // Strategic merge and apply patches: a merge, as the fake does.
                        merge_patch(&mut patched, &wanted);
                    }
                    wanted = patched;
                }
                self.update_deleting(&t.object, &current, wanted).await
            }
            _ => self.send_raw(parts, body).await,
        }
    }

    /// Sends a request as it came and presents the answer.
    async fn send_raw(&self, parts: http::request::Parts, body: Bytes) -> Answer {
        self.presented(Request::from_parts(parts, Body::from(body)))
            .await
    }

    async fn presented(&self, req: Request<Body>) -> Answer {
        let resp = self.fake.send(req).await?;
        let (parts, body) = resp.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let bytes = match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut v) => {
                present(&mut v);
                Bytes::from(v.to_string())
            }
            Err(_) => bytes,
        };
        Ok(Response::from_parts(parts, Body::from(bytes)))
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), kube::Error> {
        self.send_json(method, uri, "application/json", body).await
    }

    async fn send_json(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), kube::Error> {
        let mut b = Request::builder().method(method).uri(uri);
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, content_type);
        }
        let data = body.map(|v| Bytes::from(v.to_string())).unwrap_or_default();
        let req = b
            .body(Body::from(data))
            .map_err(|e| kube::Error::Service(Box::new(e)))?;
        let resp = self.fake.send(req).await?;
        let code = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Ok((code, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// The object as stored (mark and all), `None` when absent.
    async fn get(&self, object: &str) -> Result<Option<Value>, kube::Error> {
        let (code, v) = self.call(Method::GET, object, None).await?;
        Ok((code == 200).then_some(v))
    }

    async fn delete(&self, object: &str, query: Option<String>, body: Bytes) -> Answer {
        let Some(current) = self.get(object).await? else {
            let uri = match &query {
                Some(q) => format!("{object}?{q}"),
                None => object.to_string(),
            };
            let (code, v) = self.call(Method::DELETE, &uri, None).await?;
            return answer(code, &v);
        };
        let options: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if let Some(conflict) = precondition_failure(&options, &current) {
            return status(409, "Conflict", &conflict);
        }
        if finalizers(&current).is_empty() {
            let uri = match &query {
                Some(q) => format!("{object}?{q}"),
                None => object.to_string(),
            };
            let fwd = (!body.is_empty()).then_some(&options);
            let (code, mut v) = self.call(Method::DELETE, &uri, fwd).await?;
            present(&mut v);
            return answer(code, &v);
        }
        let mut v = if is_marked(&current) {
            current
        } else {
            let now = k8s_openapi::jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let mark = json!({"metadata": {"annotations": {DELETION_MARK: now}}});
            let (code, v) = self.call_merge(object, &mark).await?;
            if code != 200 {
                return answer(code, &v);
            }
            v
        };
        present(&mut v);
        answer(200, &v)
    }

    async fn call_merge(&self, object: &str, patch: &Value) -> Result<(u16, Value), kube::Error> {
        self.send_json(
            Method::PATCH,
            object,
            "application/merge-patch+json",
            Some(patch),
        )
        .await
    }

    /// An update of an object that is being deleted: no new finalizers; the
    /// object goes once it has none left.
    async fn update_deleting(&self, object: &str, current: &Value, mut wanted: Value) -> Answer {
        let before = finalizers(current);
        let added: Vec<String> = finalizers(&wanted)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            return status(
                422,
                "Invalid",
                &format!(
                    "{} \"{}\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}",
                    current
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or("object"),
                    name_of(current)
                ),
            );
        }
        keep_deletion(&mut wanted, current);
        if wanted.pointer("/metadata/resourceVersion").is_none() {
            wanted["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        }
        let (code, mut v) = self.call(Method::PUT, object, Some(&wanted)).await?;
        if code == 200 && finalizers(&v).is_empty() {
            let (gone, _) = self.call(Method::DELETE, object, None).await?;
            if gone != 200 && gone != 404 {
                return status(500, "InternalError", "deleting the finalized object failed");
            }
        }
        present(&mut v);
        answer(code, &v)
    }
}

/// kube-apiserver's message when a DeleteOptions precondition fails.
fn precondition_failure(options: &Value, current: &Value) -> Option<String> {
    let pre = options.get("preconditions")?;
    let name = name_of(current);
    let kind = current
        .get("kind")
        .and_then(Value::as_str)
        .map(|k| format!("{}s", k.to_ascii_lowercase()))
        .unwrap_or_else(|| "objects".into());
    for (field, pointer) in [
        ("UID", "/metadata/uid"),
        ("ResourceVersion", "/metadata/resourceVersion"),
    ] {
        let key = if field == "UID" {
            "uid"
        } else {
            "resourceVersion"
        };
        if let Some(want) = pre.get(key).and_then(Value::as_str) {
            let have = current
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default();
            if want != have {
                return Some(format!(
                    "Operation cannot be fulfilled on {kind} \"{name}\": Precondition failed: {field} in precondition: {want}, {field} in object meta: {have}"
                ));
            }
        }
    }
    None
}
