//! The `[tls]` section: the server certificate, its key, the client CA and CRLs, and the
//! development certificates used only without `--config`.

use super::ConfigError;
use crate::devcerts;
use crate::transport::tls::TlsFiles;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// TLS material. A configuration file must name all three files: the development
/// certificates apply only to the start without `--config`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Server certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Server private key (PEM).
    pub key: Option<PathBuf>,
    /// Trust anchors for client certificates (PEM bundle).
    pub client_ca: Option<PathBuf>,
    /// HSA-ids of the service platform's certificates.
    pub platform_hsa_ids: Vec<String>,
    /// Accept the published development CA and server key of `certs-dev/` (development only).
    pub allow_development_certificates: bool,
    /// Certificate revocation lists (PEM) for client certificates; a revoked one is refused
    /// in the handshake.
    pub crls: Vec<PathBuf>,
}

impl TlsConfig {
    /// The development certificates of `certs-dev/`, trusted on purpose.
    pub(crate) fn development() -> Self {
        Self {
            cert: Some("certs-dev/server.pem".into()),
            key: Some("certs-dev/server.key".into()),
            client_ca: Some("certs-dev/ca.pem".into()),
            platform_hsa_ids: vec![devcerts::PLATFORM_HSA_ID.into()],
            allow_development_certificates: true,
            crls: vec!["certs-dev/ca.crl.pem".into()],
        }
    }

    /// The three files, or an error naming each key that is not set.
    pub(crate) fn files(&self) -> Result<TlsFiles, ConfigError> {
        let missing: Vec<&str> = [
            ("tls.cert", &self.cert),
            ("tls.key", &self.key),
            ("tls.client_ca", &self.client_ca),
        ]
        .into_iter()
        .filter(|(_, v)| v.as_ref().is_none_or(|p| p.as_os_str().is_empty()))
        .map(|(k, _)| k)
        .collect();
        match (&self.cert, &self.key, &self.client_ca) {
            (Some(cert), Some(key), Some(client_ca)) if missing.is_empty() => Ok(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: client_ca.clone(),
                allow_development_certificates: self.allow_development_certificates,
                crls: self.crls.clone(),
            }),
            _ => Err(ConfigError::TlsFilesNotSet(missing)),
        }
    }
}
