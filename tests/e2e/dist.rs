//! Distribution: shell completions, the kubectl completion protocol, the
//! krew manifest and the release archive.

use crate::util::{kubectl_nlb, shared};
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_kubectl-nlb"))
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

/// PATH with the built kubectl-nlb and completions/kubectl_complete-nlb first.
fn plugin_path() -> String {
    format!(
        "{}:{}:{}",
        bin_dir().display(),
        repo().join("completions").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn committed_completion_scripts_are_current() {
    // UPDATE_COMPLETIONS=1 cargo test … rewrites them after a CLI change.
    for (shell, file) in [
        ("bash", "kubectl-nlb.bash"),
        ("zsh", "_kubectl-nlb"),
        ("fish", "kubectl-nlb.fish"),
        ("powershell", "kubectl-nlb.ps1"),
    ] {
        let run = kubectl_nlb(shared(), &["completion", shell]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains("kubectl-nlb"), "{shell}");
        let path = repo().join("completions").join(file);
        if std::env::var_os("UPDATE_COMPLETIONS").is_some() {
            std::fs::write(&path, &run.stdout).expect("write");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == run.stdout,
            "completions/{file} is stale: run UPDATE_COMPLETIONS=1 cargo test --workspace dist::"
        );
    }
}

/// Runs completions/kubectl_complete-nlb as kubectl does: the words after
/// `nlb`, then the word being completed.
fn complete(args: &[&str], kubeconfig: Option<&str>) -> Vec<String> {
    let mut cmd = Command::new(repo().join("completions/kubectl_complete-nlb"));
    cmd.args(args).env("PATH", plugin_path());
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    let out = cmd.output().expect("run kubectl_complete-nlb");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn sandbox_kubeconfig() -> String {
    shared()
        .vars
        .iter()
        .find(|(k, _)| k == "KUBECONFIG")
        .map(|(_, v)| v.clone())
        .expect("KUBECONFIG")
}

#[test]
fn the_kubectl_completion_script_answers_in_kubectl_s_protocol() {
    assert_eq!(complete(&["au"], None), vec!["audit", ":4"]);
    assert_eq!(complete(&["audit", "--sha"], None), vec!["--shallow", ":4"]);
    assert_eq!(
        complete(&["audit", "-o", ""], None),
        vec!["json", "table", "wide", "yaml", ":4"]
    );
    // A path: the shell may offer files.
    assert_eq!(complete(&["--kubeconfig", ""], None), vec![":0"]);
}

#[test]
fn contexts_and_namespaces_complete_from_the_sandbox() {
    let kubeconfig = sandbox_kubeconfig();
    assert_eq!(
        complete(&["audit", "--context", ""], Some(&kubeconfig)),
        vec!["sandbox", ":4"]
    );
    let namespaces = complete(&["audit", "-n", ""], Some(&kubeconfig));
    for ns in ["default", "edge", "kube-system", "shop", "web"] {
        assert!(
            namespaces.contains(&ns.to_string()),
            "{ns} in {namespaces:?}"
        );
    }
    assert_eq!(
        complete(&["audit", "--namespace", "sh"], Some(&kubeconfig)),
        vec!["shop", ":4"]
    );
    assert_eq!(
        complete(&["bind-hostnetwork", "-n", "edge", ""], Some(&kubeconfig)),
        vec!["daemonset/edge-proxy", ":4"]
    );
    assert_eq!(
        complete(&["migrate", "-n", "shop", "c"], Some(&kubeconfig)),
        vec!["checkout", ":4"]
    );
    assert_eq!(
        complete(&["cutover", "status", "-n", "web", "fr"], Some(&kubeconfig)),
        vec!["frontend", ":4"]
    );
    // An unreachable cluster offers nothing rather than an error.
    let dead = std::env::temp_dir().join(format!("kubectl-nlb-dead-{}", std::process::id()));
    std::fs::write(
        &dead,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: d\n  cluster: {server: 'http://127.0.0.1:1'}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: d\n  context: {cluster: d, user: u}\ncurrent-context: d\n",
    )
    .expect("write");
    assert_eq!(complete(&["audit", "-n", ""], dead.to_str()), vec![":4"]);
}

#[test]
fn kubectl_itself_completes_the_plugin_when_installed() {
    let version = Command::new("kubectl")
        .args(["version", "--client", "-o", "json"])
        .output();
    let Ok(version) = version else {
        eprintln!("kubectl not installed: skipped");
        return;
    };
    let info: serde_json::Value =
        serde_json::from_slice(&version.stdout).unwrap_or(serde_json::Value::Null);
    let minor: u32 = info["clientVersion"]["minor"]
        .as_str()
        .and_then(|m| m.trim_end_matches('+').parse().ok())
        .unwrap_or(0);
    if minor < 26 {
        eprintln!("kubectl older than 1.26 has no plugin completion: skipped");
        return;
    }
    let out = Command::new("kubectl")
        .args(["__complete", "nlb", "audit", "--zo"])
        .env("PATH", plugin_path())
        .output()
        .expect("kubectl __complete");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec!["--zone", ":4"],
        "{stdout}"
    );
}

#[test]
fn version_names_the_commit_and_build_date() {
    let run = kubectl_nlb(shared(), &["--version"]);
    assert_eq!(run.code, 0);
    let line = run.stdout.trim();
    assert!(
        line.starts_with(&format!(
            "kubectl-nlb {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{line}"
    );
    assert!(line.contains(", built 20"), "{line}");
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(repo().join("krew/nlb.yaml")).expect("krew/nlb.yaml");
    serde_yaml::from_str(&text).expect("valid YAML")
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// The rules of krew's manifest validation (krew internal/index/validation)
/// and of krew-index's review.
#[test]
fn the_krew_manifest_follows_krew_s_rules() {
    let m = manifest();
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    // The file name equals metadata.name.
    assert_eq!(m["metadata"]["name"], "nlb");
    let spec = &m["spec"];
    let version = spec["version"].as_str().expect("version");
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));
    let semver: Vec<&str> = version.trim_start_matches('v').split('.').collect();
    assert_eq!(semver.len(), 3);
    assert!(semver.iter().all(|p| p.parse::<u32>().is_ok()), "{version}");
    assert!(
        spec["homepage"]
            .as_str()
            .expect("homepage")
            .starts_with("https://")
    );
    let short = spec["shortDescription"].as_str().expect("shortDescription");
    assert!(!short.contains('\n') && short.len() <= 60, "{short}");
    let description = spec["description"].as_str().expect("description");
    assert!(
        !description.contains(" --") && !description.contains("\n-"),
        "no flag lists"
    );
    let caveats = spec["caveats"].as_str().expect("caveats");
    assert!(caveats.contains("AWS") && caveats.contains("Load") && caveats.contains("Controller"));

    let platforms = spec["platforms"].as_sequence().expect("platforms");
    let mut seen = std::collections::BTreeSet::new();
    for p in platforms {
        let labels = p["selector"]["matchLabels"]
            .as_mapping()
            .expect("matchLabels");
        for key in labels.keys() {
            assert!(key == "os" || key == "arch", "selector key {key:?}");
        }
        let os = p["selector"]["matchLabels"]["os"].as_str().expect("os");
        let arch = p["selector"]["matchLabels"]["arch"].as_str().expect("arch");
        assert!(["linux", "darwin", "windows"].contains(&os));
        assert!(["amd64", "arm64"].contains(&arch));
        assert!(seen.insert((os, arch)), "two platforms match {os}/{arch}");
        let uri = p["uri"].as_str().expect("uri");
        assert!(
            uri.starts_with("https://") && uri.ends_with(".tar.gz"),
            "{uri}"
        );
        assert!(uri.contains(&format!("{version}_{os}_{arch}")), "{uri}");
        assert!(is_sha256(p["sha256"].as_str().expect("sha256")));
        assert_eq!(p["bin"], "kubectl-nlb");
        let files: Vec<&str> = p["files"]
            .as_sequence()
            .expect("files")
            .iter()
            .filter_map(|f| f["from"].as_str())
            .collect();
        assert!(
            files.contains(&"LICENSE"),
            "the archive must carry the LICENSE"
        );
    }
    for want in [
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
    ] {
        assert!(seen.contains(&want), "{want:?}");
    }
}

#[test]
fn the_package_script_builds_an_archive_the_manifest_names() {
    let dir = std::env::temp_dir().join(format!("kubectl-nlb-dist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let manifest = dir.join("nlb.yaml");
    std::fs::copy(repo().join("krew/nlb.yaml"), &manifest).expect("copy");
    let out = Command::new("bash")
        .arg(repo().join("krew/package.sh"))
        .args([
            "--binary",
            env!("CARGO_BIN_EXE_kubectl-nlb"),
            "--os",
            "linux",
            "--arch",
            "amd64",
        ])
        .arg("--dist")
        .arg(dir.join("dist"))
        .arg("--manifest")
        .arg(&manifest)
        .output()
        .expect("package.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let archive = dir
        .join("dist")
        .join(format!("kubectl-nlb_{version}_linux_amd64.tar.gz"));
    let sum_out = Command::new("sha256sum")
        .arg(&archive)
        .output()
        .expect("sha256sum");
    let sum = String::from_utf8_lossy(&sum_out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(is_sha256(&sum));

    let m: Value =
        serde_yaml::from_str(&std::fs::read_to_string(&manifest).expect("read")).expect("yaml");
    let platforms = m["spec"]["platforms"].as_sequence().expect("platforms");
    let linux = platforms
        .iter()
        .find(|p| {
            p["selector"]["matchLabels"]["os"] == "linux"
                && p["selector"]["matchLabels"]["arch"] == "amd64"
        })
        .expect("linux/amd64");
    assert_eq!(linux["sha256"].as_str(), Some(sum.as_str()));
    assert!(
        linux["uri"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("kubectl-nlb_{version}_linux_amd64.tar.gz"))
    );
    // The other platforms are untouched.
    let darwin = platforms
        .iter()
        .find(|p| {
            p["selector"]["matchLabels"]["os"] == "darwin"
                && p["selector"]["matchLabels"]["arch"] == "arm64"
        })
        .expect("darwin/arm64");
    assert_eq!(darwin["sha256"].as_str(), Some("0".repeat(64).as_str()));

    let listing = Command::new("tar")
        .arg("-tvzf")
        .arg(&archive)
        .output()
        .expect("tar");
    let listing = String::from_utf8_lossy(&listing.stdout);
    let exe = listing
        .lines()
        .find(|l| l.ends_with(" kubectl-nlb"))
        .unwrap_or_else(|| panic!("kubectl-nlb in {listing}"));
    assert!(exe.starts_with("-rwxr-xr-x"), "{exe}");
    assert!(
        listing.lines().any(|l| l.ends_with(" LICENSE")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.ends_with(" kubectl_complete-nlb")),
        "{listing}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
