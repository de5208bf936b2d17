//! The plan: every step a rollback will take, computed before anything changes (DESIGN §4, §5,
//! §9, §11.8–12). Planning reads through the port and never writes; `execute` applies the value
//! this module returns, and a dry run only prints it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::error::{Error, Kind, Result};
use crate::graph;
use crate::manifest::{Cascade, Manifest, Service};
use crate::port::{Backend, Peeled, Release, RepoInfo, TagRef};
use crate::strategy::{Catalog, Peel, Rules, Strategy};
use crate::template::{Placeholder, Values};
use crate::version::TagPattern;

/// The GitHub Actions run this invocation belongs to (for the audit record and re-runs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunContext {
    pub run_id: Option<String>,
    pub run_attempt: Option<String>,
    pub run_url: Option<String>,
}

/// One validated rollback request, whatever front end it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub service: String,
    pub strategy: Strategy,
    pub environment: Option<String>,
    pub cascade: bool,
    pub dry_run: bool,
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub run: RunContext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Rollback,
    Redeploy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Planned,
    Done,
    Skipped,
    Failed,
    NotStarted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRef {
    pub version: Option<String>,
    pub tag: Option<String>,
    pub sha: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StrategyJson {
    Previous,
    Steps { steps: u32 },
    Version { to: String },
}

impl From<&Strategy> for StrategyJson {
    fn from(s: &Strategy) -> Self {
        match s {
            Strategy::Previous => StrategyJson::Previous,
            Strategy::Steps(n) => StrategyJson::Steps { steps: *n },
            Strategy::Version(to) => StrategyJson::Version { to: to.clone() },
        }
    }
}

/// What applying a step did (DESIGN §11.16); absent from a plan that was not applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub deploy_tag_sha_before: Option<String>,
    pub deploy_tag_sha_after: Option<String>,
    pub run_id: Option<u64>,
    pub run_url: Option<String>,
    pub conclusion: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub service: String,
    pub repository: String,
    pub action: Action,
    pub wave: usize,
    pub from: Option<VersionRef>,
    pub to: VersionRef,
    pub deploy_tag: String,
    pub workflow: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub inputs: BTreeMap<String, String>,
    /// The argv run instead of a dispatch on the local backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    pub status: Status,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(skip)]
    pub internal: StepInternal,
}

/// What the executor needs that the JSON does not show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepInternal {
    /// The deploy tag exists now (update it) or not (create it).
    pub deploy_tag_exists: bool,
    /// The commit the deploy tag points at now.
    pub deploy_tag_commit: Option<String>,
    /// A re-run of the same GitHub Actions run already moved this deploy tag (§11.12).
    pub rerun: bool,
    /// Where the service's `depends-on` points within the plan (for graphs).
    pub depends_on: Vec<String>,
    /// Preflight found that the workflow declares `rollback_id`: the executor sends it (§11.13).
    pub sends_rollback_id: bool,
    /// … and puts it in its `run-name`, so the run it starts can be matched exactly by title.
    pub run_name_has_rollback_id: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub schema: u32,
    pub repository: String,
    pub environment: String,
    pub service: String,
    pub strategy: StrategyJson,
    pub dry_run: bool,
    pub steps: Vec<Step>,
    /// Things the report should say (not part of the JSON contract).
    #[serde(skip)]
    pub notes: Vec<String>,
    /// Flags that name the backend (`--git PATH`), repeated in the undo command.
    #[serde(skip)]
    pub backend_flags: String,
}

impl Plan {
    pub fn root(&self) -> Option<&Step> {
        self.steps.first()
    }

    /// Nothing to do: the root is already at its target (§11.9).
    pub fn is_noop(&self) -> bool {
        self.steps.len() == 1 && self.steps[0].status == Status::Skipped
    }

    /// What undoes this rollback (DESIGN §6.5): one line per deploy tag it moves (or moved),
    /// in plan order — a command where the old position had a version, else what to do by hand.
    pub fn undo(&self) -> Vec<String> {
        let flags = if self.backend_flags.is_empty() {
            String::new()
        } else {
            format!("{} ", self.backend_flags)
        };
        self.steps
            .iter()
            .filter(|s| s.action == Action::Rollback)
            .filter(|s| match s.status {
                Status::Planned | Status::Done => true,
                // A failed step may have moved its tag before its redeploy failed.
                Status::Failed => s
                    .outcome
                    .as_ref()
                    .is_some_and(|o| o.deploy_tag_sha_after != o.deploy_tag_sha_before),
                Status::Skipped | Status::NotStarted => false,
            })
            .map(|s| match &s.from {
                Some(VersionRef {
                    version: Some(v), ..
                }) => format!(
                    "rollback {flags}apply --service {} --environment {} --to {v} --no-cascade",
                    s.service, self.environment
                ),
                Some(VersionRef { sha, .. }) => format!(
                    "point the deploy tag `{}` back at {sha} (no version tag stands there)",
                    s.deploy_tag
                ),
                None => format!(
                    "delete the deploy tag `{}` (it did not exist before)",
                    s.deploy_tag
                ),
            })
            .collect()
    }

    pub fn json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// The audit record written into each deploy tag's annotated message (§11.12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditRecord {
    pub service: String,
    pub fields: BTreeMap<String, String>,
}

impl AuditRecord {
    pub fn parse(message: &str) -> Option<AuditRecord> {
        let mut lines = message.lines();
        let first = lines.next()?;
        let mut words = first.split_whitespace();
        if words.next()? != "rollback" {
            return None;
        }
        let service = words.next()?.to_string();
        let fields = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(AuditRecord { service, fields })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The message for a step of a plan, as `execute` writes it.
    pub fn message(
        plan: &Plan,
        step: &Step,
        request_run: &RunContext,
        actor: &str,
        reason: &str,
    ) -> String {
        let from_version = step
            .from
            .as_ref()
            .and_then(|f| f.version.clone())
            .unwrap_or_default();
        let from_sha = step
            .from
            .as_ref()
            .map(|f| f.sha.clone())
            .unwrap_or_default();
        let to_version = step.to.version.clone().unwrap_or_default();
        let arrow_from = if from_version.is_empty() {
            "(none)"
        } else {
            from_version.as_str()
        };
        // One line of text: control characters (newlines included) become spaces.
        let one_line = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        let lines = [
            ("run-id", request_run.run_id.clone().unwrap_or_default()),
            (
                "run-attempt",
                request_run.run_attempt.clone().unwrap_or_default(),
            ),
            ("run-url", request_run.run_url.clone().unwrap_or_default()),
            ("actor", one_line(actor)),
            ("reason", one_line(reason)),
            ("root", plan.service.clone()),
            ("environment", plan.environment.clone()),
            ("from-version", from_version.clone()),
            ("from-sha", from_sha),
            ("to-version", to_version.clone()),
            ("to-sha", step.to.sha.clone()),
        ];
        let mut m = format!(
            "rollback {} {} -> {}\n\n",
            step.service, arrow_from, to_version
        );
        for (k, v) in lines {
            m.push_str(&format!("{k}: {v}\n"));
        }
        m
    }
}

/// `Peel` through the backend, for one repository.
struct BackendPeel<'a> {
    backend: &'a dyn Backend,
    repo: String,
}

impl Peel for BackendPeel<'_> {
    fn peel(&self, tag: &TagRef) -> Result<Peeled> {
        self.backend.peel(&self.repo, tag)
    }
    fn commit_date(&self, sha: &str) -> Result<DateTime<FixedOffset>> {
        self.backend.commit_date(&self.repo, sha)
    }
}

/// The deploy tag as found: where it points, and the audit record it carries.
struct Deployed {
    commit: String,
    record: Option<AuditRecord>,
}

/// Reads shared by every service of one plan: releases and repository facts once per repository.
pub struct Reader<'a> {
    backend: &'a dyn Backend,
    default_repo: String,
    releases: HashMap<String, Option<Vec<Release>>>,
    repos: HashMap<String, RepoInfo>,
    /// Deploy tags read ahead with one listing per repository: name -> ref (None: absent).
    deploy_tags: HashMap<(String, String), Option<TagRef>>,
}

impl<'a> Reader<'a> {
    pub fn new(backend: &'a dyn Backend, default_repo: &str) -> Self {
        Reader {
            backend,
            default_repo: default_repo.to_string(),
            releases: HashMap::new(),
            repos: HashMap::new(),
            deploy_tags: HashMap::new(),
        }
    }

    pub fn backend(&self) -> &'a dyn Backend {
        self.backend
    }

    pub fn repo_of(&self, service: &Service) -> String {
        service
            .repo
            .clone()
            .unwrap_or_else(|| self.default_repo.clone())
    }

    pub fn repo_info(&mut self, repo: &str) -> Result<RepoInfo> {
        if let Some(info) = self.repos.get(repo) {
            return Ok(info.clone());
        }
        let info = self.backend.repo_info(repo)?;
        self.repos.insert(repo.to_string(), info.clone());
        Ok(info)
    }

    fn releases(&mut self, repo: &str) -> Result<Option<Vec<Release>>> {
        if let Some(r) = self.releases.get(repo) {
            return Ok(r.clone());
        }
        let r = self.backend.releases(repo)?;
        self.releases.insert(repo.to_string(), r.clone());
        Ok(r)
    }

    /// Lists and parses one service's version tags.
    pub fn catalog<'p>(
        &mut self,
        service: &Service,
        environment: &str,
        peel: &'p dyn Peel,
    ) -> Result<(Catalog<'p>, bool)> {
        let repo = self.repo_of(service);
        let pattern =
            TagPattern::new(&service.tag, &service.name, environment).ok_or_else(|| {
                Error::new(
                    Kind::Manifest,
                    format!(
                        "services.{}.tag: the template must hold `{{version}}` once",
                        service.name
                    ),
                )
            })?;
        let tags = self.backend.list_tags(&repo, pattern.prefix())?;
        let releases = self.releases(&repo)?;
        let known = releases.is_some();
        let catalog = Catalog::new(&service.name, pattern, tags, releases.as_deref(), peel);
        Ok((catalog, known))
    }

    /// Reads the deploy tags of several services of one repository with a single listing of
    /// their common prefix (`deploy/production/`) instead of one read each (DESIGN §10). Only
    /// when that prefix is a whole path segment, so the listing stays narrow.
    pub fn read_ahead_deploy_tags(&mut self, repo: &str, names: &[String]) -> Result<()> {
        if names.len() < 2 {
            return Ok(());
        }
        let mut prefix: &str = &names[0];
        for n in &names[1..] {
            let common = prefix
                .char_indices()
                .zip(n.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, c), _)| i + c.len_utf8());
            prefix = &prefix[..common];
        }
        let Some(cut) = prefix.rfind('/') else {
            return Ok(());
        };
        let prefix = &prefix[..=cut];
        let listed = self.backend.list_tags(repo, prefix)?;
        let mut by_name: HashMap<String, TagRef> =
            listed.into_iter().map(|t| (t.name.clone(), t)).collect();
        for n in names {
            self.deploy_tags
                .insert((repo.to_string(), n.clone()), by_name.remove(n));
        }
        Ok(())
    }

    fn deployed(&self, repo: &str, deploy_tag: &str) -> Result<Option<Deployed>> {
        let key = (repo.to_string(), deploy_tag.to_string());
        let tag = match self.deploy_tags.get(&key) {
            Some(t) => t.clone(),
            None => self.backend.get_tag(repo, deploy_tag)?,
        };
        let Some(tag) = tag else {
            return Ok(None);
        };
        // The audit record is the annotated tag's message: peel when the listing lacked it.
        let peeled = match (tag.peeled.clone(), tag.kind) {
            (Some(p), crate::port::ObjectKind::Commit) => p,
            (Some(p), crate::port::ObjectKind::Tag) if p.message.is_some() => p,
            (_, crate::port::ObjectKind::Tag) => self.backend.peel(repo, &tag)?,
            (None, crate::port::ObjectKind::Commit) => Peeled {
                commit: tag.object.clone(),
                date: None,
                message: None,
            },
        };
        Ok(Some(Deployed {
            record: peeled.message.as_deref().and_then(AuditRecord::parse),
            commit: peeled.commit,
        }))
    }
}

/// Where one service stands and where it goes.
struct Resolved {
    from: Option<VersionRef>,
    to: VersionRef,
    to_index: Option<usize>,
    deploy_tag_exists: bool,
    deploy_tag_commit: Option<String>,
    rerun: bool,
}

fn version_ref(catalog: &mut Catalog<'_>, i: usize) -> Result<VersionRef> {
    let sha = catalog.commit(i)?;
    let e = catalog.entry(i);
    Ok(VersionRef {
        version: Some(e.version.to_string()),
        tag: Some(e.tag.name.clone()),
        sha,
    })
}

/// Is this deploy tag's record from an earlier attempt of this very run?
fn is_rerun(
    record: Option<&AuditRecord>,
    service: &str,
    root: &str,
    env: &str,
    run: &RunContext,
) -> bool {
    let (Some(r), Some(run_id)) = (record, run.run_id.as_deref()) else {
        return false;
    };
    r.service == service
        && r.get("run-id") == Some(run_id)
        && r.get("root") == Some(root)
        && r.get("environment") == Some(env)
}

pub fn build(manifest: &Manifest, request: &Request, reader: &mut Reader<'_>) -> Result<Plan> {
    let root = manifest.service(&request.service).ok_or_else(|| {
        let names: Vec<&str> = manifest.services.keys().map(String::as_str).collect();
        Error::usage(format!(
            "unknown service `{}`: {} declares {}",
            request.service,
            manifest.path,
            names.join(", ")
        ))
    })?;
    let environment = request
        .environment
        .clone()
        .unwrap_or_else(|| root.environment.clone());
    if !manifest.environments.iter().any(|e| e == &environment) {
        return Err(Error::usage(format!(
            "unknown environment `{environment}`: {} allows {}",
            manifest.path,
            manifest.environments.join(", ")
        ))
        .with_help("add it to the top-level `environments:` list of the manifest"));
    }
    let root_repo = reader.repo_of(root);
    let mut plan = Plan {
        schema: 1,
        repository: reader.default_repo.clone(),
        environment: environment.clone(),
        service: root.name.clone(),
        strategy: (&request.strategy).into(),
        dry_run: request.dry_run,
        steps: Vec::new(),
        notes: Vec::new(),
        backend_flags: String::new(),
    };

    // The root service.
    let peel = BackendPeel {
        backend: reader.backend(),
        repo: root_repo.clone(),
    };
    let (mut catalog, releases_known) = reader.catalog(root, &environment, &peel)?;
    if catalog.is_empty() {
        return Err(no_version_tags(root, &catalog));
    }
    let rules = Rules::of(root, releases_known);
    let deploy_tag = root.deploy_tag.render(&base_values(root, &environment));
    // The dependents the plan may cascade to, computed once.
    let deps = manifest.dependencies();
    let members: Vec<&str> = if request.cascade {
        graph::dependents(&deps, &root.name)
    } else {
        Vec::new()
    };
    if request.cascade {
        // Every deploy tag the plan may read, one listing per repository.
        let mut by_repo: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in std::iter::once(root).chain(members.iter().filter_map(|m| manifest.service(m))) {
            by_repo
                .entry(reader.repo_of(s))
                .or_default()
                .push(s.deploy_tag.render(&base_values(s, &environment)));
        }
        for (repo, names) in by_repo {
            reader.read_ahead_deploy_tags(&repo, &names)?;
        }
    }
    let deployed = reader.deployed(&root_repo, &deploy_tag)?;
    let rerun = is_rerun(
        deployed.as_ref().and_then(|d| d.record.as_ref()),
        &root.name,
        &root.name,
        &environment,
        &request.run,
    );

    // Current: the version at the deploy tag's commit — or, on a re-run, the recorded `from`.
    let current: Option<usize> = match &deployed {
        None => None,
        Some(d) if rerun => match d.record.as_ref().and_then(|r| r.get("from-version")) {
            Some(v) => catalog
                .entries()
                .iter()
                .position(|e| e.version.to_string() == v),
            None => None,
        },
        Some(d) => catalog.version_at(&d.commit)?,
    };
    let from: Option<VersionRef> = match (&deployed, current) {
        (None, _) => None,
        (Some(_), Some(i)) => Some(version_ref(&mut catalog, i)?),
        (Some(d), None) if rerun => Some(VersionRef {
            version: None,
            tag: None,
            sha: d
                .record
                .as_ref()
                .and_then(|r| r.get("from-sha"))
                .unwrap_or(&d.commit)
                .to_string(),
        }),
        (Some(d), None) => {
            if !matches!(request.strategy, Strategy::Version(_)) {
                return Err(Error::new(
                    Kind::NoTarget,
                    format!(
                        "{}: deploy tag `{deploy_tag}` points at {}, where no version tag of {} stands",
                        root.name,
                        short(&d.commit),
                        root.name
                    ),
                )
                .with_help(format!(
                    "name the version to deploy with `--to`, e.g. `--to {}`",
                    catalog.entry(0).version
                )));
            }
            Some(VersionRef {
                version: None,
                tag: None,
                sha: d.commit.clone(),
            })
        }
    };
    // Without a deploy tag, current is the highest eligible version (§11.8).
    let current_index = match (current, &deployed) {
        (Some(i), _) => Some(i),
        (None, None) => catalog.highest_eligible(&rules)?,
        (None, Some(_)) => None,
    };
    let target = match (&request.strategy, current_index) {
        (Strategy::Version(to), _) => catalog.resolve_to(to, &rules)?,
        (Strategy::Previous, Some(c)) => catalog.steps_below(c, 1, &rules)?,
        (Strategy::Steps(n), Some(c)) => catalog.steps_below(c, *n, &rules)?,
        (_, None) => {
            return Err(Error::new(
                Kind::NoTarget,
                format!(
                    "{}: no eligible version to start from; {} version tags found",
                    root.name,
                    catalog.len()
                ),
            ))
        }
    };
    let to = version_ref(&mut catalog, target)?;
    let root_resolved = Resolved {
        deploy_tag_exists: deployed.is_some(),
        deploy_tag_commit: deployed.as_ref().map(|d| d.commit.clone()),
        from,
        to,
        to_index: Some(target),
        rerun,
    };
    let same = match (&root_resolved.from, deployed.is_some()) {
        (Some(f), true) => f.sha == root_resolved.to.sha && !rerun,
        _ => false,
    };
    let roll_forward = match (current_index, root_resolved.to_index) {
        (Some(c), Some(t)) => catalog.entry(t).version > catalog.entry(c).version,
        _ => false,
    };
    let root_date = if request.cascade && !same && !roll_forward {
        let needs_date = members.iter().any(|d| {
            manifest
                .service(d)
                .is_some_and(|s| s.cascade == Cascade::Rollback)
        });
        if needs_date {
            Some(catalog.date(target)?)
        } else {
            None
        }
    } else {
        None
    };
    let root_step = step_for(
        root,
        &environment,
        Action::Rollback,
        root_resolved,
        request,
        reader,
    )?;
    plan.steps.push(root_step);
    if same {
        plan.steps[0].status = Status::Skipped;
        plan.notes.push(format!(
            "{} is already at {} in {environment}: nothing to do",
            root.name,
            plan.steps[0].to.version.clone().unwrap_or_default()
        ));
        return Ok(plan);
    }
    if roll_forward && request.cascade {
        plan.notes.push(format!(
            "{} moves forward; its dependents are redeployed, not moved",
            root.name
        ));
    }
    if !request.cascade {
        return Ok(plan);
    }

    // Dependents, in waves.
    let mut problems = Vec::new();
    for (name, wave) in graph::waves(&deps, &root.name, &members) {
        if wave == 0 {
            continue;
        }
        let Some(service) = manifest.service(name) else {
            continue;
        };
        match dependent_step(
            service,
            &environment,
            root_date,
            roll_forward,
            request,
            reader,
        ) {
            Ok(mut s) => {
                s.wave = wave;
                s.internal.depends_on = service
                    .depends_on
                    .iter()
                    .filter(|d| *d == &root.name || members.contains(&d.as_str()))
                    .cloned()
                    .collect();
                plan.steps.push(s);
            }
            Err(e) if e.kind == Kind::Preflight || e.kind == Kind::NoTarget => problems.push(e),
            Err(e) => return Err(e),
        }
    }
    if let Some(first) = problems.first() {
        let mut err = first.clone();
        for p in &problems[1..] {
            err.details.push(p.message.clone());
        }
        return Err(err);
    }
    Ok(plan)
}

fn dependent_step(
    service: &Service,
    environment: &str,
    root_date: Option<DateTime<FixedOffset>>,
    roll_forward: bool,
    request: &Request,
    reader: &mut Reader<'_>,
) -> Result<Step> {
    let repo = reader.repo_of(service);
    let peel = BackendPeel {
        backend: reader.backend(),
        repo: repo.clone(),
    };
    let (mut catalog, releases_known) = reader.catalog(service, environment, &peel)?;
    let rules = Rules::of(service, releases_known);
    let deploy_tag = service
        .deploy_tag
        .render(&base_values(service, environment));
    let hint = "roll back the root alone with `--no-cascade`, then handle it by hand";
    let Some(deployed) = reader.deployed(&repo, &deploy_tag)? else {
        return Err(Error::new(
            Kind::Preflight,
            format!(
                "dependent {}: deploy tag `{deploy_tag}` does not exist in {repo}, so its running version is unknown",
                service.name
            ),
        )
        .with_help(hint));
    };
    let rerun = is_rerun(
        deployed.record.as_ref(),
        &service.name,
        &request.service,
        environment,
        &request.run,
    );
    let recorded_from = deployed
        .record
        .as_ref()
        .and_then(|r| r.get("from-version"))
        .map(str::to_string);
    let current = match (rerun, recorded_from) {
        (true, Some(v)) => catalog
            .entries()
            .iter()
            .position(|e| e.version.to_string() == v),
        _ => catalog.version_at(&deployed.commit)?,
    };
    let Some(current) = current else {
        return Err(Error::new(
            Kind::Preflight,
            format!(
                "dependent {}: deploy tag `{deploy_tag}` points at {}, where no version tag of {} stands",
                service.name,
                short(&deployed.commit),
                service.name
            ),
        )
        .with_help(hint));
    };
    let from = version_ref(&mut catalog, current)?;
    let (action, to_index) = match (service.cascade, root_date, roll_forward) {
        (Cascade::Rollback, Some(date), false) => {
            match catalog.newest_not_after(current, date, &rules)? {
                Some(i) if i == current => (Action::Redeploy, current),
                Some(i) => (Action::Rollback, i),
                None => {
                    return Err(Error::new(
                        Kind::NoTarget,
                        format!(
                            "dependent {} (cascade: rollback): no eligible version at or below {} tagged no later than the root's target ({})",
                            service.name,
                            catalog.entry(current).version,
                            date.to_rfc3339()
                        ),
                    )
                    .with_help(hint))
                }
            }
        }
        _ => (Action::Redeploy, current),
    };
    let to = version_ref(&mut catalog, to_index)?;
    let resolved = Resolved {
        from: Some(from),
        to,
        to_index: Some(to_index),
        deploy_tag_exists: true,
        deploy_tag_commit: Some(deployed.commit),
        rerun,
    };
    step_for(service, environment, action, resolved, request, reader)
}

fn base_values(service: &Service, environment: &str) -> Values {
    Values::new()
        .with(Placeholder::Service, &service.name)
        .with(Placeholder::Environment, environment)
}

fn step_for(
    service: &Service,
    environment: &str,
    action: Action,
    r: Resolved,
    request: &Request,
    reader: &mut Reader<'_>,
) -> Result<Step> {
    let repo = reader.repo_of(service);
    let mut values = base_values(service, environment);
    let deploy_tag = service.deploy_tag.render(&values);
    let workflow = service.workflow.render(&values);
    values.set(
        Placeholder::Version,
        r.to.version.clone().unwrap_or_default(),
    );
    values.set(Placeholder::Tag, r.to.tag.clone().unwrap_or_default());
    values.set(Placeholder::Sha, r.to.sha.clone());
    values.set(
        Placeholder::FromVersion,
        r.from
            .as_ref()
            .and_then(|f| f.version.clone())
            .unwrap_or_default(),
    );
    values.set(
        Placeholder::Reason,
        request.reason.clone().unwrap_or_default(),
    );
    values.set(
        Placeholder::Actor,
        request.actor.clone().unwrap_or_default(),
    );
    let needs_branch = service.ref_.uses(Placeholder::DefaultBranch)
        || service
            .inputs
            .values()
            .any(|t| t.uses(Placeholder::DefaultBranch))
        || service
            .command
            .iter()
            .flatten()
            .any(|t| t.uses(Placeholder::DefaultBranch));
    if needs_branch {
        let info = reader.repo_info(&repo)?;
        values.set(Placeholder::DefaultBranch, info.default_branch);
    }
    let git_ref = service.ref_.render(&values);
    let inputs = service
        .inputs
        .iter()
        .map(|(k, t)| (k.clone(), t.render(&values)))
        .collect();
    let command = service
        .command
        .as_ref()
        .map(|argv| argv.iter().map(|t| t.render(&values)).collect());
    Ok(Step {
        service: service.name.clone(),
        repository: repo,
        action,
        wave: 0,
        from: r.from,
        to: r.to,
        deploy_tag,
        workflow,
        git_ref,
        inputs,
        command,
        status: Status::Planned,
        outcome: None,
        internal: StepInternal {
            deploy_tag_exists: r.deploy_tag_exists,
            deploy_tag_commit: r.deploy_tag_commit,
            rerun: r.rerun,
            depends_on: Vec::new(),
            sends_rollback_id: false,
            run_name_has_rollback_id: false,
        },
    })
}

fn no_version_tags(service: &Service, catalog: &Catalog<'_>) -> Error {
    let mut e = Error::new(
        Kind::NoTarget,
        format!(
            "{}: no version tags found matching `{}`",
            service.name,
            service.tag.source()
        ),
    );
    if !catalog.ignored.is_empty() {
        let sample: Vec<&str> = catalog.ignored.iter().take(5).map(String::as_str).collect();
        e = e.with_detail(format!(
            "{} tag(s) under the prefix `{}` are not SemVer versions, e.g. {}",
            catalog.ignored.len(),
            catalog.pattern.prefix(),
            sample.join(", ")
        ));
    }
    e.with_help("check the service's `tag` template in the manifest against `git tag --list`")
}

pub fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
