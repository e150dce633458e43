//! Transport: mutual TLS, the client certificate's identity, and HTTP with its limits.

pub(crate) mod activity;
mod dev_trust;
mod endpoint;
pub(crate) mod http;
pub mod identity;
pub(crate) mod limiter;
mod response;
pub(crate) mod state;
pub mod tls;

pub(crate) use http::{serve, ServerHandle};
pub(crate) use state::HttpLimits;
