//! The embedded SQLite store: WAL, `synchronous=FULL`, `secure_delete=ON`.
//!
//! FULL because an acknowledged update must survive a power cut, not only a crash;
//! secure_delete so that removed contact values do not linger in free pages (CO-2).
//! Checkpoints run on a thread of their own: done by the committing connection (SQLite's
//! default) they stall every caller waiting on that commit, which showed as a 17 ms p99.
//! The thread copies the WAL without the writer lock, then finishes under it, briefly:
//! a checkpoint that races the writer never completes, and the WAL then never restarts
//! (the 10-minute soak grew it to 7 GB before this second step existed).

use super::codec::{audited_update, outcome_of, ContactRow, PersonRow};
use super::pool::Pool;
use super::{Decide, PersonState, Store, StoreError, Upserted};
use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{PersonId, Violation};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Versioned migrations; each runs once, in order, in one transaction.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE persons (
        person_key TEXT PRIMARY KEY,
        given_name TEXT NOT NULL, middle_name TEXT, surname TEXT NOT NULL,
        birth_date TEXT, care_of TEXT, street TEXT, postal_code TEXT, city TEXT,
        sekretessmarkering INTEGER NOT NULL, skyddad_folkbokforing INTEGER NOT NULL,
        test_indicator INTEGER NOT NULL, guardians TEXT NOT NULL
    );
    CREATE TABLE contact_records (
        person_key TEXT PRIMARY KEY REFERENCES persons(person_key),
        version TEXT NOT NULL, entries TEXT NOT NULL, optout INTEGER,
        actor_kind TEXT NOT NULL, actor_root TEXT NOT NULL, actor_extension TEXT NOT NULL,
        org_root TEXT, org_extension TEXT, update_time TEXT NOT NULL, consumer_hsa_id TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL, consumer TEXT NOT NULL, contract TEXT NOT NULL, unrestricted INTEGER NOT NULL,
        logical_address TEXT NOT NULL, correlation_id TEXT NOT NULL, person_key TEXT NOT NULL,
        outcome TEXT NOT NULL, error_code TEXT, log_id TEXT
    );
    CREATE INDEX audit_by_person ON audit(person_key, id);
    CREATE INDEX audit_by_time ON audit(at);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
)];

/// How often the background checkpointer copies the WAL into the main file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Page cache of the checkpoint connection in KiB: a checkpoint copies WAL frames without it.
const CHECKPOINTER_CACHE_KIB: u64 = 64;

/// Connection count and page-cache budget; together they bound the store's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteTuning {
    /// Reader connections at most; reads beyond wait for one instead of opening more.
    pub readers: usize,
    /// Page cache of all connections together, in KiB: half for the writer, half shared by the readers.
    pub cache_kib: u64,
}

impl Default for SqliteTuning {
    fn default() -> Self {
        Self { readers: 8, cache_kib: 16 * 1024 }
    }
}

impl SqliteTuning {
    fn writer_cache_kib(&self) -> u64 {
        (self.cache_kib / 2).max(64)
    }

    fn reader_cache_kib(&self) -> u64 {
        (self.cache_kib / 2 / self.readers.max(1) as u64).max(64)
    }
}

/// SQLite in one file, one writer connection and a bounded pool of readers.
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Pool<Connection>,
    _checkpointer: Checkpointer,
}

/// The background checkpoint thread; it stops as soon as the store (and this handle) is dropped.
struct Checkpointer {
    _alive: std::sync::mpsc::Sender<()>,
}

impl Checkpointer {
    /// Every CHECKPOINT_EVERY: a PASSIVE checkpoint on `conn` while writes go on, then one on
    /// the writer under its lock, which has little left to copy and so completes; the next
    /// write then restarts the WAL from its beginning.
    fn start(conn: Connection, writer: Arc<Mutex<Connection>>) -> Result<Self, StoreError> {
        let (alive, dropped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = dropped.recv_timeout(CHECKPOINT_EVERY) {
                    let finished = passive_checkpoint(&conn).and_then(|()| match writer.lock() {
                        Ok(w) => passive_checkpoint(&w),
                        Err(_) => Ok(()), // a poisoned writer fails every request already
                    });
                    if let Err(e) = finished {
                        tracing::warn!(error = %e, "background WAL checkpoint failed; retrying");
                    }
                }
            })
            .map_err(|e| StoreError::Database(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { _alive: alive })
    }
}

fn passive_checkpoint(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with the default tuning and applies migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_tuned(path, SqliteTuning::default())
    }

    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open_tuned(path: &Path, tuning: SqliteTuning) -> Result<Self, StoreError> {
        let in_file = |e: StoreError| StoreError::Database(format!("{}: {e}", path.display()));
        let mut writer = open_connection(path, tuning.writer_cache_kib()).map_err(in_file)?;
        migrate(&mut writer).map_err(in_file)?;
        writer.execute_batch("PRAGMA wal_autocheckpoint=0").map_err(db).map_err(in_file)?;
        let writer = Arc::new(Mutex::new(writer));
        let checkpointer = Checkpointer::start(open_connection(path, CHECKPOINTER_CACHE_KIB).map_err(in_file)?, writer.clone())?;
        Ok(Self { path: path.to_owned(), writer, readers: reader_pool(path, tuning), _checkpointer: checkpointer })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the WAL into the main file and truncates it (used before raw-byte scans and backups).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self.writer.lock().map_err(|_| StoreError::Database("writer lock poisoned".into()))?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(db)
    }

    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.readers.with(|conn| f(conn))
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.writer.lock().map_err(|_| StoreError::Database("writer lock poisoned".into()))?;
        f(&mut conn)
    }
}

/// Reader connections, each with its share of the page-cache budget.
fn reader_pool(path: &Path, tuning: SqliteTuning) -> Pool<Connection> {
    let (path, cache_kib) = (path.to_owned(), tuning.reader_cache_kib());
    Pool::new("SQLite reader", tuning.readers, Box::new(move || open_connection(&path, cache_kib)), |_| true)
}

/// A connection with the store's pragmas and a page cache of `cache_kib` (SQLite's own default, 2 MiB
/// per connection, let a soak's memory keep growing as the audit table grew).
fn open_connection(path: &Path, cache_kib: u64) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864;",
    )
    .map_err(db)?;
    conn.execute_batch(&format!("PRAGMA cache_size=-{cache_kib}")).map_err(db)?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(db)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Database(format!("could not switch {} to WAL (journal_mode={mode})", path.display())));
    }
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)").map_err(db)?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let done: Option<i64> = tx.query_row("SELECT version FROM schema_migrations WHERE version = ?1", [version], |r| r.get(0)).optional().map_err(db)?;
        if done.is_none() {
            tx.execute_batch(sql).map_err(db)?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", params![version, crate::audit::now_rfc3339()]).map_err(db)?;
        }
        tx.commit().map_err(db)?;
    }
    Ok(())
}

const PERSON_COLUMNS: &str = "person_key, given_name, middle_name, surname, birth_date, care_of, street, postal_code, city, sekretessmarkering, skyddad_folkbokforing, test_indicator, guardians";
const CONTACT_COLUMNS: &str = "version, entries, optout, actor_kind, actor_root, actor_extension, org_root, org_extension, update_time, consumer_hsa_id";

fn read_state(conn: &Connection, key: &str) -> Result<Option<PersonState>, StoreError> {
    let person = conn
        .prepare_cached(&format!("SELECT {PERSON_COLUMNS} FROM persons WHERE person_key = ?1"))
        .map_err(db)?
        .query_row([key], |r| {
            Ok(PersonRow {
                key: r.get(0)?,
                given_name: r.get(1)?,
                middle_name: r.get(2)?,
                surname: r.get(3)?,
                birth_date: r.get(4)?,
                care_of: r.get(5)?,
                street: r.get(6)?,
                postal_code: r.get(7)?,
                city: r.get(8)?,
                sekretessmarkering: r.get(9)?,
                skyddad_folkbokforing: r.get(10)?,
                test_indicator: r.get(11)?,
                guardians: r.get(12)?,
            })
        })
        .optional()
        .map_err(db)?;
    let Some(person) = person else { return Ok(None) };
    let contacts = conn
        .prepare_cached(&format!("SELECT {CONTACT_COLUMNS} FROM contact_records WHERE person_key = ?1"))
        .map_err(db)?
        .query_row([key], |r| {
            Ok(ContactRow {
                version: r.get(0)?,
                entries: r.get(1)?,
                optout: r.get(2)?,
                actor_kind: r.get(3)?,
                actor_root: r.get(4)?,
                actor_extension: r.get(5)?,
                org_root: r.get(6)?,
                org_extension: r.get(7)?,
                update_time: r.get(8)?,
                consumer_hsa_id: r.get(9)?,
            })
        })
        .optional()
        .map_err(db)?;
    Ok(Some(PersonState { person: person.into_person()?, contacts: contacts.map(ContactRow::into_record).transpose()? }))
}

fn write_contacts(tx: &Transaction<'_>, key: &str, row: &ContactRow) -> Result<(), StoreError> {
    tx.prepare_cached(&format!(
        "INSERT INTO contact_records (person_key, {CONTACT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(person_key) DO UPDATE SET version=excluded.version, entries=excluded.entries, optout=excluded.optout,
           actor_kind=excluded.actor_kind, actor_root=excluded.actor_root, actor_extension=excluded.actor_extension,
           org_root=excluded.org_root, org_extension=excluded.org_extension, update_time=excluded.update_time,
           consumer_hsa_id=excluded.consumer_hsa_id"
    ))
    .map_err(db)?
    .execute(params![
        key,
        row.version,
        row.entries,
        row.optout,
        row.actor_kind,
        row.actor_root,
        row.actor_extension,
        row.org_root,
        row.org_extension,
        row.update_time,
        row.consumer_hsa_id
    ])
    .map_err(db)?;
    Ok(())
}

fn insert_audit(conn: &Connection, e: &AuditEntry) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit (at, consumer, contract, unrestricted, logical_address, correlation_id, person_key, outcome, error_code, log_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .map_err(db)?
    .execute(params![e.at, e.consumer, e.contract, e.unrestricted, e.logical_address, e.correlation_id, e.person, e.outcome.as_str(), e.error_code, e.log_id])
    .map_err(db)?;
    Ok(())
}

fn upsert_person(tx: &Transaction<'_>, p: &crate::domain::Person) -> Result<Upserted, StoreError> {
    let row = PersonRow::from_person(p);
    let existed: bool = tx.prepare_cached("SELECT 1 FROM persons WHERE person_key = ?1").map_err(db)?.exists([&row.key]).map_err(db)?;
    tx.prepare_cached(&format!(
        "INSERT INTO persons ({PERSON_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(person_key) DO UPDATE SET given_name=excluded.given_name, middle_name=excluded.middle_name,
           surname=excluded.surname, birth_date=excluded.birth_date, care_of=excluded.care_of, street=excluded.street,
           postal_code=excluded.postal_code, city=excluded.city, sekretessmarkering=excluded.sekretessmarkering,
           skyddad_folkbokforing=excluded.skyddad_folkbokforing, test_indicator=excluded.test_indicator, guardians=excluded.guardians"
    ))
    .map_err(db)?
    .execute(params![
        row.key,
        row.given_name,
        row.middle_name,
        row.surname,
        row.birth_date,
        row.care_of,
        row.street,
        row.postal_code,
        row.city,
        row.sekretessmarkering,
        row.skyddad_folkbokforing,
        row.test_indicator,
        row.guardians
    ])
    .map_err(db)?;
    Ok(if existed { Upserted::Updated } else { Upserted::Inserted })
}

impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.with_reader(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(db))
    }

    fn load(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonState>>, StoreError> {
        self.with_reader(|c| {
            let tx = c.unchecked_transaction().map_err(db)?;
            let out = ids.iter().map(|id| read_state(&tx, &id.key())).collect();
            tx.finish().map_err(db)?;
            out
        })
    }

    fn update_contacts(&self, id: &PersonId, decide: Decide<'_>, audit: &AuditEntry) -> Result<Result<PersonState, Violation>, StoreError> {
        let key = id.key();
        self.with_writer(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let state = read_state(&tx, &key)?;
            let decided = decide(state.as_ref().map(|s| &s.person), state.as_ref().and_then(|s| s.contacts.as_ref()));
            match (decided, state) {
                (Ok(record), Some(state)) => {
                    write_contacts(&tx, &key, &ContactRow::from_record(&record))?;
                    insert_audit(&tx, &audited_update(audit, None))?;
                    tx.commit().map_err(db)?;
                    Ok(Ok(PersonState { person: state.person, contacts: Some(record) }))
                }
                (Ok(_), None) => Err(StoreError::Database("decide accepted an update of an unknown person".into())),
                (Err(violation), _) => {
                    tx.rollback().map_err(db)?;
                    insert_audit(conn, &audited_update(audit, Some(&violation)))?;
                    Ok(Err(violation))
                }
            }
        })
    }

    fn upsert_persons(&self, persons: &[crate::domain::Person]) -> Result<Vec<Upserted>, StoreError> {
        self.with_writer(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let out = persons.iter().map(|p| upsert_person(&tx, p)).collect::<Result<Vec<_>, _>>()?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
    }

    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.with_writer(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            for e in entries {
                insert_audit(&tx, e)?;
            }
            tx.commit().map_err(db)
        })
    }

    fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT at, consumer, contract, unrestricted, logical_address, correlation_id, person_key, outcome, error_code, log_id
                     FROM audit WHERE (?1 IS NULL OR person_key = ?1) AND (?2 IS NULL OR consumer = ?2)
                     AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) ORDER BY id LIMIT ?5",
                )
                .map_err(db)?;
            let limit = q.limit.map_or(-1, i64::from);
            let rows = stmt
                .query_map(params![q.person, q.consumer, q.since, q.until, limit], |r| {
                    Ok((
                        AuditEntry {
                            at: r.get(0)?,
                            consumer: r.get(1)?,
                            contract: r.get(2)?,
                            unrestricted: r.get(3)?,
                            logical_address: r.get(4)?,
                            correlation_id: r.get(5)?,
                            person: r.get(6)?,
                            outcome: crate::audit::Outcome::Ok,
                            error_code: r.get(8)?,
                            log_id: r.get(9)?,
                        },
                        r.get::<_, String>(7)?,
                    ))
                })
                .map_err(db)?;
            rows.map(|row| {
                let (mut entry, outcome) = row.map_err(db)?;
                entry.outcome = outcome_of(&outcome)?;
                Ok(entry)
            })
            .collect()
        })
    }

    fn count_persons(&self) -> Result<u64, StoreError> {
        self.with_reader(|c| c.query_row("SELECT COUNT(*) FROM persons", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(db))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_gets_its_share_of_the_page_cache_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_tuned(&dir.path().join("t.db"), SqliteTuning { readers: 4, cache_kib: 8192 }).unwrap();
        let cache = |c: &Connection| c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0)).map_err(db);
        assert_eq!(store.with_writer(|c| cache(c)).unwrap(), -4096);
        assert_eq!(store.with_reader(cache).unwrap(), -1024);
        assert_eq!(store.readers.opened(), 1);
    }
}
