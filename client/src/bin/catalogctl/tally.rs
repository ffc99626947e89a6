//! What an import did, counted as it goes and printed at the end.

use docstokg_catalog::RegisterOutcome;
use serde::Serialize;

use crate::failure::CliResult;
use crate::output::Output;

/// The counts of an import; with `--json` printed as one object on stdout.
#[derive(Debug, Default, Serialize)]
pub struct Tally {
    /// The input, as named in messages.
    pub file: String,
    /// `records` or `manifest`.
    pub format: &'static str,
    /// Lines read, empty and malformed ones included.
    pub lines_read: u64,
    /// Records this import created.
    pub created: u64,
    /// Lines whose key was already present (nothing written).
    pub existing: u64,
    /// Of those, lines whose other fields differ from the stored record.
    pub differing: u64,
    /// Malformed lines: reported, not sent.
    pub malformed: u64,
    /// The malformed line that stopped the import (`--on-error stop`).
    pub stopped_at_line: Option<u64>,
    /// With `--keep-ids`: created records that kept their id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids_kept: Option<u64>,
    /// With `--keep-ids`: created records that got a new id because theirs was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids_reassigned: Option<u64>,
}

impl Tally {
    /// Counts the outcome of one sent line; `requested_id` is the id it asked to keep.
    pub fn count(&mut self, outcome: &RegisterOutcome, requested_id: Option<i64>) {
        if !outcome.created {
            self.existing += 1;
            if !outcome.differing_fields.is_empty() {
                self.differing += 1;
            }
            return;
        }
        self.created += 1;
        if let Some(id) = requested_id {
            let counter = if outcome.record.id == id {
                &mut self.ids_kept
            } else {
                &mut self.ids_reassigned
            };
            *counter.get_or_insert(0) += 1;
        }
    }

    /// The summary: JSON on stdout with `--json`, else one line on stderr.
    pub fn print(&self, out: Output) -> CliResult<()> {
        if out.json {
            return out.json(self);
        }
        eprintln!("{}", self.line());
        Ok(())
    }

    /// `FILE: N lines read; C created, E already present (D with different fields), M malformed`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{}: {} lines read; {} created, {} already present ({} with different fields), {} malformed",
            self.file, self.lines_read, self.created, self.existing, self.differing, self.malformed
        );
        if self.ids_kept.is_some() || self.ids_reassigned.is_some() {
            line.push_str(&format!(
                "; ids kept {}, reassigned {}",
                self.ids_kept.unwrap_or(0),
                self.ids_reassigned.unwrap_or(0)
            ));
        }
        if let Some(number) = self.stopped_at_line {
            line.push_str(&format!("; stopped at line {number}"));
        }
        line
    }
}
