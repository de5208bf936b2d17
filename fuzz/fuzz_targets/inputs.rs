//! Env-like `KEY=value` lines through `Inputs::from_env` and every typed getter.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use rollback::runner::Inputs;

fuzz_target!(|data: &str| {
    let mut vars = BTreeMap::new();
    let mut names = Vec::new();
    for line in data.lines() {
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if let Some(n) = k.strip_prefix("INPUT_") {
            names.push(n.to_ascii_lowercase());
        }
        vars.insert(k.to_string(), v.to_string());
    }
    let inputs = Inputs::from_env(&vars);
    for n in names
        .iter()
        .map(String::as_str)
        .chain(["dry-run", "steps", "timeout", "strategy"])
    {
        if let Some(v) = inputs.get(n) {
            assert!(!v.is_empty());
            assert_eq!(v, v.trim());
        }
        let _ = inputs.bool(n, false);
        let _ = inputs.u32(n);
        let _ = inputs.duration(n);
        let _ = inputs.one_of(n, &["previous", "steps", "version"]);
    }
});
