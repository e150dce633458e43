//! The test-control plane for staging and conformance suites (off unless enabled): fault
//! injection per contract and optionally per person, and the call log of the last calls
//! (in memory; not the audit journal of `crate::store::journal`). The admin listener
//! exposes it; the transport asks it before answering.

use super::{Contract, RequestResult};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// Most fault rules in force at once (README, "For test suites and staging"): every
/// request of the SOAP listener scans them under one lock, so a client of the control API
/// must not be able to make that list grow without end.
pub const MAX_FAULT_RULES: usize = 64;

/// A rule refused because [`MAX_FAULT_RULES`] are in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("at most {MAX_FAULT_RULES} fault rules are kept at once")]
pub struct TooManyRules;

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer with a `soap:Server` Fault.
    ServerFault,
    /// Answer HTTP 503 with Retry-After.
    Unavailable,
    /// Close the connection without an answer.
    Close,
}

/// One fault rule, as posted to `/control/faults`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The contract it applies to.
    pub contract: Contract,
    /// Only requests naming this identifier (its extension), if set.
    pub person: Option<String>,
    /// The fault, delay or wrong answer to give instead.
    pub injection: Injection,
    /// How many more requests it applies to; `None`: until cleared.
    pub remaining: Option<u32>,
    /// The share of matching requests it applies to, 0–1.
    pub probability: f64,
}

/// One line of the call log: no personal data unless the deployment asks for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLogEntry {
    /// When the answer left (RFC 3339 with milliseconds, UTC).
    #[serde(serialize_with = "millisecond_time")]
    pub at: DateTime<Utc>,
    /// The consumer's HSA-id (`-` when none could be read).
    pub consumer: String,
    /// The contract's published name, or the path when none matched.
    pub contract: &'static str,
    /// The caller's `x-skltp-correlation-id`, or the one made up for it.
    pub correlation_id: String,
    /// OK, ERROR, a Fault code or an HTTP status.
    pub result: &'static str,
    /// Milliseconds from request to answer.
    pub latency_ms: f64,
    /// The request body, only with `control.journal_personal_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Tells whether two requests said the same thing, without their values; never shown.
    #[serde(skip)]
    pub fingerprint: Option<Fingerprint>,
}

impl CallLogEntry {
    /// When the request arrived: the answer's time less its latency.
    pub fn arrived(&self) -> DateTime<Utc> {
        let latency = chrono::Duration::microseconds((self.latency_ms * 1000.0) as i64);
        self.at - latency
    }
}

fn millisecond_time<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A keyed digest of what a request says: the SOAP Body's element names, attributes and
/// trimmed texts, so a request resent with other prefixes, white space, header or
/// correlation id has the same fingerprint. The key is drawn at start and never leaves
/// the process, so a fingerprint cannot be checked against guessed values (a phone number
/// has few enough of them to try all).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprint(…)")
    }
}

/// The per-process key of [`Fingerprint`]s.
struct FingerprintKey(ring::hmac::Key);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(…)")
    }
}

impl FingerprintKey {
    fn random() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let key = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
            // Without an entropy source a fixed key still tells requests apart; it only
            // loses the protection against guessing.
            .unwrap_or_else(|_| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"pu-adapter"));
        Self(key)
    }

    /// The fingerprint of a request body; an unreadable body is digested as bytes.
    fn of(&self, body: &[u8]) -> Option<Fingerprint> {
        if body.is_empty() {
            return None;
        }
        let mut ctx = ring::hmac::Context::with_key(&self.0);
        match crate::soap::read_envelope(body, crate::xml::Limits::default()) {
            Ok(envelope) => canonical(&envelope.body, &mut ctx),
            Err(_) => ctx.update(body),
        }
        let tag = ctx.sign();
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag.as_ref()[..16]);
        Some(Fingerprint(out))
    }
}

/// Feeds an element's namespace, name, attributes (sorted), trimmed text and children.
fn canonical(element: &crate::xml::Element, ctx: &mut ring::hmac::Context) {
    let mut field = |bytes: &[u8]| {
        // Lengths first, so "ab"+"c" and "a"+"bc" differ.
        ctx.update(&(bytes.len() as u64).to_le_bytes());
        ctx.update(bytes);
    };
    field(element.ns.as_deref().unwrap_or_default().as_bytes());
    field(element.name.as_bytes());
    let mut attrs: Vec<_> = element
        .attrs
        .iter()
        .map(|a| (a.ns.as_deref().unwrap_or_default(), &a.name, &a.value))
        .collect();
    attrs.sort();
    for (ns, name, value) in attrs {
        field(ns.as_bytes());
        field(name.as_bytes());
        field(value.as_bytes());
    }
    field(element.text.trim().as_bytes());
    ctx.update(&(element.children.len() as u64).to_le_bytes());
    for child in &element.children {
        canonical(child, ctx);
    }
}

/// Whether the call log keeps each request's body (personal data) beside its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallLogBodies {
    /// Summaries only: no personal data (the default).
    Withheld,
    /// The request bodies too (`control.journal_personal_data = true`).
    Kept,
}

/// Fault rules and the call log.
#[derive(Debug)]
pub struct Control {
    enabled: bool,
    personal_data: bool,
    capacity: usize,
    faults: Mutex<Vec<FaultRule>>,
    call_log: Mutex<VecDeque<CallLogEntry>>,
    fingerprints: FingerprintKey,
    draws: Mutex<u64>,
}

impl Control {
    /// The control plane of a service without the control API: it injects nothing and
    /// records nothing.
    pub fn disabled() -> Self {
        Self::with(false, CallLogBodies::Withheld, 1)
    }

    /// An enabled control plane keeping the last `capacity` calls.
    pub fn keeping(bodies: CallLogBodies, capacity: usize) -> Self {
        Self::with(true, bodies, capacity)
    }

    fn with(enabled: bool, bodies: CallLogBodies, capacity: usize) -> Self {
        Self {
            enabled,
            personal_data: bodies == CallLogBodies::Kept,
            capacity: capacity.max(1),
            faults: Mutex::new(Vec::new()),
            call_log: Mutex::new(VecDeque::new()),
            fingerprints: FingerprintKey::random(),
            draws: Mutex::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    /// Whether the control plane is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Adds a rule, unless [`MAX_FAULT_RULES`] are in force; used-up rules (their count
    /// reached) are listed until their place is needed.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), TooManyRules> {
        let mut faults = self
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if faults.len() >= MAX_FAULT_RULES {
            faults.retain(|r| r.remaining != Some(0));
        }
        if faults.len() >= MAX_FAULT_RULES {
            return Err(TooManyRules);
        }
        faults.push(rule);
        Ok(())
    }

    /// Removes every injection rule; requests are answered normally again.
    pub fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// A copy of the injection rules in force, in the order they are tried.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// What to inject into a request of `contract` with this body, if any rule matches.
    pub fn injection(&self, contract: Contract, body: &[u8]) -> Option<Injection> {
        if !self.enabled {
            return None;
        }
        let mut faults = self
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let draw = self.draw();
        let index = faults.iter().position(|r| {
            r.contract == contract
                && r.remaining != Some(0)
                && r.person
                    .as_ref()
                    .is_none_or(|p| contains(body, p.as_bytes()))
                && draw < r.probability
        })?;
        let rule = &mut faults[index];
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some(rule.injection)
    }

    /// A uniform draw in [0, 1) (xorshift: reproducible, no dependency).
    fn draw(&self) -> f64 {
        let mut x = self
            .draws
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        (*x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Records an answered call (kept: the last `capacity`).
    pub fn record(
        &self,
        contract: Contract,
        consumer: Option<&str>,
        correlation_id: &str,
        result: RequestResult,
        latency: Duration,
        body: &[u8],
    ) {
        if !self.enabled {
            return;
        }
        let entry = CallLogEntry {
            at: Utc::now(),
            consumer: consumer.unwrap_or("-").to_owned(),
            contract: contract.name(),
            correlation_id: correlation_id.to_owned(),
            result: result.as_str(),
            latency_ms: latency.as_secs_f64() * 1000.0,
            request: self
                .personal_data
                .then(|| String::from_utf8_lossy(body).into_owned()),
            fingerprint: self.fingerprints.of(body),
        };
        let mut call_log = self
            .call_log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if call_log.len() == self.capacity {
            call_log.pop_front();
        }
        call_log.push_back(entry);
    }

    /// The last `n` entries of the call log, oldest first.
    pub fn call_log(&self, n: usize) -> Vec<CallLogEntry> {
        let call_log = self
            .call_log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        call_log
            .iter()
            .skip(call_log.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// How many calls the call log keeps (`control.journal_size`).
    pub fn call_log_capacity(&self) -> usize {
        self.capacity
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_contract_and_person_count_down_and_a_disabled_plane_does_nothing() {
        let c = Control::keeping(CallLogBodies::Withheld, 2);
        c.add_fault(FaultRule {
            contract: Contract::GetPersonsForProfile,
            person: Some("191212121212".into()),
            injection: Injection::Unavailable,
            remaining: Some(1),
            probability: 1.0,
        })
        .unwrap();
        assert_eq!(
            c.injection(Contract::GetPersonContactInformation, b"191212121212"),
            None
        );
        assert_eq!(
            c.injection(Contract::GetPersonsForProfile, b"198503142385"),
            None
        );
        assert_eq!(
            c.injection(Contract::GetPersonsForProfile, b"x191212121212x"),
            Some(Injection::Unavailable)
        );
        assert_eq!(
            c.injection(Contract::GetPersonsForProfile, b"x191212121212x"),
            None,
            "count used up"
        );
        let off = Control::disabled();
        off.add_fault(FaultRule {
            contract: Contract::GetPersonsForProfile,
            person: None,
            injection: Injection::Close,
            remaining: None,
            probability: 1.0,
        })
        .unwrap();
        assert_eq!(off.injection(Contract::GetPersonsForProfile, b""), None);
        for i in 0..3 {
            c.record(
                Contract::GetPersonsForProfile,
                Some("SE1"),
                &format!("c{i}"),
                RequestResult::Ok,
                Duration::from_millis(1),
                b"secret",
            );
        }
        let j = c.call_log(10);
        assert_eq!(
            j.iter()
                .map(|e| e.correlation_id.as_str())
                .collect::<Vec<_>>(),
            ["c1", "c2"]
        );
        assert!(
            j.iter().all(|e| e.request.is_none()),
            "no personal data by default"
        );
    }

    #[test]
    fn a_fingerprint_ignores_prefixes_white_space_and_header_but_not_a_value() {
        let key = FingerprintKey::random();
        let envelope = |header: &str, body: &str| {
            format!(
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
            )
        };
        let update = |prefix: &str, value: &str, gap: &str| {
            format!(
                r#"<{prefix}:U xmlns:{prefix}="urn:x">{gap}<{prefix}:value>{value}</{prefix}:value>{gap}</{prefix}:U>"#
            )
        };
        let first = key.of(envelope("<a>1</a>", &update("p", "+46701234567", "")).as_bytes());
        let resent = key.of(envelope("<a>2</a>", &update("q", "+46701234567", "\n  ")).as_bytes());
        let changed = key.of(envelope("<a>1</a>", &update("p", "+46701234568", "")).as_bytes());
        assert!(first.is_some());
        assert_eq!(first, resent, "the same update sent again");
        assert_ne!(first, changed, "another value");
        assert_eq!(key.of(b""), None);
        assert_eq!(
            key.of(b"not xml"),
            key.of(b"not xml"),
            "unreadable: its bytes"
        );
        assert_ne!(
            FingerprintKey::random().of(b"not xml"),
            key.of(b"not xml"),
            "another process, another key"
        );
        assert_eq!(format!("{first:?}"), "Some(Fingerprint(…))");
    }

    #[test]
    fn at_most_max_fault_rules_are_in_force_and_used_up_ones_make_room() {
        let c = Control::keeping(CallLogBodies::Withheld, 2);
        let rule = |remaining| FaultRule {
            contract: Contract::PingForConfiguration,
            person: None,
            injection: Injection::ServerFault,
            remaining,
            probability: 1.0,
        };
        for _ in 0..MAX_FAULT_RULES {
            assert_eq!(c.add_fault(rule(Some(1))), Ok(()));
        }
        assert_eq!(c.add_fault(rule(None)), Err(TooManyRules));
        assert_eq!(c.faults().len(), MAX_FAULT_RULES);
        // One rule used up: its place can be taken, once.
        assert_eq!(
            c.injection(Contract::PingForConfiguration, b""),
            Some(Injection::ServerFault)
        );
        assert_eq!(c.add_fault(rule(None)), Ok(()));
        assert_eq!(c.add_fault(rule(None)), Err(TooManyRules));
        assert_eq!(c.faults().len(), MAX_FAULT_RULES);
    }
}
