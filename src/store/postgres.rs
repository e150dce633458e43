//! The PostgreSQL store, for several instances sharing one database. Concurrent updates
//! of one person serialise on a row lock (`SELECT … FOR UPDATE`). Updates, the audit log and
//! the import use the blocking client through [`Pool`]; the service's reads use the async
//! client of `reads`, so that no thread waits on the database for them.

/// The reads an async task awaits.
mod reads;

use super::pool::Pool;
use super::sql::{self, Column, Dialect, EachRow, Sql, SqlResult, SqlRow, Value};
use super::{
    AsyncReads, AuditLog, AuditTicket, ContactUpdate, PersonState, PersonStore, Replaced, Scrubbed,
    StoreError, StoreKind, UpdateResult, Upserted,
};
use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{Person, PersonId};
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls};
use rustls_pki_types::pem::PemObject;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Serialises migrations of instances that start together.
const MIGRATION_LOCK: i64 = 7_262_001;

/// PostgreSQL behind a connection pool, and a pool of async clients for the service's reads.
pub struct PostgresStore {
    pool: Pool<PgConn>,
    reads: reads::PgReads,
    scrubber: Scrubber,
}

/// A pooled connection and the statements prepared on it: a statement sent as text is
/// parsed, planned and described on every call (two round trips); prepared once per
/// connection it is one.
struct PgConn {
    client: Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
}

impl PgConn {
    fn new(client: Client) -> Self {
        Self {
            client,
            statements: std::collections::HashMap::new(),
        }
    }

    /// The connection itself, outside a transaction.
    fn sql(&mut self) -> PgSql<'_, Client> {
        PgSql {
            db: &mut self.client,
            statements: &mut self.statements,
        }
    }
}

/// How long after a committed removal the background scrub starts: removals that come in
/// a burst share one rewrite of their partitions.
const SCRUB_AFTER: Duration = Duration::from_secs(2);

/// How long the background scrub keeps retrying one round (CO-2 allows 10 s in all).
const SCRUB_ROUND: Duration = Duration::from_secs(7);

/// The longest one rewrite waits for its partition's lock: a queued ACCESS EXCLUSIVE
/// request holds up every later reader of that partition, so it gives up and retries
/// rather than queue behind a long transaction.
const SCRUB_LOCK_WAIT: Duration = Duration::from_millis(1500);

/// Pause between two attempts of a scrub.
const SCRUB_RETRY: Duration = Duration::from_millis(200);

/// Contact records whose removed values may still be in the table files.
#[derive(Debug, Default)]
struct Unscrubbed {
    /// Every partition (a population replacement).
    all: bool,
    /// The persons whose records lost a value.
    keys: std::collections::HashSet<String>,
}

impl Unscrubbed {
    fn is_empty(&self) -> bool {
        !self.all && self.keys.is_empty()
    }

    fn merge(&mut self, other: Unscrubbed) {
        self.all |= other.all;
        self.keys.extend(other.keys);
    }
}

/// Scrubs removed contact values out of the table files (CO-2). VACUUM frees a dead row
/// but leaves its bytes in the page's free space (seen: a deleted row inserted last was
/// still in the file after VACUUM and CHECKPOINT), so the partitions holding removed
/// values are rewritten with VACUUM FULL, which writes a new file and truncates the old.
/// A background thread does it within SCRUB_AFTER + SCRUB_ROUND of a removal;
/// `scrub_now` does it at once for a process about to exit.
struct Scrubber {
    pending: Arc<Mutex<Unscrubbed>>,
    wake: Mutex<std::sync::mpsc::Sender<()>>,
    url: String,
    tls: Connector,
}

impl Scrubber {
    fn start(url: String, tls: Connector) -> Result<Self, StoreError> {
        let (wake, woken) = std::sync::mpsc::channel::<()>();
        let pending = Arc::new(Mutex::new(Unscrubbed::default()));
        let background = Scrubber {
            pending: pending.clone(),
            wake: Mutex::new(wake.clone()),
            url: url.clone(),
            tls: tls.clone(),
        };
        std::thread::Builder::new()
            .name("postgres-scrub".into())
            .spawn(move || {
                let mut client: Option<Client> = None;
                while woken.recv().is_ok() {
                    std::thread::sleep(SCRUB_AFTER);
                    while woken.try_recv().is_ok() {}
                    if let Err(e) = background.scrub_until(&mut client, SCRUB_ROUND) {
                        tracing::error!(error = %e, "removed contact values are still in the PostgreSQL table files; retried at the next removal or scrub");
                    }
                }
            })
            .map_err(|source| StoreError::Thread { what: "scrub", source })?;
        Ok(Self {
            pending,
            wake: Mutex::new(wake),
            url,
            tls,
        })
    }

    /// A committed change removed values of these persons' records.
    fn removed(&self, keys: impl IntoIterator<Item = String>, all: bool) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.all |= all;
            pending.keys.extend(keys);
        }
        if let Ok(wake) = self.wake.lock() {
            let _ = wake.send(());
        }
    }

    /// Rewrites the partitions with removed values, retrying until `within` has passed;
    /// what it could not finish stays pending.
    fn scrub_until(
        &self,
        client: &mut Option<Client>,
        within: Duration,
    ) -> Result<Scrubbed, StoreError> {
        let work = std::mem::take(
            &mut *self
                .pending
                .lock()
                .map_err(|_| StoreError::Poisoned("scrub"))?,
        );
        if work.is_empty() {
            return Ok(Scrubbed::NothingRemoved);
        }
        let started = Instant::now();
        loop {
            let lock_wait = SCRUB_LOCK_WAIT.min(within.saturating_sub(started.elapsed()));
            let attempt = self
                .connected(client)
                .and_then(|c| rewrite_partitions(c, &work, lock_wait));
            match attempt {
                Ok(()) => return Ok(Scrubbed::Done(started.elapsed())),
                Err(e) => {
                    *client = None;
                    if started.elapsed() + SCRUB_RETRY >= within {
                        if let Ok(mut pending) = self.pending.lock() {
                            pending.merge(work);
                        }
                        return Err(StoreError::ScrubIncomplete {
                            waited: started.elapsed(),
                            source: Box::new(e),
                        });
                    }
                    tracing::debug!(error = %e, "rewrite of contact partitions after a removal failed; retrying");
                    std::thread::sleep(SCRUB_RETRY);
                }
            }
        }
    }

    fn connected<'c>(&self, client: &'c mut Option<Client>) -> Result<&'c mut Client, StoreError> {
        if client.as_ref().is_none_or(Client::is_closed) {
            *client = Some(self.tls.connect(&self.url)?);
        }
        client.as_mut().ok_or(StoreError::Invariant(
            "a scrub connection just made is gone",
        ))
    }
}

/// The partitions holding `work`'s records, each rewritten; a lock not granted within
/// `lock_wait` fails the attempt.
fn rewrite_partitions(
    client: &mut Client,
    work: &Unscrubbed,
    lock_wait: Duration,
) -> Result<(), StoreError> {
    let partitions: Vec<i32> = if work.all {
        (0..sql::CONTACT_PARTITIONS).collect()
    } else {
        let keys: Vec<&str> = work.keys.iter().map(String::as_str).collect();
        client
            .query(
                "SELECT DISTINCT r FROM unnest($1::text[]) AS k(key), generate_series(0, $2 - 1) AS r
                 WHERE satisfies_hash_partition('contact_records'::regclass, $2, r, k.key) ORDER BY r",
                &[&keys, &sql::CONTACT_PARTITIONS],
            )?
            .iter()
            .map(|row| row.get::<_, i32>(0))
            .collect()
    };
    client.batch_execute(&format!(
        "SET lock_timeout = {}",
        lock_wait.as_millis().max(1)
    ))?;
    for r in partitions {
        client.batch_execute(&format!("VACUUM FULL contact_records_{r}"))?;
    }
    Ok(())
}

impl Drop for PostgresStore {
    /// Each client owns a small runtime that must not be dropped on an async thread.
    fn drop(&mut self) {
        let clients = self.pool.drain_idle();
        if !clients.is_empty() {
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

impl PostgresStore {
    /// Connects, applies migrations and keeps up to `pool_size` connections, and as many
    /// again for the service's reads (opened on the first read, from an async task).
    ///
    /// With `ca`, every connection is TLS and the server must present a certificate from
    /// that CA for the host it was asked for (libpq's `sslmode=verify-full`); without, the
    /// connections are plain (a local socket or loopback only).
    pub fn open(
        url: &str,
        pool_size: usize,
        ca: Option<&std::path::Path>,
    ) -> Result<Self, StoreError> {
        let tls = Connector::new(ca)?;
        let scrubber = Scrubber::start(url.to_owned(), tls.clone())?;
        let reads = reads::PgReads::new(url.to_owned(), tls.clone(), pool_size);
        let url = url.to_owned();
        let connect = move || tls.connect(&url).map(PgConn::new);
        // A broken connection is dropped on return, so the service recovers when the database does.
        let store = Self {
            pool: Pool::new("PostgreSQL", pool_size, Box::new(connect), |c: &PgConn| {
                !c.client.is_closed()
            }),
            reads,
            scrubber,
        };
        store.pool.with(|c| {
            in_transaction(c, |tx| {
                tx.execute(
                    "SELECT pg_advisory_xact_lock($1)",
                    &[Value::Int(MIGRATION_LOCK)],
                )?;
                sql::migrate(tx)
            })
        })?;
        Ok(store)
    }
}

/// Whether the server answers, connecting as the store would; changes nothing.
pub fn reachable(url: &str, ca: Option<&std::path::Path>) -> Result<(), StoreError> {
    let tls = Connector::new(ca)?;
    let url = url.to_owned();
    // The sync client runs a runtime of its own: never on an async thread.
    std::thread::spawn(move || {
        tls.connect(&url)
            .and_then(|mut c| Ok(c.simple_query("SELECT 1").map(|_| ())?))
    })
    .join()
    .map_err(|_| StoreError::Invariant("the connection check panicked"))?
}

/// How connections are made: plain, or TLS verified against a CA (verify-full).
#[derive(Clone)]
enum Connector {
    Plain,
    Verified(tokio_postgres_rustls::MakeRustlsConnect),
}

impl Connector {
    fn new(ca: Option<&std::path::Path>) -> Result<Self, StoreError> {
        let Some(ca) = ca else {
            return Ok(Connector::Plain);
        };
        let mut roots = rustls::RootCertStore::empty();
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(ca)
            .and_then(std::iter::Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| StoreError::Tls(format!("store.postgres_ca = {}: {e}", ca.display())))?;
        if certs.is_empty() {
            return Err(StoreError::Tls(format!(
                "store.postgres_ca = {}: no certificate found",
                ca.display()
            )));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                StoreError::Tls(format!("store.postgres_ca = {}: {e}", ca.display()))
            })?;
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Connector::Verified(
            tokio_postgres_rustls::MakeRustlsConnect::new(config),
        ))
    }

    /// An async client whose connection runs as a task of the current runtime; it ends
    /// when the client is dropped or the server goes away.
    async fn connect_async(&self, url: &str) -> Result<tokio_postgres::Client, StoreError> {
        let mut config: tokio_postgres::Config = url.parse()?;
        config.connect_timeout(reads::CONNECT_TIMEOUT);
        let client = match self {
            Connector::Plain => {
                let (client, connection) = config.connect(NoTls).await?;
                tokio::spawn(reads::run_connection(connection));
                client
            }
            // require: the connection fails rather than falling back to plain text.
            Connector::Verified(tls) => {
                config.ssl_mode(tokio_postgres::config::SslMode::Require);
                let (client, connection) = config.connect(tls.clone()).await?;
                tokio::spawn(reads::run_connection(connection));
                client
            }
        };
        Ok(client)
    }

    fn connect(&self, url: &str) -> Result<Client, StoreError> {
        Ok(match self {
            Connector::Plain => Client::connect(url, NoTls)?,
            // require: the connection fails rather than falling back to plain text.
            Connector::Verified(tls) => {
                let mut config: postgres::Config = url.parse()?;
                config.ssl_mode(postgres::config::SslMode::Require);
                config.connect(tls.clone())?
            }
        })
    }
}

/// Runs `f` in a transaction; commits when `f` succeeds (dropping it uncommitted rolls back).
fn in_transaction<T>(
    conn: &mut PgConn,
    f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn.client.transaction()?;
    run_and_commit(tx, &mut conn.statements, f)
}

/// Runs `f` in a read-only transaction: every statement in it reads the same snapshot.
fn in_snapshot<T>(
    conn: &mut PgConn,
    f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn
        .client
        .build_transaction()
        .read_only(true)
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .start()?;
    run_and_commit(tx, &mut conn.statements, f)
}

fn run_and_commit<T>(
    mut tx: postgres::Transaction<'_>,
    statements: &mut std::collections::HashMap<String, postgres::Statement>,
    f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let out = f(&mut PgSql {
        db: &mut tx,
        statements,
    })?;
    tx.commit()?;
    Ok(out)
}

/// A client or transaction speaking the shared statements, prepared once per connection.
struct PgSql<'c, C: GenericClient> {
    db: &'c mut C,
    statements: &'c mut std::collections::HashMap<String, postgres::Statement>,
}

impl<C: GenericClient> PgSql<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.db.prepare(sql)?;
        self.statements.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }
}

fn bind<'a>(params: &'a [Value<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|v| -> &(dyn ToSql + Sync) {
            match v {
                Value::Text(s) => s,
                Value::OptText(s) => s,
                Value::Bool(b) => b,
                Value::OptBool(b) => b,
                Value::Int(i) => i,
            }
        })
        .collect()
}

impl SqlRow for postgres::Row {
    fn column(&self, i: usize) -> Result<Column, StoreError> {
        let kind = self.columns().get(i).map(|c| c.type_().clone());
        Ok(match kind {
            Some(Type::BOOL) => self
                .try_get::<_, Option<bool>>(i)?
                .map_or(Column::Null, Column::Bool),
            Some(Type::INT8) => self
                .try_get::<_, Option<i64>>(i)?
                .map_or(Column::Null, Column::Int),
            Some(Type::INT4) => self
                .try_get::<_, Option<i32>>(i)?
                .map_or(Column::Null, |n| Column::Int(n.into())),
            _ => self
                .try_get::<_, Option<String>>(i)?
                .map_or(Column::Null, Column::Text),
        })
    }
}

impl<C: GenericClient> Sql for PgSql<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.db.batch_execute(sql)?)
    }

    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.db.execute(&statement, &bind(params))?)
    }

    fn query(&mut self, sql: &str, params: &[Value<'_>], each: EachRow<'_>) -> SqlResult<()> {
        let statement = self.statement(sql)?;
        for row in self.db.query(&statement, &bind(params))? {
            each(&row)?;
        }
        Ok(())
    }
}

impl PersonStore for PostgresStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgresql
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .with(|c| Ok(c.client.simple_query("SELECT 1").map(|_| ())?))
    }

    fn load_following_aliases(
        &self,
        ids: &[PersonId],
        follow_aliases: bool,
    ) -> Result<Vec<Option<PersonState>>, StoreError> {
        self.pool.with(|c| {
            // One id is one statement, its own snapshot: one round trip.
            if let [id] = ids {
                return Ok(vec![sql::read_resolved(&mut c.sql(), id, follow_aliases)?]);
            }
            // One read-only transaction: every id is read from the same snapshot.
            in_snapshot(c, |tx| {
                ids.iter()
                    .map(|id| sql::read_resolved(tx, id, follow_aliases))
                    .collect()
            })
        })
    }

    fn update_contacts(&self, update: ContactUpdate<'_>) -> UpdateResult {
        let key = update.id.key();
        let (outcome, removed) = self
            .pool
            .with(|c| in_transaction(c, |tx| sql::update_contacts(tx, update)))?;
        if removed {
            self.scrubber.removed([key], false);
        }
        Ok(outcome)
    }

    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError> {
        let outcomes: Vec<(Upserted, bool)> = self
            .pool
            .with(|c| in_transaction(c, |tx| sql::upsert_persons(tx, persons)))?;
        let erased = persons
            .iter()
            .zip(&outcomes)
            .filter(|(_, (_, erased))| *erased)
            .map(|(p, _)| p.id.key());
        self.scrubber.removed(erased, false);
        Ok(outcomes.into_iter().map(|(u, _)| u).collect())
    }

    fn upsert_and_seed(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError> {
        let batch = self
            .pool
            .with(|c| in_transaction(c, |tx| sql::upsert_and_seed(tx, persons, &seeds)))?;
        self.scrubber.removed(batch.removed, false);
        Ok(batch.stored)
    }

    fn replace_population(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError> {
        let replaced = self
            .pool
            .with(|c| in_transaction(c, |tx| sql::replace_population(tx, persons, &seeds)))?;
        self.scrubber.removed([], true);
        Ok(replaced)
    }

    fn count_persons(&self) -> Result<u64, StoreError> {
        self.pool.with(|c| sql::count_persons(&mut c.sql()))
    }

    fn scrub_removed(&self, within: Duration) -> Result<Scrubbed, StoreError> {
        self.scrubber.scrub_until(&mut None, within)
    }

    fn async_reads(&self) -> Option<&dyn AsyncReads> {
        Some(&self.reads)
    }
}

impl AuditLog for PostgresStore {
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.pool
            .with(|c| in_transaction(c, |tx| sql::insert_audits(tx, entries)))
    }

    fn query(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.pool.with(|c| sql::query_audit(&mut c.sql(), q))
    }

    /// Appends now, as the default does (the caller waits), but on a thread of its own when
    /// called inside an async runtime (its blocking threads too: they cannot be told apart):
    /// the blocking client runs a runtime of its own, which cannot start there. Reads are
    /// answered on async tasks, so without a journal in front (a server has one) their
    /// entries come here.
    fn submit(&self, entries: Vec<AuditEntry>) -> AuditTicket {
        let appended = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| self.append(&entries))
                    .join()
                    .unwrap_or(Err(StoreError::Invariant("an audit append panicked")))
            })
        } else {
            self.append(&entries)
        };
        AuditTicket::done(appended)
    }

    fn index_journal(
        &self,
        journal: &str,
        records: &[(u64, AuditEntry)],
        through: u64,
    ) -> Result<u64, StoreError> {
        self.pool
            .with(|c| in_transaction(c, |tx| sql::index_journal(tx, journal, records, through)))
    }

    fn journal_mark(&self, journal: &str) -> Result<u64, StoreError> {
        self.pool.with(|c| sql::journal_mark(&mut c.sql(), journal))
    }

    fn database_identity(&self) -> Result<String, StoreError> {
        self.pool.with(|c| sql::database_identity(&mut c.sql()))
    }
}
