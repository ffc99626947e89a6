//! Pins: how an upload or a registration tells a garbage collector that it is about to reference
//! stored bytes. The caller pins the hash, then waits while a collector's tombstone is on it, then
//! checks the bytes are there; the collector tombstones, then reads pins, then references. Each
//! side writes before it reads the other's row, so one of them always sees the other (see
//! `gc.rs`).

use std::time::Duration;

use docstokg_catalog::{CatalogError, Result};

use crate::metadata::LifecycleSql;

/// How long a caller waits for a collector to finish with the bytes it wants.
const TOMBSTONE_WAIT: Duration = Duration::from_secs(30);
/// How often it looks.
const TOMBSTONE_POLL: Duration = Duration::from_millis(50);

/// Pins `sha256` and waits until no collector holds a tombstone on it. Returns the pin's id, for
/// [`release`]. A tombstone that outlasts the wait (a collector killed mid-batch, until the next
/// run clears it) is UNAVAILABLE, with the pin released.
pub async fn hold(lifecycle: &dyn LifecycleSql, sha256: &str) -> Result<i64> {
    let pin = lifecycle.pin(sha256).await?;
    let deadline = tokio::time::Instant::now() + TOMBSTONE_WAIT;
    loop {
        match lifecycle.tombstoned(sha256).await {
            Ok(false) => return Ok(pin),
            Ok(true) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(TOMBSTONE_POLL).await
            }
            Ok(true) => {
                release(lifecycle, pin).await;
                return Err(CatalogError::unavailable(format!(
                    "garbage collection is removing the bytes of {sha256}; retry (a collector \
                     killed mid-run leaves them held until `catalog-server gc` runs again)"
                )));
            }
            Err(error) => {
                release(lifecycle, pin).await;
                return Err(error);
            }
        }
    }
}

/// Removes pin `pin`. A failure is logged, not returned: the caller's work is done, and a pin
/// left behind only delays collection until it expires (after the grace period).
pub async fn release(lifecycle: &dyn LifecycleSql, pin: i64) {
    if let Err(error) = lifecycle.unpin(pin).await {
        tracing::warn!(%error, pin, "could not remove a pin; it expires after the grace period");
    }
}

/// The error of an upload whose bytes a collector removed after they were stored and before they
/// were pinned: the client still has them, so a retry stores them again.
pub fn collected_meanwhile(sha256: &str) -> CatalogError {
    CatalogError::unavailable(format!(
        "the bytes of {sha256} were garbage-collected while this upload finished; retry the upload"
    ))
}
