//! What an operator sees, against the real binary: probes the way orchestrators read them,
//! Prometheus metrics, and a failing store whose cause is in the ERROR log line, counted,
//! reflected by readiness, and recovered from without a restart.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A started `pu-adapter serve`, its admin port, and its log lines so far.
struct Server {
    child: Child,
    port: u16,
    admin: u16,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin) = (free_port(), free_port());
    let mut child = bin()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin}"),
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("PU_ADAPTER_LOG", "info")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (lines, stderr) = (log.clone(), child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            lines.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", admin)).is_err()
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    {
        assert!(
            Instant::now() < deadline,
            "serve did not start: {:?}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        port,
        admin,
        log,
        _dir: dir,
    }
}

/// A plain-HTTP GET on the admin listener: (status, body).
fn get(port: u16, path: &str) -> (u16, String) {
    admin_http(([127, 0, 0, 1], port).into(), "GET", path, "", None)
}

fn read_request() -> String {
    envelope(&format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>191212121212</c:extension></personId><profile>P1</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    ))
}

#[tokio::test]
async fn probes_and_metrics_read_the_way_orchestrators_and_prometheus_read_them() {
    let server = start(&[]);
    assert_eq!(get(server.admin, "/livez").0, 200);
    assert_eq!(get(server.admin, "/readyz"), (200, "ready\n".to_owned()));
    let addr = ([127, 0, 0, 1], server.port).into();
    let r = post(
        addr,
        "consumer",
        Contract::GetPersonsForProfile.path(),
        &read_request(),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, metrics) = get(server.admin, "/metrics");
    assert_eq!(status, 200);
    for expected in [
        r#"pu_adapter_request_duration_seconds_count{contract="GetPersonsForProfile",result="OK"} 1"#,
        r#"pu_adapter_request_duration_seconds_bucket{"#,
        "pu_adapter_requests_in_flight 0",
        "pu_adapter_audit_commit_seconds_count ",
        r#"pu_adapter_pool_connections_in_use{pool="SQLite reader"}"#,
        &format!(
            r#"pu_adapter_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        ),
        "# EOF",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from\n{metrics}"
        );
    }
}

// A store that fails: soap:Server with nothing changed, the cause in an ERROR line, a
// metric, readiness down; recovery without a restart once the store works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_is_logged_with_its_cause_counted_and_reflected_by_readiness() {
    let Some(url) = fresh_postgres_database("pu_ops") else {
        return;
    };
    let ca = test_postgres_ca()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let server = start(&[
        ("PU_ADAPTER_STORE_KIND", "postgresql"),
        ("PU_ADAPTER_POSTGRES_URL", &url),
        ("PU_ADAPTER_STORE__POSTGRES_CA", &ca),
    ]);
    let addr = ([127, 0, 0, 1], server.port).into();
    let admin_sql = |sql: &'static str| {
        let url = url.clone();
        std::thread::spawn(move || {
            postgres::Client::connect(&url, postgres::NoTls).and_then(|mut c| c.batch_execute(sql))
        })
        .join()
        .unwrap()
        .unwrap();
    };
    // Without the persons table every read fails in the store.
    admin_sql("ALTER TABLE persons RENAME TO persons_away");
    let failed = post(
        addr,
        "consumer",
        Contract::GetPersonsForProfile.path(),
        &read_request(),
        &[],
    )
    .await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(text_of(&failed.body, "faultcode"), Some("soap:Server"));
    let log_id = text_of(&failed.body, "logId").unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let found = server
            .log
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(&log_id) && l.contains("ERROR"))
            .cloned();
        if let Some(line) = found {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no ERROR line with {log_id}: {:?}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        line.contains("relation \"persons\" does not exist"),
        "the cause is not in the line: {line}"
    );
    assert!(
        !line.contains('\u{1b}'),
        "colour codes in a log that is not a terminal: {line}"
    );
    let (status, text) = get(server.admin, "/readyz");
    assert_eq!(status, 503, "{text}");
    assert!(get(server.admin, "/metrics")
        .1
        .contains(r#"pu_adapter_server_faults_total{cause="storage"} 1"#));
    admin_sql("ALTER TABLE persons_away RENAME TO persons");
    let recovered = post(
        addr,
        "consumer",
        Contract::GetPersonsForProfile.path(),
        &read_request(),
        &[],
    )
    .await;
    assert_eq!(recovered.status, 200, "{}", recovered.body);
    assert_eq!(get(server.admin, "/readyz").0, 200);
}
