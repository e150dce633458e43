//! Children and guardians (GU-1): whose contact information a message about a person should use.

use super::identifier::PersonId;
use super::person::Person;
use super::protection::Access;
use chrono::NaiveDate;

/// Below this age messages go to the guardians only.
const GUARDIANS_ONLY_BELOW: u32 = 13;
/// From this age the child is normally mature enough: its own contact information (the seed, F 7.3.1).
const OWN_CONTACTS_FROM: u32 = 15;
/// Age at which guardianship ends and messages go to the person alone.
const ADULT_FROM: u32 = 18;

/// Which route a message about a child takes (GU-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Under 13: each current guardian's own contact information, never the child's.
    Guardians,
    /// 13 and 14: the caller decides after a maturity assessment.
    MaturityAssessment,
    /// 15 to 17: the child's own contact information.
    OwnContacts,
}

impl Route {
    /// The value of `route` in the response.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Guardians => "guardians",
            Route::MaturityAssessment => "maturityAssessment",
            Route::OwnContacts => "self",
        }
    }
}

/// The route for one child on one day, with the guardians that may be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRoute {
    /// Whose contact information to use for this child.
    pub route: Route,
    /// Completed years on the day asked.
    pub age_years: u32,
    /// Current guardians who are neither protected nor deceased, in register order.
    pub guardians: Vec<PersonId>,
}

/// Whether a read of `child` through `access` gets a notification route on `today`: a
/// living person under 18 whose relationships may be shown (not a protected person on a
/// restricted contract, PR-3). Says whose records the route needs.
pub fn route_needed(child: &Person, today: NaiveDate, access: Access) -> Option<&[PersonId]> {
    let under_age = age_on(child, today).is_some_and(|age| age < ADULT_FROM);
    let relationships_visible = !(child.protection.is_protected() && access == Access::Restricted);
    (under_age && relationships_visible && !child.is_deceased())
        .then_some(child.guardians.as_slice())
}

/// Decides the route for `child` on `today`; `register` holds the records found for the
/// child's guardians. A guardian who is protected or deceased is never named, not even by
/// id; one without a record of their own is not current.
pub fn notification_route(
    child: &Person,
    today: NaiveDate,
    register: &[Person],
) -> Option<NotificationRoute> {
    let age = age_on(child, today).filter(|age| *age < ADULT_FROM)?;
    let route = match age {
        a if a < GUARDIANS_ONLY_BELOW => Route::Guardians,
        a if a < OWN_CONTACTS_FROM => Route::MaturityAssessment,
        _ => Route::OwnContacts,
    };
    let guardians = child
        .guardians
        .iter()
        .filter(|g| {
            register
                .iter()
                .any(|r| &r.id == *g && !r.protection.is_protected() && !r.is_deceased())
        })
        .cloned()
        .collect();
    Some(NotificationRoute {
        route,
        age_years: age,
        guardians,
    })
}

/// Completed years on `today`: a birthday counts from its day; one on 29 February counts
/// from 1 March in a year without one (chrono's `years_since`).
fn age_on(person: &Person, today: NaiveDate) -> Option<u32> {
    person
        .effective_birth_date()
        .and_then(|born| today.years_since(born))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::{Deregistration, DeregistrationReason, Name};
    use crate::domain::protection::Protection;

    fn person(id: &str, guardians: &[&str]) -> Person {
        Person {
            id: PersonId::Personnummer(id.into()),
            name: Name::default(),
            birth_date: None,
            address: None,
            protection: Protection::default(),
            test_indicator: true,
            guardians: guardians
                .iter()
                .map(|g| PersonId::Personnummer((*g).into()))
                .collect(),
            deregistration: None,
            register: Default::default(),
        }
    }

    const CHILD: &str = "201501012386"; // born 2015-01-01
    const MOTHER: &str = "198001012381";
    const FATHER: &str = "197802022395";

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn route(child: &Person, on: NaiveDate) -> Option<Route> {
        notification_route(child, on, &[person(MOTHER, &[])]).map(|r| r.route)
    }

    #[test]
    fn gu1_under_13_uses_the_guardians_contact_information() {
        let child = person(CHILD, &[MOTHER]);
        let r = notification_route(&child, day(2027, 12, 31), &[person(MOTHER, &[])]).unwrap();
        assert_eq!((r.route, r.age_years), (Route::Guardians, 12));
        assert_eq!(r.guardians, vec![PersonId::Personnummer(MOTHER.into())]);
    }

    #[test]
    fn gu1_birthdays_on_the_day_and_the_day_before() {
        let child = person(CHILD, &[MOTHER]);
        assert_eq!(route(&child, day(2027, 12, 31)), Some(Route::Guardians));
        assert_eq!(
            route(&child, day(2028, 1, 1)),
            Some(Route::MaturityAssessment)
        );
        assert_eq!(
            route(&child, day(2029, 12, 31)),
            Some(Route::MaturityAssessment)
        );
        assert_eq!(route(&child, day(2030, 1, 1)), Some(Route::OwnContacts));
        assert_eq!(route(&child, day(2032, 12, 31)), Some(Route::OwnContacts));
        assert_eq!(
            route(&child, day(2033, 1, 1)),
            None,
            "guardianship ends at 18"
        );
    }

    #[test]
    fn gu1_a_child_born_on_29_february_turns_13_on_1_march_in_a_common_year() {
        let leap = Person {
            birth_date: Some(day(2012, 2, 29)),
            ..person("201202292382", &[MOTHER])
        };
        assert_eq!(route(&leap, day(2025, 2, 28)), Some(Route::Guardians));
        assert_eq!(
            route(&leap, day(2025, 3, 1)),
            Some(Route::MaturityAssessment)
        );
        assert_eq!(route(&leap, day(2024, 2, 29)), Some(Route::Guardians));
        // Guardianship (P4's relationshipToDate) ends on the same day the age counts 18.
        assert_eq!(leap.adult_from(), Some(day(2030, 3, 1)));
        assert!(route(&leap, day(2030, 2, 28)).is_some());
        assert_eq!(route(&leap, day(2030, 3, 1)), None);
    }

    #[test]
    fn gu1_protected_deceased_or_unknown_guardians_are_never_named() {
        let child = person(CHILD, &[MOTHER, FATHER]);
        let protected = Person {
            protection: Protection {
                sekretessmarkering: true,
                skyddad_folkbokforing: false,
            },
            ..person(MOTHER, &[])
        };
        let dead = Person {
            deregistration: Some(Deregistration {
                reason: DeregistrationReason::Deceased,
                date: None,
            }),
            ..person(FATHER, &[])
        };
        let r = notification_route(&child, day(2020, 6, 1), &[protected, dead]).unwrap();
        assert!(r.guardians.is_empty(), "{r:?}");
        let r = notification_route(&child, day(2020, 6, 1), &[person(FATHER, &[])]).unwrap();
        assert_eq!(r.guardians, vec![PersonId::Personnummer(FATHER.into())]);
    }

    #[test]
    fn gu1_no_route_for_adults_unknown_ages_the_deceased_or_protected_children_on_restricted_contracts(
    ) {
        let child = person(CHILD, &[MOTHER]);
        assert!(route_needed(&child, day(2020, 1, 1), Access::Restricted).is_some());
        assert!(route_needed(&person(MOTHER, &[]), day(2020, 1, 1), Access::Restricted).is_none());
        let protected = Person {
            protection: Protection {
                sekretessmarkering: false,
                skyddad_folkbokforing: true,
            },
            ..child.clone()
        };
        assert!(route_needed(&protected, day(2020, 1, 1), Access::Restricted).is_none());
        assert!(route_needed(&protected, day(2020, 1, 1), Access::Unrestricted).is_some());
        let dead = Person {
            deregistration: Some(Deregistration {
                reason: DeregistrationReason::Deceased,
                date: None,
            }),
            ..child
        };
        assert!(route_needed(&dead, day(2020, 1, 1), Access::Restricted).is_none());
        let reserve = Person {
            id: PersonId::Reserve {
                root: "1.2.752.74.9.1".into(),
                extension: "R1".into(),
            },
            ..person(CHILD, &[])
        };
        assert!(notification_route(&reserve, day(2020, 1, 1), &[]).is_none());
    }
}
