//! `pu-adapter dev-certs`: the development PKI in `certs-dev/` (for development and
//! tests only, never production). External test suites rely on these file names.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use std::path::Path;

/// HSA-id of the client authorised for every restricted contract.
pub(crate) const CONSUMER_HSA_ID: &str = "SE2321000016-1001";
/// HSA-id of the client also allowed the Unrestricted contracts.
pub(crate) const EXTENDED_HSA_ID: &str = "SE2321000016-1002";
/// HSA-id of a trusted client that is allowed nothing.
pub(crate) const UNAUTHORISED_HSA_ID: &str = "SE2321000016-1003";
/// HSA-id of the service platform's certificate.
pub(crate) const PLATFORM_HSA_ID: &str = "SE5565594230-1000";
/// HSA-id in the expired certificate.
pub(crate) const EXPIRED_HSA_ID: &str = "SE2321000016-1004";
/// HSA-id in the certificate of the untrusted CA.
pub(crate) const STRANGER_HSA_ID: &str = "SE2321000016-1005";
/// A consumer whose certificate the development CA has revoked (`ca.crl.pem`).
pub(crate) const REVOKED_HSA_ID: &str = "SE2321000016-1006";

/// Why the certificates could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DevCertError {
    /// rcgen refused to build a certificate; nothing was written.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn ca_params(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, name);
    p.distinguished_name
        .push(DnType::OrganizationName, "pu-adapter development");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = date_time_ymd(2025, 1, 1);
    p.not_after = date_time_ymd(2055, 1, 1);
    Ok(p)
}

fn client_params(cn: &str, hsa_id: &str, expired: bool) -> Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "pu-adapter development");
    p.distinguished_name
        .push(DnType::CustomDnType(vec![2, 5, 4, 5]), hsa_id);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    // Strict verifiers (OpenSSL X509_STRICT, Python 3.13's default) require the AKI.
    p.use_authority_key_identifier_extension = true;
    if expired {
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2021, 1, 1);
    } else {
        p.not_before = date_time_ymd(2025, 1, 1);
        p.not_after = date_time_ymd(2055, 1, 1);
    }
    Ok(p)
}

fn write_pair(dir: &Path, name: &str, cert_pem: &str, key: &KeyPair) -> Result<(), DevCertError> {
    std::fs::write(dir.join(format!("{name}.pem")), cert_pem)?;
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&key_path, key.serialize_pem())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Writes the development CA, server and client certificates into `dir`.
pub fn generate(dir: &Path) -> Result<(), DevCertError> {
    generate_with_names(dir, &[])
}

/// As [`generate`], the server certificate also valid for `names` (e.g. `pu-adapter`, the
/// name of a container in a compose file, so that clients' hostname checks pass).
pub fn generate_with_names(dir: &Path, names: &[String]) -> Result<(), DevCertError> {
    std::fs::create_dir_all(dir)?;
    let ca_key = KeyPair::generate()?;
    let ca_p = ca_params("pu-adapter development CA")?;
    write_pair(dir, "ca", &ca_p.self_signed(&ca_key)?.pem(), &ca_key)?;
    let ca = Issuer::new(ca_p, ca_key);

    let server_key = KeyPair::generate()?;
    let mut sans = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    sans.extend(
        names
            .iter()
            .filter(|n| !sans.contains(n))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let mut server = CertificateParams::new(sans)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    server.not_before = date_time_ymd(2025, 1, 1);
    server.not_after = date_time_ymd(2055, 1, 1);
    write_pair(
        dir,
        "server",
        &server.signed_by(&server_key, &ca)?.pem(),
        &server_key,
    )?;

    for (name, hsa, expired) in [
        ("consumer", CONSUMER_HSA_ID, false),
        ("extended", EXTENDED_HSA_ID, false),
        ("unauthorised", UNAUTHORISED_HSA_ID, false),
        ("platform", PLATFORM_HSA_ID, false),
        ("expired", EXPIRED_HSA_ID, true),
    ] {
        let key = KeyPair::generate()?;
        let cert =
            client_params(&format!("pu-adapter dev {name}"), hsa, expired)?.signed_by(&key, &ca)?;
        write_pair(dir, name, &cert.pem(), &key)?;
    }

    let other_key = KeyPair::generate()?;
    let other_p = ca_params("pu-adapter untrusted other CA")?;
    write_pair(
        dir,
        "other-ca",
        &other_p.self_signed(&other_key)?.pem(),
        &other_key,
    )?;
    let other = Issuer::new(other_p, other_key);
    let stranger_key = KeyPair::generate()?;
    let stranger = client_params("pu-adapter dev stranger", STRANGER_HSA_ID, false)?
        .signed_by(&stranger_key, &other)?;
    write_pair(dir, "stranger", &stranger.pem(), &stranger_key)?;
    write_revocation(dir, &ca)
}

/// A consumer certificate (`revoked.pem`) and the CA's CRL revoking it (`ca.crl.pem`).
pub fn write_revocation(dir: &Path, ca: &Issuer<'_, KeyPair>) -> Result<(), DevCertError> {
    let serial = SerialNumber::from(0x1006_u64);
    let key = KeyPair::generate()?;
    let mut params = client_params("pu-adapter dev revoked", REVOKED_HSA_ID, false)?;
    params.serial_number = Some(serial.clone());
    write_pair(dir, "revoked", &params.signed_by(&key, ca)?.pem(), &key)?;
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2025, 1, 1),
        next_update: date_time_ymd(2055, 1, 1),
        crl_number: SerialNumber::from(1_u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: serial,
            revocation_time: date_time_ymd(2025, 6, 1),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(ca)?;
    std::fs::write(dir.join("ca.crl.pem"), crl.pem()?)?;
    Ok(())
}
