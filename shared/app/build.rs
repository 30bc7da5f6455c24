//! Compiles every template under `templates/email` and `templates/pages` into
//! the crate (a Lambda has no template files): writes `$OUT_DIR/templates.rs`,
//! a list of `(name, include_str!(path))` that `mail.rs` loads once. Adding a
//! template is adding its file.

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
    let mut files = Vec::new();
    for folder in ["email", "pages"] {
        let dir = root.join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("templates folder {}: {e}", dir.display()))
            .map(|entry| entry.expect("a template folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "tera"))
            .collect();
        names.sort();
        for path in names {
            let name = format!("{folder}/{}", path.file_name().expect("a file name").to_string_lossy());
            let path = path.canonicalize().expect("a template path");
            files.push(format!("    ({name:?}, include_str!({:?})),\n", path.display().to_string()));
        }
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("templates.rs");
    let code = format!(
        "/// Every template, by name (`email/digest.txt.tera`), with its text.\npub const TEMPLATE_FILES: &[(&str, &str)] = &[\n{}];\n",
        files.concat()
    );
    std::fs::write(out, code).expect("writing templates.rs");
}
