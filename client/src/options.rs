//! How a [`CatalogClient`](crate::CatalogClient) connects: endpoint normalisation and options.

use std::time::Duration;

use docstokg_catalog::{CatalogError, Result};

use crate::tls::ClientTls;

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
    /// TLS: the endpoint is then `https://` (a bare `host:port` gets it); `None` speaks plaintext.
    pub tls: Option<ClientTls>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            token: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            request_timeout: None,
            tls: None,
        }
    }
}

impl ClientOptions {
    /// The same options with a bearer token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The same options over TLS.
    pub fn with_tls(mut self, tls: ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// The endpoint as a URI: surrounding whitespace removed and `http://` prefixed when it has no
/// scheme, so `127.0.0.1:50051` and `http://127.0.0.1:50051` name the same server.
pub fn normalize_endpoint(endpoint: &str) -> Result<String> {
    normalize_endpoint_with_scheme(endpoint, "http")
}

/// The endpoint for a connection with or without TLS: a bare `host:port` gets `https://` or
/// `http://`; an explicit scheme that contradicts the TLS setting is `InvalidArgument`.
pub(crate) fn endpoint_for(endpoint: &str, tls: bool) -> Result<String> {
    let normalized = normalize_endpoint_with_scheme(endpoint, if tls { "https" } else { "http" })?;
    match (tls, normalized.starts_with("https://")) {
        (true, false) => Err(CatalogError::invalid(
            "endpoint",
            format!(
                "{normalized:?} is plaintext but TLS options are set; use https://host:port or host:port"
            ),
        )),
        (false, true) => Err(CatalogError::invalid(
            "endpoint",
            format!(
                "{normalized:?} asks for TLS: give the CA that signed the server's certificate (ClientOptions::tls, catalogctl --tls-ca-file)"
            ),
        )),
        _ => Ok(normalized),
    }
}

fn normalize_endpoint_with_scheme(endpoint: &str, scheme: &str) -> Result<String> {
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
        Ok(format!("{scheme}://{endpoint}"))
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
    fn test_tls_endpoint_gets_https_and_a_contradicting_scheme_is_refused() {
        assert_eq!(
            endpoint_for("127.0.0.1:1", true).expect("tls"),
            "https://127.0.0.1:1"
        );
        assert_eq!(
            endpoint_for("127.0.0.1:1", false).expect("plain"),
            "http://127.0.0.1:1"
        );
        for (endpoint, tls) in [("http://127.0.0.1:1", true), ("https://127.0.0.1:1", false)] {
            let error = endpoint_for(endpoint, tls).expect_err("contradiction");
            assert_eq!(error.field.as_deref(), Some("endpoint"), "{endpoint}");
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
