//! Env-like `KEY=value` lines through `Inputs::from_env` and every typed getter: never a panic,
//! values are trimmed and non-empty, and the runner's hyphenated spelling wins.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use rollback::runner::Inputs;

fuzz_target!(|data: &str| {
    let mut vars = BTreeMap::new();
    for line in data.lines() {
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        vars.insert(k.to_string(), v.to_string());
    }
    let inputs = Inputs::from_env(&vars);
    let names = vars
        .keys()
        .filter_map(|k| k.strip_prefix("INPUT_"))
        .map(str::to_ascii_lowercase);
    for n in names.chain(["dry-run".to_string(), "steps".to_string()]) {
        if let Some(v) = inputs.get(&n) {
            assert!(!v.is_empty());
            assert_eq!(v, v.trim());
        }
        if !n.contains(['_', ' ']) {
            if let Some(h) = vars.get(&format!("INPUT_{}", n.to_ascii_uppercase())) {
                let h = h.trim();
                // Only when no other key spells the same name in another case.
                let spellings = vars
                    .keys()
                    .filter(|k| k.eq_ignore_ascii_case(&format!("INPUT_{n}")))
                    .count();
                if !h.is_empty() && spellings == 1 {
                    assert_eq!(inputs.get(&n), Some(h));
                }
            }
        }
        let _ = inputs.bool(&n, false);
        let _ = inputs.u32(&n);
        let _ = inputs.duration(&n);
        let _ = inputs.one_of(&n, &["previous", "steps", "version"]);
    }
});
