//! Personal identifiers (ID-1, ID-2): personnummer, samordningsnummer and reserve identities.

use chrono::NaiveDate;
use std::fmt;

/// An identifier as a caller sent it (`IIType`: a `root` OID and an optional
/// `extension`), not yet checked; [`IdentifierPolicy::parse`] makes it a [`PersonId`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdInput {
    /// The OID naming the kind of identifier or its issuer.
    pub root: String,
    /// The identifier under that root.
    pub extension: Option<String>,
}

/// Root OID of a Swedish personnummer.
pub const ROOT_PERSONNUMMER: &str = "1.2.752.129.2.1.3.1";
/// Root OID of a samordningsnummer.
pub const ROOT_SAMORDNINGSNUMMER: &str = "1.2.752.129.2.1.3.3";
/// Root OID of the national reserve number.
pub const ROOT_NATIONAL_RESERVE: &str = "1.2.752.74.9.1";
/// Root OID of a professional's HSA-id.
pub(crate) const ROOT_HSA_ID: &str = "1.2.752.29.6.2.1";

/// A validated identifier of a person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersonId {
    /// 12-digit personnummer `YYYYMMDDNNNC`.
    Personnummer(String),
    /// 12-digit samordningsnummer (day of month + 60).
    Samordningsnummer(String),
    /// A reserve identity issued under `root`.
    Reserve {
        /// The issuer's OID.
        root: String,
        /// The identity as issued.
        extension: String,
    },
}

/// Why an identifier was refused; the text names what is wrong (ID-2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdProblem {
    /// The root OID is not a kind of person identifier this deployment knows.
    #[error("root \"{0}\" is not a known person-identifier OID (personnummer {ROOT_PERSONNUMMER}, samordningsnummer {ROOT_SAMORDNINGSNUMMER} or a configured reserve-number root)")]
    UnknownRoot(String),
    /// `extension` is missing or empty.
    #[error("extension is missing: the identifier itself must be given")]
    MissingExtension,
    /// Not exactly 12 ASCII digits.
    #[error("must be exactly 12 digits YYYYMMDDNNNC without separators (got {0} characters)")]
    NotTwelveDigits(usize),
    /// Contains something other than digits.
    #[error("must contain digits only (no '-', '+' or spaces)")]
    NotDigits,
    /// The birth date part is not a real calendar date (not echoed: it is personal data).
    #[error("the date part YYYYMMDD (for a samordningsnummer, with day + 60) is not a real calendar date")]
    BadDate,
    /// The Luhn check digit does not match.
    #[error("check digit {given} is wrong (expected {expected})")]
    BadCheckDigit {
        /// The last digit as sent.
        given: u8,
        /// The digit the Luhn algorithm gives.
        expected: u8,
    },
    /// The form says samordningsnummer but the root says personnummer.
    #[error("the day is a samordningsnummer's (day + 60) but the root is personnummer's {ROOT_PERSONNUMMER}; use {ROOT_SAMORDNINGSNUMMER}")]
    SamordningsnummerUnderPersonnummerRoot(u32),
    /// The form says personnummer but the root says samordningsnummer.
    #[error(
        "the day is a personnummer's but the root is samordningsnummer's {ROOT_SAMORDNINGSNUMMER} (whose day is the birth day + 60); use {ROOT_PERSONNUMMER}"
    )]
    PersonnummerUnderSamordningsRoot(u32),
    /// A reserve identity of the wrong shape.
    #[error("a reserve identity must be 1 to 64 characters of letters, digits and '-' (got {0:?} shape)")]
    BadReserveFormat(String),
}

/// Which reserve-number roots are accepted besides the national one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierPolicy {
    /// Root OIDs of reserve identities (national and regional).
    pub reserve_roots: Vec<String>,
}

impl Default for IdentifierPolicy {
    fn default() -> Self {
        Self {
            reserve_roots: vec![ROOT_NATIONAL_RESERVE.to_owned()],
        }
    }
}

impl IdentifierPolicy {
    /// Validates `root` + `extension` as a person identifier (ID-1, ID-2).
    pub fn parse(&self, root: &str, extension: Option<&str>) -> Result<PersonId, IdProblem> {
        let ext = extension
            .filter(|e| !e.is_empty())
            .ok_or(IdProblem::MissingExtension)?;
        match root {
            ROOT_PERSONNUMMER => {
                let day = check_twelve_digit_number(ext)?;
                if day > 60 {
                    return Err(IdProblem::SamordningsnummerUnderPersonnummerRoot(day));
                }
                Ok(PersonId::Personnummer(ext.to_owned()))
            }
            ROOT_SAMORDNINGSNUMMER => {
                let day = check_twelve_digit_number(ext)?;
                if day <= 60 {
                    return Err(IdProblem::PersonnummerUnderSamordningsRoot(day));
                }
                Ok(PersonId::Samordningsnummer(ext.to_owned()))
            }
            r if self.reserve_roots.iter().any(|known| known == r) => {
                check_reserve_format(ext)?;
                Ok(PersonId::Reserve {
                    root: r.to_owned(),
                    extension: ext.to_owned(),
                })
            }
            other => Err(IdProblem::UnknownRoot(other.to_owned())),
        }
    }

    /// Parses a 12-digit string, deciding personnummer or samordningsnummer by its day.
    pub fn parse_number(&self, number: &str) -> Result<PersonId, IdProblem> {
        let day = check_twelve_digit_number(number)?;
        let root = if day > 60 {
            ROOT_SAMORDNINGSNUMMER
        } else {
            ROOT_PERSONNUMMER
        };
        self.parse(root, Some(number))
    }
}

impl PersonId {
    /// The root OID this identifier carries in XML.
    pub fn root(&self) -> &str {
        match self {
            PersonId::Personnummer(_) => ROOT_PERSONNUMMER,
            PersonId::Samordningsnummer(_) => ROOT_SAMORDNINGSNUMMER,
            PersonId::Reserve { root, .. } => root,
        }
    }

    /// The identifier itself, as it stands in `extension`.
    pub fn extension(&self) -> &str {
        match self {
            PersonId::Personnummer(n) | PersonId::Samordningsnummer(n) => n,
            PersonId::Reserve { extension, .. } => extension,
        }
    }

    /// The birth date the number encodes (samordningsnummer: day − 60); none for reserve ids.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        match self {
            PersonId::Personnummer(n) => date_of(n, 0),
            PersonId::Samordningsnummer(n) => date_of(n, 60),
            PersonId::Reserve { .. } => None,
        }
    }

    /// A stable text key `root:extension` used by storage and the audit trail.
    pub fn key(&self) -> String {
        format!("{}:{}", self.root(), self.extension())
    }

    /// Rebuilds an identifier from a key this service stored (no re-validation).
    pub fn from_key(key: &str) -> Option<Self> {
        let (root, extension) = key.split_once(':')?;
        Some(match root {
            ROOT_PERSONNUMMER => PersonId::Personnummer(extension.to_owned()),
            ROOT_SAMORDNINGSNUMMER => PersonId::Samordningsnummer(extension.to_owned()),
            _ => PersonId::Reserve {
                root: root.to_owned(),
                extension: extension.to_owned(),
            },
        })
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// Checks form, date and Luhn digit of a 12-digit number; returns its day field.
fn check_twelve_digit_number(n: &str) -> Result<u32, IdProblem> {
    if !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdProblem::NotDigits);
    }
    if n.len() != 12 {
        return Err(IdProblem::NotTwelveDigits(n.chars().count()));
    }
    let day = digits(&n[6..8]);
    let offset = if day > 60 { 60 } else { 0 };
    if date_of(n, offset).is_none() {
        return Err(IdProblem::BadDate);
    }
    let expected = luhn_check_digit(&n[2..11]);
    let given = n.as_bytes()[11] - b'0';
    if given != expected {
        return Err(IdProblem::BadCheckDigit { given, expected });
    }
    Ok(day)
}

/// The birth date in `n` once `day_offset` is taken off the day; None when not a date.
fn date_of(n: &str, day_offset: u32) -> Option<NaiveDate> {
    let year = i32::try_from(digits(&n[0..4])).ok()?;
    let day = digits(&n[6..8]).checked_sub(day_offset)?;
    NaiveDate::from_ymd_opt(year, digits(&n[4..6]), day)
}

/// The value of a run of ASCII digits (caller has checked they are digits).
fn digits(s: &str) -> u32 {
    s.bytes().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
}

/// The Luhn check digit over `payload` (the 9 digits YYMMDDNNN).
pub fn luhn_check_digit(payload: &str) -> u8 {
    let sum: u32 = payload
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            if d > 9 {
                d - 9
            } else {
                d
            }
        })
        .sum();
    ((10 - (sum % 10)) % 10) as u8
}

/// Reserve identities differ per issuer; we accept a conservative common shape.
fn check_reserve_format(ext: &str) -> Result<(), IdProblem> {
    let ok = (1..=64).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(IdProblem::BadReserveFormat(shape_of(ext)))
    }
}

/// Describes a value's shape without echoing it (e.g. `AAA-999 ` → "AAA-999_").
fn shape_of(s: &str) -> String {
    s.chars()
        .take(70)
        .map(|c| match c {
            c if c.is_ascii_digit() => '9',
            c if c.is_alphabetic() => 'A',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> IdentifierPolicy {
        IdentifierPolicy::default()
    }

    #[test]
    fn id1_accepts_personnummer_samordningsnummer_and_reserve() {
        assert_eq!(
            policy().parse(ROOT_PERSONNUMMER, Some("191212121212")),
            Ok(PersonId::Personnummer("191212121212".into()))
        );
        assert_eq!(
            policy().parse(ROOT_SAMORDNINGSNUMMER, Some("197010632391")),
            Ok(PersonId::Samordningsnummer("197010632391".into()))
        );
        assert!(policy()
            .parse(ROOT_NATIONAL_RESERVE, Some("R12345-ABC"))
            .is_ok());
    }

    #[test]
    fn id1_birth_date_of_samordningsnummer_takes_off_sixty() {
        let id = policy()
            .parse(ROOT_SAMORDNINGSNUMMER, Some("197010632391"))
            .unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1970, 10, 3));
    }

    #[test]
    fn id2_rejects_bad_check_digit_date_form_and_root() {
        let p = policy();
        assert_eq!(
            p.parse(ROOT_PERSONNUMMER, Some("191212121213")),
            Err(IdProblem::BadCheckDigit {
                given: 3,
                expected: 2
            })
        );
        assert!(matches!(
            p.parse(ROOT_PERSONNUMMER, Some("19121312121x")),
            Err(IdProblem::NotDigits)
        ));
        assert!(matches!(
            p.parse(ROOT_PERSONNUMMER, Some("1912121212")),
            Err(IdProblem::NotTwelveDigits(10))
        ));
        assert!(matches!(
            p.parse(ROOT_PERSONNUMMER, Some("19120230121x")),
            Err(IdProblem::NotDigits)
        ));
        assert!(matches!(
            p.parse(ROOT_PERSONNUMMER, Some("191202301213")),
            Err(IdProblem::BadDate)
        ));
        assert!(matches!(
            p.parse(ROOT_PERSONNUMMER, Some("197010632391")),
            Err(IdProblem::SamordningsnummerUnderPersonnummerRoot(63))
        ));
        assert!(matches!(
            p.parse(ROOT_SAMORDNINGSNUMMER, Some("191212121212")),
            Err(IdProblem::PersonnummerUnderSamordningsRoot(12))
        ));
        assert!(matches!(
            p.parse("1.2.3", Some("191212121212")),
            Err(IdProblem::UnknownRoot(_))
        ));
        assert!(matches!(
            p.parse(ROOT_PERSONNUMMER, None),
            Err(IdProblem::MissingExtension)
        ));
        assert!(matches!(
            p.parse(ROOT_NATIONAL_RESERVE, Some("has space")),
            Err(IdProblem::BadReserveFormat(_))
        ));
    }

    #[test]
    fn id2_error_text_names_the_root_and_problem() {
        let e = policy()
            .parse(ROOT_SAMORDNINGSNUMMER, Some("191212121212"))
            .unwrap_err();
        assert!(e.to_string().contains(ROOT_SAMORDNINGSNUMMER), "{e}");
        let e = policy()
            .parse(ROOT_PERSONNUMMER, Some("191212121213"))
            .unwrap_err();
        assert_eq!(e.to_string(), "check digit 3 is wrong (expected 2)");
    }

    #[test]
    fn id2_leap_day_is_a_date_only_in_leap_years() {
        let p = policy();
        let ok = format!("20000229{}", "123");
        let ok = format!("{ok}{}", luhn_check_digit(&ok[2..11]));
        assert!(p.parse(ROOT_PERSONNUMMER, Some(&ok)).is_ok());
        let bad = format!("19000229{}", "123");
        let bad = format!("{bad}{}", luhn_check_digit(&bad[2..11]));
        assert!(matches!(
            p.parse(ROOT_PERSONNUMMER, Some(&bad)),
            Err(IdProblem::BadDate)
        ));
    }
}
