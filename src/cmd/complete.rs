//! `kubectl nlb completion SHELL` and the hidden `__complete` that
//! `completions/kubectl_complete-nlb` calls on kubectl's behalf.

use crate::cli::{Cli, GlobalArgs};
use crate::complete::{Dynamic, complete, flag_value};
use crate::context;
use clap::CommandFactory;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::api::{Api, ListParams};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// How long completion may wait for the API server: a shell must not hang.
const CLUSTER_WAIT: Duration = Duration::from_secs(3);

/// The completion script for the `kubectl-nlb` binary.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    // Into a buffer: clap_complete panics when its writer fails (a closed pipe).
    let mut buf = Vec::new();
    let mut cmd = Cli::command().bin_name("kubectl-nlb");
    clap_complete::generate(shell, &mut cmd, "kubectl-nlb", &mut buf);
    if shell == clap_complete::Shell::Bash {
        // clap_complete 4.6's bash script names a subcommand's case from the
        // root name with '-' made "__" while walking the words, but with '-'
        // made "__subcmd__" where it dispatches, so for `kubectl-nlb` nothing
        // after the first word completed (qa D-W9). Make them agree.
        let text = String::from_utf8_lossy(&buf).replace("kubectl__subcmd__nlb", "kubectl__nlb");
        return text.into_bytes();
    }
    buf
}

/// Answers one completion request: candidates one per line, then `:<directive>`.
/// Never fails: a completion that cannot reach the cluster offers nothing.
pub fn answer(words: &[String], out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let args = GlobalArgs {
        kubeconfig: flag_value(words, "kubeconfig", None).map(PathBuf::from),
        context: flag_value(words, "context", None),
        cluster: flag_value(words, "cluster", None),
        user: flag_value(words, "user", None),
        request_timeout: "0".into(),
        ..Default::default()
    };
    let namespace = flag_value(words, "namespace", Some('n'));
    let answer = complete(&cmd, words, &mut |d| {
        resolve(d, &args, namespace.as_deref())
    });
    for c in &answer.candidates {
        writeln!(out, "{c}")?;
    }
    writeln!(out, ":{}", answer.directive)
}

fn resolve(dynamic: Dynamic, args: &GlobalArgs, namespace: Option<&str>) -> Vec<String> {
    if matches!(
        dynamic,
        Dynamic::Namespaces | Dynamic::Workloads | Dynamic::Services
    ) {
        return from_cluster(dynamic, args, namespace);
    }
    let Ok(Some((kubeconfig, _))) = context::load_kubeconfig(args) else {
        return Vec::new();
    };
    match dynamic {
        Dynamic::Contexts => kubeconfig.contexts.into_iter().map(|c| c.name).collect(),
        Dynamic::Clusters => kubeconfig.clusters.into_iter().map(|c| c.name).collect(),
        Dynamic::Users => kubeconfig.auth_infos.into_iter().map(|u| u.name).collect(),
        Dynamic::Namespaces | Dynamic::Workloads | Dynamic::Services => Vec::new(),
    }
}

fn from_cluster(dynamic: Dynamic, args: &GlobalArgs, namespace: Option<&str>) -> Vec<String> {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    runtime.block_on(async {
        let list = async {
            let (kube, _, default_ns) = context::kube_client(args).await.ok()?;
            if dynamic == Dynamic::Namespaces {
                let api: Api<Namespace> = Api::all(kube.client);
                let list = api.list(&ListParams::default()).await.ok()?;
                return Some(
                    list.items
                        .into_iter()
                        .filter_map(|ns| ns.metadata.name)
                        .collect(),
                );
            }
            let ns = namespace.unwrap_or(&default_ns);
            let lp = ListParams::default();
            if dynamic == Dynamic::Services {
                let list = Api::<Service>::namespaced(kube.client, ns)
                    .list(&lp)
                    .await
                    .ok()?;
                return Some(
                    list.items
                        .into_iter()
                        .filter(|s| {
                            s.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
                        })
                        .filter_map(|s| s.metadata.name)
                        .collect(),
                );
            }
            let names = |kind: &str, items: Vec<Option<String>>| -> Vec<String> {
                items
                    .into_iter()
                    .flatten()
                    .map(|n| format!("{kind}/{n}"))
                    .collect()
            };
            let (deployments, daemonsets, statefulsets) = (
                Api::<Deployment>::namespaced(kube.client.clone(), ns),
                Api::<DaemonSet>::namespaced(kube.client.clone(), ns),
                Api::<StatefulSet>::namespaced(kube.client.clone(), ns),
            );
            let (d, s, t) = tokio::join!(
                deployments.list(&lp),
                daemonsets.list(&lp),
                statefulsets.list(&lp),
            );
            let mut out = Vec::new();
            out.extend(names(
                "deployment",
                d.ok()?.items.into_iter().map(|o| o.metadata.name).collect(),
            ));
            out.extend(names(
                "daemonset",
                s.ok()?.items.into_iter().map(|o| o.metadata.name).collect(),
            ));
            out.extend(names(
                "statefulset",
                t.ok()?.items.into_iter().map(|o| o.metadata.name).collect(),
            ));
            Some(out)
        };
        tokio::time::timeout(CLUSTER_WAIT, list)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    })
}
