//! The command line (DESIGN §7): clap flags turn into one validated request here, and nothing
//! below this module sees clap or the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Kind, Result};
use crate::execute;
use crate::github::{GitHub, Options as GitHubOptions};
use crate::local_git::LocalGit;
use crate::manifest::{self, Manifest};
use crate::plan::{self, Plan, Reader, Request, RunContext};
use crate::port::Backend;
use crate::preflight;
use crate::report::{self, Format, GraphFormat};
use crate::strategy::Strategy;

#[derive(Debug, Parser)]
#[command(
    name = "rollback",
    version,
    about = "Roll a service back to an earlier version and redeploy its dependents, in dependency order"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// Path of the manifest (default: .github/rollback.yml in the workspace)
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Repository OWNER/NAME (default: $GITHUB_REPOSITORY)
    #[arg(long, global = true, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// Use a local git repository instead of GitHub
    #[arg(long, global = true, value_name = "PATH")]
    pub git: Option<PathBuf>,
    /// GitHub token (default: $GITHUB_TOKEN)
    #[arg(long, global = true, hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// GitHub API URL (default: $GITHUB_API_URL, else https://api.github.com)
    #[arg(long, global = true, value_name = "URL")]
    pub api_url: Option<String>,
    /// Longest total wait for retries and rate limits
    #[arg(long, global = true, value_name = "DURATION")]
    pub max_wait: Option<String>,
    /// Log more to stderr; list ignored tags
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a rollback would do; change nothing
    Plan(PlanArgs),
    /// Roll back: move deploy tags and start redeploys
    Apply(ApplyArgs),
    /// List a service's versions, which are eligible and which is deployed
    History(HistoryArgs),
    /// Show the dependency graph of the manifest
    Graph(GraphArgs),
    /// Check the manifest and exit
    Validate,
    /// The container's entrypoint: read INPUT_* and the event
    Action,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    Previous,
    Steps,
    Version,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(long, value_name = "SERVICE")]
    pub service: String,
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// Go N eligible versions back (implies --strategy steps)
    #[arg(long, value_name = "N")]
    pub steps: Option<u32>,
    /// Exact version, tag name or SemVer requirement (implies --strategy version)
    #[arg(long, value_name = "TO", allow_hyphen_values = true)]
    pub to: Option<String>,
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Only the service itself, no dependents
    #[arg(long)]
    pub no_cascade: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Wait for each wave's runs to finish before starting the next
    #[arg(long)]
    pub wait: bool,
    /// One deadline for the whole apply with --wait (humantime: 90s, 20m, 1h30m)
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Why; recorded in the deploy tag and passed to `{reason}`
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HistoryFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[arg(long, value_name = "SERVICE")]
    pub service: String,
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Also list tags under the prefix that are not versions
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: HistoryFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormatArg {
    Text,
    Mermaid,
    Dot,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormatArg,
}

/// What the process environment contributes, read once in `main`.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub github_repository: Option<String>,
    pub github_token: Option<String>,
    pub github_api_url: Option<String>,
    pub github_workspace: Option<PathBuf>,
    pub github_actor: Option<String>,
    pub run: RunContext,
    pub cwd: PathBuf,
    /// The first pause between polls of a run with `--wait` (`ROLLBACK_POLL_INTERVAL`, for
    /// tests; default 5s).
    pub poll_interval: Duration,
    /// Every variable, for `rollback action` (`INPUT_*`, `GITHUB_EVENT_PATH`, `GITHUB_OUTPUT`…).
    pub vars: std::collections::BTreeMap<String, String>,
}

/// The outcome of one command: the report for stdout (possibly alongside an error, when an apply
/// failed half way) and the error for stderr.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub error: Option<Error>,
}

impl Output {
    fn ok(stdout: String) -> Self {
        Output {
            stdout,
            error: None,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.error.as_ref().map_or(0, Error::exit_code)
    }
}

pub fn run(cli: Cli, env: &Env) -> Output {
    match run_inner(cli, env) {
        Ok(o) => o,
        Err(e) => Output {
            stdout: String::new(),
            error: Some(e),
        },
    }
}

fn run_inner(cli: Cli, env: &Env) -> Result<Output> {
    match cli.command {
        Command::Validate => {
            let m = load_manifest(&cli.common, env, None)?;
            Ok(Output::ok(format!(
                "{}: valid; {} service(s), environments: {}\n",
                m.path,
                m.services.len(),
                m.environments.join(", ")
            )))
        }
        Command::Graph(g) => {
            let m = load_manifest(&cli.common, env, None)?;
            let f = match g.format {
                GraphFormatArg::Text => GraphFormat::Text,
                GraphFormatArg::Mermaid => GraphFormat::Mermaid,
                GraphFormatArg::Dot => GraphFormat::Dot,
            };
            Ok(Output::ok(report::graph(&m, f)))
        }
        Command::Plan(p) => {
            let backend = open_backend(&cli.common, env)?;
            let m = load_manifest(&cli.common, env, Some(backend.as_ref()))?;
            let request = request_from(&p, true, None, env)?;
            let plan = make_plan(&m, &request, backend.as_ref(), &cli.common, env)?;
            Ok(Output::ok(report::render(
                &plan,
                format_of(p.format),
                false,
            )))
        }
        Command::Apply(a) => {
            let timeout = parse_timeout(a.timeout.as_deref())?;
            let backend = open_backend(&cli.common, env)?;
            let m = load_manifest(&cli.common, env, Some(backend.as_ref()))?;
            let request = request_from(&a.plan, false, a.reason.clone(), env)?;
            let mut plan = make_plan(&m, &request, backend.as_ref(), &cli.common, env)?;
            let format = format_of(a.plan.format);
            if plan.is_noop() {
                return Ok(Output::ok(report::render(&plan, format, false)));
            }
            preflight::check(&mut plan, backend.as_ref())?;
            let ctx = execute::Context {
                run: env.run.clone(),
                actor: request.actor.clone().unwrap_or_default(),
                reason: request.reason.clone().unwrap_or_default(),
            };
            let mut options = execute::Options {
                wait: a
                    .wait
                    .then(|| execute::Waiting::new(timeout, env.poll_interval)),
                progress: None,
            };
            let result = execute::apply(&mut plan, backend.as_ref(), &ctx, &mut options);
            Ok(Output {
                stdout: report::render(&plan, format, true),
                error: result.err(),
            })
        }
        Command::History(h) => {
            let backend = open_backend(&cli.common, env)?;
            let m = load_manifest(&cli.common, env, Some(backend.as_ref()))?;
            history(
                &m,
                &h,
                backend.as_ref(),
                &cli.common,
                env,
                cli.common.verbose,
            )
        }
        Command::Action => Ok(action_command(&cli.common, env)),
    }
}

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
    }
}

pub fn parse_timeout(t: Option<&str>) -> Result<Duration> {
    match t.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Duration::from_secs(30 * 60)),
        Some(t) => humantime::parse_duration(t).map_err(|e| {
            Error::usage(format!("`--timeout {t}` is not a duration ({e})"))
                .with_help("write it like `90s`, `20m` or `1h30m`")
        }),
    }
}

fn request_from(p: &PlanArgs, dry_run: bool, reason: Option<String>, env: &Env) -> Result<Request> {
    let kind = p.strategy.map(|s| match s {
        StrategyArg::Previous => "previous",
        StrategyArg::Steps => "steps",
        StrategyArg::Version => "version",
    });
    // An empty flag is a mistake (an unset `$VERSION` in a script), never "the default".
    for (flag, value) in [
        ("--service", Some(&p.service)),
        ("--to", p.to.as_ref()),
        ("--environment", p.environment.as_ref()),
    ] {
        if value.is_some_and(|v| v.trim().is_empty()) {
            return Err(Error::usage(format!("`{flag}` is empty"))
                .with_help(format!("give `{flag}` a value, or leave the flag out")));
        }
    }
    let strategy = Strategy::from_parts(kind, p.steps, p.to.as_deref())?;
    Ok(Request {
        service: p.service.trim().to_string(),
        strategy,
        environment: p.environment.clone().filter(|e| !e.trim().is_empty()),
        cascade: !p.no_cascade,
        dry_run,
        reason: reason.filter(|r| !r.trim().is_empty()),
        actor: env.github_actor.clone(),
        run: env.run.clone(),
    })
}

pub(crate) fn repo_name(common: &Common, env: &Env) -> Result<String> {
    let name = common
        .repo
        .clone()
        .or_else(|| env.github_repository.clone())
        .filter(|r| !r.trim().is_empty());
    match (name, &common.git) {
        (Some(n), _) => {
            let n = n.trim().to_string();
            let valid = n.split_once('/').is_some_and(|(o, r)| {
                !o.is_empty()
                    && !r.is_empty()
                    && !r.contains('/')
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            });
            if !valid {
                return Err(Error::usage(format!("`--repo {n}` is not OWNER/NAME")));
            }
            Ok(n)
        }
        (None, Some(_)) => Ok("local".to_string()),
        (None, None) => Err(Error::usage(
            "no repository given: pass `--repo OWNER/NAME`, set GITHUB_REPOSITORY, or use `--git PATH` for a local repository",
        )),
    }
}

pub(crate) fn open_backend(common: &Common, env: &Env) -> Result<Box<dyn Backend>> {
    // Checked whatever the backend, so a typo never waits for the one that reads it.
    parse_max_wait(common.max_wait.as_deref())?;
    let repo = repo_name(common, env)?;
    match &common.git {
        Some(path) => {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                env.cwd.join(path)
            };
            Ok(Box::new(LocalGit::open(&path, &repo)?))
        }
        None => {
            let token = common
                .token
                .clone()
                .or_else(|| env.github_token.clone())
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| {
                    Error::usage(format!(
                        "no GitHub token: pass `--token TOKEN` or set GITHUB_TOKEN to read {repo}"
                    ))
                    .with_help("in a workflow, the action passes `${{ github.token }}` by default; use `--git PATH` for a local repository")
                })?;
            let api_url = common
                .api_url
                .clone()
                .or_else(|| env.github_api_url.clone())
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| "https://api.github.com".to_string());
            let options = GitHubOptions {
                max_wait: parse_max_wait(common.max_wait.as_deref())?,
                ..GitHubOptions::default()
            };
            Ok(Box::new(GitHub::new(&api_url, &token, options)?))
        }
    }
}

/// `--max-wait`: the total of retry and rate-limit waits (DESIGN §11.15), default 5 minutes.
pub fn parse_max_wait(t: Option<&str>) -> Result<Duration> {
    match t.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Duration::from_secs(5 * 60)),
        Some(t) => humantime::parse_duration(t).map_err(|e| {
            Error::usage(format!("`--max-wait {t}` is not a duration ({e})"))
                .with_help("write it like `30s`, `5m` or `1h`")
        }),
    }
}

/// Finds and parses the manifest (DESIGN §2): `--manifest`, else the workspace's
/// `.github/rollback.yml`, else the backend's copy (the local repository's working tree, or
/// GitHub's contents API at the default branch).
pub(crate) fn load_manifest(
    common: &Common,
    env: &Env,
    backend: Option<&dyn Backend>,
) -> Result<Manifest> {
    let workspace = env
        .github_workspace
        .clone()
        .unwrap_or_else(|| env.cwd.clone());
    let (text, shown) = if let Some(p) = &common.manifest {
        let p = if p.is_absolute() {
            p.clone()
        } else {
            workspace.join(p)
        };
        (
            read_manifest_file(&p)?,
            common.manifest.clone().unwrap_or(p).display().to_string(),
        )
    } else {
        let in_workspace = workspace.join(manifest::DEFAULT_PATH);
        let in_git = common.git.as_ref().map(|g| {
            let g = if g.is_absolute() {
                g.clone()
            } else {
                env.cwd.join(g)
            };
            g.join(manifest::DEFAULT_PATH)
        });
        if in_workspace.is_file() {
            (
                read_manifest_file(&in_workspace)?,
                manifest::DEFAULT_PATH.to_string(),
            )
        } else if let Some(p) = in_git.filter(|p| p.is_file()) {
            (read_manifest_file(&p)?, p.display().to_string())
        } else if let (Some(b), None) = (backend, &common.git) {
            let repo = repo_name(common, env)?;
            let info = b.repo_info(&repo)?;
            match b.read_file(&repo, manifest::DEFAULT_PATH, &info.default_branch)? {
                Some(t) => (t, format!("{repo}@{}:{}", info.default_branch, manifest::DEFAULT_PATH)),
                None => {
                    return Err(Error::new(
                        Kind::Manifest,
                        format!(
                            "no manifest: {} is neither in the workspace nor on {repo}'s default branch `{}`",
                            manifest::DEFAULT_PATH,
                            info.default_branch
                        ),
                    ))
                }
            }
        } else {
            return Err(Error::new(
                Kind::Manifest,
                format!(
                    "no manifest: {} not found in {}",
                    manifest::DEFAULT_PATH,
                    workspace.display()
                ),
            )
            .with_help(
                "create it (see the README's manifest reference) or pass `--manifest PATH`",
            ));
        }
    };
    manifest::parse(&text, &shown)
        .map_err(|problems| manifest::problems_to_error(&shown, &problems))
}

/// The largest manifest read; real ones are a few KiB.
const MANIFEST_LIMIT: u64 = 4 * 1024 * 1024;

fn read_manifest_file(p: &Path) -> Result<String> {
    use std::io::Read;
    let fail = |why: String| {
        Error::new(
            Kind::Manifest,
            format!("cannot read manifest {}: {why}", p.display()),
        )
    };
    let meta = std::fs::metadata(p).map_err(|e| fail(e.to_string()))?;
    // A FIFO or a device (`/dev/zero`) would block or never end.
    if !meta.is_file() {
        return Err(fail("it is not a regular file".into()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(p)
        .and_then(|f| f.take(MANIFEST_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MANIFEST_LIMIT {
        return Err(fail(format!(
            "it is larger than {} MiB",
            MANIFEST_LIMIT / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|e| fail(format!("it is not UTF-8 text ({e})")))
}

pub(crate) fn make_plan(
    m: &Manifest,
    request: &Request,
    backend: &dyn Backend,
    common: &Common,
    env: &Env,
) -> Result<Plan> {
    let repo = repo_name(common, env)?;
    let mut reader = Reader::new(backend, &repo);
    let mut plan = plan::build(m, request, &mut reader)?;
    if let Some(git) = &common.git {
        let shown = git.display().to_string();
        let quoted = if shown
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            shown
        } else {
            format!("'{}'", shown.replace('\'', "'\\''"))
        };
        plan.backend_flags = format!("--git {quoted}");
    }
    Ok(plan)
}

fn history(
    m: &Manifest,
    h: &HistoryArgs,
    backend: &dyn Backend,
    common: &Common,
    env: &Env,
    verbose: bool,
) -> Result<Output> {
    let repo = repo_name(common, env)?;
    let service = m
        .service(&h.service)
        .ok_or_else(|| Error::usage(format!("unknown service `{}` in {}", h.service, m.path)))?;
    let environment = h
        .environment
        .clone()
        .unwrap_or_else(|| service.environment.clone());
    let mut reader = Reader::new(backend, &repo);
    let rows = crate::history::collect(m, service, &environment, &mut reader)?;
    let stdout = match h.format {
        HistoryFormat::Json => {
            let mut s = serde_json::to_string_pretty(&rows).unwrap_or_default();
            s.push('\n');
            s
        }
        HistoryFormat::Text => crate::history::text(&rows, h.all || verbose),
    };
    Ok(Output::ok(stdout))
}

/// `rollback action`: reads the event file, runs the action, appends to `$GITHUB_OUTPUT` and
/// `$GITHUB_STEP_SUMMARY`, and prints the report so that the runner can never read a line of it
/// as a workflow command.
fn action_command(common: &Common, env: &Env) -> Output {
    use crate::runner;
    let var = |k: &str| env.vars.get(k).filter(|v| !v.is_empty()).cloned();
    let event = match var("GITHUB_EVENT_PATH") {
        None => Err("GITHUB_EVENT_PATH is not set".to_string()),
        Some(p) => std::fs::read_to_string(&p)
            .map_err(|e| format!("{p}: {e}"))
            .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{p}: {e}"))),
    };
    // Outputs that cannot be written would leave later steps reading empty values after a
    // rollback that did happen: check the file before anything changes.
    if let Some(path) = var("GITHUB_OUTPUT") {
        let opened = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        if let Err(e) = opened {
            let err = Error::usage(format!("cannot write the step outputs to GITHUB_OUTPUT ({path}): {e}"))
                .with_help("nothing was changed; this runs inside GitHub Actions, where the runner provides that file");
            return Output {
                stdout: runner::error_command(Some(err.kind.title()), &err.message),
                error: Some(err),
            };
        }
    }
    let action_env = crate::action::ActionEnv {
        inputs: runner::Inputs::from_env(&env.vars),
        event_name: var("GITHUB_EVENT_NAME"),
        event,
    };
    let outcome = crate::action::run(common, env, &action_env);
    let mut stdout = String::new();
    let append = |var_name: &str, text: &str, what: &str, stdout: &mut String| {
        let Some(path) = var(var_name) else { return };
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
        if let Err(e) = written {
            stdout.push_str(&runner::warning_command(
                None,
                &format!("could not write the {what} to {path}: {e}"),
            ));
        }
    };
    let outputs: String = outcome
        .outputs
        .iter()
        .map(|(k, v)| runner::format_output(k, v))
        .collect();
    append("GITHUB_OUTPUT", &outputs, "outputs", &mut stdout);
    if let Some(summary) = &outcome.summary {
        append(
            "GITHUB_STEP_SUMMARY",
            &format!("{summary}\n"),
            "step summary",
            &mut stdout,
        );
    }
    if !outcome.report.is_empty() {
        stdout.push_str(&runner::group_start("rollback report"));
        for line in outcome.report.lines() {
            stdout.push_str(&runner::neutralize_line(line));
            stdout.push('\n');
        }
        stdout.push_str(&runner::group_end());
    }
    for w in &outcome.warnings {
        stdout.push_str(&runner::warning_command(None, w));
    }
    if let Some(e) = &outcome.error {
        let mut text = e.message.clone();
        if let Some(h) = &e.help {
            text.push_str(&format!("\n{h}"));
        }
        stdout.push_str(&runner::error_command(Some(e.kind.title()), &text));
    }
    Output {
        stdout,
        error: outcome.error,
    }
}
