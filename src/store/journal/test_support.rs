//! What the journal's tests share: entries, a SQLite index, and an index that fails on demand.

use super::faults::{install, FaultPoint, JournalFaults};
use crate::audit::{AuditEntry, AuditQuery, Caller, Source};
use crate::store::sqlite::SqliteStore;
use crate::store::{AuditLog, StoreError};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(super) fn entry(n: usize) -> AuditEntry {
    let correlation_id = format!("c-{n}");
    let caller = Caller {
        consumer: "SE-C",
        source: Source::Import,
        logical_address: "LA",
        correlation_id: &correlation_id,
    };
    AuditEntry::now(&caller, format!("p:{}", n % 7))
}

pub(super) fn store(dir: &Path) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&dir.join("t.db")).unwrap())
}

pub(super) fn correlation_ids(log: &dyn AuditLog) -> Vec<String> {
    let mut ids: Vec<String> = log
        .query(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .map(|e| e.correlation_id)
        .collect();
    ids.sort();
    ids
}

/// An index over SQLite that refuses, as data, any entry whose person holds a NUL (as
/// PostgreSQL does), and fails every call while `down` is set, as a database that is away.
pub(super) struct TestIndex {
    pub(super) db: Arc<SqliteStore>,
    pub(super) down: AtomicBool,
    /// Index calls wait while set, as a database that does not answer.
    pub(super) hung: AtomicBool,
}

impl TestIndex {
    pub(super) fn over(db: &Arc<SqliteStore>) -> Arc<Self> {
        Arc::new(Self {
            db: db.clone(),
            down: AtomicBool::new(false),
            hung: AtomicBool::new(false),
        })
    }

    fn reachable(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::Acquire) {
            return Err(StoreError::Invariant("the database is away"));
        }
        Ok(())
    }
}

impl AuditLog for TestIndex {
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.reachable()?;
        self.db.append(entries)
    }
    fn query(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.reachable()?;
        self.db.query(q)
    }
    fn index_journal(
        &self,
        journal: &str,
        records: &[(u64, AuditEntry)],
        through: u64,
    ) -> Result<u64, StoreError> {
        while self.hung.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.reachable()?;
        if records.iter().any(|(_, e)| e.person.contains('\0')) {
            return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                Some("refused".into()),
            )));
        }
        self.db.index_journal(journal, records, through)
    }
    fn journal_mark(&self, journal: &str) -> Result<u64, StoreError> {
        self.reachable()?;
        self.db.journal_mark(journal)
    }
    fn database_identity(&self) -> Result<String, StoreError> {
        self.reachable()?;
        self.db.database_identity()
    }
}

/// A script of disk faults: the first `Write` waits while `hold` is set (so submissions
/// queue up behind it into one batch), and the `nth` (from 0) arrival at each point in
/// `fail` fails with EIO; `hang` makes every `Sync` wait while set, as a hung disk.
pub(super) struct Script {
    pub(super) hold: AtomicBool,
    pub(super) hang: AtomicBool,
    pub(super) fail: Vec<(FaultPoint, usize)>,
    pub(super) writes_started: AtomicUsize,
    seen: std::sync::Mutex<Vec<FaultPoint>>,
}

impl Script {
    pub(super) fn new(fail: Vec<(FaultPoint, usize)>) -> Arc<Self> {
        Arc::new(Self {
            hold: AtomicBool::new(false),
            hang: AtomicBool::new(false),
            fail,
            writes_started: AtomicUsize::new(0),
            seen: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Installs the script for the journal to be opened in `dir`.
    pub(super) fn install(self: &Arc<Self>, dir: &Path) {
        let script = self.clone();
        install(dir, JournalFaults::new(move |point| script.at(point)));
    }

    fn at(&self, point: FaultPoint) -> Option<std::io::Error> {
        let nth = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(point);
            seen.iter().filter(|p| **p == point).count() - 1
        };
        if point == FaultPoint::Write {
            self.writes_started.fetch_add(1, Ordering::AcqRel);
            while nth == 0 && self.hold.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        while point == FaultPoint::Sync && self.hang.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(2));
        }
        self.fail
            .contains(&(point, nth))
            .then(|| std::io::Error::from_raw_os_error(5))
    }
}
