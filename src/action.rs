//! `rollback action`, the container's entrypoint (DESIGN §7 "Action" and "PR and issue
//! comments"): turns `INPUT_*` and the event payload into a request, runs it, and says what it
//! did through the runner's channels (outputs, step summary, workflow commands, a reply comment).
//!
//! The caller (`cli`) reads the environment and the event file and writes the output files;
//! this module decides and never prints.

use std::time::Duration;

use serde_json::Value;

use crate::cli::{self, Common, Env};
use crate::comment::{self, Parsed, Target};
use crate::error::{Error, Kind, Result};
use crate::execute;
use crate::plan::{Plan, Request, Status};
use crate::port::{Backend, Reaction};
use crate::preflight;
use crate::report::{self, Format};
use crate::runner::Inputs;
use crate::strategy::Strategy;

/// What the runner gave the container, read at the edge.
#[derive(Debug, Clone)]
pub struct ActionEnv {
    pub inputs: Inputs,
    pub event_name: Option<String>,
    /// The parsed `GITHUB_EVENT_PATH` file, or why it could not be read.
    pub event: std::result::Result<Value, String>,
}

/// What the action did, for the caller to write out.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The human report (already safe for the runner to read: see `cli`).
    pub report: String,
    /// `$GITHUB_OUTPUT` entries, in order.
    pub outputs: Vec<(String, String)>,
    /// Markdown appended to `$GITHUB_STEP_SUMMARY`.
    pub summary: Option<String>,
    /// Warnings (`::warning::`), e.g. a reply comment that could not be posted.
    pub warnings: Vec<String>,
    pub error: Option<Error>,
}

impl Outcome {
    fn output(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if let Some(slot) = self.outputs.iter_mut().find(|(n, _)| n == name) {
            slot.1 = value;
        } else {
            self.outputs.push((name.to_string(), value));
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.error.as_ref().map_or(0, Error::exit_code)
    }
}

/// The options of one request that are not part of the plan.
struct Options {
    wait: bool,
    timeout: Option<Duration>,
}

pub fn run(common: &Common, env: &Env, action: &ActionEnv) -> Outcome {
    let mut out = Outcome::default();
    match action.event_name.as_deref() {
        Some("issue_comment") => comment_mode(common, env, action, &mut out),
        _ => {
            out.output("triggered", "true");
            if let Err(e) = inputs_mode(common, env, action, &mut out) {
                out.error = Some(e);
            }
        }
    }
    out
}

/// `Common` with the action's inputs applied (`token`, `manifest`, `max-wait`).
fn common_from(common: &Common, inputs: &Inputs) -> Result<Common> {
    let mut c = common.clone();
    if let Some(t) = inputs.get("token") {
        c.token = Some(t.to_string());
    }
    if let Some(m) = inputs.get("manifest") {
        // Relative to the workspace, and inside it.
        let p = std::path::Path::new(m);
        let escapes = p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if escapes {
            return Err(Error::usage(format!(
                "input `manifest` must be a path inside the workspace, got `{m}`"
            ))
            .with_help("give it relative to the repository root, e.g. `.github/rollback.yml`"));
        }
        c.manifest = Some(m.into());
    }
    if let Some(w) = inputs.get("max-wait") {
        c.max_wait = Some(w.to_string());
    }
    Ok(c)
}

/// Every input is checked before anything runs, used or not: a typo in `wait` must not
/// surface only after the deploy tags moved.
fn read_inputs(inputs: &Inputs) -> Result<(bool, bool, Options)> {
    let dry_run = inputs.bool("dry-run", false)?;
    let cascade = inputs.bool("cascade", true)?;
    let wait = inputs.bool("wait", false)?;
    let timeout = inputs.duration("timeout")?;
    inputs.duration("max-wait")?;
    inputs.one_of("min-permission", &["write", "maintain", "admin"])?;
    inputs.one_of("strategy", &["previous", "steps", "version"])?;
    inputs.u32("steps")?;
    Ok((dry_run, cascade, Options { wait, timeout }))
}

fn inputs_mode(common: &Common, env: &Env, action: &ActionEnv, out: &mut Outcome) -> Result<()> {
    let inputs = &action.inputs;
    let (dry_run, cascade, options) = read_inputs(inputs)?;
    let service = inputs.get("service").ok_or_else(|| {
        Error::usage("input `service` is required: name the service to roll back").with_help(
            "set `with: service: api` on the step (the names are the manifest's `services`)",
        )
    })?;
    out.output("service", service);
    let strategy = Strategy::from_parts(
        inputs.one_of("strategy", &["previous", "steps", "version"])?,
        inputs.u32("steps")?,
        inputs.get("to"),
    )
    .map_err(rename_flags)?;
    let request = Request {
        service: service.to_string(),
        strategy,
        environment: inputs.get("environment").map(str::to_string),
        cascade,
        dry_run,
        reason: inputs.get("reason").map(str::to_string),
        actor: env.github_actor.clone(),
        run: env.run.clone(),
    };
    let common = common_from(common, inputs)?;
    let backend = cli::open_backend(&common, env).map_err(rename_flags)?;
    let result = rollback(
        &common,
        env,
        backend.as_ref(),
        &request,
        &options,
        None,
        out,
    );
    result.map(|_| ())
}

/// The CLI's flag names in messages become the action's input names.
fn rename_flags(mut e: Error) -> Error {
    let fix = |s: &str| {
        s.replace("`--steps N`", "input `steps`")
            .replace("`--steps`", "input `steps`")
            .replace("`--steps ", "`steps: ")
            .replace("`--to VERSION`", "input `to`")
            .replace("`--to`", "input `to`")
            .replace("`--to ", "`to: ")
            .replace("`--strategy ", "`strategy: ")
            .replace(
                "pass `--token` or set GITHUB_TOKEN",
                "set the `token` input",
            )
            .replace("`--max-wait`", "input `max-wait`")
            .replace("`--timeout`", "input `timeout`")
    };
    e.message = fix(&e.message);
    e.help = e.help.map(|h| fix(&h));
    e
}

/// Plans, and unless it is a dry run applies; fills the outputs and the summary. Returns the
/// plan (applied or not) when there was one.
fn rollback(
    common: &Common,
    env: &Env,
    backend: &dyn Backend,
    request: &Request,
    options: &Options,
    progress: Option<&mut dyn FnMut(&Plan)>,
    out: &mut Outcome,
) -> Result<Plan> {
    let manifest = cli::load_manifest(common, env, Some(backend))?;
    let mut plan = cli::make_plan(&manifest, request, backend, common, env)?;
    plan_outputs(&plan, out);
    if plan.dry_run || plan.is_noop() {
        out.report = report::render(&plan, Format::Text, false);
        out.summary = Some(report::render(&plan, Format::Markdown, false));
        return Ok(plan);
    }
    preflight::check(&mut plan, backend)?;
    let ctx = execute::Context {
        run: env.run.clone(),
        actor: request.actor.clone().unwrap_or_default(),
        reason: request.reason.clone().unwrap_or_default(),
    };
    let timeout = options.timeout.unwrap_or(Duration::from_secs(30 * 60));
    let mut apply_options = execute::Options {
        wait: options
            .wait
            .then(|| execute::Waiting::new(timeout, env.poll_interval)),
        progress,
    };
    let result = execute::apply(&mut plan, backend, &ctx, &mut apply_options);
    plan_outputs(&plan, out);
    out.report = report::render(&plan, Format::Text, true);
    out.summary = Some(report::render(&plan, Format::Markdown, true));
    result.map(|()| plan)
}

fn plan_outputs(plan: &Plan, out: &mut Outcome) {
    if let Some(root) = plan.root() {
        out.output("service", root.service.clone());
        let from = root.from.as_ref();
        out.output(
            "from-version",
            from.and_then(|f| f.version.clone()).unwrap_or_default(),
        );
        out.output("from-sha", from.map(|f| f.sha.clone()).unwrap_or_default());
        out.output("to-version", root.to.version.clone().unwrap_or_default());
        out.output("to-sha", root.to.sha.clone());
    }
    out.output("plan", plan.json_line());
    let dispatched: Vec<Value> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.status, Status::Done | Status::Failed))
        .filter(|s| s.outcome.is_some())
        .map(|s| {
            let o = s.outcome.clone().unwrap_or_default();
            serde_json::json!({
                "service": s.service,
                "workflow": s.workflow,
                "run_id": o.run_id,
                "run_url": o.run_url,
                "conclusion": o.conclusion,
            })
        })
        .collect();
    out.output(
        "dispatched",
        serde_json::to_string(&dispatched).unwrap_or_else(|_| "[]".into()),
    );
}

/// Access levels, lowest first; a custom role counts as its base permission.
fn level(word: &str) -> Option<u8> {
    match word {
        "read" | "pull" => Some(0),
        "triage" => Some(1),
        "write" | "push" => Some(2),
        "maintain" => Some(3),
        "admin" => Some(4),
        _ => None,
    }
}

/// The comment, as far as the front end needs it.
struct CommentEvent {
    action: String,
    id: u64,
    body: String,
    login: String,
    user_type: String,
    issue: u64,
    repo: Option<String>,
}

fn comment_event(event: &Value) -> Option<CommentEvent> {
    let c = event.get("comment")?;
    Some(CommentEvent {
        action: event.get("action")?.as_str()?.to_string(),
        id: c.get("id")?.as_u64()?,
        body: c
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        login: c.get("user")?.get("login")?.as_str()?.to_string(),
        user_type: c
            .get("user")?
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        issue: event.get("issue")?.get("number")?.as_u64()?,
        repo: event
            .get("repository")
            .and_then(|r| r.get("full_name"))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

fn comment_mode(common: &Common, env: &Env, action: &ActionEnv, out: &mut Outcome) {
    let not_a_command = |out: &mut Outcome, why: &str| {
        out.output("triggered", "false");
        out.report = format!("not a rollback command: {why}\n");
    };
    let event = match &action.event {
        Ok(v) => v,
        Err(e) => {
            out.output("triggered", "false");
            out.error = Some(Error::usage(format!("cannot read the event payload: {e}")));
            return;
        }
    };
    let Some(ev) = comment_event(event) else {
        out.output("triggered", "false");
        out.error = Some(Error::usage(
            "the issue_comment event payload lacks comment.id, comment.user.login or issue.number",
        ));
        return;
    };
    if ev.action != "created" {
        return not_a_command(
            out,
            "only newly created comments are read (this one was edited or deleted)",
        );
    }
    if comment::is_bot(&ev.login, &ev.user_type) {
        return not_a_command(out, "comments by bots are ignored");
    }
    let prefix = action.inputs.get("comment-prefix").unwrap_or("/rollback");
    let parsed = comment::parse(&ev.body, prefix);
    if parsed == Parsed::NotACommand {
        return not_a_command(
            out,
            "the comment's first line does not start with the command",
        );
    }
    out.output("triggered", "true");

    // From here on the comment is a request: every refusal is answered in the thread.
    let mut common = match common_from(common, &action.inputs) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e);
            return;
        }
    };
    let mut env = env.clone();
    if env.github_repository.is_none() {
        env.github_repository = ev.repo.clone();
    }
    env.github_actor = Some(ev.login.clone());
    if common.repo.is_none() {
        common.repo = env.github_repository.clone();
    }
    let backend = match cli::open_backend(&common, &env) {
        Ok(b) => b,
        Err(e) => {
            out.error = Some(rename_flags(e));
            return;
        }
    };
    let repo = match cli::repo_name(&common, &env) {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(e);
            return;
        }
    };
    let thread = Thread {
        backend: backend.as_ref(),
        repo: &repo,
        issue: ev.issue,
        comment_id: ev.id,
    };

    // The permission check comes first, for every command, `help` included (§11.17).
    let needed = match action
        .inputs
        .one_of("min-permission", &["write", "maintain", "admin"])
    {
        Ok(n) => n.unwrap_or("write"),
        Err(e) => {
            out.error = Some(e);
            return;
        }
    };
    match backend.collaborator(&repo, &ev.login) {
        Ok(c) => {
            let have = c
                .as_ref()
                .and_then(|c| level(&c.role_name).or_else(|| level(&c.permission)));
            if have.is_none_or(|h| Some(h) < level(needed)) {
                let role = c.map_or("no access".to_string(), |c| format!("`{}`", c.role_name));
                let msg = format!(
                    "@{} is not allowed to run rollbacks here: this needs `{needed}` permission on {repo}, and they have {role}",
                    ev.login
                );
                thread.react(Reaction::ThumbsDown, out);
                thread.reply(&format!(":no_entry: {msg}."), out);
                out.error = Some(Error::new(Kind::Permission, msg));
                return;
            }
        }
        Err(e) => {
            let msg = format!(
                "could not verify @{}'s permission on {repo}, so the command was not run: {}",
                ev.login, e.message
            );
            thread.react(Reaction::ThumbsDown, out);
            thread.reply(&format!(":warning: {msg}"), out);
            // Not reaching GitHub is a backend error, not a refusal.
            let kind = if e.kind == Kind::Remote {
                Kind::Remote
            } else {
                Kind::Permission
            };
            out.error = Some(
                Error::new(kind, msg).with_details(e.details).with_help(
                    e.help
                        .unwrap_or_else(|| "run the command again once GitHub answers".into()),
                ),
            );
            return;
        }
    }

    let command = match parsed {
        Parsed::NotACommand => return,
        Parsed::Help => {
            thread.react(Reaction::Eyes, out);
            thread.reply(&comment::help_text(prefix), out);
            out.report = "replied with the command's help\n".into();
            return;
        }
        Parsed::Invalid(msg) => {
            thread.react(Reaction::Confused, out);
            thread.reply(&format!(":x: {msg}\n\n{}", comment::help_text(prefix)), out);
            out.error = Some(Error::usage(format!(
                "the comment is not a valid command: {msg}"
            )));
            return;
        }
        Parsed::Command(c) => c,
    };
    let (dry_run_input, cascade, options) = match read_inputs(&action.inputs) {
        Ok(x) => x,
        Err(e) => {
            out.error = Some(e);
            return;
        }
    };
    out.output("service", command.service.clone());
    let strategy = match &command.target {
        Target::Previous => Strategy::Previous,
        Target::Back(n) => Strategy::Steps(*n),
        Target::To(to) => Strategy::Version(to.clone()),
    };
    let request = Request {
        service: command.service.clone(),
        strategy,
        environment: command.environment.clone(),
        cascade,
        dry_run: command.plan || dry_run_input,
        reason: command
            .reason
            .clone()
            .or_else(|| action.inputs.get("reason").map(str::to_string)),
        actor: Some(ev.login.clone()),
        run: env.run.clone(),
    };
    thread.react(Reaction::Eyes, out);
    // With `wait`, one reply is posted when the first wave finishes and edited in place as the
    // others do, instead of one comment per wave.
    let reply_id: std::cell::Cell<Option<u64>> = std::cell::Cell::new(None);
    let mut warnings = Vec::new();
    let mut progress = |plan: &Plan| {
        let body = report::render(plan, Format::Markdown, true);
        match reply_id.get() {
            None => match thread.backend.comment(thread.repo, thread.issue, &body) {
                Ok(id) => reply_id.set(Some(id)),
                Err(e) => warnings.push(format!("could not post the reply comment: {}", e.message)),
            },
            Some(id) => {
                if let Err(e) = thread.backend.update_comment(thread.repo, id, &body) {
                    warnings.push(format!("could not update the reply comment: {}", e.message));
                }
            }
        }
    };
    let progress: Option<&mut dyn FnMut(&Plan)> = if options.wait {
        Some(&mut progress)
    } else {
        None
    };
    let result = rollback(
        &common,
        &env,
        backend.as_ref(),
        &request,
        &options,
        progress,
        out,
    );
    out.warnings.append(&mut warnings);
    match result {
        Ok(plan) => {
            let body = report::render(&plan, Format::Markdown, !plan.dry_run && !plan.is_noop());
            thread.reply_or_edit(reply_id.get(), &body, out);
            if !plan.dry_run && !plan.is_noop() {
                thread.react(Reaction::Rocket, out);
            }
        }
        Err(e) => {
            thread.react(Reaction::Confused, out);
            let mut body = format!(":x: **Rollback failed.** {}\n", e.message);
            for d in &e.details {
                body.push_str(&format!("\n- {d}"));
            }
            if let Some(h) = &e.help {
                body.push_str(&format!("\n\n{h}\n"));
            }
            if let Some(s) = &out.summary {
                body.push_str(&format!("\n{s}"));
            }
            thread.reply_or_edit(reply_id.get(), &body, out);
            out.error = Some(e);
        }
    }
}

/// The issue or pull request the command came from.
struct Thread<'a> {
    backend: &'a dyn Backend,
    repo: &'a str,
    issue: u64,
    comment_id: u64,
}

impl Thread<'_> {
    /// A failed reaction is a warning, never a failure (§11.17).
    fn react(&self, r: Reaction, out: &mut Outcome) {
        if let Err(e) = self.backend.react(self.repo, self.comment_id, r) {
            out.warnings
                .push(format!("could not react {}: {}", r.content(), e.message));
        }
    }

    /// Edits the reply posted during the rollback, or posts one.
    fn reply_or_edit(&self, id: Option<u64>, body: &str, out: &mut Outcome) {
        match id {
            Some(id) => {
                if let Err(e) = self.backend.update_comment(self.repo, id, body) {
                    out.warnings
                        .push(format!("could not update the reply comment: {}", e.message));
                }
            }
            None => self.reply(body, out),
        }
    }

    fn reply(&self, body: &str, out: &mut Outcome) {
        if let Err(e) = self.backend.comment(self.repo, self.issue, body) {
            out.warnings
                .push(format!("could not post the reply comment: {}", e.message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_custom_roles() {
        assert!(level("maintain") > level("write"));
        assert!(level("triage") < level("write"));
        assert_eq!(level("my-custom-role"), None);
        assert!(level("admin") > level("maintain"));
    }
}
