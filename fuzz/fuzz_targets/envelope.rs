//! The envelope reader and every contract's request reader, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pu_adapter::contracts::{get_person_contact_information, get_persons_for_profile, ping_for_configuration, update_person_contact_information, Contract};

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = pu_adapter::soap::read_envelope(data, Default::default()) else { return };
    let _ = envelope.logical_address();
    for contract in Contract::ALL {
        match contract {
            Contract::GetPersonsForProfile | Contract::GetPersonsForProfileUnrestricted => {
                let _ = get_persons_for_profile::decode(&envelope.body, contract);
            }
            Contract::GetPersonContactInformation | Contract::GetPersonContactInformationUnrestricted => {
                let _ = get_person_contact_information::decode(&envelope.body, contract);
            }
            Contract::UpdatePersonContactInformation | Contract::UpdatePersonContactInformationUnrestricted => {
                if let Ok(input) = update_person_contact_information::decode(&envelope.body, contract) {
                    let _ = pu_adapter::domain::update::validate_update(&input, &Default::default());
                }
            }
            Contract::PingForConfiguration => {
                let _ = ping_for_configuration::decode(&envelope.body);
            }
        }
    }
});
