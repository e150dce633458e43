//! A person's population-register data (name, address, protection, guardians).

use super::identifier::PersonId;
use super::protection::Protection;
use chrono::NaiveDate;

/// A person as the population register describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The person's identifier.
    pub id: PersonId,
    /// Given, middle and surname.
    pub name: Name,
    /// Birth date, from the register or derived from the identifier.
    pub birth_date: Option<NaiveDate>,
    /// Postal address (profile P2 and up).
    pub address: Option<PostalAddress>,
    /// Sekretessmarkering and skyddad folkbokföring (PR-1).
    pub protection: Protection,
    /// True for test persons.
    pub test_indicator: bool,
    /// Current legal guardians (vårdnadshavare), from the register (GU-1).
    pub guardians: Vec<PersonId>,
    /// Avregistrering from the population register (death, emigration, …), if any (PR-6).
    pub deregistration: Option<Deregistration>,
}

/// A deregistration (avregistrering) as the population register records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deregistration {
    /// Why the person was deregistered.
    pub(crate) reason: DeregistrationReason,
    /// From when, if the register says.
    pub(crate) date: Option<NaiveDate>,
}

/// The population register's deregistration reason codes (avregistreringsorsak).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeregistrationReason {
    /// `AV`: avliden (deceased).
    Deceased,
    /// `UV`: utvandrad (emigrated).
    Emigrated,
    /// `OB`: obefintlig (missing from the register's view).
    Missing,
    /// `GN`: gammalt nummer (replaced by a new personnummer).
    OldNumber,
    /// `GS`: gammalt samordningsnummer (replaced).
    OldCoordinationNumber,
    /// `AN`: annan anledning (other reason).
    Other,
    /// `TA`: tekniskt avregistrerad (samordningsnummer, technical).
    Technical,
}

impl DeregistrationReason {
    /// Every code, for error texts.
    pub(crate) const ALL: [Self; 7] = [
        Self::Deceased,
        Self::Emigrated,
        Self::Missing,
        Self::OldNumber,
        Self::OldCoordinationNumber,
        Self::Other,
        Self::Technical,
    ];

    /// The register's two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Deceased => "AV",
            Self::Emigrated => "UV",
            Self::Missing => "OB",
            Self::OldNumber => "GN",
            Self::OldCoordinationNumber => "GS",
            Self::Other => "AN",
            Self::Technical => "TA",
        }
    }

    /// Reads a register code; `None` for a code the register does not use.
    pub(crate) fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// A person's name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    /// Given name(s).
    pub given: String,
    /// Middle name, if any.
    pub middle: Option<String>,
    /// Surname.
    pub surname: String,
}

/// A Swedish postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostalAddress {
    /// c/o line.
    pub care_of: Option<String>,
    /// Street address.
    pub street: Option<String>,
    /// Five-digit postal code.
    pub postal_code: Option<String>,
    /// Post town.
    pub city: Option<String>,
}

impl Person {
    /// The birth date: the register's, else the one the identifier encodes.
    pub(crate) fn effective_birth_date(&self) -> Option<NaiveDate> {
        self.birth_date.or_else(|| self.id.birth_date())
    }

    /// Deregistered as deceased (`AV`): no messages go to this person (PR-6).
    pub(crate) fn is_deceased(&self) -> bool {
        self.deregistration
            .is_some_and(|d| d.reason == DeregistrationReason::Deceased)
    }
}
