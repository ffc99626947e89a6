//! `export`: every record matching the filters, streamed from ListRecords as JSON Lines.

use std::path::PathBuf;

use clap::Args;
use docstokg_catalog::Catalog;
use docstokg_catalog_client::CatalogClient;
use futures::StreamExt;

use crate::cli::FilterArgs;
use crate::failure::{CliError, CliResult};
use crate::output::Output;
use crate::progress;
use crate::sink::Sink;

/// Options of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write the JSON Lines; `-` for stdout.
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    /// Which records to export.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// Writes one record per line, in id order, as it arrives; then a summary on stderr (with
/// `--json` and a file output, a JSON summary on stdout instead).
pub async fn run(client: &CatalogClient, args: ExportArgs, out: Output) -> CliResult<()> {
    let mut records = client.list_records(args.filter.into()).await?;
    let mut sink = Sink::create(&args.output)?;
    let bar = progress::counter("records", progress::visible(out.json));
    let mut line = Vec::with_capacity(1024);
    let mut exported = 0_u64;
    while let Some(record) = records.next().await {
        let record = record.inspect_err(|_| bar.abandon())?;
        line.clear();
        serde_json::to_writer(&mut line, &record).map_err(|error| {
            CliError::failure(format!("encoding record {}: {error}", record.id))
        })?;
        line.push(b'\n');
        sink.write(&line)?;
        exported += 1;
        bar.inc(1);
    }
    let name = sink.name.clone();
    sink.finish()?;
    bar.finish_and_clear();
    if out.json && args.output.as_os_str() != "-" {
        out.json(&serde_json::json!({ "exported": exported, "output": name }))
    } else {
        eprintln!("exported {exported} records to {name}");
        Ok(())
    }
}
