//! Population scale: import N synthetic persons (default 1,000,000) through the same
//! import code as `pu-adapter import`, and GetPersonsForProfile P3 latency (in-process,
//! SQLite, audit on) with 10,000 vs N persons loaded.
//!
//! Run: `cargo bench --bench scale` (PU_ADAPTER_BENCH_PERSONS=… to change N).

mod common;

use common::{latency, write_population};
use pu_adapter::store::sqlite::SqliteStore;
use std::time::Instant;

fn main() {
    let n: u64 = std::env::var("PU_ADAPTER_BENCH_PERSONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let small = std::sync::Arc::new(SqliteStore::open(&dir.path().join("small.db")).unwrap());
    let file = dir.path().join("population.jsonl");
    write_population(&file, n);
    let small_file = dir.path().join("small.jsonl");
    write_population(&small_file, 10_000);
    let policy = Default::default();
    pu_adapter::import::import(
        std::io::BufReader::new(std::fs::File::open(&small_file).unwrap()),
        small.as_ref(),
        &policy,
        |_| {},
    )
    .unwrap();

    let big = std::sync::Arc::new(SqliteStore::open(&dir.path().join("big.db")).unwrap());
    let t = Instant::now();
    let summary = pu_adapter::import::import(
        std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
        big.as_ref(),
        &policy,
        |_| {},
    )
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(summary.inserted, n, "{:?}", summary.rejected.first());
    println!(
        "import: {n} persons in {secs:.1} s ({:.0} persons/s), {} rejected",
        n as f64 / secs,
        summary.rejected.len()
    );

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
