//! Every rule ID in ../shared/RULES.md has a test that names it (RULES.md requires it).

use std::path::Path;

/// Rule IDs from the tables of RULES.md: rows that start with `| XX-n |`.
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

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
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
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let rules = std::fs::read_to_string(shared.join("RULES.md")).expect("RULES.md");
    let ids = rule_ids(&rules);
    assert!(ids.len() >= 20, "found only {ids:?} in RULES.md");
    let mut files = Vec::new();
    rust_files(&crate::common::repo().join("src"), &mut files);
    rust_files(&crate::common::repo().join("tests"), &mut files);
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
    let Some(shared) = crate::common::shared() else {
        return;
    };
    let ids = rule_ids(&std::fs::read_to_string(shared.join("RULES.md")).expect("RULES.md"));
    let mut files = Vec::new();
    rust_files(&crate::common::repo().join("tests/it"), &mut files);
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
