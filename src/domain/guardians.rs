//! Children and guardians (GU-1): whose contact information a message about a person should use.

use super::identifier::PersonId;
use super::person::Person;
use chrono::NaiveDate;

/// Below this age messages go to the guardians only.
pub(crate) const GUARDIANS_ONLY_BELOW: u32 = 13;
/// From this age the person's own contact information may be used.
pub(crate) const OWN_CONTACTS_FROM: u32 = 16;

/// Where a message about a person should be sent (GU-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContactRoute {
    /// 16 or older: the person's own contact information.
    Own,
    /// Under 13: each current guardian's own contact information, never the child's.
    Guardians(Vec<PersonId>),
    /// 13 to 15: the caller decides after a maturity assessment, between the child and these guardians.
    MaturityAssessment {
        /// The guardians that could be used instead.
        guardians: Vec<PersonId>,
    },
    /// Under 13 and no current guardian is known: nobody may be contacted through this service.
    NoCurrentGuardian,
    /// No birth date is known (some reserve identities): the caller must decide.
    AgeUnknown,
}

/// Decides whose contact information to use for a message about `person` on `today` (GU-1).
///
/// `register` holds the population records the caller could find; a guardian named on
/// the person but without a current record of their own is not used.
pub(crate) fn contact_route(
    person: &Person,
    today: NaiveDate,
    register: &[Person],
) -> ContactRoute {
    let Some(age) = person
        .effective_birth_date()
        .and_then(|born| today.years_since(born))
    else {
        return ContactRoute::AgeUnknown;
    };
    if age >= OWN_CONTACTS_FROM {
        return ContactRoute::Own;
    }
    let guardians = current_guardians(person, register);
    match (age < GUARDIANS_ONLY_BELOW, guardians.is_empty()) {
        (true, true) => ContactRoute::NoCurrentGuardian,
        (true, false) => ContactRoute::Guardians(guardians),
        (false, _) => ContactRoute::MaturityAssessment { guardians },
    }
}

/// The guardians listed on the person's current record that have a record of their own.
fn current_guardians(person: &Person, register: &[Person]) -> Vec<PersonId> {
    person
        .guardians
        .iter()
        .filter(|g| register.iter().any(|r| &r.id == *g))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::Name;
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
        }
    }

    const CHILD: &str = "201501012386"; // born 2015-01-01
    const MOTHER: &str = "198001012381";

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn gu1_under_13_uses_the_guardians_contact_information() {
        let child = person(CHILD, &[MOTHER]);
        let register = [person(MOTHER, &[])];
        assert_eq!(
            contact_route(&child, day(2027, 12, 31), &register),
            ContactRoute::Guardians(vec![PersonId::Personnummer(MOTHER.into())])
        );
    }

    #[test]
    fn gu1_13_to_15_needs_a_maturity_assessment_and_16_uses_own() {
        let child = person(CHILD, &[MOTHER]);
        let register = [person(MOTHER, &[])];
        assert!(matches!(
            contact_route(&child, day(2028, 1, 1), &register),
            ContactRoute::MaturityAssessment { .. }
        ));
        assert!(matches!(
            contact_route(&child, day(2030, 12, 31), &register),
            ContactRoute::MaturityAssessment { .. }
        ));
        assert_eq!(
            contact_route(&child, day(2031, 1, 1), &register),
            ContactRoute::Own
        );
    }

    #[test]
    fn gu1_guardianship_must_be_current() {
        let child = person(CHILD, &[MOTHER]);
        assert_eq!(
            contact_route(&child, day(2020, 1, 1), &[]),
            ContactRoute::NoCurrentGuardian
        );
        let reserve = Person {
            id: PersonId::Reserve {
                root: "1.2.752.74.9.1".into(),
                extension: "R1".into(),
            },
            ..person(CHILD, &[])
        };
        assert_eq!(
            contact_route(&reserve, day(2020, 1, 1), &[]),
            ContactRoute::AgeUnknown
        );
    }
}
