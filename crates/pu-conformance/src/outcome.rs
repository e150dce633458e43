//! How a case ends, typed so that a report can only say what the kit itself knows: the
//! case's own words, element names, numbers, and the codes the contracts define. A value a
//! producer answered reaches a report only through [`Seen`], which shows it when it is one
//! of the contract's codes and otherwise only says that it is not.

use std::fmt;

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Passed, with a short note in the case's words (may be empty).
    Pass(String),
    /// Failed: what was expected, and what was found.
    Fail(Failure),
    /// Not run, and why.
    Skip(Skip),
}

/// Why a case was not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The case writes and the run is read-only (`--no-writes`).
    Writes,
    /// The case needs a consumer configured for the Unrestricted contracts.
    NeedsUnrestricted,
    /// Schema validity is not checked (`--skip-schema`).
    SchemaNotChecked,
    /// No answer of this schema case's kind came back.
    NothingCollected,
    /// The producer's test data does not allow the case: what is missing, and how to give it.
    TestData(String),
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Writes => f.write_str("writes (--no-writes)"),
            Skip::NeedsUnrestricted => {
                f.write_str("needs an Unrestricted consumer (--unrestricted-cert)")
            }
            Skip::SchemaNotChecked => f.write_str("--skip-schema"),
            Skip::NothingCollected => f.write_str("no answer of this kind was collected"),
            Skip::TestData(missing) => f.write_str(missing),
        }
    }
}

/// A value the producer answered, as a report may show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// One of the codes the contract defines for this place: shown.
    Code(&'static str),
    /// Something else: not shown, it may be personal data.
    Other,
    /// Nothing there.
    Missing,
}

impl Seen {
    /// `found` as a report may show it, given the codes the contract defines there.
    pub(crate) fn among(found: Option<&str>, codes: &[&'static str]) -> Seen {
        match found.map(str::trim) {
            None | Some("") => Seen::Missing,
            Some(v) => codes
                .iter()
                .find(|c| **c == v)
                .map_or(Seen::Other, |c| Seen::Code(c)),
        }
    }

    /// A `faultcode` (a QName: any prefix, the SOAP 1.1 local names and their subcodes).
    pub(crate) fn fault_code(found: &str) -> Seen {
        let local = found.rsplit(':').next().unwrap_or(found).trim();
        let main = local.split('.').next().unwrap_or(local);
        match main {
            "Client" => Seen::Code("soap:Client"),
            "Server" => Seen::Code("soap:Server"),
            "VersionMismatch" => Seen::Code("soap:VersionMismatch"),
            "MustUnderstand" => Seen::Code("soap:MustUnderstand"),
            "" => Seen::Missing,
            _ => Seen::Other,
        }
    }

    /// The code, when it is one.
    pub(crate) fn code(&self) -> Option<&'static str> {
        match self {
            Seen::Code(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Code(c) => f.write_str(c),
            Seen::Other => f.write_str("a value the contract does not define (not shown)"),
            Seen::Missing => f.write_str("none"),
        }
    }
}

/// The errorCodes of docs/contract.md (`urn:pu-adapter:result:1`).
pub(crate) const ERROR_CODES: [&str; 13] = [
    "INVALID_PERSON_ID",
    "PERSON_NOT_FOUND",
    "CONTACT_TYPE_NOT_ALLOWED",
    "CONTACT_QUALIFIER_NOT_ALLOWED",
    "TOO_MANY_CONTACTS",
    "INVALID_PHONE_NUMBER",
    "INVALID_EMAIL_ADDRESS",
    "CONTACT_PERSON_NOT_ALLOWED",
    "DIGITAL_NOTIFICATION_REQUIRED",
    "ACTOR_INVALID",
    "VERSION_CONFLICT",
    "PROTECTED_PERSON",
    "PERSON_DEREGISTERED",
];

/// The resultCodes of the core ResultType.
pub(crate) const RESULT_CODES: [&str; 3] = ["OK", "ERROR", "INFO"];

/// The rule IDs of docs/rules.md an update refusal may name.
pub(crate) const RULE_IDS: [&str; 16] = [
    "ID-1", "ID-2", "CT-1", "CT-2", "CT-3", "CT-4", "CT-5", "CT-6", "DN-1", "DN-2", "CO-1", "CO-2",
    "CO-3", "PR-2", "PR-5", "PR-6",
];

/// GU-1's notification routes (docs/contract.md).
pub(crate) const ROUTES: [&str; 3] = ["guardians", "maturityAssessment", "self"];

/// The population register's deregistration reasons.
pub(crate) const DEREGISTRATION_REASONS: [&str; 7] = ["AV", "UV", "OB", "GN", "GS", "AN", "TA"];

/// Why a case failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No HTTP answer (the client's own description: address, timeout, TLS or socket error).
    NoAnswer(String),
    /// An HTTP answer that is not a readable SOAP message.
    Unreadable {
        /// The HTTP status received.
        status: u16,
        /// What is wrong with it, in the kit's words.
        why: String,
    },
    /// A SOAP Fault where the contract wants a response.
    Fault {
        /// The response element expected.
        expected: String,
        /// The HTTP status received.
        status: u16,
        /// The faultcode; the faultstring is never shown.
        code: Seen,
    },
    /// Another element than the contract's.
    WrongElement {
        /// `{namespace}name` expected.
        expected: String,
        /// `{namespace}name` found.
        found: String,
    },
    /// A code other than the one the rule demands.
    Code {
        /// Which element, e.g. `errorCode`.
        element: &'static str,
        /// The code expected.
        expected: &'static str,
        /// What came instead.
        found: Seen,
    },
    /// An expectation of the case not met, in the case's words.
    Expected(String),
    /// Part of a case: what it was doing when it failed.
    While {
        /// E.g. "reading the stored state".
        doing: &'static str,
        /// What went wrong while `doing` it.
        failure: Box<Failure>,
    },
    /// Several problems of one answer.
    All(Vec<Failure>),
}

impl Failure {
    /// An expectation not met.
    pub(crate) fn expected(text: impl Into<String>) -> Failure {
        Failure::Expected(text.into())
    }
}

impl From<String> for Failure {
    fn from(text: String) -> Failure {
        Failure::Expected(text)
    }
}

impl From<&str> for Failure {
    fn from(text: &str) -> Failure {
        Failure::Expected(text.to_owned())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NoAnswer(why) => write!(f, "no answer: {why}"),
            Failure::Unreadable { status, why } => write!(f, "HTTP {status}: {why}"),
            Failure::Fault {
                expected,
                status,
                code,
            } => write!(
                f,
                "expected a {expected} (HTTP 200), found a SOAP Fault {code} (HTTP {status}; faultstring not shown)"
            ),
            Failure::WrongElement { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            Failure::Code {
                element,
                expected,
                found,
            } => write!(f, "expected {element} {expected}, found {found}"),
            Failure::Expected(text) => f.write_str(text),
            Failure::While { doing, failure } => write!(f, "{doing}: {failure}"),
            Failure::All(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_contracts_codes_are_shown() {
        assert_eq!(
            Seen::among(Some(" PERSON_NOT_FOUND "), &ERROR_CODES),
            Seen::Code("PERSON_NOT_FOUND")
        );
        let phone = Seen::among(Some("+46 70 123 45 67"), &ERROR_CODES);
        assert_eq!(phone, Seen::Other);
        assert!(!phone.to_string().contains("70"));
        assert_eq!(Seen::among(None, &ERROR_CODES).to_string(), "none");
        assert_eq!(Seen::fault_code("s:Server"), Seen::Code("soap:Server"));
        assert_eq!(
            Seen::fault_code("soap:Client.Sven Svensson"),
            Seen::Code("soap:Client")
        );
        assert_eq!(Seen::fault_code("Storgatan 12"), Seen::Other);
        let failure = Failure::All(vec![
            Failure::Code {
                element: "errorCode",
                expected: "VERSION_CONFLICT",
                found: phone,
            },
            "the stored state changed".into(),
        ]);
        assert_eq!(
            failure.to_string(),
            "expected errorCode VERSION_CONFLICT, found a value the contract does not define (not shown); the stored state changed"
        );
    }
}
