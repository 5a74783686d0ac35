//! Renders reports to a writer: kubectl-style tables, YAML and JSON.

use crate::audit::{AuditReport, Finding, ServiceReport, Severity};
use serde::Serialize;
use std::io::{self, Write};

pub fn json<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    // Keep the kind of an I/O error (a closed pipe is not a failure of a
    // read-only command).
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    })?;
    writeln!(out)
}

pub fn yaml<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let text = serde_yaml::to_string(value).map_err(io::Error::other)?;
    out.write_all(quote_yaml11_booleans(&text).as_bytes())
}

/// serde_yaml writes YAML 1.2, where `on`, `off`, `yes` and `no` are plain
/// strings; kubectl reads YAML 1.1, where they are booleans, and would then
/// refuse a string field such as an annotation value. Quote them. A real
/// boolean is always written `true`/`false`, so nothing else changes.
pub fn quote_yaml11_booleans(text: &str) -> String {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off"];
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let (head, value) = match body.rfind(": ") {
            Some(i) => body.split_at(i + 2),
            None => match body.trim_start().strip_prefix("- ") {
                Some(v) => body.split_at(body.len() - v.len()),
                None => (body, ""),
            },
        };
        if WORDS.contains(&value.to_ascii_lowercase().as_str()) {
            out.push_str(head);
            out.push('\'');
            out.push_str(value);
            out.push('\'');
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Columns separated by three spaces, each as wide as its widest cell, as kubectl prints.
pub fn table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            text.push_str(cell);
            if i < last {
                text.push_str(&" ".repeat(w - cell.chars().count() + 3));
            }
        }
        text
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

fn paint(color: bool, severity: Severity, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::Warning => "33",
        Severity::Info => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_string()
}

/// One Service's row; the narrow form leaves out the wide-only columns.
fn audit_row(s: &ServiceReport, wide: bool) -> Vec<String> {
    let lb = s.load_balancer.as_ref();
    let owner = match s.owner {
        "lbc" if wide => format!("lbc ({})", dash(s.owner_detail.as_deref())),
        "other-class" => dash(s.owner_detail.as_deref()),
        other => other.to_string(),
    };
    let lb_name = match lb {
        Some(lb) => lb.name.clone().unwrap_or_else(|| "(not found)".into()),
        None => "<pending>".into(),
    };
    let dns = if s.dns_records.is_empty() {
        "-".into()
    } else {
        s.dns_records
            .iter()
            .map(|r| match (wide, &r.external_dns) {
                (true, Some(_)) => format!("{} ({}, external-dns)", r.name, r.type_),
                (true, None) => format!("{} ({})", r.name, r.type_),
                (false, _) => r.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(if wide { ", " } else { "," })
    };
    let mut row = vec![
        s.namespace.clone(),
        s.name.clone(),
        owner,
        dash(s.target_type),
    ];
    if wide {
        row.push(dash(s.scheme.as_deref()));
    }
    row.push(lb_name);
    if wide {
        row.push(dash(lb.and_then(|lb| lb.state.as_deref())));
    }
    row.push(health_cell(s));
    if wide {
        row.push(dash(s.client_ip));
    }
    row.push(dns);
    row.push(findings_cell(&s.findings));
    row
}

fn health_cell(svc: &ServiceReport) -> String {
    if svc.target_groups.is_empty() {
        return "-".into();
    }
    let total: usize = svc
        .target_groups
        .iter()
        .flat_map(|tg| tg.targets.iter().flat_map(|t| t.values()))
        .sum();
    let healthy: usize = svc
        .target_groups
        .iter()
        .filter_map(|tg| tg.targets.as_ref()?.get("healthy"))
        .sum();
    if svc.target_groups.iter().any(|tg| tg.targets.is_none()) {
        return "?".into();
    }
    format!("{healthy}/{total}")
}

fn findings_cell(findings: &[Finding]) -> String {
    let mut parts = Vec::new();
    for severity in [Severity::Critical, Severity::Warning, Severity::Info] {
        let n = findings.iter().filter(|f| f.severity == severity).count();
        if n > 0 {
            parts.push(format!("{n} {}", severity.as_str()));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The audit as text: cluster facts, one row per Service, then every finding with its fix.
/// The audit report as text. The narrow table (the default, qa D-C4) keeps
/// what decides what to do next; `wide` adds the scheme, the NLB's state and
/// what the pods see as the client address, and the owner's detail.
pub fn audit_table(
    out: &mut dyn Write,
    report: &AuditReport,
    color: bool,
    wide: bool,
) -> io::Result<()> {
    let c = &report.cluster;
    writeln!(
        out,
        "Cluster: context {}, region {}",
        dash(c.context.as_deref()),
        dash(c.region.as_deref())
    )?;
    let lbc = &c.load_balancer_controller;
    match lbc.status {
        "found" => writeln!(
            out,
            "AWS Load Balancer Controller: {} ({}/{}{})",
            dash(lbc.version.as_deref()),
            dash(lbc.namespace.as_deref()),
            dash(lbc.name.as_deref()),
            lbc.version_source
                .map(|s| format!(", version from the {s}"))
                .unwrap_or_default()
        )?,
        status => writeln!(
            out,
            "AWS Load Balancer Controller: {status}{}",
            lbc.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )?,
    }
    let cni = &c.vpc_cni;
    match cni.status {
        "found" => writeln!(
            out,
            "Amazon VPC CNI: {} (kube-system/aws-node)",
            dash(cni.version.as_deref())
        )?,
        status => writeln!(out, "Amazon VPC CNI: {status}")?,
    }
    let edns = &c.external_dns;
    match edns.status {
        "found" => {
            for i in &edns.installations {
                writeln!(
                    out,
                    "external-dns: {} ({}/{}, owner {}, policy {}, sources {})",
                    dash(i.version.as_deref()),
                    i.namespace,
                    i.name,
                    i.owner_id,
                    i.policy.as_deref().unwrap_or("not set"),
                    if i.sources.is_empty() {
                        "-".to_string()
                    } else {
                        i.sources.join(",")
                    }
                )?;
            }
        }
        "missing" => writeln!(out, "external-dns: not found")?,
        status => writeln!(
            out,
            "external-dns: {status}{}",
            edns.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )?,
    }
    writeln!(
        out,
        "Hosted zones searched: {}",
        if c.hosted_zones.is_empty() {
            "none".to_string()
        } else {
            c.hosted_zones.join(", ")
        }
    )?;
    writeln!(out)?;

    if !report.services.is_empty() {
        let rows: Vec<Vec<String>> = report.services.iter().map(|s| audit_row(s, wide)).collect();
        let header: &[&str] = if wide {
            &[
                "NAMESPACE",
                "NAME",
                "OWNER",
                "TARGETS",
                "SCHEME",
                "LOAD BALANCER",
                "STATE",
                "HEALTHY",
                "CLIENT IP",
                "DNS",
                "FINDINGS",
            ]
        } else {
            &[
                "NAMESPACE",
                "NAME",
                "OWNER",
                "TARGETS",
                "LOAD BALANCER",
                "HEALTHY",
                "DNS",
                "FINDINGS",
            ]
        };
        table(out, header, &rows)?;
    }

    let all: Vec<&Finding> = report
        .findings
        .iter()
        .chain(report.services.iter().flat_map(|s| &s.findings))
        .collect();
    if !all.is_empty() {
        writeln!(out)?;
        let counts: Vec<String> = report
            .summary
            .findings
            .iter()
            .rev()
            .map(|(severity, n)| format!("{n} {severity}"))
            .collect();
        writeln!(out, "Findings ({}):", counts.join(", "))?;
        for f in all {
            writeln!(
                out,
                "{} {} {}",
                paint(color, f.severity, &format!("[{}]", f.severity.as_str())),
                f.object,
                f.code
            )?;
            writeln!(out, "    {}", f.message)?;
            writeln!(out, "    fix: {}", f.fix)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_are_quoted_for_kubectl() {
        let text = "a: on\nb: 'on'\nc: Yes\nd:\n- off\n- n\ne: true\nf: online\ng: x: no\n";
        assert_eq!(
            quote_yaml11_booleans(text),
            "a: 'on'\nb: 'on'\nc: 'Yes'\nd:\n- 'off'\n- 'n'\ne: true\nf: online\ng: x: 'no'\n"
        );
    }

    #[test]
    fn tables_align_columns_like_kubectl() {
        let mut out = Vec::new();
        table(
            &mut out,
            &["NAME", "STATE"],
            &[
                vec!["a".into(), "active".into()],
                vec!["longer".into(), "-".into()],
            ],
        )
        .expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(text, "NAME     STATE\na        active\nlonger   -\n");
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(paint(false, Severity::Critical, "x"), "x");
        assert!(paint(true, Severity::Critical, "x").starts_with("\x1b["));
    }
}
