//! Prometheus metrics (prometheus-client): per-contract request counts and durations by
//! result, connection counters, build information. Read by the admin listener's `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    contract: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// 100 µs to ~3.3 s: a read answers in about a millisecond, a timeout is 10 s.
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

/// Counters shared by the SOAP listener and read by `/metrics`.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    handshake_failures: Counter,
    connections_rejected: Counter,
    connections_open: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("pu_adapter");
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            request_histogram as fn() -> Histogram,
        );
        registry.register(
            "request_duration_seconds",
            "SOAP requests by contract and result, with their durations",
            requests.clone(),
        );
        let handshake_failures = Counter::default();
        registry.register(
            "tls_handshake_failures",
            "Failed or timed-out TLS handshakes",
            handshake_failures.clone(),
        );
        let connections_rejected = Counter::default();
        registry.register(
            "connections_rejected",
            "Connections refused at a connection cap",
            connections_rejected.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "connections_open",
            "Connections open now",
            connections_open.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "The running version", build);
        Self {
            registry,
            requests,
            handshake_failures,
            connections_rejected,
            connections_open,
        }
    }
}

impl Metrics {
    /// Counts one request of `contract` that ended with `result` after `elapsed`.
    pub(crate) fn record(&self, contract: &'static str, result: &'static str, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels { contract, result })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a failed or timed-out handshake.
    pub(crate) fn handshake_failed(&self) {
        self.handshake_failures.inc();
    }

    /// Counts a connection refused at a cap.
    pub(crate) fn connection_rejected(&self) {
        self.connections_rejected.inc();
    }

    /// A connection opened (`true`) or closed (`false`).
    pub(crate) fn connection_open(&self, open: bool) {
        if open {
            self.connections_open.inc();
        } else {
            self.connections_open.dec();
        }
    }

    /// The OpenMetrics text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics could not be rendered");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_rendered_as_a_histogram_per_contract_and_result() {
        let m = Metrics::default();
        m.record("GetPersonsForProfile", "OK", Duration::from_micros(800));
        m.record("GetPersonsForProfile", "OK", Duration::from_millis(3));
        m.connection_open(true);
        m.handshake_failed();
        let text = m.render();
        assert!(text.contains(r#"pu_adapter_request_duration_seconds_count{contract="GetPersonsForProfile",result="OK"} 2"#), "{text}");
        assert!(text.contains("pu_adapter_connections_open 1"), "{text}");
        assert!(
            text.contains("pu_adapter_tls_handshake_failures_total 1"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                r#"pu_adapter_build_info{{version="{}"}} 1"#,
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
    }
}
