//! The port: the only calls the core makes to the outside world, and the plain types they carry.
//!
//! Two adapters implement it: `github` (REST through octocrab) and `local_git` (a repository on
//! disk). The trait is synchronous on purpose: the core has no async runtime, and mutating
//! requests are sent one at a time anyway (DESIGN §6.2). An adapter that needs async keeps its
//! runtime to itself.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::error::Result;

/// What a ref points at directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A lightweight tag: the ref is the commit.
    Commit,
    /// An annotated tag: the ref is a tag object that must be peeled.
    Tag,
}

/// A tag ref as listed, before any peeling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRef {
    /// Name without `refs/tags/`.
    pub name: String,
    /// The sha the ref points at (a tag object or a commit).
    pub object: String,
    pub kind: ObjectKind,
    /// Filled in when the backend learns it for free while listing (the local backend does).
    pub peeled: Option<Peeled>,
}

/// What a tag stands for, after peeling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peeled {
    pub commit: String,
    /// Tag date (DESIGN §11.7): the tagger date of an annotated tag, the committer date of a
    /// lightweight tag's commit. `None` until someone needs it.
    pub date: Option<DateTime<FixedOffset>>,
    /// The annotated tag's message (the audit record of a deploy tag); `None` if lightweight.
    pub message: Option<String>,
}

/// The release flags the strategies read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub tag_name: String,
    pub draft: bool,
    pub prerelease: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    pub full_name: String,
    pub default_branch: String,
    /// `permissions.push` where the backend reports it.
    pub can_push: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowInfo {
    pub id: u64,
    /// `.github/workflows/deploy.yml`
    pub path: String,
    /// `active`, `disabled_manually`, …
    pub state: String,
}

/// Create or move a deploy tag to `commit`, as an annotated tag carrying `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagWrite {
    pub repo: String,
    /// Deploy tag name without `refs/tags/`.
    pub name: String,
    pub commit: String,
    pub message: String,
    /// `true` when the ref exists and must be force-updated; `false` to create it.
    pub exists: bool,
}

/// Start one redeploy: a workflow dispatch on GitHub, the service's `command` locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRequest {
    pub repo: String,
    pub service: String,
    pub workflow: String,
    pub git_ref: String,
    pub inputs: BTreeMap<String, String>,
    pub command: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchOutcome {
    pub run_id: Option<u64>,
    pub run_url: Option<String>,
    /// Set when the redeploy already finished (a local command): its conclusion.
    pub conclusion: Option<String>,
    /// Something the report should say (for example "no command declared").
    pub note: Option<String>,
}

/// A workflow run as far as waiting needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunState {
    pub id: u64,
    /// `queued`, `in_progress`, `completed`, …
    pub status: String,
    /// `success`, `failure`, `cancelled`, … once completed.
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    pub display_title: String,
    pub created_at: Option<DateTime<FixedOffset>>,
}

impl RunState {
    pub fn completed(&self) -> bool {
        self.status == "completed"
    }
}

/// A collaborator's access to a repository, as the permission API gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collaborator {
    /// `admin`, `write`, `read` (legacy base permission; also the base of a custom role).
    pub permission: String,
    /// `admin`, `maintain`, `write`, `triage`, `read`, or a custom role's name.
    pub role_name: String,
}

/// The reactions the comment front end uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    Eyes,
    Rocket,
    Confused,
    ThumbsDown,
}

impl Reaction {
    /// GitHub's `content` value.
    pub fn content(self) -> &'static str {
        match self {
            Reaction::Eyes => "eyes",
            Reaction::Rocket => "rocket",
            Reaction::Confused => "confused",
            Reaction::ThumbsDown => "-1",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    GitHub,
    LocalGit,
}

pub trait Backend {
    fn kind(&self) -> BackendKind;

    /// Default branch and reachability of a repository (`owner/name`).
    fn repo_info(&self, repo: &str) -> Result<RepoInfo>;

    /// Every tag whose name starts with `prefix` (may be empty: all tags).
    fn list_tags(&self, repo: &str, prefix: &str) -> Result<Vec<TagRef>>;

    /// One tag by exact name, `None` if it does not exist.
    fn get_tag(&self, repo: &str, name: &str) -> Result<Option<TagRef>>;

    /// Follows an annotated tag to its commit (with tagger date and message); for a lightweight
    /// tag returns the commit with no date.
    fn peel(&self, repo: &str, tag: &TagRef) -> Result<Peeled>;

    /// The committer date of a commit (the tag date of a lightweight tag).
    fn commit_date(&self, repo: &str, sha: &str) -> Result<DateTime<FixedOffset>>;

    /// The repository's releases; `None` when the backend has no notion of releases.
    fn releases(&self, repo: &str) -> Result<Option<Vec<Release>>>;

    /// A file's text at a ref; `None` if the file does not exist there.
    fn read_file(&self, repo: &str, path: &str, git_ref: &str) -> Result<Option<String>>;

    /// A workflow by file name or numeric id; `None` if it does not exist.
    fn workflow(&self, repo: &str, workflow: &str) -> Result<Option<WorkflowInfo>>;

    /// Writes the deploy tag; returns the sha the ref points at afterwards.
    fn write_tag(&self, write: &TagWrite) -> Result<String>;

    fn dispatch(&self, request: &DispatchRequest) -> Result<DispatchOutcome>;

    /// Can `program` (a `command`'s argv[0]) be started? Checked in preflight, before changes.
    fn check_program(&self, program: &str) -> std::result::Result<(), String> {
        let _ = program;
        Ok(())
    }

    /// One run's state (for `--wait`).
    fn run_state(&self, repo: &str, run_id: u64) -> Result<RunState> {
        let _ = (repo, run_id);
        Err(unsupported("workflow runs"))
    }

    /// Recent `workflow_dispatch` runs of a workflow on a ref, newest first, created at or
    /// after `since` when given: how a run is found when the dispatch answer did not name it.
    fn dispatch_runs(
        &self,
        repo: &str,
        workflow: &str,
        git_ref: &str,
        since: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<RunState>> {
        let _ = (repo, workflow, git_ref, since);
        Err(unsupported("workflow runs"))
    }

    /// The user's permission on the repository; `None` when they are not a collaborator.
    fn collaborator(&self, repo: &str, login: &str) -> Result<Option<Collaborator>> {
        let _ = (repo, login);
        Err(unsupported("reading collaborator permissions"))
    }

    fn react(&self, repo: &str, comment_id: u64, reaction: Reaction) -> Result<()> {
        let _ = (repo, comment_id, reaction);
        Err(unsupported("reactions"))
    }

    /// Posts a comment on an issue or pull request; returns the new comment's id.
    fn comment(&self, repo: &str, issue: u64, body: &str) -> Result<u64> {
        let _ = (repo, issue, body);
        Err(unsupported("comments"))
    }

    fn update_comment(&self, repo: &str, comment_id: u64, body: &str) -> Result<()> {
        let _ = (repo, comment_id, body);
        Err(unsupported("comments"))
    }
}

fn unsupported(what: &str) -> crate::error::Error {
    crate::error::Error::usage(format!("this backend does not support {what}"))
}
