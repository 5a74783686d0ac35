//! Thin adapter over the Kubernetes API: paged, polled reads that return the
//! plain types of `model`. No watches: some API servers (and test doubles) do
//! not serve them, and a one-shot tool does not need them.

use crate::model::{CniInstall, Detection, LbcInstall, PodInfo, ServiceInfo, ServicePort, Version};
use crate::switch::mirror;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Debug;

/// Page size for LIST calls, as kubectl uses.
const PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("{0}")]
    Config(String),
    #[error(
        "context \"{name}\" does not exist in the kubeconfig (contexts: {available}); pick one with --context"
    )]
    UnknownContext { name: String, available: String },
    #[error(
        "cannot reach the Kubernetes API server at {url}: {reason}; check --kubeconfig, --context and that the cluster is up"
    )]
    Unreachable { url: String, reason: String },
    #[error("namespace \"{0}\" not found; list namespaces with kubectl get namespaces")]
    NamespaceNotFound(String),
    #[error(
        "{op}: forbidden: {message}; see the RBAC section of the README for the permissions kubectl nlb needs"
    )]
    Forbidden { op: String, message: String },
    #[error("{op}: {message}")]
    Api {
        op: String,
        code: u16,
        message: String,
    },
}

/// Where to look: one namespace, or all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Namespace(String),
    All,
}

/// Turns a kube-rs error into what the user needs to know. `url` is the API
/// server, named in connection errors.
pub fn classify_error(op: &str, url: &str, err: kube::Error) -> KubeError {
    match err {
        kube::Error::Api(status) if status.code == 403 => KubeError::Forbidden {
            op: op.to_string(),
            message: status.message,
        },
        kube::Error::Api(status) => KubeError::Api {
            op: op.to_string(),
            code: status.code,
            message: if status.message.is_empty() {
                status.reason
            } else {
                status.message
            },
        },
        err @ (kube::Error::HyperError(_) | kube::Error::Service(_)) => KubeError::Unreachable {
            url: url.to_string(),
            reason: root_cause(&err),
        },
        other => KubeError::Api {
            op: op.to_string(),
            code: 0,
            message: root_cause(&other),
        },
    }
}

/// The innermost message of an error chain: "Connection refused (os error 111)"
/// says more than "client error (Connect)".
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    if text.contains("elapsed") || text.contains("timed out") {
        "timed out".to_string()
    } else {
        text
    }
}

/// A thin wrapper that carries the API server URL for error messages.
#[derive(Clone)]
pub struct Kube {
    pub client: kube::Client,
    pub url: String,
}

impl Kube {
    fn err(&self, op: &str, e: kube::Error) -> KubeError {
        classify_error(op, &self.url, e)
    }

    /// Lists every page of `api`, mapping each object as it arrives so that
    /// large clusters never sit in memory as full objects.
    async fn list_mapped<K, T>(
        &self,
        op: &str,
        api: &Api<K>,
        params: ListParams,
        mut map: impl FnMut(K) -> Option<T>,
    ) -> Result<Vec<T>, KubeError>
    where
        K: Clone + DeserializeOwned + Debug,
    {
        let mut out = Vec::new();
        let mut params = params.limit(PAGE);
        loop {
            let page = api.list(&params).await.map_err(|e| self.err(op, e))?;
            let next = page.metadata.continue_.clone();
            out.extend(page.items.into_iter().filter_map(&mut map));
            match next {
                Some(token) if !token.is_empty() => params = params.continue_token(&token),
                _ => break,
            }
        }
        Ok(out)
    }

    /// The namespace's labels, or `NamespaceNotFound`.
    pub async fn namespace_labels(
        &self,
        name: &str,
    ) -> Result<BTreeMap<String, String>, KubeError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        match api.get_opt(name).await {
            Ok(Some(ns)) => Ok(ns.metadata.labels.unwrap_or_default()),
            Ok(None) => Err(KubeError::NamespaceNotFound(name.to_string())),
            Err(e) => Err(self.err(&format!("get namespace {name}"), e)),
        }
    }

    /// Every namespace's labels.
    pub async fn all_namespace_labels(
        &self,
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, KubeError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let pairs = self
            .list_mapped("list namespaces", &api, ListParams::default(), |ns| {
                Some((
                    ns.metadata.name.unwrap_or_default(),
                    ns.metadata.labels.unwrap_or_default(),
                ))
            })
            .await?;
        Ok(pairs.into_iter().collect())
    }

    pub async fn services(&self, scope: &Scope) -> Result<Vec<ServiceInfo>, KubeError> {
        let api: Api<Service> = match scope {
            Scope::Namespace(ns) => Api::namespaced(self.client.clone(), ns),
            Scope::All => Api::all(self.client.clone()),
        };
        self.list_mapped("list services", &api, ListParams::default(), |s| {
            Some(service_info(&s))
        })
        .await
    }

    pub async fn pods(&self, scope: &Scope) -> Result<Vec<PodInfo>, KubeError> {
        let api: Api<Pod> = match scope {
            Scope::Namespace(ns) => Api::namespaced(self.client.clone(), ns),
            Scope::All => Api::all(self.client.clone()),
        };
        self.list_mapped("list pods", &api, ListParams::default(), |p| {
            Some(pod_info(p))
        })
        .await
    }

    /// Finds the LBC by its label, not its name (domain.md §8.2). A 403 makes the
    /// answer unknown rather than failing the whole command.
    pub async fn detect_lbc(&self) -> Result<Detection<LbcInstall>, KubeError> {
        let api: Api<Deployment> = Api::all(self.client.clone());
        let params = ListParams::default().labels(&format!("{NAME_LABEL}={LBC_NAME}"));
        match self
            .list_mapped("list deployments", &api, params, Some)
            .await
        {
            Ok(deployments) => Ok(lbc_from_deployments(&deployments)),
            Err(KubeError::Forbidden { message, .. }) => Ok(Detection::Unknown(message)),
            Err(e) => Err(e),
        }
    }

    /// The LBC and external-dns from one list of every Deployment (the
    /// audit's read): external-dns is found by the chart's label or by its
    /// image, since installs by manifest often carry neither name nor label.
    /// A 403 makes both answers unknown rather than failing the command.
    pub async fn detect_controllers(
        &self,
    ) -> Result<
        (
            Detection<LbcInstall>,
            Detection<Vec<crate::external_dns::Install>>,
        ),
        KubeError,
    > {
        let api: Api<Deployment> = Api::all(self.client.clone());
        match self
            .list_mapped("list deployments", &api, ListParams::default(), Some)
            .await
        {
            Ok(all) => {
                let lbc: Vec<Deployment> =
                    all.iter().filter(|d| named(d, LBC_NAME)).cloned().collect();
                let edns: Vec<_> = all.iter().filter_map(external_dns_from).collect();
                let edns = if edns.is_empty() {
                    Detection::Missing
                } else {
                    Detection::Found(edns)
                };
                Ok((lbc_from_deployments(&lbc), edns))
            }
            Err(KubeError::Forbidden { message, .. }) => Ok((
                Detection::Unknown(message.clone()),
                Detection::Unknown(message),
            )),
            Err(e) => Err(e),
        }
    }

    /// The Amazon VPC CNI runs as `kube-system/aws-node`.
    pub async fn detect_vpc_cni(&self) -> Result<Detection<CniInstall>, KubeError> {
        let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), "kube-system");
        match api.get_opt("aws-node").await {
            Ok(Some(ds)) => Ok(Detection::Found(cni_from_daemonset(&ds))),
            Ok(None) => Ok(Detection::Missing),
            Err(e) => match self.err("get daemonset kube-system/aws-node", e) {
                KubeError::Forbidden { message, .. } => Ok(Detection::Unknown(message)),
                other => Err(other),
            },
        }
    }
}

/// The TargetGroupBinding custom resource (elbv2.k8s.aws/v1beta1).
pub fn tgb_resource() -> kube::api::ApiResource {
    let gvk = kube::api::GroupVersionKind::gvk("elbv2.k8s.aws", "v1beta1", "TargetGroupBinding");
    kube::api::ApiResource::from_gvk_with_plural(&gvk, "targetgroupbindings")
}

impl Kube {
    /// A Deployment, DaemonSet or StatefulSet reduced to its pod template; `None` if absent.
    pub async fn workload(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<crate::bind::Workload>, KubeError> {
        use k8s_openapi::api::apps::v1::StatefulSet;
        let op = format!("get {kind} {namespace}/{name}");
        let parts = match kind {
            "deployment" => Api::<Deployment>::namespaced(self.client.clone(), namespace)
                .get_opt(name)
                .await
                .map(|d| d.and_then(|d| d.spec.map(|s| (s.selector, s.template)))),
            "daemonset" => Api::<DaemonSet>::namespaced(self.client.clone(), namespace)
                .get_opt(name)
                .await
                .map(|d| d.and_then(|d| d.spec.map(|s| (s.selector, s.template)))),
            "statefulset" => Api::<StatefulSet>::namespaced(self.client.clone(), namespace)
                .get_opt(name)
                .await
                .map(|d| d.and_then(|d| d.spec.map(|s| (s.selector, s.template)))),
            other => {
                return Err(KubeError::Config(format!(
                    "unknown workload kind \"{other}\": use deployment/NAME, daemonset/NAME or statefulset/NAME"
                )));
            }
        }
        .map_err(|e| self.err(&op, e))?;
        Ok(parts.map(|(selector, template)| {
            let pod = template.spec.unwrap_or_default();
            crate::bind::Workload {
                kind: kind.to_string(),
                namespace: namespace.to_string(),
                name: name.to_string(),
                host_network: pod.host_network.unwrap_or(false),
                selector: selector.match_labels.unwrap_or_default(),
                node_selector: pod.node_selector.clone().unwrap_or_default(),
                affinity_terms: Self::affinity_terms(&pod),
                tolerations: pod
                    .tolerations
                    .iter()
                    .flatten()
                    .map(|t| crate::bind::placement::Toleration {
                        key: t.key.clone(),
                        operator: t.operator.clone(),
                        value: t.value.clone(),
                        effect: t.effect.clone(),
                    })
                    .collect(),
                ports: pod
                    .containers
                    .iter()
                    .flat_map(|c| c.ports.clone().unwrap_or_default())
                    .map(|p| crate::bind::ContainerPort {
                        name: p.name,
                        container_port: p.container_port,
                        host_port: p.host_port,
                        protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
                    })
                    .collect(),
            }
        }))
    }

    /// The pod template's required node affinity, as match expressions per term.
    fn affinity_terms(
        pod: &k8s_openapi::api::core::v1::PodSpec,
    ) -> Vec<Vec<crate::bind::placement::MatchExpr>> {
        pod.affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|r| {
                r.node_selector_terms
                    .iter()
                    .map(|t| {
                        t.match_expressions
                            .iter()
                            .flatten()
                            .map(|e| crate::bind::placement::MatchExpr {
                                key: e.key.clone(),
                                operator: e.operator.clone(),
                                values: e.values.clone().unwrap_or_default(),
                            })
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Pods of a namespace matching `selector` (`k=v,k2=v2`).
    pub async fn pods_matching(
        &self,
        namespace: &str,
        selector: &BTreeMap<String, String>,
    ) -> Result<Vec<PodInfo>, KubeError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let labels: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.list_mapped(
            "list pods",
            &api,
            ListParams::default().labels(&labels.join(",")),
            |p| Some(pod_info(p)),
        )
        .await
    }

    pub async fn nodes(&self) -> Result<Vec<crate::bind::NodeInfo>, KubeError> {
        let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(self.client.clone());
        self.list_mapped("list nodes", &api, ListParams::default(), |n| {
            let status = n.status.unwrap_or_default();
            let taints = n
                .spec
                .as_ref()
                .and_then(|s| s.taints.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|t| crate::bind::placement::Taint {
                    key: t.key,
                    value: t.value,
                    effect: t.effect,
                })
                .collect();
            Some(crate::bind::NodeInfo {
                name: n.metadata.name.unwrap_or_default(),
                labels: n.metadata.labels.unwrap_or_default(),
                instance_id: n
                    .spec
                    .and_then(|s| s.provider_id)
                    .and_then(|p| instance_id_of(&p)),
                internal_ip: status
                    .addresses
                    .unwrap_or_default()
                    .into_iter()
                    .find(|a| a.type_ == "InternalIP")
                    .map(|a| a.address),
                ready: status
                    .conditions
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True"),
                taints,
            })
        })
        .await
    }

    /// Every TargetGroupBinding in the cluster; an error naming the LBC when the CRD is absent.
    pub async fn target_group_bindings(
        &self,
    ) -> Result<Vec<crate::bind::ExistingBinding>, KubeError> {
        let api: Api<kube::api::DynamicObject> =
            Api::all_with(self.client.clone(), &tgb_resource());
        match self
            .list_mapped("list targetgroupbindings", &api, ListParams::default(), |o| {
                Some(crate::bind::ExistingBinding {
                    namespace: o.metadata.namespace.clone().unwrap_or_default(),
                    name: o.metadata.name.clone().unwrap_or_default(),
                    target_group_arn: o.data["spec"]["targetGroupARN"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    multi_cluster: o.data["spec"]["multiClusterTargetGroup"]
                        .as_bool()
                        .unwrap_or(false),
                })
            })
            .await
        {
            Err(KubeError::Api { code: 404, .. }) => Err(KubeError::Config(
                "the TargetGroupBinding CRD (targetgroupbindings.elbv2.k8s.aws) is not installed: install the AWS Load Balancer Controller".into(),
            )),
            other => other,
        }
    }

    /// Creates an object from its manifest, or with `dry_run` only validates it on
    /// the server. `Ok(false)` when it already exists.
    pub async fn create(
        &self,
        manifest: &serde_json::Value,
        dry_run: bool,
    ) -> Result<bool, KubeError> {
        let kind = manifest["kind"].as_str().unwrap_or_default();
        let ns = manifest["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default();
        let name = manifest["metadata"]["name"].as_str().unwrap_or_default();
        let op = format!("create {kind} {ns}/{name}");
        let params = kube::api::PostParams {
            dry_run,
            ..Default::default()
        };
        let result = if kind == "Service" {
            let svc: Service = serde_json::from_value(manifest.clone())
                .map_err(|e| KubeError::Config(format!("{op}: {e}")))?;
            Api::<Service>::namespaced(self.client.clone(), ns)
                .create(&params, &svc)
                .await
                .map(|_| ())
        } else {
            let obj: kube::api::DynamicObject = serde_json::from_value(manifest.clone())
                .map_err(|e| KubeError::Config(format!("{op}: {e}")))?;
            Api::<kube::api::DynamicObject>::namespaced_with(
                self.client.clone(),
                ns,
                &tgb_resource(),
            )
            .create(&params, &obj)
            .await
            .map(|_| ())
        };
        match result {
            Ok(()) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(self.err(&op, e)),
        }
    }

    /// The `spec` of a TargetGroupBinding, if it exists.
    /// Replaces fields of a TargetGroupBinding's spec (a JSON merge patch).
    pub async fn patch_binding_spec(
        &self,
        namespace: &str,
        name: &str,
        spec: &serde_json::Value,
    ) -> Result<(), KubeError> {
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &tgb_resource());
        api.patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({ "spec": spec })),
        )
        .await
        .map(|_| ())
        .map_err(|e| self.err(&format!("patch targetgroupbinding {namespace}/{name}"), e))
    }

    /// Sets (`Some`) or removes (`None`) annotations of a Service: one JSON
    /// merge patch, so other annotations and fields stay as they are.
    pub async fn patch_service_annotations(
        &self,
        namespace: &str,
        name: &str,
        annotations: &BTreeMap<String, Option<String>>,
    ) -> Result<(), KubeError> {
        Api::<Service>::namespaced(self.client.clone(), namespace)
            .patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(
                    serde_json::json!({"metadata": {"annotations": annotations}}),
                ),
            )
            .await
            .map(|_| ())
            .map_err(|e| self.err(&format!("annotate service {namespace}/{name}"), e))
    }

    /// The spec of the namespace's TargetGroupBinding for a target group.
    pub async fn binding_for(
        &self,
        namespace: &str,
        target_group_arn: &str,
    ) -> Result<Option<serde_json::Value>, KubeError> {
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &tgb_resource());
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| self.err(&format!("list targetgroupbindings in {namespace}"), e))?;
        Ok(list
            .items
            .into_iter()
            .find(|o| o.data["spec"]["targetGroupARN"].as_str() == Some(target_group_arn))
            .map(|o| o.data["spec"].clone()))
    }

    /// Deletes a TargetGroupBinding; `Ok(false)` when it is already gone.
    /// Its controller's finalizer deregisters the targets first.
    pub async fn delete_binding(&self, namespace: &str, name: &str) -> Result<bool, KubeError> {
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &tgb_resource());
        match api.delete(name, &Default::default()).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(self.err(&format!("delete targetgroupbinding {namespace}/{name}"), e)),
        }
    }

    pub async fn binding_spec(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>, KubeError> {
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &tgb_resource());
        api.get_opt(name)
            .await
            .map(|o| o.map(|o| o.data["spec"].clone()))
            .map_err(|e| self.err(&format!("get targetgroupbinding {namespace}/{name}"), e))
    }

    pub async fn service(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ServiceInfo>, KubeError> {
        let api: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        api.get_opt(name)
            .await
            .map(|s| s.map(|s| service_info(&s)))
            .map_err(|e| self.err(&format!("get service {namespace}/{name}"), e))
    }
}

/// `aws:///us-west-2a/i-0abc` → `i-0abc`.
pub fn instance_id_of(provider_id: &str) -> Option<String> {
    provider_id
        .rsplit('/')
        .next()
        .filter(|id| id.starts_with("i-"))
        .map(str::to_string)
}

/// Reduces a Service to what the load-balancer logic needs.
pub fn service_info(svc: &Service) -> ServiceInfo {
    let meta = &svc.metadata;
    let spec = svc.spec.clone().unwrap_or_default();
    let hostnames = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .map(|ingress| ingress.iter().filter_map(|i| i.hostname.clone()).collect())
        .unwrap_or_default();
    ServiceInfo {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        type_: spec.type_.clone().unwrap_or_else(|| "ClusterIP".into()),
        load_balancer_class: spec.load_balancer_class.clone(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        selector: spec.selector.clone().unwrap_or_default(),
        ports: spec
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| ServicePort {
                name: p.name,
                port: p.port,
                protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
                target_port: p.target_port.map(|t| match t {
                    IntOrString::Int(i) => i.to_string(),
                    IntOrString::String(s) => s,
                }),
                node_port: p.node_port,
            })
            .collect(),
        external_traffic_policy: spec.external_traffic_policy,
        health_check_node_port: spec.health_check_node_port,
        load_balancer_source_ranges: spec.load_balancer_source_ranges.unwrap_or_default(),
        ingress_hostnames: hostnames,
        deleting: meta.deletion_timestamp.is_some(),
    }
}

/// Reduces a Pod to placement and readiness.
pub fn pod_info(pod: Pod) -> PodInfo {
    let status = pod.status.unwrap_or_default();
    let ready = status
        .conditions
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    PodInfo {
        namespace: pod.metadata.namespace.unwrap_or_default(),
        name: pod.metadata.name.unwrap_or_default(),
        labels: pod.metadata.labels.unwrap_or_default(),
        node_name: pod.spec.and_then(|s| s.node_name),
        ip: status.pod_ip,
        ready,
    }
}

/// The version in an image reference's tag; `None` for a digest or a tag that
/// is not a version (domain.md §8.2: treat those as unknown).
pub fn image_version(image: &str) -> Option<Version> {
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    Version::parse(tag)
}

/// The image of the pod template's container that `wanted` picks, else of its first container.
fn container_image(
    pod: Option<&k8s_openapi::api::core::v1::PodSpec>,
    wanted: impl Fn(&k8s_openapi::api::core::v1::Container) -> bool,
) -> Option<String> {
    let containers = &pod?.containers;
    containers
        .iter()
        .find(|c| wanted(c))
        .or(containers.first())
        .and_then(|c| c.image.clone())
}

/// The label the controllers' charts set, and the LBC's value of it: the
/// LBC is found by it (domain.md §8.2).
const NAME_LABEL: &str = "app.kubernetes.io/name";
const LBC_NAME: &str = "aws-load-balancer-controller";

/// Whether `dep` carries `app.kubernetes.io/name: name`.
fn named(dep: &Deployment, name: &str) -> bool {
    dep.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(NAME_LABEL))
        .is_some_and(|n| n == name)
}

/// An external-dns Deployment's configuration, if `dep` is one.
fn external_dns_from(dep: &Deployment) -> Option<crate::external_dns::Install> {
    let is_image = |c: &k8s_openapi::api::core::v1::Container| {
        c.image
            .as_deref()
            .is_some_and(|i| i.contains("external-dns"))
    };
    let pod = dep.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    let labelled = named(dep, "external-dns");
    let container = pod.and_then(|p| p.containers.iter().find(|c| is_image(c)));
    if container.is_none() && !labelled {
        return None;
    }
    let image = container_image(pod, is_image);
    let args: Vec<String> = container
        .or_else(|| pod.and_then(|p| p.containers.first()))
        .and_then(|c| c.args.clone())
        .unwrap_or_default();
    Some(crate::external_dns::Install::from_args(
        dep.metadata.namespace.as_deref().unwrap_or_default(),
        dep.metadata.name.as_deref().unwrap_or_default(),
        image.as_deref().and_then(image_version),
        &args,
    ))
}

/// Picks the controller among Deployments labelled as the LBC; its version from
/// the image tag, else from `app.kubernetes.io/version`.
pub fn lbc_from_deployments(deployments: &[Deployment]) -> Detection<LbcInstall> {
    let Some(dep) = deployments.first() else {
        return Detection::Missing;
    };
    let image = container_image(
        dep.spec.as_ref().and_then(|s| s.template.spec.as_ref()),
        |c| {
            c.image
                .as_deref()
                .is_some_and(|i| i.contains("aws-load-balancer-controller"))
        },
    );
    let from_image = image.as_deref().and_then(image_version);
    let from_label = dep
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/version"))
        .and_then(|v| Version::parse(v));
    let (version, version_source) = match (from_image, from_label) {
        (Some(v), _) => (Some(v), Some("image")),
        (None, Some(v)) => (Some(v), Some("label")),
        (None, None) => (None, None),
    };
    let args: Vec<String> = dep
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| {
            p.containers
                .iter()
                .flat_map(|c| c.args.clone().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    let feature_gates = flag(&args, "feature-gates")
        .map(|gates| {
            gates
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .filter_map(|(k, v)| Some((k.trim().to_string(), v.trim().parse().ok()?)))
                .collect()
        })
        .unwrap_or_default();
    Detection::Found(LbcInstall {
        namespace: dep.metadata.namespace.clone().unwrap_or_default(),
        name: dep.metadata.name.clone().unwrap_or_default(),
        image,
        version,
        version_source,
        cluster_name: flag(&args, "cluster-name"),
        load_balancer_class: flag(&args, "load-balancer-class"),
        feature_gates,
        ready_replicas: dep.status.as_ref().map(|s| s.ready_replicas.unwrap_or(0)),
    })
}

/// A flag's value, `--name=value` or `--name value`; the last one wins, as
/// for the controller's own flag parser (pflag).
fn flag(args: &[String], name: &str) -> Option<String> {
    flag_values(args, name, false).pop()
}

/// Every value of a repeatable flag, as pflag reads it: `--name=value`, or
/// `--name value` for a flag that takes one; a bare boolean flag is `true`
/// (pflag never takes the next word as a boolean's value).
pub fn flag_values(args: &[String], name: &str, boolean: bool) -> Vec<String> {
    let long = format!("--{name}");
    let mut out = Vec::new();
    let mut words = args.iter();
    while let Some(a) = words.next() {
        if let Some(v) = a.strip_prefix(&format!("{long}=")) {
            out.push(v.to_string());
        } else if *a == long {
            match boolean {
                true => out.push("true".into()),
                false => out.extend(words.next().cloned()),
            }
        }
    }
    out
}

fn cni_from_daemonset(ds: &DaemonSet) -> CniInstall {
    let image = container_image(
        ds.spec.as_ref().and_then(|s| s.template.spec.as_ref()),
        |c| c.name == "aws-node",
    );
    CniInstall {
        version: image.as_deref().and_then(image_version),
        image,
    }
}

/// Raw objects for commands that write: the Service as stored, and the
/// ConfigMap that holds a switch's journal.
impl Kube {
    pub async fn service_object(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Service>, KubeError> {
        Api::<Service>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
            .map_err(|e| self.err(&format!("get service {namespace}/{name}"), e))
    }

    /// Adds ports to a Service, keeping the ones it has (and their node
    /// ports): a replace that carries the resourceVersion read, so an edit
    /// made in between fails the write (409) instead of being lost. A port
    /// whose name is already there is skipped, so a re-run changes nothing;
    /// `Ok(false)` then.
    pub async fn add_service_ports(
        &self,
        namespace: &str,
        name: &str,
        ports: &[serde_json::Value],
    ) -> Result<bool, KubeError> {
        let op = format!("add ports to service {namespace}/{name}");
        let api = Api::<Service>::namespaced(self.client.clone(), namespace);
        let mut svc = api.get(name).await.map_err(|e| self.err(&op, e))?;
        let spec = svc.spec.get_or_insert_with(Default::default);
        let list = spec.ports.get_or_insert_with(Vec::new);
        let mut added = false;
        for p in ports {
            let port: k8s_openapi::api::core::v1::ServicePort =
                serde_json::from_value(p.clone())
                    .map_err(|e| KubeError::Config(format!("{op}: {e}")))?;
            if list.iter().any(|have| have.name == port.name) {
                continue;
            }
            list.push(port);
            added = true;
        }
        if !added {
            return Ok(false);
        }
        svc.metadata.managed_fields = None;
        api.replace(name, &Default::default(), &svc)
            .await
            .map(|_| true)
            .map_err(|e| self.err(&op, e))
    }

    /// Creates a Service; `Ok(None)` when one of that name exists already.
    pub async fn create_service(&self, svc: &Service) -> Result<Option<Service>, KubeError> {
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        match Api::<Service>::namespaced(self.client.clone(), &ns)
            .create(&Default::default(), svc)
            .await
        {
            Ok(s) => Ok(Some(s)),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(None),
            Err(e) => Err(self.err(&format!("create service {ns}/{name}"), e)),
        }
    }

    /// Deletes a Service if it still is the object `uid` names (a
    /// precondition, so a re-created namesake is never touched). `Ok(false)`
    /// when it is already gone.
    pub async fn delete_service(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Result<bool, KubeError> {
        let params = kube::api::DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..Default::default()
        };
        match Api::<Service>::namespaced(self.client.clone(), namespace)
            .delete(name, &params)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(self.err(&format!("delete service {namespace}/{name}"), e)),
        }
    }

    /// Services as stored, optionally by label selector, every page.
    pub async fn service_objects(
        &self,
        scope: &Scope,
        selector: Option<&str>,
    ) -> Result<Vec<Service>, KubeError> {
        let api: Api<Service> = match scope {
            Scope::Namespace(ns) => Api::namespaced(self.client.clone(), ns),
            Scope::All => Api::all(self.client.clone()),
        };
        let mut params = ListParams::default();
        if let Some(sel) = selector {
            params = params.labels(sel);
        }
        self.list_mapped("list services", &api, params, Some).await
    }

    /// Sets one label on a namespace (a merge patch: other labels stay).
    pub async fn label_namespace(
        &self,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<(), KubeError> {
        let patch = serde_json::json!({"metadata": {"labels": {key: value}}});
        Api::<Namespace>::all(self.client.clone())
            .patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
            .map(|_| ())
            .map_err(|e| self.err(&format!("label namespace {name}"), e))
    }

    /// The EndpointSlices of a Service (label `kubernetes.io/service-name`).
    pub async fn endpoint_slices_of(
        &self,
        namespace: &str,
        service: &str,
    ) -> Result<Vec<EndpointSlice>, KubeError> {
        let api = Api::<EndpointSlice>::namespaced(self.client.clone(), namespace);
        let params = ListParams::default().labels(&format!("{}={service}", mirror::SERVICE_NAME));
        self.list_mapped(
            &format!("list endpointslices of {namespace}/{service}"),
            &api,
            params,
            Some,
        )
        .await
    }

    pub async fn endpoints_object(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Endpoints>, KubeError> {
        Api::<Endpoints>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
            .map_err(|e| self.err(&format!("get endpoints {namespace}/{name}"), e))
    }

    /// Makes the new Service's copied endpoints exactly `slices` (and
    /// `endpoints`): server-side apply as kubectl-nlb, then the copies no
    /// longer wanted deleted.
    pub async fn apply_mirror(
        &self,
        namespace: &str,
        new_service: &str,
        slices: &[EndpointSlice],
        endpoints: Option<&Endpoints>,
    ) -> Result<(), KubeError> {
        let params = kube::api::PatchParams::apply(mirror::OURS).force();
        let api = Api::<EndpointSlice>::namespaced(self.client.clone(), namespace);
        for slice in slices {
            let name = slice.metadata.name.clone().unwrap_or_default();
            let mut body = serde_json::to_value(slice).unwrap_or_default();
            body["apiVersion"] = "discovery.k8s.io/v1".into();
            body["kind"] = "EndpointSlice".into();
            api.patch(&name, &params, &kube::api::Patch::Apply(body))
                .await
                .map_err(|e| self.err(&format!("apply endpointslice {namespace}/{name}"), e))?;
        }
        let wanted: Vec<Option<String>> = slices.iter().map(|s| s.metadata.name.clone()).collect();
        for stale in self
            .endpoint_slices_of(namespace, new_service)
            .await?
            .into_iter()
            .filter(|s| {
                s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(mirror::MANAGED_BY))
                    .map(String::as_str)
                    == Some(mirror::OURS)
                    && !wanted.contains(&s.metadata.name)
            })
        {
            let name = stale.metadata.name.unwrap_or_default();
            match api.delete(&name, &Default::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => {
                    return Err(self.err(&format!("delete endpointslice {namespace}/{name}"), e));
                }
            }
        }
        if let Some(ep) = endpoints {
            let mut body = serde_json::to_value(ep).unwrap_or_default();
            body["apiVersion"] = "v1".into();
            body["kind"] = "Endpoints".into();
            Api::<Endpoints>::namespaced(self.client.clone(), namespace)
                .patch(new_service, &params, &kube::api::Patch::Apply(body))
                .await
                .map_err(|e| self.err(&format!("apply endpoints {namespace}/{new_service}"), e))?;
        }
        Ok(())
    }

    pub async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ConfigMap>, KubeError> {
        Api::<ConfigMap>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
            .map_err(|e| self.err(&format!("get configmap {namespace}/{name}"), e))
    }

    /// Creates the ConfigMap, or replaces it when `cm` carries the
    /// resourceVersion it was read at (a 409 then means someone else wrote it).
    pub async fn write_config_map(&self, cm: &ConfigMap) -> Result<ConfigMap, KubeError> {
        let ns = cm.metadata.namespace.clone().unwrap_or_default();
        let name = cm.metadata.name.clone().unwrap_or_default();
        let api = Api::<ConfigMap>::namespaced(self.client.clone(), &ns);
        let result = if cm.metadata.resource_version.is_some() {
            api.replace(&name, &Default::default(), cm).await
        } else {
            api.create(&Default::default(), cm).await
        };
        result.map_err(|e| self.err(&format!("write configmap {ns}/{name}"), e))
    }

    pub async fn delete_config_map(&self, namespace: &str, name: &str) -> Result<(), KubeError> {
        match Api::<ConfigMap>::namespaced(self.client.clone(), namespace)
            .delete(name, &Default::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(self.err(&format!("delete configmap {namespace}/{name}"), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_yaml<T: DeserializeOwned>(text: &str) -> T {
        serde_yaml::from_str(text).expect("test YAML")
    }

    #[test]
    fn a_service_is_reduced_with_defaults_applied() {
        let svc: Service = from_yaml(
            r#"
metadata: {name: checkout, namespace: shop, uid: u-1,
  annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: checkout}
  ports:
  - {name: https, port: 443, targetPort: 8443, nodePort: 31443}
  - {port: 53, protocol: UDP, targetPort: dns}
status:
  loadBalancer:
    ingress: [{hostname: a1.elb.us-west-2.amazonaws.com}]
"#,
        );
        let info = service_info(&svc);
        assert_eq!(info.key(), "shop/checkout");
        assert!(info.is_load_balancer());
        assert!(info.traffic_policy_local());
        assert_eq!(info.ports[0].protocol, "TCP");
        assert_eq!(info.ports[0].target_port.as_deref(), Some("8443"));
        assert_eq!(info.ports[1].target_port.as_deref(), Some("dns"));
        assert_eq!(info.ports[1].protocol, "UDP");
        assert_eq!(
            info.ingress_hostnames,
            vec!["a1.elb.us-west-2.amazonaws.com"]
        );
    }

    #[test]
    fn a_service_without_spec_is_cluster_ip() {
        let svc: Service = from_yaml("metadata: {name: x, namespace: y}");
        assert_eq!(service_info(&svc).type_, "ClusterIP");
    }

    #[test]
    fn pod_readiness_comes_from_the_ready_condition() {
        let pod: Pod = from_yaml(
            r#"
metadata: {name: p, namespace: shop, labels: {app: checkout}}
spec: {nodeName: n1, containers: [{name: c}]}
status:
  podIP: 10.0.1.5
  conditions: [{type: Ready, status: "True"}]
"#,
        );
        let info = pod_info(pod);
        assert!(info.ready);
        assert_eq!(info.node_name.as_deref(), Some("n1"));
        assert_eq!(info.ip.as_deref(), Some("10.0.1.5"));
    }

    #[test]
    fn image_versions_come_from_tags_only() {
        assert_eq!(
            image_version("public.ecr.aws/eks/aws-load-balancer-controller:v2.13.3"),
            Some(Version::new(2, 13, 3))
        );
        assert_eq!(
            image_version("registry.local:5000/aws-load-balancer-controller:v2.4.0"),
            Some(Version::new(2, 4, 0))
        );
        assert_eq!(
            image_version("registry.local:5000/aws-load-balancer-controller"),
            None
        );
        assert_eq!(image_version("x/lbc@sha256:abcd"), None);
        assert_eq!(image_version("x/lbc:latest"), None);
    }

    #[test]
    fn the_lbc_version_falls_back_to_the_label() {
        let dep: Deployment = from_yaml(
            r#"
metadata:
  name: lbc
  namespace: infra
  labels: {app.kubernetes.io/name: aws-load-balancer-controller, app.kubernetes.io/version: v2.8.1}
spec:
  selector: {}
  template:
    spec:
      containers: [{name: c, image: "mirror/aws-load-balancer-controller@sha256:00",
                    args: ["--cluster-name=prod-eu", "--v=2"]}]
"#,
        );
        let Detection::Found(lbc) = lbc_from_deployments(&[dep]) else {
            panic!("expected found");
        };
        assert_eq!(lbc.namespace, "infra");
        assert_eq!(lbc.version, Some(Version::new(2, 8, 1)));
        assert_eq!(lbc.version_source, Some("label"));
        assert_eq!(lbc.cluster_name.as_deref(), Some("prod-eu"));
        assert_eq!(lbc_from_deployments(&[]), Detection::Missing);
    }

    #[test]
    fn connection_errors_name_the_root_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = kube::Error::Service(Box::new(io));
        match classify_error("list services", "http://127.0.0.1:1", err) {
            KubeError::Unreachable { url, reason } => {
                assert_eq!(url, "http://127.0.0.1:1");
                assert_eq!(reason, "Connection refused");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
