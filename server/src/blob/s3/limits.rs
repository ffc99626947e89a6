//! The limits S3 puts on multipart uploads and copies, in one place, and the checks an upload
//! must pass before any byte is sent. The configuration validates `multipart_part_bytes` against
//! these; the store refuses uploads that could only fail half way.
//!
//! Source: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>.

use docstokg_catalog::{CatalogError, ErrorKind, Result};

/// Smallest part of a multipart upload, except the last one (5 MiB):
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// Largest part of a multipart upload (5 GiB):
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Most parts of one multipart upload (10,000), numbered 1 to 10,000:
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>.
pub const MAX_PARTS: u64 = 10_000;

/// Largest object a single CopyObject request copies (5 GiB); larger ones would need a
/// multipart copy: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>.
pub const MAX_COPY_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The largest upload [`MAX_PARTS`] parts of `part_bytes` hold.
pub fn max_multipart_bytes(part_bytes: u64) -> u64 {
    part_bytes.saturating_mul(MAX_PARTS)
}

/// Refuses, with RESOURCE_EXHAUSTED, an upload of `bytes` (declared, or sent so far) that needs
/// more than [`MAX_PARTS`] parts of `part_bytes`.
pub(super) fn check_part_count(bytes: u64, part_bytes: u64) -> Result<()> {
    if bytes <= max_multipart_bytes(part_bytes) {
        return Ok(());
    }
    Err(CatalogError::new(
        ErrorKind::ResourceExhausted,
        format!(
            "the upload is larger than {} bytes, the most S3's limit of {MAX_PARTS} parts holds at \
             this store's part size of {part_bytes} bytes (catalog.cloud.multipart_part_bytes)",
            max_multipart_bytes(part_bytes)
        ),
    ))
}

/// Refuses, with FAILED_PRECONDITION, moving an upload of `bytes` to its content address with
/// one CopyObject: over [`MAX_COPY_BYTES`] the client must declare the hash up front.
pub(super) fn check_copy_size(bytes: u64) -> Result<()> {
    if bytes <= MAX_COPY_BYTES {
        return Ok(());
    }
    Err(CatalogError::new(
        ErrorKind::FailedPrecondition,
        "uploads over 5 GiB to S3 must declare expected_sha256, so they can go straight to their key",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_ten_thousand_parts_fit_and_one_byte_more_is_resource_exhausted() {
        let part = MIN_PART_BYTES;
        check_part_count(part * MAX_PARTS, part).expect("exactly 10,000 parts");
        let error = check_part_count(part * MAX_PARTS + 1, part).expect_err("10,001 parts");
        assert_eq!(error.kind, ErrorKind::ResourceExhausted);
        assert!(error.message.contains("10000 parts"), "{}", error.message);
    }

    #[test]
    fn test_copies_over_five_gib_need_a_declared_hash() {
        check_copy_size(MAX_COPY_BYTES).expect("5 GiB copies");
        let error = check_copy_size(MAX_COPY_BYTES + 1).expect_err("over 5 GiB");
        assert_eq!(error.kind, ErrorKind::FailedPrecondition);
    }
}
