//! GetPersonContactInformation(Unrestricted): one person's contact record under PR-3/PR-4/PR-6.

use super::{Context, Handled, RequestResult, ServiceError};
use crate::audit::{AuditCode, Outcome};
use crate::contracts::get_person_contact_information::{decode, encode};
use crate::contracts::types::ContactRecordView;
use crate::domain::protection::may_show_contacts;
use crate::domain::{Access, ErrorCode};
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
    let view = state.as_ref().and_then(|s| {
        s.contacts.as_ref().map(|record| ContactRecordView {
            person: &s.person,
            record,
            show_contacts: may_show_contacts(&s.person, access),
        })
    });
    let payload = encode(contract, view);
    let entry = ctx.audit(id.key());
    let entry = if state.is_none() {
        entry.with_outcome(
            Outcome::Ok,
            Some(AuditCode::Rule(ErrorCode::PersonNotFound)),
            None,
        )
    } else {
        entry
    };
    Ok(Handled {
        payload,
        audit: vec![entry],
        result: RequestResult::Ok,
    })
}
