//! The import's line errors, probed: every field of the format, broken with each bad value,
//! is refused with a text that names the field and never repeats the value.

use super::line::{parse_accepted, Line};
use crate::domain::IdentifierPolicy;

/// What a line may hold and an error must never repeat.
const SECRET: &str = "ZZ-SECRET-123";
const PHONE: &str = "+46 73 987 65 43";
const NUMBER: i64 = 987_654_321;

/// A valid line holding every object the format has, so that each nested field can be
/// broken alone.
fn valid() -> serde_json::Value {
    serde_json::json!({
        "personId": "191212121212", "givenName": "T", "surname": "T",
        "postalAddress": {"careOf": "C", "street": "S", "postalCode": "11122", "city": "C"},
        "protection": {"sekretessmarkering": false, "skyddadFolkbokforing": false},
        "maritalStatus": {"code": "G", "date": "2010-06-12"},
        "referredIdentities": [{"root": "1.2.752.129.2.1.3.1", "extension": "195001182046"}],
        "linkedIdentities": [{"root": "1.2.752.74.9.1", "extension": "R1"}],
    })
}

/// The objects of a line whose fields are probed: (JSON path, pointer into `valid`, line).
fn containers() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    let mut with_deregistration = valid();
    with_deregistration["deregistration"] =
        serde_json::json!({"reasonCode": "UV", "date": "2020-01-01"});
    let mut with_contacts = valid();
    with_contacts["contactInformation"] = serde_json::json!([
        {"contactType": "sms", "value": "+46701234567", "digitalNotification": true}
    ]);
    let mut with_id_object = valid();
    with_id_object["personId"] =
        serde_json::json!({"root": "1.2.752.129.2.1.3.1", "extension": "191212121212"});
    vec![
        ("", "", valid()),
        ("postalAddress", "/postalAddress", valid()),
        ("protection", "/protection", valid()),
        ("maritalStatus", "/maritalStatus", valid()),
        ("referredIdentities[0]", "/referredIdentities/0", valid()),
        ("linkedIdentities[0]", "/linkedIdentities/0", valid()),
        (
            "contactInformation[0]",
            "/contactInformation/0",
            with_contacts,
        ),
        ("deregistration", "/deregistration", with_deregistration),
        ("personId", "/personId", with_id_object),
    ]
}

/// The fields serde knows for the object at `pointer`, from its unknown-field error: a
/// field added to the format is probed without this test changing.
fn fields_of(line: &serde_json::Value, pointer: &str) -> Vec<String> {
    let mut probe = line.clone();
    probe
        .pointer_mut(pointer)
        .and_then(serde_json::Value::as_object_mut)
        .expect("a container")
        .insert("zzNoSuchField".into(), serde_json::json!(1));
    let message = match serde_json::from_value::<Line>(probe) {
        Err(e) => e.to_string(),
        Ok(_) => return Vec::new(), // untagged (personId): serde lists no fields
    };
    message
        .split("expected ")
        .nth(1)
        .map(|list| {
            list.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn bad_values() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!(SECRET),
        serde_json::json!(format!("{SECRET}\u{7}")),
        serde_json::json!(SECRET.repeat(10)),
        serde_json::json!(PHONE),
        serde_json::json!(NUMBER),
        serde_json::json!(true),
        serde_json::json!([SECRET]),
        serde_json::json!({ "zzKey": SECRET }),
    ]
}

#[test]
fn every_field_error_names_the_field_and_never_the_value() {
    let policy = IdentifierPolicy::default();
    let mut fields_probed = 0;
    for (path, pointer, line) in containers() {
        let mut fields = fields_of(&line, pointer);
        if path == "personId" {
            fields = vec!["root".into(), "extension".into()];
        }
        assert!(!fields.is_empty(), "{path}: no fields found");
        for field in fields {
            let at = if path.is_empty() {
                field.clone()
            } else {
                format!("{path}.{field}")
            };
            let mut refused = 0;
            for value in bad_values() {
                let mut broken = line.clone();
                broken
                    .pointer_mut(pointer)
                    .and_then(serde_json::Value::as_object_mut)
                    .expect("a container")
                    .insert(field.clone(), value.clone());
                let Err(e) = parse_accepted(&broken.to_string(), &policy) else {
                    continue;
                };
                refused += 1;
                let text = e.to_string();
                // An identifier object is named as a whole; the text says which part.
                let identifier = ["personId", "referredIdentities[0]", "linkedIdentities[0]"];
                let named = if identifier.contains(&path) {
                    path
                } else {
                    &at
                };
                assert!(
                    text.contains(named),
                    "{value} in {at}: {text:?} does not name the field"
                );
                for held in [SECRET, PHONE, "46739876543", "739876543", "987654321"] {
                    assert!(
                        !text.contains(held),
                        "{value} in {at}: {text:?} repeats the value"
                    );
                }
            }
            assert!(refused > 0, "{at}: no bad value was refused");
            fields_probed += 1;
        }
    }
    assert!(fields_probed >= 30, "only {fields_probed} fields probed");
}
