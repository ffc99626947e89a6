//! Metering: Prometheus metrics, recorded through the `metrics` facade and rendered in the Prometheus text
//! format by `metrics-exporter-prometheus`. Nothing is recorded until [`install`] runs, which
//! `catalog-server serve` does only when `server.metrics_listen` is set; the facade's macros are
//! no-ops before that, so a server without metrics pays nothing.
//!
//! - this file: the metric names, their help texts, and the one function per thing recorded;
//! - `rpc.rs`: the tower service that counts and times every catalog call;
//! - `endpoint.rs`: the HTTP listener serving `/metrics`.

mod endpoint;
mod rpc;

use std::{
    future::Future,
    sync::OnceLock,
    time::{Duration, Instant},
};

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use endpoint::{UsageReader, serve_metrics};
pub use rpc::MeteredRpc;

/// Finished catalog calls, by method and status code.
pub const RPC_REQUESTS: &str = "catalog_rpc_requests_total";
/// Call latency, until the last message of a stream.
pub const RPC_DURATION: &str = "catalog_rpc_duration_seconds";
/// Calls in progress.
pub const RPC_IN_FLIGHT: &str = "catalog_rpc_in_flight";
/// Server streams open.
pub const STREAMS_OPEN: &str = "catalog_streams_open";
/// Latency of store operations.
pub const STORE_DURATION: &str = "catalog_store_operation_duration_seconds";
/// Database pool connections, in use and idle.
pub const POOL_CONNECTIONS: &str = "catalog_pool_connections";
/// Database pool size limit.
pub const POOL_MAX: &str = "catalog_pool_max_connections";
/// Calls waiting for a connection of a database pool.
pub const POOL_WAITING: &str = "catalog_pool_waiting";
/// Bytes received by PutContent.
pub const UPLOAD_BYTES: &str = "catalog_upload_bytes_total";
/// Bytes sent by GetContent.
pub const DOWNLOAD_BYTES: &str = "catalog_download_bytes_total";
/// Uploads whose bytes were already stored.
pub const DEDUP_HITS: &str = "catalog_dedup_hits_total";
/// Record cache lookups, hit or miss.
pub const CACHE_REQUESTS: &str = "catalog_cache_requests_total";
/// Calls refused by the concurrency limit.
pub const LOAD_SHED: &str = "catalog_load_shed_total";
/// 1 while a backend's last probe succeeded.
pub const BACKEND_UP: &str = "catalog_backend_up";
/// Version and provider of the running server.
pub const BUILD_INFO: &str = "catalog_build_info";
/// Free bytes on the local blob store's filesystem.
pub const LOCAL_AVAILABLE: &str = "catalog_local_storage_available_bytes";
/// Size of the local blob store's filesystem.
pub const LOCAL_TOTAL: &str = "catalog_local_storage_total_bytes";
/// Writes per group commit (SQLite) or coalesced statement (PostgreSQL), by store.
pub const GROUP_COMMIT_JOBS: &str = "catalog_group_commit_jobs";

/// Buckets of [`GROUP_COMMIT_JOBS`]: one write to a full group.
const GROUP_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0, 4096.0,
];

/// Histogram buckets for every `_seconds` metric: 0.5 ms to 60 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle), describes
/// every metric and sets `catalog_build_info` for `provider`.
pub fn install(provider: &str) -> &'static PrometheusHandle {
    let handle = HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .set_buckets_for_metric(Matcher::Full(GROUP_COMMIT_JOBS.into()), GROUP_BUCKETS)
            .expect("the group buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Only fails when another recorder is already installed, whose metrics then win.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        describe();
        // Counters without labels exist from the start, at 0, so a rate over them is defined.
        for name in [UPLOAD_BYTES, DOWNLOAD_BYTES, DEDUP_HITS, LOAD_SHED] {
            counter!(name).increment(0);
        }
        handle
    });
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION"), "provider" => provider.to_owned())
        .set(1.0);
    handle
}

/// The help text of every metric, as `/metrics` prints it.
fn describe() {
    describe_counter!(
        RPC_REQUESTS,
        "Finished catalog calls by gRPC method and status code."
    );
    describe_histogram!(
        RPC_DURATION,
        "Catalog call latency in seconds; streams until their last message."
    );
    describe_gauge!(RPC_IN_FLIGHT, "Catalog calls in progress.");
    describe_gauge!(
        STREAMS_OPEN,
        "Server streams (ListRecords, FindDuplicates, VerifyAll, GetContent) open."
    );
    describe_histogram!(
        GROUP_COMMIT_JOBS,
        "Writes carried by each group commit (SQLite) or coalesced upsert (PostgreSQL), by store."
    );
    describe_histogram!(
        STORE_DURATION,
        "Latency of metadata and blob store operations in seconds."
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database pool connections by state (in_use, idle)."
    );
    describe_gauge!(
        POOL_MAX,
        "Largest number of connections a database pool opens."
    );
    describe_gauge!(
        POOL_WAITING,
        "Calls waiting for a connection of a database pool."
    );
    describe_counter!(UPLOAD_BYTES, "Bytes received by PutContent.");
    describe_counter!(DOWNLOAD_BYTES, "Bytes sent by GetContent.");
    describe_counter!(
        DEDUP_HITS,
        "Uploads whose bytes were already stored and not written again."
    );
    describe_counter!(
        CACHE_REQUESTS,
        "Record cache lookups by result (hit, miss)."
    );
    describe_counter!(
        LOAD_SHED,
        "Catalog calls refused with RESOURCE_EXHAUSTED by the concurrency limit."
    );
    describe_gauge!(
        BACKEND_UP,
        "1 while the backend's last health probe succeeded, else 0."
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the labels name the version and the provider."
    );
    describe_gauge!(
        LOCAL_AVAILABLE,
        "Free bytes on the filesystem of the local blob store."
    );
    describe_gauge!(
        LOCAL_TOTAL,
        "Size in bytes of the filesystem of the local blob store."
    );
}

/// Runs `operation` of `store` (`metadata`, `blob`) and records how long it took.
pub async fn time_store<F: Future>(
    store: &'static str,
    operation: &'static str,
    operation_future: F,
) -> F::Output {
    let started = Instant::now();
    let output = operation_future.await;
    histogram!(STORE_DURATION, "store" => store, "operation" => operation)
        .record(started.elapsed());
    output
}

/// Counts `bytes` received by an upload.
pub fn uploaded(bytes: usize) {
    counter!(UPLOAD_BYTES).increment(bytes as u64);
}

/// Counts `bytes` sent by a download.
pub fn downloaded(bytes: usize) {
    counter!(DOWNLOAD_BYTES).increment(bytes as u64);
}

/// Counts an upload whose bytes were already stored.
pub fn dedup_hit() {
    counter!(DEDUP_HITS).increment(1);
}

/// Counts a record cache lookup.
pub fn cache_lookup(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    counter!(CACHE_REQUESTS, "result" => result).increment(1);
}

/// Counts a call the concurrency limit refused.
pub fn load_shed() {
    counter!(LOAD_SHED).increment(1);
}

/// Counts a group of `jobs` writes that `store` ran together.
pub fn group_commit(store: &'static str, jobs: usize) {
    histogram!(GROUP_COMMIT_JOBS, "store" => store).record(jobs as f64);
}

/// Sets whether `backend`'s last probe succeeded.
pub fn backend_up(backend: &str, up: bool) {
    gauge!(BACKEND_UP, "backend" => backend.to_owned()).set(if up { 1.0 } else { 0.0 });
}

/// Counts a call as waiting for a connection of `pool` while it lives.
pub struct WaitingForConnection {
    pool: &'static str,
}

impl WaitingForConnection {
    /// Starts waiting for a connection of `pool`.
    pub fn start(pool: &'static str) -> Self {
        gauge!(POOL_WAITING, "pool" => pool).increment(1.0);
        Self { pool }
    }
}

impl Drop for WaitingForConnection {
    fn drop(&mut self) {
        gauge!(POOL_WAITING, "pool" => self.pool).decrement(1.0);
    }
}

/// Connections of one database pool, read when `/metrics` is scraped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// The pool's name (`sqlite`, `sqlite_streams`, `postgres`).
    pub pool: &'static str,
    /// Connections open, in use or idle.
    pub open: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// Connections the pool opens at most.
    pub max: u32,
}

/// Space on the filesystem of a local blob store, read when `/metrics` is scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesystemUsage {
    /// The store's root directory.
    pub root: String,
    /// Bytes an unprivileged writer may still use.
    pub available_bytes: u64,
    /// Size of the filesystem.
    pub total_bytes: u64,
}

/// Sets the pool and filesystem gauges from fresh readings.
fn set_usage(pools: &[PoolUsage], filesystem: Option<&FilesystemUsage>) {
    for usage in pools {
        let in_use = usage.open.saturating_sub(usage.idle);
        gauge!(POOL_CONNECTIONS, "pool" => usage.pool, "state" => "in_use").set(f64::from(in_use));
        gauge!(POOL_CONNECTIONS, "pool" => usage.pool, "state" => "idle")
            .set(f64::from(usage.idle));
        gauge!(POOL_MAX, "pool" => usage.pool).set(f64::from(usage.max));
    }
    if let Some(fs) = filesystem {
        gauge!(LOCAL_AVAILABLE, "root" => fs.root.clone()).set(fs.available_bytes as f64);
        gauge!(LOCAL_TOTAL, "root" => fs.root.clone()).set(fs.total_bytes as f64);
    }
}

/// How often histograms are folded into their buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
