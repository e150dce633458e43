//! pu-adapter: a SOAP/RIVTA producer of the PU contact-information contracts.
//!
//! Layers only point down (docs/ARCHITECTURE.md; `tests/it/architecture.rs` enforces it):
//! `app`/`config` → `transport` → `service` (the one seam) → `soap` → `store` → `audit` →
//! `contracts` (pure XML ↔ domain mapping) → `xml` → `domain` (rules; no XML, no I/O).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub(crate) mod admin;
pub mod app;
pub mod audit;
pub mod check;
pub mod config;
pub(crate) mod console;
pub mod contracts;
pub mod demo;
pub mod devcerts;
pub mod domain;
pub mod import;
pub mod log_writer;
pub mod metrics;
pub mod report;
pub mod service;
pub mod soap;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod transport;
pub mod xml;
