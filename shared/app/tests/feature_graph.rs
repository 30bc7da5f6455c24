//! The features of the app (one folder each under `src/`) must not import each
//! other in a loop, and none may reach into the digest or into erasure: those
//! two call into the features, never the other way round. This reads the source
//! tree, finds every `crate::<feature>` path (also inside `crate::{…}` groups)
//! outside comments, and names the first loop it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that moved into a feature folder and are re-exported at the top
/// level under their old name (see `lib.rs`).
const ALIASES: &[(&str, &str)] = &[
    ("calendar", "events"),
    ("calendar_feeds", "events"),
    ("reminders", "events"),
    ("directory", "members"),
    ("organisations", "members"),
    ("roles", "members"),
    ("suppression", "members"),
    ("coffee", "mentoring"),
];

/// Modules that may depend on features but that no feature may depend on.
const CALLERS_ONLY: &[&str] = &["digest", "erasure"];

type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn features(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .expect("src is readable")
        .map(|e| e.expect("a directory entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("folder is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without `//` comments (doc comments included).
fn without_comments(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The first path segment after every `crate::`, and each top-level segment of
/// a `crate::{…}` group.
fn crate_modules(text: &str) -> Vec<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(ident(group[start..j].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(group[start..j].trim()));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// Feature → the features it names, each with one file that names it.
fn graph(src: &Path) -> Graph {
    let features = features(src);
    let alias: BTreeMap<&str, &str> = ALIASES.iter().copied().collect();
    let mut graph = Graph::new();
    for feature in &features {
        let mut files = Vec::new();
        rust_files(&src.join(feature), &mut files);
        let edges = graph.entry(feature.clone()).or_default();
        for file in files {
            let text = without_comments(&std::fs::read_to_string(&file).expect("source is readable"));
            for module in crate_modules(&text) {
                let target = alias.get(module.as_str()).map(|t| t.to_string()).unwrap_or(module);
                if &target != feature && (features.contains(&target) || CALLERS_ONLY.contains(&target.as_str())) {
                    let shown = file.strip_prefix(src).unwrap_or(&file).display().to_string();
                    edges.entry(target).or_insert(shown);
                }
            }
        }
    }
    graph
}

/// The first loop in `graph`, as `a → b → … → a`.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(|e| e.keys()) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn describe(cycle: &[String], graph: &Graph) -> String {
    cycle.windows(2).map(|w| format!("{} → {} (in {})", w[0], w[1], graph[&w[0]][&w[1]])).collect::<Vec<_>>().join(", ")
}

#[test]
fn features_do_not_import_each_other_in_a_loop() {
    let graph = graph(&src());
    assert!(graph.len() >= 10, "expected the feature folders under src/, found {:?}", graph.keys());
    if let Some(cycle) = find_cycle(&graph) {
        panic!("the features import each other in a loop: {}", describe(&cycle, &graph));
    }
}

#[test]
fn no_feature_reaches_into_the_digest_or_erasure() {
    let graph = graph(&src());
    let wrong: Vec<String> = graph
        .iter()
        .filter(|(feature, _)| !CALLERS_ONLY.contains(&feature.as_str()))
        .flat_map(|(feature, edges)| {
            edges
                .iter()
                .filter(|(to, _)| CALLERS_ONLY.contains(&to.as_str()))
                .map(move |(to, file)| format!("{feature} → {to} (in {file})"))
        })
        .collect();
    assert!(wrong.is_empty(), "only the digest and erasure call into features, never back: {wrong:?}");
}

#[test]
fn the_checker_finds_and_names_a_loop() {
    let text = "use crate::{App, events::Event, members::{directory, roles}};\nlet x = crate::boards::BoardJob;";
    assert_eq!(crate_modules(text), ["App", "events", "members", "boards"]);
    let edge = |to: &str| (to.to_string(), "x.rs".to_string());
    let mut g = Graph::new();
    g.insert("a".into(), [edge("b")].into());
    g.insert("b".into(), [edge("c")].into());
    g.insert("c".into(), [edge("a")].into());
    let cycle = find_cycle(&g).expect("a loop");
    assert_eq!(cycle, ["a", "b", "c", "a"]);
    assert_eq!(describe(&cycle, &g), "a → b (in x.rs), b → c (in x.rs), c → a (in x.rs)");
    g.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&g), None);
}
