//! The audit trail's table: entries appended one or many at a time, the audit journal
//! indexed exactly once under its mark, and queries.

use super::connection::{first, Sql, Value};
use super::rows::{audit_entry, audit_values};
use super::statements::{for_rows, in_blocks, AUDIT_COLUMNS, INSERT_AUDIT, INSERT_AUDIT_ROWS};
use crate::audit::{stored_time, AuditEntry, AuditQuery};
use crate::store::StoreError;

/// Appends one audit entry (inside the caller's transaction).
pub(crate) fn insert_audit(db: &mut dyn Sql, e: &AuditEntry) -> Result<(), StoreError> {
    let at = stored_time(e.at);
    db.execute(&INSERT_AUDIT, &audit_values(e, &at))?;
    Ok(())
}

/// Appends audit entries in multi-row statements (inside the caller's transaction), in order.
pub(crate) fn insert_audits<'a>(
    db: &mut dyn Sql,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<(), StoreError> {
    let rows: Vec<(&AuditEntry, String)> = entries
        .into_iter()
        .map(|e| (e, stored_time(e.at)))
        .collect();
    for block in in_blocks(&rows) {
        let params: Vec<Value<'_>> = block
            .iter()
            .flat_map(|(e, at)| audit_values(e, at))
            .collect();
        db.execute(for_rows(&INSERT_AUDIT_ROWS, block.len())?, &params)?;
    }
    Ok(())
}

/// Indexes journal records `(sequence, entry)` of `journal` into `audit`, skipping those at
/// or below the journal's mark, and moves the mark to `through`; the caller runs this in
/// one transaction. Two indexers of one journal (the server and `pu-adapter audit`)
/// therefore never index a record twice: the second waits for the first's transaction
/// (PostgreSQL: the mark's row lock; SQLite: the write lock) and then skips what it did.
pub(crate) fn index_journal(
    db: &mut dyn Sql,
    journal: &str,
    records: &[(u64, AuditEntry)],
    through: u64,
) -> Result<u64, StoreError> {
    db.execute(
        "INSERT INTO audit_journal_marks (journal, indexed_through) VALUES ($1, 0) ON CONFLICT (journal) DO NOTHING",
        &[Value::Text(journal)],
    )?;
    let mark = journal_mark_locked(db, journal)?;
    // Multi-row statements: on PostgreSQL each statement is a round trip and an executor
    // start, paid per answered read when entries went one a statement.
    let unindexed = records.iter().filter(|(seq, _)| *seq > mark);
    insert_audits(db, unindexed.map(|(_, entry)| entry))?;
    if through > mark {
        db.execute(
            "UPDATE audit_journal_marks SET indexed_through = $2 WHERE journal = $1",
            &[Value::Text(journal), Value::Int(sequence_value(through)?)],
        )?;
    }
    Ok(through.max(mark))
}

/// The last record of `journal` indexed into `audit` (0 when none was).
pub(crate) fn journal_mark(db: &mut dyn Sql, journal: &str) -> Result<u64, StoreError> {
    read_journal_mark(db, journal, "")
}

/// The mark under its row lock (PostgreSQL), for the transaction that moves it.
fn journal_mark_locked(db: &mut dyn Sql, journal: &str) -> Result<u64, StoreError> {
    let lock = db.dialect().for_update();
    read_journal_mark(db, journal, lock)
}

fn read_journal_mark(db: &mut dyn Sql, journal: &str, lock: &str) -> Result<u64, StoreError> {
    let sql = format!("SELECT indexed_through FROM audit_journal_marks WHERE journal = $1{lock}");
    let mark = first(db, &sql, &[Value::Text(journal)], |r| r.int(0))?;
    sequence_of(mark.unwrap_or(0))
}

fn sequence_of(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| StoreError::Corrupt(format!("journal mark {stored}")))
}

fn sequence_value(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Invariant("journal sequence beyond i64"))
}

/// Lists audit entries matching `q`, oldest first by time: journal records reach the index
/// after their answer left, so insertion order is not time order.
pub(crate) fn query_audit(db: &mut dyn Sql, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {} FROM audit WHERE (CAST($1 AS TEXT) IS NULL OR person_key = $1) AND (CAST($2 AS TEXT) IS NULL OR consumer = $2)
         AND (CAST($3 AS TEXT) IS NULL OR at >= $3) AND (CAST($4 AS TEXT) IS NULL OR at < $4) ORDER BY at, id LIMIT $5",
        AUDIT_COLUMNS.join(", ")
    );
    let (since, until) = (q.since.map(stored_time), q.until.map(stored_time));
    let limit = q.limit.map_or(i64::MAX, i64::from);
    let params = [
        Value::OptText(q.person.as_deref()),
        Value::OptText(q.consumer.as_deref()),
        Value::OptText(since.as_deref()),
        Value::OptText(until.as_deref()),
        Value::Int(limit),
    ];
    let mut out = Vec::new();
    db.query(&sql, &params, &mut |row| {
        out.push(audit_entry(row)?);
        Ok(())
    })?;
    Ok(out)
}
