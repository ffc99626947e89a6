//! Group commit: concurrent writes gathered into one database transaction or statement.
//!
//! Callers [`Coalescer::submit`] a job and wait; `lanes` worker tasks take turns at the queue.
//! A worker takes the first job that arrives, gathers every job already queued behind it (up to
//! `max_rows` rows), runs them together with the store's `flush`, and answers each caller with
//! its own result, only after `flush` returned, so after the commit that holds the caller's
//! rows. While one group is in the database, the next one gathers: under load each commit
//! carries many callers, with no timer and no added latency when the store is idle.

use std::sync::Arc;

use docstokg_catalog::{CatalogError, Result};
use futures::future::BoxFuture;
use tokio::sync::{Mutex, mpsc, oneshot};

/// A job and the row count it carries, for the group's size limit.
pub trait Job: Send + 'static {
    /// Rows this job writes.
    fn rows(&self) -> usize;
}

/// Runs one group: a result per job, in order, or an error for the whole group (nothing of it
/// committed).
pub type Flush<J, R> =
    Arc<dyn Fn(Vec<J>) -> BoxFuture<'static, Result<Vec<Result<R>>>> + Send + Sync>;

type Queued<J, R> = (J, oneshot::Sender<Result<R>>);

/// Gathers concurrent jobs into groups; see the module documentation.
pub struct Coalescer<J, R> {
    queue: mpsc::Sender<Queued<J, R>>,
}

impl<J: Job, R: Send + 'static> Coalescer<J, R> {
    /// Starts `lanes` workers that run groups of at most `max_rows` rows (a single larger job
    /// runs alone) with `flush`; `store` labels the group-size metric.
    pub fn new(store: &'static str, lanes: usize, max_rows: usize, flush: Flush<J, R>) -> Self {
        let (queue, receiver) = mpsc::channel::<Queued<J, R>>(max_rows.max(1) * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..lanes.max(1) {
            tokio::spawn(run_lane(store, receiver.clone(), max_rows, flush.clone()));
        }
        Self { queue }
    }

    /// Queues `job` and waits for the result of the group that carried it.
    pub async fn submit(&self, job: J) -> Result<R> {
        let (answer, result) = oneshot::channel();
        self.queue
            .send((job, answer))
            .await
            .map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}

fn stopped() -> CatalogError {
    CatalogError::unavailable("the database writer has stopped (the server is shutting down)")
}

async fn run_lane<J: Job, R: Send + 'static>(
    store: &'static str,
    receiver: Arc<Mutex<mpsc::Receiver<Queued<J, R>>>>,
    max_rows: usize,
    flush: Flush<J, R>,
) {
    loop {
        let group = {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut rows = first.0.rows();
            let mut group = vec![first];
            while rows < max_rows {
                match receiver.try_recv() {
                    Ok(next) => {
                        rows += next.0.rows();
                        group.push(next);
                    }
                    Err(_) => break,
                }
            }
            group
        };
        let (jobs, answers): (Vec<J>, Vec<_>) = group.into_iter().unzip();
        let count = jobs.len();
        crate::metering::group_commit(store, count);
        match flush(jobs).await {
            Ok(results) if results.len() == count => {
                for (answer, result) in answers.into_iter().zip(results) {
                    let _ = answer.send(result);
                }
            }
            Ok(results) => {
                let error = CatalogError::internal(format!(
                    "a group of {count} writes returned {} results",
                    results.len()
                ));
                for answer in answers {
                    let _ = answer.send(Err(error.clone()));
                }
            }
            Err(error) => {
                for answer in answers {
                    let _ = answer.send(Err(error.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(u32);

    impl Job for Item {
        fn rows(&self) -> usize {
            1
        }
    }

    /// A flush that doubles each item, fails item 13 alone, and records each group's size.
    fn flush(groups: Arc<std::sync::Mutex<Vec<usize>>>) -> Flush<Item, u32> {
        Arc::new(move |items: Vec<Item>| {
            let groups = groups.clone();
            Box::pin(async move {
                groups.lock().expect("groups").push(items.len());
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                Ok(items
                    .into_iter()
                    .map(|Item(n)| {
                        if n == 13 {
                            Err(CatalogError::invalid("n", "thirteen"))
                        } else {
                            Ok(n * 2)
                        }
                    })
                    .collect())
            })
        })
    }

    #[tokio::test]
    async fn test_concurrent_jobs_share_groups_and_each_caller_gets_its_own_result() {
        let groups = Arc::new(std::sync::Mutex::new(Vec::new()));
        let coalescer = Arc::new(Coalescer::new("test", 1, 100, flush(groups.clone())));
        let calls: Vec<_> = (0..64)
            .map(|n| {
                let coalescer = coalescer.clone();
                tokio::spawn(async move { coalescer.submit(Item(n)).await })
            })
            .collect();
        for (n, call) in calls.into_iter().enumerate() {
            let result = call.await.expect("task");
            if n == 13 {
                assert_eq!(result.expect_err("poisoned").field.as_deref(), Some("n"));
            } else {
                assert_eq!(result.expect("doubled"), n as u32 * 2);
            }
        }
        let groups = groups.lock().expect("groups").clone();
        assert_eq!(groups.iter().sum::<usize>(), 64);
        assert!(
            groups.len() < 64,
            "jobs that queued meanwhile share a group: {groups:?}"
        );
    }

    #[tokio::test]
    async fn test_a_failed_group_fails_every_caller_in_it_with_the_error() {
        let failing: Flush<Item, u32> = Arc::new(|_items: Vec<Item>| {
            Box::pin(async { Err(CatalogError::unavailable("database down")) })
        });
        let coalescer = Coalescer::new("test", 2, 10, failing);
        let error = coalescer.submit(Item(1)).await.expect_err("group failed");
        assert_eq!(error.message, "database down");
    }
}
