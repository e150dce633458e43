//! `pu-adapter report`.

use super::{CliError, Finished};
use pu_adapter::report::{fetch_and_print, Options};

/// Prints the consumer report of a running server; findings (a rule broken) fail the
/// command, so a consumer's CI can gate on it.
pub(crate) fn report(options: &Options) -> Result<Finished, CliError> {
    let report = fetch_and_print(options).map_err(CliError::Report)?;
    Ok(if report.is_clean() {
        Finished::Clean
    } else {
        Finished::ProblemsFound
    })
}
