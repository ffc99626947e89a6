//! Arbitrary bytes as every request message the server decodes, then through the same
//! conversions and validation the server applies before any I/O: nothing may panic, and what
//! validation accepts must hold its promises (lengths within limits, no NUL, lowercase hex
//! sha256, a known storage_uri scheme, non-negative sizes).
#![no_main]

use docstokg_catalog::{
    ContentRequest, DocumentRecord, NewDocument, RecordFilter, VerifyAllOptions,
    convert::UploadPart,
    proto,
    validation::{self, MAX_ID_BYTES, MAX_URL_BYTES, STORAGE_URI_SCHEMES},
};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fn accepted_document_keeps_its_promises(document: &NewDocument) {
    for id in [&document.artifact_id, &document.resolver] {
        assert!(!id.is_empty() && id.len() <= MAX_ID_BYTES && !id.contains('\0'));
    }
    assert!(!document.source_url.is_empty() && document.source_url.len() <= MAX_URL_BYTES);
    assert!(document.bytes >= 0);
    if let Some(sha256) = &document.sha256 {
        assert!(
            sha256.len() == 64
                && sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    if let Some(uri) = &document.storage_uri {
        assert!(
            STORAGE_URI_SCHEMES
                .iter()
                .any(|scheme| uri.starts_with(scheme))
        );
        assert!(!uri.contains('\0'));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = proto::RegisterOrGetRequest::decode(data)
        && let Ok(document) = NewDocument::try_from(request)
        && let Ok(document) = validation::new_document(document)
    {
        accepted_document_keeps_its_promises(&document);
    }
    if let Ok(request) = proto::RegisterOrGetBatchRequest::decode(data) {
        let documents: Vec<NewDocument> = request.documents.into_iter().map(Into::into).collect();
        if let Ok(documents) = validation::batch(documents, 1000) {
            documents
                .iter()
                .for_each(accepted_document_keeps_its_promises);
        }
    }
    if let Ok(request) = proto::ImportRecordsRequest::decode(data) {
        let records: Result<Vec<DocumentRecord>, _> = request
            .records
            .into_iter()
            .map(DocumentRecord::try_from)
            .collect();
        if let Ok(records) = records
            && let Ok(records) = validation::import(records, 1000)
        {
            assert!(records.iter().all(|record| record.id >= 0));
        }
    }
    if let Ok(request) = proto::ListRecordsRequest::decode(data)
        && let Ok(filter) = RecordFilter::try_from(request)
    {
        let _ = validation::filter(filter);
    }
    if let Ok(request) = proto::FindDuplicatesRequest::decode(data) {
        let _ = validation::duplicate_query(request.into());
    }
    if let Ok(request) = proto::VerifyAllRequest::decode(data)
        && let Ok(options) = VerifyAllOptions::try_from(request)
        && let Ok(options) = validation::verify_all(options)
    {
        assert!((0.0..=1.0).contains(&options.sample_rate));
    }
    if let Ok(request) = proto::GetContentRequest::decode(data)
        && let Ok(request) = ContentRequest::try_from(request)
    {
        let _ = validation::content_request(request);
    }
    if let Ok(request) = proto::GetBySha256Request::decode(data)
        && let Ok(sha256) = validation::sha256("sha256", &request.sha256)
    {
        assert_eq!(sha256.len(), 64);
    }
    if let Ok(message) = proto::PutContentRequest::decode(data)
        && let Ok(UploadPart::Header(header)) = UploadPart::try_from(message)
    {
        let _ = validation::content_header(header);
    }
});
