//! Logging for the commands that run long enough to log.

use super::CliError;
use pu_adapter::config::LogFormat;
use pu_adapter::log_writer::FlushGuard;

/// Logs go to stderr from a thread of their own, on a timer (`log_writer`). The guard
/// writes what is buffered at exit.
pub(crate) fn init_logging(format: LogFormat) -> Result<FlushGuard, CliError> {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("PU_ADAPTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) =
        pu_adapter::log_writer::buffered(std::io::stderr()).map_err(CliError::LogWriter)?;
    // Colour codes only for a person at a terminal: journald and log files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
    Ok(guard)
}
