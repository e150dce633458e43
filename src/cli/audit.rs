//! `pu-adapter audit`: the audit entries of a query, as a table or JSON Lines (AC-2).

use super::args::{AuditArgs, AuditFormat};
use super::{CliError, Finished};
use pu_adapter::audit::AuditEntry;

/// Prints the entries the query selects; the table also counts them on stderr.
pub(crate) fn audit(args: &AuditArgs) -> Result<Finished, CliError> {
    let store = pu_adapter::app::open_for_audit(&args.config)?;
    let entries = store.audit.query(&args.query)?;
    match args.format {
        AuditFormat::JsonLines => {
            for entry in &entries {
                println!("{}", serde_json::to_string(entry).map_err(CliError::Json)?);
            }
        }
        AuditFormat::Table => {
            for entry in &entries {
                println!("{}", table_row(entry));
            }
            eprintln!("{} entries", entries.len());
        }
    }
    Ok(Finished::Clean)
}

/// One entry in fixed-width columns, so a person's accesses line up by contract and consumer.
fn table_row(e: &AuditEntry) -> String {
    format!(
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
    )
}
