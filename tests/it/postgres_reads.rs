//! The read contracts on PostgreSQL answered on the async task (the async client), with no
//! blocking thread: the same answers and audit entries as the blocking path, a Fault and not
//! a hang when the database connection is lost, reads again once it can be reopened; and a
//! panic in an awaited read answered with a Fault.

use crate::common::*;
use pu_adapter::audit::{AuditCode, AuditEntry, AuditQuery, Outcome};
use pu_adapter::contracts::Contract;
use pu_adapter::domain::{Person, PersonId};
use pu_adapter::service::{Answer, Call, RequestResult, Service};
use pu_adapter::store::postgres::PostgresStore;
use pu_adapter::store::{
    AsyncReads, AuditLog, ContactUpdate, Loading, PersonState, PersonStore, Replaced, Scrubbed,
    StoreError, StoreKind, Stores, UpdateResult, Upserted,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// An audit trail in memory whose appends never block, as the server's journal's do not.
#[derive(Default)]
struct Trail(Mutex<Vec<AuditEntry>>);

impl Trail {
    /// The entries appended since the last call: (person, outcome, code).
    fn take(&self) -> Vec<(String, Outcome, Option<AuditCode>)> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .map(|e| (e.person, e.outcome, e.error_code))
            .collect()
    }
}

impl AuditLog for Trail {
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.0.lock().unwrap().extend_from_slice(entries);
        Ok(())
    }

    fn query(&self, _: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }

    fn index_journal(
        &self,
        _: &str,
        _: &[(u64, AuditEntry)],
        through: u64,
    ) -> Result<u64, StoreError> {
        Ok(through)
    }

    fn journal_mark(&self, _: &str) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn database_identity(&self) -> Result<String, StoreError> {
        Ok("memory".into())
    }
}

const TOLVAN: &str = "191212121212";
const CECILIA: &str = "201806051239";
const DAVID: &str = "201202102461";
const ERIK: &str = "197001013452";
const NOBODY: &str = "194001019803";

fn gpci(pnr: &str) -> String {
    envelope(&format!(
        r#"<GetPersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId>{}</personId></GetPersonContactInformation>"#,
        Contract::GetPersonContactInformation.responder_ns(),
        person_id(pnr)
    ))
}

/// One GetPersonsForProfile for several ids (one of them invalid) under `profile`.
fn gpfp_many(pnrs: &[&str], profile: &str) -> String {
    let ids: String = pnrs
        .iter()
        .map(|p| format!("<personId>{}</personId>", person_id(p)))
        .collect();
    envelope(&format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5">{ids}<personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>19121212121X</c:extension></personId><profile>{profile}</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    ))
}

/// Every read contract, restricted and Unrestricted: one person, several with guardians
/// (P4), a child's notification route (GU-1), a protected person's withheld record (PR-4),
/// an unknown person.
fn reads() -> Vec<(Contract, &'static str, String)> {
    let mut out = Vec::new();
    for (contract, request) in [
        (Contract::GetPersonsForProfile, gpfp(TOLVAN, "P3")),
        (
            Contract::GetPersonsForProfile,
            gpfp_many(&[TOLVAN, CECILIA, DAVID, ERIK, NOBODY], "P4"),
        ),
        (Contract::GetPersonContactInformation, gpci(TOLVAN)),
        (Contract::GetPersonContactInformation, gpci(CECILIA)),
        (Contract::GetPersonContactInformation, gpci(ERIK)),
        (Contract::GetPersonContactInformation, gpci(NOBODY)),
    ] {
        let twin = Contract::ALL
            .into_iter()
            .find(|c| c.name() == format!("{}Unrestricted", contract.name()))
            .expect("an Unrestricted twin");
        out.push((twin, EXTENDED, unrestricted(&request, contract)));
        out.push((contract, CONSUMER, request));
    }
    out
}

fn call_of(contract: Contract, consumer: &str) -> Call {
    Call {
        contract,
        consumer: Some(consumer.to_owned()),
        correlation_id: "test-correlation".into(),
    }
}

/// `answer` on `runtime`, or None when it did not come within `within`.
fn answer_within(
    runtime: &tokio::runtime::Runtime,
    service: &Arc<Service>,
    (contract, consumer, request): (Contract, &str, &str),
    within: Duration,
) -> Option<Answer> {
    let work = service.clone().answer(
        call_of(contract, consumer),
        bytes::Bytes::from(request.to_owned()),
    );
    runtime
        .block_on(async { tokio::time::timeout(within, work).await })
        .ok()
}

/// A runtime shaped as the server's on this machine: two workers.
fn server_like_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh database with the demo persons, its store reached at `url` (or through another
/// address, a proxy), with the audit in memory.
fn demo_stores(url: &str, pool_size: usize) -> (Arc<PostgresStore>, Arc<Trail>, Arc<Service>) {
    let store =
        Arc::new(PostgresStore::open(url, pool_size, test_postgres_ca().as_deref()).unwrap());
    pu_adapter::demo::load(store.as_ref(), &Default::default()).unwrap();
    let trail = Arc::new(Trail::default());
    let stores = Stores {
        persons: store.clone(),
        audit: trail.clone(),
    };
    (store, trail, Arc::new(service(&stores)))
}

// With the runtime's only blocking thread held busy, every read contract is still answered,
// with the answer and the audit entries of the blocking path (which needs that thread).
#[test]
fn postgres_reads_are_answered_with_every_blocking_thread_busy() {
    let Some(url) = fresh_postgres_database("pu_reads") else {
        return;
    };
    let (_store, trail, service) = demo_stores(&url, 4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (release, held) = mpsc::channel::<()>();
    let (taken, busy) = mpsc::channel::<()>();
    let holder = runtime.spawn_blocking(move || {
        taken.send(()).unwrap();
        let _ = held.recv();
    });
    busy.recv().unwrap();
    for (contract, consumer, request) in reads() {
        let awaited = answer_within(
            &runtime,
            &service,
            (contract, consumer, &request),
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| {
            panic!(
                "{} was not answered while the blocking thread was busy",
                contract.name()
            )
        });
        let awaited_audit = trail.take();
        // The blocking path, on this (non-async) thread.
        let blocking = call_envelope(&service, contract, consumer, &request);
        assert_eq!(
            awaited.fault.is_some().then_some(&awaited.body),
            None,
            "{}",
            contract.name()
        );
        assert_eq!(awaited.result, RequestResult::Ok);
        assert_eq!(awaited.body, blocking.body, "{}", contract.name());
        assert_eq!(awaited_audit, trail.take(), "{}", contract.name());
    }
    release.send(()).unwrap();
    runtime.block_on(holder).unwrap();
}

// A referred identity is answered by the person who claims it, on the awaited path as on the
// blocking one: the awaited read keys its statement on the id itself and reads an alias
// again under the blocking path's statement.
#[test]
fn postgres_reads_answer_a_referred_identity_with_its_claimant_as_the_blocking_path_does() {
    let Some(url) = fresh_postgres_database("pu_reads_alias") else {
        return;
    };
    let (store, trail, service) = demo_stores(&url, 4);
    let claimant = r#"{"personId":"200001012384","givenName":"Ny","surname":"Person","referredIdentities":[{"root":"1.2.752.129.2.1.3.1","extension":"197001011233"}]}"#;
    let summary = pu_adapter::import::import(
        claimant.as_bytes(),
        store.as_ref(),
        &Default::default(),
        |_| {},
    )
    .unwrap();
    assert!(summary.rejected.is_empty(), "{summary:?}");
    let runtime = server_like_runtime();
    let referred = "197001011233";
    for (request, claimants) in [
        (gpfp(referred, "P3"), 1),
        (gpfp_many(&[referred, TOLVAN, referred], "P3"), 2),
    ] {
        let contract = Contract::GetPersonsForProfile;
        let awaited = answer_within(
            &runtime,
            &service,
            (contract, CONSUMER, &request),
            Duration::from_secs(5),
        )
        .expect("answered");
        let awaited_audit = trail.take();
        let blocking = call_envelope(&service, contract, CONSUMER, &request);
        assert_eq!(awaited.result, RequestResult::Ok, "{}", awaited.body);
        assert_eq!(awaited.body, blocking.body);
        assert_eq!(awaited_audit, trail.take());
        assert_eq!(
            awaited.body.matches(":extension>200001012384<").count(),
            claimants,
            "the referred identity answers as its claimant: {}",
            awaited.body
        );
    }
}

/// A TCP relay to the database whose open flows can be cut silently: nothing passes any
/// more and nothing is closed, as when a network path dies without a reset.
struct Relay {
    port: u16,
    flows: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
}

impl Relay {
    fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let flows: Arc<Mutex<Vec<Arc<AtomicBool>>>> = Arc::default();
        let registry = flows.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let cut = Arc::new(AtomicBool::new(false));
                registry.lock().unwrap().push(cut.clone());
                let (c, s) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let back = cut.clone();
                std::thread::spawn(move || pump(client, server, &cut));
                std::thread::spawn(move || pump(s, c, &back));
            }
        });
        Relay { port, flows }
    }

    /// Every flow open now goes silent; later ones pass.
    fn cut_open_flows(&self) {
        for flow in self.flows.lock().unwrap().drain(..) {
            flow.store(true, Ordering::SeqCst);
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, cut: &AtomicBool) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = to.shutdown(std::net::Shutdown::Both);
                return;
            }
            Ok(n) if !cut.load(Ordering::SeqCst) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Ok(_) => {}
        }
    }
}

/// `url` with its port replaced; and the address it named.
fn through_port(url: &str, port: u16) -> (String, SocketAddr) {
    let value = |key: &str| {
        url.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} in {url}"))
            .to_owned()
    };
    let upstream = format!("{}:{}", value("host="), value("port="))
        .parse()
        .expect("host=IP port=N");
    let rewritten = url
        .split_whitespace()
        .map(|kv| {
            if kv.starts_with("port=") {
                format!("port={port}")
            } else {
                kv.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    (rewritten, upstream)
}

// A read whose connection went silent is a soap:Server Fault within the read timeout, not
// a hang; the next read opens a new connection and is answered. A connection the server
// ended (pg_terminate_backend) never hangs a read either, and reads go on.
#[test]
fn postgres_a_lost_connection_gives_a_fault_then_reads_recover() {
    let Some(url) = fresh_postgres_database("pu_reads_lost") else {
        return;
    };
    let (_, upstream) = through_port(&url, 0);
    let relay = Relay::start(upstream);
    let (relayed, _) = through_port(&url, relay.port);
    let (_store, _trail, service) = demo_stores(&relayed, 1);
    let runtime = server_like_runtime();
    let request = gpci(TOLVAN);
    let read = || {
        let started = Instant::now();
        let answer = answer_within(
            &runtime,
            &service,
            (Contract::GetPersonContactInformation, CONSUMER, &request),
            Duration::from_secs(9),
        )
        .expect("a read hung on a lost connection");
        (answer, started.elapsed())
    };
    assert_eq!(read().0.result, RequestResult::Ok);

    relay.cut_open_flows();
    let (lost, took) = read();
    assert_eq!(lost.result.as_str(), "soap:Server", "{}", lost.body);
    assert!(
        took >= Duration::from_secs(4),
        "a Fault before the read timeout: {took:?}"
    );
    assert_eq!(
        read().0.result,
        RequestResult::Ok,
        "no recovery after the cut"
    );

    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let ended = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert!(!ended.is_empty(), "the store's connections were not found");
    let (after, _) = read();
    assert!(
        matches!(after.result.as_str(), "OK" | "soap:Server"),
        "{:?}",
        after.result
    );
    assert_eq!(
        read().0.result,
        RequestResult::Ok,
        "no recovery after the backend ended"
    );
}

/// A person store whose awaited reads panic (a bug), over a SQLite demo store.
struct PanickingReads(Arc<pu_adapter::store::sqlite::SqliteStore>);

impl AsyncReads for PanickingReads {
    fn load_following_aliases<'a>(&'a self, _: &'a [PersonId], _: bool) -> Loading<'a> {
        Box::pin(async {
            tokio::task::yield_now().await;
            panic!("an awaited read panicked")
        })
    }
}

impl PersonStore for PanickingReads {
    fn kind(&self) -> StoreKind {
        self.0.kind()
    }
    fn ping(&self) -> Result<(), StoreError> {
        self.0.ping()
    }
    fn load_following_aliases(
        &self,
        ids: &[PersonId],
        follow_aliases: bool,
    ) -> Result<Vec<Option<PersonState>>, StoreError> {
        self.0.load_following_aliases(ids, follow_aliases)
    }
    fn update_contacts(&self, update: ContactUpdate<'_>) -> UpdateResult {
        self.0.update_contacts(update)
    }
    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError> {
        self.0.upsert_persons(persons)
    }
    fn upsert_and_seed(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError> {
        self.0.upsert_and_seed(persons, seeds)
    }
    fn count_persons(&self) -> Result<u64, StoreError> {
        self.0.count_persons()
    }
    fn replace_population(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError> {
        self.0.replace_population(persons, seeds)
    }
    fn scrub_removed(&self, within: Duration) -> Result<Scrubbed, StoreError> {
        self.0.scrub_removed(within)
    }
    fn async_reads(&self) -> Option<&dyn AsyncReads> {
        Some(self)
    }
}

// A panic in an awaited read is a soap:Server Fault, not a task gone without an answer.
#[test]
fn postgres_reads_a_panic_in_an_awaited_read_is_a_fault() {
    let (_dir, sqlite) = demo_store();
    let stores = Stores {
        persons: Arc::new(PanickingReads(sqlite.clone())),
        audit: sqlite,
    };
    let service = Arc::new(service(&stores));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let request = gpci(TOLVAN);
    let answer = answer_within(
        &runtime,
        &service,
        (Contract::GetPersonContactInformation, CONSUMER, &request),
        Duration::from_secs(5),
    )
    .expect("answered");
    assert_eq!(answer.result.as_str(), "soap:Server");
}
