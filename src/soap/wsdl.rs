//! `?wsdl` and `?xsd=` serving: our contract files, with the real address in
//! `soap:address` and every import pointing back at this endpoint.

use crate::contracts::Contract;

macro_rules! embed {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $file)))),*]
    };
}

/// Every contract file, by path relative to the repository root.
const FILES: &[(&str, &str)] = embed!(
    "wsdl/GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl",
    "wsdl/GetPersonsForProfileUnrestrictedInteraction_5.0_RIVTABP21.wsdl",
    "wsdl/GetPersonContactInformationInteraction_4.0_RIVTABP21.wsdl",
    "wsdl/GetPersonContactInformationUnrestrictedInteraction_4.0_RIVTABP21.wsdl",
    "wsdl/UpdatePersonContactInformationInteraction_4.0_RIVTABP21.wsdl",
    "wsdl/UpdatePersonContactInformationUnrestrictedInteraction_4.0_RIVTABP21.wsdl",
    "wsdl/PingForConfigurationInteraction_1.0_RIVTABP21.wsdl",
    "xsd/GetPersonsForProfileResponder_5.0.xsd",
    "xsd/GetPersonsForProfileUnrestrictedResponder_5.0.xsd",
    "xsd/GetPersonContactInformationResponder_4.0.xsd",
    "xsd/GetPersonContactInformationUnrestrictedResponder_4.0.xsd",
    "xsd/UpdatePersonContactInformationResponder_4.0.xsd",
    "xsd/UpdatePersonContactInformationUnrestrictedResponder_4.0.xsd",
    "xsd/PingForConfigurationResponder_1.0.xsd",
    "xsd/core_components/strategicresourcemanagement_persons_person_5.0.xsd",
    "xsd/core_components/itintegration_registry_1.0.xsd",
);

fn file(path: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

const CORE_XSD: &str = "strategicresourcemanagement_persons_person_5.0.xsd";
const REGISTRY_XSD: &str = "itintegration_registry_1.0.xsd";

/// The contract's WSDL with `endpoint` (e.g. `https://host:8443/GetPersonsForProfile/5/rivtabp21`) filled in.
pub(crate) fn wsdl(contract: Contract, endpoint: &str) -> Option<String> {
    let text = file(&format!("wsdl/{}", contract.wsdl_file()))?;
    let xsd = contract.xsd_file();
    let text = replace_address(text, endpoint)
        .replace(
            &format!("schemaLocation=\"../xsd/{xsd}\""),
            &format!("schemaLocation=\"{endpoint}?xsd={xsd}\""),
        )
        .replace(
            &format!("schemaLocation=\"../xsd/core_components/{REGISTRY_XSD}\""),
            &format!("schemaLocation=\"{endpoint}?xsd={REGISTRY_XSD}\""),
        );
    Some(text)
}

/// A schema the contract's WSDL imports, by file name, with its own imports rewritten.
pub(crate) fn xsd(contract: Contract, name: &str, endpoint: &str) -> Option<String> {
    let allowed = [
        contract.xsd_file(),
        CORE_XSD.to_owned(),
        REGISTRY_XSD.to_owned(),
    ];
    if !allowed.iter().any(|a| a == name) {
        return None;
    }
    let path = if name == contract.xsd_file() {
        format!("xsd/{name}")
    } else {
        format!("xsd/core_components/{name}")
    };
    let text = file(&path)?;
    Some(text.replace(
        &format!("schemaLocation=\"core_components/{CORE_XSD}\""),
        &format!("schemaLocation=\"{endpoint}?xsd={CORE_XSD}\""),
    ))
}

fn replace_address(text: &str, endpoint: &str) -> String {
    let Some(start) = text.find("<soap:address location=\"") else {
        return text.to_owned();
    };
    let value_start = start + "<soap:address location=\"".len();
    let Some(len) = text[value_start..].find('"') else {
        return text.to_owned();
    };
    format!(
        "{}{}{}",
        &text[..value_start],
        quick_xml::escape::escape(endpoint),
        &text[value_start + len..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wsdl_points_at_the_endpoint_and_its_schemas() {
        let e = "https://example.test:9443/GetPersonsForProfile/5/rivtabp21";
        let w = wsdl(Contract::GetPersonsForProfile, e).unwrap();
        assert!(w.contains(&format!("<soap:address location=\"{e}\"/>")));
        assert!(w.contains(&format!(
            "schemaLocation=\"{e}?xsd=GetPersonsForProfileResponder_5.0.xsd\""
        )));
        assert!(!w.contains("../xsd"));
        let x = xsd(
            Contract::GetPersonsForProfile,
            "GetPersonsForProfileResponder_5.0.xsd",
            e,
        )
        .unwrap();
        assert!(x.contains(&format!("{e}?xsd={CORE_XSD}")));
        assert!(xsd(Contract::GetPersonsForProfile, "../../etc/passwd", e).is_none());
        for c in Contract::ALL {
            assert!(wsdl(c, e).is_some(), "{c:?}");
            assert!(xsd(c, &c.xsd_file(), e).is_some());
        }
    }
}
