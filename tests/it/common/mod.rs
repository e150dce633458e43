//! Helpers of the integration tests only; what benches, examples and fuzz share is in
//! `pu_adapter::testkit`.

pub(crate) use pu_adapter::testkit::*;

pub(crate) mod tls;
