//! A small namespace-resolving tree reader for the producer's answers, and the escaper for
//! what the kit writes.
//!
//! Not the service's reader: a reader bug shared by the producer and the kit that judges it
//! would hide the producer's mistake. This one only has to read answers (bounded, so a
//! hostile producer cannot exhaust the kit); its errors never quote the document.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Bounds on an answer's shape (answers may be larger than requests: WSDL documentation,
/// 500 records).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_depth: usize,
    pub(crate) max_elements: usize,
    pub(crate) max_text_bytes: usize,
}

impl Limits {
    /// What the cases accept from a producer.
    pub(crate) const ANSWERS: Limits = Limits {
        max_depth: 64,
        max_elements: 1_000_000,
        max_text_bytes: 1 << 20,
    };
}

/// An element with its resolved namespace, attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// Namespace URI, `None` when unqualified.
    pub(crate) ns: Option<String>,
    /// Local name, prefix stripped.
    pub(crate) name: String,
    /// `(namespace, local name, value)` of each attribute but the namespace declarations.
    attrs: Vec<(Option<String>, String, String)>,
    /// Concatenated character data.
    pub(crate) text: String,
    /// Child elements in document order.
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// True when the element has namespace `ns` and local name `name`.
    pub(crate) fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// An attribute's value by namespace and local name.
    pub(crate) fn attr(&self, ns: Option<&str>, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, local, _)| local == name && n.as_deref() == ns)
            .map(|(_, _, value)| value.as_str())
    }

    /// `{namespace}name`: an element name, which reports may show (never its text).
    pub(crate) fn qualified_name(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Why an answer could not be read. The texts name a position or a limit, never content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum XmlError {
    /// Not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// Not well-formed, or a prefix without a declaration.
    #[error("not well-formed XML near byte {0}")]
    Malformed(u64),
    /// Nesting deeper than the limit.
    #[error("elements nested deeper than {0} levels")]
    TooDeep(usize),
    /// More elements than the limit.
    #[error("more than {0} elements")]
    TooManyElements(usize),
    /// More character data in one element than the limit.
    #[error("more than {0} bytes of text in one element")]
    TextTooLong(usize),
    /// No root element.
    #[error("no XML element")]
    NoRoot,
}

/// Reads `bytes` (UTF-8, optional BOM) into an element tree within `limits`.
pub(crate) fn parse(bytes: &[u8], limits: Limits) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let malformed = |reader: &NsReader<&[u8]>| XmlError::Malformed(reader.buffer_position());
    let mut stack: Vec<Element> = Vec::new();
    let mut elements = 0usize;
    let mut root = None;
    loop {
        let read = reader.read_resolved_event();
        let Ok((resolved, event)) = read else {
            return Err(XmlError::Malformed(reader.error_position()));
        };
        let ns = match resolved {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(_) => return Err(malformed(&reader)),
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(malformed(&reader));
            }
            Event::Start(start) => {
                elements += 1;
                check_shape(stack.len(), elements, limits)?;
                stack.push(open(ns, &start, &reader)?);
            }
            Event::Empty(start) => {
                elements += 1;
                check_shape(stack.len(), elements, limits)?;
                let element = open(ns, &start, &reader)?;
                close(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed(&reader))?;
                close(element, &mut stack, &mut root);
            }
            Event::Text(t) => {
                let t = t.xml10_content();
                append(&mut stack, &t, limits)?;
            }
            Event::CData(c) => {
                let c = c.into_inner();
                append(&mut stack, &c, limits)?;
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    predefined_entity(&r.into_inner())
                };
                let c = c.ok_or_else(|| malformed(&reader))?;
                append(&mut stack, c.encode_utf8(&mut [0u8; 4]), limits)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed(&reader));
    }
    root.ok_or(XmlError::NoRoot)
}

fn check_shape(depth: usize, elements: usize, limits: Limits) -> Result<(), XmlError> {
    if depth >= limits.max_depth {
        return Err(XmlError::TooDeep(limits.max_depth));
    }
    if elements > limits.max_elements {
        return Err(XmlError::TooManyElements(limits.max_elements));
    }
    Ok(())
}

fn open(
    ns: Option<String>,
    start: &BytesStart<'_>,
    reader: &NsReader<&[u8]>,
) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|_| XmlError::Malformed(reader.buffer_position()))?;
        if attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, local) = reader.resolver().resolve_attribute(attr.key);
        let ns = match resolved {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_owned()),
            _ => None,
        };
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|_| XmlError::Malformed(reader.buffer_position()))?
            .into_owned();
        attrs.push((ns, local.as_ref().to_owned(), value));
    }
    Ok(Element {
        ns,
        name: start.local_name().as_ref().to_owned(),
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

fn close(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn append(stack: &mut [Element], text: &str, limits: Limits) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(e) if e.text.len() + text.len() > limits.max_text_bytes => {
            Err(XmlError::TextTooLong(limits.max_text_bytes))
        }
        Some(e) => {
            e.text.push_str(text);
            Ok(())
        }
        // Whitespace (and, leniently, anything) outside the root is not the cases' concern.
        None => Ok(()),
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

/// Escapes text for XML content and attribute values; drops characters XML 1.0 cannot
/// carry at all (most C0 controls), since a CI parser refuses a whole JUnit file for one.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Element, XmlError> {
        parse(s.as_bytes(), Limits::ANSWERS)
    }

    #[test]
    fn namespaces_resolve_whatever_the_prefix() {
        for doc in [
            r#"<a xmlns="urn:x"><b k="v">1</b></a>"#,
            r#"<n:a xmlns:n="urn:x"><n:b k="v">1</n:b></n:a>"#,
        ] {
            let a = p(doc).unwrap();
            assert!(a.is("urn:x", "a"));
            assert_eq!(a.children[0].text, "1");
            assert_eq!(a.children[0].attr(None, "k"), Some("v"));
        }
        let t = p("<a>x&amp;y&#x41;<![CDATA[<z>]]></a>").unwrap();
        assert_eq!(t.text, "x&yA<z>");
    }

    #[test]
    fn errors_never_quote_the_document() {
        for doc in [
            "<a>Storgatan 12</b>",
            "<x:a>Storgatan 12</x:a>",
            "<a>Storgatan 12",
            "<a>&Storgatan;</a>",
        ] {
            let e = p(doc).unwrap_err().to_string();
            assert!(!e.contains("Storgatan"), "{doc}: {e}");
        }
        let deep = "<a>".repeat(70) + &"</a>".repeat(70);
        assert_eq!(p(&deep), Err(XmlError::TooDeep(64)));
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("a<b>&\"c\" 'd'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;\u{FFFD}"
        );
    }
}
