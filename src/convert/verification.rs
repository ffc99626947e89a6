//! Verify and VerifyAll: statuses, results, the VerifyAll request and its events.

use super::{none_if_empty, queries::filter_of};
use crate::{
    CatalogError, DEFAULT_VERIFY_CONCURRENCY, Result, VerificationResult, VerificationStatus,
    VerifyAllEvent, VerifyAllOptions, VerifySummary, proto,
};

impl From<VerificationStatus> for proto::VerificationStatus {
    fn from(s: VerificationStatus) -> Self {
        match s {
            VerificationStatus::Verified => Self::Verified,
            VerificationStatus::Mismatch => Self::Mismatch,
            VerificationStatus::Missing => Self::Missing,
            VerificationStatus::NoHash => Self::NoHash,
            VerificationStatus::OutOfScope => Self::OutOfScope,
        }
    }
}

impl TryFrom<proto::VerificationStatus> for VerificationStatus {
    type Error = CatalogError;

    fn try_from(s: proto::VerificationStatus) -> Result<Self> {
        Ok(match s {
            proto::VerificationStatus::Verified => Self::Verified,
            proto::VerificationStatus::Mismatch => Self::Mismatch,
            proto::VerificationStatus::Missing => Self::Missing,
            proto::VerificationStatus::NoHash => Self::NoHash,
            proto::VerificationStatus::OutOfScope => Self::OutOfScope,
            proto::VerificationStatus::Unspecified => {
                return Err(CatalogError::internal(
                    "the server sent an unspecified verification status",
                ));
            }
        })
    }
}

impl From<VerificationResult> for proto::VerificationResult {
    fn from(r: VerificationResult) -> Self {
        Self {
            record_id: r.record_id,
            status: proto::VerificationStatus::from(r.status) as i32,
            expected_sha256: r.expected_sha256.unwrap_or_default(),
            actual_sha256: r.actual_sha256.unwrap_or_default(),
            expected_bytes: r.expected_bytes,
            actual_bytes: r.actual_bytes.unwrap_or_default(),
            storage_uri: r.storage_uri.unwrap_or_default(),
            message: r.message,
        }
    }
}

impl TryFrom<proto::VerificationResult> for VerificationResult {
    type Error = CatalogError;

    fn try_from(r: proto::VerificationResult) -> Result<Self> {
        let status = VerificationStatus::try_from(r.status())?;
        let actual_sha256 = none_if_empty(r.actual_sha256);
        let actual_bytes = actual_sha256.as_ref().map(|_| r.actual_bytes);
        Ok(Self {
            record_id: r.record_id,
            status,
            expected_sha256: none_if_empty(r.expected_sha256),
            actual_sha256,
            expected_bytes: r.expected_bytes,
            actual_bytes,
            storage_uri: none_if_empty(r.storage_uri),
            message: r.message,
        })
    }
}

mirror_conversions!(
    VerifySummary, proto::VerifySummary;
    fields: checked, verified, mismatched, missing, no_hash, out_of_scope, skipped
);

impl From<VerifyAllEvent> for proto::VerifyAllResponse {
    fn from(e: VerifyAllEvent) -> Self {
        use proto::verify_all_response::Event;
        let event = match e {
            VerifyAllEvent::Started { matching_records } => {
                Event::Started(proto::VerifyAllStarted { matching_records })
            }
            VerifyAllEvent::Result(result) => Event::Result(result.into()),
            VerifyAllEvent::Summary(summary) => Event::Summary(summary.into()),
        };
        Self { event: Some(event) }
    }
}

impl TryFrom<proto::VerifyAllResponse> for VerifyAllEvent {
    type Error = CatalogError;

    fn try_from(r: proto::VerifyAllResponse) -> Result<Self> {
        use proto::verify_all_response::Event;
        match r.event {
            Some(Event::Started(s)) => Ok(Self::Started {
                matching_records: s.matching_records,
            }),
            Some(Event::Result(result)) => Ok(Self::Result(result.try_into()?)),
            Some(Event::Summary(summary)) => Ok(Self::Summary(summary.into())),
            None => Err(CatalogError::internal(
                "the server sent an empty VerifyAll message",
            )),
        }
    }
}

impl TryFrom<proto::VerifyAllRequest> for VerifyAllOptions {
    type Error = CatalogError;

    /// A `sample_rate` of 0 means 1 (every record); a `concurrency` of 0 means
    /// [`DEFAULT_VERIFY_CONCURRENCY`].
    fn try_from(request: proto::VerifyAllRequest) -> Result<Self> {
        Ok(Self {
            filter: filter_of(request.filter)?,
            sample_rate: if request.sample_rate == 0.0 {
                1.0
            } else {
                request.sample_rate
            },
            concurrency: match request.concurrency {
                0 => DEFAULT_VERIFY_CONCURRENCY,
                n => usize::try_from(n).unwrap_or(usize::MAX),
            },
        })
    }
}

impl From<VerifyAllOptions> for proto::VerifyAllRequest {
    /// A concurrency beyond `u32` is sent as `u32::MAX`, which the server rejects naming the
    /// field, as an in-process provider does.
    fn from(options: VerifyAllOptions) -> Self {
        Self {
            filter: Some(options.filter.into()),
            sample_rate: options.sample_rate,
            concurrency: u32::try_from(options.concurrency).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_verify_all_zeroes_mean_the_defaults() {
        let options =
            VerifyAllOptions::try_from(proto::VerifyAllRequest::default()).expect("valid");
        assert_eq!(options, VerifyAllOptions::default());
    }

    #[test]
    fn test_verify_all_round_trips_rate_and_concurrency() {
        let options = VerifyAllOptions {
            sample_rate: 0.5,
            concurrency: 8,
            ..VerifyAllOptions::default()
        };
        let wire = proto::VerifyAllRequest::from(options.clone());
        assert_eq!((wire.sample_rate, wire.concurrency), (0.5, 8));
        assert_eq!(VerifyAllOptions::try_from(wire).expect("valid"), options);
    }
}
