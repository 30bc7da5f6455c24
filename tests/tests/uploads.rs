//! Uploads are scanned by what their bytes are, not the type declared: text of
//! any declared type, the text inside DOCX, XLSX and PPTX, and PDF text. The
//! fixtures are built here, each with and without the NHS's published example
//! number, so that the only difference between held and ready is the number.

use std::io::Write as _;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use qnet_tests::{Answer, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NUMBER: &str = "943 476 5919";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in parts {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const TYPES: &[u8] =
    br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;

/// Word splits one sentence into runs; the number is split across two of them.
fn docx(with_number: bool) -> Vec<u8> {
    let (a, b) = if with_number { ("Patient 943 ", "476 5919 was seen.") } else { ("Falls fell ", "by 20% in 12 weeks.") };
    let xml = format!(
        r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Our audit</w:t></w:r></w:p><w:p><w:r><w:t xml:space="preserve">{a}</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>{b}</w:t></w:r></w:p></w:body></w:document>"#
    );
    zip_of(&[("[Content_Types].xml", TYPES), ("word/document.xml", xml.as_bytes())])
}

fn xlsx(with_number: bool) -> Vec<u8> {
    let cell = if with_number { NUMBER } else { "ward 7" };
    let strings = format!(r#"<?xml version="1.0"?><sst xmlns="s"><si><t>date</t></si><si><t>{cell}</t></si></sst>"#);
    let sheet = r#"<?xml version="1.0"?><worksheet xmlns="s"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2"><v>943</v></c><c r="B2"><v>4765919</v></c></row></sheetData></worksheet>"#;
    zip_of(&[
        ("[Content_Types].xml", TYPES),
        ("xl/sharedStrings.xml", strings.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

fn pptx(with_number: bool) -> Vec<u8> {
    let text = if with_number { format!("Case: {NUMBER}") } else { "Run chart: 6 points above the median".into() };
    let slide = format!(
        r#"<?xml version="1.0"?><p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
    );
    zip_of(&[("[Content_Types].xml", TYPES), ("ppt/slides/slide1.xml", slide.as_bytes())])
}

/// A one-page PDF with `text` in its (compressed) content stream.
fn pdf(text: &str) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier"});
    let resources_id = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => font_id}});
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ],
    };
    let mut stream = Stream::new(dictionary! {}, content.encode().unwrap());
    stream.compress().unwrap();
    let content_id = doc.add_object(stream);
    let page_id = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => content_id});
    let pages = dictionary! {
        "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog_id = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A resource with `bytes` uploaded as its file, declared as `content_type`;
/// answers the resource as its author sees it once the check has run.
async fn uploaded(t: &TestApp, token: &str, name: &str, content_type: &str, bytes: Vec<u8>) -> Answer {
    let r = t
        .post("/resources", Some(token), json!({"title": "Audit data", "description": "Our falls audit.", "kind": "dataset"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let declaration = json!({"filename": name, "content_type": content_type, "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))});
    let declared = t.post(&format!("/resources/{id}/file"), Some(token), declaration).await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.text);
    let mut put = t.client.put(declared.body["upload_url"].as_str().unwrap()).body(bytes);
    for (k, v) in declared.body["upload_headers"].as_object().unwrap() {
        if k != "content-length" {
            put = put.header(k, v.as_str().unwrap());
        }
    }
    assert_eq!(put.send().await.unwrap().status(), StatusCode::OK);
    t.get(&format!("/resources/{id}"), Some(token)).await
}

fn assert_held_for_the_number(r: &Answer, name: &str) {
    assert_eq!(r.body["file"]["status"], "rejected", "{name}: {}", r.text);
    let reason = r.body["hold"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with(&format!("Attachment {name}")) && reason.contains("NHS number"), "{name}: {}", r.text);
}

fn assert_ready(r: &Answer, name: &str) {
    assert_eq!(r.body["file"]["status"], "ready", "{name}: {}", r.text);
    assert_eq!(r.body["hold"], Value::Null, "{name}: {}", r.text);
}

async fn author(t: &TestApp) -> String {
    t.organisation("Bradford District Care", &["bdct.nhs.uk"]).await;
    t.token("sam.patel@bdct.nhs.uk", &[]).await
}

#[tokio::test]
async fn office_files_are_read_and_held_only_with_the_number() {
    let t = spawn_app().await;
    let sam = author(&t).await;
    for (name, kind, make) in
        [("audit.docx", DOCX, docx as fn(bool) -> Vec<u8>), ("audit.xlsx", XLSX, xlsx), ("audit.pptx", PPTX, pptx)]
    {
        assert_held_for_the_number(&uploaded(&t, &sam, name, kind, make(true)).await, name);
        assert_ready(&uploaded(&t, &sam, name, kind, make(false)).await, name);
        // Declared as anything at all, the bytes decide.
        assert_held_for_the_number(&uploaded(&t, &sam, name, "application/octet-stream", make(true)).await, name);
    }
}

#[tokio::test]
async fn pdf_text_is_read_and_an_unreadable_pdf_is_held_for_a_moderator() {
    let t = spawn_app().await;
    let sam = author(&t).await;
    assert_held_for_the_number(
        &uploaded(&t, &sam, "audit.pdf", "application/pdf", pdf(&format!("Patient {NUMBER}"))).await,
        "audit.pdf",
    );
    assert_ready(&uploaded(&t, &sam, "audit.pdf", "application/pdf", pdf("Falls per 1,000 bed days")).await, "audit.pdf");

    let broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n%%EOF\x00\x01\x02".to_vec();
    let held = uploaded(&t, &sam, "broken.pdf", "application/pdf", broken).await;
    assert_eq!(held.body["file"]["status"], "ready", "{}", held.text);
    let reason = held.body["hold"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("could not be checked for patient data") && reason.contains("moderator"), "{}", held.text);
}

#[tokio::test]
async fn a_csv_declared_as_octet_stream_is_read_as_text() {
    let t = spawn_app().await;
    let sam = author(&t).await;
    let csv = format!("date,nhs_number\n2026-01-01,{NUMBER}\n").into_bytes();
    assert_held_for_the_number(&uploaded(&t, &sam, "audit.csv", "application/octet-stream", csv).await, "audit.csv");
    let utf16: Vec<u8> = format!("date,ref\n2026-01-01,{NUMBER}\n").encode_utf16().flat_map(|w| w.to_le_bytes()).collect();
    assert_held_for_the_number(&uploaded(&t, &sam, "audit.csv", "application/octet-stream", utf16).await, "audit.csv");
    let clean = b"date,falls\n2026-01-01,4\n2026-01-08,3\n".to_vec();
    assert_ready(&uploaded(&t, &sam, "audit.csv", "application/octet-stream", clean).await, "audit.csv");
}

#[tokio::test]
async fn a_zip_bomb_is_refused_without_being_inflated() {
    let t = spawn_app().await;
    let sam = author(&t).await;
    // 8 MB of zeros packs to a few kilobytes: far past 100:1.
    let bomb = zip_of(&[("[Content_Types].xml", TYPES), ("word/document.xml", &vec![0u8; 8 * 1024 * 1024])]);
    assert!(bomb.len() < 100_000);
    let started = std::time::Instant::now();
    let r = uploaded(&t, &sam, "bomb.docx", DOCX, bomb).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(r.body["file"]["status"], "rejected", "{}", r.text);
    let reason = r.body["file"]["rejection_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("compressed archive") && reason.contains("100:1"), "{}", r.text);
}
