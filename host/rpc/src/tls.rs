//! JSON-RPC over TLS: HTTPS and WSS on the same port, with a certificate and key from PEM files
//! (`vellum init` makes them, signed by the network's own CA).
//!
//! The handshake happens inside the connection's slot, under the same bounds as the requests
//! that follow it (`Limits::idle_max`, displacement by newcomers): a client that opens a socket
//! and never finishes its handshake holds a place no longer than one that never sends a request.

use rustls_pki_types::{pem::PemObject as _, CertificateDer, PrivateKeyDer};
use std::{path::Path, sync::Arc};

/// Why a TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("{path}: {source}")]
    Pem {
        /// The file.
        path: String,
        /// What went wrong.
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{0} holds no certificate")]
    NoCertificate(String),
    /// rustls refused the pair (a key that does not match the certificate, say).
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A server's TLS settings: its certificate chain and private key.
#[derive(Clone)]
pub struct Tls {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
}

impl Tls {
    /// The certificate chain in `cert` (PEM, the node's certificate first) and the private key
    /// in `key` (PEM).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        fn pem(path: &Path) -> impl Fn(rustls_pki_types::pem::Error) -> TlsError + '_ {
            move |source| TlsError::Pem {
                path: path.display().to_string(),
                source,
            }
        }
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(pem(cert))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(pem(cert))?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate(cert.display().to_string()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(pem(key))?;
        Self::new(chain, key)
    }

    /// The same from DER: `chain` (the server's certificate first) and its `key`.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }
}
