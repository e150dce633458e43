//! The schema: versioned migrations, filled in per dialect, and the database's identity.

use super::connection::{first, Sql, Value};
use super::dialect::Dialect;
use crate::audit::stored_time;
use crate::store::StoreError;

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
