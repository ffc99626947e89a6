//! Progress of a migration: a bar with rate and ETA on a terminal, plain lines otherwise.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};

use super::MigrationSummary;

/// How often plain progress lines are written when stderr is not a terminal.
const LINE_INTERVAL: Duration = Duration::from_secs(2);

/// Reports progress on stderr.
pub struct MigrationProgress {
    bar: Option<ProgressBar>,
    total: u64,
    started: Instant,
    last_line: Instant,
}

impl MigrationProgress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} records ({per_sec}, ETA {eta}) {msg}",
            );
            if let Ok(style) = style {
                bar.set_style(style);
            }
            bar
        });
        Self {
            bar,
            total: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// The migration found `total` records.
    pub fn start(&mut self, total: i64) {
        self.total = total.max(0) as u64;
        self.started = Instant::now();
        match &self.bar {
            Some(bar) => bar.set_length(self.total),
            None => eprintln!("migrate: {} records to go through", self.total),
        }
    }

    /// `done` records are through.
    pub fn advance(&mut self, done: u64, summary: &MigrationSummary) {
        let message = format!(
            "{} copied, {} skipped, {} failures",
            summary.records_copied,
            summary.records_skipped,
            summary.failures.len()
        );
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(message);
        } else if self.last_line.elapsed() >= LINE_INTERVAL || done == self.total {
            self.last_line = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
            let rate = done as f64 / elapsed;
            let eta = if rate > 0.0 {
                (self.total.saturating_sub(done)) as f64 / rate
            } else {
                0.0
            };
            eprintln!(
                "migrate: {done}/{} records, {rate:.0} records/s, ETA {eta:.0}s; {message}",
                self.total
            );
        }
    }

    /// The migration is over.
    pub fn finish(&mut self, summary: &MigrationSummary) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(format!(
                "{} copied, {} skipped",
                summary.records_copied, summary.records_skipped
            ));
        }
    }
}
