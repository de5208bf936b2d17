//! Any value written with `format_output` reads back identically with the runner's rules,
//! also when appended after another output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rollback::runner::{format_output, parse_output_file};

fuzz_target!(|value: &str| {
    let text = format_output("plan", value);
    let parsed = parse_output_file(&text).expect("our own output must parse");
    assert_eq!(parsed.get("plan").map(String::as_str), Some(value));

    let two = format!(
        "{}{}",
        format_output("a", value),
        format_output("b", "x\ny")
    );
    let parsed = parse_output_file(&two).expect("appended outputs must parse");
    assert_eq!(parsed.get("a").map(String::as_str), Some(value));
    assert_eq!(parsed.get("b").map(String::as_str), Some("x\ny"));
});
