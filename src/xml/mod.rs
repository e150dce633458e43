//! XML plumbing shared by the envelope and the contracts: a bounded tree reader, a
//! sequence decoder that follows the XSD's element order, and a writer.

pub mod decode;
pub(crate) mod reader;
pub(crate) mod writer;

pub use decode::{DecodeError, DecodeProblem, Seq};
pub use reader::{parse, Element, Limits, XmlError};
pub(crate) use writer::XmlWriter;
