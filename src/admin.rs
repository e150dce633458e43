//! Observability: request metrics in Prometheus text format and a health check, served
//! on a separate plain-HTTP listener bound to localhost by default.

use crate::store::Store;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counters shared by the SOAP listener and read by `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String), (u64, f64)>>,
    /// Failed or timed-out TLS handshakes.
    pub handshake_failures: AtomicU64,
    /// Connections refused at the connection cap.
    pub connections_rejected: AtomicU64,
    /// Connections open now.
    pub connections_open: AtomicI64,
}

impl Metrics {
    /// Counts one request of `contract` that ended with `result` after `elapsed`.
    pub fn record(&self, contract: &str, result: &str, elapsed: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            let e = m.entry((contract.to_owned(), result.to_owned())).or_default();
            e.0 += 1;
            e.1 += elapsed.as_secs_f64();
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP pu_adapter_requests_total SOAP requests by contract and result.\n# TYPE pu_adapter_requests_total counter\n");
        let snapshot = self.requests.lock().map(|m| m.clone()).unwrap_or_default();
        for ((contract, result), (count, _)) in &snapshot {
            let _ = writeln!(out, "pu_adapter_requests_total{{contract=\"{contract}\",result=\"{result}\"}} {count}");
        }
        out.push_str(
            "# HELP pu_adapter_request_seconds_sum Total time spent answering, by contract and result.\n# TYPE pu_adapter_request_seconds_sum counter\n",
        );
        for ((contract, result), (_, secs)) in &snapshot {
            let _ = writeln!(out, "pu_adapter_request_seconds_sum{{contract=\"{contract}\",result=\"{result}\"}} {secs}");
        }
        let _ = writeln!(
            out,
            "# TYPE pu_adapter_tls_handshake_failures_total counter\npu_adapter_tls_handshake_failures_total {}",
            self.handshake_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE pu_adapter_connections_rejected_total counter\npu_adapter_connections_rejected_total {}",
            self.connections_rejected.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# TYPE pu_adapter_connections_open gauge\npu_adapter_connections_open {}", self.connections_open.load(Ordering::Relaxed));
        out
    }
}

/// Answers `/health` and `/metrics`.
pub async fn handle(
    req: Request<hyper::body::Incoming>,
    metrics: Arc<Metrics>,
    store: Arc<dyn Store>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (status, body) = match req.uri().path() {
        "/metrics" => (StatusCode::OK, metrics.render()),
        "/health" => match tokio::task::spawn_blocking(move || store.ping()).await {
            Ok(Ok(())) => (StatusCode::OK, "ok\n".to_owned()),
            _ => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n".to_owned()),
        },
        _ => (StatusCode::NOT_FOUND, "not found: try /health or /metrics\n".to_owned()),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    Ok(resp)
}

/// Serves the admin endpoints on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>, store: Arc<dyn Store>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (metrics, store) = (metrics.clone(), store.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, metrics.clone(), store.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), svc).await;
        });
    }
}
