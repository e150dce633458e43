//! The audit trail (AC-2): one append-only entry per person touched by a call, and
//! queries over it. Never holds contact values (CO-2).

use crate::contracts::Contract;
use crate::domain::ErrorCode;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use std::fmt;

/// How a call ended for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    /// Answered with data or an OK result.
    Ok,
    /// Answered with a ResultType ERROR (a rule refused it).
    Error,
    /// Answered with a SOAP Fault.
    Fault,
}

impl Outcome {
    const ALL: [Self; 3] = [Self::Ok, Self::Error, Self::Fault];

    /// The text stored in the audit trail and shown by `pu-adapter audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Error => "ERROR",
            Outcome::Fault => "FAULT",
        }
    }

    /// Reads the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// What reached the trail: a contract call, or one of our own operations on the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A SOAP call of this contract.
    Contract(Contract),
    /// `pu-adapter import`.
    Import,
    /// The development start's demo population.
    DemoLoad,
}

impl Source {
    /// The stored text: the contract's name, `import` or `demo-load`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Contract(c) => c.name(),
            Source::Import => "import",
            Source::DemoLoad => "demo-load",
        }
    }

    /// Reads the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "import" => Some(Source::Import),
            "demo-load" => Some(Source::DemoLoad),
            name => Contract::from_name(name).map(Source::Contract),
        }
    }

    /// Whether the call came through an Unrestricted contract (PR-5).
    pub(crate) fn is_unrestricted(self) -> bool {
        matches!(self, Source::Contract(c) if c.access() == Some(crate::domain::Access::Unrestricted))
    }
}

/// Why a request was answered with a Fault, as the trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Not XML, not SOAP 1.1, no LogicalAddress.
    InvalidEnvelope,
    /// Not valid against the contract's schema.
    SchemaInvalid,
    /// The body element belongs to another contract.
    WrongOperation,
    /// More than 500 ids, or none.
    TooManyIds,
    /// A profile outside P1–P5.
    UnsupportedProfile,
    /// An invalid identifier where one id is read (GetPersonContactInformation).
    InvalidPersonId,
    /// The consumer may not call the contract.
    Unauthorised,
    /// The certificate names no consumer.
    NoConsumerId,
    /// Our store failed; the consumer got a Server fault.
    Storage,
    /// The request did not complete in time.
    Timeout,
}

impl FaultKind {
    const ALL: [Self; 10] = [
        Self::InvalidEnvelope,
        Self::SchemaInvalid,
        Self::WrongOperation,
        Self::TooManyIds,
        Self::UnsupportedProfile,
        Self::InvalidPersonId,
        Self::Unauthorised,
        Self::NoConsumerId,
        Self::Storage,
        Self::Timeout,
    ];

    /// The text stored in the audit trail and shown by `pu-adapter audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidEnvelope => "INVALID_ENVELOPE",
            Self::SchemaInvalid => "SCHEMA_INVALID",
            Self::WrongOperation => "WRONG_OPERATION",
            Self::TooManyIds => "TOO_MANY_IDS",
            Self::UnsupportedProfile => "UNSUPPORTED_PROFILE",
            Self::InvalidPersonId => "INVALID_PERSON_ID",
            Self::Unauthorised => "UNAUTHORISED",
            Self::NoConsumerId => "NO_CONSUMER_ID",
            Self::Storage => "STORAGE",
            Self::Timeout => "TIMEOUT",
        }
    }
}

const ERASURES: [crate::domain::Erasure; 2] = [
    crate::domain::Erasure::Protected,
    crate::domain::Erasure::Deceased,
];

/// The code an entry carries: the rule's error code, or the kind of Fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditCode {
    /// A rule's error code (docs/contract.md), also `PERSON_NOT_FOUND` on reads.
    Rule(ErrorCode),
    /// Why the request was Faulted.
    Fault(FaultKind),
    /// Stored contact information erased by a rule (PR-4, PR-6).
    Erased(crate::domain::Erasure),
}

impl AuditCode {
    /// The text stored in the audit trail and shown by `pu-adapter audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditCode::Rule(code) => code.as_str(),
            AuditCode::Fault(kind) => kind.as_str(),
            AuditCode::Erased(crate::domain::Erasure::Protected) => "ERASED_PROTECTED_PR-4",
            AuditCode::Erased(crate::domain::Erasure::Deceased) => "ERASED_DECEASED_PR-6",
        }
    }

    /// Reads the stored text; a rule code wins where both use the same word.
    pub fn parse(s: &str) -> Option<Self> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .map(AuditCode::Rule)
            .or_else(|| {
                FaultKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == s)
                    .map(AuditCode::Fault)
            })
            .or_else(|| {
                ERASURES
                    .into_iter()
                    .map(AuditCode::Erased)
                    .find(|c| c.as_str() == s)
            })
    }
}

impl fmt::Display for AuditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One audit entry (AC-2): who called which contract about whom, when, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// When the decision was made (UTC; stored to the second).
    #[serde(serialize_with = "serialize_time")]
    pub at: DateTime<Utc>,
    /// The consumer's HSA-id from its client certificate.
    pub consumer: String,
    /// The contract called, or our own operation.
    pub contract: Source,
    /// Called through an Unrestricted contract (PR-5).
    pub unrestricted: bool,
    /// The `LogicalAddress` header: the care provider the call was for.
    pub logical_address: String,
    /// The caller's `x-skltp-correlation-id`, or the one made up for it.
    pub correlation_id: String,
    /// The person's identifier `root:extension` as sent; empty when none could be read.
    pub person: String,
    /// OK, ERROR (a rule refused it) or FAULT.
    pub outcome: Outcome,
    /// The error code or fault kind, if any.
    pub error_code: Option<AuditCode>,
    /// The log id of an error or fault.
    pub log_id: Option<String>,
}

fn serialize_time<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&stored_time(*at))
}

/// Who did it and through what: the part of an entry shared by every person a call touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller<'a> {
    /// The consumer's HSA-id from its client certificate.
    pub consumer: &'a str,
    /// The contract or operation.
    pub(crate) source: Source,
    /// The `LogicalAddress` header: the care provider the call was for.
    pub logical_address: &'a str,
    /// The caller's `x-skltp-correlation-id`, or the one we made up for it.
    pub correlation_id: &'a str,
}

impl AuditEntry {
    /// An entry stamped now, outcome OK, for one access of `person`.
    pub(crate) fn now(caller: &Caller<'_>, person: String) -> Self {
        Self {
            at: Utc::now(),
            consumer: caller.consumer.to_owned(),
            contract: caller.source,
            unrestricted: caller.source.is_unrestricted(),
            logical_address: caller.logical_address.to_owned(),
            correlation_id: caller.correlation_id.to_owned(),
            person,
            outcome: Outcome::Ok,
            error_code: None,
            log_id: None,
        }
    }

    /// An update's entry once decided: OK, or ERROR with the refusing rule's code; the
    /// log id (which the caller sees) is kept only for a refusal.
    pub(crate) fn decided(&self, refused: Option<&crate::domain::Violation>) -> Self {
        match refused {
            None => self.with_outcome(Outcome::Ok, None, None),
            Some(v) => self.with_outcome(
                Outcome::Error,
                Some(AuditCode::Rule(v.code())),
                self.log_id.clone(),
            ),
        }
    }

    /// This entry with its outcome set.
    pub(crate) fn with_outcome(
        &self,
        outcome: Outcome,
        error_code: Option<AuditCode>,
        log_id: Option<String>,
    ) -> Self {
        Self {
            outcome,
            error_code,
            log_id,
            ..self.clone()
        }
    }
}

/// A filter over the audit trail; all fields optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries about this person, as key `root:extension`.
    pub person: Option<String>,
    /// Only entries from this consumer HSA-id.
    pub consumer: Option<String>,
    /// From this time (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// At most this many entries (newest last).
    pub limit: Option<u32>,
}

/// A time as stored: UTC, fixed width with microseconds, so text order is time order.
pub fn stored_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads a stored time.
pub(crate) fn parse_stored_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_sort_as_text_in_time_order_whatever_offset_they_were_given_in() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let (early, late) = (at("2026-11-01T00:30:00+01:00"), at("2026-10-31T23:45:00Z"));
        assert!(early < late);
        assert!(stored_time(early) < stored_time(late));
        assert_eq!(parse_stored_time(&stored_time(late)), Some(late));
    }

    #[test]
    fn every_code_and_source_reads_back_from_its_stored_text() {
        for code in ErrorCode::ALL
            .into_iter()
            .map(AuditCode::Rule)
            .chain(FaultKind::ALL.into_iter().map(AuditCode::Fault))
            .chain(ERASURES.into_iter().map(AuditCode::Erased))
        {
            let back = AuditCode::parse(code.as_str()).unwrap();
            assert_eq!(back.as_str(), code.as_str());
        }
        for source in Contract::ALL
            .into_iter()
            .map(Source::Contract)
            .chain([Source::Import, Source::DemoLoad])
        {
            assert_eq!(Source::parse(source.as_str()), Some(source));
        }
        assert!(Source::Contract(Contract::GetPersonsForProfileUnrestricted).is_unrestricted());
        assert!(!Source::Import.is_unrestricted());
    }
}
