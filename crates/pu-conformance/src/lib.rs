//! The contract conformance cases of the PU contact-information contracts, run against any
//! producer of them over mutual TLS and judged only by what comes over the wire
//! (`pu-adapter conformance URL` is this crate's [`run`] behind a command line).
//!
//! It depends on nothing of the pu-adapter service: a producer that shares the service's
//! mistakes must still fail here. What the two have in common is stated twice, on purpose:
//! the contracts' names, namespaces and paths ([`Contract`], checked equal to the
//! service's table by the integration tests), a small XML reader for answers, a person
//! identifier and an XML escaper. Sharing them would let one mistake pass both sides.
//!
//! Reports never quote what a producer answered: case lines and the JUnit file are made of
//! the cases' own words, the codes the contracts define and element names.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cases;
mod client;
mod contract;
mod junit;
mod messages;
mod outcome;
mod probe;
mod schema;
mod xml;

pub use contract::Contract;
pub use outcome::{Failure, Outcome, Seen, Skip};

pub use client::ClientError;

use client::{Client, Endpoint, Identity, Tls};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A person's identifier as the cases send it (`root`, `extension`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonId {
    /// The identifier kind's OID.
    pub root: String,
    /// The identifier under the root, e.g. `191212121212`.
    pub extension: String,
}

/// Personnummer root (ID-1).
const PERSONNUMMER: &str = "1.2.752.129.2.1.3.1";
/// Samordningsnummer root (ID-1): day of month + 60.
const SAMORDNINGSNUMMER: &str = "1.2.752.129.2.1.3.3";

/// Why a `--person`-style option is not an identifier.
#[derive(Debug, thiserror::Error)]
pub enum PersonIdError {
    /// `ROOT:EXTENSION` with an empty side.
    #[error("{0:?}: expected ROOT:EXTENSION")]
    EmptyPart(String),
    /// Neither 12 digits nor `ROOT:EXTENSION`.
    #[error("{0:?}: expected 12 digits (personnummer or samordningsnummer) or ROOT:EXTENSION")]
    NotAnIdentifier(String),
}

/// Parses `YYYYMMDDNNNC` (root from the form: day of month above 60 is a samordningsnummer)
/// or `ROOT:EXTENSION`.
pub fn parse_person_id(s: &str) -> Result<PersonId, PersonIdError> {
    if let Some((root, extension)) = s.split_once(':') {
        if root.is_empty() || extension.is_empty() {
            return Err(PersonIdError::EmptyPart(s.to_owned()));
        }
        return Ok(PersonId {
            root: root.to_owned(),
            extension: extension.to_owned(),
        });
    }
    if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PersonIdError::NotAnIdentifier(s.to_owned()));
    }
    // Twelve ASCII digits: the day's two always parse.
    let day: u32 = s[6..8].parse().unwrap_or(0);
    Ok(PersonId {
        root: if day > 60 {
            SAMORDNINGSNUMMER
        } else {
            PERSONNUMMER
        }
        .to_owned(),
        extension: s.to_owned(),
    })
}

fn demo(s: &str) -> PersonId {
    parse_person_id(s).unwrap_or_else(|_| PersonId {
        root: PERSONNUMMER.into(),
        extension: s.into(),
    })
}

/// The options of `pu-adapter conformance`; the test persons default to the demo
/// population that `pu-adapter serve` loads (src/demo.rs).
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The producer's base URL, e.g. https://localhost:8443 (the contract paths are appended).
    #[arg(value_name = "URL")]
    pub url: String,
    /// Client certificate (PEM) [default: certs-dev/consumer.pem when present].
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// The client certificate's key (PEM) [default: certs-dev/consumer.key when present].
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// CA that signed the producer's certificate (PEM) [default: certs-dev/ca.pem when present].
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Client certificate of a consumer configured for the Unrestricted contracts
    /// [default: certs-dev/extended.pem when --cert is not given]; without one those cases are skipped.
    #[arg(long)]
    pub unrestricted_cert: Option<PathBuf>,
    /// Key of --unrestricted-cert [default: certs-dev/extended.key when --cert is not given].
    #[arg(long)]
    pub unrestricted_key: Option<PathBuf>,
    /// Skip the Unrestricted cases (no consumer configured for them).
    #[arg(long)]
    pub no_unrestricted: bool,
    /// The LogicalAddress header sent on every request.
    #[arg(long, default_value = "SE2321000016-LA01")]
    pub logical_address: String,
    /// Directory of the published schemas (flat like xsd/, or a RIVTA release's layout);
    /// default: our own xsd/, embedded.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Do not check schema validity (otherwise a missing xmllint fails the schema cases).
    #[arg(long)]
    pub skip_schema: bool,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run only the cases whose name contains this text; repeatable (any matches). The
    /// schema cases check what those answered.
    #[arg(long, value_name = "PATTERN")]
    pub only: Vec<String>,
    /// Read-only: skip every case that writes (the update/… cases), for shared environments.
    #[arg(long)]
    pub no_writes: bool,
    /// Seconds to wait for a connection or an answer.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// An adult with an address and stored contact information (read only).
    #[arg(long, value_parser = parse_person_id, default_value = "191212121212")]
    pub person: PersonId,
    /// A child with legal guardians (P4 relationships).
    #[arg(long, value_parser = parse_person_id, default_value = "201806051239")]
    pub child: PersonId,
    /// A protected person (sekretessmarkering or skyddad folkbokföring) with an address;
    /// the update cases withdraw its (empty) consent.
    #[arg(long, value_parser = parse_person_id, default_value = "197001013452")]
    pub protected: PersonId,
    /// An earlier identity that refers to another person's current one.
    #[arg(long, value_parser = parse_person_id, default_value = "199601011100")]
    pub referred: PersonId,
    /// The current identity --referred refers to.
    #[arg(long, value_parser = parse_person_id, default_value = "199601011118")]
    pub referred_current: PersonId,
    /// A reserve identity linked to a main identity (ROOT:EXTENSION).
    #[arg(long, value_parser = parse_person_id, default_value = "1.2.752.74.9.1:R2026000002")]
    pub linked: PersonId,
    /// The main identity --linked is linked to.
    #[arg(long, value_parser = parse_person_id, default_value = "197010632391")]
    pub linked_current: PersonId,
    /// A well-formed identifier of nobody.
    #[arg(long, value_parser = parse_person_id, default_value = "200112121215")]
    pub unknown: PersonId,
    /// An adult, unprotected and alive, whose contact information the update cases
    /// replace and finally remove.
    #[arg(long, value_parser = parse_person_id, default_value = "199002026780")]
    pub update_person: PersonId,
    /// A deceased person (deregistration AV).
    #[arg(long, value_parser = parse_person_id, default_value = "194003031129")]
    pub deceased: PersonId,
    /// A person identified by a samordningsnummer (ID-1); update/ID-1/valid enters an entry
    /// and removes it again.
    #[arg(long, value_parser = parse_person_id, default_value = "197010632391")]
    pub coordination_person: PersonId,
    /// A person whose protection (sekretessmarkering or skyddad folkbokföring) has been
    /// lifted, for PR-7; the case is skipped when the producer does not know this person.
    #[arg(long, value_parser = parse_person_id, default_value = DEMO_LIFTED_PROTECTION)]
    pub lifted_protection_person: PersonId,
    /// A street line (postalAddress1/2/3) of an address that applied while
    /// --lifted-protection-person was protected; repeatable. The wire does not say when a
    /// protection began, so the PR-7 case needs to be told.
    #[arg(long, value_name = "STREET", default_value = DEMO_PROTECTED_ADDRESS)]
    pub protected_address: Vec<String>,
}

/// The demo population's person whose protection was lifted (docs/development.md), and
/// the street of the address that applied while she was protected.
const DEMO_LIFTED_PROTECTION: &str = "196802022381";
const DEMO_PROTECTED_ADDRESS: &str = "Skyddade stigen 7";

impl Options {
    /// Options for `url` with every default (the demo persons, certs-dev/ if present).
    pub fn for_url(url: &str) -> Options {
        Options {
            url: url.to_owned(),
            cert: None,
            key: None,
            ca: None,
            unrestricted_cert: None,
            unrestricted_key: None,
            no_unrestricted: false,
            logical_address: "SE2321000016-LA01".into(),
            schemas: None,
            skip_schema: false,
            junit: None,
            only: Vec::new(),
            no_writes: false,
            timeout: 10,
            person: demo("191212121212"),
            child: demo("201806051239"),
            protected: demo("197001013452"),
            referred: demo("199601011100"),
            referred_current: demo("199601011118"),
            linked: PersonId {
                root: "1.2.752.74.9.1".into(),
                extension: "R2026000002".into(),
            },
            linked_current: demo("197010632391"),
            unknown: demo("200112121215"),
            update_person: demo("199002026780"),
            deceased: demo("194003031129"),
            coordination_person: demo("197010632391"),
            lifted_protection_person: demo(DEMO_LIFTED_PROTECTION),
            protected_address: vec![DEMO_PROTECTED_ADDRESS.to_owned()],
        }
    }
}

/// Why the cases could not run at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A missing or contradictory option.
    #[error("{0}")]
    Usage(String),
    /// Certificates, key, CA or URL unusable.
    #[error(transparent)]
    Setup(#[from] ClientError),
    /// The producer did not answer at all.
    #[error("the producer at {target} cannot be reached: {source}")]
    Unreachable {
        /// The `--target` base URL.
        target: String,
        /// The connection, TLS or HTTP error.
        source: ClientError,
    },
    /// Local files (temporary schemas, the JUnit file).
    #[error("{what}: {source}")]
    Io {
        /// What was being written.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One conformance case's name and outcome.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// `group/name`.
    pub name: String,
    /// Passed, failed (with why) or skipped (with why).
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
}

impl CaseReport {
    /// The summary line: `PASS  name: note`.
    pub fn line(&self) -> String {
        let (word, text) = match &self.outcome {
            Outcome::Pass(note) => ("PASS", note.clone()),
            Outcome::Fail(failure) => ("FAIL", failure.to_string()),
            Outcome::Skip(skip) => ("SKIP", skip.to_string()),
        };
        if text.is_empty() {
            format!("{word}  {}", self.name)
        } else {
            format!("{word}  {}: {text}", self.name)
        }
    }
}

/// Passed, failed and skipped cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cases whose every expectation held.
    pub passed: usize,
    /// Cases with at least one unmet expectation.
    pub failed: usize,
    /// Cases not run, e.g. writing cases under `--no-writes`.
    pub skipped: usize,
}

impl Counts {
    /// All cases, skipped ones included.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

/// Every case's result for one producer.
#[derive(Debug, Clone)]
pub struct Report {
    /// The producer's base URL.
    pub target: String,
    /// In the order they ran.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// How many cases passed, failed and were skipped.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for case in &self.cases {
            match case.outcome {
                Outcome::Pass(_) => c.passed += 1,
                Outcome::Fail(_) => c.failed += 1,
                Outcome::Skip(_) => c.skipped += 1,
            }
        }
        c
    }

    /// True when no case failed and at least one ran.
    pub fn passed(&self) -> bool {
        let c = self.counts();
        c.failed == 0 && c.passed > 0
    }

    /// `conformance of TARGET: N cases, P passed, F failed, S skipped`.
    pub fn totals(&self) -> String {
        let c = self.counts();
        format!(
            "conformance of {}: {} cases, {} passed, {} failed, {} skipped",
            self.target,
            c.total(),
            c.passed,
            c.failed,
            c.skipped
        )
    }

    /// The human summary: one line per case, then the totals.
    pub fn summary(&self) -> String {
        let mut out: String = self.cases.iter().map(|c| c.line() + "\n").collect();
        out.push_str(&self.totals());
        out.push('\n');
        out
    }

    /// The JUnit XML document.
    pub fn junit(&self) -> String {
        junit::write(self)
    }
}

/// `given`, or `certs-dev/<file>` when that exists.
fn or_dev(given: Option<&Path>, file: &str) -> Option<PathBuf> {
    given
        .map(Path::to_owned)
        .or_else(|| Some(PathBuf::from("certs-dev").join(file)).filter(|p| p.is_file()))
}

/// Runs the cases against `options.url`, calling `progress` after each; writes the JUnit
/// file when asked. Failed cases are in the report; an error means nothing could run.
pub fn run(
    options: &Options,
    mut progress: impl FnMut(&CaseReport),
) -> Result<Report, ConformanceError> {
    let endpoint = Endpoint::parse(&options.url)?;
    let selected = |name: &str| {
        options.only.is_empty() || options.only.iter().any(|p| name.contains(p.as_str()))
    };
    let all = cases::all();
    // A pattern that selects nothing is a typo, not a passing run.
    for pattern in &options.only {
        if !all.iter().any(|c| c.name.contains(pattern.as_str())) {
            return Err(ConformanceError::Usage(format!(
                "no case name contains --only {pattern:?}"
            )));
        }
    }
    let missing = |what: &str, dev: &str| {
        ConformanceError::Usage(format!(
            "no {what}: give --{what} (certs-dev/{dev} is not here either)"
        ))
    };
    let cert = or_dev(options.cert.as_deref(), "consumer.pem")
        .ok_or_else(|| missing("cert", "consumer.pem"))?;
    let key = or_dev(options.key.as_deref(), "consumer.key")
        .ok_or_else(|| missing("key", "consumer.key"))?;
    let ca = or_dev(options.ca.as_deref(), "ca.pem").ok_or_else(|| missing("ca", "ca.pem"))?;
    let tls = Tls::new(&ca, &Identity { cert, key })?;
    let unrestricted = if options.no_unrestricted {
        None
    } else {
        // The development default only goes with the development consumer: a different
        // --cert means another environment, where certs-dev/extended.pem means nothing.
        let dev = options.cert.is_none();
        let cert = options
            .unrestricted_cert
            .clone()
            .or_else(|| dev.then(|| or_dev(None, "extended.pem")).flatten());
        let key = options
            .unrestricted_key
            .clone()
            .or_else(|| dev.then(|| or_dev(None, "extended.key")).flatten());
        match (cert, key) {
            (Some(cert), Some(key)) => Some(Tls::new(&ca, &Identity { cert, key })?),
            (None, None) => None,
            _ => {
                return Err(ConformanceError::Usage(
                    "--unrestricted-cert and --unrestricted-key go together".into(),
                ))
            }
        }
    };
    let client = Client::new(endpoint, Duration::from_secs(options.timeout.max(1)))?;
    let target = client.endpoint().to_string();
    // One request before the cases: a producer that cannot be reached is a usage or network
    // problem (exit 2), not seventy failed cases. GetPersonsForProfile is the contract every
    // producer of this domain serves.
    client
        .get(
            &tls,
            &format!("{}?wsdl", Contract::GetPersonsForProfile.path()),
        )
        .map_err(|source| ConformanceError::Unreachable {
            target: target.clone(),
            source,
        })?;
    let schemas =
        schema::Schemas::new(options.schemas.clone()).map_err(|source| ConformanceError::Io {
            what: "writing the embedded schemas to a temporary directory".into(),
            source,
        })?;
    let ctx = probe::Ctx::new(&client, &tls, unrestricted.as_ref(), options);
    ctx.learn_names();
    let mut report = Report {
        target,
        cases: Vec::new(),
    };
    for case in all {
        if !selected(&case.name) {
            continue;
        }
        let started = Instant::now();
        let outcome = if case.writes && options.no_writes {
            Outcome::Skip(Skip::Writes)
        } else if case.unrestricted && unrestricted.is_none() {
            Outcome::Skip(Skip::NeedsUnrestricted)
        } else {
            ctx.run(&case)
        };
        let done = CaseReport {
            name: case.name,
            outcome,
            duration: started.elapsed(),
        };
        progress(&done);
        report.cases.push(done);
    }
    for done in ctx.schema_cases(&schemas, options.skip_schema) {
        progress(&done);
        report.cases.push(done);
    }
    if let Some(file) = &options.junit {
        std::fs::write(file, report.junit()).map_err(|source| ConformanceError::Io {
            what: format!("writing {}", file.display()),
            source,
        })?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, outcome: Outcome) -> CaseReport {
        CaseReport {
            name: name.into(),
            outcome,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn the_summary_counts_each_outcome_and_fails_on_any_failure() {
        let mut report = Report {
            target: "https://p".into(),
            cases: vec![
                case("a/1", Outcome::Pass(String::new())),
                case("a/2", Outcome::Skip(Skip::Writes)),
                case("b/1", Outcome::Pass("ok".into())),
            ],
        };
        assert!(report.passed());
        report
            .cases
            .push(case("b/2", Outcome::Fail("expected X, found Y".into())));
        assert_eq!(
            report.counts(),
            Counts {
                passed: 2,
                failed: 1,
                skipped: 1
            }
        );
        assert!(!report.passed());
        let summary = report.summary();
        assert!(summary.contains("FAIL  b/2: expected X, found Y\n"));
        assert!(summary.contains("SKIP  a/2: writes (--no-writes)\n"));
        assert!(summary.ends_with("4 cases, 2 passed, 1 failed, 1 skipped\n"));
        // Nothing run is not a pass.
        let empty = Report {
            target: "https://p".into(),
            cases: vec![case("a/1", Outcome::Skip(Skip::NothingCollected))],
        };
        assert!(!empty.passed());
    }

    #[test]
    fn for_url_has_the_command_line_defaults() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            options: Options,
        }
        let parsed = <Cli as clap::Parser>::try_parse_from(["x", "https://p"]).unwrap();
        assert_eq!(
            format!("{:?}", parsed.options),
            format!("{:?}", Options::for_url("https://p"))
        );
    }

    #[test]
    fn person_ids_take_their_root_from_their_form() {
        assert_eq!(parse_person_id("191212121212").unwrap().root, PERSONNUMMER);
        assert_eq!(
            parse_person_id("197010632391").unwrap().root,
            SAMORDNINGSNUMMER
        );
        let r = parse_person_id("1.2.752.74.9.1:R1").unwrap();
        assert_eq!(
            (r.root.as_str(), r.extension.as_str()),
            ("1.2.752.74.9.1", "R1")
        );
        assert!(parse_person_id("19121212121").is_err());
    }
}
