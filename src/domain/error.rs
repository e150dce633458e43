//! The rule violations an update or lookup can hit, each with its stable code and rule ID.

use super::email::EmailProblem;
use super::identifier::IdProblem;
use super::phone::PhoneProblem;

/// The stable machine-readable error codes of docs/contract.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// ID-1, ID-2.
    InvalidPersonId,
    /// ID-2.
    PersonNotFound,
    /// CT-1.
    ContactTypeNotAllowed,
    /// CT-2.
    ContactQualifierNotAllowed,
    /// CT-3.
    TooManyContacts,
    /// CT-4.
    InvalidPhoneNumber,
    /// CT-5.
    InvalidEmailAddress,
    /// CT-6.
    ContactPersonNotAllowed,
    /// DN-1, DN-2.
    DigitalNotificationRequired,
    /// CO-1.
    ActorInvalid,
    /// CO-3.
    VersionConflict,
    /// PR-2.
    ProtectedPerson,
    /// PR-6.
    PersonDeregistered,
}

impl ErrorCode {
    /// Every code, in docs/contract.md order.
    pub(crate) const ALL: [ErrorCode; 13] = [
        Self::InvalidPersonId,
        Self::PersonNotFound,
        Self::ContactTypeNotAllowed,
        Self::ContactQualifierNotAllowed,
        Self::TooManyContacts,
        Self::InvalidPhoneNumber,
        Self::InvalidEmailAddress,
        Self::ContactPersonNotAllowed,
        Self::DigitalNotificationRequired,
        Self::ActorInvalid,
        Self::VersionConflict,
        Self::ProtectedPerson,
        Self::PersonDeregistered,
    ];

    /// The code as written in `errorCode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidPersonId => "INVALID_PERSON_ID",
            Self::PersonNotFound => "PERSON_NOT_FOUND",
            Self::ContactTypeNotAllowed => "CONTACT_TYPE_NOT_ALLOWED",
            Self::ContactQualifierNotAllowed => "CONTACT_QUALIFIER_NOT_ALLOWED",
            Self::TooManyContacts => "TOO_MANY_CONTACTS",
            Self::InvalidPhoneNumber => "INVALID_PHONE_NUMBER",
            Self::InvalidEmailAddress => "INVALID_EMAIL_ADDRESS",
            Self::ContactPersonNotAllowed => "CONTACT_PERSON_NOT_ALLOWED",
            Self::DigitalNotificationRequired => "DIGITAL_NOTIFICATION_REQUIRED",
            Self::ActorInvalid => "ACTOR_INVALID",
            Self::VersionConflict => "VERSION_CONFLICT",
            Self::ProtectedPerson => "PROTECTED_PERSON",
            Self::PersonDeregistered => "PERSON_DEREGISTERED",
        }
    }
}

/// The rule IDs of docs/rules.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleId {
    /// Identifier kinds.
    Id1,
    /// Identifier validity; unknown persons.
    Id2,
    /// Only sms and email.
    Ct1,
    /// No contact qualifiers.
    Ct2,
    /// One entry per type.
    Ct3,
    /// E.164 telephone numbers.
    Ct4,
    /// RFC 5322 addresses.
    Ct5,
    /// No contact persons.
    Ct6,
    /// digitalNotification on every entry.
    Dn1,
    /// Opt-out of paper needs a digital channel.
    Dn2,
    /// Consent and the actor.
    Co1,
    /// Change and removal.
    Co2,
    /// Optimistic versions.
    Co3,
    /// Protection flags from the register.
    Pr1,
    /// No contact information for protected persons.
    Pr2,
    /// P1 only for protected persons on restricted contracts.
    Pr3,
    /// Erasure when protected.
    Pr4,
    /// Unrestricted contracts.
    Pr5,
    /// Deceased persons.
    Pr6,
    /// Children and guardians.
    Gu1,
    /// Mutual TLS and authorisation.
    Ac1,
    /// The audit trail.
    Ac2,
}

impl RuleId {
    /// The ID as docs/rules.md writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id1 => "ID-1",
            Self::Id2 => "ID-2",
            Self::Ct1 => "CT-1",
            Self::Ct2 => "CT-2",
            Self::Ct3 => "CT-3",
            Self::Ct4 => "CT-4",
            Self::Ct5 => "CT-5",
            Self::Ct6 => "CT-6",
            Self::Dn1 => "DN-1",
            Self::Dn2 => "DN-2",
            Self::Co1 => "CO-1",
            Self::Co2 => "CO-2",
            Self::Co3 => "CO-3",
            Self::Pr1 => "PR-1",
            Self::Pr2 => "PR-2",
            Self::Pr3 => "PR-3",
            Self::Pr4 => "PR-4",
            Self::Pr5 => "PR-5",
            Self::Pr6 => "PR-6",
            Self::Gu1 => "GU-1",
            Self::Ac1 => "AC-1",
            Self::Ac2 => "AC-2",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A rule that refused a request: its text names the element, the problem and the rule ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// ID-1/ID-2: the identifier is malformed or of an unknown kind.
    #[error("{path}: {problem} [{rule}]", rule = if matches!(problem, IdProblem::UnknownRoot(_)) { "ID-1" } else { "ID-2" })]
    InvalidPersonId {
        /// Where the identifier stood, e.g. `personId`.
        path: String,
        /// What is wrong with it.
        problem: IdProblem,
    },
    /// ID-2: a well-formed identifier of nobody known.
    #[error("personId: no person with this identifier is known to the service [ID-2]")]
    PersonNotFound,
    /// CT-1: a contact type other than `sms` and `email`.
    #[error("{path}/contactType: \"{given}\" is not an allowed contact type; only sms and email exist{hint} [CT-1]")]
    ContactTypeNotAllowed {
        /// The entry, e.g. `contactInformation[2]`.
        path: String,
        /// The type as sent.
        given: String,
        /// A pointer to the right type, when one is obvious.
        hint: &'static str,
    },
    /// CT-2: `use`, `rank`, `comment` or `period` was sent.
    #[error(
        "{path}/{qualifier}: contact qualifiers (use, rank, comment, period) must not be used; send only contactType, value and digitalNotification [CT-2]"
    )]
    ContactQualifierNotAllowed {
        /// The entry's element path, e.g. `…/contactInformation[2]`.
        path: String,
        /// `use`, `rank`, `comment` or `period`.
        qualifier: &'static str,
    },
    /// CT-3: more than one entry of a type.
    #[error("{path}/contactType: a second {kind} entry; at most one sms and one email entry per person (keep others in your local system) [CT-3]")]
    TooManyContacts {
        /// The entry that was one too many.
        path: String,
        /// `sms` or `email`.
        kind: &'static str,
    },
    /// CT-4: not an E.164 telephone number.
    #[error("{path}/value: {problem} [CT-4]")]
    InvalidPhoneNumber {
        /// The entry's element path, e.g. `…/contactInformation[1]`.
        path: String,
        /// Which check the number failed; its text ends the `resultText`.
        problem: PhoneProblem,
    },
    /// CT-5: not one RFC 5322 address.
    #[error("{path}/value: {problem} [CT-5]")]
    InvalidEmailAddress {
        /// The entry's element path, e.g. `…/contactInformation[2]`.
        path: String,
        /// Which check the address failed; its text ends the `resultText`.
        problem: EmailProblem,
    },
    /// CT-6: `contactPerson` was sent.
    #[error("contactPerson[{index}]: contact persons (next of kin, guardians, representatives) are never stored on a person's identity [CT-6]")]
    ContactPersonNotAllowed {
        /// 1-based position of the first one.
        index: usize,
    },
    /// DN-1: an entry without `digitalNotification`.
    #[error(
        "{path}/digitalNotification: missing; every contact entry must state true or false [DN-1]"
    )]
    DigitalNotificationMissing {
        /// The entry's element path, e.g. `…/contactInformation[1]`.
        path: String,
    },
    /// DN-2: opt-out of paper with no digital channel.
    #[error("optoutPaperNotification: true requires digitalNotification=true on at least one contactInformation entry [DN-2]")]
    DigitalNotificationRequired,
    /// CO-1: actor missing, malformed or another private person.
    #[error("{path}: {problem} [CO-1]")]
    ActorInvalid {
        /// Where in `actor`.
        path: String,
        /// What is wrong, in words for the `resultText`.
        problem: String,
    },
    /// CO-3: `versionToUpdate` is not the stored version.
    #[error("versionToUpdate: {} [CO-3]", version_conflict_text(given.as_deref(), stored.as_deref()))]
    VersionConflict {
        /// The version the caller sent.
        given: Option<String>,
        /// The version stored now.
        stored: Option<String>,
    },
    /// PR-2: the person is protected.
    #[error("personId: the person has protected personal data; no contact information may be entered, even with consent [PR-2]")]
    ProtectedPerson,
    /// PR-6: the person is deregistered as deceased.
    #[error("personId: the person is registered as deceased in the population register; no contact information is kept or entered [PR-6]")]
    PersonDeceased,
}

fn version_conflict_text(given: Option<&str>, stored: Option<&str>) -> String {
    match (given, stored) {
        (Some(g), Some(s)) => format!(
            "{g} is not the stored version {s}; read the record again and retry with its version"
        ),
        (None, Some(s)) => {
            format!("absent, but a record with version {s} exists; read it and send its version")
        }
        (Some(g), None) => {
            format!("{g} was sent but no contact information is stored; omit versionToUpdate")
        }
        (None, None) => "conflict".to_owned(),
    }
}

impl Violation {
    /// The stable error code (docs/contract.md).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidPersonId { .. } => ErrorCode::InvalidPersonId,
            Self::PersonNotFound => ErrorCode::PersonNotFound,
            Self::ContactTypeNotAllowed { .. } => ErrorCode::ContactTypeNotAllowed,
            Self::ContactQualifierNotAllowed { .. } => ErrorCode::ContactQualifierNotAllowed,
            Self::TooManyContacts { .. } => ErrorCode::TooManyContacts,
            Self::InvalidPhoneNumber { .. } => ErrorCode::InvalidPhoneNumber,
            Self::InvalidEmailAddress { .. } => ErrorCode::InvalidEmailAddress,
            Self::ContactPersonNotAllowed { .. } => ErrorCode::ContactPersonNotAllowed,
            Self::DigitalNotificationMissing { .. } | Self::DigitalNotificationRequired => {
                ErrorCode::DigitalNotificationRequired
            }
            Self::ActorInvalid { .. } => ErrorCode::ActorInvalid,
            Self::VersionConflict { .. } => ErrorCode::VersionConflict,
            Self::ProtectedPerson => ErrorCode::ProtectedPerson,
            Self::PersonDeceased => ErrorCode::PersonDeregistered,
        }
    }

    /// The rule ID of docs/rules.md that refused the request.
    pub(crate) fn rule(&self) -> RuleId {
        match self {
            Self::InvalidPersonId {
                problem: IdProblem::UnknownRoot(_),
                ..
            } => RuleId::Id1,
            Self::InvalidPersonId { .. } | Self::PersonNotFound => RuleId::Id2,
            Self::ContactTypeNotAllowed { .. } => RuleId::Ct1,
            Self::ContactQualifierNotAllowed { .. } => RuleId::Ct2,
            Self::TooManyContacts { .. } => RuleId::Ct3,
            Self::InvalidPhoneNumber { .. } => RuleId::Ct4,
            Self::InvalidEmailAddress { .. } => RuleId::Ct5,
            Self::ContactPersonNotAllowed { .. } => RuleId::Ct6,
            Self::DigitalNotificationMissing { .. } => RuleId::Dn1,
            Self::DigitalNotificationRequired => RuleId::Dn2,
            Self::ActorInvalid { .. } => RuleId::Co1,
            Self::VersionConflict { .. } => RuleId::Co3,
            Self::ProtectedPerson => RuleId::Pr2,
            Self::PersonDeceased => RuleId::Pr6,
        }
    }
}
