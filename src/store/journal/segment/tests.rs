use crate::store::journal::faults::{FaultPoint, Faults};
use crate::store::journal::segment::{segments, Segment};
use crate::store::journal::test_support::{store, Script};
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

// A segment that cannot be made whole (full disk, failed preallocation or sync) leaves no
// file: no indexer knows it, and it would stay forever.
#[test]
fn a_segment_that_fails_to_be_made_leaves_no_file_behind() {
    for point in [
        FaultPoint::Create,
        FaultPoint::Preallocate,
        FaultPoint::CreateSync,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let script = Script::new(vec![(point, 0)]);
        script.install(dir.path());
        let faults = Faults::for_dir(dir.path());
        let made = Segment::create(dir.path(), 7, 4096, &faults);
        assert!(made.is_err(), "{point:?}: the segment was made");
        assert_eq!(
            segments(dir.path()).unwrap(),
            vec![],
            "{point:?}: a file was left"
        );
        assert!(Segment::create(dir.path(), 7, 4096, &faults).is_ok());
    }
}
