//! The same random reads against the adapter on PostgreSQL, for the ratio to SQLite: run
//! where a test server is given (`eval "$(.ci/postgres.sh start)"` exports its address).

use crate::common::external::{self, Body, OhaRun};
use crate::common::net::{import_population_with_env, start_adapter_with_env};
use crate::common::{repo, PROFILE_ENDPOINT};
use crate::CONNS;
use std::path::Path;
use std::process::Child;

/// oha at each of [`CONNS`] against the adapter serving `population` from a fresh
/// PostgreSQL database; `None` without a test server.
pub(crate) fn postgres_reads(
    bin: &Path,
    population: &Path,
    dir: &Path,
    random: &Path,
    secs: u64,
) -> Option<[Option<OhaRun>; 2]> {
    if std::env::var("PU_ADAPTER_TEST_POSTGRES_URL").is_err() {
        eprintln!("PostgreSQL reads skipped: PU_ADAPTER_TEST_POSTGRES_URL is not set (eval \"$(.ci/postgres.sh start)\")");
        return None;
    }
    let url = pu_adapter::testkit::fresh_postgres_database("pu_load_bench")?;
    let ca = pu_adapter::testkit::test_postgres_ca()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let env = vec![
        ("PU_ADAPTER_STORE_KIND".to_owned(), "postgresql".to_owned()),
        ("PU_ADAPTER_POSTGRES_URL".to_owned(), url),
        ("PU_ADAPTER_STORE__POSTGRES_CA".to_owned(), ca),
    ];
    let data = dir.join("postgres-data");
    import_population_with_env(bin, population, &data, &env);
    let port = pu_adapter::testkit::free_port();
    let adapter = start_adapter_with_env(bin, &data, port, "", &env);
    let url = format!("https://localhost:{port}{PROFILE_ENDPOINT}");
    let certs = repo().join("certs-dev");
    // Warm the database's and the pool's caches as the SQLite runs were.
    let _ = external::oha(&url, Body::Lines(random), &certs, 16, secs, None);
    let mut runs = [None, None];
    for (k, conns) in CONNS.into_iter().enumerate() {
        runs[k] = external::oha(&url, Body::Lines(random), &certs, conns, secs, None);
    }
    stop(adapter);
    Some(runs)
}

fn stop(mut child: Child) {
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}
