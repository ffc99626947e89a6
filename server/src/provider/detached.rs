//! Streams driven on a task of their own. A database call dropped half way can leave its pooled
//! connection with unread replies (sqlx is not cancel-safe mid-query), which the next user of the
//! connection then misreads. So a store's stream runs on a task that hands items over a bounded
//! channel: when the consumer goes away, the task notices at its next hand-over, between queries,
//! and drops the stream there, releasing the connection cleanly.

use futures::{StreamExt, stream::BoxStream};
use tokio::sync::mpsc;
use tracing::Instrument;

/// Items buffered between the task and the consumer.
const HANDOVER_CAPACITY: usize = 16;

/// `stream`, driven on its own task.
pub fn detached<T: Send + 'static>(mut stream: BoxStream<'static, T>) -> BoxStream<'static, T> {
    let (sender, receiver) = mpsc::channel(HANDOVER_CAPACITY);
    // The task works inside the span of the call that opened the stream.
    let task = async move {
        while let Some(item) = stream.next().await {
            if sender.send(item).await.is_err() {
                break;
            }
        }
    };
    tokio::spawn(task.instrument(tracing::Span::current()));
    tokio_stream::wrappers::ReceiverStream::new(receiver).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    #[tokio::test]
    async fn test_items_arrive_in_order() {
        let items: Vec<i32> = detached(stream::iter(0..100).boxed()).collect().await;
        assert_eq!(items, (0..100).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn test_a_dropped_consumer_stops_the_task() {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let endless = stream::unfold(done_tx, |guard| async move { Some((0, guard)) }).boxed();
        let mut consumer = detached(endless);
        assert_eq!(consumer.next().await, Some(0));
        drop(consumer);
        // The task drops the stream (and with it the oneshot sender) once its send fails.
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(5), done_rx)
                .await
                .is_ok()
        );
    }
}
