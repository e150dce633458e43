//! Population scale: import N synthetic persons (default 1,000,000) through the same
//! import code as `pu-adapter import`, and GetPersonsForProfile P3 latency (in-process,
//! SQLite, audit on) with 10,000 vs N persons loaded.
//!
//! Run: `cargo bench --bench scale` (PU_ADAPTER_BENCH_PERSONS=… to change N).

use pu_adapter::contracts::Contract;
use pu_adapter::domain::identifier::luhn_check_digit;
use pu_adapter::service::{Authorisation, Call, ServiceConfig};
use pu_adapter::store::sqlite::SqliteStore;
use std::io::Write;
use std::time::Instant;

/// The i-th synthetic personnummer: a real date in 1930–2009 and a serial.
fn pnr(i: u64) -> String {
    let day_index = i % (80 * 336);
    let (year, rest) = (1930 + day_index / 336, day_index % 336);
    let (month, day) = (rest / 28 + 1, rest % 28 + 1);
    let base = format!("{year:04}{month:02}{day:02}{:03}", (i / (80 * 336)) % 1000);
    format!("{base}{}", luhn_check_digit(&base[2..11]))
}

fn write_population(path: &std::path::Path, n: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            r#"{{"personId":"{}","givenName":"Förnamn{i}","surname":"Efternamn","postalAddress":{{"street":"Gatan {}","postalCode":"{:05}","city":"Staden"}},"testIndicator":true}}"#,
            pnr(i),
            i % 200,
            10000 + i % 89999
        )
        .unwrap();
    }
}

fn config() -> ServiceConfig {
    let mut auth = Authorisation::default();
    auth.allow("SE-BENCH", Contract::GetPersonsForProfile);
    ServiceConfig { authorisation: auth, ..ServiceConfig::default() }
}

fn request(pnr: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><LogicalAddress xmlns="urn:riv:itintegration:registry:1">SE-LA</LogicalAddress></s:Header><s:Body><GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension></personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile></s:Body></s:Envelope>"#,
        Contract::GetPersonsForProfile.responder_ns()
    )
}

/// p50/p99/p99.9 in µs of `samples` calls for random persons among the first `population`.
fn latency(store: &SqliteStore, population: u64, samples: usize) -> (f64, f64, f64) {
    let cfg = config();
    let call = Call { contract: Contract::GetPersonsForProfile, consumer: Some("SE-BENCH".into()), correlation_id: "bench".into() };
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let body = request(&pnr(x % population));
        let t = Instant::now();
        let answer = pu_adapter::service::handle(&call, body.as_bytes(), &cfg, store);
        times.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(answer.fault.is_none() && answer.body.contains("personRecord"), "{}", answer.body);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99), at(0.999))
}

fn main() {
    let n: u64 = std::env::var("PU_ADAPTER_BENCH_PERSONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let small = SqliteStore::open(&dir.path().join("small.db")).unwrap();
    let file = dir.path().join("population.jsonl");
    write_population(&file, n);
    let small_file = dir.path().join("small.jsonl");
    write_population(&small_file, 10_000);
    let policy = Default::default();
    pu_adapter::import::import(std::io::BufReader::new(std::fs::File::open(&small_file).unwrap()), &small, &policy, |_| {}).unwrap();

    let big = SqliteStore::open(&dir.path().join("big.db")).unwrap();
    let t = Instant::now();
    let summary = pu_adapter::import::import(std::io::BufReader::new(std::fs::File::open(&file).unwrap()), &big, &policy, |_| {}).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(summary.inserted, n, "{:?}", summary.rejected.first());
    println!("import: {n} persons in {secs:.1} s ({:.0} persons/s), {} rejected", n as f64 / secs, summary.rejected.len());

    let samples = 20_000;
    let _ = latency(&small, 10_000, 2_000);
    let (s50, s99, s999) = latency(&small, 10_000, samples);
    let _ = latency(&big, n, 2_000);
    let (b50, b99, b999) = latency(&big, n, samples);
    println!("GetPersonsForProfile P3, in-process (XML + rules + SQLite read + audit write), {samples} random persons:");
    println!("| persons | p50 µs | p99 µs | p99.9 µs |");
    println!("|---|---|---|---|");
    println!("| 10,000 | {s50:.0} | {s99:.0} | {s999:.0} |");
    println!("| {n} | {b50:.0} | {b99:.0} | {b999:.0} |");
    println!("p99 ratio {}/10,000: {:.2}", n, b99 / s99);
}
