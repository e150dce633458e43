use crate::store::journal::test_support::*;
use crate::store::journal::Journal;
use crate::store::AuditLog;

// One record the database refuses must not stop the trail (nor the next start).
#[test]
fn a_record_the_index_refuses_is_set_aside_and_the_others_are_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("j");
    let db = store(dir.path());
    let index = TestIndex::over(&db);
    let mut bad = entry(2);
    bad.person = "a\0b".into();
    {
        let journal = Journal::open(&jdir, index.clone()).unwrap();
        journal.append(&[entry(1)]).unwrap();
        journal.append(&[bad]).unwrap();
        journal.append(&[entry(3)]).unwrap();
        assert_eq!(correlation_ids(&journal), ["c-1", "c-3"]);
    }
    let quarantined = std::fs::read_to_string(jdir.join("quarantine.jsonl")).unwrap();
    assert_eq!(quarantined.lines().count(), 1);
    assert!(quarantined.contains(r#""sequence":2"#), "{quarantined}");
    drop(Journal::open(&jdir, index).unwrap());
    assert_eq!(correlation_ids(db.as_ref()), ["c-1", "c-3"]);
}
