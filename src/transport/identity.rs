//! Who is calling (AC-1): the HSA-id in the client certificate subject's `serialNumber`
//! (OID 2.5.4.5), or, behind the national service platform's certificate, the value of
//! `x-rivta-original-serviceconsumer-hsaid`.

use x509_parser::prelude::{FromDer, X509Certificate};

/// The header in which the service platform names the original consumer.
pub(crate) const ORIGINAL_CONSUMER_HEADER: &str = "x-rivta-original-serviceconsumer-hsaid";

/// Why a client certificate names no consumer.
#[derive(Debug, thiserror::Error)]
pub enum SerialNumberError {
    /// The bytes are not a certificate x509-parser can read.
    #[error("not a readable certificate: {0}")]
    Certificate(#[source] x509_parser::nom::Err<x509_parser::error::X509Error>),
    /// The subject has no `serialNumber`.
    #[error("the certificate subject has no serialNumber (2.5.4.5)")]
    Missing,
    /// The `serialNumber` is not UTF-8 text.
    #[error("the subject's serialNumber is not UTF-8 text: {0}")]
    NotText(#[source] std::string::FromUtf8Error),
    /// The `serialNumber` is empty or only white space.
    #[error("the subject's serialNumber is blank")]
    Blank,
}

/// The `serialNumber` of a DER certificate's subject, decoded as the platform does.
///
/// Any bytes are safe here: the fuzz target `identity` runs this on arbitrary input.
pub fn serial_number_of(cert_der: &[u8]) -> Result<String, SerialNumberError> {
    let (_, cert) = X509Certificate::from_der(cert_der).map_err(SerialNumberError::Certificate)?;
    let attr = cert
        .subject()
        .iter_attributes()
        .find(|a| a.attr_type().to_id_string() == "2.5.4.5")
        .ok_or(SerialNumberError::Missing)?;
    let value = match attr.as_str() {
        Ok(s) => s.to_owned(),
        // x509-parser decodes only the common string types; the others are read as UTF-8.
        Err(_) => String::from_utf8(attr.attr_value().data.to_vec())
            .map_err(SerialNumberError::NotText)?,
    };
    // A value that is not a well-formed hex form is kept as written: no HSA-id starts with
    // '#', so it names no known consumer, and the refusal's log shows what the certificate said.
    let value = decode_hex_form(&value).unwrap_or(value);
    match value.trim() {
        "" => Err(SerialNumberError::Blank),
        trimmed => Ok(trimmed.to_owned()),
    }
}

/// Why a value is not in the RFC 4514 hex form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexFormError {
    /// It does not start with `#`.
    #[error("no leading '#'")]
    NoHash,
    /// Nothing follows the `#`.
    #[error("no hex digits after '#'")]
    Empty,
    /// An odd number of bytes follows the `#`.
    #[error("an odd number of bytes ({0}) after '#'")]
    OddLength(usize),
    /// Something other than a hex digit, at this byte offset after the `#`.
    #[error("byte {0} after '#' is not a hex digit")]
    NotHexDigit(usize),
    /// The decoded content is not UTF-8.
    #[error("the decoded value is not UTF-8: {0}")]
    NotUtf8(#[source] std::string::FromUtf8Error),
}

/// RFC 4514 renders some values as `#` + hex of their BER encoding; the platform reads those back.
pub fn decode_hex_form(value: &str) -> Result<String, HexFormError> {
    // Bytes, not `str` slices: a pair must never cut through a multi-byte character.
    let hex = value
        .strip_prefix('#')
        .ok_or(HexFormError::NoHash)?
        .as_bytes();
    if hex.is_empty() {
        return Err(HexFormError::Empty);
    }
    if hex.len() % 2 != 0 {
        return Err(HexFormError::OddLength(hex.len()));
    }
    let bytes: Vec<u8> = hex
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| {
            pair.iter()
                .zip(2 * i..)
                .try_fold(0u8, |byte, (&digit, at)| {
                    Ok(byte << 4 | hex_digit(digit, at)?)
                })
        })
        .collect::<Result<_, _>>()?;
    let content = match bytes.as_slice() {
        // A short-form DER string (UTF8String, PrintableString, IA5String, …): tag, length, content.
        [_tag, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
        raw => raw,
    };
    String::from_utf8(content.to_vec()).map_err(HexFormError::NotUtf8)
}

/// One hex digit's value; `u8::from_str_radix` would also take a sign (`"+f"`).
fn hex_digit(digit: u8, at: usize) -> Result<u8, HexFormError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(HexFormError::NotHexDigit(at)),
    }
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
            decode_hex_form("#130753453132332d58").as_deref(),
            Ok("SE123-X")
        );
        assert_eq!(decode_hex_form("SE123"), Err(HexFormError::NoHash));
    }

    #[test]
    fn ac1_hostile_serial_numbers_get_a_reason_not_a_panic() {
        use HexFormError::*;
        for (hostile, reason) in [
            // 'é' is two bytes: pairs of bytes cut through it, pairs of chars did not.
            ("#aéb", NotHexDigit(1)),
            ("#é", NotHexDigit(0)),
            ("", NoHash),
            ("#", Empty),
            ("#130", OddLength(3)),
            ("#zz", NotHexDigit(0)),
            ("#+f00", NotHexDigit(0)),
        ] {
            assert_eq!(decode_hex_form(hostile), Err(reason), "{hostile:?}");
        }
        // UTF8String of 0xff 0xfe: not text.
        assert!(matches!(decode_hex_form("#0c02fffe"), Err(NotUtf8(_))));
    }

    /// A self-signed certificate whose subject has this `serialNumber` (a UTF8String).
    fn cert_with_serial(serial: &str) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CustomDnType(vec![2, 5, 4, 5]), serial);
        let key = rcgen::KeyPair::generate().expect("key");
        params
            .self_signed(&key)
            .expect("certificate")
            .der()
            .to_vec()
    }

    #[test]
    fn ac1_a_hostile_serial_number_in_a_certificate_is_kept_as_written_or_refused() {
        // Not a well-formed hex form: kept as written, it names no known consumer.
        for literal in ["#aéb", "#", "#+f00"] {
            assert_eq!(
                serial_number_of(&cert_with_serial(literal)).ok().as_deref(),
                Some(literal)
            );
        }
        assert_eq!(
            serial_number_of(&cert_with_serial("#0c0753453132332d58"))
                .ok()
                .as_deref(),
            Some("SE123-X")
        );
        assert!(matches!(
            serial_number_of(&cert_with_serial("  ")),
            Err(SerialNumberError::Blank)
        ));
        assert!(matches!(
            serial_number_of(&cert_with_serial("#0c0120")),
            Err(SerialNumberError::Blank)
        ));
        // The UTF8String's content bytes replaced by ones that are not UTF-8 (self-signed:
        // in the issuer too).
        let mut der = cert_with_serial("SE1");
        let spots: Vec<usize> = der
            .windows(5)
            .enumerate()
            .filter_map(|(at, w)| (w == [0x0c, 3, b'S', b'E', b'1']).then_some(at))
            .collect();
        assert_eq!(spots.len(), 2, "the serialNumber in issuer and subject");
        for at in spots {
            der[at + 2..at + 5].copy_from_slice(&[0xff, 0xfe, 0xfd]);
        }
        assert!(matches!(
            serial_number_of(&der),
            Err(SerialNumberError::NotText(_))
        ));
        for bytes in [&[][..], &[0x30], &[0xff; 16], &der[..der.len() / 2]] {
            assert!(matches!(
                serial_number_of(bytes),
                Err(SerialNumberError::Certificate(_))
            ));
        }
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "no serial");
        let key = rcgen::KeyPair::generate().expect("key");
        let none = params
            .self_signed(&key)
            .expect("certificate")
            .der()
            .to_vec();
        assert!(matches!(
            serial_number_of(&none),
            Err(SerialNumberError::Missing)
        ));
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
