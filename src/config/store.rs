//! The `[store]` section and the store it names, checked: SQLite with its tuning, or
//! PostgreSQL (plain text only to a loopback host unless asked for); the audit journal's
//! directory.

use super::{Config, ConfigError};
use crate::store::StoreKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `[store]` section: which backend, and where.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite` (a file, one instance) or `postgresql` (shared by several instances).
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

/// Which store, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSettings {
    /// An SQLite file, written by this one process.
    Sqlite {
        /// The SQLite database file (`data_dir/pu-adapter.db` unless `store.sqlite_file`).
        file: PathBuf,
        /// Reader connections and page-cache budget.
        tuning: crate::store::sqlite::SqliteTuning,
    },
    /// A PostgreSQL server, which several instances may share.
    Postgresql {
        /// libpq-style connection URL, e.g. `postgresql://user@host/db`.
        url: String,
        /// Connections this instance keeps open; each instance has its own pool.
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
