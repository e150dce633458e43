use crate::audit::AuditQuery;
use crate::store::journal::segment::segments;
use crate::store::journal::test_support::*;
use crate::store::journal::Journal;
use crate::store::AuditLog;
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
