//! The GitHub Actions runner's protocols, as pure functions: `INPUT_*` variables, the
//! `$GITHUB_OUTPUT` file format, and workflow commands (`::error::…`) on stdout.
//!
//! The edge (`action.rs`) reads the environment and appends to the files; this module only turns
//! values into text and back. It follows the runner's own code (`actions/runner`:
//! `FileCommandManager.cs`, `ActionCommand.cs`, `ActionCommandManager.cs`) rather than the docs,
//! because the runner is what decides how our text is read.
//!
//! Untrusted text (comment bodies, inputs, GitHub error messages) must never reach stdout in a
//! form the runner reads as a command. The runner treats a line as a command when, after leading
//! whitespace, it starts with `::`, or when it contains `##[` *anywhere* (the legacy form), and it
//! splits process output into lines at `\n`, `\r\n` and a lone `\r`. Use [`neutralize_line`] for
//! untrusted text echoed in a log line (stateless, cannot be undone by the text), the `*_command`
//! helpers (which escape) for annotations, and [`stop_commands`] only for large blocks printed
//! verbatim in one write.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::error::{Error, Result};

/// The action's inputs, read once from `INPUT_*` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// By the name as written in `action.yml` (`dry-run`); only non-empty values, trimmed.
    values: BTreeMap<String, String>,
}

impl Inputs {
    /// Reads every `INPUT_*` variable of `vars`. The runner names them `INPUT_` + the input name
    /// upper-cased with spaces turned into `_` and hyphens kept (`INPUT_DRY-RUN`). A hand-set
    /// underscore spelling (`INPUT_DRY_RUN`) is honoured only when the runner's spelling is absent
    /// (§11.18). A value that is empty or only whitespace means "unset": the default applies.
    pub fn from_env(vars: &BTreeMap<String, String>) -> Inputs {
        let mut values = BTreeMap::new();
        // Exact (runner) spellings first, then underscore spellings for names not yet seen.
        let mut seen = std::collections::BTreeSet::new();
        for (key, value) in vars {
            let Some(name) = key.strip_prefix("INPUT_") else {
                continue;
            };
            if name.contains('_') {
                continue;
            }
            let name = name.to_ascii_lowercase();
            seen.insert(name.clone());
            let value = value.trim();
            if !value.is_empty() {
                values.insert(name, value.to_string());
            }
        }
        for (key, value) in vars {
            let Some(name) = key.strip_prefix("INPUT_") else {
                continue;
            };
            if !name.contains('_') {
                continue;
            }
            // `INPUT_DRY_RUN` may stand for `dry-run` or for an input really named `dry_run`;
            // keep it under both spellings unless the runner's hyphenated one exists.
            let lower = name.to_ascii_lowercase();
            let hyphenated = lower.replace('_', "-");
            let value = value.trim();
            if !seen.contains(&hyphenated) && !value.is_empty() {
                values
                    .entry(hyphenated)
                    .or_insert_with(|| value.to_string());
            }
            if !value.is_empty() {
                values.insert(lower, value.to_string());
            }
        }
        Inputs { values }
    }

    /// The input's value, trimmed; `None` when unset or empty. `name` as in `action.yml`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(&name.to_ascii_lowercase().replace(' ', "_"))
            .map(String::as_str)
    }

    /// A boolean input: `true` or `false` in any case; unset means `default`.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(Error::usage(format!(
                "input `{name}` must be `true` or `false`, got `{}`",
                printable(v)
            ))),
        }
    }

    /// A whole-number input (`steps`); unset is `None`.
    pub fn u32(&self, name: &str) -> Result<Option<u32>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
                .map(Some)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "input `{name}` must be a whole number, got `{}`",
                        printable(v)
                    ))
                }),
        }
    }

    /// A duration input (`timeout`) in humantime form: `90s`, `30m`, `1h30m`; unset is `None`.
    pub fn duration(&self, name: &str) -> Result<Option<Duration>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => humantime::parse_duration(v).map(Some).map_err(|e| {
                Error::usage(format!(
                    "input `{name}` must be a duration such as `90s`, `30m` or `1h30m`, got `{}`",
                    printable(v)
                ))
                .with_detail(e.to_string())
            }),
        }
    }

    /// One of a fixed set of words (`strategy`, `min-permission`), compared ignoring ASCII case
    /// and returned as spelled in `allowed`.
    pub fn one_of(&self, name: &str, allowed: &[&'static str]) -> Result<Option<&'static str>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(v))
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "input `{name}` must be one of {}, got `{}`",
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        printable(v)
                    ))
                }),
        }
    }
}

/// Input values echoed in messages: one line, no backticks, bounded.
fn printable(v: &str) -> String {
    let s: String = v
        .chars()
        .map(|c| if c.is_control() || c == '`' { '?' } else { c })
        .take(80)
        .collect();
    if v.chars().count() > 80 {
        format!("{s}…")
    } else {
        s
    }
}

/// A source of random 64-bit numbers for delimiters and stop tokens. No crate needed: each
/// `RandomState` is seeded from the OS, and the time and a counter make repeated calls differ.
pub fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// A random token for [`stop_commands`].
pub fn random_token() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

/// Text to append to `$GITHUB_OUTPUT` for one output. `name` is one of the action's own output
/// names (never untrusted text; it must not hold `=`, `<<` or a newline).
pub fn format_output(name: &str, value: &str) -> String {
    format_output_with(name, value, &mut random_u64)
}

/// [`format_output`] with the randomness supplied, so tests can force delimiter collisions.
pub fn format_output_with(name: &str, value: &str, random: &mut dyn FnMut() -> u64) -> String {
    if !value.contains(['\n', '\r']) {
        return format!("{name}={value}\n");
    }
    loop {
        let delimiter = format!("ghadelimiter_{:016x}{:016x}", random(), random());
        if !value.contains(&delimiter) {
            return format!("{name}<<{delimiter}\n{value}\n{delimiter}\n");
        }
    }
}

/// Parses a `$GITHUB_OUTPUT` file as the Linux runner does (our container always runs on
/// Linux): lines end at `\n` only, so a `\r` before it is part of the line, exactly as
/// `FileCommandManager` reads it outside Windows. `name=value`, or `name<<DELIM` followed by
/// lines up to one equal to `DELIM`. Empty lines between entries are skipped. A later entry of
/// the same name replaces an earlier one.
pub fn parse_output_file(text: &str) -> std::result::Result<BTreeMap<String, String>, String> {
    parse_file_command(text, false)
}

/// The same, with the Windows runner's rule that `\r\n` also ends a line.
pub fn parse_output_file_crlf(text: &str) -> std::result::Result<BTreeMap<String, String>, String> {
    parse_file_command(text, true)
}

/// One line from `index`: (line, index after it, length of its line ending).
fn read_line(text: &str, index: usize, crlf: bool) -> Option<(&str, usize, usize)> {
    if index >= text.len() {
        return None;
    }
    let rest = &text[index..];
    match rest.find('\n') {
        None => Some((rest, text.len(), 0)),
        Some(lf) => {
            if crlf && lf > 0 && rest.as_bytes()[lf - 1] == b'\r' {
                Some((&rest[..lf - 1], index + lf + 1, 2))
            } else {
                Some((&rest[..lf], index + lf + 1, 1))
            }
        }
    }
}

fn parse_file_command(
    text: &str,
    crlf: bool,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut index = 0;
    while let Some((line, next, _)) = read_line(text, index, crlf) {
        index = next;
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let (name, value) = (&line[..e], &line[e + 1..]);
                if name.is_empty() {
                    return Err(format!("Invalid format '{line}'. Name must not be empty"));
                }
                out.insert(name.to_string(), value.to_string());
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!(
                        "Invalid format '{line}'. Name must not be empty and delimiter must not be empty"
                    ));
                }
                let start = index;
                let mut end = index;
                loop {
                    match read_line(text, index, crlf) {
                        None => {
                            return Err(format!(
                                "Invalid value. Matching delimiter not found '{delimiter}'"
                            ))
                        }
                        Some((l, next, _)) if l == delimiter => {
                            index = next;
                            break;
                        }
                        Some((_, _, 0)) => {
                            // The runner fails here too: the value's last line has no newline
                            // and no delimiter follows.
                            return Err("Invalid value. EOF marker missing new line.".to_string());
                        }
                        Some((_, next, newline)) => {
                            end = next - newline;
                            index = next;
                        }
                    }
                }
                let value = if end > start { &text[start..end] } else { "" };
                out.insert(name.to_string(), value.to_string());
            }
            _ => return Err(format!("Unexpected input format: {line}")),
        }
    }
    Ok(out)
}

/// Escapes a command's message (the part after the second `::`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property's value (`title=…`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn annotation(kind: &str, title: Option<&str>, message: &str) -> String {
    match title {
        Some(t) => format!(
            "::{kind} title={}::{}\n",
            escape_property(t),
            escape_data(message)
        ),
        None => format!("::{kind}::{}\n", escape_data(message)),
    }
}

/// `::error title=…::message`, one line with its newline; safe for any title and message.
pub fn error_command(title: Option<&str>, message: &str) -> String {
    annotation("error", title, message)
}

/// `::warning title=…::message`, one line with its newline.
pub fn warning_command(title: Option<&str>, message: &str) -> String {
    annotation("warning", title, message)
}

/// `::notice title=…::message`, one line with its newline.
pub fn notice_command(title: Option<&str>, message: &str) -> String {
    annotation("notice", title, message)
}

/// Starts a collapsible group in the log.
pub fn group_start(name: &str) -> String {
    format!("::group::{}\n", escape_data(name))
}

/// Ends the group [`group_start`] opened.
pub fn group_end() -> String {
    "::endgroup::\n".to_string()
}

/// Asks the runner to mask `secret` in later log lines. Print it before anything that may hold
/// the secret. A multi-line secret is masked line by line, as the runner masks per line.
pub fn add_mask(secret: &str) -> String {
    secret
        .split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("::add-mask::{}\n", escape_data(l)))
        .collect()
}

/// Wraps untrusted text so the runner processes no command inside it:
/// `::stop-commands::TOKEN`, the text, then `::TOKEN::` to resume. `token` must be random and
/// unknown to whoever wrote the text ([`random_token`]). Should the text contain the token anyway
/// (the runner compares it ignoring case), every line is also neutralized, so the text can never
/// resume processing early. An empty token would make the runner ignore the stop; it is replaced.
pub fn stop_commands(untrusted: &str, token: &str) -> String {
    let token = if token.trim().is_empty() || token.contains([':', '\r', '\n', ' ', ']']) {
        random_token()
    } else {
        token.to_string()
    };
    let body = if untrusted
        .to_ascii_lowercase()
        .contains(&token.to_ascii_lowercase())
    {
        neutralize_line(untrusted)
    } else {
        untrusted.to_string()
    };
    let body = body.strip_suffix('\n').unwrap_or(&body).to_string();
    format!("::stop-commands::{token}\n{body}\n::{token}::\n")
}

/// Makes untrusted text harmless on stdout without any state: every line the runner would see
/// (split at `\n`, `\r\n` or a lone `\r`) that starts with `::` after leading whitespace gets a
/// space between the two colons, and every `##[` becomes `## [`. Lines are rejoined with `\n`.
/// This is what the app should use for untrusted text inside its own log lines; it needs no
/// token and nothing in the text can undo it.
pub fn neutralize_line(s: &str) -> String {
    let normalized = s.replace("\r\n", "\n").replace('\r', "\n");
    normalized
        .split('\n')
        .map(|line| {
            let line = line.replace("##[", "## [");
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix("::") {
                let indent = &line[..line.len() - trimmed.len()];
                format!("{indent}: :{rest}")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn inputs_hyphen_kept_and_empty_is_unset() {
        let i = Inputs::from_env(&env(&[
            ("INPUT_DRY-RUN", "TRUE"),
            ("INPUT_SERVICE", "  api "),
            ("INPUT_TO", ""),
            ("INPUT_REASON", "  \t"),
            ("INPUT_COMMENT-PREFIX", "/undeploy"),
            ("GITHUB_TOKEN", "secret"),
        ]));
        assert_eq!(i.get("dry-run"), Some("TRUE"));
        assert_eq!(i.get("service"), Some("api"));
        assert_eq!(i.get("to"), None);
        assert_eq!(i.get("reason"), None);
        assert_eq!(i.get("comment-prefix"), Some("/undeploy"));
        assert_eq!(i.get("token"), None);
    }

    #[test]
    fn hyphenated_spelling_wins_over_underscore() {
        let i = Inputs::from_env(&env(&[
            ("INPUT_DRY-RUN", "false"),
            ("INPUT_DRY_RUN", "true"),
        ]));
        assert!(!i.bool("dry-run", true).unwrap());
        // The runner's spelling wins even when it is empty: empty means the default.
        let i = Inputs::from_env(&env(&[("INPUT_DRY-RUN", ""), ("INPUT_DRY_RUN", "true")]));
        assert!(!i.bool("dry-run", false).unwrap());
        // Alone, the underscore spelling is honoured.
        let i = Inputs::from_env(&env(&[("INPUT_DRY_RUN", "true")]));
        assert!(i.bool("dry-run", false).unwrap());
        assert_eq!(i.get("dry_run"), Some("true"));
        let i = Inputs::from_env(&env(&[("INPUT_MIN_PERMISSION", "admin")]));
        assert_eq!(i.get("min-permission"), Some("admin"));
    }

    #[test]
    fn bools_in_any_case() {
        for (v, want) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("False", false),
            ("fAlSe", false),
            (" true\n", true),
        ] {
            let i = Inputs::from_env(&env(&[("INPUT_WAIT", v)]));
            assert_eq!(i.bool("wait", !want).unwrap(), want, "{v:?}");
        }
        let i = Inputs::from_env(&env(&[]));
        assert!(i.bool("cascade", true).unwrap());
        assert!(!i.bool("wait", false).unwrap());
    }

    #[test]
    fn bad_bool_names_input_and_value() {
        for v in ["yes-please", "yes", "1", "on", "t"] {
            let i = Inputs::from_env(&env(&[("INPUT_DRY-RUN", v)]));
            let e = i.bool("dry-run", false).unwrap_err();
            assert_eq!(e.kind, Kind::Usage);
            assert_eq!(
                e.message,
                format!("input `dry-run` must be `true` or `false`, got `{v}`")
            );
        }
    }

    #[test]
    fn numbers_durations_and_words() {
        let i = Inputs::from_env(&env(&[
            ("INPUT_STEPS", "3"),
            ("INPUT_TIMEOUT", "1h30m"),
            ("INPUT_STRATEGY", "Previous"),
            ("INPUT_MIN-PERMISSION", "owner"),
        ]));
        assert_eq!(i.u32("steps").unwrap(), Some(3));
        assert_eq!(i.u32("absent").unwrap(), None);
        assert_eq!(
            i.duration("timeout").unwrap(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            i.one_of("strategy", &["previous", "steps", "version"])
                .unwrap(),
            Some("previous")
        );
        let e = i
            .one_of("min-permission", &["write", "maintain", "admin"])
            .unwrap_err();
        assert!(e.message.contains("got `owner`"), "{}", e.message);
        for bad in ["-1", "+1", "two", "1.5", "99999999999"] {
            let i = Inputs::from_env(&env(&[("INPUT_STEPS", bad)]));
            assert_eq!(i.u32("steps").unwrap_err().kind, Kind::Usage, "{bad}");
        }
        let i = Inputs::from_env(&env(&[("INPUT_TIMEOUT", "soon")]));
        assert_eq!(i.duration("timeout").unwrap_err().kind, Kind::Usage);
    }

    #[test]
    fn single_line_output() {
        assert_eq!(format_output("triggered", "true"), "triggered=true\n");
        assert_eq!(format_output("from-sha", ""), "from-sha=\n");
        assert_eq!(format_output("x", "a=b<<c"), "x=a=b<<c\n");
    }

    #[test]
    fn output_round_trip() {
        let values = [
            "",
            "plain",
            "line1\nline2",
            "EOF\nEOF",
            "ghadelimiter_0000000000000000\nghadelimiter_deadbeef",
            "a\r\nb\r\nc",
            "ends with newline\n",
            "\n",
            "\n\nleading",
            "=x\n<<y",
            "lone\rcr",
            "trailing cr\r",
            "{\"schema\":1,\"steps\":[]}",
            "name<<EOF\nvalue\nEOF",
        ];
        let mut file = String::new();
        for (i, v) in values.iter().enumerate() {
            file.push_str(&format_output(&format!("out{i}"), v));
        }
        let parsed = parse_output_file(&file).unwrap();
        assert_eq!(parsed.len(), values.len());
        for (i, v) in values.iter().enumerate() {
            assert_eq!(parsed[&format!("out{i}")], *v, "value {i}");
        }
        // The Windows reading loses only a `\r` that ends a multi-line value.
        let crlf = parse_output_file_crlf(&file).unwrap();
        for (i, v) in values.iter().enumerate() {
            if !v.ends_with('\r') {
                assert_eq!(crlf[&format!("out{i}")], *v, "value {i} (crlf)");
            }
        }
    }

    #[test]
    fn delimiter_is_retried_until_absent() {
        // The first two random numbers give a delimiter that the value contains.
        let value = "x\nghadelimiter_00000000000000010000000000000002\ny";
        let mut n = 0u64;
        let mut random = || {
            n += 1;
            n
        };
        let text = format_output_with("plan", value, &mut random);
        assert!(text.starts_with("plan<<ghadelimiter_00000000000000030000000000000004\n"));
        assert_eq!(parse_output_file(&text).unwrap()["plan"], value);
    }

    #[test]
    fn output_file_as_the_runner_reads_it() {
        let p = parse_output_file("a=1\n\nb<<EOF\nx\ny\nEOF\nc=\nd=e=f\na=2").unwrap();
        assert_eq!(p["a"], "2");
        assert_eq!(p["b"], "x\ny");
        assert_eq!(p["c"], "");
        assert_eq!(p["d"], "e=f");
        // Linux keeps a `\r` in the line; Windows drops it with the `\n`.
        assert_eq!(parse_output_file("a=1\r\n").unwrap()["a"], "1\r");
        assert_eq!(parse_output_file_crlf("a=1\r\n").unwrap()["a"], "1");
        // On Linux the delimiter itself is `EOF\r`, so the value keeps its `\r`.
        assert_eq!(
            parse_output_file("b<<EOF\r\nx\r\nEOF\r\n").unwrap()["b"],
            "x\r"
        );
        assert!(parse_output_file("b<<EOF\r\nx\r\nEOF\n").is_err());
        assert_eq!(
            parse_output_file_crlf("b<<EOF\r\nx\r\nEOF\r\n").unwrap()["b"],
            "x"
        );
        assert_eq!(parse_output_file("e<<EOF\nEOF\n").unwrap()["e"], "");
        for bad in [
            "=x",
            "novalue",
            "b<<EOF\nx\n",
            "<<EOF\nEOF",
            "b<<\nx",
            "b<<EOF\nx",
        ] {
            assert!(parse_output_file(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escaping_tables() {
        for (raw, data, prop) in [
            ("plain", "plain", "plain"),
            ("100%", "100%25", "100%25"),
            ("a\nb", "a%0Ab", "a%0Ab"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("k: v, w", "k: v, w", "k%3A v%2C w"),
            ("%0A", "%250A", "%250A"),
            ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
        ] {
            assert_eq!(escape_data(raw), data, "{raw:?}");
            assert_eq!(escape_property(raw), prop, "{raw:?}");
        }
    }

    #[test]
    fn commands_stay_on_one_line() {
        assert_eq!(
            error_command(Some("Invalid request"), "bad\n::add-mask::x"),
            "::error title=Invalid request::bad%0A::add-mask::x\n"
        );
        assert_eq!(error_command(None, "50%"), "::error::50%25\n");
        assert_eq!(
            warning_command(Some("a,b:c"), "m"),
            "::warning title=a%2Cb%3Ac::m\n"
        );
        assert_eq!(notice_command(None, "n"), "::notice::n\n");
        assert_eq!(group_start("Plan\nx"), "::group::Plan%0Ax\n");
        assert_eq!(group_end(), "::endgroup::\n");
        assert_eq!(add_mask("s3cret"), "::add-mask::s3cret\n");
        assert_eq!(add_mask("a\r\nb\n"), "::add-mask::a\n::add-mask::b\n");
        assert_eq!(add_mask(""), "");
    }

    /// Would the runner read this line as a command (V2 `::` after leading whitespace, or the
    /// legacy `##[` anywhere)? Lines as the runner splits them.
    fn runner_sees_command(text: &str) -> bool {
        text.split(['\n', '\r'])
            .any(|l| l.trim_start().starts_with("::") || l.contains("##["))
    }

    #[test]
    fn neutralize_makes_every_line_harmless() {
        let evil = "ok\n::add-mask::x\r::error::boom\r\n   ::set-output name=a::b\nsee ##[warning]w\n\t::group::g";
        assert!(runner_sees_command(evil));
        let safe = neutralize_line(evil);
        assert!(!runner_sees_command(&safe), "{safe}");
        assert_eq!(
            safe,
            "ok\n: :add-mask::x\n: :error::boom\n   : :set-output name=a::b\nsee ## [warning]w\n\t: :group::g"
        );
        assert_eq!(neutralize_line("a: b :: c"), "a: b :: c");
        assert_eq!(neutralize_line("##[##["), "## [## [");
    }

    #[test]
    fn stop_commands_wraps_text() {
        let out = stop_commands("::error::boom\nline", "tok123");
        assert_eq!(
            out,
            "::stop-commands::tok123\n::error::boom\nline\n::tok123::\n"
        );
        assert_eq!(
            stop_commands("x\n", "tok123"),
            "::stop-commands::tok123\nx\n::tok123::\n"
        );
    }

    #[test]
    fn stop_commands_survives_a_known_token() {
        let out = stop_commands("::TOK123::\n::error::boom\n##[tok123]", "tok123");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.first(), Some(&"::stop-commands::tok123"));
        assert_eq!(lines.last(), Some(&"::tok123::"));
        let inner = &lines[1..lines.len() - 1];
        assert!(!runner_sees_command(&inner.join("\n")), "{inner:?}");
    }

    #[test]
    fn stop_commands_never_uses_an_empty_token() {
        let out = stop_commands("::error::boom", "");
        let first = out.lines().next().unwrap();
        let token = first.strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert!(out.ends_with(&format!("::{token}::\n")));
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(), random_token());
    }

    use crate::test_support::odd_inputs;

    #[test]
    fn never_panics_and_always_round_trips() {
        for s in odd_inputs() {
            let _ = parse_output_file(&s);
            let _ = parse_output_file_crlf(&s);
            assert!(!runner_sees_command(&neutralize_line(&s)), "{s:?}");
            let out = format_output("v", &s);
            assert_eq!(parse_output_file(&out).unwrap()["v"], s);
            assert!(!escape_data(&s).contains(['\r', '\n']));
        }
    }
}
