//! GetPersonsForProfile(Unrestricted): one answer per requested id (contract rule #1), each
//! under the profile the domain allows; referred and linked identities answered with the
//! current identity's record unless the caller asks otherwise (rule #2).

use super::{Context, Handled, RequestResult, ServiceError};
use crate::audit::{AuditCode, AuditEntry, Outcome};
use crate::contracts::get_persons_for_profile::{
    decode, encode, Found, RecordOut, Request, MAX_PERSON_IDS,
};
use crate::contracts::types::PersonRecordView;
use crate::domain::{
    disclosure, guardians_shown, history_shown, swedish_date, Access, ErrorCode, IdInput,
    IdProblem, Person, PersonId, Profile, Violation,
};
use crate::store::PersonState;
use crate::xml::Element;

/// What one requested id resolved to.
enum Lookup {
    /// Not a valid identifier.
    Invalid(IdProblem),
    /// A valid id (its record may be a referred identity's current one).
    Valid { asked: PersonId },
}

/// A GetPersonsForProfile request, decoded and checked: the ids to load, then the answer.
pub(super) struct ProfilesRead {
    request: Request,
    profile: Profile,
    access: Access,
    /// One per requested id, in order.
    lookups: Vec<Lookup>,
    /// The valid ids, in order: what is loaded.
    valid: Vec<PersonId>,
}

/// Decodes the request and parses every id; refuses too many ids or a profile not served.
pub(super) fn decode_read(ctx: &Context<'_>, body: &Element) -> Result<ProfilesRead, ServiceError> {
    let contract = ctx.call.contract;
    let request = decode(body, contract)?;
    if request.person_ids.len() > MAX_PERSON_IDS {
        return Err(ServiceError::TooManyIds(request.person_ids.len()));
    }
    let profile = Profile::parse(&request.profile)?;
    let lookups: Vec<Lookup> = request
        .person_ids
        .iter()
        .map(|ii| {
            match ctx
                .config
                .identifiers
                .parse(&ii.root, ii.extension.as_deref())
            {
                Ok(asked) => Lookup::Valid { asked },
                Err(problem) => Lookup::Invalid(problem),
            }
        })
        .collect();
    let valid = lookups
        .iter()
        .filter_map(|l| match l {
            Lookup::Valid { asked } => Some(asked.clone()),
            Lookup::Invalid(_) => None,
        })
        .collect();
    Ok(ProfilesRead {
        request,
        profile,
        access: contract.access().unwrap_or(Access::Restricted),
        lookups,
        valid,
    })
}

impl ProfilesRead {
    /// The valid ids; referred and linked identities followed unless the caller ignores
    /// them (rule #2).
    pub(super) fn first(&self) -> (&[PersonId], bool) {
        (&self.valid, !self.request.ignore_referred_identity)
    }

    /// The guardians of the persons found, for P4 and up.
    pub(super) fn then(&self, states: &[Option<PersonState>]) -> Option<Vec<PersonId>> {
        if self.profile < Profile::P4 {
            return None;
        }
        let mut ids: Vec<PersonId> = states
            .iter()
            .flatten()
            .flat_map(|s| s.person.guardians.iter().cloned())
            .collect();
        // Siblings in one request share guardians: each record is loaded (and named) once.
        ids.sort_by_key(PersonId::key);
        ids.dedup();
        Some(ids)
    }

    /// One record or error per requested id, from the states of the valid ids (in order)
    /// and the guardians' states.
    pub(super) fn answer(
        self,
        ctx: &Context<'_>,
        states: &[Option<PersonState>],
        guardians: Option<Vec<Option<PersonState>>>,
    ) -> Result<Handled, ServiceError> {
        let contract = ctx.call.contract;
        let guardians: Vec<Person> = guardians
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .map(|s| s.person)
            .collect();
        let mut found = states.iter();
        let mut audit = Vec::with_capacity(self.lookups.len());
        let records: Vec<RecordOut<'_>> = self
            .request
            .person_ids
            .iter()
            .zip(&self.lookups)
            .enumerate()
            .map(|(i, (requested, lookup))| {
                let state = match lookup {
                    Lookup::Valid { .. } => found.next().and_then(Option::as_ref),
                    Lookup::Invalid(_) => None,
                };
                let (out, entry) = answer(
                    ctx,
                    i,
                    requested,
                    lookup,
                    state,
                    &guardians,
                    self.profile,
                    self.access,
                );
                audit.extend(entry);
                out
            })
            .collect();
        Ok(Handled {
            payload: encode(contract, &records),
            audit,
            result: RequestResult::Ok,
        })
    }
}

/// One id's record or error, and its audit entry.
#[allow(clippy::too_many_arguments)]
fn answer<'a>(
    ctx: &Context<'_>,
    index: usize,
    requested: &'a IdInput,
    lookup: &Lookup,
    state: Option<&'a PersonState>,
    guardians: &'a [Person],
    profile: Profile,
    access: Access,
) -> (RecordOut<'a>, Vec<AuditEntry>) {
    let refused = |code: ErrorCode, text: String| Found::Refused { code, text };
    match (lookup, state) {
        (Lookup::Invalid(problem), _) => {
            let path = format!("{}/personId[{}]", ctx.call.contract.name(), index + 1);
            let text = Violation::InvalidPersonId {
                path,
                problem: problem.clone(),
            }
            .to_string();
            let key = format!(
                "{}:{}",
                requested.root,
                requested.extension.as_deref().unwrap_or("")
            );
            let entry = ctx.audit(key).with_outcome(
                Outcome::Error,
                Some(AuditCode::Rule(ErrorCode::InvalidPersonId)),
                None,
            );
            (
                RecordOut {
                    requested,
                    found: refused(ErrorCode::InvalidPersonId, text),
                },
                vec![entry],
            )
        }
        (Lookup::Valid { asked, .. }, None) => {
            let entry = ctx.audit(asked.key()).with_outcome(
                Outcome::Ok,
                Some(AuditCode::Rule(ErrorCode::PersonNotFound)),
                None,
            );
            (
                RecordOut {
                    requested,
                    found: refused(
                        ErrorCode::PersonNotFound,
                        Violation::PersonNotFound.to_string(),
                    ),
                },
                vec![entry],
            )
        }
        (Lookup::Valid { .. }, Some(s)) => {
            let shown = view(s, guardians, profile, access);
            // A guardian named on P4 was read too (AC-2).
            let mut entries = vec![ctx.audit(s.person.id.key())];
            entries.extend(shown.guardians.iter().map(|g| ctx.audit(g.id.key())));
            (
                RecordOut {
                    requested,
                    found: Found::Record(shown),
                },
                entries,
            )
        }
    }
}

/// The XML view of what the domain lets this read disclose.
fn view<'a>(
    state: &'a PersonState,
    guardians: &'a [Person],
    asked: Profile,
    access: Access,
) -> PersonRecordView<'a> {
    let shown = disclosure(&state.person, asked, access);
    let contacts = if shown.contacts {
        state.contacts.as_ref()
    } else {
        None
    };
    let today = swedish_date(chrono::Utc::now());
    let guardians = if shown.guardians {
        guardians_shown(&state.person, guardians, access, today)
    } else {
        Vec::new()
    };
    PersonRecordView {
        person: &state.person,
        profile: shown.profile,
        contacts,
        guardians,
        history: history_shown(&state.person, shown.profile, access),
    }
}
