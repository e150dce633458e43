//! Accepted lines written as one batch: the persons, and each line's contact information
//! as a seed decided by the domain over whatever is stored and audited as the import.

use super::line::{Accepted, SEED_ACCESS};
use crate::audit::{AuditEntry, Caller, Source};
use crate::domain::update::{apply_update, ValidatedUpdate};
use crate::domain::{ContactRecord, Person, PersonId, Violation};
use crate::store::{ContactUpdate, Replaced, StoreError, IMPORT_CONSUMER};

/// Hands `write` the persons of `accepted` and, for each line that carried contact
/// information, its seed: the update over whatever is stored, audited as the import.
pub(super) fn write_batch(
    accepted: Vec<Accepted>,
    write: impl FnOnce(&[Person], Vec<ContactUpdate<'_>>) -> Result<Replaced, StoreError>,
) -> Result<Replaced, StoreError> {
    let now = chrono::Utc::now();
    let mut persons = Vec::with_capacity(accepted.len());
    let mut updates = Vec::new();
    for Accepted { person, contacts } in accepted {
        if let Some(update) = contacts {
            let audit = AuditEntry::now(&IMPORT_CALLER, person.id.key());
            updates.push((person.id.clone(), update, audit));
        }
        persons.push(person);
    }
    let seeded: &[(PersonId, ValidatedUpdate, AuditEntry)] = &updates;
    let decisions: Vec<_> = seeded
        .iter()
        .map(|(_, update, _)| seed_decision(update, now))
        .collect();
    let seeds = seeded
        .iter()
        .zip(&decisions)
        .map(|((id, _, audit), decide)| ContactUpdate { id, decide, audit })
        .collect();
    write(&persons, seeds)
}

/// The import's caller in the audit trail.
const IMPORT_CALLER: Caller<'static> = Caller {
    consumer: IMPORT_CONSUMER,
    source: Source::Import,
    logical_address: "-",
    correlation_id: "-",
};

/// The domain's decision for a seed: `update` over whatever is stored, at `now`.
fn seed_decision(
    update: &ValidatedUpdate,
    now: chrono::DateTime<chrono::Utc>,
) -> impl Fn(Option<&Person>, Option<&ContactRecord>) -> Result<ContactRecord, Violation> + '_ {
    move |person, stored| {
        let mut update = update.clone();
        update.version_to_update = stored.map(|r| r.version.to_string());
        apply_update(update, person, stored, SEED_ACCESS, IMPORT_CONSUMER, now)
    }
}
