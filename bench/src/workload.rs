//! One workload: the calls each worker makes, and the loop that drives them.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use docstokg_catalog::{Catalog, NewDocument, Result};
use docstokg_catalog_client::CatalogClient;

use crate::{Keys, Operation};

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// After this long.
    Duration(Duration),
    /// After this many calls in all.
    Count(u64),
}

/// What every worker does.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The call.
    pub operation: Operation,
    /// The keys registrations use.
    pub keys: Keys,
    /// Documents per registration call.
    pub batch_size: usize,
    /// Padding bytes in each source_url.
    pub payload_bytes: usize,
    /// Makes this run's new keys unique.
    pub run: u32,
}

/// What the workers measured.
#[derive(Debug, Default)]
pub struct Samples {
    /// Latency of each successful call, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Failed calls.
    pub errors: u64,
    /// The first failure, to show what went wrong.
    pub first_error: Option<String>,
    /// Documents the successful calls carried.
    pub documents: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl Workload {
    fn document(&self, key: &str) -> NewDocument {
        let padding = "p".repeat(self.payload_bytes);
        NewDocument::new(
            key.to_owned(),
            format!("https://example.org/{key}/{padding}"),
            "bench",
        )
    }

    fn existing_key(&self, n: usize) -> String {
        format!("bench-existing-{}-{n}", self.run)
    }

    /// Registers the keys an `existing` or `mixed` run reuses, in batches, then once each by a
    /// single registration, as a re-run of a pipeline would: the server caches what single
    /// registrations return, not what batches do.
    pub async fn register_existing(&self, catalog: &dyn Catalog, count: usize) -> Result<()> {
        let keys: Vec<usize> = (0..count).collect();
        for chunk in keys.chunks(1000) {
            let documents = chunk
                .iter()
                .map(|n| self.document(&self.existing_key(*n)))
                .collect();
            catalog.register_or_get_batch(documents).await?;
        }
        for n in keys {
            catalog
                .register_or_get(self.document(&self.existing_key(n)))
                .await?;
        }
        Ok(())
    }

    /// Runs `concurrency` workers until `limit`.
    pub async fn drive(
        self,
        catalog: Arc<dyn Catalog>,
        client: Option<CatalogClient>,
        concurrency: usize,
        existing: usize,
        limit: Limit,
    ) -> Samples {
        let started = Instant::now();
        let issued = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..concurrency)
            .map(|worker| {
                let (catalog, client, issued) = (catalog.clone(), client.clone(), issued.clone());
                tokio::spawn(async move {
                    let mut samples = Samples::default();
                    let mut n = 0u64;
                    loop {
                        let more = match limit {
                            Limit::Duration(duration) => started.elapsed() < duration,
                            Limit::Count(count) => issued.fetch_add(1, Ordering::Relaxed) < count,
                        };
                        if !more {
                            break;
                        }
                        let call = Instant::now();
                        let outcome = self
                            .call(catalog.as_ref(), client.as_ref(), worker, n, existing)
                            .await;
                        match outcome {
                            Ok(documents) => {
                                let micros = call.elapsed().as_micros();
                                samples
                                    .latencies_us
                                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
                                samples.documents += documents;
                            }
                            Err(error) => {
                                samples.errors += 1;
                                samples.first_error.get_or_insert(error);
                            }
                        }
                        n += 1;
                    }
                    samples
                })
            })
            .collect();
        let mut all = Samples::default();
        for worker in workers {
            let Ok(samples) = worker.await else {
                all.errors += 1;
                continue;
            };
            all.latencies_us.extend(samples.latencies_us);
            all.errors += samples.errors;
            all.documents += samples.documents;
            if all.first_error.is_none() {
                all.first_error = samples.first_error;
            }
        }
        all.elapsed = started.elapsed();
        all
    }

    /// One call; the number of documents it carried.
    async fn call(
        &self,
        catalog: &dyn Catalog,
        client: Option<&CatalogClient>,
        worker: usize,
        n: u64,
        existing: usize,
    ) -> std::result::Result<u64, String> {
        match self.operation {
            Operation::Health => {
                let client = client.ok_or("health needs a gRPC endpoint")?;
                match client.health_check("").await {
                    Ok(true) => Ok(0),
                    Ok(false) => Err("NOT_SERVING".to_owned()),
                    Err(error) => Err(error.to_string()),
                }
            }
            Operation::Register => {
                let key = |i: usize| {
                    let sequence = n * self.batch_size as u64 + i as u64;
                    let reuse = match self.keys {
                        Keys::New => false,
                        Keys::Existing => true,
                        Keys::Mixed => sequence.is_multiple_of(2),
                    };
                    if reuse {
                        let spread = (worker as u64 * 7919 + sequence) as usize;
                        self.existing_key(spread % existing.max(1))
                    } else {
                        format!("bench-{}-{worker}-{sequence}", self.run)
                    }
                };
                if self.batch_size == 1 {
                    catalog
                        .register_or_get(self.document(&key(0)))
                        .await
                        .map(|_| 1)
                        .map_err(|e| e.to_string())
                } else {
                    let documents = (0..self.batch_size)
                        .map(|i| self.document(&key(i)))
                        .collect();
                    catalog
                        .register_or_get_batch(documents)
                        .await
                        .map(|outcomes| outcomes.len() as u64)
                        .map_err(|e| e.to_string())
                }
            }
        }
    }
}
