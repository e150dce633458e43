//! Configuration: defaults (production-safe, or the development ones without `--config`),
//! then a TOML file, then `PU_ADAPTER_*` environment variables, layered by figment. The
//! result is validated once, by [`Config::settings`], into typed [`Settings`].

use crate::contracts::Contract;
use crate::devcerts;
use crate::domain::identifier::ROOT_NATIONAL_RESERVE;
use crate::domain::IdentifierPolicy;
use crate::service::{Authorisation, ServiceConfig};
use crate::store::StoreKind;
use crate::transport::tls::TlsFiles;
use crate::transport::HttpLimits;
use crate::xml::Limits;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

mod env;
mod error;

use env::env_layer;
use error::describe;
pub use error::{ConfigError, Origin, ShapeProblem, ShapeProblemKind};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
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
    pub log_format: LogFormat,
    /// The server certificate, its key, the client CA and CRLs (mutual TLS).
    pub tls: TlsConfig,
    /// Storage backend.
    pub store: StoreConfig,
    /// HTTP and XML limits.
    pub limits: LimitsConfig,
    /// Which reserve-identity roots are accepted, and what Unrestricted consumers may update.
    pub rules: RulesConfig,
    /// Consumers and the contracts each may call.
    pub consumers: Vec<ConsumerConfig>,
    /// The test-control API for staging and conformance suites (off by default).
    pub control: ControlConfig,
}

/// The test-control API on the admin listener.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// Serve `/control/*` (reset, faults, journal).
    pub enabled: bool,
    /// Bearer token required on `/control/*`; needed when the admin listener is not loopback.
    pub token: Option<String>,
    /// Calls kept in the journal.
    pub journal_size: usize,
    /// Keep request bodies (personal data) in the journal.
    pub journal_personal_data: bool,
}

impl Default for ControlConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            token: None,
            journal_size: 1_000,
            journal_personal_data: false,
        }
    }
}

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

/// Storage backend.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite` or `postgresql`.
    pub kind: StoreKind,
    /// SQLite file; default `<data_dir>/pu-adapter.db`.
    pub sqlite_file: Option<PathBuf>,
    /// PostgreSQL connection string (`host=… user=… dbname=…`).
    pub postgres_url: Option<String>,
    /// CA (PEM) the PostgreSQL server's certificate must come from; set: TLS with
    /// verify-full semantics, unset: plain connections (loopback or a local socket only).
    pub postgres_ca: Option<PathBuf>,
    /// Allow a plain-text connection to a PostgreSQL host that is not loopback or a local
    /// socket (a compose network in staging); never in production.
    pub postgres_insecure_plaintext: bool,
    /// PostgreSQL connections per instance.
    pub postgres_pool_size: usize,
    /// SQLite reader connections at most; more concurrent reads wait for one.
    pub sqlite_readers: usize,
    /// SQLite page cache of all connections together, in MiB (bounds the store's memory).
    pub sqlite_cache_mib: u64,
    /// The audit journal's directory (one per instance); default beside the SQLite file
    /// (`<file without extension>.audit-journal`), or `<data_dir>/audit-journal` with PostgreSQL.
    pub audit_journal: Option<PathBuf>,
}

/// The `[limits]` table: HTTP and XML limits, each with a default.
#[derive(Debug, Clone, Deserialize, Serialize)]
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
    /// How long a request over an in-flight cap waits for a slot before its 503, ms
    /// (0: refused at once).
    pub queue_wait_ms: u64,
    /// XML nesting depth at most.
    pub max_xml_depth: usize,
    /// XML elements per request at most.
    pub max_xml_elements: usize,
    /// Bytes of text in one XML element at most.
    pub max_xml_text_bytes: usize,
}

/// Rule settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Let the Unrestricted update contract write for protected persons (PR-2).
    pub unrestricted_may_update_protected: bool,
    /// Accepted reserve-identity roots.
    pub reserve_roots: Vec<String>,
}

/// One consumer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerConfig {
    /// The consumer's HSA-id.
    pub hsa_id: String,
    /// Contract names; `*` means every restricted contract and PingForConfiguration.
    pub contracts: Vec<Grant>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (no colour codes unless the output is a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// One entry of a consumer's `contracts`: a contract by name, or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum Grant {
    /// `*`: every restricted contract and PingForConfiguration, never an Unrestricted one (PR-5).
    AllRestricted,
    /// One contract.
    Contract(Contract),
}

/// A grant that names no contract.
#[derive(Debug, thiserror::Error)]
#[error("unknown contract {0:?}; use \"*\" or one of {names}", names = contract_names())]
pub struct UnknownContract(String);

fn contract_names() -> String {
    Contract::ALL
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl TryFrom<String> for Grant {
    type Error = UnknownContract;

    fn try_from(name: String) -> Result<Self, UnknownContract> {
        if name == "*" {
            return Ok(Grant::AllRestricted);
        }
        Contract::from_name(&name)
            .map(Grant::Contract)
            .ok_or(UnknownContract(name))
    }
}

impl From<Grant> for String {
    fn from(g: Grant) -> String {
        match g {
            Grant::AllRestricted => "*".into(),
            Grant::Contract(c) => c.name().into(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8443".into(),
            admin_listen: "127.0.0.1:9090".into(),
            public_url: None,
            data_dir: PathBuf::from("data"),
            load_demo: false,
            log_format: LogFormat::Text,
            tls: TlsConfig::default(),
            store: StoreConfig::default(),
            limits: LimitsConfig::default(),
            rules: RulesConfig::default(),
            consumers: Vec::new(),
            control: ControlConfig::default(),
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
            postgres_ca: None,
            postgres_insecure_plaintext: false,
            postgres_pool_size: 16,
            sqlite_readers: sqlite.readers,
            sqlite_cache_mib: sqlite.cache_kib / 1024,
            audit_journal: None,
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
            queue_wait_ms: h.queue_wait.as_millis() as u64,
            max_xml_depth: x.max_depth,
            max_xml_elements: x.max_elements,
            max_xml_text_bytes: x.max_text_bytes,
        }
    }
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            unrestricted_may_update_protected: false,
            reserve_roots: vec![ROOT_NATIONAL_RESERVE.into()],
        }
    }
}

/// The configuration, validated: what the service starts with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// SOAP listener address.
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

/// Which store, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSettings {
    /// An SQLite file.
    Sqlite {
        /// The SQLite database file (`data_dir/pu-adapter.db` unless `store.sqlite_file`).
        file: PathBuf,
        /// Reader connections and page-cache budget.
        tuning: crate::store::sqlite::SqliteTuning,
    },
    /// A PostgreSQL server.
    Postgresql {
        /// Connection string.
        url: String,
        /// Connections per instance.
        pool_size: usize,
        /// CA for verify-full TLS, if any.
        ca: Option<PathBuf>,
    },
}

/// Whether every host of a PostgreSQL connection string is loopback or a Unix socket.
fn local_postgres(url: &str) -> bool {
    let Ok(config) = url.parse::<postgres::Config>() else {
        return true;
    }; // reported on connect
    config.get_hosts().iter().all(|h| match h {
        postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        postgres::config::Host::Unix(_) => true,
    })
}

impl Config {
    /// The development defaults: dev certificates, demo persons, the dev consumers authorised.
    pub fn development() -> Self {
        let all = vec![Grant::AllRestricted];
        let mut extended = all.clone();
        extended.extend(
            Contract::ALL
                .into_iter()
                .filter(|c| c.access() == Some(crate::domain::Access::Unrestricted))
                .map(Grant::Contract),
        );
        Self {
            load_demo: true,
            tls: TlsConfig::development(),
            consumers: vec![
                ConsumerConfig {
                    hsa_id: devcerts::CONSUMER_HSA_ID.into(),
                    contracts: all.clone(),
                },
                ConsumerConfig {
                    hsa_id: devcerts::EXTENDED_HSA_ID.into(),
                    contracts: extended,
                },
                ConsumerConfig {
                    hsa_id: devcerts::PLATFORM_HSA_ID.into(),
                    contracts: all,
                },
            ],
            ..Self::default()
        }
    }

    /// The configuration: `base` (the development or the production defaults), then the
    /// TOML file if one is given, then the environment. Unknown keys and values are errors.
    pub fn load(base: Config, file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let mut layers = Figment::from(Serialized::defaults(base));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::NoSuchFile(path.to_owned()));
            }
            layers = layers.merge(Toml::file(path));
        }
        layers.merge(env_layer()).extract().map_err(describe)
    }

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

    /// The store part of the settings (all that `import` and `audit` need).
    pub fn store_settings(&self) -> Result<StoreSettings, ConfigError> {
        match self.store.kind {
            StoreKind::Sqlite if self.store.sqlite_readers == 0 => Err(ConfigError::Zero {
                key: "store.sqlite_readers",
            }),
            StoreKind::Sqlite => Ok(StoreSettings::Sqlite {
                file: self.sqlite_file(),
                tuning: crate::store::sqlite::SqliteTuning {
                    readers: self.store.sqlite_readers,
                    cache_kib: self.store.sqlite_cache_mib * 1024,
                },
            }),
            StoreKind::Postgresql => match &self.store.postgres_url {
                Some(url)
                    if self
                        .store
                        .postgres_ca
                        .as_deref()
                        .is_none_or(|p| p.as_os_str().is_empty())
                        && !self.store.postgres_insecure_plaintext
                        && !local_postgres(url) =>
                {
                    Err(ConfigError::PostgresPlaintextBeyondLoopback)
                }
                Some(url) if !url.trim().is_empty() => Ok(StoreSettings::Postgresql {
                    url: url.clone(),
                    pool_size: self.store.postgres_pool_size.max(1),
                    ca: self
                        .store
                        .postgres_ca
                        .clone()
                        .filter(|p| !p.as_os_str().is_empty()),
                }),
                _ => Err(ConfigError::PostgresUrlMissing),
            },
        }
    }

    /// Who may call what (AC-1, PR-5): Unrestricted contracts only when named explicitly.
    pub(crate) fn authorisation(&self) -> Result<Authorisation, ConfigError> {
        let mut auth = Authorisation::default();
        for consumer in &self.consumers {
            for name in &consumer.contracts {
                match name {
                    Grant::AllRestricted => {
                        for c in Contract::ALL
                            .into_iter()
                            .filter(|c| c.access() != Some(crate::domain::Access::Unrestricted))
                        {
                            auth.allow(&consumer.hsa_id, c);
                        }
                    }
                    Grant::Contract(c) => auth.allow(&consumer.hsa_id, *c),
                }
            }
        }
        Ok(auth)
    }

    /// The service settings.
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

    pub(crate) fn http_limits(&self) -> HttpLimits {
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
            queue_wait: Duration::from_millis(l.queue_wait_ms),
        }
    }

    /// The audit journal's directory: configured, or beside the SQLite file, or in the data
    /// directory (PostgreSQL: each instance has its own).
    pub fn audit_journal_dir(&self) -> PathBuf {
        match (&self.store.audit_journal, self.store.kind) {
            (Some(dir), _) if !dir.as_os_str().is_empty() => dir.clone(),
            (_, StoreKind::Sqlite) => self.sqlite_file().with_extension("audit-journal"),
            (_, StoreKind::Postgresql) => self.data_dir.join("audit-journal"),
        }
    }

    pub(crate) fn sqlite_file(&self) -> PathBuf {
        self.store
            .sqlite_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("pu-adapter.db"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pu-adapter.toml");
        std::fs::write(&file, text).expect("write");
        Config::load(Config::default(), Some(&file))
    }

    #[test]
    fn unknown_keys_and_values_are_errors_naming_the_key() {
        let e = from_toml("log_format = \"jsn\"").unwrap_err().to_string();
        assert!(e.contains("log_format") && e.contains("jsn"), "{e}");
        let e = from_toml("[store]\nkind = \"mysql\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("store.kind") && e.contains("mysql"), "{e}");
        let e = from_toml("[limits]\nmax_in_fligth = 5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_in_fligth"), "{e}");
        let e = from_toml("[[consumers]]\nhsa_id = \"SE1\"\ncontracts = [\"GetPerson\"]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown contract \"GetPerson\"") && e.contains("GetPersonsForProfile"),
            "{e}"
        );
    }

    #[test]
    fn settings_are_validated_once_with_the_key_named() {
        let mut c = Config::development();
        c.store.kind = StoreKind::Postgresql;
        assert!(c
            .settings()
            .unwrap_err()
            .to_string()
            .contains("store.postgres_url"));
        let mut c = Config::development();
        c.limits.max_in_flight = 0;
        assert!(c
            .settings()
            .unwrap_err()
            .to_string()
            .contains("limits.max_in_flight must be at least 1"));
        let mut c = Config::development();
        c.public_url = Some("http://pu.example.se".into());
        assert!(c.settings().unwrap_err().to_string().contains("public_url"));
        assert!(Config::development().settings().is_ok());
    }

    #[test]
    fn plain_text_postgresql_is_refused_beyond_loopback_unless_asked_for() {
        let mut c = Config::development();
        c.store.kind = StoreKind::Postgresql;
        c.store.postgres_url = Some("host=db.region.se user=pu password=x dbname=pu".into());
        assert!(c
            .settings()
            .unwrap_err()
            .to_string()
            .contains("store.postgres_ca"));
        c.store.postgres_insecure_plaintext = true;
        assert!(c.settings().is_ok());
        c.store.postgres_insecure_plaintext = false;
        c.store.postgres_ca = Some("/etc/pu-adapter/db-ca.pem".into());
        assert!(c.settings().is_ok());
        c.store.postgres_ca = None;
        c.store.postgres_url = Some("host=127.0.0.1 port=5432 user=pu".into());
        assert!(c.settings().is_ok());
    }

    // PR-5: `*` never grants an Unrestricted contract; only naming it does.
    #[test]
    fn pr5_a_wildcard_grant_never_includes_the_unrestricted_contracts() {
        let c = from_toml("[[consumers]]\nhsa_id = \"SE1\"\ncontracts = [\"*\"]\n[[consumers]]\nhsa_id = \"SE2\"\ncontracts = [\"GetPersonsForProfileUnrestricted\"]").unwrap();
        let auth = c.authorisation().unwrap();
        assert!(auth.is_allowed("SE1", Contract::GetPersonsForProfile));
        assert!(!auth.is_allowed("SE1", Contract::GetPersonsForProfileUnrestricted));
        assert!(auth.is_allowed("SE2", Contract::GetPersonsForProfileUnrestricted));
    }
}
