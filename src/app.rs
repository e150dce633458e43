//! Wiring: configuration → store → TLS → listeners. Used by `pu-adapter serve` and tests.

use crate::admin;
use crate::config::{Config, StoreSettings};
use crate::service::Service;
use crate::store::journal::Journal;
use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, Stores};
use crate::transport::state::AppState;
use crate::transport::{serve, tls, ServerHandle};
use std::net::SocketAddr;
use std::sync::Arc;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration was refused; the text names the key.
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Certificates, keys or CRLs could not be read or were refused.
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    /// A listener could not be bound.
    #[error("listen on {0}: {1}")]
    Bind(String, std::io::Error),
    /// Anything else that stops start-up (binding a port, opening the store).
    #[error("{0}")]
    Other(String),
}

/// A started service: its listeners run until it is shut down.
pub struct Running {
    /// The SOAP listener: its address, and `shutdown` for a graceful stop.
    pub server: ServerHandle,
    /// The admin listener's address, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// The stores (audit appends through the journal).
    pub stores: Stores,
    state: Arc<AppState>,
}

impl Running {
    /// SIGHUP: re-reads certificates, CA, CRLs, consumers and rules from `config`. Open
    /// connections keep working; a reload that fails changes nothing and says why. The
    /// listen addresses, the store and the platform HSA-ids need a restart.
    pub fn reload(&self, config: &Config) -> Result<(), StartError> {
        let settings = config.settings()?;
        let tls = tls::server_config(&settings.tls)?;
        self.state.replace_tls(tls);
        self.state.service.reconfigure(settings.service);
        record_certificate_expiry(&settings.tls);
        Ok(())
    }
}

/// `pu_adapter_certificate_expiry_seconds` for the server certificate and the client CAs.
fn record_certificate_expiry(files: &tls::TlsFiles) {
    for (name, path) in [
        ("tls.cert", &files.cert),
        ("tls.client_ca", &files.client_ca),
    ] {
        if let Some(seconds) = tls::seconds_until_expiry(path) {
            crate::metrics::global().certificate_expiry(name, seconds);
        }
    }
}

/// Opens the configured store, applying migrations.
pub fn open_store(settings: &StoreSettings) -> Result<Stores, StartError> {
    match settings {
        StoreSettings::Sqlite { file, tuning } => {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StartError::Other(format!(
                        "cannot create data directory {}: {e}",
                        dir.display()
                    ))
                })?;
            }
            Ok(Stores::direct(Arc::new(SqliteStore::open_tuned(
                file, *tuning,
            )?)))
        }
        StoreSettings::Postgresql { url, pool_size, ca } => Ok(Stores::direct(Arc::new(
            crate::store::postgres::PostgresStore::open(url, *pool_size, ca.as_deref())?,
        ))),
    }
}

/// Opens the store for `pu-adapter audit`: journal and index read as one, so records a
/// server journaled but has not indexed yet (or a crash left unindexed) are indexed first.
/// A running server keeps its journal; nothing is indexed twice.
pub fn open_for_audit(config: &Config) -> Result<Stores, StartError> {
    let stores = open_store(&config.store_settings()?)?;
    let indexed =
        crate::store::journal::index_pending(&config.audit_journal_dir(), stores.audit.as_ref())?;
    if indexed > 0 {
        tracing::info!(indexed, "audit journal records indexed before the query");
    }
    Ok(stores)
}

/// Starts the SOAP and admin listeners.
pub async fn start(config: &Config) -> Result<Running, StartError> {
    let settings = config.settings()?;
    // Before the store opens: a start refused for its TLS material must not touch the data.
    let tls_config = tls::server_config(&settings.tls)?;
    // The PostgreSQL client runs its own runtime: it must be opened off the async threads.
    let store_settings = settings.store.clone();
    let journal_dir = settings.audit_journal.clone();
    // Replaying the journal indexes what a crash left unindexed before the first request.
    let stores = tokio::task::spawn_blocking(move || {
        let opened = open_store(&store_settings)?;
        Ok::<_, StartError>(Stores {
            persons: opened.persons,
            audit: Arc::new(Journal::open(&journal_dir, opened.audit)?),
        })
    })
    .await
    .map_err(|e| StartError::Other(e.to_string()))??;
    if settings.load_demo {
        let s = stores.persons.clone();
        let policy = settings.service.identifiers.clone();
        let loaded = tokio::task::spawn_blocking(move || crate::demo::load(s.as_ref(), &policy))
            .await
            .map_err(|e| StartError::Other(e.to_string()))??;
        match loaded {
            crate::demo::DemoLoad::Loaded(summary) => {
                tracing::info!(
                    inserted = summary.inserted,
                    "empty store: demo persons loaded"
                );
            }
            crate::demo::DemoLoad::Skipped { persons } => tracing::info!(
                persons,
                "the store already holds a population: demo persons not loaded, nothing changed"
            ),
        }
    }
    let metrics = crate::metrics::global();
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| StartError::Bind(settings.listen.clone(), e))?;
    record_certificate_expiry(&settings.tls);
    let state = Arc::new(AppState {
        tls: arc_swap::ArcSwap::new(tls_config),
        service: Arc::new(
            Service::new(settings.service.clone(), stores.clone())
                .with_control(control_plane(&config.control)),
        ),
        limits: settings.http,
        platform_ids: settings.platform_hsa_ids.clone(),
        public_url: settings.public_url.clone(),
        metrics,
        limiter: Arc::new(crate::transport::limiter::Limiter::new(
            settings.http.caps(),
        )),
    });
    let server =
        serve(listener, state.clone()).map_err(|e| StartError::Bind(settings.listen.clone(), e))?;
    let admin_addr = if let Some(admin_listen) = &settings.admin_listen {
        let admin = tokio::net::TcpListener::bind(admin_listen)
            .await
            .map_err(|e| StartError::Bind(admin_listen.clone(), e))?;
        let addr = admin.local_addr().ok();
        let served = Arc::new(admin::Admin {
            metrics,
            store: stores.persons.clone(),
            service: state.service.clone(),
            policy: settings.service.identifiers.clone(),
            token: config.control.token.clone(),
        });
        tokio::spawn(admin::serve(admin, served));
        addr
    } else {
        None
    };
    Ok(Running {
        server,
        admin_addr,
        stores,
        state,
    })
}

/// The control plane the configuration asks for (off unless `[control] enabled`).
fn control_plane(control: &crate::config::ControlConfig) -> crate::service::control::Control {
    use crate::service::control::{CallLogBodies, Control};
    if !control.enabled {
        return Control::disabled();
    }
    let bodies = if control.journal_personal_data {
        CallLogBodies::Kept
    } else {
        CallLogBodies::Withheld
    };
    Control::keeping(bodies, control.journal_size)
}
