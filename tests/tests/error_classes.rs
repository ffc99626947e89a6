//! Failures in the right class: only what a retry can cure is UNAVAILABLE. Bad S3 credentials
//! are PERMISSION_DENIED; a missing bucket and a database schema this server cannot migrate are
//! FAILED_PRECONDITION, with a message that says what to fix. (docs/usage.md lists every class.)

use docstokg_catalog::{Catalog, ContentHeader, ErrorKind};
use docstokg_catalog_server::provider::build_provider;
use docstokg_catalog_tests::{
    data::chunked,
    harness::{config_from, development_env},
    postgres::fresh_database,
    s3::{S3Settings, fresh_prefix},
};

fn header() -> ContentHeader {
    ContentHeader {
        artifact_id: "e1".into(),
        source_url: "https://example.org/e1".into(),
        resolver: "manual".into(),
        ..ContentHeader::default()
    }
}

/// The error of an upload through SQLite + S3 configured by `s3` with `overrides` applied.
async fn upload_error(
    s3: &S3Settings,
    overrides: &[(&'static str, String)],
) -> docstokg_catalog::CatalogError {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env = development_env(dir.path());
    env.push(("DOCSTOKG_BLOB_STORE", "s3".to_owned()));
    env.extend(s3.provider_env(&fresh_prefix()));
    for (name, value) in overrides {
        env.retain(|(key, _)| key != name);
        env.push((name, value.clone()));
    }
    let provider = build_provider(&config_from(&env))
        .await
        .expect("provider opens");
    provider
        .put_content(header(), chunked(b"some bytes".to_vec(), 4))
        .await
        .expect_err("the upload must fail")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_bad_s3_credentials_are_permission_denied_not_unavailable() {
    let Some(s3) = S3Settings::from_env("bad S3 credentials") else {
        return;
    };
    let wrong = [("AWS_SECRET_ACCESS_KEY", "0".repeat(64))];
    let error = upload_error(&s3, &wrong).await;
    assert_eq!(error.kind, ErrorKind::PermissionDenied, "{error}");
    assert!(error.message.contains("check the credentials"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_missing_bucket_is_failed_precondition_naming_the_setting() {
    let Some(s3) = S3Settings::from_env("missing bucket") else {
        return;
    };
    let missing = [(
        "DOCSTOKG_S3_BUCKET",
        format!("no-such-bucket-{}", std::process::id()),
    )];
    let error = upload_error(&s3, &missing).await;
    assert_eq!(error.kind, ErrorKind::FailedPrecondition, "{error}");
    assert!(error.message.contains("DOCSTOKG_S3_BUCKET"), "{error}");
}

/// Records a migration no version of this server has, as a newer server would.
async fn pretend_a_newer_server_migrated<DB: sqlx::Database>(pool: &sqlx::Pool<DB>)
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    sqlx::raw_sql(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 99999, 'from a newer server', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = (SELECT MIN(version) FROM _sqlx_migrations)",
    )
    .execute(pool)
    .await
    .expect("record a newer migration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_sqlite_schema_from_a_newer_server_is_failed_precondition() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = development_env(dir.path());
    let config = config_from(&env);
    build_provider(&config)
        .await
        .expect("first start")
        .close()
        .await;
    let url = format!("sqlite://{}", dir.path().join("catalog.sqlite").display());
    let pool = sqlx::SqlitePool::connect(&url)
        .await
        .expect("open the database");
    pretend_a_newer_server_migrated(&pool).await;
    pool.close().await;
    let Err(error) = build_provider(&config).await else {
        panic!("a schema from a newer server must stop start-up");
    };
    assert_eq!(error.kind, ErrorKind::FailedPrecondition, "{error}");
    assert!(error.message.contains("upgrade the server"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_postgres_schema_from_a_newer_server_is_failed_precondition() {
    let Some(url) = fresh_database("PostgreSQL schema from a newer server").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let env = vec![
        ("DOCSTOKG_CATALOG_PROVIDER", "enterprise".to_owned()),
        ("DOCSTOKG_POSTGRES_URL", url.clone()),
        ("DOCSTOKG_STORAGE_ROOT", dir.path().display().to_string()),
    ];
    let config = config_from(&env);
    build_provider(&config)
        .await
        .expect("first start")
        .close()
        .await;
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    pretend_a_newer_server_migrated(&pool).await;
    pool.close().await;
    let Err(error) = build_provider(&config).await else {
        panic!("a schema from a newer server must stop start-up");
    };
    assert_eq!(error.kind, ErrorKind::FailedPrecondition, "{error}");
}
