//! SOAP 1.1 Faults: code, a faultstring with the log id, no personal data.

use crate::contracts::RESULT_NS;
use crate::xml::XmlWriter;
use uuid::Uuid;

/// The SOAP 1.1 fault codes we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// `soap:Client`: the request was wrong; sending it again unchanged fails again.
    Client,
    /// `soap:Server`: we failed; the same request may succeed later.
    Server,
    /// Not a SOAP 1.1 envelope.
    VersionMismatch,
    /// A mandatory header was not understood.
    MustUnderstand,
}

impl FaultCode {
    /// The qualified code as written in `faultcode`.
    pub fn as_qname(self) -> &'static str {
        match self {
            FaultCode::Client => "soap:Client",
            FaultCode::Server => "soap:Server",
            FaultCode::VersionMismatch => "soap:VersionMismatch",
            FaultCode::MustUnderstand => "soap:MustUnderstand",
        }
    }
}

/// A fault ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Who is at fault.
    pub code: FaultCode,
    /// What went wrong; never personal data.
    pub(crate) message: String,
    /// The id under which the fault is logged.
    pub log_id: Uuid,
}

impl Fault {
    /// A fault with a fresh log id.
    pub(crate) fn new(code: FaultCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            log_id: Uuid::new_v4(),
        }
    }

    /// The faultstring: the message and the log id.
    pub(crate) fn fault_string(&self) -> String {
        format!("{} (logId {})", self.message, self.log_id)
    }

    /// The complete SOAP 1.1 envelope carrying this fault.
    pub(crate) fn to_envelope(&self) -> String {
        let mut w = XmlWriter::with_capacity(512);
        w.raw(r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>"#);
        w.leaf("faultcode", self.code.as_qname());
        w.leaf("faultstring", &self.fault_string());
        w.open("detail");
        w.open_with("r:logId", &[("xmlns:r", RESULT_NS)])
            .raw(&self.log_id.to_string())
            .close("r:logId");
        w.close("detail");
        w.raw("</soap:Fault></soap:Body></soap:Envelope>");
        w.finish()
    }
}
