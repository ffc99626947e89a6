//! The gRPC server: the catalog service (behind optional bearer auth), `grpc.health.v1` driven by
//! provider probes, reflection v1 and v1alpha, tower limits, TLS, an optional plaintext
//! health-only listener, and graceful shutdown.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use docstokg_catalog::{Catalog, proto};
use tokio::{net::TcpListener, sync::watch};
use tonic::{
    service::interceptor::InterceptedService,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;

use crate::{
    auth::BearerAuth,
    call_limits::{CallLimits, Deadlines},
    config::ServerConfig,
    health,
    metering::MeteredRpc,
    service::CatalogRpc,
    tls::{self, ServerTls},
};

/// HTTP/2 flow-control window of each stream: what a client may send ahead of the server's reads.
pub const STREAM_WINDOW_BYTES: u32 = 2 * 1024 * 1024;
/// HTTP/2 flow-control window of a whole connection.
pub const CONNECTION_WINDOW_BYTES: u32 = 8 * 1024 * 1024;
/// Largest HTTP/2 frame the server accepts: an upload chunk of 1 MiB arrives in a few frames
/// instead of 64 of the default 16 KiB.
pub const MAX_FRAME_BYTES: u32 = 1024 * 1024;

/// The sockets the server answers on.
#[derive(Debug)]
pub struct Listeners {
    /// Every service: catalog, health, reflection.
    pub grpc: TcpListener,
    /// TLS of `grpc`; plaintext when `None`.
    pub tls: Option<Arc<ServerTls>>,
    /// A plaintext listener that serves only `grpc.health.v1` (for probes that cannot speak TLS).
    pub health: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    /// One plaintext listener for everything.
    fn from(grpc: TcpListener) -> Self {
        Self {
            grpc,
            tls: None,
            health: None,
        }
    }
}

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

/// Serves `catalog` on `listeners` until `shutdown` resolves. Then reports NOT_SERVING, stops
/// accepting connections and gives in-flight calls `shutdown_grace_secs` to finish.
pub async fn serve(
    catalog: Arc<dyn Catalog>,
    config: &ServerConfig,
    auth: BearerAuth,
    listeners: Listeners,
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
    let catalog_service = proto::catalog_service_server::CatalogServiceServer::new(
        CatalogRpc::new(catalog)
            .with_upload_idle_timeout(Duration::from_secs(config.upload_idle_timeout_secs)),
    )
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

    let health_only = listeners.health.map(|listener| {
        let mut stopped = stop_rx.clone();
        let health = Server::builder()
            .add_service(health_service.clone())
            .serve_with_incoming_shutdown(no_delay(listener), async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            });
        tokio::spawn(async move {
            if let Err(error) = health.await {
                tracing::warn!(%error, "the health-only listener failed");
            }
        })
    });

    let router = Server::builder()
        // HTTP/2's default 64 KiB windows stall a fast upload or download on flow control.
        .initial_stream_window_size(STREAM_WINDOW_BYTES)
        .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .trace_fn(|request| tracing::info_span!("catalog.grpc", path = %request.uri().path()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(catalog_service);
    let mut server: Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>> =
        match listeners.tls {
            Some(tls) => Box::pin(
                router.serve_with_incoming_shutdown(tls::incoming(listeners.grpc, tls), signal),
            ),
            None => Box::pin(router.serve_with_incoming_shutdown(no_delay(listeners.grpc), signal)),
        };

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
    if let Some(health_only) = health_only {
        health_only.abort();
    }
    outcome
}

/// The connections `listener` accepts, with Nagle's algorithm off (as on the TLS listener): with
/// it on, a small response written while an earlier one is unacknowledged waited for the client's
/// delayed ACK, up to 40 ms (the p99 of coalesced registrations over gRPC, docs/benchmark-notes.md).
fn no_delay(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}
