//! Arbitrary bytes as a sequence of PutContent messages (each prefixed by a one-byte length), as
//! the server splits an upload into its header and chunks; and as a grpc-timeout header, as the
//! call limits read it. Nothing may panic or overflow.
#![no_main]

use docstokg_catalog::{convert::UploadPart, proto, validation};
use docstokg_catalog_server::call_limits::client_timeout;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tonic::codegen::http::{HeaderMap, HeaderValue};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let mut headers = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (message, tail) = tail.split_at(len);
        rest = tail;
        let Ok(message) = proto::PutContentRequest::decode(message) else {
            continue;
        };
        if let Ok(UploadPart::Header(header)) = UploadPart::try_from(message) {
            headers += 1;
            let _ = validation::content_header(header);
        }
    }
    let _ = headers;
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut map = HeaderMap::new();
        map.insert("grpc-timeout", value);
        let _ = client_timeout(&map);
    }
});
