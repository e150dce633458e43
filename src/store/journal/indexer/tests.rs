use crate::store::journal::faults::Faults;
use crate::store::journal::record::{encode_record, HEADER};
use crate::store::journal::segment::{journal_id, segments, Segment};
use crate::store::journal::test_support::*;
use crate::store::journal::{index_pending, Journal};
use crate::store::AuditLog;

// Damage with records after it is not a torn write: the segment is kept, not removed.
#[test]
fn a_damaged_record_with_data_after_it_keeps_the_segment_aside() {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("j");
    let db = store(dir.path());
    std::fs::create_dir_all(&jdir).unwrap();
    journal_id(&jdir).unwrap();
    let mut seg = Segment::create(&jdir, 1, 4096, &Faults::default()).unwrap();
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
        let mut seg = Segment::create(&jdir, 1, 4096, &Faults::default()).unwrap();
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
