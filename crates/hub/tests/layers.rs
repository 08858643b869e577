//! The hub's layers, read from its source: transport uses services, services use the store,
//! and never the other way; no module of the hub imports another that imports it back, by
//! any path; and services and the store know nothing of HTTP or WebSockets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A layer and what it may use besides itself. `config` is read by every layer and uses none.
const LAYERS: &[(&str, &[&str])] = &[
    ("config", &[]),
    ("store", &["config"]),
    ("services", &["store", "config"]),
    ("transport", &["services", "store", "config"]),
    ("tools", &["transport", "services", "store", "config"]),
];

/// Crates of the HTTP and WebSocket side, which only transport may use.
const TRANSPORT_CRATES: &[&str] = &["axum", "hyper", "hyper_util", "tungstenite", "tower"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module of the library by its path (`services::writer`), with its source.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], found: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                let mut inner = prefix.to_vec();
                inner.push(name);
                walk(&path, &inner, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let mut module = prefix.to_vec();
            match name.as_str() {
                // The binary is not part of the library's graph.
                "main" if prefix.is_empty() => continue,
                "lib" if prefix.is_empty() => module.push("crate".into()),
                "mod" => {}
                _ => module.push(name),
            }
            found.insert(module.join("::"), std::fs::read_to_string(&path).unwrap());
        }
    }
    let mut found = BTreeMap::new();
    walk(&src(), &[], &mut found);
    found
}

/// The code without comments, so that a path named in prose is not an import.
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::…` path the code names, with `use crate::{a, b::{c, d}}` expanded.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at + "crate::".len()..];
        let (path, used) = expand(tail);
        paths.extend(path);
        rest = &tail[used..];
    }
    paths
}

/// Reads one path (possibly with a `{…}` group) from the start of `text`; returns the paths
/// and how much of `text` they took.
fn expand(text: &str) -> (Vec<String>, usize) {
    let ident_end = |s: &str| {
        s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(s.len())
    };
    let end = ident_end(text);
    let head = text[..end].trim_end_matches(':').to_string();
    if !text[end..].starts_with('{') {
        return (vec![head], end);
    }
    // A group: split its items at the top level of braces.
    let mut depth = 0;
    let mut items = Vec::new();
    let mut start = end + 1;
    let mut close = text.len();
    for (i, c) in text.char_indices().skip(end) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    items.push(&text[start..i]);
                    close = i + 1;
                    break;
                }
            }
            ',' if depth == 1 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    let mut paths = Vec::new();
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if item == "self" {
            paths.push(head.clone());
            continue;
        }
        let (inner, _) = expand(item);
        for p in inner {
            paths.push(if head.is_empty() {
                p
            } else {
                format!("{head}::{p}")
            });
        }
    }
    (paths, close)
}

/// The module a path names or names an item of: its longest prefix that is a module.
fn module_of(path: &str, modules: &BTreeMap<String, String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| modules.contains_key(candidate))
}

fn layer_of(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// Each module's imports of other modules of the hub.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    for (module, source) in &modules {
        let used: BTreeSet<String> = crate_paths(&code(source))
            .iter()
            .filter_map(|p| module_of(p, &modules))
            .filter(|m| m != module && m != "crate")
            .collect();
        graph.insert(module.clone(), used);
    }
    graph
}

#[test]
fn the_path_reader_sees_grouped_and_nested_imports() {
    let code =
        "use crate::services::{error::{Kind, Refusal}, writer};\nlet x = crate::store::now();";
    assert_eq!(
        crate_paths(code),
        [
            "services::error::Kind",
            "services::error::Refusal",
            "services::writer",
            "store::now"
        ]
    );
}

#[test]
fn every_module_belongs_to_a_layer() {
    for module in modules().keys() {
        if module == "crate" {
            continue;
        }
        assert!(
            LAYERS.iter().any(|(name, _)| *name == layer_of(module)),
            "{module} is in no layer: put it under transport/, services/, store/ or tools/"
        );
    }
}

#[test]
fn layers_use_only_the_layers_below_them() {
    let mut wrong = Vec::new();
    for (module, used) in imports() {
        let layer = layer_of(&module);
        let Some((_, allowed)) = LAYERS.iter().find(|(name, _)| *name == layer) else {
            continue;
        };
        for target in used {
            let to = layer_of(&target);
            if to != layer && !allowed.contains(&to) {
                wrong.push(format!("{module} -> {target}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    // Every module that can reach a module that reaches it back is on a circle.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut next = vec![from.to_string()];
        while let Some(m) = next.pop() {
            for t in graph.get(&m).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    next.push(t.clone());
                }
            }
        }
        seen
    };
    let mut circles = Vec::new();
    for module in graph.keys() {
        if reach(module).contains(module) {
            let back: Vec<&String> = graph[module]
                .iter()
                .filter(|t| reach(t).contains(module))
                .collect();
            circles.push(format!("{module} <-> {back:?}"));
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

#[test]
fn services_and_the_store_know_nothing_of_http_or_websockets() {
    let mut found = Vec::new();
    for (module, source) in modules() {
        if !matches!(layer_of(&module), "services" | "store") {
            continue;
        }
        let code = code(&source);
        for krate in TRANSPORT_CRATES {
            if code.contains(&format!("{krate}::")) {
                found.push(format!("{module} uses {krate}"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn transport_asks_the_services_and_holds_no_sql() {
    let mut found = Vec::new();
    for (module, source) in modules() {
        if layer_of(&module) != "transport" {
            continue;
        }
        let code = code(&source);
        for statement in ["sqlx::query", "SELECT ", "UPDATE ", "INSERT ", "DELETE "] {
            if code.contains(statement) {
                found.push(format!("{module} holds `{statement}`"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
