//! The `pu-adapter` command: serve, import, audit, check-config, conformance, dev-certs
//! (one module each under `cli/`).

mod cli;

use std::process::ExitCode;

/// Prints a failure with its causes, one a line, and exits with the code its kind gives.
fn main() -> ExitCode {
    match cli::run(cli::Command::parse()) {
        Ok(finished) => finished.exit_code(),
        Err(error) => {
            eprintln!("{}", cli::report(&error));
            error.exit_code()
        }
    }
}
