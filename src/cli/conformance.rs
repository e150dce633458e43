//! `pu-adapter conformance URL`.

use super::{CliError, Finished};
use pu_conformance::Options;

/// Runs the conformance cases, printing each line as it completes. A failed case fails the
/// command (exit 1); an error that stops the whole run is a [`CliError::Conformance`] (2).
pub(crate) fn conformance(options: &Options) -> Result<Finished, CliError> {
    println!("conformance of {} ...", options.url);
    let report = pu_conformance::run(options, |case| println!("{}", case.line()))
        .map_err(CliError::Conformance)?;
    println!("{}", report.totals());
    if let Some(file) = &options.junit {
        println!("JUnit XML written to {}", file.display());
    }
    Ok(if report.passed() {
        Finished::Clean
    } else {
        Finished::ProblemsFound
    })
}
