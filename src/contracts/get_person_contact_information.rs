//! GetPersonContactInformation 4.0 and its Unrestricted twin: XML types and handler.

use super::types::{open_payload, write_contact_record, ContactRecordView, Ii};
use super::Contract;
use crate::domain::protection::may_show_contacts;
use crate::domain::Access;
use crate::error::ServiceError;
use crate::service::{Context, Handled};
use crate::xml::{DecodeError, Element, Seq, XmlWriter};

/// The request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `personId`.
    pub person_id: Ii,
}

/// Reads the request element of `contract` (either twin).
pub fn decode(el: &Element, contract: Contract) -> Result<Request, DecodeError> {
    let name = contract.name();
    let mut s = Seq::new(el, contract.responder_ns(), name)?;
    let person_id = Ii::decode(s.required("personId")?, &format!("{name}/personId"))?;
    s.finish()?;
    Ok(Request { person_id })
}

/// Writes the response payload; `record` is absent for an unknown person or one with nothing stored.
pub fn encode(contract: Contract, record: Option<ContactRecordView<'_>>) -> String {
    let mut w = XmlWriter::with_capacity(1024);
    let name = contract.response_element();
    open_payload(&mut w, &name, contract.responder_ns());
    if let Some(view) = record {
        write_contact_record(&mut w, "contactInformationRecord", view);
    }
    w.close(&name);
    w.finish()
}

/// Answers a GetPersonContactInformation(Unrestricted) request (PR-3, PR-4).
pub fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    let contract = ctx.call.contract;
    let req = decode(body, contract)?;
    let id = ctx
        .config
        .identifiers
        .parse(&req.person_id.root, req.person_id.extension.as_deref())
        .map_err(|problem| ServiceError::InvalidIdentifier { path: format!("{}/personId", contract.name()), problem })?;
    let state = ctx.store.load(std::slice::from_ref(&id))?.pop().flatten();
    let access = contract.access().unwrap_or(Access::Restricted);
    let view = state
        .as_ref()
        .and_then(|s| s.contacts.as_ref().map(|record| ContactRecordView { person: &s.person, record, show_contacts: may_show_contacts(&s.person, access) }));
    let payload = encode(contract, view);
    let entry = ctx.audit(id.key());
    let entry = if state.is_none() { entry.with_outcome(crate::audit::Outcome::Ok, Some("PERSON_NOT_FOUND"), None) } else { entry };
    Ok(Handled { payload, audit: vec![entry], result: "OK" })
}
