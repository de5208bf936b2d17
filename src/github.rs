//! The GitHub adapter (DESIGN §3, §6, §8, §11): the port over GitHub's REST API through
//! octocrab's raw request methods, with small serde types that hold only the fields read.
//!
//! The port is synchronous; this adapter keeps a current-thread tokio runtime of its own and
//! blocks on each request, so the core never sees async. Requests go one at a time.
//!
//! Retries are ours alone (`crate::retry`): octocrab is built without its `retry` feature, so a
//! dispatch can only ever be sent again after a rate-limit refusal (which proves it did not run)
//! or the one documented refusal of `return_run_details` by older GitHub Enterprise Server.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use octocrab::Octocrab;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Kind, Result};
use crate::port::{
    Backend, BackendKind, Collaborator, DispatchOutcome, DispatchRequest, ObjectKind, Peeled,
    Reaction, Release, RepoInfo, RunState, TagRef, TagWrite, WorkflowInfo,
};
use crate::retry::{self, Attempt, Decision, Policy};

/// How the adapter waits and retries.
#[derive(Debug, Clone)]
pub struct Options {
    /// Total of all retry and rate-limit waits in one invocation (`--max-wait`, default 5m).
    pub max_wait: Duration,
    /// One request's deadline; a request past it counts as a timeout.
    pub request_timeout: Duration,
    /// First backoff of a read retried after a 5xx or a timeout (doubled each time).
    pub backoff: Duration,
    /// Attempts of one read (first try included).
    pub read_attempts: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_wait: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
            read_attempts: 4,
        }
    }
}

pub struct GitHub {
    client: Octocrab,
    rt: tokio::runtime::Runtime,
    policy: Policy,
    request_timeout: Duration,
    /// Waited so far in this invocation (counts against `max_wait`).
    waited: Cell<Duration>,
    /// The server refused `return_run_details` once (GHES 3.19): do not send it again.
    no_run_details: Cell<bool>,
    /// `GET /repos/{o}/{r}` answers, read once per invocation (planning and preflight share them).
    repos: RefCell<HashMap<String, RepoInfo>>,
    /// The API base, for messages.
    api_url: String,
    /// Every workflow of a repository, listed once.
    workflows: RefCell<HashMap<String, Vec<WorkflowInfo>>>,
    /// Last answer of each polled run, by URI, with its ETag (for conditional requests).
    runs: RefCell<HashMap<String, (String, RunState)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A complete HTTP answer.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// GitHub's `message` from an error body (the whole body when it is not JSON).
    fn message(&self) -> String {
        match serde_json::from_str::<Value>(&self.body) {
            Ok(v) => {
                let mut m = v["message"].as_str().unwrap_or("").to_string();
                if let Some(errs) = v["errors"].as_array() {
                    let parts: Vec<String> = errs
                        .iter()
                        .map(|e| match e.as_str() {
                            Some(s) => s.to_string(),
                            None => e["message"]
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| e.to_string()),
                        })
                        .collect();
                    if !parts.is_empty() {
                        m = format!("{m} ({})", parts.join("; "));
                    }
                }
                m
            }
            Err(_) => self.body.chars().take(200).collect(),
        }
    }

    fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        serde_json::from_str(&self.body).map_err(|e| {
            Error::remote(format!(
                "GitHub answered {what} with a body this tool cannot read"
            ))
            .with_detail(e.to_string())
        })
    }

    /// The `rel="next"` URL of a `Link` header.
    fn next_link(&self) -> Option<String> {
        next_link(self.header("link")?)
    }
}

/// How a request failed before giving an answer the caller can use.
enum Failure {
    /// No answer within the deadline, or the connection failed.
    NoAnswer(String),
    /// Rate limited longer than the wait budget allows.
    RateLimit { wanted: Duration, message: String },
}

pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Percent-encodes each segment of a path, keeping the slashes (`api/v1.0.0+b` ->
/// `api/v1.0.0%2Bb`).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn encode_query(v: &str) -> String {
    encode_path(v).replace('/', "%2F")
}

fn split_repo(repo: &str) -> Result<(&str, &str)> {
    repo.split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty())
        .ok_or_else(|| Error::usage(format!("`{repo}` is not OWNER/NAME")))
}

fn parse_date(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

// ---- the shapes read ----

#[derive(Deserialize)]
struct RepoBody {
    full_name: String,
    default_branch: String,
    permissions: Option<Permissions>,
}

#[derive(Deserialize)]
struct Permissions {
    push: Option<bool>,
}

#[derive(Deserialize)]
struct RefBody {
    #[serde(rename = "ref")]
    name: String,
    object: GitObject,
}

#[derive(Deserialize)]
struct GitObject {
    sha: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct TagBody {
    message: Option<String>,
    tagger: Option<Person>,
    object: GitObject,
}

#[derive(Deserialize)]
struct Person {
    date: Option<String>,
}

#[derive(Deserialize)]
struct CommitBody {
    committer: Option<Person>,
    author: Option<Person>,
}

#[derive(Deserialize)]
struct ReleaseBody {
    tag_name: String,
    draft: bool,
    prerelease: bool,
}

#[derive(Deserialize)]
struct ContentBody {
    content: Option<String>,
    encoding: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct WorkflowBody {
    id: u64,
    path: String,
    state: String,
}

#[derive(Deserialize)]
struct ShaBody {
    sha: String,
}

#[derive(Deserialize)]
struct DispatchBody {
    workflow_run_id: Option<u64>,
    html_url: Option<String>,
    run_url: Option<String>,
}

fn object_kind(t: &str) -> ObjectKind {
    if t == "tag" {
        ObjectKind::Tag
    } else {
        ObjectKind::Commit
    }
}

fn tag_ref(r: RefBody) -> TagRef {
    TagRef {
        name: r
            .name
            .strip_prefix("refs/tags/")
            .unwrap_or(&r.name)
            .to_string(),
        kind: object_kind(&r.object.kind),
        object: r.object.sha,
        peeled: None,
    }
}

impl GitHub {
    /// `api_url` is `https://api.github.com` or a GitHub Enterprise Server's
    /// `https://HOST/api/v3` (its path is kept in front of every request).
    pub fn new(api_url: &str, token: &str, options: Options) -> Result<GitHub> {
        let api_url = api_url.trim().trim_end_matches('/');
        // octocrab panics on a URI without a scheme or host: check it here first.
        let parsed: Option<http::Uri> = api_url.parse().ok();
        let usable = parsed.as_ref().is_some_and(|u| {
            matches!(u.scheme_str(), Some("http") | Some("https"))
                && u.host().is_some_and(|h| !h.is_empty())
        });
        if !usable {
            return Err(Error::usage(format!(
                "`{api_url}` is not a GitHub API URL: it needs http:// or https:// and a host"
            ))
            .with_help(
                "set `--api-url` / GITHUB_API_URL to https://api.github.com or https://HOST/api/v3",
            ));
        }
        if token.trim().is_empty() {
            return Err(Error::usage(
                "no GitHub token: pass `--token` or set GITHUB_TOKEN",
            ));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::remote(format!("could not start the HTTP runtime: {e}")))?;
        let client = {
            let _guard = rt.enter();
            Octocrab::builder()
                .base_uri(api_url)
                .map_err(|e| Error::usage(format!("`--api-url {api_url}` is not a URL: {e}")))?
                .personal_token(token.trim().to_string())
                .set_connect_timeout(Some(options.request_timeout))
                .set_read_timeout(Some(options.request_timeout))
                .set_write_timeout(Some(options.request_timeout))
                .build()
                .map_err(|e| Error::remote(format!("could not set up the GitHub client: {e}")))?
        };
        Ok(GitHub {
            client,
            rt,
            policy: Policy {
                max_wait: options.max_wait,
                read_attempts: options.read_attempts.max(1),
                backoff: options.backoff,
            },
            request_timeout: options.request_timeout,
            waited: Cell::new(Duration::ZERO),
            no_run_details: Cell::new(false),
            repos: RefCell::new(HashMap::new()),
            runs: RefCell::new(HashMap::new()),
            workflows: RefCell::new(HashMap::new()),
            api_url: api_url.to_string(),
        })
    }

    /// One attempt, no retries.
    fn attempt(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        if_none_match: Option<&str>,
    ) -> Result<Answer, String> {
        let fut = async {
            let resp = match method {
                Method::Get => {
                    match if_none_match.and_then(|e| http::HeaderValue::from_str(e).ok()) {
                        Some(etag) => {
                            let mut h = http::header::HeaderMap::new();
                            h.insert(http::header::IF_NONE_MATCH, etag);
                            self.client._get_with_headers(uri, Some(h)).await
                        }
                        None => self.client._get(uri).await,
                    }
                }
                Method::Post => self.client._post(uri, body).await,
                Method::Patch => self.client._patch(uri, body).await,
            }
            .map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = self
                .client
                .body_to_string(resp)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<Answer, String>(Answer {
                status,
                headers,
                body,
            })
        };
        let deadline = self.request_timeout;
        self.rt
            .block_on(async { tokio::time::timeout(deadline, fut).await })
            .map_err(|_| format!("no answer within {}", humantime::format_duration(deadline)))?
    }

    /// Sends a request under the retry policy. `read` says whether it is safe to send twice.
    fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        read: bool,
    ) -> Result<Answer, Failure> {
        self.send_if(method, uri, body, read, None)
    }

    /// `send` with an `If-None-Match` ETag: GitHub answers 304 (not counted against the rate
    /// limit) while the resource has not changed.
    fn send_if(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        read: bool,
        if_none_match: Option<&str>,
    ) -> Result<Answer, Failure> {
        let mut number = 0u32;
        loop {
            number += 1;
            let started = Instant::now();
            let outcome = self.attempt(method, uri, body, if_none_match);
            tracing::debug!(
                method = method.name(),
                uri,
                status = outcome.as_ref().map(|a| a.status).unwrap_or(0),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "github request"
            );
            let kind = match &outcome {
                Err(_) => Attempt::NoAnswer,
                Ok(a) if a.status >= 500 => Attempt::ServerError,
                Ok(a) => match retry::rate_limit_wait(
                    a.status,
                    a.header("retry-after"),
                    a.header("x-ratelimit-remaining"),
                    a.header("x-ratelimit-reset"),
                    chrono::Utc::now().timestamp(),
                    &a.message(),
                ) {
                    Some(wait) => Attempt::RateLimited { wait },
                    None => Attempt::Answer,
                },
            };
            match retry::decide(&self.policy, &kind, number, self.waited.get(), read) {
                Decision::Stop => {
                    return outcome.map_err(Failure::NoAnswer);
                }
                Decision::Retry(wait) => {
                    let what = match &outcome {
                        Ok(a) => format!("GitHub answered {}", a.status),
                        Err(e) => e.clone(),
                    };
                    let wait_text = humantime::format_duration(wait);
                    // A rate-limit wait can be long: say so. A quick retry is only `--verbose`
                    // detail, so that an error, if it comes, is the first line on stderr.
                    if matches!(kind, Attempt::RateLimited { .. }) {
                        tracing::warn!("{} {uri}: {what}; waiting {wait_text}", method.name());
                    } else {
                        tracing::info!(
                            "{} {uri}: {what}; trying again in {wait_text}",
                            method.name()
                        );
                    }
                    std::thread::sleep(wait);
                    self.waited.set(self.waited.get() + wait);
                }
                Decision::OutOfBudget { wanted } => {
                    return Err(Failure::RateLimit {
                        wanted,
                        message: outcome.map(|a| a.message()).unwrap_or_default(),
                    });
                }
            }
        }
    }

    fn failure_error(&self, f: Failure, what: &str) -> Error {
        match f {
            Failure::NoAnswer(e) => Error::remote(format!(
                "GitHub at {} did not answer while {what}",
                self.api_url
            ))
            .with_detail(e)
            .with_help("check `--api-url` / GITHUB_API_URL and the network, then run again; nothing was changed by this request"),
            Failure::RateLimit { wanted, message } => Error::remote(format!(
                "GitHub's rate limit stopped the rollback while {what}: it asks to wait {}, more than the {} left of `--max-wait`",
                humantime::format_duration(wanted),
                humantime::format_duration(self.policy.max_wait.saturating_sub(self.waited.get()))
            ))
            .with_detail(format!("GitHub said: {message}"))
            .with_help("run again later, or raise `--max-wait`"),
        }
    }

    /// A read; 404 is `Ok(None)`, every other non-2xx an error.
    fn get_opt<T: DeserializeOwned>(&self, repo: &str, uri: &str, what: &str) -> Result<Option<T>> {
        let a = self
            .send(Method::Get, uri, None, true)
            .map_err(|f| self.failure_error(f, what))?;
        if a.status == 404 {
            return Ok(None);
        }
        if !a.ok() {
            return Err(api_error(&a, repo, what, None));
        }
        a.json(what).map(Some)
    }

    fn get<T: DeserializeOwned>(&self, repo: &str, uri: &str, what: &str) -> Result<T> {
        match self.get_opt(repo, uri, what)? {
            Some(t) => Ok(t),
            None => Err(Error::not_found(format!(
                "GitHub has no such thing while {what} (404)"
            ))),
        }
    }

    /// Every page of a list, following `Link: rel="next"`.
    fn get_all<T: DeserializeOwned>(&self, repo: &str, uri: &str, what: &str) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut next = Some(uri.to_string());
        let mut pages = 0;
        while let Some(uri) = next.take() {
            pages += 1;
            if pages > 1000 {
                return Err(Error::remote(format!(
                    "GitHub kept sending pages while {what}; stopped after 1000"
                )));
            }
            let a = self
                .send(Method::Get, &uri, None, true)
                .map_err(|f| self.failure_error(f, what))?;
            if a.status == 404 && pages == 1 {
                return Err(unreachable_repo(repo, &a));
            }
            if !a.ok() {
                return Err(api_error(&a, repo, what, None));
            }
            let mut page: Vec<T> = a.json(what)?;
            out.append(&mut page);
            next = a.next_link();
        }
        Ok(out)
    }

    fn repo_path(repo: &str) -> Result<String> {
        let (o, n) = split_repo(repo)?;
        Ok(format!("/repos/{}/{}", encode_path(o), encode_path(n)))
    }

    fn get_ref(&self, repo: &str, full: &str) -> Result<Option<RefBody>> {
        let uri = format!("{}/git/ref/{}", Self::repo_path(repo)?, encode_path(full));
        self.get_opt(repo, &uri, &format!("reading `{full}` in {repo}"))
    }

    /// `GET actions/workflows`, every page.
    fn list_workflows(&self, repo: &str) -> Result<Vec<WorkflowInfo>> {
        let what = format!("listing the workflows of {repo}");
        let mut next = Some(format!(
            "{}/actions/workflows?per_page=100",
            Self::repo_path(repo)?
        ));
        let mut out = Vec::new();
        let mut pages = 0;
        while let Some(uri) = next.take() {
            pages += 1;
            if pages > 100 {
                break;
            }
            let a = self
                .send(Method::Get, &uri, None, true)
                .map_err(|f| self.failure_error(f, &what))?;
            if a.status == 404 && pages == 1 {
                return Err(unreachable_repo(repo, &a));
            }
            if !a.ok() {
                return Err(api_error(&a, repo, &what, None));
            }
            let page: WorkflowList = a.json(&what)?;
            out.extend(page.workflows.into_iter().map(|w| WorkflowInfo {
                id: w.id,
                path: w.path,
                state: w.state,
            }));
            next = a.next_link();
        }
        Ok(out)
    }

    /// After a ref write ended without a clear answer, read the ref back (§11.15): did it land?
    fn ref_points_at(&self, repo: &str, name: &str, sha: &str) -> Option<bool> {
        self.get_ref(repo, &format!("tags/{name}"))
            .ok()
            .map(|r| r.is_some_and(|r| r.object.sha == sha))
    }

    fn write_error(&self, write: &TagWrite, what: &str, a: &Answer) -> Error {
        api_error(a, &write.repo, what, Some("contents: write"))
    }
}

/// A 404 on a repository: the token cannot see it (or it does not exist).
fn unreachable_repo(repo: &str, a: &Answer) -> Error {
    Error::new(
        Kind::NotFound,
        format!("the token cannot reach {repo} (it needs `contents: read` there; `contents: write` and `actions: write` to roll back)"),
    )
    .with_detail(format!("GitHub answered {}: {}", a.status, a.message()))
    .with_help("check the repository name in the manifest, and give the token access to it")
}

/// Maps a GitHub error answer to an `Error`, keeping GitHub's `message`. `write_permission`
/// names the permission a refused write needs.
fn api_error(a: &Answer, repo: &str, what: &str, write_permission: Option<&str>) -> Error {
    let message = a.message();
    let said = format!("GitHub answered {}: {message}", a.status);
    match a.status {
        401 => Error::new(
            Kind::Permission,
            format!("GitHub rejected the token (401) while {what}"),
        )
        .with_detail(said)
        .with_help("check `--token` / GITHUB_TOKEN: it may be expired or revoked"),
        403 => {
            let need = write_permission.unwrap_or("contents: read");
            Error::new(
                Kind::Permission,
                format!("the token may not do this in {repo} while {what}: it needs `{need}`"),
            )
            .with_detail(said)
            .with_help(format!(
                "grant `{need}` to the token (for GITHUB_TOKEN: `permissions: {{ {} }}` in the workflow)",
                need
            ))
        }
        _ => Error::remote(format!("{what} failed: {said}")),
    }
}

impl Backend for GitHub {
    fn kind(&self) -> BackendKind {
        BackendKind::GitHub
    }

    fn repo_info(&self, repo: &str) -> Result<RepoInfo> {
        if let Some(info) = self.repos.borrow().get(repo) {
            return Ok(info.clone());
        }
        let uri = Self::repo_path(repo)?;
        let what = format!("reading repository {repo}");
        let a = self
            .send(Method::Get, &uri, None, true)
            .map_err(|f| self.failure_error(f, &what))?;
        if a.status == 404 || a.status == 403 {
            return Err(unreachable_repo(repo, &a));
        }
        if !a.ok() {
            return Err(api_error(&a, repo, &what, None));
        }
        let b: RepoBody = a.json(&what)?;
        let info = RepoInfo {
            full_name: b.full_name,
            default_branch: b.default_branch,
            can_push: b.permissions.and_then(|p| p.push),
        };
        self.repos
            .borrow_mut()
            .insert(repo.to_string(), info.clone());
        Ok(info)
    }

    fn list_tags(&self, repo: &str, prefix: &str) -> Result<Vec<TagRef>> {
        // One call, whatever the number of tags (DESIGN §10). An empty prefix lists all tags.
        let uri = format!(
            "{}/git/matching-refs/tags/{}",
            Self::repo_path(repo)?,
            encode_path(prefix)
        );
        let refs: Vec<RefBody> =
            self.get_all(repo, &uri, &format!("listing tags `{prefix}*` in {repo}"))?;
        Ok(refs
            .into_iter()
            .filter(|r| r.name.starts_with("refs/tags/"))
            .map(tag_ref)
            .collect())
    }

    fn get_tag(&self, repo: &str, name: &str) -> Result<Option<TagRef>> {
        Ok(self.get_ref(repo, &format!("tags/{name}"))?.map(tag_ref))
    }

    fn peel(&self, repo: &str, tag: &TagRef) -> Result<Peeled> {
        if tag.kind == ObjectKind::Commit {
            return Ok(Peeled {
                commit: tag.object.clone(),
                date: None,
                message: None,
            });
        }
        let base = Self::repo_path(repo)?;
        let mut sha = tag.object.clone();
        let mut first: Option<(Option<DateTime<FixedOffset>>, Option<String>)> = None;
        // A tag of a tag: follow until a commit; the outermost tag's date and message count.
        for _ in 0..16 {
            let what = format!("peeling tag `{}` in {repo}", tag.name);
            let t: TagBody = self.get(repo, &format!("{base}/git/tags/{sha}"), &what)?;
            if first.is_none() {
                first = Some((
                    t.tagger
                        .as_ref()
                        .and_then(|p| p.date.as_deref())
                        .and_then(parse_date),
                    t.message.clone(),
                ));
            }
            if t.object.kind != "tag" {
                let (date, message) = first.unwrap_or((None, None));
                return Ok(Peeled {
                    commit: t.object.sha,
                    date,
                    message,
                });
            }
            sha = t.object.sha;
        }
        Err(Error::remote(format!(
            "tag `{}` in {repo} is a chain of more than 16 tag objects",
            tag.name
        )))
    }

    fn commit_date(&self, repo: &str, sha: &str) -> Result<DateTime<FixedOffset>> {
        let what = format!("reading commit {sha} in {repo}");
        let c: CommitBody = self.get(
            repo,
            &format!(
                "{}/git/commits/{}",
                Self::repo_path(repo)?,
                encode_path(sha)
            ),
            &what,
        )?;
        c.committer
            .or(c.author)
            .and_then(|p| p.date)
            .as_deref()
            .and_then(parse_date)
            .ok_or_else(|| Error::remote(format!("commit {sha} in {repo} has no committer date")))
    }

    fn releases(&self, repo: &str) -> Result<Option<Vec<Release>>> {
        let uri = format!("{}/releases?per_page=100", Self::repo_path(repo)?);
        let list: Vec<ReleaseBody> =
            self.get_all(repo, &uri, &format!("listing releases of {repo}"))?;
        Ok(Some(
            list.into_iter()
                .map(|r| Release {
                    tag_name: r.tag_name,
                    draft: r.draft,
                    prerelease: r.prerelease,
                })
                .collect(),
        ))
    }

    fn read_file(&self, repo: &str, path: &str, git_ref: &str) -> Result<Option<String>> {
        let uri = format!(
            "{}/contents/{}?ref={}",
            Self::repo_path(repo)?,
            encode_path(path.trim_start_matches('/')),
            encode_query(git_ref)
        );
        let what = format!("reading {path} at `{git_ref}` in {repo}");
        let Some(c) = self.get_opt::<ContentBody>(repo, &uri, &what)? else {
            return Ok(None);
        };
        if c.kind.as_deref().is_some_and(|k| k != "file") {
            return Ok(None);
        }
        let raw: String = c
            .content
            .unwrap_or_default()
            .chars()
            .filter(|ch| !ch.is_whitespace())
            .collect();
        if c.encoding.as_deref().is_some_and(|e| e != "base64") {
            return Err(Error::remote(format!(
                "{path} in {repo} is too large for the contents API"
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|e| Error::remote(format!("{path} in {repo}: bad base64 ({e})")))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::remote(format!("{path} in {repo} is not UTF-8 text")))
    }

    fn workflow(&self, repo: &str, workflow: &str) -> Result<Option<WorkflowInfo>> {
        // One listing per repository serves every workflow of the plan (DESIGN §10).
        if !self.workflows.borrow().contains_key(repo) {
            let list = self.list_workflows(repo)?;
            self.workflows.borrow_mut().insert(repo.to_string(), list);
        }
        let by_id: Option<u64> = workflow.parse().ok();
        Ok(self.workflows.borrow().get(repo).and_then(|list| {
            list.iter()
                .find(|w| match by_id {
                    Some(id) => w.id == id,
                    None => {
                        w.path == format!(".github/workflows/{workflow}")
                            || w.path.rsplit('/').next() == Some(workflow)
                    }
                })
                .cloned()
        }))
    }

    fn write_tag(&self, write: &TagWrite) -> Result<String> {
        let base = Self::repo_path(&write.repo)?;
        let name = &write.name;
        let repo = &write.repo;
        // 1. The annotated tag object carrying the audit record; it points at the commit itself.
        let what = format!("creating the tag object for `{name}` in {repo}");
        let body = json!({
            "tag": name,
            "message": write.message,
            "object": write.commit,
            "type": "commit",
        });
        // Creating a tag object twice is harmless (an unreferenced object): retry like a read.
        let a = self
            .send(Method::Post, &format!("{base}/git/tags"), Some(&body), true)
            .map_err(|f| self.failure_error(f, &what))?;
        if !a.ok() {
            return Err(self.write_error(write, &what, &a));
        }
        let object: ShaBody = a.json(&what)?;
        // 2. Point the ref at it: create, or force-update (never delete and recreate).
        let (method, uri, body, what) = if write.exists {
            (
                Method::Patch,
                format!("{base}/git/refs/tags/{}", encode_path(name)),
                json!({"sha": object.sha, "force": true}),
                format!("moving deploy tag `{name}` in {repo}"),
            )
        } else {
            (
                Method::Post,
                format!("{base}/git/refs"),
                json!({"ref": format!("refs/tags/{name}"), "sha": object.sha}),
                format!("creating deploy tag `{name}` in {repo}"),
            )
        };
        let landed = match self.send(method, &uri, Some(&body), false) {
            Ok(a) if a.ok() => true,
            Ok(a) if a.status < 500 => return Err(self.write_error(write, &what, &a)),
            Ok(a) => match self.ref_points_at(repo, name, &object.sha) {
                Some(true) => true,
                _ => {
                    return Err(Error::new(
                        Kind::Apply,
                        format!("{what} failed and it did not land: GitHub answered {}: {}", a.status, a.message()),
                    ))
                }
            },
            Err(Failure::NoAnswer(e)) => match self.ref_points_at(repo, name, &object.sha) {
                Some(true) => true,
                Some(false) => {
                    return Err(Error::new(
                        Kind::Apply,
                        format!("{what}: GitHub did not answer, and reading the ref back shows it did not move"),
                    )
                    .with_detail(e))
                }
                None => {
                    return Err(Error::new(
                        Kind::Apply,
                        format!("{what}: GitHub did not answer, and the ref could not be read back: it may or may not have moved"),
                    )
                    .with_detail(e))
                }
            },
            Err(f) => return Err(self.failure_error(f, &what)),
        };
        debug_assert!(landed);
        Ok(write.commit.clone())
    }

    fn dispatch(&self, request: &DispatchRequest) -> Result<DispatchOutcome> {
        let repo = &request.repo;
        let uri = format!(
            "{}/actions/workflows/{}/dispatches",
            Self::repo_path(repo)?,
            encode_query(&request.workflow)
        );
        let what = format!(
            "dispatching {} for {} in {repo}",
            request.workflow, request.service
        );
        let inputs: BTreeMap<&String, &String> = request.inputs.iter().collect();
        let mut details = !self.no_run_details.get();
        loop {
            let mut body = json!({"ref": request.git_ref, "inputs": inputs});
            if details {
                body["return_run_details"] = json!(true);
            }
            // Never re-sent on a 5xx or a timeout: it may have started a deploy.
            let a = match self.send(Method::Post, &uri, Some(&body), false) {
                Ok(a) => a,
                Err(Failure::NoAnswer(e)) => {
                    return Err(Error::new(
                        Kind::Apply,
                        format!(
                        "{what}: GitHub did not answer; the workflow may or may not have started"
                    ),
                    )
                    .with_detail(e)
                    .with_help("look at the workflow's runs before running again")
                    .ambiguous())
                }
                Err(f) => return Err(self.failure_error(f, &what)),
            };
            if a.status >= 500 {
                return Err(Error::new(
                    Kind::Apply,
                    format!(
                        "{what}: GitHub answered {} ({}); the workflow may or may not have started",
                        a.status,
                        a.message()
                    ),
                )
                .with_help("look at the workflow's runs before running again")
                .ambiguous());
            }
            if details
                && (a.status == 400 || a.status == 422)
                && a.message().contains("return_run_details")
            {
                // Older GitHub Enterprise Server: refused, so nothing ran. Resend once without it.
                self.no_run_details.set(true);
                details = false;
                continue;
            }
            if !a.ok() {
                let e = api_error(&a, repo, &what, Some("actions: write"));
                return Err(e);
            }
            if a.status == 200 && !a.body.trim().is_empty() {
                let d: DispatchBody = a.json(&what)?;
                return Ok(DispatchOutcome {
                    run_id: d.workflow_run_id,
                    run_url: d.html_url.or(d.run_url),
                    note: None,
                    conclusion: None,
                });
            }
            return Ok(DispatchOutcome::default());
        }
    }

    fn run_state(&self, repo: &str, run_id: u64) -> Result<RunState> {
        let uri = format!("{}/actions/runs/{run_id}", Self::repo_path(repo)?);
        let what = format!("reading workflow run {run_id} in {repo}");
        let etag = self.runs.borrow().get(&uri).map(|(e, _)| e.clone());
        let a = self
            .send_if(Method::Get, &uri, None, true, etag.as_deref())
            .map_err(|f| self.failure_error(f, &what))?;
        if a.status == 304 {
            if let Some((_, state)) = self.runs.borrow().get(&uri) {
                return Ok(state.clone());
            }
        }
        if !a.ok() {
            return Err(api_error(&a, repo, &what, None));
        }
        let state: RunBody = a.json(&what)?;
        let state = state.into_state();
        if let Some(e) = a.header("etag") {
            self.runs
                .borrow_mut()
                .insert(uri, (e.to_string(), state.clone()));
        }
        Ok(state)
    }

    fn dispatch_runs(
        &self,
        repo: &str,
        workflow: &str,
        git_ref: &str,
        since: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<RunState>> {
        let mut uri = format!(
            "{}/actions/workflows/{}/runs?event=workflow_dispatch&branch={}&per_page=50",
            Self::repo_path(repo)?,
            encode_query(workflow),
            encode_query(git_ref)
        );
        if let Some(t) = since {
            let t = t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ");
            uri.push_str(&format!("&created=%3E%3D{t}"));
        }
        let what = format!("listing runs of {workflow} in {repo}");
        let list: RunList = self.get(repo, &uri, &what)?;
        Ok(list
            .workflow_runs
            .into_iter()
            .map(RunBody::into_state)
            .collect())
    }

    fn collaborator(&self, repo: &str, login: &str) -> Result<Option<Collaborator>> {
        let uri = format!(
            "{}/collaborators/{}/permission",
            Self::repo_path(repo)?,
            encode_path(login)
        );
        let what = format!("reading {login}'s permission on {repo}");
        let body: Option<PermissionBody> = self.get_opt(repo, &uri, &what)?;
        Ok(body.map(|b| Collaborator {
            role_name: b.role_name.unwrap_or_else(|| b.permission.clone()),
            permission: b.permission,
        }))
    }

    fn react(&self, repo: &str, comment_id: u64, reaction: Reaction) -> Result<()> {
        let uri = format!(
            "{}/issues/comments/{comment_id}/reactions",
            Self::repo_path(repo)?
        );
        let what = format!("reacting to comment {comment_id} in {repo}");
        let body = json!({"content": reaction.content()});
        self.write(repo, &uri, Method::Post, &body, &what, "issues: write")
    }

    fn comment(&self, repo: &str, issue: u64, body: &str) -> Result<u64> {
        let uri = format!("{}/issues/{issue}/comments", Self::repo_path(repo)?);
        let what = format!("commenting on #{issue} in {repo}");
        let a = self
            .send(Method::Post, &uri, Some(&json!({"body": body})), false)
            .map_err(|f| self.failure_error(f, &what))?;
        if !a.ok() {
            return Err(api_error(&a, repo, &what, Some("issues: write")));
        }
        let c: IdBody = a.json(&what)?;
        Ok(c.id)
    }

    fn update_comment(&self, repo: &str, comment_id: u64, body: &str) -> Result<()> {
        let uri = format!("{}/issues/comments/{comment_id}", Self::repo_path(repo)?);
        let what = format!("updating comment {comment_id} in {repo}");
        self.write(
            repo,
            &uri,
            Method::Patch,
            &json!({"body": body}),
            &what,
            "issues: write",
        )
    }
}

#[derive(Deserialize)]
struct RunBody {
    id: u64,
    status: Option<String>,
    conclusion: Option<String>,
    html_url: Option<String>,
    display_title: Option<String>,
    created_at: Option<String>,
}

impl RunBody {
    fn into_state(self) -> RunState {
        RunState {
            id: self.id,
            status: self.status.unwrap_or_default(),
            conclusion: self.conclusion,
            html_url: self.html_url,
            display_title: self.display_title.unwrap_or_default(),
            created_at: self.created_at.as_deref().and_then(parse_date),
        }
    }
}

#[derive(Deserialize)]
struct WorkflowList {
    workflows: Vec<WorkflowBody>,
}

#[derive(Deserialize)]
struct RunList {
    workflow_runs: Vec<RunBody>,
}

#[derive(Deserialize)]
struct PermissionBody {
    permission: String,
    role_name: Option<String>,
}

#[derive(Deserialize)]
struct IdBody {
    id: u64,
}

impl GitHub {
    /// A write whose answer body is not needed.
    fn write(
        &self,
        repo: &str,
        uri: &str,
        method: Method,
        body: &Value,
        what: &str,
        permission: &str,
    ) -> Result<()> {
        let a = self
            .send(method, uri, Some(body), false)
            .map_err(|f| self.failure_error(f, what))?;
        if !a.ok() {
            return Err(api_error(&a, repo, what, Some(permission)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_slashes_and_encode_the_rest() {
        assert_eq!(encode_path("api/v1.0.0"), "api/v1.0.0");
        assert_eq!(encode_path("@changesets/cli@"), "@changesets/cli@");
        assert_eq!(encode_path("api/v1.0.0+b"), "api/v1.0.0%2Bb");
        assert_eq!(encode_path("a b#?"), "a%20b%23%3F");
        assert_eq!(encode_query("feature/x"), "feature%2Fx");
    }

    #[test]
    fn link_next() {
        let l = r#"<https://api.github.com/repositories/1/releases?page=2>; rel="next", <https://api.github.com/repositories/1/releases?page=5>; rel="last""#;
        assert_eq!(
            next_link(l).as_deref(),
            Some("https://api.github.com/repositories/1/releases?page=2")
        );
        let last = r#"<https://api.github.com/repositories/1/releases?page=1>; rel="first", <https://api.github.com/repositories/1/releases?page=4>; rel="prev""#;
        assert_eq!(next_link(last), None);
    }

    #[test]
    fn api_urls_without_scheme_or_host_are_usage_errors() {
        for url in [
            "127.0.0.1:9",
            "not-a-url",
            "",
            "ftp://example.com",
            "http://",
        ] {
            let e = GitHub::new(url, "t", Options::default())
                .err()
                .map(|e| e.kind);
            assert_eq!(e, Some(Kind::Usage), "{url}");
        }
        assert!(GitHub::new("http://127.0.0.1:9/api/v3", "t", Options::default()).is_ok());
    }

    #[test]
    fn missing_token_is_a_usage_error() {
        let e = GitHub::new("https://api.github.com", " ", Options::default())
            .err()
            .map(|e| e.kind);
        assert_eq!(e, Some(Kind::Usage));
    }
}
