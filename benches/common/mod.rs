//! Synthetic population shared by the benchmarks.
#![allow(dead_code)]

pub(crate) mod external;
pub(crate) mod net;

use pu_adapter::contracts::Contract;
use pu_adapter::service::{Authorisation, Call, Service, ServiceConfig};
use pu_adapter::store::sqlite::SqliteStore;
pub(crate) use pu_adapter::testkit::{pnr, repo};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

/// GetPersonsForProfile's endpoint path.
pub(crate) const PROFILE_ENDPOINT: &str = "/GetPersonsForProfile/5/rivtabp21";

/// UpdatePersonContactInformation's endpoint path.
pub(crate) const UPDATE_ENDPOINT: &str = "/UpdatePersonContactInformation/4/rivtabp21";

/// Writes `n` synthetic persons as import JSON Lines.
pub(crate) fn write_population(path: &std::path::Path, n: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            r#"{{"personId":"{}","givenName":"Förnamn{i}","surname":"Efternamn","postalAddress":{{"street":"Gatan {}","postalCode":"{:05}","city":"Staden"}},"testIndicator":true}}"#,
            pnr(i),
            i % 200,
            10000 + i % 89999
        )
        .unwrap();
    }
}

/// A GetPersonsForProfile P3 request envelope for one person.
pub(crate) fn gpfp_request(pnr: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><LogicalAddress xmlns="urn:riv:itintegration:registry:1">SE-LA</LogicalAddress></s:Header><s:Body><GetPersonsForProfile xmlns="urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension></personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile></s:Body></s:Envelope>"#
    )
}

/// An UpdatePersonContactInformation envelope giving `pnr` an sms and an email (no version: first update).
pub(crate) fn update_request(pnr: &str, i: u64) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><LogicalAddress xmlns="urn:riv:itintegration:registry:1">SE-LA</LogicalAddress></s:Header><s:Body><UpdatePersonContactInformation xmlns="urn:riv:strategicresourcemanagement:persons:person:UpdatePersonContactInformationResponder:4" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><actor><c:id><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension></c:id></actor><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{pnr}</c:extension></personId><contactInformation><c:contactType>sms</c:contactType><c:value>+4670{:07}</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation><contactInformation><c:contactType>email</c:contactType><c:value>person{i}@example.se</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation><optoutPaperNotification>true</optoutPaperNotification></UpdatePersonContactInformation></s:Body></s:Envelope>"#,
        i % 10_000_000
    )
}

/// Settings allowing the bench consumer GetPersonsForProfile.
pub(crate) fn config() -> ServiceConfig {
    let mut auth = Authorisation::default();
    auth.allow("SE-BENCH", Contract::GetPersonsForProfile);
    ServiceConfig {
        authorisation: auth,
        ..ServiceConfig::default()
    }
}

/// p50/p99/p99.9 in µs of `samples` calls for random persons among the first `population`.
pub(crate) fn latency(
    store: &Arc<SqliteStore>,
    population: u64,
    samples: usize,
) -> (f64, f64, f64) {
    let service = Service::new(config(), store.into());
    let call = Call {
        contract: Contract::GetPersonsForProfile,
        consumer: Some("SE-BENCH".into()),
        correlation_id: "bench".into(),
    };
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let body = gpfp_request(&pnr(x % population));
        let t = Instant::now();
        let answer = service.handle(&call, body.as_bytes());
        times.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(
            answer.fault.is_none() && answer.body.contains("personRecord"),
            "{}",
            answer.body
        );
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99), at(0.999))
}
