//! Template source and tag name from one input: the first line is the template, the rest the
//! tag name. Matching never panics; a match is exactly the rendering of its version (or that
//! with the `v` the template allows), and rendering then matching gives the version back.
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
        let rendered = pattern.render(&m.version);
        if m.canonical {
            assert_eq!(rendered, name);
        } else {
            let (prefix, rest) = rendered.split_at(pattern.prefix().len());
            assert!(name == format!("{prefix}v{rest}") || name == format!("{prefix}V{rest}"));
        }
        let again = pattern.matches(&rendered);
        assert_eq!(again.map(|a| a.version), Some(m.version));
    }
});
