//! What a read may disclose of a person and when stored contact information must go:
//! the rules that need the whole person (protection, death, guardians), not only its flags.

use super::person::Person;
use super::protection::{effective_profile, Access, Profile};

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
    // In the register's order, each guardian once, whatever order the records came in.
    child
        .guardians
        .iter()
        .filter(|_| current)
        .filter_map(|id| guardians.iter().find(|g| &g.id == id))
        .filter(|g| !g.is_deceased())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::{Deregistration, DeregistrationReason};
    use crate::domain::protection::examples::{KVARSKRIVEN, PROTECTED};
    use crate::domain::protection::Protection;
    use crate::domain::PersonId;

    fn person(protection: Protection, deregistration: Option<DeregistrationReason>) -> Person {
        Person {
            protection,
            deregistration: deregistration.map(|reason| Deregistration { reason, date: None }),
            ..Person::example("191212121212")
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
}
