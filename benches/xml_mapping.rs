//! XML mapping measurement, quick-xml against yaserde: serialise and parse a typical
//! GetPersonsForProfile P3 response (one person: name, birth, address, sms + email,
//! actor, flags) with both, on the same data, and print the times.
//!
//! Run: `cargo bench --bench xml_mapping`

use pu_adapter::contracts::get_persons_for_profile::{encode, Found, RecordOut};
use pu_adapter::contracts::types::PersonRecordView;
use pu_adapter::contracts::Contract;
use pu_adapter::domain::IdInput as IiIn;
use pu_adapter::domain::{
    Actor, Channel, ContactEntry, ContactRecord, IdentifierPolicy, Name, Person, PostalAddress,
    Profile, Protection, Provenance, Version,
};
use pu_adapter::xml::decode::{boolean, text};
use pu_adapter::xml::{parse, Element, Limits, Seq};
use std::hint::black_box;
use std::time::Instant;
use yaserde::{YaDeserialize, YaSerialize};

const R: &str =
    "urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5";
const P: &str = "urn:riv:strategicresourcemanagement:persons:person:5";

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "GetPersonsForProfileResponse", prefix = "r", namespaces = { "r" = "urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5", "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct Response {
    #[yaserde(rename = "requestedPersonRecord", prefix = "r")]
    records: Vec<Requested>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct Requested {
    #[yaserde(rename = "requestedPersonalIdentity", prefix = "p")]
    requested: Ii,
    #[yaserde(rename = "personRecord", prefix = "p")]
    record: Option<PersonRecord>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct Ii {
    #[yaserde(prefix = "p")]
    root: String,
    #[yaserde(prefix = "p")]
    extension: Option<String>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct PersonRecord {
    #[yaserde(rename = "personalIdentity", prefix = "p")]
    personal_identity: Ii,
    #[yaserde(rename = "protectedPersonIndicator", prefix = "p")]
    protected_person_indicator: bool,
    #[yaserde(rename = "testIndicator", prefix = "p")]
    test_indicator: bool,
    #[yaserde(rename = "primaryIdentity", prefix = "p")]
    primary_identity: bool,
    #[yaserde(prefix = "p")]
    version: Option<String>,
    #[yaserde(prefix = "p")]
    name: NameX,
    #[yaserde(prefix = "p")]
    birth: Option<Birth>,
    #[yaserde(rename = "addressInformation", prefix = "p")]
    address_information: Option<AddressInformation>,
    #[yaserde(rename = "contactInformation", prefix = "p")]
    contact_information: Vec<Contact>,
    #[yaserde(rename = "updatePersonContactInformationActor", prefix = "p")]
    actor: Option<ActorX>,
    #[yaserde(rename = "optoutPaperNotification", prefix = "p")]
    optout_paper_notification: Option<bool>,
    #[yaserde(rename = "protectedPopulationRecord", prefix = "p")]
    protected_population_record: Option<bool>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct NameX {
    #[yaserde(rename = "givenName", prefix = "p")]
    given_name: Option<String>,
    #[yaserde(rename = "middleName", prefix = "p")]
    middle_name: Option<String>,
    #[yaserde(prefix = "p")]
    surname: Option<String>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct Birth {
    #[yaserde(rename = "dateOfBirth", prefix = "p")]
    date_of_birth: PartialDate,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct PartialDate {
    #[yaserde(prefix = "p")]
    format: String,
    #[yaserde(prefix = "p")]
    value: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct AddressInformation {
    #[yaserde(rename = "residentialAddress", prefix = "p")]
    residential_address: Option<Address>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct Address {
    #[yaserde(rename = "careOf", prefix = "p")]
    care_of: Option<String>,
    #[yaserde(rename = "postalAddress2", prefix = "p")]
    postal_address2: Option<String>,
    #[yaserde(rename = "postalCode", prefix = "p")]
    postal_code: Option<String>,
    #[yaserde(prefix = "p")]
    city: Option<String>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct Contact {
    #[yaserde(rename = "contactType", prefix = "p")]
    contact_type: String,
    #[yaserde(prefix = "p")]
    value: Option<String>,
    #[yaserde(rename = "digitalNotification", prefix = "p")]
    digital_notification: Option<bool>,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "p", namespaces = { "p" = "urn:riv:strategicresourcemanagement:persons:person:5" })]
struct ActorX {
    #[yaserde(prefix = "p")]
    id: Ii,
    #[yaserde(rename = "updateTime", prefix = "p")]
    update_time: Option<String>,
}

// ---- quick-xml side: our tree reader + sequence decoder into the same structs ----

fn opt_text(s: &mut Seq<'_>, name: &str) -> Option<String> {
    s.optional(name).ok().flatten().map(|e| e.text.clone())
}

fn ii(el: &Element) -> Ii {
    let mut s = Seq::new(el, P, "ii").unwrap();
    Ii {
        root: text(s.required("root").unwrap(), "root")
            .unwrap()
            .to_owned(),
        extension: opt_text(&mut s, "extension"),
    }
}

fn decode_response(xml: &str) -> Response {
    let root = parse(xml.as_bytes(), Limits::default()).unwrap();
    let mut s = Seq::new(&root, R, "r").unwrap();
    let records = s
        .repeated("requestedPersonRecord", 1, usize::MAX)
        .unwrap()
        .into_iter()
        .map(decode_requested)
        .collect();
    Response { records }
}

fn decode_requested(el: &Element) -> Requested {
    let mut s = Seq::new(el, P, "rec").unwrap();
    let requested = ii(s.required("requestedPersonalIdentity").unwrap());
    let record = s.optional("personRecord").unwrap().map(decode_person);
    Requested { requested, record }
}

fn decode_person(el: &Element) -> PersonRecord {
    let mut s = Seq::new(el, P, "pr").unwrap();
    let personal_identity = ii(s.required("personalIdentity").unwrap());
    let b = |s: &mut Seq<'_>, n: &str| boolean(s.required(n).unwrap(), n).unwrap();
    let protected_person_indicator = b(&mut s, "protectedPersonIndicator");
    let test_indicator = b(&mut s, "testIndicator");
    let primary_identity = b(&mut s, "primaryIdentity");
    let version = opt_text(&mut s, "version");
    let name = s.optional("name").unwrap().map(|n| {
        let mut ns = Seq::new(n, P, "name").unwrap();
        NameX {
            given_name: opt_text(&mut ns, "givenName"),
            middle_name: opt_text(&mut ns, "middleName"),
            surname: opt_text(&mut ns, "surname"),
        }
    });
    let birth = s.optional("birth").unwrap().map(|bi| {
        let mut bs = Seq::new(bi, P, "birth").unwrap();
        let d = bs.required("dateOfBirth").unwrap();
        let mut ds = Seq::new(d, P, "d").unwrap();
        Birth {
            date_of_birth: PartialDate {
                format: ds.required("format").unwrap().text.clone(),
                value: ds.required("value").unwrap().text.clone(),
            },
        }
    });
    let address_information = s.optional("addressInformation").unwrap().map(|a| {
        let mut as_ = Seq::new(a, P, "ai").unwrap();
        let residential_address = as_.optional("residentialAddress").unwrap().map(|r| {
            let mut rs = Seq::new(r, P, "ra").unwrap();
            Address {
                care_of: opt_text(&mut rs, "careOf"),
                postal_address2: {
                    let _ = opt_text(&mut rs, "postalAddress1");
                    opt_text(&mut rs, "postalAddress2")
                },
                postal_code: opt_text(&mut rs, "postalCode"),
                city: opt_text(&mut rs, "city"),
            }
        });
        AddressInformation {
            residential_address,
        }
    });
    let contact_information = s
        .repeated("contactInformation", 0, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|c| {
            let mut cs = Seq::new(c, P, "ci").unwrap();
            Contact {
                contact_type: cs.required("contactType").unwrap().text.clone(),
                value: opt_text(&mut cs, "value"),
                digital_notification: cs
                    .optional("digitalNotification")
                    .unwrap()
                    .map(|d| boolean(d, "dn").unwrap()),
            }
        })
        .collect();
    let _ = s.repeated("relationship", 0, usize::MAX).unwrap();
    let actor = s
        .optional("updatePersonContactInformationActor")
        .unwrap()
        .map(|a| {
            let mut acs = Seq::new(a, P, "actor").unwrap();
            ActorX {
                id: ii(acs.required("id").unwrap()),
                update_time: {
                    let _ = acs.optional("professional");
                    opt_text(&mut acs, "updateTime")
                },
            }
        });
    let optout_paper_notification = s
        .optional("optoutPaperNotification")
        .unwrap()
        .map(|e| boolean(e, "o").unwrap());
    let protected_population_record = s
        .optional("protectedPopulationRecord")
        .unwrap()
        .map(|e| boolean(e, "p").unwrap());
    PersonRecord {
        personal_identity,
        protected_person_indicator,
        test_indicator,
        primary_identity,
        version,
        name: name.unwrap_or_default(),
        birth,
        address_information,
        contact_information,
        actor,
        optout_paper_notification,
        protected_population_record,
    }
}

fn demo_state() -> (Person, ContactRecord) {
    let id = IdentifierPolicy::default()
        .parse_number("191212121212")
        .unwrap();
    let person = Person {
        id: id.clone(),
        name: Name {
            given: "Tolvan".into(),
            middle: Some("Mellan".into()),
            surname: "Tolvansson".into(),
        },
        birth_date: None,
        address: Some(PostalAddress {
            care_of: None,
            street: Some("Testgatan 12".into()),
            postal_code: Some("11122".into()),
            city: Some("Stockholm".into()),
        }),
        protection: Protection::default(),
        test_indicator: true,
        guardians: vec![],
        deregistration: None,
        register: Default::default(),
    };
    let version = Version::parse("20261101120000").unwrap();
    let record = ContactRecord {
        version,
        entries: vec![
            ContactEntry {
                channel: Channel::from_stored("sms", "+46701234567".into()).unwrap(),
                digital_notification: true,
            },
            ContactEntry {
                channel: Channel::from_stored("email", "tolvan@example.se".into()).unwrap(),
                digital_notification: true,
            },
        ],
        optout_paper_notification: Some(true),
        provenance: Provenance {
            actor: Actor::Person(id),
            update_time: version,
            consumer_hsa_id: "SE1".into(),
        },
    };
    (person, record)
}

fn time_ns(iterations: u32, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..iterations {
            f();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(iterations));
    }
    best
}

fn main() {
    let (person, record) = demo_state();
    let requested = IiIn {
        root: person.id.root().into(),
        extension: Some(person.id.extension().into()),
    };
    let ours = || {
        encode(
            Contract::GetPersonsForProfile,
            &[RecordOut {
                requested: &requested,
                found: Found::Record(PersonRecordView {
                    person: &person,
                    profile: Profile::P3,
                    contacts: Some(&record),
                    guardians: Vec::new(),
                    history: Vec::new(),
                }),
            }],
        )
    };
    let xml = ours();
    let model = decode_response(&xml);
    let via_yaserde: Response = yaserde::de::from_str(&xml).expect("yaserde reads our output");
    assert_eq!(model, via_yaserde, "both readers must see the same record");
    let yaserde_xml = yaserde::ser::to_string(&model).expect("yaserde writes");
    assert_eq!(
        decode_response(&yaserde_xml),
        model,
        "our reader must read yaserde's output"
    );

    let n = 20_000;
    let q_ser = time_ns(n, || {
        black_box(ours());
    });
    let q_parse = time_ns(n, || {
        black_box(decode_response(black_box(&xml)));
    });
    let y_ser = time_ns(n, || {
        black_box(yaserde::ser::to_string(black_box(&model)).unwrap());
    });
    let y_parse = time_ns(n, || {
        black_box(yaserde::de::from_str::<Response>(black_box(&xml)).unwrap());
    });
    println!(
        "XML mapping, GetPersonsForProfile P3 response ({} bytes), best of 5 x {n} iterations:",
        xml.len()
    );
    println!("| library | serialise µs | parse µs | parse+serialise µs |");
    println!("|---|---|---|---|");
    println!(
        "| quick-xml (pu-adapter reader/writer) | {:.2} | {:.2} | {:.2} |",
        q_ser / 1e3,
        q_parse / 1e3,
        (q_ser + q_parse) / 1e3
    );
    println!(
        "| yaserde 0.13 (xml-rs) | {:.2} | {:.2} | {:.2} |",
        y_ser / 1e3,
        y_parse / 1e3,
        (y_ser + y_parse) / 1e3
    );
    println!(
        "yaserde / quick-xml: {:.1}x",
        (y_ser + y_parse) / (q_ser + q_parse)
    );
}
