//! Certificates made at test time with rcgen: a CA, a server certificate for `127.0.0.1` and
//! `localhost` signed by it, and client certificates, written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A test certificate authority and the PEM file of its certificate.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate (PEM), what clients and servers trust.
    pub cert_file: PathBuf,
    /// The same, in memory.
    pub cert_pem: String,
}

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The certificate (PEM).
    pub cert_file: PathBuf,
    /// Its private key (PKCS#8 PEM).
    pub key_file: PathBuf,
}

impl TestCa {
    /// A new CA named `name`, its certificate written to `dir/<name>-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert_pem = params.self_signed(&key).expect("self-signed CA").pem();
        let cert_file = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&cert_file, &cert_pem).expect("write CA");
        Self {
            issuer: Issuer::new(params, key),
            cert_file,
            cert_pem,
        }
    }

    /// A server certificate for `127.0.0.1`, `::1` and `localhost`, as `dir/<name>.pem` and
    /// `dir/<name>.key`.
    pub fn server(&self, dir: &Path, name: &str) -> Identity {
        self.issue(
            dir,
            name,
            &["127.0.0.1", "::1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate named `name`, as `dir/<name>.pem` and `dir/<name>.key`.
    pub fn client(&self, dir: &Path, name: &str) -> Identity {
        self.issue(dir, name, &[], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(
        &self,
        dir: &Path,
        name: &str,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) -> Identity {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &self.issuer).expect("signed");
        let identity = Identity {
            cert_file: dir.join(format!("{name}.pem")),
            key_file: dir.join(format!("{name}.key")),
        };
        std::fs::write(&identity.cert_file, cert.pem()).expect("write certificate");
        std::fs::write(&identity.key_file, key.serialize_pem()).expect("write key");
        identity
    }
}
