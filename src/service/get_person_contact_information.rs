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
    NotificationRoute, Person, PersonId,
};
use crate::store::PersonState;
use crate::xml::Element;
use chrono::NaiveDate;

/// A GetPersonContactInformation request, decoded and checked: whom to load, then the answer.
pub(super) struct ContactsRead {
    id: PersonId,
    access: Access,
    /// The day the GU-1 route is decided for (Europe/Stockholm).
    today: NaiveDate,
}

/// Decodes the request and parses the id (an invalid one is a Fault, ID-2).
pub(super) fn decode_read(ctx: &Context<'_>, body: &Element) -> Result<ContactsRead, ServiceError> {
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
    Ok(ContactsRead {
        id,
        access: contract.access().unwrap_or(Access::Restricted),
        today: swedish_date(chrono::Utc::now()),
    })
}

impl ContactsRead {
    /// The person asked for, by their own id.
    pub(super) fn first(&self) -> (&[PersonId], bool) {
        (std::slice::from_ref(&self.id), false)
    }

    /// The guardians whose records the domain's route for a child needs today; `None`
    /// (nothing loaded) for anyone else.
    pub(super) fn then(&self, first: &[Option<PersonState>]) -> Option<Vec<PersonId>> {
        let person = &first.first()?.as_ref()?.person;
        route_needed(person, self.today, self.access).map(<[PersonId]>::to_vec)
    }

    /// The contact record under PR-3/PR-4/PR-6 and, for a child, the route with each
    /// guardian's own record.
    pub(super) fn answer(
        self,
        ctx: &Context<'_>,
        first: Vec<Option<PersonState>>,
        guardians: Option<Vec<Option<PersonState>>>,
    ) -> Result<Handled, ServiceError> {
        let contract = ctx.call.contract;
        let access = self.access;
        let state = first.into_iter().next().flatten();
        let (route, guardians) = match (&state, guardians) {
            (Some(s), Some(loaded)) => self.route(&s.person, loaded),
            _ => (None, Vec::new()),
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
            Some(_) => ctx.audit(self.id.key()),
            None => ctx.audit(self.id.key()).with_outcome(
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

    /// The route the domain decides for `child` today from the guardians' loaded states,
    /// with the states of those found.
    fn route(
        &self,
        child: &Person,
        loaded: Vec<Option<PersonState>>,
    ) -> (Option<NotificationRoute>, Vec<PersonState>) {
        let guardians: Vec<PersonState> = loaded.into_iter().flatten().collect();
        let register: Vec<Person> = guardians.iter().map(|g| g.person.clone()).collect();
        (notification_route(child, self.today, &register), guardians)
    }
}

fn records_of<'a>(
    ids: &[PersonId],
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
