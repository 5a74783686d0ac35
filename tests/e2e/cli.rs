//! Flags, help, and bad input that never reaches a peer.

use crate::util::{Env, assert_one_line_error, kubectl_nlb, run, shared};
use nlb_sandbox::{Sandbox, SandboxOptions};

const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kube-ca.pem");

#[test]
fn help_reads_as_a_kubectl_plugin_and_documents_exit_codes() {
    let run = kubectl_nlb(shared(), &["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Usage: kubectl nlb"), "{}", run.stdout);
    assert!(
        run.stdout.contains("3  timed out waiting"),
        "{}",
        run.stdout
    );
    let audit = kubectl_nlb(shared(), &["audit", "--help"]);
    assert_eq!(audit.code, 0);
    assert!(
        audit.stdout.contains("kubectl nlb audit -A -o json"),
        "{}",
        audit.stdout
    );
}

#[test]
fn usage_errors_exit_1_not_clap_s_2() {
    let run = kubectl_nlb(shared(), &["audit", "-o", "xml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("invalid value 'xml'"), "{}", run.stderr);
}

#[test]
fn an_unreachable_api_server_is_one_clear_line() {
    let dir = std::env::temp_dir().join(format!("kubectl-nlb-unreachable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let kubeconfig = dir.join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: 'http://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: dead\n  context: {cluster: dead, user: u, namespace: default}\ncurrent-context: dead\n",
    )
    .expect("write kubeconfig");
    let env = shared().with("KUBECONFIG", kubeconfig.to_str());
    let run = kubectl_nlb(&env, &["audit"]);
    assert_one_line_error(
        &run,
        "cannot reach the Kubernetes API server at http://127.0.0.1:1",
    );
}

#[test]
fn an_unknown_context_names_the_ones_that_exist() {
    let run = kubectl_nlb(shared(), &["audit", "--context", "prod"]);
    assert_one_line_error(
        &run,
        "context \"prod\" does not exist in the kubeconfig (contexts: sandbox)",
    );
}

#[test]
fn a_missing_kubeconfig_says_where_it_looked() {
    let env = shared().with("KUBECONFIG", None);
    let run = kubectl_nlb(&env, &["audit"]);
    assert_one_line_error(&run, "no kubeconfig found");
}

#[test]
fn a_missing_namespace_is_reported() {
    let run = kubectl_nlb(shared(), &["audit", "-n", "nope"]);
    assert_one_line_error(&run, "namespace \"nope\" not found");
}

#[test]
fn no_region_is_reported_before_any_call() {
    let env = shared()
        .with("AWS_REGION", None)
        .with("AWS_DEFAULT_REGION", None);
    let run = kubectl_nlb(&env, &["audit"]);
    assert_one_line_error(&run, "no AWS region: pass --region");
}

#[test]
fn no_credentials_are_reported_before_any_call() {
    let env = shared()
        .with("AWS_ACCESS_KEY_ID", None)
        .with("AWS_SECRET_ACCESS_KEY", None);
    let run = kubectl_nlb(&env, &["audit"]);
    assert_one_line_error(&run, "no usable AWS credentials");
}

#[test]
fn an_aws_endpoint_that_is_down_is_named() {
    let env = shared().with("AWS_ENDPOINT_URL", Some("http://127.0.0.1:1"));
    let run = kubectl_nlb(&env, &["audit", "-n", "shop"]);
    assert_one_line_error(&run, "cannot reach AWS at http://127.0.0.1:1");
}

#[test]
fn an_unknown_hosted_zone_is_invalid_input() {
    let run = kubectl_nlb(
        shared(),
        &["audit", "-n", "shop", "--zone", "nope.example."],
    );
    assert_one_line_error(&run, "hosted zone \"nope.example.\" not found");
}

#[test]
fn a_bad_request_timeout_is_invalid_input() {
    let run = kubectl_nlb(shared(), &["audit", "--request-timeout", "soon"]);
    assert_one_line_error(&run, "invalid --request-timeout \"soon\"");
}

/// kubectl's credential flags reach the API server as kubectl sends them:
/// the sandbox records the Authorization and Impersonate-* headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_s_credential_flags_reach_the_api_server() {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let env = Env::of(&sandbox);
    sandbox.reset_kube_requests();
    let r = run(&env, &["audit", "-A"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        sandbox.kube_identities(),
        ["authorization=Bearer sandbox-dummy-token"]
    );
    // --token replaces the kubeconfig user's credentials; --as and
    // --as-group impersonate; a CA file is accepted.
    sandbox.reset_kube_requests();
    let r = run(
        &env,
        &[
            "audit",
            "-A",
            "--token",
            "t0ken",
            "--as",
            "alice",
            "--as-group",
            "ops",
            "--certificate-authority",
            CA,
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        sandbox.kube_identities(),
        ["authorization=Bearer t0ken; impersonate-group=ops; impersonate-user=alice"]
    );
    // With no kubeconfig at all, --server (and --token) is enough.
    sandbox.reset_kube_requests();
    let bare = env.with("KUBECONFIG", None);
    let url = sandbox.kube_url();
    let r = run(
        &bare,
        &["audit", "-A", "--server", &url, "--token", "t0ken"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sandbox.kube_identities(), ["authorization=Bearer t0ken"]);
}

#[test]
fn a_bad_certificate_authority_file_is_named() {
    let run = kubectl_nlb(
        shared(),
        &["audit", "--certificate-authority", "/nonexistent/ca.pem"],
    );
    assert_one_line_error(
        &run,
        "--certificate-authority /nonexistent/ca.pem: cannot read it",
    );
    let run = kubectl_nlb(shared(), &["audit", "--certificate-authority", CA]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let not_pem = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let run = kubectl_nlb(shared(), &["audit", "--certificate-authority", not_pem]);
    assert_one_line_error(&run, "no PEM certificate in it");
}
