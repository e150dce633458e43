//! Prometheus metrics (prometheus-client) and the health the probes read: per-contract
//! request durations by result, requests in flight, `soap:Server` answers by cause,
//! audit-commit latency, connection-pool use, connections, build information; whether the
//! service is draining and whether the store failed more recently than it succeeded.
//! One process-wide instance, so any layer can record without plumbing.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabels {
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

/// 50 µs to ~0.4 s: one fsync'd commit of an audit batch.
fn commit_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 14))
}

/// 100 µs to ~3.3 s: a read answers in about a millisecond, a timeout is 10 s.
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

/// Whether a connection or a request began or ended, for the gauges of what is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opened, or started being answered.
    Began,
    /// Closed, or answered.
    Ended,
}

/// Counters shared by the SOAP listener and read by `/metrics`.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    handshake_failures: Counter,
    connections_rejected: Counter,
    refusals: Family<ReasonLabels, Counter>,
    connections_open: Gauge,
    in_flight: Gauge,
    server_faults: Family<CauseLabels, Counter>,
    audit_commit: Histogram,
    pool_in_use: Family<PoolLabels, Gauge>,
    certificate_expiry: Family<CertLabels, Gauge>,
    health: Health,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertLabels {
    file: &'static str,
}

/// What the readiness probe needs to know.
#[derive(Debug, Default)]
pub struct Health {
    draining: AtomicBool,
    store_failed_ms: AtomicU64,
    store_ok_ms: AtomicU64,
}

impl Health {
    /// The service stopped accepting and is finishing its requests.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether it is draining.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// A store operation failed now.
    pub fn store_failed(&self) {
        self.store_failed_ms.store(now_ms(), Ordering::Release);
    }

    /// A store operation succeeded now.
    pub fn store_ok(&self) {
        self.store_ok_ms.store(now_ms(), Ordering::Release);
    }

    /// The last store operation failed (e.g. a full disk): not ready until one succeeds.
    pub fn store_failing(&self) -> bool {
        self.store_failed_ms.load(Ordering::Acquire) > self.store_ok_ms.load(Ordering::Acquire)
    }
}

fn now_ms() -> u64 {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    let ms = EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX).saturating_add(1)
}

/// The process-wide metrics, created on first use.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
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
        let refusals = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "refusals",
            "Requests refused over an in-flight cap and connections closed over a certificate's cap, after their wait, by reason",
            refusals.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "connections_open",
            "Connections open now",
            connections_open.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "requests_in_flight",
            "SOAP requests being answered now",
            in_flight.clone(),
        );
        let server_faults = Family::<CauseLabels, Counter>::default();
        registry.register(
            "server_faults",
            "soap:Server answers by cause (storage, timeout, internal, overload)",
            server_faults.clone(),
        );
        let audit_commit = commit_histogram();
        registry.register(
            "audit_commit_seconds",
            "Durable commits of audit batches",
            audit_commit.clone(),
        );
        let pool_in_use = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "pool_connections_in_use",
            "Store connections lent out, by pool",
            pool_in_use.clone(),
        );
        let certificate_expiry = Family::<CertLabels, Gauge>::default();
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until the first certificate of each configured file expires",
            certificate_expiry.clone(),
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
            refusals,
            connections_open,
            in_flight,
            server_faults,
            audit_commit,
            pool_in_use,
            certificate_expiry,
            health: Health::default(),
        }
    }
}

impl Metrics {
    /// Counts one request of `contract` that ended with `result` after `elapsed`.
    pub fn record(&self, contract: &'static str, result: &'static str, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels { contract, result })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a failed or timed-out handshake.
    pub fn handshake_failed(&self) {
        self.handshake_failures.inc();
    }

    /// Counts a connection refused at a cap.
    pub fn connection_rejected(&self) {
        self.connections_rejected.inc();
    }

    /// Counts a request or connection refused over a cap after its wait, by `reason`.
    pub fn refused(&self, reason: &'static str) {
        self.refusals.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// A connection opened or closed.
    pub fn connection(&self, phase: Phase) {
        match phase {
            Phase::Began => self.connections_open.inc(),
            Phase::Ended => self.connections_open.dec(),
        };
    }

    /// A request started or ended being answered.
    pub fn in_flight(&self, phase: Phase) {
        match phase {
            Phase::Began => self.in_flight.inc(),
            Phase::Ended => self.in_flight.dec(),
        };
    }

    /// Counts a `soap:Server` answer.
    pub fn server_fault(&self, cause: &'static str) {
        self.server_faults
            .get_or_create(&CauseLabels { cause })
            .inc();
    }

    /// Records one audit batch commit.
    pub fn audit_committed(&self, took: Duration) {
        self.audit_commit.observe(took.as_secs_f64());
    }

    /// A connection of `pool` was lent (`true`) or returned (`false`).
    pub fn pool_lent(&self, pool: &'static str, lent: bool) {
        let g = self.pool_in_use.get_or_create(&PoolLabels { pool });
        if lent {
            g.inc();
        } else {
            g.dec();
        }
    }

    /// Seconds until the certificates of a configured file expire.
    pub fn certificate_expiry(&self, file: &'static str, seconds: i64) {
        self.certificate_expiry
            .get_or_create(&CertLabels { file })
            .set(seconds);
    }

    /// The health the probes read.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
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
        m.connection(Phase::Began);
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
