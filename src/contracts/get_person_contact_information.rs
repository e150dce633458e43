//! GetPersonContactInformation 4.0 and its Unrestricted twin: the request and response mapping.

use super::types::{open_payload, write_contact_record, ContactRecordView, Ii};
use super::Contract;
use crate::xml::{DecodeError, Element, Seq, XmlWriter};

/// The request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `personId`.
    pub(crate) person_id: Ii,
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
pub(crate) fn encode(contract: Contract, record: Option<ContactRecordView<'_>>) -> String {
    let mut w = XmlWriter::with_capacity(1024);
    let name = contract.response_element();
    open_payload(&mut w, &name, contract.responder_ns());
    if let Some(view) = record {
        write_contact_record(&mut w, "contactInformationRecord", view);
    }
    w.close(&name);
    w.finish()
}
