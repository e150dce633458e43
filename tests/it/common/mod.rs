//! Helpers of the integration tests only; what benches, examples and fuzz share is in
//! `pu_adapter::testkit`.

pub use pu_adapter::testkit::*;

pub mod tls;
