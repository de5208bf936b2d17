//! What people and machines read: the plan or the applied result as text, JSON or Markdown
//! (DESIGN §6.5, §7, §9), and the dependency graph as text, Mermaid or DOT.

use std::fmt::Write as _;

use crate::manifest::Manifest;
use crate::plan::{short, Plan, Status, Step, VersionRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

pub fn render(plan: &Plan, format: Format, applied: bool) -> String {
    match format {
        Format::Text => text(plan, applied),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(plan).unwrap_or_else(|_| "{}".into());
            s.push('\n');
            s
        }
        Format::Markdown => markdown(plan, applied),
    }
}

fn version_text(v: Option<&VersionRef>) -> String {
    match v {
        None => "(none)".to_string(),
        Some(v) => match &v.version {
            Some(ver) => format!("{ver} ({})", short_sha(&v.sha)),
            None => format!("(no version) ({})", short_sha(&v.sha)),
        },
    }
}

fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Planned => "planned",
        Status::Done => "done",
        Status::Skipped => "skipped",
        Status::Failed => "failed",
        Status::NotStarted => "not_started",
    }
}

fn action_text(step: &Step) -> &'static str {
    match step.action {
        crate::plan::Action::Rollback => "rollback",
        crate::plan::Action::Redeploy => "redeploy",
    }
}

fn strategy_text(plan: &Plan) -> String {
    match &plan.strategy {
        crate::plan::StrategyJson::Previous => "previous".into(),
        crate::plan::StrategyJson::Steps { steps } => format!("steps {steps}"),
        crate::plan::StrategyJson::Version { to } => format!("version {to}"),
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<w$}", w = widths[c]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn text(plan: &Plan, applied: bool) -> String {
    let mut out = String::new();
    let failed = plan.steps.iter().any(|s| s.status == Status::Failed);
    let mode = if applied && failed {
        "stopped, a step failed"
    } else if applied {
        "applied"
    } else if plan.dry_run {
        "plan (dry run, nothing changed)"
    } else {
        "plan"
    };
    let _ = writeln!(
        out,
        "rollback {mode}: {} in {} (strategy {}, repository {})",
        plan.service,
        plan.environment,
        strategy_text(plan),
        plan.repository
    );
    out.push('\n');
    let mut rows = vec![vec![
        "WAVE".to_string(),
        "SERVICE".into(),
        "ACTION".into(),
        "FROM".into(),
        "TO".into(),
        "DEPLOY TAG".into(),
        "STATUS".into(),
    ]];
    for s in &plan.steps {
        rows.push(vec![
            s.wave.to_string(),
            s.service.clone(),
            action_text(s).into(),
            version_text(s.from.as_ref()),
            version_text(Some(&s.to)),
            s.deploy_tag.clone(),
            status_text(s.status).into(),
        ]);
    }
    out.push_str(&table(&rows));
    if applied {
        out.push('\n');
        for s in &plan.steps {
            let o = s.outcome.clone().unwrap_or_default();
            let before = o
                .deploy_tag_sha_before
                .as_deref()
                .map_or("(none)".into(), |x| short(x).to_string());
            let after = o
                .deploy_tag_sha_after
                .as_deref()
                .map_or("(none)".into(), |x| short(x).to_string());
            let _ = write!(out, "{}: {} {before} -> {after}", s.service, s.deploy_tag);
            if let Some(url) = &o.run_url {
                let _ = write!(out, ", run {url}");
            }
            if let Some(c) = &o.conclusion {
                let _ = write!(out, " ({c})");
            }
            if let Some(e) = &o.error {
                let _ = write!(out, ", error: {e}");
            }
            out.push('\n');
        }
    }
    for n in &plan.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let undo = plan.undo();
    if !undo.is_empty() {
        let label = if applied {
            "to undo"
        } else {
            "to undo it once applied"
        };
        let _ = writeln!(out, "\n{label}:");
        for u in undo {
            let _ = writeln!(out, "  {u}");
        }
    }
    out
}

/// A step's outcome; a step that never started left its deploy tag where it was.
fn outcome_or_unchanged(s: &Step) -> crate::plan::Outcome {
    s.outcome.clone().unwrap_or_else(|| crate::plan::Outcome {
        deploy_tag_sha_before: s.internal.deploy_tag_commit.clone(),
        deploy_tag_sha_after: s.internal.deploy_tag_commit.clone(),
        ..Default::default()
    })
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn markdown(plan: &Plan, applied: bool) -> String {
    let mut out = String::new();
    let title = if applied {
        "Rollback applied"
    } else {
        "Rollback plan"
    };
    let _ = writeln!(
        out,
        "### {title}: `{}` in `{}`\n\nStrategy: {}{}\n",
        cell(&plan.service),
        cell(&plan.environment),
        cell(&strategy_text(plan)),
        if plan.dry_run {
            " (dry run, nothing changed)"
        } else {
            ""
        }
    );
    out.push_str("| Service | From → To | Action | Wave | Status | Run |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for s in &plan.steps {
        let o = s.outcome.clone().unwrap_or_default();
        let run = match (&o.run_url, &o.conclusion) {
            (Some(u), Some(c)) => format!("[run]({u}) {c}"),
            (Some(u), None) => format!("[run]({u})"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} → {} | {} | {} | {} | {} |",
            cell(&s.service),
            cell(&version_text(s.from.as_ref())),
            cell(&version_text(Some(&s.to))),
            action_text(s),
            s.wave,
            status_text(s.status),
            cell(&run)
        );
    }
    out.push_str("\n```mermaid\ngraph LR\n");
    // Ids by position: names like `a.b`, `a-b` and `end` are not all valid Mermaid ids.
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.service.as_str()).collect();
    for (i, s) in plan.steps.iter().enumerate() {
        let _ = writeln!(out, "  n{i}[\"{} {}\"]", s.service, action_text(s));
    }
    for (i, s) in plan.steps.iter().enumerate() {
        for d in &s.internal.depends_on {
            if let Some(j) = ids.iter().position(|x| x == d) {
                let _ = writeln!(out, "  n{j} --> n{i}");
            }
        }
    }
    out.push_str("```\n");
    if applied {
        out.push('\n');
        for s in &plan.steps {
            let o = outcome_or_unchanged(s);
            let _ = writeln!(
                out,
                "- `{}`: `{}` → `{}`{}",
                cell(&s.deploy_tag),
                o.deploy_tag_sha_before.as_deref().unwrap_or("(none)"),
                o.deploy_tag_sha_after.as_deref().unwrap_or("(none)"),
                o.error
                    .as_deref()
                    .map(|e| format!(" — error: {}", cell(e)))
                    .unwrap_or_default()
            );
        }
    }
    for n in &plan.notes {
        let _ = writeln!(out, "\n> {}", cell(n));
    }
    let undo = plan.undo();
    if !undo.is_empty() {
        let label = if applied {
            "To undo"
        } else {
            "To undo it once applied"
        };
        let _ = writeln!(out, "\n{label}:\n\n```\n{}\n```", undo.join("\n"));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Text,
    Mermaid,
    Dot,
}

pub fn graph(manifest: &Manifest, format: GraphFormat) -> String {
    let mut out = String::new();
    match format {
        GraphFormat::Text => {
            for (name, s) in &manifest.services {
                if s.depends_on.is_empty() {
                    let _ = writeln!(out, "{name}");
                } else {
                    let _ = writeln!(out, "{name}: depends on {}", s.depends_on.join(", "));
                }
            }
        }
        GraphFormat::Mermaid => {
            // Ids by position: names like `a.b`, `a-b` and `end` are not all valid Mermaid ids.
            out.push_str("graph LR\n");
            let names: Vec<&String> = manifest.services.keys().collect();
            for (i, name) in names.iter().enumerate() {
                let _ = writeln!(out, "  n{i}[\"{name}\"]");
            }
            for (i, s) in manifest.services.values().enumerate() {
                for d in &s.depends_on {
                    if let Some(j) = names.iter().position(|n| *n == d) {
                        let _ = writeln!(out, "  n{j} --> n{i}");
                    }
                }
            }
        }
        GraphFormat::Dot => {
            out.push_str("digraph rollback {\n  rankdir=LR;\n");
            for (name, s) in &manifest.services {
                let _ = writeln!(out, "  \"{name}\";");
                for d in &s.depends_on {
                    let _ = writeln!(out, "  \"{d}\" -> \"{name}\";");
                }
            }
            out.push_str("}\n");
        }
    }
    out
}
