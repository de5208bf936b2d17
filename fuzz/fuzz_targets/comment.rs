//! Any comment body parses to one of the four outcomes; a command's words are valid names, and
//! a `\r` or trailing spaces at the end of the first line change nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rollback::comment::{is_valid_name, parse, Parsed};

fuzz_target!(|body: &str| {
    for prefix in ["/rollback", "!rb"] {
        let parsed = parse(body, prefix);
        if let Parsed::Command(r) = &parsed {
            assert!(is_valid_name(&r.service));
            if let Some(env) = &r.environment {
                assert!(is_valid_name(env));
            }
        }
        let padded = match body.split_once('\n') {
            Some((first, rest)) => format!("{first} \r\n{rest}"),
            None => format!("{body} \r"),
        };
        assert_eq!(parse(&padded, prefix), parsed);
    }
});
