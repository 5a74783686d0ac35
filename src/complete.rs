//! Shell completion for `kubectl nlb …`, in kubectl's plugin protocol.
//!
//! kubectl (1.26 and newer) runs `kubectl_complete-nlb WORDS… CURRENT` and reads
//! one candidate per line, then `:<directive>` (a Cobra ShellCompDirective).
//! Deciding the candidates is pure: a walk over clap's command tree, with the
//! values that live in the cluster or the kubeconfig asked of a resolver.

use clap::Command;

/// Cobra's ShellCompDirectiveDefault: the shell may also offer file names.
pub const DIRECTIVE_DEFAULT: u8 = 0;
/// Cobra's ShellCompDirectiveNoFileComp.
pub const DIRECTIVE_NO_FILES: u8 = 4;

/// Values that only the kubeconfig or the cluster knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamic {
    Contexts,
    Clusters,
    Users,
    Namespaces,
    /// `deployment/NAME`, `daemonset/NAME`, `statefulset/NAME` in the namespace typed (or the default).
    Workloads,
    /// LoadBalancer Services in the namespace typed (or the default).
    Services,
}

/// What the words typed so far ask the resolver for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub candidates: Vec<String>,
    pub directive: u8,
}

/// The candidates for the last of `words` (the word being completed; empty for a
/// new word), given the words before it. `cmd` must be built (`Command::build`)
/// so that global flags are known to every subcommand.
pub fn complete(
    cmd: &Command,
    words: &[String],
    resolve: &mut dyn FnMut(Dynamic) -> Vec<String>,
) -> Answer {
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", &[][..]),
    };

    // Walk to the subcommand the words are in, skipping flag values.
    let mut command = cmd;
    let mut expecting_value: Option<&clap::Arg> = None;
    for word in before {
        if let Some(arg) = expecting_value.take() {
            let _ = arg;
            continue;
        }
        if word.starts_with('-') {
            if !word.contains('=') {
                expecting_value = find_flag(command, word).filter(|a| takes_value(a));
            }
            continue;
        }
        if let Some(sub) = command
            .get_subcommands()
            .find(|s| s.get_name() == word && !s.is_hide_set())
        {
            command = sub;
        }
    }

    // A flag's value.
    if let Some(arg) = expecting_value {
        return value_candidates(arg, current, resolve);
    }
    if let Some((flag, value)) = current.split_once('=')
        && flag.starts_with("--")
        && let Some(arg) = find_flag(command, flag)
    {
        let mut answer = value_candidates(arg, value, resolve);
        answer.candidates = answer
            .candidates
            .into_iter()
            .map(|c| format!("{flag}={c}"))
            .collect();
        return answer;
    }

    // Flags.
    if current.starts_with('-') {
        let mut flags: Vec<String> = command
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_positional())
            .flat_map(|a| {
                let long = a.get_long().map(|l| format!("--{l}"));
                let short = (current == "-")
                    .then(|| a.get_short().map(|s| format!("-{s}")))
                    .flatten();
                long.into_iter().chain(short)
            })
            .filter(|f| f.starts_with(current))
            .collect();
        flags.sort();
        flags.dedup();
        return Answer {
            candidates: flags,
            directive: DIRECTIVE_NO_FILES,
        };
    }

    // A workload for bind-hostnetwork, until one is given.
    if command.get_name() == "bind-hostnetwork" && !has_positional(command, before) {
        let mut values = resolve(Dynamic::Workloads);
        values.retain(|v| v.starts_with(current));
        values.sort();
        return Answer {
            candidates: values,
            directive: DIRECTIVE_NO_FILES,
        };
    }

    // A Service for cutover and migrate (and their verbs), next to the verbs.
    let takes_service = matches!(
        command.get_name(),
        "cutover" | "migrate" | "status" | "resume" | "abort"
    );
    if takes_service {
        if has_positional(command, before) {
            // After the Service only flags follow, and they start with '-'.
            return Answer {
                candidates: Vec::new(),
                directive: DIRECTIVE_NO_FILES,
            };
        }
        let mut values: Vec<String> = command
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .map(|s| s.get_name().to_string())
            .chain(resolve(Dynamic::Services))
            .filter(|v| v.starts_with(current))
            .collect();
        values.sort();
        values.dedup();
        return Answer {
            candidates: values,
            directive: DIRECTIVE_NO_FILES,
        };
    }

    // Subcommands, and the values of positional arguments that have a fixed set.
    let mut subs: Vec<String> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .chain(
            command
                .get_arguments()
                .filter(|a| a.is_positional())
                .flat_map(|a| a.get_possible_values())
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string()),
        )
        .filter(|n| n.starts_with(current))
        .collect();
    subs.sort();
    Answer {
        candidates: subs,
        directive: DIRECTIVE_NO_FILES,
    }
}

/// Whether a positional word follows the subcommand's name among `words`.
fn has_positional(command: &Command, words: &[String]) -> bool {
    let Some(start) = words.iter().position(|w| w == command.get_name()) else {
        return false;
    };
    let mut skip = false;
    for word in &words[start + 1..] {
        if skip {
            skip = false;
            continue;
        }
        if word.starts_with('-') {
            skip = !word.contains('=') && find_flag(command, word).is_some_and(takes_value);
            continue;
        }
        return true;
    }
    false
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values()
}

/// The flag `word` names in `command` (`--name`, `--name=…`, `-n`).
fn find_flag<'a>(command: &'a Command, word: &str) -> Option<&'a clap::Arg> {
    let word = word.split('=').next().unwrap_or(word);
    if let Some(long) = word.strip_prefix("--") {
        return command.get_arguments().find(|a| a.get_long() == Some(long));
    }
    let mut chars = word.strip_prefix('-')?.chars();
    let short = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    command
        .get_arguments()
        .find(|a| a.get_short() == Some(short))
}

fn value_candidates(
    arg: &clap::Arg,
    prefix: &str,
    resolve: &mut dyn FnMut(Dynamic) -> Vec<String>,
) -> Answer {
    let id = arg.get_id().as_str();
    let dynamic = match id {
        "context" => Some(Dynamic::Contexts),
        "cluster" => Some(Dynamic::Clusters),
        "user" => Some(Dynamic::Users),
        "namespace" => Some(Dynamic::Namespaces),
        _ => None,
    };
    let mut values: Vec<String> = match dynamic {
        Some(d) => resolve(d),
        None => arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect(),
    };
    values.retain(|v| v.starts_with(prefix));
    values.sort();
    values.dedup();
    Answer {
        candidates: values,
        // A path (--kubeconfig) is the one value the shell should complete itself.
        directive: if id == "kubeconfig" {
            DIRECTIVE_DEFAULT
        } else {
            DIRECTIVE_NO_FILES
        },
    }
}

/// The value of `--flag VALUE` or `--flag=VALUE` among the words, if typed.
pub fn flag_value(words: &[String], long: &str, short: Option<char>) -> Option<String> {
    let long_eq = format!("--{long}=");
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        if let Some(v) = word.strip_prefix(&long_eq) {
            return Some(v.to_string());
        }
        let is_flag =
            *word == format!("--{long}") || short.is_some_and(|s| *word == format!("-{s}"));
        if is_flag {
            return iter.next().cloned();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn run(words: &[&str]) -> Answer {
        let mut cmd = Cli::command();
        cmd.build();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        complete(&cmd, &words, &mut |d| match d {
            Dynamic::Contexts => vec!["prod".into(), "sandbox".into()],
            Dynamic::Namespaces => vec!["shop".into(), "web".into()],
            Dynamic::Workloads => vec!["daemonset/edge-proxy".into(), "deployment/ingress".into()],
            Dynamic::Services => vec!["frontend".into(), "static-eip".into()],
            Dynamic::Clusters | Dynamic::Users => vec![],
        })
    }

    #[test]
    fn subcommands_complete_from_nothing_and_from_a_prefix() {
        let all = run(&[""]);
        assert!(all.candidates.contains(&"audit".to_string()), "{all:?}");
        assert!(
            all.candidates.contains(&"completion".to_string()),
            "{all:?}"
        );
        assert!(
            !all.candidates.iter().any(|c| c.starts_with("__")),
            "{all:?}"
        );
        assert_eq!(run(&["au"]).candidates, vec!["audit"]);
        assert_eq!(run(&["au"]).directive, DIRECTIVE_NO_FILES);
    }

    #[test]
    fn flags_of_the_subcommand_and_global_flags() {
        let flags = run(&["audit", "--"]).candidates;
        for f in [
            "--all-namespaces",
            "--zone",
            "--shallow",
            "--context",
            "--namespace",
        ] {
            assert!(flags.contains(&f.to_string()), "{f} in {flags:?}");
        }
        assert_eq!(run(&["audit", "--sha"]).candidates, vec!["--shallow"]);
        assert!(run(&["audit", "-"]).candidates.contains(&"-A".to_string()));
    }

    #[test]
    fn enum_values_complete() {
        assert_eq!(
            run(&["audit", "-o", ""]).candidates,
            vec!["json", "table", "wide", "yaml"]
        );
        assert_eq!(
            run(&["audit", "--output=j"]).candidates,
            vec!["--output=json"]
        );
        assert_eq!(
            run(&["completion", ""]).candidates,
            vec!["bash", "elvish", "fish", "powershell", "zsh"]
        );
    }

    #[test]
    fn dynamic_values_come_from_the_resolver() {
        assert_eq!(run(&["--context", "s"]).candidates, vec!["sandbox"]);
        assert_eq!(run(&["audit", "-n", ""]).candidates, vec!["shop", "web"]);
        assert_eq!(
            run(&["audit", "--context", "prod", "-n", "w"]).candidates,
            vec!["web"]
        );
    }

    #[test]
    fn cutover_and_migrate_complete_verbs_and_services() {
        assert_eq!(
            run(&["cutover", "-n", "web", ""]).candidates,
            ["abort", "frontend", "resume", "static-eip", "status"]
        );
        assert_eq!(run(&["migrate", "status", "fr"]).candidates, ["frontend"]);
        assert_eq!(
            run(&["cutover", "frontend", "--preserve-client-ip"]).candidates,
            ["--preserve-client-ip"]
        );
        assert!(run(&["migrate", "frontend", ""]).candidates.is_empty());
    }

    #[test]
    fn bind_completes_workloads_then_flags() {
        assert_eq!(
            run(&["bind-hostnetwork", "-n", "edge", "da"]).candidates,
            vec!["daemonset/edge-proxy"]
        );
        assert!(
            run(&["bind-hostnetwork", "ds/edge-proxy", ""])
                .candidates
                .is_empty()
        );
        assert_eq!(
            run(&["bind-hostnetwork", "ds/x", "--target-t"]).candidates,
            vec!["--target-type"]
        );
    }

    #[test]
    fn paths_let_the_shell_complete_files() {
        assert_eq!(run(&["--kubeconfig", ""]).directive, DIRECTIVE_DEFAULT);
    }

    #[test]
    fn flag_values_are_found_in_both_spellings() {
        let words: Vec<String> = ["audit", "--context=prod", "-n", "shop"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(flag_value(&words, "context", None).as_deref(), Some("prod"));
        assert_eq!(
            flag_value(&words, "namespace", Some('n')).as_deref(),
            Some("shop")
        );
        assert_eq!(flag_value(&words, "kubeconfig", None), None);
    }
}
