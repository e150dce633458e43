//! The domain: identifiers, contact rules, protection and guardians. No XML, no I/O.

pub(crate) mod actor;
pub(crate) mod contact;
pub(crate) mod disclosure;
pub mod email;
pub(crate) mod error;
pub(crate) mod guardians;
pub mod identifier;
pub(crate) mod person;
pub mod phone;
pub(crate) mod protection;
pub mod update;
pub(crate) mod version;

pub use actor::{Actor, ActorInput};
pub use contact::{Channel, ContactEntry, ContactInput, ContactRecord, Provenance, Qualifiers};
pub use disclosure::{
    disclosure, erasure_due, guardians_shown, history_shown, Disclosure, Erasure, ShownAddress,
};
pub use error::{ErrorCode, RuleId, Violation};
pub use guardians::{notification_route, route_needed, NotificationRoute, Route};
pub use identifier::{IdInput, IdProblem, IdentifierPolicy, PersonId};
pub use person::{
    CountryCode, Deregistration, DeregistrationReason, Gender, HistoricalAddress, MaritalCode,
    MaritalStatus, Name, Person, PostalAddress, RegisterData,
};
pub use protection::{Access, Profile, ProfileProblem, Protection};
pub use update::{UpdateAccess, UpdateInput};
pub use version::{swedish_date, Version};
