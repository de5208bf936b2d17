//! End-to-end tests of the GitHub backend: the real binary against the fake GitHub of
//! `fake-github/` (stateful, checked against GitHub's OpenAPI description; a request GitHub
//! would not accept fails the test when the fake is dropped).

use std::path::PathBuf;

use fake_github::{FakeGitHub, Fault, RecordedRequest};
use serde_json::Value;

const REPO: &str = "acme/shop";

const DEPLOY_YML: &str = "name: Deploy
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
      - run: echo deploy
";

struct World {
    fake: FakeGitHub,
    dir: tempfile::TempDir,
    day: std::cell::Cell<u32>,
}

impl World {
    fn new(manifest: &str) -> World {
        Self::with(FakeGitHub::start(), "main", manifest)
    }

    fn with(fake: FakeGitHub, branch: &str, manifest: &str) -> World {
        fake.add_repo(REPO, branch);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("rollback.yml"), manifest).expect("manifest");
        World {
            fake,
            dir,
            day: std::cell::Cell::new(0),
        }
    }

    fn date(&self) -> String {
        let d = self.day.get() + 1;
        self.day.set(d);
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("date")
            + chrono::Duration::days(d as i64);
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// A version tag on a new commit; returns the commit sha.
    fn version(&self, repo: &str, tag: &str, annotated: bool) -> String {
        let date = self.date();
        let sha = self.fake.new_commit(repo, &date);
        if annotated {
            self.fake
                .add_annotated_tag(repo, tag, &sha, &date, &format!("Release {tag}\n"));
        } else {
            self.fake.add_lightweight_tag(repo, tag, &sha);
        }
        sha
    }

    /// Versions `{service}/v1.0.0`..`{service}/v1.{n-1}.0`; returns their commits.
    fn versions(&self, repo: &str, service: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| self.version(repo, &format!("{service}/v1.{i}.0"), true))
            .collect()
    }

    fn deploy(&self, repo: &str, service: &str, commit: &str) {
        let name = format!("deploy/production/{service}");
        let date = self.date();
        self.fake
            .add_annotated_tag(repo, &name, commit, &date, "deployed by hand\n");
    }

    fn deployed(&self, repo: &str, service: &str) -> Option<String> {
        self.fake
            .tag(repo, &format!("deploy/production/{service}"))
            .map(|t| t.commit_sha)
    }

    fn cmd(&self, token: &str) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("rollback").expect("binary");
        for (k, _) in std::env::vars() {
            if k.starts_with("GITHUB_") || k.starts_with("INPUT_") || k.starts_with("RUNNER_") {
                c.env_remove(k);
            }
        }
        c.env_remove("ROLLBACK_LOG")
            .env("GITHUB_API_URL", self.fake.url())
            .env("GITHUB_TOKEN", token)
            .current_dir(self.dir.path())
            .args([
                "--manifest",
                "rollback.yml",
                "--repo",
                REPO,
                "--max-wait",
                "20s",
            ]);
        c
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_as("test-token", args, env)
    }

    fn run_as(&self, token: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(token);
        c.args(args).args(["--format", "json"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }

    fn count(&self, method: &str, path_contains: &str) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.contains(path_contains))
            .count()
    }
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
    fn ok(&self) -> Value {
        assert_eq!(self.code, Some(0), "{self:?}");
        self.json()
    }
}

fn step<'a>(plan: &'a Value, service: &str) -> &'a Value {
    plan["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["service"] == service))
        .unwrap_or_else(|| panic!("no step {service} in {plan}"))
}

fn mutating(fake: &FakeGitHub) -> Vec<String> {
    fake.mutating_requests()
        .iter()
        .map(|r: &RecordedRequest| format!("{} {}", r.method, r.path))
        .collect()
}

/// One service `api` with versions 1.0.0–1.2.0 (annotated), deployed at 1.2.0, and its workflow.
fn one_service() -> (World, Vec<String>) {
    let w = World::new("services:\n  api: {}\n");
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    let c = w.versions(REPO, "api", 3);
    w.deploy(REPO, "api", &c[2]);
    (w, c)
}

// ---- the cases of issue 3 ----

#[test]
fn annotated_tags_are_peeled_and_the_deploy_tag_moves_to_the_target_commit() {
    let (w, c) = one_service();

    let plan = w.run(&["apply", "--service", "api"], &[]).ok();
    let api = step(&plan, "api");
    assert_eq!(api["from"]["version"], "1.2.0");
    assert_eq!(api["from"]["sha"], c[2].as_str());
    assert_eq!(api["to"]["version"], "1.1.0");
    assert_eq!(api["to"]["sha"], c[1].as_str());
    assert_eq!(api["status"], "done");

    let tag = w
        .fake
        .tag(REPO, "deploy/production/api")
        .expect("deploy tag");
    assert_eq!(tag.commit_sha, c[1]);
    let object = w.fake.tag_object(&tag.ref_sha).expect("annotated");
    assert_eq!(
        object.object_type, "commit",
        "must point at the commit itself"
    );
    assert_eq!(object.object_sha, c[1]);
    assert!(object.message.starts_with("rollback api 1.2.0 -> 1.1.0\n"));
    assert!(object.message.contains("\nto-sha: "));

    assert_eq!(
        mutating(&w.fake),
        [
            format!("POST /repos/{REPO}/git/tags"),
            format!("PATCH /repos/{REPO}/git/refs/tags/deploy/production/api"),
            format!("POST /repos/{REPO}/actions/workflows/deploy.yml/dispatches"),
        ]
    );
    let patch = &w.fake.mutating_requests()[1];
    assert_eq!(
        patch.body.as_ref().map(|b| b["force"].clone()),
        Some(Value::Bool(true))
    );
    let d = w.fake.dispatches();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].git_ref, "main");
    assert_eq!(d[0].inputs["version"], "1.1.0");
    assert!(d[0].return_run_details);
    assert_eq!(api["run_id"], d[0].run_id);
}

#[test]
fn drafts_and_prereleases_are_not_eligible_and_latest_decides_nothing() {
    let w = World::new("services:\n  api: {}\n");
    let c: Vec<String> = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"]
        .iter()
        .map(|v| w.version(REPO, &format!("api/v{v}"), false))
        .collect();
    let hotfix = w.version(REPO, "api/v1.0.1", false);
    let _ = hotfix;
    w.deploy(REPO, "api", &c[4]);
    w.fake
        .add_release(REPO, "api/v1.1.0", false, false, "2026-03-01T00:00:00Z");
    w.fake
        .add_release(REPO, "api/v1.2.0", false, true, "2026-03-02T00:00:00Z");
    w.fake
        .add_release(REPO, "api/v1.3.0", true, false, "2026-03-03T00:00:00Z");
    w.fake
        .add_release(REPO, "api/v1.4.0", false, false, "2026-03-04T00:00:00Z");
    // GitHub's "latest": the newest by date, an old-line hotfix.
    w.fake
        .add_release(REPO, "api/v1.0.1", false, false, "2026-06-01T00:00:00Z");

    let plan = w.run(&["plan", "--service", "api"], &[]).ok();
    assert_eq!(step(&plan, "api")["to"]["version"], "1.1.0");
    assert_eq!(w.count("GET", "/releases"), 1, "releases are read once");
    assert_eq!(w.count("GET", "/releases/latest"), 0);
    assert!(w.fake.mutating_requests().is_empty());
}

#[test]
fn dispatches_go_to_the_default_branch_trunk_unless_the_manifest_says_otherwise() {
    let w = World::with(
        FakeGitHub::start(),
        "trunk",
        "services:\n  api: {}\n  web:\n    depends-on: [api]\n    ref: release\n",
    );
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    let head = w.fake.head(REPO);
    w.fake.set_branch(REPO, "release", &head);
    w.fake
        .add_file(REPO, ".github/workflows/deploy.yml", "release", DEPLOY_YML);
    let a = w.versions(REPO, "api", 2);
    w.deploy(REPO, "api", &a[1]);
    let b = w.versions(REPO, "web", 1);
    w.deploy(REPO, "web", &b[0]);

    w.run(&["apply", "--service", "api"], &[]).ok();
    let refs: Vec<(String, String)> = w
        .fake
        .dispatches()
        .iter()
        .map(|d| {
            (
                d.inputs["version"].as_str().unwrap_or("").to_string(),
                d.git_ref.clone(),
            )
        })
        .collect();
    assert_eq!(
        refs,
        [
            ("1.0.0".to_string(), "trunk".to_string()),
            ("1.0.0".to_string(), "release".to_string())
        ]
    );
}

/// A plan whose dependent `web` has a bad workflow: exit 2, nothing written, and the message
/// names the workflow and the problem.
fn refused_by_preflight(manifest: &str, web_workflow: Option<&str>, expect: &[&str]) {
    let w = World::new(manifest);
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    if let Some(yaml) = web_workflow {
        w.fake.add_workflow(REPO, "deploy-web.yml", "active", yaml);
    }
    let a = w.versions(REPO, "api", 2);
    w.deploy(REPO, "api", &a[1]);
    let b = w.versions(REPO, "web", 1);
    w.deploy(REPO, "web", &b[0]);
    let before = w.deployed(REPO, "api");
    let r = w.run(&["apply", "--service", "api"], &[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(mutating(&w.fake).is_empty(), "{:?}", mutating(&w.fake));
    assert_eq!(w.deployed(REPO, "api"), before);
    for e in expect {
        assert!(r.stderr.contains(e), "stderr lacks {e:?}: {}", r.stderr);
    }
}

const WEB: &str =
    "services:\n  api: {}\n  web:\n    depends-on: [api]\n    workflow: deploy-web.yml\n";

#[test]
fn preflight_refuses_an_input_the_workflow_does_not_declare() {
    refused_by_preflight(
        &format!("{WEB}    inputs:\n      version: \"{{version}}\"\n      color: blue\n"),
        Some(DEPLOY_YML),
        &["deploy-web.yml", "color", "preflight"],
    );
}

#[test]
fn preflight_refuses_a_required_input_not_sent() {
    let yaml = DEPLOY_YML.replace(
        "        type: string\n",
        "        type: string\n      region:\n        required: true\n",
    );
    refused_by_preflight(WEB, Some(&yaml), &["deploy-web.yml", "region"]);
}

#[test]
fn preflight_refuses_a_workflow_without_workflow_dispatch() {
    let yaml = "name: Deploy\non:\n  push:\n    branches: [main]\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n";
    refused_by_preflight(WEB, Some(yaml), &["deploy-web.yml", "workflow_dispatch"]);
}

#[test]
fn preflight_refuses_a_workflow_that_does_not_exist() {
    refused_by_preflight(WEB, None, &["deploy-web.yml", "does not exist"]);
}

#[test]
fn one_502_on_the_tag_read_is_retried_and_the_rollback_completes() {
    let (w, c) = one_service();
    w.fake.inject(
        Fault::new(502)
            .method("GET")
            .path_contains("/git/matching-refs/"),
    );
    w.run(&["apply", "--service", "api"], &[]).ok();
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(c[1].as_str()));
    assert_eq!(w.count("GET", "/git/matching-refs/"), 2);
}

#[test]
fn a_secondary_rate_limit_with_retry_after_is_waited_out() {
    let (w, _) = one_service();
    // On the dispatch itself: a refusal for rate limiting proves nothing ran, so it is re-sent.
    w.fake.inject(
        Fault::new(403)
            .method("POST")
            .path_contains("/dispatches")
            .header("retry-after", "1")
            .body(serde_json::json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
            })),
    );
    let started = std::time::Instant::now();
    w.run(&["apply", "--service", "api"], &[]).ok();
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(w.count("POST", "/dispatches"), 2);
    assert_eq!(w.fake.dispatches().len(), 1);
}

#[test]
fn a_rate_limit_longer_than_max_wait_is_a_clear_error_before_any_change() {
    let w = World::new("services:\n  api: {}\n");
    let c = w.versions(REPO, "api", 2);
    w.deploy(REPO, "api", &c[1]);
    w.fake.inject(Fault::rate_limited(3600).method("GET"));
    let r = w.run(&["plan", "--service", "api"], &[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("rate limit"), "{}", r.stderr);
    assert!(r.stderr.contains("--max-wait"), "{}", r.stderr);
}

#[test]
fn diamond_third_dispatch_500_stops_without_resending() {
    // db <- auth, db <- cache, {auth, cache} <- api
    let w = World::new(
        "services:\n  db: {}\n  auth:\n    depends-on: [db]\n  cache:\n    depends-on: [db]\n  api:\n    depends-on: [auth, cache]\n",
    );
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    for s in ["db", "auth", "cache", "api"] {
        let c = w.versions(REPO, s, 2);
        w.deploy(REPO, s, &c[1]);
    }
    w.fake.inject(
        Fault::new(500)
            .method("POST")
            .path_contains("/dispatches")
            .skip(2),
    );
    let r = w.run(&["apply", "--service", "db"], &[]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_eq!(w.count("POST", "/dispatches"), 3, "no blind re-send");
    let plan = r.json();
    assert_eq!(step(&plan, "db")["status"], "done");
    assert_eq!(step(&plan, "auth")["status"], "done");
    assert_eq!(step(&plan, "cache")["status"], "failed");
    assert_eq!(step(&plan, "api")["status"], "not_started");
    assert!(step(&plan, "db")["deploy_tag_sha_before"].is_string());
    assert!(step(&plan, "db")["deploy_tag_sha_after"].is_string());
    assert!(r.stderr.contains("cache"), "{}", r.stderr);
    assert!(
        r.stderr.contains("may or may not have started"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_read_only_token_is_refused_naming_contents_write_and_nothing_moves() {
    let (w, c) = one_service();
    w.fake.add_read_only_token("read-only");
    let r = w.run_as("read-only", &["apply", "--service", "api"], &[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("`contents: write`"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Resource not accessible by integration"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("read-only"),
        "the token is never printed"
    );
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(c[2].as_str()));
    assert!(w.fake.dispatches().is_empty());
}

#[test]
fn push_false_is_a_preflight_error_with_zero_mutating_requests() {
    let (w, _) = one_service();
    w.fake
        .set_repo_permissions(REPO, false, false, false, false, true);
    let r = w.run(&["apply", "--service", "api"], &[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("`contents: write`"), "{}", r.stderr);
    assert!(r.stderr.contains("`actions: write`"), "{}", r.stderr);
    assert!(mutating(&w.fake).is_empty());
}

#[test]
fn a_refused_dispatch_names_actions_write() {
    let (w, _) = one_service();
    w.fake.inject(
        Fault::new(403)
            .method("POST")
            .path_contains("/dispatches")
            .body(serde_json::json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event",
                "status": "403"
            })),
    );
    let r = w.run(&["apply", "--service", "api"], &[]);
    assert_eq!(r.code, Some(1), "the deploy tag had moved: {r:?}");
    assert!(r.stderr.contains("`actions: write`"), "{}", r.stderr);
    assert_eq!(step(&r.json(), "api")["status"], "failed");
}

#[test]
fn the_same_run_id_twice_goes_back_once_and_two_run_ids_go_back_twice() {
    let setup = || {
        let w = World::new("services:\n  api: {}\n");
        w.fake
            .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
        let c = w.versions(REPO, "api", 4);
        w.deploy(REPO, "api", &c[3]);
        (w, c)
    };
    let apply = ["apply", "--service", "api"];

    let (w, c) = setup();
    w.run(
        &apply,
        &[("GITHUB_RUN_ID", "111"), ("GITHUB_RUN_ATTEMPT", "1")],
    )
    .ok();
    let again = w
        .run(
            &apply,
            &[("GITHUB_RUN_ID", "111"), ("GITHUB_RUN_ATTEMPT", "2")],
        )
        .ok();
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(c[2].as_str()));
    assert_eq!(step(&again, "api")["to"]["version"], "1.2.0");
    assert_eq!(step(&again, "api")["from"]["version"], "1.3.0");
    assert_eq!(
        w.count("PATCH", "/git/refs/"),
        1,
        "a deploy tag already at the target is not moved again"
    );

    let (w, c) = setup();
    w.run(&apply, &[("GITHUB_RUN_ID", "111")]).ok();
    w.run(&apply, &[("GITHUB_RUN_ID", "222")]).ok();
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(c[1].as_str()));
}

// ---- more of the contract ----

#[test]
fn an_ambiguous_ref_write_is_read_back_not_resent() {
    let (w, c) = one_service();
    // The ref moves, but the answer is a 502.
    w.fake.inject(
        Fault::new(502)
            .method("PATCH")
            .path_contains("/git/refs/tags/deploy/")
            .after_processing(true),
    );
    let plan = w.run(&["apply", "--service", "api"], &[]).ok();
    assert_eq!(step(&plan, "api")["status"], "done");
    assert_eq!(w.count("PATCH", "/git/refs/"), 1, "never re-sent");
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(c[1].as_str()));
    assert_eq!(w.fake.dispatches().len(), 1);

    // The ref does not move and the answer is a 502: the step fails, nothing is dispatched.
    let (w, c) = one_service();
    w.fake.inject(
        Fault::new(502)
            .method("PATCH")
            .path_contains("/git/refs/tags/deploy/"),
    );
    let r = w.run(&["apply", "--service", "api"], &[]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("did not land"), "{}", r.stderr);
    assert_eq!(w.count("PATCH", "/git/refs/"), 1);
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(c[2].as_str()));
    assert!(w.fake.dispatches().is_empty());
}

#[test]
fn a_missing_deploy_tag_is_created_with_post_git_refs() {
    let w = World::new("services:\n  api: {}\n");
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    let c = w.versions(REPO, "api", 3);
    let plan = w.run(&["apply", "--service", "api"], &[]).ok();
    assert!(step(&plan, "api")["from"].is_null());
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(c[1].as_str()));
    assert_eq!(w.count("POST", "/git/refs"), 1);
    assert_eq!(w.count("PATCH", "/git/refs"), 0);
}

#[test]
fn ghes_keeps_the_api_v3_prefix_and_resends_once_without_return_run_details() {
    let w = World::with(
        FakeGitHub::start_ghes(),
        "main",
        "services:\n  api: {}\n  web:\n    depends-on: [api]\n",
    );
    assert!(w.fake.url().ends_with("/api/v3"));
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    let a = w.versions(REPO, "api", 2);
    w.deploy(REPO, "api", &a[1]);
    let b = w.versions(REPO, "web", 1);
    w.deploy(REPO, "web", &b[0]);
    w.run(&["apply", "--service", "api"], &[]).ok();
    // api: refused with return_run_details, resent without; web: sent without at once.
    assert_eq!(w.count("POST", "/dispatches"), 3);
    let d = w.fake.dispatches();
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|d| !d.return_run_details));
    assert_eq!(w.deployed(REPO, "api").as_deref(), Some(a[0].as_str()));
}

#[test]
fn matching_refs_link_pagination_is_followed() {
    let w = World::new("services:\n  api: {}\n");
    let c = w.versions(REPO, "api", 5);
    w.deploy(REPO, "api", &c[4]);
    w.fake.set_matching_refs_page_size(Some(2));
    let plan = w.run(&["plan", "--service", "api"], &[]).ok();
    assert_eq!(step(&plan, "api")["to"]["version"], "1.3.0");
    assert_eq!(w.count("GET", "/git/matching-refs/"), 3);
}

#[test]
fn dependents_in_another_repository_are_read_and_written_there() {
    let w = World::new(
        "services:\n  api: {}\n  web:\n    repo: acme/web\n    tag: \"v{version}\"\n    depends-on: [api]\n    cascade: rollback\n",
    );
    w.fake.add_repo("acme/web", "main");
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    w.fake
        .add_workflow("acme/web", "deploy.yml", "active", DEPLOY_YML);
    // web 2.0.0 is older than api 1.0.0: it is what ran with it.
    let web0 = w.version("acme/web", "v2.0.0", true);
    let a0 = w.version(REPO, "api/v1.0.0", true);
    let a1 = w.version(REPO, "api/v1.1.0", true);
    let web1 = w.version("acme/web", "v2.1.0", true);
    w.deploy(REPO, "api", &a1);
    w.deploy("acme/web", "web", &web1);
    let _ = a0;
    let plan = w.run(&["apply", "--service", "api"], &[]).ok();
    assert_eq!(step(&plan, "web")["repository"], "acme/web");
    assert_eq!(step(&plan, "web")["to"]["version"], "2.0.0");
    assert_eq!(
        w.deployed("acme/web", "web").as_deref(),
        Some(web0.as_str())
    );
    assert_eq!(w.fake.dispatches()[1].repo, "acme/web");

    // The same plan with a token that cannot see acme/web: refused before any change.
    let w2 =
        World::new("services:\n  api: {}\n  web:\n    repo: acme/web\n    depends-on: [api]\n");
    w2.fake.add_repo("acme/web", "main");
    let c = w2.versions(REPO, "api", 2);
    w2.deploy(REPO, "api", &c[1]);
    w2.fake.hide_repo_from_token("test-token", "acme/web");
    let r = w2.run(&["apply", "--service", "api"], &[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("cannot reach acme/web"), "{}", r.stderr);
    assert!(r.stderr.contains("contents: read"), "{}", r.stderr);
    assert!(mutating(&w2.fake).is_empty());
}

#[test]
fn the_workflow_gets_rollback_id_when_it_declares_it() {
    let w = World::new("services:\n  api: {}\n");
    let yaml = DEPLOY_YML.replace(
        "        type: string\n",
        "        type: string\n      rollback_id:\n        required: true\n        type: string\n",
    );
    w.fake.add_workflow(REPO, "deploy.yml", "active", &yaml);
    let c = w.versions(REPO, "api", 2);
    w.deploy(REPO, "api", &c[1]);
    w.run(
        &["apply", "--service", "api"],
        &[("GITHUB_RUN_ID", "77"), ("GITHUB_RUN_ATTEMPT", "3")],
    )
    .ok();
    assert_eq!(w.fake.dispatches()[0].inputs["rollback_id"], "77-3-api");
}

#[test]
fn without_a_token_it_is_exit_2_with_one_sentence() {
    let w = World::new("services:\n  api: {}\n");
    let mut c = w.cmd("");
    c.env_remove("GITHUB_TOKEN")
        .args(["plan", "--service", "api"]);
    let out = c.output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: no GitHub token"), "{stderr}");
    assert!(w.fake.requests().is_empty());
}

// ---- cost ----

/// Requests of one rollback of a service with 10 dependents, with `tags` version tags each.
fn requests_for(tags: usize) -> usize {
    let mut m = String::from("services:\n  api: {}\n");
    for i in 0..10 {
        m.push_str(&format!("  dep{i}:\n    depends-on: [api]\n"));
    }
    let w = World::new(&m);
    w.fake
        .add_workflow(REPO, "deploy.yml", "active", DEPLOY_YML);
    for s in std::iter::once("api".to_string()).chain((0..10).map(|i| format!("dep{i}"))) {
        let shas: Vec<(String, String)> = (0..tags)
            .map(|i| {
                let name = format!("{s}/v{}.{}.0", i / 100, i % 100);
                (name.clone(), fake_github::sha_for(&name))
            })
            .collect();
        let top = shas.last().map(|(_, s)| s.clone()).unwrap_or_default();
        w.fake.add_lightweight_tags(REPO, shas);
        w.deploy(REPO, &s, &top);
    }
    w.run(&["apply", "--service", "api"], &[]).ok();
    assert_eq!(w.fake.dispatches().len(), 11);
    w.fake.requests().len()
}

#[test]
fn request_count_does_not_grow_with_the_number_of_tags() {
    let small = requests_for(100);
    let large = requests_for(10_000);
    eprintln!("one service with 10 dependents: {small} requests (100 tags), {large} (10,000 tags)");
    assert_eq!(small, large);
}

// ---- real tag data ----

fn real_tags(file: &str) -> Vec<(String, bool, String, String)> {
    let shared = std::env::var_os("ROLLBACK_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = shared.join("real-tags").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the real tag data {} is missing: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{l}");
            (
                f[0].to_string(),
                f[1] == "tag",
                f[3].to_string(),
                f[4].to_string(),
            )
        })
        .collect()
}

/// Serves a real tag set with the deploy tag at `deployed`; returns the plan (or the run).
fn real(file: &str, template: &str, deployed: &str, extra: &str) -> Run {
    let w = World::new(&format!(
        "services:\n  svc:\n    tag: \"{template}\"\n{extra}"
    ));
    let rows = real_tags(file);
    for (tag, annotated, commit, date) in &rows {
        w.fake.add_commit(REPO, commit, date);
        if *annotated {
            w.fake
                .add_annotated_tag(REPO, tag, commit, date, "release\n");
        } else {
            w.fake.add_lightweight_tag(REPO, tag, commit);
        }
    }
    if let Some((_, _, commit, _)) = rows.iter().find(|r| r.0 == deployed) {
        w.fake
            .add_lightweight_tag(REPO, "deploy/production/svc", commit);
    }
    w.run(&["plan", "--service", "svc"], &[])
}

fn real_target(file: &str, template: &str, deployed: &str, extra: &str) -> String {
    let plan = real(file, template, deployed, extra).ok();
    step(&plan, "svc")["to"]["version"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn real_tags_otel_contrib_module() {
    assert_eq!(
        real_target(
            "open-telemetry__opentelemetry-go-contrib.tsv",
            "instrumentation/net/http/otelhttp/v{version}",
            "instrumentation/net/http/otelhttp/v0.40.0",
            ""
        ),
        "0.39.0"
    );
}

#[test]
fn real_tags_otel_contrib_root_module() {
    assert_eq!(
        real_target(
            "open-telemetry__opentelemetry-go-contrib.tsv",
            "v{version}",
            "v1.45.0",
            ""
        ),
        "1.44.0"
    );
}

#[test]
fn real_tags_changesets_cli() {
    assert_eq!(
        real_target(
            "changesets__changesets.tsv",
            "@changesets/cli@{version}",
            "@changesets/cli@3.0.1",
            ""
        ),
        "3.0.0"
    );
}

#[test]
fn real_tags_vue_with_and_without_prereleases() {
    assert_eq!(
        real_target("vuejs__core.tsv", "v{version}", "v3.6.0-rc.5", ""),
        "3.5.41"
    );
    assert_eq!(
        real_target(
            "vuejs__core.tsv",
            "v{version}",
            "v3.6.0-rc.5",
            "    prereleases: true\n"
        ),
        "3.6.0-rc.4"
    );
}

#[test]
fn real_tags_rust_analyzer_has_no_version_tags() {
    let r = real("rust-lang__rust-analyzer.tsv", "v{version}", "", "");
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("no version tags"), "{}", r.stderr);
}

#[test]
fn without_a_workspace_manifest_it_is_read_from_the_default_branch() {
    let w = World::with(FakeGitHub::start(), "trunk", "unused: true\n");
    std::fs::remove_file(w.dir.path().join("rollback.yml")).expect("rm");
    w.fake.add_file(
        REPO,
        ".github/rollback.yml",
        "trunk",
        "services:\n  api: {}\n",
    );
    let c = w.versions(REPO, "api", 2);
    w.deploy(REPO, "api", &c[1]);
    let mut cmd = assert_cmd::Command::cargo_bin("rollback").expect("binary");
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_") || k.starts_with("INPUT_") || k.starts_with("RUNNER_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env_remove("ROLLBACK_LOG")
        .env("GITHUB_REPOSITORY", REPO)
        .current_dir(w.dir.path())
        .args(["--api-url", &w.fake.url(), "--token", "flag-token"])
        .args(["plan", "--service", "api", "--format", "json"])
        .output()
        .expect("runs");
    let r = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    };
    assert_eq!(step(&r.ok(), "api")["to"]["version"], "1.0.0");
    let contents: Vec<RecordedRequest> = w
        .fake
        .requests()
        .into_iter()
        .filter(|q| q.path.contains("/contents/"))
        .collect();
    assert_eq!(contents.len(), 1);
    assert_eq!(contents[0].query, "ref=trunk");
    assert!(w.fake.requests().iter().all(|q| q
        .authorization
        .as_deref()
        .is_some_and(|a| a.contains("flag-token"))));
}
