//! The one place where S3 SDK errors become catalog errors.

use super::*;

/// The HTTP status of a service error.
pub(super) fn status_of<E>(
    error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}

/// Maps an SDK error: unreachable, throttled or failing stores are `Unavailable` (retryable, after
/// the SDK's own retries), a missing object `NotFound`, anything else a bug.
pub(super) fn from_sdk<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    context: &str,
    error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> CatalogError {
    let status = status_of(&error);
    let code = error.code().unwrap_or_default().to_owned();
    let kind = match (&error, status) {
        (
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_),
            _,
        ) => ErrorKind::Unavailable,
        (_, Some(404)) => ErrorKind::NotFound,
        (_, Some(403)) => ErrorKind::Unavailable,
        (_, Some(status)) if status == 429 || status >= 500 => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    let detail = aws_sdk_s3::error::DisplayErrorContext(&error);
    let advice = match (kind, status) {
        (ErrorKind::Unavailable, Some(403)) => {
            "; the object store denied access: check the credentials and bucket policy"
        }
        (ErrorKind::Unavailable, _) => "; the object store is unreachable or busy, retry later",
        _ => "",
    };
    if kind == ErrorKind::Internal {
        tracing::error!(%detail, context, "object store error");
    } else {
        tracing::warn!(%detail, context, "object store unavailable");
    }
    let code = if code.is_empty() {
        String::new()
    } else {
        format!("{code}: ")
    };
    CatalogError::new(kind, format!("{context}: {code}{detail}{advice}"))
}
