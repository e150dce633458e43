//! Why a line was rejected ([`LineError`]): texts that name the field and what a valid
//! value looks like, never the value itself.

use crate::domain::{DeregistrationReason, IdProblem, MaritalCode, Violation};

/// A field of a line, with its position when the field is an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    name: &'static str,
    index: Option<usize>,
}

impl Field {
    pub(super) const fn named(name: &'static str) -> Self {
        Field { name, index: None }
    }

    pub(super) const fn at(name: &'static str, index: usize) -> Self {
        Field {
            name,
            index: Some(index),
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.name),
            None => f.write_str(self.name),
        }
    }
}

/// Why a line of a population file was rejected; the text names the field (its JSON path)
/// and what a valid one looks like, never the value the line held: import errors are
/// printed and logged, and a rejected value is personal data. The source, where there is
/// one, may hold the value and is for code, never for a message.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The file could not be read at this line.
    #[error("unreadable line: {0}")]
    Unreadable(#[source] std::io::Error),
    /// Not JSON: a syntax error (its text gives a position, never the text there).
    #[error("not a valid record: {0}")]
    NotJson(#[source] serde_json::Error),
    /// JSON, but not a record of the import format: a missing or unknown field, a wrong type.
    #[error("{field}: {problem}")]
    NotARecord {
        /// The JSON path of the field, e.g. `postalAddress.postalCode`.
        field: String,
        /// What is wrong there.
        problem: RecordProblem,
        /// The parser's own error, which may quote the value.
        #[source]
        source: serde_json::Error,
    },
    /// An identifier that is malformed or of an unknown kind (ID-1, ID-2).
    #[error("{field}: {}", id_problem_text(problem))]
    Identifier {
        /// The field that held it, e.g. `referredIdentities[2]`.
        field: Field,
        /// What is wrong with it (its own text may quote the identifier).
        #[source]
        problem: IdProblem,
    },
    /// A reserve id among the referred identities.
    #[error(
        "{field}: must be a personnummer or samordningsnummer; reserve ids go in linkedIdentities"
    )]
    NotNational {
        /// The field that held it, e.g. `referredIdentities[2]`.
        field: Field,
    },
    /// A personnummer or samordningsnummer among the linked identities.
    #[error("{field}: must be a reserve identity; personnummer and samordningsnummer go in referredIdentities")]
    NotReserve {
        /// The field that held it, e.g. `linkedIdentities[1]`.
        field: Field,
    },
    /// A required text that is blank.
    #[error("{field}: must not be empty")]
    Empty {
        /// The blank field.
        field: Field,
    },
    /// A text longer than the published type allows.
    #[error("{field}: longer than {max} characters")]
    TooLong {
        /// The over-long field.
        field: Field,
        /// The published type's maximum, in characters (not bytes).
        max: usize,
    },
    /// A text with a control character, which XML 1.0 cannot carry.
    #[error("{field}: contains a control character")]
    ControlCharacter {
        /// The field holding the control character.
        field: Field,
    },
    /// Not a real calendar date in the form YYYY-MM-DD.
    #[error("{field}: must be a real date YYYY-MM-DD")]
    Date {
        /// The field holding the date.
        field: Field,
    },
    /// A postal code that is not five digits.
    #[error("postalAddress.postalCode: must be 5 digits without a space")]
    PostalCode,
    /// A gender that is not a register code.
    #[error("gender: not a register code (K or M)")]
    Gender,
    /// A citizenship that is not a country code.
    #[error("citizenship[{index}]: not an ISO 3166 alpha-2 code such as SE")]
    Country {
        /// Its position in the array.
        index: usize,
    },
    /// A deregistration reason that is not a register code.
    #[error("deregistration.reasonCode: not a population-register code ({codes})", codes = codes(DeregistrationReason::ALL.iter().map(|r| r.code())))]
    DeregistrationReason,
    /// A marital status that is not a register code.
    #[error("maritalStatus.code: not a register code ({codes})", codes = codes(MaritalCode::ALL.iter().map(|c| c.code())))]
    MaritalCode,
    /// Contact information that breaks a rule of an update; the text names the rule.
    #[error("{} (errorCode {code})", contact_problem_text(.0), code = .0.code().as_str())]
    Contact(#[source] Violation),
}

/// What is wrong with a field that did not fit the import format's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// A value of another JSON type than the field's.
    WrongType {
        /// What the field holds, e.g. "a string".
        expected: String,
    },
    /// A required field is missing.
    Missing(String),
    /// A field the import format does not have (the object's fields, as serde lists them).
    Unknown {
        /// The fields the object may have.
        fields: String,
    },
    /// A field given twice.
    Duplicate,
    /// An identifier neither a 12-digit string nor an object of root and extension.
    NotAnIdentifier,
    /// Any other misfit for the field's type (e.g. a number where text belongs).
    Invalid,
}

impl std::fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongType { expected } => write!(f, "wrong type, must be {expected}"),
            Self::Missing(name) => write!(f, "the required field {name} is missing"),
            Self::Unknown { fields } => {
                write!(f, "not a field of the import format here ({fields})")
            }
            Self::Duplicate => f.write_str("given twice"),
            Self::NotAnIdentifier => f.write_str(
                "must be a 12-digit personnummer or samordningsnummer string, or an object of root and extension",
            ),
            Self::Invalid => f.write_str("not a valid value for this field"),
        }
    }
}

impl RecordProblem {
    /// Reads serde's message for its kind only: the message itself may quote the value
    /// (`invalid type: string "…"`), so nothing of it is kept but names from the format.
    pub(super) fn of(error: &serde_json::Error) -> Self {
        let message = error.to_string();
        if let Some(rest) = message.strip_prefix("invalid type: ") {
            let expected = rest
                .rsplit_once(", expected ")
                .map(|(_, e)| e.split(" at line ").next().unwrap_or(e))
                .unwrap_or("another type");
            let expected = if expected.starts_with("struct ") {
                "an object"
            } else {
                expected
            };
            return Self::WrongType {
                expected: expected.to_owned(),
            };
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            return Self::Missing(rest.split('`').next().unwrap_or_default().to_owned());
        }
        if let Some(rest) = message.strip_prefix("unknown field `") {
            // "unknown field `x`, expected one of `a`, `b` at line …": only the list is kept.
            let listed = rest
                .split_once(", expected ")
                .map(|(_, e)| e.split(" at line ").next().unwrap_or(e))
                .unwrap_or("see docs/contract.md");
            return Self::Unknown {
                fields: listed.to_owned(),
            };
        }
        if message.starts_with("duplicate field `") {
            return Self::Duplicate;
        }
        if message.contains("untagged enum IdField") {
            return Self::NotAnIdentifier;
        }
        Self::Invalid
    }
}

/// An identifier's problem without the identifier: IdProblem's own text (made for the
/// caller of an update, who sent the value) may quote the root, the check digit or the shape.
fn id_problem_text(problem: &IdProblem) -> String {
    use crate::domain::identifier::{ROOT_PERSONNUMMER, ROOT_SAMORDNINGSNUMMER};
    match problem {
        IdProblem::UnknownRoot(_) => format!("root is not a known person-identifier OID (personnummer {ROOT_PERSONNUMMER}, samordningsnummer {ROOT_SAMORDNINGSNUMMER} or a configured reserve-number root)"),
        IdProblem::NotTwelveDigits(_) => "must be exactly 12 digits YYYYMMDDNNNC without separators".into(),
        IdProblem::BadCheckDigit { .. } => "the check digit (Luhn, over the last 10 digits) is wrong".into(),
        IdProblem::BadReserveFormat(_) => "a reserve identity must be 1 to 64 characters of letters, digits and '-'".into(),
        IdProblem::MissingExtension
        | IdProblem::NotDigits
        | IdProblem::BadDate
        | IdProblem::SamordningsnummerUnderPersonnummerRoot(_)
        | IdProblem::PersonnummerUnderSamordningsRoot(_) => problem.to_string(),
    }
}

/// A contact rule's refusal without the refused value, at the import's JSON path
/// (`contactInformation[0].value`) instead of the update's (`contactInformation[1]/value`).
fn contact_problem_text(violation: &Violation) -> String {
    let rule = violation.rule().as_str();
    match violation {
        Violation::ContactTypeNotAllowed { path, .. } => format!(
            "{}.contactType: not an allowed contact type; only sms and email exist [{rule}]",
            json_path(path)
        ),
        Violation::InvalidPhoneNumber { path, .. } => format!(
            "{}.value: not a telephone number in E.164 form: + then country code and subscriber number, digits only, e.g. +46701234567 [{rule}]",
            json_path(path)
        ),
        Violation::InvalidEmailAddress { path, .. } => format!(
            "{}.value: not one e-mail address local@domain (an RFC 5322 addr-spec of at most 254 characters) [{rule}]",
            json_path(path)
        ),
        Violation::InvalidPersonId { path, problem } => {
            format!("{}: {} [{rule}]", json_path(path), id_problem_text(problem))
        }
        Violation::ActorInvalid { path, .. } => format!(
            "{}: the actor must be the person themself [{rule}]",
            json_path(path)
        ),
        // Texts that quote nothing the line held: only their path is rewritten.
        Violation::PersonNotFound
        | Violation::ContactQualifierNotAllowed { .. }
        | Violation::TooManyContacts { .. }
        | Violation::ContactPersonNotAllowed { .. }
        | Violation::DigitalNotificationMissing { .. }
        | Violation::DigitalNotificationRequired
        | Violation::VersionConflict { .. }
        | Violation::ProtectedPerson
        | Violation::PersonDeceased => {
            let text = violation.to_string();
            match text.split_once(": ") {
                Some((path, rest)) => format!("{}: {rest}", json_path(path)),
                None => text,
            }
        }
    }
}

/// An update's element path (`contactInformation[1]/value`, 1-based) as the import's
/// JSON path (`contactInformation[0].value`, 0-based, as the other arrays of a line).
fn json_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.split_once(']') {
            Some((n, tail)) => {
                match n.parse::<usize>() {
                    Ok(i) => out.push_str(&format!("[{}]", i.saturating_sub(1))),
                    Err(_) => out.push_str(&format!("[{n}]")),
                }
                rest = tail;
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace('/', ".")
}

fn codes<'a>(all: impl Iterator<Item = &'a str>) -> String {
    all.collect::<Vec<_>>().join(", ")
}
