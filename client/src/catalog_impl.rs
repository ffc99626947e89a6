//! [`Catalog`] over gRPC: each method encodes its request with the contract crate's `convert`
//! module, calls the RPC, and decodes the answer with the same module.

use async_trait::async_trait;
use docstokg_catalog::convert::required_record;
use docstokg_catalog::proto;
use docstokg_catalog::{
    ByteStream, Catalog, CatalogError, CatalogStats, ContentDownload, ContentHeader,
    ContentRequest, DocumentRecord, DuplicateGroup, DuplicateQuery, HealthReport, NewDocument,
    PutOutcome, RecordFilter, RecordStream, RegisterOutcome, Result, VerificationResult,
    VerifyAllEvent, VerifyAllOptions,
};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::client::CatalogClient;
use crate::errors::status_error;
use crate::{download, upload};

/// Wire records as domain records.
fn records(records: Vec<proto::DocumentRecord>) -> Result<Vec<DocumentRecord>> {
    records.into_iter().map(DocumentRecord::try_from).collect()
}

#[async_trait]
impl Catalog for CatalogClient {
    async fn register_or_get(&self, document: NewDocument) -> Result<RegisterOutcome> {
        let request = self.unary(proto::RegisterOrGetRequest {
            document: Some(document.into()),
        });
        self.rpc()
            .register_or_get(request)
            .await
            .map_err(status_error)?
            .into_inner()
            .try_into()
    }

    async fn register_or_get_batch(
        &self,
        documents: Vec<NewDocument>,
    ) -> Result<Vec<RegisterOutcome>> {
        let sent = documents.len();
        let documents = documents.into_iter().map(Into::into).collect();
        let request = self.unary(proto::RegisterOrGetBatchRequest { documents });
        let results = self
            .rpc()
            .register_or_get_batch(request)
            .await
            .map_err(status_error)?
            .into_inner()
            .results;
        if results.len() != sent {
            return Err(CatalogError::internal(format!(
                "the server answered a batch of {sent} documents with {} results",
                results.len()
            )));
        }
        results.into_iter().map(RegisterOutcome::try_from).collect()
    }

    async fn get_record(&self, id: i64) -> Result<DocumentRecord> {
        let request = self.unary(proto::GetRecordRequest { id });
        required_record(
            self.rpc()
                .get_record(request)
                .await
                .map_err(status_error)?
                .into_inner()
                .record,
        )
    }

    async fn get_by_artifact(&self, artifact_id: &str) -> Result<Vec<DocumentRecord>> {
        let request = self.unary(proto::GetByArtifactRequest {
            artifact_id: artifact_id.to_owned(),
        });
        records(
            self.rpc()
                .get_by_artifact(request)
                .await
                .map_err(status_error)?
                .into_inner()
                .records,
        )
    }

    async fn get_by_sha256(&self, sha256: &str) -> Result<Vec<DocumentRecord>> {
        let request = self.unary(proto::GetBySha256Request {
            sha256: sha256.to_owned(),
        });
        records(
            self.rpc()
                .get_by_sha256(request)
                .await
                .map_err(status_error)?
                .into_inner()
                .records,
        )
    }

    async fn get_by_run(&self, run_id: &str) -> Result<Vec<DocumentRecord>> {
        let request = self.unary(proto::GetByRunRequest {
            run_id: run_id.to_owned(),
        });
        records(
            self.rpc()
                .get_by_run(request)
                .await
                .map_err(status_error)?
                .into_inner()
                .records,
        )
    }

    async fn list_records(&self, filter: RecordFilter) -> Result<RecordStream> {
        let request = proto::ListRecordsRequest::from(filter);
        let stream = self
            .rpc()
            .list_records(request)
            .await
            .map_err(status_error)?
            .into_inner();
        Ok(stream
            .map(|message| DocumentRecord::try_from(message.map_err(status_error)?))
            .boxed())
    }

    async fn find_duplicates(
        &self,
        query: DuplicateQuery,
    ) -> Result<BoxStream<'static, Result<DuplicateGroup>>> {
        let request = proto::FindDuplicatesRequest::from(query);
        let stream = self
            .rpc()
            .find_duplicates(request)
            .await
            .map_err(status_error)?
            .into_inner();
        Ok(stream
            .map(|message| DuplicateGroup::try_from(message.map_err(status_error)?))
            .boxed())
    }

    async fn verify(&self, record_id: i64) -> Result<VerificationResult> {
        let request = self.unary(proto::VerifyRequest { record_id });
        let result = self
            .rpc()
            .verify(request)
            .await
            .map_err(status_error)?
            .into_inner()
            .result;
        result
            .ok_or_else(|| {
                CatalogError::internal("the server sent a Verify response without a result")
            })?
            .try_into()
    }

    async fn verify_all(
        &self,
        options: VerifyAllOptions,
    ) -> Result<BoxStream<'static, Result<VerifyAllEvent>>> {
        let request = proto::VerifyAllRequest::from(options);
        let stream = self
            .rpc()
            .verify_all(request)
            .await
            .map_err(status_error)?
            .into_inner();
        Ok(stream
            .map(|message| VerifyAllEvent::try_from(message.map_err(status_error)?))
            .boxed())
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
        let request = self.unary(proto::ImportRecordsRequest { records, keep_ids });
        let results = self
            .rpc()
            .import_records(request)
            .await
            .map_err(status_error)?
            .into_inner()
            .results;
        if results.len() != sent {
            return Err(CatalogError::internal(format!(
                "the server answered an import of {sent} records with {} results",
                results.len()
            )));
        }
        results.into_iter().map(RegisterOutcome::try_from).collect()
    }

    async fn stats(&self) -> Result<CatalogStats> {
        let request = self.unary(proto::StatsRequest {});
        Ok(self
            .rpc()
            .stats(request)
            .await
            .map_err(status_error)?
            .into_inner()
            .into())
    }

    async fn provider_health(&self) -> Result<HealthReport> {
        let request = self.unary(proto::ProviderHealthRequest {});
        Ok(self
            .rpc()
            .provider_health(request)
            .await
            .map_err(status_error)?
            .into_inner()
            .into())
    }
}
