//! `/api/v1/chats/*`: the HTTP face of the chat core ([`crate::chat`]).
//! Each handler extracts the request, asks [`ChatService`] and maps its
//! answer; the rules live in the core.

use app::types::{
    AddMembers, ApiErrorBody, ChatDetail, ChatEvent, ChatSummary, CreateGroupChat, EditMessage,
    ErrorCode, Message, MuteChat, OpenDirectChat, ReadUpTo, SearchResults, SendMessage,
    SetChatRole,
};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::chat::{Actor, ChatError, ChatId, Seq};
use crate::error::{ApiError, Json, Path, Query};
use crate::http::extract::AuthUser;
use crate::http::state::AppState;

/// The signed-in user as the chat core knows them.
pub fn actor(state: &AppState, user: &AuthUser) -> Actor {
    Actor::Local(user.user.id, user.causeway_id(state))
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::Missing(what) => ApiError::missing(what),
            ChatError::Forbidden(message) => ApiError::forbidden(message),
            ChatError::Invalid(message) => ApiError::invalid_input(message),
            ChatError::Refused { code, message } => ApiError::new(status_of(code), code, message),
            ChatError::NotAllowed(message) => {
                ApiError::new(StatusCode::FORBIDDEN, ErrorCode::ServerNotAllowed, message)
            }
            ChatError::Unavailable(message) => {
                ApiError::new(StatusCode::BAD_GATEWAY, ErrorCode::PeerUnavailable, message)
            }
            ChatError::Storage(error) => error.into(),
            ChatError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// The status that goes with a refusal's code (another server's, passed on).
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Forbidden | ErrorCode::ServerNotAllowed => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_GATEWAY,
    }
}

fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// `GET /api/v1/chats` — a signed-in user. Their chats, latest activity first.
#[utoipa::path(get, path = "/api/v1/chats",
    responses((status = 200, body = Vec<ChatSummary>), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("user"))))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<ChatSummary>>, ApiError> {
    let me = user.causeway_id(&state);
    let mut chats = state.chats.list(&me).await?;
    let rosters = state.media.rosters();
    for chat in &mut chats {
        chat.call = rosters
            .get(crate::media::RoomId(chat.id))
            .as_ref()
            .and_then(crate::calls::call_state);
    }
    Ok(Json(chats))
}

/// `POST /api/v1/chats/direct` — a signed-in user. The direct chat with another
/// user of this server: 201 when it is new, 200 when it existed.
#[utoipa::path(post, path = "/api/v1/chats/direct", request_body = OpenDirectChat,
    responses((status = 200, body = ChatDetail), (status = 201, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("user"))))]
pub async fn open_direct(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<OpenDirectChat>,
) -> Result<(StatusCode, Json<ChatDetail>), ApiError> {
    let actor = actor(&state, &user);
    let (detail, created) = state.chats.open_direct(&actor, &request.with).await?;
    Ok((created_or_ok(created), Json(detail)))
}

/// `POST /api/v1/chats` — a signed-in user. A group chat with a title; the
/// creator is its owner and the people named are members.
#[utoipa::path(post, path = "/api/v1/chats", request_body = CreateGroupChat,
    responses((status = 201, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("user"))))]
pub async fn create_group(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<CreateGroupChat>,
) -> Result<(StatusCode, Json<ChatDetail>), ApiError> {
    let actor = actor(&state, &user);
    let detail = state
        .chats
        .create_group(&actor, &request.title, request.members)
        .await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// `GET /api/v1/chats/{id}` — a member. The chat, its members and roles.
#[utoipa::path(get, path = "/api/v1/chats/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
) -> Result<Json<ChatDetail>, ApiError> {
    Ok(Json(state.chats.show(&actor(&state, &user), id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages before this number (older history).
    #[param(value_type = Option<i64>)]
    before: Option<Seq>,
    /// Messages after this number (newer history); wins over `before`.
    #[param(value_type = Option<i64>)]
    after: Option<Seq>,
    /// 1 to 200; 50 when left out.
    limit: Option<i64>,
}

/// `GET /api/v1/chats/{id}/messages?before=&after=&limit=` — a member. A page of
/// messages in order: the latest, or those before or after a number.
#[utoipa::path(get, path = "/api/v1/chats/{id}/messages", params(("id" = i64, Path), HistoryQuery),
    responses((status = 200, body = Vec<Message>), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let actor = actor(&state, &user);
    let page = state
        .chats
        .history(&actor, id, query.before, query.after, query.limit)
        .await?;
    Ok(Json(page))
}

/// `POST /api/v1/chats/{id}/messages` — a member. Sends a message; answered once
/// it is stored. 201 for a new message, 200 with the first copy for a retry with
/// the same `client_id`. With `file` (a file the sender uploaded to this chat and
/// has not sent yet; they need *Send files to chats*) the text may be empty.
#[utoipa::path(post, path = "/api/v1/chats/{id}/messages", params(("id" = i64, Path)), request_body = SendMessage,
    responses((status = 201, body = Message), (status = 200, body = Message), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn send(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Json(request): Json<SendMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let actor = actor(&state, &user);
    let (message, created) = state.chats.send(&actor, id, request).await?;
    Ok((created_or_ok(created), Json(message)))
}

/// `PATCH /api/v1/chats/{id}/messages/{seq}` — the sender, within the edit window (a panel setting).
#[utoipa::path(patch, path = "/api/v1/chats/{id}/messages/{seq}", params(("id" = i64, Path), ("seq" = i64, Path)),
    request_body = EditMessage, responses((status = 200, body = Message), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn edit(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, seq)): Path<(ChatId, Seq)>,
    Json(request): Json<EditMessage>,
) -> Result<Json<Message>, ApiError> {
    let actor = actor(&state, &user);
    Ok(Json(
        state.chats.edit(&actor, id, seq, &request.body).await?,
    ))
}

/// `DELETE /api/v1/chats/{id}/messages/{seq}` — the sender within the edit window, the
/// chat's admins and owner, and users with Operator rights.
#[utoipa::path(delete, path = "/api/v1/chats/{id}/messages/{seq}", params(("id" = i64, Path), ("seq" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, seq)): Path<(ChatId, Seq)>,
) -> Result<StatusCode, ApiError> {
    state.chats.delete(&actor(&state, &user), id, seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/chats/{id}/read` — a member. Moves their read position forward.
#[utoipa::path(put, path = "/api/v1/chats/{id}/read", params(("id" = i64, Path)), request_body = ReadUpTo,
    responses((status = 200, body = ReadUpTo), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn read(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Json(request): Json<ReadUpTo>,
) -> Result<Json<ReadUpTo>, ApiError> {
    let seq = state
        .chats
        .read(&actor(&state, &user), id, Seq(request.seq))
        .await?;
    Ok(Json(ReadUpTo { seq: seq.0 }))
}

/// `PUT /api/v1/chats/{id}/mute` — a member. Mutes or unmutes the chat for
/// them alone: no notifications and no place in the unread total, except for
/// messages that mention them. A chat of another server is muted here, where
/// the person's account is; that server is not told.
#[utoipa::path(put, path = "/api/v1/chats/{id}/mute", params(("id" = i64, Path)), request_body = MuteChat,
    responses((status = 200, body = MuteChat), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn mute(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Json(request): Json<MuteChat>,
) -> Result<Json<MuteChat>, ApiError> {
    state
        .chats
        .mute(&actor(&state, &user), id, request.muted)
        .await?;
    Ok(Json(request))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this number.
    #[param(value_type = i64)]
    after: Seq,
    /// 1 to 200; 50 when left out.
    limit: Option<i64>,
}

/// `GET /api/v1/chats/{id}/events?after=` — a member. What happened since a
/// number, in order, with each message as it stands now: the catch-up after a
/// reconnect.
#[utoipa::path(get, path = "/api/v1/chats/{id}/events", params(("id" = i64, Path), EventsQuery),
    responses((status = 200, body = Vec<ChatEvent>), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Vec<ChatEvent>>, ApiError> {
    let actor = actor(&state, &user);
    let events = state
        .chats
        .events_after(&actor, id, query.after, query.limit)
        .await?;
    Ok(Json(events))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Text to find, 1 to 100 characters, any case.
    q: String,
    /// 1 to 200; 50 when left out.
    limit: Option<i64>,
}

/// `GET /api/v1/chats/{id}/search?q=` — a member. Messages containing the text,
/// newest first.
#[utoipa::path(get, path = "/api/v1/chats/{id}/search", params(("id" = i64, Path), SearchQuery),
    responses((status = 200, body = Vec<Message>), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let actor = actor(&state, &user);
    let found = state
        .chats
        .search(&actor, id, &query.q, query.limit)
        .await?;
    Ok(Json(found))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchEverywhereQuery {
    /// Text to find, 1 to 100 characters, any case.
    q: String,
    /// The `next` of the page before.
    before: Option<String>,
    /// 1 to 200; 50 when left out.
    limit: Option<i64>,
}

/// `GET /api/v1/search?q=` — a signed-in user. Messages of all their chats
/// whose text or file name contains the text, newest first, each with its
/// chat and sender.
#[utoipa::path(get, path = "/api/v1/search", params(SearchEverywhereQuery),
    responses((status = 200, body = SearchResults), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("user"))))]
pub async fn search_everywhere(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<SearchEverywhereQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let me = user.causeway_id(&state);
    if query.before.as_ref().is_some_and(|b| b.len() > 64) {
        return Err(ApiError::invalid_input(
            "before is the `next` of a page of search results.",
        ));
    }
    let found = state
        .chats
        .search_everywhere(&me, &query.q, query.before.as_deref(), query.limit)
        .await?;
    Ok(Json(found))
}

/// `POST /api/v1/chats/{id}/members` — the owner and admins of a group chat. Adds
/// people of this server as members; people already in it are left as they are.
#[utoipa::path(post, path = "/api/v1/chats/{id}/members", params(("id" = i64, Path)), request_body = AddMembers,
    responses((status = 200, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn add_members(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Json(request): Json<AddMembers>,
) -> Result<Json<ChatDetail>, ApiError> {
    let actor = actor(&state, &user);
    Ok(Json(
        state.chats.add_members(&actor, id, request.members).await?,
    ))
}

/// `DELETE /api/v1/chats/{id}/members/{member}` — a member removing themselves
/// (leaving; an owner who leaves hands the chat to an admin, else to a member),
/// the owner removing anyone, an admin removing members, or a user with Operator
/// rights removing anyone but the owner.
#[utoipa::path(delete, path = "/api/v1/chats/{id}/members/{member}", params(("id" = i64, Path), ("member" = String, Path)),
    responses((status = 204, description = "Removed"), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn remove_member(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, member)): Path<(ChatId, String)>,
) -> Result<StatusCode, ApiError> {
    let target = member.parse().map_err(|_| ApiError::missing("member"))?;
    state
        .chats
        .remove_member(&actor(&state, &user), id, &target)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/chats/{id}/members/{member}/role` — the owner of a group chat.
/// Makes a member an admin or a member again; `owner` hands the chat over.
#[utoipa::path(put, path = "/api/v1/chats/{id}/members/{member}/role", params(("id" = i64, Path), ("member" = String, Path)),
    request_body = SetChatRole, responses((status = 200, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn set_role(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, member)): Path<(ChatId, String)>,
    Json(request): Json<SetChatRole>,
) -> Result<Json<ChatDetail>, ApiError> {
    let target = member.parse().map_err(|_| ApiError::missing("member"))?;
    let actor = actor(&state, &user);
    Ok(Json(
        state
            .chats
            .set_role(&actor, id, &target, request.role)
            .await?,
    ))
}
