//! The one place where errors become RIVTA answers: rule violations become a `ResultType`
//! with `resultCode=ERROR`; everything else becomes a SOAP Fault, audited by its kind.

use crate::audit::FaultKind;
use crate::contracts::types::ResultXml;
use crate::domain::{IdProblem, ProfileProblem, Violation};
use crate::soap::{EnvelopeError, Fault, FaultCode};
use crate::store::StoreError;
use crate::xml::DecodeError;
use uuid::Uuid;

/// A request that cannot be answered with data; each variant maps to one Fault.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServiceError {
    /// Not XML, not SOAP 1.1, no LogicalAddress, a mandatory header not understood.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Well-formed but not valid against the contract's schema.
    #[error("the request is not valid against the contract's schema: {0}")]
    Schema(#[from] DecodeError),
    /// The body element belongs to another contract than the endpoint's.
    #[error("the body element {found} does not belong to this endpoint's contract {contract}; expected {{{namespace}}}{contract}")]
    WrongOperation {
        /// The body element's `{namespace}name` as sent.
        found: String,
        /// The contract the endpoint path serves.
        contract: &'static str,
        /// The responder namespace that contract publishes.
        namespace: &'static str,
    },
    /// More identities than one GetPersonsForProfile may carry.
    #[error("{0} personId elements; at most 500 are allowed in one request")]
    TooManyIds(usize),
    /// A profile we do not serve.
    #[error("{0}")]
    Profile(#[from] ProfileProblem),
    /// An invalid identifier in a read contract (ID-2).
    #[error("{path}: {problem} [{rule}]", rule = if matches!(problem, IdProblem::UnknownRoot(_)) { "ID-1" } else { "ID-2" })]
    InvalidIdentifier {
        /// The element path of the identifier, e.g. `…/personId`.
        path: String,
        /// What is wrong with it (its text is the fault string's tail).
        #[source]
        problem: IdProblem,
    },
    /// The consumer is not allowed this contract (AC-1, PR-5).
    #[error("Obehörigt anrop för system {0}")]
    Unauthorised(String),
    /// The client certificate names no consumer (AC-1).
    #[error("the client certificate has no subject serialNumber (OID 2.5.4.5) holding the consumer's HSA-id")]
    NoConsumerId,
    /// The store failed; details go to the log only.
    #[error("the service could not complete the request because its database is unavailable; nothing was changed, try again")]
    Storage(#[from] StoreError),
    /// The request did not finish within the request timeout; what it did is unknown to the caller.
    #[error("the service did not complete the request in time; try again")]
    Timeout,
    /// A SOAP 1.2 content type.
    #[error("Content-Type application/soap+xml is SOAP 1.2; this service speaks SOAP 1.1 only (RIVTA BP 2.1): send text/xml; charset=utf-8")]
    Soap12ContentType,
    /// A charset other than UTF-8.
    #[error("charset {0:?} is not supported; send UTF-8 (text/xml; charset=utf-8)")]
    UnsupportedCharset(String),
    /// A fault injected through the test-control API.
    #[error("soap:Server fault injected by the test-control API")]
    Injected,
    /// Over an in-flight limit.
    #[error(transparent)]
    Overloaded(#[from] Overload),
    /// The handler thread ended without an answer (a bug, logged with its cause).
    #[error("the service could not complete the request; try again")]
    Internal(#[source] Internal),
}

/// How a handler ended without an answer (a bug; the cause goes to the log only).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Internal {
    /// The handler panicked on the async task.
    #[error("the request handler panicked")]
    Panicked,
    /// The blocking task that ran the handler failed (panicked or was cancelled).
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

/// Which in-flight limit a request is over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Overload {
    /// The service's own limit.
    #[error("the service is at its limit of requests in flight; retry after 1 second")]
    Service,
    /// The limit of one consumer (its HSA-id, `-` when the certificate names none).
    #[error("consumer {0} has too many requests in flight; retry after 1 second")]
    Consumer(String),
}

impl ServiceError {
    /// Who is at fault.
    pub(crate) fn fault_code(&self) -> FaultCode {
        match self {
            ServiceError::Envelope(EnvelopeError::Soap12) | ServiceError::Soap12ContentType => {
                FaultCode::VersionMismatch
            }
            ServiceError::Envelope(EnvelopeError::MustUnderstand(_)) => FaultCode::MustUnderstand,
            ServiceError::Storage(_)
            | ServiceError::Timeout
            | ServiceError::Overloaded(_)
            | ServiceError::Internal(_)
            | ServiceError::Injected => FaultCode::Server,
            _ => FaultCode::Client,
        }
    }

    /// The Fault to send, with a fresh log id.
    pub(crate) fn to_fault(&self) -> Fault {
        Fault::new(self.fault_code(), self.to_string())
    }

    /// The kind the audit trail records.
    pub(crate) fn fault_kind(&self) -> FaultKind {
        match self {
            ServiceError::Envelope(_)
            | ServiceError::Soap12ContentType
            | ServiceError::UnsupportedCharset(_) => FaultKind::InvalidEnvelope,
            ServiceError::Schema(_) => FaultKind::SchemaInvalid,
            ServiceError::WrongOperation { .. } => FaultKind::WrongOperation,
            ServiceError::TooManyIds(_) => FaultKind::TooManyIds,
            ServiceError::Profile(_) => FaultKind::UnsupportedProfile,
            ServiceError::InvalidIdentifier { .. } => FaultKind::InvalidPersonId,
            ServiceError::Unauthorised(_) => FaultKind::Unauthorised,
            ServiceError::NoConsumerId => FaultKind::NoConsumerId,
            ServiceError::Storage(_)
            | ServiceError::Internal(_)
            | ServiceError::Overloaded(_)
            | ServiceError::Injected => FaultKind::Storage,
            ServiceError::Timeout => FaultKind::Timeout,
        }
    }
}

/// The `ResultType` for a rule violation (docs/contract.md error codes).
pub(crate) fn result_for_violation(v: &Violation, log_id: Uuid) -> ResultXml {
    ResultXml::Error {
        code: v.code(),
        rule: v.rule(),
        text: v.to_string(),
        log_id: log_id.to_string(),
    }
}

/// Every `soap:Server` answer is logged with its underlying cause (ERROR, or WARN when it is
/// expected, as overload is), counted by cause, and a store failure marks the store failing
/// for the readiness probe. Callers' errors are not ours to log loudly.
pub(crate) fn report(err: &ServiceError, fault: &Fault) {
    let metrics = crate::metrics::global();
    let log_id = fault.log_id;
    match err {
        ServiceError::Overloaded(reason) => {
            metrics.server_fault("overload");
            tracing::warn!(%log_id, %reason, "soap:Server: overloaded");
        }
        ServiceError::Storage(e) => {
            metrics.server_fault("storage");
            metrics.health().store_failed();
            tracing::error!(%log_id, cause = %chain(e), "soap:Server: the store failed; nothing was changed");
        }
        ServiceError::Timeout => {
            metrics.server_fault("timeout");
            tracing::error!(%log_id, "soap:Server: the request did not complete within the request timeout");
        }
        ServiceError::Injected => {
            metrics.server_fault("injected");
            tracing::warn!(%log_id, "soap:Server: injected by the test-control API");
        }
        ServiceError::Internal(cause) => {
            metrics.server_fault("internal");
            tracing::error!(%log_id, cause = %chain(cause), "soap:Server: the handler ended without an answer");
        }
        _ => {}
    }
}

/// An error and every cause under it, `: `-separated (e.g. `database error: database or disk is full`).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
