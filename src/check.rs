//! `pu-adapter check-config`: validates a configuration the way a start would, without
//! starting or changing anything, and prints the effective configuration with secrets
//! redacted.

use crate::config::{Config, StoreSettings};
use crate::transport::tls;
use chrono::{DateTime, Utc};
use std::path::Path;

/// Certificates expiring within this many days are reported.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// What the check found: facts, and problems that would stop or endanger a start.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per fact (files loaded, expiry, store reached).
    pub facts: Vec<String>,
    /// One line per problem; empty means the configuration would start.
    pub problems: Vec<String>,
    /// The effective configuration, secrets redacted.
    pub effective: String,
}

/// Checks `config` without starting the service and lists what it finds in a [`Report`].
pub fn check(config: &Config) -> Report {
    let mut report = Report {
        effective: redacted_toml(config),
        ..Report::default()
    };
    let settings = match config.settings() {
        Ok(s) => s,
        Err(e) => {
            report.problems.push(e.to_string());
            return report;
        }
    };
    match tls::server_config(&settings.tls) {
        Ok(_) => report.facts.push(format!(
            "tls: {} and {} load and match; client CA {} loads",
            settings.tls.cert.display(),
            settings.tls.key.display(),
            settings.tls.client_ca.display()
        )),
        Err(e) => report.problems.push(format!("tls: {e}")),
    }
    for (key, path) in [
        ("tls.cert", &settings.tls.cert),
        ("tls.client_ca", &settings.tls.client_ca),
    ] {
        expiry(&mut report, key, path, Utc::now());
    }
    match store_reachable(&settings.store) {
        Ok(fact) => report.facts.push(fact),
        Err(problem) => report.problems.push(problem.to_string()),
    }
    report
}

/// Each certificate's expiry in days; expired is a problem, soon a warning fact.
fn expiry(report: &mut Report, key: &str, path: &Path, now: DateTime<Utc>) {
    let Some(lifetimes) = tls::cert_lifetimes(path) else {
        return;
    };
    for tls::CertLifetime { subject, not_after } in lifetimes {
        let days = (not_after - now.timestamp()).div_euclid(86_400);
        match days {
            d if d < 0 => report.problems.push(format!(
                "{key} = {}: {subject} expired {} days ago",
                path.display(),
                -d
            )),
            d if d < EXPIRY_WARNING_DAYS => report
                .facts
                .push(format!("warning: {key}: {subject} expires in {d} days")),
            d => report
                .facts
                .push(format!("{key}: {subject} valid for {d} more days")),
        }
    }
}

/// Why the configured store cannot be used.
#[derive(Debug, thiserror::Error)]
enum StoreProblem {
    #[error("store.sqlite_file = {}: {source}", file.display())]
    SqliteUnreadable {
        file: std::path::PathBuf,
        source: rusqlite::Error,
    },
    #[error("store.sqlite_file = {}: directory {} is not writable", file.display(), dir.display())]
    SqliteDirectoryReadOnly {
        file: std::path::PathBuf,
        dir: std::path::PathBuf,
    },
    #[error("store.postgres_url = {redacted_url}: {source}")]
    PostgresUnreachable {
        redacted_url: String,
        source: crate::store::StoreError,
    },
}

/// Reaches the store without creating or migrating anything; says what it found.
fn store_reachable(store: &StoreSettings) -> Result<String, StoreProblem> {
    match store {
        StoreSettings::Sqlite { file, .. } if file.exists() => {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
            rusqlite::Connection::open_with_flags(file, flags)
                .and_then(|c| {
                    c.query_row("SELECT COUNT(*) FROM persons", [], |r| r.get::<_, i64>(0))
                })
                .map(|n| format!("store: SQLite {} opens, {n} persons", file.display()))
                .map_err(|source| StoreProblem::SqliteUnreadable {
                    file: file.clone(),
                    source,
                })
        }
        StoreSettings::Sqlite { file, .. } => {
            let dir = file
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let writable = dir
                .metadata()
                .map(|m| !m.permissions().readonly())
                .unwrap_or(false);
            if writable || !dir.exists() {
                Ok(format!(
                    "store: SQLite {} does not exist yet and will be created",
                    file.display()
                ))
            } else {
                Err(StoreProblem::SqliteDirectoryReadOnly {
                    file: file.clone(),
                    dir: dir.to_owned(),
                })
            }
        }
        StoreSettings::Postgresql { url, ca, .. } => {
            crate::store::postgres::reachable(url, ca.as_deref())
                .map(|()| format!("store: PostgreSQL answers at {}", redact_url(url)))
                .map_err(|source| StoreProblem::PostgresUnreachable {
                    redacted_url: redact_url(url),
                    source,
                })
        }
    }
}

/// A connection string without its password (`password=…` or `user:password@`).
pub(crate) fn redact_url(url: &str) -> String {
    let keyword = url
        .split_whitespace()
        .map(|part| {
            if part.starts_with("password=") {
                "password=[redacted]"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    match (keyword.find("://"), keyword.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &keyword[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:[redacted]{}",
                    &keyword[..scheme + 3],
                    &keyword[at..]
                ),
                None => keyword,
            }
        }
        _ => keyword,
    }
}

/// The effective configuration as TOML, the PostgreSQL password redacted.
fn redacted_toml(config: &Config) -> String {
    let mut shown = config.clone();
    shown.store.postgres_url = shown.store.postgres_url.as_deref().map(redact_url);
    toml::to_string(&shown).unwrap_or_else(|e| format!("# cannot render: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_both_connection_string_forms() {
        assert_eq!(
            redact_url("host=db user=pu password=s3cret dbname=pu"),
            "host=db user=pu password=[redacted] dbname=pu"
        );
        assert_eq!(
            redact_url("postgresql://pu:s3cret@db/pu"),
            "postgresql://pu:[redacted]@db/pu"
        );
        assert_eq!(redact_url("host=db user=pu"), "host=db user=pu");
    }

    #[test]
    fn the_development_configuration_checks_clean() {
        let mut c = Config::development();
        let dir = tempfile::tempdir().unwrap();
        c.data_dir = dir.path().to_owned();
        let report = check(&c);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert!(
            report.facts.iter().any(|f| f.starts_with("tls:")),
            "{:?}",
            report.facts
        );
        assert!(report.effective.contains("[tls]"), "{}", report.effective);
    }
}
