//! One SOAP call from bytes to bytes, and the only seam the transport knows: envelope,
//! authorisation, the contract's mapping into domain values, the domain's rules, the store,
//! the audit trail and the answer. Transport-free, so tests can drive it directly.
//!
//! Each contract has a handler module here; its XML mapping lives in `crate::contracts`.

pub mod control;
mod error;
mod get_person_contact_information;
mod get_persons_for_profile;
mod ping_for_configuration;
mod update_person_contact_information;

use crate::contracts::Contract;
use crate::soap::{Fault, FaultCode};
pub(crate) use error::{Overload, ServiceError};

use crate::audit::{AuditCode, AuditEntry, Caller, Outcome, Source};
use crate::domain::{IdentifierPolicy, PersonId};
use crate::soap::{read_envelope, wrap_body, wsdl};
use crate::store::{AuditTicket, PersonState, PersonStore, Reads, StoreError, Stores};
use crate::xml::{Element, Limits};
use futures_util::FutureExt;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Deployment settings the handlers need.
#[derive(Debug, Clone, Default)]
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

/// Contract → consumer HSA-ids allowed to call it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorisation {
    allowed: BTreeMap<Contract, BTreeSet<String>>,
}

impl Authorisation {
    /// Allows `consumer` to call `contract`.
    pub fn allow(&mut self, consumer: &str, contract: Contract) {
        self.allowed
            .entry(contract)
            .or_default()
            .insert(consumer.to_owned());
    }

    /// Whether `consumer` may call `contract`.
    pub(crate) fn is_allowed(&self, consumer: &str, contract: Contract) -> bool {
        self.allowed
            .get(&contract)
            .is_some_and(|c| c.contains(consumer))
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

impl Call {
    fn caller<'a>(&'a self, logical_address: &'a str) -> Caller<'a> {
        Caller {
            consumer: self.consumer.as_deref().unwrap_or_default(),
            source: Source::Contract(self.contract),
            logical_address,
            correlation_id: &self.correlation_id,
        }
    }
}

/// How a request ended, for the request log line and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestResult {
    /// Answered with data or `resultCode=OK`.
    Ok,
    /// Answered with `resultCode=ERROR` (a rule refused it).
    Error,
    /// Answered with a SOAP Fault.
    Fault(FaultCode),
    /// 400: the body could not be read.
    BadRequest,
    /// 413: the body was too large.
    TooLarge,
    /// 415: not a SOAP 1.1 content type.
    UnsupportedMediaType,
    /// 503: over an in-flight limit.
    Overloaded,
}

impl RequestResult {
    /// The label in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestResult::Ok => "OK",
            RequestResult::Error => "ERROR",
            RequestResult::Fault(code) => code.as_qname(),
            RequestResult::BadRequest => "400",
            RequestResult::TooLarge => "413",
            RequestResult::UnsupportedMediaType => "415",
            RequestResult::Overloaded => "503",
        }
    }
}

/// What a handler produced: the response payload and the audit entries of its reads.
#[derive(Debug)]
struct Handled {
    /// The response element, ready to wrap.
    payload: String,
    /// Entries to append before the answer leaves (updates audit inside their transaction).
    audit: Vec<AuditEntry>,
    /// OK or ERROR.
    result: RequestResult,
}

/// How a call ended, for the transport's log line and status code.
#[derive(Debug)]
pub struct Answer {
    /// The SOAP envelope to send.
    pub body: String,
    /// A Fault (HTTP 500) or a normal response (HTTP 200).
    pub fault: Option<Fault>,
    /// OK, ERROR or the fault code.
    pub result: RequestResult,
    /// The LogicalAddress, when one was read.
    pub logical_address: Option<String>,
}

impl Answer {
    fn fault(fault: Fault, logical_address: Option<String>) -> Self {
        Answer {
            body: fault.to_envelope(),
            result: RequestResult::Fault(fault.code),
            fault: Some(fault),
            logical_address,
        }
    }
}

/// What a handler gets: the call, the envelope's LogicalAddress, configuration and stores.
struct Context<'a> {
    call: &'a Call,
    logical_address: &'a str,
    config: &'a ServiceConfig,
    stores: &'a Stores,
}

impl Context<'_> {
    /// An audit entry of this call for `person`, outcome OK.
    fn audit(&self, person: String) -> AuditEntry {
        AuditEntry::now(&self.call.caller(self.logical_address), person)
    }
}

/// The service: settings and stores. Cheap to share behind an `Arc`.
pub struct Service {
    /// Swapped whole by a reload; each request works with the settings it started with.
    config: arc_swap::ArcSwap<ServiceConfig>,
    control: control::Control,
    stores: Stores,
}

impl Service {
    /// A service over `stores`.
    pub fn new(config: ServiceConfig, stores: Stores) -> Self {
        Self {
            config: arc_swap::ArcSwap::from_pointee(config),
            control: control::Control::disabled(),
            stores,
        }
    }

    /// With a test-control plane (fault injection, journal).
    #[must_use]
    pub fn with_control(mut self, control: control::Control) -> Self {
        self.control = control;
        self
    }

    /// The test-control plane.
    pub fn control(&self) -> &control::Control {
        &self.control
    }

    /// The settings now (a reload may replace them for later requests).
    fn settings(&self) -> Arc<ServiceConfig> {
        self.config.load_full()
    }

    /// Replaces the settings (consumers, rules, limits) for every later request.
    pub fn reconfigure(&self, config: ServiceConfig) {
        self.config.store(Arc::new(config));
    }

    /// The stores (for health checks).
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The contract served at an endpoint path.
    pub(crate) fn contract_at(path: &str) -> Option<Contract> {
        Contract::from_path(path)
    }

    /// `?wsdl` or `?xsd=<file>` of `contract`, with `endpoint` as its address.
    pub(crate) fn contract_file(contract: Contract, query: &str, endpoint: &str) -> Option<String> {
        if query.eq_ignore_ascii_case("wsdl") {
            wsdl::wsdl(contract, endpoint)
        } else {
            query
                .strip_prefix("xsd=")
                .and_then(|name| wsdl::xsd(contract, name, endpoint))
        }
    }

    /// Handles one request body for `call` on this thread: never panics on input, always
    /// answers. Blocks until the call's audit entries are durable.
    pub fn handle(&self, call: &Call, body: &[u8]) -> Answer {
        let mut logical_address = None;
        let handled = self
            .handle_checked(call, body, &mut logical_address)
            .and_then(|mut h| {
                self.submit_audit(&mut h).wait()?;
                Ok(h)
            });
        let (answer, ticket) = self.settle(call, handled, logical_address);
        if let Some(ticket) = ticket {
            report_unaudited(ticket.wait(), &answer);
        }
        answer
    }

    /// Answers one request. Reads run on this async task, with no hand-off to a blocking
    /// thread: awaited where the store has async reads (PostgreSQL), made in-process where it
    /// reads in-process and has a connection free (SQLite); the task is parked, not a thread,
    /// while the database answers and while the audit journal syncs. Updates, and reads the
    /// store can make neither way now, run on a blocking thread.
    pub async fn answer(self: Arc<Self>, call: Call, body: bytes::Bytes) -> Answer {
        use tracing::Instrument;
        // Every log line of the handler carries the request's correlation id.
        let span = tracing::info_span!("soap", correlation_id = %call.correlation_id, contract = call.contract.name());
        if call.contract.is_read() {
            let reads = self.stores.reads();
            if matches!(reads, Reads::Async(_)) || self.stores.persons.reads_inline() {
                return self.answer_read(call, body, reads).instrument(span).await;
            }
        }
        let work = tokio::task::spawn_blocking(move || span.in_scope(|| self.handle(&call, &body)));
        work.await.unwrap_or_else(|join| {
            let failure = ServiceError::Internal(error::Internal::Task(join));
            let answer = Self::transport_fault(&failure);
            if let Some(fault) = &answer.fault {
                tracing::error!(log_id = %fault.log_id, cause = ?failure, "request failed");
            }
            answer
        })
    }

    /// Answers a read on this async task; see [`Service::answer`].
    async fn answer_read(&self, call: Call, body: bytes::Bytes, reads: Reads<'_>) -> Answer {
        let mut logical_address = None;
        // A panic here, in the handler or in the store's read, would take the worker's
        // task, and the connection, without an answer.
        let checked =
            AssertUnwindSafe(self.read_checked(&call, &body, &mut logical_address, reads))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(ServiceError::Internal(error::Internal::Panicked)));
        let handled = match checked {
            Ok(mut h) => self
                .submit_audit(&mut h)
                .durable()
                .await
                .map(|()| h)
                .map_err(ServiceError::from),
            Err(err) => Err(err),
        };
        let (answer, ticket) = self.settle(&call, handled, logical_address);
        if let Some(ticket) = ticket {
            report_unaudited(ticket.durable().await, &answer);
        }
        answer
    }

    /// Submits the answer's audit entries to the journal; the answer may leave once the
    /// ticket is durable (AC-2).
    fn submit_audit(&self, handled: &mut Handled) -> AuditTicket {
        self.stores.audit.submit(std::mem::take(&mut handled.audit))
    }

    /// The answer for a handled (and audited) call, or the Fault for a refused one with
    /// the ticket of the refusal's audit entry, which the caller waits on before answering.
    fn settle(
        &self,
        call: &Call,
        handled: Result<Handled, ServiceError>,
        logical_address: Option<String>,
    ) -> (Answer, Option<AuditTicket>) {
        match handled {
            Ok(handled) => (Self::answered(&handled, logical_address), None),
            Err(err) => self.refuse(call, &err, logical_address),
        }
    }

    fn answered(handled: &Handled, logical_address: Option<String>) -> Answer {
        // The store answered and committed: ready again after a failure (a freed disk).
        crate::metrics::global().health().store_ok();
        Answer {
            body: wrap_body(&handled.payload),
            fault: None,
            result: handled.result,
            logical_address,
        }
    }

    /// The Fault answer for a request refused before or outside `handle` (content type,
    /// overload, timeout): logged by the transport, not audited, as no call was read from it.
    pub(crate) fn transport_fault(err: &ServiceError) -> Answer {
        Answer::fault(err.to_fault(), None)
    }

    /// The Fault for `err` and the ticket of its audit entry, which the caller waits on.
    fn refuse(
        &self,
        call: &Call,
        err: &ServiceError,
        logical_address: Option<String>,
    ) -> (Answer, Option<AuditTicket>) {
        let fault = err.to_fault();
        error::report(err, &fault);
        let ticket = self.audit_fault(call, err, &fault, logical_address.as_deref());
        (Answer::fault(fault, logical_address), ticket)
    }

    /// Handles a call on this thread, a read's loads blocking it.
    fn handle_checked(
        &self,
        call: &Call,
        body: &[u8],
        logical_address_read: &mut Option<String>,
    ) -> Result<Handled, ServiceError> {
        let admitted = self.admit(call, body, logical_address_read)?;
        let ctx = admitted.context(call, &self.stores);
        match dispatch(&ctx, &admitted.body)? {
            Dispatched::Handled(handled) => Ok(handled),
            Dispatched::Read(read) => read.load_blocking(&ctx),
        }
    }

    /// Handles a read on this async task, its loads awaited or made in-process (`reads`).
    async fn read_checked(
        &self,
        call: &Call,
        body: &[u8],
        logical_address_read: &mut Option<String>,
        reads: Reads<'_>,
    ) -> Result<Handled, ServiceError> {
        let admitted = self.admit(call, body, logical_address_read)?;
        let ctx = admitted.context(call, &self.stores);
        match dispatch(&ctx, &admitted.body)? {
            Dispatched::Handled(handled) => Ok(handled),
            Dispatched::Read(read) => read.load_awaited(&ctx, reads).await,
        }
    }

    /// Reads the envelope and checks that the consumer may call this endpoint's contract
    /// with this body.
    fn admit(
        &self,
        call: &Call,
        body: &[u8],
        // Set as soon as the envelope is read, so a later failure's Fault still names it.
        logical_address_read: &mut Option<String>,
    ) -> Result<Admitted, ServiceError> {
        let config = self.settings();
        let envelope = read_envelope(body, config.xml_limits)?;
        let logical_address = envelope.logical_address()?.to_owned();
        *logical_address_read = Some(logical_address.clone());
        let consumer = call.consumer.as_deref().ok_or(ServiceError::NoConsumerId)?;
        if !config.authorisation.is_allowed(consumer, call.contract) {
            return Err(ServiceError::Unauthorised(consumer.to_owned()));
        }
        check_operation(&envelope.body, call.contract)?;
        Ok(Admitted {
            config,
            logical_address,
            body: envelope.body,
        })
    }

    /// Faults are audited too (AC-2: every access attempt), without a person when none was read.
    fn audit_fault(
        &self,
        call: &Call,
        err: &ServiceError,
        fault: &Fault,
        logical_address: Option<&str>,
    ) -> Option<AuditTicket> {
        // A store that failed cannot record its own failure; the log line carries it.
        if matches!(err, ServiceError::Storage(_))
            || call.contract == Contract::PingForConfiguration
        {
            return None;
        }
        let entry = AuditEntry::now(
            &call.caller(logical_address.unwrap_or_default()),
            String::new(),
        )
        .with_outcome(
            Outcome::Fault,
            Some(AuditCode::Fault(err.fault_kind())),
            Some(fault.log_id.to_string()),
        );
        Some(self.stores.audit.submit(vec![entry]))
    }
}

/// A Fault whose audit entry could not be made durable is still answered; the log says so.
fn report_unaudited(audited: Result<(), crate::store::StoreError>, answer: &Answer) {
    if let (Err(e), Some(fault)) = (audited, &answer.fault) {
        tracing::error!(log_id = %fault.log_id, error = %e, "could not audit a fault");
    }
}

/// The body element must be this endpoint's request element.
fn check_operation(body: &Element, contract: Contract) -> Result<(), ServiceError> {
    if body.is(contract.responder_ns(), contract.name()) {
        Ok(())
    } else {
        Err(ServiceError::WrongOperation {
            found: body.qualified_name(),
            contract: contract.name(),
            namespace: contract.responder_ns(),
        })
    }
}

/// A call whose envelope was read and whose consumer may make it.
struct Admitted {
    /// The settings the call started with.
    config: Arc<ServiceConfig>,
    logical_address: String,
    /// The request element.
    body: Element,
}

impl Admitted {
    fn context<'a>(&'a self, call: &'a Call, stores: &'a Stores) -> Context<'a> {
        Context {
            call,
            logical_address: &self.logical_address,
            config: &self.config,
            stores,
        }
    }
}

/// What a contract's handler made of an admitted call.
enum Dispatched {
    /// The answer (updates, PingForConfiguration: handled whole on this thread).
    Handled(Handled),
    /// A read, decoded and checked, that still has to load its persons.
    Read(Read),
}

fn dispatch(ctx: &Context<'_>, body: &Element) -> Result<Dispatched, ServiceError> {
    Ok(match ctx.call.contract {
        Contract::GetPersonsForProfile | Contract::GetPersonsForProfileUnrestricted => {
            Dispatched::Read(Read::Profiles(get_persons_for_profile::decode_read(
                ctx, body,
            )?))
        }
        Contract::GetPersonContactInformation
        | Contract::GetPersonContactInformationUnrestricted => Dispatched::Read(Read::Contacts(
            get_person_contact_information::decode_read(ctx, body)?,
        )),
        Contract::UpdatePersonContactInformation
        | Contract::UpdatePersonContactInformationUnrestricted => {
            Dispatched::Handled(update_person_contact_information::handle(ctx, body)?)
        }
        Contract::PingForConfiguration => {
            Dispatched::Handled(ping_for_configuration::handle(ctx, body)?)
        }
    })
}

/// A read contract's request, decoded and checked, in the steps both ways of loading share:
/// the persons to load, the further persons those need (guardians), and the answer from
/// what was loaded. Only the loads differ between a blocking thread and an async task, so
/// every rule (disclosure, protection, erasure, guardians, audit) is applied by one code.
enum Read {
    /// GetPersonsForProfile(Unrestricted).
    Profiles(get_persons_for_profile::ProfilesRead),
    /// GetPersonContactInformation(Unrestricted).
    Contacts(get_person_contact_information::ContactsRead),
}

impl Read {
    /// The ids to load first, and whether referred and linked identities are followed.
    fn first(&self) -> (&[PersonId], bool) {
        match self {
            Read::Profiles(r) => r.first(),
            Read::Contacts(r) => r.first(),
        }
    }

    /// The further persons the answer needs given the first ones (their guardians), or
    /// `None` when it needs none.
    fn then(&self, first: &[Option<PersonState>]) -> Option<Vec<PersonId>> {
        match self {
            Read::Profiles(r) => r.then(first),
            Read::Contacts(r) => r.then(first),
        }
    }

    /// The answer and its audit entries from what was loaded.
    fn answer(
        self,
        ctx: &Context<'_>,
        first: Vec<Option<PersonState>>,
        then: Option<Vec<Option<PersonState>>>,
    ) -> Result<Handled, ServiceError> {
        match self {
            Read::Profiles(r) => r.answer(ctx, &first, then),
            Read::Contacts(r) => r.answer(ctx, first, then),
        }
    }

    /// Loads on this thread, which blocks while the store reads.
    fn load_blocking(self, ctx: &Context<'_>) -> Result<Handled, ServiceError> {
        let persons = ctx.stores.persons.as_ref();
        let (ids, follow_aliases) = self.first();
        let first = load_now(persons, ids, follow_aliases)?;
        let then = match self.then(&first) {
            Some(ids) => Some(load_now(persons, &ids, false)?),
            None => None,
        };
        self.answer(ctx, first, then)
    }

    /// Loads on this async task: awaited where the store has async reads, else made
    /// in-process by the store's own reads.
    async fn load_awaited(
        self,
        ctx: &Context<'_>,
        reads: Reads<'_>,
    ) -> Result<Handled, ServiceError> {
        let (ids, follow_aliases) = self.first();
        let first = load_on_task(ctx, reads, ids, follow_aliases).await?;
        let then = match self.then(&first) {
            Some(ids) => Some(load_on_task(ctx, reads, &ids, false).await?),
            None => None,
        };
        self.answer(ctx, first, then)
    }
}

/// The persons answering for `ids`, read by the store on this thread; nothing asked of it
/// for no ids.
fn load_now(
    persons: &dyn PersonStore,
    ids: &[PersonId],
    follow_aliases: bool,
) -> Result<Vec<Option<PersonState>>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    persons.load_following_aliases(ids, follow_aliases)
}

/// [`load_now`] on an async task: awaited where the store has async reads.
async fn load_on_task(
    ctx: &Context<'_>,
    reads: Reads<'_>,
    ids: &[PersonId],
    follow_aliases: bool,
) -> Result<Vec<Option<PersonState>>, StoreError> {
    match reads {
        Reads::Async(reads) if !ids.is_empty() => {
            reads.load_following_aliases(ids, follow_aliases).await
        }
        _ => load_now(ctx.stores.persons.as_ref(), ids, follow_aliases),
    }
}
