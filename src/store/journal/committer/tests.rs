use crate::audit::AuditQuery;
use crate::store::journal::faults::FaultPoint;
use crate::store::journal::segment::segments;
use crate::store::journal::test_support::*;
use crate::store::journal::Journal;
use crate::store::{AuditLog, StoreError};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

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

/// Appends one record (held in its write), queues 20 more behind it as one batch whose
/// write or sync fails at `point`, then one more; returns what each caller got and the
/// correlation ids indexed after a restart.
fn fail_one_batch(point: FaultPoint, also: Vec<(FaultPoint, usize)>) -> FailedBatch {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("j");
    let db = store(dir.path());
    let mut fail = vec![(point, 1)];
    fail.extend(also);
    let script = Script::new(fail);
    script.hold.store(true, Ordering::Release);
    script.install(&jdir);
    let journal = Journal::open(&jdir, db.clone()).unwrap();
    let first = journal.submit(vec![entry(0)]);
    while script.writes_started.load(Ordering::Acquire) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let batch: Vec<_> = (1..=20).map(|i| journal.submit(vec![entry(i)])).collect();
    script.hold.store(false, Ordering::Release);
    first.wait().unwrap();
    let batch: Vec<_> = batch
        .into_iter()
        .map(crate::store::AuditTicket::wait)
        .collect();
    let after: Vec<_> = (21..=22).map(|i| journal.append(&[entry(i)])).collect();
    let files = segments(&jdir).unwrap().into_iter().map(|s| s.0).collect();
    drop(journal);
    drop(Journal::open(&jdir, db.clone()).unwrap());
    FailedBatch {
        batch,
        after,
        files,
        indexed: correlation_ids(db.as_ref()),
        _dir: dir,
    }
}

struct FailedBatch {
    batch: Vec<Result<(), StoreError>>,
    after: Vec<Result<(), StoreError>>,
    /// Segment files (their first sequences) before the stop.
    files: Vec<u64>,
    indexed: Vec<String>,
    _dir: tempfile::TempDir,
}

fn failed_every_caller(run: &FailedBatch) {
    for (i, r) in run.batch.iter().enumerate() {
        assert!(
            matches!(r, Err(StoreError::Batch(_))),
            "caller {i} of the failed batch got {r:?}"
        );
    }
}

// AC-2: a batch whose write fails fails each of its callers (none is answered as audited),
// the next batch goes to a fresh segment, and every acknowledged record is indexed after a
// restart; nothing of the failed batch was written.
#[test]
fn ac2_a_failed_write_fails_its_whole_batch_and_the_next_goes_to_a_fresh_segment() {
    let run = fail_one_batch(FaultPoint::Write, vec![]);
    failed_every_caller(&run);
    assert!(run.after.iter().all(Result::is_ok), "{:?}", run.after);
    // Records 1 (acknowledged), 2–21 (failed), 22 and 23 (after): 22 opens a fresh segment.
    assert_eq!(run.files, vec![1, 22]);
    assert_eq!(run.indexed, ["c-0", "c-21", "c-22"]);
}

// The same for a failed fdatasync; the failed batch's bytes were written, so its records
// may reach the index after the restart (audited though refused), never the reverse.
#[test]
fn ac2_a_failed_sync_fails_its_whole_batch_and_loses_no_acknowledged_record() {
    let run = fail_one_batch(FaultPoint::Sync, vec![]);
    failed_every_caller(&run);
    assert!(run.after.iter().all(Result::is_ok), "{:?}", run.after);
    assert_eq!(run.files, vec![1, 22]);
    for acked in ["c-0", "c-21", "c-22"] {
        assert!(run.indexed.iter().any(|c| c == acked), "{acked} lost");
    }
}

// After a failed write the fresh segment cannot be made either (a full disk): that batch
// fails too and leaves no file; the one after it gets its own segment.
#[test]
fn ac2_a_fresh_segment_that_cannot_be_made_fails_its_batch_and_leaves_no_file() {
    let run = fail_one_batch(FaultPoint::Write, vec![(FaultPoint::Preallocate, 1)]);
    failed_every_caller(&run);
    assert!(
        matches!(run.after[0], Err(StoreError::Batch(_))),
        "{:?}",
        run.after
    );
    assert!(run.after[1].is_ok(), "{:?}", run.after);
    assert_eq!(run.files, vec![1, 23]);
    assert_eq!(run.indexed, ["c-0", "c-22"]);
}
