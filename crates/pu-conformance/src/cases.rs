//! The case table: each case sends requests as a consumer would and judges the producer by
//! its answers alone. Failure texts say what was expected and what was found, and never
//! quote personal data (identifiers, names, addresses, contact values).
//!
//! This file holds the kinds of case and the table's order; each contract's cases are in
//! `cases/`, one file a contract, and the fault cases in one of their own.

mod faults;
mod get_person_contact_information;
mod get_persons_for_profile;
mod ping;
mod update;

use super::probe::{Case, Check, CheckIfAllowed, Ctx};
use crate::contract::Contract;
use crate::outcome::Failure;

pub(super) fn read(name: &str, check: impl Fn(&Ctx<'_>) -> Check + 'static) -> Case {
    read_if_data_allows(name, move |x| Ok(check(x)))
}

/// A reading case that first checks that the producer's test data allows it, and is
/// skipped, saying what is missing, when it does not.
pub(super) fn read_if_data_allows(
    name: &str,
    check: impl Fn(&Ctx<'_>) -> CheckIfAllowed + 'static,
) -> Case {
    Case {
        name: name.to_owned(),
        writes: false,
        unrestricted: false,
        check: Box::new(check),
    }
}

pub(super) fn write(name: &str, check: impl Fn(&Ctx<'_>) -> Check + 'static) -> Case {
    Case {
        writes: true,
        ..read(name, check)
    }
}

pub(super) fn unrestricted(mut case: Case) -> Case {
    case.unrestricted = true;
    case
}

fn require(ok: bool, problem: impl FnOnce() -> String) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::Expected(problem()))
    }
}

/// Every case, in run order.
pub(crate) fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    for c in Contract::ALL {
        cases.push(read(&format!("wsdl/{}", c.name()), move |x| x.wsdl(c)));
    }
    ping::push(&mut cases);
    get_persons_for_profile::push(&mut cases);
    get_person_contact_information::push(&mut cases);
    faults::push(&mut cases);
    update::push(&mut cases);
    cases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::has_uuid;
    #[test]
    fn uuids_are_found_in_fault_texts() {
        assert!(has_uuid("bad (logId ee12665e-3478-4c6a-a3e5-583f0dda6a0f)"));
        assert!(!has_uuid("bad (logId ee12665e-3478-4c6a-a3e5)"));
    }

    #[test]
    fn every_update_case_names_a_rule_and_update_rules_have_both_kinds() {
        let cases = all();
        for rule in [
            "ID-2", "CT-1", "CT-2", "CT-3", "CT-4", "CT-5", "CT-6", "DN-1", "DN-2", "CO-1", "CO-3",
            "PR-2", "PR-6",
        ] {
            for kind in ["valid", "invalid"] {
                assert!(
                    cases
                        .iter()
                        .any(|c| c.name.starts_with(&format!("update/{rule}/{kind}"))),
                    "no {kind} case for {rule}"
                );
            }
        }
        // CO-2 refuses nothing: its valid case removes everything, and the removal that is
        // refused is refused by CO-3.
        for name in [
            "update/CO-2/valid-remove-all",
            "update/CO-3/invalid-stale-removal",
        ] {
            assert!(cases.iter().any(|c| c.name == name), "no case {name}");
        }
        let mut names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), cases.len(), "case names are unique");
    }
}
