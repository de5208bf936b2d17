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
            .map(|(n, s)| (n.as_str(), s.depends_on.iter().map(String::as_str).collect()))
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
    Scalar { text: String, plain: bool },
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
                path, entries, key, ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let first = k.text().and_then(|t| {
                        entries
                            .iter()
                            .find(|(e, _)| e.text() == Some(t))
                            .map(|(e, _)| e.line)
                    });
                    match first {
                        Some(first) => problems.push(Problem::new(
                            join(path, k.text().unwrap_or("")),
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
        let mut environments: Option<&Node> = None;
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
                "environments" => environments = Some(v),
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
                        let Some(name) = self.key(sk, "services") else { continue };
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

        let explicit = environments.and_then(|v| self.environment_list(v));
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
                        None => format!(
                            "; the services are {}",
                            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    self.add(&key, dep.line, format!("unknown service `{}`{hint}", show(d)));
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
                    prereleases: layer
                        .prereleases
                        .or(defaults.prereleases)
                        .unwrap_or(false),
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
        let valid_envs: Vec<&String> =
            env_list.iter().filter(|e| name_problem(e).is_none()).collect();
        let mut reported: BTreeSet<String> = BTreeSet::new();
        let mut deploy_tags: BTreeMap<(Option<String>, String), String> = BTreeMap::new();
        for (name, svc) in &out {
            if name_problem(name).is_some() {
                continue;
            }
            let Some(origin) = origins.get(name) else { continue };
            for env in &valid_envs {
                let values = Values::new()
                    .with(Placeholder::Service, name.as_str())
                    .with(Placeholder::Environment, env.as_str());
                self.check_rendered(name, env, &values, origin, &mut reported);
                let deploy = svc.deploy_tag.render(&values);
                let slot = (svc.repo.clone(), deploy.clone());
                match deploy_tags.get(&slot) {
                    Some(other) if !reported.contains(&origin[1].key) => {
                        reported.insert(origin[1].key.clone());
                        let key = origin[1].key.clone();
                        let line = origin[1].line;
                        self.add(
                            &key,
                            line,
                            format!(
                                "services `{other}` and `{name}` would share the deploy tag `{}` in {env}; put `{{service}}` in it",
                                show(&deploy)
                            ),
                        );
                    }
                    Some(_) => {}
                    None => {
                        deploy_tags.insert(slot, name.clone());
                    }
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
            let rendered = tag.value.render(&values.clone().with(Placeholder::Version, *v));
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
            found.push((ref_, format!("renders to `{}` {place}, which {why}", show(&rendered))));
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
                known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        self.add(&join(path, &show(key)), Some(line), message);
    }

    fn layer(&mut self, path: &str, entries: &[(Node, Node)], service: bool) -> Layer {
        let mut l = Layer::default();
        for (k, v) in entries {
            let Some(key) = self.key(k, path) else { continue };
            let kp = join(path, key);
            let line = Some(v.line);
            match key {
                "environment" => l.environment = self.name(&kp, v, "environment").map(|value| At { value, key: kp.clone(), line }),
                "tag" => l.tag = self.tag_template(&kp, v).map(|value| At { value, key: kp.clone(), line }),
                "deploy-tag" => {
                    l.deploy_tag = self.template(&kp, v, NAME_PLACEHOLDERS).map(|value| At { value, key: kp.clone(), line })
                }
                "workflow" => l.workflow = self.template(&kp, v, NAME_PLACEHOLDERS).map(|value| At { value, key: kp.clone(), line }),
                "ref" => l.ref_ = self.template(&kp, v, REF_PLACEHOLDERS).map(|value| At { value, key: kp.clone(), line }),
                "inputs" => l.inputs = self.inputs(&kp, v),
                "prereleases" => l.prereleases = self.boolean(&kp, v),
                "require-release" => l.require_release = self.boolean(&kp, v),
                "skip" => l.skip = self.skip(&kp, v),
                "cascade" => l.cascade = self.cascade(&kp, v),
                "depends-on" | "repo" | "command" if !service => self.add(
                    &kp,
                    Some(k.line),
                    "is set per service, not in `defaults`",
                ),
                "depends-on" => {
                    l.depends_on_line = Some(k.line);
                    l.depends_on = self.depends_on(&kp, v);
                }
                "repo" => l.repo = self.repo(&kp, v),
                "command" => l.command = self.command(&kp, v),
                other => {
                    let known: Vec<&str> = if service {
                        DEFAULT_KEYS.iter().chain(SERVICE_ONLY_KEYS).copied().collect()
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
                self.add(key, Some(v.line), format!("must be a string, not {}", v.what()));
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
                self.add(key, Some(v.line), format!("template `{}`: {e}", show(&text)));
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
            ps.iter().map(|p| format!("{{{}}}", p.name())).collect::<Vec<_>>().join(", ")
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
        match t.placeholders().filter(|p| *p == Placeholder::Version).count() {
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
                    format!("`{}` has `{{version}}` more than once; use it exactly once", show(t.source())),
                );
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, v: &Node) -> Option<bool> {
        match &v.yaml {
            Yaml::Bad => None,
            Yaml::Scalar { text, plain: true } if matches!(text.as_str(), "true" | "True" | "TRUE") => {
                Some(true)
            }
            Yaml::Scalar { text, plain: true } if matches!(text.as_str(), "false" | "False" | "FALSE") => {
                Some(false)
            }
            Yaml::Scalar { text, plain } => {
                let lower = text.to_ascii_lowercase();
                let why = if !plain && matches!(lower.as_str(), "true" | "false") {
                    format!("must be `true` or `false` without quotes, not the string \"{}\"", show(text))
                } else if matches!(lower.as_str(), "yes" | "no" | "on" | "off" | "y" | "n") {
                    format!("must be `true` or `false`; `{}` is a string in YAML 1.2", show(text))
                } else {
                    format!("must be `true` or `false`, not `{}`", show(text))
                };
                self.add(key, Some(v.line), why);
                None
            }
            _ => {
                self.add(key, Some(v.line), format!("must be `true` or `false`, not {}", v.what()));
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
                self.add(&ikey, Some(val.line), "needs a value; write \"\" for an empty input");
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
                    format!("must be `redeploy` or `rollback`, not `{}`{hint}", show(other)),
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

    fn environment_list(&mut self, v: &Node) -> Option<(Vec<String>, usize)> {
        let key = "environments";
        let items = self.list(key, v, "[production, staging]")?;
        if items.is_empty() {
            self.add(key, Some(v.line), "must name at least one environment");
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        for item in items {
            let Some(name) = self.name(key, item, "environment") else { continue };
            if out.contains(&name) {
                self.add(key, Some(item.line), format!("`{name}` is listed twice"));
            } else {
                out.push(name);
            }
        }
        Some((out, v.line))
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
        return Some(format!("`{}` has `..`, which git refuses in a ref name", show(name)));
    }
    if name.ends_with(".lock") {
        return Some(format!("`{}` ends with `.lock`, which git refuses in a ref name", show(name)));
    }
    if name.ends_with('.') {
        return Some(format!("`{}` ends with `.`, which git refuses in a ref name", show(name)));
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
            levenshtein(&w, &n)
        };
        let limit = (c.chars().count() / 3).clamp(1, 2);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
