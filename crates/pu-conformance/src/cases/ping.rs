//! PingForConfiguration's case: the producer answers with a version, its time and its
//! configuration entries.

use super::{read, require};
use crate::contract::Contract::{GetPersonsForProfile, PingForConfiguration};
use crate::messages::*;
use crate::probe::{expect_response, Case};
use crate::xml::escape;

/// PingForConfiguration's case, in run order.
pub(super) fn push(cases: &mut Vec<Case>) {
    cases.push(read("PingForConfiguration/answers", |x| {
        let payload = format!(
            "<PingForConfiguration xmlns=\"{}\"><serviceContractNamespace>{}</serviceContractNamespace><logicalAddress>{}</logicalAddress></PingForConfiguration>",
            PingForConfiguration.responder_ns(),
            GetPersonsForProfile.responder_ns(),
            escape(&x.options.logical_address)
        );
        let a = x.call(PingForConfiguration, Who::Consumer, x.la(), &payload)?;
        let r = expect_response(&a, PingForConfiguration)?;
        let text = |n: &str| kid(r, PingForConfiguration.responder_ns(), n).map(|e| e.text.trim().to_owned());
        require(text("version").is_some_and(|version| !version.is_empty()), || "expected a version, found none".into())?;
        let t = text("pingDateTime").unwrap_or_default();
        require(t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()), || "expected pingDateTime YYYYMMDDhhmmss, found another form (value not shown)".into())?;
        Ok(format!("{} configuration entries", kids(r, PingForConfiguration.responder_ns(), "configuration").len()))
    }));
}
