//! GetPersonsForProfile(Unrestricted): each person's record under the profile the domain allows.

use super::{Context, Handled, RequestResult, ServiceError};
use crate::audit::{AuditCode, Outcome};
use crate::contracts::get_persons_for_profile::{decode, encode, RecordOut, MAX_PERSON_IDS};
use crate::contracts::types::PersonRecordView;
use crate::domain::{disclosure, Access, ErrorCode, Profile};
use crate::store::PersonState;
use crate::xml::Element;

pub(super) fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
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
                .map_err(|problem| ServiceError::InvalidIdentifier {
                    path: format!("{}/personId[{}]", contract.name(), i + 1),
                    problem,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let states = ctx.stores.persons.load(&ids)?;
    let access = contract.access().unwrap_or(Access::Restricted);
    let records: Vec<RecordOut<'_>> = req
        .person_ids
        .iter()
        .zip(&states)
        .map(|(ii, state)| RecordOut {
            requested: ii,
            record: state.as_ref().map(|s| view(s, profile, access)),
        })
        .collect();
    let payload = encode(contract, &records);
    let audit = ids
        .iter()
        .zip(&states)
        .map(|(id, state)| {
            let entry = ctx.audit(id.key());
            if state.is_none() {
                entry.with_outcome(
                    Outcome::Ok,
                    Some(AuditCode::Rule(ErrorCode::PersonNotFound)),
                    None,
                )
            } else {
                entry
            }
        })
        .collect();
    Ok(Handled {
        payload,
        audit,
        result: RequestResult::Ok,
    })
}

/// The XML view of what the domain lets this read disclose.
fn view(state: &PersonState, asked: Profile, access: Access) -> PersonRecordView<'_> {
    let shown = disclosure(&state.person, asked, access);
    let contacts = if shown.contacts {
        state.contacts.as_ref()
    } else {
        None
    };
    PersonRecordView {
        person: &state.person,
        profile: shown.profile,
        contacts,
        show_guardians: shown.guardians,
    }
}
