//! The OWASP XML Security attack requests, shared by the hostile-input test and the
//! hardening harness (`cargo bench --bench hardening`).

/// Each attack: its name, the request body, and a phrase the Fault must contain ("" when any
/// Fault will do). Built around `valid`, a well-formed GetPersonsForProfile envelope whose
/// person is 191212121212.
pub fn attacks(valid: &str) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let v = valid;
    assert!(
        v.contains(">191212121212<") && v.contains(">P1<"),
        "the attacks are built around person 191212121212 and profile P1"
    );
    let body_at = v.find("<GetPersonsForProfile").unwrap();
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>"#;
    let deep = format!(
        "{}{}{}",
        &v[..body_at],
        "<x xmlns=\"urn:x\">".repeat(10_000) + &"</x>".repeat(10_000),
        &v[body_at..]
    );
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"1\"")).collect();
    vec![
        ("billion laughs", format!("{laughs}{}", v.replace("191212121212", "&lol3;")).into_bytes(), "DOCTYPE/DTD is not allowed"),
        (
            "external entity file",
            format!(r#"<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>{}"#, v.replace("191212121212", "&xxe;")).into_bytes(),
            "DOCTYPE/DTD is not allowed",
        ),
        (
            "external entity http",
            format!(r#"<!DOCTYPE x [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]>{}"#, v.replace("191212121212", "&xxe;")).into_bytes(),
            "DOCTYPE/DTD is not allowed",
        ),
        ("parameter entity", format!(r#"<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>{v}"#).into_bytes(), "DOCTYPE/DTD is not allowed"),
        ("undeclared entity", v.replace("191212121212", "&xxe;").into_bytes(), "entity reference &amp;xxe;"),
        (
            "xinclude",
            v.replace("<profile>", r#"<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/><profile>"#).into_bytes(),
            "XInclude is not allowed",
        ),
        ("10,000-deep nesting", deep.into_bytes(), ""),
        ("100,000 attributes", v.replacen("<GetPersonsForProfile", &format!("<GetPersonsForProfile{attrs}"), 1).into_bytes(), ""),
        ("processing instruction", format!("<?php system('id'); ?>{v}").into_bytes(), "processing instructions are not allowed"),
        ("invalid UTF-8", [v.as_bytes(), b"\xff\xfe\xfd"].concat(), "invalid UTF-8"),
        // A NUL would reach the log and the audit trail, where PostgreSQL refuses it.
        ("NUL character", v.replace("191212121212", "1912121\u{0}21212").into_bytes(), "U+0000"),
        ("character reference to a control character", v.replace("191212121212", "19121212&#1;1212").into_bytes(), "U+0001"),
        ("UTF-16", v.encode_utf16().flat_map(u16::to_le_bytes).collect(), "UTF-16"),
        ("64 KiB text node", v.replace(">P1<", &format!(">{}<", "P".repeat(64 * 1024))).into_bytes(), "profile has more than 4096 bytes of text"),
        ("10 MB text node", v.replace("P1", &"P".repeat(10 * 1024 * 1024)).into_bytes(), ""),
    ]
}
