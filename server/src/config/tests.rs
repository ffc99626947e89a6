use std::io::Write;

use super::*;

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn yaml(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

#[test]
fn test_defaults_run_the_development_provider_on_loopback() {
    let config = load(None, env_of(&[]), &[]).expect("defaults load");
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:50051");
    match config.provider {
        ProviderConfig::Development {
            db_path,
            cache_size,
            root_dir,
        } => {
            assert_eq!(db_path, "catalog-data/catalog.sqlite");
            assert_eq!(cache_size, 1000);
            assert_eq!(root_dir, PathBuf::from("catalog-data/blobs"));
        }
        other => panic!("unexpected provider {other:?}"),
    }
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
    let ProviderConfig::Development {
        db_path,
        cache_size,
        ..
    } = config.provider
    else {
        panic!("development")
    };
    assert_eq!(db_path, "from-file.sqlite");
    assert_eq!(cache_size, 7);
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
