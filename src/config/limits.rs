//! The `[limits]` section: HTTP and XML limits with their defaults, and the HTTP limits
//! the transport takes.

use super::Config;
use crate::transport::HttpLimits;
use crate::xml::Limits;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The `[limits]` table: HTTP and XML limits, each with a default.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Header read timeout, ms.
    pub header_read_timeout_ms: u64,
    /// Idle keep-alive timeout, ms.
    pub idle_timeout_ms: u64,
    /// Request handling timeout, ms.
    pub request_timeout_ms: u64,
    /// TLS handshake timeout, ms.
    pub handshake_timeout_ms: u64,
    /// Open connections at most.
    pub max_connections: usize,
    /// Requests in flight at most; more get 503 with Retry-After.
    pub max_in_flight: usize,
    /// Requests in flight per consumer at most; more get 503 with Retry-After.
    pub max_in_flight_per_consumer: usize,
    /// Open connections per client certificate (the platform's excepted).
    pub max_connections_per_certificate: usize,
    /// How long a request over an in-flight cap waits for a slot before its 503, ms
    /// (0: refused at once).
    pub queue_wait_ms: u64,
    /// XML nesting depth at most.
    pub max_xml_depth: usize,
    /// XML elements per request at most.
    pub max_xml_elements: usize,
    /// Bytes of text in one XML element at most.
    pub max_xml_text_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let h = HttpLimits::default();
        let x = Limits::default();
        Self {
            max_body_bytes: h.max_body_bytes,
            header_read_timeout_ms: h.header_read_timeout.as_millis() as u64,
            idle_timeout_ms: h.idle_timeout.as_millis() as u64,
            request_timeout_ms: h.request_timeout.as_millis() as u64,
            handshake_timeout_ms: h.handshake_timeout.as_millis() as u64,
            max_connections: h.max_connections,
            max_in_flight: h.max_in_flight,
            max_in_flight_per_consumer: h.max_in_flight_per_consumer,
            max_connections_per_certificate: h.max_connections_per_certificate,
            queue_wait_ms: h.queue_wait.as_millis() as u64,
            max_xml_depth: x.max_depth,
            max_xml_elements: x.max_elements,
            max_xml_text_bytes: x.max_text_bytes,
        }
    }
}

impl Config {
    pub(crate) fn http_limits(&self) -> HttpLimits {
        let l = &self.limits;
        HttpLimits {
            max_body_bytes: l.max_body_bytes,
            header_read_timeout: Duration::from_millis(l.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(l.idle_timeout_ms),
            request_timeout: Duration::from_millis(l.request_timeout_ms),
            handshake_timeout: Duration::from_millis(l.handshake_timeout_ms),
            max_connections: l.max_connections,
            max_in_flight: l.max_in_flight,
            max_in_flight_per_consumer: l.max_in_flight_per_consumer,
            max_connections_per_certificate: l.max_connections_per_certificate,
            queue_wait: Duration::from_millis(l.queue_wait_ms),
        }
    }
}
