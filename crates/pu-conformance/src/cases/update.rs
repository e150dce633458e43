//! UpdatePersonContactInformation's cases and its Unrestricted variant's: each rule with a
//! valid and an invalid case, judged by the answer and by what is stored after.

use super::{read, require, unrestricted, write};
use crate::contract::Contract::{
    GetPersonsForProfile, UpdatePersonContactInformation,
    UpdatePersonContactInformationUnrestricted,
};
use crate::contract::CORE_NS;
use crate::messages::*;
use crate::outcome::{Failure, Seen, DEREGISTRATION_REASONS};
use crate::probe::Case;
use crate::xml::Element;
use crate::{Options, PersonId};

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

/// UpdatePersonContactInformation's cases and its Unrestricted variant's, in run order.
pub(super) fn push(cases: &mut Vec<Case>) {
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
}
