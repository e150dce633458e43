//! Reads: the person answering for an id with their contact record (in one statement, or
//! under the row lock an update needs), a batch's persons and contact records, the count.

use super::connection::{first, Sql, Value};
use super::rows::{contact_row, into_state, person_row, person_with_contacts};
use super::statements::{
    for_rows, in_blocks, placeholder_list, CONTACTS_BY_KEYS, CONTACT_BY_KEY, PERSON_COLUMNS,
    RESOLVED_PERSON,
};
use crate::domain::PersonId;
use crate::store::codec::ContactRow;
use crate::store::{PersonState, StoreError};

/// Reads a person and their contact record under the row lock an update needs.
pub(super) fn read_state_for_update(
    db: &mut dyn Sql,
    key: &str,
) -> Result<Option<PersonState>, StoreError> {
    let person_sql = format!(
        "SELECT {} FROM persons WHERE person_key = $1{}",
        PERSON_COLUMNS.join(", "),
        db.dialect().for_update()
    );
    let Some(person) = first(db, &person_sql, &[Value::Text(key)], person_row)? else {
        return Ok(None);
    };
    let contacts = first(db, &CONTACT_BY_KEY, &[Value::Text(key)], contact_row)?;
    Ok(Some(PersonState {
        person: person.into_person()?,
        contacts: contacts.map(ContactRow::into_record).transpose()?,
    }))
}

/// The state of the person answering for `id`: its alias target when `follow_aliases`.
pub(crate) fn read_resolved(
    db: &mut dyn Sql,
    id: &PersonId,
    follow_aliases: bool,
) -> Result<Option<PersonState>, StoreError> {
    let key = id.key();
    first(
        db,
        &RESOLVED_PERSON,
        &[Value::Text(&key), Value::Bool(follow_aliases)],
        person_with_contacts,
    )?
    .map(into_state)
    .transpose()
}

/// The stored persons among `keys` (locked for the transaction where the dialect can).
pub(super) fn read_persons(
    db: &mut dyn Sql,
    keys: &[String],
) -> Result<std::collections::HashMap<String, crate::domain::Person>, StoreError> {
    let mut found = std::collections::HashMap::new();
    for block in in_blocks(keys) {
        let sql = format!(
            "SELECT {} FROM persons WHERE person_key IN ({}){}",
            PERSON_COLUMNS.join(", "),
            placeholder_list(block.len()),
            db.dialect().for_update()
        );
        let params: Vec<Value<'_>> = block.iter().map(|k| Value::Text(k)).collect();
        let mut rows = Vec::new();
        db.query(&sql, &params, &mut |r| {
            rows.push(person_row(r)?);
            Ok(())
        })?;
        for row in rows {
            found.insert(row.key.clone(), row.into_person()?);
        }
    }
    Ok(found)
}

/// The stored contact records among `keys`.
pub(super) fn read_contact_records(
    db: &mut dyn Sql,
    keys: &[String],
) -> Result<std::collections::HashMap<String, crate::domain::ContactRecord>, StoreError> {
    let mut found = std::collections::HashMap::new();
    for block in in_blocks(keys) {
        let params: Vec<Value<'_>> = block.iter().map(|k| Value::Text(k)).collect();
        let mut rows = Vec::new();
        db.query(
            for_rows(&CONTACTS_BY_KEYS, block.len())?,
            &params,
            &mut |r| {
                rows.push((r.text(0)?, contact_row(r)?));
                Ok(())
            },
        )?;
        for (key, row) in rows {
            found.insert(key, row.into_record()?);
        }
    }
    Ok(found)
}

/// How many persons are stored.
pub(crate) fn count_persons(db: &mut dyn Sql) -> Result<u64, StoreError> {
    let n = first(db, "SELECT COUNT(*) FROM persons", &[], |r| r.int(0))?.unwrap_or(0);
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("person count {n}")))
}
