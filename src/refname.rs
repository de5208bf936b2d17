//! Git ref-name validity, as `git check-ref-format` decides it (git-check-ref-format(1)).
//!
//! Pure string rules, no git: the manifest uses them to refuse templates that render to tag
//! names git (and GitHub) would reject, before anything is read or moved.

use std::fmt;

/// Why a name is not a valid git ref name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefNameError {
    Empty,
    /// `..` anywhere.
    DoubleDot,
    /// An ASCII control character, space, `~ ^ : ? * [ \`.
    ForbiddenChar(char),
    /// `@{` anywhere.
    AtBrace,
    /// The whole name is `@`.
    LoneAt,
    /// A leading or trailing `/`, or `//`.
    EmptyComponent,
    /// A `/`-separated component starts with `.`.
    ComponentStartsWithDot(String),
    /// A `/`-separated component ends with `.lock`.
    ComponentEndsWithLock(String),
    /// The name ends with `.`.
    EndsWithDot,
}

impl fmt::Display for RefNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefNameError::Empty => f.write_str("it is empty"),
            RefNameError::DoubleDot => f.write_str("it contains `..`"),
            RefNameError::ForbiddenChar(c) if c.is_ascii_control() => {
                write!(f, "it contains the control character {:?}", c)
            }
            RefNameError::ForbiddenChar(' ') => f.write_str("it contains a space"),
            RefNameError::ForbiddenChar(c) => write!(f, "it contains `{c}`"),
            RefNameError::AtBrace => f.write_str("it contains `@{`"),
            RefNameError::LoneAt => f.write_str("it is `@`"),
            RefNameError::EmptyComponent => {
                f.write_str("it starts or ends with `/` or contains `//`")
            }
            RefNameError::ComponentStartsWithDot(c) => {
                write!(f, "its part `{c}` starts with `.`")
            }
            RefNameError::ComponentEndsWithLock(c) => {
                write!(f, "its part `{c}` ends with `.lock`")
            }
            RefNameError::EndsWithDot => f.write_str("it ends with `.`"),
        }
    }
}

impl std::error::Error for RefNameError {}

/// Checks a full ref name (`refs/tags/api/v1.2.3`) by the rules of `git check-ref-format`
/// (one-level names are not refused here; callers pass full names).
pub fn check(name: &str) -> Result<(), RefNameError> {
    if name.is_empty() {
        return Err(RefNameError::Empty);
    }
    if name == "@" {
        return Err(RefNameError::LoneAt);
    }
    if let Some(c) = name.chars().find(|c| is_forbidden(*c)) {
        return Err(RefNameError::ForbiddenChar(c));
    }
    if name.contains("..") {
        return Err(RefNameError::DoubleDot);
    }
    if name.contains("@{") {
        return Err(RefNameError::AtBrace);
    }
    for component in name.split('/') {
        if component.is_empty() {
            return Err(RefNameError::EmptyComponent);
        }
        if component.starts_with('.') {
            return Err(RefNameError::ComponentStartsWithDot(component.to_string()));
        }
        if component.ends_with(".lock") {
            return Err(RefNameError::ComponentEndsWithLock(component.to_string()));
        }
    }
    if name.ends_with('.') {
        return Err(RefNameError::EndsWithDot);
    }
    Ok(())
}

/// Checks a tag name as `refs/tags/<name>`.
pub fn check_tag(name: &str) -> Result<(), RefNameError> {
    if name.is_empty() {
        return Err(RefNameError::Empty);
    }
    check(&format!("refs/tags/{name}"))
}

/// Checks a branch name as `refs/heads/<name>`.
pub fn check_branch(name: &str) -> Result<(), RefNameError> {
    if name.is_empty() {
        return Err(RefNameError::Empty);
    }
    check(&format!("refs/heads/{name}"))
}

fn is_forbidden(c: char) -> bool {
    c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ref_format_rules() {
        use RefNameError::*;
        let cases: &[(&str, Result<(), RefNameError>)] = &[
            ("refs/tags/api/v1.2.3", Ok(())),
            ("refs/tags/api/v1.2.3-rc.1+build.5", Ok(())),
            ("refs/tags/deploy/production/api", Ok(())),
            ("refs/tags/ünïcode", Ok(())),
            ("refs/tags/a@b", Ok(())),
            ("refs/tags/a.b", Ok(())),
            ("refs/tags/a-.lock-b", Ok(())),
            ("", Err(Empty)),
            ("@", Err(LoneAt)),
            ("refs/tags/a..b", Err(DoubleDot)),
            ("refs/tags/a b", Err(ForbiddenChar(' '))),
            ("refs/tags/a\tb", Err(ForbiddenChar('\t'))),
            ("refs/tags/a\u{7f}", Err(ForbiddenChar('\u{7f}'))),
            ("refs/tags/a~1", Err(ForbiddenChar('~'))),
            ("refs/tags/a^", Err(ForbiddenChar('^'))),
            ("refs/tags/a:b", Err(ForbiddenChar(':'))),
            ("refs/tags/a?", Err(ForbiddenChar('?'))),
            ("refs/tags/a*", Err(ForbiddenChar('*'))),
            ("refs/tags/a[b", Err(ForbiddenChar('['))),
            ("refs/tags/a\\b", Err(ForbiddenChar('\\'))),
            ("refs/tags/a@{1}", Err(AtBrace)),
            ("refs/tags//a", Err(EmptyComponent)),
            ("/refs/tags/a", Err(EmptyComponent)),
            ("refs/tags/a/", Err(EmptyComponent)),
            ("refs/tags/.a", Err(ComponentStartsWithDot(".a".into()))),
            (
                "refs/tags/a.lock",
                Err(ComponentEndsWithLock("a.lock".into())),
            ),
            (
                "refs/tags/a.lock/b",
                Err(ComponentEndsWithLock("a.lock".into())),
            ),
            ("refs/tags/a.", Err(EndsWithDot)),
        ];
        for (name, want) in cases {
            assert_eq!(&check(name), want, "{name:?}");
        }
    }

    #[test]
    fn tag_and_branch_names() {
        assert_eq!(check_tag("v1.0.0"), Ok(()));
        assert_eq!(check_tag(""), Err(RefNameError::Empty));
        assert_eq!(check_tag("/v1"), Err(RefNameError::EmptyComponent));
        assert_eq!(check_tag("@"), Ok(()), "refs/tags/@ is a valid full name");
        assert_eq!(check_branch("main"), Ok(()));
        assert_eq!(check_branch("feature/x..y"), Err(RefNameError::DoubleDot));
    }
}
