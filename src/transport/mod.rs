//! Transport: mutual TLS, the client certificate's identity, and HTTP with its limits.

pub(crate) mod activity;
mod dev_trust;
mod endpoint;
pub(crate) mod http;
pub mod identity;
pub(crate) mod limiter;
pub mod tls;

pub(crate) use http::{serve, HttpLimits, ServerHandle};
