//! Property tests for every parser that reads outside input (issue 7): tag names, SemVer
//! precedence, comment bodies, `INPUT_*` variables, the `$GITHUB_OUTPUT` file, the dependency
//! graph's waves and cycles, and the manifest and workflow readers. The fuzz targets in `fuzz/`
//! cover the same parsers with coverage guidance; these run in the normal test command.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rollback::comment::{self, Parsed, Target};
use rollback::graph::{dependents, find_cycle, waves, Deps};
use rollback::runner::{format_output, parse_output_file, Inputs};
use rollback::template::Template;
use rollback::version::TagPattern;
use semver::{BuildMetadata, Prerelease, Version};

const PREFIX: &str = "/rollback";
const KEYWORDS: [&str; 5] = ["plan", "help", "to", "back", "in"];

// ---------------------------------------------------------------------------------------------
// Generators

/// A SemVer pre-release or build identifier: numeric (no leading zero) or alphanumeric.
fn identifier(numeric_ok_with_zero: bool) -> impl Strategy<Value = String> {
    let numeric = if numeric_ok_with_zero {
        "[0-9]{1,3}".boxed()
    } else {
        prop_oneof![
            "0",
            "[1-9][0-9]{0,3}",
            Just("18446744073709551615".to_string())
        ]
        .boxed()
    };
    prop_oneof![numeric, "[0-9A-Za-z-]{0,3}[A-Za-z-][0-9A-Za-z-]{0,3}"]
}

fn version() -> impl Strategy<Value = Version> {
    let part = prop_oneof![0u64..4, any::<u64>()];
    (
        part.clone(),
        part.clone(),
        part,
        prop::collection::vec(identifier(false), 0..4),
        prop::collection::vec(identifier(true), 0..3),
    )
        .prop_map(|(major, minor, patch, pre, build)| Version {
            major,
            minor,
            patch,
            pre: Prerelease::new(&pre.join(".")).expect("generated pre-release is valid"),
            build: BuildMetadata::new(&build.join(".")).expect("generated build is valid"),
        })
}

/// Versions from a small domain, so that equal parts and shared pre-release prefixes are common.
fn small_version() -> impl Strategy<Value = Version> {
    let ident = prop_oneof![
        Just("0"),
        Just("1"),
        Just("2"),
        Just("10"),
        Just("alpha"),
        Just("beta"),
        Just("1a"),
        Just("-"),
        Just("B")
    ];
    let core = prop_oneof![3 => Just((1, 0, 0)), 1 => (0u64..2, 0u64..2, 0u64..2)];
    (
        core,
        prop::collection::vec(ident, 0..3),
        prop_oneof![Just(""), Just("b1"), Just("001.x")],
    )
        .prop_map(|((major, minor, patch), pre, build)| Version {
            major,
            minor,
            patch,
            pre: Prerelease::new(&pre.join(".")).expect("valid"),
            build: BuildMetadata::new(build).expect("valid"),
        })
}

/// Service and environment names (DESIGN §11.2), never a comment keyword.
fn name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,12}".prop_filter("not a keyword", |n| {
        !KEYWORDS.iter().any(|k| n.eq_ignore_ascii_case(k))
    })
}

/// Characters that are safe anywhere in a git ref name component (no `{`/`}`).
fn ref_safe(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9._/-]{{0,{max}}}")).expect("regex")
}

// ---------------------------------------------------------------------------------------------
// Tag templates (DESIGN §3, §11.3)

fn pattern(template: &str, service: &str) -> TagPattern {
    TagPattern::new(
        &Template::parse(template).expect("template parses"),
        service,
        "production",
    )
    .expect("template has one {version}")
}

const TEMPLATES: [&str; 6] = [
    "{service}/v{version}",
    "{service}-v{version}",
    "{service}-{version}",
    "v{version}",
    "{version}",
    "deploy/{environment}/{service}@{version}+x",
];

proptest! {
    /// Any name either matches (and then is exactly the rendering of its version, or that with a
    /// `v`/`V` the template allows) or does not; never a panic.
    #[test]
    fn any_name_matches_exactly_or_not(
        t in prop::sample::select(TEMPLATES.as_slice()),
        name in prop_oneof![
            any::<String>(),
            "(api|v|V|/|-|[0-9]|\\.|\\+|[a-z]){0,24}",
            version().prop_map(|v| format!("api/v{v}")),
        ],
    ) {
        let p = pattern(t, "api");
        if let Some(m) = p.matches(&name) {
            let rendered = p.render(&m.version);
            if m.canonical {
                prop_assert_eq!(rendered, name);
            } else {
                let with_v = |v: &str| format!("{}{v}{}", p.prefix(), &rendered[p.prefix().len()..]);
                prop_assert!(name == with_v("v") || name == with_v("V"), "{name} vs {rendered}");
            }
        }
    }

    /// render(version) then match gives the version back, for any ref-name-safe prefix/suffix.
    #[test]
    fn render_then_match_round_trips(
        prefix in ref_safe(12),
        suffix in ref_safe(12),
        service in name(),
        with_service in any::<bool>(),
        v in version(),
    ) {
        let source = if with_service {
            format!("{prefix}{{service}}{prefix}{{version}}{suffix}")
        } else {
            format!("{prefix}{{version}}{suffix}")
        };
        let p = pattern(&source, &service);
        let rendered = p.render(&v);
        let m = p.matches(&rendered);
        prop_assert_eq!(m.as_ref().map(|m| &m.version), Some(&v), "{} from {}", rendered, source);
        prop_assert!(m.is_some_and(|m| m.canonical));
    }

    /// A tag of `api-gateway` is never a version of `api` (prefix `api-v` vs `api-gateway-v`).
    #[test]
    fn longer_service_names_never_match(
        t in prop::sample::select(&TEMPLATES[..3]),
        service in name(),
        word in "[a-uw-zA-UW-Z][a-z0-9]{0,8}",
        v in version(),
    ) {
        let other = format!("{service}-{word}");
        let tag = pattern(t, &other).render(&v);
        prop_assert_eq!(pattern(t, &service).matches(&tag), None, "{}", tag);
    }
}

proptest! {
    /// `--to` reads an exact version with or without `v`; anything with surrounding space or a
    /// missing part is not one.
    #[test]
    fn to_version_reads_back(v in version(), junk in prop_oneof![Just(" "), Just(".0"), Just("vv")]) {
        let rollback_version = rollback::version::parse_version;
        prop_assert_eq!(rollback_version(&v.to_string()), Some(v.clone()));
        prop_assert_eq!(rollback_version(&format!("v{v}")), Some(v.clone()));
        prop_assert_eq!(rollback_version(&format!("V{v}")), Some(v.clone()));
        let core = format!("{}.{}.{}", v.major, v.minor, v.patch);
        if junk == "vv" {
            prop_assert_eq!(rollback_version(&format!("vv{v}")), None);
        } else if junk == ".0" {
            prop_assert_eq!(rollback_version(&format!("{}.{}", v.major, v.minor)), None);
        } else {
            prop_assert_eq!(rollback_version(&format!(" {core}")), None);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SemVer precedence against a reference written from SemVer 2.0 §11

fn reference_precedence(a: &Version, b: &Version) -> Ordering {
    let core = (a.major, a.minor, a.patch).cmp(&(b.major, b.minor, b.patch));
    if core != Ordering::Equal {
        return core;
    }
    let ids = |v: &Version| -> Vec<String> {
        if v.pre.is_empty() {
            Vec::new()
        } else {
            v.pre.as_str().split('.').map(str::to_string).collect()
        }
    };
    let (pa, pb) = (ids(a), ids(b));
    match (pa.is_empty(), pb.is_empty()) {
        (true, true) => return Ordering::Equal,
        // A release ranks above any of its pre-releases.
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (numeric(x), numeric(y)) {
            // Numbers by value: compare length first (no leading zeros), then digits; this also
            // works for identifiers beyond u64.
            (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.as_bytes().cmp(y.as_bytes()),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

proptest! {
    #[test]
    fn precedence_agrees_with_reference(
        a in prop_oneof![3 => small_version(), 1 => version()],
        b in prop_oneof![3 => small_version(), 1 => version()],
    ) {
        prop_assert_eq!(a.cmp_precedence(&b), reference_precedence(&a, &b), "{} vs {}", a, b);
        prop_assert_eq!(b.cmp_precedence(&a), a.cmp_precedence(&b).reverse());
        // Build metadata is the only thing precedence ignores.
        let mut a_build = a.clone();
        a_build.build = BuildMetadata::new("zz.9").expect("valid");
        prop_assert_eq!(a.cmp_precedence(&a_build), Ordering::Equal);
    }

    #[test]
    fn precedence_is_a_total_order(a in small_version(), b in small_version(), c in small_version()) {
        let mut v = [a, b, c];
        v.sort_by(|x, y| x.cmp_precedence(y));
        prop_assert_ne!(v[0].cmp_precedence(&v[1]), Ordering::Greater);
        prop_assert_ne!(v[1].cmp_precedence(&v[2]), Ordering::Greater);
        prop_assert_ne!(v[0].cmp_precedence(&v[2]), Ordering::Greater, "{:?}", v);
        if v[0].cmp_precedence(&v[1]) == Ordering::Equal && v[1].cmp_precedence(&v[2]) == Ordering::Equal {
            prop_assert_eq!(v[0].cmp_precedence(&v[2]), Ordering::Equal);
        }
        for x in &v {
            prop_assert_eq!(x.cmp_precedence(x), Ordering::Equal);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comment parser (DESIGN §7, §11.17)

#[derive(Debug, Clone)]
enum GenTarget {
    Previous,
    Back(u32),
    To(String, bool),
}

fn target_text() -> impl Strategy<Value = String> {
    prop_oneof![
        version().prop_map(|v| v.to_string()),
        version().prop_map(|v| format!("v{v}")),
        (name(), version()).prop_map(|(s, v)| format!("refs/tags/{s}/v{v}")),
        Just(">=1.2, <1.3".to_string()),
        "[~^]?[0-9]{1,2}(\\.[0-9*]{1,2}){0,2}",
        (name(), version()).prop_map(|(s, v)| format!("{s}@{v}")),
    ]
    .prop_filter("fits", |t| t.len() <= 200)
}

fn gen_target() -> impl Strategy<Value = GenTarget> {
    prop_oneof![
        Just(GenTarget::Previous),
        (1u32..=u32::MAX).prop_map(GenTarget::Back),
        (target_text(), any::<bool>()).prop_map(|(t, kw)| GenTarget::To(t, kw)),
    ]
}

/// A first line that the grammar says is a command, with random spacing and keyword case.
fn command_line(
    plan: bool,
    service: &str,
    target: &GenTarget,
    env: &Option<String>,
    env_first: bool,
    upper: bool,
    sep: &str,
) -> String {
    let kw = |k: &str| {
        if upper {
            k.to_ascii_uppercase()
        } else {
            k.to_string()
        }
    };
    let mut words = vec![PREFIX.to_string()];
    if plan {
        words.push(kw("plan"));
    }
    words.push(service.to_string());
    let env_words = env
        .as_ref()
        .map(|e| vec![kw("in"), e.clone()])
        .unwrap_or_default();
    if env_first {
        words.extend(env_words.clone());
    }
    match target {
        GenTarget::Previous => {}
        GenTarget::Back(n) => words.extend([kw("back"), n.to_string()]),
        GenTarget::To(t, with_kw) => {
            if *with_kw {
                words.push(kw("to"));
            }
            words.push(t.clone());
        }
    }
    if !env_first {
        words.extend(env_words);
    }
    words.join(sep)
}

/// The grammar's definition of "is a command" for the first line, written independently.
fn looks_like_command(body: &str, prefix: &str) -> bool {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let first = body.split('\n').next().unwrap_or("");
    let spaces = first.chars().take_while(|&c| c == ' ').count();
    if spaces > 3 {
        return false;
    }
    match first[spaces..].strip_prefix(prefix) {
        Some(after) => after.chars().next().is_none_or(char::is_whitespace),
        None => false,
    }
}

fn body_strategy() -> impl Strategy<Value = String> {
    let command = (
        any::<bool>(),
        name(),
        gen_target(),
        prop::option::of(name()),
        any::<bool>(),
        prop_oneof![Just(" "), Just("\t"), Just(" \u{a0} ")],
        "( ){0,4}",
        "(\n.{0,10}){0,2}",
    )
        .prop_map(|(plan, s, t, e, env_first, sep, indent, rest)| {
            format!(
                "{indent}{}{rest}",
                command_line(plan, &s, &t, &e, env_first, false, sep)
            )
        });
    prop_oneof![
        command,
        any::<String>(),
        "[ \u{feff}>\t]{0,5}/rollback[ a-zA-Z0-9\t\r.s-]{0,30}(\n.{0,20}){0,2}",
        "( ){0,5}/rollback(s|-status|\u{a0}|\u{3000}| |\t|\r)[a-z ]{0,10}",
        "(/rollback|plan|help|to|back|in|api|1.2.3|[ \t\r\n]){0,10}",
    ]
}

proptest! {
    /// Any body is one of the four outcomes, and which of "command or not" it is follows from
    /// the first line alone.
    #[test]
    fn any_body_parses_and_prefix_rule_holds(body in body_strategy()) {
        let parsed = comment::parse(&body, PREFIX);
        if looks_like_command(&body, PREFIX) {
            prop_assert_ne!(&parsed, &Parsed::NotACommand, "{:?}", body);
        } else {
            prop_assert_eq!(&parsed, &Parsed::NotACommand, "{:?}", body);
        }
        if let Parsed::Command(r) = &parsed {
            prop_assert!(comment::is_valid_name(&r.service));
            prop_assert!(r.environment.as_deref().is_none_or(comment::is_valid_name));
        }
    }

    /// `\r\n` or trailing whitespace at the end of the first line changes nothing.
    #[test]
    fn line_endings_and_trailing_space_change_nothing(
        body in body_strategy(),
        tail in prop_oneof![Just("\r"), Just(" "), Just("  \t"), Just(" \r")],
    ) {
        let (first, rest) = match body.split_once('\n') {
            Some((f, r)) => (f, Some(r)),
            None => (body.as_str(), None),
        };
        let changed = match rest {
            Some(r) => format!("{first}{tail}\n{r}"),
            None => format!("{first}{tail}"),
        };
        prop_assert_eq!(comment::parse(&changed, PREFIX), comment::parse(&body, PREFIX));
        let crlf = format!("{first}\r\n{}", rest.unwrap_or(""));
        prop_assert_eq!(comment::parse(&crlf, PREFIX), comment::parse(&body, PREFIX));
    }

    /// Generated valid commands give back their service, target and environment.
    #[test]
    fn valid_commands_round_trip(
        plan in any::<bool>(),
        service in name(),
        target in gen_target(),
        env in prop::option::of(name()),
        env_first in any::<bool>(),
        upper in any::<bool>(),
        sep in prop_oneof![Just(" "), Just("  "), Just("\t"), Just(" \t ")],
        indent in 0usize..4,
        reason in prop::option::of("[a-z]{1,8}( [a-z]{1,8}){0,3}"),
    ) {
        let line = command_line(plan, &service, &target, &env, env_first, upper, sep);
        let body = match &reason {
            Some(r) => format!("{}{line}\r\n\n  {r}  \n", " ".repeat(indent)),
            None => format!("{}{line}", " ".repeat(indent)),
        };
        let Parsed::Command(r) = comment::parse(&body, PREFIX) else {
            return Err(TestCaseError::fail(format!("not a command: {body:?} -> {:?}", comment::parse(&body, PREFIX))));
        };
        prop_assert_eq!(r.plan, plan);
        prop_assert_eq!(&r.service, &service);
        prop_assert_eq!(&r.environment, &env);
        prop_assert_eq!(&r.reason, &reason);
        let expected = match &target {
            GenTarget::Previous => Target::Previous,
            GenTarget::Back(n) => Target::Back(*n),
            GenTarget::To(t, _) => Target::To(t.clone()),
        };
        prop_assert_eq!(r.target, expected, "{:?}", body);
    }
}

// ---------------------------------------------------------------------------------------------
// `INPUT_*` variables (DESIGN §7 Action, §11.18)

fn input_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,5}){1,2}"
}

fn input_value() -> impl Strategy<Value = String> {
    "[ \t]{0,2}[!-~]([ -~]{0,10}[!-~])?[ \t]{0,2}"
}

fn env(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

proptest! {
    #[test]
    fn hyphenated_spelling_wins(
        name in input_name(),
        hyphen in prop::option::of(input_value()),
        underscore in prop::option::of(input_value()),
        hyphen_first in any::<bool>(),
    ) {
        let upper = name.to_ascii_uppercase();
        let mut pairs = Vec::new();
        if let Some(h) = &hyphen {
            pairs.push((format!("INPUT_{upper}"), h.clone()));
        }
        if let Some(u) = &underscore {
            pairs.push((format!("INPUT_{}", upper.replace('-', "_")), u.clone()));
        }
        if !hyphen_first {
            pairs.reverse();
        }
        let inputs = Inputs::from_env(&env(&pairs));
        let expected = hyphen.as_deref().or(underscore.as_deref()).map(str::trim);
        prop_assert_eq!(inputs.get(&name), expected);
        // Case of the name as written in action.yml does not matter.
        prop_assert_eq!(inputs.get(&name.to_ascii_uppercase()), expected);
    }

    #[test]
    fn empty_means_unset(
        name in input_name(),
        blank in "[ \t]{0,3}",
        underscore in prop::option::of("[ \t]{0,3}"),
        default in any::<bool>(),
    ) {
        let upper = name.to_ascii_uppercase();
        let mut pairs = vec![(format!("INPUT_{upper}"), blank)];
        if let Some(u) = underscore {
            pairs.push((format!("INPUT_{}", upper.replace('-', "_")), u));
        }
        let inputs = Inputs::from_env(&env(&pairs));
        prop_assert_eq!(inputs.get(&name), None);
        prop_assert_eq!(inputs.bool(&name, default).ok(), Some(default));
        prop_assert_eq!(inputs.u32(&name).ok(), Some(None));
    }

    #[test]
    fn bool_accepts_exactly_true_and_false(
        name in input_name(),
        value in prop_oneof![
            "[tT][rR][uU][eE]",
            "[fF][aA][lL][sS][eE]",
            "(yes|no|1|0|on|off|truee|fals|t|f|true false)",
            input_value(),
        ],
        pad in "[ \t]{0,2}",
        default in any::<bool>(),
    ) {
        let inputs = Inputs::from_env(&env(&[(format!("INPUT_{}", name.to_ascii_uppercase()), format!("{pad}{value}{pad}"))]));
        let v = value.trim();
        let expected = if v.eq_ignore_ascii_case("true") {
            Some(true)
        } else if v.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        };
        prop_assert_eq!(inputs.bool(&name, default).ok(), expected, "{:?}", value);
    }
}

// ---------------------------------------------------------------------------------------------
// `$GITHUB_OUTPUT` (runner's FileCommandManager rules)

fn output_value() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("EOF".to_string()),
        Just(String::new()),
        Just("\r".to_string()),
        Just("name=value".to_string()),
        Just("x<<EOF".to_string()),
        "ghadelimiter_[0-9a-f]{0,32}",
        ".{0,12}",
    ];
    let sep = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    prop_oneof![
        any::<String>(),
        prop::collection::vec((line, sep), 0..6).prop_map(|parts| {
            parts
                .into_iter()
                .map(|(l, s)| format!("{l}{s}"))
                .collect::<String>()
        }),
        prop::collection::vec(".{0,6}", 1..4).prop_map(|v| v.join("\nEOF\n")),
    ]
}

proptest! {
    #[test]
    fn output_round_trips(value in output_value()) {
        let text = format_output("plan", &value);
        let parsed = parse_output_file(&text).map_err(TestCaseError::fail)?;
        prop_assert_eq!(parsed.get("plan"), Some(&value), "{:?}", text);
        prop_assert_eq!(parsed.len(), 1);
    }

    #[test]
    fn appended_outputs_all_read_back(
        outputs in prop::collection::btree_map("[a-z][a-z-]{0,10}", output_value(), 1..6),
    ) {
        let text: String = outputs.iter().map(|(n, v)| format_output(n, v)).collect();
        let parsed = parse_output_file(&text).map_err(TestCaseError::fail)?;
        prop_assert_eq!(parsed, outputs);
    }
}

// ---------------------------------------------------------------------------------------------
// Plan waves and cycles (DESIGN §5)

const NODES: [&str; 10] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"];

/// A DAG on the first `n` nodes: node `i` may depend only on lower indices.
fn dag() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..=NODES.len()).prop_flat_map(|n| {
        let edges = prop::collection::vec((0..n, 0..n), 0..(n * 2)).prop_map(|pairs| {
            pairs
                .into_iter()
                .filter(|(a, b)| a != b)
                .map(|(a, b)| (a.max(b), a.min(b)))
                .collect::<Vec<_>>()
        });
        (Just(n), edges)
    })
}

/// `flip` names node `i` as `s{n-1-i}`, so that name order (which the searches follow) runs
/// against the edges as often as with them.
fn to_deps(n: usize, edges: &[(usize, usize)], flip: bool) -> Deps<'static> {
    let node = |i: usize| NODES[if flip { n - 1 - i } else { i }];
    let mut deps: Deps<'static> = NODES[..n].iter().map(|s| (*s, Vec::new())).collect();
    for &(from, to) in edges {
        let ds = deps.entry(node(from)).or_default();
        if !ds.contains(&node(to)) {
            ds.push(node(to));
        }
    }
    deps
}

/// Everything that reaches `root` through dependencies, by a plain fixpoint.
fn reference_dependents(deps: &Deps<'_>, root: &str) -> BTreeSet<String> {
    let mut reached: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = reached.len();
        for (s, ds) in deps {
            if *s != root && ds.iter().any(|d| *d == root || reached.contains(*d)) {
                reached.insert(s.to_string());
            }
        }
        if reached.len() == before {
            return reached;
        }
    }
}

proptest! {
    #[test]
    fn waves_respect_dependencies(
        (n, edges) in dag(),
        root in 0usize..NODES.len(),
        flip in any::<bool>(),
    ) {
        let deps = to_deps(n, &edges, flip);
        let root = NODES[root % n];
        prop_assert_eq!(find_cycle(&deps), None);
        let members = dependents(&deps, root);
        let expected = reference_dependents(&deps, root);
        prop_assert_eq!(
            members.iter().map(|m| m.to_string()).collect::<BTreeSet<_>>(),
            expected
        );
        let ws = waves(&deps, root, &members);
        let wave: BTreeMap<&str, usize> = ws.iter().copied().collect();
        prop_assert_eq!(wave.len(), ws.len(), "a service listed twice: {:?}", ws);
        prop_assert_eq!(ws.len(), members.len() + 1);
        prop_assert_eq!(ws.first().copied(), Some((root, 0)));
        prop_assert_eq!(ws.iter().filter(|(_, w)| *w == 0).count(), 1);
        for m in &members {
            let Some(&wm) = wave.get(m) else {
                return Err(TestCaseError::fail(format!("{m} missing from {ws:?}")));
            };
            for d in &deps[m] {
                if let Some(&wd) = wave.get(d) {
                    prop_assert!(wd < wm, "{} (wave {}) depends on {} (wave {}): {:?}", m, wm, d, wd, ws);
                }
            }
        }
        // Ordered by (wave, name).
        prop_assert!(ws.windows(2).all(|p| (p[0].1, p[0].0) < (p[1].1, p[1].0)));
    }

    #[test]
    fn find_cycle_names_a_real_cycle(
        (n, edges) in dag().prop_filter("two nodes", |(n, _)| *n >= 2),
        a in 0usize..NODES.len(),
        b in 0usize..NODES.len(),
        flip in any::<bool>(),
    ) {
        let (lo, hi) = {
            let (a, b) = (a % n, b % n);
            if a == b { (a.saturating_sub(1).min(n - 2), a.max(1).min(n - 1)) } else { (a.min(b), a.max(b)) }
        };
        let mut edges = edges;
        // hi depends on lo (a forward edge) and lo on hi (the back edge): a cycle.
        edges.push((hi, lo));
        edges.push((lo, hi));
        let deps = to_deps(n, &edges, flip);
        let Some(cycle) = find_cycle(&deps) else {
            return Err(TestCaseError::fail(format!("no cycle in {deps:?}")));
        };
        prop_assert!(cycle.len() >= 2);
        prop_assert_eq!(cycle.first(), cycle.last());
        for pair in cycle.windows(2) {
            let ds = deps.get(pair[0].as_str()).map(Vec::as_slice).unwrap_or(&[]);
            prop_assert!(ds.contains(&pair[1].as_str()), "{} -> {} is not an edge: {:?}", pair[0], pair[1], cycle);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Manifest and workflow readers: Ok or Err, never a panic

const MANIFEST: &str = r#"defaults:
  environment: production
  tag: "{service}/v{version}"
  deploy-tag: "deploy/{environment}/{service}"
  workflow: deploy.yml
  ref: "{default_branch}"
  inputs:
    version: "{version}"
  prereleases: false
  require-release: false
  skip: ["1.3.0", ">=2.0.0, <2.0.3"]
  cascade: redeploy
environments: [production, staging]
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

const WORKFLOW: &str = r#"name: Deploy
run-name: "Deploy ${{ inputs.version }}"
on:
  workflow_dispatch:
    inputs:
      version:
        required: true
        type: string
      dry-run:
        type: boolean
        default: false
      replicas:
        type: number
        default: 3
      region:
        type: choice
        options: [eu, us]
      target:
        type: environment
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
"#;

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, char),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        Just(":".to_string()),
        Just("\n  ".to_string()),
        Just("- ".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("!!binary ".to_string()),
        Just("? ".to_string()),
        Just("\t".to_string()),
        Just("\"".to_string()),
        Just("{version}".to_string()),
        Just("depends-on: [web]".to_string()),
        Just("~".to_string()),
        Just("<<: *a".to_string()),
        Just("99999999999999999999".to_string()),
        ".{1,6}",
    ];
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(a, l)| Mutation::Delete(a, l)),
        (any::<usize>(), snippet).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), any::<char>()).prop_map(|(a, c)| Mutation::Replace(a, c)),
        (any::<usize>(), 1usize..40).prop_map(|(a, l)| Mutation::Duplicate(a, l)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in mutations {
        let at = |a: usize, len: usize| if len == 0 { 0 } else { a % len };
        match m {
            Mutation::Delete(a, l) => {
                let s = at(*a, chars.len());
                let e = (s + l).min(chars.len());
                chars.drain(s..e);
            }
            Mutation::Insert(a, s) => {
                let i = at(*a, chars.len() + 1);
                chars.splice(i..i, s.chars());
            }
            Mutation::Replace(a, c) => {
                if !chars.is_empty() {
                    let i = at(*a, chars.len());
                    chars[i] = *c;
                }
            }
            Mutation::Duplicate(a, l) => {
                let s = at(*a, chars.len());
                let e = (s + l).min(chars.len());
                let copy: Vec<char> = chars[s..e].to_vec();
                chars.splice(e..e, copy);
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn the_unmutated_examples_parse() {
    let m = rollback::manifest::parse(MANIFEST, ".github/rollback.yml");
    assert!(m.is_ok(), "{:?}", m.err());
    let w = rollback::workflow::parse(WORKFLOW).expect("workflow parses");
    assert_eq!(w.dispatch.map(|d| d.inputs.len()), Some(5));
}

proptest! {
    #[test]
    fn manifest_never_panics(
        text in prop_oneof![
            any::<String>(),
            "([a-z-]{1,8}: ?|  |- |\\[|\\]|\\{|\\}|\n|\"|'|[0-9.]{1,4}|#|&x |\\*x|!!str ){0,30}",
            prop::collection::vec(mutation(), 1..6).prop_map(|m| mutate(MANIFEST, &m)),
        ],
    ) {
        let _ = rollback::manifest::parse(&text, ".github/rollback.yml");
    }

    #[test]
    fn workflow_never_panics(
        text in prop_oneof![
            any::<String>(),
            "(on: ?|workflow_dispatch: ?|inputs: ?|type: ?|default: ?|options: ?|  |- |\\[|\\]|\\{|\\}|\n|[0-9.]{1,4}|true|~){0,30}",
            prop::collection::vec(mutation(), 1..6).prop_map(|m| mutate(WORKFLOW, &m)),
        ],
    ) {
        let _ = rollback::workflow::parse(&text);
    }
}
