//! The one SQLite writer connection, with updates committed in groups.
//!
//! With `synchronous=FULL` every commit waits for the disk, so a commit per update makes
//! concurrent updates queue behind one sync each. Here an update runs in a savepoint of an
//! open transaction and leaves the commit to whoever takes the connection next, as long as
//! somebody is waiting for it: the last of a run commits the whole group with one sync,
//! and every member answers only once that commit is durable. A member that fails rolls
//! back its own savepoint alone; a commit that fails fails every member of the group (none
//! of their changes were kept). Any other use of the connection commits an open group
//! first, so the checkpointer, the audit indexer and imports never see one.

use super::SqliteSql;
use crate::store::sql::Sql;
use crate::store::StoreError;
use rusqlite::Connection;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Members of one group at most: bounds how long the first waits for the commit.
const MAX_GROUP: usize = 64;

/// The writer connection and the group whose transaction is open on it, if any.
pub(super) struct Writer {
    state: Mutex<State>,
    /// Callers blocked on `state`: while there are any, an update leaves the commit to them.
    queued: AtomicUsize,
}

struct State {
    conn: Connection,
    open: Option<OpenGroup>,
}

/// The transaction that members have written in and not yet committed.
struct OpenGroup {
    members: usize,
    outcome: Arc<Outcome>,
}

/// How a group's commit ended, for the members waiting on it.
#[derive(Default)]
struct Outcome {
    ended: Mutex<Option<Result<(), Arc<StoreError>>>>,
    signal: Condvar,
}

impl Outcome {
    fn publish(&self, result: Result<(), Arc<StoreError>>) {
        // A poisoned lock here only means a waiter panicked; the others must still wake.
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        *ended = Some(result);
        self.signal.notify_all();
    }

    fn wait(&self) -> Result<(), StoreError> {
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &*ended {
                Some(Ok(())) => return Ok(()),
                Some(Err(e)) => return Err(StoreError::Group(e.clone())),
                None => {
                    ended = self
                        .signal
                        .wait(ended)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

impl Writer {
    pub(super) fn new(conn: Connection) -> Self {
        Self {
            state: Mutex::new(State { conn, open: None }),
            queued: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.queued.fetch_add(1, Ordering::AcqRel);
        let locked = self.state.lock();
        self.queued.fetch_sub(1, Ordering::AcqRel);
        locked.map_err(|_| StoreError::Poisoned("SQLite writer"))
    }

    /// The connection to itself, with no group open on it: an open one is committed first.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut state = self.lock()?;
        // How that commit ended is its members' answer, not this caller's.
        let _ = state.commit_group();
        f(&mut state.conn)
    }

    /// Runs `f` as one member of a group (in a savepoint of the group's transaction) and
    /// returns its result once the group is durably committed; `f`'s error rolls back its
    /// own changes only.
    pub(super) fn in_group<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut state = self.lock()?;
        let outcome = state.join_group()?;
        let ran = catch_unwind(AssertUnwindSafe(|| state.run_member(f)));
        let own = match ran {
            Ok(own) => own,
            Err(panic) => {
                // The member's savepoint is rolled back and the group goes on; the mutex is
                // released normally, so the writer is not poisoned for everyone after.
                let _ = state.abandon_member(StoreError::Invariant("an update panicked"));
                self.commit_unless_followed(&mut state);
                drop(state);
                resume_unwind(panic);
            }
        };
        let committed_here = self.commit_unless_followed(&mut state);
        drop(state);
        let value = own?;
        match committed_here {
            Some(result) => result.map_err(StoreError::Group).map(|()| value),
            None => outcome.wait().map(|()| value),
        }
    }

    /// Commits the open group when nobody is waiting to join it (or it is full) and returns
    /// how that ended; `None` when a waiting caller takes the commit over.
    fn commit_unless_followed(&self, state: &mut State) -> Option<Result<(), Arc<StoreError>>> {
        let full = state.open.as_ref().is_some_and(|g| g.members >= MAX_GROUP);
        if state.open.is_some() && !full && self.queued.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(state.commit_group())
    }
}

impl State {
    /// The open group's outcome, opening a group (BEGIN IMMEDIATE) when none is.
    fn join_group(&mut self) -> Result<Arc<Outcome>, StoreError> {
        if self.open.is_none() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        let group = self.open.get_or_insert_with(|| OpenGroup {
            members: 0,
            outcome: Arc::default(),
        });
        group.members += 1;
        Ok(group.outcome.clone())
    }

    /// `f` in a savepoint, released when it succeeds and rolled back when it fails.
    fn run_member<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn
            .execute_batch("SAVEPOINT member")
            .map_err(StoreError::from)
            .and_then(|()| f(&mut SqliteSql(&self.conn)))
            .and_then(|value| {
                self.conn.execute_batch("RELEASE member")?;
                Ok(value)
            })
            .map_err(|e| self.abandon_member(e))
    }

    /// Rolls back the current member's savepoint and returns its error. Where that is
    /// impossible (SQLite ends the whole transaction itself on I/O errors and a full disk)
    /// the group failed: every member gets the error.
    fn abandon_member(&mut self, e: StoreError) -> StoreError {
        if !self.conn.is_autocommit()
            && self
                .conn
                .execute_batch("ROLLBACK TO member; RELEASE member")
                .is_ok()
        {
            return e;
        }
        let shared = Arc::new(e);
        self.fail_group(shared.clone());
        StoreError::Group(shared)
    }

    /// Ends the open group without its changes and tells its members why.
    fn fail_group(&mut self, cause: Arc<StoreError>) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        if let Some(group) = self.open.take() {
            group.outcome.publish(Err(cause));
        }
    }

    /// Commits the open group, if any, and tells its members; returns how it ended.
    fn commit_group(&mut self) -> Result<(), Arc<StoreError>> {
        let Some(group) = self.open.take() else {
            return Ok(());
        };
        let result = self.conn.execute_batch("COMMIT").map_err(|e| {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            Arc::new(StoreError::from(e))
        });
        group.outcome.publish(result.clone());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn writer(dir: &std::path::Path) -> Arc<Writer> {
        let conn = super::super::open_connection(&dir.join("w.db"), 64).unwrap();
        conn.execute_batch(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (id INTEGER PRIMARY KEY,
                 parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
             INSERT INTO parent VALUES (1);",
        )
        .unwrap();
        Arc::new(Writer::new(conn))
    }

    fn insert_child(id: i64, parent: i64) -> impl FnOnce(&mut dyn Sql) -> Result<(), StoreError> {
        move |tx| {
            tx.batch(&format!("INSERT INTO child VALUES ({id}, {parent})"))
                .map(|_| ())
        }
    }

    fn children(w: &Writer) -> Vec<i64> {
        w.with(|c| {
            let mut s = c.prepare("SELECT id FROM child ORDER BY id")?;
            let ids = s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .unwrap()
    }

    /// How a member's thread ended: its panic, or its result.
    type Ended<T> = std::thread::Result<Result<T, StoreError>>;

    /// Runs `first` as a member that finishes only once a second caller waits for the
    /// connection, and `second` as that caller: both are in one group, `second` commits it.
    fn in_one_group<A: Send + 'static, B: Send + 'static>(
        w: &Arc<Writer>,
        first: impl FnOnce(&mut dyn Sql) -> Result<A, StoreError> + Send + 'static,
        second: impl FnOnce(&mut dyn Sql) -> Result<B, StoreError> + Send + 'static,
    ) -> (Ended<A>, Ended<B>) {
        let (w1, w2) = (w.clone(), w.clone());
        let (inside, first_is_inside) = std::sync::mpsc::channel();
        let a = std::thread::spawn(move || {
            w1.in_group(|tx| {
                let _ = inside.send(());
                while w1.queued.load(Ordering::Acquire) == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                first(tx)
            })
        });
        first_is_inside.recv().unwrap();
        let b = std::thread::spawn(move || w2.in_group(second));
        (a.join(), b.join())
    }

    #[test]
    fn concurrent_updates_share_commits_and_all_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        w.in_group(insert_child(t * 1000 + i, 1)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(children(&w).len(), 400);
    }

    #[test]
    fn a_failing_member_loses_only_its_own_changes() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        let (a, b) = in_one_group(
            &w,
            |tx| {
                insert_child(1, 1)(tx)?;
                insert_child(1, 1)(tx) // the same key again: refused
            },
            insert_child(2, 1),
        );
        let a = a.unwrap();
        assert!(matches!(a, Err(StoreError::Sqlite(_))), "{a:?}");
        b.unwrap().unwrap();
        assert_eq!(children(&w), vec![2]);
    }

    #[test]
    fn a_failed_commit_fails_every_member_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        // The deferred foreign key is checked only at COMMIT, which the second member runs.
        let (a, b) = in_one_group(&w, insert_child(1, 99), insert_child(2, 1));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(matches!(a, Err(StoreError::Group(_))), "{a:?}");
        assert!(matches!(b, Err(StoreError::Group(_))), "{b:?}");
        assert!(children(&w).is_empty());
        // The connection is usable after it.
        w.in_group(insert_child(3, 1)).unwrap();
        assert_eq!(children(&w), vec![3]);
    }

    #[test]
    fn a_panicking_member_neither_poisons_the_writer_nor_loses_the_group() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        let (a, b) = in_one_group(
            &w,
            insert_child(1, 1),
            |tx: &mut dyn Sql| -> Result<(), StoreError> {
                insert_child(2, 1)(tx)?;
                panic!("a bug in a decision")
            },
        );
        a.unwrap().unwrap();
        assert!(
            b.is_err(),
            "the panicking member's thread ends in its panic"
        );
        assert_eq!(children(&w), vec![1]);
        w.in_group(insert_child(3, 1)).unwrap();
        assert_eq!(children(&w), vec![1, 3]);
    }
}
