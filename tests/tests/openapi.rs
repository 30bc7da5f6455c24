//! The OpenAPI document is the contract: every documented operation exists in the
//! router, every other method on a documented path is 405, and the router holds
//! nothing the document does not describe.

use qnet_tests::spawn_app;
use reqwest::Method;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[tokio::test]
async fn the_document_and_the_router_agree() {
    let t = spawn_app().await;
    let doc = t.get("/openapi.json", None).await;
    assert_eq!(doc.body, qnet_api::openapi_json());
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc.body["paths"].as_object().unwrap();
    assert!(paths.len() >= 14, "{} paths", paths.len());
    for (path, item) in paths {
        let concrete =
            path.replace("{id}", "01J0000000000000000000000Z").replace("{attachment_id}", "01J0000000000000000000000Y");
        for m in METHODS {
            let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap();
            let a = t.send(method, &concrete, None, None, &[]).await;
            let documented = item.get(m).is_some();
            if documented {
                assert_ne!(a.status.as_u16(), 405, "{m} {path} is documented but not routed");
                assert_ne!(a.body["type"], "/problems/no-such-route", "{m} {path} is documented but not routed");
                // Every answer is one the document describes for this operation.
                let responses = item[m]["responses"].as_object().unwrap();
                assert!(
                    responses.contains_key(&a.status.as_u16().to_string()),
                    "{m} {path} answered {} which is not documented",
                    a.status
                );
            } else {
                assert_eq!(a.status.as_u16(), 405, "{m} {path} is not documented but answered {}", a.status);
            }
        }
    }
}

#[test]
fn the_router_is_built_only_from_documented_routes() {
    // `api_routes()` registers every handler with `routes!(…)`, which documents it
    // as it routes it; a bare `.route(` would add an undocumented route.
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/api/src/lib.rs")).unwrap();
    assert!(!src.contains(".route("), "functions/api must register routes with routes!() only");
    assert!(!src.contains(".nest("), "functions/api must not nest undocumented routers");
}

#[test]
fn every_operation_documents_its_problems_and_security() {
    let doc = qnet_api::openapi_json();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            if !METHODS.contains(&m.as_str()) {
                continue;
            }
            let responses = op["responses"].as_object().unwrap();
            for code in ["400", "422", "500"] {
                let r = &responses[code];
                // Pages that links in emails open answer a bad link with an HTML
                // page (a person reads it in a browser), every other error with problem+json.
                let page = code == "400" && r["content"]["text/html"].is_object();
                assert!(
                    page || r["content"]["application/problem+json"].is_object(),
                    "{m} {path} lacks a problem answer for {code}"
                );
            }
            if op
                .get("security")
                .is_some_and(|s| s.as_array().is_some_and(|a| a.iter().all(|e| e.as_object().is_some_and(|o| !o.is_empty()))))
            {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{m} {path} needs login but lacks 401/403"
                );
            }
            assert!(op["summary"].is_string() || op["description"].is_string(), "{m} {path} is undescribed");
        }
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], Value::from("bearer"));
}

/// Every operation has its own `operationId`: links (and clients) name
/// operations by it, so two handlers called `list` in different modules would
/// make a link to one reach the other (schemathesis's stateful phase refuses
/// such a document).
#[tokio::test]
async fn every_operation_id_is_unique() {
    let doc = qnet_api::openapi_json();
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op.get("operationId").and_then(|v| v.as_str()) else {
                panic!("{method} {path} has no operationId");
            };
            if let Some(other) = seen.insert(id.to_string(), format!("{method} {path}")) {
                panic!("operationId {id} is used by both {other} and {method} {path}");
            }
        }
    }
}
