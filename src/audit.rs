//! The audit trail (AC-2): one append-only entry per person touched by a call, and
//! queries over it. Never holds contact values (CO-2).

use serde::Serialize;

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
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Error => "ERROR",
            Outcome::Fault => "FAULT",
        }
    }

    /// Reads the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "OK" => Some(Outcome::Ok),
            "ERROR" => Some(Outcome::Error),
            "FAULT" => Some(Outcome::Fault),
            _ => None,
        }
    }
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// When (UTC, RFC 3339).
    pub at: String,
    /// The consumer's HSA-id.
    pub consumer: String,
    /// The contract name.
    pub contract: String,
    /// Called through an Unrestricted contract (PR-5).
    pub unrestricted: bool,
    /// The LogicalAddress header.
    pub logical_address: String,
    /// `x-skltp-correlation-id`.
    pub correlation_id: String,
    /// The person's identifier `root:extension` as sent; empty when none could be read.
    pub person: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The error code or fault kind, if any.
    pub error_code: Option<String>,
    /// The log id of an error or fault.
    pub log_id: Option<String>,
}

impl AuditEntry {
    /// An entry stamped now, outcome OK, for one access of `person` by `consumer`.
    pub fn now(consumer: &str, contract: &str, unrestricted: bool, logical_address: &str, correlation_id: &str, person: String) -> Self {
        Self {
            at: now_rfc3339(),
            consumer: consumer.to_owned(),
            contract: contract.to_owned(),
            unrestricted,
            logical_address: logical_address.to_owned(),
            correlation_id: correlation_id.to_owned(),
            person,
            outcome: Outcome::Ok,
            error_code: None,
            log_id: None,
        }
    }

    /// This entry for another person.
    pub fn for_person(&self, person: String) -> Self {
        Self { person, ..self.clone() }
    }

    /// This entry with its outcome set.
    pub fn with_outcome(&self, outcome: Outcome, error_code: Option<&str>, log_id: Option<String>) -> Self {
        Self { outcome, error_code: error_code.map(str::to_owned), log_id, ..self.clone() }
    }
}

/// A filter over the audit trail; all fields optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Person key `root:extension`.
    pub person: Option<String>,
    /// Consumer HSA-id.
    pub consumer: Option<String>,
    /// From this time (RFC 3339, inclusive).
    pub since: Option<String>,
    /// Until this time (RFC 3339, exclusive).
    pub until: Option<String>,
    /// At most this many entries (newest last).
    pub limit: Option<u32>,
}

/// Now, as stored in `at`: UTC with microseconds so entries sort by time.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
