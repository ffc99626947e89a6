//! TLS and mutual TLS for the gRPC listener, with certificates that change without a restart.
//!
//! [`ServerTls`] holds the rustls configuration built from the PEM files of
//! [`TlsConfig`]; every new connection takes the configuration in force when it is accepted, so a
//! reload (on SIGHUP, or when [`watch_files`] sees a file change) applies to the next connection
//! and never drops one that is open. A reload that fails keeps the previous configuration.
//! Handshakes run on their own tasks with a deadline, so a client that never finishes one holds
//! nothing but its socket, and only for [`HANDSHAKE_TIMEOUT`].

use std::{
    io,
    path::Path,
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use futures::Stream;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self, RootCertStore,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
        server::WebPkiClientVerifier,
    },
    server::TlsStream,
};
use tokio_stream::wrappers::ReceiverStream;

use crate::config::TlsConfig;

/// How long a client may take to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often [`watch_files`] looks at the certificate files.
pub const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// A certificate file, key or CA that cannot be used; the message names the file and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

/// The TLS configuration of the listener, replaced whole by [`ServerTls::reload`].
pub struct ServerTls {
    files: TlsConfig,
    current: RwLock<Loaded>,
}

struct Loaded {
    stamp: Vec<Option<(SystemTime, u64)>>,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Reads the certificate, key and optional client CA of `files`.
    pub fn load(files: TlsConfig) -> Result<Self, TlsError> {
        let loaded = build(&files)?;
        Ok(Self {
            files,
            current: RwLock::new(loaded),
        })
    }

    /// Whether clients must present a certificate.
    pub fn mutual(&self) -> bool {
        self.files.client_ca_file.is_some()
    }

    /// Reads the files again and, when they parse, serves new connections with them.
    pub fn reload(&self) -> Result<(), TlsError> {
        let loaded = build(&self.files)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(())
    }

    /// Reloads when a file's modification time or size differs from the last load; true when it
    /// reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let stamp = stamps(&self.files);
        let unchanged = self
            .current
            .read()
            .map(|current| current.stamp == stamp)
            .unwrap_or(false);
        if unchanged {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    fn acceptor(&self) -> TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .acceptor
            .clone()
    }
}

/// Accepts TCP connections on `listener` and yields those that complete a TLS handshake; a
/// failed handshake (plaintext, an untrusted or missing client certificate) is logged and
/// dropped. Accepting stops when the returned stream is dropped.
pub fn incoming(
    listener: TcpListener,
    tls: Arc<ServerTls>,
) -> impl Stream<Item = Result<TlsStream<TcpStream>, io::Error>> {
    let (accepted, stream) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                () = accepted.closed() => return,
                next = listener.accept() => match next {
                    Ok(next) => next,
                    Err(error) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = tls.acceptor();
            let accepted = accepted.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = accepted.send(Ok(stream)).await;
                    }
                    Ok(Err(error)) => {
                        tracing::info!(%peer, %error, "TLS handshake failed; connection closed");
                    }
                    Err(_) => tracing::info!(
                        %peer,
                        timeout = ?HANDSHAKE_TIMEOUT,
                        "TLS handshake not finished in time; connection closed"
                    ),
                }
            });
        }
    });
    ReceiverStream::new(stream)
}

/// Checks the certificate files every [`FILE_CHECK_INTERVAL`] and reloads them when they change
/// (a renewed certificate, a Kubernetes secret update).
pub async fn watch_files(tls: Arc<ServerTls>) {
    let mut ticks = tokio::time::interval(FILE_CHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match tls.reload_if_changed() {
            Ok(true) => tracing::info!("TLS certificate files changed: reloaded"),
            Ok(false) => {}
            Err(error) => tracing::warn!(
                %error,
                "TLS certificate files changed but cannot be used; the previous ones stay in force"
            ),
        }
    }
}

fn stamps(files: &TlsConfig) -> Vec<Option<(SystemTime, u64)>> {
    [
        Some(files.cert_file.as_path()),
        Some(files.key_file.as_path()),
        files.client_ca_file.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(|path| {
        let metadata = std::fs::metadata(path).ok()?;
        Some((metadata.modified().ok()?, metadata.len()))
    })
    .collect()
}

fn build(files: &TlsConfig) -> Result<Loaded, TlsError> {
    let stamp = stamps(files);
    let chain = certificates(&files.cert_file, "server.tls_cert_file")?;
    let key = PrivateKeyDer::from_pem_file(&files.key_file).map_err(|error| {
        TlsError(format!(
            "cannot read a PEM private key from {} (server.tls_key_file): {error}",
            files.key_file.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError(format!("TLS protocol versions: {error}")))?;
    let builder = match &files.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for certificate in certificates(path, "server.tls_client_ca_file")? {
                roots.add(certificate).map_err(|error| {
                    TlsError(format!(
                        "{} (server.tls_client_ca_file) holds a certificate that is not a usable CA: {error}",
                        path.display()
                    ))
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| {
                    TlsError(format!(
                        "client CA {} (server.tls_client_ca_file): {error}",
                        path.display()
                    ))
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|error| {
        TlsError(format!(
            "{} and {} are not a certificate and its key (server.tls_cert_file, server.tls_key_file): {error}",
            files.cert_file.display(),
            files.key_file.display()
        ))
    })?;
    // gRPC runs over HTTP/2 only; clients (grpc-go, grpc-js, grpcio) insist on ALPN h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Loaded {
        stamp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

fn certificates(path: &Path, setting: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| {
            TlsError(format!(
                "cannot read PEM certificates from {} ({setting}): {error}",
                path.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "{} ({setting}) holds no PEM certificate",
            path.display()
        )));
    }
    Ok(chain)
}
