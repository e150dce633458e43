//! Schema validity of the answers: the body payload of every non-Fault answer, validated
//! with `xmllint --schema` against the responder schema of its contract.

use crate::contract::Contract;
use quick_xml::events::Event;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Our own schemas (`xsd/`), embedded so that the command works from any directory; written
/// to a temporary directory with the same layout so their relative imports resolve.
const EMBEDDED: [(&str, &str); 9] = [
    (
        "GetPersonsForProfileResponder_5.0.xsd",
        include_str!("../../../xsd/GetPersonsForProfileResponder_5.0.xsd"),
    ),
    (
        "GetPersonsForProfileUnrestrictedResponder_5.0.xsd",
        include_str!("../../../xsd/GetPersonsForProfileUnrestrictedResponder_5.0.xsd"),
    ),
    (
        "GetPersonContactInformationResponder_4.0.xsd",
        include_str!("../../../xsd/GetPersonContactInformationResponder_4.0.xsd"),
    ),
    (
        "GetPersonContactInformationUnrestrictedResponder_4.0.xsd",
        include_str!("../../../xsd/GetPersonContactInformationUnrestrictedResponder_4.0.xsd"),
    ),
    (
        "UpdatePersonContactInformationResponder_4.0.xsd",
        include_str!("../../../xsd/UpdatePersonContactInformationResponder_4.0.xsd"),
    ),
    (
        "UpdatePersonContactInformationUnrestrictedResponder_4.0.xsd",
        include_str!("../../../xsd/UpdatePersonContactInformationUnrestrictedResponder_4.0.xsd"),
    ),
    (
        "PingForConfigurationResponder_1.0.xsd",
        include_str!("../../../xsd/PingForConfigurationResponder_1.0.xsd"),
    ),
    (
        "core_components/strategicresourcemanagement_persons_person_5.0.xsd",
        include_str!(
            "../../../xsd/core_components/strategicresourcemanagement_persons_person_5.0.xsd"
        ),
    ),
    (
        "core_components/itintegration_registry_1.0.xsd",
        include_str!("../../../xsd/core_components/itintegration_registry_1.0.xsd"),
    ),
];

/// The SOAP 1.1 envelope with its Fault, as the tests restate it, for the Faults' validity.
const ENVELOPE: (&str, &str) = (
    "soap-envelope-1.1.xsd",
    include_str!("../../../tests/schemas/soap-envelope-1.1.xsd"),
);

/// Where the schemas come from.
pub(crate) struct Schemas {
    /// `--schemas DIR`, when given.
    given: Option<PathBuf>,
    /// The embedded copy, written out (kept until the run ends).
    embedded: tempfile::TempDir,
}

impl Schemas {
    pub(crate) fn new(given: Option<PathBuf>) -> std::io::Result<Schemas> {
        let embedded = tempfile::Builder::new()
            .prefix("pu-adapter-conformance-xsd-")
            .tempdir()?;
        for (name, text) in EMBEDDED.into_iter().chain([ENVELOPE]) {
            let path = embedded.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(Schemas { given, embedded })
    }

    /// The SOAP 1.1 envelope schema (Faults).
    pub(crate) fn envelope(&self) -> PathBuf {
        self.embedded.path().join(ENVELOPE.0)
    }

    /// The schema for a contract and a short description of where it came from. A `--schemas`
    /// directory may be flat (like `xsd/`) or laid out as a RIVTA release
    /// (`[schemas/]interactions/<Contract>Interaction/…`); a contract it has no schema for is
    /// validated against the embedded copy, and the case says so.
    pub(crate) fn for_contract(&self, c: Contract) -> (PathBuf, String) {
        if let Some(dir) = &self.given {
            let file = c.xsd_file();
            let interaction = format!("{}Interaction", c.name());
            for candidate in [
                dir.join(&file),
                dir.join("interactions").join(&interaction).join(&file),
                dir.join("schemas/interactions")
                    .join(&interaction)
                    .join(&file),
            ] {
                if candidate.is_file() {
                    return (candidate.clone(), candidate.display().to_string());
                }
            }
            return (
                self.embedded.path().join(file),
                format!("embedded xsd/ ({} has no {})", dir.display(), c.xsd_file()),
            );
        }
        (
            self.embedded.path().join(c.xsd_file()),
            "embedded xsd/".to_owned(),
        )
    }
}

/// Why schema validation could not run at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum XmllintError {
    /// The program is not installed.
    #[error("xmllint was not found ({0}); install libxml2-utils, or pass --skip-schema to leave schema validity unchecked")]
    Missing(String),
    /// A temporary file could not be written.
    #[error("cannot write the answers for xmllint: {0}")]
    Io(#[from] std::io::Error),
}

/// Validates each `(label, payload)` against `schema` in one xmllint run; returns the labels
/// that failed with xmllint's reasons (values quoted by xmllint are redacted: answers
/// carry personal data).
pub(crate) fn validate(
    schema: &Path,
    answers: &[(String, String)],
) -> Result<Vec<(String, String)>, XmllintError> {
    let dir = tempfile::Builder::new()
        .prefix("pu-adapter-conformance-answers-")
        .tempdir()?;
    let mut files = Vec::new();
    for (i, (_, payload)) in answers.iter().enumerate() {
        let file = dir.path().join(format!("answer-{i:04}.xml"));
        std::fs::write(&file, payload)?;
        files.push(file);
    }
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .args(&files)
        .output()
        .map_err(|e| XmllintError::Missing(e.to_string()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut failed = Vec::new();
    for (file, (label, _)) in files.iter().zip(answers) {
        let name = file.display().to_string();
        let mut reasons: Vec<String> = stderr
            .lines()
            .filter(|l| {
                l.starts_with(&name)
                    && !l.ends_with(" validates")
                    && !l.ends_with(" fails to validate")
            })
            .map(|l| redact(l[name.len()..].trim_start_matches(':')))
            .collect();
        if !reasons.is_empty() || !stderr.contains(&format!("{name} validates")) {
            reasons.dedup();
            let why = if reasons.is_empty() {
                format!("xmllint did not validate it (exit {:?})", out.status.code())
            } else {
                reasons.join("; ")
            };
            failed.push((label.clone(), why));
        }
    }
    Ok(failed)
}

/// xmllint quotes names (`Element '{ns}name'`, `atomic type 'xs:QName'`, `content type is
/// 'element-only'`) and values (`'anna@example.se' is not a valid value`): the names help,
/// the values may be personal data. A quoted piece is kept only after a word that
/// introduces a name.
fn redact(line: &str) -> String {
    let mut out = String::new();
    let mut before = "";
    for (i, part) in line.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        let quoted = i % 2 == 1;
        let names_follow = ["Element ", "element ", "type ", "attribute ", "type is "]
            .iter()
            .any(|w| before.ends_with(w));
        if quoted && !part.is_empty() && !part.starts_with('{') && !names_follow {
            out.push('…');
        } else {
            out.push_str(part);
        }
        before = part;
    }
    out
}

/// The first element inside `soap:Body` of a response envelope, as a standalone document:
/// the namespace declarations of Envelope and Body it relies on are copied onto it.
pub(crate) fn body_payload(raw: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(raw);
    let mut depth = 0usize;
    let mut declarations: Vec<(String, String)> = Vec::new();
    let mut start = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        match reader.read_event().ok()? {
            Event::Start(e) => {
                if depth < 2 {
                    for a in e.attributes().flatten() {
                        let key = a.key.as_ref().to_owned();
                        if key == "xmlns" || key.starts_with("xmlns:") {
                            let value = a.value.to_string();
                            declarations.push((key, value));
                        }
                    }
                } else if depth == 2 && start.is_none() {
                    start = Some(before);
                }
                depth += 1;
            }
            Event::Empty(_) if depth == 2 => {
                let end = usize::try_from(reader.buffer_position()).ok()?;
                return Some(with_declarations(raw.get(before..end)?, &declarations));
            }
            Event::End(_) => {
                depth = depth.checked_sub(1)?;
                if let (2, Some(s)) = (depth, start) {
                    let end = usize::try_from(reader.buffer_position()).ok()?;
                    return Some(with_declarations(raw.get(s..end)?, &declarations));
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn with_declarations(element: &str, declarations: &[(String, String)]) -> String {
    let name_end = element
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || *c == '>' || *c == '/')
        .map_or(element.len(), |(i, _)| i);
    let tag_end = element.find('>').unwrap_or(element.len());
    let start_tag = &element[..tag_end];
    let mut extra = String::new();
    for (key, value) in declarations {
        if !start_tag.contains(&format!("{key}=")) && !extra.contains(&format!(" {key}=")) {
            extra.push_str(&format!(" {key}=\"{value}\""));
        }
    }
    format!("{}{extra}{}", &element[..name_end], &element[name_end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_keeps_the_namespaces_declared_above_it() {
        let raw = r#"<?xml version="1.0"?><s:Envelope xmlns:s="urn:s" xmlns:p="urn:p"><s:Header/><s:Body><p:A xmlns="urn:d"><p:b>1</p:b></p:A></s:Body></s:Envelope>"#;
        assert_eq!(
            body_payload(raw).unwrap(),
            r#"<p:A xmlns:s="urn:s" xmlns:p="urn:p" xmlns="urn:d"><p:b>1</p:b></p:A>"#
        );
        let raw = r#"<s:Envelope xmlns:s="urn:s"><s:Body><A xmlns="urn:a"/></s:Body></s:Envelope>"#;
        assert_eq!(
            body_payload(raw).unwrap(),
            r#"<A xmlns:s="urn:s" xmlns="urn:a"/>"#
        );
    }

    #[test]
    fn quoted_values_are_redacted_element_names_kept() {
        assert_eq!(
            redact("Element '{urn:x}value': The value 'anna@example.se' is too long."),
            "Element '{urn:x}value': The value '…' is too long."
        );
        assert_eq!(
            redact(
                "Element 'faultcode': '500' is not a valid value of the atomic type 'xs:QName'."
            ),
            "Element 'faultcode': '…' is not a valid value of the atomic type 'xs:QName'."
        );
    }
}
