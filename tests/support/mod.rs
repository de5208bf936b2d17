//! Test support: real git repositories in temporary directories, the real-tags data of
//! `../shared/real-tags/` loaded into them, and the `rollback` binary with a clean environment.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("ROLLBACK_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        dir.join("real-tags").is_dir(),
        "{} has no real-tags/: the tests read ../shared beside the checkout (or ROLLBACK_SHARED_DIR)",
        dir.display()
    );
    dir
}

/// The binary under test, with no GitHub Actions variables leaking in from the outside.
pub fn rollback() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("rollback").expect("binary built");
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_") || k.starts_with("INPUT_") || k.starts_with("RUNNER_") {
            c.env_remove(k);
        }
    }
    c.env_remove("ROLLBACK_LOG");
    c
}

pub struct Repo {
    pub dir: tempfile::TempDir,
    clock: std::cell::Cell<i64>,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = Repo {
            dir,
            clock: std::cell::Cell::new(1_700_000_000),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.name", "Test"]);
        r.git(&["config", "user.email", "test@example.com"]);
        r.git(&["config", "tag.gpgSign", "false"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn tick(&self) -> String {
        let t = self.clock.get() + 3600;
        self.clock.set(t);
        format!("{t} +0000")
    }

    pub fn git(&self, args: &[&str]) -> String {
        let date = self.tick();
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_AUTHOR_DATE", &date)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// An empty commit; returns its sha.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn tag(&self, name: &str, sha: &str) {
        self.git(&["tag", name, sha]);
    }

    pub fn annotated(&self, name: &str, sha: &str) {
        self.git(&["tag", "-a", "-m", &format!("release {name}"), name, sha]);
    }

    /// A commit tagged with each name (lightweight), returning the commit.
    pub fn release(&self, names: &[&str]) -> String {
        let sha = self.commit(&format!("release {}", names.join(" ")));
        for n in names {
            self.tag(n, &sha);
        }
        sha
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn manifest(&self, yaml: &str) -> PathBuf {
        self.write(".github/rollback.yml", yaml)
    }

    /// The commit a tag peels to, or None.
    pub fn peeled(&self, tag: &str) -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("refs/tags/{tag}^{{commit}}"),
            ])
            .output()
            .expect("git runs");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Every ref and what it points at: compared before and after to prove "nothing changed".
    pub fn refs(&self) -> String {
        self.git(&["for-each-ref", "--format=%(refname) %(objectname)"])
    }

    pub fn sha_of(&self, tag: &str) -> String {
        self.peeled(tag).unwrap_or_else(|| panic!("no tag {tag}"))
    }
}

/// One row of a `real-tags` TSV.
#[derive(Debug, Clone)]
pub struct TagRow {
    pub tag: String,
    pub annotated: bool,
    pub commit: String,
    pub date: chrono::DateTime<chrono::FixedOffset>,
}

pub fn read_tsv(file: &str) -> Vec<TagRow> {
    let path = shared_dir().join("real-tags").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{l}");
            TagRow {
                tag: f[0].to_string(),
                annotated: f[1] == "tag",
                commit: f[3].to_string(),
                date: chrono::DateTime::parse_from_rfc3339(f[4]).expect("date"),
            }
        })
        .collect()
}

/// Loads a real-tags TSV into a new repository with `git fast-import`: one commit per distinct
/// commit of the data (in date order), annotated tags with their tagger dates, lightweight tags
/// on commits whose committer date is the tag date. Returns the repository and a map from the
/// data's commit shas to the new ones.
pub fn repo_from_tsv(file: &str) -> (Repo, BTreeMap<String, String>) {
    let rows = read_tsv(file);
    let repo = Repo::new();
    // Each data commit's date: a lightweight tag's date is its commit's date; otherwise the
    // earliest tag date on it.
    let mut commit_date: BTreeMap<&str, chrono::DateTime<chrono::FixedOffset>> = BTreeMap::new();
    for r in &rows {
        let e = commit_date.entry(r.commit.as_str()).or_insert(r.date);
        if !r.annotated || r.date < *e {
            *e = r.date;
        }
    }
    let mut commits: Vec<(&str, chrono::DateTime<chrono::FixedOffset>)> =
        commit_date.iter().map(|(c, d)| (*c, *d)).collect();
    commits.sort_by_key(|(c, d)| (*d, c.to_string()));
    let mut stream = String::new();
    let mut mark_of: BTreeMap<&str, usize> = BTreeMap::new();
    let ident = |d: &chrono::DateTime<chrono::FixedOffset>| {
        format!(
            "Data <data@example.com> {} {}",
            d.timestamp(),
            d.format("%z")
        )
    };
    for (i, (c, d)) in commits.iter().enumerate() {
        let mark = i + 1;
        mark_of.insert(c, mark);
        let msg = format!("data commit {c}");
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{mark}\ncommitter {}\ndata {}\n{msg}\n",
            ident(d),
            msg.len()
        ));
        if i > 0 {
            stream.push_str(&format!("from :{}\n", mark - 1));
        }
        stream.push('\n');
    }
    for r in &rows {
        let mark = mark_of[r.commit.as_str()];
        if r.annotated {
            let msg = format!("{}\n", r.tag);
            stream.push_str(&format!(
                "tag {}\nfrom :{mark}\ntagger {}\ndata {}\n{msg}\n",
                r.tag,
                ident(&r.date),
                msg.len()
            ));
        } else {
            stream.push_str(&format!("reset refs/tags/{}\nfrom :{mark}\n\n", r.tag));
        }
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo.path())
        .args(["fast-import", "--quiet"])
        .arg(format!(
            "--export-marks={}",
            repo.path().join(".git/marks").display()
        ))
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write stream");
    assert!(child.wait().expect("fast-import").success());
    repo.git(&["reset", "-q", "--hard", "main"]);
    let marks = std::fs::read_to_string(repo.path().join(".git/marks")).expect("marks");
    let by_mark: BTreeMap<usize, String> = marks
        .lines()
        .filter_map(|l| {
            let (m, sha) = l.split_once(' ')?;
            Some((m.trim_start_matches(':').parse().ok()?, sha.to_string()))
        })
        .collect();
    let map = mark_of
        .iter()
        .map(|(c, m)| (c.to_string(), by_mark[m].clone()))
        .collect();
    (repo, map)
}

pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}
