//! Group commit for the audit trail: concurrent callers' entries are appended in one
//! transaction (one fsync) and each caller returns only after that transaction commits,
//! so every answered read is durably audited without paying a sync per request.

use super::{Decide, PersonState, Store, StoreError, Upserted};
use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{Person, PersonId, Violation};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// Most entries committed in one transaction.
const MAX_BATCH: usize = 4_096;

type Ack = Sender<Result<(), String>>;

/// Wraps a store; `append_audit` is batched across callers, everything else passes through.
pub struct GroupCommit {
    inner: Arc<dyn Store>,
    queue: Mutex<Sender<(Vec<AuditEntry>, Ack)>>,
}

impl GroupCommit {
    /// Starts the committer thread for `inner`.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        let (tx, rx) = channel();
        let store = inner.clone();
        std::thread::Builder::new()
            .name("audit-group-commit".into())
            .spawn(move || commit_loop(store.as_ref(), &rx))
            .expect("spawn the audit committer thread");
        Self { inner, queue: Mutex::new(tx) }
    }
}

/// Waits for one submission, takes every other one already queued, commits them together.
fn commit_loop(store: &dyn Store, rx: &Receiver<(Vec<AuditEntry>, Ack)>) {
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
        let outcome = store.append_audit(&entries).map_err(|e| e.to_string());
        tracing::debug!(submissions = batch.len(), entries = entries.len(), commit_us = started.elapsed().as_micros() as u64, "audit batch committed");
        for (_, ack) in batch {
            let _ = ack.send(outcome.clone());
        }
    }
}

impl Store for GroupCommit {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping()
    }

    fn load(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonState>>, StoreError> {
        self.inner.load(ids)
    }

    fn update_contacts(&self, id: &PersonId, decide: Decide<'_>, audit: &AuditEntry) -> Result<Result<PersonState, Violation>, StoreError> {
        self.inner.update_contacts(id, decide, audit)
    }

    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError> {
        self.inner.upsert_persons(persons)
    }

    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let (ack, done) = channel();
        let sender = self.queue.lock().map_err(|_| StoreError::Database("audit queue lock poisoned".into()))?.clone();
        sender.send((entries.to_vec(), ack)).map_err(|_| StoreError::Database("the audit committer has stopped".into()))?;
        match done.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Database(e)),
            Err(_) => Err(StoreError::Database("the audit committer has stopped".into())),
        }
    }

    fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.query_audit(query)
    }

    fn count_persons(&self) -> Result<u64, StoreError> {
        self.inner.count_persons()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    // AC-2: batched appends from many threads all land, each acknowledged after its commit.
    #[test]
    fn ac2_group_commit_appends_every_callers_entries() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        let store = Arc::new(GroupCommit::new(inner));
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let e = AuditEntry::now("SE-C", "GetPersonsForProfile", false, "LA", &format!("{t}-{i}"), format!("p:{t}"));
                        store.append_audit(&[e]).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.query_audit(&AuditQuery::default()).unwrap().len(), 800);
        assert_eq!(store.query_audit(&AuditQuery { person: Some("p:3".into()), ..Default::default() }).unwrap().len(), 50);
    }
}
