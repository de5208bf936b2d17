//! The local backend: a git repository on disk, read and written with the `git` command
//! (DESIGN §8). It has no releases and no workflows; `apply` moves deploy tags in the repository
//! and runs each service's `command` instead of a dispatch.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, FixedOffset};

use crate::error::{Error, Kind, Result};
use crate::port::{
    Backend, BackendKind, DispatchOutcome, DispatchRequest, ObjectKind, Peeled, Release, RepoInfo,
    TagRef, TagWrite, WorkflowInfo,
};

pub struct LocalGit {
    path: PathBuf,
    /// The name plans use for this repository (`--repo`, else `local`).
    name: String,
}

impl LocalGit {
    /// Opens the repository at `path`; fails clearly when it is not one.
    pub fn open(path: &Path, name: &str) -> Result<LocalGit> {
        if !path.exists() {
            return Err(Error::not_found(format!(
                "--git {}: no such directory",
                path.display()
            )));
        }
        let git = LocalGit {
            path: path.to_path_buf(),
            name: name.to_string(),
        };
        git.run(&["rev-parse", "--git-dir"]).map_err(|e| {
            Error::not_found(format!("--git {}: not a git repository", path.display()))
                .with_detail(e.message)
        })?;
        Ok(git)
    }

    fn command(&self) -> Command {
        let mut c = Command::new("git");
        c.arg("-C").arg(&self.path);
        // Never ask questions, never page: this runs unattended.
        c.env("GIT_TERMINAL_PROMPT", "0").env("GIT_PAGER", "cat");
        c
    }

    fn run(&self, args: &[&str]) -> Result<String> {
        let out = self.command().args(args).output().map_err(|e| {
            Error::remote(format!("could not run git: {e}"))
                .with_help("install git, or check that it is on PATH")
        })?;
        if !out.status.success() {
            return Err(Error::remote(format!(
                "git {} failed in {}",
                args.first().copied().unwrap_or(""),
                self.path.display()
            ))
            .with_detail(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn check_repo(&self, repo: &str) -> Result<()> {
        if repo == self.name {
            Ok(())
        } else {
            Err(Error::usage(format!(
                "repository `{repo}` is not reachable through the local backend, which reads only {} (`{}`)",
                self.path.display(),
                self.name
            ))
            .with_help("drop `repo:` from that service, or use the GitHub backend"))
        }
    }

    /// Reads a tag object: (type of object, object sha, tagger date, message).
    fn read_tag_object(
        &self,
        sha: &str,
    ) -> Result<(String, String, Option<DateTime<FixedOffset>>, String)> {
        let text = self.run(&["cat-file", "tag", sha])?;
        let (header, message) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut object = String::new();
        let mut kind = String::new();
        let mut date = None;
        for line in header.lines() {
            if let Some(v) = line.strip_prefix("object ") {
                object = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("type ") {
                kind = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("tagger ") {
                date = parse_git_date(v);
            }
        }
        Ok((kind, object, date, message.to_string()))
    }
}

/// `Name <email> 1700000000 +0100` -> the date.
fn parse_git_date(ident: &str) -> Option<DateTime<FixedOffset>> {
    let after = ident.rsplit_once('>')?.1.trim();
    let (secs, tz) = after.split_once(' ')?;
    let secs: i64 = secs.parse().ok()?;
    let tz = tz.trim();
    let sign = if tz.starts_with('-') { -1 } else { 1 };
    let digits = tz.trim_start_matches(['+', '-']);
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let mins: i32 = digits.get(2..4)?.parse().ok()?;
    let offset = FixedOffset::east_opt(sign * (hours * 3600 + mins * 60))?;
    Some(DateTime::from_timestamp(secs, 0)?.with_timezone(&offset))
}

fn parse_iso(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text.trim()).ok()
}

impl Backend for LocalGit {
    fn kind(&self) -> BackendKind {
        BackendKind::LocalGit
    }

    fn repo_info(&self, repo: &str) -> Result<RepoInfo> {
        self.check_repo(repo)?;
        // A detached HEAD (a CI checkout of a tag, say) has no branch: `HEAD` stands for it.
        let branch = self
            .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
            .unwrap_or_else(|_| "HEAD".to_string());
        Ok(RepoInfo {
            full_name: self.name.clone(),
            default_branch: branch.trim().to_string(),
            can_push: Some(true),
        })
    }

    fn list_tags(&self, repo: &str, prefix: &str) -> Result<Vec<TagRef>> {
        self.check_repo(repo)?;
        // One call lists every tag with its peeled commit and tag date (`creatordate` is the
        // tagger date of an annotated tag and the committer date of a lightweight one: §11.7).
        let out = self.run(&[
            "for-each-ref",
            "--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)%00%(creatordate:iso-strict)",
            "refs/tags/",
        ])?;
        let mut tags = Vec::new();
        for line in out.lines() {
            let f: Vec<&str> = line.split('\0').collect();
            let [refname, kind, object, peeled_kind, peeled, date] = f[..] else {
                continue;
            };
            let Some(name) = refname.strip_prefix("refs/tags/") else {
                continue;
            };
            if !name.starts_with(prefix) {
                continue;
            }
            let (kind, commit) = match (kind, peeled_kind) {
                ("commit", _) => (ObjectKind::Commit, object.to_string()),
                ("tag", "commit") => (ObjectKind::Tag, peeled.to_string()),
                // A tag of a tag: peeled later, on demand. A tag of a tree or blob is no version.
                ("tag", "tag") => (ObjectKind::Tag, String::new()),
                _ => continue,
            };
            let peeled = (!commit.is_empty()).then(|| Peeled {
                commit,
                date: parse_iso(date),
                message: None,
            });
            tags.push(TagRef {
                name: name.to_string(),
                object: object.to_string(),
                kind,
                peeled,
            });
        }
        Ok(tags)
    }

    fn get_tag(&self, repo: &str, name: &str) -> Result<Option<TagRef>> {
        self.check_repo(repo)?;
        let full = format!("refs/tags/{name}");
        let out = self
            .command()
            .args(["rev-parse", "--verify", "--quiet", &full])
            .output()
            .map_err(|e| Error::remote(format!("could not run git: {e}")))?;
        if !out.status.success() {
            return Ok(None);
        }
        let object = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let kind = self.run(&["cat-file", "-t", &object])?;
        let kind = match kind.trim() {
            "tag" => ObjectKind::Tag,
            "commit" => ObjectKind::Commit,
            other => {
                return Err(Error::remote(format!(
                    "tag `{name}` points at a {other}, not a commit"
                )))
            }
        };
        let tag = TagRef {
            name: name.to_string(),
            object,
            kind,
            peeled: None,
        };
        let peeled = self.peel(repo, &tag)?;
        Ok(Some(TagRef {
            peeled: Some(peeled),
            ..tag
        }))
    }

    fn peel(&self, repo: &str, tag: &TagRef) -> Result<Peeled> {
        self.check_repo(repo)?;
        if tag.kind == ObjectKind::Commit {
            return Ok(Peeled {
                commit: tag.object.clone(),
                date: None,
                message: None,
            });
        }
        let (mut kind, mut object, date, message) = self.read_tag_object(&tag.object)?;
        // Follow tags of tags until a commit, with a bound against loops of bad objects.
        for _ in 0..16 {
            if kind != "tag" {
                break;
            }
            let next = self.read_tag_object(&object)?;
            kind = next.0;
            object = next.1;
        }
        if kind != "commit" {
            return Err(Error::remote(format!(
                "tag `{}` does not point at a commit (it points at a {kind})",
                tag.name
            )));
        }
        Ok(Peeled {
            commit: object,
            date,
            message: Some(message),
        })
    }

    fn commit_date(&self, repo: &str, sha: &str) -> Result<DateTime<FixedOffset>> {
        self.check_repo(repo)?;
        let out = self.run(&["show", "-s", "--format=%cI", sha, "--"])?;
        parse_iso(&out)
            .ok_or_else(|| Error::remote(format!("commit {sha}: unreadable committer date")))
    }

    fn releases(&self, repo: &str) -> Result<Option<Vec<Release>>> {
        self.check_repo(repo)?;
        Ok(None)
    }

    fn read_file(&self, repo: &str, path: &str, git_ref: &str) -> Result<Option<String>> {
        self.check_repo(repo)?;
        let spec = format!("{git_ref}:{path}");
        let out = self
            .command()
            .args(["show", &spec])
            .output()
            .map_err(|e| Error::remote(format!("could not run git: {e}")))?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    fn workflow(&self, repo: &str, _workflow: &str) -> Result<Option<WorkflowInfo>> {
        self.check_repo(repo)?;
        Ok(None)
    }

    fn write_tag(&self, write: &TagWrite) -> Result<String> {
        self.check_repo(&write.repo)?;
        let mut c = self.command();
        if self.run(&["config", "user.email"]).is_err() {
            c.args([
                "-c",
                "user.name=rollback",
                "-c",
                "user.email=rollback@localhost",
            ]);
        }
        c.args(["tag", "--annotate", "--file=-", "--no-sign"]);
        if write.exists {
            c.arg("--force");
        }
        c.arg("--").arg(&write.name).arg(&write.commit);
        c.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .map_err(|e| Error::new(Kind::Apply, format!("could not run git: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(write.message.as_bytes())
                .map_err(|e| Error::new(Kind::Apply, format!("git tag: {e}")))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| Error::new(Kind::Apply, format!("git tag: {e}")))?;
        if !out.status.success() {
            // git keeps the message of a failed `tag -F -` in the repository: not ours to leave.
            if let Ok(dir) = self.run(&["rev-parse", "--absolute-git-dir"]) {
                let _ = std::fs::remove_file(Path::new(dir.trim()).join("TAG_EDITMSG"));
            }
            return Err(Error::new(
                Kind::Apply,
                format!("could not move deploy tag `{}`", write.name),
            )
            .with_detail(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        let sha = self.run(&["rev-parse", &format!("refs/tags/{}^{{commit}}", write.name)])?;
        Ok(sha.trim().to_string())
    }

    fn check_program(&self, program: &str) -> std::result::Result<(), String> {
        let executable = |p: &Path| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                p.metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            }
            #[cfg(not(unix))]
            {
                p.is_file()
            }
        };
        if program.contains('/') {
            // Relative paths are relative to the repository, where the command runs.
            let p = self.path.join(program);
            return if executable(&p) {
                Ok(())
            } else {
                Err(format!(
                    "`{program}` is not an executable file (looked at {})",
                    p.display()
                ))
            };
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        if std::env::split_paths(&path).any(|d| executable(&d.join(program))) {
            Ok(())
        } else {
            Err(format!("`{program}` is not found on PATH"))
        }
    }

    fn dispatch(&self, request: &DispatchRequest) -> Result<DispatchOutcome> {
        self.check_repo(&request.repo)?;
        let Some(argv) = request.command.as_ref().filter(|a| !a.is_empty()) else {
            return Ok(DispatchOutcome {
                note: Some(format!(
                    "no `command` declared for {}: deploy tag moved, nothing run",
                    request.service
                )),
                conclusion: Some("success".to_string()),
                ..Default::default()
            });
        };
        // Never through a shell: argv as rendered. Its output goes to our stderr, line by
        // line, so that our stdout stays the report (`--format json` pipes cleanly) and no line
        // of it can act as a GitHub Actions workflow command.
        let shown = display_argv(argv);
        let (program, args) = match argv.split_first() {
            Some(split) => split,
            None => return Ok(DispatchOutcome::default()),
        };
        let mut child = Command::new(program)
            .args(args)
            .current_dir(&self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::new(
                    Kind::Apply,
                    format!("{}: could not start `{program}`: {e}", request.service),
                )
            })?;
        let relays: Vec<_> = [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|stream| {
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream)
                    .split(b'\n')
                    .map_while(|l| l.ok())
                {
                    let line = String::from_utf8_lossy(&line);
                    eprintln!(
                        "{}",
                        crate::runner::neutralize_line(line.trim_end_matches('\r'))
                    );
                }
            })
        })
        .collect();
        let status = child
            .wait()
            .map_err(|e| Error::new(Kind::Apply, format!("{}: `{shown}`: {e}", request.service)))?;
        for r in relays {
            let _ = r.join();
        }
        if !status.success() {
            return Err(Error::new(
                Kind::Apply,
                format!(
                    "{}: command `{shown}` exited with {}",
                    request.service,
                    status
                        .code()
                        .map_or("a signal".to_string(), |c| format!("status {c}"))
                ),
            ));
        }
        Ok(DispatchOutcome {
            note: Some(format!("ran `{shown}`")),
            conclusion: Some("success".to_string()),
            ..Default::default()
        })
    }
}

/// argv as a person would type it: arguments with spaces or quotes single-quoted.
fn display_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_display_quotes_what_needs_it() {
        let argv: Vec<String> = ["sh", "-c", "echo ::error::x; it's"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(display_argv(&argv), "sh -c 'echo ::error::x; it'\\''s'");
    }

    #[test]
    fn git_dates() {
        let d = parse_git_date("A U Thor <a@example.com> 1700000000 +0130").unwrap();
        assert_eq!(d.to_rfc3339(), "2023-11-14T23:43:20+01:30");
        assert_eq!(parse_git_date("garbage"), None);
    }
}
