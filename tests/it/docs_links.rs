//! What README.md, CHANGELOG.md and docs/*.md cite in this repository exists, and nothing they
//! cite lies outside it (a fresh clone has nothing beside it).
//!
//! Checked outside fenced code blocks:
//! - every relative Markdown link `[text](target)` (and `[label]: target`): the target, without
//!   its `#fragment`, resolved from the document's directory, exists and stays inside the
//!   repository; `http(s)://`, `mailto:` and pure `#anchor` links are not checked;
//! - every code span that is a repository path: it starts with one of [`TOP_DIRS`] or is one of
//!   [`TOP_FILES`] (paths in code spans are written from the repository root). A `:line`
//!   suffix is dropped; `<placeholder>` and `*` match within one path segment, and a glob
//!   must match at least one file. `path.rs::item` must also define `item` in that file
//!   (`item*`: an item whose name starts so);
//! - a code span `module::item` or `module::prefix*` where `module` is a module file of ours
//!   (`tests/it/<module>.rs`, `src/**/<module>.rs` or `…/<module>/mod.rs`): that file defines
//!   the item (fn, mod, struct, enum, trait, type, const or static). A `module` that is no
//!   file of ours (`std::…`, `fs::read`) is not checked;
//! - a code span `path.rs` followed by ` (` and a code span that is a bare identifier, as in
//!   "`src/store/sql.rs` (`upsert_persons`)": the file defines that identifier;
//! - a code span `refused-….xml`: an example message of that name is in `tests/messages/*/`;
//! - a code span starting with `../`: a path outside the repository, always a problem.

use crate::common::repo;
use std::path::{Component, Path, PathBuf};

/// Top-level directories whose paths the documents cite in code spans.
const TOP_DIRS: &[&str] = &[
    "src/",
    "tests/",
    "docs/",
    "benches/",
    "examples/",
    "fuzz/",
    "scripts/",
    "packaging/",
    "wsdl/",
    "xsd/",
    "certs-dev/",
    "demo/",
    ".ci/",
];

/// Top-level files the documents cite in code spans.
const TOP_FILES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "Containerfile",
    "README.md",
    "CHANGELOG.md",
    "rustfmt.toml",
    "test.sh",
];

/// The documents checked, relative to the repository root.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs = vec![PathBuf::from("README.md")];
    if root.join("CHANGELOG.md").is_file() {
        docs.push(PathBuf::from("CHANGELOG.md"));
    }
    let mut stack = vec![PathBuf::from("docs")];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(root.join(&dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let rel = dir.join(e.file_name());
            if e.path().is_dir() {
                stack.push(rel);
            } else if rel.extension().is_some_and(|x| x == "md") {
                found.push(rel);
            }
        }
    }
    found.sort();
    docs.extend(found);
    docs
}

/// The text outside fenced code blocks, fence lines and their content blanked (line numbers kept).
fn prose(markdown: &str) -> String {
    let mut fence: Option<String> = None;
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines() {
        let t = line.trim_start();
        let marker: String = t.chars().take_while(|c| *c == '`' || *c == '~').collect();
        let is_fence =
            marker.len() >= 3 && marker.chars().all(|c| c == marker.as_bytes()[0] as char);
        match &fence {
            None if is_fence => fence = Some(marker),
            Some(open) if is_fence && marker.starts_with(open.as_str()) => fence = None,
            _ => {}
        }
        if fence.is_none() && !is_fence {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// A code span: its content (line breaks as spaces), where it starts and ends in the text.
struct Span {
    code: String,
    start: usize,
    end: usize,
}

/// The code spans of `text` (CommonMark: a run of n backticks closes at the next run of exactly
/// n; a run without one is literal).
fn code_spans(text: &str) -> Vec<Span> {
    let b = text.as_bytes();
    let run_at = |i: usize| b[i..].iter().take_while(|c| **c == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut close = None;
        while j < b.len() {
            if b[j] == b'`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                spans.push(Span {
                    code: text[i + n..j].replace('\n', " ").trim().to_owned(),
                    start: i,
                    end: j + n,
                });
                i = j + n;
            }
            None => i += n,
        }
    }
    spans
}

/// The line (1-based) of byte `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// The link targets of `text` (code spans already blanked): `](target)` and `[label]: target`.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("](") {
        let rest = &text[i + 2..];
        let Some(close) = rest.find(')') else {
            continue;
        };
        let inner = rest[..close].trim();
        let target = inner
            .strip_prefix('<')
            .and_then(|t| t.split_once('>'))
            .map_or_else(|| inner.split_whitespace().next().unwrap_or(""), |(t, _)| t);
        out.push((line_of(text, i), target.to_owned()));
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('[') {
            if let Some((label, after)) = rest.split_once("]:") {
                if !label.is_empty() && !label.contains(']') {
                    if let Some(target) = after.split_whitespace().next() {
                        out.push((line_of(text, offset), target.to_owned()));
                    }
                }
            }
        }
        offset += line.len();
    }
    out
}

/// `base/rel` with `.` and `..` resolved lexically; None when it climbs above `base`'s root.
fn inside(root: &Path, base_dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = base_dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().fold(root.to_path_buf(), |p, s| p.join(s)))
}

/// Does `name` match `pattern`, where `*` matches any run of characters (one path segment)?
fn segment_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| segment_matches(tail, &rest[i..]))
        }
    }
}

/// The paths under `root` that `pattern` (relative, `/`-separated, `*` within a segment) names.
fn glob(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![root.to_path_buf()];
    for seg in pattern.trim_end_matches('/').split('/') {
        let mut next = Vec::new();
        for dir in &current {
            if !seg.contains('*') {
                let p = dir.join(seg);
                if p.exists() {
                    next.push(p);
                }
                continue;
            }
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| segment_matches(seg, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect();
            names.sort();
            next.extend(names);
        }
        current = next;
    }
    current
}

/// `<placeholder>` becomes `*`.
fn placeholders_as_globs(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push('*');
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Does the Rust source define `item` (`name`, or `prefix*` for any name starting so)?
fn defines(source: &str, item: &str) -> bool {
    let (name, prefix) = match item.strip_suffix('*') {
        Some(p) => (p, true),
        None => (item, false),
    };
    let ident_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    [
        "fn", "mod", "struct", "enum", "trait", "type", "const", "static",
    ]
    .iter()
    .any(|kw| {
        let needle = format!("{kw} {name}");
        source.match_indices(&needle).any(|(i, _)| {
            let before_ok = source[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !ident_char(c));
            let after = source[i + needle.len()..].chars().next();
            before_ok && (prefix || after.is_none_or(|c| !ident_char(c)))
        })
    })
}

/// The files of module `name`: `tests/it/<name>.rs`, `src/**/<name>.rs`, `…/<name>/mod.rs`.
fn module_files(root: &Path, name: &str) -> Vec<PathBuf> {
    let mut all = crate::common::rust_files(&root.join("src"));
    all.extend(crate::common::rust_files(&root.join("tests/it")));
    let file = format!("{name}.rs");
    all.into_iter()
        .filter(|p| {
            p.file_name().is_some_and(|f| f == file.as_str())
                || (p.file_name().is_some_and(|f| f == "mod.rs")
                    && p.parent()
                        .and_then(Path::file_name)
                        .is_some_and(|d| d == name))
        })
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f != "main.rs" && f != "lib.rs")
        })
        .collect()
}

fn defined_in_any(files: &[PathBuf], item: &str) -> bool {
    files
        .iter()
        .any(|f| defines(&std::fs::read_to_string(f).unwrap_or_default(), item))
}

fn rel(root: &Path, files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap_or(f).display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one code span cites, checked: None when it cites nothing of ours, else the problem or
/// Ok with the file(s) it names.
fn check_code(root: &Path, code: &str) -> Option<Result<Vec<PathBuf>, String>> {
    if code.is_empty() || code.chars().any(char::is_whitespace) {
        return None;
    }
    if code.starts_with("../") {
        return Some(Err("a path outside the repository".into()));
    }
    let is_path = TOP_DIRS.iter().any(|d| code.starts_with(d))
        || TOP_FILES.iter().any(|f| {
            code.strip_prefix(f)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
        });
    if is_path {
        let (path, item) = match code.split_once("::") {
            Some((p, i)) => (p, Some(i)),
            None => (code, None),
        };
        let path = match path.rsplit_once(':') {
            Some((p, line)) if line.chars().all(|c| c.is_ascii_digit()) => {
                p.split_once(':').map_or(p, |(p, _)| p)
            }
            _ => path,
        };
        let pattern = placeholders_as_globs(path);
        let files = glob(root, &pattern);
        if files.is_empty() {
            return Some(Err(format!("no such path {pattern}")));
        }
        if let Some(item) = item {
            let rs: Vec<PathBuf> = files
                .iter()
                .filter(|f| f.extension().is_some_and(|x| x == "rs"))
                .cloned()
                .collect();
            if !defined_in_any(&rs, item) {
                return Some(Err(format!("{} defines no {item}", rel(root, &files))));
            }
        }
        return Some(Ok(files));
    }
    if code.starts_with("refused-") && code.ends_with(".xml") && !code.contains('/') {
        let pattern = format!("tests/messages/*/{}", placeholders_as_globs(code));
        return Some(if glob(root, &pattern).is_empty() {
            Err("no such example message in tests/messages/".into())
        } else {
            Ok(Vec::new())
        });
    }
    if let Some((module, item)) = code.split_once("::") {
        let item_ok = is_ident(item.strip_suffix('*').unwrap_or(item));
        if !is_ident(module) || !item_ok || item.contains("::") {
            return None;
        }
        let files = module_files(root, module);
        if files.is_empty() {
            return None;
        }
        return Some(if defined_in_any(&files, item) {
            Ok(files)
        } else {
            Err(format!("{} defines no {item}", rel(root, &files)))
        });
    }
    None
}

/// The problems of one document (its path relative to the root), and how many citations it has.
fn check_document(root: &Path, doc: &Path, markdown: &str) -> (Vec<String>, usize) {
    let text = prose(markdown);
    let spans = code_spans(&text);
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut report = |at: usize, what: &str, why: String| {
        problems.push(format!(
            "{}:{}: {what}: {why}",
            doc.display(),
            line_of(&text, at)
        ));
    };

    for (k, span) in spans.iter().enumerate() {
        let Some(result) = check_code(root, &span.code) else {
            continue;
        };
        checked += 1;
        let files = match result {
            Ok(files) => files,
            Err(why) => {
                report(span.start, &format!("`{}`", span.code), why);
                continue;
            }
        };
        // "`path.rs` (`ident`": the file defines the identifier.
        let [file] = files.as_slice() else { continue };
        if file.extension().is_none_or(|x| x != "rs") || span.code.contains("::") {
            continue;
        }
        let Some(next) = spans.get(k + 1) else {
            continue;
        };
        if text[span.end..next.start].trim() != "(" || !is_ident(&next.code) {
            continue;
        }
        checked += 1;
        if !defined_in_any(std::slice::from_ref(file), &next.code) {
            report(
                next.start,
                &format!("`{}`", next.code),
                format!(
                    "{} defines no {}",
                    rel(root, std::slice::from_ref(file)),
                    next.code
                ),
            );
        }
    }

    let mut blanked = text.clone();
    for span in &spans {
        blanked.replace_range(span.start..span.end, &" ".repeat(span.end - span.start));
    }
    let base = doc.parent().unwrap_or(Path::new(""));
    for (line, target) in link_targets(&blanked) {
        if target.is_empty()
            || target.starts_with('#')
            || target.contains("://")
            || target.starts_with("mailto:")
        {
            continue;
        }
        checked += 1;
        let path = target.split(['#', '?']).next().unwrap_or("");
        let problem = match inside(root, base, path) {
            None => Some("points outside the repository"),
            Some(p) if !p.exists() => Some("no such file"),
            Some(_) => None,
        };
        if let Some(why) = problem {
            problems.push(format!("{}:{line}: link ({target}): {why}", doc.display()));
        }
    }
    (problems, checked)
}

#[test]
fn every_repository_path_and_link_in_the_documents_exists() {
    let root = repo();
    let mut problems = Vec::new();
    let mut checked = 0;
    let docs = documents(&root);
    for doc in &docs {
        let text = std::fs::read_to_string(root.join(doc)).expect("a document");
        let (p, n) = check_document(&root, doc, &text);
        problems.extend(p);
        checked += n;
    }
    assert!(
        problems.is_empty(),
        "{} stale or outside citations in the documents:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // A parser that found nothing would pass vacuously: the README alone cites over a hundred.
    assert!(checked >= 100, "only {checked} citations found in {docs:?}");
    eprintln!(
        "{checked} citations in {} documents, each found",
        docs.len()
    );
}

/// The checker itself: each kind of stale citation is reported, and the live ones are not.
#[test]
fn the_document_check_reports_each_kind_of_stale_citation() {
    let root = repo();
    let doc = "\
Good: `src/store/sql.rs` (`upsert_persons`), `tests/it/cli.rs:12`, `tests/messages/*/refused-CT-4-*`,
`storage::co2_*`, `src/domain/`, `Cargo.toml`, `fs::read`, `cargo run -- serve`, [docs](docs/ARCHITECTURE.md#x),
[web](https://example.org/), [anchor](#top), `refused-CT-1-phone-type.xml`, `tests/it/<name>.rs`.

```sh
cat ../outside `tests/in-a-fence.rs`
```

Stale: `tests/cli.rs`, `src/store/sql.rs` (`upsert_person`), `protection::pr4_*`,
`tests/it/cli.rs::no_such_test`, `../shared/RULES.md`, [up](../x.md), [gone](docs/gone.md),
`refused-XX-9-*.xml`, `src/nothing/*.rs`.
";
    let (problems, checked) = check_document(&root, Path::new("README.md"), doc);
    let text = problems.join("\n");
    for stale in [
        "`tests/cli.rs`",
        "`upsert_person`",
        "`protection::pr4_*`",
        "no_such_test",
        "`../shared/RULES.md`",
        "(../x.md): points outside",
        "(docs/gone.md): no such file",
        "`refused-XX-9-*.xml`",
        "`src/nothing/*.rs`",
    ] {
        assert!(text.contains(stale), "{stale} not reported in:\n{text}");
    }
    assert_eq!(problems.len(), 9, "{text}");
    assert_eq!(checked, 10 + 10, "{text}");
}
