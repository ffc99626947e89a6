//! Verification: re-hashing stored bytes and comparing them with the record.

use serde::{Deserialize, Serialize};

use crate::RecordFilter;

/// Records VerifyAll verifies at once unless told otherwise (the wire's 0 means this).
pub const DEFAULT_VERIFY_CONCURRENCY: usize = 4;

/// Outcome of verifying one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationStatus {
    /// The stored bytes match the recorded sha256 and size.
    Verified,
    /// The stored bytes differ from the record.
    Mismatch,
    /// No bytes where the record says they are.
    Missing,
    /// The record has no sha256 to compare with.
    NoHash,
    /// The storage_uri lies outside the provider's storage; it was not opened.
    OutOfScope,
}

/// Result of verifying one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationResult {
    /// The record whose bytes were re-hashed.
    pub record_id: i64,
    /// Whether the stored bytes still match the record.
    pub status: VerificationStatus,
    /// The recorded sha256.
    pub expected_sha256: Option<String>,
    /// The sha256 of the stored bytes, when read.
    pub actual_sha256: Option<String>,
    /// The recorded size.
    pub expected_bytes: i64,
    /// The size of the stored bytes, when read.
    pub actual_bytes: Option<i64>,
    /// The storage_uri that was checked.
    pub storage_uri: Option<String>,
    /// Human-readable detail.
    pub message: String,
}

/// Which records VerifyAll re-hashes, what fraction of them, and how many at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyAllOptions {
    /// Which records to verify.
    pub filter: RecordFilter,
    /// Fraction of records to verify, in (0, 1]; deterministic per id.
    pub sample_rate: f64,
    /// Records verified at once (1..=64).
    pub concurrency: usize,
}

impl Default for VerifyAllOptions {
    fn default() -> Self {
        Self {
            filter: RecordFilter::default(),
            sample_rate: 1.0,
            concurrency: DEFAULT_VERIFY_CONCURRENCY,
        }
    }
}

impl VerifyAllOptions {
    /// Whether record `id` falls in the sample: a fixed hash of the id compared with the rate, so
    /// the same rate picks the same records on every run.
    pub fn samples(&self, id: i64) -> bool {
        if self.sample_rate >= 1.0 {
            return true;
        }
        // Fibonacci hashing spreads consecutive ids evenly over [0, 1).
        let mixed = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed as f64 / u64::MAX as f64) < self.sample_rate
    }
}

/// Totals of a VerifyAll run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySummary {
    /// Records verified.
    pub checked: i64,
    /// VERIFIED results.
    pub verified: i64,
    /// MISMATCH results.
    pub mismatched: i64,
    /// MISSING results.
    pub missing: i64,
    /// NO_HASH results.
    pub no_hash: i64,
    /// OUT_OF_SCOPE results.
    pub out_of_scope: i64,
    /// Records left out by sampling.
    pub skipped: i64,
}

impl VerifySummary {
    /// Counts one result.
    pub fn add(&mut self, status: VerificationStatus) {
        self.checked += 1;
        let counter = match status {
            VerificationStatus::Verified => &mut self.verified,
            VerificationStatus::Mismatch => &mut self.mismatched,
            VerificationStatus::Missing => &mut self.missing,
            VerificationStatus::NoHash => &mut self.no_hash,
            VerificationStatus::OutOfScope => &mut self.out_of_scope,
        };
        *counter += 1;
    }
}

/// One message of a VerifyAll stream: started, a result per record, then the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyAllEvent {
    /// First: how many records match the filter (before sampling).
    Started {
        /// Records matching the filter.
        matching_records: i64,
    },
    /// One verified record.
    Result(VerificationResult),
    /// Last: the totals.
    Summary(VerifySummary),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_sample_rate_picks_about_the_requested_fraction() {
        let options = VerifyAllOptions {
            sample_rate: 0.25,
            ..VerifyAllOptions::default()
        };
        let picked = (1..=10_000).filter(|id| options.samples(*id)).count();
        assert!(
            (2_300..2_700).contains(&picked),
            "picked {picked} of 10000 at rate 0.25"
        );
    }

    #[test]
    fn test_full_rate_picks_everything() {
        let options = VerifyAllOptions::default();
        assert!((1..=1000).all(|id| options.samples(id)));
    }
}
