//! The `qnet` command line: clear messages and a non-zero exit for bad input.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_qnet");

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn token_prints_one_line_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, _) = run(&["token", "--email", "Jo@Leeds.gov.uk", "--role", "moderator", "--role", "admin", "--data-dir", d]);
    assert!(ok);
    assert_eq!(out.lines().count(), 1);
    assert_eq!(out.trim().split('.').count(), 3, "a JWT: {out}");
    // The same email is the same member: both tokens carry one subject.
    let (_, again, _) = run(&["token", "--email", "jo@leeds.gov.uk", "--data-dir", d]);
    let sub = |t: &str| {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim().split('.').nth(1).unwrap()).unwrap();
        serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["sub"].clone()
    };
    assert_eq!(sub(&out), sub(&again));

    let (ok, out, err) = run(&["token", "--email", "jo@leeds.gov.uk", "--role", "overlord", "--data-dir", d]);
    assert!(!ok && out.is_empty());
    assert!(err.contains("--role overlord is not one of member, organiser, moderator, admin"), "{err}");
    let (ok, _, err) = run(&["token", "--email", "not-an-email", "--data-dir", d]);
    assert!(!ok && err.contains("--email"), "{err}");
    let (ok, _, err) = run(&["token", "--email", "jo@leeds.gov.uk", "--organisation", "Nowhere Trust", "--data-dir", d]);
    assert!(!ok && err.contains("no organisation has that id or name"), "{err}");
    let (ok, _, err) = run(&["token"]);
    assert!(!ok && err.contains("--email"), "{err}");
}

#[test]
fn serve_refuses_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(&["serve", "--addr", "0.0.0.0:0", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("loopback"), "{err}");
}

#[test]
fn an_unknown_backend_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["token", "--email", "a@b.org", "--data-dir", dir.path().to_str().unwrap()])
        .env("QNET_BACKEND", "cloud")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("QNET_BACKEND=cloud is not one of embedded, aws"));
    let out = Command::new(BIN)
        .args(["token", "--email", "a@b.org", "--data-dir", dir.path().to_str().unwrap()])
        .env("QNET_BACKEND", "aws")
        .env_remove("QNET_TABLE_NAME")
        .env_remove("QNET_BUCKET_NAME")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("QNET_TABLE_NAME is missing") && err.contains("QNET_BUCKET_NAME is missing"),
        "{err}"
    );
}

#[test]
fn ingest_prints_one_json_report_and_fails_only_when_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let eml = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/email/01-outlook-nhsmail-disclaimer.eml");
    let (ok, out, err) = run(&["ingest", "--dry-run", "--data-dir", d.to_str().unwrap(), eml]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["outcome", "reason", "detail", "updates", "case_study", "dropped_attachments"] {
        assert!(report.get(key).is_some(), "{key} missing from {out}");
    }
    assert_eq!(report["outcome"], "accept");
    for key in
        ["id", "title", "summary", "body", "sections", "organisation", "submitted_by", "attachments", "sender_verified", "hold"]
    {
        assert!(report["case_study"].get(key).is_some(), "case_study.{key} missing");
    }
    let submitter = &report["case_study"]["submitted_by"];
    for key in ["name", "email", "job_title"] {
        assert!(submitter.get(key).is_some(), "case_study.submitted_by.{key} missing from {out}");
    }
    assert!(!d.exists(), "a dry run creates no data directory");

    // With an SES event, its verdicts count: this one says spam.
    let event = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/events/ses-receipt-s3-action-spam.json");
    let (ok, out, _) = run(&["ingest", "--dry-run", "--ses-event", event, "--data-dir", d.to_str().unwrap(), eml]);
    assert!(ok);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["outcome"], "reject");
    assert_eq!(report["reason"], "spam");

    // SES leaves commonHeaders.from out for a message without From: the event is
    // read, and the message is rejected with its reason.
    let event = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/events/ses-receipt-no-from.json");
    let no_from = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/email/37-ses-event-without-from.eml");
    let (ok, out, err) = run(&["ingest", "--dry-run", "--ses-event", event, "--data-dir", d.to_str().unwrap(), no_from]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["outcome"], "reject");
    assert_eq!(report["reason"], "no_from");
    assert!(report["detail"].as_str().is_some_and(|d| d.contains("From")), "{out}");

    let (ok, out, err) = run(&["ingest", "--data-dir", d.to_str().unwrap(), "/no/such/message.eml"]);
    assert!(!ok && out.is_empty());
    assert!(err.contains("cannot read /no/such/message.eml"), "{err}");
    let (ok, _, err) = run(&["ingest", "--ses-event", eml, "--data-dir", d.to_str().unwrap(), eml]);
    assert!(!ok && err.contains("is not an SES receipt event"), "{err}");
}

#[test]
fn digest_prints_one_json_object_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(run(&["token", "--email", "jo@leeds.gov.uk", "--data-dir", d]).0);
    let (ok, out, err) = run(&["digest", "--data-dir", d, "--now", "2026-03-09T07:00:00Z"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["issues"], serde_json::json!(["weekly-2026-W10"]));
    assert_eq!(v["due"], 1);
    assert_eq!(v["sent"], 0);
    assert_eq!(v["skipped"], serde_json::json!({"no_content": 1, "unsubscribed": 0, "suppressed": 0, "already_sent": 0}));
    let (ok, out, _) = run(&["digest", "--data-dir", d, "--now", "2026-03-02T07:00:00Z", "--dry-run"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["issues"], serde_json::json!(["weekly-2026-W09", "monthly-2026-02"]));

    let (ok, out, err) = run(&["digest", "--data-dir", d, "--now", "next tuesday"]);
    assert!(!ok && out.is_empty() && err.contains("--now next tuesday is not an RFC 3339 time"), "{err}");
    let (ok, _, err) = run(&["digest", "--data-dir", d, "--preview", "--email", "nobody@leeds.gov.uk"]);
    assert!(!ok && err.contains("no member has the address"), "{err}");
    let (ok, _, err) = run(&["digest", "--data-dir", d, "--preview"]);
    assert!(!ok && err.contains("--email"), "{err}");
    let (ok, out, err) = run(&["digest", "--data-dir", d, "--preview", "--email", "jo@leeds.gov.uk"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let html = std::fs::read_to_string(v["html"].as_str().unwrap()).unwrap();
    // Nothing new was published, but Jo has just joined: the next digest welcomes her.
    assert!(html.contains("For you") && html.contains("Welcome to Qnet: three things to do"), "{html}");
    assert!(std::fs::read(v["eml"].as_str().unwrap()).unwrap().starts_with(b"From: "));
}

#[test]
fn ses_event_suppresses_a_bounced_address() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/events/sns-ses-bounce.json");
    let (ok, out, err) = run(&["ses-event", "--data-dir", d, fixture]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["suppressed"].as_u64().unwrap() >= 1, "{out}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"hello": "world"}"#).unwrap();
    let (ok, out, err) = run(&["ses-event", "--data-dir", d, bad.to_str().unwrap()]);
    assert!(!ok && out.is_empty() && err.contains("is not an SES bounce or complaint notification"), "{err}");
    let (ok, _, err) = run(&["ses-event", "--data-dir", d, "/nonexistent.json"]);
    assert!(!ok && err.contains("cannot read"), "{err}");
}

#[test]
fn engagement_prints_one_json_report_and_refuses_a_bad_now() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(run(&["token", "--email", "jo@leeds.gov.uk", "--data-dir", d]).0);
    // A Monday: the weekly nudges run; Jo is on the weekly digest, so her lines go there.
    let (ok, out, err) = run(&["engagement", "--data-dir", d, "--now", "2026-11-30T07:30:00Z", "--dry-run"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["day"], "2026-11-30");
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["nudge_week"], "weekly-2026-W48");
    assert_eq!((v["in_digest"].as_u64(), v["nudges_sent"].as_u64()), (Some(1), Some(0)), "{out}");
    // A Tuesday: experts only.
    let (ok, out, _) = run(&["engagement", "--data-dir", d, "--now", "2026-12-01T07:30:00Z"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["day"].as_str(), v["nudge_week"].is_null()), (Some("2026-12-01"), true), "{out}");
    let (ok, out, err) = run(&["engagement", "--data-dir", d, "--now", "monday"]);
    assert!(!ok && out.is_empty() && err.contains("--now monday is not an RFC 3339 time"), "{err}");
}
