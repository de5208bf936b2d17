//! The `--to` readers on arbitrary text: an exact version, then a SemVer requirement.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(v) = rollback::version::parse_version(text) {
        assert_eq!(rollback::version::parse_version(&v.to_string()), Some(v));
    }
    if let Ok(req) = semver::VersionReq::parse(text) {
        let _ = req.matches(&semver::Version::new(1, 2, 3));
        let _ = semver::VersionReq::parse(&req.to_string());
    }
});
