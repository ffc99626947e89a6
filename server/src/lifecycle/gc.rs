//! Garbage collection of bytes: removes stored objects that no record references and that are
//! older than the grace period, in batches, resumably; then what failed or killed uploads left
//! (temporary files and objects, incomplete multipart uploads); then pins that killed servers left.
//!
//! **The race every content-addressed store has**: the collector decides that the bytes of X are
//! unreferenced while an upload of the same bytes finds them stored (and so writes nothing) or a
//! registration points a new record at them. Both sides write a row before reading the other's:
//!
//! | collector, per batch | upload or registration of X (`pins.rs`) |
//! |---|---|
//! | 1. tombstone X | a. pin X |
//! | 2. read pins of X | b. wait while X is tombstoned |
//! | 3. read records with X | c. check the bytes of X are stored |
//! | 4. remove X unless 2 or 3 found something; clear the tombstone | d. register, unpin |
//!
//! If the caller's wait (b) read no tombstone, its pin (a) committed before the tombstone (1), so
//! the collector's read of pins (2) sees it, or, if the caller already finished (d), the read of
//! records (3) sees its record: X stays. If (b) saw the tombstone, the caller waits for the
//! collector and then checks (c) whether X survived: an upload that finds it gone fails with
//! UNAVAILABLE (retry: the client still has the bytes), a registration with FAILED_PRECONDITION.
//! An upload that knows its hash up front pins before it stores, so it simply stores X again.
//!
//! A killed run leaves tombstones; the next run starts by finishing those batches (re-reading
//! pins and records first), so nothing is removed twice or wrongly.

use std::{collections::HashSet, time::Duration};

use chrono::Utc;
use docstokg_catalog::Result;
use serde::Serialize;

use crate::blob::{BlobStore, LeftoverReport, StoredObject};
use crate::metadata::{LifecycleSql, MetadataStore};

/// Objects listed, checked and removed per batch.
pub const GC_BATCH: usize = 1000;

/// How a collection runs.
#[derive(Debug, Clone, Copy)]
pub struct GcOptions {
    /// Objects (and leftovers, and pins) younger than this are kept.
    pub grace_period: Duration,
    /// Report what would be removed; remove nothing.
    pub dry_run: bool,
}

/// What a collection found and removed (or, on a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// True when nothing was removed.
    pub dry_run: bool,
    /// Stored objects listed.
    pub scanned: u64,
    /// Kept: younger than the grace period.
    pub young: u64,
    /// Kept: a record has their hash.
    pub referenced: u64,
    /// Kept: an upload or registration is about to reference them.
    pub pinned: u64,
    /// Objects removed (or that would be).
    pub removed: u64,
    /// Their sizes.
    pub removed_bytes: u64,
    /// Tombstones of a killed run that this run finished.
    pub resumed: u64,
    /// Temporary files or objects removed (or that would be).
    pub temporary: u64,
    /// Their sizes.
    pub temporary_bytes: u64,
    /// Incomplete multipart uploads aborted (or that would be).
    pub multipart_uploads: u64,
    /// Pins older than the grace period (and than 24 h) removed.
    pub expired_pins: u64,
}

/// The youngest pin a run removes, whatever the grace period: pins are only left behind by killed
/// servers, and one of a live call (an upload declaring its hash pins before it stores) must
/// outlive the call.
const PIN_EXPIRY_FLOOR: chrono::Duration = chrono::Duration::hours(24);

/// Collects garbage in the stores of a provider, calling `progress` after every batch.
pub async fn collect_garbage(
    metadata: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    options: GcOptions,
    mut progress: impl FnMut(&GcReport),
) -> Result<GcReport> {
    let lifecycle = metadata.lifecycle();
    let grace = chrono::Duration::from_std(options.grace_period).unwrap_or(chrono::Duration::MAX);
    let cutoff = Utc::now()
        .checked_sub_signed(grace)
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
    let mut report = GcReport {
        dry_run: options.dry_run,
        ..GcReport::default()
    };
    if !options.dry_run {
        // A killed run's batches: their objects were candidates; re-check and finish them.
        let left: Vec<String> = lifecycle.tombstones().await?;
        for chunk in left.chunks(GC_BATCH) {
            let mut sized = Vec::with_capacity(chunk.len());
            for hash in chunk {
                let bytes = blobs.size(&blobs.uri_of(hash)).await?.unwrap_or(0);
                sized.push((hash.clone(), bytes));
            }
            remove_batch(lifecycle, blobs, &sized, &mut report).await?;
            report.resumed += chunk.len() as u64;
        }
    }
    let mut after: Option<String> = None;
    loop {
        let page: Vec<StoredObject> = blobs.list(after.as_deref(), GC_BATCH).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.sha256.clone());
        let full_page = page.len() == GC_BATCH;
        report.scanned += page.len() as u64;
        let (old, young): (Vec<StoredObject>, Vec<StoredObject>) = page
            .into_iter()
            .partition(|object| object.modified < cutoff);
        report.young += young.len() as u64;
        let hashes: Vec<String> = old.iter().map(|o| o.sha256.clone()).collect();
        let referenced = lifecycle.referenced(&hashes).await?;
        report.referenced += referenced.len() as u64;
        let candidates: Vec<(String, u64)> = old
            .into_iter()
            .filter(|o| !referenced.contains(&o.sha256))
            .map(|o| (o.sha256, o.bytes))
            .collect();
        if options.dry_run {
            let hashes: Vec<String> = candidates.iter().map(|(h, _)| h.clone()).collect();
            let pinned = lifecycle.pinned(&hashes).await?;
            report.pinned += pinned.len() as u64;
            for (hash, bytes) in &candidates {
                if !pinned.contains(hash) {
                    report.removed += 1;
                    report.removed_bytes += bytes;
                }
            }
        } else {
            remove_batch(lifecycle, blobs, &candidates, &mut report).await?;
        }
        progress(&report);
        if !full_page {
            break;
        }
    }
    let leftovers: LeftoverReport = blobs.sweep_leftovers(cutoff, options.dry_run).await?;
    report.temporary = leftovers.temporary;
    report.temporary_bytes = leftovers.temporary_bytes;
    report.multipart_uploads = leftovers.multipart_uploads;
    if !options.dry_run {
        // A pin is held by a live upload or registration until it has committed its record: one
        // expired under it would let the next run remove bytes the record is about to reference.
        let pin_cutoff = cutoff.min(Utc::now() - PIN_EXPIRY_FLOOR);
        report.expired_pins = lifecycle.expire_pins(pin_cutoff).await?;
    }
    progress(&report);
    Ok(report)
}

/// Steps 1 to 4 of the protocol for a batch of unreferenced `candidates` (hash, size).
async fn remove_batch(
    lifecycle: &dyn LifecycleSql,
    blobs: &dyn BlobStore,
    candidates: &[(String, u64)],
    report: &mut GcReport,
) -> Result<()> {
    if candidates.is_empty() {
        return Ok(());
    }
    let hashes: Vec<String> = candidates.iter().map(|(h, _)| h.clone()).collect();
    lifecycle.tombstone(&hashes).await?;
    // Pins before records: a caller that unpinned has committed its record before.
    let pinned = lifecycle.pinned(&hashes).await?;
    let referenced = lifecycle.referenced(&hashes).await?;
    report.pinned += pinned.len() as u64;
    report.referenced += referenced.len() as u64;
    let keep: HashSet<&String> = pinned.iter().chain(referenced.iter()).collect();
    for (hash, bytes) in candidates {
        if !keep.contains(hash) && blobs.remove(hash).await? {
            report.removed += 1;
            report.removed_bytes += bytes;
        }
    }
    lifecycle.clear_tombstones(&hashes).await
}

impl GcReport {
    /// The report as lines of text, for a terminal.
    pub fn render(&self) -> String {
        let verb = if self.dry_run {
            "would remove"
        } else {
            "removed"
        };
        format!(
            "gc{}: {} stored objects scanned; {verb} {} ({} bytes); kept {} referenced, {} younger \
             than the grace period, {} pinned\n\
             gc: {verb} {} temporary files or objects ({} bytes) and {} incomplete multipart \
             uploads; {} stale pins removed; {} interrupted batches resumed\n",
            if self.dry_run {
                " (dry run: nothing removed)"
            } else {
                ""
            },
            self.scanned,
            self.removed,
            self.removed_bytes,
            self.referenced,
            self.young,
            self.pinned,
            self.temporary,
            self.temporary_bytes,
            self.multipart_uploads,
            self.expired_pins,
            self.resumed,
        )
    }
}
