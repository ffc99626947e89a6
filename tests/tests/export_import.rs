//! `catalogctl export` and `catalogctl import` against real `catalog-server` processes on the
//! development provider, each in its own temporary directory.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use docstokg_catalog::{Catalog, ContentHeader, DocumentRecord, NewDocument, RecordFilter};
use docstokg_catalog_client::CatalogClient;
use docstokg_catalog_tests::data::{chunked, fake_sha256, pseudo_random_bytes};
use docstokg_catalog_tests::harness::development_env;
use docstokg_catalog_tests::process::{self, CliRun, ServerProcess};
use futures::TryStreamExt;

/// A catalog server with its data directory (the server is dropped, and killed, first).
struct Server {
    process: ServerProcess,
    client: CatalogClient,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let process = ServerProcess::start(dir.path(), &development_env(dir.path())).await;
    let client = process.client().await;
    Server {
        process,
        client,
        _dir: dir,
    }
}

async fn catalogctl(server: &Server, args: &[&str]) -> CliRun {
    process::catalogctl(&server.process.endpoint, args).await
}

/// A number from catalogctl's one-line JSON summary.
fn summary_count(summary: &str, field: &str) -> i64 {
    let key = format!("\"{field}\":");
    let at = summary
        .find(&key)
        .unwrap_or_else(|| panic!("{field} in {summary}"))
        + key.len();
    let digits: String = summary[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{field} in {summary}"))
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

const RESOLVERS: [&str; 4] = [
    "unpaywall",
    "crossref",
    "arXiv \"preprints\"",
    "résolveur-ü",
];

/// Document `n` of the mix: with and without every optional field, several resolvers, shared
/// hashes, and strings with quotes, backslashes, control characters and non-ASCII text.
fn document(n: u64) -> NewDocument {
    let artifact_id = if n.is_multiple_of(97) {
        format!("doi:10.1000/\"quoted\" \\ tab\t newline\n 😀 \u{2028} ü {n}")
    } else {
        format!("artifact-{}", n / 3)
    };
    NewDocument {
        artifact_id,
        source_url: format!("https://example.org/ünï/{n}?q=\"x\"&y=1"),
        resolver: RESOLVERS[(n % 4) as usize].to_owned(),
        content_type: match n % 3 {
            0 => None,
            1 => Some("application/pdf".to_owned()),
            _ => Some("text/html; charset=\"utf-8\"".to_owned()),
        },
        bytes: (n * 37) as i64,
        sha256: (n % 4 != 1).then(|| fake_sha256(n % 700)),
        storage_uri: match n % 5 {
            0 => Some(format!("s3://bucket/ünï/{n}.pdf")),
            1 => Some(format!("file:///data/\"q\"/{n}.pdf")),
            _ => None,
        },
        run_id: (!n.is_multiple_of(6)).then(|| format!("run-{}", n % 3)),
    }
}

/// The creation instant of historic record `k`: March 2020, one a day, with microseconds.
fn historic_time(k: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 3, 1, 8, 0, 0)
        .single()
        .expect("date")
        + Duration::days(k)
        + Duration::microseconds(123_456 + k)
}

/// Fills `client` with 1,524 records: 1,200 registered, 20 historic ones imported with ids from
/// 50,000 (so later ids leave a gap) and 2020 timestamps (updated_at a second later), 300 more
/// registered after them, and 4 uploads (two of identical bytes).
async fn populate(client: &CatalogClient) -> usize {
    for start in (0..1200).step_by(400) {
        let batch = (start..start + 400).map(document).collect();
        client.register_or_get_batch(batch).await.expect("register");
    }
    let historic = (0..20_i64)
        .map(|k| {
            let document = document(10_000 + k as u64);
            let created_at = historic_time(k);
            DocumentRecord::from_document(
                50_000 + 10 * k,
                document,
                created_at,
                created_at + Duration::seconds(1),
            )
        })
        .collect();
    let outcomes = client
        .import_records(historic, true)
        .await
        .expect("import historic");
    assert_eq!(outcomes[19].record.id, 50_190, "the source keeps the ids");
    let batch = (1200..1500).map(document).collect();
    client.register_or_get_batch(batch).await.expect("register");
    for (k, seed) in [1_u64, 2, 3, 2].into_iter().enumerate() {
        let header = ContentHeader {
            artifact_id: format!("upload-{k}"),
            source_url: format!("https://example.org/upload/{k}.pdf"),
            resolver: "upload".to_owned(),
            content_type: (k != 3).then(|| "application/pdf".to_owned()),
            run_id: (k % 2 == 0).then(|| "run-upload".to_owned()),
            ..ContentHeader::default()
        };
        let bytes = pseudo_random_bytes(10_000 + seed as usize, seed);
        client
            .put_content(header, chunked(bytes, 4096))
            .await
            .expect("upload");
    }
    1524
}

async fn all_records(client: &CatalogClient) -> Vec<DocumentRecord> {
    client
        .list_records(RecordFilter::default())
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("records")
}

/// Records ordered by key, ids set to 0.
fn without_ids(records: &[DocumentRecord]) -> Vec<DocumentRecord> {
    let mut records: Vec<DocumentRecord> = records
        .iter()
        .map(|record| DocumentRecord {
            id: 0,
            ..record.clone()
        })
        .collect();
    records.sort_by(|a, b| {
        (&a.artifact_id, &a.source_url, &a.resolver).cmp(&(
            &b.artifact_id,
            &b.source_url,
            &b.resolver,
        ))
    });
    records
}

/// Asserts equal lists, naming the first record that differs.
fn assert_same(expected: &[DocumentRecord], actual: &[DocumentRecord]) {
    assert_eq!(expected.len(), actual.len(), "number of records");
    for (expected, actual) in expected.iter().zip(actual) {
        assert_eq!(expected, actual);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_export_then_import_reproduces_every_record() {
    let source = start().await;
    let total = populate(&source.client).await;
    let source_records = all_records(&source.client).await;
    assert_eq!(source_records.len(), total);
    assert!(
        source_records.iter().any(|r| r
            .storage_uri
            .as_deref()
            .is_some_and(|u| u.contains("/cas/"))),
        "uploads are part of the export"
    );

    let work = tempfile::tempdir().expect("temp dir");
    let file = work.path().join("catalog.jsonl");
    let export = catalogctl(&source, &["export", "--output", path_str(&file)]).await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export
            .stderr
            .contains(&format!("exported {total} records to {}", file.display())),
        "{}",
        export.stderr
    );
    let text = std::fs::read_to_string(&file).expect("export file");
    assert_eq!(text.lines().count(), total);
    assert!(!text.contains(":\"\""), "absent fields are null, not empty");
    assert!(
        text.contains("\"sha256\":null")
            && text.contains("\"created_at\":\"2020-03-01T08:00:00.123456Z\"")
    );
    let to_stdout = catalogctl(&source, &["export"]).await;
    assert_eq!(to_stdout.code, 0, "{}", to_stdout.stderr);
    assert_eq!(
        to_stdout.stdout, text,
        "stdout export equals the file export"
    );

    // Into an empty catalog: every field but the id.
    let target = start().await;
    let import = catalogctl(&target, &["--json", "import", path_str(&file)]).await;
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert_eq!(summary_count(&import.stdout, "created"), total as i64);
    assert_eq!(summary_count(&import.stdout, "existing"), 0);
    assert_eq!(summary_count(&import.stdout, "lines_read"), total as i64);
    let target_records = all_records(&target.client).await;
    assert_same(&without_ids(&source_records), &without_ids(&target_records));
    let source_ids: Vec<i64> = source_records.iter().map(|r| r.id).collect();
    let target_ids: Vec<i64> = target_records.iter().map(|r| r.id).collect();
    assert_ne!(
        source_ids, target_ids,
        "without --keep-ids the target assigns ids"
    );

    // Again: idempotent.
    let again = catalogctl(&target, &["--json", "import", path_str(&file)]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(summary_count(&again.stdout, "created"), 0);
    assert_eq!(summary_count(&again.stdout, "existing"), total as i64);
    assert_eq!(summary_count(&again.stdout, "differing"), 0);
    assert_eq!(all_records(&target.client).await.len(), total);

    // With --keep-ids into another empty catalog: the ids too.
    let keeper = start().await;
    let import = catalogctl(
        &keeper,
        &["--json", "import", "--keep-ids", path_str(&file)],
    )
    .await;
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert_eq!(summary_count(&import.stdout, "ids_kept"), total as i64);
    assert_eq!(summary_count(&import.stdout, "ids_reassigned"), 0);
    assert_same(&source_records, &all_records(&keeper.client).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_import_of_a_download_manifest_maps_its_fields() {
    let target = start().await;
    let work = tempfile::tempdir().expect("temp dir");
    let manifest = work.path().join("manifest.jsonl");
    let upper_hash = fake_sha256(7).to_ascii_uppercase();
    let lines = [
        format!(
            r#"{{"artifact_id":"m-1","url":"https://example.org/m1.pdf","resolver":"unpaywall","size":1234,"path":"/data/downloads/m 1.pdf","sha256":"{upper_hash}","content_type":"application/pdf","run_id":"run-7","status":"downloaded","elapsed_ms":12.5,"extra":{{"nested":[1,2]}}}}"#
        ),
        r#"{"artifact_id":"m-2","source_url":"https://example.org/m2","resolver":"crossref","bytes":10,"storage_uri":"s3://bucket/m2"}"#.to_owned(),
        String::new(),
        r#"{"artifact_id":"m-3","url":"https://example.org/ü/\"q\"","resolver":"arxiv","size":null,"path":null,"sha256":""}"#.to_owned(),
        r#"{"artifact_id":"m-1","url":"https://example.org/m1.pdf","resolver":"unpaywall","size":1234}"#.to_owned(),
    ];
    std::fs::write(&manifest, lines.join("\n") + "\n").expect("write manifest");
    let import = catalogctl(
        &target,
        &[
            "--json",
            "import",
            "--format",
            "manifest",
            path_str(&manifest),
        ],
    )
    .await;
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert_eq!(summary_count(&import.stdout, "lines_read"), 5);
    assert_eq!(summary_count(&import.stdout, "created"), 3);
    assert_eq!(summary_count(&import.stdout, "existing"), 1);
    assert_eq!(summary_count(&import.stdout, "differing"), 1);

    let get = |artifact: &'static str| {
        let client = target.client.clone();
        async move {
            let mut records = client.get_by_artifact(artifact).await.expect("lookup");
            assert_eq!(records.len(), 1, "{artifact}");
            records.remove(0)
        }
    };
    let m1 = get("m-1").await;
    assert_eq!(m1.source_url, "https://example.org/m1.pdf");
    assert_eq!(m1.resolver, "unpaywall");
    assert_eq!(m1.bytes, 1234);
    assert_eq!(
        m1.storage_uri.as_deref(),
        Some("file:///data/downloads/m 1.pdf")
    );
    assert_eq!(m1.sha256, Some(fake_sha256(7)));
    assert_eq!(m1.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(m1.run_id.as_deref(), Some("run-7"));
    let m2 = get("m-2").await;
    assert_eq!(
        (m2.source_url.as_str(), m2.bytes, m2.storage_uri.as_deref()),
        ("https://example.org/m2", 10, Some("s3://bucket/m2"))
    );
    assert_eq!((m2.sha256, m2.content_type, m2.run_id), (None, None, None));
    let m3 = get("m-3").await;
    assert_eq!(m3.source_url, "https://example.org/ü/\"q\"");
    assert_eq!((m3.bytes, m3.sha256, m3.storage_uri), (0, None, None));

    // Entries the mapping rejects are reported by line.
    let bad = work.path().join("bad.jsonl");
    let lines = [
        r#"{"artifact_id":"b-1","url":"https://example.org/b1","resolver":"r","path":"relative/b1.pdf"}"#,
        r#"{"artifact_id":"b-2","resolver":"r"}"#,
        r#"{"artifact_id":"b-3","url":"https://example.org/b3","resolver":"r","size":5}"#,
    ];
    std::fs::write(&bad, lines.join("\n")).expect("write manifest");
    let import = catalogctl(
        &target,
        &[
            "import",
            "--format",
            "manifest",
            "--on-error",
            "skip",
            path_str(&bad),
        ],
    )
    .await;
    assert_eq!(import.code, 1, "{}", import.stderr);
    let name = bad.display();
    assert!(
        import.stderr.contains(&format!("{name}:1: path")),
        "{}",
        import.stderr
    );
    assert!(
        import.stderr.contains(&format!("{name}:2: url")),
        "{}",
        import.stderr
    );
    assert_eq!(get("b-3").await.bytes, 5);
    assert!(
        target
            .client
            .get_by_artifact("b-1")
            .await
            .expect("lookup")
            .is_empty()
    );
}

/// Line `n` of a records file: a valid exported record.
fn record_line(n: u64) -> String {
    format!(
        r#"{{"id":{n},"artifact_id":"bulk-{n}","source_url":"https://example.org/bulk/{n}","resolver":"bulk","content_type":null,"bytes":{n},"sha256":null,"storage_uri":null,"created_at":"2024-05-01T12:00:00.{n:06}Z","updated_at":"2024-05-01T12:00:00.{n:06}Z","run_id":"bulk-run"}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_malformed_line_stops_or_is_skipped_and_nothing_before_it_is_lost() {
    let work = tempfile::tempdir().expect("temp dir");
    let file = work.path().join("records.jsonl");
    let bad_hash = record_line(1400).replace("\"sha256\":null", "\"sha256\":\"xyz\"");
    let no_resolver = record_line(1300).replace("\"resolver\":\"bulk\",", "");
    let lines: Vec<String> = (1..=1500_u64)
        .map(|n| match n {
            600 => String::new(),
            1203 => r#"{"id":1203,"artifact_id":"bulk-1203""#.to_owned(),
            1300 => no_resolver.clone(),
            1400 => bad_hash.clone(),
            1450 => "   ".to_owned(),
            _ => record_line(n),
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").expect("write records");
    let name = file.display().to_string();
    let (before, good) = (1201_i64, 1495_i64);
    let target = start().await;
    let total =
        |client: CatalogClient| async move { client.stats().await.expect("stats").total_records };

    // Stop: everything before line 1203 (a full batch of 1000 and the 201 read after it).
    let stop = catalogctl(&target, &["--json", "import", path_str(&file)]).await;
    assert_eq!(stop.code, 2, "{}", stop.stderr);
    assert!(
        stop.stderr
            .contains(&format!("{name}:1203: invalid record")),
        "{}",
        stop.stderr
    );
    assert!(!stop.stderr.contains(":1300:"), "{}", stop.stderr);
    assert_eq!(summary_count(&stop.stdout, "created"), before);
    assert_eq!(summary_count(&stop.stdout, "stopped_at_line"), 1203);
    assert_eq!(total(target.client.clone()).await, before);
    assert_eq!(
        target
            .client
            .get_by_artifact("bulk-1202")
            .await
            .expect("lookup")
            .len(),
        1
    );
    assert!(
        target
            .client
            .get_by_artifact("bulk-1204")
            .await
            .expect("lookup")
            .is_empty()
    );

    // Skip: every good line, in batches of 250; exit code 1.
    let args = [
        "--json",
        "import",
        "--on-error",
        "skip",
        "--batch-size",
        "250",
        path_str(&file),
    ];
    let skip = catalogctl(&target, &args).await;
    assert_eq!(skip.code, 1, "{}", skip.stderr);
    for (line, reason) in [
        (1203, "invalid record"),
        (1300, "resolver"),
        (1400, "sha256"),
    ] {
        assert!(
            skip.stderr.contains(&format!("{name}:{line}: ")) && skip.stderr.contains(reason),
            "line {line}: {}",
            skip.stderr
        );
    }
    assert_eq!(summary_count(&skip.stdout, "malformed"), 3);
    assert_eq!(summary_count(&skip.stdout, "created"), good - before);
    assert_eq!(summary_count(&skip.stdout, "existing"), before);
    assert_eq!(total(target.client.clone()).await, good);

    // Again: nothing new.
    let again = catalogctl(&target, &args).await;
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(summary_count(&again.stdout, "created"), 0);
    assert_eq!(summary_count(&again.stdout, "existing"), good);
    assert_eq!(total(target.client.clone()).await, good);
    let record = &target
        .client
        .get_by_artifact("bulk-1499")
        .await
        .expect("lookup")[0];
    assert_eq!(
        record.created_at.to_rfc3339(),
        "2024-05-01T12:00:00.001499+00:00"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_export_with_filters_exports_only_matching_records() {
    let source = start().await;
    populate(&source.client).await;
    let records = all_records(&source.client).await;
    let full = catalogctl(&source, &["export"]).await;
    assert_eq!(full.code, 0, "{}", full.stderr);
    let full_lines: Vec<&str> = full.stdout.lines().collect();
    assert_eq!(full_lines.len(), records.len());
    for (line, record) in full_lines.iter().zip(&records) {
        assert!(
            line.starts_with(&format!("{{\"id\":{},", record.id)),
            "{line}"
        );
    }

    let march = |day: u32| {
        Utc.with_ymd_and_hms(2020, 3, day, 0, 0, 0)
            .single()
            .expect("date")
    };
    type Matches = Box<dyn Fn(&DocumentRecord) -> bool>;
    let cases: Vec<(Vec<&str>, Matches)> = vec![
        (
            vec!["--resolver", "arXiv \"preprints\""],
            Box::new(|r| r.resolver == "arXiv \"preprints\""),
        ),
        (
            vec!["--run-id", "run-1", "--content-type", "application/pdf"],
            Box::new(|r| {
                r.run_id.as_deref() == Some("run-1")
                    && r.content_type.as_deref() == Some("application/pdf")
            }),
        ),
        (
            vec!["--created-before", "2021-01-01T00:00:00Z"],
            Box::new(|r| r.created_at.timestamp() < 1_609_459_200),
        ),
        (
            vec![
                "--created-after",
                "2020-03-05T00:00:00Z",
                "--created-before",
                "2020-03-10T00:00:00Z",
            ],
            Box::new(move |r| r.created_at >= march(5) && r.created_at < march(10)),
        ),
    ];
    for (filter, matches) in cases {
        let expected: Vec<&str> = full_lines
            .iter()
            .zip(&records)
            .filter(|(_, record)| matches(record))
            .map(|(line, _)| *line)
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < records.len(),
            "{filter:?} selects some records"
        );
        let mut args = vec!["export"];
        args.extend(filter.iter().copied());
        let export = catalogctl(&source, &args).await;
        assert_eq!(export.code, 0, "{filter:?}: {}", export.stderr);
        let exported: Vec<&str> = export.stdout.lines().collect();
        assert_eq!(exported, expected, "{filter:?}");
        assert!(
            export
                .stderr
                .contains(&format!("exported {} records to stdout", expected.len())),
            "{}",
            export.stderr
        );
    }
}
