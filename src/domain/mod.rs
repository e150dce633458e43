//! The domain: identifiers, contact rules, protection and guardians. No XML, no I/O.

pub mod actor;
pub mod contact;
pub mod email;
pub mod error;
pub mod guardians;
pub mod identifier;
pub mod person;
pub mod phone;
pub mod protection;
pub mod update;
pub mod version;

pub use actor::{Actor, ActorInput};
pub use contact::{Channel, ContactEntry, ContactInput, ContactRecord, Provenance, Qualifiers};
pub use error::{ErrorCode, RuleId, Violation};
pub use identifier::{IdProblem, IdentifierPolicy, PersonId};
pub use person::{Deregistration, DeregistrationReason, Name, Person, PostalAddress};
pub use protection::{disclosure, Access, Disclosure, Profile, ProfileProblem, Protection};
pub use update::{UpdateAccess, UpdateInput, ValidatedUpdate};
pub use version::Version;
