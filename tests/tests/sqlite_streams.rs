//! FindDuplicates on a SQLite file, read on blocking threads of its own
//! (`metadata/sqlite_duplicates.rs`): streams abandoned after their first group give their scan
//! back, so later streams run, and a full stream still brings every group.

use std::time::Duration;

use docstokg_catalog::{Catalog, DuplicateQuery, NewDocument};
use docstokg_catalog_tests::{
    data::fake_sha256,
    harness::{development_env, open_provider},
};
use futures::{StreamExt, TryStreamExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_abandoned_duplicates_streams_give_their_scans_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, provider) = open_provider(&development_env(dir.path())).await;
    let documents: Vec<NewDocument> = (0..20_000u64)
        .map(|n| NewDocument {
            bytes: 10,
            sha256: Some(fake_sha256(n % 2_000)),
            ..NewDocument::new(format!("a{n}"), "https://x/d", "r")
        })
        .collect();
    for chunk in documents.chunks(1000) {
        provider
            .register_or_get_batch(chunk.to_vec())
            .await
            .expect("batch");
    }
    let query = DuplicateQuery {
        include_records: true,
        ..DuplicateQuery::default()
    };
    // More abandoned streams than scans may run at once (4), each held after its first group.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = provider
            .find_duplicates(query.clone())
            .await
            .expect("stream");
        let first = stream.next().await.expect("a group").expect("ok");
        assert_eq!(first.records.len(), 10);
        held.push(stream);
    }
    drop(held);
    for _ in 0..6 {
        let mut stream = provider
            .find_duplicates(query.clone())
            .await
            .expect("stream");
        stream.next().await.expect("a group").expect("ok");
    }
    let all: Vec<_> = tokio::time::timeout(
        Duration::from_secs(30),
        provider
            .find_duplicates(query)
            .await
            .expect("stream")
            .try_collect::<Vec<_>>(),
    )
    .await
    .expect("the scans were given back")
    .expect("stream");
    assert_eq!(all.len(), 2_000);
    assert!(all.iter().all(|g| g.count == 10 && g.records.len() == 10));
    assert!(
        all.windows(2).all(|w| w[0].sha256 < w[1].sha256),
        "equal counts come in sha256 order"
    );
}
