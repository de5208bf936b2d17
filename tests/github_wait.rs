//! `--wait` end to end (issue 5): runs whose status moves queued -> in_progress -> completed as
//! they are polled, in the fake GitHub; the real binary waits wave by wave.

use fake_github::FakeGitHub;
use serde_json::Value;

const REPO: &str = "acme/shop";

fn deploy_yml(with_id: bool) -> String {
    let (run_name, id_input) = if with_id {
        (
            "run-name: deploy ${{ inputs.version }} (${{ inputs.rollback_id }})\n",
            "      rollback_id:\n        required: false\n        type: string\n",
        )
    } else {
        ("", "")
    };
    format!(
        "name: deploy\n{run_name}on:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n        type: string\n{id_input}jobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
    )
}

/// The diamond: api (workflow deploy-api.yml) <- worker, admin; web <- api, worker.
const MANIFEST: &str = r#"
services:
  api:
    workflow: deploy-api.yml
  worker:
    depends-on: [api]
  admin:
    depends-on: [api]
  web:
    depends-on: [api, worker]
"#;

struct World {
    gh: FakeGitHub,
    dir: tempfile::TempDir,
}

fn world(gh: FakeGitHub, with_id: bool) -> World {
    gh.add_repo(REPO, "main");
    gh.add_workflow(REPO, "deploy-api.yml", "active", &deploy_yml(with_id));
    gh.add_workflow(REPO, "deploy.yml", "active", &deploy_yml(with_id));
    let base = gh.new_commit(REPO, "2026-11-01T10:00:00Z");
    for s in ["worker", "admin", "web"] {
        gh.add_lightweight_tag(REPO, &format!("{s}/v2.0.0"), &base);
        gh.add_lightweight_tag(REPO, &format!("deploy/production/{s}"), &base);
    }
    gh.add_lightweight_tag(REPO, "api/v1.0.0", &base);
    let top = gh.new_commit(REPO, "2026-11-02T10:00:00Z");
    gh.add_lightweight_tag(REPO, "api/v1.1.0", &top);
    gh.add_lightweight_tag(REPO, "deploy/production/api", &top);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rollback.yml"), MANIFEST).expect("manifest");
    World { gh, dir }
}

struct Out {
    code: Option<i32>,
    json: Value,
    stderr: String,
}

impl World {
    fn apply(&self, extra: &[&str]) -> Out {
        let mut c = assert_cmd::Command::cargo_bin("rollback").expect("binary");
        for (k, _) in std::env::vars() {
            if k.starts_with("GITHUB_") || k.starts_with("INPUT_") {
                c.env_remove(k);
            }
        }
        c.env("GITHUB_API_URL", self.gh.url())
            .env("GITHUB_TOKEN", "t")
            .env("ROLLBACK_POLL_INTERVAL", "20ms")
            .current_dir(self.dir.path())
            .args([
                "--manifest",
                "rollback.yml",
                "--repo",
                REPO,
                "--max-wait",
                "10s",
            ])
            .args(["apply", "--service", "api", "--wait", "--format", "json"])
            .args(extra);
        let out = c.output().expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        Out {
            code: out.status.code(),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }

    fn dispatch_count(&self) -> usize {
        self.gh
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/dispatches"))
            .count()
    }
}

fn statuses(json: &Value) -> Vec<(String, String)> {
    json["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| {
                    (
                        s["service"].as_str().unwrap_or("").to_string(),
                        s["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn diamond_waits_wave_by_wave() {
    let w = world(FakeGitHub::start(), false);
    w.gh.set_run_steps(2, 2);
    let out = w.apply(&[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let steps = out.json["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 4);
    for s in &steps {
        assert_eq!(s["conclusion"], "success", "{s}");
        assert!(
            s["run_url"]
                .as_str()
                .is_some_and(|u| u.contains("/actions/runs/")),
            "{s}"
        );
    }
    // Every wave-1 dispatch comes after the root's run was last read (and seen completed).
    let reqs = w.gh.requests();
    let root_run = steps[0]["run_id"].as_u64().expect("root run id");
    let last_root_poll = reqs
        .iter()
        .rposition(|r| r.method == "GET" && r.path.ends_with(&format!("/actions/runs/{root_run}")))
        .expect("root run polled");
    let dispatches: Vec<usize> = reqs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "POST" && r.path.ends_with("/dispatches"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(dispatches.len(), 4);
    assert!(
        dispatches[1] > last_root_poll,
        "wave 1 dispatched before the root run completed"
    );
    let root =
        w.gh.runs()
            .into_iter()
            .find(|r| r.id == root_run)
            .expect("run");
    assert!(
        root.polls >= 3,
        "the root run was read {} times",
        root.polls
    );
}

#[test]
fn root_run_failure_stops_the_cascade() {
    let w = world(FakeGitHub::start(), false);
    w.gh.set_workflow_conclusion(REPO, "deploy-api.yml", "failure");
    let out = w.apply(&[]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(w.dispatch_count(), 1);
    assert_eq!(
        statuses(&out.json),
        vec![
            ("api".to_string(), "failed".to_string()),
            ("admin".into(), "not_started".into()),
            ("worker".into(), "not_started".into()),
            ("web".into(), "not_started".into()),
        ]
    );
    assert_eq!(out.json["steps"][0]["conclusion"], "failure");
    assert!(out.stderr.contains("ended `failure`"), "{}", out.stderr);
}

#[test]
fn ghes_without_run_details_finds_runs_by_rollback_id() {
    let w = world(FakeGitHub::start_ghes(), true);
    let out = w.apply(&[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // One refused dispatch (nothing ran), then exactly one run per service.
    assert_eq!(w.gh.runs().len(), 4);
    assert_eq!(w.gh.dispatches().len(), 4);
    for s in out.json["steps"].as_array().cloned().unwrap_or_default() {
        assert_eq!(s["conclusion"], "success", "{s}");
        let run = s["run_id"].as_u64().expect("run id");
        let r =
            w.gh.runs()
                .into_iter()
                .find(|r| r.id == run)
                .expect("run exists");
        assert!(
            r.display_title
                .contains(&format!("-{}", s["service"].as_str().unwrap_or(""))),
            "{} matched run titled {}",
            s["service"],
            r.display_title
        );
    }
}

#[test]
fn ghes_without_rollback_id_matches_approximately_and_says_so() {
    let w = world(FakeGitHub::start_ghes(), false);
    let out = w.apply(&["--no-cascade"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(w.gh.runs().len(), 1);
    assert_eq!(out.json["steps"][0]["conclusion"], "success");
}

#[test]
fn timeout_names_the_run_and_dispatches_nothing_further() {
    let w = world(FakeGitHub::start(), false);
    w.gh.set_run_steps(1, 100_000);
    let out = w.apply(&["--timeout", "1s"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("timed out waiting for api (run "),
        "{}",
        out.stderr
    );
    assert_eq!(w.dispatch_count(), 1);
    let s = statuses(&out.json);
    assert_eq!(s[1].1, "not_started");
}

#[test]
fn rerun_of_a_failed_job_dispatches_only_what_did_not_run() {
    let w = world(FakeGitHub::start(), true);
    let run = |attempt: &str| {
        let mut c = assert_cmd::Command::cargo_bin("rollback").expect("binary");
        for (k, _) in std::env::vars() {
            if k.starts_with("GITHUB_") || k.starts_with("INPUT_") {
                c.env_remove(k);
            }
        }
        c.env("GITHUB_API_URL", w.gh.url())
            .env("GITHUB_TOKEN", "t")
            .env("GITHUB_RUN_ID", "777")
            .env("GITHUB_RUN_ATTEMPT", attempt)
            .current_dir(w.dir.path())
            .args(["--manifest", "rollback.yml", "--repo", REPO])
            .args(["apply", "--service", "api", "--format", "json"]);
        c.output().expect("runs")
    };
    // Attempt 1: the third dispatch (worker, wave 1) is refused with a 500 before processing.
    w.gh.inject(
        fake_github::Fault::new(500)
            .method("POST")
            .path_contains("/dispatches")
            .skip(2),
    );
    let first = run("1");
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(w.gh.runs().len(), 2, "api and admin ran");
    // Attempt 2 (a re-run of the failed job): api and admin are not dispatched again.
    let second = run("2");
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let mut titles: Vec<String> = w.gh.runs().into_iter().map(|r| r.display_title).collect();
    titles.sort();
    assert_eq!(titles.len(), 4, "{titles:?}");
    for s in ["api", "admin", "worker", "web"] {
        assert_eq!(
            titles
                .iter()
                .filter(|t| t.ends_with(&format!("-{s})")))
                .count(),
            1,
            "{s}: {titles:?}"
        );
    }
    // And the root went one version back, not two.
    let commit =
        w.gh.tag(REPO, "deploy/production/api")
            .expect("tag")
            .commit_sha;
    assert_eq!(
        Some(commit),
        w.gh.tag(REPO, "api/v1.0.0").map(|t| t.commit_sha)
    );
}
