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
//! Record: `len: u32 | crc32(seq ‖ payload): u32 | seq: u64 | payload`, little-endian; a
//! zero length ends a segment's records (the rest of a preallocated file is zeros), and a
//! record whose checksum fails is a torn write at the tail: replay stops there.

use super::{AuditLog, AuditTicket, StoreError};
use crate::audit::{AuditCode, AuditEntry, AuditQuery, Outcome, Source};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most entries in one committed batch (and in one index transaction).
const MAX_BATCH: usize = 4_096;

/// How long the committer lets a batch grow while submissions arrive back to back.
const LINGER: Duration = Duration::from_micros(100);

/// A segment's preallocated size: about 300,000 entries.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

const HEADER: usize = 16;

/// How often the indexer copies committed records into the index, in one transaction.
const INDEX_EVERY: Duration = Duration::from_millis(50);

/// Most committed records held in memory for the indexer. Beyond it (the database is down
/// or slower than the answers) the committer stops handing records over and the indexer
/// reads them back from the segments once it catches up: durable either way, and the
/// memory stays bounded however long the database is away.
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

/// Committed records on their way to the indexer, and whether some were left in the files.
struct Backlog {
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
        let segment = Segment::create(dir, next, segment_bytes)?;
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
}

/// Indexes the records of the journal in `dir` that are not yet in `inner`'s index, without
/// taking the journal over (a server may be writing it): `pu-adapter audit` reads journal
/// and index as one this way. Returns how many records it indexed.
pub(crate) fn index_pending(dir: &Path, inner: &dyn AuditLog) -> Result<usize, StoreError> {
    if !dir.join(ID_FILE).exists() {
        return Ok(0);
    }
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

/// The segment being appended to.
struct Segment {
    first: u64,
    file: File,
    offset: u64,
}

impl Segment {
    /// A new, preallocated segment whose first record will be `first`.
    fn create(dir: &Path, first: u64, bytes: u64) -> Result<Self, StoreError> {
        let path = segment_path(dir, first);
        let io = |source| StoreError::Journal {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        preallocate(&file, bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        sync_dir(dir)?;
        Ok(Self {
            first,
            file,
            offset: 0,
        })
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all_at(bytes, self.offset)?;
        self.file.sync_data()?;
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

/// Reserves the segment's blocks up front, so an append's `fdatasync` rarely has file-size
/// metadata to write as well; a file system without fallocate gets a sized (sparse) file.
fn preallocate(file: &File, bytes: u64) -> std::io::Result<()> {
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, bytes) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::NOSYS) => file.set_len(bytes),
        Err(e) => Err(e.into()),
    }
}

/// Writes batches, one `fdatasync` each, and acknowledges them.
struct Committer {
    dir: PathBuf,
    segment: Segment,
    segment_bytes: u64,
    next: u64,
    progress: Arc<Progress>,
    backlog: Arc<Backlog>,
}

impl Committer {
    fn run(mut self, submissions: &Receiver<Submission>, to_indexer: &Sender<Committed>) {
        let mut buf = Vec::with_capacity(256 * 1024);
        let mut failed_before = false;
        let mut indexer_gone = false;
        let mut last_commit = Instant::now();
        while let Ok(first) = submissions.recv() {
            // Under load (the next submission came right after the last sync), lingering a
            // moment lets the batch grow: one sync and one wake-up for many callers instead
            // of one each, which is what bounds reads when syncs are cheap. At low load no
            // submission waits for this.
            if last_commit.elapsed() < LINGER {
                std::thread::sleep(LINGER);
            }
            let batch = gather(first, submissions);
            let started = Instant::now();
            buf.clear();
            let first_seq = self.next;
            for entry in batch.iter().flat_map(|s| s.entries.iter()) {
                encode_record(&mut buf, self.next, entry);
                self.next += 1;
            }
            // Sequences advance also for a failed batch: a half-written batch must never
            // share its numbers with the records that replace it.
            let outcome = self.write(&buf, first_seq, failed_before).map_err(Arc::new);
            failed_before = outcome.is_err();
            crate::metrics::global().audit_committed(started.elapsed());
            last_commit = Instant::now();
            if let Err(e) = &outcome {
                tracing::error!(error = %e, "audit journal append failed; the batch's requests fail");
            }
            if outcome.is_ok() {
                // Before the acknowledgements: a caller's next query must wait for this batch.
                set_marks(&self.progress, |m| m.committed = self.next - 1);
            }
            let mut records = Vec::new();
            for Submission { entries, ack } in batch {
                let _ = ack.send(outcome.clone());
                if outcome.is_ok() {
                    records.extend(entries);
                }
            }
            if outcome.is_ok() && self.backlog.admit(records.len()) {
                let records = (first_seq..).zip(records).collect();
                let sent = to_indexer.send(Committed {
                    segment: self.segment.first,
                    records,
                });
                if sent.is_err() && !indexer_gone {
                    indexer_gone = true;
                    tracing::error!("the audit indexer has stopped: records stay in the journal (durable) and are indexed at the next start");
                }
            }
        }
    }

    /// Appends `bytes` (records from `first_seq`) to the segment, starting a new segment
    /// when they do not fit or when the last append failed (its tail may be torn).
    fn write(&mut self, bytes: &[u8], first_seq: u64, fresh: bool) -> Result<(), StoreError> {
        let full = self.segment.offset + bytes.len() as u64 > self.segment_bytes;
        if fresh || (full && self.segment.offset > 0) {
            self.segment = Segment::create(&self.dir, first_seq, self.segment_bytes)?;
        }
        let path = segment_path(&self.dir, self.segment.first);
        self.segment.append(bytes).map_err(|source| {
            if self.segment.offset == 0 {
                // Nothing acknowledged is in it, and no indexer knows it: it would stay forever.
                let _ = std::fs::remove_file(&path);
            }
            StoreError::Journal { path, source }
        })
    }
}

/// `first` and every submission already queued, up to MAX_BATCH entries.
fn gather(first: Submission, queue: &Receiver<Submission>) -> Vec<Submission> {
    let mut count = first.entries.len();
    let mut batch = vec![first];
    while count < MAX_BATCH {
        match queue.try_recv() {
            Ok(next) => {
                count += next.entries.len();
                batch.push(next);
            }
            Err(_) => break,
        }
    }
    batch
}

/// Copies committed records into the database index and retires indexed segments.
struct Indexer {
    id: String,
    dir: PathBuf,
    inner: Arc<dyn AuditLog>,
    progress: Arc<Progress>,
    stopping: Arc<AtomicBool>,
    /// First sequences of the segments not yet removed, oldest first.
    live: VecDeque<u64>,
    backlog: Arc<Backlog>,
}

impl Indexer {
    /// Every INDEX_EVERY: indexes what was committed meanwhile (transactions of at most
    /// MAX_BATCH). Polling instead of waiting on the channel keeps the committer from waking
    /// this thread once per batch; the answers never wait for it, audit queries do.
    fn run(mut self, committed: &Receiver<Committed>) {
        loop {
            std::thread::sleep(INDEX_EVERY);
            let mut records = Vec::new();
            let finished = loop {
                match committed.try_recv() {
                    Ok(batch) => {
                        self.backlog.release(batch.records.len());
                        if self.live.back().is_none_or(|last| *last < batch.segment) {
                            self.live.push_back(batch.segment);
                        }
                        records.extend(batch.records);
                    }
                    Err(TryRecvError::Empty) => break false,
                    Err(TryRecvError::Disconnected) => break true,
                }
            };
            // Checked after the drain: a batch left in the files was committed before any
            // batch received here, and indexing those first would move the mark past it.
            if self.backlog.take_overflow() {
                if self.catch_up_from_files().is_none() {
                    return; // stopping with the database unreachable: replay indexes it next start
                }
            } else if !records.is_empty() {
                let Some(mark) = self.index(&records) else {
                    return; // stopping with the database unreachable: replay indexes it next start
                };
                set_marks(&self.progress, |m| m.indexed = m.indexed.max(mark));
                self.retire_through(mark);
            }
            if finished {
                return;
            }
        }
    }

    /// Indexes every committed record above the index's mark from the segment files (what
    /// was handed over in memory is there too; records already indexed are skipped by the
    /// mark), retrying while the database fails; `None` when stopping meanwhile.
    fn catch_up_from_files(&mut self) -> Option<()> {
        tracing::warn!(
            left_in_files_since_start = self.backlog.left_in_files.load(Ordering::Acquire),
            "the audit index fell behind the journal; reading the records back from its files"
        );
        let (mark, files) = self.until_indexed(|| {
            replay(&self.dir, &self.id, self.inner.as_ref())?;
            Ok((self.inner.journal_mark(&self.id)?, segments(&self.dir)?))
        })?;
        self.live = files.into_iter().map(|(first, _)| first).collect();
        set_marks(&self.progress, |m| m.indexed = m.indexed.max(mark));
        self.retire_through(mark);
        Some(())
    }

    /// Indexes `records` in transactions of at most MAX_BATCH, retrying while the database
    /// fails (the answers do not wait); `None` when stopping with the database unreachable.
    fn index(&self, records: &[(u64, AuditEntry)]) -> Option<u64> {
        let mut mark = None;
        for chunk in records.chunks(MAX_BATCH) {
            mark = Some(self.index_chunk(chunk)?);
        }
        mark
    }

    fn index_chunk(&self, chunk: &[(u64, AuditEntry)]) -> Option<u64> {
        self.until_indexed(|| index_robustly(self.inner.as_ref(), &self.id, &self.dir, chunk))
    }

    /// Runs `attempt` until it succeeds, backing off while the database fails (the answers
    /// do not wait); `None` when stopping with the database unreachable.
    fn until_indexed<T>(&self, mut attempt: impl FnMut() -> Result<T, StoreError>) -> Option<T> {
        let mut pause = Duration::from_millis(50);
        loop {
            match attempt() {
                Ok(done) => return Some(done),
                Err(e) if self.stopping.load(Ordering::Acquire) => {
                    tracing::warn!(error = %e, "audit index unreachable at shutdown; the journal keeps the records");
                    return None;
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit index failed; retrying (the journal keeps the records)");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Removes every segment whose records are all at or below `mark`.
    fn retire_through(&mut self, mark: u64) {
        while self.live.len() > 1 && self.live[1] <= mark + 1 {
            let Some(first) = self.live.pop_front() else {
                break;
            };
            if let Err(e) = remove_segment(&self.dir, &segment_path(&self.dir, first)) {
                tracing::warn!(error = %e, "could not remove an indexed audit journal segment");
            }
        }
    }
}

/// What a replay did.
struct Replayed {
    mark: u64,
    highest: u64,
    indexed: usize,
    /// Segments with readable data after a record whose checksum failed: kept, not removed.
    damaged: Vec<PathBuf>,
}

/// Indexes every record above the mark, segment by segment.
fn replay(dir: &Path, id: &str, inner: &dyn AuditLog) -> Result<Replayed, StoreError> {
    let mark = inner.journal_mark(id)?;
    let mut replayed = Replayed {
        mark,
        highest: mark,
        indexed: 0,
        damaged: Vec::new(),
    };
    let mut pending = Vec::new();
    for (_, path) in segments(dir)? {
        let file = match File::open(&path) {
            Ok(f) => f,
            // A running server retired it meanwhile: it was indexed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(StoreError::Journal { path, source }),
        };
        let tail = read_records(BufReader::new(file), &path, mark, |seq, entry| {
            replayed.highest = replayed.highest.max(seq);
            pending.push((seq, entry));
            if pending.len() >= MAX_BATCH {
                replayed.indexed += pending.len();
                index_robustly(inner, id, dir, &std::mem::take(&mut pending))?;
            }
            Ok(())
        })?;
        if tail == Tail::DataAfterDamage {
            replayed.damaged.push(path.clone());
        }
    }
    if !pending.is_empty() {
        replayed.indexed += pending.len();
        index_robustly(inner, id, dir, &pending)?;
    }
    Ok(replayed)
}

/// Indexes `records`; a record the database refuses as data (a character PostgreSQL cannot
/// store, say) is set aside in `quarantine.jsonl` with the reason, and the others are
/// indexed: one bad record must not stop the trail. Errors of the connection or the disk
/// are returned for the caller to retry.
fn index_robustly(
    inner: &dyn AuditLog,
    id: &str,
    dir: &Path,
    records: &[(u64, AuditEntry)],
) -> Result<u64, StoreError> {
    let Some(through) = records.last().map(|r| r.0) else {
        return inner.journal_mark(id);
    };
    match inner.index_journal(id, records, through) {
        Err(e) if e.is_data_error() => {
            let mut mark = 0;
            for record in records {
                mark = match inner.index_journal(id, std::slice::from_ref(record), record.0) {
                    Err(e) if e.is_data_error() => {
                        quarantine(dir, record, &e)?;
                        inner.index_journal(id, &[], record.0)?
                    }
                    other => other?,
                };
            }
            Ok(mark)
        }
        other => other,
    }
}

/// Appends a record the index refused to `quarantine.jsonl` (synced), and says so at ERROR.
fn quarantine(
    dir: &Path,
    (seq, entry): &(u64, AuditEntry),
    why: &StoreError,
) -> Result<(), StoreError> {
    use std::io::Write as _;
    let path = dir.join("quarantine.jsonl");
    let line = serde_json::json!({ "sequence": seq, "reason": why.to_string(), "entry": entry });
    let io = |source| StoreError::Journal {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .map_err(io)?;
    writeln!(file, "{line}").map_err(io)?;
    file.sync_data().map_err(io)?;
    tracing::error!(sequence = seq, error = %why, file = %path.display(), "the audit index refused a journal record; it is kept in the quarantine file");
    Ok(())
}

const ID_FILE: &str = "journal-id";
const SEGMENT_SUFFIX: &str = ".audit";

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}{SEGMENT_SUFFIX}"))
}

/// The segment files, oldest first.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let io = |source| StoreError::Journal {
        path: dir.to_owned(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let first = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            found.push((first, path));
        }
    }
    found.sort();
    Ok(found)
}

fn remove_segment(dir: &Path, path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Journal {
            path: path.to_owned(),
            source,
        }),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    let existed = dir.is_dir();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| StoreError::Journal {
            path: dir.to_owned(),
            source,
        })?;
    // A new directory survives a power cut only once its parent is synced.
    match dir
        .parent()
        .filter(|p| !existed && !p.as_os_str().is_empty())
    {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// A created or removed file survives a crash only once its directory is synced.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::Journal {
            path: dir.to_owned(),
            source,
        })
}

fn lock_directory(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|source| StoreError::Journal {
            path: path.clone(),
            source,
        })?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| StoreError::JournalInUse(dir.to_owned()))?;
    Ok(file)
}

/// The journal's name in the index's marks, made once per directory.
fn journal_id(dir: &Path) -> Result<String, StoreError> {
    let path = dir.join(ID_FILE);
    let io = |source| StoreError::Journal {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let id = uuid::Uuid::new_v4().to_string();
    let tmp = dir.join(format!("{ID_FILE}.tmp"));
    std::fs::write(&tmp, &id)
        .and_then(|()| File::open(&tmp).and_then(|f| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(io)?;
    sync_dir(dir)?;
    Ok(id)
}

fn encode_record(buf: &mut Vec<u8>, seq: u64, entry: &AuditEntry) {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER]);
    encode_entry(buf, entry);
    let len = u32::try_from(buf.len() - start - HEADER).unwrap_or(u32::MAX);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(&buf[start + HEADER..]);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.finalize().to_le_bytes());
    buf[start + 8..start + 16].copy_from_slice(&seq.to_le_bytes());
}

/// How a segment's records ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// At zeros or the end of the file.
    Clean,
    /// At a record whose checksum failed, followed only by zeros: a write torn by a crash.
    Torn,
    /// At a record whose checksum failed, with data after it: damage, not a torn write.
    DataAfterDamage,
}

/// Reads a segment's records in order, hands each intact one with a sequence above `above`
/// to `each`, and says how the segment ends. It streams, one record in memory at a time: a
/// preallocated segment is 64 MiB, mostly zeros, and reading it whole (as a replay at start
/// and an indexer catching up did) put its size on the heap. Records at or below `above`
/// are checked, not decoded.
fn read_records(
    mut from: impl Read,
    path: &Path,
    above: u64,
    mut each: impl FnMut(u64, AuditEntry) -> Result<(), StoreError>,
) -> Result<Tail, StoreError> {
    let io = |source| StoreError::Journal {
        path: path.to_owned(),
        source,
    };
    let mut header = [0; HEADER];
    let mut payload = Vec::new();
    let mut at = 0u64;
    while read_whole(&mut from, &mut header).map_err(io)? {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let mut seq = [0; 8];
        seq.copy_from_slice(&header[8..16]);
        if len == 0 {
            break;
        }
        payload.clear();
        // `take` reads what is there: a damaged length never allocates more than the file.
        let got = (&mut from)
            .take(u64::from(len))
            .read_to_end(&mut payload)
            .map_err(io)?;
        let intact = got == len as usize && {
            let mut check = crc32fast::Hasher::new();
            check.update(&seq);
            check.update(&payload);
            check.finalize() == crc
        };
        if !intact {
            let tail = if any_data_left(&mut from).map_err(io)? {
                Tail::DataAfterDamage
            } else {
                Tail::Torn
            };
            tracing::warn!(segment = %path.display(), offset = at, ?tail, "audit journal: a record whose checksum fails; reading stops there");
            return Ok(tail);
        }
        let (seq, start) = (u64::from_le_bytes(seq), at);
        at += (HEADER + payload.len()) as u64;
        if seq <= above {
            continue;
        }
        let entry = decode_entry(&payload).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "audit journal {} at byte {start}: a record with a valid checksum that this version cannot read",
                path.display()
            ))
        })?;
        each(seq, entry)?;
    }
    Ok(Tail::Clean)
}

/// Fills `buf`; `false` at the end of the input (a partial header there ends the records,
/// as zeros do).
fn read_whole(from: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match from.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether anything but zeros follows.
fn any_data_left(from: &mut impl Read) -> std::io::Result<bool> {
    let mut chunk = [0; 8192];
    loop {
        match from.read(&mut chunk)? {
            0 => return Ok(false),
            n if chunk[..n].iter().any(|b| *b != 0) => return Ok(true),
            _ => {}
        }
    }
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn put_opt(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            put_str(buf, s);
        }
    }
}

fn encode_entry(buf: &mut Vec<u8>, e: &AuditEntry) {
    buf.extend_from_slice(&e.at.timestamp_micros().to_le_bytes());
    put_str(buf, &e.consumer);
    put_str(buf, e.contract.as_str());
    buf.push(u8::from(e.unrestricted));
    put_str(buf, &e.logical_address);
    put_str(buf, &e.correlation_id);
    put_str(buf, &e.person);
    put_str(buf, e.outcome.as_str());
    put_opt(buf, e.error_code.map(AuditCode::as_str));
    put_opt(buf, e.log_id.as_deref());
}

/// Reads fields in the order `encode_entry` wrote them.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn i64(&mut self) -> Option<i64> {
        self.take(8)?.try_into().ok().map(i64::from_le_bytes)
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }

    fn opt(&mut self) -> Option<Option<&'a str>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.str().map(Some),
            _ => None,
        }
    }
}

fn decode_entry(payload: &[u8]) -> Option<AuditEntry> {
    let mut f = Fields(payload);
    let at: DateTime<Utc> = DateTime::from_timestamp_micros(f.i64()?)?;
    let consumer = f.str()?.to_owned();
    let contract = Source::parse(f.str()?)?;
    let unrestricted = f.u8()? != 0;
    let logical_address = f.str()?.to_owned();
    let correlation_id = f.str()?.to_owned();
    let person = f.str()?.to_owned();
    let outcome = Outcome::parse(f.str()?)?;
    let error_code = match f.opt()? {
        Some(code) => Some(AuditCode::parse(code)?),
        None => None,
    };
    let log_id = f.opt()?.map(str::to_owned);
    f.0.is_empty().then_some(AuditEntry {
        at,
        consumer,
        contract,
        unrestricted,
        logical_address,
        correlation_id,
        person,
        outcome,
        error_code,
        log_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Caller;
    use crate::store::sqlite::SqliteStore;

    fn entry(n: usize) -> AuditEntry {
        let correlation_id = format!("c-{n}");
        let caller = Caller {
            consumer: "SE-C",
            source: Source::Import,
            logical_address: "LA",
            correlation_id: &correlation_id,
        };
        AuditEntry::now(&caller, format!("p:{}", n % 7))
    }

    /// Every record above `above` and how the records end.
    fn decode_records(
        bytes: &[u8],
        path: &Path,
        above: u64,
    ) -> Result<(Vec<(u64, AuditEntry)>, Tail), StoreError> {
        let mut out = Vec::new();
        let tail = read_records(bytes, path, above, |seq, e| {
            out.push((seq, e));
            Ok(())
        })?;
        Ok((out, tail))
    }

    /// Counts the bytes read through it.
    struct Counted<R>(R, Arc<AtomicUsize>);

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1.fetch_add(n, Ordering::Relaxed);
            Ok(n)
        }
    }

    // A segment is 64 MiB preallocated, its records at the front: reading them must not
    // read (or hold) the zeros behind them.
    #[test]
    fn records_are_read_up_to_the_zeros_not_the_whole_segment() {
        let mut buf = Vec::new();
        (1..=100).for_each(|n| encode_record(&mut buf, n as u64, &entry(n)));
        let zeros = std::io::repeat(0).take(SEGMENT_BYTES);
        let read = Arc::new(AtomicUsize::new(0));
        let from = BufReader::new(Counted((&buf[..]).chain(zeros), read.clone()));
        let mut seen = 0;
        let tail = read_records(from, Path::new("x"), 0, |_, _| {
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((seen, tail), (100, Tail::Clean));
        assert!(
            read.load(Ordering::Relaxed) <= buf.len() + 16 * 1024,
            "read {} bytes for {} bytes of records",
            read.load(Ordering::Relaxed),
            buf.len()
        );
    }

    fn store(dir: &Path) -> Arc<SqliteStore> {
        Arc::new(SqliteStore::open(&dir.join("t.db")).unwrap())
    }

    fn correlation_ids(log: &dyn AuditLog) -> Vec<String> {
        let mut ids: Vec<String> = log
            .query(&AuditQuery::default())
            .unwrap()
            .into_iter()
            .map(|e| e.correlation_id)
            .collect();
        ids.sort();
        ids
    }

    // AC-2: batched appends from many threads all land, each acknowledged after its sync,
    // and every one reaches the index exactly once.
    #[test]
    fn ac2_every_callers_entries_are_journaled_and_indexed_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path());
        let journal = Arc::new(Journal::open(&dir.path().join("j"), db.clone()).unwrap());
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let journal = journal.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        journal.append(&[entry(t * 1000 + i)]).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(journal.query(&AuditQuery::default()).unwrap().len(), 800);
        let one = AuditQuery {
            person: Some("p:3".into()),
            ..Default::default()
        };
        let expected = (0..16)
            .flat_map(|t| (0..50).map(move |i| t * 1000 + i))
            .filter(|n| n % 7 == 3)
            .count();
        assert_eq!(journal.query(&one).unwrap().len(), expected);
    }

    #[test]
    fn entries_read_back_exactly_as_written() {
        let mut e = entry(1).with_outcome(
            Outcome::Fault,
            Some(AuditCode::Fault(crate::audit::FaultKind::Timeout)),
            Some("log-1".into()),
        );
        e.unrestricted = true;
        // Times are kept to the microsecond, as the index stores them.
        e.at = DateTime::from_timestamp_micros(e.at.timestamp_micros()).unwrap();
        let mut plain = entry(2);
        plain.at = e.at;
        let mut buf = Vec::new();
        encode_record(&mut buf, 42, &e);
        encode_record(&mut buf, 43, &plain);
        let (back, tail) = decode_records(&buf, Path::new("x"), 0).unwrap();
        assert_eq!(back, vec![(42, e), (43, plain.clone())]);
        assert_eq!(tail, Tail::Clean);
        // Above a mark: only the records after it.
        let (back, _) = decode_records(&buf, Path::new("x"), 42).unwrap();
        assert_eq!(back, vec![(43, plain)]);
    }

    // A crash mid-write leaves a torn tail: replay keeps every whole record and stops there.
    #[test]
    fn a_torn_tail_ends_the_records_and_keeps_those_before_it() {
        let mut buf = Vec::new();
        encode_record(&mut buf, 1, &entry(1));
        let whole = buf.len();
        encode_record(&mut buf, 2, &entry(2));
        buf[whole + HEADER + 3] ^= 0xff;
        buf.extend_from_slice(&[0; 64]);
        let (back, tail) = decode_records(&buf, Path::new("x"), 0).unwrap();
        assert_eq!(back.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1]);
        assert_eq!(tail, Tail::Torn);
    }

    // Damage with records after it is not a torn write: the segment is kept, not removed.
    #[test]
    fn a_damaged_record_with_data_after_it_keeps_the_segment_aside() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let db = store(dir.path());
        std::fs::create_dir_all(&jdir).unwrap();
        journal_id(&jdir).unwrap();
        let mut seg = Segment::create(&jdir, 1, 4096).unwrap();
        let mut buf = Vec::new();
        (1..=3).for_each(|n| encode_record(&mut buf, n as u64, &entry(n)));
        let second = buf.len() / 3;
        buf[second + HEADER + 2] ^= 0xff;
        seg.append(&buf).unwrap();
        drop(Journal::open(&jdir, db.clone()).unwrap());
        assert_eq!(correlation_ids(db.as_ref()), ["c-1"]);
        assert!(jdir.join(format!("{:020}.damaged", 1)).exists());
    }

    // Records journaled but never indexed (the process died first) are indexed at the next
    // open, once; a second open indexes nothing again.
    #[test]
    fn records_not_yet_indexed_are_replayed_at_open_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let db = store(dir.path());
        {
            std::fs::create_dir_all(&jdir).unwrap();
            let id = journal_id(&jdir).unwrap();
            let mut seg = Segment::create(&jdir, 1, 4096).unwrap();
            let mut buf = Vec::new();
            (1..=5).for_each(|n| encode_record(&mut buf, n as u64, &entry(n)));
            seg.append(&buf).unwrap();
            // Records 1–2 were indexed before the crash.
            db.index_journal(&id, &[(1, entry(1)), (2, entry(2))], 2)
                .unwrap();
        }
        drop(Journal::open(&jdir, db.clone()).unwrap());
        drop(Journal::open(&jdir, db.clone()).unwrap());
        assert_eq!(
            correlation_ids(db.as_ref()),
            ["c-1", "c-2", "c-3", "c-4", "c-5"]
        );
        assert!(
            segments(&jdir).unwrap().len() <= 1,
            "indexed segments retired"
        );
    }

    #[test]
    fn full_segments_rotate_and_are_removed_once_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let journal = Journal::open_sized(&jdir, store(dir.path()), 1024).unwrap();
        for n in 0..100 {
            journal.append(&[entry(n)]).unwrap();
        }
        assert_eq!(journal.query(&AuditQuery::default()).unwrap().len(), 100);
        // The indexer retires after indexing; the query above waited for that indexing.
        let deadline = Instant::now() + Duration::from_secs(5);
        while segments(&jdir).unwrap().len() > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            segments(&jdir).unwrap().len(),
            1,
            "only the open segment stays"
        );
    }

    #[test]
    fn a_second_server_on_the_same_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let _first = Journal::open(&jdir, store(dir.path())).unwrap();
        let second = Journal::open(&jdir, store(dir.path()));
        assert!(matches!(second, Err(StoreError::JournalInUse(_))));
    }

    /// An index over SQLite that refuses, as data, any entry whose person holds a NUL (as
    /// PostgreSQL does), and fails every call while `down` is set, as a database that is away.
    struct TestIndex {
        db: Arc<SqliteStore>,
        down: AtomicBool,
        /// Index calls wait while set, as a database that does not answer.
        hung: AtomicBool,
    }

    impl TestIndex {
        fn over(db: &Arc<SqliteStore>) -> Arc<Self> {
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
    }

    // One record the database refuses must not stop the trail (nor the next start).
    #[test]
    fn a_record_the_index_refuses_is_set_aside_and_the_others_are_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let db = store(dir.path());
        let index = TestIndex::over(&db);
        let mut bad = entry(2);
        bad.person = "a\0b".into();
        {
            let journal = Journal::open(&jdir, index.clone()).unwrap();
            journal.append(&[entry(1)]).unwrap();
            journal.append(&[bad]).unwrap();
            journal.append(&[entry(3)]).unwrap();
            assert_eq!(correlation_ids(&journal), ["c-1", "c-3"]);
        }
        let quarantined = std::fs::read_to_string(jdir.join("quarantine.jsonl")).unwrap();
        assert_eq!(quarantined.lines().count(), 1);
        assert!(quarantined.contains(r#""sequence":2"#), "{quarantined}");
        drop(Journal::open(&jdir, index).unwrap());
        assert_eq!(correlation_ids(db.as_ref()), ["c-1", "c-3"]);
    }

    // AC-2 while the database is away: answers go on, the records held in memory stay
    // bounded, and once it is back every record is indexed exactly once, the ones beyond
    // the bound read back from the journal's files.
    #[test]
    fn ac2_a_database_away_bounds_the_backlog_and_loses_no_record() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path());
        let away = TestIndex::over(&db);
        let journal =
            Journal::open_bounded(&dir.path().join("j"), away.clone(), SEGMENT_BYTES, 10).unwrap();
        away.down.store(true, Ordering::Release);
        for i in 0..100 {
            journal.append(&[entry(i)]).unwrap();
        }
        assert!(journal.backlog.held.load(Ordering::Acquire) <= 10);
        assert!(
            journal.backlog.left_in_files.load(Ordering::Acquire) >= 80,
            "records beyond the bound were left in the files"
        );
        away.down.store(false, Ordering::Release);
        let mut expected: Vec<String> = (0..100).map(|i| format!("c-{i}")).collect();
        expected.sort();
        assert_eq!(correlation_ids(&journal), expected);
        drop(journal);
        assert_eq!(
            correlation_ids(db.as_ref()),
            expected,
            "each once, also after the stop"
        );
    }

    // `pu-adapter audit` beside a running server: both index, no record twice.
    #[test]
    fn indexing_beside_the_owner_never_indexes_a_record_twice() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let db = store(dir.path());
        let journal = Journal::open(&jdir, db.clone()).unwrap();
        for n in 0..200 {
            journal.append(&[entry(n)]).unwrap();
            if n % 50 == 0 {
                index_pending(&jdir, db.as_ref()).unwrap();
            }
        }
        index_pending(&jdir, db.as_ref()).unwrap();
        let ids = correlation_ids(&journal);
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!((ids.len(), unique.len()), (200, 200));
    }

    // A database call that never returns must not keep a stopping server from exiting,
    // and what it was indexing is indexed at the next start.
    #[test]
    fn a_hung_database_call_does_not_hold_the_stop_and_loses_no_record() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let db = store(dir.path());
        let index = TestIndex::over(&db);
        let mut journal = Journal::open(&jdir, index.clone()).unwrap();
        journal.stop_wait = Duration::from_millis(300);
        index.hung.store(true, Ordering::Release);
        journal.append(&[entry(1)]).unwrap();
        // The indexer's next round enters the hung call.
        std::thread::sleep(INDEX_EVERY * 3);
        let stopping = Instant::now();
        drop(journal);
        let took = stopping.elapsed();
        assert!(
            took < Duration::from_secs(3),
            "the stop waited {took:?} for a hung database call"
        );
        assert!(correlation_ids(db.as_ref()).is_empty());
        index.hung.store(false, Ordering::Release);
        // The thread left behind may index the record itself once the call returns; either
        // way, after the next start it is there exactly once.
        drop(Journal::open(&jdir, index).unwrap());
        assert_eq!(correlation_ids(db.as_ref()), ["c-1"]);
    }
}
