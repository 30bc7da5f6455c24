//! Digest newsletters end to end on the embedded store: preferences by HTTP,
//! published case studies in, digests in the outbox, one-click unsubscribe by
//! HTTP and by email, suppression, and every failure the issue names (template,
//! SES throttle and refusal, store, queue, bad address) injected through the
//! ports: retried or reported, never lost, never sent twice.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use qnet_app::App;
use qnet_app::digest::{Digest, DigestJob, DigestRunReport, DigestSettings, JobOutcome};
use qnet_app::suppression::{SesNotice, SesNoticeKind};
use qnet_embedded::Outbox;
use qnet_ports::{
    Condition, Item, JobQueue, MailError, MailSender, OutgoingMail, Page, Query, QueueError, RecordStore, StoreError, Write,
};
use qnet_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

/// A week after now: the weekly issue due then covers the week that holds now.
fn next_week() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::days(7)
}

fn settings(t: &TestApp) -> DigestSettings {
    DigestSettings {
        from: "digest@qnet.test".into(),
        web_base_url: "https://qnet.example.nhs.uk".into(),
        api_base_url: t.base.clone(),
        inbound_domain: "qnet.test".into(),
        max_per_second: None,
    }
}

fn case_study(title: &str, topics: &[&str]) -> Value {
    json!({"title": title, "body": "We tested hourly rounding over six PDSA cycles.", "topics": topics,
           "sections": {"aim": "Halve falls by March", "results": "Falls fell from 12 to 5 a month."}})
}

/// An organisation, members who have signed in, and two published case studies.
async fn network() -> (TestApp, Vec<String>) {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let author = t.token("author@leedsth.nhs.uk", &[]).await;
    for (title, topics) in [("Fewer falls on ward 5", vec!["patient-safety"]), ("Discharge before noon", vec!["flow"])] {
        let cs = t.submit(&author, case_study(title, &topics)).await;
        assert_eq!(t.publish(cs["id"].as_str().unwrap()).await.status, StatusCode::OK);
    }
    let mut tokens = vec![];
    for who in ["ann", "bob", "cat"] {
        let tok = t.token(&format!("{who}@leedsth.nhs.uk"), &[]).await;
        assert_eq!(t.get("/me", Some(&tok)).await.status, StatusCode::OK);
        tokens.push(tok);
    }
    (t, tokens)
}

fn outbox(t: &TestApp) -> Vec<String> {
    let o = Outbox::open(&t.data_dir).unwrap();
    o.list().unwrap().iter().map(|e| String::from_utf8(o.read(&e.file_name).unwrap()).unwrap()).collect()
}

fn digests(t: &TestApp) -> Vec<String> {
    outbox(t).into_iter().filter(|m| m.contains("List-Id: Qnet digest")).collect()
}

/// A header's value, unfolded.
fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\r\n\r\n").next().unwrap_or(mail).replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(String::from))
}

fn token_of(mail: &str) -> String {
    let h = header(mail, "List-Unsubscribe").expect("a List-Unsubscribe header");
    let start = h.find("/unsubscribe/").unwrap() + "/unsubscribe/".len();
    h[start..].split('>').next().unwrap().to_string()
}

async fn run(t: &TestApp, digest: &Digest, mailer: &dyn MailSender) -> DigestRunReport {
    digest.run_local(&t.app, mailer, next_week(), false).await.unwrap()
}

fn local_outbox(t: &TestApp) -> Outbox {
    Outbox::open(&t.data_dir).unwrap()
}

#[tokio::test]
async fn members_get_one_digest_per_issue_with_one_click_unsubscribe() {
    let (t, tokens) = network().await;
    // Ann wants only patient flow; Bob switches to monthly; Cat keeps the default.
    let me = t.get("/me", Some(&tokens[0])).await;
    assert_eq!(me.body["digest"], json!({"cadence": "weekly", "topics": []}), "new members start weekly");
    let a = t.patch("/me", &tokens[0], me.body["version"].as_u64().unwrap(), json!({"digest": {"topics": ["flow"]}})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let me = t.get("/me", Some(&tokens[1])).await;
    t.patch("/me", &tokens[1], me.body["version"].as_u64().unwrap(), json!({"digest": {"cadence": "monthly"}})).await;

    let digest = Digest::new(settings(&t));
    let ob = local_outbox(&t);
    let first = run(&t, &digest, &ob).await;
    assert_eq!(first.issues.len(), if first.issues.iter().any(|i| i.starts_with("monthly")) { 2 } else { 1 });
    assert!(first.issues[0].starts_with("weekly-"), "{:?}", first.issues);
    let k = &first.skipped;
    assert_eq!(first.due, first.sent + k.no_content + k.unsubscribed + k.suppressed + k.already_sent + first.failed);
    assert_eq!(first.failed, 0, "{:?}", first.failures);
    let mails = digests(&t);
    assert_eq!(mails.len(), first.sent);
    let ann = mails.iter().find(|m| m.contains("To: \"ann\" <ann@leedsth.nhs.uk>")).expect("ann's digest");
    assert!(ann.contains("Discharge before noon") && !ann.contains("Fewer falls"), "only ann's topic");
    let subject = header(ann, "Subject").unwrap();
    let subject = subject.as_str();
    assert!(subject.starts_with("Qnet digest, ") || subject.starts_with("=?utf-8?"), "{subject}");
    assert!(ann.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(header(ann, "List-Unsubscribe").unwrap().contains("mailto:unsubscribe+"));
    assert!(ann.contains("Auto-Submitted: auto-generated"));
    let cat = mails.iter().find(|m| m.contains("cat@leedsth.nhs.uk")).expect("cat's digest");
    assert!(cat.contains("Fewer falls on ward 5") && cat.contains("Discharge before noon"));
    assert!(cat.contains("https://qnet.example.nhs.uk/case-studies/"), "items link to the web front end");
    assert!(cat.contains("text/plain") && cat.contains("text/html"));

    // The same period again sends nothing.
    let again = run(&t, &digest, &ob).await;
    assert_eq!(again.sent, 0);
    assert_eq!(again.skipped.already_sent, first.sent);
    assert_eq!(digests(&t).len(), first.sent);

    // The unsubscribe page changes nothing; the POST does, once; a bad token is refused.
    let token = token_of(cat);
    let page = t.get(&format!("/unsubscribe/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("<form method=\"post\"") && page.text.contains("List-Unsubscribe"));
    assert!(t.get("/me", Some(&tokens[2])).await.body["digest"].get("unsubscribed_at").is_none(), "a GET changes nothing");
    let post = t
        .client
        .post(format!("{}/unsubscribe/{token}", t.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);
    assert!(t.get("/me", Some(&tokens[2])).await.body["digest"]["unsubscribed_at"].is_string());
    let form = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let again = t.client.post(format!("{}/unsubscribe/{token}", t.base)).multipart(form).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "a second POST is harmless");
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "nonsense", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let a = t.client.post(format!("{}/unsubscribe/{bad}", t.base)).body("List-Unsubscribe=One-Click").send().await.unwrap();
        assert_eq!(a.status(), StatusCode::BAD_REQUEST);
        assert!(a.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(t.get(&format!("/unsubscribe/{bad}"), None).await.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(outbox(&t).iter().filter(|m| m.contains(&token)).count(), 1, "a token is only in its member's own email");

    // Cat is now counted as unsubscribed; choosing a cadence again resubscribes.
    t.app
        .records
        .delete(
            &format!("MEMBER#{}", member_id(&t, "cat@leedsth.nhs.uk").await),
            &format!("DIGEST#{}", first.issues[0]),
            Condition::None,
        )
        .await
        .unwrap();
    let later = run(&t, &digest, &ob).await;
    assert_eq!(later.skipped.unsubscribed, 1 + first.skipped.unsubscribed);
    let me = t.get("/me", Some(&tokens[2])).await;
    let a = t.patch("/me", &tokens[2], me.body["version"].as_u64().unwrap(), json!({"digest": {"cadence": "weekly"}})).await;
    assert!(a.body["digest"].get("unsubscribed_at").is_none(), "{}", a.text);
    let back = run(&t, &digest, &ob).await;
    assert_eq!(back.sent, 1, "cat is back: {back:?}");
}

async fn member_id(t: &TestApp, email: &str) -> String {
    t.app.member_id_for_email(email).await.unwrap().unwrap()
}

#[tokio::test]
async fn patch_me_refuses_bad_digest_preferences_and_changes_nothing() {
    let (t, tokens) = network().await;
    let me = t.get("/me", Some(&tokens[0])).await;
    let v = me.body["version"].as_u64().unwrap();
    let a = t.patch("/me", &tokens[0], v, json!({"digest": {"cadence": "daily", "topics": ["astrology"], "colour": 1}})).await;
    a.assert_problem(422);
    let fields = a.problem_fields();
    for f in ["digest.cadence", "digest.topics", "digest.colour"] {
        assert!(fields.iter().any(|x| x.starts_with(f)), "{f} in {fields:?}");
    }
    t.patch("/me", &tokens[0], v, json!({"digest": "weekly"})).await.assert_problem(422);
    assert_eq!(t.get("/me", Some(&tokens[0])).await.body["version"].as_u64(), Some(v));
}

#[tokio::test]
async fn the_preview_shows_the_next_digest_and_records_nothing() {
    let (t, tokens) = network().await;
    t.get("/me/digest/preview", None).await.assert_problem(401);
    let a = t.get("/me/digest/preview", Some(&tokens[0])).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.header("content-type").unwrap().starts_with("text/html"));
    assert!(a.text.contains("Fewer falls on ward 5") && a.text.contains("Preview"), "{}", a.text);
    assert!(a.text.contains("max-width:600px"));
    let digest = Digest::new(settings(&t));
    let report = run(&t, &digest, &local_outbox(&t)).await;
    assert_eq!(report.skipped.already_sent, 0, "the preview claimed nothing");
}

#[tokio::test]
async fn a_mailed_unsubscribe_unsubscribes_through_the_inbound_path() {
    let (t, tokens) = network().await;
    let ob = local_outbox(&t);
    run(&t, &Digest::new(settings(&t)), &ob).await;
    let mail = digests(&t).into_iter().find(|m| m.contains("ann@leedsth.nhs.uk")).unwrap();
    let token = token_of(&mail);
    let raw = format!(
        "From: ann <ann@leedsth.nhs.uk>\r\nTo: unsubscribe+{}@qnet.test\r\nSubject: unsubscribe\r\nMessage-ID: <u1@leedsth.nhs.uk>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n\r\n\r\n",
        token.to_ascii_lowercase()
    );
    let inbound = qnet_app::ingest::Inbound::local(raw.into_bytes(), qnet_mail::Verdicts::default());
    let opts = qnet_app::ingest::IngestOptions { dry_run: false, mail_from: "case-studies@qnet.test".into() };
    let report = t.app.ingest(&inbound, &opts, &ob).await.unwrap();
    assert_eq!(report.reason.as_deref(), Some("unsubscribed"), "{report:?}");
    assert!(t.get("/me", Some(&tokens[0])).await.body["digest"]["unsubscribed_at"].is_string());
}

#[tokio::test]
async fn bounces_and_complaints_stop_every_email_to_the_address() {
    let (t, tokens) = network().await;
    let notices = qnet_app::suppression::parse_ses_notifications(&json!({"eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": "ann@leedsth.nhs.uk"}]},
        "mail": {"messageId": "m"}}))
    .unwrap();
    let r = t.app.apply_ses_notices(&notices).await.unwrap();
    assert_eq!(r.suppressed, 1);
    t.app
        .apply_ses_notices(&[SesNotice { kind: SesNoticeKind::Complaint, email: "bob@leedsth.nhs.uk".into(), detail: None }])
        .await
        .unwrap();
    t.app
        .apply_ses_notices(&[SesNotice { kind: SesNoticeKind::SoftBounce, email: "cat@leedsth.nhs.uk".into(), detail: None }])
        .await
        .unwrap();
    assert_eq!(t.get("/me", Some(&tokens[0])).await.body["email_suppressed"]["reason"], "hard_bounce");
    assert!(t.get("/me", Some(&tokens[2])).await.body["email_suppressed"].is_null(), "a soft bounce suppresses nothing");
    let report = run(&t, &Digest::new(settings(&t)), &local_outbox(&t)).await;
    assert_eq!(report.skipped.suppressed, 2, "{report:?}");
    assert!(digests(&t).iter().all(|m| !m.contains("ann@") && !m.contains("bob@")));
    // Not only the digest: any email goes through the same check.
    let mail =
        OutgoingMail { from: "x@qnet.test".into(), to: vec!["ann@leedsth.nhs.uk".into()], raw: b"Subject: x\r\n\r\nx".to_vec() };
    let d = t.app.deliver(&local_outbox(&t), &mail).await.unwrap();
    assert!(matches!(d, qnet_app::suppression::Delivery::Suppressed(_)));
}

/// A mail service that fails as told, and counts what it accepted.
#[derive(Default)]
struct FlakyMailer {
    throttle: AtomicBool,
    refuse: AtomicBool,
    sent: Mutex<Vec<OutgoingMail>>,
}

#[async_trait::async_trait]
impl MailSender for FlakyMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        if self.throttle.load(Ordering::SeqCst) {
            return Err(MailError::Throttled("Maximum sending rate exceeded".into()));
        }
        if self.refuse.load(Ordering::SeqCst) {
            return Err(MailError::Refused("Email address is not verified".into()));
        }
        self.sent.lock().unwrap().push(mail.clone());
        Ok(format!("m{}", self.sent.lock().unwrap().len()))
    }
}

impl FlakyMailer {
    fn count_to(&self, email: &str) -> usize {
        self.sent.lock().unwrap().iter().filter(|m| m.to.iter().any(|t| t == email)).count()
    }
}

#[tokio::test]
async fn a_throttled_digest_is_retried_and_sent_exactly_once() {
    let (t, _) = network().await;
    let digest = Digest::new(settings(&t));
    let mailer = FlakyMailer::default();
    mailer.throttle.store(true, Ordering::SeqCst);
    let r = run(&t, &digest, &mailer).await;
    assert_eq!(r.sent, 0);
    assert!(r.failed > 0 && r.failures.iter().all(|f| f.reason.contains("will be retried")), "{r:?}");
    mailer.throttle.store(false, Ordering::SeqCst);
    let r2 = run(&t, &digest, &mailer).await;
    assert_eq!(r2.sent, r.failed, "every throttled digest goes on the retry");
    let r3 = run(&t, &digest, &mailer).await;
    assert_eq!(r3.sent, 0);
    assert_eq!(mailer.count_to("cat@leedsth.nhs.uk"), 1);
}

#[tokio::test]
async fn a_refused_digest_is_reported_and_never_resent() {
    let (t, _) = network().await;
    let digest = Digest::new(settings(&t));
    let mailer = FlakyMailer::default();
    mailer.refuse.store(true, Ordering::SeqCst);
    let r = run(&t, &digest, &mailer).await;
    assert!(r.failed > 0 && r.failures.iter().all(|f| f.reason.contains("refused")), "{r:?}");
    mailer.refuse.store(false, Ordering::SeqCst);
    let r2 = run(&t, &digest, &mailer).await;
    assert_eq!(r2.sent, 0, "a refusal needs a person, not a resend");
    assert_eq!(r2.failed, r.failed);
    assert_eq!(mailer.sent.lock().unwrap().len(), 0);
}

#[tokio::test]
async fn a_template_that_fails_to_render_loses_nothing() {
    let (t, _) = network().await;
    let mut broken = tera::Tera::new();
    broken.add_raw_templates([("email/digest.txt.tera", "{{ missing_variable }}"), ("email/digest.html.tera", "x")]).unwrap();
    let mailer = FlakyMailer::default();
    let r = run(&t, &Digest::new(settings(&t)).with_templates(broken), &mailer).await;
    assert!(r.failed > 0 && r.failures.iter().all(|f| f.reason.contains("did not render")), "{r:?}");
    assert_eq!(mailer.sent.lock().unwrap().len(), 0);
    let fixed = run(&t, &Digest::new(settings(&t)), &mailer).await;
    assert_eq!(fixed.sent, r.failed, "nothing was claimed, so the fixed template sends every one");
}

#[tokio::test]
async fn a_member_without_a_valid_address_is_reported() {
    let (t, _) = network().await;
    let id = member_id(&t, "cat@leedsth.nhs.uk").await;
    let (pk, sk) = (format!("MEMBER#{id}"), "PROFILE".to_string());
    let mut item = t.app.records.get(&pk, &sk).await.unwrap().unwrap();
    item.data["email"] = json!("not-an-address");
    t.app.records.put(item, Condition::None).await.unwrap();
    let mailer = FlakyMailer::default();
    let r = run(&t, &Digest::new(settings(&t)), &mailer).await;
    let f: Vec<_> = r.failures.iter().filter(|f| f.member_id == id).collect();
    assert_eq!(f.len(), 1, "{r:?}");
    assert!(f[0].reason.contains("no valid email address"));
}

/// A record store that fails as told: every transaction, or the write that
/// records a digest as sent.
struct FlakyStore {
    inner: Arc<dyn RecordStore>,
    fail_transactions: Arc<AtomicBool>,
    fail_sent_marks: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl RecordStore for FlakyStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        if self.fail_sent_marks.load(Ordering::SeqCst) && item.sk.starts_with("DIGEST#") {
            return Err(StoreError::Unavailable("injected: the table is unavailable".into()));
        }
        self.inner.put(item, condition).await
    }
    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(pk, sk, condition).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if self.fail_transactions.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected: the table is unavailable".into()));
        }
        self.inner.transact(writes).await
    }
    fn at_clock(&self, clock: Arc<dyn qnet_ports::Clock>) -> Arc<dyn RecordStore> {
        Arc::new(FlakyStore {
            inner: self.inner.at_clock(clock),
            fail_transactions: self.fail_transactions.clone(),
            fail_sent_marks: self.fail_sent_marks.clone(),
        })
    }
}

fn flaky(t: &TestApp) -> (App, Arc<FlakyStore>) {
    let store = Arc::new(FlakyStore {
        inner: t.app.records.clone(),
        fail_transactions: Arc::new(AtomicBool::new(false)),
        fail_sent_marks: Arc::new(AtomicBool::new(false)),
    });
    let app = App::new(store.clone(), t.app.blobs.clone(), t.app.clock().clone());
    (app, store)
}

#[tokio::test]
async fn store_failures_never_lose_or_duplicate_a_digest() {
    let (t, _) = network().await;
    let (app, store) = flaky(&t);
    let digest = Digest::new(settings(&t));
    let mailer = FlakyMailer::default();
    // The claim cannot be written: nothing is sent, and the next run sends.
    store.fail_transactions.store(true, Ordering::SeqCst);
    let r = digest.run_local(&app, &mailer, next_week(), false).await.unwrap();
    assert!(r.failed > 0 && r.sent == 0, "{r:?}");
    assert_eq!(mailer.sent.lock().unwrap().len(), 0);
    store.fail_transactions.store(false, Ordering::SeqCst);
    // Sent, but the store fails as it records that: a retry does not send again.
    store.fail_sent_marks.store(true, Ordering::SeqCst);
    let r2 = digest.run_local(&app, &mailer, next_week(), false).await.unwrap();
    assert_eq!(r2.sent, r.failed);
    store.fail_sent_marks.store(false, Ordering::SeqCst);
    let r3 = digest.run_local(&app, &mailer, next_week(), false).await.unwrap();
    assert_eq!(r3.sent, 0);
    assert_eq!(r3.skipped.already_sent, r2.sent);
    assert_eq!(mailer.count_to("ann@leedsth.nhs.uk"), 1);
}

/// A queue that fails the first `failures` calls.
struct FlakyQueue {
    failures: AtomicUsize,
    bodies: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl JobQueue for FlakyQueue {
    async fn enqueue(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(QueueError::Unavailable("injected: SQS is unavailable".into()));
        }
        self.bodies.lock().unwrap().extend(bodies);
        Ok(())
    }
}

#[tokio::test]
async fn a_queue_failure_fails_the_planner_and_a_replanned_duplicate_sends_once() {
    let (t, _) = network().await;
    let digest = Digest::new(settings(&t));
    let queue = FlakyQueue { failures: AtomicUsize::new(1), bodies: Mutex::new(vec![]) };
    assert!(digest.plan(&t.app, next_week(), &queue).await.is_err(), "the planner reports the failure (the schedule retries)");
    let plan = digest.plan(&t.app, next_week(), &queue).await.unwrap();
    digest.plan(&t.app, next_week(), &queue).await.unwrap();
    let bodies = queue.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), plan.due * 2, "a re-run enqueues again");
    let mailer = FlakyMailer::default();
    let mut outcomes = vec![];
    for b in &bodies {
        let job: DigestJob = serde_json::from_str(b).unwrap();
        outcomes.push(digest.process(&t.app, &mailer, &job, false).await.unwrap().0);
    }
    let sent = outcomes.iter().filter(|o| **o == JobOutcome::Sent).count();
    assert_eq!(sent, mailer.sent.lock().unwrap().len());
    assert_eq!(mailer.count_to("cat@leedsth.nhs.uk"), 1, "duplicate jobs send once");
    assert_eq!(outcomes.iter().filter(|o| **o == JobOutcome::AlreadySent).count(), sent);
}

#[tokio::test]
async fn concurrent_senders_of_the_same_job_send_once() {
    let (t, _) = network().await;
    let digest = Arc::new(Digest::new(settings(&t)));
    let mailer = Arc::new(FlakyMailer::default());
    let id = member_id(&t, "cat@leedsth.nhs.uk").await;
    let issue = qnet_domain::digest::issues_due(next_week())[0].id.clone();
    let job = DigestJob { issue_id: issue, member_id: id };
    let mut handles = vec![];
    for _ in 0..8 {
        let (d, m, j, app) = (digest.clone(), mailer.clone(), job.clone(), t.app.clone());
        handles.push(tokio::spawn(async move { d.process(&app, m.as_ref(), &j, false).await.unwrap().0 }));
    }
    let mut outcomes = vec![];
    for h in handles {
        outcomes.push(h.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| **o == JobOutcome::Sent).count(), 1, "{outcomes:?}");
    assert_eq!(mailer.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_member_lifts_their_suppression_by_confirming_the_address() {
    let (t, tokens) = network().await;
    // Not suppressed: nothing to confirm.
    t.post("/me/email/confirm", Some(&tokens[0]), Value::Null).await.assert_problem(409);
    t.post("/me/email/confirm", None, Value::Null).await.assert_problem(401);
    t.app
        .apply_ses_notices(&[SesNotice { kind: SesNoticeKind::HardBounce, email: "ann@leedsth.nhs.uk".into(), detail: None }])
        .await
        .unwrap();
    let a = t.post("/me/email/confirm", Some(&tokens[0]), Value::Null).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    assert_eq!(a.body["sent_to"], "ann@leedsth.nhs.uk");
    let mail = outbox(&t)
        .into_iter()
        .find(|m| m.contains("Confirm your email address"))
        .expect("the confirmation, despite the suppression");
    let flat = mail.replace("=\r\n", "");
    let start = flat.find("/email-confirmations/").unwrap() + "/email-confirmations/".len();
    let token: String =
        flat[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.').collect();
    // The page changes nothing; a changed token is refused; the POST lifts it.
    assert_eq!(t.get(&format!("/email-confirmations/{token}"), None).await.status, StatusCode::OK);
    assert!(t.app.suppression("ann@leedsth.nhs.uk").await.unwrap().is_some());
    let tampered = format!("{}x", &token);
    let bad = t.client.post(format!("{}/email-confirmations/{tampered}", t.base)).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(t.app.suppression("ann@leedsth.nhs.uk").await.unwrap().is_some(), "a bad link changes nothing");
    let ok = t.client.post(format!("{}/email-confirmations/{token}", t.base)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(t.app.suppression("ann@leedsth.nhs.uk").await.unwrap().is_none());
    assert!(t.get("/me", Some(&tokens[0])).await.body["email_suppressed"].is_null());
}
