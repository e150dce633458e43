//! The PostgreSQL store, for several instances sharing one database. Concurrent updates
//! of one person serialise on a row lock (`SELECT … FOR UPDATE`).

use super::codec::{audited_update, outcome_of, ContactRow, PersonRow};
use super::pool::Pool;
use super::{Decide, PersonState, Store, StoreError, Upserted};
use crate::audit::{AuditEntry, AuditQuery};
use crate::domain::{Person, PersonId, Violation};
use postgres::{Client, GenericClient, NoTls, Row};

/// Versioned migrations; each runs once, in order, under an advisory lock.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE persons (
        person_key TEXT PRIMARY KEY,
        given_name TEXT NOT NULL, middle_name TEXT, surname TEXT NOT NULL,
        birth_date TEXT, care_of TEXT, street TEXT, postal_code TEXT, city TEXT,
        sekretessmarkering BOOLEAN NOT NULL, skyddad_folkbokforing BOOLEAN NOT NULL,
        test_indicator BOOLEAN NOT NULL, guardians TEXT NOT NULL
    );
    CREATE TABLE contact_records (
        person_key TEXT PRIMARY KEY REFERENCES persons(person_key),
        version TEXT NOT NULL, entries TEXT NOT NULL, optout BOOLEAN,
        actor_kind TEXT NOT NULL, actor_root TEXT NOT NULL, actor_extension TEXT NOT NULL,
        org_root TEXT, org_extension TEXT, update_time TEXT NOT NULL, consumer_hsa_id TEXT NOT NULL
    );
    CREATE TABLE audit (
        id BIGSERIAL PRIMARY KEY,
        at TEXT NOT NULL, consumer TEXT NOT NULL, contract TEXT NOT NULL, unrestricted BOOLEAN NOT NULL,
        logical_address TEXT NOT NULL, correlation_id TEXT NOT NULL, person_key TEXT NOT NULL,
        outcome TEXT NOT NULL, error_code TEXT, log_id TEXT
    );
    CREATE INDEX audit_by_person ON audit(person_key, id);
    CREATE INDEX audit_by_time ON audit(at);
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
    CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
)];

/// PostgreSQL behind a connection pool.
pub struct PostgresStore {
    pool: Pool<Client>,
}

fn db(e: postgres::Error) -> StoreError {
    StoreError::Database(e.to_string())
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
    pub fn open(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let url = url.to_owned();
        let connect = move || Client::connect(&url, NoTls).map_err(db);
        // A broken connection is dropped on return, so the service recovers when the database does.
        let store = Self { pool: Pool::new("PostgreSQL", pool_size, Box::new(connect), |c: &Client| !c.is_closed()) };
        store.pool.with(migrate)?;
        Ok(store)
    }
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(db)?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7262001); CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .map_err(db)?;
    for (version, sql) in MIGRATIONS {
        let done = tx.query_opt("SELECT version FROM schema_migrations WHERE version = $1", &[version]).map_err(db)?;
        if done.is_none() {
            tx.batch_execute(sql).map_err(db)?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", &[version, &crate::audit::now_rfc3339()]).map_err(db)?;
        }
    }
    tx.commit().map_err(db)
}

const PERSON_COLUMNS: &str = "person_key, given_name, middle_name, surname, birth_date, care_of, street, postal_code, city, sekretessmarkering, skyddad_folkbokforing, test_indicator, guardians";
const CONTACT_COLUMNS: &str = "version, entries, optout, actor_kind, actor_root, actor_extension, org_root, org_extension, update_time, consumer_hsa_id";

fn person_row(r: &Row) -> PersonRow {
    PersonRow {
        key: r.get(0),
        given_name: r.get(1),
        middle_name: r.get(2),
        surname: r.get(3),
        birth_date: r.get(4),
        care_of: r.get(5),
        street: r.get(6),
        postal_code: r.get(7),
        city: r.get(8),
        sekretessmarkering: r.get(9),
        skyddad_folkbokforing: r.get(10),
        test_indicator: r.get(11),
        guardians: r.get(12),
    }
}

fn contact_row(r: &Row) -> ContactRow {
    ContactRow {
        version: r.get(0),
        entries: r.get(1),
        optout: r.get(2),
        actor_kind: r.get(3),
        actor_root: r.get(4),
        actor_extension: r.get(5),
        org_root: r.get(6),
        org_extension: r.get(7),
        update_time: r.get(8),
        consumer_hsa_id: r.get(9),
    }
}

fn read_state(c: &mut impl GenericClient, key: &str, lock: bool) -> Result<Option<PersonState>, StoreError> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    let Some(p) = c.query_opt(&format!("SELECT {PERSON_COLUMNS} FROM persons WHERE person_key = $1{suffix}"), &[&key]).map_err(db)? else { return Ok(None) };
    let contacts = c.query_opt(&format!("SELECT {CONTACT_COLUMNS} FROM contact_records WHERE person_key = $1"), &[&key]).map_err(db)?;
    Ok(Some(PersonState { person: person_row(&p).into_person()?, contacts: contacts.as_ref().map(contact_row).map(ContactRow::into_record).transpose()? }))
}

fn insert_audit(c: &mut impl GenericClient, e: &AuditEntry) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO audit (at, consumer, contract, unrestricted, logical_address, correlation_id, person_key, outcome, error_code, log_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[&e.at, &e.consumer, &e.contract, &e.unrestricted, &e.logical_address, &e.correlation_id, &e.person, &e.outcome.as_str(), &e.error_code, &e.log_id],
    )
    .map_err(db)?;
    Ok(())
}

fn write_contacts(c: &mut impl GenericClient, key: &str, row: &ContactRow) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "INSERT INTO contact_records (person_key, {CONTACT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (person_key) DO UPDATE SET version=EXCLUDED.version, entries=EXCLUDED.entries, optout=EXCLUDED.optout,
               actor_kind=EXCLUDED.actor_kind, actor_root=EXCLUDED.actor_root, actor_extension=EXCLUDED.actor_extension,
               org_root=EXCLUDED.org_root, org_extension=EXCLUDED.org_extension, update_time=EXCLUDED.update_time,
               consumer_hsa_id=EXCLUDED.consumer_hsa_id"
        ),
        &[
            &key,
            &row.version,
            &row.entries,
            &row.optout,
            &row.actor_kind,
            &row.actor_root,
            &row.actor_extension,
            &row.org_root,
            &row.org_extension,
            &row.update_time,
            &row.consumer_hsa_id,
        ],
    )
    .map_err(db)?;
    Ok(())
}

impl Store for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgresql"
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.pool.with(|c| c.simple_query("SELECT 1").map(|_| ()).map_err(db))
    }

    fn load(&self, ids: &[PersonId]) -> Result<Vec<Option<PersonState>>, StoreError> {
        self.pool.with(|c| {
            let mut tx = c.build_transaction().read_only(true).start().map_err(db)?;
            let out = ids.iter().map(|id| read_state(&mut tx, &id.key(), false)).collect::<Result<Vec<_>, _>>()?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
    }

    fn update_contacts(&self, id: &PersonId, decide: Decide<'_>, audit: &AuditEntry) -> Result<Result<PersonState, Violation>, StoreError> {
        let key = id.key();
        self.pool.with(|c| {
            let mut tx = c.transaction().map_err(db)?;
            let state = read_state(&mut tx, &key, true)?;
            match (decide(state.as_ref().map(|s| &s.person), state.as_ref().and_then(|s| s.contacts.as_ref())), state) {
                (Ok(record), Some(state)) => {
                    write_contacts(&mut tx, &key, &ContactRow::from_record(&record))?;
                    insert_audit(&mut tx, &audited_update(audit, None))?;
                    tx.commit().map_err(db)?;
                    Ok(Ok(PersonState { person: state.person, contacts: Some(record) }))
                }
                (Ok(_), None) => Err(StoreError::Database("decide accepted an update of an unknown person".into())),
                (Err(violation), _) => {
                    tx.rollback().map_err(db)?;
                    insert_audit(c, &audited_update(audit, Some(&violation)))?;
                    Ok(Err(violation))
                }
            }
        })
    }

    fn upsert_persons(&self, persons: &[Person]) -> Result<Vec<Upserted>, StoreError> {
        self.pool.with(|c| {
            let mut tx = c.transaction().map_err(db)?;
            let stmt = tx
                .prepare(&format!(
                    "INSERT INTO persons ({PERSON_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                     ON CONFLICT (person_key) DO UPDATE SET given_name=EXCLUDED.given_name, middle_name=EXCLUDED.middle_name,
                       surname=EXCLUDED.surname, birth_date=EXCLUDED.birth_date, care_of=EXCLUDED.care_of, street=EXCLUDED.street,
                       postal_code=EXCLUDED.postal_code, city=EXCLUDED.city, sekretessmarkering=EXCLUDED.sekretessmarkering,
                       skyddad_folkbokforing=EXCLUDED.skyddad_folkbokforing, test_indicator=EXCLUDED.test_indicator, guardians=EXCLUDED.guardians
                     RETURNING (xmax = 0)"
                ))
                .map_err(db)?;
            let mut out = Vec::with_capacity(persons.len());
            for p in persons {
                let r = PersonRow::from_person(p);
                let row = tx
                    .query_one(
                        &stmt,
                        &[
                            &r.key,
                            &r.given_name,
                            &r.middle_name,
                            &r.surname,
                            &r.birth_date,
                            &r.care_of,
                            &r.street,
                            &r.postal_code,
                            &r.city,
                            &r.sekretessmarkering,
                            &r.skyddad_folkbokforing,
                            &r.test_indicator,
                            &r.guardians,
                        ],
                    )
                    .map_err(db)?;
                out.push(if row.get::<_, bool>(0) { Upserted::Inserted } else { Upserted::Updated });
            }
            tx.commit().map_err(db)?;
            Ok(out)
        })
    }

    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.pool.with(|c| {
            let mut tx = c.transaction().map_err(db)?;
            for e in entries {
                insert_audit(&mut tx, e)?;
            }
            tx.commit().map_err(db)
        })
    }

    fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = q.limit.map_or(i64::MAX, i64::from);
        self.pool.with(|c| {
            let rows = c
                .query(
                    "SELECT at, consumer, contract, unrestricted, logical_address, correlation_id, person_key, outcome, error_code, log_id
                     FROM audit WHERE ($1::TEXT IS NULL OR person_key = $1) AND ($2::TEXT IS NULL OR consumer = $2)
                     AND ($3::TEXT IS NULL OR at >= $3) AND ($4::TEXT IS NULL OR at < $4) ORDER BY id LIMIT $5",
                    &[&q.person, &q.consumer, &q.since, &q.until, &limit],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        at: r.get(0),
                        consumer: r.get(1),
                        contract: r.get(2),
                        unrestricted: r.get(3),
                        logical_address: r.get(4),
                        correlation_id: r.get(5),
                        person: r.get(6),
                        outcome: outcome_of(r.get(7))?,
                        error_code: r.get(8),
                        log_id: r.get(9),
                    })
                })
                .collect()
        })
    }

    fn count_persons(&self) -> Result<u64, StoreError> {
        self.pool.with(|c| c.query_one("SELECT COUNT(*) FROM persons", &[]).map(|r| r.get::<_, i64>(0) as u64).map_err(db))
    }
}
