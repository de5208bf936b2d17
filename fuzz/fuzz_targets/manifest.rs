//! Any text is a manifest or a list of problems, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = rollback::manifest::parse(text, ".github/rollback.yml");
});
