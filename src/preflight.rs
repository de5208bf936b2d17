//! Preflight (DESIGN §6.1, §11.11): everything a plan needs is checked before the first change.
//! Every problem is collected; any problem is exit 2 with nothing changed.

use crate::error::{Error, Kind, Result};
use crate::plan::{Plan, Status};
use crate::port::{Backend, BackendKind};

pub fn check(plan: &Plan, backend: &dyn Backend) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    for step in plan.steps.iter().filter(|s| s.status != Status::Skipped) {
        match backend.kind() {
            BackendKind::LocalGit => {
                if let Some(argv) = &step.command {
                    if argv.first().is_none_or(|a| a.trim().is_empty()) {
                        problems.push(format!(
                            "{}: `command` renders to an empty program name",
                            step.service
                        ));
                    }
                }
            }
            BackendKind::GitHub => {}
        }
    }
    match problems.split_first() {
        None => Ok(()),
        Some((first, rest)) => Err(Error::new(
            Kind::Preflight,
            format!("preflight failed: {first}"),
        )
        .with_details(rest.iter().cloned())
        .with_help("nothing was changed; fix the manifest or the workflows and run again")),
    }
}
