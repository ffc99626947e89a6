//! The gRPC server: the catalog service (behind optional bearer auth), `grpc.health.v1` driven by
//! provider probes, reflection v1 and v1alpha, tower limits, and graceful shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use docstokg_catalog::{Catalog, proto};
use tokio::{net::TcpListener, sync::watch};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{service::interceptor::InterceptedService, transport::Server};
use tonic_health::ServingStatus;

use crate::{
    auth::BearerAuth,
    call_limits::{CallLimits, Deadlines},
    config::ServerConfig,
    health,
    metering::MeteredRpc,
    service::CatalogRpc,
};

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not be built from the descriptor sets.
    #[error("building the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("serving gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `catalog` on `listener` until `shutdown` resolves. Then reports NOT_SERVING, stops
/// accepting connections and gives in-flight calls `shutdown_grace_secs` to finish.
pub async fn serve(
    catalog: Arc<dyn Catalog>,
    config: &ServerConfig,
    auth: BearerAuth,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (reporter, health_service) = tonic_health::server::health_reporter();
    health::set_status(&reporter, ServingStatus::NotServing).await;
    health::set_alive(&reporter, ServingStatus::Serving).await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let watcher = tokio::spawn(health::watch_provider(
        catalog.clone(),
        reporter.clone(),
        Duration::from_secs(config.health_probe_interval_secs),
        stop_rx.clone(),
    ));

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let catalog_service =
        proto::catalog_service_server::CatalogServiceServer::new(CatalogRpc::new(catalog))
            .max_decoding_message_size(config.max_message_bytes)
            .max_encoding_message_size(config.max_message_bytes);
    let deadlines = Deadlines {
        unary: Duration::from_secs(config.request_timeout_secs),
        stream: Duration::from_secs(config.stream_timeout_secs),
    };
    let limited = CallLimits::new(catalog_service, config.concurrency_limit, deadlines);
    let catalog_service = MeteredRpc::new(InterceptedService::new(limited, auth));

    let signal_reporter = reporter.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: reporting NOT_SERVING and draining in-flight calls");
        let _ = stop_tx.send(true);
        health::set_status(&signal_reporter, ServingStatus::NotServing).await;
        health::set_alive(&signal_reporter, ServingStatus::NotServing).await;
    };

    let router = Server::builder()
        .trace_fn(|request| tracing::info_span!("catalog.grpc", path = %request.uri().path()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(catalog_service);
    let server = router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), signal);
    tokio::pin!(server);

    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let mut stopped = stop_rx;
    let outcome = tokio::select! {
        outcome = &mut server => outcome.map_err(ServeError::from),
        _ = async { let _ = stopped.wait_for(|stop| *stop).await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "calls still running after the grace period; closing them");
            Ok(())
        }
    };
    watcher.abort();
    outcome
}
