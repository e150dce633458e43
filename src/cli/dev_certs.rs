//! `pu-adapter dev-certs`.

use super::args::DevCertsArgs;
use super::{CliError, Finished};

/// Writes a new development PKI (never for production).
pub(crate) fn dev_certs(args: &DevCertsArgs) -> Result<Finished, CliError> {
    pu_adapter::devcerts::generate_with_names(&args.out, &args.extra_names)?;
    println!(
        "wrote development certificates to {} (for development and tests only)",
        args.out.display()
    );
    Ok(Finished::Clean)
}
