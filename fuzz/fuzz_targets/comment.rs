//! Any comment body parses to one of the four outcomes; a command's words are valid names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rollback::comment::{is_valid_name, parse, Parsed};

fuzz_target!(|body: &str| {
    for prefix in ["/rollback", "!rb"] {
        if let Parsed::Command(r) = parse(body, prefix) {
            assert!(is_valid_name(&r.service));
            if let Some(env) = &r.environment {
                assert!(is_valid_name(env));
            }
        }
    }
});
