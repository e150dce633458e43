//! The `pu-adapter` command line: [`args`] turns the arguments into a typed [`Command`],
//! and each command is one function in a module of its own.

mod args;
mod audit;
mod check;
mod conformance;
mod dev_certs;
mod error;
mod import;
mod logging;
mod report;
mod serve;

pub(crate) use args::Command;
pub(crate) use error::{report, CliError, Finished};

/// Checks the arguments, then runs the command they name.
pub(crate) fn run(low: args::LowArgs) -> Result<Finished, CliError> {
    match Command::from_low(low)? {
        Command::Serve(args) => serve::serve(*args),
        Command::Import(args) => import::import(&args),
        Command::Audit(args) => audit::audit(&args),
        Command::CheckConfig(config) => Ok(check::check_config(&config)),
        Command::Conformance(options) => conformance::conformance(&options),
        Command::Report(options) => report::report(&options),
        Command::DevCerts(args) => dev_certs::dev_certs(&args),
    }
}
