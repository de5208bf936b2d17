//! Planning speed and memory (DESIGN §10: "Planning on 100,000 tags: under 100 ms CPU, under
//! 64 MiB peak memory, in release mode"). Plans against an in-memory backend, so what is
//! measured is the core alone: matching every tag name against the template, ordering by SemVer,
//! picking the target and building the plan. Prints a table.
//!
//!     cargo run --release --example plan_bench
//!
//! CPU time is the thread's CPU clock; peak memory is the peak of live heap bytes seen by a
//! counting allocator while planning, on top of what the input itself holds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, FixedOffset};
use rollback::error::Result;
use rollback::manifest;
use rollback::plan::{self, Reader, Request, RunContext};
use rollback::port::{
    Backend, BackendKind, DispatchOutcome, DispatchRequest, ObjectKind, Peeled, Release, RepoInfo,
    TagRef, TagWrite, WorkflowInfo,
};
use rollback::strategy::Strategy;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec; the clock id is a constant.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Tags held in memory, as a listing would return them.
struct Memory {
    tags: BTreeMap<String, Vec<TagRef>>,
}

impl Backend for Memory {
    fn kind(&self) -> BackendKind {
        BackendKind::LocalGit
    }
    fn repo_info(&self, repo: &str) -> Result<RepoInfo> {
        Ok(RepoInfo {
            full_name: repo.into(),
            default_branch: "main".into(),
            can_push: Some(true),
        })
    }
    fn list_tags(&self, repo: &str, prefix: &str) -> Result<Vec<TagRef>> {
        // A listing hands over fresh values; cloning them here is part of the cost.
        if let Some(tags) = self.tags.get(prefix) {
            return Ok(tags.clone());
        }
        // The deploy tags, listed at once by their common prefix.
        let mut deploy = Vec::new();
        for key in self.tags.keys() {
            let name = format!("deploy/production/{}", key.trim_end_matches("/v"));
            if name.starts_with(prefix) {
                deploy.extend(self.get_tag(repo, &name)?);
            }
        }
        Ok(deploy)
    }
    fn get_tag(&self, _repo: &str, name: &str) -> Result<Option<TagRef>> {
        let service = name.rsplit('/').next().unwrap_or("");
        let prefix = format!("{service}/v");
        Ok(self
            .tags
            .get(&prefix)
            .and_then(|t| t.iter().max_by_key(|t| t.object.clone()))
            .map(|t| TagRef {
                name: name.into(),
                ..t.clone()
            }))
    }
    fn peel(&self, _repo: &str, tag: &TagRef) -> Result<Peeled> {
        Ok(Peeled {
            commit: tag.object.clone(),
            date: None,
            message: None,
        })
    }
    fn commit_date(&self, _repo: &str, _sha: &str) -> Result<DateTime<FixedOffset>> {
        Ok(DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("date"))
    }
    fn releases(&self, _repo: &str) -> Result<Option<Vec<Release>>> {
        Ok(None)
    }
    fn read_file(&self, _: &str, _: &str, _: &str) -> Result<Option<String>> {
        Ok(None)
    }
    fn workflow(&self, _: &str, _: &str) -> Result<Option<WorkflowInfo>> {
        Ok(None)
    }
    fn write_tag(&self, w: &TagWrite) -> Result<String> {
        Ok(w.commit.clone())
    }
    fn dispatch(&self, _: &DispatchRequest) -> Result<DispatchOutcome> {
        Ok(DispatchOutcome::default())
    }
}

/// `n` versions of `service`, in a scrambled order, with pre-releases and junk mixed in; the
/// commit sha sorts like the version so the newest is easy to find.
fn tags_for(service: &str, n: usize) -> Vec<TagRef> {
    (0..n)
        .map(|i| {
            let j = (i * 7919) % n; // a permutation when gcd(7919, n) == 1
            let (major, minor, patch) = (j / 10_000, (j / 100) % 100, j % 100);
            let name = match j % 50 {
                0 => format!("{service}/v{major}.{minor}.{patch}-rc.{}", j % 13),
                1 => format!("{service}/vnext-{j}"),
                _ => format!("{service}/v{major}.{minor}.{patch}"),
            };
            TagRef {
                name,
                object: format!("{j:040x}"),
                kind: ObjectKind::Commit,
                peeled: None,
            }
        })
        .collect()
}

fn measure(label: &str, manifest_text: &str, backend: &Memory, service: &str) {
    let m = manifest::parse(manifest_text, "bench.yml").expect("manifest");
    let request = Request {
        service: service.into(),
        strategy: Strategy::Previous,
        environment: None,
        cascade: true,
        dry_run: true,
        reason: None,
        actor: None,
        run: RunContext::default(),
    };
    let mut best = None::<(std::time::Duration, usize, usize, String)>;
    for _ in 0..5 {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let cpu0 = thread_cpu();
        let mut reader = Reader::new(backend, "acme/shop");
        let plan = plan::build(&m, &request, &mut reader).expect("plan");
        let cpu = thread_cpu() - cpu0;
        let peak = PEAK.load(Ordering::Relaxed) - base;
        let summary = format!(
            "{} -> {}",
            plan.steps[0]
                .from
                .as_ref()
                .and_then(|f| f.version.clone())
                .unwrap_or_default(),
            plan.steps[0].to.version.clone().unwrap_or_default()
        );
        let steps = plan.steps.len();
        drop(plan);
        if best.as_ref().is_none_or(|b| cpu < b.0) {
            best = Some((cpu, peak, steps, summary));
        }
    }
    if let Some((cpu, peak, steps, summary)) = best {
        println!(
            "| {label:<34} | {:>9.1} | {:>9.1} | {steps:>5} | {summary} |",
            cpu.as_secs_f64() * 1000.0,
            peak as f64 / (1024.0 * 1024.0)
        );
    }
}

fn main() {
    if cfg!(debug_assertions) {
        eprintln!("note: built without --release; the DESIGN targets are for release builds");
    }
    println!("| case                               | CPU ms    | peak MiB  | steps | root       |");
    println!("| ---------------------------------- | --------- | --------- | ----- | ---------- |");
    for n in [100_000usize, 1_000_000] {
        let backend = Memory {
            tags: BTreeMap::from([("api/v".to_string(), tags_for("api", n + 1))]),
        };
        measure(
            &format!("{n} tags, 1 service"),
            "services:\n  api: {}\n",
            &backend,
            "api",
        );
    }
    // 1,000 services: `s0` is the root, every other depends on a lower-numbered one, so the
    // whole graph cascades from it; each has 20 versions.
    let mut text = String::from("services:\n  s0: {}\n");
    let mut tags = BTreeMap::new();
    tags.insert("s0/v".to_string(), tags_for("s0", 21));
    for i in 1..1000 {
        let deps: Vec<String> = [i / 2, i / 3, i - 1]
            .iter()
            .map(|d| format!("s{d}"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        text.push_str(&format!("  s{i}:\n    depends-on: [{}]\n", deps.join(", ")));
        tags.insert(format!("s{i}/v"), tags_for(&format!("s{i}"), 21));
    }
    measure(
        "1,000-service graph, root s0",
        &text,
        &Memory { tags },
        "s0",
    );
}
