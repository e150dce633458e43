//! The probe: sends each case's requests to the producer, reads the answers, and keeps
//! what the schema cases validate at the end. It knows the contracts' shapes, never their
//! rules' outcomes: those are the cases' expectations.

use super::client::{Client, Tls};
use super::messages::*;
use super::{schema, CaseReport, Options, PersonId};
use crate::contract::{Contract, CORE_NS, RESULT_NS};
use crate::outcome::{Failure, Outcome, Seen, Skip, ERROR_CODES, RESULT_CODES, RULE_IDS};
use crate::xml::{self, Element};
use std::cell::RefCell;
use std::time::Instant;

/// What a case's check says: a note in the case's words when it passed, or why it failed.
pub(super) type Check = Result<String, Failure>;

/// A check, or why the producer's test data does not allow it (the case is skipped).
pub(super) type CheckIfAllowed = Result<Check, Skip>;

/// One case (the table is in `cases`): a name (`group/what`), whether it writes, whether it
/// needs the Unrestricted consumer, and the check the probe runs.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) writes: bool,
    pub(crate) unrestricted: bool,
    /// The check, or why the producer's test data does not allow it.
    pub(super) check: Box<dyn Fn(&Ctx<'_>) -> CheckIfAllowed>,
}

/// The run's state: the client, the options, and every answer collected for the schema cases.
pub(crate) struct Ctx<'a> {
    client: &'a Client,
    tls: &'a Tls,
    unrestricted: Option<&'a Tls>,
    /// The options: the test persons, the LogicalAddress.
    pub(super) options: &'a Options,
    /// The running case's name, to label collected answers.
    current: RefCell<String>,
    /// Every non-Fault answer (contract, case, body payload), for the schema cases.
    answers: RefCell<Vec<(Contract, String, String)>>,
    /// Every Fault received (case, whole envelope), for the envelope schema.
    faults: RefCell<Vec<(String, String)>>,
    /// The test person's name parts, once read: masked in report texts, absent from Faults.
    names: RefCell<Option<Vec<String>>>,
    /// Endpoint paths that timed out once: later requests there fail at once instead of
    /// waiting again (a producer that serves only some contracts may never answer the rest).
    silent: RefCell<std::collections::BTreeSet<String>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        client: &'a Client,
        tls: &'a Tls,
        unrestricted: Option<&'a Tls>,
        options: &'a Options,
    ) -> Ctx<'a> {
        Ctx {
            client,
            tls,
            unrestricted,
            options,
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
    ) -> Result<T, Failure> {
        if self.silent.borrow().contains(endpoint) {
            return Err(Failure::NoAnswer(format!(
                "an earlier request to {endpoint} got none within the timeout"
            )));
        }
        send().map_err(|e| {
            if e.is_timeout() {
                self.silent.borrow_mut().insert(endpoint.to_owned());
            }
            Failure::NoAnswer(e.to_string())
        })
    }

    pub(crate) fn run(&self, case: &Case) -> Outcome {
        self.current.replace(case.name.clone());
        match (case.check)(self) {
            Ok(Ok(note)) => Outcome::Pass(note),
            Ok(Err(failure)) => Outcome::Fail(failure),
            Err(skip) => Outcome::Skip(skip),
        }
    }

    /// Whether a consumer for the Unrestricted contracts is configured.
    pub(super) fn has_unrestricted(&self) -> bool {
        self.unrestricted.is_some()
    }

    pub(super) fn la(&self) -> Header<'_> {
        Header::Address(&self.options.logical_address)
    }

    fn tls(&self, who: Who) -> Result<&Tls, Failure> {
        match who {
            Who::Consumer => Ok(self.tls),
            Who::Unrestricted => self
                .unrestricted
                .ok_or_else(|| "no Unrestricted consumer certificate".into()),
        }
    }

    /// Posts raw bytes to a contract's endpoint and reads the answer.
    pub(super) fn post(
        &self,
        path: &str,
        c: Contract,
        who: Who,
        body: &[u8],
    ) -> Result<Answer, Failure> {
        let tls = self.tls(who)?;
        let response = self.guarded(path, || {
            self.client.post_soap(tls, path, &c.soap_action(), body)
        })?;
        let status = response.status;
        let unreadable = |why: String| Failure::Unreadable { status, why };
        let text = String::from_utf8(response.body)
            .map_err(|_| unreadable("the answer is not UTF-8".into()))?;
        let doc = xml::parse(text.as_bytes(), limits())
            .map_err(|e| unreadable(format!("the answer is not XML: {e}")))?;
        if !doc.is(SOAP_NS, "Envelope") {
            return Err(Failure::WrongElement {
                expected: format!("{{{SOAP_NS}}}Envelope"),
                found: doc.qualified_name(),
            });
        }
        let body = kid(&doc, SOAP_NS, "Body")
            .ok_or_else(|| unreadable("the Envelope has no soap:Body".into()))?;
        let first = body
            .children
            .first()
            .ok_or_else(|| unreadable("the soap:Body is empty".into()))?;
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

    pub(super) fn call(
        &self,
        c: Contract,
        who: Who,
        header: Header<'_>,
        payload: &str,
    ) -> Result<Answer, Failure> {
        self.post(c.path(), c, who, envelope(header, payload).as_bytes())
    }

    /// The test person's name parts (read once with P1), checked absent from Faults.
    fn names(&self) -> Vec<String> {
        if self.names.borrow().is_none() {
            let c = Contract::GetPersonsForProfile;
            let found = self
                .records(c, Who::Consumer, &[&self.options.person], "P1", false)
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
    pub(super) fn sensitive(&self, ids: &[&PersonId]) -> Vec<(&'static str, String)> {
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

    pub(super) fn records(
        &self,
        c: Contract,
        who: Who,
        ids: &[&PersonId],
        profile: &str,
        ignore: bool,
    ) -> Result<Vec<Requested>, Failure> {
        let answer = self.call(c, who, self.la(), &gpfp_xml(c, ids, profile, ignore))?;
        let response = expect_response(&answer, c)?;
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
    pub(super) fn person_record(
        &self,
        c: Contract,
        who: Who,
        id: &PersonId,
        profile: &str,
    ) -> Result<Element, Failure> {
        let records = self.records(c, who, &[id], profile, false)?;
        if records.len() != 1 {
            return Err(Failure::expected(format!(
                "expected 1 requestedPersonRecord for 1 id, found {}",
                records.len()
            )));
        }
        let r = records.into_iter().next().ok_or("no record")?;
        let error = r.error_code();
        r.person.ok_or_else(|| {
            Failure::expected(format!(
                "expected a personRecord, found none (errorCode {error})"
            ))
        })
    }

    /// What is stored for `p`, read with GetPersonContactInformation (the Unrestricted
    /// contract when available, so protected persons' records are compared whole).
    pub(super) fn stored(&self, p: &PersonId) -> Result<Option<Element>, Failure> {
        let (c, who) = if self.unrestricted.is_some() {
            (
                Contract::GetPersonContactInformationUnrestricted,
                Who::Unrestricted,
            )
        } else {
            (Contract::GetPersonContactInformation, Who::Consumer)
        };
        let answer = self.call(c, who, self.la(), &gpci_xml(c, p))?;
        let response = expect_response(&answer, c).map_err(|failure| Failure::While {
            doing: "reading the stored state",
            failure: Box::new(failure),
        })?;
        Ok(kid(response, c.responder_ns(), "contactInformationRecord").cloned())
    }

    pub(super) fn update(
        &self,
        c: Contract,
        who: Who,
        u: &Update,
    ) -> Result<UpdateAnswer, Failure> {
        let answer = self.call(c, who, self.la(), &u.xml(c))?;
        let response = expect_response(&answer, c)?;
        let name = if c == Contract::UpdatePersonContactInformationUnrestricted {
            "UpdatePersonContactInformationUnrestrictedResult"
        } else {
            "updatePersonContactInformationResult"
        };
        let wrapper = kid(response, c.responder_ns(), name).ok_or_else(|| {
            Failure::expected(format!("no {name} in the {}", c.response_element()))
        })?;
        let result = kid(wrapper, CORE_NS, "result")
            .ok_or_else(|| Failure::expected(format!("no result in {name}")))?;
        Ok(UpdateAnswer {
            code: Seen::among(core_text(result, "resultCode"), &RESULT_CODES),
            error: Seen::among(
                kid(result, RESULT_NS, "errorCode").map(|e| e.text.as_str()),
                &ERROR_CODES,
            ),
            rule: Seen::among(
                kid(result, RESULT_NS, "ruleId").map(|e| e.text.as_str()),
                &RULE_IDS,
            ),
            text: core_text(result, "resultText")
                .unwrap_or_default()
                .to_owned(),
            log_id: kid(result, RESULT_NS, "logId").map(|e| e.text.trim().to_owned()),
            record: kid(wrapper, CORE_NS, "contactInformationRecord").cloned(),
        })
    }

    /// An update that breaks one rule, sent at the person's current version so that a
    /// producer ignoring the rule would store it: ERROR with `code`, nothing stored.
    /// (docs/rules.md: an update that breaks a rule is rejected whole, and the answer says which
    /// rule, with a stable errorCode and a logId.)
    pub(super) fn refused(
        &self,
        c: Contract,
        who: Who,
        person: &PersonId,
        (code, rule): (&'static str, &str),
        build: &dyn Fn(Option<String>) -> Update,
    ) -> Check {
        let before = self.stored(person)?;
        let u = build(version_of(before.as_ref()));
        let a = self.update(c, who, &u)?;
        let mut problems = Vec::new();
        let is_error = a.code.code() == Some("ERROR");
        if !is_error {
            problems.push(Failure::Code {
                element: "resultCode",
                expected: "ERROR",
                found: a.code.clone(),
            });
        }
        if a.error.code() != Some(code) {
            problems.push(Failure::Code {
                element: "errorCode",
                expected: code,
                found: a.error.clone(),
            });
        }
        if is_error {
            if a.record.is_some() {
                problems.push("a contactInformationRecord came with ERROR".into());
            }
            if a.rule.code() != Some(rule) && !a.text.contains(rule) {
                problems.push(Failure::expected(format!(
                    "expected the rule {rule} named (ruleId or resultText), found ruleId {}",
                    a.rule
                )));
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
            Err(Failure::All(problems))
        }
    }

    /// A valid update: OK, the new record with a greater version and exactly the entries
    /// sent, `verify` on it, and a read that shows the same.
    pub(super) fn accepted(
        &self,
        c: Contract,
        who: Who,
        person: &PersonId,
        build: &dyn Fn(Option<String>) -> Update,
        verify: &dyn Fn(&Element) -> Result<(), Failure>,
    ) -> Check {
        let before = self.stored(person)?;
        let old = version_of(before.as_ref());
        let u = build(old.clone());
        let a = self.update(c, who, &u)?;
        if a.code.code() != Some("OK") {
            return Err(Failure::expected(format!(
                "expected resultCode OK, found {} (errorCode {})",
                a.code, a.error
            )));
        }
        let record = a
            .record
            .ok_or("resultCode OK without the new contactInformationRecord")?;
        let version = version_of(Some(&record)).ok_or("the new record has no version")?;
        if let Some(old) = &old {
            if version <= *old {
                return Err(
                    "the new record's version is not greater than the stored one (CO-3; versions not shown)"
                        .into(),
                );
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
            return Err(Failure::expected(format!(
                "the new record holds {} entries other than the {} sent (values not shown)",
                entries(&record).len(),
                sent.len()
            )));
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

    pub(super) fn wsdl(&self, c: Contract) -> Check {
        let r = self.guarded(c.path(), || {
            self.client.get(self.tls, &format!("{}?wsdl", c.path()))
        })?;
        if r.status != 200 {
            return Err(Failure::expected(format!(
                "expected HTTP 200 with the WSDL, found {}",
                r.status
            )));
        }
        let doc = xml::parse(&r.body, limits()).map_err(|e| Failure::Unreadable {
            status: r.status,
            why: format!("the ?wsdl answer is not XML: {e}"),
        })?;
        if !doc.is(WSDL_NS, "definitions") {
            return Err(Failure::WrongElement {
                expected: format!("{{{WSDL_NS}}}definitions"),
                found: doc.qualified_name(),
            });
        }
        let port_type = format!("{}ResponderInterface", c.name());
        if !kids(&doc, WSDL_NS, "portType")
            .iter()
            .any(|p| p.attr(None, "name") == Some(port_type.as_str()))
        {
            return Err(Failure::expected(format!(
                "no wsdl:portType named {port_type}"
            )));
        }
        let text = String::from_utf8_lossy(&r.body);
        if !text.contains(c.responder_ns()) {
            return Err(Failure::expected(format!(
                "the WSDL does not name the responder namespace {}",
                c.responder_ns()
            )));
        }
        let addresses: Vec<String> = kids(&doc, WSDL_NS, "service")
            .into_iter()
            .flat_map(|s| kids(s, WSDL_NS, "port"))
            .filter_map(|p| kid(p, WSDL_SOAP_NS, "address"))
            .filter_map(|a| a.attr(None, "location").map(str::to_owned))
            .collect();
        if !addresses.iter().any(|a| a.ends_with(c.path())) {
            return Err(Failure::expected(format!(
                "no soap:address ending in {}",
                c.path()
            )));
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
        Outcome::Skip(Skip::SchemaNotChecked)
    } else if answers.is_empty() {
        Outcome::Skip(Skip::NothingCollected)
    } else {
        match schema::validate(file, answers) {
            Err(e) => Outcome::Fail(Failure::expected(e.to_string())),
            Ok(failed) if failed.is_empty() => {
                Outcome::Pass(format!("{} answers valid against {source}", answers.len()))
            }
            Ok(failed) => Outcome::Fail(Failure::expected(format!(
                "{} of {} answers invalid against {source}: {}",
                failed.len(),
                answers.len(),
                distinct_reasons(&failed)
            ))),
        }
    };
    CaseReport {
        name: name.to_owned(),
        outcome,
        duration: started.elapsed(),
    }
}

/// The response element, or why the answer is not one.
pub(super) fn expect_response(answer: &Answer, c: Contract) -> Result<&Element, Failure> {
    match answer {
        Answer::Fault { status, code, .. } => Err(Failure::Fault {
            expected: c.response_element(),
            status: *status,
            code: Seen::fault_code(code),
        }),
        Answer::Response { status, element } => {
            if !element.is(c.responder_ns(), &c.response_element()) {
                return Err(Failure::WrongElement {
                    expected: format!("{{{}}}{}", c.responder_ns(), c.response_element()),
                    found: element.qualified_name(),
                });
            }
            if *status != 200 {
                return Err(Failure::expected(format!(
                    "expected HTTP 200 with the {}, found HTTP {status}",
                    c.response_element()
                )));
            }
            Ok(element)
        }
    }
}

/// A soap:Client Fault, HTTP 500, with a log id and none of `sensitive` in it.
pub(super) fn expect_client_fault(answer: &Answer, sensitive: &[(&'static str, String)]) -> Check {
    match answer {
        Answer::Response { status, element } => Err(Failure::expected(format!(
            "expected a soap:Client Fault (HTTP 500), found {} (HTTP {status})",
            element.qualified_name()
        ))),
        Answer::Fault {
            status,
            code,
            text,
            raw,
        } => {
            let mut problems: Vec<Failure> = Vec::new();
            if *status != 500 {
                problems.push(format!("expected HTTP 500, found {status}").into());
            }
            let code = Seen::fault_code(code);
            if code.code() != Some("soap:Client") {
                problems.push(Failure::Code {
                    element: "faultcode",
                    expected: "soap:Client",
                    found: code.clone(),
                });
            }
            if text.is_empty() {
                problems.push("the faultstring is empty".into());
            } else if !has_uuid(text) {
                problems.push(
                    "the faultstring carries no log id (a UUID; docs/contract.md: every Fault does)"
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
                problems.push(Failure::expected(format!(
                    "the Fault carries personal data of the request: {} (values not shown)",
                    leaked.join(", ")
                )));
            }
            if problems.is_empty() {
                Ok(format!("{code}, no personal data"))
            } else {
                Err(Failure::All(problems))
            }
        }
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
