//! A real `catalog-server` process: crash durability, graceful shutdown, configuration errors.

use std::{collections::HashMap, sync::Arc, time::Duration};

use docstokg_catalog::{Catalog, ErrorKind, NewDocument};
use docstokg_catalog_client::CatalogClient;
use docstokg_catalog_tests::{
    data::doc,
    process::{ServerProcess, workspace_binary},
    reliability::Observation,
};
use tokio::sync::Mutex;

/// Registrations acknowledged before a SIGKILL are all there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_sigkill_mid_stream_loses_no_acknowledged_registration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(dir.path(), &[]).await;
    let acknowledged: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..4 {
        let client = server.client().await;
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let artifact = format!("w{writer}-{n}");
                match client
                    .register_or_get(doc(&artifact, "https://x", "r"))
                    .await
                {
                    Ok(outcome) => {
                        acknowledged
                            .lock()
                            .await
                            .insert(artifact, outcome.record.id);
                    }
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().await.len() < 300 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "registrations stalled before the test could begin"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().await;
    for writer in writers {
        writer.await.expect("writer task");
    }
    let acknowledged = acknowledged.lock().await.clone();
    let restarted = ServerProcess::start(dir.path(), &[]).await;
    let client = restarted.client().await;
    for (artifact, id) in &acknowledged {
        let record = client
            .get_record(*id)
            .await
            .expect("acknowledged record survives");
        assert_eq!(&record.artifact_id, artifact);
    }
    let stats = client.stats().await.expect("stats");
    assert!(stats.total_records >= acknowledged.len() as i64);
    assert!(restarted.terminate().await);
    Observation::new(
        "SIGKILL of the server during concurrent registration",
        "development",
        1,
    )
    .answered("restarted on the same files; every acknowledged record readable")
    .acknowledged(acknowledged.len() as u64)
    .record();
}

/// SIGTERM stops the server cleanly (exit status 0) and the data stays usable.
#[tokio::test]
async fn test_sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(dir.path(), &[]).await;
    let id = server
        .client()
        .await
        .register_or_get(doc("a", "https://x", "r"))
        .await
        .expect("register")
        .record
        .id;
    assert!(server.terminate().await, "exit status 0 after SIGTERM");
    let again = ServerProcess::start(dir.path(), &[]).await;
    assert_eq!(
        again
            .client()
            .await
            .get_record(id)
            .await
            .expect("still there")
            .artifact_id,
        "a"
    );
    assert!(again.terminate().await);
}

/// With a token configured, catalog calls need it; health and reflection stay open.
#[tokio::test]
async fn test_auth_token_is_required_when_configured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").expect("token file");
    let server = ServerProcess::start(
        dir.path(),
        &[("DOCSTOKG_AUTH_TOKEN_FILE", token_file.display().to_string())],
    )
    .await;
    let anonymous = server.client().await;
    assert!(anonymous.health_check("").await.expect("health is open"));
    let error = anonymous.stats().await.expect_err("needs a token");
    assert_eq!(error.kind, ErrorKind::Unauthenticated);
    let options = docstokg_catalog_client::ClientOptions::default().with_token("s3cret-token");
    let authorised =
        docstokg_catalog_client::CatalogClient::connect_with(server.endpoint.clone(), options)
            .await
            .expect("connect");
    assert_eq!(
        authorised.stats().await.expect("authorised").total_records,
        0
    );
    let options = docstokg_catalog_client::ClientOptions::default().with_token("wrong");
    let wrong =
        docstokg_catalog_client::CatalogClient::connect_with(server.endpoint.clone(), options)
            .await
            .expect("connect");
    assert_eq!(
        wrong.stats().await.expect_err("wrong token").kind,
        ErrorKind::Unauthenticated
    );
    assert!(server.terminate().await);
    Observation::new(
        "calls without a token, or with a wrong one, when auth is on",
        "development",
        2,
    )
    .answered("UNAUTHENTICATED; health still answers without a token")
    .record();
}

fn run_server(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> std::process::Output {
    let mut command = std::process::Command::new(workspace_binary("catalog-server"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("catalog-server runs")
}

/// `catalog-server config` prints the effective configuration with the password redacted.
#[test]
fn test_config_command_prints_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [
        ("DOCSTOKG_CATALOG_PROVIDER", "enterprise"),
        (
            "DOCSTOKG_POSTGRES_URL",
            "postgresql://cat:hunter2@db/catalog",
        ),
    ];
    let output = run_server(&["config"], &env, dir.path());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("provider: \"enterprise\""), "{printed}");
    assert!(
        printed.contains("postgresql://cat:****@db/catalog"),
        "{printed}"
    );
    assert!(!printed.contains("hunter2"), "{printed}");
}

/// An unknown key or a missing required value stops start-up with a message naming the fix.
#[test]
fn test_bad_configuration_stops_startup_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("bad.yaml"),
        "catalog:\n  dev:\n    cache_sise: 5\n",
    )
    .expect("yaml");
    let output = run_server(&["serve", "--config", "bad.yaml"], &[], dir.path());
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("catalog.dev.cache_sise"), "{message}");

    let output = run_server(&["serve", "--provider", "enterprise"], &[], dir.path());
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("DOCSTOKG_POSTGRES_URL")
            && message.contains("catalog.enterprise.connection_url"),
        "{message}"
    );
}

/// A client of `server` presenting `token`.
async fn client_with_token(server: &ServerProcess, token: &str) -> CatalogClient {
    let options = docstokg_catalog_client::ClientOptions::default().with_token(token);
    CatalogClient::connect_with(server.endpoint.clone(), options)
        .await
        .expect("connect")
}

/// Several tokens, read-write and read-only; SIGHUP reloads the file without a restart and
/// without dropping the connections already open.
#[tokio::test]
async fn test_read_only_tokens_cannot_write_and_sighup_reloads_the_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("tokens");
    std::fs::write(&token_file, "# writers\nwriter-1\nread-only reader-1\n").expect("tokens");
    let server = ServerProcess::start(
        dir.path(),
        &[("DOCSTOKG_AUTH_TOKEN_FILE", token_file.display().to_string())],
    )
    .await;
    let writer = client_with_token(&server, "writer-1").await;
    let reader = client_with_token(&server, "reader-1").await;
    let document = NewDocument::new("W1", "https://example.org/w1", "r");
    let created = writer
        .register_or_get(document.clone())
        .await
        .expect("writer writes");
    assert_eq!(
        reader
            .get_record(created.record.id)
            .await
            .expect("reader reads")
            .id,
        created.record.id
    );
    let denied = reader
        .register_or_get(document)
        .await
        .expect_err("reader may not write");
    assert_eq!(denied.kind, ErrorKind::PermissionDenied, "{denied}");
    let batch = reader
        .register_or_get_batch(vec![NewDocument::new("W2", "https://example.org/w2", "r")])
        .await
        .expect_err("nor register a batch");
    assert_eq!(batch.kind, ErrorKind::PermissionDenied);

    std::fs::write(&token_file, "writer-2\nread-only reader-1\n").expect("rotate");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let rotated = client_with_token(&server, "writer-2").await;
    let mut reloaded = false;
    for _ in 0..50 {
        if rotated.stats().await.is_ok() {
            reloaded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        reloaded,
        "the new token works after SIGHUP, without a restart"
    );
    let revoked = writer.stats().await.expect_err("the old token is gone");
    assert_eq!(revoked.kind, ErrorKind::Unauthenticated);
    assert!(
        reader.stats().await.is_ok(),
        "the reader's open connection still works"
    );
    assert!(server.terminate().await);
    Observation::new(
        "writes with a read-only token; a revoked token after SIGHUP",
        "development",
        2,
    )
    .answered("PERMISSION_DENIED for writes, UNAUTHENTICATED once revoked; open connections kept")
    .record();
}

/// A server killed mid-upload leaves its temporary file behind; the next start removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_killed_uploads_temporary_file_is_gone_after_restart() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = dir.path().join("catalog-data/blobs/tmp");
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    let server = ServerProcess::start(dir.path(), &[]).await;
    let client = server.client().await;
    let body = futures::stream::iter([Ok(bytes::Bytes::from(vec![7u8; 64 * 1024]))])
        .chain(futures::stream::pending())
        .boxed();
    let header = docstokg_catalog::ContentHeader {
        artifact_id: "killed".into(),
        source_url: "https://example.org/killed".into(),
        resolver: "r".into(),
        ..docstokg_catalog::ContentHeader::default()
    };
    let upload = tokio::spawn(async move { client.put_content(header, body).await });
    for _ in 0..100 {
        if files(&tmp) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().await;
    upload.abort();
    assert!(files(&tmp) > 0, "the killed upload left its temporary file");
    let restarted = ServerProcess::start(dir.path(), &[]).await;
    assert_eq!(files(&tmp), 0, "start-up removed the leftover");
    assert!(restarted.terminate().await);
    Observation::new("SIGKILL of the server mid-upload", "development", 1)
        .answered("the next start-up removes the unlocked temporary file")
        .record();
}

/// SIGKILL during 64-way concurrent registrations and uploads: after a restart every acknowledged
/// record is there and readable, every acknowledged upload verifies, no record points to missing
/// bytes, and no temporary file survives start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_sigkill_under_64_way_registration_and_upload_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = dir.path().join("catalog-data/blobs/tmp");
    sigkill_under_load("development", dir.path(), Vec::new(), &tmp).await;
}

/// The same on the enterprise provider: PostgreSQL and a local blob root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_sigkill_under_64_way_load_on_the_enterprise_provider_loses_nothing_acknowledged() {
    let Some(url) = docstokg_catalog_tests::postgres::fresh_database("SIGKILL on enterprise").await
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("blobs");
    let env = vec![
        ("DOCSTOKG_CATALOG_PROVIDER", "enterprise".to_owned()),
        ("DOCSTOKG_POSTGRES_URL", url),
        ("DOCSTOKG_STORAGE_ROOT", root.display().to_string()),
    ];
    sigkill_under_load("enterprise", dir.path(), env, &root.join("tmp")).await;
}

/// 64 workers register (even) and upload (odd) until the server is SIGKILLed, then a server on
/// the same configuration must hold every acknowledged record and verify every acknowledged
/// upload, with no temporary file under `tmp` and no record pointing to missing bytes.
async fn sigkill_under_load(
    provider: &'static str,
    dir: &std::path::Path,
    env: Vec<(&'static str, String)>,
    tmp: &std::path::Path,
) {
    use futures::TryStreamExt;
    let server = ServerProcess::start(dir, &env).await;
    // artifact -> (record id, whether it was an upload)
    let acknowledged: Arc<Mutex<HashMap<String, (i64, bool)>>> = Arc::default();
    let mut workers = Vec::new();
    for worker in 0..64u64 {
        let client = server.client().await;
        let acknowledged = acknowledged.clone();
        workers.push(tokio::spawn(async move {
            for n in 0u64.. {
                let artifact = format!("k{worker}-{n}");
                let uploads = worker % 2 == 1;
                let outcome = if uploads {
                    let bytes = docstokg_catalog_tests::data::pseudo_random_bytes(
                        1024 + (n as usize % 7) * 512,
                        worker * 100_000 + n,
                    );
                    let header = docstokg_catalog::ContentHeader {
                        artifact_id: artifact.clone(),
                        source_url: format!("https://example.org/{artifact}"),
                        resolver: "r".into(),
                        ..docstokg_catalog::ContentHeader::default()
                    };
                    client
                        .put_content(header, docstokg_catalog_tests::data::chunked(bytes, 700))
                        .await
                        .map(|put| put.registration)
                } else {
                    client
                        .register_or_get(doc(&artifact, "https://x", "r"))
                        .await
                };
                match outcome {
                    Ok(outcome) => {
                        acknowledged
                            .lock()
                            .await
                            .insert(artifact, (outcome.record.id, uploads));
                    }
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while acknowledged.lock().await.len() < 400 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the load stalled before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().await;
    for worker in workers {
        worker.await.expect("worker task");
    }
    let acknowledged = acknowledged.lock().await.clone();
    let restarted = ServerProcess::start(dir, &env).await;
    assert_eq!(
        std::fs::read_dir(tmp).map(|d| d.count()).unwrap_or(0),
        0,
        "no temporary file survives start-up"
    );
    let client = restarted.client().await;
    for (artifact, (id, uploaded)) in &acknowledged {
        let record = client
            .get_record(*id)
            .await
            .expect("acknowledged record survives");
        assert_eq!(&record.artifact_id, artifact);
        if *uploaded {
            let result = client.verify(*id).await.expect("verify");
            assert_eq!(
                result.status,
                docstokg_catalog::VerificationStatus::Verified,
                "{artifact}: {}",
                result.message
            );
        }
    }
    let events: Vec<_> = client
        .verify_all(docstokg_catalog::VerifyAllOptions::default())
        .await
        .expect("verify all")
        .try_collect()
        .await
        .expect("stream");
    let stored: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            docstokg_catalog::VerifyAllEvent::Result(result) if result.storage_uri.is_some() => {
                Some(result)
            }
            _ => None,
        })
        .collect();
    assert!(stored.len() >= acknowledged.values().filter(|(_, up)| *up).count());
    for result in stored {
        assert_eq!(
            result.status,
            docstokg_catalog::VerificationStatus::Verified,
            "no record points to missing or changed bytes: {}",
            result.message
        );
    }
    assert!(restarted.terminate().await);
    let uploads = acknowledged.values().filter(|(_, up)| *up).count() as u64;
    Observation::new(
        "SIGKILL of the server during 64-way registration and uploads",
        provider,
        1,
    )
    .answered(format!(
        "restarted: every acknowledged record readable, all {uploads} acknowledged uploads verify, no temporary file left, no record points to missing bytes"
    ))
    .acknowledged(acknowledged.len() as u64)
    .record();
}
