//! The fault cases: requests every contract must refuse with a soap:Client Fault (HTTP 500,
//! a log id, no personal data of the request), and PR-5's refusal of a plain consumer.

use super::{read, require, unrestricted};
use crate::contract::Contract::{
    GetPersonContactInformation, GetPersonsForProfile, GetPersonsForProfileUnrestricted,
    UpdatePersonContactInformation,
};
use crate::messages::*;
use crate::outcome::Failure;
use crate::probe::{expect_client_fault, Case, Ctx};

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

/// The fault cases, in run order.
pub(super) fn push(cases: &mut Vec<Case>) {
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
}
