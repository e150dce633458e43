//! UpdatePersonContactInformation 4.0 and its Unrestricted twin: the request and response mapping.

use super::types::{
    decode_contact, decode_id, open_payload, write_contact_record, write_result, ActorXml,
    ContactRecordView, ResultXml,
};
use super::Contract;
use crate::domain::{ActorInput, UpdateInput};
use crate::xml::decode::{boolean, timestamp};
use crate::xml::{DecodeError, Element, Seq, XmlWriter};

/// Reads the request element of `contract` into the domain's unvalidated update input.
pub fn decode(el: &Element, contract: Contract) -> Result<UpdateInput, DecodeError> {
    let name = contract.name();
    let mut s = Seq::new(el, contract.responder_ns(), name)?;
    let actor = ActorXml::decode(s.required("actor")?, &format!("{name}/actor"))?;
    let person = decode_id(s.required("personId")?, &format!("{name}/personId"))?;
    let version_to_update = s
        .optional("versionToUpdate")?
        .map(|e| timestamp(e, &format!("{name}/versionToUpdate")).map(str::to_owned))
        .transpose()?;
    let contacts = s
        .repeated("contactInformation", 0, usize::MAX)?
        .into_iter()
        .enumerate()
        .map(|(i, e)| decode_contact(e, &format!("{name}/contactInformation[{}]", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let contact_person_count = s.count("contactPerson")?;
    let optout_paper_notification = s
        .optional("optoutPaperNotification")?
        .map(|e| boolean(e, &format!("{name}/optoutPaperNotification")))
        .transpose()?;
    s.finish()?;
    Ok(UpdateInput {
        actor: ActorInput {
            id_root: actor.id.root,
            id_extension: actor.id.extension,
            organization: actor.organization,
        },
        person,
        version_to_update,
        contacts,
        contact_person_count,
        optout_paper_notification,
    })
}

/// The result element's name: the Unrestricted response capitalises it, as published.
pub(crate) fn result_element(contract: Contract) -> &'static str {
    match contract {
        Contract::UpdatePersonContactInformationUnrestricted => {
            "UpdatePersonContactInformationUnrestrictedResult"
        }
        _ => "updatePersonContactInformationResult",
    }
}

/// Writes the response payload: the result and, on OK, the new state.
pub(crate) fn encode(
    contract: Contract,
    result: &ResultXml,
    record: Option<ContactRecordView<'_>>,
) -> String {
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
