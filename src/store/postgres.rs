//! The PostgreSQL store, for several instances sharing one database. Concurrent updates
//! of one person serialise on a row lock (`SELECT … FOR UPDATE`).

use super::pool::Pool;
use super::sql::{self, Column, Dialect, EachRow, Sql, SqlResult, SqlRow, Value};
use super::{
    AuditLog, ContactUpdate, PersonState, PersonStore, Replaced, StoreError, StoreKind,
    UpdateResult, Upserted,
};
use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{Person, PersonId};
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls};
use rustls_pki_types::pem::PemObject;

/// Serialises migrations of instances that start together.
const MIGRATION_LOCK: i64 = 7_262_001;

/// PostgreSQL behind a connection pool.
pub struct PostgresStore {
    pool: Pool<PgConn>,
    vacuum: Vacuumer,
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

/// Attempts of one VACUUM before the next removal (or autovacuum) has to do it.
const VACUUM_ATTEMPTS: u32 = 5;

/// How soon after a committed removal the removed row versions are vacuumed (CO-2).
const VACUUM_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// A thread with its own connection that vacuums `contact_records` after removals: a
/// dead row version keeps the removed value readable in the table until VACUUM prunes it.
struct Vacuumer {
    removed: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
}

impl Vacuumer {
    fn start(url: String, tls: Connector) -> Result<Self, StoreError> {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("postgres-vacuum".into())
            .spawn(move || {
                let mut client: Option<Client> = None;
                // Each removal (or burst of them) gets one VACUUM at most VACUUM_WITHIN later.
                while rx.recv().is_ok() {
                    std::thread::sleep(VACUUM_WITHIN / 2);
                    while rx.try_recv().is_ok() {}
                    // Retried a few times: the removed values must not wait for autovacuum (CO-2).
                    for attempt in 1..=VACUUM_ATTEMPTS {
                        match vacuum(&mut client, &url, &tls) {
                            Ok(()) => break,
                            Err(e) => {
                                client = None;
                                tracing::warn!(error = %e, attempt, "VACUUM of contact_records after a removal failed");
                                std::thread::sleep(VACUUM_WITHIN);
                            }
                        }
                    }
                }
            })
            .map_err(|source| StoreError::Thread { what: "vacuum", source })?;
        Ok(Self {
            removed: std::sync::Mutex::new(tx),
        })
    }

    fn removed(&self) {
        if let Ok(tx) = self.removed.lock() {
            let _ = tx.send(());
        }
    }
}

fn vacuum(client: &mut Option<Client>, url: &str, tls: &Connector) -> Result<(), StoreError> {
    let c = match client {
        Some(c) if !c.is_closed() => c,
        _ => client.insert(tls.connect(url)?),
    };
    Ok(c.batch_execute("VACUUM contact_records")?)
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
    /// Connects, applies migrations and keeps up to `pool_size` connections.
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
        let vacuum = Vacuumer::start(url.to_owned(), tls.clone())?;
        let url = url.to_owned();
        let connect = move || tls.connect(&url).map(PgConn::new);
        // A broken connection is dropped on return, so the service recovers when the database does.
        let store = Self {
            pool: Pool::new("PostgreSQL", pool_size, Box::new(connect), |c: &PgConn| {
                !c.client.is_closed()
            }),
            vacuum,
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
        let (outcome, removed) = self
            .pool
            .with(|c| in_transaction(c, |tx| sql::update_contacts(tx, update)))?;
        if removed {
            self.vacuum.removed();
        }
        Ok(outcome)
    }

    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError> {
        let outcomes: Vec<(Upserted, bool)> = self
            .pool
            .with(|c| in_transaction(c, |tx| sql::upsert_persons(tx, persons)))?;
        if outcomes.iter().any(|(_, erased)| *erased) {
            self.vacuum.removed();
        }
        Ok(outcomes.into_iter().map(|(u, _)| u).collect())
    }

    fn replace_population(
        &self,
        persons: &[Person],
        seeds: Vec<ContactUpdate<'_>>,
    ) -> Result<Replaced, StoreError> {
        let replaced = self
            .pool
            .with(|c| in_transaction(c, |tx| sql::replace_population(tx, persons, seeds)))?;
        self.vacuum.removed();
        Ok(replaced)
    }

    fn count_persons(&self) -> Result<u64, StoreError> {
        self.pool.with(|c| sql::count_persons(&mut c.sql()))
    }
}

impl AuditLog for PostgresStore {
    fn append(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.pool.with(|c| {
            in_transaction(c, |tx| {
                entries.iter().try_for_each(|e| sql::insert_audit(tx, e))
            })
        })
    }

    fn query(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.pool.with(|c| sql::query_audit(&mut c.sql(), q))
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
}
