//! Row mapping: result columns to person, contact and audit rows, and those rows back to
//! statement parameters in column order.

use super::connection::{Column, SqlRow, Value};
use super::statements::PERSON_COLUMNS;
use crate::audit::{parse_stored_time, AuditCode, AuditEntry, Outcome, Source};
use crate::store::codec::{ContactRow, PersonRow};
use crate::store::{PersonState, StoreError};

pub(super) fn person_row(r: &dyn SqlRow) -> Result<PersonRow, StoreError> {
    Ok(PersonRow {
        key: r.text(0)?,
        given_name: r.text(1)?,
        middle_name: r.opt_text(2)?,
        surname: r.text(3)?,
        birth_date: r.opt_text(4)?,
        care_of: r.opt_text(5)?,
        street: r.opt_text(6)?,
        postal_code: r.opt_text(7)?,
        city: r.opt_text(8)?,
        sekretessmarkering: r.boolean(9)?,
        skyddad_folkbokforing: r.boolean(10)?,
        test_indicator: r.boolean(11)?,
        guardians: r.text(12)?,
        register: r.opt_text(13)?,
    })
}

pub(super) fn contact_row(r: &dyn SqlRow) -> Result<ContactRow, StoreError> {
    Ok(ContactRow {
        version: r.text(1)?,
        entries: r.text(2)?,
        optout: r.opt_bool(3)?,
        actor_kind: r.text(4)?,
        actor_root: r.text(5)?,
        actor_extension: r.text(6)?,
        org_root: r.opt_text(7)?,
        org_extension: r.opt_text(8)?,
        update_time: r.text(9)?,
        consumer_hsa_id: r.text(10)?,
    })
}

pub(in crate::store) fn into_state(
    (person, contacts): (PersonRow, Option<ContactRow>),
) -> Result<PersonState, StoreError> {
    Ok(PersonState {
        person: person.into_person()?,
        contacts: contacts.map(ContactRow::into_record).transpose()?,
    })
}

/// A person's columns followed by their contact record's (NULL when they have none).
pub(in crate::store) fn person_with_contacts(
    r: &dyn SqlRow,
) -> Result<(PersonRow, Option<ContactRow>), StoreError> {
    let person = person_row(r)?;
    let contacts_at = Offset(r, PERSON_COLUMNS.len());
    let contacts = match contacts_at.column(0)? {
        Column::Null => None,
        _ => Some(contact_row(&contacts_at)?),
    };
    Ok((person, contacts))
}

/// The columns of a row from `.1` on, numbered from 0 (one table's part of a join).
struct Offset<'r>(&'r dyn SqlRow, usize);

impl SqlRow for Offset<'_> {
    fn column(&self, i: usize) -> Result<Column, StoreError> {
        self.0.column(i + self.1)
    }
}

pub(super) fn contact_values<'a>(key: &'a str, row: &'a ContactRow) -> [Value<'a>; 11] {
    [
        Value::Text(key),
        Value::Text(&row.version),
        Value::Text(&row.entries),
        Value::OptBool(row.optout),
        Value::Text(&row.actor_kind),
        Value::Text(&row.actor_root),
        Value::Text(&row.actor_extension),
        Value::OptText(row.org_root.as_deref()),
        Value::OptText(row.org_extension.as_deref()),
        Value::Text(&row.update_time),
        Value::Text(&row.consumer_hsa_id),
    ]
}

/// An entry's columns in AUDIT_COLUMNS order; `at` is its time as stored.
pub(super) fn audit_values<'a>(e: &'a AuditEntry, at: &'a str) -> [Value<'a>; 10] {
    [
        Value::Text(at),
        Value::Text(&e.consumer),
        Value::Text(e.contract.as_str()),
        Value::Bool(e.unrestricted),
        Value::Text(&e.logical_address),
        Value::Text(&e.correlation_id),
        Value::Text(&e.person),
        Value::Text(e.outcome.as_str()),
        Value::OptText(e.error_code.map(AuditCode::as_str)),
        Value::OptText(e.log_id.as_deref()),
    ]
}

pub(super) fn person_values(r: &PersonRow) -> [Value<'_>; 14] {
    [
        Value::Text(&r.key),
        Value::Text(&r.given_name),
        Value::OptText(r.middle_name.as_deref()),
        Value::Text(&r.surname),
        Value::OptText(r.birth_date.as_deref()),
        Value::OptText(r.care_of.as_deref()),
        Value::OptText(r.street.as_deref()),
        Value::OptText(r.postal_code.as_deref()),
        Value::OptText(r.city.as_deref()),
        Value::Bool(r.sekretessmarkering),
        Value::Bool(r.skyddad_folkbokforing),
        Value::Bool(r.test_indicator),
        Value::Text(&r.guardians),
        Value::OptText(r.register.as_deref()),
    ]
}

pub(super) fn audit_entry(r: &dyn SqlRow) -> Result<AuditEntry, StoreError> {
    let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("audit {what} {value:?}"));
    let at = r.text(0)?;
    let contract = r.text(2)?;
    let outcome = r.text(7)?;
    let error_code = r.opt_text(8)?;
    Ok(AuditEntry {
        at: parse_stored_time(&at).ok_or_else(|| corrupt("time", &at))?,
        consumer: r.text(1)?,
        contract: Source::parse(&contract).ok_or_else(|| corrupt("contract", &contract))?,
        unrestricted: r.boolean(3)?,
        logical_address: r.text(4)?,
        correlation_id: r.text(5)?,
        person: r.text(6)?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
        error_code: error_code
            .as_deref()
            .map(|c| AuditCode::parse(c).ok_or_else(|| corrupt("code", c)))
            .transpose()?,
        log_id: r.opt_text(9)?,
    })
}
