//! Drives the fake over real HTTP with a tiny blocking client.

use fake_github::{FakeGitHub, Fault};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn call(method: &str, url: &str, body: Option<&Value>, extra: &[(&str, &str)]) -> Answer {
    call_auth(method, url, body, extra, Some("token test-token"))
}

fn call_auth(
    method: &str,
    url: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
    auth: Option<&str>,
) -> Answer {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(host).expect("connect");
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: t\r\n"
    );
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if body.is_some() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            payload.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&payload);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, mut body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = String::new();
        let mut rest = body.as_str();
        loop {
            let (size, tail) = rest.split_once("\r\n").unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        body = out;
    }
    Answer {
        status,
        headers,
        body,
    }
}

const WF: &str = "name: Deploy\nrun-name: deploy ${{ inputs.version }} ${{ inputs.rollback_id }}\non:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n      environment:\n        required: true\n        default: production\n      rollback_id:\n        required: false\n";

fn seeded() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.set_check_responses(true);
    gh.add_repo("acme/api", "main");
    gh.add_workflow("acme/api", "deploy.yml", "active", WF);
    gh
}

#[test]
fn matching_refs_with_slashes_and_peel() {
    let gh = seeded();
    let c1 = gh.new_commit("acme/api", "2026-11-01T10:00:00Z");
    let c2 = gh.new_commit("acme/api", "2026-11-02T10:00:00Z");
    gh.add_lightweight_tag("acme/api", "api/v1.0.0", &c1);
    let tag_sha = gh.add_annotated_tag(
        "acme/api",
        "api/v1.1.0",
        &c2,
        "2026-11-02T11:00:00Z",
        "release 1.1.0",
    );
    gh.add_lightweight_tag("acme/api", "web/v1.0.0", &c1);
    let a = call(
        "GET",
        &format!("{}/repos/acme/api/git/matching-refs/tags/api/v", gh.url()),
        None,
        &[],
    );
    assert_eq!(a.status, 200);
    let refs = a.json();
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0]["ref"], "refs/tags/api/v1.0.0");
    assert_eq!(refs[0]["object"]["type"], "commit");
    assert_eq!(refs[1]["object"]["type"], "tag");
    assert_eq!(refs[1]["object"]["sha"], tag_sha.as_str());
    let none = call(
        "GET",
        &format!(
            "{}/repos/acme/api/git/matching-refs/tags/nothing/",
            gh.url()
        ),
        None,
        &[],
    );
    assert_eq!(none.json(), json!([]));
    // Percent-encoded slashes work too.
    let enc = call(
        "GET",
        &format!(
            "{}/repos/acme/api/git/matching-refs/tags%2Fapi%2Fv",
            gh.url()
        ),
        None,
        &[],
    );
    assert_eq!(enc.json().as_array().unwrap().len(), 2);
    let t = call(
        "GET",
        &format!("{}/repos/acme/api/git/tags/{tag_sha}", gh.url()),
        None,
        &[],
    );
    assert_eq!(t.status, 200);
    let t = t.json();
    assert_eq!(t["object"]["sha"], c2.as_str());
    assert_eq!(t["tag"], "api/v1.1.0");
    assert_eq!(t["tagger"]["date"], "2026-11-02T11:00:00Z");
    let c = call(
        "GET",
        &format!("{}/repos/acme/api/git/commits/{c1}", gh.url()),
        None,
        &[],
    );
    assert_eq!(c.json()["committer"]["date"], "2026-11-01T10:00:00Z");
    let c = call(
        "GET",
        &format!("{}/repos/acme/api/commits/api/v1.1.0", gh.url()),
        None,
        &[],
    );
    assert_eq!(c.json()["sha"], c2.as_str());
    assert_eq!(gh.tag("acme/api", "api/v1.1.0").unwrap().commit_sha, c2);
}

#[test]
fn matching_refs_split_with_link() {
    let gh = seeded();
    let c = gh.new_commit("acme/api", "2026-11-01T10:00:00Z");
    gh.add_lightweight_tags(
        "acme/api",
        (0..5).map(|i| (format!("api/v1.0.{i}"), c.clone())),
    );
    gh.set_matching_refs_page_size(Some(2));
    let mut url = format!("{}/repos/acme/api/git/matching-refs/tags/api/", gh.url());
    let mut seen = 0;
    loop {
        let a = call("GET", &url, None, &[]);
        seen += a.json().as_array().unwrap().len();
        let Some(link) = a.header("link").map(str::to_string) else {
            break;
        };
        let next = link.split(", ").find(|p| p.ends_with("rel=\"next\""));
        let Some(next) = next else { break };
        url = next[1..next.find('>').unwrap()].to_string();
    }
    assert_eq!(seen, 5);
}

#[test]
fn bulk_tags_are_listed_by_prefix() {
    // Speed is measured by the benchmark, not asserted here: a timed test only flakes.
    let gh = seeded();
    let c = gh.new_commit("acme/api", "2026-11-01T10:00:00Z");
    gh.add_lightweight_tags(
        "acme/api",
        (0..100_000).map(|i| (format!("svc{}/v1.{}.0", i % 10, i), c.clone())),
    );
    let a = call(
        "GET",
        &format!("{}/repos/acme/api/git/matching-refs/tags/svc3/", gh.url()),
        None,
        &[],
    );
    assert_eq!(a.json().as_array().unwrap().len(), 10_000);
}

#[test]
fn refs_create_update_and_422s() {
    let gh = seeded();
    let base = format!("{}/repos/acme/api/git", gh.url());
    let c1 = gh.new_commit("acme/api", "2026-11-01T10:00:00Z");
    let c2 = gh.new_commit("acme/api", "2026-11-02T10:00:00Z");
    let a = call(
        "GET",
        &format!("{base}/ref/tags/deploy/production/api"),
        None,
        &[],
    );
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["message"], "Not Found");
    let a = call(
        "POST",
        &format!("{base}/refs"),
        Some(&json!({"ref": "refs/tags/deploy/production/api", "sha": c1})),
        &[],
    );
    assert_eq!(a.status, 201);
    assert!(a
        .header("location")
        .unwrap()
        .ends_with("/git/refs/tags/deploy/production/api"));
    let a = call(
        "POST",
        &format!("{base}/refs"),
        Some(&json!({"ref": "refs/tags/deploy/production/api", "sha": c1})),
        &[],
    );
    assert_eq!(
        (a.status, a.json()["message"].clone()),
        (422, json!("Reference already exists"))
    );
    assert_eq!(a.json()["status"], "422");
    let a = call(
        "POST",
        &format!("{base}/refs"),
        Some(&json!({"ref": "refs/tags/x/y", "sha": "0123456789012345678901234567890123456789"})),
        &[],
    );
    assert_eq!(a.json()["message"], "Object does not exist");
    let url = format!("{base}/refs/tags/deploy/production/api");
    let a = call("PATCH", &url, Some(&json!({"sha": c2})), &[]);
    assert_eq!(
        (a.status, a.json()["message"].clone()),
        (422, json!("Update is not a fast forward"))
    );
    let a = call("PATCH", &url, Some(&json!({"sha": c2, "force": true})), &[]);
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["object"]["sha"], c2.as_str());
    assert_eq!(
        gh.tag("acme/api", "deploy/production/api")
            .unwrap()
            .commit_sha,
        c2
    );
    let a = call(
        "PATCH",
        &format!("{base}/refs/tags/nope"),
        Some(&json!({"sha": c2, "force": true})),
        &[],
    );
    assert_eq!(a.json()["message"], "Reference does not exist");
    // Annotated audit tag then move the ref to it.
    let a = call(
        "POST",
        &format!("{base}/tags"),
        Some(
            &json!({"tag": "deploy/production/api", "message": "rollback api 1.4.0 -> 1.3.2\n", "object": c1, "type": "commit"}),
        ),
        &[],
    );
    assert_eq!(a.status, 201);
    let tag_sha = a.json()["sha"].as_str().unwrap().to_string();
    let a = call(
        "PATCH",
        &url,
        Some(&json!({"sha": tag_sha, "force": true})),
        &[],
    );
    assert_eq!(a.json()["object"]["type"], "tag");
    let info = gh.tag("acme/api", "deploy/production/api").unwrap();
    assert_eq!(
        (info.ref_sha.as_str(), info.commit_sha.as_str()),
        (tag_sha.as_str(), c1.as_str())
    );
    assert!(gh
        .tag_object(&tag_sha)
        .unwrap()
        .message
        .starts_with("rollback api"));
    assert_eq!(call("DELETE", &url, None, &[]).status, 204);
    assert_eq!(gh.mutating_requests().len(), 9);
}

#[test]
fn dispatch_validation_messages() {
    let gh = seeded();
    gh.add_workflow("acme/api", "push-only.yml", "active", "on: [push]\n");
    gh.add_workflow(
        "acme/api",
        "list.yml",
        "active",
        "on: [push, workflow_dispatch]\n",
    );
    let d = |wf: &str, body: Value| {
        call(
            "POST",
            &format!(
                "{}/repos/acme/api/actions/workflows/{wf}/dispatches",
                gh.url()
            ),
            Some(&body),
            &[],
        )
    };
    let msg = |a: Answer| {
        (
            a.status,
            a.json()["message"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(d("nope.yml", json!({"ref": "main"})).status, 404);
    assert_eq!(
        msg(d(
            "deploy.yml",
            json!({"ref": "nope", "inputs": {"version": "1"}})
        )),
        (422, "No ref found for: nope".into())
    );
    assert_eq!(
        msg(d("push-only.yml", json!({"ref": "main"}))),
        (
            422,
            "Workflow does not have 'workflow_dispatch' trigger".into()
        )
    );
    assert_eq!(
        msg(d(
            "deploy.yml",
            json!({"ref": "main", "inputs": {"version": "1", "x": "y"}})
        )),
        (422, "Unexpected inputs provided: [\"x\"]".into())
    );
    assert_eq!(
        msg(d("deploy.yml", json!({"ref": "main", "inputs": {}}))),
        (422, "Required input 'version' not provided".into())
    );
    assert_eq!(d("list.yml", json!({"ref": "main"})).status, 204);
    // A tag ref whose workflow file has no trigger.
    let c = gh.head("acme/api");
    gh.add_lightweight_tag("acme/api", "api/v1.0.0", &c);
    gh.add_file(
        "acme/api",
        ".github/workflows/list.yml",
        "api/v1.0.0",
        "on: push\n",
    );
    assert_eq!(msg(d("list.yml", json!({"ref": "api/v1.0.0"}))).0, 422);
    assert_eq!(gh.dispatches().len(), 1);
    gh.assert_no_violations();
    // A body GitHub rejects is a violation.
    assert_eq!(d("deploy.yml", json!({"ref": 1})).status, 422);
    assert_eq!(
        d("deploy.yml", json!({"ref": "main", "bogus": true})).status,
        422
    );
    assert_eq!(gh.violations().len(), 2);
    gh.clear_violations();
}

#[test]
fn run_details_and_progression() {
    let gh = seeded();
    gh.set_run_steps(1, 3);
    let a = call(
        "POST",
        &format!(
            "{}/repos/acme/api/actions/workflows/deploy.yml/dispatches",
            gh.url()
        ),
        Some(
            &json!({"ref": "main", "inputs": {"version": "1.3.2", "rollback_id": "r-1"}, "return_run_details": true}),
        ),
        &[],
    );
    assert_eq!(a.status, 200);
    let id = a.json()["workflow_run_id"].as_u64().unwrap();
    assert!(a.json()["run_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/actions/runs/{id}")));
    assert!(gh.dispatches()[0].return_run_details);
    let url = format!("{}/repos/acme/api/actions/runs/{id}", gh.url());
    let first = call("GET", &url, None, &[]);
    let run = first.json();
    assert_eq!(
        (run["status"].as_str(), run["event"].as_str()),
        (Some("queued"), Some("workflow_dispatch"))
    );
    assert_eq!(run["display_title"], "deploy 1.3.2 r-1");
    assert_eq!(run["head_branch"], "main");
    let etag = first.header("etag").unwrap().to_string();
    assert_eq!(call("GET", &url, None, &[]).json()["status"], "in_progress");
    let second_etag = call("GET", &url, None, &[])
        .header("etag")
        .unwrap()
        .to_string();
    let not_modified = call("GET", &url, None, &[("If-None-Match", &second_etag)]);
    assert_eq!(not_modified.status, 304);
    assert_ne!(etag, second_etag);
    let done = call("GET", &url, None, &[("If-None-Match", &second_etag)]).json();
    assert_eq!(
        (done["status"].as_str(), done["conclusion"].as_str()),
        (Some("completed"), Some("success"))
    );
    let list = call("GET", &format!("{}/repos/acme/api/actions/workflows/deploy.yml/runs?event=workflow_dispatch&branch=main&created=%3E%3D2026-01-01", gh.url()), None, &[]).json();
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["workflow_runs"][0]["id"], id);
}

#[test]
fn ghes_refuses_return_run_details() {
    let gh = FakeGitHub::start_ghes();
    gh.add_repo("acme/api", "main");
    gh.add_workflow("acme/api", "deploy.yml", "active", WF);
    assert!(gh.url().ends_with("/api/v3"));
    let url = format!(
        "{}/repos/acme/api/actions/workflows/deploy.yml/dispatches",
        gh.url()
    );
    let a = call(
        "POST",
        &url,
        Some(&json!({"ref": "main", "inputs": {"version": "1"}, "return_run_details": true})),
        &[],
    );
    assert_eq!(a.status, 422);
    assert!(a.json()["message"]
        .as_str()
        .unwrap()
        .contains("\"return_run_details\" is not a permitted key"));
    assert!(gh.dispatches().is_empty());
    let a = call(
        "POST",
        &url,
        Some(&json!({"ref": "main", "inputs": {"version": "1"}})),
        &[],
    );
    assert_eq!(a.status, 204);
    assert_eq!(gh.runs().len(), 1);
    assert_eq!(
        call("GET", &format!("{}/repos/acme/api", gh.url()), None, &[]).json()["default_branch"],
        "main"
    );
    gh.assert_no_violations();
}

#[test]
fn releases_pagination_links() {
    let gh = seeded();
    for i in 0..7 {
        gh.add_release(
            "acme/api",
            &format!("api/v1.{i}.0"),
            i == 6,
            i == 5,
            &format!("2026-11-0{}T10:00:00Z", i + 1),
        );
    }
    let a = call(
        "GET",
        &format!("{}/repos/acme/api/releases?per_page=3", gh.url()),
        None,
        &[],
    );
    assert_eq!(a.json().as_array().unwrap().len(), 3);
    let link = a.header("link").unwrap();
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    assert!(link.contains("page=3>; rel=\"last\""), "{link}");
    assert!(!link.contains("prev"));
    let next = &link[1..link.find('>').unwrap()];
    let b = call("GET", next, None, &[]);
    assert_eq!(b.status, 200);
    assert!(b.header("link").unwrap().contains("rel=\"prev\""));
    let last = call(
        "GET",
        &format!("{}/repos/acme/api/releases?per_page=3&page=3", gh.url()),
        None,
        &[],
    );
    assert!(!last.header("link").unwrap().contains("next"));
    assert_eq!(
        call(
            "GET",
            &format!("{}/repos/acme/api/releases/latest", gh.url()),
            None,
            &[]
        )
        .json()["tag_name"],
        "api/v1.4.0"
    );
    assert_eq!(
        call(
            "GET",
            &format!("{}/repos/acme/api/releases/tags/api/v1.5.0", gh.url()),
            None,
            &[]
        )
        .json()["prerelease"],
        true
    );
    assert_eq!(
        call(
            "GET",
            &format!("{}/repos/acme/api/releases/tags/api/v1.6.0", gh.url()),
            None,
            &[]
        )
        .status,
        404
    );
}

#[test]
fn faults_auth_and_tokens() {
    let gh = seeded();
    let url = format!("{}/repos/acme/api", gh.url());
    gh.inject(
        Fault::new(502)
            .method("GET")
            .path_contains("/repos/acme/api")
            .times(2),
    );
    assert_eq!(call("GET", &url, None, &[]).status, 502);
    assert_eq!(call("GET", &url, None, &[]).status, 502);
    assert_eq!(call("GET", &url, None, &[]).status, 200);
    gh.inject(Fault::rate_limited(60).path_contains("/dispatches").skip(1));
    let d = format!("{url}/actions/workflows/deploy.yml/dispatches");
    let body = json!({"ref": "main", "inputs": {"version": "1"}});
    assert_eq!(call("POST", &d, Some(&body), &[]).status, 204);
    let limited = call("POST", &d, Some(&body), &[]);
    assert_eq!(
        (limited.status, limited.header("x-ratelimit-remaining")),
        (403, Some("0"))
    );
    assert_eq!(gh.dispatches().len(), 1);
    gh.inject(
        Fault::new(500)
            .path_contains("/dispatches")
            .after_processing(true),
    );
    assert_eq!(call("POST", &d, Some(&body), &[]).status, 500);
    assert_eq!(gh.dispatches().len(), 2);
    assert_eq!(
        call_auth("GET", &url, None, &[], None).json()["message"],
        "Requires authentication"
    );
    gh.add_read_only_token("ro");
    let ro = call_auth("POST", &d, Some(&body), &[], Some("Bearer ro"));
    assert_eq!(
        (ro.status, ro.json()["message"].as_str()),
        (403, Some("Resource not accessible by integration"))
    );
    gh.hide_repo_from_token("blind", "acme/api");
    assert_eq!(
        call_auth("GET", &url, None, &[], Some("Bearer blind")).status,
        404
    );
    let r = gh.requests();
    assert!(r.iter().all(|x| x.path.starts_with("/repos/")));
    gh.reset_requests();
    assert!(gh.requests().is_empty());
}

#[test]
fn unknown_route_is_a_violation() {
    let gh = seeded();
    let a = call(
        "GET",
        &format!("{}/repos/acme/api/git/refs/tags", gh.url()),
        None,
        &[],
    );
    assert_eq!(a.status, 404);
    assert_eq!(
        call("PUT", &format!("{}/repos/acme/api", gh.url()), None, &[]).status,
        404
    );
    assert_eq!(gh.violations().len(), 2, "{:?}", gh.violations());
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gh.assert_no_violations()));
    assert!(res.is_err());
    gh.clear_violations();
}

#[test]
fn drop_panics_on_violations() {
    let res = std::panic::catch_unwind(|| {
        let gh = FakeGitHub::start();
        call("GET", &format!("{}/nope", gh.url()), None, &[]);
    });
    assert!(res.is_err());
}

#[test]
fn contents_permission_comments_reactions() {
    let gh = seeded();
    let long = "x".repeat(100);
    gh.add_file("acme/api", ".github/rollback.yml", "main", &long);
    let a = call(
        "GET",
        &format!(
            "{}/repos/acme/api/contents/.github/rollback.yml?ref=main",
            gh.url()
        ),
        None,
        &[],
    )
    .json();
    assert_eq!(
        (a["type"].as_str(), a["encoding"].as_str()),
        (Some("file"), Some("base64"))
    );
    assert_eq!(
        a["content"]
            .as_str()
            .unwrap()
            .split('\n')
            .next()
            .unwrap()
            .len(),
        60
    );
    assert_eq!(
        call(
            "GET",
            &format!("{}/repos/acme/api/contents/missing.yml", gh.url()),
            None,
            &[]
        )
        .status,
        404
    );
    gh.set_permission("acme/api", "octo-deployer", "write", "maintain");
    let p = call(
        "GET",
        &format!(
            "{}/repos/acme/api/collaborators/octo-deployer/permission",
            gh.url()
        ),
        None,
        &[],
    )
    .json();
    assert_eq!(
        (p["permission"].as_str(), p["role_name"].as_str()),
        (Some("write"), Some("maintain"))
    );
    assert_eq!(
        call(
            "GET",
            &format!(
                "{}/repos/acme/api/collaborators/stranger/permission",
                gh.url()
            ),
            None,
            &[]
        )
        .status,
        404
    );
    let cid = gh.add_issue_comment("acme/api", 7, "octo-deployer", "/rollback api");
    let r = format!(
        "{}/repos/acme/api/issues/comments/{cid}/reactions",
        gh.url()
    );
    assert_eq!(
        call("POST", &r, Some(&json!({"content": "eyes"})), &[]).status,
        201
    );
    assert_eq!(
        call("POST", &r, Some(&json!({"content": "eyes"})), &[]).status,
        200
    );
    assert_eq!(
        call("POST", &r, Some(&json!({"content": "party"})), &[]).status,
        422
    );
    gh.clear_violations();
    let c = call(
        "POST",
        &format!("{}/repos/acme/api/issues/7/comments", gh.url()),
        Some(&json!({"body": "done"})),
        &[],
    );
    assert_eq!(c.status, 201);
    assert_eq!(gh.comments().len(), 2);
    assert_eq!(gh.reactions().len(), 1);
    let rl = call("GET", &format!("{}/rate_limit", gh.url()), None, &[]);
    assert!(rl.header("x-ratelimit-limit").is_some() && rl.header("x-github-request-id").is_some());
}

#[test]
fn remaining_endpoints_match_their_schemas() {
    let gh = seeded();
    let u = gh.url();
    let c = gh.new_commit("acme/api", "2026-11-01T10:00:00Z");
    for i in 0..4 {
        gh.add_lightweight_tag("acme/api", &format!("api/v1.{i}.0"), &c);
    }
    let tags = call(
        "GET",
        &format!("{u}/repos/acme/api/tags?per_page=3"),
        None,
        &[],
    );
    assert_eq!(tags.json().as_array().unwrap().len(), 3);
    let next = tags.header("link").unwrap().to_string();
    let next = &next[1..next.find('>').unwrap()];
    assert_eq!(
        call("GET", next, None, &[])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let wfs = call(
        "GET",
        &format!("{u}/repos/acme/api/actions/workflows"),
        None,
        &[],
    )
    .json();
    assert_eq!(wfs["total_count"], 1);
    let id = wfs["workflows"][0]["id"].as_u64().unwrap();
    assert_eq!(
        call(
            "GET",
            &format!("{u}/repos/acme/api/actions/workflows/{id}"),
            None,
            &[]
        )
        .json()["path"],
        ".github/workflows/deploy.yml"
    );
    assert_eq!(
        call(
            "GET",
            &format!("{u}/repos/acme/api/actions/runs"),
            None,
            &[]
        )
        .json()["total_count"],
        0
    );
    let rel = gh.add_release(
        "acme/api",
        "api/v1.0.0",
        true,
        false,
        "2026-11-01T10:00:00Z",
    );
    let patched = call(
        "PATCH",
        &format!("{u}/repos/acme/api/releases/{rel}"),
        Some(&json!({"draft": false})),
        &[],
    )
    .json();
    assert_eq!(patched["draft"], false);
    let cid = gh.add_issue_comment("acme/api", 3, "octo-deployer", "hi");
    let e = call(
        "PATCH",
        &format!("{u}/repos/acme/api/issues/comments/{cid}"),
        Some(&json!({"body": "edited"})),
        &[],
    );
    assert_eq!(e.json()["body"], "edited");
    assert_eq!(
        call(
            "GET",
            &format!("{u}/repos/acme/api/issues/3/comments"),
            None,
            &[]
        )
        .json()[0]["body"],
        "edited"
    );
    assert_eq!(
        call("GET", &format!("{u}/repos/acme/api/deployments"), None, &[]).status,
        200
    );
    gh.assert_no_violations();
}
