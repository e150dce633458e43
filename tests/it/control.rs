//! The test-control API over HTTP: reset to a population file, fault injection per
//! contract and person, the request journal; bad input gets a 4xx and changes nothing.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One plain-HTTP request to the admin listener: (status, body).
fn admin(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, String) {
    admin_http(addr, method, path, body, token)
}

fn gpfp(pnr: &str) -> String {
    envelope(&format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension></personId><profile>P1</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        Contract::GetPersonsForProfile.responder_ns()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_faults_and_journal_work_over_http_and_bad_input_changes_nothing() {
    let server = start_server(|c| c.control.enabled = true).await;
    let (soap, adm) = (server.addr(), server.running.admin_addr.unwrap());

    // Reset: a bad file changes nothing; a good one replaces the population.
    let (status, body) = admin(
        adm,
        "POST",
        "/control/reset",
        "{\"personId\":\"191212121213\",\"givenName\":\"X\",\"surname\":\"Y\"}\n",
        None,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("\"line\":1") && body.contains("check digit"),
        "{body}"
    );
    assert_eq!(
        text_of(
            &post(
                soap,
                "consumer",
                PROFILE_ENDPOINT,
                &gpfp("191212121212"),
                &[]
            )
            .await
            .body,
            "givenName"
        ),
        Some("Tolvan")
    );
    let file = "{\"personId\":\"199002026780\",\"givenName\":\"Hanna\",\"surname\":\"Holm\",\"contactInformation\":[{\"contactType\":\"email\",\"value\":\"hanna@example.se\",\"digitalNotification\":true}]}\n";
    let (status, body) = admin(adm, "POST", "/control/reset", file, None);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"inserted\":1") && body.contains("\"contactsSeeded\":1"),
        "{body}"
    );
    assert_eq!(
        text_of(
            &post(
                soap,
                "consumer",
                PROFILE_ENDPOINT,
                &gpfp("191212121212"),
                &[]
            )
            .await
            .body,
            "errorCode"
        ),
        Some("PERSON_NOT_FOUND")
    );

    // Bad fault rules: a clear 400 each, and no rule added.
    for (rule, says) in [
        (
            r#"{"contract":"GetPerson","fault":"server"}"#,
            "is not one of",
        ),
        (
            r#"{"contract":"GetPersonsForProfile","fault":"delay","delayMs":-5}"#,
            "outside 0..=60000",
        ),
        (
            r#"{"contract":"GetPersonsForProfile","fault":"explode"}"#,
            "not one of delay, server",
        ),
        (
            r#"{"contract":"GetPersonsForProfile","fault":"server","count":0}"#,
            "at least 1",
        ),
        (
            r#"{"contract":"GetPersonsForProfile","fault":"server","colour":"red"}"#,
            "unknown field",
        ),
    ] {
        let (status, body) = admin(adm, "POST", "/control/faults", rule, None);
        assert_eq!(status, 400, "{rule}: {body}");
        assert!(
            body.contains(says) && body.contains("nothing was changed"),
            "{rule}: {body}"
        );
    }
    assert_eq!(
        admin(adm, "GET", "/control/faults", "", None).1.trim(),
        "[]"
    );

    // A soap:Server Fault once, for one person only.
    let (status, _) = admin(
        adm,
        "POST",
        "/control/faults",
        r#"{"contract":"GetPersonsForProfile","person":"199002026780","fault":"server","count":1}"#,
        None,
    );
    assert_eq!(status, 201);
    assert_eq!(
        post(
            soap,
            "consumer",
            PROFILE_ENDPOINT,
            &gpfp("191212121212"),
            &[]
        )
        .await
        .status,
        200,
        "another person is not affected"
    );
    let faulted = post(
        soap,
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("199002026780"),
        &[],
    )
    .await;
    assert_eq!(
        (faulted.status, text_of(&faulted.body, "faultcode")),
        (500, Some("soap:Server")),
        "{}",
        faulted.body
    );
    assert_eq!(
        post(
            soap,
            "consumer",
            PROFILE_ENDPOINT,
            &gpfp("199002026780"),
            &[]
        )
        .await
        .status,
        200,
        "count used up"
    );
    // 503, a delay, a closed connection.
    admin(
        adm,
        "POST",
        "/control/faults",
        r#"{"contract":"GetPersonsForProfile","fault":"unavailable","count":1}"#,
        None,
    );
    let unavailable = post(
        soap,
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("199002026780"),
        &[],
    )
    .await;
    assert_eq!(
        (unavailable.status, unavailable.header("retry-after")),
        (503, Some("1"))
    );
    admin(
        adm,
        "POST",
        "/control/faults",
        r#"{"contract":"GetPersonsForProfile","fault":"delay","delayMs":400,"count":1}"#,
        None,
    );
    let t = Instant::now();
    assert_eq!(
        post(
            soap,
            "consumer",
            PROFILE_ENDPOINT,
            &gpfp("199002026780"),
            &[]
        )
        .await
        .status,
        200
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    admin(
        adm,
        "POST",
        "/control/faults",
        r#"{"contract":"GetPersonsForProfile","fault":"close","count":1}"#,
        None,
    );
    let mut tls = connect(soap, Some("consumer")).await.unwrap();
    assert!(
        exchange(
            &mut tls,
            &soap_post(PROFILE_ENDPOINT, &gpfp("199002026780"), &[])
        )
        .await
        .is_err(),
        "answered instead of closing"
    );
    assert_eq!(admin(adm, "DELETE", "/control/faults", "", None).0, 200);

    // The journal: the last calls, without personal data.
    let (status, journal) = admin(adm, "GET", "/control/journal?limit=3", "", None);
    assert_eq!(status, 200);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&journal).unwrap();
    assert_eq!(entries.len(), 3, "{journal}");
    assert!(
        entries
            .iter()
            .all(|e| e["contract"] == "GetPersonsForProfile"
                && e["correlationId"].is_string()
                && e["latencyMs"].is_number()),
        "{journal}"
    );
    assert!(
        !journal.contains("199002026780") && !journal.contains("hanna@example.se"),
        "personal data in the journal: {journal}"
    );
    assert_eq!(
        admin(adm, "GET", "/control/journal?limit=many", "", None).0,
        400
    );
    server.running.server.shutdown().await;
}

// The admin client below blocks: the server needs a worker of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_is_off_by_default_and_needs_its_token_when_one_is_set() {
    let off = start_server(|_| {}).await;
    assert_eq!(
        admin(
            off.running.admin_addr.unwrap(),
            "GET",
            "/control/journal",
            "",
            None
        )
        .0,
        404
    );
    off.running.server.shutdown().await;
    let locked = start_server(|c| {
        c.control.enabled = true;
        c.control.token = Some("s3cret".into());
    })
    .await;
    let adm = locked.running.admin_addr.unwrap();
    assert_eq!(admin(adm, "GET", "/control/journal", "", None).0, 401);
    // A prefix, a longer token, another case, an empty one: all refused alike.
    for wrong in ["wrong", "s3cre", "s3cret2", "S3CRET", ""] {
        assert_eq!(
            admin(adm, "GET", "/control/journal", "", Some(wrong)).0,
            401,
            "{wrong:?}"
        );
    }
    assert_eq!(
        admin(adm, "GET", "/control/journal", "", Some("s3cret")).0,
        200
    );
    locked.running.server.shutdown().await;
    let mut open = test_config(tempfile::tempdir().unwrap().path());
    open.control.enabled = true;
    open.admin_listen = "0.0.0.0:0".into();
    let refused = pu_adapter::app::start(&open)
        .await
        .err()
        .expect("control open to the network without a token");
    assert!(
        refused.to_string().contains("needs control.token"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_64_fault_rules_are_kept_and_the_65th_is_refused() {
    let server = start_server(|c| c.control.enabled = true).await;
    let adm = server.running.admin_addr.unwrap();
    let rule = r#"{"contract":"PingForConfiguration","fault":"server"}"#;
    for n in 1..=64 {
        let (status, body) = admin(adm, "POST", "/control/faults", rule, None);
        assert_eq!(status, 201, "rule {n}: {body}");
    }
    let (status, body) = admin(adm, "POST", "/control/faults", rule, None);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("at most 64 fault rules") && body.contains("nothing was changed"),
        "{body}"
    );
    let rules: Vec<serde_json::Value> =
        serde_json::from_str(&admin(adm, "GET", "/control/faults", "", None).1).unwrap();
    assert_eq!(rules.len(), 64);
    assert_eq!(admin(adm, "DELETE", "/control/faults", "", None).0, 200);
    assert_eq!(admin(adm, "POST", "/control/faults", rule, None).0, 201);
    server.running.server.shutdown().await;
}

/// A reset declaring a body over the limit is answered before any of it is sent; one sent
/// in chunks cut anywhere still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_over_its_limit_is_refused_413_before_the_body_is_read_and_changes_nothing() {
    use std::io::{Read, Write};
    let server = start_server(|c| c.control.enabled = true).await;
    let (soap, adm) = (server.addr(), server.running.admin_addr.unwrap());
    let over = 256 * 1024 * 1024 + 1;
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(adm).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /control/reset HTTP/1.1\r\nHost: localhost\r\nContent-Length: {over}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).map(|_| text)
    })
    .await
    .unwrap()
    .expect("an answer without sending the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("256 MiB") && answer.contains("nothing was changed"),
        "{answer}"
    );
    assert_eq!(
        text_of(
            &post(
                soap,
                "consumer",
                PROFILE_ENDPOINT,
                &gpfp("191212121212"),
                &[]
            )
            .await
            .body,
            "givenName"
        ),
        Some("Tolvan"),
        "the population is as it was"
    );

    // A reset sent in chunks, one ending inside a line and another inside 'å', still works.
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(adm).unwrap();
        write!(s, "POST /control/reset HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").unwrap();
        let line = "{\"personId\":\"199002026780\",\"givenName\":\"H\u{e5}nna\",\"surname\":\"Holm\"}\n".as_bytes();
        let cut = line.iter().position(|&b| b == 0xc3).unwrap() + 1;
        for chunk in [&line[..20], &line[20..cut], &line[cut..]] {
            write!(s, "{:x}\r\n", chunk.len()).unwrap();
            s.write_all(chunk).unwrap();
            s.write_all(b"\r\n").unwrap();
            s.flush().unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        s.write_all(b"0\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(
        text_of(
            &post(
                soap,
                "consumer",
                PROFILE_ENDPOINT,
                &gpfp("199002026780"),
                &[]
            )
            .await
            .body,
            "givenName"
        ),
        Some("H\u{e5}nna")
    );
    server.running.server.shutdown().await;
}
