//! Printing results: a compact aligned line per record, or one JSON object per line.

use std::fmt::Display;
use std::io::{BufWriter, IsTerminal, Write};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use docstokg_catalog::{
    AuditFinding, AuditFindingKind, AuditSummary, CatalogStats, DeleteReport, DocumentRecord,
    DuplicateGroup, HealthReport, HealthState, PutOutcome, RegisterOutcome, RetentionReport,
    VerificationResult, VerificationStatus, VerifySummary,
};
use futures::{FutureExt, Stream, StreamExt};
use serde::Serialize;

use crate::failure::{CliError, CliResult};

/// Stdout behind a buffer. On a terminal each line is written at once; into a pipe or a file
/// lines go out in blocks: a `write` per line made a stream of 100,000 duplicate groups as many
/// system calls, and as many wake-ups of the program reading the pipe. [`flush`] empties it: the
/// streaming commands call it (through [`next_or_flush`]) whenever their stream has nothing
/// ready, and `main` calls it before it exits.
struct BufferedStdout {
    writer: BufWriter<std::io::Stdout>,
    terminal: bool,
}

fn stdout() -> MutexGuard<'static, BufferedStdout> {
    static STDOUT: LazyLock<Mutex<BufferedStdout>> = LazyLock::new(|| {
        let stdout = std::io::stdout();
        Mutex::new(BufferedStdout {
            terminal: stdout.is_terminal(),
            writer: BufWriter::with_capacity(64 * 1024, stdout),
        })
    });
    // A panic mid-write leaves at worst a partial line in the buffer; keep writing.
    STDOUT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes out what stdout holds.
pub fn flush() -> CliResult<()> {
    stdout()
        .writer
        .flush()
        .map_err(|error| CliError::io("writing to stdout", error))
}

/// The next item of `stream`. When none is ready, stdout is flushed first, so a slow stream shows
/// each line as it arrives while a fast one is written in blocks.
pub async fn next_or_flush<S: Stream + Unpin>(stream: &mut S) -> CliResult<Option<S::Item>> {
    if let Some(item) = stream.next().now_or_never() {
        return Ok(item);
    }
    flush()?;
    Ok(stream.next().await)
}

/// Where results go: stdout, as text or as JSON lines.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON lines instead of text.
    pub json: bool,
}

impl Output {
    /// Writes one line to stdout (buffered, see [`flush`]).
    pub fn line(&self, line: impl Display) -> CliResult<()> {
        let mut stdout = stdout();
        let terminal = stdout.terminal;
        writeln!(stdout.writer, "{line}")
            .and_then(|()| {
                if terminal {
                    stdout.writer.flush()
                } else {
                    Ok(())
                }
            })
            .map_err(|error| CliError::io("writing to stdout", error))
    }

    /// Writes `value` as one JSON line.
    pub fn json(&self, value: &impl Serialize) -> CliResult<()> {
        let line = serde_json::to_string(value)
            .map_err(|error| CliError::failure(format!("encoding the result as JSON: {error}")))?;
        self.line(line)
    }

    /// A record, as JSON or as an aligned line.
    pub fn record(&self, record: &DocumentRecord) -> CliResult<()> {
        if self.json {
            self.json(record)
        } else {
            self.line(record_line(record))
        }
    }

    /// Records, or a note on stderr that there are none.
    pub fn records(&self, records: &[DocumentRecord]) -> CliResult<()> {
        if records.is_empty() && !self.json {
            eprintln!("no records");
        }
        records.iter().try_for_each(|record| self.record(record))
    }

    /// The outcome of a registration.
    pub fn outcome(&self, outcome: &RegisterOutcome) -> CliResult<()> {
        if self.json {
            return self.json(outcome);
        }
        let status = if outcome.created {
            "created"
        } else {
            "existing"
        };
        let mut line = format!("{status:<8}  {}", record_line(&outcome.record));
        if !outcome.differing_fields.is_empty() {
            line.push_str(&format!(
                "  (differs: {})",
                outcome.differing_fields.join(", ")
            ));
        }
        self.line(line)
    }

    /// The outcome of an upload.
    pub fn put_outcome(&self, outcome: &PutOutcome) -> CliResult<()> {
        if self.json {
            return self.json(outcome);
        }
        self.outcome(&outcome.registration)?;
        if outcome.deduplicated {
            eprintln!("the bytes were already stored; nothing was written again");
        }
        Ok(())
    }

    /// A duplicate group, with its records when it carries them.
    pub fn duplicate_group(&self, group: &DuplicateGroup) -> CliResult<()> {
        if self.json {
            return self.json(group);
        }
        let saved = group.total_bytes - group.total_bytes / group.count.max(1);
        self.line(format!(
            "{:>6}  {:>14}  {:>14}  {}",
            group.count, group.total_bytes, saved, group.sha256
        ))?;
        group
            .records
            .iter()
            .try_for_each(|record| self.line(format!("    {}", record_line(record))))
    }

    /// A verification result.
    pub fn verification(&self, result: &VerificationResult) -> CliResult<()> {
        if self.json {
            self.json(result)
        } else {
            self.line(verification_line(result))
        }
    }

    /// The totals of a verify-all run.
    pub fn summary(&self, summary: &VerifySummary) -> CliResult<()> {
        if self.json {
            return self.json(summary);
        }
        self.line(format!(
            "checked {}: {} verified, {} mismatched, {} missing, {} without hash, {} out of scope; {} skipped by sampling",
            summary.checked,
            summary.verified,
            summary.mismatched,
            summary.missing,
            summary.no_hash,
            summary.out_of_scope,
            summary.skipped
        ))
    }

    /// What a delete matched and deleted (or, on a dry run, would delete).
    pub fn deleted(&self, report: &DeleteReport, dry_run: bool) -> CliResult<()> {
        if self.json {
            return self.json(report);
        }
        let mut ids: Vec<String> = report.ids.iter().map(i64::to_string).collect();
        if report.ids_truncated {
            ids.push("...".to_owned());
        }
        let listed = if ids.is_empty() {
            String::new()
        } else {
            format!(": {}", ids.join(" "))
        };
        self.line(if dry_run {
            format!("dry run: would delete {} records{listed}", report.matched)
        } else {
            format!(
                "deleted {} of {} matching records{listed}",
                report.deleted, report.matched
            )
        })
    }

    /// What each retention rule matched and deleted.
    pub fn retention(&self, report: &RetentionReport) -> CliResult<()> {
        if self.json {
            return self.json(report);
        }
        if report.rules.is_empty() {
            return self.line("no retention rules are configured (catalog.retention.rules)");
        }
        for rule in &report.rules {
            self.line(format!(
                "{}: matched {} records ({} bytes), {}",
                rule.rule,
                rule.matched,
                rule.matched_bytes,
                if report.dry_run {
                    "dry run: nothing deleted".to_owned()
                } else {
                    format!("deleted {}", rule.deleted)
                }
            ))?;
        }
        Ok(())
    }

    /// An audit finding, as text.
    pub fn finding(&self, finding: &AuditFinding) -> CliResult<()> {
        let kind = match finding.kind {
            AuditFindingKind::Orphan => "ORPHAN",
            AuditFindingKind::Missing => "MISSING",
            AuditFindingKind::Mismatch => "MISMATCH",
            AuditFindingKind::OutOfScope => "OUT_OF_SCOPE",
        };
        let record = finding
            .record_id
            .map_or_else(|| "-".to_owned(), |id| id.to_string());
        self.line(format!(
            "{kind:<12}  record {record:<8}  {} bytes  {}  {}",
            finding.bytes,
            finding.storage_uri.as_deref().unwrap_or("-"),
            finding.message
        ))
    }

    /// The totals of an audit, as text.
    pub fn audit_summary(&self, summary: &AuditSummary) -> CliResult<()> {
        self.line(format!(
            "checked {} records and {} stored objects ({} re-hashed): {} orphans ({} bytes), {} missing, {} mismatched, {} out of scope",
            summary.records_checked,
            summary.objects_checked,
            summary.rehashed,
            summary.orphans,
            summary.orphan_bytes,
            summary.missing,
            summary.mismatched,
            summary.out_of_scope
        ))
    }

    /// Catalog statistics.
    pub fn stats(&self, stats: &CatalogStats) -> CliResult<()> {
        if self.json {
            return self.json(stats);
        }
        let mut lines = vec![
            format!("provider          {}", stats.provider),
            format!("records           {}", stats.total_records),
            format!("bytes             {}", stats.total_bytes),
            format!("unique sha256     {}", stats.unique_sha256),
            format!("unique artifacts  {}", stats.unique_artifacts),
            format!("duplicate groups  {}", stats.duplicate_groups),
            format!("hashed bytes      {}", stats.hashed_bytes),
            format!("unique bytes      {}", stats.unique_bytes),
            format!("dedup saved bytes {}", stats.dedup_saved_bytes),
            format!("dedup ratio       {:.3}", stats.dedup_ratio()),
        ];
        lines.extend(
            stats
                .duplicate_groups_by_resolver
                .iter()
                .map(|(resolver, groups)| format!("duplicate groups  {resolver}: {groups}")),
        );
        lines.extend(
            stats
                .by_resolver
                .iter()
                .map(|(resolver, count)| format!("resolver          {resolver}: {count}")),
        );
        lines.extend(
            stats
                .storage_backends
                .iter()
                .map(|b| format!("storage           {} {} {}", b.role, b.kind, b.location)),
        );
        lines.extend(
            stats
                .details
                .iter()
                .map(|(key, value)| format!("detail            {key}: {value}")),
        );
        lines.into_iter().try_for_each(|line| self.line(line))
    }

    /// Provider health.
    pub fn health(&self, report: &HealthReport) -> CliResult<()> {
        if self.json {
            return self.json(report);
        }
        self.line(format!(
            "{:<10}  {}",
            health_name(report.state),
            report.message
        ))?;
        report.backends.iter().try_for_each(|backend| {
            self.line(format!(
                "  {:<10}  {:<10}  {:>8.1} ms  {}",
                backend.name,
                health_name(backend.state),
                backend.latency_ms,
                backend.message
            ))
        })
    }
}

/// `id  artifact  resolver  bytes  sha256-prefix  url`, aligned.
pub fn record_line(record: &DocumentRecord) -> String {
    format!(
        "{:>8}  {:<24}  {:<12}  {:>12}  {:<12}  {}",
        record.id,
        record.artifact_id,
        record.resolver,
        record.bytes,
        hash_prefix(record.sha256.as_deref()),
        record.source_url
    )
}

/// `id  STATUS  expected  actual  message`.
pub fn verification_line(result: &VerificationResult) -> String {
    let actual = match (&result.actual_sha256, result.actual_bytes) {
        (Some(sha256), Some(bytes)) => format!("{}/{bytes}", hash_prefix(Some(sha256))),
        _ => "-".to_owned(),
    };
    format!(
        "{:>8}  {:<12}  expected {}/{}  actual {}  {}",
        result.record_id,
        status_name(result.status),
        hash_prefix(result.expected_sha256.as_deref()),
        result.expected_bytes,
        actual,
        result.message
    )
}

/// The first 12 characters of a hash, or `-`.
fn hash_prefix(sha256: Option<&str>) -> &str {
    sha256
        .map(|hash| hash.get(..12).unwrap_or(hash))
        .unwrap_or("-")
}

/// The wire name of a verification status.
pub fn status_name(status: VerificationStatus) -> &'static str {
    match status {
        VerificationStatus::Verified => "VERIFIED",
        VerificationStatus::Mismatch => "MISMATCH",
        VerificationStatus::Missing => "MISSING",
        VerificationStatus::NoHash => "NO_HASH",
        VerificationStatus::OutOfScope => "OUT_OF_SCOPE",
    }
}

fn health_name(state: HealthState) -> &'static str {
    match state {
        HealthState::Healthy => "HEALTHY",
        HealthState::Degraded => "DEGRADED",
        HealthState::Unhealthy => "UNHEALTHY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_hash_prefix_shortens_and_handles_absence() {
        assert_eq!(hash_prefix(Some(&"ab".repeat(32))), "abababababab");
        assert_eq!(hash_prefix(Some("abc")), "abc");
        assert_eq!(hash_prefix(None), "-");
    }
}
