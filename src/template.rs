//! `{placeholder}` templates of the manifest (DESIGN §2, §11.2).
//!
//! A template is parsed once into literal and placeholder segments; `{{` and `}}` are literal
//! braces. Which placeholders a key may use is the manifest's business; this module only knows
//! the full list and how to render.

use std::collections::BTreeMap;
use std::fmt;

/// Every placeholder the contract knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Placeholder {
    Service,
    Environment,
    Version,
    Tag,
    Sha,
    FromVersion,
    Reason,
    Actor,
    DefaultBranch,
}

impl Placeholder {
    pub const ALL: [Placeholder; 9] = [
        Placeholder::Service,
        Placeholder::Environment,
        Placeholder::Version,
        Placeholder::Tag,
        Placeholder::Sha,
        Placeholder::FromVersion,
        Placeholder::Reason,
        Placeholder::Actor,
        Placeholder::DefaultBranch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Service => "service",
            Placeholder::Environment => "environment",
            Placeholder::Version => "version",
            Placeholder::Tag => "tag",
            Placeholder::Sha => "sha",
            Placeholder::FromVersion => "from_version",
            Placeholder::Reason => "reason",
            Placeholder::Actor => "actor",
            Placeholder::DefaultBranch => "default_branch",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Placeholder(Placeholder),
}

/// A parsed template. `source` keeps the text as written, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

/// Why a template string does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    UnknownPlaceholder(String),
    Unclosed,
    StrayClosingBrace,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::UnknownPlaceholder(name) => {
                let known: Vec<_> = Placeholder::ALL
                    .iter()
                    .map(|p| format!("{{{}}}", p.name()))
                    .collect();
                write!(
                    f,
                    "unknown placeholder {{{name}}} (known: {})",
                    known.join(", ")
                )
            }
            TemplateError::Unclosed => {
                f.write_str("a `{` is not closed (write `{{` for a literal brace)")
            }
            TemplateError::StrayClosingBrace => {
                f.write_str("a `}` has no opening `{` (write `}}` for a literal brace)")
            }
        }
    }
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(TemplateError::StrayClosingBrace),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => return Err(TemplateError::Unclosed),
                            Some(c) => name.push(c),
                        }
                    }
                    let p = Placeholder::from_name(&name)
                        .ok_or(TemplateError::UnknownPlaceholder(name))?;
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Placeholder(p));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Template {
            source: source.to_string(),
            segments,
        })
    }

    /// A template that is only literal text (no placeholders): used for literal names.
    pub fn literal(text: &str) -> Template {
        Template {
            source: text.replace('{', "{{").replace('}', "}}"),
            segments: if text.is_empty() {
                Vec::new()
            } else {
                vec![Segment::Literal(text.to_string())]
            },
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Placeholder(p) => Some(*p),
            Segment::Literal(_) => None,
        })
    }

    pub fn uses(&self, p: Placeholder) -> bool {
        self.placeholders().any(|q| q == p)
    }

    /// Renders with the values given; a placeholder without a value renders as empty text.
    /// Callers check `placeholders()` against what they can supply before rendering.
    pub fn render(&self, values: &Values) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Literal(l) => out.push_str(l),
                Segment::Placeholder(p) => {
                    if let Some(v) = values.get(*p) {
                        out.push_str(v)
                    }
                }
            }
        }
        out
    }

    /// Replaces the placeholders given and keeps the others, as a new template.
    /// Used to fix `{service}`/`{environment}` in a tag template before matching.
    pub fn partially_render(&self, values: &Values) -> Template {
        let mut segments: Vec<Segment> = Vec::new();
        let push_literal = |segments: &mut Vec<Segment>, text: &str| {
            if let Some(Segment::Literal(l)) = segments.last_mut() {
                l.push_str(text);
            } else if !text.is_empty() {
                segments.push(Segment::Literal(text.to_string()));
            }
        };
        for s in &self.segments {
            match s {
                Segment::Literal(l) => push_literal(&mut segments, l),
                Segment::Placeholder(p) => match values.get(*p) {
                    Some(v) => push_literal(&mut segments, v),
                    None => segments.push(Segment::Placeholder(*p)),
                },
            }
        }
        let source = segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.replace('{', "{{").replace('}', "}}"),
                Segment::Placeholder(p) => format!("{{{}}}", p.name()),
            })
            .collect();
        Template { source, segments }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Values for rendering, by placeholder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<Placeholder, String>);

impl Values {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, p: Placeholder, v: impl Into<String>) -> Self {
        self.0.insert(p, v.into());
        self
    }

    pub fn set(&mut self, p: Placeholder, v: impl Into<String>) {
        self.0.insert(p, v.into());
    }

    pub fn get(&self, p: Placeholder) -> Option<&str> {
        self.0.get(&p).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("deploy/{environment}/{service}").unwrap();
        let v = Values::new()
            .with(Placeholder::Environment, "production")
            .with(Placeholder::Service, "api");
        assert_eq!(t.render(&v), "deploy/production/api");
    }

    #[test]
    fn double_braces_are_literal() {
        let t = Template::parse("a{{b}}c-{version}").unwrap();
        let v = Values::new().with(Placeholder::Version, "1.0.0");
        assert_eq!(t.render(&v), "a{b}c-1.0.0");
        assert_eq!(
            t.placeholders().collect::<Vec<_>>(),
            vec![Placeholder::Version]
        );
    }

    #[test]
    fn rejects_unknown_and_unbalanced() {
        assert_eq!(
            Template::parse("{servce}"),
            Err(TemplateError::UnknownPlaceholder("servce".into()))
        );
        assert_eq!(Template::parse("{version"), Err(TemplateError::Unclosed));
        assert_eq!(
            Template::parse("version}"),
            Err(TemplateError::StrayClosingBrace)
        );
    }

    #[test]
    fn partial_render_keeps_other_placeholders() {
        let t = Template::parse("{service}/v{version}").unwrap();
        let p = t.partially_render(&Values::new().with(Placeholder::Service, "api"));
        assert_eq!(p.source(), "api/v{version}");
        assert_eq!(
            p.segments(),
            &[
                Segment::Literal("api/v".into()),
                Segment::Placeholder(Placeholder::Version)
            ]
        );
    }
}
