//! `kubectl nlb completion SHELL` and the hidden `__complete` that
//! `completions/kubectl_complete-nlb` calls on kubectl's behalf.

use crate::cli::{Cli, GlobalArgs};
use crate::complete::{Dynamic, complete, flag_value};
use crate::context;
use clap::CommandFactory;
use k8s_openapi::api::core::v1::Namespace;
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
    clap_complete::generate(shell, &mut Cli::command(), "kubectl-nlb", &mut buf);
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
    let answer = complete(&cmd, words, &mut |d| resolve(d, &args));
    for c in &answer.candidates {
        writeln!(out, "{c}")?;
    }
    writeln!(out, ":{}", answer.directive)
}

fn resolve(dynamic: Dynamic, args: &GlobalArgs) -> Vec<String> {
    if dynamic == Dynamic::Namespaces {
        return namespaces(args);
    }
    let Ok(Some(kubeconfig)) = context::load_kubeconfig(args) else {
        return Vec::new();
    };
    match dynamic {
        Dynamic::Contexts => kubeconfig.contexts.into_iter().map(|c| c.name).collect(),
        Dynamic::Clusters => kubeconfig.clusters.into_iter().map(|c| c.name).collect(),
        Dynamic::Users => kubeconfig.auth_infos.into_iter().map(|u| u.name).collect(),
        Dynamic::Namespaces => Vec::new(),
    }
}

fn namespaces(args: &GlobalArgs) -> Vec<String> {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    runtime.block_on(async {
        let list = async {
            let (kube, _, _) = context::kube_client(args).await.ok()?;
            let api: Api<Namespace> = Api::all(kube.client);
            let list = api.list(&ListParams::default()).await.ok()?;
            Some(
                list.items
                    .into_iter()
                    .filter_map(|ns| ns.metadata.name)
                    .collect::<Vec<_>>(),
            )
        };
        tokio::time::timeout(CLUSTER_WAIT, list)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    })
}
