//! The layering of docs/ARCHITECTURE.md, enforced: every `crate::<module>` a file under
//! `src/` refers to must be allowed for that file's module by the document's table.

use crate::common::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The table "| `module` | may use |" of docs/ARCHITECTURE.md.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc =
        std::fs::read_to_string(repo().join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md");
    let ticked = |cell: &str| {
        cell.split(',')
            .map(|m| m.trim().trim_matches('`').to_owned())
            .filter(|m| !m.is_empty())
            .collect::<BTreeSet<_>>()
    };
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| {
            let mut cells = l.split('|');
            let module = cells.next()?.trim().trim_end_matches('`').to_owned();
            Some((module, ticked(cells.next()?)))
        })
        .collect()
}

/// The top-level module a source file belongs to: `src/service/x.rs` → `service`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_owned())
}

/// Every `crate::name` in `text`, comments included (a path in a doc comment is a claim too).
fn referenced_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let preceded_by_ident = text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if preceded_by_ident {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_module_imports_only_what_docs_architecture_md_allows() {
    let allowed = allowed();
    assert!(
        allowed.len() >= 15,
        "the table of docs/ARCHITECTURE.md was not found: {allowed:?}"
    );
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        if module == "lib" || module == "main" {
            continue; // crate roots: they declare the modules and use the public API
        }
        let Some(may_use) = allowed.get(&module) else {
            violations.push(format!(
                "{}: module `{module}` is missing from the table",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read source");
        for used in referenced_modules(&text) {
            checked += 1;
            if used != module && !may_use.contains(&used) {
                violations.push(format!(
                    "{}: `{module}` uses `crate::{used}`",
                    file.display()
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} references found; is the scan broken?"
    );
    assert!(
        violations.is_empty(),
        "imports against docs/ARCHITECTURE.md:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scan_catches_an_upward_import() {
    let refs = referenced_modules(
        "use crate::service::Service;\nfn f() { crate::store::x(); pu_crate::nothing(); }",
    );
    assert_eq!(refs.into_iter().collect::<Vec<_>>(), ["service", "store"]);
}
