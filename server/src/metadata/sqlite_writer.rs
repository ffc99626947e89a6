//! The SQLite single writer: one rusqlite connection that runs every group commit on a blocking
//! thread, stepping the statements itself. sqlx runs each SQLite statement on its connection's
//! worker thread and hands every statement and result row across a channel (a wake-up and
//! allocations each: most of a group's time, docs/benchmark-notes.md). Here a group is a few
//! cached multi-row inserts that return the rows they created, one cached lookup per key that
//! already existed, and one commit (one fsync with `synchronous=FULL`) for the whole group; when
//! the database refuses part of it, the group runs again with a savepoint per write, so only the
//! refused write's caller fails.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use docstokg_catalog::{CatalogError, DocumentRecord, NewDocument, RegisterOutcome, Result};
use rusqlite::{
    CachedStatement, Connection, OpenFlags, OptionalExtension, ToSql, params, params_from_iter,
};

use super::{
    coalescer::Job,
    row::{COLUMNS, DocumentRow, from_micros, now_micros},
    sqlx_error::from_rusqlite,
};

/// A write the single writer runs inside a group commit.
pub enum Write {
    /// One RegisterOrGet.
    Register(NewDocument),
    /// One RegisterOrGetBatch.
    Batch(Vec<NewDocument>),
    /// One ImportRecords call: the records, and whether they keep their ids where free.
    Import(Vec<DocumentRecord>, bool),
}

impl Write {
    /// The documents a registration or batch registers (none for an import).
    fn documents(&self) -> &[NewDocument] {
        match self {
            Self::Register(document) => std::slice::from_ref(document),
            Self::Batch(documents) => documents,
            Self::Import(..) => &[],
        }
    }
}

impl Job for Write {
    fn rows(&self) -> usize {
        match self {
            Self::Register(_) => 1,
            Self::Batch(documents) => documents.len(),
            Self::Import(records, _) => records.len(),
        }
    }
}

/// Rows per multi-row insert: 10 bound values a row stay far below SQLite's 32,766 variables,
/// and the statement cache holds the statement of each chunk length a group needs.
const ROWS_PER_STATEMENT: usize = 256;

/// Inserts a row unless its key (or, with an explicit id, its id) exists; returns the row
/// ([`COLUMNS`] follow).
const INSERT: &str = "INSERT INTO documents \
    (id, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, created_at, updated_at, run_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING RETURNING ";

/// The writer's connection, used by one group at a time.
#[derive(Clone)]
pub struct SqliteWriter {
    db: Arc<Mutex<Connection>>,
}

impl SqliteWriter {
    /// Opens the writer's connection to the database at `path` (an existing file, or with
    /// `in_memory` the name of a shared-cache in-memory database the pools also open), with
    /// `synchronous=FULL`: a group acknowledged to its callers survives a crash of the machine.
    pub fn open(path: &Path, in_memory: bool, busy_timeout: Duration) -> Result<Self> {
        let failed = |e| from_rusqlite("opening the SQLite writer", e);
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if in_memory {
            flags |= OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
        }
        let db = Connection::open_with_flags(path, flags).map_err(failed)?;
        db.busy_timeout(busy_timeout).map_err(failed)?;
        // Savepoint journals in memory: on disk they were a `pwrite` per page a write touched.
        db.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY",
        )
        .map_err(failed)?;
        db.set_prepared_statement_cache_capacity(16);
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Runs one group of writes in one transaction: a write that fails is rolled back alone and
    /// its caller gets its error, while the others commit together (see [`run_group`]). A failed
    /// commit fails the whole group, and nothing of it is stored.
    pub async fn write_group(
        &self,
        writes: Vec<Write>,
    ) -> Result<Vec<Result<Vec<RegisterOutcome>>>> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let db = db
                .lock()
                .map_err(|_| CatalogError::internal("the SQLite writer failed earlier"))?;
            run_group(&db, writes)
        })
        .await
        .map_err(|e| CatalogError::internal(format!("the SQLite writer thread failed: {e}")))?
    }
}

/// The group, from `BEGIN` to `COMMIT`. A group of registrations and batches is first tried as
/// one run of multi-row inserts; if any of it fails, that attempt is rolled back and the group
/// runs again with each write in a savepoint.
fn run_group(db: &Connection, writes: Vec<Write>) -> Result<Vec<Result<Vec<RegisterOutcome>>>> {
    let now = now_micros();
    if writes.len() > 1 && writes.iter().all(|w| !matches!(w, Write::Import(..))) {
        let documents: Vec<&NewDocument> = writes.iter().flat_map(Write::documents).collect();
        let together = transaction(db, |statements| statements.register_all(&documents, now));
        if let Ok(mut outcomes) = together {
            let mut results = Vec::with_capacity(writes.len());
            for write in writes.iter().rev() {
                let rest = outcomes.split_off(outcomes.len() - write.rows());
                results.push(Ok(rest));
            }
            results.reverse();
            return Ok(results);
        }
    }
    transaction(db, |statements| statements.run_each(writes, now))
}

/// Runs `work` in one transaction and commits it; rolls it back when `work` or the commit fails.
fn transaction<T>(
    db: &Connection,
    work: impl FnOnce(&mut Statements<'_>) -> Result<T>,
) -> Result<T> {
    db.execute_batch("BEGIN IMMEDIATE")
        .map_err(failed("starting a group commit"))?;
    let done = Statements::prepare(db).and_then(|mut statements| work(&mut statements));
    let committed = done.and_then(|done| {
        db.execute_batch("COMMIT")
            .map(|()| done)
            .map_err(failed("committing a group of writes"))
    });
    if committed.is_err() && !db.is_autocommit() {
        let _ = db.execute_batch("ROLLBACK");
    }
    committed
}

/// The error mapping of a statement that was `doing` something.
fn failed(doing: &'static str) -> impl Fn(rusqlite::Error) -> CatalogError {
    move |e| from_rusqlite(doing, e)
}

/// A document's unique key.
type KeyRef<'a> = (&'a str, &'a str, &'a str);

fn key_of(document: &NewDocument) -> KeyRef<'_> {
    (
        &document.artifact_id,
        &document.source_url,
        &document.resolver,
    )
}

/// The multi-row insert of `rows` registrations, returning the id and key of each row it
/// inserted: the rest of a created record is what was sent, so SQLite formats and the writer
/// decodes no column it already holds.
fn insert_rows_sql(rows: usize) -> String {
    let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows].join(", ");
    format!(
        "INSERT INTO documents (artifact_id, source_url, resolver, content_type, bytes, sha256, \
         storage_uri, created_at, updated_at, run_id) VALUES {values} ON CONFLICT DO NOTHING \
         RETURNING id, artifact_id, source_url, resolver"
    )
}

/// Column `index` of a returned row as text, borrowed from SQLite's own buffer.
fn text<'row>(row: &'row rusqlite::Row<'_>, index: usize) -> Result<&'row str> {
    let value = row
        .get_ref(index)
        .map_err(failed("reading a registered row"))?;
    value
        .as_str()
        .map_err(|e| CatalogError::internal(format!("a registered row's key is not text: {e}")))
}

/// The writer's statements on the group's transaction.
struct Statements<'db> {
    db: &'db Connection,
    insert: CachedStatement<'db>,
    by_key: CachedStatement<'db>,
}

impl<'db> Statements<'db> {
    fn prepare(db: &'db Connection) -> Result<Self> {
        let failed = |e| from_rusqlite("preparing the SQLite writer's statements", e);
        Ok(Self {
            db,
            insert: db
                .prepare_cached(&format!("{INSERT}{COLUMNS}"))
                .map_err(failed)?,
            by_key: db
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM documents WHERE artifact_id = ?1 AND source_url = ?2 AND resolver = ?3"
                ))
                .map_err(failed)?,
        })
    }

    /// Every write in its own savepoint; an error here (a savepoint that cannot be released or
    /// rolled back) fails the group.
    fn run_each(
        &mut self,
        writes: Vec<Write>,
        now: i64,
    ) -> Result<Vec<Result<Vec<RegisterOutcome>>>> {
        let mut results = Vec::with_capacity(writes.len());
        for write in writes {
            self.db
                .execute_batch("SAVEPOINT write")
                .map_err(failed("starting a write of a group commit"))?;
            let result = match write {
                Write::Register(document) => self.register_all(&[&document], now),
                Write::Batch(documents) => {
                    let documents: Vec<&NewDocument> = documents.iter().collect();
                    self.register_all(&documents, now)
                }
                Write::Import(records, keep_ids) => records
                    .into_iter()
                    .map(|record| self.import(record, keep_ids))
                    .collect(),
            };
            if result.is_err() {
                self.db
                    .execute_batch("ROLLBACK TO write")
                    .map_err(failed("rolling back a failed write of a group commit"))?;
            }
            self.db
                .execute_batch("RELEASE write")
                .map_err(failed("releasing a write of a group commit"))?;
            results.push(result);
        }
        Ok(results)
    }

    /// Registers `documents` created at `now`, [`ROWS_PER_STATEMENT`] rows per insert: each row
    /// an insert returns is a record created by the first document with its key (the record is
    /// that document with the returned id); every other document finds the record its key
    /// already has (an earlier document's included).
    fn register_all(
        &mut self,
        documents: &[&NewDocument],
        now: i64,
    ) -> Result<Vec<RegisterOutcome>> {
        let failed = |e| from_rusqlite("registering documents", e);
        let at = from_micros(now)?;
        let mut outcomes = Vec::with_capacity(documents.len());
        for chunk in documents.chunks(ROWS_PER_STATEMENT) {
            // foldhash: SipHash of the keys was 2-3% of the server on the batch row, and a
            // map of one statement's rows needs no defence against chosen collisions.
            let mut first_of: foldhash::HashMap<KeyRef<'_>, usize> =
                foldhash::HashMap::with_capacity_and_hasher(chunk.len(), Default::default());
            for (position, document) in chunk.iter().enumerate() {
                first_of.entry(key_of(document)).or_insert(position);
            }
            let mut created: Vec<Option<i64>> = vec![None; chunk.len()];
            let mut insert = self
                .db
                .prepare_cached(&insert_rows_sql(chunk.len()))
                .map_err(failed)?;
            let values = chunk.iter().flat_map(|d| -> [&dyn ToSql; 10] {
                [
                    &d.artifact_id,
                    &d.source_url,
                    &d.resolver,
                    &d.content_type,
                    &d.bytes,
                    &d.sha256,
                    &d.storage_uri,
                    &now,
                    &now,
                    &d.run_id,
                ]
            });
            let mut rows = insert.query(params_from_iter(values)).map_err(failed)?;
            while let Some(row) = rows.next().map_err(failed)? {
                let key = (text(row, 1)?, text(row, 2)?, text(row, 3)?);
                if let Some(&position) = first_of.get(&key) {
                    created[position] = Some(row.get(0).map_err(failed)?);
                }
            }
            drop(rows);
            for (document, created) in chunk.iter().zip(created) {
                outcomes.push(match created {
                    Some(id) => RegisterOutcome::created(DocumentRecord::from_document(
                        id,
                        (*document).clone(),
                        at,
                        at,
                    )),
                    None => {
                        let existing = self.by_key(document)?.ok_or_else(|| {
                            CatalogError::internal("a registered document could not be read back")
                        })?;
                        RegisterOutcome::existing(document, existing)
                    }
                });
            }
        }
        Ok(outcomes)
    }
    /// Imports `record` with its timestamps, and its id when `keep_id` and the id is free.
    fn import(&mut self, record: DocumentRecord, keep_id: bool) -> Result<RegisterOutcome> {
        let document = NewDocument::from(&record);
        if let Some(existing) = self.by_key(&document)? {
            return Ok(RegisterOutcome::existing(&document, existing));
        }
        let (created, updated) = (
            record.created_at.timestamp_micros(),
            record.updated_at.timestamp_micros(),
        );
        let wanted = (keep_id && record.id > 0).then_some(record.id);
        let inserted = match self.insert(&document, wanted, created, updated)? {
            Some(inserted) => inserted,
            // The id is taken by another record: let SQLite assign one.
            None => self
                .insert(&document, None, created, updated)?
                .ok_or_else(|| {
                    CatalogError::internal("an imported record could not be inserted")
                })?,
        };
        Ok(RegisterOutcome::created(inserted))
    }

    /// Inserts `document` with `id` (`None`: SQLite assigns one) unless its key or id exists;
    /// the new record.
    fn insert(
        &mut self,
        document: &NewDocument,
        id: Option<i64>,
        created_at: i64,
        updated_at: i64,
    ) -> Result<Option<DocumentRecord>> {
        self.insert
            .query_row(
                params![
                    id,
                    document.artifact_id,
                    document.source_url,
                    document.resolver,
                    document.content_type,
                    document.bytes,
                    document.sha256,
                    document.storage_uri,
                    created_at,
                    updated_at,
                    document.run_id,
                ],
                |row| DocumentRow::read(row, 0),
            )
            .optional()
            .map_err(|e| from_rusqlite("registering a document", e))?
            .map(DocumentRecord::try_from)
            .transpose()
    }

    /// The stored record of `document`'s key.
    fn by_key(&mut self, document: &NewDocument) -> Result<Option<DocumentRecord>> {
        self.by_key
            .query_row(
                params![document.artifact_id, document.source_url, document.resolver],
                |row| DocumentRow::read(row, 0),
            )
            .optional()
            .map_err(|e| from_rusqlite("reading a document by key", e))?
            .map(DocumentRecord::try_from)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.cargo/config.toml` builds the bundled SQLite without the process-wide mutexes of memory
    /// statistics and of a shared page cache (7% of the writer's samples on the batch row).
    #[test]
    fn test_the_bundled_sqlite_is_built_without_global_allocation_mutexes() {
        let db = Connection::open_in_memory().expect("in-memory database");
        let mut statement = db.prepare("PRAGMA compile_options").expect("prepare");
        let options: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .expect("compile options")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }
}
