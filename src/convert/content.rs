//! PutContent and GetContent: the upload header and parts, the download request, info and
//! parts, and the upload's answer.

use bytes::Bytes;

use super::{none_if_empty, records::required_record};
use crate::{
    CatalogError, ContentHeader, ContentInfo, ContentRequest, ContentSelector, PutOutcome,
    RegisterOutcome, Result, proto,
};

impl From<ContentHeader> for proto::PutContentHeader {
    fn from(h: ContentHeader) -> Self {
        Self {
            artifact_id: h.artifact_id,
            source_url: h.source_url,
            resolver: h.resolver,
            content_type: h.content_type.unwrap_or_default(),
            run_id: h.run_id.unwrap_or_default(),
            expected_sha256: h.expected_sha256.unwrap_or_default(),
            expected_bytes: h.expected_bytes,
        }
    }
}

impl From<proto::PutContentHeader> for ContentHeader {
    fn from(h: proto::PutContentHeader) -> Self {
        Self {
            artifact_id: h.artifact_id,
            source_url: h.source_url,
            resolver: h.resolver,
            content_type: none_if_empty(h.content_type),
            run_id: none_if_empty(h.run_id),
            expected_sha256: none_if_empty(h.expected_sha256),
            expected_bytes: h.expected_bytes,
        }
    }
}

mirror_conversions!(
    ContentInfo, proto::ContentInfo;
    fields: sha256, total_bytes, range_bytes, storage_uri
);

/// One message of a PutContent upload: the header first, then chunks, then finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadPart {
    /// What to register once the bytes are stored.
    Header(ContentHeader),
    /// The next bytes.
    Chunk(Bytes),
    /// The upload is complete; nothing is stored without it.
    Finish,
}

impl TryFrom<proto::PutContentRequest> for UploadPart {
    type Error = CatalogError;

    fn try_from(message: proto::PutContentRequest) -> Result<Self> {
        use proto::put_content_request::Part;
        match message.part {
            Some(Part::Header(header)) => Ok(Self::Header(header.into())),
            Some(Part::Chunk(chunk)) => Ok(Self::Chunk(chunk)),
            Some(Part::Finish(_)) => Ok(Self::Finish),
            None => Err(CatalogError::invalid(
                "part",
                "an upload message must carry a header, a chunk or finish",
            )),
        }
    }
}

impl From<UploadPart> for proto::PutContentRequest {
    fn from(part: UploadPart) -> Self {
        use proto::put_content_request::Part;
        let part = match part {
            UploadPart::Header(header) => Part::Header(header.into()),
            UploadPart::Chunk(chunk) => Part::Chunk(chunk),
            UploadPart::Finish => Part::Finish(proto::PutContentFinish {}),
        };
        Self { part: Some(part) }
    }
}

impl From<PutOutcome> for proto::PutContentResponse {
    fn from(outcome: PutOutcome) -> Self {
        let registration = outcome.registration;
        Self {
            record: Some(registration.record.into()),
            created: registration.created,
            differing_fields: registration.differing_fields,
            deduplicated: outcome.deduplicated,
        }
    }
}

impl TryFrom<proto::PutContentResponse> for PutOutcome {
    type Error = CatalogError;

    fn try_from(response: proto::PutContentResponse) -> Result<Self> {
        Ok(Self {
            registration: RegisterOutcome {
                record: required_record(response.record)?,
                created: response.created,
                differing_fields: response.differing_fields,
            },
            deduplicated: response.deduplicated,
        })
    }
}

impl TryFrom<proto::GetContentRequest> for ContentRequest {
    type Error = CatalogError;

    /// A `length` of 0 means to the end; negative offsets and lengths are bad input.
    fn try_from(request: proto::GetContentRequest) -> Result<Self> {
        use proto::get_content_request::Selector;
        let selector = match request.selector {
            Some(Selector::RecordId(id)) => ContentSelector::RecordId(id),
            Some(Selector::Sha256(sha256)) => ContentSelector::Sha256(sha256),
            None => return Err(CatalogError::invalid("selector", "set record_id or sha256")),
        };
        let offset = u64::try_from(request.offset)
            .map_err(|_| CatalogError::invalid("offset", "must not be negative"))?;
        let length = u64::try_from(request.length)
            .map_err(|_| CatalogError::invalid("length", "must not be negative"))?;
        Ok(Self {
            selector,
            offset,
            length: (length > 0).then_some(length),
        })
    }
}

impl TryFrom<ContentRequest> for proto::GetContentRequest {
    type Error = CatalogError;

    /// An offset beyond `i64` is bad input, as validation says in-process; a length beyond it
    /// reads to the end, as it would in-process.
    fn try_from(request: ContentRequest) -> Result<Self> {
        use proto::get_content_request::Selector;
        let selector = match request.selector {
            ContentSelector::RecordId(id) => Selector::RecordId(id),
            ContentSelector::Sha256(sha256) => Selector::Sha256(sha256),
        };
        let offset = i64::try_from(request.offset)
            .map_err(|_| CatalogError::invalid("offset", "is too large"))?;
        let length = request
            .length
            .map_or(0, |length| i64::try_from(length).unwrap_or(i64::MAX));
        Ok(Self {
            selector: Some(selector),
            offset,
            length,
        })
    }
}

/// One message of a GetContent download: the info first, then chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadPart {
    /// What the download carries.
    Info(ContentInfo),
    /// The next bytes.
    Chunk(Bytes),
}

impl From<DownloadPart> for proto::GetContentResponse {
    fn from(part: DownloadPart) -> Self {
        use proto::get_content_response::Part;
        let part = match part {
            DownloadPart::Info(info) => Part::Info(info.into()),
            DownloadPart::Chunk(chunk) => Part::Chunk(chunk),
        };
        Self { part: Some(part) }
    }
}

impl TryFrom<proto::GetContentResponse> for DownloadPart {
    type Error = CatalogError;

    fn try_from(message: proto::GetContentResponse) -> Result<Self> {
        use proto::get_content_response::Part;
        match message.part {
            Some(Part::Info(info)) => Ok(Self::Info(info.into())),
            Some(Part::Chunk(chunk)) => Ok(Self::Chunk(chunk)),
            None => Err(CatalogError::internal(
                "the server sent an empty download message",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_get_content_maps_selector_and_range_both_ways() {
        let request = ContentRequest {
            selector: ContentSelector::RecordId(3),
            offset: 10,
            length: None,
        };
        let wire = proto::GetContentRequest::try_from(request.clone()).expect("valid");
        assert_eq!((wire.offset, wire.length), (10, 0));
        assert_eq!(ContentRequest::try_from(wire).expect("valid"), request);
    }

    #[test]
    fn test_get_content_rejects_unrepresentable_or_negative_offsets() {
        let request = ContentRequest {
            selector: ContentSelector::RecordId(3),
            offset: u64::MAX,
            length: Some(1),
        };
        let error = proto::GetContentRequest::try_from(request).expect_err("too large");
        assert_eq!(error.field.as_deref(), Some("offset"));
        let wire = proto::GetContentRequest {
            selector: Some(proto::get_content_request::Selector::RecordId(3)),
            offset: -1,
            length: 0,
        };
        let error = ContentRequest::try_from(wire).expect_err("negative");
        assert_eq!(error.field.as_deref(), Some("offset"));
    }

    #[test]
    fn test_upload_parts_round_trip_and_an_empty_message_is_rejected() {
        for part in [
            UploadPart::Chunk(Bytes::from_static(b"abc")),
            UploadPart::Finish,
        ] {
            let wire = proto::PutContentRequest::from(part.clone());
            assert_eq!(UploadPart::try_from(wire).expect("valid"), part);
        }
        let error =
            UploadPart::try_from(proto::PutContentRequest { part: None }).expect_err("empty");
        assert_eq!(error.field.as_deref(), Some("part"));
    }
}
