//! [`CatalogClient`]: a connection to a catalog server.

use std::time::Duration;

use docstokg_catalog::proto::catalog_service_client::CatalogServiceClient;
use docstokg_catalog::{CatalogError, Result};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::auth::BearerAuth;
use crate::errors::{chain, status_error};
use crate::options::{ClientOptions, endpoint_for};

/// HTTP/2 flow-control window of each stream: what the server may send ahead of our reads.
const STREAM_WINDOW_BYTES: u32 = 2 * 1024 * 1024;
/// HTTP/2 flow-control window of the whole connection.
const CONNECTION_WINDOW_BYTES: u32 = 8 * 1024 * 1024;
/// Largest HTTP/2 frame the client accepts (a 1 MiB download chunk in a few frames).
const MAX_FRAME_BYTES: u32 = 1024 * 1024;

/// Largest response message accepted (large duplicate groups, big batches).
const MAX_DECODING_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The generated client, with bearer authentication on every call.
pub(crate) type RpcClient = CatalogServiceClient<InterceptedService<Channel, BearerAuth>>;

/// A client of the catalog service; implements [`Catalog`](docstokg_catalog::Catalog).
///
/// Cloning is cheap: clones share one HTTP/2 connection, which reconnects by itself when the
/// server comes back.
#[derive(Clone)]
pub struct CatalogClient {
    rpc: RpcClient,
    channel: Channel,
    endpoint: String,
    request_timeout: Option<Duration>,
}

impl std::fmt::Debug for CatalogClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogClient")
            .field("endpoint", &self.endpoint)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl CatalogClient {
    /// Connects to `endpoint` (`http://host:port`, or `host:port`) with default options.
    ///
    /// An unreachable server is [`ErrorKind::Unavailable`](docstokg_catalog::ErrorKind); a
    /// malformed endpoint is `InvalidArgument`.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        Self::connect_with(endpoint, ClientOptions::default()).await
    }

    /// Connects to `endpoint` with `options` (bearer token, timeouts, TLS).
    ///
    /// With [`ClientOptions::tls`] the connection is TLS (mutual TLS when it holds a client
    /// certificate); a server whose certificate the CA did not sign, or one that speaks
    /// plaintext, is `Unavailable` with the handshake's reason.
    pub async fn connect_with(endpoint: impl Into<String>, options: ClientOptions) -> Result<Self> {
        let endpoint = endpoint_for(&endpoint.into(), options.tls.is_some())?;
        let mut builder = Endpoint::from_shared(endpoint.clone()).map_err(|error| {
            CatalogError::invalid(
                "endpoint",
                format!("{endpoint:?} is not a valid URI: {}", chain(&error)),
            )
        })?;
        if let Some(tls) = &options.tls {
            builder = builder.tls_config(tls.config()).map_err(|error| {
                CatalogError::invalid("tls", format!("unusable TLS settings: {}", chain(&error)))
            })?;
        }
        if let Some(timeout) = options.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        // HTTP/2's default 64 KiB windows stall a fast download on flow control.
        builder = builder
            .initial_stream_window_size(STREAM_WINDOW_BYTES)
            .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
            .max_frame_size(MAX_FRAME_BYTES);
        let channel = builder.connect().await.map_err(|error| {
            CatalogError::unavailable(format!(
                "cannot connect to the catalog at {endpoint}: {}; check that the server is running and listening there",
                chain(&error)
            ))
        })?;
        Self::build(channel, endpoint, options)
    }

    /// A client over an existing channel (for example one built with TLS or a custom connector).
    pub fn from_channel(channel: Channel, options: ClientOptions) -> Result<Self> {
        Self::build(channel, "<channel>".to_owned(), options)
    }

    fn build(channel: Channel, endpoint: String, options: ClientOptions) -> Result<Self> {
        let auth = BearerAuth::new(options.token.as_deref())?;
        let rpc = CatalogServiceClient::with_interceptor(channel.clone(), auth)
            .max_decoding_message_size(MAX_DECODING_MESSAGE_BYTES);
        Ok(Self {
            rpc,
            channel,
            endpoint,
            request_timeout: options.request_timeout,
        })
    }

    /// The endpoint this client talks to, as normalised by
    /// [`normalize_endpoint`](crate::normalize_endpoint) (`https://` over TLS).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Asks the server's standard `grpc.health.v1` service about `service` (`""` for the whole
    /// server, or [`SERVICE_NAME`](docstokg_catalog::SERVICE_NAME)); true when it is SERVING.
    /// An unknown service name is `NotFound`.
    pub async fn health_check(&self, service: &str) -> Result<bool> {
        let mut health = HealthClient::new(self.channel.clone());
        let request = self.unary(HealthCheckRequest {
            service: service.to_owned(),
        });
        let response = health
            .check(request)
            .await
            .map_err(status_error)?
            .into_inner();
        Ok(response.status() == ServingStatus::Serving)
    }

    /// A handle on the generated client for one call.
    pub(crate) fn rpc(&self) -> RpcClient {
        self.rpc.clone()
    }

    /// A unary request, with the configured deadline.
    pub(crate) fn unary<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(timeout) = self.request_timeout {
            request.set_timeout(timeout);
        }
        request
    }
}
