//! `/console`: the embedded console's page, script and style, served with their security
//! headers while the control API is enabled.

use super::{reply, text, Admin, Resp};
use hyper::StatusCode;

/// `/console`: the page, its script and its style, while the control API is enabled. They
/// are the same bytes for everyone and carry no data: every datum and every action goes
/// through `/control/*`, which asks for the token (a browser cannot put a bearer token on
/// a page load, so the page asks for it and sends it with each call).
pub(super) fn console(path: &str, admin: &Admin) -> Resp {
    if !admin.service.control().enabled() {
        return text(
            StatusCode::NOT_FOUND,
            "the console needs the test-control API (control.enabled = true)\n",
        );
    }
    let Some(asset) = crate::console::asset(path) else {
        return text(
            StatusCode::NOT_FOUND,
            "not found: the console is /console\n",
        );
    };
    let mut resp = reply(StatusCode::OK, asset.content_type, asset.body.to_owned());
    let headers = resp.headers_mut();
    for (name, value) in crate::console::HEADERS {
        headers.insert(name, hyper::header::HeaderValue::from_static(value));
    }
    resp
}
