//! Users' photos: upload, serving, replacement, removal, and what is refused.

use app::types::{Contacts, MyAccount};

use crate::common::{self, TestServer, error_of};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn put_avatar(
    client: &common::Client,
    body: Vec<u8>,
    content_type: &str,
) -> reqwest::Response {
    client
        .http
        .put(format!("{}/api/v1/me/avatar", client.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_user_sets_replaces_and_removes_their_photo() {
    let server = TestServer::start().await;
    let admin = server.admin().await;

    let response = put_avatar(&admin, PNG.to_vec(), "image/png").await;
    assert_eq!(response.status(), 200);
    let account: MyAccount = response.json().await.unwrap();
    let url = account.avatar_url.expect("the photo's address");
    assert!(
        url.starts_with("/api/v1/avatars/") && url.ends_with(".png"),
        "{url}"
    );
    assert_eq!(
        admin.me_ok().await.avatar_url.as_deref(),
        Some(url.as_str())
    );

    let photo = admin.get(&url).await;
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert_eq!(photo.headers()["x-content-type-options"], "nosniff");
    assert_eq!(photo.bytes().await.unwrap().as_ref(), PNG);

    // Signed-out visitors see no photos.
    assert_eq!(server.client().get(&url).await.status(), 401);

    // Whatever the client claims, the content decides.
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0u8; 64]].concat();
    let response = put_avatar(&admin, jpeg, "image/png").await;
    let replaced: MyAccount = response.json().await.unwrap();
    let second = replaced.avatar_url.unwrap();
    assert!(second.ends_with(".jpg"), "{second}");
    assert_eq!(
        admin.get(&second).await.headers()["content-type"],
        "image/jpeg"
    );

    // Others see it in their contacts.
    let wolf_id = {
        let created: serde_json::Value = admin
            .http
            .post(format!("{}/api/v1/admin/users", server.base))
            .json(&serde_json::json!({
                "login": "wolf", "password": "wolf-password-1",
                "profile": { "display_name": "Wolf" }
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["id"].as_i64().unwrap()
    };
    let no_group = server
        .state
        .store
        .builtin_group(app::types::BuiltinGroup::NoGroup)
        .await
        .unwrap()
        .id;
    let book = serde_json::json!({ "entries": [{ "causeway_id": "admin@localhost" }] });
    let response = admin
        .http
        .put(format!(
            "{}/api/v1/admin/groups/{no_group}/address-book",
            server.base
        ))
        .json(&book)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(wolf_id > 0);
    let wolf = server.client();
    assert_eq!(
        wolf.login("wolf", "wolf-password-1", false).await.status(),
        200
    );
    let contacts: Contacts = wolf.get("/api/v1/contacts").await.json().await.unwrap();
    assert_eq!(
        contacts.contacts[0].avatar_url.as_deref(),
        Some(second.as_str())
    );

    let removed: MyAccount = admin
        .http
        .delete(format!("{}/api/v1/me/avatar", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(removed.avatar_url, None);
    server.stop().await;
}

#[tokio::test]
async fn bad_photos_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin().await;

    let response = put_avatar(
        &admin,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
        "image/svg+xml",
    )
    .await;
    assert_eq!(response.status(), 415);
    assert_eq!(error_of(response).await.0, "unsupported_media_type");

    let huge = [PNG, &vec![0u8; 600 * 1024]].concat();
    let response = put_avatar(&admin, huge, "image/png").await;
    assert_eq!(response.status(), 413);
    assert_eq!(error_of(response).await.0, "payload_too_large");

    let response = put_avatar(&admin, Vec::new(), "image/png").await;
    assert_eq!(response.status(), 422);

    assert_eq!(admin.me_ok().await.avatar_url, None, "nothing was stored");
    for path in [
        "/api/v1/avatars/..%2F..%2Fcauseway.db",
        "/api/v1/avatars/not-a-photo.png",
        &format!("/api/v1/avatars/{}.png", "0".repeat(64)),
    ] {
        let response = admin.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(error_of(response).await.0, "not_found");
    }
    let anonymous = put_avatar(&server.client(), PNG.to_vec(), "image/png").await;
    assert_eq!(anonymous.status(), 401);
    server.stop().await;
}
