//! Configuration: a TOML file (`--config`), environment overrides, and the development
//! defaults used when no file is given.

use crate::contracts::Contract;
use crate::devcerts;
use crate::domain::identifier::ROOT_NATIONAL_RESERVE;
use crate::domain::IdentifierPolicy;
use crate::service::{Authorisation, ServiceConfig};
use crate::store::StoreKind;
use crate::transport::tls::TlsFiles;
use crate::transport::HttpLimits;
use crate::xml::Limits;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// SOAP listener address.
    pub listen: String,
    /// Admin listener (`/health`, `/metrics`); empty disables it.
    pub admin_listen: String,
    /// Base URL written into `soap:address`; by default taken from the Host header.
    pub public_url: Option<String>,
    /// Directory for the SQLite file.
    pub data_dir: PathBuf,
    /// Load the demo persons at start.
    pub load_demo: bool,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// TLS files.
    pub tls: TlsConfig,
    /// Storage backend.
    pub store: StoreConfig,
    /// HTTP and XML limits.
    pub limits: LimitsConfig,
    /// Rule settings.
    pub rules: RulesConfig,
    /// Consumers and the contracts each may call.
    pub consumers: Vec<ConsumerConfig>,
}

/// TLS material. A configuration file must name all three files: the development
/// certificates apply only to the start without `--config`.
#[derive(Debug, Clone, Deserialize, Default)]
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
}

impl TlsConfig {
    /// The development certificates of `certs-dev/`, trusted on purpose.
    pub fn development() -> Self {
        Self {
            cert: Some("certs-dev/server.pem".into()),
            key: Some("certs-dev/server.key".into()),
            client_ca: Some("certs-dev/ca.pem".into()),
            platform_hsa_ids: vec![devcerts::PLATFORM_HSA_ID.into()],
            allow_development_certificates: true,
        }
    }

    /// The three files, or an error naming each key that is not set.
    pub fn files(&self) -> Result<TlsFiles, ConfigError> {
        let missing: Vec<&str> = [("tls.cert", &self.cert), ("tls.key", &self.key), ("tls.client_ca", &self.client_ca)]
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
            }),
            _ => Err(ConfigError::Invalid(format!(
                "{} not set: a configuration file must name the server certificate, its key and the CA that issues consumer certificates \
                 (the development certificates apply only when no --config is given)",
                missing.join(", ")
            ))),
        }
    }
}

/// Storage backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite` or `postgresql`.
    pub kind: StoreKind,
    /// SQLite file; default `<data_dir>/pu-adapter.db`.
    pub sqlite_file: Option<PathBuf>,
    /// PostgreSQL connection string (`host=… user=… dbname=…`).
    pub postgres_url: Option<String>,
    /// PostgreSQL connections per instance.
    pub postgres_pool_size: usize,
    /// SQLite reader connections at most; more concurrent reads wait for one.
    pub sqlite_readers: usize,
    /// SQLite page cache of all connections together, in MiB (bounds the store's memory).
    pub sqlite_cache_mib: u64,
}

/// Limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Header read timeout, ms.
    pub header_read_timeout_ms: u64,
    /// Idle keep-alive timeout, ms.
    pub idle_timeout_ms: u64,
    /// Request handling timeout, ms.
    pub request_timeout_ms: u64,
    /// TLS handshake timeout, ms.
    pub handshake_timeout_ms: u64,
    /// Open connections at most.
    pub max_connections: usize,
    /// Requests in flight at most; more get 503 with Retry-After.
    pub max_in_flight: usize,
    /// Requests in flight per consumer at most; more get 503 with Retry-After.
    pub max_in_flight_per_consumer: usize,
    /// Open connections per client certificate (the platform's excepted).
    pub max_connections_per_certificate: usize,
    /// XML nesting depth at most.
    pub max_xml_depth: usize,
    /// XML elements per request at most.
    pub max_xml_elements: usize,
    /// Bytes of text in one XML element at most.
    pub max_xml_text_bytes: usize,
}

/// Rule settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Let the Unrestricted update contract write for protected persons (PR-2).
    pub unrestricted_may_update_protected: bool,
    /// Accepted reserve-identity roots.
    pub reserve_roots: Vec<String>,
}

/// One consumer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerConfig {
    /// The consumer's HSA-id.
    pub hsa_id: String,
    /// Contract names; `*` means every restricted contract and PingForConfiguration.
    pub contracts: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8443".into(),
            admin_listen: "127.0.0.1:9090".into(),
            public_url: None,
            data_dir: PathBuf::from("data"),
            load_demo: false,
            log_format: "text".into(),
            tls: TlsConfig::default(),
            store: StoreConfig::default(),
            limits: LimitsConfig::default(),
            rules: RulesConfig::default(),
            consumers: Vec::new(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        let sqlite = crate::store::sqlite::SqliteTuning::default();
        Self {
            kind: StoreKind::Sqlite,
            sqlite_file: None,
            postgres_url: None,
            postgres_pool_size: 16,
            sqlite_readers: sqlite.readers,
            sqlite_cache_mib: sqlite.cache_kib / 1024,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let h = HttpLimits::default();
        let x = Limits::default();
        Self {
            max_body_bytes: h.max_body_bytes,
            header_read_timeout_ms: h.header_read_timeout.as_millis() as u64,
            idle_timeout_ms: h.idle_timeout.as_millis() as u64,
            request_timeout_ms: h.request_timeout.as_millis() as u64,
            handshake_timeout_ms: h.handshake_timeout.as_millis() as u64,
            max_connections: h.max_connections,
            max_in_flight: h.max_in_flight,
            max_in_flight_per_consumer: h.max_in_flight_per_consumer,
            max_connections_per_certificate: h.max_connections_per_certificate,
            max_xml_depth: x.max_depth,
            max_xml_elements: x.max_elements,
            max_xml_text_bytes: x.max_text_bytes,
        }
    }
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self { unrestricted_may_update_protected: false, reserve_roots: vec![ROOT_NATIONAL_RESERVE.into()] }
    }
}

/// Why a configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    /// The file is not valid TOML of this shape.
    #[error("{0}: {1}")]
    Parse(String, String),
    /// A value is wrong.
    #[error("{0}")]
    Invalid(String),
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Invalid(format!("{name}={value:?} is not a whole number")))
}

impl Config {
    /// The development defaults: dev certificates, demo persons, the dev consumers authorised.
    pub fn development() -> Self {
        let all = vec!["*".to_owned()];
        let mut extended = all.clone();
        extended.extend(Contract::ALL.iter().filter(|c| c.access() == Some(crate::domain::Access::Unrestricted)).map(|c| c.name().to_owned()));
        Self {
            load_demo: true,
            tls: TlsConfig::development(),
            consumers: vec![
                ConsumerConfig { hsa_id: devcerts::CONSUMER_HSA_ID.into(), contracts: all.clone() },
                ConsumerConfig { hsa_id: devcerts::EXTENDED_HSA_ID.into(), contracts: extended },
                ConsumerConfig { hsa_id: devcerts::PLATFORM_HSA_ID.into(), contracts: all },
            ],
            ..Self::default()
        }
    }

    /// Reads a TOML file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.display().to_string(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path.display().to_string(), e.to_string()))
    }

    /// Applies `PU_ADAPTER_*` environment overrides; a number that does not parse is an error.
    pub fn apply_env(&mut self) -> Result<(), ConfigError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = var("PU_ADAPTER_ADMIN_LISTEN") {
            self.admin_listen = v;
        }
        if let Some(v) = var("PU_ADAPTER_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = var("PU_ADAPTER_STORE_KIND") {
            self.store.kind = match v.as_str() {
                "sqlite" => StoreKind::Sqlite,
                "postgresql" | "postgres" => StoreKind::Postgresql,
                _ => return Err(ConfigError::Invalid(format!("PU_ADAPTER_STORE_KIND={v:?} is not sqlite or postgresql"))),
            };
        }
        if let Some(v) = var("PU_ADAPTER_POSTGRES_URL") {
            self.store.postgres_url = Some(v);
        }
        if let Some(v) = var("PU_ADAPTER_SQLITE_READERS") {
            self.store.sqlite_readers = number("PU_ADAPTER_SQLITE_READERS", &v)?;
        }
        if let Some(v) = var("PU_ADAPTER_SQLITE_CACHE_MIB") {
            self.store.sqlite_cache_mib = number("PU_ADAPTER_SQLITE_CACHE_MIB", &v)?;
        }
        if let Some(v) = var("PU_ADAPTER_LOG_FORMAT") {
            self.log_format = v;
        }
        Ok(())
    }

    /// Who may call what (AC-1, PR-5): Unrestricted contracts only when named explicitly.
    pub fn authorisation(&self) -> Result<Authorisation, ConfigError> {
        let mut auth = Authorisation::default();
        for consumer in &self.consumers {
            for name in &consumer.contracts {
                if name == "*" {
                    for c in Contract::ALL.into_iter().filter(|c| c.access() != Some(crate::domain::Access::Unrestricted)) {
                        auth.allow(&consumer.hsa_id, c);
                    }
                } else {
                    let c =
                        Contract::from_name(name).ok_or_else(|| ConfigError::Invalid(format!("consumer {}: unknown contract {name:?}", consumer.hsa_id)))?;
                    auth.allow(&consumer.hsa_id, c);
                }
            }
        }
        Ok(auth)
    }

    /// The service settings.
    pub fn service_config(&self) -> Result<ServiceConfig, ConfigError> {
        Ok(ServiceConfig {
            identifiers: IdentifierPolicy { reserve_roots: self.rules.reserve_roots.clone() },
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

    /// The HTTP limits.
    pub fn http_limits(&self) -> HttpLimits {
        let l = &self.limits;
        HttpLimits {
            max_body_bytes: l.max_body_bytes,
            header_read_timeout: Duration::from_millis(l.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(l.idle_timeout_ms),
            request_timeout: Duration::from_millis(l.request_timeout_ms),
            handshake_timeout: Duration::from_millis(l.handshake_timeout_ms),
            max_connections: l.max_connections,
            max_in_flight: l.max_in_flight,
            max_in_flight_per_consumer: l.max_in_flight_per_consumer,
            max_connections_per_certificate: l.max_connections_per_certificate,
        }
    }

    /// The SQLite file.
    pub fn sqlite_file(&self) -> PathBuf {
        self.store.sqlite_file.clone().unwrap_or_else(|| self.data_dir.join("pu-adapter.db"))
    }
}
