//! End-to-end tests of `rollback action`, driven the way the Actions runner drives the
//! container: `INPUT_*` variables with hyphens kept, `GITHUB_EVENT_NAME`/`GITHUB_EVENT_PATH`
//! (event payloads from ../shared/github-events as the envelope), `GITHUB_OUTPUT` and
//! `GITHUB_STEP_SUMMARY` files, the workspace as the working directory, and the fake GitHub on
//! 127.0.0.1 through `GITHUB_API_URL`.
//!
//! `ROLLBACK_BIN` runs these against another build of the binary (scripts/test.sh sets it to
//! the release binary the Dockerfile builds).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fake_github::FakeGitHub;
use rollback::runner::parse_output_file;
use serde_json::Value;

const REPO: &str = "Codertocat/Hello-World";

const MANIFEST: &str = r#"
services:
  api: {}
  worker:
    depends-on: [api]
  admin:
    depends-on: [api]
  web:
    depends-on: [api, worker]
"#;

const DEPLOY: &str = r#"
name: deploy
on:
  workflow_dispatch:
    inputs:
      version:
        required: true
        type: string
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo deploying
"#;

struct World {
    gh: FakeGitHub,
    workspace: tempfile::TempDir,
}

/// The diamond (api <- worker, admin; web <- api, worker) with three api versions.
fn world() -> World {
    let gh = FakeGitHub::start();
    gh.add_repo(REPO, "main");
    gh.add_workflow(REPO, "deploy.yml", "active", DEPLOY);
    let mut day = 1;
    let mut commit = |gh: &FakeGitHub| {
        day += 1;
        gh.new_commit(REPO, &format!("2026-11-{day:02}T10:00:00Z"))
    };
    let base = commit(&gh);
    for s in ["worker", "admin", "web"] {
        gh.add_lightweight_tag(REPO, &format!("{s}/v2.0.0"), &base);
        gh.add_lightweight_tag(REPO, &format!("deploy/production/{s}"), &base);
    }
    gh.add_lightweight_tag(REPO, "api/v1.0.0", &base);
    for v in ["1.1.0", "1.2.0"] {
        let c = commit(&gh);
        gh.add_annotated_tag(REPO, &format!("api/v{v}"), &c, "2026-11-20T10:00:00Z", v);
    }
    let c = commit(&gh);
    gh.add_annotated_tag(REPO, "api/v1.3.0", &c, "2026-11-21T10:00:00Z", "1.3.0");
    gh.add_lightweight_tag(REPO, "deploy/production/api", &c);
    gh.set_permission(REPO, "Codertocat", "admin", "admin");
    let workspace = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(workspace.path().join(".github")).expect("mkdir");
    std::fs::write(workspace.path().join(".github/rollback.yml"), MANIFEST).expect("manifest");
    World { gh, workspace }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

fn binary() -> PathBuf {
    match std::env::var_os("ROLLBACK_BIN") {
        // Absolute, since the child runs in the workspace directory.
        Some(p) => std::fs::canonicalize(&p)
            .unwrap_or_else(|e| panic!("ROLLBACK_BIN={}: {e}", PathBuf::from(&p).display())),
        None => assert_cmd::cargo::cargo_bin("rollback"),
    }
}

impl World {
    /// Runs `rollback action` with `inputs` (names as in action.yml) and an optional event.
    fn action(&self, event_name: &str, event: Option<&Value>, inputs: &[(&str, &str)]) -> Run {
        self.run_action(event_name, event, inputs, false)
    }

    /// The same, with a fast poll for `wait: true`.
    fn action_with_env(
        &self,
        event_name: &str,
        event: Option<&Value>,
        inputs: &[(&str, &str)],
    ) -> Run {
        self.run_action(event_name, event, inputs, true)
    }

    fn run_action(
        &self,
        event_name: &str,
        event: Option<&Value>,
        inputs: &[(&str, &str)],
        fast_poll: bool,
    ) -> Run {
        let dir = self.workspace.path();
        let files = tempfile::tempdir().expect("tempdir");
        let output = files.path().join("output");
        let summary = files.path().join("summary");
        std::fs::write(&output, "").expect("output file");
        std::fs::write(&summary, "").expect("summary file");
        let event_path = files.path().join("event.json");
        let payload = event.cloned().unwrap_or_else(|| serde_json::json!({}));
        std::fs::write(&event_path, payload.to_string()).expect("event");
        let mut cmd = std::process::Command::new(binary());
        cmd.arg("action").env_clear().current_dir(dir);
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", dir)
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", self.gh.url())
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_EVENT_NAME", event_name)
            .env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_ACTOR", "Codertocat");
        // The runner sets every input of action.yml, empty when not given.
        let defaults = [
            ("token", "ghs_test_token"),
            ("service", ""),
            ("strategy", ""),
            ("steps", ""),
            ("to", ""),
            ("environment", ""),
            ("manifest", ""),
            ("dry-run", "false"),
            ("cascade", "true"),
            ("wait", "false"),
            ("timeout", ""),
            ("reason", ""),
            ("comment-prefix", "/rollback"),
            ("min-permission", "write"),
        ];
        let mut all: BTreeMap<&str, &str> = defaults.into_iter().collect();
        for (k, v) in inputs {
            all.insert(k, v);
        }
        for (k, v) in all {
            cmd.env(format!("INPUT_{}", k.to_uppercase()), v);
        }
        if fast_poll {
            cmd.env("ROLLBACK_POLL_INTERVAL", "20ms");
        }
        let out = cmd.output().expect("runs");
        let outputs_text = std::fs::read_to_string(&output).expect("read output");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: parse_output_file(&outputs_text)
                .unwrap_or_else(|e| panic!("GITHUB_OUTPUT does not parse: {e}\n{outputs_text}")),
            summary: std::fs::read_to_string(&summary).expect("read summary"),
        }
    }

    fn deployed(&self, service: &str) -> String {
        self.gh
            .tag(REPO, &format!("deploy/production/{service}"))
            .map(|t| t.commit_sha)
            .unwrap_or_default()
    }

    fn commit_of(&self, tag: &str) -> String {
        self.gh
            .tag(REPO, tag)
            .map(|t| t.commit_sha)
            .unwrap_or_default()
    }

    /// An issue comment event from the recorded payload, with the body, login and action set,
    /// and the comment stored in the fake so that reactions find it.
    fn comment_event(&self, body: &str, login: &str, action: &str, user_type: &str) -> Value {
        let path = support::shared_dir().join("github-events/issue_comment.created.issue.json");
        let text = std::fs::read_to_string(&path).expect("payload");
        let mut v: Value = serde_json::from_str(&text).expect("json");
        let id = self.gh.add_issue_comment(REPO, 1, login, body);
        v["action"] = Value::from(action);
        v["comment"]["id"] = Value::from(id);
        v["comment"]["body"] = Value::from(body);
        v["comment"]["user"]["login"] = Value::from(login);
        v["comment"]["user"]["type"] = Value::from(user_type);
        v
    }
}

fn plan_steps(run: &Run) -> Vec<Value> {
    let plan: Value = serde_json::from_str(run.outputs.get("plan").map_or("null", String::as_str))
        .unwrap_or(Value::Null);
    plan["steps"].as_array().cloned().unwrap_or_default()
}

fn no_runner_command_from(stdout: &str, lines: &[&str]) {
    for l in stdout.lines() {
        for bad in lines {
            assert!(
                !l.trim_start().starts_with(bad),
                "stdout has a workflow command {l:?}"
            );
        }
    }
}

#[test]
fn dry_run_input_plans_only() {
    let w = world();
    let run = w.action(
        "workflow_dispatch",
        None,
        &[("service", "api"), ("dry-run", "true")],
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        w.gh.mutating_requests().is_empty(),
        "{:?}",
        w.gh.mutating_requests()
    );
    assert_eq!(run.outputs["triggered"], "true");
    assert_eq!(run.outputs["service"], "api");
    assert_eq!(run.outputs["from-version"], "1.3.0");
    assert_eq!(run.outputs["to-version"], "1.2.0");
    assert_eq!(run.outputs["to-sha"], w.commit_of("api/v1.2.0"));
    assert_eq!(run.outputs["dispatched"], "[]");
    assert!(!run.outputs["plan"].contains('\n'));
    assert_eq!(plan_steps(&run).len(), 4);
    assert!(
        run.summary.contains("| Service | From → To |"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("```mermaid"), "{}", run.summary);
    // api (n0) --> worker (n2): the ids are positions in the plan.
    assert!(
        run.summary.contains("n0[\"api rollback\"]"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("n0 --> n2"), "{}", run.summary);
}

#[test]
fn bad_boolean_input_is_exit_2_naming_it() {
    let w = world();
    let run = w.action(
        "workflow_dispatch",
        None,
        &[("service", "api"), ("dry-run", "yes-please")],
    );
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.contains("::error title="), "{}", run.stdout);
    assert!(run.stdout.contains("dry-run"), "{}", run.stdout);
    assert!(run.stderr.contains("`dry-run`"), "{}", run.stderr);
    assert!(w.gh.mutating_requests().is_empty());
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.3.0"));
}

#[test]
fn inputs_mode_applies_the_diamond() {
    let w = world();
    let run = w.action(
        "workflow_dispatch",
        None,
        &[("service", "api"), ("reason", "500s")],
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.2.0"));
    let dispatched: Vec<Value> = serde_json::from_str(&run.outputs["dispatched"]).expect("json");
    let services: Vec<&str> = dispatched
        .iter()
        .filter_map(|d| d["service"].as_str())
        .collect();
    assert_eq!(services, vec!["api", "admin", "worker", "web"]);
    assert_eq!(w.gh.dispatches().len(), 4);
    assert!(run.summary.contains("Rollback applied"), "{}", run.summary);
}

#[test]
fn missing_service_input_is_exit_2() {
    let w = world();
    let run = w.action("workflow_dispatch", None, &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("input `service` is required"),
        "{}",
        run.stderr
    );
    assert!(w.gh.mutating_requests().is_empty());
}

fn comment(w: &World, body: &str) -> Run {
    let ev = w.comment_event(body, "Codertocat", "created", "User");
    w.gh.reset_requests();
    w.action("issue_comment", Some(&ev), &[])
}

fn reactions(w: &World) -> Vec<String> {
    w.gh.reactions().into_iter().map(|r| r.content).collect()
}

#[test]
fn comment_previous_with_crlf() {
    let w = world();
    let run = comment(&w, "/rollback api\r\n");
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs["triggered"], "true");
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.2.0"));
    assert_eq!(reactions(&w), vec!["eyes", "rocket"]);
    let replies: Vec<_> =
        w.gh.comments()
            .into_iter()
            .filter(|c| c.body.contains("Rollback applied"))
            .collect();
    assert_eq!(replies.len(), 1);
}

#[test]
fn comment_to_a_tag_keeps_the_reason() {
    let w = world();
    let run = comment(&w, "/rollback api to api/v1.1.0\r\n\r\nreason: 500s");
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.1.0"));
    let tag = w.gh.tag(REPO, "deploy/production/api").expect("deploy tag");
    let record =
        w.gh.tag_object(&tag.ref_sha)
            .expect("annotated audit record");
    assert!(
        record.message.contains("reason: reason: 500s"),
        "{}",
        record.message
    );
    assert!(
        record.message.contains("actor: Codertocat"),
        "{}",
        record.message
    );
}

#[test]
fn comment_back_two() {
    let w = world();
    let run = comment(&w, "/rollback api back 2");
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.1.0"));
}

#[test]
fn comment_plan_changes_nothing() {
    let w = world();
    let run = comment(&w, "/rollback plan api back 2");
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(w
        .gh
        .mutating_requests()
        .iter()
        .all(|r| r.path.contains("/issues/")));
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.3.0"));
    assert!(w
        .gh
        .comments()
        .iter()
        .any(|c| c.body.contains("Rollback plan")));
}

#[test]
fn not_commands_make_no_api_call() {
    for body in [
        "Please don't /rollback api yet",
        "/rollbacks api",
        "> /rollback api",
        "/rollback-status",
    ] {
        let w = world();
        let run = comment(&w, body);
        assert_eq!(run.code, Some(0), "{body}: {}", run.stderr);
        assert_eq!(run.outputs["triggered"], "false", "{body}");
        assert!(w.gh.requests().is_empty(), "{body}: {:?}", w.gh.requests());
    }
}

#[test]
fn edited_and_bot_comments_are_ignored() {
    let w = world();
    let ev = w.comment_event("/rollback api", "Codertocat", "edited", "User");
    w.gh.reset_requests();
    let run = w.action("issue_comment", Some(&ev), &[]);
    assert_eq!(
        (run.code, run.outputs["triggered"].as_str()),
        (Some(0), "false")
    );
    let ev = w.comment_event("/rollback api", "deploy-bot[bot]", "created", "Bot");
    w.gh.reset_requests();
    let run = w.action("issue_comment", Some(&ev), &[]);
    assert_eq!(
        (run.code, run.outputs["triggered"].as_str()),
        (Some(0), "false")
    );
    assert!(w.gh.requests().is_empty());
}

#[test]
fn bare_command_replies_with_usage() {
    let w = world();
    let run = comment(&w, "/rollback");
    assert_eq!(run.code, Some(0));
    assert!(w.gh.comments().iter().any(|c| c.body.contains("**Usage**")));
    assert!(w
        .gh
        .mutating_requests()
        .iter()
        .all(|r| r.path.contains("/issues/")));
}

#[test]
fn permissions_by_role_name() {
    let w = world();
    w.gh.set_permission(REPO, "trina", "read", "triage");
    let ev = w.comment_event("/rollback api", "trina", "created", "User");
    let run = w.action("issue_comment", Some(&ev), &[]);
    assert_eq!(run.code, Some(2));
    assert_eq!(run.outputs["triggered"], "true");
    assert_eq!(reactions(&w), vec!["-1"]);
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.3.0"));

    w.gh.set_permission(REPO, "wanda", "write", "write");
    w.gh.set_permission(REPO, "mona", "write", "maintain");
    let ev = w.comment_event("/rollback plan api", "wanda", "created", "User");
    let run = w.action(
        "issue_comment",
        Some(&ev),
        &[("min-permission", "maintain")],
    );
    assert_eq!(run.code, Some(2), "write is not maintain");
    let ev = w.comment_event("/rollback plan api", "mona", "created", "User");
    let run = w.action(
        "issue_comment",
        Some(&ev),
        &[("min-permission", "maintain")],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn hostile_comment_is_refused_and_prints_no_workflow_command() {
    let w = world();
    let run = comment(
        &w,
        "/rollback api to $(touch pwned)\n::add-mask::x\n::error::boom",
    );
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(w.deployed("api"), w.commit_of("api/v1.3.0"));
    assert!(!w.workspace.path().join("pwned").exists());
    no_runner_command_from(&run.stdout, &["::add-mask::x", "::error::boom"]);
    no_runner_command_from(&run.stderr, &["::add-mask::x", "::error::boom"]);
    assert!(w.gh.dispatches().is_empty());
}

#[test]
fn unknown_service_in_a_comment_is_refused() {
    let w = world();
    let run = comment(&w, "/rollback payments");
    assert_eq!(run.code, Some(2));
    assert!(w
        .gh
        .comments()
        .iter()
        .any(|c| c.body.contains("unknown service")));
    assert_eq!(reactions(&w).last().map(String::as_str), Some("confused"));
}

#[allow(dead_code)]
fn workspace(w: &World) -> &Path {
    w.workspace.path()
}

#[test]
fn wait_input_reports_conclusions_in_outputs_and_edits_one_reply() {
    let w = world();
    // Inputs mode: `dispatched` carries each run's id, link and conclusion.
    let run = w.action_with_env(
        "workflow_dispatch",
        None,
        &[("service", "api"), ("wait", "true"), ("timeout", "2m")],
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let dispatched: Vec<Value> = serde_json::from_str(&run.outputs["dispatched"]).expect("json");
    assert_eq!(dispatched.len(), 4);
    for d in &dispatched {
        assert_eq!(d["conclusion"], "success", "{d}");
        assert!(d["run_id"].as_u64().is_some(), "{d}");
        assert!(d["run_url"].as_str().is_some(), "{d}");
    }
    // Comment mode: one reply, edited as the waves finish, not one comment per wave.
    let w = world();
    let ev = w.comment_event("/rollback api", "Codertocat", "created", "User");
    let before = w.gh.comments().len();
    let run = w.action_with_env("issue_comment", Some(&ev), &[("wait", "true")]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let replies = w.gh.comments().len() - before;
    assert_eq!(replies, 1, "{:?}", w.gh.comments());
    let edits =
        w.gh.requests()
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.contains("/issues/comments/"))
            .count();
    assert!(edits >= 2, "the reply was edited {edits} times");
    let reply = w.gh.comments().into_iter().last().expect("reply");
    assert!(reply.body.contains("success"), "{}", reply.body);
}

#[test]
fn unwritable_output_file_is_exit_2_before_any_change() {
    let w = world();
    let dir = w.workspace.path();
    let out = std::process::Command::new(binary())
        .arg("action")
        .env_clear()
        .current_dir(dir)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITHUB_WORKSPACE", dir)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_API_URL", w.gh.url())
        .env("GITHUB_EVENT_NAME", "workflow_dispatch")
        .env("GITHUB_OUTPUT", "/nonexistent-dir/output")
        .env("INPUT_TOKEN", "t")
        .env("INPUT_SERVICE", "api")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITHUB_OUTPUT"));
    assert!(w.gh.requests().is_empty());
}
