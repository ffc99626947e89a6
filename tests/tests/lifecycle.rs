//! Retention (in-process on every provider, on a schedule inside a server), the record cache of
//! two servers on one database after a delete, auth of the lifecycle calls, and the catalogctl
//! subcommands against real server processes.

use std::time::Duration;

use chrono::Utc;
use docstokg_catalog::{
    Catalog, DeleteRequest, DeleteSelection, DocumentRecord, ErrorKind, NewDocument,
};
use docstokg_catalog_client::{CatalogClient, ClientOptions};
use docstokg_catalog_tests::{
    data::{fake_sha256, pseudo_random_bytes},
    harness::{cloud_env, development_env, enterprise_env, open_provider},
    process::{self, CliRun, ServerProcess, workspace_binary},
};

const RULES: &str = "old-crawler resolver=crawler max_age=30d; \
                     latest-two resolver=crossref keep_latest=2";

/// A record of `artifact` by `resolver`, created `days_ago`.
fn exported(id: i64, artifact: &str, resolver: &str, days_ago: i64) -> DocumentRecord {
    let at = chrono::DateTime::from_timestamp_micros(
        (Utc::now() - chrono::Duration::days(days_ago)).timestamp_micros(),
    )
    .expect("instant");
    DocumentRecord {
        id,
        artifact_id: artifact.to_owned(),
        source_url: format!("https://x/{artifact}/{id}"),
        resolver: resolver.to_owned(),
        content_type: None,
        bytes: 100,
        sha256: Some(fake_sha256(id as u64)),
        storage_uri: None,
        created_at: at,
        updated_at: at,
        run_id: None,
    }
}

/// Old and new crawler records, four crossref records of one artifact and two of another, and
/// an old record of a resolver no rule names.
fn retention_fixture() -> Vec<DocumentRecord> {
    vec![
        exported(1, "c1", "crawler", 90),
        exported(2, "c2", "crawler", 31),
        exported(3, "c3", "crawler", 1),
        exported(4, "x1", "crossref", 40),
        exported(5, "x1", "crossref", 30),
        exported(6, "x1", "crossref", 20),
        exported(7, "x1", "crossref", 10),
        exported(8, "x2", "crossref", 50),
        exported(9, "x2", "crossref", 5),
        exported(10, "u1", "unpaywall", 400),
    ]
}

async fn ids(catalog: &dyn Catalog) -> Vec<i64> {
    use futures::TryStreamExt;
    catalog
        .list_records(Default::default())
        .await
        .expect("list")
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .expect("list")
}

/// A dry run reports each rule's matches and deletes nothing; a real run deletes exactly them:
/// crawler records older than 30 days, and all but the two newest crossref records of each
/// artifact. Applying again deletes nothing more.
async fn retention_applies_rules(mut env: Vec<(&'static str, String)>) {
    env.push(("DOCSTOKG_RETENTION_RULES", RULES.to_owned()));
    let (_, provider) = open_provider(&env).await;
    provider
        .import_records(retention_fixture(), true)
        .await
        .expect("import");
    let dry = provider.apply_retention(true).await.expect("dry run");
    assert!(dry.dry_run);
    let matched: Vec<(String, i64, i64, i64)> = dry
        .rules
        .iter()
        .map(|r| (r.rule.clone(), r.matched, r.deleted, r.matched_bytes))
        .collect();
    assert_eq!(
        matched,
        vec![
            ("old-crawler".to_owned(), 2, 0, 200),
            ("latest-two".to_owned(), 2, 0, 200)
        ]
    );
    assert_eq!(
        ids(provider.as_ref()).await.len(),
        10,
        "a dry run deletes nothing"
    );
    let done = provider.apply_retention(false).await.expect("apply");
    let deleted: Vec<i64> = done.rules.iter().map(|r| r.deleted).collect();
    assert_eq!(deleted, vec![2, 2]);
    assert_eq!(ids(provider.as_ref()).await, vec![3, 6, 7, 8, 9, 10]);
    let again = provider.apply_retention(false).await.expect("again");
    assert!(again.rules.iter().all(|r| r.matched == 0 && r.deleted == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_retention_development() {
    let dir = tempfile::tempdir().expect("temp dir");
    retention_applies_rules(development_env(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_retention_enterprise() {
    let dir = tempfile::tempdir().expect("temp dir");
    if let Some(env) = enterprise_env(dir.path()).await {
        retention_applies_rules(env).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_retention_cloud() {
    if let Some((env, _storage)) = cloud_env().await {
        retention_applies_rules(env).await;
    }
}

/// A retention run interrupted after deleting part of what it selected (here: records 1 and 4,
/// deleted directly), then applied again, ends exactly where an uninterrupted run ends: deleting
/// candidates never turns a kept record into one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_an_interrupted_retention_run_resumes_to_the_same_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env = development_env(dir.path());
    env.push(("DOCSTOKG_RETENTION_RULES", RULES.to_owned()));
    let (_, provider) = open_provider(&env).await;
    provider
        .import_records(retention_fixture(), true)
        .await
        .expect("import");
    provider
        .delete_records(DeleteRequest {
            selection: DeleteSelection::Ids(vec![1, 4]),
            dry_run: false,
        })
        .await
        .expect("partial run");
    let resumed = provider.apply_retention(false).await.expect("resumed run");
    let deleted: Vec<i64> = resumed.rules.iter().map(|r| r.deleted).collect();
    assert_eq!(deleted, vec![1, 1], "only what the interrupted run left");
    assert_eq!(ids(provider.as_ref()).await, vec![3, 6, 7, 8, 9, 10]);
}

/// A rule that cannot be applied stops the server at start-up with a message naming the key.
#[tokio::test]
async fn test_a_bad_retention_rule_stops_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = tokio::process::Command::new(workspace_binary("catalog-server"))
        .args(["config"])
        .envs(development_env(dir.path()))
        .env("DOCSTOKG_RETENTION_RULES", "everything resolver=crawler")
        .output()
        .await
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("catalog.retention.rules") && stderr.contains("max_age or keep_latest"),
        "{stderr}"
    );
}

/// With `catalog.retention.interval`, the server applies the rules itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_the_server_applies_retention_on_its_schedule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env = development_env(dir.path());
    env.push(("DOCSTOKG_RETENTION_RULES", RULES.to_owned()));
    env.push(("DOCSTOKG_RETENTION_INTERVAL", "1s".to_owned()));
    let server = ServerProcess::start(dir.path(), &env).await;
    let client = server.client().await;
    client
        .import_records(retention_fixture(), true)
        .await
        .expect("import");
    for _ in 0..100 {
        if ids(&client).await == vec![3, 6, 7, 8, 9, 10] {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the scheduled retention never ran: {:?}",
        ids(&client).await
    );
}

/// Two servers on one PostgreSQL database: a record that one of them has cached and the other
/// deletes is not served from the first one's cache: GetRecord is NOT_FOUND and RegisterOrGet
/// creates the key anew, at once, with no wait for any invalidation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_record_deleted_through_one_server_is_gone_from_the_other_ones_cache() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(env) = enterprise_env(dir.path()).await else {
        return;
    };
    let first = ServerProcess::start(dir.path(), &env).await;
    let second = ServerProcess::start(dir.path(), &env).await;
    let (a, b) = (first.client().await, second.client().await);
    for round in 0..20 {
        let document = NewDocument::new(format!("W{round}"), "https://x/w", "r");
        let created = b.register_or_get(document.clone()).await.expect("register");
        assert!(created.created);
        // Cached in the second server, by id and by key.
        assert_eq!(
            b.get_record(created.record.id).await.expect("get"),
            created.record
        );
        assert!(
            !b.register_or_get(document.clone())
                .await
                .expect("again")
                .created
        );
        let deleted = a
            .delete_records(DeleteRequest {
                selection: DeleteSelection::Ids(vec![created.record.id]),
                dry_run: false,
            })
            .await
            .expect("delete");
        assert_eq!(deleted.deleted, 1);
        let gone = b.get_record(created.record.id).await.expect_err("gone");
        assert_eq!(gone.kind, ErrorKind::NotFound, "round {round}");
        let anew = b.register_or_get(document).await.expect("register anew");
        assert!(
            anew.created,
            "round {round}: the deleted key is registered anew"
        );
        assert_ne!(anew.record.id, created.record.id);
    }
}

/// Deleting and applying retention are writes: a read-only token gets PERMISSION_DENIED and
/// deletes nothing; the audit is a read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_lifecycle_writes_need_a_token_that_may_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "writer\nread-only reader\n").expect("tokens");
    let mut env = development_env(dir.path());
    env.push(("DOCSTOKG_AUTH_TOKEN_FILE", tokens.display().to_string()));
    let server = ServerProcess::start(dir.path(), &env).await;
    let connect = |token: &'static str| {
        let endpoint = server.endpoint.clone();
        async move {
            CatalogClient::connect_with(endpoint, ClientOptions::default().with_token(token))
                .await
                .expect("connect")
        }
    };
    let (writer, reader) = (connect("writer").await, connect("reader").await);
    let record = writer
        .register_or_get(NewDocument::new("A", "https://x/a", "r"))
        .await
        .expect("register")
        .record;
    let delete = DeleteRequest {
        selection: DeleteSelection::Ids(vec![record.id]),
        dry_run: false,
    };
    let denied = reader
        .delete_records(delete.clone())
        .await
        .expect_err("denied");
    assert_eq!(denied.kind, ErrorKind::PermissionDenied);
    let denied = reader.apply_retention(true).await.expect_err("denied");
    assert_eq!(denied.kind, ErrorKind::PermissionDenied);
    let audit: Vec<_> = futures::TryStreamExt::try_collect(
        reader
            .audit_storage(Default::default())
            .await
            .expect("a reader may audit"),
    )
    .await
    .expect("audit stream");
    assert!(matches!(
        audit.last(),
        Some(docstokg_catalog::AuditEvent::Summary(_))
    ));
    assert_eq!(
        reader.get_record(record.id).await.expect("still there"),
        record
    );
    assert_eq!(
        writer.delete_records(delete).await.expect("writer").deleted,
        1
    );
}

async fn catalogctl(server: &ServerProcess, args: &[&str]) -> CliRun {
    process::catalogctl(&server.endpoint, args).await
}

/// The JSON objects of a `--json` run, one per line.
fn json_lines(run: &CliRun) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// catalogctl delete (dry run, by id, by filter), retention, audit, duplicates --top and stats,
/// as text and as JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_catalogctl_lifecycle_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env = development_env(dir.path());
    env.push(("DOCSTOKG_RETENTION_RULES", RULES.to_owned()));
    let server = ServerProcess::start(dir.path(), &env).await;
    let client = server.client().await;
    client
        .import_records(retention_fixture(), true)
        .await
        .expect("import");
    let shared = dir.path().join("shared.bin");
    std::fs::write(&shared, pseudo_random_bytes(4000, 1)).expect("write");
    for artifact in ["p1", "p2", "p3"] {
        let put = catalogctl(
            &server,
            &[
                "put",
                shared.to_str().expect("path"),
                "--artifact-id",
                artifact,
                "--source-url",
                "https://x/p",
                "--resolver",
                "unpaywall",
            ],
        )
        .await;
        assert_eq!(put.code, 0, "{}", put.stderr);
    }

    let top = catalogctl(&server, &["duplicates", "--top", "1"]).await;
    assert_eq!(top.code, 0);
    let lines: Vec<&str> = top.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", top.stdout);
    let columns: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        &columns[..3],
        ["3", "12000", "8000"],
        "count, bytes, saved: {}",
        top.stdout
    );

    let stats = catalogctl(&server, &["--json", "stats"]).await;
    let stats = &json_lines(&stats)[0];
    assert_eq!(stats["dedup_saved_bytes"], 8000, "{stats}");
    assert_eq!(
        stats["duplicate_groups_by_resolver"]["unpaywall"], 1,
        "{stats}"
    );

    let dry = catalogctl(&server, &["delete", "--artifact-id", "p1", "--dry-run"]).await;
    assert_eq!(dry.code, 0);
    assert!(
        dry.stdout.starts_with("dry run: would delete 1 records: "),
        "{}",
        dry.stdout
    );
    let deleted = catalogctl(&server, &["--json", "delete", "--id", "1", "--id", "2"]).await;
    let deleted = &json_lines(&deleted)[0];
    assert_eq!(
        (deleted["matched"].clone(), deleted["deleted"].clone()),
        (2.into(), 2.into())
    );
    let refused = catalogctl(&server, &["delete"]).await;
    assert_eq!(
        refused.code, 2,
        "an empty filter is bad input: {}",
        refused.stderr
    );
    assert!(refused.stderr.contains("filter"), "{}", refused.stderr);

    let retention = catalogctl(&server, &["retention", "--dry-run"]).await;
    assert_eq!(retention.code, 0);
    assert!(
        retention
            .stdout
            .contains("latest-two: matched 2 records (200 bytes), dry run: nothing deleted"),
        "{}",
        retention.stdout
    );
    let applied = catalogctl(&server, &["--json", "retention"]).await;
    let applied = &json_lines(&applied)[0];
    assert_eq!(applied["rules"][1]["deleted"], 2, "{applied}");

    let audit = catalogctl(&server, &["--json", "audit", "--rehash-rate", "1"]).await;
    assert_eq!(audit.code, 0);
    let events = json_lines(&audit);
    assert!(events[0].get("Started").is_some(), "{events:?}");
    let summary = &events.last().expect("summary")["Summary"];
    assert_eq!(summary["objects_checked"], 1, "{summary}");
    assert_eq!(summary["orphans"], 0, "{summary}");
    assert_eq!(summary["rehashed"], 3, "{summary}");
    let text = catalogctl(&server, &["audit"]).await;
    assert!(
        text.stdout
            .contains("0 orphans (0 bytes), 0 missing, 0 mismatched, 0 out of scope"),
        "{}",
        text.stdout
    );
}
