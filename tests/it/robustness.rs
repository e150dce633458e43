//! No input makes the envelope or request readers panic: random bytes, truncations and
//! byte flips of every example message all get an answer.

use crate::common::*;
use proptest::prelude::*;
use pu_adapter::contracts::Contract;
use pu_adapter::soap::read_envelope;
use pu_adapter::xml::Limits;

fn example_envelopes() -> Vec<(Contract, String)> {
    let mut out = Vec::new();
    for c in Contract::ALL {
        for e in std::fs::read_dir(repo().join("tests/messages").join(c.name()))
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push((c, envelope(&std::fs::read_to_string(e.path()).unwrap())));
        }
    }
    out
}

#[test]
fn truncated_examples_never_panic_and_get_a_fault_or_answer() {
    let (_dir, store) = demo_store();
    let service = service(&(&store).into());
    let mut calls = 0;
    for (c, env) in example_envelopes() {
        let bytes = env.as_bytes();
        for cut in (0..bytes.len()).step_by(7) {
            let call = pu_adapter::service::Call {
                contract: c,
                consumer: Some(EXTENDED.into()),
                correlation_id: "t".into(),
            };
            let answer = service.handle(&call, &bytes[..cut]);
            // A Fault with its code and log id, or the contract's own response: nothing else.
            assert!(
                answer.body.contains("<soap:Envelope") && answer.body.contains("</soap:Envelope>"),
                "not an envelope: {}",
                answer.body
            );
            match &answer.fault {
                Some(f) => assert!(
                    answer.body.contains("<faultcode>")
                        && answer.body.contains(&f.log_id.to_string()),
                    "{}",
                    answer.body
                ),
                None => assert!(
                    answer.body.contains(&format!("<{}", c.response_element())),
                    "neither Fault nor {}: {}",
                    c.response_element(),
                    answer.body
                ),
            }
            calls += 1;
        }
    }
    eprintln!("{calls} truncated requests answered");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_envelope(&bytes, Limits::default());
    }

    #[test]
    fn byte_flips_in_examples_never_panic(index in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let examples = example_envelopes();
        let (c, env) = &examples[index.index(examples.len())];
        let mut bytes = env.clone().into_bytes();
        let p = pos.index(bytes.len());
        bytes[p] = byte;
        if let Ok(e) = read_envelope(&bytes, Limits::default()) {
            let _ = e.logical_address();
            match c {
                Contract::UpdatePersonContactInformation | Contract::UpdatePersonContactInformationUnrestricted => { let _ = pu_adapter::contracts::update_person_contact_information::decode(&e.body, *c); }
                Contract::GetPersonsForProfile | Contract::GetPersonsForProfileUnrestricted => { let _ = pu_adapter::contracts::get_persons_for_profile::decode(&e.body, *c); }
                Contract::GetPersonContactInformation | Contract::GetPersonContactInformationUnrestricted => { let _ = pu_adapter::contracts::get_person_contact_information::decode(&e.body, *c); }
                Contract::PingForConfiguration => { let _ = pu_adapter::contracts::ping_for_configuration::decode(&e.body); }
            }
        }
    }
}
