//! The score of one pair: every eligibility rule, every reason, the formula, and
//! the ranking's order.

use std::collections::BTreeSet;

use qnet_matching::{Candidate, CrossOrganisation, Kind, Mentor, Mode, Request, Weights, rank, score};

fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn mentor() -> Mentor {
    Mentor {
        id: "mentor-1".into(),
        name: "Ada".into(),
        organisation_id: "trust-a".into(),
        organisation_type: Some("acute trust".into()),
        offers: set(&[Kind::Mentoring, Kind::Coaching]),
        topics: strings(&["flow", "frailty"]),
        skills: strings(&["statistical process control", "coaching conversations"]),
        capacity: 3,
        load: 2,
        availability: set(&[Mode::Online]),
        accepting: true,
    }
}

fn request() -> Request {
    Request {
        id: "request-1".into(),
        member_id: "member-1".into(),
        member_organisation_id: "trust-b".into(),
        kind: Kind::Coaching,
        topics: strings(&["flow", "frailty", "sepsis"]),
        goals: String::new(),
        cross_organisation: CrossOrganisation::Prefer,
        availability: set(&[Mode::Online]),
        excluded_mentors: BTreeSet::new(),
    }
}

fn weights() -> Weights {
    Weights::default()
}

#[test]
fn a_suitable_mentor_scores_by_the_documented_formula_with_reasons_in_order() {
    let scored = score(&request(), &mentor(), &weights()).expect("eligible");
    // topics 60×2/3 + skills 0 + kind 10 + availability 10 + organisation 20 + places 20×1/3
    assert_eq!(scored.score, 40 + 10 + 10 + 20 + 6);
    assert_eq!(
        scored.reasons,
        [
            "shares 2 of your 3 topics: flow, frailty",
            "from a different organisation, as you asked",
            "available online, as you asked",
            "offers coaching",
            "has 1 of 3 places free",
        ]
    );
}

#[test]
fn each_weight_scales_only_its_own_part() {
    let base = score(&request(), &mentor(), &weights()).unwrap().score;
    let raised = |change: fn(&mut Weights)| {
        let mut w = weights();
        change(&mut w);
        score(&request(), &mentor(), &w).unwrap().score - base
    };
    assert_eq!(raised(|w| w.topic_overlap += 30), 20); // 2/3 of 30
    assert_eq!(raised(|w| w.kind_offered += 7), 7); // always earned
    assert_eq!(raised(|w| w.availability_overlap += 5), 5);
    assert_eq!(raised(|w| w.cross_organisation += 4), 4);
    assert_eq!(raised(|w| w.free_places += 30), 10); // 1/3 of 30
    // No skill matches here, so the skill weight changes nothing.
    let mut w = weights();
    w.skill_overlap = 1000;
    assert_eq!(score(&request(), &mentor(), &w).unwrap().score, base);
}

#[test]
fn zero_weights_give_zero_points_but_keep_eligibility_and_reasons() {
    let zero = Weights {
        topic_overlap: 0,
        skill_overlap: 0,
        kind_offered: 0,
        availability_overlap: 0,
        cross_organisation: 0,
        free_places: 0,
    };
    let scored = score(&request(), &mentor(), &zero).expect("still eligible");
    assert_eq!(scored.score, 0);
    assert_eq!(scored.reasons.len(), 5);
}

#[test]
fn not_offering_the_kind_is_ineligible() {
    let mut m = mentor();
    m.offers = set(&[Kind::Mentoring]);
    assert_eq!(score(&request(), &m, &weights()), None);
    let mut r = request();
    r.kind = Kind::Mentoring;
    assert!(score(&r, &m, &weights()).is_some());
}

#[test]
fn a_mentor_not_accepting_is_ineligible() {
    let mut m = mentor();
    m.accepting = false;
    assert_eq!(score(&request(), &m, &weights()), None);
}

#[test]
fn a_mentor_without_a_free_place_is_ineligible() {
    let mut m = mentor();
    m.load = 3;
    assert_eq!(score(&request(), &m, &weights()), None);
    m.load = 5; // more held than allowed: still no place, no underflow
    assert_eq!(score(&request(), &m, &weights()), None);
    m.capacity = 0;
    m.load = 0;
    assert_eq!(score(&request(), &m, &weights()), None);
}

#[test]
fn an_excluded_mentor_is_ineligible() {
    let mut r = request();
    r.excluded_mentors = strings(&["someone-else"]);
    assert!(score(&r, &mentor(), &weights()).is_some());
    r.excluded_mentors = strings(&["someone-else", "mentor-1"]);
    assert_eq!(score(&r, &mentor(), &weights()), None);
}

#[test]
fn a_member_is_never_their_own_mentor() {
    let mut r = request();
    r.member_id = "mentor-1".into();
    assert_eq!(score(&r, &mentor(), &weights()), None);
}

#[test]
fn requiring_another_organisation_rules_out_the_members_own() {
    let mut r = request();
    r.cross_organisation = CrossOrganisation::Require;
    let scored = score(&r, &mentor(), &weights()).expect("different organisation");
    assert!(scored.reasons.contains(&"from a different organisation, as you asked".to_string()));
    r.member_organisation_id = "trust-a".into();
    assert_eq!(score(&r, &mentor(), &weights()), None);
}

#[test]
fn preferring_another_organisation_only_adds_points() {
    let mut r = request();
    let other = score(&r, &mentor(), &weights()).unwrap();
    r.member_organisation_id = "trust-a".into();
    let same = score(&r, &mentor(), &weights()).expect("same organisation is still eligible");
    assert_eq!(other.score - same.score, 20);
    assert!(!same.reasons.iter().any(|reason| reason.contains("organisation")));
    r.cross_organisation = CrossOrganisation::NoPreference;
    r.member_organisation_id = "trust-b".into();
    let indifferent = score(&r, &mentor(), &weights()).unwrap();
    assert_eq!(indifferent.score, same.score);
    assert!(!indifferent.reasons.iter().any(|reason| reason.contains("organisation")));
}

#[test]
fn availability_rules_out_only_when_both_state_modes_and_share_none() {
    let mut r = request();
    r.availability = set(&[Mode::InPerson]);
    assert_eq!(score(&r, &mentor(), &weights()), None);

    let with_mode = score(&request(), &mentor(), &weights()).unwrap().score;
    r.availability = BTreeSet::new();
    let unstated = score(&r, &mentor(), &weights()).expect("the member did not say");
    assert_eq!(unstated.score, with_mode - 10);
    assert!(!unstated.reasons.iter().any(|reason| reason.starts_with("available")));

    let mut m = mentor();
    m.availability = BTreeSet::new();
    r.availability = set(&[Mode::InPerson]);
    assert!(score(&r, &m, &weights()).is_some(), "the mentor did not say");
}

#[test]
fn several_shared_modes_read_as_alternatives() {
    let mut m = mentor();
    m.availability = set(&[Mode::InPerson, Mode::Online]);
    let mut r = request();
    r.availability = set(&[Mode::Online, Mode::InPerson]);
    let reasons = score(&r, &m, &weights()).unwrap().reasons;
    assert!(reasons.contains(&"available in person or online, as you asked".to_string()), "{reasons:?}");
}

#[test]
fn topics_compare_without_case_or_surrounding_space() {
    let mut r = request();
    r.topics = strings(&["  Flow ", "FRAILTY"]);
    let scored = score(&r, &mentor(), &weights()).unwrap();
    assert_eq!(scored.reasons[0], "shares all 2 of your topics: Flow, FRAILTY");
    assert_eq!(scored.score, 60 + 10 + 10 + 20 + 6);
}

#[test]
fn one_topic_asked_and_shared_reads_naturally() {
    let mut r = request();
    r.topics = strings(&["frailty"]);
    assert_eq!(score(&r, &mentor(), &weights()).unwrap().reasons[0], "shares your topic: frailty");
}

#[test]
fn no_shared_topic_gives_no_topic_reason_and_no_topic_points() {
    let mut r = request();
    r.topics = strings(&["sepsis"]);
    let scored = score(&r, &mentor(), &weights()).expect("topics are not a condition");
    assert!(!scored.reasons.iter().any(|reason| reason.contains("topic")));
    assert_eq!(scored.score, 10 + 10 + 20 + 6);
}

#[test]
fn skills_match_when_all_their_words_are_in_topics_or_goals() {
    let mut r = request();
    r.goals = "I want to use Statistical Process Control charts; coaching skills too.".into();
    let scored = score(&r, &mentor(), &weights()).unwrap();
    // "coaching conversations" needs both words: "conversations" is missing.
    assert_eq!(scored.reasons[1], "has a skill you mention: statistical process control");
    assert_eq!(scored.score, 40 + 10 + 10 + 10 + 20 + 6);

    r.goals.push_str(" Better conversations.");
    let scored = score(&r, &mentor(), &weights()).unwrap();
    assert_eq!(scored.reasons[1], "has skills you mention: coaching conversations, statistical process control");
    assert_eq!(scored.score, 40 + 20 + 10 + 10 + 20 + 6);
}

#[test]
fn skills_count_up_to_three() {
    let mut m = mentor();
    m.skills = strings(&["flow", "frailty", "sepsis", "audit", "lean"]);
    let mut r = request();
    r.goals = "an audit with lean methods".into();
    // flow, frailty, sepsis come from the topics; audit and lean from the goals.
    let scored = score(&r, &m, &weights()).unwrap();
    assert_eq!(scored.reasons[1], "has skills you mention: audit, flow, frailty, lean, sepsis");
    assert_eq!(scored.score, 40 + 30 + 10 + 10 + 20 + 6);
}

#[test]
fn a_single_place_is_singular() {
    let mut m = mentor();
    m.capacity = 1;
    m.load = 0;
    let scored = score(&request(), &m, &weights()).unwrap();
    assert_eq!(scored.reasons.last().unwrap(), "has 1 of 1 place free");
    assert_eq!(scored.score, 40 + 10 + 10 + 20 + 20);
}

#[test]
fn mentoring_is_named_when_offered() {
    let mut r = request();
    r.kind = Kind::Mentoring;
    assert!(score(&r, &mentor(), &weights()).unwrap().reasons.contains(&"offers mentoring".to_string()));
}

fn mentors_for_ranking() -> Vec<Mentor> {
    let mut list = Vec::new();
    for (id, topics, load) in [
        ("m-c", &["flow"][..], 0),
        ("m-a", &["flow"][..], 0),
        ("m-b", &["flow", "frailty", "sepsis"][..], 2),
        ("m-d", &["sepsis"][..], 0),
    ] {
        let mut m = mentor();
        m.id = id.into();
        m.topics = strings(topics);
        m.load = load;
        list.push(m);
    }
    let mut full = mentor();
    full.id = "m-full".into();
    full.load = 3;
    list.push(full);
    list
}

#[test]
fn rank_orders_by_score_then_mentor_id_and_leaves_out_the_ineligible() {
    let ranked = rank(&request(), &mentors_for_ranking(), &weights());
    let order: Vec<(&str, u64)> = ranked.iter().map(|c| (c.mentor_id.as_str(), c.score)).collect();
    // m-b: 60 + 40 + 6 (all three topics, one place of three); m-a, m-c and m-d tie
    // at 20 + 40 + 20 (one topic, all places free), in id order.
    assert_eq!(order, [("m-b", 106), ("m-a", 80), ("m-c", 80), ("m-d", 80)]);
    assert_eq!(ranked[0].reasons, score(&request(), &mentors_for_ranking()[2], &weights()).unwrap().reasons);
}

#[test]
fn rank_does_not_depend_on_the_order_of_mentors() {
    let mentors = mentors_for_ranking();
    let first = rank(&request(), &mentors, &weights());
    let mut reversed = mentors.clone();
    reversed.reverse();
    assert_eq!(rank(&request(), &reversed, &weights()), first);
    let mut rotated = mentors;
    rotated.rotate_left(2);
    assert_eq!(rank(&request(), &rotated, &weights()), first);
}

#[test]
fn rank_of_no_mentors_is_empty() {
    assert_eq!(rank(&request(), &[], &weights()), Vec::<Candidate>::new());
}

#[test]
fn weights_load_from_partial_configuration_and_reject_misspellings() {
    let w: Weights = serde_json::from_str("{}").unwrap();
    assert_eq!(w, Weights::default());
    let w: Weights = serde_json::from_str(r#"{"topic_overlap": 80, "free_places": 0}"#).unwrap();
    assert_eq!((w.topic_overlap, w.free_places, w.kind_offered), (80, 0, 10));
    assert!(serde_json::from_str::<Weights>(r#"{"topic_overlaps": 80}"#).is_err());
    let d = Weights::default();
    assert_eq!(
        d.topic_overlap + d.skill_overlap + d.kind_offered + d.availability_overlap + d.cross_organisation + d.free_places,
        150
    );
}

#[test]
fn data_types_use_snake_case_names_in_json() {
    let json = serde_json::json!({
        "id": "request-9",
        "member_id": "member-9",
        "member_organisation_id": "org-1",
        "kind": "coaching",
        "topics": ["flow"],
        "cross_organisation": "no_preference",
        "availability": ["in_person", "online"],
    });
    let r: Request = serde_json::from_value(json).unwrap();
    assert_eq!(r.kind, Kind::Coaching);
    assert_eq!(r.cross_organisation, CrossOrganisation::NoPreference);
    assert_eq!(r.availability, set(&[Mode::InPerson, Mode::Online]));
    assert!(r.goals.is_empty() && r.excluded_mentors.is_empty());
    let back: Request = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);

    let m = mentor();
    let value = serde_json::to_value(&m).unwrap();
    assert_eq!(value["offers"], serde_json::json!(["mentoring", "coaching"]));
    assert_eq!(serde_json::from_value::<Mentor>(value).unwrap(), m);
}
