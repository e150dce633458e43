//! Every rule ID in docs/rules.md has a test that names it (docs/rules.md requires it).
//! The table is the repository's own: without it these tests fail, they never skip.

/// The rule table the code implements, from the repository.
fn rules_md() -> String {
    let path = crate::common::repo().join("docs/rules.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the rules the code implements must be in the repository",
            path.display()
        )
    })
}

/// Rule IDs from the tables of docs/rules.md: rows that start with `| XX-n |`.
fn rule_ids(rules: &str) -> Vec<String> {
    rules
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| {
            id.len() >= 4
                && id.contains('-')
                && id
                    .split('-')
                    .next()
                    .is_some_and(|p| p.chars().all(|c| c.is_ascii_uppercase()))
                && id
                    .split('-')
                    .nth(1)
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        })
        .map(str::to_owned)
        .collect()
}

/// A test names rule `CT-4` when its function is `fn ct4_…`, or a comment `// CT-4` stands right above its `#[test]`.
fn tests_naming(id: &str, sources: &[(String, String)]) -> Vec<String> {
    let fn_prefix = format!("fn {}_", id.replace('-', "").to_lowercase());
    let mut found = Vec::new();
    for (file, text) in sources {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let is_test_fn = line.trim_start().starts_with(&fn_prefix)
                && i > 0
                && lines[..i].iter().rev().take(3).any(|l| {
                    l.contains("#[test]") || l.contains("#[tokio::test") || l.contains("proptest")
                });
            let comment_above_test = line.trim_start().starts_with("//")
                && line.contains(id)
                && lines
                    .get(i + 1)
                    .is_some_and(|n| n.contains("#[test]") || n.contains("#[tokio::test"));
            if is_test_fn || comment_above_test {
                found.push(format!("{file}:{}", i + 1));
            }
        }
    }
    found
}

/// Each file's name and text.
fn read_all(files: &[std::path::PathBuf]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|f| {
            (
                f.display().to_string(),
                std::fs::read_to_string(f).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn every_rule_in_rules_md_has_a_test() {
    let ids = rule_ids(&rules_md());
    assert!(ids.len() >= 20, "found only {ids:?} in docs/rules.md");
    let mut files = crate::common::rust_files(&crate::common::repo().join("src"));
    files.extend(crate::common::rust_files(
        &crate::common::repo().join("tests"),
    ));
    let sources = read_all(&files);
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| tests_naming(id, &sources).is_empty())
        .collect();
    assert!(
        missing.is_empty(),
        "rules with no test naming them: {missing:?}"
    );
    eprintln!("{} rule IDs, each named by at least one test", ids.len());
}

/// Example messages `tests/messages/<Contract>/refused-<ID>-*.xml`: the replay test sends each
/// through the service and checks the answer's ruleId is that ID.
fn refused_examples_naming(id: &str) -> usize {
    let prefix = format!("refused-{id}-");
    std::fs::read_dir(crate::common::repo().join("tests/messages"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|contract| {
            std::fs::read_dir(contract.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|f| f.file_name().to_string_lossy().starts_with(&prefix))
        .count()
}

/// A unit test can name a rule while testing a helper that nothing calls (GU-1 once did):
/// each rule must also be exercised end to end, through the service or the command line,
/// by an integration test that names it or by a refused example message replayed there.
#[test]
fn every_rule_is_exercised_end_to_end() {
    let ids = rule_ids(&rules_md());
    assert!(ids.len() >= 20, "found only {ids:?} in docs/rules.md");
    let files = crate::common::rust_files(&crate::common::repo().join("tests/it"));
    let sources = read_all(&files);
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| tests_naming(id, &sources).is_empty() && refused_examples_naming(id) == 0)
        .collect();
    assert!(
        missing.is_empty(),
        "rules with no end-to-end test: {missing:?}"
    );
}

/// The sorted IDs, and any listed twice.
fn sorted_with_repeats(ids: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut sorted = ids;
    sorted.sort();
    let repeats = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].clone())
        .collect();
    sorted.dedup();
    (sorted, repeats)
}

/// Where `../shared` is beside the checkout (not in a user's clone), its RULES.md is the one the
/// repository's table was taken from: both list exactly the same rule IDs.
#[test]
fn docs_rules_md_lists_the_rules_of_shared_rules_md() {
    let (ours, repeats) = sorted_with_repeats(rule_ids(&rules_md()));
    assert!(repeats.is_empty(), "docs/rules.md lists {repeats:?} twice");
    let Some(shared) = crate::common::shared() else {
        eprintln!("note: docs/rules.md not compared: there is no ../shared/RULES.md");
        return;
    };
    let text = std::fs::read_to_string(shared.join("RULES.md")).expect("../shared/RULES.md");
    let (theirs, _) = sorted_with_repeats(rule_ids(&text));
    let only_ours: Vec<&String> = ours.iter().filter(|id| !theirs.contains(id)).collect();
    let only_theirs: Vec<&String> = theirs.iter().filter(|id| !ours.contains(id)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "only in docs/rules.md: {only_ours:?}; only in ../shared/RULES.md: {only_theirs:?}"
    );
}

/// The rows `| `CODE` | rules |` of the section "Error codes" of a contract document.
fn error_codes(contract: &str) -> Vec<(String, String)> {
    contract
        .split("\n## ")
        .find(|section| section.starts_with("Error codes"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| {
            let (code, rest) = l.split_once('`')?;
            let rules = rest
                .trim_start_matches([' ', '|'])
                .trim_end_matches([' ', '|']);
            Some((code.to_owned(), rules.to_owned()))
        })
        .collect()
}

/// docs/contract.md's error codes are the ones the code answers with (src/domain/error.rs),
/// and, where `../shared` is beside the checkout, the table of its CONTRACT.md.
#[test]
fn docs_contract_md_error_codes_are_the_codes_answered() {
    let path = crate::common::repo().join("docs/contract.md");
    let ours = error_codes(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the contract the code implements must be in the repository",
            path.display()
        )
    }));
    assert!(ours.len() >= 10, "found only {ours:?} in docs/contract.md");
    let source = std::fs::read_to_string(crate::common::repo().join("src/domain/error.rs"))
        .expect("src/domain/error.rs");
    let unknown: Vec<&String> = ours
        .iter()
        .map(|(code, _)| code)
        .filter(|code| !source.contains(&format!("\"{code}\"")))
        .collect();
    assert!(
        unknown.is_empty(),
        "codes of docs/contract.md the code never answers with: {unknown:?}"
    );
    let Some(shared) = crate::common::shared() else {
        eprintln!("note: docs/contract.md not compared: there is no ../shared/CONTRACT.md");
        return;
    };
    let theirs = error_codes(
        &std::fs::read_to_string(shared.join("CONTRACT.md")).expect("../shared/CONTRACT.md"),
    );
    assert_eq!(
        ours, theirs,
        "the error codes of docs/contract.md and ../shared/CONTRACT.md"
    );
}
