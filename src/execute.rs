//! Applies a plan through the port (DESIGN §6.2, §6.5–6): per step in plan order, move the
//! deploy tag, then start the redeploy. One change at a time; the first failure stops the plan
//! and every later step is reported as not started.

use crate::error::{Error, Kind, Result};
use crate::plan::{Action, AuditRecord, Outcome, Plan, RunContext, Status};
use crate::port::{Backend, DispatchRequest, TagWrite};

/// Who asked and why, for the audit record.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub run: RunContext,
    pub actor: String,
    pub reason: String,
}

/// Applies `plan` in place, filling each step's status and outcome.
/// Returns an error of kind `Apply` (exit 1) when a step failed after something changed, or the
/// step's own error (exit 2) when it failed before any change.
pub fn apply(plan: &mut Plan, backend: &dyn Backend, ctx: &Context) -> Result<()> {
    let mut changed = false;
    let mut failure: Option<Error> = None;
    for i in 0..plan.steps.len() {
        if failure.is_some() {
            plan.steps[i].status = Status::NotStarted;
            continue;
        }
        if plan.steps[i].status == Status::Skipped {
            continue;
        }
        match apply_step(plan, i, backend, ctx, &mut changed) {
            Ok(()) => plan.steps[i].status = Status::Done,
            Err(e) => {
                let step = &mut plan.steps[i];
                step.status = Status::Failed;
                if let Some(o) = step.outcome.as_mut() {
                    o.error = Some(e.message.clone());
                }
                failure = Some(e);
            }
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
            .with_help("the report lists each step as done, failed or not started; re-running the same job completes it"))
        }
    }
}

fn apply_step(
    plan: &mut Plan,
    i: usize,
    backend: &dyn Backend,
    ctx: &Context,
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
    let step = &plan.steps[i];
    let mut inputs = step.inputs.clone();
    if step.internal.sends_rollback_id {
        inputs.insert(
            "rollback_id".to_string(),
            rollback_id(&ctx.run, &step.service),
        );
    }
    let request = DispatchRequest {
        repo: step.repository.clone(),
        service: step.service.clone(),
        workflow: step.workflow.clone(),
        git_ref: step.git_ref.clone(),
        inputs,
        command: step.command.clone(),
    };
    let outcome = backend.dispatch(&request);
    // A dispatch that failed may still have started something: count it as a change.
    *changed = true;
    let outcome = outcome?;
    if let Some(note) = outcome.note.clone() {
        plan.notes.push(note);
    }
    if let Some(o) = plan.steps[i].outcome.as_mut() {
        o.run_id = outcome.run_id;
        o.run_url = outcome.run_url;
    }
    Ok(())
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
