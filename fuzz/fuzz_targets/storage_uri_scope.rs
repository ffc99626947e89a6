//! Arbitrary storage URIs through the lexical scope checks that stand between a record's
//! storage_uri and the file system or the bucket: whatever they accept must lie inside the local
//! root (no `..`, not the root itself) or under the bucket's prefix (no empty, `.` or `..`
//! segment).
#![no_main]

use std::{
    path::{Component, Path},
    sync::OnceLock,
};

use docstokg_catalog_server::blob::{LocalReader, s3::key_in_scope};
use libfuzzer_sys::fuzz_target;

const BUCKET: &str = "catalog";
const PREFIX: &str = "docs/";

fn reader() -> &'static LocalReader {
    static READER: OnceLock<LocalReader> = OnceLock::new();
    READER.get_or_init(|| {
        let root = std::env::temp_dir().join("docstokg-fuzz-root");
        std::fs::create_dir_all(&root).expect("fuzz root");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(LocalReader::new(&root))
            .expect("reader")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(uri) = std::str::from_utf8(data) else {
        return;
    };
    let reader = reader();
    if let Some(path) = reader.scoped_path(uri) {
        assert!(uri.starts_with("file://"));
        assert!(path.starts_with(reader.root()) && path != reader.root());
        assert!(!path.components().any(|c| matches!(c, Component::ParentDir)));
        assert!(Path::new(path.as_os_str()).is_absolute());
    }
    if let Some(key) = key_in_scope(BUCKET, PREFIX, uri) {
        assert_eq!(uri, format!("s3://{BUCKET}/{key}"));
        assert!(key.starts_with(PREFIX));
        assert!(
            key.split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..")
        );
    }
});
