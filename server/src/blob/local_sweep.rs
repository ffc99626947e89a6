//! The garbage collector's side of the local blob store: listing `ROOT/cas/sha256` in hash order
//! from where the last page ended, removing an object, and sweeping `ROOT/tmp` of what failed or
//! killed uploads left. Every walk runs on a blocking thread.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};

use super::{LeftoverReport, StoredObject};

/// Whether `name` is a lowercase hex string of `len` characters (a CAS directory or file name).
fn is_hex(name: &str, len: usize) -> bool {
    name.len() == len
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The names in `dir` that are lowercase hex of `len` characters, sorted; none when `dir` is
/// missing.
fn hex_names(dir: &Path, len: usize) -> io::Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut names = Vec::new();
    for entry in entries {
        if let Ok(name) = entry?.file_name().into_string()
            && is_hex(&name, len)
        {
            names.push(name);
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// Up to `limit` objects under `cas` (`ROOT/cas/sha256`) with hashes above `after`, ascending.
/// Directories wholly before `after` are skipped without being read.
pub fn list(cas: &Path, after: Option<&str>, limit: usize) -> io::Result<Vec<StoredObject>> {
    let after = after.unwrap_or("");
    let mut found = Vec::new();
    for first in hex_names(cas, 2)? {
        if first.as_str() < after.get(..2).unwrap_or("") {
            continue;
        }
        for second in hex_names(&cas.join(&first), 2)? {
            let prefix = format!("{first}{second}");
            if prefix.as_str() < after.get(..4).unwrap_or("") {
                continue;
            }
            let dir = cas.join(&first).join(&second);
            for name in hex_names(&dir, 64)? {
                if name.as_str() <= after || !name.starts_with(&prefix) {
                    continue;
                }
                let metadata = match fs::metadata(dir.join(&name)) {
                    Ok(metadata) => metadata,
                    // Removed since the directory was read.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                };
                found.push(StoredObject {
                    sha256: name,
                    bytes: metadata.len(),
                    modified: DateTime::<Utc>::from(metadata.modified()?),
                });
                if found.len() == limit {
                    return Ok(found);
                }
            }
        }
    }
    Ok(found)
}

/// Removes `path`; false when it was already gone. The directory entry is synced, so a removal
/// the collector reports survives a crash.
pub fn remove(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => {
            if let Some(parent) = path.parent() {
                fs::File::open(parent)?.sync_all()?;
            }
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// Temporary files younger than this are never swept, whatever the grace period: an upload
/// creates its file and only then locks it, and a sweep in between would take the file away.
const YOUNGEST_SWEPT: chrono::Duration = chrono::Duration::seconds(10);

/// Removes (unless `dry_run`) the files in `tmp` last modified before `before` (and at least
/// [`YOUNGEST_SWEPT`] ago) that no upload holds locked.
pub fn sweep(tmp: &Path, before: DateTime<Utc>, dry_run: bool) -> io::Result<LeftoverReport> {
    let before = before.min(Utc::now() - YOUNGEST_SWEPT);
    let mut report = LeftoverReport::default();
    for entry in fs::read_dir(tmp)? {
        let path: PathBuf = entry?.path();
        let Ok(metadata) = fs::metadata(&path) else {
            continue;
        };
        if !metadata.is_file() || DateTime::<Utc>::from(metadata.modified()?) >= before {
            continue;
        }
        let Ok(file) = fs::File::open(&path) else {
            continue;
        };
        // Held by a live upload (of this or another process): leave it.
        if file.try_lock().is_err() {
            continue;
        }
        if !dry_run {
            remove(&path)?;
        }
        report.temporary += 1;
        report.temporary_bytes += metadata.len();
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(cas: &Path, sha: &str) {
        let dir = cas.join(&sha[0..2]).join(&sha[2..4]);
        fs::create_dir_all(&dir).expect("dir");
        fs::write(dir.join(sha), sha.as_bytes()).expect("write");
    }

    #[test]
    fn test_list_pages_in_hash_order_and_resumes_after_a_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hashes: Vec<String> = ["ff", "00", "a1", "a0", "0f"]
            .iter()
            .map(|p| format!("{p}{}", "3".repeat(62)))
            .collect();
        for hash in &hashes {
            put(dir.path(), hash);
        }
        fs::write(dir.path().join("not-hex"), b"x").expect("stray");
        let mut sorted = hashes.clone();
        sorted.sort();
        let first = list(dir.path(), None, 2).expect("list");
        assert_eq!(
            first.iter().map(|o| &o.sha256).collect::<Vec<_>>(),
            vec![&sorted[0], &sorted[1]]
        );
        let rest = list(dir.path(), Some(&first[1].sha256), 10).expect("list");
        assert_eq!(
            rest.iter().map(|o| o.sha256.clone()).collect::<Vec<_>>(),
            sorted[2..].to_vec()
        );
        assert_eq!(rest[0].bytes, 64);
    }

    #[test]
    fn test_sweep_keeps_young_and_locked_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("upload-old"), b"old").expect("write");
        let held = dir.path().join("upload-held");
        fs::write(&held, b"held").expect("write");
        let lock = fs::File::open(&held).expect("open");
        lock.try_lock().expect("lock");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        for name in ["upload-old", "upload-held"] {
            fs::File::options()
                .write(true)
                .open(dir.path().join(name))
                .expect("open")
                .set_modified(old)
                .expect("mtime");
        }
        let future = Utc::now() + chrono::Duration::seconds(60);
        let dry = sweep(dir.path(), future, true).expect("dry run");
        assert_eq!(dry.temporary, 1);
        assert!(
            dir.path().join("upload-old").exists(),
            "a dry run removes nothing"
        );
        let young =
            sweep(dir.path(), Utc::now() - chrono::Duration::hours(1), false).expect("sweep");
        assert_eq!(young.temporary, 0, "young files stay");
        let fresh = dir.path().join("upload-just-created");
        fs::write(&fresh, b"new").expect("write");
        let swept = sweep(dir.path(), future, false).expect("sweep");
        assert_eq!((swept.temporary, swept.temporary_bytes), (1, 3));
        assert!(!dir.path().join("upload-old").exists());
        assert!(held.exists(), "a file an upload holds stays");
        assert!(
            fresh.exists(),
            "a file seconds old stays, even with no grace period"
        );
    }
}
