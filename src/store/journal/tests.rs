//! The journal as a whole: callers, the backlog, the stop.

use super::test_support::*;
use super::*;
use std::sync::atomic::Ordering;

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

// The backlog's bound counts a record until it is indexed, not until the indexer took it
// from the channel: with the index blocked, the records the indexer holds plus those queued
// for it never exceed the bound; the rest stay in the segment files (durable), and every
// record is indexed once the index answers again.
#[test]
fn ac2_records_held_in_memory_never_exceed_the_backlog_bound_while_the_index_is_blocked() {
    const BOUND: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let blocked = TestIndex::over(&db);
    let journal =
        Journal::open_bounded(&dir.path().join("j"), blocked.clone(), SEGMENT_BYTES, BOUND)
            .unwrap();
    blocked.hung.store(true, Ordering::Release);
    // One batch of BOUND records, which the indexer takes and holds in the blocked call.
    journal
        .append(&(0..BOUND).map(entry).collect::<Vec<_>>())
        .unwrap();
    std::thread::sleep(INDEX_EVERY * 4);
    let mut appended = BOUND;
    for i in BOUND..BOUND + 100 {
        journal.append(&[entry(i)]).unwrap();
        appended += 1;
        // Committed records are indexed, left in the files, or held in memory.
        let indexed = db.query(&AuditQuery::default()).unwrap().len();
        let left = journal.backlog.left_in_files.load(Ordering::Acquire);
        let in_memory = appended - indexed - left;
        assert!(
            in_memory <= BOUND,
            "{in_memory} records held in memory after {appended} appends (bound {BOUND})"
        );
    }
    blocked.hung.store(false, Ordering::Release);
    let mut expected: Vec<String> = (0..appended).map(|i| format!("c-{i}")).collect();
    expected.sort();
    assert_eq!(correlation_ids(&journal), expected);
}

// A stop while the disk hangs in a sync ends within the journal's stop bound (STOP_WAIT in
// a server, shortened here): the committer is left behind, and every acknowledged record is
// indexed at the next start.
#[test]
fn a_stop_while_the_disk_hangs_ends_within_its_bound_and_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("j");
    let db = store(dir.path());
    let script = Script::new(vec![]);
    script.install(&jdir);
    let mut journal = Journal::open(&jdir, db.clone()).unwrap();
    assert_eq!(journal.stop_wait, STOP_WAIT, "a server's stop bound");
    journal.stop_wait = Duration::from_millis(300);
    journal.append(&[entry(0)]).unwrap();
    script.hang.store(true, Ordering::Release);
    let hung = journal.submit(vec![entry(1)]);
    while script.writes_started.load(Ordering::Acquire) < 2 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let stopping = Instant::now();
    drop(journal);
    let took = stopping.elapsed();
    assert!(
        took < Duration::from_millis(300) + Duration::from_secs(1),
        "the stop took {took:?} with the disk hung"
    );
    script.hang.store(false, Ordering::Release);
    // The record being synced is acknowledged once the sync returns; either way, after the
    // next start every acknowledged record is indexed.
    let acked_late = hung.wait().is_ok();
    drop(Journal::open(&jdir, db.clone()).unwrap());
    let ids = correlation_ids(db.as_ref());
    assert!(ids.contains(&"c-0".to_owned()), "{ids:?}");
    if acked_late {
        assert!(ids.contains(&"c-1".to_owned()), "{ids:?}");
    }
}

// A journal carries the identity of its database and is never replayed into another: its
// records would enter that database's trail (and its marks) as if they were its own.
#[test]
fn a_journal_of_another_database_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("j");
    let (adir, bdir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&adir).unwrap();
    std::fs::create_dir_all(&bdir).unwrap();
    let (a, b) = (store(&adir), store(&bdir));
    {
        let journal = Journal::open(&jdir, a.clone()).unwrap();
        journal.append(&[entry(1)]).unwrap();
    }
    let (id_a, id_b) = (
        a.database_identity().unwrap(),
        b.database_identity().unwrap(),
    );
    assert_ne!(id_a, id_b);
    for refused in [
        Journal::open(&jdir, b.clone()).map(drop),
        index_pending(&jdir, b.as_ref()).map(drop),
    ] {
        let err = refused.unwrap_err();
        assert!(
            matches!(&err, StoreError::JournalOfAnotherDatabase { journal_database, database, .. }
                if *journal_database == id_a && *database == id_b),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&id_a) && message.contains(&id_b),
            "{message}"
        );
    }
    assert!(
        correlation_ids(b.as_ref()).is_empty(),
        "nothing replayed into B"
    );
    drop(Journal::open(&jdir, a.clone()).unwrap());
}
