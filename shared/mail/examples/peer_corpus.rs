//! Measures `analyse` against a peer's corpus (Discourse's inbound email fixtures,
//! labelled under Qnet's policy) without copying it into the project:
//!
//! ```text
//! cargo run -p qnet-mail --example peer_corpus -- ../shared/corpora/discourse-emails/MANIFEST.json
//! ```
//!
//! A message is right when its outcome matches (or is in `also_acceptable`) and, for
//! accepted mail, the title (when the manifest gives one), the submitter's address,
//! the body phrases and the attachments match. Exits non-zero unless every outcome is
//! right and at least 37 messages are fully right.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use qnet_mail::{Outcome, Verdicts, analyse};
use serde_json::Value;

fn main() -> ExitCode {
    let manifest = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpora/discourse-emails/MANIFEST.json"));
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let entries: Vec<Value> = match std::fs::read(&manifest)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cannot read {}: {e}", manifest.display());
            return ExitCode::from(2);
        }
    };
    let (mut outcomes_right, mut fully_right) = (0, 0);
    for e in &entries {
        let file = e["file"].as_str().unwrap_or_default();
        let raw = match std::fs::read(dir.join(file)) {
            Ok(r) => r,
            Err(err) => {
                println!("WRONG {file}: cannot read ({err})");
                continue;
            }
        };
        let a = analyse(&raw, &Verdicts::default());
        let mut wrong: Vec<String> = Vec::new();
        let expect = e["expect"].as_str().unwrap_or_default();
        let also: Vec<&str> =
            e["also_acceptable"].as_array().map(|v| v.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let got = a.outcome.as_str();
        if got == expect || also.contains(&got) {
            outcomes_right += 1;
        } else {
            wrong.push(format!("outcome {got} ({:?}: {}) != {expect}", a.reason, a.detail.clone().unwrap_or_default()));
        }
        if a.outcome == Outcome::Accept && expect == "accept" {
            if let Some(t) = e["title"].as_str()
                && t != a.title
            {
                wrong.push(format!("title {:?} != {t:?}", a.title));
            }
            let email = a.submitter.as_ref().map(|p| p.email.to_lowercase());
            if e["submitter_email"].as_str().map(str::to_lowercase) != email {
                wrong.push(format!("submitter {email:?} != {}", e["submitter_email"]));
            }
            let body = comparable(&a.body);
            for p in e["body_must_contain"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !body.contains(&comparable(p)) {
                    wrong.push(format!("body lacks {p:?}"));
                }
            }
            for p in e["body_must_not_contain"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if body.contains(&comparable(p)) {
                    wrong.push(format!("body has {p:?}"));
                }
            }
            let want: Vec<(String, u64, String)> = e["attachments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    (
                        x["filename"].as_str().unwrap_or_default().to_string(),
                        x["size"].as_u64().unwrap_or(0),
                        x["sha256"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let have: Vec<(String, u64, String)> =
                a.attachments.iter().map(|x| (x.filename.clone(), x.size, x.sha256.clone())).collect();
            if want != have {
                wrong.push(format!("attachments {have:?} != {want:?}"));
            }
            if wrong.is_empty() {
                fully_right += 1;
            }
        } else if wrong.is_empty() {
            fully_right += 1;
        }
        if wrong.is_empty() {
            println!("right {file}");
        } else {
            println!("WRONG {file}: {}", wrong.join("; "));
            if std::env::var_os("PEER_CORPUS_VERBOSE").is_some() {
                println!("      title={:?}\n      body={:?}", a.title, a.body);
            }
        }
    }
    let total = entries.len();
    println!("outcomes right: {outcomes_right}/{total}");
    println!("fully right: {fully_right}/{total}");
    if outcomes_right == total && fully_right >= 37.min(total) { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Whitespace collapsed, HTML tags and entities and `*`/`_` emphasis removed, as the manifest's README says to compare.
fn comparable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' if !in_tag => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '*' | '_' => {}
            _ => out.push(c),
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
