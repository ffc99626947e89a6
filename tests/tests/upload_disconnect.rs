//! A client that disconnects in the middle of an upload, ends it without `finish`, or stalls,
//! leaves no temporary file, no blob and no record.

use std::time::Duration;

use bytes::Bytes;
use docstokg_catalog::{Catalog, ContentHeader, ErrorKind};
use docstokg_catalog_tests::{
    harness::{
        config_from, development_env, development_over_grpc, open_provider, serve_in_background,
    },
    reliability::Observation,
};
use futures::{StreamExt, stream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_client_disconnect_mid_upload_leaves_nothing() {
    let subject = development_over_grpc().await.expect("development provider");
    let endpoint = subject.endpoint.clone().expect("served over gRPC");
    let client = docstokg_catalog_client::CatalogClient::connect(endpoint)
        .await
        .expect("connect");
    // One megabyte, then a stream that never ends: the upload stays open until we drop it.
    let body = stream::iter(vec![Ok(Bytes::from(vec![9u8; 1 << 20]))])
        .chain(stream::pending())
        .boxed();
    let header = ContentHeader {
        artifact_id: "a".into(),
        source_url: "https://x/a.pdf".into(),
        resolver: "r".into(),
        ..ContentHeader::default()
    };
    let upload = tokio::spawn(async move { client.put_content(header, body).await });
    // Wait until the server is writing the upload to a temporary file.
    let mut started = false;
    for _ in 0..100 {
        if subject.stored_objects().await.1 == 1 {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started,
        "the upload never reached the server's temporary directory"
    );
    upload.abort();
    let mut cleaned = false;
    for _ in 0..100 {
        if subject.stored_objects().await == (0, 0) {
            cleaned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        cleaned,
        "temporary file left behind: {:?}",
        subject.stored_objects().await
    );
    assert_eq!(
        subject.catalog.stats().await.expect("stats").total_records,
        0
    );
    Observation::new("client disconnects mid-upload", "development", 1)
        .answered("temporary file removed, no blob, no record")
        .record();
}

/// tonic reports a client's cancellation as a clean end of the request stream, so only the
/// `finish` message commits an upload: a stream that ends without it stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_upload_without_finish_is_rejected_and_stores_nothing() {
    use docstokg_catalog::proto::{
        self, catalog_service_client::CatalogServiceClient, put_content_request::Part,
    };
    let subject = development_over_grpc().await.expect("development provider");
    let mut raw = CatalogServiceClient::connect(subject.endpoint.clone().expect("endpoint"))
        .await
        .expect("connect");
    let header = proto::PutContentHeader {
        artifact_id: "a".into(),
        source_url: "https://x/a.pdf".into(),
        resolver: "r".into(),
        ..Default::default()
    };
    let messages = vec![
        proto::PutContentRequest {
            part: Some(Part::Header(header)),
        },
        proto::PutContentRequest {
            part: Some(Part::Chunk(Bytes::from(vec![1u8; 100_000]))),
        },
    ];
    let status = raw
        .put_content(stream::iter(messages))
        .await
        .expect_err("no finish, no upload");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let error = docstokg_catalog::CatalogError::from(status);
    assert_eq!(error.field.as_deref(), Some("finish"));
    assert_eq!(subject.stored_objects().await, (0, 0));
    assert_eq!(
        subject.catalog.stats().await.expect("stats").total_records,
        0
    );
    Observation::new(
        "upload stream ends without its finish message",
        "development",
        1,
    )
    .answered("INVALID_ARGUMENT (finish); nothing stored")
    .record();
}

/// Files under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|entry| {
                let path = entry.path();
                if path.is_dir() { files_under(&path) } else { 1 }
            })
            .sum()
    })
}

/// Clients that stall: one sends a header and a chunk and then nothing, one opens an upload and
/// never sends its header. Neither disconnects. Past `server.upload_idle_timeout_secs` each gets
/// DEADLINE_EXCEEDED, and neither holds a slot, a temporary file or a record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_stalled_uploads_are_abandoned_after_the_idle_timeout_and_leave_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = development_env(dir.path());
    let (_, provider) = open_provider(&env).await;
    let mut config = config_from(&env);
    config.server.upload_idle_timeout_secs = 1;
    config.server.concurrency_limit = 2;
    let served = serve_in_background(provider, &config).await;
    let header = ContentHeader {
        artifact_id: "stalled".into(),
        source_url: "https://x/stalled.pdf".into(),
        resolver: "r".into(),
        ..ContentHeader::default()
    };
    let stalled_body = stream::iter(vec![Ok(Bytes::from(vec![7u8; 256 * 1024]))])
        .chain(stream::pending())
        .boxed();
    let client = served.client.clone();
    let stalled = tokio::spawn(async move { client.put_content(header, stalled_body).await });

    // The generated client, to send no message at all: not even the header.
    let mut raw = docstokg_catalog::proto::catalog_service_client::CatalogServiceClient::connect(
        served.endpoint.clone(),
    )
    .await
    .expect("connect");
    let silent = tokio::spawn(async move {
        raw.put_content(stream::pending::<docstokg_catalog::proto::PutContentRequest>())
            .await
    });

    let stalled = tokio::time::timeout(Duration::from_secs(10), stalled)
        .await
        .expect("the stalled upload ends")
        .expect("task")
        .expect_err("abandoned");
    assert_eq!(stalled.kind, ErrorKind::DeadlineExceeded, "{stalled}");
    let silent = tokio::time::timeout(Duration::from_secs(10), silent)
        .await
        .expect("the silent upload ends")
        .expect("task")
        .expect_err("abandoned");
    assert_eq!(silent.code(), tonic::Code::DeadlineExceeded, "{silent:?}");

    let stats = served.client.stats().await.expect("both slots are free");
    assert_eq!(stats.total_records, 0);
    let blobs = dir.path().join("blobs");
    let mut left = files_under(&blobs);
    for _ in 0..50 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = files_under(&blobs);
    }
    assert_eq!(left, 0, "files left under the blob root");
    Observation::new(
        "client stalls mid-upload, or never sends the upload's header",
        "development",
        2,
    )
    .answered("DEADLINE_EXCEEDED after server.upload_idle_timeout_secs; slot, temporary file and record released")
    .record();
}
