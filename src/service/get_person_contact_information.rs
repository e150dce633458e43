//! GetPersonContactInformation(Unrestricted): one person's contact record under
//! PR-3/PR-4/PR-6 and, for a child, the GU-1 notification route with the guardians' own
//! contact information.

use super::{Context, Handled, RequestResult, ServiceError};
use crate::audit::{AuditCode, Outcome};
use crate::contracts::get_person_contact_information::{decode, encode, RouteView};
use crate::contracts::types::ContactRecordView;
use crate::domain::disclosure::may_show_contacts;
use crate::domain::{
    notification_route, route_needed, Access, ContactRecord, ErrorCode, NotificationRoute, Person,
};
use crate::store::PersonState;
use crate::xml::Element;
use chrono_tz::Europe::Stockholm;

pub(super) fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    let contract = ctx.call.contract;
    let req = decode(body, contract)?;
    let id = ctx
        .config
        .identifiers
        .parse(&req.person_id.root, req.person_id.extension.as_deref())
        .map_err(|problem| ServiceError::InvalidIdentifier {
            path: format!("{}/personId", contract.name()),
            problem,
        })?;
    let state = ctx
        .stores
        .persons
        .load(std::slice::from_ref(&id))?
        .pop()
        .flatten();
    let access = contract.access().unwrap_or(Access::Restricted);
    let guardians = match &state {
        Some(s) => guardian_states(ctx, &s.person, access)?,
        None => Vec::new(),
    };
    let route = state
        .as_ref()
        .and_then(|s| route_of(&s.person, &guardians, access));
    let guardian_records: Vec<Option<&ContactRecord>> = route
        .as_ref()
        .map_or_else(Vec::new, |r| records_of(&r.guardians, &guardians));
    let view = state.as_ref().and_then(|s| {
        s.contacts.as_ref().map(|record| ContactRecordView {
            person: &s.person,
            record,
            show_contacts: may_show_contacts(&s.person, access),
        })
    });
    let payload = encode(
        contract,
        view,
        route.as_ref().map(|route| RouteView {
            route,
            guardian_records: &guardian_records,
        }),
    );
    let mut audit = vec![match state {
        Some(_) => ctx.audit(id.key()),
        None => ctx.audit(id.key()).with_outcome(
            Outcome::Ok,
            Some(AuditCode::Rule(ErrorCode::PersonNotFound)),
            None,
        ),
    }];
    // A guardian whose contact information was disclosed was read too (AC-2).
    audit.extend(
        route
            .iter()
            .flat_map(|r| &r.guardians)
            .map(|g| ctx.audit(g.key())),
    );
    Ok(Handled {
        payload,
        audit,
        result: RequestResult::Ok,
    })
}

/// The guardians' records, when the domain says the person gets a route today.
fn guardian_states(
    ctx: &Context<'_>,
    person: &Person,
    access: Access,
) -> Result<Vec<PersonState>, ServiceError> {
    let Some(ids) = route_needed(person, today(), access) else {
        return Ok(Vec::new());
    };
    Ok(ctx
        .stores
        .persons
        .load(ids)?
        .into_iter()
        .flatten()
        .collect())
}

fn route_of(
    person: &Person,
    guardians: &[PersonState],
    access: Access,
) -> Option<NotificationRoute> {
    route_needed(person, today(), access)?;
    let register: Vec<Person> = guardians.iter().map(|g| g.person.clone()).collect();
    notification_route(person, today(), &register)
}

fn records_of<'a>(
    ids: &[crate::domain::PersonId],
    guardians: &'a [PersonState],
) -> Vec<Option<&'a ContactRecord>> {
    ids.iter()
        .map(|id| {
            guardians
                .iter()
                .find(|g| &g.person.id == id)
                .and_then(|g| g.contacts.as_ref())
        })
        .collect()
}

/// Ages are counted on today's date in Sweden.
fn today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&Stockholm).date_naive()
}
