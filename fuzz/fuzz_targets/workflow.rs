//! Any text is a workflow spec or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = rollback::workflow::parse(text);
});
