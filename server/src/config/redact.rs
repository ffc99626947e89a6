//! Redaction of secrets before configuration is printed or logged.

/// Hides the password of a URL (`postgresql://user:****@host/db`); a value that is not a URL
/// with credentials is hidden whole.
pub fn redact(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return "****".to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return value.to_owned();
    };
    let user = rest[..at].split(':').next().unwrap_or_default();
    format!("{scheme}://{user}:****{}", &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn test_password_is_hidden() {
        assert_eq!(
            redact("postgresql://cat:s3cret@db:5432/catalog"),
            "postgresql://cat:****@db:5432/catalog"
        );
    }

    #[test]
    fn test_url_without_credentials_is_kept_and_other_secrets_hidden() {
        assert_eq!(redact("postgresql://db/catalog"), "postgresql://db/catalog");
        assert_eq!(redact("token-value"), "****");
    }
}
