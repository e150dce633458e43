//! Tools nobody here wrote, used when installed: nginx as the mutual-TLS ceiling (every POST
//! answered with the adapter's own reply bytes), `oha` as the load generator, and `perf`
//! for context switches, CPU time and allocations (a uprobe on libc's malloc) per request.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `name` on PATH, if there.
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .or_else(|| {
            // Debian installs nginx in sbin, which a user's PATH may lack.
            [Path::new("/usr/sbin").join(name)]
                .into_iter()
                .find(|p| p.is_file())
        })
}

/// nginx with the adapter's TLS files and client-certificate verification, answering every
/// request with `reply`; stopped on drop.
pub(crate) struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub(crate) fn start(port: u16, certs: &Path, reply: &[u8]) -> Option<Nginx> {
        let nginx = tool("nginx")?;
        let dir = tempfile::tempdir().ok()?;
        let reply = String::from_utf8_lossy(reply)
            .replace('\\', "\\\\")
            .replace('\'', "\\'");
        if reply.contains('$') {
            eprintln!("skipped nginx: the reply holds '$', which nginx would read as a variable");
            return None;
        }
        let d = dir.path().display();
        let c = certs.display();
        let conf = format!(
            "worker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 4096; }}\n\
             http {{\n access_log off;\n keepalive_requests 100000000;\n client_body_temp_path {d}/body;\n\
             server {{\n  listen 127.0.0.1:{port} ssl;\n  ssl_certificate {c}/server.pem;\n  ssl_certificate_key {c}/server.key;\n\
               ssl_client_certificate {c}/ca.pem;\n  ssl_verify_client on;\n  ssl_protocols TLSv1.2 TLSv1.3;\n\
               location / {{ default_type \"text/xml; charset=utf-8\"; return 200 '{reply}'; }}\n }}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .ok()?;
        let child = Command::new(nginx)
            .arg("-c")
            .arg(&path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .ok()?;
        super::net::wait_for_port(port);
        Some(Nginx { child, _dir: dir })
    }

    pub(crate) fn pids(&self) -> Vec<u32> {
        // The master forks the workers; perf follows the master's children with its pid list.
        let mut pids = vec![self.child.id()];
        if let Ok(out) = Command::new("pgrep")
            .args(["-P", &self.child.id().to_string()])
            .output()
        {
            pids.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter_map(|l| l.trim().parse::<u32>().ok()),
            );
        }
        pids
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// What one `oha` run measured.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OhaRun {
    pub(crate) rate: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) ok: u64,
    pub(crate) other: u64,
}

/// What `oha` sends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body<'a> {
    /// The same request every time (one hot person).
    One(&'a Path),
    /// One request per line of the file, in turn (many persons).
    Lines(&'a Path),
}

/// One `oha` run: POST `body` to `url` over mutual TLS, `conns` connections, `secs` seconds,
/// paced at `qps` when given.
pub(crate) fn oha(
    url: &str,
    body: Body<'_>,
    certs: &Path,
    conns: usize,
    secs: u64,
    qps: Option<f64>,
) -> Option<OhaRun> {
    let oha = tool("oha")?;
    let mut cmd = Command::new(oha);
    cmd.args(["--no-tui", "--output-format", "json", "-m", "POST"])
        .args(["-z", &format!("{secs}s"), "-c", &conns.to_string()])
        .args(["-H", "Content-Type: text/xml; charset=utf-8"]);
    match body {
        Body::One(file) => cmd.arg("-D").arg(file),
        Body::Lines(file) => cmd.arg("-Z").arg(file),
    };
    cmd.arg("--cert")
        .arg(certs.join("consumer.pem"))
        .arg("--key")
        .arg(certs.join("consumer.key"))
        .arg("--cacert")
        .arg(certs.join("ca.pem"));
    if let Some(q) = qps {
        cmd.args(["-q", &format!("{q:.0}"), "--latency-correction"]);
    }
    let out = cmd.arg(url).stderr(Stdio::null()).output().ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let statuses = v["statusCodeDistribution"].as_object()?;
    let ok = statuses
        .get("200")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let all: u64 = statuses
        .values()
        .filter_map(serde_json::Value::as_u64)
        .sum();
    Some(OhaRun {
        rate: v["summary"]["requestsPerSec"].as_f64()?,
        p50_ms: v["latencyPercentiles"]["p50"].as_f64().unwrap_or(f64::NAN) * 1e3,
        p99_ms: v["latencyPercentiles"]["p99"].as_f64().unwrap_or(f64::NAN) * 1e3,
        ok,
        other: all - ok,
    })
}

/// CPU seconds of each thread name of process `pid` (threads of one name summed), read from
/// `/proc`; empty where `/proc` is not there.
pub(crate) fn thread_cpu(pid: u32) -> std::collections::BTreeMap<String, f64> {
    // Ticks per second of `/proc/*/stat`; 100 on every Linux this runs on.
    let ticks = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    let mut cpu = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return cpu;
    };
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The name is in parentheses and may hold spaces; utime and stime are the 12th and
        // 13th fields after it.
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let used = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        *cpu.entry(name.to_owned()).or_insert(0.0) += (used(11) + used(12)) / ticks;
    }
    cpu
}

/// Counts of `perf stat` over `pids` while `during` runs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PerfCounts {
    pub(crate) context_switches: f64,
    pub(crate) task_clock_ms: f64,
    pub(crate) mallocs: Option<f64>,
}

/// Runs `during` while `perf stat` counts context switches, CPU time and (when the
/// `probe_libc:malloc` uprobe can be made) malloc calls of `pids`.
pub(crate) fn perf_stat<T>(
    pids: &[u32],
    mallocs: bool,
    during: impl FnOnce() -> T,
) -> (Option<PerfCounts>, T) {
    let Some(perf) = tool("perf") else {
        return (None, during());
    };
    let mut events = "context-switches,task-clock".to_owned();
    if mallocs && malloc_probe(&perf) {
        events.push_str(",probe_libc:malloc");
    }
    let pid_list = pids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let out = tempfile::NamedTempFile::new().ok();
    let child = out.as_ref().and_then(|o| {
        Command::new(&perf)
            .args(["stat", "-x", ",", "-e", &events, "-p", &pid_list, "-o"])
            .arg(o.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    });
    // perf needs a moment to attach before the load starts.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let result = during();
    let Some(mut child) = child else {
        return (None, result);
    };
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = out
        .and_then(|o| std::fs::read_to_string(o.path()).ok())
        .unwrap_or_default();
    let value = |event: &str| {
        text.lines()
            .find(|l| l.contains(event))
            .and_then(|l| l.split(',').next())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    let counts = value("context-switches")
        .zip(value("task-clock"))
        .map(|(cs, ms)| PerfCounts {
            context_switches: cs,
            task_clock_ms: ms,
            mallocs: value("probe_libc:malloc"),
        });
    (counts, result)
}

/// Makes the libc malloc uprobe once (needs root; skipped without).
fn malloc_probe(perf: &Path) -> bool {
    let listed = Command::new(perf)
        .args(["probe", "-l"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("probe_libc:malloc"))
        .unwrap_or(false);
    listed
        || Command::new(perf)
            .args(["probe", "-x", "/lib/x86_64-linux-gnu/libc.so.6", "malloc"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}
