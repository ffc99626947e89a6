//! The local filesystem blob store: `ROOT/cas/sha256/ab/cd/<sha256>`, written to `ROOT/tmp` first
//! and renamed into place, so a reader never sees a partial object.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use docstokg_catalog::{BackendHealth, ByteStream, CatalogError, Result, StorageBackend};

use crate::metering::FilesystemUsage;

use super::{
    BlobExpectation, BlobStore, ByteRange, LeftoverReport, StoredBlob, StoredObject,
    blocking_io::write_and_hash,
    local_reader::{FILE_SCHEME, LocalReader, io_error},
    local_sweep,
};
use crate::health::timed_probe;

/// Blob store on a local directory.
pub struct LocalBlobStore {
    reader: LocalReader,
    tmp: PathBuf,
}

impl LocalBlobStore {
    /// Opens the store at `root` (made absolute), creating its directories and removing the
    /// temporary files that a crash left behind: every upload holds an exclusive lock on its
    /// temporary file while it writes, so a file nobody holds is a leftover, whatever its age,
    /// while the uploads of other servers sharing the root keep theirs.
    pub async fn open(root: &Path) -> Result<Self> {
        let root =
            std::path::absolute(root).map_err(|e| io_error("resolving the storage root", e))?;
        let tmp = root.join("tmp");
        for dir in [root.join("cas").join("sha256"), tmp.clone()] {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| io_error("creating the storage root", e))?;
        }
        remove_stale_uploads(&tmp)
            .await
            .map_err(|e| io_error("clearing leftover uploads", e))?;
        Ok(Self {
            reader: LocalReader::new(&root).await?,
            tmp,
        })
    }

    fn root(&self) -> &Path {
        self.reader.root()
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.root()
            .join("cas")
            .join("sha256")
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }
}

/// Removes every file under `tmp` that no upload holds locked: what a killed server left.
async fn remove_stale_uploads(tmp: &Path) -> io::Result<()> {
    let tmp = tmp.to_path_buf();
    tokio::task::spawn_blocking(move || {
        for entry in std::fs::read_dir(&tmp)? {
            let path = entry?.path();
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            // Held by a live upload (of this or another process): leave it.
            if file.try_lock().is_ok() {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(())
    })
    .await
    .map_err(io::Error::other)?
}

/// Runs `work` on a blocking thread; an I/O error is reported as `doing`.
async fn blocking<T: Send + 'static>(
    doing: &'static str,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CatalogError::internal(format!("{doing}: {e}")).caused_by(e))?
        .map_err(|e| io_error(doing, e))
}

/// Makes a rename durable by syncing the directory that holds the new name.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    fn describe(&self) -> StorageBackend {
        StorageBackend {
            role: "blobs".into(),
            kind: "local".into(),
            location: self.root().display().to_string(),
        }
    }

    async fn put(&self, expect: BlobExpectation, body: ByteStream) -> Result<StoredBlob> {
        // Dropping `temp` (on error, or when the caller goes away) deletes the file.
        let temp = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.tmp)
            .map_err(|e| io_error("creating a temporary file", e))?;
        // Held until the file is renamed into place or removed: start-up clean-ups (of this or
        // another server on the same root) then know the file is an upload in progress.
        temp.as_file()
            .try_lock()
            .map_err(|e| io_error("locking a temporary file", io::Error::other(e)))?;
        let file = temp
            .reopen()
            .map_err(|e| io_error("opening a temporary file", e))?;
        let digest = write_and_hash(file, expect, body).await?;
        let (sha256, bytes) = digest.finish()?;
        let target = self.path_of(&sha256);
        let storage_uri = format!("{FILE_SCHEME}{}", target.display());
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            return Ok(StoredBlob {
                sha256,
                bytes,
                storage_uri,
                deduplicated: true,
            });
        }
        let parent = target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root().to_path_buf());
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(|e| io_error("creating a CAS directory", e))?;
        // The rename runs on a blocking thread, so it completes even if this future is dropped.
        let rename_target = target.clone();
        tokio::task::spawn_blocking(move || {
            temp.persist(rename_target).map(drop).map_err(|e| e.error)
        })
        .await
        .map_err(|e| CatalogError::internal(format!("storing an upload: {e}")).caused_by(e))?
        .map_err(|e| io_error("storing an upload", e))?;
        sync_dir(&parent)
            .await
            .map_err(|e| io_error("syncing a CAS directory", e))?;
        Ok(StoredBlob {
            sha256,
            bytes,
            storage_uri,
            deduplicated: false,
        })
    }

    fn uri_of(&self, sha256: &str) -> String {
        format!("{FILE_SCHEME}{}", self.path_of(sha256).display())
    }

    fn in_scope(&self, storage_uri: &str) -> bool {
        self.reader.in_scope(storage_uri)
    }

    async fn size(&self, storage_uri: &str) -> Result<Option<u64>> {
        self.reader.size(storage_uri).await
    }

    async fn read(&self, storage_uri: &str, range: ByteRange) -> Result<ByteStream> {
        self.reader.read(storage_uri, range).await
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StoredObject>> {
        let cas = self.root().join("cas").join("sha256");
        let after = after.map(str::to_owned);
        blocking("listing stored objects", move || {
            local_sweep::list(&cas, after.as_deref(), limit)
        })
        .await
    }

    async fn remove(&self, sha256: &str) -> Result<bool> {
        let path = self.path_of(sha256);
        blocking("removing a stored object", move || {
            local_sweep::remove(&path)
        })
        .await
    }

    async fn sweep_leftovers(
        &self,
        before: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<LeftoverReport> {
        let tmp = self.tmp.clone();
        blocking("sweeping temporary files", move || {
            local_sweep::sweep(&tmp, before, dry_run)
        })
        .await
    }

    fn filesystem(&self) -> Option<FilesystemUsage> {
        let stats = rustix::fs::statvfs(self.root()).ok()?;
        Some(FilesystemUsage {
            root: self.root().display().to_string(),
            available_bytes: stats.f_bavail.saturating_mul(stats.f_frsize),
            total_bytes: stats.f_blocks.saturating_mul(stats.f_frsize),
        })
    }

    async fn probe(&self) -> BackendHealth {
        timed_probe("blobs", async {
            // A file of its own for each probe (removed when dropped): the readiness watcher and
            // a ProviderHealth call probe at the same time, and with one name per process one
            // probe removed the file the other was about to read, reporting NOT_SERVING.
            let tmp = self.tmp.clone();
            let read = tokio::task::spawn_blocking(move || {
                let writing = |e| io_error("writing a probe file", e);
                let mut file = tempfile::Builder::new()
                    .prefix("probe-")
                    .tempfile_in(&tmp)
                    .map_err(writing)?;
                file.write_all(b"probe").map_err(writing)?;
                std::fs::read(file.path()).map_err(|e| io_error("reading a probe file", e))
            })
            .await
            .map_err(|e| CatalogError::internal(format!("the probe thread failed: {e}")))?;
            if read? != b"probe" {
                return Err(CatalogError::unavailable(
                    "the probe file read back different bytes",
                ));
            }
            Ok(format!(
                "local storage {} is writable",
                self.root().display()
            ))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use docstokg_catalog::{ErrorKind, HealthState};
    use futures::{StreamExt, TryStreamExt, stream};

    fn body(parts: &[&'static [u8]]) -> ByteStream {
        stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
        .boxed()
    }

    fn limit() -> BlobExpectation {
        BlobExpectation {
            max_bytes: 1 << 20,
            ..BlobExpectation::default()
        }
    }

    async fn store() -> (tempfile::TempDir, LocalBlobStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalBlobStore::open(dir.path()).await.expect("open");
        (dir, store)
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    #[tokio::test]
    async fn test_open_removes_unlocked_leftovers_and_keeps_uploads_in_progress() {
        let (dir, _store) = store().await;
        let tmp = dir.path().join("tmp");
        std::fs::write(tmp.join("upload-crashed"), b"half").expect("leftover");
        let in_progress = tmp.join("upload-live");
        let held = std::fs::File::create(&in_progress).expect("live upload");
        held.try_lock().expect("lock it as an upload does");
        LocalBlobStore::open(dir.path()).await.expect("reopen");
        assert!(
            !tmp.join("upload-crashed").exists(),
            "a leftover nobody holds goes"
        );
        assert!(in_progress.exists(), "an upload in progress stays");
        drop(held);
        LocalBlobStore::open(dir.path()).await.expect("reopen");
        assert_eq!(entries(&tmp), 0);
    }

    #[tokio::test]
    async fn test_concurrent_probes_are_all_healthy_and_leave_no_file() {
        let (dir, store) = store().await;
        let probes = futures::future::join_all((0..32).map(|_| store.probe())).await;
        for probe in probes {
            assert_eq!(probe.state, HealthState::Healthy, "{}", probe.message);
        }
        assert_eq!(entries(&dir.path().join("tmp")), 0);
    }

    #[tokio::test]
    async fn test_put_stores_under_cas_path_and_dedups() {
        let (_dir, store) = store().await;
        let first = store
            .put(limit(), body(&[b"hel", b"lo"]))
            .await
            .expect("put");
        assert!(!first.deduplicated);
        assert!(first.storage_uri.ends_with(
            "/cas/sha256/2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        ));
        let second = store
            .put(limit(), body(&[b"hello"]))
            .await
            .expect("put again");
        assert!(second.deduplicated);
        assert_eq!(second.storage_uri, first.storage_uri);
        assert_eq!(store.size(&first.storage_uri).await.expect("size"), Some(5));
        assert_eq!(entries(&store.tmp), 0);
    }

    #[tokio::test]
    async fn test_mismatched_upload_leaves_nothing() {
        let (_dir, store) = store().await;
        let expect = BlobExpectation {
            sha256: Some("0".repeat(64)),
            ..limit()
        };
        store
            .put(expect, body(&[b"hello"]))
            .await
            .expect_err("mismatch");
        assert_eq!(entries(&store.tmp), 0);
        assert_eq!(entries(&store.root().join("cas").join("sha256")), 0);
    }

    #[tokio::test]
    async fn test_failing_body_leaves_nothing() {
        let (_dir, store) = store().await;
        let failing = stream::iter(vec![
            Ok(Bytes::from_static(b"part")),
            Err(CatalogError::new(ErrorKind::Cancelled, "gone")),
        ]);
        store
            .put(limit(), failing.boxed())
            .await
            .expect_err("cancelled");
        assert_eq!(entries(&store.tmp), 0);
    }

    #[tokio::test]
    async fn test_uris_outside_root_are_out_of_scope_without_io() {
        let (_dir, store) = store().await;
        assert!(!store.in_scope("file:///etc/shadow"));
        let traversal = format!("file://{}/cas/../../../etc/shadow", store.root().display());
        assert!(!store.in_scope(&traversal));
        assert!(!store.in_scope("s3://bucket/key"));
        assert_eq!(
            store
                .read("file:///etc/shadow", ByteRange::ALL)
                .await
                .err()
                .map(|e| e.kind),
            Some(ErrorKind::FailedPrecondition)
        );
    }

    #[tokio::test]
    async fn test_symlink_escaping_root_is_refused() {
        let (dir, store) = store().await;
        let link = dir.path().join("cas").join("escape");
        std::os::unix::fs::symlink("/etc/hostname", &link).expect("symlink");
        let uri = format!(
            "file://{}",
            store.root().join("cas").join("escape").display()
        );
        assert!(store.in_scope(&uri));
        assert_eq!(
            store.size(&uri).await.err().map(|e| e.kind),
            Some(ErrorKind::FailedPrecondition)
        );
    }

    #[tokio::test]
    async fn test_ranged_read() {
        let (_dir, store) = store().await;
        let blob = store
            .put(limit(), body(&[b"hello world"]))
            .await
            .expect("put");
        let bytes: Vec<Bytes> = store
            .read(&blob.storage_uri, ByteRange::new(6, Some(3)))
            .await
            .expect("read")
            .try_collect()
            .await
            .expect("bytes");
        assert_eq!(bytes.concat(), b"wor");
    }
}
