//! The layering of docs/ARCHITECTURE.md, enforced: every `crate::<module>` a file under
//! `src/` refers to must be allowed for that file's module by the document's table.

use crate::common::{repo, rust_files};
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

/// Every `crate::name` in `text`, comments included (a path in a doc comment is a claim too),
/// with the names used under it: `crate::service::{Call, Service}` → `service`: `Call`,
/// `Service`.
fn references(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, _) in text.match_indices("crate::") {
        let preceded_by_ident = text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if preceded_by_ident {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if !name.is_empty() {
            let tail = path_tail(&rest[name.len()..]);
            out.entry(name).or_default().extend(identifiers(tail));
        }
    }
    out
}

/// The modules `text` refers to as `crate::name`.
fn referenced_modules(text: &str) -> BTreeSet<String> {
    references(text).into_keys().collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The rest of a path after its first segment: `::a::{B, c::D}` up to the closing brace,
/// or `::a::B` up to the first character that is not part of a path.
fn path_tail(rest: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return &rest[..i],
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &rest[..=i];
                }
            }
            c if depth > 0 || is_ident(c) || c == ':' => {}
            _ => return &rest[..i],
        }
    }
    rest
}

fn identifiers(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !is_ident(c))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
}

/// What each top-level module re-exports from another (`pub use crate::b::X;` in `a`):
/// module → name → the module the name really comes from.
fn re_exports(
    src: &Path,
    files: &[std::path::PathBuf],
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read source");
        for statement in text.split(';') {
            let Some(used) = re_exported_path(statement) else {
                continue;
            };
            for (origin, names) in references(used) {
                if origin != module {
                    for name in names {
                        out.entry(module.clone())
                            .or_default()
                            .insert(name, origin.clone());
                    }
                }
            }
        }
    }
    out
}

/// The `crate::…` path of a `pub use` or `pub(…) use` statement.
fn re_exported_path(statement: &str) -> Option<&str> {
    let line = statement.trim_start();
    let rest = line.strip_prefix("pub")?;
    let rest = match rest.strip_prefix('(') {
        Some(scoped) => &scoped[scoped.find(')')? + 1..],
        None => rest,
    };
    let used = rest.trim_start().strip_prefix("use ")?.trim_start();
    used.starts_with("crate::").then_some(used)
}

/// The modules a file uses, a re-exported name counted as its real module.
fn used_modules(
    text: &str,
    re_exports: &BTreeMap<String, BTreeMap<String, String>>,
) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (module, names) in references(text) {
        if let Some(exported) = re_exports.get(&module) {
            used.extend(names.iter().filter_map(|n| exported.get(n)).cloned());
        }
        used.insert(module);
    }
    used
}

#[test]
fn every_module_imports_only_what_docs_architecture_md_allows() {
    let allowed = allowed();
    assert!(
        allowed.len() >= 15,
        "the table of docs/ARCHITECTURE.md was not found: {allowed:?}"
    );
    let src = repo().join("src");
    let files = rust_files(&src);
    let re_exports = re_exports(&src, &files);
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
        for used in used_modules(&text, &re_exports) {
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

#[test]
fn a_re_export_does_not_hide_the_module_it_comes_from() {
    let exporting =
        "pub(crate) use crate::contracts::{Contract, other::Thing};\nuse crate::soap::Fault;";
    let statements: Vec<&str> = exporting.split(';').filter_map(re_exported_path).collect();
    assert_eq!(statements, ["crate::contracts::{Contract, other::Thing}"]);
    let mut re_exports = BTreeMap::new();
    re_exports.insert(
        "service".to_owned(),
        BTreeMap::from([("Contract".to_owned(), "contracts".to_owned())]),
    );
    let used = used_modules(
        "use crate::service::{\n    Call, Contract,\n};\nfn f() { crate::metrics::global(); }",
        &re_exports,
    );
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["contracts", "metrics", "service"]
    );
}

/// The sibling files `text` names as `super::file` (or inside `super::{…}`), among `siblings`.
fn sibling_imports<'a>(text: &str, siblings: &'a BTreeSet<String>) -> BTreeSet<&'a String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("super::") {
        let preceded_by_ident = text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| is_ident(c) || c == ':');
        if preceded_by_ident {
            continue;
        }
        let rest = &text[i + "super::".len()..];
        let named: Vec<String> = if rest.starts_with('{') {
            // The first segment of each item of the group.
            path_tail(rest)
                .trim_start_matches('{')
                .split(',')
                .filter_map(|item| identifiers(item).next())
                .collect()
        } else {
            identifiers(rest).take(1).collect()
        };
        out.extend(siblings.iter().filter(|s| named.contains(s)));
    }
    out
}

/// A circle among `edges` (file → files it imports), as the files along it, if any.
fn find_circle(edges: &BTreeMap<String, BTreeSet<&String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<&String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut Vec::new(), &mut done))
}

// The layering between modules is the table's; inside a module split into files (in the
// service and the conformance crate), the files must also import one another one way, or
// the split only hides a knot.
#[test]
fn the_files_of_a_module_import_one_another_without_a_circle() {
    let roots = [repo().join("src"), repo().join("crates/pu-conformance/src")];
    let mut by_dir: BTreeMap<std::path::PathBuf, Vec<std::path::PathBuf>> = BTreeMap::new();
    for file in roots.iter().flat_map(|root| rust_files(root)) {
        if let Some(dir) = file.parent() {
            by_dir.entry(dir.to_owned()).or_default().push(file);
        }
    }
    let mut circles = Vec::new();
    let mut edges_seen = 0;
    for (dir, files) in &by_dir {
        let siblings: BTreeSet<String> = files
            .iter()
            .filter_map(|f| f.file_stem()?.to_str().map(str::to_owned))
            .filter(|s| s != "mod")
            .collect();
        let edges: BTreeMap<String, BTreeSet<&String>> = files
            .iter()
            .filter_map(|f| {
                let stem = f.file_stem()?.to_str()?.to_owned();
                let text = std::fs::read_to_string(f).ok()?;
                Some((stem, sibling_imports(&text, &siblings)))
            })
            .filter(|(stem, _)| stem != "mod")
            .collect();
        edges_seen += edges.values().map(BTreeSet::len).sum::<usize>();
        if let Some(circle) = find_circle(&edges) {
            circles.push(format!("{}: {}", dir.display(), circle.join(" → ")));
        }
    }
    assert!(
        edges_seen > 20,
        "only {edges_seen} imports between sibling files found; is the scan broken?"
    );
    assert!(
        circles.is_empty(),
        "files of one module importing each other in a circle:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_sibling_scan_reads_single_and_grouped_imports() {
    let siblings: BTreeSet<String> = ["a", "b", "c", "d"].map(str::to_owned).into();
    let found = sibling_imports(
        "use super::a::X;\nuse super::{b::{Y, Z}, c, other::W};\nuse super::super::d::V;",
        &siblings,
    );
    assert_eq!(
        found.into_iter().cloned().collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    let (a, b) = (&"a".to_owned(), &"b".to_owned());
    let edges = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from([b])),
        ("b".to_owned(), BTreeSet::from([a])),
    ]);
    assert_eq!(
        find_circle(&edges),
        Some(vec!["a".to_owned(), "b".to_owned()])
    );
}
