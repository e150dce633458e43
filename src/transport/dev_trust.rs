//! Recognises the development CA and server key of `certs-dev/`.
//!
//! Their private keys are published in this repository, so anyone can mint a consumer or
//! platform certificate that a server trusting them would accept. Outside development
//! they must never be trusted; they are recognised by the SHA-256 fingerprints of their
//! certificates and public keys, so a copy under another file name is caught too.

use ring::digest::{digest, SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Every certificate in `certs-dev/` whose private key is in the repository.
const DEVELOPMENT_PEMS: &[(&str, &str)] = &[
    ("development CA", include_str!("../../certs-dev/ca.pem")),
    (
        "development second CA",
        include_str!("../../certs-dev/other-ca.pem"),
    ),
    (
        "development server certificate",
        include_str!("../../certs-dev/server.pem"),
    ),
    (
        "development consumer certificate",
        include_str!("../../certs-dev/consumer.pem"),
    ),
    (
        "development platform certificate",
        include_str!("../../certs-dev/platform.pem"),
    ),
    (
        "development extended-access certificate",
        include_str!("../../certs-dev/extended.pem"),
    ),
];

/// Which development item a certificate is, by its fingerprint or its public key's.
pub(crate) fn recognise(cert: &CertificateDer<'_>) -> Option<&'static str> {
    let fingerprint = sha256(cert.as_ref());
    let key = public_key_fingerprint(cert);
    development_certificates()
        .find(|(_, dev)| {
            sha256(dev.as_ref()) == fingerprint
                || (key.is_some() && public_key_fingerprint(dev) == key)
        })
        .map(|(name, _)| name)
}

fn development_certificates() -> impl Iterator<Item = (&'static str, CertificateDer<'static>)> {
    DEVELOPMENT_PEMS.iter().filter_map(|(name, pem)| {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .ok()
            .map(|c| (*name, c))
    })
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest(&SHA256, bytes).as_ref().to_vec()
}

/// The fingerprint of the certificate's SubjectPublicKeyInfo: the same key under a new certificate is still the published key.
fn public_key_fingerprint(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(sha256(parsed.tbs_certificate.subject_pki.raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_development_certificate_is_recognised_and_a_fresh_one_is_not() {
        assert_eq!(development_certificates().count(), DEVELOPMENT_PEMS.len());
        for (name, cert) in development_certificates() {
            assert_eq!(recognise(&cert), Some(name));
        }
        let fresh = rcgen::KeyPair::generate()
            .and_then(|k| {
                rcgen::CertificateParams::new(vec!["x".into()]).and_then(|p| p.self_signed(&k))
            })
            .unwrap();
        assert_eq!(recognise(fresh.der()), None);
    }

    #[test]
    fn the_development_server_key_under_a_new_certificate_is_recognised() {
        let key = rcgen::KeyPair::from_pem(include_str!("../../certs-dev/server.key")).unwrap();
        let reissued = rcgen::CertificateParams::new(vec!["pu.region.se".into()])
            .and_then(|p| p.self_signed(&key))
            .unwrap();
        assert_eq!(
            recognise(reissued.der()),
            Some("development server certificate")
        );
    }
}
