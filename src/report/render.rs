//! The report for people (text) and for CI (JUnit XML: one failed test case per finding).

use super::Report;
use crate::xml::writer::escape;
use std::fmt::Write as _;

/// The report as text: the period, the calls, then one block per finding.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "consumer integration report, {} to {}, consumer {}",
        report.since.as_deref().unwrap_or("the first call"),
        report.until.as_deref().unwrap_or(&report.generated_at),
        report.consumer.as_deref().unwrap_or("all")
    );
    out.push_str("\ncalls\n");
    if report.calls.is_empty() {
        out.push_str("  none\n");
    }
    for c in &report.calls {
        let _ = writeln!(
            out,
            "  {:<20} {:<44} {:<9} {:>6}",
            c.consumer, c.contract, c.result, c.count
        );
    }
    let _ = writeln!(out, "\nfindings: {}", report.findings.len());
    for f in &report.findings {
        let _ = writeln!(
            out,
            "  FAIL  {:<36} {:<20} {:>4}x  first {}  last {}  correlation id {}",
            f.name(),
            f.consumer,
            f.count,
            f.first,
            f.last,
            f.correlation_id
        );
        let _ = writeln!(out, "        {}", f.advice);
    }
    let log = &report.call_log;
    let _ = writeln!(
        out,
        "\ncall log: {} of at most {} calls held, oldest {}{}",
        log.entries,
        log.capacity,
        log.oldest.as_deref().unwrap_or("-"),
        if log.truncated {
            "; calls of the period have left it: resent updates, HTTP refusals and early retries before then are not judged"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "{}",
        if report.is_clean() {
            "no rule broken"
        } else {
            "rules broken: see the findings above"
        }
    );
    out
}

/// The report as JUnit XML: one test case per finding, each failed, named `check/rule`
/// and classed by consumer; a clean report is one passing case, so a CI that counts
/// test cases sees that the report ran.
pub fn junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = report.findings.len();
    let tests = failures.max(1);
    let _ = writeln!(
        out,
        "<testsuites name=\"pu-adapter consumer report\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"consumer report {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" timestamp=\"{}\">",
        escape(report.consumer.as_deref().unwrap_or("all consumers")),
        escape(&report.generated_at)
    );
    if report.findings.is_empty() {
        out.push_str(
            "    <testcase classname=\"consumer-report\" name=\"no-rule-broken\" time=\"0\"/>\n",
        );
    }
    for f in &report.findings {
        let message = format!(
            "{} call(s), first {}, last {}, correlation id {}: {}",
            f.count, f.first, f.last, f.correlation_id, f.advice
        );
        let _ = writeln!(
            out,
            "    <testcase classname=\"consumer-report.{}\" name=\"{}\" time=\"0\">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
            escape(&f.consumer),
            escape(&f.name()),
            escape(&message),
            f.check.as_str(),
            escape(&message)
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
