//! A stateful fake of the GitHub REST API subset `rollback` uses.
//!
//! Every request is matched against GitHub's OpenAPI description (loaded from
//! `../shared/github-api/openapi/`) and its body validated; a request GitHub would not
//! accept is answered 404/422 and recorded as a violation, and dropping the handle with
//! violations panics, so a test cannot pass on a request the real API would refuse.

mod server;
mod spec;
mod workflow;

use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A request the fake received, with the answer it gave.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the `/api/v3` prefix of GHES mode, percent-encoding kept.
    pub path: String,
    /// Raw query string, without `?` (empty when none).
    pub query: String,
    pub body: Option<Value>,
    pub status: u16,
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
    /// The matched operation id (`git/update-ref`), `None` for unknown routes.
    pub operation_id: Option<String>,
}

impl RecordedRequest {
    pub fn is_mutating(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE")
    }
}

/// An injected answer: the next `times` requests matching `method` and `path_contains`
/// (after `skip` matching requests passed untouched) get `status`/`headers`/`body`.
/// The request is not processed, unless `after_processing` (an ambiguous failure).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<String>,
    pub path_contains: Option<String>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    pub times: usize,
    pub skip: usize,
    pub after_processing: bool,
}

impl Fault {
    /// A fault answering `status` once to any request; narrow it with the builders.
    pub fn new(status: u16) -> Fault {
        Fault {
            method: None,
            path_contains: None,
            status,
            headers: Vec::new(),
            body: None,
            times: 1,
            skip: 0,
            after_processing: false,
        }
    }
    pub fn method(mut self, m: &str) -> Fault {
        self.method = Some(m.to_uppercase());
        self
    }
    pub fn path_contains(mut self, p: &str) -> Fault {
        self.path_contains = Some(p.to_string());
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Fault {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }
    pub fn body(mut self, body: Value) -> Fault {
        self.body = Some(body);
        self
    }
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }
    pub fn skip(mut self, n: usize) -> Fault {
        self.skip = n;
        self
    }
    pub fn after_processing(mut self, yes: bool) -> Fault {
        self.after_processing = yes;
        self
    }
    /// A 403 primary rate limit answer (`x-ratelimit-remaining: 0`, reset in `reset_in_secs`).
    pub fn rate_limited(reset_in_secs: u64) -> Fault {
        let reset = chrono::Utc::now().timestamp() as u64 + reset_in_secs;
        Fault::new(403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &reset.to_string())
            .body(serde_json::json!({
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "403"
            }))
    }
    /// A 429 secondary rate limit answer with `retry-after`.
    pub fn retry_after(secs: u64) -> Fault {
        Fault::new(429).header("retry-after", &secs.to_string()).body(serde_json::json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "429"
        }))
    }
}

/// Where a tag ref points: `ref_sha` is the ref's target (a tag object for an annotated
/// tag), `commit_sha` the commit it peels to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    pub ref_sha: String,
    pub object_type: String,
    pub commit_sha: String,
}

/// An annotated tag object.
#[derive(Debug, Clone)]
pub struct TagObject {
    pub sha: String,
    pub tag: String,
    pub message: String,
    pub object_sha: String,
    pub object_type: String,
    pub tagger_name: String,
    pub tagger_email: String,
    pub tagger_date: String,
}

/// A processed workflow dispatch.
#[derive(Debug, Clone)]
pub struct Dispatch {
    pub repo: String,
    /// The workflow file name (`deploy.yml`).
    pub workflow: String,
    pub workflow_id: u64,
    pub git_ref: String,
    pub inputs: serde_json::Map<String, Value>,
    pub return_run_details: bool,
    pub run_id: u64,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub repo: String,
    pub issue_number: u64,
    pub login: String,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct Reaction {
    pub id: u64,
    pub repo: String,
    pub comment_id: u64,
    pub content: String,
}

/// A workflow run as the fake holds it.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: u64,
    pub repo: String,
    pub workflow_id: u64,
    pub workflow_path: String,
    pub name: String,
    pub display_title: String,
    pub head_branch: String,
    pub head_sha: String,
    pub event: String,
    pub created_at: String,
    pub run_number: u64,
    pub conclusion_when_done: String,
    /// How many times the run was read.
    pub polls: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Commit {
    pub date: String,
    pub parents: Vec<String>,
    pub message: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Release {
    pub id: u64,
    pub tag_name: String,
    pub name: String,
    pub draft: bool,
    pub prerelease: bool,
    pub created_at: String,
    pub published_at: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Workflow {
    pub id: u64,
    pub file: String,
    pub name: String,
    pub state: String,
    pub conclusion: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub id: u64,
    pub full_name: String,
    pub default_branch: String,
    pub visibility: String,
    /// admin, maintain, push, triage, pull
    pub permissions: [bool; 5],
    /// Full ref name (`refs/tags/api/v1.0.0`) -> target sha.
    pub refs: BTreeMap<String, String>,
    pub commits: HashMap<String, Commit>,
    pub tag_objects: HashMap<String, TagObject>,
    pub releases: Vec<Release>,
    /// (ref name as given, path) -> content
    pub files: HashMap<(String, String), String>,
    pub workflows: Vec<Workflow>,
    /// login -> (permission, role_name)
    pub collaborators: HashMap<String, (String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) enum TokenKind {
    ReadOnly,
    NoAccess(HashSet<String>),
}

pub(crate) struct State {
    pub repos: BTreeMap<String, Repo>,
    pub tokens: HashMap<String, TokenKind>,
    pub requests: Vec<RecordedRequest>,
    pub violations: Vec<String>,
    pub faults: Vec<Fault>,
    pub latency: Duration,
    pub dispatches: Vec<Dispatch>,
    pub runs: Vec<Run>,
    pub comments: Vec<Comment>,
    pub reactions: Vec<Reaction>,
    pub next_id: u64,
    pub sha_counter: u64,
    pub matching_refs_page_size: Option<usize>,
    pub run_steps: (u32, u32),
    pub rate_used: u64,
    pub check_responses: bool,
}

impl State {
    pub(crate) fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
    pub(crate) fn new_sha(&mut self) -> String {
        self.sha_counter += 1;
        sha_for(&format!("fake-github-{}", self.sha_counter))
    }
    fn repo_mut(&mut self, full_name: &str) -> &mut Repo {
        self.repos
            .get_mut(&full_name.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("fake-github: repository {full_name} was not added"))
    }
}

/// A deterministic 40-hex-digit pseudo sha for `seed`.
pub fn sha_for(seed: &str) -> String {
    let mut out = String::with_capacity(40);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0u64..3 {
        for b in seed.bytes().chain(round.to_le_bytes()) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(40);
    out
}

pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub spec: spec::Spec,
    pub ghes: bool,
    /// `http://127.0.0.1:PORT`
    pub origin: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn api_base(&self) -> String {
        if self.ghes {
            format!("{}/api/v3", self.origin)
        } else {
            self.origin.clone()
        }
    }
}

/// The running fake server. Dropping it stops the server (and panics when
/// violations were recorded and the thread is not already panicking).
pub struct FakeGitHub {
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeGitHub {
    /// A fake api.github.com on `127.0.0.1:<free port>`.
    pub fn start() -> FakeGitHub {
        Self::start_mode(false)
    }

    /// A fake GitHub Enterprise Server 3.19, serving under `/api/v3`.
    pub fn start_ghes() -> FakeGitHub {
        Self::start_mode(true)
    }

    fn start_mode(ghes: bool) -> FakeGitHub {
        let spec = spec::Spec::load(ghes).unwrap_or_else(|e| panic!("fake-github: {e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("fake-github: bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                repos: BTreeMap::new(),
                tokens: HashMap::new(),
                requests: Vec::new(),
                violations: Vec::new(),
                faults: Vec::new(),
                latency: Duration::ZERO,
                dispatches: Vec::new(),
                runs: Vec::new(),
                comments: Vec::new(),
                reactions: Vec::new(),
                next_id: 1000,
                sha_counter: 0,
                matching_refs_page_size: None,
                run_steps: (1, 1),
                rate_used: 0,
                check_responses: false,
            }),
            spec,
            ghes,
            origin: format!("http://{addr}"),
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = server::spawn(shared.clone(), listener, rx);
        FakeGitHub {
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// The API base URL to put in `GITHUB_API_URL` (`http://127.0.0.1:PORT`, plus
    /// `/api/v3` in GHES mode).
    pub fn url(&self) -> String {
        self.shared.api_base()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    // ---- seeding ----

    /// Add a repository (`owner/name`) with an initial commit on `default_branch`.
    /// Public, with full permissions for the token.
    pub fn add_repo(&self, full_name: &str, default_branch: &str) {
        let mut st = self.state();
        let id = st.id();
        let sha = st.new_sha();
        let mut commits = HashMap::new();
        commits.insert(
            sha.clone(),
            Commit {
                date: "2026-01-01T00:00:00Z".into(),
                parents: vec![],
                message: "Initial commit".into(),
            },
        );
        let mut refs = BTreeMap::new();
        refs.insert(format!("refs/heads/{default_branch}"), sha);
        st.repos.insert(
            full_name.to_ascii_lowercase(),
            Repo {
                id,
                full_name: full_name.to_string(),
                default_branch: default_branch.to_string(),
                visibility: "public".into(),
                permissions: [true; 5],
                refs,
                commits,
                tag_objects: HashMap::new(),
                releases: Vec::new(),
                files: HashMap::new(),
                workflows: Vec::new(),
                collaborators: HashMap::new(),
            },
        );
    }

    /// The `permissions` object of `GET /repos/{o}/{r}`: admin, maintain, push, triage, pull.
    pub fn set_repo_permissions(
        &self,
        repo: &str,
        admin: bool,
        maintain: bool,
        push: bool,
        triage: bool,
        pull: bool,
    ) {
        self.state().repo_mut(repo).permissions = [admin, maintain, push, triage, pull];
    }

    /// `public`, `private` or `internal`.
    pub fn set_visibility(&self, repo: &str, visibility: &str) {
        self.state().repo_mut(repo).visibility = visibility.to_string();
    }

    /// The sha of the default branch head.
    pub fn head(&self, repo: &str) -> String {
        let mut st = self.state();
        let r = st.repo_mut(repo);
        r.refs[&format!("refs/heads/{}", r.default_branch)].clone()
    }

    pub fn add_commit(&self, repo: &str, sha: &str, committer_date: &str) {
        self.add_commit_with_parents(repo, sha, committer_date, &[]);
    }

    pub fn add_commit_with_parents(
        &self,
        repo: &str,
        sha: &str,
        committer_date: &str,
        parents: &[&str],
    ) {
        self.state().repo_mut(repo).commits.insert(
            sha.to_string(),
            Commit {
                date: committer_date.to_string(),
                parents: parents.iter().map(|p| p.to_string()).collect(),
                message: format!("commit {}", &sha[..7.min(sha.len())]),
            },
        );
    }

    /// Add a commit with a generated sha and return the sha.
    pub fn new_commit(&self, repo: &str, committer_date: &str) -> String {
        let sha = self.state().new_sha();
        self.add_commit(repo, &sha, committer_date);
        sha
    }

    /// Create or move a branch.
    pub fn set_branch(&self, repo: &str, name: &str, sha: &str) {
        self.state()
            .repo_mut(repo)
            .refs
            .insert(format!("refs/heads/{name}"), sha.to_string());
    }

    /// A lightweight tag; an unknown commit is created (dated 2026-01-01).
    pub fn add_lightweight_tag(&self, repo: &str, name: &str, commit_sha: &str) {
        self.add_lightweight_tags(repo, [(name.to_string(), commit_sha.to_string())]);
    }

    /// Many lightweight tags at once (100,000 in a fraction of a second).
    pub fn add_lightweight_tags<I: IntoIterator<Item = (String, String)>>(
        &self,
        repo: &str,
        tags: I,
    ) {
        let mut st = self.state();
        let r = st.repo_mut(repo);
        for (name, sha) in tags {
            if !r.commits.contains_key(&sha) {
                r.commits.insert(
                    sha.clone(),
                    Commit {
                        date: "2026-01-01T00:00:00Z".into(),
                        parents: vec![],
                        message: "commit".into(),
                    },
                );
            }
            let mut full = String::with_capacity(10 + name.len());
            full.push_str("refs/tags/");
            full.push_str(&name);
            r.refs.insert(full, sha);
        }
    }

    /// An annotated tag: a tag object pointing at `commit_sha` and a ref to it.
    /// Returns the tag object's sha.
    pub fn add_annotated_tag(
        &self,
        repo: &str,
        name: &str,
        commit_sha: &str,
        tagger_date: &str,
        message: &str,
    ) -> String {
        let mut st = self.state();
        let sha = st.new_sha();
        let r = st.repo_mut(repo);
        r.commits
            .entry(commit_sha.to_string())
            .or_insert_with(|| Commit {
                date: tagger_date.to_string(),
                parents: vec![],
                message: "commit".into(),
            });
        r.tag_objects.insert(
            sha.clone(),
            TagObject {
                sha: sha.clone(),
                tag: name.to_string(),
                message: message.to_string(),
                object_sha: commit_sha.to_string(),
                object_type: "commit".into(),
                tagger_name: "Octo Releaser".into(),
                tagger_email: "octo-releaser@example.com".into(),
                tagger_date: tagger_date.to_string(),
            },
        );
        r.refs.insert(format!("refs/tags/{name}"), sha.clone());
        sha
    }

    /// A release for `tag_name`; `published_at` is `date` unless it is a draft.
    /// Returns the release id.
    pub fn add_release(
        &self,
        repo: &str,
        tag_name: &str,
        draft: bool,
        prerelease: bool,
        date: &str,
    ) -> u64 {
        let mut st = self.state();
        let id = st.id();
        st.repo_mut(repo).releases.push(Release {
            id,
            tag_name: tag_name.to_string(),
            name: tag_name.to_string(),
            draft,
            prerelease,
            created_at: date.to_string(),
            published_at: if draft { None } else { Some(date.to_string()) },
        });
        id
    }

    /// A file at `git_ref` (a branch or tag name, or a sha).
    pub fn add_file(&self, repo: &str, path: &str, git_ref: &str, content: &str) {
        self.state()
            .repo_mut(repo)
            .files
            .insert((git_ref.to_string(), path.to_string()), content.to_string());
    }

    /// A workflow (`deploy.yml`) with state (`active`, `disabled_manually`, ...), its file
    /// stored at `.github/workflows/<file>` on the default branch. Returns its id.
    pub fn add_workflow(&self, repo: &str, file_name: &str, state: &str, yaml: &str) -> u64 {
        let name = workflow::parse(yaml)
            .ok()
            .and_then(|w| w.name)
            .unwrap_or_else(|| format!(".github/workflows/{file_name}"));
        let mut st = self.state();
        let id = st.id();
        let r = st.repo_mut(repo);
        let branch = r.default_branch.clone();
        r.files.insert(
            (branch, format!(".github/workflows/{file_name}")),
            yaml.to_string(),
        );
        r.workflows.push(Workflow {
            id,
            file: file_name.to_string(),
            name,
            state: state.to_string(),
            conclusion: "success".into(),
        });
        id
    }

    /// The conclusion runs of this workflow end with (`success`, `failure`, `cancelled`...).
    pub fn set_workflow_conclusion(&self, repo: &str, file_name: &str, conclusion: &str) {
        let mut st = self.state();
        let r = st.repo_mut(repo);
        if let Some(w) = r.workflows.iter_mut().find(|w| w.file == file_name) {
            w.conclusion = conclusion.to_string();
        }
        for run in st.runs.iter_mut() {
            if run.repo.eq_ignore_ascii_case(repo)
                && run.workflow_path.ends_with(&format!("/{file_name}"))
            {
                run.conclusion_when_done = conclusion.to_string();
            }
        }
    }

    /// How many reads a run stays `queued`, then `in_progress`, before `completed`
    /// (default 1 and 1).
    pub fn set_run_steps(&self, queued: u32, in_progress: u32) {
        self.state().run_steps = (queued, in_progress);
    }

    /// Answer for `GET /repos/{o}/{r}/collaborators/{login}/permission`.
    pub fn set_permission(&self, repo: &str, login: &str, permission: &str, role_name: &str) {
        self.state().repo_mut(repo).collaborators.insert(
            login.to_string(),
            (permission.to_string(), role_name.to_string()),
        );
    }

    /// An existing issue comment (for reactions and edits). Returns its id.
    pub fn add_issue_comment(&self, repo: &str, issue_number: u64, login: &str, body: &str) -> u64 {
        let mut st = self.state();
        let id = st.id();
        st.comments.push(Comment {
            id,
            repo: repo.to_string(),
            issue_number,
            login: login.to_string(),
            body: body.to_string(),
            created_at: now(),
            updated_at: now(),
        });
        id
    }

    /// A token that may read but not write (writes answer 403).
    pub fn add_read_only_token(&self, token: &str) {
        self.state()
            .tokens
            .insert(token.to_string(), TokenKind::ReadOnly);
    }

    /// A token for which `repo` does not exist (404).
    pub fn hide_repo_from_token(&self, token: &str, repo: &str) {
        let mut st = self.state();
        let entry = st
            .tokens
            .entry(token.to_string())
            .or_insert_with(|| TokenKind::NoAccess(HashSet::new()));
        match entry {
            TokenKind::NoAccess(set) => {
                set.insert(repo.to_ascii_lowercase());
            }
            TokenKind::ReadOnly => {
                *entry = TokenKind::NoAccess([repo.to_ascii_lowercase()].into_iter().collect());
            }
        }
    }

    /// Split `git/matching-refs` answers into pages of `n` refs linked by `Link` headers
    /// (GitHub does not paginate it by default; `None` turns it off again).
    pub fn set_matching_refs_page_size(&self, n: Option<usize>) {
        self.state().matching_refs_page_size = n;
    }

    // ---- faults ----

    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// Added to every response.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// Check the fake's own 2xx answers against the response schemas of the description
    /// (a mismatch is recorded as a violation starting with `fake-github answer`).
    pub fn set_check_responses(&self, on: bool) {
        self.state().check_responses = on;
    }

    // ---- inspection ----

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    pub fn mutating_requests(&self) -> Vec<RecordedRequest> {
        self.state()
            .requests
            .iter()
            .filter(|r| r.is_mutating())
            .cloned()
            .collect()
    }

    pub fn reset_requests(&self) {
        self.state().requests.clear();
    }

    /// Where `refs/tags/<name>` points now.
    pub fn tag(&self, repo: &str, name: &str) -> Option<TagInfo> {
        let mut st = self.state();
        let r = st.repo_mut(repo);
        let target = r.refs.get(&format!("refs/tags/{name}"))?.clone();
        Some(match r.tag_objects.get(&target) {
            Some(t) => TagInfo {
                ref_sha: target.clone(),
                object_type: "tag".into(),
                commit_sha: server::peel(r, &t.object_sha),
            },
            None => TagInfo {
                ref_sha: target.clone(),
                object_type: "commit".into(),
                commit_sha: target,
            },
        })
    }

    /// The target of any full ref (`refs/heads/main`).
    pub fn git_ref(&self, repo: &str, full_ref: &str) -> Option<String> {
        self.state().repo_mut(repo).refs.get(full_ref).cloned()
    }

    /// A tag object of any repository.
    pub fn tag_object(&self, sha: &str) -> Option<TagObject> {
        self.state()
            .repos
            .values()
            .find_map(|r| r.tag_objects.get(sha).cloned())
    }

    pub fn dispatches(&self) -> Vec<Dispatch> {
        self.state().dispatches.clone()
    }

    pub fn runs(&self) -> Vec<Run> {
        self.state().runs.clone()
    }

    /// All issue comments (seeded and posted).
    pub fn comments(&self) -> Vec<Comment> {
        self.state().comments.clone()
    }

    pub fn reactions(&self) -> Vec<Reaction> {
        self.state().reactions.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// Forget recorded violations (for tests that provoke them on purpose).
    pub fn clear_violations(&self) {
        self.state().violations.clear();
    }

    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "fake-github: {} request(s) GitHub would not accept:\n{}",
            v.len(),
            v.join("\n")
        );
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if !std::thread::panicking() {
            self.assert_no_violations();
        }
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
