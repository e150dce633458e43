//! The indexer thread and the replay: copies committed records into the database's index
//! (the journal's mark moving in the same transaction) and removes segments once every
//! record in them is indexed.

use super::quarantine::quarantine;
use super::record::{read_records, Tail};
use super::segment::{remove_segment, segment_path, segments};
use super::{set_marks, Backlog, Committed, Progress, INDEX_EVERY, MAX_BATCH};
use crate::audit::AuditEntry;
use crate::store::{AuditLog, StoreError};
use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

/// Copies committed records into the database index and retires indexed segments.
pub(super) struct Indexer {
    pub(super) id: String,
    pub(super) dir: PathBuf,
    pub(super) inner: Arc<dyn AuditLog>,
    pub(super) progress: Arc<Progress>,
    pub(super) stopping: Arc<AtomicBool>,
    /// First sequences of the segments not yet removed, oldest first.
    pub(super) live: VecDeque<u64>,
    pub(super) backlog: Arc<Backlog>,
}

impl Indexer {
    /// Every INDEX_EVERY: indexes what was committed meanwhile (transactions of at most
    /// MAX_BATCH). Polling instead of waiting on the channel keeps the committer from waking
    /// this thread once per batch; the answers never wait for it, audit queries do.
    pub(super) fn run(mut self, committed: &Receiver<Committed>) {
        loop {
            std::thread::sleep(INDEX_EVERY);
            let mut records = Vec::new();
            let finished = loop {
                match committed.try_recv() {
                    Ok(batch) => {
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
            // Counted against the bound until indexed (or read back from the files), not
            // until received: the records held here while the index is slow are memory too.
            let held = records.len();
            drop(records);
            self.backlog.release(held);
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
pub(super) struct Replayed {
    pub(super) mark: u64,
    pub(super) highest: u64,
    pub(super) indexed: usize,
    /// Segments with readable data after a record whose checksum failed: kept, not removed.
    pub(super) damaged: Vec<PathBuf>,
}

/// Indexes every record above the mark, segment by segment.
pub(super) fn replay(dir: &Path, id: &str, inner: &dyn AuditLog) -> Result<Replayed, StoreError> {
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
        let tail = read_records::<StoreError>(BufReader::new(file), &path, mark, |seq, entry| {
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
pub(super) fn index_robustly(
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

#[cfg(test)]
mod tests;
