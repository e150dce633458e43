//! A bounded, namespace-resolving XML tree reader on quick-xml.
//!
//! quick-xml does not expand entities or limit nesting; this reader refuses DTDs,
//! unknown entities and processing instructions outright and counts depth,
//! elements and attributes itself, so hostile input costs at most one linear pass.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::sync::Arc;

const XINCLUDE_NS: &str = "http://www.w3.org/2001/XInclude";

/// Bounds on a document's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting accepted.
    pub(crate) max_depth: usize,
    /// Most elements in one document.
    pub(crate) max_elements: usize,
    /// Most attributes on one element.
    pub(crate) max_attributes: usize,
    /// Most bytes of character data in one element.
    pub(crate) max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // The longest value these contracts carry is an e-mail address (254 characters); a
        // text bound also keeps every error message that quotes a value short.
        Self {
            max_depth: 32,
            max_elements: 20_000,
            max_attributes: 32,
            max_text_bytes: 4_096,
        }
    }
}

/// An element with its resolved namespace, attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, `None` when unqualified.
    pub(crate) ns: Option<Arc<str>>,
    /// Local name, prefix stripped; the namespace is in `ns`.
    pub name: String,
    /// Attributes other than namespace declarations.
    pub(crate) attrs: Vec<Attr>,
    /// Concatenated character data (text, CDATA, references).
    pub text: String,
    /// Child elements in document order.
    pub(crate) children: Vec<Element>,
}

/// One attribute with its resolved namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr {
    /// Namespace URI, `None` for unprefixed attributes.
    pub(crate) ns: Option<Arc<str>>,
    /// Local name, prefix stripped.
    pub name: String,
    pub(crate) value: String,
}

/// Why a document was not read. Texts never quote document content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// UTF-16 (by BOM or byte pattern).
    #[error("the request is UTF-16; this service accepts UTF-8 only")]
    Utf16,
    /// A declared encoding other than UTF-8.
    #[error("the XML declaration names encoding {0:?}; this service accepts UTF-8 only")]
    DeclaredEncoding(String),
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
    /// A document type declaration.
    #[error("a DOCTYPE/DTD is not allowed in SOAP messages")]
    Dtd,
    /// A processing instruction.
    #[error("processing instructions are not allowed in SOAP messages")]
    ProcessingInstruction,
    /// An entity other than the five predefined ones.
    #[error("entity reference &{0}; is not allowed (only &lt; &gt; &amp; &apos; &quot; and character references)")]
    UndeclaredEntity(String),
    /// An XInclude element: never processed, always refused.
    #[error("XInclude is not allowed in SOAP messages")]
    XInclude,
    /// A prefix with no namespace declaration in scope.
    #[error("namespace prefix {0:?} is not declared")]
    UndeclaredPrefix(String),
    /// Nesting deeper than the limit.
    #[error("elements nested deeper than {0} levels")]
    TooDeep(usize),
    /// More elements than the limit.
    #[error("more than {0} elements")]
    TooManyElements(usize),
    /// More attributes on one element than the limit.
    #[error("more than {0} attributes on one element")]
    TooManyAttributes(usize),
    /// More character data in one element than the limit.
    #[error("element {element} has more than {max} bytes of text")]
    TextTooLong {
        /// The element's local name.
        element: String,
        /// The configured maximum that was exceeded.
        max: usize,
    },
    /// A character XML 1.0 does not allow (a control character, U+FFFE, U+FFFF), raw or
    /// as a character reference.
    #[error("character U+{code:04X} at byte {position} is not allowed in XML 1.0")]
    ForbiddenCharacter {
        /// Byte offset in the document (of the reference, for a character reference).
        position: usize,
        /// The character's code point.
        code: u32,
    },
    /// No root element.
    #[error("the request body holds no XML element")]
    NoRoot,
    /// Not well-formed, as quick-xml reports it.
    #[error("not well-formed XML at byte {position}: {message}")]
    Malformed {
        /// Byte offset of the problem.
        position: u64,
        /// quick-xml's own description, passed on verbatim.
        message: String,
    },
}

/// Parses `bytes` (UTF-8, optional BOM) into an element tree within `limits`.
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Element, XmlError> {
    let text = decode_utf8(bytes)?;
    TreeBuilder::new(limits).build(text)
}

/// Strips a UTF-8 BOM and refuses UTF-16 and invalid UTF-8 with a precise message.
fn decode_utf8(bytes: &[u8]) -> Result<&str, XmlError> {
    if bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF])
        || bytes.starts_with(&[0x3C, 0x00])
        || bytes.starts_with(&[0x00, 0x3C])
    {
        return Err(XmlError::Utf16);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::InvalidUtf8(e.valid_up_to()))?;
    match text.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        Some((position, c)) => Err(XmlError::ForbiddenCharacter {
            position,
            code: u32::from(c),
        }),
        None => Ok(text),
    }
}

/// XML 1.0's `Char`: no NUL or other control characters (they would reach logs, the audit
/// trail and the database, where PostgreSQL refuses a NUL), no U+FFFE or U+FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

struct TreeBuilder {
    limits: Limits,
    stack: Vec<Element>,
    elements: usize,
    namespaces: Vec<Arc<str>>,
    root: Option<Element>,
}

impl TreeBuilder {
    fn new(limits: Limits) -> Self {
        Self {
            limits,
            stack: Vec::new(),
            elements: 0,
            namespaces: Vec::new(),
            root: None,
        }
    }

    fn build(mut self, text: &str) -> Result<Element, XmlError> {
        let mut reader = NsReader::from_str(text);
        reader.config_mut().check_end_names = true;
        loop {
            let (ns, event) = match reader.read_resolved_event() {
                Ok((resolved, event)) => (self.namespace_of(resolved)?, event),
                Err(e) => return Err(malformed(&reader, &e)),
            };
            match event {
                Event::Start(start) => self.open(ns, &start, &reader)?,
                Event::Empty(start) => {
                    self.open(ns, &start, &reader)?;
                    self.close();
                }
                Event::End(_) => self.close(),
                Event::Text(t) => self.append_text(&t.xml10_content())?,
                Event::CData(c) => self.append_text(&c.into_inner())?,
                Event::GeneralRef(r) => self.append_reference(&r)?,
                Event::Decl(decl) => check_declared_encoding(&decl)?,
                Event::DocType(_) => return Err(XmlError::Dtd),
                Event::PI(_) => return Err(XmlError::ProcessingInstruction),
                Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if !self.stack.is_empty() {
            return Err(XmlError::Malformed {
                position: reader.buffer_position(),
                message: "document ends inside an element".into(),
            });
        }
        self.root.ok_or(XmlError::NoRoot)
    }

    /// Interns namespace URIs so each element holds a cheap shared pointer.
    fn namespace_of(&mut self, resolved: ResolveResult<'_>) -> Result<Option<Arc<str>>, XmlError> {
        match resolved {
            ResolveResult::Unbound => Ok(None),
            ResolveResult::Unknown(prefix) => Err(XmlError::UndeclaredPrefix(prefix)),
            ResolveResult::Bound(ns) => {
                let uri: &str = ns.as_ref();
                if let Some(known) = self.namespaces.iter().find(|n| n.as_ref() == uri) {
                    return Ok(Some(known.clone()));
                }
                let interned: Arc<str> = Arc::from(uri);
                self.namespaces.push(interned.clone());
                Ok(Some(interned))
            }
        }
    }

    fn open(
        &mut self,
        ns: Option<Arc<str>>,
        start: &BytesStart<'_>,
        reader: &NsReader<&[u8]>,
    ) -> Result<(), XmlError> {
        if self.root.is_some() {
            return Err(XmlError::Malformed {
                position: reader.buffer_position(),
                message: "more than one root element".into(),
            });
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(XmlError::TooDeep(self.limits.max_depth));
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(XmlError::TooManyElements(self.limits.max_elements));
        }
        if ns.as_deref() == Some(XINCLUDE_NS) {
            return Err(XmlError::XInclude);
        }
        let attrs = self.read_attributes(start, reader)?;
        let name = start.local_name().as_ref().to_owned();
        self.stack.push(Element {
            ns,
            name,
            attrs,
            text: String::new(),
            children: Vec::new(),
        });
        Ok(())
    }

    fn read_attributes(
        &mut self,
        start: &BytesStart<'_>,
        reader: &NsReader<&[u8]>,
    ) -> Result<Vec<Attr>, XmlError> {
        let mut attrs = Vec::new();
        for (count, attr) in start.attributes().enumerate() {
            if count >= self.limits.max_attributes {
                return Err(XmlError::TooManyAttributes(self.limits.max_attributes));
            }
            let attr = attr.map_err(|e| XmlError::Malformed {
                position: reader.buffer_position(),
                message: e.to_string(),
            })?;
            if attr.key.as_namespace_binding().is_some() {
                continue;
            }
            let (resolved, local) = reader.resolver().resolve_attribute(attr.key);
            let ns = self.namespace_of(resolved)?;
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| reference_error(e, reader))?
                .into_owned();
            if let Some(c) = value.chars().find(|c| !is_xml_char(*c)) {
                return Err(XmlError::ForbiddenCharacter {
                    position: 0,
                    code: u32::from(c),
                });
            }
            attrs.push(Attr {
                ns,
                name: local.as_ref().to_owned(),
                value,
            });
        }
        Ok(attrs)
    }

    fn close(&mut self) {
        if let Some(done) = self.stack.pop() {
            match self.stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => self.root = Some(done),
            }
        }
    }

    fn append_text(&mut self, text: &str) -> Result<(), XmlError> {
        match self.stack.last_mut() {
            Some(el) if el.text.len() + text.len() > self.limits.max_text_bytes => {
                return Err(XmlError::TextTooLong {
                    element: el.name.clone(),
                    max: self.limits.max_text_bytes,
                })
            }
            Some(el) => el.text.push_str(text),
            None if text.trim().is_empty() => {}
            None => {
                return Err(XmlError::Malformed {
                    position: 0,
                    message: "text outside the root element".into(),
                })
            }
        }
        Ok(())
    }

    fn append_reference(&mut self, r: &BytesRef<'_>) -> Result<(), XmlError> {
        let resolved = if r.is_char_ref() {
            r.resolve_char_ref().ok().flatten()
        } else {
            predefined_entity(&r.clone().into_inner())
        };
        let c = resolved
            .ok_or_else(|| XmlError::UndeclaredEntity(truncate(&r.clone().into_inner(), 40)))?;
        if !is_xml_char(c) {
            return Err(XmlError::ForbiddenCharacter {
                position: 0,
                code: u32::from(c),
            });
        }
        let mut buf = [0u8; 4];
        self.append_text(c.encode_utf8(&mut buf))
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

fn check_declared_encoding(decl: &quick_xml::events::BytesDecl<'_>) -> Result<(), XmlError> {
    if let Some(Ok(enc)) = decl.encoding() {
        if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
            return Err(XmlError::DeclaredEncoding(truncate(&enc, 40)));
        }
    }
    Ok(())
}

fn malformed(reader: &NsReader<&[u8]>, e: &quick_xml::Error) -> XmlError {
    XmlError::Malformed {
        position: reader.error_position(),
        message: e.to_string(),
    }
}

fn reference_error(e: quick_xml::Error, reader: &NsReader<&[u8]>) -> XmlError {
    match e {
        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => {
            XmlError::UndeclaredEntity(truncate(&name, 40))
        }
        other => XmlError::Malformed {
            position: reader.buffer_position(),
            message: other.to_string(),
        },
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Element {
    /// True when the element has namespace `ns` and local name `name`.
    pub(crate) fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// The first child with this namespace and name.
    #[cfg(test)]
    pub(crate) fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// The value of an attribute by namespace and local name.
    pub(crate) fn attr(&self, ns: Option<&str>, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name && a.ns.as_deref() == ns)
            .map(|a| a.value.as_str())
    }

    /// `{namespace}name`, for messages.
    pub(crate) fn qualified_name(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Element, XmlError> {
        parse(s.as_bytes(), Limits::default())
    }

    #[test]
    fn namespaces_resolve_whatever_the_prefix() {
        for doc in [
            r#"<a xmlns="urn:x"><b>1</b></a>"#,
            r#"<n:a xmlns:n="urn:x"><n:b>1</n:b></n:a>"#,
            r#"<urn:a xmlns:urn="urn:x"><urn:b>1</urn:b></urn:a>"#,
        ] {
            let el = p(doc).unwrap();
            assert!(el.is("urn:x", "a"));
            assert_eq!(el.child("urn:x", "b").unwrap().text, "1");
        }
    }

    #[test]
    fn references_cdata_and_comments_become_text() {
        let el = p("<a>x&amp;y&#x41;<!-- c --><![CDATA[<z>]]>&lt;</a>").unwrap();
        assert_eq!(el.text, "x&yA<z><");
    }

    #[test]
    fn dtd_entities_and_pis_are_refused() {
        assert_eq!(
            p(r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#),
            Err(XmlError::Dtd)
        );
        assert_eq!(p("<a>&x;</a>"), Err(XmlError::UndeclaredEntity("x".into())));
        assert_eq!(p("<?php x?><a/>"), Err(XmlError::ProcessingInstruction));
        assert_eq!(
            p("<a>x\u{0}y</a>"),
            Err(XmlError::ForbiddenCharacter {
                position: 4,
                code: 0
            })
        );
        assert!(matches!(
            p("<a>&#1;</a>"),
            Err(XmlError::ForbiddenCharacter { code: 1, .. })
        ));
        assert!(matches!(
            p("<a b='&#x1F;'/>"),
            Err(XmlError::ForbiddenCharacter { code: 0x1F, .. })
        ));
        assert!(p("<a>tab\there\r\nå€😀</a>").is_ok());
        assert!(matches!(
            p(r#"<a b="&x;"/>"#),
            Err(XmlError::UndeclaredEntity(_))
        ));
        assert_eq!(
            p(
                r#"<a><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/></a>"#
            ),
            Err(XmlError::XInclude)
        );
    }

    #[test]
    fn limits_are_enforced() {
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(p(&deep), Err(XmlError::TooDeep(32)));
        let attrs: String = (0..100).map(|i| format!(" a{i}=\"1\"")).collect();
        assert_eq!(
            p(&format!("<a{attrs}/>")),
            Err(XmlError::TooManyAttributes(32))
        );
        let many = format!("<a>{}</a>", "<b/>".repeat(20_001));
        assert_eq!(p(&many), Err(XmlError::TooManyElements(20_000)));
        let long = format!("<a><b>{}</b></a>", "x".repeat(4_097));
        assert_eq!(
            p(&long),
            Err(XmlError::TextTooLong {
                element: "b".into(),
                max: 4_096
            })
        );
        let split = format!("<a>{}&amp;{}</a>", "x".repeat(2_048), "x".repeat(2_048));
        assert_eq!(
            p(&split),
            Err(XmlError::TextTooLong {
                element: "a".into(),
                max: 4_096
            })
        );
        assert!(p(&format!("<a>{}</a>", "x".repeat(4_096))).is_ok());
    }

    #[test]
    fn encodings_other_than_utf8_are_refused() {
        assert_eq!(
            parse(&[0xFF, 0xFE, b'<', 0], Limits::default()),
            Err(XmlError::Utf16)
        );
        assert_eq!(
            parse(b"<a>\xff</a>", Limits::default()),
            Err(XmlError::InvalidUtf8(3))
        );
        assert!(matches!(
            p(r#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#),
            Err(XmlError::DeclaredEncoding(_))
        ));
        assert!(parse(b"\xEF\xBB\xBF<a/>", Limits::default()).is_ok());
    }

    #[test]
    fn malformed_documents_are_refused() {
        for doc in ["", "<a>", "<a></b>", "<a/><b/>", "text", "<x:a/>"] {
            assert!(p(doc).is_err(), "{doc:?} accepted");
        }
    }
}
