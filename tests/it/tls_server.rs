//! The service over real mutual TLS on 127.0.0.1: who gets in, what they may call, how
//! bad requests are answered, and that every answer is schema-valid.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Asserts a refused handshake: either the handshake or the first exchange fails.
async fn assert_refused(addr: std::net::SocketAddr, cert: Option<&str>) {
    match connect(addr, cert).await {
        Err(_) => {}
        Ok(mut tls) => {
            let r = exchange(
                &mut tls,
                &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P3"), &[]),
            )
            .await;
            assert!(r.is_err(), "{cert:?} got an answer: {r:?}");
        }
    }
}

// AC-1: only clients with a certificate from the trusted CA, within its validity, get in.
#[tokio::test]
async fn ac1_no_unknown_or_expired_client_certificate_gets_in() {
    let server = start_server(|_| {}).await;
    assert_refused(server.addr(), None).await;
    assert_refused(server.addr(), Some("stranger")).await;
    assert_refused(server.addr(), Some("expired")).await;
    let ok = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P3"),
        &[],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    server.running.server.shutdown().await;
}

// AC-1: a trusted but unauthorised consumer gets a Fault naming its HSA-id, an audit entry, no data.
#[tokio::test]
async fn ac1_unauthorised_consumer_gets_a_fault_and_no_data() {
    let server = start_server(|_| {}).await;
    let r = post(
        server.addr(),
        "unauthorised",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P3"),
        &[],
    )
    .await;
    assert_eq!(r.status, 500);
    assert_eq!(text_of(&r.body, "faultcode"), Some("soap:Client"));
    assert!(
        r.body
            .contains("Obehörigt anrop för system SE2321000016-1003"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("Tolvan") && !r.body.contains("191212121212"));
    let audit = server
        .running
        .stores
        .audit
        .query(&pu_adapter::audit::AuditQuery {
            consumer: Some("SE2321000016-1003".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0]
            .error_code
            .map(pu_adapter::audit::AuditCode::as_str),
        Some("UNAUTHORISED")
    );
    server.running.server.shutdown().await;
}

// The Unrestricted contracts only for consumers configured for them, and there a protected
// person gets the profile asked for, not the P1 of the restricted contracts (PR-5).
#[tokio::test]
async fn pr5_unrestricted_contracts_give_configured_consumers_the_asked_profile() {
    // Erik (sekretessmarkering) has no contact information in the demo data (PR-2, PR-4):
    // an Unrestricted update (allowed by the rule setting) enters some, so that what only
    // P3 and up carries has something to show.
    let server = start_server(|c| c.rules.unrestricted_may_update_protected = true).await;
    const ERIK: &str = "197001013452";
    let u = Contract::UpdatePersonContactInformationUnrestricted;
    let id = format!("<c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{ERIK}</c:extension>");
    let update = envelope(&format!(
        r#"<{n} xmlns="{ns}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><actor><c:id>{id}</c:id></actor><personId>{id}</personId><contactInformation><c:contactType>sms</c:contactType><c:value>+46701112233</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation></{n}>"#,
        n = u.name(),
        ns = u.responder_ns()
    ));
    let stored = post(server.addr(), "extended", u.path(), &update, &[]).await;
    assert_eq!(
        text_of(&stored.body, "resultCode"),
        Some("OK"),
        "{}",
        stored.body
    );

    let c = Contract::GetPersonsForProfileUnrestricted;
    let body = unrestricted(&gpfp(ERIK, "P3"), Contract::GetPersonsForProfile);
    let refused = post(server.addr(), "consumer", c.path(), &body, &[]).await;
    assert_eq!(refused.status, 500);
    assert!(refused
        .body
        .contains("Obehörigt anrop för system SE2321000016-1001"));
    assert_eq!(text_of(&refused.body, "contactType"), None);

    // Unrestricted P3: the protected person's contact information and its actor (P3), and
    // the current address (P2, contained in P3); P1 carries none of them.
    let allowed = post(server.addr(), "extended", c.path(), &body, &[]).await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(
        text_of(&allowed.body, "protectedPersonIndicator"),
        Some("true")
    );
    assert_eq!(
        texts_of(&allowed.body, "contactType"),
        ["sms"],
        "P3 for the protected person: contactInformation shown: {}",
        allowed.body
    );
    assert!(
        allowed
            .body
            .contains("updatePersonContactInformationActor>"),
        "P3 for the protected person: the contact actor shown: {}",
        allowed.body
    );
    assert!(
        allowed.body.contains("Hemliga vägen 3"),
        "P3 contains P2: the address shown: {}",
        allowed.body
    );

    // The restricted contract answers the same question with P1 (PR-3): none of it.
    let restricted = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp(ERIK, "P3"),
        &[],
    )
    .await;
    assert_eq!(restricted.status, 200, "{}", restricted.body);
    assert_eq!(
        text_of(&restricted.body, "protectedPersonIndicator"),
        Some("true")
    );
    for beyond_p1 in [
        "contactInformation>",
        "updatePersonContactInformationActor>",
        "addressInformation>",
        "Hemliga vägen 3",
        "+46701112233",
    ] {
        assert!(
            !restricted.body.contains(beyond_p1),
            "{beyond_p1} on the restricted contract: {}",
            restricted.body
        );
    }
    server.running.server.shutdown().await;
}

// AC-1: the platform's certificate may name the original consumer; anyone else's header is ignored.
#[tokio::test]
async fn ac1_platform_header_is_honoured_only_from_the_platform() {
    let server = start_server(|_| {}).await;
    let via_platform = post(
        server.addr(),
        "platform",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P1"),
        &[(
            "x-rivta-original-serviceconsumer-hsaid",
            "SE2321000016-1003",
        )],
    )
    .await;
    assert!(
        via_platform
            .body
            .contains("Obehörigt anrop för system SE2321000016-1003"),
        "treated as the named consumer: {}",
        via_platform.body
    );
    let platform_itself = post(
        server.addr(),
        "platform",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P1"),
        &[],
    )
    .await;
    assert_eq!(platform_itself.status, 200);
    let spoofed = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P1"),
        &[(
            "x-rivta-original-serviceconsumer-hsaid",
            "SE2321000016-1003",
        )],
    )
    .await;
    assert_eq!(
        spoofed.status, 200,
        "header from a non-platform certificate is ignored: {}",
        spoofed.body
    );
    server.running.server.shutdown().await;
}

#[tokio::test]
async fn envelope_errors_wrong_operation_and_lenient_soapaction() {
    let server = start_server(|_| {}).await;
    let no_la = gpfp("191212121212", "P3").replace(
        "<itr:LogicalAddress>SE2321000016-LA01</itr:LogicalAddress>",
        "",
    );
    let r = post(server.addr(), "consumer", PROFILE_ENDPOINT, &no_la, &[]).await;
    assert_eq!(r.status, 500);
    assert!(
        text_of(&r.body, "faultstring")
            .unwrap()
            .contains("LogicalAddress header"),
        "{}",
        r.body
    );
    let other = post(
        server.addr(),
        "consumer",
        Contract::GetPersonContactInformation.path(),
        &gpfp("191212121212", "P3"),
        &[],
    )
    .await;
    assert_eq!(other.status, 500);
    assert!(
        other.body.contains("does not belong to this endpoint"),
        "{}",
        other.body
    );
    let odd_action = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P3"),
        &[("SOAPAction", "\"urn:something:else\"")],
    )
    .await;
    assert_eq!(odd_action.status, 200);
    let p6 = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P6"),
        &[],
    )
    .await;
    assert_eq!(p6.status, 500);
    assert!(p6.body.contains("use P1, P2, P3, P4 or P5"), "{}", p6.body);
    let bad_id = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("191212121213", "P1"),
        &[],
    )
    .await;
    // Contract rule #1: a bad id is answered in its own record, never Faulted.
    assert_eq!(bad_id.status, 200, "{}", bad_id.body);
    assert_eq!(
        text_of(&bad_id.body, "errorCode"),
        Some("INVALID_PERSON_ID")
    );
    assert!(
        bad_id
            .body
            .contains("check digit 3 is wrong (expected 2) [ID-2]"),
        "{}",
        bad_id.body
    );
    assert!(!bad_id.body.contains("personRecord>"), "{}", bad_id.body);
    let ids: String = (0..501).map(|_| "<personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>191212121212</c:extension></personId>").collect();
    let many = gpfp("191212121212", "P1").replacen("<personId>", &format!("{ids}<personId>"), 1);
    let r = post(server.addr(), "consumer", PROFILE_ENDPOINT, &many, &[]).await;
    assert!(
        r.body.contains("502 personId elements; at most 500"),
        "{}",
        r.body
    );
    if xmllint_available() {
        for f in [&r.body, &other.body, &p6.body, &bad_id.body] {
            xmllint(&envelope_schema(), f).unwrap();
        }
        let mut schemas = vec![our_schema(Contract::GetPersonsForProfile)];
        schemas.extend(published_schema(Contract::GetPersonsForProfile));
        for schema in schemas {
            xmllint(&schema, payload_of(&bad_id.body)).unwrap();
        }
    }
    server.running.server.shutdown().await;
}

#[tokio::test]
async fn http_level_answers_404_405_415_413_and_wsdl() {
    let server = start_server(|c| c.limits.max_body_bytes = 4096).await;
    let addr = server.addr();
    let mut tls = connect(addr, Some("consumer")).await.unwrap();
    let r = exchange(
        &mut tls,
        b"GET /GetPersonsForProfile/5/rivtabp21?wsdl HTTP/1.1\r\nHost: localhost:1234\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.contains(
        "<soap:address location=\"https://localhost:1234/GetPersonsForProfile/5/rivtabp21\"/>"
    ));
    let x =
        exchange(&mut tls, b"GET /GetPersonsForProfile/5/rivtabp21?xsd=strategicresourcemanagement_persons_person_5.0.xsd HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
    assert!(x.body.contains("ContactInformationType"));
    let r = exchange(
        &mut tls,
        b"GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 404);
    let r = exchange(
        &mut tls,
        b"DELETE /GetPersonsForProfile/5/rivtabp21 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = exchange(
        &mut tls,
        b"POST /GetPersonsForProfile/5/rivtabp21 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 415);
    let r = exchange(
        &mut tls,
        b"POST /GetPersonsForProfile/5/rivtabp21 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/soap+xml\r\nContent-Length: 2\r\n\r\n<a",
    )
    .await
    .unwrap();
    assert_eq!(text_of(&r.body, "faultcode"), Some("soap:VersionMismatch"));
    let big = "x".repeat(5000);
    let r = exchange(&mut tls, &soap_post(PROFILE_ENDPOINT, &big, &[]))
        .await
        .unwrap();
    assert_eq!(r.status, 413);
    let corr = post(
        addr,
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P1"),
        &[("x-skltp-correlation-id", "corr-123")],
    )
    .await;
    assert_eq!(corr.header("x-skltp-correlation-id"), Some("corr-123"));
    server.running.server.shutdown().await;
}

#[tokio::test]
async fn a_stalled_client_is_disconnected_within_the_header_timeout() {
    let server = start_server(|c| c.limits.header_read_timeout_ms = 500).await;
    let mut tls = connect(server.addr(), Some("consumer")).await.unwrap();
    let started = Instant::now();
    for b in b"POST /GetPersonsForProfile/5/rivtabp21 HTTP/1.1\r\nHost: lo" {
        tls.write_all(&[*b]).await.unwrap();
        tls.flush().await.unwrap();
    }
    let closed = tokio::time::timeout(Duration::from_secs(5), read_response(&mut tls)).await;
    // Disconnected: the read ends without a response (EOF or reset), not a timeout, not an answer.
    match closed {
        Ok(Err(_)) => {}
        Ok(Ok(response)) => panic!("answered instead of disconnecting: {response:?}"),
        Err(_) => panic!("not disconnected within 5 s"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    server.running.server.shutdown().await;
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let server = start_server(|_| {}).await;
    let mut tls = connect(server.addr(), Some("consumer")).await.unwrap();
    for _ in 0..20 {
        let r = exchange(
            &mut tls,
            &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P3"), &[]),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200);
    }
    server.running.server.shutdown().await;
}

// PR-3: the restricted contract gives a protected person P1 only, over the wire.
#[tokio::test]
async fn pr3_protected_person_gets_p1_on_the_restricted_contract() {
    let server = start_server(|_| {}).await;
    let r = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("197001013452", "P3"),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    let payload = payload_of(&r.body);
    for absent in [
        "contactInformation",
        "addressInformation",
        "relationship",
        "updatePersonContactInformationActor",
    ] {
        assert!(
            !payload.contains(&format!(":{absent}>")),
            "{absent} shown: {payload}"
        );
    }
    assert_eq!(text_of(payload, "protectedPersonIndicator"), Some("true"));
    if xmllint_available() {
        xmllint(&our_schema(Contract::GetPersonsForProfile), payload).unwrap();
        if let Some(p) = published_schema(Contract::GetPersonsForProfile) {
            xmllint(&p, payload).unwrap();
        }
    }
    server.running.server.shutdown().await;
}

// AC-1: a trusted certificate without a serialNumber names no consumer: a Fault says so.
#[tokio::test]
async fn ac1_certificate_without_serial_number_gets_a_fault_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let certs = repo().join("certs-dev");
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(certs.join("ca.key")).unwrap()).unwrap();
    let ca = rcgen::Issuer::from_ca_cert_pem(
        &std::fs::read_to_string(certs.join("ca.pem")).unwrap(),
        ca_key,
    )
    .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "no serial number");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &ca).unwrap();
    std::fs::write(dir.path().join("noserial.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("noserial.key"), key.serialize_pem()).unwrap();

    let server = start_server(|_| {}).await;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(certs.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    use rustls::pki_types::pem::PemObject;
    let chain =
        vec![
            rustls::pki_types::CertificateDer::from_pem_file(dir.path().join("noserial.pem"))
                .unwrap(),
        ];
    let pk =
        rustls::pki_types::PrivateKeyDer::from_pem_file(dir.path().join("noserial.key")).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, pk)
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    let r = exchange(
        &mut tls,
        &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 500);
    assert!(
        r.body.contains("no subject serialNumber (OID 2.5.4.5)"),
        "{}",
        r.body
    );
    server.running.server.shutdown().await;
}

/// A keep-alive connection outlives the header-read timeout while idle and is closed after
/// the idle timeout: the two are independent.
#[tokio::test]
async fn an_idle_keep_alive_connection_outlives_the_header_timeout_until_the_idle_timeout() {
    let server = start_server(|c| {
        c.limits.header_read_timeout_ms = 300;
        c.limits.idle_timeout_ms = 2_000;
    })
    .await;
    let mut tls = connect(server.addr(), Some("consumer")).await.unwrap();
    let first = exchange(
        &mut tls,
        &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
    )
    .await
    .unwrap();
    assert_eq!(first.status, 200);
    tokio::time::sleep(Duration::from_millis(1_200)).await; // 4× the header timeout, idle
    let again = exchange(
        &mut tls,
        &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
    )
    .await;
    assert_eq!(
        again
            .expect("the idle connection was closed before the idle timeout")
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(3_000)).await; // past the idle timeout
    let closed = exchange(
        &mut tls,
        &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
    )
    .await;
    assert!(
        closed.is_err(),
        "still open after the idle timeout: {closed:?}"
    );
    server.running.server.shutdown().await;
}

/// The documented defaults: 15 s idle (longer than the 10 s header timeout), then a request
/// on the same connection is answered.
#[tokio::test]
async fn a_keep_alive_connection_idle_for_15_s_still_answers_on_the_defaults() {
    let server = start_server(|_| {}).await;
    let mut tls = connect(server.addr(), Some("consumer")).await.unwrap();
    let first = exchange(
        &mut tls,
        &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
    )
    .await
    .unwrap();
    assert_eq!(first.status, 200);
    tokio::time::sleep(Duration::from_secs(15)).await;
    let again = exchange(
        &mut tls,
        &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
    )
    .await;
    assert_eq!(
        again
            .expect("closed after 15 s idle, before the 60 s idle timeout")
            .status,
        200
    );
    server.running.server.shutdown().await;
}

/// A client certificate the CA revoked (`certs-dev/ca.crl.pem`) is refused in the handshake,
/// before any HTTP; a missing CRL file stops the start, naming it.
#[tokio::test]
async fn a_revoked_client_certificate_is_refused_in_the_handshake() {
    let server = start_server(|_| {}).await;
    let revoked = async {
        let mut tls = connect(server.addr(), Some("revoked")).await?;
        exchange(
            &mut tls,
            &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
        )
        .await
    }
    .await;
    let err = revoked.expect_err("a revoked certificate got through");
    assert!(err.to_string().to_lowercase().contains("revoked"), "{err}");
    let ok = post(
        server.addr(),
        "consumer",
        PROFILE_ENDPOINT,
        &gpfp("191212121212", "P1"),
        &[],
    )
    .await;
    assert_eq!(ok.status, 200);
    server.running.server.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.tls.crls = vec![dir.path().join("missing.crl.pem")];
    let refused = pu_adapter::app::start(&config)
        .await
        .err()
        .expect("started without its CRL");
    assert!(refused.to_string().contains("missing.crl.pem"), "{refused}");
}

/// SIGHUP's reload under load: new certificate and consumer list for new connections,
/// open connections keep working, no request fails; a reload that fails changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_load_fails_no_request_and_a_bad_reload_changes_nothing() {
    let server = start_server(|_| {}).await;
    let addr = server.addr();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let (mut sent, mut failed) = (0u32, Vec::new());
            let mut tls = connect(addr, Some("consumer")).await.unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if sent % 5 == 0 {
                    tls = connect(addr, Some("consumer")).await.unwrap(); // new connections too
                }
                match exchange(
                    &mut tls,
                    &soap_post(PROFILE_ENDPOINT, &gpfp("191212121212", "P1"), &[]),
                )
                .await
                {
                    Ok(r) if r.status == 200 => {}
                    other => failed.push(format!("{other:?}")),
                }
                sent += 1;
            }
            (sent, failed)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A new server certificate from the development CA, and the extended consumer removed.
    let certs = repo().join("certs-dev");
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(certs.join("ca.key")).unwrap()).unwrap();
    let ca = rcgen::Issuer::from_ca_cert_pem(
        &std::fs::read_to_string(certs.join("ca.pem")).unwrap(),
        ca_key,
    )
    .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let (cert_file, key_file) = (
        server.dir.path().join("new.pem"),
        server.dir.path().join("new.key"),
    );
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let mut reloaded = test_config(server.dir.path());
    reloaded.tls.cert = Some(cert_file);
    reloaded.tls.key = Some(key_file);
    reloaded
        .consumers
        .retain(|c| c.hsa_id != "SE2321000016-1002");
    server.running.reload(&reloaded).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut bad = reloaded.clone();
    bad.tls.client_ca = Some(server.dir.path().join("missing-ca.pem"));
    let refused = server.running.reload(&bad).unwrap_err().to_string();
    assert!(refused.contains("missing-ca.pem"), "{refused}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (sent, failed) = load.await.unwrap();
    assert!(
        sent > 20 && failed.is_empty(),
        "{} of {sent} requests failed across the reloads: {failed:?}",
        failed.len()
    );
    // New connections get the new certificate (the failed reload kept it).
    let tls = connect(addr, Some("consumer")).await.unwrap();
    let presented = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    assert_eq!(presented.as_ref(), cert.der().as_ref());
    let u = Contract::GetPersonsForProfileUnrestricted;
    let body = unrestricted(&gpfp("191212121212", "P1"), Contract::GetPersonsForProfile);
    let r = post(addr, "extended", u.path(), &body, &[]).await;
    assert!(
        r.body
            .contains("Obehörigt anrop för system SE2321000016-1002"),
        "{}",
        r.body
    );
    server.running.server.shutdown().await;
}
