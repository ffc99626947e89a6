//! Handing a [`ByteStream`] on chunk by chunk, as a transfer feeds the thread that writes it.

use std::future::Future;

use bytes::Bytes;
use futures::StreamExt;

use crate::{ByteStream, CatalogError};

/// Passes every chunk of `body` to `send` until the body ends, fails, or `send` refuses a chunk
/// (its receiver stopped, and reports its own error). Returns the body's error, if it failed.
pub async fn forward_chunks<Sent, Refused>(
    body: &mut ByteStream,
    mut send: impl FnMut(Bytes) -> Sent,
) -> Option<CatalogError>
where
    Sent: Future<Output = std::result::Result<(), Refused>>,
{
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                if send(chunk).await.is_err() {
                    return None;
                }
            }
            Err(error) => return Some(error),
        }
    }
    None
}
