//! The command line: kubectl's standard flags, AWS flags, and the subcommands.
//!
//! kubectl rejects flags placed before a plugin's name, so every flag is
//! accepted after `kubectl nlb` and after the subcommand alike (`global`).

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `--version`: the release, the commit it was built from, and when.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KUBECTL_NLB_COMMIT"),
    ", built ",
    env!("KUBECTL_NLB_BUILD_DATE"),
    ")"
);

pub const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  error or invalid input (nothing changed; a switch that fails midway
     says where it stopped and how to resume or abort it)
  2  aborted or rolled back
  3  timed out waiting";

/// `--dry-run` takes its value after '=' as in kubectl, because a bare
/// `--dry-run` means client: `--dry-run client` would plan a Service named
/// `client`, or make clap call `client` a subcommand (qa D-M8). A bare
/// `--dry-run` followed by a mode is refused before clap sees it; a Service
/// really named so is still reachable as `--dry-run=client client`.
pub fn check_dry_run_spacing(argv: &[String]) -> Result<(), String> {
    let words = argv.iter().take_while(|w| *w != "--");
    for (flag, next) in words.clone().zip(argv.iter().skip(1)) {
        if flag == "--dry-run" && matches!(next.as_str(), "client" | "server" | "none") {
            return Err(format!(
                "write --dry-run={next} (with '='): `--dry-run {next}` reads `{next}` as a Service name"
            ));
        }
    }
    Ok(())
}

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-nlb",
    bin_name = "kubectl nlb",
    version = VERSION,
    about = "Audit, migrate and cut over AWS Network Load Balancer Services",
    long_about = "Audit, migrate and cut over AWS Network Load Balancer Services.\n\n\
        kubectl nlb reads your cluster (through your kubeconfig, like kubectl) and \
        your AWS account (through the AWS CLI's credential chain, --region and \
        --profile, and AWS_ENDPOINT_URL).",
    after_help = EXIT_CODES,
    propagate_version = true,
    // kubectl takes the last of a repeated flag (`--weights a --weights b`
    // means b); clap would refuse it (qa D-C7). Lists (--as-group, --port)
    // still collect every value.
    args_override_self = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH", help_heading = "Kubernetes")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME", help_heading = "Kubernetes")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME", help_heading = "Kubernetes")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME", help_heading = "Kubernetes")]
    pub user: Option<String>,
    /// The namespace (default: the context's, then "default")
    #[arg(
        short = 'n',
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Kubernetes"
    )]
    pub namespace: Option<String>,
    /// Username to impersonate
    #[arg(
        long = "as",
        global = true,
        value_name = "USER",
        help_heading = "Kubernetes"
    )]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable)
    #[arg(
        long = "as-group",
        global = true,
        value_name = "GROUP",
        help_heading = "Kubernetes"
    )]
    pub as_group: Vec<String>,
    /// How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        default_value = "0",
        allow_hyphen_values = true,
        help_heading = "Kubernetes"
    )]
    pub request_timeout: String,
    /// The address of the Kubernetes API server
    #[arg(
        short = 's',
        long,
        global = true,
        value_name = "URL",
        help_heading = "Kubernetes"
    )]
    pub server: Option<String>,
    /// Do not verify the API server's certificate (insecure)
    #[arg(long, global = true, help_heading = "Kubernetes")]
    pub insecure_skip_tls_verify: bool,
    /// A PEM file of CA certificates to verify the API server with
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        value_hint = clap::ValueHint::FilePath,
        help_heading = "Kubernetes"
    )]
    pub certificate_authority: Option<PathBuf>,
    /// Bearer token for the API server, instead of the kubeconfig user's credentials
    #[arg(long, global = true, value_name = "TOKEN", help_heading = "Kubernetes")]
    pub token: Option<String>,

    /// AWS region (default: AWS_REGION, then the profile's region)
    #[arg(long, global = true, value_name = "REGION", help_heading = "AWS")]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")
    #[arg(long, global = true, value_name = "NAME", help_heading = "AWS")]
    pub profile: Option<String>,

    /// When to colour output; NO_COLOR turns "auto" off
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorWhen::Auto,
        help_heading = "Output"
    )]
    pub color: ColorWhen,
    /// Log more to stderr (-v, -vv, -vvv)
    #[arg(short = 'v', long = "verbose", global = true, action = ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    #[default]
    Table,
    Yaml,
    Json,
}

/// `audit`'s formats: kubectl's `get` has a narrow table and `-o wide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AuditOutput {
    #[default]
    Table,
    /// Every column: scheme, NLB state, what the pods see as client address
    Wide,
    Yaml,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report every LoadBalancer Service: owner, NLB, target groups, DNS, and findings (read-only)
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(AuditArgs),
    /// Bind a hostNetwork workload to an NLB target group with a TargetGroupBinding
    #[command(name = "bind-hostnetwork", after_help = BIND_EXAMPLES)]
    BindHostnetwork(Box<BindArgs>),
    /// Change preserve_client_ip with zero downtime: a parallel Service, then health-gated Route 53 weights
    #[command(after_help = CUTOVER_EXAMPLES)]
    Cutover(Box<CutoverArgs>),
    /// Move legacy in-tree NLB Services to the AWS Load Balancer Controller in IP mode, without downtime
    #[command(after_help = MIGRATE_EXAMPLES)]
    Migrate(Box<MigrateArgs>),
    /// Print a shell completion script for kubectl-nlb
    #[command(after_help = COMPLETION_EXAMPLES)]
    Completion {
        /// The shell to write the script for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const BIND_EXAMPLES: &str = "\
Examples:
  # Plan a binding of a DaemonSet's http port to an existing target group
  kubectl nlb bind-hostnetwork daemonset/edge-proxy -n edge --port http --target-group-name web --dry-run=client

  # Create the target group (tagged for the controller) behind an existing NLB, and bind it
  kubectl nlb bind-hostnetwork daemonset/edge-proxy -n edge --port 443 --create-target-group --load-balancer edge-nlb --yes

  # Manifests only, for GitOps
  kubectl nlb bind-hostnetwork deployment/ingress -n edge --target-group-arn ARN --target-type ip -o yaml

The Service the binding refers to is reused when one selects the pods and
serves the port, else created (NodePort for instance targets, ClusterIP for
ip targets) without load-balancer annotations. Networking rules allow the
load balancer's security groups, else its subnets' CIDRs, else what
--source-cidr/--source-sg name. Running it twice changes nothing.";

pub const CUTOVER_EXAMPLES: &str = "\
Examples:
  # See every step first: the parallel Service, each Route 53 change, each gate
  kubectl nlb cutover frontend -n web --preserve-client-ip=false --dry-run=client

  # Shift 10%, 50%, then 100% of DNS answers, soaking 2 minutes per step
  kubectl nlb cutover frontend -n web --preserve-client-ip=false --weights 10,50,100 --soak 2m --yes

  # Where a cutover stands; carry on after a crash or Ctrl-C; or undo it
  kubectl nlb cutover status frontend -n web
  kubectl nlb cutover resume frontend -n web --finalize --yes
  kubectl nlb cutover abort frontend -n web --yes

The new Service is a copy of the old one named NAME-cip-on or NAME-cip-off
(--new-name), with the attribute written explicitly. Records that point at
the old NLB (alias A/AAAA or CNAME) become weighted pairs in one atomic
change. Before each step, and every --interval while it soaks, every target
group of the new NLB must have at least --min-healthy-percent of its targets
healthy; if not, all traffic goes back to the old NLB (exit 2). With
--finalize the records collapse to the new NLB, the tool waits for the drain,
and deletes the old Service (its controller then deletes the old NLB).
Progress is journalled in the ConfigMap kubectl-nlb-switch-NAME.";

/// `kubectl nlb cutover`: start a switch, or act on one in progress.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CutoverArgs {
    #[command(subcommand)]
    pub action: Option<SwitchAction>,
    #[command(flatten)]
    pub start: CutoverStart,
}

#[derive(Subcommand, Debug)]
pub enum SwitchAction {
    /// Show where a switch stands: step, weights, last health reading, age
    #[command(after_help = STATUS_EXAMPLES)]
    Status(SwitchRef),
    /// Continue from the journal (after a crash, Ctrl-C, a timeout or a rollback)
    #[command(after_help = RESUME_EXAMPLES)]
    Resume(ResumeArgs),
    /// Restore the original DNS records exactly and delete the parallel Service
    #[command(after_help = ABORT_EXAMPLES)]
    Abort(AbortArgs),
}

// status, resume and abort serve both cutover and migrate: their examples
// show each once.
const STATUS_EXAMPLES: &str = "\
Examples:
  # Where a cutover stands: step, weights, last health reading
  kubectl nlb cutover status frontend -n web

  # The whole journal of a migration, for scripts
  kubectl nlb migrate status checkout -n shop -o json";

const RESUME_EXAMPLES: &str = "\
Examples:
  # Carry on after a crash, Ctrl-C, a timeout or a rollback
  kubectl nlb cutover resume frontend -n web --yes

  # Carry on, then collapse the records and delete the old Service
  kubectl nlb migrate resume checkout -n shop --finalize --yes

  # Allow each remaining step more time
  kubectl nlb cutover resume frontend -n web --timeout 30m --yes";

const ABORT_EXAMPLES: &str = "\
Examples:
  # Put the original records back and delete the parallel Service
  kubectl nlb cutover abort frontend -n web --yes

  # The same for a migration
  kubectl nlb migrate abort checkout -n shop --yes

Every record is restored exactly as it was read before the switch began;
the old Service was never changed. Exit 0 when everything is restored.";

#[derive(Args, Debug, Clone)]
pub struct SwitchRef {
    /// The Service being switched away from
    #[arg(value_name = "SERVICE")]
    pub service: String,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The Service being switched away from
    #[arg(value_name = "SERVICE")]
    pub service: String,
    /// Also collapse the records, wait for the drain and delete the old Service
    #[arg(long)]
    pub finalize: bool,
    /// Wait this long at most for each step (e.g. 10m); default: as journalled
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Carry on from the records as Route 53 holds them, after someone else edited them
    #[arg(long)]
    pub adopt: bool,
    /// Print what it would do (client) and change nothing; there is no server dry run here
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client", default_value_t = DryRun::None)]
    pub dry_run: DryRun,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Args, Debug, Clone)]
pub struct AbortArgs {
    /// The Service being switched away from
    #[arg(value_name = "SERVICE")]
    pub service: String,
    /// Wait this long at most for each step (e.g. 10m); default: as journalled
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Print what it would do (client) and change nothing; there is no server dry run here
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client", default_value_t = DryRun::None)]
    pub dry_run: DryRun,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CutoverStart {
    /// The LBC-managed LoadBalancer Service whose NLB to replace
    #[arg(value_name = "SERVICE", required = true)]
    pub service: Option<String>,
    /// The preserve_client_ip.enabled value for the new NLB's target groups
    #[arg(long, value_name = "BOOL", required = true, action = ArgAction::Set, value_parser = clap::value_parser!(bool))]
    pub preserve_client_ip: Option<bool>,
    /// Name of the parallel Service (default: SERVICE-cip-on or SERVICE-cip-off)
    #[arg(long, value_name = "NAME")]
    pub new_name: Option<String>,
    /// Accept new addresses for a Service with Elastic IPs or fixed private IPv4 or IPv6 addresses
    #[arg(long)]
    pub accept_new_addresses: bool,
    /// How traffic moves: DNS weights to a parallel NLB, or listener weights to twin target groups on the same NLB (same DNS name, addresses and PrivateLink endpoint service; LBC v2.16.0 or later)
    #[arg(long, value_enum, value_name = "HOW", default_value_t = Via::Dns)]
    pub via: Via,
    /// Print the plan (client) or validate the new Service on the server (server); change nothing
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client", default_value_t = DryRun::None)]
    pub dry_run: DryRun,
    /// Print the parallel Service's manifest (--via listener: the bindings and annotations) instead of applying anything
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ManifestOutput>,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub switch: SwitchFlags,
}

/// How traffic moves from the old NLB to the new one (cutover and migrate).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Traffic switch")]
pub struct SwitchFlags {
    /// Percent of DNS answers for the new NLB after each step, ending at 100
    // A leading '-' reaches the weights check ("-5 is out of range") instead
    // of clap's "use -- -5" hint (qa D-M8).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "10,50,100",
        allow_hyphen_values = true
    )]
    pub weights: String,
    /// Only move this record (default: every record in your zones that points at the NLB)
    #[arg(long, value_name = "NAME")]
    pub record: Option<String>,
    /// The hosted zone, by id or name (default: search every zone you can list)
    #[arg(long, value_name = "ID|NAME")]
    pub zone: Option<String>,
    /// How long to watch target health after each step (default: the records' TTL, 60s for aliases)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub soak: Option<String>,
    /// How often to read target health while soaking
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10s",
        allow_hyphen_values = true
    )]
    pub interval: String,
    /// The most to wait for any one step (NLB provisioning, targets, DNS sync)
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "15m",
        allow_hyphen_values = true
    )]
    pub timeout: String,
    /// Share of each new target group's counted targets that must be healthy (draining ones are not counted)
    #[arg(long, value_name = "PERCENT", default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub min_healthy_percent: u8,
    /// How long a newly registered (initial) target is not counted (default: its health check interval × (healthy threshold + 2))
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub initial_grace: Option<String>,
    /// After the switch, collapse the records, wait for the drain, delete the old Service
    #[arg(long)]
    pub finalize: bool,
    /// How long to let clients leave the old NLB before deleting it (default: TTL + deregistration delay)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub drain: Option<String>,
}

pub const MIGRATE_EXAMPLES: &str = "\
Examples:
  # Offline, for GitOps: translate manifests, report on stderr
  kubectl nlb migrate -f service.yaml -o yaml

  # Plan every in-tree NLB Service in the cluster (reads live NLBs and target groups)
  kubectl nlb migrate -A --dry-run=client

  # Migrate one Service: new LBC Service, health-gated DNS switch, old one deleted after the drain
  kubectl nlb migrate checkout -n shop --weights 10,50,100 --finalize --yes

  # Where it stands; carry on; or undo
  kubectl nlb migrate status checkout -n shop
  kubectl nlb migrate resume checkout -n shop --finalize --yes
  kubectl nlb migrate abort checkout -n shop --yes

The new Service (NAME-lbc, --new-name) selects the same pods through the AWS
Load Balancer Controller in IP mode. Every legacy annotation is translated or
reported; the live NLB and target groups win over annotations. Traffic moves
as in `kubectl nlb cutover`: weighted Route 53 records, health gates,
rollback, a journal that resume and abort work from. When no Route 53
record points at the old NLB, the new Service is created and its hostname
printed; moving clients is then yours.";

/// `kubectl nlb migrate`: translate, plan, or migrate; or act on a migration in progress.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub action: Option<SwitchAction>,
    #[command(flatten)]
    pub start: MigrateStart,
}

#[derive(Args, Debug, Clone, Default)]
pub struct MigrateStart {
    /// The in-tree NLB Service to migrate (or use -f, -A, -l)
    #[arg(value_name = "SERVICE", conflicts_with_all = ["filename", "all_namespaces", "selector"])]
    pub service: Option<String>,
    /// Read Service manifests from files ('-' for stdin; YAML, several documents, or JSON); needs no cluster
    #[arg(short = 'f', long = "filename", value_name = "FILE", conflicts_with_all = ["all_namespaces", "selector"])]
    pub filename: Vec<String>,
    /// Plan every in-tree NLB Service in all namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Plan the in-tree NLB Services matching this label selector
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Name of the new Service (default: SERVICE-lbc)
    #[arg(long, value_name = "NAME")]
    pub new_name: Option<String>,
    /// Set preserve_client_ip.enabled instead of keeping the source address the pods saw
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, value_parser = clap::value_parser!(bool))]
    pub preserve_client_ip: Option<bool>,
    /// Accept new addresses for a Service with Elastic IPs or fixed private IPv4 addresses
    #[arg(long)]
    pub accept_new_addresses: bool,
    /// Label the namespace elbv2.k8s.aws/pod-readiness-gate-inject=enabled first
    #[arg(long)]
    pub enable_readiness_gate: bool,
    /// Print the plan (client) or validate the new Service on the server (server); change nothing
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client", default_value_t = DryRun::None)]
    pub dry_run: DryRun,
    /// Print the migrated Service(s): yaml (report on stderr) or json (services and reports)
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ManifestOutput>,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub switch: SwitchFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Via {
    #[default]
    Dns,
    Listener,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestOutput {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SchemeArg {
    #[default]
    Internal,
    InternetFacing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TargetTypeArg {
    #[default]
    Instance,
    Ip,
}

#[derive(Args, Debug, Clone)]
#[command(group(
    clap::ArgGroup::new("target-group")
        .required(true)
        .args(["target_group_arn", "target_group_name", "create_target_group"])
))]
pub struct BindArgs {
    /// The workload: deployment/NAME, daemonset/NAME or statefulset/NAME
    #[arg(value_name = "KIND/NAME")]
    pub workload: String,
    /// Container port (name or number) to bind; repeatable (default: every port)
    #[arg(long = "port", value_name = "NAME|NUMBER")]
    pub ports: Vec<String>,
    /// Bind this existing target group
    #[arg(long, value_name = "ARN")]
    pub target_group_arn: Option<String>,
    /// Bind the existing target group of this name
    #[arg(long, value_name = "NAME")]
    pub target_group_name: Option<String>,
    /// Create a target group per port, tagged so the controller may manage it
    #[arg(long)]
    pub create_target_group: bool,
    /// With --create-target-group: add a listener on this load balancer (ARN or name)
    #[arg(long, value_name = "ARN|NAME", requires = "create_target_group")]
    pub load_balancer: Option<String>,
    /// With --create-target-group: create an NLB for it (hn-<namespace>-<workload>) with a listener per port
    #[arg(
        long,
        requires = "create_target_group",
        conflicts_with = "load_balancer"
    )]
    pub create_load_balancer: bool,
    /// The new NLB's scheme
    #[arg(long, value_enum, default_value_t = SchemeArg::Internal, requires = "create_load_balancer")]
    pub scheme: SchemeArg,
    /// The new NLB's subnets, one per zone (default: the VPC's subnets tagged kubernetes.io/role/elb or internal-elb)
    #[arg(
        long,
        value_name = "ID,…",
        value_delimiter = ',',
        requires = "create_load_balancer"
    )]
    pub subnets: Vec<String>,
    /// instance: nodes on the Service's NodePort; ip: node IPs on the pod port
    #[arg(long, value_enum, default_value_t = TargetTypeArg::Instance)]
    pub target_type: TargetTypeArg,
    /// Allow traffic from this CIDR (repeatable; default: the load balancer's security groups or subnets)
    #[arg(long = "source-cidr", value_name = "CIDR")]
    pub source_cidrs: Vec<String>,
    /// Allow traffic from this security group (repeatable)
    #[arg(long = "source-sg", value_name = "ID")]
    pub source_sgs: Vec<String>,
    /// preserve_client_ip.enabled of the target groups it creates (default: AWS's, on for instance targets and UDP)
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, value_parser = clap::value_parser!(bool))]
    pub preserve_client_ip: Option<bool>,
    /// The cluster name the controller runs with (default: read from its --cluster-name)
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// Print the manifests instead of applying them
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ManifestOutput>,
    /// client: print the plan and manifests; server: submit them with dryRun=All
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRun::None, num_args = 0..=1, default_missing_value = "client", require_equals = true)]
    pub dry_run: DryRun,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// How long to wait for the targets to become healthy
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5m",
        allow_hyphen_values = true
    )]
    pub timeout: String,
}

const COMPLETION_EXAMPLES: &str = "\
Examples:
  # bash: complete kubectl-nlb in this shell, and in every new one
  source <(kubectl nlb completion bash)
  kubectl nlb completion bash > ~/.local/share/bash-completion/completions/kubectl-nlb

  # zsh (a directory on $fpath)
  kubectl nlb completion zsh > \"${fpath[1]}/_kubectl-nlb\"

  # fish
  kubectl nlb completion fish > ~/.config/fish/completions/kubectl-nlb.fish

  # PowerShell
  kubectl nlb completion powershell | Out-String | Invoke-Expression

To complete `kubectl nlb …` (kubectl 1.26 or newer), put the script
completions/kubectl_complete-nlb from the release archive or the repository
on your PATH next to kubectl-nlb.";

const AUDIT_EXAMPLES: &str = "\
Examples:
  # Audit the current namespace
  kubectl nlb audit

  # Audit every namespace, as JSON for scripts
  kubectl nlb audit -A -o json

  # Search only one hosted zone for records that point at the NLBs
  kubectl nlb audit -n shop --zone example.com --region eu-west-1

  # A quick pass over a big account: no per-target-group reads
  kubectl nlb audit -A --shallow

Findings have a severity (critical, warning, info), a stable code and a fix.
The audit changes nothing and exits 0 whatever it finds.";

#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    /// Audit Services in all namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = AuditOutput::Table)]
    pub output: AuditOutput,
    /// Hosted zone (id or name) to search for records; repeatable (default: every zone you can list)
    #[arg(long = "zone", value_name = "ID|NAME")]
    pub zones: Vec<String>,
    /// Skip target-group attributes and target health: two AWS calls per target
    /// group (ELBv2 has no batch form), which dominate on large accounts
    #[arg(long)]
    pub shallow: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kubectl_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "kubectl-nlb",
            "audit",
            "--context",
            "prod",
            "-n",
            "shop",
            "--as",
            "jane",
            "--as-group",
            "a",
            "--as-group",
            "b",
            "--region",
            "eu-west-1",
            "-o",
            "json",
        ])
        .expect("parses");
        assert_eq!(cli.global.context.as_deref(), Some("prod"));
        assert_eq!(cli.global.namespace.as_deref(), Some("shop"));
        assert_eq!(cli.global.as_group, vec!["a", "b"]);
        assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"));
        let Command::Audit(audit) = cli.command else {
            panic!("expected audit");
        };
        assert_eq!(audit.output, AuditOutput::Json);
    }

    #[test]
    fn kubectl_flags_work_before_the_subcommand() {
        let cli = Cli::try_parse_from(["kubectl-nlb", "--context", "prod", "-A", "audit"]);
        // -A belongs to audit; kubectl flags may precede the subcommand.
        assert!(cli.is_err());
        let cli = Cli::try_parse_from(["kubectl-nlb", "--context", "prod", "audit", "-A"])
            .expect("parses");
        assert_eq!(cli.global.context.as_deref(), Some("prod"));
    }

    /// Every `kubectl nlb …` line in the README and in --help examples parses,
    /// so the documentation cannot drift from the flags.
    #[test]
    fn documented_examples_parse() {
        let texts = [
            include_str!("../README.md"),
            AUDIT_EXAMPLES,
            COMPLETION_EXAMPLES,
            BIND_EXAMPLES,
            CUTOVER_EXAMPLES,
            MIGRATE_EXAMPLES,
            STATUS_EXAMPLES,
            RESUME_EXAMPLES,
            ABORT_EXAMPLES,
        ];
        let mut checked = 0;
        for text in texts {
            for line in text.lines() {
                // Commands, not prose: a line that starts with one, runs one in
                // `<(…)`, or runs one on the sandbox. `<TAB>` marks a half-typed
                // word in a completion example.
                let prefix = ["nlb-sandbox run -- ", "kubectl nlb "]
                    .into_iter()
                    .find(|p| line.contains(p));
                let is_command = line.trim_start().starts_with("kubectl nlb ")
                    || line.contains("<(kubectl nlb ")
                    || line.contains("nlb-sandbox run -- ");
                let Some((start, prefix)) = prefix
                    .and_then(|p| line.find(p).map(|i| (i, p)))
                    .filter(|_| is_command && !line.contains("<TAB>"))
                else {
                    continue;
                };
                let rest = &line[start + prefix.len()..];
                let rest = rest
                    .split(['#', '|', '>', '<', ')', '`', '…', '\''])
                    .next()
                    .unwrap_or_default();
                let words: Vec<&str> = rest.split_whitespace().collect();
                if words.is_empty()
                    || words
                        .iter()
                        .any(|w| w.contains("SERVICE") || w.contains("..."))
                {
                    continue;
                }
                let argv = std::iter::once("kubectl-nlb").chain(words.iter().copied());
                if let Err(e) = Cli::try_parse_from(argv)
                    && !matches!(
                        e.kind(),
                        clap::error::ErrorKind::DisplayHelp
                            | clap::error::ErrorKind::DisplayVersion
                    )
                {
                    panic!("documented example `kubectl nlb {rest}` does not parse: {e}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 8, "only {checked} examples found");
    }

    // qa D-C7: kubectl takes the last of a repeated flag; lists still collect.
    #[test]
    fn a_repeated_flag_takes_the_last_value_as_in_kubectl() {
        let cli = Cli::try_parse_from([
            "kubectl-nlb",
            "cutover",
            "frontend",
            "--preserve-client-ip=false",
            "--weights",
            "10,100",
            "--weights",
            "50,100",
            "--yes",
            "--yes",
            "--as-group",
            "a",
            "--as-group",
            "b",
        ])
        .expect("parses");
        let Command::Cutover(c) = cli.command else {
            panic!("expected cutover");
        };
        assert_eq!(c.start.switch.weights, "50,100");
        assert_eq!(cli.global.as_group, vec!["a", "b"]);
    }

    // qa D-C7: status, resume and abort had no examples.
    #[test]
    fn status_resume_and_abort_help_shows_examples() {
        for top in ["cutover", "migrate"] {
            for verb in ["status", "resume", "abort"] {
                let mut cmd = Cli::command();
                let help = cmd
                    .find_subcommand_mut(top)
                    .and_then(|c| c.find_subcommand_mut(verb))
                    .expect("verb")
                    .render_long_help()
                    .to_string();
                assert!(help.contains("Examples:"), "{top} {verb}: {help}");
                assert!(
                    help.contains(&format!("kubectl nlb cutover {verb} ")),
                    "{help}"
                );
                assert!(
                    help.contains(&format!("kubectl nlb migrate {verb} ")),
                    "{help}"
                );
            }
        }
    }

    // qa D-M8: `migrate --dry-run client -n shop` planned a Service named client.
    #[test]
    fn a_dry_run_mode_after_a_space_is_refused_with_the_equals_form() {
        let argv = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_string).collect() };
        let err = check_dry_run_spacing(&argv("kubectl-nlb migrate --dry-run client -n shop"))
            .expect_err("spaced");
        assert_eq!(
            err,
            "write --dry-run=client (with '='): `--dry-run client` reads `client` as a Service name"
        );
        assert!(check_dry_run_spacing(&argv("kubectl-nlb cutover x --dry-run server")).is_err());
        for fine in [
            "kubectl-nlb migrate --dry-run=client -n shop",
            "kubectl-nlb migrate checkout --dry-run -n shop",
            "kubectl-nlb migrate --dry-run=client client",
            "kubectl-nlb migrate -f x -- --dry-run client",
        ] {
            assert_eq!(check_dry_run_spacing(&argv(fine)), Ok(()), "{fine}");
        }
    }

    #[test]
    fn help_names_the_plugin_as_kubectl_sees_it() {
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("kubectl nlb"), "{help}");
        assert!(help.contains("Exit codes"), "{help}");
    }
}
