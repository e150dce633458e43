//! The consumer integration report (`pu-adapter report`, `GET /control/report`, the
//! console): what a consumer's system did over a period, judged against the contract.
//! Built from two sources the running server holds: the audit trail (durable, every
//! audited call) and the control plane's call log (in memory, the last
//! `control.journal_size` calls, with what the audit trail lacks: HTTP-level refusals,
//! `Retry-After` answers and a keyed fingerprint of each request).
//!
//! Never personal data: counts, rule IDs, codes, times and correlation ids only. The
//! person a call touched is used to pair an update with the reads before it, and never
//! leaves [`build`].

mod cli;
mod render;

pub use cli::{fetch_and_print, Options, ReportError};
pub use render::{junit, text};

use crate::audit::{AuditCode, AuditEntry, FaultKind, Outcome, Source};
use crate::domain::ErrorCode;
use crate::service::control::{CallLogEntry, Fingerprint};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// `Retry-After` of every 503 the server sends (the transport's overload answer and the
/// injected `unavailable` fault both say 1 second).
const RETRY_AFTER: chrono::Duration = chrono::Duration::seconds(1);

/// Which calls a report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// From this time (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Only this consumer HSA-id; `None`: every consumer.
    pub consumer: Option<String>,
}

impl Scope {
    fn covers(&self, at: DateTime<Utc>, consumer: &str) -> bool {
        self.since.is_none_or(|s| at >= s)
            && self.until.is_none_or(|u| at < u)
            && self.consumer.as_deref().is_none_or(|c| c == consumer)
    }
}

/// What a finding says the consumer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// An update refused by a rule.
    RefusedUpdate,
    /// A refused update sent again unchanged: it can only be refused again.
    ResentUnchanged,
    /// A CO-3 version conflict without a read of the person since its last change.
    UpdateWithoutRead,
    /// A Fault or HTTP refusal caused by the request itself.
    MalformedRequest,
    /// A call on an Unrestricted contract (PR-5).
    UnrestrictedCall,
    /// A call sent again sooner than the `Retry-After` of the 503 before it.
    RetryBeforeRetryAfter,
}

impl Check {
    /// The name in JUnit and text: `refused-update`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Check::RefusedUpdate => "refused-update",
            Check::ResentUnchanged => "resent-unchanged",
            Check::UpdateWithoutRead => "update-without-read",
            Check::MalformedRequest => "malformed-request",
            Check::UnrestrictedCall => "unrestricted-call",
            Check::RetryBeforeRetryAfter => "retry-before-retry-after",
        }
    }

    /// What the consumer should do instead.
    fn advice(self) -> &'static str {
        match self {
            Check::RefusedUpdate => "the update broke this rule and changed nothing; see resultText and docs/rules.md",
            Check::ResentUnchanged => "a refused update is refused again: correct it before sending it again",
            Check::UpdateWithoutRead => "read the person's current record and send its version as versionToUpdate",
            Check::MalformedRequest => "the request itself was refused (see the faultstring with its logId); generate requests from the published WSDL",
            Check::UnrestrictedCall => "the Unrestricted contracts reveal protected persons; use them only where extended access is needed (PR-5)",
            Check::RetryBeforeRetryAfter => "after a 503, wait at least its Retry-After before sending the request again",
        }
    }
}

/// One kind of mistake by one consumer: how often, when first and last, and one
/// correlation id to look it up (`pu-adapter audit`, the server log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Which check found it.
    pub check: Check,
    /// The rule ID (e.g. `CT-4`), the Fault's cause or the HTTP status it is about.
    pub rule: String,
    /// The `errorCode` or cause as the audit trail records it, when there is one.
    pub code: Option<String>,
    /// The consumer's HSA-id (`-` when the request named none).
    pub consumer: String,
    /// How many calls in the window made this mistake.
    pub count: u64,
    /// The first (RFC 3339, UTC).
    pub first: String,
    /// The last (RFC 3339, UTC).
    pub last: String,
    /// The correlation id of the first.
    pub correlation_id: String,
    /// What to do instead.
    pub advice: String,
}

impl Finding {
    /// `check/rule`, the JUnit test case's name.
    pub fn name(&self) -> String {
        format!("{}/{}", self.check.as_str(), self.rule)
    }
}

/// Calls of one consumer on one contract that ended one way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCount {
    /// The consumer's HSA-id (`-` when the request named none).
    pub consumer: String,
    /// The contract's published name.
    pub contract: String,
    /// `OK`, `ERROR`, `FAULT` (audited calls) or `HTTP 503`, `HTTP 413`, … (refused
    /// before the service read them; from the call log).
    pub result: String,
    /// How many calls in the window.
    pub count: u64,
}

/// How much of the period the call log covered: the findings that need it are complete
/// only when it reaches back to the period's start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLogCoverage {
    /// Calls held (all consumers).
    pub entries: usize,
    /// At most this many are held.
    pub capacity: usize,
    /// The oldest call held.
    pub oldest: Option<String>,
    /// Whether calls of the period may have left the log already.
    pub truncated: bool,
}

/// The consumer report over one time window: counts per contract and result, and findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// When it was made.
    pub generated_at: String,
    /// The period's start, if given.
    pub since: Option<String>,
    /// The period's end, if given.
    pub until: Option<String>,
    /// The consumer, if one was asked for.
    pub consumer: Option<String>,
    /// Calls per consumer, contract and result.
    pub calls: Vec<CallCount>,
    /// What the consumer did wrong; empty when nothing.
    pub findings: Vec<Finding>,
    /// How far back the call log reached.
    pub call_log: CallLogCoverage,
}

impl Report {
    /// Whether no rule was broken.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What [`build`] reads.
#[derive(Debug)]
pub struct Sources<'a> {
    /// The audit trail up to the period's end (oldest first), every consumer: updates are
    /// judged against other consumers' changes, and reads before the period.
    pub audit: &'a [AuditEntry],
    /// The call log, oldest first.
    pub calls: &'a [CallLogEntry],
    /// The call log's capacity.
    pub call_log_capacity: usize,
}

/// The report for `scope` from a server's audit trail and call log. Blocks: the audit
/// query waits for the indexer to catch up with the journal.
pub(crate) fn gather(
    service: &crate::service::Service,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Report, crate::store::StoreError> {
    let control = service.control();
    let capacity = control.call_log_capacity();
    let calls = control.call_log(capacity);
    // Every consumer and everything before the period: an update is judged against other
    // consumers' changes and the reads that came before it.
    let wanted = crate::audit::AuditQuery {
        until: scope.until,
        ..crate::audit::AuditQuery::default()
    };
    let audit = service.stores().audit.query(&wanted)?;
    let sources = Sources {
        audit: &audit,
        calls: &calls,
        call_log_capacity: capacity,
    };
    Ok(build(&sources, scope, now))
}

/// Makes the report for `scope`.
pub fn build(sources: &Sources<'_>, scope: &Scope, now: DateTime<Utc>) -> Report {
    let mut findings = Findings::default();
    judge_audit(sources.audit, scope, &mut findings);
    let refusals = refusal_codes(sources.audit);
    judge_call_log(sources.calls, scope, &refusals, &mut findings);
    Report {
        generated_at: time(now),
        since: scope.since.map(time),
        until: scope.until.map(time),
        consumer: scope.consumer.clone(),
        calls: count_calls(sources, scope),
        findings: findings.into_sorted(),
        call_log: coverage(sources, scope),
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Findings being gathered, one per (consumer, check, rule).
#[derive(Default)]
struct Findings(BTreeMap<(String, Check, String), Finding>);

impl Findings {
    fn add(
        &mut self,
        check: Check,
        rule: &str,
        code: Option<&str>,
        consumer: &str,
        at: DateTime<Utc>,
        correlation_id: &str,
    ) {
        let consumer = if consumer.is_empty() { "-" } else { consumer };
        let at = time(at);
        self.0
            .entry((consumer.to_owned(), check, rule.to_owned()))
            .and_modify(|f| {
                f.count += 1;
                f.last.clone_from(&at);
            })
            .or_insert_with(|| Finding {
                check,
                rule: rule.to_owned(),
                code: code.map(str::to_owned),
                consumer: consumer.to_owned(),
                count: 1,
                first: at.clone(),
                last: at,
                correlation_id: correlation_id.to_owned(),
                advice: check.advice().to_owned(),
            });
    }

    fn into_sorted(self) -> Vec<Finding> {
        self.0.into_values().collect()
    }
}

/// The rule ID of an `errorCode`, as docs/contract.md pairs them; where one code serves
/// two rules both are named.
fn rule_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidPersonId => "ID-1/ID-2",
        ErrorCode::PersonNotFound => "ID-2",
        ErrorCode::ContactTypeNotAllowed => "CT-1",
        ErrorCode::ContactQualifierNotAllowed => "CT-2",
        ErrorCode::TooManyContacts => "CT-3",
        ErrorCode::InvalidPhoneNumber => "CT-4",
        ErrorCode::InvalidEmailAddress => "CT-5",
        ErrorCode::ContactPersonNotAllowed => "CT-6",
        ErrorCode::DigitalNotificationRequired => "DN-1/DN-2",
        ErrorCode::ActorInvalid => "CO-1",
        ErrorCode::VersionConflict => "CO-3",
        ErrorCode::ProtectedPerson => "PR-2",
        ErrorCode::PersonDeregistered => "PR-6",
    }
}

/// Faults the caller's request caused; the rest (`STORAGE`, `TIMEOUT`) are ours.
fn callers_fault(kind: FaultKind) -> bool {
    !matches!(kind, FaultKind::Storage | FaultKind::Timeout)
}

fn is_update(contract: Source) -> bool {
    matches!(contract, Source::Contract(c) if c.access().is_some() && !c.is_read())
}

fn is_read(contract: Source) -> bool {
    matches!(contract, Source::Contract(c) if c.is_read())
}

/// Who last knew which version: per person the time of its last change, per consumer and
/// person the time the consumer last saw the record (a read, or its own accepted update,
/// whose answer carries the new version).
#[derive(Default)]
struct Versions<'a> {
    changed: HashMap<&'a str, DateTime<Utc>>,
    seen: HashMap<(&'a str, &'a str), DateTime<Utc>>,
}

impl<'a> Versions<'a> {
    /// Takes in one entry; for a version conflict, whether the consumer had seen the
    /// current version (then it lost a race, or sent another version than it read).
    fn observe(&mut self, e: &'a AuditEntry) -> Option<bool> {
        let (person, consumer) = (e.person.as_str(), e.consumer.as_str());
        if person.is_empty() {
            return None;
        }
        match (e.contract, e.outcome) {
            (Source::Import | Source::DemoLoad, _) => {
                self.changed.insert(person, e.at);
                None
            }
            (c, Outcome::Ok) if is_read(c) => {
                self.seen.insert((consumer, person), e.at);
                None
            }
            (c, Outcome::Ok) if is_update(c) => {
                self.changed.insert(person, e.at);
                self.seen.insert((consumer, person), e.at);
                None
            }
            (c, Outcome::Error)
                if is_update(c)
                    && e.error_code == Some(AuditCode::Rule(ErrorCode::VersionConflict)) =>
            {
                let seen = self.seen.get(&(consumer, person));
                let changed = self.changed.get(person);
                Some(seen.is_some_and(|s| changed.is_none_or(|c| s >= c)))
            }
            _ => None,
        }
    }
}

/// Refused updates per rule, version conflicts without a read, the request's own Faults
/// and Unrestricted calls, from the audit trail.
fn judge_audit(audit: &[AuditEntry], scope: &Scope, findings: &mut Findings) {
    let mut versions = Versions::default();
    // One call may touch several persons: an Unrestricted call counts once.
    let mut unrestricted_calls = std::collections::HashSet::new();
    for e in audit {
        let conflict_seen_current = versions.observe(e);
        if !matches!(e.contract, Source::Contract(_)) || !scope.covers(e.at, &e.consumer) {
            continue;
        }
        let (consumer, corr) = (e.consumer.as_str(), e.correlation_id.as_str());
        if e.unrestricted && unrestricted_calls.insert((consumer, corr, e.contract.as_str())) {
            findings.add(Check::UnrestrictedCall, "PR-5", None, consumer, e.at, corr);
        }
        match (e.outcome, e.error_code) {
            (Outcome::Error, Some(AuditCode::Rule(code))) if is_update(e.contract) => {
                let check = match conflict_seen_current {
                    Some(false) => Check::UpdateWithoutRead,
                    _ => Check::RefusedUpdate,
                };
                findings.add(
                    check,
                    rule_of(code),
                    Some(code.as_str()),
                    consumer,
                    e.at,
                    corr,
                );
            }
            (Outcome::Fault, Some(AuditCode::Fault(kind))) if callers_fault(kind) => {
                findings.add(
                    Check::MalformedRequest,
                    kind.as_str(),
                    Some(kind.as_str()),
                    consumer,
                    e.at,
                    corr,
                );
            }
            _ => {}
        }
    }
}

/// The refusing code of each refused update, by correlation id.
fn refusal_codes(audit: &[AuditEntry]) -> HashMap<&str, ErrorCode> {
    audit
        .iter()
        .filter(|e| e.outcome == Outcome::Error && is_update(e.contract))
        .filter_map(|e| match e.error_code {
            Some(AuditCode::Rule(code)) => Some((e.correlation_id.as_str(), code)),
            _ => None,
        })
        .collect()
}

/// HTTP-level refusals the request caused, refused updates sent again unchanged, and
/// retries before `Retry-After`, from the call log.
fn judge_call_log(
    calls: &[CallLogEntry],
    scope: &Scope,
    refusals: &HashMap<&str, ErrorCode>,
    findings: &mut Findings,
) {
    let mut refused: HashMap<(&str, Fingerprint), ErrorCode> = HashMap::new();
    // The last 503 per consumer and contract not yet followed by a call.
    let mut unavailable: HashMap<(&str, &str), &CallLogEntry> = HashMap::new();
    for call in calls {
        let consumer = call.consumer.as_str();
        let covered = scope.covers(call.arrived(), consumer);
        if let Some(earlier) = unavailable.remove(&(consumer, call.contract)) {
            let same_request =
                earlier.fingerprint.is_none() || earlier.fingerprint == call.fingerprint;
            if covered && same_request && call.arrived() < earlier.at + RETRY_AFTER {
                findings.add(
                    Check::RetryBeforeRetryAfter,
                    "HTTP-503",
                    Some("Retry-After"),
                    consumer,
                    call.arrived(),
                    &call.correlation_id,
                );
            }
        }
        match call.result {
            "503" => {
                unavailable.insert((consumer, call.contract), call);
            }
            "400" | "413" | "415" if covered => findings.add(
                Check::MalformedRequest,
                &format!("HTTP-{}", call.result),
                None,
                consumer,
                call.arrived(),
                &call.correlation_id,
            ),
            _ => {}
        }
        let Some(fingerprint) = call.fingerprint else {
            continue;
        };
        if let Some(code) = refused.get(&(consumer, fingerprint)) {
            if covered && call.contract.starts_with("Update") {
                findings.add(
                    Check::ResentUnchanged,
                    rule_of(*code),
                    Some(code.as_str()),
                    consumer,
                    call.arrived(),
                    &call.correlation_id,
                );
            }
        }
        if call.result == "ERROR" {
            if let Some(code) = refusals.get(call.correlation_id.as_str()) {
                refused.insert((consumer, fingerprint), *code);
            }
        }
    }
}

/// Audited calls (one per correlation id and contract, its worst outcome) and the call
/// log's HTTP-level refusals, per consumer, contract and result.
fn count_calls(sources: &Sources<'_>, scope: &Scope) -> Vec<CallCount> {
    let mut calls: BTreeMap<(&str, &str, &str), Outcome> = BTreeMap::new();
    for e in sources.audit {
        if !matches!(e.contract, Source::Contract(_)) || !scope.covers(e.at, &e.consumer) {
            continue;
        }
        let key = (
            e.consumer.as_str(),
            e.contract.as_str(),
            e.correlation_id.as_str(),
        );
        let outcome = calls.entry(key).or_insert(e.outcome);
        *outcome = worst(*outcome, e.outcome);
    }
    let mut counts: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for ((consumer, contract, _), outcome) in calls {
        *counts
            .entry((
                consumer.to_owned(),
                contract.to_owned(),
                outcome.as_str().to_owned(),
            ))
            .or_default() += 1;
    }
    for call in sources.calls {
        let http_level = matches!(call.result, "400" | "413" | "415" | "503");
        if http_level && scope.covers(call.arrived(), &call.consumer) {
            *counts
                .entry((
                    call.consumer.clone(),
                    call.contract.to_owned(),
                    format!("HTTP {}", call.result),
                ))
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((consumer, contract, result), count)| CallCount {
            consumer: if consumer.is_empty() {
                "-".into()
            } else {
                consumer
            },
            contract,
            result,
            count,
        })
        .collect()
}

fn worst(a: Outcome, b: Outcome) -> Outcome {
    let rank = |o| match o {
        Outcome::Ok => 0,
        Outcome::Error => 1,
        Outcome::Fault => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn coverage(sources: &Sources<'_>, scope: &Scope) -> CallLogCoverage {
    let oldest = sources.calls.first().map(|c| c.at);
    let full = sources.calls.len() >= sources.call_log_capacity;
    CallLogCoverage {
        entries: sources.calls.len(),
        capacity: sources.call_log_capacity,
        oldest: oldest.map(time),
        // A full log has dropped calls; they matter unless the period starts after them.
        truncated: full && !matches!((scope.since, oldest), (Some(s), Some(o)) if s >= o),
    }
}
