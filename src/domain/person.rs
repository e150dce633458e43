//! A person's population-register data (name, address, protection, guardians).

use super::identifier::PersonId;
use super::protection::Protection;
use chrono::NaiveDate;

/// A person as the population register describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The identifier the register files the person under; the store's key.
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
    /// The rest of the register data the profiles show (P1 identities, P4, P5).
    pub register: RegisterData,
}

/// Register data beyond name, address and protection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterData {
    /// Gender (P4).
    pub gender: Option<Gender>,
    /// Citizenships (P4).
    pub citizenship: Vec<CountryCode>,
    /// Marital status (P4).
    pub marital_status: Option<MaritalStatus>,
    /// Earlier or later personnummer/samordningsnummer of this person (P1, contract rule #2).
    pub referred: Vec<PersonId>,
    /// Reserve identities linked to this person (P1, contract rule #2).
    pub linked: Vec<PersonId>,
    /// Earlier addresses, newest first, with the day each stopped applying (P5).
    pub address_history: Vec<HistoricalAddress>,
    /// The current address has applied while the person was protected (PR-7): once it
    /// becomes history, restricted contracts never show it.
    pub address_applied_while_protected: bool,
}

/// The register's gender code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    /// `K` (kvinna).
    Female,
    /// `M` (man).
    Male,
}

impl Gender {
    /// The register's one-letter code, `K` or `M`.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Female => "K",
            Gender::Male => "M",
        }
    }

    /// Reads a register code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Gender::Female, Gender::Male]
            .into_iter()
            .find(|g| g.code() == code)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case (`SE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    /// Two ASCII capital letters.
    pub fn parse(code: &str) -> Option<Self> {
        (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
            .then(|| Self(code.to_owned()))
    }

    /// The code as registered, e.g. `SE`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Civilstånd with the day it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaritalStatus {
    /// The register's code.
    pub code: MaritalCode,
    /// From when, if known.
    pub date: Option<NaiveDate>,
}

/// The register's marital status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaritalCode {
    /// `OG` ogift.
    Unmarried,
    /// `G` gift.
    Married,
    /// `S` skild.
    Divorced,
    /// `Ä` änka/änkling.
    Widowed,
    /// `RP` registrerad partner.
    RegisteredPartner,
    /// `SP` skild partner.
    DivorcedPartner,
    /// `EP` efterlevande partner.
    SurvivingPartner,
}

impl MaritalCode {
    /// Every code, for error texts.
    pub const ALL: [Self; 7] = [
        Self::Unmarried,
        Self::Married,
        Self::Divorced,
        Self::Widowed,
        Self::RegisteredPartner,
        Self::DivorcedPartner,
        Self::SurvivingPartner,
    ];

    /// The register's code, e.g. `OG` or `RP`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unmarried => "OG",
            Self::Married => "G",
            Self::Divorced => "S",
            Self::Widowed => "Ä",
            Self::RegisteredPartner => "RP",
            Self::DivorcedPartner => "SP",
            Self::SurvivingPartner => "EP",
        }
    }

    /// Reads a register code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// An address the person had before, and the day it stopped applying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalAddress {
    /// The address that applied until `until`.
    pub address: PostalAddress,
    /// The last day it applied.
    pub until: NaiveDate,
    /// It applied while either protection flag was set (PR-7): restricted contracts never
    /// show it.
    pub applied_while_protected: bool,
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

/// A person's name as the population register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    /// Given name(s).
    pub given: String,
    /// Middle name, if any.
    pub middle: Option<String>,
    /// Surname (efternamn) as registered.
    pub surname: String,
}

/// A Swedish postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostalAddress {
    /// `c/o` line, when mail goes care of someone else.
    pub care_of: Option<String>,
    /// Street and number (utdelningsadress).
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

    /// New population data for a person who had `previous`: an address that changed is kept
    /// as history (P5), newest first, ending `today`, marked when it applied while the
    /// person was protected (PR-7).
    ///
    /// The register tells only the state at each import, not the order of a move and a
    /// change of protection between two imports. An address is therefore marked when the
    /// person was protected at any import that saw it, or at the import that ended it: a
    /// move and a new protection seen together may mean the old address was where the
    /// person was threatened, and hiding too much costs less than revealing it.
    pub fn with_history_from(mut self, previous: &Person, today: NaiveDate) -> Person {
        let protected_now = self.protection.is_protected();
        let previous_marked =
            previous.register.address_applied_while_protected || previous.protection.is_protected();
        let mut history = previous.register.address_history.clone();
        let moved = previous
            .address
            .as_ref()
            .filter(|old| self.address.as_ref() != Some(*old));
        if let Some(old) = moved {
            history.insert(
                0,
                HistoricalAddress {
                    address: old.clone(),
                    until: today,
                    applied_while_protected: previous_marked || protected_now,
                },
            );
            self.register.address_applied_while_protected = protected_now;
        } else {
            // The same address (or none before): it carries what it has seen.
            self.register.address_applied_while_protected =
                protected_now || (previous.address.is_some() && previous_marked);
        }
        self.register.address_history = history;
        self
    }

    /// The 18th birthday, when guardianship ends (GU-1).
    pub fn adult_from(&self) -> Option<NaiveDate> {
        use chrono::Datelike;
        // The day years_since counts 18 complete years: 29 February becomes 1 March.
        self.effective_birth_date().and_then(|born| {
            NaiveDate::from_ymd_opt(born.year() + 18, born.month(), born.day())
                .or_else(|| NaiveDate::from_ymd_opt(born.year() + 18, 3, 1))
        })
    }

    /// A test person with this personnummer and nothing else set.
    #[cfg(test)]
    pub(crate) fn example(personnummer: &str) -> Person {
        Person {
            id: PersonId::Personnummer(personnummer.into()),
            name: Name::default(),
            birth_date: None,
            address: None,
            protection: Protection::default(),
            test_indicator: true,
            guardians: vec![],
            deregistration: None,
            register: RegisterData::default(),
        }
    }

    /// Deregistered as deceased (`AV`): no messages go to this person (PR-6).
    pub(crate) fn is_deceased(&self) -> bool {
        self.deregistration
            .is_some_and(|d| d.reason == DeregistrationReason::Deceased)
    }
}
