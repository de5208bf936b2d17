//! What a workflow file accepts for `workflow_dispatch` (DESIGN §6.1 preflight, §11.11, §11.13).
//!
//! Preflight reads each deploy workflow at its dispatch ref and checks, before anything changes,
//! that it has a `workflow_dispatch` trigger, declares every input the plan sends and gets every
//! input it requires. GitHub answers a bad dispatch with a terse 422; checking here lets the
//! error name the workflow, the input and the fix while nothing has moved yet.
//!
//! The file is read as YAML 1.2, as GitHub reads workflows: `on` is a string key (a YAML 1.1
//! boolean `on` is not looked for). Keys of an input other than `type`, `required`, `default` and
//! `options` (`description`, …) are ignored; input names are compared exactly.

use std::collections::BTreeMap;

use yaml_rust2::{Yaml, YamlLoader};

/// The parts of a workflow file the tool relies on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkflowSpec {
    pub name: Option<String>,
    pub run_name: Option<String>,
    /// `None` when the workflow has no `workflow_dispatch` trigger.
    pub dispatch: Option<DispatchSpec>,
}

/// The `workflow_dispatch` trigger's inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DispatchSpec {
    pub inputs: BTreeMap<String, InputSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    pub required: bool,
    /// The default as text (`default: 3` is `"3"`, `default: true` is `"true"`).
    pub default: Option<String>,
    pub kind: InputKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    String,
    Boolean,
    Number,
    Choice(Vec<String>),
    Environment,
}

fn scalar_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get<'a>(map: &'a yaml_rust2::yaml::Hash, key: &str) -> Option<&'a Yaml> {
    map.get(&Yaml::String(key.to_string()))
}

/// Parses a workflow file. Errors are one sentence without the file name (the caller adds it).
pub fn parse(text: &str) -> Result<WorkflowSpec, String> {
    // Editors on Windows save a byte-order mark; YAML allows one at the start.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let root = match docs.first() {
        Some(Yaml::Hash(h)) => h,
        Some(_) => return Err("the workflow is not a mapping of keys".to_string()),
        None => return Err("the workflow file is empty".to_string()),
    };
    let text_of = |key: &str| -> Result<Option<String>, String> {
        match get(root, key) {
            None | Some(Yaml::Null) => Ok(None),
            Some(y) => scalar_text(y)
                .map(Some)
                .ok_or_else(|| format!("`{key}` must be a string")),
        }
    };
    let name = text_of("name")?;
    let run_name = text_of("run-name")?;
    let dispatch = match get(root, "on") {
        None => None,
        Some(on) => dispatch_of(on)?,
    };
    Ok(WorkflowSpec {
        name,
        run_name,
        dispatch,
    })
}

fn dispatch_of(on: &Yaml) -> Result<Option<DispatchSpec>, String> {
    const EVENT: &str = "workflow_dispatch";
    match on {
        Yaml::String(s) => Ok((s == EVENT).then(DispatchSpec::default)),
        Yaml::Array(events) => Ok(events
            .iter()
            .any(|e| matches!(e, Yaml::String(s) if s == EVENT))
            .then(DispatchSpec::default)),
        Yaml::Hash(events) => match get(events, EVENT) {
            None => Ok(None),
            Some(Yaml::Null) => Ok(Some(DispatchSpec::default())),
            Some(Yaml::Hash(trigger)) => match get(trigger, "inputs") {
                None | Some(Yaml::Null) => Ok(Some(DispatchSpec::default())),
                Some(Yaml::Hash(inputs)) => {
                    let mut out = BTreeMap::new();
                    for (k, v) in inputs {
                        let name = scalar_text(k)
                            .ok_or("a `workflow_dispatch` input name is not a string")?;
                        let spec = input_of(&name, v)?;
                        out.insert(name, spec);
                    }
                    Ok(Some(DispatchSpec { inputs: out }))
                }
                Some(_) => Err("`on.workflow_dispatch.inputs` must be a mapping".to_string()),
            },
            Some(_) => Err("`on.workflow_dispatch` must be empty or a mapping".to_string()),
        },
        _ => Err("`on` must be an event name, a list or a mapping".to_string()),
    }
}

fn input_of(name: &str, v: &Yaml) -> Result<InputSpec, String> {
    let empty = yaml_rust2::yaml::Hash::new();
    let def = match v {
        Yaml::Null => &empty,
        Yaml::Hash(h) => h,
        _ => return Err(format!("input `{name}` must be a mapping")),
    };
    let required = match get(def, "required") {
        None | Some(Yaml::Null) => false,
        Some(Yaml::Boolean(b)) => *b,
        Some(Yaml::String(s)) if s == "true" || s == "false" => s == "true",
        Some(_) => {
            return Err(format!(
                "input `{name}`: `required` must be `true` or `false`"
            ))
        }
    };
    let default = match get(def, "default") {
        None | Some(Yaml::Null) => None,
        Some(y) => Some(
            scalar_text(y).ok_or_else(|| format!("input `{name}`: `default` must be a scalar"))?,
        ),
    };
    let kind = match get(def, "type") {
        None | Some(Yaml::Null) => InputKind::String,
        Some(Yaml::String(t)) => match t.as_str() {
            "string" => InputKind::String,
            "boolean" => InputKind::Boolean,
            "number" => InputKind::Number,
            "environment" => InputKind::Environment,
            "choice" => {
                let options = match get(def, "options") {
                    Some(Yaml::Array(items)) => items
                        .iter()
                        .map(|o| {
                            scalar_text(o).ok_or_else(|| {
                                format!("input `{name}`: each of `options` must be a scalar")
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => {
                        return Err(format!(
                            "input `{name}` of type `choice` needs a list of `options`"
                        ))
                    }
                };
                if options.is_empty() {
                    return Err(format!(
                        "input `{name}` of type `choice` needs a list of `options`"
                    ));
                }
                InputKind::Choice(options)
            }
            other => {
                return Err(format!(
                    "input `{name}` has unknown type `{other}` (string, boolean, number, choice or environment)"
                ))
            }
        },
        Some(_) => return Err(format!("input `{name}`: `type` must be a string")),
    };
    Ok(InputSpec {
        required,
        default,
        kind,
    })
}

/// Does the trigger declare input `name`?
pub fn declares(spec: &DispatchSpec, name: &str) -> bool {
    spec.inputs.contains_key(name)
}

fn is_number(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Every problem with dispatching `sent` to this trigger, one message each, in input-name order:
/// undeclared inputs, missing required inputs (those with a `default` need not be sent, §11.11),
/// and values a `choice`, `boolean` or `number` input does not accept. `implicit` are inputs the
/// tool adds itself when declared (`rollback_id`, §11.13); they are never reported missing.
pub fn check_inputs(
    spec: &DispatchSpec,
    sent: &BTreeMap<String, String>,
    implicit: &[&str],
) -> Vec<String> {
    let mut problems = Vec::new();
    for name in sent.keys() {
        if !spec.inputs.contains_key(name) {
            problems.push(format!("workflow does not declare input `{name}`"));
        }
    }
    for (name, input) in &spec.inputs {
        let Some(value) = sent.get(name) else {
            if input.required && input.default.is_none() && !implicit.contains(&name.as_str()) {
                problems.push(format!("required input `{name}` is not sent"));
            }
            continue;
        };
        match &input.kind {
            InputKind::Choice(options) if !options.iter().any(|o| o == value) => {
                problems.push(format!(
                    "input `{name}` is `{value}`, not one of its options: {}",
                    options
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            InputKind::Boolean if value != "true" && value != "false" => {
                problems.push(format!(
                    "input `{name}` is a boolean and must be `true` or `false`, not `{value}`"
                ));
            }
            InputKind::Number if !is_number(value) => {
                problems.push(format!("input `{name}` is a number, not `{value}`"));
            }
            _ => {}
        }
    }
    problems
}

/// Does `run-name` put input `name` in the run's title (`${{ inputs.NAME }}` or
/// `${{ github.event.inputs.NAME }}`, in any expression, spacing and case)? Then a dispatched run
/// can be found exactly by its `display_title` (§11.13).
pub fn run_name_uses_input(spec: &WorkflowSpec, name: &str) -> bool {
    let Some(run_name) = &spec.run_name else {
        return false;
    };
    let needle = format!("inputs.{}", name.to_ascii_lowercase());
    let mut rest = run_name.as_str();
    while let Some(open) = rest.find("${{") {
        let after = &rest[open + 3..];
        let Some(close) = after.find("}}") else {
            return false;
        };
        let expr: String = after[..close]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let mut from = 0;
        while let Some(pos) = expr[from..].find(&needle) {
            let start = from + pos;
            let end = start + needle.len();
            let before = &expr[..start];
            let ok_before = before.is_empty()
                || before.ends_with("github.event.")
                || !before.ends_with(|c: char| {
                    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
                });
            let ok_after = !expr[end..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if ok_before && ok_after {
                return true;
            }
            from = end;
        }
        rest = &after[close + 2..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispatch(text: &str) -> Option<DispatchSpec> {
        parse(text).unwrap().dispatch
    }

    fn sent(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const FULL: &str = r#"
name: Deploy API
run-name: "Deploy ${{ inputs.version }} (${{inputs.rollback_id}})"
on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      version:
        description: Version to deploy
        required: true
        type: string
      environment:
        type: environment
        required: true
        default: production
      level:
        type: choice
        options: [info, debug, 3]
        default: info
      dry:
        type: boolean
        default: false
      replicas:
        type: number
        default: 2
      ratio:
        default: 1.50
      rollback_id:
        required: true
      note:
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps: [{run: "true"}]
"#;

    #[test]
    fn full_trigger() {
        let spec = parse(FULL).unwrap();
        assert_eq!(spec.name.as_deref(), Some("Deploy API"));
        let d = spec.dispatch.clone().unwrap();
        assert_eq!(d.inputs.len(), 8);
        assert_eq!(
            d.inputs["version"],
            InputSpec {
                required: true,
                default: None,
                kind: InputKind::String
            }
        );
        assert_eq!(d.inputs["environment"].kind, InputKind::Environment);
        assert_eq!(
            d.inputs["level"].kind,
            InputKind::Choice(vec!["info".into(), "debug".into(), "3".into()])
        );
        assert_eq!(d.inputs["dry"].default.as_deref(), Some("false"));
        assert_eq!(d.inputs["dry"].kind, InputKind::Boolean);
        assert_eq!(d.inputs["replicas"].default.as_deref(), Some("2"));
        assert_eq!(d.inputs["ratio"].default.as_deref(), Some("1.50"));
        assert_eq!(
            d.inputs["note"],
            InputSpec {
                required: false,
                default: None,
                kind: InputKind::String
            }
        );
        assert!(declares(&d, "rollback_id"));
        assert!(!declares(&d, "Version"));
        assert!(run_name_uses_input(&spec, "rollback_id"));
        assert!(run_name_uses_input(&spec, "version"));
        assert!(!run_name_uses_input(&spec, "note"));
    }

    #[test]
    fn trigger_forms() {
        assert_eq!(
            dispatch("on: workflow_dispatch"),
            Some(DispatchSpec::default())
        );
        assert_eq!(
            dispatch("on: [push, workflow_dispatch]"),
            Some(DispatchSpec::default())
        );
        assert_eq!(
            dispatch("on: {workflow_dispatch: null}"),
            Some(DispatchSpec::default())
        );
        assert_eq!(
            dispatch("on:\n  workflow_dispatch:\n  push:\n"),
            Some(DispatchSpec::default())
        );
        assert_eq!(
            dispatch("on: {workflow_dispatch: {inputs: {}}}"),
            Some(DispatchSpec::default())
        );
        let d = dispatch("on: {workflow_dispatch: {inputs: {v: {required: true}}}}").unwrap();
        assert!(d.inputs["v"].required);
        assert_eq!(
            dispatch("\"on\": workflow_dispatch"),
            Some(DispatchSpec::default())
        );
    }

    #[test]
    fn missing_trigger() {
        assert_eq!(dispatch("on: push"), None);
        assert_eq!(dispatch("on: [push, pull_request]"), None);
        assert_eq!(dispatch("on: {push: {tags: ['v*']}}"), None);
        assert_eq!(dispatch("name: x\njobs: {}"), None);
        // YAML 1.2: `true` is a boolean key, not `on`.
        assert_eq!(dispatch("true: workflow_dispatch"), None);
    }

    #[test]
    fn bad_files() {
        for text in [
            "",
            "- a",
            "on: [",
            "on: 3",
            "on: {workflow_dispatch: [x]}",
            "on: {workflow_dispatch: {inputs: [x]}}",
            "on: {workflow_dispatch: {inputs: {x: 3}}}",
            "on: {workflow_dispatch: {inputs: {x: {type: text}}}}",
            "on: {workflow_dispatch: {inputs: {x: {type: choice}}}}",
            "on: {workflow_dispatch: {inputs: {x: {type: choice, options: []}}}}",
            "on: {workflow_dispatch: {inputs: {x: {required: yes}}}}",
            "on: {workflow_dispatch: {inputs: {x: {default: [1]}}}}",
            "name: [x]\non: workflow_dispatch",
            "on: push\non: workflow_dispatch",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn checks() {
        let spec = parse(FULL).unwrap().dispatch.unwrap();
        let ok = sent(&[("version", "1.2.3")]);
        assert_eq!(
            check_inputs(&spec, &ok, &["rollback_id"]),
            Vec::<String>::new()
        );
        assert_eq!(
            check_inputs(&spec, &ok, &[]),
            vec!["required input `rollback_id` is not sent"]
        );
        assert_eq!(
            check_inputs(&spec, &sent(&[]), &["rollback_id"]),
            vec!["required input `version` is not sent"]
        );
        assert_eq!(
            check_inputs(
                &spec,
                &sent(&[
                    ("version", "1"),
                    ("x", "1"),
                    ("level", "trace"),
                    ("dry", "True"),
                    ("replicas", "two"),
                ]),
                &["rollback_id"]
            ),
            vec![
                "workflow does not declare input `x`",
                "input `dry` is a boolean and must be `true` or `false`, not `True`",
                "input `level` is `trace`, not one of its options: `info`, `debug`, `3`",
                "input `replicas` is a number, not `two`",
            ]
        );
        let good = sent(&[
            ("version", "1"),
            ("level", "3"),
            ("dry", "true"),
            ("replicas", "-1.5e3"),
            ("environment", "staging"),
            ("rollback_id", "r-1"),
        ]);
        assert!(check_inputs(&spec, &good, &["rollback_id"]).is_empty());
        for bad in ["", "inf", "NaN", "1.2.3", "0x10", "e"] {
            assert!(!is_number(bad), "{bad}");
        }
        // An implicit input sent to a workflow that does not declare it is still a problem.
        let none = DispatchSpec::default();
        assert_eq!(
            check_inputs(&none, &sent(&[("rollback_id", "r")]), &["rollback_id"]),
            vec!["workflow does not declare input `rollback_id`"]
        );
    }

    #[test]
    fn run_name_detection() {
        let with = |run_name: &str| WorkflowSpec {
            run_name: Some(run_name.into()),
            ..Default::default()
        };
        for yes in [
            "${{ inputs.rollback_id }}",
            "deploy ${{inputs.rollback_id}}",
            "${{   github.event.inputs.rollback_id   }}",
            "${{ format('{0} {1}', inputs.version, inputs.rollback_id) }}",
            "${{ Inputs.Rollback_Id }}",
            "${{ inputs . rollback_id }}",
        ] {
            assert!(run_name_uses_input(&with(yes), "rollback_id"), "{yes}");
        }
        for no in [
            "inputs.rollback_id",
            "${{ inputs.rollback_id_old }}",
            "${{ inputs.rollback_identity }}",
            "${{ my.inputs.rollback_id }}",
            "${{ inputs.version }} rollback_id",
            "${{ inputs.rollback_id",
        ] {
            assert!(!run_name_uses_input(&with(no), "rollback_id"), "{no}");
        }
        assert!(!run_name_uses_input(
            &WorkflowSpec::default(),
            "rollback_id"
        ));
    }

    use crate::test_support::odd_inputs;

    #[test]
    fn never_panics() {
        for s in odd_inputs() {
            let _ = parse(&s);
            let spec = WorkflowSpec {
                run_name: Some(s.clone()),
                ..Default::default()
            };
            let _ = run_name_uses_input(&spec, "rollback_id");
        }
    }
}
