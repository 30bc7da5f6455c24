//! Case studies by email, through the application's ingest step and the
//! SES-triggered function: record in the store, acknowledgement in the outbox,
//! and nothing twice.

use qnet_app::ingest::{Inbound, IngestOptions};
use qnet_domain::Role;
use qnet_email_ingest::SesEvent;
use qnet_embedded::Outbox;
use qnet_mail::{Verdict, Verdicts};
use qnet_tests::{TestApp, spawn_app};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn opts(dry_run: bool) -> IngestOptions {
    IngestOptions { dry_run, mail_from: "case-studies@qnet.test".into() }
}

async fn setup() -> (TestApp, Outbox, String) {
    let t = spawn_app().await;
    // Its staff use NHSmail too, as many trusts' do (decision 0003).
    let org = t.organisation("Leeds Teaching Hospitals NHS Trust", &["leedsth.nhs.uk", "nhs.net"]).await;
    let outbox = Outbox::open(&t.data_dir).unwrap();
    (t, outbox, org)
}

#[tokio::test]
async fn a_sender_gets_only_an_organisation_that_lists_their_domain() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals NHS Trust", &["leedsth.nhs.uk"]).await;
    t.organisation("Calderdale and Huddersfield NHS Foundation Trust", &["nhs.net"]).await;
    t.organisation("Bradford District Care NHS Foundation Trust", &["nhs.net"]).await;
    let outbox = Outbox::open(&t.data_dir).unwrap();
    // The display name names Leeds, which does not list nhs.net: it claims
    // nothing, and two organisations share nhs.net, so none is taken.
    let raw = fixture("email/01-outlook-nhsmail-disclaimer.eml");
    let report = t.app.ingest(&Inbound::local(raw, Verdicts::default()), &opts(false), &outbox).await.unwrap();
    assert_eq!(report.outcome, "accept", "{report:?}");
    assert_eq!(report.case_study.unwrap().organisation, None);
}

#[tokio::test]
async fn a_signature_names_an_organisation_only_if_it_lists_the_senders_domain() {
    // Fixture 41: adaeze.okafor@nhs.net signs as Northfield General Hospitals NHS
    // Foundation Trust; two other organisations share nhs.net, so the domain alone
    // decides nothing and the signature decides only when Northfield lists nhs.net.
    let raw = fixture("email/41-signature-nhsmail-after-sign-off.eml");
    for (northfield_domains, want) in [
        (&["northfield.example.nhs.uk"][..], None),
        (&["northfield.example.nhs.uk", "nhs.net"][..], Some("Northfield General Hospitals NHS Foundation Trust")),
    ] {
        let t = spawn_app().await;
        t.organisation("Northfield General Hospitals NHS Foundation Trust", northfield_domains).await;
        t.organisation("Bradford District Care NHS Foundation Trust", &["nhs.net"]).await;
        t.organisation("Calderdale and Huddersfield NHS Foundation Trust", &["nhs.net"]).await;
        let outbox = Outbox::open(&t.data_dir).unwrap();
        let report = t.app.ingest(&Inbound::local(raw.clone(), Verdicts::default()), &opts(false), &outbox).await.unwrap();
        assert_eq!(report.outcome, "accept", "{report:?}");
        let cs = report.case_study.unwrap();
        assert_eq!(cs.organisation.as_deref(), want, "with {northfield_domains:?}");
        assert_eq!(cs.submitted_by.job_title.as_deref(), Some("Lead Pharmacist - Medicines Safety"));
        assert!(!cs.body.contains("Many thanks") && !cs.body.contains("Bleep"), "{}", cs.body);
        let contact = cs.sections.contact.unwrap_or_default();
        assert!(!contact.contains("Many thanks") && !contact.contains("Pharmacist"), "{contact}");
        // The record keeps the job title beside the name.
        let (pk, sk) = qnet_app::keys::case_study(&cs.id);
        let stored = t.app.records.get(&pk, &sk).await.unwrap().expect("the case study is stored");
        assert_eq!(stored.data["submitted_by"]["job_title"], "Lead Pharmacist - Medicines Safety");
        // And moderators reviewing it read it beside the name.
        let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
        let seen = t.get(&format!("/case-studies/{}", cs.id), Some(&moderator)).await;
        assert_eq!(seen.body["submitted_by"]["job_title"], "Lead Pharmacist - Medicines Safety", "{}", seen.body);
    }
}

#[tokio::test]
async fn an_emailed_case_study_is_stored_and_acknowledged_once() {
    let (t, outbox, org) = setup().await;
    let raw = fixture("email/01-outlook-nhsmail-disclaimer.eml");
    let inbound = Inbound::local(raw.clone(), Verdicts::default());
    let report = t.app.ingest(&inbound, &opts(false), &outbox).await.unwrap();
    assert_eq!(report.outcome, "accept", "{report:?}");
    let cs = report.case_study.clone().unwrap();
    assert!(cs.sender_verified);
    assert_eq!(
        cs.organisation.as_deref(),
        Some("Leeds Teaching Hospitals NHS Trust"),
        "recognised from the NHSmail display name"
    );
    assert_eq!(cs.submitted_by.name.as_deref(), Some("Jane Smith"));

    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let stored = t.get(&format!("/case-studies/{}", cs.id), Some(&moderator)).await;
    assert_eq!(stored.body["status"], "pending");
    assert_eq!(stored.body["source"], "email");
    assert_eq!(stored.body["sender_verified"], true);
    assert_eq!(stored.body["organisation_id"], org.as_str());
    assert!(stored.body["sections"]["aim"].as_str().unwrap().contains("30%"));
    assert!(!stored.text.contains("intended recipient"), "the disclaimer is stripped");

    let sent = outbox.list().unwrap();
    assert_eq!(sent.len(), 1);
    let ack = String::from_utf8(outbox.read(&sent[0].file_name).unwrap()).unwrap();
    assert!(ack.contains("Auto-Submitted: auto-replied"));
    assert!(ack.contains("In-Reply-To: <DB9PR01MB7354A1B2C3D4E5F6@DB9PR01MB7354.eurprd01.prod.exchangelabs.com>"));
    assert!(
        ack.contains("To: \"Jane Smith\" <jane.smith12@nhs.net>") || ack.contains("To: Jane Smith <jane.smith12@nhs.net>"),
        "{ack}"
    );
    assert!(!ack.contains("intentional rounding"), "the acknowledgement never quotes the submission");

    // The same delivery again: the same case study, nothing new. What is remembered
    // of a delivery holds no text and no sender details.
    let again = t.app.ingest(&inbound, &opts(false), &outbox).await.unwrap();
    assert_eq!(again.outcome, "accept");
    assert_eq!(again.case_study.as_ref().unwrap().id, cs.id);
    assert!(again.case_study.as_ref().unwrap().body.is_empty());
    assert!(!serde_json::to_string(&again).unwrap().contains("jane.smith12"));
    assert_eq!(outbox.list().unwrap().len(), 1);
    assert_eq!(t.get("/moderation/case-studies", Some(&moderator)).await.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_reply_in_the_thread_adds_to_the_case_study() {
    let (t, outbox, _) = setup().await;
    let first = t
        .app
        .ingest(&Inbound::local(fixture("email/01-outlook-nhsmail-disclaimer.eml"), Verdicts::default()), &opts(false), &outbox)
        .await
        .unwrap();
    let id = first.case_study.unwrap().id;
    let ack = String::from_utf8(outbox.read(&outbox.list().unwrap()[0].file_name).unwrap()).unwrap();
    let ack_id = ack.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap().trim().to_string();
    let reply = format!(
        "From: \"SMITH, Jane (LEEDS TEACHING HOSPITALS NHS TRUST)\" <jane.smith12@nhs.net>\r\nTo: casestudies@qnet.example\r\n\
         Subject: RE: We have received your case study\r\nMessage-ID: <reply-1@nhs.net>\r\nIn-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\n\
         Date: Wed, 5 Mar 2025 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Measures: falls per 1,000 occupied bed days, checked weekly.\r\n\r\nJane\r\n"
    );
    let added = t.app.ingest(&Inbound::local(reply.into_bytes(), Verdicts::default()), &opts(false), &outbox).await.unwrap();
    assert_eq!(added.outcome, "accept", "{added:?}");
    assert_eq!(added.updates.as_deref(), Some(id.as_str()));
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let cs = t.get(&format!("/case-studies/{id}"), Some(&moderator)).await;
    assert_eq!(cs.body["version"], 2);
    assert!(cs.body["sections"]["measures"].as_str().unwrap().contains("falls per 1,000"), "{}", cs.text);
    assert!(cs.body["body"].as_str().unwrap().contains("Please find our case study below."), "the first text stays");
    assert_eq!(
        t.get("/moderation/case-studies", Some(&moderator)).await.body["items"].as_array().unwrap().len(),
        1,
        "no new case study"
    );
    assert_eq!(outbox.list().unwrap().len(), 2, "the reply is acknowledged too");

    // Once published, a reply no longer changes the public text: it becomes a new submission.
    assert_eq!(t.publish(&id).await.status.as_u16(), 200);
    let later = reply_to(&ack_id, "reply-2@nhs.net", "Results: falls halved by June.");
    let r = t.app.ingest(&Inbound::local(later.into_bytes(), Verdicts::default()), &opts(false), &outbox).await.unwrap();
    assert_eq!(r.updates, None);
    assert_ne!(r.case_study.unwrap().id, id);
    assert_eq!(t.get(&format!("/case-studies/{id}"), None).await.body["version"], 3);
}

fn reply_to(in_reply_to: &str, message_id: &str, text: &str) -> String {
    format!(
        "From: \"SMITH, Jane (LEEDS TEACHING HOSPITALS NHS TRUST)\" <jane.smith12@nhs.net>\r\nTo: casestudies@qnet.example\r\n\
         Subject: RE: We have received your case study\r\nMessage-ID: <{message_id}>\r\nIn-Reply-To: {in_reply_to}\r\n\
         Date: Wed, 5 Mar 2025 11:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    )
}

#[tokio::test]
async fn unverified_senders_are_held_apart() {
    let (t, outbox, _) = setup().await;
    // A member with the same address exists; an unauthenticated message must not be linked to them.
    let member = t.token("jane.smith12@nhs.net", &[]).await;
    assert_eq!(t.get("/me", Some(&member)).await.status.as_u16(), 200);
    let gray = Verdicts { spf: Verdict::Gray, dkim: Verdict::Gray, dmarc: Verdict::Gray, ..Verdicts::default() };
    let report = t
        .app
        .ingest(&Inbound::local(fixture("email/01-outlook-nhsmail-disclaimer.eml"), gray), &opts(false), &outbox)
        .await
        .unwrap();
    assert_eq!(report.outcome, "accept");
    assert!(!report.case_study.as_ref().unwrap().sender_verified);
    assert!(outbox.list().unwrap().is_empty(), "no acknowledgement to an unverified sender");
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let cs = t.get(&format!("/case-studies/{}", report.case_study.unwrap().id), Some(&moderator)).await;
    assert_eq!(cs.body["submitted_by"]["member_id"], Value::Null);
    assert_eq!(cs.body["sender_verified"], false);
    assert_eq!(t.get("/me/case-studies", Some(&member)).await.body["items"].as_array().unwrap().len(), 0);
    // A failing verdict rejects (another delivery: the same one would be answered as before).
    let fail = Verdicts { dmarc: Verdict::Fail, ..Verdicts::default() };
    let inbound =
        Inbound { delivery_id: "ses-2".into(), raw: fixture("email/01-outlook-nhsmail-disclaimer.eml"), verdicts: fail };
    let r = t.app.ingest(&inbound, &opts(false), &outbox).await.unwrap();
    assert_eq!(r.outcome, "reject");
    assert!(r.case_study.is_none());
}

#[tokio::test]
async fn a_dry_run_writes_and_sends_nothing() {
    let (t, outbox, _) = setup().await;
    let report = t
        .app
        .ingest(&Inbound::local(fixture("email/01-outlook-nhsmail-disclaimer.eml"), Verdicts::default()), &opts(true), &outbox)
        .await
        .unwrap();
    assert_eq!(report.outcome, "accept");
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    t.get(&format!("/case-studies/{}", report.case_study.unwrap().id), Some(&moderator)).await.assert_problem(404);
    assert!(outbox.list().unwrap().is_empty());
}

#[tokio::test]
async fn an_ses_event_without_from_is_read_and_its_message_rejected_not_retried() {
    let (t, outbox, _) = setup().await;
    // SES leaves commonHeaders.from out when the message has no From header.
    let event: SesEvent = serde_json::from_slice(&fixture("events/ses-receipt-no-from.json")).unwrap();
    assert_eq!(event.records[0].ses.mail.common_headers.from, None);
    let raw = fixture("email/37-ses-event-without-from.eml");
    t.app.blobs.put("raw-mail/k2q8c4v1n7b3x9m5z0a6s2d8f4g1h7j3l9p5r0t6", raw, "message/rfc822").await.unwrap();
    // Ok, not Err: an Err would make Lambda retry a message that can never succeed.
    let reports = qnet_email_ingest::handle(&t.app, &outbox, event, "raw-mail/", &opts(false)).await.unwrap();
    assert_eq!(reports[0].outcome, "reject");
    assert_eq!(reports[0].reason.as_deref(), Some("no_from"));
    assert!(reports[0].detail.as_deref().is_some_and(|d| d.contains("no usable From address")), "{:?}", reports[0].detail);
    assert!(reports[0].case_study.is_none());
    assert!(outbox.list().unwrap().is_empty(), "there is nobody to tell");
}

#[tokio::test]
async fn the_ses_function_reads_the_raw_message_and_is_idempotent() {
    let (t, outbox, _) = setup().await;
    let raw = fixture("email/01-outlook-nhsmail-disclaimer.eml");
    // A Lambda action after an S3 action: the key is the prefix plus the SES message id.
    t.app.blobs.put("raw-mail/o3vmf2c1k8p7q2l0e5t9u6bfr4gh3s1n0d8a7c01", raw, "message/rfc822").await.unwrap();
    let event: SesEvent = serde_json::from_slice(&fixture("events/ses-receipt-lambda-action.json")).unwrap();
    let reports = qnet_email_ingest::handle(&t.app, &outbox, event.clone(), "raw-mail/", &opts(false)).await.unwrap();
    assert_eq!(reports[0].outcome, "accept");
    let again = qnet_email_ingest::handle(&t.app, &outbox, event, "raw-mail/", &opts(false)).await.unwrap();
    assert_eq!(again[0].case_study.as_ref().unwrap().id, reports[0].case_study.as_ref().unwrap().id);
    assert_eq!(outbox.list().unwrap().len(), 1, "a retried SES event sends no second email");

    // An S3 action names the object itself; here SES judged the message spam.
    let spam: SesEvent = serde_json::from_slice(&fixture("events/ses-receipt-s3-action-spam.json")).unwrap();
    assert_eq!(
        qnet_email_ingest::raw_key(&spam.records[0], "elsewhere/").unwrap(),
        "raw-mail/o3vmf2c1k8p7q2l0e5t9u6bfr4gh3s1n0d8a7c01"
    );
    let r = qnet_email_ingest::handle(&t.app, &outbox, spam, "raw-mail/", &opts(true)).await.unwrap();
    assert_eq!(r[0].outcome, "reject");
    assert_eq!(r[0].reason.as_deref(), Some("spam"));
}
