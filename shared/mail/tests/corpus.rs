//! The fixture corpus: every `tests/fixtures/email/NN-name.eml` has an expected
//! `NN-name.json` beside it, and this walks the folder comparing. Each message is run
//! as written (CRLF, as clients send it) and again with LF line ends, as mail-parser's
//! own corpus tests do, since mail arriving through local tools is often LF-only.
//! Adding a case is adding two files.

use std::path::PathBuf;

use qnet_mail::{Analysis, Route, Verdict, Verdicts, analyse};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/email")
}

fn verdicts(v: &Value) -> Verdicts {
    let get = |k: &str| v.get(k).and_then(Value::as_str).map(Verdict::parse).unwrap_or_default();
    Verdicts { spam: get("spam"), virus: get("virus"), spf: get("spf"), dkim: get("dkim"), dmarc: get("dmarc") }
}

fn check(name: &str, a: &Analysis, e: &Value, lf: bool) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut eq = |field: &str, got: Value| {
        if let Some(want) = e.get(field)
            && *want != got
        {
            wrong.push(format!("{field}: got {got}, want {want}"));
        }
    };
    eq("outcome", a.outcome.as_str().into());
    eq("reason", a.reason.into());
    eq("title", a.title.clone().into());
    eq("sender_verified", a.sender_verified.into());
    eq("organisation_hint", a.organisation_hint.clone().into());
    eq("body_truncated", a.body_truncated.into());
    eq("in_reply_to", a.in_reply_to.clone().into());
    eq(
        "route",
        match &a.route {
            Route::Submission => "submission".into(),
            Route::Reply { token } => format!("reply:{token}").into(),
            Route::Unsubscribe { token } => format!("unsubscribe:{token}").into(),
            Route::NoReply => "noreply".into(),
        },
    );
    // An unencoded attached message changes size with its line ends.
    let attachments_field = if lf && e.get("attachments_lf").is_some() { "attachments_lf" } else { "attachments" };
    eq(attachments_field, a.attachments.iter().map(|x| serde_json::json!({"filename": x.filename, "size": x.size})).collect());
    eq("dropped", a.dropped_attachments.iter().map(|x| serde_json::json!({"filename": x.filename})).collect());
    eq("warnings_count", a.warnings.len().into());
    for (field, person) in [("submitter", &a.submitter), ("forwarded_from", &a.forwarded_from)] {
        if let Some(want) = e.get(field) {
            match person {
                None => wrong.push(format!("{field}: none, want {want}")),
                Some(p) => {
                    if want.get("email").and_then(Value::as_str) != Some(p.email.as_str()) {
                        wrong.push(format!("{field}.email: got {}, want {}", p.email, want["email"]));
                    }
                    if let Some(n) = want.get("name")
                        && n.as_str() != p.name.as_deref()
                    {
                        wrong.push(format!("{field}.name: got {:?}, want {n}", p.name));
                    }
                    if let Some(j) = want.get("job_title")
                        && j.as_str() != p.job_title.as_deref()
                    {
                        wrong.push(format!("{field}.job_title: got {:?}, want {j}", p.job_title));
                    }
                }
            }
        }
    }
    for p in e.get("body_contains").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if !a.body.contains(p) {
            wrong.push(format!("body lacks {p:?}"));
        }
    }
    for p in e.get("body_not_contains").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if a.body.contains(p) {
            wrong.push(format!("body has {p:?}"));
        }
    }
    let section = |name: &str, k: &str| -> Option<String> {
        let s = &a.sections;
        match k {
            "aim" => s.aim.clone(),
            "background" => s.background.clone(),
            "what_we_did" => s.what_we_did.clone(),
            "measures" => s.measures.clone(),
            "results" => s.results.clone(),
            "lessons_learned" => s.lessons_learned.clone(),
            "contact" => s.contact.clone(),
            other => panic!("{name}: unknown section {other}"),
        }
    };
    // "sections_not_contains": {"contact": ["Kind regards"]}: text a section must not hold.
    if let Some(Value::Object(want)) = e.get("sections_not_contains") {
        for (k, v) in want {
            let got = section(name, k).unwrap_or_default();
            for p in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if got.contains(p) {
                    wrong.push(format!("section {k} has {p:?}"));
                }
            }
        }
    }
    if let Some(Value::Object(want)) = e.get("sections") {
        let s = &a.sections;
        for (k, v) in want {
            let got = match k.as_str() {
                "aim" => &s.aim,
                "background" => &s.background,
                "what_we_did" => &s.what_we_did,
                "measures" => &s.measures,
                "results" => &s.results,
                "lessons_learned" => &s.lessons_learned,
                "contact" => &s.contact,
                other => panic!("{name}: unknown section {other}"),
            };
            match (got, v.as_str()) {
                (Some(g), Some(w)) if g.contains(w) => {}
                (None, None) => {}
                _ => wrong.push(format!("section {k}: got {got:?}, want {v}")),
            }
        }
    }
    wrong
}

#[test]
fn fixtures_match_their_expectations_with_crlf_and_lf() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixture folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 30, "expected the whole fixture set, found {}", entries.len());
    let mut failures = Vec::new();
    for path in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let raw = std::fs::read(path).expect("read eml");
        let expect: Value = serde_json::from_slice(&std::fs::read(path.with_extension("json")).expect("json beside each eml"))
            .expect("valid json");
        let v = verdicts(expect.get("verdicts").unwrap_or(&Value::Null));
        let lf: Vec<u8> = {
            let mut out = Vec::with_capacity(raw.len());
            let mut i = 0;
            while i < raw.len() {
                if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
                    i += 1;
                    continue;
                }
                out.push(raw[i]);
                i += 1;
            }
            out
        };
        for (ending, bytes) in [("crlf", &raw), ("lf", &lf)] {
            let a = analyse(bytes, &v);
            for w in check(&name, &a, &expect, ending == "lf") {
                failures.push(format!("{name} ({ending}): {w}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
