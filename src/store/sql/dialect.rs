//! Where the two SQL dialects differ: column types, the append-only audit trigger, bulk
//! settings, the partitioned contact table and row locks.

/// Partitions of `contact_records` on PostgreSQL.
pub(crate) const CONTACT_PARTITIONS: i32 = 64;

/// Where the two SQL dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub(super) fn boolean(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER",
            Dialect::Postgres => "BOOLEAN",
        }
    }

    pub(super) fn serial_key(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        }
    }

    pub(super) fn append_only_audit(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                 CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
            }
            Dialect::Postgres => {
                "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
                 CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
            }
        }
    }

    /// What a bulk transaction sets first. PostgreSQL caches a generic plan for a prepared
    /// statement after five runs; for a multi-row key lookup planned while the table was
    /// still small that plan is a sequential scan, which then runs for every batch of a
    /// large import, with the server at full CPU (see docs/benchmarks.md for the import's
    /// figures).
    pub(super) fn bulk_settings(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SET LOCAL plan_cache_mode = force_custom_plan"),
        }
    }

    /// Moves `contact_records` into CONTACT_PARTITIONS hash partitions on PostgreSQL, where
    /// VACUUM leaves a removed row's bytes in the page's free space and only a rewrite of
    /// the table (VACUUM FULL) takes them out; SQLite's secure_delete zeroes them in place.
    pub(super) fn partition_contact_records(self) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(
                "ALTER TABLE contact_records RENAME TO contact_records_unpartitioned;
                 ALTER INDEX contact_records_pkey RENAME TO contact_records_unpartitioned_pkey;
                 CREATE TABLE contact_records (
                     person_key TEXT PRIMARY KEY REFERENCES persons(person_key),
                     version TEXT NOT NULL, entries TEXT NOT NULL, optout BOOLEAN,
                     actor_kind TEXT NOT NULL, actor_root TEXT NOT NULL, actor_extension TEXT NOT NULL,
                     org_root TEXT, org_extension TEXT, update_time TEXT NOT NULL, consumer_hsa_id TEXT NOT NULL
                 ) PARTITION BY HASH (person_key);
                 DO $$ BEGIN
                   FOR r IN 0..{last} LOOP
                     EXECUTE format('CREATE TABLE contact_records_%s PARTITION OF contact_records FOR VALUES WITH (MODULUS {n}, REMAINDER %s)', r, r);
                   END LOOP;
                 END $$;
                 INSERT INTO contact_records SELECT * FROM contact_records_unpartitioned;
                 DROP TABLE contact_records_unpartitioned;",
                n = CONTACT_PARTITIONS,
                last = CONTACT_PARTITIONS - 1
            ),
        }
    }

    /// Row lock for the read that precedes an update; SQLite's writer lock already serialises.
    pub(super) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}
