//! Who may call what: one row per operation of the OpenAPI document the router
//! serves, one expected status per role, every cell sent over HTTP on the
//! embedded store. An operation without a row, or a row without an operation,
//! fails the test: a new route cannot ship without its access decided here.
//!
//! Each cell gets fresh people and fresh objects (the owner creates them just
//! before the request), so no cell's success changes another's expectation.
//! Path ids are real; bodies are minimal but valid; If-Match carries the
//! object's current ETag and every POST an Idempotency-Key. Expected answers:
//! 401 without a token where login is needed, 403 for a role that may not act,
//! 404 for an object the caller may not know exists, 2xx when allowed; a
//! 4xx other than these (409, 422) is what an allowed caller gets for the state
//! the fixture is in, and is noted beside the row.

use std::collections::BTreeSet;

use qnet_domain::Role;
use qnet_tests::{Answer, TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// The columns, in order.
const ROLES: [&str; 8] = ["anonymous", "member", "other-org", "owner", "team", "organiser", "moderator", "admin"];

/// `METHOD /path` → expected status for anonymous, member (same organisation
/// as the owner), member of another organisation, owner (the object's creator),
/// team member (projects; elsewhere a member like any other), organiser,
/// moderator, admin. The object a path names is created by the owner: a
/// case study or resource pending review, an event the owner (an organiser)
/// created, a project whose team holds the team member.
#[rustfmt::skip]
const TABLE: &[(&str, [u16; 8])] = &[
    //                                                   anon mem  oth  own  team org  mod  adm
    ("GET /health",                                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /topics",                                     [200, 200, 200, 200, 200, 200, 200, 200]),
    // Insights: any signed-in member.
    ("GET /insights",                                   [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /insights.csv",                               [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /openapi.json",                               [200, 200, 200, 200, 200, 200, 200, 200]),
    // Organisations: admins manage them.
    ("GET /organisations",                              [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /organisations",                             [401, 403, 403, 403, 403, 403, 403, 201]),
    // Roles: admins grant and revoke them (moderators included: 403).
    ("GET /admin/roles",                                [401, 403, 403, 403, 403, 403, 403, 200]),
    ("PUT /admin/roles",                                [401, 403, 403, 403, 403, 403, 403, 200]),
    ("DELETE /admin/roles",                             [401, 403, 403, 403, 403, 403, 403, 204]),
    ("PATCH /organisations/{id}",                       [401, 403, 403, 403, 403, 403, 403, 200]),
    // Admins hold every moderator power (`Claims::is_moderator`). Pending work is
    // seen by its submitter and moderators only: anyone else gets 404, even for
    // an action; the submitter, who may see it, gets 403 for moderators' actions.
    ("GET /case-studies",                               [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /case-studies",                              [401, 201, 201, 201, 201, 201, 201, 201]),
    ("GET /case-studies/template",                      [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /case-studies/{id}",                          [404, 404, 404, 200, 404, 404, 200, 200]),
    ("PATCH /case-studies/{id}",                        [401, 404, 404, 200, 404, 404, 200, 200]),
    ("POST /case-studies/{id}/publish",                 [401, 404, 404, 403, 404, 404, 200, 200]),
    ("POST /case-studies/{id}/reject",                  [401, 404, 404, 403, 404, 404, 200, 200]),
    ("POST /case-studies/{id}/release-hold",            [401, 404, 404, 403, 404, 404, 200, 200]),
    ("POST /case-studies/{id}/attachments",             [401, 404, 404, 201, 404, 404, 201, 201]),
    ("GET /case-studies/{id}/attachments/{attachment_id}", [404, 404, 404, 302, 404, 404, 302, 302]),
    // Adoptions ("We are trying this") are of a published case study someone
    // else wrote; the owner is who recorded the adoption.
    ("GET /case-studies/{id}/adoptions",                [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /case-studies/{id}/adoptions",               [401, 201, 201, 200, 201, 201, 201, 201]),
    ("DELETE /case-studies/{id}/adoptions/{member_id}", [401, 403, 403, 204, 403, 403, 204, 204]),
    ("POST /case-studies/{id}/adoptions/{member_id}/reports", [401, 202, 202, 202, 202, 202, 202, 202]),
    // Highlights (of a published case study) are moderators' to set; anyone reads them.
    ("GET /case-studies/highlights",                    [200, 200, 200, 200, 200, 200, 200, 200]),
    ("PUT /case-studies/{id}/highlight",                [401, 403, 403, 403, 403, 403, 204, 204]),
    ("DELETE /case-studies/{id}/highlight",             [401, 403, 403, 403, 403, 403, 204, 204]),
    // Feeds and share pages are public: published work only.
    ("GET /feeds/case-studies.atom",                    [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /feeds/topics/{topic}/case-studies.atom",     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /share/case-studies/{id}",                    [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /me/case-studies",                            [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /me/projects",                                [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /moderation/case-studies",                    [401, 403, 403, 403, 403, 403, 200, 200]),
    // Resources: the same rules as case studies.
    ("GET /resources",                                  [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /resources",                                 [401, 201, 201, 201, 201, 201, 201, 201]),
    ("GET /resources/{id}",                             [404, 404, 404, 200, 404, 404, 200, 200]),
    ("PATCH /resources/{id}",                           [401, 404, 404, 200, 404, 404, 200, 200]),
    ("POST /resources/{id}/publish",                    [401, 404, 404, 403, 404, 404, 200, 200]),
    ("POST /resources/{id}/reject",                     [401, 404, 404, 403, 404, 404, 200, 200]),
    ("POST /resources/{id}/release-hold",               [401, 404, 404, 403, 404, 404, 200, 200]),
    ("POST /resources/{id}/file",                       [401, 404, 404, 201, 404, 404, 201, 201]),
    ("GET /resources/{id}/download",                    [404, 404, 404, 302, 404, 404, 302, 302]),
    ("GET /moderation/resources",                       [401, 403, 403, 403, 403, 403, 200, 200]),
    // Questions and thanks (on published items): anyone who may read the item
    // reads them; members ask, answer, report (202, once) and thank (not their
    // own item: 409); a question or answer is removed by its author (the owner
    // here) or a moderator.
    ("GET /case-studies/{id}/questions",                [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /case-studies/{id}/questions",               [401, 201, 201, 201, 201, 201, 201, 201]),
    ("GET /resources/{id}/questions",                   [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /resources/{id}/questions",                  [401, 201, 201, 201, 201, 201, 201, 201]),
    ("GET /questions/{id}",                             [200, 200, 200, 200, 200, 200, 200, 200]),
    ("DELETE /questions/{id}",                          [401, 403, 403, 204, 403, 403, 204, 204]),
    ("POST /questions/{id}/answers",                    [401, 201, 201, 201, 201, 201, 201, 201]),
    ("DELETE /questions/{id}/answers/{answer_id}",      [401, 403, 403, 204, 403, 403, 204, 204]),
    ("POST /questions/{id}/reports",                    [401, 202, 202, 202, 202, 202, 202, 202]),
    ("POST /questions/{id}/answers/{answer_id}/reports", [401, 202, 202, 202, 202, 202, 202, 202]),
    ("GET /moderation/reports",                         [401, 403, 403, 403, 403, 403, 200, 200]),
    ("POST /moderation/reports/{id}/dismiss",           [401, 403, 403, 403, 403, 403, 204, 204]),
    ("GET /case-studies/{id}/thanks",                   [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /case-studies/{id}/thanks",                  [401, 200, 200, 409, 200, 200, 200, 200]),
    ("GET /resources/{id}/thanks",                      [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /resources/{id}/thanks",                     [401, 200, 200, 409, 200, 200, 200, 200]),
    ("GET /search",                                     [200, 200, 200, 200, 200, 200, 200, 200]),
    // People.
    ("GET /me",                                         [401, 200, 200, 200, 200, 200, 200, 200]),
    ("PATCH /me",                                       [401, 200, 200, 200, 200, 200, 200, 200]),
    ("DELETE /me",                                      [401, 204, 204, 204, 204, 204, 204, 204]),
    ("GET /members",                                    [401, 200, 200, 200, 200, 200, 200, 200]),
    // Only admins assign a member to an organisation that does not list their domain.
    ("PUT /members/{id}/organisation",                  [401, 403, 403, 403, 403, 403, 403, 200]),
    ("GET /me/digest/preview",                          [401, 200, 200, 200, 200, 200, 200, 200]),
    // Asking for a confirmation link: only a suppressed address has one to ask for.
    ("POST /me/email/confirm",                          [401, 409, 409, 409, 409, 409, 409, 409]),
    // Links in emails: the token is the authority, whoever holds it.
    ("GET /unsubscribe/{token}",                        [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /unsubscribe/{token}",                       [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /email-confirmations/{token}",                [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /email-confirmations/{token}",               [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /calendar-feeds/{token}",                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /me/calendar-feed",                           [401, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /me/calendar-feed",                          [401, 201, 201, 201, 201, 201, 201, 201]),
    ("DELETE /me/calendar-feed",                        [401, 204, 204, 204, 204, 204, 204, 204]),
    // Projects: members read; the team (and moderators) change.
    ("GET /projects/classification-questions",          [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /projects",                                   [401, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /projects",                                  [401, 201, 201, 201, 201, 201, 201, 201]),
    ("GET /projects/{id}",                              [401, 200, 200, 200, 200, 200, 200, 200]),
    ("PATCH /projects/{id}",                            [401, 403, 403, 200, 200, 403, 200, 200]),
    ("GET /projects/{id}/pdsa",                         [401, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /projects/{id}/pdsa",                        [401, 403, 403, 201, 201, 403, 201, 201]),
    ("GET /projects/{id}/measures",                     [401, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /projects/{id}/measures",                    [401, 403, 403, 201, 201, 403, 201, 201]),
    ("GET /projects/{id}/measures/{mid}",               [401, 200, 200, 200, 200, 200, 200, 200]),
    ("PATCH /projects/{id}/measures/{mid}",             [401, 403, 403, 200, 200, 403, 200, 200]),
    ("POST /projects/{id}/measures/{mid}/points",       [401, 403, 403, 200, 200, 403, 200, 200]),
    ("POST /projects/{id}/measures/{mid}/annotations",  [401, 403, 403, 201, 201, 403, 201, 201]),
    ("GET /projects/{id}/measures/{mid}/analysis",      [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /projects/{id}/measures/{mid}/chart.svg",     [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /projects/{id}/posts",                        [401, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /projects/{id}/posts",                       [401, 201, 201, 201, 201, 201, 201, 201]),
    ("POST /projects/{id}/posts/{post_id}/replies",     [401, 201, 201, 201, 201, 201, 201, 201]),
    // Take-downs: the author, the project's team and moderators (issue 15).
    ("DELETE /projects/{id}/posts/{post_id}",           [401, 403, 403, 204, 204, 403, 204, 204]),
    ("DELETE /projects/{id}/posts/{post_id}/replies/{reply_id}", [401, 403, 403, 204, 204, 403, 204, 204]),
    ("DELETE /projects/{id}/pdsa/{pdsa_id}",            [401, 403, 403, 204, 204, 403, 204, 204]),
    ("DELETE /projects/{id}/measures/{mid}/annotations/{annotation_id}", [401, 403, 403, 204, 204, 403, 204, 204]),
    ("DELETE /projects/{id}/measures/{mid}/points/{date}", [401, 403, 403, 204, 204, 403, 204, 204]),
    ("POST /projects/{id}/follow",                      [401, 200, 200, 200, 200, 200, 200, 200]),
    // Only the invited member (the team column, not yet accepted) answers an invitation.
    ("POST /projects/{id}/invitation/accept",           [401, 404, 404, 404, 200, 404, 404, 404]),
    ("POST /projects/{id}/invitation/decline",          [401, 404, 404, 404, 200, 404, 404, 404]),
    ("DELETE /projects/{id}/follow",                    [401, 200, 200, 200, 200, 200, 200, 200]),
    // Similar work (issue 22): any signed-in member; the project's own team
    // (its lead, the owner, and the team member) may not ask to team up (409).
    ("POST /similar",                                   [401, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /projects/{id}/team-up",                     [401, 202, 202, 409, 409, 202, 202, 202]),
    // Mentoring: a request is its requester's; moderators may look, not act.
    ("GET /me/mentor",                                  [401, 200, 200, 200, 200, 200, 200, 200]),
    ("PUT /me/mentor",                                  [401, 200, 200, 200, 200, 200, 200, 200]),
    ("DELETE /me/mentor",                               [401, 204, 204, 204, 204, 204, 204, 204]),
    ("POST /mentoring-requests",                        [401, 201, 201, 201, 201, 201, 201, 201]),
    ("GET /me/mentoring-requests",                      [401, 200, 200, 200, 200, 200, 200, 200]),
    // A mentor's own offers and mentees; a member's own coffee rounds.
    ("GET /me/mentees",                                 [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /me/coffee",                                  [401, 200, 200, 200, 200, 200, 200, 200]),
    // A member's own QI portfolio (there is no route to anyone else's).
    ("GET /me/portfolio",                               [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /me/portfolio.csv",                           [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /mentoring-requests/{id}",                    [401, 404, 404, 200, 404, 404, 200, 200]),
    ("DELETE /mentoring-requests/{id}",                 [401, 404, 404, 204, 404, 404, 403, 403]),
    ("GET /mentoring-requests/{id}/matches",            [401, 404, 404, 200, 404, 404, 200, 200]),
    ("POST /mentoring-requests/{id}/decline-proposal",  [401, 404, 404, 200, 404, 404, 403, 403]),
    ("POST /mentoring-pairings/{id}/close",             [401, 404, 404, 200, 404, 404, 403, 403]),
    ("GET /mentoring/offers/{token}",                   [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /mentoring/offers/{token}/accept",           [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /mentoring/offers/{token}/decline",          [200, 200, 200, 200, 200, 200, 200, 200]),
    // Events: organisers (and moderators) create; the creating organiser and
    // moderators manage; any member books.
    ("GET /events",                                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /events",                                    [401, 403, 403, 201, 403, 201, 201, 201]),
    ("GET /events/{id}",                                [200, 200, 200, 200, 200, 200, 200, 200]),
    ("PATCH /events/{id}",                              [401, 403, 403, 200, 403, 403, 200, 200]),
    ("POST /events/{id}/cancel",                        [401, 403, 403, 200, 403, 403, 200, 200]),
    ("GET /events/{id}/calendar.ics",                   [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /events/{id}/bookings",                      [401, 201, 201, 201, 201, 201, 201, 201]),
    ("GET /events/{id}/bookings",                       [401, 403, 403, 200, 403, 403, 200, 200]),
    ("DELETE /events/{id}/bookings/me",                 [401, 204, 204, 204, 204, 204, 204, 204]),
    ("POST /events/{id}/bookings/{booking_id}/accept",  [401, 403, 403, 200, 403, 403, 200, 200]),
    ("POST /events/{id}/bookings/{booking_id}/decline", [401, 403, 403, 200, 403, 403, 200, 200]),
    // The register: the creating organiser and moderators (an event starting soon).
    ("PUT /events/{id}/bookings/{booking_id}/attendance", [401, 403, 403, 200, 403, 403, 200, 200]),
    ("GET /events/{id}/bookings.csv",                   [401, 403, 403, 200, 403, 403, 200, 200]),
    ("GET /me/bookings",                                [401, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /visit-requests/{token}",                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /visit-requests/{token}/accept",             [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /visit-requests/{token}/decline",            [200, 200, 200, 200, 200, 200, 200, 200]),
];

const HOME: &str = "leedsth.nhs.uk";
const AWAY: &str = "leedscommunity.nhs.uk";

/// One person for one cell.
struct Person {
    email: String,
    token: String,
    id: String,
}

struct World {
    t: TestApp,
    home: String,
    n: std::cell::Cell<usize>,
}

impl World {
    async fn person(&self, name: &str, domain: &str, roles: &[Role]) -> Person {
        let n = self.n.get() + 1;
        self.n.set(n);
        let email = format!("{name}{n}@{domain}");
        let token = self.t.token(&email, roles).await;
        let me = self.t.get("/me", Some(&token)).await;
        assert_eq!(me.status, 200, "{}", me.text);
        Person { email, token, id: me.body["id"].as_str().unwrap().to_string() }
    }

    /// The caller in column `col`, with the cell's owner and team member.
    async fn cast(&self, col: usize, events: bool) -> (Option<Person>, Person, Person) {
        let owner_roles: &[Role] = if events { &[Role::Organiser] } else { &[] };
        let owner = self.person("owner", HOME, owner_roles).await;
        let team = self.person("team", HOME, &[]).await;
        let caller = match ROLES[col] {
            "anonymous" => None,
            "member" => Some(self.person("member", HOME, &[]).await),
            "other-org" => Some(self.person("other", AWAY, &[]).await),
            "owner" => Some(owner.clone_person()),
            "team" => Some(team.clone_person()),
            "organiser" => Some(self.person("organiser", HOME, &[Role::Organiser]).await),
            "moderator" => Some(self.person("moderator", HOME, &[Role::Moderator]).await),
            "admin" => Some(self.person("admin", HOME, &[Role::Admin]).await),
            other => unreachable!("{other}"),
        };
        (caller, owner, team)
    }

    async fn ok(&self, method: Method, path: &str, who: &Person, body: Option<Value>) -> Answer {
        let a = self.t.send(method.clone(), path, Some(&who.token), body, &[]).await;
        assert!(a.status.is_success(), "fixture {method} {path}: {} {}", a.status, a.text);
        a
    }

    /// Publishes a pending case study or resource (`/case-studies/{id}`) as a moderator.
    async fn publish(&self, path: &str) {
        let m = self.person("publisher", HOME, &[Role::Moderator]).await;
        let a = self.t.send(Method::POST, &format!("{path}/publish"), Some(&m.token), None, &[("if-match", "\"1\"")]).await;
        assert!(a.status.is_success(), "fixture publish {path}: {} {}", a.status, a.text);
    }

    /// The link token in the newest email (to `email`, if given) whose link has this prefix.
    fn mailed_token(&self, email: Option<&str>, prefix: &str) -> String {
        let o = qnet_embedded::Outbox::open(&self.t.data_dir).unwrap();
        for e in o.list().unwrap().into_iter().rev() {
            let raw = String::from_utf8_lossy(&o.read(&e.file_name).unwrap()).replace("=\r\n", "").replace("=\n", "");
            if email.is_none_or(|e| raw.contains(e))
                && let Some(i) = raw.find(prefix)
            {
                return raw[i + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
            }
        }
        panic!("no email to {email:?} with {prefix}")
    }
}

impl Person {
    fn clone_person(&self) -> Person {
        Person { email: self.email.clone(), token: self.token.clone(), id: self.id.clone() }
    }
}

fn in_days(days: i64, hour: u8) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    d.with_hms(hour, 0, 0).unwrap().assume_utc().format(&time::format_description::well_known::Rfc3339).unwrap()
}

fn event_body(org: &str, kind: &str) -> Value {
    let mut v = json!({"kind": kind, "title": "Run charts for beginners", "description": "Bring your data.",
           "starts_at": in_days(20, 9), "ends_at": in_days(20, 12), "location": "Room 2, St James's, Leeds",
           "capacity": 10, "host_organisation_id": org, "topics": ["measurement"]});
    if kind == "go_and_see" {
        v["what_you_will_see"] = json!("The 08:30 huddle and the safety cross.");
        v["host"] = json!("Ward 7 sister");
    }
    v
}

fn mentor_profile(accepting: bool) -> Value {
    json!({"offers": ["mentoring"], "topics": ["flow"], "skills": ["process mapping"], "capacity": 1,
           "availability": {"modes": ["online"]}, "bio": "Twenty years in QI.", "accepting": accepting})
}

fn mentoring_request() -> Value {
    json!({"kind": "mentoring", "topics": ["flow"], "goals": "I want to get better at process mapping for discharge.",
           "cross_organisation": "no_preference", "availability": {"modes": ["online"]}})
}

const CSV: &[u8] = b"week,falls\n2025-01-06,3\n";

fn file_spec() -> Value {
    use sha2::Digest;
    json!({"filename": "falls.csv", "content_type": "text/csv", "size": CSV.len(), "sha256": hex::encode(sha2::Sha256::digest(CSV))})
}

/// Declares a file as `who` and uploads it, so it is checked and ready; answers
/// the attachment's id.
async fn uploaded_file(w: &World, path: &str, who: &Person) -> String {
    let declared = w.ok(Method::POST, path, who, Some(file_spec())).await;
    let mut r = w.t.client.put(declared.body["upload_url"].as_str().unwrap()).body(CSV);
    for (k, v) in declared.body["upload_headers"].as_object().unwrap() {
        if k != "content-length" {
            r = r.header(k, v.as_str().unwrap());
        }
    }
    assert!(r.send().await.unwrap().status().is_success());
    declared.body["attachment"]["id"].as_str().unwrap().to_string()
}

/// Builds what the cell's path names and answers the path, body and headers.
async fn prepare(
    w: &World,
    op: &str,
    caller: Option<&Person>,
    owner: &Person,
    team: &Person,
) -> (String, Option<Value>, Vec<(String, String)>) {
    let (method, template) = op.split_once(' ').unwrap();
    let t = &w.t;
    let mut path = template.to_string();
    let mut body = None;
    let mut etag: Option<String> = None;
    let first = template.split('/').nth(1).unwrap_or("");
    path = path.replace("{topic}", "flow");
    if template.contains("{id}") {
        match first {
            "members" => {
                // The owner moves to an organisation that lists no domain.
                let org = t.organisation(&format!("Voluntary group {}", owner.email), &[]).await;
                path = path.replace("{id}", &owner.id);
                body = Some(json!({"organisation_id": org}));
            }
            "organisations" => {
                let id = t.organisation(&format!("Org {}", owner.email), &[]).await;
                path = path.replace("{id}", &id);
                etag = Some("1".into());
                body = Some(json!({"name": "Renamed"}));
            }
            "case-studies" | "share"
                if template.contains("/adoptions") || template.contains("/highlight") || first == "share" =>
            {
                // A published case study by someone else, which the owner adopted.
                let author = w.person("author", HOME, &[]).await;
                let cs =
                    w.ok(Method::POST, "/case-studies", &author, Some(json!({"title": "Falls", "body": "Falls fell."}))).await;
                let id = cs.body["id"].as_str().unwrap().to_string();
                assert!(t.publish(&id).await.status.is_success());
                w.ok(Method::POST, &format!("/case-studies/{id}/adoptions"), owner, Some(json!({"kind": "adopting"}))).await;
                if method == "DELETE" && template.ends_with("/highlight") {
                    let moderator = w.person("highlighter", HOME, &[Role::Moderator]).await;
                    w.ok(Method::PUT, &format!("/case-studies/{id}/highlight"), &moderator, None).await;
                }
                path = path.replace("{id}", &id).replace("{member_id}", &owner.id);
                body = Some(if template.ends_with("/reports") {
                    json!({"reason": "Names a colleague"})
                } else {
                    json!({"kind": "adapting"})
                });
            }
            "case-studies" => {
                let text = if template.ends_with("release-hold") { "Patient 943 476 5919 waited." } else { "Falls fell." };
                let cs = w.ok(Method::POST, "/case-studies", owner, Some(json!({"title": "Falls", "body": text}))).await;
                let id = cs.body["id"].as_str().unwrap().to_string();
                path = path.replace("{id}", &id);
                etag = Some(cs.body["version"].to_string());
                if template.contains("/questions") || template.contains("/thanks") {
                    w.publish(&format!("/case-studies/{id}")).await;
                }
                if template.contains("{attachment_id}") {
                    let att = uploaded_file(w, &format!("/case-studies/{id}/attachments"), owner).await;
                    path = path.replace("{attachment_id}", &att);
                }
            }
            "resources" => {
                let text = if template.ends_with("release-hold") { "Patient 943 476 5919 waited." } else { "A workbook." };
                let mut resource = json!({"title": "Workbook", "description": text, "kind": "dataset"});
                if !template.ends_with("/file") && !template.ends_with("/download") {
                    resource["url"] = json!("https://qi.example.org/workbook");
                }
                let r = w.ok(Method::POST, "/resources", owner, Some(resource)).await;
                let id = r.body["id"].as_str().unwrap().to_string();
                path = path.replace("{id}", &id);
                etag = Some(r.body["version"].to_string());
                if template.contains("/questions") || template.contains("/thanks") {
                    w.publish(&format!("/resources/{id}")).await;
                }
                if template.ends_with("/download") {
                    uploaded_file(w, &format!("/resources/{id}/file"), owner).await;
                }
            }
            "projects" => {
                let p = w
                    .ok(
                        Method::POST,
                        "/projects",
                        owner,
                        Some(json!({"title": "Fewer falls", "aim": "Halve inpatient falls on wards 5 and 6 by March 2027",
                                    "problem": "Falls rose.", "organisation_ids": [w.home], "team": [team.id],
                                    "topics": [], "status": "active", "started_on": "2025-01-06",
                                    "classification": "quality_improvement"})),
                    )
                    .await;
                let id = p.body["id"].as_str().unwrap().to_string();
                path = path.replace("{id}", &id);
                etag = Some(p.body["version"].to_string());
                // The team member was invited; they join by accepting (except on
                // the invitation routes themselves, where the invitation is the point).
                if !template.contains("/invitation/") {
                    let joined = w.ok(Method::POST, &format!("/projects/{id}/invitation/accept"), team, None).await;
                    etag = Some(joined.body["version"].to_string());
                }
                if template.contains("{mid}") {
                    let m = w
                        .ok(
                            Method::POST,
                            &format!("/projects/{id}/measures"),
                            owner,
                            Some(json!({"name": "Falls", "type": "outcome", "improvement_direction": "down"})),
                        )
                        .await;
                    let mid = m.body["id"].as_str().unwrap();
                    path = path.replace("{mid}", mid);
                    etag = Some(m.body["version"].to_string());
                    if method == "GET" && !template.ends_with("{mid}") {
                        let days = ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"];
                        let points: Vec<_> = days.iter().map(|d| json!({"date": d, "value": 3})).collect();
                        w.ok(
                            Method::POST,
                            &format!("/projects/{id}/measures/{mid}/points"),
                            owner,
                            Some(json!({"points": points})),
                        )
                        .await;
                        path.push_str("?chart=run");
                    }
                }
                if template.contains("{post_id}") {
                    let post =
                        w.ok(Method::POST, &format!("/projects/{id}/posts"), owner, Some(json!({"body": "Huddle?"}))).await;
                    let post_id = post.body["id"].as_str().unwrap().to_string();
                    path = path.replace("{post_id}", &post_id);
                    if template.contains("{reply_id}") {
                        let reply = w
                            .ok(
                                Method::POST,
                                &format!("/projects/{id}/posts/{post_id}/replies"),
                                owner,
                                Some(json!({"body": "Yes"})),
                            )
                            .await;
                        path = path.replace("{reply_id}", reply.body["id"].as_str().unwrap());
                    }
                }
                if template.contains("{pdsa_id}") {
                    let body = json!({"title": "Cycle 1", "plan": "Try a huddle"});
                    let pdsa = w.ok(Method::POST, &format!("/projects/{id}/pdsa"), owner, Some(body)).await;
                    path = path.replace("{pdsa_id}", pdsa.body["id"].as_str().unwrap());
                }
                if template.contains("{annotation_id}") {
                    let mid = path.split('/').nth(4).unwrap().to_string();
                    let body = json!({"date": "2025-01-06", "text": "Huddle starts"});
                    let a = w.ok(Method::POST, &format!("/projects/{id}/measures/{mid}/annotations"), owner, Some(body)).await;
                    path = path.replace("{annotation_id}", a.body["id"].as_str().unwrap());
                }
                if template.contains("{date}") {
                    let mid = path.split('/').nth(4).unwrap().to_string();
                    let body = json!({"points": [{"date": "2025-01-06", "value": 3}]});
                    w.ok(Method::POST, &format!("/projects/{id}/measures/{mid}/points"), owner, Some(body)).await;
                    path = path.replace("{date}", "2025-01-06");
                }
                if method == "DELETE"
                    && let Some(c) = caller
                {
                    w.ok(Method::POST, &format!("/projects/{id}/follow"), c, None).await;
                }
            }
            "events" => {
                let register = template.ends_with("/attendance");
                let kind = if template.contains("{booking_id}") && !register { "go_and_see" } else { "workshop" };
                let mut event = event_body(&w.home, kind);
                if register {
                    // The register opens an hour before the start.
                    let soon = |m: i64| {
                        let t = time::OffsetDateTime::now_utc() + time::Duration::minutes(m);
                        t.format(&time::format_description::well_known::Rfc3339).unwrap()
                    };
                    event["starts_at"] = json!(soon(30));
                    event["ends_at"] = json!(soon(90));
                }
                let e = w.ok(Method::POST, "/events", owner, Some(event)).await;
                let id = e.body["id"].as_str().unwrap().to_string();
                path = path.replace("{id}", &id);
                etag = Some(e.body["version"].to_string());
                if template.contains("{booking_id}") {
                    let visitor = w.person("visitor", HOME, &[]).await;
                    let b = w.ok(Method::POST, &format!("/events/{id}/bookings"), &visitor, None).await;
                    path = path.replace("{booking_id}", b.body["id"].as_str().unwrap());
                }
                if template.ends_with("/bookings/me")
                    && let Some(c) = caller
                {
                    w.ok(Method::POST, &format!("/events/{id}/bookings"), c, None).await;
                }
            }
            "mentoring-requests" | "mentoring-pairings" => {
                let mentor = w.person("mentor", AWAY, &[]).await;
                w.ok(Method::PUT, "/me/mentor", &mentor, Some(mentor_profile(true))).await;
                let r = w.ok(Method::POST, "/mentoring-requests", owner, Some(mentoring_request())).await;
                let id = r.body["id"].as_str().unwrap().to_string();
                path = path.replace("{id}", &id);
                if template.ends_with("decline-proposal") {
                    // Matching proposes the best of every mentor, not necessarily this one.
                    body = Some(json!({"mentor_id": r.body["proposal"]["mentor_id"]}));
                }
                if first == "mentoring-pairings" {
                    let token = w.mailed_token(None, "/mentoring/offers/");
                    t.post(&format!("/mentoring/offers/{token}/accept"), None, Value::Null).await;
                }
            }
            "questions" | "moderation" => {
                // A question by the owner (and an answer by the owner) on
                // someone else's published case study; for a dismissal, a report.
                let author = w.person("author", HOME, &[]).await;
                let cs =
                    w.ok(Method::POST, "/case-studies", &author, Some(json!({"title": "Falls", "body": "Falls fell."}))).await;
                let cs = cs.body["id"].as_str().unwrap().to_string();
                w.publish(&format!("/case-studies/{cs}")).await;
                let q =
                    w.ok(Method::POST, &format!("/case-studies/{cs}/questions"), owner, Some(json!({"body": "How long?"}))).await;
                let qid = q.body["id"].as_str().unwrap().to_string();
                path = path.replace("{id}", &qid);
                if template.contains("{answer_id}") {
                    let a =
                        w.ok(Method::POST, &format!("/questions/{qid}/answers"), owner, Some(json!({"body": "Six weeks"}))).await;
                    path = path.replace("{answer_id}", a.body["id"].as_str().unwrap());
                }
                if first == "moderation" {
                    w.ok(Method::POST, &format!("/questions/{qid}/reports"), &author, Some(json!({"reason": "Off topic"}))).await;
                }
            }
            other => panic!("no fixture for {other}"),
        }
    }
    if template.contains("{token}") {
        let token = match first {
            "unsubscribe" => {
                let tok = qnet_app::tokens::new_token();
                let (pk, sk) = qnet_app::keys::token(&tok.hash);
                let record = json!({"purpose": "unsubscribe", "member_id": owner.id, "issued_at": in_days(0, 0)});
                t.app.records.put(qnet_ports::Item::new(pk, sk, record), qnet_ports::Condition::NotExists).await.unwrap();
                tok.text
            }
            "email-confirmations" => {
                let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
                t.app.links.sign("confirm-address", &format!("{}|{}", owner.id, owner.email), expires)
            }
            "calendar-feeds" => {
                let a = w.ok(Method::POST, "/me/calendar-feed", owner, None).await;
                a.body["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string()
            }
            "mentoring" => {
                let mentor = w.person("mentor", AWAY, &[]).await;
                w.ok(Method::PUT, "/me/mentor", &mentor, Some(mentor_profile(true))).await;
                w.ok(Method::POST, "/mentoring-requests", owner, Some(mentoring_request())).await;
                w.mailed_token(None, "/mentoring/offers/")
            }
            "visit-requests" => {
                let e = w.ok(Method::POST, "/events", owner, Some(event_body(&w.home, "go_and_see"))).await;
                let visitor = w.person("visitor", HOME, &[]).await;
                w.ok(Method::POST, &format!("/events/{}/bookings", e.body["id"].as_str().unwrap()), &visitor, None).await;
                w.mailed_token(Some(&owner.email), "/visit-requests/")
            }
            other => panic!("no token fixture for {other}"),
        };
        path = path.replace("{token}", &token);
    }
    // Bodies for the routes that take one, and state the caller needs.
    match op {
        "GET /insights.csv" => path.push_str("?table=activity"),
        "POST /organisations" => body = Some(json!({"name": format!("New {}", owner.email), "type": "nhs"})),
        "POST /case-studies" => body = Some(json!({"title": "Falls", "body": "Falls fell."})),
        "PATCH /case-studies/{id}" | "PATCH /resources/{id}" | "PATCH /events/{id}" | "PATCH /projects/{id}" => {
            body = Some(json!({"title": "Retitled"}))
        }
        "POST /case-studies/{id}/reject" | "POST /resources/{id}/reject" => body = Some(json!({"reason": "Not QI."})),
        "POST /case-studies/{id}/attachments" | "POST /resources/{id}/file" => body = Some(file_spec()),
        "POST /resources" => body = Some(json!({"title": "Workbook", "description": "A workbook.", "kind": "dataset"})),
        "PATCH /me" => {
            let c = caller.unwrap_or(owner);
            etag = t.get("/me", Some(&c.token)).await.header("etag").map(|e| e.trim_matches('"').to_string());
            body = Some(json!({"name": "Renamed"}));
        }
        "POST /projects" => {
            body = Some(json!({"title": "Fewer falls", "aim": "Halve inpatient falls on wards 5 and 6 by March 2027",
                               "problem": "Falls rose.", "organisation_ids": [w.home], "team": [], "topics": [],
                               "status": "active", "started_on": "2025-01-06", "classification": "quality_improvement"}))
        }
        "GET /search" => path.push_str("?q=falls"),
        "POST /similar" => body = Some(json!({"title": "Fewer falls", "aim": "Halve falls", "topics": ["patient-safety"]})),
        "POST /projects/{id}/team-up" => body = Some(json!({"message": "Shall we share run charts?"})),
        "POST /projects/{id}/pdsa" => body = Some(json!({"title": "Cycle 1", "plan": "Try a huddle"})),
        "POST /projects/{id}/measures" => {
            body = Some(json!({"name": "Falls", "type": "outcome", "improvement_direction": "down"}))
        }
        "PATCH /projects/{id}/measures/{mid}" => body = Some(json!({"name": "Falls a month"})),
        "POST /projects/{id}/measures/{mid}/points" => body = Some(json!({"points": [{"date": "2025-01-06", "value": 3}]})),
        "POST /projects/{id}/measures/{mid}/annotations" => body = Some(json!({"date": "2025-01-06", "text": "Huddle starts"})),
        "POST /projects/{id}/posts" | "POST /projects/{id}/posts/{post_id}/replies" => body = Some(json!({"body": "Thanks"})),
        "PUT /me/mentor" => body = Some(mentor_profile(false)),
        "DELETE /me/mentor" | "GET /me/mentor" => {
            if let Some(c) = caller {
                w.ok(Method::PUT, "/me/mentor", c, Some(mentor_profile(false))).await;
            }
        }
        "POST /mentoring-requests" => body = Some(mentoring_request()),
        "POST /events" => body = Some(event_body(&w.home, "workshop")),
        "PUT /admin/roles" => body = Some(json!({"email": format!("granted{}@{HOME}", w.n.get()), "role": "moderator"})),
        "DELETE /admin/roles" => {
            // A grant to revoke, made by another admin.
            let admin = w.person("granter", HOME, &[Role::Admin]).await;
            let email = format!("revoked{}@{HOME}", w.n.get());
            w.ok(Method::PUT, "/admin/roles", &admin, Some(json!({"email": email, "role": "organiser"}))).await;
            path.push_str(&format!("?email={}&role=organiser", email.replace('@', "%40")));
        }
        "POST /events/{id}/cancel" => body = Some(json!({"reason": "Room flooded"})),
        "POST /case-studies/{id}/questions" | "POST /resources/{id}/questions" | "POST /questions/{id}/answers" => {
            body = Some(json!({"body": "How long did it take?"}))
        }
        "POST /questions/{id}/reports" | "POST /questions/{id}/answers/{answer_id}/reports" => {
            body = Some(json!({"reason": "Off topic"}))
        }
        "POST /case-studies/{id}/thanks" | "POST /resources/{id}/thanks" => body = Some(json!({"named": true})),
        "PUT /events/{id}/bookings/{booking_id}/attendance" => body = Some(json!({"attended": true})),
        "DELETE /me/calendar-feed" | "GET /me/calendar-feed" => {
            if let Some(c) = caller {
                w.ok(Method::POST, "/me/calendar-feed", c, None).await;
            }
        }
        _ => {}
    }
    let mut headers = vec![];
    let needs_version = method == "PATCH" || ["/publish", "/reject", "/release-hold"].iter().any(|s| template.ends_with(s));
    if needs_version && let Some(v) = etag {
        headers.push(("if-match".to_string(), format!("\"{v}\"")));
    }
    if method == "POST" {
        headers.push(("idempotency-key".to_string(), format!("cell-{}", w.n.get())));
    }
    (path, body, headers)
}

/// Every operation in the document the router serves, as `METHOD /path`.
async fn documented(t: &TestApp) -> BTreeSet<String> {
    let doc = t.get("/openapi.json", None).await.body;
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in ["get", "put", "post", "patch", "delete"] {
            if item.get(m).is_some() {
                ops.insert(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_the_table_says() {
    let t = spawn_app().await;
    let home = t.organisation("Leeds Teaching Hospitals", &[HOME]).await;
    t.organisation("Leeds Community Healthcare", &[AWAY]).await;
    let w = World { t, home, n: std::cell::Cell::new(0) };

    let ops = documented(&w.t).await;
    let rows: BTreeSet<String> = TABLE.iter().map(|(op, _)| op.to_string()).collect();
    assert_eq!(rows.len(), TABLE.len(), "a row appears twice");
    let missing: Vec<_> = ops.difference(&rows).collect();
    assert!(missing.is_empty(), "operations without a row in TABLE (decide who may call them): {missing:?}");
    let stale: Vec<_> = rows.difference(&ops).collect();
    assert!(stale.is_empty(), "rows for operations no longer in the document: {stale:?}");

    let mut wrong = vec![];
    for (op, expected) in TABLE {
        let (method, _) = op.split_once(' ').unwrap();
        let mut got = [0u16; 8];
        for col in 0..ROLES.len() {
            let events = op.contains(" /events") || op.contains(" /visit-requests");
            let (caller, owner, team) = w.cast(col, events).await;
            let (path, body, headers) = prepare(&w, op, caller.as_ref(), &owner, &team).await;
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let a = w.t.send(method.parse().unwrap(), &path, caller.as_ref().map(|c| c.token.as_str()), body, &headers).await;
            got[col] = a.status.as_u16();
            if got[col] != expected[col] {
                wrong.push(format!("{op} as {}: expected {}, got {} {}", ROLES[col], expected[col], got[col], a.text));
            }
        }
        if &got != expected {
            eprintln!("    (\"{op}\", {got:?}),");
        }
    }
    assert!(w.t.get("/health", None).await.status.is_success());
    assert!(wrong.is_empty(), "{} cells differ:\n{}", wrong.len(), wrong.join("\n"));
}
