//! The append-only audit journal (AC-2). An answered read is durable once its audit entry
//! is in the journal: concurrent callers' entries are written as one batch of sequential,
//! checksummed records into a preallocated segment file, made durable with one
//! `fdatasync`, and only then acknowledged. A background indexer copies committed records
//! into the database's `audit` table behind the answers; the table's journal mark moves in
//! the same transaction, so a record is indexed exactly once, also after a crash (replayed at
//! start) and when `pu-adapter audit` indexes beside a running server.
//!
//! Why not the database alone: a B-tree commit per batch (pages, indexes, WAL frames, a
//! checkpoint behind) costs several times an append and a sync of one file, and the reads'
//! throughput is bound by that commit.
//!
//! Segments are removed once every record in them is indexed (a record the database refuses
//! as data is set aside in `quarantine.jsonl` first; a segment with data after a damaged
//! record is kept aside as `.damaged`). Audit entries hold no contact values (CO-2), so
//! unlinking suffices: what a segment held is in the index, no more.
//!
//! A journal belongs to one database: its directory keeps the database's identity and is
//! refused by any other. The record format is in `record.rs`; docs/journal.md describes
//! the directory, the bound and the failures.

/// Writes batches, one `fdatasync` each, and acknowledges them.
mod committer;
/// Failures of the journal's file system on demand, for tests.
mod faults;
/// Copies committed records into the index, replays at start, retires indexed segments.
mod indexer;
/// Records the index refuses as data, set aside in `quarantine.jsonl`.
mod quarantine;
/// The record format: encoding, streaming decoding, how a segment's records end.
mod record;
/// Segment files, the journal directory, its lock and its id.
mod segment;
#[cfg(any(test, feature = "testkit"))]
pub use faults::{install as install_faults, FaultPoint, JournalFaults};
pub use record::{DecodeError, Field, RecordError};
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use super::{AuditLog, AuditTicket, StoreError};
use crate::audit::AuditEntry;
use crate::audit::AuditQuery;
use committer::Committer;
use indexer::{replay, Indexer};
use segment::{
    check_database, claim_for_database, create_private_dir, journal_id, lock_directory,
    remove_segment, segments, Segment, ID_FILE,
};
use std::collections::VecDeque;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most entries in one committed batch (and in one index transaction).
const MAX_BATCH: usize = 4_096;

/// How long the committer lets a batch grow while submissions arrive back to back.
const LINGER: Duration = Duration::from_micros(100);

/// A segment's preallocated size: about 300,000 entries.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// How often the indexer copies committed records into the index, in one transaction.
const INDEX_EVERY: Duration = Duration::from_millis(50);

/// Most committed records held in memory for the indexer, counted from the commit until
/// they are indexed (queued for the indexer or in its hands). Beyond it (the database is
/// down or slower than the answers) the committer stops handing records over and the
/// indexer reads them back from the segments once it catches up: the callers neither wait
/// nor are refused, their records are durable either way, and the memory stays bounded
/// however long the database is away.
const MAX_BACKLOG: usize = 32_768;

/// How long a stopping journal waits for its threads. One still in a database call (a
/// server that does not answer) or in a sync of a hung disk after that is left behind, so
/// the process can exit: what it was writing is in the journal's files, and the next start
/// indexes it (a transaction cut off by the exit is rolled back by the database).
const STOP_WAIT: Duration = Duration::from_secs(10);

/// How long an audit query waits for the indexer to catch up with the journal.
const INDEX_WAIT: Duration = Duration::from_secs(10);

/// One caller's entries and where to say that they are durable.
struct Submission {
    entries: Vec<AuditEntry>,
    ack: tokio::sync::oneshot::Sender<Result<(), Arc<StoreError>>>,
}

/// Durable records, handed from the committer to the indexer.
struct Committed {
    segment: u64,
    records: Vec<(u64, AuditEntry)>,
}

/// Committed records on their way to the index, and whether some were left in the files.
struct Backlog {
    /// Handed over in memory and not yet indexed.
    held: AtomicUsize,
    limit: usize,
    overflowed: AtomicBool,
    /// Records left in the files since the start, for the log.
    left_in_files: AtomicUsize,
}

impl Backlog {
    fn new(limit: usize) -> Self {
        Self {
            held: AtomicUsize::new(0),
            limit,
            overflowed: AtomicBool::new(false),
            left_in_files: AtomicUsize::new(0),
        }
    }

    /// Whether `n` more records may be handed over in memory; when not, the indexer is
    /// told to read the journal's files instead.
    fn admit(&self, n: usize) -> bool {
        if self.held.fetch_add(n, Ordering::AcqRel) + n <= self.limit {
            return true;
        }
        self.held.fetch_sub(n, Ordering::AcqRel);
        self.left_in_files.fetch_add(n, Ordering::AcqRel);
        self.overflowed.store(true, Ordering::Release);
        false
    }

    fn release(&self, n: usize) {
        self.held.fetch_sub(n, Ordering::AcqRel);
    }

    /// Whether records were left in the files since the last call.
    fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::AcqRel)
    }
}

/// How far the committer and the indexer got.
#[derive(Default)]
struct Progress {
    state: Mutex<Marks>,
    changed: Condvar,
}

#[derive(Default, Clone, Copy)]
struct Marks {
    committed: u64,
    indexed: u64,
}

/// The audit log of a server: journal first, database index behind.
pub(crate) struct Journal {
    id: String,
    inner: Arc<dyn AuditLog>,
    queue: Option<Sender<Submission>>,
    progress: Arc<Progress>,
    stopping: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    stop_wait: Duration,
    #[cfg(test)]
    backlog: Arc<Backlog>,
    /// Held for the journal's life: one server per journal directory.
    _lock: File,
}

impl Journal {
    /// Opens (creating) the journal in `dir` over `inner`: replays records not yet indexed,
    /// retires the segments, starts a new one and the committer and indexer threads.
    pub(crate) fn open(dir: &Path, inner: Arc<dyn AuditLog>) -> Result<Self, StoreError> {
        Self::open_sized(dir, inner, SEGMENT_BYTES)
    }

    pub(crate) fn open_sized(
        dir: &Path,
        inner: Arc<dyn AuditLog>,
        segment_bytes: u64,
    ) -> Result<Self, StoreError> {
        Self::open_bounded(dir, inner, segment_bytes, MAX_BACKLOG)
    }

    fn open_bounded(
        dir: &Path,
        inner: Arc<dyn AuditLog>,
        segment_bytes: u64,
        backlog_limit: usize,
    ) -> Result<Self, StoreError> {
        create_private_dir(dir)?;
        let lock = lock_directory(dir)?;
        claim_for_database(dir, &inner.database_identity()?)?;
        let id = journal_id(dir)?;
        let replayed = replay(dir, &id, inner.as_ref())?;
        // Every readable record is indexed now. A segment with data after a damaged record
        // (not a torn tail) is kept aside for an operator, never removed unread.
        for (_, path) in segments(dir)? {
            if replayed.damaged.contains(&path) {
                let aside = path.with_extension("damaged");
                tracing::error!(segment = %path.display(), kept = %aside.display(), "audit journal segment with data after a damaged record: kept aside");
                std::fs::rename(&path, &aside).map_err(|source| StoreError::Journal {
                    path: path.clone(),
                    source,
                })?;
            } else {
                remove_segment(dir, &path)?;
            }
        }
        let next = replayed.highest.max(replayed.mark) + 1;
        let faults = faults::Faults::for_dir(dir);
        let segment = Segment::create(dir, next, segment_bytes, &faults)?;
        let progress = Arc::new(Progress::default());
        set_marks(&progress, |m| {
            m.committed = next - 1;
            m.indexed = next - 1;
        });
        let stopping = Arc::new(AtomicBool::new(false));
        let (queue, submissions) = channel();
        let (to_indexer, committed) = channel();
        let backlog = Arc::new(Backlog::new(backlog_limit));
        let committer = Committer {
            dir: dir.to_owned(),
            segment,
            segment_bytes,
            faults,
            next,
            progress: progress.clone(),
            backlog: backlog.clone(),
        };
        let indexer = Indexer {
            id: id.clone(),
            dir: dir.to_owned(),
            inner: inner.clone(),
            progress: progress.clone(),
            stopping: stopping.clone(),
            live: VecDeque::from([next]),
            backlog: backlog.clone(),
        };
        let threads = vec![
            spawn("audit-journal", move || {
                committer.run(&submissions, &to_indexer);
            })?,
            spawn("audit-indexer", move || indexer.run(&committed))?,
        ];
        tracing::info!(journal = %dir.display(), replayed = replayed.indexed, "audit journal open");
        Ok(Self {
            id,
            inner,
            queue: Some(queue),
            progress,
            stopping,
            threads,
            stop_wait: STOP_WAIT,
            #[cfg(test)]
            backlog,
            _lock: lock,
        })
    }

    /// Waits until every record committed before this call is indexed.
    fn wait_indexed(&self) -> Result<(), StoreError> {
        let deadline = Instant::now() + INDEX_WAIT;
        let mut marks = self
            .progress
            .state
            .lock()
            .map_err(|_| StoreError::Poisoned("audit journal progress"))?;
        let target = marks.committed;
        while marks.indexed < target {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::IndexBehind {
                    journal: self.id.clone(),
                    indexed: marks.indexed,
                    committed: target,
                });
            }
            marks = self
                .progress
                .changed
                .wait_timeout(marks, left)
                .map_err(|_| StoreError::Poisoned("audit journal progress"))?
                .0;
        }
        Ok(())
    }
}

impl Drop for Journal {
    /// Lets the committer finish what was submitted and the indexer what was committed; an
    /// indexer whose database fails stops retrying (replay indexes it next start). A thread
    /// still busy after STOP_WAIT (a database call or a sync that hangs) is left behind.
    fn drop(&mut self) {
        self.queue = None;
        self.stopping.store(true, Ordering::Release);
        let deadline = Instant::now() + self.stop_wait;
        for t in self.threads.drain(..) {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                let name = t.thread().name().unwrap_or("audit journal");
                tracing::error!(thread = name, waited = ?self.stop_wait, "audit journal thread still busy at stop (a database call or a sync that does not return): left behind; its records are in the journal and are indexed at the next start");
            }
        }
    }
}

impl AuditLog for Journal {
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.submit(entries.to_vec()).wait()
    }

    fn submit(&self, entries: Vec<AuditEntry>) -> AuditTicket {
        if entries.is_empty() {
            return AuditTicket::done(Ok(()));
        }
        let (ack, acked) = tokio::sync::oneshot::channel();
        match self
            .queue
            .as_ref()
            .map(|q| q.send(Submission { entries, ack }))
        {
            Some(Ok(())) => AuditTicket::pending(acked),
            _ => AuditTicket::done(Err(StoreError::CommitterStopped)),
        }
    }

    /// Journal and index read as one: the query waits for the indexer to catch up first.
    fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.wait_indexed()?;
        self.inner.query(query)
    }

    fn index_journal(
        &self,
        journal: &str,
        records: &[(u64, AuditEntry)],
        through: u64,
    ) -> Result<u64, StoreError> {
        self.inner.index_journal(journal, records, through)
    }

    fn journal_mark(&self, journal: &str) -> Result<u64, StoreError> {
        self.inner.journal_mark(journal)
    }

    fn database_identity(&self) -> Result<String, StoreError> {
        self.inner.database_identity()
    }
}

/// Indexes the records of the journal in `dir` that are not yet in `inner`'s index, without
/// taking the journal over (a server may be writing it): `pu-adapter audit` reads journal
/// and index as one this way. Returns how many records it indexed.
pub(crate) fn index_pending(dir: &Path, inner: &dyn AuditLog) -> Result<usize, StoreError> {
    if !dir.join(ID_FILE).exists() {
        return Ok(0);
    }
    check_database(dir, &inner.database_identity()?)?;
    let id = journal_id(dir)?;
    Ok(replay(dir, &id, inner)?.indexed)
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|source| StoreError::Thread {
            what: "audit journal",
            source,
        })
}

fn set_marks(progress: &Progress, f: impl FnOnce(&mut Marks)) {
    if let Ok(mut m) = progress.state.lock() {
        f(&mut m);
    }
    progress.changed.notify_all();
}
