//! Resources: guides, tools, templates, slides, videos, datasets and links that
//! members share. Moderated exactly as case studies are (see the app's
//! `moderation` module); a resource is either a checked file or an `https` link.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::case_study::{Hold, Status, SubmittedBy, TITLE_MAX, TOPICS_MAX, org_text, topic_ok};
use crate::text::{Input, Presence};

pub const DESCRIPTION_MAX: usize = 5_000;
pub const URL_MAX: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Guide,
    Tool,
    Template,
    Slides,
    Video,
    Dataset,
    Link,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::Guide,
        ResourceKind::Tool,
        ResourceKind::Template,
        ResourceKind::Slides,
        ResourceKind::Video,
        ResourceKind::Dataset,
        ResourceKind::Link,
    ];
    pub const NAMES: [&'static str; 7] = ["guide", "tool", "template", "slides", "video", "dataset", "link"];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|k| *k == self).expect("every kind is listed")]
    }

    pub fn parse(s: &str) -> Option<ResourceKind> {
        Self::NAMES.iter().position(|n| *n == s).map(|i| Self::ALL[i])
    }
}

/// The stored resource. Its file (when it has one) lives in its own item, joined
/// in when answering; its download count lives in a counter item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: ResourceKind,
    pub topics: Vec<String>,
    pub organisation_id: String,
    /// An external link (`https` only); absent for a file resource.
    pub url: Option<String>,
    /// The current file, declared with `POST /resources/{id}/file`.
    pub file_id: Option<String>,
    pub status: Status,
    pub rejection_reason: Option<String>,
    pub hold: Option<Hold>,
    pub submitted_by: SubmittedBy,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: u64,
}

impl Resource {
    pub fn texts(&self) -> Vec<&str> {
        vec![self.title.as_str(), self.description.as_str()]
    }

    /// The patient data guard, as for case studies: a hold stays until a
    /// moderator releases it.
    pub fn apply_guard(&mut self) {
        if self.hold.is_none()
            && let Some(reason) = crate::patient_data::scan(&self.texts())
        {
            self.hold = Some(Hold { reason });
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResource {
    pub title: String,
    pub description: String,
    pub kind: ResourceKind,
    pub topics: Vec<String>,
    pub organisation_id: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: Option<ResourceKind>,
    pub topics: Option<Vec<String>>,
    pub organisation_id: Option<String>,
    /// `Some(None)` removes the link (a file must then be added).
    pub url: Option<Option<String>>,
}

const FIELDS: [&str; 6] = ["title", "description", "kind", "topics", "organisation_id", "url"];

/// An absolute `https` URL with a host, without credentials.
pub fn https_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters"));
    }
    let u = url::Url::parse(s).map_err(|_| "must be an absolute https URL".to_string())?;
    if u.scheme() != "https" {
        return Err("must be an https URL".into());
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    Ok(u.to_string())
}

fn url_field(i: &mut Input<'_>) -> Option<String> {
    let v = i.text("url", Presence::Optional, 1, URL_MAX)?;
    match https_url(&v) {
        Ok(u) => Some(u),
        Err(m) => {
            i.errors.push("url", m);
            None
        }
    }
}

fn kind_field(i: &mut Input<'_>) -> Option<ResourceKind> {
    i.choice("kind", &ResourceKind::NAMES).and_then(|k| ResourceKind::parse(&k))
}

impl NewResource {
    pub fn parse(value: &serde_json::Value) -> Result<NewResource, FieldErrors> {
        let mut i = Input::new(value, &FIELDS);
        let title = i.text("title", Presence::Required, 1, TITLE_MAX);
        let description = i.text("description", Presence::Required, 1, DESCRIPTION_MAX);
        if !i.has("kind") {
            i.errors.push("kind", "is required");
        }
        let kind = kind_field(&mut i);
        let topics = i.id_list("topics", TOPICS_MAX, topic_ok).unwrap_or_default();
        let organisation_id = org_text(&mut i);
        let url = url_field(&mut i);
        if kind == Some(ResourceKind::Link) && url.is_none() && !i.errors.0.iter().any(|e| e.field == "url") {
            i.errors.push("url", "is required for a link");
        }
        let errors = i.errors;
        match (errors.is_empty(), title, description, kind) {
            (true, Some(title), Some(description), Some(kind)) => {
                Ok(NewResource { title, description, kind, topics, organisation_id, url })
            }
            _ => Err(errors),
        }
    }
}

impl ResourcePatch {
    pub fn parse(value: &serde_json::Value) -> Result<ResourcePatch, FieldErrors> {
        let mut i = Input::new(value, &FIELDS);
        let mut p = ResourcePatch::default();
        if i.has("title") {
            p.title = i.text("title", Presence::Required, 1, TITLE_MAX);
        }
        if i.has("description") {
            p.description = i.text("description", Presence::Required, 1, DESCRIPTION_MAX);
        }
        if i.has("kind") {
            p.kind = kind_field(&mut i);
            if p.kind.is_none() && i.errors.is_empty() {
                i.errors.push("kind", "cannot be removed");
            }
        }
        if i.has("topics") {
            p.topics = i.id_list("topics", TOPICS_MAX, topic_ok);
        }
        if i.has("organisation_id") {
            p.organisation_id = org_text(&mut i);
            if p.organisation_id.is_none() && !i.errors.0.iter().any(|e| e.field == "organisation_id") {
                i.errors.push("organisation_id", "cannot be removed");
            }
        }
        if i.has("url") {
            p.url = Some(if value.get("url").is_some_and(serde_json::Value::is_null) { None } else { url_field(&mut i) });
        }
        if i.errors.is_empty() { Ok(p) } else { Err(i.errors) }
    }

    pub fn apply(self, r: &mut Resource) {
        if let Some(v) = self.title {
            r.title = v;
        }
        if let Some(v) = self.description {
            r.description = v;
        }
        if let Some(v) = self.kind {
            r.kind = v;
        }
        if let Some(v) = self.topics {
            r.topics = v;
        }
        if let Some(v) = self.organisation_id {
            r.organisation_id = v;
        }
        if let Some(v) = self.url {
            r.url = v;
        }
    }
}

/// The wire shape of each request body parsed above, for the OpenAPI document
/// only: the parser reads the `serde_json::Value` (reporting every field error at
/// once) and these types describe the same contract to clients. utoipa takes only
/// literal numbers for limits, so `tests::schema_matches_parser` checks each
/// literal against the constant the parser uses.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// A new resource: a file (declare it next with `POST /resources/{id}/file`) or
    /// an external `https` link.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ResourceInput {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub title: String,
        #[schema(min_length = 1, max_length = 5000, pattern = r"\S")]
        pub description: String,
        pub kind: super::ResourceKind,
        /// Topic ids from `GET /topics`.
        #[schema(max_items = 10)]
        pub topics: Option<Vec<String>>,
        /// Defaults to the member's organisation.
        pub organisation_id: Option<String>,
        /// An absolute `https` URL; required for `kind: link`.
        #[schema(max_length = 2000, pattern = "^https://")]
        pub url: Option<String>,
    }

    /// Changes to a resource; absent fields stay as they are.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ResourcePatchInput {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub title: Option<String>,
        #[schema(min_length = 1, max_length = 5000, pattern = r"\S")]
        pub description: Option<String>,
        pub kind: Option<super::ResourceKind>,
        #[schema(max_items = 10)]
        pub topics: Option<Vec<String>>,
        pub organisation_id: Option<String>,
        /// An absolute `https` URL; null removes the link.
        #[schema(max_length = 2000, pattern = "^https://")]
        pub url: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn new_resource_names_every_bad_field() {
        let e = NewResource::parse(
            &json!({"title": "", "kind": "poster", "url": "http://x.example", "topics": ["nope"], "extra": 1}),
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        for f in ["title", "description", "kind", "url", "topics[0]", "extra"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn links_need_https_urls() {
        assert!(NewResource::parse(&json!({"title": "t", "description": "d", "kind": "link"})).is_err());
        let r = NewResource::parse(&json!({"title": "t", "description": "d", "kind": "link", "url": "https://qi.example/x"}))
            .unwrap();
        assert_eq!(r.url.as_deref(), Some("https://qi.example/x"));
        assert!(https_url("https://user:pw@qi.example/").is_err());
        assert!(https_url("javascript:alert(1)").is_err());
        assert!(https_url("ftp://qi.example/").is_err());
        let guide = NewResource::parse(&json!({"title": "t", "description": "d", "kind": "guide"})).unwrap();
        assert_eq!(guide.url, None);
    }

    #[test]
    fn patch_can_clear_the_url_but_not_the_kind() {
        let p = ResourcePatch::parse(&json!({"url": null})).unwrap();
        assert_eq!(p.url, Some(None));
        assert!(ResourcePatch::parse(&json!({"kind": null})).is_err());
        assert!(ResourcePatch::parse(&json!({"url": "http://a.example"})).is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for k in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
    }
}
