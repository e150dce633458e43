//! What every connection shares: the HTTP limits, the current TLS configuration, the
//! service, the overload limiter.

use super::limiter::Limiter;
use crate::metrics::Metrics;
use crate::service::Service;
use rustls::ServerConfig;
use std::sync::Arc;
use std::time::Duration;

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
    /// How long a request over an in-flight cap waits for a slot before its 503.
    pub queue_wait: Duration,
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
            queue_wait: Duration::from_secs(1),
        }
    }
}

/// Everything a connection needs.
pub(crate) struct AppState {
    /// The TLS configuration new connections get; a reload replaces it.
    pub(crate) tls: arc_swap::ArcSwap<ServerConfig>,
    /// The service: the only thing past this layer the transport talks to.
    pub(crate) service: Arc<Service>,
    /// Body size, timeouts and caps, as validated at start (a reload keeps them).
    pub limits: HttpLimits,
    /// HSA-ids of the service platform's certificates.
    pub(crate) platform_ids: Vec<String>,
    /// Base URL for `soap:address`, e.g. `https://pu.example.se:8443`; else taken from Host.
    pub(crate) public_url: Option<String>,
    pub(crate) metrics: &'static Metrics,
    /// Caps requests in flight and queued; the rest are refused before the service reads them.
    pub(crate) limiter: Arc<Limiter>,
}

impl HttpLimits {
    /// The limiter's caps. A connection over its certificate's cap is held as long as a
    /// handshake may take: the time the server gives any connection to get going.
    pub(crate) fn caps(&self) -> super::limiter::Caps {
        super::limiter::Caps {
            in_flight: self.max_in_flight,
            in_flight_per_consumer: self.max_in_flight_per_consumer,
            connections_per_certificate: self.max_connections_per_certificate,
            request_wait: self.queue_wait,
            connection_wait: self.handshake_timeout,
        }
    }
}

impl AppState {
    /// The TLS configuration for a new connection.
    pub(crate) fn current_tls(&self) -> Arc<ServerConfig> {
        self.tls.load_full()
    }

    /// Replaces the TLS configuration for every later connection.
    pub(crate) fn replace_tls(&self, tls: Arc<ServerConfig>) {
        self.tls.store(tls);
    }
}
