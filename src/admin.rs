//! The admin listener: `/metrics` (OpenMetrics text), `/livez` and `/readyz` (`/health` is
//! `/readyz`), and, when enabled, the test-control API under `/control/` (reset to a
//! population file, fault injection, the request journal). Plain HTTP on a separate
//! address, bound to localhost by default.

use crate::domain::IdentifierPolicy;
use crate::metrics::Metrics;
use crate::service::control::{FaultRule, Injection};
use crate::service::{Contract, Service};
use crate::store::PersonStore;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Largest population file `/control/reset` takes.
const MAX_RESET_BYTES: usize = 256 * 1024 * 1024;

/// What the admin listener serves from.
pub(crate) struct Admin {
    pub(crate) metrics: &'static Metrics,
    pub(crate) store: Arc<dyn PersonStore>,
    pub(crate) service: Arc<Service>,
    pub(crate) policy: IdentifierPolicy,
    /// Bearer token for `/control/*`, when configured.
    pub(crate) token: Option<String>,
}

type Resp = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    resp
}

fn text(status: StatusCode, body: impl Into<String>) -> Resp {
    reply(status, "text/plain; charset=utf-8", body.into())
}

fn json(status: StatusCode, value: &serde_json::Value) -> Resp {
    reply(status, "application/json", format!("{value}\n"))
}

/// Answers one admin request.
pub(crate) async fn handle(
    req: Request<hyper::body::Incoming>,
    admin: Arc<Admin>,
) -> Result<Resp, std::convert::Infallible> {
    let path = req.uri().path().to_owned();
    Ok(match path.as_str() {
        "/metrics" => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            admin.metrics.render(),
        ),
        "/livez" => text(StatusCode::OK, "alive\n"),
        "/readyz" | "/health" => {
            let (status, body) = readiness(admin.metrics, admin.store.clone()).await;
            text(status, body)
        }
        p if p.starts_with("/control/") => control(req, &admin).await,
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /livez, /readyz or /metrics\n",
        ),
    })
}

/// Ready unless draining, the store does not answer, or its last operation failed.
async fn readiness(metrics: &'static Metrics, store: Arc<dyn PersonStore>) -> (StatusCode, String) {
    let health = metrics.health();
    if health.draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "draining: finishing requests before stopping\n".to_owned(),
        );
    }
    match tokio::task::spawn_blocking(move || store.ping()).await {
        Ok(Ok(())) if health.store_failing() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "store failing: the last store operation failed (see the ERROR log)\n".to_owned(),
        ),
        Ok(Ok(())) => (StatusCode::OK, "ready\n".to_owned()),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}\n"),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store check failed: {e}\n"),
        ),
    }
}

/// `/control/*`: off unless enabled; with a token configured, only with `Authorization: Bearer <token>`.
async fn control(req: Request<hyper::body::Incoming>, admin: &Admin) -> Resp {
    if !admin.service.control().enabled() {
        return text(
            StatusCode::NOT_FOUND,
            "the test-control API is off (control.enabled = false)\n",
        );
    }
    if let Some(token) = admin.token.as_deref().filter(|t| !t.is_empty()) {
        let given = req.headers().get(hyper::header::AUTHORIZATION);
        if !bearer_matches(given, token) {
            return text(
                StatusCode::UNAUTHORIZED,
                "the test-control API needs Authorization: Bearer <control.token>\n",
            );
        }
    }
    let (method, path, query) = (
        req.method().clone(),
        req.uri().path().to_owned(),
        req.uri().query().unwrap_or("").to_owned(),
    );
    let body = match Limited::new(req.into_body(), MAX_RESET_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body could not be read: {e}\n"),
            )
        }
    };
    match (method, path.as_str()) {
        (Method::POST, "/control/reset") => reset(admin, &body).await,
        (Method::POST, "/control/faults") => add_fault(admin, &body),
        (Method::GET, "/control/faults") => {
            let rules: Vec<serde_json::Value> = admin.service.control().faults().iter().map(rule_json).collect();
            json(StatusCode::OK, &serde_json::Value::Array(rules))
        }
        (Method::DELETE, "/control/faults") => {
            admin.service.control().clear_faults();
            text(StatusCode::OK, "faults cleared\n")
        }
        (Method::GET, "/control/journal") => journal(admin, &query),
        (_, "/control/reset" | "/control/faults" | "/control/journal") => text(StatusCode::METHOD_NOT_ALLOWED, "see the README, \"For test suites and staging\"\n"),
        _ => text(StatusCode::NOT_FOUND, "control endpoints: POST /control/reset, POST|GET|DELETE /control/faults, GET /control/journal\n"),
    }
}

/// Whether `Authorization` is `Bearer <token>`. Both sides are compared as SHA-256 digests,
/// every byte of them: how long the answer takes says nothing about how much of a guess
/// was right, nor about the token's length.
fn bearer_matches(given: Option<&hyper::header::HeaderValue>, token: &str) -> bool {
    let given = given
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .unwrap_or_default();
    let sha256 = |bytes: &[u8]| ring::digest::digest(&ring::digest::SHA256, bytes);
    let (given, token) = (sha256(given), sha256(token.as_bytes()));
    // No early exit (ring's own constant-time compare is deprecated for outside use).
    let difference = given
        .as_ref()
        .iter()
        .zip(token.as_ref())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

/// Replaces the population with the posted JSON Lines; a file with a bad line changes nothing.
async fn reset(admin: &Admin, body: &Bytes) -> Resp {
    let Ok(text_body) = std::str::from_utf8(body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "the population file is not UTF-8\n",
        );
    };
    let (store, policy, file) = (
        admin.store.clone(),
        admin.policy.clone(),
        text_body.to_owned(),
    );
    match tokio::task::spawn_blocking(move || crate::import::reset(&file, store.as_ref(), &policy))
        .await
    {
        Ok(Ok(Ok(summary))) => json(
            StatusCode::OK,
            &serde_json::json!({"inserted": summary.inserted, "contactsSeeded": summary.contacts_seeded}),
        ),
        Ok(Ok(Err(bad))) => {
            let lines: Vec<serde_json::Value> = bad
                .iter()
                .map(|(n, r)| serde_json::json!({"line": n, "reason": r.to_string()}))
                .collect();
            json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"error": "the population file has bad lines; nothing was changed", "lines": lines}),
            )
        }
        Ok(Err(e)) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store failed: {e}\n"),
        ),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reset failed: {e}\n"),
        ),
    }
}

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

fn add_fault(admin: &Admin, body: &Bytes) -> Resp {
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

/// Every field checked; the first problem is named.
fn fault_rule(body: &[u8]) -> Result<FaultRule, String> {
    let f: FaultJson =
        serde_json::from_slice(body).map_err(|e| format!("not a fault rule: {e}"))?;
    let contract = Contract::from_name(&f.contract).ok_or_else(|| {
        let names: Vec<&str> = Contract::ALL.iter().map(|c| c.name()).collect();
        format!(
            "contract {:?} is not one of {}",
            f.contract,
            names.join(", ")
        )
    })?;
    let injection = match (f.fault.as_str(), f.delay_ms) {
        ("delay", Some(ms)) if (0..=60_000).contains(&ms) => {
            Injection::Delay(Duration::from_millis(ms.unsigned_abs()))
        }
        ("delay", Some(ms)) => return Err(format!("delayMs {ms} is outside 0..=60000")),
        ("delay", None) => return Err("fault \"delay\" needs delayMs".into()),
        (_, Some(_)) => return Err("delayMs goes only with fault \"delay\"".into()),
        ("server", None) => Injection::ServerFault,
        ("unavailable", None) => Injection::Unavailable,
        ("close", None) => Injection::Close,
        (other, None) => {
            return Err(format!(
                "fault {other:?} is not one of delay, server, unavailable, close"
            ))
        }
    };
    let remaining = match f.count {
        Some(n) if n >= 1 => Some(u32::try_from(n).map_err(|_| format!("count {n} is too large"))?),
        Some(n) => {
            return Err(format!(
                "count {n} must be at least 1 (omit it for no limit)"
            ))
        }
        None => None,
    };
    let probability = f.probability.unwrap_or(1.0);
    if !(probability > 0.0 && probability <= 1.0) {
        return Err(format!("probability {probability} must be in (0, 1]"));
    }
    Ok(FaultRule {
        contract,
        person: f.person.filter(|p| !p.is_empty()),
        injection,
        remaining,
        probability,
    })
}

fn rule_json(rule: &FaultRule) -> serde_json::Value {
    let (fault, delay) = match rule.injection {
        Injection::Delay(d) => ("delay", Some(d.as_millis())),
        Injection::ServerFault => ("server", None),
        Injection::Unavailable => ("unavailable", None),
        Injection::Close => ("close", None),
    };
    serde_json::json!({"contract": rule.contract.name(), "person": rule.person, "fault": fault, "delayMs": delay, "remaining": rule.remaining, "probability": rule.probability})
}

fn journal(admin: &Admin, query: &str) -> Resp {
    let limit = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("limit="))
        .map(str::parse::<usize>);
    match limit {
        Some(Err(_)) => text(StatusCode::BAD_REQUEST, "limit must be a whole number\n"),
        limit => {
            let entries = admin
                .service
                .control()
                .journal(limit.and_then(Result::ok).unwrap_or(100));
            json(
                StatusCode::OK,
                &serde_json::to_value(entries).unwrap_or_default(),
            )
        }
    }
}

/// Serves the admin endpoints on `listener` until the process ends.
pub(crate) async fn serve(listener: tokio::net::TcpListener, admin: Arc<Admin>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, admin.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_taken() {
        let header = |v: &str| hyper::header::HeaderValue::from_str(v).expect("header");
        assert!(bearer_matches(Some(&header("Bearer s3cret")), "s3cret"));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "bearer s3cret",
            "s3cret",
            "Bearer ",
            "Basic s3cret",
        ] {
            assert!(!bearer_matches(Some(&header(wrong)), "s3cret"), "{wrong:?}");
        }
        assert!(!bearer_matches(None, "s3cret"));
    }
}
