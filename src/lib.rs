//! pu-adapter: a SOAP/RIVTA producer of the PU contact-information contracts.
//!
//! Data flows one way: `transport` → `soap` (envelope, header, faults) → `contracts`
//! (XML types and handlers) → `domain` (rules, no XML or I/O) → `store` → `audit`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod app;
pub mod audit;
pub mod config;
pub mod contracts;
pub mod demo;
pub mod devcerts;
pub mod domain;
pub mod error;
pub mod import;
pub mod service;
pub mod soap;
pub mod store;
pub mod transport;
pub mod xml;
