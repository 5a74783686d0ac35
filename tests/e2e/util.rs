//! Test support: run the compiled `kubectl-nlb` against a sandbox, hermetically.

use nlb_sandbox::{Sandbox, SandboxOptions};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// What a test needs to drive the binary: the sandbox's environment.
#[derive(Clone, Debug)]
pub struct Env {
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn of(sandbox: &Sandbox) -> Env {
        Env {
            vars: sandbox.env(),
        }
    }

    /// The same environment with one variable replaced (or removed with `None`).
    pub fn with(&self, key: &str, value: Option<&str>) -> Env {
        let mut env = self.clone();
        env.vars.retain(|(k, _)| k != key);
        if let Some(v) = value {
            env.vars.push((key.to_string(), v.to_string()));
        }
        env
    }
}

/// One seeded sandbox shared by read-only tests. It runs on its own runtime
/// thread, because each `#[tokio::test]` runtime ends with its test.
pub fn shared() -> &'static Env {
    static SHARED: OnceLock<Env> = OnceLock::new();
    SHARED.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let sandbox = Sandbox::start(SandboxOptions::default())
                    .await
                    .expect("sandbox starts");
                tx.send(Env::of(&sandbox)).expect("send env");
                // Keep the sandbox (and its moto process) alive for the whole test binary.
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("shared sandbox")
    })
}

/// Result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The run with stderr cut to its last line: commands that print a
    /// report before refusing still end with exactly one `error:` line.
    pub fn with_stderr_tail(&self) -> Run {
        Run {
            code: self.code,
            stdout: self.stdout.clone(),
            stderr: self.stderr.lines().last().unwrap_or_default().to_string(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// [`kubectl_nlb`] off the async runtime's threads, for `#[tokio::test]`s.
pub async fn run(env: &Env, args: &[&str]) -> Run {
    let env = env.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kubectl_nlb(&env, &args)
    })
    .await
    .expect("join")
}

/// Runs `kubectl-nlb ARGS` with only the given environment: the developer's
/// own kubeconfig and AWS credentials can never leak into a test.
pub fn kubectl_nlb(env: &Env, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command(env, args).output().expect("run kubectl-nlb");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The hermetic command behind [`kubectl_nlb`], for tests that signal it.
pub fn command(env: &Env, args: &[&str]) -> Command {
    let home = std::env::temp_dir().join("kubectl-nlb-e2e-home");
    let _ = std::fs::create_dir_all(&home);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-nlb"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in &env.vars {
        cmd.env(k, v);
    }
    cmd
}

/// Asserts a failed run printed exactly one `error: …` line containing `needle`, and exited 1.
pub fn assert_one_line_error(run: &Run, needle: &str) {
    assert_eq!(run.code, 1, "exit code; stderr:\n{}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got:\n{}", run.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(needle),
        "expected {needle:?} in {:?}",
        lines[0]
    );
    assert!(
        run.stdout.is_empty(),
        "nothing on stdout, got:\n{}",
        run.stdout
    );
}
