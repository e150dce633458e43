//! Who is calling (AC-1): the HSA-id in the client certificate subject's `serialNumber`
//! (OID 2.5.4.5), or, behind the national service platform's certificate, the value of
//! `x-rivta-original-serviceconsumer-hsaid`.

use x509_parser::prelude::{FromDer, X509Certificate};

/// The header in which the service platform names the original consumer.
pub(crate) const ORIGINAL_CONSUMER_HEADER: &str = "x-rivta-original-serviceconsumer-hsaid";

/// The `serialNumber` of a DER certificate's subject, decoded as the platform does.
pub(crate) fn serial_number_of(cert_der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
    let attr = cert
        .subject()
        .iter_attributes()
        .find(|a| a.attr_type().to_id_string() == "2.5.4.5")?;
    let value = match attr.as_str() {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8(attr.attr_value().data.to_vec()).ok()?,
    };
    let value = decode_hex_form(&value).unwrap_or(value);
    let value = value.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

/// RFC 4514 renders some values as `#` + hex of their BER encoding; the platform reads those back.
pub(crate) fn decode_hex_form(value: &str) -> Option<String> {
    let hex = value.strip_prefix('#')?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let content = match bytes.as_slice() {
        // A short-form DER string (UTF8String, PrintableString, IA5String, …): tag, length, content.
        [_tag, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
        raw => raw,
    };
    String::from_utf8(content.to_vec()).ok()
}

/// Decides the consumer: a platform certificate may name another consumer in the header.
pub(crate) fn consumer_of(
    cert_serial: Option<&str>,
    header: Option<&str>,
    platform_ids: &[String],
) -> ConsumerIdentity {
    let Some(serial) = cert_serial else {
        return ConsumerIdentity {
            consumer: None,
            via_platform: false,
            ignored_header: header.is_some(),
        };
    };
    let is_platform = platform_ids.iter().any(|p| p == serial);
    match header.map(str::trim).filter(|h| !h.is_empty()) {
        Some(original) if is_platform => ConsumerIdentity {
            consumer: Some(original.to_owned()),
            via_platform: true,
            ignored_header: false,
        },
        Some(_) => ConsumerIdentity {
            consumer: Some(serial.to_owned()),
            via_platform: false,
            ignored_header: true,
        },
        None => ConsumerIdentity {
            consumer: Some(serial.to_owned()),
            via_platform: is_platform,
            ignored_header: false,
        },
    }
}

/// The consumer of a call and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsumerIdentity {
    /// The consumer's HSA-id, if any could be read.
    pub consumer: Option<String>,
    /// The call came through the service platform.
    pub(crate) via_platform: bool,
    /// A platform header came from a certificate that is not the platform's and was ignored.
    pub(crate) ignored_header: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ac1_hex_encoded_serial_numbers_are_decoded() {
        // PrintableString "SE123-X": tag 0x13, length 7.
        assert_eq!(
            decode_hex_form("#130753453132332d58"),
            Some("SE123-X".into())
        );
        assert_eq!(decode_hex_form("SE123"), None);
    }

    #[test]
    fn ac1_only_the_platform_may_name_another_consumer() {
        let platform = vec!["SE-PLATFORM".to_owned()];
        let via = consumer_of(Some("SE-PLATFORM"), Some("SE-ORIGINAL"), &platform);
        assert_eq!(via.consumer.as_deref(), Some("SE-ORIGINAL"));
        assert!(via.via_platform);
        let direct = consumer_of(Some("SE-CONSUMER"), Some("SE-ORIGINAL"), &platform);
        assert_eq!(direct.consumer.as_deref(), Some("SE-CONSUMER"));
        assert!(direct.ignored_header);
        assert_eq!(consumer_of(None, None, &platform).consumer, None);
    }
}
