//! Object names checked as the API server checks them, before any request.
//!
//! A name with a space or a capital would otherwise reach the API as a URL
//! path and come back as "invalid uri character"; here it is refused with the
//! rule it breaks, in kube-apiserver's own words
//! (k8s.io/apimachinery/pkg/util/validation/validation.go).

use crate::cli::{Cli, Command, SwitchAction};

const LABEL_MAX: usize = 63;
const SUBDOMAIN_MAX: usize = 253;

const DNS1035_RULE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name')";
const DNS1123_LABEL_RULE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
const DNS1123_SUBDOMAIN_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')";

fn alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, without the length limit.
fn is_label(s: &str) -> bool {
    s.starts_with(alnum) && s.ends_with(alnum) && s.chars().all(|c| alnum(c) || c == '-')
}

fn refuse(name: &str, what: &str, rule: &str) -> Result<(), String> {
    Err(format!("\"{name}\" is not a valid {what}: {rule}"))
}

fn too_long(name: &str, what: &str, max: usize) -> Result<(), String> {
    Err(format!(
        "\"{name}\" is not a valid {what}: must be no more than {max} characters"
    ))
}

/// Service names are DNS-1035 labels (they become DNS names in the cluster).
pub fn service(name: &str) -> Result<(), String> {
    let what = "Service name";
    if !is_label(name) || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return refuse(name, what, DNS1035_RULE);
    }
    if name.len() > LABEL_MAX {
        return too_long(name, what, LABEL_MAX);
    }
    Ok(())
}

/// Namespaces are DNS-1123 labels.
pub fn namespace(name: &str) -> Result<(), String> {
    let what = "namespace";
    if !is_label(name) {
        return refuse(name, what, DNS1123_LABEL_RULE);
    }
    if name.len() > LABEL_MAX {
        return too_long(name, what, LABEL_MAX);
    }
    Ok(())
}

/// Deployments, DaemonSets and StatefulSets are named by DNS-1123 subdomains.
pub fn workload(kind: &str, name: &str) -> Result<(), String> {
    let what = format!("{kind} name");
    if !name.split('.').all(is_label) {
        return refuse(name, &what, DNS1123_SUBDOMAIN_RULE);
    }
    if name.len() > SUBDOMAIN_MAX {
        return too_long(name, &what, SUBDOMAIN_MAX);
    }
    Ok(())
}

/// Every name the command line gives, checked before any client is built:
/// `-n`, the Service of audit/cutover/migrate and their verbs, `--new-name`.
/// The workload of bind-hostnetwork is checked where `KIND/NAME` is split.
pub fn check_cli(cli: &Cli) -> Result<(), String> {
    if let Some(ns) = &cli.global.namespace {
        namespace(ns)?;
    }
    let (action, service_arg, new_name) = match &cli.command {
        Command::Cutover(a) => (&a.action, &a.start.service, &a.start.new_name),
        Command::Migrate(a) => (&a.action, &a.start.service, &a.start.new_name),
        Command::Audit(_) | Command::BindHostnetwork(_) | Command::Completion { .. } => {
            return Ok(());
        }
    };
    match action {
        Some(SwitchAction::Status(a)) => service(&a.service),
        Some(SwitchAction::Resume(a)) => service(&a.service),
        Some(SwitchAction::Abort(a)) => service(&a.service),
        None => {
            if let Some(s) = service_arg {
                service(s)?;
            }
            match new_name {
                Some(n) => service(n).map_err(|e| format!("--new-name: {e}")),
                None => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // qa D-M6: names with spaces reached the API as "invalid uri character".
    #[test]
    fn service_names_must_be_dns_1035_labels_and_say_the_rule() {
        for good in ["a", "frontend-2", "x1", &"a".repeat(63)] {
            assert_eq!(service(good), Ok(()), "{good}");
        }
        for bad in ["", "Frontend", "1abc", "abc-", "-abc", "a_b", "a.b"] {
            let err = service(bad).expect_err(bad);
            assert!(err.contains("a DNS-1035 label must consist"), "{err}");
            assert!(err.contains("not a valid Service name"), "{err}");
        }
        assert_eq!(
            service("front end"),
            Err("\"front end\" is not a valid Service name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name')".into())
        );
        assert!(
            service(&"a".repeat(64))
                .expect_err("64")
                .ends_with("must be no more than 63 characters")
        );
    }

    // qa D-M6
    #[test]
    fn namespaces_are_dns_1123_labels_so_a_leading_digit_is_fine() {
        for good in ["web", "1abc", "kube-system", &"n".repeat(63)] {
            assert_eq!(namespace(good), Ok(()), "{good}");
        }
        for bad in ["", "Web", "my ns", "a.b", "-a", "a-", &"n".repeat(64)] {
            let err = namespace(bad).expect_err(bad);
            assert!(err.contains("is not a valid namespace"), "{err}");
        }
        assert!(
            namespace("my ns")
                .expect_err("space")
                .contains("RFC 1123 label")
        );
    }

    // qa D-M6
    #[test]
    fn workload_names_are_dns_1123_subdomains_so_dots_are_fine() {
        for good in ["edge-proxy", "a.b.c", "1x", &"a".repeat(63)] {
            assert_eq!(workload("daemonset", good), Ok(()), "{good}");
        }
        for bad in ["", "Edge Proxy", "a..b", ".a", "a.", "a_b", "A"] {
            let err = workload("daemonset", bad).expect_err(bad);
            assert!(
                err.contains("is not a valid daemonset name: a lowercase RFC 1123 subdomain"),
                "{err}"
            );
        }
        let long = vec!["a".repeat(63); 4].join(".");
        assert!(long.len() > 253);
        assert!(workload("deployment", &long).is_err());
    }
}
