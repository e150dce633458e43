//! The test-control API's routes and access check (off unless enabled; the bearer token
//! when one is configured), and the call log (`/control/journal`).

use super::faults::{add_fault, rule_json};
use super::report::report;
use super::reset::reset;
use super::{json, text, Admin, Resp};
use http_body_util::{BodyExt, Limited};
use hyper::{Method, Request, StatusCode};

/// Largest fault rule `/control/faults` takes: one small JSON object.
const MAX_RULE_BYTES: usize = 64 * 1024;

/// `/control/*`: off unless enabled; with a token configured, only with `Authorization: Bearer <token>`.
pub(super) async fn control(req: Request<hyper::body::Incoming>, admin: &Admin) -> Resp {
    if !admin.service.control().enabled() {
        return text(
            StatusCode::NOT_FOUND,
            "the test-control API is off (control.enabled = false)\n",
        );
    }
    if let Some(token) = admin.token.as_deref().filter(|t| !t.is_empty()) {
        let given = req.headers().get(hyper::header::AUTHORIZATION);
        if !bearer_matches(given, token) {
            return text(
                StatusCode::UNAUTHORIZED,
                "the test-control API needs Authorization: Bearer <control.token>\n",
            );
        }
    }
    let (method, path, query) = (
        req.method().clone(),
        req.uri().path().to_owned(),
        req.uri().query().unwrap_or("").to_owned(),
    );
    match (method, path.as_str()) {
        (Method::POST, "/control/reset") => reset(admin, req.into_body()).await,
        (Method::POST, "/control/faults") => match Limited::new(req.into_body(), MAX_RULE_BYTES)
            .collect()
            .await
        {
            Ok(body) => add_fault(admin, &body.to_bytes()),
            Err(e) => text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the fault rule could not be read (at most {MAX_RULE_BYTES} bytes): {e}; nothing was changed\n"),
            ),
        },
        (Method::GET, "/control/faults") => {
            let rules: Vec<serde_json::Value> = admin.service.control().faults().iter().map(rule_json).collect();
            json(StatusCode::OK, &serde_json::Value::Array(rules))
        }
        (Method::DELETE, "/control/faults") => {
            admin.service.control().clear_faults();
            text(StatusCode::OK, "faults cleared\n")
        }
        (Method::GET, "/control/journal") => call_log(admin, &query),
        (Method::GET, "/control/report") => report(admin, &query).await,
        (_, "/control/reset" | "/control/faults" | "/control/journal" | "/control/report") => text(StatusCode::METHOD_NOT_ALLOWED, "see the README, \"For test suites and staging\"\n"),
        _ => text(StatusCode::NOT_FOUND, "control endpoints: POST /control/reset, POST|GET|DELETE /control/faults, GET /control/journal, GET /control/report\n"),
    }
}

/// Whether `Authorization` is `Bearer <token>`. Both sides are compared as SHA-256 digests,
/// every byte of them: how long the answer takes says nothing about how much of a guess
/// was right, nor about the token's length.
fn bearer_matches(given: Option<&hyper::header::HeaderValue>, token: &str) -> bool {
    let given = given
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .unwrap_or_default();
    let sha256 = |bytes: &[u8]| ring::digest::digest(&ring::digest::SHA256, bytes);
    let (given, token) = (sha256(given), sha256(token.as_bytes()));
    // No early exit (ring's own constant-time compare is deprecated for outside use).
    let difference = given
        .as_ref()
        .iter()
        .zip(token.as_ref())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

/// `/control/journal`: the call log (the path predates the name; the audit journal is
/// another thing, in the store).
fn call_log(admin: &Admin, query: &str) -> Resp {
    let limit = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("limit="))
        .map(str::parse::<usize>);
    match limit {
        Some(Err(_)) => text(StatusCode::BAD_REQUEST, "limit must be a whole number\n"),
        limit => {
            let entries = admin
                .service
                .control()
                .call_log(limit.and_then(Result::ok).unwrap_or(100));
            json(
                StatusCode::OK,
                &serde_json::to_value(entries).unwrap_or_default(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_taken() {
        let header = |v: &str| hyper::header::HeaderValue::from_str(v).expect("header");
        assert!(bearer_matches(Some(&header("Bearer s3cret")), "s3cret"));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "bearer s3cret",
            "s3cret",
            "Bearer ",
            "Basic s3cret",
        ] {
            assert!(!bearer_matches(Some(&header(wrong)), "s3cret"), "{wrong:?}");
        }
        assert!(!bearer_matches(None, "s3cret"));
    }
}
