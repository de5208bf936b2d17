//! The manifest `.github/rollback.yml` (DESIGN §2, §11.1–2): the validated, defaults-resolved
//! form every other module reads. Parsing and validation live here too; nothing else reads YAML.

use std::collections::BTreeMap;

use crate::template::Template;

pub const DEFAULT_PATH: &str = ".github/rollback.yml";

/// What a dependent does when something it depends on rolls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cascade {
    Redeploy,
    Rollback,
}

/// A `skip` entry: an exact version (never read as `^`) or a SemVer requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Exact(semver::Version),
    Req(semver::VersionReq),
}

impl Skip {
    pub fn matches(&self, v: &semver::Version) -> bool {
        match self {
            // An exact entry without build metadata skips every build of that version.
            Skip::Exact(e) => {
                e.major == v.major
                    && e.minor == v.minor
                    && e.patch == v.patch
                    && e.pre == v.pre
                    && (e.build.is_empty() || e.build == v.build)
            }
            Skip::Req(r) => r.matches(v),
        }
    }
}

/// One service with every default applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub environment: String,
    /// Version tag naming; holds `{version}` exactly once.
    pub tag: Template,
    pub deploy_tag: Template,
    pub workflow: Template,
    pub ref_: Template,
    pub inputs: BTreeMap<String, Template>,
    pub prereleases: bool,
    pub require_release: bool,
    pub skip: Vec<Skip>,
    /// The text of each skip entry as written, for messages.
    pub skip_source: Vec<String>,
    pub cascade: Cascade,
    pub depends_on: Vec<String>,
    /// `owner/name`; `None` means the current repository.
    pub repo: Option<String>,
    /// argv run by `apply` on the local backend instead of a dispatch.
    pub command: Option<Vec<Template>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Where it was read from, for messages.
    pub path: String,
    /// The environments a rollback may name (explicit list, or every one named).
    pub environments: Vec<String>,
    pub services: BTreeMap<String, Service>,
}

impl Manifest {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }

    /// `(service, depends-on)` edges, for the graph module.
    pub fn dependencies(&self) -> BTreeMap<&str, Vec<&str>> {
        self.services
            .iter()
            .map(|(n, s)| {
                (
                    n.as_str(),
                    s.depends_on.iter().map(String::as_str).collect(),
                )
            })
            .collect()
    }
}

/// One problem found in the manifest, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, e.g. `services.api.depends-on`.
    pub key: String,
    /// 1-based line, where the parser knows it.
    pub line: Option<usize>,
    pub message: String,
}

/// Placeholder until the manifest parser lands.
pub fn parse(_text: &str, path: &str) -> Result<Manifest, Vec<Problem>> {
    Err(vec![Problem {
        key: String::new(),
        line: None,
        message: format!("{path}: parser not built yet"),
    }])
}

pub fn problems_to_error(_path: &str, problems: &[Problem]) -> crate::error::Error {
    crate::error::Error::new(
        crate::error::Kind::Manifest,
        problems
            .first()
            .map(|p| p.message.clone())
            .unwrap_or_default(),
    )
}
