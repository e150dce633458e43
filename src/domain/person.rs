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
    pub fn effective_birth_date(&self) -> Option<NaiveDate> {
        self.birth_date.or_else(|| self.id.birth_date())
    }
}
