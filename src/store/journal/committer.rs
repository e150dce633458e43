//! The committer thread: gathers concurrent submissions into one batch, writes it to the
//! open segment with one `fdatasync`, acknowledges every caller of the batch with its
//! outcome, and hands the records to the indexer while the backlog allows.

use super::faults::Faults;
use super::record::encode_record;
use super::segment::{discard, segment_path, Segment};
use super::{set_marks, Backlog, Committed, Progress, Submission, LINGER, MAX_BATCH};
use crate::store::StoreError;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

/// Writes batches, one `fdatasync` each, and acknowledges them.
pub(super) struct Committer {
    pub(super) dir: PathBuf,
    pub(super) segment: Segment,
    pub(super) segment_bytes: u64,
    pub(super) faults: Faults,
    pub(super) next: u64,
    pub(super) progress: Arc<Progress>,
    pub(super) backlog: Arc<Backlog>,
}

impl Committer {
    pub(super) fn run(
        mut self,
        submissions: &Receiver<Submission>,
        to_indexer: &Sender<Committed>,
    ) {
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
            // Admitted before the acknowledgements: once a caller has its answer, its
            // records are counted against the backlog's bound or left in the files.
            let handed_over = outcome.is_ok()
                && self
                    .backlog
                    .admit(usize::try_from(self.next - first_seq).unwrap_or(usize::MAX));
            let mut records = Vec::new();
            for Submission { entries, ack } in batch {
                let _ = ack.send(outcome.clone());
                if handed_over {
                    records.extend(entries);
                }
            }
            if handed_over {
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
            self.segment = Segment::create(&self.dir, first_seq, self.segment_bytes, &self.faults)?;
        }
        let path = segment_path(&self.dir, self.segment.first);
        self.segment.append(bytes).map_err(|source| {
            if self.segment.offset == 0 {
                // Nothing acknowledged is in it, and no indexer knows it: it would stay forever.
                discard(&self.dir, &path);
            }
            StoreError::Journal { path, source }
        })
    }
}

/// `first` and every submission already queued, up to MAX_BATCH entries.
pub(super) fn gather(first: Submission, queue: &Receiver<Submission>) -> Vec<Submission> {
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

#[cfg(test)]
mod tests;
