//! Reading files under one local directory, and nothing outside it: the scope check the local
//! blob store and the read-only roots share.

use std::{
    io::{self, SeekFrom},
    path::{Component, Path, PathBuf},
};

use docstokg_catalog::{ByteStream, CatalogError, ErrorKind, Result};
use tokio::io::AsyncSeekExt;

use super::{ByteRange, blocking_io::read_file};

/// Size of the chunks reads are streamed in (GetContent sends one message per chunk).
const READ_CHUNK_BYTES: usize = 1024 * 1024;
/// The scheme of local storage URIs.
pub const FILE_SCHEME: &str = "file://";

/// Reads `file://` URIs under `root`.
#[derive(Debug, Clone)]
pub struct LocalReader {
    root: PathBuf,
    canonical_root: PathBuf,
}

impl LocalReader {
    /// A reader of the existing directory `root` (made absolute).
    pub async fn new(root: &Path) -> Result<Self> {
        let root =
            std::path::absolute(root).map_err(|e| io_error("resolving a storage root", e))?;
        let canonical_root = tokio::fs::canonicalize(&root)
            .await
            .map_err(|e| io_error(&format!("resolving the storage root {}", root.display()), e))?;
        Ok(Self {
            root,
            canonical_root,
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `storage_uri` when it is an absolute `file://` path under the root with no `.`
    /// or `..` components: a purely lexical check, before any I/O.
    pub fn scoped_path(&self, storage_uri: &str) -> Option<PathBuf> {
        let path = Path::new(storage_uri.strip_prefix(FILE_SCHEME)?);
        let plain = path.is_absolute()
            && path
                .components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        (plain && path.starts_with(&self.root) && path != self.root).then(|| path.to_path_buf())
    }

    /// Whether `storage_uri` lies under the root, decided without I/O.
    pub fn in_scope(&self, storage_uri: &str) -> bool {
        self.scoped_path(storage_uri).is_some()
    }

    /// Opens the file, after resolving symlinks and checking the real path is still inside.
    async fn open(&self, storage_uri: &str) -> Result<Option<tokio::fs::File>> {
        let path = self
            .scoped_path(storage_uri)
            .ok_or_else(|| out_of_scope(storage_uri))?;
        let real = match tokio::fs::canonicalize(&path).await {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("resolving a stored object", e)),
        };
        if !real.starts_with(&self.canonical_root) {
            return Err(out_of_scope(storage_uri));
        }
        match tokio::fs::File::open(&real).await {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("opening a stored object", e)),
        }
    }

    /// The size of the file at `storage_uri`, `None` when there is none.
    pub async fn size(&self, storage_uri: &str) -> Result<Option<u64>> {
        let Some(file) = self.open(storage_uri).await? else {
            return Ok(None);
        };
        let metadata = file
            .metadata()
            .await
            .map_err(|e| io_error("reading a stored object", e))?;
        Ok(metadata.is_file().then_some(metadata.len()))
    }

    /// Streams `length` bytes (to the end when `None`) of the file at `storage_uri`, from `offset`.
    pub async fn read(&self, storage_uri: &str, range: ByteRange) -> Result<ByteStream> {
        let ByteRange { offset, length } = range;
        let mut file = self
            .open(storage_uri)
            .await?
            .ok_or_else(|| CatalogError::not_found(format!("no stored object at {storage_uri}")))?;
        file.seek(SeekFrom::Start(offset))
            .await
            .map_err(|e| io_error("reading a stored object", e))?;
        Ok(read_file(file.into_std().await, length, READ_CHUNK_BYTES))
    }
}

/// A URI outside every root this provider may read.
pub fn out_of_scope(storage_uri: &str) -> CatalogError {
    CatalogError::new(
        ErrorKind::FailedPrecondition,
        format!("{storage_uri} is outside this provider's storage; it was not opened"),
    )
}

/// The class of a local I/O failure: a full disk is RESOURCE_EXHAUSTED; a storage root that is
/// missing, read-only or not ours to write is FAILED_PRECONDITION (an operator must fix it, a
/// retry cannot); only what may pass by itself (interrupted, timed out, busy, a device error)
/// is UNAVAILABLE.
fn io_kind(kind: io::ErrorKind) -> ErrorKind {
    use io::ErrorKind as Io;
    match kind {
        Io::StorageFull | Io::QuotaExceeded | Io::FileTooLarge => ErrorKind::ResourceExhausted,
        Io::NotFound
        | Io::PermissionDenied
        | Io::ReadOnlyFilesystem
        | Io::NotADirectory
        | Io::IsADirectory
        | Io::AlreadyExists
        | Io::InvalidInput
        | Io::Unsupported => ErrorKind::FailedPrecondition,
        _ => ErrorKind::Unavailable,
    }
}

/// Maps a local I/O error into its class ([`io_kind`]), saying what to check when an operator
/// must act.
pub fn io_error(context: &str, error: io::Error) -> CatalogError {
    let kind = io_kind(error.kind());
    let advice = match kind {
        ErrorKind::FailedPrecondition => {
            "; check that the storage root (catalog.*.root_dir, DOCSTOKG_STORAGE_ROOT) exists and \
             this server may write it"
        }
        ErrorKind::ResourceExhausted => "; the storage root's filesystem is full: free space",
        _ => "; retry later",
    };
    CatalogError::new(kind, format!("{context}: {error}{advice}")).caused_by(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_only_transient_io_failures_are_unavailable() {
        assert_eq!(
            io_kind(io::ErrorKind::StorageFull),
            ErrorKind::ResourceExhausted
        );
        assert_eq!(
            io_kind(io::ErrorKind::PermissionDenied),
            ErrorKind::FailedPrecondition
        );
        assert_eq!(
            io_kind(io::ErrorKind::ReadOnlyFilesystem),
            ErrorKind::FailedPrecondition
        );
        assert_eq!(
            io_kind(io::ErrorKind::NotFound),
            ErrorKind::FailedPrecondition
        );
        assert_eq!(io_kind(io::ErrorKind::Interrupted), ErrorKind::Unavailable);
        assert_eq!(io_kind(io::ErrorKind::TimedOut), ErrorKind::Unavailable);
    }
}
