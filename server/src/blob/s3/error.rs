//! The one place where S3 SDK errors become catalog errors. The SDK error is kept as the cause;
//! the service logs it once, at the edge.

use super::*;

/// The HTTP status of a service error.
pub(super) fn status_of<E>(
    error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}

/// The class of an S3 failure. Only what a retry can cure is `Unavailable`: an unreachable,
/// throttled or failing store. Denied access is `PermissionDenied` and a missing bucket or a
/// wrong region `FailedPrecondition`: both need an operator, so clients must not retry them. A
/// missing object is `NotFound`; any other refusal is a request this code should not have sent.
fn kind_of(transport_failed: bool, status: Option<u16>, code: &str) -> ErrorKind {
    match (transport_failed, status, code) {
        (true, _, _) => ErrorKind::Unavailable,
        (_, _, "NoSuchBucket" | "PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            ErrorKind::FailedPrecondition
        }
        (_, Some(401 | 403), _) => ErrorKind::PermissionDenied,
        (_, Some(301), _) => ErrorKind::FailedPrecondition,
        (_, Some(404), _) => ErrorKind::NotFound,
        (_, Some(status), _) if status == 408 || status == 429 || status >= 500 => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Internal,
    }
}

/// What an operator should do about a failure of `kind`.
fn advice(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::PermissionDenied => {
            "; the object store denied access: check the credentials (AWS_ACCESS_KEY_ID, \
             AWS_SECRET_ACCESS_KEY or the AWS chain) and the bucket policy"
        }
        ErrorKind::FailedPrecondition => {
            "; check catalog.cloud.s3_bucket (DOCSTOKG_S3_BUCKET) and aws_region (AWS_REGION): the \
             bucket must exist in that region"
        }
        ErrorKind::Unavailable => "; the object store is unreachable or busy, retry later",
        _ => "",
    }
}

/// Maps an SDK error into its class ([`kind_of`]), with what to do about it.
pub(super) fn from_sdk<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    context: &str,
    error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> CatalogError {
    let status = status_of(&error);
    let code = error.code().unwrap_or_default().to_owned();
    let transport_failed = matches!(
        error,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    );
    let kind = kind_of(transport_failed, status, &code);
    let detail = aws_sdk_s3::error::DisplayErrorContext(&error);
    let advice = advice(kind);
    let code = if code.is_empty() {
        String::new()
    } else {
        format!("{code}: ")
    };
    let message = format!("{context}: {code}{detail}{advice}");
    CatalogError::new(kind, message).caused_by(error)
}

/// Maps a failure while streaming an object's body: the connection broke, so it is retryable.
pub(super) fn from_body(
    context: &str,
    error: aws_sdk_s3::primitives::ByteStreamError,
) -> CatalogError {
    CatalogError::unavailable(format!("{context}: {error}; retry the read")).caused_by(error)
}

/// Maps a task of the upload that panicked or was cancelled: a bug, never the caller's fault.
pub(super) fn from_join(context: &str, error: tokio::task::JoinError) -> CatalogError {
    CatalogError::internal(format!("{context}: {error}")).caused_by(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_only_what_a_retry_cures_is_unavailable() {
        assert_eq!(kind_of(true, None, ""), ErrorKind::Unavailable);
        assert_eq!(
            kind_of(false, Some(503), "SlowDown"),
            ErrorKind::Unavailable
        );
        assert_eq!(kind_of(false, Some(429), ""), ErrorKind::Unavailable);
        assert_eq!(
            kind_of(false, Some(403), "AccessDenied"),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            kind_of(false, Some(404), "NoSuchBucket"),
            ErrorKind::FailedPrecondition
        );
        assert_eq!(
            kind_of(false, Some(301), "PermanentRedirect"),
            ErrorKind::FailedPrecondition
        );
        assert_eq!(kind_of(false, Some(404), "NoSuchKey"), ErrorKind::NotFound);
        assert_eq!(
            kind_of(false, Some(400), "InvalidArgument"),
            ErrorKind::Internal
        );
    }
}
