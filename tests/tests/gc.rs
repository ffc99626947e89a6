//! Garbage collection of bytes on local disk (development, enterprise) and S3 (cloud): what it
//! removes and keeps after deletes, dry runs, the grace period, leftovers of failed uploads, the
//! race with uploads and registrations of the same bytes, and resuming a killed run.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use docstokg_catalog::{
    Catalog, ContentHeader, DeleteRequest, DeleteSelection, DocumentRecord, ErrorKind, NewDocument,
    VerificationStatus,
};
use docstokg_catalog_server::{
    lifecycle::{GcOptions, GcReport, collect_garbage},
    provider::CatalogProvider,
};
use docstokg_catalog_tests::{
    data::{chunked, pseudo_random_bytes, sha256_of},
    harness::{Storage, cloud_env, development_env, enterprise_env, open_provider},
    process::workspace_binary,
};

/// A provider opened in-process, with where its bytes live.
struct Site {
    provider: Arc<CatalogProvider>,
    storage: Storage,
    env: Vec<(&'static str, String)>,
    dir: tempfile::TempDir,
}

async fn development() -> Option<Site> {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = development_env(dir.path());
    let storage = Storage::Local(dir.path().join("blobs"));
    Some(site(dir, env, storage).await)
}

async fn enterprise() -> Option<Site> {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = enterprise_env(dir.path()).await?;
    let storage = Storage::Local(dir.path().join("blobs"));
    Some(site(dir, env, storage).await)
}

async fn cloud() -> Option<Site> {
    let (env, storage) = cloud_env().await?;
    Some(site(tempfile::tempdir().expect("temp dir"), env, storage).await)
}

async fn site(dir: tempfile::TempDir, env: Vec<(&'static str, String)>, storage: Storage) -> Site {
    let (_, provider) = open_provider(&env).await;
    Site {
        provider,
        storage,
        env,
        dir,
    }
}

impl Site {
    async fn upload(&self, artifact: &str, data: &[u8]) -> DocumentRecord {
        let header = ContentHeader {
            artifact_id: artifact.to_owned(),
            source_url: format!("https://x/{artifact}"),
            resolver: "r".to_owned(),
            ..ContentHeader::default()
        };
        self.provider
            .put_content(header, chunked(data.to_vec(), 4096))
            .await
            .expect("upload")
            .registration
            .record
    }

    async fn delete(&self, ids: Vec<i64>) {
        self.provider
            .delete_records(DeleteRequest {
                selection: DeleteSelection::Ids(ids),
                dry_run: false,
            })
            .await
            .expect("delete");
    }

    async fn gc(&self, grace: Duration, dry_run: bool) -> GcReport {
        let options = GcOptions {
            grace_period: grace,
            dry_run,
        };
        collect_garbage(
            self.provider.metadata(),
            self.provider.blobs(),
            options,
            |_| {},
        )
        .await
        .expect("gc")
    }

    /// Whether bytes with `sha256` are stored.
    async fn stored(&self, sha256: &str) -> bool {
        let blobs = self.provider.blobs();
        blobs
            .size(&blobs.uri_of(sha256))
            .await
            .expect("size")
            .is_some()
    }

    async fn verifies(&self, id: i64) -> bool {
        self.provider.verify(id).await.expect("verify").status == VerificationStatus::Verified
    }

    /// Leaves what a failed upload would: an old temporary file (local) or an old temporary
    /// object and an abandoned multipart upload (S3).
    async fn leave_leftovers(&self) {
        match &self.storage {
            Storage::Local(root) => {
                let path = root.join("tmp").join("upload-crashed-long-ago");
                std::fs::write(&path, b"half an upload").expect("write");
                let file = std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .expect("open");
                file.set_modified(SystemTime::now() - Duration::from_secs(7200))
                    .expect("set mtime");
            }
            Storage::S3(view) => {
                view.client
                    .put_object()
                    .bucket(&view.bucket)
                    .key(format!("{}tmp/upload-crashed", view.prefix))
                    .body(b"half an upload".to_vec().into())
                    .send()
                    .await
                    .expect("put a temporary object");
                view.client
                    .create_multipart_upload()
                    .bucket(&view.bucket)
                    .key(format!("{}tmp/upload-abandoned", view.prefix))
                    .send()
                    .await
                    .expect("start a multipart upload");
            }
        }
    }

    /// (temporary files or objects, incomplete multipart uploads) left in the store.
    async fn leftovers(&self) -> (usize, usize) {
        match &self.storage {
            Storage::Local(root) => (std::fs::read_dir(root.join("tmp")).expect("tmp").count(), 0),
            Storage::S3(view) => (
                view.keys("tmp/").await.len(),
                view.incomplete_uploads().await,
            ),
        }
    }
}

/// After deletes, a dry run reports what would go and removes nothing; a grace period keeps
/// young bytes; a real run removes exactly the unreferenced bytes and the leftovers of failed
/// uploads, and every remaining record verifies.
async fn delete_then_gc(site: Site) {
    let shared = pseudo_random_bytes(5000, 1);
    let lonely = pseudo_random_bytes(3000, 2);
    let kept = pseudo_random_bytes(1000, 3);
    let shared_a = site.upload("shared-a", &shared).await;
    let shared_b = site.upload("shared-b", &shared).await;
    let lonely_record = site.upload("lonely", &lonely).await;
    let kept_record = site.upload("kept", &kept).await;
    site.delete(vec![shared_a.id, lonely_record.id]).await;
    site.leave_leftovers().await;
    // Garage's timestamps have a resolution of a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let dry = site.gc(Duration::ZERO, true).await;
    assert_eq!(
        (dry.scanned, dry.removed, dry.removed_bytes),
        (3, 1, 3000),
        "{dry:?}"
    );
    assert_eq!(dry.temporary, 1, "{dry:?}");
    assert!(
        site.stored(&sha256_of(&lonely)).await,
        "a dry run removes nothing"
    );
    assert_eq!(site.leftovers().await.0, 1, "a dry run removes nothing");

    let young = site.gc(Duration::from_secs(3 * 3600), false).await;
    assert_eq!((young.young, young.removed), (3, 0), "{young:?}");
    assert!(site.stored(&sha256_of(&lonely)).await);

    let done = site.gc(Duration::ZERO, false).await;
    assert_eq!((done.removed, done.removed_bytes), (1, 3000), "{done:?}");
    assert_eq!(done.referenced, 2, "{done:?}");
    assert_eq!(done.temporary, 1, "{done:?}");
    assert!(
        !site.stored(&sha256_of(&lonely)).await,
        "unreferenced bytes are gone"
    );
    assert!(
        site.stored(&sha256_of(&shared)).await,
        "bytes another record references stay"
    );
    assert_eq!(site.leftovers().await, (0, 0), "leftovers are gone");
    assert!(matches!(&site.storage, Storage::Local(_)) || done.multipart_uploads == 1);
    for record in [&shared_b, &kept_record] {
        assert!(
            site.verifies(record.id).await,
            "record {} verifies",
            record.id
        );
    }
    let again = site.gc(Duration::ZERO, false).await;
    assert_eq!(
        (again.removed, again.temporary),
        (0, 0),
        "nothing is removed twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_delete_then_gc_development() {
    delete_then_gc(development().await.expect("development")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_delete_then_gc_enterprise() {
    if let Some(site) = enterprise().await {
        delete_then_gc(site).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_delete_then_gc_cloud() {
    if let Some(site) = cloud().await {
        delete_then_gc(site).await;
    }
}

/// The race every content-addressed store has: a collector runs in a loop (grace period 0)
/// while uploaders store the same bytes again, register new records pointing at them, and
/// delete records so the bytes keep becoming unreferenced. An upload or registration either
/// fails (UNAVAILABLE, FAILED_PRECONDITION: not acknowledged) or its record's bytes stay:
/// every acknowledged record that was not deleted verifies at the end.
async fn collector_races_uploads(site: Site, rounds: usize) {
    let site = Arc::new(site);
    let stop = Arc::new(AtomicBool::new(false));
    let removed = Arc::new(AtomicU64::new(0));
    let collector = {
        let (site, stop, removed) = (site.clone(), stop.clone(), removed.clone());
        tokio::spawn(async move {
            let mut runs = 0;
            while !stop.load(Ordering::Relaxed) {
                let report = site.gc(Duration::ZERO, false).await;
                removed.fetch_add(report.removed, Ordering::Relaxed);
                runs += 1;
            }
            runs
        })
    };
    // Bytes that a kept record references are never uploaded again, so a collector that removed
    // them wrongly could not be healed by a later upload of the same bytes.
    let contents: Vec<Vec<u8>> = (0..rounds as u64)
        .map(|i| pseudo_random_bytes(512, 100 + i))
        .collect();
    let retired = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let mut uploaders = Vec::new();
    for worker in 0..3 {
        let (site, contents, retired) = (site.clone(), contents.clone(), retired.clone());
        uploaders.push(tokio::spawn(async move {
            let mut live = Vec::new();
            let (mut refused, mut retried) = (0, 0);
            for round in 0..rounds {
                let index = (round / 4 + worker * 7) % contents.len();
                if retired.lock().expect("lock").contains(&index) {
                    continue;
                }
                let data = &contents[index];
                let sha256 = sha256_of(data);
                let header = ContentHeader {
                    artifact_id: format!("w{worker}-r{round}"),
                    source_url: "https://x/race".into(),
                    resolver: "race".into(),
                    expected_sha256: (round % 2 == 0).then(|| sha256.clone()),
                    ..ContentHeader::default()
                };
                let uploaded = match site
                    .provider
                    .put_content(header, chunked(data.clone(), 1024))
                    .await
                {
                    Ok(outcome) => Some(outcome.registration.record),
                    Err(error) if error.kind == ErrorKind::Unavailable => {
                        retried += 1;
                        None
                    }
                    Err(error) => panic!("upload failed: {error}"),
                };
                let blobs = site.provider.blobs();
                let pointing = NewDocument {
                    bytes: data.len() as i64,
                    sha256: Some(sha256.clone()),
                    storage_uri: Some(blobs.uri_of(&sha256)),
                    ..NewDocument::new(format!("w{worker}-ref{round}"), "https://x/ref", "race")
                };
                let registered = match site.provider.register_or_get(pointing).await {
                    Ok(outcome) => Some(outcome.record),
                    Err(error)
                        if matches!(
                            error.kind,
                            ErrorKind::FailedPrecondition | ErrorKind::Unavailable
                        ) =>
                    {
                        refused += 1;
                        None
                    }
                    Err(error) => panic!("registration failed: {error}"),
                };
                // Most records go again at once, so their bytes keep becoming unreferenced.
                for record in [uploaded, registered].into_iter().flatten() {
                    if record.id % 7 == 0 {
                        live.push(record.id);
                        retired.lock().expect("lock").insert(index);
                    } else {
                        site.delete(vec![record.id]).await;
                    }
                }
            }
            (live, refused, retried)
        }));
    }
    let mut live = Vec::new();
    let (mut refused, mut retried) = (0, 0);
    for uploader in uploaders {
        let (ids, r, u) = uploader.await.expect("uploader");
        live.extend(ids);
        refused += r;
        retried += u;
    }
    stop.store(true, Ordering::Relaxed);
    let runs = collector.await.expect("collector");
    let removed = removed.load(Ordering::Relaxed);
    eprintln!(
        "race: {runs} collector runs removed {removed} objects; {} live records, {refused} \
         registrations refused, {retried} uploads to retry",
        live.len()
    );
    assert!(
        removed > 0,
        "the collector must have removed bytes, or nothing raced"
    );
    assert!(!live.is_empty());
    for id in live {
        assert!(
            site.verifies(id).await,
            "acknowledged record {id} lost its bytes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn test_collector_races_uploads_on_local_disk() {
    collector_races_uploads(development().await.expect("development"), 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn test_collector_races_uploads_on_s3() {
    if let Some(site) = cloud().await {
        collector_races_uploads(site, 100).await;
    }
}

/// A pin of a call still running survives a run with no grace period: expired under the call,
/// it would let the next run remove bytes the call's record is about to reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_live_pin_outlives_a_run_without_grace_period() {
    let site = development().await.expect("development");
    let stored = site.upload("pinned", &pseudo_random_bytes(600, 5)).await;
    let sha256 = stored.sha256.clone().expect("hash");
    site.delete(vec![stored.id]).await;
    let lifecycle = site.provider.metadata().lifecycle();
    let pin = lifecycle.pin(&sha256).await.expect("pin");
    let report = site.gc(Duration::ZERO, false).await;
    assert_eq!((report.removed, report.expired_pins), (0, 0), "{report:?}");
    let pinned = lifecycle
        .pinned(std::slice::from_ref(&sha256))
        .await
        .expect("pins");
    assert!(pinned.contains(&sha256), "the pin is still there");
    lifecycle.unpin(pin).await.expect("unpin");
    assert_eq!(site.gc(Duration::ZERO, false).await.removed, 1);
}

/// An upload of bytes a collector holds a tombstone on waits until the collector is done, then
/// stores them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_an_upload_waits_for_a_collector_holding_its_bytes() {
    let site = Arc::new(development().await.expect("development"));
    let data = pseudo_random_bytes(1000, 9);
    let sha256 = sha256_of(&data);
    let lifecycle = site.provider.metadata().lifecycle();
    lifecycle
        .tombstone(std::slice::from_ref(&sha256))
        .await
        .expect("tombstone");
    let upload = {
        let (site, data, sha256) = (site.clone(), data.clone(), sha256.clone());
        tokio::spawn(async move {
            let header = ContentHeader {
                expected_sha256: Some(sha256),
                artifact_id: "waits".into(),
                source_url: "https://x/w".into(),
                resolver: "r".into(),
                ..ContentHeader::default()
            };
            site.provider.put_content(header, chunked(data, 500)).await
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!upload.is_finished(), "the upload waits for the tombstone");
    lifecycle
        .clear_tombstones(std::slice::from_ref(&sha256))
        .await
        .expect("clear");
    let outcome = upload.await.expect("task").expect("upload");
    assert!(site.verifies(outcome.registration.record.id).await);
}

/// A killed run leaves tombstones; the next run finishes them, removing what is still
/// unreferenced and keeping what a record references meanwhile, and clears them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_tombstones_of_a_killed_run_are_finished_by_the_next() {
    let site = development().await.expect("development");
    let orphan = site.upload("orphan", &pseudo_random_bytes(700, 1)).await;
    let revived = site.upload("revived", &pseudo_random_bytes(800, 2)).await;
    let orphan_sha = orphan.sha256.clone().expect("hash");
    let revived_sha = revived.sha256.clone().expect("hash");
    site.delete(vec![orphan.id]).await;
    // As a run killed after step 1 leaves them: the revived bytes got a record meanwhile.
    let lifecycle = site.provider.metadata().lifecycle();
    lifecycle
        .tombstone(&[orphan_sha.clone(), revived_sha.clone()])
        .await
        .expect("tombstones");
    let report = site.gc(Duration::from_secs(3600), false).await;
    assert_eq!((report.resumed, report.removed), (2, 1), "{report:?}");
    assert!(!site.stored(&orphan_sha).await);
    assert!(site.verifies(revived.id).await);
    assert!(lifecycle.tombstones().await.expect("tombstones").is_empty());
}

/// `catalog-server gc` killed with SIGKILL mid-run, then run again: every unreferenced object
/// is gone, every record verifies, and the report and dry run are JSON on stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_gc_command_killed_then_rerun_finishes_the_job() {
    let site = development().await.expect("development");
    let mut orphans = Vec::new();
    for i in 0..400 {
        orphans.push(
            site.upload(&format!("o{i}"), &pseudo_random_bytes(64, i))
                .await
                .id,
        );
    }
    let kept = site.upload("kept", &pseudo_random_bytes(64, 9999)).await;
    for chunk in orphans.chunks(100) {
        site.delete(chunk.to_vec()).await;
    }
    site.provider.close().await;
    let command = |args: &[&str]| {
        let mut command = tokio::process::Command::new(workspace_binary("catalog-server"));
        command
            .arg("gc")
            .args(args)
            .current_dir(site.dir.path())
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        for (name, value) in &site.env {
            command.env(name, value);
        }
        command
    };
    let dry = command(&["--dry-run", "--json", "--grace-period", "0"])
        .output()
        .await
        .expect("gc runs");
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).expect("JSON report");
    assert_eq!(report["removed"], 400, "{report}");
    assert_eq!(report["dry_run"], true);
    let mut killed = command(&["--grace-period", "0"])
        .spawn()
        .expect("gc starts");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let _ = killed.start_kill();
    let _ = killed.wait().await;
    let rerun = command(&["--json", "--grace-period", "0"])
        .output()
        .await
        .expect("gc runs");
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&rerun.stdout).expect("JSON report");
    assert_eq!(
        report["scanned"], 1,
        "only the referenced object is left: {report}"
    );
    let (_, provider) = open_provider(&site.env).await;
    assert_eq!(
        provider.verify(kept.id).await.expect("verify").status,
        VerificationStatus::Verified
    );
    let text = command(&["--grace-period", "0"])
        .output()
        .await
        .expect("gc runs");
    let text = String::from_utf8(text.stdout).expect("UTF-8");
    assert!(
        text.contains("1 stored objects scanned; removed 0"),
        "{text}"
    );
}
