//! `catalogctl`'s stdout into a pipe, where it is written in blocks rather than a line at a
//! time: a large stream arrives whole and in order, and a reader that stops early ends catalogctl
//! quietly, against a real `catalog-server` on the development provider.

use std::process::Stdio;

use docstokg_catalog::{Catalog, NewDocument};
use docstokg_catalog_tests::data::fake_sha256;
use docstokg_catalog_tests::harness::development_env;
use docstokg_catalog_tests::process::{self, ServerProcess, workspace_binary};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Records registered, every two sharing a hash.
const RECORDS: u64 = 6_000;

/// A server holding [`RECORDS`] records in `RECORDS / 2` duplicate groups.
async fn server_with_records(dir: &std::path::Path) -> ServerProcess {
    let server = ServerProcess::start(dir, &development_env(dir)).await;
    let client = server.client().await;
    let numbers: Vec<u64> = (0..RECORDS).collect();
    for chunk in numbers.chunks(1000) {
        let documents = chunk
            .iter()
            .map(|n| NewDocument {
                sha256: Some(fake_sha256(n / 2)),
                bytes: 10,
                ..NewDocument::new(format!("a{n}"), format!("https://example.org/{n}"), "r")
            })
            .collect();
        client
            .register_or_get_batch(documents)
            .await
            .expect("register");
    }
    server
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_piped_stream_arrives_whole_and_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server_with_records(dir.path()).await;

    let list = process::catalogctl(&server.endpoint, &["--json", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let ids: Vec<i64> = json_lines(&list.stdout)
        .iter()
        .map(|record| record["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len() as u64, RECORDS);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "in id order");

    let groups =
        process::catalogctl(&server.endpoint, &["--json", "duplicates", "--records"]).await;
    assert_eq!(groups.code, 0, "{}", groups.stderr);
    let groups = json_lines(&groups.stdout);
    assert_eq!(groups.len() as u64, RECORDS / 2);
    for group in &groups {
        assert_eq!(group["count"], 2, "{group}");
        assert_eq!(
            group["records"].as_array().map(Vec::len),
            Some(2),
            "{group}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_reader_that_stops_early_ends_catalogctl_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server_with_records(dir.path()).await;
    let mut child = tokio::process::Command::new(workspace_binary("catalogctl"))
        .args(["--endpoint", &server.endpoint, "--json", "list"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("catalogctl starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .await
        .expect("a first line");
    assert!(first.contains("\"id\":1,"), "{first}");
    // The reader is gone (its end of the pipe closed with it): the next write fails with EPIPE.
    let output = child.wait_with_output().await.expect("catalogctl exits");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}
