//! The command line in two stages, as ripgrep does: clap parses the raw arguments
//! ([`LowArgs`]), then [`Command::from_low`] loads the configuration and checks every value
//! once, so the commands receive typed values and never re-validate a string.

use super::error::CliError;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use pu_adapter::audit::AuditQuery;
use pu_adapter::config::{Config, ConfigError, LogFormat};
use pu_adapter::domain::IdentifierPolicy;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pu-adapter",
    version,
    about = "SOAP/RIVTA producer of the PU contact-information contracts"
)]
pub(crate) struct LowArgs {
    #[command(subcommand)]
    command: LowCommand,
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
enum LowCommand {
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
    /// Import population data from a JSON Lines file (format: docs/import.md).
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
        /// One JSON object per line instead of a table.
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
        /// Directory the CA, server and client certificates and keys are written to.
        #[arg(long, default_value = "certs-dev")]
        out: PathBuf,
        /// Extra host names or addresses the server certificate is valid for (e.g. the
        /// service name in a compose file).
        #[arg(long, num_args = 1..)]
        san: Vec<String>,
    },
}

/// Where the configuration comes from: the file (or the development defaults) and the
/// environment, then `--data-dir`. Kept by `serve`, which reads it again on SIGHUP.
#[derive(Clone)]
pub(crate) struct ConfigSource {
    file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
}

impl From<Common> for ConfigSource {
    fn from(common: Common) -> Self {
        Self {
            file: common.config,
            data_dir: common.data_dir,
        }
    }
}

impl ConfigSource {
    /// Reads every layer; without a file the development defaults are the base.
    pub(crate) fn load(&self) -> Result<Config, ConfigError> {
        let base = if self.file.is_some() {
            Config::default()
        } else {
            Config::development()
        };
        let mut config = Config::load(base, self.file.as_deref())?;
        if let Some(dir) = &self.data_dir {
            config.data_dir.clone_from(dir);
        }
        Ok(config)
    }
}

/// `serve`: the configuration with the command line's overrides applied.
pub(crate) struct ServeArgs {
    pub(crate) source: ConfigSource,
    pub(crate) config: Config,
    pub(crate) store: StoreLifetime,
}

/// Whether the store outlives the process.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreLifetime {
    Configured,
    /// `--ephemeral`: a throw-away SQLite store removed at exit.
    Ephemeral,
}

/// `import FILE`.
pub(crate) struct ImportArgs {
    pub(crate) config: Config,
    pub(crate) file: PathBuf,
}

/// `audit`: the query with `--person` already parsed into its stored key.
pub(crate) struct AuditArgs {
    pub(crate) config: Config,
    pub(crate) query: AuditQuery,
    pub(crate) format: AuditFormat,
}

/// How `audit` prints its entries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuditFormat {
    /// Aligned columns for a person, with the count on stderr.
    Table,
    /// One JSON object per line.
    JsonLines,
}

pub(crate) struct DevCertsArgs {
    pub(crate) out: PathBuf,
    pub(crate) extra_names: Vec<String>,
}

/// A command with its arguments checked.
pub(crate) enum Command {
    Serve(Box<ServeArgs>),
    Import(Box<ImportArgs>),
    Audit(Box<AuditArgs>),
    CheckConfig(Box<Config>),
    Conformance(Box<pu_conformance::Options>),
    Report(Box<pu_adapter::report::Options>),
    DevCerts(DevCertsArgs),
}

impl Command {
    /// Parses the process's arguments; clap exits on `--help` and on usage errors.
    pub(crate) fn parse() -> LowArgs {
        LowArgs::parse()
    }

    /// Loads the configuration and checks the values that need it.
    pub(crate) fn from_low(low: LowArgs) -> Result<Self, CliError> {
        Ok(match low.command {
            LowCommand::Serve {
                common,
                listen,
                admin_listen,
                log_format,
                no_demo,
                ephemeral,
            } => {
                let source = ConfigSource::from(common);
                let mut config = source.load()?;
                if let Some(listen) = listen {
                    config.listen = listen;
                }
                if let Some(admin) = admin_listen {
                    config.admin_listen = admin;
                }
                if let Some(format) = log_format {
                    config.log_format = format;
                }
                if no_demo {
                    config.load_demo = false;
                }
                let store = if ephemeral {
                    StoreLifetime::Ephemeral
                } else {
                    StoreLifetime::Configured
                };
                Self::Serve(Box::new(ServeArgs {
                    source,
                    config,
                    store,
                }))
            }
            LowCommand::Import { common, file } => Self::Import(Box::new(ImportArgs {
                config: ConfigSource::from(common).load()?,
                file,
            })),
            LowCommand::Audit {
                common,
                person,
                consumer,
                since,
                until,
                json,
            } => {
                let config = ConfigSource::from(common).load()?;
                let person = person.map(|p| person_key(&config, &p)).transpose()?;
                let query = AuditQuery {
                    person,
                    consumer,
                    since,
                    until,
                    limit: None,
                };
                let format = if json {
                    AuditFormat::JsonLines
                } else {
                    AuditFormat::Table
                };
                Self::Audit(Box::new(AuditArgs {
                    config,
                    query,
                    format,
                }))
            }
            LowCommand::CheckConfig { common } => {
                Self::CheckConfig(Box::new(ConfigSource::from(common).load()?))
            }
            LowCommand::Conformance { options } => Self::Conformance(options),
            LowCommand::Report { options } => Self::Report(options),
            LowCommand::DevCerts { out, san } => Self::DevCerts(DevCertsArgs {
                out,
                extra_names: san,
            }),
        })
    }
}

/// `--person`: a `root:extension` key as given, or a 12-digit number checked and turned
/// into its key (a samordningsnummer gets its own root).
fn person_key(config: &Config, person: &str) -> Result<String, CliError> {
    if person.contains(':') {
        return Ok(person.to_owned());
    }
    let policy = IdentifierPolicy {
        reserve_roots: config.rules.reserve_roots.clone(),
    };
    policy
        .parse_number(person)
        .map(|id| id.key())
        .map_err(CliError::Person)
}

/// `--log-format` names neither format.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not text or json")]
struct UnknownLogFormat(String);

fn parse_log_format(s: &str) -> Result<LogFormat, UnknownLogFormat> {
    match s {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(UnknownLogFormat(other.to_owned())),
    }
}

/// `--since`/`--until` is not an RFC 3339 time.
#[derive(Debug, thiserror::Error)]
#[error("not an RFC 3339 time such as 2026-11-01T00:00:00Z or 2026-11-01T01:00:00+01:00 ({0})")]
struct NotATime(chrono::ParseError);

/// An RFC 3339 time with any offset, as UTC (so `+01:00` compares correctly with stored UTC).
fn parse_time(value: &str) -> Result<DateTime<Utc>, NotATime> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(NotATime)
}
