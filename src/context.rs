//! Builds the Kubernetes and AWS clients once, from the resolved flags.
//!
//! Everything here is validated before the first network call that matters:
//! a missing kubeconfig, an unknown context, no region or no credentials fail
//! here with a message that names the fix.

use crate::aws::ec2::Ec2;
use crate::aws::elbv2::Elbv2;
use crate::aws::route53::Route53;
use crate::aws::{AwsError, Endpoint};
use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::k8s::{Kube, KubeError, root_cause};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_ec2::config::Region;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Context {
    pub kube: Kube,
    /// The kubeconfig context in use, if any.
    pub kube_context: Option<String>,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    pub aws: Aws,
}

pub struct Aws {
    pub region: String,
    pub elbv2: Elbv2,
    pub ec2: Ec2,
    pub route53: Route53,
}

impl Context {
    pub async fn build(args: &GlobalArgs) -> Result<Context, Error> {
        let (kube, kube_context, namespace) = kube_client(args).await?;
        let aws = aws_clients(args).await?;
        Ok(Context {
            kube,
            kube_context,
            namespace,
            aws,
        })
    }
}

/// kubectl's `--request-timeout`: `0` (none), a number of seconds, or `30s`, `1m`.
pub fn parse_request_timeout(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    refuse_negative("--request-timeout", text)?;
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Some(Duration::from_secs(secs)));
    }
    humantime::parse_duration(text)
        .map(Some)
        .map_err(|e| format!("invalid --request-timeout \"{text}\": {e} (use e.g. 30s or 1m)"))
}

/// Duration flags accept values that start with '-' (clap would otherwise
/// suggest `-- -5s`, qa D-M8), so a negative one is refused here, and so is a
/// flag taken for a value (`--soak --yes`).
pub fn refuse_negative(flag: &str, text: &str) -> Result<(), String> {
    let Some(rest) = text.strip_prefix('-') else {
        return Ok(());
    };
    if rest.parse::<u64>().is_ok() || humantime::parse_duration(rest).is_ok() {
        Err(format!(
            "{flag} {text}: durations cannot be negative; use e.g. {flag} 30s"
        ))
    } else {
        Err(format!(
            "{flag} {text}: not a duration; give {flag} a value such as 30s, 2m or 1h"
        ))
    }
}

/// One kubeconfig file, read and parsed; an error names the file, and a YAML
/// error gives the parser's line and column without its multi-line snippet
/// (qa D-M10).
fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, KubeError> {
    Kubeconfig::read_from(path).map_err(|e| {
        let why = match &e {
            KubeconfigError::Parse(_) => format!("not a valid kubeconfig: {}", first_line(&e.to_string())),
            _ => root_cause(&e),
        };
        KubeError::Config(format!(
            "cannot read kubeconfig {}: {why}; fix or replace the file, or pass another with --kubeconfig",
            path.display()
        ))
    })
}

/// kube's parse error is "failed to parse kubeconfig YAML: MESSAGE at line L
/// column C" followed by a rendered snippet of the file: keep the first line,
/// less kube's prefix and the parser's "error: " (ours prints its own).
fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let line = line
        .strip_prefix("failed to parse kubeconfig YAML: ")
        .unwrap_or(line);
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// The files of a `KUBECONFIG` value that exist. kubectl merges those and
/// ignores missing ones (qa D-W10), so a stale entry does not break a command.
pub fn existing_paths(value: &std::ffi::OsStr, exists: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    std::env::split_paths(value)
        .filter(|p| !p.as_os_str().is_empty() && exists(p))
        .collect()
}

/// The kubeconfig in use and where it came from (the file or files, for
/// messages), as kubectl finds it: `--kubeconfig`, else the files of
/// `KUBECONFIG` that exist, else `~/.kube/config`. `None` when there is none,
/// so `--server` or in-cluster configuration can take over.
pub fn load_kubeconfig(args: &GlobalArgs) -> Result<Option<(Kubeconfig, String)>, KubeError> {
    if let Some(path) = &args.kubeconfig {
        return read_kubeconfig(path).map(|c| Some((c, path.display().to_string())));
    }
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths = existing_paths(&value, Path::exists);
        if paths.is_empty() {
            // As kubectl: a KUBECONFIG naming no file that exists is an empty
            // configuration; ~/.kube/config is not read instead.
            return Ok(None);
        }
        let mut merged = Kubeconfig::default();
        for path in &paths {
            let next = read_kubeconfig(path)?;
            merged = merged.merge(next).map_err(|e| {
                KubeError::Config(format!(
                    "cannot merge kubeconfig {} with the files before it in KUBECONFIG: {}",
                    path.display(),
                    root_cause(&e)
                ))
            })?;
        }
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Ok(Some((merged, names.join(", "))));
    }
    let default = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube").join("config"));
    match default {
        Some(path) if path.exists() => {
            read_kubeconfig(&path).map(|c| Some((c, path.display().to_string())))
        }
        _ => Ok(None),
    }
}

/// Which context to use: `--context`, else the kubeconfig's current one.
/// Without either, kube says only "failed to determine current context";
/// this names the file, the contexts there are, and both fixes (qa D-M10).
pub fn pick_context(
    config: &Kubeconfig,
    source: &str,
    wanted: Option<&str>,
) -> Result<Option<String>, KubeError> {
    if let Some(w) = wanted {
        return Ok(Some(w.to_string()));
    }
    match config.current_context.as_deref() {
        Some(c) if !c.is_empty() => Ok(Some(c.to_string())),
        _ => {
            let names: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
            Err(KubeError::Config(if names.is_empty() {
                format!(
                    "the kubeconfig {source} has no current context and defines no contexts: pass --kubeconfig with a working file, or the API server with --server"
                )
            } else {
                format!(
                    "the kubeconfig {source} has no current context: pass --context NAME (contexts: {}) or run `kubectl config use-context NAME`",
                    names.join(", ")
                )
            }))
        }
    }
}

/// `--certificate-authority` must name a readable PEM file with at least one
/// certificate: refused here, with the path, rather than as a TLS failure.
fn check_ca_file(path: &std::path::Path) -> Result<(), KubeError> {
    let text = std::fs::read(path).map_err(|e| {
        KubeError::Config(format!(
            "--certificate-authority {}: cannot read it: {e}",
            path.display()
        ))
    })?;
    if !String::from_utf8_lossy(&text).contains("-----BEGIN CERTIFICATE-----") {
        return Err(KubeError::Config(format!(
            "--certificate-authority {}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(())
}

pub async fn kube_client(args: &GlobalArgs) -> Result<(Kube, Option<String>, String), KubeError> {
    let timeout = parse_request_timeout(&args.request_timeout).map_err(KubeError::Config)?;
    let (mut config, context) = match load_kubeconfig(args)? {
        Some((kubeconfig, source)) => {
            let names = |items: Vec<String>| items.join(", ");
            if let Some(wanted) = &args.context
                && !kubeconfig.contexts.iter().any(|c| &c.name == wanted)
            {
                return Err(KubeError::UnknownContext {
                    name: wanted.clone(),
                    available: names(kubeconfig.contexts.iter().map(|c| c.name.clone()).collect()),
                });
            }
            if let Some(wanted) = &args.cluster
                && !kubeconfig.clusters.iter().any(|c| &c.name == wanted)
            {
                return Err(KubeError::Config(format!(
                    "cluster \"{wanted}\" does not exist in the kubeconfig (clusters: {})",
                    names(kubeconfig.clusters.iter().map(|c| c.name.clone()).collect())
                )));
            }
            if let Some(wanted) = &args.user
                && !kubeconfig.auth_infos.iter().any(|u| &u.name == wanted)
            {
                return Err(KubeError::Config(format!(
                    "user \"{wanted}\" does not exist in the kubeconfig (users: {})",
                    names(
                        kubeconfig
                            .auth_infos
                            .iter()
                            .map(|u| u.name.clone())
                            .collect()
                    )
                )));
            }
            let context = pick_context(&kubeconfig, &source, args.context.as_deref())?;
            let options = KubeConfigOptions {
                context: args.context.clone(),
                cluster: args.cluster.clone(),
                user: args.user.clone(),
            };
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| KubeError::Config(format!("kubeconfig: {}", root_cause(&e))))?;
            (config, context)
        }
        // kubectl works with --server alone (and --token) when there is no
        // kubeconfig; so do we.
        None => match (&args.server, kube::Config::incluster()) {
            (Some(server), _) => {
                let url = server
                    .parse()
                    .map_err(|_| KubeError::Config(format!("invalid --server URL \"{server}\"")))?;
                (kube::Config::new(url), None)
            }
            (None, Ok(config)) => (config, None),
            (None, Err(_)) => {
                return Err(KubeError::Config(match std::env::var_os("KUBECONFIG") {
                    Some(v) if !v.is_empty() => format!(
                        "none of the files in KUBECONFIG exists ({}): point KUBECONFIG at your kubeconfig, or pass --kubeconfig (or give the API server with --server)",
                        v.to_string_lossy()
                    ),
                    _ => "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config (or give the API server with --server)".into(),
                }));
            }
        },
    };
    if let Some(server) = &args.server {
        config.cluster_url = server
            .parse()
            .map_err(|_| KubeError::Config(format!("invalid --server URL \"{server}\"")))?;
    }
    if args.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(path) = &args.certificate_authority {
        check_ca_file(path)?;
        // kube verifies against the file (and re-reads it on rotation),
        // instead of the kubeconfig's certificate-authority(-data).
        config.root_cert = None;
        config.root_cert_file = Some(path.clone());
    }
    if let Some(token) = &args.token {
        // As kubectl: the token replaces the user's other credentials (exec
        // plugins, auth providers, basic auth, token files); a client
        // certificate, if any, is still presented.
        let auth = &mut config.auth_info;
        auth.token = Some(secrecy::SecretString::from(token.clone()));
        auth.token_file = None;
        auth.exec = None;
        auth.auth_provider = None;
        auth.username = None;
        auth.password = None;
    }
    if let Some(user) = &args.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !args.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(args.as_group.clone());
    }
    config.connect_timeout = Some(Duration::from_secs(10));
    if let Some(t) = timeout {
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let url = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = kube::Client::try_from(config).map_err(|e| {
        KubeError::Config(format!(
            "cannot build a Kubernetes client: {}",
            root_cause(&e)
        ))
    })?;
    Ok((Kube { client, url }, context, namespace))
}

async fn aws_clients(args: &GlobalArgs) -> Result<Aws, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(6))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .read_timeout(Duration::from_secs(30))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(120))
                .build(),
        );
    if let Some(profile) = &args.profile {
        check_profile_exists(profile)?;
        // --profile wins over credentials in the environment, as in the AWS
        // CLI and boto3: the default chain would try the environment first.
        loader = loader.profile_name(profile).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build(),
        );
    }
    if let Some(region) = &args.region {
        crate::aws::check_region(region)?;
        loader = loader.region(Region::new(region.clone()));
    }
    let sdk = loader.load().await;
    let region = sdk.region().ok_or(AwsError::NoRegion)?.to_string();
    // Before any request, whichever of --region, AWS_REGION or the profile
    // gave it (qa D-M7).
    crate::aws::check_region(&region)?;
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| AwsError::NoCredentials("no credentials provider".into()))?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| AwsError::NoCredentials(root_cause(&e)))?;
    let endpoint = Endpoint(
        sdk.endpoint_url()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the AWS API in {region}")),
    );
    Ok(Aws {
        elbv2: Elbv2 {
            client: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
            endpoint: endpoint.clone(),
        },
        ec2: Ec2 {
            client: aws_sdk_ec2::Client::new(&sdk),
            endpoint: endpoint.clone(),
        },
        route53: Route53::new(aws_sdk_route53::Client::new(&sdk), endpoint),
        region,
    })
}

/// The shared config and credentials files, as the AWS CLI finds them.
fn profile_files() -> [std::path::PathBuf; 2] {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join(default))
    };
    [
        file("AWS_CONFIG_FILE", "config"),
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ]
}

/// Whether a profile is defined: `[profile NAME]` (or `[default]`) in the
/// config file, `[NAME]` in the credentials file.
fn profile_defined(profile: &str, config: &str, credentials: &str) -> bool {
    let sections = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix('[')?.strip_suffix(']'))
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    let in_config = sections(config)
        .iter()
        .any(|s| *s == format!("profile {profile}") || (profile == "default" && s == "default"));
    in_config || sections(credentials).iter().any(|s| s == profile)
}

/// An unknown `--profile` is an error naming it and the files read, as the
/// AWS CLI's "The config profile (NAME) could not be found".
fn check_profile_exists(profile: &str) -> Result<(), AwsError> {
    let [config, credentials] = profile_files();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    if profile_defined(profile, &read(&config), &read(&credentials)) {
        return Ok(());
    }
    Err(AwsError::UnknownProfile {
        profile: profile.to_string(),
        files: format!("{} or {}", config.display(), credentials.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_found_in_either_file() {
        let config = "[default]\nregion = x\n[profile  other ]\n";
        let creds = "[creds-only]\naws_access_key_id = A\n";
        assert!(profile_defined("other", config, creds));
        assert!(profile_defined("default", config, ""));
        assert!(profile_defined("creds-only", "", creds));
        assert!(!profile_defined("nosuch", config, creds));
        assert!(
            !profile_defined("other", "[other]", ""),
            "config sections say profile"
        );
    }

    #[test]
    fn request_timeouts_read_like_kubectl() {
        assert_eq!(parse_request_timeout("0"), Ok(None));
        assert_eq!(
            parse_request_timeout("15"),
            Ok(Some(Duration::from_secs(15)))
        );
        assert_eq!(
            parse_request_timeout("1m"),
            Ok(Some(Duration::from_secs(60)))
        );
        assert!(parse_request_timeout("soon").is_err());
    }

    // qa D-W10: kubectl skips the files of KUBECONFIG that do not exist.
    #[test]
    fn missing_files_in_kubeconfig_are_skipped_as_kubectl_does() {
        let value = std::ffi::OsString::from("/nonexistent/config::/real/a:/real/b");
        let paths = existing_paths(&value, |p| p.starts_with("/real"));
        assert_eq!(
            paths,
            vec![PathBuf::from("/real/a"), PathBuf::from("/real/b")]
        );
        assert!(existing_paths(&value, |_| false).is_empty());
    }

    // qa D-M10: "failed to determine current context" named no fix.
    #[test]
    fn no_current_context_names_the_file_the_contexts_and_the_fix() {
        let config = Kubeconfig::from_yaml(
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n- name: b\n  context: {cluster: c, user: u}\n",
        )
        .expect("yaml");
        let err = pick_context(&config, "/k/config", None).expect_err("no current");
        assert_eq!(
            err.to_string(),
            "the kubeconfig /k/config has no current context: pass --context NAME (contexts: a, b) or run `kubectl config use-context NAME`"
        );
        assert_eq!(
            pick_context(&config, "/k/config", Some("b")).expect("given"),
            Some("b".into())
        );
        let empty = Kubeconfig::default();
        let err = pick_context(&empty, "/dev/null", None).expect_err("empty");
        assert!(err.to_string().contains("defines no contexts"), "{err}");
    }

    // qa D-M10: the parser's snippet was folded into the one line.
    #[test]
    fn garbage_yaml_is_one_line_naming_the_file_and_the_position() {
        let dir = std::env::temp_dir().join(format!("kubectl-nlb-garbage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters: [\n  - {name: x\n: : :\n",
        )
        .expect("write");
        let err = read_kubeconfig(&path).expect_err("garbage").to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("line"), "{err}");
        assert!(!err.contains(" | "), "no snippet: {err}");
    }

    // qa D-M8: `--soak -5s` got clap's "use -- -5" hint.
    #[test]
    fn negative_durations_are_refused_as_negative() {
        let err = parse_request_timeout("-5s").expect_err("negative");
        assert!(err.contains("durations cannot be negative"), "{err}");
        assert!(
            refuse_negative("--soak", "-5")
                .expect_err("-5")
                .contains("cannot be negative")
        );
        let err = refuse_negative("--soak", "--yes").expect_err("a flag");
        assert!(err.contains("not a duration"), "{err}");
        assert_eq!(refuse_negative("--soak", "5s"), Ok(()));
    }
}
