//! The test-control plane for staging and conformance suites (off unless enabled): fault
//! injection per contract and optionally per person, and a journal of the last calls.
//! The admin listener exposes it; the transport asks it before answering.

use super::{Contract, RequestResult};
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
    /// What to do.
    pub injection: Injection,
    /// How many more requests it applies to; `None`: until cleared.
    pub remaining: Option<u32>,
    /// The share of matching requests it applies to, 0–1.
    pub probability: f64,
}

/// One journal line: no personal data unless the deployment asks for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// When the answer left (RFC 3339, UTC).
    pub at: String,
    /// The consumer's HSA-id.
    pub consumer: String,
    /// The contract.
    pub contract: &'static str,
    /// `x-skltp-correlation-id`.
    pub correlation_id: String,
    /// OK, ERROR, a Fault code or an HTTP status.
    pub result: &'static str,
    /// Milliseconds from request to answer.
    pub latency_ms: f64,
    /// The request body, only with `control.journal_personal_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

/// Fault rules and the journal.
#[derive(Debug)]
pub struct Control {
    enabled: bool,
    personal_data: bool,
    capacity: usize,
    faults: Mutex<Vec<FaultRule>>,
    journal: Mutex<VecDeque<JournalEntry>>,
    draws: Mutex<u64>,
}

impl Control {
    /// A control plane; disabled, it injects nothing and records nothing.
    pub fn new(enabled: bool, personal_data: bool, capacity: usize) -> Self {
        Self {
            enabled,
            personal_data,
            capacity: capacity.max(1),
            faults: Mutex::new(Vec::new()),
            journal: Mutex::new(VecDeque::new()),
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

    /// Removes every rule.
    pub fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The rules now.
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
        let entry = JournalEntry {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            consumer: consumer.unwrap_or("-").to_owned(),
            contract: contract.name(),
            correlation_id: correlation_id.to_owned(),
            result: result.as_str(),
            latency_ms: latency.as_secs_f64() * 1000.0,
            request: self
                .personal_data
                .then(|| String::from_utf8_lossy(body).into_owned()),
        };
        let mut journal = self
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if journal.len() == self.capacity {
            journal.pop_front();
        }
        journal.push_back(entry);
    }

    /// The last `n` entries, oldest first.
    pub fn journal(&self, n: usize) -> Vec<JournalEntry> {
        let journal = self
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        journal
            .iter()
            .skip(journal.len().saturating_sub(n))
            .cloned()
            .collect()
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
        let c = Control::new(true, false, 2);
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
        let off = Control::new(false, false, 2);
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
        let j = c.journal(10);
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
    fn at_most_max_fault_rules_are_in_force_and_used_up_ones_make_room() {
        let c = Control::new(true, false, 2);
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
