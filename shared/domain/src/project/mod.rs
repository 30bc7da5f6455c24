//! QI projects: the register of improvement work across the system, their PDSA
//! cycles, measures, data points, annotations and discussion posts. Parsing
//! collects every field error at once; unknown fields are refused.

mod record;
#[cfg(feature = "openapi")]
pub mod wire;

pub use record::{Annotation, Measure, Pdsa, Project};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use crate::FieldErrors;
use crate::text::{FreeText, FreeTextError, Input, Presence, check_text};
use crate::topics;

pub const TITLE_MAX: usize = 200;
pub const AIM_MAX: usize = 2_000;
pub const LONG_TEXT_MAX: usize = 10_000;
pub const MAX_ORGANISATIONS: usize = 10;
pub const MAX_TEAM: usize = 30;
pub const MAX_TOPICS: usize = 10;
/// Points in one upload (JSON or CSV); a 1 MB body holds about this many CSV lines.
pub const MAX_POINTS_PER_UPLOAD: usize = 10_000;
/// Values beyond this (either sign) are refused as out of range: no count, rate
/// or time a team measures comes near it, and it keeps the limits' arithmetic exact.
pub const VALUE_LIMIT: f64 = 1e12;
/// The earliest date a point, PDSA cycle or project start may carry.
pub const EARLIEST: Date = time::macros::date!(1900 - 01 - 01);
pub const POST_MAX: usize = 10_000;
pub const ANNOTATION_MAX: usize = 200;

time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const WORDS: &'static [&'static str] = &[$($text),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

word_enum!(
    /// Where a project is in its life.
    ProjectStatus { Idea => "idea", Active => "active", Sustaining => "sustaining", Completed => "completed", Stopped => "stopped" }
);
word_enum!(
    /// What kind of work it is: research needs ethics approval, QI, audit and
    /// service evaluation do not (see `GET /projects/classification-questions`).
    Classification {
        QualityImprovement => "quality_improvement",
        Audit => "audit",
        ServiceEvaluation => "service_evaluation",
        Research => "research",
    }
);
word_enum!(
    /// The family of measures a measure belongs to.
    MeasureType { Outcome => "outcome", Process => "process", Balancing => "balancing" }
);
word_enum!(
    /// Which way is better.
    ImprovementDirection { Up => "up", Down => "down", Neither => "neither" }
);
word_enum!(
    /// How often the measure is taken.
    Frequency {
        Daily => "daily",
        Weekly => "weekly",
        Fortnightly => "fortnightly",
        Monthly => "monthly",
        Quarterly => "quarterly",
        Yearly => "yearly",
    }
);

/// The IHI project progress scale (0.5 to 5 in steps of 0.5) and its labels.
pub const PROGRESS_SCALE: &[(f64, &str)] = &[
    (0.5, "Intent to participate"),
    (1.0, "Forming team"),
    (1.5, "Planning for the project has begun"),
    (2.0, "Activity, but no changes"),
    (2.5, "Changes tested, but no improvement"),
    (3.0, "Modest improvement"),
    (3.5, "Improvement"),
    (4.0, "Significant improvement"),
    (4.5, "Sustainable improvement"),
    (5.0, "Outstanding sustainable results"),
];

/// The label of a progress score on the IHI scale.
pub fn progress_label(score: f64) -> Option<&'static str> {
    PROGRESS_SCALE.iter().find(|(s, _)| (*s - score).abs() < 1e-9).map(|(_, l)| *l)
}

impl Classification {
    pub fn needs_ethics_approval(self) -> bool {
        self == Classification::Research
    }
}

/// One question of the guided classification, asked in order; the first "yes"
/// with an outcome decides. If every answer is "no", the work is a service evaluation.
pub struct ClassificationQuestion {
    pub id: &'static str,
    pub text: &'static str,
    pub help: &'static str,
    pub if_yes: Classification,
}

/// After the UK Health Research Authority's "Is my study research?" decision
/// tool and its table "Defining research" (research, audit, service evaluation),
/// with quality improvement told apart by testing changes in cycles.
pub const CLASSIFICATION_QUESTIONS: &[ClassificationQuestion] = &[
    ClassificationQuestion {
        id: "randomised",
        text: "Are people (or groups, wards, practices) allocated at random to different treatments or services?",
        help: "Randomisation is a mark of research.",
        if_yes: Classification::Research,
    },
    ClassificationQuestion {
        id: "changes_care_for_study",
        text: "Does the work change the care, treatment or services people receive from accepted practice, for the sake of the study?",
        help: "Giving care that is not standard in order to study it is research; changing a process that everyone agrees is better is improvement.",
        if_yes: Classification::Research,
    },
    ClassificationQuestion {
        id: "generalisable",
        text: "Is the main aim to produce new, generalisable knowledge (to test a hypothesis) rather than to improve or judge care here?",
        help: "Research answers a question for everyone; QI, audit and evaluation are about local care.",
        if_yes: Classification::Research,
    },
    ClassificationQuestion {
        id: "tests_changes",
        text: "Are you testing changes to improve a process or outcome here, for example in PDSA cycles, and measuring over time?",
        help: "Quality improvement: small tests of change, measured on run or SPC charts.",
        if_yes: Classification::QualityImprovement,
    },
    ClassificationQuestion {
        id: "measures_against_standard",
        text: "Are you measuring current care against a defined standard (a NICE guideline, a local policy) to see whether it is met?",
        help: "Clinical audit compares what happens with what should happen.",
        if_yes: Classification::Audit,
    },
];

/// What the guided questions conclude when no question was answered "yes".
pub const CLASSIFICATION_DEFAULT: Classification = Classification::ServiceEvaluation;

/// A date as `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &f).ok()
}

pub fn format_date(d: Date) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    d.format(&f).expect("dates format")
}

fn date_field(i: &mut Input<'_>, raw: &Value, field: &str, presence: Presence, latest: Option<Date>) -> Option<Date> {
    match raw.get(field) {
        None | Some(Value::Null) => {
            if presence == Presence::Required {
                i.errors.push(field, "is required");
            }
            None
        }
        Some(Value::String(s)) => match check_date(s, latest) {
            Ok(d) => Some(d),
            Err(m) => {
                i.errors.push(field, m);
                None
            }
        },
        Some(_) => {
            i.errors.push(field, "must be a date as YYYY-MM-DD");
            None
        }
    }
}

/// A date, not before [`EARLIEST`] and, when `latest` is given, not after it.
pub fn check_date(s: &str, latest: Option<Date>) -> Result<Date, String> {
    let d = parse_date(s).ok_or_else(|| format!("'{}' is not a date as YYYY-MM-DD", short(s)))?;
    if d < EARLIEST {
        return Err("must not be before 1900-01-01".into());
    }
    if let Some(l) = latest
        && d > l
    {
        return Err(format!("{} is in the future (today is {})", format_date(d), format_date(l)));
    }
    Ok(d)
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A finite number within ±[`VALUE_LIMIT`].
pub fn check_value(v: f64) -> Result<f64, String> {
    if !v.is_finite() {
        return Err("must be a finite number".into());
    }
    if v.abs() > VALUE_LIMIT {
        return Err("is out of range (at most 1e12 either side of zero)".into());
    }
    Ok(v)
}

fn number_field(i: &mut Input<'_>, raw: &Value, field: &str) -> Option<f64> {
    match raw.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64().map(check_value) {
            Some(Ok(v)) => Some(v),
            Some(Err(m)) => {
                i.errors.push(field, m);
                None
            }
            None => {
                i.errors.push(field, "must be a number");
                None
            }
        },
        Some(_) => {
            i.errors.push(field, "must be a number");
            None
        }
    }
}

fn word<T: Copy>(i: &mut Input<'_>, field: &str, words: &[&str], parse: fn(&str) -> Option<T>) -> Option<T> {
    i.choice(field, words).and_then(|w| parse(&w))
}

fn progress_field(i: &mut Input<'_>, raw: &Value) -> Option<f64> {
    let v = raw.get("progress_score")?;
    match v.as_f64().and_then(|s| progress_label(s).map(|_| s)) {
        Some(s) => Some(s),
        None if v.is_null() => None,
        None => {
            i.errors.push("progress_score", "must be on the IHI scale: 0.5, 1, 1.5, … 5");
            None
        }
    }
}

fn topic_list(i: &mut Input<'_>) -> Option<Vec<String>> {
    i.id_list("topics", MAX_TOPICS, |t| if topics::is_known(t) { Ok(()) } else { Err("is not a known topic".into()) })
}

fn id_check(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 100 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Err("is not an id".into())
    } else {
        Ok(())
    }
}

/// A new project, as `POST /projects` takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProject {
    pub title: FreeText,
    pub aim: FreeText,
    pub problem: Option<FreeText>,
    pub organisation_ids: Vec<String>,
    /// Other team members (the creator is added as lead).
    pub team: Vec<String>,
    pub topics: Vec<String>,
    pub status: ProjectStatus,
    pub started_on: Option<Date>,
    pub classification: Option<Classification>,
    pub progress_score: Option<f64>,
}

const PROJECT_FIELDS: &[&str] = &[
    "title",
    "aim",
    "problem",
    "organisation_ids",
    "team",
    "topics",
    "status",
    "started_on",
    "classification",
    "progress_score",
];

impl NewProject {
    pub fn parse(v: &Value, today: Date) -> Result<NewProject, FieldErrors> {
        let mut i = Input::new(v, PROJECT_FIELDS);
        let title = i.free_text("title", Presence::Required, 1, TITLE_MAX);
        let aim = i.free_text("aim", Presence::Required, 1, AIM_MAX);
        let problem = i.free_text("problem", Presence::Optional, 1, LONG_TEXT_MAX);
        let organisation_ids = i.id_list("organisation_ids", MAX_ORGANISATIONS, id_check);
        match &organisation_ids {
            Some(o) if o.is_empty() => i.errors.push("organisation_ids", "name at least one organisation"),
            None if !i.errors.0.iter().any(|e| e.field.starts_with("organisation_ids")) => {
                i.errors.push("organisation_ids", "is required")
            }
            _ => {}
        }
        let team = i.id_list("team", MAX_TEAM, id_check).unwrap_or_default();
        let topics = topic_list(&mut i).unwrap_or_default();
        let status = word(&mut i, "status", ProjectStatus::WORDS, ProjectStatus::parse).unwrap_or(ProjectStatus::Idea);
        let started_on = date_field(&mut i, v, "started_on", Presence::Optional, Some(today));
        let classification = word(&mut i, "classification", Classification::WORDS, Classification::parse);
        let progress_score = progress_field(&mut i, v);
        let (Some(title), Some(aim), Some(organisation_ids)) = (title, aim, organisation_ids) else {
            return Err(i.errors);
        };
        i.errors.into_result(NewProject {
            title,
            aim,
            problem,
            organisation_ids,
            team,
            topics,
            status,
            started_on,
            classification,
            progress_score,
        })
    }
}

/// Changes to a project: absent fields stay; null clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectPatch {
    pub title: Option<FreeText>,
    pub aim: Option<FreeText>,
    pub problem: Option<Option<FreeText>>,
    pub organisation_ids: Option<Vec<String>>,
    pub team: Option<Vec<String>>,
    pub topics: Option<Vec<String>>,
    pub status: Option<ProjectStatus>,
    pub started_on: Option<Option<Date>>,
    pub classification: Option<Option<Classification>>,
    pub progress_score: Option<Option<f64>>,
}

impl ProjectPatch {
    pub fn parse(v: &Value, today: Date) -> Result<ProjectPatch, FieldErrors> {
        let mut i = Input::new(v, PROJECT_FIELDS);
        let mut p = ProjectPatch::default();
        for required in ["title", "aim", "organisation_ids", "status"] {
            if v.get(required).is_some_and(Value::is_null) {
                i.errors.push(required, "cannot be cleared");
            }
        }
        p.title = i.free_text("title", Presence::Optional, 1, TITLE_MAX);
        p.aim = i.free_text("aim", Presence::Optional, 1, AIM_MAX);
        p.problem = i.patch_free_text("problem", LONG_TEXT_MAX);
        p.organisation_ids = i.id_list("organisation_ids", MAX_ORGANISATIONS, id_check);
        if matches!(&p.organisation_ids, Some(o) if o.is_empty()) {
            i.errors.push("organisation_ids", "name at least one organisation");
        }
        p.team = i.id_list("team", MAX_TEAM, id_check);
        p.topics = topic_list(&mut i);
        p.status = word(&mut i, "status", ProjectStatus::WORDS, ProjectStatus::parse);
        if i.has("started_on") {
            p.started_on = Some(date_field(&mut i, v, "started_on", Presence::Optional, Some(today)));
        }
        if i.has("classification") {
            p.classification = Some(word(&mut i, "classification", Classification::WORDS, Classification::parse));
        }
        if i.has("progress_score") {
            p.progress_score = Some(progress_field(&mut i, v));
        }
        i.errors.into_result(p)
    }
}

/// A measure data point a PDSA cycle relates to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PointRef {
    pub measure_id: String,
    /// The point's date, `YYYY-MM-DD`.
    pub date: String,
}

/// A new PDSA cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPdsa {
    pub title: Option<FreeText>,
    pub plan: FreeText,
    pub prediction: Option<FreeText>,
    pub do_: Option<FreeText>,
    pub study: Option<FreeText>,
    pub act: Option<FreeText>,
    pub started_on: Option<Date>,
    pub ended_on: Option<Date>,
    pub points: Vec<(String, Date)>,
}

impl NewPdsa {
    pub fn parse(v: &Value, today: Date) -> Result<NewPdsa, FieldErrors> {
        let mut i = Input::new(v, &["title", "plan", "prediction", "do", "study", "act", "started_on", "ended_on", "points"]);
        let title = i.free_text("title", Presence::Optional, 1, TITLE_MAX);
        let plan = i.free_text("plan", Presence::Required, 1, LONG_TEXT_MAX);
        let prediction = i.free_text("prediction", Presence::Optional, 1, LONG_TEXT_MAX);
        let do_ = i.free_text("do", Presence::Optional, 1, LONG_TEXT_MAX);
        let study = i.free_text("study", Presence::Optional, 1, LONG_TEXT_MAX);
        let act = i.free_text("act", Presence::Optional, 1, LONG_TEXT_MAX);
        let started_on = date_field(&mut i, v, "started_on", Presence::Optional, None);
        let ended_on = date_field(&mut i, v, "ended_on", Presence::Optional, Some(today));
        if let (Some(s), Some(e)) = (started_on, ended_on)
            && e < s
        {
            i.errors.push("ended_on", "must not be before started_on");
        }
        let mut points = vec![];
        match v.get("points") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) if list.len() <= 500 => {
                for (n, p) in list.iter().enumerate() {
                    let (m, d) = (p.get("measure_id").and_then(Value::as_str), p.get("date").and_then(Value::as_str));
                    let extra = p.as_object().is_some_and(|o| o.keys().any(|k| k != "measure_id" && k != "date"));
                    match (m, d.map(|d| check_date(d, Some(today)))) {
                        (Some(m), Some(Ok(d))) if id_check(m).is_ok() && !extra => points.push((m.to_string(), d)),
                        (_, Some(Err(e))) => i.errors.push(format!("points[{n}].date"), e),
                        _ => i.errors.push(format!("points[{n}]"), "must be {\"measure_id\": id, \"date\": \"YYYY-MM-DD\"}"),
                    }
                }
            }
            Some(_) => i.errors.push("points", "must be a list of at most 500 {measure_id, date}"),
        }
        let Some(plan) = plan else { return Err(i.errors) };
        i.errors.into_result(NewPdsa { title, plan, prediction, do_, study, act, started_on, ended_on, points })
    }
}

/// A new measure, or (with every field optional) a change to one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeasureInput {
    pub name: Option<FreeText>,
    pub measure_type: Option<MeasureType>,
    pub unit: Option<Option<FreeText>>,
    pub improvement_direction: Option<ImprovementDirection>,
    pub target: Option<Option<f64>>,
    pub frequency: Option<Option<Frequency>>,
    pub definition: Option<Option<FreeText>>,
}

const MEASURE_FIELDS: &[&str] = &["name", "type", "unit", "improvement_direction", "target", "frequency", "definition"];

impl MeasureInput {
    /// `creating`: name, type and improvement_direction are required.
    pub fn parse(v: &Value, creating: bool) -> Result<MeasureInput, FieldErrors> {
        let mut i = Input::new(v, MEASURE_FIELDS);
        let req = if creating { Presence::Required } else { Presence::Optional };
        if !creating {
            for f in ["name", "type", "improvement_direction"] {
                if v.get(f).is_some_and(Value::is_null) {
                    i.errors.push(f, "cannot be cleared");
                }
            }
        }
        let mut m = MeasureInput { name: i.free_text("name", req, 1, TITLE_MAX), ..Default::default() };
        m.measure_type = word(&mut i, "type", MeasureType::WORDS, MeasureType::parse);
        m.improvement_direction = word(&mut i, "improvement_direction", ImprovementDirection::WORDS, ImprovementDirection::parse);
        if creating {
            for (f, missing) in [("type", m.measure_type.is_none()), ("improvement_direction", m.improvement_direction.is_none())]
            {
                if missing && v.get(f).is_none_or(Value::is_null) {
                    i.errors.push(f, "is required");
                }
            }
        }
        if i.has("unit") {
            m.unit = i.patch_free_text("unit", 50);
        }
        if i.has("definition") {
            m.definition = i.patch_free_text("definition", LONG_TEXT_MAX);
        }
        if i.has("target") {
            m.target = Some(number_field(&mut i, v, "target"));
        }
        if i.has("frequency") {
            m.frequency = Some(word(&mut i, "frequency", Frequency::WORDS, Frequency::parse));
        }
        i.errors.into_result(m)
    }
}

/// A point as uploaded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewPoint {
    pub date: Date,
    pub value: f64,
}

fn check_upload(points: &[(NewPoint, String)], errors: &mut FieldErrors) {
    let mut seen: std::collections::HashMap<Date, &str> = std::collections::HashMap::new();
    for (p, whence) in points {
        if let Some(first) = seen.insert(p.date, whence) {
            errors.push(whence.clone(), format!("{} is given twice in this upload (first at {first})", format_date(p.date)));
        }
    }
}

/// `{"points": [{"date": "2025-01-06", "value": 12.5}, …]}`.
pub fn parse_points_json(v: &Value, today: Date) -> Result<Vec<NewPoint>, FieldErrors> {
    let mut i = Input::new(v, &["points"]);
    let mut out: Vec<(NewPoint, String)> = vec![];
    match v.get("points") {
        None | Some(Value::Null) => i.errors.push("points", "is required"),
        Some(Value::Array(list)) if list.is_empty() => i.errors.push("points", "must hold at least one point"),
        Some(Value::Array(list)) if list.len() > MAX_POINTS_PER_UPLOAD => {
            i.errors.push("points", format!("must hold at most {MAX_POINTS_PER_UPLOAD} points; upload in parts"))
        }
        Some(Value::Array(list)) => {
            for (n, p) in list.iter().enumerate() {
                let at = format!("points[{n}]");
                let Some(obj) = p.as_object() else {
                    i.errors.push(at, "must be {\"date\": \"YYYY-MM-DD\", \"value\": number}");
                    continue;
                };
                for k in obj.keys().filter(|k| *k != "date" && *k != "value") {
                    i.errors.push(format!("{at}.{k}"), "unknown field");
                }
                let date = match obj.get("date") {
                    Some(Value::String(s)) => check_date(s, Some(today)).map_err(|e| i.errors.push(format!("{at}.date"), e)).ok(),
                    None | Some(Value::Null) => {
                        i.errors.push(format!("{at}.date"), "is required");
                        None
                    }
                    Some(_) => {
                        i.errors.push(format!("{at}.date"), "must be a date as YYYY-MM-DD");
                        None
                    }
                };
                let value = match obj.get("value") {
                    Some(Value::Number(n)) => match n.as_f64().map(check_value) {
                        Some(Ok(v)) => Some(v),
                        Some(Err(e)) => {
                            i.errors.push(format!("{at}.value"), e);
                            None
                        }
                        None => None,
                    },
                    None | Some(Value::Null) => {
                        i.errors.push(format!("{at}.value"), "is required");
                        None
                    }
                    Some(_) => {
                        i.errors.push(format!("{at}.value"), "must be a number");
                        None
                    }
                };
                if let (Some(date), Some(value)) = (date, value) {
                    out.push((NewPoint { date, value }, format!("{at}.date")));
                }
            }
        }
        Some(_) => i.errors.push("points", "must be a list of {date, value}"),
    }
    check_upload(&out, &mut i.errors);
    i.errors.into_result(out.into_iter().map(|(p, _)| p).collect())
}

/// CSV with a `date,value` header; blank lines are skipped. Errors name the
/// line (1 is the header): `line 4`.
pub fn parse_points_csv(text: &str, today: Date) -> Result<Vec<NewPoint>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut lines = text.lines().enumerate().map(|(n, l)| (n + 1, l.trim_start_matches('\u{feff}').trim()));
    let header = lines.by_ref().find(|(_, l)| !l.is_empty());
    match header {
        Some((_, h)) => {
            let cols: Vec<String> = h.split(',').map(|c| c.trim().trim_matches('"').to_ascii_lowercase()).collect();
            if cols != ["date", "value"] {
                errors.push("line 1", "the first line must be the header date,value");
                return Err(errors);
            }
        }
        None => {
            errors.push("body", "the CSV is empty: send a date,value header and one line per point");
            return Err(errors);
        }
    }
    let mut out: Vec<(NewPoint, String)> = vec![];
    for (n, line) in lines {
        if line.is_empty() {
            continue;
        }
        let at = format!("line {n}");
        if out.len() >= MAX_POINTS_PER_UPLOAD {
            errors.push(at, format!("an upload holds at most {MAX_POINTS_PER_UPLOAD} points; upload in parts"));
            break;
        }
        let cells: Vec<&str> = line.split(',').map(|c| c.trim().trim_matches('"').trim()).collect();
        if cells.len() != 2 {
            errors.push(at, format!("must have 2 columns (date,value), found {}", cells.len()));
            continue;
        }
        let date = check_date(cells[0], Some(today)).map_err(|e| errors.push(at.clone(), e)).ok();
        let value = match cells[1].parse::<f64>() {
            Ok(v) if cells[1].chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) => {
                check_value(v).map_err(|e| errors.push(at.clone(), format!("value {e}"))).ok()
            }
            _ => {
                errors.push(at.clone(), format!("'{}' is not a number", short(cells[1])));
                None
            }
        };
        if let (Some(date), Some(value)) = (date, value) {
            out.push((NewPoint { date, value }, at));
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push("body", "the CSV has a header but no points");
    }
    check_upload(&out, &mut errors);
    errors.into_result(out.into_iter().map(|(p, _)| p).collect())
}

/// A note on a date of a measure's chart (a change tested, a new process).
pub fn parse_annotation(v: &Value) -> Result<(Date, FreeText), FieldErrors> {
    let mut i = Input::new(v, &["date", "text"]);
    let date = date_field(&mut i, v, "date", Presence::Required, None);
    let text = i.free_text("text", Presence::Required, 1, ANNOTATION_MAX);
    match (date, text) {
        (Some(d), Some(t)) if i.errors.is_empty() => Ok((d, t)),
        _ => Err(i.errors),
    }
}

/// A post or a reply on a project's board.
pub fn parse_post(v: &Value) -> Result<FreeText, FieldErrors> {
    let mut i = Input::new(v, &["body"]);
    let body = i.free_text("body", Presence::Required, 1, POST_MAX);
    match body {
        Some(b) if i.errors.is_empty() => Ok(b),
        _ => Err(i.errors),
    }
}

/// A post body that came by email: cut to the longest a post may be, then
/// guarded. `Ok(None)`: nothing to post; `Err`: the patient data guard refused it.
pub fn post_from_email(body: &str) -> Result<Option<FreeText>, FreeTextError> {
    let cut: String = body.trim().chars().take(POST_MAX).collect();
    if check_text(&cut, 1, POST_MAX).is_err() {
        return Ok(None);
    }
    FreeText::parse(&cut, 1, POST_MAX).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn fields(e: &FieldErrors) -> Vec<&str> {
        e.0.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_project_needs_title_aim_and_an_organisation_and_collects_every_error() {
        let e = NewProject::parse(&json!({"status": "done", "progress_score": 2.2, "colour": 1}), TODAY).unwrap_err();
        assert_eq!(fields(&e), ["colour", "title", "aim", "organisation_ids", "status", "progress_score"]);
        let p = NewProject::parse(
            &json!({"title": "Falls", "aim": "Halve falls by March", "organisation_ids": ["o1"], "progress_score": 3.5,
                    "classification": "audit", "started_on": "2026-01-05"}),
            TODAY,
        )
        .unwrap();
        assert_eq!(p.status, ProjectStatus::Idea);
        assert_eq!(p.progress_score, Some(3.5));
        assert_eq!(progress_label(3.5), Some("Improvement"));
        let e =
            NewProject::parse(&json!({"title": "F", "aim": "A", "organisation_ids": ["o1"], "started_on": "2026-12-01"}), TODAY)
                .unwrap_err();
        assert_eq!(fields(&e), ["started_on"]);
    }

    #[test]
    fn points_refuse_bad_numbers_future_and_repeated_dates() {
        let e = parse_points_json(
            &json!({"points": [{"date": "2026-01-05", "value": "12"}, {"date": "2026-13-01", "value": 1},
                               {"date": "2027-01-01", "value": 1}, {"date": "2026-01-06", "value": 1e13},
                               {"date": "2026-01-07", "value": 1}, {"date": "2026-01-07", "value": 2}]}),
            TODAY,
        )
        .unwrap_err();
        assert_eq!(fields(&e), ["points[0].value", "points[1].date", "points[2].date", "points[3].value", "points[5].date"]);
        let ok = parse_points_json(&json!({"points": [{"date": "2026-11-23", "value": 0.5}]}), TODAY).unwrap();
        assert_eq!(ok, vec![NewPoint { date: TODAY, value: 0.5 }]);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e =
            parse_points_csv("date,value\n2026-01-05,12\n\n2026-01-06,twelve\n05/01/2026,3\n2026-01-05,4\n", TODAY).unwrap_err();
        assert_eq!(fields(&e), ["line 4", "line 5", "line 6"]);
        assert!(e.0[0].message.contains("'twelve' is not a number"), "{e}");
        let e = parse_points_csv("day,count\n", TODAY).unwrap_err();
        assert_eq!(fields(&e), ["line 1"]);
        let ok = parse_points_csv("\u{feff}Date , Value\r\n2026-01-05, 12.5\r\n\"2026-01-12\",\"-3\"\r\n", TODAY).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].value, -3.0);
        assert!(parse_points_csv("date,value\n2026-01-05,NaN\n", TODAY).is_err());
        assert!(parse_points_csv("date,value\n2026-01-05,inf\n", TODAY).is_err());
    }

    #[test]
    fn measures_and_pdsa_parse() {
        let e = MeasureInput::parse(&json!({"name": "Falls", "type": "result"}), true).unwrap_err();
        assert_eq!(fields(&e), ["type", "improvement_direction"]);
        let m =
            MeasureInput::parse(&json!({"name": "Falls", "type": "outcome", "improvement_direction": "down", "target": 4}), true)
                .unwrap();
        assert_eq!(m.target, Some(Some(4.0)));
        let e = NewPdsa::parse(
            &json!({"started_on": "2026-02-01", "ended_on": "2026-01-01", "points": [{"measure_id": "m"}]}),
            TODAY,
        )
        .unwrap_err();
        assert_eq!(fields(&e), ["plan", "ended_on", "points[0]"]);
    }

    #[test]
    fn every_classification_can_be_reached() {
        for c in Classification::ALL {
            assert!(*c == CLASSIFICATION_DEFAULT || CLASSIFICATION_QUESTIONS.iter().any(|q| q.if_yes == *c), "{c:?}");
        }
    }
}
