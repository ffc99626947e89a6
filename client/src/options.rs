//! How a [`CatalogClient`](crate::CatalogClient) connects: endpoint normalisation and options.

use std::time::Duration;

use docstokg_catalog::{CatalogError, Result};

/// Default limit on establishing the connection.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of [`CatalogClient::connect_with`](crate::CatalogClient::connect_with).
#[derive(Clone)]
pub struct ClientOptions {
    /// Bearer token sent as `authorization: Bearer <token>` metadata on every catalog call
    /// (the `grpc.health.v1` check is sent without it).
    pub token: Option<String>,
    /// Limit on establishing the TCP/HTTP2 connection; `None` waits as long as the OS does.
    /// Defaults to 10 seconds.
    pub connect_timeout: Option<Duration>,
    /// Deadline of each unary call, enforced by the client and sent to the server as
    /// `grpc-timeout`. Streaming calls (list, duplicates, verify-all, uploads, downloads) are not
    /// bounded by it, since their length depends on the data. Defaults to no deadline.
    pub request_timeout: Option<Duration>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            token: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            request_timeout: None,
        }
    }
}

impl ClientOptions {
    /// The same options with a bearer token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// The endpoint as a URI: surrounding whitespace removed and `http://` prefixed when it has no
/// scheme, so `127.0.0.1:50051` and `http://127.0.0.1:50051` name the same server.
pub fn normalize_endpoint(endpoint: &str) -> Result<String> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(CatalogError::invalid(
            "endpoint",
            "is empty; expected host:port or http://host:port",
        ));
    }
    if endpoint.contains("://") {
        Ok(endpoint.to_owned())
    } else {
        Ok(format!("http://{endpoint}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_endpoint_without_scheme_gets_http_and_with_scheme_is_kept() {
        let cases = [
            ("127.0.0.1:50051", "http://127.0.0.1:50051"),
            (" localhost:1 \n", "http://localhost:1"),
            ("http://127.0.0.1:50051", "http://127.0.0.1:50051"),
            ("https://catalog.example:443", "https://catalog.example:443"),
        ];
        for (given, normalized) in cases {
            assert_eq!(normalize_endpoint(given).expect("valid"), normalized);
        }
    }

    #[test]
    fn test_empty_endpoint_is_invalid() {
        let error = normalize_endpoint("  ").expect_err("empty");
        assert_eq!(error.field.as_deref(), Some("endpoint"));
    }

    #[test]
    fn test_debug_redacts_token() {
        let options = ClientOptions::default().with_token("secret");
        assert!(!format!("{options:?}").contains("secret"));
    }
}
