//! The case table: each case sends requests as a consumer would and judges the producer by
//! its answers alone. Failure texts say what was expected and what was found, and never
//! quote personal data (identifiers, names, addresses, contact values).

use super::messages::*;
use super::probe::{expect_client_fault, expect_response, Case, Check, CheckIfAllowed, Ctx};
use super::{Options, PersonId};
use crate::contract::Contract::{
    self, GetPersonContactInformation, GetPersonContactInformationUnrestricted,
    GetPersonsForProfile, GetPersonsForProfileUnrestricted, PingForConfiguration,
    UpdatePersonContactInformation, UpdatePersonContactInformationUnrestricted,
};
use crate::contract::{CORE_NS, RESULT_NS};
use crate::outcome::{Failure, Seen, Skip, DEREGISTRATION_REASONS, ROUTES};
use crate::xml::escape;
use crate::xml::Element;

pub(super) fn read(name: &str, check: impl Fn(&Ctx<'_>) -> Check + 'static) -> Case {
    read_if_data_allows(name, move |x| Ok(check(x)))
}

/// A reading case that first checks that the producer's test data allows it, and is
/// skipped, saying what is missing, when it does not.
pub(super) fn read_if_data_allows(
    name: &str,
    check: impl Fn(&Ctx<'_>) -> CheckIfAllowed + 'static,
) -> Case {
    Case {
        name: name.to_owned(),
        writes: false,
        unrestricted: false,
        check: Box::new(check),
    }
}

pub(super) fn write(name: &str, check: impl Fn(&Ctx<'_>) -> Check + 'static) -> Case {
    Case {
        writes: true,
        ..read(name, check)
    }
}

pub(super) fn unrestricted(mut case: Case) -> Case {
    case.unrestricted = true;
    case
}

/// Why a requestedPersonRecord does not echo the asked id (rule #1).
fn echo_problem(rec: &Requested, which: &str) -> String {
    if rec.requested.is_some() {
        format!("{which}: requestedPersonalIdentity does not echo the asked id, in the asked order")
    } else {
        format!("{which}: no requestedPersonalIdentity in the core namespace {CORE_NS}")
    }
}

fn require(ok: bool, problem: impl FnOnce() -> String) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::Expected(problem()))
    }
}

/// P1 only: what rule #3 / PR-3 leaves of a protected person on the restricted contract.
fn only_p1(p: &Element) -> Result<(), Failure> {
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
            let options = x.options;
            if profile == "P4" {
                // A child with guardians: P4 adds the relationships and must not be a Fault.
                let p =
                    x.person_record(GetPersonsForProfile, Who::Consumer, &options.child, profile)?;
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
            let p = x.person_record(
                GetPersonsForProfile,
                Who::Consumer,
                &options.person,
                profile,
            )?;
            let id = kid(&p, CORE_NS, "personalIdentity").and_then(|i| core_text(i, "extension"));
            require(id == Some(options.person.extension.as_str()), || {
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
    check: impl Fn(&Ctx<'_>) -> Result<Answer, Failure> + 'static,
    also: Option<&'static [&'static str]>,
) -> Case {
    read(&format!("fault/{name}"), move |x| {
        let answer = check(x)?;
        let bad = bad_check_digit(&x.options.person);
        let note = expect_client_fault(&answer, &x.sensitive(&[&x.options.person, &bad]))?;
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
        let u = build(x.options, None);
        let person = u.compared.unwrap_or(u.person);
        x.refused(
            UpdatePersonContactInformation,
            Who::Consumer,
            &person,
            (code, &rule),
            &|version| build(x.options, version),
        )
    })
}

fn acceptance(
    name: &str,
    build: impl Fn(&Options, Option<String>) -> Update + 'static,
    verify: impl Fn(&Element) -> Result<(), Failure> + 'static,
) -> Case {
    write(name, move |x| {
        let person = build(x.options, None).person;
        x.accepted(
            UpdatePersonContactInformation,
            Who::Consumer,
            &person,
            &|version| build(x.options, version),
            &verify,
        )
    })
}

fn nothing(_: &Element) -> Result<(), Failure> {
    Ok(())
}

/// The update person (`--update-person`) updating their own contact information.
fn by_update_person(options: &Options, version: Option<String>, entries: Vec<Entry>) -> Update {
    Update::own(&options.update_person, version, entries)
}

/// Street lines of an address element (postalAddress1/2/3), as the core type writes them.
const STREET_LINES: [&str; 3] = ["postalAddress1", "postalAddress2", "postalAddress3"];

/// The address elements anywhere below `e` (any element with a core street line child),
/// in document order: for a P5 history, newest first.
fn addresses(e: &Element) -> Vec<&Element> {
    let mut out = Vec::new();
    if STREET_LINES.iter().any(|l| has(e, l)) {
        out.push(e);
    }
    for c in &e.children {
        out.extend(addresses(c));
    }
    out
}

/// Whether an address element has one of `streets` as a street line.
fn is_one_of(address: &Element, streets: &[String]) -> bool {
    STREET_LINES
        .iter()
        .filter_map(|l| core_text(address, l))
        .any(|line| streets.iter().any(|s| s == line))
}

/// Where in a record an address with one of `streets` shows: element paths only.
fn where_shown(record: &Element, streets: &[String]) -> Vec<String> {
    fn walk(e: &Element, path: &str, streets: &[String], out: &mut Vec<String>) {
        for c in &e.children {
            let here = if path.is_empty() {
                c.name.clone()
            } else {
                format!("{path}/{}", c.name)
            };
            if STREET_LINES.iter().any(|l| has(c, l)) && is_one_of(c, streets) {
                out.push(here.clone());
            }
            walk(c, &here, streets, out);
        }
    }
    let mut out = Vec::new();
    walk(record, "", streets, &mut out);
    out
}

/// The street lines PR-7 keeps hidden, and how they were learnt (for the PASS note).
struct ProtectedPeriod {
    streets: Vec<String>,
    note: String,
}

/// The addresses PR-7 keeps hidden, as street lines: the named ones (`--protected-address`)
/// and, when the Unrestricted contract is at hand, every history entry it lists as newer
/// than the first named one (they began during or after the protection; the current
/// address is not in the history). Skipped when the Unrestricted answer shows none of the
/// named addresses: then the options do not describe this producer's person.
fn protected_period_streets(
    x: &Ctx<'_>,
    person: &PersonId,
) -> Result<Result<ProtectedPeriod, Failure>, Skip> {
    let named: Vec<String> = x
        .options
        .protected_address
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if named.is_empty() {
        return Err(Skip::TestData(
            "no --protected-address: name a street of an address that applied while --lifted-protection-person was protected".into(),
        ));
    }
    if !x.has_unrestricted() {
        let note = format!("addresses named by --protected-address: {}, not confirmed on the Unrestricted contract (no Unrestricted consumer)", named.len());
        return Ok(Ok(ProtectedPeriod {
            streets: named,
            note,
        }));
    }
    let record = match x.person_record(
        GetPersonsForProfileUnrestricted,
        Who::Unrestricted,
        person,
        "P5",
    ) {
        Ok(r) => r,
        Err(failure) => return Ok(Err(failure)),
    };
    let history: Vec<&Element> = kid(&record, CORE_NS, "populationRegistrationRecord")
        .and_then(|r| kid(r, CORE_NS, "historicalRecords"))
        .map(addresses)
        .unwrap_or_default();
    let Some(first) = history.iter().position(|a| is_one_of(a, &named)) else {
        return Err(Skip::TestData(
            "the Unrestricted P5 of --lifted-protection-person shows none of the --protected-address streets in its history: name an address that applied while the person was protected".into(),
        ));
    };
    let mut streets = named;
    for newer in &history[..first] {
        streets.extend(
            STREET_LINES
                .iter()
                .filter_map(|l| core_text(newer, l))
                .map(str::to_owned),
        );
    }
    let note = format!(
        "{} of {} Unrestricted history entries applied during or after the protection",
        first + 1,
        history.len()
    );
    Ok(Ok(ProtectedPeriod { streets, note }))
}

/// PR-7: what applied while a person was protected stays hidden after the lift, in every
/// profile of the restricted contract (the P5 history, its earlier-address slot, P2–P4).
fn lifted_protection_stays_hidden(x: &Ctx<'_>) -> CheckIfAllowed {
    let person = &x.options.lifted_protection_person;
    let p5 = match x.records(GetPersonsForProfile, Who::Consumer, &[person], "P5", false) {
        Ok(records) => records.into_iter().next().and_then(|r| r.person),
        Err(failure) => return Ok(Err(failure)),
    };
    let Some(p5) = p5 else {
        return Err(Skip::TestData(
            "the producer has no --lifted-protection-person (default: the demo person whose protection was lifted): give a person whose protection ended, and --protected-address".into(),
        ));
    };
    if core_text(&p5, "protectedPersonIndicator") == Some("true")
        || core_text(&p5, "protectedPopulationRecord") == Some("true")
    {
        return Err(Skip::TestData(
            "--lifted-protection-person is protected now: PR-7 is about after the lift".into(),
        ));
    }
    let ProtectedPeriod { streets, note } = match protected_period_streets(x, person)? {
        Ok(found) => found,
        Err(failure) => return Ok(Err(failure)),
    };
    let mut shown: Vec<String> = where_shown(&p5, &streets)
        .into_iter()
        .map(|path| format!("P5 {path}"))
        .collect();
    // A profile that cannot be read is a failure of its own, but does not hide what the
    // others showed.
    let mut unread = Vec::new();
    for (profile, doing) in [
        ("P2", "reading P2"),
        ("P3", "reading P3"),
        ("P4", "reading P4"),
    ] {
        match x.person_record(GetPersonsForProfile, Who::Consumer, person, profile) {
            Ok(record) => shown.extend(
                where_shown(&record, &streets)
                    .into_iter()
                    .map(|path| format!("{profile} {path}")),
            ),
            Err(failure) => unread.push(Failure::While {
                doing,
                failure: Box::new(failure),
            }),
        }
    }
    let mut problems = Vec::new();
    if !shown.is_empty() {
        problems.push(Failure::expected(format!(
            "an address that applied while the person was protected shows on the restricted contract (PR-7) in {} (values not shown)",
            shown.join(", ")
        )));
    }
    problems.extend(unread);
    if problems.is_empty() {
        Ok(Ok(format!(
            "P2–P5 show no protected-period address ({note})"
        )))
    } else {
        Ok(Err(Failure::All(problems)))
    }
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
            PingForConfiguration.responder_ns(),
            GetPersonsForProfile.responder_ns(),
            escape(&x.options.logical_address)
        );
        let a = x.call(PingForConfiguration, Who::Consumer, x.la(), &payload)?;
        let r = expect_response(&a, PingForConfiguration)?;
        let text = |n: &str| kid(r, PingForConfiguration.responder_ns(), n).map(|e| e.text.trim().to_owned());
        require(text("version").is_some_and(|version| !version.is_empty()), || "expected a version, found none".into())?;
        let t = text("pingDateTime").unwrap_or_default();
        require(t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()), || "expected pingDateTime YYYYMMDDhhmmss, found another form (value not shown)".into())?;
        Ok(format!("{} configuration entries", kids(r, PingForConfiguration.responder_ns(), "configuration").len()))
    }));

    // GetPersonsForProfile: the profiles and the TKB rules #1–#3.
    for p in ["P1", "P2", "P3", "P4", "P5"] {
        cases.push(profile_case(p));
    }
    cases.push(read("GetPersonsForProfile/rule-1-one-answer-per-id", |x| {
        let options = x.options;
        let bad = bad_check_digit(&options.person);
        let asked = [&options.person, &bad, &options.unknown];
        let r = x.records(GetPersonsForProfile, Who::Consumer, &asked, "P1", false)?;
        require(r.len() == 3, || format!("expected 3 requestedPersonRecord for 3 ids (one known, one with a wrong check digit, one unknown), found {}", r.len()))?;
        for (i, (rec, id)) in r.iter().zip(asked).enumerate() {
            require(rec.requested.as_ref().map(|(_, e)| e.as_str()) == Some(id.extension.as_str()), || echo_problem(rec, &format!("record {}", i + 1)))?;
        }
        require(r[0].person.is_some(), || "record 1 (known person): expected a personRecord, found none".into())?;
        for (i, which, code) in [(1, "record 2 (wrong check digit)", "INVALID_PERSON_ID"), (2, "record 3 (unknown)", "PERSON_NOT_FOUND")] {
            let error = r[i].error_code();
            require(r[i].person.is_none() && error.code() == Some(code), || format!("{which}: expected no personRecord and errorCode {code}, found {} and errorCode {error}", if r[i].person.is_some() { "a personRecord" } else { "no personRecord" }))?;
        }
        Ok("3 ids, 3 answers, no Fault".into())
    }));
    for (name, linked) in [
        ("rule-2-referred-id", false),
        ("rule-2-linked-reserve-id", true),
    ] {
        cases.push(read(&format!("GetPersonsForProfile/{name}"), move |x| {
            let (asked, current) = if linked {
                (&x.options.linked, &x.options.linked_current)
            } else {
                (&x.options.referred, &x.options.referred_current)
            };
            let r = x.records(GetPersonsForProfile, Who::Consumer, &[asked], "P1", false)?;
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
                    rec.error_code()
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
        let r = x.records(GetPersonsForProfile, Who::Consumer, &[&x.options.referred], "P1", true)?;
        let rec = r.first().ok_or("expected 1 requestedPersonRecord, found none")?;
        require(rec.person.is_none(), || "ignoreReferredIdentity=true: expected no personRecord for an earlier identity, found one".into())?;
        Ok(format!("no record (errorCode {})", rec.error_code()))
    }));
    for profile in ["P3", "P4"] {
        cases.push(read(&format!("GetPersonsForProfile/rule-3-protected-{profile}"), move |x| {
            let p = x.person_record(GetPersonsForProfile, Who::Consumer, &x.options.protected, profile)?;
            require(core_text(&p, "protectedPersonIndicator") == Some("true") || core_text(&p, "protectedPopulationRecord") == Some("true"), || "expected protectedPersonIndicator or protectedPopulationRecord true for the protected person".into())?;
            only_p1(&p)?;
            Ok("P1 only".into())
        }));
    }
    cases.push(read_if_data_allows(
        "GetPersonsForProfile/PR-7-lifted-protection-stays-hidden",
        lifted_protection_stays_hidden,
    ));
    cases.push(unrestricted(read("GetPersonsForProfileUnrestricted/protected-gets-asked-profile", |x| {
        let p = x.person_record(GetPersonsForProfileUnrestricted, Who::Unrestricted, &x.options.protected, "P2")?;
        require(has(&p, "addressInformation"), || "expected addressInformation (P2) for the protected person on the Unrestricted contract, found none".into())?;
        Ok(String::new())
    })));

    // GetPersonContactInformation.
    cases.push(read("GetPersonContactInformation/known-person", |x| {
        let a = x.call(
            GetPersonContactInformation,
            Who::Consumer,
            x.la(),
            &gpci_xml(GetPersonContactInformation, &x.options.person),
        )?;
        let r = expect_response(&a, GetPersonContactInformation)?;
        let rec = kid(
            r,
            GetPersonContactInformation.responder_ns(),
            "contactInformationRecord",
        )
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
        let a = x.call(
            GetPersonContactInformation,
            Who::Consumer,
            x.la(),
            &gpci_xml(GetPersonContactInformation, &x.options.unknown),
        )?;
        let r = expect_response(&a, GetPersonContactInformation)?;
        require(
            kid(
                r,
                GetPersonContactInformation.responder_ns(),
                "contactInformationRecord",
            )
            .is_none(),
            || "expected no record for an unknown person, found one".into(),
        )?;
        Ok("no record, no Fault".into())
    }));
    cases.push(read("GetPersonContactInformation/PR-3-protected", |x| {
        let a = x.call(
            GetPersonContactInformation,
            Who::Consumer,
            x.la(),
            &gpci_xml(GetPersonContactInformation, &x.options.protected),
        )?;
        let r = expect_response(&a, GetPersonContactInformation)?;
        if let Some(rec) = kid(
            r,
            GetPersonContactInformation.responder_ns(),
            "contactInformationRecord",
        ) {
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
                GetPersonContactInformationUnrestricted,
                Who::Unrestricted,
                x.la(),
                &gpci_xml(GetPersonContactInformationUnrestricted, &x.options.person),
            )?;
            let r = expect_response(&a, GetPersonContactInformationUnrestricted)?;
            require(
                kid(
                    r,
                    GetPersonContactInformationUnrestricted.responder_ns(),
                    "contactInformationRecord",
                )
                .is_some(),
                || "expected a contactInformationRecord, found none".into(),
            )?;
            Ok(String::new())
        },
    )));

    cases.push(read("GetPersonContactInformation/GU-1-child-route", |x| {
        // docs/contract.md's addition: a child's answer names the notification route (GU-1).
        let a = x.call(
            GetPersonContactInformation,
            Who::Consumer,
            x.la(),
            &gpci_xml(GetPersonContactInformation, &x.options.child),
        )?;
        let r = expect_response(&a, GetPersonContactInformation)?;
        let route = descendant(r, RESULT_NS, "notificationRoute").ok_or_else(|| {
            format!("expected a {{{RESULT_NS}}}notificationRoute for a child, found none")
        })?;
        let text = |n: &str| kid(route, RESULT_NS, n).map(|e| e.text.trim().to_owned());
        let route_seen = Seen::among(text("route").as_deref(), &ROUTES);
        let way = route_seen.code().ok_or_else(|| {
            format!("expected route guardians, maturityAssessment or self, found {route_seen}")
        })?;
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
                GetPersonsForProfileUnrestricted,
                Who::Consumer,
                x.la(),
                &gpfp_xml(
                    GetPersonsForProfileUnrestricted,
                    &[&x.options.protected],
                    "P3",
                    false,
                ),
            )?;
            expect_client_fault(&a, &x.sensitive(&[&x.options.protected]))
        },
    )));

    // Faults: soap:Client, HTTP 500, a log id, no personal data of the request.
    cases.push(fault_case(
        "missing-LogicalAddress",
        |x| {
            x.call(
                GetPersonsForProfile,
                Who::Consumer,
                Header::Missing,
                &gpfp_xml(GetPersonsForProfile, &[&x.options.person], "P1", false),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "empty-LogicalAddress",
        |x| {
            x.call(
                GetPersonsForProfile,
                Who::Consumer,
                Header::Empty,
                &gpfp_xml(GetPersonsForProfile, &[&x.options.person], "P1", false),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "malformed-envelope",
        |x| {
            let full = envelope(
                x.la(),
                &gpfp_xml(GetPersonsForProfile, &[&x.options.person], "P1", false),
            );
            // Cut inside the body, after the identifier, with probe values in a broken element.
            let cut = full.find("<profile>").unwrap_or(full.len() / 2);
            let broken = format!(
                "{}<note>{PROBE_NAME} {PROBE_EMAIL} {PROBE_PHONE}</nope><profile",
                &full[..cut]
            );
            x.post(
                GetPersonsForProfile.path(),
                GetPersonsForProfile,
                Who::Consumer,
                broken.as_bytes(),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "wrong-operation",
        |x| {
            // An update, with a contact person and probe values, sent to GetPersonsForProfile.
            let mut u = Update::own(
                &x.options.person,
                None,
                vec![
                    entry("sms", PROBE_PHONE, true),
                    entry("email", PROBE_EMAIL, true),
                ],
            );
            u.contact_person = true;
            x.call(
                GetPersonsForProfile,
                Who::Consumer,
                x.la(),
                &u.xml(UpdatePersonContactInformation),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "undefined-profile-P6",
        |x| {
            x.call(
                GetPersonsForProfile,
                Who::Consumer,
                x.la(),
                &gpfp_xml(GetPersonsForProfile, &[&x.options.person], "P6", false),
            )
        },
        Some(&["P1", "P5"]),
    ));
    cases.push(fault_case(
        "too-many-ids-501",
        |x| {
            let ids = vec![&x.options.person; 501];
            x.call(
                GetPersonsForProfile,
                Who::Consumer,
                x.la(),
                &gpfp_xml(GetPersonsForProfile, &ids, "P1", false),
            )
        },
        None,
    ));
    cases.push(fault_case(
        "GetPersonContactInformation-invalid-id",
        |x| {
            x.call(
                GetPersonContactInformation,
                Who::Consumer,
                x.la(),
                &gpci_xml(
                    GetPersonContactInformation,
                    &bad_check_digit(&x.options.person),
                ),
            )
        },
        None,
    ));

    // UpdatePersonContactInformation: each rule with a valid and an invalid case.
    cases.push(write("update/ID-1/valid-samordningsnummer", |x| {
        // A person addressed by a samordningsnummer (its own root, ID-1) can be updated; the
        // entry is removed again afterwards so the person is left without contact information.
        let person = x.options.coordination_person.clone();
        let result = x.accepted(
            UpdatePersonContactInformation,
            Who::Consumer,
            &person,
            &|version| Update::own(&person, version, vec![entry("sms", "+46701112255", true)]),
            &nothing,
        );
        let version = x.stored(&person).ok().flatten();
        let _ = x.update(
            UpdatePersonContactInformation,
            Who::Consumer,
            &Update::own(&person, version_of(version.as_ref()), Vec::new()),
        );
        result
    }));
    cases.push(refusal(
        "update/ID-1/invalid-unknown-root",
        "INVALID_PERSON_ID",
        |options, version| {
            let mut u =
                by_update_person(options, version, vec![entry("sms", "+46701112256", true)]);
            // An HSA-id root is not a person-identifier root.
            u.compared = Some(options.update_person.clone());
            u.person = PersonId {
                root: "1.2.752.129.2.1.4.1".into(),
                extension: "SE2321000016-1234".into(),
            };
            u
        },
    ));
    cases.push(acceptance(
        "update/ID-2/valid-known-person",
        |options, version| {
            by_update_person(options, version, vec![entry("sms", "+46701112233", true)])
        },
        nothing,
    ));
    cases.push(refusal(
        "update/ID-2/invalid-check-digit",
        "INVALID_PERSON_ID",
        |options, version| {
            let mut u =
                by_update_person(options, version, vec![entry("sms", "+46701112233", true)]);
            u.person = bad_check_digit(&options.update_person);
            u.compared = Some(options.update_person.clone());
            u.actor = Actor::Person(u.person.clone());
            u
        },
    ));
    cases.push(refusal(
        "update/ID-2/invalid-unknown-person",
        "PERSON_NOT_FOUND",
        |options, version| {
            Update::own(
                &options.unknown,
                version,
                vec![entry("sms", "+46701112233", true)],
            )
        },
    ));
    cases.push(acceptance(
        "update/CT-1/valid-sms-and-email",
        |options, version| {
            by_update_person(
                options,
                version,
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
        |options, version| {
            by_update_person(options, version, vec![entry("phone", "+46701112235", true)])
        },
    ));
    cases.push(acceptance(
        "update/CT-2/valid-no-qualifiers",
        |options, version| {
            by_update_person(
                options,
                version,
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
        |options, version| {
            let mut e = entry("sms", "+46701112236", true);
            e.qualifier = Some("home");
            by_update_person(options, version, vec![e])
        },
    ));
    cases.push(acceptance(
        "update/CT-3/valid-one-of-each",
        |options, version| {
            by_update_person(
                options,
                version,
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
        |options, version| {
            by_update_person(
                options,
                version,
                vec![
                    entry("sms", "+46701112238", true),
                    entry("sms", "+46701112239", true),
                ],
            )
        },
    ));
    cases.push(acceptance(
        "update/CT-4/valid-e164",
        |options, version| {
            by_update_person(options, version, vec![entry("sms", "+46701112240", true)])
        },
        nothing,
    ));
    cases.push(refusal(
        "update/CT-4/invalid-national-form",
        "INVALID_PHONE_NUMBER",
        |options, version| {
            by_update_person(options, version, vec![entry("sms", "0701112241", true)])
        },
    ));
    cases.push(refusal(
        "update/CT-4/invalid-trunk-prefix-kept",
        "INVALID_PHONE_NUMBER",
        |options, version| {
            by_update_person(options, version, vec![entry("sms", "+460701112242", true)])
        },
    ));
    cases.push(acceptance(
        "update/CT-5/valid-idn-address",
        |options, version| {
            by_update_person(
                options,
                version,
                vec![entry("email", "hanna@domän.se", true)],
            )
        },
        nothing,
    ));
    cases.push(refusal(
        "update/CT-5/invalid-display-name",
        "INVALID_EMAIL_ADDRESS",
        |options, version| {
            by_update_person(
                options,
                version,
                vec![entry("email", "Hanna <hanna@example.se>", true)],
            )
        },
    ));
    cases.push(acceptance(
        "update/CT-6/valid-without-contact-person",
        |options, version| {
            by_update_person(options, version, vec![entry("sms", "+46701112243", true)])
        },
        |r| {
            require(!has(r, "contactPerson"), || {
                "the record carries a contactPerson (CT-6)".into()
            })
        },
    ));
    cases.push(refusal(
        "update/CT-6/invalid-contact-person",
        "CONTACT_PERSON_NOT_ALLOWED",
        |options, version| {
            let mut u =
                by_update_person(options, version, vec![entry("sms", "+46701112244", true)]);
            u.contact_person = true;
            u
        },
    ));
    cases.push(acceptance(
        "update/DN-1/valid-false-kept",
        |options, version| {
            by_update_person(options, version, vec![entry("sms", "+46701112245", false)])
        },
        nothing,
    ));
    cases.push(refusal(
        "update/DN-1/invalid-missing-digitalNotification",
        "DIGITAL_NOTIFICATION_REQUIRED",
        |options, version| {
            let mut e = entry("sms", "+46701112246", true);
            e.dn = None;
            by_update_person(options, version, vec![e])
        },
    ));
    cases.push(acceptance(
        "update/DN-2/valid-optout-with-digital-entry",
        |options, version| {
            let mut u =
                by_update_person(options, version, vec![entry("sms", "+46701112247", true)]);
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
        |options, version| {
            let mut u =
                by_update_person(options, version, vec![entry("sms", "+46701112248", false)]);
            u.optout = Some(true);
            u
        },
    ));
    cases.push(acceptance(
        "update/CO-1/valid-professional-actor",
        |options, version| {
            let mut u = by_update_person(
                options,
                version,
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
        |options, version| {
            let mut u =
                by_update_person(options, version, vec![entry("sms", "+46701112249", true)]);
            u.actor = Actor::Person(options.person.clone());
            u
        },
    ));
    cases.push(refusal(
        "update/CO-3/invalid-stale-version",
        "VERSION_CONFLICT",
        |options, version| {
            // A version that cannot be the stored one (or is sent when none is stored).
            let _ = version;
            by_update_person(
                options,
                Some("20000101000000".into()),
                vec![entry("sms", "+46701112250", true)],
            )
        },
    ));
    cases.push(acceptance(
        "update/CO-3/valid-current-version",
        |options, version| {
            by_update_person(options, version, vec![entry("sms", "+46701112251", true)])
        },
        nothing,
    ));
    // CO-2 refuses nothing (a removal is always allowed), but a removal is an update like
    // any other: made against a version the caller never read, CO-3 refuses it and what is
    // stored stays exactly as it was.
    cases.push(refusal(
        "update/CO-3/invalid-stale-removal",
        "VERSION_CONFLICT",
        |options, _| by_update_person(options, Some("20000101000000".into()), Vec::new()),
    ));
    cases.push(refusal(
        "update/PR-2/invalid-protected-person",
        "PROTECTED_PERSON",
        |options, version| {
            Update::own(
                &options.protected,
                version,
                vec![entry("sms", "+46701112252", true)],
            )
        },
    ));
    cases.push(acceptance(
        "update/PR-2/valid-protected-withdraws-all",
        |options, version| Update::own(&options.protected, version, Vec::new()),
        |r| {
            require(!has(r, "contactInformation"), || {
                "the withdrawal's record still holds contact information".into()
            })
        },
    ));
    cases.push(refusal(
        "update/PR-6/invalid-deceased",
        "PERSON_DEREGISTERED",
        |options, version| {
            Update::own(
                &options.deceased,
                version,
                vec![entry("sms", "+46701112253", true)],
            )
        },
    ));
    cases.push(read("update/PR-6/valid-deceased-read", |x| {
        let p = x.person_record(
            GetPersonsForProfile,
            Who::Consumer,
            &x.options.deceased,
            "P3",
        )?;
        let reason = kid(&p, CORE_NS, "deregistration")
            .and_then(|d| core_text(d, "deregistrationReasonCode"));
        let reason = Seen::among(reason, &DEREGISTRATION_REASONS);
        require(reason.code() == Some("AV"), || {
            format!("expected deregistration reason AV (PR-6), found {reason}")
        })?;
        require(!has(&p, "contactInformation"), || {
            "contact information of a deceased person (PR-6)".into()
        })?;
        Ok("deregistration AV, no contact information".into())
    }));
    cases.push(unrestricted(write("update/Unrestricted/valid", |x| {
        let person = x.options.update_person.clone();
        x.accepted(
            UpdatePersonContactInformationUnrestricted,
            Who::Unrestricted,
            &person,
            &|version| {
                Update::own(
                    &person,
                    version,
                    vec![entry("email", "obegransad@example.se", true)],
                )
            },
            &nothing,
        )
    })));
    cases.push(unrestricted(write(
        "update/Unrestricted/PR-2-invalid-protected",
        |x| {
            let person = x.options.protected.clone();
            x.refused(
                UpdatePersonContactInformationUnrestricted,
                Who::Unrestricted,
                &person,
                ("PROTECTED_PERSON", "PR-2"),
                &|version| Update::own(&person, version, vec![entry("sms", "+46701112254", true)]),
            )
        },
    )));
    // Last: everything removed (CO-2), which also leaves the update person as it began.
    cases.push(acceptance(
        "update/CO-2/valid-remove-all",
        |options, version| by_update_person(options, version, Vec::new()),
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
    fn protected_period_addresses_are_found_in_every_slot_by_element_path() {
        let record = crate::xml::parse(
            format!(
                "<p:personRecord xmlns:p=\"{CORE_NS}\" xmlns:r=\"{RESULT_NS}\"><p:populationRegistrationRecord><p:historicalRecords><p:historicalAddress><p:postalAddress2>Andra gatan 2</p:postalAddress2></p:historicalAddress><r:earlierAddress><p:postalAddress2>Skyddade stigen 7</p:postalAddress2></r:earlierAddress></p:historicalRecords></p:populationRegistrationRecord><p:addressInformation><p:residentialAddress><p:postalAddress1>Skyddade stigen 7</p:postalAddress1></p:residentialAddress></p:addressInformation></p:personRecord>"
            )
            .as_bytes(),
            crate::xml::Limits::ANSWERS,
        )
        .unwrap();
        assert_eq!(
            where_shown(&record, &["Skyddade stigen 7".to_owned()]),
            [
                "populationRegistrationRecord/historicalRecords/earlierAddress",
                "addressInformation/residentialAddress"
            ]
        );
        assert!(where_shown(&record, &["Mellangatan 5".to_owned()]).is_empty());
        let history = addresses(&record);
        assert_eq!(history.len(), 3);
        assert!(is_one_of(history[1], &["Skyddade stigen 7".to_owned()]));
    }

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
        // CO-2 refuses nothing: its valid case removes everything, and the removal that is
        // refused is refused by CO-3.
        for name in [
            "update/CO-2/valid-remove-all",
            "update/CO-3/invalid-stale-removal",
        ] {
            assert!(cases.iter().any(|c| c.name == name), "no case {name}");
        }
        let mut names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), cases.len(), "case names are unique");
    }
}
