//! The staging console's page, script and style, embedded in the binary: no build step,
//! nothing fetched from elsewhere, usable offline. The page only calls `/control/*`.

/// One file of the console.
pub(crate) struct Asset {
    pub(crate) content_type: &'static str,
    pub(crate) body: &'static str,
}

/// Sent with every file: scripts and styles from this listener only and no inline script
/// (a value the page shows can never run), no framing, nothing cached (a new binary
/// brings a new page).
pub(crate) const HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
];

/// The file served at `path`, if the console has one there.
pub(crate) fn asset(path: &str) -> Option<Asset> {
    let (content_type, body) = match path {
        "/console" | "/console/" | "/console/index.html" => {
            ("text/html; charset=utf-8", include_str!("index.html"))
        }
        "/console/app.js" => ("text/javascript; charset=utf-8", include_str!("app.js")),
        "/console/style.css" => ("text/css; charset=utf-8", include_str!("style.css")),
        _ => return None,
    };
    Some(Asset { content_type, body })
}
