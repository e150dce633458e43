//! CO-2, PR-4, PR-6: whoever removes or erases a value (an update, a withdrawal, an import
//! with or without a running server, a reset), its bytes leave every file of either
//! backend within 10 s. Each test scans the raw bytes of the store's files: SQLite's main
//! file, `-wal` and `-shm` with no checkpoint by the test; PostgreSQL's table files of the
//! test database after a `CHECKPOINT` the test issues (pg_wal is out of reach, as
//! docs/import.md says).

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use pu_adapter::store::StoreKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HANNA: &str = "199002026780";

/// Where a test's store lives.
#[derive(Clone)]
enum Backend {
    Sqlite,
    Postgres {
        /// The server's connection string, without a database.
        server: String,
        /// The test's own database.
        dbname: String,
        /// The cluster's data directory, whose table files are scanned.
        cluster: PathBuf,
    },
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgresql",
        }
    }

    fn url(&self) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres { server, dbname, .. } => Some(format!("{server} dbname={dbname}")),
        }
    }

    /// Points a configuration at this backend.
    fn configure(&self, c: &mut pu_adapter::config::Config) {
        if let Some(url) = self.url() {
            c.store.kind = StoreKind::Postgresql;
            c.store.postgres_url = Some(url);
            c.store.postgres_ca = test_postgres_ca();
        }
    }

    /// The environment that points a `pu-adapter` process at this backend.
    fn env(&self) -> Vec<(&'static str, String)> {
        match self.url() {
            None => Vec::new(),
            Some(url) => postgres_env(&url),
        }
    }

    /// Whether any of the store's files holds `needle`.
    fn files_hold(&self, data_dir: &Path, needle: &str) -> bool {
        let files: Vec<PathBuf> = match self {
            Backend::Sqlite => ["pu-adapter.db", "pu-adapter.db-wal", "pu-adapter.db-shm"]
                .iter()
                .map(|f| data_dir.join(f))
                .collect(),
            Backend::Postgres {
                server,
                dbname,
                cluster,
            } => {
                let oid: u32 = on_postgres(server, |admin| {
                    admin.batch_execute("CHECKPOINT").unwrap();
                    admin
                        .query_one("SELECT oid FROM pg_database WHERE datname = $1", &[dbname])
                        .unwrap()
                        .get(0)
                });
                std::fs::read_dir(cluster.join("base").join(oid.to_string()))
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .collect()
            }
        };
        files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    }
}

/// Runs `f` on an administrative connection, on a thread of its own: the blocking client
/// starts a runtime, which a test's async worker must not.
fn on_postgres<T: Send>(server: &str, f: impl FnOnce(&mut postgres::Client) -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| f(&mut postgres::Client::connect(server, postgres::NoTls).unwrap()))
            .join()
            .unwrap()
    })
}

/// SQLite, and PostgreSQL where the suite has a server (CI always has one).
fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match (
        std::env::var("PU_ADAPTER_TEST_POSTGRES_URL"),
        std::env::var("PGDATA_DIR"),
    ) {
        (Ok(server), Ok(cluster)) => {
            let dbname = format!("pu_erase_{}", uuid::Uuid::new_v4().simple());
            on_postgres(&server, |admin| {
                admin
                    .batch_execute(&format!("CREATE DATABASE {dbname}"))
                    .unwrap();
            });
            out.push(Backend::Postgres {
                server,
                dbname,
                cluster: cluster.into(),
            });
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set PU_ADAPTER_TEST_POSTGRES_URL and PGDATA_DIR (test.sh does)"
            );
            eprintln!("skipped for postgresql: PU_ADAPTER_TEST_POSTGRES_URL or PGDATA_DIR not set");
        }
    }
    out
}

/// A server on `backend`, control API on, data in `dir` (kept by the caller), with
/// FILLERS other persons' contact records stored before Hanna's: on PostgreSQL a removed
/// row then shares its page with live rows, where VACUUM alone would leave its bytes (a
/// page of dead rows only is cut off the file, which would hide that).
async fn start_on(backend: &Backend, dir: &Path) -> pu_adapter::app::Running {
    let mut config = test_config(dir);
    config.control.enabled = true;
    backend.configure(&mut config);
    let running = pu_adapter::app::start(&config)
        .await
        .expect("server starts");
    let (status, body) = admin_http(
        running.admin_addr.unwrap(),
        "POST",
        "/control/reset",
        &population_with_fillers(),
        None,
    );
    assert_eq!(status, 200, "{body}");
    running
}

/// Persons whose contact records fill every partition.
const FILLERS: u64 = 640;

/// Hanna without contact information, then FILLERS persons each with an e-mail address.
fn population_with_fillers() -> String {
    let mut lines =
        format!("{{\"personId\":\"{HANNA}\",\"givenName\":\"Hanna\",\"surname\":\"Holm\"}}\n");
    for i in 0..FILLERS {
        lines.push_str(&format!(
            "{{\"personId\":\"{}\",\"givenName\":\"F\",\"surname\":\"Filler\",\"contactInformation\":[{{\"contactType\":\"email\",\"value\":\"filler{i}@example.se\",\"digitalNotification\":true}}]}}\n",
            pnr(i)
        ));
    }
    lines
}

/// Values unique to one test run: an e-mail address and a mobile number.
fn secrets() -> (String, String) {
    let n = uuid::Uuid::new_v4().as_u128();
    (
        format!("erase.{:x}@example.se", n >> 64),
        format!("+4670{:07}", n % 10_000_000),
    )
}

/// Sends an update and returns the new version; panics unless it was accepted.
async fn updated(running: &pu_adapter::app::Running, body: &str) -> String {
    let r = post(
        running.server.local_addr,
        "consumer",
        Contract::UpdatePersonContactInformation.path(),
        body,
        &[],
    )
    .await;
    assert_eq!(text_of(&r.body, "resultCode"), Some("OK"), "{}", r.body);
    text_of(&r.body, "version").unwrap().to_owned()
}

/// Stores Hanna's e-mail and sms and checks they reached the files (else no scan proves
/// anything); returns the stored version.
async fn store_secrets(
    running: &pu_adapter::app::Running,
    backend: &Backend,
    dir: &Path,
    (email, sms): (&str, &str),
) -> String {
    let version = updated(
        running,
        &update(
            Contract::UpdatePersonContactInformation,
            HANNA,
            None,
            &[("email", email), ("sms", sms)],
        ),
    )
    .await;
    let started = Instant::now();
    while !(backend.files_hold(dir, email) && backend.files_hold(dir, sms)) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}: the values never reached the files",
            backend.name()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    version
}

/// A P3 read of Hanna through the service on the store itself, no server running.
fn read_from_store(backend: &Backend, dir: &Path) -> String {
    std::thread::scope(|s| {
        s.spawn(|| {
            let stores: pu_adapter::store::Stores = match backend.url() {
                None => std::sync::Arc::new(
                    pu_adapter::store::sqlite::SqliteStore::open(&dir.join("pu-adapter.db"))
                        .unwrap(),
                )
                .into(),
                Some(url) => pu_adapter::store::Stores::direct(std::sync::Arc::new(
                    pu_adapter::store::postgres::PostgresStore::open(
                        &url,
                        2,
                        test_postgres_ca().as_deref(),
                    )
                    .unwrap(),
                )),
            };
            call(
                stores,
                Contract::GetPersonsForProfile,
                CONSUMER,
                &gpfp_payload(HANNA),
            )
            .body
        })
        .join()
        .unwrap()
    })
}

/// A GetPersonsForProfile P3 payload (no envelope).
fn gpfp_payload(pnr: &str) -> String {
    format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId>{}</personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns(),
        person_id(pnr)
    )
}

/// Updates Hanna's contact information over `version` to `kept` alone, then waits until no
/// file holds any of `gone` (see [`gone_within_10_s`]): how long that took.
async fn update_then_gone_within_10_s(
    running: &pu_adapter::app::Running,
    (backend, dir): (&Backend, &Path),
    version: &str,
    kept: &[(&str, &str)],
    gone: &[&str],
) -> Duration {
    updated(
        running,
        &update(
            Contract::UpdatePersonContactInformation,
            HANNA,
            Some(version),
            kept,
        ),
    )
    .await;
    gone_within_10_s(backend, dir, gone).await
}

/// Waits until no file holds `gone`, the server idle (its own writes would restart the
/// SQLite WAL over old frames and hide a missing truncation); panics after 10 s.
async fn gone_within_10_s(backend: &Backend, dir: &Path, gone: &[&str]) -> Duration {
    let started = Instant::now();
    while gone.iter().any(|v| backend.files_hold(dir, v)) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}: a removed value is still in the store's files after 10 s",
            backend.name()
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    started.elapsed()
}

/// `pu-adapter import` of `line` on `backend` with data in `dir`.
fn import_process(backend: &Backend, dir: &Path, line: &str) -> std::process::Output {
    let file = dir.join(format!("import-{}.jsonl", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, line).unwrap();
    bin()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir)
        .envs(backend.env())
        .output()
        .unwrap()
}

// CO-2: an update that drops one value scrubs that value, and only it, from every file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn co2_an_update_dropping_one_value_scrubs_it_from_every_file_within_10_s() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let running = start_on(&backend, dir.path()).await;
        let (email, sms) = secrets();
        let version = store_secrets(&running, &backend, dir.path(), (&email, &sms)).await;
        let took = update_then_gone_within_10_s(
            &running,
            (&backend, dir.path()),
            &version,
            &[("sms", &sms)],
            &[&email],
        )
        .await;
        assert!(
            backend.files_hold(dir.path(), &sms),
            "{}: the kept value went too",
            backend.name()
        );
        eprintln!(
            "{}: dropped value gone from every file after {took:?}",
            backend.name()
        );
        running.server.shutdown().await;
    }
}

// CO-2: a withdrawal (an update removing everything) scrubs every value from every file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn co2_a_withdrawal_scrubs_every_value_from_every_file_within_10_s() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let running = start_on(&backend, dir.path()).await;
        let (email, sms) = secrets();
        let version = store_secrets(&running, &backend, dir.path(), (&email, &sms)).await;
        let took = update_then_gone_within_10_s(
            &running,
            (&backend, dir.path()),
            &version,
            &[],
            &[&email, &sms],
        )
        .await;
        eprintln!(
            "{}: withdrawn values gone from every file after {took:?}",
            backend.name()
        );
        running.server.shutdown().await;
    }
}

// CO-2: /control/reset replaces the population; every value stored before leaves the files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn co2_a_reset_scrubs_every_earlier_value_from_every_file_within_10_s() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let running = start_on(&backend, dir.path()).await;
        let (email, sms) = secrets();
        store_secrets(&running, &backend, dir.path(), (&email, &sms)).await;
        let population =
            format!("{{\"personId\":\"{HANNA}\",\"givenName\":\"Hanna\",\"surname\":\"Holm\"}}\n");
        let (status, body) = admin_http(
            running.admin_addr.unwrap(),
            "POST",
            "/control/reset",
            &population,
            None,
        );
        assert_eq!(status, 200, "{body}");
        let took = gone_within_10_s(&backend, dir.path(), &[&email, &sms]).await;
        eprintln!(
            "{}: values gone from every file {took:?} after the reset",
            backend.name()
        );
        running.server.shutdown().await;
    }
}

// PR-6 and CO-2: a death imported with no server running erases Hanna's stored e-mail and
// sms; the import scrubs the files before it exits and says so; reads return none
// afterwards; the audit listing names the erasure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pr6_a_death_imported_with_no_server_running_leaves_no_value_in_any_file() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (email, sms) = secrets();
        {
            // The server and its store are gone before the import runs.
            let running = start_on(&backend, dir.path()).await;
            store_secrets(&running, &backend, dir.path(), (&email, &sms)).await;
            running.server.shutdown().await;
        }
        let death = format!(
            r#"{{"personId":"{HANNA}","givenName":"Hanna","surname":"Holm","deregistration":{{"reasonCode":"AV","date":"2026-11-30"}}}}"#
        );
        let out = import_process(&backend, dir.path(), &death);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {stdout}{}",
            backend.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("removed values scrubbed from every store file"),
            "{}: {stdout}",
            backend.name()
        );
        for value in [&email, &sms] {
            assert!(
                !backend.files_hold(dir.path(), value),
                "{}: an erased value is still in the files after the import exited",
                backend.name()
            );
        }
        let listing = bin()
            .args(["audit", "--person", HANNA])
            .arg("--data-dir")
            .arg(dir.path())
            .envs(backend.env())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&listing.stdout);
        assert!(
            text.lines().any(|l| l.contains("ERASED_DECEASED_PR-6")),
            "{}: {text}{}",
            backend.name(),
            String::from_utf8_lossy(&listing.stderr)
        );
        assert!(!text.contains(&email) && !text.contains(&sms), "{text}");
        let answer = read_from_store(&backend, dir.path());
        assert_eq!(text_of(&answer, "contactInformation"), None, "{answer}");
        assert_eq!(
            text_of(&answer, "deregistrationReasonCode"),
            Some("AV"),
            "{answer}"
        );
    }
}

// PR-4 and CO-2: a protection imported by `pu-adapter import` beside a running server: the
// server stops showing the values at once, and they leave every file within 10 s while the
// server goes on reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pr4_a_protection_imported_beside_a_running_server_leaves_no_value_in_any_file() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let running = start_on(&backend, dir.path()).await;
        let (email, sms) = secrets();
        store_secrets(&running, &backend, dir.path(), (&email, &sms)).await;
        let protection = format!(
            r#"{{"personId":"{HANNA}","givenName":"Hanna","surname":"Holm","protection":{{"skyddadFolkbokforing":true}}}}"#
        );
        let started = Instant::now();
        let out = import_process(&backend, dir.path(), &protection);
        assert!(
            out.status.success(),
            "{}: {}{}",
            backend.name(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let answer = post(
            running.server.local_addr,
            "extended",
            Contract::GetPersonsForProfileUnrestricted.path(),
            &unrestricted(&gpfp(HANNA, "P3"), Contract::GetPersonsForProfile),
            &[],
        )
        .await;
        assert!(
            !answer.body.contains(&email) && !answer.body.contains(&sms),
            "{}",
            answer.body
        );
        gone_within_10_s(&backend, dir.path(), &[&email, &sms]).await;
        eprintln!(
            "{}: erased values gone from every file {:?} after the import started",
            backend.name(),
            started.elapsed()
        );
        running.server.shutdown().await;
    }
}
