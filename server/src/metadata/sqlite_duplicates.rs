//! FindDuplicates on SQLite, read with rusqlite on a blocking thread of its own. sqlx hands every
//! row of a SQLite statement from its worker thread to the caller through a channel, one wake-up
//! and a few allocations per row: for the million rows of a large duplicates report that was
//! most of the time (a `perf` profile: futex waits and malloc, not SQLite; docs/benchmark-notes.md).
//! Here the thread steps the statement itself, assembles whole groups, and hands them over
//! [`GROUPS_PER_MESSAGE`] at a time; a consumer that goes away stops it at the next hand-over.

use std::{path::PathBuf, sync::Arc, time::Duration};

use async_stream::try_stream;
use docstokg_catalog::{CatalogError, DuplicateGroup, DuplicateQuery, Result};
use futures::stream::BoxStream;
use rusqlite::{Connection, OpenFlags, Row};
use sqlx::Sqlite;
use tokio::sync::{Semaphore, mpsc};

use super::{
    row::{DocumentRow, GroupAssembler, GroupedRow},
    shared_sql::duplicates_sql,
    sqlx_error::from_rusqlite,
};

/// Groups per hand-over from the reading thread.
const GROUPS_PER_MESSAGE: usize = 64;
/// Hand-overs waiting for the consumer: the memory a slow reader can pin.
const MESSAGES_IN_FLIGHT: usize = 4;

/// The duplicate groups of `query` in the database file at `path`; at most as many scans at
/// once as `scans` has permits.
pub fn duplicates(
    path: PathBuf,
    query: DuplicateQuery,
    scans: Arc<Semaphore>,
    busy_timeout: Duration,
) -> BoxStream<'static, Result<DuplicateGroup>> {
    Box::pin(try_stream! {
        let permit = scans
            .acquire_owned()
            .await
            .map_err(|_| CatalogError::unavailable("the SQLite store is closed"))?;
        let (sender, mut batches) = mpsc::channel(MESSAGES_IN_FLIGHT);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            if let Err(error) = scan(&path, &query, busy_timeout, &sender) {
                let _ = sender.blocking_send(Err(error));
            }
        });
        while let Some(batch) = batches.recv().await {
            for group in batch? {
                yield group;
            }
        }
    })
}

type Batches = mpsc::Sender<Result<Vec<DuplicateGroup>>>;

/// Runs the query and sends its groups; returns early, without error, when the consumer is gone.
fn scan(
    path: &std::path::Path,
    query: &DuplicateQuery,
    busy_timeout: Duration,
    sender: &Batches,
) -> Result<()> {
    let failed = |e: rusqlite::Error| from_rusqlite("finding duplicates", e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    conn.busy_timeout(busy_timeout).map_err(failed)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(failed)?;
    let mut statement = conn
        .prepare(&duplicates_sql::<Sqlite>(query))
        .map_err(failed)?;
    let mut rows = statement.query([]).map_err(failed)?;
    let mut batch = Vec::with_capacity(GROUPS_PER_MESSAGE);
    let mut groups = GroupAssembler::default();
    while let Some(row) = rows.next().map_err(failed)? {
        let done = if query.include_records {
            groups.push(grouped_row(row).map_err(failed)?)?
        } else {
            Some(DuplicateGroup {
                sha256: row.get(0).map_err(failed)?,
                count: row.get(1).map_err(failed)?,
                total_bytes: row.get(2).map_err(failed)?,
                records: Vec::new(),
            })
        };
        if let Some(group) = done {
            batch.push(group);
            if batch.len() == GROUPS_PER_MESSAGE
                && sender
                    .blocking_send(Ok(std::mem::take(&mut batch)))
                    .is_err()
            {
                return Ok(());
            }
        }
    }
    batch.extend(groups.finish());
    if !batch.is_empty() {
        let _ = sender.blocking_send(Ok(batch));
    }
    Ok(())
}

/// A row of [`duplicates_sql`] with records: the group's totals, then the record's columns.
fn grouped_row(row: &Row<'_>) -> rusqlite::Result<GroupedRow> {
    Ok(GroupedRow {
        group_count: row.get(0)?,
        group_bytes: row.get(1)?,
        document: DocumentRow::read(row, 2)?,
    })
}
