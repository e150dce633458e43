//! The demo population (`demo/persons.jsonl`) of the development start, with contact
//! information for a few of them entered through the normal update rules. Loaded only into
//! an empty store: it never touches an imported population (docs/contract.md).

use crate::audit::{AuditEntry, Caller, Source};
use crate::domain::update::{apply_update, validate_update};
use crate::domain::{
    Access, ActorInput, ContactInput, ContactRecord, IdInput, IdentifierPolicy, Person,
    UpdateAccess, UpdateInput, Violation,
};
use crate::import::{import, ImportSummary};
use crate::store::{ContactUpdate, PersonStore, StoreError};
use chrono::{DateTime, TimeZone, Utc};

/// The demo persons, one JSON line each.
pub(crate) const PERSONS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/persons.jsonl"));

/// One demo person's contact information.
struct DemoContact {
    pnr: &'static str,
    sms: Option<&'static str>,
    email: Option<&'static str>,
    optout: Option<bool>,
}

/// Demo contact information (Tolvan's record is what the example valid-remove-all removes).
const CONTACTS: &[DemoContact] = &[
    DemoContact {
        pnr: "191212121212",
        sms: Some("+46701234567"),
        email: Some("tolvan@example.se"),
        optout: Some(true),
    },
    DemoContact {
        pnr: "198503142385",
        sms: None,
        email: Some("anna.andersson@exempel.se"),
        optout: None,
    },
    DemoContact {
        pnr: "198309214578",
        sms: Some("+46731234568"),
        email: None,
        optout: Some(false),
    },
];

/// What the development start did with the demo population.
#[derive(Debug)]
pub enum DemoLoad {
    /// The store was empty: the demo persons and their contact information were loaded.
    Loaded(ImportSummary),
    /// The store already held persons: nothing was loaded or changed.
    Skipped {
        /// How many persons the store held when the demo data was offered.
        persons: u64,
    },
}

/// Loads the demo persons into an empty store; leaves any other store exactly as it is.
pub fn load(store: &dyn PersonStore, policy: &IdentifierPolicy) -> Result<DemoLoad, StoreError> {
    let persons = store.count_persons()?;
    if persons > 0 {
        return Ok(DemoLoad::Skipped { persons });
    }
    let summary = import(PERSONS.as_bytes(), store, policy, |_| {})?;
    for contact in CONTACTS {
        seed_contacts(store, policy, contact)?;
    }
    Ok(DemoLoad::Loaded(summary))
}

/// Enters one person's demo contact information as an update would, at a fixed time so the
/// record's version is known (20260101120000, Swedish time).
fn seed_contacts(
    store: &dyn PersonStore,
    policy: &IdentifierPolicy,
    c: &DemoContact,
) -> Result<(), StoreError> {
    let entry = |t: &str, v: &str| ContactInput {
        contact_type: t.into(),
        value: Some(v.into()),
        digital_notification: Some(true),
        ..Default::default()
    };
    let Ok(id) = policy.parse_number(c.pnr) else {
        return Ok(());
    };
    let input = UpdateInput {
        actor: ActorInput {
            id_root: id.root().into(),
            id_extension: Some(c.pnr.into()),
            organization: None,
        },
        person: IdInput {
            root: id.root().into(),
            extension: Some(c.pnr.into()),
        },
        contacts: c
            .sms
            .map(|s| entry("sms", s))
            .into_iter()
            .chain(c.email.map(|e| entry("email", e)))
            .collect(),
        optout_paper_notification: c.optout,
        ..Default::default()
    };
    let Ok(valid) = validate_update(&input, policy) else {
        return Ok(());
    };
    let access = UpdateAccess {
        access: Access::Restricted,
        unrestricted_may_update_protected: false,
    };
    let at = demo_time();
    let decide =
        |p: Option<&Person>, r: Option<&ContactRecord>| -> Result<ContactRecord, Violation> {
            apply_update(valid.clone(), p, r, access, "pu-adapter-demo", at)
        };
    let caller = Caller {
        consumer: "pu-adapter-demo",
        source: Source::DemoLoad,
        logical_address: "-",
        correlation_id: "demo-load",
    };
    let audit = AuditEntry::now(&caller, id.key());
    let _ = store.update_contacts(ContactUpdate {
        id: &id,
        decide: &decide,
        audit: &audit,
    })?;
    Ok(())
}

/// 2026-01-01 12:00 Swedish time.
fn demo_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 11, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}
