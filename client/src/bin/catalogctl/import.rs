//! `import`: a JSON Lines file of exported records or of a download manifest, read line by line
//! and sent in batches, with malformed lines reported by number.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use docstokg_catalog::{Catalog, DocumentRecord, NewDocument, RegisterOutcome, validation};
use docstokg_catalog_client::CatalogClient;
use indicatif::ProgressBar;

use crate::failure::{CliError, CliResult};
use crate::jsonl::{self, LineReader};
use crate::output::Output;
use crate::tally::Tally;
use crate::{manifest, progress};

/// Options of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSON Lines file; `-` for stdin.
    pub file: PathBuf,
    /// What each line holds.
    #[arg(long, value_enum, default_value_t = ImportFormat::Records)]
    pub format: ImportFormat,
    /// Keep each record's id where the target has no record with that id (records format).
    #[arg(long)]
    pub keep_ids: bool,
    /// What to do at a malformed line.
    #[arg(long, value_enum, default_value_t = OnError::Stop)]
    pub on_error: OnError,
    /// Lines per call (1 to 1000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub batch_size: u16,
}

/// What each line of an import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Complete records, as `export` writes them (sent with ImportRecords).
    Records,
    /// A download manifest (sent with RegisterOrGetBatch).
    Manifest,
}

/// What to do at a malformed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnError {
    /// Send every line before it, then stop (exit code 2).
    Stop,
    /// Report it and go on (exit code 1 at the end).
    Skip,
}

/// Rejects option combinations that make no sense, before connecting.
pub fn check(args: &ImportArgs) -> CliResult<()> {
    if args.keep_ids && args.format == ImportFormat::Manifest {
        return Err(CliError::usage(
            "--keep-ids applies to --format records only: a manifest has no ids",
        ));
    }
    Ok(())
}

/// Imports the file; exit code 2 if a malformed line stopped it, 1 if malformed lines were
/// skipped, else 0.
pub async fn run(client: &CatalogClient, args: ImportArgs, out: Output) -> CliResult<ExitCode> {
    match args.format {
        ImportFormat::Records => import::<DocumentRecord>(client, &args, out).await,
        ImportFormat::Manifest => import::<NewDocument>(client, &args, out).await,
    }
}

/// One line of an import file, parsed and checked, and how a batch of them is sent.
trait Entry: Sized {
    /// The format's name in the summary.
    const FORMAT: &'static str;
    /// Parses and validates one non-empty line.
    fn parse(line: &str) -> Result<Self, String>;
    /// The id the line carries, if any.
    fn id(&self) -> Option<i64>;
    /// Sends a batch; one outcome per entry, in order.
    async fn send(
        client: &CatalogClient,
        batch: Vec<Self>,
        keep_ids: bool,
    ) -> docstokg_catalog::Result<Vec<RegisterOutcome>>;
}

impl Entry for DocumentRecord {
    const FORMAT: &'static str = "records";

    fn parse(line: &str) -> Result<Self, String> {
        let record: DocumentRecord = serde_json::from_str(jsonl::object(line)?)
            .map_err(|error| format!("invalid record: {}", jsonl::json_error(&error)))?;
        validation::imported_record(record).map_err(|error| error.message)
    }

    fn id(&self) -> Option<i64> {
        Some(self.id)
    }

    async fn send(
        client: &CatalogClient,
        batch: Vec<Self>,
        keep_ids: bool,
    ) -> docstokg_catalog::Result<Vec<RegisterOutcome>> {
        client.import_records(batch, keep_ids).await
    }
}

impl Entry for NewDocument {
    const FORMAT: &'static str = "manifest";

    fn parse(line: &str) -> Result<Self, String> {
        manifest::parse_line(line)
    }

    fn id(&self) -> Option<i64> {
        None
    }

    async fn send(
        client: &CatalogClient,
        batch: Vec<Self>,
        _keep_ids: bool,
    ) -> docstokg_catalog::Result<Vec<RegisterOutcome>> {
        client.register_or_get_batch(batch).await
    }
}

/// Entries read but not sent yet, with the line numbers they came from.
struct Pending<E> {
    entries: Vec<E>,
    lines: Vec<u64>,
}

async fn import<E: Entry>(
    client: &CatalogClient,
    args: &ImportArgs,
    out: Output,
) -> CliResult<ExitCode> {
    let mut reader = LineReader::open(&args.file).await?;
    let batch_size = usize::from(args.batch_size);
    let mut tally = Tally {
        file: reader.name.clone(),
        format: E::FORMAT,
        ..Tally::default()
    };
    if args.keep_ids {
        tally.ids_kept = Some(0);
        tally.ids_reassigned = Some(0);
    }
    let bar = progress::counter("lines", progress::visible(out.json));
    let mut pending = Pending {
        entries: Vec::with_capacity(batch_size),
        lines: Vec::with_capacity(batch_size),
    };
    while let Some(line) = reader
        .next_line()
        .await
        .map_err(|error| CliError::io(format!("reading {}", reader.name), error))?
    {
        tally.lines_read += 1;
        bar.inc(1);
        let parsed = line.text.and_then(|text| {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                E::parse(&text).map(Some)
            }
        });
        match parsed {
            Ok(None) => {}
            Ok(Some(entry)) => {
                pending.entries.push(entry);
                pending.lines.push(line.number);
                if pending.entries.len() >= batch_size {
                    send(client, &mut pending, args.keep_ids, &mut tally, &bar).await?;
                }
            }
            Err(reason) => {
                tally.malformed += 1;
                bar.suspend(|| eprintln!("{}:{}: {reason}", reader.name, line.number));
                if args.on_error == OnError::Stop {
                    tally.stopped_at_line = Some(line.number);
                    break;
                }
            }
        }
    }
    send(client, &mut pending, args.keep_ids, &mut tally, &bar).await?;
    bar.finish_and_clear();
    tally.print(out)?;
    Ok(if let Some(number) = tally.stopped_at_line {
        eprintln!(
            "error: import stopped at {}:{number}; every line before it was sent. Fix the line and run the import again (it is idempotent), or pass --on-error skip",
            reader.name
        );
        ExitCode::from(2)
    } else if tally.malformed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Sends the pending entries, if any, and counts their outcomes.
async fn send<E: Entry>(
    client: &CatalogClient,
    pending: &mut Pending<E>,
    keep_ids: bool,
    tally: &mut Tally,
    bar: &ProgressBar,
) -> CliResult<()> {
    if pending.entries.is_empty() {
        return Ok(());
    }
    let ids: Vec<Option<i64>> = pending
        .entries
        .iter()
        .map(|entry| keep_ids.then(|| entry.id()).flatten())
        .collect();
    let entries = std::mem::take(&mut pending.entries);
    let outcomes = match E::send(client, entries, keep_ids).await {
        Ok(outcomes) => outcomes,
        Err(error) => {
            bar.abandon();
            return Err(batch_failed(error.into(), &pending.lines, tally));
        }
    };
    for (outcome, id) in outcomes.iter().zip(ids) {
        tally.count(outcome, id);
    }
    pending.lines.clear();
    Ok(())
}

/// A failed batch, with the lines it held and what had been imported before it.
fn batch_failed(error: CliError, lines: &[u64], tally: &Tally) -> CliError {
    let CliError::Failed { message, code } = error else {
        return error;
    };
    let first = lines.first().copied().unwrap_or(0);
    let last = lines.last().copied().unwrap_or(0);
    CliError::Failed {
        message: format!(
            "sending lines {first}-{last} of {} failed: {message}\nthe lines before {first} were imported ({} created, {} already present); the import is idempotent, so run it again to finish",
            tally.file, tally.created, tally.existing
        ),
        code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"id":7,"artifact_id":"a","source_url":"u","resolver":"r","content_type":"","bytes":1,"sha256":"AB","storage_uri":null,"created_at":"2024-01-01T00:00:00.000001Z","updated_at":"2024-01-01T00:00:00.000001Z","run_id":null}"#;

    #[test]
    fn test_record_lines_are_validated_like_the_server_does() {
        let reason = DocumentRecord::parse(RECORD).expect_err("short hash");
        assert!(reason.starts_with("sha256:"), "{reason}");
        let line = RECORD.replace("\"AB\"", &format!("\"{}\"", "AB".repeat(32)));
        let record = DocumentRecord::parse(&line).expect("valid");
        assert_eq!((record.id, record.content_type), (7, None));
        assert_eq!(record.sha256, Some("ab".repeat(32)));
        let negative = line.replace("\"id\":7", "\"id\":-7");
        assert!(
            DocumentRecord::parse(&negative)
                .expect_err("id")
                .starts_with("id:")
        );
        let missing = line
            .replace(",\"run_id\":null", "")
            .replace("\"created_at\":", "\"x\":");
        assert!(
            DocumentRecord::parse(&missing)
                .expect_err("created_at")
                .contains("created_at")
        );
    }
}
