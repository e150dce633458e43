//! Population import (`pu-adapter import FILE`): JSON Lines of population-register data.
//! A line for an existing person replaces their population data, never their contact
//! information, unless the line carries contact information itself (seeding a staging
//! store): that is checked by exactly the rules of an update, and a line that breaks one
//! is rejected whole, naming the rule.

use crate::audit::{AuditEntry, Caller, Source};
use crate::domain::update::{apply_update, validate_update, ValidatedUpdate};
use crate::domain::{
    Access, ActorInput, ContactInput, ContactRecord, Qualifiers, UpdateAccess, UpdateInput,
    Violation,
};
use crate::domain::{
    CountryCode, Deregistration, DeregistrationReason, Gender, IdProblem, IdentifierPolicy,
    MaritalCode, MaritalStatus, Name, Person, PersonId, PostalAddress, Protection, RegisterData,
};
use crate::store::{
    ContactUpdate, PersonStore, Replaced, Scrubbed, StoreError, Upserted, IMPORT_CONSUMER,
};
use chrono::NaiveDate;
use serde::Deserialize;
use std::io::BufRead;

/// Persons written per transaction.
const BATCH: usize = 5_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Line {
    person_id: IdField,
    given_name: String,
    middle_name: Option<String>,
    surname: String,
    birth_date: Option<String>,
    postal_address: Option<AddressJson>,
    protection: Option<ProtectionJson>,
    test_indicator: Option<bool>,
    guardians: Option<Vec<String>>,
    deregistration: Option<DeregistrationJson>,
    gender: Option<String>,
    contact_information: Option<Vec<ContactJson>>,
    optout_paper_notification: Option<bool>,
    citizenship: Option<Vec<String>>,
    marital_status: Option<MaritalJson>,
    referred_identities: Option<Vec<IdJson>>,
    linked_identities: Option<Vec<IdJson>>,
}

/// A `contactInformation` entry as an update sends it (qualifiers included, to be refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ContactJson {
    contact_type: String,
    value: Option<String>,
    digital_notification: Option<bool>,
    #[serde(rename = "use")]
    use_: Option<String>,
    rank: Option<i32>,
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MaritalJson {
    code: String,
    date: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdJson {
    root: String,
    extension: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DeregistrationJson {
    reason_code: String,
    date: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdField {
    Number(String),
    Ii { root: String, extension: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AddressJson {
    care_of: Option<String>,
    street: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProtectionJson {
    #[serde(default)]
    sekretessmarkering: bool,
    #[serde(default)]
    skyddad_folkbokforing: bool,
}

/// The outcome of an import.
#[derive(Debug, Default)]
pub struct ImportSummary {
    /// New persons.
    pub inserted: u64,
    /// Persons whose population data was replaced.
    pub updated: u64,
    /// Rejected lines: (1-based line number, why).
    pub rejected: Vec<(u64, LineError)>,
    /// Persons whose contact information the import entered.
    pub contacts_seeded: u64,
    /// Whether the values the import removed (PR-4, PR-6 erasures, seeds replacing
    /// stored values) left every file of the store before it returned (CO-2).
    pub scrub: Scrub,
}

/// How long the import retries scrubbing removed values out of the store's files before
/// it reports failure: within CO-2's 10 s, with room for the last batch's commit.
pub const SCRUB_WITHIN: std::time::Duration = std::time::Duration::from_secs(8);

/// The import's scrub of removed values (CO-2).
#[derive(Debug, Default)]
pub enum Scrub {
    /// The import removed nothing.
    #[default]
    NothingRemoved,
    /// Every removed value left the store's files; it took this long.
    Done(std::time::Duration),
    /// A reader or a lock kept the scrub from finishing within SCRUB_WITHIN: the values
    /// are in no answer, but still in the files until the next scrub or checkpoint.
    Incomplete(StoreError),
}

/// A field of a line, with its position when the field is an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    name: &'static str,
    index: Option<usize>,
}

impl Field {
    const fn named(name: &'static str) -> Self {
        Field { name, index: None }
    }

    const fn at(name: &'static str, index: usize) -> Self {
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
        /// Where it stood.
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
        /// Where it stood.
        field: Field,
    },
    /// A personnummer or samordningsnummer among the linked identities.
    #[error("{field}: must be a reserve identity; personnummer and samordningsnummer go in referredIdentities")]
    NotReserve {
        /// Where it stood.
        field: Field,
    },
    /// A required text that is blank.
    #[error("{field}: must not be empty")]
    Empty {
        /// The field.
        field: Field,
    },
    /// A text longer than the published type allows.
    #[error("{field}: longer than {max} characters")]
    TooLong {
        /// The field.
        field: Field,
        /// Most characters allowed.
        max: usize,
    },
    /// A text with a control character, which XML 1.0 cannot carry.
    #[error("{field}: contains a control character")]
    ControlCharacter {
        /// The field.
        field: Field,
    },
    /// Not a real calendar date in the form YYYY-MM-DD.
    #[error("{field}: must be a real date YYYY-MM-DD")]
    Date {
        /// The field.
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
    /// Any other misfit.
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
    fn of(error: &serde_json::Error) -> Self {
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

impl ImportSummary {
    fn count(&mut self, upserted: Upserted) {
        match upserted {
            Upserted::Inserted => self.inserted += 1,
            Upserted::Updated => self.updated += 1,
        }
    }

    /// Counts what a batch stored. A seed refused by the store (a later line of the batch
    /// made the person protected or deceased) is in the audit trail, not counted here.
    fn add(&mut self, stored: Replaced) {
        stored.persons.into_iter().for_each(|u| self.count(u));
        self.contacts_seeded += stored.seeds.iter().filter(|s| s.is_ok()).count() as u64;
    }
}

/// One accepted line: the person and, when the line carried it, contact information that
/// passed every rule of an update.
struct Accepted {
    person: Person,
    contacts: Option<ValidatedUpdate>,
}

/// Reads one line into a person, naming the field that is wrong.
fn parse_accepted(line: &str, policy: &IdentifierPolicy) -> Result<Accepted, LineError> {
    let mut l = read_line(line)?;
    let optout = l.optout_paper_notification;
    let seed = match l.contact_information.take() {
        Some(entries) => Some((entries, optout)),
        None => optout.map(|o| (Vec::new(), Some(o))),
    };
    let person = person_of(l, policy)?;
    let contacts = seed
        .map(|(entries, optout)| seed_update(&person, entries, optout, policy))
        .transpose()?;
    Ok(Accepted { person, contacts })
}

/// The line as a record of the import format, or where and why it is not one.
fn read_line(line: &str) -> Result<Line, LineError> {
    let mut json = serde_json::Deserializer::from_str(line);
    let l: Line = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let segments: Vec<_> = e.path().iter().cloned().collect();
        let source = e.into_inner();
        if source.classify() != serde_json::error::Category::Data {
            return LineError::NotJson(source);
        }
        // An unknown field is named by its key (a name, not a value), as the other fields.
        LineError::NotARecord {
            field: json_path_of(&segments),
            problem: RecordProblem::of(&source),
            source,
        }
    })?;
    json.end().map_err(LineError::NotJson)?;
    Ok(l)
}

/// `a.b[0].c`, or `(the record)` for the line itself.
fn json_path_of(segments: &[serde_path_to_error::Segment]) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    if out.is_empty() {
        "(the record)".into()
    } else {
        out
    }
}

/// The line's contact information as an update by the person themself would be, checked
/// by every rule of one that needs no stored state (CT-*, DN-*, CO-1, PR-2, PR-6).
fn seed_update(
    person: &Person,
    entries: Vec<ContactJson>,
    optout: Option<bool>,
    policy: &IdentifierPolicy,
) -> Result<ValidatedUpdate, LineError> {
    let input = UpdateInput {
        actor: ActorInput {
            id_root: person.id.root().into(),
            id_extension: Some(person.id.extension().into()),
            organization: None,
        },
        person_root: person.id.root().into(),
        person_extension: Some(person.id.extension().into()),
        version_to_update: None,
        contacts: entries
            .into_iter()
            .map(|e| ContactInput {
                contact_type: e.contact_type,
                value: e.value,
                digital_notification: e.digital_notification,
                qualifiers: Qualifiers {
                    use_: e.use_.is_some(),
                    rank: e.rank.is_some(),
                    comment: e.comment.is_some(),
                    period: false,
                },
            })
            .collect(),
        contact_person_count: 0,
        optout_paper_notification: optout,
    };
    let valid = validate_update(&input, policy).map_err(LineError::Contact)?;
    // The rules that depend on the person (PR-2, PR-6) are decided on the line's own data.
    apply_update(
        valid.clone(),
        Some(person),
        None,
        SEED_ACCESS,
        IMPORT_CONSUMER,
        chrono::Utc::now(),
    )
    .map_err(LineError::Contact)?;
    Ok(valid)
}

/// Seeding is an update on the restricted contract: a protected person gets none (PR-2).
const SEED_ACCESS: UpdateAccess = UpdateAccess {
    access: Access::Restricted,
    unrestricted_may_update_protected: false,
};

fn person_of(l: Line, policy: &IdentifierPolicy) -> Result<Person, LineError> {
    let id = match &l.person_id {
        IdField::Number(n) => policy.parse_number(n),
        IdField::Ii { root, extension } => policy.parse(root, Some(extension)),
    }
    .map_err(|problem| LineError::Identifier {
        field: Field::named("personId"),
        problem,
    })?;
    let guardians = l
        .guardians
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, g)| {
            policy
                .parse_number(g)
                .map_err(|problem| LineError::Identifier {
                    field: Field::at("guardians", i),
                    problem,
                })
        })
        .collect::<Result<Vec<PersonId>, _>>()?;
    let birth_date = l
        .birth_date
        .as_deref()
        .map(|d| date_field("birthDate", d))
        .transpose()?;
    let name = Name {
        given: text("givenName", l.given_name, 80)?,
        middle: opt_text("middleName", l.middle_name, 80)?,
        surname: text("surname", l.surname, 80)?,
    };
    let address = l.postal_address.map(address).transpose()?;
    let protection = l.protection.map_or(Protection::default(), |p| Protection {
        sekretessmarkering: p.sekretessmarkering,
        skyddad_folkbokforing: p.skyddad_folkbokforing,
    });
    Ok(Person {
        id,
        name,
        birth_date,
        address,
        protection,
        test_indicator: l.test_indicator.unwrap_or(false),
        guardians,
        deregistration: l.deregistration.as_ref().map(deregistration).transpose()?,
        register: RegisterData {
            gender: l.gender.as_deref().map(gender).transpose()?,
            citizenship: l
                .citizenship
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, c)| country(i, c))
                .collect::<Result<_, _>>()?,
            marital_status: l.marital_status.as_ref().map(marital).transpose()?,
            referred: identities("referredIdentities", l.referred_identities, policy, true)?,
            linked: identities("linkedIdentities", l.linked_identities, policy, false)?,
            address_history: Vec::new(),
            address_applied_while_protected: protection.is_protected(),
        },
    })
}

/// `deregistration`: a register reason code and an optional date.
fn deregistration(d: &DeregistrationJson) -> Result<Deregistration, LineError> {
    let reason =
        DeregistrationReason::from_code(&d.reason_code).ok_or(LineError::DeregistrationReason)?;
    let date = d
        .date
        .as_deref()
        .map(|t| date_field("deregistration.date", t))
        .transpose()?;
    Ok(Deregistration { reason, date })
}

fn gender(code: &str) -> Result<Gender, LineError> {
    Gender::from_code(code).ok_or(LineError::Gender)
}

fn country(index: usize, code: &str) -> Result<CountryCode, LineError> {
    CountryCode::parse(code).ok_or(LineError::Country { index })
}

fn marital(m: &MaritalJson) -> Result<MaritalStatus, LineError> {
    let code = MaritalCode::from_code(&m.code).ok_or(LineError::MaritalCode)?;
    let date = m
        .date
        .as_deref()
        .map(|d| date_field("maritalStatus.date", d))
        .transpose()?;
    Ok(MaritalStatus { code, date })
}

/// Referred identities are personnummer/samordningsnummer; linked ones are reserve ids.
fn identities(
    name: &'static str,
    ids: Option<Vec<IdJson>>,
    policy: &IdentifierPolicy,
    national: bool,
) -> Result<Vec<PersonId>, LineError> {
    ids.unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, ii)| {
            let field = Field::at(name, i);
            let id = policy
                .parse(&ii.root, Some(&ii.extension))
                .map_err(|problem| LineError::Identifier { field, problem })?;
            let is_national = !matches!(id, PersonId::Reserve { .. });
            if is_national == national {
                Ok(id)
            } else if national {
                Err(LineError::NotNational { field })
            } else {
                Err(LineError::NotReserve { field })
            }
        })
        .collect()
}

fn date_field(name: &'static str, text: &str) -> Result<NaiveDate, LineError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| LineError::Date {
        field: Field::named(name),
    })
}

fn address(a: AddressJson) -> Result<PostalAddress, LineError> {
    let postal_code = opt_text("postalAddress.postalCode", a.postal_code, 5)?;
    if let Some(pc) = &postal_code {
        if pc.len() != 5 || !pc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LineError::PostalCode);
        }
    }
    Ok(PostalAddress {
        care_of: opt_text("postalAddress.careOf", a.care_of, 40)?,
        street: opt_text("postalAddress.street", a.street, 40)?,
        postal_code,
        city: opt_text("postalAddress.city", a.city, 40)?,
    })
}

/// A required name field: non-empty, bounded, no control characters (they cannot go into XML).
fn text(name: &'static str, value: String, max: usize) -> Result<String, LineError> {
    if value.trim().is_empty() {
        return Err(LineError::Empty {
            field: Field::named(name),
        });
    }
    opt_text(name, Some(value), max).map(Option::unwrap_or_default)
}

fn opt_text(
    name: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, LineError> {
    let field = Field::named(name);
    match value {
        Some(v) if v.chars().count() > max => Err(LineError::TooLong { field, max }),
        Some(v) if v.chars().any(char::is_control) => Err(LineError::ControlCharacter { field }),
        other => Ok(other),
    }
}

/// Replaces the whole population with `text` (the test-control reset): every line is
/// checked first, and a file with any bad line changes nothing. The replacement is one
/// transaction: requests served meanwhile see the old population or the new one, and a
/// store failure leaves the old one.
pub fn reset(
    text: &str,
    store: &dyn PersonStore,
    policy: &IdentifierPolicy,
) -> Result<Result<ImportSummary, Vec<(u64, LineError)>>, StoreError> {
    let mut file = ResetFile::new(policy.clone());
    file.feed(text.as_bytes());
    file.replace(store)
}

/// A population file for [`reset`] taken in pieces as they arrive (`/control/reset` streams
/// its body here): each line is checked as soon as it is complete, and nothing is stored
/// before [`ResetFile::replace`].
pub struct ResetFile {
    policy: IdentifierPolicy,
    /// The start of a line whose end has not arrived yet (a piece may end anywhere, even
    /// inside a character).
    partial: Vec<u8>,
    lines: u64,
    accepted: Vec<Accepted>,
    bad: Vec<(u64, LineError)>,
}

impl ResetFile {
    /// An empty file, its identifiers read by `policy`.
    pub fn new(policy: IdentifierPolicy) -> Self {
        ResetFile {
            policy,
            partial: Vec::new(),
            lines: 0,
            accepted: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// The next piece of the file.
    pub fn feed(&mut self, mut piece: &[u8]) {
        while let Some(end) = piece.iter().position(|&b| b == b'\n') {
            let (head, rest) = (&piece[..end], &piece[end + 1..]);
            if self.partial.is_empty() {
                self.ended_line(head);
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(head);
                self.ended_line(&whole);
            }
            piece = rest;
        }
        self.partial.extend_from_slice(piece);
    }

    /// A line that had its "\n" (as `str::lines`: "\r\n" ends a line too).
    fn ended_line(&mut self, bytes: &[u8]) {
        self.line(bytes.strip_suffix(b"\r").unwrap_or(bytes));
    }

    fn line(&mut self, bytes: &[u8]) {
        self.lines += 1;
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) if text.trim().is_empty() => return,
            Ok(text) => parse_accepted(text, &self.policy),
            // As the CLI import reports a line that is not UTF-8.
            Err(e) => Err(LineError::Unreadable(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e,
            ))),
        };
        match parsed {
            Ok(a) => self.accepted.push(a),
            Err(reason) => self.bad.push((self.lines, reason)),
        }
    }

    /// Replaces the whole population with the file, as [`reset`] does; the bad lines
    /// instead, if there are any.
    pub fn replace(
        mut self,
        store: &dyn PersonStore,
    ) -> Result<Result<ImportSummary, Vec<(u64, LineError)>>, StoreError> {
        // The last line may have no line end.
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.line(&last);
        }
        if !self.bad.is_empty() {
            return Ok(Err(self.bad));
        }
        store_population(self.accepted, store).map(Ok)
    }
}

/// Replaces the population with `accepted` and seeds their contact information, in one
/// transaction.
fn store_population(
    accepted: Vec<Accepted>,
    store: &dyn PersonStore,
) -> Result<ImportSummary, StoreError> {
    let replaced = write_batch(accepted, |persons, seeds| {
        store.replace_population(persons, seeds)
    })?;
    let mut summary = ImportSummary::default();
    summary.add(replaced);
    Ok(summary)
}

/// Hands `write` the persons of `accepted` and, for each line that carried contact
/// information, its seed: the update over whatever is stored, audited as the import.
fn write_batch(
    accepted: Vec<Accepted>,
    write: impl FnOnce(&[Person], Vec<ContactUpdate<'_>>) -> Result<Replaced, StoreError>,
) -> Result<Replaced, StoreError> {
    let now = chrono::Utc::now();
    let mut persons = Vec::with_capacity(accepted.len());
    let mut updates = Vec::new();
    for Accepted { person, contacts } in accepted {
        if let Some(update) = contacts {
            let audit = AuditEntry::now(&IMPORT_CALLER, person.id.key());
            updates.push((person.id.clone(), update, audit));
        }
        persons.push(person);
    }
    let seeded: &[(PersonId, ValidatedUpdate, AuditEntry)] = &updates;
    let decisions: Vec<_> = seeded
        .iter()
        .map(|(_, update, _)| seed_decision(update, now))
        .collect();
    let seeds = seeded
        .iter()
        .zip(&decisions)
        .map(|((id, _, audit), decide)| ContactUpdate { id, decide, audit })
        .collect();
    write(&persons, seeds)
}

/// Imports every line of `reader`; bad lines are reported and skipped, the rest stored.
pub fn import(
    reader: impl BufRead,
    store: &dyn PersonStore,
    policy: &IdentifierPolicy,
    mut progress: impl FnMut(u64),
) -> Result<ImportSummary, StoreError> {
    let mut summary = ImportSummary::default();
    let mut batch = Vec::with_capacity(BATCH);
    for (index, line) in reader.lines().enumerate() {
        let number = index as u64 + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                summary.rejected.push((number, LineError::Unreadable(e)));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_accepted(&line, policy) {
            Ok(p) => batch.push(p),
            Err(reason) => summary.rejected.push((number, reason)),
        }
        if batch.len() == BATCH {
            flush(store, &mut batch, &mut summary)?;
            progress(number);
        }
    }
    flush(store, &mut batch, &mut summary)?;
    summary.scrub = match store.scrub_removed(SCRUB_WITHIN) {
        Ok(Scrubbed::NothingRemoved) => Scrub::NothingRemoved,
        Ok(Scrubbed::Done(took)) => Scrub::Done(took),
        Err(e) => Scrub::Incomplete(e),
    };
    Ok(summary)
}

/// Writes a batch: its persons and their contact information in one transaction.
fn flush(
    store: &dyn PersonStore,
    batch: &mut Vec<Accepted>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    let stored = write_batch(std::mem::take(batch), |persons, seeds| {
        store.upsert_and_seed(persons, seeds)
    })?;
    summary.add(stored);
    Ok(())
}

/// The import's caller in the audit trail.
const IMPORT_CALLER: Caller<'static> = Caller {
    consumer: IMPORT_CONSUMER,
    source: Source::Import,
    logical_address: "-",
    correlation_id: "-",
};

/// The domain's decision for a seed: `update` over whatever is stored, at `now`.
fn seed_decision(
    update: &ValidatedUpdate,
    now: chrono::DateTime<chrono::Utc>,
) -> impl Fn(Option<&Person>, Option<&ContactRecord>) -> Result<ContactRecord, Violation> + '_ {
    move |person, stored| {
        let mut update = update.clone();
        update.version_to_update = stored.map(|r| r.version.to_string());
        apply_update(update, person, stored, SEED_ACCESS, IMPORT_CONSUMER, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a line may hold and an error must never repeat.
    const SECRET: &str = "ZZ-SECRET-123";
    const PHONE: &str = "+46 73 987 65 43";
    const NUMBER: i64 = 987_654_321;

    /// A valid line holding every object the format has, so that each nested field can be
    /// broken alone.
    fn valid() -> serde_json::Value {
        serde_json::json!({
            "personId": "191212121212", "givenName": "T", "surname": "T",
            "postalAddress": {"careOf": "C", "street": "S", "postalCode": "11122", "city": "C"},
            "protection": {"sekretessmarkering": false, "skyddadFolkbokforing": false},
            "maritalStatus": {"code": "G", "date": "2010-06-12"},
            "referredIdentities": [{"root": "1.2.752.129.2.1.3.1", "extension": "195001182046"}],
            "linkedIdentities": [{"root": "1.2.752.74.9.1", "extension": "R1"}],
        })
    }

    /// The objects of a line whose fields are probed: (JSON path, pointer into `valid`, line).
    fn containers() -> Vec<(&'static str, &'static str, serde_json::Value)> {
        let mut with_deregistration = valid();
        with_deregistration["deregistration"] =
            serde_json::json!({"reasonCode": "UV", "date": "2020-01-01"});
        let mut with_contacts = valid();
        with_contacts["contactInformation"] = serde_json::json!([
            {"contactType": "sms", "value": "+46701234567", "digitalNotification": true}
        ]);
        let mut with_id_object = valid();
        with_id_object["personId"] =
            serde_json::json!({"root": "1.2.752.129.2.1.3.1", "extension": "191212121212"});
        vec![
            ("", "", valid()),
            ("postalAddress", "/postalAddress", valid()),
            ("protection", "/protection", valid()),
            ("maritalStatus", "/maritalStatus", valid()),
            ("referredIdentities[0]", "/referredIdentities/0", valid()),
            ("linkedIdentities[0]", "/linkedIdentities/0", valid()),
            (
                "contactInformation[0]",
                "/contactInformation/0",
                with_contacts,
            ),
            ("deregistration", "/deregistration", with_deregistration),
            ("personId", "/personId", with_id_object),
        ]
    }

    /// The fields serde knows for the object at `pointer`, from its unknown-field error: a
    /// field added to the format is probed without this test changing.
    fn fields_of(line: &serde_json::Value, pointer: &str) -> Vec<String> {
        let mut probe = line.clone();
        probe
            .pointer_mut(pointer)
            .and_then(serde_json::Value::as_object_mut)
            .expect("a container")
            .insert("zzNoSuchField".into(), serde_json::json!(1));
        let message = match serde_json::from_value::<Line>(probe) {
            Err(e) => e.to_string(),
            Ok(_) => return Vec::new(), // untagged (personId): serde lists no fields
        };
        message
            .split("expected ")
            .nth(1)
            .map(|list| {
                list.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn bad_values() -> Vec<serde_json::Value> {
        vec![
            serde_json::json!(SECRET),
            serde_json::json!(format!("{SECRET}\u{7}")),
            serde_json::json!(SECRET.repeat(10)),
            serde_json::json!(PHONE),
            serde_json::json!(NUMBER),
            serde_json::json!(true),
            serde_json::json!([SECRET]),
            serde_json::json!({ "zzKey": SECRET }),
        ]
    }

    #[test]
    fn every_field_error_names_the_field_and_never_the_value() {
        let policy = IdentifierPolicy::default();
        let mut fields_probed = 0;
        for (path, pointer, line) in containers() {
            let mut fields = fields_of(&line, pointer);
            if path == "personId" {
                fields = vec!["root".into(), "extension".into()];
            }
            assert!(!fields.is_empty(), "{path}: no fields found");
            for field in fields {
                let at = if path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                let mut refused = 0;
                for value in bad_values() {
                    let mut broken = line.clone();
                    broken
                        .pointer_mut(pointer)
                        .and_then(serde_json::Value::as_object_mut)
                        .expect("a container")
                        .insert(field.clone(), value.clone());
                    let Err(e) = parse_accepted(&broken.to_string(), &policy) else {
                        continue;
                    };
                    refused += 1;
                    let text = e.to_string();
                    // An identifier object is named as a whole; the text says which part.
                    let identifier = ["personId", "referredIdentities[0]", "linkedIdentities[0]"];
                    let named = if identifier.contains(&path) {
                        path
                    } else {
                        &at
                    };
                    assert!(
                        text.contains(named),
                        "{value} in {at}: {text:?} does not name the field"
                    );
                    for held in [SECRET, PHONE, "46739876543", "739876543", "987654321"] {
                        assert!(
                            !text.contains(held),
                            "{value} in {at}: {text:?} repeats the value"
                        );
                    }
                }
                assert!(refused > 0, "{at}: no bad value was refused");
                fields_probed += 1;
            }
        }
        assert!(fields_probed >= 30, "only {fields_probed} fields probed");
    }
}
