//! JUnit XML for CI: one `testsuite`, one `testcase` per case, `failure` or `skipped` in it.

use super::{Outcome, Report};
use crate::xml::escape;
use std::fmt::Write as _;

/// The report as a JUnit XML document.
pub(crate) fn write(report: &Report) -> String {
    let counts = report.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total_time: f64 = report.cases.iter().map(|c| c.duration.as_secs_f64()).sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"pu-adapter conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{total_time:.3}\">",
        counts.total(),
        counts.failed,
        counts.skipped
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"conformance {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{total_time:.3}\">",
        escape(&report.target),
        counts.total(),
        counts.failed,
        counts.skipped
    );
    for case in &report.cases {
        let group = case.name.split('/').next().unwrap_or("conformance");
        let _ = write!(
            out,
            "    <testcase classname=\"conformance.{}\" name=\"{}\" time=\"{:.3}\"",
            escape(group),
            escape(&case.name),
            case.duration.as_secs_f64()
        );
        match &case.outcome {
            Outcome::Pass(_) => out.push_str("/>\n"),
            Outcome::Fail(failure) => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{0}\" type=\"conformance\">{0}</failure>\n    </testcase>",
                    escape(&failure.to_string())
                );
            }
            Outcome::Skip(skip) => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(&skip.to_string())
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::{CaseReport, Outcome, Report};
    use super::*;
    use std::time::Duration;

    #[test]
    fn markup_in_names_and_reasons_is_escaped() {
        let report = Report {
            target: "https://x".into(),
            cases: vec![
                CaseReport {
                    name: "fault/<odd> & name".into(),
                    outcome: Outcome::Fail("expected <faultcode>, found \"x\"".into()),
                    duration: Duration::from_millis(5),
                },
                CaseReport {
                    name: "ping/answers".into(),
                    outcome: Outcome::Pass(String::new()),
                    duration: Duration::ZERO,
                },
            ],
        };
        let xml = write(&report);
        assert!(xml.contains("name=\"fault/&lt;odd&gt; &amp; name\""));
        assert!(xml.contains("expected &lt;faultcode&gt;, found &quot;x&quot;"));
        assert!(xml.contains("tests=\"2\" failures=\"1\" skipped=\"0\""));
        // Well-formed: our own bounded reader parses it.
        crate::xml::parse(xml.as_bytes(), crate::xml::Limits::ANSWERS).expect("well-formed");
    }
}
