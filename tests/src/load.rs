//! Concurrent load for fault-injection tests: `workers` tasks call an operation back to back
//! until stopped, keeping what the service acknowledged and counting errors by kind, so a test
//! can inject a fault mid-load and then check that nothing acknowledged was lost.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use docstokg_catalog::{Catalog, ErrorKind, Result, VerificationStatus};
use docstokg_catalog_client::CatalogClient;
use futures::StreamExt;
use tokio::{sync::Mutex, task::JoinHandle};

/// What the service acknowledged for one call: the record it answered with, and the bytes an
/// upload stored (0 for a registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The record id answered.
    pub record_id: i64,
    /// The artifact id the caller sent.
    pub artifact_id: String,
    /// The SHA-256 of the uploaded bytes, for uploads.
    pub sha256: Option<String>,
    /// Bytes uploaded.
    pub bytes: u64,
}

/// Everything a [`Load`] saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Every acknowledged call.
    pub acknowledged: Vec<Ack>,
    /// Failed calls by error kind.
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    /// Whether every error was of one of `kinds`.
    pub fn only_errors_of(&self, kinds: &[ErrorKind]) -> bool {
        let allowed: Vec<String> = kinds.iter().map(|kind| format!("{kind:?}")).collect();
        self.errors.keys().all(|kind| allowed.contains(kind))
    }

    /// Failed calls in all.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Workers calling an operation until [`Load::stop`].
pub struct Load {
    stop: Arc<AtomicBool>,
    acks: Arc<AtomicU64>,
    failures: Arc<AtomicU64>,
    tally: Arc<Mutex<Tally>>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `workers` tasks; task `w` calls `operation(w, n)` for n = 0, 1, 2, ... A failed call
    /// is counted and followed by a 10 ms pause, so an outage does not become a busy loop.
    pub fn start<F, Fut>(workers: usize, operation: F) -> Self
    where
        F: Fn(usize, u64) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Ack>> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(AtomicU64::new(0));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let workers = (0..workers)
            .map(|worker| {
                let (stop, acks, failures, tally) =
                    (stop.clone(), acks.clone(), failures.clone(), tally.clone());
                let operation = operation.clone();
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        match operation(worker, n).await {
                            Ok(ack) => {
                                tally.lock().await.acknowledged.push(ack);
                                acks.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(error) => {
                                *tally
                                    .lock()
                                    .await
                                    .errors
                                    .entry(format!("{:?}", error.kind))
                                    .or_default() += 1;
                                failures.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        Self {
            stop,
            acks,
            failures,
            tally,
            workers,
        }
    }

    /// Acknowledged calls so far.
    pub fn acknowledged(&self) -> u64 {
        self.acks.load(Ordering::Relaxed)
    }

    /// Failed calls so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Waits until `count` more calls than now were acknowledged; panics after `limit`.
    pub async fn wait_for_acks(&self, count: u64, limit: Duration, why: &str) {
        self.wait_for(|load| load.acknowledged(), count, limit, why)
            .await;
    }

    /// Waits until `count` more calls than now failed; panics after `limit`.
    pub async fn wait_for_failures(&self, count: u64, limit: Duration, why: &str) {
        self.wait_for(|load| load.failures(), count, limit, why)
            .await;
    }

    async fn wait_for(&self, read: impl Fn(&Self) -> u64, count: u64, limit: Duration, why: &str) {
        let target = read(self) + count;
        let deadline = tokio::time::Instant::now() + limit;
        while read(self) < target {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{why}: waited {limit:?} for {count} calls"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the workers after their current call and returns what they saw.
    pub async fn stop(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            worker.await.expect("load worker");
        }
        std::mem::take(&mut *self.tally.lock().await)
    }
}

/// Polls the whole-server health until it is `serving`; false if it never is within `limit`.
pub async fn health_becomes(client: &CatalogClient, serving: bool, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if client.health_check("").await.ok() == Some(serving) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// What of `acknowledged` is gone afterwards: records that are missing or not what was
/// acknowledged, and, for uploads, records whose bytes no longer verify (with those bytes).
pub async fn lost_acknowledged(catalog: &dyn Catalog, acknowledged: &[Ack]) -> (u64, u64) {
    let checks = futures::stream::iter(acknowledged.iter().map(|ack| async move {
        let kept = match catalog.get_record(ack.record_id).await {
            Ok(record) => record.artifact_id == ack.artifact_id && record.sha256 == ack.sha256,
            Err(_) => false,
        };
        let verified = ack.sha256.is_none()
            || catalog
                .verify(ack.record_id)
                .await
                .is_ok_and(|result| result.status == VerificationStatus::Verified);
        match (kept, verified) {
            (true, true) => (0, 0),
            _ => (1, ack.bytes),
        }
    }))
    .buffer_unordered(32);
    checks
        .fold((0, 0), |(records, bytes), (r, b)| async move {
            (records + r, bytes + b)
        })
        .await
}
