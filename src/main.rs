//! The `rollback` binary: reads the process environment once, runs the command, prints the
//! report to stdout and errors to stderr, and exits 0, 1 or 2 (DESIGN §7).

use std::io::Write;

use clap::Parser;
use rollback::cli::{self, Cli, Env};
use rollback::plan::RunContext;

fn main() {
    let cli = Cli::parse();
    init_logging(cli.common.verbose);
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let env = Env {
        github_repository: var("GITHUB_REPOSITORY"),
        github_token: var("GITHUB_TOKEN"),
        github_api_url: var("GITHUB_API_URL"),
        github_workspace: var("GITHUB_WORKSPACE").map(Into::into),
        github_actor: var("GITHUB_ACTOR"),
        run: RunContext {
            run_id: var("GITHUB_RUN_ID"),
            run_attempt: var("GITHUB_RUN_ATTEMPT"),
            run_url: match (
                var("GITHUB_SERVER_URL"),
                var("GITHUB_REPOSITORY"),
                var("GITHUB_RUN_ID"),
            ) {
                (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
                _ => None,
            },
        },
        cwd: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        poll_interval: var("ROLLBACK_POLL_INTERVAL")
            .and_then(|v| humantime::parse_duration(&v).ok())
            .unwrap_or(std::time::Duration::from_secs(5)),
        vars: std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect(),
    };
    let out = cli::run(cli, &env);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    if let Some(e) = &out.error {
        // Runners read workflow commands on stderr too: no line of ours may look like one.
        eprintln!(
            "error: {}",
            rollback::runner::neutralize_line(&e.to_string())
        );
    }
    std::process::exit(out.exit_code());
}

fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if verbose {
        "rollback=debug"
    } else {
        "rollback=warn"
    };
    let filter =
        EnvFilter::try_from_env("ROLLBACK_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}
