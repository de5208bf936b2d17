//! Applies a plan through the port (DESIGN §6.2–6, §11.12–15): wave by wave, per step in plan
//! order, move the deploy tag, then start the redeploy. One change at a time; the first failure
//! stops the plan and every later step is reported as not started. With `--wait`, each wave's
//! runs must finish with `success` before the next wave starts.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};

use crate::error::{Error, Kind, Result};
use crate::plan::{Action, AuditRecord, Outcome, Plan, RunContext, Status};
use crate::port::{Backend, BackendKind, DispatchRequest, RunState, TagWrite};

/// Who asked and why, for the audit record.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub run: RunContext,
    pub actor: String,
    pub reason: String,
}

/// `--wait`: one deadline for the whole apply (§11.14) and the polling pace.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    pub deadline: Instant,
    /// The first pause between polls; it grows by half each time up to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
}

impl Waiting {
    pub fn new(timeout: Duration, first_poll: Duration) -> Waiting {
        Waiting {
            deadline: Instant::now() + timeout,
            first_poll,
            max_poll: Duration::from_secs(30).max(first_poll),
        }
    }
}

/// How to apply.
#[derive(Default)]
pub struct Options<'a> {
    pub wait: Option<Waiting>,
    /// Called after each wave (for the reply comment edited in place).
    pub progress: Option<&'a mut dyn FnMut(&Plan)>,
}

/// Applies `plan` in place, filling each step's status and outcome.
/// Returns an error of kind `Apply` (exit 1) when a step failed after something changed, or the
/// step's own error (exit 2) when it failed before any change.
pub fn apply(
    plan: &mut Plan,
    backend: &dyn Backend,
    ctx: &Context,
    options: &mut Options<'_>,
) -> Result<()> {
    let mut changed = false;
    let mut failure: Option<Error> = None;
    let mut waves: Vec<usize> = plan.steps.iter().map(|s| s.wave).collect();
    waves.dedup();
    for wave in waves {
        let members: Vec<usize> = (0..plan.steps.len())
            .filter(|i| plan.steps[*i].wave == wave)
            .collect();
        let mut dispatched = Vec::new();
        for &i in &members {
            if plan.steps[i].status == Status::Skipped {
                continue;
            }
            // A failure stops the rest of its wave and every later wave from starting.
            if failure.is_some() {
                plan.steps[i].status = Status::NotStarted;
                continue;
            }
            match apply_step(plan, i, backend, ctx, options.wait.as_ref(), &mut changed) {
                Ok(()) => {
                    plan.steps[i].status = Status::Done;
                    dispatched.push(i);
                }
                Err(e) => {
                    fail(plan, i, &e.message);
                    failure = Some(e);
                }
            }
        }
        if let Some(w) = options.wait {
            if failure.is_none() {
                if let Err(e) = wait_for_wave(plan, &dispatched, backend, &w) {
                    failure = Some(e);
                }
            } else {
                // Report the state of what this wave did start, without waiting.
                refresh(plan, &dispatched, backend);
            }
        }
        if let Some(p) = options.progress.as_mut() {
            p(plan);
        }
    }
    // Every step of an applied plan carries its deploy tag's sha before and after (§6.5,
    // §11.16): a step that never started left it where it was.
    for step in &mut plan.steps {
        if step.outcome.is_none() {
            step.outcome = Some(Outcome {
                deploy_tag_sha_before: step.internal.deploy_tag_commit.clone(),
                deploy_tag_sha_after: step.internal.deploy_tag_commit.clone(),
                ..Default::default()
            });
        }
    }
    match failure {
        None => Ok(()),
        Some(e) if !changed => Err(e),
        Some(e) => {
            let failed = plan
                .steps
                .iter()
                .find(|s| s.status == Status::Failed)
                .map(|s| s.service.clone())
                .unwrap_or_default();
            Err(Error::new(
                Kind::Apply,
                format!("rollback stopped at {failed}: {}", e.message),
            )
            .with_details(e.details)
            .with_help(if ctx.run.run_id.is_some() {
                "the report lists each step as done, failed or not started; re-running this job (same run id) completes the same plan"
            } else {
                "the report lists each step as done, failed or not started; without GITHUB_RUN_ID there is no re-run detection, so a plain re-run would go one version further back: fix the cause and redeploy the failed and not-started services by hand (or run both attempts with the same GITHUB_RUN_ID, and the second completes the plan)"
            }))
        }
    }
}

fn fail(plan: &mut Plan, i: usize, message: &str) {
    let step = &mut plan.steps[i];
    step.status = Status::Failed;
    step.outcome.get_or_insert_with(Outcome::default).error = Some(message.to_string());
}

fn apply_step(
    plan: &mut Plan,
    i: usize,
    backend: &dyn Backend,
    ctx: &Context,
    wait: Option<&Waiting>,
    changed: &mut bool,
) -> Result<()> {
    let before = plan.steps[i].internal.deploy_tag_commit.clone();
    plan.steps[i].outcome = Some(Outcome {
        deploy_tag_sha_before: before.clone(),
        deploy_tag_sha_after: before.clone(),
        ..Default::default()
    });
    let step = &plan.steps[i];
    if step.action == Action::Rollback && before.as_deref() != Some(step.to.sha.as_str()) {
        let write = TagWrite {
            repo: step.repository.clone(),
            name: step.deploy_tag.clone(),
            commit: step.to.sha.clone(),
            message: AuditRecord::message(plan, step, &ctx.run, &ctx.actor, &ctx.reason),
            exists: step.internal.deploy_tag_exists,
        };
        let after = backend.write_tag(&write)?;
        *changed = true;
        if let Some(o) = plan.steps[i].outcome.as_mut() {
            o.deploy_tag_sha_after = Some(after);
        }
    }

    // A re-run of the same job: the earlier attempt's run, when it succeeded or still runs,
    // is not dispatched again (§11.12).
    if let Some(run) = earlier_attempt_run(plan, i, backend, ctx) {
        plan.notes.push(format!(
            "{}: not dispatched again; an earlier attempt of this job started run {} ({})",
            plan.steps[i].service,
            run.id,
            run.conclusion.as_deref().unwrap_or(&run.status)
        ));
        record_run(plan, i, &run);
        return Ok(());
    }

    let step = &plan.steps[i];
    let id = rollback_id(&ctx.run, &step.service);
    let mut inputs = step.inputs.clone();
    if step.internal.sends_rollback_id {
        inputs.insert("rollback_id".to_string(), id.clone());
    }
    let request = DispatchRequest {
        repo: step.repository.clone(),
        service: step.service.clone(),
        workflow: step.workflow.clone(),
        git_ref: step.git_ref.clone(),
        inputs,
        command: step.command.clone(),
    };
    let sent_at = chrono::Utc::now().fixed_offset();
    let outcome = backend.dispatch(&request);
    // A dispatch that failed may still have started something: count it as a change.
    *changed = true;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if e.ambiguous && plan.steps[i].internal.run_name_has_rollback_id => {
            // It may have started: look for its run by the id it carried (§11.15).
            match find_run(plan, i, backend, &id, sent_at, None) {
                Ok(Some(run)) => {
                    plan.notes.push(format!(
                        "{}: the dispatch answer was lost, but run {} carries its rollback_id",
                        plan.steps[i].service, run.id
                    ));
                    record_run(plan, i, &run);
                    return Ok(());
                }
                _ => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    if let Some(note) = outcome.note.clone() {
        plan.notes.push(note);
    }
    if let Some(o) = plan.steps[i].outcome.as_mut() {
        o.run_id = outcome.run_id;
        o.run_url = outcome.run_url;
        o.conclusion = outcome.conclusion;
    }
    let unknown_run = plan.steps[i]
        .outcome
        .as_ref()
        .is_some_and(|o| o.run_id.is_none() && o.conclusion.is_none());
    if unknown_run && wait.is_some() && backend.kind() == BackendKind::GitHub {
        match find_run(plan, i, backend, &id, sent_at, wait)? {
            Some(run) => record_run(plan, i, &run),
            None => {
                return Err(Error::new(
                    Kind::Apply,
                    format!(
                        "{}: dispatched {}, but its run did not appear, so it cannot be waited for",
                        plan.steps[i].service, plan.steps[i].workflow
                    ),
                ))
            }
        }
    }
    Ok(())
}

fn record_run(plan: &mut Plan, i: usize, run: &RunState) {
    if let Some(o) = plan.steps[i].outcome.as_mut() {
        o.run_id = Some(run.id);
        o.run_url = run.html_url.clone();
        if run.completed() {
            o.conclusion = Some(run.conclusion.clone().unwrap_or_else(|| "unknown".into()));
        }
    }
}

/// The run an earlier attempt of this very job started for step `i`, when it succeeded or is
/// still going. Needs the run id in the audit record (a re-run) and the workflow's `run-name`
/// to carry `rollback_id` (the only exact way to recognise the run).
fn earlier_attempt_run(
    plan: &Plan,
    i: usize,
    backend: &dyn Backend,
    ctx: &Context,
) -> Option<RunState> {
    let step = &plan.steps[i];
    let rerun = plan.steps.iter().any(|s| s.internal.rerun);
    let (Some(run_id), true, true) = (
        ctx.run.run_id.as_deref(),
        rerun,
        step.internal.run_name_has_rollback_id,
    ) else {
        return None;
    };
    let attempt: u32 = ctx
        .run
        .run_attempt
        .as_deref()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let runs = backend
        .dispatch_runs(&step.repository, &step.workflow, &step.git_ref, None)
        .ok()?;
    (1..attempt).rev().find_map(|k| {
        let id = format!("{run_id}-{k}-{}", step.service);
        runs.iter()
            .find(|r| title_has(&r.display_title, &id))
            .filter(|r| !r.completed() || r.conclusion.as_deref() == Some("success"))
            .cloned()
    })
}

/// `id` stands in the title as a whole word (so `…-1-api` does not match `…-1-api-gateway`).
fn title_has(title: &str, id: &str) -> bool {
    title.match_indices(id).any(|(at, _)| {
        let before = title[..at].chars().next_back();
        let after = title[at + id.len()..].chars().next();
        let edge = |c: Option<char>| {
            c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        };
        edge(before) && edge(after)
    })
}

/// Finds the run a dispatch started when its answer did not say (§11.13): by `rollback_id` in
/// the title when the workflow puts it there, else the first `workflow_dispatch` run of that
/// workflow and ref created after the dispatch that no other step claimed (approximate).
/// Polls until `wait`'s deadline, or looks once without `wait`.
fn find_run(
    plan: &mut Plan,
    i: usize,
    backend: &dyn Backend,
    id: &str,
    sent_at: DateTime<FixedOffset>,
    wait: Option<&Waiting>,
) -> Result<Option<RunState>> {
    let step = plan.steps[i].clone();
    let exact = step.internal.run_name_has_rollback_id;
    let claimed: Vec<u64> = plan
        .steps
        .iter()
        .filter_map(|s| s.outcome.as_ref().and_then(|o| o.run_id))
        .collect();
    // Clocks differ a little between the runner and GitHub.
    let since = sent_at - chrono::Duration::seconds(10);
    let mut pause = wait.map_or(Duration::ZERO, |w| w.first_poll);
    loop {
        let runs =
            backend.dispatch_runs(&step.repository, &step.workflow, &step.git_ref, Some(since))?;
        let found = if exact {
            runs.into_iter().find(|r| title_has(&r.display_title, id))
        } else {
            runs.into_iter()
                .filter(|r| !claimed.contains(&r.id))
                .filter(|r| r.created_at.is_none_or(|c| c >= since))
                .min_by_key(|r| (r.created_at, r.id))
        };
        if let Some(run) = found {
            if !exact {
                plan.notes.push(format!(
                    "{}: run {} was matched by time and branch only (approximate); declare a `rollback_id` input and put it in the workflow's `run-name` for an exact match",
                    step.service, run.id
                ));
            }
            return Ok(Some(run));
        }
        match wait {
            Some(w) if Instant::now() + pause < w.deadline => {
                std::thread::sleep(pause);
                pause = (pause * 3 / 2).min(w.max_poll);
            }
            _ => return Ok(None),
        }
    }
}

/// Waits until every run of the wave has completed; any conclusion but `success` fails the
/// step and stops the cascade.
fn wait_for_wave(
    plan: &mut Plan,
    wave: &[usize],
    backend: &dyn Backend,
    w: &Waiting,
) -> Result<()> {
    let mut pending: Vec<usize> = wave
        .iter()
        .copied()
        .filter(|i| {
            plan.steps[*i]
                .outcome
                .as_ref()
                .is_some_and(|o| o.conclusion.is_none())
        })
        .collect();
    let mut pause = w.first_poll;
    loop {
        let mut still = Vec::new();
        for &i in &pending {
            let step = &plan.steps[i];
            let Some(run_id) = step.outcome.as_ref().and_then(|o| o.run_id) else {
                continue;
            };
            let state = backend.run_state(&step.repository, run_id)?;
            record_run(plan, i, &state);
            if !state.completed() {
                still.push(i);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        let now = Instant::now();
        if now >= w.deadline {
            let going: Vec<String> = pending
                .iter()
                .map(|i| {
                    let s = &plan.steps[*i];
                    let o = s.outcome.clone().unwrap_or_default();
                    format!(
                        "{} (run {}{})",
                        s.service,
                        o.run_id.map_or("?".into(), |r| r.to_string()),
                        o.run_url.map(|u| format!(", {u}")).unwrap_or_default()
                    )
                })
                .collect();
            return Err(Error::new(
                Kind::Apply,
                format!(
                    "timed out waiting for {}; later waves were not started",
                    going.join(", ")
                ),
            )
            .with_help(
                "raise `--timeout` (input `timeout`), or follow the runs and finish by hand",
            ));
        }
        std::thread::sleep(pause.min(w.deadline - now));
        pause = (pause * 3 / 2).min(w.max_poll);
    }
    let mut failed = Vec::new();
    for &i in wave {
        let conclusion = plan.steps[i]
            .outcome
            .as_ref()
            .and_then(|o| o.conclusion.clone());
        if let Some(c) = conclusion.filter(|c| c != "success") {
            let msg = format!("the redeploy run of {} ended `{c}`", plan.steps[i].service);
            fail(plan, i, &msg);
            failed.push(msg);
        }
    }
    match failed.split_first() {
        None => Ok(()),
        Some((first, rest)) => Err(Error::new(
            Kind::Apply,
            format!("{first}; later waves were not started"),
        )
        .with_details(rest.iter().cloned())),
    }
}

/// One look at each run, for the report, after a failure in the wave.
fn refresh(plan: &mut Plan, wave: &[usize], backend: &dyn Backend) {
    for &i in wave {
        let step = &plan.steps[i];
        if let Some(run_id) = step.outcome.as_ref().and_then(|o| o.run_id) {
            if let Ok(state) = backend.run_state(&step.repository, run_id) {
                record_run(plan, i, &state);
            }
        }
    }
}

/// The correlation id sent as the `rollback_id` input (§11.13): unique per run attempt and
/// service, so the run it started can be found again.
pub fn rollback_id(run: &RunContext, service: &str) -> String {
    match &run.run_id {
        Some(id) => format!(
            "{id}-{}-{service}",
            run.run_attempt.as_deref().unwrap_or("1")
        ),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("local-{nanos:x}-{}-{service}", std::process::id())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_id_in_title_is_a_whole_word() {
        assert!(title_has("deploy 1.2.0 (4242-1-api)", "4242-1-api"));
        assert!(title_has("4242-1-api", "4242-1-api"));
        assert!(!title_has("deploy (4242-1-api-gateway)", "4242-1-api"));
        assert!(!title_has("deploy (14242-1-api)", "4242-1-api"));
    }
}
