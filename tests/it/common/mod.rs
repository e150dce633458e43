//! Helpers of the integration tests only; what benches, examples and fuzz share is in
//! `pu_adapter::testkit`.

pub(crate) use pu_adapter::testkit::*;

pub(crate) mod tls;

/// The `pu-adapter` binary, run from the repository root with warnings-only logs.
pub(crate) fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_pu-adapter"));
    c.current_dir(repo()).env("PU_ADAPTER_LOG", "warn");
    c
}

/// `pu-adapter serve` on the development defaults, listening on `port`, data in `data`.
pub(crate) fn serve_command(data: &std::path::Path, port: u16) -> std::process::Command {
    let mut c = bin();
    let listen = format!("127.0.0.1:{port}");
    c.args(["serve", "--listen", &listen, "--admin-listen", ""])
        .arg("--data-dir")
        .arg(data);
    c
}

/// GetPersonsForProfile's endpoint path.
pub(crate) const PROFILE_ENDPOINT: &str = "/GetPersonsForProfile/5/rivtabp21";

/// A GetPersonsForProfile request for one personnummer and profile.
pub(crate) fn gpfp(pnr: &str, profile: &str) -> String {
    pu_adapter::testkit::envelope(&format!(
        r#"<GetPersonsForProfile xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension></personId><profile>{profile}</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>"#,
        pu_adapter::contracts::Contract::GetPersonsForProfile.responder_ns()
    ))
}

/// One plain-HTTP request to an admin listener: (status, body).
pub(crate) fn admin_http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned(),
    )
}

/// Every `.rs` file under `dir`, for the tests that read the sources (architecture, rule
/// coverage, the documents' citations).
pub(crate) fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    collect_rust_files(dir, &mut out);
    out
}

fn collect_rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A personnummer's `personId`/`id` children (root and extension).
pub(crate) fn person_id(pnr: &str) -> String {
    format!("<c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension>")
}

/// An update of `pnr` by the person themself, with `(type, value)` entries, all
/// digitalNotification=true.
pub(crate) fn update(
    c: pu_adapter::contracts::Contract,
    pnr: &str,
    version: Option<&str>,
    contacts: &[(&str, &str)],
) -> String {
    let version = version
        .map(|v| format!("<versionToUpdate>{v}</versionToUpdate>"))
        .unwrap_or_default();
    let entries: String = contacts
        .iter()
        .map(|(t, v)| format!("<contactInformation><c:contactType>{t}</c:contactType><c:value>{v}</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation>"))
        .collect();
    let id = person_id(pnr);
    envelope(&format!(
        r#"<{n} xmlns="{ns}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><actor><c:id>{id}</c:id></actor><personId>{id}</personId>{version}{entries}</{n}>"#,
        n = c.name(),
        ns = c.responder_ns()
    ))
}

/// The environment that points a `pu-adapter` process at the test PostgreSQL database
/// `db_url` (verified TLS when the suite's CA is set).
pub(crate) fn postgres_env(db_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PU_ADAPTER_STORE_KIND", "postgresql".to_owned()),
        ("PU_ADAPTER_POSTGRES_URL", db_url.to_owned()),
        (
            "PU_ADAPTER_STORE__POSTGRES_CA",
            test_postgres_ca()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    ]
}
