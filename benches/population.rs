//! Sweden's size: 10.5 million synthetic persons imported with `pu-adapter import` (the
//! command an operator runs), on SQLite and, when a PostgreSQL server is given, on
//! PostgreSQL; import time and database size; then GetPersonsForProfile P3 latency over
//! mutual TLS for random persons of the whole population, paced at a fixed rate, beside the
//! same measurement with 10,000 persons. Not part of `./test.sh` (about 8 minutes per backend).
//!
//! Run: `cargo bench --bench population`. `PU_ADAPTER_BENCH_PERSONS` changes the size;
//! `PU_ADAPTER_TEST_POSTGRES_URL` (as `.ci/postgres.sh start` exports it) adds PostgreSQL:
//! a new database is made there for each size. `PU_ADAPTER_BENCH_ONLY=PostgreSQL` (or
//! `SQLite`) runs one backend.
//!
//! `PU_ADAPTER_BENCH_SEEDING=1` measures only the import, of the same persons without and
//! with contact information (an sms, an email and optoutPaperNotification on each line),
//! in `PU_ADAPTER_BENCH_ROUNDS` rounds (default 3) back to back, and prints the minimum
//! and median of each (default 100,000 persons). `PU_ADAPTER_BENCH_COMPARE=path` adds
//! another build of the adapter (e.g. an earlier commit's release binary), measured in
//! the same rounds.

mod common;

use bytes::Bytes;
use common::net::{adapter_binary, generator_runtime, load_as, start_adapter};
use common::{gpfp_request, pnr, write_population, PROFILE_ENDPOINT};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

const SMALL: u64 = 10_000;
/// Reads per second during the latency measurement: well below the maximum, so the figure
/// is the read's own latency, not queueing.
const RATE: f64 = 2_000.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return; // built by `cargo test --benches`; runs only under `cargo bench`
    }
    if std::env::var_os("PU_ADAPTER_BENCH_SEEDING").is_some() {
        seeding(env_number("PU_ADAPTER_BENCH_PERSONS").unwrap_or(100_000));
        return;
    }
    let persons: u64 = env_number("PU_ADAPTER_BENCH_PERSONS").unwrap_or(10_500_000);
    let secs: u64 = std::env::var("PU_ADAPTER_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let bin = adapter_binary();
    let dir = tempfile::tempdir_in(common::repo().join("target")).unwrap();
    let t = Instant::now();
    let big_file = dir.path().join("population.jsonl");
    write_population(&big_file, persons);
    let small_file = dir.path().join("small.jsonl");
    write_population(&small_file, SMALL);
    println!(
        "wrote {persons} synthetic persons ({:.1} GB of JSON Lines) in {:.0} s",
        file_gb(&big_file),
        t.elapsed().as_secs_f64()
    );
    let mut rows = Vec::new();
    let only = std::env::var("PU_ADAPTER_BENCH_ONLY").ok();
    for (name, backend) in backends()
        .into_iter()
        .filter(|(name, _)| only.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(name)))
    {
        for (n, file) in [(SMALL, &small_file), (persons, &big_file)] {
            let data = dir.path().join(format!("{name}-{n}"));
            let env = backend(n);
            let Some(env) = env else { continue };
            let t = Instant::now();
            import(&bin, file, &data, &env);
            let import_secs = t.elapsed().as_secs_f64();
            let size = database_gb(&data, &env);
            let (p50, p99, count) = read_latency(&bin, &data, &env, n, secs);
            rows.push(format!(
                "| {name} | {n} | {import_secs:.1} s ({:.0} persons/s) | {:.0} MB | p50 {p50:.2} ms, p99 {p99:.2} ms ({count} reads at {RATE:.0}/s) |",
                n as f64 / import_secs,
                size * 1e3
            ));
            eprintln!("{}", rows.last().map_or("", String::as_str));
        }
    }
    println!("| store | persons | `pu-adapter import` | database | GetPersonsForProfile P3, random persons, 16 conn |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!("{r}");
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Import time of `n` persons without and with contact information, per backend and build,
/// alternating within each round so that a busy machine slows every variant alike.
fn seeding(n: u64) {
    let rounds = env_number("PU_ADAPTER_BENCH_ROUNDS").unwrap_or(3);
    let mut builds = vec![("this build".to_owned(), adapter_binary())];
    if let Some(other) = std::env::var_os("PU_ADAPTER_BENCH_COMPARE") {
        builds.insert(
            0,
            (format!("{}", Path::new(&other).display()), other.into()),
        );
    }
    let dir = tempfile::tempdir_in(common::repo().join("target")).unwrap();
    let plain = dir.path().join("plain.jsonl");
    write_population(&plain, n);
    let seeded = dir.path().join("contacts.jsonl");
    write_population_with_contacts(&seeded, n);
    let only = std::env::var("PU_ADAPTER_BENCH_ONLY").ok();
    let mut times: std::collections::BTreeMap<(String, &str, String), Vec<f64>> =
        Default::default();
    for round in 0..rounds {
        for (name, backend) in backends()
            .into_iter()
            .filter(|(name, _)| only.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(name)))
        {
            for (build, bin) in &builds {
                for (what, file) in [("without contacts", &plain), ("with contacts", &seeded)] {
                    let Some(env) = backend(n) else { continue };
                    let data = dir.path().join(format!("{name}-{round}-{}", times.len()));
                    let t = Instant::now();
                    import(bin, file, &data, &env);
                    let secs = t.elapsed().as_secs_f64();
                    eprintln!("round {round}: {name}, {build}, {what}: {secs:.2} s");
                    times
                        .entry((name.to_owned(), what, build.clone()))
                        .or_default()
                        .push(secs);
                    let _ = std::fs::remove_dir_all(&data);
                }
            }
        }
    }
    println!("| store | build | {n} persons | import min | median |");
    println!("|---|---|---|---|---|");
    for ((store, what, build), mut t) in times {
        t.sort_by(f64::total_cmp);
        println!(
            "| {store} | {build} | {what} | {:.2} s | {:.2} s |",
            t[0],
            t[t.len() / 2]
        );
    }
}

/// `n` synthetic persons as [`write_population`] writes them, each with an sms, an email
/// and optoutPaperNotification: what a staging store is seeded with.
fn write_population_with_contacts(path: &Path, n: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            r#"{{"personId":"{}","givenName":"Förnamn{i}","surname":"Efternamn","postalAddress":{{"street":"Gatan {}","postalCode":"{:05}","city":"Staden"}},"testIndicator":true,"contactInformation":[{{"contactType":"sms","value":"+4670{:07}","digitalNotification":true}},{{"contactType":"email","value":"person{i}@example.se","digitalNotification":true}}],"optoutPaperNotification":true}}"#,
            pnr(i),
            i % 200,
            10000 + i % 89999,
            i % 10_000_000
        )
        .unwrap();
    }
}

type Env = Vec<(String, String)>;

/// A store's name and, per population size, the environment that selects it.
type Backend = (&'static str, Box<dyn Fn(u64) -> Option<Env>>);

/// SQLite always; PostgreSQL when a test server is given (a new database per size).
fn backends() -> Vec<Backend> {
    let mut out: Vec<Backend> = vec![("SQLite", Box::new(|_| Some(Vec::new())))];
    if std::env::var("PU_ADAPTER_TEST_POSTGRES_URL").is_ok() {
        out.push((
            "PostgreSQL",
            Box::new(|n| {
                let url =
                    pu_adapter::testkit::fresh_postgres_database(&format!("pu_population_{n}"))?;
                let ca = pu_adapter::testkit::test_postgres_ca()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                Some(vec![
                    ("PU_ADAPTER_STORE_KIND".into(), "postgresql".into()),
                    ("PU_ADAPTER_POSTGRES_URL".into(), url),
                    ("PU_ADAPTER_STORE__POSTGRES_CA".into(), ca),
                ])
            }),
        ));
    } else {
        eprintln!("PostgreSQL skipped: PU_ADAPTER_TEST_POSTGRES_URL is not set (eval \"$(.ci/postgres.sh start)\")");
    }
    out
}

fn import(bin: &Path, file: &Path, data: &Path, env: &Env) {
    let status = Command::new(bin)
        .arg("import")
        .arg(file)
        .arg("--data-dir")
        .arg(data)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(common::repo())
        .stdout(Stdio::null())
        .status()
        .expect("run pu-adapter import");
    assert!(status.success(), "import failed");
}

fn file_gb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e9)
}

/// The SQLite file, or PostgreSQL's `pg_database_size`.
fn database_gb(data: &Path, env: &Env) -> f64 {
    match env.iter().find(|(k, _)| k == "PU_ADAPTER_POSTGRES_URL") {
        None => file_gb(&data.join("pu-adapter.db")),
        Some((_, url)) => {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).ok()?;
                let bytes: i64 = c
                    .query_one("SELECT pg_database_size(current_database())", &[])
                    .ok()?
                    .get(0);
                Some(bytes as f64 / 1e9)
            })
            .join()
            .ok()
            .flatten()
            .unwrap_or(f64::NAN)
        }
    }
}

/// p50 and p99 (ms) of paced P3 reads of random persons among `n`, and how many.
fn read_latency(bin: &Path, data: &Path, env: &Env, n: u64, secs: u64) -> (f64, f64, u64) {
    let port = pu_adapter::testkit::free_port();
    // The store's settings come from the environment (the configuration file holds the rest).
    for (k, v) in env {
        std::env::set_var(k, v);
    }
    let mut adapter = start_adapter(bin, data, port, "");
    for (k, _) in env {
        std::env::remove_var(k);
    }
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (0..20_000u64)
            .map(|i| Bytes::from(gpfp_request(&pnr((i * 7_919 + i * i) % n))))
            .collect(),
    );
    let rt = generator_runtime();
    let addr = ([127, 0, 0, 1], port).into();
    // A warm-up, then the measurement.
    let _ = rt.block_on(load_as(
        "consumer",
        addr,
        PROFILE_ENDPOINT,
        bodies.clone(),
        16,
        2,
        Some(RATE),
    ));
    let mut s = rt.block_on(load_as(
        "consumer",
        addr,
        PROFILE_ENDPOINT,
        bodies,
        16,
        secs,
        Some(RATE),
    ));
    let _ = adapter.kill();
    let _ = adapter.wait();
    (s.quantile(0.5) / 1e3, s.quantile(0.99) / 1e3, s.count)
}
