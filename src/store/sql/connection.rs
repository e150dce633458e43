//! The connection a backend implements: parameter and column values, the typed reads of a
//! result row, and how statements and queries run.

use super::dialect::Dialect;
use crate::store::StoreError;

/// A parameter value; each backend binds it with its own types.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Bool(bool),
    OptBool(Option<bool>),
    Int(i64),
}

/// A column value as either backend returns it; SQLite's booleans arrive as integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
}

/// One result row: a backend says only how to read one column; the typed reads are here.
pub(crate) trait SqlRow {
    fn column(&self, i: usize) -> Result<Column, StoreError>;

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.column(i)? {
            Column::Null => Ok(None),
            Column::Text(t) => Ok(Some(t)),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: text expected, found {other:?}"
            ))),
        }
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i}: NULL")))
    }

    fn opt_bool(&self, i: usize) -> Result<Option<bool>, StoreError> {
        match self.column(i)? {
            Column::Null => Ok(None),
            Column::Bool(b) => Ok(Some(b)),
            Column::Int(n) => Ok(Some(n != 0)),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: boolean expected, found {other:?}"
            ))),
        }
    }

    fn boolean(&self, i: usize) -> Result<bool, StoreError> {
        self.opt_bool(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i}: NULL")))
    }

    fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.column(i)? {
            Column::Int(n) => Ok(n),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: integer expected, found {other:?}"
            ))),
        }
    }
}

/// A result of the store.
pub(crate) type SqlResult<T> = Result<T, StoreError>;

/// What a query hands each row to.
pub(crate) type EachRow<'a> = &'a mut dyn FnMut(&dyn SqlRow) -> Result<(), StoreError>;

/// A connection or transaction of either backend.
pub(crate) trait Sql {
    fn dialect(&self) -> Dialect;
    /// Runs a script of statements without parameters.
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Runs one statement with `params` bound; returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError>;
    /// Runs one query and hands each row to `each`.
    fn query(&mut self, sql: &str, params: &[Value<'_>], each: EachRow<'_>) -> SqlResult<()>;
}

/// The first row a query returns, mapped.
pub(super) fn first<T>(
    db: &mut dyn Sql,
    sql: &str,
    params: &[Value<'_>],
    map: fn(&dyn SqlRow) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut out = None;
    db.query(sql, params, &mut |row| {
        if out.is_none() {
            out = Some(map(row)?);
        }
        Ok(())
    })?;
    Ok(out)
}
