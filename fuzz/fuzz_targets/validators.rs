//! The identifier, telephone and e-mail validators on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pu_adapter::domain::identifier::{IdentifierPolicy, ROOT_NATIONAL_RESERVE, ROOT_PERSONNUMMER, ROOT_SAMORDNINGSNUMMER};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let policy = IdentifierPolicy::default();
    for root in [ROOT_PERSONNUMMER, ROOT_SAMORDNINGSNUMMER, ROOT_NATIONAL_RESERVE, text] {
        if let Ok(id) = policy.parse(root, Some(text)) {
            let _ = id.birth_date();
            assert_eq!(pu_adapter::domain::PersonId::from_key(&id.key()), Some(id));
        }
    }
    let _ = policy.parse_number(text);
    let _ = pu_adapter::domain::phone::PhoneNumber::parse(text);
    let _ = pu_adapter::domain::email::EmailAddress::parse(text);
});
