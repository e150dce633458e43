//! GetPersonsForProfile 5.0 and GetPersonsForProfileUnrestricted 5.0: the request and response mapping.

use super::types::{
    decode_id, open_payload, write_instance_id, write_person_record, PersonRecordView,
};
use super::{Contract, RESULT_NS};
use crate::domain::{ErrorCode, IdInput};
use crate::xml::decode::{boolean, text};
use crate::xml::{DecodeError, Element, Seq, XmlWriter};

/// Most identities in one request (docs/contract.md).
pub(crate) const MAX_PERSON_IDS: usize = 500;

/// The request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `personId`, in order.
    pub(crate) person_ids: Vec<IdInput>,
    /// `profile` as sent (P1 … P10).
    pub(crate) profile: String,
    /// `ignoreReferredIdentity`.
    pub(crate) ignore_referred_identity: bool,
}

/// Reads the request element of `contract` (either twin).
pub fn decode(el: &Element, contract: Contract) -> Result<Request, DecodeError> {
    let ns = contract.responder_ns();
    let name = contract.name();
    let mut s = Seq::new(el, ns, name)?;
    let person_ids = s
        .repeated("personId", 1, usize::MAX)?
        .into_iter()
        .enumerate()
        .map(|(i, e)| decode_id(e, &format!("{name}/personId[{}]", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let profile = text(s.required("profile")?, &format!("{name}/profile"))?
        .trim()
        .to_owned();
    let ignore_referred_identity = boolean(
        s.required("ignoreReferredIdentity")?,
        &format!("{name}/ignoreReferredIdentity"),
    )?;
    s.finish()?;
    Ok(Request {
        person_ids,
        profile,
        ignore_referred_identity,
    })
}

/// What one requested id gets: its record, or why not (contract rule #1: never a Fault).
#[derive(Debug, Clone)]
pub enum Found<'a> {
    /// The person's record as the rules allow it.
    Record(PersonRecordView<'a>),
    /// No record: `INVALID_PERSON_ID` or `PERSON_NOT_FOUND`, with words for a person.
    Refused {
        /// The stable `errorCode` (docs/rules.md).
        code: ErrorCode,
        /// `resultText`: what is wrong, for a person to read.
        text: String,
    },
}

/// One `requestedPersonRecord`: the echoed identity and what it got.
#[derive(Debug, Clone)]
pub struct RecordOut<'a> {
    /// The identity as requested.
    pub requested: &'a IdInput,
    /// Its record or its error.
    pub found: Found<'a>,
}

/// Writes the response payload element.
pub fn encode(contract: Contract, records: &[RecordOut<'_>]) -> String {
    let mut w = XmlWriter::with_capacity(256 + records.len() * 1024);
    let name = contract.response_element();
    open_payload(&mut w, &name, contract.responder_ns());
    for r in records {
        w.open("requestedPersonRecord");
        write_instance_id(
            &mut w,
            "p:requestedPersonalIdentity",
            &r.requested.root,
            r.requested.extension.as_deref(),
        );
        match &r.found {
            Found::Record(view) => write_person_record(&mut w, "p:personRecord", view),
            Found::Refused { code, text } => {
                let ns = [("xmlns:r", RESULT_NS)];
                w.open_with("r:errorCode", &ns)
                    .raw(code.as_str())
                    .close("r:errorCode");
                w.open_with("r:resultText", &ns);
                w.text(text);
                w.close("r:resultText");
            }
        }
        w.close("requestedPersonRecord");
    }
    w.close(&name);
    w.finish()
}
