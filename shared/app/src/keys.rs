//! Item keys: the single-table layout, in one place. `docs/data-model.md` maps
//! each access pattern to these.

pub fn org(id: &str) -> (String, String) {
    (format!("ORG#{id}"), "ORG".into())
}
pub const ORG_LIST: &str = "ORGS";
/// One item per (email domain, organisation): several organisations may share a
/// domain (every NHS body uses nhs.net), so this is a list, not a unique claim.
pub fn org_domain(domain: &str, org_id: &str) -> (String, String) {
    (org_domain_partition(domain), format!("ORG#{org_id}"))
}
pub fn org_domain_partition(domain: &str) -> String {
    format!("ORGDOMAIN#{domain}")
}
/// A role granted to an address (`/admin/roles`); every grant is also in the
/// GSI1 partition [`ROLE_GRANTS`], sorted by address.
pub fn role_grant(email: &str, role: &str) -> (String, String) {
    (format!("ROLEGRANT#{email}"), format!("ROLE#{role}"))
}
pub const ROLE_GRANTS: &str = "ROLEGRANTS";
pub fn member(id: &str) -> (String, String) {
    (member_partition(id), "PROFILE".into())
}
/// The partition of everything kept beside a member's profile (mentor
/// profile, digest claims, mentoring exclusions).
pub fn member_partition(id: &str) -> String {
    format!("MEMBER#{id}")
}
/// Partitions of the member directory: a listed member has one entry (a
/// summary) in each list their profile belongs to, so each filter is one Query;
/// the sort key orders by name.
pub fn member_directory(topic: Option<&str>, organisation_id: Option<&str>) -> String {
    match (topic, organisation_id) {
        (None, None) => "MEMBERDIR#all".into(),
        (Some(t), None) => format!("MEMBERDIR#topic#{t}"),
        (None, Some(o)) => format!("MEMBERDIR#org#{o}"),
        (Some(t), Some(o)) => format!("MEMBERDIR#topic#{t}#org#{o}"),
    }
}
/// How many members' profiles name an organisation, beside the organisation;
/// all counters share the GSI1 partition [`ORG_MEMBER_COUNTS`].
pub fn org_member_count(org_id: &str) -> (String, String) {
    (format!("ORG#{org_id}"), "MEMBERCOUNT".into())
}
pub const ORG_MEMBER_COUNTS: &str = "ORGMEMBERCOUNTS";
pub fn member_email(email: &str) -> (String, String) {
    (format!("MEMBEREMAIL#{email}"), "MEMBEREMAIL".into())
}
pub fn case_study(id: &str) -> (String, String) {
    (format!("CS#{id}"), "CS".into())
}
pub fn case_study_version(id: &str, version: u64) -> (String, String) {
    (format!("CS#{id}"), format!("CSV#{version:010}"))
}
pub const CASE_STUDY_VERSION_PREFIX: &str = "CSV#";
/// A member's "We are trying this" on a case study (issue 22); also in the
/// GSI2 partition [`member_adoptions`] for erasure.
pub fn adoption(case_study_id: &str, member_id: &str) -> (String, String) {
    (format!("CS#{case_study_id}"), format!("{ADOPTION_PREFIX}{member_id}"))
}
pub const ADOPTION_PREFIX: &str = "ADOPTION#";
/// A case study a moderator marked as a highlight (issue 22).
pub fn highlight(case_study_id: &str) -> (String, String) {
    (HIGHLIGHTS.into(), case_study_id.to_string())
}
pub const HIGHLIGHTS: &str = "HIGHLIGHTS";
pub fn member_adoptions(member_id: &str) -> String {
    format!("ADOPTIONS#{member_id}")
}
/// The claim that the author heard of one member's adoption.
pub fn adoption_mail_claim(case_study_id: &str, member_id: &str) -> (String, String) {
    (format!("CS#{case_study_id}"), format!("MAIL#adoption-{member_id}"))
}
/// The claim that a member asked a project's lead to team up (expires after a
/// week: a repeat within it sends nothing).
pub fn team_up_claim(project_id: &str, member_id: &str) -> (String, String) {
    (project_partition(project_id), format!("TEAMUP#{member_id}"))
}
/// A project's link back to a case study it took its idea from, per adopter.
pub fn inspired_by(project_id: &str, case_study_id: &str, member_id: &str) -> (String, String) {
    (project_partition(project_id), format!("{INSPIRED_PREFIX}{case_study_id}#{member_id}"))
}
pub const INSPIRED_PREFIX: &str = "INSPIRED#";
pub fn attachment(case_study_id: &str, attachment_id: &str) -> (String, String) {
    (format!("CS#{case_study_id}"), format!("ATT#{attachment_id}"))
}
pub const ATTACHMENT_PREFIX: &str = "ATT#";
/// GSI1 partition of the moderation queue (pending case studies, oldest first).
pub const MODERATION_QUEUE: &str = "CSQUEUE#pending";
/// GSI2 partition of one member's case studies.
pub fn members_case_studies(member_id: &str) -> String {
    format!("MEMBER#{member_id}#CS")
}
/// Partitions of the published lists: every published case study has one entry
/// (a summary) in each list it belongs to, so each filter is one Query.
pub fn published_list(topic: Option<&str>, organisation_id: Option<&str>) -> String {
    match (topic, organisation_id) {
        (None, None) => "CSLIST#all".into(),
        (Some(t), None) => format!("CSLIST#topic#{t}"),
        (None, Some(o)) => format!("CSLIST#org#{o}"),
        (Some(t), Some(o)) => format!("CSLIST#topic#{t}#org#{o}"),
    }
}
/// Unique organisation names, case-insensitively.
pub fn org_name(name: &str) -> (String, String) {
    (format!("ORGNAME#{}", name.trim().to_lowercase()), "ORGNAME".into())
}
/// Points from a case study to the idempotency record that holds a copy of its
/// first answer, so the copy can be purged with the case study's history.
pub fn case_study_idempotency_ref(id: &str) -> (String, String) {
    (format!("CS#{id}"), "IDEMREF".into())
}
pub fn idempotency(member_id: &str, key_hash: &str) -> (String, String) {
    (format!("IDEM#{member_id}#{key_hash}"), "IDEM".into())
}
/// Blob keys by kind.
pub fn upload_blob(case_study_id: &str, attachment_id: &str) -> String {
    format!("uploads/{case_study_id}/{attachment_id}")
}
pub fn attachment_blob(case_study_id: &str, attachment_id: &str) -> String {
    format!("attachments/{case_study_id}/{attachment_id}")
}
/// An opaque link token, by the SHA-256 of its text.
pub fn token(hash: &str) -> (String, String) {
    (format!("TOKEN#{hash}"), "TOKEN".into())
}
/// GSI2 partition of one member's tokens (to revoke them all).
pub fn member_tokens(member_id: &str) -> String {
    format!("MEMBER#{member_id}#TOKENS")
}
/// An address that no Qnet email may go to (hard bounce or complaint).
pub fn suppression(email: &str) -> (String, String) {
    (format!("SUPPRESS#{}", email.trim().to_ascii_lowercase()), "SUPPRESS".into())
}
/// GSI1 partition of the members on one digest cadence (`off` too: the weekly
/// nudges read all three; the planner only the cadences due).
pub fn digest_subscribers(cadence: qnet_domain::digest::Cadence) -> String {
    format!("DIGEST#{}", cadence.as_str())
}
/// The claim that one digest issue went (or is going) to one member.
pub fn digest_claim(member_id: &str, issue_id: &str) -> (String, String) {
    (member_partition(member_id), format!("{DIGEST_CLAIM_PREFIX}{issue_id}"))
}
pub const DIGEST_CLAIM_PREFIX: &str = "DIGEST#";
/// The claim that one "For you" line (`welcome`, `stale#<project>#<last
/// activity>`) went to a member: `data.period` names the digest issue or week
/// that showed it, so that issue may show it again (a retry) and no other does.
pub fn nudge_claim(member_id: &str, what: &str) -> (String, String) {
    (member_partition(member_id), format!("{NUDGE_PREFIX}{what}"))
}
/// The claim that a member's "Your week in Qnet" email for one week went (or is going).
pub fn nudge_mail_claim(member_id: &str, period_id: &str) -> (String, String) {
    (member_partition(member_id), format!("{NUDGE_PREFIX}MAIL#{period_id}"))
}
/// How many times a member was asked about an unanswered question (`data.count`,
/// `Write::Increment`): the experts pass asks the least asked first.
pub fn experts_asked_count(member_id: &str) -> (String, String) {
    (member_partition(member_id), format!("{NUDGE_PREFIX}ASKED"))
}
/// The experts chosen for one question (`CHOSEN`, create-if-absent: a re-run
/// asks the same people) and the claim of each email (`TO#<member id>`).
pub fn expert_ask(question_id: &str, what: &str) -> (String, String) {
    (format!("EXPERTASK#{question_id}"), what.to_string())
}
/// Every nudge claim in a member's partition starts with this (erasure purges them).
pub const NUDGE_PREFIX: &str = "NUDGE#";
/// A member's mentor profile, beside their profile.
pub fn mentor(member_id: &str) -> (String, String) {
    (member_partition(member_id), "MENTOR".into())
}
/// GSI1 partition of every mentor profile (the pool the matching reads).
pub const MENTORS: &str = "MENTORS";
/// A mentoring request (its proposal and pairing live on it too).
pub fn mentoring_request(id: &str) -> (String, String) {
    (mentoring_request_partition(id), MENTORING_REQUEST_SORT_KEY.into())
}
pub const MENTORING_REQUEST_SORT_KEY: &str = "MREQ";
/// The partition of a mentoring request and its mail claims.
pub fn mentoring_request_partition(id: &str) -> String {
    format!("MREQ#{id}")
}
/// The request id of a mentoring request's own item keys (as the table's
/// stream reports them); `None` for any other item.
pub fn parse_mentoring_request<'a>(pk: &'a str, sk: &str) -> Option<&'a str> {
    if sk != MENTORING_REQUEST_SORT_KEY {
        return None;
    }
    pk.strip_prefix("MREQ#")
}
/// GSI1 partition of a mentor's active pairings (sorted by when they started).
pub fn mentor_pairings(mentor_id: &str) -> String {
    format!("MREQ#mentor#{mentor_id}")
}
/// GSI1 partition of a mentor's closed pairings (sorted by when they started):
/// with [`mentor_pairings`], the mentoring a member has given.
pub fn mentor_closed_pairings(mentor_id: &str) -> String {
    format!("MREQ#mentored#{mentor_id}")
}
/// GSI2 partition of one member's mentoring requests.
pub fn members_mentoring_requests(member_id: &str) -> String {
    format!("MEMBER#{member_id}#MREQ")
}
/// GSI1 partitions of mentoring requests by state: `open` ones by creation,
/// `proposed` ones by when their proposal expires (sparse: other states are absent).
/// A member who agreed to be asked about `topic` ("Ask me about"): one item
/// per (topic, member) in the topic's partition.
pub fn expert(topic: &str, member_id: &str) -> (String, String) {
    (experts(topic), member_id.to_string())
}
pub fn experts(topic: &str) -> String {
    format!("EXPERTS#{topic}")
}
/// The week's one engagement email to a member (expert questions and nudges
/// share it), taken create-if-absent; `week` is `weekly-2026-W49`.
pub fn weekly_mail_slot(member_id: &str, week: &str) -> (String, String) {
    (member_partition(member_id), format!("WEEKMAIL#{week}"))
}
pub const OPEN_MENTORING_REQUESTS: &str = "MREQ#open";
pub const PROPOSED_MENTORING_REQUESTS: &str = "MREQ#proposed";
/// A mentor who declined (or let lapse an offer from) this member: never proposed to them again.
pub fn mentoring_exclusion(member_id: &str, mentor_id: &str) -> (String, String) {
    (member_partition(member_id), format!("{MENTORING_EXCLUSION_PREFIX}{mentor_id}"))
}
pub const MENTORING_EXCLUSION_PREFIX: &str = "MDECLINE#";
/// The claim that one email about a mentoring request went (or is going) out.
pub fn mentoring_mail_claim(request_id: &str, what: &str) -> (String, String) {
    (mentoring_request_partition(request_id), format!("MAIL#{what}"))
}
/// GSI2 partition of the members who opted in to randomised coffee.
pub const COFFEE_POOL: &str = "COFFEE#pool";
/// One coffee round (an ISO week): its frozen pool and its groups.
pub fn coffee_round(round_id: &str) -> (String, String) {
    (format!("COFFEE#{round_id}"), "ROUND".into())
}
/// The claim that one group of a coffee round was introduced by email.
pub fn coffee_claim(round_id: &str, group: usize) -> (String, String) {
    (format!("COFFEE#{round_id}"), format!("GROUP#{group:05}"))
}
/// A QI project.
pub fn project(id: &str) -> (String, String) {
    (project_partition(id), "PROJECT".into())
}
/// A project's partition: the project, its PDSA cycles, measures, board posts,
/// followers and follower notification claims.
pub fn project_partition(id: &str) -> String {
    format!("PROJECT#{id}")
}
pub fn pdsa(project_id: &str, pdsa_id: &str) -> (String, String) {
    (project_partition(project_id), format!("{PDSA_PREFIX}{pdsa_id}"))
}
pub const PDSA_PREFIX: &str = "PDSA#";
pub fn measure(project_id: &str, measure_id: &str) -> (String, String) {
    (project_partition(project_id), format!("{MEASURE_PREFIX}{measure_id}"))
}
pub const MEASURE_PREFIX: &str = "MEASURE#";
/// A measure's partition: its points (one item per calendar year) and annotations.
pub fn measure_partition(measure_id: &str) -> String {
    format!("MEASURE#{measure_id}")
}
/// The points of one measure dated in one calendar year ([0010](../../../docs/decisions/0010-measure-points-in-year-chunks.md)).
pub fn measure_points(measure_id: &str, year: i32) -> (String, String) {
    (measure_partition(measure_id), format!("{POINTS_PREFIX}{year:04}"))
}
pub const POINTS_PREFIX: &str = "POINTS#";
pub fn annotation(measure_id: &str, date: &str, annotation_id: &str) -> (String, String) {
    (measure_partition(measure_id), format!("{ANNOTATION_PREFIX}{date}#{annotation_id}"))
}
pub const ANNOTATION_PREFIX: &str = "ANNOT#";
/// A member's place on a project's team (`data`: project id, member id,
/// `joined_at`), written in the same transaction as the team change; also in
/// the GSI2 partition [`members_projects`] (sorted by `<joined_at>#<project id>`),
/// which the member's portfolio reads.
pub fn project_team_member(project_id: &str, member_id: &str) -> (String, String) {
    (project_partition(project_id), format!("{TEAM_PREFIX}{member_id}"))
}
pub const TEAM_PREFIX: &str = "TEAM#";
pub fn members_projects(member_id: &str) -> String {
    format!("MEMBER#{member_id}#PROJECTS")
}
/// Partitions of the project lists (newest first): all, by topic, by
/// organisation, by status; other filters are applied to the summaries read.
pub fn project_list(filter: Option<(&str, &str)>) -> String {
    match filter {
        None => "PROJLIST#all".into(),
        Some((kind, value)) => format!("PROJLIST#{kind}#{value}"),
    }
}
/// A post on a project's board; a reply sorts right after its thread's post.
pub fn board_post(project_id: &str, post_id: &str) -> (String, String) {
    (project_partition(project_id), format!("{POST_PREFIX}{post_id}"))
}
pub fn board_reply(project_id: &str, post_id: &str, reply_id: &str) -> (String, String) {
    (project_partition(project_id), format!("{POST_PREFIX}{post_id}#REPLY#{reply_id}"))
}
pub const POST_PREFIX: &str = "POST#";
pub fn follower(project_id: &str, member_id: &str) -> (String, String) {
    (project_partition(project_id), format!("{FOLLOWER_PREFIX}{member_id}"))
}
pub const FOLLOWER_PREFIX: &str = "FOLLOWER#";
/// The claim that one follower was (or is being) emailed about one post or reply.
pub fn board_notification(project_id: &str, message_id: &str, member_id: &str) -> (String, String) {
    (project_partition(project_id), format!("NOTIFY#{message_id}#{member_id}"))
}
/// The pointer to the newest search index snapshot (`{"key": …}`), and the
/// snapshots themselves.
pub const SEARCH_LATEST_BLOB: &str = "search/latest.json";
pub fn search_snapshot_blob(id: &str) -> String {
    format!("search/snapshots/{id}.tar")
}
/// GSI2 partitions of one member's board messages and project follows (erasure finds them there).
pub fn members_board_messages(member_id: &str) -> String {
    format!("MEMBER#{member_id}#BOARD")
}
pub fn members_follows(member_id: &str) -> String {
    format!("MEMBER#{member_id}#FOLLOWS")
}
/// Resources: the record, its earlier versions, its files, its download counter
/// (`data.downloads`, changed only by `Write::Increment`).
pub fn resource(id: &str) -> (String, String) {
    (format!("RES#{id}"), "RES".into())
}
pub fn resource_version(id: &str, version: u64) -> (String, String) {
    (format!("RES#{id}"), format!("{RESOURCE_VERSION_PREFIX}{version:010}"))
}
pub const RESOURCE_VERSION_PREFIX: &str = "RESV#";
pub fn resource_file(resource_id: &str, file_id: &str) -> (String, String) {
    (format!("RES#{resource_id}"), format!("{ATTACHMENT_PREFIX}{file_id}"))
}
pub fn resource_downloads(id: &str) -> (String, String) {
    (format!("RES#{id}"), "DOWNLOADS".into())
}
pub fn resource_idempotency_ref(id: &str) -> (String, String) {
    (format!("RES#{id}"), "IDEMREF".into())
}
pub fn resource_upload_blob(resource_id: &str, file_id: &str) -> String {
    format!("uploads/resources/{resource_id}/{file_id}")
}
pub fn resource_file_blob(resource_id: &str, file_id: &str) -> String {
    format!("attachments/resources/{resource_id}/{file_id}")
}
/// GSI1 partition of the resources waiting for a moderator, oldest first.
pub const RESOURCE_QUEUE: &str = "RESQUEUE#pending";
/// GSI2 partition of one member's resources.
pub fn members_resources(member_id: &str) -> String {
    format!("MEMBER#{member_id}#RES")
}
/// Partitions of the published resource lists: one summary entry per
/// combination of filters (topic, kind, organisation; `*` for any), so each
/// filtered list is one Query, newest first.
pub fn resource_list(topic: Option<&str>, kind: Option<&str>, organisation_id: Option<&str>) -> String {
    format!("RESLIST#{}#{}#{}", topic.unwrap_or("*"), kind.unwrap_or("*"), organisation_id.unwrap_or("*"))
}

// Events, training and bookings (`events.rs`). One partition per event holds
// the event, its places counter, its bookings, its waitlist and its email
// claims, so every read a booking needs is strongly consistent.

/// An event (`data`: `events::Event`).
pub fn event(id: &str) -> (String, String) {
    (format!("EVENT#{id}"), "EVENT".into())
}
/// The event's places counter: `data.confirmed` is the number of confirmed
/// bookings. Changed only by `Write::Increment` bounded by the capacity, in the
/// same transaction as the booking it counts; apart from the event so bookings
/// never change the event's version (its ETag).
pub fn event_places(id: &str) -> (String, String) {
    (format!("EVENT#{id}"), "PLACES".into())
}
/// One week's read counter of a published case study or resource
/// (`data.reads`, changed only by `Write::Increment`): `kind` is `case_study`
/// or `resource`, `week` an ISO week (`2026-W49`, Europe/London). Apart from the
/// item, so reads never change its version.
pub fn reads(kind: &str, id: &str, week: &str) -> (String, String) {
    (format!("READS#{kind}#{id}"), format!("WEEK#{week}"))
}
/// One member's booking of an event (at most one per member: create-if-absent).
/// Every booking of an event: Query `PK = EVENT#<event id>`, `begins_with(SK, "BOOKING#")`.
/// A member's bookings, soonest event first: GSI2 [`members_bookings`], with
/// `GSI2SK = <event starts_at>#<event id>` (rewritten when the event moves).
pub fn booking(event_id: &str, member_id: &str) -> (String, String) {
    (format!("EVENT#{event_id}"), format!("{BOOKING_PREFIX}{member_id}"))
}
pub const BOOKING_PREFIX: &str = "BOOKING#";
/// GSI2 partition of one member's bookings; the sort key starts with the
/// event's `starts_at`, so a time range (a calendar feed, tomorrow's reminders)
/// is a key-ordered read.
pub fn members_bookings(member_id: &str) -> String {
    format!("MEMBER#{member_id}#BOOKINGS")
}
pub fn members_booking_sort_key(starts_at: &str, event_id: &str) -> String {
    format!("{starts_at}#{event_id}")
}
/// Booking id → member id, for the host's accept and decline routes.
pub fn booking_ref(event_id: &str, booking_id: &str) -> (String, String) {
    (format!("EVENT#{event_id}"), format!("BOOKINGID#{booking_id}"))
}
/// The waitlist, first in line first: a partition of its own (so reading the
/// head of the line never reads the bookings), `SK = <waitlisted_at>#<booking id>`
/// (time, then the ULID, so ties are broken fairly and stably).
pub fn waitlist_entry(event_id: &str, waitlisted_at: &str, booking_id: &str) -> (String, String) {
    (waitlist(event_id), format!("{waitlisted_at}#{booking_id}"))
}
pub fn waitlist(event_id: &str) -> String {
    format!("EVENT#{event_id}#WAIT")
}
/// An email about an event claimed before it is sent (create-if-absent), so a
/// retry never sends it twice; `what` names the message and its recipient.
pub fn event_mail_claim(event_id: &str, what: &str) -> (String, String) {
    (format!("EVENT#{event_id}"), format!("MAIL#{what}"))
}
/// Partitions of the upcoming-event lists (`all`, `topic#<t>`, `kind#<k>`,
/// `org#<o>`): a summary per list, ascending on `SK = <starts_at>#<id>`, each
/// expiring (TTL) when the event ends, so a list holds only what is to come.
pub fn event_list(filter: Option<(&str, &str)>) -> String {
    match filter {
        None => "EVLIST#all".into(),
        Some((k, v)) => format!("EVLIST#{k}#{v}"),
    }
}

// Personal calendar feeds and event reminders (`calendar_feeds.rs`, `reminders.rs`).

/// Which token is a member's live calendar feed (`data.token_hash`), beside the
/// profile; the token itself is a [`token`] item of purpose `calendar_feed`.
pub fn calendar_feed(member_id: &str) -> (String, String) {
    (format!("MEMBER#{member_id}"), "CALFEED".into())
}
/// The claim that one member was reminded of one event starting on one London
/// date (`yyyy-mm-dd`): an [`event_mail_claim`], so it lives and goes with the event.
pub fn event_reminder_claim(event_id: &str, london_date: &str, member_id: &str) -> (String, String) {
    event_mail_claim(event_id, &format!("reminder-{london_date}-{member_id}"))
}
/// One member's count of one limited action in the fixed window starting at
/// `window_start` (unix seconds); expires at the window's end.
pub fn rate_limit(member_id: &str, action: &str, window_start: i64) -> (String, String) {
    (format!("LIMIT#{member_id}"), format!("{action}#{window_start}"))
}
/// How many mentoring requests a member holds open (open, proposed or active).
pub fn open_mentoring_requests(member_id: &str) -> (String, String) {
    (format!("MEMBER#{member_id}"), "MREQCOUNT".into())
}

/// One item per handled inbound delivery (case-study ingest), so a redelivery
/// answers as the first delivery did.
pub fn ingest(delivery_id: &str) -> (String, String) {
    (format!("INGEST#{delivery_id}"), "INGEST".into())
}
/// Message-IDs of messages in a case study's thread (submissions and our
/// acknowledgements) point at the case study, so replies find it. Angle
/// brackets and case do not matter.
pub fn message_id(message_id: &str) -> (String, String) {
    (format!("MSGID#{}", message_id.trim().trim_matches(['<', '>']).to_ascii_lowercase()), "MSGID".into())
}
/// The record of a board reply sent by email, written with the reply.
pub fn board_mail(delivery_id: &str) -> (String, String) {
    (format!("BOARDMAIL#{delivery_id}"), "BOARDMAIL".into())
}
/// One explanation per refused emailed board reply.
pub fn board_refused_reply(delivery_id: &str) -> (String, String) {
    (format!("BOARDREFUSED#{delivery_id}"), "BOARDREFUSED".into())
}
/// A question's thread, in its target's partition: the question at
/// `Q#<question id>`, each answer at `Q#<question id>#A#<answer id>`, so the
/// list of a case study's or resource's questions, with their answers, oldest
/// first, is one Query (`kind`: `cs` or `res`).
pub fn question_thread_partition(kind: &str, target_id: &str) -> String {
    format!("QTARGET#{kind}#{target_id}")
}
pub fn question(kind: &str, target_id: &str, question_id: &str) -> (String, String) {
    (question_thread_partition(kind, target_id), format!("{QUESTION_PREFIX}{question_id}"))
}
pub fn answer(kind: &str, target_id: &str, question_id: &str, answer_id: &str) -> (String, String) {
    (question_thread_partition(kind, target_id), format!("{QUESTION_PREFIX}{question_id}#A#{answer_id}"))
}
pub const QUESTION_PREFIX: &str = "Q#";
/// Where a question is (`GET /questions/{id}`), and beside it its email claims
/// (`MAIL#<question or answer id>#<member id>`).
pub fn question_pointer(question_id: &str) -> (String, String) {
    (question_partition(question_id), "QUESTION".into())
}
pub fn question_partition(question_id: &str) -> String {
    format!("QUESTION#{question_id}")
}
pub fn question_notification(question_id: &str, message_id: &str, member_id: &str) -> (String, String) {
    (question_partition(question_id), format!("MAIL#{message_id}#{member_id}"))
}
/// GSI1 partition of questions with no answer whose experts were not yet
/// asked, sorted by `<created_at>#<question id>`.
pub const UNANSWERED_QUESTIONS: &str = "QUESTIONS#unanswered";
/// GSI2 partition of one member's questions and answers (erasure).
pub fn members_questions(member_id: &str) -> String {
    format!("MEMBER#{member_id}#QA")
}
/// The reports of one question or answer (`REPORT`) and each member's reason
/// (`BY#<member id>`).
pub fn report(item_id: &str) -> (String, String) {
    (report_partition(item_id), "REPORT".into())
}
pub fn report_partition(item_id: &str) -> String {
    format!("REPORT#{item_id}")
}
pub fn report_reason(item_id: &str, member_id: &str) -> (String, String) {
    (report_partition(item_id), format!("{REPORT_REASON_PREFIX}{member_id}"))
}
pub const REPORT_REASON_PREFIX: &str = "BY#";
/// GSI1 partition of open reports, sorted by `<reported_at>#<item id>`.
pub const OPEN_REPORTS: &str = "REPORTS#open";
/// GSI2 partition of one member's reports and thanks (erasure).
pub fn members_reports(member_id: &str) -> String {
    format!("MEMBER#{member_id}#REPORTS")
}
pub fn members_thanks(member_id: &str) -> String {
    format!("MEMBER#{member_id}#THANKS")
}
/// A reader's thanks for a case study or resource (`BY#<member id>`) and the
/// count (`COUNT`, `data.count`).
pub fn thanks_partition(kind: &str, target_id: &str) -> String {
    format!("THANKS#{kind}#{target_id}")
}
pub fn thanks(kind: &str, target_id: &str, member_id: &str) -> (String, String) {
    (thanks_partition(kind, target_id), format!("{THANKS_PREFIX}{member_id}"))
}
pub fn thanks_count(kind: &str, target_id: &str) -> (String, String) {
    (thanks_partition(kind, target_id), "COUNT".into())
}
pub const THANKS_PREFIX: &str = "BY#";
/// The record of an answer sent by email, written with the answer.
pub fn question_mail(delivery_id: &str) -> (String, String) {
    (format!("QUESTIONMAIL#{delivery_id}"), "QUESTIONMAIL".into())
}
/// One explanation per refused emailed answer.
pub fn question_refused_reply(delivery_id: &str) -> (String, String) {
    (format!("QUESTIONREFUSED#{delivery_id}"), "QUESTIONREFUSED".into())
}
