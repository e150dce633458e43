//! Statement texts: the column lists, the builders of upserts, inserts and placeholder
//! groups, and the texts built once (multi-row ones for each of the ROW_BLOCKS sizes).
//!
//! Statements use `$n` placeholders, which PostgreSQL reads natively and SQLite reads as
//! numbered parameters (`?n`) after one substitution; `CAST($n AS TEXT)` types a parameter
//! that is only compared with NULL, which PostgreSQL cannot infer and SQLite does not need.

use crate::store::StoreError;

pub(super) const PERSON_COLUMNS: [&str; 14] = [
    "person_key",
    "given_name",
    "middle_name",
    "surname",
    "birth_date",
    "care_of",
    "street",
    "postal_code",
    "city",
    "sekretessmarkering",
    "skyddad_folkbokforing",
    "test_indicator",
    "guardians",
    "register",
];

const CONTACT_COLUMNS: [&str; 11] = [
    "person_key",
    "version",
    "entries",
    "optout",
    "actor_kind",
    "actor_root",
    "actor_extension",
    "org_root",
    "org_extension",
    "update_time",
    "consumer_hsa_id",
];

pub(super) const AUDIT_COLUMNS: [&str; 10] = [
    "at",
    "consumer",
    "contract",
    "unrestricted",
    "logical_address",
    "correlation_id",
    "person_key",
    "outcome",
    "error_code",
    "log_id",
];

/// `INSERT INTO table (columns) VALUES ($1 …) ON CONFLICT (key) DO UPDATE SET` every other column.
fn upsert_statement(table: &str, columns: &[&str]) -> String {
    upsert_rows_statement(table, columns, 1)
}

/// The same for `rows` rows in one statement (their keys must differ).
pub(super) fn upsert_rows_statement(table: &str, columns: &[&str], rows: usize) -> String {
    let updates: Vec<String> = columns[1..]
        .iter()
        .map(|c| format!("{c}=excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
        columns.join(", "),
        value_groups(rows, columns.len()),
        columns[0],
        updates.join(", ")
    )
}

fn insert_statement(table: &str, columns: &[&str]) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        placeholder_list(columns.len())
    )
}

/// The contact record of one person.
pub(super) static CONTACT_BY_KEY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM contact_records WHERE person_key = $1",
        CONTACT_COLUMNS.join(", ")
    )
});

/// `cols` of `table`'s alias, comma-separated: `p.person_key, p.given_name, …`.
fn qualified(table: &str, cols: &[&str]) -> String {
    cols.iter()
        .map(|c| format!("{table}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every person and contact column, persons left-joined to their contact record.
fn person_with_contacts_where(condition: &str) -> String {
    format!(
        "SELECT {}, {} FROM persons p LEFT JOIN contact_records c ON c.person_key = p.person_key WHERE {condition}",
        qualified("p", &PERSON_COLUMNS),
        qualified("c", &CONTACT_COLUMNS)
    )
}

/// The person answering for an id (its alias target when `$2`) with their contact record,
/// in one statement: a read's one snapshot.
pub(in crate::store) static RESOLVED_PERSON: std::sync::LazyLock<String> = std::sync::LazyLock::new(
    || {
        person_with_contacts_where(
        "p.person_key = COALESCE((SELECT a.person_key FROM person_aliases a WHERE a.alias_key = $1 AND $2), $1)",
    )
    },
);

/// The column of [`PERSON_BY_OWN_KEY`] that holds the alias target.
pub(in crate::store) const ALIAS_TARGET_COLUMN: usize =
    PERSON_COLUMNS.len() + CONTACT_COLUMNS.len();

/// The person stored under `$1` with their contact record, and the key `$1` is an alias of
/// (when `$2`): always one row, its person columns NULL when no person is stored under `$1`.
// PostgreSQL only: every table is keyed on the parameter itself, so the plan prunes
// `contact_records` to one hash partition; RESOLVED_PERSON's key is a subquery's result,
// which leaves all 64 partitions in the plan (ten times the planning and executor work).
// A key that is an alias is read again with RESOLVED_PERSON, one more statement for the rare id.
pub(in crate::store) static PERSON_BY_OWN_KEY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        format!(
            "SELECT {}, {}, (SELECT a.person_key FROM person_aliases a WHERE a.alias_key = $1 AND $2) \
             FROM (SELECT 1) one \
             LEFT JOIN persons p ON p.person_key = $1 \
             LEFT JOIN contact_records c ON c.person_key = $1",
            qualified("p", &PERSON_COLUMNS),
            qualified("c", &CONTACT_COLUMNS)
        )
    });

/// One contact record's upsert.
pub(super) static UPSERT_CONTACTS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| upsert_statement("contact_records", &CONTACT_COLUMNS));

/// One audit entry's insert.
// Built once: the indexer inserts one audit row per answered request, and building the
// text each time (then hashing it for the statement cache) was a sixth of its CPU.
pub(super) static INSERT_AUDIT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| insert_statement("audit", &AUDIT_COLUMNS));

/// Row counts that multi-row statements are built for: any count is a sum of these, so a
/// backend that prepares each statement text once keeps a handful, not one per count.
pub(super) const ROW_BLOCKS: [usize; 5] = [256, 64, 16, 4, 1];

/// A multi-row statement's text for each of ROW_BLOCKS' sizes, built once: an import runs
/// each hundreds of times per batch, and formatting 256 rows of placeholders every time
/// (then hashing it for the statement cache) was a tenth of a seeding import's CPU.
pub(super) type PerBlock = std::sync::LazyLock<[String; ROW_BLOCKS.len()]>;

/// The text in `texts` for a block of `rows` rows (a size [`in_blocks`] gives).
pub(super) fn for_rows(texts: &PerBlock, rows: usize) -> Result<&str, StoreError> {
    ROW_BLOCKS
        .iter()
        .position(|b| *b == rows)
        .map(|i| texts[i].as_str())
        .ok_or(StoreError::Invariant(
            "a block of rows not of a ROW_BLOCKS size",
        ))
}

pub(super) static UPSERT_PERSON_ROWS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| upsert_rows_statement("persons", &PERSON_COLUMNS, rows))
});

pub(super) static UPSERT_CONTACT_ROWS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| upsert_rows_statement("contact_records", &CONTACT_COLUMNS, rows))
});

pub(super) static INSERT_AUDIT_ROWS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| {
        format!(
            "INSERT INTO audit ({}) VALUES {}",
            AUDIT_COLUMNS.join(", "),
            value_groups(rows, AUDIT_COLUMNS.len())
        )
    })
});

pub(super) static CONTACTS_BY_KEYS: PerBlock = PerBlock::new(|| {
    ROW_BLOCKS.map(|rows| {
        format!(
            "SELECT {} FROM contact_records WHERE person_key IN ({})",
            CONTACT_COLUMNS.join(", "),
            placeholder_list(rows)
        )
    })
});

/// `items` cut into consecutive blocks of ROW_BLOCKS sizes, largest first.
pub(super) fn in_blocks<T>(items: &[T]) -> Vec<&[T]> {
    let mut blocks = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let size = ROW_BLOCKS
            .into_iter()
            .find(|b| *b <= rest.len())
            .unwrap_or(1);
        let (block, tail) = rest.split_at(size);
        blocks.push(block);
        rest = tail;
    }
    blocks
}

/// `($1, …, $c), ($c+1, …)`: `rows` groups of `columns` placeholders.
fn value_groups(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders_after(r * columns, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$1, …, $n`.
pub(super) fn placeholder_list(n: usize) -> String {
    placeholders_after(0, n)
}

/// `$from+1, …, $from+n`.
fn placeholders_after(from: usize, n: usize) -> String {
    (from + 1..=from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
