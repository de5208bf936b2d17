//! The OpenAPI subset the fake is checked against: operation matching and a small
//! JSON-schema validator covering what the request bodies of these operations use.

use serde_json::{Map, Value};
use std::path::PathBuf;

/// One segment of a path template.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    /// A parameter; `true` when it may hold slashes (`x-multi-segment`), which only
    /// happens for the last segment of the operations in the subset.
    Param(String, bool),
}

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub method: String,
    pub operation_id: String,
    pub docs_url: String,
    segs: Vec<Seg>,
    pub body_schema: Option<Value>,
    pub body_required: bool,
    pub responses: Value,
}

pub(crate) struct Spec {
    pub doc: Value,
    pub ops: Vec<Operation>,
}

pub(crate) struct Matched<'a> {
    pub op: &'a Operation,
    pub params: Vec<(String, String)>,
}

impl Matched<'_> {
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// Where `../shared` is: `$ROLLBACK_SHARED_DIR`, else `<this crate>/../../shared`.
pub(crate) fn shared_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("ROLLBACK_SHARED_DIR") {
        if !dir.is_empty() {
            return PathBuf::from(dir);
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Spec {
    pub fn load(ghes: bool) -> Result<Spec, String> {
        let file = if ghes {
            "ghes-3.19.rollback-subset.json"
        } else {
            "api.github.com.rollback-subset.json"
        };
        let path = shared_dir().join("github-api").join("openapi").join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut ops = Vec::new();
        let paths = doc["paths"].as_object().ok_or("no paths")?;
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if method == "parameters" {
                    continue;
                }
                let mut multi = Vec::new();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let p = resolve(&doc, p);
                    if p["in"] == "path" && p["x-multi-segment"] == true {
                        multi.push(p["name"].as_str().unwrap_or("").to_string());
                    }
                }
                let segs = template
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| {
                        if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Seg::Param(name.to_string(), multi.iter().any(|m| m == name))
                        } else {
                            Seg::Lit(s.to_string())
                        }
                    })
                    .collect();
                let body = &op["requestBody"];
                let body_schema = body["content"]["application/json"]["schema"].clone();
                ops.push(Operation {
                    method: method.to_uppercase(),
                    operation_id: op["operationId"].as_str().unwrap_or("").to_string(),
                    docs_url: op["externalDocs"]["url"]
                        .as_str()
                        .unwrap_or("https://docs.github.com/rest")
                        .to_string(),
                    segs,
                    body_schema: if body_schema.is_null() {
                        None
                    } else {
                        Some(body_schema)
                    },
                    body_required: body["required"] == true,
                    responses: op["responses"].clone(),
                });
            }
        }
        Ok(Spec { doc, ops })
    }

    /// An example value from `components/examples`.
    pub fn example(&self, name: &str) -> Value {
        self.doc["components"]["examples"][name]["value"].clone()
    }

    /// Find the operation for `method` + `path` (path without any `/api/v3` prefix,
    /// still percent-encoded). Literal segments win over parameters.
    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(usize, Matched<'_>)> = None;
        for op in self.ops.iter().filter(|o| o.method == method) {
            if let Some(params) = match_segs(&op.segs, &raw) {
                let lits = op.segs.iter().filter(|s| matches!(s, Seg::Lit(_))).count();
                if best.as_ref().is_none_or(|(l, _)| lits > *l) {
                    best = Some((lits, Matched { op, params }));
                }
            }
        }
        best.map(|(_, m)| m)
    }

    /// Check an answer of `op` against the schema the description gives for `status`.
    pub fn check_response(&self, op: &Operation, status: u16, body: &Value) -> Vec<String> {
        let resp = &op.responses[status.to_string()];
        if resp.is_null() {
            return vec![format!("status {status} is not documented")];
        }
        let resp = resolve(&self.doc, resp);
        let schema = &resp["content"]["application/json"]["schema"];
        let mut errs = Vec::new();
        if !schema.is_null() {
            validate(&self.doc, schema, body, "", &mut errs);
        }
        errs
    }

    /// Does some operation exist for this path with another method?
    pub fn path_known(&self, path: &str) -> bool {
        let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.ops
            .iter()
            .any(|op| match_segs(&op.segs, &raw).is_some())
    }
}

fn match_segs(segs: &[Seg], raw: &[&str]) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        match seg {
            Seg::Lit(l) => {
                if raw.get(i) != Some(&l.as_str()) {
                    return None;
                }
            }
            Seg::Param(name, multi) => {
                if *multi && i == segs.len() - 1 {
                    if raw.len() <= i || raw[i].is_empty() {
                        return None;
                    }
                    let joined = raw[i..].join("/");
                    params.push((name.clone(), percent_decode(&joined)));
                    return Some(params);
                }
                let v = raw.get(i)?;
                if v.is_empty() {
                    return None;
                }
                let v = percent_decode(v);
                if v.contains('/') && !*multi {
                    return None;
                }
                params.push((name.clone(), v));
            }
        }
    }
    if raw.len() == segs.len() {
        Some(params)
    } else {
        None
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    let mut v = v;
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let ptr = r.trim_start_matches('#');
                match doc.pointer(ptr) {
                    Some(t) => v = t,
                    None => return v,
                }
            }
            None => return v,
        }
    }
    v
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(want: &str, v: &Value) -> bool {
    match want {
        "number" => v.is_number(),
        "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
        other => type_name(v) == other,
    }
}

/// Validate `v` against an OpenAPI 3.0 schema. Errors are phrased like GitHub's
/// request validator (`For 'properties/ref', 1 is not a string.`).
pub(crate) fn validate(doc: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if v.is_null() && schema["nullable"] == true {
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema[key].as_array() {
            let ok = alts.iter().any(|alt| {
                let mut e = Vec::new();
                validate(doc, alt, v, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errs.push(format!(
                    "For '{at}', {v} is not any of the allowed schemas."
                ));
                return;
            }
        }
    }
    if let Some(t) = schema["type"].as_str() {
        if !type_ok(t, v) {
            let shown = if at.is_empty() { "the body" } else { at };
            let article = if t == "object" || t == "array" || t == "integer" {
                "an"
            } else {
                "a"
            };
            errs.push(format!("For '{shown}', {v} is not {article} {t}."));
            return;
        }
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(v) {
            errs.push(format!(
                "For '{at}', {v} is not a member of {}.",
                Value::from(options.clone())
            ));
        }
    }
    if let Value::Object(obj) = v {
        let props = schema["properties"].as_object();
        for req in schema["required"].as_array().into_iter().flatten() {
            if let Some(r) = req.as_str() {
                if !obj.contains_key(r) {
                    if at.is_empty() {
                        errs.push(format!("\"{r}\" wasn't supplied."));
                    } else {
                        errs.push(format!("For '{at}', \"{r}\" wasn't supplied."));
                    }
                }
            }
        }
        if let Some(max) = schema["maxProperties"].as_u64() {
            if obj.len() as u64 > max {
                errs.push(format!(
                    "For '{at}', {} properties is more than the maximum of {max}.",
                    obj.len()
                ));
            }
        }
        let empty = Map::new();
        for (k, val) in obj {
            let sub = if at.is_empty() {
                format!("properties/{k}")
            } else {
                format!("{at}/{k}")
            };
            match props.unwrap_or(&empty).get(k) {
                Some(s) => validate(doc, s, val, &sub, errs),
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => errs.push(format!("\"{k}\" is not a permitted key.")),
                    s @ Value::Object(_) => validate(doc, s, val, &sub, errs),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(doc, item_schema, item, &format!("{at}/{i}"), errs);
        }
    }
}
