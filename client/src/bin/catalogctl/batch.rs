//! `register-batch`: a JSON-lines file of NewDocuments, registered 1000 per call.

use std::path::Path;

use docstokg_catalog::{Catalog, NewDocument, validation};
use docstokg_catalog_client::CatalogClient;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::failure::{CliError, CliResult};
use crate::output::Output;

/// Documents per RegisterOrGetBatch call.
const BATCH_SIZE: usize = 1000;

/// Registers every document of `file`, printing one outcome per document as each batch returns.
/// Each line is checked locally first so a bad line is reported with its line number.
pub async fn register(client: &CatalogClient, file: &Path, out: Output) -> CliResult<()> {
    let opened = tokio::fs::File::open(file)
        .await
        .map_err(|error| CliError::usage(format!("cannot open {}: {error}", file.display())))?;
    let mut lines = BufReader::new(opened).lines();
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    let (mut created, mut existing, mut number) = (0_usize, 0_usize, 0_usize);
    loop {
        let line = lines
            .next_line()
            .await
            .map_err(|error| CliError::io(format!("reading {}", file.display()), error))?;
        let Some(line) = line else { break };
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        batch.push(parse_line(&line).map_err(|message| {
            CliError::usage(format!("{}:{number}: {message}", file.display()))
        })?);
        if batch.len() == BATCH_SIZE {
            send(
                client,
                std::mem::take(&mut batch),
                out,
                &mut created,
                &mut existing,
            )
            .await?;
        }
    }
    if !batch.is_empty() {
        send(client, batch, out, &mut created, &mut existing).await?;
    }
    if !out.json {
        eprintln!(
            "{} documents: {created} created, {existing} already registered",
            created + existing
        );
    }
    Ok(())
}

/// One line as a valid document, or what is wrong with it.
fn parse_line(line: &str) -> Result<NewDocument, String> {
    let document: NewDocument =
        serde_json::from_str(line).map_err(|error| format!("not a NewDocument: {error}"))?;
    validation::new_document(document).map_err(|error| error.message)
}

async fn send(
    client: &CatalogClient,
    batch: Vec<NewDocument>,
    out: Output,
    created: &mut usize,
    existing: &mut usize,
) -> CliResult<()> {
    for outcome in client.register_or_get_batch(batch).await? {
        if outcome.created {
            *created += 1;
        } else {
            *existing += 1;
        }
        out.outcome(&outcome)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_line_accepts_minimal_document() {
        let line = r#"{"artifact_id":"a","source_url":"https://x/y","resolver":"r","bytes":3}"#;
        let document = parse_line(line).expect("valid");
        assert_eq!(document.artifact_id, "a");
        assert_eq!(document.sha256, None);
    }

    #[test]
    fn test_parse_line_reports_invalid_fields() {
        let line = r#"{"artifact_id":"a","source_url":"https://x/y","resolver":"r","bytes":3,"sha256":"zz"}"#;
        assert!(parse_line(line).expect_err("bad hash").contains("sha256"));
        assert!(parse_line("{").is_err());
    }
}
