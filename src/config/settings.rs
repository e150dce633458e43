//! Validation: the configuration checked once into [`Settings`], what the service starts
//! with, each wrong value named by its key.

use super::{Config, ConfigError, StoreSettings};
use crate::domain::IdentifierPolicy;
use crate::service::ServiceConfig;
use crate::transport::tls::TlsFiles;
use crate::transport::HttpLimits;
use crate::xml::Limits;
use std::path::PathBuf;

/// The configuration, validated: what the service starts with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `host:port` the SOAP (TLS) listener binds.
    pub listen: String,
    /// Admin listener address, if enabled.
    pub admin_listen: Option<String>,
    /// Base URL written into `soap:address`.
    pub public_url: Option<String>,
    /// Load the demo persons into an empty store at start.
    pub load_demo: bool,
    /// The TLS files, all three named (development files only without `--config`).
    pub tls: TlsFiles,
    /// HSA-ids of the service platform's certificates.
    pub platform_hsa_ids: Vec<String>,
    /// The store to open, with what it needs.
    pub store: StoreSettings,
    /// The audit journal's directory.
    pub audit_journal: PathBuf,
    /// Body size, timeouts and connection and in-flight caps.
    pub http: HttpLimits,
    /// What the service needs: identifiers, rules, XML limits, authorisation.
    pub service: ServiceConfig,
}

impl Config {
    /// Validates everything once: a value that is wrong is named here, before anything starts.
    pub(crate) fn settings(&self) -> Result<Settings, ConfigError> {
        let public_url = match &self.public_url {
            Some(url) if !url.starts_with("https://") => {
                return Err(ConfigError::PublicUrlNotHttps(url.clone()))
            }
            other => other.clone(),
        };
        let http = self.http_limits();
        for (key, value) in [
            ("limits.max_body_bytes", http.max_body_bytes),
            ("limits.max_connections", http.max_connections),
            ("limits.max_in_flight", http.max_in_flight),
            (
                "limits.max_in_flight_per_consumer",
                http.max_in_flight_per_consumer,
            ),
            (
                "limits.max_connections_per_certificate",
                http.max_connections_per_certificate,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { key });
            }
        }
        let admin_loopback = self
            .admin_listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback())
            || self.admin_listen.starts_with("localhost:");
        if self.control.enabled
            && !admin_loopback
            && self.control.token.as_deref().is_none_or(str::is_empty)
        {
            return Err(ConfigError::ControlWithoutToken(self.admin_listen.clone()));
        }
        Ok(Settings {
            listen: self.listen.clone(),
            admin_listen: Some(self.admin_listen.clone()).filter(|a| !a.is_empty()),
            public_url,
            load_demo: self.load_demo,
            tls: self.tls.files()?,
            platform_hsa_ids: self.tls.platform_hsa_ids.clone(),
            store: self.store_settings()?,
            audit_journal: self.audit_journal_dir(),
            http,
            service: self.service_config()?,
        })
    }

    /// The settings the service layer reads, checked (e.g. reserve roots parsed).
    pub(crate) fn service_config(&self) -> Result<ServiceConfig, ConfigError> {
        Ok(ServiceConfig {
            identifiers: IdentifierPolicy {
                reserve_roots: self.rules.reserve_roots.clone(),
            },
            unrestricted_may_update_protected: self.rules.unrestricted_may_update_protected,
            xml_limits: Limits {
                max_depth: self.limits.max_xml_depth,
                max_elements: self.limits.max_xml_elements,
                max_text_bytes: self.limits.max_xml_text_bytes,
                ..Limits::default()
            },
            authorisation: self.authorisation()?,
        })
    }
}
