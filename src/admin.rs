//! The admin listener: `/metrics` (OpenMetrics text), `/livez` and `/readyz` (`/health` is
//! `/readyz`), plain HTTP on a separate address, bound to localhost by default.

use crate::metrics::Metrics;
use crate::store::PersonStore;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

/// Answers `/livez`, `/readyz` (and `/health`) and `/metrics`.
pub(crate) async fn handle(
    req: Request<hyper::body::Incoming>,
    metrics: &'static Metrics,
    store: Arc<dyn PersonStore>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let req_is_metrics = req.uri().path() == "/metrics";
    let (status, body) = match req.uri().path() {
        "/metrics" => (StatusCode::OK, metrics.render()),
        "/livez" => (StatusCode::OK, "alive\n".to_owned()),
        "/readyz" | "/health" => readiness(metrics, store).await,
        _ => (
            StatusCode::NOT_FOUND,
            "not found: try /livez, /readyz or /metrics\n".to_owned(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let content_type = if req_is_metrics {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    Ok(resp)
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

/// Serves the admin endpoints on `listener` until the process ends.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    metrics: &'static Metrics,
    store: Arc<dyn PersonStore>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, metrics, store.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}
