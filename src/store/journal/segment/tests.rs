use crate::store::journal::test_support::store;
use crate::store::journal::Journal;
use crate::store::StoreError;

#[test]
fn a_second_server_on_the_same_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("j");
    let _first = Journal::open(&jdir, store(dir.path())).unwrap();
    let second = Journal::open(&jdir, store(dir.path()));
    assert!(matches!(second, Err(StoreError::JournalInUse(_))));
}
