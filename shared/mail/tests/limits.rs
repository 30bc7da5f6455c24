//! Inputs too large or too odd to keep as fixture files: built here instead.

use std::time::{Duration, Instant};

use qnet_mail::{Limits, Outcome, Verdict, Verdicts, analyse, analyse_unguarded};

fn head(extra: &str) -> String {
    format!("From: Jo Bloggs <jo@nhs.net>\r\nTo: casestudies@qnet.example\r\nSubject: Test\r\nMIME-Version: 1.0\r\n{extra}")
}

#[test]
fn decoded_body_over_two_megabytes_is_rejected() {
    let mut raw = head("Content-Type: text/plain; charset=utf-8\r\n\r\n").into_bytes();
    raw.extend(std::iter::repeat_n(b"All work and no play.\r\n".as_slice(), 100_000).flatten());
    let a = analyse(&raw, &Verdicts::default());
    assert_eq!((a.outcome, a.reason), (Outcome::Reject, Some("body_too_large")));
}

#[test]
fn attachment_over_ten_megabytes_is_dropped_and_the_mail_accepted() {
    let limits = Limits { max_attachment: 1000, ..Limits::default() };
    let big = "QUFB".repeat(400); // 1,200 decoded bytes
    let raw = head(&format!(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the scan.\r\n--b\r\nContent-Type: image/jpeg; name=scan.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n{big}\r\n--b--\r\n"
    ));
    let a = qnet_mail::analyse_with(raw.as_bytes(), &Verdicts::default(), &limits);
    assert_eq!(a.outcome, Outcome::Accept);
    assert!(a.attachments.is_empty());
    assert_eq!(a.dropped_attachments.len(), 1);
    assert_eq!(a.dropped_attachments[0].filename, "scan.jpg");
    assert!(a.dropped_attachments[0].reason.contains("larger than"));
}

#[test]
fn every_verdict_fail_rejects_and_gray_does_not() {
    let raw = head("Content-Type: text/plain\r\n\r\nHello.\r\n");
    for (i, reason) in ["spam", "virus", "spf_fail", "dkim_fail", "dmarc_fail"].iter().enumerate() {
        let mut v = Verdicts::default();
        let slot = [&mut v.spam, &mut v.virus, &mut v.spf, &mut v.dkim, &mut v.dmarc];
        *slot.into_iter().nth(i).expect("five") = Verdict::Fail;
        assert_eq!(analyse(raw.as_bytes(), &v).reason, Some(*reason));
    }
    let gray =
        Verdicts { spam: Verdict::Gray, virus: Verdict::Gray, spf: Verdict::Gray, dkim: Verdict::Gray, dmarc: Verdict::Gray };
    let a = analyse(raw.as_bytes(), &gray);
    assert_eq!(a.outcome, Outcome::Accept);
    assert!(!a.sender_verified);
}

#[test]
fn deeply_nested_html_is_handled_quickly() {
    let html = format!("{}Deep text{}", "<div>".repeat(50_000), "</div>".repeat(50_000));
    let raw = head(&format!("Content-Type: text/html\r\n\r\n{html}"));
    let t = Instant::now();
    let a = analyse_unguarded(raw.as_bytes(), &Verdicts::default(), &Limits::default());
    assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());
    assert_eq!(a.outcome, Outcome::Accept);
}

#[test]
fn cut_and_garbled_fixtures_never_panic() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/email");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
        let p = entry.path();
        if p.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = std::fs::read(&p).expect("read");
        let step = (raw.len() / 40).max(1);
        for cut in (0..raw.len()).step_by(step) {
            let _ = analyse_unguarded(&raw[..cut], &Verdicts::default(), &Limits::default());
            let mut flipped = raw.clone();
            flipped[cut] ^= 0x80;
            let _ = analyse_unguarded(&flipped, &Verdicts::default(), &Limits::default());
            n += 2;
        }
    }
    assert!(n > 100);
    for junk in [
        &b""[..],
        b"\r\n\r\n",
        b"From:",
        b"From: <>\r\n\r\n",
        b"\xff\xfe\x00",
        b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
    ] {
        let _ = analyse_unguarded(junk, &Verdicts::default(), &Limits::default());
    }
}

#[test]
fn a_pasted_screenshot_is_an_image_not_text() {
    // Fixture 40 is small enough to be a fuzz seed; this is the case at full
    // size: a single-line HTML body whose data: image alone is over the 2 MB text limit.
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n".iter().copied().chain((0..1_800_000u32).map(|i| (i * 7 % 251) as u8)).collect();
    let b64 = base64_encode(&png);
    let html =
        format!("<p>Aim: fewer missed doses.</p><p><img src=\"data:image/png;base64,{b64}\"></p><p>Results: half as many.</p>");
    assert!(html.len() > 2 * 1024 * 1024);
    let raw = head(&format!("Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"));
    let a = analyse(raw.as_bytes(), &Verdicts::default());
    assert_eq!((a.outcome, a.reason), (Outcome::Accept, None));
    assert_eq!(a.sections.aim.as_deref(), Some("fewer missed doses."));
    assert!(!a.body.contains("base64"));
    assert_eq!(a.attachments.len(), 1);
    assert_eq!(a.attachments[0].filename, "pasted-image-1.png");
    assert_eq!(a.attachments[0].bytes, png);
    // Text itself over the limit is still refused.
    let words = "All work and no play. ".repeat(100_000);
    let raw = head(&format!("Content-Type: text/html; charset=utf-8\r\n\r\n<p>{words}</p>\r\n"));
    assert_eq!(analyse(raw.as_bytes(), &Verdicts::default()).reason, Some("body_too_large"));
}

fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() / 3 * 4 + 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if i <= c.len() { A[(n >> shift) as usize & 63] as char } else { '=' });
        }
    }
    out
}

/// Found by `scripts/fuzz-ingest`: a nested message whose header holds a run of
/// bare CRs reaches a `debug_assert!` inside mail-parser 0.11 (compiled out of
/// release builds). `analyse` must still answer, never panic: in builds with debug
/// assertions it rejects the message as unreadable.
#[test]
fn a_panic_inside_the_mail_parser_is_a_rejection_not_a_crash() {
    let raw = include_bytes!("fuzz-found/mail-parser-nested-bare-cr.eml");
    let a = analyse(raw, &Verdicts::default());
    if cfg!(debug_assertions) {
        assert_eq!((a.outcome, a.reason), (Outcome::Reject, Some("unreadable")));
    }
}
