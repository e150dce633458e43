//! The load bench's figures from tools nobody here wrote (oha, nginx, perf), gathered in
//! one run and printed as one table with every ratio.

use crate::common::external::{self, Body, Nginx, OhaRun};
use crate::common::{repo, PROFILE_ENDPOINT};
use crate::CONNS;
use std::path::Path;

/// What the tools nobody here wrote measured; `None` where a tool is missing.
#[derive(Default)]
pub(crate) struct External {
    nginx: [Option<OhaRun>; 2],
    adapter: [Option<OhaRun>; 2],
    paced: Option<OhaRun>,
    adapter_perf: Option<external::PerfCounts>,
    /// CPU seconds by thread name over the adapter's closed-loop run at 16 connections.
    adapter_threads: std::collections::BTreeMap<String, f64>,
    nginx_perf: Option<external::PerfCounts>,
    /// hyper + rustls alone (the baseline server) at 16 connections, and its perf counts.
    baseline: Option<OhaRun>,
    baseline_perf: Option<external::PerfCounts>,
    mallocs: Option<(external::PerfCounts, OhaRun)>,
    /// The adapter at 16 connections reading one person only.
    hot: Option<OhaRun>,
    binary: String,
}

/// nginx and the adapter under `oha` at 16 and 64 connections, the adapter paced at half its
/// maximum, and `perf stat` per request; the adapter answers the same P3 request throughout.
pub(crate) fn external_figures(
    bin: &Path,
    (adapter_pid, adapter_port): (u32, u16),
    (baseline_pid, baseline_port): (u32, u16),
    (hot, random): (&Path, &Path),
    reply: &[u8],
    secs: u64,
) -> External {
    let mut ext = External {
        binary: bin.display().to_string(),
        ..External::default()
    };
    if external::tool("oha").is_none() {
        eprintln!("skipped: oha not installed (cargo install oha)");
        return ext;
    }
    let certs = repo().join("certs-dev");
    let url = |port: u16| format!("https://localhost:{port}{PROFILE_ENDPOINT}");
    let nginx_port = pu_adapter::testkit::free_port();
    let nginx = Nginx::start(nginx_port, &certs, reply);
    if nginx.is_none() {
        eprintln!("skipped: nginx not installed (apt-get install nginx-light)");
    }
    for (k, conns) in CONNS.into_iter().enumerate() {
        if let Some(n) = &nginx {
            let (perf, run) = external::perf_stat(&n.pids(), false, || {
                external::oha(
                    &url(nginx_port),
                    Body::Lines(random),
                    &certs,
                    conns,
                    secs,
                    None,
                )
            });
            ext.nginx[k] = run;
            if k == 0 {
                ext.nginx_perf = perf;
            }
        }
        let before = external::thread_cpu(adapter_pid);
        let (perf, run) = external::perf_stat(&[adapter_pid], false, || {
            external::oha(
                &url(adapter_port),
                Body::Lines(random),
                &certs,
                conns,
                secs,
                None,
            )
        });
        let after = external::thread_cpu(adapter_pid);
        ext.adapter[k] = run;
        if k == 0 {
            ext.adapter_perf = perf;
            ext.adapter_threads = after
                .into_iter()
                .map(|(name, s)| {
                    let used = s - before.get(&name).copied().unwrap_or(0.0);
                    (name, used)
                })
                .collect();
        }
    }
    drop(nginx);
    // The same generator against hyper + rustls alone: is the stack itself below nginx?
    let (perf, run) = external::perf_stat(&[baseline_pid], false, || {
        external::oha(
            &url(baseline_port),
            Body::Lines(random),
            &certs,
            CONNS[0],
            secs,
            None,
        )
    });
    (ext.baseline, ext.baseline_perf) = (run, perf);
    // For reference only: one hot person (every read the same row, in the page cache).
    ext.hot = external::oha(
        &url(adapter_port),
        Body::One(hot),
        &certs,
        CONNS[0],
        secs,
        None,
    );
    if let Some(max) = ext.adapter[0] {
        ext.paced = external::oha(
            &url(adapter_port),
            Body::Lines(random),
            &certs,
            16,
            secs,
            Some(max.rate / 2.0),
        );
        // Allocations at a fixed, modest rate: the uprobe slows every malloc.
        let (perf, run) = external::perf_stat(&[adapter_pid], true, || {
            external::oha(
                &url(adapter_port),
                Body::Lines(random),
                &certs,
                16,
                secs.min(3),
                Some(2_000.0),
            )
        });
        ext.mallocs = perf.filter(|p| p.mallocs.is_some()).zip(run);
    }
    ext
}

pub(crate) fn print_external(ext: &External, peer: Option<OhaRun>, jaxws: &[Option<OhaRun>; 2]) {
    println!();
    println!("measured with oha (an independent load generator) against nginx-light with the same mutual TLS, one run, reads of 10,000 random persons among 100,000 with contact information; adapter binary {}", ext.binary);
    println!();
    println!("| measurement | result | target | detail |");
    println!("|---|---|---|---|");
    for (k, conns) in CONNS.into_iter().enumerate() {
        let target = if conns == 64 {
            "≥ 0.60×"
        } else {
            "≥ 0.50×"
        };
        println!(
            "| P3 reads vs nginx mTLS ceiling, {conns} conn | {} | {target} | adapter {}; nginx {} |",
            ratio(ext.adapter[k], ext.nginx[k]),
            rate(ext.adapter[k]),
            rate(ext.nginx[k])
        );
    }
    println!(
        "| baseline (hyper + rustls, same TLS, fixed reply) vs nginx, 16 conn | {} | – | baseline {}: the stack without our work |",
        ratio(ext.baseline, ext.nginx[0]),
        rate(ext.baseline)
    );
    println!(
        "| one hot person, 16 conn (reference only, not a goal) | {} | – | every read the same person |",
        rate(ext.hot)
    );
    if let Some(p) = ext.paced {
        println!("| P3 latency at half the maximum ({:.0} req/s, 16 conn, oha) | p50 {:.2} ms, p99 {:.2} ms | p99 ≤ 1.5 ms | {} non-200 |", p.rate, p.p50_ms, p.p99_ms, p.other);
    }
    println!(
        "| adapter vs Node soap peer, 16 conn (oha) | {} | – | peer {} |",
        ratio(ext.adapter[0], peer),
        rate(peer)
    );
    for (k, conns) in CONNS.into_iter().enumerate() {
        println!(
            "| adapter vs JAX-WS RI producer (in memory, no audit, JDK HttpsServer), {conns} conn (oha) | {} | ≥ 1.5× | peer {} |",
            ratio(ext.adapter[k], jaxws[k]),
            rate(jaxws[k])
        );
    }
    let per_request = |perf: Option<external::PerfCounts>, run: Option<OhaRun>, secs_hint: &str| {
        match (perf, run) {
            (Some(p), Some(r)) if r.ok > 0 => {
                let n = (r.ok + r.other) as f64;
                format!(
                    "{:.2} context switches, {:.1} µs CPU per request ({secs_hint})",
                    p.context_switches / n,
                    1e3 * p.task_clock_ms / n
                )
            }
            _ => "– (perf not available)".to_owned(),
        }
    };
    println!(
        "| adapter, per request at 16 conn (perf stat) | {} | – | nginx: {}; baseline: {} |",
        per_request(ext.adapter_perf, ext.adapter[0], "closed loop"),
        per_request(ext.nginx_perf, ext.nginx[0], "closed loop"),
        per_request(ext.baseline_perf, ext.baseline, "closed loop")
    );
    if let Some(r) = ext.adapter[0].filter(|r| r.ok > 0 && !ext.adapter_threads.is_empty()) {
        let n = (r.ok + r.other) as f64;
        let per = |names: &[&str]| -> f64 {
            1e6 * ext
                .adapter_threads
                .iter()
                .filter(|(k, _)| names.contains(&k.as_str()))
                .map(|(_, s)| s)
                .sum::<f64>()
                / n
        };
        let total = 1e6 * ext.adapter_threads.values().sum::<f64>() / n;
        println!(
            "| adapter CPU per request by thread, 16 conn (/proc) | async workers {:.1} µs, journal committer {:.1} µs, audit indexer {:.1} µs | – | all threads {:.1} µs (10 ms ticks) |",
            per(&["tokio-rt-worker"]),
            per(&["audit-journal"]),
            per(&["audit-indexer"]),
            total
        );
    }
    match ext.mallocs {
        Some((p, r)) => println!(
            "| adapter malloc calls per request (uprobe on libc malloc, 2,000 req/s) | {:.0} | – | {} requests |",
            p.mallocs.unwrap_or(f64::NAN) / (r.ok + r.other) as f64,
            r.ok + r.other
        ),
        None => println!("| adapter malloc calls per request | – | – | needs perf and root for the libc uprobe |"),
    }
}

/// PostgreSQL's reads against SQLite's, both measured with oha in this run.
pub(crate) fn print_postgres(ext: &External, postgres: Option<&[Option<OhaRun>; 2]>) {
    let Some(postgres) = postgres else {
        println!("| PostgreSQL reads vs SQLite | skipped | ≥ 0.50× at 64 conn | no test server (PU_ADAPTER_TEST_POSTGRES_URL) |");
        return;
    };
    for (k, conns) in CONNS.into_iter().enumerate() {
        let target = if conns == 64 { "≥ 0.50×" } else { "–" };
        println!(
            "| PostgreSQL reads vs SQLite, {conns} conn (oha, same random persons) | {} | {target} | PostgreSQL {}; SQLite {} |",
            ratio(postgres[k], ext.adapter[k]),
            rate(postgres[k]),
            rate(ext.adapter[k])
        );
    }
}

/// The import with contact information against the same persons without.
pub(crate) fn print_imports((with, without): ([f64; 2], [f64; 2])) {
    let best = |t: [f64; 2]| t[0].min(t[1]);
    println!(
        "| import of 100,000 persons with contact information vs without | {:.2}× | within 2× | with: {:.2} s, {:.2} s; without: {:.2} s, {:.2} s (two rounds, alternating; ratio of the faster of each) |",
        best(with) / best(without),
        with[0],
        with[1],
        without[0],
        without[1]
    );
    println!("| SQLite and PostgreSQL at 10.5 million persons | not in this run | ≥ 0.90×, p99 ≤ 1.10× | `cargo bench --bench population` (hours: docs/benchmarks.md) |");
}

fn ratio(a: Option<OhaRun>, b: Option<OhaRun>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b.rate > 0.0 => format!("{:.2}×", a.rate / b.rate),
        _ => "–".to_owned(),
    }
}

fn rate(r: Option<OhaRun>) -> String {
    r.map_or("–".to_owned(), |r| {
        format!(
            "{:.0} req/s (p99 {:.2} ms, {} non-200)",
            r.rate, r.p99_ms, r.other
        )
    })
}
