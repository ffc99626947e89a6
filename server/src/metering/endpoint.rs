//! The `/metrics` endpoint: plain HTTP on `server.metrics_listen`, separate from the gRPC port so
//! a scraper needs neither gRPC nor the catalog's token.

use std::{future::Future, sync::Arc};

use axum::{Router, http::header, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use super::{FilesystemUsage, PoolUsage, UPKEEP_INTERVAL, set_usage};

/// Readings taken at each scrape: database pools and the local blob store's filesystem.
pub type UsageReader = Arc<dyn Fn() -> (Vec<PoolUsage>, Option<FilesystemUsage>) + Send + Sync>;

/// Serves `/metrics` on `listener` until `shutdown` resolves, rendering `handle` after refreshing
/// the gauges that `usage` reads.
pub async fn serve_metrics(
    listener: TcpListener,
    handle: &'static PrometheusHandle,
    usage: UsageReader,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let upkeep = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            ticks.tick().await;
            handle.run_upkeep();
        }
    });
    let scrape = move || {
        let usage = usage.clone();
        async move {
            let (pools, filesystem) = usage();
            set_usage(&pools, filesystem.as_ref());
            handle.run_upkeep();
            (
                [(
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                handle.render(),
            )
                .into_response()
        }
    };
    let app = Router::new().route("/metrics", get(scrape));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    served
}
