//! Property tests of the identifier and telephone validators.

use proptest::prelude::*;
use pu_adapter::domain::identifier::{
    luhn_check_digit, IdentifierPolicy, ROOT_PERSONNUMMER, ROOT_SAMORDNINGSNUMMER,
};
use pu_adapter::domain::phone::PhoneNumber;

fn valid_number(year: u32, month: u32, day: u32, serial: u32, day_offset: u32) -> String {
    let base = format!("{year:04}{month:02}{:02}{serial:03}", day + day_offset);
    format!("{base}{}", luhn_check_digit(&base[2..11]))
}

fn real_date() -> impl Strategy<Value = (u32, u32, u32)> {
    (1900u32..2025, 1u32..=12, 1u32..=28)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // ID-1: generated personnummer and samordningsnummer are accepted under their own root.
    #[test]
    fn id1_generated_valid_identifiers_are_accepted((y, m, d) in real_date(), serial in 0u32..1000) {
        let policy = IdentifierPolicy::default();
        prop_assert!(policy.parse(ROOT_PERSONNUMMER, Some(&valid_number(y, m, d, serial, 0))).is_ok());
        prop_assert!(policy.parse(ROOT_SAMORDNINGSNUMMER, Some(&valid_number(y, m, d, serial, 60))).is_ok());
    }

    // ID-2: any single-digit change in the ten digits the check digit covers is rejected.
    // (The century digits are outside the Luhn check: 19121212-1212 and 20121212-1212 are both well-formed.)
    #[test]
    fn id2_single_digit_corruptions_are_rejected((y, m, d) in real_date(), serial in 0u32..1000, pos in 2usize..12, delta in 1u8..10) {
        let good = valid_number(y, m, d, serial, 0);
        let mut bytes = good.clone().into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        let bad = String::from_utf8(bytes).unwrap();
        prop_assert!(IdentifierPolicy::default().parse(ROOT_PERSONNUMMER, Some(&bad)).is_err(), "{} accepted (from {})", bad, good);
    }

    // CT-4: generated Swedish mobile numbers in E.164 are accepted.
    #[test]
    fn ct4_generated_swedish_mobile_numbers_are_accepted(prefix in prop::sample::select(vec!["70", "72", "73", "76", "79"]), rest in 0u32..10_000_000) {
        let n = format!("+46{prefix}{rest:07}");
        prop_assert!(PhoneNumber::parse(&n).is_ok(), "{} refused: {:?}", n, PhoneNumber::parse(&n));
    }

    // CT-4: the same numbers with a separator inserted are rejected, and the error suggests the E.164 form.
    #[test]
    fn ct4_separators_are_rejected_with_the_e164_suggestion(rest in 0u32..10_000_000, at in 3usize..12, sep in prop::sample::select(vec![" ", "-"])) {
        let good = format!("+4670{rest:07}");
        let bad = format!("{}{}{}", &good[..at], sep, &good[at..]);
        let err = PhoneNumber::parse(&bad).unwrap_err().to_string();
        prop_assert!(err.contains(&good), "{}: {}", bad, err);
    }

    // CT-4: the national form with a leading 0 is always rejected.
    #[test]
    fn ct4_national_form_is_rejected(rest in 0u32..10_000_000) {
        let national = format!("070{rest:07}");
        prop_assert!(PhoneNumber::parse(&national).is_err(), "{} accepted", national);
    }
}
