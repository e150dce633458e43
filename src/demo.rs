//! The demo population (`demo/persons.jsonl`) loaded by the development start, with
//! contact information for a few of them entered the normal way.

use crate::audit::{AuditEntry, Caller, Source};
use crate::domain::update::{apply_update, validate_update};
use crate::domain::{
    Access, ActorInput, ContactInput, IdentifierPolicy, PersonId, Protection, UpdateAccess,
    UpdateInput,
};
use crate::import::{import, ImportSummary};
use crate::store::{PersonStore, StoreError};

/// The demo persons, one JSON line each.
pub(crate) const PERSONS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/persons.jsonl"));

/// One demo person's contact information: (personnummer, sms, email, optoutPaperNotification).
type DemoContact = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<bool>,
);

/// Demo contact information.
const CONTACTS: &[DemoContact] = &[
    (
        "191212121212",
        Some("+46701234567"),
        Some("tolvan@example.se"),
        Some(true),
    ),
    (
        "198503142385",
        None,
        Some("anna.andersson@exempel.se"),
        None,
    ),
    ("198309214578", Some("+46731234568"), None, Some(false)),
    // Entered before Erik became protected: withheld from then on (PR-4).
    ("197001013452", Some("+46761234569"), None, None),
];

/// Loads the demo persons and their contact information (once; reloading keeps what exists).
pub fn load(
    store: &dyn PersonStore,
    policy: &IdentifierPolicy,
) -> Result<ImportSummary, StoreError> {
    let summary = import(PERSONS.as_bytes(), store, policy, |_| {})?;
    for (pnr, sms, email, optout) in CONTACTS {
        seed_contacts(store, policy, pnr, *sms, *email, *optout)?;
    }
    Ok(summary)
}

fn seed_contacts(
    store: &dyn PersonStore,
    policy: &IdentifierPolicy,
    pnr: &str,
    sms: Option<&str>,
    email: Option<&str>,
    optout: Option<bool>,
) -> Result<(), StoreError> {
    let Ok(id) = policy.parse_number(pnr) else {
        return Ok(());
    };
    let Some(Some(state)) = store.load(std::slice::from_ref(&id))?.pop() else {
        return Ok(());
    };
    if state.contacts.is_some() {
        return Ok(());
    }
    let entry = |t: &str, v: &str| ContactInput {
        contact_type: t.into(),
        value: Some(v.into()),
        digital_notification: Some(true),
        ..Default::default()
    };
    let input = UpdateInput {
        actor: ActorInput {
            id_root: id.root().into(),
            id_extension: Some(pnr.into()),
            organization: None,
        },
        person_root: id.root().into(),
        person_extension: Some(pnr.into()),
        contacts: sms
            .map(|s| entry("sms", s))
            .into_iter()
            .chain(email.map(|e| entry("email", e)))
            .collect(),
        optout_paper_notification: optout,
        ..Default::default()
    };
    let Ok(valid) = validate_update(&input, policy) else {
        return Ok(());
    };
    // The demo story of PR-4: contacts entered while unprotected, protection arriving later.
    let protection = state.person.protection;
    let mut unprotected = state.person.clone();
    unprotected.protection = Protection::default();
    store.upsert_persons(std::slice::from_ref(&unprotected))?;
    let access = UpdateAccess {
        access: Access::Restricted,
        unrestricted_may_update_protected: false,
    };
    let now = chrono::Utc::now();
    let decide = |p: Option<&crate::domain::Person>, r: Option<&crate::domain::ContactRecord>| {
        apply_update(valid.clone(), p, r, access, "pu-adapter-demo", now)
    };
    let _ = store.update_contacts(&id, &decide, &demo_audit(&id))?;
    if protection.is_protected() {
        store.upsert_persons(std::slice::from_ref(&state.person))?;
    }
    Ok(())
}

fn demo_audit(id: &PersonId) -> AuditEntry {
    let caller = Caller {
        consumer: "pu-adapter-demo",
        source: Source::DemoLoad,
        logical_address: "-",
        correlation_id: "demo-load",
    };
    AuditEntry::now(&caller, id.key())
}
