//! The messages of the conformance cases: requests written as a consumer would write them,
//! and the few reading helpers that judge answers by namespace and name.

use super::PersonId;
use crate::contract::{Contract, CORE_NS};
use crate::outcome::{Seen, ERROR_CODES};
use crate::xml::escape;
use crate::xml::{Element, Limits};

pub(super) const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub(super) const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
pub(super) const WSDL_SOAP_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
pub(super) const REGISTRY_NS: &str = "urn:riv:itintegration:registry:1";
/// HSA-id root (actors who are professionals, CO-1).
pub(super) const HSA_ROOT: &str = "1.2.752.29.6.2.1";
/// Values the cases send that must never come back in a Fault.
pub(super) const PROBE_NAME: &str = "Konformansson";
pub(super) const PROBE_EMAIL: &str = "konformans.prov@example.se";
pub(super) const PROBE_PHONE: &str = "+46701239876";

/// Which client certificate a request presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    Consumer,
    Unrestricted,
}

/// The LogicalAddress header of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Header<'a> {
    Address(&'a str),
    Missing,
    Empty,
}

/// What came back for one request.
pub(super) enum Answer {
    /// The body's element (not a Fault).
    Response { status: u16, element: Element },
    /// A SOAP Fault, with the whole raw answer for the personal-data check.
    Fault {
        status: u16,
        code: String,
        text: String,
        raw: String,
    },
}

/// The bounds answers are read within.
pub(super) fn limits() -> Limits {
    Limits::ANSWERS
}

pub(super) fn kid<'e>(e: &'e Element, ns: &str, name: &str) -> Option<&'e Element> {
    e.children.iter().find(|c| c.is(ns, name))
}

pub(super) fn kids<'e>(e: &'e Element, ns: &str, name: &str) -> Vec<&'e Element> {
    e.children.iter().filter(|c| c.is(ns, name)).collect()
}

pub(super) fn core_text<'e>(e: &'e Element, name: &str) -> Option<&'e str> {
    kid(e, CORE_NS, name).map(|c| c.text.trim())
}

/// The first element with this name anywhere below `e` (an `xs:any` slot may sit deep).
pub(super) fn descendant<'e>(e: &'e Element, ns: &str, name: &str) -> Option<&'e Element> {
    e.children.iter().find_map(|c| {
        if c.is(ns, name) {
            Some(c)
        } else {
            descendant(c, ns, name)
        }
    })
}

pub(super) fn has(e: &Element, name: &str) -> bool {
    kid(e, CORE_NS, name).is_some()
}

/// `(contactType, value, digitalNotification)` of a record, sorted (order is not a rule).
pub(super) fn entries(record: &Element) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = kids(record, CORE_NS, "contactInformation")
        .into_iter()
        .map(|c| {
            let t = |n| core_text(c, n).unwrap_or_default().to_owned();
            (t("contactType"), t("value"), t("digitalNotification"))
        })
        .collect();
    out.sort();
    out
}

pub(super) fn version_of(record: Option<&Element>) -> Option<String> {
    record
        .and_then(|r| core_text(r, "version"))
        .map(str::to_owned)
}

/// A well-formed identifier with a wrong check digit.
pub(super) fn bad_check_digit(p: &PersonId) -> PersonId {
    let mut ext = p.extension.clone();
    if let Some(last) = ext.pop() {
        let d = last.to_digit(10).map_or(0, |d| (d + 1) % 10);
        ext.push(char::from_digit(d, 10).unwrap_or('0'));
    }
    PersonId {
        root: p.root.clone(),
        extension: ext,
    }
}

pub(super) fn id_xml(tag: &str, p: &PersonId) -> String {
    format!(
        "<{tag}><c:root>{}</c:root><c:extension>{}</c:extension></{tag}>",
        escape(&p.root),
        escape(&p.extension)
    )
}

pub(super) fn envelope(header: Header<'_>, payload: &str) -> String {
    let header = match header {
        Header::Address(a) => format!(
            "<itr:LogicalAddress xmlns:itr=\"{REGISTRY_NS}\">{}</itr:LogicalAddress>",
            escape(a)
        ),
        Header::Missing => String::new(),
        Header::Empty => {
            format!("<itr:LogicalAddress xmlns:itr=\"{REGISTRY_NS}\"></itr:LogicalAddress>")
        }
    };
    format!("<soapenv:Envelope xmlns:soapenv=\"{SOAP_NS}\"><soapenv:Header>{header}</soapenv:Header><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>")
}

pub(super) fn wrapper(c: Contract, inner: &str) -> String {
    format!(
        "<{n} xmlns=\"{ns}\" xmlns:c=\"{CORE_NS}\">{inner}</{n}>",
        n = c.name(),
        ns = c.responder_ns()
    )
}

pub(super) fn gpfp_xml(c: Contract, ids: &[&PersonId], profile: &str, ignore: bool) -> String {
    let ids: String = ids.iter().map(|p| id_xml("personId", p)).collect();
    wrapper(
        c,
        &format!("{ids}<profile>{profile}</profile><ignoreReferredIdentity>{ignore}</ignoreReferredIdentity>"),
    )
}

pub(super) fn gpci_xml(c: Contract, p: &PersonId) -> String {
    wrapper(c, &id_xml("personId", p))
}

/// Who the update names as its actor (CO-1).
#[derive(Debug, Clone)]
pub(super) enum Actor {
    Person(PersonId),
    Professional {
        hsa_id: String,
        organization: String,
    },
}

/// One contact entry of an update; `qualifier` is a CT-2 qualifier (`use`) to send.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) kind: &'static str,
    pub(super) value: String,
    pub(super) dn: Option<bool>,
    pub(super) qualifier: Option<&'static str>,
}

pub(super) fn entry(kind: &'static str, value: &str, dn: bool) -> Entry {
    Entry {
        kind,
        value: value.to_owned(),
        dn: Some(dn),
        qualifier: None,
    }
}

#[derive(Debug, Clone)]
pub(super) struct Update {
    pub(super) actor: Actor,
    pub(super) person: PersonId,
    pub(super) version: Option<String>,
    pub(super) entries: Vec<Entry>,
    pub(super) contact_person: bool,
    pub(super) optout: Option<bool>,
    /// Whose stored state a refusal compares, when not `person`: a malformed identifier
    /// cannot be read back, so the person it nearly names is compared instead.
    pub(super) compared: Option<PersonId>,
}

impl Update {
    /// The person updating their own contact information.
    pub(super) fn own(person: &PersonId, version: Option<String>, entries: Vec<Entry>) -> Update {
        Update {
            actor: Actor::Person(person.clone()),
            person: person.clone(),
            version,
            entries,
            contact_person: false,
            optout: None,
            compared: None,
        }
    }

    pub(super) fn xml(&self, c: Contract) -> String {
        let actor = match &self.actor {
            Actor::Person(p) => format!("<actor>{}</actor>", id_xml("c:id", p)),
            Actor::Professional {
                hsa_id,
                organization,
            } => format!(
                "<actor><c:id><c:root>{HSA_ROOT}</c:root><c:extension>{}</c:extension></c:id><c:professional><c:organizationId><c:root>{HSA_ROOT}</c:root><c:extension>{}</c:extension></c:organizationId></c:professional></actor>",
                escape(hsa_id),
                escape(organization)
            ),
        };
        let version = self
            .version
            .as_ref()
            .map(|v| format!("<versionToUpdate>{}</versionToUpdate>", escape(v)))
            .unwrap_or_default();
        let entries: String = self
            .entries
            .iter()
            .map(|e| {
                format!(
                    "<contactInformation><c:contactType>{}</c:contactType>{}<c:value>{}</c:value>{}</contactInformation>",
                    e.kind,
                    e.qualifier.map(|q| format!("<c:use>{q}</c:use>")).unwrap_or_default(),
                    escape(&e.value),
                    e.dn.map(|d| format!("<c:digitalNotification>{d}</c:digitalNotification>")).unwrap_or_default()
                )
            })
            .collect();
        let contact_person = if self.contact_person {
            format!("<contactPerson><c:contactRelationshipType>NARA</c:contactRelationshipType><c:givenName>{PROBE_NAME}</c:givenName></contactPerson>")
        } else {
            String::new()
        };
        let optout = self
            .optout
            .map(|o| format!("<optoutPaperNotification>{o}</optoutPaperNotification>"))
            .unwrap_or_default();
        wrapper(
            c,
            &format!(
                "{actor}{}{version}{entries}{contact_person}{optout}",
                id_xml("personId", &self.person)
            ),
        )
    }
}

/// The result of an update: resultCode, our errorCode, and the new record on OK.
pub(super) struct UpdateAnswer {
    pub(super) code: Seen,
    pub(super) error: Seen,
    /// `ruleId` (our addition) and `resultText`: one of them must name the rule.
    pub(super) rule: Seen,
    pub(super) text: String,
    /// `logId` (our addition): the refusal can be found in the producer's log.
    pub(super) log_id: Option<String>,
    pub(super) record: Option<Element>,
}

/// One requestedPersonRecord of GetPersonsForProfile.
pub(super) struct Requested {
    pub(super) requested: Option<(String, String)>,
    pub(super) person: Option<Element>,
    pub(super) error: Option<String>,
}

impl Requested {
    /// The record's errorCode as a report may show it.
    pub(super) fn error_code(&self) -> Seen {
        Seen::among(self.error.as_deref(), &ERROR_CODES)
    }
}

/// Looks like a UUID (8-4-4-4-12 hex digits) somewhere in `s`: the Fault's log id.
pub(super) fn has_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(36).any(|w| {
        w.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
    })
}
