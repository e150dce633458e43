//! A minimal HTTPS client with client certificates, and an in-process server, for tests.
#![allow(dead_code)]

use pu_adapter::config::Config;
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A started test server and what it needs to stay alive.
pub(crate) struct TestServer {
    /// The running service.
    pub running: pu_adapter::app::Running,
    /// Its data directory.
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.running.server.local_addr
    }
}

/// The development configuration on a free port, in a temporary directory.
pub(crate) fn test_config(dir: &std::path::Path) -> Config {
    let certs = super::repo().join("certs-dev");
    let mut c = Config::development();
    c.listen = "127.0.0.1:0".into();
    c.admin_listen = "127.0.0.1:0".into();
    c.data_dir = dir.to_owned();
    c.tls.cert = Some(certs.join("server.pem"));
    c.tls.key = Some(certs.join("server.key"));
    c.tls.client_ca = Some(certs.join("ca.pem"));
    c
}

/// Starts a server with `tweak` applied to the test configuration.
pub(crate) async fn start_server(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    tweak(&mut config);
    let running = pu_adapter::app::start(&config)
        .await
        .expect("server starts");
    TestServer { running, dir }
}

/// A client configuration presenting `certs-dev/<name>.pem` (or no certificate).
pub(crate) fn client_config(name: Option<&str>) -> Arc<rustls::ClientConfig> {
    pu_adapter::testkit::client_config(name, true)
}

/// A parsed HTTP response.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl HttpResponse {
    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Opens a mutual-TLS connection as `cert`.
pub(crate) async fn connect(
    addr: SocketAddr,
    cert: Option<&str>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(client_config(cert));
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    // TLS 1.3 reports a refused client certificate only on the first read.
    tls.flush().await?;
    Ok(tls)
}

/// Sends one request on a connection and reads one response.
pub(crate) async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
) -> std::io::Result<HttpResponse> {
    stream.write_all(request).await?;
    read_response(stream).await
}

/// Reads one HTTP/1.1 response with a Content-Length.
pub(crate) async fn read_response<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
) -> std::io::Result<HttpResponse> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A POST of a SOAP body with optional extra header lines.
pub(crate) fn soap_post(path: &str, body: &str, extra_headers: &[(&str, &str)]) -> Vec<u8> {
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n", body.len());
    for (n, v) in extra_headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// One request on a fresh connection.
pub(crate) async fn post(
    addr: SocketAddr,
    cert: &str,
    path: &str,
    body: &str,
    extra_headers: &[(&str, &str)],
) -> HttpResponse {
    let mut tls = connect(addr, Some(cert)).await.expect("connect");
    exchange(&mut tls, &soap_post(path, body, extra_headers))
        .await
        .expect("exchange")
}
