//! `pu-adapter serve`: the runtime, the listeners, SIGHUP reloads and a graceful stop.

use super::args::{ConfigSource, ServeArgs, StoreLifetime};
use super::logging::init_logging;
use super::{CliError, Finished};
use pu_adapter::app::Running;
use pu_adapter::config::Config;
use std::sync::Arc;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub(crate) fn serve(args: ServeArgs) -> Result<Finished, CliError> {
    let ServeArgs {
        source,
        mut config,
        store,
    } = args;
    let _log = init_logging(config.log_format)?;
    // Kept until serve returns: dropping it removes the throw-away store.
    let _throwaway = match store {
        StoreLifetime::Ephemeral => Some(use_throwaway_store(&mut config)?),
        StoreLifetime::Configured => None,
    };
    // Updates run on blocking threads (SQLite commits); a cap keeps a connection flood from
    // becoming hundreds of parked threads: excess requests queue instead.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(run_until_signalled(config, source))
}

async fn run_until_signalled(config: Config, source: ConfigSource) -> Result<Finished, CliError> {
    // Before the listener opens: SIGHUP's default action would end the process.
    let hup = signal(SignalKind::hangup()).ok();
    let running = pu_adapter::app::start(&config).await?;
    tracing::info!(address = %running.server.local_addr, admin = ?running.admin_addr, store = running.stores.persons.kind().as_str(), "pu-adapter listening (mutual TLS)");
    eprintln!(
        "pu-adapter listening on https://{} (admin http://{})",
        running.server.local_addr,
        running.admin_addr.map_or("-".to_owned(), |a| a.to_string())
    );
    let running = Arc::new(running);
    let reloads = tokio::spawn(reload_on_sighup(running.clone(), source, hup));
    wait_for_shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    // Orchestrators stop routing here before the listener closes.
    pu_adapter::metrics::global().health().start_draining();
    reloads.abort();
    let _ = reloads.await;
    match Arc::try_unwrap(running) {
        Ok(running) => running.server.shutdown().await,
        Err(_) => tracing::warn!("a reload was still running at shutdown"),
    }
    Ok(Finished::Clean)
}

/// `--ephemeral`: the SQLite store goes to a new temporary directory, removed when it drops.
fn use_throwaway_store(config: &mut Config) -> Result<tempfile::TempDir, CliError> {
    if config.store.kind != pu_adapter::store::StoreKind::Sqlite {
        return Err(CliError::EphemeralNeedsSqlite);
    }
    let dir = tempfile::Builder::new()
        .prefix("pu-adapter-ephemeral-")
        .tempdir()
        .map_err(CliError::EphemeralDir)?;
    config.data_dir = dir.path().to_owned();
    config.store.sqlite_file = None;
    config.store.audit_journal = None;
    eprintln!(
        "pu-adapter: ephemeral store in {} (removed at exit)",
        dir.path().display()
    );
    Ok(dir)
}

/// Each SIGHUP re-reads the same layers (file, environment) for certificates, CA, CRLs,
/// consumers and rules; a failed reload keeps the running configuration and logs why.
async fn reload_on_sighup(running: Arc<Running>, source: ConfigSource, hup: Option<Signal>) {
    let Some(mut hup) = hup else {
        tracing::warn!("SIGHUP cannot be handled: reload by restarting");
        return;
    };
    while hup.recv().await.is_some() {
        match reload(&running, &source) {
            Ok(()) => tracing::info!("reloaded: certificates, CA, CRLs, consumers and rules"),
            Err(e) => {
                tracing::error!(error = %e, "reload failed: the running configuration is kept");
            }
        }
    }
}

fn reload(running: &Running, source: &ConfigSource) -> Result<(), CliError> {
    let config = source.load()?;
    running.reload(&config)?;
    Ok(())
}

async fn wait_for_shutdown_signal() {
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}
