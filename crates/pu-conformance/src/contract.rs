//! The published contracts as a consumer sees them: names, namespaces, endpoint paths,
//! SOAPActions and schema file names.
//!
//! An honest duplicate of the service's table (`pu_adapter::contracts::Contract`): these
//! are facts of the published RIVTA contracts, and the kit states them itself so that a
//! mistake in the service's table is caught here instead of shared. The integration tests
//! check that both tables agree.

/// Namespace of pu-adapter's machine-readable additions (errorCode, ruleId, logId,
/// notificationRoute, earlierAddress) in the contracts' `xs:any` slots (docs/contract.md).
pub(crate) const RESULT_NS: &str = "urn:pu-adapter:result:1";

/// Namespace of the core types of all five PU contracts.
pub(crate) const CORE_NS: &str = "urn:riv:strategicresourcemanagement:persons:person:5";

/// The seven contracts a producer of this domain serves.
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

    /// The contract's name, which is also its request element's name.
    pub fn name(self) -> &'static str {
        match self {
            Contract::GetPersonsForProfile => "GetPersonsForProfile",
            Contract::GetPersonsForProfileUnrestricted => "GetPersonsForProfileUnrestricted",
            Contract::GetPersonContactInformation => "GetPersonContactInformation",
            Contract::GetPersonContactInformationUnrestricted => {
                "GetPersonContactInformationUnrestricted"
            }
            Contract::UpdatePersonContactInformation => "UpdatePersonContactInformation",
            Contract::UpdatePersonContactInformationUnrestricted => {
                "UpdatePersonContactInformationUnrestricted"
            }
            Contract::PingForConfiguration => "PingForConfiguration",
        }
    }

    /// `major.minor`.
    pub fn version(self) -> &'static str {
        match self {
            Contract::GetPersonsForProfile | Contract::GetPersonsForProfileUnrestricted => "5.0",
            Contract::PingForConfiguration => "1.0",
            _ => "4.0",
        }
    }

    /// The responder namespace (request and response elements).
    pub fn responder_ns(self) -> &'static str {
        match self {
            Contract::GetPersonsForProfile => {
                "urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5"
            }
            Contract::GetPersonsForProfileUnrestricted => {
                "urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileUnrestrictedResponder:5"
            }
            Contract::GetPersonContactInformation => {
                "urn:riv:strategicresourcemanagement:persons:person:GetPersonContactInformationResponder:4"
            }
            Contract::GetPersonContactInformationUnrestricted => {
                "urn:riv:strategicresourcemanagement:persons:person:GetPersonContactInformationUnrestrictedResponder:4"
            }
            Contract::UpdatePersonContactInformation => {
                "urn:riv:strategicresourcemanagement:persons:person:UpdatePersonContactInformationResponder:4"
            }
            Contract::UpdatePersonContactInformationUnrestricted => {
                "urn:riv:strategicresourcemanagement:persons:person:UpdatePersonContactInformationUnrestrictedResponder:4"
            }
            Contract::PingForConfiguration => {
                "urn:riv:itintegration:monitoring:PingForConfigurationResponder:1"
            }
        }
    }

    /// The endpoint path (RIVTA BP 2.1).
    pub fn path(self) -> &'static str {
        match self {
            Contract::GetPersonsForProfile => "/GetPersonsForProfile/5/rivtabp21",
            Contract::GetPersonsForProfileUnrestricted => {
                "/GetPersonsForProfileUnrestricted/5/rivtabp21"
            }
            Contract::GetPersonContactInformation => "/GetPersonContactInformation/4/rivtabp21",
            Contract::GetPersonContactInformationUnrestricted => {
                "/GetPersonContactInformationUnrestricted/4/rivtabp21"
            }
            Contract::UpdatePersonContactInformation => {
                "/UpdatePersonContactInformation/4/rivtabp21"
            }
            Contract::UpdatePersonContactInformationUnrestricted => {
                "/UpdatePersonContactInformationUnrestricted/4/rivtabp21"
            }
            Contract::PingForConfiguration => "/PingForConfiguration/1/rivtabp21",
        }
    }

    /// The SOAPAction the published WSDL declares.
    pub fn soap_action(self) -> String {
        format!("{}:{}", self.responder_ns(), self.name())
    }

    /// The response element's name.
    pub fn response_element(self) -> String {
        format!("{}Response", self.name())
    }

    /// The responder schema's file name in a RIVTA release (and in pu-adapter's `xsd/`).
    pub fn xsd_file(self) -> String {
        format!("{}Responder_{}.xsd", self.name(), self.version())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_namespaces_and_paths_follow_the_published_contracts() {
        let c = Contract::UpdatePersonContactInformationUnrestricted;
        assert_eq!(c.responder_ns(), "urn:riv:strategicresourcemanagement:persons:person:UpdatePersonContactInformationUnrestrictedResponder:4");
        assert_eq!(
            c.path(),
            "/UpdatePersonContactInformationUnrestricted/4/rivtabp21"
        );
        assert_eq!(
            Contract::GetPersonsForProfile.path(),
            "/GetPersonsForProfile/5/rivtabp21"
        );
        assert_eq!(
            Contract::PingForConfiguration.xsd_file(),
            "PingForConfigurationResponder_1.0.xsd"
        );
        assert_eq!(
            Contract::PingForConfiguration.path(),
            "/PingForConfiguration/1/rivtabp21"
        );
    }
}
