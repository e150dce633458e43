//! What a read may disclose of a person and when stored contact information must go:
//! the rules that need the whole person (protection, death, guardians), not only its flags.

use super::person::{Person, PostalAddress};
use super::protection::{effective_profile, Access, Profile};
use chrono::NaiveDate;

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

/// An earlier address a read may show (P5), with the days the import saw it apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownAddress<'a> {
    /// The address shown, borrowed from the person's register data.
    pub address: &'a PostalAddress,
    /// The day it began, when the import saw it begin and the address before it is shown too.
    pub from: Option<NaiveDate>,
    /// The last day it applied.
    pub until: NaiveDate,
}

/// The earlier addresses a read answering `profile` may show, newest first (P5).
///
/// PR-7: on a restricted contract an address that applied while the person was protected
/// never appears, however long ago the protection ended. Nor does the day it ended, as the
/// next newer address's beginning: a consumer must not learn where, or from when to when,
/// the person stayed while protected. The Unrestricted contracts show every address.
pub fn history_shown(person: &Person, profile: Profile, access: Access) -> Vec<ShownAddress<'_>> {
    if !profile.includes_history() {
        return Vec::new();
    }
    let history = &person.register.address_history;
    let shown = |i: usize| {
        history
            .get(i)
            .filter(|h| access == Access::Unrestricted || !h.applied_while_protected)
    };
    (0..history.len())
        .filter_map(|i| {
            shown(i).map(|h| ShownAddress {
                address: &h.address,
                from: shown(i + 1).map(|older| older.until),
                until: h.until,
            })
        })
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

    fn moved(before: &Person, street: &str, protection: Protection, day: u32) -> Person {
        let mut next = before.clone();
        next.address = Some(PostalAddress {
            street: Some(street.into()),
            ..PostalAddress::default()
        });
        next.protection = protection;
        next.register.address_history = Vec::new();
        next.register.address_applied_while_protected = false;
        next.with_history_from(before, NaiveDate::from_ymd_opt(2026, 1, day).unwrap())
    }

    fn streets(shown: &[ShownAddress<'_>]) -> Vec<String> {
        shown
            .iter()
            .map(|s| s.address.street.clone().unwrap_or_default())
            .collect()
    }

    // PR-7: an address held while protected never reappears on a restricted contract after
    // the lift, nor the day it ended; the Unrestricted contracts show all of it.
    #[test]
    fn pr7_an_address_held_while_protected_stays_hidden_after_the_protection_ends() {
        let open = Protection::default();
        let start = moved(&person(open, None), "Storgatan 1", open, 1);
        let second = moved(&start, "Kvarngatan 5", open, 2);
        let protected = moved(&second, "Hemliga vägen 2", PROTECTED, 3);
        let lifted = moved(&protected, "Nya gatan 3", open, 4);
        let restricted = history_shown(&lifted, Profile::P5, Access::Restricted);
        assert_eq!(streets(&restricted), ["Storgatan 1"]);
        assert_eq!(
            restricted[0].until,
            NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()
        );
        let unrestricted = history_shown(&lifted, Profile::P5, Access::Unrestricted);
        assert_eq!(
            streets(&unrestricted),
            ["Hemliga vägen 2", "Kvarngatan 5", "Storgatan 1"]
        );
        assert_eq!(
            unrestricted[0].from,
            Some(NaiveDate::from_ymd_opt(2026, 1, 3).unwrap())
        );
        // A later move: the address after the lift shows, without the day the hidden one ended.
        let later = moved(&lifted, "Sista torget 4", open, 5);
        let restricted = history_shown(&later, Profile::P5, Access::Restricted);
        assert_eq!(streets(&restricted), ["Nya gatan 3", "Storgatan 1"]);
        assert_eq!(
            restricted[0].from, None,
            "would reveal when the hidden address ended"
        );
        // Below P5 there is no history at all.
        assert!(history_shown(&later, Profile::P4, Access::Unrestricted).is_empty());
    }

    // PR-7: an address the person stayed at through a protected period is hidden too, even
    // when the protection ended before the move; so is the address a protection and a move
    // arrive with together (the register does not say which came first).
    #[test]
    fn pr7_an_address_kept_through_a_protected_period_is_hidden_once_it_is_history() {
        let open = Protection::default();
        let start = moved(&person(open, None), "Storgatan 1", open, 1);
        let mut protected = start.clone();
        protected.protection = KVARSKRIVEN;
        let protected =
            protected.with_history_from(&start, NaiveDate::from_ymd_opt(2026, 1, 2).unwrap());
        let mut lifted = protected.clone();
        lifted.protection = open;
        let lifted =
            lifted.with_history_from(&protected, NaiveDate::from_ymd_opt(2026, 1, 3).unwrap());
        assert!(lifted.register.address_applied_while_protected);
        // P2 after the lift is what the register gives: the same address, still current.
        assert_eq!(
            lifted.address.as_ref().and_then(|a| a.street.as_deref()),
            Some("Storgatan 1")
        );
        let away = moved(&lifted, "Nya gatan 3", open, 4);
        assert!(history_shown(&away, Profile::P5, Access::Restricted).is_empty());
        assert_eq!(
            streets(&history_shown(&away, Profile::P5, Access::Unrestricted)),
            ["Storgatan 1"]
        );
        let together = moved(&start, "Hemliga vägen 2", PROTECTED, 2);
        let lifted = moved(&together, "Nya gatan 3", open, 3);
        assert!(history_shown(&lifted, Profile::P5, Access::Restricted).is_empty());
    }

    // PR-7 (and PR-3): while protected, nothing from before shows on a restricted contract:
    // the answer is P1, no history, no contacts, and no GU-1 route.
    #[test]
    fn pr7_while_protected_nothing_from_before_shows_on_any_restricted_path() {
        let open = Protection::default();
        let start = moved(&person(open, None), "Storgatan 1", open, 1);
        let protected = moved(&start, "Hemliga vägen 2", PROTECTED, 2);
        let shown = disclosure(&protected, Profile::P5, Access::Restricted);
        assert_eq!(shown.profile, Profile::P1);
        assert!(!shown.contacts);
        assert!(history_shown(&protected, shown.profile, Access::Restricted).is_empty());
        let mut child = protected.clone();
        child.id = PersonId::Personnummer("201806051239".into());
        child.guardians = vec![PersonId::Personnummer("198503142385".into())];
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(crate::domain::route_needed(&child, today, Access::Restricted).is_none());
        assert!(crate::domain::route_needed(&child, today, Access::Unrestricted).is_some());
    }
}
