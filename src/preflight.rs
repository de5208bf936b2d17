//! Preflight (DESIGN §6.1, §11.11): everything a plan needs is checked before the first change.
//! Every problem is collected; any problem is exit 2 with nothing changed. Only reads are sent.
//!
//! On GitHub: every repository of the plan is reachable with the token and pushable; every
//! workflow exists, is active, has a `workflow_dispatch` trigger (read at the dispatch ref) and
//! accepts exactly the inputs the plan sends. Preflight also marks the steps whose workflow
//! declares `rollback_id`, which the executor then sends (§11.13).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Kind, Result};
use crate::plan::{Action, Plan, Status};
use crate::port::{Backend, BackendKind};
use crate::workflow;

/// The input the tool fills in itself when a workflow declares it.
pub const ROLLBACK_ID: &str = "rollback_id";

pub fn check(plan: &mut Plan, backend: &dyn Backend) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    match backend.kind() {
        BackendKind::LocalGit => {
            for step in plan.steps.iter().filter(|s| s.status != Status::Skipped) {
                if let Some(argv) = &step.command {
                    match argv.first().filter(|a| !a.trim().is_empty()) {
                        None => problems.push(format!(
                            "{}: `command` renders to an empty program name",
                            step.service
                        )),
                        Some(program) => {
                            if let Err(why) = backend.check_program(program) {
                                problems.push(format!("{}: `command`: {why}", step.service));
                            }
                        }
                    }
                }
            }
        }
        BackendKind::GitHub => github(plan, backend, &mut problems)?,
    }
    match problems.split_first() {
        None => Ok(()),
        Some((first, rest)) => Err(Error::new(
            Kind::Preflight,
            format!("preflight failed: {first}"),
        )
        .with_details(rest.iter().cloned())
        .with_help(
            "nothing was changed; fix the manifest, the workflows or the token and run again",
        )),
    }
}

fn github(plan: &mut Plan, backend: &dyn Backend, problems: &mut Vec<String>) -> Result<()> {
    // Repositories: reachable, and writable where something will be written.
    let mut repos: BTreeMap<String, bool> = BTreeMap::new();
    for step in plan.steps.iter().filter(|s| s.status != Status::Skipped) {
        let moves = step.action == Action::Rollback;
        let e = repos.entry(step.repository.clone()).or_insert(false);
        *e |= moves;
    }
    let mut reachable = BTreeSet::new();
    for (repo, moves_tags) in &repos {
        match backend.repo_info(repo) {
            Ok(info) => {
                if info.can_push == Some(false) {
                    let need = if *moves_tags {
                        "`contents: write` (to move deploy tags) and `actions: write` (to dispatch workflows)"
                    } else {
                        "`actions: write` (to dispatch workflows)"
                    };
                    problems.push(format!(
                        "the token can read {repo} but not write to it (permissions.push is false): it needs {need}"
                    ));
                }
                reachable.insert(repo.clone());
            }
            Err(e) if matches!(e.kind, Kind::NotFound | Kind::Permission) => {
                problems.push(e.message.clone())
            }
            Err(e) => return Err(e),
        }
    }
    // Workflows, read once per (repository, workflow, ref).
    let mut seen: BTreeMap<(String, String, String), Option<workflow::WorkflowSpec>> =
        BTreeMap::new();
    for i in 0..plan.steps.len() {
        let step = &plan.steps[i];
        if step.status == Status::Skipped || !reachable.contains(&step.repository) {
            continue;
        }
        let key = (
            step.repository.clone(),
            step.workflow.clone(),
            step.git_ref.clone(),
        );
        let who = format!(
            "{}: workflow `{}` in {}",
            step.service, step.workflow, step.repository
        );
        if !seen.contains_key(&key) {
            let spec = read_workflow(backend, &key.0, &key.1, &key.2, &who, problems)?;
            seen.insert(key.clone(), spec);
        }
        let Some(spec) = seen.get(&key).cloned().flatten() else {
            continue;
        };
        let Some(dispatch) = &spec.dispatch else {
            continue;
        };
        for p in workflow::check_inputs(dispatch, &step.inputs, &[ROLLBACK_ID]) {
            problems.push(format!("{who}: {p}"));
        }
        let declares =
            workflow::declares(dispatch, ROLLBACK_ID) && !step.inputs.contains_key(ROLLBACK_ID);
        plan.steps[i].internal.sends_rollback_id = declares;
        plan.steps[i].internal.run_name_has_rollback_id =
            declares && workflow::run_name_uses_input(&spec, ROLLBACK_ID);
    }
    Ok(())
}

/// The workflow's spec at the dispatch ref, or `None` after recording why it cannot be used.
fn read_workflow(
    backend: &dyn Backend,
    repo: &str,
    name: &str,
    git_ref: &str,
    who: &str,
    problems: &mut Vec<String>,
) -> Result<Option<workflow::WorkflowSpec>> {
    let Some(info) = backend.workflow(repo, name)? else {
        problems.push(format!(
            "{who} does not exist (looked for .github/workflows/{name})"
        ));
        return Ok(None);
    };
    if info.state != "active" {
        problems.push(format!(
            "{who} is `{}`, not active: enable it in the Actions tab",
            info.state
        ));
        return Ok(None);
    }
    let Some(text) = backend.read_file(repo, &info.path, git_ref)? else {
        problems.push(format!(
            "{who}: the file {} does not exist at the dispatch ref `{git_ref}`",
            info.path
        ));
        return Ok(None);
    };
    let spec = match workflow::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!(
                "{who}: {} at `{git_ref}` cannot be read: {e}",
                info.path
            ));
            return Ok(None);
        }
    };
    if spec.dispatch.is_none() {
        problems.push(format!(
            "{who} has no `workflow_dispatch` trigger at `{git_ref}`, so it cannot be started"
        ));
    }
    Ok(Some(spec))
}
