//! The client certificate's identity: the subject's `serialNumber` of arbitrary DER, and
//! the RFC 4514 hex form on arbitrary text (with and without its leading '#').
#![no_main]

use libfuzzer_sys::fuzz_target;
use pu_adapter::transport::identity::{decode_hex_form, serial_number_of};

fuzz_target!(|data: &[u8]| {
    if let Ok(serial) = serial_number_of(data) {
        assert!(!serial.is_empty() && serial.trim() == serial, "{serial:?}");
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = decode_hex_form(text);
    // Most inputs do not start with '#': this way every one reaches the hex decoding.
    let _ = decode_hex_form(&format!("#{text}"));
});
