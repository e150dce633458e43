//! Protected persons (PR-1 … PR-5): flags, profiles and what each kind of access may see or do.

use super::person::Person;

/// The two protection flags; set only by the population register (PR-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Protection {
    /// Sekretessmarkering (`protectedPersonIndicator`).
    pub(crate) sekretessmarkering: bool,
    /// Skyddad folkbokföring, formerly kvarskrivning (`protectedPopulationRecord`).
    pub(crate) skyddad_folkbokforing: bool,
}

impl Protection {
    /// True when either flag is set.
    pub(crate) fn is_protected(self) -> bool {
        self.sekretessmarkering || self.skyddad_folkbokforing
    }
}

/// Whether a call came through a restricted contract or its `…Unrestricted` twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The basic contracts.
    Restricted,
    /// The `…Unrestricted` contracts, for explicitly configured consumers (PR-5).
    Unrestricted,
}

/// A lookup profile of GetPersonsForProfile (the contract description, chapter 8); each
/// contains the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Profile {
    /// Identity, flags, name, birth, linked and referred identities, deregistration.
    P1,
    /// P1 + the current address.
    P2,
    /// P2 + contact information, optoutPaperNotification and the contact actor.
    P3,
    /// P3 + relationships (legal guardians), gender, citizenship, marital status.
    P4,
    /// P4 + historical records (earlier addresses).
    P5,
}

/// A profile that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileProblem {
    /// P6–P10: named in the schema's enumeration, defined by no profile table.
    #[error("profile {0} is not defined by the contract description; use P1, P2, P3, P4 or P5")]
    Undefined(String),
    /// Not a profile name at all.
    #[error("profile \"{0}\" is not a profile; use P1, P2, P3, P4 or P5")]
    Unknown(String),
}

impl Profile {
    /// Reads a profile name.
    pub fn parse(s: &str) -> Result<Self, ProfileProblem> {
        match s {
            "P1" => Ok(Self::P1),
            "P2" => Ok(Self::P2),
            "P3" => Ok(Self::P3),
            "P4" => Ok(Self::P4),
            "P5" => Ok(Self::P5),
            "P6" | "P7" | "P8" | "P9" | "P10" => Err(ProfileProblem::Undefined(s.to_owned())),
            _ => Err(ProfileProblem::Unknown(s.to_owned())),
        }
    }

    /// The current address is shown.
    pub(crate) fn includes_address(self) -> bool {
        self >= Self::P2
    }

    /// Contact information, opt-out and actor are shown.
    pub(crate) fn includes_contacts(self) -> bool {
        self >= Self::P3
    }

    /// Relationships, gender, citizenship and marital status are shown.
    pub(crate) fn includes_relations(self) -> bool {
        self >= Self::P4
    }

    /// Historical records are shown.
    pub(crate) fn includes_history(self) -> bool {
        self >= Self::P5
    }
}

/// The profile actually returned: P1 for a protected person on a restricted contract (PR-3).
pub(crate) fn effective_profile(asked: Profile, protection: Protection, access: Access) -> Profile {
    if protection.is_protected() && access == Access::Restricted {
        Profile::P1
    } else {
        asked
    }
}

/// Whether stored contact information may be shown (PR-3, PR-4: withheld as soon as
/// protected; PR-6: never for a deceased person, on any contract).
pub(crate) fn may_show_contacts(person: &Person, access: Access) -> bool {
    !person.is_deceased() && (!person.protection.is_protected() || access == Access::Unrestricted)
}

/// What one read may disclose of a person: the profile answered and whether the stored
/// contact information and the guardians may be shown (PR-3, PR-4, PR-5, PR-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    /// The profile actually answered.
    pub(crate) profile: Profile,
    /// Stored contact information may be shown (when the profile includes it).
    pub contacts: bool,
    /// The person's guardians may be shown (P4; not for a protected person on a restricted
    /// contract, whose answer is P1).
    pub(crate) guardians: bool,
}

/// Decides what a read of `person` through `access`, asking for `asked`, may disclose.
pub fn disclosure(person: &Person, asked: Profile, access: Access) -> Disclosure {
    let profile = effective_profile(asked, person.protection, access);
    Disclosure {
        profile,
        contacts: profile.includes_contacts() && may_show_contacts(person, access),
        guardians: profile.includes_relations(),
    }
}

/// The guardians a P4 answer about `child` may name (GU-1: current, until 18; a protected
/// guardian never on a restricted contract).
pub fn guardians_shown<'a>(
    child: &Person,
    guardians: &'a [Person],
    access: Access,
    today: chrono::NaiveDate,
) -> Vec<&'a Person> {
    let current = child.adult_from().is_some_and(|adult| today < adult);
    guardians
        .iter()
        .filter(|g| current && child.guardians.contains(&g.id))
        .filter(|g| !g.protection.is_protected() || access == Access::Unrestricted)
        .collect()
}

/// Why stored contact information must be erased now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasure {
    /// The person became protected (PR-4): never used again, even when protection ends.
    Protected,
    /// The person died (PR-6): no messages go to the deceased.
    Deceased,
}

impl Erasure {
    /// The rule that demands it.
    pub fn rule(self) -> super::RuleId {
        match self {
            Erasure::Protected => super::RuleId::Pr4,
            Erasure::Deceased => super::RuleId::Pr6,
        }
    }
}

/// Whether population data like this forces any stored contact information to be erased.
pub fn erasure_due(person: &Person) -> Option<Erasure> {
    if person.is_deceased() {
        Some(Erasure::Deceased)
    } else if person.protection.is_protected() {
        Some(Erasure::Protected)
    } else {
        None
    }
}

/// Whether contact information may be entered for this person (PR-2).
pub(crate) fn may_update_contacts(
    protection: Protection,
    access: Access,
    unrestricted_may_update_protected: bool,
) -> bool {
    !protection.is_protected()
        || (access == Access::Unrestricted && unrestricted_may_update_protected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::{Deregistration, DeregistrationReason, Name};
    use crate::domain::PersonId;

    const PROTECTED: Protection = Protection {
        sekretessmarkering: true,
        skyddad_folkbokforing: false,
    };
    const KVARSKRIVEN: Protection = Protection {
        sekretessmarkering: false,
        skyddad_folkbokforing: true,
    };

    #[test]
    fn pr1_either_flag_makes_a_person_protected() {
        assert!(PROTECTED.is_protected());
        assert!(KVARSKRIVEN.is_protected());
        assert!(!Protection::default().is_protected());
    }

    #[test]
    fn pr3_restricted_contracts_give_p1_for_protected_persons() {
        assert_eq!(
            effective_profile(Profile::P3, PROTECTED, Access::Restricted),
            Profile::P1
        );
        assert_eq!(
            effective_profile(Profile::P2, KVARSKRIVEN, Access::Restricted),
            Profile::P1
        );
        assert_eq!(
            effective_profile(Profile::P3, Protection::default(), Access::Restricted),
            Profile::P3
        );
    }

    fn person(protection: Protection, deregistration: Option<DeregistrationReason>) -> Person {
        Person {
            id: PersonId::Personnummer("191212121212".into()),
            name: Name::default(),
            birth_date: None,
            address: None,
            protection,
            test_indicator: true,
            guardians: vec![],
            deregistration: deregistration.map(|reason| Deregistration { reason, date: None }),
            register: Default::default(),
        }
    }

    #[test]
    fn pr4_contacts_withheld_once_protected_unless_unrestricted() {
        assert!(!may_show_contacts(
            &person(PROTECTED, None),
            Access::Restricted
        ));
        assert!(may_show_contacts(
            &person(PROTECTED, None),
            Access::Unrestricted
        ));
        assert!(may_show_contacts(
            &person(Protection::default(), None),
            Access::Restricted
        ));
    }

    // PR-3: a protected guardian is never named on a restricted contract; GU-1: guardianship ends at 18.
    #[test]
    fn pr3_a_protected_guardian_is_left_out_of_the_relationships_on_restricted_contracts() {
        let mut child = person(Protection::default(), None);
        child.id = PersonId::Personnummer("201806051239".into());
        let mut mother = person(PROTECTED, None);
        mother.id = PersonId::Personnummer("198503142385".into());
        let mut father = person(Protection::default(), None);
        father.id = PersonId::Personnummer("198309214578".into());
        child.guardians = vec![mother.id.clone(), father.id.clone()];
        let both = [mother, father];
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let restricted: Vec<_> = guardians_shown(&child, &both, Access::Restricted, today)
            .iter()
            .map(|g| g.id.clone())
            .collect();
        assert_eq!(restricted, vec![both[1].id.clone()]);
        assert_eq!(
            guardians_shown(&child, &both, Access::Unrestricted, today).len(),
            2
        );
        let adult_day = chrono::NaiveDate::from_ymd_opt(2036, 6, 5).unwrap();
        assert!(guardians_shown(&child, &both, Access::Unrestricted, adult_day).is_empty());
    }

    #[test]
    fn pr4_becoming_protected_erases_and_pr6_dying_erases_too() {
        assert_eq!(
            erasure_due(&person(PROTECTED, None)),
            Some(Erasure::Protected)
        );
        assert_eq!(
            erasure_due(&person(KVARSKRIVEN, None)),
            Some(Erasure::Protected)
        );
        assert_eq!(
            erasure_due(&person(PROTECTED, Some(DeregistrationReason::Deceased))),
            Some(Erasure::Deceased)
        );
        assert_eq!(
            erasure_due(&person(
                Protection::default(),
                Some(DeregistrationReason::Emigrated)
            )),
            None
        );
        assert_eq!(erasure_due(&person(Protection::default(), None)), None);
        assert_eq!(
            (
                Erasure::Protected.rule().as_str(),
                Erasure::Deceased.rule().as_str()
            ),
            ("PR-4", "PR-6")
        );
    }

    #[test]
    fn pr6_a_deceased_persons_contacts_are_never_shown_on_any_contract() {
        let deceased = person(Protection::default(), Some(DeregistrationReason::Deceased));
        assert!(!may_show_contacts(&deceased, Access::Restricted));
        assert!(!may_show_contacts(&deceased, Access::Unrestricted));
        assert!(may_show_contacts(
            &person(Protection::default(), Some(DeregistrationReason::Emigrated)),
            Access::Restricted
        ));
        assert_eq!(
            DeregistrationReason::from_code("AV"),
            Some(DeregistrationReason::Deceased)
        );
        assert_eq!(DeregistrationReason::from_code("XX"), None);
    }

    #[test]
    fn pr5_unrestricted_access_returns_the_asked_profile() {
        assert_eq!(
            effective_profile(Profile::P3, PROTECTED, Access::Unrestricted),
            Profile::P3
        );
    }

    #[test]
    fn pr2_updates_of_protected_persons_are_refused_unless_explicitly_enabled() {
        assert!(!may_update_contacts(PROTECTED, Access::Restricted, true));
        assert!(!may_update_contacts(PROTECTED, Access::Unrestricted, false));
        assert!(may_update_contacts(PROTECTED, Access::Unrestricted, true));
        assert!(may_update_contacts(
            Protection::default(),
            Access::Restricted,
            false
        ));
    }

    #[test]
    fn profiles_p1_to_p5_are_served_and_p6_to_p10_are_undefined() {
        assert_eq!(Profile::parse("P3"), Ok(Profile::P3));
        assert_eq!(Profile::parse("P5"), Ok(Profile::P5));
        let undefined = Profile::parse("P6").unwrap_err();
        assert!(matches!(undefined, ProfileProblem::Undefined(_)));
        assert!(
            undefined.to_string().contains("P1, P2, P3, P4 or P5"),
            "{undefined}"
        );
        assert!(matches!(
            Profile::parse("p1"),
            Err(ProfileProblem::Unknown(_))
        ));
    }
}
