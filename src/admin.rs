//! The admin listener: `/metrics` (OpenMetrics text), `/livez` and `/readyz` (`/health` is
//! `/readyz`), and, when enabled, the test-control API under `/control/` (reset to a
//! population file, fault injection, the call log, the consumer report) and the web
//! console over it (`/console`). Plain HTTP on a separate
//! address, bound to localhost by default.

use crate::contracts::Contract;
use crate::domain::IdentifierPolicy;
use crate::import::{ImportSummary, LineError, ResetFile};
use crate::metrics::Metrics;
use crate::service::control::{FaultRule, Injection};
use crate::service::Service;
use crate::store::{PersonStore, StoreError};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Largest population file `/control/reset` takes (README, "For test suites and staging"):
/// 256 MiB, about a million persons. Every line read is held until the file is complete,
/// since a file with a bad line must change nothing.
const MAX_RESET_BYTES: usize = 256 * 1024 * 1024;

/// Largest fault rule `/control/faults` takes: one small JSON object.
const MAX_RULE_BYTES: usize = 64 * 1024;

/// Body frames on their way to the reset's blocking task; beyond them the sender waits,
/// so a fast client cannot pile up more than this much unread body.
const RESET_FRAMES_IN_FLIGHT: usize = 8;

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
        p if p == "/console" || p.starts_with("/console/") => console(p, &admin),
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
    match (method, path.as_str()) {
        (Method::POST, "/control/reset") => reset(admin, req.into_body()).await,
        (Method::POST, "/control/faults") => match Limited::new(req.into_body(), MAX_RULE_BYTES)
            .collect()
            .await
        {
            Ok(body) => add_fault(admin, &body.to_bytes()),
            Err(e) => text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the fault rule could not be read (at most {MAX_RULE_BYTES} bytes): {e}; nothing was changed\n"),
            ),
        },
        (Method::GET, "/control/faults") => {
            let rules: Vec<serde_json::Value> = admin.service.control().faults().iter().map(rule_json).collect();
            json(StatusCode::OK, &serde_json::Value::Array(rules))
        }
        (Method::DELETE, "/control/faults") => {
            admin.service.control().clear_faults();
            text(StatusCode::OK, "faults cleared\n")
        }
        (Method::GET, "/control/journal") => call_log(admin, &query),
        (Method::GET, "/control/report") => report(admin, &query).await,
        (_, "/control/reset" | "/control/faults" | "/control/journal" | "/control/report") => text(StatusCode::METHOD_NOT_ALLOWED, "see the README, \"For test suites and staging\"\n"),
        _ => text(StatusCode::NOT_FOUND, "control endpoints: POST /control/reset, POST|GET|DELETE /control/faults, GET /control/journal, GET /control/report\n"),
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

/// Replaces the population with the posted JSON Lines; a file with a bad line, or over
/// [`MAX_RESET_BYTES`], changes nothing.
async fn reset<B>(admin: &Admin, body: B) -> Resp
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let outcome = stream_reset(
        body,
        MAX_RESET_BYTES,
        admin.store.clone(),
        admin.policy.clone(),
    )
    .await;
    match outcome {
        Ok(Ok(summary)) => json(
            StatusCode::OK,
            &serde_json::json!({"inserted": summary.inserted, "contactsSeeded": summary.contacts_seeded}),
        ),
        Ok(Err(bad)) => {
            let lines: Vec<serde_json::Value> = bad
                .iter()
                .map(|(n, r)| serde_json::json!({"line": n, "reason": r.to_string()}))
                .collect();
            json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"error": "the population file has bad lines; nothing was changed", "lines": lines}),
            )
        }
        Err(e) => text(e.status(), format!("{e}\n")),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a reset changed nothing, short of bad lines.
#[derive(Debug, thiserror::Error)]
enum ResetError {
    /// More than the limit, declared or sent.
    #[error("the population file is over {} ({limit} bytes), the most /control/reset takes; nothing was changed", mebibytes(*.limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body broke off or was malformed.
    #[error("the body could not be read: {0}; nothing was changed")]
    Unreadable(#[source] BoxError),
    /// The store failed: the old population stays.
    #[error("the store failed: {0}")]
    Store(#[source] StoreError),
    /// The blocking task that checks the lines ended without an answer.
    #[error("reset failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl ResetError {
    fn status(&self) -> StatusCode {
        match self {
            ResetError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ResetError::Unreadable(_) => StatusCode::BAD_REQUEST,
            ResetError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ResetError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `limit` for people: "256 MiB", or the bytes when it is not whole mebibytes.
fn mebibytes(limit: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if limit.is_multiple_of(MIB) {
        format!("{} MiB", limit / MIB)
    } else {
        format!("{limit} bytes")
    }
}

/// The reset's whole file or its bad lines.
type Replaced = Result<ImportSummary, Vec<(u64, LineError)>>;

/// Reads `body` frame by frame into a blocking task that checks each line as it completes
/// and replaces the population once the body has ended well. Past `limit` (declared by
/// Content-Length, or counted) reading stops and the task drops what it read unstored.
async fn stream_reset<B>(
    body: B,
    limit: usize,
    store: Arc<dyn PersonStore>,
    policy: IdentifierPolicy,
) -> Result<Replaced, ResetError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    // A declared length over the limit is refused before a byte of the body is read.
    if body.size_hint().lower() > limit as u64 {
        return Err(ResetError::TooLarge { limit });
    }
    let (pieces, received) = tokio::sync::mpsc::channel(RESET_FRAMES_IN_FLIGHT);
    let task =
        tokio::task::spawn_blocking(move || check_then_replace(received, policy, store.as_ref()));
    let read = forward_frames(body, limit, &pieces).await;
    // Dropped before the task is awaited: without an end mark, the task stores nothing.
    drop(pieces);
    let outcome = task.await.map_err(ResetError::Task)?;
    read?;
    match outcome {
        Some(replaced) => replaced.map_err(ResetError::Store),
        // The task saw no end mark although reading went well: it can only have stopped early.
        None => Err(ResetError::Unreadable("the body ended early".into())),
    }
}

/// A piece of the body, or `None`: the body ended well and may be stored.
type Piece = Option<Bytes>;

/// Sends the body's data frames on, counting them against `limit`, then the end mark.
async fn forward_frames<B>(
    body: B,
    limit: usize,
    pieces: &tokio::sync::mpsc::Sender<Piece>,
) -> Result<(), ResetError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ResetError::Unreadable(e.into()))?;
        // Trailers carry no lines.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        read = read.saturating_add(data.len());
        if read > limit {
            return Err(ResetError::TooLarge { limit });
        }
        if pieces.send(Some(data)).await.is_err() {
            // The task has stopped; awaiting it tells why.
            return Ok(());
        }
    }
    let _ = pieces.send(None).await;
    Ok(())
}

/// The blocking side of [`stream_reset`]: `None` when the pieces stop without an end mark.
fn check_then_replace(
    mut pieces: tokio::sync::mpsc::Receiver<Piece>,
    policy: IdentifierPolicy,
    store: &dyn PersonStore,
) -> Option<Result<Replaced, StoreError>> {
    let mut file = ResetFile::new(policy);
    while let Some(piece) = pieces.blocking_recv() {
        match piece {
            Some(data) => file.feed(&data),
            None => return Some(file.replace(store)),
        }
    }
    None
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

fn rule_json(rule: &FaultRule) -> serde_json::Value {
    let (fault, delay) = match rule.injection {
        Injection::Delay(d) => ("delay", Some(d.as_millis())),
        Injection::ServerFault => ("server", None),
        Injection::Unavailable => ("unavailable", None),
        Injection::Close => ("close", None),
    };
    serde_json::json!({"contract": rule.contract.name(), "person": rule.person, "fault": fault, "delayMs": delay, "remaining": rule.remaining, "probability": rule.probability})
}

/// `/control/journal`: the call log (the path predates the name; the audit journal is
/// another thing, in the store).
fn call_log(admin: &Admin, query: &str) -> Resp {
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
                .call_log(limit.and_then(Result::ok).unwrap_or(100));
            json(
                StatusCode::OK,
                &serde_json::to_value(entries).unwrap_or_default(),
            )
        }
    }
}

/// How `/control/report` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportFormat {
    Json,
    Junit,
    Text,
}

/// `/control/report?since=…&until=…&consumer=…&format=json|junit|text`: the consumer
/// report over the audit trail and the call log (docs/console.md).
async fn report(admin: &Admin, query: &str) -> Resp {
    let (scope, format) = match report_request(query) {
        Ok(asked) => asked,
        Err(problem) => return text(StatusCode::BAD_REQUEST, format!("{problem}\n")),
    };
    let service = admin.service.clone();
    let made = tokio::task::spawn_blocking(move || {
        crate::report::gather(&service, &scope, chrono::Utc::now())
    })
    .await;
    let made = match made {
        Ok(Ok(made)) => made,
        Ok(Err(e)) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the audit trail could not be read: {e}\n"),
            )
        }
        Err(e) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the report failed: {e}\n"),
            )
        }
    };
    match format {
        ReportFormat::Json => json(
            StatusCode::OK,
            &serde_json::to_value(&made).unwrap_or_default(),
        ),
        ReportFormat::Text => text(StatusCode::OK, crate::report::text(&made)),
        ReportFormat::Junit => {
            let mut resp = reply(
                StatusCode::OK,
                "application/xml; charset=utf-8",
                crate::report::junit(&made),
            );
            resp.headers_mut().insert(
                hyper::header::CONTENT_DISPOSITION,
                hyper::header::HeaderValue::from_static(
                    "attachment; filename=\"consumer-report.xml\"",
                ),
            );
            resp
        }
    }
}

/// Why a report's query was refused: the first problem, named by its parameter.
#[derive(Debug, thiserror::Error)]
enum ReportQueryError {
    #[error("{name} {value:?} is not an RFC 3339 time such as 2026-11-01T00:00:00Z ({source})")]
    Time {
        name: String,
        value: String,
        #[source]
        source: chrono::ParseError,
    },
    #[error("format {0:?} is not json, junit or text")]
    Format(String),
    #[error("{0}: a % not followed by two hex digits")]
    BadEscape(String),
    #[error("{0}: not UTF-8")]
    NotUtf8(String),
}

/// The report's scope and format from its query; the first problem is named.
fn report_request(query: &str) -> Result<(crate::report::Scope, ReportFormat), ReportQueryError> {
    let param = |name: &str| query_param(query, name);
    let time = |name: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ReportQueryError> {
        param(name)?
            .filter(|v| !v.is_empty())
            .map(|v| {
                chrono::DateTime::parse_from_rfc3339(&v)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|source| ReportQueryError::Time {
                        name: name.to_owned(),
                        value: v.clone(),
                        source,
                    })
            })
            .transpose()
    };
    let scope = crate::report::Scope {
        since: time("since")?,
        until: time("until")?,
        consumer: param("consumer")?.filter(|c| !c.is_empty()),
    };
    let format = match param("format")?.as_deref() {
        None | Some("json") => ReportFormat::Json,
        Some("junit") => ReportFormat::Junit,
        Some("text") => ReportFormat::Text,
        Some(other) => return Err(ReportQueryError::Format(other.to_owned())),
    };
    Ok((scope, format))
}

/// The percent-decoded value of `name` in a query string, if present.
fn query_param(query: &str, name: &str) -> Result<Option<String>, ReportQueryError> {
    let Some(raw) = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    else {
        return Ok(None);
    };
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ReportQueryError::BadEscape(name.to_owned()))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Some)
        .map_err(|_| ReportQueryError::NotUtf8(name.to_owned()))
}

/// `/console`: the page, its script and its style, while the control API is enabled. They
/// are the same bytes for everyone and carry no data: every datum and every action goes
/// through `/control/*`, which asks for the token (a browser cannot put a bearer token on
/// a page load, so the page asks for it and sends it with each call).
fn console(path: &str, admin: &Admin) -> Resp {
    if !admin.service.control().enabled() {
        return text(
            StatusCode::NOT_FOUND,
            "the console needs the test-control API (control.enabled = true)\n",
        );
    }
    let Some(asset) = crate::console::asset(path) else {
        return text(
            StatusCode::NOT_FOUND,
            "not found: the console is /console\n",
        );
    };
    let mut resp = reply(StatusCode::OK, asset.content_type, asset.body.to_owned());
    let headers = resp.headers_mut();
    for (name, value) in crate::console::HEADERS {
        headers.insert(name, hyper::header::HeaderValue::from_static(value));
    }
    resp
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
    use crate::store::sqlite::SqliteStore;
    use hyper::body::Frame;
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    /// A body of these frames with no declared length (as a chunked one), counting how many
    /// were taken from it.
    struct Frames {
        left: VecDeque<Bytes>,
        taken: Arc<AtomicUsize>,
    }

    impl Frames {
        fn of(pieces: &[&[u8]]) -> (Self, Arc<AtomicUsize>) {
            let taken = Arc::new(AtomicUsize::new(0));
            let left = pieces.iter().map(|p| Bytes::copy_from_slice(p)).collect();
            (
                Frames {
                    left,
                    taken: taken.clone(),
                },
                taken,
            )
        }
    }

    impl Body for Frames {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            let next = self.left.pop_front();
            if next.is_some() {
                self.taken.fetch_add(1, Ordering::SeqCst);
            }
            Poll::Ready(next.map(|data| Ok(Frame::data(data))))
        }
    }

    const TOLVAN: &str =
        "{\"personId\":\"191212121212\",\"givenName\":\"Tolvan\",\"surname\":\"Tolvansson\"}\n";
    const HANNA: &str =
        "{\"personId\":\"199002026780\",\"givenName\":\"H\u{e5}nna\",\"surname\":\"Holm\"}\n";

    /// A store holding Tolvan only.
    fn store_with_tolvan() -> (tempfile::TempDir, Arc<dyn PersonStore>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("reset.db")).expect("store");
        crate::import::reset(TOLVAN, &store, &IdentifierPolicy::default())
            .expect("store")
            .expect("a good line");
        (dir, Arc::new(store))
    }

    fn persons(store: &Arc<dyn PersonStore>) -> u64 {
        store.count_persons().expect("count")
    }

    #[tokio::test]
    async fn a_reset_over_its_limit_stops_reading_there_and_stores_nothing() {
        let (_dir, store) = store_with_tolvan();
        let hanna = HANNA.as_bytes();
        // Three frames reach past 2.5 lines; the two after them are never taken.
        let (body, taken) = Frames::of(&[hanna, hanna, hanna, hanna, hanna]);
        let limit = hanna.len() * 5 / 2;
        let refused = stream_reset(body, limit, store.clone(), IdentifierPolicy::default()).await;
        assert!(
            matches!(refused, Err(ResetError::TooLarge { limit: l }) if l == limit),
            "{refused:?}"
        );
        assert_eq!(taken.load(Ordering::SeqCst), 3);
        assert_eq!(persons(&store), 1, "Tolvan is still the population");
        // A declared length over the limit: refused before a frame is taken.
        let declared = Full::new(Bytes::from(HANNA.repeat(3)));
        let refused =
            stream_reset(declared, limit, store.clone(), IdentifierPolicy::default()).await;
        assert!(
            matches!(refused, Err(ResetError::TooLarge { .. })),
            "{refused:?}"
        );
        let message = ResetError::TooLarge {
            limit: MAX_RESET_BYTES,
        }
        .to_string();
        assert!(
            message.contains("256 MiB") && message.contains("nothing was changed"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_reset_in_frames_cut_anywhere_reads_as_the_whole_file() {
        let (_dir, store) = store_with_tolvan();
        let file = format!("{}\r\n{}", HANNA.trim_end(), TOLVAN.trim_end());
        let bytes = file.as_bytes();
        // Cuts inside the first line, inside its 'å' (two bytes), and between '\r' and '\n'.
        let in_a = bytes.iter().position(|&b| b == 0xc3).expect("the 'å'") + 1;
        let crlf = HANNA.trim_end().len() + 1;
        let (body, _) = Frames::of(&[
            &bytes[..10],
            &bytes[10..in_a],
            &bytes[in_a..crlf],
            &bytes[crlf..],
        ]);
        let replaced = stream_reset(
            body,
            bytes.len(),
            store.clone(),
            IdentifierPolicy::default(),
        )
        .await
        .expect("read")
        .expect("no bad line");
        assert_eq!(replaced.inserted, 2, "the population is replaced whole");
        assert_eq!(persons(&store), 2);

        // Bad lines keep their numbers across cuts; one that is not UTF-8 is one of them.
        let bad =
            b"{\"personId\":\"191212121213\",\"givenName\":\"X\",\"surname\":\"Y\"}\n\xff\xfe\n";
        let (body, _) = Frames::of(&[&bytes[..in_a], &bytes[in_a..], b"\n", &bad[..7], &bad[7..]]);
        let lines = stream_reset(body, 4096, store.clone(), IdentifierPolicy::default())
            .await
            .expect("read")
            .expect_err("bad lines");
        let numbers: Vec<u64> = lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [3, 4], "{lines:?}");
        assert!(lines[0].1.to_string().contains("check digit"), "{lines:?}");
        assert!(matches!(lines[1].1, LineError::Unreadable(_)), "{lines:?}");
        assert_eq!(persons(&store), 2, "nothing was changed");
    }

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
