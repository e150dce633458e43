//! The admin listener: `/metrics` (OpenMetrics text) and `/health`, plain HTTP on a
//! separate address, bound to localhost by default.

use crate::metrics::Metrics;
use crate::store::PersonStore;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

/// Answers `/health` and `/metrics`.
pub(crate) async fn handle(
    req: Request<hyper::body::Incoming>,
    metrics: Arc<Metrics>,
    store: Arc<dyn PersonStore>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let req_is_metrics = req.uri().path() == "/metrics";
    let (status, body) = match req.uri().path() {
        "/metrics" => (StatusCode::OK, metrics.render()),
        "/health" => match tokio::task::spawn_blocking(move || store.ping()).await {
            Ok(Ok(())) => (StatusCode::OK, "ok\n".to_owned()),
            _ => (
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable\n".to_owned(),
            ),
        },
        _ => (
            StatusCode::NOT_FOUND,
            "not found: try /health or /metrics\n".to_owned(),
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

/// Serves the admin endpoints on `listener` until the process ends.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    store: Arc<dyn PersonStore>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (metrics, store) = (metrics.clone(), store.clone());
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req| handle(req, metrics.clone(), store.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}
