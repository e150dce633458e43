//! Configuration: defaults (production-safe, or the development ones without `--config`),
//! then a TOML file, then `PU_ADAPTER_*` environment variables, layered by figment. The
//! result is validated once, by [`Config::settings`], into typed [`Settings`].
//!
//! This file holds the whole [`Config`], its small sections and its loading; the larger
//! sections and the validation have a file each beside it.

use crate::contracts::Contract;
use crate::devcerts;
use crate::domain::identifier::ROOT_NATIONAL_RESERVE;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod consumers;
mod env;
mod error;
mod limits;
mod settings;
mod store;
mod tls;

pub use consumers::{ConsumerConfig, Grant, UnknownContract};
use env::env_layer;
use error::describe;
pub use error::{ConfigError, Origin, ShapeProblem, ShapeProblemKind};
pub use limits::LimitsConfig;
pub use settings::Settings;
pub use store::{StoreConfig, StoreSettings};
pub use tls::TlsConfig;

/// The whole configuration, as read from the file and the environment and checked.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `host:port` the SOAP (TLS) listener binds, e.g. `0.0.0.0:8443`.
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
    /// Which store holds persons, contact information and the audit trail.
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

/// Deployment choices within the rules (docs/rules.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Let the Unrestricted update contract write for protected persons (PR-2).
    pub unrestricted_may_update_protected: bool,
    /// OIDs accepted as reserve-identity roots besides the national one (ID-1).
    pub reserve_roots: Vec<String>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            unrestricted_may_update_protected: false,
            reserve_roots: vec![ROOT_NATIONAL_RESERVE.into()],
        }
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreKind;

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
