//! The `/rollback …` comment grammar (DESIGN §7 "PR and issue comments", §11.17).
//!
//! Comment text comes from anyone who can comment, so this module only *parses*: it turns the
//! first line into a [`Request`] of checked words and never decides whether a service, version or
//! environment exists. The caller checks permissions first, then validates the request against
//! the manifest.
//!
//! Grammar decisions (the README repeats them for users):
//! - The command is the first line of the body. Up to three leading spaces are allowed (Markdown
//!   still renders a paragraph); four or more spaces, or a tab, make an indented code block, i.e.
//!   an example being quoted, so that is not a command. A quote (`> /rollback api`) or a command
//!   in the middle of a sentence is not a command either. A leading byte-order mark is ignored.
//! - The prefix is matched case-sensitively and must be followed by whitespace or the end of the
//!   line (`/rollbacks`, `/rollback-status` are not commands).
//! - Keywords (`help`, `plan`, `to`, `back`, `in`) are matched ignoring ASCII case.
//! - `in <environment>` may stand anywhere after the service, at most once. Because no version,
//!   tag name or requirement is the single word `in`, removing it cannot cut into a target.
//! - The target (`to` optional) is every remaining word, joined by single spaces, so
//!   `>=1.2,  <1.3` becomes `>=1.2, <1.3`.
//! - Later lines are the reason: each trimmed, empty lines skipped, control characters dropped,
//!   whitespace collapsed, joined into one line.

use std::fmt;

/// The longest target we accept; real versions, tags and requirements are far shorter.
const MAX_TARGET_LEN: usize = 200;

/// What a comment body turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The first line does not start with the prefix: ignore the comment (`triggered=false`).
    NotACommand,
    /// `/rollback` or `/rollback help`: reply with [`help_text`].
    Help,
    /// A well-formed request, still to be validated against the manifest.
    Command(Request),
    /// The prefix was used but the rest does not parse: one sentence saying what is wrong.
    Invalid(String),
}

/// A parsed `/rollback` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `/rollback plan …`: plan only, change nothing.
    pub plan: bool,
    pub service: String,
    pub target: Target,
    /// `in <environment>`, when given.
    pub environment: Option<String>,
    /// The later lines of the comment joined into one line, when there are any.
    pub reason: Option<String>,
}

/// Which version to roll back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The highest eligible version below current.
    Previous,
    /// The N-th eligible version below current (N ≥ 1).
    Back(u32),
    /// An exact version, a tag name or a SemVer requirement, still unresolved.
    To(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Previous => f.write_str("previous"),
            Target::Back(n) => write!(f, "back {n}"),
            Target::To(to) => write!(f, "to {to}"),
        }
    }
}

/// Parses a comment body. `prefix` is the `comment-prefix` input (default `/rollback`).
pub fn parse(body: &str, prefix: &str) -> Parsed {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let (first, rest) = match body.split_once('\n') {
        Some((first, rest)) => (first, rest),
        None => (body, ""),
    };
    let first = first.trim_end();
    let indent = first.len() - first.trim_start_matches(' ').len();
    if indent > 3 || prefix.is_empty() {
        return Parsed::NotACommand;
    }
    let Some(after) = first[indent..].strip_prefix(prefix) else {
        return Parsed::NotACommand;
    };
    if !after.is_empty() && !after.starts_with(char::is_whitespace) {
        return Parsed::NotACommand;
    }
    let words: Vec<&str> = after.split_whitespace().collect();
    match parse_words(&words, prefix) {
        Ok(None) => Parsed::Help,
        Ok(Some(mut request)) => {
            request.reason = reason(rest);
            Parsed::Command(request)
        }
        Err(message) => Parsed::Invalid(message),
    }
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// `Ok(None)` is a request for help.
fn parse_words(words: &[&str], prefix: &str) -> Result<Option<Request>, String> {
    let mut words = words;
    let Some(&head) = words.first() else {
        return Ok(None);
    };
    if is_keyword(head, "help") {
        return Ok(None);
    }
    let plan = is_keyword(head, "plan");
    if plan {
        words = &words[1..];
    }
    let Some((&service, after_service)) = words.split_first() else {
        return Err(format!(
            "`{prefix} plan` needs a service: `{prefix} plan <service>`; see `{prefix} help`."
        ));
    };
    if ["plan", "help", "to", "back", "in"]
        .iter()
        .any(|k| is_keyword(service, k))
    {
        return Err(format!(
            "name the service first: `{prefix} {}<service> …`, not {}; see `{prefix} help`.",
            if plan { "plan " } else { "" },
            quote(service)
        ));
    }
    check_name("service", service)?;

    let mut rest: Vec<&str> = after_service.to_vec();
    let mut environment = None;
    let ins: Vec<usize> = (0..rest.len())
        .filter(|&i| is_keyword(rest[i], "in"))
        .collect();
    match ins.as_slice() {
        [] => {}
        [i] => {
            let i = *i;
            let Some(&env) = rest.get(i + 1) else {
                return Err(format!(
                    "`in` needs an environment: `{prefix} {service} in <environment>`."
                ));
            };
            check_name("environment", env)?;
            environment = Some(env.to_string());
            rest.drain(i..i + 2);
        }
        _ => return Err("`in <environment>` may be given only once.".to_string()),
    }

    let target = match rest.as_slice() {
        [] => Target::Previous,
        [back, tail @ ..] if is_keyword(back, "back") => match tail {
            [n] => Target::Back(parse_steps(n, prefix, service)?),
            [] => {
                return Err(format!(
                    "`back` needs a number of versions: `{prefix} {service} back 2`."
                ))
            }
            _ => {
                return Err(format!(
                    "`back` takes one number and nothing else: `{prefix} {service} back 2`."
                ))
            }
        },
        [to, tail @ ..] if is_keyword(to, "to") => {
            if tail.is_empty() {
                return Err(format!(
                    "`to` needs a version, tag name or SemVer requirement: `{prefix} {service} to 1.2.3`."
                ));
            }
            Target::To(check_target(&tail.join(" "))?)
        }
        words => Target::To(check_target(&words.join(" "))?),
    };

    Ok(Some(Request {
        plan,
        service: service.to_string(),
        target,
        environment,
        reason: None,
    }))
}

fn parse_steps(n: &str, prefix: &str, service: &str) -> Result<u32, String> {
    let parsed = if n.bytes().all(|b| b.is_ascii_digit()) {
        n.parse::<u32>().ok().filter(|&n| n >= 1)
    } else {
        None
    };
    parsed.ok_or_else(|| {
        format!(
            "`back` needs a whole number of versions, at least 1, not {}: `{prefix} {service} back 2`.",
            quote(n)
        )
    })
}

/// Service and environment names: `[A-Za-z0-9][A-Za-z0-9._-]*` (DESIGN §11.2).
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn check_name(what: &str, name: &str) -> Result<(), String> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid {what} name: use letters, digits, `.`, `_` and `-`, starting with a letter or digit.",
            quote(name)
        ))
    }
}

/// Characters of versions (`1.2.3-rc.1+b5`), tag names (`refs/tags/api/v1.2.3`, `pkg@1.2.3`) and
/// SemVer requirements (`>=1.2, <1.3`, `~1.3`, `^1`, `1.*`). Nothing a shell, Markdown code span
/// or workflow command gives meaning to beyond that.
fn is_target_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '.' | '-' | '+' | '_' | '/' | '~' | '^' | '<' | '>' | '=' | ',' | '*' | '@' | ' '
        )
}

fn check_target(to: &str) -> Result<String, String> {
    if let Some(bad) = to.chars().find(|&c| !is_target_char(c)) {
        return Err(format!(
            "the target may hold only letters, digits, spaces and `. - + _ / ~ ^ < > = , * @`, not {}.",
            describe_char(bad)
        ));
    }
    if to.len() > MAX_TARGET_LEN {
        return Err(format!(
            "the target is longer than {MAX_TARGET_LEN} characters."
        ));
    }
    Ok(to.to_string())
}

fn describe_char(c: char) -> String {
    if c.is_ascii_graphic() && c != '`' {
        format!("`{c}`")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Echoes a word of the comment back only when it is safe inside a Markdown code span and short;
/// otherwise names its first troublesome character.
fn quote(word: &str) -> String {
    match word.chars().find(|&c| !c.is_ascii_graphic() || c == '`') {
        None if word.len() <= 64 => format!("`{word}`"),
        None => format!("`{}…`", &word[..64]),
        Some(c) => format!("a word with {}", describe_char(c)),
    }
}

fn reason(rest: &str) -> Option<String> {
    let cleaned: String = rest
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// Bots' comments are ignored: a user of type `Bot`, or a login ending in `[bot]` (§11.17).
pub fn is_bot(login: &str, user_type: &str) -> bool {
    user_type.eq_ignore_ascii_case("bot") || login.to_ascii_lowercase().ends_with("[bot]")
}

/// The grammar as Markdown, for the reply to `/rollback help` and to invalid commands.
pub fn help_text(prefix: &str) -> String {
    format!(
        "**Usage** — the command is the first line of the comment; later lines are the reason.\n\
         \n\
         | Command | Does |\n\
         | --- | --- |\n\
         | `{p} <service>` | roll back to the previous eligible version |\n\
         | `{p} <service> [to] <TO>` | roll back (or forward) to an exact version (`1.3.2`), a tag name (`api/v1.3.2`) or a SemVer requirement (`~1.3`, `>=1.2, <1.3`) |\n\
         | `{p} <service> back <N>` | go N eligible versions back (N ≥ 1) |\n\
         | `{p} … in <environment>` | use another environment (anywhere after the service) |\n\
         | `{p} plan <service> …` | dry run: reply with the plan, change nothing |\n\
         | `{p} help` | show this help |\n\
         \n\
         Example:\n\
         \n\
         ```\n\
         {p} api back 2 in staging\n\
         500s on checkout since 1.4.0\n\
         ```\n",
        p = prefix
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "/rollback";

    fn cmd(body: &str) -> Request {
        match parse(body, P) {
            Parsed::Command(r) => r,
            other => panic!("{body:?} gave {other:?}"),
        }
    }

    fn invalid(body: &str) -> String {
        match parse(body, P) {
            Parsed::Invalid(m) => m,
            other => panic!("{body:?} gave {other:?}"),
        }
    }

    fn req(service: &str, target: Target) -> Request {
        Request {
            plan: false,
            service: service.into(),
            target,
            environment: None,
            reason: None,
        }
    }

    #[test]
    fn previous_with_crlf() {
        assert_eq!(cmd("/rollback api\r\n"), req("api", Target::Previous));
        assert_eq!(cmd("/rollback api   \t"), req("api", Target::Previous));
    }

    #[test]
    fn to_tag_name_with_reason_after_blank_line() {
        let r = cmd("/rollback api to api/v1.2.0\r\n\r\nreason: 500s");
        assert_eq!(r.target, Target::To("api/v1.2.0".into()));
        assert_eq!(r.reason.as_deref(), Some("reason: 500s"));
    }

    #[test]
    fn reason_lines_are_joined_and_collapsed() {
        let r = cmd("/rollback api\n\n  checkout   fails \r\n\n\tsince 1.4.0\u{1b}[31m \n");
        assert_eq!(r.reason.as_deref(), Some("checkout fails since 1.4.0 [31m"));
        assert_eq!(cmd("/rollback api\n \n\r\n").reason, None);
    }

    #[test]
    fn back_n() {
        assert_eq!(cmd("/rollback api back 2"), req("api", Target::Back(2)));
        assert_eq!(cmd("/rollback api BACK 1").target, Target::Back(1));
    }

    #[test]
    fn back_needs_positive_integer() {
        for body in [
            "/rollback api back 0",
            "/rollback api back x",
            "/rollback api back -1",
            "/rollback api back +2",
            "/rollback api back 2.0",
            "/rollback api back 99999999999",
            "/rollback api back",
            "/rollback api back 2 3",
        ] {
            let m = invalid(body);
            assert!(m.contains("back"), "{body}: {m}");
        }
    }

    #[test]
    fn bare_version_with_environment_at_end() {
        let r = cmd("/rollback api 1.2.3 in staging");
        assert_eq!(r.target, Target::To("1.2.3".into()));
        assert_eq!(r.environment.as_deref(), Some("staging"));
    }

    #[test]
    fn environment_right_after_service() {
        let r = cmd("/rollback api in staging to ~1.3");
        assert_eq!(r.target, Target::To("~1.3".into()));
        assert_eq!(r.environment.as_deref(), Some("staging"));
        let r = cmd("/rollback api in staging");
        assert_eq!(r.target, Target::Previous);
        assert_eq!(r.environment.as_deref(), Some("staging"));
    }

    #[test]
    fn environment_anywhere_after_service() {
        let r = cmd("/rollback api back in staging 2");
        assert_eq!(r.target, Target::Back(2));
        assert_eq!(r.environment.as_deref(), Some("staging"));
        let r = cmd("/rollback api >=1.2, IN prod-eu <1.3");
        assert_eq!(r.target, Target::To(">=1.2, <1.3".into()));
        assert_eq!(r.environment.as_deref(), Some("prod-eu"));
    }

    #[test]
    fn environment_errors() {
        assert!(invalid("/rollback api in").contains("environment"));
        assert!(invalid("/rollback api in staging in prod").contains("once"));
        assert!(invalid("/rollback api in $HOME").contains("environment name"));
        assert!(invalid("/rollback api to in staging").contains("`to` needs"));
    }

    #[test]
    fn requirement_with_spaces_is_rest_of_line() {
        assert_eq!(
            cmd("/rollback api >=1.2, <1.3").target,
            Target::To(">=1.2, <1.3".into())
        );
        assert_eq!(
            cmd("/rollback api to >=1.2,   <1.3 in staging").target,
            Target::To(">=1.2, <1.3".into())
        );
        assert_eq!(
            cmd("/rollback api to refs/tags/api/v1.3.2+build.5").target,
            Target::To("refs/tags/api/v1.3.2+build.5".into())
        );
    }

    #[test]
    fn not_commands() {
        for body in [
            "Please don't /rollback api yet",
            "/rollbacks api",
            "> /rollback api",
            "/rollback-status",
            "/Rollback api",
            "    /rollback api",
            "\t/rollback api",
            "\n/rollback api",
            "",
            "thanks\n/rollback api",
            "`/rollback api`",
        ] {
            assert_eq!(parse(body, P), Parsed::NotACommand, "{body:?}");
        }
        assert_eq!(parse("/rollback api", ""), Parsed::NotACommand);
    }

    #[test]
    fn small_indent_and_bom_are_commands() {
        assert_eq!(cmd("   /rollback api"), req("api", Target::Previous));
        assert_eq!(cmd("\u{feff}/rollback api"), req("api", Target::Previous));
    }

    #[test]
    fn help() {
        assert_eq!(parse("/rollback", P), Parsed::Help);
        assert_eq!(parse("/rollback\r\nwhat can I do?", P), Parsed::Help);
        assert_eq!(parse("/rollback help", P), Parsed::Help);
        assert_eq!(parse("/rollback HELP me", P), Parsed::Help);
        let text = help_text("/undeploy");
        assert!(text.contains("`/undeploy <service> back <N>`"));
        assert!(!text.contains("/rollback"));
    }

    #[test]
    fn plan() {
        let r = cmd("/rollback plan api back 2");
        assert!(r.plan);
        assert_eq!(r.service, "api");
        assert_eq!(r.target, Target::Back(2));
        assert!(invalid("/rollback plan").contains("needs a service"));
        assert!(!cmd("/rollback api back 2").plan);
    }

    #[test]
    fn keyword_is_not_a_service() {
        for body in [
            "/rollback in staging api",
            "/rollback to 1.2.3",
            "/rollback back 2",
            "/rollback plan plan",
        ] {
            assert!(invalid(body).contains("name the service first"), "{body}");
        }
    }

    #[test]
    fn injection_is_invalid() {
        let m = invalid("/rollback api to $(touch pwned)\n::add-mask::x\n::error::boom");
        assert!(m.contains("`$`"), "{m}");
        for body in [
            "/rollback api `id`",
            "/rollback api 1.2.3;rm",
            "/rollback api 1.2.3|cat",
            "/rollback api 1.2.3&&x",
            "/rollback api \"1.2.3\"",
            "/rollback api '1.2.3'",
            "/rollback api 1.2.3\u{7}",
            "/rollback api 1.2.3\r::error::x",
            "/rollback api (1.2.3)",
        ] {
            invalid(body);
        }
        // The offending text is never echoed into the message, only named.
        assert!(!invalid("/rollback api `rm -rf`").contains("rm -rf"));
    }

    #[test]
    fn bad_service_names() {
        for body in [
            "/rollback -api",
            "/rollback .api",
            "/rollback api$",
            "/rollback a/b",
            "/rollback ａpi",
        ] {
            assert!(invalid(body).contains("service name"), "{body}");
        }
        assert_eq!(cmd("/rollback Api_2.x-y").service, "Api_2.x-y");
    }

    #[test]
    fn long_target_is_invalid() {
        let body = format!("/rollback api {}", "1".repeat(MAX_TARGET_LEN + 1));
        assert!(invalid(&body).contains("longer"));
    }

    #[test]
    fn custom_prefix() {
        let p = "/undeploy";
        assert_eq!(
            parse("/undeploy api back 3", p),
            Parsed::Command(req("api", Target::Back(3)))
        );
        assert_eq!(parse("/rollback api", p), Parsed::NotACommand);
        assert_eq!(parse("/undeployed api", p), Parsed::NotACommand);
        assert_eq!(parse("/undeploy", p), Parsed::Help);
        match parse("/undeploy plan", p) {
            Parsed::Invalid(m) => assert!(m.contains("`/undeploy plan <service>`"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bots() {
        assert!(is_bot("github-actions[bot]", "Bot"));
        assert!(is_bot("renovate[bot]", "User"));
        assert!(is_bot("x", "Bot"));
        assert!(!is_bot("octo-deployer", "User"));
        assert!(!is_bot("bot", "User"));
        assert!(is_bot("Foo[BOT]", "User"));
    }

    #[test]
    fn recorded_payload_comments_are_not_commands() {
        for f in [
            "issue_comment.created.issue.json",
            "issue_comment.created.pull_request.recorded.json",
        ] {
            let path = format!("{}/../shared/github-events/{f}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!("{path}: {e} (the tests read ../shared beside the checkout)")
            });
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let body = v["comment"]["body"].as_str().unwrap();
            assert_eq!(parse(body, P), Parsed::NotACommand);
            let user = &v["comment"]["user"];
            assert!(!is_bot(
                user["login"].as_str().unwrap(),
                user["type"].as_str().unwrap()
            ));
        }
    }

    use crate::test_support::odd_inputs;

    #[test]
    fn never_panics() {
        for s in odd_inputs() {
            let _ = parse(&s, P);
            let _ = parse(&s, "/undeploy");
        }
    }
}
