//! PingForConfiguration 1.0: the request and response mapping.

use super::Contract;
use crate::xml::decode::text;
use crate::xml::{DecodeError, Element, Seq, XmlWriter};

/// The request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `serviceContractNamespace`.
    pub(crate) service_contract_namespace: String,
    /// `logicalAddress`.
    pub logical_address: String,
}

/// Reads the request element.
pub fn decode(el: &Element) -> Result<Request, DecodeError> {
    let c = Contract::PingForConfiguration;
    let mut s = Seq::new(el, c.responder_ns(), c.name())?;
    let service_contract_namespace = text(
        s.required("serviceContractNamespace")?,
        "PingForConfiguration/serviceContractNamespace",
    )?
    .to_owned();
    let logical_address = text(
        s.required("logicalAddress")?,
        "PingForConfiguration/logicalAddress",
    )?
    .to_owned();
    s.finish()?;
    Ok(Request {
        service_contract_namespace,
        logical_address,
    })
}

/// Writes the response payload.
pub(crate) fn encode(
    version: &str,
    ping_date_time: &str,
    configuration: &[(&str, String)],
) -> String {
    let c = Contract::PingForConfiguration;
    let name = c.response_element();
    let mut w = XmlWriter::with_capacity(512);
    w.open_with(&name, &[("xmlns", c.responder_ns())]);
    w.leaf("version", version)
        .leaf("pingDateTime", ping_date_time);
    for (n, v) in configuration {
        w.open("configuration")
            .leaf("name", n)
            .leaf("value", v)
            .close("configuration");
    }
    w.close(&name);
    w.finish()
}
