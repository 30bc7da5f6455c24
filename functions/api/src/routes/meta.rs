use axum::Json;
use axum::response::IntoResponse;
use qnet_app::views::{TopicList, TopicView};
use qnet_domain::topics::TOPICS;

/// The answer of `GET /health`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
}

/// Liveness: answers without touching storage.
#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, description = "The service is up", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// The QI topic list; records refer to topics by `id`.
#[utoipa::path(get, path = "/topics", tag = "meta", responses((status = 200, description = "Every topic", body = TopicList)))]
pub async fn topics() -> Json<TopicList> {
    Json(TopicList {
        items: TOPICS.iter().map(|t| TopicView { id: t.id.into(), name: t.name.into() }).collect(),
        next_cursor: None,
    })
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn openapi_document() -> impl IntoResponse {
    Json(crate::openapi_json())
}
