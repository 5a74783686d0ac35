//! `kubectl-nlb`: parse → resolve → dispatch → one error line → exit code.

mod annotations;
mod audit;
mod aws;
mod bind;
mod classify;
mod cli;
mod cmd;
mod complete;
mod context;
mod error;
mod external_dns;
mod k8s;
mod model;
mod names;
mod observe;
mod switch;
mod translate;
mod ui;

use clap::Parser;
use cli::{Cli, Command};
use error::{EXIT_ERROR, EXIT_OK, Error};
use std::process::ExitCode;

fn main() -> ExitCode {
    // kube links rustls with ring and the AWS SDK with aws-lc-rs; with two
    // providers compiled in, rustls cannot pick one by itself.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Completion requests carry the user's half-typed words: handle them
    // before clap, which would read a typed `-n` as a flag of its own.
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("__complete") {
        let mut out = std::io::stdout().lock();
        let _ = cmd::complete::answer(&argv[2..], &mut out);
        return ExitCode::from(EXIT_OK);
    }
    if let Err(message) = cli::check_dry_run_spacing(&argv) {
        eprintln!("error: {message}");
        return ExitCode::from(EXIT_ERROR);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap would exit 2 on a usage error; 2 means "rolled back" here.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { EXIT_OK });
        }
    };
    if let Command::Completion { shell } = &cli.command {
        let script = cmd::complete::script(*shell);
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &script);
        return ExitCode::from(EXIT_OK);
    }
    init_tracing(cli.global.verbose);
    let ui = ui::Ui::detect(cli.global.color);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = runtime.block_on(run(&cli, &ui));
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) if e.is_broken_pipe() => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Scripts read the first line of stderr: some SDK messages span several.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn run(cli: &Cli, ui: &ui::Ui) -> Result<(), Error> {
    // Names the API server would refuse are refused here, with its rule,
    // before any client is built (qa D-M6).
    names::check_cli(cli).map_err(Error::Invalid)?;
    match &cli.command {
        Command::Audit(args) => cmd::audit::run(&cli.global, args, ui).await,
        Command::BindHostnetwork(args) => cmd::bind::run(&cli.global, args, ui).await,
        Command::Cutover(args) => cmd::cutover::run(&cli.global, args, ui).await,
        Command::Migrate(args) => cmd::migrate::run(&cli.global, args, ui).await,
        // Answered in main, before the runtime starts.
        Command::Completion { .. } => Ok(()),
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "off",
        1 => "kubectl_nlb=debug,warn",
        2 => "kubectl_nlb=trace,kube=debug,aws_smithy_runtime=debug,warn",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("KUBECTL_NLB_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
