//! Overload: a consumer flooding the service gets 503 with Retry-After and a connection
//! cap, while another consumer keeps being served.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;

const GPFP: &str = "/GetPersonsForProfile/5/rivtabp21";

fn read() -> String {
    envelope(&format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>191212121212</c:extension></personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_consumer_gets_503_and_others_are_still_served() {
    let server = start_server(|c| c.limits.max_in_flight_per_consumer = 1).await;
    let addr = server.addr();
    let flood: Vec<_> = (0..24)
        .map(|_| {
            tokio::spawn(async move {
                let mut tls = connect(addr, Some("consumer")).await.unwrap();
                let mut statuses = Vec::new();
                for _ in 0..10 {
                    let r = exchange(&mut tls, &soap_post(GPFP, &read(), &[]))
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
        .collect();
    let mut other = Vec::new();
    for _ in 0..10 {
        other.push(post(addr, "extended", GPFP, &read(), &[]).await.status);
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

async fn futures_flatten(tasks: Vec<tokio::task::JoinHandle<Vec<u16>>>) -> Vec<u16> {
    let mut out = Vec::new();
    for t in tasks {
        out.extend(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_certificate_are_capped() {
    let server = start_server(|c| c.limits.max_connections_per_certificate = 3).await;
    let addr = server.addr();
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut tls = connect(addr, Some("consumer")).await.unwrap();
        assert_eq!(
            exchange(&mut tls, &soap_post(GPFP, &read(), &[]))
                .await
                .unwrap()
                .status,
            200
        );
        open.push(tls);
    }
    let refused = match connect(addr, Some("consumer")).await {
        Err(_) => true,
        Ok(mut tls) => exchange(&mut tls, &soap_post(GPFP, &read(), &[]))
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a fourth connection of the same certificate was served"
    );
    assert_eq!(
        post(addr, "extended", GPFP, &read(), &[]).await.status,
        200,
        "another consumer still connects"
    );
    drop(open.pop());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        post(addr, "consumer", GPFP, &read(), &[]).await.status,
        200,
        "a freed slot is usable again"
    );
    server.running.server.shutdown().await;
}
