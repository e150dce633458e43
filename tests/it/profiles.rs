//! GetPersonsForProfile as the official contract description defines it: the profile table
//! P1–P5, one answer per requested id (rule #1), referred and linked identities (rule #2).
//! Every answer is also validated against our and the published schemas.

use crate::common::*;
use pu_adapter::contracts::Contract;
use pu_adapter::store::sqlite::SqliteStore;
use std::sync::Arc;

const PNR: &str = "1.2.752.129.2.1.3.1";

fn request(ids: &[(&str, &str)], profile: &str, ignore_referred: bool) -> String {
    let ids: String = ids
        .iter()
        .map(|(r, e)| {
            format!("<personId><c:root>{r}</c:root><c:extension>{e}</c:extension></personId>")
        })
        .collect();
    format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5">{ids}<profile>{profile}</profile><ignoreReferredIdentity>{ignore_referred}</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    )
}

/// Calls the service and checks the answer against our and the published schemas.
fn ask(store: &Arc<SqliteStore>, contract: Contract, consumer: &str, payload: &str) -> String {
    let answer = call(store, contract, consumer, payload);
    assert!(answer.fault.is_none(), "{}", answer.body);
    let body = payload_of(&answer.body).to_owned();
    if xmllint_available() {
        let mut schemas = vec![our_schema(contract)];
        schemas.extend(published_schema(contract));
        for schema in schemas {
            xmllint(&schema, &body)
                .unwrap_or_else(|e| panic!("{} invalid: {e}\n{body}", schema.display()));
        }
    }
    body
}

fn has(xml: &str, element: &str) -> bool {
    xml.contains(&format!(":{element}>"))
}

#[test]
fn each_profile_adds_what_the_table_says() {
    let (_dir, store) = demo_store();
    let anna = [(PNR, "198503142385")];
    let p1 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&anna, "P1", false),
    );
    assert!(
        has(&p1, "birth")
            && has(&p1, "name")
            && !has(&p1, "addressInformation")
            && !has(&p1, "contactInformation"),
        "{p1}"
    );
    let p2 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&anna, "P2", false),
    );
    assert!(
        has(&p2, "addressInformation") && !has(&p2, "contactInformation") && !has(&p2, "gender"),
        "{p2}"
    );
    let p3 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&anna, "P3", false),
    );
    assert!(
        has(&p3, "contactInformation") && !has(&p3, "gender") && !has(&p3, "citizenship"),
        "{p3}"
    );
    let p4 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&anna, "P4", false),
    );
    assert_eq!(text_of(&p4, "gender"), Some("K"));
    assert_eq!(text_of(&p4, "citizenshipCountryCode"), Some("SE"));
    assert_eq!(text_of(&p4, "maritalStatusCode"), Some("G"));
    assert!(!has(&p4, "historicalRecords"), "{p4}");
    // P5 after the import moved Anna twice: both earlier addresses are history, newest
    // first, the newer in the published historicalAddress and the older in its xs:any slot,
    // each with the day it ended and, where the import saw it begin, the day it began.
    for street in ["Nygatan 9", "Lillgatan 3"] {
        let moved = format!(
            r#"{{"personId":"198503142385","givenName":"Anna","middleName":"Maria","surname":"Andersson","postalAddress":{{"street":"{street}","postalCode":"41302","city":"Göteborg"}},"gender":"K","testIndicator":true}}"#
        );
        pu_adapter::import::import(
            moved.as_bytes(),
            store.as_ref(),
            &Default::default(),
            |_| {},
        )
        .unwrap();
    }
    let p5 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&anna, "P5", false),
    );
    let records = element_xml(&p5, "historicalRecords").expect(&p5);
    let newer = element_xml(records, "historicalAddress").expect(&p5);
    let older = element_xml(records, "earlierAddress").expect(&p5);
    assert_eq!(text_of(newer, "postalAddress2"), Some("Nygatan 9"), "{p5}");
    assert_eq!(
        text_of(older, "postalAddress2"),
        Some("Storgatan 1"),
        "{p5}"
    );
    let day = |xml: &str, name: &str| {
        text_of(xml, name).map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap_or_else(|e| panic!("{name} {d}: {e}"))
        })
    };
    let storgatan_ended = day(older, "validTo").expect(&p5);
    assert_eq!(
        day(older, "validFrom"),
        None,
        "began before the import: {p5}"
    );
    assert_eq!(day(newer, "validFrom"), Some(storgatan_ended), "{p5}");
    assert!(day(newer, "validTo").expect(&p5) >= storgatan_ended, "{p5}");
    assert_eq!(
        text_of(
            &p5[p5.find("residentialAddress").unwrap()..],
            "postalAddress2"
        ),
        Some("Lillgatan 3")
    );
    assert!(!has(&p4, "earlierAddress"), "{p4}");
}

/// Imports one line for Anna with `street` as her address and `protection` as her flags.
fn import_anna(store: &Arc<SqliteStore>, street: &str, protection: &str) {
    let line = format!(
        r#"{{"personId":"198503142385","givenName":"Anna","surname":"Andersson","postalAddress":{{"street":"{street}","postalCode":"41302","city":"Göteborg"}},"protection":{protection},"testIndicator":true}}"#
    );
    pu_adapter::import::import(line.as_bytes(), store.as_ref(), &Default::default(), |_| {})
        .unwrap();
}

// PR-7: Anna moves, becomes protected at a new address, the protection is lifted with yet
// another address and she moves once more. Restricted P5 shows only what applied before
// the protected period (and after it); P2 shows the register's address after the lift; the
// Unrestricted twin shows all, audited as unrestricted.
#[test]
fn pr7_the_protected_period_stays_hidden_after_the_lift_in_every_profile() {
    let (_dir, store) = demo_store();
    let open = r#"{"sekretessmarkering":false,"skyddadFolkbokforing":false}"#;
    import_anna(&store, "Kvarngatan 5", open);
    import_anna(&store, "Hemliga vägen 2", r#"{"sekretessmarkering":true}"#);
    import_anna(&store, "Nya gatan 3", open);
    let anna = [(PNR, "198503142385")];
    let hidden = ["Hemliga vägen 2", "Kvarngatan 5"];
    for profile in ["P1", "P2", "P3", "P4", "P5"] {
        let answer = ask(
            &store,
            Contract::GetPersonsForProfile,
            CONSUMER,
            &request(&anna, profile, false),
        );
        for street in hidden {
            assert!(
                !answer.contains(street),
                "{profile} shows {street}: {answer}"
            );
        }
    }
    let p2 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&anna, "P2", false),
    );
    assert_eq!(text_of(&p2, "postalAddress2"), Some("Nya gatan 3"), "{p2}");
    import_anna(&store, "Sista torget 4", open);
    let p5 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&anna, "P5", false),
    );
    let records = element_xml(&p5, "historicalRecords").expect(&p5);
    let newest = element_xml(records, "historicalAddress").expect(&p5);
    assert_eq!(
        text_of(newest, "postalAddress2"),
        Some("Nya gatan 3"),
        "{p5}"
    );
    assert_eq!(
        text_of(newest, "validFrom"),
        None,
        "would tell when the hidden address ended: {p5}"
    );
    let older = element_xml(records, "earlierAddress").expect(&p5);
    assert_eq!(
        text_of(older, "postalAddress2"),
        Some("Storgatan 1"),
        "{p5}"
    );
    for street in hidden {
        assert!(!p5.contains(street), "P5 shows {street}: {p5}");
    }
    let unrestricted = ask(
        &store,
        Contract::GetPersonsForProfileUnrestricted,
        EXTENDED,
        &unrestricted(&request(&anna, "P5", false), Contract::GetPersonsForProfile),
    );
    for street in hidden {
        assert!(unrestricted.contains(street), "{unrestricted}");
    }
    let trail = pu_adapter::store::AuditLog::query(
        store.as_ref(),
        &pu_adapter::audit::AuditQuery {
            consumer: Some(EXTENDED.into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        !trail.is_empty() && trail.iter().all(|e| e.unrestricted),
        "{trail:?}"
    );
}

/// The first element named `local` (any prefix) in `xml`, start tag to end tag.
fn element_xml<'a>(xml: &'a str, local: &str) -> Option<&'a str> {
    let start = xml.find(&format!(":{local}"))?;
    let start = xml[..start].rfind('<')?;
    let close = format!(":{local}>");
    let end = start + xml[start..].rfind(&close)? + close.len();
    Some(&xml[start..end])
}

// GU-1: guardians are relationships on P4, current until the child's 18th birthday.
#[test]
fn gu1_p4_names_the_legal_guardians_with_birth_name_and_dates() {
    let (_dir, store) = demo_store();
    let cecilia = [(PNR, "201806051239")];
    let p3 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&cecilia, "P3", false),
    );
    assert!(!has(&p3, "relationship"), "guardians moved to P4: {p3}");
    let p4 = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&cecilia, "P4", false),
    );
    assert_eq!(texts_of(&p4, "relationshipType"), vec!["V", "V"], "{p4}");
    let first = &p4[p4.find("relationship>").unwrap()..];
    assert_eq!(text_of(first, "extension"), Some("198503142385"));
    assert_eq!(text_of(first, "givenName"), Some("Anna"));
    let values = texts_of(first, "value");
    assert_eq!(
        &values[..3],
        ["1985-03-14", "2018-06-05", "2036-06-05"],
        "guardian's birth, from, to: {p4}"
    );
}

// PR-3: a protected guardian's relationship is left out on the restricted contract only.
#[test]
fn pr3_a_protected_guardian_is_not_named_on_the_restricted_contract() {
    let (_dir, store) = demo_store();
    let protected = r#"{"personId":"198503142385","givenName":"Anna","surname":"Andersson","protection":{"skyddadFolkbokforing":true},"testIndicator":true}"#;
    pu_adapter::import::import(
        protected.as_bytes(),
        store.as_ref(),
        &Default::default(),
        |_| {},
    )
    .unwrap();
    let cecilia = [(PNR, "201806051239")];
    let restricted = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&cecilia, "P4", false),
    );
    assert!(
        !restricted.contains("198503142385"),
        "the protected guardian is named: {restricted}"
    );
    assert!(restricted.contains("198309214578"), "{restricted}");
    let u = Contract::GetPersonsForProfileUnrestricted;
    let unrestricted = ask(
        &store,
        u,
        EXTENDED,
        &unrestricted(
            &request(&cecilia, "P4", false),
            Contract::GetPersonsForProfile,
        ),
    );
    assert!(
        unrestricted.contains("198503142385") && unrestricted.contains("198309214578"),
        "{unrestricted}"
    );
}

// ID-2 and contract rule #1: one answer per id; a bad or unknown id never Faults the batch.
#[test]
fn id2_a_batch_answers_every_id_in_order_and_faults_for_none() {
    let (_dir, store) = demo_store();
    let ids = [
        (PNR, "191212121212"),
        (PNR, "191212121213"),
        (PNR, "199901019993"),
        ("1.2.752.129.2.1.4.1", "SE2321000016-1234"),
        (PNR, "198503142385"),
    ];
    let body = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&ids, "P1", false),
    );
    let records: Vec<&str> = body.split("<requestedPersonRecord>").skip(1).collect();
    assert_eq!(records.len(), 5, "{body}");
    let echoes: Vec<&str> = records
        .iter()
        .map(|r| text_of(r, "extension").unwrap())
        .collect();
    assert_eq!(
        echoes,
        [
            "191212121212",
            "191212121213",
            "199901019993",
            "SE2321000016-1234",
            "198503142385"
        ]
    );
    let codes: Vec<Option<&str>> = records.iter().map(|r| text_of(r, "errorCode")).collect();
    assert_eq!(
        codes,
        [
            None,
            Some("INVALID_PERSON_ID"),
            Some("PERSON_NOT_FOUND"),
            Some("INVALID_PERSON_ID"),
            None
        ]
    );
    assert!(text_of(records[1], "resultText")
        .unwrap()
        .contains("check digit 3 is wrong (expected 2) [ID-2]"));
    assert!(
        text_of(records[3], "resultText")
            .unwrap()
            .contains("[ID-1]"),
        "{}",
        records[3]
    );
    assert!(records[0].contains("personRecord>") && !records[2].contains("personRecord>"));
}

#[test]
fn referred_and_linked_identities_answer_with_the_current_record_unless_ignored() {
    let (_dir, store) = demo_store();
    let ids = [(PNR, "199601011100"), ("1.2.752.74.9.1", "R2026000002")];
    let followed = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&ids, "P1", false),
    );
    let records: Vec<&str> = followed.split("<requestedPersonRecord>").skip(1).collect();
    // The echo stays what was asked; the record is the current identity's.
    assert_eq!(
        texts_of(records[0], "extension")[..2],
        ["199601011100", "199601011118"],
        "{followed}"
    );
    assert_eq!(
        texts_of(records[1], "extension")[..2],
        ["R2026000002", "197010632391"],
        "{followed}"
    );
    assert!(
        records[1].contains("linkedIdentity>")
            && records[0].contains("referredPersonalIdentities>")
    );
    let own_only = ask(
        &store,
        Contract::GetPersonsForProfile,
        CONSUMER,
        &request(&ids, "P1", true),
    );
    assert_eq!(
        texts_of(&own_only, "errorCode"),
        ["PERSON_NOT_FOUND", "PERSON_NOT_FOUND"],
        "{own_only}"
    );
}

#[test]
fn population_fields_are_validated_per_line_and_unknown_fields_stay_errors() {
    let (_dir, store) = demo_store();
    let lines = [
        r#"{"personId":"191212121212","givenName":"T","surname":"T","gender":"X"}"#,
        r#"{"personId":"191212121212","givenName":"T","surname":"T","citizenship":["Sweden"]}"#,
        r#"{"personId":"191212121212","givenName":"T","surname":"T","maritalStatus":{"code":"married"}}"#,
        r#"{"personId":"191212121212","givenName":"T","surname":"T","referredIdentities":[{"root":"1.2.752.74.9.1","extension":"R1"}]}"#,
        r#"{"personId":"191212121212","givenName":"T","surname":"T","deregistration":{"reasonCode":"XX"}}"#,
        r#"{"personId":"191212121212","givenName":"T","surname":"T","shoeSize":44}"#,
    ]
    .join("\n");
    let summary = pu_adapter::import::import(
        lines.as_bytes(),
        store.as_ref(),
        &Default::default(),
        |_| {},
    )
    .unwrap();
    use pu_adapter::import::LineError;
    let kinds: Vec<bool> = summary
        .rejected
        .iter()
        .zip([
            |e: &LineError| matches!(e, LineError::Gender),
            |e: &LineError| matches!(e, LineError::Country { index: 0, .. }),
            |e: &LineError| matches!(e, LineError::MaritalCode),
            |e: &LineError| matches!(e, LineError::NotNational { .. }),
            |e: &LineError| matches!(e, LineError::DeregistrationReason),
            |e: &LineError| matches!(e, LineError::NotARecord { .. }),
        ])
        .map(|((_, e), is)| is(e))
        .collect();
    assert_eq!(kinds, [true; 6], "{:?}", summary.rejected);
    let reasons: Vec<String> = summary
        .rejected
        .iter()
        .map(|(_, r)| r.to_string())
        .collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    for (reason, expected) in reasons.iter().zip([
        "gender",
        "citizenship[0]",
        "maritalStatus.code",
        "referredIdentities[0]",
        "deregistration.reasonCode",
        "shoeSize",
    ]) {
        assert!(
            reason.contains(expected),
            "{reason:?} should name {expected}"
        );
    }
}

// CT-4: seeding through the import follows the update rules exactly; a refused line names
// its rule and is not imported; seeding is audited as the import.
#[test]
fn ct4_contact_information_in_the_import_is_checked_by_the_update_rules() {
    let (_dir, store) = demo_store();
    let lines = [
        r#"{"personId":"199002026780","givenName":"Hanna","surname":"Holm","contactInformation":[{"contactType":"sms","value":"+46701112233","digitalNotification":true}],"optoutPaperNotification":true}"#,
        r#"{"personId":"191212121212","givenName":"Tolvan","surname":"T","contactInformation":[{"contactType":"sms","value":"0701234567","digitalNotification":true}]}"#,
        r#"{"personId":"197505055678","givenName":"Frida","surname":"F","protection":{"skyddadFolkbokforing":true},"contactInformation":[{"contactType":"email","value":"f@example.se","digitalNotification":true}]}"#,
        r#"{"personId":"198309214578","givenName":"Bertil","surname":"A","contactInformation":[{"contactType":"phone","value":"+46731234568","digitalNotification":true}]}"#,
    ]
    .join("\n");
    let summary = pu_adapter::import::import(
        lines.as_bytes(),
        store.as_ref(),
        &Default::default(),
        |_| {},
    )
    .unwrap();
    assert_eq!(summary.contacts_seeded, 1, "{summary:?}");
    let reasons: Vec<(u64, String)> = summary
        .rejected
        .iter()
        .map(|(n, r)| (*n, r.to_string()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].0 == 2
            && reasons[0].1.contains("[CT-4]")
            && reasons[0].1.contains("+46701234567"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == 3 && reasons[1].1.contains("[PR-2]"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].0 == 4 && reasons[2].1.contains("[CT-1]"),
        "{reasons:?}"
    );
    let gpci = Contract::GetPersonContactInformation;
    let hanna = ask(
        &store,
        gpci,
        CONSUMER,
        &format!(
            r#"<GetPersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>{PNR}</c:root><c:extension>199002026780</c:extension></personId></GetPersonContactInformation>"#,
            gpci.responder_ns()
        ),
    );
    assert_eq!(text_of(&hanna, "value"), Some("+46701112233"), "{hanna}");
    assert_eq!(text_of(&hanna, "optoutPaperNotification"), Some("true"));
    // The refused line changed nothing: Tolvan keeps the demo record.
    let tolvan = ask(
        &store,
        gpci,
        CONSUMER,
        &format!(
            r#"<GetPersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>{PNR}</c:root><c:extension>191212121212</c:extension></personId></GetPersonContactInformation>"#,
            gpci.responder_ns()
        ),
    );
    assert_eq!(text_of(&tolvan, "value"), Some("+46701234567"), "{tolvan}");
    let trail = pu_adapter::store::AuditLog::query(
        store.as_ref(),
        &pu_adapter::audit::AuditQuery {
            person: Some(format!("{PNR}:199002026780")),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.contract.as_str() == "import" && e.consumer == "pu-adapter-import"),
        "{trail:?}"
    );
}
