//! External services and tools a test needs, and the skip rule: without them a test says SKIPPED
//! loudly; with `DOCSTOKG_TEST_REQUIRE_SERVICES=1` (set by the full test command) a skip fails.

use std::path::PathBuf;

/// Reports that `test` cannot run because `missing`; panics when services are required.
pub fn skip(test: &str, missing: &str) {
    let required = std::env::var("DOCSTOKG_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: {missing}, and DOCSTOKG_TEST_REQUIRE_SERVICES=1 forbids skipping"
    );
    eprintln!("\n*** SKIPPED {test}: {missing} ***\n");
}

/// The grpcurl binary: `$DOCSTOKG_GRPCURL`, else `grpcurl` on PATH.
pub fn grpcurl() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DOCSTOKG_GRPCURL") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join("grpcurl"))
        .find(|p| p.is_file())
}
