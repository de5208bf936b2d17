//! Version tags: matching a service's tag template against tag names (DESIGN §3, §11.3–4).
//!
//! The template is cut at `{version}`: the literal text before it is the prefix (what
//! `matching-refs` lists), the text after it a suffix, and the part between must be a whole
//! SemVer 2.0 version. Anything else is not a version tag of the service and is counted, never
//! an error.

use semver::Version;

use crate::template::{Placeholder, Segment, Template, Values};

/// A tag template with `{service}` and `{environment}` fixed: `prefix{version}suffix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPattern {
    prefix: String,
    suffix: String,
    /// A `v`/`V` may stand before the version when the template does not already have one.
    optional_v: bool,
}

/// How a tag name relates to a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub version: Version,
    /// `true` when the name is exactly what the template renders (no extra `v`); such a
    /// spelling wins over another that gives the same version (§11.3).
    pub canonical: bool,
}

impl TagPattern {
    /// `None` when the template does not hold exactly one `{version}` or still holds other
    /// placeholders after `{service}` and `{environment}` are fixed (the manifest rejects both).
    pub fn new(template: &Template, service: &str, environment: &str) -> Option<TagPattern> {
        let fixed = template.partially_render(
            &Values::new()
                .with(Placeholder::Service, service)
                .with(Placeholder::Environment, environment),
        );
        let mut prefix = String::new();
        let mut suffix = String::new();
        let mut seen_version = false;
        for s in fixed.segments() {
            match s {
                Segment::Literal(l) if seen_version => suffix.push_str(l),
                Segment::Literal(l) => prefix.push_str(l),
                Segment::Placeholder(Placeholder::Version) if !seen_version => seen_version = true,
                Segment::Placeholder(_) => return None,
            }
        }
        if !seen_version {
            return None;
        }
        let optional_v = !prefix.ends_with(['v', 'V']);
        Some(TagPattern {
            prefix,
            suffix,
            optional_v,
        })
    }

    /// The literal text every version tag of the service starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn render(&self, version: &Version) -> String {
        format!("{}{}{}", self.prefix, version, self.suffix)
    }

    /// Matches a tag name (without `refs/tags/`) as a whole.
    pub fn matches(&self, name: &str) -> Option<Matched> {
        let rest = name.strip_prefix(&self.prefix)?;
        let middle = rest.strip_suffix(&self.suffix)?;
        let (text, canonical) = match middle.strip_prefix(['v', 'V']) {
            Some(after_v) if self.optional_v => (after_v, false),
            _ => (middle, true),
        };
        // `Version::parse` is strict SemVer 2.0: three numeric parts, no leading zeros, no
        // surrounding space. `api-v1` and `api-v1.3` fail here, as they should.
        let version = Version::parse(text).ok()?;
        Some(Matched { version, canonical })
    }
}

/// Parses a user-given version: `1.3.2` or `v1.3.2`.
pub fn parse_version(text: &str) -> Option<Version> {
    let t = text.strip_prefix(['v', 'V']).unwrap_or(text);
    Version::parse(t).ok()
}

/// Equal but for build metadata (`1.0.0+a` and `1.0.0+b`).
pub fn same_release(a: &Version, b: &Version) -> bool {
    a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.pre == b.pre
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(t: &str, service: &str) -> TagPattern {
        TagPattern::new(&Template::parse(t).unwrap(), service, "production").unwrap()
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn dash_template_ignores_lookalikes() {
        let p = pattern("{service}-v{version}", "api");
        assert_eq!(p.prefix(), "api-v");
        assert_eq!(p.matches("api-v1.4.0").map(|m| m.version), Some(v("1.4.0")));
        for other in [
            "api-gateway-v9.0.0",
            "api-v1",
            "api-v1.3",
            "api-v01.2.3",
            "api-v1.2.3 ",
        ] {
            assert_eq!(p.matches(other), None, "{other}");
        }
    }

    #[test]
    fn bare_v_template_ignores_prefixed_tags() {
        let p = pattern("v{version}", "core");
        assert_eq!(p.matches("v3.5.41").map(|m| m.version), Some(v("3.5.41")));
        assert_eq!(p.matches("varcon-core-v5.0.6"), None);
        assert_eq!(p.matches("2024-01-01"), None);
        assert_eq!(p.matches("nightly"), None);
    }

    #[test]
    fn scoped_package_template() {
        let p = pattern("@scope/pkg@{version}", "pkg");
        assert_eq!(
            p.matches("@scope/pkg@1.0.0").map(|m| m.version),
            Some(v("1.0.0"))
        );
        for other in ["@scope/pkg-utils@2.0.0", "@other/pkg@9.9.9", "pkg@0.9.0"] {
            assert_eq!(p.matches(other), None, "{other}");
        }
    }

    #[test]
    fn optional_v_only_when_template_has_none() {
        let p = pattern("{service}/{version}", "api");
        assert_eq!(
            p.matches("api/v1.2.0"),
            Some(Matched {
                version: v("1.2.0"),
                canonical: false
            })
        );
        assert_eq!(
            p.matches("api/1.2.0"),
            Some(Matched {
                version: v("1.2.0"),
                canonical: true
            })
        );
        let p = pattern("{service}/v{version}", "api");
        assert_eq!(p.matches("api/vv1.2.0"), None);
        assert_eq!(p.matches("api/1.2.0"), None);
    }

    #[test]
    fn suffix_and_prerelease() {
        let p = pattern("release-{version}-final", "x");
        assert_eq!(
            p.matches("release-1.0.0-rc.1-final").map(|m| m.version),
            Some(v("1.0.0-rc.1"))
        );
        assert_eq!(p.matches("release-1.0.0"), None);
    }

    #[test]
    fn semver_precedence_is_numeric_for_prereleases() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for w in order.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert!(v("1.0.0-rc.10") > v("1.0.0-rc.9"));
    }

    #[test]
    fn parse_user_version() {
        assert_eq!(parse_version("v1.3.2"), Some(v("1.3.2")));
        assert_eq!(parse_version("1.3"), None);
        assert_eq!(parse_version("~1.3"), None);
    }
}
