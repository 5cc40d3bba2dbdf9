//! TLS client configuration: the system roots, plus an optional private CA.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read the CA file {}: {reason}", .path.display())]
    CaFile { path: std::path::PathBuf, reason: String },
    #[error("the CA file {} holds no certificate", .0.display())]
    EmptyCa(std::path::PathBuf),
    #[error("TLS setup: {0}")]
    Rustls(String),
}

/// A rustls client configuration that trusts the system roots and `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    // A machine without system roots still works with a private CA.
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| TlsConfigError::CaFile { path: path.to_path_buf(), reason: e.to_string() })?
            .collect::<Result<_, _>>()
            .map_err(|e| TlsConfigError::CaFile { path: path.to_path_buf(), reason: e.to_string() })?;
        if certs.is_empty() {
            return Err(TlsConfigError::EmptyCa(path.to_path_buf()));
        }
        for c in certs {
            roots.add(c).map_err(|e| TlsConfigError::CaFile { path: path.to_path_buf(), reason: e.to_string() })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError::Rustls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A person-readable reason for a failed TLS handshake.
pub fn explain(err: &std::io::Error) -> String {
    let inner = err.get_ref().map(|e| e.to_string()).unwrap_or_else(|| err.to_string());
    if let Some(rustls_err) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        use rustls::{CertificateError as C, Error as E};
        return match rustls_err {
            E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                "the server's certificate has expired".into()
            }
            E::InvalidCertificate(C::UnknownIssuer) => {
                "the server's certificate is not issued by a trusted CA (set ca_file for a private CA)".into()
            }
            E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                "the server's certificate is not valid for this host name".into()
            }
            E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
                "the server did not answer with TLS (a plaintext port? try tls = \"starttls\")".into()
            }
            other => format!("TLS handshake failed: {other}"),
        };
    }
    format!("TLS handshake failed: {inner}")
}
