//! Helpers shared by the integration tests.
#![allow(dead_code)]

use pu_adapter::contracts::Contract;
use pu_adapter::service::{Authorisation, Call, ServiceConfig};
use pu_adapter::store::sqlite::SqliteStore;
use pu_adapter::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The repository root.
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

/// Whether xmllint can run; in CI its absence is an error.
pub fn xmllint_available() -> bool {
    let ok = Command::new("xmllint").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "xmllint is required in CI (apt-get install libxml2-utils)");
        eprintln!("skipped: xmllint not installed (apt-get install libxml2-utils)");
    }
    ok
}

/// Validates `xml` against `schema` with xmllint.
pub fn xmllint(schema: &Path, xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("message.xml");
    std::fs::write(&file, xml).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint").arg("--noout").arg("--schema").arg(schema).arg(&file).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Our responder schema for a contract.
pub fn our_schema(c: Contract) -> PathBuf {
    repo().join("xsd").join(c.xsd_file())
}

/// The published responder schema, when `../shared` has one for this contract.
pub fn published_schema(c: Contract) -> Option<PathBuf> {
    let dir = shared()?.join("reference-schemas/schemas/interactions").join(format!("{}Interaction", c.name())).join(c.xsd_file());
    dir.is_file().then_some(dir)
}

/// The SOAP 1.1 envelope schema (for faults).
pub fn envelope_schema() -> PathBuf {
    repo().join("tests/schemas/soap-envelope-1.1.xsd")
}

/// A SOAP 1.1 request envelope around `payload`.
pub fn envelope(payload: &str) -> String {
    let payload = payload.trim_start_matches(|c| c != '<').trim_start();
    let payload = if payload.starts_with("<?xml") { &payload[payload.find("?>").map_or(0, |i| i + 2)..] } else { payload };
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:itr="urn:riv:itintegration:registry:1"><soapenv:Header><itr:LogicalAddress>SE2321000016-LA01</itr:LogicalAddress></soapenv:Header><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// The payload element of a response envelope.
pub fn payload_of(envelope: &str) -> &str {
    let start = envelope.find("<soap:Body>").map_or(0, |i| i + "<soap:Body>".len());
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
        let end = rest.find(|c: char| c == '>' || c.is_whitespace()).unwrap_or(rest.len());
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
    pu_adapter::demo::load(store.as_ref(), &Default::default()).expect("demo load");
    (dir, store)
}

/// Consumers used by direct service tests.
pub const CONSUMER: &str = "SE2321000016-1001";
/// A consumer allowed the Unrestricted contracts too.
pub const EXTENDED: &str = "SE2321000016-1002";

/// Service settings with CONSUMER allowed every restricted contract and EXTENDED everything.
pub fn service_config() -> ServiceConfig {
    let mut auth = Authorisation::default();
    for c in Contract::ALL {
        if c.access() != Some(pu_adapter::domain::Access::Unrestricted) {
            auth.allow(CONSUMER, c);
        }
        auth.allow(EXTENDED, c);
    }
    ServiceConfig { authorisation: auth, ..ServiceConfig::default() }
}

/// Calls the service directly (no transport).
pub fn call(store: &dyn Store, contract: Contract, consumer: &str, payload: &str) -> pu_adapter::service::Answer {
    let call = Call { contract, consumer: Some(consumer.to_owned()), correlation_id: "test-correlation".into() };
    pu_adapter::service::handle(&call, envelope(payload).as_bytes(), &service_config(), store)
}
/// A new empty database on the server PU_ADAPTER_TEST_POSTGRES_URL names, as a connection
/// string; None, after printing why, when no server is configured (CI must configure one).
pub async fn fresh_postgres_database(prefix: &str) -> Option<String> {
    let Ok(url) = std::env::var("PU_ADAPTER_TEST_POSTGRES_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set PU_ADAPTER_TEST_POSTGRES_URL");
        eprintln!("skipped: PU_ADAPTER_TEST_POSTGRES_URL not set (no PostgreSQL server)");
        return None;
    };
    let db = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let (u, d) = (url.clone(), db.clone());
    tokio::task::spawn_blocking(move || postgres::Client::connect(&u, postgres::NoTls).unwrap().batch_execute(&format!("CREATE DATABASE {d}")).unwrap())
        .await
        .unwrap();
    Some(format!("{url} dbname={db}"))
}

pub mod attacks;
pub mod tls;
