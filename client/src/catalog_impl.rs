//! [`Catalog`] over gRPC: each method encodes its request with the contract crate's `convert`
//! module, calls the RPC through [`CatalogClient::call`] or [`CatalogClient::open_stream`], and
//! decodes the answer with the same module.

use std::future::Future;

use async_trait::async_trait;
use docstokg_catalog::convert::required_record;
use docstokg_catalog::proto;
use docstokg_catalog::{
    AuditEvent, AuditOptions, ByteStream, Catalog, CatalogError, CatalogStats, ContentDownload,
    ContentHeader, ContentRequest, DeleteReport, DeleteRequest, DocumentRecord, DuplicateGroup,
    DuplicateQuery, HealthReport, NewDocument, PutOutcome, RecordFilter, RecordStream,
    RegisterOutcome, Result, RetentionReport, VerificationResult, VerifyAllEvent, VerifyAllOptions,
};
use futures::StreamExt;
use futures::stream::BoxStream;
use tonic::{Response, Status, Streaming};

use crate::client::{CatalogClient, RpcClient};
use crate::errors::status_error;
use crate::{download, upload};

/// Wire records as domain records.
fn records(records: Vec<proto::DocumentRecord>) -> Result<Vec<DocumentRecord>> {
    records.into_iter().map(DocumentRecord::try_from).collect()
}

/// Outcomes of a batch call, which must answer every item it was sent.
fn outcomes(
    results: Vec<proto::RegisterOrGetResponse>,
    sent: usize,
    what: &str,
) -> Result<Vec<RegisterOutcome>> {
    if results.len() != sent {
        return Err(CatalogError::internal(format!(
            "the server answered {what} of {sent} items with {} results",
            results.len()
        )));
    }
    results.into_iter().map(RegisterOutcome::try_from).collect()
}

impl CatalogClient {
    /// Sends `message` with the configured deadline through `rpc`, and returns the answer.
    async fn call<Req, Resp, F, Fut>(&self, message: Req, rpc: F) -> Result<Resp>
    where
        F: FnOnce(RpcClient, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = std::result::Result<Response<Resp>, Status>>,
    {
        let response = rpc(self.rpc(), self.unary(message)).await;
        Ok(response.map_err(status_error)?.into_inner())
    }

    /// Opens a server stream with `rpc` and decodes each message as `T`.
    async fn open_stream<Req, Msg, T, F, Fut>(
        &self,
        message: Req,
        rpc: F,
    ) -> Result<BoxStream<'static, Result<T>>>
    where
        F: FnOnce(RpcClient, Req) -> Fut,
        Fut: Future<Output = std::result::Result<Response<Streaming<Msg>>, Status>>,
        Msg: Send + 'static,
        T: TryFrom<Msg, Error = CatalogError> + Send + 'static,
    {
        let stream = rpc(self.rpc(), message)
            .await
            .map_err(status_error)?
            .into_inner();
        Ok(stream
            .map(|message| T::try_from(message.map_err(status_error)?))
            .boxed())
    }
}

#[async_trait]
impl Catalog for CatalogClient {
    async fn register_or_get(&self, document: NewDocument) -> Result<RegisterOutcome> {
        let message = proto::RegisterOrGetRequest {
            document: Some(document.into()),
        };
        self.call(
            message,
            |mut rpc, r| async move { rpc.register_or_get(r).await },
        )
        .await?
        .try_into()
    }

    async fn register_or_get_batch(
        &self,
        documents: Vec<NewDocument>,
    ) -> Result<Vec<RegisterOutcome>> {
        let sent = documents.len();
        let documents = documents.into_iter().map(Into::into).collect();
        let message = proto::RegisterOrGetBatchRequest { documents };
        let answer = self
            .call(message, |mut rpc, r| async move {
                rpc.register_or_get_batch(r).await
            })
            .await?;
        outcomes(answer.results, sent, "a batch")
    }

    async fn get_record(&self, id: i64) -> Result<DocumentRecord> {
        let message = proto::GetRecordRequest { id };
        let answer = self
            .call(message, |mut rpc, r| async move { rpc.get_record(r).await })
            .await?;
        required_record(answer.record)
    }

    async fn get_by_artifact(&self, artifact_id: &str) -> Result<Vec<DocumentRecord>> {
        let artifact_id = artifact_id.to_owned();
        let message = proto::GetByArtifactRequest { artifact_id };
        let answer = self
            .call(
                message,
                |mut rpc, r| async move { rpc.get_by_artifact(r).await },
            )
            .await?;
        records(answer.records)
    }

    async fn get_by_sha256(&self, sha256: &str) -> Result<Vec<DocumentRecord>> {
        let sha256 = sha256.to_owned();
        let message = proto::GetBySha256Request { sha256 };
        let answer = self
            .call(
                message,
                |mut rpc, r| async move { rpc.get_by_sha256(r).await },
            )
            .await?;
        records(answer.records)
    }

    async fn get_by_run(&self, run_id: &str) -> Result<Vec<DocumentRecord>> {
        let run_id = run_id.to_owned();
        let message = proto::GetByRunRequest { run_id };
        let answer = self
            .call(message, |mut rpc, r| async move { rpc.get_by_run(r).await })
            .await?;
        records(answer.records)
    }

    async fn list_records(&self, filter: RecordFilter) -> Result<RecordStream> {
        let message = proto::ListRecordsRequest::from(filter);
        self.open_stream(
            message,
            |mut rpc, r| async move { rpc.list_records(r).await },
        )
        .await
    }

    async fn find_duplicates(
        &self,
        query: DuplicateQuery,
    ) -> Result<BoxStream<'static, Result<DuplicateGroup>>> {
        let message = proto::FindDuplicatesRequest::from(query);
        self.open_stream(
            message,
            |mut rpc, r| async move { rpc.find_duplicates(r).await },
        )
        .await
    }

    async fn verify(&self, record_id: i64) -> Result<VerificationResult> {
        let message = proto::VerifyRequest { record_id };
        let answer = self
            .call(message, |mut rpc, r| async move { rpc.verify(r).await })
            .await?;
        answer
            .result
            .ok_or_else(|| {
                CatalogError::internal("the server sent a Verify response without a result")
            })?
            .try_into()
    }

    async fn verify_all(
        &self,
        options: VerifyAllOptions,
    ) -> Result<BoxStream<'static, Result<VerifyAllEvent>>> {
        let message = proto::VerifyAllRequest::from(options);
        self.open_stream(message, |mut rpc, r| async move { rpc.verify_all(r).await })
            .await
    }

    async fn put_content(&self, header: ContentHeader, body: ByteStream) -> Result<PutOutcome> {
        upload::put(self, header, body).await
    }

    async fn get_content(&self, request: ContentRequest) -> Result<ContentDownload> {
        download::get(self.rpc(), request.try_into()?).await
    }

    async fn import_records(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>> {
        let sent = records.len();
        let records = records.into_iter().map(Into::into).collect();
        let message = proto::ImportRecordsRequest { records, keep_ids };
        let answer = self
            .call(
                message,
                |mut rpc, r| async move { rpc.import_records(r).await },
            )
            .await?;
        outcomes(answer.results, sent, "an import")
    }

    async fn stats(&self) -> Result<CatalogStats> {
        let message = proto::StatsRequest {};
        let answer = self
            .call(message, |mut rpc, r| async move { rpc.stats(r).await })
            .await?;
        Ok(answer.into())
    }

    async fn provider_health(&self) -> Result<HealthReport> {
        let message = proto::ProviderHealthRequest {};
        let answer = self
            .call(
                message,
                |mut rpc, r| async move { rpc.provider_health(r).await },
            )
            .await?;
        Ok(answer.into())
    }

    async fn delete_records(&self, request: DeleteRequest) -> Result<DeleteReport> {
        let message = proto::DeleteRecordsRequest::from(request);
        let answer = self
            .call(
                message,
                |mut rpc, r| async move { rpc.delete_records(r).await },
            )
            .await?;
        Ok(answer.into())
    }

    async fn apply_retention(&self, dry_run: bool) -> Result<RetentionReport> {
        let message = proto::ApplyRetentionRequest { dry_run };
        let answer = self
            .call(
                message,
                |mut rpc, r| async move { rpc.apply_retention(r).await },
            )
            .await?;
        Ok(answer.into())
    }

    async fn audit_storage(
        &self,
        options: AuditOptions,
    ) -> Result<BoxStream<'static, Result<AuditEvent>>> {
        let message = proto::AuditStorageRequest::from(options);
        self.open_stream(
            message,
            |mut rpc, r| async move { rpc.audit_storage(r).await },
        )
        .await
    }
}
