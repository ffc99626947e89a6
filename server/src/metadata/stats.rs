//! Stats of the `documents` table, in SQL both databases speak.

use docstokg_catalog::Result;
use sqlx::{Database, Executor, FromRow, IntoArguments, Pool};

use super::{MetadataStats, sqlx_error::from_sqlx};

const TOTALS: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT), COUNT(DISTINCT sha256), \
                      COUNT(DISTINCT artifact_id) FROM documents";
const DUPLICATE_GROUPS: &str = "SELECT COUNT(*) FROM (SELECT sha256 FROM documents WHERE sha256 IS NOT NULL \
                                GROUP BY sha256 HAVING COUNT(*) > 1) AS duplicate_sets";
const BY_RESOLVER: &str =
    "SELECT resolver, COUNT(*) FROM documents GROUP BY resolver ORDER BY resolver";

/// Counts for Stats, read from `pool`.
pub async fn read_stats<DB>(pool: &Pool<DB>) -> Result<MetadataStats>
where
    DB: Database,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> (i64, i64, i64, i64): FromRow<'r, DB::Row>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (String, i64): FromRow<'r, DB::Row>,
{
    let (total_records, total_bytes, unique_sha256, unique_artifacts): (i64, i64, i64, i64) =
        sqlx::query_as(TOTALS)
            .fetch_one(pool)
            .await
            .map_err(|e| from_sqlx("computing stats", e))?;
    let (duplicate_groups,): (i64,) = sqlx::query_as(DUPLICATE_GROUPS)
        .fetch_one(pool)
        .await
        .map_err(|e| from_sqlx("computing stats", e))?;
    let by_resolver: Vec<(String, i64)> = sqlx::query_as(BY_RESOLVER)
        .fetch_all(pool)
        .await
        .map_err(|e| from_sqlx("computing stats", e))?;
    Ok(MetadataStats {
        total_records,
        total_bytes,
        unique_sha256,
        unique_artifacts,
        duplicate_groups,
        by_resolver,
    })
}
