//! Template source and tag name from one input: the first line is the template, the rest the
//! tag name. Matching never panics, and a match renders back to a name that matches again with
//! the same version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rollback::template::Template;
use rollback::version::TagPattern;

fuzz_target!(|data: &str| {
    let (template, name) = data
        .split_once('\n')
        .unwrap_or(("{service}/v{version}", data));
    let Ok(template) = Template::parse(template) else {
        return;
    };
    let Some(pattern) = TagPattern::new(&template, "api", "production") else {
        return;
    };
    if let Some(m) = pattern.matches(name) {
        let again = pattern.matches(&pattern.render(&m.version));
        assert_eq!(again.map(|a| a.version), Some(m.version));
    }
});
