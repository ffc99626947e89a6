//! Streams that read a table in pages by id, holding no connection between pages, so a slow
//! reader never pins a connection and the database never keeps a long read open.

use std::future::Future;

use async_stream::try_stream;
use docstokg_catalog::{DocumentRecord, RecordStream, Result};

use super::row::DocumentRow;

/// Records per page.
pub const PAGE_SIZE: i64 = 500;

/// The records that `fetch_page(after_id)` returns page by page: each call must return up to
/// [`PAGE_SIZE`] rows with ids above `after_id`, in id order.
pub fn paged<F, Fut>(mut fetch_page: F) -> RecordStream
where
    F: FnMut(i64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<DocumentRow>>> + Send + 'static,
{
    Box::pin(try_stream! {
        let mut after_id = 0_i64;
        loop {
            let rows = fetch_page(after_id).await?;
            let page_len = rows.len() as i64;
            for row in rows {
                after_id = row.id;
                yield DocumentRecord::try_from(row)?;
            }
            if page_len < PAGE_SIZE {
                break;
            }
        }
    })
}
