//! The HTTP side: one fallback handler that matches every request against the
//! OpenAPI operations, validates it, applies faults and answers from the state.

use crate::spec::{self, percent_decode, Matched};
use crate::{
    now, Comment, Dispatch, Reaction, RecordedRequest, Repo, Run, Shared, State, TagObject,
    TokenKind,
};
use axum::body::{Body, Bytes};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub(crate) fn spawn(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("fake-github".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("fake-github: tokio runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = Router::new().fallback(handler).with_state(shared);
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stop => {}
                }
            });
            rt.shutdown_background();
        })
        .expect("fake-github: thread")
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Resp {
    fn json(status: u16, v: &Value) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Some(v.to_string()),
        }
    }
    fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: None,
        }
    }
    fn header(mut self, k: &str, v: String) -> Resp {
        self.headers.push((k.to_string(), v));
        self
    }
}

fn error(status: u16, message: &str, docs: &str) -> Resp {
    Resp::json(
        status,
        &json!({"message": message, "documentation_url": docs, "status": status.to_string()}),
    )
}

async fn handler(
    AxState(sh): AxState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (resp, latency) = {
        let mut st = sh.lock();
        let resp = process(&sh, &mut st, &method, &uri, &headers, &body);
        (resp, st.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut b = Response::builder()
        .status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (k, v) in &resp.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            b = b.header(k, v);
        }
    }
    let body = match resp.body {
        Some(s) => Body::from(s),
        None => Body::empty(),
    };
    b.body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

struct Req {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    token: Option<String>,
}

impl Req {
    fn q(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn process(
    sh: &Shared,
    st: &mut State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Resp {
    st.rate_used += 1;
    let raw_path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let hdr = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let authorization = hdr("authorization").map(str::to_string);
    let token = authorization.as_deref().and_then(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
            .or_else(|| a.strip_prefix("token "))
            .map(|t| t.trim().to_string())
    });
    let parsed_body: Result<Option<Value>, String> = if body.is_empty() {
        Ok(None)
    } else {
        serde_json::from_slice(body)
            .map(Some)
            .map_err(|e| e.to_string())
    };
    let mut record = RecordedRequest {
        method: method.as_str().to_string(),
        path: raw_path.clone(),
        query: query.clone(),
        body: parsed_body.clone().ok().flatten(),
        status: 0,
        if_none_match: hdr("if-none-match").map(str::to_string),
        authorization,
        operation_id: None,
    };
    let mut resp = (|| {
        let path = if sh.ghes {
            match raw_path.strip_prefix("/api/v3") {
                Some(p) if p.starts_with('/') => p.to_string(),
                _ => {
                    st.violations.push(format!(
                        "{} {raw_path}: GHES serves the API under /api/v3",
                        method
                    ));
                    return error(
                        404,
                        "Not Found",
                        "https://docs.github.com/enterprise-server@3.19/rest",
                    );
                }
            }
        } else {
            raw_path.clone()
        };
        record.path = path.clone();
        let req = Req {
            method: method.as_str().to_string(),
            path,
            query: parse_query(&query),
            body: parsed_body.clone().ok().flatten(),
            token,
        };
        if let Err(e) = &parsed_body {
            st.violations.push(format!(
                "{} {}: body is not JSON ({e})",
                req.method, req.path
            ));
            return error(400, "Problems parsing JSON", "https://docs.github.com/rest");
        }
        let method_s = req.method.clone();
        let path_s = req.path.clone();
        let resp = route(sh, st, req, &mut record.operation_id);
        if st.check_responses && (200..300).contains(&resp.status) {
            if let Some(m) = sh.spec.find(&method_s, &path_s) {
                let body: Value = resp
                    .body
                    .as_deref()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .unwrap_or(Value::Null);
                let errs = if resp.body.is_none() && resp.status == 204 {
                    Vec::new()
                } else {
                    sh.spec.check_response(m.op, resp.status, &body)
                };
                if !errs.is_empty() {
                    st.violations.push(format!(
                        "fake-github answer to {method_s} {path_s} ({}) does not match its schema: {}",
                        resp.status,
                        errs.join(" ")
                    ));
                }
            }
        }
        resp
    })();
    if resp.status == 200 && method == Method::GET {
        if let Some(b) = &resp.body {
            let etag = format!("W/\"{}\"", &crate::sha_for(b)[..32]);
            if record.if_none_match.as_deref() == Some(etag.as_str()) {
                resp = Resp::empty(304);
            }
            resp.headers.push(("etag".into(), etag));
        }
    }
    common_headers(sh, st, &mut resp);
    record.status = resp.status;
    st.requests.push(record);
    resp
}

fn common_headers(sh: &Shared, st: &State, resp: &mut Resp) {
    let reset = chrono::Utc::now().timestamp() / 3600 * 3600 + 3600;
    let mut h: Vec<(String, String)> = vec![
        ("content-type".into(), "application/json; charset=utf-8".into()),
        ("x-github-media-type".into(), "github.v3; format=json".into()),
        ("x-github-api-version-selected".into(), "2022-11-28".into()),
        ("x-ratelimit-limit".into(), "5000".into()),
        ("x-ratelimit-remaining".into(), 5000u64.saturating_sub(st.rate_used).to_string()),
        ("x-ratelimit-reset".into(), reset.to_string()),
        ("x-ratelimit-used".into(), st.rate_used.to_string()),
        ("x-ratelimit-resource".into(), "core".into()),
        ("x-github-request-id".into(), format!("F4KE:{:05X}:{:07X}:{:07X}:00000000", st.rate_used % 0xFFFFF, st.rate_used, st.requests.len())),
        ("access-control-expose-headers".into(), "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset".into()),
    ];
    if sh.ghes {
        h.push(("x-github-enterprise-version".into(), "3.19.0".into()));
    }
    if resp.body.is_none() {
        h.retain(|(k, _)| k != "content-type");
    }
    // Headers set by the answer (faults, etag) win.
    for (k, v) in h {
        if !resp.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&k)) {
            resp.headers.push((k, v));
        }
    }
}

fn fault_for(st: &mut State, method: &str, path: &str) -> Option<crate::Fault> {
    let idx = st.faults.iter().position(|f| {
        f.method.as_deref().is_none_or(|m| m == method)
            && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
    })?;
    let f = &mut st.faults[idx];
    if f.skip > 0 {
        f.skip -= 1;
        return None;
    }
    let out = f.clone();
    f.times = f.times.saturating_sub(1);
    if f.times == 0 {
        st.faults.remove(idx);
    }
    Some(out)
}

fn fault_resp(f: &crate::Fault) -> Resp {
    let body = f.body.clone().unwrap_or_else(|| {
        json!({"message": if f.status >= 500 { "Server Error" } else { "Error" },
               "documentation_url": "https://docs.github.com/rest", "status": f.status.to_string()})
    });
    let mut r = Resp::json(f.status, &body);
    r.headers = f.headers.clone();
    r
}

fn route(sh: &Shared, st: &mut State, mut req: Req, op_id: &mut Option<String>) -> Resp {
    // `/repositories/{id}/...` (the form GitHub's Link headers use) is the same as `/repos/{o}/{r}/...`.
    if let Some(rest) = req.path.strip_prefix("/repositories/") {
        let (id, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some(r) = st.repos.values().find(|r| r.id.to_string() == id) {
            req.path = if tail.is_empty() {
                format!("/repos/{}", r.full_name)
            } else {
                format!("/repos/{}/{tail}", r.full_name)
            };
        }
    }
    let docs_root = if sh.ghes {
        "https://docs.github.com/enterprise-server@3.19/rest"
    } else {
        "https://docs.github.com/rest"
    };
    // The contents endpoint is the one operation outside the subset the tool may use.
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let is_contents =
        req.method == "GET" && segs.len() >= 5 && segs[0] == "repos" && segs[3] == "contents";
    let matched = if is_contents {
        None
    } else {
        match sh.spec.find(&req.method, &req.path) {
            Some(m) => Some(m),
            None => {
                let why = if sh.spec.path_known(&req.path) {
                    "method not allowed for this path"
                } else {
                    "no such operation"
                };
                st.violations.push(format!(
                    "{} {}: {why} in the OpenAPI description",
                    req.method, req.path
                ));
                return error(404, "Not Found", docs_root);
            }
        }
    };
    let docs = matched
        .as_ref()
        .map(|m| m.op.docs_url.clone())
        .unwrap_or_else(|| format!("{docs_root}/repos/contents#get-repository-content"));
    if let Some(m) = &matched {
        *op_id = Some(m.op.operation_id.clone());
        if let Some(r) = validate_body(sh, st, m, &req, &docs) {
            return r;
        }
    }
    let Some(token) = req.token.clone() else {
        return error(401, "Requires authentication", &docs);
    };
    let mutating = matches!(req.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE");
    // Repository and token rights.
    let repo_key = if segs.first() == Some(&"repos") && segs.len() >= 3 {
        Some(
            format!("{}/{}", percent_decode(segs[1]), percent_decode(segs[2])).to_ascii_lowercase(),
        )
    } else {
        None
    };
    if let Some(key) = &repo_key {
        let hidden =
            matches!(st.tokens.get(&token), Some(TokenKind::NoAccess(set)) if set.contains(key));
        if hidden || !st.repos.contains_key(key) {
            return error(404, "Not Found", &docs);
        }
        if mutating && matches!(st.tokens.get(&token), Some(TokenKind::ReadOnly)) {
            return error(403, "Resource not accessible by integration", &docs);
        }
    }
    let mut after: Option<crate::Fault> = None;
    if let Some(f) = fault_for(st, &req.method, &req.path) {
        if f.after_processing {
            after = Some(f);
        } else {
            return fault_resp(&f);
        }
    }
    let ctx = Ctx {
        api: sh.api_base(),
        html: sh.origin.clone(),
        docs,
        ghes: sh.ghes,
        spec: &sh.spec,
    };
    let resp = match (&matched, repo_key) {
        (None, Some(key)) => contents(&ctx, st, &key, &segs[4..].join("/"), &req),
        (Some(m), Some(key)) => repo_op(&ctx, st, &key, m, &req),
        (Some(m), None) if m.op.operation_id == "rate-limit/get" => rate_limit(&ctx, st),
        _ => error(404, "Not Found", &ctx.docs),
    };
    match after {
        Some(f) => fault_resp(&f),
        None => resp,
    }
}

fn validate_body(
    sh: &Shared,
    st: &mut State,
    m: &Matched<'_>,
    req: &Req,
    docs: &str,
) -> Option<Resp> {
    let Some(schema) = &m.op.body_schema else {
        if req
            .body
            .as_ref()
            .is_some_and(|b| b.as_object().is_none_or(|o| !o.is_empty()))
            && req.method == "GET"
        {
            st.violations
                .push(format!("{} {}: a GET with a body", req.method, req.path));
        }
        return None;
    };
    let Some(body) = &req.body else {
        if m.op.body_required {
            st.violations
                .push(format!("{} {}: request body missing", req.method, req.path));
            return Some(error(400, "Problems parsing JSON", docs));
        }
        return None;
    };
    let mut errs = Vec::new();
    spec::validate(&sh.spec.doc, schema, body, "", &mut errs);
    if m.op.operation_id == "actions/create-workflow-dispatch" {
        // GitHub refuses keys its description does not name, which is how GHES turns
        // down `return_run_details` (an expected refusal, not a client error).
        let props = schema["properties"].as_object();
        for k in body.as_object().into_iter().flat_map(|o| o.keys()) {
            if !props.is_some_and(|p| p.contains_key(k)) {
                if sh.ghes && k == "return_run_details" && errs.is_empty() {
                    return Some(error(
                        422,
                        &format!("Invalid request.\n\n\"{k}\" is not a permitted key."),
                        docs,
                    ));
                }
                errs.push(format!("\"{k}\" is not a permitted key."));
            }
        }
    }
    if errs.is_empty() {
        return None;
    }
    st.violations.push(format!(
        "{} {}: body {} rejected: {}",
        req.method,
        req.path,
        body,
        errs.join(" ")
    ));
    Some(error(
        422,
        &format!("Invalid request.\n\n{}", errs.join("\n")),
        docs,
    ))
}

struct Ctx<'a> {
    api: String,
    html: String,
    docs: String,
    ghes: bool,
    spec: &'a spec::Spec,
}

impl Ctx<'_> {
    /// An example from the description, with its URLs and names moved to this server
    /// and repository.
    fn example(&self, name: &str, full: &str) -> Value {
        let text = self
            .spec
            .example(name)
            .to_string()
            .replace("https://api.github.com", &self.api)
            .replace("https://github.com", &self.html)
            .replace("octocat/Hello-World", full)
            .replace("octo-org/octo-repo", full);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
    fn not_found(&self) -> Resp {
        error(404, "Not Found", &self.docs)
    }
    fn e422(&self, msg: &str) -> Resp {
        error(422, msg, &self.docs)
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The commit a sha stands for, following tag objects.
pub(crate) fn peel(r: &Repo, sha: &str) -> String {
    let mut s = sha.to_string();
    for _ in 0..8 {
        match r.tag_objects.get(&s) {
            Some(t) => s = t.object_sha.clone(),
            None => break,
        }
    }
    s
}

fn ref_json(api: &str, r: &Repo, name: &str, sha: &str) -> Value {
    let (t, kind) = if r.tag_objects.contains_key(sha) {
        ("tag", "tags")
    } else {
        ("commit", "commits")
    };
    json!({
        "ref": name,
        "node_id": base64(format!("REF_{}:{name}", r.id).as_bytes()),
        "url": format!("{api}/repos/{}/git/{name}", r.full_name),
        "object": {"sha": sha, "type": t, "url": format!("{api}/repos/{}/git/{kind}/{sha}", r.full_name)},
    })
}

fn tag_json(api: &str, r: &Repo, t: &TagObject) -> Value {
    let kind = if t.object_type == "tag" {
        "tags"
    } else {
        "commits"
    };
    json!({
        "node_id": base64(format!("TAG_{}:{}", r.id, t.sha).as_bytes()),
        "tag": t.tag,
        "sha": t.sha,
        "url": format!("{api}/repos/{}/git/tags/{}", r.full_name, t.sha),
        "message": t.message,
        "tagger": {"name": t.tagger_name, "email": t.tagger_email, "date": t.tagger_date},
        "object": {"type": t.object_type, "sha": t.object_sha, "url": format!("{api}/repos/{}/git/{kind}/{}", r.full_name, t.object_sha)},
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
    })
}

/// `Link` header in GitHub's form: prev, next, last, first (those that apply).
fn link_header(base: &str, extra: &str, page: usize, last: usize) -> Option<String> {
    if last <= 1 {
        return None;
    }
    let u = |p: usize| format!("<{base}?{extra}page={p}>");
    let mut parts = Vec::new();
    if page > 1 {
        parts.push(format!("{}; rel=\"prev\"", u(page - 1)));
    }
    if page < last {
        parts.push(format!("{}; rel=\"next\"", u(page + 1)));
        parts.push(format!("{}; rel=\"last\"", u(last)));
    }
    if page > 1 {
        parts.push(format!("{}; rel=\"first\"", u(1)));
    }
    Some(parts.join(", "))
}

/// Cut `items` into the page the query asks for; returns the page and the Link header.
fn paginate<T: Clone>(
    items: &[T],
    req: &Req,
    per_page_default: usize,
    base: &str,
) -> (Vec<T>, Option<String>) {
    let per_page = req
        .q("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(per_page_default)
        .clamp(1, 100);
    let page = req
        .q("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let start = ((page - 1) * per_page).min(items.len());
    let end = (start + per_page).min(items.len());
    let mut extra = String::new();
    for (k, v) in &req.query {
        if k != "page" && k != "per_page" {
            extra.push_str(&format!("{k}={v}&"));
        }
    }
    extra.push_str(&format!("per_page={per_page}&"));
    (
        items[start..end].to_vec(),
        link_header(base, &extra, page, last),
    )
}

fn with_link(mut r: Resp, link: Option<String>) -> Resp {
    if let Some(l) = link {
        r.headers.push(("link".into(), l));
    }
    r
}

fn rate_limit(ctx: &Ctx<'_>, st: &State) -> Resp {
    let mut v = ctx.spec.example("rate-limit-overview");
    let reset = chrono::Utc::now().timestamp() / 3600 * 3600 + 3600;
    let core = json!({"limit": 5000, "used": st.rate_used, "remaining": 5000u64.saturating_sub(st.rate_used), "reset": reset});
    v["resources"]["core"] = core.clone();
    v["rate"] = core;
    Resp::json(200, &v)
}

fn file_at<'r>(r: &'r Repo, git_ref: &str, path: &str) -> Option<&'r String> {
    let stripped = git_ref
        .strip_prefix("refs/heads/")
        .or_else(|| git_ref.strip_prefix("refs/tags/"))
        .unwrap_or(git_ref);
    let mut names = vec![git_ref.to_string(), stripped.to_string()];
    // A sha: any branch or tag standing at it.
    if git_ref.len() == 40 && git_ref.bytes().all(|b| b.is_ascii_hexdigit()) {
        for (name, target) in &r.refs {
            if peel(r, target) == git_ref {
                names.push(name.clone());
                if let Some(short) = name
                    .strip_prefix("refs/heads/")
                    .or_else(|| name.strip_prefix("refs/tags/"))
                {
                    names.push(short.to_string());
                }
            }
        }
    }
    names
        .iter()
        .find_map(|n| r.files.get(&(n.clone(), path.to_string())))
}

/// Resolve a branch/tag name (or `refs/...`) to (full ref name, commit sha).
fn resolve_ref(r: &Repo, name: &str) -> Option<(String, String)> {
    let candidates = if name.starts_with("refs/") {
        vec![name.to_string()]
    } else {
        vec![format!("refs/heads/{name}"), format!("refs/tags/{name}")]
    };
    candidates
        .into_iter()
        .find_map(|c| r.refs.get(&c).map(|s| (c.clone(), peel(r, s))))
}

fn contents(ctx: &Ctx<'_>, st: &mut State, key: &str, path: &str, req: &Req) -> Resp {
    let r = &st.repos[key];
    let path = percent_decode(path);
    let git_ref = req.q("ref").unwrap_or(&r.default_branch).to_string();
    let exists = resolve_ref(r, &git_ref).is_some() || r.commits.contains_key(&git_ref);
    let Some(content) = file_at(r, &git_ref, &path).filter(|_| exists) else {
        return error(404, "Not Found", &ctx.docs);
    };
    let encoded = base64(content.as_bytes());
    let mut wrapped = String::new();
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % 60 == 0 {
            wrapped.push('\n');
        }
        wrapped.push(c);
    }
    wrapped.push('\n');
    let sha = crate::sha_for(content);
    let full = &r.full_name;
    let name = path.rsplit('/').next().unwrap_or(&path);
    let url = format!("{}/repos/{full}/contents/{path}?ref={git_ref}", ctx.api);
    let git_url = format!("{}/repos/{full}/git/blobs/{sha}", ctx.api);
    let html_url = format!("{}/{full}/blob/{git_ref}/{path}", ctx.html);
    Resp::json(
        200,
        &json!({
            "type": "file", "encoding": "base64", "size": content.len(), "name": name, "path": path,
            "content": wrapped, "sha": sha, "url": url, "git_url": git_url, "html_url": html_url,
            "download_url": format!("{}/raw/{full}/{git_ref}/{path}", ctx.html),
            "_links": {"self": url, "git": git_url, "html": html_url},
        }),
    )
}

fn run_status(run: &Run, steps: (u32, u32)) -> (&'static str, Option<String>) {
    if run.polls < steps.0 {
        ("queued", None)
    } else if run.polls < steps.0 + steps.1 {
        ("in_progress", None)
    } else {
        ("completed", Some(run.conclusion_when_done.clone()))
    }
}

fn run_json(ctx: &Ctx<'_>, run: &Run, steps: (u32, u32)) -> Value {
    let text = ctx
        .spec
        .example("workflow-run")
        .to_string()
        .replace("30433642", &run.id.to_string())
        .replace("159038", &run.workflow_id.to_string());
    let mut v: Value = serde_json::from_str(
        &text
            .replace("https://api.github.com", &ctx.api)
            .replace("https://github.com", &ctx.html)
            .replace("octocat/Hello-World", &run.repo)
            .replace("octo-org/octo-repo", &run.repo),
    )
    .unwrap_or(Value::Null);
    let (status, conclusion) = run_status(run, steps);
    let o = v
        .as_object_mut()
        .expect("workflow-run example is an object");
    o.insert("name".into(), json!(run.name));
    o.insert(
        "node_id".into(),
        json!(base64(format!("WFR_{}", run.id).as_bytes())),
    );
    o.insert("head_branch".into(), json!(run.head_branch));
    o.insert("head_sha".into(), json!(run.head_sha));
    o.insert(
        "path".into(),
        json!(format!("{}@{}", run.workflow_path, run.head_branch)),
    );
    o.insert("run_number".into(), json!(run.run_number));
    o.insert("event".into(), json!(run.event));
    o.insert("display_title".into(), json!(run.display_title));
    o.insert("status".into(), json!(status));
    o.insert("conclusion".into(), json!(conclusion));
    o.insert("created_at".into(), json!(run.created_at));
    o.insert("run_started_at".into(), json!(run.created_at));
    o.insert("updated_at".into(), json!(run.created_at));
    o.insert("referenced_workflows".into(), json!([]));
    o.insert("pull_requests".into(), json!([]));
    if let Some(hc) = o.get_mut("head_commit").and_then(Value::as_object_mut) {
        hc.insert("id".into(), json!(run.head_sha));
        hc.insert("tree_id".into(), json!(run.head_sha));
    }
    v
}

fn created_matches(created: &str, filter: &str) -> bool {
    let cmp_prefix = |d: &str| &created[..d.len().min(created.len())];
    if let Some((a, b)) = filter.split_once("..") {
        return (a == "*" || cmp_prefix(a) >= a) && (b == "*" || cmp_prefix(b) <= b);
    }
    if let Some(d) = filter.strip_prefix(">=") {
        cmp_prefix(d) >= d
    } else if let Some(d) = filter.strip_prefix("<=") {
        cmp_prefix(d) <= d
    } else if let Some(d) = filter.strip_prefix('>') {
        cmp_prefix(d) > d
    } else if let Some(d) = filter.strip_prefix('<') {
        cmp_prefix(d) < d
    } else {
        cmp_prefix(filter) == filter
    }
}

fn list_runs(
    ctx: &Ctx<'_>,
    st: &mut State,
    key: &str,
    workflow_id: Option<u64>,
    req: &Req,
    base: &str,
) -> Resp {
    let steps = st.run_steps;
    let mut ids: Vec<usize> = Vec::new();
    for (i, run) in st.runs.iter().enumerate().rev() {
        if run.repo.to_ascii_lowercase() != key || workflow_id.is_some_and(|w| w != run.workflow_id)
        {
            continue;
        }
        if req.q("event").is_some_and(|e| e != run.event)
            || req.q("branch").is_some_and(|b| b != run.head_branch)
            || req.q("head_sha").is_some_and(|h| h != run.head_sha)
            || req
                .q("created")
                .is_some_and(|c| !created_matches(&run.created_at, c))
        {
            continue;
        }
        if let Some(s) = req.q("status") {
            let (status, conclusion) = run_status(run, steps);
            if s != status && Some(s) != conclusion.as_deref() {
                continue;
            }
        }
        ids.push(i);
    }
    let total = ids.len();
    let (page, link) = paginate(&ids, req, 30, base);
    let runs: Vec<Value> = page
        .iter()
        .map(|&i| run_json(ctx, &st.runs[i], steps))
        .collect();
    for &i in &page {
        st.runs[i].polls += 1;
    }
    with_link(
        Resp::json(200, &json!({"total_count": total, "workflow_runs": runs})),
        link,
    )
}

fn workflow_json(ctx: &Ctx<'_>, r: &Repo, w: &crate::Workflow) -> Value {
    let full = &r.full_name;
    json!({
        "id": w.id,
        "node_id": base64(format!("W_{}", w.id).as_bytes()),
        "name": w.name,
        "path": format!(".github/workflows/{}", w.file),
        "state": w.state,
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "url": format!("{}/repos/{full}/actions/workflows/{}", ctx.api, w.id),
        "html_url": format!("{}/{full}/blob/{}/.github/workflows/{}", ctx.html, r.default_branch, w.file),
        "badge_url": format!("{}/{full}/workflows/{}/badge.svg", ctx.html, w.name),
    })
}

fn release_json(ctx: &Ctx<'_>, r: &Repo, rel: &crate::Release) -> Value {
    let mut v = ctx.example("release", &r.full_name);
    let full = &r.full_name;
    let o = v.as_object_mut().expect("release example is an object");
    let id = rel.id;
    o.insert(
        "url".into(),
        json!(format!("{}/repos/{full}/releases/{id}", ctx.api)),
    );
    o.insert(
        "html_url".into(),
        json!(format!("{}/{full}/releases/tag/{}", ctx.html, rel.tag_name)),
    );
    o.insert(
        "assets_url".into(),
        json!(format!("{}/repos/{full}/releases/{id}/assets", ctx.api)),
    );
    o.insert(
        "upload_url".into(),
        json!(format!(
            "{}/repos/{full}/releases/{id}/assets{{?name,label}}",
            ctx.api
        )),
    );
    o.insert(
        "tarball_url".into(),
        json!(format!("{}/repos/{full}/tarball/{}", ctx.api, rel.tag_name)),
    );
    o.insert(
        "zipball_url".into(),
        json!(format!("{}/repos/{full}/zipball/{}", ctx.api, rel.tag_name)),
    );
    o.remove("discussion_url");
    o.insert("id".into(), json!(id));
    o.insert(
        "node_id".into(),
        json!(base64(format!("RE_{id}").as_bytes())),
    );
    o.insert("tag_name".into(), json!(rel.tag_name));
    o.insert("target_commitish".into(), json!(r.default_branch));
    o.insert("name".into(), json!(rel.name));
    o.insert("draft".into(), json!(rel.draft));
    o.insert("prerelease".into(), json!(rel.prerelease));
    o.insert("created_at".into(), json!(rel.created_at));
    o.insert("published_at".into(), json!(rel.published_at));
    o.insert("assets".into(), json!([]));
    v
}

fn comment_json(ctx: &Ctx<'_>, c: &Comment) -> Value {
    let mut v = ctx.example("issue-comment", &c.repo);
    let o = v
        .as_object_mut()
        .expect("issue-comment example is an object");
    o.insert("id".into(), json!(c.id));
    o.insert(
        "node_id".into(),
        json!(base64(format!("IC_{}", c.id).as_bytes())),
    );
    o.insert(
        "url".into(),
        json!(format!(
            "{}/repos/{}/issues/comments/{}",
            ctx.api, c.repo, c.id
        )),
    );
    o.insert(
        "html_url".into(),
        json!(format!(
            "{}/{}/issues/{}#issuecomment-{}",
            ctx.html, c.repo, c.issue_number, c.id
        )),
    );
    o.insert(
        "issue_url".into(),
        json!(format!(
            "{}/repos/{}/issues/{}",
            ctx.api, c.repo, c.issue_number
        )),
    );
    o.insert("body".into(), json!(c.body));
    o.insert("created_at".into(), json!(c.created_at));
    o.insert("updated_at".into(), json!(c.updated_at));
    v["user"]["login"] = json!(c.login);
    if c.login.ends_with("[bot]") {
        v["user"]["type"] = json!("Bot");
    }
    v
}

fn is_ancestor(r: &Repo, ancestor: &str, of: &str) -> bool {
    let mut stack = vec![of.to_string()];
    let mut seen = std::collections::HashSet::new();
    while let Some(s) = stack.pop() {
        if s == ancestor {
            return true;
        }
        if seen.insert(s.clone()) {
            if let Some(c) = r.commits.get(&s) {
                stack.extend(c.parents.iter().cloned());
            }
        }
    }
    false
}

fn body_str<'b>(req: &'b Req, k: &str) -> &'b str {
    req.body.as_ref().and_then(|b| b[k].as_str()).unwrap_or("")
}

fn repo_op(ctx: &Ctx<'_>, st: &mut State, key: &str, m: &Matched<'_>, req: &Req) -> Resp {
    let api = ctx.api.clone();
    let steps = st.run_steps;
    let r = &st.repos[key];
    let full = r.full_name.clone();
    let repo_base = format!("{api}/repositories/{}", r.id);
    match m.op.operation_id.as_str() {
        "repos/get" => {
            let mut v = ctx.example("full-repository-default-response", &full);
            let (owner, name) = full.split_once('/').unwrap_or((&full, ""));
            let o = v.as_object_mut().expect("object");
            o.insert("id".into(), json!(r.id));
            o.insert("name".into(), json!(name));
            o.insert("full_name".into(), json!(full));
            o.insert("default_branch".into(), json!(r.default_branch));
            o.insert("private".into(), json!(r.visibility != "public"));
            o.insert("visibility".into(), json!(r.visibility));
            o.insert("language".into(), Value::Null);
            // This is not a fork or a generated repository.
            o.remove("parent");
            o.remove("source");
            o.insert("template_repository".into(), Value::Null);
            o.insert("fork".into(), json!(false));
            let p = r.permissions;
            o.insert(
                "permissions".into(),
                json!({"admin": p[0], "maintain": p[1], "push": p[2], "triage": p[3], "pull": p[4]}),
            );
            v["owner"]["login"] = json!(owner);
            Resp::json(200, &v)
        }
        "git/list-matching-refs" => {
            let prefix = format!("refs/{}", m.param("ref"));
            let names: Vec<(&String, &String)> = r
                .refs
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .collect();
            match st.matching_refs_page_size {
                None => {
                    let items: Vec<Value> =
                        names.iter().map(|(n, s)| ref_json(&api, r, n, s)).collect();
                    Resp::json(200, &Value::Array(items))
                }
                Some(size) => {
                    let size = size.max(1);
                    let page = req
                        .q("page")
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(1)
                        .max(1);
                    let last = names.len().div_ceil(size).max(1);
                    let start = ((page - 1) * size).min(names.len());
                    let end = (start + size).min(names.len());
                    let items: Vec<Value> = names[start..end]
                        .iter()
                        .map(|(n, s)| ref_json(&api, r, n, s))
                        .collect();
                    let base = format!("{repo_base}/git/matching-refs/{}", m.param("ref"));
                    with_link(
                        Resp::json(200, &Value::Array(items)),
                        link_header(&base, "", page, last),
                    )
                }
            }
        }
        "git/get-ref" => {
            let name = format!("refs/{}", m.param("ref"));
            match r.refs.get(&name) {
                Some(sha) => Resp::json(200, &ref_json(&api, r, &name, sha)),
                None => ctx.not_found(),
            }
        }
        "git/create-ref" => {
            let name = body_str(req, "ref").to_string();
            let sha = body_str(req, "sha").to_string();
            if !name.starts_with("refs/") || name.matches('/').count() < 2 || name.ends_with('/') {
                return ctx.e422("Reference name is not valid");
            }
            if r.refs.contains_key(&name) {
                return ctx.e422("Reference already exists");
            }
            if !r.commits.contains_key(&sha) && !r.tag_objects.contains_key(&sha) {
                return ctx.e422("Object does not exist");
            }
            let v = ref_json(&api, r, &name, &sha);
            let loc = v["url"].as_str().unwrap_or("").to_string();
            st.repos.get_mut(key).expect("repo").refs.insert(name, sha);
            Resp::json(201, &v).header("location", loc)
        }
        "git/update-ref" => {
            let name = format!("refs/{}", m.param("ref"));
            let sha = body_str(req, "sha").to_string();
            let force = req.body.as_ref().is_some_and(|b| b["force"] == true);
            let Some(old) = r.refs.get(&name).cloned() else {
                return ctx.e422("Reference does not exist");
            };
            if !r.commits.contains_key(&sha) && !r.tag_objects.contains_key(&sha) {
                return ctx.e422("Object does not exist");
            }
            if !force
                && old != sha
                && (r.tag_objects.contains_key(&old) || !is_ancestor(r, &old, &sha))
            {
                return ctx.e422("Update is not a fast forward");
            }
            let v = ref_json(&api, r, &name, &sha);
            st.repos.get_mut(key).expect("repo").refs.insert(name, sha);
            Resp::json(200, &v)
        }
        "git/delete-ref" => {
            let name = format!("refs/{}", m.param("ref"));
            if st
                .repos
                .get_mut(key)
                .expect("repo")
                .refs
                .remove(&name)
                .is_none()
            {
                return ctx.e422("Reference does not exist");
            }
            Resp::empty(204)
        }
        "git/create-tag" => {
            let b = req.body.clone().unwrap_or(Value::Null);
            let object = b["object"].as_str().unwrap_or("").to_string();
            if !r.commits.contains_key(&object) && !r.tag_objects.contains_key(&object) {
                return error(422, "Validation Failed", &ctx.docs).with_errors(
                    &ctx.docs,
                    json!([{"resource": "Tag", "code": "invalid", "field": "object"}]),
                );
            }
            let sha = st.new_sha();
            let t = TagObject {
                sha: sha.clone(),
                tag: b["tag"].as_str().unwrap_or("").to_string(),
                message: b["message"].as_str().unwrap_or("").to_string(),
                object_sha: object,
                object_type: b["type"].as_str().unwrap_or("commit").to_string(),
                tagger_name: b["tagger"]["name"]
                    .as_str()
                    .unwrap_or("github-actions[bot]")
                    .to_string(),
                tagger_email: b["tagger"]["email"]
                    .as_str()
                    .unwrap_or("41898282+github-actions[bot]@users.noreply.github.com")
                    .to_string(),
                tagger_date: b["tagger"]["date"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(now),
            };
            let repo = st.repos.get_mut(key).expect("repo");
            let v = tag_json(&api, repo, &t);
            repo.tag_objects.insert(sha, t);
            let loc = v["url"].as_str().unwrap_or("").to_string();
            Resp::json(201, &v).header("location", loc)
        }
        "git/get-tag" => match r.tag_objects.get(m.param("tag_sha")) {
            Some(t) => Resp::json(200, &tag_json(&api, r, t)),
            None => ctx.not_found(),
        },
        "git/get-commit" => {
            let sha = m.param("commit_sha");
            let Some(c) = r.commits.get(sha) else {
                return ctx.not_found();
            };
            let mut v = ctx.example("git-commit-2", &full);
            let o = v.as_object_mut().expect("object");
            o.insert("sha".into(), json!(sha));
            o.insert(
                "node_id".into(),
                json!(base64(format!("C_{sha}").as_bytes())),
            );
            o.insert(
                "url".into(),
                json!(format!("{api}/repos/{full}/git/commits/{sha}")),
            );
            o.insert(
                "html_url".into(),
                json!(format!("{}/{full}/commit/{sha}", ctx.html)),
            );
            o.insert("message".into(), json!(c.message));
            let tree = crate::sha_for(&format!("tree-{sha}"));
            o.insert(
                "tree".into(),
                json!({"url": format!("{api}/repos/{full}/git/trees/{tree}"), "sha": tree}),
            );
            let parents: Vec<Value> = c
                .parents
                .iter()
                .map(|p| json!({"url": format!("{api}/repos/{full}/git/commits/{p}"), "sha": p, "html_url": format!("{}/{full}/commit/{p}", ctx.html)}))
                .collect();
            o.insert("parents".into(), Value::Array(parents));
            v["author"]["date"] = json!(c.date);
            v["committer"]["date"] = json!(c.date);
            Resp::json(200, &v)
        }
        "repos/get-commit" => {
            let wanted = m.param("ref");
            let sha = if r.commits.contains_key(wanted) {
                Some(wanted.to_string())
            } else {
                resolve_ref(r, wanted).map(|(_, s)| s)
            };
            let Some((sha, c)) = sha.and_then(|s| r.commits.get(&s).map(|c| (s, c))) else {
                return ctx.e422(&format!("No commit found for SHA: {wanted}"));
            };
            let mut v = ctx.example("commit", &full);
            let o = v.as_object_mut().expect("object");
            o.insert("sha".into(), json!(sha));
            o.insert(
                "node_id".into(),
                json!(base64(format!("C_{sha}").as_bytes())),
            );
            o.insert(
                "url".into(),
                json!(format!("{api}/repos/{full}/commits/{sha}")),
            );
            o.insert(
                "html_url".into(),
                json!(format!("{}/{full}/commit/{sha}", ctx.html)),
            );
            o.insert(
                "comments_url".into(),
                json!(format!("{api}/repos/{full}/commits/{sha}/comments")),
            );
            let parents: Vec<Value> = c
                .parents
                .iter()
                .map(|p| json!({"url": format!("{api}/repos/{full}/commits/{p}"), "sha": p, "html_url": format!("{}/{full}/commit/{p}", ctx.html)}))
                .collect();
            o.insert("parents".into(), Value::Array(parents));
            o.insert("files".into(), json!([]));
            v["commit"]["url"] = json!(format!("{api}/repos/{full}/git/commits/{sha}"));
            v["commit"]["message"] = json!(c.message);
            v["commit"]["author"]["date"] = json!(c.date);
            v["commit"]["committer"]["date"] = json!(c.date);
            Resp::json(200, &v)
        }
        "repos/list-tags" => {
            let mut tags: Vec<(&str, &String)> = r
                .refs
                .iter()
                .filter_map(|(n, s)| n.strip_prefix("refs/tags/").map(|t| (t, s)))
                .collect();
            tags.reverse();
            let (page, link) = paginate(&tags, req, 30, &format!("{repo_base}/tags"));
            let items: Vec<Value> = page
                .iter()
                .map(|(name, target)| {
                    let sha = peel(r, target);
                    json!({
                        "name": name,
                        "commit": {"sha": sha, "url": format!("{api}/repos/{full}/commits/{sha}")},
                        "zipball_url": format!("{api}/repos/{full}/zipball/refs/tags/{name}"),
                        "tarball_url": format!("{api}/repos/{full}/tarball/refs/tags/{name}"),
                        "node_id": base64(format!("REF_{}:refs/tags/{name}", r.id).as_bytes()),
                    })
                })
                .collect();
            with_link(Resp::json(200, &Value::Array(items)), link)
        }
        "repos/list-releases" => {
            let mut rels: Vec<&crate::Release> = r.releases.iter().collect();
            rels.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
            let (page, link) = paginate(&rels, req, 30, &format!("{repo_base}/releases"));
            let items: Vec<Value> = page.iter().map(|rel| release_json(ctx, r, rel)).collect();
            with_link(Resp::json(200, &Value::Array(items)), link)
        }
        "repos/get-latest-release" => {
            let latest = r
                .releases
                .iter()
                .filter(|x| !x.draft && !x.prerelease)
                .max_by(|a, b| a.published_at.cmp(&b.published_at).then(a.id.cmp(&b.id)));
            match latest {
                Some(rel) => Resp::json(200, &release_json(ctx, r, rel)),
                None => ctx.not_found(),
            }
        }
        "repos/get-release-by-tag" => {
            match r
                .releases
                .iter()
                .find(|x| !x.draft && x.tag_name == m.param("tag"))
            {
                Some(rel) => Resp::json(200, &release_json(ctx, r, rel)),
                None => ctx.not_found(),
            }
        }
        "repos/get-release" | "repos/update-release" => {
            let id: u64 = m.param("release_id").parse().unwrap_or(0);
            let Some(idx) = r.releases.iter().position(|x| x.id == id) else {
                return ctx.not_found();
            };
            if req.method == "PATCH" {
                let b = req.body.clone().unwrap_or(Value::Null);
                let rel = &mut st.repos.get_mut(key).expect("repo").releases[idx];
                if let Some(d) = b["draft"].as_bool() {
                    rel.draft = d;
                    if !d && rel.published_at.is_none() {
                        rel.published_at = Some(now());
                    }
                }
                if let Some(p) = b["prerelease"].as_bool() {
                    rel.prerelease = p;
                }
                if let Some(t) = b["tag_name"].as_str() {
                    rel.tag_name = t.to_string();
                }
                if let Some(n) = b["name"].as_str() {
                    rel.name = n.to_string();
                }
            }
            let r = &st.repos[key];
            Resp::json(200, &release_json(ctx, r, &r.releases[idx]))
        }
        "actions/list-repo-workflows" => {
            let all: Vec<Value> = r
                .workflows
                .iter()
                .map(|w| workflow_json(ctx, r, w))
                .collect();
            let total = all.len();
            let (page, link) = paginate(&all, req, 30, &format!("{repo_base}/actions/workflows"));
            with_link(
                Resp::json(200, &json!({"total_count": total, "workflows": page})),
                link,
            )
        }
        "actions/get-workflow" => match find_workflow(r, m.param("workflow_id")) {
            Some(w) => Resp::json(200, &workflow_json(ctx, r, w)),
            None => ctx.not_found(),
        },
        "actions/list-workflow-runs" => {
            let Some(w) = find_workflow(r, m.param("workflow_id")) else {
                return ctx.not_found();
            };
            let wid = w.id;
            let base = format!(
                "{repo_base}/actions/workflows/{}/runs",
                m.param("workflow_id")
            );
            list_runs(ctx, st, key, Some(wid), req, &base)
        }
        "actions/list-workflow-runs-for-repo" => {
            let base = format!("{repo_base}/actions/runs");
            list_runs(ctx, st, key, None, req, &base)
        }
        "actions/get-workflow-run" => {
            let id: u64 = m.param("run_id").parse().unwrap_or(0);
            let Some(run) = st
                .runs
                .iter_mut()
                .find(|x| x.id == id && x.repo.eq_ignore_ascii_case(key))
            else {
                return ctx.not_found();
            };
            let v = run_json(ctx, run, steps);
            run.polls += 1;
            Resp::json(200, &v)
        }
        "actions/create-workflow-dispatch" => dispatch(ctx, st, key, m, req),
        "repos/get-collaborator-permission-level" => {
            let login = m.param("username");
            let Some((perm, role)) = r.collaborators.get(login) else {
                return ctx.not_found();
            };
            let mut v = ctx.example(
                "repository-collaborator-permission-response-if-user-has-admin-permissions",
                &full,
            );
            v["permission"] = json!(perm);
            v["role_name"] = json!(role);
            v["user"]["login"] = json!(login);
            v["user"]["role_name"] = json!(role);
            v["user"]["url"] = json!(format!("{api}/users/{login}"));
            v["user"]["html_url"] = json!(format!("{}/{login}", ctx.html));
            Resp::json(200, &v)
        }
        "reactions/create-for-issue-comment" => {
            let id: u64 = m.param("comment_id").parse().unwrap_or(0);
            if !st
                .comments
                .iter()
                .any(|c| c.id == id && c.repo.eq_ignore_ascii_case(key))
            {
                return ctx.not_found();
            }
            let content = body_str(req, "content").to_string();
            let existing = st
                .reactions
                .iter()
                .find(|x| {
                    x.comment_id == id && x.content == content && x.repo.eq_ignore_ascii_case(key)
                })
                .cloned();
            let (status, reaction) = match existing {
                Some(x) => (200, x),
                None => {
                    let rid = st.id();
                    let x = Reaction {
                        id: rid,
                        repo: full.clone(),
                        comment_id: id,
                        content,
                    };
                    st.reactions.push(x.clone());
                    (201, x)
                }
            };
            let mut v = ctx.example("reaction", &full);
            v["id"] = json!(reaction.id);
            v["node_id"] = json!(base64(format!("REA_{}", reaction.id).as_bytes()));
            v["content"] = json!(reaction.content);
            v["created_at"] = json!(now());
            Resp::json(status, &v)
        }
        "issues/list-comments" => {
            let n: u64 = m.param("issue_number").parse().unwrap_or(0);
            let list: Vec<Comment> = st
                .comments
                .iter()
                .filter(|c| c.issue_number == n && c.repo.eq_ignore_ascii_case(key))
                .cloned()
                .collect();
            let base = format!("{repo_base}/issues/{n}/comments");
            let (page, link) = paginate(&list, req, 30, &base);
            let items: Vec<Value> = page.iter().map(|c| comment_json(ctx, c)).collect();
            with_link(Resp::json(200, &Value::Array(items)), link)
        }
        "issues/create-comment" => {
            let n: u64 = m.param("issue_number").parse().unwrap_or(0);
            let id = st.id();
            let c = Comment {
                id,
                repo: full.clone(),
                issue_number: n,
                login: "github-actions[bot]".into(),
                body: body_str(req, "body").to_string(),
                created_at: now(),
                updated_at: now(),
            };
            let v = comment_json(ctx, &c);
            st.comments.push(c);
            let loc = v["url"].as_str().unwrap_or("").to_string();
            Resp::json(201, &v).header("location", loc)
        }
        "issues/get-comment" | "issues/update-comment" => {
            let id: u64 = m.param("comment_id").parse().unwrap_or(0);
            let Some(c) = st
                .comments
                .iter_mut()
                .find(|c| c.id == id && c.repo.eq_ignore_ascii_case(key))
            else {
                return ctx.not_found();
            };
            if req.method == "PATCH" {
                c.body = body_str(req, "body").to_string();
                c.updated_at = now();
            }
            let c = c.clone();
            Resp::json(200, &comment_json(ctx, &c))
        }
        "repos/list-deployments" => Resp::json(200, &json!([])),
        "repos/list-deployment-statuses" => Resp::json(200, &json!([])),
        "repos/create-deployment" => {
            Resp::json(201, &ctx.example("deployment-simple-example", &full))
        }
        "repos/create-deployment-status" => {
            Resp::json(201, &ctx.example("deployment-status", &full))
        }
        // pulls/get, repos/get-deployment: nothing seeded.
        _ => ctx.not_found(),
    }
}

trait WithErrors {
    fn with_errors(self, docs: &str, errors: Value) -> Resp;
}

impl WithErrors for Resp {
    fn with_errors(mut self, docs: &str, errors: Value) -> Resp {
        self.body = Some(
            json!({"message": "Validation Failed", "errors": errors, "documentation_url": docs})
                .to_string(),
        );
        self
    }
}

fn find_workflow<'r>(r: &'r Repo, id: &str) -> Option<&'r crate::Workflow> {
    r.workflows
        .iter()
        .find(|w| w.id.to_string() == id || w.file == id)
}

fn dispatch(ctx: &Ctx<'_>, st: &mut State, key: &str, m: &Matched<'_>, req: &Req) -> Resp {
    let r = &st.repos[key];
    let Some(w) = find_workflow(r, m.param("workflow_id")).cloned() else {
        return ctx.not_found();
    };
    let body = req.body.clone().unwrap_or(Value::Null);
    let git_ref = body["ref"].as_str().unwrap_or("").to_string();
    let return_details = body["return_run_details"] == true;
    if w.state != "active" {
        return ctx.e422("Cannot trigger a 'workflow_dispatch' on a disabled workflow");
    }
    let Some((full_ref, head_sha)) = resolve_ref(r, &git_ref) else {
        return ctx.e422(&format!("No ref found for: {git_ref}"));
    };
    let path = format!(".github/workflows/{}", w.file);
    let content = file_at(r, &git_ref, &path)
        .or_else(|| file_at(r, &r.default_branch, &path))
        .cloned()
        .unwrap_or_default();
    let parsed = crate::workflow::parse(&content).unwrap_or_default();
    let Some(declared) = parsed.dispatch_inputs else {
        return ctx.e422("Workflow does not have 'workflow_dispatch' trigger");
    };
    let given: Map<String, Value> = body["inputs"].as_object().cloned().unwrap_or_default();
    let unexpected: Vec<String> = given
        .keys()
        .filter(|k| !declared.iter().any(|d| &d.name == *k))
        .map(|k| format!("\"{k}\""))
        .collect();
    if !unexpected.is_empty() {
        return ctx.e422(&format!(
            "Unexpected inputs provided: [{}]",
            unexpected.join(", ")
        ));
    }
    for d in &declared {
        if d.required && !d.has_default && !given.contains_key(&d.name) {
            return ctx.e422(&format!("Required input '{}' not provided", d.name));
        }
    }
    let mut values: Vec<(String, String)> = Vec::new();
    for d in &declared {
        let v = match given.get(&d.name) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => d.default.clone().unwrap_or_default(),
        };
        values.push((d.name.clone(), v));
    }
    let display_title = match &parsed.run_name {
        Some(t) => crate::workflow::render_run_name(t, &values),
        None => w.name.clone(),
    };
    let run_id = st.id();
    let run_number = st.runs.iter().filter(|x| x.workflow_id == w.id).count() as u64 + 1;
    let full = st.repos[key].full_name.clone();
    let head_branch = full_ref
        .strip_prefix("refs/heads/")
        .or_else(|| full_ref.strip_prefix("refs/tags/"))
        .unwrap_or(&full_ref)
        .to_string();
    st.runs.push(Run {
        id: run_id,
        repo: full.clone(),
        workflow_id: w.id,
        workflow_path: path,
        name: w.name.clone(),
        display_title,
        head_branch,
        head_sha,
        event: "workflow_dispatch".into(),
        created_at: now(),
        run_number,
        conclusion_when_done: w.conclusion.clone(),
        polls: 0,
    });
    st.dispatches.push(Dispatch {
        repo: full.clone(),
        workflow: w.file.clone(),
        workflow_id: w.id,
        git_ref,
        inputs: given,
        return_run_details: return_details,
        run_id,
    });
    if return_details && !ctx.ghes {
        Resp::json(
            200,
            &json!({
                "workflow_run_id": run_id,
                "run_url": format!("{}/repos/{full}/actions/runs/{run_id}", ctx.api),
                "html_url": format!("{}/{full}/actions/runs/{run_id}", ctx.html),
            }),
        )
    } else {
        Resp::empty(204)
    }
}
