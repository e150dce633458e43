//! pu-adapter: a SOAP/RIVTA producer of the PU contact-information contracts.
//!
//! Layers only point down (docs/ARCHITECTURE.md; `tests/it/architecture.rs` enforces it):
//! `app`/`config` → `transport` → `service` (the one seam) → `soap` → `store` → `audit` →
//! `contracts` (pure XML ↔ domain mapping) → `xml` → `domain` (rules; no XML, no I/O).
//!
//! The public surface is what a program embedding the service needs: [`app`] to start it,
//! [`config`], the [`store`] backends with the [`domain`] types their records are made of,
//! [`import`], [`audit`], [`report`], [`check`], [`devcerts`], [`log_writer`] and
//! [`metrics`]. The inner layers (`contracts`, `xml`, `soap`, `service`, `transport`,
//! `demo`) are `pub(crate)`; the `testkit` feature, which the crate's tests, benches,
//! examples and fuzz targets turn on, makes them `pub` so those can drive one layer alone.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Declares an inner layer: `pub` with the `testkit` feature, `pub(crate)` otherwise.
///
/// Its items keep their `pub`, which is what the `testkit` build reaches; without that
/// feature they are unreachable from outside, and `unreachable_pub` is allowed there
/// rather than marking some 90 items twice. Dead code still warns in both builds.
macro_rules! inner_layer {
    ($name:ident) => {
        #[cfg(feature = "testkit")]
        pub mod $name;
        #[cfg(not(feature = "testkit"))]
        #[allow(unreachable_pub)]
        pub(crate) mod $name;
    };
}

pub(crate) mod admin;
pub mod app;
pub mod audit;
pub mod check;
pub mod config;
pub(crate) mod console;
inner_layer!(contracts);
inner_layer!(demo);
pub mod devcerts;
pub mod domain;
pub mod import;
pub mod log_writer;
pub mod metrics;
pub mod report;
inner_layer!(service);
inner_layer!(soap);
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
inner_layer!(transport);
inner_layer!(xml);
