//! The storage suite, run against SQLite and, when `PU_ADAPTER_TEST_POSTGRES_URL` is set
//! (CI sets it), PostgreSQL: transactions, concurrency, audit, deletion, import.

use crate::common::*;
use pu_adapter::audit::{AuditQuery, Outcome};
use pu_adapter::contracts::Contract;
use pu_adapter::store::postgres::PostgresStore;
use pu_adapter::store::sqlite::SqliteStore;
use pu_adapter::store::{PersonStore, Stores};
use std::sync::Arc;

/// A fresh store of one backend; keeps its temporary directory alive.
struct Backend {
    name: &'static str,
    store: Stores,
    _dir: Option<tempfile::TempDir>,
}

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let mut out = vec![Backend {
        name: "sqlite",
        store: Stores::direct(sqlite),
        _dir: Some(dir),
    }];
    match std::env::var("PU_ADAPTER_TEST_POSTGRES_URL") {
        Ok(url) => out.push(Backend {
            name: "postgresql",
            store: Stores::direct(Arc::new(fresh_postgres(&url))),
            _dir: None,
        }),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set PU_ADAPTER_TEST_POSTGRES_URL"
            );
            eprintln!("skipped for postgresql: PU_ADAPTER_TEST_POSTGRES_URL not set");
        }
    }
    for b in &out {
        pu_adapter::demo::load(b.store.persons.as_ref(), &Default::default()).unwrap();
    }
    out
}

/// A new empty database on the server at `url`, so tests never see each other's data.
fn fresh_postgres(url: &str) -> PostgresStore {
    let name = format!("pu_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    PostgresStore::open(
        &format!("{url} dbname={name}"),
        8,
        test_postgres_ca().as_deref(),
    )
    .unwrap()
}

const HANNA: &str = "199002026780";

fn update_payload(
    contract: Contract,
    person: &str,
    version: Option<&str>,
    contacts: &[(&str, &str, bool)],
) -> String {
    let ns = contract.responder_ns();
    let version = version
        .map(|v| format!("<versionToUpdate>{v}</versionToUpdate>"))
        .unwrap_or_default();
    let entries: String = contacts
        .iter()
        .map(|(t, v, d)| format!("<contactInformation><c:contactType>{t}</c:contactType><c:value>{v}</c:value><c:digitalNotification>{d}</c:digitalNotification></contactInformation>"))
        .collect();
    format!(
        r#"<{n} xmlns="{ns}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><actor><c:id><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{person}</c:extension></c:id></actor><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{person}</c:extension></personId>{version}{entries}</{n}>"#,
        n = contract.name()
    )
}

fn read_payload(person: &str) -> String {
    format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{person}</c:extension></personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    )
}

fn key(pnr: &str) -> String {
    format!("1.2.752.129.2.1.3.1:{pnr}")
}

// AC-2: reads, changes and refusals are all in the audit trail, listable per person.
#[test]
fn ac2_every_access_is_audited_and_listable_per_person() {
    for b in backends() {
        let s = &b.store;
        call(
            s,
            Contract::GetPersonsForProfile,
            CONSUMER,
            &read_payload(HANNA),
        );
        call(
            s,
            Contract::UpdatePersonContactInformation,
            CONSUMER,
            &update_payload(
                Contract::UpdatePersonContactInformation,
                HANNA,
                None,
                &[("sms", "+46701112233", true)],
            ),
        );
        call(
            s,
            Contract::UpdatePersonContactInformation,
            CONSUMER,
            &update_payload(
                Contract::UpdatePersonContactInformation,
                HANNA,
                None,
                &[("sms", "+46701112233", true)],
            ),
        );
        call(
            s,
            Contract::GetPersonsForProfileUnrestricted,
            EXTENDED,
            &unrestricted(&read_payload(HANNA), Contract::GetPersonsForProfile),
        );
        let entries = s
            .audit
            .query(&AuditQuery {
                person: Some(key(HANNA)),
                ..Default::default()
            })
            .unwrap();
        let summary: Vec<(String, Outcome, Option<String>, bool)> = entries
            .iter()
            .map(|e| {
                (
                    e.contract.as_str().to_owned(),
                    e.outcome,
                    e.error_code.map(|c| c.as_str().to_owned()),
                    e.unrestricted,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("GetPersonsForProfile".into(), Outcome::Ok, None, false),
                (
                    "UpdatePersonContactInformation".into(),
                    Outcome::Ok,
                    None,
                    false
                ),
                (
                    "UpdatePersonContactInformation".into(),
                    Outcome::Error,
                    Some("VERSION_CONFLICT".into()),
                    false
                ),
                (
                    "GetPersonsForProfileUnrestricted".into(),
                    Outcome::Ok,
                    None,
                    true
                ),
            ],
            "{}",
            b.name
        );
        assert!(entries
            .iter()
            .all(|e| e.correlation_id == "test-correlation"
                && e.logical_address == "SE2321000016-LA01"));
        assert_eq!(entries[3].consumer, EXTENDED);
        let by_consumer = s
            .audit
            .query(&AuditQuery {
                consumer: Some(EXTENDED.into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(by_consumer.len(), 1, "{}", b.name);
        let future = s
            .audit
            .query(&AuditQuery {
                since: Some("2999-01-01T00:00:00Z".parse().unwrap()),
                ..Default::default()
            })
            .unwrap();
        assert!(future.is_empty());
    }
}

// AC-2: the audit trail is append-only in the database itself.
#[test]
fn ac2_audit_rows_cannot_be_changed_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    pu_adapter::demo::load(store.as_ref(), &Default::default()).unwrap();
    call(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &read_payload(HANNA),
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert!(conn.execute("UPDATE audit SET consumer = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM audit", []).is_err());
}

// CO-3: 100 concurrent updates with the same versionToUpdate: exactly one wins.
#[test]
fn co3_concurrent_updates_with_the_same_version_exactly_one_succeeds() {
    for b in backends() {
        let store = b.store.clone();
        let handles: Vec<_> = (0..100)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let number = format!("+467011{i:05}");
                    let payload = update_payload(
                        Contract::UpdatePersonContactInformation,
                        HANNA,
                        None,
                        &[("sms", &number, true)],
                    );
                    let answer = call(
                        &store,
                        Contract::UpdatePersonContactInformation,
                        CONSUMER,
                        &payload,
                    );
                    (
                        number,
                        text_of(&answer.body, "resultCode").map(str::to_owned),
                        text_of(&answer.body, "errorCode").map(str::to_owned),
                    )
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<_> = results
            .iter()
            .filter(|r| r.1.as_deref() == Some("OK"))
            .collect();
        assert_eq!(winners.len(), 1, "{}: {results:?}", b.name);
        assert!(
            results
                .iter()
                .filter(|r| r.1.as_deref() != Some("OK"))
                .all(|r| r.2.as_deref() == Some("VERSION_CONFLICT")),
            "{}",
            b.name
        );
        let id = pu_adapter::domain::IdentifierPolicy::default()
            .parse_number(HANNA)
            .unwrap();
        let state = store.persons.load(&[id]).unwrap().pop().flatten().unwrap();
        let stored: Vec<&str> = state
            .contacts
            .as_ref()
            .unwrap()
            .entries
            .iter()
            .map(|e| e.channel.value())
            .collect();
        assert_eq!(stored, vec![winners[0].0.as_str()], "{}", b.name);
        let audit = store
            .audit
            .query(&AuditQuery {
                person: Some(key(HANNA)),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(audit.len(), 100, "{}", b.name);
    }
}

// CO-3: each change gets a strictly greater version; the version read is the one to send back.
#[test]
fn co3_versions_chain_through_reads_and_updates() {
    for b in backends() {
        let s = &b.store;
        let c = Contract::UpdatePersonContactInformation;
        let first = call(
            s,
            c,
            CONSUMER,
            &update_payload(c, HANNA, None, &[("email", "hanna@example.se", true)]),
        );
        let v1 = text_of(&first.body, "version").unwrap().to_owned();
        let second = call(
            s,
            c,
            CONSUMER,
            &update_payload(
                c,
                HANNA,
                Some(&v1),
                &[("email", "hanna2@example.se", false)],
            ),
        );
        assert_eq!(
            text_of(&second.body, "resultCode"),
            Some("OK"),
            "{}",
            b.name
        );
        let v2 = text_of(&second.body, "version").unwrap().to_owned();
        assert!(v2 > v1, "{v2} > {v1}");
        let read = call(
            s,
            Contract::GetPersonsForProfile,
            CONSUMER,
            &read_payload(HANNA),
        );
        assert_eq!(text_of(&read.body, "version"), Some(v2.as_str()));
        assert_eq!(
            texts_of(&read.body, "value"),
            vec!["1990-02-02", "hanna2@example.se"]
        );
    }
}

// CO-2: a refused update leaves the stored state exactly as it was.
#[test]
fn co2_a_refused_update_changes_nothing() {
    for b in backends() {
        let s = &b.store;
        let c = Contract::UpdatePersonContactInformation;
        let id = pu_adapter::domain::IdentifierPolicy::default()
            .parse_number("191212121212")
            .unwrap();
        let before = s.persons.load(std::slice::from_ref(&id)).unwrap();
        let version = before[0]
            .as_ref()
            .unwrap()
            .contacts
            .as_ref()
            .unwrap()
            .version
            .to_string();
        let refused = call(
            s,
            c,
            CONSUMER,
            &update_payload(
                c,
                "191212121212",
                Some(&version),
                &[
                    ("sms", "+46701112233", true),
                    ("email", "not an address", true),
                ],
            ),
        );
        assert_eq!(
            text_of(&refused.body, "errorCode"),
            Some("INVALID_EMAIL_ADDRESS"),
            "{}",
            b.name
        );
        assert_eq!(
            s.persons.load(std::slice::from_ref(&id)).unwrap(),
            before,
            "{}",
            b.name
        );
    }
}

// CO-2: removal deletes the values from the database files, not only from the answer.
#[test]
fn co2_removed_values_are_gone_from_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    pu_adapter::demo::load(store.as_ref(), &Default::default()).unwrap();
    let c = Contract::UpdatePersonContactInformation;
    let secret = "unforgettable.secret.address@example.se";
    let first = call(
        &store,
        c,
        CONSUMER,
        &update_payload(
            c,
            HANNA,
            None,
            &[("email", secret, true), ("sms", "+46709876543", true)],
        ),
    );
    let v1 = text_of(&first.body, "version").unwrap().to_owned();
    store.checkpoint().unwrap();
    let scan = |needle: &str| -> bool {
        ["t.db", "t.db-wal"].iter().any(|f| {
            std::fs::read(dir.path().join(f))
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
        })
    };
    assert!(
        scan(secret),
        "the value must be on disk before removal (else this test proves nothing)"
    );
    let removal = call(
        &store,
        c,
        CONSUMER,
        &update_payload(c, HANNA, Some(&v1), &[]),
    );
    assert_eq!(text_of(&removal.body, "resultCode"), Some("OK"));
    store.checkpoint().unwrap();
    assert!(
        !scan(secret),
        "removed e-mail address still in the database files"
    );
    assert!(
        !scan("+46709876543"),
        "removed number still in the database files"
    );
    let audit = pu_adapter::store::AuditLog::query(
        store.as_ref(),
        &AuditQuery {
            person: Some(key(HANNA)),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(audit.len(), 2, "the removal itself is kept: who and when");
}

// PR-4: a person who becomes protected is protected for the very next request.
#[test]
fn pr4_protection_from_an_import_erases_contact_information_at_once_for_good() {
    for b in backends() {
        let s = &b.store;
        let before = call(
            s,
            Contract::GetPersonsForProfile,
            CONSUMER,
            &read_payload("191212121212"),
        );
        assert_eq!(
            text_of(&before.body, "contactType"),
            Some("sms"),
            "{}",
            b.name
        );
        let line = r#"{"personId":"191212121212","givenName":"Tolvan","surname":"Tolvansson","protection":{"sekretessmarkering":true}}"#;
        let summary = pu_adapter::import::import(
            line.as_bytes(),
            s.persons.as_ref(),
            &Default::default(),
            |_| {},
        )
        .unwrap();
        assert_eq!(summary.updated, 1);
        let after = call(
            s,
            Contract::GetPersonsForProfile,
            CONSUMER,
            &read_payload("191212121212"),
        );
        assert_eq!(
            text_of(&after.body, "contactType"),
            None,
            "{}: {}",
            b.name,
            after.body
        );
        assert_eq!(
            text_of(&after.body, "protectedPersonIndicator"),
            Some("true")
        );
        let unrestricted = unrestricted(
            &read_payload("191212121212"),
            Contract::GetPersonsForProfile,
        );
        let ext = call(
            s,
            Contract::GetPersonsForProfileUnrestricted,
            EXTENDED,
            &unrestricted,
        );
        assert_eq!(
            text_of(&ext.body, "contactType"),
            None,
            "{}: erased at once, not only withheld: {}",
            b.name,
            ext.body
        );
        // The erasure is in the trail, with its reason and never the values.
        let trail = s
            .audit
            .query(&AuditQuery {
                person: Some(key("191212121212")),
                ..Default::default()
            })
            .unwrap();
        let erasure = trail.iter().find(|e| {
            e.error_code.map(pu_adapter::audit::AuditCode::as_str) == Some("ERASED_PROTECTED_PR-4")
        });
        let erasure = erasure.unwrap_or_else(|| panic!("{}: no erasure in {trail:?}", b.name));
        assert_eq!(
            (erasure.contract.as_str(), erasure.consumer.as_str()),
            ("import", "pu-adapter-import")
        );
        // Protection lifted: what was erased does not come back (PR-4).
        let lifted = r#"{"personId":"191212121212","givenName":"Tolvan","surname":"Tolvansson","testIndicator":true}"#;
        pu_adapter::import::import(
            lifted.as_bytes(),
            s.persons.as_ref(),
            &Default::default(),
            |_| {},
        )
        .unwrap();
        let again = call(
            s,
            Contract::GetPersonsForProfile,
            CONSUMER,
            &read_payload("191212121212"),
        );
        assert_eq!(
            text_of(&again.body, "protectedPersonIndicator"),
            Some("false")
        );
        assert_eq!(
            text_of(&again.body, "contactType"),
            None,
            "{}: {}",
            b.name,
            again.body
        );
    }
}

/// An import batch is written with multi-row statements; its outcome must be that of
/// writing its persons one after the other: a person given twice ends as the last, an
/// erasure due at an earlier occurrence still happens, and a referred identity claimed by
/// two persons answers for the one that claimed it last.
#[test]
fn pr4_a_bulk_import_batch_ends_as_its_persons_written_in_turn() {
    let policy = pu_adapter::domain::IdentifierPolicy::default();
    let id = |pnr: &str| policy.parse_number(pnr).unwrap();
    for b in backends() {
        let s = &b.store;
        let lines = [
            // Tolvan protected, then not: the contact record goes at the first line (PR-4).
            r#"{"personId":"191212121212","givenName":"Tolvan","surname":"Tolvansson","protection":{"sekretessmarkering":true}}"#,
            r#"{"personId":"199002026780","givenName":"Hanna","surname":"Först","referredIdentities":[{"root":"1.2.752.129.2.1.3.1","extension":"197001011233"}]}"#,
            r#"{"personId":"191212121212","givenName":"Tolvan","surname":"Sist","testIndicator":true}"#,
            r#"{"personId":"200001012384","givenName":"Ny","surname":"Person","referredIdentities":[{"root":"1.2.752.129.2.1.3.1","extension":"197001011233"}]}"#,
            r#"{"personId":"199002026780","givenName":"Hanna","surname":"Sist"}"#,
        ]
        .join("\n");
        let summary = pu_adapter::import::import(
            lines.as_bytes(),
            s.persons.as_ref(),
            &Default::default(),
            |_| {},
        )
        .unwrap();
        assert_eq!(
            (summary.inserted, summary.updated, summary.rejected.len()),
            (1, 4, 0),
            "{}: {summary:?}",
            b.name
        );
        let states = s
            .persons
            .load(&[id("191212121212"), id("199002026780")])
            .unwrap();
        let tolvan = states[0].as_ref().unwrap();
        assert_eq!(tolvan.person.name.surname, "Sist", "{}", b.name);
        assert!(
            tolvan.contacts.is_none(),
            "{}: erased at the protected line even though the last line lifts it",
            b.name
        );
        assert_eq!(states[1].as_ref().unwrap().person.name.surname, "Sist");
        let claimed = s
            .persons
            .load_following_aliases(&[id("197001011233")], true)
            .unwrap();
        assert_eq!(
            claimed[0]
                .as_ref()
                .map(|st| st.person.id.extension().to_owned()),
            Some("200001012384".to_owned()),
            "{}: the referred identity answers for its last claimant",
            b.name
        );
    }
}

#[test]
fn import_reports_bad_lines_with_numbers_and_keeps_the_rest() {
    for b in backends() {
        let lines = [
            r#"{"personId":"200001012384","givenName":"Ny","surname":"Person"}"#,
            r#"{"personId":"200001012385","givenName":"Fel","surname":"Kontrollsiffra"}"#,
            r#"{"personId":"200001012384","givenName":"Ny","surname":"Person","shoeSize":42}"#,
            "not json",
            r#"{"personId":"191212121212","givenName":"Tolvan","surname":"Tolvansson","postalAddress":{"postalCode":"111 22"}}"#,
        ]
        .join("\n");
        let summary = pu_adapter::import::import(
            lines.as_bytes(),
            b.store.persons.as_ref(),
            &Default::default(),
            |_| {},
        )
        .unwrap();
        assert_eq!(summary.inserted, 1, "{}", b.name);
        let numbers: Vec<u64> = summary.rejected.iter().map(|r| r.0).collect();
        assert_eq!(
            numbers,
            vec![2, 3, 4, 5],
            "{}: {:?}",
            b.name,
            summary.rejected
        );
        assert!(summary.rejected[0].1.to_string().contains("check digit"));
        assert!(summary.rejected[1].1.to_string().contains("shoeSize"));
    }
}

#[test]
fn migrations_apply_from_empty_and_again_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let again = SqliteStore::open(&path).unwrap();
    assert_eq!(again.count_persons().unwrap(), 0);
    if let Ok(url) = std::env::var("PU_ADAPTER_TEST_POSTGRES_URL") {
        let pg = fresh_postgres(&url);
        assert_eq!(pg.count_persons().unwrap(), 0);
    }
}

/// The PostgreSQL half of this suite goes through TLS, verified like libpq's verify-full:
/// the test server's certificate passes with its CA and fails with any other.
#[test]
fn postgresql_connections_are_tls_verified_against_the_configured_ca() {
    let Ok(url) = std::env::var("PU_ADAPTER_TEST_POSTGRES_URL") else {
        eprintln!("skipped: PU_ADAPTER_TEST_POSTGRES_URL not set");
        return;
    };
    let Some(ca) = test_postgres_ca() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI's PostgreSQL runs with TLS (.ci/postgres.sh)"
        );
        eprintln!("skipped: the test PostgreSQL runs without TLS");
        return;
    };
    pu_adapter::store::postgres::reachable(&url, Some(&ca)).expect("TLS with the right CA");
    let wrong = repo().join("certs-dev/other-ca.pem");
    let refused = pu_adapter::store::postgres::reachable(&url, Some(&wrong))
        .expect_err("a server certificate from another CA was accepted");
    // The message names the TLS handshake; the cause under it, the certificate.
    let mut chain = refused.to_string();
    let mut source = std::error::Error::source(&refused);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(chain.to_lowercase().contains("tls handshake"), "{chain}");
}

/// A population file of `n` synthetic persons named `surname`; every tenth carries
/// contact information.
fn population_file(n: u64, surname: &str) -> String {
    (0..n)
        .map(|i| {
            let pnr = pu_adapter::testkit::pnr(i);
            let contacts = if i % 10 == 0 {
                format!(r#","contactInformation":[{{"contactType":"email","value":"p{i}@example.se","digitalNotification":true}}]"#)
            } else {
                String::new()
            };
            format!(r#"{{"personId":"{pnr}","givenName":"P","surname":"{surname}"{contacts}}}"#)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_population_reset_is_seen_whole_or_not_at_all() {
    let policy = pu_adapter::domain::IdentifierPolicy::default();
    let (small, large) = (population_file(1_500, "A"), population_file(2_500, "B"));
    for b in backends() {
        let store = b.store.persons.clone();
        let reset = |text: &str| {
            pu_adapter::import::reset(text, store.as_ref(), &policy)
                .unwrap()
                .unwrap()
        };
        reset(&small);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeSet::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    seen.insert(store.count_persons().unwrap());
                }
                seen
            })
        };
        for text in [&large, &small, &large] {
            reset(text);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let seen = reader.join().unwrap();
        assert!(
            seen.iter().all(|n| *n == 1_500 || *n == 2_500),
            "{}: a reader saw a population between two resets: {seen:?}",
            b.name
        );
        let summary = reset(&large);
        assert_eq!(
            (summary.inserted, summary.updated, summary.contacts_seeded),
            (2_500, 0, 250),
            "{}",
            b.name
        );
        let seeded = policy
            .parse_number(&pu_adapter::testkit::pnr(2_490))
            .unwrap();
        let state = store.load(&[seeded]).unwrap().remove(0).unwrap();
        assert_eq!(state.person.name.surname, "B", "{}", b.name);
        assert!(state.contacts.is_some(), "{}: the seed is stored", b.name);
    }
}
