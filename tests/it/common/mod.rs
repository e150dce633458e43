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

/// A TCP port free on loopback now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
