//! Each request body's schema (the wire types in `qnet_domain::*::wire`) and its
//! parser agree on every text limit: a value at the schema's `maxLength` parses
//! without an error on that field, and one character more is refused naming it.
//! utoipa takes only literal limits, so this is what keeps the literals and the
//! parsers' constants one contract.

use qnet_domain::FieldErrors;
use serde_json::{Value, json};
use time::macros::{date, datetime};

type Parser = fn(&Value) -> Result<(), FieldErrors>;

fn errors(r: Result<(), FieldErrors>) -> Vec<String> {
    r.err().map(|e| e.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
}

/// The schema an operand points to: a `$ref` (possibly inside a `oneOf` with null)
/// resolved against the document's components.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> Option<&'a Value> {
    if let Some(r) = s["$ref"].as_str() {
        return doc["components"]["schemas"].get(r.rsplit('/').next()?);
    }
    s["oneOf"].as_array()?.iter().find_map(|o| resolve(doc, o))
}

/// Every string property with a `maxLength` and no pattern or format of its own,
/// as (path in the body, its limit); nested objects give `outer.inner`.
fn text_limits(doc: &Value, schema: &Value, prefix: &str, out: &mut Vec<(Vec<String>, u64)>) {
    let Some(props) = schema["properties"].as_object() else { return };
    for (name, p) in props {
        let mut path: Vec<String> = if prefix.is_empty() { vec![] } else { prefix.split('.').map(String::from).collect() };
        path.push(name.clone());
        if let Some(inner) = resolve(doc, p) {
            text_limits(doc, inner, &path.join("."), out);
            continue;
        }
        let plain = p.get("format").is_none() && p["pattern"].as_str().is_none_or(|x| x == r"\S");
        if let (Some(max), true) = (p["maxLength"].as_u64(), plain) {
            out.push((path, max));
        }
    }
}

fn with(base: &Value, path: &[String], v: Value) -> Value {
    let mut body = base.clone();
    let mut at = &mut body;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            at[key.as_str()] = v;
            break;
        }
        if at.get(key.as_str()).is_none() {
            at[key.as_str()] = json!({});
        }
        at = &mut at[key.as_str()];
    }
    body
}

fn check(doc: &Value, name: &str, base: Value, skip: &[&str], parse: Parser) -> usize {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "{name} is not in the document");
    assert_eq!(errors(parse(&base)), Vec::<String>::new(), "{name}: the base body should parse");
    let mut limits = vec![];
    text_limits(doc, schema, "", &mut limits);
    let mut checked = 0;
    for (path, max) in limits {
        let field = path.join(".");
        if skip.contains(&field.as_str()) {
            continue;
        }
        let at = errors(parse(&with(&base, &path, json!("x".repeat(max as usize)))));
        assert!(!at.contains(&field), "{name}.{field}: {max} characters is within the schema but the parser refused it");
        let past = errors(parse(&with(&base, &path, json!("x".repeat(max as usize + 1)))));
        assert!(past.contains(&field), "{name}.{field}: {} characters is past the schema but the parser took it", max + 1);
        checked += 1;
    }
    checked
}

#[test]
fn case_study_schemas_read_the_parsers_limits() {
    use qnet_domain::case_study::*;
    let doc = qnet_api::openapi_json();
    let s = &doc["components"]["schemas"];
    assert_eq!(s["CaseStudyInput"]["properties"]["title"]["maxLength"], TITLE_MAX);
    assert_eq!(s["CaseStudyInput"]["properties"]["summary"]["maxLength"], SUMMARY_MAX);
    assert_eq!(s["CaseStudyInput"]["properties"]["body"]["maxLength"], BODY_MAX);
    assert_eq!(s["CaseStudyInput"]["properties"]["topics"]["maxItems"], TOPICS_MAX);
    assert_eq!(s["SectionsInput"]["properties"]["aim"]["maxLength"], SECTION_MAX);
    assert_eq!(s["RejectionInput"]["properties"]["reason"]["maxLength"], REASON_MAX);

    let base = json!({"title": "t", "body": "b"});
    let n = check(&doc, "CaseStudyInput", base, &[], |v| NewCaseStudy::parse(v).map(drop));
    assert_eq!(n, 3 + Sections::FIELDS.len(), "title, summary, body and each section");
    check(&doc, "CaseStudyPatchInput", json!({}), &[], |v| CaseStudyPatch::parse(v).map(drop));
    check(&doc, "RejectionInput", json!({"reason": "r"}), &[], |v| parse_rejection(v).map(drop));

    // Topics: the schema's maxItems is the parser's.
    let ids: Vec<&str> = qnet_domain::topics::TOPICS.iter().map(|t| t.id).collect();
    let at = json!({"title": "t", "body": "b", "topics": ids[..TOPICS_MAX]});
    assert!(NewCaseStudy::parse(&at).is_ok());
    let past = json!({"title": "t", "body": "b", "topics": ids[..=TOPICS_MAX]});
    assert!(errors(NewCaseStudy::parse(&past).map(drop)).iter().any(|f| f == "topics"));
}

#[test]
fn every_other_body_schema_reads_its_parsers_limits() {
    use qnet_domain::{event, member, mentoring, organisation, project, question, resource};
    let doc = qnet_api::openapi_json();
    let topic = qnet_domain::topics::TOPICS[0].id;
    let total = [
        check(&doc, "ResourceInput", json!({"title": "t", "description": "d", "kind": "guide"}), &[], |v| {
            resource::NewResource::parse(v).map(drop)
        }),
        check(&doc, "ResourcePatchInput", json!({}), &[], |v| resource::ResourcePatch::parse(v).map(drop)),
        check(
            &doc,
            "EventInput",
            json!({"kind": "training", "title": "t", "description": "d", "starts_at": "2026-12-01T10:00:00Z",
                   "ends_at": "2026-12-01T12:00:00Z", "location": "Leeds", "capacity": 10, "host_organisation_id": "o"}),
            // Go-and-see fields: refused on other kinds whatever their length.
            &["what_you_will_see", "host"],
            |v| event::EventFields::parse_new(v, datetime!(2026-11-23 12:00 UTC)).map(drop),
        ),
        check(&doc, "EventPatchInput", json!({}), &["what_you_will_see", "host"], |v| event::EventPatch::parse(v).map(drop)),
        check(&doc, "ProjectInput", json!({"title": "t", "aim": "a", "organisation_ids": ["o"]}), &[], |v| {
            project::NewProject::parse(v, date!(2026 - 11 - 23)).map(drop)
        }),
        check(&doc, "ProjectPatchInput", json!({}), &[], |v| project::ProjectPatch::parse(v, date!(2026 - 11 - 23)).map(drop)),
        check(&doc, "PdsaInput", json!({"plan": "p"}), &[], |v| project::NewPdsa::parse(v, date!(2026 - 11 - 23)).map(drop)),
        check(&doc, "MeasureInput", json!({}), &[], |v| project::MeasureInput::parse(v, false).map(drop)),
        check(&doc, "AnnotationInput", json!({"date": "2026-11-01", "text": "t"}), &[], |v| {
            project::parse_annotation(v).map(drop)
        }),
        check(&doc, "PostInput", json!({"body": "b"}), &[], |v| project::parse_post(v).map(drop)),
        check(&doc, "AdoptionInput", json!({}), &[], |v| qnet_domain::adoption::NewAdoption::parse(v).map(drop)),
        check(&doc, "SimilarInput", json!({"title": "Falls"}), &[], |v| qnet_domain::similar::SimilarDraft::parse(v).map(drop)),
        check(&doc, "TeamUpInput", json!({"message": "Hello"}), &[], |v| qnet_domain::similar::TeamUpRequest::parse(v).map(drop)),
        check(
            &doc,
            "MentorInput",
            json!({"offers": ["mentoring"], "topics": [topic], "capacity": 2, "accepting": true}),
            &[],
            |v| mentoring::MentorInput::parse(v).map(drop),
        ),
        check(&doc, "MentoringRequestInput", json!({"kind": "mentoring", "topics": [topic], "goals": "g"}), &[], |v| {
            mentoring::RequestInput::parse(v).map(drop)
        }),
        check(&doc, "CloseInput", json!({}), &[], |v| mentoring::parse_close(v).map(drop)),
        check(&doc, "OrganisationInput", json!({"name": "n", "type": "nhs"}), &[], |v| {
            organisation::OrganisationInput::parse(v, true).map(drop)
        }),
        check(&doc, "MemberPatchInput", json!({}), &[], |v| member::MemberPatch::parse(v).map(drop)),
        check(&doc, "QuestionBodyInput", json!({"body": "b"}), &[], |v| question::parse_body(v).map(drop)),
        check(&doc, "ReportInput", json!({"reason": "r"}), &[], |v| question::parse_report(v).map(drop)),
    ];
    assert!(total.iter().sum::<usize>() >= 30, "{total:?}");
}
