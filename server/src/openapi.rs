//! The OpenAPI document of `/api/v1`, served at `GET /api/v1/openapi.json`. Every
//! handler carries a `#[utoipa::path]` attribute; this list gathers them, and a
//! test checks it against the routes the router serves.
//!
//! Each operation also says who may call it, as the extension
//! `x-causeway-access`: `anyone`, `user` (signed in), `user:<right>`, `member`
//! (of the chat `{id}`; anyone else gets the 404 of a chat that does not
//! exist), `member:<right>` or `admin`. `tests/authorization.rs` calls every
//! operation of the served document as every kind of caller against it, and
//! fails on an operation without a class it knows.

use utoipa::OpenApi;

use crate::error::Json;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Causeway API",
        description = "The HTTP API of a Causeway server: what its web client uses, and what scripts and bots may use. \
            Every error is `{\"error\": {\"code\", \"message\"}}` with a stable code. Requests that change state \
            from a browser must come from the server's own origin; sessions are the `causeway_session` cookie. \
            Realtime: a WebSocket at `/api/v1/events` (same session) sends `Push` JSON frames, `ready` first, and takes `ClientFrame`s (typing)."
    ),
    paths(
        crate::auth::routes::login,
        crate::auth::routes::logout,
        crate::auth::routes::me,
        crate::account::show,
        crate::account::update_profile,
        crate::account::change_password,
        crate::contacts::list,
        crate::contacts::set_personal,
        crate::avatars::upload,
        crate::avatars::remove,
        crate::avatars::serve,
        crate::admin::users::list,
        crate::admin::users::create,
        crate::admin::users::show,
        crate::admin::users::update,
        crate::admin::users::set_password,
        crate::admin::users::set_groups,
        crate::admin::users::unlock,
        crate::admin::users::delete,
        crate::admin::groups::list,
        crate::admin::groups::create,
        crate::admin::groups::show,
        crate::admin::groups::update,
        crate::admin::groups::delete,
        crate::admin::groups::set_members,
        crate::admin::groups::set_address_book,
        crate::admin::settings::security,
        crate::admin::settings::set_security,
        crate::admin::settings::display_fields,
        crate::admin::settings::set_display_fields,
        crate::admin::settings::chats,
        crate::admin::settings::set_chats,
        crate::admin::settings::files,
        crate::admin::settings::set_files,
        crate::admin::settings::federation,
        crate::admin::settings::set_federation,
        crate::admin::settings::federation_status,
        crate::admin::audit_log::list,
        crate::chats::list,
        crate::chats::open_direct,
        crate::chats::create_group,
        crate::chats::show,
        crate::chats::history,
        crate::chats::send,
        crate::chats::edit,
        crate::chats::delete,
        crate::chats::read,
        crate::chats::events,
        crate::chats::search,
        crate::chats::add_members,
        crate::chats::remove_member,
        crate::chats::set_role,
        crate::files::upload,
        crate::files::download,
        crate::files::preview,
        document,
    ),
    components(schemas(app::types::Push, app::types::ClientFrame)),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "account", description = "What every signed-in user may do"),
        (name = "admin", description = "The control panel: administrators only"),
        (name = "chats", description = "Direct and group chats"),
        (name = "files", description = "Files sent in chats"),
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json` — anyone. This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")),
    tag = "auth",
    extensions(("x-causeway-access" = json!("anyone"))),
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
