//! The parts of a workflow file the fake needs: name, run-name and the
//! `workflow_dispatch` trigger with its inputs (YAML 1.2: `on` is a plain string key).

use yaml_rust2::{Yaml, YamlLoader};

#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub name: String,
    pub required: bool,
    pub has_default: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct WorkflowFile {
    pub name: Option<String>,
    pub run_name: Option<String>,
    /// `None`: no `workflow_dispatch` trigger.
    pub dispatch_inputs: Option<Vec<Input>>,
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn parse(text: &str) -> Result<WorkflowFile, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    let Some(doc) = docs.first() else {
        return Ok(WorkflowFile::default());
    };
    let mut wf = WorkflowFile {
        name: scalar(&doc["name"]),
        run_name: scalar(&doc["run-name"]),
        dispatch_inputs: None,
    };
    // yaml-rust2 follows YAML 1.2 core schema, but be tolerant of a `true` key too.
    let on = match &doc["on"] {
        Yaml::BadValue => doc
            .as_hash()
            .and_then(|h| h.get(&Yaml::Boolean(true)))
            .unwrap_or(&Yaml::BadValue),
        other => other,
    };
    match on {
        Yaml::String(s) if s == "workflow_dispatch" => wf.dispatch_inputs = Some(Vec::new()),
        Yaml::Array(items)
            if items
                .iter()
                .any(|i| i.as_str() == Some("workflow_dispatch")) =>
        {
            wf.dispatch_inputs = Some(Vec::new());
        }
        Yaml::Hash(h) => {
            if let Some(wd) = h.get(&Yaml::String("workflow_dispatch".into())) {
                let mut inputs = Vec::new();
                if let Some(ins) = wd["inputs"].as_hash() {
                    for (k, v) in ins {
                        let Some(name) = scalar(k) else { continue };
                        let default = scalar(&v["default"]);
                        inputs.push(Input {
                            name,
                            required: v["required"].as_bool().unwrap_or(false),
                            has_default: !v["default"].is_badvalue() && !v["default"].is_null(),
                            default,
                        });
                    }
                }
                wf.dispatch_inputs = Some(inputs);
            }
        }
        _ => {}
    }
    Ok(wf)
}

/// `${{ inputs.x }}` / `${{ github.event.inputs.x }}` substitution for `run-name`.
pub(crate) fn render_run_name(template: &str, inputs: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let expr = after[..end].trim();
        let key = expr
            .strip_prefix("inputs.")
            .or_else(|| expr.strip_prefix("github.event.inputs."));
        if let Some(key) = key {
            if let Some((_, v)) = inputs.iter().find(|(k, _)| k == key) {
                out.push_str(v);
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_forms() {
        assert!(parse("on: workflow_dispatch\n")
            .unwrap()
            .dispatch_inputs
            .is_some());
        assert!(parse("on: [push, workflow_dispatch]\n")
            .unwrap()
            .dispatch_inputs
            .is_some());
        assert!(parse("on:\n  workflow_dispatch:\n")
            .unwrap()
            .dispatch_inputs
            .is_some());
        assert!(parse("on: push\n").unwrap().dispatch_inputs.is_none());
        let wf = parse(
            "name: Deploy\nrun-name: deploy ${{ inputs.version }}\non:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n      env:\n        required: true\n        default: prod\n",
        )
        .unwrap();
        let inputs = wf.dispatch_inputs.unwrap();
        assert_eq!(inputs.len(), 2);
        assert!(inputs[0].required && !inputs[0].has_default);
        assert!(inputs[1].has_default);
        assert_eq!(
            render_run_name(
                wf.run_name.as_deref().unwrap(),
                &[("version".into(), "1.2.3".into())]
            ),
            "deploy 1.2.3"
        );
    }
}
