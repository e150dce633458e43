//! The `[[consumers]]` sections: each consumer's grants, by contract name or `*`, and the
//! authorisation they give (AC-1, PR-5: `*` never grants an Unrestricted contract).

use super::{Config, ConfigError};
use crate::contracts::Contract;
use crate::service::Authorisation;
use serde::{Deserialize, Serialize};

/// A consumer system the deployment knows, and the contracts it may call (PR-5).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerConfig {
    /// The consumer's HSA-id, matched against the client certificate's.
    pub hsa_id: String,
    /// Contract names; `*` means every restricted contract and PingForConfiguration.
    pub contracts: Vec<Grant>,
}

/// One entry of a consumer's `contracts`: a contract by name, or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum Grant {
    /// `*`: every restricted contract and PingForConfiguration, never an Unrestricted one (PR-5).
    AllRestricted,
    /// Exactly this contract, by its published name.
    Contract(Contract),
}

/// A grant that names no contract.
#[derive(Debug, thiserror::Error)]
#[error("unknown contract {0:?}; use \"*\" or one of {names}", names = contract_names())]
pub struct UnknownContract(String);

fn contract_names() -> String {
    Contract::ALL
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl TryFrom<String> for Grant {
    type Error = UnknownContract;

    fn try_from(name: String) -> Result<Self, UnknownContract> {
        if name == "*" {
            return Ok(Grant::AllRestricted);
        }
        Contract::from_name(&name)
            .map(Grant::Contract)
            .ok_or(UnknownContract(name))
    }
}

impl From<Grant> for String {
    fn from(g: Grant) -> String {
        match g {
            Grant::AllRestricted => "*".into(),
            Grant::Contract(c) => c.name().into(),
        }
    }
}

impl Config {
    /// Who may call what (AC-1, PR-5): Unrestricted contracts only when named explicitly.
    pub(crate) fn authorisation(&self) -> Result<Authorisation, ConfigError> {
        let mut auth = Authorisation::default();
        for consumer in &self.consumers {
            for name in &consumer.contracts {
                match name {
                    Grant::AllRestricted => {
                        for c in Contract::ALL
                            .into_iter()
                            .filter(|c| c.access() != Some(crate::domain::Access::Unrestricted))
                        {
                            auth.allow(&consumer.hsa_id, c);
                        }
                    }
                    Grant::Contract(c) => auth.allow(&consumer.hsa_id, *c),
                }
            }
        }
        Ok(auth)
    }
}
