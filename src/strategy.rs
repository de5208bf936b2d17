//! Which version a service goes to (DESIGN §4, §11.4–6, §11.19).
//!
//! A [`Catalog`] holds one service's version tags, highest first. Commits and tag dates are
//! learned lazily through [`Peel`], highest version first, and cached: the usual rollback of the
//! newest version peels two tags however many there are.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};
use semver::{Version, VersionReq};

use crate::error::{Error, Kind, Result};
use crate::manifest::Service;
use crate::port::{ObjectKind, Peeled, Release, TagRef};
use crate::version::{parse_version, same_release, TagPattern};

/// How the target is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    Previous,
    Steps(u32),
    /// An exact version, a tag name of the service, or a SemVer requirement (§11.6).
    Version(String),
}

impl Strategy {
    /// From the CLI/input words: `--strategy`, `--steps`, `--to` (§11.6 conflicts are errors).
    pub fn from_parts(
        kind: Option<&str>,
        steps: Option<u32>,
        to: Option<&str>,
    ) -> Result<Strategy> {
        let to = to.map(str::trim).filter(|t| !t.is_empty());
        if steps.is_some() && to.is_some() {
            return Err(
                Error::usage("`--steps` and `--to` cannot be used together").with_help(
                    "use `--steps N` to go N versions back, or `--to VERSION` for one version",
                ),
            );
        }
        if steps == Some(0) {
            return Err(Error::usage("`--steps` must be 1 or more")
                .with_help("`--steps 1` is the previous version"));
        }
        let kind = kind.map(str::trim).filter(|k| !k.is_empty());
        match kind {
            None => Ok(match (steps, to) {
                (Some(n), _) => Strategy::Steps(n),
                (None, Some(t)) => Strategy::Version(t.to_string()),
                (None, None) => Strategy::Previous,
            }),
            Some("previous") if steps.is_none() && to.is_none() => Ok(Strategy::Previous),
            Some("previous") => Err(Error::usage(
                "`--strategy previous` takes neither `--steps` nor `--to`",
            )),
            Some("steps") => match (steps, to) {
                (Some(n), None) => Ok(Strategy::Steps(n)),
                (None, _) => Err(Error::usage("`--strategy steps` needs `--steps N`")),
                (Some(_), Some(_)) => Err(Error::usage("`--strategy steps` does not take `--to`")),
            },
            Some("version") => match (steps, to) {
                (None, Some(t)) => Ok(Strategy::Version(t.to_string())),
                (_, None) => Err(Error::usage("`--strategy version` needs `--to VERSION`")
                    .with_help("for example `--to 1.3.2`, `--to api/v1.3.2` or `--to '~1.3'`")),
                (Some(_), Some(_)) => {
                    Err(Error::usage("`--strategy version` does not take `--steps`"))
                }
            },
            Some(other) => Err(Error::usage(format!(
                "unknown strategy `{other}`; use `previous`, `steps` or `version`"
            ))),
        }
    }
}

/// Reads what listing did not tell: a tag's commit, a tag's date.
pub trait Peel {
    fn peel(&self, tag: &TagRef) -> Result<Peeled>;
    fn commit_date(&self, sha: &str) -> Result<DateTime<FixedOffset>>;
}

/// Release flags for one version tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleaseFlags {
    pub exists: bool,
    pub draft: bool,
    pub prerelease: bool,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub version: Version,
    pub tag: TagRef,
    pub release: ReleaseFlags,
}

/// Why a version is not eligible (first reason that applies, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exclusion {
    Draft,
    Prerelease,
    PrereleaseRelease,
    Skipped,
    NoRelease,
    SameCommitAsHigher,
}

impl Exclusion {
    pub fn describe(self) -> &'static str {
        match self {
            Exclusion::Draft => "skipped as draft release",
            Exclusion::Prerelease => "skipped as pre-release",
            Exclusion::PrereleaseRelease => "skipped as release marked pre-release",
            Exclusion::Skipped => "skipped by `skip`",
            Exclusion::NoRelease => "skipped without a published release",
            Exclusion::SameCommitAsHigher => "skipped at the same commit as a higher version",
        }
    }
}

/// Eligibility rules of one service.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    pub prereleases: bool,
    pub require_release: bool,
    pub skip: &'a [crate::manifest::Skip],
    /// `false` on the local backend: `require-release` can never hold there.
    pub releases_known: bool,
}

impl<'a> Rules<'a> {
    pub fn of(service: &'a Service, releases_known: bool) -> Self {
        Rules {
            prereleases: service.prereleases,
            require_release: service.require_release,
            skip: &service.skip,
            releases_known,
        }
    }
}

/// One service's version tags, highest first, with lazily learned commits and dates.
pub struct Catalog<'p> {
    pub service: String,
    pub pattern: TagPattern,
    entries: Vec<Entry>,
    /// Tags under the prefix that are not version tags of the service.
    pub ignored: Vec<String>,
    peel: &'p dyn Peel,
    /// How many entries, from the top, have a known commit.
    peeled_upto: usize,
    /// commit -> index of the highest version standing there (among peeled entries).
    first_at: HashMap<String, usize>,
    /// Peel requests made, for the cost report.
    pub peels: usize,
}

impl<'p> Catalog<'p> {
    pub fn new(
        service: &str,
        pattern: TagPattern,
        tags: Vec<TagRef>,
        releases: Option<&[Release]>,
        peel: &'p dyn Peel,
    ) -> Self {
        let flags: HashMap<&str, ReleaseFlags> = releases
            .unwrap_or(&[])
            .iter()
            .map(|r| {
                (
                    r.tag_name.as_str(),
                    ReleaseFlags {
                        exists: true,
                        draft: r.draft,
                        prerelease: r.prerelease,
                    },
                )
            })
            .collect();
        // Sort once, highest first, then keep one tag per version: the rendered spelling wins
        // (§11.3), else the first name in byte order, so the choice never depends on listing order.
        let mut matched: Vec<(bool, Entry)> = Vec::with_capacity(tags.len());
        let mut ignored = Vec::new();
        for tag in tags {
            let Some(m) = pattern.matches(&tag.name) else {
                ignored.push(tag.name);
                continue;
            };
            let release = if flags.is_empty() {
                ReleaseFlags::default()
            } else {
                flags.get(tag.name.as_str()).copied().unwrap_or_default()
            };
            matched.push((
                m.canonical,
                Entry {
                    release,
                    version: m.version,
                    tag,
                },
            ));
        }
        matched.sort_unstable_by(|(ca, a), (cb, b)| {
            b.version
                .cmp(&a.version)
                .then(cb.cmp(ca))
                .then_with(|| a.tag.name.cmp(&b.tag.name))
        });
        matched.dedup_by(|later, kept| later.1.version == kept.1.version);
        let entries: Vec<Entry> = matched.into_iter().map(|(_, e)| e).collect();
        ignored.sort();
        Catalog {
            service: service.to_string(),
            pattern,
            entries,
            ignored,
            peel,
            peeled_upto: 0,
            first_at: HashMap::new(),
            peels: 0,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entry(&self, i: usize) -> &Entry {
        &self.entries[i]
    }

    fn ensure_peeled(&mut self, i: usize) -> Result<()> {
        let e = &self.entries[i];
        if e.tag.peeled.is_some() {
            return Ok(());
        }
        let peeled = match e.tag.kind {
            ObjectKind::Commit => Peeled {
                commit: e.tag.object.clone(),
                date: None,
                message: None,
            },
            ObjectKind::Tag => {
                self.peels += 1;
                self.peel.peel(&e.tag)?
            }
        };
        self.entries[i].tag.peeled = Some(peeled);
        Ok(())
    }

    /// The commit version `i` stands for.
    pub fn commit(&mut self, i: usize) -> Result<String> {
        self.ensure_peeled(i)?;
        Ok(self.entries[i]
            .tag
            .peeled
            .as_ref()
            .map(|p| p.commit.clone())
            .unwrap_or_default())
    }

    /// The tag date of version `i` (§11.7).
    pub fn date(&mut self, i: usize) -> Result<DateTime<FixedOffset>> {
        self.ensure_peeled(i)?;
        let peeled = self.entries[i].tag.peeled.clone().unwrap_or(Peeled {
            commit: self.entries[i].tag.object.clone(),
            date: None,
            message: None,
        });
        if let Some(d) = peeled.date {
            return Ok(d);
        }
        let d = self.peel.commit_date(&peeled.commit)?;
        if let Some(p) = self.entries[i].tag.peeled.as_mut() {
            p.date = Some(d);
        }
        Ok(d)
    }

    /// Peels every entry above and at `i`, so `first_at` knows who stands where.
    fn peel_through(&mut self, i: usize) -> Result<()> {
        while self.peeled_upto <= i && self.peeled_upto < self.entries.len() {
            let j = self.peeled_upto;
            let c = self.commit(j)?;
            self.first_at.entry(c).or_insert(j);
            self.peeled_upto += 1;
        }
        Ok(())
    }

    /// The version standing for `commit`: the highest version tagged there (§3).
    pub fn version_at(&mut self, commit: &str) -> Result<Option<usize>> {
        if let Some(i) = self.first_at.get(commit) {
            return Ok(Some(*i));
        }
        while self.peeled_upto < self.entries.len() {
            self.peel_through(self.peeled_upto)?;
            if let Some(i) = self.first_at.get(commit) {
                return Ok(Some(*i));
            }
        }
        Ok(None)
    }

    /// Why `i` may not be chosen by `previous`, `steps` or a requirement, if it may not.
    pub fn exclusion(&mut self, i: usize, rules: &Rules<'_>) -> Result<Option<Exclusion>> {
        if let Some(x) = self.static_exclusion(i, rules) {
            return Ok(Some(x));
        }
        self.peel_through(i)?;
        let c = self.commit(i)?;
        if self.first_at.get(&c).is_some_and(|first| *first < i) {
            return Ok(Some(Exclusion::SameCommitAsHigher));
        }
        Ok(None)
    }

    /// The exclusions that need no commit.
    fn static_exclusion(&self, i: usize, rules: &Rules<'_>) -> Option<Exclusion> {
        let e = &self.entries[i];
        if e.release.draft {
            return Some(Exclusion::Draft);
        }
        if !rules.prereleases && !e.version.pre.is_empty() {
            return Some(Exclusion::Prerelease);
        }
        if !rules.prereleases && e.release.prerelease {
            return Some(Exclusion::PrereleaseRelease);
        }
        if rules.skip.iter().any(|s| s.matches(&e.version)) {
            return Some(Exclusion::Skipped);
        }
        if rules.require_release && !e.release.exists {
            return Some(Exclusion::NoRelease);
        }
        None
    }

    /// The highest eligible version, for a service whose deploy tag does not exist yet.
    pub fn highest_eligible(&mut self, rules: &Rules<'_>) -> Result<Option<usize>> {
        for i in 0..self.entries.len() {
            if self.exclusion(i, rules)?.is_none() {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// The `n`-th eligible version strictly below entry `current` (n ≥ 1).
    pub fn steps_below(&mut self, current: usize, n: u32, rules: &Rules<'_>) -> Result<usize> {
        let mut found = 0u32;
        let mut excluded: BTreeMap<Exclusion, usize> = BTreeMap::new();
        for i in current + 1..self.entries.len() {
            match self.exclusion(i, rules)? {
                Some(x) => *excluded.entry(x).or_default() += 1,
                None => {
                    found += 1;
                    if found == n {
                        return Ok(i);
                    }
                }
            }
        }
        let below = self.entries.len() - current - 1;
        let cur = &self.entries[current].version;
        let what = if n == 1 {
            format!("no eligible version below {cur}")
        } else {
            format!("only {found} eligible version(s) below {cur}, {n} steps asked")
        };
        Err(self.no_target(what, below, &excluded, rules))
    }

    /// The newest eligible version at or below `current` whose tag date is not later than
    /// `not_after` (`cascade: rollback`, §5, §11.10).
    pub fn newest_not_after(
        &mut self,
        current: usize,
        not_after: DateTime<FixedOffset>,
        rules: &Rules<'_>,
    ) -> Result<Option<usize>> {
        for i in current..self.entries.len() {
            if i != current && self.exclusion(i, rules)?.is_some() {
                continue;
            }
            if self.date(i)? <= not_after {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// Resolves `--to` (§11.6): exact version, then tag name, then requirement.
    pub fn resolve_to(&mut self, to: &str, rules: &Rules<'_>) -> Result<usize> {
        let to = to.trim();
        if let Some(v) = parse_version(to) {
            return self.exact(&v, to, rules);
        }
        let as_tag = to.strip_prefix("refs/tags/").unwrap_or(to);
        if let Some(m) = self.pattern.matches(as_tag) {
            return self.exact(&m.version, to, rules);
        }
        let req = VersionReq::parse(to).map_err(|_| {
            Error::usage(format!(
                "`{to}` is not a version, a tag of {}, or a SemVer requirement",
                self.service
            ))
            .with_help(format!(
                "use a version (`1.3.2`), a tag name (`{}`) or a requirement (`~1.3`, `>=1.2, <1.3`)",
                self.pattern.render(&Version::new(1, 3, 2))
            ))
        })?;
        let mut excluded: BTreeMap<Exclusion, usize> = BTreeMap::new();
        let mut matching = 0;
        for i in 0..self.entries.len() {
            if !req.matches(&self.entries[i].version) {
                continue;
            }
            matching += 1;
            match self.exclusion(i, rules)? {
                Some(x) => *excluded.entry(x).or_default() += 1,
                None => return Ok(i),
            }
        }
        Err(self.no_target(
            format!("no eligible version matches `{to}`"),
            matching,
            &excluded,
            rules,
        ))
    }

    fn exact(&mut self, v: &Version, to: &str, rules: &Rules<'_>) -> Result<usize> {
        let hits: Vec<usize> = (0..self.entries.len())
            .filter(|i| {
                let e = &self.entries[*i].version;
                if v.build.is_empty() {
                    same_release(e, v)
                } else {
                    e == v
                }
            })
            .collect();
        let Some(&first) = hits.first() else {
            return Err(Error::new(
                Kind::NoTarget,
                format!(
                    "{}: version {v} has no tag (looked for `{}`)",
                    self.service,
                    self.pattern.render(v)
                ),
            )
            .with_detail(format!("{} version tags found", self.entries.len()))
            .with_help(format!(
                "`rollback history --service {}` lists them",
                self.service
            )));
        };
        if hits.len() > 1 {
            let first_commit = self.commit(first)?;
            let mut names = Vec::new();
            let mut differ = false;
            for i in &hits {
                differ |= self.commit(*i)? != first_commit;
                names.push(self.entries[*i].tag.name.clone());
            }
            if differ {
                return Err(Error::usage(format!(
                    "{}: `{to}` matches several builds at different commits: {}",
                    self.service,
                    names.join(", ")
                ))
                .with_help("name one with its build metadata, e.g. `--to 1.0.0+build.1`"));
            }
        }
        if rules
            .skip
            .iter()
            .any(|s| s.matches(&self.entries[first].version))
        {
            return Err(Error::usage(format!(
                "{}: version {} is listed in `skip` and is never picked",
                self.service, self.entries[first].version
            ))
            .with_help("remove it from `skip` in the manifest if it is safe after all"));
        }
        Ok(first)
    }

    fn no_target(
        &self,
        what: String,
        looked_at: usize,
        excluded: &BTreeMap<Exclusion, usize>,
        rules: &Rules<'_>,
    ) -> Error {
        let mut parts = vec![format!(
            "{} tag{}",
            looked_at,
            if looked_at == 1 { "" } else { "s" }
        )];
        for (x, n) in excluded {
            parts.push(format!("{n} {}", x.describe()));
        }
        let mut err = Error::new(
            Kind::NoTarget,
            format!("{}: {what}; {}", self.service, parts.join(", ")),
        );
        if rules.require_release && !rules.releases_known {
            err = err.with_detail(
                "`require-release: true` but the local git backend has no GitHub releases, so no version qualifies",
            );
        }
        err.with_help(format!(
            "`rollback history --service {}` lists its versions and why each is or is not eligible",
            self.service
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Skip;
    use crate::template::Template;

    struct NoPeel;
    impl Peel for NoPeel {
        fn peel(&self, tag: &TagRef) -> Result<Peeled> {
            Err(Error::remote(format!("unexpected peel of {}", tag.name)))
        }
        fn commit_date(&self, sha: &str) -> Result<DateTime<FixedOffset>> {
            Err(Error::remote(format!("unexpected date of {sha}")))
        }
    }

    fn light(name: &str, commit: &str) -> TagRef {
        TagRef {
            name: name.into(),
            object: commit.into(),
            kind: ObjectKind::Commit,
            peeled: None,
        }
    }

    fn catalog<'p>(template: &str, tags: Vec<TagRef>, peel: &'p dyn Peel) -> Catalog<'p> {
        let p = TagPattern::new(&Template::parse(template).unwrap(), "api", "production").unwrap();
        Catalog::new("api", p, tags, None, peel)
    }

    fn below(c: &mut Catalog, cur: usize, n: u32, rules: &Rules) -> String {
        let i = c.steps_below(cur, n, rules).unwrap();
        c.entry(i).version.to_string()
    }

    const RULES: Rules<'static> = Rules {
        prereleases: false,
        require_release: false,
        skip: &[],
        releases_known: true,
    };

    #[test]
    fn previous_of_182_shuffled_patch_versions() {
        let mut names: Vec<u32> = (1..=182).collect();
        // A fixed shuffle: multiply by a unit mod 182 + 1.
        names = names.iter().map(|i| (i * 97) % 182 + 1).collect();
        let tags = names
            .iter()
            .map(|i| light(&format!("v1.0.{i}"), &format!("c{i}")))
            .collect();
        let mut c = catalog("v{version}", tags, &NoPeel);
        let cur = c.version_at("c182").unwrap().unwrap();
        let t = c.steps_below(cur, 1, &RULES).unwrap();
        assert_eq!(c.entry(t).version.to_string(), "1.0.181");
    }

    #[test]
    fn prereleases_only_when_allowed() {
        let tags = vec![
            light("v1.0.0", "a"),
            light("v1.1.0-rc.9", "b"),
            light("v1.1.0-rc.10", "c"),
            light("v1.1.0", "d"),
        ];
        let mut c = catalog("v{version}", tags, &NoPeel);
        let cur = c.version_at("d").unwrap().unwrap();
        assert_eq!(below(&mut c, cur, 1, &RULES), "1.0.0");
        let allow = Rules {
            prereleases: true,
            ..RULES
        };
        assert_eq!(below(&mut c, cur, 1, &allow), "1.1.0-rc.10");
    }

    #[test]
    fn lower_version_on_the_same_commit_is_not_a_target() {
        let tags = vec![
            light("v1.0.0", "a"),
            light("v1.1.0", "b"),
            light("v1.2.0", "b"),
        ];
        let mut c = catalog("v{version}", tags, &NoPeel);
        let cur = c.version_at("b").unwrap().unwrap();
        assert_eq!(c.entry(cur).version.to_string(), "1.2.0");
        assert_eq!(below(&mut c, cur, 1, &RULES), "1.0.0");
    }

    #[test]
    fn to_exact_tag_and_requirement() {
        let tags = ["1.1.0", "1.2.0", "1.2.5", "1.3.0", "1.3.4", "1.4.0"]
            .iter()
            .map(|v| light(&format!("api/v{v}"), &format!("c{v}")))
            .collect();
        let mut c = catalog("{service}/v{version}", tags, &NoPeel);
        let at = |c: &mut Catalog, to: &str| {
            c.resolve_to(to, &RULES)
                .map(|i| c.entry(i).version.to_string())
        };
        assert_eq!(at(&mut c, "1.2.0").unwrap(), "1.2.0");
        assert_eq!(at(&mut c, "v1.2.0").unwrap(), "1.2.0");
        assert_eq!(at(&mut c, "api/v1.2.0").unwrap(), "1.2.0");
        assert_eq!(at(&mut c, "refs/tags/api/v1.3.0").unwrap(), "1.3.0");
        assert_eq!(at(&mut c, "~1.3").unwrap(), "1.3.4");
        assert_eq!(at(&mut c, ">=1.2, <1.2.5").unwrap(), "1.2.0");
        assert_eq!(at(&mut c, "1.2.1").unwrap_err().kind, Kind::NoTarget);
        assert_eq!(at(&mut c, "web/v1.2.0").unwrap_err().kind, Kind::Usage);
        assert_eq!(at(&mut c, "~2").unwrap_err().kind, Kind::NoTarget);
    }

    #[test]
    fn skip_refuses_exact_and_filters_previous() {
        let tags = vec![
            light("v1.0.0", "a"),
            light("v1.1.0", "b"),
            light("v1.2.0", "c"),
        ];
        let skip = [Skip::Exact(Version::parse("1.1.0").unwrap())];
        let rules = Rules {
            skip: &skip,
            ..RULES
        };
        let mut c = catalog("v{version}", tags, &NoPeel);
        let cur = c.version_at("c").unwrap().unwrap();
        assert_eq!(below(&mut c, cur, 1, &rules), "1.0.0");
        assert_eq!(c.resolve_to("1.1.0", &rules).unwrap_err().kind, Kind::Usage);
    }

    #[test]
    fn no_target_says_what_was_looked_at() {
        let tags = vec![light("v0.9.0-rc.1", "a"), light("v1.0.0", "b")];
        let mut c = catalog("v{version}", tags, &NoPeel);
        let cur = c.version_at("b").unwrap().unwrap();
        let e = c.steps_below(cur, 1, &RULES).unwrap_err();
        assert_eq!(e.kind, Kind::NoTarget);
        assert_eq!(
            e.message,
            "api: no eligible version below 1.0.0; 1 tag, 1 skipped as pre-release"
        );
    }

    #[test]
    fn builds_of_one_version() {
        let tags = vec![
            light("v1.0.0+a", "a"),
            light("v1.0.0+b", "b"),
            light("v0.9.0", "c"),
        ];
        let mut c = catalog("v{version}", tags, &NoPeel);
        assert_eq!(c.resolve_to("1.0.0", &RULES).unwrap_err().kind, Kind::Usage);
        let i = c.resolve_to("1.0.0+a", &RULES).unwrap();
        assert_eq!(c.entry(i).tag.name, "v1.0.0+a");
    }

    #[test]
    fn rendered_spelling_wins_over_an_extra_v() {
        let tags = vec![
            light("api/v1.2.0", "x"),
            light("api/1.2.0", "y"),
            light("api/V1.1.0", "z"),
        ];
        let p = TagPattern::new(
            &Template::parse("{service}/{version}").unwrap(),
            "api",
            "production",
        )
        .unwrap();
        let c = Catalog::new("api", p, tags, None, &NoPeel);
        let names: Vec<&str> = c.entries().iter().map(|e| e.tag.name.as_str()).collect();
        assert_eq!(names, vec!["api/1.2.0", "api/V1.1.0"]);
    }

    #[test]
    fn strategy_flags() {
        assert_eq!(
            Strategy::from_parts(None, None, None).unwrap(),
            Strategy::Previous
        );
        assert_eq!(
            Strategy::from_parts(None, Some(2), None).unwrap(),
            Strategy::Steps(2)
        );
        assert_eq!(
            Strategy::from_parts(Some("version"), None, Some("~1.3")).unwrap(),
            Strategy::Version("~1.3".into())
        );
        for (k, s, t) in [
            (None, Some(0), None),
            (None, Some(2), Some("1.0.0")),
            (Some("version"), None, None),
            (Some("steps"), None, None),
            (Some("sideways"), None, None),
        ] {
            assert_eq!(Strategy::from_parts(k, s, t).unwrap_err().kind, Kind::Usage);
        }
    }
}
