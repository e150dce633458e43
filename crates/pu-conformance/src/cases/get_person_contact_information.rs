//! GetPersonContactInformation's cases and its Unrestricted variant's: a known, an unknown
//! and a protected person (PR-3), and a child's notification route (GU-1).

use super::{read, require, unrestricted};
use crate::contract::Contract::{
    GetPersonContactInformation, GetPersonContactInformationUnrestricted,
};
use crate::contract::{CORE_NS, RESULT_NS};
use crate::messages::*;
use crate::outcome::{Seen, ROUTES};
use crate::probe::{expect_response, Case};

/// GetPersonContactInformation's cases and its Unrestricted variant's, in run order.
pub(super) fn push(cases: &mut Vec<Case>) {
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
}
