//! The fixture corpus: `tests/fixtures/migrate/<case>.yaml` holds a legacy
//! Service, an optional `<case>.live.yaml` the observed facts and options,
//! and `<case>.expected.yaml` the snapshot of the translation (or of the
//! error). `UPDATE_SNAPSHOTS=1` rewrites the snapshots; review every change.

use super::keys::SECTION_1_2_ROWS;
use super::{Entry, Lbc, Live, Options, translate};
use crate::model::{HealthCheck, LbAddress, LoadBalancer, TargetGroup, Version};
use k8s_openapi::api::core::v1::Service;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrate")
}

/// The legacy Services: every `.yaml` that is not a sidecar or a snapshot.
fn cases() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .filter(|n| !n.ends_with(".expected.yaml") && !n.ends_with(".live.yaml"))
        .map(|n| n.trim_end_matches(".yaml").to_string())
        .collect();
    out.sort();
    out
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Sidecar {
    /// `vX.Y.Z`, `missing`, or `installed` (version unreadable); absent: not checked.
    lbc: Option<String>,
    /// The controller's `--load-balancer-class`.
    lbc_class: Option<String>,
    /// The controller's `--feature-gates=NLBSecurityGroup=…`.
    lbc_nlb_security_group: Option<bool>,
    /// For a Service without a selector: [endpoints referencing Pods, plain ones].
    endpoints: Option<(usize, usize)>,
    vpc_cni: Option<bool>,
    namespace_labels: Option<BTreeMap<String, String>>,
    load_balancer: Option<LbFacts>,
    target_groups: Option<Vec<TgFacts>>,
    #[serde(default)]
    options: OptFacts,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LbFacts {
    scheme: Option<String>,
    #[serde(default)]
    addresses: Vec<AddressFacts>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddressFacts {
    ip_address: Option<String>,
    allocation_id: Option<String>,
    private_ipv4_address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TgFacts {
    port: i32,
    protocol: Option<String>,
    #[serde(default)]
    health_check: HcFacts,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HcFacts {
    protocol: Option<String>,
    port: Option<String>,
    path: Option<String>,
    interval_seconds: Option<i32>,
    timeout_seconds: Option<i32>,
    healthy_threshold: Option<i32>,
    unhealthy_threshold: Option<i32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OptFacts {
    new_name: Option<String>,
    namespace: Option<String>,
    preserve_client_ip: Option<bool>,
    #[serde(default)]
    accept_new_addresses: bool,
    provenance: Option<bool>,
}

impl Sidecar {
    fn live(&self) -> Live {
        Live {
            lbc: match self.lbc.as_deref() {
                None => Lbc::default(),
                Some("missing") => Lbc::Missing,
                Some("installed") => Lbc::Installed(None),
                Some(v) => Lbc::Installed(Some(
                    Version::parse(v).unwrap_or_else(|| panic!("bad lbc version {v}")),
                )),
            },
            lbc_flags: super::LbcFlags {
                class: self.lbc_class.clone(),
                nlb_security_group: self.lbc_nlb_security_group,
            },
            endpoints: self
                .endpoints
                .map(|(pod_refs, plain)| crate::switch::mirror::EndpointFacts { pod_refs, plain }),
            vpc_cni: self.vpc_cni,
            namespace_labels: self.namespace_labels.clone(),
            load_balancer: self.load_balancer.as_ref().map(|lb| LoadBalancer {
                arn:
                    "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/legacy/1"
                        .into(),
                scheme: lb.scheme.clone(),
                addresses: lb
                    .addresses
                    .iter()
                    .map(|a| LbAddress {
                        ip_address: a.ip_address.clone(),
                        allocation_id: a.allocation_id.clone(),
                        private_ipv4_address: a.private_ipv4_address.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            target_groups: self.target_groups.as_ref().map(|tgs| {
                tgs.iter()
                    .map(|t| TargetGroup {
                        arn: format!("arn:tg/{}", t.port),
                        port: Some(t.port),
                        protocol: t.protocol.clone(),
                        health_check: HealthCheck {
                            protocol: t.health_check.protocol.clone(),
                            port: t.health_check.port.clone(),
                            path: t.health_check.path.clone(),
                            interval_seconds: t.health_check.interval_seconds,
                            timeout_seconds: t.health_check.timeout_seconds,
                            healthy_threshold: t.health_check.healthy_threshold,
                            unhealthy_threshold: t.health_check.unhealthy_threshold,
                        },
                        attributes: t.attributes.clone(),
                        ..Default::default()
                    })
                    .collect()
            }),
        }
    }

    fn options(&self) -> Options {
        let o = &self.options;
        Options {
            new_name: o.new_name.clone(),
            namespace: o.namespace.clone(),
            preserve_client_ip: o.preserve_client_ip,
            accept_new_addresses: o.accept_new_addresses,
            provenance: o.provenance.unwrap_or(true),
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Snapshot<'a> {
    Translated {
        service: &'a Service,
        report: &'a [Entry],
    },
    Refused {
        error: String,
    },
}

fn render(case: &str) -> String {
    let base = dir().join(case);
    let input = std::fs::read_to_string(base.with_extension("yaml")).unwrap();
    let old: Service = serde_yaml::from_str(&input).unwrap_or_else(|e| panic!("{case}.yaml: {e}"));
    let live_path = dir().join(format!("{case}.live.yaml"));
    let sidecar: Sidecar = match std::fs::read_to_string(&live_path) {
        Ok(text) => serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{case}.live.yaml: {e}")),
        Err(_) => Sidecar::default(),
    };
    let result = translate(&old, &sidecar.live(), &sidecar.options());
    let snap = match &result {
        Ok(t) => Snapshot::Translated {
            service: &t.service,
            report: &t.report,
        },
        Err(e) => Snapshot::Refused {
            error: e.to_string(),
        },
    };
    serde_yaml::to_string(&snap).unwrap()
}

#[test]
fn every_fixture_matches_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1");
    let cases = cases();
    assert!(cases.len() >= 20, "only {} fixtures", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let got = render(case);
        let path = dir().join(format!("{case}.expected.yaml"));
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            let line = got
                .lines()
                .zip(want.lines().chain(std::iter::repeat("<missing>")))
                .position(|(g, w)| g != w)
                .unwrap_or(0);
            failures.push(format!(
                "{case}: differs from line {}:\n  got:  {}\n  want: {}",
                line + 1,
                got.lines().nth(line).unwrap_or("<end>"),
                want.lines().nth(line).unwrap_or("<end>")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "snapshots differ (UPDATE_SNAPSHOTS=1 rewrites them; review the diff):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_snapshot_and_sidecar_has_a_fixture() {
    let cases = cases();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(case) = name
            .strip_suffix(".expected.yaml")
            .or_else(|| name.strip_suffix(".live.yaml"))
        {
            assert!(cases.iter().any(|c| c == case), "{name} has no {case}.yaml");
        }
    }
}

#[test]
fn every_section_1_2_row_appears_in_a_fixture() {
    let text: String = cases()
        .iter()
        .map(|c| std::fs::read_to_string(dir().join(format!("{c}.yaml"))).unwrap())
        .collect();
    let missing: Vec<String> = SECTION_1_2_ROWS
        .iter()
        .filter(|(key, _)| !text.contains(key))
        .map(|(key, row)| format!("{key} ({row})"))
        .collect();
    assert!(missing.is_empty(), "not in any fixture: {missing:#?}");
}

#[test]
fn the_readme_has_a_row_per_fixture() {
    let readme = std::fs::read_to_string(dir().join("README.md")).unwrap();
    for case in cases() {
        assert!(
            readme.contains(&format!("| `{case}` |")),
            "README.md has no row for {case}"
        );
    }
}
