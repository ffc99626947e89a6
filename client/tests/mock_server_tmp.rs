#![allow(missing_docs, clippy::unwrap_used)]
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use docstokg_catalog::proto::catalog_service_server::{CatalogService, CatalogServiceServer};
use docstokg_catalog::proto::*;
use docstokg_catalog::{
    Catalog, CatalogError, ContentHeader, ContentRequest, ContentSelector, ErrorKind, RecordFilter,
};
use docstokg_catalog_client::{CatalogClient, ClientOptions};
use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

type S<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[derive(Default, Clone)]
struct Mock {
    upload: Arc<Mutex<Vec<String>>>,
}

fn rec(id: i64) -> DocumentRecord {
    DocumentRecord {
        id,
        artifact_id: "a".into(),
        source_url: "u".into(),
        resolver: "r".into(),
        created_at: Some(docstokg_catalog::convert::to_timestamp(chrono::Utc::now())),
        updated_at: Some(docstokg_catalog::convert::to_timestamp(chrono::Utc::now())),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl CatalogService for Mock {
    async fn register_or_get(
        &self,
        _: Request<RegisterOrGetRequest>,
    ) -> Result<Response<RegisterOrGetResponse>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn register_or_get_batch(
        &self,
        _: Request<RegisterOrGetBatchRequest>,
    ) -> Result<Response<RegisterOrGetBatchResponse>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn get_record(
        &self,
        r: Request<GetRecordRequest>,
    ) -> Result<Response<GetRecordResponse>, Status> {
        if r.get_ref().id == 404 {
            return Err(CatalogError::not_found("record 404 does not exist").into());
        }
        if r.get_ref().id == 0 {
            return Err(CatalogError::invalid("id", "must be positive").into());
        }
        if r.get_ref().id == 999 {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Ok(Response::new(GetRecordResponse {
            record: Some(rec(r.get_ref().id)),
        }))
    }
    async fn get_by_artifact(
        &self,
        _: Request<GetByArtifactRequest>,
    ) -> Result<Response<GetByArtifactResponse>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn get_by_sha256(
        &self,
        _: Request<GetBySha256Request>,
    ) -> Result<Response<GetBySha256Response>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn get_by_run(
        &self,
        _: Request<GetByRunRequest>,
    ) -> Result<Response<GetByRunResponse>, Status> {
        Err(Status::unimplemented(""))
    }
    type ListRecordsStream = S<ListRecordsResponse>;
    async fn list_records(
        &self,
        _: Request<ListRecordsRequest>,
    ) -> Result<Response<Self::ListRecordsStream>, Status> {
        let s = futures::stream::iter((1..=3).map(|i| {
            Ok(ListRecordsResponse {
                record: Some(rec(i)),
            })
        }));
        Ok(Response::new(Box::pin(s)))
    }
    type FindDuplicatesStream = S<FindDuplicatesResponse>;
    async fn find_duplicates(
        &self,
        _: Request<FindDuplicatesRequest>,
    ) -> Result<Response<Self::FindDuplicatesStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn verify(&self, _: Request<VerifyRequest>) -> Result<Response<VerifyResponse>, Status> {
        Err(Status::unimplemented(""))
    }
    type VerifyAllStream = S<VerifyAllResponse>;
    async fn verify_all(
        &self,
        _: Request<VerifyAllRequest>,
    ) -> Result<Response<Self::VerifyAllStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn put_content(
        &self,
        r: Request<Streaming<PutContentRequest>>,
    ) -> Result<Response<PutContentResponse>, Status> {
        let mut s = r.into_inner();
        let log = self.upload.clone();
        let mut total = 0;
        loop {
            match s.message().await {
                Ok(Some(m)) => match m.part {
                    Some(put_content_request::Part::Header(h)) => log
                        .lock()
                        .unwrap()
                        .push(format!("header {}", h.artifact_id)),
                    Some(put_content_request::Part::Chunk(c)) => total += c.len(),
                    None => log.lock().unwrap().push("empty".into()),
                },
                Ok(None) => {
                    log.lock().unwrap().push(format!("eof {total}"));
                    break;
                }
                Err(e) => {
                    log.lock().unwrap().push(format!(
                        "error {:?} {} after {total}",
                        e.code(),
                        e.message()
                    ));
                    return Err(e);
                }
            }
        }
        Ok(Response::new(PutContentResponse {
            record: Some(rec(1)),
            created: true,
            differing_fields: vec![],
            deduplicated: false,
        }))
    }
    type GetContentStream = S<GetContentResponse>;
    async fn get_content(
        &self,
        _: Request<GetContentRequest>,
    ) -> Result<Response<Self::GetContentStream>, Status> {
        let mut msgs = vec![Ok(GetContentResponse {
            part: Some(get_content_response::Part::Info(ContentInfo {
                sha256: "x".into(),
                total_bytes: 6,
                range_bytes: 6,
                storage_uri: "file:///x".into(),
            })),
        })];
        msgs.push(Ok(GetContentResponse {
            part: Some(get_content_response::Part::Chunk(Bytes::from_static(
                b"abc",
            ))),
        }));
        msgs.push(Ok(GetContentResponse {
            part: Some(get_content_response::Part::Chunk(Bytes::from_static(
                b"def",
            ))),
        }));
        Ok(Response::new(Box::pin(futures::stream::iter(msgs))))
    }
    async fn stats(&self, r: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        let auth = r
            .metadata()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Ok(Response::new(StatsResponse {
            provider: auth,
            ..Default::default()
        }))
    }
    async fn provider_health(
        &self,
        _: Request<ProviderHealthRequest>,
    ) -> Result<Response<ProviderHealthResponse>, Status> {
        Err(Status::unimplemented(""))
    }
}

async fn serve(mock: Mock) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<CatalogServiceServer<Mock>>().await;
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(health)
            .add_service(CatalogServiceServer::new(mock))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    addr.to_string()
}

fn header() -> ContentHeader {
    ContentHeader {
        artifact_id: "art".into(),
        source_url: "u".into(),
        resolver: "r".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn everything() {
    let mock = Mock::default();
    let addr = serve(mock.clone()).await;
    let client =
        CatalogClient::connect_with(addr.clone(), ClientOptions::default().with_token("sekret"))
            .await
            .unwrap();

    assert_eq!(client.stats().await.unwrap().provider, "Bearer sekret");
    assert_eq!(client.get_record(5).await.unwrap().id, 5);
    let e = client.get_record(404).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = client.get_record(0).await.unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidArgument, Some("id"))
    );

    let ids: Vec<i64> = client
        .list_records(RecordFilter::default())
        .await
        .unwrap()
        .map(|r| r.unwrap().id)
        .collect()
        .await;
    assert_eq!(ids, vec![1, 2, 3]);

    let d = client
        .get_content(ContentRequest {
            selector: ContentSelector::RecordId(1),
            offset: 0,
            length: None,
        })
        .await
        .unwrap();
    assert_eq!(d.info.range_bytes, 6);
    let body: Vec<Bytes> = d.body.map(|b| b.unwrap()).collect().await;
    assert_eq!(body.concat(), b"abcdef");

    // happy upload
    let chunks = vec![
        Ok(Bytes::from_static(b"hello")),
        Ok(Bytes::from_static(b" world")),
    ];
    let out = client
        .put_content(header(), futures::stream::iter(chunks).boxed())
        .await
        .unwrap();
    assert!(out.registration.created);
    tokio::time::sleep(Duration::from_millis(100)).await;
    println!("log after happy: {:?}", mock.upload.lock().unwrap());

    // failing upload
    let chunks = vec![
        Ok(Bytes::from_static(b"hello")),
        Err(CatalogError::new(ErrorKind::Cancelled, "disk died")),
    ];
    let err = client
        .put_content(header(), futures::stream::iter(chunks).boxed())
        .await
        .unwrap_err();
    assert_eq!(err.message, "disk died");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = mock.upload.lock().unwrap().clone();
    println!("log after failing: {log:?}");
    assert!(log.last().unwrap().starts_with("error"), "{log:?}");

    // failing after a delay, with pending chunks
    let s = async_stream::stream! {
        yield Ok(Bytes::from(vec![1u8; 100_000]));
        tokio::time::sleep(Duration::from_millis(200)).await;
        yield Err(CatalogError::new(ErrorKind::Cancelled, "late"));
    };
    let err = client.put_content(header(), s.boxed()).await.unwrap_err();
    assert_eq!(err.message, "late");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = mock.upload.lock().unwrap().clone();
    println!("log after late failing: {log:?}");
    assert!(log.last().unwrap().starts_with("error"), "{log:?}");

    // connection still usable
    assert_eq!(client.get_record(7).await.unwrap().id, 7);

    assert!(client.health_check("").await.unwrap());
    assert!(
        client
            .health_check(docstokg_catalog::SERVICE_NAME)
            .await
            .unwrap()
    );
    let e = client.health_check("nope").await.unwrap_err();
    println!("unknown service: {e}");

    // timeout
    let quick = CatalogClient::connect_with(
        addr,
        ClientOptions {
            request_timeout: Some(Duration::from_millis(200)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let e = quick.get_record(999).await.unwrap_err();
    println!("timeout: {e} {:?}", e.kind);
    assert_eq!(e.kind, ErrorKind::DeadlineExceeded);

    let e = CatalogClient::connect("127.0.0.1:1").await.unwrap_err();
    println!("connect: {e}");
    assert_eq!(e.kind, ErrorKind::Unavailable);
    let e = CatalogClient::connect("http://bad host:1")
        .await
        .unwrap_err();
    println!("bad: {e}");
}

#[tokio::test]
#[ignore]
async fn serve_forever() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:50999")
        .await
        .unwrap();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<CatalogServiceServer<Mock>>().await;
    let mock = Mock::default();
    let log = mock.upload.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            eprintln!("{:?}", log.lock().unwrap());
        }
    });
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(CatalogServiceServer::new(mock))
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
        .await
        .unwrap();
}
