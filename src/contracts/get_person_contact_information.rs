//! GetPersonContactInformation 4.0 and its Unrestricted twin: the request and response mapping.

use super::types::{decode_id, open_payload, write_contact_record, ContactRecordView};
use super::{Contract, RESULT_NS};
use crate::domain::IdInput;
use crate::domain::{ContactRecord, NotificationRoute, RuleId};
use crate::xml::{DecodeError, Element, Seq, XmlWriter};

/// The request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `personId`.
    pub(crate) person_id: IdInput,
}

/// Reads the request element of `contract` (either twin).
pub fn decode(el: &Element, contract: Contract) -> Result<Request, DecodeError> {
    let name = contract.name();
    let mut s = Seq::new(el, contract.responder_ns(), name)?;
    let person_id = decode_id(s.required("personId")?, &format!("{name}/personId"))?;
    s.finish()?;
    Ok(Request { person_id })
}

/// The GU-1 route as the domain decided it, with each named guardian's own stored record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteView<'a> {
    pub(crate) route: &'a NotificationRoute,
    /// One slot per `route.guardians`, in order: the guardian's record, if any is stored.
    pub(crate) guardian_records: &'a [Option<&'a ContactRecord>],
}

/// Writes the response payload; `record` is absent for an unknown person or one with
/// nothing stored; `route` goes into the trailing `xs:any` slot.
pub(crate) fn encode(
    contract: Contract,
    record: Option<ContactRecordView<'_>>,
    route: Option<RouteView<'_>>,
) -> String {
    let mut w = XmlWriter::with_capacity(1024);
    let name = contract.response_element();
    open_payload(&mut w, &name, contract.responder_ns());
    if let Some(view) = record {
        write_contact_record(&mut w, "contactInformationRecord", view);
    }
    if let Some(route) = route {
        write_route(&mut w, route);
    }
    w.close(&name);
    w.finish()
}

/// `notificationRoute` in `urn:pu-adapter:result:1` (docs/contract.md, GU-1).
fn write_route(w: &mut XmlWriter, view: RouteView<'_>) {
    let RouteView {
        route,
        guardian_records,
    } = view;
    w.open_with("r:notificationRoute", &[("xmlns:r", RESULT_NS)]);
    w.leaf("r:route", route.route.as_str())
        .leaf("r:ageYears", &route.age_years.to_string())
        .leaf("r:ruleId", RuleId::Gu1.as_str());
    for (id, record) in route.guardians.iter().zip(guardian_records) {
        w.open("r:guardian")
            .open("r:personId")
            .leaf("r:root", id.root())
            .leaf("r:extension", id.extension())
            .close("r:personId");
        for entry in record.iter().flat_map(|r| &r.entries) {
            w.open("r:contactInformation")
                .leaf("r:contactType", entry.channel.contact_type())
                .leaf("r:value", entry.channel.value())
                .leaf_bool("r:digitalNotification", entry.digital_notification)
                .close("r:contactInformation");
        }
        w.close("r:guardian");
    }
    w.close("r:notificationRoute");
}
