//! Storage behind two traits: [`PersonStore`] (population data and contact records) and
//! [`AuditLog`] (the append-only trail). SQLite is the embedded default; PostgreSQL serves
//! several instances. Both backends share one schema, one set of statements and one update
//! algorithm (`sql`); only the dialect and the connection handling differ.

/// Domain values to column values and back, shared by both backends.
mod codec;
/// The append-only audit journal: durable appends first, indexed into the database behind.
pub(crate) mod journal;
/// The blocking connection pool both backends use.
mod pool;
/// PostgreSQL backend.
pub mod postgres;
/// What both SQL backends share: schema, migrations, statements, row mapping, the update algorithm.
mod sql;
pub(crate) use sql::IMPORT_CONSUMER;
/// SQLite backend.
pub mod sqlite;

/// Failures of the audit journal's file system on demand, for tests.
#[cfg(any(test, feature = "testkit"))]
pub use journal::{
    install_faults as install_journal_faults, FaultPoint as JournalFaultPoint, JournalFaults,
};
pub use journal::{DecodeError, Field as AuditRecordField, RecordError};

use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{ContactRecord, Person, PersonId, Violation};
use std::path::PathBuf;
use std::sync::Arc;

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

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    #[serde(alias = "postgres")]
    Postgresql,
}

impl StoreKind {
    /// The name used in configuration and PingForConfiguration.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgresql => "postgresql",
        }
    }
}

/// A storage failure (never a rule violation). Each variant keeps its cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused the operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused the operation or could not be reached.
    #[error("database error: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// Opening or migrating a database file failed.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<StoreError>,
    },
    /// The TLS material for the database connection is unusable.
    #[error("database TLS: {0}")]
    Tls(String),
    /// SQLite did not switch to write-ahead logging.
    #[error("could not switch {} to WAL (journal_mode={mode})", path.display())]
    NoWal {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// Every pooled connection stayed lent for the whole wait.
    #[error("all {max} {what} connections stayed busy for {seconds} s")]
    PoolExhausted {
        /// Which pool.
        what: &'static str,
        /// Its size.
        max: usize,
        /// How long the caller waited.
        seconds: u64,
    },
    /// A thread holding a lock panicked; the lock's data can no longer be trusted.
    #[error("{0} lock poisoned")]
    Poisoned(&'static str),
    /// A background thread of the store could not start.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The audit journal's file system refused a write, a sync or a file.
    #[error("audit journal {}: {source}", path.display())]
    Journal {
        /// The segment, file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A record of the audit journal could not be read.
    #[error(transparent)]
    JournalRecord(#[from] RecordError),
    /// The audit journal was made for another database: replaying it here would put that
    /// database's trail into this one.
    #[error("audit journal {} belongs to database {journal_database}, not to this database {database}: it is not replayed here (point store.audit_journal at this database's journal, or move this journal back beside its own database)", dir.display())]
    JournalOfAnotherDatabase {
        /// The journal's directory.
        dir: PathBuf,
        /// The identity written into the journal.
        journal_database: String,
        /// The identity of the database it was opened with.
        database: String,
    },
    /// Another process holds the audit journal.
    #[error("audit journal {} is in use by another pu-adapter process", .0.display())]
    JournalInUse(PathBuf),
    /// The index did not catch up with the journal in time (the database is failing).
    #[error("the audit index of journal {journal} is behind (indexed through {indexed}, journaled through {committed})")]
    IndexBehind {
        /// The journal's id.
        journal: String,
        /// Indexed through this sequence.
        indexed: u64,
        /// Journaled through this one.
        committed: u64,
    },
    /// The audit committer thread is gone.
    #[error("the audit committer has stopped")]
    CommitterStopped,
    /// The batch this caller's audit entries were in failed to commit.
    #[error("audit batch not committed: {0}")]
    Batch(#[source] Arc<StoreError>),
    /// The group of updates this one was committed with failed; none of their changes were kept.
    #[error("the group commit this update was part of failed: {0}")]
    Group(#[source] Arc<StoreError>),
    /// Removed values could not be scrubbed from every file in time (CO-2).
    #[error("removed values are still in the store's files after {} s of retrying: {source}", waited.as_secs())]
    ScrubIncomplete {
        /// How long the scrub kept trying.
        waited: std::time::Duration,
        /// The last attempt's failure (a reader holding the WAL, a lock not granted).
        #[source]
        source: Box<StoreError>,
    },
    /// The database did not answer a read in time; its connection was closed.
    #[error("the database did not answer a read within {} s", .0.as_secs())]
    Unanswered(std::time::Duration),
    /// Stored data that this version cannot read.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The update algorithm's own invariant broke (a bug, not bad input).
    #[error("internal error: {0}")]
    Invariant(&'static str),
}

impl StoreError {
    /// Whether the database refused the data itself (PostgreSQL classes 22 and 23, SQLite
    /// constraint, type or size errors), not the connection or the disk: retrying the same
    /// data cannot succeed.
    pub(crate) fn is_data_error(&self) -> bool {
        match self {
            StoreError::Postgres(e) => e
                .code()
                .is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("23")),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::ConstraintViolation
                    | rusqlite::ErrorCode::TypeMismatch
                    | rusqlite::ErrorCode::TooBig
            ),
            StoreError::File { source, .. } => source.is_data_error(),
            _ => false,
        }
    }

    /// This error as one of the file at `path`.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        StoreError::File {
            path: path.to_owned(),
            source: Box::new(self),
        }
    }
}

/// Decides the new contact record from the current state, or refuses (the domain's `apply_update`).
pub type Decide<'a> =
    &'a dyn Fn(Option<&Person>, Option<&ContactRecord>) -> Result<ContactRecord, Violation>;

/// One update of a person's contact information, as the store applies it.
#[derive(Clone, Copy)]
pub struct ContactUpdate<'a> {
    /// Whose.
    pub id: &'a PersonId,
    /// The domain's decision from the stored state.
    pub decide: Decide<'a>,
    /// The audit entry, completed with the outcome.
    pub audit: &'a AuditEntry,
}

/// The new state, or the rule that refused the update; or a storage failure.
pub type UpdateResult = Result<Result<PersonState, Violation>, StoreError>;

/// What a population replacement, or an upsert with seeds, stored.
#[derive(Debug)]
pub struct Replaced {
    /// Per person given, in order.
    pub persons: Vec<Upserted>,
    /// Per seed given, in order: stored, or the rule that refused it.
    pub seeds: Vec<Result<(), Violation>>,
}

/// Population data and contact records; implementations are interchangeable.
pub trait PersonStore: Send + Sync + 'static {
    /// Which backend.
    fn kind(&self) -> StoreKind;

    /// Whether the database answers.
    fn ping(&self) -> Result<(), StoreError>;

    /// For each id, the state of the person who answers for it: the current identity it
    /// refers to when `follow_aliases` and it is a referred or linked identity (rule #2),
    /// else the id's own. One slot per id, in order, all read from one snapshot.
    fn load_following_aliases(
        &self,
        ids: &[PersonId],
        follow_aliases: bool,
    ) -> Result<Vec<Option<PersonState>>, StoreError>;

    /// Loads persons by identifier, one slot per id, in order.
    fn load(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonState>>, StoreError> {
        self.load_following_aliases(ids, false)
    }

    /// In one transaction: reads the state of `id`, lets `decide` produce the new record,
    /// replaces the stored one and appends `audit` with the outcome (OK, or the refusal's
    /// code). A refusal changes nothing but the audit trail.
    fn update_contacts(&self, update: ContactUpdate<'_>) -> UpdateResult;

    /// Inserts or replaces population data, never contact information.
    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError>;

    /// Inserts or replaces population data as [`PersonStore::upsert_persons`] does, then
    /// enters `seeds` in order as updates over what that left (the import's contact
    /// information), all in one transaction: each seed is decided and audited as
    /// [`PersonStore::update_contacts`] decides and audits it (a refusal changes nothing
    /// but the audit trail), and a failure stores nothing of the batch.
    fn upsert_and_seed(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError>;

    /// How many persons are stored.
    fn count_persons(&self) -> Result<u64, StoreError>;

    /// Replaces every person and contact record with `persons`, then enters `seeds` as
    /// updates (staging reset), in one transaction: a reader sees the old population or
    /// the new one, never an empty or half-written one, and a failure changes nothing.
    /// The audit trail stays.
    fn replace_population(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError>;

    /// Whether a read may run on an async worker thread now: true where reads are short
    /// page-cache lookups in this process and a connection is free; false where the client
    /// blocks on a network round trip or runs a runtime of its own (the PostgreSQL client
    /// does both).
    fn reads_inline(&self) -> bool {
        false
    }

    /// The reads an async task can await without holding a thread, where the backend has
    /// them (PostgreSQL: an async client); `None` where reads go through
    /// [`PersonStore::load_following_aliases`] (SQLite).
    fn async_reads(&self) -> Option<&dyn AsyncReads> {
        None
    }

    /// Makes every value this store removed (an update, a withdrawal, an erasure, a
    /// replacement) leave the store's files now, retrying until `within` has passed (CO-2).
    /// A process that removes values and exits (the import) calls it before it exits; a
    /// server's background threads do the same work on their own.
    fn scrub_removed(&self, within: std::time::Duration) -> Result<Scrubbed, StoreError>;
}

/// What an awaited read gives: as [`PersonStore::load_following_aliases`] does.
pub type Loading<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Vec<Option<PersonState>>, StoreError>> + Send + 'a>,
>;

/// Reads of population data and contact records that an async task awaits: the task is
/// parked, not a thread, while the database answers. Every call reads the database (no
/// cache), so a read never shows what an import erased or changed once that import exited.
pub trait AsyncReads: Send + Sync {
    /// As [`PersonStore::load_following_aliases`]: one slot per id, in order, all read
    /// from one snapshot; a lost connection or an unanswered read fails within a bound.
    fn load_following_aliases<'a>(
        &'a self,
        ids: &'a [PersonId],
        follow_aliases: bool,
    ) -> Loading<'a>;
}

/// How the service reads the person store.
#[derive(Clone, Copy)]
pub enum Reads<'a> {
    /// Through [`PersonStore`]'s own methods: on the async task where the store says
    /// [`PersonStore::reads_inline`], else on a blocking thread.
    Inline,
    /// Awaited on the async task, never on a blocking thread.
    Async(&'a dyn AsyncReads),
}

/// What [`PersonStore::scrub_removed`] found to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scrubbed {
    /// Nothing had been removed since the last scrub.
    NothingRemoved,
    /// The removed values left every file; it took this long.
    Done(std::time::Duration),
}

/// The append-only audit trail (AC-2).
pub trait AuditLog: Send + Sync + 'static {
    /// Appends entries durably: when this returns Ok they survive a crash.
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError>;

    /// Lists entries, oldest first.
    fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Starts a durable append without blocking: the ticket resolves once the entries
    /// survive a crash. A store without a journal appends here and now.
    fn submit(&self, entries: Vec<AuditEntry>) -> AuditTicket {
        AuditTicket::done(self.append(&entries))
    }

    /// In one transaction: appends the records of audit journal `journal` above its mark
    /// and moves the mark to `through` (when higher); returns the mark after.
    fn index_journal(
        &self,
        journal: &str,
        records: &[(u64, AuditEntry)],
        through: u64,
    ) -> Result<u64, StoreError>;

    /// The last sequence of `journal` indexed (0 when none was).
    fn journal_mark(&self, journal: &str) -> Result<u64, StoreError>;

    /// The database's identity: a random id given at its creation, which its audit journal
    /// carries too (a journal is never replayed into another database).
    fn database_identity(&self) -> Result<String, StoreError>;
}

/// What a durable append's caller waits on.
#[must_use = "an audit append is durable only once its ticket resolved"]
pub struct AuditTicket(Ticket);

enum Ticket {
    Done(Result<(), StoreError>),
    Pending(tokio::sync::oneshot::Receiver<Result<(), Arc<StoreError>>>),
}

impl AuditTicket {
    /// An append that already ended.
    pub(crate) fn done(result: Result<(), StoreError>) -> Self {
        Self(Ticket::Done(result))
    }

    /// An append a committer thread will acknowledge.
    pub(crate) fn pending(
        ack: tokio::sync::oneshot::Receiver<Result<(), Arc<StoreError>>>,
    ) -> Self {
        Self(Ticket::Pending(ack))
    }

    /// Waits on an async task until the entries are durable.
    pub async fn durable(self) -> Result<(), StoreError> {
        match self.0 {
            Ticket::Done(result) => result,
            Ticket::Pending(ack) => Self::acknowledged(ack.await.ok()),
        }
    }

    /// Blocks this (non-async) thread until the entries are durable.
    pub fn wait(self) -> Result<(), StoreError> {
        match self.0 {
            Ticket::Done(result) => result,
            Ticket::Pending(ack) => Self::acknowledged(ack.blocking_recv().ok()),
        }
    }

    fn acknowledged(ack: Option<Result<(), Arc<StoreError>>>) -> Result<(), StoreError> {
        match ack {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(StoreError::Batch(e)),
            None => Err(StoreError::CommitterStopped),
        }
    }
}

/// One database serving both roles, as both backends do.
pub trait Store: PersonStore + AuditLog {}

impl<T: PersonStore + AuditLog> Store for T {}

/// The stores the service works with: the person store, and the audit log (the journal in a server).
#[derive(Clone)]
pub struct Stores {
    /// Population data and contact records.
    pub persons: Arc<dyn PersonStore>,
    /// The audit trail.
    pub audit: Arc<dyn AuditLog>,
}

impl Stores {
    /// How reads of the person store run.
    pub fn reads(&self) -> Reads<'_> {
        self.persons
            .async_reads()
            .map_or(Reads::Inline, Reads::Async)
    }

    /// Both roles served by one database, audit appends straight through.
    pub fn direct<S: Store>(store: Arc<S>) -> Self {
        Self {
            persons: store.clone(),
            audit: store,
        }
    }
}

impl<S: Store> From<Arc<S>> for Stores {
    fn from(store: Arc<S>) -> Self {
        Stores::direct(store)
    }
}

impl<S: Store> From<&Arc<S>> for Stores {
    fn from(store: &Arc<S>) -> Self {
        Stores::direct(store.clone())
    }
}

impl From<&Stores> for Stores {
    fn from(stores: &Stores) -> Self {
        stores.clone()
    }
}
