//! The rustls server configuration: TLS 1.2 and 1.3 only, ring's modern AEAD suites only,
//! a client certificate required and verified (chain and validity dates) against the
//! configured trust anchors.

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("{path}: {message}")]
    Pem {
        /// The PEM file's path as configured.
        path: String,
        /// The read or parse error.
        message: String,
    },
    /// rustls refused the material.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built.
    #[error("client certificate verifier: {0}")]
    Verifier(String),
    /// A published development certificate or key outside development.
    #[error(
        "{key} = {path}: this is the {what} of certs-dev/, whose private key is published in the pu-adapter repository: anyone could \
         mint certificates it accepts. Use your region's certificates, or set tls.allow_development_certificates = true for a development setup"
    )]
    DevelopmentTrust {
        /// The configuration key naming the file, e.g. `tls.key`.
        key: &'static str,
        /// The file's path as configured.
        path: String,
        /// Which development item it is.
        what: &'static str,
    },
}

fn pem_error(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Pem {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads every certificate of a PEM file.
pub(crate) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(pem_error(path, "no certificate found"));
    }
    Ok(certs)
}

/// Reads every CRL of the configured files.
fn load_crls(
    files: &[std::path::PathBuf],
) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let mut out = Vec::new();
    for path in files {
        let crls = CertificateRevocationListDer::pem_file_iter(path)
            .map_err(|e| pem_error(path, format!("tls.crls: {e}")))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(path, format!("tls.crls: {e}")))?;
        if crls.is_empty() {
            return Err(pem_error(path, "tls.crls: no CRL found"));
        }
        out.extend(crls);
    }
    Ok(out)
}

/// One certificate's subject and its `notAfter`, in Unix seconds.
pub(crate) struct CertLifetime {
    pub(crate) subject: String,
    pub(crate) not_after: i64,
}

/// The lifetime of every parseable certificate in `path`; `None` when the file cannot be read.
pub(crate) fn cert_lifetimes(path: &Path) -> Option<Vec<CertLifetime>> {
    let certs = load_certs(path).ok()?;
    let lifetimes = certs
        .iter()
        .filter_map(|c| x509_parser::parse_x509_certificate(c.as_ref()).ok())
        .map(|(_, parsed)| CertLifetime {
            subject: parsed.subject().to_string(),
            not_after: parsed.validity().not_after.timestamp(),
        })
        .collect();
    Some(lifetimes)
}

/// Seconds until the first certificate of `path` to expire does (negative: expired).
pub fn seconds_until_expiry(path: &Path) -> Option<i64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    cert_lifetimes(path)?
        .iter()
        .map(|lifetime| lifetime.not_after - now)
        .min()
}

/// Reads a private key, warning when the file is readable by others (`published`: it
/// belongs to one of the development certificates, whose keys are in the repository).
pub(crate) fn load_key(path: &Path, published: bool) -> Result<PrivateKeyDer<'static>, TlsError> {
    if let Some(mode) = exposed_key_mode(path, published) {
        tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "private key file is readable by group or others; chmod 600 it");
    }
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error(path, e))
}

/// The file mode of a private key readable by group or others, which should be the
/// owner's alone. Not for a published development key: anyone has it already, and a
/// fresh clone (git keeps no file modes but the executable bit) would warn at every
/// development start about a secret that is none.
fn exposed_key_mode(path: &Path, published: bool) -> Option<u32> {
    if published {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The TLS files a server starts with, each one named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Server certificate chain (PEM).
    pub cert: std::path::PathBuf,
    /// Server private key (PEM).
    pub key: std::path::PathBuf,
    /// Trust anchors for client certificates (PEM bundle).
    pub client_ca: std::path::PathBuf,
    /// Whether the development CA and server key may be used.
    pub allow_development_certificates: bool,
    /// CRLs checked for every client certificate.
    pub crls: Vec<std::path::PathBuf>,
}

/// Refuses the published development material unless the configuration allows it.
fn refuse_development_material(
    key: &'static str,
    path: &Path,
    certs: &[CertificateDer<'_>],
) -> Result<(), TlsError> {
    match certs.iter().find_map(super::dev_trust::recognise) {
        Some(what) => Err(TlsError::DevelopmentTrust {
            key,
            path: path.display().to_string(),
            what,
        }),
        None => Ok(()),
    }
}

/// Builds the server configuration from PEM files.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let TlsFiles {
        cert,
        key,
        client_ca,
        allow_development_certificates,
        crls,
    } = files;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let anchors = load_certs(client_ca)?;
    let chain = load_certs(cert)?;
    if !allow_development_certificates {
        refuse_development_material("tls.client_ca", client_ca, &anchors)?;
        refuse_development_material("tls.cert", cert, &chain)?;
    }
    let mut roots = RootCertStore::empty();
    for ca in anchors {
        roots.add(ca).map_err(|e| pem_error(client_ca, e))?;
    }
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    if !crls.is_empty() {
        // The consumer's own certificate is checked; CAs without a CRL here are not a reason to refuse.
        verifier = verifier
            .with_crls(load_crls(crls)?)
            .only_check_end_entity_revocation()
            .allow_unknown_revocation_status();
    }
    let verifier = verifier
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let published = chain
        .first()
        .and_then(super::dev_trust::recognise)
        .is_some();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, load_key(key, published)?)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Our suite order (AEAD, forward secrecy, strongest first) wins over the client's.
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_is_named_unless_it_is_a_published_development_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("server.key");
        std::fs::write(&key, "not read here").unwrap();
        let set_mode =
            |mode| std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        set_mode(0o644);
        assert_eq!(exposed_key_mode(&key, false), Some(0o644));
        assert_eq!(exposed_key_mode(&key, true), None);
        set_mode(0o600);
        assert_eq!(exposed_key_mode(&key, false), None);
    }
}
