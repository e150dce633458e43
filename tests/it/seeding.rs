//! Contact information in a population file (seeding a staging store): written in the
//! import's own batches, checked and audited as an update, on both backends.

use pu_adapter::audit::{AuditEntry, AuditQuery, Outcome, Source};
use pu_adapter::domain::IdentifierPolicy;
use pu_adapter::import::{import, LineError};
use pu_adapter::store::postgres::PostgresStore;
use pu_adapter::store::sqlite::SqliteStore;
use pu_adapter::store::{AuditLog, PersonStore};
use pu_adapter::testkit::{fresh_postgres_database, pnr, test_postgres_ca};
use std::sync::Arc;

/// A store that is both roles, and what keeps it alive.
trait Both: PersonStore + AuditLog {}
impl<T: PersonStore + AuditLog> Both for T {}

fn stores() -> Vec<(&'static str, Arc<dyn Both>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Both> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let mut out = vec![("sqlite", sqlite, Some(dir))];
    if let Some(url) = fresh_postgres_database("pu_seed") {
        let pg = PostgresStore::open(&url, 4, test_postgres_ca().as_deref()).unwrap();
        out.push(("postgresql", Arc::new(pg) as Arc<dyn Both>, None));
    }
    out
}

fn line(i: u64, contacts: &str) -> String {
    format!(
        r#"{{"personId":"{}","givenName":"P","surname":"S","contactInformation":[{contacts}]}}"#,
        pnr(i)
    )
}

fn email(i: u64) -> String {
    format!(r#"{{"contactType":"email","value":"p{i}@example.se","digitalNotification":true}}"#)
}

fn import_audit(store: &dyn Both, i: u64) -> Vec<AuditEntry> {
    let key = IdentifierPolicy::default()
        .parse_number(&pnr(i))
        .unwrap()
        .key();
    store
        .query(&AuditQuery {
            person: Some(key),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.contract == Source::Import)
        .collect()
}

// CO-1, CO-3, CT-4: seeds are stored, audited and versioned as updates; a line whose
// contacts break a rule is rejected whole while the rest of its batch is stored.
#[test]
fn import_seeds_contacts_in_its_batches_audited_and_refuses_a_broken_line_whole() {
    let policy = IdentifierPolicy::default();
    for (name, store, _dir) in stores() {
        let broken = r#"{"contactType":"sms","value":"0701234567","digitalNotification":true}"#;
        let file = [
            line(0, &email(0)),
            line(1, broken),
            line(2, &email(2)),
            line(3, ""),
        ]
        .join("\n");
        let summary = import(file.as_bytes(), store.as_ref(), &policy, |_| {}).unwrap();
        assert_eq!(
            (summary.inserted, summary.contacts_seeded),
            (3, 3),
            "{name}: {summary:?}"
        );
        assert!(
            matches!(summary.rejected.as_slice(), [(2, LineError::Contact(_))]),
            "{name}: {:?}",
            summary.rejected
        );
        let ids: Vec<_> = (0..4)
            .map(|i| policy.parse_number(&pnr(i)).unwrap())
            .collect();
        let states = store.load(&ids).unwrap();
        assert!(
            states[1].is_none(),
            "{name}: nothing of the broken line is stored"
        );
        let first = states[0].as_ref().and_then(|s| s.contacts.clone());
        let first = first.unwrap_or_else(|| panic!("{name}: the seed is stored"));
        let values: Vec<&str> = first.entries.iter().map(|e| e.channel.value()).collect();
        assert_eq!(values, ["p0@example.se"], "{name}");
        assert!(
            states[3]
                .as_ref()
                .is_some_and(|s| s.contacts.as_ref().is_some_and(|c| c.entries.is_empty())),
            "{name}: an empty list is stored as a withdrawal"
        );
        for i in [0, 2, 3] {
            let audit = import_audit(store.as_ref(), i);
            assert!(
                matches!(audit.as_slice(), [e] if e.outcome == Outcome::Ok && e.consumer == "pu-adapter-import"),
                "{name}: person {i}'s seed is audited once: {audit:?}"
            );
        }
        assert!(import_audit(store.as_ref(), 1).is_empty(), "{name}");

        // The same person twice in one batch, then again in the next import: each seed
        // goes over the one before, with a strictly greater version, each audited.
        let again = [line(0, &email(10)), line(0, &email(20))].join("\n");
        let summary = import(again.as_bytes(), store.as_ref(), &policy, |_| {}).unwrap();
        assert_eq!((summary.updated, summary.contacts_seeded), (2, 2), "{name}");
        let now = store
            .load(&ids[..1])
            .unwrap()
            .remove(0)
            .unwrap()
            .contacts
            .unwrap();
        let values: Vec<&str> = now.entries.iter().map(|e| e.channel.value()).collect();
        assert_eq!(values, ["p20@example.se"], "{name}");
        assert!(
            now.version > first.version,
            "{name}: {:?} after {:?}",
            now.version,
            first.version
        );
        assert_eq!(import_audit(store.as_ref(), 0).len(), 3, "{name}");
    }
}

// PR-2, PR-4: a later line of the batch that makes the person protected erases what an
// earlier line seeded, and the seed is refused and audited as a refusal.
#[test]
fn import_seed_over_a_person_the_batch_protects_is_refused_and_audited() {
    let policy = IdentifierPolicy::default();
    for (name, store, _dir) in stores() {
        let protected = format!(
            r#"{{"personId":"{}","givenName":"P","surname":"S","protection":{{"sekretessmarkering":true}}}}"#,
            pnr(5)
        );
        let file = [line(5, &email(5)), protected].join("\n");
        let summary = import(file.as_bytes(), store.as_ref(), &policy, |_| {}).unwrap();
        assert_eq!(summary.contacts_seeded, 0, "{name}: {summary:?}");
        let id = policy.parse_number(&pnr(5)).unwrap();
        let state = store.load(&[id]).unwrap().remove(0).unwrap();
        assert!(state.contacts.is_none(), "{name}: {state:?}");
        let audit = import_audit(store.as_ref(), 5);
        assert!(
            matches!(audit.as_slice(), [e] if e.outcome == Outcome::Error),
            "{name}: {audit:?}"
        );
    }
}
