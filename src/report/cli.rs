//! `pu-adapter report`: asks a running server's admin listener for the report
//! (`GET /control/report`), since the call log it needs lives in that server's memory,
//! and prints it as text or JSON, optionally writing JUnit XML for CI.

use super::Report;
use chrono::{DateTime, Utc};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// `pu-adapter report`'s options: which admin listener, which window, which output.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The server's admin listener (plain HTTP), where the control API is enabled.
    #[arg(
        long,
        env = "PU_ADAPTER_ADMIN_URL",
        default_value = "http://127.0.0.1:9090"
    )]
    pub admin: String,
    /// control.token, when the server has one (sent as Authorization: Bearer).
    #[arg(long, env = "PU_ADAPTER_CONTROL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// From this time (RFC 3339 with any offset, e.g. 2026-11-01T00:00:00Z).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Until this time (RFC 3339, exclusive).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    /// Only this consumer HSA-id (default: every consumer).
    #[arg(long)]
    pub consumer: Option<String>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the findings as JUnit XML to this file (one failed test case each).
    #[arg(long)]
    pub junit: Option<PathBuf>,
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `--admin` is not an `http://host:port` address.
    #[error("--admin {0:?} is not http://host:port (the admin listener speaks plain HTTP)")]
    Address(String),
    /// The admin listener could not be reached or read.
    #[error("the admin listener at {address} did not answer: {source}")]
    Unreachable {
        /// The `--admin` address tried.
        address: String,
        /// The connection or read error.
        #[source]
        source: std::io::Error,
    },
    /// It answered, but not with a report.
    #[error("GET /control/report answered {status}: {body}")]
    Refused {
        /// The HTTP status it answered with.
        status: u16,
        /// The response body, which names the problem.
        body: String,
    },
    /// The answer was not a report.
    #[error("the answer was not a report: {0}")]
    NotAReport(#[source] serde_json::Error),
    /// The JUnit file could not be written.
    #[error("could not write {path}: {source}")]
    Junit {
        /// The `--junit` path.
        path: PathBuf,
        /// The write error.
        #[source]
        source: std::io::Error,
    },
}

/// Asks the server for the report, prints it (text or JSON) and writes the JUnit file
/// when asked; the caller decides the exit code from its findings.
pub fn fetch_and_print(options: &Options) -> Result<Report, ReportError> {
    report(options)
}

fn report(options: &Options) -> Result<Report, ReportError> {
    let (status, body) = get(options)?;
    if status != 200 {
        return Err(ReportError::Refused {
            status,
            body: body.trim().to_owned(),
        });
    }
    let report: Report = serde_json::from_str(&body).map_err(ReportError::NotAReport)?;
    if options.json {
        println!("{}", body.trim());
    } else {
        print!("{}", super::text(&report));
    }
    if let Some(path) = &options.junit {
        std::fs::write(path, super::junit(&report)).map_err(|source| ReportError::Junit {
            path: path.clone(),
            source,
        })?;
    }
    Ok(report)
}

/// The report's path and query for these options.
fn target(options: &Options) -> String {
    let mut query = vec!["format=json".to_owned()];
    let times = [("since", options.since), ("until", options.until)];
    for (name, at) in times {
        if let Some(at) = at {
            query.push(format!("{name}={}", percent_encode(&at.to_rfc3339())));
        }
    }
    if let Some(c) = &options.consumer {
        query.push(format!("consumer={}", percent_encode(c)));
    }
    format!("/control/report?{}", query.join("&"))
}

/// Everything but unreserved characters, percent-encoded (a `+` in a time is not a space).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One GET over plain HTTP/1.1: (status, body).
fn get(options: &Options) -> Result<(u16, String), ReportError> {
    let address = options
        .admin
        .strip_prefix("http://")
        .map(|a| a.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| ReportError::Address(options.admin.clone()))?;
    let unreachable = |source| ReportError::Unreachable {
        address: address.to_owned(),
        source,
    };
    let socket = address
        .to_socket_addrs()
        .map_err(unreachable)?
        .next()
        .ok_or_else(|| ReportError::Address(options.admin.clone()))?;
    let mut stream =
        TcpStream::connect_timeout(&socket, Duration::from_secs(10)).map_err(unreachable)?;
    // The report reads the audit trail; a long staging run takes a while.
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(unreachable)?;
    let auth = options
        .token
        .as_deref()
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n",
        target(options)
    );
    stream.write_all(request.as_bytes()).map_err(unreachable)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(unreachable)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// An RFC 3339 time with any offset, as UTC.
fn parse_time(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2026-11-01T00:00:00Z ({e})"))
}
