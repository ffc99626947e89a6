//! The cloud provider's promises that need a real server process and a real S3-compatible
//! store: large uploads in bounded memory, nothing left behind by a bad upload, riding out an
//! outage of the store, and Stats naming the bucket.

use std::time::Duration;

use bytes::Bytes;
use docstokg_catalog::{Catalog, ContentHeader, ContentRequest, ContentSelector, ErrorKind};
use docstokg_catalog_tests::{
    data::{chunked, pseudo_random_bytes, sha256_of},
    load::{Ack, Load, health_becomes, lost_acknowledged},
    postgres::fresh_database,
    process::ServerProcess,
    reliability::Observation,
    s3::{BucketView, GarageServer, S3Settings, fresh_prefix},
};
use futures::TryStreamExt;

async fn cloud_server(
    s3: &S3Settings,
    dir: &std::path::Path,
) -> Option<(ServerProcess, BucketView)> {
    let url = fresh_database("cloud provider").await?;
    let prefix = fresh_prefix();
    let mut env = vec![
        ("DOCSTOKG_CATALOG_PROVIDER", "cloud".to_owned()),
        ("DOCSTOKG_RDS_URL", url),
    ];
    env.extend(s3.provider_env(&prefix));
    let server = ServerProcess::start(dir, &env).await;
    Some((
        server,
        BucketView {
            client: s3.client(),
            bucket: s3.bucket.clone(),
            prefix,
        },
    ))
}

fn header(artifact_id: &str) -> ContentHeader {
    ContentHeader {
        artifact_id: artifact_id.to_owned(),
        source_url: format!("https://x/{artifact_id}"),
        resolver: "r".to_owned(),
        ..ContentHeader::default()
    }
}

/// 64 MiB through PutContent: one object under its CAS key, server memory well under the object
/// size, identical bytes back; the same bytes under another artifact: a record, no new object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_64_mib_upload_lands_as_one_cas_object_in_bounded_memory() {
    let Some(s3) = S3Settings::from_env("64 MiB upload") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let Some((server, bucket)) = cloud_server(&s3, dir.path()).await else {
        return;
    };
    let client = server.client().await;
    let data = pseudo_random_bytes(64 * 1024 * 1024, 7);
    let hash = sha256_of(&data);

    let baseline = server.resident_kib();
    let sampler = server.sample_peak_memory();
    let outcome = client
        .put_content(header("big-1"), chunked(data.clone(), 256 * 1024))
        .await
        .expect("upload");
    let growth_mib = sampler.stop().saturating_sub(baseline) / 1024;
    eprintln!(
        "64 MiB upload: server RSS grew {growth_mib} MiB (baseline {} MiB)",
        baseline / 1024
    );
    assert!(
        growth_mib < 40,
        "server memory grew by {growth_mib} MiB for a 64 MiB upload"
    );

    let record = outcome.registration.record;
    assert_eq!(record.sha256.as_deref(), Some(hash.as_str()));
    let cas_key = format!("{}cas/sha256/{}/{hash}", bucket.prefix, &hash[..2]);
    assert_eq!(
        record.storage_uri.as_deref(),
        Some(format!("s3://{}/{cas_key}", s3.bucket).as_str())
    );
    assert_eq!(
        bucket.keys("").await,
        vec![cas_key.clone()],
        "exactly one object, under its CAS key"
    );
    assert_eq!(bucket.incomplete_uploads().await, 0);

    let download = client
        .get_content(ContentRequest {
            selector: ContentSelector::RecordId(record.id),
            offset: 0,
            length: None,
        })
        .await
        .expect("download");
    let chunks: Vec<Bytes> = download.body.try_collect().await.expect("bytes");
    assert!(chunks.concat() == data, "downloaded bytes differ");

    let again = client
        .put_content(header("big-2"), chunked(data, 1024 * 1024))
        .await
        .expect("second upload");
    assert!(again.registration.created && again.deduplicated);
    assert_eq!(bucket.keys("").await, vec![cas_key], "no second object");
    assert!(server.terminate().await);
}

/// An upload whose bytes do not match the declared hash or size leaves no object, no incomplete
/// multipart upload and no record, whether it went in one PUT or multipart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mismatched_uploads_leave_no_object_no_multipart_no_record() {
    let Some(s3) = S3Settings::from_env("mismatched uploads") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let Some((server, bucket)) = cloud_server(&s3, dir.path()).await else {
        return;
    };
    let client = server.client().await;
    let wrong_hash = "0".repeat(64);
    for size in [1024 * 1024, 12 * 1024 * 1024] {
        let data = pseudo_random_bytes(size, 3);
        let declared = ContentHeader {
            expected_sha256: Some(wrong_hash.clone()),
            ..header("h")
        };
        let error = client
            .put_content(declared, chunked(data.clone(), 512 * 1024))
            .await
            .expect_err("wrong hash");
        assert_eq!(
            (error.kind, error.field.as_deref()),
            (ErrorKind::InvalidArgument, Some("expected_sha256"))
        );
        let declared = ContentHeader {
            expected_bytes: Some(size as i64 + 1),
            ..header("s")
        };
        let error = client
            .put_content(declared, chunked(data, 512 * 1024))
            .await
            .expect_err("wrong size");
        assert_eq!(
            (error.kind, error.field.as_deref()),
            (ErrorKind::InvalidArgument, Some("expected_bytes"))
        );
    }
    // Aborts of dropped uploads run in the background; give them a moment.
    for _ in 0..50 {
        if bucket.keys("").await.is_empty() && bucket.incomplete_uploads().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        bucket.keys("").await.is_empty(),
        "objects left: {:?}",
        bucket.keys("").await
    );
    assert_eq!(
        bucket.incomplete_uploads().await,
        0,
        "incomplete multipart uploads left"
    );
    assert_eq!(client.stats().await.expect("stats").total_records, 0);
    assert!(server.terminate().await);
}

/// Stats of the cloud provider name the bucket and the region.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_stats_include_bucket_and_region() {
    let Some(s3) = S3Settings::from_env("cloud stats") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let Some((server, bucket)) = cloud_server(&s3, dir.path()).await else {
        return;
    };
    let stats = server.client().await.stats().await.expect("stats");
    assert_eq!(stats.provider, "cloud");
    assert_eq!(stats.details.get("s3_bucket"), Some(&s3.bucket));
    assert_eq!(stats.details.get("aws_region"), Some(&s3.region));
    assert_eq!(stats.details.get("s3_prefix"), Some(&bucket.prefix));
    let kinds: Vec<&str> = stats
        .storage_backends
        .iter()
        .map(|b| b.kind.as_str())
        .collect();
    assert_eq!(kinds, ["postgres", "s3"]);
    assert!(server.terminate().await);
}

/// The store stops under 64-way concurrent uploads: the server keeps running, reports
/// NOT_SERVING and answers UNAVAILABLE; the store returns: the same process serves the same load
/// again, and every acknowledged upload is there and verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_s3_outage_under_load_flips_health_recovers_and_loses_nothing() {
    let Some(garage) = GarageServer::start("S3 outage") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let Some((mut server, _bucket)) = cloud_server(&garage.settings, dir.path()).await else {
        return;
    };
    let client = server.client().await;
    let load = {
        let client = client.clone();
        Load::start(64, move |worker, n| {
            let client = client.clone();
            async move {
                let artifact_id = format!("w{worker}-{n}");
                let bytes = pseudo_random_bytes(4096 + worker, (worker as u64) << 32 | n);
                let sha256 = sha256_of(&bytes);
                let size = bytes.len() as u64;
                let outcome = client
                    .put_content(header(&artifact_id), chunked(bytes, 1024))
                    .await?;
                Ok(Ack {
                    record_id: outcome.registration.record.id,
                    artifact_id,
                    sha256: Some(sha256),
                    bytes: size,
                })
            }
        })
    };
    load.wait_for_acks(200, Duration::from_secs(60), "uploads before the outage")
        .await;

    garage.stop();
    load.wait_for_failures(64, Duration::from_secs(60), "errors once the store is down")
        .await;
    assert!(
        health_becomes(&client, false, Duration::from_secs(15)).await,
        "health never flipped to NOT_SERVING"
    );
    assert!(server.is_running(), "the server must survive the outage");

    garage.restart();
    assert!(
        health_becomes(&client, true, Duration::from_secs(30)).await,
        "health never returned to SERVING"
    );
    load.wait_for_acks(200, Duration::from_secs(60), "uploads after the outage")
        .await;
    let tally = load.stop().await;
    assert!(
        tally.only_errors_of(&[ErrorKind::Unavailable]),
        "errors during the outage: {:?}",
        tally.errors
    );
    let (lost, lost_bytes) = lost_acknowledged(&client, &tally.acknowledged).await;
    assert_eq!(
        lost, 0,
        "acknowledged uploads lost or corrupted across the outage"
    );
    assert!(server.terminate().await);
    Observation::new(
        "S3 store (Garage) stopped and started under 64-way upload load",
        "cloud",
        1,
    )
    .answered(format!(
        "UNAVAILABLE ({} calls) and health NOT_SERVING while down; SERVING and uploading again without a restart",
        tally.error_count()
    ))
    .acknowledged(tally.acknowledged.len() as u64)
    .lost(lost, lost_bytes)
    .record();
}
