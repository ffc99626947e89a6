//! The server's limits: load shedding beyond the concurrency limit and the upload size limit
//! (both RESOURCE_EXHAUSTED, leaving nothing behind), and the default deadline.

use std::time::Duration;

use bytes::Bytes;
use docstokg_catalog::{Catalog, ContentHeader, ErrorKind};
use docstokg_catalog_tests::{
    data::chunked,
    harness::{config_from, development_env, open_provider, serve_in_background},
    reliability::Observation,
};
use futures::{StreamExt, stream};
use sqlx::Connection;

fn header() -> ContentHeader {
    ContentHeader {
        artifact_id: "a".into(),
        source_url: "https://x/a".into(),
        resolver: "r".into(),
        ..ContentHeader::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_calls_beyond_the_concurrency_limit_are_shed_with_resource_exhausted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = development_env(dir.path());
    let (_, provider) = open_provider(&env).await;
    let mut config = config_from(&env);
    config.server.concurrency_limit = 1;
    let served = serve_in_background(provider, &config).await;
    // An upload whose body never ends holds the only slot.
    let holder = served.client.clone();
    let body = stream::iter(vec![Ok(Bytes::from_static(b"partial"))])
        .chain(stream::pending())
        .boxed();
    let upload = tokio::spawn(async move { holder.put_content(header(), body).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let error = served.client.stats().await.expect_err("no free slot");
    assert_eq!(error.kind, ErrorKind::ResourceExhausted, "{error}");
    assert!(
        served
            .client
            .health_check("")
            .await
            .expect("health stays outside the limit")
    );
    upload.abort();
    let mut recovered = false;
    for _ in 0..50 {
        if served.client.stats().await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the slot came back once the upload went away");
    Observation::new("calls beyond server.concurrency_limit", "development", 1)
        .answered("RESOURCE_EXHAUSTED at once; health still answers")
        .record();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_upload_over_the_size_limit_is_resource_exhausted_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = development_env(dir.path());
    let (_, provider) = open_provider(&env).await;
    let mut config = config_from(&env);
    config.server.max_upload_bytes = 10_000;
    // The limit is the provider's: reopen it with the small limit.
    drop(provider);
    let provider = std::sync::Arc::new(
        docstokg_catalog_server::provider::build_provider(&config)
            .await
            .expect("provider"),
    );
    let served = serve_in_background(provider, &config).await;
    let error = served
        .client
        .put_content(header(), chunked(vec![1; 50_000], 4096))
        .await
        .expect_err("too large");
    assert_eq!(error.kind, ErrorKind::ResourceExhausted, "{error}");
    assert_eq!(served.client.stats().await.expect("stats").total_records, 0);
    let blobs = dir.path().join("blobs");
    let files = walk(&blobs);
    assert!(files.is_empty(), "left behind: {files:?}");
    assert!(
        served
            .client
            .put_content(header(), chunked(vec![1; 5_000], 4096))
            .await
            .is_ok(),
        "within the limit"
    );
    Observation::new("upload over server.max_upload_bytes", "development", 1)
        .answered("RESOURCE_EXHAUSTED; no file, no record")
        .record();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

/// The default deadline ends a stuck call with DEADLINE_EXCEEDED, but not an upload that simply
/// takes longer than the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_default_deadline_ends_stuck_calls_but_not_slow_uploads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = development_env(dir.path());
    let (_, provider) = open_provider(&env).await;
    let mut config = config_from(&env);
    config.server.request_timeout_secs = 1;
    let served = serve_in_background(provider, &config).await;

    let slow_body = stream::unfold(0, |sent| async move {
        (sent < 5).then_some(())?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        Some((Ok(Bytes::from(vec![7u8; 1000])), sent + 1))
    })
    .boxed();
    let uploaded = served
        .client
        .put_content(header(), slow_body)
        .await
        .expect("a 2.5 s upload outlives a 1 s deadline");
    assert_eq!(uploaded.registration.record.bytes, 5000);

    // Another connection holds SQLite's write lock: a registration waits for it, past the deadline.
    let db = dir.path().join("catalog.sqlite");
    let mut blocker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .expect("write lock");
    let started = std::time::Instant::now();
    let error = served
        .client
        .register_or_get(docstokg_catalog::NewDocument::new("b", "https://x/b", "r"))
        .await
        .expect_err("stuck behind the lock");
    assert_eq!(error.kind, ErrorKind::DeadlineExceeded, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ended by the 1 s deadline, not the busy timeout"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("release");
}

/// A served development catalog with `records` records (long URLs, so a ListRecords stream of
/// them is megabytes: more than the HTTP/2 windows hold, so an unread stream stays open).
async fn served_with_records(
    dir: &std::path::Path,
    records: usize,
    adjust: impl FnOnce(&mut docstokg_catalog_server::config::Config),
) -> docstokg_catalog_tests::harness::ServedCatalog {
    let env = development_env(dir);
    let (_, provider) = open_provider(&env).await;
    for start in (0..records).step_by(1000) {
        let batch = (start..(start + 1000).min(records))
            .map(|n| {
                docstokg_catalog::NewDocument::new(
                    format!("a{n}"),
                    format!("https://example.org/{n}/{}", "x".repeat(600)),
                    "r",
                )
            })
            .collect();
        provider
            .register_or_get_batch(batch)
            .await
            .expect("register");
    }
    let mut config = config_from(&env);
    adjust(&mut config);
    serve_in_background(provider, &config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_open_streams_hold_their_slots_until_they_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_with_records(dir.path(), 6000, |config| {
        config.server.concurrency_limit = 2;
    })
    .await;
    let mut streams = Vec::new();
    for _ in 0..2 {
        let mut stream = served
            .client
            .list_records(docstokg_catalog::RecordFilter::default())
            .await
            .expect("list");
        stream.next().await.expect("a first record").expect("ok");
        streams.push(stream);
    }
    let error = served
        .client
        .stats()
        .await
        .expect_err("both slots are held");
    assert_eq!(error.kind, ErrorKind::ResourceExhausted, "{error}");
    drop(streams);
    let mut recovered = false;
    for _ in 0..50 {
        if served.client.stats().await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "closing the streams frees their slots");
    Observation::new(
        "open slow streams filling server.concurrency_limit",
        "development",
        2,
    )
    .answered("the next call RESOURCE_EXHAUSTED; closing the streams frees their slots")
    .record();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_stream_past_its_deadline_ends_with_deadline_exceeded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_with_records(dir.path(), 6000, |config| {
        config.server.stream_timeout_secs = 1;
    })
    .await;
    let mut stream = served
        .client
        .list_records(docstokg_catalog::RecordFilter::default())
        .await
        .expect("list");
    stream.next().await.expect("a first record").expect("ok");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut ended = None;
    while let Some(item) = stream.next().await {
        if let Err(error) = item {
            ended = Some(error);
            break;
        }
    }
    let error = ended.expect("the stream must not run past its deadline");
    assert_eq!(error.kind, ErrorKind::DeadlineExceeded, "{error}");
    assert!(served.client.stats().await.is_ok(), "the server carries on");
    Observation::new("a stream past server.stream_timeout_secs", "development", 1)
        .answered("DEADLINE_EXCEEDED; the server carries on")
        .record();
}

/// A client that opens a stream, reads one message and then neither reads nor closes it: past
/// the deadline the server has let go of the call's slot and of the store work feeding it, even
/// though the client's HTTP/2 window is full and the server cannot send it anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_client_that_stops_reading_holds_no_slot_past_the_deadline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_with_records(dir.path(), 6000, |config| {
        config.server.concurrency_limit = 1;
        config.server.stream_timeout_secs = 1;
    })
    .await;
    let mut stalled = served
        .client
        .list_records(docstokg_catalog::RecordFilter::default())
        .await
        .expect("list");
    stalled.next().await.expect("a first record").expect("ok");
    assert_eq!(
        served
            .client
            .stats()
            .await
            .expect_err("the slot is held")
            .kind,
        ErrorKind::ResourceExhausted
    );
    let mut freed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if served.client.stats().await.is_ok() {
            freed = true;
            break;
        }
    }
    assert!(
        freed,
        "a stalled stream still holds its slot after its deadline"
    );
    drop(stalled);
    Observation::new(
        "client stops reading a ListRecords stream and never closes it",
        "development",
        1,
    )
    .answered("slot and store work released at the stream deadline (DEADLINE_EXCEEDED trailers when it reads again)")
    .record();
}
