//! The mutual-TLS load generator and the process helpers shared by the harnesses.

use super::repo;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A client configuration presenting `certs-dev/{cert}.pem`, without session resumption.
pub(crate) fn client_tls_as(cert: &str) -> Arc<rustls::ClientConfig> {
    pu_adapter::testkit::client_config(Some(cert), false)
}

/// An HTTP/1.1 request sender on one connection.
pub(crate) type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// A new mutual-TLS connection.
pub(crate) async fn handshake(
    addr: SocketAddr,
    tls: &Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    tokio_rustls::TlsConnector::from(tls.clone())
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// A new keep-alive HTTP/1.1 connection over mutual TLS.
pub(crate) async fn open(addr: SocketAddr, tls: &Arc<rustls::ClientConfig>) -> Sender {
    try_open(addr, tls).await.expect("connect")
}

/// As [`open`], returning the error instead of panicking.
pub(crate) async fn try_open(
    addr: SocketAddr,
    tls: &Arc<rustls::ClientConfig>,
) -> std::io::Result<Sender> {
    let stream = handshake(addr, tls).await?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One request; returns the response body length, or None when refused with 503 (overload protection).
pub(crate) async fn send(sender: &mut Sender, path: &str, body: Bytes) -> Option<usize> {
    let (status, body) = exchange(sender, path, body).await.expect("response");
    if status == hyper::StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    assert!(status.is_success(), "HTTP {status}");
    Some(body.len())
}

/// One POST; the status and body whatever they are, or the transport error.
pub(crate) async fn exchange(
    sender: &mut Sender,
    path: &str,
    body: Bytes,
) -> Result<(hyper::StatusCode, Bytes), hyper::Error> {
    sender.ready().await?;
    let req = hyper::Request::post(path)
        .header("host", "localhost")
        .header("content-type", "text/xml; charset=utf-8")
        .body(Full::new(body))
        .unwrap();
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    Ok((status, resp.into_body().collect().await?.to_bytes()))
}

/// What one load run measured.
#[derive(Default)]
pub(crate) struct Stats {
    /// Requests answered with 2xx.
    pub count: u64,
    /// Requests refused with 503.
    pub refused: u64,
    /// Response body bytes.
    pub bytes: u64,
    /// Latency of each answered request.
    pub latencies_us: Vec<f64>,
    /// Wall time of the run.
    pub elapsed: f64,
}

impl Stats {
    /// Answered requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed
    }
    /// Latency quantile in µs.
    pub(crate) fn quantile(&mut self, q: f64) -> f64 {
        self.latencies_us.sort_by(f64::total_cmp);
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        self.latencies_us[((n as f64 * q) as usize).min(n - 1)]
    }
}

/// `conns` keep-alive connections presenting `certs-dev/{cert}.pem`, each sending requests
/// from `bodies`; closed loop when `rate` is None, otherwise paced to `rate` requests/s in total.
pub(crate) async fn load_as(
    cert: &str,
    addr: SocketAddr,
    path: &'static str,
    bodies: Arc<Vec<Bytes>>,
    conns: usize,
    secs: u64,
    rate: Option<f64>,
) -> Stats {
    let tls = client_tls_as(cert);
    let mut senders = Vec::new();
    for _ in 0..conns {
        senders.push(open(addr, &tls).await);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(c, mut sender)| {
            let (bodies, stop) = (bodies.clone(), stop.clone());
            tokio::spawn(async move {
                let mut s = Stats::default();
                let mut x =
                    0x9E37_79B9_7F4A_7C15u64 ^ (c as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
                let interval = rate.map(|r| Duration::from_secs_f64(conns as f64 / r));
                let mut next = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    if let Some(i) = interval {
                        next += i;
                        if let Some(wait) = next.checked_duration_since(Instant::now()) {
                            tokio::time::sleep(wait).await;
                        }
                    }
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let body = bodies[(x % bodies.len() as u64) as usize].clone();
                    let t = Instant::now();
                    match send(&mut sender, path, body).await {
                        Some(n) => {
                            s.bytes += n as u64;
                            s.latencies_us.push(t.elapsed().as_secs_f64() * 1e6);
                            s.count += 1;
                        }
                        None => s.refused += 1,
                    }
                }
                s
            })
        })
        .collect();
    run_for(secs, &stop, tasks, started).await
}

/// Lets `tasks` run for `secs`, stops them through `stop`, and adds up what they measured.
pub(crate) async fn run_for(
    secs: u64,
    stop: &AtomicBool,
    tasks: Vec<tokio::task::JoinHandle<Stats>>,
    started: Instant,
) -> Stats {
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = Stats::default();
    for t in tasks {
        let s = t.await.unwrap();
        total.count += s.count;
        total.refused += s.refused;
        total.bytes += s.bytes;
        total.latencies_us.extend(s.latencies_us);
    }
    total.elapsed = started.elapsed().as_secs_f64();
    total
}

/// New mutual-TLS connections per second from `workers` concurrent connectors.
pub(crate) async fn handshakes(addr: SocketAddr, workers: usize, secs: u64) -> f64 {
    let tls = client_tls_as("consumer");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (tls, stop, done) = (tls.clone(), stop.clone(), done.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let mut s = handshake(addr, &tls).await.expect("handshake");
                    // TLS 1.3 finishes client authentication with the client's flight; a read proves the server accepted it.
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut s).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Waits up to 60 s for `port` to accept connections.
pub(crate) fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Builds the release binary and returns its path.
pub(crate) fn adapter_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "pu-adapter"])
        .current_dir(repo())
        .status()
        .unwrap();
    assert!(status.success());
    repo().join("target/release/pu-adapter")
}

/// Starts the adapter on `port` over `data`, configured as an operator would: the dev
/// certificates, `consumer` and `extended` allowed every contract, `limits` as TOML lines.
pub(crate) fn start_adapter(bin: &Path, data: &Path, port: u16, limits: &str) -> Child {
    start_adapter_with_env(bin, data, port, limits, &[])
}

/// [`start_adapter`] with `env` added to the adapter's environment (e.g. the settings that
/// select PostgreSQL).
pub(crate) fn start_adapter_with_env(
    bin: &Path,
    data: &Path,
    port: u16,
    limits: &str,
    env: &[(String, String)],
) -> Child {
    let certs = repo().join("certs-dev");
    let config = data.with_file_name("bench.toml");
    std::fs::write(
        &config,
        format!(
            "admin_listen = \"\"\nlisten = \"127.0.0.1:{port}\"\ndata_dir = {data:?}\n[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\nallow_development_certificates = true\n[limits]\n{limits}\n[[consumers]]\nhsa_id = \"SE2321000016-1001\"\ncontracts = [\"*\"]\n[[consumers]]\nhsa_id = \"SE2321000016-1002\"\ncontracts = [\"*\"]\n",
            certs.join("server.pem"),
            certs.join("server.key"),
            certs.join("ca.pem")
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .args(["serve", "--config"])
        .arg(&config)
        .current_dir(repo())
        .env("PU_ADAPTER_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    child
}

/// Peak resident memory of `pid` (VmHWM).
pub(crate) fn peak_rss_mib(pid: u32) -> f64 {
    proc_status_mib(pid, "VmHWM:")
}

/// Current resident memory of `pid` (VmRSS).
pub(crate) fn rss_mib(pid: u32) -> f64 {
    proc_status_mib(pid, "VmRSS:")
}

/// Resident memory of `pid` split into heap/stacks (RssAnon) and mapped files (RssFile + RssShmem).
#[allow(dead_code)] // only the soak uses it
pub(crate) fn rss_split_mib(pid: u32) -> (f64, f64) {
    (
        proc_status_mib(pid, "RssAnon:"),
        proc_status_mib(pid, "RssFile:") + proc_status_mib(pid, "RssShmem:"),
    )
}

fn proc_status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The load generator's runtime: two workers, like the server's.
pub(crate) fn generator_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Imports `population` into `data` with the adapter binary `bin`.
pub(crate) fn import_population(bin: &Path, population: &Path, data: &Path) {
    import_population_with_env(bin, population, data, &[]);
}

/// [`import_population`] with `env` added to the import's environment.
pub(crate) fn import_population_with_env(
    bin: &Path,
    population: &Path,
    data: &Path,
    env: &[(String, String)],
) {
    let status = Command::new(bin)
        .arg("import")
        .arg(population)
        .arg("--data-dir")
        .arg(data)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(repo())
        .stdout(Stdio::null())
        .status()
        .expect("run pu-adapter import");
    assert!(status.success(), "import failed");
}
