//! The audit journal's failures as a client sees them (AC-2): while the journal's disk
//! fails, no read is answered OK (each gets a soap:Server Fault), and once it works again
//! reads are answered and audited.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::store::{install_journal_faults, JournalFaultPoint, JournalFaults};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const HANNA: &str = "199002026780";

fn faultcode(body: &str) -> Option<&str> {
    let start = body.find("<faultcode>")? + "<faultcode>".len();
    Some(&body[start..start + body[start..].find('<')?])
}

// AC-2: a read whose audit entry cannot be made durable is never answered with data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ac2_while_the_journal_cannot_write_no_read_is_answered_ok() {
    let failing = Arc::new(AtomicBool::new(false));
    let server = start_server(|c| {
        let failing = failing.clone();
        install_journal_faults(
            &c.audit_journal_dir(),
            JournalFaults::new(move |point| {
                (point == JournalFaultPoint::Write && failing.load(Ordering::Acquire))
                    .then(|| std::io::Error::from_raw_os_error(5))
            }),
        );
    })
    .await;
    let addr = server.addr();
    let read = move || async move {
        post(addr, "consumer", PROFILE_ENDPOINT, &gpfp(HANNA, "P1"), &[]).await
    };
    assert_eq!(read().await.status, 200);

    failing.store(true, Ordering::Release);
    let during = futures_join(8, read).await;
    for r in &during {
        assert_eq!(
            (r.status, faultcode(&r.body)),
            (500, Some("soap:Server")),
            "{}",
            r.body
        );
    }

    failing.store(false, Ordering::Release);
    assert_eq!(read().await.status, 200);
    let audited = server
        .running
        .stores
        .audit
        .query(&Default::default())
        .unwrap();
    let ok_reads = audited
        .iter()
        .filter(|e| {
            e.contract.as_str() == "GetPersonsForProfile"
                && e.outcome == pu_adapter::audit::Outcome::Ok
        })
        .count();
    assert_eq!(
        ok_reads, 2,
        "the two answered reads are audited: {audited:?}"
    );
}

/// `n` concurrent calls of `f`.
async fn futures_join<F, Fut>(n: usize, f: F) -> Vec<HttpResponse>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = HttpResponse> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(f())).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

// A journal copied beside another database is refused, not replayed into it: `serve` exits
// 1 and says which database the journal belongs to and which one it was opened with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_journal_of_another_database_and_names_both() {
    let a = start_server(|_| {}).await;
    let journal_a = test_config(a.dir.path()).audit_journal_dir();
    let id_a = std::fs::read_to_string(journal_a.join("database-id")).unwrap();
    let b = tempfile::tempdir().unwrap();
    let journal_b = test_config(b.path()).audit_journal_dir();
    std::fs::create_dir_all(&journal_b).unwrap();
    for file in std::fs::read_dir(&journal_a).unwrap() {
        let file = file.unwrap();
        std::fs::copy(file.path(), journal_b.join(file.file_name())).unwrap();
    }
    let out = run_for_at_most(
        serve_command(b.path(), free_port()),
        std::time::Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let db_b = rusqlite::Connection::open(b.path().join("pu-adapter.db")).unwrap();
    let id_b: String = db_b
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'database_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(id_a.trim(), id_b);
    assert!(
        stderr.contains(&format!("belongs to database {}", id_a.trim()))
            && stderr.contains(&format!("not to this database {id_b}")),
        "{stderr}"
    );
    let audited: i64 = db_b
        .query_row("SELECT count(*) FROM audit_journal_marks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(audited, 0, "nothing of A's journal was indexed into B");
}

/// Runs `command` to its end, killing it after `limit` (a server that started after all).
fn run_for_at_most(
    mut command: std::process::Command,
    limit: std::time::Duration,
) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run pu-adapter serve");
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}
