//! Hostile XML (OWASP XML Security cheat sheet) over mutual TLS: each attack gets a Fault
//! or a 413, no file is read, and the same keep-alive connection still serves the next
//! valid request.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use pu_adapter::testkit::attacks::attacks;

fn valid() -> String {
    envelope(&format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>191212121212</c:extension></personId><profile>P1</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xml_attacks_get_a_fault_and_the_connection_stays_usable() {
    let server = start_server(|_| {}).await;
    let mut tls = connect(server.addr(), Some("consumer")).await.unwrap();
    for (name, body, expect) in attacks(&valid()) {
        let mut req =
            format!("POST {PROFILE_ENDPOINT} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        // An over-limit body is refused from its Content-Length before it is read: send only the headers.
        if body.len() <= 256 * 1024 {
            req.extend_from_slice(&body);
        }
        let r = exchange(&mut tls, &req)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !r.body.contains("root:x:0:0"),
            "{name}: file content leaked"
        );
        if body.len() > 256 * 1024 {
            assert_eq!(r.status, 413, "{name}");
            // A refused body is not read; the client opens a new connection.
            tls = connect(server.addr(), Some("consumer")).await.unwrap();
        } else {
            assert_eq!(r.status, 500, "{name}: {}", r.body);
            assert_eq!(text_of(&r.body, "faultcode"), Some("soap:Client"), "{name}");
            assert!(
                r.body.contains(expect),
                "{name}: {expect:?} not in {}",
                r.body
            );
        }
        let next = exchange(&mut tls, &soap_post(PROFILE_ENDPOINT, &valid(), &[]))
            .await
            .unwrap_or_else(|e| panic!("after {name}: {e}"));
        assert_eq!(next.status, 200, "after {name}: {}", next.body);
    }
    server.running.server.shutdown().await;
}
