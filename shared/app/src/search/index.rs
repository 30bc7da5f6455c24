//! Keeping the index up to date: the document each kind of record becomes, and the
//! hooks that the case study, resource and event use cases call on every change.

use crate::App;
use qnet_domain::case_study::{CaseStudy, Status};
use qnet_domain::event::{Event, EventStatus};
use qnet_domain::project::Project;
use qnet_domain::resource::Resource;
use qnet_ports::IndexDocument;

pub(crate) fn event_document(e: &Event) -> IndexDocument {
    let mut body = e.description.clone();
    for extra in [e.what_you_will_see.as_deref(), e.host.as_deref(), e.location.as_deref()].into_iter().flatten() {
        body.push('\n');
        body.push_str(extra);
    }
    IndexDocument { id: e.id.clone(), kind: "event".into(), title: e.title.clone(), body, topics: e.topics.clone() }
}

pub(crate) fn case_study_document(cs: &CaseStudy) -> IndexDocument {
    let mut body = cs.summary.clone();
    body.push('\n');
    body.push_str(&cs.body);
    IndexDocument { id: cs.id.clone(), kind: "case_study".into(), title: cs.title.clone(), body, topics: cs.topics.clone() }
}

impl App {
    /// Puts a case study in the index when published, takes it out otherwise.
    /// Best effort: answers are re-checked against the record anyway, and a
    /// rebuild repairs any drift.
    pub(crate) fn index_event(&self, e: &Event) {
        let Some(index) = &self.search else { return };
        let result =
            if e.status == EventStatus::Scheduled { index.upsert(&[event_document(e)]) } else { index.remove(&[e.id.as_str()]) };
        if let Err(err) = result {
            tracing::error!(event = %e.id, error = %err, "the search index was not updated");
        }
    }

    pub(crate) fn index_case_study(&self, cs: &CaseStudy) {
        let Some(index) = &self.search else { return };
        let result = if cs.status == Status::Published && cs.hold.is_none() {
            index.upsert(&[case_study_document(cs)])
        } else {
            index.remove(&[cs.id.as_str()])
        };
        if let Err(e) = result {
            tracing::error!(case_study = %cs.id, error = %e, "the search index was not updated");
        }
    }
}

pub(crate) fn resource_document(r: &Resource) -> IndexDocument {
    IndexDocument {
        id: r.id.clone(),
        kind: "resource".into(),
        title: r.title.clone(),
        body: r.description.clone(),
        topics: r.topics.clone(),
    }
}

impl App {
    /// Puts a resource in the search index when published, takes it out
    /// otherwise (best effort, as for case studies).
    pub(crate) fn index_resource(&self, r: &Resource) {
        let Some(index) = &self.search else { return };
        let result = if r.status == Status::Published && r.hold.is_none() {
            index.upsert(&[resource_document(r)])
        } else {
            index.remove(&[r.id.as_str()])
        };
        if let Err(e) = result {
            tracing::error!(resource = %r.id, error = %e, "the search index was not updated");
        }
    }
}

/// A QI project as the index takes it: found by similar work (`POST /similar`)
/// for signed-in members, never by the public `GET /search`.
pub(crate) fn project_document(p: &Project) -> IndexDocument {
    let mut body = p.aim.clone();
    if let Some(problem) = &p.problem {
        body.push('\n');
        body.push_str(problem);
    }
    IndexDocument { id: p.id.clone(), kind: "project".into(), title: p.title.clone(), body, topics: p.topics.clone() }
}

impl App {
    /// Puts a project in the index (or replaces it) on every create and
    /// update. Projects are never deleted, and one completed or stopped is
    /// still work worth finding before duplicating it, so every status stays
    /// (best effort, as for case studies).
    pub(crate) fn index_project(&self, p: &Project) {
        let Some(index) = &self.search else { return };
        if let Err(e) = index.upsert(&[project_document(p)]) {
            tracing::error!(project = %p.id, error = %e, "the search index was not updated");
        }
    }
}
