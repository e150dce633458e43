//! Test support shared by the integration tests, benchmarks, examples and fuzz targets
//! (feature `testkit`; never part of a release build): paths, envelopes, a demo store,
//! direct service calls, the development client certificates, xmllint, PostgreSQL
//! databases and the synthetic population.
#![allow(missing_docs, clippy::missing_panics_doc)]

use crate::contracts::Contract;
use crate::domain::identifier::luhn_check_digit;
use crate::service::{Answer, Authorisation, Call, Service, ServiceConfig};
use crate::store::sqlite::SqliteStore;
use crate::store::Stores;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The repository root (`CARGO_MANIFEST_DIR`), for fixtures such as `xsd/` and `certs-dev/`.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared`, or None with the skip message printed.
pub fn shared() -> Option<PathBuf> {
    let dir = repo().join("../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared not present");
        None
    }
}

/// The consumer of `certs-dev/consumer.pem`: every restricted contract.
pub const CONSUMER: &str = "SE2321000016-1001";
/// The consumer of `certs-dev/extended.pem`: the Unrestricted contracts too.
pub const EXTENDED: &str = "SE2321000016-1002";

/// A SOAP 1.1 request envelope around `payload` (an XML declaration in it is dropped).
pub fn envelope(payload: &str) -> String {
    let payload = payload.trim_start_matches(|c| c != '<').trim_start();
    let payload = if payload.starts_with("<?xml") {
        payload[payload.find("?>").map_or(0, |i| i + 2)..].trim_start()
    } else {
        payload
    };
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:itr=\"urn:riv:itintegration:registry:1\">\
         <soapenv:Header><itr:LogicalAddress>SE2321000016-LA01</itr:LogicalAddress></soapenv:Header>\
         <soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    )
}

/// The same request for a contract's Unrestricted twin: element and namespace renamed.
pub fn unrestricted(request: &str, restricted: Contract) -> String {
    let name = restricted.name();
    request
        .replace(
            &format!("{name}Responder"),
            &format!("{name}UnrestrictedResponder"),
        )
        .replace(&format!("<{name} "), &format!("<{name}Unrestricted "))
        .replace(&format!("<{name}>"), &format!("<{name}Unrestricted>"))
        .replace(&format!("</{name}>"), &format!("</{name}Unrestricted>"))
}

/// The payload element of a response envelope.
pub fn payload_of(envelope: &str) -> &str {
    let start = envelope
        .find("<soap:Body>")
        .map_or(0, |i| i + "<soap:Body>".len());
    let end = envelope.rfind("</soap:Body>").unwrap_or(envelope.len());
    &envelope[start..end]
}

/// The text of the first element named `local` (any prefix) in `xml`.
pub fn text_of<'a>(xml: &'a str, local: &str) -> Option<&'a str> {
    texts_of(xml, local).into_iter().next()
}

/// The texts of every element named `local` (any prefix) in `xml`.
pub fn texts_of<'a>(xml: &'a str, local: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest
            .find(|c: char| c == '>' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = &rest[..end];
        if name.starts_with('/') || name.rsplit(':').next() != Some(local) {
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let body = &rest[gt + 1..];
        out.push(&body[..body.find('<').unwrap_or(body.len())]);
    }
    out
}

/// A fresh SQLite store with the demo persons.
pub fn demo_store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("test.db")).expect("open store"));
    crate::demo::load(store.as_ref(), &Default::default()).expect("demo load");
    (dir, store)
}

/// Service settings with CONSUMER allowed every restricted contract and EXTENDED everything.
pub fn service_config() -> ServiceConfig {
    let mut auth = Authorisation::default();
    for c in Contract::ALL {
        if c.access() != Some(crate::domain::Access::Unrestricted) {
            auth.allow(CONSUMER, c);
        }
        auth.allow(EXTENDED, c);
    }
    ServiceConfig {
        authorisation: auth,
        ..ServiceConfig::default()
    }
}

/// A service over `stores` with [`service_config`].
pub fn service(stores: &Stores) -> Service {
    Service::new(service_config(), stores.clone())
}

/// Calls the service directly (no transport) with `payload` wrapped in an envelope.
pub fn call(
    stores: impl Into<Stores>,
    contract: Contract,
    consumer: &str,
    payload: &str,
) -> Answer {
    call_envelope(
        &service(&stores.into()),
        contract,
        consumer,
        &envelope(payload),
    )
}

/// Calls `service` with a whole request envelope.
pub fn call_envelope(
    service: &Service,
    contract: Contract,
    consumer: &str,
    envelope: &str,
) -> Answer {
    let call = Call {
        contract,
        consumer: Some(consumer.to_owned()),
        correlation_id: "test-correlation".into(),
    };
    service.handle(&call, envelope.as_bytes())
}

/// A rustls client configuration presenting `certs-dev/<name>.pem` (or none), trusting
/// the development CA; `resume` keeps TLS session resumption on.
pub fn client_config(name: Option<&str>, resume: bool) -> Arc<rustls::ClientConfig> {
    let certs = repo().join("certs-dev");
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(certs.join("ca.pem")).expect("certs-dev/ca.pem") {
        roots.add(c.expect("CA certificate")).expect("CA accepted");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots);
    let mut config = match name {
        Some(n) => {
            let chain: Vec<_> = CertificateDer::pem_file_iter(certs.join(format!("{n}.pem")))
                .expect("certificate file")
                .map(|c| c.expect("certificate"))
                .collect();
            let key =
                PrivateKeyDer::from_pem_file(certs.join(format!("{n}.key"))).expect("key file");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client certificate")
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if !resume {
        // A fresh full handshake per connection, as a new consumer would make.
        config.resumption = rustls::client::Resumption::disabled();
    }
    Arc::new(config)
}

/// Whether xmllint can run; in CI its absence is an error.
pub fn xmllint_available() -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint is required in CI (apt-get install libxml2-utils)"
        );
        eprintln!("skipped: xmllint not installed (apt-get install libxml2-utils)");
    }
    ok
}

/// Why a message did not pass xmllint.
#[derive(Debug, thiserror::Error)]
pub enum XmllintError {
    /// The message could not be written to a file, or xmllint not started.
    #[error("cannot run xmllint: {0}")]
    Run(#[from] std::io::Error),
    /// xmllint's verdict: the message is not valid against the schema.
    #[error("{0}")]
    Invalid(String),
}

/// Validates `xml` against `schema` with xmllint.
pub fn xmllint(schema: &Path, xml: &str) -> Result<(), XmllintError> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("message.xml");
    std::fs::write(&file, xml)?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(&file)
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(XmllintError::Invalid(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// Our responder schema for a contract.
pub fn our_schema(c: Contract) -> PathBuf {
    repo().join("xsd").join(c.xsd_file())
}

/// The published responder schema, when `../shared` has one for this contract.
pub fn published_schema(c: Contract) -> Option<PathBuf> {
    let file = shared()?
        .join("reference-schemas/schemas/interactions")
        .join(format!("{}Interaction", c.name()))
        .join(c.xsd_file());
    file.is_file().then_some(file)
}

/// The SOAP 1.1 envelope schema (for faults).
pub fn envelope_schema() -> PathBuf {
    repo().join("tests/schemas/soap-envelope-1.1.xsd")
}

/// A new empty database on the server PU_ADAPTER_TEST_POSTGRES_URL names, as a connection
/// string; None, after printing why, when no server is configured (CI must configure one).
pub fn fresh_postgres_database(prefix: &str) -> Option<String> {
    let Ok(url) = std::env::var("PU_ADAPTER_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set PU_ADAPTER_TEST_POSTGRES_URL"
        );
        eprintln!("skipped: PU_ADAPTER_TEST_POSTGRES_URL not set (no PostgreSQL server)");
        return None;
    };
    let db = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let create = {
        let (url, db) = (url.clone(), db.clone());
        // The sync client runs a runtime of its own: never on an async thread.
        move || {
            postgres::Client::connect(&url, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(&format!("CREATE DATABASE {db}")))
        }
    };
    std::thread::spawn(create)
        .join()
        .expect("create database thread")
        .expect("CREATE DATABASE");
    Some(format!("{url} dbname={db}"))
}

/// The CA of the test PostgreSQL server's certificate when it runs with TLS
/// (`PU_ADAPTER_TEST_POSTGRES_CA`, set by `.ci/postgres.sh`): the suite then connects
/// through TLS, verified.
pub fn test_postgres_ca() -> Option<PathBuf> {
    std::env::var_os("PU_ADAPTER_TEST_POSTGRES_CA").map(PathBuf::from)
}

/// A TCP port free on loopback now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local address")
        .port()
}

/// The i-th synthetic personnummer: a real date in 1930–2009 and a serial.
pub fn pnr(i: u64) -> String {
    let day_index = i % (80 * 336);
    let (year, rest) = (1930 + day_index / 336, day_index % 336);
    let (month, day) = (rest / 28 + 1, rest % 28 + 1);
    let base = format!("{year:04}{month:02}{day:02}{:03}", (i / (80 * 336)) % 1000);
    format!("{base}{}", luhn_check_digit(&base[2..11]))
}

/// The hostile requests of the OWASP XML list, shared by the hostile-input test and the hardening bench.
pub mod attacks;
