//! A minimal HTTP/1.1 client over mutual TLS (blocking rustls on a std socket): one
//! request per connection, `Connection: close`, so a producer's keep-alive handling can
//! never make one case depend on the one before it.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a request got no HTTP response, or why the client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not `https://host[:port][/prefix]`.
    #[error("{0}")]
    Url(String),
    /// A certificate, key or CA file could not be read.
    #[error("{path}: {reason}")]
    File {
        /// The certificate or key file.
        path: PathBuf,
        /// The read or parse error, as text.
        reason: String,
    },
    /// rustls refused the configuration (e.g. the key does not match the certificate).
    #[error("TLS configuration: {0}")]
    Config(String),
    /// No TCP connection.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// host:port.
        address: String,
        /// The connect error.
        source: std::io::Error,
    },
    /// The TLS handshake or the exchange failed.
    #[error("TLS/HTTP exchange with {address} failed: {source}")]
    Exchange {
        /// host:port.
        address: String,
        /// The error rustls or the socket reported.
        source: std::io::Error,
    },
    /// The bytes received are not an HTTP/1.x response.
    #[error("not an HTTP response: {0}")]
    BadResponse(String),
    /// Nothing (or not all) came back within the timeout.
    #[error("no answer from {address} within {seconds} s")]
    Timeout {
        /// host:port.
        address: String,
        /// The timeout that passed, in seconds.
        seconds: u64,
    },
}

impl ClientError {
    /// True when the producer took longer than the timeout.
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout { .. })
    }
}

/// The producer's address, split from the URL given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    host: String,
    port: u16,
    /// A path prefix before the contract paths (e.g. behind a gateway), without trailing `/`.
    prefix: String,
}

impl Endpoint {
    /// Parses `https://host[:port][/prefix]`; plain http is refused because every contract
    /// here requires mutual TLS.
    pub(crate) fn parse(url: &str) -> Result<Endpoint, ClientError> {
        let rest = url.strip_prefix("https://").ok_or_else(|| {
            ClientError::Url(format!(
                "{url:?}: the URL must start with https:// (the contracts require mutual TLS)"
            ))
        })?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, p) = v6
                .split_once(']')
                .ok_or_else(|| ClientError::Url(format!("{url:?}: unclosed [ in the host")))?;
            (h, p.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse()
                .map_err(|_| ClientError::Url(format!("{url:?}: port {p:?} is not a number")))?,
            None => 443,
        };
        if host.is_empty() {
            return Err(ClientError::Url(format!("{url:?}: no host")));
        }
        Ok(Endpoint {
            host: host.to_owned(),
            port,
            prefix: prefix.to_owned(),
        })
    }

    fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "https://{}{}", self.address(), self.prefix)
    }
}

/// A client certificate with its key, as files.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// One HTTP response.
#[derive(Debug, Clone)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// The producer and the TLS configurations to reach it with.
pub(crate) struct Client {
    endpoint: Endpoint,
    server_name: ServerName<'static>,
    timeout: Duration,
}

/// A TLS configuration presenting one client certificate.
#[derive(Clone)]
pub(crate) struct Tls(Arc<rustls::ClientConfig>);

fn read_file_error(path: &Path, reason: impl std::fmt::Display) -> ClientError {
    ClientError::File {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

impl Tls {
    /// Trusts `ca` only (a producer of these contracts shows a certificate from the
    /// federation's CA, not a public one) and presents `identity`.
    pub(crate) fn new(ca: &Path, identity: &Identity) -> Result<Tls, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        let cas = CertificateDer::pem_file_iter(ca).map_err(|e| read_file_error(ca, e))?;
        for c in cas {
            let c = c.map_err(|e| read_file_error(ca, e))?;
            roots
                .add(c)
                .map_err(|e| read_file_error(ca, format!("not a usable CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(read_file_error(ca, "no certificate in the file"));
        }
        let chain = CertificateDer::pem_file_iter(&identity.cert)
            .map_err(|e| read_file_error(&identity.cert, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| read_file_error(&identity.cert, e))?;
        if chain.is_empty() {
            return Err(read_file_error(
                &identity.cert,
                "no certificate in the file",
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&identity.key)
            .map_err(|e| read_file_error(&identity.key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Config(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls(Arc::new(config)))
    }
}

impl Client {
    pub(crate) fn new(endpoint: Endpoint, timeout: Duration) -> Result<Client, ClientError> {
        let server_name = ServerName::try_from(endpoint.host.clone())
            .map_err(|e| ClientError::Url(format!("host {:?}: {e}", endpoint.host)))?;
        Ok(Client {
            endpoint,
            server_name,
            timeout,
        })
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET prefix+path`.
    pub(crate) fn get(&self, tls: &Tls, path: &str) -> Result<HttpResponse, ClientError> {
        self.exchange(tls, "GET", path, &[], None)
    }

    /// `POST prefix+path` with a SOAP 1.1 body.
    pub(crate) fn post_soap(
        &self,
        tls: &Tls,
        path: &str,
        soap_action: &str,
        body: &[u8],
    ) -> Result<HttpResponse, ClientError> {
        self.exchange(
            tls,
            "POST",
            path,
            body,
            Some(&format!("SOAPAction: \"{soap_action}\"\r\n")),
        )
    }

    fn exchange(
        &self,
        tls: &Tls,
        method: &str,
        path: &str,
        body: &[u8],
        extra_headers: Option<&str>,
    ) -> Result<HttpResponse, ClientError> {
        let address = self.endpoint.address();
        let tcp = connect(&address, self.timeout)?;
        let seconds = self.timeout.as_secs();
        // A read timeout shows as WouldBlock (EAGAIN) or TimedOut, depending on the platform.
        let exchange_error = |source: std::io::Error| match source.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ClientError::Timeout {
                address: address.clone(),
                seconds,
            },
            _ => ClientError::Exchange {
                address: address.clone(),
                source,
            },
        };
        tcp.set_read_timeout(Some(self.timeout))
            .and_then(|()| tcp.set_write_timeout(Some(self.timeout)))
            .map_err(exchange_error)?;
        let conn = rustls::ClientConnection::new(tls.0.clone(), self.server_name.clone())
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        let host = if self.endpoint.port == 443 {
            self.endpoint.host.clone()
        } else {
            address.clone()
        };
        let mut request = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: pu-adapter-conformance\r\n",
            self.endpoint.prefix
        )
        .into_bytes();
        if method == "POST" {
            request.extend_from_slice(
                format!(
                    "Content-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n",
                    body.len()
                )
                .as_bytes(),
            );
        }
        if let Some(h) = extra_headers {
            request.extend_from_slice(h.as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);
        stream.write_all(&request).map_err(exchange_error)?;
        stream.flush().map_err(exchange_error)?;
        let mut raw = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    raw.extend_from_slice(&chunk[..n]);
                    if let Some(done) = complete(&raw)? {
                        return Ok(done);
                    }
                }
                // Many servers close without close_notify once the body is complete.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
                Err(e) => return Err(exchange_error(e)),
            }
        }
        parse_response(&raw, true)?.ok_or_else(|| {
            ClientError::BadResponse(format!(
                "the connection closed after {} bytes, before a complete response",
                raw.len()
            ))
        })
    }
}

fn connect(address: &str, timeout: Duration) -> Result<TcpStream, ClientError> {
    let connect_error = |source| ClientError::Connect {
        address: address.to_owned(),
        source,
    };
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address resolved");
    for a in address.to_socket_addrs().map_err(connect_error)? {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(connect_error(last))
}

fn complete(raw: &[u8]) -> Result<Option<HttpResponse>, ClientError> {
    parse_response(raw, false)
}

/// The response in `raw` when it is complete (`at_eof`: the connection has closed, so a
/// body without a length ends here).
fn parse_response(raw: &[u8], at_eof: bool) -> Result<Option<HttpResponse>, ClientError> {
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    if !status_line.starts_with("HTTP/1.") {
        // The line itself is the producer's text: not quoted.
        return Err(ClientError::BadResponse(
            "the first line is not an HTTP/1.x status line".into(),
        ));
    }
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| ClientError::BadResponse("no status code".into()))?;
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => content_length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let rest = &raw[head_end + 4..];
    let body = if chunked {
        match dechunk(rest) {
            Some(b) => b,
            None if at_eof => {
                return Err(ClientError::BadResponse("truncated chunked body".into()))
            }
            None => return Ok(None),
        }
    } else if let Some(len) = content_length {
        if rest.len() < len {
            if at_eof {
                return Err(ClientError::BadResponse(format!(
                    "body of {} bytes, Content-Length {len}",
                    rest.len()
                )));
            }
            return Ok(None);
        }
        rest[..len].to_vec()
    } else if at_eof {
        rest.to_vec()
    } else {
        return Ok(None);
    };
    Ok(Some(HttpResponse { status, body }))
}

/// A complete chunked body, or None while the last chunk has not arrived.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if rest.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_prefix() {
        let e = Endpoint::parse("https://localhost:8443/").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.prefix.as_str()),
            ("localhost", 8443, "")
        );
        let e = Endpoint::parse("https://gw.example/pu").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.prefix.as_str()),
            ("gw.example", 443, "/pu")
        );
        assert!(Endpoint::parse("http://localhost:8443").is_err());
        assert!(Endpoint::parse("https://:8443").is_err());
    }

    #[test]
    fn lengths_and_chunks_end_a_response() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab";
        assert_eq!(complete(r).unwrap().unwrap().body, b"ab");
        assert!(complete(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab")
            .unwrap()
            .is_none());
        let r =
            b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        let r = complete(r).unwrap().unwrap();
        assert_eq!((r.status, r.body.as_slice()), (500, b"abc".as_slice()));
    }
}
