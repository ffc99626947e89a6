//! Bearer-token authentication: a tonic interceptor that adds `authorization` metadata.

use docstokg_catalog::{CatalogError, Result};
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Adds `authorization: Bearer <token>` to every request when a token is configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct BearerAuth {
    header: Option<AsciiMetadataValue>,
}

impl BearerAuth {
    /// An interceptor sending `token`, or nothing when there is none.
    pub(crate) fn new(token: Option<&str>) -> Result<Self> {
        let Some(token) = token else {
            return Ok(Self::default());
        };
        let token = token.trim();
        if token.is_empty() {
            return Err(CatalogError::invalid(
                "token",
                "is empty; pass a token or none at all",
            ));
        }
        let mut header = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| {
            CatalogError::invalid(
                "token",
                "contains characters that are not allowed in a header",
            )
        })?;
        header.set_sensitive(true);
        Ok(Self {
            header: Some(header),
        })
    }
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(header) = &self.header {
            request
                .metadata_mut()
                .insert("authorization", header.clone());
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_token_becomes_bearer_header() {
        let mut auth = BearerAuth::new(Some("abc\n")).expect("valid token");
        let request = auth.call(Request::new(())).expect("intercepted");
        let header = request.metadata().get("authorization").expect("header set");
        assert_eq!(header.to_str().expect("ascii"), "Bearer abc");
    }

    #[test]
    fn test_no_token_sends_no_header() {
        let mut auth = BearerAuth::new(None).expect("no token");
        let request = auth.call(Request::new(())).expect("intercepted");
        assert!(request.metadata().get("authorization").is_none());
    }

    #[test]
    fn test_bad_tokens_are_invalid_arguments() {
        assert!(BearerAuth::new(Some("  ")).is_err());
        assert!(BearerAuth::new(Some("tok\u{7f}en")).is_err());
    }
}
