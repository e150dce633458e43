//! Readiness (`/readyz`, `/health`): ready unless draining or the store fails.

use crate::metrics::Metrics;
use crate::store::PersonStore;
use hyper::StatusCode;
use std::sync::Arc;

/// Ready unless draining, the store does not answer, or its last operation failed.
pub(super) async fn readiness(
    metrics: &'static Metrics,
    store: Arc<dyn PersonStore>,
) -> (StatusCode, String) {
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
