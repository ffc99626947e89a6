//! Tests of the configuration as a whole: layering, unknown keys, required values, provider
//! sections, rendering and the reference. Bad values of single settings are in `ranges`.

mod ranges;

use std::{io::Write, path::PathBuf};

use super::*;

/// An environment of just `pairs`.
fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// A temporary YAML file holding `text`.
fn yaml(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

#[test]
fn test_defaults_run_the_development_provider_on_loopback() {
    let config = load(None, env_of(&[]), &[]).expect("defaults load");
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:50051");
    assert_eq!(config.provider.name, ProviderName::Development);
    assert_eq!(config.provider.cache_size, 1000);
    assert!(
        matches!(&config.provider.metadata, MetadataConfig::Sqlite { db_path } if db_path == "catalog-data/catalog.sqlite")
    );
    assert!(
        matches!(&config.provider.blobs, BlobConfig::Local { root_dir } if root_dir == &PathBuf::from("catalog-data/blobs"))
    );
}

#[test]
fn test_flags_beat_env_beat_file_beat_defaults() {
    let file = yaml(
        "catalog:\n  dev:\n    db_path: from-file.sqlite\n    cache_size: 5\nserver:\n  listen: 127.0.0.1:1\n",
    );
    let env = env_of(&[
        ("DOCSTOKG_DEV_CACHE_SIZE", "7"),
        ("DOCSTOKG_LISTEN", "127.0.0.1:2"),
    ]);
    let config = load(
        Some(file.path()),
        env,
        &[("server.listen", "127.0.0.1:3".into())],
    )
    .expect("loads");
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:3");
    let MetadataConfig::Sqlite { db_path } = config.provider.metadata else {
        panic!("sqlite")
    };
    assert_eq!(db_path, "from-file.sqlite");
    assert_eq!(config.provider.cache_size, 7);
}

#[test]
fn test_unknown_yaml_key_is_an_error_naming_it() {
    let file = yaml("catalog:\n  dev:\n    db_pth: x\n");
    let error = load(Some(file.path()), env_of(&[]), &[]).expect_err("unknown key");
    assert!(error.0.contains("catalog.dev.db_pth"), "{}", error.0);
    assert!(error.0.contains("db_path"), "{}", error.0);
}

#[test]
fn test_missing_required_value_names_env_var_and_yaml_key() {
    let error = load(
        None,
        env_of(&[("DOCSTOKG_CATALOG_PROVIDER", "enterprise")]),
        &[],
    )
    .expect_err("missing url");
    assert!(error.0.contains("DOCSTOKG_POSTGRES_URL"), "{}", error.0);
    assert!(
        error.0.contains("catalog.enterprise.connection_url"),
        "{}",
        error.0
    );
}

#[test]
fn test_invalid_number_names_its_source() {
    let error =
        load(None, env_of(&[("DOCSTOKG_DEV_CACHE_SIZE", "many")]), &[]).expect_err("bad number");
    assert!(error.0.contains("DOCSTOKG_DEV_CACHE_SIZE"), "{}", error.0);
}

#[test]
fn test_render_redacts_the_database_password() {
    let env = env_of(&[
        ("DOCSTOKG_CATALOG_PROVIDER", "enterprise"),
        (
            "DOCSTOKG_POSTGRES_URL",
            "postgresql://cat:hunter2@db/catalog",
        ),
    ]);
    let rendered = load(None, env, &[]).expect("loads").render();
    assert!(!rendered.contains("hunter2"), "{rendered}");
    assert!(
        rendered.contains("postgresql://cat:****@db/catalog"),
        "{rendered}"
    );
    assert!(rendered.contains("env DOCSTOKG_POSTGRES_URL"), "{rendered}");
}

#[test]
fn test_example_configs_in_deploy_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config");
    let config =
        load(Some(&dir.join("development.yaml")), env_of(&[]), &[]).expect("development.yaml");
    assert_eq!(config.provider.name(), "development");
    let env = env_of(&[("DOCSTOKG_POSTGRES_URL", "postgresql://catalog@db/catalog")]);
    let config = load(Some(&dir.join("enterprise.yaml")), env, &[]).expect("enterprise.yaml");
    assert_eq!(config.provider.name(), "enterprise");
    assert_eq!(
        config.server.auth_token_file,
        Some(PathBuf::from("/etc/docstokg/token"))
    );
}

#[test]
fn test_cloud_provider_reads_the_cloud_section_and_aws_variables() {
    let env = env_of(&[
        ("DOCSTOKG_CATALOG_PROVIDER", "cloud"),
        ("DOCSTOKG_RDS_URL", "postgresql://cat:pw@rds/catalog"),
        ("DOCSTOKG_S3_BUCKET", "artifacts"),
        ("DOCSTOKG_S3_PREFIX", "docs/"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:3900"),
        ("DOCSTOKG_S3_FORCE_PATH_STYLE", "true"),
        ("AWS_REGION", "garage"),
    ]);
    let config = load(None, env, &[]).expect("loads");
    assert!(
        matches!(&config.provider.metadata, MetadataConfig::Postgres { connection_url, .. } if connection_url.contains("rds"))
    );
    let BlobConfig::S3(s3) = &config.provider.blobs else {
        panic!("s3")
    };
    assert_eq!(
        (s3.bucket.as_str(), s3.prefix.as_str(), s3.region.as_str()),
        ("artifacts", "docs/", "garage")
    );
    assert_eq!(s3.endpoint_url.as_deref(), Some("http://127.0.0.1:3900"));
    assert!(s3.force_path_style);
    assert!(s3.credentials.is_none());
}

#[test]
fn test_cloud_without_bucket_names_env_var_and_yaml_key() {
    let env = env_of(&[
        ("DOCSTOKG_CATALOG_PROVIDER", "cloud"),
        ("DOCSTOKG_RDS_URL", "postgresql://rds/catalog"),
    ]);
    let error = load(None, env, &[]).expect_err("no bucket");
    assert!(
        error.0.contains("DOCSTOKG_S3_BUCKET") && error.0.contains("catalog.cloud.s3_bucket"),
        "{}",
        error.0
    );
}

#[test]
fn test_a_mixed_provider_is_configuration_only() {
    let env = env_of(&[("DOCSTOKG_BLOB_STORE", "s3"), ("DOCSTOKG_S3_BUCKET", "b")]);
    let config = load(None, env, &[]).expect("sqlite + s3");
    assert!(matches!(
        config.provider.metadata,
        MetadataConfig::Sqlite { .. }
    ));
    assert!(matches!(config.provider.blobs, BlobConfig::S3(_)));
    let env = env_of(&[
        ("DOCSTOKG_METADATA_STORE", "postgres"),
        ("DOCSTOKG_POSTGRES_URL", "postgresql://db/c"),
    ]);
    let config = load(None, env, &[]).expect("postgres + local disk");
    assert!(matches!(
        config.provider.metadata,
        MetadataConfig::Postgres { .. }
    ));
    assert!(matches!(config.provider.blobs, BlobConfig::Local { .. }));
}

#[test]
fn test_render_hides_aws_secret() {
    let env = env_of(&[
        ("AWS_ACCESS_KEY_ID", "GKexample"),
        ("AWS_SECRET_ACCESS_KEY", "topsecret"),
    ]);
    let rendered = load(None, env, &[]).expect("loads").render();
    assert!(
        !rendered.contains("topsecret") && !rendered.contains("GKexample"),
        "{rendered}"
    );
}

#[test]
fn test_configuration_reference_in_docs_matches_the_settings_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    let documented = std::fs::read_to_string(&path).expect("docs/configuration.md");
    assert!(
        documented == reference_markdown(),
        "docs/configuration.md is stale: run `cargo run --bin catalog-server -- config --reference > docs/configuration.md`"
    );
}

#[test]
fn test_verify_roots_from_a_yaml_list_or_an_env_string() {
    let file = yaml("catalog:\n  verify_roots:\n    - /data/downloads\n    - /mnt/archive\n");
    let config = load(Some(file.path()), env_of(&[]), &[]).expect("yaml list");
    assert_eq!(
        config.provider.verify_roots,
        [
            PathBuf::from("/data/downloads"),
            PathBuf::from("/mnt/archive")
        ]
    );
    let config =
        load(None, env_of(&[("DOCSTOKG_VERIFY_ROOTS", "/a:/b")]), &[]).expect("env string");
    assert_eq!(
        config.provider.verify_roots,
        [PathBuf::from("/a"), PathBuf::from("/b")]
    );
    let error = load(
        None,
        env_of(&[("DOCSTOKG_VERIFY_ROOTS", "relative/dir")]),
        &[],
    )
    .expect_err("relative");
    assert!(error.0.contains("DOCSTOKG_VERIFY_ROOTS"), "{}", error.0);
}

#[test]
fn test_a_borrowed_store_reads_its_home_section() {
    let file = yaml(
        "catalog:\n  provider: cloud\n  blobs: local\n  enterprise:\n    root_dir: /srv/blobs\n  cloud:\n    \
         connection_url: postgresql://rds/c\n",
    );
    let config = load(Some(file.path()), env_of(&[]), &[]).expect("cloud + local disk");
    assert!(
        matches!(&config.provider.blobs, BlobConfig::Local { root_dir } if root_dir == &PathBuf::from("/srv/blobs"))
    );
    let error = load(
        None,
        env_of(&[("DOCSTOKG_METADATA_STORE", "postgres")]),
        &[],
    )
    .expect_err("development + postgres needs the enterprise URL");
    assert!(
        error.0.contains("catalog.enterprise.connection_url"),
        "{}",
        error.0
    );
}

#[test]
fn test_an_unknown_store_names_env_var_and_yaml_key() {
    let error = load(None, env_of(&[("DOCSTOKG_BLOB_STORE", "ftp")]), &[]).expect_err("ftp");
    assert!(
        error.0.contains("DOCSTOKG_BLOB_STORE") && error.0.contains("catalog.blobs"),
        "{}",
        error.0
    );
}
