//! The HTTPS server: accept with a connection cap, mutual-TLS handshake with a timeout,
//! HTTP/1.1 with keep-alive and limits, routing of SOAP, `?wsdl` and `?xsd=`.

use super::activity::{Activity, ActivityIo};
use super::endpoint;
use super::identity::serial_number_of;
use super::limiter::Refusal;
use super::response::{plain, xml, Resp};
use super::state::AppState;
use crate::contracts::Contract;
use crate::metrics::Phase;
use crate::service::Service;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

/// The correlation header of the service platform.
pub(crate) const CORRELATION_HEADER: &str = "x-skltp-correlation-id";

/// A running SOAP listener; [`ServerHandle::shutdown`] drains it.
pub struct ServerHandle {
    /// The bound address (the real port when port 0 was asked for).
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
            state.metrics.connection(Phase::Began);
            serve_connection(stream, acceptor, &state, shutdown, local_addr).await;
            state.metrics.connection(Phase::Ended);
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
    // The platform's certificate carries many consumers; everyone else gets a share of
    // connections. One over the share is held, unread, until a slot frees: closing it at
    // once would only buy another handshake from a client that reconnects.
    let _slot = match serial.as_deref() {
        Some(s) if !state.platform_ids.iter().any(|p| p == s) => {
            match state.limiter.connect(s).await {
                Some(slot) => Some(slot),
                None => {
                    state.metrics.connection_rejected();
                    state
                        .limiter
                        .refused(Refusal::CertificateBusy, state.metrics);
                    return;
                }
            }
        }
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
            // An Err closes the connection without an answer.
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

async fn route(
    req: Request<Incoming>,
    state: Arc<AppState>,
    serial: Option<Arc<str>>,
    local_addr: SocketAddr,
) -> Result<Resp, endpoint::NoAnswer> {
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
            endpoint::serve_soap(req, c, &state, serial, &correlation_id, started).await?
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

/// The caller's correlation id when it is sane, otherwise a new one.
fn correlation_id_of(req: &Request<Incoming>) -> String {
    req.headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
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
