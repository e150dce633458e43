//! What both SQL backends share, written once: the schema and its migrations, the column
//! lists, every statement, the row mapping and the update algorithm. A backend supplies only
//! a [`Sql`] connection (how to run a statement, how to read a column) and its [`Dialect`].
//!
//! Statements use `$n` placeholders, which PostgreSQL reads natively and SQLite reads as
//! numbered parameters (`?n`) after one substitution; `CAST($n AS TEXT)` types a parameter
//! that is only compared with NULL, which PostgreSQL cannot infer and SQLite does not need.

use super::codec::{ContactRow, PersonRow};
use super::{ContactUpdate, PersonState, Replaced, StoreError, Upserted};
use crate::audit::{
    parse_stored_time, stored_time, AuditCode, AuditEntry, AuditQuery, Caller, Outcome, Source,
};
use crate::domain::{erasure_due, Erasure, PersonId, Violation};

/// Where the two SQL dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn boolean(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER",
            Dialect::Postgres => "BOOLEAN",
        }
    }

    fn serial_key(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        }
    }

    fn append_only_audit(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                 CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
            }
            Dialect::Postgres => {
                "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
                 CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
            }
        }
    }

    /// What a bulk transaction sets first. PostgreSQL caches a generic plan for a prepared
    /// statement after five runs; for a multi-row key lookup planned while the table was
    /// still small that plan is a sequential scan, which then runs for every batch of a
    /// large import, with the server at full CPU (see docs/benchmarks.md for the import's
    /// figures).
    fn bulk_settings(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SET LOCAL plan_cache_mode = force_custom_plan"),
        }
    }

    /// Moves `contact_records` into CONTACT_PARTITIONS hash partitions on PostgreSQL, where
    /// VACUUM leaves a removed row's bytes in the page's free space and only a rewrite of
    /// the table (VACUUM FULL) takes them out; SQLite's secure_delete zeroes them in place.
    fn partition_contact_records(self) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(
                "ALTER TABLE contact_records RENAME TO contact_records_unpartitioned;
                 ALTER INDEX contact_records_pkey RENAME TO contact_records_unpartitioned_pkey;
                 CREATE TABLE contact_records (
                     person_key TEXT PRIMARY KEY REFERENCES persons(person_key),
                     version TEXT NOT NULL, entries TEXT NOT NULL, optout BOOLEAN,
                     actor_kind TEXT NOT NULL, actor_root TEXT NOT NULL, actor_extension TEXT NOT NULL,
                     org_root TEXT, org_extension TEXT, update_time TEXT NOT NULL, consumer_hsa_id TEXT NOT NULL
                 ) PARTITION BY HASH (person_key);
                 DO $$ BEGIN
                   FOR r IN 0..{last} LOOP
                     EXECUTE format('CREATE TABLE contact_records_%s PARTITION OF contact_records FOR VALUES WITH (MODULUS {n}, REMAINDER %s)', r, r);
                   END LOOP;
                 END $$;
                 INSERT INTO contact_records SELECT * FROM contact_records_unpartitioned;
                 DROP TABLE contact_records_unpartitioned;",
                n = CONTACT_PARTITIONS,
                last = CONTACT_PARTITIONS - 1
            ),
        }
    }

    /// Row lock for the read that precedes an update; SQLite's writer lock already serialises.
    fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// A parameter value; each backend binds it with its own types.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Bool(bool),
    OptBool(Option<bool>),
    Int(i64),
}

/// A column value as either backend returns it; SQLite's booleans arrive as integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
}

/// One result row: a backend says only how to read one column; the typed reads are here.
pub(crate) trait SqlRow {
    fn column(&self, i: usize) -> Result<Column, StoreError>;

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.column(i)? {
            Column::Null => Ok(None),
            Column::Text(t) => Ok(Some(t)),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: text expected, found {other:?}"
            ))),
        }
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i}: NULL")))
    }

    fn opt_bool(&self, i: usize) -> Result<Option<bool>, StoreError> {
        match self.column(i)? {
            Column::Null => Ok(None),
            Column::Bool(b) => Ok(Some(b)),
            Column::Int(n) => Ok(Some(n != 0)),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: boolean expected, found {other:?}"
            ))),
        }
    }

    fn boolean(&self, i: usize) -> Result<bool, StoreError> {
        self.opt_bool(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i}: NULL")))
    }

    fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.column(i)? {
            Column::Int(n) => Ok(n),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: integer expected, found {other:?}"
            ))),
        }
    }
}

/// A result of the store.
pub(crate) type SqlResult<T> = Result<T, StoreError>;

/// What a query hands each row to.
pub(crate) type EachRow<'a> = &'a mut dyn FnMut(&dyn SqlRow) -> Result<(), StoreError>;

/// A connection or transaction of either backend.
pub(crate) trait Sql {
    fn dialect(&self) -> Dialect;
    /// Runs a script of statements without parameters.
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Runs one statement.
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError>;
    /// Runs one query and hands each row to `each`.
    fn query(&mut self, sql: &str, params: &[Value<'_>], each: EachRow<'_>) -> SqlResult<()>;
}

/// Versioned migrations; `{bool}`, `{serial}` and `{append_only_audit}` are filled per dialect.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
    "CREATE TABLE persons (
        person_key TEXT PRIMARY KEY,
        given_name TEXT NOT NULL, middle_name TEXT, surname TEXT NOT NULL,
        birth_date TEXT, care_of TEXT, street TEXT, postal_code TEXT, city TEXT,
        sekretessmarkering {bool} NOT NULL, skyddad_folkbokforing {bool} NOT NULL,
        test_indicator {bool} NOT NULL, guardians TEXT NOT NULL
    );
    CREATE TABLE contact_records (
        person_key TEXT PRIMARY KEY REFERENCES persons(person_key),
        version TEXT NOT NULL, entries TEXT NOT NULL, optout {bool},
        actor_kind TEXT NOT NULL, actor_root TEXT NOT NULL, actor_extension TEXT NOT NULL,
        org_root TEXT, org_extension TEXT, update_time TEXT NOT NULL, consumer_hsa_id TEXT NOT NULL
    );
    CREATE TABLE audit (
        id {serial},
        at TEXT NOT NULL, consumer TEXT NOT NULL, contract TEXT NOT NULL, unrestricted {bool} NOT NULL,
        logical_address TEXT NOT NULL, correlation_id TEXT NOT NULL, person_key TEXT NOT NULL,
        outcome TEXT NOT NULL, error_code TEXT, log_id TEXT
    );
    CREATE INDEX audit_by_person ON audit(person_key, id);
    CREATE INDEX audit_by_time ON audit(at);
    {append_only_audit}",
    ),
    // Register data beyond the first columns (deregistration, …) as JSON.
    (2, "ALTER TABLE persons ADD COLUMN register TEXT"),
    // Referred and linked identities: each alias answers for one current identity.
    (
        3,
        "CREATE TABLE person_aliases (alias_key TEXT PRIMARY KEY, person_key TEXT NOT NULL);
         CREATE INDEX person_aliases_by_person ON person_aliases(person_key);",
    ),
    // The audit journal's mark: the last journal record indexed into `audit`, per journal,
    // moved in the same transaction as the rows, so each record is indexed exactly once.
    (
        4,
        "CREATE TABLE audit_journal_marks (journal TEXT PRIMARY KEY, indexed_through BIGINT NOT NULL)",
    ),
    // PostgreSQL: contact records in hash partitions, so that scrubbing a removed value
    // rewrites one small partition instead of the whole table (CO-2; see postgres.rs).
    (5, "{partition_contact_records}"),
];

/// Partitions of `contact_records` on PostgreSQL.
pub(crate) const CONTACT_PARTITIONS: i32 = 64;

fn migration_sql(dialect: Dialect, template: &str) -> String {
    template
        .replace("{bool}", dialect.boolean())
        .replace("{serial}", dialect.serial_key())
        .replace("{append_only_audit}", dialect.append_only_audit())
        .replace(
            "{partition_contact_records}",
            &dialect.partition_contact_records(),
        )
}

/// Applies every migration not yet recorded; the caller runs this in one transaction
/// (PostgreSQL: under an advisory lock, so two instances starting together do not race).
pub(crate) fn migrate(db: &mut dyn Sql) -> Result<(), StoreError> {
    db.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")?;
    for (version, template) in MIGRATIONS {
        let mut done = false;
        db.query(
            "SELECT version FROM schema_migrations WHERE version = CAST($1 AS BIGINT)",
            &[Value::Int(*version)],
            &mut |_| {
                done = true;
                Ok(())
            },
        )?;
        if !done {
            db.batch(&migration_sql(db.dialect(), template))?;
            let now = stored_time(chrono::Utc::now());
            db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (CAST($1 AS BIGINT), $2)", &[Value::Int(*version), Value::Text(&now)])?;
        }
    }
    give_identity(db)
}

/// Gives the database its identity once (a random id, kept): an audit journal carries the
/// identity of the database it was made for and is never replayed into another. Outside the
/// numbered migrations, so it needs no version of its own.
fn give_identity(db: &mut dyn Sql) -> Result<(), StoreError> {
    db.batch("CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")?;
    let id = uuid::Uuid::new_v4().to_string();
    db.execute(
        "INSERT INTO store_meta (key, value) VALUES ('database_id', $1) ON CONFLICT (key) DO NOTHING",
        &[Value::Text(&id)],
    )?;
    Ok(())
}

/// The database's identity (see `give_identity`).
pub(crate) fn database_identity(db: &mut dyn Sql) -> Result<String, StoreError> {
    first(
        db,
        "SELECT value FROM store_meta WHERE key = 'database_id'",
        &[],
        |r| r.text(0),
    )?
    .ok_or(StoreError::Invariant(
        "the database has no identity (store_meta)",
    ))
}

const PERSON_COLUMNS: [&str; 14] = [
    "person_key",
    "given_name",
    "middle_name",
    "surname",
    "birth_date",
    "care_of",
    "street",
    "postal_code",
    "city",
    "sekretessmarkering",
    "skyddad_folkbokforing",
    "test_indicator",
    "guardians",
    "register",
];

const CONTACT_COLUMNS: [&str; 11] = [
    "person_key",
    "version",
    "entries",
    "optout",
    "actor_kind",
    "actor_root",
    "actor_extension",
    "org_root",
    "org_extension",
    "update_time",
    "consumer_hsa_id",
];

const AUDIT_COLUMNS: [&str; 10] = [
    "at",
    "consumer",
    "contract",
    "unrestricted",
    "logical_address",
    "correlation_id",
    "person_key",
    "outcome",
    "error_code",
    "log_id",
];

/// `INSERT INTO table (columns) VALUES ($1 …) ON CONFLICT (key) DO UPDATE SET` every other column.
fn upsert_statement(table: &str, columns: &[&str]) -> String {
    upsert_rows_statement(table, columns, 1)
}

/// The same for `rows` rows in one statement (their keys must differ).
fn upsert_rows_statement(table: &str, columns: &[&str], rows: usize) -> String {
    let updates: Vec<String> = columns[1..]
        .iter()
        .map(|c| format!("{c}=excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
        columns.join(", "),
        value_groups(rows, columns.len()),
        columns[0],
        updates.join(", ")
    )
}

fn insert_statement(table: &str, columns: &[&str]) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        placeholder_list(columns.len())
    )
}

fn person_row(r: &dyn SqlRow) -> Result<PersonRow, StoreError> {
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

fn contact_row(r: &dyn SqlRow) -> Result<ContactRow, StoreError> {
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

/// The first row a query returns, mapped.
fn first<T>(
    db: &mut dyn Sql,
    sql: &str,
    params: &[Value<'_>],
    map: fn(&dyn SqlRow) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut out = None;
    db.query(sql, params, &mut |row| {
        if out.is_none() {
            out = Some(map(row)?);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Reads a person and their contact record under the row lock an update needs.
pub(crate) fn read_state_for_update(
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

/// The contact record of one person.
static CONTACT_BY_KEY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM contact_records WHERE person_key = $1",
        CONTACT_COLUMNS.join(", ")
    )
});

/// Every person and contact column, persons left-joined to their contact record.
fn person_with_contacts_where(condition: &str) -> String {
    let qualified = |table: &str, cols: &[&str]| {
        cols.iter()
            .map(|c| format!("{table}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT {}, {} FROM persons p LEFT JOIN contact_records c ON c.person_key = p.person_key WHERE {condition}",
        qualified("p", &PERSON_COLUMNS),
        qualified("c", &CONTACT_COLUMNS)
    )
}

/// The person answering for an id (its alias target when `$2`) with their contact record,
/// in one statement: a read's one snapshot.
pub(super) static RESOLVED_PERSON: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    person_with_contacts_where(
        "p.person_key = COALESCE((SELECT a.person_key FROM person_aliases a WHERE a.alias_key = $1 AND $2), $1)",
    )
});

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

pub(super) fn into_state(
    (person, contacts): (PersonRow, Option<ContactRow>),
) -> Result<PersonState, StoreError> {
    Ok(PersonState {
        person: person.into_person()?,
        contacts: contacts.map(ContactRow::into_record).transpose()?,
    })
}

/// A person's columns followed by their contact record's (NULL when they have none).
pub(super) fn person_with_contacts(
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

static UPSERT_CONTACTS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| upsert_statement("contact_records", &CONTACT_COLUMNS));

fn write_contacts(db: &mut dyn Sql, key: &str, row: &ContactRow) -> Result<(), StoreError> {
    db.execute(&UPSERT_CONTACTS, &contact_values(key, row))?;
    Ok(())
}

fn contact_values<'a>(key: &'a str, row: &'a ContactRow) -> [Value<'a>; 11] {
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

/// Appends one audit entry (inside the caller's transaction).
// Built once: the indexer inserts one audit row per answered request, and building the
// text each time (then hashing it for the statement cache) was a sixth of its CPU.
static INSERT_AUDIT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| insert_statement("audit", &AUDIT_COLUMNS));

pub(crate) fn insert_audit(db: &mut dyn Sql, e: &AuditEntry) -> Result<(), StoreError> {
    let at = stored_time(e.at);
    db.execute(&INSERT_AUDIT, &audit_values(e, &at))?;
    Ok(())
}

/// An entry's columns in AUDIT_COLUMNS order; `at` is its time as stored.
fn audit_values<'a>(e: &'a AuditEntry, at: &'a str) -> [Value<'a>; 10] {
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
    for (_, entry) in records.iter().filter(|(seq, _)| *seq > mark) {
        insert_audit(db, entry)?;
    }
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

/// The stored contact records among `keys`.
fn read_contact_records(
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

/// Appends audit entries in multi-row statements (inside the caller's transaction), in order.
fn insert_audits(db: &mut dyn Sql, entries: &[AuditEntry]) -> Result<(), StoreError> {
    let times: Vec<String> = entries.iter().map(|e| stored_time(e.at)).collect();
    let rows: Vec<(&AuditEntry, &String)> = entries.iter().zip(&times).collect();
    for block in in_blocks(&rows) {
        let params: Vec<Value<'_>> = block
            .iter()
            .flat_map(|(e, at)| audit_values(e, at))
            .collect();
        db.execute(for_rows(&INSERT_AUDIT_ROWS, block.len())?, &params)?;
    }
    Ok(())
}

/// Row counts that multi-row statements are built for: any count is a sum of these, so a
/// backend that prepares each statement text once keeps a handful, not one per count.
const ROW_BLOCKS: [usize; 5] = [256, 64, 16, 4, 1];

/// A multi-row statement's text for each of ROW_BLOCKS' sizes, built once: an import runs
/// each hundreds of times per batch, and formatting 256 rows of placeholders every time
/// (then hashing it for the statement cache) was a tenth of a seeding import's CPU.
type PerBlock = std::sync::LazyLock<[String; ROW_BLOCKS.len()]>;

/// The text in `texts` for a block of `rows` rows (a size [`in_blocks`] gives).
fn for_rows(texts: &PerBlock, rows: usize) -> Result<&str, StoreError> {
    ROW_BLOCKS
        .iter()
        .position(|b| *b == rows)
        .map(|i| texts[i].as_str())
        .ok_or(StoreError::Invariant(
            "a block of rows not of a ROW_BLOCKS size",
        ))
}

static UPSERT_PERSON_ROWS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| upsert_rows_statement("persons", &PERSON_COLUMNS, rows))
});

static UPSERT_CONTACT_ROWS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| upsert_rows_statement("contact_records", &CONTACT_COLUMNS, rows))
});

static INSERT_AUDIT_ROWS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| {
        format!(
            "INSERT INTO audit ({}) VALUES {}",
            AUDIT_COLUMNS.join(", "),
            value_groups(rows, AUDIT_COLUMNS.len())
        )
    })
});

static CONTACTS_BY_KEYS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| {
        format!(
            "SELECT {} FROM contact_records WHERE person_key IN ({})",
            CONTACT_COLUMNS.join(", "),
            placeholder_list(rows)
        )
    })
});

/// `items` cut into consecutive blocks of ROW_BLOCKS sizes, largest first.
fn in_blocks<T>(items: &[T]) -> Vec<&[T]> {
    let mut blocks = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let size = ROW_BLOCKS
            .into_iter()
            .find(|b| *b <= rest.len())
            .unwrap_or(1);
        let (block, tail) = rest.split_at(size);
        blocks.push(block);
        rest = tail;
    }
    blocks
}

/// `($1, …, $c), ($c+1, …)`: `rows` groups of `columns` placeholders.
fn value_groups(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders_after(r * columns, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$1, …, $n`.
fn placeholder_list(n: usize) -> String {
    placeholders_after(0, n)
}

/// `$from+1, …, $from+n`.
fn placeholders_after(from: usize, n: usize) -> String {
    (from + 1..=from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each key once, in the order first given.
fn distinct(keys: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    keys.iter()
        .filter(|k| seen.insert(k.as_str()))
        .cloned()
        .collect()
}

/// The stored persons among `keys` (locked for the transaction where the dialect can).
fn read_persons(
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

fn write_person_rows(db: &mut dyn Sql, rows: &[PersonRow]) -> Result<(), StoreError> {
    for block in in_blocks(rows) {
        let params: Vec<Value<'_>> = block.iter().flat_map(person_values).collect();
        db.execute(for_rows(&UPSERT_PERSON_ROWS, block.len())?, &params)?;
    }
    Ok(())
}

fn person_values(r: &PersonRow) -> [Value<'_>; 14] {
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

fn audit_entry(r: &dyn SqlRow) -> Result<AuditEntry, StoreError> {
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

/// How many persons are stored.
pub(crate) fn count_persons(db: &mut dyn Sql) -> Result<u64, StoreError> {
    let n = first(db, "SELECT COUNT(*) FROM persons", &[], |r| r.int(0))?.unwrap_or(0);
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("person count {n}")))
}
