//! GetPersonsForProfile(Unrestricted): one answer per requested id (contract rule #1), each
//! under the profile the domain allows; referred and linked identities answered with the
//! current identity's record unless the caller asks otherwise (rule #2).

use super::{Context, Handled, RequestResult, ServiceError};
use crate::audit::{AuditCode, AuditEntry, Outcome};
use crate::contracts::get_persons_for_profile::{decode, encode, Found, RecordOut, MAX_PERSON_IDS};
use crate::contracts::types::PersonRecordView;
use crate::domain::IdInput;
use crate::domain::{
    disclosure, guardians_shown, history_shown, swedish_date, Access, ErrorCode, IdProblem, Person,
    PersonId, Profile, Violation,
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

pub(super) fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    let contract = ctx.call.contract;
    let req = decode(body, contract)?;
    if req.person_ids.len() > MAX_PERSON_IDS {
        return Err(ServiceError::TooManyIds(req.person_ids.len()));
    }
    let profile = Profile::parse(&req.profile)?;
    let access = contract.access().unwrap_or(Access::Restricted);
    let (lookups, states) = resolve(ctx, &req.person_ids, req.ignore_referred_identity)?;
    let guardians = guardian_states(ctx, &states, profile)?;
    let mut found = states.iter();
    let mut audit = Vec::with_capacity(lookups.len());
    let records: Vec<RecordOut<'_>> = req
        .person_ids
        .iter()
        .zip(&lookups)
        .enumerate()
        .map(|(i, (requested, lookup))| {
            let state = match lookup {
                Lookup::Valid { .. } => found.next().and_then(Option::as_ref),
                Lookup::Invalid(_) => None,
            };
            let (out, entry) = answer(
                ctx, i, requested, lookup, state, &guardians, profile, access,
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

/// Parses every id and, unless the caller ignores them, follows referred and linked
/// identities; reads the answering persons in the same store call. The states are those of
/// the valid ids, in order.
fn resolve(
    ctx: &Context<'_>,
    ids: &[IdInput],
    ignore_referred: bool,
) -> Result<(Vec<Lookup>, Vec<Option<PersonState>>), ServiceError> {
    let parsed: Vec<Result<PersonId, IdProblem>> = ids
        .iter()
        .map(|ii| {
            ctx.config
                .identifiers
                .parse(&ii.root, ii.extension.as_deref())
        })
        .collect();
    let valid: Vec<PersonId> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let states = ctx
        .stores
        .persons
        .load_following_aliases(&valid, !ignore_referred)?;
    let lookups = parsed
        .into_iter()
        .map(|p| match p {
            Err(problem) => Lookup::Invalid(problem),
            Ok(asked) => Lookup::Valid { asked },
        })
        .collect();
    Ok((lookups, states))
}

/// The guardians' records, for P4 and up.
fn guardian_states(
    ctx: &Context<'_>,
    states: &[Option<PersonState>],
    profile: Profile,
) -> Result<Vec<Person>, ServiceError> {
    if profile < Profile::P4 {
        return Ok(Vec::new());
    }
    let mut ids: Vec<PersonId> = states
        .iter()
        .flatten()
        .flat_map(|s| s.person.guardians.iter().cloned())
        .collect();
    // Siblings in one request share guardians: each record is loaded (and named) once.
    ids.sort_by_key(PersonId::key);
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(ctx
        .stores
        .persons
        .load(&ids)?
        .into_iter()
        .flatten()
        .map(|s| s.person)
        .collect())
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
