//! What a run measured, as text or JSON.

use crate::{Cli, workload::Samples};

/// Throughput and latency of one run.
#[derive(Debug)]
pub struct Report {
    label: String,
    mode: &'static str,
    operation: String,
    concurrency: usize,
    batch_size: usize,
    keys: String,
    calls: u64,
    documents: u64,
    /// Failed calls.
    pub errors: u64,
    first_error: Option<String>,
    seconds: f64,
    calls_per_sec: f64,
    documents_per_sec: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Report {
    /// Summarises `samples` of the run `cli` describes.
    pub fn new(cli: &Cli, mode: &str, mut samples: Samples) -> Self {
        samples.latencies_us.sort_unstable();
        let percentile = |p: f64| -> f64 {
            let latencies = &samples.latencies_us;
            if latencies.is_empty() {
                return 0.0;
            }
            let index =
                ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            f64::from(latencies[index]) / 1000.0
        };
        let seconds = samples.elapsed.as_secs_f64().max(f64::EPSILON);
        let calls = samples.latencies_us.len() as u64;
        Self {
            label: cli.label.clone(),
            mode: if mode == "grpc" { "grpc" } else { "in-process" },
            operation: format!("{:?}", cli.operation).to_lowercase(),
            concurrency: cli.concurrency,
            batch_size: cli.batch_size,
            keys: format!("{:?}", cli.keys).to_lowercase(),
            calls,
            documents: samples.documents,
            errors: samples.errors,
            first_error: samples.first_error,
            seconds,
            calls_per_sec: calls as f64 / seconds,
            documents_per_sec: samples.documents as f64 / seconds,
            p50_ms: percentile(0.50),
            p90_ms: percentile(0.90),
            p99_ms: percentile(0.99),
            max_ms: percentile(1.0),
        }
    }

    /// Prints the report: a JSON object, or a few lines of text.
    #[allow(clippy::print_stdout)] // the report is the command's output
    pub fn print(&self, json: bool) {
        if json {
            let value = serde_json::json!({
                "label": self.label,
                "mode": self.mode,
                "operation": self.operation,
                "concurrency": self.concurrency,
                "batch_size": self.batch_size,
                "keys": self.keys,
                "calls": self.calls,
                "documents": self.documents,
                "errors": self.errors,
                "first_error": self.first_error,
                "seconds": self.seconds,
                "calls_per_sec": self.calls_per_sec,
                "documents_per_sec": self.documents_per_sec,
                "p50_ms": self.p50_ms,
                "p90_ms": self.p90_ms,
                "p99_ms": self.p99_ms,
                "max_ms": self.max_ms,
            });
            println!("{value}");
            return;
        }
        println!(
            "{} {} ({}, {} keys, batch {}, {} concurrent): {} calls, {} documents in {:.2} s",
            self.label,
            self.operation,
            self.mode,
            self.keys,
            self.batch_size,
            self.concurrency,
            self.calls,
            self.documents,
            self.seconds
        );
        println!(
            "  {:.0} calls/s, {:.0} documents/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
            self.calls_per_sec,
            self.documents_per_sec,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.max_ms,
            self.errors
        );
        if let Some(error) = &self.first_error {
            println!("  first error: {error}");
        }
    }
}
