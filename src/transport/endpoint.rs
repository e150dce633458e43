//! One SOAP request on its endpoint, as a pipeline of named steps: [`admit`] (content
//! type, declared length, identity, body within the timeout, in-flight limits, injected
//! faults), then [`call`] the service, then log one line.

use super::identity::{consumer_of, ORIGINAL_CONSUMER_HEADER};
use super::limiter::Refusal;
use super::response::{plain, xml, Resp};
use super::state::AppState;
use crate::contracts::Contract;
use crate::metrics::Phase;
use crate::service::control::Injection;
use crate::service::{Answer, Call, Overload, RequestResult, Service, ServiceError};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, StatusCode};
use std::sync::Arc;
use std::time::Instant;

/// Why the connection closes without an answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NoAnswer {
    /// The test-control API injected a dropped connection.
    #[error("connection closed without an answer, as the test-control API asked")]
    InjectedClose,
    /// The request body did not arrive within the request timeout.
    #[error("connection closed: the request body did not arrive within the request timeout")]
    BodyTimeout,
}

/// What the Content-Type says: SOAP 1.2's `application/soap+xml` gets a VersionMismatch Fault.
enum ContentType {
    Soap11,
    Soap12,
    NotUtf8(String),
    Unsupported,
}

fn content_type(req: &Request<Incoming>) -> ContentType {
    let Some(ct) = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return ContentType::Unsupported;
    };
    let lower = ct.to_ascii_lowercase();
    let mut parts = lower.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    let charset = parts
        .find_map(|p| p.strip_prefix("charset="))
        .map(|c| c.trim_matches('"').to_owned());
    match (media, charset.as_deref()) {
        ("application/soap+xml", _) => ContentType::Soap12,
        ("text/xml", None | Some("utf-8" | "utf8")) => ContentType::Soap11,
        ("text/xml", Some(other)) => ContentType::NotUtf8(other.to_owned()),
        _ => ContentType::Unsupported,
    }
}

/// A SOAP request: admitted (or refused with its answer), called, logged.
pub(super) async fn serve_soap(
    req: Request<Incoming>,
    contract: Contract,
    state: &Arc<AppState>,
    serial: Option<Arc<str>>,
    correlation_id: &str,
    started: Instant,
) -> Result<Resp, NoAnswer> {
    let exchange = Exchange {
        contract,
        state,
        correlation_id,
        started,
    };
    let admitted = match admit(req, &exchange, serial.as_deref()).await {
        Ok(admitted) => admitted,
        Err(Refused::With(resp)) => return Ok(*resp),
        Err(Refused::Close(why)) => return Err(why),
    };
    let answer = call(&exchange, &admitted).await;
    exchange.log(RequestLog {
        consumer: admitted.consumer.as_deref(),
        logical_address: answer.logical_address.as_deref(),
        result: answer.result,
        body: &admitted.body,
    });
    Ok(soap_response(answer, correlation_id))
}

/// What every step of one SOAP request knows from the start.
struct Exchange<'a> {
    contract: Contract,
    state: &'a AppState,
    correlation_id: &'a str,
    started: Instant,
}

/// A request let through to the service: its consumer, its whole body, and its share of
/// the in-flight limit (held until the answer is written).
struct Admitted {
    consumer: Option<String>,
    body: Bytes,
    _permit: super::limiter::RequestPermit,
}

/// A request not let through: its answer (already logged), or no answer at all.
enum Refused {
    With(Box<Resp>),
    Close(NoAnswer),
}

impl Refused {
    fn with(resp: Resp) -> Self {
        Self::With(Box::new(resp))
    }
}

/// The checks before the service is called, in order: content type, declared length,
/// identity, the body within the request timeout, the in-flight limits, injected faults.
async fn admit(
    req: Request<Incoming>,
    ex: &Exchange<'_>,
    serial: Option<&str>,
) -> Result<Admitted, Refused> {
    check_content_type(&req, ex)?;
    check_declared_length(&req, ex)?;
    note_soap_action(&req, ex);
    let consumer = identify(&req, ex, serial);
    let body = read_body(req, ex, consumer.as_deref()).await?;
    let permit = ex
        .state
        .limiter
        .admit(consumer.as_deref())
        .await
        .map_err(|refusal| {
            ex.state.limiter.refused(refusal, ex.state.metrics);
            ex.refusal(consumer.as_deref(), RequestResult::Overloaded, &[]);
            Refused::with(overloaded(refusal, consumer.as_deref()))
        })?;
    apply_injection(ex, consumer.as_deref(), &body).await?;
    Ok(Admitted {
        consumer,
        body,
        _permit: permit,
    })
}

/// SOAP 1.1 wants `text/xml` in UTF-8; SOAP 1.2 and other charsets get a Fault, anything
/// else 415.
fn check_content_type(req: &Request<Incoming>, ex: &Exchange<'_>) -> Result<(), Refused> {
    match content_type(req) {
        ContentType::Soap11 => Ok(()),
        ContentType::Soap12 => Err(Refused::with(ex.fault(&ServiceError::Soap12ContentType))),
        ContentType::NotUtf8(charset) => {
            let charset: String = charset.chars().take(32).collect();
            Err(Refused::with(
                ex.fault(&ServiceError::UnsupportedCharset(charset)),
            ))
        }
        ContentType::Unsupported => {
            ex.refusal(None, RequestResult::UnsupportedMediaType, &[]);
            Err(Refused::with(plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "SOAP 1.1 requests must have Content-Type: text/xml; charset=utf-8",
            )))
        }
    }
}

/// A Content-Length over the limit gets 413 before a byte of the body is read.
fn check_declared_length(req: &Request<Incoming>, ex: &Exchange<'_>) -> Result<(), Refused> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > ex.state.limits.max_body_bytes as u64) {
        ex.refusal(None, RequestResult::TooLarge, &[]);
        return Err(Refused::with(too_large(ex.state)));
    }
    Ok(())
}

/// The path decides the contract; a SOAPAction that disagrees is only worth a debug line.
fn note_soap_action(req: &Request<Incoming>, ex: &Exchange<'_>) {
    let soap_action = req
        .headers()
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_matches('"'));
    if soap_action != Some(ex.contract.soap_action().as_str()) {
        tracing::debug!(correlation_id = ex.correlation_id, contract = ex.contract.name(), soap_action = ?soap_action, "SOAPAction absent or different; the path decides the contract");
    }
}

/// The consumer's HSA-id: the certificate's, or the platform's header when the
/// certificate is the service platform's (AC-1).
fn identify(req: &Request<Incoming>, ex: &Exchange<'_>, serial: Option<&str>) -> Option<String> {
    let header = req
        .headers()
        .get(ORIGINAL_CONSUMER_HEADER)
        .and_then(|v| v.to_str().ok());
    let identity = consumer_of(serial, header, &ex.state.platform_ids);
    if identity.ignored_header {
        tracing::info!(correlation_id = ex.correlation_id, certificate = ?serial, "x-rivta-original-serviceconsumer-hsaid ignored: the certificate is not the service platform's");
    }
    identity.consumer
}

/// The whole body, at most the limit; a body that trickles in must not hold the
/// connection, so it gets the request timeout too.
async fn read_body(
    req: Request<Incoming>,
    ex: &Exchange<'_>,
    consumer: Option<&str>,
) -> Result<Bytes, Refused> {
    let reading = Limited::new(req.into_body(), ex.state.limits.max_body_bytes).collect();
    let Ok(read) = tokio::time::timeout(ex.state.limits.request_timeout, reading).await else {
        ex.refusal(consumer, RequestResult::BadRequest, &[]);
        return Err(Refused::Close(NoAnswer::BodyTimeout));
    };
    match read {
        Ok(body) => Ok(body.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            ex.refusal(consumer, RequestResult::TooLarge, &[]);
            Err(Refused::with(too_large(ex.state)))
        }
        Err(_) => {
            ex.refusal(consumer, RequestResult::BadRequest, &[]);
            Err(Refused::with(plain(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            )))
        }
    }
}

/// A fault the test-control API set up for this request, if any: a delay lets it through.
async fn apply_injection(
    ex: &Exchange<'_>,
    consumer: Option<&str>,
    body: &Bytes,
) -> Result<(), Refused> {
    match ex.state.service.control().injection(ex.contract, body) {
        None => Ok(()),
        Some(Injection::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok(())
        }
        Some(Injection::ServerFault) => Err(Refused::with(ex.fault(&ServiceError::Injected))),
        Some(Injection::Unavailable) => {
            ex.refusal(consumer, RequestResult::Overloaded, body);
            let mut r = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable: injected by the test-control API",
            );
            r.headers_mut()
                .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
            Err(Refused::with(r))
        }
        Some(Injection::Close) => Err(Refused::Close(NoAnswer::InjectedClose)),
    }
}

/// The service's answer, counted in flight while it is worked on.
async fn call(ex: &Exchange<'_>, admitted: &Admitted) -> Answer {
    let metrics = ex.state.metrics;
    metrics.in_flight(Phase::Began);
    let call = Call {
        contract: ex.contract,
        consumer: admitted.consumer.clone(),
        correlation_id: ex.correlation_id.to_owned(),
    };
    let answer = answer_in_time(call, admitted.body.clone(), ex.state).await;
    metrics.in_flight(Phase::Ended);
    answer
}

/// 200 with the answer, or 500 with its Fault (logged with its reason).
fn soap_response(answer: Answer, correlation_id: &str) -> Resp {
    let status = match &answer.fault {
        Some(f) => {
            tracing::info!(correlation_id, log_id = %f.log_id, fault = f.code.as_qname(), reason = %f.message, "fault");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        None => StatusCode::OK,
    };
    xml(status, answer.body)
}

impl Exchange<'_> {
    /// Logs a request refused before the service saw it: no logical address is known yet.
    fn refusal(&self, consumer: Option<&str>, result: RequestResult, body: &[u8]) {
        self.log(RequestLog {
            consumer,
            logical_address: None,
            result,
            body,
        });
    }

    /// A Fault the transport answers itself (content type, injected), logged.
    fn fault(&self, err: &ServiceError) -> Resp {
        let answer = Service::transport_fault(err);
        self.refusal(None, answer.result, &[]);
        if let Some(fault) = &answer.fault {
            tracing::info!(correlation_id = self.correlation_id, log_id = %fault.log_id, reason = %fault.message, "fault");
        }
        xml(StatusCode::INTERNAL_SERVER_ERROR, answer.body)
    }

    /// The one structured line per request, with its metrics and the control journal.
    fn log(&self, entry: RequestLog<'_>) {
        let elapsed = self.started.elapsed();
        self.state.service.control().record(
            self.contract,
            entry.consumer,
            self.correlation_id,
            entry.result,
            elapsed,
            entry.body,
        );
        let result = entry.result.as_str();
        self.state
            .metrics
            .record(self.contract.name(), result, elapsed);
        tracing::info!(
            contract = self.contract.name(),
            consumer = entry.consumer.unwrap_or("-"),
            logical_address = entry.logical_address.unwrap_or("-"),
            correlation_id = self.correlation_id,
            result,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    }
}

/// What the request line says beyond what the exchange knows.
#[derive(Clone, Copy)]
struct RequestLog<'a> {
    consumer: Option<&'a str>,
    logical_address: Option<&'a str>,
    result: RequestResult,
    body: &'a [u8],
}

/// The service's answer within the request timeout.
async fn answer_in_time(call: Call, body: Bytes, state: &AppState) -> Answer {
    let work = state.service.clone().answer(call, body);
    match tokio::time::timeout(state.limits.request_timeout, work).await {
        Ok(answer) => answer,
        Err(_) => {
            let failure = ServiceError::Timeout;
            let answer = Service::transport_fault(&failure);
            if let Some(fault) = &answer.fault {
                tracing::error!(log_id = %fault.log_id, cause = ?failure, "request timed out");
            }
            answer
        }
    }
}

/// 503 with Retry-After and a Fault saying who is over which limit. Logged only in
/// aggregate (`Limiter::refused`): under a flood, a line per refusal is what sinks a server.
fn overloaded(refusal: Refusal, consumer: Option<&str>) -> Resp {
    let reason = match refusal {
        Refusal::Busy | Refusal::CertificateBusy => Overload::Service,
        Refusal::ConsumerBusy => Overload::Consumer(consumer.unwrap_or("-").to_owned()),
    };
    let answer = Service::transport_fault(&ServiceError::Overloaded(reason));
    let mut r = xml(StatusCode::SERVICE_UNAVAILABLE, answer.body);
    r.headers_mut()
        .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

fn too_large(state: &AppState) -> Resp {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "the request body exceeds {} bytes",
            state.limits.max_body_bytes
        ),
    )
}
