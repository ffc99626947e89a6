//! A full disk, made for real: a small tmpfs mounted by the test (as root, which the test command
//! runs as) under the blob store, then under the SQLite database. The upload or registration that
//! does not fit fails with RESOURCE_EXHAUSTED, leaves nothing half-written, and reads keep working.

use std::path::{Path, PathBuf};

use docstokg_catalog::{
    Catalog, ContentHeader, ContentRequest, ContentSelector, ErrorKind, NewDocument,
};
use docstokg_catalog_tests::{
    data::{chunked, pseudo_random_bytes},
    harness::open_provider,
    reliability::Observation,
    services::skip,
};
use futures::TryStreamExt;

/// A tmpfs of `size` mounted at `path`, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(test: &str, path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).expect("mount point");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|status| status.success());
        if !mounted {
            skip(test, "cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(Self {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy, so a file still open by a closing pool cannot keep the mount behind.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files
}

fn header(artifact_id: &str) -> ContentHeader {
    ContentHeader {
        artifact_id: artifact_id.into(),
        source_url: format!("https://example.org/{artifact_id}"),
        resolver: "r".into(),
        ..ContentHeader::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_full_blob_disk_refuses_the_upload_cleanly_and_reads_go_on() {
    let test = "full blob disk";
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("blobs");
    let Some(_disk) = SmallDisk::mount(test, &root, "1m") else {
        return;
    };
    let env = vec![
        (
            "DOCSTOKG_DEV_DB_PATH",
            dir.path().join("catalog.sqlite").display().to_string(),
        ),
        ("DOCSTOKG_STORAGE_ROOT", root.display().to_string()),
    ];
    let (_, provider) = open_provider(&env).await;
    let small = pseudo_random_bytes(100_000, 1);
    let stored = provider
        .put_content(header("fits"), chunked(small.clone(), 16 * 1024))
        .await
        .expect("a small upload fits");
    let before = files_under(&root);

    let big = pseudo_random_bytes(3 * 1024 * 1024, 2);
    let error = provider
        .put_content(header("too-big"), chunked(big, 64 * 1024))
        .await
        .expect_err("the disk is full");
    assert_eq!(error.kind, ErrorKind::ResourceExhausted, "{error}");
    assert_eq!(files_under(&root), before, "nothing half-written remains");
    assert!(
        provider
            .get_by_artifact("too-big")
            .await
            .expect("lookup")
            .is_empty()
    );

    let download = provider
        .get_content(ContentRequest {
            selector: ContentSelector::RecordId(stored.registration.record.id),
            offset: 0,
            length: None,
        })
        .await
        .expect("reads keep working");
    let bytes: Vec<_> = download.body.try_collect().await.expect("bytes");
    assert_eq!(bytes.concat(), small);
    provider.close().await;
    Observation::new("blob store disk full (1 MiB tmpfs)", "development", 1)
        .answered("RESOURCE_EXHAUSTED, no half-written file, no record; reads go on")
        .acknowledged(1)
        .record();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_full_database_disk_refuses_registrations_cleanly_and_reads_go_on() {
    let test = "full database disk";
    let dir = tempfile::tempdir().expect("temp dir");
    let db_dir = dir.path().join("db");
    let Some(_disk) = SmallDisk::mount(test, &db_dir, "2m") else {
        return;
    };
    let env = vec![
        (
            "DOCSTOKG_DEV_DB_PATH",
            db_dir.join("catalog.sqlite").display().to_string(),
        ),
        (
            "DOCSTOKG_STORAGE_ROOT",
            dir.path().join("blobs").display().to_string(),
        ),
    ];
    let (_, provider) = open_provider(&env).await;
    let first = provider
        .register_or_get(NewDocument::new("first", "https://example.org/first", "r"))
        .await
        .expect("the first registration fits");
    let mut refused = None;
    for start in (0..100_000).step_by(500) {
        let batch = (start..start + 500)
            .map(|n| {
                NewDocument::new(
                    format!("a{n}"),
                    format!("https://example.org/{n}/{}", "x".repeat(400)),
                    "r",
                )
            })
            .collect();
        if let Err(error) = provider.register_or_get_batch(batch).await {
            refused = Some(error);
            break;
        }
    }
    let error = refused.expect("a 2 MiB disk fills up");
    assert_eq!(error.kind, ErrorKind::ResourceExhausted, "{error}");
    let total = provider
        .stats()
        .await
        .expect("stats still answer")
        .total_records;
    assert_eq!(total % 500, 1, "the refused batch left none of its rows");
    let again = provider
        .get_record(first.record.id)
        .await
        .expect("reads keep working");
    assert_eq!(again, first.record);
    provider.close().await;
    Observation::new("SQLite database disk full (2 MiB tmpfs)", "development", 1)
        .answered("RESOURCE_EXHAUSTED (SQLITE_FULL); the refused batch left no row; reads go on")
        .acknowledged(total as u64)
        .record();
}
