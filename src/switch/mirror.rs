//! Endpoints for a Service without a selector. Its endpoints are kept by
//! hand or by another controller, for that Service only; the parallel
//! Service gets a copy, kept in step while the switch runs.
//!
//! What the LBC does with them (pkg/backend/endpoint_resolver.go): it reads
//! the EndpointSlices labelled `kubernetes.io/service-name` (the default
//! from v2.14.0, `--enable-endpoint-slices`), before that the Endpoints
//! object of the Service's name; in IP mode it registers only endpoints
//! whose `targetRef` is a Pod it knows (:147-167). So a copy of plain
//! addresses would register nothing, and is refused before it starts.
//!
//! The copies say who made them (`endpointslice.kubernetes.io/managed-by`,
//! so the EndpointSlice controller leaves them alone), the Endpoints copy
//! is not mirrored again (`endpointslice.kubernetes.io/skip-mirror`), and
//! both are owned by the new Service, so they go with it.

use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::BTreeMap;

pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
pub const SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
pub const OURS: &str = "kubectl-nlb";

/// How many endpoints of a Service the LBC could register (they reference a
/// Pod) and how many it could not (plain addresses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EndpointFacts {
    pub pod_refs: usize,
    pub plain: usize,
}

pub fn facts(slices: &[EndpointSlice], endpoints: Option<&Endpoints>) -> EndpointFacts {
    let mut f = EndpointFacts::default();
    let mut count = |is_pod: bool| {
        if is_pod {
            f.pod_refs += 1
        } else {
            f.plain += 1
        }
    };
    if slices.is_empty() {
        for subset in endpoints.iter().flat_map(|e| e.subsets.iter().flatten()) {
            for a in subset
                .addresses
                .iter()
                .flatten()
                .chain(subset.not_ready_addresses.iter().flatten())
            {
                count(a.target_ref.as_ref().and_then(|r| r.kind.as_deref()) == Some("Pod"));
            }
        }
    } else {
        for e in slices.iter().flat_map(|s| &s.endpoints) {
            count(e.target_ref.as_ref().and_then(|r| r.kind.as_deref()) == Some("Pod"));
        }
    }
    f
}

fn meta(
    name: String,
    namespace: &str,
    new_service: &str,
    owner: &OwnerReference,
    extra: &[(&str, &str)],
) -> ObjectMeta {
    let mut labels = BTreeMap::from([
        (SERVICE_NAME.to_string(), new_service.to_string()),
        (MANAGED_BY.to_string(), OURS.to_string()),
    ]);
    labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.to_string()),
        labels: Some(labels),
        owner_references: Some(vec![owner.clone()]),
        ..Default::default()
    }
}

/// Mirror name of the `i`-th old slice (by name).
pub fn slice_name(new_service: &str, i: usize) -> String {
    format!("{new_service}-mirror-{i}")
}

/// The new Service's EndpointSlices: one per old slice, same endpoints and
/// ports, in the order of the old slices' names.
pub fn slices(
    old: &[EndpointSlice],
    namespace: &str,
    new_service: &str,
    owner: &OwnerReference,
) -> Vec<EndpointSlice> {
    let mut old: Vec<&EndpointSlice> = old.iter().collect();
    old.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    old.iter()
        .enumerate()
        .map(|(i, s)| EndpointSlice {
            metadata: meta(
                slice_name(new_service, i),
                namespace,
                new_service,
                owner,
                &[],
            ),
            address_type: s.address_type.clone(),
            endpoints: s.endpoints.clone(),
            ports: s.ports.clone(),
        })
        .collect()
}

/// The new Service's Endpoints object (read by LBCs before v2.14), when the
/// old Service has one.
pub fn endpoints(
    old: Option<&Endpoints>,
    namespace: &str,
    new_service: &str,
    owner: &OwnerReference,
) -> Option<Endpoints> {
    let old = old?;
    let mut m = meta(
        new_service.to_string(),
        namespace,
        new_service,
        owner,
        &[(SKIP_MIRROR, "true")],
    );
    if let Some(labels) = m.labels.as_mut() {
        labels.remove(SERVICE_NAME);
    }
    Some(Endpoints {
        metadata: m,
        subsets: old.subsets.clone(),
    })
}

/// The owner reference that makes a copy go with the new Service.
pub fn owner(new_service: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: new_service.into(),
        uid: uid.into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(name: &str, targets: &[Option<&str>]) -> EndpointSlice {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "shop", "labels": {SERVICE_NAME: "legacy"}},
            "addressType": "IPv4",
            "endpoints": targets.iter().enumerate().map(|(i, t)| {
                let mut e = serde_json::json!({"addresses": [format!("10.0.1.{}", i + 10)], "conditions": {"ready": true}});
                if let Some(kind) = t {
                    e["targetRef"] = serde_json::json!({"kind": kind, "name": format!("p{i}"), "namespace": "shop"});
                }
                e
            }).collect::<Vec<_>>(),
            "ports": [{"name": "http", "port": 8443, "protocol": "TCP"}],
        }))
        .unwrap()
    }

    #[test]
    fn only_pod_references_count_as_registrable() {
        let f = facts(
            &[
                slice("b", &[Some("Pod"), None]),
                slice("a", &[Some("Node")]),
            ],
            None,
        );
        assert_eq!(
            f,
            EndpointFacts {
                pod_refs: 1,
                plain: 2
            }
        );
        let ep: Endpoints = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "legacy"},
            "subsets": [{"addresses": [{"ip": "10.0.1.5", "targetRef": {"kind": "Pod", "name": "p"}}],
                         "notReadyAddresses": [{"ip": "10.0.1.6"}]}],
        }))
        .unwrap();
        assert_eq!(
            facts(&[], Some(&ep)),
            EndpointFacts {
                pod_refs: 1,
                plain: 1
            }
        );
    }

    #[test]
    fn copies_are_labelled_for_the_new_service_and_owned_by_it() {
        let o = owner("legacy-lbc", "uid-1");
        let out = slices(
            &[
                slice("b", &[Some("Pod")]),
                slice("a", &[Some("Pod"), Some("Pod")]),
            ],
            "shop",
            "legacy-lbc",
            &o,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].metadata.name.as_deref(), Some("legacy-lbc-mirror-0"));
        assert_eq!(out[0].endpoints.len(), 2, "sorted by the old slices' names");
        let labels = out[0].metadata.labels.clone().unwrap();
        assert_eq!(labels[SERVICE_NAME], "legacy-lbc");
        assert_eq!(labels[MANAGED_BY], OURS);
        assert_eq!(
            out[0].metadata.owner_references.as_ref().unwrap()[0].uid,
            "uid-1"
        );
        assert_eq!(out[0].ports, slice("a", &[]).ports);
        assert!(endpoints(None, "shop", "legacy-lbc", &o).is_none());
    }
}
