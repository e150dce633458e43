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
use crate::store::{ContactUpdate, PersonStore, Scrubbed, StoreError, Upserted};
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

/// Why a line of a population file was rejected; the text names the field and what a
/// valid one looks like.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The file could not be read at this line.
    #[error("unreadable line: {0}")]
    Unreadable(#[source] std::io::Error),
    /// Not a record of the import format: JSON syntax, a missing or unknown field, a wrong type.
    #[error("not a valid record: {0}")]
    NotARecord(#[source] serde_json::Error),
    /// An identifier that is malformed or of an unknown kind (ID-1, ID-2).
    #[error("{field}: {problem}")]
    Identifier {
        /// Where it stood.
        field: Field,
        /// What is wrong with it.
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
    #[error("gender: {0:?} is not a register code (K or M)")]
    Gender(String),
    /// A citizenship that is not a country code.
    #[error("citizenship[{index}]: {code:?} is not an ISO 3166 alpha-2 code such as SE")]
    Country {
        /// Its position in the array.
        index: usize,
        /// What the line said.
        code: String,
    },
    /// A deregistration reason that is not a register code.
    #[error("deregistration.reasonCode: {0:?} is not a population-register code ({codes})", codes = codes(DeregistrationReason::ALL.iter().map(|r| r.code())))]
    DeregistrationReason(String),
    /// A marital status that is not a register code.
    #[error("maritalStatus.code: {0:?} is not a register code ({codes})", codes = codes(MaritalCode::ALL.iter().map(|c| c.code())))]
    MaritalCode(String),
    /// Contact information that breaks a rule of an update; the text names the rule.
    #[error("contactInformation: {0} (errorCode {code})", code = .0.code().as_str())]
    Contact(#[source] Violation),
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
}

/// One accepted line: the person and, when the line carried it, contact information that
/// passed every rule of an update.
struct Accepted {
    person: Person,
    contacts: Option<ValidatedUpdate>,
}

/// Reads one line into a person, naming the field that is wrong.
fn parse_accepted(line: &str, policy: &IdentifierPolicy) -> Result<Accepted, LineError> {
    let mut l: Line = serde_json::from_str(line).map_err(LineError::NotARecord)?;
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

/// Who the audit trail names for what the import does.
const IMPORT_CONSUMER: &str = "pu-adapter-import";

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
    let reason = DeregistrationReason::from_code(&d.reason_code)
        .ok_or_else(|| LineError::DeregistrationReason(d.reason_code.clone()))?;
    let date = d
        .date
        .as_deref()
        .map(|t| date_field("deregistration.date", t))
        .transpose()?;
    Ok(Deregistration { reason, date })
}

fn gender(code: &str) -> Result<Gender, LineError> {
    Gender::from_code(code).ok_or_else(|| LineError::Gender(code.to_owned()))
}

fn country(index: usize, code: &str) -> Result<CountryCode, LineError> {
    CountryCode::parse(code).ok_or_else(|| LineError::Country {
        index,
        code: code.to_owned(),
    })
}

fn marital(m: &MaritalJson) -> Result<MaritalStatus, LineError> {
    let code =
        MaritalCode::from_code(&m.code).ok_or_else(|| LineError::MaritalCode(m.code.clone()))?;
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
        store_population(&self.accepted, store).map(Ok)
    }
}

/// Replaces the population with `accepted` and seeds their contact information, in one
/// transaction.
fn store_population(
    accepted: &[Accepted],
    store: &dyn PersonStore,
) -> Result<ImportSummary, StoreError> {
    let persons: Vec<Person> = accepted.iter().map(|a| a.person.clone()).collect();
    let now = chrono::Utc::now();
    let seeded: Vec<(&PersonId, &ValidatedUpdate, AuditEntry)> = accepted
        .iter()
        .filter_map(|a| {
            let id = &a.person.id;
            a.contacts
                .as_ref()
                .map(|update| (id, update, AuditEntry::now(&IMPORT_CALLER, id.key())))
        })
        .collect();
    let decisions: Vec<_> = seeded
        .iter()
        .map(|(_, update, _)| seed_decision(update, now))
        .collect();
    let seeds = seeded
        .iter()
        .zip(&decisions)
        .map(|((id, _, audit), decide)| ContactUpdate { id, decide, audit })
        .collect();
    let replaced = store.replace_population(&persons, seeds)?;
    let mut summary = ImportSummary::default();
    replaced.persons.into_iter().for_each(|u| summary.count(u));
    summary.contacts_seeded = replaced.seeds.len() as u64;
    Ok(summary)
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

fn flush(
    store: &dyn PersonStore,
    batch: &mut Vec<Accepted>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    let persons: Vec<Person> = batch.iter().map(|a| a.person.clone()).collect();
    store
        .upsert_persons(&persons)?
        .into_iter()
        .for_each(|u| summary.count(u));
    for accepted in batch.drain(..) {
        if let Some(update) = accepted.contacts {
            seed_contacts(store, &accepted.person.id, &update)?;
            summary.contacts_seeded += 1;
        }
    }
    Ok(())
}

/// Enters seeded contact information over whatever is stored (the import states the whole
/// set, as an update does), in the store's update transaction, audited as the import.
fn seed_contacts(
    store: &dyn PersonStore,
    id: &PersonId,
    update: &ValidatedUpdate,
) -> Result<(), StoreError> {
    let decide = seed_decision(update, chrono::Utc::now());
    let audit = AuditEntry::now(&IMPORT_CALLER, id.key());
    // Refusals were ruled out when the line was read; one here is recorded by the store.
    let _ = store.update_contacts(ContactUpdate {
        id,
        decide: &decide,
        audit: &audit,
    })?;
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
