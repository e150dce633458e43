//! GetPersonsForProfile's cases and its Unrestricted variant's: the profiles P1–P5, the TKB
//! rules #1–#3, and PR-7 (what applied while a person was protected stays hidden after).

use super::{read, read_if_data_allows, require, unrestricted};
use crate::contract::Contract::{GetPersonsForProfile, GetPersonsForProfileUnrestricted};
use crate::contract::CORE_NS;
use crate::messages::*;
use crate::outcome::{Failure, Skip};
use crate::probe::{Case, CheckIfAllowed, Ctx};
use crate::xml::Element;
use crate::PersonId;

/// Why a requestedPersonRecord does not echo the asked id (rule #1).
fn echo_problem(rec: &Requested, which: &str) -> String {
    if rec.requested.is_some() {
        format!("{which}: requestedPersonalIdentity does not echo the asked id, in the asked order")
    } else {
        format!("{which}: no requestedPersonalIdentity in the core namespace {CORE_NS}")
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

/// GetPersonsForProfile's cases and its Unrestricted variant's, in run order.
pub(super) fn push(cases: &mut Vec<Case>) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::RESULT_NS;
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
}
