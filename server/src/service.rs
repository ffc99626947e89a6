//! The tonic service, the first of the three hops of every RPC: service -> provider
//! (`provider/mod.rs`) -> store (`metadata/<db>.rs` or `blob/<backend>.rs`).
//!
//! Each handler opens its `catalog.rpc.<method>` span and is a thin call of an `inner_*` method
//! that decodes the request with the contract crate's `convert` module, calls the [`Catalog`] and
//! encodes the answer, returning the domain `Result`. Domain errors become a `tonic::Status`, and
//! are logged (inside the call's span), in [`to_status`] only.

use std::{sync::Arc, time::Duration};

use docstokg_catalog::{
    AuditOptions, Catalog, CatalogError, ContentHeader, ContentRequest, DeleteRequest,
    DuplicateQuery, ErrorKind, NewDocument, RecordFilter, Result, VerifyAllOptions,
    convert::{DownloadPart, UploadPart, imported_record},
    proto,
};
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use proto::catalog_service_server::CatalogService;
use tonic::{Request, Response, Status, Streaming};
use tracing::Span;

use crate::auth::require_write;

/// The methods whose answer is a server stream, as their path ends: they keep their deadline and
/// concurrency slot until their last message.
pub const STREAMING_METHODS: [&str; 5] = [
    "ListRecords",
    "FindDuplicates",
    "VerifyAll",
    "GetContent",
    "AuditStorage",
];

type RpcResult<T> = std::result::Result<Response<T>, Status>;
type RpcStream<T> = BoxStream<'static, std::result::Result<T, Status>>;

/// How long an upload may go without a message before it is abandoned, unless configured.
pub const DEFAULT_UPLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The gRPC face of a catalog.
pub struct CatalogRpc {
    catalog: Arc<dyn Catalog>,
    upload_idle_timeout: Duration,
}

impl CatalogRpc {
    /// Serves `catalog`.
    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        Self {
            catalog,
            upload_idle_timeout: DEFAULT_UPLOAD_IDLE_TIMEOUT,
        }
    }

    /// The same service, abandoning an upload that sends no message for `idle`.
    pub fn with_upload_idle_timeout(mut self, idle: Duration) -> Self {
        self.upload_idle_timeout = idle;
        self
    }
}

/// The one place a domain error becomes a `tonic::Status`. It is logged here, once, at the level
/// its kind deserves: bugs at error, outages and overload at warn, the caller's own mistakes
/// (bad input, unknown ids, cancellation) at debug. The log carries the error's whole cause
/// chain; the wire carries only its message.
fn to_status(error: CatalogError) -> Status {
    // `error.chain()` is built only when the event is enabled: rejections are a hot path.
    let kind = error.kind;
    match kind {
        ErrorKind::Internal => tracing::error!(?kind, error = %error.chain(), "call failed: a bug"),
        ErrorKind::Unavailable | ErrorKind::ResourceExhausted | ErrorKind::DeadlineExceeded => {
            tracing::warn!(?kind, error = %error.chain(), "call failed")
        }
        _ => tracing::debug!(?kind, error = %error.chain(), "call rejected"),
    }
    Status::from(error)
}

/// A unary answer on the wire.
fn answer<T>(result: Result<T>) -> RpcResult<T> {
    result.map(Response::new).map_err(to_status)
}

/// A stream of domain items as a stream of messages.
fn message_stream<T, P>(items: BoxStream<'static, Result<T>>) -> RpcStream<P>
where
    T: Send + 'static,
    P: From<T> + Send + 'static,
{
    items.map_ok(P::from).map_err(to_status).boxed()
}

/// Records as wire messages, in the same order.
fn messages(records: Vec<docstokg_catalog::DocumentRecord>) -> Vec<proto::DocumentRecord> {
    records.into_iter().map(Into::into).collect()
}

/// Splits an upload into its header and a stream of chunks. A missing or repeated header is
/// INVALID_ARGUMENT. The chunks end cleanly only at the `finish` message: tonic reports a
/// client's cancellation as a clean end of the request stream, so an end without `finish` is an
/// interrupted upload and fails the stream, and nothing is stored. A client that sends nothing
/// for `idle` (not even the header) has abandoned the upload: DEADLINE_EXCEEDED, nothing stored,
/// its temporary file removed.
async fn split_upload(
    mut messages: Streaming<proto::PutContentRequest>,
    idle: Duration,
) -> Result<(ContentHeader, docstokg_catalog::ByteStream)> {
    let header = match next_upload_message(&mut messages, idle)
        .await?
        .map(UploadPart::try_from)
    {
        Some(Ok(UploadPart::Header(header))) => header,
        Some(Err(error)) => return Err(error),
        _ => {
            return Err(CatalogError::invalid(
                "header",
                "the first message of an upload must be its header",
            ));
        }
    };
    let chunks = async_stream::try_stream! {
        loop {
            let message = next_upload_message(&mut messages, idle).await?;
            match message.map(UploadPart::try_from).transpose()? {
                Some(UploadPart::Chunk(chunk)) => yield chunk,
                Some(UploadPart::Finish) => break,
                Some(UploadPart::Header(_)) => Err(CatalogError::invalid("header", "an upload has exactly one header"))?,
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

/// The next message of an upload, within `idle`.
async fn next_upload_message(
    messages: &mut Streaming<proto::PutContentRequest>,
    idle: Duration,
) -> Result<Option<proto::PutContentRequest>> {
    match tokio::time::timeout(idle, messages.message()).await {
        Ok(Ok(message)) => Ok(message),
        Ok(Err(status)) if status.code() == tonic::Code::OutOfRange => Err(CatalogError::new(
            ErrorKind::ResourceExhausted,
            format!(
                "an upload message is over the limit (server.max_message_bytes); send smaller chunks: {}",
                status.message()
            ),
        )),
        Ok(Err(status)) => Err(CatalogError::new(
            ErrorKind::Cancelled,
            format!("the upload was interrupted: {}", status.message()),
        )),
        Err(_) => Err(CatalogError::new(
            ErrorKind::DeadlineExceeded,
            format!(
                "no upload message arrived for {idle:?} (server.upload_idle_timeout_secs): the \
                 upload was abandoned and nothing was stored"
            ),
        )),
    }
}

impl CatalogRpc {
    async fn inner_register_or_get(
        &self,
        request: proto::RegisterOrGetRequest,
    ) -> Result<proto::RegisterOrGetResponse> {
        let outcome = self
            .catalog
            .register_or_get(NewDocument::try_from(request)?)
            .await?;
        Span::current().record("record_id", outcome.record.id);
        Ok(outcome.into())
    }

    async fn inner_register_or_get_batch(
        &self,
        request: proto::RegisterOrGetBatchRequest,
    ) -> Result<proto::RegisterOrGetBatchResponse> {
        Span::current().record("documents", request.documents.len());
        let documents = request.documents.into_iter().map(Into::into).collect();
        let outcomes = self.catalog.register_or_get_batch(documents).await?;
        Ok(proto::RegisterOrGetBatchResponse {
            results: outcomes.into_iter().map(Into::into).collect(),
        })
    }

    async fn inner_get_record(
        &self,
        request: proto::GetRecordRequest,
    ) -> Result<proto::GetRecordResponse> {
        let record = self.catalog.get_record(request.id).await?;
        Ok(proto::GetRecordResponse {
            record: Some(record.into()),
        })
    }

    async fn inner_get_by_artifact(
        &self,
        request: proto::GetByArtifactRequest,
    ) -> Result<proto::GetByArtifactResponse> {
        let found = self.catalog.get_by_artifact(&request.artifact_id).await?;
        Ok(proto::GetByArtifactResponse {
            records: messages(found),
        })
    }

    async fn inner_get_by_sha256(
        &self,
        request: proto::GetBySha256Request,
    ) -> Result<proto::GetBySha256Response> {
        let found = self.catalog.get_by_sha256(&request.sha256).await?;
        Ok(proto::GetBySha256Response {
            records: messages(found),
        })
    }

    async fn inner_get_by_run(
        &self,
        request: proto::GetByRunRequest,
    ) -> Result<proto::GetByRunResponse> {
        let found = self.catalog.get_by_run(&request.run_id).await?;
        Ok(proto::GetByRunResponse {
            records: messages(found),
        })
    }

    async fn inner_list_records(
        &self,
        request: proto::ListRecordsRequest,
    ) -> Result<RpcStream<proto::ListRecordsResponse>> {
        let stream = self
            .catalog
            .list_records(RecordFilter::try_from(request)?)
            .await?;
        Ok(message_stream(stream))
    }

    async fn inner_find_duplicates(
        &self,
        request: proto::FindDuplicatesRequest,
    ) -> Result<RpcStream<proto::FindDuplicatesResponse>> {
        let groups = self
            .catalog
            .find_duplicates(DuplicateQuery::from(request))
            .await?;
        Ok(message_stream(groups))
    }

    async fn inner_verify(&self, request: proto::VerifyRequest) -> Result<proto::VerifyResponse> {
        let result = self.catalog.verify(request.record_id).await?;
        Ok(proto::VerifyResponse {
            result: Some(result.into()),
        })
    }

    async fn inner_verify_all(
        &self,
        request: proto::VerifyAllRequest,
    ) -> Result<RpcStream<proto::VerifyAllResponse>> {
        let options = VerifyAllOptions::try_from(request)?;
        Ok(message_stream(self.catalog.verify_all(options).await?))
    }

    async fn inner_put_content(
        &self,
        request: Streaming<proto::PutContentRequest>,
    ) -> Result<proto::PutContentResponse> {
        let (header, chunks) = split_upload(request, self.upload_idle_timeout).await?;
        let outcome = self.catalog.put_content(header, chunks).await?;
        let record = &outcome.registration.record;
        Span::current().record("record_id", record.id);
        Span::current().record("sha256", record.sha256.as_deref().unwrap_or_default());
        Ok(outcome.into())
    }

    async fn inner_get_content(
        &self,
        request: proto::GetContentRequest,
    ) -> Result<RpcStream<proto::GetContentResponse>> {
        let download = self
            .catalog
            .get_content(ContentRequest::try_from(request)?)
            .await?;
        Span::current().record("sha256", download.info.sha256.as_str());
        let info = futures::stream::once(async move { Ok(DownloadPart::Info(download.info)) });
        let parts = info.chain(download.body.map_ok(DownloadPart::Chunk));
        Ok(message_stream(parts.boxed()))
    }

    async fn inner_import_records(
        &self,
        request: proto::ImportRecordsRequest,
    ) -> Result<proto::ImportRecordsResponse> {
        Span::current().record("records", request.records.len());
        let records = request
            .records
            .into_iter()
            .enumerate()
            .map(|(index, record)| {
                imported_record(record).map_err(|e| e.within(&format!("records[{index}]")))
            })
            .collect::<Result<Vec<_>>>()?;
        let outcomes = self
            .catalog
            .import_records(records, request.keep_ids)
            .await?;
        Ok(proto::ImportRecordsResponse {
            results: outcomes.into_iter().map(Into::into).collect(),
        })
    }

    async fn inner_stats(&self) -> Result<proto::StatsResponse> {
        Ok(self.catalog.stats().await?.into())
    }

    async fn inner_provider_health(&self) -> Result<proto::ProviderHealthResponse> {
        Ok(self.catalog.provider_health().await?.into())
    }

    async fn inner_delete_records(
        &self,
        request: proto::DeleteRecordsRequest,
    ) -> Result<proto::DeleteRecordsResponse> {
        let request = DeleteRequest::try_from(request)?;
        Ok(self.catalog.delete_records(request).await?.into())
    }

    async fn inner_apply_retention(
        &self,
        request: proto::ApplyRetentionRequest,
    ) -> Result<proto::ApplyRetentionResponse> {
        Ok(self.catalog.apply_retention(request.dry_run).await?.into())
    }

    async fn inner_audit_storage(
        &self,
        request: proto::AuditStorageRequest,
    ) -> Result<RpcStream<proto::AuditStorageResponse>> {
        let options = AuditOptions::from(request);
        Ok(message_stream(self.catalog.audit_storage(options).await?))
    }
}

#[tonic::async_trait]
impl CatalogService for CatalogRpc {
    #[tracing::instrument(name = "catalog.rpc.register_or_get", skip_all, fields(record_id))]
    async fn register_or_get(
        &self,
        request: Request<proto::RegisterOrGetRequest>,
    ) -> RpcResult<proto::RegisterOrGetResponse> {
        require_write(&request)?;
        answer(self.inner_register_or_get(request.into_inner()).await)
    }

    #[tracing::instrument(
        name = "catalog.rpc.register_or_get_batch",
        skip_all,
        fields(documents)
    )]
    async fn register_or_get_batch(
        &self,
        request: Request<proto::RegisterOrGetBatchRequest>,
    ) -> RpcResult<proto::RegisterOrGetBatchResponse> {
        require_write(&request)?;
        answer(self.inner_register_or_get_batch(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.get_record", skip_all, fields(record_id = request.get_ref().id))]
    async fn get_record(
        &self,
        request: Request<proto::GetRecordRequest>,
    ) -> RpcResult<proto::GetRecordResponse> {
        answer(self.inner_get_record(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.get_by_artifact", skip_all)]
    async fn get_by_artifact(
        &self,
        request: Request<proto::GetByArtifactRequest>,
    ) -> RpcResult<proto::GetByArtifactResponse> {
        answer(self.inner_get_by_artifact(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.get_by_sha256", skip_all, fields(sha256 = %request.get_ref().sha256))]
    async fn get_by_sha256(
        &self,
        request: Request<proto::GetBySha256Request>,
    ) -> RpcResult<proto::GetBySha256Response> {
        answer(self.inner_get_by_sha256(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.get_by_run", skip_all)]
    async fn get_by_run(
        &self,
        request: Request<proto::GetByRunRequest>,
    ) -> RpcResult<proto::GetByRunResponse> {
        answer(self.inner_get_by_run(request.into_inner()).await)
    }

    type ListRecordsStream = RpcStream<proto::ListRecordsResponse>;

    #[tracing::instrument(name = "catalog.rpc.list_records", skip_all)]
    async fn list_records(
        &self,
        request: Request<proto::ListRecordsRequest>,
    ) -> RpcResult<Self::ListRecordsStream> {
        answer(self.inner_list_records(request.into_inner()).await)
    }

    type FindDuplicatesStream = RpcStream<proto::FindDuplicatesResponse>;

    #[tracing::instrument(name = "catalog.rpc.find_duplicates", skip_all)]
    async fn find_duplicates(
        &self,
        request: Request<proto::FindDuplicatesRequest>,
    ) -> RpcResult<Self::FindDuplicatesStream> {
        answer(self.inner_find_duplicates(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.verify", skip_all, fields(record_id = request.get_ref().record_id))]
    async fn verify(
        &self,
        request: Request<proto::VerifyRequest>,
    ) -> RpcResult<proto::VerifyResponse> {
        answer(self.inner_verify(request.into_inner()).await)
    }

    type VerifyAllStream = RpcStream<proto::VerifyAllResponse>;

    #[tracing::instrument(name = "catalog.rpc.verify_all", skip_all)]
    async fn verify_all(
        &self,
        request: Request<proto::VerifyAllRequest>,
    ) -> RpcResult<Self::VerifyAllStream> {
        answer(self.inner_verify_all(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.put_content", skip_all, fields(record_id, sha256))]
    async fn put_content(
        &self,
        request: Request<Streaming<proto::PutContentRequest>>,
    ) -> RpcResult<proto::PutContentResponse> {
        require_write(&request)?;
        answer(self.inner_put_content(request.into_inner()).await)
    }

    type GetContentStream = RpcStream<proto::GetContentResponse>;

    #[tracing::instrument(name = "catalog.rpc.get_content", skip_all, fields(sha256))]
    async fn get_content(
        &self,
        request: Request<proto::GetContentRequest>,
    ) -> RpcResult<Self::GetContentStream> {
        answer(self.inner_get_content(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.import_records", skip_all, fields(records))]
    async fn import_records(
        &self,
        request: Request<proto::ImportRecordsRequest>,
    ) -> RpcResult<proto::ImportRecordsResponse> {
        require_write(&request)?;
        answer(self.inner_import_records(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.stats", skip_all)]
    async fn stats(
        &self,
        _request: Request<proto::StatsRequest>,
    ) -> RpcResult<proto::StatsResponse> {
        answer(self.inner_stats().await)
    }

    #[tracing::instrument(name = "catalog.rpc.provider_health", skip_all)]
    async fn provider_health(
        &self,
        _request: Request<proto::ProviderHealthRequest>,
    ) -> RpcResult<proto::ProviderHealthResponse> {
        answer(self.inner_provider_health().await)
    }

    #[tracing::instrument(name = "catalog.rpc.delete_records", skip_all)]
    async fn delete_records(
        &self,
        request: Request<proto::DeleteRecordsRequest>,
    ) -> RpcResult<proto::DeleteRecordsResponse> {
        require_write(&request)?;
        answer(self.inner_delete_records(request.into_inner()).await)
    }

    #[tracing::instrument(name = "catalog.rpc.apply_retention", skip_all)]
    async fn apply_retention(
        &self,
        request: Request<proto::ApplyRetentionRequest>,
    ) -> RpcResult<proto::ApplyRetentionResponse> {
        require_write(&request)?;
        answer(self.inner_apply_retention(request.into_inner()).await)
    }

    type AuditStorageStream = RpcStream<proto::AuditStorageResponse>;

    #[tracing::instrument(name = "catalog.rpc.audit_storage", skip_all)]
    async fn audit_storage(
        &self,
        request: Request<proto::AuditStorageRequest>,
    ) -> RpcResult<Self::AuditStorageStream> {
        answer(self.inner_audit_storage(request.into_inner()).await)
    }
}
