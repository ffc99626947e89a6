//! Progress of a garbage collection on stderr: a spinner with counts on a terminal, a plain line
//! every few seconds otherwise.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};

use super::GcReport;

/// How often plain progress lines are written when stderr is not a terminal.
const LINE_INTERVAL: Duration = Duration::from_secs(2);

/// Reports a collection's progress on stderr.
pub struct GcProgress {
    bar: Option<ProgressBar>,
    last_line: Instant,
}

impl GcProgress {
    /// A spinner when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            last_line: Instant::now(),
        }
    }

    /// The collection has come as far as `report`.
    pub fn update(&mut self, report: &GcReport) {
        let message = format!(
            "{} objects scanned, {} {} ({} bytes), {} referenced, {} young, {} pinned",
            report.scanned,
            report.removed,
            if report.dry_run {
                "to remove"
            } else {
                "removed"
            },
            report.removed_bytes,
            report.referenced,
            report.young,
            report.pinned
        );
        match &self.bar {
            Some(bar) => bar.set_message(message),
            None if self.last_line.elapsed() >= LINE_INTERVAL => {
                self.last_line = Instant::now();
                eprintln!("gc: {message}");
            }
            None => {}
        }
    }

    /// The collection is over.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
