//! The one place where database errors become catalog errors. The sqlx error is kept as the
//! cause; the service logs it once, at the edge.

use docstokg_catalog::{CatalogError, ErrorKind};
use sqlx::migrate::MigrateError;

/// Maps a sqlx error: an unreachable, busy or shut-down database is `Unavailable` (retryable),
/// anything else is a bug and `Internal`. `context` says what the store was doing.
pub fn from_sqlx(context: &str, error: sqlx::Error) -> CatalogError {
    let kind = match &error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => ErrorKind::Unavailable,
        sqlx::Error::WorkerCrashed => ErrorKind::Unavailable,
        sqlx::Error::Database(db)
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some() =>
        {
            postgres_error_kind(db.code().as_deref())
        }
        sqlx::Error::Database(db) => sqlite_error_kind(db.code().as_deref()),
        _ => ErrorKind::Internal,
    };
    classified(kind, context, error)
}

/// Maps a rusqlite error like [`from_sqlx`] maps SQLite's: busy or locked is `Unavailable`, a
/// full disk `ResourceExhausted`, a database that cannot be opened `Unavailable`, anything else
/// `Internal`. `context` says what the store was doing.
pub fn from_rusqlite(context: &str, error: rusqlite::Error) -> CatalogError {
    let kind = match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            rusqlite::ErrorCode::CannotOpen => ErrorKind::Unavailable,
            _ => sqlite_error_kind(Some(&failure.extended_code.to_string())),
        },
        _ => ErrorKind::Internal,
    };
    classified(kind, context, error)
}

/// `error` of class `kind` as a catalog error: what the store was doing, the error, and what to
/// do about it; the error kept as the cause.
fn classified(
    kind: ErrorKind,
    context: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> CatalogError {
    let advice = match kind {
        ErrorKind::Unavailable => "; the database is unreachable or busy, retry later",
        ErrorKind::ResourceExhausted => "; the database's disk is full: free space",
        _ => "",
    };
    CatalogError::new(kind, format!("{context}: {error}{advice}")).caused_by(error)
}

/// Maps a failed schema migration of `database`: a database that cannot be reached is
/// `Unavailable` (retry); a schema this server cannot bring up to date (applied by another
/// version, changed, half applied, or a migration statement the database refused) is
/// `FailedPrecondition`, since only an operator can fix it.
pub fn from_migrate(database: &str, error: MigrateError) -> CatalogError {
    let context = format!("migrating the {database} schema");
    let failed = match error {
        MigrateError::Execute(sql) | MigrateError::ExecuteMigration(sql, _) => {
            from_sqlx(&context, sql)
        }
        other => CatalogError::new(ErrorKind::FailedPrecondition, format!("{context}: {other}"))
            .caused_by(other),
    };
    if failed.kind == ErrorKind::Unavailable {
        return failed;
    }
    CatalogError::new(
        ErrorKind::FailedPrecondition,
        format!(
            "{}; the database's schema does not match this catalog-server: upgrade the server, or \
             restore the database it was migrated from",
            failed.message
        ),
    )
    .caused_by(failed)
}

/// SQLite result codes 5 (BUSY) and 6 (LOCKED), and their extended forms, are retryable; 13
/// (FULL: the database's disk is full) is RESOURCE_EXHAUSTED.
fn sqlite_error_kind(code: Option<&str>) -> ErrorKind {
    match code
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code & 0xff)
    {
        Some(5 | 6) => ErrorKind::Unavailable,
        Some(13) => ErrorKind::ResourceExhausted,
        _ => ErrorKind::Internal,
    }
}

/// PostgreSQL SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57P
/// (operator intervention: shutdown, restart) and 40001/40P01 (serialization, deadlock) are retryable.
fn postgres_error_kind(code: Option<&str>) -> ErrorKind {
    let Some(code) = code else {
        return ErrorKind::Internal;
    };
    let retryable = ["08", "53", "57P", "40001", "40P01"]
        .iter()
        .any(|prefix| code.starts_with(prefix));
    if retryable {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_busy_and_connection_errors_are_unavailable() {
        assert_eq!(sqlite_error_kind(Some("5")), ErrorKind::Unavailable);
        assert_eq!(sqlite_error_kind(Some("517")), ErrorKind::Unavailable);
        assert_eq!(sqlite_error_kind(Some("19")), ErrorKind::Internal);
        assert_eq!(sqlite_error_kind(Some("13")), ErrorKind::ResourceExhausted);
        assert_eq!(postgres_error_kind(Some("08006")), ErrorKind::Unavailable);
        assert_eq!(postgres_error_kind(Some("57P01")), ErrorKind::Unavailable);
        assert_eq!(postgres_error_kind(Some("23505")), ErrorKind::Internal);
        assert_eq!(postgres_error_kind(None), ErrorKind::Internal);
    }

    #[test]
    fn test_pool_timeout_is_unavailable() {
        assert_eq!(
            from_sqlx("x", sqlx::Error::PoolTimedOut).kind,
            ErrorKind::Unavailable
        );
    }

    #[test]
    fn test_rusqlite_errors_are_classed_like_sqlx_ones() {
        let failure = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        let busy = from_rusqlite("writing", failure(5));
        assert_eq!(busy.kind, ErrorKind::Unavailable);
        assert!(busy.message.contains("retry later"), "{}", busy.message);
        // SQLITE_CONSTRAINT_TRIGGER: a write the database refused.
        assert_eq!(from_rusqlite("x", failure(1811)).kind, ErrorKind::Internal);
        assert_eq!(
            from_rusqlite("x", failure(13)).kind,
            ErrorKind::ResourceExhausted
        );
        assert_eq!(from_rusqlite("x", failure(14)).kind, ErrorKind::Unavailable);
        assert_eq!(
            from_rusqlite("x", rusqlite::Error::QueryReturnedNoRows).kind,
            ErrorKind::Internal
        );
    }
}
