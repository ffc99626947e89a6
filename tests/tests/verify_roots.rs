//! Read-only verify roots: files the download pipeline stored in its own directory are verified
//! and served in place; anything outside those roots stays OUT_OF_SCOPE and unopened.

use std::sync::Arc;

use bytes::Bytes;
use docstokg_catalog::{
    Catalog, ContentRequest, ContentSelector, ErrorKind, NewDocument, VerificationStatus,
};
use docstokg_catalog_tests::{
    data::{doc, sha256_of},
    harness::{development_env, open_provider, serve_in_background},
};
use futures::TryStreamExt;

fn record_for(path: &std::path::Path, bytes: &[u8], artifact: &str) -> NewDocument {
    NewDocument {
        bytes: bytes.len() as i64,
        sha256: Some(sha256_of(bytes)),
        storage_uri: Some(format!("file://{}", path.display())),
        ..doc(artifact, &format!("https://x/{artifact}"), "pipeline")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_files_under_verify_roots_are_verified_and_served_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pipeline = dir.path().join("pipeline");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&pipeline).expect("pipeline dir");
    std::fs::create_dir_all(&elsewhere).expect("other dir");
    let mut env = development_env(&dir.path().join("catalog"));
    env.push(("DOCSTOKG_VERIFY_ROOTS", pipeline.display().to_string()));
    let (config, provider) = open_provider(&env).await;
    let served = serve_in_background(provider.clone() as Arc<dyn Catalog>, &config).await;
    let catalog = &served.client;

    let inside = pipeline.join("paper.pdf");
    std::fs::write(&inside, b"pipeline bytes").expect("write");
    let record = catalog
        .register_or_get(record_for(&inside, b"pipeline bytes", "a1"))
        .await
        .expect("register")
        .record;
    assert_eq!(
        catalog.verify(record.id).await.expect("verify").status,
        VerificationStatus::Verified
    );
    let download = catalog
        .get_content(ContentRequest {
            selector: ContentSelector::RecordId(record.id),
            offset: 0,
            length: None,
        })
        .await
        .expect("served in place");
    let bytes: Vec<Bytes> = download.body.try_collect().await.expect("bytes");
    assert_eq!(bytes.concat(), b"pipeline bytes");
    std::fs::write(&inside, b"changed bytes!").expect("tamper");
    assert_eq!(
        catalog.verify(record.id).await.expect("verify").status,
        VerificationStatus::Mismatch
    );

    let outside = elsewhere.join("secret.pdf");
    std::fs::write(&outside, b"not yours").expect("write");
    let stray = catalog
        .register_or_get(record_for(&outside, b"not yours", "a2"))
        .await
        .expect("register")
        .record;
    assert_eq!(
        catalog.verify(stray.id).await.expect("verify").status,
        VerificationStatus::OutOfScope
    );
    let request = ContentRequest {
        selector: ContentSelector::RecordId(stray.id),
        offset: 0,
        length: None,
    };
    assert_eq!(
        catalog
            .get_content(request)
            .await
            .expect_err("not served")
            .kind,
        ErrorKind::FailedPrecondition
    );

    let link = pipeline.join("link.pdf");
    std::os::unix::fs::symlink(&outside, &link).expect("symlink");
    let linked = catalog
        .register_or_get(record_for(&link, b"not yours", "a3"))
        .await
        .expect("register")
        .record;
    assert_eq!(
        catalog.verify(linked.id).await.expect("verify").status,
        VerificationStatus::OutOfScope
    );

    let stats = catalog.stats().await.expect("stats");
    assert_eq!(
        stats.details.get("verify_roots"),
        Some(&pipeline.display().to_string())
    );
    let put = catalog
        .put_content(
            docstokg_catalog::ContentHeader {
                artifact_id: "a4".into(),
                source_url: "https://x/a4".into(),
                resolver: "r".into(),
                ..Default::default()
            },
            docstokg_catalog_tests::data::chunked(b"uploaded".to_vec(), 4),
        )
        .await
        .expect("uploads still go to the provider's store");
    let uri = put.registration.record.storage_uri.expect("stored");
    assert!(uri.contains("/catalog/blobs/cas/"), "{uri}");
}
