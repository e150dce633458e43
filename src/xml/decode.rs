//! Decoding an element's children in XSD sequence order, with precise errors.
//!
//! Elements in the expected namespace must come in the schema's order and
//! cardinality; elements of other namespaces fill the `xs:any ##other` slots and
//! are skipped; unqualified or unknown elements are errors.

use super::reader::Element;

/// A request that is well-formed but not valid against the contract's schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct DecodeError {
    /// Element path, e.g. `GetPersonsForProfile/personId[2]/root`.
    pub path: String,
    /// What is wrong at `path`; its text is the fault string's tail.
    pub problem: DecodeProblem,
}

/// What is wrong at a path; the texts are the Fault's words (tests/messages pins them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeProblem {
    /// A complex-type element carries text.
    #[error("has text where only child elements are allowed")]
    TextInComplexElement,
    /// A foreign (`xs:any`) element stands before one of ours.
    #[error("an element of namespace {namespace} stands before {ours}: extension elements (xs:any) go at the end")]
    ExtensionNotAtEnd {
        /// The foreign element's namespace.
        namespace: String,
        /// Our element that follows it.
        ours: String,
    },
    /// An element without a namespace.
    #[error("element has no namespace; expected namespace {expected}")]
    NoNamespace {
        /// The responder namespace the contract publishes.
        expected: String,
    },
    /// An element repeated beyond its `maxOccurs`.
    #[error("more than {max} occurrences")]
    TooMany {
        /// The schema's `maxOccurs` for the element.
        max: usize,
    },
    /// An element unknown here, or out of the schema's order.
    #[error("unexpected element: unknown here or out of the schema's order")]
    Unexpected,
    /// A required element is there, but under another namespace.
    #[error("is in namespace {}; expected namespace {expected}", found.as_deref().unwrap_or("(none)"))]
    WrongNamespace {
        /// The namespace it has, if any.
        found: Option<String>,
        /// The responder namespace the contract publishes.
        expected: String,
    },
    /// A required element is missing.
    #[error("required element is missing{}", instead.as_deref().map(|n| format!(" (found {n} instead)")).unwrap_or_default())]
    Missing {
        /// The element that stands where it should be, if any.
        instead: Option<String>,
    },
    /// A simple-type element has child elements.
    #[error("must hold text only, not child elements")]
    ChildrenInSimpleElement,
    /// Not `true`, `false`, `1` or `0`.
    #[error("is not an xs:boolean (true, false, 1 or 0)")]
    NotBoolean,
    /// Not an `xs:int`.
    #[error("is not an xs:int")]
    NotInt,
    /// Longer than the type allows.
    #[error("is longer than {max} characters")]
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// Not 14 characters.
    #[error("must be a Timestamp of exactly 14 characters YYYYMMDDhhmmss")]
    NotTimestamp,
}

impl DecodeError {
    /// An error reporting `problem` at the element path `path` (e.g. `…/personId/extension`).
    pub(crate) fn new(path: impl Into<String>, problem: DecodeProblem) -> Self {
        Self {
            path: path.into(),
            problem,
        }
    }
}

/// Walks the children of one complex-type element in schema order.
pub struct Seq<'a> {
    ns: &'a str,
    path: String,
    parent: &'a Element,
    pos: usize,
}

impl<'a> Seq<'a> {
    /// Starts reading `el`, whose children belong to namespace `ns`; `path` names `el` in errors.
    pub fn new(el: &'a Element, ns: &'a str, path: impl Into<String>) -> Result<Self, DecodeError> {
        let path = path.into();
        if !el.text.trim().is_empty() {
            return Err(DecodeError::new(path, DecodeProblem::TextInComplexElement));
        }
        Ok(Self {
            ns,
            path,
            parent: el,
            pos: 0,
        })
    }

    /// Skips foreign elements (the trailing `xs:any` slot); errors on an unqualified one and
    /// on one of ours that follows a foreign one, since the slot is at the end of the sequence.
    fn skip_foreign(&mut self) -> Result<(), DecodeError> {
        let mut foreign: Option<&Element> = None;
        while let Some(el) = self.parent.children.get(self.pos) {
            match el.ns.as_deref() {
                Some(ns) if ns == self.ns => {
                    return match foreign {
                        None => Ok(()),
                        Some(f) => Err(DecodeError::new(
                            format!("{}/{}", self.path, f.name),
                            DecodeProblem::ExtensionNotAtEnd {
                                namespace: f.ns.as_deref().unwrap_or("").to_owned(),
                                ours: el.name.clone(),
                            },
                        )),
                    };
                }
                Some(_) => {
                    foreign.get_or_insert(el);
                    self.pos += 1;
                }
                None => {
                    return Err(DecodeError::new(
                        format!("{}/{}", self.path, el.name),
                        DecodeProblem::NoNamespace {
                            expected: self.ns.to_owned(),
                        },
                    ))
                }
            }
        }
        Ok(())
    }

    /// Takes the next child if it is `name`.
    pub fn optional(&mut self, name: &str) -> Result<Option<&'a Element>, DecodeError> {
        self.skip_foreign()?;
        match self.parent.children.get(self.pos) {
            Some(el) if el.name == name => {
                self.pos += 1;
                Ok(Some(el))
            }
            _ => Ok(None),
        }
    }

    /// Takes the next child, which must be `name`.
    pub fn required(&mut self, name: &str) -> Result<&'a Element, DecodeError> {
        match self.optional(name)? {
            Some(el) => Ok(el),
            None => Err(self.missing(name)),
        }
    }

    /// Takes consecutive `name` children, at least `min` and at most `max`.
    pub fn repeated(
        &mut self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<Vec<&'a Element>, DecodeError> {
        let mut found = Vec::new();
        while let Some(el) = self.optional(name)? {
            if found.len() == max {
                return Err(DecodeError::new(
                    format!("{}/{name}", self.path),
                    DecodeProblem::TooMany { max },
                ));
            }
            found.push(el);
        }
        if found.len() < min {
            return Err(self.missing(name));
        }
        Ok(found)
    }

    /// Counts consecutive `name` children without decoding them (for elements only ever refused).
    pub(crate) fn count(&mut self, name: &str) -> Result<usize, DecodeError> {
        let mut n = 0;
        while self.optional(name)?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Ends the sequence: anything left in our namespace is out of order or unknown.
    pub(crate) fn finish(mut self) -> Result<(), DecodeError> {
        self.skip_foreign()?;
        match self.parent.children.get(self.pos) {
            None => Ok(()),
            Some(el) => Err(DecodeError::new(
                format!("{}/{}", self.path, el.name),
                DecodeProblem::Unexpected,
            )),
        }
    }

    /// Explains a missing element, pointing out one that is there under another namespace.
    fn missing(&self, name: &str) -> DecodeError {
        let path = format!("{}/{name}", self.path);
        let elsewhere = self
            .parent
            .children
            .iter()
            .find(|c| c.name == name && c.ns.as_deref() != Some(self.ns));
        match (elsewhere, self.parent.children.get(self.pos)) {
            (Some(el), _) => DecodeError::new(
                path,
                DecodeProblem::WrongNamespace {
                    found: el.ns.as_deref().map(str::to_owned),
                    expected: self.ns.to_owned(),
                },
            ),
            (None, Some(next)) => DecodeError::new(
                path,
                DecodeProblem::Missing {
                    instead: Some(next.name.clone()),
                },
            ),
            (None, None) => DecodeError::new(path, DecodeProblem::Missing { instead: None }),
        }
    }
}

/// The text of a simple-type element; child elements are an error.
pub fn text<'e>(el: &'e Element, path: &str) -> Result<&'e str, DecodeError> {
    if el.children.is_empty() {
        Ok(&el.text)
    } else {
        Err(DecodeError::new(
            path,
            DecodeProblem::ChildrenInSimpleElement,
        ))
    }
}

/// An `xs:boolean` (`true`, `false`, `1`, `0`, surrounding whitespace collapsed).
pub fn boolean(el: &Element, path: &str) -> Result<bool, DecodeError> {
    match text(el, path)?.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DecodeError::new(path, DecodeProblem::NotBoolean)),
    }
}

/// An `xs:string` restricted to at most `max` characters.
pub(crate) fn bounded<'e>(el: &'e Element, path: &str, max: usize) -> Result<&'e str, DecodeError> {
    let s = text(el, path)?;
    if s.chars().count() > max {
        return Err(DecodeError::new(path, DecodeProblem::TooLong { max }));
    }
    Ok(s)
}

/// A `Timestamp`: exactly 14 characters.
pub(crate) fn timestamp<'e>(el: &'e Element, path: &str) -> Result<&'e str, DecodeError> {
    let s = text(el, path)?;
    if s.chars().count() != 14 {
        return Err(DecodeError::new(path, DecodeProblem::NotTimestamp));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::reader::{parse, Limits};

    fn doc(s: &str) -> Element {
        parse(s.as_bytes(), Limits::default()).unwrap()
    }

    #[test]
    fn order_cardinality_and_foreign_elements() {
        let el = doc(
            r#"<a xmlns="urn:x" xmlns:o="urn:o"><b>1</b><c>2</c><c>3</c><o:ext/><o:tail><deep/></o:tail></a>"#,
        );
        let mut s = Seq::new(&el, "urn:x", "a").unwrap();
        assert_eq!(s.required("b").unwrap().text, "1");
        assert_eq!(s.repeated("c", 1, 5).unwrap().len(), 2);
        assert!(s.optional("d").unwrap().is_none());
        s.finish().unwrap();
        let el = doc(r#"<a xmlns="urn:x" xmlns:o="urn:o"><b>1</b><o:ext/><c>2</c></a>"#);
        let mut s = Seq::new(&el, "urn:x", "a").unwrap();
        s.required("b").unwrap();
        assert!(matches!(
            s.optional("c").unwrap_err().problem,
            DecodeProblem::ExtensionNotAtEnd { .. }
        ));
    }

    #[test]
    fn out_of_order_unknown_and_unqualified_are_errors() {
        let el = doc(r#"<a xmlns="urn:x"><c/><b/></a>"#);
        let mut s = Seq::new(&el, "urn:x", "a").unwrap();
        assert!(s.optional("b").unwrap().is_none());
        assert!(s.optional("c").unwrap().is_some());
        assert_eq!(s.finish().unwrap_err().path, "a/b");
        let el = doc(r#"<x:a xmlns:x="urn:x"><b/></x:a>"#);
        let err = Seq::new(&el, "urn:x", "a")
            .unwrap()
            .required("b")
            .unwrap_err();
        assert!(
            matches!(err.problem, DecodeProblem::NoNamespace { .. }),
            "{err}"
        );
        let el = doc(r#"<x:a xmlns:x="urn:x" xmlns:y="urn:y"><y:b/></x:a>"#);
        let err = Seq::new(&el, "urn:x", "a")
            .unwrap()
            .required("b")
            .unwrap_err();
        assert!(err.to_string().contains("is in namespace urn:y"), "{err}");
    }

    #[test]
    fn simple_types() {
        let el = doc(r#"<a> true </a>"#);
        assert!(boolean(&el, "a").unwrap());
        assert!(boolean(&doc("<a>yes</a>"), "a").is_err());
        assert!(timestamp(&doc("<a>2026</a>"), "a").is_err());
        assert!(bounded(&doc("<a>abc</a>"), "a", 2).is_err());
    }
}
