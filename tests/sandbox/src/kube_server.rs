//! kube-fake-client exposed over HTTP/1 on 127.0.0.1, with what a real API
//! server has and the fake lacks (see /work/shared/reference/sandbox-notes.md):
//!
//! * discovery (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/{g}`, `/apis/{g}/{v}`),
//!   always legacy JSON (kubectl falls back from aggregated discovery);
//!   `/openapi/*` is 404, so kubectl needs `--validate=false`;
//! * Namespaces: the fake cannot address `/api/v1/namespaces[/{name}]`, so the
//!   server keeps Namespace objects itself (GET/LIST/POST/PUT/PATCH/DELETE);
//!   a GET of a missing namespace is a proper 404 NotFound Status, and a POST
//!   into a missing namespace is rejected like a real API server does;
//! * `+` in query strings is rewritten to `%20` before forwarding;
//! * LIST responses are sorted by namespace/name and paged here
//!   (`limit` + an opaque `continue` token, `remainingItemCount`);
//! * `watch=true` is emulated: the current list is streamed as ADDED events
//!   and the response then ends (no further events). Poll instead.
//! * `dryRun` on POST/PUT/PATCH/DELETE is answered without persisting;
//! * errors are always Kubernetes Status objects;
//! * every request (except `/_sandbox/*`) is counted by `METHOD path`
//!   (`GET /_sandbox/requests`, `POST /_sandbox/requests/reset`).
//!
//! Namespace deletion removes the Namespace object at once and leaves its
//! contents alone (no Terminating phase).

use crate::json::{json_patch, labels_of, merge_patch, selector_matches};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The TargetGroupBinding CRD as it appears in discovery.
const CRD_GROUP: &str = "elbv2.k8s.aws";
const CRD_VERSION: &str = "v1beta1";

type Resp = Response<Full<Bytes>>;

/// Shared state of one server.
pub(crate) struct State {
    fake: kube::Client,
    namespaces: Mutex<BTreeMap<String, Value>>,
    counts: Mutex<BTreeMap<String, u64>>,
    /// Who the requests claimed to be: `Authorization` and `Impersonate-*`
    /// headers, as one line per distinct combination.
    identities: Mutex<std::collections::BTreeSet<String>>,
    total: AtomicU64,
    rv: AtomicU64,
    port: OnceLock<u16>,
    /// Whether the TargetGroupBinding CRD is "installed" (served and discoverable).
    crd_installed: bool,
}

/// A running HTTP front for the fake. Dropping it stops the server.
pub struct KubeServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KubeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KubeServer {
    /// Bind 127.0.0.1:0 and serve `fake`. `namespaces` are the initial
    /// Namespace objects.
    /// `tgb_crd`: whether the TargetGroupBinding CRD is installed; if not,
    /// `elbv2.k8s.aws` is absent from discovery and its paths are 404.
    pub async fn start(
        fake: kube::Client,
        namespaces: Vec<Value>,
        tgb_crd: bool,
    ) -> std::io::Result<KubeServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            fake,
            namespaces: Mutex::new(BTreeMap::new()),
            counts: Mutex::new(BTreeMap::new()),
            identities: Mutex::new(std::collections::BTreeSet::new()),
            total: AtomicU64::new(0),
            rv: AtomicU64::new(100),
            port: OnceLock::new(),
            crd_installed: tgb_crd,
        });
        let _ = state.port.set(addr.port());
        for ns in namespaces {
            state.insert_namespace(ns);
        }
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    acc = listener.accept() => {
                        let Ok((stream, _)) = acc else { continue };
                        let st = st.clone();
                        conns.spawn(async move {
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let svc = hyper::service::service_fn(move |req| {
                                let st = st.clone();
                                async move { Ok::<_, Infallible>(handle(st, req).await) }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(io, svc)
                                .await;
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(KubeServer { addr, state, task })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Total requests served (excluding `/_sandbox/*`).
    pub fn total_requests(&self) -> u64 {
        self.state.total.load(Ordering::Relaxed)
    }

    /// Requests by `METHOD path` (query stripped), sorted.
    pub fn request_counts(&self) -> Vec<(String, u64)> {
        lock(&self.state.counts)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The identities requests presented since the last reset, sorted:
    /// `authorization=Bearer T; impersonate-group=G; impersonate-user=U`
    /// (headers lower-cased and sorted; `anonymous` when there were none).
    pub fn identities(&self) -> Vec<String> {
        lock(&self.state.identities).iter().cloned().collect()
    }

    /// Forget all counted requests.
    pub fn reset_requests(&self) {
        self.state.reset();
    }

    /// Insert (or replace) a Namespace object directly, bypassing HTTP.
    pub fn put_namespace(&self, ns: Value) {
        self.state.insert_namespace(ns);
    }

    /// Kubeconfig YAML pointing at this server.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster:\n    server: {}\nusers:\n- name: sandbox\n  user:\n    token: sandbox-dummy-token\ncontexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: sandbox\n    namespace: default\ncurrent-context: sandbox\npreferences: {{}}\n",
            self.url()
        )
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    fn reset(&self) {
        lock(&self.counts).clear();
        lock(&self.identities).clear();
        self.total.store(0, Ordering::Relaxed);
    }

    fn next_rv(&self) -> String {
        self.rv.fetch_add(1, Ordering::Relaxed).to_string()
    }

    fn insert_namespace(&self, mut ns: Value) -> Value {
        let name = ns
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        complete_namespace(&mut ns, &name, &self.next_rv());
        lock(&self.namespaces).insert(name, ns.clone());
        ns
    }
}

fn complete_namespace(ns: &mut Value, name: &str, rv: &str) {
    if !ns.is_object() {
        *ns = json!({});
    }
    ns["apiVersion"] = json!("v1");
    ns["kind"] = json!("Namespace");
    if !ns.get("metadata").is_some_and(Value::is_object) {
        ns["metadata"] = json!({});
    }
    let meta = &mut ns["metadata"];
    meta["name"] = json!(name);
    if meta.get("uid").is_none() {
        meta["uid"] = json!(pseudo_uid("namespace", name));
    }
    if meta.get("creationTimestamp").is_none() {
        meta["creationTimestamp"] = json!(
            k8s_openapi::jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        );
    }
    meta["resourceVersion"] = json!(rv);
    if !meta.get("labels").is_some_and(Value::is_object) {
        meta["labels"] = json!({});
    }
    meta["labels"]["kubernetes.io/metadata.name"] = json!(name);
    if ns.get("spec").is_none() {
        ns["spec"] = json!({"finalizers": ["kubernetes"]});
    }
    ns["status"] = json!({"phase": "Active"});
}

/// A deterministic UUID-shaped string.
pub(crate) fn pseudo_uid(kind: &str, name: &str) -> String {
    let h = crate::hash::hex(&[kind, name], 32);
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn json_response(code: StatusCode, v: &Value) -> Resp {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// A Kubernetes `Status` failure response.
fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Resp {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    json_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &v,
    )
}

fn not_found(resource: &str, name: &str) -> Resp {
    status(
        404,
        "NotFound",
        &format!("{resource} \"{name}\" not found"),
        Some(json!({"name": name, "kind": resource})),
    )
}

fn already_exists(resource: &str, name: &str) -> Resp {
    status(
        409,
        "AlreadyExists",
        &format!("{resource} \"{name}\" already exists"),
        Some(json!({"name": name, "kind": resource})),
    )
}

/// Parsed query: raw (still percent-encoded, `+` already rewritten) pairs.
struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let p = p.replace('+', "%20");
                match p.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (p.to_string(), String::new()),
                }
            })
            .collect();
        Query { pairs }
    }

    fn get(&self, key: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| percent_decode(v))
    }

    fn without(&self, keys: &[&str]) -> String {
        self.pairs
            .iter()
            .filter(|(k, _)| !keys.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                b.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let wants_table = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"));
    let mut identity: Vec<String> = req
        .headers()
        .iter()
        .filter(|(k, _)| *k == header::AUTHORIZATION || k.as_str().starts_with("impersonate-"))
        .map(|(k, v)| format!("{}={}", k.as_str(), v.to_str().unwrap_or("?")))
        .collect();
    identity.sort();
    let identity = if identity.is_empty() {
        "anonymous".to_string()
    } else {
        identity.join("; ")
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return status(400, "BadRequest", &format!("reading body: {e}"), None),
    };

    if let Some(rest) = path.strip_prefix("/_sandbox/") {
        return sandbox_endpoint(&st, &method, rest);
    }
    st.total.fetch_add(1, Ordering::Relaxed);
    lock(&st.identities).insert(identity);
    *lock(&st.counts)
        .entry(format!("{method} {path}"))
        .or_insert(0) += 1;

    let query = Query::parse(&raw_query);
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    if method == Method::GET
        && let Some(resp) = discovery(&st, &parts)
    {
        return resp;
    }
    if !st.crd_installed && parts.first() == Some(&"apis") && parts.get(1) == Some(&CRD_GROUP) {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
        );
    }
    if parts.first() == Some(&"openapi") {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
        );
    }
    if parts.len() >= 3 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" {
        if parts.len() == 3 || (parts.len() >= 4 && parts.len() <= 5 && is_ns_subpath(&parts)) {
            let resp = namespaces(&st, &method, &parts, &query, &content_type, &body);
            if wants_table && method == Method::GET && resp.status() == StatusCode::OK {
                return namespace_table(resp).await;
            }
            return resp;
        }
        // a namespaced resource: creating into a missing namespace fails
        if method == Method::POST && !lock(&st.namespaces).contains_key(parts[3]) {
            return not_found("namespaces", parts[3]);
        }
    }
    if parts.len() >= 5
        && parts[0] == "apis"
        && parts[3] == "namespaces"
        && method == Method::POST
        && !lock(&st.namespaces).contains_key(parts[4])
    {
        return not_found("namespaces", parts[4]);
    }

    // server-side apply bodies may be YAML; the fake only parses JSON
    let body = if content_type.contains("apply-patch+yaml")
        && serde_json::from_slice::<Value>(&body).is_err()
    {
        match serde_yaml::from_slice::<Value>(&body) {
            Ok(v) => Bytes::from(v.to_string()),
            Err(e) => return status(400, "BadRequest", &format!("invalid YAML: {e}"), None),
        }
    } else {
        body
    };

    // a real API server defaults and allocates Service fields on create, and
    // on update for what the update adds (a new port gets its nodePort:
    // kube-apiserver `pkg/registry/core/service/storage/alloc.go`
    // `Allocators.updateNodePorts`)
    let body = if ((method == Method::POST && parts.len() == 5)
        || (method == Method::PUT && parts.len() == 6))
        && parts[0] == "api"
        && parts[4] == "services"
    {
        match serde_json::from_slice::<Value>(&body) {
            Ok(mut svc) => {
                default_service(&st, &mut svc).await;
                Bytes::from(svc.to_string())
            }
            Err(_) => body,
        }
    } else {
        body
    };

    // DeleteOptions may carry dryRun in the body instead of the query
    let body_dry_run = method == Method::DELETE
        && serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("dryRun").cloned())
            .is_some_and(|d| d.as_array().is_some_and(|a| !a.is_empty()));
    if (query.get("dryRun").is_some() || body_dry_run) && method != Method::GET {
        return dry_run(&st, &method, &path, &content_type, &body).await;
    }

    let watch = matches!(query.get("watch").as_deref(), Some("true" | "1"));
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let cont = query.get("continue");
    let fwd_query = query.without(&[
        "limit",
        "continue",
        "watch",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "resourceVersionMatch",
    ]);
    let (code, mut value, raw) =
        match forward(&st, method.clone(), &path, &fwd_query, &content_type, body).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };

    let is_list = method == Method::GET
        && code == StatusCode::OK
        && value.as_ref().is_some_and(|v| {
            v.get("items").is_some_and(Value::is_array)
                && v.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
        });
    if !is_list {
        if wants_table
            && method == Method::GET
            && code == StatusCode::OK
            && parts.len() >= 4
            && let Some(obj) = value.as_ref()
        {
            let plural = parts[parts.len() - 2];
            let meta = json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)});
            return json_response(
                StatusCode::OK,
                &crate::table::table(plural, std::slice::from_ref(obj), meta),
            );
        }
        return Response::builder()
            .status(code)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(raw))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())));
    }
    let Some(list) = value.as_mut() else {
        return status(500, "InternalError", "list vanished", None);
    };
    let mut items = match list.get_mut("items").map(Value::take) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    items.sort_by_key(sort_key);

    if watch {
        let mut out = String::new();
        for it in items {
            out.push_str(&json!({"type": "ADDED", "object": it}).to_string());
            out.push('\n');
        }
        return Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(out)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())));
    }

    let offset = match cont.as_deref() {
        None | Some("") => 0,
        Some(tok) => match tok
            .strip_prefix("sandbox-offset-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => {
                return status(
                    410,
                    "Expired",
                    "The provided continue parameter is too old or invalid",
                    None,
                );
            }
        },
    };
    let total = items.len();
    let start = offset.min(total);
    let end = limit.map_or(total, |l| (start + l).min(total));
    let page: Vec<Value> = items.drain(start..end).collect();
    list["items"] = Value::Array(page);
    if !list.get("metadata").is_some_and(Value::is_object) {
        list["metadata"] = json!({});
    }
    if end < total {
        list["metadata"]["continue"] = json!(format!("sandbox-offset-{end}"));
        list["metadata"]["remainingItemCount"] = json!(total - end);
    }
    if wants_table {
        let plural = parts.last().copied().unwrap_or_default();
        let items = list["items"].as_array().cloned().unwrap_or_default();
        return json_response(
            StatusCode::OK,
            &crate::table::table(plural, &items, list["metadata"].clone()),
        );
    }
    json_response(StatusCode::OK, list)
}

/// Defaults and allocations the API server applies to a new Service:
/// clusterIP, nodePorts (30000-32767, unused), healthCheckNodePort for
/// `externalTrafficPolicy: Local` LoadBalancers, port protocol/targetPort,
/// externalTrafficPolicy, sessionAffinity, ipFamilies.
async fn default_service(st: &State, svc: &mut Value) {
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    spec.insert("type".into(), json!(ty));
    if ty == "ExternalName" {
        return;
    }
    spec.entry("sessionAffinity").or_insert(json!("None"));
    spec.entry("ipFamilies").or_insert(json!(["IPv4"]));
    spec.entry("ipFamilyPolicy").or_insert(json!("SingleStack"));
    spec.entry("internalTrafficPolicy")
        .or_insert(json!("Cluster"));
    if spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let n = st.rv.fetch_add(1, Ordering::Relaxed);
        let ip = format!("172.20.{}.{}", 100 + (n / 250) % 150, n % 250 + 1);
        spec.insert("clusterIP".into(), json!(ip));
        spec.insert("clusterIPs".into(), json!([ip]));
    }
    let external = ty == "LoadBalancer" || ty == "NodePort";
    if external {
        spec.entry("externalTrafficPolicy")
            .or_insert(json!("Cluster"));
    }
    let wants_node_ports = ty == "NodePort"
        || (ty == "LoadBalancer"
            && spec
                .get("allocateLoadBalancerNodePorts")
                .and_then(Value::as_bool)
                != Some(false));
    if ty == "LoadBalancer" {
        spec.entry("allocateLoadBalancerNodePorts")
            .or_insert(json!(true));
    }
    let needs_hc = ty == "LoadBalancer"
        && spec.get("externalTrafficPolicy").and_then(Value::as_str) == Some("Local")
        && spec.get("healthCheckNodePort").is_none();
    let missing_np = wants_node_ports
        && spec
            .get("ports")
            .and_then(Value::as_array)
            .is_some_and(|ps| ps.iter().any(|p| p.get("nodePort").is_none()));
    let mut used: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
    if missing_np || needs_hc {
        let req = Request::builder()
            .method(Method::GET)
            .uri("/api/v1/services")
            .body(kube::client::Body::from(Bytes::new()));
        if let Ok(req) = req
            && let Ok(resp) = st.fake.send(req).await
            && let Ok(b) = resp.into_body().collect().await
            && let Ok(list) = serde_json::from_slice::<Value>(&b.to_bytes())
        {
            for it in list["items"].as_array().into_iter().flatten() {
                for p in it["spec"]["ports"].as_array().into_iter().flatten() {
                    used.extend(p["nodePort"].as_i64());
                }
                used.extend(it["spec"]["healthCheckNodePort"].as_i64());
            }
        }
    }
    let alloc = |used: &mut std::collections::BTreeSet<i64>| -> Option<i64> {
        let start = 30000
            + (crate::hash::fnv64(&[&st.rv.load(Ordering::Relaxed).to_string()]) % 2768) as i64;
        (0..2768)
            .map(|i| 30000 + (start - 30000 + i) % 2768)
            .find(|n| used.insert(*n))
    };
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            let Some(po) = p.as_object_mut() else {
                continue;
            };
            po.entry("protocol").or_insert(json!("TCP"));
            let port = po.get("port").cloned().unwrap_or(Value::Null);
            po.entry("targetPort").or_insert(port);
            if wants_node_ports
                && po.get("nodePort").is_none()
                && let Some(n) = alloc(&mut used)
            {
                po.insert("nodePort".into(), json!(n));
            }
        }
    }
    if needs_hc && let Some(n) = alloc(&mut used) {
        spec.insert("healthCheckNodePort".into(), json!(n));
    }
}

async fn namespace_table(resp: Resp) -> Resp {
    let b = match resp.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => match e {},
    };
    let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    let items = match v.get("items").and_then(Value::as_array) {
        Some(a) => a.clone(),
        None => vec![v.clone()],
    };
    json_response(
        StatusCode::OK,
        &crate::table::table("namespaces", &items, json!({})),
    )
}

fn sort_key(v: &Value) -> (String, String) {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (s("/metadata/namespace"), s("/metadata/name"))
}

fn is_ns_subpath(parts: &[&str]) -> bool {
    // /api/v1/namespaces/{name} or /api/v1/namespaces/{name}/{status|finalize}
    parts.len() == 4 || (parts.len() == 5 && matches!(parts[4], "status" | "finalize"))
}

/// Forward to the fake. Returns (status, parsed JSON if any, raw body).
async fn forward(
    st: &State,
    method: Method,
    path: &str,
    query: &str,
    content_type: &str,
    body: Bytes,
) -> Result<(StatusCode, Option<Value>, Bytes), Resp> {
    let uri = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    };
    let mut b = Request::builder().method(method).uri(uri);
    if !content_type.is_empty() {
        b = b.header(header::CONTENT_TYPE, content_type);
    }
    let req = b
        .body(kube::client::Body::from(body))
        .map_err(|e| status(400, "BadRequest", &e.to_string(), None))?;
    let resp = st.fake.send(req).await.map_err(|e| {
        status(
            404,
            "NotFound",
            &format!("the server could not find the requested resource ({e})"),
            None,
        )
    })?;
    let (parts, body) = resp.into_parts();
    let raw = body
        .collect()
        .await
        .map_err(|e| status(500, "InternalError", &e.to_string(), None))?
        .to_bytes();
    let value = serde_json::from_slice::<Value>(&raw).ok();
    Ok((parts.status, value, raw))
}

/// Answer a dryRun write without persisting.
async fn dry_run(
    st: &State,
    method: &Method,
    path: &str,
    content_type: &str,
    body: &Bytes,
) -> Resp {
    let submitted: Option<Value> = serde_json::from_slice(body).ok();
    let get_path = if *method == Method::POST {
        let Some(name) = submitted
            .as_ref()
            .and_then(|v| v.pointer("/metadata/name"))
            .and_then(Value::as_str)
        else {
            return status(422, "Invalid", "metadata.name: Required value", None);
        };
        format!("{}/{}", path.trim_end_matches('/'), name)
    } else {
        path.to_string()
    };
    let (code, existing, raw) =
        match forward(st, Method::GET, &get_path, "", "", Bytes::new()).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
    let exists = code == StatusCode::OK;
    let resource = path
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    let plural = if *method == Method::POST {
        resource.last().copied().unwrap_or("")
    } else {
        resource
            .get(resource.len().saturating_sub(2))
            .copied()
            .unwrap_or("")
    };
    match *method {
        Method::POST => {
            if exists {
                let name = get_path.rsplit('/').next().unwrap_or("");
                return already_exists(plural, name);
            }
            let mut obj = submitted.unwrap_or(Value::Null);
            let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if let Some(i) = parts.iter().position(|p| *p == "namespaces")
                && let Some(ns) = parts.get(i + 1)
                && parts.len() > i + 2
            {
                obj["metadata"]["namespace"] = json!(ns);
            }
            json_response(StatusCode::CREATED, &obj)
        }
        _ if !exists => Response::builder()
            .status(code)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(raw))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        Method::DELETE => json_response(StatusCode::OK, &existing.unwrap_or(Value::Null)),
        Method::PUT => json_response(StatusCode::OK, &submitted.unwrap_or(Value::Null)),
        Method::PATCH => {
            let mut obj = existing.unwrap_or(Value::Null);
            let patch = submitted.unwrap_or(Value::Null);
            if content_type.contains("json-patch") {
                if !json_patch(&mut obj, &patch) {
                    return status(422, "Invalid", "the JSON patch could not be applied", None);
                }
            } else {
                merge_patch(&mut obj, &patch);
            }
            json_response(StatusCode::OK, &obj)
        }
        _ => status(405, "MethodNotAllowed", "method not allowed", None),
    }
}

fn namespaces(
    st: &State,
    method: &Method,
    parts: &[&str],
    query: &Query,
    content_type: &str,
    body: &Bytes,
) -> Resp {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let dry = query.get("dryRun").is_some()
        || parsed
            .as_ref()
            .and_then(|v| v.get("dryRun"))
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    if parts.len() == 3 {
        return match *method {
            Method::GET => {
                let sel = query.get("labelSelector");
                let fsel = query.get("fieldSelector");
                let items: Vec<Value> = lock(&st.namespaces)
                    .values()
                    .filter(|ns| {
                        sel.as_deref()
                            .is_none_or(|s| selector_matches(&labels_of(ns), s))
                    })
                    .filter(|ns| {
                        fsel.as_deref().is_none_or(|f| {
                            f.split(',').all(|req| match req.split_once('=') {
                                Some((k, v)) if k.trim_end_matches('=') == "metadata.name" => {
                                    ns.pointer("/metadata/name").and_then(Value::as_str) == Some(v)
                                }
                                _ => true,
                            })
                        })
                    })
                    .cloned()
                    .collect();
                json_response(
                    StatusCode::OK,
                    &json!({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": st.rv.load(Ordering::Relaxed).to_string()}, "items": items}),
                )
            }
            Method::POST => {
                let Some(obj) = parsed else {
                    return status(400, "BadRequest", "invalid JSON body", None);
                };
                let Some(name) = obj.pointer("/metadata/name").and_then(Value::as_str) else {
                    return status(422, "Invalid", "metadata.name: Required value", None);
                };
                if lock(&st.namespaces).contains_key(name) {
                    return already_exists("namespaces", name);
                }
                if dry {
                    let mut o = obj.clone();
                    complete_namespace(&mut o, name, "0");
                    return json_response(StatusCode::CREATED, &o);
                }
                let created = st.insert_namespace(obj.clone());
                json_response(StatusCode::CREATED, &created)
            }
            _ => status(
                405,
                "MethodNotAllowed",
                "method not allowed on namespaces",
                None,
            ),
        };
    }
    let name = parts[3];
    let existing = lock(&st.namespaces).get(name).cloned();
    let Some(existing) = existing else {
        return not_found("namespaces", name);
    };
    match *method {
        Method::GET => json_response(StatusCode::OK, &existing),
        Method::DELETE => {
            if !dry {
                lock(&st.namespaces).remove(name);
            }
            let mut o = existing;
            o["status"]["phase"] = json!("Terminating");
            json_response(StatusCode::OK, &o)
        }
        Method::PUT | Method::PATCH => {
            let Some(patch) = parsed.or_else(|| serde_yaml::from_slice::<Value>(body).ok()) else {
                return status(400, "BadRequest", "invalid body", None);
            };
            let mut o = existing;
            if *method == Method::PUT {
                o = patch;
            } else if content_type.contains("json-patch") {
                if !json_patch(&mut o, &patch) {
                    return status(422, "Invalid", "the JSON patch could not be applied", None);
                }
            } else {
                merge_patch(&mut o, &patch);
            }
            if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
            }
            if dry {
                complete_namespace(&mut o, name, "0");
                return json_response(StatusCode::OK, &o);
            }
            let stored = st.insert_namespace(o);
            json_response(StatusCode::OK, &stored)
        }
        _ => status(405, "MethodNotAllowed", "method not allowed", None),
    }
}

fn sandbox_endpoint(st: &State, method: &Method, rest: &str) -> Resp {
    match (method.as_str(), rest.trim_end_matches('/')) {
        ("GET", "requests") => {
            let items: Vec<Value> = lock(&st.counts)
                .iter()
                .map(|(k, v)| {
                    let (m, p) = k.split_once(' ').unwrap_or((k.as_str(), ""));
                    json!({"method": m, "path": p, "count": v})
                })
                .collect();
            json_response(
                StatusCode::OK,
                &json!({"total": st.total.load(Ordering::Relaxed), "requests": items}),
            )
        }
        ("POST", "requests/reset") => {
            st.reset();
            json_response(StatusCode::OK, &json!({"ok": true}))
        }
        _ => status(404, "NotFound", "unknown sandbox endpoint", None),
    }
}

// ---------------------------------------------------------------- discovery

struct ResInfo {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
}

fn resources(crd: bool) -> Vec<ResInfo> {
    let mut v: Vec<ResInfo> = kube_fake_client::r#gen::discovery::list_resources()
        .iter()
        .map(|(g, ver, k, p)| ResInfo {
            group: g,
            version: ver,
            kind: k,
            plural: p,
        })
        .collect();
    if !crd {
        return v;
    }
    v.push(ResInfo {
        group: CRD_GROUP,
        version: CRD_VERSION,
        kind: "TargetGroupBinding",
        plural: "targetgroupbindings",
    });
    v
}

/// Kubernetes version priority: GA > beta > alpha, higher numbers first.
fn version_rank(v: &str) -> (u8, u32, u32) {
    let rest = v.strip_prefix('v').unwrap_or(v);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse::<u32>().unwrap_or(0);
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    let (lvl, n) = if let Some(n) = tail.strip_prefix("beta") {
        (2, n)
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n)
    } else {
        (0, "")
    };
    (lvl, major, n.parse::<u32>().unwrap_or(0))
}

fn group_versions(crd: bool) -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut m: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for r in resources(crd) {
        if r.group.is_empty() {
            continue;
        }
        let e = m.entry(r.group).or_default();
        if !e.contains(&r.version) {
            e.push(r.version);
        }
    }
    for vs in m.values_mut() {
        vs.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
    }
    m
}

fn api_group_json(group: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": vs,
        "preferredVersion": vs.first().cloned().unwrap_or(Value::Null),
    })
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const SUBRESOURCES: &[&str] = &[
    "status",
    "scale",
    "log",
    "exec",
    "attach",
    "portforward",
    "proxy",
    "eviction",
    "binding",
    "ephemeralcontainers",
    "finalize",
    "approval",
    "token",
    "resize",
];

fn resource_list(group: &str, version: &str, crd: bool) -> Option<Value> {
    use kube_fake_client::r#gen::discovery as d;
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut out = Vec::new();
    for r in resources(crd)
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let is_crd = r.group == CRD_GROUP;
        let namespaced = if is_crd {
            true
        } else {
            d::is_namespaced(r.group, r.version, r.kind).unwrap_or(true)
        };
        let verbs: Vec<&str> = if is_crd {
            VERBS.to_vec()
        } else {
            VERBS
                .iter()
                .copied()
                .filter(|v| d::supports_verb(r.group, r.version, r.kind, v))
                .collect()
        };
        let short: Vec<&str> = if is_crd {
            vec!["tgb"]
        } else {
            d::get_short_names(r.group, r.version, r.kind).to_vec()
        };
        let singular = if is_crd {
            "targetgroupbinding".to_string()
        } else {
            d::get_singular(r.group, r.version, r.kind)
                .map(str::to_string)
                .unwrap_or_else(|| r.kind.to_lowercase())
        };
        let mut entry = json!({
            "name": r.plural,
            "singularName": singular,
            "namespaced": namespaced,
            "kind": r.kind,
            "verbs": verbs,
        });
        if !short.is_empty() {
            entry["shortNames"] = json!(short);
        }
        if is_crd {
            entry["categories"] = json!(["all"]);
        }
        out.push(entry);
        for sub in SUBRESOURCES {
            let has = if is_crd {
                *sub == "status"
            } else {
                d::has_subresource(r.group, r.version, r.kind, sub)
            };
            if has {
                let verbs: &[&str] = if matches!(
                    *sub,
                    "status" | "scale" | "finalize" | "approval" | "ephemeralcontainers" | "resize"
                ) {
                    &["get", "patch", "update"]
                } else {
                    &["create", "get"]
                };
                out.push(json!({
                    "name": format!("{}/{}", r.plural, sub),
                    "singularName": "",
                    "namespaced": namespaced,
                    "kind": r.kind,
                    "verbs": verbs,
                }));
            }
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}),
    )
}

fn discovery(st: &State, parts: &[&str]) -> Option<Resp> {
    let port = st.port.get().copied().unwrap_or(0);
    let crd = st.crd_installed;
    let v = match parts {
        ["version"] => json!({
            "major": "1",
            "minor": "32",
            "gitVersion": "v1.32.0",
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.23.4",
            "compiler": "gc",
            "platform": "linux/amd64",
        }),
        ["healthz" | "livez" | "readyz"] => {
            return Some(
                Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Full::new(Bytes::from_static(b"ok")))
                    .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
            );
        }
        ["api"] => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": format!("127.0.0.1:{port}")}],
        }),
        ["apis"] => {
            let groups: Vec<Value> = group_versions(crd)
                .iter()
                .map(|(g, vs)| {
                    let mut a = api_group_json(g, vs);
                    if let Some(o) = a.as_object_mut() {
                        o.remove("kind");
                        o.remove("apiVersion");
                    }
                    a
                })
                .collect();
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        }
        ["api", "v1"] => resource_list("", "v1", crd)?,
        ["apis", g] => {
            let gv = group_versions(crd);
            match gv.get(g) {
                Some(vs) => api_group_json(g, vs),
                None => {
                    return Some(status(
                        404,
                        "NotFound",
                        "the server could not find the requested resource",
                        None,
                    ));
                }
            }
        }
        ["apis", g, v] => match resource_list(g, v, crd) {
            Some(l) => l,
            None => {
                return Some(status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                    None,
                ));
            }
        },
        _ => return None,
    };
    Some(json_response(StatusCode::OK, &v))
}
