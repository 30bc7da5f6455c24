//! Every Lambda entry point, fed a real event shape from `tests/fixtures/events/`
//! (API Gateway HTTP API v2 with and without the JWT authorizer, Cognito
//! pre-sign-up, S3 ObjectCreated, the EventBridge Scheduler inputs of the digest
//! planner, the mentoring pass, the coffee round, the engagement pass and the event reminders, SQS digest jobs, SES bounces
//! and complaints over SNS), through the same handler the binary runs.

use std::sync::Arc;

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreSignup;
use aws_lambda_events::event::s3::S3Event;
use qnet_api::{Authenticator, CognitoVerifier};
use qnet_app::uploads::CheckOutcome;
use qnet_domain::Role;
use qnet_tests::spawn_app;
use serde_json::{Value, json};
use tower::ServiceExt;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture exists")
}

/// The router as the Lambda builds it: Cognito verification for bearer tokens
/// (never reached here: these requests carry authorizer claims or no token).
fn lambda_router(app: qnet_app::App) -> axum::Router {
    let auth = Authenticator::Cognito(CognitoVerifier::new(
        "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Example1".into(),
        "5example0client0id0abcde".into(),
    ));
    qnet_api::router(app, Arc::new(auth))
}

async fn call(router: axum::Router, event: &str) -> (u16, http::HeaderMap, Value) {
    let req = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let resp = router.oneshot(req).await.expect("the router answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_gateway_authorizer_claims_reach_the_handlers() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let router = lambda_router(t.app.clone());

    let (status, headers, me) = call(router.clone(), &fixture("apigw-v2-get-me.json")).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], "8f2c1d3e-0000-4000-8000-1234567890ab");
    assert_eq!(me["email"], "jo.bloggs@leedsth.nhs.uk");
    assert_eq!(me["organisation_id"], org.as_str());
    // The API Gateway request id is the log and response request id.
    assert_eq!(headers["x-request-id"], "JnIxYhAoLPEEJbA=");

    let (status, headers, cs) = call(router.clone(), &fixture("apigw-v2-post-case-study.json")).await;
    assert_eq!(status, 201, "{cs}");
    assert!(headers["location"].to_str().unwrap().starts_with("/case-studies/"));
    assert_eq!(cs["submitted_by"]["name"], "Jo Bloggs");
    // A retried event (same Idempotency-Key) creates nothing new.
    let (status, _, again) = call(router.clone(), &fixture("apigw-v2-post-case-study.json")).await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], cs["id"]);

    // "[moderator]" in the claims makes the caller a moderator.
    let id = cs["id"].as_str().unwrap();
    let mut publish: Value = serde_json::from_str(&fixture("apigw-v2-get-me.json")).unwrap();
    publish["rawPath"] = json!(format!("/case-studies/{id}/publish"));
    publish["requestContext"]["http"]["method"] = json!("POST");
    publish["requestContext"]["http"]["path"] = publish["rawPath"].clone();
    publish["headers"]["if-match"] = json!(format!("\"{}\"", cs["version"]));
    let (status, _, published) = call(router.clone(), &publish.to_string()).await;
    assert_eq!(status, 200, "{published}");
    // Without the moderator group the same request is refused.
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = json!("[]");
    let (status, _, _) = call(router.clone(), &publish.to_string()).await;
    assert_eq!(status, 403);
    // An unverified email, or an access token (no email), is no identity at all.
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["email_verified"] = json!("false");
    assert_eq!(call(router.clone(), &publish.to_string()).await.0, 401);
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["email_verified"] = json!("true");
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["token_use"] = json!("access");
    assert_eq!(call(router.clone(), &publish.to_string()).await.0, 401);

    let (status, _, list) = call(router, &fixture("apigw-v2-list-case-studies-anonymous.json")).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], cs["id"]);
}

#[tokio::test]
async fn pre_signup_admits_known_domains_only() {
    let t = spawn_app().await;
    let event: CognitoEventUserPoolsPreSignup = serde_json::from_str(&fixture("cognito-pre-signup.json")).unwrap();
    let refused = qnet_pre_signup::handle(&t.app, event.clone()).await.unwrap_err();
    assert!(refused.to_string().contains("work email"));
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let admitted = qnet_pre_signup::handle(&t.app, event).await.unwrap();
    assert_eq!(admitted.request.user_attributes["email"], "jo.bloggs@leedsth.nhs.uk");
}

/// An operator's `AdminCreateUser` (`qnet admin invite-admin`) is admitted on an
/// empty system, where no organisation lists the address's domain; a sign-up by
/// the person themselves with the same address is still refused.
#[tokio::test]
async fn pre_signup_admits_accounts_an_operator_creates_on_an_empty_system() {
    let t = spawn_app().await;
    let event: CognitoEventUserPoolsPreSignup =
        serde_json::from_str(&fixture("cognito-pre-signup-admin-create-user.json")).unwrap();
    let admitted = qnet_pre_signup::handle(&t.app, event.clone()).await.expect("an operator's account is admitted");
    assert_eq!(admitted, event, "answered unchanged, as Cognito expects");
    let mut self_sign_up = event;
    self_sign_up.cognito_event_user_pools_header.trigger_source =
        Some(aws_lambda_events::event::cognito::CognitoEventUserPoolsPreSignupTriggerSource::SignUp);
    assert!(qnet_pre_signup::handle(&t.app, self_sign_up).await.is_err(), "self sign-up still needs a known domain");
}

#[tokio::test]
async fn attachment_check_marks_uploads_from_the_s3_event() {
    use sha2::{Digest, Sha256};
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo@leedsth.nhs.uk", &[Role::Member]).await;
    let cs = t.submit(&member, json!({"title": "t", "body": "b"})).await;
    let cs_id = cs["id"].as_str().unwrap();
    let bytes = b"Week,Falls\n1,4\n2,3\n3,2\n".to_vec();
    let declared = t
        .post(&format!("/case-studies/{cs_id}/attachments"), Some(&member), json!({"filename": "falls.csv", "content_type": "text/csv", "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))}))
        .await;
    let att_id = declared.body["attachment"]["id"].as_str().unwrap();
    // The bytes land in the store the way S3 would hold them, then the event arrives.
    let key = format!("uploads/{cs_id}/{att_id}");
    t.app.blobs.put(&key, bytes, "text/csv").await.unwrap();
    let raw = fixture("s3-object-created.json").replace("__CASE_STUDY__", cs_id).replace("__ATTACHMENT__", att_id);
    let event: S3Event = serde_json::from_str(&raw).unwrap();
    assert_eq!(qnet_attachment_check::handle(&t.app, event.clone()).await.unwrap(), vec![CheckOutcome::Ready]);
    // S3 delivers at least once: the retry does nothing.
    assert_eq!(qnet_attachment_check::handle(&t.app, event).await.unwrap(), vec![CheckOutcome::Ignored("already checked")]);
    let view = t.get(&format!("/case-studies/{cs_id}"), Some(&member)).await;
    assert_eq!(view.body["attachments"][0]["status"], "ready");
    assert!(t.app.blobs.head(&format!("attachments/{cs_id}/{att_id}")).await.unwrap().is_some());
    assert!(t.app.blobs.head(&key).await.unwrap().is_none(), "the upload is removed once checked");
}

// ---------------------------------------------------------------------------
// Digests and SES events: EventBridge Scheduler → digest-planner → SQS →
// digest-sender; SES → SNS → ses-events. Each handler gets its fixture on the
// embedded store, with a clock the test sets (the fixtures name fixed weeks).
// ---------------------------------------------------------------------------

mod digests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use aws_lambda_events::event::sns::SnsEvent;
    use aws_lambda_events::event::sqs::SqsEvent;
    use qnet_app::config::{DigestSenderConfig, Reader, vars};
    use qnet_app::digest::{Digest, DigestJob, MemoryQueue};
    use qnet_app::suppression::SuppressionReason;
    use qnet_app::{App, Claims};
    use qnet_domain::Role;
    use qnet_domain::member::MemberPatch;
    use qnet_ports::{Clock, MailError, MailSender, OutgoingMail};
    use serde_json::{Value, json};
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::fixture;

    /// Members named by the fixtures (`sqs-digest-jobs.json`, the SES events).
    const JO: (&str, &str, &str) = ("8f2c1d3e-0000-4000-8000-1234567890ab", "jo.bloggs@leedsth.nhs.uk", "Jo Bloggs");
    const SAM: (&str, &str, &str) = ("3b9e7a51-2c4d-4f6e-9a8b-0c1d2e3f4a5b", "sam.jones@nhs.net", "Sam Jones");
    /// The garbage record of `sqs-digest-jobs.json`.
    const NOT_A_JOB: &str = "c0a8e1f4-6b2d-4e97-8a13-5d9f7b2c6e40";
    /// Every record of `sqs-digest-jobs.json`, in order.
    const ALL_RECORDS: [&str; 3] = ["5f3b7c2e-9d41-4a8e-b6f0-2c7d1e9a4b83", NOT_A_JOB, "9e4d2a6b-1f83-4c5e-a7d9-3b8c0f6e2a17"];

    struct TestClock(Mutex<OffsetDateTime>);

    impl Clock for TestClock {
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().unwrap()
        }
    }

    impl TestClock {
        fn set(&self, t: OffsetDateTime) {
            *self.0.lock().unwrap() = t;
        }
    }

    /// An application on a fresh embedded store in a temp dir, its clock at `now`.
    fn app_at(now: OffsetDateTime) -> (App, Arc<TestClock>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(TestClock(Mutex::new(now)));
        let records = qnet_embedded::EmbeddedRecordStore::open(dir.path()).unwrap();
        let blobs = qnet_embedded::EmbeddedBlobStore::open(dir.path(), [7u8; 32], "http://127.0.0.1:9".into()).unwrap();
        // App::new binds both stores to the clock.
        (App::new(Arc::new(records), Arc::new(blobs), clock.clone()), clock, dir)
    }

    fn claims((sub, email, name): (&str, &str, &str), roles: &[Role]) -> Claims {
        Claims::new(sub.into(), email.into(), name.into(), roles.to_vec())
    }

    /// Jo and Sam on the weekly digest (the default), one monthly member and one
    /// who chose none; with `content`, a case study published on Wednesday 4
    /// March 2026 (week 10, the fixtures' issue).
    async fn seed(app: &App, clock: &TestClock, content: bool) {
        clock.set(datetime!(2026-03-04 10:00 UTC));
        let admin = claims(("admin-1", "admin@qnet.test", "Admin"), &[Role::Admin]);
        app.create_organisation(
            &admin,
            qnet_domain::organisation::OrganisationInput::parse(
                &json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "email_domains": ["leedsth.nhs.uk"]}),
                true,
            )
            .unwrap(),
            None,
        )
        .await
        .unwrap();
        let jo = claims(JO, &[]);
        app.member(&jo).await.unwrap();
        app.member(&claims(SAM, &[])).await.unwrap();
        for (who, cadence) in [(("m-monthly", "pat@nhs.net", "Pat"), "monthly"), (("m-off", "lee@nhs.net", "Lee"), "off")] {
            let c = claims(who, &[]);
            app.member(&c).await.unwrap();
            app.update_member(&c, MemberPatch::parse(&json!({"digest": {"cadence": cadence}})).unwrap(), None).await.unwrap();
        }
        if content {
            let created = app
                .create_case_study(&jo, &json!({"title": "Fewer falls on ward 7", "body": "Three PDSA cycles on night-time checks.", "topics": ["flow"]}), None)
                .await
                .unwrap();
            let id = created.view()["id"].as_str().unwrap().to_string();
            let moderator = claims(("mod-1", "mod@qnet.test", "Mo"), &[Role::Moderator]);
            app.publish_case_study(&moderator, &id, created.view()["version"].as_u64()).await.unwrap();
        }
    }

    /// A mail sender that records what it is given, or throttles.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<OutgoingMail>>,
        throttled: AtomicBool,
    }

    #[async_trait::async_trait]
    impl MailSender for Recorder {
        async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
            if self.throttled.load(Ordering::SeqCst) {
                return Err(MailError::Throttled("Maximum sending rate exceeded.".into()));
            }
            let mut sent = self.sent.lock().unwrap();
            sent.push(mail.clone());
            Ok(format!("0102018e-{:04}", sent.len()))
        }
    }

    impl Recorder {
        /// Recipients of every message sent so far, in order.
        fn recipients(&self) -> Vec<String> {
            self.sent.lock().unwrap().iter().flat_map(|m| m.to.clone()).collect()
        }
    }

    /// The sender's digest, configured the way the deployed function reads it.
    fn sender_digest() -> Digest {
        let env: BTreeMap<String, String> = [
            (vars::TABLE_NAME, "qnet-Table"),
            (vars::DIGEST_FROM, "digest@qnet.example.nhs.uk"),
            (vars::WEB_BASE_URL, "https://qnet.example.nhs.uk"),
            (vars::PUBLIC_API_URL, "https://a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com"),
            (vars::INBOUND_DOMAIN, "qnet.example.nhs.uk"),
            (vars::SES_CONFIGURATION_SET, "qnet-mail"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Digest::new(DigestSenderConfig::read(Reader::from_map(&env)).unwrap().settings)
    }

    fn failures(r: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
        r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
    }

    #[tokio::test]
    async fn digest_planner_queues_one_job_per_weekly_member() {
        let (app, clock, _dir) = app_at(datetime!(2026-03-04 10:00 UTC));
        seed(&app, &clock, false).await;
        // The schedule's input names the moment: the clock (a week later) is not used.
        clock.set(datetime!(2026-03-16 07:00 UTC));
        let event: Value = serde_json::from_str(&fixture("eventbridge-scheduler-digest.json")).unwrap();
        let queue = MemoryQueue::default();
        let report = qnet_digest_planner::handle(&app, &Digest::planner(), &queue, event.clone()).await.unwrap();
        assert_eq!(report.issues, ["weekly-2026-W10"], "Monday 9 March: last week's issue only");
        assert_eq!(report.due, 2);
        let jobs: Vec<DigestJob> = queue.take().iter().map(|b| serde_json::from_str(b).unwrap()).collect();
        let members: BTreeSet<&str> = jobs.iter().map(|j| j.member_id.as_str()).collect();
        assert_eq!(members, BTreeSet::from([JO.0, SAM.0]));
        assert!(jobs.iter().all(|j| j.issue_id == "weekly-2026-W10"));

        // Without `now` the clock decides; a `now` that is no time is refused.
        let report = qnet_digest_planner::handle(&app, &Digest::planner(), &queue, json!({})).await.unwrap();
        assert_eq!(report.issues, ["weekly-2026-W11"]);
        let mut bad = event;
        bad["now"] = json!("<aws.scheduler.scheduled-time>");
        assert!(qnet_digest_planner::handle(&app, &Digest::planner(), &queue, bad).await.is_err());
    }

    #[tokio::test]
    async fn digest_sender_sends_each_job_once_and_reports_only_the_bad_record() {
        let (app, clock, _dir) = app_at(datetime!(2026-03-04 10:00 UTC));
        seed(&app, &clock, true).await;
        clock.set(datetime!(2026-03-09 07:00:05 UTC));
        let event: SqsEvent = serde_json::from_str(&fixture("sqs-digest-jobs.json")).unwrap();
        let (digest, mailer) = (sender_digest(), Recorder::default());

        let response = qnet_digest_sender::handle(&app, &digest, &mailer, event.clone()).await;
        assert_eq!(failures(&response), [NOT_A_JOB]);
        assert_eq!(mailer.recipients(), [JO.1, SAM.1]);
        let raw = String::from_utf8_lossy(&mailer.sent.lock().unwrap()[0].raw).to_string();
        assert!(raw.contains("Fewer falls on ward 7"), "the digest lists the week's case study");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));

        // SQS delivers at least once: the same batch again sends nothing more.
        let response = qnet_digest_sender::handle(&app, &digest, &mailer, event).await;
        assert_eq!(failures(&response), [NOT_A_JOB]);
        assert_eq!(mailer.sent.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn digest_sender_returns_throttled_jobs_to_the_queue_and_sends_them_once_later() {
        let (app, clock, _dir) = app_at(datetime!(2026-03-04 10:00 UTC));
        seed(&app, &clock, true).await;
        clock.set(datetime!(2026-03-09 07:00:05 UTC));
        let event: SqsEvent = serde_json::from_str(&fixture("sqs-digest-jobs.json")).unwrap();
        let (digest, mailer) = (sender_digest(), Recorder::default());

        mailer.throttled.store(true, Ordering::SeqCst);
        let response = qnet_digest_sender::handle(&app, &digest, &mailer, event.clone()).await;
        assert_eq!(failures(&response), ALL_RECORDS, "throttled jobs go back on the queue");
        assert!(mailer.recipients().is_empty());

        // The redelivery (after the visibility timeout) sends each digest once.
        mailer.throttled.store(false, Ordering::SeqCst);
        clock.set(datetime!(2026-03-09 07:06:05 UTC));
        let response = qnet_digest_sender::handle(&app, &digest, &mailer, event.clone()).await;
        assert_eq!(failures(&response), [NOT_A_JOB]);
        assert_eq!(mailer.recipients(), [JO.1, SAM.1]);
        let response = qnet_digest_sender::handle(&app, &digest, &mailer, event).await;
        assert_eq!(failures(&response), [NOT_A_JOB]);
        assert_eq!(mailer.recipients(), [JO.1, SAM.1]);
    }

    #[tokio::test]
    async fn ses_events_suppress_hard_bounces_and_complaints_only() {
        let (app, _clock, _dir) = app_at(datetime!(2026-03-09 07:00:05 UTC));
        let bounce = fixture("sns-ses-bounce.json");
        let complaint = fixture("sns-ses-complaint.json");
        for f in [&bounce, &complaint] {
            serde_json::from_str::<SnsEvent>(f).expect("a real SNS Lambda event");
        }

        // A transient bounce (mailbox full) suppresses nothing.
        let mut transient: Value = serde_json::from_str(&bounce).unwrap();
        let mut message: Value = serde_json::from_str(transient["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
        message["bounce"]["bounceType"] = json!("Transient");
        message["bounce"]["bounceSubType"] = json!("MailboxFull");
        transient["Records"][0]["Sns"]["Message"] = json!(message.to_string());
        let report = qnet_ses_events::handle(&app, transient).await.unwrap();
        assert_eq!((report.suppressed, report.ignored), (0, 1));
        assert!(app.suppression(JO.1).await.unwrap().is_none());

        // A permanent bounce does, and its redelivery changes nothing.
        for _ in 0..2 {
            let report = qnet_ses_events::handle(&app, serde_json::from_str(&bounce).unwrap()).await.unwrap();
            assert_eq!(report.suppressed, 1);
        }
        let s = app.suppression(JO.1).await.unwrap().expect("a hard bounce suppresses the address");
        assert_eq!(s.reason, SuppressionReason::HardBounce);
        assert_eq!(s.detail.as_deref(), Some("Permanent/General"));

        // So does a complaint.
        assert!(app.suppression(SAM.1).await.unwrap().is_none());
        let report = qnet_ses_events::handle(&app, serde_json::from_str(&complaint).unwrap()).await.unwrap();
        assert_eq!(report.suppressed, 1);
        let s = app.suppression(SAM.1).await.unwrap().expect("a complaint suppresses the address");
        assert_eq!(s.reason, SuppressionReason::Complaint);
        assert_eq!(s.detail.as_deref(), Some("abuse"));

        // A message that is no SES notification fails the invocation (Lambda retries it,
        // then keeps it in the dead-letter queue).
        let mut broken: Value = serde_json::from_str(&bounce).unwrap();
        broken["Records"][0]["Sns"]["Message"] = json!("Hello from SNS!");
        assert!(qnet_ses_events::handle(&app, broken).await.is_err());
    }
}

/// The mentoring pass and the coffee round, from their EventBridge Scheduler
/// inputs, on an app whose clock is fixed (records are made through the same
/// use cases the API calls).
mod schedules {

    use qnet_app::Claims;
    use qnet_domain::member::MemberPatch;
    use qnet_domain::mentoring::{MentorInput, RequestInput};
    use qnet_embedded::Outbox;
    use qnet_tests::spawn_app;
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::fixture;

    fn claims(who: &str) -> Claims {
        Claims::new(format!("m-{who}"), who.to_string(), who.split('@').next().unwrap().into(), vec![])
    }

    fn outbox_to(dir: &std::path::Path, email: &str) -> Vec<String> {
        let o = Outbox::open(dir).unwrap();
        o.list()
            .unwrap()
            .iter()
            .map(|e| String::from_utf8(o.read(&e.file_name).unwrap()).unwrap().replace("=\r\n", ""))
            .filter(|m| m.contains(&format!("<{email}>")))
            .collect()
    }

    #[tokio::test]
    async fn a_new_request_on_the_stream_is_proposed_when_the_api_could_not() {
        let t = spawn_app().await;
        t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
        let app = t.app.clone();
        // No mentor yet: the request path proposes nobody and the request stays open.
        let request = json!({"kind": "mentoring", "topics": ["flow"], "goals": "Faster discharge"});
        let created = app
            .create_mentoring_request(&claims("bob@bradford.gov.uk"), RequestInput::parse(&request).unwrap(), None, &t.base)
            .await
            .unwrap();
        assert!(created.view()["proposal"].is_null(), "{}", created.view());
        let id = created.view()["id"].as_str().unwrap().to_string();
        let profile = json!({"offers": ["mentoring"], "topics": ["flow"], "capacity": 1, "accepting": true});
        app.put_mentor_profile(&claims("ann@leedsth.nhs.uk"), MentorInput::parse(&profile).unwrap()).await.unwrap();
        // The stream event, for this request.
        let mut event: Value = serde_json::from_str(&fixture("dynamodb-stream-mentoring-request.json")).unwrap();
        event["Records"][0]["dynamodb"]["Keys"]["PK"]["S"] = json!(format!("MREQ#{id}"));
        assert_eq!(qnet_mentoring::new_requests(&event), Some(vec![id.clone()]));
        qnet_mentoring::handle(&app, "https://api.qnet.example", event.clone()).await.unwrap();
        assert_eq!(outbox_to(&t.data_dir, "ann@leedsth.nhs.uk").len(), 1, "the mentor is offered the request");
        // Redelivered: the request is no longer open, nothing more happens.
        qnet_mentoring::handle(&app, "https://api.qnet.example", event).await.unwrap();
        assert_eq!(outbox_to(&t.data_dir, "ann@leedsth.nhs.uk").len(), 1);
        let schedule: Value = serde_json::from_str(&fixture("eventbridge-scheduler-mentoring.json")).unwrap();
        assert_eq!(qnet_mentoring::new_requests(&schedule), None, "a schedule event is not a stream event");
    }

    #[tokio::test]
    async fn the_mentoring_pass_expires_lapsed_offers_and_proposes_the_next_mentor() {
        let t = spawn_app().await;
        t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
        let app = t.app.at(datetime!(2026-11-23 09:00 UTC));
        let profile = json!({"offers": ["mentoring"], "topics": ["flow"], "capacity": 1, "accepting": true});
        app.put_mentor_profile(&claims("ann@leedsth.nhs.uk"), MentorInput::parse(&profile).unwrap()).await.unwrap();
        let request = json!({"kind": "mentoring", "topics": ["flow"], "goals": "Faster discharge"});
        let created = app
            .create_mentoring_request(&claims("bob@bradford.gov.uk"), RequestInput::parse(&request).unwrap(), None, &t.base)
            .await
            .unwrap();
        assert_eq!(created.view()["proposal"]["mentor_id"], "m-ann@leedsth.nhs.uk");
        assert_eq!(created.view()["proposal"]["expires_at"], "2026-11-30T09:00:00.000Z", "seven days by default");
        app.put_mentor_profile(&claims("dan@leedsth.nhs.uk"), MentorInput::parse(&profile).unwrap()).await.unwrap();

        // The schedule's `now` (2 December) is past the offer's expiry: Bob's request
        // goes to Dan, and Dan's offer links point at the public API.
        let event: Value = serde_json::from_str(&fixture("eventbridge-scheduler-mentoring.json")).unwrap();
        let report = qnet_mentoring::handle(&app, "https://api.qnet.example", event.clone()).await.unwrap();
        assert_eq!(report.assignments.len(), 1, "{report:?}");
        assert_eq!(report.assignments[0].mentor_id, "m-dan@leedsth.nhs.uk");
        let offers = outbox_to(&t.data_dir, "dan@leedsth.nhs.uk");
        assert_eq!(offers.len(), 1);
        assert!(offers[0].contains("https://api.qnet.example/mentoring/offers/"));
        // Again: the live proposal stays, nothing more is sent.
        let again = qnet_mentoring::handle(&app, "https://api.qnet.example", event.clone()).await.unwrap();
        assert!(again.assignments.is_empty() && again.unmatched.is_empty(), "{again:?}");
        assert_eq!(outbox_to(&t.data_dir, "dan@leedsth.nhs.uk").len(), 1);

        let mut bad = event;
        bad["now"] = json!("<aws.scheduler.scheduled-time>");
        assert!(qnet_mentoring::handle(&app, "https://api.qnet.example", bad).await.is_err());
    }

    #[tokio::test]
    async fn the_coffee_round_pairs_the_week_once() {
        let t = spawn_app().await;
        t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
        let app = t.app.at(datetime!(2026-11-27 09:00 UTC));
        for who in ["ann@leedsth.nhs.uk", "bob@bradford.gov.uk"] {
            app.update_member(&claims(who), MemberPatch::parse(&json!({"coffee": {"opt_in": true}})).unwrap(), None)
                .await
                .unwrap();
        }
        let event: Value = serde_json::from_str(&fixture("eventbridge-scheduler-coffee.json")).unwrap();
        let round = qnet_coffee_round::handle(&app, event.clone()).await.unwrap();
        assert_eq!(round.round, "2026-W49", "the week holding the schedule's now, not the clock's");
        assert_eq!(round.pairs, [["m-ann@leedsth.nhs.uk", "m-bob@bradford.gov.uk"]]);
        assert_eq!(outbox_to(&t.data_dir, "ann@leedsth.nhs.uk").len(), 1);
        let again = qnet_coffee_round::handle(&app, event).await.unwrap();
        assert_eq!((again.pairs, again.sent), (round.pairs, 0));
        assert_eq!(outbox_to(&t.data_dir, "bob@bradford.gov.uk").len(), 1, "a retried run sends nothing twice");
    }

    #[tokio::test]
    async fn the_engagement_pass_nudges_once_a_week() {
        let t = spawn_app().await;
        t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        // Ann joined the Wednesday before the fixture's Monday and turned the digest off.
        let app = t.app.at(datetime!(2026-11-25 10:00 UTC));
        let ann = claims("ann@leedsth.nhs.uk");
        app.update_member(&ann, MemberPatch::parse(&json!({"digest": {"cadence": "off"}})).unwrap(), None).await.unwrap();
        let event: Value = serde_json::from_str(&fixture("eventbridge-scheduler-engagement.json")).unwrap();
        let report = qnet_engagement::handle(&app, event.clone()).await.unwrap();
        assert_eq!(report.day, "2026-11-30", "the schedule's now, not the clock's");
        assert_eq!(report.nudge_week.as_deref(), Some("weekly-2026-W48"));
        assert_eq!(report.nudges_sent, 1, "{report:?}");
        let sent = outbox_to(&t.data_dir, "ann@leedsth.nhs.uk");
        assert_eq!(sent.len(), 1);
        assert!(sent[0].contains("Your week in Qnet") && sent[0].contains("Welcome to Qnet"), "{}", sent[0]);
        let again = qnet_engagement::handle(&app, event.clone()).await.unwrap();
        assert_eq!((again.nudges_sent, again.already_sent), (0, 1), "{again:?}");
        assert_eq!(outbox_to(&t.data_dir, "ann@leedsth.nhs.uk").len(), 1, "a retried run sends nothing twice");

        let mut bad = event;
        bad["now"] = json!("<aws.scheduler.scheduled-time>");
        assert!(qnet_engagement::handle(&app, bad).await.is_err());
    }
}

/// The search indexer, from a real DynamoDB stream event: it rebuilds the index
/// from the table and stores a snapshot, which the API loads on its first
/// search and swaps in when a newer one appears.
mod search_indexer {
    use std::time::Duration;

    use qnet_app::search::{IndexQuery, TextSearch};
    use qnet_tests::spawn_app;
    use serde_json::{Value, json};

    async fn publish(t: &qnet_tests::TestApp, author: &str, title: &str) {
        let cs = t
            .submit(
                author,
                json!({"title": title, "body": "Screening for frailty on arrival.", "topics": ["patient-safety"],
                "sections": {"aim": "Screen everyone", "results": "Everyone screened."}}),
            )
            .await;
        assert_eq!(t.publish(cs["id"].as_str().unwrap()).await.status, reqwest::StatusCode::OK);
    }

    fn count(index: &dyn TextSearch, text: &str) -> usize {
        index.search(&IndexQuery { text: text.into(), limit: 20, ..Default::default() }).unwrap().1
    }

    #[tokio::test]
    async fn the_stream_rebuilds_the_snapshot_and_the_api_loads_the_newest() {
        let t = spawn_app().await;
        t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        let author = t.token("author@leedsth.nhs.uk", &[]).await;
        publish(&t, &author, "Frailty screening").await;
        let event: Value = serde_json::from_str(&super::fixture("dynamodb-stream-case-study.json")).unwrap();
        assert_eq!(qnet_search_indexer::changed_records(&event), 2);
        let work = tempfile::tempdir().unwrap();
        // The indexer runs without a local index of its own.
        let indexer_app = qnet_app::App::new(t.app.records.clone(), t.app.blobs.clone(), t.app.clock().clone());
        let first = qnet_search_indexer::handle(&indexer_app, work.path(), event.clone()).await.unwrap();
        assert_eq!(first.documents, 1);
        let api = qnet_search::startup_index(&indexer_app, &work.path().join("api")).await.unwrap();
        assert_eq!(api.source().as_deref(), Some(first.key.as_str()));
        assert_eq!(count(api.as_ref(), "frialty"), 1);
        // A newer snapshot replaces the one in use; the same one does not reload.
        assert!(qnet_search::load_latest(&indexer_app, work.path(), Some(&first.key)).await.unwrap().is_none());
        publish(&t, &author, "Frailty in the community").await;
        let second = qnet_search_indexer::handle(&indexer_app, work.path(), event).await.unwrap();
        assert_eq!(second.documents, 2);
        let (key, fresh) = qnet_search::load_latest(&indexer_app, work.path(), api.source().as_deref()).await.unwrap().unwrap();
        assert_eq!(key, second.key);
        api.swap(fresh, key);
        assert_eq!(count(api.as_ref(), "frailty"), 2);
    }

    /// The API as its Lambda runs it: no index during init or for other
    /// routes; the first `GET /search` loads the newest snapshot.
    #[tokio::test]
    async fn the_api_loads_its_index_on_the_first_search() {
        let t = spawn_app().await;
        t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        let author = t.token("author@leedsth.nhs.uk", &[]).await;
        publish(&t, &author, "Frailty screening").await;
        let event: Value = serde_json::from_str(&super::fixture("dynamodb-stream-case-study.json")).unwrap();
        let work = tempfile::tempdir().unwrap();
        let lambda_app = qnet_app::App::new(t.app.records.clone(), t.app.blobs.clone(), t.app.clock().clone());
        let published = qnet_search_indexer::handle(&lambda_app, work.path(), event).await.unwrap();
        let search = qnet_search::LazySearch::new(&lambda_app, work.path().join("api"), Duration::from_secs(3600));
        let index = search.index();
        let api =
            t.serving_with(lambda_app.with_search(index.clone()), |router| qnet_api::with_search_loaded(router, search)).await;

        let listed = api.client.get(format!("{}/case-studies", api.base)).send().await.unwrap();
        assert_eq!(listed.status(), reqwest::StatusCode::OK);
        assert!(!index.is_loaded(), "only a search loads the index");

        let found = api.client.get(format!("{}/search?q=frialty", api.base)).send().await.unwrap();
        assert_eq!(found.status(), reqwest::StatusCode::OK);
        let found: Value = found.json().await.unwrap();
        assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{found}");
        assert_eq!(index.source().as_deref(), Some(published.key.as_str()));
    }

    /// Before the indexer's first snapshot, the first search builds the index
    /// from the table.
    #[tokio::test]
    async fn with_no_snapshot_the_first_search_builds_the_index_from_the_table() {
        let t = spawn_app().await;
        t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        let author = t.token("author@leedsth.nhs.uk", &[]).await;
        publish(&t, &author, "Frailty screening").await;
        let work = tempfile::tempdir().unwrap();
        let lambda_app = qnet_app::App::new(t.app.records.clone(), t.app.blobs.clone(), t.app.clock().clone());
        let search = qnet_search::LazySearch::new(&lambda_app, work.path().to_path_buf(), Duration::from_secs(3600));
        let index = search.index();
        assert!(index.search(&IndexQuery { text: "frailty".into(), limit: 20, ..Default::default() }).is_err());
        search.ensure_loaded().await;
        assert_eq!(count(index.as_ref(), "frailty"), 1);
        assert_eq!(index.source(), None, "built here, not loaded from a snapshot");
    }
}

/// The day-before event reminders, from their EventBridge Scheduler input: the
/// schedule's `now` (not the clock) decides which day is tomorrow.
mod event_reminders {

    use qnet_app::Claims;
    use qnet_domain::Role;
    use qnet_embedded::Outbox;
    use qnet_tests::spawn_app;
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::fixture;

    fn reminders_to(dir: &std::path::Path, email: &str) -> usize {
        let o = Outbox::open(dir).unwrap();
        o.list()
            .unwrap()
            .iter()
            .map(|e| String::from_utf8(o.read(&e.file_name).unwrap()).unwrap())
            .filter(|m| m.contains(&format!("<{email}>")) && m.contains("Subject: Tomorrow: "))
            .count()
    }

    #[tokio::test]
    async fn the_schedule_reminds_tomorrows_events_once() {
        let t = spawn_app().await;
        let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
        let app = t.app.at(datetime!(2026-11-20 09:00 UTC));
        let organiser = Claims::new("m-olu".into(), "olu@leedsth.nhs.uk".into(), "Olu".into(), vec![Role::Organiser]);
        let ann = Claims::new("m-ann".into(), "ann@leedsth.nhs.uk".into(), "Ann".into(), vec![]);
        let body = json!({"kind": "training", "title": "Run charts", "description": "Bring your data.",
            "starts_at": "2026-12-01T10:00:00Z", "ends_at": "2026-12-01T12:00:00Z", "online_url": "https://meet.example.nhs.uk/qi",
            "capacity": 10, "host_organisation_id": org});
        let created = app.create_event(&organiser, &body, None).await.unwrap();
        app.book(&ann, created.view()["id"].as_str().unwrap(), &t.base).await.unwrap();

        // The fixture's `now` is Monday 30 November 2026, 09:00 London: tomorrow is 1 December.
        let event: Value = serde_json::from_str(&fixture("eventbridge-scheduler-event-reminders.json")).unwrap();
        let report = qnet_event_reminders::handle(&app, event.clone()).await.unwrap();
        assert_eq!((report.date.as_str(), report.events, report.sent), ("2026-12-01", 1, 1), "{report:?}");
        assert_eq!(reminders_to(&t.data_dir, "ann@leedsth.nhs.uk"), 1);
        // A retried invocation sends nothing twice.
        let again = qnet_event_reminders::handle(&app, event.clone()).await.unwrap();
        assert_eq!((again.sent, again.skipped["already_sent"]), (0, 1), "{again:?}");
        assert_eq!(reminders_to(&t.data_dir, "ann@leedsth.nhs.uk"), 1);

        let mut bad = event;
        bad["now"] = json!("<aws.scheduler.scheduled-time>");
        assert!(qnet_event_reminders::handle(&app, bad).await.is_err());
    }
}
