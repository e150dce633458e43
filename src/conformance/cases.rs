//! The case table: each case sends requests as a consumer would and judges the producer by
//! its answers alone. Failure texts say what was expected and what was found, and never
//! quote personal data (identifiers, names, addresses, contact values).

use super::client::{Client, Tls};
use super::{escape, schema, CaseReport, Options, Outcome, PersonId};
use crate::contracts::{Contract, CORE_NS, RESULT_NS};
use crate::xml::{self, Element, Limits};
use std::cell::RefCell;
use std::time::Instant;

const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const WSDL_SOAP_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
const REGISTRY_NS: &str = "urn:riv:itintegration:registry:1";
/// HSA-id root (actors who are professionals, CO-1).
const HSA_ROOT: &str = "1.2.752.29.6.2.1";
/// Values the cases send that must never come back in a Fault.
const PROBE_NAME: &str = "Konformansson";
const PROBE_EMAIL: &str = "konformans.prov@example.se";
const PROBE_PHONE: &str = "+46701239876";

type Check = Result<String, String>;

/// One case: a name (`group/what`), whether it writes, whether it needs the Unrestricted
/// consumer, and the check itself.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) writes: bool,
    pub(crate) unrestricted: bool,
    check: Box<dyn Fn(&Ctx<'_>) -> Check>,
}

fn read(name: &str, check: impl Fn(&Ctx<'_>) -> Check + 'static) -> Case {
    Case {
        name: name.to_owned(),
        writes: false,
        unrestricted: false,
        check: Box::new(check),
    }
}

fn write(name: &str, check: impl Fn(&Ctx<'_>) -> Check + 'static) -> Case {
    Case {
        writes: true,
        ..read(name, check)
    }
}

fn unrestricted(mut case: Case) -> Case {
    case.unrestricted = true;
    case
}

/// Which client certificate a request presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Consumer,
    Unrestricted,
}

/// The LogicalAddress header of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Header<'a> {
    Address(&'a str),
    Missing,
    Empty,
}

/// What came back for one request.
enum Answer {
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

/// The run's state: the client, the options, and every answer collected for the schema cases.
pub(crate) struct Ctx<'a> {
    client: &'a Client,
    tls: &'a Tls,
    unrestricted: Option<&'a Tls>,
    o: &'a Options,
    current: RefCell<String>,
    answers: RefCell<Vec<(Contract, String, String)>>,
    /// Every Fault received (case, whole envelope), for the envelope schema.
    faults: RefCell<Vec<(String, String)>>,
    names: RefCell<Option<Vec<String>>>,
    /// Endpoint paths that timed out once: later requests there fail at once instead of
    /// waiting again (a producer that serves only some contracts may never answer the rest).
    silent: RefCell<std::collections::BTreeSet<String>>,
}

/// Answers may be larger than requests (WSDL documentation, 500 records).
fn limits() -> Limits {
    Limits {
        max_depth: 64,
        max_elements: 1_000_000,
        max_attributes: 64,
        max_text_bytes: 1 << 20,
    }
}

fn kid<'e>(e: &'e Element, ns: &str, name: &str) -> Option<&'e Element> {
    e.children.iter().find(|c| c.is(ns, name))
}

fn kids<'e>(e: &'e Element, ns: &str, name: &str) -> Vec<&'e Element> {
    e.children.iter().filter(|c| c.is(ns, name)).collect()
}

fn core_text<'e>(e: &'e Element, name: &str) -> Option<&'e str> {
    kid(e, CORE_NS, name).map(|c| c.text.trim())
}

/// The first element with this name anywhere below `e` (an `xs:any` slot may sit deep).
fn descendant<'e>(e: &'e Element, ns: &str, name: &str) -> Option<&'e Element> {
    e.children.iter().find_map(|c| {
        if c.is(ns, name) {
            Some(c)
        } else {
            descendant(c, ns, name)
        }
    })
}

fn has(e: &Element, name: &str) -> bool {
    kid(e, CORE_NS, name).is_some()
}

/// `(contactType, value, digitalNotification)` of a record, sorted (order is not a rule).
fn entries(record: &Element) -> Vec<(String, String, String)> {
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

fn version_of(record: Option<&Element>) -> Option<String> {
    record
        .and_then(|r| core_text(r, "version"))
        .map(str::to_owned)
}

/// A well-formed identifier with a wrong check digit.
fn bad_check_digit(p: &PersonId) -> PersonId {
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

fn id_xml(tag: &str, p: &PersonId) -> String {
    format!(
        "<{tag}><c:root>{}</c:root><c:extension>{}</c:extension></{tag}>",
        escape(&p.root),
        escape(&p.extension)
    )
}

fn envelope(header: Header<'_>, payload: &str) -> String {
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

fn wrapper(c: Contract, inner: &str) -> String {
    format!(
        "<{n} xmlns=\"{ns}\" xmlns:c=\"{CORE_NS}\">{inner}</{n}>",
        n = c.name(),
        ns = c.responder_ns()
    )
}

fn gpfp_xml(c: Contract, ids: &[&PersonId], profile: &str, ignore: bool) -> String {
    let ids: String = ids.iter().map(|p| id_xml("personId", p)).collect();
    wrapper(
        c,
        &format!("{ids}<profile>{profile}</profile><ignoreReferredIdentity>{ignore}</ignoreReferredIdentity>"),
    )
}

fn gpci_xml(c: Contract, p: &PersonId) -> String {
    wrapper(c, &id_xml("personId", p))
}

/// Who the update names as its actor (CO-1).
#[derive(Debug, Clone)]
enum Actor {
    Person(PersonId),
    Professional {
        hsa_id: String,
        organization: String,
    },
}

/// One contact entry of an update; `qualifier` is a CT-2 qualifier (`use`) to send.
#[derive(Debug, Clone)]
struct Entry {
    kind: &'static str,
    value: String,
    dn: Option<bool>,
    qualifier: Option<&'static str>,
}

fn entry(kind: &'static str, value: &str, dn: bool) -> Entry {
    Entry {
        kind,
        value: value.to_owned(),
        dn: Some(dn),
        qualifier: None,
    }
}

#[derive(Debug, Clone)]
struct Update {
    actor: Actor,
    person: PersonId,
    version: Option<String>,
    entries: Vec<Entry>,
    contact_person: bool,
    optout: Option<bool>,
    /// Whose stored state a refusal compares, when not `person`: a malformed identifier
    /// cannot be read back, so the person it nearly names is compared instead.
    compared: Option<PersonId>,
}

impl Update {
    /// The person updating their own contact information.
    fn own(person: &PersonId, version: Option<String>, entries: Vec<Entry>) -> Update {
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

    fn xml(&self, c: Contract) -> String {
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
struct UpdateAnswer {
    code: String,
    error: Option<String>,
    /// `ruleId` (our addition) and `resultText`: one of them must name the rule.
    rule: Option<String>,
    text: String,
    /// `logId` (our addition): the refusal can be found in the producer's log.
    log_id: Option<String>,
    record: Option<Element>,
}

/// One requestedPersonRecord of GetPersonsForProfile.
struct Requested {
    requested: Option<(String, String)>,
    person: Option<Element>,
    error: Option<String>,
}

/// Looks like a UUID (8-4-4-4-12 hex digits) somewhere in `s`: the Fault's log id.
fn has_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(36).any(|w| {
        w.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
    })
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        client: &'a Client,
        tls: &'a Tls,
        unrestricted: Option<&'a Tls>,
        o: &'a Options,
    ) -> Ctx<'a> {
        Ctx {
            client,
            tls,
            unrestricted,
            o,
            current: RefCell::new(String::new()),
            answers: RefCell::new(Vec::new()),
            faults: RefCell::new(Vec::new()),
            names: RefCell::new(None),
            silent: RefCell::new(std::collections::BTreeSet::new()),
        }
    }

    /// Reads the test person's name before the cases, so that every report text can mask it.
    pub(crate) fn learn_names(&self) {
        self.current
            .replace("(setup: the test person's name)".into());
        let _ = self.names();
    }

    /// Sends through the client unless the endpoint has already timed out.
    fn guarded<T>(
        &self,
        endpoint: &str,
        send: impl FnOnce() -> Result<T, super::ClientError>,
    ) -> Result<T, String> {
        if self.silent.borrow().contains(endpoint) {
            return Err(format!(
                "no answer: an earlier request to {endpoint} got none within the timeout"
            ));
        }
        send().map_err(|e| {
            if e.is_timeout() {
                self.silent.borrow_mut().insert(endpoint.to_owned());
            }
            format!("no answer: {e}")
        })
    }

    pub(crate) fn run(&self, case: &Case) -> Outcome {
        self.current.replace(case.name.clone());
        match (case.check)(self) {
            Ok(note) => Outcome::Pass(note),
            Err(reason) => Outcome::Fail(reason),
        }
    }

    fn la(&self) -> Header<'_> {
        Header::Address(&self.o.logical_address)
    }

    fn tls(&self, who: Who) -> Result<&Tls, String> {
        match who {
            Who::Consumer => Ok(self.tls),
            Who::Unrestricted => self
                .unrestricted
                .ok_or_else(|| "no Unrestricted consumer certificate".to_owned()),
        }
    }

    /// Masks what looks like personal data in a producer's text before it goes in a report:
    /// digit runs of six or more, e-mail addresses, and the names of the test persons.
    fn redact(&self, text: &str) -> String {
        let mut out = String::new();
        let mut digits = String::new();
        let flush = |digits: &mut String, out: &mut String| {
            if digits.len() >= 6 {
                out.push('#');
            } else {
                out.push_str(digits);
            }
            digits.clear();
        };
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else {
                flush(&mut digits, &mut out);
                out.push(c);
            }
        }
        flush(&mut digits, &mut out);
        let mut out = out
            .split(' ')
            .map(|w| if w.contains('@') { "…@…" } else { w })
            .collect::<Vec<_>>()
            .join(" ");
        for name in self.names.borrow().iter().flatten() {
            out = out.replace(name.as_str(), "…");
        }
        out.chars().take(300).collect()
    }

    /// Posts raw bytes to a contract's endpoint and reads the answer.
    fn post(&self, path: &str, c: Contract, who: Who, body: &[u8]) -> Result<Answer, String> {
        let tls = self.tls(who)?;
        let response = self.guarded(path, || {
            self.client.post_soap(tls, path, &c.soap_action(), body)
        })?;
        let status = response.status;
        let text = String::from_utf8(response.body)
            .map_err(|_| format!("HTTP {status}: the answer is not UTF-8"))?;
        let doc = xml::parse(text.as_bytes(), limits()).map_err(|e| {
            format!(
                "HTTP {status} ({}): the answer is not XML: {e}",
                response
                    .content_type
                    .as_deref()
                    .unwrap_or("no content type")
            )
        })?;
        if !doc.is(SOAP_NS, "Envelope") {
            return Err(format!(
                "HTTP {status}: expected a SOAP 1.1 Envelope, found {}",
                doc.qualified_name()
            ));
        }
        let body = kid(&doc, SOAP_NS, "Body")
            .ok_or_else(|| format!("HTTP {status}: the Envelope has no soap:Body"))?;
        let first = body
            .children
            .first()
            .ok_or_else(|| format!("HTTP {status}: the soap:Body is empty"))?;
        if first.is(SOAP_NS, "Fault") {
            let unqualified = |name: &str| {
                first
                    .children
                    .iter()
                    .find(|c| c.name == name && c.ns.is_none())
                    .map(|c| c.text.trim().to_owned())
                    .unwrap_or_default()
            };
            self.faults
                .borrow_mut()
                .push((self.current.borrow().clone(), text.clone()));
            return Ok(Answer::Fault {
                status,
                code: unqualified("faultcode"),
                text: unqualified("faultstring"),
                raw: text,
            });
        }
        if let Some(payload) = schema::body_payload(&text) {
            self.answers
                .borrow_mut()
                .push((c, self.current.borrow().clone(), payload));
        }
        Ok(Answer::Response {
            status,
            element: first.clone(),
        })
    }

    fn call(
        &self,
        c: Contract,
        who: Who,
        header: Header<'_>,
        payload: &str,
    ) -> Result<Answer, String> {
        self.post(c.path(), c, who, envelope(header, payload).as_bytes())
    }

    /// The response element, or why the answer is not one.
    fn expect_response<'x>(&self, answer: &'x Answer, c: Contract) -> Result<&'x Element, String> {
        match answer {
            Answer::Fault {
                status, code, text, ..
            } => Err(format!(
                "expected a {} (HTTP 200), found a SOAP Fault {code} (HTTP {status}): {}",
                c.response_element(),
                self.redact(text)
            )),
            Answer::Response { status, element } => {
                if !element.is(c.responder_ns(), &c.response_element()) {
                    return Err(format!(
                        "expected {{{}}}{}, found {}",
                        c.responder_ns(),
                        c.response_element(),
                        element.qualified_name()
                    ));
                }
                if *status != 200 {
                    return Err(format!(
                        "expected HTTP 200 with the {}, found HTTP {status}",
                        c.response_element()
                    ));
                }
                Ok(element)
            }
        }
    }

    /// The test person's name parts (read once with P1), checked absent from Faults.
    fn names(&self) -> Vec<String> {
        if self.names.borrow().is_none() {
            let c = Contract::GetPersonsForProfile;
            let found = self
                .records(c, Who::Consumer, &[&self.o.person], "P1", false)
                .ok()
                .and_then(|r| r.into_iter().next())
                .and_then(|r| r.person)
                .and_then(|p| kid(&p, CORE_NS, "name").cloned())
                .map(|n| {
                    n.children
                        .iter()
                        .map(|c| c.text.trim().to_owned())
                        .filter(|t| t.len() >= 3)
                        .collect()
                })
                .unwrap_or_default();
            self.names.replace(Some(found));
        }
        self.names.borrow().clone().unwrap_or_default()
    }

    /// Personal data a Fault must not carry: the request's identifiers (12 and 10 digits),
    /// the test person's name, and the probe values the cases send.
    fn sensitive(&self, ids: &[&PersonId]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for p in ids {
            out.push(("personal identifier", p.extension.clone()));
            if p.extension.len() == 12 && p.extension.bytes().all(|b| b.is_ascii_digit()) {
                out.push(("personal identifier", p.extension[2..].to_owned()));
            }
        }
        for n in self.names() {
            out.push(("name", n));
        }
        out.push(("name", PROBE_NAME.to_owned()));
        out.push(("e-mail address", PROBE_EMAIL.to_owned()));
        out.push((
            "telephone number",
            PROBE_PHONE.trim_start_matches('+').to_owned(),
        ));
        out
    }

    fn records(
        &self,
        c: Contract,
        who: Who,
        ids: &[&PersonId],
        profile: &str,
        ignore: bool,
    ) -> Result<Vec<Requested>, String> {
        let answer = self.call(c, who, self.la(), &gpfp_xml(c, ids, profile, ignore))?;
        let response = self.expect_response(&answer, c)?;
        Ok(kids(response, c.responder_ns(), "requestedPersonRecord")
            .into_iter()
            .map(|r| Requested {
                requested: kid(r, CORE_NS, "requestedPersonalIdentity").map(|i| {
                    (
                        core_text(i, "root").unwrap_or_default().to_owned(),
                        core_text(i, "extension").unwrap_or_default().to_owned(),
                    )
                }),
                person: kid(r, CORE_NS, "personRecord").cloned(),
                error: kid(r, RESULT_NS, "errorCode").map(|e| e.text.trim().to_owned()),
            })
            .collect())
    }

    /// The personRecord for one asked id and profile.
    fn person_record(
        &self,
        c: Contract,
        who: Who,
        id: &PersonId,
        profile: &str,
    ) -> Result<Element, String> {
        let records = self.records(c, who, &[id], profile, false)?;
        if records.len() != 1 {
            return Err(format!(
                "expected 1 requestedPersonRecord for 1 id, found {}",
                records.len()
            ));
        }
        let r = records.into_iter().next().ok_or("no record")?;
        r.person.ok_or_else(|| {
            format!(
                "expected a personRecord, found none (errorCode {})",
                r.error.as_deref().unwrap_or("none")
            )
        })
    }

    /// What is stored for `p`, read with GetPersonContactInformation (the Unrestricted
    /// contract when available, so protected persons' records are compared whole).
    fn stored(&self, p: &PersonId) -> Result<Option<Element>, String> {
        let (c, who) = if self.unrestricted.is_some() {
            (
                Contract::GetPersonContactInformationUnrestricted,
                Who::Unrestricted,
            )
        } else {
            (Contract::GetPersonContactInformation, Who::Consumer)
        };
        let answer = self.call(c, who, self.la(), &gpci_xml(c, p))?;
        let response = self
            .expect_response(&answer, c)
            .map_err(|e| format!("reading the stored state: {e}"))?;
        Ok(kid(response, c.responder_ns(), "contactInformationRecord").cloned())
    }

    fn update(&self, c: Contract, who: Who, u: &Update) -> Result<UpdateAnswer, String> {
        let answer = self.call(c, who, self.la(), &u.xml(c))?;
        let response = self.expect_response(&answer, c)?;
        let name = if c == Contract::UpdatePersonContactInformationUnrestricted {
            "UpdatePersonContactInformationUnrestrictedResult"
        } else {
            "updatePersonContactInformationResult"
        };
        let wrapper = kid(response, c.responder_ns(), name)
            .ok_or_else(|| format!("no {name} in the {}", c.response_element()))?;
        let result =
            kid(wrapper, CORE_NS, "result").ok_or_else(|| format!("no result in {name}"))?;
        Ok(UpdateAnswer {
            code: core_text(result, "resultCode")
                .unwrap_or_default()
                .to_owned(),
            error: kid(result, RESULT_NS, "errorCode").map(|e| e.text.trim().to_owned()),
            rule: kid(result, RESULT_NS, "ruleId").map(|e| e.text.trim().to_owned()),
            text: core_text(result, "resultText")
                .unwrap_or_default()
                .to_owned(),
            log_id: kid(result, RESULT_NS, "logId").map(|e| e.text.trim().to_owned()),
            record: kid(wrapper, CORE_NS, "contactInformationRecord").cloned(),
        })
    }

    /// An update that breaks one rule, sent at the person's current version so that a
    /// producer ignoring the rule would store it: ERROR with `code`, nothing stored.
    /// (RULES.md: an update that breaks a rule is rejected whole, and the answer says which
    /// rule, with a stable errorCode and a logId.)
    fn refused(
        &self,
        c: Contract,
        who: Who,
        person: &PersonId,
        (code, rule): (&str, &str),
        build: &dyn Fn(Option<String>) -> Update,
    ) -> Check {
        let before = self.stored(person)?;
        let u = build(version_of(before.as_ref()));
        let a = self.update(c, who, &u)?;
        let mut problems = Vec::new();
        if a.code != "ERROR" {
            problems.push(format!("expected resultCode ERROR, found {:?}", a.code));
        }
        if a.error.as_deref() != Some(code) {
            problems.push(format!(
                "expected errorCode {code}, found {}",
                a.error.as_deref().unwrap_or("none")
            ));
        }
        if a.code == "ERROR" {
            if a.record.is_some() {
                problems.push("a contactInformationRecord came with ERROR".into());
            }
            if a.rule.as_deref() != Some(rule) && !a.text.contains(rule) {
                problems.push(format!(
                    "expected the rule {rule} named (ruleId or resultText), found ruleId {}",
                    a.rule.as_deref().unwrap_or("none")
                ));
            }
            if !a.log_id.as_deref().is_some_and(has_uuid) {
                problems.push("expected a logId (UUID) in the result, found none".into());
            }
        }
        let after = self.stored(person)?;
        if before != after {
            problems.push("the stored state changed (the refused update was stored)".into());
        }
        if problems.is_empty() {
            Ok(format!("ERROR {code} ({rule}), stored state unchanged"))
        } else {
            Err(problems.join("; "))
        }
    }

    /// A valid update: OK, the new record with a greater version and exactly the entries
    /// sent, `verify` on it, and a read that shows the same.
    fn accepted(
        &self,
        c: Contract,
        who: Who,
        person: &PersonId,
        build: &dyn Fn(Option<String>) -> Update,
        verify: &dyn Fn(&Element) -> Result<(), String>,
    ) -> Check {
        let before = self.stored(person)?;
        let old = version_of(before.as_ref());
        let u = build(old.clone());
        let a = self.update(c, who, &u)?;
        if a.code != "OK" {
            return Err(format!(
                "expected resultCode OK, found {:?} (errorCode {})",
                a.code,
                a.error.as_deref().unwrap_or("none")
            ));
        }
        let record = a
            .record
            .ok_or("resultCode OK without the new contactInformationRecord")?;
        let version = version_of(Some(&record)).ok_or("the new record has no version")?;
        if let Some(old) = &old {
            if version <= *old {
                return Err(format!(
                    "the new version {version} is not greater than the stored {old} (CO-3)"
                ));
            }
        }
        let mut sent: Vec<_> = u
            .entries
            .iter()
            .map(|e| {
                (
                    e.kind.to_owned(),
                    e.value.clone(),
                    e.dn.unwrap_or(false).to_string(),
                )
            })
            .collect();
        sent.sort();
        if entries(&record) != sent {
            return Err(format!(
                "the new record holds {} entries other than the {} sent (values not shown)",
                entries(&record).len(),
                sent.len()
            ));
        }
        verify(&record)?;
        let after = self
            .stored(person)?
            .ok_or("a read after the accepted update finds no record")?;
        if entries(&after) != entries(&record) || version_of(Some(&after)) != Some(version) {
            return Err(
                "a read after the update shows another record than the update answered".into(),
            );
        }
        Ok("OK, stored and read back".into())
    }

    fn wsdl(&self, c: Contract) -> Check {
        let r = self.guarded(c.path(), || {
            self.client.get(self.tls, &format!("{}?wsdl", c.path()))
        })?;
        if r.status != 200 {
            return Err(format!(
                "expected HTTP 200 with the WSDL, found {}",
                r.status
            ));
        }
        let doc = xml::parse(&r.body, limits())
            .map_err(|e| format!("the ?wsdl answer is not XML: {e}"))?;
        if !doc.is(WSDL_NS, "definitions") {
            return Err(format!(
                "expected wsdl:definitions, found {}",
                doc.qualified_name()
            ));
        }
        let port_type = format!("{}ResponderInterface", c.name());
        if !kids(&doc, WSDL_NS, "portType")
            .iter()
            .any(|p| p.attr(None, "name") == Some(port_type.as_str()))
        {
            return Err(format!("no wsdl:portType named {port_type}"));
        }
        let text = String::from_utf8_lossy(&r.body);
        if !text.contains(c.responder_ns()) {
            return Err(format!(
                "the WSDL does not name the responder namespace {}",
                c.responder_ns()
            ));
        }
        let addresses: Vec<String> = kids(&doc, WSDL_NS, "service")
            .into_iter()
            .flat_map(|s| kids(s, WSDL_NS, "port"))
            .filter_map(|p| kid(p, WSDL_SOAP_NS, "address"))
            .filter_map(|a| a.attr(None, "location").map(str::to_owned))
            .collect();
        if !addresses.iter().any(|a| a.ends_with(c.path())) {
            return Err(format!("no soap:address ending in {}", c.path()));
        }
        Ok(format!("names {port_type}"))
    }

    /// One case per contract: every answer collected for it validated with xmllint.
    pub(crate) fn schema_cases(&self, schemas: &schema::Schemas, skip: bool) -> Vec<CaseReport> {
        let answers = self.answers.borrow();
        let mut out: Vec<CaseReport> = Contract::ALL
            .into_iter()
            .map(|c| {
                let mine: Vec<(String, String)> = answers
                    .iter()
                    .filter(|(k, _, _)| *k == c)
                    .map(|(_, case, payload)| (case.clone(), payload.clone()))
                    .collect();
                let (file, source) = schemas.for_contract(c);
                schema_case(&format!("schema/{}", c.name()), &file, &source, &mine, skip)
            })
            .collect();
        // Faults are answers too: each a SOAP 1.1 envelope with faultcode and faultstring.
        let faults = self.faults.borrow();
        out.push(schema_case(
            "schema/SOAP-1.1-Fault",
            &schemas.envelope(),
            "the SOAP 1.1 envelope schema",
            &faults,
            skip,
        ));
        out
    }
}

/// One schema case: every collected answer validated against `file`.
fn schema_case(
    name: &str,
    file: &std::path::Path,
    source: &str,
    answers: &[(String, String)],
    skip: bool,
) -> CaseReport {
    let started = Instant::now();
    let outcome = if skip {
        Outcome::Skip("--skip-schema".into())
    } else if answers.is_empty() {
        Outcome::Skip("no answer of this kind was collected".into())
    } else {
        match schema::validate(file, answers) {
            Err(e) => Outcome::Fail(e.to_string()),
            Ok(failed) if failed.is_empty() => {
                Outcome::Pass(format!("{} answers valid against {source}", answers.len()))
            }
            Ok(failed) => Outcome::Fail(format!(
                "{} of {} answers invalid against {source}: {}",
                failed.len(),
                answers.len(),
                distinct_reasons(&failed)
            )),
        }
    };
    CaseReport {
        name: name.to_owned(),
        outcome,
        duration: started.elapsed(),
    }
}

/// A soap:Client Fault, HTTP 500, with a log id and none of `sensitive` in it.
fn expect_client_fault(answer: &Answer, sensitive: &[(&'static str, String)]) -> Check {
    match answer {
        Answer::Response { status, element } => Err(format!(
            "expected a soap:Client Fault (HTTP 500), found {} (HTTP {status})",
            element.qualified_name()
        )),
        Answer::Fault {
            status,
            code,
            text,
            raw,
        } => {
            let mut problems = Vec::new();
            if *status != 500 {
                problems.push(format!("expected HTTP 500, found {status}"));
            }
            let local = code.rsplit(':').next().unwrap_or(code);
            if local != "Client" && !local.starts_with("Client.") {
                problems.push(format!("expected faultcode soap:Client, found {code:?}"));
            }
            if text.is_empty() {
                problems.push("the faultstring is empty".into());
            } else if !has_uuid(text) {
                problems.push(
                    "the faultstring carries no log id (a UUID; CONTRACT.md: every Fault does)"
                        .into(),
                );
            }
            let mut leaked: Vec<&str> = sensitive
                .iter()
                .filter(|(_, v)| !v.is_empty() && raw.contains(v.as_str()))
                .map(|(what, _)| *what)
                .collect();
            leaked.dedup();
            if !leaked.is_empty() {
                problems.push(format!(
                    "the Fault carries personal data of the request: {} (values not shown)",
                    leaked.join(", ")
                ));
            }
            if problems.is_empty() {
                Ok(format!("{code}, no personal data"))
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

/// Why a requestedPersonRecord does not echo the asked id (rule #1).
fn echo_problem(rec: &Requested, which: &str) -> String {
    if rec.requested.is_some() {
        format!("{which}: requestedPersonalIdentity does not echo the asked id, in the asked order")
    } else {
        format!("{which}: no requestedPersonalIdentity in the core namespace {CORE_NS}")
    }
}

/// Each distinct xmllint reason once, with the first case whose answer had it; at most
/// three, so that one systematic mistake does not fill a CI log.
fn distinct_reasons(failed: &[(String, String)]) -> String {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (case, why) in failed {
        if !seen.iter().any(|(_, w)| *w == why.as_str()) {
            seen.push((case, why));
        }
    }
    let mut out: Vec<String> = seen
        .iter()
        .take(3)
        .map(|(case, why)| format!("[{case}] {why}"))
        .collect();
    if seen.len() > 3 {
        out.push(format!("and {} more distinct reasons", seen.len() - 3));
    }
    out.join(" | ")
}

fn require(ok: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(problem())
    }
}

const GPFP: Contract = Contract::GetPersonsForProfile;
const GPFPU: Contract = Contract::GetPersonsForProfileUnrestricted;
const GPCI: Contract = Contract::GetPersonContactInformation;
const GPCIU: Contract = Contract::GetPersonContactInformationUnrestricted;
const UPD: Contract = Contract::UpdatePersonContactInformation;
const UPDU: Contract = Contract::UpdatePersonContactInformationUnrestricted;
const PING: Contract = Contract::PingForConfiguration;

/// P1 only: what rule #3 / PR-3 leaves of a protected person on the restricted contract.
fn only_p1(p: &Element) -> Result<(), String> {
    for name in [
        "addressInformation",
        "contactInformation",
        "relationship",
        "populationRegistrationRecord",
    ] {
        require(!has(p, name), || {
            format!("expected at most profile P1, found {name}")
        })?;
    }
    Ok(())
}

fn profile_case(profile: &'static str) -> Case {
    read(
        &format!("GetPersonsForProfile/profile-{profile}"),
        move |x| {
            let o = x.o;
            if profile == "P4" {
                // A child with guardians: P4 adds the relationships and must not be a Fault.
                let p = x.person_record(GPFP, Who::Consumer, &o.child, profile)?;
                let rel = kids(&p, CORE_NS, "relationship");
                require(!rel.is_empty(), || {
                    "expected relationship (the child's legal guardians), found none".into()
                })?;
                require(
                    rel.iter()
                        .all(|r| core_text(r, "relationshipType") == Some("V")),
                    || "expected relationshipType V on every guardian relationship".into(),
                )?;
                require(has(&p, "addressInformation"), || {
                    "P4 must contain P2: no addressInformation".into()
                })?;
                return Ok(format!("{} guardian relationships", rel.len()));
            }
            let p = x.person_record(GPFP, Who::Consumer, &o.person, profile)?;
            let id = kid(&p, CORE_NS, "personalIdentity").and_then(|i| core_text(i, "extension"));
            require(id == Some(o.person.extension.as_str()), || {
                "personalIdentity is not the asked identity".into()
            })?;
            require(has(&p, "name"), || "expected name (P1), found none".into())?;
            let address = has(&p, "addressInformation");
            let contacts = has(&p, "contactInformation");
            match profile {
                "P1" => {
                    require(!address, || {
                        "P1 must not contain addressInformation (P2)".into()
                    })?;
                    require(!contacts, || {
                        "P1 must not contain contactInformation (P3)".into()
                    })?;
                }
                "P2" => {
                    require(address, || {
                        "expected addressInformation (P2), found none".into()
                    })?;
                    require(!contacts, || {
                        "P2 must not contain contactInformation (P3)".into()
                    })?;
                }
                _ => {
                    require(address, || {
                        format!("{profile} must contain P2: no addressInformation")
                    })?;
                    require(contacts, || {
                        format!("expected contactInformation ({profile} contains P3) for a person with stored contact information, found none")
                    })?;
                }
            }
            Ok(String::new())
        },
    )
}

fn fault_case(
    name: &str,
    check: impl Fn(&Ctx<'_>) -> Result<Answer, String> + 'static,
    also: Option<&'static [&'static str]>,
) -> Case {
    read(&format!("fault/{name}"), move |x| {
        let answer = check(x)?;
        let bad = bad_check_digit(&x.o.person);
        let note = expect_client_fault(&answer, &x.sensitive(&[&x.o.person, &bad]))?;
        if let (Some(words), Answer::Fault { text, .. }) = (also, &answer) {
            for w in words {
                require(text.contains(w), || {
                    format!("the faultstring does not name {w}")
                })?;
            }
        }
        Ok(note)
    })
}

/// A refusal case: `update/<rule>/invalid…`; the stored state compared is the named
/// person's, or `Update::compared`'s.
fn refusal(
    name: &str,
    code: &'static str,
    build: impl Fn(&Options, Option<String>) -> Update + 'static,
) -> Case {
    // The rule is the case's middle name: update/<rule>/invalid-….
    let rule = name.split('/').nth(1).unwrap_or_default().to_owned();
    write(name, move |x| {
        let u = build(x.o, None);
        let person = u.compared.unwrap_or(u.person);
        x.refused(UPD, Who::Consumer, &person, (code, &rule), &|v| {
            build(x.o, v)
        })
    })
}

fn acceptance(
    name: &str,
    build: impl Fn(&Options, Option<String>) -> Update + 'static,
    verify: impl Fn(&Element) -> Result<(), String> + 'static,
) -> Case {
    write(name, move |x| {
        let person = build(x.o, None).person;
        x.accepted(UPD, Who::Consumer, &person, &|v| build(x.o, v), &verify)
    })
}

fn nothing(_: &Element) -> Result<(), String> {
    Ok(())
}

fn hanna(o: &Options, v: Option<String>, entries: Vec<Entry>) -> Update {
    Update::own(&o.update_person, v, entries)
}

/// Every case, in run order.
pub(crate) fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    for c in Contract::ALL {
        cases.push(read(&format!("wsdl/{}", c.name()), move |x| x.wsdl(c)));
    }
    cases.push(read("PingForConfiguration/answers", |x| {
        let payload = format!(
            "<PingForConfiguration xmlns=\"{}\"><serviceContractNamespace>{}</serviceContractNamespace><logicalAddress>{}</logicalAddress></PingForConfiguration>",
            PING.responder_ns(),
            GPFP.responder_ns(),
            escape(&x.o.logical_address)
        );
        let a = x.call(PING, Who::Consumer, x.la(), &payload)?;
        let r = x.expect_response(&a, PING)?;
        let text = |n: &str| kid(r, PING.responder_ns(), n).map(|e| e.text.trim().to_owned());
        require(text("version").is_some_and(|v| !v.is_empty()), || "expected a version, found none".into())?;
        let t = text("pingDateTime").unwrap_or_default();
        require(t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()), || format!("expected pingDateTime YYYYMMDDhhmmss, found {t:?}"))?;
        Ok(format!("{} configuration entries", kids(r, PING.responder_ns(), "configuration").len()))
    }));

    // GetPersonsForProfile: the profiles and the TKB rules #1–#3.
    for p in ["P1", "P2", "P3", "P4", "P5"] {
        cases.push(profile_case(p));
    }
    cases.push(read("GetPersonsForProfile/rule-1-one-answer-per-id", |x| {
        let o = x.o;
        let bad = bad_check_digit(&o.person);
        let asked = [&o.person, &bad, &o.unknown];
        let r = x.records(GPFP, Who::Consumer, &asked, "P1", false)?;
        require(r.len() == 3, || format!("expected 3 requestedPersonRecord for 3 ids (one known, one with a wrong check digit, one unknown), found {}", r.len()))?;
        for (i, (rec, id)) in r.iter().zip(asked).enumerate() {
            require(rec.requested.as_ref().map(|(_, e)| e.as_str()) == Some(id.extension.as_str()), || echo_problem(rec, &format!("record {}", i + 1)))?;
        }
        require(r[0].person.is_some(), || "record 1 (known person): expected a personRecord, found none".into())?;
        require(r[1].person.is_none() && r[1].error.as_deref() == Some("INVALID_PERSON_ID"), || format!("record 2 (wrong check digit): expected no personRecord and errorCode INVALID_PERSON_ID, found {} and {}", if r[1].person.is_some() { "a personRecord" } else { "no personRecord" }, r[1].error.as_deref().unwrap_or("no errorCode")))?;
        require(r[2].person.is_none() && r[2].error.as_deref() == Some("PERSON_NOT_FOUND"), || format!("record 3 (unknown): expected no personRecord and errorCode PERSON_NOT_FOUND, found {} and {}", if r[2].person.is_some() { "a personRecord" } else { "no personRecord" }, r[2].error.as_deref().unwrap_or("no errorCode")))?;
        Ok("3 ids, 3 answers, no Fault".into())
    }));
    for (name, linked) in [
        ("rule-2-referred-id", false),
        ("rule-2-linked-reserve-id", true),
    ] {
        cases.push(read(&format!("GetPersonsForProfile/{name}"), move |x| {
            let (asked, current) = if linked {
                (&x.o.linked, &x.o.linked_current)
            } else {
                (&x.o.referred, &x.o.referred_current)
            };
            let r = x.records(GPFP, Who::Consumer, &[asked], "P1", false)?;
            let rec = r
                .first()
                .ok_or("expected 1 requestedPersonRecord, found none")?;
            require(
                rec.requested.as_ref().map(|(_, e)| e.as_str()) == Some(asked.extension.as_str()),
                || echo_problem(rec, "the record"),
            )?;
            let p = rec.person.as_ref().ok_or_else(|| {
                format!(
                    "expected the current identity's personRecord, found none (errorCode {})",
                    rec.error.as_deref().unwrap_or("none")
                )
            })?;
            let id = kid(p, CORE_NS, "personalIdentity").and_then(|i| core_text(i, "extension"));
            require(id == Some(current.extension.as_str()), || {
                "expected the current identity's record, found another personalIdentity".into()
            })?;
            Ok("answered with the current identity".into())
        }));
    }
    cases.push(read("GetPersonsForProfile/rule-2-ignore-referred-identity", |x| {
        let r = x.records(GPFP, Who::Consumer, &[&x.o.referred], "P1", true)?;
        let rec = r.first().ok_or("expected 1 requestedPersonRecord, found none")?;
        require(rec.person.is_none(), || "ignoreReferredIdentity=true: expected no personRecord for an earlier identity, found one".into())?;
        Ok(format!("no record ({})", rec.error.as_deref().unwrap_or("no errorCode")))
    }));
    for profile in ["P3", "P4"] {
        cases.push(read(&format!("GetPersonsForProfile/rule-3-protected-{profile}"), move |x| {
            let p = x.person_record(GPFP, Who::Consumer, &x.o.protected, profile)?;
            require(core_text(&p, "protectedPersonIndicator") == Some("true") || core_text(&p, "protectedPopulationRecord") == Some("true"), || "expected protectedPersonIndicator or protectedPopulationRecord true for the protected person".into())?;
            only_p1(&p)?;
            Ok("P1 only".into())
        }));
    }
    cases.push(unrestricted(read("GetPersonsForProfileUnrestricted/protected-gets-asked-profile", |x| {
        let p = x.person_record(GPFPU, Who::Unrestricted, &x.o.protected, "P2")?;
        require(has(&p, "addressInformation"), || "expected addressInformation (P2) for the protected person on the Unrestricted contract, found none".into())?;
        Ok(String::new())
    })));

    // GetPersonContactInformation.
    cases.push(read("GetPersonContactInformation/known-person", |x| {
        let a = x.call(GPCI, Who::Consumer, x.la(), &gpci_xml(GPCI, &x.o.person))?;
        let r = x.expect_response(&a, GPCI)?;
        let rec = kid(r, GPCI.responder_ns(), "contactInformationRecord")
            .ok_or("expected a contactInformationRecord, found none")?;
        require(!entries(rec).is_empty(), || {
            "expected the person's contact information, found none".into()
        })?;
        require(
            rec.children.iter().all(|c| c.name != "contactPerson"),
            || "a contactPerson in a response (CT-6)".into(),
        )?;
        require(
            kids(rec, CORE_NS, "contactInformation")
                .iter()
                .all(|c| has(c, "digitalNotification")),
            || "an entry without digitalNotification (DN-1)".into(),
        )?;
        Ok(format!("{} entries", entries(rec).len()))
    }));
    cases.push(read("GetPersonContactInformation/unknown-person", |x| {
        let a = x.call(GPCI, Who::Consumer, x.la(), &gpci_xml(GPCI, &x.o.unknown))?;
        let r = x.expect_response(&a, GPCI)?;
        require(
            kid(r, GPCI.responder_ns(), "contactInformationRecord").is_none(),
            || "expected no record for an unknown person, found one".into(),
        )?;
        Ok("no record, no Fault".into())
    }));
    cases.push(read("GetPersonContactInformation/PR-3-protected", |x| {
        let a = x.call(GPCI, Who::Consumer, x.la(), &gpci_xml(GPCI, &x.o.protected))?;
        let r = x.expect_response(&a, GPCI)?;
        if let Some(rec) = kid(r, GPCI.responder_ns(), "contactInformationRecord") {
            require(!has(rec, "contactInformation"), || {
                "contact information of a protected person on the restricted contract (PR-3)".into()
            })?;
        }
        Ok("no contact information".into())
    }));
    cases.push(unrestricted(read(
        "GetPersonContactInformationUnrestricted/answers",
        |x| {
            let a = x.call(
                GPCIU,
                Who::Unrestricted,
                x.la(),
                &gpci_xml(GPCIU, &x.o.person),
            )?;
            let r = x.expect_response(&a, GPCIU)?;
            require(
                kid(r, GPCIU.responder_ns(), "contactInformationRecord").is_some(),
                || "expected a contactInformationRecord, found none".into(),
            )?;
            Ok(String::new())
        },
    )));

    cases.push(read("GetPersonContactInformation/GU-1-child-route", |x| {
        // CONTRACT.md's addition: a child's answer names the notification route (GU-1).
        let a = x.call(GPCI, Who::Consumer, x.la(), &gpci_xml(GPCI, &x.o.child))?;
        let r = x.expect_response(&a, GPCI)?;
        let route = descendant(r, RESULT_NS, "notificationRoute").ok_or_else(|| {
            format!("expected a {{{RESULT_NS}}}notificationRoute for a child, found none")
        })?;
        let text = |n: &str| kid(route, RESULT_NS, n).map(|e| e.text.trim().to_owned());
        let way = text("route").unwrap_or_default();
        require(
            ["guardians", "maturityAssessment", "self"].contains(&way.as_str()),
            || format!("expected route guardians, maturityAssessment or self, found {way:?}"),
        )?;
        require(text("ruleId").as_deref() == Some("GU-1"), || {
            "expected ruleId GU-1 in the route".into()
        })?;
        let age: Option<u32> = text("ageYears").and_then(|a| a.parse().ok());
        require(age.is_some_and(|a| a < 18), || {
            "expected ageYears under 18 in the route".into()
        })?;
        let guardians = kids(route, RESULT_NS, "guardian").len();
        require(way != "guardians" || guardians > 0, || {
            "route guardians without a guardian element".into()
        })?;
        Ok(format!("route {way}, {guardians} guardians"))
    }));
    cases.push(unrestricted(read(
        "fault/PR-5-Unrestricted-refused-for-plain-consumer",
        |x| {
            // The plain consumer asks the Unrestricted contract: refused (PR-5), as a Fault
            // that names the consumer and no person.
            let a = x.call(
                GPFPU,
                Who::Consumer,
                x.la(),
                &gpfp_xml(GPFPU, &[&x.o.protected], "P3", false),
            )?;
            expect_client_fault(&a, &x.sensitive(&[&x.o.protected]))
        },
    )));

    // Faults: soap:Client, HTTP 500, a log id, no personal data of the request.
    cases.push(fault_case(
        "missing-LogicalAddress",
        |x| {
            x.call(
                GPFP,
                Who::Consumer,
                Header::Missing,
                &gpfp_xml(GPFP, &[&x.o.person], "P1", false),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "empty-LogicalAddress",
        |x| {
            x.call(
                GPFP,
                Who::Consumer,
                Header::Empty,
                &gpfp_xml(GPFP, &[&x.o.person], "P1", false),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "malformed-envelope",
        |x| {
            let full = envelope(x.la(), &gpfp_xml(GPFP, &[&x.o.person], "P1", false));
            // Cut inside the body, after the identifier, with probe values in a broken element.
            let cut = full.find("<profile>").unwrap_or(full.len() / 2);
            let broken = format!(
                "{}<note>{PROBE_NAME} {PROBE_EMAIL} {PROBE_PHONE}</nope><profile",
                &full[..cut]
            );
            x.post(GPFP.path(), GPFP, Who::Consumer, broken.as_bytes())
        },
        None,
    ));
    cases.push(fault_case(
        "wrong-operation",
        |x| {
            // An update, with a contact person and probe values, sent to GetPersonsForProfile.
            let mut u = Update::own(
                &x.o.person,
                None,
                vec![
                    entry("sms", PROBE_PHONE, true),
                    entry("email", PROBE_EMAIL, true),
                ],
            );
            u.contact_person = true;
            x.call(GPFP, Who::Consumer, x.la(), &u.xml(UPD))
        },
        None,
    ));
    cases.push(fault_case(
        "undefined-profile-P6",
        |x| {
            x.call(
                GPFP,
                Who::Consumer,
                x.la(),
                &gpfp_xml(GPFP, &[&x.o.person], "P6", false),
            )
        },
        Some(&["P1", "P5"]),
    ));
    cases.push(fault_case(
        "too-many-ids-501",
        |x| {
            let ids = vec![&x.o.person; 501];
            x.call(
                GPFP,
                Who::Consumer,
                x.la(),
                &gpfp_xml(GPFP, &ids, "P1", false),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "GetPersonContactInformation-invalid-id",
        |x| {
            x.call(
                GPCI,
                Who::Consumer,
                x.la(),
                &gpci_xml(GPCI, &bad_check_digit(&x.o.person)),
            )
        },
        None,
    ));

    // UpdatePersonContactInformation: each rule with a valid and an invalid case.
    cases.push(write("update/ID-1/valid-samordningsnummer", |x| {
        // A person addressed by a samordningsnummer (its own root, ID-1) can be updated; the
        // entry is removed again afterwards so the person is left without contact information.
        let person = x.o.coordination_person.clone();
        let result = x.accepted(
            UPD,
            Who::Consumer,
            &person,
            &|v| Update::own(&person, v, vec![entry("sms", "+46701112255", true)]),
            &nothing,
        );
        let version = x.stored(&person).ok().flatten();
        let _ = x.update(
            UPD,
            Who::Consumer,
            &Update::own(&person, version_of(version.as_ref()), Vec::new()),
        );
        result
    }));
    cases.push(refusal(
        "update/ID-1/invalid-unknown-root",
        "INVALID_PERSON_ID",
        |o, v| {
            let mut u = hanna(o, v, vec![entry("sms", "+46701112256", true)]);
            // An HSA-id root is not a person-identifier root.
            u.compared = Some(o.update_person.clone());
            u.person = PersonId {
                root: "1.2.752.129.2.1.4.1".into(),
                extension: "SE2321000016-1234".into(),
            };
            u
        },
    ));
    cases.push(acceptance(
        "update/ID-2/valid-known-person",
        |o, v| hanna(o, v, vec![entry("sms", "+46701112233", true)]),
        nothing,
    ));
    cases.push(refusal(
        "update/ID-2/invalid-check-digit",
        "INVALID_PERSON_ID",
        |o, v| {
            let mut u = hanna(o, v, vec![entry("sms", "+46701112233", true)]);
            u.person = bad_check_digit(&o.update_person);
            u.compared = Some(o.update_person.clone());
            u.actor = Actor::Person(u.person.clone());
            u
        },
    ));
    cases.push(refusal(
        "update/ID-2/invalid-unknown-person",
        "PERSON_NOT_FOUND",
        |o, v| Update::own(&o.unknown, v, vec![entry("sms", "+46701112233", true)]),
    ));
    cases.push(acceptance(
        "update/CT-1/valid-sms-and-email",
        |o, v| {
            hanna(
                o,
                v,
                vec![
                    entry("sms", "+46701112234", true),
                    entry("email", "konformans@example.se", true),
                ],
            )
        },
        nothing,
    ));
    cases.push(refusal(
        "update/CT-1/invalid-phone-type",
        "CONTACT_TYPE_NOT_ALLOWED",
        |o, v| hanna(o, v, vec![entry("phone", "+46701112235", true)]),
    ));
    cases.push(acceptance(
        "update/CT-2/valid-no-qualifiers",
        |o, v| {
            hanna(
                o,
                v,
                vec![entry("email", "utan.kvalifikator@example.se", true)],
            )
        },
        |r| {
            for c in kids(r, CORE_NS, "contactInformation") {
                for q in ["use", "rank", "comment", "period"] {
                    require(!has(c, q), || {
                        format!("the stored entry carries {q} (CT-2)")
                    })?;
                }
            }
            Ok(())
        },
    ));
    cases.push(refusal(
        "update/CT-2/invalid-use-qualifier",
        "CONTACT_QUALIFIER_NOT_ALLOWED",
        |o, v| {
            let mut e = entry("sms", "+46701112236", true);
            e.qualifier = Some("home");
            hanna(o, v, vec![e])
        },
    ));
    cases.push(acceptance(
        "update/CT-3/valid-one-of-each",
        |o, v| {
            hanna(
                o,
                v,
                vec![
                    entry("sms", "+46701112237", true),
                    entry("email", "en.av.varje@example.se", false),
                ],
            )
        },
        nothing,
    ));
    cases.push(refusal(
        "update/CT-3/invalid-two-sms",
        "TOO_MANY_CONTACTS",
        |o, v| {
            hanna(
                o,
                v,
                vec![
                    entry("sms", "+46701112238", true),
                    entry("sms", "+46701112239", true),
                ],
            )
        },
    ));
    cases.push(acceptance(
        "update/CT-4/valid-e164",
        |o, v| hanna(o, v, vec![entry("sms", "+46701112240", true)]),
        nothing,
    ));
    cases.push(refusal(
        "update/CT-4/invalid-national-form",
        "INVALID_PHONE_NUMBER",
        |o, v| hanna(o, v, vec![entry("sms", "0701112241", true)]),
    ));
    cases.push(refusal(
        "update/CT-4/invalid-trunk-prefix-kept",
        "INVALID_PHONE_NUMBER",
        |o, v| hanna(o, v, vec![entry("sms", "+460701112242", true)]),
    ));
    cases.push(acceptance(
        "update/CT-5/valid-idn-address",
        |o, v| hanna(o, v, vec![entry("email", "hanna@domän.se", true)]),
        nothing,
    ));
    cases.push(refusal(
        "update/CT-5/invalid-display-name",
        "INVALID_EMAIL_ADDRESS",
        |o, v| hanna(o, v, vec![entry("email", "Hanna <hanna@example.se>", true)]),
    ));
    cases.push(acceptance(
        "update/CT-6/valid-without-contact-person",
        |o, v| hanna(o, v, vec![entry("sms", "+46701112243", true)]),
        |r| {
            require(!has(r, "contactPerson"), || {
                "the record carries a contactPerson (CT-6)".into()
            })
        },
    ));
    cases.push(refusal(
        "update/CT-6/invalid-contact-person",
        "CONTACT_PERSON_NOT_ALLOWED",
        |o, v| {
            let mut u = hanna(o, v, vec![entry("sms", "+46701112244", true)]);
            u.contact_person = true;
            u
        },
    ));
    cases.push(acceptance(
        "update/DN-1/valid-false-kept",
        |o, v| hanna(o, v, vec![entry("sms", "+46701112245", false)]),
        nothing,
    ));
    cases.push(refusal(
        "update/DN-1/invalid-missing-digitalNotification",
        "DIGITAL_NOTIFICATION_REQUIRED",
        |o, v| {
            let mut e = entry("sms", "+46701112246", true);
            e.dn = None;
            hanna(o, v, vec![e])
        },
    ));
    cases.push(acceptance(
        "update/DN-2/valid-optout-with-digital-entry",
        |o, v| {
            let mut u = hanna(o, v, vec![entry("sms", "+46701112247", true)]);
            u.optout = Some(true);
            u
        },
        |r| {
            require(
                core_text(r, "optoutPaperNotification") == Some("true"),
                || "expected optoutPaperNotification true in the record".into(),
            )
        },
    ));
    cases.push(refusal(
        "update/DN-2/invalid-optout-without-digital-entry",
        "DIGITAL_NOTIFICATION_REQUIRED",
        |o, v| {
            let mut u = hanna(o, v, vec![entry("sms", "+46701112248", false)]);
            u.optout = Some(true);
            u
        },
    ));
    cases.push(acceptance(
        "update/CO-1/valid-professional-actor",
        |o, v| {
            let mut u = hanna(
                o,
                v,
                vec![entry("email", "via.vardgivare@example.se", true)],
            );
            u.actor = Actor::Professional {
                hsa_id: "SE2321000016-ABC1".into(),
                organization: "SE2321000016-0001".into(),
            };
            u
        },
        |r| {
            let actor = kid(r, CORE_NS, "updatePersonContactInformationActor")
                .and_then(|a| kid(a, CORE_NS, "id"))
                .and_then(|i| core_text(i, "extension"));
            require(actor == Some("SE2321000016-ABC1"), || {
                "expected the professional's HSA-id as the record's actor (CO-1)".into()
            })
        },
    ));
    cases.push(refusal(
        "update/CO-1/invalid-other-private-person",
        "ACTOR_INVALID",
        |o, v| {
            let mut u = hanna(o, v, vec![entry("sms", "+46701112249", true)]);
            u.actor = Actor::Person(o.person.clone());
            u
        },
    ));
    cases.push(refusal(
        "update/CO-3/invalid-stale-version",
        "VERSION_CONFLICT",
        |o, v| {
            // A version that cannot be the stored one (or is sent when none is stored).
            let _ = v;
            hanna(
                o,
                Some("20000101000000".into()),
                vec![entry("sms", "+46701112250", true)],
            )
        },
    ));
    cases.push(acceptance(
        "update/CO-3/valid-current-version",
        |o, v| hanna(o, v, vec![entry("sms", "+46701112251", true)]),
        nothing,
    ));
    cases.push(refusal(
        "update/PR-2/invalid-protected-person",
        "PROTECTED_PERSON",
        |o, v| Update::own(&o.protected, v, vec![entry("sms", "+46701112252", true)]),
    ));
    cases.push(acceptance(
        "update/PR-2/valid-protected-withdraws-all",
        |o, v| Update::own(&o.protected, v, Vec::new()),
        |r| {
            require(!has(r, "contactInformation"), || {
                "the withdrawal's record still holds contact information".into()
            })
        },
    ));
    cases.push(refusal(
        "update/PR-6/invalid-deceased",
        "PERSON_DEREGISTERED",
        |o, v| Update::own(&o.deceased, v, vec![entry("sms", "+46701112253", true)]),
    ));
    cases.push(read("update/PR-6/valid-deceased-read", |x| {
        let p = x.person_record(GPFP, Who::Consumer, &x.o.deceased, "P3")?;
        let reason = kid(&p, CORE_NS, "deregistration")
            .and_then(|d| core_text(d, "deregistrationReasonCode"));
        require(reason == Some("AV"), || {
            format!(
                "expected deregistration reason AV (PR-6), found {}",
                reason.unwrap_or("none")
            )
        })?;
        require(!has(&p, "contactInformation"), || {
            "contact information of a deceased person (PR-6)".into()
        })?;
        Ok("deregistration AV, no contact information".into())
    }));
    cases.push(unrestricted(write("update/Unrestricted/valid", |x| {
        let person = x.o.update_person.clone();
        x.accepted(
            UPDU,
            Who::Unrestricted,
            &person,
            &|v| {
                Update::own(
                    &person,
                    v,
                    vec![entry("email", "obegransad@example.se", true)],
                )
            },
            &nothing,
        )
    })));
    cases.push(unrestricted(write(
        "update/Unrestricted/PR-2-invalid-protected",
        |x| {
            let person = x.o.protected.clone();
            x.refused(
                UPDU,
                Who::Unrestricted,
                &person,
                ("PROTECTED_PERSON", "PR-2"),
                &|v| Update::own(&person, v, vec![entry("sms", "+46701112254", true)]),
            )
        },
    )));
    // Last: everything removed (CO-2), which also leaves the update person as it began.
    cases.push(acceptance(
        "update/CO-2/valid-remove-all",
        |o, v| hanna(o, v, Vec::new()),
        |r| {
            require(!has(r, "contactInformation"), || {
                "the removal's record still holds contact information (CO-2)".into()
            })
        },
    ));
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_found_in_fault_texts() {
        assert!(has_uuid("bad (logId ee12665e-3478-4c6a-a3e5-583f0dda6a0f)"));
        assert!(!has_uuid("bad (logId ee12665e-3478-4c6a-a3e5)"));
    }

    #[test]
    fn every_update_case_names_a_rule_and_update_rules_have_both_kinds() {
        let cases = all();
        for rule in [
            "ID-2", "CT-1", "CT-2", "CT-3", "CT-4", "CT-5", "CT-6", "DN-1", "DN-2", "CO-1", "CO-3",
            "PR-2", "PR-6",
        ] {
            for kind in ["valid", "invalid"] {
                assert!(
                    cases
                        .iter()
                        .any(|c| c.name.starts_with(&format!("update/{rule}/{kind}"))),
                    "no {kind} case for {rule}"
                );
            }
        }
        let mut names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), cases.len(), "case names are unique");
    }
}
