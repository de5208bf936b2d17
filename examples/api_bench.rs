//! API cost and wall time of `rollback plan` and `rollback apply` against the fake GitHub of
//! `fake-github/` with an added per-request latency (DESIGN §10), next to the request minimum
//! §10 describes and a naive baseline measured in the same run. Prints Markdown tables.
//!
//!     cargo build --release && cargo run --release --example api_bench
//!
//! Options: `--latency-ms N` (or `BENCH_LATENCY_MS`, default 50), `--quick` (skip the naive
//! baseline over 100,000 tags: 1,000+ pages, 50+ s at 50 ms), `--tags 100,10000` and
//! `--dependents 0,10` to run a subset. The binary measured is `target/release/rollback`
//! (`$CARGO_TARGET_DIR/release/rollback`, or `ROLLBACK_BIN`); build it first.
//!
//! The naive baseline is what a user would otherwise script with `gh api`:
//!
//! ```sh
//! gh api --paginate "repos/$R/tags?per_page=100"            # every tag, with its commit
//! gh api "repos/$R/git/matching-refs/tags/api/"             # which version tags are annotated
//! for sha in $annotated; do gh api "repos/$R/git/tags/$sha"; done   # peel each (tagger date)
//! # current = the version at deploy/production/api's commit; target = the one below (sort -V)
//! gh api -X PATCH "repos/$R/git/refs/tags/deploy/production/api" -f sha=$target -F force=true
//! for s in api $dependents; do                               # version of each from the listing
//!   gh api -X POST "repos/$R/actions/workflows/deploy-$s.yml/dispatches" -f ref=main -f inputs[version]=$v
//! done
//! ```
//!
//! It is implemented here with a blocking HTTP/1.1 client on `std::net::TcpStream` (one
//! connection per request, like one `gh api` call per request). It is generous to the baseline:
//! it reads no releases, no workflow files and no repository, and checks nothing before writing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fake_github::{sha_for, FakeGitHub};
use serde_json::{json, Value};

const REPO: &str = "acme/shop";
/// Version tags of the root that are annotated (the newest ones, so peels happen).
const ANNOTATED_TOP: usize = 5;
/// Version tags of each dependent.
const DEP_VERSIONS: usize = 3;

struct Options {
    latency: Duration,
    quick: bool,
    tags: Vec<usize>,
    dependents: Vec<usize>,
}

fn list(v: &str) -> Vec<usize> {
    v.split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse()
                .unwrap_or_else(|_| fail(&format!("not a number: {s}")))
        })
        .collect()
}

fn fail(msg: &str) -> ! {
    eprintln!("api_bench: {msg}");
    std::process::exit(2)
}

fn options() -> Options {
    let mut o = Options {
        latency: Duration::from_millis(
            std::env::var("BENCH_LATENCY_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(50),
        ),
        quick: false,
        tags: vec![100, 10_000, 100_000],
        dependents: vec![0, 10, 100],
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| fail(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--quick" => o.quick = true,
            "--latency-ms" => {
                o.latency = Duration::from_millis(list(&value())[0] as u64);
            }
            "--tags" => o.tags = list(&value()),
            "--dependents" => o.dependents = list(&value()),
            "-h" | "--help" => {
                println!(
                    "usage: api_bench [--latency-ms N] [--quick] [--tags 100,10000,100000] [--dependents 0,10,100]"
                );
                std::process::exit(0)
            }
            _ => fail(&format!("unknown argument {a} (try --help)")),
        }
    }
    o
}

/// `target/release/rollback`, found without cargo's help (examples get no `CARGO_BIN_EXE_*`).
fn rollback_bin() -> PathBuf {
    let name = format!("rollback{}", std::env::consts::EXE_SUFFIX);
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("ROLLBACK_BIN") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(t).join("release").join(&name));
    }
    // This example runs from <target>/<profile>/examples/api_bench.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(target) = exe.parent().and_then(Path::parent).and_then(Path::parent) {
            candidates.push(target.join("release").join(&name));
        }
    }
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("release")
            .join(&name),
    );
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            fail(&format!(
                "no release binary found (looked at {}); build it first: cargo build --release",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn version(i: usize) -> String {
    format!("{}.{}.{}", i / 10_000, (i / 100) % 100, i % 100)
}

fn date(i: usize) -> String {
    let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("date")
        + chrono::Duration::minutes(i as i64);
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn workflow_yaml(service: &str) -> String {
    format!(
        "name: Deploy {service}
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
      - run: echo deploy {service}
"
    )
}

fn dep_name(i: usize) -> String {
    format!("dep{i:03}")
}

/// One seeded repository: the commits the deploy tags must point at before each run.
struct World {
    fake: FakeGitHub,
    dir: tempfile::TempDir,
    /// (service, commit its deploy tag points at before a run)
    deployed: Vec<(String, String)>,
    dependents: usize,
    releases: usize,
}

impl World {
    fn new(tags: usize, dependents: usize, releases: usize, latency: Duration) -> World {
        let fake = FakeGitHub::start();
        fake.add_repo(REPO, "main");
        let mut manifest =
            String::from("defaults:\n  workflow: \"deploy-{service}.yml\"\nservices:\n  api: {}\n");
        for d in 0..dependents {
            manifest.push_str(&format!("  {}:\n    depends-on: [api]\n", dep_name(d)));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("rollback.yml"), &manifest).expect("manifest");

        // The root: lightweight tags, the newest ANNOTATED_TOP annotated.
        let light = tags.saturating_sub(ANNOTATED_TOP);
        fake.add_lightweight_tags(
            REPO,
            (0..light).map(|i| {
                let name = format!("api/v{}", version(i));
                let sha = sha_for(&name);
                (name, sha)
            }),
        );
        let mut top = String::new();
        for i in light..tags {
            let name = format!("api/v{}", version(i));
            let sha = sha_for(&name);
            fake.add_annotated_tag(REPO, &name, &sha, &date(i), &format!("Release {name}\n"));
            top = sha;
        }
        let mut deployed = vec![("api".to_string(), top)];
        fake.add_workflow(REPO, "deploy-api.yml", "active", &workflow_yaml("api"));
        for d in 0..dependents {
            let s = dep_name(d);
            let shas: Vec<(String, String)> = (0..DEP_VERSIONS)
                .map(|i| {
                    let name = format!("{s}/v1.{i}.0");
                    let sha = sha_for(&name);
                    (name, sha)
                })
                .collect();
            let top = shas.last().map(|(_, sha)| sha.clone()).unwrap_or_default();
            fake.add_lightweight_tags(REPO, shas);
            fake.add_workflow(
                REPO,
                &format!("deploy-{s}.yml"),
                "active",
                &workflow_yaml(&s),
            );
            deployed.push((s, top));
        }
        // Releases: the newest root versions first, then older names that no longer have a tag.
        for r in 0..releases {
            let name = if r < tags {
                format!("api/v{}", version(tags - 1 - r))
            } else {
                format!("legacy/v0.0.{r}")
            };
            fake.add_release(REPO, &name, false, false, &date(tags + releases - r));
        }
        let w = World {
            fake,
            dir,
            deployed,
            dependents,
            releases,
        };
        w.reseed();
        w.fake.set_latency(latency);
        w
    }

    /// Put every deploy tag back where it was (an annotated tag, as a person or the tool writes it).
    fn reseed(&self) {
        for (s, sha) in &self.deployed {
            self.fake.add_annotated_tag(
                REPO,
                &format!("deploy/production/{s}"),
                sha,
                "2026-06-01T00:00:00Z",
                "deployed by hand\n",
            );
        }
        self.fake.reset_requests();
    }

    /// Runs the real binary; returns (wall time, requests, the JSON report).
    fn run(&self, bin: &Path, command: &str) -> (Duration, usize, Value) {
        self.fake.reset_requests();
        let mut c = Command::new(bin);
        for (k, _) in std::env::vars() {
            if k.starts_with("GITHUB_") || k.starts_with("INPUT_") || k.starts_with("RUNNER_") {
                c.env_remove(k);
            }
        }
        c.env_remove("ROLLBACK_LOG")
            .env("GITHUB_API_URL", self.fake.url())
            .env("GITHUB_TOKEN", "x")
            .current_dir(self.dir.path())
            .args([
                command,
                "--repo",
                REPO,
                "--service",
                "api",
                "--manifest",
                "rollback.yml",
                "--format",
                "json",
            ]);
        let start = Instant::now();
        let out = c.output().expect("run rollback");
        let wall = start.elapsed();
        if !out.status.success() {
            fail(&format!(
                "rollback {command} failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            fail(&format!(
                "rollback {command}: stdout is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            ))
        });
        let steps = report["steps"].as_array().map_or(0, Vec::len);
        if steps != 1 + self.dependents {
            fail(&format!(
                "rollback {command}: {steps} steps, expected {}",
                1 + self.dependents
            ));
        }
        (wall, self.fake.requests().len(), report)
    }

    /// The request minimum of DESIGN §10 for this case, as (plan, apply), twice: as §10 lists it,
    /// and with what the contract requires on top.
    ///
    /// §10's list: the repository once (default branch, push permission: §11.11), one tag
    /// listing per service, at most two peels, releases once per repository (100 a page, so
    /// 500 releases are 5 pages); apply adds the workflow files once each, one write for the
    /// moved deploy tag (the tag object and the ref, §11.12: two requests) and one dispatch per
    /// service.
    ///
    /// On top, per service: its deploy tag, which is in none of those listings, read and peeled
    /// (it is annotated: the tool writes it so, §11.12) to learn the current version; and, on
    /// apply, the workflow's state (`active`, §11.11) besides its file.
    fn minimum(&self) -> ((usize, usize), (usize, usize)) {
        let services = 1 + self.dependents;
        let releases = self.releases.div_ceil(100).max(1);
        let plan = 1 + services + 2 + releases;
        let apply = plan + services + 2 + services;
        ((plan, apply), (plan + 2 * services, apply + 3 * services))
    }
}

// ---- the naive baseline ----

struct Http {
    host: String,
}

struct Answer {
    status: u16,
    link: Option<String>,
    body: Value,
}

impl Http {
    fn new(url: &str) -> Http {
        Http {
            host: url
                .strip_prefix("http://")
                .unwrap_or(url)
                .trim_end_matches('/')
                .to_string(),
        }
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let mut s = TcpStream::connect(&self.host).expect("connect to the fake");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: naive-baseline\r\nAccept: application/vnd.github+json\r\nX-GitHub-Api-Version: 2022-11-28\r\nAuthorization: Bearer x\r\nConnection: close\r\n",
            self.host
        );
        if !body.is_empty() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        s.write_all(req.as_bytes()).expect("send");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("HTTP head");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut payload = raw[split + 4..].to_vec();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut link = None;
        let mut chunked = false;
        for l in lines {
            if let Some((k, v)) = l.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "link" => link = Some(v.trim().to_string()),
                    "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
                    _ => {}
                }
            }
        }
        if chunked {
            payload = dechunk(&payload);
        }
        let body = serde_json::from_slice(&payload).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            fail(&format!("naive baseline: {method} {path}: {status} {body}"));
        }
        Answer { status, link, body }
    }

    /// Every page, following `Link: rel="next"`.
    fn get_all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(p) = next.take() {
            let a = self.send("GET", &p, None);
            if let Value::Array(items) = a.body {
                out.extend(items);
            }
            next = a.link.as_deref().and_then(next_link).map(|u| {
                // An absolute URL: keep the path and query.
                match u.split_once("://") {
                    Some((_, rest)) => rest
                        .find('/')
                        .map_or("/".to_string(), |i| rest[i..].to_string()),
                    None => u,
                }
            });
        }
        out
    }
}

fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&b[start..(start + size).min(b.len())]);
        b = &b[(start + size + 2).min(b.len())..];
    }
    out
}

fn semver_of(name: &str, service: &str) -> Option<semver::Version> {
    name.strip_prefix(service)?
        .strip_prefix("/v")
        .and_then(|v| semver::Version::parse(v).ok())
}

/// The naive script; returns (wall time, requests).
fn naive(w: &World) -> (Duration, usize) {
    w.reseed();
    let http = Http::new(&w.fake.url());
    let before = w.fake.dispatches().len();
    let start = Instant::now();
    let tags = http.get_all(&format!("/repos/{REPO}/tags?per_page=100"));
    let commit_of = |name: &str| {
        tags.iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["commit"]["sha"].as_str())
            .map(str::to_string)
    };
    // Which root version tags are annotated, then peel each one.
    let refs = http.get_all(&format!("/repos/{REPO}/git/matching-refs/tags/api/"));
    for r in &refs {
        if r["object"]["type"] == "tag" {
            let sha = r["object"]["sha"].as_str().unwrap_or_default();
            http.send("GET", &format!("/repos/{REPO}/git/tags/{sha}"), None);
        }
    }
    // Versions of a service, highest first, with their commits (from the /tags listing).
    let versions = |service: &str| {
        let mut v: Vec<(semver::Version, String)> = tags
            .iter()
            .filter_map(|t| {
                let name = t["name"].as_str()?;
                Some((
                    semver_of(name, service)?,
                    t["commit"]["sha"].as_str()?.to_string(),
                ))
            })
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0));
        v
    };
    let root = versions("api");
    let deployed = commit_of("deploy/production/api").expect("deploy tag of api");
    let at = root
        .iter()
        .position(|(_, c)| *c == deployed)
        .expect("a version at the deploy tag");
    let (target, target_sha) = root.get(at + 1).cloned().expect("a previous version");
    http.send(
        "PATCH",
        &format!("/repos/{REPO}/git/refs/tags/deploy/production/api"),
        Some(&json!({"sha": target_sha, "force": true})),
    );
    let mut dispatches = vec![("api".to_string(), target.to_string())];
    for d in 0..w.dependents {
        let s = dep_name(d);
        let current = commit_of(&format!("deploy/production/{s}")).expect("deploy tag");
        let v = versions(&s)
            .into_iter()
            .find(|(_, c)| *c == current)
            .map(|(v, _)| v.to_string())
            .expect("a version at the deploy tag");
        dispatches.push((s, v));
    }
    for (s, v) in dispatches {
        let a = http.send(
            "POST",
            &format!("/repos/{REPO}/actions/workflows/deploy-{s}.yml/dispatches"),
            Some(&json!({"ref": "main", "inputs": {"version": v}})),
        );
        debug_assert!(a.status == 204 || a.status == 200);
    }
    let wall = start.elapsed();
    assert_eq!(w.fake.dispatches().len() - before, 1 + w.dependents);
    (wall, w.fake.requests().len())
}

// ---- binary size and start-up ----

fn startup(bin: &Path) -> Duration {
    let mut runs: Vec<Duration> = (0..20)
        .map(|_| {
            let start = Instant::now();
            let out = Command::new(bin)
                .arg("--version")
                .output()
                .expect("rollback --version");
            assert!(out.status.success(), "rollback --version failed");
            start.elapsed()
        })
        .collect();
    runs.sort();
    (runs[9] + runs[10]) / 2
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn main() {
    if cfg!(debug_assertions) {
        eprintln!("note: built without --release; the fake and the baseline run slower");
    }
    let o = options();
    let bin = rollback_bin();
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    let version = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("binary: {} ({version})", bin.display());
    println!(
        "size: {:.2} MiB ({} bytes, stripped); start-up `rollback --version`: {} (median of 20)",
        size as f64 / (1024.0 * 1024.0),
        thousands(size as usize),
        ms_precise(startup(&bin))
    );
    println!(
        "latency: {} ms per request, added by the fake after answering",
        o.latency.as_millis()
    );
    println!();
    println!("| case | tags | dependents | releases | requests plan (min §10 / +deploy tags) | requests apply (min §10 / +deploy tags) | wall plan | wall apply | naive requests | naive wall | naive/rollback requests | naive/rollback wall |");
    println!(
        "| ---- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mut case = 0;
    {
        // Warm the page cache and the loader: the first run of a binary is slower.
        let w = World::new(100, 0, 0, Duration::ZERO);
        w.run(&bin, "plan");
    }
    let mut breakdown = None;
    for &tags in &o.tags {
        for &dependents in &o.dependents {
            let mut naive_result: Option<(Duration, usize)> = None;
            for releases in [0, 500] {
                case += 1;
                let w = World::new(tags, dependents, releases, o.latency);
                let (plan_wall, plan_req, _) = w.run(&bin, "plan");
                w.reseed();
                let (apply_wall, apply_req, report) = w.run(&bin, "apply");
                let done = report["steps"]
                    .as_array()
                    .map_or(0, |s| s.iter().filter(|s| s["status"] == "done").count());
                if done != 1 + dependents || w.fake.dispatches().len() != 1 + dependents {
                    // (plan dispatches nothing, so these are the apply's)
                    fail(&format!(
                        "apply: {done} steps done, expected {}",
                        1 + dependents
                    ));
                }
                if tags == *o.tags.iter().max().unwrap_or(&0)
                    && dependents == 10.min(*o.dependents.iter().max().unwrap_or(&0))
                    && releases == 500
                {
                    breakdown = Some((case, kinds(&w.fake)));
                }
                let ((lit_plan, lit_apply), (min_plan, min_apply)) = w.minimum();
                let skip_naive = o.quick && tags >= 100_000;
                let naive_cell = if skip_naive {
                    None
                } else {
                    if naive_result.is_none() {
                        naive_result = Some(naive(&w));
                    }
                    naive_result
                };
                let (nr, nw, rr, rw) = match naive_cell {
                    Some((wall, req)) => (
                        format!("{}{}", thousands(req), if releases > 0 { " ¹" } else { "" }),
                        ms(wall),
                        format!("{:.1}×", req as f64 / apply_req as f64),
                        format!("{:.1}×", wall.as_secs_f64() / apply_wall.as_secs_f64()),
                    ),
                    None => (
                        "skipped (--quick)".into(),
                        "—".into(),
                        "—".into(),
                        "—".into(),
                    ),
                };
                println!(
                    "| {case} | {} | {dependents} | {releases} | {plan_req} ({lit_plan} / {min_plan}) | {apply_req} ({lit_apply} / {min_apply}) | {} | {} | {nr} | {nw} | {rr} | {rw} |",
                    thousands(tags),
                    ms(plan_wall),
                    ms(apply_wall),
                );
                drop(w);
            }
        }
    }
    println!();
    println!("(min §10 / +deploy tags): the request minimum as DESIGN §10 lists it (the repository once; one tag listing per service; two peels; releases 100 a page; on apply the workflow files once each, the tag object and the ref of the moved deploy tag, one dispatch per service), then with what the contract adds per service: its annotated deploy tag read and peeled, and on apply the workflow's state.");
    println!("¹ the baseline reads no releases: the same figure as without them (measured once per tags × dependents).");
    if let Some((case, k)) = breakdown {
        println!();
        println!("requests of `apply` in case {case}, by operation:");
        println!();
        println!("| operation | requests |");
        println!("| --- | ---: |");
        for (op, n) in k {
            println!("| {op} | {n} |");
        }
    }
}

fn ms_precise(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The fake's log of the last run, counted by OpenAPI operation.
fn kinds(fake: &FakeGitHub) -> Vec<(String, usize)> {
    let mut m = std::collections::BTreeMap::<String, usize>::new();
    for r in fake.requests() {
        let op = r.operation_id.unwrap_or_else(|| {
            if r.path.contains("/contents/") {
                "repos/get-content".to_string()
            } else {
                format!("{} {}", r.method, r.path)
            }
        });
        *m.entry(op).or_default() += 1;
    }
    m.into_iter().collect()
}
