//! Writes a complete request/response pair per contract into docs/examples/, produced by
//! the service itself from the demo data. Run: `cargo run --example message_pairs`.

use pu_adapter::contracts::Contract;
use pu_adapter::service::Call;
use pu_adapter::store::sqlite::SqliteStore;
use pu_adapter::testkit::{repo, service, EXTENDED};
use std::sync::Arc;

fn envelope(payload: &str) -> String {
    let payload = payload
        .find("?>")
        .map_or(payload, |i| &payload[i + 2..])
        .trim();
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:itr=\"urn:riv:itintegration:registry:1\">\n<soapenv:Header><itr:LogicalAddress>SE2321000016-LA01</itr:LogicalAddress></soapenv:Header>\n<soapenv:Body>\n{payload}\n</soapenv:Body>\n</soapenv:Envelope>\n"
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("examples.db"))?);
    pu_adapter::demo::load(store.as_ref(), &Default::default())?;
    let service = service(&store.into());
    let pairs = [
        (Contract::GetPersonsForProfile, "valid-p3-one-person.xml"),
        (
            Contract::GetPersonsForProfile,
            "valid-p4-child-with-guardians.xml",
        ),
        (Contract::GetPersonsForProfile, "valid-p5-adult.xml"),
        (
            Contract::GetPersonsForProfile,
            "valid-batch-with-bad-and-unknown-ids.xml",
        ),
        (
            Contract::GetPersonsForProfile,
            "valid-referred-and-linked-ids.xml",
        ),
        (Contract::GetPersonsForProfile, "valid-deceased-person.xml"),
        (
            Contract::GetPersonsForProfileUnrestricted,
            "valid-p3-protected-person.xml",
        ),
        (Contract::GetPersonContactInformation, "valid.xml"),
        (
            Contract::GetPersonContactInformationUnrestricted,
            "valid.xml",
        ),
        (
            Contract::UpdatePersonContactInformation,
            "valid-replace.xml",
        ),
        (
            Contract::UpdatePersonContactInformation,
            "refused-CT-4-national-number.xml",
        ),
        (
            Contract::UpdatePersonContactInformationUnrestricted,
            "refused-PR-2-protected-person.xml",
        ),
        (Contract::PingForConfiguration, "valid.xml"),
        (
            Contract::GetPersonsForProfile,
            "invalid-missing-profile.xml",
        ),
    ];
    let out = repo().join("docs/examples");
    std::fs::create_dir_all(&out)?;
    for (contract, file) in pairs {
        let payload = std::fs::read_to_string(
            repo()
                .join("tests/messages")
                .join(contract.name())
                .join(file),
        )?;
        let request = envelope(&payload);
        let call = Call {
            contract,
            consumer: Some(EXTENDED.into()),
            correlation_id: "example-correlation-id".into(),
        };
        let answer = service.handle(&call, request.as_bytes());
        let stem = format!("{}.{}", contract.name(), file.trim_end_matches(".xml"));
        std::fs::write(out.join(format!("{stem}.request.xml")), request)?;
        std::fs::write(out.join(format!("{stem}.response.xml")), answer.body)?;
        println!("{stem}: {}", answer.result.as_str());
    }
    Ok(())
}
