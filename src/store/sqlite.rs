//! The embedded SQLite store: WAL, `synchronous=FULL`, `secure_delete=ON`.
//!
//! FULL because an acknowledged update must survive a power cut, not only a crash;
//! secure_delete so that removed contact values do not linger in free pages (CO-2).
//! Checkpoints run on a thread of their own: done by the committing connection (SQLite's
//! default) they stall every caller waiting on that commit, which shows in the p99.
//! The thread copies the WAL without the writer lock, then finishes under it, briefly:
//! a checkpoint that races the writer never completes, and the WAL then never restarts
//! and grows without bound under steady load.

mod writer;

use super::pool::Pool;
use super::sql::{self, Column, Dialect, EachRow, Sql, SqlResult, SqlRow, Value};
use super::{
    AuditLog, ContactUpdate, PersonState, PersonStore, Replaced, Scrubbed, StoreError, StoreKind,
    UpdateResult, Upserted,
};
use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{Person, PersonId};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;
use writer::Writer;

/// How often the background checkpointer copies the WAL into the main file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Page cache of the checkpoint connection in KiB: a checkpoint copies WAL frames without it.
const CHECKPOINTER_CACHE_KIB: u64 = 64;

/// Connection count and page-cache budget; together they bound the store's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteTuning {
    /// Reader connections at most; reads beyond wait for one instead of opening more.
    pub(crate) readers: usize,
    /// Page cache of all connections together, in KiB: half for the writer, half shared by the readers.
    pub(crate) cache_kib: u64,
}

impl Default for SqliteTuning {
    fn default() -> Self {
        Self {
            readers: 8,
            cache_kib: 16 * 1024,
        }
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
    writer: Arc<Writer>,
    readers: Pool<Connection>,
    /// Set when a committed change removed a value; the checkpointer then truncates the WAL.
    scrub: Arc<AtomicBool>,
    /// Set with `scrub`, cleared only by `scrub_removed`: the checkpointer's own truncation
    /// may take `scrub` first, and the caller of `scrub_removed` must still learn that a
    /// removal happened and see it through.
    removed: AtomicBool,
    _checkpointer: Checkpointer,
}

/// Pause between two attempts of a scrub that a reader kept from truncating the WAL.
const SCRUB_RETRY: Duration = Duration::from_millis(100);

/// The background checkpoint thread; it stops as soon as the store (and this handle) is dropped.
struct Checkpointer {
    _alive: std::sync::mpsc::Sender<()>,
}

impl Checkpointer {
    /// Every CHECKPOINT_EVERY: a PASSIVE checkpoint on `conn` while writes go on, then one on
    /// the writer under its lock, which has little left to copy and so completes; the next
    /// write then restarts the WAL from its beginning.
    ///
    /// After a removal (`scrub`), the checkpoint under the writer lock is a TRUNCATE: the WAL
    /// still holds the page images with the removed value until the file is cut (CO-2).
    fn start(
        conn: Connection,
        writer: Arc<Writer>,
        scrub: Arc<AtomicBool>,
    ) -> Result<Self, StoreError> {
        let (alive, dropped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = dropped.recv_timeout(CHECKPOINT_EVERY) {
                    let truncate = scrub.swap(false, Ordering::AcqRel);
                    let finished = passive_checkpoint(&conn)
                        .map_err(StoreError::from)
                        .and_then(|()| {
                            writer.with(|w| match truncate {
                                true => Ok(truncate_wal(w)?),
                                false => Ok(passive_checkpoint(w)?),
                            })
                        });
                    if let Err(e) = finished {
                        if truncate {
                            scrub.store(true, Ordering::Release);
                        }
                        tracing::warn!(error = %e, "background WAL checkpoint failed; retrying");
                    }
                }
            })
            .map_err(|source| StoreError::Thread {
                what: "checkpoint",
                source,
            })?;
        Ok(Self { _alive: alive })
    }
}

fn passive_checkpoint(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

/// Copies the whole WAL into the main file and cuts the WAL to zero bytes; fails (busy)
/// rather than succeeding half-way if a reader still needs the WAL.
fn truncate_wal(conn: &Connection) -> Result<(), rusqlite::Error> {
    // Under the writer lock: never wait for readers (that would stall every writer); a busy
    // result is retried next round.
    conn.busy_timeout(Duration::ZERO)?;
    let result: Result<i64, rusqlite::Error> =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0));
    conn.busy_timeout(Duration::from_secs(5))?;
    let busy = result?;
    if busy == 0 {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("a reader kept the WAL; truncation retried next round".into()),
        ))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with the default tuning and applies migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_tuned(path, SqliteTuning::default())
    }

    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub(crate) fn open_tuned(path: &Path, tuning: SqliteTuning) -> Result<Self, StoreError> {
        let in_file = |e: StoreError| e.in_file(path);
        let mut writer = open_connection(path, tuning.writer_cache_kib()).map_err(in_file)?;
        in_transaction(&mut writer, sql::migrate).map_err(in_file)?;
        writer
            .execute_batch("PRAGMA wal_autocheckpoint=0")
            .map_err(StoreError::from)
            .map_err(in_file)?;
        let writer = Arc::new(Writer::new(writer));
        let scrub = Arc::new(AtomicBool::new(false));
        let checkpointer = Checkpointer::start(
            open_connection(path, CHECKPOINTER_CACHE_KIB).map_err(in_file)?,
            writer.clone(),
            scrub.clone(),
        )?;
        Ok(Self {
            path: path.to_owned(),
            writer,
            readers: reader_pool(path, tuning),
            scrub,
            removed: AtomicBool::new(false),
            _checkpointer: checkpointer,
        })
    }

    /// After a committed removal: the checkpointer truncates the WAL within a second.
    fn scrub_if(&self, removed: bool) {
        if removed {
            self.removed.store(true, Ordering::Release);
            self.scrub.store(true, Ordering::Release);
        }
    }

    /// The database file this store opened (as configured, not canonicalised).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the WAL into the main file and truncates it (used before raw-byte scans and backups).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.writer.with(|conn| Ok(truncate_wal(conn)?))
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.readers.with(|conn| f(conn))
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.writer.with(f)
    }
}

/// Reader connections, each with its share of the page-cache budget.
fn reader_pool(path: &Path, tuning: SqliteTuning) -> Pool<Connection> {
    let (path, cache_kib) = (path.to_owned(), tuning.reader_cache_kib());
    Pool::new(
        "SQLite reader",
        tuning.readers,
        Box::new(move || open_connection(&path, cache_kib)),
        |_| true,
    )
}

/// A connection with the store's pragmas and a page cache of `cache_kib` (SQLite's own default, 2 MiB
/// per connection, let a soak's memory keep growing as the audit table grew).
fn open_connection(path: &Path, cache_kib: u64) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864;",
    )?;
    conn.execute_batch(&format!("PRAGMA cache_size=-{cache_kib}"))?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(conn)
}

/// Runs `f` in an IMMEDIATE transaction (the write lock taken at once, so a concurrent
/// writer waits instead of failing at commit); commits when `f` succeeds.
fn in_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&mut SqliteSql(&tx))?;
    tx.commit()?;
    Ok(out)
}

/// A connection (or a transaction, through deref) speaking the shared statements.
struct SqliteSql<'c>(&'c Connection);

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Value::Text(s) => s.to_sql(),
            Value::OptText(s) => s.to_sql(),
            Value::Bool(b) => b.to_sql(),
            Value::OptBool(b) => b.to_sql(),
            Value::Int(i) => i.to_sql(),
        }
    }
}

/// SQLite reads `$n` as a named parameter; `?n` is its numbered form.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

impl SqlRow for rusqlite::Row<'_> {
    fn column(&self, i: usize) -> Result<Column, StoreError> {
        Ok(match self.get_ref(i)? {
            ValueRef::Null => Column::Null,
            ValueRef::Integer(n) => Column::Int(n),
            ValueRef::Text(t) => Column::Text(String::from_utf8_lossy(t).into_owned()),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "column {i}: {:?}",
                    other.data_type()
                )))
            }
        })
    }
}

impl Sql for SqliteSql<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let n = self
            .0
            .prepare_cached(&numbered(sql))?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value<'_>], each: EachRow<'_>) -> SqlResult<()> {
        let mut stmt = self.0.prepare_cached(&numbered(sql))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            each(row)?;
        }
        Ok(())
    }
}

impl PersonStore for SqliteStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Sqlite
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.with_reader(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    fn load_following_aliases(
        &self,
        ids: &[PersonId],
        follow_aliases: bool,
    ) -> Result<Vec<Option<PersonState>>, StoreError> {
        self.with_reader(|c| {
            // One id is one statement, its own snapshot: no transaction needed around it.
            if let [id] = ids {
                return Ok(vec![sql::read_resolved(
                    &mut SqliteSql(c),
                    id,
                    follow_aliases,
                )?]);
            }
            // One read transaction: every id is read from the same snapshot.
            let tx = c.unchecked_transaction()?;
            let out = ids
                .iter()
                .map(|id| sql::read_resolved(&mut SqliteSql(&tx), id, follow_aliases))
                .collect();
            tx.finish()?;
            out
        })
    }

    fn update_contacts(&self, update: ContactUpdate<'_>) -> UpdateResult {
        // In a group commit: concurrent updates share one sync of the disk.
        let (outcome, removed) = self
            .writer
            .in_group(|tx| sql::update_contacts(tx, update))?;
        self.scrub_if(removed);
        Ok(outcome)
    }

    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError> {
        let outcomes: Vec<(Upserted, bool)> =
            self.with_writer(|conn| in_transaction(conn, |tx| sql::upsert_persons(tx, persons)))?;
        self.scrub_if(outcomes.iter().any(|(_, erased)| *erased));
        Ok(outcomes.into_iter().map(|(u, _)| u).collect())
    }

    fn upsert_and_seed(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError> {
        let batch = self.with_writer(|conn| {
            in_transaction(conn, |tx| sql::upsert_and_seed(tx, persons, &seeds))
        })?;
        self.scrub_if(!batch.removed.is_empty());
        Ok(batch.stored)
    }

    fn replace_population(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError> {
        let replaced = self.with_writer(|conn| {
            in_transaction(conn, |tx| sql::replace_population(tx, persons, &seeds))
        })?;
        self.scrub_if(true);
        Ok(replaced)
    }

    /// A read is a few B-tree lookups in this process's page cache under WAL (the writer
    /// never blocks it), so it runs on the async worker instead of a hand-off, unless every
    /// reader connection is lent: then waiting for one must not stall the worker.
    fn reads_inline(&self) -> bool {
        self.readers.can_lend_now()
    }

    fn count_persons(&self) -> Result<u64, StoreError> {
        self.with_reader(|c| sql::count_persons(&mut SqliteSql(c)))
    }

    /// secure_delete already zeroed the values in the main file's pages; what is left is
    /// the page images in the WAL, gone once the WAL is copied back and cut to zero bytes.
    /// A reader of another process (a running server) may hold the WAL for a moment.
    fn scrub_removed(&self, within: Duration) -> Result<Scrubbed, StoreError> {
        if !self.removed.swap(false, Ordering::AcqRel) {
            return Ok(Scrubbed::NothingRemoved);
        }
        let started = std::time::Instant::now();
        loop {
            match self.checkpoint() {
                Ok(()) => return Ok(Scrubbed::Done(started.elapsed())),
                Err(e) if started.elapsed() + SCRUB_RETRY > within => {
                    self.removed.store(true, Ordering::Release);
                    return Err(StoreError::ScrubIncomplete {
                        waited: started.elapsed(),
                        source: Box::new(e),
                    });
                }
                Err(e) => {
                    tracing::debug!(error = %e, "WAL truncation after a removal kept from finishing; retrying");
                    std::thread::sleep(SCRUB_RETRY);
                }
            }
        }
    }
}

impl AuditLog for SqliteStore {
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.with_writer(|conn| in_transaction(conn, |tx| sql::insert_audits(tx, entries)))
    }

    fn query(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.with_reader(|c| sql::query_audit(&mut SqliteSql(c), q))
    }

    fn index_journal(
        &self,
        journal: &str,
        records: &[(u64, AuditEntry)],
        through: u64,
    ) -> Result<u64, StoreError> {
        self.with_writer(|conn| {
            in_transaction(conn, |tx| sql::index_journal(tx, journal, records, through))
        })
    }

    fn journal_mark(&self, journal: &str) -> Result<u64, StoreError> {
        self.with_reader(|c| sql::journal_mark(&mut SqliteSql(c), journal))
    }

    fn database_identity(&self) -> Result<String, StoreError> {
        self.with_reader(|c| sql::database_identity(&mut SqliteSql(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_gets_its_share_of_the_page_cache_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_tuned(
            &dir.path().join("t.db"),
            SqliteTuning {
                readers: 4,
                cache_kib: 8192,
            },
        )
        .unwrap();
        let cache =
            |c: &Connection| Ok(c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0))?);
        assert_eq!(store.with_writer(|c| cache(c)).unwrap(), -4096);
        assert_eq!(store.with_reader(cache).unwrap(), -1024);
        assert_eq!(store.readers.opened(), 1);
    }
}
