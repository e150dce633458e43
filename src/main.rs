//! The `pu-adapter` command: serve, import, audit, dev-certs, conformance.

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use pu_adapter::audit::AuditQuery;
use pu_adapter::config::{Config, LogFormat};
use pu_adapter::domain::IdentifierPolicy;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pu-adapter",
    version,
    about = "SOAP/RIVTA producer of the PU contact-information contracts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// TOML configuration file; without it the development defaults apply (certs-dev/, demo persons, dev consumers).
    #[arg(long, env = "PU_ADAPTER_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the SQLite database (overrides data_dir).
    #[arg(long, env = "PU_ADAPTER_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the service (SOAP over mutual TLS, admin /health and /metrics).
    Serve {
        #[command(flatten)]
        common: Common,
        /// SOAP listener address, e.g. 127.0.0.1:8443 (overrides listen).
        #[arg(long, env = "PU_ADAPTER_LISTEN")]
        listen: Option<String>,
        /// Admin listener address; "" disables it (overrides admin_listen).
        #[arg(long)]
        admin_listen: Option<String>,
        /// Log format: text or json (overrides log_format).
        #[arg(long, value_parser = parse_log_format)]
        log_format: Option<LogFormat>,
        /// Do not load the demo persons.
        #[arg(long)]
        no_demo: bool,
        /// A throw-away SQLite store in a temporary directory, removed at exit (staging,
        /// test suites); the demo persons are loaded into it unless --no-demo.
        #[arg(long)]
        ephemeral: bool,
    },
    /// Import population data from a JSON Lines file (see README, "Population import").
    Import {
        #[command(flatten)]
        common: Common,
        /// The JSON Lines file.
        file: PathBuf,
    },
    /// List audit entries (AC-2), e.g. every access to one person.
    Audit {
        #[command(flatten)]
        common: Common,
        /// Person: 12-digit personnummer/samordningsnummer, or root:extension.
        #[arg(long)]
        person: Option<String>,
        /// Only this consumer HSA-id.
        #[arg(long)]
        consumer: Option<String>,
        /// From this time (RFC 3339 with any offset, e.g. 2026-11-01T00:00:00Z).
        #[arg(long, value_parser = parse_time)]
        since: Option<DateTime<Utc>>,
        /// Until this time (RFC 3339, exclusive).
        #[arg(long, value_parser = parse_time)]
        until: Option<DateTime<Utc>>,
        /// JSON Lines output.
        #[arg(long)]
        json: bool,
    },
    /// Check a configuration (TLS files, key and certificate, CA, expiry, store) and print
    /// the effective configuration with secrets redacted; exit 1 on any problem.
    CheckConfig {
        #[command(flatten)]
        common: Common,
    },
    /// Run the contract conformance cases against a producer of these contracts (mutual TLS).
    ///
    /// Prints one line per case (PASS/FAIL/SKIP) and the totals, optionally JUnit XML. Exit 0
    /// when all pass, 1 when any fails, 2 when nothing could run (usage, certificates,
    /// connection).
    Conformance {
        #[command(flatten)]
        options: Box<pu_conformance::Options>,
    },
    /// The consumer integration report of a running server (its admin listener, control
    /// API enabled): findings per rule as text, JSON or JUnit; exit 1 when a rule was broken.
    Report {
        #[command(flatten)]
        options: Box<pu_adapter::report::Options>,
    },
    /// Regenerate the development certificates (development only, never production).
    DevCerts {
        /// Output directory.
        #[arg(long, default_value = "certs-dev")]
        out: PathBuf,
        /// Extra host names or addresses the server certificate is valid for (e.g. the
        /// service name in a compose file).
        #[arg(long, num_args = 1..)]
        san: Vec<String>,
    },
}

fn load_config(common: &Common) -> Result<Config, String> {
    let base = if common.config.is_some() {
        Config::default()
    } else {
        Config::development()
    };
    let mut config = Config::load(base, common.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(d) = &common.data_dir {
        config.data_dir = d.clone();
    }
    Ok(config)
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    match s {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("{other:?} is not text or json")),
    }
}

/// Logs go to stderr from a thread of their own, on a timer (`log_writer`). The guard
/// writes what is buffered at exit.
fn init_logging(format: LogFormat) -> Result<pu_adapter::log_writer::FlushGuard, String> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PU_ADAPTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let (writer, guard) = pu_adapter::log_writer::buffered(std::io::stderr())
        .map_err(|e| format!("cannot start the log writer: {e}"))?;
    // Colour codes only for a person at a terminal: journald and log files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    if format == LogFormat::Json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
    Ok(guard)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pu-adapter: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Serve {
            common,
            listen,
            admin_listen,
            log_format,
            no_demo,
            ephemeral,
        } => {
            let mut config = load_config(&common)?;
            if let Some(l) = listen {
                config.listen = l;
            }
            if let Some(a) = admin_listen {
                config.admin_listen = a;
            }
            if let Some(f) = log_format {
                config.log_format = f;
            }
            if no_demo {
                config.load_demo = false;
            }
            let _log = init_logging(config.log_format)?;
            // Kept until serve returns: dropping it removes the throw-away store.
            let _throwaway = if ephemeral {
                Some(use_throwaway_store(&mut config)?)
            } else {
                None
            };
            // SIGHUP reads the same layers again (file, environment) for what a reload covers.
            let reread = move || load_config(&common);
            serve(config, reread)
        }
        Command::Import { common, file } => {
            let config = load_config(&common)?;
            let _log = init_logging(config.log_format)?;
            import(&config, &file)
        }
        Command::Audit {
            common,
            person,
            consumer,
            since,
            until,
            json,
        } => {
            let config = load_config(&common)?;
            let query = AuditQuery {
                person: None,
                consumer,
                since,
                until,
                limit: None,
            };
            audit(&config, person.as_deref(), query, json)
        }
        Command::CheckConfig { common } => {
            let config = load_config(&common)?;
            let report = pu_adapter::check::check(&config);
            println!("{}", report.effective);
            for fact in &report.facts {
                println!("# {fact}");
            }
            for problem in &report.problems {
                eprintln!("problem: {problem}");
            }
            Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Conformance { options } => Ok(conformance(&options)),
        Command::Report { options } => Ok(pu_adapter::report::run(&options)),
        Command::DevCerts { out, san } => {
            pu_adapter::devcerts::generate_with_names(&out, &san).map_err(|e| e.to_string())?;
            println!(
                "wrote development certificates to {} (for development and tests only)",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs the conformance cases, printing each line as it completes; errors that stop the
/// whole run exit with 2, distinct from failed cases (1).
fn conformance(options: &pu_conformance::Options) -> ExitCode {
    println!("conformance of {} ...", options.url);
    match pu_conformance::run(options, |case| println!("{}", case.line())) {
        Ok(report) => {
            println!("{}", report.totals());
            if let Some(file) = &options.junit {
                println!("JUnit XML written to {}", file.display());
            }
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("pu-adapter conformance: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(
    config: Config,
    reread: impl Fn() -> Result<Config, String> + Send + 'static,
) -> Result<ExitCode, String> {
    // Updates run on blocking threads (SQLite commits); a cap keeps a connection flood from becoming
    // hundreds of parked threads: excess requests queue instead.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        // Before the listener opens: SIGHUP's default action would end the process.
        let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let running = pu_adapter::app::start(&config).await.map_err(|e| e.to_string())?;
        tracing::info!(address = %running.server.local_addr, admin = ?running.admin_addr, store = running.stores.persons.kind().as_str(), "pu-adapter listening (mutual TLS)");
        eprintln!(
            "pu-adapter listening on https://{} (admin http://{})",
            running.server.local_addr,
            running.admin_addr.map_or("-".to_owned(), |a| a.to_string())
        );
        let running = std::sync::Arc::new(running);
        let reloads = tokio::spawn(reload_on_sighup(running.clone(), reread, hup));
        wait_for_shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        // Orchestrators stop routing here before the listener closes.
        pu_adapter::metrics::global().health().start_draining();
        reloads.abort();
        let _ = reloads.await;
        match std::sync::Arc::try_unwrap(running) {
            Ok(running) => running.server.shutdown().await,
            Err(_) => tracing::warn!("a reload was still running at shutdown"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `--ephemeral`: the SQLite store goes to a new temporary directory, removed when it drops.
fn use_throwaway_store(config: &mut Config) -> Result<tempfile::TempDir, String> {
    if config.store.kind != pu_adapter::store::StoreKind::Sqlite {
        return Err("--ephemeral needs the SQLite store (store.kind = \"sqlite\")".into());
    }
    let dir = tempfile::Builder::new()
        .prefix("pu-adapter-ephemeral-")
        .tempdir()
        .map_err(|e| format!("--ephemeral: cannot create a temporary directory: {e}"))?;
    config.data_dir = dir.path().to_owned();
    config.store.sqlite_file = None;
    config.store.audit_journal = None;
    eprintln!(
        "pu-adapter: ephemeral store in {} (removed at exit)",
        dir.path().display()
    );
    Ok(dir)
}

/// Each SIGHUP re-reads certificates, CA, CRLs, consumers and rules; a failed reload keeps
/// the running configuration and logs why.
async fn reload_on_sighup(
    running: std::sync::Arc<pu_adapter::app::Running>,
    reread: impl Fn() -> Result<Config, String>,
    hup: Option<tokio::signal::unix::Signal>,
) {
    #[cfg(unix)]
    {
        let Some(mut hup) = hup else {
            tracing::warn!("SIGHUP cannot be handled: reload by restarting");
            return;
        };
        while hup.recv().await.is_some() {
            match reread().and_then(|config| running.reload(&config).map_err(|e| e.to_string())) {
                Ok(()) => tracing::info!("reloaded: certificates, CA, CRLs, consumers and rules"),
                Err(e) => {
                    tracing::error!(error = %e, "reload failed: the running configuration is kept");
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (running, reread);
}

async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn import(config: &Config, file: &PathBuf) -> Result<ExitCode, String> {
    let store = pu_adapter::app::open_store(&config.store_settings().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let size = std::fs::metadata(file)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .len();
    let reader = std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?,
    );
    let bar = ProgressBar::new(size.max(1));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent}% {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let policy = IdentifierPolicy {
        reserve_roots: config.rules.reserve_roots.clone(),
    };
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = CountingReader {
        inner: reader,
        count: counted.clone(),
    };
    let started = std::time::Instant::now();
    let summary = pu_adapter::import::import(reader, store.persons.as_ref(), &policy, |line| {
        bar.set_position(counted.load(std::sync::atomic::Ordering::Relaxed));
        bar.set_message(format!("{line} lines"));
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    for (line, reason) in &summary.rejected {
        eprintln!("line {line}: rejected: {reason}");
    }
    println!(
        "imported in {:.1}s: {} inserted, {} updated, {} rejected",
        started.elapsed().as_secs_f64(),
        summary.inserted,
        summary.updated,
        summary.rejected.len()
    );
    if summary.contacts_seeded > 0 {
        println!(
            "contact information entered for {} persons",
            summary.contacts_seeded
        );
    }
    match &summary.scrub {
        pu_adapter::import::Scrub::NothingRemoved => {}
        pu_adapter::import::Scrub::Done(took) => println!(
            "removed values scrubbed from every store file in {:.1}s",
            took.as_secs_f64()
        ),
        pu_adapter::import::Scrub::Incomplete(e) => {
            // ERROR: the person's erased values are still readable in the files (CO-2).
            tracing::error!(error = %e, "removed values are still in the store's files");
            eprintln!("scrub incomplete: {e}");
            return Ok(ExitCode::from(3));
        }
    }
    Ok(if summary.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Counts bytes read, for the progress bar.
struct CountingReader<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: std::io::BufRead> std::io::BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.count
            .fetch_add(amt as u64, std::sync::atomic::Ordering::Relaxed);
        self.inner.consume(amt);
    }
}

fn audit(
    config: &Config,
    person: Option<&str>,
    mut query: AuditQuery,
    json: bool,
) -> Result<ExitCode, String> {
    let store = pu_adapter::app::open_for_audit(config).map_err(|e| e.to_string())?;
    let policy = IdentifierPolicy {
        reserve_roots: config.rules.reserve_roots.clone(),
    };
    query.person = person
        .map(|p| {
            if p.contains(':') {
                Ok(p.to_owned())
            } else {
                policy
                    .parse_number(p)
                    .map(|id| id.key())
                    .map_err(|e| format!("--person: {e}"))
            }
        })
        .transpose()?;
    let entries = store.audit.query(&query).map_err(|e| e.to_string())?;
    for e in &entries {
        if json {
            println!("{}", serde_json::to_string(e).map_err(|e| e.to_string())?);
        } else {
            println!(
                "{}  {:<44} {:<12} {:<20} {:<24} {:<6} {:<28} corr={}",
                pu_adapter::audit::stored_time(e.at),
                e.contract.as_str(),
                if e.unrestricted {
                    "UNRESTRICTED"
                } else {
                    "restricted"
                },
                e.consumer,
                e.person,
                e.outcome.as_str(),
                e.error_code.map_or("-", |c| c.as_str()),
                e.correlation_id
            );
        }
    }
    if !json {
        eprintln!("{} entries", entries.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// An RFC 3339 time with any offset, as UTC (so `+01:00` compares correctly with stored UTC).
fn parse_time(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&Utc)).map_err(|e| {
        format!("not an RFC 3339 time such as 2026-11-01T00:00:00Z or 2026-11-01T01:00:00+01:00 ({e})")
    })
}
