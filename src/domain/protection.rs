//! Protected persons (PR-1 … PR-5): flags, profiles and what each kind of access may see or do.

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
    /// The basic contracts: a protected person's contact information is neither given nor changed there (PR-2).
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

/// Whether contact information may be entered for this person (PR-2).
pub(crate) fn may_update_contacts(
    protection: Protection,
    access: Access,
    unrestricted_may_update_protected: bool,
) -> bool {
    !protection.is_protected()
        || (access == Access::Unrestricted && unrestricted_may_update_protected)
}

/// The two kinds of protection, for tests of the rules that use them.
#[cfg(test)]
pub(crate) mod examples {
    use super::Protection;

    /// Sekretessmarkering only.
    pub(crate) const PROTECTED: Protection = Protection {
        sekretessmarkering: true,
        skyddad_folkbokforing: false,
    };
    /// Skyddad folkbokföring only.
    pub(crate) const KVARSKRIVEN: Protection = Protection {
        sekretessmarkering: false,
        skyddad_folkbokforing: true,
    };
}

#[cfg(test)]
mod tests {
    use super::examples::{KVARSKRIVEN, PROTECTED};
    use super::*;

    #[test]
    fn either_flag_makes_a_person_protected() {
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
