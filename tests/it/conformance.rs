//! `pu-adapter conformance URL`: every case passes against pu-adapter
//! itself; a deliberately wrong producer gets exit 1 and its failures named, without the
//! personal data it leaks; unusable options or an unreachable producer exit 2.

use crate::common::tls::{connect, exchange};
use crate::common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `pu-adapter serve --ephemeral` on a free port with the dev certificates and demo
/// persons; killed (and its store removed) when dropped.
struct Served {
    child: Child,
    port: u16,
}

impl Served {
    fn start() -> Served {
        let port = free_port();
        let child = bin()
            .args(["serve", "--ephemeral", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--admin-listen", ""])
            .stderr(Stdio::null())
            .spawn()
            .expect("start pu-adapter serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Served { child, port }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // SIGTERM: serve exits cleanly and removes its ephemeral store.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn conformance(args: &[&str]) -> (Option<i32>, String, String, Duration) {
    let started = Instant::now();
    let out = bin()
        .arg("conformance")
        .args(args)
        .output()
        .expect("run pu-adapter conformance");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

/// Schema options for this machine: the published schemas when ../shared is here, and
/// --skip-schema only where xmllint is missing outside CI (xmllint_available asserts in CI).
fn schema_args() -> Vec<String> {
    let mut args = Vec::new();
    if !xmllint_available() {
        args.push("--skip-schema".to_owned());
    } else if let Some(shared) = shared() {
        args.push("--schemas".to_owned());
        args.push(
            shared
                .join("reference-schemas/schemas")
                .display()
                .to_string(),
        );
    }
    args
}

/// The number of conformance cases of a default run (`pu-adapter conformance URL`), and
/// with it the length of `CASES`. Adding a case (to crates/pu-conformance/src/cases/ or the schema
/// cases) means raising this by one and adding its name to `CASES` where it runs (the
/// compiler checks the two agree); where the wrong producer or the Node peer runs it, its
/// verdict goes in their tests' expected lists below. README.md ("For test suites and
/// staging") quotes this count.
const CONFORMANCE_CASES: usize = 76;

/// Every case of a default run, in the order they run and are printed.
const CASES: [&str; CONFORMANCE_CASES] = [
    "wsdl/GetPersonsForProfile",
    "wsdl/GetPersonsForProfileUnrestricted",
    "wsdl/GetPersonContactInformation",
    "wsdl/GetPersonContactInformationUnrestricted",
    "wsdl/UpdatePersonContactInformation",
    "wsdl/UpdatePersonContactInformationUnrestricted",
    "wsdl/PingForConfiguration",
    "PingForConfiguration/answers",
    "GetPersonsForProfile/profile-P1",
    "GetPersonsForProfile/profile-P2",
    "GetPersonsForProfile/profile-P3",
    "GetPersonsForProfile/profile-P4",
    "GetPersonsForProfile/profile-P5",
    "GetPersonsForProfile/rule-1-one-answer-per-id",
    "GetPersonsForProfile/rule-2-referred-id",
    "GetPersonsForProfile/rule-2-linked-reserve-id",
    "GetPersonsForProfile/rule-2-ignore-referred-identity",
    "GetPersonsForProfile/rule-3-protected-P3",
    "GetPersonsForProfile/rule-3-protected-P4",
    "GetPersonsForProfile/PR-7-lifted-protection-stays-hidden",
    "GetPersonsForProfileUnrestricted/protected-gets-asked-profile",
    "GetPersonContactInformation/known-person",
    "GetPersonContactInformation/unknown-person",
    "GetPersonContactInformation/PR-3-protected",
    "GetPersonContactInformationUnrestricted/answers",
    "GetPersonContactInformation/GU-1-child-route",
    "fault/PR-5-Unrestricted-refused-for-plain-consumer",
    "fault/missing-LogicalAddress",
    "fault/empty-LogicalAddress",
    "fault/malformed-envelope",
    "fault/wrong-operation",
    "fault/undefined-profile-P6",
    "fault/too-many-ids-501",
    "fault/GetPersonContactInformation-invalid-id",
    "update/ID-1/valid-samordningsnummer",
    "update/ID-1/invalid-unknown-root",
    "update/ID-2/valid-known-person",
    "update/ID-2/invalid-check-digit",
    "update/ID-2/invalid-unknown-person",
    "update/CT-1/valid-sms-and-email",
    "update/CT-1/invalid-phone-type",
    "update/CT-2/valid-no-qualifiers",
    "update/CT-2/invalid-use-qualifier",
    "update/CT-3/valid-one-of-each",
    "update/CT-3/invalid-two-sms",
    "update/CT-4/valid-e164",
    "update/CT-4/invalid-national-form",
    "update/CT-4/invalid-trunk-prefix-kept",
    "update/CT-5/valid-idn-address",
    "update/CT-5/invalid-display-name",
    "update/CT-6/valid-without-contact-person",
    "update/CT-6/invalid-contact-person",
    "update/DN-1/valid-false-kept",
    "update/DN-1/invalid-missing-digitalNotification",
    "update/DN-2/valid-optout-with-digital-entry",
    "update/DN-2/invalid-optout-without-digital-entry",
    "update/CO-1/valid-professional-actor",
    "update/CO-1/invalid-other-private-person",
    "update/CO-3/invalid-stale-version",
    "update/CO-3/valid-current-version",
    "update/CO-3/invalid-stale-removal",
    "update/PR-2/invalid-protected-person",
    "update/PR-2/valid-protected-withdraws-all",
    "update/PR-6/invalid-deceased",
    "update/PR-6/valid-deceased-read",
    "update/Unrestricted/valid",
    "update/Unrestricted/PR-2-invalid-protected",
    "update/CO-2/valid-remove-all",
    "schema/GetPersonsForProfile",
    "schema/GetPersonsForProfileUnrestricted",
    "schema/GetPersonContactInformation",
    "schema/GetPersonContactInformationUnrestricted",
    "schema/UpdatePersonContactInformation",
    "schema/UpdatePersonContactInformationUnrestricted",
    "schema/PingForConfiguration",
    "schema/SOAP-1.1-Fault",
];

/// The cases that validate the collected answers with xmllint, skipped by --skip-schema.
fn schema_cases() -> Vec<&'static str> {
    CASES
        .into_iter()
        .filter(|c| c.starts_with("schema/"))
        .collect()
}

/// A run's report: each case's verdict (PASS, FAIL or SKIP) and name, in printed order.
fn verdicts(stdout: &str) -> Vec<(&str, &str)> {
    stdout
        .lines()
        .filter_map(|l| {
            let (verdict, rest) = l.split_once("  ")?;
            ["PASS", "FAIL", "SKIP"].contains(&verdict).then(|| {
                let name = rest.split_once(": ").map_or(rest, |(name, _)| name);
                (verdict, name)
            })
        })
        .collect()
}

/// The names of the cases with `verdict`, in printed order.
fn named<'a>(report: &[(&str, &'a str)], verdict: &str) -> Vec<&'a str> {
    report
        .iter()
        .filter(|(v, _)| *v == verdict)
        .map(|(_, name)| *name)
        .collect()
}

/// Asserts the run's total line: `cases` cases, split as given.
fn assert_total(stdout: &str, url: &str, cases: usize, failed: usize, skipped: usize) {
    let total = format!(
        "conformance of {url}: {cases} cases, {} passed, {failed} failed, {skipped} skipped",
        cases - failed - skipped
    );
    assert!(
        stdout.lines().any(|l| l == total),
        "no line {total:?} in:\n{stdout}"
    );
}

#[test]
fn conformance_every_case_passes_against_pu_adapter_itself() {
    let served = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("conformance.xml");
    let url = format!("https://localhost:{}", served.port);
    let mut args = vec![url.clone(), "--junit".into(), junit.display().to_string()];
    args.extend(schema_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr, took) = conformance(&args);
    eprintln!("conformance against pu-adapter took {took:?}");
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    // Every case runs, in order, and passes; the schema cases need xmllint, and where it is
    // missing (outside CI) they are skipped, the skip printed above.
    let report = verdicts(&stdout);
    let names: Vec<&str> = report.iter().map(|(_, name)| *name).collect();
    assert_eq!(names, CASES, "{stdout}");
    assert_eq!(named(&report, "FAIL"), Vec::<&str>::new(), "{stdout}");
    let skipped = if xmllint_available() {
        Vec::new()
    } else {
        schema_cases()
    };
    assert_eq!(named(&report, "SKIP"), skipped, "{stdout}");
    assert_total(&stdout, &url, CONFORMANCE_CASES, 0, skipped.len());

    // The JUnit file parses and has one testcase per case, none failed.
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    pu_adapter::xml::parse(xml.as_bytes(), pu_adapter::xml::Limits::default())
        .expect("the JUnit file is well-formed XML");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), CONFORMANCE_CASES);

    // Repeatable: a second full run against the same store passes too (every update is
    // sent at the version it finds).
    let (code, stdout, _, _) = conformance(&[&url, "--skip-schema"]);
    assert_eq!(code, Some(0), "second run:\n{stdout}");
    assert_eq!(
        named(&verdicts(&stdout), "SKIP"),
        schema_cases(),
        "{stdout}"
    );
    assert_total(&stdout, &url, CONFORMANCE_CASES, 0, schema_cases().len());
    // A read-only run: the writes (every update/ case but the read of the deceased) are
    // skipped by name.
    let (code, stdout, _, _) = conformance(&[&url, "--no-writes", "--skip-schema"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("SKIP  update/CT-1/invalid-phone-type: writes (--no-writes)"));
    let writes = CASES
        .into_iter()
        .filter(|c| c.starts_with("update/") && *c != "update/PR-6/valid-deceased-read");
    let skipped: Vec<&str> = writes.chain(schema_cases()).collect();
    assert_eq!(named(&verdicts(&stdout), "SKIP"), skipped, "{stdout}");
    assert_total(&stdout, &url, CONFORMANCE_CASES, 0, skipped.len());
}

/// The wrong producer: a TLS front for a real pu-adapter that answers P4 with a
/// soap:Server Fault naming the person, echoes the request's identifier in every Fault,
/// repairs a national phone number before the update reaches the store (accepting what
/// CT-4 refuses), shows an address of a lifted protection's protected period in P5
/// (PR-7), and answers Ping with an element the schema does not know.
async fn wrong_producer(listener: tokio::net::TcpListener, upstream: SocketAddr) {
    fake_producer(listener, upstream, Front::Wrong).await;
}

/// How a fake producer in front of a real pu-adapter misbehaves.
#[derive(Debug, Clone, Copy)]
enum Front {
    /// `misbehave`: the wrong producer.
    Wrong,
    /// `echo_personal_data`: the echoing producer.
    Echoing,
}

/// A TLS front for a real pu-adapter at `upstream` that rewrites requests and answers as
/// `front` says.
async fn fake_producer(listener: tokio::net::TcpListener, upstream: SocketAddr, front: Front) {
    let certs = repo().join("certs-dev");
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(certs.join("server.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_file(certs.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let Some((head, body)) = read_request(&mut tls).await else {
                return;
            };
            let (status, body) = match front {
                Front::Wrong => misbehave(upstream, &head, body).await,
                Front::Echoing => echo_personal_data(upstream, &head, &body).await,
            };
            let reason = if status == 200 { "OK" } else { "Error" };
            let response = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.write_all(response.as_bytes()).await;
            let _ = tls.shutdown().await;
        });
    }
}

async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, String::from_utf8_lossy(&body).into_owned()))
}

/// The first 12-digit run in `text`: the identifier the request names.
fn first_identifier(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(11)).find_map(|i| {
        let run = &b[i..i + 12];
        let bounded = i == 0 || !b[i - 1].is_ascii_digit();
        let ends = b.get(i + 12).is_none_or(|c| !c.is_ascii_digit());
        (bounded && ends && run.iter().all(u8::is_ascii_digit)).then(|| &text[i..i + 12])
    })
}

async fn misbehave(upstream: SocketAddr, head: &str, body: String) -> (u16, String) {
    let (_, path) = request_path(head);
    let person = first_identifier(&body).unwrap_or("000000000000").to_owned();
    if path.starts_with("/GetPersonsForProfile/") && body.contains("<profile>P4</profile>") {
        return (
            500,
            format!("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>P4 is not available for {person} (logId 6f1c0a52-7d7e-4c51-9a0e-0c2b7d5e9f11)</faultstring></soap:Fault></soap:Body></soap:Envelope>"),
        );
    }
    // Accepts what CT-4 refuses: the national form, silently repaired.
    let body = body.replace(">0701112241<", ">+46701112241<");
    let (status, mut text) = forward(upstream, head, &body).await;
    // Shows the address that applied while Greta Gömd was protected as her latest former
    // address, where the real producer shows the one before the protection (PR-7).
    if path.starts_with("/GetPersonsForProfile/") {
        text = text.replace(">Andra gatan 2<", ">Skyddade stigen 7<");
    }
    if status == 500 {
        text = text.replace(
            "</faultstring>",
            &format!(" (person {person})</faultstring>"),
        );
    }
    if path.starts_with("/PingForConfiguration/") && !path.contains('?') {
        text = text
            .replace("<version>", "<versionNumber>")
            .replace("</version>", "</versionNumber>");
    }
    (status, text)
}

/// The request line of `head`, and its path.
fn request_path(head: &str) -> (String, String) {
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    (request_line, path)
}

/// Sends the request (`head`'s method and path, `body`) to the real producer as the plain
/// consumer; its status and body.
async fn forward(upstream: SocketAddr, head: &str, body: &str) -> (u16, String) {
    let (request_line, path) = request_path(head);
    let request = if request_line.starts_with("GET ") {
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    } else {
        format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let mut conn = connect(upstream, Some("consumer")).await.unwrap();
    let answer = exchange(&mut conn, request.as_bytes()).await.unwrap();
    (answer.status, answer.body)
}

/// Personal data the echoing producer puts in its Faults and answers: a name, a street
/// address and a phone number formatted for people (digit runs too short to look like an
/// identifier).
const ECHOED_NAME: &str = "Sven Svensson";
const ECHOED_STREET: &str = "Storgatan 12";
const ECHOED_PHONE: &str = "+46 70 123 45 67";

/// `xml` with the text of every element named `local` (any prefix) replaced by `value`.
fn set_text(xml: &str, local: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let tag_end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[..tag_end];
        let name = tag[1..]
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()
            .unwrap_or_default();
        let named = name.rsplit(':').next() == Some(local) && !tag.ends_with("/>");
        out.push_str(tag);
        rest = &rest[tag_end..];
        if named && !name.is_empty() {
            let text_end = rest.find("</").unwrap_or(rest.len());
            out.push_str(value);
            rest = &rest[text_end..];
        }
    }
    out.push_str(rest);
    out
}

/// The echoing producer: a real pu-adapter behind a front that puts a name, a street
/// address and a formatted phone number in every Fault, Faults GetPersonsForProfile P3
/// with them, and answers with them where codes and times belong (pingDateTime, GU-1's
/// route, every errorCode).
async fn echo_personal_data(upstream: SocketAddr, head: &str, body: &str) -> (u16, String) {
    let (_, path) = request_path(head);
    let personal = format!("{ECHOED_NAME}, {ECHOED_STREET}, {ECHOED_PHONE}");
    if path.starts_with("/GetPersonsForProfile/") && body.contains("<profile>P3</profile>") {
        return (
            500,
            format!("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>P3 is not available for {personal} (logId 6f1c0a52-7d7e-4c51-9a0e-0c2b7d5e9f11)</faultstring></soap:Fault></soap:Body></soap:Envelope>"),
        );
    }
    let (status, mut text) = forward(upstream, head, body).await;
    if status == 500 {
        text = text.replace("</faultstring>", &format!(" ({personal})</faultstring>"));
    }
    text = set_text(&text, "pingDateTime", ECHOED_STREET);
    text = set_text(&text, "route", ECHOED_NAME);
    text = set_text(&text, "errorCode", ECHOED_PHONE);
    (status, text)
}

#[test]
fn conformance_names_the_failures_of_a_wrong_producer_without_its_personal_data() {
    let served = Served::start();
    let upstream: SocketAddr = ([127, 0, 0, 1], served.port).into();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(wrong_producer(listener, upstream));
    let url = format!("https://localhost:{port}");
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("wrong.xml");
    let junit_arg = junit.display().to_string();
    // The front presents the plain consumer upstream, so no Unrestricted consumer here.
    let mut args = vec![url.as_str(), "--no-unrestricted", "--junit", &junit_arg];
    let skip = !xmllint_available();
    if skip {
        args.push("--skip-schema");
    }
    let (code, stdout, stderr, took) = conformance(&args);
    eprintln!("conformance against the wrong producer took {took:?}:\n{stdout}");
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    // Exactly these fail, with what it does wrong; what it does not break passes.
    let mut expected_failures = vec![
        "PingForConfiguration/answers",
        "GetPersonsForProfile/profile-P4",
        "GetPersonsForProfile/rule-3-protected-P4",
        "GetPersonsForProfile/PR-7-lifted-protection-stays-hidden",
        "fault/missing-LogicalAddress",
        "fault/empty-LogicalAddress",
        "fault/malformed-envelope",
        "fault/wrong-operation",
        "fault/undefined-profile-P6",
        "fault/too-many-ids-501",
        "fault/GetPersonContactInformation-invalid-id",
        "update/CT-4/invalid-national-form",
    ];
    // Skipped: what needs the Unrestricted consumer, and the schema cases of its answers.
    let mut expected_skips = vec![
        "GetPersonsForProfileUnrestricted/protected-gets-asked-profile",
        "GetPersonContactInformationUnrestricted/answers",
        "fault/PR-5-Unrestricted-refused-for-plain-consumer",
        "update/Unrestricted/valid",
        "update/Unrestricted/PR-2-invalid-protected",
    ];
    if skip {
        expected_skips.extend(schema_cases());
    } else {
        expected_skips.extend([
            "schema/GetPersonsForProfileUnrestricted",
            "schema/GetPersonContactInformationUnrestricted",
            "schema/UpdatePersonContactInformationUnrestricted",
        ]);
        expected_failures.push("schema/PingForConfiguration");
    }
    let report = verdicts(&stdout);
    let names: Vec<&str> = report.iter().map(|(_, name)| *name).collect();
    assert_eq!(names, CASES, "{stdout}");
    assert_eq!(named(&report, "FAIL"), expected_failures, "{stdout}");
    assert_eq!(named(&report, "SKIP"), expected_skips, "{stdout}");
    assert_total(
        &stdout,
        &url,
        CONFORMANCE_CASES,
        expected_failures.len(),
        expected_skips.len(),
    );
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    let mut expected = vec![
        "GetPersonsForProfile/profile-P4: expected a GetPersonsForProfileResponse (HTTP 200), found a SOAP Fault soap:Server",
        "GetPersonsForProfile/rule-3-protected-P4",
        "fault/missing-LogicalAddress: the Fault carries personal data of the request: personal identifier",
        "fault/malformed-envelope",
        "fault/GetPersonContactInformation-invalid-id",
        "update/CT-4/invalid-national-form: expected resultCode ERROR, found OK; expected errorCode INVALID_PHONE_NUMBER, found none; the stored state changed",
        "PingForConfiguration/answers: expected a version, found none",
        "GetPersonsForProfile/PR-7-lifted-protection-stays-hidden: an address that applied while the person was protected shows on the restricted contract (PR-7) in P5 populationRegistrationRecord/historicalRecords/historicalAddress (values not shown); reading P4: expected a GetPersonsForProfileResponse (HTTP 200), found a SOAP Fault soap:Server",
    ];
    if !skip {
        expected.push("schema/PingForConfiguration: 1 of 1 answers invalid");
    }
    for e in &expected {
        assert!(
            failed.iter().any(|l| l.starts_with(&format!("FAIL  {e}"))),
            "no failure {e:?} in:\n{stdout}"
        );
    }
    // The report names failures, never the personal data the producer leaked.
    for person in [
        "201806051239",
        "191212121212",
        "197001013452",
        "1806051239",
        "196802022381",
        "Skyddade stigen",
    ] {
        assert!(
            !stdout.contains(person),
            "{person} in the report:\n{stdout}"
        );
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    pu_adapter::xml::parse(xml.as_bytes(), pu_adapter::xml::Limits::default()).unwrap();
    assert_eq!(
        xml.matches("<failure ").count(),
        failed.len(),
        "one JUnit failure per FAIL line"
    );
    assert!(!xml.contains("201806051239"));
    rt.shutdown_background();
}

#[test]
fn conformance_reports_never_quote_what_an_echoing_producer_answers() {
    assert_eq!(
        set_text(
            "<a><r:errorCode xmlns:r=\"urn:r\">X</r:errorCode><b/><route>y</route></a>",
            "errorCode",
            "Z"
        ),
        "<a><r:errorCode xmlns:r=\"urn:r\">Z</r:errorCode><b/><route>y</route></a>"
    );
    let served = Served::start();
    let upstream: SocketAddr = ([127, 0, 0, 1], served.port).into();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(fake_producer(listener, upstream, Front::Echoing));
    let url = format!("https://localhost:{port}");
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("echoing.xml");
    let junit_arg = junit.display().to_string();
    let mut args = vec![url.as_str(), "--no-unrestricted", "--junit", &junit_arg];
    if !xmllint_available() {
        args.push("--skip-schema");
    }
    let (code, stdout, stderr, _) = conformance(&args);
    rt.shutdown_background();
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    // It fails where it put personal data instead of a code or a time...
    let report = verdicts(&stdout);
    for case in [
        "PingForConfiguration/answers",
        "GetPersonsForProfile/profile-P3",
        "GetPersonsForProfile/rule-1-one-answer-per-id",
        "GetPersonContactInformation/GU-1-child-route",
        "update/CT-4/invalid-national-form",
    ] {
        assert!(
            named(&report, "FAIL").contains(&case),
            "{case} did not fail:\n{stdout}"
        );
    }
    // ...and neither the report nor the JUnit file quotes any of it.
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    for echoed in [
        ECHOED_NAME,
        "Svensson",
        ECHOED_STREET,
        "Storgatan",
        ECHOED_PHONE,
        "70 123 45 67",
    ] {
        assert!(
            !stdout.contains(echoed),
            "{echoed:?} in the report:\n{stdout}"
        );
        assert!(
            !xml.contains(echoed),
            "{echoed:?} in the JUnit file:\n{xml}"
        );
    }
}

#[test]
fn conformance_exits_2_when_nothing_can_run() {
    // Nothing listens on a fresh free port.
    let url = format!("https://localhost:{}", free_port());
    let (code, _, stderr, _) = conformance(&[&url, "--timeout", "3"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be reached"), "{stderr}");

    let (code, _, stderr, _) = conformance(&[&url, "--cert", "/nonexistent/client.pem"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/client.pem"), "{stderr}");

    let (code, _, stderr, _) = conformance(&["http://localhost:8443"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("https://"), "{stderr}");

    // A pattern that selects no case is a usage error, before any connection.
    let (code, _, stderr, _) = conformance(&[&url, "--only", "no-such-case"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no-such-case"), "{stderr}");

    // A usage error of clap's own is 2 as well.
    let (code, _, _, _) = conformance(&["https://localhost:1", "--no-such-option"]);
    assert_eq!(code, Some(2));
}

/// The benchmark's Node peer (npm `soap`, GetPersonsForProfile only, from our WSDL): a real
/// producer built by someone else's toolkit. Its mistakes are named: no Faults for a
/// missing LogicalAddress or an undefined profile, the core elements of its answers in the
/// responder namespace (schema-invalid), and the other contracts not served at all.
#[test]
fn conformance_names_what_the_node_peer_gets_wrong() {
    let soap = repo().join("tests/interop/node/node_modules/soap");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !node {
        Some("node (apt-get install nodejs)")
    } else if !soap.is_dir() {
        Some("the npm package soap in tests/interop/node/node_modules (npm ci there; apt-get install npm)")
    } else {
        None
    };
    if let Some(missing) = missing {
        // As xmllint and PostgreSQL: in CI a missing tool fails the test, naming it.
        assert!(
            std::env::var_os("CI").is_none(),
            "the Node-peer conformance test needs {missing}: required in CI"
        );
        eprintln!("skipped: the Node-peer conformance test needs {missing}");
        return;
    }
    let port = free_port();
    let mut peer = std::process::Command::new("node")
        .arg("benches/node-peer/server.js")
        .arg(port.to_string())
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the Node peer");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the Node peer did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Listening is not answering yet on a busy machine: wait for its WSDL once.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let upstream: SocketAddr = ([127, 0, 0, 1], port).into();
    let ready = rt.block_on(async {
        let request = b"GET /GetPersonsForProfile/5/rivtabp21?wsdl HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        while Instant::now() < deadline {
            if let Ok(mut conn) = connect(upstream, Some("consumer")).await {
                let answer = tokio::time::timeout(
                    Duration::from_secs(10),
                    exchange(&mut conn, request),
                )
                .await;
                if answer.is_ok_and(|a| a.is_ok()) {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    });
    assert!(ready, "the Node peer does not answer");
    let url = format!("https://localhost:{port}");
    // Its population is synthetic (benches/common): the first person is pnr(0).
    let mut args = vec![
        url.as_str(),
        "--person",
        "193001010002",
        "--no-unrestricted",
        "--no-writes",
        "--timeout",
        "3",
        // What it serves, and one contract it does not (each silent endpoint costs a timeout).
        "--only",
        "GetPersonsForProfile/",
        "--only",
        "fault/",
        "--only",
        "wsdl/PingForConfiguration",
        "--only",
        "wsdl/GetPersonsForProfile",
    ];
    let skip = !xmllint_available();
    if skip {
        args.push("--skip-schema");
    }
    let (code, stdout, stderr, took) = conformance(&args);
    let _ = peer.kill();
    let _ = peer.wait();
    eprintln!("conformance against the Node peer took {took:?}:\n{stdout}");
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    // Exactly these pass: its GetPersonsForProfile WSDL, and no record when the referred
    // identity is to be ignored.
    let passes = [
        "wsdl/GetPersonsForProfile",
        "GetPersonsForProfile/rule-2-ignore-referred-identity",
    ];
    // Exactly these fail: the contracts it does not serve, its answers without the core
    // namespace (no personRecord, no requestedPersonalIdentity found where the schema puts
    // them), and no Fault where the contract demands one.
    let mut failures = vec![
        "wsdl/GetPersonsForProfileUnrestricted",
        "wsdl/PingForConfiguration",
        "GetPersonsForProfile/profile-P1",
        "GetPersonsForProfile/profile-P2",
        "GetPersonsForProfile/profile-P3",
        "GetPersonsForProfile/profile-P4",
        "GetPersonsForProfile/profile-P5",
        "GetPersonsForProfile/rule-1-one-answer-per-id",
        "GetPersonsForProfile/rule-2-referred-id",
        "GetPersonsForProfile/rule-2-linked-reserve-id",
        "GetPersonsForProfile/rule-3-protected-P3",
        "GetPersonsForProfile/rule-3-protected-P4",
        "fault/missing-LogicalAddress",
        "fault/empty-LogicalAddress",
        "fault/malformed-envelope",
        "fault/wrong-operation",
        "fault/undefined-profile-P6",
        "fault/too-many-ids-501",
        "fault/GetPersonContactInformation-invalid-id",
    ];
    // PR-7 needs a person whose protection was lifted: the peer's population has none (nor
    // a personRecord where the kit looks), and the skip says what to give.
    let mut skips = vec![
        "GetPersonsForProfile/PR-7-lifted-protection-stays-hidden",
        "fault/PR-5-Unrestricted-refused-for-plain-consumer",
    ];
    if skip {
        skips.extend(schema_cases());
    } else {
        failures.extend(["schema/GetPersonsForProfile", "schema/SOAP-1.1-Fault"]);
        skips.extend(schema_cases().into_iter().filter(|c| !failures.contains(c)));
    }
    let report = verdicts(&stdout);
    assert_eq!(named(&report, "PASS"), passes, "{stdout}");
    assert_eq!(named(&report, "FAIL"), failures, "{stdout}");
    assert_eq!(named(&report, "SKIP"), skips, "{stdout}");
    // The selected cases and the schema cases, in the order of a full run.
    let names: Vec<&str> = report.iter().map(|(_, name)| *name).collect();
    let selected: Vec<&str> = CASES.into_iter().filter(|c| names.contains(c)).collect();
    assert_eq!(names, selected, "{stdout}");
    assert_total(&stdout, &url, names.len(), failures.len(), skips.len());
    for e in [
        "fault/missing-LogicalAddress: expected a soap:Client Fault (HTTP 500), found",
        "fault/undefined-profile-P6: expected a soap:Client Fault (HTTP 500), found",
        "wsdl/PingForConfiguration: no answer",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("FAIL  {e}"))),
            "no failure {e:?} in:\n{stdout}"
        );
    }
    assert!(!stdout.contains("193001010002"), "{stdout}");
}

/// The kit states the contracts' names, namespaces and paths itself (so that a mistake in
/// the service's table is not shared by the kit that judges it); both statements agree.
#[test]
fn conformance_kit_and_service_state_the_same_contracts() {
    let kit = pu_conformance::Contract::ALL;
    let service = pu_adapter::contracts::Contract::ALL;
    assert_eq!(kit.len(), service.len());
    for (k, s) in kit.into_iter().zip(service) {
        assert_eq!(k.name(), s.name());
        assert_eq!(k.version(), s.version(), "{}", s.name());
        assert_eq!(k.responder_ns(), s.responder_ns(), "{}", s.name());
        assert_eq!(k.path(), s.path(), "{}", s.name());
        assert_eq!(k.response_element(), s.response_element(), "{}", s.name());
    }
}

/// The dependency arrow points from the service binary to the kit, never back: the kit's
/// manifest names no crate of the service.
#[test]
fn conformance_kit_does_not_depend_on_the_service() {
    let manifest = std::fs::read_to_string(repo().join("crates/pu-conformance/Cargo.toml"))
        .expect("crates/pu-conformance/Cargo.toml");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] section");
    assert!(
        !dependencies.contains("pu-adapter") && !dependencies.contains("path ="),
        "the kit depends on the service or another local crate:\n{dependencies}"
    );
}
