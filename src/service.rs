//! One SOAP call from bytes to bytes: envelope, authorisation, the contract's handler,
//! the audit trail and the answer. Transport-free, so tests can drive it directly.

use crate::audit::{AuditEntry, Outcome};
use crate::contracts::{get_person_contact_information, get_persons_for_profile, ping_for_configuration, update_person_contact_information, Contract};
use crate::domain::IdentifierPolicy;
use crate::error::ServiceError;
use crate::soap::{read_envelope, wrap_body, Fault};
use crate::store::Store;
use crate::xml::{Element, Limits};
use std::collections::{BTreeMap, BTreeSet};

/// Deployment settings the handlers need.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Which identifier roots are accepted.
    pub identifiers: IdentifierPolicy,
    /// Whether the Unrestricted update contract may write for protected persons (PR-2).
    pub unrestricted_may_update_protected: bool,
    /// Bounds on request documents.
    pub xml_limits: Limits,
    /// Which consumers may call which contract (AC-1, PR-5).
    pub authorisation: Authorisation,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            identifiers: IdentifierPolicy::default(),
            unrestricted_may_update_protected: false,
            xml_limits: Limits::default(),
            authorisation: Authorisation::default(),
        }
    }
}

/// Contract → consumer HSA-ids allowed to call it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorisation {
    allowed: BTreeMap<Contract, BTreeSet<String>>,
}

impl Authorisation {
    /// Allows `consumer` to call `contract`.
    pub fn allow(&mut self, consumer: &str, contract: Contract) {
        self.allowed.entry(contract).or_default().insert(consumer.to_owned());
    }

    /// Whether `consumer` may call `contract`.
    pub fn is_allowed(&self, consumer: &str, contract: Contract) -> bool {
        self.allowed.get(&contract).is_some_and(|c| c.contains(consumer))
    }
}

/// Who called which contract, and under which correlation id.
#[derive(Debug, Clone)]
pub struct Call {
    /// The endpoint's contract.
    pub contract: Contract,
    /// The consumer's HSA-id (AC-1); `None` if the certificate named none.
    pub consumer: Option<String>,
    /// `x-skltp-correlation-id`.
    pub correlation_id: String,
}

/// What a handler produced: the response payload and the audit entries of its reads.
#[derive(Debug)]
pub struct Handled {
    /// The response element, ready to wrap.
    pub payload: String,
    /// Entries to append before the answer leaves (updates audit inside their transaction).
    pub audit: Vec<AuditEntry>,
    /// The result code written, for the request log line.
    pub result: &'static str,
}

/// How a call ended, for the transport's log line and status code.
#[derive(Debug)]
pub struct Answer {
    /// The SOAP envelope to send.
    pub body: String,
    /// A Fault (HTTP 500) or a normal response (HTTP 200).
    pub fault: Option<Fault>,
    /// `OK`, `ERROR` or the fault code, for the log line.
    pub result: &'static str,
    /// The LogicalAddress, when one was read.
    pub logical_address: Option<String>,
}

/// What a handler gets: the call, the envelope's LogicalAddress, configuration and store.
pub struct Context<'a> {
    /// The call.
    pub call: &'a Call,
    /// The LogicalAddress header.
    pub logical_address: &'a str,
    /// Settings.
    pub config: &'a ServiceConfig,
    /// Storage.
    pub store: &'a dyn Store,
}

impl Context<'_> {
    /// An audit entry of this call for `person`, outcome OK.
    pub fn audit(&self, person: String) -> AuditEntry {
        self.call.audit_entry(self.logical_address, person)
    }
}

impl Call {
    /// An audit entry of this call, outcome OK.
    pub fn audit_entry(&self, logical_address: &str, person: String) -> AuditEntry {
        let unrestricted = self.contract.access() == Some(crate::domain::Access::Unrestricted);
        AuditEntry::now(self.consumer.as_deref().unwrap_or_default(), self.contract.name(), unrestricted, logical_address, &self.correlation_id, person)
    }
}

/// Handles one request body for `call`: never panics, always answers.
pub fn handle(call: &Call, body: &[u8], config: &ServiceConfig, store: &dyn Store) -> Answer {
    let mut logical_address = None;
    match handle_checked(call, body, config, store, &mut logical_address) {
        Ok(handled) => Answer { body: wrap_body(&handled.payload), fault: None, result: handled.result, logical_address },
        Err(err) => {
            let fault = err.to_fault();
            audit_fault(call, &err, &fault, logical_address.as_deref(), store);
            Answer { body: fault.to_envelope(), result: fault.code.as_qname(), fault: Some(fault), logical_address }
        }
    }
}

fn handle_checked(call: &Call, body: &[u8], config: &ServiceConfig, store: &dyn Store, la_out: &mut Option<String>) -> Result<Handled, ServiceError> {
    let envelope = read_envelope(body, config.xml_limits)?;
    let logical_address = envelope.logical_address()?.to_owned();
    *la_out = Some(logical_address.clone());
    let consumer = call.consumer.as_deref().ok_or(ServiceError::NoConsumerId)?;
    if !config.authorisation.is_allowed(consumer, call.contract) {
        return Err(ServiceError::Unauthorised(consumer.to_owned()));
    }
    check_operation(&envelope.body, call.contract)?;
    let ctx = Context { call, logical_address: &logical_address, config, store };
    let handled = dispatch(&ctx, &envelope.body)?;
    if !handled.audit.is_empty() {
        store.append_audit(&handled.audit)?;
    }
    Ok(handled)
}

/// The body element must be this endpoint's request element.
fn check_operation(body: &Element, contract: Contract) -> Result<(), ServiceError> {
    if body.is(contract.responder_ns(), contract.name()) {
        Ok(())
    } else {
        Err(ServiceError::WrongOperation { found: body.qualified_name(), contract: contract.name(), namespace: contract.responder_ns() })
    }
}

fn dispatch(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    match ctx.call.contract {
        Contract::GetPersonsForProfile | Contract::GetPersonsForProfileUnrestricted => get_persons_for_profile::handle(ctx, body),
        Contract::GetPersonContactInformation | Contract::GetPersonContactInformationUnrestricted => get_person_contact_information::handle(ctx, body),
        Contract::UpdatePersonContactInformation | Contract::UpdatePersonContactInformationUnrestricted => update_person_contact_information::handle(ctx, body),
        Contract::PingForConfiguration => ping_for_configuration::handle(ctx, body),
    }
}

/// Faults are audited too (AC-2: every access attempt), without a person when none was read.
fn audit_fault(call: &Call, err: &ServiceError, fault: &Fault, logical_address: Option<&str>, store: &dyn Store) {
    if matches!(err, ServiceError::Storage(_)) || call.contract == Contract::PingForConfiguration {
        return;
    }
    let entry = call.audit_entry(logical_address.unwrap_or_default(), String::new()).with_outcome(
        Outcome::Fault,
        Some(fault_kind(err)),
        Some(fault.log_id.to_string()),
    );
    if let Err(e) = store.append_audit(&[entry]) {
        tracing::error!(log_id = %fault.log_id, error = %e, "could not audit a fault");
    }
}

/// A short stable name for a fault's cause, for the audit trail.
pub fn fault_kind(err: &ServiceError) -> &'static str {
    match err {
        ServiceError::Envelope(_) => "INVALID_ENVELOPE",
        ServiceError::Schema(_) => "SCHEMA_INVALID",
        ServiceError::WrongOperation { .. } => "WRONG_OPERATION",
        ServiceError::TooManyIds(_) => "TOO_MANY_IDS",
        ServiceError::Profile(_) => "UNSUPPORTED_PROFILE",
        ServiceError::InvalidIdentifier { .. } => "INVALID_PERSON_ID",
        ServiceError::Unauthorised(_) => "UNAUTHORISED",
        ServiceError::NoConsumerId => "NO_CONSUMER_ID",
        ServiceError::Storage(_) => "STORAGE",
    }
}
