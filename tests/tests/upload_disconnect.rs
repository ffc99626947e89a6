//! A client that disconnects in the middle of an upload, or ends it without `finish`, leaves no
//! temporary file, no blob and no record.

use std::time::Duration;

use bytes::Bytes;
use docstokg_catalog::{Catalog, ContentHeader};
use docstokg_catalog_tests::harness::development_over_grpc;
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
}
