//! The import's line format: one JSON object per person, read into a [`Person`] and, when
//! the line carries contact information, an update checked by every rule that needs no
//! stored state. Every refusal names the field as a [`LineError`].

use super::error::{Field, LineError, RecordProblem};
use crate::domain::update::{apply_update, validate_update, ValidatedUpdate};
use crate::domain::{
    Access, ActorInput, ContactInput, IdInput, Qualifiers, UpdateAccess, UpdateInput,
};
use crate::domain::{
    CountryCode, Deregistration, DeregistrationReason, Gender, IdentifierPolicy, MaritalCode,
    MaritalStatus, Name, Person, PersonId, PostalAddress, Protection, RegisterData,
};
use crate::store::IMPORT_CONSUMER;
use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Line {
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
    RootAndExtension { root: String, extension: String },
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

/// One accepted line: the person and, when the line carried it, contact information that
/// passed every rule of an update.
pub(super) struct Accepted {
    pub(super) person: Person,
    pub(super) contacts: Option<ValidatedUpdate>,
}

/// Reads one line into a person, naming the field that is wrong.
pub(super) fn parse_accepted(line: &str, policy: &IdentifierPolicy) -> Result<Accepted, LineError> {
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
        person: IdInput {
            root: person.id.root().into(),
            extension: Some(person.id.extension().into()),
        },
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
pub(super) const SEED_ACCESS: UpdateAccess = UpdateAccess {
    access: Access::Restricted,
    unrestricted_may_update_protected: false,
};

fn person_of(l: Line, policy: &IdentifierPolicy) -> Result<Person, LineError> {
    let id = match &l.person_id {
        IdField::Number(n) => policy.parse_number(n),
        IdField::RootAndExtension { root, extension } => policy.parse(root, Some(extension)),
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
