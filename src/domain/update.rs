//! UpdatePersonContactInformation as rules: validate the request, then decide the new record.

use super::actor::{validate_actor, Actor, ActorInput};
use super::contact::{validate_contacts, ContactEntry, ContactInput, ContactRecord, Provenance};
use super::error::Violation;
use super::identifier::{IdInput, IdentifierPolicy, PersonId};
use super::person::Person;
use super::protection::{may_update_contacts, Access};
use super::version::Version;
use chrono::{DateTime, Utc};

/// An update as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateInput {
    pub(crate) actor: ActorInput,
    /// `personId` as sent: whose contact information the update replaces, not yet checked.
    pub(crate) person: IdInput,
    /// `versionToUpdate`.
    pub(crate) version_to_update: Option<String>,
    /// `contactInformation`, in order.
    pub contacts: Vec<ContactInput>,
    /// How many `contactPerson` elements were sent (CT-6).
    pub(crate) contact_person_count: usize,
    /// `optoutPaperNotification`.
    pub(crate) optout_paper_notification: Option<bool>,
}

/// An update that passed every rule that does not depend on stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedUpdate {
    /// Whose contact information is replaced.
    pub person: PersonId,
    /// Who gave the consent (CO-1): the person or a professional.
    pub(crate) actor: Actor,
    /// The version the caller read.
    pub(crate) version_to_update: Option<String>,
    /// The complete new contact set (CO-2: replaces what is stored).
    pub entries: Vec<ContactEntry>,
    /// The person-level opt-out of paper.
    pub(crate) optout_paper_notification: Option<bool>,
}

/// How the update arrived: which contract, and whether protected persons may be updated there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateAccess {
    /// Restricted or Unrestricted contract.
    pub(crate) access: Access,
    /// The deployment lets the Unrestricted contract update protected persons.
    pub(crate) unrestricted_may_update_protected: bool,
}

/// Checks identifier, CT-6, contacts, DN and actor: everything that needs no stored state.
pub fn validate_update(
    input: &UpdateInput,
    policy: &IdentifierPolicy,
) -> Result<ValidatedUpdate, Violation> {
    let person = policy
        .parse(&input.person.root, input.person.extension.as_deref())
        .map_err(|problem| Violation::InvalidPersonId {
            path: "personId".into(),
            problem,
        })?;
    let actor = validate_actor(&input.actor, &person, policy)?;
    if input.contact_person_count > 0 {
        return Err(Violation::ContactPersonNotAllowed { index: 1 });
    }
    let entries = validate_contacts(&input.contacts, input.optout_paper_notification)?;
    Ok(ValidatedUpdate {
        person,
        actor,
        version_to_update: input.version_to_update.clone(),
        entries,
        optout_paper_notification: input.optout_paper_notification,
    })
}

/// Decides the new stored record from the current state (ID-2, PR-2, CO-3); pure, so it can run inside a transaction.
pub(crate) fn apply_update(
    update: ValidatedUpdate,
    person: Option<&Person>,
    stored: Option<&ContactRecord>,
    access: UpdateAccess,
    consumer_hsa_id: &str,
    now: DateTime<Utc>,
) -> Result<ContactRecord, Violation> {
    let person = person.ok_or(Violation::PersonNotFound)?;
    if person.is_deceased() {
        return Err(Violation::PersonDeceased);
    }
    // PR-2/CO-2: removing everything withdraws consent, allowed for anyone, revealing nothing.
    let withdrawal = update.entries.is_empty() && update.optout_paper_notification != Some(true);
    if !withdrawal
        && !may_update_contacts(
            person.protection,
            access.access,
            access.unrestricted_may_update_protected,
        )
    {
        return Err(Violation::ProtectedPerson);
    }
    check_version(
        update.version_to_update.as_deref(),
        stored.map(|r| r.version),
    )?;
    let version = Version::next_after(stored.map(|r| r.version), now);
    Ok(ContactRecord {
        version,
        entries: update.entries,
        optout_paper_notification: update.optout_paper_notification,
        provenance: Provenance {
            actor: update.actor,
            update_time: version,
            consumer_hsa_id: consumer_hsa_id.to_owned(),
        },
    })
}

/// CO-3: `versionToUpdate` is the stored version, or both are absent. Compared as
/// versions, not as text: a value that is no version at all never matches.
fn check_version(given: Option<&str>, stored: Option<Version>) -> Result<(), Violation> {
    let matches = match (given, stored) {
        (None, None) => true,
        (Some(g), Some(s)) => Version::parse(g) == Some(s),
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(Violation::VersionConflict {
            given: given.map(str::to_owned),
            stored: stored.map(|v| v.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identifier::ROOT_PERSONNUMMER;
    use crate::domain::protection::Protection;
    use chrono::TimeZone;

    const PNR: &str = "191212121212";

    fn input(contacts: Vec<ContactInput>) -> UpdateInput {
        UpdateInput {
            actor: ActorInput {
                id_root: ROOT_PERSONNUMMER.into(),
                id_extension: Some(PNR.into()),
                organization: None,
            },
            person: IdInput {
                root: ROOT_PERSONNUMMER.into(),
                extension: Some(PNR.into()),
            },
            contacts,
            ..Default::default()
        }
    }

    fn sms() -> ContactInput {
        ContactInput {
            contact_type: "sms".into(),
            value: Some("+46701234567".into()),
            digital_notification: Some(true),
            ..Default::default()
        }
    }

    fn person(protection: Protection) -> Person {
        Person {
            protection,
            ..Person::example(PNR)
        }
    }

    const RESTRICTED: UpdateAccess = UpdateAccess {
        access: Access::Restricted,
        unrestricted_may_update_protected: false,
    };

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn co2_the_request_replaces_the_whole_set_and_an_empty_list_removes_everything() {
        let p = IdentifierPolicy::default();
        let first = apply_update(
            validate_update(&input(vec![sms()]), &p).unwrap(),
            Some(&person(Protection::default())),
            None,
            RESTRICTED,
            "SE1",
            now(),
        )
        .unwrap();
        assert_eq!(first.entries.len(), 1);
        let mut removal = input(vec![]);
        removal.version_to_update = Some(first.version.to_string());
        let second = apply_update(
            validate_update(&removal, &p).unwrap(),
            Some(&person(Protection::default())),
            Some(&first),
            RESTRICTED,
            "SE1",
            now(),
        )
        .unwrap();
        assert!(second.entries.is_empty());
        assert!(second.version > first.version);
    }

    #[test]
    fn co3_version_must_match_the_stored_one() {
        let p = IdentifierPolicy::default();
        let first = apply_update(
            validate_update(&input(vec![sms()]), &p).unwrap(),
            Some(&person(Protection::default())),
            None,
            RESTRICTED,
            "SE1",
            now(),
        )
        .unwrap();
        let stale = validate_update(&input(vec![sms()]), &p).unwrap();
        let err = apply_update(
            stale,
            Some(&person(Protection::default())),
            Some(&first),
            RESTRICTED,
            "SE1",
            now(),
        )
        .unwrap_err();
        assert_eq!(err.rule(), "CO-3");
        let mut wrong = input(vec![]);
        wrong.version_to_update = Some("20000101000000".into());
        let err = apply_update(
            validate_update(&wrong, &p).unwrap(),
            Some(&person(Protection::default())),
            None,
            RESTRICTED,
            "SE1",
            now(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Violation::VersionConflict { stored: None, .. }
        ));
    }

    #[test]
    fn pr2_protected_persons_get_no_contact_information() {
        let p = IdentifierPolicy::default();
        let protected = person(Protection {
            sekretessmarkering: false,
            skyddad_folkbokforing: true,
        });
        let err = apply_update(
            validate_update(&input(vec![sms()]), &p).unwrap(),
            Some(&protected),
            None,
            RESTRICTED,
            "SE1",
            now(),
        )
        .unwrap_err();
        assert_eq!(err, Violation::ProtectedPerson);
        let enabled = UpdateAccess {
            access: Access::Unrestricted,
            unrestricted_may_update_protected: true,
        };
        assert!(apply_update(
            validate_update(&input(vec![sms()]), &p).unwrap(),
            Some(&protected),
            None,
            enabled,
            "SE1",
            now()
        )
        .is_ok());
    }

    #[test]
    fn pr6_a_deceased_person_cannot_be_updated_not_even_to_remove_everything() {
        use crate::domain::person::{Deregistration, DeregistrationReason};
        let p = IdentifierPolicy::default();
        let died = Deregistration {
            reason: DeregistrationReason::Deceased,
            date: chrono::NaiveDate::from_ymd_opt(2026, 2, 1),
        };
        let deceased = Person {
            deregistration: Some(died),
            ..person(Protection::default())
        };
        for contacts in [vec![sms()], vec![]] {
            let err = apply_update(
                validate_update(&input(contacts), &p).unwrap(),
                Some(&deceased),
                None,
                RESTRICTED,
                "SE1",
                now(),
            )
            .unwrap_err();
            assert_eq!(err, Violation::PersonDeceased);
            assert_eq!(
                (err.code().as_str(), err.rule().as_str()),
                ("PERSON_DEREGISTERED", "PR-6")
            );
        }
        // Only death stops messages: an emigrated person keeps their contact information.
        let emigrated = Person {
            deregistration: Some(Deregistration {
                reason: DeregistrationReason::Emigrated,
                date: None,
            }),
            ..deceased
        };
        assert!(apply_update(
            validate_update(&input(vec![sms()]), &p).unwrap(),
            Some(&emigrated),
            None,
            RESTRICTED,
            "SE1",
            now()
        )
        .is_ok());
    }

    #[test]
    fn id2_unknown_person_is_not_found_and_bad_identifier_is_invalid() {
        let p = IdentifierPolicy::default();
        let err = apply_update(
            validate_update(&input(vec![sms()]), &p).unwrap(),
            None,
            None,
            RESTRICTED,
            "SE1",
            now(),
        )
        .unwrap_err();
        assert_eq!(err.code().as_str(), "PERSON_NOT_FOUND");
        let mut bad = input(vec![]);
        bad.person.extension = Some("191212121213".into());
        assert_eq!(
            validate_update(&bad, &p).unwrap_err().code().as_str(),
            "INVALID_PERSON_ID"
        );
    }

    #[test]
    fn ct6_contact_persons_are_rejected() {
        let mut with_contact_person = input(vec![sms()]);
        with_contact_person.contact_person_count = 1;
        let err = validate_update(&with_contact_person, &IdentifierPolicy::default()).unwrap_err();
        assert_eq!(err.code().as_str(), "CONTACT_PERSON_NOT_ALLOWED");
    }

    #[test]
    fn co1_provenance_records_actor_time_and_consumer() {
        let p = IdentifierPolicy::default();
        let rec = apply_update(
            validate_update(&input(vec![sms()]), &p).unwrap(),
            Some(&person(Protection::default())),
            None,
            RESTRICTED,
            "SE2321000016-SYS1",
            now(),
        )
        .unwrap();
        assert_eq!(rec.provenance.consumer_hsa_id, "SE2321000016-SYS1");
        assert_eq!(rec.provenance.update_time, rec.version);
        assert_eq!(
            rec.provenance.actor,
            Actor::Person(PersonId::Personnummer(PNR.into()))
        );
    }
}
