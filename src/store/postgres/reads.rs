//! The service's reads on PostgreSQL, awaited: a pool of async clients, each with its
//! statements prepared when it opens, running the statement and the row mapping the blocking path
//! runs (`sql::read_resolved`). A read that gets no answer within READ_TIMEOUT fails (the
//! service answers a Fault) and its connection is closed; the next read opens a fresh one.

use super::super::pool::AsyncPool;
use super::{bind, sql, Connector};
use crate::domain::PersonId;
use crate::store::{AsyncReads, Loading, PersonState, StoreError};
use sql::Value;
use std::time::Duration;
use tokio_postgres::{GenericClient, IsolationLevel, Statement};

/// The longest a new read connection may take to connect (TCP, TLS, authentication).
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest one read waits for the database's answer once it has a connection: a
/// server that went silent (a network cut without a reset) must give a Fault, not a hang.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A read connection's one setting: its prepared statements run one plan, made once.
// With `contact_records` partitioned, the planner's default (`auto`) finds every custom plan
// cheaper than the generic one, which counts all 64 partitions, so it planned each read
// anew; the generic plan prunes to one partition when it starts, on the parameter's value.
const GENERIC_PLANS: &str = "SET plan_cache_mode = force_generic_plan";

/// The async read clients of a [`super::PostgresStore`].
pub(super) struct PgReads {
    pool: AsyncPool<ReadConn>,
}

/// A pooled async client and the statements prepared on it.
struct ReadConn {
    client: tokio_postgres::Client,
    statements: ReadStatements,
}

impl PgReads {
    /// At most `size` clients of the database at `url`, each opened on first need.
    pub(super) fn new(url: String, tls: Connector, size: usize) -> Self {
        let open = move || {
            let (url, tls) = (url.clone(), tls.clone());
            Box::pin(async move {
                let client = tls.connect_async(&url).await?;
                // Bounded like a read: a server that goes silent after the handshake.
                let statements = tokio::time::timeout(READ_TIMEOUT, prepare(&client))
                    .await
                    .map_err(|_| StoreError::Unanswered(READ_TIMEOUT))??;
                Ok(ReadConn { client, statements })
            }) as _
        };
        Self {
            pool: AsyncPool::new("PostgreSQL reads", size, Box::new(open), |c: &ReadConn| {
                !c.client.is_closed()
            }),
        }
    }

    async fn load(
        &self,
        ids: &[PersonId],
        follow_aliases: bool,
    ) -> Result<Vec<Option<PersonState>>, StoreError> {
        let mut lease = self.pool.lend().await?;
        let read = read_states(lease.conn()?, ids, follow_aliases);
        let states = tokio::time::timeout(READ_TIMEOUT, read)
            .await
            .map_err(|_| StoreError::Unanswered(READ_TIMEOUT))??;
        lease.settle();
        Ok(states)
    }
}

impl AsyncReads for PgReads {
    fn load_following_aliases<'a>(
        &'a self,
        ids: &'a [PersonId],
        follow_aliases: bool,
    ) -> Loading<'a> {
        Box::pin(self.load(ids, follow_aliases))
    }
}

/// Sets up a new read connection: its plan setting, then the statements a read runs.
async fn prepare(client: &tokio_postgres::Client) -> Result<ReadStatements, StoreError> {
    client.batch_execute(GENERIC_PLANS).await?;
    Ok(ReadStatements {
        own_key: client.prepare(&sql::PERSON_BY_OWN_KEY).await?,
        resolved: client.prepare(&sql::RESOLVED_PERSON).await?,
    })
}

/// The statements a read runs, prepared on its connection.
struct ReadStatements {
    /// The person stored under the key itself, and the key's alias target.
    own_key: Statement,
    /// The person answering for the key, its alias target's when following aliases.
    resolved: Statement,
}

/// As the blocking `load_following_aliases`: one id is one statement (its own snapshot, one
/// round trip; an alias one more, which alone gives the answer); several are read in one
/// read-only repeatable-read transaction, their statements pipelined on the connection.
async fn read_states(
    conn: &mut ReadConn,
    ids: &[PersonId],
    follow_aliases: bool,
) -> Result<Vec<Option<PersonState>>, StoreError> {
    let statements = &conn.statements;
    if let [id] = ids {
        return Ok(vec![
            read_resolved(&conn.client, statements, id, follow_aliases).await?,
        ]);
    }
    let tx = conn
        .client
        .build_transaction()
        .read_only(true)
        .isolation_level(IsolationLevel::RepeatableRead)
        .start()
        .await?;
    let states = futures_util::future::try_join_all(
        ids.iter()
            .map(|id| read_resolved(&tx, statements, id, follow_aliases)),
    )
    .await?;
    tx.commit().await?;
    Ok(states)
}

/// The state of the person answering for `id`, as `sql::read_resolved` gives it: the alias
/// target's when `follow_aliases` and `id` is an alias, else the person stored under `id`.
// An alias is read again with the blocking path's one statement, so that the answer still
// comes whole from one snapshot; that statement cannot prune partitions, but few ids are
// aliases.
async fn read_resolved(
    db: &impl GenericClient,
    statements: &ReadStatements,
    id: &PersonId,
    follow_aliases: bool,
) -> Result<Option<PersonState>, StoreError> {
    let key = id.key();
    let params = [Value::Text(&key), Value::Bool(follow_aliases)];
    let row = db.query_one(&statements.own_key, &bind(&params)).await?;
    let alias_target: Option<&str> = row.try_get(sql::ALIAS_TARGET_COLUMN)?;
    if alias_target.is_none() {
        return person_state(&row);
    }
    let rows = db.query(&statements.resolved, &bind(&params)).await?;
    rows.first()
        .map(|row| sql::person_with_contacts(row).and_then(sql::into_state))
        .transpose()
}

/// The person state in a [`sql::PERSON_BY_OWN_KEY`] row; none when its person columns are NULL.
fn person_state(row: &tokio_postgres::Row) -> Result<Option<PersonState>, StoreError> {
    let person_key: Option<&str> = row.try_get(0)?;
    if person_key.is_none() {
        return Ok(None);
    }
    sql::person_with_contacts(row)
        .and_then(sql::into_state)
        .map(Some)
}

/// Drives one client's connection until the client is dropped or the server goes away.
pub(super) async fn run_connection<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::warn!(error = %e, "a PostgreSQL read connection was lost; the next read opens a new one");
    }
}
