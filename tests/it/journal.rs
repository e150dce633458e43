//! The audit journal's failures as a client sees them (AC-2): while the journal's disk
//! fails, no read is answered OK (each gets a soap:Server Fault), and once it works again
//! reads are answered and audited.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::store::{install_journal_faults, JournalFaultPoint, JournalFaults};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const GPFP: &str = "/GetPersonsForProfile/5/rivtabp21";
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
    let read = move || async move { post(addr, "consumer", GPFP, &gpfp(HANNA, "P1"), &[]).await };
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
