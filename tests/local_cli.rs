//! End-to-end tests of the CLI on the local git backend: real repositories, the real binary.

mod support;

use support::{json, repo_from_tsv, rollback, Repo};

fn plan_json(repo: &Repo, args: &[&str]) -> serde_json::Value {
    let out = rollback()
        .args(["plan", "--git"])
        .arg(repo.path())
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "plan {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn to_version(plan: &serde_json::Value) -> String {
    plan["steps"][0]["to"]["version"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// `rollback apply --git <repo> ARGS`.
fn apply(repo: &Repo, args: &[&str]) -> std::process::Output {
    rollback()
        .args(["apply", "--git"])
        .arg(repo.path())
        .args(args)
        .output()
        .expect("runs")
}

/// Runs and expects exit 2 with nothing changed; returns stderr.
fn refused(repo: &Repo, args: &[&str]) -> String {
    let before = repo.refs();
    let out = rollback()
        .arg("--git")
        .arg(repo.path())
        .args(args)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {stderr}");
    assert_eq!(repo.refs(), before, "{args:?} changed refs");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    stderr
}

const SIMPLE: &str = "services:\n  api:\n    tag: \"v{version}\"\n";

#[test]
fn previous_of_182_shuffled_tags() {
    let repo = Repo::new();
    repo.manifest(SIMPLE);
    let mut order: Vec<u32> = (1..=182).collect();
    // Tag creation order is shuffled (a fixed permutation), so neither date nor name order helps.
    order.sort_by_key(|i| (i * 7919) % 182);
    let mut last = String::new();
    for i in order {
        let sha = repo.release(&[&format!("v1.0.{i}")]);
        if i == 182 {
            last = sha;
        }
    }
    repo.tag("deploy/production/api", &last);
    let plan = plan_json(&repo, &["--service", "api"]);
    assert_eq!(to_version(&plan), "1.0.181");
    assert_eq!(plan["steps"][0]["from"]["version"], "1.0.182");
    assert_eq!(plan["schema"], 1);
    assert_eq!(plan["strategy"], serde_json::json!({"kind": "previous"}));
}

fn versions_repo(versions: &[&str]) -> Repo {
    let repo = Repo::new();
    repo.manifest("services:\n  api: {}\n");
    for v in versions {
        repo.release(&[&format!("api/v{v}")]);
    }
    let top = versions.last().expect("versions");
    repo.tag(
        "deploy/production/api",
        &repo.sha_of(&format!("api/v{top}")),
    );
    repo
}

#[test]
fn to_exact_requirement_and_missing() {
    let repo = versions_repo(&["1.1.0", "1.2.0", "1.2.5", "1.3.0", "1.3.7", "1.4.0"]);
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "api", "--to", "1.2.0"])),
        "1.2.0"
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "api", "--to", "~1.3"])),
        "1.3.7"
    );
    assert_eq!(
        to_version(&plan_json(
            &repo,
            &["--service", "api", "--to", ">=1.2, <1.2.5"]
        )),
        "1.2.0"
    );
    assert_eq!(
        to_version(&plan_json(
            &repo,
            &["--service", "api", "--to", "api/v1.1.0"]
        )),
        "1.1.0"
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "api", "--steps", "2"])),
        "1.3.0"
    );
    let e = refused(&repo, &["apply", "--service", "api", "--to", "1.2.3"]);
    assert!(e.contains("1.2.3 has no tag"), "{e}");
}

#[test]
fn prerelease_order_and_opt_in() {
    let repo = Repo::new();
    repo.manifest(
        "services:\n  api: {}\n  beta:\n    tag: \"api/v{version}\"\n    prereleases: true\n",
    );
    for v in ["1.0.0-rc.9", "1.0.0-rc.10", "1.0.0-rc.11"] {
        repo.release(&[&format!("api/v{v}")]);
    }
    repo.release(&["api/v0.9.0"]);
    let top = repo.release(&["api/v1.0.0"]);
    repo.tag("deploy/production/api", &top);
    repo.tag("deploy/production/beta", &top);
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "api"])),
        "0.9.0"
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "beta"])),
        "1.0.0-rc.11"
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "beta", "--steps", "2"])),
        "1.0.0-rc.10"
    );
}

const DIAMOND: &str = r#"
services:
  api:
    command: ["sh", "-c", "echo {service} {version} >> order.log"]
  worker:
    depends-on: [api]
    command: ["sh", "-c", "echo {service} {version} >> order.log"]
  admin:
    depends-on: [api]
    command: ["sh", "-c", "echo {service} {version} >> order.log"]
  web:
    depends-on: [api, worker]
    command: ["sh", "-c", "echo {service} {version} >> order.log"]
"#;

fn diamond() -> Repo {
    let repo = Repo::new();
    repo.manifest(DIAMOND);
    repo.release(&["api/v1.0.0", "worker/v1.0.0", "admin/v1.0.0", "web/v1.0.0"]);
    // Annotated version tags: the deploy tag must move to the commit, not the tag object.
    let c = repo.commit("api 1.1.0");
    repo.annotated("api/v1.1.0", &c);
    for s in ["api", "worker", "admin", "web"] {
        let v = if s == "api" { "1.1.0" } else { "1.0.0" };
        repo.tag(
            &format!("deploy/production/{s}"),
            &repo.sha_of(&format!("{s}/v{v}")),
        );
    }
    repo
}

#[test]
fn diamond_waves_in_plan() {
    let repo = diamond();
    let plan = plan_json(&repo, &["--service", "api"]);
    let steps: Vec<(String, u64, String)> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap_or("").to_string(),
                s["wave"].as_u64().unwrap_or(99),
                s["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("api".into(), 0, "rollback".into()),
            ("admin".into(), 1, "redeploy".into()),
            ("worker".into(), 1, "redeploy".into()),
            ("web".into(), 2, "redeploy".into()),
        ]
    );
    let no_cascade = plan_json(&repo, &["--service", "api", "--no-cascade"]);
    assert_eq!(no_cascade["steps"].as_array().map(Vec::len), Some(1));
}

#[test]
fn apply_moves_deploy_tag_to_peeled_commit_and_runs_commands_in_order() {
    let repo = diamond();
    let before_api = repo.sha_of("deploy/production/api");
    let out = apply(
        &repo,
        &["--service", "api", "--format", "json", "--reason", "500s"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    let target = repo.sha_of("api/v1.0.0");
    assert_eq!(repo.sha_of("deploy/production/api"), target);
    let root = &report["steps"][0];
    assert_eq!(root["status"], "done");
    assert_eq!(root["deploy_tag_sha_before"], before_api.as_str());
    assert_eq!(root["deploy_tag_sha_after"], target.as_str());
    let log = std::fs::read_to_string(repo.path().join("order.log")).expect("commands ran");
    assert_eq!(log, "api 1.0.0\nadmin 1.0.0\nworker 1.0.0\nweb 1.0.0\n");
    // The deploy tag is an annotated audit record (§11.12).
    let msg = repo.git(&["cat-file", "tag", "deploy/production/api"]);
    assert!(msg.contains("rollback api 1.1.0 -> 1.0.0"), "{msg}");
    assert!(msg.contains("reason: 500s"), "{msg}");
    assert!(msg.contains(&format!("to-sha: {target}")), "{msg}");
}

#[test]
fn failing_command_stops_the_plan_with_exit_1() {
    let repo = diamond();
    let m = DIAMOND.replace(
        "  admin:\n    depends-on: [api]\n    command: [\"sh\", \"-c\", \"echo {service} {version} >> order.log\"]",
        "  admin:\n    depends-on: [api]\n    command: [\"false\"]",
    );
    repo.manifest(&m);
    let out = apply(&repo, &["--service", "api", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    let status: Vec<&str> = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(status, vec!["done", "failed", "not_started", "not_started"]);
    assert!(report["steps"][1]["error"]
        .as_str()
        .unwrap_or("")
        .contains("admin"));
    let log = std::fs::read_to_string(repo.path().join("order.log")).expect("api ran");
    assert_eq!(log, "api 1.0.0\n");
}

#[test]
fn already_there_is_exit_0_and_skipped() {
    let repo = versions_repo(&["1.0.0", "1.1.0"]);
    let out = apply(
        &repo,
        &["--service", "api", "--to", "1.1.0", "--format", "json"],
    );
    assert!(out.status.success());
    let plan = json(&out.stdout);
    assert_eq!(plan["steps"][0]["status"], "skipped");
    assert_eq!(plan["steps"].as_array().map(Vec::len), Some(1));
}

#[test]
fn missing_deploy_tag_is_created_from_the_highest() {
    let repo = Repo::new();
    repo.manifest("services:\n  api: {}\n");
    repo.release(&["api/v1.0.0"]);
    repo.release(&["api/v1.1.0"]);
    let plan = plan_json(&repo, &["--service", "api"]);
    assert_eq!(plan["steps"][0]["from"], serde_json::Value::Null);
    assert_eq!(to_version(&plan), "1.0.0");
    rollback()
        .args(["apply", "--git"])
        .arg(repo.path())
        .args(["--service", "api", "--to", "1.1.0"])
        .assert()
        .success();
    assert_eq!(
        repo.sha_of("deploy/production/api"),
        repo.sha_of("api/v1.1.0")
    );
}

#[test]
fn bad_inputs_are_one_sentence_exit_2_and_change_nothing() {
    let repo = diamond();
    let cases: &[(&[&str], &str)] = &[
        (&["apply", "--service", "nope"], "unknown service `nope`"),
        (
            &["apply", "--service", "api", "--steps", "0"],
            "`--steps` must be 1 or more",
        ),
        (
            &["apply", "--service", "api", "--steps", "2", "--to", "1.0.0"],
            "cannot be used together",
        ),
        (
            &["apply", "--service", "api", "--to", "$(touch pwned)"],
            "is not a version",
        ),
        (
            &["apply", "--service", "api", "--to", "9.9.9"],
            "has no tag",
        ),
        (
            &["apply", "--service", "api", "--steps", "5"],
            "steps asked",
        ),
        (
            &["apply", "--service", "api", "--strategy", "version"],
            "needs `--to",
        ),
        (
            &["apply", "--service", "api", "--environment", "moon"],
            "unknown environment `moon`",
        ),
    ];
    for (args, needle) in cases {
        let e = refused(&repo, args);
        assert!(e.contains(needle), "{args:?}: expected {needle:?} in {e}");
        assert!(!repo.path().join("pwned").exists());
    }
    // Flags clap refuses are exit 2 as well.
    for args in [
        &["apply", "--service", "api", "--steps", "-1"][..],
        &["apply", "--service", "api", "--steps", "x"],
    ] {
        let before = repo.refs();
        let out = rollback()
            .arg("--git")
            .arg(repo.path())
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(repo.refs(), before);
    }
}

#[test]
fn broken_manifests_are_exit_2_naming_file_key_and_line() {
    let repo = diamond();
    let cases = [
        ("services:\n  api: [unclosed\n", "rollback.yml"),
        (
            "services:\n  api:\n    depends_on: [db]\n",
            "did you mean `depends-on`",
        ),
        (
            "services:\n  api:\n    depends-on: [web]\n  web:\n    depends-on: [api]\n",
            "api -> web -> api",
        ),
        ("services:\n  api:\n    depends-on: [ghost]\n", "ghost"),
        (
            "services:\n  api:\n    tag: \"api-{servce}\"\n",
            "unknown placeholder",
        ),
        ("services:\n  api:\n    tag: \"api-latest\"\n", "{version}"),
        (
            "services:\n  api:\n    deploy-tag: \"deploy/..bad\"\n",
            "deploy-tag",
        ),
    ];
    for (yaml, needle) in cases {
        repo.manifest(yaml);
        let e = refused(&repo, &["apply", "--service", "api"]);
        assert!(e.contains(needle), "{yaml:?}: expected {needle:?} in {e}");
        assert!(
            e.contains(":3:")
                || e.contains(":2:")
                || e.contains(":4:")
                || e.contains(":5:")
                || needle == "deploy-tag"
                || needle == "{version}"
                || needle == "unknown placeholder",
            "{yaml:?}: no line in {e}"
        );
        let out = rollback()
            .arg("--git")
            .arg(repo.path())
            .arg("validate")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2));
    }
}

#[test]
fn missing_repository_is_exit_2() {
    let out = rollback()
        .args(["plan", "--git", "/nonexistent/repo", "--service", "api"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("no such directory"), "{e}");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = rollback()
        .args(["plan", "--git"])
        .arg(dir.path())
        .args(["--service", "api"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn graph_formats() {
    let repo = diamond();
    for (f, needle) in [
        ("text", "web"),
        ("mermaid", "n1 --> n3"),
        ("dot", "\"api\" -> \"worker\""),
    ] {
        let out = rollback()
            .arg("--git")
            .arg(repo.path())
            .args(["graph", "--format", f])
            .output()
            .expect("runs");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains(needle), "{f}");
    }
}

// ---- real tag data from ../shared/real-tags ----

fn real(file: &str, manifest: &str, deployed_tag: &str) -> Repo {
    let (repo, _) = repo_from_tsv(file);
    repo.manifest(manifest);
    repo.tag("deploy/production/svc", &repo.sha_of(deployed_tag));
    repo
}

#[test]
fn real_otel_otelhttp_previous_ignores_backport_tagged_later() {
    let repo = real(
        "open-telemetry__opentelemetry-go-contrib.tsv",
        "services:\n  svc:\n    tag: \"instrumentation/net/http/otelhttp/v{version}\"\n",
        "instrumentation/net/http/otelhttp/v0.40.0",
    );
    let plan = plan_json(&repo, &["--service", "svc"]);
    assert_eq!(to_version(&plan), "0.39.0");
    assert_eq!(
        plan["steps"][0]["to"]["tag"],
        "instrumentation/net/http/otelhttp/v0.39.0"
    );
}

#[test]
fn real_otel_root_module_among_prefixed_tags() {
    let repo = real(
        "open-telemetry__opentelemetry-go-contrib.tsv",
        "services:\n  svc:\n    tag: \"v{version}\"\n",
        "v1.45.0",
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "svc"])),
        "1.44.0"
    );
}

#[test]
fn real_changesets_cli_mixed_annotated_and_lightweight() {
    let repo = real(
        "changesets__changesets.tsv",
        "services:\n  svc:\n    tag: \"@changesets/cli@{version}\"\n",
        "@changesets/cli@3.0.1",
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "svc"])),
        "3.0.0"
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "svc", "--steps", "2"])),
        "2.31.1"
    );
}

#[test]
fn real_vue_prerelease_deployed() {
    let m = "services:\n  svc:\n    tag: \"v{version}\"\n  pre:\n    tag: \"v{version}\"\n    prereleases: true\n";
    let repo = real("vuejs__core.tsv", m, "v3.6.0-rc.5");
    repo.tag("deploy/production/pre", &repo.sha_of("v3.6.0-rc.5"));
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "svc"])),
        "3.5.41"
    );
    assert_eq!(
        to_version(&plan_json(&repo, &["--service", "pre"])),
        "3.6.0-rc.4"
    );
}

#[test]
fn real_rust_analyzer_has_no_version_tags() {
    let (repo, _) = repo_from_tsv("rust-lang__rust-analyzer.tsv");
    repo.manifest("services:\n  svc:\n    tag: \"v{version}\"\n");
    let e = refused(&repo, &["plan", "--service", "svc"]);
    assert!(e.contains("no version tags found"), "{e}");
}

// ---- bugs found by trying to break it (each with the input that showed it) ----

#[test]
fn empty_flags_are_refused_not_read_as_defaults() {
    let repo = diamond();
    for args in [
        &["apply", "--service", "api", "--to", "   "][..],
        &["apply", "--service", "api", "--to", ""],
        &["apply", "--service", "api", "--environment", ""],
        &["apply", "--service", ""],
    ] {
        let e = refused(&repo, args);
        assert!(e.contains("is empty"), "{args:?}: {e}");
    }
}

#[test]
fn a_command_that_cannot_start_is_a_preflight_error() {
    let repo = diamond();
    repo.manifest(&DIAMOND.replacen(
        "command: [\"sh\", \"-c\", \"echo {service} {version} >> order.log\"]",
        "command: [\"/no/such/cmd\"]",
        1,
    ));
    let e = refused(&repo, &["apply", "--service", "api"]);
    assert!(e.contains("preflight failed: api: `command`"), "{e}");
    repo.manifest(&DIAMOND.replacen(
        "command: [\"sh\", \"-c\", \"echo {service} {version} >> order.log\"]",
        "command: [\"no-such-program-anywhere\"]",
        1,
    ));
    let e = refused(&repo, &["apply", "--service", "api"]);
    assert!(e.contains("not found on PATH"), "{e}");
}

#[test]
fn a_stopped_apply_says_so_and_shows_every_deploy_tag() {
    let repo = diamond();
    repo.manifest(&DIAMOND.replacen(
        "command: [\"sh\", \"-c\", \"echo {service} {version} >> order.log\"]",
        "command: [\"false\"]",
        1,
    ));
    let web = repo.sha_of("deploy/production/web");
    let out = apply(&repo, &["--service", "api"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("rollback stopped, a step failed"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "web: deploy/production/web {} -> {}",
            &web[..12],
            &web[..12]
        )),
        "{text}"
    );
    // Without a GitHub run id, "re-run the job" would roll back one further: the help says so.
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("without GITHUB_RUN_ID there is no re-run detection"),
        "{e}"
    );
    // The JSON report of a stopped apply carries every deploy tag's sha before and after.
    let repo = diamond();
    repo.manifest(&DIAMOND.replacen(
        "command: [\"sh\", \"-c\", \"echo {service} {version} >> order.log\"]",
        "command: [\"false\"]",
        1,
    ));
    let out = apply(&repo, &["--service", "api", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out.stdout);
    for s in report["steps"].as_array().expect("steps") {
        assert!(s["deploy_tag_sha_before"].is_string(), "{s}");
        assert!(s["deploy_tag_sha_after"].is_string(), "{s}");
    }
}

#[test]
fn command_output_cannot_act_as_a_workflow_command() {
    let repo = Repo::new();
    repo.manifest("services:\n  api:\n    command: [\"sh\", \"-c\", \"echo '::error::from the command'; echo '::add-mask::x' >&2\"]\n");
    repo.release(&["api/v1.0.0"]);
    let top = repo.release(&["api/v1.1.0"]);
    repo.tag("deploy/production/api", &top);
    let out = apply(&repo, &["--service", "api"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error::from the command"),
        "the output is relayed: {err}"
    );
    for l in err
        .lines()
        .chain(String::from_utf8_lossy(&out.stdout).lines())
    {
        assert!(!l.trim_start().starts_with("::"), "{l:?}");
    }
}

#[test]
fn manifest_with_a_byte_order_mark_is_read() {
    let repo = versions_repo(&["1.0.0", "1.1.0"]);
    repo.manifest("\u{feff}services:\n  api: {}\n");
    let out = rollback()
        .arg("--git")
        .arg(repo.path())
        .arg("validate")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn detached_head_does_not_block_a_plan() {
    let repo = versions_repo(&["1.0.0", "1.1.0"]);
    repo.git(&["checkout", "-q", "--detach", "HEAD"]);
    let plan = plan_json(&repo, &["--service", "api"]);
    assert_eq!(to_version(&plan), "1.0.0");
    assert_eq!(plan["steps"][0]["ref"], "HEAD");
}

#[test]
fn unreachable_github_is_one_plain_sentence() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("m.yml"), "services:\n  api: {}\n").expect("manifest");
    let out = rollback()
        .current_dir(dir.path())
        .args(["--manifest", "m.yml", "--repo", "o/r", "--max-wait", "2s"])
        .args([
            "--api-url",
            "http://127.0.0.1:9",
            "--token",
            "x",
            "plan",
            "--service",
            "api",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !e.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal: {e:?}"
    );
    assert!(
        e.contains("error: GitHub at http://127.0.0.1:9 did not answer"),
        "{e}"
    );
    let out = rollback()
        .current_dir(dir.path())
        .args(["--manifest", "m.yml", "--repo", "o/r"])
        .args([
            "--api-url",
            "127.0.0.1:9",
            "--token",
            "x",
            "plan",
            "--service",
            "api",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn deploy_tags_that_git_or_a_release_would_suffer_are_refused() {
    let repo = versions_repo(&["1.0.0", "1.1.0"]);
    let cases = [
        ("services:\n  api:\n    deploy-tag: \"api/v1.1.0\"\n", "also a version tag of `api`"),
        ("services:\n  api:\n    deploy-tag: \"-x/{service}\"\n", "may not start with `-`"),
        (
            "services:\n  api:\n    deploy-tag: \"deploy/a\"\n  web:\n    deploy-tag: \"deploy/a/x\"\n",
            "git cannot store both",
        ),
        (
            "environments: [production, staging]\nservices:\n  api:\n    deploy-tag: \"deploy/{environment}/a\"\n  web:\n    deploy-tag: \"deploy/staging/a\"\n",
            "(`api` in staging, `web` in production)",
        ),
    ];
    for (yaml, needle) in cases {
        repo.manifest(yaml);
        let e = refused(&repo, &["apply", "--service", "api"]);
        assert!(e.contains(needle), "{yaml}: expected {needle:?} in {e}");
    }
}

#[test]
fn undo_lists_every_moved_deploy_tag() {
    let repo = Repo::new();
    repo.manifest("services:\n  api: {}\n  web:\n    depends-on: [api]\n    cascade: rollback\n");
    repo.release(&["api/v1.0.0", "web/v1.0.0"]);
    let top = repo.release(&["api/v1.1.0", "web/v1.1.0"]);
    repo.tag("deploy/production/api", &top);
    repo.tag("deploy/production/web", &top);
    let out = apply(&repo, &["--service", "api"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("apply --service api --environment production --to 1.1.0 --no-cascade"),
        "{text}"
    );
    assert!(
        text.contains("apply --service web --environment production --to 1.1.0 --no-cascade"),
        "{text}"
    );
    assert_eq!(
        repo.sha_of("deploy/production/web"),
        repo.sha_of("web/v1.0.0")
    );
}

#[test]
fn manifest_that_is_not_a_regular_file_or_too_large_is_refused() {
    let repo = versions_repo(&["1.0.0", "1.1.0"]);
    let out = rollback()
        .arg("--git")
        .arg(repo.path())
        .args(["--manifest", "/dev/zero", "validate"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
    let big = repo.write("big.yml", &"# padding\n".repeat(500_000));
    let out = rollback()
        .arg("--git")
        .arg(repo.path())
        .arg("--manifest")
        .arg(&big)
        .arg("validate")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));
}
