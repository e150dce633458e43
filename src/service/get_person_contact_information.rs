//! GetPersonContactInformation(Unrestricted): one person's contact record under
//! PR-3/PR-4/PR-6 and, for a child, the GU-1 notification route with the guardians' own
//! contact information.

use super::{Context, Handled, RequestResult, ServiceError};
use crate::audit::{AuditCode, Outcome};
use crate::contracts::get_person_contact_information::{decode, encode, RouteView};
use crate::contracts::types::ContactRecordView;
use crate::domain::disclosure::may_show_contacts;
use crate::domain::{
    notification_route, route_needed, swedish_date, Access, ContactRecord, ErrorCode,
    NotificationRoute, Person,
};
use crate::store::PersonState;
use crate::xml::Element;

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
    let (route, guardians) = match &state {
        Some(s) => route_with_guardians(ctx, &s.person, access)?,
        None => (None, Vec::new()),
    };
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

/// The route the domain decides for a child today, with the guardians' records it needs;
/// nothing (and nothing loaded) for anyone else.
fn route_with_guardians(
    ctx: &Context<'_>,
    person: &Person,
    access: Access,
) -> Result<(Option<NotificationRoute>, Vec<PersonState>), ServiceError> {
    let today = swedish_date(chrono::Utc::now());
    let Some(ids) = route_needed(person, today, access) else {
        return Ok((None, Vec::new()));
    };
    let guardians: Vec<PersonState> = ctx
        .stores
        .persons
        .load(ids)?
        .into_iter()
        .flatten()
        .collect();
    let register: Vec<Person> = guardians.iter().map(|g| g.person.clone()).collect();
    Ok((notification_route(person, today, &register), guardians))
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
