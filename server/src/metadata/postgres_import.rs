//! ImportRecords on PostgreSQL: a batch in a few statements, whatever its size. Records keep
//! their timestamps, and their ids where free (one `INSERT ... OVERRIDING SYSTEM VALUE` of every
//! record with an id); the rest, and those whose id was taken, go in one more insert that lets the
//! identity assign ids; one read-back by key then answers every record.

use std::collections::HashSet;

use docstokg_catalog::{CatalogError, DocumentRecord, NewDocument, RegisterOutcome, Result};
use sqlx::PgConnection;

use super::{postgres_sql::records_by_key, row::key_sha256, sqlx_error::from_sqlx};

/// Inserts `records` (all with `with_ids`, their own ids) unless their key or id exists;
/// returns the keys inserted.
async fn insert(
    conn: &mut PgConnection,
    records: &[(&DocumentRecord, &Vec<u8>)],
    with_ids: bool,
) -> Result<Vec<Vec<u8>>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let (id_column, id_value, overriding) = if with_ids {
        ("id, ", "id, ", "OVERRIDING SYSTEM VALUE ")
    } else {
        ("", "", "")
    };
    let sql = format!(
        "INSERT INTO documents ({id_column}key_sha256, artifact_id, source_url, resolver, content_type, bytes, sha256, \
                                storage_uri, created_at, updated_at, run_id) {overriding}\
         SELECT {id_value}key, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, \
                created_at, updated_at, run_id \
         FROM UNNEST($1::bigint[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], \
                     $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::text[]) WITH ORDINALITY \
              AS input(id, key, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, \
                       created_at, updated_at, run_id, ord) \
         ORDER BY ord \
         ON CONFLICT DO NOTHING RETURNING key_sha256"
    );
    let text = |f: fn(&DocumentRecord) -> Option<String>| {
        records.iter().map(|(r, _)| f(r)).collect::<Vec<_>>()
    };
    sqlx::query_scalar(&sql)
        .bind(records.iter().map(|(r, _)| r.id).collect::<Vec<_>>())
        .bind(
            records
                .iter()
                .map(|(_, key)| (*key).clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            records
                .iter()
                .map(|(r, _)| r.artifact_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            records
                .iter()
                .map(|(r, _)| r.source_url.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            records
                .iter()
                .map(|(r, _)| r.resolver.clone())
                .collect::<Vec<_>>(),
        )
        .bind(text(|r| r.content_type.clone()))
        .bind(records.iter().map(|(r, _)| r.bytes).collect::<Vec<_>>())
        .bind(text(|r| r.sha256.clone()))
        .bind(text(|r| r.storage_uri.clone()))
        .bind(
            records
                .iter()
                .map(|(r, _)| r.created_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            records
                .iter()
                .map(|(r, _)| r.updated_at)
                .collect::<Vec<_>>(),
        )
        .bind(text(|r| r.run_id.clone()))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| from_sqlx("importing records", e))
}

/// Imports `records` on `conn` (inside the caller's transaction).
pub(super) async fn import_batch(
    conn: &mut PgConnection,
    records: Vec<DocumentRecord>,
    keep_ids: bool,
) -> Result<Vec<RegisterOutcome>> {
    let keys: Vec<Vec<u8>> = records
        .iter()
        .map(|r| key_sha256(&r.artifact_id, &r.source_url, &r.resolver))
        .collect();
    let pairs: Vec<(&DocumentRecord, &Vec<u8>)> = records.iter().zip(&keys).collect();
    let mut inserted: HashSet<Vec<u8>> = HashSet::new();
    if keep_ids {
        let with_ids: Vec<_> = pairs.iter().copied().filter(|(r, _)| r.id > 0).collect();
        inserted.extend(insert(conn, &with_ids, true).await?);
    }
    let rest: Vec<_> = pairs
        .iter()
        .copied()
        .filter(|(_, key)| !inserted.contains(*key))
        .collect();
    inserted.extend(insert(conn, &rest, false).await?);

    let stored = records_by_key(conn, &keys).await?;
    records
        .iter()
        .zip(&keys)
        .map(|(record, key)| {
            let found = stored.get(key).cloned().ok_or_else(|| {
                CatalogError::internal("an imported record could not be read back")
            })?;
            // The first occurrence of a new key created it; later ones found it.
            Ok(if inserted.remove(key) {
                RegisterOutcome::created(found)
            } else {
                RegisterOutcome::existing(&NewDocument::from(record), found)
            })
        })
        .collect()
}
