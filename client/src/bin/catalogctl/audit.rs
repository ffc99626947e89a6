//! `audit`: a progress bar over the records (sized from the Started event), then a counter of
//! stored objects, findings as they arrive, then the summary.

use docstokg_catalog::{AuditEvent, AuditOptions, Catalog};
use docstokg_catalog_client::CatalogClient;

use crate::failure::CliResult;
use crate::output::{self, Output};
use crate::progress;

/// Runs AuditStorage, printing every event with `--json`, else the findings and the summary.
pub async fn run(client: &CatalogClient, rehash_rate: f64, out: Output) -> CliResult<()> {
    let visible = progress::visible(out.json);
    let mut bar = progress::items(0, false);
    let mut objects_pass = false;
    let mut events = client.audit_storage(AuditOptions { rehash_rate }).await?;
    while let Some(event) = output::next_or_flush(&mut events).await? {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                bar.abandon();
                return Err(error.into());
            }
        };
        if out.json {
            out.json(&event)?;
        }
        match event {
            AuditEvent::Started { records } => {
                bar = progress::items(u64::try_from(records).unwrap_or(0), visible);
            }
            AuditEvent::Progress {
                records_checked,
                objects_checked,
            } => {
                if objects_checked > 0 && !objects_pass {
                    objects_pass = true;
                    bar.finish_and_clear();
                    bar = progress::counter("stored objects", visible);
                }
                bar.set_position(if objects_pass {
                    objects_checked
                } else {
                    records_checked
                } as u64);
            }
            AuditEvent::Finding(finding) if !out.json => bar.suspend(|| out.finding(&finding))?,
            AuditEvent::Summary(summary) if !out.json => {
                bar.finish_and_clear();
                out.audit_summary(&summary)?;
            }
            AuditEvent::Finding(_) | AuditEvent::Summary(_) => {}
        }
    }
    bar.finish_and_clear();
    Ok(())
}
