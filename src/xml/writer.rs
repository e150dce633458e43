//! A small XML writer: elements with qualified names, escaped text, nothing else.

use std::fmt::Write as _;

/// Builds an XML fragment into a `String`.
#[derive(Debug, Default)]
pub(crate) struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    /// A writer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: String::with_capacity(capacity),
        }
    }

    /// `<qname attr="value" …>`; attribute values are escaped.
    pub(crate) fn open_with(&mut self, qname: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(qname);
        for (name, value) in attrs {
            let _ = write!(
                self.buf,
                " {name}=\"{}\"",
                quick_xml::escape::escape(*value)
            );
        }
        self.buf.push('>');
        self
    }

    /// `<qname>`.
    pub(crate) fn open(&mut self, qname: &str) -> &mut Self {
        self.open_with(qname, &[])
    }

    /// `</qname>`.
    pub(crate) fn close(&mut self, qname: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(qname);
        self.buf.push('>');
        self
    }

    /// `<qname>text</qname>` with the text escaped.
    pub(crate) fn leaf(&mut self, qname: &str, text: &str) -> &mut Self {
        self.open(qname);
        self.buf.push_str(&quick_xml::escape::partial_escape(text));
        self.close(qname)
    }

    /// A leaf only when `text` is present.
    pub(crate) fn leaf_opt(&mut self, qname: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.leaf(qname, t);
        }
        self
    }

    /// A boolean leaf (`true`/`false`).
    pub(crate) fn leaf_bool(&mut self, qname: &str, value: bool) -> &mut Self {
        self.leaf(qname, if value { "true" } else { "false" })
    }

    /// Escaped character data inside the element just opened.
    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        self.buf.push_str(&quick_xml::escape::partial_escape(text));
        self
    }

    /// Appends markup that is already well-formed (e.g. another writer's output).
    pub(crate) fn raw(&mut self, markup: &str) -> &mut Self {
        self.buf.push_str(markup);
        self
    }

    /// The finished text.
    pub(crate) fn finish(self) -> String {
        self.buf
    }
}
