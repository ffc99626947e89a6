//! `catalog-server migrate`: development -> enterprise -> cloud with real PostgreSQL and the real
//! S3-compatible store, each step checked against its source; a run killed half way and resumed
//! equals a single run; a dry run writes nothing.

use std::{collections::BTreeMap, path::Path, process::Command, sync::Arc, time::Duration};

use bytes::Bytes;
use docstokg_catalog::{
    Catalog, ContentHeader, ContentRequest, ContentSelector, DocumentRecord, DuplicateQuery,
    NewDocument, RecordFilter,
};
use docstokg_catalog_server::{config, provider::build_provider};
use docstokg_catalog_tests::{
    data::{chunked, doc, fake_sha256, pseudo_random_bytes},
    postgres::fresh_database,
    process::workspace_binary,
    reliability::Observation,
    s3::{GarageServer, S3Settings, fresh_prefix},
};
use futures::TryStreamExt;

fn development_yaml(dir: &Path) -> String {
    format!(
        "catalog:\n  provider: development\n  dev:\n    db_path: {}\n    root_dir: {}\n",
        dir.join("catalog.sqlite").display(),
        dir.join("blobs").display()
    )
}

fn enterprise_yaml(url: &str, dir: &Path) -> String {
    format!(
        "catalog:\n  provider: enterprise\n  enterprise:\n    connection_url: \"{url}\"\n    pool_size: 2\n    root_dir: {}\n",
        dir.join("blobs").display()
    )
}

fn cloud_yaml(url: &str, s3: &S3Settings, prefix: &str) -> String {
    format!(
        "catalog:\n  provider: cloud\n  cloud:\n    connection_url: \"{url}\"\n    pool_size: 2\n    s3_bucket: {}\n    \
         s3_prefix: {prefix}\n    aws_region: {}\n    endpoint_url: {}\n    force_path_style: true\n    \
         multipart_part_bytes: 5242880\n    access_key_id: {}\n    secret_access_key: {}\n",
        s3.bucket, s3.region, s3.endpoint, s3.access_key_id, s3.secret_access_key
    )
}

/// Writes `yaml` to `dir/name` and returns the path.
fn config_file(dir: &Path, name: &str, yaml: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("config file");
    path
}

/// Opens the provider a YAML file configures (no environment).
async fn open(path: &Path) -> Arc<dyn Catalog> {
    let config = config::load(Some(path), |_| None, &[]).expect("config");
    Arc::new(build_provider(&config).await.expect("provider"))
}

fn migrate(from: &Path, to: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(workspace_binary("catalog-server"))
        .args(["migrate", "--from-config"])
        .arg(from)
        .arg("--to-config")
        .arg(to)
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("catalog-server migrate runs")
}

fn header(artifact_id: &str, resolver: &str) -> ContentHeader {
    ContentHeader {
        artifact_id: artifact_id.to_owned(),
        source_url: format!("https://x/{artifact_id}.pdf"),
        resolver: resolver.to_owned(),
        content_type: Some("application/pdf".to_owned()),
        run_id: Some("run-1".to_owned()),
        ..ContentHeader::default()
    }
}

/// A source catalog with uploads (some sharing bytes, one multipart-sized), records without
/// bytes, one without a hash, and one pointing outside any provider's storage.
async fn populate(catalog: &dyn Catalog) {
    for n in 0..12u64 {
        let bytes = pseudo_random_bytes(1000 + n as usize * 100, n % 4);
        catalog
            .put_content(
                header(
                    &format!("a{n}"),
                    if n % 2 == 0 { "unpaywall" } else { "crossref" },
                ),
                chunked(bytes, 300),
            )
            .await
            .expect("upload");
    }
    let large = pseudo_random_bytes(6 * 1024 * 1024 + 5, 99);
    catalog
        .put_content(header("large", "unpaywall"), chunked(large, 1 << 20))
        .await
        .expect("large upload");
    for n in 0..5u64 {
        let document = NewDocument {
            bytes: 10,
            sha256: Some(fake_sha256(n)),
            ..doc(&format!("meta{n}"), "https://y", "manual")
        };
        catalog.register_or_get(document).await.expect("register");
    }
    catalog
        .register_or_get(doc("no-hash", "https://z", "manual"))
        .await
        .expect("register");
    let external = NewDocument {
        storage_uri: Some("file:///etc/hostname".into()),
        sha256: Some(fake_sha256(77)),
        bytes: 5,
        ..doc("external", "https://e", "manual")
    };
    catalog.register_or_get(external).await.expect("register");
}

async fn records(catalog: &dyn Catalog) -> Vec<DocumentRecord> {
    catalog
        .list_records(RecordFilter::default())
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("stream")
}

/// FindDuplicates as (sha256, count, total bytes, record ids).
async fn duplicate_groups(catalog: &dyn Catalog) -> Vec<(String, i64, i64, Vec<i64>)> {
    let query = DuplicateQuery {
        include_records: true,
        limit: None,
        ..DuplicateQuery::default()
    };
    let groups: Vec<_> = catalog
        .find_duplicates(query)
        .await
        .expect("dups")
        .try_collect()
        .await
        .expect("stream");
    groups
        .into_iter()
        .map(|g| {
            (
                g.sha256,
                g.count,
                g.total_bytes,
                g.records.iter().map(|r| r.id).collect(),
            )
        })
        .collect()
}

/// The target matches the source: Stats, FindDuplicates, every record (storage_uri aside, which
/// points at the target), every Verify status, and the bytes of every record.
async fn assert_same(source: &dyn Catalog, target: &dyn Catalog) {
    let (s, t) = (
        source.stats().await.expect("stats"),
        target.stats().await.expect("stats"),
    );
    assert_eq!(
        (
            s.total_records,
            s.total_bytes,
            s.unique_sha256,
            s.unique_artifacts,
            s.duplicate_groups,
            &s.by_resolver
        ),
        (
            t.total_records,
            t.total_bytes,
            t.unique_sha256,
            t.unique_artifacts,
            t.duplicate_groups,
            &t.by_resolver
        )
    );
    assert_eq!(
        duplicate_groups(source).await,
        duplicate_groups(target).await
    );
    let (source_records, target_records) = (records(source).await, records(target).await);
    assert_eq!(source_records.len(), target_records.len());
    for (from, to) in source_records.iter().zip(&target_records) {
        let blank = |r: &DocumentRecord| DocumentRecord {
            storage_uri: None,
            ..r.clone()
        };
        assert_eq!(
            blank(from),
            blank(to),
            "record fields, ids and timestamps are kept"
        );
        let (v1, v2) = (
            source.verify(from.id).await.expect("verify"),
            target.verify(to.id).await.expect("verify"),
        );
        assert_eq!(
            v1.status, v2.status,
            "verify of record {}: {} / {}",
            from.id, v1.message, v2.message
        );
        if v1.status == docstokg_catalog::VerificationStatus::Verified {
            let request = ContentRequest {
                selector: ContentSelector::RecordId(to.id),
                offset: 0,
                length: None,
            };
            let download = target
                .get_content(request.clone())
                .await
                .expect("target holds the bytes");
            let bytes: Vec<Bytes> = download.body.try_collect().await.expect("bytes");
            let original: Vec<Bytes> = source
                .get_content(request)
                .await
                .expect("source")
                .body
                .try_collect()
                .await
                .expect("bytes");
            assert!(
                bytes.concat() == original.concat(),
                "bytes of record {}",
                to.id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_development_to_enterprise_to_cloud_keeps_everything() {
    let Some(s3) = S3Settings::from_env("migration chain") else {
        return;
    };
    let Some(enterprise_url) = fresh_database("migration chain").await else {
        return;
    };
    let Some(cloud_url) = fresh_database("migration chain").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (dev_dir, ent_dir) = (dir.path().join("dev"), dir.path().join("ent"));
    let dev = config_file(dir.path(), "dev.yaml", &development_yaml(&dev_dir));
    let ent = config_file(
        dir.path(),
        "ent.yaml",
        &enterprise_yaml(&enterprise_url, &ent_dir),
    );
    let cloud = config_file(
        dir.path(),
        "cloud.yaml",
        &cloud_yaml(&cloud_url, &s3, &fresh_prefix()),
    );
    populate(open(&dev).await.as_ref()).await;

    let output = migrate(&dev, &ent, &["--verify"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("20 records read: copied 20, skipped 0"),
        "{summary}"
    );
    assert_same(open(&dev).await.as_ref(), open(&ent).await.as_ref()).await;

    let output = migrate(&ent, &cloud, &["--verify", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON summary");
    assert_eq!(summary["records_copied"], 20);
    assert_eq!(
        summary["blobs_verified"],
        summary["blobs_copied"].as_u64().expect("n")
            + summary["blobs_deduplicated"].as_u64().expect("n")
    );
    assert_same(open(&ent).await.as_ref(), open(&cloud).await.as_ref()).await;

    let again = migrate(&ent, &cloud, &[]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("copied 0, skipped 20"),
        "a second run skips everything"
    );
}

/// Relative CAS paths under a blob root.
fn cas_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root.join("cas")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(
                    entry
                        .path()
                        .strip_prefix(root)
                        .expect("under root")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_killed_migration_resumed_equals_a_single_run() {
    let Some(killed_url) = fresh_database("resumed migration").await else {
        return;
    };
    let Some(single_url) = fresh_database("resumed migration").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let dev = config_file(
        dir.path(),
        "dev.yaml",
        &development_yaml(&dir.path().join("dev")),
    );
    let killed = config_file(
        dir.path(),
        "killed.yaml",
        &enterprise_yaml(&killed_url, &dir.path().join("killed")),
    );
    let single = config_file(
        dir.path(),
        "single.yaml",
        &enterprise_yaml(&single_url, &dir.path().join("single")),
    );
    let source = open(&dev).await;
    for batch in 0..6u64 {
        let documents = (0..500u64)
            .map(|n| {
                let id = batch * 500 + n;
                NewDocument {
                    bytes: id as i64,
                    sha256: Some(fake_sha256(id % 700)),
                    run_id: Some(format!("r{}", id % 3)),
                    ..doc(&format!("a{id}"), "https://x", "r")
                }
            })
            .collect();
        source
            .register_or_get_batch(documents)
            .await
            .expect("batch");
    }
    for n in 0..40u64 {
        source
            .put_content(
                header(&format!("blob{n}"), "r"),
                chunked(pseudo_random_bytes(20_000, n % 25), 4096),
            )
            .await
            .expect("upload");
    }

    let mut child = Command::new(workspace_binary("catalog-server"))
        .args(["migrate", "--batch-size", "50", "--from-config"])
        .arg(&dev)
        .arg("--to-config")
        .arg(&killed)
        .env_clear()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("migrate starts");
    let pool = sqlx::PgPool::connect(&killed_url).await.expect("connect");
    let mut seen = 0_i64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while tokio::time::Instant::now() < deadline {
        seen = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        if seen >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(
        (1000..3040).contains(&seen),
        "killed half way, after {seen} records"
    );

    let resumed = migrate(&dev, &killed, &["--batch-size", "50"]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let once = migrate(&dev, &single, &[]);
    assert!(
        once.status.success(),
        "{}",
        String::from_utf8_lossy(&once.stderr)
    );

    let strip = |records: Vec<DocumentRecord>, root: &Path| -> Vec<DocumentRecord> {
        let prefix = format!("file://{}", root.display());
        records
            .into_iter()
            .map(|r| DocumentRecord {
                storage_uri: r.storage_uri.map(|u| u.replace(&prefix, "ROOT")),
                ..r
            })
            .collect()
    };
    let killed_records = strip(
        records(open(&killed).await.as_ref()).await,
        &dir.path().join("killed").join("blobs"),
    );
    let single_records = strip(
        records(open(&single).await.as_ref()).await,
        &dir.path().join("single").join("blobs"),
    );
    assert_eq!(killed_records.len(), 3040);
    assert!(
        killed_records == single_records,
        "the resumed target differs from a single run"
    );
    assert_eq!(
        cas_files(&dir.path().join("killed").join("blobs")),
        cas_files(&dir.path().join("single").join("blobs"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_dry_run_reports_and_writes_nothing() {
    let Some(url) = fresh_database("dry run").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let dev = config_file(
        dir.path(),
        "dev.yaml",
        &development_yaml(&dir.path().join("dev")),
    );
    let ent = config_file(
        dir.path(),
        "ent.yaml",
        &enterprise_yaml(&url, &dir.path().join("ent")),
    );
    populate(open(&dev).await.as_ref()).await;
    let output = migrate(&dev, &ent, &["--dry-run", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(summary["dry_run"], true);
    assert_eq!(summary["records_copied"], 20);
    assert!(summary["bytes_copied"].as_u64().expect("n") > 6 * 1024 * 1024);
    assert_eq!(
        open(&ent).await.stats().await.expect("stats").total_records,
        0,
        "a dry run writes nothing"
    );
    assert!(cas_files(&dir.path().join("ent").join("blobs")).is_empty());
}

/// Uploads `count` distinct files into `catalog`, named from `first`.
async fn upload_files(catalog: &dyn Catalog, first: u64, count: u64) {
    for n in first..first + count {
        let bytes = pseudo_random_bytes(2000 + n as usize, 1000 + n);
        catalog
            .put_content(header(&format!("f{n}"), "unpaywall"), chunked(bytes, 512))
            .await
            .expect("upload");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_target_store_outage_imports_no_record_without_its_bytes_and_a_rerun_finishes() {
    let test = "migration during an S3 outage";
    let Some(garage) = GarageServer::start(test) else {
        return;
    };
    let Some(cloud_url) = fresh_database(test).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let dev = config_file(
        dir.path(),
        "dev.yaml",
        &development_yaml(&dir.path().join("dev")),
    );
    let cloud = config_file(
        dir.path(),
        "cloud.yaml",
        &cloud_yaml(&cloud_url, &garage.settings, &fresh_prefix()),
    );
    upload_files(open(&dev).await.as_ref(), 0, 10).await;
    let first = migrate(&dev, &cloud, &["--batch-size", "4"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    // Ten more records, then the object store goes away part way through the catalog's life.
    upload_files(open(&dev).await.as_ref(), 10, 10).await;
    garage.stop();
    let during = migrate(&dev, &cloud, &["--batch-size", "4", "--json"]);
    assert!(
        !during.status.success(),
        "a run with failures exits non-zero"
    );
    let stderr = String::from_utf8_lossy(&during.stderr);
    assert!(stderr.contains("run the same command again"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&during.stdout).expect("JSON summary");
    assert_eq!(summary["records_skipped"], 10);
    assert_eq!(summary["records_copied"], 0);
    assert_eq!(summary["records_deferred"], 10);
    garage.restart();
    let target = open(&cloud).await;
    assert_eq!(
        target.stats().await.expect("stats").total_records,
        10,
        "no record was imported without its bytes"
    );

    let after = migrate(&dev, &cloud, &["--batch-size", "4", "--verify", "--json"]);
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&after.stdout).expect("JSON summary");
    assert_eq!(summary["records_copied"], 10);
    assert_eq!(summary["records_deferred"], 0);
    let migrated = records(target.as_ref()).await;
    assert_eq!(migrated.len(), 20);
    for record in &migrated {
        let uri = record.storage_uri.as_deref().unwrap_or_default();
        assert!(
            uri.starts_with("s3://"),
            "record {} points at {uri}",
            record.id
        );
        let verified = target.verify(record.id).await.expect("verify");
        assert_eq!(
            verified.status,
            docstokg_catalog::VerificationStatus::Verified,
            "{}",
            verified.message
        );
    }
    Observation::new("S3 store stopped during catalog-server migrate (development to cloud)", "cloud", 1)
        .answered("exit non-zero, 10 records deferred, none imported without bytes; the rerun finishes and all 20 verify")
        .acknowledged(migrated.len() as u64)
        .record();
}
