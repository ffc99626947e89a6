//! The reliability log: every fault-injection and hostile-input test, once its assertions have
//! passed, appends what it tried and what it saw as one JSON line to the file named by
//! `DOCSTOKG_RELIABILITY_LOG`. `scripts/reliability-report` turns the log of a whole run into
//! `docs/reliability.md`, so that table is written from the suite's results, not by hand.
//! Without the variable nothing is written.

use std::io::Write;

/// What one test did to the service and what came of it.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The fault or attack, e.g. "PostgreSQL stopped and started under 64-way load".
    pub fault: &'static str,
    /// The provider it ran on (`development`, `enterprise`, `cloud`), or `all`.
    pub provider: &'static str,
    /// How many times the fault was injected, or how many hostile cases were sent.
    pub trials: u64,
    /// What the service answered, in a few words with the counts.
    pub answered: String,
    /// Records (or uploads) the service acknowledged while the fault was in play.
    pub acknowledged: u64,
    /// Of those, how many were missing, unreadable or failed verification afterwards.
    pub lost_records: u64,
    /// Bytes of acknowledged uploads that were missing or wrong afterwards.
    pub lost_bytes: u64,
}

impl Observation {
    /// An observation of `fault` on `provider`, tried `trials` times, nothing acknowledged yet.
    pub fn new(fault: &'static str, provider: &'static str, trials: u64) -> Self {
        Self {
            fault,
            provider,
            trials,
            answered: String::new(),
            acknowledged: 0,
            lost_records: 0,
            lost_bytes: 0,
        }
    }

    /// The same observation with what the service answered.
    pub fn answered(mut self, answered: impl Into<String>) -> Self {
        self.answered = answered.into();
        self
    }

    /// The same observation with `count` acknowledged records or uploads.
    pub fn acknowledged(mut self, count: u64) -> Self {
        self.acknowledged = count;
        self
    }

    /// The same observation with what was lost of what was acknowledged.
    pub fn lost(mut self, records: u64, bytes: u64) -> Self {
        self.lost_records = records;
        self.lost_bytes = bytes;
        self
    }

    /// Appends the observation to the log, if there is one. One `write` of one line per call, on
    /// a file opened for appending, so concurrent tests and processes never interleave lines.
    pub fn record(self) {
        let Some(path) = std::env::var_os("DOCSTOKG_RELIABILITY_LOG") else {
            return;
        };
        let line = serde_json::json!({
            "fault": self.fault,
            "provider": self.provider,
            "trials": self.trials,
            "answered": self.answered,
            "acknowledged": self.acknowledged,
            "lost_records": self.lost_records,
            "lost_bytes": self.lost_bytes,
        });
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("open the reliability log");
        file.write_all(format!("{line}\n").as_bytes())
            .expect("append to the reliability log");
    }
}
