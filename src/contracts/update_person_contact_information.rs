//! UpdatePersonContactInformation 4.0 and its Unrestricted twin: XML types and handler.

use super::types::{decode_contact, open_payload, write_contact_record, write_result, ActorXml, ContactRecordView, Ii, ResultXml};
use super::Contract;
use crate::domain::update::{apply_update, validate_update};
use crate::domain::{Access, UpdateAccess, Violation};
use crate::domain::{ActorInput, UpdateInput};
use crate::error::{result_for_violation, ServiceError};
use crate::service::{Context, Handled};
use crate::xml::decode::{boolean, timestamp};
use crate::xml::{DecodeError, Element, Seq, XmlWriter};
use uuid::Uuid;

/// Reads the request element of `contract` into the domain's unvalidated update input.
pub fn decode(el: &Element, contract: Contract) -> Result<UpdateInput, DecodeError> {
    let name = contract.name();
    let mut s = Seq::new(el, contract.responder_ns(), name)?;
    let actor = ActorXml::decode(s.required("actor")?, &format!("{name}/actor"))?;
    let person = Ii::decode(s.required("personId")?, &format!("{name}/personId"))?;
    let version_to_update = s.optional("versionToUpdate")?.map(|e| timestamp(e, &format!("{name}/versionToUpdate")).map(str::to_owned)).transpose()?;
    let contacts = s
        .repeated("contactInformation", 0, usize::MAX)?
        .into_iter()
        .enumerate()
        .map(|(i, e)| decode_contact(e, &format!("{name}/contactInformation[{}]", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let contact_person_count = s.count("contactPerson")?;
    let optout_paper_notification = s.optional("optoutPaperNotification")?.map(|e| boolean(e, &format!("{name}/optoutPaperNotification"))).transpose()?;
    s.finish()?;
    Ok(UpdateInput {
        actor: ActorInput { id_root: actor.id.root, id_extension: actor.id.extension, organization: actor.organization.map(|o| (o.root, o.extension)) },
        person_root: person.root,
        person_extension: person.extension,
        version_to_update,
        contacts,
        contact_person_count,
        optout_paper_notification,
    })
}

/// The result element's name: the Unrestricted response capitalises it, as published.
pub fn result_element(contract: Contract) -> &'static str {
    match contract {
        Contract::UpdatePersonContactInformationUnrestricted => "UpdatePersonContactInformationUnrestrictedResult",
        _ => "updatePersonContactInformationResult",
    }
}

/// Writes the response payload: the result and, on OK, the new state.
pub fn encode(contract: Contract, result: &ResultXml, record: Option<ContactRecordView<'_>>) -> String {
    let mut w = XmlWriter::with_capacity(1024);
    let name = contract.response_element();
    let result_name = result_element(contract);
    open_payload(&mut w, &name, contract.responder_ns());
    w.open(result_name);
    write_result(&mut w, "p:result", result);
    if let Some(view) = record {
        write_contact_record(&mut w, "p:contactInformationRecord", view);
    }
    w.close(result_name).close(&name);
    w.finish()
}

/// Answers an UpdatePersonContactInformation(Unrestricted) request: validate, decide and
/// store in one transaction with its audit entry; a refusal changes nothing.
pub fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    let contract = ctx.call.contract;
    let input = decode(body, contract)?;
    let log_id = Uuid::new_v4();
    let mut audit = ctx.audit(format!("{}:{}", input.person_root, input.person_extension.as_deref().unwrap_or("")));
    audit.log_id = Some(log_id.to_string());
    let validated = match validate_update(&input, &ctx.config.identifiers) {
        Ok(v) => v,
        Err(violation) => {
            let entry = crate::store::codec::audited_update(&audit, Some(&violation));
            return Ok(refused(contract, &violation, log_id, vec![entry]));
        }
    };
    let access = UpdateAccess {
        access: contract.access().unwrap_or(Access::Restricted),
        unrestricted_may_update_protected: ctx.config.unrestricted_may_update_protected,
    };
    let consumer = ctx.call.consumer.as_deref().unwrap_or_default();
    let now = chrono::Utc::now();
    let person_id = validated.person.clone();
    let decide = |person: Option<&crate::domain::Person>, stored: Option<&crate::domain::ContactRecord>| {
        apply_update(validated.clone(), person, stored, access, consumer, now)
    };
    match ctx.store.update_contacts(&person_id, &decide, &audit)? {
        Ok(state) => {
            let record = state.contacts.as_ref().ok_or_else(|| ServiceError::Storage(crate::store::StoreError::Database("update stored no record".into())))?;
            let view = ContactRecordView { person: &state.person, record, show_contacts: true };
            Ok(Handled { payload: encode(contract, &ResultXml::Ok, Some(view)), audit: vec![], result: "OK" })
        }
        Err(violation) => Ok(refused(contract, &violation, log_id, vec![])),
    }
}

/// The ERROR answer for a rule violation; logged with its log id, code and rule, never the values.
fn refused(contract: Contract, violation: &Violation, log_id: Uuid, audit: Vec<crate::audit::AuditEntry>) -> Handled {
    tracing::info!(%log_id, error_code = violation.code().as_str(), rule = violation.rule(), "update refused");
    Handled { payload: encode(contract, &result_for_violation(violation, log_id), None), audit, result: "ERROR" }
}
