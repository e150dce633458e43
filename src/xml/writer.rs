//! A small XML writer: elements with qualified names, escaped text, nothing else; and the
//! escaping of text for documents written without it.

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

    /// Writes the start tag `<qname>`, no attributes.
    pub(crate) fn open(&mut self, qname: &str) -> &mut Self {
        self.open_with(qname, &[])
    }

    /// Writes the end tag `</qname>`; the caller keeps tags balanced.
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

    /// The document written so far, consuming the writer.
    pub(crate) fn finish(self) -> String {
        self.buf
    }
}

/// Escapes text for XML content and attribute values alike (`&`, `<`, `>`, `"`, `'`), for
/// documents written without [`XmlWriter`] (the report's JUnit file). A control character
/// other than tab, line feed and carriage return, and U+FFFE and U+FFFF, become U+FFFD: XML
/// 1.0 cannot carry most of them, a parser refuses a whole file for one, and none belongs
/// in a report.
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
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_markup_inert_and_no_control_character() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"
        );
        assert_eq!(escape("line\tone\r\nline two"), "line\tone\r\nline two");
        for bad in [
            '\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{FFFE}', '\u{FFFF}',
        ] {
            assert_eq!(escape(&format!("a{bad}b")), "a\u{FFFD}b", "{bad:?}");
        }
        assert_eq!(escape("Åsa, Göran: é ✓ 𝄞"), "Åsa, Göran: é ✓ 𝄞");
    }
}
