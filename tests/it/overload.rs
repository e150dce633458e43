//! Overload: a consumer flooding the service gets 503 with Retry-After and a connection
//! cap, while another consumer keeps being served.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;

fn read() -> String {
    envelope(&format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>191212121212</c:extension></personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    ))
}

/// 24 connections of one consumer, 10 reads each, the statuses of all.
fn flood(addr: std::net::SocketAddr) -> Vec<tokio::task::JoinHandle<Vec<u16>>> {
    (0..24)
        .map(|_| {
            tokio::spawn(async move {
                let mut tls = connect(addr, Some("consumer")).await.unwrap();
                let mut statuses = Vec::new();
                for _ in 0..10 {
                    let r = exchange(&mut tls, &soap_post(PROFILE_ENDPOINT, &read(), &[]))
                        .await
                        .unwrap();
                    if r.status == 503 {
                        assert_eq!(r.header("retry-after"), Some("1"));
                        assert!(
                            r.body.contains(
                                "consumer SE2321000016-1001 has too many requests in flight"
                            ),
                            "{}",
                            r.body
                        );
                    }
                    statuses.push(r.status);
                }
                statuses
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_consumer_gets_503_and_others_are_still_served() {
    let server = start_server(|c| {
        c.limits.max_in_flight_per_consumer = 1;
        c.limits.queue_wait_ms = 0;
    })
    .await;
    let addr = server.addr();
    let flood = flood(addr);
    let mut other = Vec::new();
    for _ in 0..10 {
        other.push(
            post(addr, "extended", PROFILE_ENDPOINT, &read(), &[])
                .await
                .status,
        );
    }
    let flooded: Vec<u16> = futures_flatten(flood).await;
    let refused = flooded.iter().filter(|s| **s == 503).count();
    assert!(refused > 0, "the flood was never limited: {flooded:?}");
    assert!(flooded.iter().all(|s| *s == 200 || *s == 503));
    assert!(
        other.iter().all(|s| *s == 200),
        "the other consumer was not served: {other:?}"
    );
    eprintln!(
        "flood: {} requests, {refused} refused with 503; other consumer: {}/{} served",
        flooded.len(),
        other.len(),
        other.len()
    );
    server.running.server.shutdown().await;
}

/// Over the cap, a request waits its turn instead of being refused: the same flood with a
/// queue wait longer than the flood's queue is answered in full, in order of arrival.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_within_the_queue_wait_is_answered_not_refused() {
    let server = start_server(|c| {
        c.limits.max_in_flight_per_consumer = 1;
        c.limits.queue_wait_ms = 5_000;
    })
    .await;
    let flooded = futures_flatten(flood(server.addr())).await;
    assert_eq!(flooded.len(), 240);
    assert!(
        flooded.iter().all(|s| *s == 200),
        "a queued request was refused: {flooded:?}"
    );
    server.running.server.shutdown().await;
}

/// Refusals are counted in the metrics by reason, and logged in aggregate only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_counted_by_reason() {
    let server = start_server(|c| {
        c.limits.max_in_flight_per_consumer = 1;
        c.limits.queue_wait_ms = 0;
    })
    .await;
    // The metrics are the process's: other tests may add to the count, never take away.
    let before = consumer_refusals_counted();
    let flooded = futures_flatten(flood(server.addr())).await;
    let refused = flooded.iter().filter(|s| **s == 503).count() as u64;
    assert!(refused > 0, "the flood was never limited");
    let counted = consumer_refusals_counted() - before;
    assert!(counted >= refused, "{refused} refused, {counted} counted");
    server.running.server.shutdown().await;
}

fn consumer_refusals_counted() -> u64 {
    pu_adapter::metrics::global()
        .render()
        .lines()
        .find_map(|l| l.strip_prefix("pu_adapter_refusals_total{reason=\"consumer_in_flight\"} "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

async fn futures_flatten(tasks: Vec<tokio::task::JoinHandle<Vec<u16>>>) -> Vec<u16> {
    let mut out = Vec::new();
    for t in tasks {
        out.extend(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_certificate_are_capped() {
    let server = start_server(|c| {
        c.limits.max_connections_per_certificate = 3;
        // How long a connection over the cap is held before it is closed.
        c.limits.handshake_timeout_ms = 300;
    })
    .await;
    let addr = server.addr();
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut tls = connect(addr, Some("consumer")).await.unwrap();
        assert_eq!(
            exchange(&mut tls, &soap_post(PROFILE_ENDPOINT, &read(), &[]))
                .await
                .unwrap()
                .status,
            200
        );
        open.push(tls);
    }
    let refused = match connect(addr, Some("consumer")).await {
        Err(_) => true,
        Ok(mut tls) => exchange(&mut tls, &soap_post(PROFILE_ENDPOINT, &read(), &[]))
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a fourth connection of the same certificate was served"
    );
    assert_eq!(
        post(addr, "extended", PROFILE_ENDPOINT, &read(), &[])
            .await
            .status,
        200,
        "another consumer still connects"
    );
    drop(open.pop());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        post(addr, "consumer", PROFILE_ENDPOINT, &read(), &[])
            .await
            .status,
        200,
        "a freed slot is usable again"
    );
    server.running.server.shutdown().await;
}

/// A connection over its certificate's cap is held, not closed, and served as soon as one
/// of that certificate's connections closes: no second handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_the_cap_is_served_when_a_slot_frees() {
    let server = start_server(|c| c.limits.max_connections_per_certificate = 1).await;
    let addr = server.addr();
    let mut first = connect(addr, Some("consumer")).await.unwrap();
    assert_eq!(
        exchange(&mut first, &soap_post(PROFILE_ENDPOINT, &read(), &[]))
            .await
            .unwrap()
            .status,
        200
    );
    let second = tokio::spawn(async move {
        let mut tls = connect(addr, Some("consumer")).await.unwrap();
        exchange(&mut tls, &soap_post(PROFILE_ENDPOINT, &read(), &[]))
            .await
            .map(|r| r.status)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second connection was not held");
    drop(first);
    let status = tokio::time::timeout(std::time::Duration::from_secs(5), second)
        .await
        .expect("the held connection was served once the slot freed")
        .unwrap();
    assert_eq!(status.ok(), Some(200));
    server.running.server.shutdown().await;
}
