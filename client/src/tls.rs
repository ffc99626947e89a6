//! [`ClientTls`]: how a [`CatalogClient`](crate::CatalogClient) verifies the server and, for
//! mutual TLS, proves who it is.

use std::path::Path;

use docstokg_catalog::{CatalogError, Result};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

/// TLS settings of a client: the CA that signed the server's certificate and, for a server that
/// asks for one, the client's own certificate and key (all PEM).
#[derive(Clone)]
pub struct ClientTls {
    /// PEM CA certificates the server's certificate must chain to.
    pub ca_pem: Vec<u8>,
    /// PEM certificate chain and private key sent to a server that wants mutual TLS.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
    /// The name the server's certificate must carry; defaults to the endpoint's host.
    pub domain: Option<String>,
}

impl ClientTls {
    /// Trusts the CA certificates in `ca_pem`, with no client certificate.
    pub fn new(ca_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            ca_pem: ca_pem.into(),
            identity: None,
            domain: None,
        }
    }

    /// Reads the CA file and, when both are given, the client certificate and key files.
    /// A file that cannot be read, or a certificate without its key, is `InvalidArgument`.
    pub fn from_files(ca: &Path, cert: Option<&Path>, key: Option<&Path>) -> Result<Self> {
        let read = |field: &str, path: &Path| {
            std::fs::read(path).map_err(|error| {
                CatalogError::invalid(field, format!("cannot read {}: {error}", path.display()))
            })
        };
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some((read("tls_cert", cert)?, read("tls_key", key)?)),
            (None, None) => None,
            _ => {
                return Err(CatalogError::invalid(
                    "tls_cert",
                    "a client certificate needs its key, and a key its certificate: give both",
                ));
            }
        };
        Ok(Self {
            ca_pem: read("tls_ca", ca)?,
            identity,
            domain: None,
        })
    }

    /// The same settings with the server name to verify instead of the endpoint's host.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The same settings with a client certificate and key (PEM), for mutual TLS.
    pub fn with_identity(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.identity = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// tonic's form of these settings.
    pub(crate) fn config(&self) -> ClientTlsConfig {
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&self.ca_pem));
        if let Some((cert, key)) = &self.identity {
            config = config.identity(Identity::from_pem(cert, key));
        }
        if let Some(domain) = &self.domain {
            config = config.domain_name(domain.clone());
        }
        config
    }
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca_pem_bytes", &self.ca_pem.len())
            .field("identity", &self.identity.as_ref().map(|_| "<redacted>"))
            .field("domain", &self.domain)
            .finish()
    }
}
