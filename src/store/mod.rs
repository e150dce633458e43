//! Storage behind one trait: persons (population data), contact records and the audit
//! trail. SQLite is the embedded default; PostgreSQL serves several instances.

/// Domain values to column values and back.
pub mod codec;
/// Batched, durable audit appends.
pub mod group_commit;
/// The blocking connection pool both backends use.
mod pool;
/// PostgreSQL backend.
pub mod postgres;
/// SQLite backend.
pub mod sqlite;

use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{ContactRecord, Person, PersonId, Violation};

/// A person and their stored contact information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonState {
    /// Population data.
    pub person: Person,
    /// Stored contact record, if any was ever stored.
    pub contacts: Option<ContactRecord>,
}

/// What an upsert of population data did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new person.
    Inserted,
    /// An existing person's population data was replaced.
    Updated,
}

/// A storage failure (never a rule violation).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the operation.
    #[error("database error: {0}")]
    Database(String),
    /// Stored data that this version cannot read.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Decides the new contact record from the current state, or refuses (the domain's `apply_update`).
pub type Decide<'a> = &'a dyn Fn(Option<&Person>, Option<&ContactRecord>) -> Result<ContactRecord, Violation>;

/// The storage every handler uses; implementations are interchangeable.
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgresql`.
    fn kind(&self) -> &'static str;

    /// Whether the database answers.
    fn ping(&self) -> Result<(), StoreError>;

    /// Loads persons by identifier, one slot per id, in order.
    fn load(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonState>>, StoreError>;

    /// In one transaction: reads the state of `id`, lets `decide` produce the new record,
    /// replaces the stored one and appends `audit` (outcome OK). If `decide` refuses,
    /// nothing changes and `audit` is appended with the refusal's code.
    fn update_contacts(&self, id: &PersonId, decide: Decide<'_>, audit: &AuditEntry) -> Result<Result<PersonState, Violation>, StoreError>;

    /// Inserts or replaces population data, never contact information.
    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError>;

    /// Appends audit entries.
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError>;

    /// Lists audit entries, oldest first.
    fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// How many persons are stored.
    fn count_persons(&self) -> Result<u64, StoreError>;
}
