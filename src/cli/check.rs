//! `pu-adapter check-config`.

use super::Finished;
use pu_adapter::config::Config;

/// Prints the effective configuration and what was found; a problem fails the command.
pub(crate) fn check_config(config: &Config) -> Finished {
    let report = pu_adapter::check::check(config);
    println!("{}", report.effective);
    for fact in &report.facts {
        println!("# {fact}");
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    if report.problems.is_empty() {
        Finished::Clean
    } else {
        Finished::ProblemsFound
    }
}
