//! `rollback history`: a service's versions, newest first, with the deployed one marked and the
//! reason each other one is or is not eligible.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::Result;
use crate::manifest::{Manifest, Service};
use crate::plan::Reader;
use crate::strategy::{Peel, Rules};
use crate::template::{Placeholder, Values};

#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub service: String,
    pub environment: String,
    pub deploy_tag: String,
    pub deployed_sha: Option<String>,
    pub versions: Vec<Row>,
    /// Tags under the prefix that are not versions of the service.
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub version: String,
    pub tag: String,
    pub sha: String,
    pub date: Option<String>,
    pub deployed: bool,
    pub eligible: bool,
    pub reason: Option<String>,
}

struct NoDates<'a> {
    reader_backend: &'a dyn crate::port::Backend,
    repo: String,
}

impl Peel for NoDates<'_> {
    fn peel(&self, tag: &crate::port::TagRef) -> Result<crate::port::Peeled> {
        self.reader_backend.peel(&self.repo, tag)
    }
    fn commit_date(&self, sha: &str) -> Result<chrono::DateTime<chrono::FixedOffset>> {
        self.reader_backend.commit_date(&self.repo, sha)
    }
}

pub fn collect(
    _manifest: &Manifest,
    service: &Service,
    environment: &str,
    reader: &mut Reader<'_>,
) -> Result<History> {
    let repo = reader.repo_of(service);
    let peel = NoDates {
        reader_backend: reader.backend(),
        repo: repo.clone(),
    };
    let (mut catalog, releases_known) = reader.catalog(service, environment, &peel)?;
    let rules = Rules::of(service, releases_known);
    let deploy_tag = service.deploy_tag.render(
        &Values::new()
            .with(Placeholder::Service, &service.name)
            .with(Placeholder::Environment, environment),
    );
    let deployed_sha = match reader.backend().get_tag(&repo, &deploy_tag)? {
        None => None,
        Some(t) => Some(match t.peeled {
            Some(p) => p.commit,
            None => reader.backend().peel(&repo, &t)?.commit,
        }),
    };
    let deployed_index = match &deployed_sha {
        Some(sha) => catalog.version_at(sha)?,
        None => None,
    };
    let mut versions = Vec::new();
    for i in 0..catalog.len() {
        let exclusion = catalog.exclusion(i, &rules)?;
        let sha = catalog.commit(i)?;
        let e = catalog.entry(i);
        versions.push(Row {
            version: e.version.to_string(),
            tag: e.tag.name.clone(),
            date: e
                .tag
                .peeled
                .as_ref()
                .and_then(|p| p.date)
                .map(|d| d.to_rfc3339()),
            sha,
            deployed: deployed_index == Some(i),
            eligible: exclusion.is_none(),
            reason: exclusion.map(|x| x.describe().to_string()),
        });
    }
    Ok(History {
        service: service.name.clone(),
        environment: environment.to_string(),
        deploy_tag,
        deployed_sha,
        versions,
        ignored: catalog.ignored.clone(),
    })
}

pub fn text(h: &History, all: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} in {}: deploy tag `{}` {}",
        h.service,
        h.environment,
        h.deploy_tag,
        h.deployed_sha
            .as_deref()
            .map_or("does not exist".to_string(), |s| format!(
                "at {}",
                crate::plan::short(s)
            ))
    );
    for r in &h.versions {
        let mark = if r.deployed { "*" } else { " " };
        let status = if r.eligible {
            "eligible".to_string()
        } else {
            format!("not eligible: {}", r.reason.clone().unwrap_or_default())
        };
        let _ = writeln!(
            out,
            "{mark} {:<24} {:<40} {} {}  {status}",
            r.version,
            r.tag,
            crate::plan::short(&r.sha),
            r.date.as_deref().unwrap_or("")
        );
    }
    if all {
        for t in &h.ignored {
            let _ = writeln!(out, "  (ignored, not a version) {t}");
        }
    } else if !h.ignored.is_empty() {
        let _ = writeln!(
            out,
            "{} other tag(s) under the prefix are not versions (`--all` lists them)",
            h.ignored.len()
        );
    }
    out
}
