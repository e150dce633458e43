//! Why a configuration is unusable, each kind with the key, file or variable it is about.

use super::env::env_name;
use std::path::PathBuf;

/// Why a configuration is unusable; the text names the key, file or variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--config` names a file that does not exist.
    #[error("{}: no such configuration file", .0.display())]
    NoSuchFile(PathBuf),
    /// Values in the file or the environment that do not fit the configuration's shape.
    #[error("{}", lines(.0))]
    Shape(Vec<ShapeProblem>),
    /// A limit that must be at least 1 is 0.
    #[error("{key} must be at least 1")]
    Zero {
        /// The dotted key as written in the file, e.g. `store.pool_size`.
        key: &'static str,
    },
    /// `public_url` is not an https:// URL.
    #[error("public_url = {0:?}: must start with https://")]
    PublicUrlNotHttps(String),
    /// The control API on a non-loopback address without a token.
    #[error("control.enabled with admin_listen = {0:?} (not loopback) needs control.token")]
    ControlWithoutToken(String),
    /// A configuration file that leaves TLS files unset (the development files apply only
    /// without one).
    #[error(
        "{} not set: a configuration file must name the server certificate, its key and the CA that issues consumer certificates \
         (the development certificates apply only when no --config is given)",
        .0.join(", ")
    )]
    TlsFilesNotSet(Vec<&'static str>),
    /// Plain-text PostgreSQL to a host that is not this machine, not explicitly allowed.
    #[error(
        "store.postgres_url names a host that is not loopback or a local socket: set store.postgres_ca \
         (TLS, verified) or, for a staging network only, store.postgres_insecure_plaintext = true"
    )]
    PostgresPlaintextBeyondLoopback,
    /// `store.kind = postgresql` without a URL.
    #[error("store.kind = postgresql needs store.postgres_url")]
    PostgresUrlMissing,
}

/// One value that does not fit: where it came from and what is wrong with it.
#[derive(Debug)]
pub struct ShapeProblem {
    /// The variable, or the file and key, that carried the value.
    pub origin: Origin,
    /// What is wrong with the value at `path`.
    pub kind: ShapeProblemKind,
}

/// Where a value came from.
#[derive(Debug)]
pub enum Origin {
    /// An environment variable (`PU_ADAPTER_…`).
    Environment(String),
    /// A key of the configuration file (empty for the file as a whole).
    File {
        /// The configuration file, as figment names it.
        file: String,
        /// The dotted key inside it, e.g. `limits.max_in_flight`; empty for the whole file.
        key: String,
    },
    /// A key whose source figment did not record.
    Key(String),
}

/// What is wrong with a value.
#[derive(Debug)]
pub enum ShapeProblemKind {
    /// A variable meant to hold a count holds other text.
    NotAWholeNumber(String),
    /// Anything figment reports: unknown key, unknown variant, wrong type, TOML syntax.
    Other(figment::error::Kind),
}

impl std::fmt::Display for ShapeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.origin, &self.kind) {
            (Origin::Environment(var), ShapeProblemKind::NotAWholeNumber(v)) => {
                write!(f, "{var}={v:?} is not a whole number")
            }
            (Origin::Environment(var), ShapeProblemKind::Other(kind)) => write!(f, "{var}: {kind}"),
            (Origin::File { file, key }, kind) if key.is_empty() => write!(f, "{file}: {kind}"),
            (Origin::File { file, key }, kind) => write!(f, "{file}: {key}: {kind}"),
            (Origin::Key(key), kind) => write!(f, "{key}: {kind}"),
        }
    }
}

impl std::fmt::Display for ShapeProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAWholeNumber(v) => write!(f, "{v:?} is not a whole number"),
            Self::Other(kind) => kind.fmt(f),
        }
    }
}

fn lines(problems: &[ShapeProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One problem per figment error, each naming the key and where the value came from.
pub(super) fn describe(errors: figment::Error) -> ConfigError {
    ConfigError::Shape(errors.into_iter().map(shape_problem).collect())
}

fn shape_problem(e: figment::Error) -> ShapeProblem {
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    let file = e
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .map(ToString::to_string);
    let origin = match (from_env, file) {
        (true, _) => Origin::Environment(env_name(&e.path)),
        (false, Some(file)) => Origin::File {
            file,
            key: e.path.join("."),
        },
        (false, None) => Origin::Key(e.path.join(".")),
    };
    let kind = match e.kind {
        figment::error::Kind::InvalidType(figment::error::Actual::Str(v), expected)
            if from_env && (expected.contains("integer") || expected.starts_with('u')) =>
        {
            ShapeProblemKind::NotAWholeNumber(v)
        }
        kind => ShapeProblemKind::Other(kind),
    };
    ShapeProblem { origin, kind }
}
