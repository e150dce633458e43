//! The admin listener: `/metrics` (OpenMetrics text), `/livez` and `/readyz` (`/health` is
//! `/readyz`), and, when enabled, the test-control API under `/control/` (reset to a
//! population file, fault injection, the call log, the consumer report) and the web
//! console over it (`/console`). Plain HTTP on a separate
//! address, bound to localhost by default.
//!
//! This file holds the listener and its router; each endpoint's concern is in `admin/`.

mod console;
mod control;
mod faults;
mod health;
mod report;
mod reset;

use crate::domain::IdentifierPolicy;
use crate::metrics::Metrics;
use crate::service::Service;
use crate::store::PersonStore;
use bytes::Bytes;
use console::console;
use control::control;
use health::readiness;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;
use std::time::Duration;

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
