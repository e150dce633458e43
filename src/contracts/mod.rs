//! The service contracts: their names, namespaces and paths, and one module each with its
//! pure mapping between XML and domain values. No store, no service, no business rule.

pub mod get_person_contact_information;
pub mod get_persons_for_profile;
pub mod ping_for_configuration;
pub mod types;
pub mod update_person_contact_information;

use crate::domain::Access;

/// Namespace of our machine-readable additions (errorCode, ruleId, logId) in `xs:any` slots.
pub(crate) const RESULT_NS: &str = "urn:pu-adapter:result:1";

/// Namespace of the core types of all five PU contracts.
pub(crate) const CORE_NS: &str = "urn:riv:strategicresourcemanagement:persons:person:5";

/// The seven contracts this producer serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contract {
    /// GetPersonsForProfile 5.0.
    GetPersonsForProfile,
    /// GetPersonsForProfileUnrestricted 5.0.
    GetPersonsForProfileUnrestricted,
    /// GetPersonContactInformation 4.0.
    GetPersonContactInformation,
    /// GetPersonContactInformationUnrestricted 4.0.
    GetPersonContactInformationUnrestricted,
    /// UpdatePersonContactInformation 4.0.
    UpdatePersonContactInformation,
    /// UpdatePersonContactInformationUnrestricted 4.0.
    UpdatePersonContactInformationUnrestricted,
    /// PingForConfiguration 1.0.
    PingForConfiguration,
}

/// What docs/contract.md fixes for one contract.
struct Spec {
    name: &'static str,
    major: u32,
    minor: u32,
    responder_ns: &'static str,
    path: &'static str,
}

macro_rules! pu_spec {
    ($name:literal, $major:literal) => {
        Spec {
            name: $name,
            major: $major,
            minor: 0,
            responder_ns: concat!(
                "urn:riv:strategicresourcemanagement:persons:person:",
                $name,
                "Responder:",
                $major
            ),
            path: concat!("/", $name, "/", $major, "/rivtabp21"),
        }
    };
}

const SPECS: [Spec; 7] = [
    pu_spec!("GetPersonsForProfile", 5),
    pu_spec!("GetPersonsForProfileUnrestricted", 5),
    pu_spec!("GetPersonContactInformation", 4),
    pu_spec!("GetPersonContactInformationUnrestricted", 4),
    pu_spec!("UpdatePersonContactInformation", 4),
    pu_spec!("UpdatePersonContactInformationUnrestricted", 4),
    Spec {
        name: "PingForConfiguration",
        major: 1,
        minor: 0,
        responder_ns: "urn:riv:itintegration:monitoring:PingForConfigurationResponder:1",
        path: "/PingForConfiguration/1/rivtabp21",
    },
];

impl Contract {
    /// All contracts, in docs/contract.md order.
    pub const ALL: [Contract; 7] = [
        Contract::GetPersonsForProfile,
        Contract::GetPersonsForProfileUnrestricted,
        Contract::GetPersonContactInformation,
        Contract::GetPersonContactInformationUnrestricted,
        Contract::UpdatePersonContactInformation,
        Contract::UpdatePersonContactInformationUnrestricted,
        Contract::PingForConfiguration,
    ];

    fn spec(self) -> &'static Spec {
        &SPECS[self as usize]
    }

    /// The contract's name, which is also its request element's name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// `major.minor`.
    pub fn version(self) -> String {
        format!("{}.{}", self.spec().major, self.spec().minor)
    }

    /// The responder namespace (request and response elements).
    pub fn responder_ns(self) -> &'static str {
        self.spec().responder_ns
    }

    /// The endpoint's URL path, e.g. `/PingForConfiguration/1/rivtabp21`.
    pub fn path(self) -> &'static str {
        self.spec().path
    }

    /// The contract served at `path`.
    pub(crate) fn from_path(path: &str) -> Option<Contract> {
        Self::ALL.into_iter().find(|c| c.path() == path)
    }

    /// The contract with this name.
    pub(crate) fn from_name(name: &str) -> Option<Contract> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The SOAPAction the WSDL declares.
    pub(crate) fn soap_action(self) -> String {
        format!("{}:{}", self.responder_ns(), self.name())
    }

    /// The response element's name.
    pub fn response_element(self) -> String {
        format!("{}Response", self.name())
    }

    /// The WSDL file name under `wsdl/`.
    pub(crate) fn wsdl_file(self) -> String {
        format!(
            "{}Interaction_{}_RIVTABP21.wsdl",
            self.name(),
            self.version()
        )
    }

    /// The responder schema file name under `xsd/`.
    pub(crate) fn xsd_file(self) -> String {
        format!("{}Responder_{}.xsd", self.name(), self.version())
    }

    /// Whether the contract only reads (its audit entries are the only write).
    pub(crate) fn is_read(self) -> bool {
        matches!(
            self,
            Contract::GetPersonsForProfile
                | Contract::GetPersonsForProfileUnrestricted
                | Contract::GetPersonContactInformation
                | Contract::GetPersonContactInformationUnrestricted
        )
    }

    /// Restricted or Unrestricted access; `None` for PingForConfiguration.
    pub fn access(self) -> Option<Access> {
        match self {
            Contract::GetPersonsForProfileUnrestricted
            | Contract::GetPersonContactInformationUnrestricted
            | Contract::UpdatePersonContactInformationUnrestricted => Some(Access::Unrestricted),
            Contract::PingForConfiguration => None,
            _ => Some(Access::Restricted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_namespaces_and_paths_follow_the_contract_table() {
        let c = Contract::UpdatePersonContactInformationUnrestricted;
        assert_eq!(c.responder_ns(), "urn:riv:strategicresourcemanagement:persons:person:UpdatePersonContactInformationUnrestrictedResponder:4");
        assert_eq!(
            c.path(),
            "/UpdatePersonContactInformationUnrestricted/4/rivtabp21"
        );
        assert_eq!(
            Contract::from_path("/GetPersonsForProfile/5/rivtabp21"),
            Some(Contract::GetPersonsForProfile)
        );
        assert_eq!(
            Contract::GetPersonsForProfile.wsdl_file(),
            "GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl"
        );
        assert_eq!(
            Contract::PingForConfiguration.xsd_file(),
            "PingForConfigurationResponder_1.0.xsd"
        );
        for c in Contract::ALL {
            assert_eq!(Contract::from_name(c.name()), Some(c));
        }
    }
}
