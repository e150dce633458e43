//! SOAP 1.1 / RIVTA BP 2.1: the envelope, the LogicalAddress header and faults.

pub(crate) mod envelope;
pub(crate) mod fault;
pub(crate) mod wsdl;

pub use envelope::{read_envelope, wrap_body, EnvelopeError};
pub(crate) use fault::{Fault, FaultCode};

/// SOAP 1.1 envelope namespace.
pub(crate) const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace (recognised only to refuse it clearly).
pub(crate) const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// Namespace of the LogicalAddress header.
pub(crate) const REGISTRY_NS: &str = "urn:riv:itintegration:registry:1";
