//! The enterprise provider's promises that only real processes on a real PostgreSQL show: many
//! servers on one database, bounded memory on long streams, no leaked connections, and riding out
//! a database outage.

use std::{collections::HashMap, time::Duration};

use docstokg_catalog::{Catalog, DuplicateQuery, ErrorKind};
use docstokg_catalog_tests::{
    data::doc,
    load::{Ack, Load, health_becomes, lost_acknowledged},
    postgres::{PgCluster, fresh_database},
    process::ServerProcess,
    reliability::Observation,
};
use futures::{StreamExt, TryStreamExt, future::join_all};

fn enterprise_env(
    url: &str,
    dir: &std::path::Path,
    pool_size: u32,
    max_overflow: u32,
) -> Vec<(&'static str, String)> {
    vec![
        ("DOCSTOKG_CATALOG_PROVIDER", "enterprise".to_owned()),
        ("DOCSTOKG_POSTGRES_URL", url.to_owned()),
        ("DOCSTOKG_POOL_SIZE", pool_size.to_string()),
        ("DOCSTOKG_MAX_OVERFLOW", max_overflow.to_string()),
        (
            "DOCSTOKG_STORAGE_ROOT",
            dir.join("blobs").display().to_string(),
        ),
    ]
}

/// Two servers on one database, 64 clients registering an overlapping key set through both:
/// one row per key, and every caller of a key got the same id; exactly one caller created it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_two_servers_64_clients_overlapping_keys_one_row_per_key() {
    let Some(url) = fresh_database("two servers, one database").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let env = enterprise_env(&url, dir.path(), 4, 16);
    let servers = [
        ServerProcess::start(dir.path(), &env).await,
        ServerProcess::start(dir.path(), &env).await,
    ];
    const KEYS: usize = 128;
    let mut callers = Vec::new();
    for caller in 0..64 {
        let client = servers[caller % 2].client().await;
        callers.push(tokio::spawn(async move {
            let mut seen = HashMap::new();
            // Each caller walks the keys from its own starting point, so they collide everywhere.
            for step in 0..KEYS {
                let key = (caller * 37 + step) % KEYS;
                let outcome = client
                    .register_or_get(doc(&format!("artifact-{key}"), "https://x", "r"))
                    .await
                    .expect("register");
                seen.insert(key, (outcome.record.id, outcome.created));
            }
            seen
        }));
    }
    let results: Vec<HashMap<usize, (i64, bool)>> = join_all(callers)
        .await
        .into_iter()
        .map(|r| r.expect("caller"))
        .collect();
    for key in 0..KEYS {
        let ids: std::collections::HashSet<i64> = results.iter().map(|seen| seen[&key].0).collect();
        assert_eq!(ids.len(), 1, "key {key} got ids {ids:?}");
        let creators = results.iter().filter(|seen| seen[&key].1).count();
        assert_eq!(creators, 1, "key {key} was created {creators} times");
    }
    let client = servers[0].client().await;
    assert_eq!(
        client.stats().await.expect("stats").total_records,
        KEYS as i64
    );
    for server in servers {
        assert!(server.terminate().await);
    }
}

/// Fills the catalog straight through SQL: `records` rows, two per sha256, with long URLs.
async fn fill(url: &str, records: i64) {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    sqlx::query(
        "INSERT INTO documents (key_sha256, artifact_id, source_url, resolver, bytes, sha256, created_at, updated_at) \
         SELECT sha256(convert_to('key-' || g, 'UTF8')), 'artifact-' || g, \
                'https://example.org/' || repeat('x', 400) || '/' || g, 'unpaywall', 1000, \
                encode(sha256(convert_to('hash-' || (g / 2), 'UTF8')), 'hex'), now(), now() \
         FROM generate_series(1, $1) AS g",
    )
    .bind(records)
    .execute(&pool)
    .await
    .expect("fill");
    pool.close().await;
}

/// FindDuplicates over 200,000 records streams with the server's memory flat, and clients that
/// cancel mid-stream give their connections back: afterwards `pool_size + 1` calls all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_find_duplicates_over_200k_records_streams_in_flat_memory_and_cancel_frees_connections()
 {
    let Some(url) = fresh_database("FindDuplicates over 200k records").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(dir.path(), &enterprise_env(&url, dir.path(), 2, 0)).await;
    fill(&url, 200_000).await;
    let client = server.client().await;
    assert_eq!(client.stats().await.expect("stats").total_records, 200_000);
    let baseline = server.resident_kib();

    let sampler = server.sample_peak_memory();

    let query = DuplicateQuery {
        include_records: true,
        limit: None,
        ..DuplicateQuery::default()
    };
    let mut groups = client.find_duplicates(query.clone()).await.expect("stream");
    let (mut group_count, mut record_count) = (0, 0);
    while let Some(group) = groups.try_next().await.expect("group") {
        group_count += 1;
        record_count += group.records.len();
    }
    let growth_mib = sampler.stop().saturating_sub(baseline) / 1024;
    assert_eq!(
        group_count, 99_999,
        "groups 1..=99999 have two records each"
    );
    assert_eq!(record_count, 199_998);
    // The result is ~100 MiB as records; streaming holds a few rows in memory.
    assert!(
        growth_mib < 40,
        "server memory grew by {growth_mib} MiB while streaming"
    );
    eprintln!(
        "FindDuplicates over 200k records: server RSS grew {growth_mib} MiB (baseline {} MiB)",
        baseline / 1024
    );

    for _ in 0..3 {
        let mut stream = client.find_duplicates(query.clone()).await.expect("stream");
        for _ in 0..10 {
            stream.next().await.expect("a group").expect("ok");
        }
        drop(stream);
    }
    // A cancelled scan's connection is closed, so PostgreSQL abandons its query and transaction
    // instead of sending the rest of the result.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while open_transactions(&url).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "cancelled duplicates scans still hold transactions"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Connections that served cancelled streams must come back clean: the next streams on them,
    // of other shapes, decode correctly.
    for min_count in [2, 3, 2] {
        let groups_only = DuplicateQuery {
            min_count,
            include_records: false,
            limit: None,
        };
        let groups: Vec<_> = client
            .find_duplicates(groups_only)
            .await
            .expect("stream")
            .try_collect()
            .await
            .expect("clean");
        assert_eq!(groups.len(), if min_count == 2 { 99_999 } else { 0 });
        let mut stream = client.find_duplicates(query.clone()).await.expect("stream");
        stream.next().await.expect("a group").expect("decodes");
    }
    let calls = (0..3).map(|_| client.stats());
    for outcome in join_all(calls).await {
        assert_eq!(
            outcome.expect("pool has a free connection").total_records,
            200_000
        );
    }
    assert!(server.terminate().await);
}

/// Connections of the catalog's database that sit in an open transaction (a duplicates scan).
/// Client backends only: a scan's parallel workers are in its transaction too, but are not
/// connections.
async fn open_transactions(url: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND xact_start IS NOT NULL \
           AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    .fetch_one(&pool)
    .await
    .expect("pg_stat_activity");
    pool.close().await;
    count
}

/// A client opens FindDuplicates, reads one group and then neither reads nor closes the stream:
/// its scan holds a database connection in a transaction until the stream's deadline, and then
/// not any more: the transaction is gone, the pool's only connection serves the next call, and
/// the server's memory did not grow with the unread result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_stalled_duplicates_stream_gives_its_connection_back_at_the_deadline() {
    let Some(url) = fresh_database("stalled FindDuplicates").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env = enterprise_env(&url, dir.path(), 1, 0);
    env.push(("DOCSTOKG_STREAM_TIMEOUT_SECS", "2".to_owned()));
    let server = ServerProcess::start(dir.path(), &env).await;
    fill(&url, 40_000).await;
    let client = server.client().await;
    let baseline = server.resident_kib();
    let query = DuplicateQuery {
        include_records: true,
        limit: None,
        ..DuplicateQuery::default()
    };
    let mut stalled = client.find_duplicates(query).await.expect("stream");
    stalled.next().await.expect("a group").expect("ok");
    assert_eq!(
        open_transactions(&url).await,
        1,
        "the scan holds its connection"
    );

    let mut released = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if open_transactions(&url).await == 0 {
            released = true;
            break;
        }
    }
    assert!(
        released,
        "the stalled stream's transaction outlived its deadline"
    );
    let stats = client
        .stats()
        .await
        .expect("the pool's one connection is free again");
    assert_eq!(stats.total_records, 40_000);
    let growth_mib = server.resident_kib().saturating_sub(baseline) / 1024;
    assert!(growth_mib < 32, "server memory grew by {growth_mib} MiB");
    drop(stalled);
    assert!(server.terminate().await);
    Observation::new(
        "client stops reading a FindDuplicates stream and never closes it",
        "enterprise",
        1,
    )
    .answered(format!(
        "scan, transaction, pool connection and slot released at the stream deadline; server RSS +{growth_mib} MiB"
    ))
    .record();
}

/// PostgreSQL stops under 64-way concurrent registration: the server keeps running, reports
/// NOT_SERVING and answers UNAVAILABLE; PostgreSQL returns: SERVING again and the same load goes
/// on without a restart; every acknowledged record is there, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_postgres_outage_under_load_flips_health_recovers_and_loses_nothing() {
    let Some(cluster) = PgCluster::start("PostgreSQL outage") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(
        dir.path(),
        &enterprise_env(&cluster.url(), dir.path(), 4, 4),
    )
    .await;
    let client = server.client().await;
    let load = {
        let client = client.clone();
        Load::start(64, move |worker, n| {
            let client = client.clone();
            async move {
                let artifact_id = format!("w{worker}-{n}");
                let outcome = client
                    .register_or_get(doc(&artifact_id, "https://x", "r"))
                    .await?;
                Ok(Ack {
                    record_id: outcome.record.id,
                    artifact_id,
                    sha256: None,
                    bytes: 0,
                })
            }
        })
    };
    load.wait_for_acks(
        500,
        Duration::from_secs(60),
        "registrations before the outage",
    )
    .await;

    cluster.stop_server();
    load.wait_for_failures(
        64,
        Duration::from_secs(60),
        "errors once PostgreSQL is down",
    )
    .await;
    assert!(
        health_becomes(&client, false, Duration::from_secs(10)).await,
        "health never flipped to NOT_SERVING"
    );
    assert!(
        !client
            .health_check(docstokg_catalog::SERVICE_NAME)
            .await
            .expect("health answers during the outage")
    );
    assert_eq!(
        client.stats().await.expect_err("database down").kind,
        ErrorKind::Unavailable
    );
    assert!(server.is_running(), "the server must survive the outage");

    cluster.start_server();
    assert!(
        health_becomes(&client, true, Duration::from_secs(20)).await,
        "health never returned to SERVING"
    );
    load.wait_for_acks(
        500,
        Duration::from_secs(60),
        "registrations after the outage",
    )
    .await;
    let tally = load.stop().await;
    assert!(
        tally.only_errors_of(&[ErrorKind::Unavailable]),
        "errors during the outage: {:?}",
        tally.errors
    );
    let (lost, _) = lost_acknowledged(&client, &tally.acknowledged).await;
    let mut ids: Vec<i64> = tally.acknowledged.iter().map(|ack| ack.record_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), tally.acknowledged.len(), "one id per key");
    assert_eq!(lost, 0, "acknowledged records lost across the outage");
    assert!(server.terminate().await);
    Observation::new(
        "PostgreSQL stopped and started under 64-way registration load",
        "enterprise",
        1,
    )
    .answered(format!(
        "UNAVAILABLE ({} calls) and health NOT_SERVING while down; SERVING and registering again without a restart",
        tally.error_count()
    ))
    .acknowledged(tally.acknowledged.len() as u64)
    .lost(lost, 0)
    .record();
}

/// Both plans of a duplicates scan (records read group by group, for a table that fits in
/// PostgreSQL's shared buffers; one hash join sorted whole, for a larger one) return the same
/// rows in the same order, for every shape of query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_both_duplicates_plans_return_the_same_rows() {
    use docstokg_catalog_server::metadata::{
        MetadataStore,
        postgres::{PostgresStore, duplicates_statement},
    };
    let Some(url) = fresh_database("both duplicates plans").await else {
        return;
    };
    // Opening the store creates the schema.
    let pool_size = std::num::NonZeroU32::new(2).expect("non-zero");
    let store = PostgresStore::open(&url, pool_size, 0)
        .await
        .expect("open the store");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    // Groups of about 4 and about 30 records, their ids interleaved, records of different sizes,
    // and every seventh record without a hash.
    sqlx::query(
        "INSERT INTO documents (key_sha256, artifact_id, source_url, resolver, bytes, sha256, created_at, updated_at) \
         SELECT sha256(convert_to('key-' || g, 'UTF8')), 'artifact-' || g, 'https://example.org/' || g, \
                'unpaywall', g, CASE WHEN g % 7 = 0 THEN NULL \
                ELSE encode(sha256(convert_to('hash-' || CASE WHEN g <= 2000 THEN g % 500 ELSE g % 37 END, 'UTF8')), 'hex') END, \
                now(), now() \
         FROM generate_series(1, 3000) AS g",
    )
    .execute(&pool)
    .await
    .expect("fill");
    for (min_count, limit) in [
        (2, None),
        (3, Some(10)),
        (2, Some(1)),
        (20, None),
        (1000, None),
    ] {
        let query = DuplicateQuery {
            min_count,
            include_records: true,
            limit,
        };
        let by_group = scan_rows(&pool, &duplicates_statement(&query, true)).await;
        let joined = scan_rows(&pool, &duplicates_statement(&query, false)).await;
        assert_eq!(by_group, joined, "min_count {min_count}, limit {limit:?}");
        if min_count < 1000 {
            assert!(!joined.is_empty(), "min_count {min_count} finds groups");
        }
    }
    pool.close().await;
    store.close().await;
}

/// `(group_count, group_bytes, id)` of each row of a duplicates statement, in its own order
/// (columns 0 and 1, then the record's columns, id first).
async fn scan_rows(pool: &sqlx::PgPool, sql: &str) -> Vec<(i64, i64, i64)> {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .expect("scan")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}
