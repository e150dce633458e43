//! The privacy lifecycle over mutual TLS, against a running server: removal scrubbed from
//! the files (CO-2), withdrawal by a protected person (PR-2), the deceased (PR-6), the
//! children's route (GU-1), and a development start over an imported population.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use std::time::{Duration, Instant};

const HANNA: &str = "199002026780";
const ERIK: &str = "197001013452"; // sekretessmarkering
const FRIDA: &str = "197505055678"; // skyddad folkbokföring
const INGRID: &str = "194003031129"; // deceased (AV)
const CECILIA: &str = "201806051239"; // born 2018, guardians Anna and Bertil

fn read(c: Contract, pnr: &str, profile: Option<&str>) -> String {
    let extra = profile
        .map(|p| {
            format!("<profile>{p}</profile><ignoreReferredIdentity>false</ignoreReferredIdentity>")
        })
        .unwrap_or_default();
    envelope(&format!(
        r#"<{n} xmlns="{ns}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId>{id}</personId>{extra}</{n}>"#,
        n = c.name(),
        ns = c.responder_ns(),
        id = person_id(pnr)
    ))
}

/// Whether any file of the store (main file, WAL, shared memory) holds `needle`.
fn on_disk(dir: &std::path::Path, needle: &[u8]) -> bool {
    ["pu-adapter.db", "pu-adapter.db-wal", "pu-adapter.db-shm"]
        .iter()
        .filter_map(|f| std::fs::read(dir.join(f)).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

// CO-2: an acknowledged removal leaves every file of the running store within 10 s, with
// no checkpoint or restart by anyone, while the server goes on serving.
#[tokio::test]
async fn co2_a_removed_value_leaves_every_file_of_the_running_server_within_10_seconds() {
    let server = start_server(|_| {}).await;
    let c = Contract::UpdatePersonContactInformation;
    let secret = format!("scrub.{}@example.se", uuid::Uuid::new_v4().simple());
    let stored = post(
        server.addr(),
        "consumer",
        c.path(),
        &update(c, HANNA, None, &[("email", &secret)]),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&stored.body, "resultCode"),
        Some("OK"),
        "{}",
        stored.body
    );
    let version = text_of(&stored.body, "version").unwrap().to_owned();
    assert!(
        on_disk(server.dir.path(), secret.as_bytes()),
        "the value never reached the files: the scan proves nothing"
    );
    let removed = post(
        server.addr(),
        "consumer",
        c.path(),
        &update(c, HANNA, Some(&version), &[]),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&removed.body, "resultCode"),
        Some("OK"),
        "{}",
        removed.body
    );
    let started = Instant::now();
    while on_disk(server.dir.path(), secret.as_bytes()) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the removed value is still in the store's files after 10 s"
        );
        let r = post(
            server.addr(),
            "consumer",
            Contract::GetPersonsForProfile.path(),
            &read(Contract::GetPersonsForProfile, HANNA, Some("P3")),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "the server stopped serving");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "CO-2: value gone from every file {:?} after the removal",
        started.elapsed()
    );
    server.running.server.shutdown().await;
}

// PR-2: a protected person withdraws consent on the restricted contract; entering is refused.
#[tokio::test]
async fn pr2_a_protected_person_can_withdraw_but_never_enter_contact_information() {
    let server = start_server(|_| {}).await;
    let c = Contract::UpdatePersonContactInformation;
    let entered = post(
        server.addr(),
        "consumer",
        c.path(),
        &update(c, ERIK, None, &[("sms", "+46761234569")]),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&entered.body, "errorCode"),
        Some("PROTECTED_PERSON"),
        "{}",
        entered.body
    );
    let withdrawn = post(
        server.addr(),
        "consumer",
        c.path(),
        &update(c, ERIK, None, &[]),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&withdrawn.body, "resultCode"),
        Some("OK"),
        "{}",
        withdrawn.body
    );
    assert_eq!(
        text_of(&withdrawn.body, "contactType"),
        None,
        "reveals nothing: {}",
        withdrawn.body
    );
    let u = Contract::UpdatePersonContactInformationUnrestricted;
    let version = text_of(&withdrawn.body, "version").unwrap().to_owned();
    let again = post(
        server.addr(),
        "extended",
        u.path(),
        &update(u, ERIK, Some(&version), &[]),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&again.body, "resultCode"),
        Some("OK"),
        "also on the Unrestricted contract: {}",
        again.body
    );
    server.running.server.shutdown().await;
}

// PR-6: the deceased: the deregistration on P1, no contact information, updates refused.
#[tokio::test]
async fn pr6_a_deceased_person_shows_the_deregistration_and_gets_no_messages() {
    let server = start_server(|_| {}).await;
    let g = Contract::GetPersonsForProfile;
    let p1 = post(
        server.addr(),
        "consumer",
        g.path(),
        &read(g, INGRID, Some("P1")),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&p1.body, "deregistrationReasonCode"),
        Some("AV"),
        "{}",
        p1.body
    );
    assert_eq!(
        texts_of(&p1.body, "value"),
        vec!["1940-03-03", "2026-02-01"],
        "deregistrationDate: {}",
        p1.body
    );
    let gpci = Contract::GetPersonContactInformation;
    let read_back = post(
        server.addr(),
        "consumer",
        gpci.path(),
        &read(gpci, INGRID, None),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&read_back.body, "contactType"),
        None,
        "{}",
        read_back.body
    );
    let c = Contract::UpdatePersonContactInformation;
    let refused = post(
        server.addr(),
        "consumer",
        c.path(),
        &update(c, INGRID, None, &[("sms", "+46701234567")]),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&refused.body, "errorCode"),
        Some("PERSON_DEREGISTERED"),
        "{}",
        refused.body
    );
    assert_eq!(text_of(&refused.body, "ruleId"), Some("PR-6"));
    server.running.server.shutdown().await;
}

// GU-1: a child's read carries the route and each guardian's own contact information.
#[tokio::test]
async fn gu1_a_childs_contact_information_read_names_the_route_and_the_guardians() {
    let server = start_server(|_| {}).await;
    let gpci = Contract::GetPersonContactInformation;
    let r = post(
        server.addr(),
        "consumer",
        gpci.path(),
        &read(gpci, CECILIA, None),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(text_of(&r.body, "route"), Some("guardians"), "{}", r.body);
    assert_eq!(text_of(&r.body, "ruleId"), Some("GU-1"));
    let guardians: Vec<&str> = texts_of(&r.body, "extension")
        .into_iter()
        .filter(|e| *e != CECILIA)
        .collect();
    assert_eq!(guardians, vec!["198503142385", "198309214578"]);
    let values = texts_of(&r.body, "value");
    assert!(
        values.contains(&"anna.andersson@exempel.se") && values.contains(&"+46731234568"),
        "{values:?}"
    );
    let adult = post(
        server.addr(),
        "consumer",
        gpci.path(),
        &read(gpci, "191212121212", None),
        &[],
    )
    .await;
    assert_eq!(text_of(&adult.body, "notificationRoute"), None);
    server.running.server.shutdown().await;
}

// The development start over an imported population leaves it exactly as imported.
#[tokio::test]
async fn a_development_start_never_touches_an_imported_population() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"{"personId":"191212121212","givenName":"Importerad","surname":"Person","testIndicator":false}"#;
    {
        let store = pu_adapter::store::sqlite::SqliteStore::open(&dir.path().join("pu-adapter.db"))
            .unwrap();
        pu_adapter::import::import(line.as_bytes(), &store, &Default::default(), |_| {}).unwrap();
    }
    let mut config = test_config(dir.path());
    config.load_demo = true;
    let running = pu_adapter::app::start(&config).await.unwrap();
    let addr = running.server.local_addr;
    let g = Contract::GetPersonsForProfile;
    let r = post(
        addr,
        "consumer",
        g.path(),
        &read(g, "191212121212", Some("P3")),
        &[],
    )
    .await;
    assert_eq!(
        text_of(&r.body, "givenName"),
        Some("Importerad"),
        "{}",
        r.body
    );
    assert_eq!(text_of(&r.body, "testIndicator"), Some("false"));
    assert_eq!(
        text_of(&r.body, "contactType"),
        None,
        "no demo contact information seeded: {}",
        r.body
    );
    assert_eq!(
        running.stores.persons.count_persons().unwrap(),
        1,
        "no demo person added"
    );
    running.server.shutdown().await;
}

// The import sets and lifts the protection flags; an update cannot carry them: in the
// update's own namespace they are refused as invalid, in its extension slot (xs:any) they
// are ignored, restricted or Unrestricted. PR-1: the flags come only from the register.
#[tokio::test]
async fn pr1_protection_flags_come_only_from_the_population_import() {
    let server = start_server(|_| {}).await;
    let g = Contract::GetPersonsForProfile;
    let flags = |pnr: &'static str| {
        let addr = server.addr();
        async move {
            let r = post(addr, "consumer", g.path(), &read(g, pnr, Some("P1")), &[]).await;
            assert_eq!(r.status, 200, "{}", r.body);
            (
                text_of(&r.body, "protectedPersonIndicator").map(str::to_owned),
                text_of(&r.body, "protectedPopulationRecord").map(str::to_owned),
            )
        }
    };
    let set = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));
    // As the demo import set them: Erik sekretessmarkering, Frida skyddad folkbokföring.
    assert_eq!(flags(ERIK).await, set("true", "false"));
    assert_eq!(flags(FRIDA).await, set("false", "true"));
    assert_eq!(flags(HANNA).await, set("false", "false"));

    // In the update's own namespace: not an element of the request, refused whole.
    let c = Contract::UpdatePersonContactInformation;
    let own_ns = update(c, HANNA, None, &[("sms", "+46701234567")]).replace(
        "</UpdatePersonContactInformation>",
        "<protectedPersonIndicator>true</protectedPersonIndicator><protectedPopulationRecord>true</protectedPopulationRecord></UpdatePersonContactInformation>",
    );
    let refused = post(server.addr(), "consumer", c.path(), &own_ns, &[]).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert_eq!(text_of(&refused.body, "faultcode"), Some("soap:Client"));
    assert!(
        refused.body.contains("protectedPersonIndicator"),
        "the Fault names the element: {}",
        refused.body
    );
    assert_eq!(flags(HANNA).await, set("false", "false"));

    // In the extension slot, in the core namespace the read answers them in: ignored, the
    // update stored, the flags as imported, and she is still answered as unprotected.
    let slot = update(c, HANNA, None, &[("sms", "+46701234567")]).replace(
        "</UpdatePersonContactInformation>",
        "<c:protectedPersonIndicator>true</c:protectedPersonIndicator><c:protectedPopulationRecord>true</c:protectedPopulationRecord></UpdatePersonContactInformation>",
    );
    let stored = post(server.addr(), "consumer", c.path(), &slot, &[]).await;
    assert_eq!(
        text_of(&stored.body, "resultCode"),
        Some("OK"),
        "{}",
        stored.body
    );
    assert_eq!(flags(HANNA).await, set("false", "false"));
    let p3 = post(
        server.addr(),
        "consumer",
        g.path(),
        &read(g, HANNA, Some("P3")),
        &[],
    )
    .await;
    assert_eq!(texts_of(&p3.body, "contactType"), ["sms"], "{}", p3.body);

    // Nor can an update lift Erik's flag: a withdrawal through the Unrestricted contract,
    // always accepted for a protected person (PR-2), carrying both flags false: stored,
    // and the record it answers and a read still show his flag.
    let u = Contract::UpdatePersonContactInformationUnrestricted;
    let lift = update(u, ERIK, None, &[]).replace(
        &format!("</{}>", u.name()),
        &format!(
            "<c:protectedPersonIndicator>false</c:protectedPersonIndicator><c:protectedPopulationRecord>false</c:protectedPopulationRecord></{}>",
            u.name()
        ),
    );
    let r = post(server.addr(), "extended", u.path(), &lift, &[]).await;
    assert_eq!(text_of(&r.body, "resultCode"), Some("OK"), "{}", r.body);
    assert_eq!(
        text_of(&r.body, "protectedPersonIndicator"),
        Some("true"),
        "{}",
        r.body
    );
    assert_eq!(flags(ERIK).await, set("true", "false"));

    // The import is what sets and lifts them.
    let import = |line: String| {
        let summary = pu_adapter::import::import(
            line.as_bytes(),
            server.running.stores.persons.as_ref(),
            &pu_adapter::domain::IdentifierPolicy::default(),
            |_| {},
        )
        .unwrap();
        assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    };
    let hanna = r#"{"personId": "199002026780", "givenName": "Hanna", "surname": "Holm", "postalAddress": {"street": "Lilla gränd 7", "postalCode": "21115", "city": "Malmö"}, "testIndicator": true"#;
    import(format!(
        r#"{hanna}, "protection": {{"sekretessmarkering": true, "skyddadFolkbokforing": true}}}}"#
    ));
    assert_eq!(flags(HANNA).await, set("true", "true"));
    import(format!("{hanna}}}"));
    assert_eq!(flags(HANNA).await, set("false", "false"));
    server.running.server.shutdown().await;
}
