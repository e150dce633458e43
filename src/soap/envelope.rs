//! Reading a SOAP 1.1 request envelope and writing response envelopes.

use super::{REGISTRY_NS, SOAP11_NS, SOAP12_NS};
use crate::xml::{parse, Element, Limits, XmlError};

/// A request envelope: its header entries and the one payload element of its Body.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Header entries, in order.
    pub(crate) headers: Vec<Element>,
    /// The single child of Body.
    pub body: Element,
}

/// Why a request is not a usable SOAP 1.1 envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not (acceptable) XML.
    #[error("the request is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    /// A SOAP 1.2 envelope.
    #[error("a SOAP 1.2 envelope was sent; this service speaks SOAP 1.1 only (RIVTA BP 2.1): use namespace {SOAP11_NS} and Content-Type text/xml")]
    Soap12,
    /// Some other root element.
    #[error("the root element is {0}, not a SOAP 1.1 Envelope ({{{SOAP11_NS}}}Envelope)")]
    NotEnvelope(String),
    /// No Body.
    #[error("the SOAP Envelope has no Body")]
    NoBody,
    /// An empty Body.
    #[error("the SOAP Body is empty; it must hold the request element")]
    EmptyBody,
    /// More than one element in Body.
    #[error("the SOAP Body holds {0} elements; document/literal wrapped allows exactly one")]
    SeveralBodyElements(usize),
    /// A mandatory header we do not understand.
    #[error("header {0} is marked mustUnderstand and is not understood by this service")]
    MustUnderstand(String),
    /// No LogicalAddress header.
    #[error("the LogicalAddress header ({{{REGISTRY_NS}}}LogicalAddress) is missing; RIVTA BP 2.1 requires it on every request")]
    MissingLogicalAddress,
    /// An empty LogicalAddress header.
    #[error("the LogicalAddress header is empty")]
    EmptyLogicalAddress,
}

/// Parses a request body into an envelope, refusing SOAP 1.2 and misshapen envelopes.
pub fn read_envelope(bytes: &[u8], limits: Limits) -> Result<Envelope, EnvelopeError> {
    let root = parse(bytes, limits)?;
    if root.name == "Envelope" && root.ns.as_deref() == Some(SOAP12_NS) {
        return Err(EnvelopeError::Soap12);
    }
    if !root.is(SOAP11_NS, "Envelope") {
        return Err(EnvelopeError::NotEnvelope(root.qualified_name()));
    }
    let mut headers = Vec::new();
    let mut body = None;
    for child in root.children {
        if child.is(SOAP11_NS, "Header") {
            headers.extend(child.children);
        } else if child.is(SOAP11_NS, "Body") {
            body = Some(child);
        }
    }
    let mut body = body.ok_or(EnvelopeError::NoBody)?;
    check_must_understand(&headers)?;
    match body.children.len() {
        0 => Err(EnvelopeError::EmptyBody),
        1 => Ok(Envelope {
            headers,
            body: body.children.remove(0),
        }),
        n => Err(EnvelopeError::SeveralBodyElements(n)),
    }
}

/// SOAP 1.1 §4.2.3: a header we do not know but must understand is a fault.
fn check_must_understand(headers: &[Element]) -> Result<(), EnvelopeError> {
    for h in headers {
        let must = matches!(
            h.attr(Some(SOAP11_NS), "mustUnderstand").map(str::trim),
            Some("1" | "true")
        );
        if must && !h.is(REGISTRY_NS, "LogicalAddress") {
            return Err(EnvelopeError::MustUnderstand(h.qualified_name()));
        }
    }
    Ok(())
}

impl Envelope {
    /// The LogicalAddress header's value, required and non-empty.
    pub fn logical_address(&self) -> Result<&str, EnvelopeError> {
        let header = self
            .headers
            .iter()
            .find(|h| h.is(REGISTRY_NS, "LogicalAddress"))
            .ok_or(EnvelopeError::MissingLogicalAddress)?;
        let value = header.text.trim();
        if value.is_empty() {
            return Err(EnvelopeError::EmptyLogicalAddress);
        }
        Ok(value)
    }
}

/// Wraps a payload element (with its own namespace declarations) in a SOAP 1.1 envelope.
pub fn wrap_body(payload: &str) -> String {
    let mut out = String::with_capacity(payload.len() + 160);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#);
    out.push_str(payload);
    out.push_str("</soap:Body></soap:Envelope>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(header: &str, body: &str) -> String {
        format!(
            r#"<s:Envelope xmlns:s="{SOAP11_NS}"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
        )
    }

    #[test]
    fn reads_logical_address_and_body() {
        let e = read_envelope(
            env(r#"<LogicalAddress xmlns="urn:riv:itintegration:registry:1"> SE123 </LogicalAddress>"#, "<x:A xmlns:x='urn:a'/>").as_bytes(),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(e.logical_address(), Ok("SE123"));
        assert!(e.body.is("urn:a", "A"));
    }

    #[test]
    fn missing_or_empty_logical_address() {
        let e = read_envelope(env("", "<A/>").as_bytes(), Limits::default()).unwrap();
        assert_eq!(
            e.logical_address(),
            Err(EnvelopeError::MissingLogicalAddress)
        );
        let e = read_envelope(
            env(
                r#"<LogicalAddress xmlns="urn:riv:itintegration:registry:1"/>"#,
                "<A/>",
            )
            .as_bytes(),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(e.logical_address(), Err(EnvelopeError::EmptyLogicalAddress));
    }

    #[test]
    fn soap12_and_bad_shapes_are_refused() {
        let v12 =
            format!(r#"<e:Envelope xmlns:e="{SOAP12_NS}"><e:Body><A/></e:Body></e:Envelope>"#);
        assert_eq!(
            read_envelope(v12.as_bytes(), Limits::default()).unwrap_err(),
            EnvelopeError::Soap12
        );
        assert!(matches!(
            read_envelope(b"<A/>", Limits::default()),
            Err(EnvelopeError::NotEnvelope(_))
        ));
        assert_eq!(
            read_envelope(env("", "").as_bytes(), Limits::default()).unwrap_err(),
            EnvelopeError::EmptyBody
        );
        assert_eq!(
            read_envelope(env("", "<A/><B/>").as_bytes(), Limits::default()).unwrap_err(),
            EnvelopeError::SeveralBodyElements(2)
        );
        let mu = env(
            &format!(r#"<w:Security xmlns:w="urn:w" xmlns:s="{SOAP11_NS}" s:mustUnderstand="1"/>"#),
            "<A/>",
        );
        assert!(matches!(
            read_envelope(mu.as_bytes(), Limits::default()),
            Err(EnvelopeError::MustUnderstand(_))
        ));
    }
}
