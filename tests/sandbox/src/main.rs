//! `nlb-sandbox`: run the sandbox by hand or around one `kubectl-nlb` run.
//!
//! ```text
//! nlb-sandbox up [--no-seed] [--lbc-version V | --no-lbc] [--no-vpc-cni] [--scale SERVICES,PODS] [--state-dir DIR]
//! nlb-sandbox run [--no-seed] [--lbc-version V | --no-lbc] [--scale SERVICES,PODS] -- ARGS...
//! nlb-sandbox install-moto
//! ```

use nlb_sandbox::{Sandbox, SandboxOptions};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  nlb-sandbox up [--no-seed] [--lbc-version V | --no-lbc] [--no-vpc-cni] [--scale SERVICES,PODS] [--state-dir DIR]
      start the sandbox, print `export` lines, run the LBC stand-in until Ctrl-C
  nlb-sandbox run [--no-seed] [--lbc-version V | --no-lbc] [--scale SERVICES,PODS] -- ARGS...
      start the sandbox and run `kubectl-nlb ARGS...` against it; exits with its code
  nlb-sandbox install-moto
      create the moto venv if needed and print its python";

struct Args {
    opts: SandboxOptions,
    scale: Option<(usize, usize)>,
    rest: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut opts = SandboxOptions {
        lbc_background: true,
        ..SandboxOptions::default()
    };
    let mut scale = None;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--" => {
                rest.extend(it.by_ref().cloned());
                break;
            }
            "--no-seed" => opts.seed = false,
            "--no-lbc" => opts.lbc_version = None,
            "--no-vpc-cni" => opts.vpc_cni = false,
            "--lbc-version" => opts.lbc_version = Some(value("--lbc-version")?),
            "--state-dir" => opts.state_dir = Some(PathBuf::from(value("--state-dir")?)),
            "--scale" => {
                let v = value("--scale")?;
                let (s, p) = v
                    .split_once(',')
                    .ok_or_else(|| format!("--scale wants SERVICES,PODS, got {v:?}"))?;
                let s = s
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad service count {s:?}"))?;
                let p = p
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad pod count {p:?}"))?;
                scale = Some((s, p));
            }
            other => {
                if let Some(v) = other.strip_prefix("--lbc-version=") {
                    opts.lbc_version = Some(v.to_string());
                } else if let Some(v) = other.strip_prefix("--state-dir=") {
                    opts.state_dir = Some(PathBuf::from(v));
                } else {
                    return Err(format!("unknown argument {other:?}"));
                }
            }
        }
    }
    Ok(Args { opts, scale, rest })
}

async fn start(args: &Args) -> Result<Sandbox, String> {
    let sb = Sandbox::start(args.opts.clone())
        .await
        .map_err(|e| format!("starting the sandbox: {e}"))?;
    if let Some((s, p)) = args.scale {
        let t = std::time::Instant::now();
        sb.seed_scale(s, p)
            .await
            .map_err(|e| format!("seeding {s} Services / {p} pods: {e}"))?;
        eprintln!("seeded {s} Services and {p} pods in {:.1?}", t.elapsed());
    }
    Ok(sb)
}

fn find_kubectl_nlb() -> Result<PathBuf, String> {
    if let Ok(me) = std::env::current_exe()
        && let Some(dir) = me.parent()
    {
        for cand in [dir.join("kubectl-nlb"), dir.join("..").join("kubectl-nlb")] {
            if cand.is_file() {
                return Ok(cand);
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let cand = dir.join("kubectl-nlb");
            if cand.is_file() {
                return Ok(cand);
            }
        }
    }
    Err("kubectl-nlb not found next to nlb-sandbox or on PATH; build it with `cargo build --workspace`".into())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn up(args: Args) -> Result<ExitCode, String> {
    if !args.rest.is_empty() {
        return Err(format!("unexpected arguments {:?}", args.rest));
    }
    let sb = start(&args).await?;
    print!("{}", sb.env_script());
    let env_file = sb.state_dir().join("env.sh");
    eprintln!(
        "sandbox ready (Kubernetes {}, moto {}).\nIn another shell: eval \"$(cat {})\"  (or: source {})\nCtrl-C to stop.",
        sb.kube_url(),
        sb.aws_endpoint(),
        env_file.display(),
        env_file.display()
    );
    wait_for_signal().await;
    eprintln!("stopping the sandbox");
    drop(sb);
    Ok(ExitCode::SUCCESS)
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let bin = find_kubectl_nlb()?;
    let sb = start(&args).await?;
    // never let a developer's real AWS configuration leak in
    let empty = sb.state_dir().join("aws-empty");
    std::fs::write(&empty, "").map_err(|e| format!("writing {}: {e}", empty.display()))?;
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.args(&args.rest);
    for k in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .envs(sb.env());
    let status = cmd
        .status()
        .await
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    drop(sb);
    let code = status.code().unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

async fn install_moto() -> Result<ExitCode, String> {
    let py = nlb_sandbox::moto::ensure_python()
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", py.display());
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    nlb_sandbox::install_crypto_provider();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = argv.first().cloned() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let parsed = match parse(&argv[1..]) {
        Ok(a) => a,
        Err(e) if cmd != "install-moto" => {
            eprintln!("nlb-sandbox: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
        Err(_) => Args {
            opts: SandboxOptions::default(),
            scale: None,
            rest: Vec::new(),
        },
    };
    let result = match cmd.as_str() {
        "up" => up(parsed).await,
        "run" => run(parsed).await,
        "install-moto" => install_moto().await,
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nlb-sandbox: {e}");
            ExitCode::from(1)
        }
    }
}
