//! The manifest `.github/rollback.yml` (DESIGN §2, §11.1–2): the validated, defaults-resolved
//! form every other module reads. Parsing and validation live here too; nothing else reads YAML.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::error::{Error, Kind};
use crate::refname;
use crate::template::{Placeholder, Template, Values};

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

impl Problem {
    fn new(key: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Problem {
            key: key.into(),
            line,
            message: message.into(),
        }
    }

    /// `path:line: key: message`, the form every manifest message takes.
    pub fn describe(&self, path: &str) -> String {
        let place = match self.line {
            Some(line) => format!("{path}:{line}"),
            None => path.to_string(),
        };
        if self.key.is_empty() {
            format!("{place}: {}", self.message)
        } else {
            format!("{place}: {}: {}", self.key, self.message)
        }
    }
}

/// One error for a manifest that did not validate: the first problem is the headline, the
/// others are details.
pub fn problems_to_error(path: &str, problems: &[Problem]) -> Error {
    let mut lines = problems.iter().map(|p| p.describe(path));
    let headline = lines
        .next()
        .unwrap_or_else(|| format!("{path}: the manifest is not valid"));
    let headline = match problems.len() {
        0 | 1 => headline,
        2 => format!("{headline} (and 1 more problem)"),
        n => format!("{headline} (and {} more problems)", n - 1),
    };
    Error::new(Kind::Manifest, headline)
        .with_details(lines)
        .with_help(format!(
            "fix {path} and check it with `rollback validate`; nothing was changed"
        ))
}

/// Parses and validates a whole manifest. Every problem found is returned, sorted by line.
pub fn parse(text: &str, path: &str) -> Result<Manifest, Vec<Problem>> {
    // Editors on Windows save a byte-order mark; YAML allows one at the start.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut cx = Cx::default();
    let manifest = load(text, &mut cx.problems).and_then(|root| cx.manifest(&root, path));
    let mut problems = cx.problems;
    match manifest {
        Some(m) if problems.is_empty() => Ok(m),
        _ => {
            if problems.is_empty() {
                problems.push(Problem::new("", None, "the manifest is not valid"));
            }
            problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            Err(problems)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML: events into a small tree where every node knows its line.

/// Deeper than any real manifest needs; keeps the tree (and its drop) shallow.
const MAX_DEPTH: usize = 32;

#[derive(Debug)]
enum Yaml {
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// Already reported (alias, tag); validators skip it silently.
    Bad,
}

#[derive(Debug)]
struct Node {
    yaml: Yaml,
    line: usize,
}

impl Node {
    fn is_null(&self) -> bool {
        matches!(&self.yaml, Yaml::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The text of a scalar that is not null, for keys and names.
    fn text(&self) -> Option<&str> {
        match &self.yaml {
            Yaml::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    fn what(&self) -> &'static str {
        match &self.yaml {
            Yaml::Scalar { .. } if self.is_null() => "empty",
            Yaml::Scalar { .. } => "a single value",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a map",
            Yaml::Bad => "not valid",
        }
    }
}

enum Frame {
    Seq {
        line: usize,
        bad: bool,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        bad: bool,
        path: String,
        entries: Vec<(Node, Node)>,
        /// Key text -> line of its first occurrence (finds duplicates without a scan).
        seen: std::collections::HashMap<String, usize>,
        key: Option<Node>,
    },
}

fn child_path(stack: &[Frame]) -> String {
    match stack.last() {
        None => String::new(),
        Some(Frame::Seq { .. }) => String::new(),
        Some(Frame::Map { path, key, .. }) => {
            let k = key.as_ref().and_then(Node::text).unwrap_or("?");
            join(path, k)
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Loads the one document of `text`, or reports why not.
fn load(text: &str, problems: &mut Vec<Problem>) -> Option<Node> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(e) => {
                problems.push(Problem::new(
                    "",
                    Some(e.marker().line().max(1)),
                    format!("not valid YAML: {}", e.info()),
                ));
                return None;
            }
        };
        let line = mark.line().max(1);
        let is_seq = matches!(event, Event::SequenceStart(..));
        let node = match event {
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    problems.push(Problem::new(
                        "",
                        Some(line),
                        "more than one YAML document (`---`); the manifest is a single document",
                    ));
                    return None;
                }
                continue;
            }
            Event::Alias(_) => {
                problems.push(Problem::new(
                    child_path(&stack),
                    Some(line),
                    "aliases (`*name`) are not supported; write the value out",
                ));
                Node {
                    yaml: Yaml::Bad,
                    line,
                }
            }
            Event::Scalar(text, style, _anchor, tag) => {
                if let Some(tag) = tag {
                    problems.push(tag_problem(child_path(&stack), line, &tag));
                    Node {
                        yaml: Yaml::Bad,
                        line,
                    }
                } else {
                    Node {
                        yaml: Yaml::Scalar {
                            text,
                            plain: style == TScalarStyle::Plain,
                        },
                        line,
                    }
                }
            }
            Event::SequenceStart(_, tag) | Event::MappingStart(_, tag) => {
                if stack.len() >= MAX_DEPTH {
                    problems.push(Problem::new(
                        child_path(&stack),
                        Some(line),
                        format!("nested more than {MAX_DEPTH} levels deep"),
                    ));
                    return None;
                }
                let path = child_path(&stack);
                let bad = match tag {
                    Some(tag) => {
                        problems.push(tag_problem(path.clone(), line, &tag));
                        true
                    }
                    None => false,
                };
                stack.push(if is_seq {
                    Frame::Seq {
                        line,
                        bad,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        line,
                        bad,
                        path,
                        entries: Vec::new(),
                        seen: std::collections::HashMap::new(),
                        key: None,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { line, bad, items }) => Node {
                    yaml: if bad { Yaml::Bad } else { Yaml::Seq(items) },
                    line,
                },
                Some(Frame::Map {
                    line, bad, entries, ..
                }) => Node {
                    yaml: if bad { Yaml::Bad } else { Yaml::Map(entries) },
                    line,
                },
                None => continue,
            },
        };
        match stack.last_mut() {
            None => {
                if root.is_none() {
                    root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                path,
                entries,
                seen,
                key,
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let mut node = node;
                    // An empty value's event is marked where the next token starts.
                    if matches!(&node.yaml, Yaml::Scalar { text, plain: true } if text.is_empty()) {
                        node.line = k.line;
                    }
                    let first = k.text().and_then(|t| match seen.get(t) {
                        Some(line) => Some(*line),
                        None => {
                            seen.insert(t.to_string(), k.line);
                            None
                        }
                    });
                    match first {
                        Some(first) => problems.push(Problem::new(
                            join(path, &show(k.text().unwrap_or(""))),
                            Some(k.line),
                            format!("duplicate key (first at line {first}); keep one"),
                        )),
                        None => entries.push((k, node)),
                    }
                }
            },
        }
    }
    if root.is_none() && problems.is_empty() {
        problems.push(Problem::new(
            "",
            Some(1),
            "the manifest is empty; it needs a `services` map",
        ));
    }
    root
}

fn tag_problem(key: String, line: usize, tag: &yaml_rust2::parser::Tag) -> Problem {
    Problem::new(
        key,
        Some(line),
        format!(
            "YAML tags (`{}{}`) are not supported; quote the value to make it a string",
            tag.handle,
            show(&tag.suffix)
        ),
    )
}

/// A name or value as messages quote it: long ones shortened.
fn show(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

// ---------------------------------------------------------------------------------------------
// Schema: the tree into a `Manifest`, collecting every problem.

const TOP_KEYS: &[&str] = &["defaults", "services", "environments"];
const DEFAULT_KEYS: &[&str] = &[
    "environment",
    "tag",
    "deploy-tag",
    "workflow",
    "ref",
    "inputs",
    "prereleases",
    "require-release",
    "skip",
    "cascade",
];
const SERVICE_ONLY_KEYS: &[&str] = &["depends-on", "repo", "command"];
const RESERVED_SERVICE_NAMES: &[&str] = &["plan", "help"];

const NAME_PLACEHOLDERS: &[Placeholder] = &[Placeholder::Service, Placeholder::Environment];
const TAG_PLACEHOLDERS: &[Placeholder] = &[
    Placeholder::Service,
    Placeholder::Environment,
    Placeholder::Version,
];
const REF_PLACEHOLDERS: &[Placeholder] = &[
    Placeholder::Service,
    Placeholder::Environment,
    Placeholder::Version,
    Placeholder::Tag,
    Placeholder::DefaultBranch,
];

const BUILTIN_ENVIRONMENT: &str = "production";
const BUILTIN_TAG: &str = "{service}/v{version}";
const BUILTIN_DEPLOY_TAG: &str = "deploy/{environment}/{service}";
const BUILTIN_WORKFLOW: &str = "deploy.yml";
const BUILTIN_REF: &str = "{default_branch}";

/// Versions the tag template is tried with: a plain one and one with pre-release and build.
const SAMPLE_VERSIONS: &[&str] = &["1.2.3", "1.2.3-rc.1+build.5"];
const SAMPLE_BRANCH: &str = "main";

/// A value and where it was written (`line: None` for a built-in default).
#[derive(Debug, Clone)]
struct At<T> {
    value: T,
    key: String,
    line: Option<usize>,
}

impl<T> At<T> {
    fn builtin(value: T, key: &str) -> Self {
        At {
            value,
            key: format!("defaults.{key} (built-in)"),
            line: None,
        }
    }
}

/// The keys one `defaults` or service map sets.
#[derive(Debug, Default, Clone)]
struct Layer {
    environment: Option<At<String>>,
    tag: Option<At<Template>>,
    deploy_tag: Option<At<Template>>,
    workflow: Option<At<Template>>,
    ref_: Option<At<Template>>,
    inputs: Option<BTreeMap<String, Template>>,
    prereleases: Option<bool>,
    require_release: Option<bool>,
    skip: Option<(Vec<Skip>, Vec<String>)>,
    cascade: Option<Cascade>,
    depends_on: Vec<At<String>>,
    depends_on_line: Option<usize>,
    repo: Option<String>,
    command: Option<Vec<Template>>,
}

#[derive(Default)]
struct Cx {
    problems: Vec<Problem>,
}

fn builtin_template(source: &str) -> Template {
    Template::parse(source).unwrap_or_else(|_| Template::literal(source))
}

impl Cx {
    fn add(&mut self, key: &str, line: Option<usize>, message: impl Into<String>) {
        self.problems.push(Problem::new(key, line, message));
    }

    fn manifest(&mut self, root: &Node, path: &str) -> Option<Manifest> {
        let entries = match &root.yaml {
            Yaml::Map(e) => e,
            Yaml::Bad => return None,
            _ => {
                self.add(
                    "",
                    Some(root.line),
                    format!(
                        "the manifest must be a map with a `services` key, not {}",
                        root.what()
                    ),
                );
                return None;
            }
        };
        let mut defaults = Layer::default();
        let mut services: Option<(&Node, &Node)> = None;
        let mut environments: Option<(&Node, &Node)> = None;
        for (k, v) in entries {
            let Some(key) = self.key(k, "") else { continue };
            match key {
                "defaults" => match &v.yaml {
                    Yaml::Map(e) => defaults = self.layer("defaults", e, false),
                    Yaml::Bad => {}
                    _ if v.is_null() => {}
                    _ => self.add(
                        "defaults",
                        Some(v.line),
                        format!("must be a map of settings, not {}", v.what()),
                    ),
                },
                "services" => services = Some((k, v)),
                "environments" => environments = Some((k, v)),
                other => self.unknown_key("", k.line, other, TOP_KEYS),
            }
        }

        let mut layers: Vec<(String, usize, Layer)> = Vec::new();
        match services {
            None => self.add(
                "services",
                Some(root.line),
                "missing; the manifest needs a `services` map naming at least one service",
            ),
            Some((k, v)) => match &v.yaml {
                Yaml::Map(e) if !e.is_empty() => {
                    for (sk, sv) in e {
                        let Some(name) = self.key(sk, "services") else {
                            continue;
                        };
                        let spath = join("services", name);
                        if let Some(why) = name_problem(name) {
                            self.add(&spath, Some(sk.line), format!("service name {why}"));
                        } else if RESERVED_SERVICE_NAMES
                            .iter()
                            .any(|r| r.eq_ignore_ascii_case(name))
                        {
                            self.add(
                                &spath,
                                Some(sk.line),
                                format!(
                                    "`{name}` is reserved (it is a word of the `/rollback` comment grammar); rename the service"
                                ),
                            );
                        }
                        let layer = match &sv.yaml {
                            Yaml::Map(e) => self.layer(&spath, e, true),
                            Yaml::Bad => Layer::default(),
                            _ if sv.is_null() => Layer::default(),
                            _ => {
                                self.add(
                                    &spath,
                                    Some(sv.line),
                                    format!(
                                        "must be a map of settings (or `{{}}`), not {}",
                                        sv.what()
                                    ),
                                );
                                Layer::default()
                            }
                        };
                        layers.push((name.to_string(), sk.line, layer));
                    }
                }
                Yaml::Bad => {}
                _ => self.add(
                    "services",
                    Some(if v.is_null() { k.line } else { v.line }),
                    "must be a map naming at least one service, e.g. `services: {api: {}}`",
                ),
            },
        }

        let explicit = environments.and_then(|(k, v)| self.environment_list(k.line, v));
        let names: BTreeSet<&str> = layers.iter().map(|(n, _, _)| n.as_str()).collect();

        let mut out: BTreeMap<String, Service> = BTreeMap::new();
        let mut origins: BTreeMap<String, [At<Template>; 4]> = BTreeMap::new();
        let mut dep_lines: BTreeMap<String, Option<usize>> = BTreeMap::new();
        let mut used_builtin_env = false;
        for (name, _line, layer) in &layers {
            let spath = join("services", name);
            let environment = match (&layer.environment, &defaults.environment) {
                (Some(e), _) | (None, Some(e)) => e.value.clone(),
                (None, None) => {
                    used_builtin_env = true;
                    BUILTIN_ENVIRONMENT.to_string()
                }
            };
            let pick = |s: &Option<At<Template>>, d: &Option<At<Template>>, key, b| {
                s.clone()
                    .or_else(|| d.clone())
                    .unwrap_or_else(|| At::builtin(builtin_template(b), key))
            };
            let tag = pick(&layer.tag, &defaults.tag, "tag", BUILTIN_TAG);
            let deploy_tag = pick(
                &layer.deploy_tag,
                &defaults.deploy_tag,
                "deploy-tag",
                BUILTIN_DEPLOY_TAG,
            );
            let workflow = pick(
                &layer.workflow,
                &defaults.workflow,
                "workflow",
                BUILTIN_WORKFLOW,
            );
            let ref_ = pick(&layer.ref_, &defaults.ref_, "ref", BUILTIN_REF);
            let inputs = layer
                .inputs
                .clone()
                .or_else(|| defaults.inputs.clone())
                .unwrap_or_else(|| {
                    BTreeMap::from([("version".to_string(), builtin_template("{version}"))])
                });
            let (skip, skip_source) = layer
                .skip
                .clone()
                .or_else(|| defaults.skip.clone())
                .unwrap_or_default();

            // Graph edges: only known, distinct, other services (the rest is reported).
            let mut depends_on: Vec<String> = Vec::new();
            for dep in &layer.depends_on {
                let key = join(&spath, "depends-on");
                let d = dep.value.as_str();
                if d == name {
                    self.add(&key, dep.line, format!("`{}` depends on itself", show(d)));
                } else if !names.contains(d) {
                    let hint = match suggest(d, names.iter().copied()) {
                        Some(s) => format!("; did you mean `{s}`?"),
                        None => {
                            let mut list: Vec<String> = names
                                .iter()
                                .take(20)
                                .map(|n| format!("`{}`", show(n)))
                                .collect();
                            if names.len() > 20 {
                                list.push("…".to_string());
                            }
                            format!("; the services are {}", list.join(", "))
                        }
                    };
                    self.add(
                        &key,
                        dep.line,
                        format!("unknown service `{}`{hint}", show(d)),
                    );
                } else if depends_on.iter().any(|x| x == d) {
                    self.add(&key, dep.line, format!("`{d}` is listed twice"));
                } else {
                    depends_on.push(d.to_string());
                }
            }
            dep_lines.insert(name.clone(), layer.depends_on_line);

            out.insert(
                name.clone(),
                Service {
                    name: name.clone(),
                    environment,
                    tag: tag.value.clone(),
                    deploy_tag: deploy_tag.value.clone(),
                    workflow: workflow.value.clone(),
                    ref_: ref_.value.clone(),
                    inputs,
                    prereleases: layer.prereleases.or(defaults.prereleases).unwrap_or(false),
                    require_release: layer
                        .require_release
                        .or(defaults.require_release)
                        .unwrap_or(false),
                    skip,
                    skip_source,
                    cascade: layer
                        .cascade
                        .or(defaults.cascade)
                        .unwrap_or(Cascade::Redeploy),
                    depends_on,
                    repo: layer.repo.clone(),
                    command: layer.command.clone(),
                },
            );
            origins.insert(name.clone(), [tag, deploy_tag, workflow, ref_]);
        }

        // Environments: the explicit list, or every one named.
        let mut named: Vec<&At<String>> = defaults.environment.iter().collect();
        named.extend(layers.iter().filter_map(|(_, _, l)| l.environment.as_ref()));
        let env_list: Vec<String> = match explicit {
            Some((list, line)) => {
                for e in &named {
                    if !list.contains(&e.value) {
                        self.add(
                            &e.key,
                            e.line,
                            format!(
                                "environment `{}` is not in `environments` (line {line}); add it there",
                                show(&e.value)
                            ),
                        );
                    }
                }
                if used_builtin_env && !list.iter().any(|e| e == BUILTIN_ENVIRONMENT) {
                    self.add(
                        "environments",
                        Some(line),
                        "does not list `production`, the environment of services that set none; add it or set `defaults.environment`",
                    );
                }
                list
            }
            None => {
                let set: BTreeSet<String> = named
                    .iter()
                    .map(|e| e.value.clone())
                    .chain(out.values().map(|s| s.environment.clone()))
                    .collect();
                set.into_iter().collect()
            }
        };

        // Rendered names: every service in every (valid) environment.
        let valid_envs: Vec<&String> = env_list
            .iter()
            .filter(|e| name_problem(e).is_none())
            .collect();
        let mut reported: BTreeSet<String> = BTreeSet::new();
        let mut deploy_tags: BTreeMap<(Option<String>, String), (String, String)> = BTreeMap::new();
        for (name, svc) in &out {
            if name_problem(name).is_some() {
                continue;
            }
            let Some(origin) = origins.get(name) else {
                continue;
            };
            for env in &valid_envs {
                let values = Values::new()
                    .with(Placeholder::Service, name.as_str())
                    .with(Placeholder::Environment, env.as_str());
                self.check_rendered(name, env, &values, origin, &mut reported);
                let deploy = svc.deploy_tag.render(&values);
                let slot = (svc.repo.clone(), deploy.clone());
                match deploy_tags.get(&slot) {
                    Some((other, other_env)) if !reported.contains(&origin[1].key) => {
                        reported.insert(origin[1].key.clone());
                        let key = origin[1].key.clone();
                        let line = origin[1].line;
                        let place = if other_env == env.as_str() {
                            format!("in {env}")
                        } else {
                            format!("(`{other}` in {other_env}, `{name}` in {env})")
                        };
                        self.add(
                            &key,
                            line,
                            format!(
                                "services `{other}` and `{name}` would share the deploy tag `{}` {place}; put `{{service}}` and `{{environment}}` in it",
                                show(&deploy)
                            ),
                        );
                    }
                    Some(_) => {}
                    None => {
                        deploy_tags.insert(slot, (name.clone(), env.to_string()));
                    }
                }
            }
        }

        // A deploy tag must be no version tag (moving it would rewrite a release) and no
        // path-prefix of another deploy tag (git cannot store `a` and `a/x` side by side).
        // (repository, literal prefix) -> the services whose version tags start with it.
        type Patterns =
            BTreeMap<(Option<String>, String), Vec<(String, crate::version::TagPattern)>>;
        let mut patterns: Patterns = BTreeMap::new();
        for (name, svc) in &out {
            for env in &valid_envs {
                if let Some(p) = crate::version::TagPattern::new(&svc.tag, name, env) {
                    patterns
                        .entry((svc.repo.clone(), p.prefix().to_string()))
                        .or_default()
                        .push((name.clone(), p));
                }
            }
        }
        let mut clashes: Vec<(String, String)> = Vec::new();
        for ((repo, deploy), (name, _)) in &deploy_tags {
            if deploy.starts_with('-') {
                clashes.push((
                    name.clone(),
                    format!(
                        "renders to `{}`, and a tag name may not start with `-`",
                        show(deploy)
                    ),
                ));
                continue;
            }
            // Only patterns whose literal prefix starts the name can match it.
            let hit = deploy
                .char_indices()
                .map(|(i, _)| i)
                .chain([deploy.len()])
                .find_map(|cut| {
                    let key = (repo.clone(), deploy[..cut].to_string());
                    patterns
                        .get(&key)
                        .and_then(|ps| ps.iter().find(|(_, p)| p.matches(deploy).is_some()))
                        .map(|(owner, _)| owner.clone())
                });
            if let Some(owner) = hit {
                clashes.push((name.clone(), format!(
                    "renders to `{}`, which is also a version tag of `{owner}`: moving it would rewrite that release",
                    show(deploy)
                )));
            }
            let below = format!("{deploy}/");
            if let Some(((_, inner), (other, _))) = deploy_tags
                .range((repo.clone(), below.clone())..)
                .next()
                .filter(|((r, n), _)| r == repo && n.starts_with(&below))
            {
                clashes.push((name.clone(), format!(
                    "renders to `{}`, and `{other}`'s deploy tag `{}` lies below it; git cannot store both",
                    show(deploy),
                    show(inner)
                )));
            }
        }
        for (name, message) in clashes {
            if let Some(origin) = origins.get(&name) {
                let key = origin[1].key.clone();
                if reported.insert(key.clone()) {
                    self.add(&key, origin[1].line, message);
                }
            }
        }

        let manifest = Manifest {
            path: path.to_string(),
            environments: env_list,
            services: out,
        };
        if let Some(cycle) = crate::graph::find_cycle(&manifest.dependencies()) {
            let first = cycle.first().cloned().unwrap_or_default();
            let line = dep_lines.get(&first).copied().flatten();
            self.add(
                &join(&join("services", &first), "depends-on"),
                line,
                format!("cycle in depends-on: {}", cycle.join(" -> ")),
            );
        }
        Some(manifest)
    }

    /// Renders one service's name templates in one environment and checks the results.
    fn check_rendered(
        &mut self,
        service: &str,
        env: &str,
        values: &Values,
        origin: &[At<Template>; 4],
        reported: &mut BTreeSet<String>,
    ) {
        let [tag, deploy_tag, workflow, ref_] = origin;
        let place = format!("for service `{service}` in environment `{env}`");
        let mut found: Vec<(&At<Template>, String)> = Vec::new();
        let mut sample_tag = String::new();
        for v in SAMPLE_VERSIONS {
            let rendered = tag
                .value
                .render(&values.clone().with(Placeholder::Version, *v));
            if sample_tag.is_empty() {
                sample_tag = rendered.clone();
            }
            if let Err(e) = refname::check_tag(&rendered) {
                found.push((
                    tag,
                    format!(
                        "renders to `{}` {place}, which is not a valid git tag name: {e}",
                        show(&rendered)
                    ),
                ));
                break;
            }
        }
        let rendered = deploy_tag.value.render(values);
        if let Err(e) = refname::check_tag(&rendered) {
            found.push((
                deploy_tag,
                format!(
                    "renders to `{}` {place}, which is not a valid git tag name: {e}",
                    show(&rendered)
                ),
            ));
        }
        let rendered = workflow.value.render(values);
        if let Some(why) = workflow_problem(&rendered) {
            found.push((
                workflow,
                format!("renders to `{}` {place}, which {why}", show(&rendered)),
            ));
        }
        let ref_values = values
            .clone()
            .with(Placeholder::Version, SAMPLE_VERSIONS[0])
            .with(Placeholder::Tag, sample_tag)
            .with(Placeholder::DefaultBranch, SAMPLE_BRANCH);
        let rendered = ref_.value.render(&ref_values);
        let why = if rendered.len() == 40 && rendered.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some("is a commit sha; `ref` must be a branch or tag name".to_string())
        } else {
            refname::check_branch(&rendered)
                .err()
                .map(|e| format!("is not a valid branch or tag name: {e}"))
        };
        if let Some(why) = why {
            found.push((
                ref_,
                format!("renders to `{}` {place}, which {why}", show(&rendered)),
            ));
        }
        for (at, message) in found {
            // One problem per written template, not one per service and environment.
            if reported.insert(at.key.clone()) {
                self.add(&at.key, at.line, message);
            }
        }
    }

    fn key<'n>(&mut self, k: &'n Node, path: &str) -> Option<&'n str> {
        match (&k.yaml, k.text()) {
            (_, Some(t)) => Some(t),
            (Yaml::Bad, _) => None,
            _ => {
                let key = if path.is_empty() { "" } else { path };
                self.add(
                    key,
                    Some(k.line),
                    format!("keys must be plain names, not {}", k.what()),
                );
                None
            }
        }
    }

    fn unknown_key(&mut self, path: &str, line: usize, key: &str, known: &[&str]) {
        let message = match suggest(key, known.iter().copied()) {
            Some(s) => format!("unknown key; did you mean `{s}`?"),
            None => format!(
                "unknown key; the keys here are {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.add(&join(path, &show(key)), Some(line), message);
    }

    fn layer(&mut self, path: &str, entries: &[(Node, Node)], service: bool) -> Layer {
        let mut l = Layer::default();
        for (k, v) in entries {
            let Some(key) = self.key(k, path) else {
                continue;
            };
            let kp = join(path, key);
            let line = Some(v.line);
            match key {
                "environment" => {
                    l.environment = self.name(&kp, v, "environment").map(|value| At {
                        value,
                        key: kp.clone(),
                        line,
                    })
                }
                "tag" => {
                    l.tag = self.tag_template(&kp, v).map(|value| At {
                        value,
                        key: kp.clone(),
                        line,
                    })
                }
                "deploy-tag" => {
                    l.deploy_tag = self.template(&kp, v, NAME_PLACEHOLDERS).map(|value| At {
                        value,
                        key: kp.clone(),
                        line,
                    })
                }
                "workflow" => {
                    l.workflow = self.template(&kp, v, NAME_PLACEHOLDERS).map(|value| At {
                        value,
                        key: kp.clone(),
                        line,
                    })
                }
                "ref" => {
                    l.ref_ = self.template(&kp, v, REF_PLACEHOLDERS).map(|value| At {
                        value,
                        key: kp.clone(),
                        line,
                    })
                }
                "inputs" => l.inputs = self.inputs(&kp, v),
                "prereleases" => l.prereleases = self.boolean(&kp, v),
                "require-release" => l.require_release = self.boolean(&kp, v),
                "skip" => l.skip = self.skip(&kp, v),
                "cascade" => l.cascade = self.cascade(&kp, v),
                "depends-on" | "repo" | "command" if !service => {
                    self.add(&kp, Some(k.line), "is set per service, not in `defaults`")
                }
                "depends-on" => {
                    l.depends_on_line = Some(k.line);
                    l.depends_on = self.depends_on(&kp, v);
                }
                "repo" => l.repo = self.repo(&kp, v),
                "command" => l.command = self.command(&kp, v),
                other => {
                    let known: Vec<&str> = if service {
                        DEFAULT_KEYS
                            .iter()
                            .chain(SERVICE_ONLY_KEYS)
                            .copied()
                            .collect()
                    } else {
                        DEFAULT_KEYS.to_vec()
                    };
                    self.unknown_key(path, k.line, other, &known)
                }
            }
        }
        l
    }

    /// A scalar's text; numbers and booleans count as their text.
    fn string(&mut self, key: &str, v: &Node) -> Option<String> {
        match &v.yaml {
            Yaml::Bad => None,
            Yaml::Scalar { .. } if v.is_null() => {
                self.add(key, Some(v.line), "needs a value");
                None
            }
            Yaml::Scalar { text, .. } => Some(text.clone()),
            _ => {
                self.add(
                    key,
                    Some(v.line),
                    format!("must be a string, not {}", v.what()),
                );
                None
            }
        }
    }

    fn name(&mut self, key: &str, v: &Node, what: &str) -> Option<String> {
        let text = self.string(key, v)?;
        match name_problem(&text) {
            Some(why) => {
                self.add(key, Some(v.line), format!("{what} name {why}"));
                None
            }
            None => Some(text),
        }
    }

    fn template(&mut self, key: &str, v: &Node, allowed: &[Placeholder]) -> Option<Template> {
        let text = self.string(key, v)?;
        let t = match Template::parse(&text) {
            Ok(t) => t,
            Err(e) => {
                self.add(
                    key,
                    Some(v.line),
                    format!("template `{}`: {e}", show(&text)),
                );
                return None;
            }
        };
        let mut bad: Vec<Placeholder> = t.placeholders().filter(|p| !allowed.contains(p)).collect();
        bad.sort();
        bad.dedup();
        if bad.is_empty() {
            return Some(t);
        }
        let list = |ps: &[Placeholder]| {
            ps.iter()
                .map(|p| format!("{{{}}}", p.name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.add(
            key,
            Some(v.line),
            format!(
                "{} cannot be used here; this key may use {}",
                list(&bad),
                list(allowed)
            ),
        );
        None
    }

    fn tag_template(&mut self, key: &str, v: &Node) -> Option<Template> {
        let t = self.template(key, v, TAG_PLACEHOLDERS)?;
        match t
            .placeholders()
            .filter(|p| *p == Placeholder::Version)
            .count()
        {
            1 => Some(t),
            0 => {
                self.add(
                    key,
                    Some(v.line),
                    format!(
                        "`{}` has no `{{version}}`; a version tag template must say where the version goes, e.g. `{{service}}/v{{version}}`",
                        show(t.source())
                    ),
                );
                None
            }
            _ => {
                self.add(
                    key,
                    Some(v.line),
                    format!(
                        "`{}` has `{{version}}` more than once; use it exactly once",
                        show(t.source())
                    ),
                );
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, v: &Node) -> Option<bool> {
        match &v.yaml {
            Yaml::Bad => None,
            Yaml::Scalar { text, plain: true }
                if matches!(text.as_str(), "true" | "True" | "TRUE") =>
            {
                Some(true)
            }
            Yaml::Scalar { text, plain: true }
                if matches!(text.as_str(), "false" | "False" | "FALSE") =>
            {
                Some(false)
            }
            Yaml::Scalar { text, plain } => {
                let lower = text.to_ascii_lowercase();
                let why = if !plain && matches!(lower.as_str(), "true" | "false") {
                    format!(
                        "must be `true` or `false` without quotes, not the string \"{}\"",
                        show(text)
                    )
                } else if matches!(lower.as_str(), "yes" | "no" | "on" | "off" | "y" | "n") {
                    format!(
                        "must be `true` or `false`; `{}` is a string in YAML 1.2",
                        show(text)
                    )
                } else {
                    format!("must be `true` or `false`, not `{}`", show(text))
                };
                self.add(key, Some(v.line), why);
                None
            }
            _ => {
                self.add(
                    key,
                    Some(v.line),
                    format!("must be `true` or `false`, not {}", v.what()),
                );
                None
            }
        }
    }

    fn list<'n>(&mut self, key: &str, v: &'n Node, example: &str) -> Option<&'n [Node]> {
        match &v.yaml {
            Yaml::Seq(items) => Some(items),
            Yaml::Bad => None,
            _ if v.is_null() => Some(&[]),
            _ => {
                self.add(
                    key,
                    Some(v.line),
                    format!("must be a list, e.g. `{example}`, not {}", v.what()),
                );
                None
            }
        }
    }

    fn skip(&mut self, key: &str, v: &Node) -> Option<(Vec<Skip>, Vec<String>)> {
        let items = self.list(key, v, "[\"1.3.0\", \">=2.0.0, <2.0.3\"]")?;
        let mut skips = Vec::new();
        let mut sources = Vec::new();
        let mut ok = true;
        for item in items {
            let text = match &item.yaml {
                Yaml::Bad => {
                    ok = false;
                    continue;
                }
                Yaml::Scalar { text, plain } => {
                    if let Some(kind) = plain.then(|| core_type(text)).flatten() {
                        self.add(
                            key,
                            Some(item.line),
                            format!(
                                "entry `{}` is read as {kind}, not a string; quote it (`\"1.3.0\"` for one version, `\"~1.3\"` for a range)",
                                show(text)
                            ),
                        );
                        ok = false;
                        continue;
                    }
                    text
                }
                _ => {
                    self.add(
                        key,
                        Some(item.line),
                        format!("entries must be strings, not {}", item.what()),
                    );
                    ok = false;
                    continue;
                }
            };
            match parse_skip(text) {
                Ok(s) => {
                    skips.push(s);
                    sources.push(text.clone());
                }
                Err(why) => {
                    self.add(key, Some(item.line), why);
                    ok = false;
                }
            }
        }
        ok.then_some((skips, sources))
    }

    fn inputs(&mut self, key: &str, v: &Node) -> Option<BTreeMap<String, Template>> {
        let entries = match &v.yaml {
            Yaml::Map(e) => e,
            Yaml::Bad => return None,
            _ if v.is_null() => return Some(BTreeMap::new()),
            _ => {
                self.add(
                    key,
                    Some(v.line),
                    format!(
                        "must be a map of workflow input names to values, e.g. `{{version: \"{{version}}\"}}`, not {}",
                        v.what()
                    ),
                );
                return None;
            }
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, val) in entries {
            let Some(name) = self.key(k, key) else {
                ok = false;
                continue;
            };
            let ikey = join(key, &show(name));
            if !valid_input_name(name) {
                self.add(
                    &ikey,
                    Some(k.line),
                    "is not a valid workflow input name (letters, digits, `_` and `-`, starting with a letter or `_`)",
                );
                ok = false;
                continue;
            }
            if val.is_null() && matches!(val.yaml, Yaml::Scalar { .. }) {
                self.add(
                    &ikey,
                    Some(val.line),
                    "needs a value; write \"\" for an empty input",
                );
                ok = false;
                continue;
            }
            match self.template(&ikey, val, &Placeholder::ALL) {
                Some(t) => {
                    out.insert(name.to_string(), t);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn cascade(&mut self, key: &str, v: &Node) -> Option<Cascade> {
        let text = self.string(key, v)?;
        match text.as_str() {
            "redeploy" => Some(Cascade::Redeploy),
            "rollback" => Some(Cascade::Rollback),
            other => {
                let hint = suggest(other, ["redeploy", "rollback"])
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                self.add(
                    key,
                    Some(v.line),
                    format!(
                        "must be `redeploy` or `rollback`, not `{}`{hint}",
                        show(other)
                    ),
                );
                None
            }
        }
    }

    fn depends_on(&mut self, key: &str, v: &Node) -> Vec<At<String>> {
        let Some(items) = self.list(key, v, "[db]") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            if let Some(name) = self.string(key, item) {
                out.push(At {
                    value: name,
                    key: key.to_string(),
                    line: Some(item.line),
                });
            }
        }
        out
    }

    fn repo(&mut self, key: &str, v: &Node) -> Option<String> {
        let text = self.string(key, v)?;
        match repo_problem(&text) {
            None => Some(text),
            Some(why) => {
                self.add(
                    key,
                    Some(v.line),
                    format!("`{}` is not an `owner/name` repository: {why}", show(&text)),
                );
                None
            }
        }
    }

    fn command(&mut self, key: &str, v: &Node) -> Option<Vec<Template>> {
        let example = "[./deploy.sh, \"{version}\"]";
        let items = self.list(key, v, example)?;
        if items.is_empty() {
            self.add(
                key,
                Some(v.line),
                format!("must list at least the program to run, e.g. `{example}`"),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.template(key, item, &Placeholder::ALL) {
                Some(t) if i == 0 && t.segments().is_empty() => {
                    self.add(key, Some(item.line), "the program (first entry) is empty");
                    ok = false;
                }
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn environment_list(&mut self, key_line: usize, v: &Node) -> Option<(Vec<String>, usize)> {
        let key = "environments";
        let items = self.list(key, v, "[production, staging]")?;
        if items.is_empty() {
            self.add(key, Some(v.line), "must name at least one environment");
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        for item in items {
            let Some(name) = self.name(key, item, "environment") else {
                continue;
            };
            if out.contains(&name) {
                self.add(key, Some(item.line), format!("`{name}` is listed twice"));
            } else {
                out.push(name);
            }
        }
        Some((out, key_line))
    }
}

/// Why a service or environment name is not valid (DESIGN §11.2), or `None`.
fn name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Some("is empty".to_string());
    };
    if !first.is_ascii_alphanumeric() {
        return Some(format!(
            "`{}` must start with a letter or digit",
            show(name)
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "`{}` has `{}`; names use letters, digits, `.`, `_` and `-`",
            show(name),
            c.escape_default()
        ));
    }
    if name.contains("..") {
        return Some(format!(
            "`{}` has `..`, which git refuses in a ref name",
            show(name)
        ));
    }
    if name.ends_with(".lock") {
        return Some(format!(
            "`{}` ends with `.lock`, which git refuses in a ref name",
            show(name)
        ));
    }
    if name.ends_with('.') {
        return Some(format!(
            "`{}` ends with `.`, which git refuses in a ref name",
            show(name)
        ));
    }
    None
}

/// Why a rendered `workflow` is neither a file name under `.github/workflows/` nor an id.
fn workflow_problem(w: &str) -> Option<&'static str> {
    if !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if w.contains('/') || w.contains('\\') {
        return Some("must be a file name under .github/workflows/ without a directory (or a numeric workflow id)");
    }
    let stem = w.strip_suffix(".yml").or_else(|| w.strip_suffix(".yaml"));
    match stem {
        Some(s) if !s.is_empty() && !w.chars().any(|c| c.is_control()) => None,
        _ => Some("must be a `.yml` or `.yaml` file name under .github/workflows/ (or a numeric workflow id)"),
    }
}

/// GitHub's rules for `owner/name`, or `None` when fine.
fn repo_problem(repo: &str) -> Option<&'static str> {
    let Some((owner, name)) = repo.split_once('/') else {
        return Some("it needs exactly one `/`");
    };
    if name.contains('/') {
        return Some("it needs exactly one `/`");
    }
    if owner.is_empty()
        || owner.len() > 39
        || owner.starts_with('-')
        || owner.ends_with('-')
        || !owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Some("the owner takes 1 to 39 letters, digits and inner `-`");
    }
    if name.is_empty()
        || name.len() > 100
        || name == "."
        || name == ".."
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Some("the name takes 1 to 100 letters, digits, `.`, `_` and `-`");
    }
    None
}

fn valid_input_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// A `skip` entry: an exact version (optional `v`) first, else a SemVer requirement.
fn parse_skip(text: &str) -> Result<Skip, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("an entry is empty; write a version or a SemVer requirement".to_string());
    }
    let exact = t.strip_prefix(['v', 'V']).unwrap_or(t);
    if let Ok(v) = semver::Version::parse(exact) {
        return Ok(Skip::Exact(v));
    }
    semver::VersionReq::parse(t).map(Skip::Req).map_err(|e| {
        format!(
            "entry `{}` is neither a version (`1.3.0`) nor a SemVer requirement (`>=2.0.0, <2.0.3`): {e}",
            show(text)
        )
    })
}

/// What a plain scalar resolves to in the YAML 1.2 core schema when it is not a string.
fn core_type(text: &str) -> Option<&'static str> {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Some("null");
    }
    if matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
        return Some("a boolean");
    }
    if digits(unsigned, 10)
        || text.strip_prefix("0o").is_some_and(|s| digits(s, 8))
        || text.strip_prefix("0x").is_some_and(|s| digits(s, 16))
    {
        return Some("a number");
    }
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some("a number");
    }
    // [0-9]+(\.[0-9]*)? or \.[0-9]+, then an optional exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (digits(int, 10) && (frac.is_empty() || digits(frac, 10)))
                || (int.is_empty() && digits(frac, 10))
        }
        None => digits(mantissa, 10),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    (mantissa_ok && exponent_ok).then_some("a number")
}

/// The candidate a mistyped `word` most likely meant: same after case and `_`/`-`
/// normalisation, else within a small edit distance.
fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace('_', "-");
    let w = norm(word);
    if w.chars().count() > 64 {
        return None;
    }
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let n = norm(c);
        let d = if n == w || n.replace('-', "") == w.replace('-', "") {
            0
        } else {
            edit_distance(&w, &n)
        };
        let limit = (c.chars().count() / 3).clamp(1, 2);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance where swapping two neighbouring characters counts as one edit
/// (optimal string alignment), so `atuh` is one edit from `auth`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d: Vec<usize> = vec![0; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * w + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"defaults:                          # every key here can be overridden per service
  environment: production
  tag: "{service}/v{version}"      # version tag naming; must contain {version}
  deploy-tag: "deploy/{environment}/{service}"
  workflow: deploy.yml
  ref: "{default_branch}"
  inputs:
    version: "{version}"
  prereleases: false
  require-release: false
  skip: []
  cascade: redeploy
services:
  db: {}
  auth:
    depends-on: [db]
  api:
    depends-on: [auth, db]
    workflow: deploy-api.yml
  web:
    repo: acme/web
    tag: "v{version}"
    depends-on: [api]
    cascade: rollback
"#;

    fn problems(text: &str) -> Vec<Problem> {
        match parse(text, DEFAULT_PATH) {
            Ok(m) => panic!("expected problems, got {m:?}"),
            Err(p) => p,
        }
    }

    fn show_all(text: &str) -> Vec<String> {
        problems(text)
            .iter()
            .map(|p| p.describe(DEFAULT_PATH))
            .collect()
    }

    #[test]
    fn resolves_the_design_example() {
        let m = parse(EXAMPLE, DEFAULT_PATH).unwrap();
        assert_eq!(m.path, DEFAULT_PATH);
        assert_eq!(m.environments, vec!["production"]);
        assert_eq!(
            m.services.keys().collect::<Vec<_>>(),
            ["api", "auth", "db", "web"]
        );
        let db = m.service("db").unwrap();
        assert_eq!(db.tag.source(), "{service}/v{version}");
        assert_eq!(db.deploy_tag.source(), "deploy/{environment}/{service}");
        assert_eq!(db.workflow.source(), "deploy.yml");
        assert_eq!(db.ref_.source(), "{default_branch}");
        assert_eq!(db.inputs.keys().collect::<Vec<_>>(), ["version"]);
        assert_eq!(db.cascade, Cascade::Redeploy);
        assert!(db.depends_on.is_empty() && db.repo.is_none() && db.command.is_none());
        let api = m.service("api").unwrap();
        assert_eq!(api.workflow.source(), "deploy-api.yml");
        assert_eq!(api.depends_on, ["auth", "db"]);
        let web = m.service("web").unwrap();
        assert_eq!(web.tag.source(), "v{version}");
        assert_eq!(web.repo.as_deref(), Some("acme/web"));
        assert_eq!(web.cascade, Cascade::Rollback);
        assert_eq!(web.environment, "production");
    }

    #[test]
    fn built_in_defaults_and_whole_replacement() {
        let text = r#"
defaults:
  environment: staging
  inputs: {version: "{version}", reason: "{reason}"}
  skip: ["1.3.0"]
  prereleases: true
services:
  a: ~
  b:
    inputs: {ver: "{version}", n: 3, flag: true}
    skip: [">=2.0.0, <2.0.3", v1.0.0]
    require-release: true
    environment: production
    command: [./deploy.sh, "{version}", "{{literal}}"]
"#;
        let m = parse(text, DEFAULT_PATH).unwrap();
        assert_eq!(m.environments, ["production", "staging"]);
        let a = m.service("a").unwrap();
        assert_eq!(a.environment, "staging");
        assert!(a.prereleases && !a.require_release);
        assert_eq!(a.inputs.keys().collect::<Vec<_>>(), ["reason", "version"]);
        assert_eq!(a.skip_source, ["1.3.0"]);
        assert_eq!(a.tag.source(), BUILTIN_TAG);
        let b = m.service("b").unwrap();
        // inputs and skip replace the defaults whole.
        assert_eq!(b.inputs.keys().collect::<Vec<_>>(), ["flag", "n", "ver"]);
        assert_eq!(b.inputs["n"].render(&Values::new()), "3");
        assert_eq!(b.inputs["flag"].render(&Values::new()), "true");
        assert_eq!(b.skip_source, [">=2.0.0, <2.0.3", "v1.0.0"]);
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(b.skip[0].matches(&v("2.0.2")) && !b.skip[0].matches(&v("2.0.3")));
        assert_eq!(b.skip[1], Skip::Exact(v("1.0.0")));
        assert!(!b.skip[1].matches(&v("1.0.1")), "exact, never ^1.0.0");
        assert!(b.prereleases && b.require_release);
        let cmd = b.command.as_ref().unwrap();
        assert_eq!(cmd[2].render(&Values::new()), "{literal}");
        assert_eq!(
            cmd[1].placeholders().collect::<Vec<_>>(),
            [Placeholder::Version]
        );
    }

    #[test]
    fn nothing_set_at_all() {
        let m = parse("services:\n  api:\n", DEFAULT_PATH).unwrap();
        let api = m.service("api").unwrap();
        assert_eq!(api.environment, "production");
        assert_eq!(api.inputs["version"].source(), "{version}");
        assert!(!api.prereleases && !api.require_release && api.skip.is_empty());
        assert_eq!(m.environments, ["production"]);
    }

    /// (manifest, line of the first problem, its key, a part of its message)
    #[test]
    fn each_problem_names_key_and_line() {
        let cases: &[(&str, usize, &str, &str)] = &[
            ("", 1, "", "empty"),
            ("# only a comment\n", 1, "", "empty"),
            ("just text", 1, "", "must be a map"),
            ("- a\n- b\n", 1, "", "not a list"),
            (
                "services:\n  api: {}\n  api: {}\n",
                3,
                "services.api",
                "duplicate key (first at line 2)",
            ),
            (
                "services: {api: {}}\nservices: {}\n",
                2,
                "services",
                "duplicate key",
            ),
            (
                "services:\n  api:\n    tag: \"a/{version}\"\n    tag: \"b/{version}\"\n",
                4,
                "services.api.tag",
                "duplicate key",
            ),
            ("services:\n  api: {bad: [\n", 3, "", "not valid YAML"),
            ("services:\n\tapi: {}\n", 2, "", "not valid YAML"),
            (
                "services: {a: {}}\n---\nservices: {b: {}}\n",
                2,
                "",
                "more than one YAML document",
            ),
            (
                "services:\n  db: {inputs: &a {v: x}}\n  api: {inputs: *a}\n",
                3,
                "services.api.inputs",
                "aliases",
            ),
            (
                "services:\n  api:\n    tag: !!str \"v{version}\"\n",
                3,
                "services.api.tag",
                "YAML tags",
            ),
            ("defaults: {}\n", 1, "services", "missing"),
            ("services: {}\n", 1, "services", "at least one service"),
            ("services:\n", 1, "services", "at least one service"),
            ("services: [api]\n", 1, "services", "must be a map"),
            (
                "services:\n  api: 3\n",
                2,
                "services.api",
                "must be a map of settings",
            ),
            ("servces: {}\n", 1, "servces", "did you mean `services`?"),
            (
                "services:\n  api:\n    depends_on: [db]\n  db: {}\n",
                3,
                "services.api.depends_on",
                "unknown key; did you mean `depends-on`?",
            ),
            (
                "services:\n  api:\n    deploytag: x\n",
                3,
                "services.api.deploytag",
                "did you mean `deploy-tag`?",
            ),
            (
                "defaults:\n  require_release: true\nservices: {a: {}}\n",
                2,
                "defaults.require_release",
                "did you mean `require-release`?",
            ),
            (
                "defaults:\n  Tag: \"{version}\"\nservices: {a: {}}\n",
                2,
                "defaults.Tag",
                "did you mean `tag`?",
            ),
            (
                "defaults:\n  wat: 1\nservices: {a: {}}\n",
                2,
                "defaults.wat",
                "the keys here are",
            ),
            (
                "defaults:\n  depends-on: [a]\nservices: {a: {}}\n",
                2,
                "defaults.depends-on",
                "per service",
            ),
            (
                "services:\n  api:\n    prereleases: yes\n",
                3,
                "services.api.prereleases",
                "`yes` is a string in YAML 1.2",
            ),
            (
                "services:\n  api:\n    prereleases: \"true\"\n",
                3,
                "services.api.prereleases",
                "without quotes",
            ),
            (
                "services:\n  api:\n    require-release: 1\n",
                3,
                "services.api.require-release",
                "must be `true` or `false`",
            ),
            (
                "services:\n  api:\n    skip: [no]\n",
                3,
                "services.api.skip",
                "neither a version",
            ),
            (
                "services:\n  api:\n    skip:\n      - 1.3\n",
                4,
                "services.api.skip",
                "read as a number, not a string; quote it",
            ),
            (
                "services:\n  api:\n    skip: [\"1.3.0\", 2]\n",
                3,
                "services.api.skip",
                "`2` is read as a number",
            ),
            (
                "services:\n  api:\n    skip: \"1.3.0\"\n",
                3,
                "services.api.skip",
                "must be a list",
            ),
            (
                "services:\n  api:\n    skip: [[1]]\n",
                3,
                "services.api.skip",
                "must be strings",
            ),
            (
                "services:\n  api:\n    cascade: rollbak\n",
                3,
                "services.api.cascade",
                "did you mean `rollback`?",
            ),
            (
                "services:\n  api:\n    tag: \"api-{servce}-{version}\"\n",
                3,
                "services.api.tag",
                "unknown placeholder {servce} (known: {service}",
            ),
            (
                "services:\n  api:\n    tag: \"api/{version\"\n",
                3,
                "services.api.tag",
                "not closed",
            ),
            (
                "services:\n  api:\n    tag: \"api/latest\"\n",
                3,
                "services.api.tag",
                "has no `{version}`",
            ),
            (
                "services:\n  api:\n    tag: \"{version}-{version}\"\n",
                3,
                "services.api.tag",
                "more than once",
            ),
            (
                "services:\n  api:\n    tag: \"{sha}/{version}\"\n",
                3,
                "services.api.tag",
                "{sha} cannot be used here",
            ),
            (
                "services:\n  api:\n    deploy-tag: \"deploy/{version}\"\n",
                3,
                "services.api.deploy-tag",
                "{version} cannot be used here; this key may use {service}, {environment}",
            ),
            (
                "services:\n  api:\n    workflow: \"{tag}.yml\"\n",
                3,
                "services.api.workflow",
                "{tag} cannot be used",
            ),
            (
                "services:\n  api:\n    ref: \"{sha}\"\n",
                3,
                "services.api.ref",
                "{sha} cannot be used",
            ),
            (
                "services:\n  api:\n    workflow: deploy.sh\n",
                3,
                "services.api.workflow",
                "`.yml` or `.yaml`",
            ),
            (
                "services:\n  api:\n    workflow: .github/workflows/deploy.yml\n",
                3,
                "services.api.workflow",
                "without a directory",
            ),
            (
                "services:\n  api:\n    ref: 0123456789abcdef0123456789abcdef01234567\n",
                3,
                "services.api.ref",
                "commit sha",
            ),
            (
                "services:\n  api:\n    ref: \"release..{version}\"\n",
                3,
                "services.api.ref",
                "contains `..`",
            ),
            (
                "services:\n  api:\n    tag: \"{service}..v{version}\"\n",
                3,
                "services.api.tag",
                "not a valid git tag name: it contains `..`",
            ),
            (
                "services:\n  api:\n    tag: \"{service}/v{version}.lock\"\n",
                3,
                "services.api.tag",
                "ends with `.lock`",
            ),
            (
                "services:\n  api:\n    tag: \"{service} v{version}\"\n",
                3,
                "services.api.tag",
                "contains a space",
            ),
            (
                "defaults:\n  deploy-tag: \"deploy//{service}\"\nservices: {api: {}}\n",
                2,
                "defaults.deploy-tag",
                "`//`",
            ),
            (
                "defaults:\n  deploy-tag: \"deploy/{environment}\"\nservices: {api: {}, web: {}}\n",
                2,
                "defaults.deploy-tag",
                "share the deploy tag",
            ),
            (
                "services:\n  Api.: {}\n",
                2,
                "services.Api.",
                "ends with `.`",
            ),
            ("services:\n  a..b: {}\n", 2, "services.a..b", "`..`"),
            ("services:\n  x.lock: {}\n", 2, "services.x.lock", "`.lock`"),
            (
                "services:\n  _x: {}\n",
                2,
                "services._x",
                "must start with a letter or digit",
            ),
            ("services:\n  a/b: {}\n", 2, "services.a/b", "has `/`"),
            ("services:\n  plan: {}\n", 2, "services.plan", "reserved"),
            ("services:\n  help: {}\n", 2, "services.help", "reserved"),
            (
                "services:\n  api:\n    environment: \"prod env\"\n",
                3,
                "services.api.environment",
                "environment name",
            ),
            (
                "services:\n  api:\n    repo: acme\n",
                3,
                "services.api.repo",
                "exactly one `/`",
            ),
            (
                "services:\n  api:\n    repo: acme/we b\n",
                3,
                "services.api.repo",
                "the name takes",
            ),
            (
                "services:\n  api:\n    repo: -acme/web\n",
                3,
                "services.api.repo",
                "the owner takes",
            ),
            (
                "services:\n  api:\n    command: []\n",
                3,
                "services.api.command",
                "at least the program",
            ),
            (
                "services:\n  api:\n    command: ./deploy.sh\n",
                3,
                "services.api.command",
                "must be a list",
            ),
            (
                "services:\n  api:\n    command: [\"\", x]\n",
                3,
                "services.api.command",
                "first entry) is empty",
            ),
            (
                "services:\n  api:\n    inputs: [version]\n",
                3,
                "services.api.inputs",
                "must be a map",
            ),
            (
                "services:\n  api:\n    inputs:\n      version:\n",
                4,
                "services.api.inputs.version",
                "needs a value",
            ),
            (
                "services:\n  api:\n    inputs:\n      \"bad name\": x\n",
                4,
                "services.api.inputs.bad name",
                "not a valid workflow input name",
            ),
            (
                "services:\n  api:\n    depends-on: [db]\n",
                3,
                "services.api.depends-on",
                "unknown service `db`",
            ),
            (
                "services:\n  api:\n    depends-on: [atuh]\n  auth: {}\n",
                3,
                "services.api.depends-on",
                "did you mean `auth`?",
            ),
            (
                "services:\n  api:\n    depends-on: [api]\n",
                3,
                "services.api.depends-on",
                "depends on itself",
            ),
            (
                "services:\n  api:\n    depends-on: [db, db]\n  db: {}\n",
                3,
                "services.api.depends-on",
                "listed twice",
            ),
            (
                "services:\n  api:\n    depends-on: db\n  db: {}\n",
                3,
                "services.api.depends-on",
                "must be a list",
            ),
            (
                "services:\n  api:\n    depends-on: [web]\n  web:\n    depends-on: [api]\n",
                3,
                "services.api.depends-on",
                "cycle in depends-on: api -> web -> api",
            ),
            (
                "environments: [production]\nservices:\n  api:\n    environment: staging\n",
                4,
                "services.api.environment",
                "not in `environments` (line 1)",
            ),
            (
                "environments: [staging]\nservices:\n  api: {}\n",
                1,
                "environments",
                "does not list `production`",
            ),
            (
                "environments: []\nservices:\n  api: {}\n",
                1,
                "environments",
                "at least one",
            ),
            (
                "environments:\n  - staging\nservices:\n  api: {}\n",
                1,
                "environments",
                "does not list `production`",
            ),
            (
                "environments: [a, a]\nservices:\n  api: {environment: a}\n",
                1,
                "environments",
                "listed twice",
            ),
        ];
        for (text, line, key, part) in cases {
            let ps = problems(text);
            let first = &ps[0];
            assert_eq!(
                (first.line, first.key.as_str()),
                (Some(*line), *key),
                "{text:?}: {ps:#?}"
            );
            assert!(
                first.message.contains(part),
                "{text:?}: {:?} lacks {part:?}",
                first.message
            );
        }
    }

    #[test]
    fn all_problems_are_reported_sorted_by_line() {
        let text = "services:\n  api:\n    depends-on: [nope]\n    cascade: x\n  web:\n    prereleases: yes\ndefaults:\n  tag: nothing\n";
        let lines: Vec<_> = problems(text).iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(6), Some(8)]);
    }

    #[test]
    fn cycle_is_named_in_full() {
        let text = "services:\n  api:\n    depends-on: [auth]\n  auth:\n    depends-on: [db]\n  db:\n    depends-on: [api]\n";
        let ps = problems(text);
        assert_eq!(ps.len(), 1, "{ps:#?}");
        assert_eq!(
            ps[0].message,
            "cycle in depends-on: api -> auth -> db -> api"
        );
    }

    #[test]
    fn defaults_template_problem_is_reported_once() {
        let text = "defaults:\n  tag: \"{service}~{version}\"\nservices: {a: {}, b: {}, c: {}}\n";
        let ps = problems(text);
        assert_eq!(ps.len(), 1, "{ps:#?}");
        assert!(
            ps[0].message.contains("for service `a`"),
            "{}",
            ps[0].message
        );
    }

    #[test]
    fn suggestions() {
        let keys = DEFAULT_KEYS.iter().chain(SERVICE_ONLY_KEYS).copied();
        let cases = [
            ("depends_on", Some("depends-on")),
            ("dependson", Some("depends-on")),
            ("deploytag", Some("deploy-tag")),
            ("Deploy_Tag", Some("deploy-tag")),
            ("require_release", Some("require-release")),
            ("prerelease", Some("prereleases")),
            ("worklfow", Some("workflow")),
            ("TAG", Some("tag")),
            ("tags", Some("tag")),
            ("xyz", None),
            ("banana", None),
        ];
        for (word, want) in cases {
            assert_eq!(suggest(word, keys.clone()), want, "{word}");
        }
        assert_eq!(edit_distance("atuh", "auth"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn yaml_1_2_scalars() {
        // `on`, `yes`, `no` are strings: fine as names and input values.
        let m = parse(
            "services:\n  on:\n    inputs: {yes: no, n: 1.5}\n    environment: no\n",
            DEFAULT_PATH,
        )
        .unwrap();
        let s = m.service("on").unwrap();
        assert_eq!(s.environment, "no");
        assert_eq!(s.inputs["yes"].source(), "no");
        assert_eq!(s.inputs["n"].source(), "1.5");
        // Quoted `1.3` is a requirement (the semver crate's `^1.3`), unquoted is a number.
        assert!(parse("services:\n  a: {skip: [\"1.3\"]}\n", DEFAULT_PATH).is_ok());
        for (text, kind) in [
            ("1", "a number"),
            ("1.3", "a number"),
            ("1e3", "a number"),
            ("true", "a boolean"),
            ("null", "null"),
            ("0x1F", "a number"),
            (".inf", "a number"),
        ] {
            assert_eq!(core_type(text), Some(kind), "{text}");
        }
        for text in [
            "1.3.0",
            "v1",
            "no",
            "yes",
            "1.2.3-rc.1",
            ">=1",
            "0x",
            "1e",
            ".",
        ] {
            assert_eq!(core_type(text), None, "{text}");
        }
    }

    #[test]
    fn numeric_workflow_id_and_literal_braces() {
        let m = parse(
            "services:\n  api:\n    workflow: 123456\n    inputs: {json: \"{{\\\"v\\\": \\\"{version}\\\"}}\"}\n",
            DEFAULT_PATH,
        )
        .unwrap();
        let api = m.service("api").unwrap();
        assert_eq!(api.workflow.render(&Values::new()), "123456");
        let v = Values::new().with(Placeholder::Version, "1.0.0");
        assert_eq!(api.inputs["json"].render(&v), r#"{"v": "1.0.0"}"#);
    }

    #[test]
    fn explicit_environments_are_kept() {
        let m = parse(
            "environments: [production, staging]\nservices:\n  api: {}\n  web: {environment: staging}\n",
            DEFAULT_PATH,
        )
        .unwrap();
        assert_eq!(m.environments, ["production", "staging"]);
        assert_eq!(m.service("web").unwrap().environment, "staging");
        // Every environment's rendered deploy tag is checked, not only the service's own.
        let ps = problems("environments: [production, \"a.\"]\nservices:\n  api: {}\n");
        assert!(ps[0].message.contains("ends with `.`"), "{ps:#?}");
    }

    #[test]
    fn error_has_headline_details_and_help() {
        let text = "services:\n  api:\n    depends_on: [db]\n    prereleases: yes\n";
        let e = problems_to_error(DEFAULT_PATH, &problems(text));
        assert_eq!(e.kind, Kind::Manifest);
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.message,
            ".github/rollback.yml:3: services.api.depends_on: unknown key; did you mean `depends-on`? (and 1 more problem)"
        );
        assert_eq!(e.details.len(), 1);
        assert!(e.details[0].starts_with(".github/rollback.yml:4: services.api.prereleases:"));
        assert!(e
            .help
            .as_deref()
            .unwrap_or("")
            .contains("rollback validate"));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let deep_flow = format!("services: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let deep_block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let laughs = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nservices: {s: {inputs: *c}}\n";
        let huge_key = format!(
            "services:\n  {}: {{}}\n  a:\n    depends-on: [{}]\n",
            "k".repeat(100_000),
            "q".repeat(100_000)
        );
        let texts = [
            deep_flow.as_str(),
            deep_block.as_str(),
            laughs,
            huge_key.as_str(),
            "\t",
            "---\n...\n",
            ":",
            "? [a]\n: b\n",
            "services:\n  ? [a]\n  : {}\n",
            "services: {api: {tag: !custom x}}",
            "%YAML 1.2\n---\nservices: {a: {}}\n",
            "services: {\"\": {}}",
            "services: {api: {inputs: {\"\": x}}}",
            "\u{feff}services: {a: {}}",
            "services:\n  a:\n    command: [[x]]\n",
        ];
        for t in texts {
            let _ = parse(t, DEFAULT_PATH);
        }
        assert!(problems(&deep_flow)[0].message.contains("recursion limit"));
        let ps = problems(&deep_block);
        assert!(ps[0].message.contains("nested more than 32"), "{ps:#?}");
        let ps = problems(laughs);
        assert!(
            ps.iter().all(|p| p.message.contains("aliases")
                || p.key == "a"
                || p.key == "b"
                || p.key == "c"),
            "{ps:#?}"
        );
        assert!(show_all(&huge_key).iter().all(|l| l.len() < 400));
    }
}
