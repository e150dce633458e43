//! Quarantine: a record the index refuses as data is kept in `quarantine.jsonl` (synced),
//! so one bad record does not stop the trail and is never dropped unseen.

use crate::audit::AuditEntry;
use crate::store::StoreError;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Appends a record the index refused to `quarantine.jsonl` (synced), and says so at ERROR.
pub(super) fn quarantine(
    dir: &Path,
    (seq, entry): &(u64, AuditEntry),
    why: &StoreError,
) -> Result<(), StoreError> {
    use std::io::Write as _;
    let path = dir.join("quarantine.jsonl");
    let line = serde_json::json!({ "sequence": seq, "reason": why.to_string(), "entry": entry });
    let io = |source| StoreError::Journal {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .map_err(io)?;
    writeln!(file, "{line}").map_err(io)?;
    file.sync_data().map_err(io)?;
    tracing::error!(sequence = seq, error = %why, file = %path.display(), "the audit index refused a journal record; it is kept in the quarantine file");
    Ok(())
}

#[cfg(test)]
mod tests;
