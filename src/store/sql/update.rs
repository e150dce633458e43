//! The update algorithm: one person's contact information decided, written and audited
//! inside one write transaction.

use super::audit_index::insert_audit;
use super::connection::Sql;
use super::read::read_state_for_update;
use super::rows::contact_values;
use super::statements::UPSERT_CONTACTS;
use crate::domain::Violation;
use crate::store::codec::ContactRow;
use crate::store::{ContactUpdate, PersonState, StoreError};

/// The update algorithm, inside one write transaction: read with the row lock, decide,
/// write the new record and its audit entry, or only the refusal's audit entry.
pub(crate) fn update_contacts(
    tx: &mut dyn Sql,
    ContactUpdate { id, decide, audit }: ContactUpdate<'_>,
) -> Result<(Result<PersonState, Violation>, bool), StoreError> {
    let key = id.key();
    let state = read_state_for_update(tx, &key)?;
    match (
        decide(
            state.as_ref().map(|s| &s.person),
            state.as_ref().and_then(|s| s.contacts.as_ref()),
        ),
        state,
    ) {
        (Ok(record), Some(state)) => {
            write_contacts(tx, &key, &ContactRow::from_record(&record))?;
            insert_audit(tx, &audit.decided(None))?;
            // A value stored before and not now: its bytes must be scrubbed from the files (CO-2).
            let removed = state
                .contacts
                .as_ref()
                .is_some_and(|old| old.entries.iter().any(|e| !record.entries.contains(e)));
            Ok((
                Ok(PersonState {
                    person: state.person,
                    contacts: Some(record),
                }),
                removed,
            ))
        }
        (Ok(_), None) => Err(StoreError::Invariant(
            "the domain accepted an update of an unknown person",
        )),
        (Err(violation), _) => {
            insert_audit(tx, &audit.decided(Some(&violation)))?;
            Ok((Err(violation), false))
        }
    }
}

fn write_contacts(db: &mut dyn Sql, key: &str, row: &ContactRow) -> Result<(), StoreError> {
    db.execute(&UPSERT_CONTACTS, &contact_values(key, row))?;
    Ok(())
}
