//! Streams polled inside a tracing span, so the work of a long stream (pages read from a
//! database, ranges read from an object store) is attributed to the layer that does it.

use futures::{StreamExt, stream::BoxStream};
use tracing::{Instrument, Span};

/// `stream`, each poll of it entered in `span`.
pub fn in_span<T: Send + 'static>(
    span: Span,
    stream: BoxStream<'static, T>,
) -> BoxStream<'static, T> {
    futures::stream::unfold((stream, span), |(mut stream, span)| async move {
        let item = stream.next().instrument(span.clone()).await?;
        Some((item, (stream, span)))
    })
    // Consumers such as `try_chunks` may poll again after the end; a fused stream answers None.
    .fuse()
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_items_pass_through_in_order() {
        let items = futures::stream::iter(0..5).boxed();
        let seen: Vec<i32> = in_span(tracing::debug_span!("test"), items).collect().await;
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn test_polling_after_the_end_keeps_answering_none() {
        let mut stream = in_span(
            tracing::debug_span!("test"),
            futures::stream::iter([1]).boxed(),
        );
        assert_eq!(stream.next().await, Some(1));
        assert_eq!(stream.next().await, None);
        assert_eq!(stream.next().await, None);
    }
}
