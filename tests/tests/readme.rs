//! The README's map of the tree names every crate of the workspace and every
//! Lambda function, so a newcomer finds each one there: adding a crate or a
//! function without a row fails here.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root").to_path_buf()
}

/// The first column of every row of the README's "path | what" table, split
/// into the paths it names (a cell may name several: `` `a`, `b` ``).
fn readme_table_paths() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut lines = readme.lines().skip_while(|l| !l.starts_with("| path | what |"));
    assert!(lines.next().is_some(), "README.md has no `| path | what |` table");
    lines
        .skip(1) // the |---|---| line
        .take_while(|l| l.starts_with('|'))
        .flat_map(|row| {
            let cell = row.trim_start_matches('|').split('|').next().unwrap_or_default();
            cell.split('`').skip(1).step_by(2).map(|p| p.trim_end_matches('/').to_string()).collect::<Vec<_>>()
        })
        .collect()
}

/// The workspace members of the root Cargo.toml.
fn workspace_members() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let manifest: toml::Table = manifest.parse().expect("Cargo.toml parses");
    manifest["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .map(|m| m.as_str().expect("a member is a path").to_string())
        .collect()
}

#[test]
fn the_readme_table_names_every_crate_and_function() {
    let named = readme_table_paths();
    let mut missing: Vec<String> = workspace_members().into_iter().filter(|m| !named.contains(m)).collect();
    // Every folder under functions/ is a function, member or not.
    for entry in std::fs::read_dir(root().join("functions")).expect("functions/") {
        let path = format!("functions/{}", entry.expect("an entry").file_name().to_string_lossy());
        if !named.contains(&path) && !missing.contains(&path) {
            missing.push(path);
        }
    }
    assert!(missing.is_empty(), "README.md's `| path | what |` table does not name: {missing:?}");
}

#[test]
fn every_path_the_readme_table_names_exists() {
    let gone: Vec<String> = readme_table_paths().into_iter().filter(|p| !root().join(p).exists()).collect();
    assert!(gone.is_empty(), "README.md's table names paths that do not exist: {gone:?}");
}
