//! `/control/report`: the consumer report for a query's time range and consumer, as JSON,
//! JUnit or text.

use super::{json, reply, text, Admin, Resp};
use hyper::StatusCode;

/// How `/control/report` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportFormat {
    Json,
    Junit,
    Text,
}

/// `/control/report?since=…&until=…&consumer=…&format=json|junit|text`: the consumer
/// report over the audit trail and the call log (docs/console.md).
pub(super) async fn report(admin: &Admin, query: &str) -> Resp {
    let (scope, format) = match report_request(query) {
        Ok(asked) => asked,
        Err(problem) => return text(StatusCode::BAD_REQUEST, format!("{problem}\n")),
    };
    let service = admin.service.clone();
    let made = tokio::task::spawn_blocking(move || {
        crate::report::gather(&service, &scope, chrono::Utc::now())
    })
    .await;
    let made = match made {
        Ok(Ok(made)) => made,
        Ok(Err(e)) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the audit trail could not be read: {e}\n"),
            )
        }
        Err(e) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the report failed: {e}\n"),
            )
        }
    };
    match format {
        ReportFormat::Json => json(
            StatusCode::OK,
            &serde_json::to_value(&made).unwrap_or_default(),
        ),
        ReportFormat::Text => text(StatusCode::OK, crate::report::text(&made)),
        ReportFormat::Junit => {
            let mut resp = reply(
                StatusCode::OK,
                "application/xml; charset=utf-8",
                crate::report::junit(&made),
            );
            resp.headers_mut().insert(
                hyper::header::CONTENT_DISPOSITION,
                hyper::header::HeaderValue::from_static(
                    "attachment; filename=\"consumer-report.xml\"",
                ),
            );
            resp
        }
    }
}

/// Why a report's query was refused: the first problem, named by its parameter.
#[derive(Debug, thiserror::Error)]
enum ReportQueryError {
    #[error("{name} {value:?} is not an RFC 3339 time such as 2026-11-01T00:00:00Z ({source})")]
    Time {
        name: String,
        value: String,
        #[source]
        source: chrono::ParseError,
    },
    #[error("format {0:?} is not json, junit or text")]
    Format(String),
    #[error("{0}: a % not followed by two hex digits")]
    BadEscape(String),
    #[error("{0}: not UTF-8")]
    NotUtf8(String),
}

/// The report's scope and format from its query; the first problem is named.
fn report_request(query: &str) -> Result<(crate::report::Scope, ReportFormat), ReportQueryError> {
    let param = |name: &str| query_param(query, name);
    let time = |name: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ReportQueryError> {
        param(name)?
            .filter(|v| !v.is_empty())
            .map(|v| {
                chrono::DateTime::parse_from_rfc3339(&v)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|source| ReportQueryError::Time {
                        name: name.to_owned(),
                        value: v.clone(),
                        source,
                    })
            })
            .transpose()
    };
    let scope = crate::report::Scope {
        since: time("since")?,
        until: time("until")?,
        consumer: param("consumer")?.filter(|c| !c.is_empty()),
    };
    let format = match param("format")?.as_deref() {
        None | Some("json") => ReportFormat::Json,
        Some("junit") => ReportFormat::Junit,
        Some("text") => ReportFormat::Text,
        Some(other) => return Err(ReportQueryError::Format(other.to_owned())),
    };
    Ok((scope, format))
}

/// The percent-decoded value of `name` in a query string, if present.
fn query_param(query: &str, name: &str) -> Result<Option<String>, ReportQueryError> {
    let Some(raw) = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    else {
        return Ok(None);
    };
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ReportQueryError::BadEscape(name.to_owned()))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Some)
        .map_err(|_| ReportQueryError::NotUtf8(name.to_owned()))
}
