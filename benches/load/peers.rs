//! The peers a user might stand up instead of the adapter, started for the load bench: the
//! JAX-WS RI producer (benches/jaxws-peer) and the Node `soap` peer (benches/node-peer).

use crate::common::external::{self, Body, OhaRun};
use crate::common::net::wait_for_port;
use crate::common::{repo, PROFILE_ENDPOINT};
use crate::CONNS;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The JAX-WS RI producer (benches/jaxws-peer) under oha at 16 and 64 connections, the
/// same random reads; `None` where Java or wsimport is missing or the peer never got ready.
pub(crate) fn jaxws_peer(random: &Path, secs: u64) -> [Option<OhaRun>; 2] {
    use std::io::BufRead;
    if external::tool("oha").is_none() {
        return [None, None];
    }
    let port = pu_adapter::testkit::free_port();
    let Ok(mut child) = Command::new(repo().join("benches/jaxws-peer/run.sh"))
        .arg(port.to_string())
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    else {
        eprintln!("skipped: the JAX-WS RI peer did not start");
        return [None, None];
    };
    // It warms its JIT with 20,000 calls to itself before it says it is ready.
    let ready = format!("jaxws-peer ready on {port}");
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if line.contains(&ready) {
                    let _ = tx.send(());
                }
            }
        });
    }
    let mut runs = [None, None];
    if rx.recv_timeout(Duration::from_secs(300)).is_ok() {
        let url = format!("https://localhost:{port}{PROFILE_ENDPOINT}");
        let certs = repo().join("certs-dev");
        for (k, conns) in CONNS.into_iter().enumerate() {
            runs[k] = external::oha(&url, Body::Lines(random), &certs, conns, secs, None);
        }
    } else {
        eprintln!("skipped: the JAX-WS RI peer was not ready within 300 s");
    }
    let _ = child.kill();
    let _ = child.wait();
    runs
}

pub(crate) fn node_peer(port: u16) -> Option<Child> {
    let dir = repo().join("benches/node-peer");
    let soap = repo().join("tests/interop/node/node_modules/soap");
    if !soap.is_dir() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(repo().join("tests/interop/node"))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("skipped: the Node soap peer needs npm (tests/interop/node)");
            return None;
        }
    }
    let child = Command::new("node")
        .arg(dir.join("server.js"))
        .arg(port.to_string())
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    wait_for_port(port);
    Some(child)
}
