//! `/api/v1/chats/*`: direct and group chats between users of this server —
//! listing, opening, messages (idempotent sends, history both ways, edits and
//! deletions), read positions, catch-up and search. Realtime delivery and chats
//! with users of other servers build on this; messages carry files uploaded
//! through `crate::files`.

use std::collections::HashMap;

use app::types::{
    AddMembers, ApiErrorBody, CausewayId, ChatDetail, ChatEvent, ChatKind, ChatMember, ChatRole,
    ChatSummary, CreateGroupChat, EditMessage, FileInfo, Message, OpenDirectChat, Push, ReadUpTo,
    Right, SendMessage, SetChatRole,
};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::{ApiError, Json, Path, Query};
use crate::federation::protocol::{Action, Ephemeral};
use crate::federation::remote::{self, hosted_elsewhere};
use crate::federation::{other_servers, outbox, trust};
use crate::files;
use crate::rights;
use crate::state::AppState;
use crate::storage::{
    ChatMemberRow, ChatRow, EventRow, MessageRow, NewChat, NewMessage, StorageError, direct_key,
};
use crate::time::now_millis;

/// Most members a chat may have.
const MAX_MEMBERS: usize = 1000;

fn me(state: &AppState, user: &AuthUser) -> CausewayId {
    user.causeway_id(state)
}

/// Who acts in a chat: a signed-in user of this server, or a user of another
/// server on whose behalf their home server asks (who then holds the rights of
/// Federated Users here).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: CausewayId,
    user_id: Option<i64>,
}

impl Actor {
    pub fn of(state: &AppState, user: &AuthUser) -> Self {
        Self {
            id: me(state, user),
            user_id: Some(user.user.id),
        }
    }

    pub fn remote(id: CausewayId) -> Self {
        Self { id, user_id: None }
    }

    /// Is this a user of another server?
    pub fn is_remote(&self) -> bool {
        self.user_id.is_none()
    }

    /// Does the actor hold `right` on this server?
    pub async fn may(&self, state: &AppState, right: Right) -> Result<bool, ApiError> {
        Ok(match self.user_id {
            Some(user_id) => rights::has(&state.store, user_id, right).await?,
            None => {
                state
                    .store
                    .builtin_group_has_right("federated", right.as_str())
                    .await?
            }
        })
    }
}

/// The chat and the caller's membership. A chat the caller is not in is a 404,
/// the same as one that does not exist.
pub(crate) async fn membership(
    state: &AppState,
    chat_id: i64,
    me: &str,
) -> Result<(ChatRow, ChatMemberRow), ApiError> {
    let not_found = || ApiError::missing("chat");
    let chat = state.store.chat(chat_id).await?.ok_or_else(not_found)?;
    let member = state
        .store
        .chat_member(chat_id, me)
        .await?
        .ok_or_else(not_found)?;
    Ok((chat, member))
}

fn parse_id(id: &str) -> Result<CausewayId, ApiError> {
    CausewayId::parse(id).map_err(|e| ApiError::internal(format!("stored Causeway ID {id:?}: {e}")))
}

/// A message as clients get it; `files` holds the files of the messages at hand
/// (see [`files_of`]). A deleted message shows no file.
fn message(
    chat_id: i64,
    row: MessageRow,
    files: &HashMap<i64, FileInfo>,
) -> Result<Message, ApiError> {
    let file = match row.file_id {
        Some(id) if row.deleted_at.is_none() => files.get(&id).cloned(),
        _ => None,
    };
    Ok(Message {
        file,
        chat_id,
        seq: row.seq,
        sender: parse_id(&row.sender)?,
        client_id: row.client_id,
        body: row.body,
        reply_to: row.reply_to,
        created_at: row.created_at,
        edited_at: row.edited_at,
        deleted_at: row.deleted_at,
    })
}

/// The files the messages in `rows` carry, by id, looked up at once.
async fn files_of(
    state: &AppState,
    chat_id: i64,
    rows: &[MessageRow],
) -> Result<HashMap<i64, FileInfo>, ApiError> {
    let ids: Vec<i64> = rows.iter().filter_map(|m| m.file_id).collect();
    let mut found = HashMap::with_capacity(ids.len());
    for row in state.store.files_in(chat_id, &ids).await? {
        found.insert(row.id, files::info(&row)?);
    }
    Ok(found)
}

/// Messages as clients get them, with their files.
async fn messages_out(
    state: &AppState,
    chat_id: i64,
    rows: Vec<MessageRow>,
) -> Result<Vec<Message>, ApiError> {
    let files = files_of(state, chat_id, &rows).await?;
    rows.into_iter()
        .map(|m| message(chat_id, m, &files))
        .collect()
}

async fn message_out(state: &AppState, chat_id: i64, row: MessageRow) -> Result<Message, ApiError> {
    let files = files_of(state, chat_id, std::slice::from_ref(&row)).await?;
    message(chat_id, row, &files)
}

/// The messages a member may see (those since they joined), as clients get them.
async fn visible(
    state: &AppState,
    chat_id: i64,
    member: &ChatMemberRow,
    mut rows: Vec<MessageRow>,
) -> Result<Vec<Message>, ApiError> {
    rows.retain(|m| m.seq >= member.joined_seq);
    messages_out(state, chat_id, rows).await
}

fn role(stored: &str) -> Result<ChatRole, ApiError> {
    ChatRole::parse(stored)
        .ok_or_else(|| ApiError::internal(format!("stored chat role {stored:?}")))
}

fn kind(stored: &str) -> Result<ChatKind, ApiError> {
    ChatKind::parse(stored)
        .ok_or_else(|| ApiError::internal(format!("stored chat kind {stored:?}")))
}

/// A direct chat is titled with the other person's name.
fn title(chat: &ChatRow, members: &[ChatMember], me: &CausewayId) -> String {
    match (
        chat.kind.as_str(),
        members.iter().find(|m| &m.causeway_id != me),
    ) {
        ("direct", Some(other)) => other.display_name.clone(),
        _ => chat.title.clone(),
    }
}

/// The display names of chat `chat_id`'s members: a local user's own, a remote
/// user's as their server last told it, else the login.
pub(crate) async fn member_names(
    state: &AppState,
    chat_id: i64,
) -> Result<impl Fn(&CausewayId) -> String, ApiError> {
    let names = state
        .store
        .member_names(chat_id, state.config.server_name.as_str())
        .await?;
    Ok(move |id: &CausewayId| {
        names
            .get(&id.to_string())
            .cloned()
            .unwrap_or_else(|| id.login.to_string())
    })
}

/// [`detail`] of chat `id`, read afresh (after a change).
async fn detail_of(state: &AppState, id: i64, me: &CausewayId) -> Result<ChatDetail, ApiError> {
    let chat = state
        .store
        .chat(id)
        .await?
        .ok_or_else(|| ApiError::missing("chat"))?;
    detail(state, chat, me).await
}

async fn detail(state: &AppState, chat: ChatRow, me: &CausewayId) -> Result<ChatDetail, ApiError> {
    let rows = state.store.chat_members(chat.id).await?;
    let name_of = member_names(state, chat.id).await?;
    let mut members = Vec::with_capacity(rows.len());
    let mut mine = None;
    for row in &rows {
        let id = parse_id(&row.member)?;
        if &id == me {
            mine = Some(row.clone());
        }
        members.push(ChatMember {
            display_name: name_of(&id),
            role: role(&row.role)?,
            read_seq: row.read_seq,
            online: state.hub.is_online(&row.member)
                || state.federation.is_remote_online(&row.member),
            causeway_id: id,
        });
    }
    let mine = mine.ok_or_else(|| ApiError::missing("chat"))?;
    Ok(ChatDetail {
        title: title(&chat, &members, me),
        id: chat.id,
        kind: kind(&chat.kind)?,
        my_role: role(&mine.role)?,
        last_seq: chat.last_seq,
        read_seq: mine.read_seq,
        members,
    })
}

/// An active user to chat with, or a clear refusal. A user of another server
/// is looked up there (which also checks that both servers allow each other).
pub(crate) async fn chat_partner(
    state: &AppState,
    id: &CausewayId,
    by: &CausewayId,
) -> Result<(), ApiError> {
    if id.server != state.config.server_name {
        remote::remote_user(state, id, Some(by)).await?;
        return Ok(());
    }
    trust::local_partner(state, id, by).await.map(drop)
}

/// `GET /api/v1/chats` — a signed-in user. Their chats, latest activity first.
#[utoipa::path(get, path = "/api/v1/chats",
    responses((status = 200, body = Vec<ChatSummary>), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("user"))))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<ChatSummary>>, ApiError> {
    let me = me(&state, &user);
    let rows = state.store.chats_of(&me.to_string()).await?;
    let mut chats = Vec::with_capacity(rows.len());
    for row in rows {
        // A chat left (or deleted) since the list was read is not listed.
        let Some(chat) = state.store.chat(row.id).await? else {
            continue;
        };
        let detail = match detail(&state, chat, &me).await {
            Ok(detail) => detail,
            Err(error) if error.status == StatusCode::NOT_FOUND => continue,
            Err(error) => return Err(error),
        };
        let newest = state.store.messages(row.id, row.joined_seq, None, None, 1);
        let last_message = match newest.await?.pop() {
            Some(m) => Some(message_out(&state, row.id, m).await?),
            None => None,
        };
        chats.push(ChatSummary {
            id: row.id,
            kind: detail.kind,
            title: detail.title,
            last_seq: row.last_seq,
            last_at: row.last_at,
            read_seq: row.read_seq,
            unread: row.unread,
            last_message,
        });
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
    let me = me(&state, &user);
    if request.with == me {
        return Err(ApiError::invalid_input(
            "A direct chat needs another person.",
        ));
    }
    let (chat, created) = if request.with.server == me.server {
        chat_partner(&state, &request.with, &me).await?;
        create_direct(&state, &me, &request.with).await?
    } else {
        remote::open_direct(&state, &me, &request.with).await?
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(detail(&state, chat, &me).await?)))
}

/// The direct chat of `a` and `b`, hosted here: the existing one, or a new one
/// (`true`).
pub(crate) async fn create_direct(
    state: &AppState,
    a: &CausewayId,
    b: &CausewayId,
) -> Result<(ChatRow, bool), ApiError> {
    let (mine, theirs) = (a.to_string(), b.to_string());
    let key = direct_key(&mine, &theirs);
    if let Some(chat) = state.store.direct_chat(&key).await? {
        return Ok((chat, false));
    }
    let created = state
        .store
        .create_chat(&NewChat {
            kind: ChatKind::Direct,
            title: "",
            direct_key: Some(&key),
            created_by: &mine,
            members: &[(&mine, ChatRole::Member), (&theirs, ChatRole::Member)],
            at: now_millis(),
        })
        .await;
    match created {
        Ok(chat) => {
            outbox::members_changed(state, chat.id, [mine.as_str(), theirs.as_str()]).await;
            announce(state, chat.id, Some(chat.last_seq), None).await;
            Ok((chat, true))
        }
        // The other person opened it at the same moment: use theirs.
        Err(StorageError::Conflict(_)) => {
            let chat = state
                .store
                .direct_chat(&key)
                .await?
                .ok_or_else(|| ApiError::missing("chat"))?;
            Ok((chat, false))
        }
        Err(other) => Err(other.into()),
    }
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
    let me = me(&state, &user);
    let title = request.title.trim();
    if title.is_empty() || title.chars().count() > 128 {
        return Err(ApiError::invalid_input(
            "A group chat needs a title of 1 to 128 characters.",
        ));
    }
    crate::validate::name_text("The chat title", title)?;
    if request.members.len() > MAX_MEMBERS {
        return Err(ApiError::invalid_input(format!(
            "A chat has at most {MAX_MEMBERS} members."
        )));
    }
    let mut others: Vec<CausewayId> = Vec::new();
    for id in request.members {
        if id != me && !others.contains(&id) {
            chat_partner(&state, &id, &me).await?;
            others.push(id);
        }
    }
    let mine = me.to_string();
    let names: Vec<String> = others.iter().map(ToString::to_string).collect();
    let mut members: Vec<(&str, ChatRole)> = vec![(&mine, ChatRole::Owner)];
    members.extend(names.iter().map(|n| (n.as_str(), ChatRole::Member)));
    let chat = state
        .store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title,
            direct_key: None,
            created_by: &mine,
            members: &members,
            at: now_millis(),
        })
        .await?;
    outbox::members_changed(&state, chat.id, members.iter().map(|(m, _)| *m)).await;
    announce(&state, chat.id, Some(chat.last_seq), None).await;
    Ok((StatusCode::CREATED, Json(detail(&state, chat, &me).await?)))
}

/// `GET /api/v1/chats/{id}` — a member. The chat, its members and roles.
#[utoipa::path(get, path = "/api/v1/chats/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<ChatDetail>, ApiError> {
    let me = me(&state, &user);
    let (chat, _) = membership(&state, id, &me.to_string()).await?;
    Ok(Json(detail(&state, chat, &me).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages before this number (older history).
    before: Option<i64>,
    /// Messages after this number (newer history); wins over `before`.
    after: Option<i64>,
    /// 1 to 200; 50 when left out.
    limit: Option<i64>,
}

fn limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(50);
    if (1..=200).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid_input("limit is from 1 to 200."))
    }
}

/// `GET /api/v1/chats/{id}/messages?before=&after=&limit=` — a member. A page of
/// messages in order: the latest, or those before or after a number.
#[utoipa::path(get, path = "/api/v1/chats/{id}/messages", params(("id" = i64, Path), HistoryQuery),
    responses((status = 200, body = Vec<Message>), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let limit = limit(query.limit)?;
    let me = me(&state, &user);
    let (_, member) = membership(&state, id, &me.to_string()).await?;
    let rows = state
        .store
        .messages(id, member.joined_seq, query.before, query.after, limit)
        .await?;
    Ok(Json(visible(&state, id, &member, rows).await?))
}

/// A message text must fit the panel's limit and, unless the message carries a
/// file, not be blank.
pub(crate) fn check_body(state: &AppState, body: &str, may_be_empty: bool) -> Result<(), ApiError> {
    if !may_be_empty && body.trim().is_empty() {
        return Err(ApiError::invalid_input("The message is empty."));
    }
    let max = state.settings.chats().max_message_chars as usize;
    if body.chars().count() > max {
        return Err(ApiError::invalid_input(format!(
            "A message is at most {max} characters."
        )));
    }
    crate::validate::message_text(body)
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
    Path(id): Path<i64>,
    Json(request): Json<SendMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let actor = Actor::of(&state, &user);
    let client_id_ok = (1..=64).contains(&request.client_id.len())
        && request
            .client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !client_id_ok {
        return Err(ApiError::invalid_input(
            "client_id is 1 to 64 letters, digits, '-' or '_' (a UUID will do).",
        ));
    }
    check_body(&state, &request.body, request.file.is_some())?;
    let (message, created) = match replica(&state, id, &actor).await? {
        Some(chat) => {
            // A file uploaded here went on to the host, which knows it by its own id.
            let file = match request.file {
                Some(file_id) => {
                    if !actor.may(&state, Right::SendFiles).await? {
                        return Err(files::may_not_send(&state, &actor));
                    }
                    let me = actor.id.to_string();
                    let row = files::check_attachable(&state, id, &me, file_id, &request.client_id)
                        .await?;
                    Some(row.host_file_id.ok_or_else(|| ApiError::missing("file"))?)
                }
                None => None,
            };
            let action = Action::Send {
                client_id: request.client_id,
                body: request.body,
                reply_to: request.reply_to,
                file,
            };
            let done = remote::forward(&state, &chat, &actor.id, action).await?;
            let message = done.message.ok_or_else(|| {
                ApiError::internal("the host answered a send without its message")
            })?;
            (message, !done.repeated)
        }
        None => send_as(&state, &actor, id, request).await?,
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(message)))
}

/// The chat, when it is a copy of a chat hosted elsewhere and the actor is in
/// it: what they do there is forwarded to the host.
async fn replica(state: &AppState, id: i64, actor: &Actor) -> Result<Option<ChatRow>, ApiError> {
    let Some(chat) = state.store.chat(id).await? else {
        return Err(ApiError::missing("chat"));
    };
    if chat.host.is_none() {
        return Ok(None);
    }
    state
        .store
        .chat_member(id, &actor.id.to_string())
        .await?
        .ok_or_else(|| ApiError::missing("chat"))?;
    Ok(Some(chat))
}

/// Stores a message of `actor` in chat `id` hosted here and announces it; the
/// message and whether it is new (not a retry). The caller has checked the
/// body ([`check_body`]).
pub(crate) async fn send_as(
    state: &AppState,
    actor: &Actor,
    id: i64,
    request: SendMessage,
) -> Result<(Message, bool), ApiError> {
    let me = actor.id.to_string();
    if request.reply_to.is_some() || request.file.is_some() {
        // Membership first, so that someone outside the chat learns nothing
        // about its messages or files. Without either the store checks it,
        // inside the transaction that stores the message.
        let (_, member) = membership(state, id, &me).await?;
        // A message from before one joined is not there to reply to.
        if let Some(reply_to) = request.reply_to
            && reply_to < member.joined_seq
        {
            return Err(ApiError::invalid_input(
                "The message replied to is not in this chat.",
            ));
        }
    }
    if let Some(file_id) = request.file {
        if !actor.may(state, Right::SendFiles).await? {
            return Err(ApiError::forbidden("You may not send files to chats."));
        }
        files::check_attachable(state, id, &me, file_id, &request.client_id).await?;
    }
    if let Some(reply_to) = request.reply_to
        && state.store.message(id, reply_to).await?.is_none()
    {
        return Err(ApiError::invalid_input(
            "The message replied to is not in this chat.",
        ));
    }
    // Storing and announcing run as a task of their own: a client that hangs up
    // while its send waits for the commit does not cancel it, and a message
    // that is stored is always pushed.
    let state = state.clone();
    let stored = tokio::spawn(async move {
        let sent = state
            .store
            .send_message(&NewMessage {
                chat_id: id,
                sender: &me,
                client_id: &request.client_id,
                body: &request.body,
                reply_to: request.reply_to,
                file_id: request.file,
                at: now_millis(),
            })
            .await
            .map_err(|error| match error {
                // No such chat, or not a member: the same 404 as everywhere.
                StorageError::Missing("chat") => ApiError::missing("chat"),
                // Another send took the file in the meantime.
                StorageError::Missing("file") => files::attached_elsewhere(),
                other => other.into(),
            })?;
        let out = message_out(&state, id, sent.message).await;
        if sent.created {
            match &out {
                Ok(message) => announce_message(&state, id, message, &sent.members),
                // As in `announce`: the message is committed whatever happens here.
                Err(error) => tracing::warn!(chat_id = id, ?error, "a message was not pushed"),
            }
        }
        Ok::<_, ApiError>((out?, sent.created))
    });
    stored
        .await
        .map_err(|e| ApiError::internal(format!("the send task failed: {e}")))?
}

/// The message to edit or delete, if the caller may: their own within the edit
/// window; for deletion also chat admins and owners, and users with Operator rights.
async fn changeable(
    state: &AppState,
    actor: &Actor,
    chat_id: i64,
    seq: i64,
    deleting: bool,
) -> Result<(String, MessageRow), ApiError> {
    let me = actor.id.to_string();
    let (_, member) = membership(state, chat_id, &me).await?;
    let found = state
        .store
        .message(chat_id, seq)
        .await?
        .filter(|m| m.deleted_at.is_none() && m.seq >= member.joined_seq)
        .ok_or_else(|| ApiError::missing("message"))?;
    let own = found.sender == me;
    let window_hours = state.settings.chats().edit_window_hours;
    if own && now_millis() - found.created_at <= i64::from(window_hours) * 3_600_000 {
        return Ok((me, found));
    }
    if deleting
        && (role(&member.role)? >= ChatRole::Admin || actor.may(state, Right::Operator).await?)
    {
        return Ok((me, found));
    }
    Err(if own {
        ApiError::forbidden(format!(
            "Messages can be changed for {window_hours} hours after they are sent."
        ))
    } else {
        ApiError::forbidden(if deleting {
            "Only the sender, the chat's admins and operators may delete this message."
        } else {
            "Only the sender may edit a message."
        })
    })
}

/// `PATCH /api/v1/chats/{id}/messages/{seq}` — the sender, within 48 hours.
#[utoipa::path(patch, path = "/api/v1/chats/{id}/messages/{seq}", params(("id" = i64, Path), ("seq" = i64, Path)),
    request_body = EditMessage, responses((status = 200, body = Message), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn edit(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, seq)): Path<(i64, i64)>,
    Json(request): Json<EditMessage>,
) -> Result<Json<Message>, ApiError> {
    // Whether it may be empty (a file's message) is decided by the host.
    check_body(&state, &request.body, true)?;
    let actor = Actor::of(&state, &user);
    if let Some(chat) = replica(&state, id, &actor).await? {
        let action = Action::Edit {
            seq,
            body: request.body,
        };
        let done = remote::forward(&state, &chat, &actor.id, action).await?;
        return done
            .message
            .map(Json)
            .ok_or_else(|| ApiError::internal("the host answered an edit without its message"));
    }
    Ok(Json(edit_as(&state, &actor, id, seq, &request.body).await?))
}

/// Edits a message of chat `id`, hosted here, for `actor`. The caller has
/// checked the body's length ([`check_body`]); it may be empty only for a
/// message with a file.
pub(crate) async fn edit_as(
    state: &AppState,
    actor: &Actor,
    id: i64,
    seq: i64,
    body: &str,
) -> Result<Message, ApiError> {
    let (by, found) = changeable(state, actor, id, seq, false).await?;
    if found.file_id.is_none() && body.trim().is_empty() {
        return Err(ApiError::invalid_input(
            "The message is empty; delete it instead.",
        ));
    }
    // Checked again where it is written: the sender, within the window, a member.
    let now = now_millis();
    let window_ms = i64::from(state.settings.chats().edit_window_hours) * 3_600_000;
    let event = state
        .store
        .edit_message(id, seq, body, &by, now, now - window_ms)
        .await?
        .ok_or_else(|| ApiError::missing("message"))?;
    announce(state, id, Some(event), None).await;
    let row = state
        .store
        .message(id, seq)
        .await?
        .ok_or_else(|| ApiError::missing("message"))?;
    message_out(state, id, row).await
}

/// `DELETE /api/v1/chats/{id}/messages/{seq}` — the sender within 48 hours, the
/// chat's admins and owner, and users with Operator rights.
#[utoipa::path(delete, path = "/api/v1/chats/{id}/messages/{seq}", params(("id" = i64, Path), ("seq" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, seq)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let actor = Actor::of(&state, &user);
    if let Some(chat) = replica(&state, id, &actor).await? {
        remote::forward(&state, &chat, &actor.id, Action::Delete { seq }).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    delete_as(&state, &actor, id, seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a message of chat `id`, hosted here, for `actor`.
pub(crate) async fn delete_as(
    state: &AppState,
    actor: &Actor,
    id: i64,
    seq: i64,
) -> Result<(), ApiError> {
    let (by, _) = changeable(state, actor, id, seq, true).await?;
    let event = state
        .store
        .delete_message(id, seq, &by, now_millis())
        .await?
        .ok_or_else(|| ApiError::missing("message"))?;
    announce(state, id, Some(event), None).await;
    Ok(())
}

/// `PUT /api/v1/chats/{id}/read` — a member. Moves their read position forward.
#[utoipa::path(put, path = "/api/v1/chats/{id}/read", params(("id" = i64, Path)), request_body = ReadUpTo,
    responses((status = 200, body = ReadUpTo), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn read(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Json(request): Json<ReadUpTo>,
) -> Result<Json<ReadUpTo>, ApiError> {
    let actor = Actor::of(&state, &user);
    let seq = read_as(&state, &actor, id, request.seq).await?;
    Ok(Json(ReadUpTo { seq }))
}

/// Moves `actor`'s read position in chat `id` forward and tells the members.
/// In a copy of a chat hosted elsewhere the copy moves at once and the host is
/// told (the host's answer comes back through its outbox).
pub(crate) async fn read_as(
    state: &AppState,
    actor: &Actor,
    id: i64,
    seq: i64,
) -> Result<i64, ApiError> {
    let me = actor.id.to_string();
    let (chat, _) = membership(state, id, &me).await?;
    let seq = state
        .store
        .mark_read(id, &me, seq.max(0))
        .await?
        .ok_or_else(|| ApiError::missing("chat"))?;
    let members = state.store.chat_members(id).await?;
    let push = Push::Read {
        chat_id: id,
        member: actor.id.clone(),
        seq,
    };
    state
        .hub
        .publish(members.iter().map(|m| m.member.as_str()), &push);
    if chat.host.is_some() {
        if let Err(error) = remote::forward(state, &chat, &actor.id, Action::Read { seq }).await {
            tracing::info!(
                chat_id = id,
                ?error,
                "a read position did not reach the chat's host"
            );
        }
    } else {
        let servers = other_servers(
            &state.config.server_name,
            members.iter().map(|m| m.member.as_str()),
        );
        if !servers.is_empty() {
            state.store.bump_reads(id).await?;
            for server in &servers {
                state.federation.outbox.wake(state, server);
            }
        }
    }
    Ok(seq)
}

/// Events of chat `id` after `after`, each message as it stands now (for a
/// member catching up, and for the outbox).
pub(crate) async fn events_out(
    state: &AppState,
    id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<ChatEvent>, ApiError> {
    let rows = state.store.events_after(id, after, limit).await?;
    let mut messages: HashMap<i64, Message> = HashMap::new();
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        events.push(chat_event(state, id, row, &mut messages).await?);
    }
    Ok(events)
}

/// Tells the chat's other members that `member` is typing: those here at once,
/// and the other servers in it — the host, for a copy of its chat typed in
/// here; every other member server, for a chat hosted here (not back to
/// `from`, the server that passed it on).
pub(crate) async fn relay_typing(
    state: &AppState,
    chat: &ChatRow,
    member: &CausewayId,
    from: Option<&app::types::ServerName>,
) -> Result<(), ApiError> {
    let who = member.to_string();
    let members = state.store.chat_members(chat.id).await?;
    if !members.iter().any(|m| m.member == who) {
        return Ok(());
    }
    state.hub.publish(
        members
            .iter()
            .map(|m| m.member.as_str())
            .filter(|m| *m != who),
        &Push::Typing {
            chat_id: chat.id,
            member: member.clone(),
        },
    );
    let own = &state.config.server_name;
    match hosted_elsewhere(chat)? {
        Some((host, host_chat_id)) => {
            if from.is_none() {
                let item = Ephemeral::Typing {
                    host: host.clone(),
                    chat_id: host_chat_id,
                    member: member.clone(),
                };
                remote::send_ephemeral(state, vec![host], item);
            }
        }
        None => {
            let mut servers = other_servers(own, members.iter().map(|m| m.member.as_str()));
            servers.retain(|server| Some(server) != from && server != &member.server);
            let item = Ephemeral::Typing {
                host: own.clone(),
                chat_id: chat.id,
                member: member.clone(),
            };
            remote::send_ephemeral(state, servers, item);
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this number.
    after: i64,
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
    Path(id): Path<i64>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Vec<ChatEvent>>, ApiError> {
    let limit = limit(query.limit)?;
    let me = me(&state, &user).to_string();
    let (_, member) = membership(&state, id, &me).await?;
    let after = query.after.max(member.joined_seq - 1);
    Ok(Json(events_out(&state, id, after, limit).await?))
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
    Path(id): Path<i64>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let limit = limit(query.limit)?;
    let text = query.q.trim();
    if text.is_empty() || text.chars().count() > 100 {
        return Err(ApiError::invalid_input("Search for 1 to 100 characters."));
    }
    crate::validate::line_text("The search text", text)?;
    let me = me(&state, &user).to_string();
    let (_, member) = membership(&state, id, &me).await?;
    let rows = state
        .store
        .search_messages(id, member.joined_seq, text, limit)
        .await?;
    Ok(Json(visible(&state, id, &member, rows).await?))
}

/// An event row as clients see it, with its message as it stands now (looked up
/// once per message through `messages`).
async fn chat_event(
    state: &AppState,
    chat_id: i64,
    row: EventRow,
    messages: &mut HashMap<i64, Message>,
) -> Result<ChatEvent, ApiError> {
    let message = match row.message_seq {
        Some(seq) => match messages.get(&seq) {
            Some(m) => Some(m.clone()),
            None => match state.store.message(chat_id, seq).await? {
                Some(found) => {
                    let m = message_out(state, chat_id, found).await?;
                    messages.insert(seq, m.clone());
                    Some(m)
                }
                None => None,
            },
        },
        None => None,
    };
    Ok(ChatEvent {
        seq: row.seq,
        kind: row.kind,
        actor: parse_id(&row.actor)?,
        at: row.at,
        subject: row.subject.as_deref().map(parse_id).transpose()?,
        role: row.detail.as_deref().map(role).transpose()?,
        message,
    })
}

/// Pushes event `seq` of a chat to its members' open sockets (and to `also`, a
/// member who just left). Delivery is best effort: a client that misses it
/// catches up by sequence number.
async fn announce(state: &AppState, chat_id: i64, seq: Option<i64>, also: Option<&str>) {
    let Some(seq) = seq else { return };
    // The change is committed; a failure here only costs the push, which clients
    // make up for by catching up.
    if let Err(error) = push_event(state, chat_id, seq, also).await {
        tracing::warn!(chat_id, seq, ?error, "a chat event was not pushed");
    }
}

/// Pushes a message just stored to the chat's members as they were when it was
/// stored. The event is the one its storing wrote, built from the stored
/// message (with its file) rather than read back.
fn announce_message(state: &AppState, chat_id: i64, message: &Message, members: &[String]) {
    let event = ChatEvent {
        seq: message.seq,
        kind: "message".to_owned(),
        actor: message.sender.clone(),
        at: message.created_at,
        subject: None,
        role: None,
        message: Some(message.clone()),
    };
    state.hub.publish(
        members.iter().map(String::as_str),
        &Push::ChatEvent {
            chat_id,
            event: Box::new(event),
        },
    );
    outbox::wake_for(state, members.iter().map(String::as_str));
}

async fn push_event(
    state: &AppState,
    chat_id: i64,
    seq: i64,
    also: Option<&str>,
) -> Result<(), ApiError> {
    let Some(row) = state.store.events_after(chat_id, seq - 1, 1).await?.pop() else {
        return Ok(());
    };
    let event = chat_event(state, chat_id, row, &mut HashMap::new()).await?;
    let members = state.store.chat_members(chat_id).await?;
    let to = members.iter().map(|m| m.member.as_str()).chain(also);
    state.hub.publish(
        to.clone(),
        &Push::ChatEvent {
            chat_id,
            event: Box::new(event),
        },
    );
    outbox::wake_for(state, to);
    Ok(())
}

/// Group chat `chat_id` hosted here, and the role in it of `me`, a member
/// (direct chats have no membership to manage).
async fn group_membership(
    state: &AppState,
    chat_id: i64,
    me: &str,
) -> Result<(ChatRow, ChatRole), ApiError> {
    let (chat, member) = membership(state, chat_id, me).await?;
    if let Some(host) = &chat.host {
        return Err(ApiError::forbidden(format!(
            "This chat is hosted by {host}; its members are managed there."
        )));
    }
    group_kind(&chat)?;
    Ok((chat, role(&member.role)?))
}

/// Refuses a change of members in a direct chat.
fn group_kind(chat: &ChatRow) -> Result<(), ApiError> {
    if chat.kind == ChatKind::Group.as_str() {
        Ok(())
    } else {
        Err(ApiError::invalid_input(
            "A direct chat's members cannot change.",
        ))
    }
}

/// The role of `me` in group chat `chat` (here, or in the copy of it here).
async fn group_role(
    state: &AppState,
    chat: &ChatRow,
    me: &CausewayId,
) -> Result<ChatRole, ApiError> {
    group_kind(chat)?;
    let member = state
        .store
        .chat_member(chat.id, &me.to_string())
        .await?
        .ok_or_else(|| ApiError::missing("chat"))?;
    role(&member.role)
}

/// `POST /api/v1/chats/{id}/members` — the owner and admins of a group chat. Adds
/// people of this server as members; people already in it are left as they are.
#[utoipa::path(post, path = "/api/v1/chats/{id}/members", params(("id" = i64, Path)), request_body = AddMembers,
    responses((status = 200, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn add_members(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Json(request): Json<AddMembers>,
) -> Result<Json<ChatDetail>, ApiError> {
    let actor = Actor::of(&state, &user);
    if let Some(chat) = replica(&state, id, &actor).await? {
        // Checked here first (the people must be ones this server lets its
        // users chat with), then by the host.
        let my_role = group_role(&state, &chat, &actor.id).await?;
        may_add(&state, &actor.id, my_role, &request.members).await?;
        remote::forward(
            &state,
            &chat,
            &actor.id,
            Action::AddMembers {
                members: request.members,
            },
        )
        .await?;
        // The new members arrive with the host's update, and are pushed then.
        return Ok(Json(detail(&state, chat, &actor.id).await?));
    }
    add_as(&state, &actor, id, &request.members).await?;
    Ok(Json(detail_of(&state, id, &actor.id).await?))
}

/// Checks that a member of a group chat with `my_role` may add `members`: an
/// owner or admin, within the size limit, adding people there are to chat with.
async fn may_add(
    state: &AppState,
    me: &CausewayId,
    my_role: ChatRole,
    members: &[CausewayId],
) -> Result<(), ApiError> {
    if my_role < ChatRole::Admin {
        return Err(ApiError::forbidden(
            "Only the chat's owner and admins may add members.",
        ));
    }
    if members.len() > MAX_MEMBERS {
        return Err(ApiError::invalid_input(format!(
            "A chat has at most {MAX_MEMBERS} members."
        )));
    }
    for id_to_add in members {
        chat_partner(state, id_to_add, me).await?;
    }
    Ok(())
}

/// Adds `members` to group chat `id`, hosted here, if `actor` may.
pub(crate) async fn add_as(
    state: &AppState,
    actor: &Actor,
    id: i64,
    members: &[CausewayId],
) -> Result<(), ApiError> {
    let mine = actor.id.to_string();
    let (_, my_role) = group_membership(state, id, &mine).await?;
    may_add(state, &actor.id, my_role, members).await?;
    let names: Vec<String> = members.iter().map(ToString::to_string).collect();
    outbox::members_changed(state, id, names.iter().map(String::as_str)).await;
    for id_to_add in members {
        let added = state
            .store
            .add_chat_member(
                id,
                &id_to_add.to_string(),
                ChatRole::Member,
                &mine,
                now_millis(),
            )
            .await;
        match added {
            Ok(seq) => announce(state, id, seq, None).await,
            Err(StorageError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
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
    Path((id, member)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    let actor = Actor::of(&state, &user);
    let target_id = CausewayId::parse(&member).map_err(|_| ApiError::missing("member"))?;
    let target = target_id.to_string();
    if let Some(chat) = replica(&state, id, &actor).await? {
        group_kind(&chat)?;
        let action = if target_id == actor.id {
            Action::Leave
        } else {
            // Not a member here: the same 404 the host would give.
            state
                .store
                .chat_member(id, &target)
                .await?
                .ok_or_else(|| ApiError::missing("member"))?;
            Action::Remove { member: target_id }
        };
        remote::forward(&state, &chat, &actor.id, action).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    remove_as(&state, &actor, id, &target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes `target` from group chat `id`, hosted here, if `actor` may.
pub(crate) async fn remove_as(
    state: &AppState,
    actor: &Actor,
    id: i64,
    target: &str,
) -> Result<(), ApiError> {
    let mine = actor.id.to_string();
    let (_, my_role) = group_membership(state, id, &mine).await?;
    let their_role = match state.store.chat_member(id, target).await? {
        Some(row) => role(&row.role)?,
        None => return Err(ApiError::missing("member")),
    };
    let now = now_millis();
    if target == mine {
        // An owner's hand-over and the departure are one transaction.
        let seqs = state
            .store
            .leave_chat(id, &mine, now)
            .await?
            .ok_or_else(|| ApiError::missing("member"))?;
        if let Some((left, handed)) = seqs.split_last() {
            for seq in handed {
                announce(state, id, Some(*seq), None).await;
            }
            announce(state, id, Some(*left), Some(target)).await;
        }
        return Ok(());
    }
    let may = my_role > their_role
        || (their_role != ChatRole::Owner && actor.may(state, Right::Operator).await?);
    if !may {
        return Err(ApiError::forbidden(
            "The owner may remove anyone, admins may remove members, operators anyone but the owner.",
        ));
    }
    let seq = state
        .store
        .remove_chat_member(id, target, &mine, now)
        .await?
        .ok_or_else(|| ApiError::missing("member"))?;
    announce(state, id, Some(seq), Some(target)).await;
    Ok(())
}

/// `actor` (a person of another server whose account there is being deleted)
/// leaves direct chat `chat_id`, hosted here: the pair's key is freed and the
/// chat stays with the other person under the leaver's name.
pub(crate) async fn leave_direct_as(
    state: &AppState,
    actor: &Actor,
    chat_id: i64,
) -> Result<(), ApiError> {
    let me = actor.id.to_string();
    let name = member_names(state, chat_id).await?(&actor.id);
    let seq = state
        .store
        .leave_direct_chat(chat_id, &me, &name, now_millis())
        .await?
        .ok_or_else(|| ApiError::missing("chat"))?;
    announce(state, chat_id, Some(seq), Some(&me)).await;
    Ok(())
}

/// Takes a user being deleted (`user_id`, known in chats as `who`, named
/// `name`) out of every chat they are in, as if they left each one, so that a
/// later account with the same login inherits nothing: a group they own passes
/// on as when an owner leaves; a direct chat stays with the other person, under
/// `name`, and the pair's key is freed. In a copy of a chat hosted elsewhere the
/// host is asked to let them leave, best effort (it may be unreachable); the
/// copy's rows here go with the account.
pub(crate) async fn remove_everywhere(
    state: &AppState,
    user_id: i64,
    who: &CausewayId,
    name: &str,
) -> Result<(), ApiError> {
    let actor = Actor {
        id: who.clone(),
        user_id: Some(user_id),
    };
    let mine = who.to_string();
    for listed in state.store.chats_of(&mine).await? {
        let Some(chat) = state.store.chat(listed.id).await? else {
            continue;
        };
        let group = chat.kind == ChatKind::Group.as_str();
        if chat.host.is_some() {
            // The host frees a direct chat's pair too, so that a new account
            // with the same login starts a new chat there as well.
            if let Err(error) = remote::forward(state, &chat, who, Action::Leave).await {
                tracing::warn!(
                    chat_id = chat.id,
                    ?error,
                    "a deleted user's leaving was not forwarded"
                );
            }
            if !group {
                // The copy's pair is freed here as well: the new account's
                // direct chat is asked of the host afresh.
                let seq = state
                    .store
                    .leave_direct_chat(chat.id, &mine, name, now_millis())
                    .await?;
                announce(state, chat.id, seq, None).await;
            }
        } else if group {
            remove_as(state, &actor, chat.id, &mine).await?;
        } else {
            let seq = state
                .store
                .leave_direct_chat(chat.id, &mine, name, now_millis())
                .await?;
            announce(state, chat.id, seq, None).await;
        }
    }
    Ok(())
}

/// `PUT /api/v1/chats/{id}/members/{member}/role` — the owner of a group chat.
/// Makes a member an admin or a member again; `owner` hands the chat over.
#[utoipa::path(put, path = "/api/v1/chats/{id}/members/{member}/role", params(("id" = i64, Path), ("member" = String, Path)),
    request_body = SetChatRole, responses((status = 200, body = ChatDetail), (status = "4XX", body = ApiErrorBody)), tag = "chats",
    extensions(("x-causeway-access" = json!("member"))))]
pub async fn set_role(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, member)): Path<(i64, String)>,
    Json(request): Json<SetChatRole>,
) -> Result<Json<ChatDetail>, ApiError> {
    let actor = Actor::of(&state, &user);
    let target = CausewayId::parse(&member).map_err(|_| ApiError::missing("member"))?;
    if let Some(chat) = replica(&state, id, &actor).await? {
        let my_role = group_role(&state, &chat, &actor.id).await?;
        may_set_role(my_role, &actor.id, &target)?;
        let action = Action::SetRole {
            member: target,
            role: request.role,
        };
        remote::forward(&state, &chat, &actor.id, action).await?;
        // The new roles arrive with the host's update, and are pushed then.
        return Ok(Json(detail(&state, chat, &actor.id).await?));
    }
    set_role_as(&state, &actor, id, &target, request.role).await?;
    Ok(Json(detail_of(&state, id, &actor.id).await?))
}

/// Checks that `me`, with `my_role` in a group chat, may change the role of
/// `target`: the owner, changing someone else's.
fn may_set_role(my_role: ChatRole, me: &CausewayId, target: &CausewayId) -> Result<(), ApiError> {
    if my_role != ChatRole::Owner {
        return Err(ApiError::forbidden(
            "Only the chat's owner may change roles.",
        ));
    }
    if target == me {
        return Err(ApiError::invalid_input(
            "The owner hands the chat over by making someone else owner.",
        ));
    }
    Ok(())
}

/// Gives `target` role `new_role` in group chat `id`, hosted here, if `actor`
/// may; making someone owner hands the chat over (the owner becomes an admin).
pub(crate) async fn set_role_as(
    state: &AppState,
    actor: &Actor,
    id: i64,
    target: &CausewayId,
    new_role: ChatRole,
) -> Result<(), ApiError> {
    let mine = actor.id.to_string();
    let (_, my_role) = group_membership(state, id, &mine).await?;
    may_set_role(my_role, &actor.id, target)?;
    let now = now_millis();
    let target = target.to_string();
    let seqs = if new_role == ChatRole::Owner {
        // The new owner and the old one becoming an admin: one transaction,
        // so a chat never has two owners, or none.
        state.store.hand_chat_over(id, &mine, &target, now).await?
    } else {
        let seq = state.store.set_chat_role(id, &target, new_role, &mine, now);
        seq.await?.map(|seq| vec![seq])
    };
    for seq in seqs.ok_or_else(|| ApiError::missing("member"))? {
        announce(state, id, Some(seq), None).await;
    }
    Ok(())
}
