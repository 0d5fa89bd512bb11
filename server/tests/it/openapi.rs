//! The OpenAPI document lists exactly the API the server serves.

use std::collections::BTreeSet;

use crate::common::TestServer;

const OPERATIONS: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/account"),
    ("patch", "/api/v1/me/profile"),
    ("put", "/api/v1/me/password"),
    ("get", "/api/v1/contacts"),
    ("put", "/api/v1/me/address-book"),
    ("put", "/api/v1/me/avatar"),
    ("delete", "/api/v1/me/avatar"),
    ("get", "/api/v1/avatars/{name}"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/admin/users"),
    ("post", "/api/v1/admin/users"),
    ("get", "/api/v1/admin/users/{id}"),
    ("patch", "/api/v1/admin/users/{id}"),
    ("delete", "/api/v1/admin/users/{id}"),
    ("put", "/api/v1/admin/users/{id}/password"),
    ("put", "/api/v1/admin/users/{id}/groups"),
    ("post", "/api/v1/admin/users/{id}/unlock"),
    ("get", "/api/v1/admin/groups"),
    ("post", "/api/v1/admin/groups"),
    ("get", "/api/v1/admin/groups/{id}"),
    ("patch", "/api/v1/admin/groups/{id}"),
    ("delete", "/api/v1/admin/groups/{id}"),
    ("put", "/api/v1/admin/groups/{id}/members"),
    ("put", "/api/v1/admin/groups/{id}/address-book"),
    ("get", "/api/v1/admin/settings/security"),
    ("put", "/api/v1/admin/settings/security"),
    ("get", "/api/v1/admin/settings/display-fields"),
    ("put", "/api/v1/admin/settings/display-fields"),
    ("get", "/api/v1/admin/settings/chats"),
    ("put", "/api/v1/admin/settings/chats"),
    ("get", "/api/v1/admin/federation"),
    ("put", "/api/v1/admin/federation"),
    ("get", "/api/v1/admin/audit"),
    ("get", "/api/v1/chats"),
    ("post", "/api/v1/chats"),
    ("post", "/api/v1/chats/direct"),
    ("get", "/api/v1/chats/{id}"),
    ("get", "/api/v1/chats/{id}/messages"),
    ("post", "/api/v1/chats/{id}/messages"),
    ("patch", "/api/v1/chats/{id}/messages/{seq}"),
    ("delete", "/api/v1/chats/{id}/messages/{seq}"),
    ("put", "/api/v1/chats/{id}/read"),
    ("get", "/api/v1/chats/{id}/events"),
    ("get", "/api/v1/chats/{id}/search"),
    ("post", "/api/v1/chats/{id}/members"),
    ("delete", "/api/v1/chats/{id}/members/{member}"),
    ("put", "/api/v1/chats/{id}/members/{member}/role"),
    ("post", "/api/v1/chats/{id}/files"),
    ("get", "/api/v1/chats/{id}/files/{file_id}"),
    ("get", "/api/v1/chats/{id}/files/{file_id}/preview"),
    ("get", "/api/v1/admin/settings/files"),
    ("put", "/api/v1/admin/settings/files"),
    ("get", "/api/v1/admin/federation/status"),
    ("get", "/api/v1/people/lookup"),
    ("get", "/api/v1/admin/setup"),
    ("put", "/api/v1/chats/{id}/mute"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/admin/audit.csv"),
];

#[tokio::test]
async fn the_document_lists_every_operation_and_each_is_served() {
    let server = TestServer::start().await;
    let response = server.client().get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Causeway API");

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);

    // Schemas of the request and response bodies are in the document.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "LoginRequest",
        "CurrentUser",
        "UserDetail",
        "GroupDetail",
        "ApiErrorBody",
        "CausewayId",
        "Right",
        "FileInfo",
        "FileSettings",
    ] {
        assert!(schemas.contains_key(name), "schema {name} is missing");
    }

    // And every documented operation is routed: none falls to the API's 404/405.
    let admin = server.admin().await;
    for (method, path) in OPERATIONS {
        if *path == "/api/v1/auth/logout" {
            continue; // would end the session the loop uses
        }
        let url = server.url(
            &path
                .replace("{id}", "1")
                .replace("{seq}", "1")
                .replace("{file_id}", "1")
                .replace("{member}", "admin@localhost")
                .replace("{name}", "x.png"),
        );
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = admin
            .http
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}: {text}");
        assert!(
            !text.contains("There is no such API endpoint"),
            "{method} {path}: {text}"
        );
    }
    server.stop().await;
}
