//! Optional bearer-token authentication of catalog calls (health and reflection stay open).

use std::{path::Path, sync::Arc};

use tonic::{Request, Status, service::Interceptor};

/// Checks `authorization: Bearer <token>` on every request when a token is configured.
#[derive(Clone, Default)]
pub struct BearerAuth {
    token: Option<Arc<str>>,
}

impl BearerAuth {
    /// No authentication.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Requires the token stored (whitespace-trimmed) in `path`.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let token = std::fs::read_to_string(path)?.trim().to_owned();
        if token.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is empty", path.display()),
            ));
        }
        Ok(Self {
            token: Some(token.into()),
        })
    }

    /// Whether calls must authenticate.
    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Interceptor for BearerAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.token else {
            return Ok(request);
        };
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Status::unauthenticated("missing credentials: send `authorization: Bearer <token>`")
            })?;
        if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
            Ok(request)
        } else {
            Err(Status::unauthenticated("invalid bearer token"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(header: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(value) = header {
            request
                .metadata_mut()
                .insert("authorization", value.parse().expect("ascii"));
        }
        request
    }

    #[test]
    fn test_disabled_auth_lets_everything_through() {
        assert!(BearerAuth::disabled().call(request_with(None)).is_ok());
    }

    #[test]
    fn test_enabled_auth_requires_the_exact_token() {
        let mut auth = BearerAuth {
            token: Some("s3cret".into()),
        };
        assert!(auth.call(request_with(Some("Bearer s3cret"))).is_ok());
        assert_eq!(
            auth.call(request_with(Some("Bearer wrong")))
                .expect_err("wrong")
                .code(),
            tonic::Code::Unauthenticated
        );
        assert_eq!(
            auth.call(request_with(None)).expect_err("missing").code(),
            tonic::Code::Unauthenticated
        );
    }
}
