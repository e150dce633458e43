//! The consumer integration report against scripted consumers: one with known mistakes
//! (every mistake found, nothing else flagged) and a well-behaved one (no finding); the
//! report, its JUnit file and the console page hold no personal data, even when the call
//! log keeps request bodies.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

const TOKEN: &str = "report-token";

/// Tolvan with a stored sms (so a version exists), Hanna with nothing stored.
const POPULATION: &str = "{\"personId\":\"191212121212\",\"givenName\":\"Tolvan\",\"surname\":\"Tolvansson\",\"contactInformation\":[{\"contactType\":\"sms\",\"value\":\"+46701234567\",\"digitalNotification\":true}]}\n{\"personId\":\"199002026780\",\"givenName\":\"Hanna\",\"surname\":\"Holm\"}\n";
const TOLVAN: &str = "191212121212";
const HANNA: &str = "199002026780";

/// The needles of tests/interop/run.sh's leak_check, and the persons' identifiers.
const NEEDLES: [&str; 17] = [
    "tolvan@example.se",
    "+46701234567",
    "+46701112233",
    "hanna@domän.se",
    "hanna.holm@example.se",
    "hanna.cdata@example.se",
    "raw.accepted@example.se",
    "anna@exempel.se",
    "+46761234569",
    "0701112233",
    "+46731234560",
    "Tolvansson",
    "Tolvan",
    "Eriksson",
    "Hanna Holm",
    TOLVAN,
    HANNA,
];

fn person_id(pnr: &str) -> String {
    format!("<c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension>")
}

fn update(pnr: &str, version: Option<&str>, sms: &str) -> String {
    let version = version
        .map(|v| format!("<versionToUpdate>{v}</versionToUpdate>"))
        .unwrap_or_default();
    let c = Contract::UpdatePersonContactInformation;
    envelope(&format!(
        r#"<{n} xmlns="{ns}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><actor><c:id>{id}</c:id></actor><personId>{id}</personId>{version}<contactInformation><c:contactType>sms</c:contactType><c:value>{sms}</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation></{n}>"#,
        n = c.name(),
        ns = c.responder_ns(),
        id = person_id(pnr)
    ))
}

fn contact_read(pnr: &str) -> String {
    let c = Contract::GetPersonContactInformation;
    envelope(&format!(
        r#"<{n} xmlns="{ns}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId>{id}</personId></{n}>"#,
        n = c.name(),
        ns = c.responder_ns(),
        id = person_id(pnr)
    ))
}

/// A consumer's system: its certificate, a correlation id per call.
struct Consumer {
    soap: SocketAddr,
    cert: &'static str,
    name: &'static str,
    calls: u32,
}

impl Consumer {
    /// A system calling with certificate `cert`, its correlation ids `name-1`, `name-2`, ….
    fn new(soap: SocketAddr, cert: &'static str, name: &'static str) -> Self {
        Consumer {
            soap,
            cert,
            name,
            calls: 0,
        }
    }

    async fn call(&mut self, contract: Contract, body: &str) -> HttpResponse {
        self.calls += 1;
        let correlation = format!("{}-{}", self.name, self.calls);
        post(
            self.soap,
            self.cert,
            contract.path(),
            body,
            &[("x-skltp-correlation-id", &correlation)],
        )
        .await
    }

    async fn update(&mut self, body: &str) -> HttpResponse {
        self.call(Contract::UpdatePersonContactInformation, body)
            .await
    }

    /// Sends an update that must be accepted; its answer.
    async fn update_ok(&mut self, body: &str) -> HttpResponse {
        let answer = self.update(body).await;
        assert_eq!(
            text_of(&answer.body, "resultCode"),
            Some("OK"),
            "{}",
            answer.body
        );
        answer
    }

    /// Reads the stored version of `pnr`'s contact information, then updates it to `sms`
    /// with that version, which must be accepted: correct work, never a finding.
    async fn read_then_update(&mut self, pnr: &str, sms: &str) -> HttpResponse {
        let version = self.read_version(pnr).await;
        self.update_ok(&update(pnr, Some(&version), sms)).await
    }

    /// The HTTP status of a GetPersonsForProfile call.
    async fn profile_status(&mut self, body: &str) -> u16 {
        self.call(Contract::GetPersonsForProfile, body).await.status
    }

    /// The stored version of a person's contact information, as a read shows it.
    async fn read_version(&mut self, pnr: &str) -> String {
        let read = self
            .call(Contract::GetPersonContactInformation, &contact_read(pnr))
            .await;
        text_of(&read.body, "version")
            .expect("a stored version")
            .to_owned()
    }
}

async fn staging_server(personal_data: bool) -> (TestServer, SocketAddr, SocketAddr) {
    let server = start_server(|c| {
        c.control.enabled = true;
        c.control.token = Some(TOKEN.into());
        c.control.journal_personal_data = personal_data;
    })
    .await;
    let (soap, adm) = (server.addr(), server.running.admin_addr.unwrap());
    let (status, body) = admin_http(adm, "POST", "/control/reset", POPULATION, Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    (server, soap, adm)
}

/// One 503 (Retry-After: 1) for the next GetPersonsForProfile call.
fn inject_one_unavailable(adm: SocketAddr) {
    let (status, body) = admin_http(
        adm,
        "POST",
        "/control/faults",
        r#"{"contract":"GetPersonsForProfile","fault":"unavailable","count":1}"#,
        Some(TOKEN),
    );
    assert_eq!(status, 201, "{body}");
}

/// `pu-adapter report` against the admin listener at `adm`, with the token.
fn report_cli(adm: SocketAddr) -> std::process::Command {
    let mut cli = bin();
    cli.args([
        "report",
        "--admin",
        &format!("http://{adm}"),
        "--token",
        TOKEN,
    ]);
    cli
}

fn report(adm: SocketAddr, query: &str) -> serde_json::Value {
    let (status, body) = admin_http(
        adm,
        "GET",
        &format!("/control/report?{query}"),
        "",
        Some(TOKEN),
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a JSON report")
}

/// (consumer, check/rule, count) of every finding.
fn findings(report: &serde_json::Value) -> BTreeSet<(String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["consumer"].as_str().unwrap().to_owned(),
                format!(
                    "{}/{}",
                    f["check"].as_str().unwrap(),
                    f["rule"].as_str().unwrap()
                ),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn assert_no_personal_data(what: &str, text: &str) {
    for needle in NEEDLES {
        assert!(
            !text.contains(needle),
            "{what} contains {needle:?}:\n{text}"
        );
    }
}

// The admin client blocks: the server needs a worker of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_finds_every_scripted_mistake_and_nothing_else_without_personal_data() {
    // The call log keeps request bodies here: the report must still show none of them.
    let (server, soap, adm) = staging_server(true).await;
    let mut sloppy = Consumer::new(soap, "consumer", "sloppy");

    // Correct work first, which must not be flagged: a read, an update with the version
    // read, another with the version the update answered with.
    let updated = sloppy.read_then_update(TOLVAN, "+46701112233").await;
    let version = text_of(&updated.body, "version").unwrap().to_owned();
    sloppy
        .update_ok(&update(TOLVAN, Some(&version), "+46731234560"))
        .await;

    // CT-4 broken twice, then the first refused update sent again unchanged.
    let national = update(HANNA, None, "0701112233");
    for body in [
        &national,
        &update(HANNA, None, "+46 70 111 22 33"),
        &national,
    ] {
        let refused = sloppy.update(body).await;
        assert_eq!(
            text_of(&refused.body, "ruleId"),
            Some("CT-4"),
            "{}",
            refused.body
        );
    }
    // Another system changes Tolvan (correctly); the sloppy one then updates with the
    // version it kept instead of reading the current one: a CO-3 conflict.
    let mut extended = Consumer::new(soap, "extended", "extended");
    extended.read_then_update(TOLVAN, "+46701234567").await;
    let stale = sloppy
        .update(&update(TOLVAN, Some(&version), "+46761234569"))
        .await;
    assert_eq!(
        text_of(&stale.body, "ruleId"),
        Some("CO-3"),
        "{}",
        stale.body
    );
    // A request the contract does not allow: profile P7.
    let p7 = sloppy
        .call(Contract::GetPersonsForProfile, &gpfp(TOLVAN, "P7"))
        .await;
    assert_eq!(p7.status, 500, "{}", p7.body);
    // A 503 with Retry-After: 1, retried at once.
    inject_one_unavailable(adm);
    let read = gpfp(HANNA, "P3");
    assert_eq!(sloppy.profile_status(&read).await, 503);
    assert_eq!(sloppy.profile_status(&read).await, 200);
    // The other consumer reads through an Unrestricted contract.
    let unrestricted_read =
        unrestricted(&contact_read(HANNA), Contract::GetPersonContactInformation);
    let answered = extended
        .call(
            Contract::GetPersonContactInformationUnrestricted,
            &unrestricted_read,
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.body);

    let all = report(adm, "");
    let expected: BTreeSet<(String, String, u64)> = [
        (CONSUMER, "refused-update/CT-4", 3),
        (CONSUMER, "resent-unchanged/CT-4", 1),
        (CONSUMER, "update-without-read/CO-3", 1),
        (CONSUMER, "malformed-request/UNSUPPORTED_PROFILE", 1),
        (CONSUMER, "retry-before-retry-after/HTTP-503", 1),
        (EXTENDED, "unrestricted-call/PR-5", 1),
    ]
    .into_iter()
    .map(|(c, n, k)| (c.to_owned(), n.to_owned(), k))
    .collect();
    assert_eq!(findings(&all), expected, "{all:#}");
    // Each finding names one of its calls to look it up by.
    let resent = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "resent-unchanged")
        .unwrap();
    assert_eq!(resent["correlationId"], "sloppy-6", "{resent:#}");
    assert!(resent["first"].as_str().unwrap() <= resent["last"].as_str().unwrap());

    // One consumer, and a period that ended before anything happened.
    let one = report(adm, &format!("consumer={EXTENDED}"));
    assert_eq!(
        findings(&one),
        [(EXTENDED.to_owned(), "unrestricted-call/PR-5".to_owned(), 1)].into(),
        "{one:#}"
    );
    assert!(findings(&report(adm, "until=2000-01-01T00:00:00Z")).is_empty());
    let (status, body) = admin_http(
        adm,
        "GET",
        "/control/report?since=yesterday",
        "",
        Some(TOKEN),
    );
    assert!(
        status == 400 && body.contains("RFC 3339"),
        "{status} {body}"
    );

    // Text, JUnit and the CLI say the same, and none holds personal data.
    let (_, text) = admin_http(adm, "GET", "/control/report?format=text", "", Some(TOKEN));
    let (_, junit) = admin_http(adm, "GET", "/control/report?format=junit", "", Some(TOKEN));
    assert!(junit.contains("failures=\"6\""), "{junit}");
    for (_, name, _) in &expected {
        assert!(text.contains(name.as_str()), "{name} not in:\n{text}");
        assert!(
            junit.contains(&format!("name=\"{name}\"")),
            "{name} not in:\n{junit}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let junit_file = dir.path().join("report.xml");
    let cli = report_cli(adm)
        .args(["--consumer", CONSUMER, "--junit"])
        .arg(&junit_file)
        .output()
        .unwrap();
    let cli_text = String::from_utf8_lossy(&cli.stdout);
    assert_eq!(
        cli.status.code(),
        Some(1),
        "{cli_text}{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(
        cli_text.contains("resent-unchanged/CT-4") && !cli_text.contains("PR-5"),
        "{cli_text}"
    );
    let cli_junit = std::fs::read_to_string(&junit_file).unwrap();
    assert!(cli_junit.contains("failures=\"5\""), "{cli_junit}");
    let (_, page) = admin_http(adm, "GET", "/console", "", None);
    let (_, script) = admin_http(adm, "GET", "/console/app.js", "", None);
    let (_, log) = admin_http(adm, "GET", "/control/journal?limit=1000", "", Some(TOKEN));
    assert!(
        log.contains(HANNA),
        "the call log keeps bodies here, so the check can fail"
    );
    for (what, body) in [
        ("report JSON", &all.to_string()),
        ("report text", &text),
        ("report JUnit", &junit),
        ("CLI text", &cli_text.into_owned()),
        ("CLI JUnit", &cli_junit),
        ("console page", &page),
        ("console script", &script),
    ] {
        assert_no_personal_data(what, body);
    }
    server.running.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_behaved_consumer_gets_a_clean_report() {
    let (server, soap, adm) = staging_server(false).await;
    let mut careful = Consumer::new(soap, "consumer", "careful");
    careful.read_then_update(TOLVAN, "+46701112233").await;
    careful
        .update_ok(&update(HANNA, None, "+46731234560"))
        .await;
    careful.profile_status(&gpfp(HANNA, "P3")).await;
    // A 503, and the retry after its Retry-After.
    inject_one_unavailable(adm);
    let read = gpfp(TOLVAN, "P3");
    assert_eq!(careful.profile_status(&read).await, 503);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(careful.profile_status(&read).await, 200);

    let clean = report(adm, &format!("consumer={CONSUMER}"));
    assert!(findings(&clean).is_empty(), "{clean:#}");
    let calls = clean["calls"].as_array().unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c["contract"] == "UpdatePersonContactInformation"
                && c["result"] == "OK"
                && c["count"] == 2),
        "{clean:#}"
    );
    let (_, junit) = admin_http(adm, "GET", "/control/report?format=junit", "", Some(TOKEN));
    assert!(
        junit.contains("failures=\"0\"") && junit.contains("no-rule-broken"),
        "{junit}"
    );
    let cli = report_cli(adm).output().unwrap();
    assert_eq!(
        cli.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cli.stdout)
    );
    server.running.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_there_only_with_the_control_api_and_its_data_needs_the_token() {
    let off = start_server(|_| {}).await;
    let adm = off.running.admin_addr.unwrap();
    assert_eq!(admin_http(adm, "GET", "/console", "", None).0, 404);
    off.running.server.shutdown().await;
    let (on, _, adm) = staging_server(false).await;
    let (status, page) = admin_http(adm, "GET", "/console", "", None);
    assert_eq!(status, 200);
    assert!(page.contains("<script src=\"/console/app.js\""), "{page}");
    assert!(
        !page.contains("<script>"),
        "no inline script: the CSP forbids it"
    );
    for asset in ["/console/app.js", "/console/style.css"] {
        assert_eq!(admin_http(adm, "GET", asset, "", None).0, 200, "{asset}");
    }
    assert_eq!(admin_http(adm, "GET", "/console/other", "", None).0, 404);
    assert_eq!(admin_http(adm, "GET", "/control/report", "", None).0, 401);
    assert_eq!(
        admin_http(adm, "GET", "/control/report", "", Some("wrong")).0,
        401
    );
    on.running.server.shutdown().await;
}
