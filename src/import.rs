//! Population import (`pu-adapter import FILE`): JSON Lines of population-register data.
//! A line for an existing person replaces their population data, never their contact
//! information, unless the line carries contact information itself (seeding a staging
//! store): that is checked by exactly the rules of an update, and a line that breaks one
//! is rejected whole, naming the rule.
//!
//! This file holds the import's entry and its summary; the line format (`line`), its
//! errors (`error`), writing a batch (`batch`) and the reset (`reset`) are in `import/`.

mod batch;
mod error;
mod line;
mod reset;
#[cfg(test)]
mod tests;

pub use error::{Field, LineError, RecordProblem};
pub use reset::{reset, ResetFile};

use crate::domain::IdentifierPolicy;
use crate::store::{PersonStore, Replaced, Scrubbed, StoreError, Upserted};
use batch::write_batch;
use line::{parse_accepted, Accepted};
use std::io::BufRead;

/// Persons written per transaction.
const BATCH: usize = 5_000;

/// The outcome of an import.
#[derive(Debug, Default)]
pub struct ImportSummary {
    /// Persons not in the store before this import.
    pub inserted: u64,
    /// Persons whose population data was replaced.
    pub updated: u64,
    /// Rejected lines: (1-based line number, why).
    pub rejected: Vec<(u64, LineError)>,
    /// Persons whose contact information the import entered.
    pub contacts_seeded: u64,
    /// Whether the values the import removed (PR-4, PR-6 erasures, seeds replacing
    /// stored values) left every file of the store before it returned (CO-2).
    pub scrub: Scrub,
}

/// How long the import retries scrubbing removed values out of the store's files before
/// it reports failure: within CO-2's 10 s, with room for the last batch's commit.
pub const SCRUB_WITHIN: std::time::Duration = std::time::Duration::from_secs(8);

/// The import's scrub of removed values (CO-2).
#[derive(Debug, Default)]
pub enum Scrub {
    /// The import removed nothing.
    #[default]
    NothingRemoved,
    /// Every removed value left the store's files; it took this long.
    Done(std::time::Duration),
    /// A reader or a lock kept the scrub from finishing within SCRUB_WITHIN: the values
    /// are in no answer, but still in the files until the next scrub or checkpoint.
    Incomplete(StoreError),
}

impl ImportSummary {
    fn count(&mut self, upserted: Upserted) {
        match upserted {
            Upserted::Inserted => self.inserted += 1,
            Upserted::Updated => self.updated += 1,
        }
    }

    /// Counts what a batch stored. A seed refused by the store (a later line of the batch
    /// made the person protected or deceased) is in the audit trail, not counted here.
    fn add(&mut self, stored: Replaced) {
        stored.persons.into_iter().for_each(|u| self.count(u));
        self.contacts_seeded += stored.seeds.iter().filter(|s| s.is_ok()).count() as u64;
    }
}

/// Imports every line of `reader`; bad lines are reported and skipped, the rest stored.
pub fn import(
    reader: impl BufRead,
    store: &dyn PersonStore,
    policy: &IdentifierPolicy,
    mut progress: impl FnMut(u64),
) -> Result<ImportSummary, StoreError> {
    let mut summary = ImportSummary::default();
    let mut batch = Vec::with_capacity(BATCH);
    for (index, line) in reader.lines().enumerate() {
        let number = index as u64 + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                summary.rejected.push((number, LineError::Unreadable(e)));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_accepted(&line, policy) {
            Ok(p) => batch.push(p),
            Err(reason) => summary.rejected.push((number, reason)),
        }
        if batch.len() == BATCH {
            flush(store, &mut batch, &mut summary)?;
            progress(number);
        }
    }
    flush(store, &mut batch, &mut summary)?;
    summary.scrub = match store.scrub_removed(SCRUB_WITHIN) {
        Ok(Scrubbed::NothingRemoved) => Scrub::NothingRemoved,
        Ok(Scrubbed::Done(took)) => Scrub::Done(took),
        Err(e) => Scrub::Incomplete(e),
    };
    Ok(summary)
}

/// Writes a batch: its persons and their contact information in one transaction.
fn flush(
    store: &dyn PersonStore,
    batch: &mut Vec<Accepted>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    let stored = write_batch(std::mem::take(batch), |persons, seeds| {
        store.upsert_and_seed(persons, seeds)
    })?;
    summary.add(stored);
    Ok(())
}
