//! No input makes the envelope or request readers panic: random bytes, truncations and
//! byte flips of every example message all get an answer.

use crate::common::*;
use proptest::prelude::*;
use pu_adapter::contracts::Contract;
use pu_adapter::soap::read_envelope;
use pu_adapter::xml::Limits;

/// Every example message of `tests/messages/<Contract>/`, as an envelope for its contract.
/// A directory that is not a contract's, or a contract without one, is an error: an empty
/// list would let the tests below pass having read nothing.
fn example_envelopes() -> Vec<(Contract, String)> {
    let dir = repo().join("tests/messages");
    let mut out = Vec::new();
    for c in Contract::ALL {
        let examples = std::fs::read_dir(dir.join(c.name()))
            .unwrap_or_else(|e| panic!("tests/messages/{}: {e}", c.name()));
        let before = out.len();
        for e in examples {
            let path = e.unwrap().path();
            out.push((c, envelope(&std::fs::read_to_string(&path).unwrap())));
        }
        assert!(
            out.len() > before,
            "tests/messages/{} holds no example message",
            c.name()
        );
    }
    out
}

/// The example messages on disk, counted without `example_envelopes`: every file of every
/// directory of `tests/messages/`.
fn example_files() -> usize {
    let dir = repo().join("tests/messages");
    let mut n = 0;
    for d in std::fs::read_dir(&dir).unwrap() {
        let d = d.unwrap().path();
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            Contract::ALL.iter().any(|c| c.name() == name),
            "tests/messages/{name} is not a contract's directory"
        );
        n += std::fs::read_dir(&d).unwrap().count();
    }
    n
}

#[test]
fn truncated_examples_never_panic_and_get_a_fault_or_answer() {
    let (_dir, store) = demo_store();
    let service = service(&(&store).into());
    let examples = example_envelopes();
    let mut calls = 0;
    let mut expected_calls = 0;
    for (c, env) in &examples {
        let c = *c;
        let bytes = env.as_bytes();
        expected_calls += bytes.len().div_ceil(7);
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
    // Every example was read, and every cut of each sent: nothing passes by reading nothing.
    assert_eq!(examples.len(), example_files(), "examples read");
    assert!(examples.len() >= Contract::ALL.len(), "{}", examples.len());
    assert_eq!(calls, expected_calls, "calls made");
    eprintln!(
        "{} example messages read, {calls} truncated requests answered",
        examples.len()
    );
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
