//! The hardening harness: hostile input, overload and faults. It runs the release
//! binary in a separate process and measures what the tests only check for correctness:
//!
//! 1. XML attacks (the OWASP list shared with `tests/hostile.rs`), each sent 90 times on
//!    one keep-alive connection (over 1,000 requests per configuration): the slowest
//!    answer per attack (target ≤ 50 ms), RSS before, after the first round and after all
//!    rounds (flat), a valid request answered after every attack, and a listener that the
//!    external-entity URL points to, which must never see a connection. Run once with the
//!    default limits and once with a 16 MiB body limit, so the XML reader itself meets the
//!    10 MB text node and the 100,000 attributes.
//! 2. Flood: one consumer opens 3,000 connections and sends as fast as it can while another
//!    consumer sends at a steady 100 requests/s; both success rates and the peak RSS.
//! 3. Soak (`-- --soak SECONDS`; the documented run is 600): GetPersonsForProfile at half of
//!    the measured maximum over 100,000 persons for that long, in 30 s windows: rate, p99,
//!    errors and RSS per window.
//!
//! Run: `cargo bench --bench hardening` (about 2 minutes) and
//! `cargo bench --bench hardening -- --soak 600`.

mod common;

use bytes::Bytes;
use common::net::*;
use common::{gpfp_request, pnr, write_population, PROFILE_ENDPOINT};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const POPULATION: u64 = 100_000;
/// Rounds over the attack list: 90 × 13 attacks = 1,170 hostile requests per configuration.
const ROUNDS: usize = 90;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` builds this; it only runs under `cargo bench`.
    }
    let soak: Option<u64> = args
        .iter()
        .position(|a| a == "--soak")
        .map(|i| args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(600));
    let bin = adapter_binary();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let population = dir.path().join("population.jsonl");
    write_population(&population, POPULATION);
    import_population(&bin, &population, &data);
    let rt = generator_runtime();
    println!(
        "pu-adapter hardening harness, {} cores, release binary in a separate process",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );

    if let Some(secs) = soak {
        let (port, mut adapter) = start(&bin, &data, "");
        rt.block_on(run_soak(([127, 0, 0, 1], port).into(), adapter.id(), secs));
        stop(&mut adapter);
        return;
    }
    for (label, limits, max_body) in [
        ("default limits (256 KiB body)", "", 256 * 1024),
        ("16 MiB body limit", "max_body_bytes = 16777216", 16 << 20),
    ] {
        let (port, mut adapter) = start(&bin, &data, limits);
        rt.block_on(run_attacks(
            ([127, 0, 0, 1], port).into(),
            adapter.id(),
            label,
            max_body,
        ));
        stop(&mut adapter);
    }
    let (port, mut adapter) = start(&bin, &data, "");
    rt.block_on(run_flood(([127, 0, 0, 1], port).into(), adapter.id()));
    stop(&mut adapter);
}

fn start(bin: &Path, data: &Path, limits: &str) -> (u16, Child) {
    let port = pu_adapter::testkit::free_port();
    let child = start_adapter(bin, data, port, limits);
    (port, child)
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The envelope the attack list is built around: the entity attacks replace its person
/// number, the 10 MB text node its profile.
fn attack_base() -> String {
    gpfp_request(&pnr(0))
        .replace(&pnr(0), "191212121212")
        .replace(">P3<", ">P1<")
}

// ---------- 1. XML attacks ----------

/// What one attack's rounds measured.
struct AttackRow {
    name: &'static str,
    statuses: std::collections::BTreeSet<u16>,
    slowest_ms: f64,
    median_ms: f64,
}

async fn run_attacks(addr: SocketAddr, pid: u32, label: &str, max_body: usize) {
    // The external-entity attack points here; nothing may ever connect.
    let canary = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    canary.set_nonblocking(true).unwrap();
    let canary_url = format!("http://127.0.0.1:{}/x", canary.local_addr().unwrap().port());
    let list: Vec<(&'static str, Bytes, &'static str)> =
        pu_adapter::testkit::attacks::attacks(&attack_base())
            .into_iter()
            .map(|(name, body, expect)| {
                let body = match String::from_utf8(body) {
                    Ok(text) => text
                        .replace("http://127.0.0.1:1/x", &canary_url)
                        .into_bytes(),
                    Err(not_utf8) => not_utf8.into_bytes(),
                };
                (name, Bytes::from(body), expect)
            })
            .collect();
    let tls = client_tls_as("consumer");
    let mut sender = open(addr, &tls).await;
    let valid = Bytes::from(gpfp_request(&pnr(0)));
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); list.len()];
    let mut statuses: Vec<std::collections::BTreeSet<u16>> = vec![Default::default(); list.len()];
    let rss_before = rss_mib(pid);
    let mut rss_first = 0.0;
    for round in 0..ROUNDS {
        for (k, (name, body, expect)) in list.iter().enumerate() {
            let t = Instant::now();
            let status = if body.len() <= max_body {
                let (status, answer) = exchange(&mut sender, PROFILE_ENDPOINT, body.clone())
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                let answer = String::from_utf8_lossy(&answer);
                assert!(
                    answer.contains("<faultcode>soap:Client</faultcode>")
                        && answer.contains(expect),
                    "{name}: {answer}"
                );
                assert!(
                    !answer.contains("root:x:0:0"),
                    "{name}: file content leaked"
                );
                status.as_u16()
            } else {
                headers_only(addr, &tls, body.len()).await
            };
            times[k].push(t.elapsed().as_secs_f64() * 1e3);
            statuses[k].insert(status);
            let (after, _) = exchange(&mut sender, PROFILE_ENDPOINT, valid.clone())
                .await
                .unwrap_or_else(|e| panic!("after {name}: {e}"));
            assert_eq!(
                after, 200,
                "the connection did not serve a valid request after {name}"
            );
        }
        if round == 0 {
            rss_first = rss_mib(pid);
        }
    }
    let rss_after = rss_mib(pid);
    let canary_hit = canary.accept().is_ok();
    let rows: Vec<AttackRow> = list
        .iter()
        .zip(times.iter_mut().zip(statuses))
        .map(|((name, _, _), (t, statuses))| {
            t.sort_by(f64::total_cmp);
            AttackRow {
                name,
                statuses,
                slowest_ms: t[t.len() - 1],
                median_ms: t[t.len() / 2],
            }
        })
        .collect();
    println!();
    println!("### XML attacks, {label}: {} requests, each followed by a valid request on the same connection", ROUNDS * list.len());
    println!();
    println!("| attack | answer | median ms | slowest ms (target ≤ 50) |");
    println!("|---|---|---|---|");
    for r in &rows {
        let statuses: Vec<String> = r
            .statuses
            .iter()
            .map(|s| {
                if *s == 500 {
                    "500 Fault".into()
                } else {
                    s.to_string()
                }
            })
            .collect();
        println!(
            "| {} | {} | {:.2} | {:.2} |",
            r.name,
            statuses.join(", "),
            r.median_ms,
            r.slowest_ms
        );
    }
    let slowest = rows.iter().map(|r| r.slowest_ms).fold(0.0, f64::max);
    println!();
    println!(
        "RSS: {rss_before:.1} MiB before, {rss_first:.1} MiB after the first round, {rss_after:.1} MiB after all {} (+{:.1} MiB since the first round); slowest answer {slowest:.2} ms; external-entity URL contacted: {}",
        ROUNDS * list.len(),
        rss_after - rss_first,
        if canary_hit { "YES" } else { "no" }
    );
}

/// An over-limit request: the headers only, on a new connection; the answer's status.
async fn headers_only(addr: SocketAddr, tls: &Arc<rustls::ClientConfig>, len: usize) -> u16 {
    let mut s = handshake(addr, tls).await.expect("connect");
    let head = format!("POST {PROFILE_ENDPOINT} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {len}\r\n\r\n");
    s.write_all(head.as_bytes()).await.expect("send headers");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).await.expect("read answer");
        assert!(n > 0, "connection closed without an answer");
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

// ---------- 2. flood ----------

#[derive(Default)]
struct FloodCounts {
    connections_refused: AtomicU64,
    answered: AtomicU64,
    refused_503: AtomicU64,
    errors: AtomicU64,
}

async fn run_flood(addr: SocketAddr, pid: u32) {
    const FLOOD_CONNECTIONS: usize = 3_000;
    const SECONDS: u64 = 20;
    let rss_before = rss_mib(pid);
    let counts = Arc::new(FloodCounts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (0..5_000u64)
            .map(|i| Bytes::from(gpfp_request(&pnr((i * 7919) % POPULATION))))
            .collect(),
    );
    let flood_tls = client_tls_as("consumer");
    let mut flood = Vec::new();
    for c in 0..FLOOD_CONNECTIONS {
        let (counts, stop, bodies, tls) = (
            counts.clone(),
            stop.clone(),
            bodies.clone(),
            flood_tls.clone(),
        );
        flood.push(tokio::spawn(async move {
            let Ok(mut sender) = try_open(addr, &tls).await else {
                counts.connections_refused.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let mut i = c;
            let mut first = true;
            while !stop.load(Ordering::Relaxed) {
                i = (i + 1) % bodies.len();
                match exchange(&mut sender, PROFILE_ENDPOINT, bodies[i].clone()).await {
                    Ok((s, _)) if s == 200 => counts.answered.fetch_add(1, Ordering::Relaxed),
                    Ok((s, _)) if s == 503 => counts.refused_503.fetch_add(1, Ordering::Relaxed),
                    // The service closes connections over the per-certificate cap after the handshake.
                    Err(_) if first => {
                        counts.connections_refused.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    _ => {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                };
                first = false;
            }
        }));
    }
    // The well-behaved consumer: 4 connections, 100 requests/s in all, started once the flood is on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut polite = load_as(
        "extended",
        addr,
        PROFILE_ENDPOINT,
        bodies.clone(),
        4,
        SECONDS,
        Some(100.0),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for t in flood {
        let _ = t.await;
    }
    let sent_polite = polite.count + polite.refused;
    let flood_sent = counts.answered.load(Ordering::Relaxed)
        + counts.refused_503.load(Ordering::Relaxed)
        + counts.errors.load(Ordering::Relaxed);
    println!();
    println!("### Flood: consumer SE2321000016-1001 opens {FLOOD_CONNECTIONS} connections and sends closed-loop; SE2321000016-1002 sends 100 req/s beside it for {SECONDS} s (default limits)");
    println!();
    println!("| client | result |");
    println!("|---|---|");
    println!(
        "| flooding consumer | {} of {FLOOD_CONNECTIONS} connections refused; {flood_sent} requests: {} answered ({:.0}%), {} refused with 503 Retry-After, {} transport errors |",
        counts.connections_refused.load(Ordering::Relaxed),
        counts.answered.load(Ordering::Relaxed),
        100.0 * counts.answered.load(Ordering::Relaxed) as f64 / flood_sent.max(1) as f64,
        counts.refused_503.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed)
    );
    let (p50, p99) = (polite.quantile(0.5), polite.quantile(0.99));
    println!(
        "| well-behaved consumer | {}/{sent_polite} answered ({:.1}%), p50 {:.2} ms, p99 {:.2} ms |",
        polite.count,
        100.0 * polite.count as f64 / sent_polite.max(1) as f64,
        p50 / 1e3,
        p99 / 1e3
    );
    println!(
        "| server memory | RSS {rss_before:.1} MiB before, peak {:.1} MiB |",
        peak_rss_mib(pid)
    );
}

// ---------- 3. soak ----------

async fn run_soak(addr: SocketAddr, pid: u32, secs: u64) {
    const WINDOW: u64 = 30;
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (0..20_000u64)
            .map(|i| Bytes::from(gpfp_request(&pnr((i * 7919) % POPULATION))))
            .collect(),
    );
    let max = load_as(
        "consumer",
        addr,
        PROFILE_ENDPOINT,
        bodies.clone(),
        16,
        5,
        None,
    )
    .await
    .rate();
    let half = max / 2.0;
    println!();
    println!("### Soak: GetPersonsForProfile P3 at half of the measured maximum ({max:.0} req/s → {half:.0} req/s), 16 connections, {secs} s");
    println!();
    println!("| window | answered | req/s | p99 ms | errors (non-200 or transport) | RSS MiB | of which anonymous / mapped files |");
    println!("|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let mut window = 0;
    let (mut total, mut rss) = (0u64, Vec::new());
    while started.elapsed() < Duration::from_secs(secs) {
        window += 1;
        // `load` panics on any answer other than 200 or 503; 503s are counted as errors here.
        let mut s = load_as(
            "consumer",
            addr,
            PROFILE_ENDPOINT,
            bodies.clone(),
            16,
            WINDOW.min(secs),
            Some(half),
        )
        .await;
        total += s.count;
        rss.push(rss_mib(pid));
        let (anon, files) = rss_split_mib(pid);
        let p99 = s.quantile(0.99);
        println!(
            "| {window} | {} | {:.0} | {:.2} | {} | {:.1} | {anon:.1} / {files:.1} |",
            s.count,
            s.rate(),
            p99 / 1e3,
            s.refused,
            rss[rss.len() - 1]
        );
    }
    let (first, last) = (rss[0], rss[rss.len() - 1]);
    println!();
    println!(
        "soak: {total} requests in {:.0} s, RSS {first:.1} → {last:.1} MiB, peak {:.1} MiB",
        started.elapsed().as_secs_f64(),
        peak_rss_mib(pid)
    );
}
