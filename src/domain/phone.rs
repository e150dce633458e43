//! Telephone numbers (CT-4): ITU-T E.164, checked against libphonenumber's metadata.

use std::fmt;

/// A telephone number in E.164 form, e.g. `+46701234567`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

/// Why a value is not an acceptable telephone number (CT-4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneProblem {
    /// Empty value.
    #[error("is empty: an sms entry needs a telephone number in E.164 form, e.g. +46701234567")]
    Empty,
    /// National form with a leading 0 (the E.164 form is suggested).
    #[error("\"{given}\" is not E.164 (must start with + and a country code, e.g. {suggestion})")]
    NationalForm {
        /// The value as sent.
        given: String,
        /// The same number in E.164 form, assuming Sweden.
        suggestion: String,
    },
    /// International prefix 00 instead of +.
    #[error("\"{given}\" uses the 00 prefix; E.164 writes it with + (e.g. {suggestion})")]
    DoubleZeroPrefix {
        /// The value as sent.
        given: String,
        /// The same number with +.
        suggestion: String,
    },
    /// Spaces, dashes, brackets or dots between the digits.
    #[error("\"{given}\" contains separators; E.164 is + and digits only (e.g. {suggestion})")]
    Separators {
        /// The value as sent.
        given: String,
        /// The digits without separators.
        suggestion: String,
    },
    /// Anything else that is not `+` followed by digits.
    #[error("\"{0}\" is not E.164: must be + followed by the country code and subscriber number, digits only")]
    NotE164(String),
    /// More than 15 digits.
    #[error("\"{0}\" has more than 15 digits, the E.164 maximum")]
    TooLong(String),
    /// The country code does not exist.
    #[error("\"{0}\" does not start with an assigned country code")]
    UnknownCountryCode(String),
    /// A possible number, but not written in its canonical E.164 form (a national trunk
    /// prefix kept after the country code, `+460701234567`).
    #[error("\"{given}\" is not the number's canonical E.164 form (a national trunk prefix 0 does not follow the country code): send {canonical}")]
    NotCanonical {
        /// The value as sent.
        given: String,
        /// The E.164 formatting of the same number, itself valid.
        canonical: String,
    },
    /// Well-formed but not a number that can exist in that country's numbering plan.
    #[error("\"{0}\" is not a possible number in the numbering plan of country code +{1}")]
    NotPossibleForCountry(String, u16),
}

impl PhoneNumber {
    /// Checks `value` against E.164 and the country's numbering plan (CT-4).
    pub fn parse(value: &str) -> Result<Self, PhoneProblem> {
        if value.is_empty() {
            return Err(PhoneProblem::Empty);
        }
        check_e164_syntax(value)?;
        // One parse serves both checks: libphonenumber's parse is the costly step of an
        // import line's contact information.
        let parsed = parse_number(value)?;
        check_numbering_plan(value, &parsed)?;
        check_canonical(value, &parsed)?;
        Ok(Self(value.to_owned()))
    }

    /// A value read back from our own storage, which only ever held validated values.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }

    /// The number as stored and sent: `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `+`, a non-zero first digit, at most 15 digits; explains the usual mistakes.
fn check_e164_syntax(value: &str) -> Result<(), PhoneProblem> {
    let given = || value.to_owned();
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{a0}'))
        .collect();
    if compact != value && is_plain_e164(&compact) {
        return Err(PhoneProblem::Separators {
            given: given(),
            suggestion: suggestion(compact),
        });
    }
    if let Some(rest) = value.strip_prefix("00") {
        if all_digits(rest) && !rest.is_empty() {
            return Err(PhoneProblem::DoubleZeroPrefix {
                given: given(),
                suggestion: suggestion(format!("+{rest}")),
            });
        }
    }
    if let Some(rest) = compact.strip_prefix('0') {
        if all_digits(rest) && !rest.starts_with('0') && !rest.is_empty() {
            return Err(PhoneProblem::NationalForm {
                given: given(),
                suggestion: suggestion(format!("+46{rest}")),
            });
        }
    }
    let Some(digits) = value.strip_prefix('+') else {
        return Err(PhoneProblem::NotE164(given()));
    };
    if !all_digits(digits) || digits.is_empty() || digits.starts_with('0') {
        return Err(PhoneProblem::NotE164(given()));
    }
    if digits.len() > 15 {
        return Err(PhoneProblem::TooLong(given()));
    }
    Ok(())
}

fn parse_number(value: &str) -> Result<phonenumber::PhoneNumber, PhoneProblem> {
    phonenumber::parse(None, value).map_err(|_| PhoneProblem::UnknownCountryCode(value.to_owned()))
}

/// Beyond syntax: is this a number that can exist in its country (libphonenumber metadata)?
fn check_numbering_plan(
    value: &str,
    parsed: &phonenumber::PhoneNumber,
) -> Result<(), PhoneProblem> {
    if phonenumber::is_valid(parsed) {
        return Ok(());
    }
    if parsed.country().id().is_none() {
        return Err(PhoneProblem::UnknownCountryCode(value.to_owned()));
    }
    Err(PhoneProblem::NotPossibleForCountry(
        value.to_owned(),
        parsed.code().value(),
    ))
}

/// The value must equal its number's E.164 formatting: `+460701234567` parses as the same
/// number as `+46701234567`, but only the second is E.164.
fn check_canonical(value: &str, parsed: &phonenumber::PhoneNumber) -> Result<(), PhoneProblem> {
    let canonical = phonenumber::format(parsed)
        .mode(phonenumber::Mode::E164)
        .to_string();
    if canonical == value {
        Ok(())
    } else if passes(&canonical) {
        Err(PhoneProblem::NotCanonical {
            given: value.to_owned(),
            canonical,
        })
    } else {
        Err(PhoneProblem::NotE164(value.to_owned()))
    }
}

/// A suggestion is only made when it would itself be accepted.
fn passes(candidate: &str) -> bool {
    check_e164_syntax(candidate).is_ok()
        && parse_number(candidate).is_ok_and(|p| {
            check_numbering_plan(candidate, &p).is_ok()
                && phonenumber::format(&p)
                    .mode(phonenumber::Mode::E164)
                    .to_string()
                    == candidate
        })
}

/// `candidate` when it would pass, else a valid example.
fn suggestion(candidate: String) -> String {
    if passes(&candidate) {
        candidate
    } else {
        EXAMPLE.to_owned()
    }
}

/// A number that passes every check, for error texts.
const EXAMPLE: &str = "+46701234567";

fn is_plain_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| all_digits(d) && !d.is_empty() && d.len() <= 15)
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct4_accepts_e164_mobile_and_fixed_numbers() {
        for n in [
            "+46701234567",
            "+46812345678",
            "+4520123456",
            "+447911123456",
            "+12025550123",
        ] {
            assert!(
                PhoneNumber::parse(n).is_ok(),
                "{n}: {:?}",
                PhoneNumber::parse(n)
            );
        }
    }

    #[test]
    fn ct4_a_trunk_zero_after_the_country_code_is_refused_with_the_canonical_form() {
        let e = PhoneNumber::parse("+460701234567").unwrap_err();
        assert_eq!(
            e,
            PhoneProblem::NotCanonical {
                given: "+460701234567".into(),
                canonical: "+46701234567".into()
            }
        );
        assert!(PhoneNumber::parse("+46701234567").is_ok());
        assert!(e.to_string().contains("send +46701234567"), "{e}");
    }

    proptest::proptest! {
        // CT-4: whatever is sent, a number an error text suggests is itself accepted.
        #[test]
        fn ct4_every_suggestion_an_error_makes_passes(value in "(\\+|00|0)?[0-9 ()-]{0,16}") {
            if let Err(problem) = PhoneNumber::parse(&value) {
                let suggested = match &problem {
                    PhoneProblem::NationalForm { suggestion, .. }
                    | PhoneProblem::DoubleZeroPrefix { suggestion, .. }
                    | PhoneProblem::Separators { suggestion, .. } => Some(suggestion.clone()),
                    PhoneProblem::NotCanonical { canonical, .. } => Some(canonical.clone()),
                    _ => None,
                };
                if let Some(s) = suggested {
                    proptest::prop_assert!(PhoneNumber::parse(&s).is_ok(), "{value:?} suggested {s:?}: {:?}", PhoneNumber::parse(&s));
                }
            }
        }
    }

    #[test]
    fn ct4_rejects_national_form_and_suggests_e164() {
        let e = PhoneNumber::parse("0701234567").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"0701234567\" is not E.164 (must start with + and a country code, e.g. +46701234567)"
        );
    }

    #[test]
    fn ct4_rejects_00_prefix_separators_letters_and_length() {
        assert!(matches!(
            PhoneNumber::parse("0046701234567"),
            Err(PhoneProblem::DoubleZeroPrefix { .. })
        ));
        assert!(matches!(
            PhoneNumber::parse("+46 70 123 45 67"),
            Err(PhoneProblem::Separators { .. })
        ));
        assert!(matches!(
            PhoneNumber::parse("+46-70-1234567"),
            Err(PhoneProblem::Separators { .. })
        ));
        assert!(matches!(
            PhoneNumber::parse("+46abc"),
            Err(PhoneProblem::NotE164(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("46701234567"),
            Err(PhoneProblem::NotE164(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+4670123456789012"),
            Err(PhoneProblem::TooLong(_))
        ));
        assert!(matches!(PhoneNumber::parse(""), Err(PhoneProblem::Empty)));
        assert!(matches!(
            PhoneNumber::parse("+0701234567"),
            Err(PhoneProblem::NotE164(_))
        ));
    }

    #[test]
    fn ct4_rejects_numbers_impossible_in_their_country() {
        assert!(PhoneNumber::parse("+4612").is_err());
        assert!(PhoneNumber::parse("+999123456789").is_err());
    }
}
