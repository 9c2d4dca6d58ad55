//! The example kernel's layout, checked: no module imports another that imports it
//! back (directly or around a circle), no file holds much more than 400 lines of
//! code, and only `mpx_glue` calls the crate's manager (other modules may use its
//! data types, such as `Statistics`).
//!
//! A module's references are the `crate::…`, `super::…` and `self::…` paths in its
//! code, and paths that start with one of its own child modules. A `pub use` of a
//! child is a re-export, not a dependency: a module may use what its parent
//! re-exports (issue 9's rule), never a sibling that uses it back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines of code (neither blank nor comment-only) a file may hold.
const MAX_CODE_LINES: usize = 420;

fn kernel_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-example/src")
}

/// Every `.rs` file under the kernel's `src`, by module path (`crate::a::b`).
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("kernel-example/src") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = kernel_src();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "main") {
                parts.pop();
            }
            let name = std::iter::once("crate".to_string())
                .chain(parts)
                .collect::<Vec<_>>()
                .join("::");
            (name, std::fs::read_to_string(&file).unwrap())
        })
        .collect()
}

/// The source without comments (line comments, doc comments) and string contents.
fn code_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .map(|line| {
            let line = match line.find("//") {
                Some(i) => &line[..i],
                None => line,
            };
            line.trim().to_string()
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// The deepest module `path` (segments after the start module) reaches from `start`.
fn resolve(modules: &BTreeMap<String, String>, start: &str, path: &[&str]) -> String {
    let mut current = start.to_string();
    for segment in path {
        let next = format!("{current}::{segment}");
        if modules.contains_key(&next) {
            current = next;
        } else {
            break;
        }
    }
    current
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or(module, |(p, _)| p)
}

/// The modules `module` depends on.
fn dependencies(modules: &BTreeMap<String, String>, module: &str) -> BTreeSet<String> {
    let source = &modules[module];
    let children: Vec<&str> = modules
        .keys()
        .filter_map(|m| m.strip_prefix(module)?.strip_prefix("::"))
        .filter(|rest| !rest.contains("::"))
        .collect();
    let mut deps = BTreeSet::new();
    for line in code_lines(source) {
        if line.starts_with("pub use ") || line.starts_with("pub(crate) use ") {
            continue; // a re-export
        }
        if line.starts_with("mod ") || line.starts_with("pub mod ") {
            continue;
        }
        let words: Vec<&str> = line
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .filter(|w| w.contains("::"))
            .collect();
        for word in words {
            let segments: Vec<&str> = word.split("::").filter(|s| !s.is_empty()).collect();
            let Some((&first, rest)) = segments.split_first() else {
                continue;
            };
            let target = match first {
                "crate" => resolve(modules, "crate", rest),
                "self" => resolve(modules, module, rest),
                "super" => {
                    let mut base = parent(module).to_string();
                    let mut rest = rest;
                    while rest.first() == Some(&"super") {
                        base = parent(&base).to_string();
                        rest = &rest[1..];
                    }
                    resolve(modules, &base, rest)
                }
                child if children.contains(&child) => resolve(modules, module, &segments),
                _ => continue,
            };
            // The root itself is the boot file nothing imports; a path that stops
            // there names a crate-root item (an exported macro).
            if target != module && target != "crate" {
                deps.insert(target);
            }
        }
    }
    deps
}

#[test]
fn kernel_modules_import_no_cycle() {
    let modules = modules();
    assert!(
        modules.len() > 20,
        "the kernel's modules: {:?}",
        modules.keys()
    );
    let graph: BTreeMap<String, BTreeSet<String>> = modules
        .keys()
        .map(|m| (m.clone(), dependencies(&modules, m)))
        .collect();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|m| m == node) {
            panic!("import cycle: {} -> {node}", stack[at..].join(" -> "));
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, stack, done);
        }
        stack.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn kernel_files_stay_small() {
    for (module, source) in modules() {
        let lines = code_lines(&source).len();
        assert!(
            lines <= MAX_CODE_LINES,
            "{module} has {lines} lines of code (at most {MAX_CODE_LINES})"
        );
    }
}

#[test]
fn only_the_glue_calls_the_manager() {
    for (module, source) in modules() {
        if module == "crate::mpx_glue" {
            assert!(source.contains("MpxManager::new"));
            continue;
        }
        for line in code_lines(&source) {
            assert!(
                !line.contains("MpxManager") && !line.contains("MpxWriteGuard"),
                "{module} reaches the crate's manager: {line}"
            );
        }
    }
}
