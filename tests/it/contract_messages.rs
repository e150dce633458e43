//! The example messages in tests/messages and every response the service writes for them,
//! validated with xmllint against our xsd/ and the published schemas in ../shared.

use crate::common::*;
use pu_adapter::contracts::Contract;
use std::path::PathBuf;

fn examples() -> Vec<(Contract, String, PathBuf)> {
    let mut out = Vec::new();
    for c in Contract::ALL {
        let dir = repo().join("tests/messages").join(c.name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            out.push((c, name, e.path()));
        }
    }
    out.sort_by(|a, b| a.2.cmp(&b.2));
    assert!(
        out.len() >= 30,
        "expected the example corpus, found {}",
        out.len()
    );
    out
}

#[test]
fn example_requests_validate_against_our_and_the_published_schemas() {
    if !xmllint_available() {
        return;
    }
    let (mut checked, mut published) = (0, 0);
    for (c, name, path) in examples() {
        let xml = std::fs::read_to_string(&path).unwrap();
        let mut schemas = vec![our_schema(c)];
        schemas.extend(published_schema(c));
        published += schemas.len() - 1;
        for schema in schemas {
            let result = xmllint(&schema, &xml);
            if name.starts_with("invalid-") {
                assert!(
                    result.is_err(),
                    "{} must be rejected by {}",
                    path.display(),
                    schema.display()
                );
            } else {
                assert!(
                    result.is_ok(),
                    "{} must validate against {}: {:?}",
                    path.display(),
                    schema.display(),
                    result
                );
            }
            checked += 1;
        }
    }
    eprintln!("{checked} example validations ({published} against published schemas)");
    assert!(checked >= examples().len(), "only {checked} validations");
    if shared().is_some() {
        // Three contracts have a published schema in ../shared; each of their examples is checked.
        let with_published = examples()
            .iter()
            .filter(|(c, _, _)| published_schema(*c).is_some())
            .count();
        assert!(
            with_published > 0 && published == with_published,
            "{published} of {with_published} examples validated against the published schemas"
        );
    }
}

/// Every example goes through the service: valid ones are answered, refused ones get the
/// rule named in the file name, schema-invalid ones a soap:Client Fault; every answer is
/// schema-valid.
#[test]
fn the_service_answers_every_example_and_its_answers_validate() {
    let lint = xmllint_available();
    let (mut validated, mut published, mut answered_with_published) = (0, 0, 0);
    for (c, name, path) in examples() {
        let (_dir, store) = demo_store();
        let xml = std::fs::read_to_string(&path).unwrap();
        let consumer = if c.access() == Some(pu_adapter::domain::Access::Unrestricted) {
            EXTENDED
        } else {
            CONSUMER
        };
        let answer = call(&store, c, consumer, &xml);
        if name.starts_with("invalid-") {
            let fault = answer
                .fault
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: expected a Fault, got {}", answer.body));
            assert_eq!(fault.code.as_qname(), "soap:Client", "{name}");
            if lint {
                xmllint(&envelope_schema(), &answer.body)
                    .unwrap_or_else(|e| panic!("{name}: fault envelope invalid: {e}"));
                validated += 1;
            }
            continue;
        }
        assert!(
            answer.fault.is_none(),
            "{name}: unexpected fault {}",
            answer.body
        );
        let payload = payload_of(&answer.body);
        if let Some(rule) = name.strip_prefix("refused-") {
            let rule = &rule[..4];
            assert_eq!(
                text_of(payload, "resultCode"),
                Some("ERROR"),
                "{name}: {payload}"
            );
            assert_eq!(text_of(payload, "ruleId"), Some(rule), "{name}: {payload}");
        } else if c.name().starts_with("Update") {
            assert_eq!(
                text_of(payload, "resultCode"),
                Some("OK"),
                "{name}: {payload}"
            );
        }
        if lint {
            xmllint(&envelope_schema(), &answer.body)
                .unwrap_or_else(|e| panic!("{name}: envelope invalid: {e}"));
            let mut schemas = vec![our_schema(c)];
            if let Some(p) = published_schema(c) {
                schemas.push(p);
                answered_with_published += 1;
                published += 1;
            }
            for schema in schemas {
                xmllint(&schema, payload).unwrap_or_else(|e| {
                    panic!(
                        "{name}: response invalid against {}: {e}\n{payload}",
                        schema.display()
                    )
                });
                validated += 1;
            }
        }
    }
    eprintln!("{validated} generated responses validated ({published} against published schemas)");
    if lint && shared().is_some() {
        assert!(
            answered_with_published > 0,
            "no answer was validated against a published schema"
        );
    }
}
