//! pu-adapter: a SOAP/RIVTA producer of the PU contact-information contracts.
//!
//! Data flows one way: `transport` → `soap` (envelope, header, faults) → `contracts`
//! (XML types and handlers) → `domain` (rules, no XML or I/O) → `store` → `audit`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod domain;
pub mod xml;
pub mod soap;
pub mod contracts;
pub mod audit;
pub mod error;
pub mod store;
pub mod service;
pub mod import;
pub mod admin;
pub mod transport;
pub mod devcerts;
pub mod config;
pub mod demo;
pub mod app;
