//! Download manifests: one JSON object per line, mapped onto a document to register.

use std::path::Path;

use docstokg_catalog::{NewDocument, validation};
use serde::Deserialize;

use crate::jsonl;

/// The field mapping, shown by `catalogctl import --help`.
pub const FIELD_MAPPING: &str = "\
Formats:
  records   One DocumentRecord per line, as `catalogctl export` writes it: id, artifact_id,
            source_url, resolver, content_type, bytes, sha256, storage_uri, created_at,
            updated_at (RFC 3339), run_id. Imported with ImportRecords: timestamps and
            storage_uri are kept as they are (bytes are not copied); ids are kept only with
            --keep-ids, and only where the target has no record with that id.
  manifest  A download manifest, registered with RegisterOrGetBatch (created_at is the time of
            the import). Field mapping, one JSON object per line:
              artifact_id            -> artifact_id   (required)
              url or source_url      -> source_url    (required; if both, they must agree)
              resolver               -> resolver      (required)
              content_type           -> content_type
              sha256                 -> sha256        (64 hex characters, any case)
              size or bytes          -> bytes         (integer >= 0; default 0; if both, agree)
              path                   -> storage_uri = file://PATH (PATH must be absolute)
              storage_uri            -> storage_uri   (file:// or s3://; if path too, they agree)
              run_id                 -> run_id
            Other fields are ignored; null and \"\" mean absent.

Both formats: empty lines are ignored; each line is validated before it is sent. A malformed
line is reported on stderr as FILE:LINE: reason. With --on-error stop (the default) the import
sends every line before it, then stops with exit code 2; with --on-error skip it goes on and
exits with code 1 at the end. The key (artifact_id, source_url, resolver) makes an import
idempotent: running it again creates nothing new, so a stopped import can simply be rerun.";

/// One manifest line as written by a downloader; every field optional until checked.
#[derive(Debug, Deserialize)]
struct Entry {
    artifact_id: Option<String>,
    url: Option<String>,
    source_url: Option<String>,
    resolver: Option<String>,
    content_type: Option<String>,
    sha256: Option<String>,
    size: Option<i64>,
    bytes: Option<i64>,
    path: Option<String>,
    storage_uri: Option<String>,
    run_id: Option<String>,
}

/// One manifest line as a valid document, or what is wrong with it.
pub fn parse_line(line: &str) -> Result<NewDocument, String> {
    let entry: Entry = serde_json::from_str(jsonl::object(line)?)
        .map_err(|error| format!("invalid manifest entry: {}", jsonl::json_error(&error)))?;
    let path_uri = entry
        .path
        .filter(|p| !p.is_empty())
        .map(file_uri)
        .transpose()?;
    let document = NewDocument {
        artifact_id: required("artifact_id", entry.artifact_id)?,
        source_url: required(
            "url",
            either("url", entry.url, "source_url", entry.source_url)?,
        )?,
        resolver: required("resolver", entry.resolver)?,
        content_type: entry.content_type,
        bytes: either("size", entry.size, "bytes", entry.bytes)?.unwrap_or(0),
        sha256: entry.sha256,
        storage_uri: either("path", path_uri, "storage_uri", entry.storage_uri)?,
        run_id: entry.run_id,
    };
    validation::new_document(document).map_err(|error| error.message)
}

/// `file://PATH` for an absolute local path.
fn file_uri(path: String) -> Result<String, String> {
    if !Path::new(&path).is_absolute() {
        return Err(format!("path: must be an absolute path, got {path:?}"));
    }
    Ok(format!("file://{path}"))
}

/// A required field, present and not null.
fn required(name: &str, value: Option<String>) -> Result<String, String> {
    value.ok_or_else(|| format!("{name}: is required"))
}

/// The value of one of two synonymous fields; both may be given only with the same value.
fn either<T: PartialEq + std::fmt::Debug>(
    first_name: &str,
    first: Option<T>,
    second_name: &str,
    second: Option<T>,
) -> Result<Option<T>, String> {
    match (first, second) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "{first_name} ({a:?}) and {second_name} ({b:?}) disagree; give one of them"
        )),
        (a, b) => Ok(a.or(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_manifest_fields_are_mapped() {
        let line = r#"{"artifact_id":"a","url":"https://x/y","resolver":"r","size":12,
            "path":"/data/a.pdf","sha256":"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB",
            "content_type":"application/pdf","run_id":"run-1","status":"ok","extra":[1]}"#
            .replace('\n', "");
        let document = parse_line(&line).expect("valid");
        assert_eq!(document.source_url, "https://x/y");
        assert_eq!(document.bytes, 12);
        assert_eq!(document.storage_uri.as_deref(), Some("file:///data/a.pdf"));
        assert_eq!(document.sha256, Some("ab".repeat(32)));
        assert_eq!(document.run_id.as_deref(), Some("run-1"));
    }

    #[test]
    fn test_synonyms_and_defaults() {
        let line = r#"{"artifact_id":"a","source_url":"https://x","resolver":"r","bytes":3,"storage_uri":"s3://b/k","content_type":""}"#;
        let document = parse_line(line).expect("valid");
        assert_eq!(document.bytes, 3);
        assert_eq!(document.storage_uri.as_deref(), Some("s3://b/k"));
        assert_eq!(document.content_type, None);
        let minimal = parse_line(r#"{"artifact_id":"a","url":"u","resolver":"r","size":null}"#);
        assert_eq!(minimal.expect("valid").bytes, 0);
    }

    #[test]
    fn test_bad_entries_are_explained() {
        let reason = |line: &str| parse_line(line).expect_err("malformed");
        assert!(reason(r#"{"url":"u","resolver":"r"}"#).contains("artifact_id"));
        assert!(reason(r#"{"artifact_id":"a","resolver":"r"}"#).contains("url"));
        assert!(reason(r#"{"artifact_id":"a","url":"u"}"#).contains("resolver"));
        let relative = r#"{"artifact_id":"a","url":"u","resolver":"r","path":"x/y.pdf"}"#;
        assert!(reason(relative).contains("absolute"));
        let both = r#"{"artifact_id":"a","url":"u","source_url":"v","resolver":"r"}"#;
        assert!(reason(both).contains("disagree"));
        let negative = r#"{"artifact_id":"a","url":"u","resolver":"r","size":-1}"#;
        assert!(reason(negative).contains("bytes"));
        assert!(reason(r#"["a","u","r"]"#).contains("object"));
    }
}
