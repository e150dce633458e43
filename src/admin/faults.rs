//! Fault rules (`/control/faults`): a posted rule checked field by field, and rules shown
//! as JSON.

use super::{json, text, Admin, Resp};
use crate::contracts::Contract;
use crate::service::control::{FaultRule, Injection};
use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use std::time::Duration;

/// A fault rule as posted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FaultJson {
    contract: String,
    person: Option<String>,
    fault: String,
    delay_ms: Option<i64>,
    count: Option<i64>,
    probability: Option<f64>,
}

pub(super) fn add_fault(admin: &Admin, body: &Bytes) -> Resp {
    match fault_rule(body) {
        Ok(rule) => {
            let shown = rule_json(&rule);
            match admin.service.control().add_fault(rule) {
                Ok(()) => json(StatusCode::CREATED, &shown),
                Err(full) => text(
                    StatusCode::BAD_REQUEST,
                    format!("{full}; nothing was changed (DELETE /control/faults clears them)\n"),
                ),
            }
        }
        Err(problem) => text(
            StatusCode::BAD_REQUEST,
            format!("{problem}; nothing was changed\n"),
        ),
    }
}

/// Why a fault rule was refused: the first problem found, named by its field.
#[derive(Debug, thiserror::Error)]
enum FaultRuleError {
    #[error("not a fault rule: {0}")]
    NotARule(#[source] serde_json::Error),
    #[error("contract {given:?} is not one of {}", Contract::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(", "))]
    UnknownContract { given: String },
    #[error("delayMs {0} is outside 0..=60000")]
    DelayOutOfRange(i64),
    #[error("fault \"delay\" needs delayMs")]
    DelayMissing,
    #[error("delayMs goes only with fault \"delay\"")]
    DelayWithoutDelayFault,
    #[error("fault {0:?} is not one of delay, server, unavailable, close")]
    UnknownFault(String),
    #[error("count {0} is too large")]
    CountTooLarge(i64),
    #[error("count {0} must be at least 1 (omit it for no limit)")]
    CountBelowOne(i64),
    #[error("probability {0} must be in (0, 1]")]
    Probability(f64),
}

/// Every field checked; the first problem is named.
fn fault_rule(body: &[u8]) -> Result<FaultRule, FaultRuleError> {
    let f: FaultJson = serde_json::from_slice(body).map_err(FaultRuleError::NotARule)?;
    let contract =
        Contract::from_name(&f.contract).ok_or_else(|| FaultRuleError::UnknownContract {
            given: f.contract.clone(),
        })?;
    let injection = match (f.fault.as_str(), f.delay_ms) {
        ("delay", Some(ms)) if (0..=60_000).contains(&ms) => {
            Injection::Delay(Duration::from_millis(ms.unsigned_abs()))
        }
        ("delay", Some(ms)) => return Err(FaultRuleError::DelayOutOfRange(ms)),
        ("delay", None) => return Err(FaultRuleError::DelayMissing),
        (_, Some(_)) => return Err(FaultRuleError::DelayWithoutDelayFault),
        ("server", None) => Injection::ServerFault,
        ("unavailable", None) => Injection::Unavailable,
        ("close", None) => Injection::Close,
        (other, None) => return Err(FaultRuleError::UnknownFault(other.to_owned())),
    };
    let remaining = match f.count {
        Some(n) if n >= 1 => Some(u32::try_from(n).map_err(|_| FaultRuleError::CountTooLarge(n))?),
        Some(n) => return Err(FaultRuleError::CountBelowOne(n)),
        None => None,
    };
    let probability = f.probability.unwrap_or(1.0);
    if !(probability > 0.0 && probability <= 1.0) {
        return Err(FaultRuleError::Probability(probability));
    }
    Ok(FaultRule {
        contract,
        person: f.person.filter(|p| !p.is_empty()),
        injection,
        remaining,
        probability,
    })
}

pub(super) fn rule_json(rule: &FaultRule) -> serde_json::Value {
    let (fault, delay) = match rule.injection {
        Injection::Delay(d) => ("delay", Some(d.as_millis())),
        Injection::ServerFault => ("server", None),
        Injection::Unavailable => ("unavailable", None),
        Injection::Close => ("close", None),
    };
    serde_json::json!({"contract": rule.contract.name(), "person": rule.person, "fault": fault, "delayMs": delay, "remaining": rule.remaining, "probability": rule.probability})
}
