//! The OpenAPI document of `/api/v1`, served at `GET /api/v1/openapi.json`. Every
//! handler carries a `#[utoipa::path]` attribute; this list gathers them, and a
//! test checks it against the routes the router serves.
//!
//! Each operation also says who may call it, as the extension
//! `x-causeway-access`: `anyone`, `user` (signed in), `user:<right>`, `member`
//! (of the chat `{id}`; anyone else gets the 404 of a chat that does not
//! exist), `member:<right>` or `admin`. `tests/it/authorization.rs` calls every
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
        crate::http::auth::login,
        crate::http::auth::logout,
        crate::http::auth::me,
        crate::http::account::show,
        crate::http::account::update_profile,
        crate::http::account::change_password,
        crate::http::contacts::list,
        crate::http::contacts::set_personal,
        crate::http::contacts::lookup,
        crate::http::admin::setup::status,
        crate::http::avatars::upload,
        crate::http::avatars::remove,
        crate::http::avatars::serve,
        crate::http::admin::users::list,
        crate::http::admin::users::create,
        crate::http::admin::users::show,
        crate::http::admin::users::update,
        crate::http::admin::users::set_password,
        crate::http::admin::users::set_groups,
        crate::http::admin::users::unlock,
        crate::http::admin::users::delete,
        crate::http::admin::groups::list,
        crate::http::admin::groups::create,
        crate::http::admin::groups::show,
        crate::http::admin::groups::update,
        crate::http::admin::groups::delete,
        crate::http::admin::groups::set_members,
        crate::http::admin::groups::set_address_book,
        crate::http::admin::settings::security,
        crate::http::admin::settings::set_security,
        crate::http::admin::settings::display_fields,
        crate::http::admin::settings::set_display_fields,
        crate::http::admin::settings::chats,
        crate::http::admin::settings::set_chats,
        crate::http::admin::settings::files,
        crate::http::admin::settings::set_files,
        crate::http::admin::settings::federation,
        crate::http::admin::settings::set_federation,
        crate::http::admin::settings::federation_status,
        crate::http::admin::audit_log::list,
        crate::http::admin::audit_log::export,
        crate::http::chats::list,
        crate::http::chats::open_direct,
        crate::http::chats::create_group,
        crate::http::chats::show,
        crate::http::chats::history,
        crate::http::chats::send,
        crate::http::chats::edit,
        crate::http::chats::delete,
        crate::http::chats::read,
        crate::http::chats::mute,
        crate::http::chats::search_everywhere,
        crate::http::chats::events,
        crate::http::chats::search,
        crate::http::chats::add_members,
        crate::http::chats::remove_member,
        crate::http::chats::set_role,
        crate::http::files::upload,
        crate::http::files::download,
        crate::http::files::preview,
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
