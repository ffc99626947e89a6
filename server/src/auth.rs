//! Optional bearer-token authentication of catalog calls (health and reflection stay open).
//!
//! The token file holds one token per line, each read-write unless prefixed `read-only `
//! (`read-write ` may be written out too; blank lines and `#` comments are skipped). Every
//! presented token is compared with every configured one in constant time. The file is read
//! again on [`BearerAuth::reload`] (SIGHUP), without dropping connections; a file that no longer
//! parses keeps the tokens in force. A matching token's [`Access`] goes into the request's
//! extensions, where the write RPCs check it.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use subtle::ConstantTimeEq;
use tonic::{Request, Status, service::Interceptor};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every RPC.
    ReadWrite,
    /// The read RPCs only; writes are PERMISSION_DENIED.
    ReadOnly,
}

/// The configured tokens and where they came from.
struct Tokens {
    path: PathBuf,
    tokens: Vec<(Vec<u8>, Access)>,
}

/// Checks `authorization: Bearer <token>` on every request when a token file is configured.
#[derive(Clone, Default)]
pub struct BearerAuth {
    tokens: Option<Arc<RwLock<Tokens>>>,
}

/// The tokens of a token file's text; an error names the line at fault (never its token).
fn parse(path: &Path, text: &str) -> std::io::Result<Vec<(Vec<u8>, Access)>> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
    let mut tokens = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (access, token) = match line.split_once(char::is_whitespace) {
            Some(("read-only", token)) => (Access::ReadOnly, token.trim()),
            Some(("read-write", token)) => (Access::ReadWrite, token.trim()),
            Some(_) => {
                return Err(invalid(format!(
                    "{}:{}: a line is a token, or `read-only TOKEN` / `read-write TOKEN`",
                    path.display(),
                    number + 1
                )));
            }
            None => (Access::ReadWrite, line),
        };
        tokens.push((token.as_bytes().to_vec(), access));
    }
    if tokens.is_empty() {
        return Err(invalid(format!("{} holds no token", path.display())));
    }
    Ok(tokens)
}

impl BearerAuth {
    /// No authentication.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Requires one of the tokens in `path`.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let tokens = parse(path, &std::fs::read_to_string(path)?)?;
        Ok(Self {
            tokens: Some(Arc::new(RwLock::new(Tokens {
                path: path.to_path_buf(),
                tokens,
            }))),
        })
    }

    /// Whether calls must authenticate.
    pub fn enabled(&self) -> bool {
        self.tokens.is_some()
    }

    /// Reads the token file again; on an error the tokens in force stay. Returns how many tokens
    /// are in force now.
    pub fn reload(&self) -> std::io::Result<usize> {
        let Some(shared) = &self.tokens else {
            return Ok(0);
        };
        let path = read(shared).path.clone();
        let tokens = parse(&path, &std::fs::read_to_string(&path)?)?;
        let count = tokens.len();
        shared
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .tokens = tokens;
        Ok(count)
    }

    /// The access of `presented`, comparing it with every token without an early exit.
    fn access_of(&self, shared: &RwLock<Tokens>, presented: &[u8]) -> Option<Access> {
        let mut found = None;
        for (token, access) in &read(shared).tokens {
            if bool::from(token.as_slice().ct_eq(presented)) {
                found = Some(*access);
            }
        }
        found
    }
}

fn read(shared: &RwLock<Tokens>) -> std::sync::RwLockReadGuard<'_, Tokens> {
    shared
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let Some(shared) = self.tokens.clone() else {
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
        let access = self
            .access_of(&shared, presented.as_bytes())
            .ok_or_else(|| Status::unauthenticated("invalid bearer token"))?;
        request.extensions_mut().insert(access);
        Ok(request)
    }
}

/// Refuses a write RPC for a read-only token (calls without auth, or with a read-write token, pass).
pub fn require_write<T>(request: &Request<T>) -> Result<(), Status> {
    match request.extensions().get::<Access>() {
        Some(Access::ReadOnly) => Err(Status::permission_denied(
            "this token is read-only: writes (RegisterOrGet, RegisterOrGetBatch, PutContent, \
             ImportRecords) need a read-write token",
        )),
        _ => Ok(()),
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

    fn auth_with(text: &str) -> (tempfile::NamedTempFile, BearerAuth) {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write tokens");
        let auth = BearerAuth::from_file(file.path()).expect("valid tokens");
        (file, auth)
    }

    #[test]
    fn test_disabled_auth_lets_everything_through() {
        assert!(BearerAuth::disabled().call(request_with(None)).is_ok());
    }

    #[test]
    fn test_each_token_has_its_access_and_others_are_unauthenticated() {
        let (_file, mut auth) = auth_with("# tokens\nwriter\nread-only reader\nread-write w2\n");
        let access = |auth: &mut BearerAuth, header| {
            auth.call(request_with(header))
                .map(|r| r.extensions().get::<Access>().copied())
        };
        assert_eq!(
            access(&mut auth, Some("Bearer writer")).ok().flatten(),
            Some(Access::ReadWrite)
        );
        assert_eq!(
            access(&mut auth, Some("Bearer w2")).ok().flatten(),
            Some(Access::ReadWrite)
        );
        assert_eq!(
            access(&mut auth, Some("Bearer reader")).ok().flatten(),
            Some(Access::ReadOnly)
        );
        let wrong = auth
            .call(request_with(Some("Bearer nope")))
            .expect_err("wrong");
        assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
        let missing = auth.call(request_with(None)).expect_err("missing");
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn test_read_only_tokens_may_not_write() {
        let (_file, mut auth) = auth_with("read-only reader\n");
        let request = auth
            .call(request_with(Some("Bearer reader")))
            .expect("valid");
        let denied = require_write(&request).expect_err("read-only");
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        assert!(
            require_write(&Request::new(())).is_ok(),
            "no auth, no limit"
        );
    }

    #[test]
    fn test_reload_swaps_tokens_and_a_bad_file_keeps_the_old_ones() {
        let (file, mut auth) = auth_with("old\n");
        std::fs::write(file.path(), "new\n").expect("rewrite");
        assert_eq!(auth.reload().expect("reload"), 1);
        assert!(auth.call(request_with(Some("Bearer new"))).is_ok());
        assert!(auth.call(request_with(Some("Bearer old"))).is_err());
        std::fs::write(file.path(), "sometimes token\n").expect("rewrite");
        let error = auth.reload().expect_err("bad line");
        assert!(!error.to_string().contains("token\n"), "{error}");
        assert!(
            auth.call(request_with(Some("Bearer new"))).is_ok(),
            "old tokens stay"
        );
    }

    #[test]
    fn test_an_empty_file_is_refused() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), "# nothing\n\n").expect("write");
        assert!(BearerAuth::from_file(file.path()).is_err());
    }
}
