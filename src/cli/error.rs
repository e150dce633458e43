//! Why a command failed, and the exit code each kind of failure gives.

use pu_adapter::app::StartError;
use pu_adapter::config::ConfigError;
use pu_adapter::devcerts::DevCertError;
use pu_adapter::domain::IdProblem;
use pu_adapter::store::StoreError;
use pu_conformance::ConformanceError;
use std::path::PathBuf;
use std::process::ExitCode;

/// A command that could not do its work. Each variant keeps its cause as `source()`;
/// `main` prints the chain one cause a line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot start the log writer")]
    LogWriter(#[source] std::io::Error),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("--ephemeral needs the SQLite store (store.kind = \"sqlite\")")]
    EphemeralNeedsSqlite,
    #[error("--ephemeral: cannot create a temporary directory")]
    EphemeralDir(#[source] std::io::Error),
    #[error("{}", path.display())]
    Input {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The import stored its lines, but erased values are still readable in the store's
    /// files (CO-2).
    #[error("scrub incomplete: removed values are still in the store's files")]
    ScrubIncomplete(#[source] StoreError),
    #[error("--person")]
    Person(#[source] IdProblem),
    #[error("cannot write an audit entry as JSON")]
    Json(#[source] serde_json::Error),
    #[error(transparent)]
    DevCerts(#[from] DevCertError),
    #[error("the conformance cases could not run")]
    Conformance(#[source] ConformanceError),
    #[error("no consumer report could be made")]
    Report(#[source] pu_adapter::report::ReportError),
}

impl CliError {
    /// 2 when the conformance cases or the report could not run at all (1 is a failed case
    /// or a finding), 3 when an import left erased values in the files; 1 for everything
    /// else.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Conformance(_) | Self::Report(_) => ExitCode::from(2),
            Self::ScrubIncomplete(_) => ExitCode::from(3),
            _ => ExitCode::FAILURE,
        }
    }
}

/// How a command that ran to its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finished {
    /// Everything done: exit 0.
    Clean,
    /// `check-config` found a problem or a conformance case failed: exit 1.
    ProblemsFound,
    /// `import` stored the good lines and rejected others: exit 2.
    LinesRejected,
}

impl Finished {
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Self::Clean => ExitCode::SUCCESS,
            Self::ProblemsFound => ExitCode::FAILURE,
            Self::LinesRejected => ExitCode::from(2),
        }
    }
}

/// The message, then each cause on a line of its own. A cause whose text the lines above
/// already carry (an error that formats its source into its own message) is not repeated.
pub(crate) fn report(error: &dyn std::error::Error) -> String {
    let mut text = format!("pu-adapter: {error}");
    let mut cause = error.source();
    while let Some(e) = cause {
        let line = e.to_string();
        if !text.contains(&line) {
            text.push_str("\n  ");
            text.push_str(&line);
        }
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_gets_its_own_line_and_none_is_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = CliError::Input {
            path: PathBuf::from("persons.jsonl"),
            source: io,
        };
        assert_eq!(report(&error), "pu-adapter: persons.jsonl\n  No such file");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "persons.jsonl");
        let error = CliError::Input {
            path: PathBuf::from("persons.jsonl"),
            source: io,
        };
        assert_eq!(report(&error), "pu-adapter: persons.jsonl");
    }
}
