//! The HTTPS server: accept with a connection cap, mutual-TLS handshake with a timeout,
//! HTTP/1.1 with keep-alive and limits, routing of SOAP, `?wsdl` and `?xsd=`.

use super::activity::{Activity, ActivityIo};
use super::identity::{consumer_of, serial_number_of, ORIGINAL_CONSUMER_HEADER};
use super::limiter::{Limiter, Refusal};
use crate::metrics::Metrics;
use crate::service::control::Injection;
use crate::service::{Answer, Call, Contract, RequestResult, Service, ServiceError};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

/// The correlation header of the service platform.
pub(crate) const CORRELATION_HEADER: &str = "x-skltp-correlation-id";

/// HTTP limits; every one configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest request body; larger gets 413.
    pub max_body_bytes: usize,
    /// Time to receive a request's headers.
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no traffic this long is closed.
    pub idle_timeout: Duration,
    /// Time to answer one request once read.
    pub request_timeout: Duration,
    /// Time to complete the TLS handshake.
    pub handshake_timeout: Duration,
    /// Connections open at once; more are closed on accept.
    pub max_connections: usize,
    /// Requests being answered at once; more get 503 with Retry-After.
    pub max_in_flight: usize,
    /// Requests of one consumer being answered at once; more get 503 with Retry-After.
    pub max_in_flight_per_consumer: usize,
    /// Connections open at once with one client certificate (the platform's excepted).
    pub max_connections_per_certificate: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            max_connections: 2_000,
            max_in_flight: 256,
            max_in_flight_per_consumer: 64,
            max_connections_per_certificate: 512,
        }
    }
}

/// Everything a connection needs.
pub(crate) struct AppState {
    /// The TLS configuration new connections get; a reload replaces it.
    pub(crate) tls: std::sync::RwLock<Arc<ServerConfig>>,
    /// The service: the only thing past this layer the transport talks to.
    pub(crate) service: Arc<Service>,
    /// HTTP limits.
    pub limits: HttpLimits,
    /// HSA-ids of the service platform's certificates.
    pub(crate) platform_ids: Vec<String>,
    /// Base URL for `soap:address`, e.g. `https://pu.example.se:8443`; else taken from Host.
    pub(crate) public_url: Option<String>,
    /// Request metrics.
    pub(crate) metrics: &'static Metrics,
    /// Overload protection.
    pub(crate) limiter: Arc<Limiter>,
}

impl AppState {
    /// The TLS configuration for a new connection.
    pub(crate) fn current_tls(&self) -> Arc<ServerConfig> {
        self.tls
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the TLS configuration for every later connection.
    pub(crate) fn replace_tls(&self, tls: Arc<ServerConfig>) {
        *self
            .tls
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = tls;
    }
}

/// A running server.
pub struct ServerHandle {
    /// Where it listens.
    pub local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    join: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// Stops accepting, lets in-flight requests finish, then returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.join.await;
    }
}

/// Starts serving on `listener`.
pub(crate) fn serve(listener: TcpListener, state: Arc<AppState>) -> std::io::Result<ServerHandle> {
    let local_addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let join = tokio::spawn(accept_loop(listener, state, rx, local_addr));
    Ok(ServerHandle {
        local_addr,
        shutdown: tx,
        join,
    })
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
    local_addr: SocketAddr,
) {
    let max = state.limits.max_connections;
    let permits = Arc::new(Semaphore::new(max));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, _peer)) = accepted else {
            // Out of descriptors or similar: give the system a moment instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            state.metrics.connection_rejected();
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        // Each connection takes the TLS configuration current when it arrives: a reload
        // affects new connections only, open ones keep theirs.
        let acceptor = TlsAcceptor::from(state.current_tls());
        let (state, shutdown) = (state.clone(), shutdown.clone());
        tokio::spawn(async move {
            state.metrics.connection_open(true);
            serve_connection(stream, acceptor, &state, shutdown, local_addr).await;
            state.metrics.connection_open(false);
            drop(permit);
        });
    }
    // Graceful: wait until every connection has finished its in-flight request and closed.
    let _ = permits.acquire_many(max as u32).await;
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    state: &Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
    local_addr: SocketAddr,
) {
    let tls =
        match tokio::time::timeout(state.limits.handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                state.metrics.handshake_failed();
                tracing::debug!(error = %e, "TLS handshake refused");
                return;
            }
            Err(_) => {
                state.metrics.handshake_failed();
                tracing::debug!("TLS handshake timed out");
                return;
            }
        };
    let serial: Option<Arc<str>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| match serial_number_of(c) {
            Ok(serial) => Some(Arc::from(serial)),
            Err(e) => {
                tracing::debug!(reason = %e, "the client certificate names no consumer");
                None
            }
        });
    // The platform's certificate carries many consumers; everyone else gets a share of connections.
    let _slot = match serial.as_deref() {
        Some(s) if !state.platform_ids.iter().any(|p| p == s) => match state.limiter.connect(s) {
            Some(slot) => Some(slot),
            None => {
                state.metrics.connection_rejected();
                tracing::warn!(
                    consumer = s,
                    "connection refused: too many open connections for this certificate"
                );
                return;
            }
        },
        _ => None,
    };
    let activity = Activity::new();
    let io = TokioIo::new(ActivityIo::new(tls, activity.clone()));
    let st = state.clone();
    let on_request = activity.clone();
    let svc = hyper::service::service_fn(move |req| {
        let (st, serial) = (st.clone(), serial.clone());
        let answering = on_request.request_started();
        async move {
            // An Err closes the connection without an answer (an injected "close").
            let resp = route(req, st, serial, local_addr).await;
            drop(answering);
            resp
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer would also close idle keep-alive connections; ours below
    // runs only while a request head is arriving.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    let limits = &state.limits;
    let tick =
        (limits.idle_timeout.min(limits.header_read_timeout) / 4).max(Duration::from_millis(25));
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = tokio::time::sleep(tick) => {
                if activity.head_pending_for().is_some_and(|t| t >= limits.header_read_timeout) {
                    // A head that does not arrive in time: drop the connection, no answer owed.
                    tracing::debug!("request head not received within the header-read timeout: connection closed");
                    break;
                }
                if !closing && !activity.busy() && activity.head_pending_for().is_none() && activity.idle_for() >= limits.idle_timeout {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            _ = shutdown.changed(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

type Resp = Response<Full<Bytes>>;

async fn route(
    req: Request<Incoming>,
    state: Arc<AppState>,
    serial: Option<Arc<str>>,
    local_addr: SocketAddr,
) -> Result<Resp, InjectedClose> {
    let started = Instant::now();
    let correlation_id = correlation_id_of(&req);
    let contract = Service::contract_at(req.uri().path());
    let mut resp = match (contract, req.method()) {
        (None, _) => plain(
            StatusCode::NOT_FOUND,
            "no service contract at this path; see the README for the endpoint paths",
        ),
        (Some(c), &Method::GET) => serve_contract_file(&req, c, &state, local_addr),
        (Some(c), &Method::POST) => {
            serve_soap(req, c, &state, serial, &correlation_id, started).await?
        }
        (Some(_), _) => {
            let mut r = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "use POST for SOAP requests, GET with ?wsdl or ?xsd= for the contract files",
            );
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, POST"));
            r
        }
    };
    if let Ok(v) = HeaderValue::from_str(&correlation_id) {
        resp.headers_mut().insert(CORRELATION_HEADER, v);
    }
    Ok(resp)
}

/// The connection closes without an answer: a fault the test-control API injected, or a
/// request body that did not arrive within the request timeout.
#[derive(Debug)]
pub(crate) struct InjectedClose;

impl std::fmt::Display for InjectedClose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without an answer")
    }
}

impl std::error::Error for InjectedClose {}

/// The caller's correlation id when it is sane, otherwise a new one.
fn correlation_id_of(req: &Request<Incoming>) -> String {
    req.headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn plain(status: StatusCode, text: &str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn xml(status: StatusCode, body: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

fn endpoint_url(
    req: &Request<Incoming>,
    contract: Contract,
    state: &AppState,
    local_addr: SocketAddr,
) -> String {
    let base = match (
        &state.public_url,
        req.headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok()),
    ) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(host))
            if host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)) =>
        {
            format!("https://{host}")
        }
        _ => format!("https://{local_addr}"),
    };
    format!("{base}{}", contract.path())
}

fn serve_contract_file(
    req: &Request<Incoming>,
    contract: Contract,
    state: &AppState,
    local_addr: SocketAddr,
) -> Resp {
    let endpoint = endpoint_url(req, contract, state, local_addr);
    let query = req.uri().query().unwrap_or("");
    if !query.eq_ignore_ascii_case("wsdl") && !query.starts_with("xsd=") {
        return plain(
            StatusCode::NOT_FOUND,
            "GET needs ?wsdl or ?xsd=<file>; SOAP requests use POST",
        );
    }
    match Service::contract_file(contract, query, &endpoint) {
        Some(text) => xml(StatusCode::OK, text),
        None => plain(StatusCode::NOT_FOUND, "no such schema for this contract"),
    }
}

/// SOAP 1.1 wants `text/xml`; SOAP 1.2's `application/soap+xml` gets a VersionMismatch Fault.
enum ContentTypeCheck {
    Soap11,
    Soap12,
    NotUtf8(String),
    Unsupported,
}

fn check_content_type(req: &Request<Incoming>) -> ContentTypeCheck {
    let Some(ct) = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return ContentTypeCheck::Unsupported;
    };
    let lower = ct.to_ascii_lowercase();
    let mut parts = lower.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    let charset = parts
        .find_map(|p| p.strip_prefix("charset="))
        .map(|c| c.trim_matches('"').to_owned());
    match (media, charset.as_deref()) {
        ("application/soap+xml", _) => ContentTypeCheck::Soap12,
        ("text/xml", None | Some("utf-8" | "utf8")) => ContentTypeCheck::Soap11,
        ("text/xml", Some(other)) => ContentTypeCheck::NotUtf8(other.to_owned()),
        _ => ContentTypeCheck::Unsupported,
    }
}

async fn serve_soap(
    req: Request<Incoming>,
    contract: Contract,
    state: &Arc<AppState>,
    serial: Option<Arc<str>>,
    correlation_id: &str,
    started: Instant,
) -> Result<Resp, InjectedClose> {
    match check_content_type(&req) {
        ContentTypeCheck::Soap11 => {}
        ContentTypeCheck::Soap12 => {
            return Ok(fault_response(
                contract,
                state,
                correlation_id,
                started,
                &ServiceError::Soap12ContentType,
            ));
        }
        ContentTypeCheck::NotUtf8(cs) => {
            let cs: String = cs.chars().take(32).collect();
            return Ok(fault_response(
                contract,
                state,
                correlation_id,
                started,
                &ServiceError::UnsupportedCharset(cs),
            ));
        }
        ContentTypeCheck::Unsupported => {
            log_request(
                contract,
                None,
                None,
                correlation_id,
                RequestResult::UnsupportedMediaType,
                started,
                state,
                &[],
            );
            return Ok(plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "SOAP 1.1 requests must have Content-Type: text/xml; charset=utf-8",
            ));
        }
    }
    let declared_len = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > state.limits.max_body_bytes as u64) {
        log_request(
            contract,
            None,
            None,
            correlation_id,
            RequestResult::TooLarge,
            started,
            state,
            &[],
        );
        return Ok(too_large(state));
    }
    let soap_action = req
        .headers()
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_matches('"').to_owned());
    if soap_action.as_deref() != Some(contract.soap_action().as_str()) {
        tracing::debug!(correlation_id, contract = contract.name(), soap_action = ?soap_action, "SOAPAction absent or different; the path decides the contract");
    }
    let header = req
        .headers()
        .get(ORIGINAL_CONSUMER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let identity = consumer_of(serial.as_deref(), header.as_deref(), &state.platform_ids);
    if identity.ignored_header {
        tracing::info!(correlation_id, certificate = ?serial.as_deref(), "x-rivta-original-serviceconsumer-hsaid ignored: the certificate is not the service platform's");
    }
    // Every early refusal logs the same line: no logical address is known yet.
    let log_refusal = |result: RequestResult, body: &[u8]| {
        log_request(
            contract,
            identity.consumer.as_deref(),
            None,
            correlation_id,
            result,
            started,
            state,
            body,
        );
    };
    // A body that trickles in must not hold the connection: it gets the request timeout too.
    let reading = Limited::new(req.into_body(), state.limits.max_body_bytes).collect();
    let Ok(read) = tokio::time::timeout(state.limits.request_timeout, reading).await else {
        log_refusal(RequestResult::BadRequest, &[]);
        return Err(InjectedClose);
    };
    let body = match read {
        Ok(b) => b.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            log_refusal(RequestResult::TooLarge, &[]);
            return Ok(too_large(state));
        }
        Err(_) => {
            log_refusal(RequestResult::BadRequest, &[]);
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            ));
        }
    };
    let _permit = match state.limiter.admit(identity.consumer.as_deref()) {
        Ok(p) => p,
        Err(refusal) => {
            log_refusal(RequestResult::Overloaded, &[]);
            return Ok(overloaded(refusal, identity.consumer.as_deref()));
        }
    };
    if let Some(injected) = state.service.control().injection(contract, &body) {
        match injected {
            Injection::Delay(d) => tokio::time::sleep(d).await,
            Injection::ServerFault => {
                return Ok(fault_response(
                    contract,
                    state,
                    correlation_id,
                    started,
                    &ServiceError::Injected,
                ));
            }
            Injection::Unavailable => {
                log_refusal(RequestResult::Overloaded, &body);
                let mut r = plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable: injected by the test-control API",
                );
                r.headers_mut()
                    .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
                return Ok(r);
            }
            Injection::Close => return Err(InjectedClose),
        }
    }
    state.metrics.in_flight(true);
    let call = Call {
        contract,
        consumer: identity.consumer.clone(),
        correlation_id: correlation_id.to_owned(),
    };
    let answer = answer_in_time(call, body.clone(), state).await;
    state.metrics.in_flight(false);
    log_request(
        contract,
        identity.consumer.as_deref(),
        answer.logical_address.as_deref(),
        correlation_id,
        answer.result,
        started,
        state,
        &body,
    );
    if let Some(f) = &answer.fault {
        tracing::info!(correlation_id, log_id = %f.log_id, fault = f.code.as_qname(), reason = %f.message, "fault");
    }
    Ok(xml(
        if answer.fault.is_some() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        },
        answer.body,
    ))
}

/// The service's answer within the request timeout.
async fn answer_in_time(call: Call, body: Bytes, state: &Arc<AppState>) -> Answer {
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

fn fault_response(
    contract: Contract,
    state: &AppState,
    correlation_id: &str,
    started: Instant,
    err: &ServiceError,
) -> Resp {
    let answer = Service::transport_fault(err);
    log_request(
        contract,
        None,
        None,
        correlation_id,
        answer.result,
        started,
        state,
        &[],
    );
    if let Some(fault) = &answer.fault {
        tracing::info!(correlation_id, log_id = %fault.log_id, reason = %fault.message, "fault");
    }
    xml(StatusCode::INTERNAL_SERVER_ERROR, answer.body)
}

/// 503 with Retry-After and a Fault saying who is over which limit.
fn overloaded(refusal: Refusal, consumer: Option<&str>) -> Resp {
    let reason = match refusal {
        Refusal::Busy => {
            "the service is at its limit of requests in flight; retry after 1 second".to_owned()
        }
        Refusal::ConsumerBusy => format!(
            "consumer {} has too many requests in flight; retry after 1 second",
            consumer.unwrap_or("-")
        ),
    };
    let answer = Service::transport_fault(&ServiceError::Overloaded(reason));
    if let Some(fault) = &answer.fault {
        tracing::warn!(log_id = %fault.log_id, reason = %fault.message, "overloaded");
    }
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

/// The one structured line per request.
#[allow(clippy::too_many_arguments)]
fn log_request(
    contract: Contract,
    consumer: Option<&str>,
    logical_address: Option<&str>,
    correlation_id: &str,
    result: RequestResult,
    started: Instant,
    state: &AppState,
    body: &[u8],
) {
    let elapsed = started.elapsed();
    state
        .service
        .control()
        .record(contract, consumer, correlation_id, result, elapsed, body);
    let result = result.as_str();
    state.metrics.record(contract.name(), result, elapsed);
    tracing::info!(
        contract = contract.name(),
        consumer = consumer.unwrap_or("-"),
        logical_address = logical_address.unwrap_or("-"),
        correlation_id,
        result,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
}
