//! Transport: mutual TLS, the client certificate's identity, and HTTP with its limits.

pub mod activity;
mod dev_trust;
pub mod http;
pub mod identity;
pub mod limiter;
pub mod tls;

pub use http::{serve, HttpLimits, ServerHandle};
