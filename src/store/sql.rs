//! What both SQL backends share, written once. A backend supplies only a [`Sql`] connection
//! (how to run a statement, how to read a column) and its [`Dialect`]; the schema, the
//! statements, the row mapping, the reads, the update algorithm and the audit trail's table
//! are in `sql/`, one concern a file. This file holds the bulk population write: import
//! batches with their seeds, the reset's replacement, and the erasures they carry out.

mod audit_index;
mod connection;
mod dialect;
mod read;
mod rows;
mod schema;
mod statements;
mod update;

pub(crate) use audit_index::{
    index_journal, insert_audit, insert_audits, journal_mark, query_audit,
};
pub(crate) use connection::{Column, EachRow, Sql, SqlResult, SqlRow, Value};
pub(crate) use dialect::{Dialect, CONTACT_PARTITIONS};
pub(crate) use read::{count_persons, read_resolved};
pub(in crate::store) use rows::{into_state, person_with_contacts};
pub(crate) use schema::{database_identity, migrate};
pub(in crate::store) use statements::{ALIAS_TARGET_COLUMN, PERSON_BY_OWN_KEY, RESOLVED_PERSON};
pub(crate) use update::update_contacts;

use super::codec::{ContactRow, PersonRow};
use super::{ContactUpdate, Replaced, StoreError, Upserted};
use crate::audit::{AuditCode, AuditEntry, Caller, Outcome, Source};
use crate::domain::{erasure_due, Erasure, Violation};
use read::{read_contact_records, read_persons};
use rows::{contact_values, person_values};
use statements::{
    for_rows, in_blocks, placeholder_list, upsert_rows_statement, UPSERT_CONTACT_ROWS,
    UPSERT_PERSON_ROWS,
};

/// Who the trail names for changes made by the population import.
pub(crate) const IMPORT_CONSUMER: &str = "pu-adapter-import";

/// Inserts or replaces population data in bulk, never contact information, with the outcome
/// of upserting each person in turn: a person given twice ends as the last one, with the
/// first as its history; a referred or linked identity answers for whoever claimed it
/// last; an erasure due at any occurrence (PR-4, PR-6) is carried out. One outcome per
/// person, in order: inserted or updated, and whether a contact record was erased.
///
/// Reads and writes go as multi-row statements, so a batch costs a handful of round
/// trips instead of four per person.
pub(crate) fn upsert_persons(
    db: &mut dyn Sql,
    persons: &[crate::domain::Person],
) -> Result<Vec<(Upserted, bool)>, StoreError> {
    upsert_person_batch(db, persons).map(|(outcomes, _)| outcomes)
}

/// Persons by key, as a batch left them.
type Latest = std::collections::HashMap<String, crate::domain::Person>;

/// [`upsert_persons`], also giving back every person of the batch as it was written.
fn upsert_person_batch(
    db: &mut dyn Sql,
    persons: &[crate::domain::Person],
) -> Result<(Vec<(Upserted, bool)>, Latest), StoreError> {
    if let Some(settings) = db.dialect().bulk_settings() {
        db.batch(settings)?;
    }
    let keys: Vec<String> = persons.iter().map(|p| p.id.key()).collect();
    let unique = distinct(&keys);
    let mut latest = read_persons(db, &unique)?;
    let today = crate::domain::swedish_date(chrono::Utc::now());
    let mut upserted = Vec::with_capacity(persons.len());
    let mut aliases = AliasClaims::default();
    let mut erasures = Vec::new();
    for (i, (p, key)) in persons.iter().zip(&keys).enumerate() {
        let (person, existed) = match latest.get(key) {
            Some(old) => (p.clone().with_history_from(old, today), true),
            None => (p.clone(), false),
        };
        if let Some(reason) = erasure_due(&person) {
            erasures.push((i, reason));
        }
        aliases.claim(key, &person);
        upserted.push(if existed {
            Upserted::Updated
        } else {
            Upserted::Inserted
        });
        latest.insert(key.clone(), person);
    }
    let rows: Vec<PersonRow> = unique
        .iter()
        .filter_map(|k| latest.get(k))
        .map(PersonRow::from_person)
        .collect();
    write_person_rows(db, &rows)?;
    aliases.write(db, &unique)?;
    let mut erased = vec![false; persons.len()];
    for (i, reason) in erasures {
        erased[i] = erase_contacts(db, &keys[i], reason)?;
    }
    Ok((upserted.into_iter().zip(erased).collect(), latest))
}

/// What [`upsert_and_seed`] stored, and whose stored values it removed.
pub(crate) struct SeededBatch {
    /// Per person and per seed, in order.
    pub(crate) stored: Replaced,
    /// Persons whose contact values the batch removed (an erasure, a seed replacing a
    /// value): their bytes must be scrubbed from the files (CO-2).
    pub(crate) removed: Vec<String>,
}

/// Upserts `persons` as [`upsert_persons`] does, then enters `seeds` in order as updates
/// over what that left, in the caller's transaction: each seed's decision and audit entry
/// are exactly those of [`update_contacts`], but a batch reads and writes its contact
/// records and audit entries in multi-row statements instead of four statements and (in
/// the update path) a commit per person.
pub(crate) fn upsert_and_seed(
    db: &mut dyn Sql,
    persons: &[crate::domain::Person],
    seeds: &[ContactUpdate<'_>],
) -> Result<SeededBatch, StoreError> {
    let (outcomes, mut latest) = upsert_person_batch(db, persons)?;
    let mut removed: Vec<String> = persons
        .iter()
        .zip(&outcomes)
        .filter(|(_, (_, erased))| *erased)
        .map(|(p, _)| p.id.key())
        .collect();
    let seeded = seed_contacts(db, &mut latest, seeds)?;
    removed.extend(seeded.removed);
    Ok(SeededBatch {
        stored: Replaced {
            persons: outcomes.into_iter().map(|(u, _)| u).collect(),
            seeds: seeded.outcomes,
        },
        removed,
    })
}

/// The outcome of each seed of a batch, and the persons whose values they replaced.
struct Seeded {
    outcomes: Vec<Result<(), Violation>>,
    removed: Vec<String>,
}

/// Decides each seed in turn over the state the previous ones left (a person seeded twice
/// gets the second over the first), then writes the records and audit entries in bulk.
fn seed_contacts(
    db: &mut dyn Sql,
    latest: &mut Latest,
    seeds: &[ContactUpdate<'_>],
) -> Result<Seeded, StoreError> {
    let keys: Vec<String> = seeds.iter().map(|s| s.id.key()).collect();
    let unique = distinct(&keys);
    let elsewhere: Vec<String> = unique
        .iter()
        .filter(|k| !latest.contains_key(*k))
        .cloned()
        .collect();
    latest.extend(read_persons(db, &elsewhere)?);
    let mut records = read_contact_records(db, &unique)?;
    let mut written = Vec::new();
    let mut audits = Vec::with_capacity(seeds.len());
    let mut outcomes = Vec::with_capacity(seeds.len());
    let mut removed = Vec::new();
    for (seed, key) in seeds.iter().zip(keys) {
        let person = latest.get(&key);
        let stored = records.get(&key);
        match (seed.decide)(person, stored) {
            Ok(record) => {
                if person.is_none() {
                    return Err(StoreError::Invariant(
                        "the domain accepted an update of an unknown person",
                    ));
                }
                if stored.is_some_and(|old| old.entries.iter().any(|e| !record.entries.contains(e)))
                {
                    removed.push(key.clone());
                }
                audits.push(seed.audit.decided(None));
                outcomes.push(Ok(()));
                written.push(key.clone());
                records.insert(key, record);
            }
            Err(violation) => {
                audits.push(seed.audit.decided(Some(&violation)));
                outcomes.push(Err(violation));
            }
        }
    }
    let rows: Vec<(String, ContactRow)> = distinct(&written)
        .into_iter()
        .filter_map(|k| records.get(&k).map(|r| (k, ContactRow::from_record(r))))
        .collect();
    write_contact_rows(db, &rows)?;
    insert_audits(db, &audits)?;
    Ok(Seeded { outcomes, removed })
}

/// The body of a population replacement (the test-control reset), in the caller's
/// transaction: removes every person, contact record and alias, then stores `persons` and
/// `seeds`; the audit trail stays, append-only. It deletes every contact record, so the
/// store scrubs free pages after it.
pub(crate) fn replace_population(
    tx: &mut dyn Sql,
    persons: &[crate::domain::Person],
    seeds: &[ContactUpdate<'_>],
) -> Result<Replaced, StoreError> {
    tx.batch("DELETE FROM contact_records; DELETE FROM person_aliases; DELETE FROM persons;")?;
    upsert_and_seed(tx, persons, seeds).map(|batch| batch.stored)
}

/// Each key once, in the order first given.
fn distinct(keys: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    keys.iter()
        .filter(|k| seen.insert(k.as_str()))
        .cloned()
        .collect()
}

fn write_person_rows(db: &mut dyn Sql, rows: &[PersonRow]) -> Result<(), StoreError> {
    for block in in_blocks(rows) {
        let params: Vec<Value<'_>> = block.iter().flat_map(person_values).collect();
        db.execute(for_rows(&UPSERT_PERSON_ROWS, block.len())?, &params)?;
    }
    Ok(())
}

fn write_contact_rows(db: &mut dyn Sql, rows: &[(String, ContactRow)]) -> Result<(), StoreError> {
    for block in in_blocks(rows) {
        let params: Vec<Value<'_>> = block
            .iter()
            .flat_map(|(key, row)| contact_values(key, row))
            .collect();
        db.execute(for_rows(&UPSERT_CONTACT_ROWS, block.len())?, &params)?;
    }
    Ok(())
}

/// Which person each referred or linked identity of a batch answers for, as if the batch's
/// persons had been written one after the other: a person's turn drops the identities it
/// held and claims its own; the last claim of an identity wins.
#[derive(Default)]
struct AliasClaims {
    owner: std::collections::BTreeMap<String, String>,
}

impl AliasClaims {
    fn claim(&mut self, key: &str, p: &crate::domain::Person) {
        self.owner.retain(|_, owner| owner != key);
        for alias in p.register.referred.iter().chain(&p.register.linked) {
            self.owner.insert(alias.key(), key.to_owned());
        }
    }

    /// Replaces the stored identities of `persons` with the claims.
    fn write(&self, db: &mut dyn Sql, persons: &[String]) -> Result<(), StoreError> {
        for block in in_blocks(persons) {
            let params: Vec<Value<'_>> = block.iter().map(|k| Value::Text(k)).collect();
            db.execute(
                &format!(
                    "DELETE FROM person_aliases WHERE person_key IN ({})",
                    placeholder_list(block.len())
                ),
                &params,
            )?;
        }
        let claims: Vec<(&String, &String)> = self.owner.iter().collect();
        for block in in_blocks(&claims) {
            let params: Vec<Value<'_>> = block
                .iter()
                .flat_map(|(alias, owner)| [Value::Text(alias), Value::Text(owner)])
                .collect();
            db.execute(
                &upsert_rows_statement("person_aliases", &["alias_key", "person_key"], block.len()),
                &params,
            )?;
        }
        Ok(())
    }
}

/// Deletes a person's contact record (PR-4, PR-6) and audits why, never the values; says
/// whether there was one.
fn erase_contacts(db: &mut dyn Sql, key: &str, reason: Erasure) -> Result<bool, StoreError> {
    let deleted = db.execute(
        "DELETE FROM contact_records WHERE person_key = $1",
        &[Value::Text(key)],
    )?;
    if deleted > 0 {
        let caller = Caller {
            consumer: IMPORT_CONSUMER,
            source: Source::Import,
            logical_address: "-",
            correlation_id: "-",
        };
        let entry = AuditEntry::now(&caller, key.to_owned()).with_outcome(
            Outcome::Ok,
            Some(AuditCode::Erased(reason)),
            None,
        );
        insert_audit(db, &entry)?;
    }
    Ok(deleted > 0)
}
