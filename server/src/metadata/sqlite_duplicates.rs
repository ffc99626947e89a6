//! FindDuplicates on SQLite, read with rusqlite on a blocking thread of its own. sqlx hands every
//! row of a SQLite statement from its worker thread to the caller through a channel, one wake-up
//! and a few allocations per row: for the million rows of a large duplicates report that was
//! most of the time (a `perf` profile: futex waits and malloc, not SQLite; docs/benchmark-notes.md).
//! Here the thread steps the statements itself and hands whole groups over
//! [`GROUPS_PER_MESSAGE`] at a time; a consumer that goes away stops it at the next hand-over.
//! With records, the groups are ranked from the sha256 index first and each group's records read
//! by one lookup, so the first group leaves after the ranking rather than after a sort of every
//! record (1,000,000 records: 0.12 s instead of 1.3 s, and the whole stream as fast as the one
//! joined statement through `sqlite3`).

use std::{path::PathBuf, sync::Arc, time::Duration};

use async_stream::try_stream;
use docstokg_catalog::{CatalogError, DocumentRecord, DuplicateGroup, DuplicateQuery, Result};
use futures::stream::BoxStream;
use rusqlite::{Connection, OpenFlags};
use sqlx::Sqlite;
use tokio::sync::{Semaphore, mpsc};

use super::{
    row::{COLUMNS, DocumentRow},
    shared_sql::{duplicates_sql, ranked_hashes_sql},
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

/// Runs the scan in one read transaction (one snapshot for the ranking and the records) and sends
/// its groups; returns early, without error, when the consumer is gone.
fn scan(
    path: &std::path::Path,
    query: &DuplicateQuery,
    busy_timeout: Duration,
    sender: &Batches,
) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    conn.busy_timeout(busy_timeout).map_err(failed)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(failed)?;
    conn.execute_batch("BEGIN").map_err(failed)?;
    let mut batches = Batcher {
        sender,
        batch: Vec::with_capacity(GROUPS_PER_MESSAGE),
    };
    if query.include_records {
        scan_with_records(&conn, query, &mut batches)?;
    } else {
        let mut statement = conn
            .prepare(&duplicates_sql::<Sqlite>(query))
            .map_err(failed)?;
        let mut rows = statement.query([]).map_err(failed)?;
        while let Some(row) = rows.next().map_err(failed)? {
            let group = DuplicateGroup {
                sha256: row.get(0).map_err(failed)?,
                count: row.get(1).map_err(failed)?,
                total_bytes: row.get(2).map_err(failed)?,
                records: Vec::new(),
            };
            if !batches.push(group) {
                return Ok(());
            }
        }
    }
    batches.finish();
    Ok(())
}

/// Ranks the groups from the sha256 index alone, without reading a row, then reads each group's
/// records by one lookup of that index (already in id order), as the consumer takes them. The
/// first group leaves after the ranking instead of after a sort of every record, the way one
/// joined statement would have it; a group's bytes are summed from the records it holds.
fn scan_with_records(
    conn: &Connection,
    query: &DuplicateQuery,
    batches: &mut Batcher<'_>,
) -> Result<()> {
    let mut ranked = conn.prepare(&ranked_hashes_sql(query)).map_err(failed)?;
    let mut members = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM documents WHERE sha256 = ?1 ORDER BY id"
        ))
        .map_err(failed)?;
    let mut groups = ranked.query([]).map_err(failed)?;
    while let Some(group) = groups.next().map_err(failed)? {
        let sha256: String = group.get(0).map_err(failed)?;
        let records = members
            .query_map([&sha256], |row| DocumentRow::read(row, 0))
            .map_err(failed)?
            .map(|row| DocumentRecord::try_from(row.map_err(failed)?))
            .collect::<Result<Vec<_>>>()?;
        let group = DuplicateGroup {
            count: group.get(1).map_err(failed)?,
            total_bytes: records.iter().map(|record| record.bytes).sum(),
            sha256,
            records,
        };
        if !batches.push(group) {
            break;
        }
    }
    Ok(())
}

/// Collects groups into hand-overs of [`GROUPS_PER_MESSAGE`].
struct Batcher<'a> {
    sender: &'a Batches,
    batch: Vec<DuplicateGroup>,
}

impl Batcher<'_> {
    /// Adds a group, handing the batch over when it is full; false once the consumer is gone.
    fn push(&mut self, group: DuplicateGroup) -> bool {
        self.batch.push(group);
        self.batch.len() < GROUPS_PER_MESSAGE
            || self
                .sender
                .blocking_send(Ok(std::mem::take(&mut self.batch)))
                .is_ok()
    }

    /// Hands over the groups still held.
    fn finish(self) {
        if !self.batch.is_empty() {
            let _ = self.sender.blocking_send(Ok(self.batch));
        }
    }
}

/// A rusqlite error of the scan as the catalog's error.
fn failed(error: rusqlite::Error) -> CatalogError {
    from_rusqlite("finding duplicates", error)
}
