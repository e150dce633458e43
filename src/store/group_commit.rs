//! Group commit for the audit trail: concurrent callers' entries are appended in one
//! transaction (one fsync) and each caller returns only after that transaction commits,
//! so every answered read is durably audited without paying a sync per request.

use super::{AuditLog, StoreError};
use crate::audit::{AuditEntry, AuditQuery};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// Most entries committed in one transaction.
const MAX_BATCH: usize = 4_096;

/// Tells one caller how its batch ended; a failure is shared by every caller in the batch.
type Ack = Sender<Result<(), Arc<StoreError>>>;

/// Wraps an audit log; appends are batched across callers.
pub(crate) struct GroupCommit {
    inner: Arc<dyn AuditLog>,
    queue: Mutex<Sender<(Vec<AuditEntry>, Ack)>>,
}

impl GroupCommit {
    /// Starts the committer thread for `inner`.
    pub(crate) fn new(inner: Arc<dyn AuditLog>) -> Result<Self, StoreError> {
        let (tx, rx) = channel();
        let log = inner.clone();
        std::thread::Builder::new()
            .name("audit-group-commit".into())
            .spawn(move || commit_loop(log.as_ref(), &rx))
            .map_err(|source| StoreError::Thread {
                what: "audit committer",
                source,
            })?;
        Ok(Self {
            inner,
            queue: Mutex::new(tx),
        })
    }
}

/// Waits for one submission, takes every other one already queued, commits them together.
fn commit_loop(log: &dyn AuditLog, rx: &Receiver<(Vec<AuditEntry>, Ack)>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let mut count = batch[0].0.len();
        while count < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => {
                    count += next.0.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let entries: Vec<AuditEntry> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
        let started = std::time::Instant::now();
        let outcome = log.append(&entries).map_err(Arc::new);
        crate::metrics::global().audit_committed(started.elapsed());
        tracing::debug!(
            submissions = batch.len(),
            entries = entries.len(),
            commit_us = started.elapsed().as_micros() as u64,
            "audit batch committed"
        );
        for (_, ack) in batch {
            let _ = ack.send(outcome.clone());
        }
    }
}

impl AuditLog for GroupCommit {
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let (ack, done) = channel();
        let sender = self
            .queue
            .lock()
            .map_err(|_| StoreError::Poisoned("audit queue"))?
            .clone();
        sender
            .send((entries.to_vec(), ack))
            .map_err(|_| StoreError::CommitterStopped)?;
        match done.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Batch(e)),
            Err(_) => Err(StoreError::CommitterStopped),
        }
    }

    fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.query(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Caller, Source};
    use crate::store::sqlite::SqliteStore;

    // AC-2: batched appends from many threads all land, each acknowledged after its commit.
    #[test]
    fn ac2_group_commit_appends_every_callers_entries() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn AuditLog> =
            Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        let store = Arc::new(GroupCommit::new(inner).unwrap());
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let correlation_id = format!("{t}-{i}");
                        let caller = Caller {
                            consumer: "SE-C",
                            source: Source::Import,
                            logical_address: "LA",
                            correlation_id: &correlation_id,
                        };
                        store
                            .append(&[AuditEntry::now(&caller, format!("p:{t}"))])
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.query(&AuditQuery::default()).unwrap().len(), 800);
        assert_eq!(
            store
                .query(&AuditQuery {
                    person: Some("p:3".into()),
                    ..Default::default()
                })
                .unwrap()
                .len(),
            50
        );
    }
}
