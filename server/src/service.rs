//! The tonic service: decodes each RPC, calls the [`Catalog`], encodes the answer. Domain errors
//! become `tonic::Status` here and nowhere else.

use std::sync::Arc;

use docstokg_catalog::{
    Catalog, CatalogError, ContentRequest, ContentSelector, DocumentRecord, DuplicateQuery,
    ErrorKind, NewDocument, RecordFilter, VerifyAllOptions, proto, validation,
};
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use proto::catalog_service_server::CatalogService;
use tonic::{Request, Response, Status, Streaming};

/// Default VerifyAll concurrency when the request leaves it at 0.
const DEFAULT_VERIFY_CONCURRENCY: usize = 4;

type RpcResult<T> = Result<Response<T>, Status>;
type RpcStream<T> = BoxStream<'static, Result<T, Status>>;

/// The gRPC face of a catalog.
pub struct CatalogRpc {
    catalog: Arc<dyn Catalog>,
}

impl CatalogRpc {
    /// Serves `catalog`.
    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        Self { catalog }
    }
}

/// Converts a domain error, logging it at the level its kind deserves.
fn status(error: CatalogError) -> Status {
    match error.kind {
        ErrorKind::Internal => tracing::error!(%error, "internal error"),
        ErrorKind::Unavailable | ErrorKind::ResourceExhausted => {
            tracing::warn!(%error, "call failed")
        }
        _ => tracing::debug!(%error, "call rejected"),
    }
    Status::from(error)
}

fn stream_of<T, P>(items: BoxStream<'static, docstokg_catalog::Result<T>>) -> RpcStream<P>
where
    T: Send + 'static,
    P: From<T> + Send + 'static,
{
    items.map_ok(P::from).map_err(status).boxed()
}

fn filter_of(filter: Option<proto::RecordFilter>) -> Result<RecordFilter, Status> {
    filter
        .map(RecordFilter::try_from)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(status)
}

fn records(list: Vec<docstokg_catalog::DocumentRecord>) -> Vec<proto::DocumentRecord> {
    list.into_iter().map(Into::into).collect()
}

/// A record to import; a missing created_at means now, a missing updated_at means created_at.
fn imported_record(mut record: proto::DocumentRecord) -> docstokg_catalog::Result<DocumentRecord> {
    let now = docstokg_catalog::convert::to_timestamp(chrono::Utc::now());
    let created_at = record.created_at.get_or_insert(now);
    let created_at = *created_at;
    record.updated_at.get_or_insert(created_at);
    DocumentRecord::try_from(record)
}

/// Splits an upload stream into its header and a stream of chunks. A missing or repeated header
/// is INVALID_ARGUMENT. The chunks end cleanly only at the `finish` message: tonic reports a
/// client's cancellation as a clean end of the request stream, so an end without `finish` is an
/// interrupted upload and fails the stream, and nothing is stored.
async fn split_upload(
    mut messages: Streaming<proto::PutContentRequest>,
) -> Result<(proto::PutContentHeader, docstokg_catalog::ByteStream), Status> {
    use proto::put_content_request::Part;
    let header = match messages.message().await? {
        Some(proto::PutContentRequest {
            part: Some(Part::Header(header)),
        }) => header,
        _ => {
            return Err(Status::from(CatalogError::invalid(
                "header",
                "the first message of an upload must be its header",
            )));
        }
    };
    let chunks = async_stream::try_stream! {
        loop {
            let message = messages.message().await.map_err(|status| {
                CatalogError::new(ErrorKind::Cancelled, format!("the upload was interrupted: {}", status.message()))
            })?;
            match message.and_then(|m| m.part) {
                Some(Part::Chunk(chunk)) => yield chunk,
                Some(Part::Finish(_)) => break,
                Some(Part::Header(_)) => Err(CatalogError::invalid("header", "an upload has exactly one header"))?,
                None => Err(CatalogError::invalid(
                    "finish",
                    "the upload ended without its finish message (or the client went away); nothing was stored",
                ))?,
            }
        }
        if messages.message().await.ok().flatten().is_some() {
            Err(CatalogError::invalid("finish", "no message may follow finish"))?;
        }
    };
    Ok((header, Box::pin(chunks)))
}

#[tonic::async_trait]
impl CatalogService for CatalogRpc {
    async fn register_or_get(
        &self,
        request: Request<proto::RegisterOrGetRequest>,
    ) -> RpcResult<proto::RegisterOrGetResponse> {
        let document = request
            .into_inner()
            .document
            .ok_or_else(|| Status::from(CatalogError::invalid("document", "is required")))?;
        let outcome = self
            .catalog
            .register_or_get(NewDocument::from(document))
            .await
            .map_err(status)?;
        Ok(Response::new(outcome.into()))
    }

    async fn register_or_get_batch(
        &self,
        request: Request<proto::RegisterOrGetBatchRequest>,
    ) -> RpcResult<proto::RegisterOrGetBatchResponse> {
        let documents = request
            .into_inner()
            .documents
            .into_iter()
            .map(NewDocument::from)
            .collect();
        let outcomes = self
            .catalog
            .register_or_get_batch(documents)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::RegisterOrGetBatchResponse {
            results: outcomes.into_iter().map(Into::into).collect(),
        }))
    }

    async fn get_record(
        &self,
        request: Request<proto::GetRecordRequest>,
    ) -> RpcResult<proto::GetRecordResponse> {
        let record = self
            .catalog
            .get_record(request.into_inner().id)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::GetRecordResponse {
            record: Some(record.into()),
        }))
    }

    async fn get_by_artifact(
        &self,
        request: Request<proto::GetByArtifactRequest>,
    ) -> RpcResult<proto::GetByArtifactResponse> {
        let found = self
            .catalog
            .get_by_artifact(&request.into_inner().artifact_id)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::GetByArtifactResponse {
            records: records(found),
        }))
    }

    async fn get_by_sha256(
        &self,
        request: Request<proto::GetBySha256Request>,
    ) -> RpcResult<proto::GetBySha256Response> {
        let found = self
            .catalog
            .get_by_sha256(&request.into_inner().sha256)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::GetBySha256Response {
            records: records(found),
        }))
    }

    async fn get_by_run(
        &self,
        request: Request<proto::GetByRunRequest>,
    ) -> RpcResult<proto::GetByRunResponse> {
        let found = self
            .catalog
            .get_by_run(&request.into_inner().run_id)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::GetByRunResponse {
            records: records(found),
        }))
    }

    type ListRecordsStream = RpcStream<proto::ListRecordsResponse>;

    async fn list_records(
        &self,
        request: Request<proto::ListRecordsRequest>,
    ) -> RpcResult<Self::ListRecordsStream> {
        let filter = filter_of(request.into_inner().filter)?;
        let stream = self.catalog.list_records(filter).await.map_err(status)?;
        Ok(Response::new(
            stream
                .map_ok(|record| proto::ListRecordsResponse {
                    record: Some(record.into()),
                })
                .map_err(status)
                .boxed(),
        ))
    }

    type FindDuplicatesStream = RpcStream<proto::FindDuplicatesResponse>;

    async fn find_duplicates(
        &self,
        request: Request<proto::FindDuplicatesRequest>,
    ) -> RpcResult<Self::FindDuplicatesStream> {
        let request = request.into_inner();
        let min_count = if request.min_count == 0 {
            DuplicateQuery::default().min_count
        } else {
            request.min_count
        };
        let query = DuplicateQuery {
            min_count,
            include_records: request.include_records,
        };
        Ok(Response::new(stream_of(
            self.catalog.find_duplicates(query).await.map_err(status)?,
        )))
    }

    async fn verify(
        &self,
        request: Request<proto::VerifyRequest>,
    ) -> RpcResult<proto::VerifyResponse> {
        let id =
            validation::record_id("record_id", request.into_inner().record_id).map_err(status)?;
        let result = self.catalog.verify(id).await.map_err(status)?;
        Ok(Response::new(proto::VerifyResponse {
            result: Some(result.into()),
        }))
    }

    type VerifyAllStream = RpcStream<proto::VerifyAllResponse>;

    async fn verify_all(
        &self,
        request: Request<proto::VerifyAllRequest>,
    ) -> RpcResult<Self::VerifyAllStream> {
        let request = request.into_inner();
        let options = VerifyAllOptions {
            filter: filter_of(request.filter)?,
            sample_rate: if request.sample_rate == 0.0 {
                1.0
            } else {
                request.sample_rate
            },
            concurrency: if request.concurrency == 0 {
                DEFAULT_VERIFY_CONCURRENCY
            } else {
                request.concurrency as usize
            },
        };
        Ok(Response::new(stream_of(
            self.catalog.verify_all(options).await.map_err(status)?,
        )))
    }

    async fn put_content(
        &self,
        request: Request<Streaming<proto::PutContentRequest>>,
    ) -> RpcResult<proto::PutContentResponse> {
        let (header, chunks) = split_upload(request.into_inner()).await?;
        let outcome = self
            .catalog
            .put_content(header.into(), chunks)
            .await
            .map_err(status)?;
        let registration = outcome.registration;
        Ok(Response::new(proto::PutContentResponse {
            record: Some(registration.record.into()),
            created: registration.created,
            differing_fields: registration.differing_fields,
            deduplicated: outcome.deduplicated,
        }))
    }

    type GetContentStream = RpcStream<proto::GetContentResponse>;

    async fn get_content(
        &self,
        request: Request<proto::GetContentRequest>,
    ) -> RpcResult<Self::GetContentStream> {
        use proto::{get_content_request::Selector, get_content_response::Part};
        let request = request.into_inner();
        let selector = match request.selector {
            Some(Selector::RecordId(id)) => ContentSelector::RecordId(id),
            Some(Selector::Sha256(sha256)) => ContentSelector::Sha256(sha256),
            None => {
                return Err(Status::from(CatalogError::invalid(
                    "selector",
                    "set record_id or sha256",
                )));
            }
        };
        if request.offset < 0 || request.length < 0 {
            let field = if request.offset < 0 {
                "offset"
            } else {
                "length"
            };
            return Err(Status::from(CatalogError::invalid(
                field,
                "must not be negative",
            )));
        }
        let length = (request.length > 0).then_some(request.length as u64);
        let content = ContentRequest {
            selector,
            offset: request.offset as u64,
            length,
        };
        let download = self.catalog.get_content(content).await.map_err(status)?;
        let info = proto::GetContentResponse {
            part: Some(Part::Info(download.info.into())),
        };
        let chunks = download.body.map_ok(|chunk| proto::GetContentResponse {
            part: Some(Part::Chunk(chunk)),
        });
        Ok(Response::new(
            futures::stream::once(async { Ok(info) })
                .chain(chunks.map_err(status))
                .boxed(),
        ))
    }

    async fn import_records(
        &self,
        request: Request<proto::ImportRecordsRequest>,
    ) -> RpcResult<proto::ImportRecordsResponse> {
        let request = request.into_inner();
        let records = request
            .records
            .into_iter()
            .enumerate()
            .map(|(index, record)| {
                imported_record(record).map_err(|e| e.within(&format!("records[{index}]")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(status)?;
        let outcomes = self
            .catalog
            .import_records(records, request.keep_ids)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::ImportRecordsResponse {
            results: outcomes.into_iter().map(Into::into).collect(),
        }))
    }

    async fn stats(
        &self,
        _request: Request<proto::StatsRequest>,
    ) -> RpcResult<proto::StatsResponse> {
        Ok(Response::new(
            self.catalog.stats().await.map_err(status)?.into(),
        ))
    }

    async fn provider_health(
        &self,
        _request: Request<proto::ProviderHealthRequest>,
    ) -> RpcResult<proto::ProviderHealthResponse> {
        Ok(Response::new(
            self.catalog.provider_health().await.map_err(status)?.into(),
        ))
    }
}
