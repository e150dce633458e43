//! Core types of namespace `…:persons:person:5`: reading them from requests and writing
//! them from domain values. No business rule is decided here.

use super::{CORE_NS, RESULT_NS};
use crate::domain::{
    Actor, ContactEntry, ContactInput, ContactRecord, ErrorCode, IdInput, Person, PostalAddress,
    Profile, Qualifiers, RuleId, ShownAddress,
};
use crate::xml::decode::{boolean, bounded, text, timestamp};
use crate::xml::{DecodeError, DecodeProblem, Element, Seq, XmlWriter};

/// Reads an `IIType` (root and optional extension) as sent.
pub(crate) fn decode_id(el: &Element, path: &str) -> Result<IdInput, DecodeError> {
    let mut s = Seq::new(el, CORE_NS, path)?;
    let root = text(s.required("root")?, &format!("{path}/root"))?.to_owned();
    let extension = s
        .optional("extension")?
        .map(|e| text(e, &format!("{path}/extension")).map(str::to_owned))
        .transpose()?;
    s.finish()?;
    Ok(IdInput { root, extension })
}

/// Writes an `IIType` element named `qname`.
pub(crate) fn write_instance_id(
    w: &mut XmlWriter,
    qname: &str,
    root: &str,
    extension: Option<&str>,
) {
    w.open(qname)
        .leaf("p:root", root)
        .leaf_opt("p:extension", extension)
        .close(qname);
}

/// Reads a `ContactInformationType` into the domain's unvalidated input.
pub(crate) fn decode_contact(el: &Element, path: &str) -> Result<ContactInput, DecodeError> {
    let mut s = Seq::new(el, CORE_NS, path)?;
    let contact_type = bounded(
        s.required("contactType")?,
        &format!("{path}/contactType"),
        40,
    )?
    .to_owned();
    let use_ = s
        .optional("use")?
        .map(|e| bounded(e, &format!("{path}/use"), 40))
        .transpose()?
        .is_some();
    let value = s
        .optional("value")?
        .map(|e| text(e, &format!("{path}/value")).map(str::to_owned))
        .transpose()?;
    let rank = s
        .optional("rank")?
        .map(|e| int(e, &format!("{path}/rank")))
        .transpose()?
        .is_some();
    let comment = s
        .optional("comment")?
        .map(|e| text(e, &format!("{path}/comment")))
        .transpose()?
        .is_some();
    let period = s.optional("period")?.is_some();
    let digital_notification = s
        .optional("digitalNotification")?
        .map(|e| boolean(e, &format!("{path}/digitalNotification")))
        .transpose()?;
    s.finish()?;
    Ok(ContactInput {
        contact_type,
        value,
        qualifiers: Qualifiers {
            use_,
            rank,
            comment,
            period,
        },
        digital_notification,
    })
}

fn int(el: &Element, path: &str) -> Result<i32, DecodeError> {
    text(el, path)?
        .trim()
        .parse()
        .map_err(|_| DecodeError::new(path, DecodeProblem::NotInt))
}

/// `ActorType` as sent (its `updateTime` is read and ignored: we set it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActorXml {
    /// `actor/id`, as sent.
    pub id: IdInput,
    /// `professional/organizationId`.
    pub(crate) organization: Option<IdInput>,
}

impl ActorXml {
    /// Reads an `ActorType` element at `path`; checks its shape, not the rules (CO-1).
    pub(crate) fn decode(el: &Element, path: &str) -> Result<Self, DecodeError> {
        let mut s = Seq::new(el, CORE_NS, path)?;
        let id = decode_id(s.required("id")?, &format!("{path}/id"))?;
        let organization = match s.optional("professional")? {
            Some(p) => {
                let ppath = format!("{path}/professional");
                let mut ps = Seq::new(p, CORE_NS, ppath.clone())?;
                let org = decode_id(
                    ps.required("organizationId")?,
                    &format!("{ppath}/organizationId"),
                )?;
                ps.finish()?;
                Some(org)
            }
            None => None,
        };
        if let Some(t) = s.optional("updateTime")? {
            timestamp(t, &format!("{path}/updateTime"))?;
        }
        s.finish()?;
        Ok(Self { id, organization })
    }
}

/// Writes `ContactInformationType`: only contactType, value and digitalNotification (CT-2, DN-1).
pub(crate) fn write_contact(w: &mut XmlWriter, qname: &str, entry: &ContactEntry) {
    w.open(qname)
        .leaf("p:contactType", entry.channel.contact_type())
        .leaf("p:value", entry.channel.value())
        .leaf_bool("p:digitalNotification", entry.digital_notification)
        .close(qname);
}

/// Writes `ActorType` for the stored provenance.
pub(crate) fn write_actor(w: &mut XmlWriter, qname: &str, record: &ContactRecord) {
    let actor = &record.provenance.actor;
    w.open(qname);
    write_instance_id(w, "p:id", actor.id_root(), Some(actor.id_extension()));
    if let Actor::Professional {
        organization_root,
        organization_id,
        ..
    } = actor
    {
        w.open("p:professional");
        write_instance_id(
            w,
            "p:organizationId",
            organization_root,
            Some(organization_id),
        );
        w.close("p:professional");
    }
    w.leaf("p:updateTime", &record.provenance.update_time.to_string());
    w.close(qname);
}

/// What a `ContactInformationRecordType` shows: decided by the domain's rules, not here.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContactRecordView<'a> {
    /// Whose record; its protection decides what is shown.
    pub person: &'a Person,
    pub(crate) record: &'a ContactRecord,
    /// False when the rules withhold the contact data (PR-3, PR-4).
    pub(crate) show_contacts: bool,
}

/// Writes a `ContactInformationRecordType`; `contactPerson` is never written (CT-6).
pub(crate) fn write_contact_record(w: &mut XmlWriter, qname: &str, view: ContactRecordView<'_>) {
    let ContactRecordView {
        person,
        record,
        show_contacts,
    } = view;
    w.open(qname).leaf("p:version", &record.version.to_string());
    write_instance_id(
        w,
        "p:personId",
        person.id.root(),
        Some(person.id.extension()),
    );
    if show_contacts {
        for e in &record.entries {
            write_contact(w, "p:contactInformation", e);
        }
    }
    w.leaf_bool(
        "p:protectedPersonIndicator",
        person.protection.sekretessmarkering,
    );
    w.leaf_bool(
        "p:protectedPopulationRecord",
        person.protection.skyddad_folkbokforing,
    );
    if show_contacts {
        if let Some(opt) = record.optout_paper_notification {
            w.leaf_bool("p:optoutPaperNotification", opt);
        }
        write_actor(w, "p:updatePersonContactInformationActor", record);
    }
    w.close(qname);
}

/// What a `PersonRecordType` shows: decided by the domain (`disclosure`, `guardians_shown`).
#[derive(Debug, Clone)]
pub struct PersonRecordView<'a> {
    /// Whose record; its protection decides what is shown.
    pub person: &'a Person,
    /// The profile after PR-3.
    pub profile: Profile,
    /// The stored contact record, when the profile and rules allow showing it.
    pub contacts: Option<&'a ContactRecord>,
    /// The guardians to name as relationships (P4).
    pub guardians: Vec<&'a Person>,
    /// The earlier addresses to show (P5), newest first.
    pub history: Vec<ShownAddress<'a>>,
}

/// Writes a `PersonRecordType` in the published element order, each element only from the
/// profile that includes it.
pub(crate) fn write_person_record(w: &mut XmlWriter, qname: &str, view: &PersonRecordView<'_>) {
    let PersonRecordView {
        person,
        profile,
        contacts,
        guardians,
        history,
    } = view;
    let register = &person.register;
    let p4 = profile.includes_relations();
    w.open(qname);
    write_instance_id(
        w,
        "p:personalIdentity",
        person.id.root(),
        Some(person.id.extension()),
    );
    if let Some(g) = register.gender.filter(|_| p4) {
        w.leaf("p:gender", g.code());
    }
    w.leaf_bool(
        "p:protectedPersonIndicator",
        person.protection.sekretessmarkering,
    );
    w.leaf_bool("p:testIndicator", person.test_indicator);
    w.leaf_bool("p:primaryIdentity", true);
    if let Some(record) = contacts {
        w.leaf("p:version", &record.version.to_string());
    }
    write_name(w, "p:name", person);
    for linked in &register.linked {
        w.open("p:linkedIdentity");
        write_instance_id(
            w,
            "p:referredPersonalIdentity",
            linked.root(),
            Some(linked.extension()),
        );
        w.leaf("p:assuranceLevel", "")
            .leaf_bool("p:primaryIdentity", false)
            .close("p:linkedIdentity");
    }
    for referred in &register.referred {
        w.open("p:referredPersonalIdentities");
        write_instance_id(
            w,
            "p:referredPersonalIdentity",
            referred.root(),
            Some(referred.extension()),
        );
        w.close("p:referredPersonalIdentities");
    }
    if let Some(born) = person.effective_birth_date() {
        w.open("p:birth");
        write_partial_date(w, "p:dateOfBirth", born);
        w.close("p:birth");
    }
    if !history.is_empty() {
        write_history(w, history);
    }
    if let Some(a) = person
        .address
        .as_ref()
        .filter(|_| profile.includes_address())
    {
        w.open("p:addressInformation");
        write_address(w, "p:residentialAddress", a);
        w.close("p:addressInformation");
    }
    for e in contacts.iter().flat_map(|r| &r.entries) {
        write_contact(w, "p:contactInformation", e);
    }
    if let Some(d) = person.deregistration {
        w.open("p:deregistration")
            .leaf("p:deregistrationReasonCode", d.reason.code());
        if let Some(date) = d.date {
            write_partial_date(w, "p:deregistrationDate", date);
        }
        w.close("p:deregistration");
    }
    if let Some(m) = register.marital_status.filter(|_| p4) {
        w.open("p:maritalStatus")
            .leaf("p:maritalStatusCode", m.code.code());
        if let Some(date) = m.date {
            write_partial_date(w, "p:maritalStatusDate", date);
        }
        w.close("p:maritalStatus");
    }
    for c in register.citizenship.iter().filter(|_| p4) {
        w.open("p:citizenship")
            .leaf("p:citizenshipCountryCode", c.as_str())
            .close("p:citizenship");
    }
    for g in guardians {
        write_guardian(w, person, g);
    }
    if let Some(record) = contacts {
        write_actor(w, "p:updatePersonContactInformationActor", record);
        if let Some(opt) = record.optout_paper_notification {
            w.leaf_bool("p:optoutPaperNotification", opt);
        }
    }
    w.leaf_bool(
        "p:protectedPopulationRecord",
        person.protection.skyddad_folkbokforing,
    );
    w.close(qname);
}

fn write_name(w: &mut XmlWriter, qname: &str, person: &Person) {
    w.open(qname)
        .leaf("p:givenName", &person.name.given)
        .leaf_opt("p:middleName", person.name.middle.as_deref())
        .leaf("p:surname", &person.name.surname)
        .close(qname);
}

/// A legal guardian (relationshipType V) from birth until the child's 18th birthday.
fn write_guardian(w: &mut XmlWriter, child: &Person, guardian: &Person) {
    w.open("p:relationship").open("p:relationshipId");
    write_instance_id(
        w,
        "p:personalIdentity",
        guardian.id.root(),
        Some(guardian.id.extension()),
    );
    if let Some(born) = guardian.effective_birth_date() {
        write_partial_date(w, "p:dateOfBirth", born);
    }
    w.close("p:relationshipId").leaf("p:relationshipType", "V");
    if let Some(born) = child.effective_birth_date() {
        write_partial_date(w, "p:relationshipFromDate", born);
    }
    if let Some(adult) = child.adult_from() {
        write_partial_date(w, "p:relationshipToDate", adult);
    }
    write_name(w, "p:name", guardian);
    w.close("p:relationship");
}

fn write_address(w: &mut XmlWriter, qname: &str, a: &PostalAddress) {
    w.open(qname);
    write_address_lines(w, a);
    w.close(qname);
}

fn write_address_lines(w: &mut XmlWriter, a: &PostalAddress) {
    w.leaf_opt("p:careOf", a.care_of.as_deref())
        .leaf_opt("p:postalAddress2", a.street.as_deref());
    w.leaf_opt("p:postalCode", a.postal_code.as_deref())
        .leaf_opt("p:city", a.city.as_deref());
}

/// P5, newest first, as the domain decided (`history_shown`). The published
/// `historicalRecords` holds one `historicalAddress`: the newest goes there, so a consumer
/// generated from the official schema reads it; the earlier ones follow in the type's
/// `xs:any` slot as `r:earlierAddress`. Each carries in its own `xs:any` slot the day it
/// ended (`r:validTo`) and, when known, the day it began (`r:validFrom`).
fn write_history(w: &mut XmlWriter, history: &[ShownAddress<'_>]) {
    w.open("p:populationRegistrationRecord")
        .open_with("p:historicalRecords", &[("xmlns:r", RESULT_NS)]);
    for (i, earlier) in history.iter().enumerate() {
        let qname = if i == 0 {
            "p:historicalAddress"
        } else {
            "r:earlierAddress"
        };
        w.open(qname);
        write_address_lines(w, earlier.address);
        if let Some(from) = earlier.from {
            w.leaf("r:validFrom", &from.to_string());
        }
        w.leaf("r:validTo", &earlier.until.to_string());
        w.close(qname);
    }
    w.close("p:historicalRecords")
        .close("p:populationRegistrationRecord");
}

/// The outcome written as `ResultType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultXml {
    /// `resultCode` `OK`.
    Ok,
    /// `ERROR` with the rule's code, rule ID, message and log id.
    Error {
        /// The stable `errorCode`.
        code: ErrorCode,
        /// Rule ID (docs/rules.md).
        rule: RuleId,
        /// `resultText`: what is wrong, for a person to read.
        text: String,
        /// `logId`, also in the server log and the audit trail.
        log_id: String,
    },
}

/// Writes a `ResultType` element named `qname`.
pub(crate) fn write_result(w: &mut XmlWriter, qname: &str, result: &ResultXml) {
    w.open(qname);
    match result {
        ResultXml::Ok => {
            w.leaf("p:resultCode", "OK");
        }
        ResultXml::Error {
            code,
            rule,
            text,
            log_id,
        } => {
            w.leaf("p:resultCode", "ERROR").leaf("p:resultText", text);
            let ns = [("xmlns:r", RESULT_NS)];
            w.open_with("r:errorCode", &ns)
                .raw(code.as_str())
                .close("r:errorCode");
            w.open_with("r:ruleId", &ns)
                .raw(rule.as_str())
                .close("r:ruleId");
            w.open_with("r:logId", &ns).raw(log_id).close("r:logId");
        }
    }
    w.close(qname);
}

/// Opens a payload element: responder namespace as default, core namespace as `p`.
pub(crate) fn open_payload(w: &mut XmlWriter, name: &str, responder_ns: &str) {
    w.open_with(name, &[("xmlns", responder_ns), ("xmlns:p", CORE_NS)]);
}

/// A `PartialDateType` with day precision.
fn write_partial_date(w: &mut XmlWriter, qname: &str, date: chrono::NaiveDate) {
    w.open(qname)
        .leaf("p:format", "YYYY-MM-DD")
        .leaf("p:value", &date.to_string()) // ISO 8601, YYYY-MM-DD
        .close(qname);
}
