//! GetPersonsForProfile 5.0 and GetPersonsForProfileUnrestricted 5.0: XML types and handler.

use super::types::{open_payload, write_ii, write_person_record, Ii, PersonRecordView};
use super::Contract;
use crate::domain::protection::{effective_profile, may_show_contacts};
use crate::domain::{Access, Profile};
use crate::error::ServiceError;
use crate::service::{Context, Handled};
use crate::store::PersonState;
use crate::xml::decode::{boolean, text};
use crate::xml::{DecodeError, Element, Seq, XmlWriter};

/// Most identities in one request (CONTRACT.md).
pub const MAX_PERSON_IDS: usize = 500;

/// The request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `personId`, in order.
    pub person_ids: Vec<Ii>,
    /// `profile` as sent (P1 … P10).
    pub profile: String,
    /// `ignoreReferredIdentity`.
    pub ignore_referred_identity: bool,
}

/// Reads the request element of `contract` (either twin).
pub fn decode(el: &Element, contract: Contract) -> Result<Request, DecodeError> {
    let ns = contract.responder_ns();
    let name = contract.name();
    let mut s = Seq::new(el, ns, name)?;
    let person_ids = s
        .repeated("personId", 1, usize::MAX)?
        .into_iter()
        .enumerate()
        .map(|(i, e)| Ii::decode(e, &format!("{name}/personId[{}]", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let profile = text(s.required("profile")?, &format!("{name}/profile"))?.trim().to_owned();
    let ignore_referred_identity = boolean(s.required("ignoreReferredIdentity")?, &format!("{name}/ignoreReferredIdentity"))?;
    s.finish()?;
    Ok(Request { person_ids, profile, ignore_referred_identity })
}

/// One `requestedPersonRecord`: the echoed identity and, when known, what to show.
#[derive(Debug, Clone, Copy)]
pub struct RecordOut<'a> {
    /// The identity as requested.
    pub requested: &'a Ii,
    /// The record, absent for an unknown person.
    pub record: Option<PersonRecordView<'a>>,
}

/// Writes the response payload element.
pub fn encode(contract: Contract, records: &[RecordOut<'_>]) -> String {
    let mut w = XmlWriter::with_capacity(256 + records.len() * 1024);
    let name = contract.response_element();
    open_payload(&mut w, &name, contract.responder_ns());
    for r in records {
        w.open("requestedPersonRecord");
        write_ii(&mut w, "p:requestedPersonalIdentity", &r.requested.root, r.requested.extension.as_deref());
        if let Some(view) = r.record {
            write_person_record(&mut w, "p:personRecord", view);
        }
        w.close("requestedPersonRecord");
    }
    w.close(&name);
    w.finish()
}

/// Answers a GetPersonsForProfile(Unrestricted) request: profile filtering under PR-3/PR-4.
pub fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    let contract = ctx.call.contract;
    let req = decode(body, contract)?;
    if req.person_ids.len() > MAX_PERSON_IDS {
        return Err(ServiceError::TooManyIds(req.person_ids.len()));
    }
    let profile = Profile::parse(&req.profile)?;
    let ids = req
        .person_ids
        .iter()
        .enumerate()
        .map(|(i, ii)| {
            ctx.config
                .identifiers
                .parse(&ii.root, ii.extension.as_deref())
                .map_err(|problem| ServiceError::InvalidIdentifier { path: format!("{}/personId[{}]", contract.name(), i + 1), problem })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let states = ctx.store.load(&ids)?;
    let access = contract.access().unwrap_or(Access::Restricted);
    let records: Vec<RecordOut<'_>> =
        req.person_ids.iter().zip(&states).map(|(ii, state)| RecordOut { requested: ii, record: state.as_ref().map(|s| view(s, profile, access)) }).collect();
    let payload = encode(contract, &records);
    let audit = ids
        .iter()
        .zip(&states)
        .map(|(id, state)| {
            let entry = ctx.audit(id.key());
            if state.is_none() {
                entry.with_outcome(crate::audit::Outcome::Ok, Some("PERSON_NOT_FOUND"), None)
            } else {
                entry
            }
        })
        .collect();
    Ok(Handled { payload, audit, result: "OK" })
}

/// What one person's record shows under the asked profile and the access rules.
fn view(state: &PersonState, asked: Profile, access: Access) -> PersonRecordView<'_> {
    let protection = state.person.protection;
    let profile = effective_profile(asked, protection, access);
    let contacts = if profile.includes_contacts() && may_show_contacts(&state.person, access) { state.contacts.as_ref() } else { None };
    let show_guardians = !(protection.is_protected() && access == Access::Restricted);
    PersonRecordView { person: &state.person, profile, contacts, show_guardians }
}
