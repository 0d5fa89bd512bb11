//! The typed API client the UI uses. In the browser it calls `/api/v1` with
//! `fetch` (gloo-net); in the server build the calls are never made (data loads
//! after hydration), so they answer with an error instead of pulling an HTTP
//! client into the server.

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "hydrate")]
use crate::types::ApiErrorBody;
use crate::types::{
    AddMembers, AddressBook, CausewayId, ChangePassword, ChatDetail, ChatEvent, ChatRole,
    ChatSummary, Contacts, CreateGroupChat, CurrentUser, EditMessage, ErrorCode, LoginRequest,
    Message, MuteChat, MyAccount, OpenDirectChat, Person, ReadUpTo, SearchResults, SendMessage,
    SetChatRole, SetupStatus, UpdateOwnProfile,
};

/// Why an API call failed, ready to show to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiFailure {
    /// The request never got an answer. What the browser says about it
    /// ("TypeError: Failed to fetch") means nothing to a person: it goes to
    /// the console, and the page says what happened and what to do.
    fn network(detail: impl std::fmt::Display) -> Self {
        #[cfg(feature = "hydrate")]
        web_sys::console::warn_1(&format!("request failed: {detail}").into());
        #[cfg(not(feature = "hydrate"))]
        let _ = detail;
        Self {
            status: 0,
            code: ErrorCode::Unavailable,
            message: "The server could not be reached. Check your connection; Causeway tries again when it is back.".to_owned(),
        }
    }

    /// No answer, or a proxy's "the server is not there" (502–504): worth
    /// trying again once the connection is back, unlike a refusal.
    pub fn unreachable(&self) -> bool {
        self.status == 0 || matches!(self.status, 502..=504)
    }
}

pub type ApiResult<T> = Result<T, ApiFailure>;

/// `POST /api/v1/auth/login`
pub async fn login(request: &LoginRequest) -> ApiResult<CurrentUser> {
    send(Method::Post, "/api/v1/auth/login", Some(request)).await
}

/// `POST /api/v1/auth/logout`
pub async fn logout() -> ApiResult<()> {
    send::<(), Empty>(Method::Post, "/api/v1/auth/logout", None)
        .await
        .map(drop)
}

/// `GET /api/v1/me`
pub async fn me() -> ApiResult<CurrentUser> {
    get("/api/v1/me").await
}

/// `GET /api/v1/me/account`
pub async fn my_account() -> ApiResult<MyAccount> {
    get("/api/v1/me/account").await
}

/// `PATCH /api/v1/me/profile`
pub async fn update_my_profile(request: &UpdateOwnProfile) -> ApiResult<MyAccount> {
    send(Method::Patch, "/api/v1/me/profile", Some(request)).await
}

/// `PUT /api/v1/me/password`
pub async fn change_password(request: &ChangePassword) -> ApiResult<()> {
    send::<_, Empty>(Method::Put, "/api/v1/me/password", Some(request))
        .await
        .map(drop)
}

/// `PUT /api/v1/me/avatar` with the chosen image file as the body.
#[cfg(feature = "hydrate")]
pub async fn upload_avatar(file: web_sys::File) -> ApiResult<MyAccount> {
    let request = gloo_net::http::Request::put("/api/v1/me/avatar")
        .header("Accept", "application/json")
        .header("Content-Type", &file.type_())
        .body(file)
        .map_err(ApiFailure::network)?;
    read(request.send().await.map_err(ApiFailure::network)?).await
}

/// `DELETE /api/v1/me/avatar`
pub async fn remove_avatar() -> ApiResult<MyAccount> {
    send::<(), _>(Method::Delete, "/api/v1/me/avatar", None).await
}

/// `GET /api/v1/contacts?search=&page=&per_page=`
pub async fn contacts(search: &str, page: u32, per_page: u32) -> ApiResult<Contacts> {
    get(&paged("/api/v1/contacts", search, page, per_page)).await
}

/// `path?search=&page=&per_page=`: a page of a list the server searches and pages.
fn paged(path: &str, search: &str, page: u32, per_page: u32) -> String {
    let query = encode_query(&[
        ("search", search.to_owned()),
        ("page", page.to_string()),
        ("per_page", per_page.to_string()),
    ]);
    format!("{path}?{query}")
}

/// `GET /api/v1/search?q=&before=`
pub async fn search(q: &str, before: Option<&str>) -> ApiResult<SearchResults> {
    let mut params = vec![("q", q.to_owned())];
    if let Some(before) = before {
        params.push(("before", before.to_owned()));
    }
    get(&format!("/api/v1/search?{}", encode_query(&params))).await
}

/// `PUT /api/v1/chats/{id}/mute`
pub async fn mute_chat(id: i64, muted: bool) -> ApiResult<MuteChat> {
    send(
        Method::Put,
        &format!("/api/v1/chats/{id}/mute"),
        Some(&MuteChat { muted }),
    )
    .await
}

/// `GET /api/v1/admin/setup` (administrators; for the
/// set-up checklist on a new server's empty chat list)
pub async fn setup_status() -> ApiResult<SetupStatus> {
    get("/api/v1/admin/setup").await
}

/// `GET /api/v1/people/lookup?id=`
pub async fn lookup_person(id: &CausewayId) -> ApiResult<Person> {
    get(&format!(
        "/api/v1/people/lookup?{}",
        encode_query(&[("id", id.to_string())])
    ))
    .await
}

/// `PUT /api/v1/me/address-book`
pub async fn set_personal_address_book(book: &AddressBook) -> ApiResult<Contacts> {
    send(Method::Put, "/api/v1/me/address-book", Some(book)).await
}

/// `GET /api/v1/chats`
pub async fn chats() -> ApiResult<Vec<ChatSummary>> {
    get("/api/v1/chats").await
}

/// `GET /api/v1/chats/{id}`
pub async fn chat(id: i64) -> ApiResult<ChatDetail> {
    get(&format!("/api/v1/chats/{id}")).await
}

/// `POST /api/v1/chats/direct`: the direct chat with this person (made if new).
pub async fn open_direct_chat(with: CausewayId) -> ApiResult<ChatDetail> {
    send(
        Method::Post,
        "/api/v1/chats/direct",
        Some(&OpenDirectChat { with }),
    )
    .await
}

/// `POST /api/v1/chats`
pub async fn create_group_chat(request: &CreateGroupChat) -> ApiResult<ChatDetail> {
    send(Method::Post, "/api/v1/chats", Some(request)).await
}

/// `GET /api/v1/chats/{id}/messages`: the latest page, or the one before `before`.
pub async fn history(id: i64, before: Option<i64>) -> ApiResult<Vec<Message>> {
    let mut params = vec![("limit", "50".to_owned())];
    if let Some(before) = before {
        params.push(("before", before.to_string()));
    }
    get(&format!(
        "/api/v1/chats/{id}/messages?{}",
        encode_query(&params)
    ))
    .await
}

/// `GET /api/v1/chats/{id}/events?after=`: what happened since a number.
pub async fn events_after(id: i64, after: i64) -> ApiResult<Vec<ChatEvent>> {
    get(&format!(
        "/api/v1/chats/{id}/events?after={after}&limit=200"
    ))
    .await
}

/// `POST /api/v1/chats/{id}/messages`; sending again with the same `client_id`
/// returns the first copy.
pub async fn send_message(id: i64, request: &SendMessage) -> ApiResult<Message> {
    send(
        Method::Post,
        &format!("/api/v1/chats/{id}/messages"),
        Some(request),
    )
    .await
}

/// `PATCH /api/v1/chats/{id}/messages/{seq}`
pub async fn edit_message(id: i64, seq: i64, body: String) -> ApiResult<Message> {
    send(
        Method::Patch,
        &format!("/api/v1/chats/{id}/messages/{seq}"),
        Some(&EditMessage { body }),
    )
    .await
}

/// `DELETE /api/v1/chats/{id}/messages/{seq}`
pub async fn delete_message(id: i64, seq: i64) -> ApiResult<()> {
    send::<(), Empty>(
        Method::Delete,
        &format!("/api/v1/chats/{id}/messages/{seq}"),
        None,
    )
    .await
    .map(drop)
}

/// `PUT /api/v1/chats/{id}/read`
pub async fn mark_read(id: i64, seq: i64) -> ApiResult<ReadUpTo> {
    send(
        Method::Put,
        &format!("/api/v1/chats/{id}/read"),
        Some(&ReadUpTo { seq }),
    )
    .await
}

/// `GET /api/v1/chats/{id}/search?q=`
pub async fn search_chat(id: i64, q: &str) -> ApiResult<Vec<Message>> {
    get(&format!(
        "/api/v1/chats/{id}/search?{}",
        encode_query(&[("q", q.to_owned())])
    ))
    .await
}

/// `POST /api/v1/chats/{id}/members`
pub async fn add_chat_members(id: i64, members: Vec<CausewayId>) -> ApiResult<ChatDetail> {
    send(
        Method::Post,
        &format!("/api/v1/chats/{id}/members"),
        Some(&AddMembers { members }),
    )
    .await
}

/// `DELETE /api/v1/chats/{id}/members/{member}`: removes someone, or leaves.
pub async fn remove_chat_member(id: i64, member: &CausewayId) -> ApiResult<()> {
    send::<(), Empty>(
        Method::Delete,
        &format!("/api/v1/chats/{id}/members/{member}"),
        None,
    )
    .await
    .map(drop)
}

/// `PUT /api/v1/chats/{id}/members/{member}/role`
pub async fn set_chat_role(id: i64, member: &CausewayId, role: ChatRole) -> ApiResult<ChatDetail> {
    send(
        Method::Put,
        &format!("/api/v1/chats/{id}/members/{member}/role"),
        Some(&SetChatRole { role }),
    )
    .await
}

/// The control panel's calls, `/api/v1/admin/*`.
pub mod admin {
    use super::*;
    use crate::types::{
        AuditPage, ChatSettings, CreateGroup, CreateUser, DisplayFields, FederationSettings,
        FederationStatus, FileSettings, GroupDetail, GroupSummary, IdList, SecuritySettings,
        SetPassword, UpdateGroup, UpdateUser, UserDetail, UserPage,
    };

    pub async fn users(search: &str, page: u32, per_page: u32) -> ApiResult<UserPage> {
        get(&super::paged("/api/v1/admin/users", search, page, per_page)).await
    }

    pub async fn create_user(request: &CreateUser) -> ApiResult<UserDetail> {
        send(Method::Post, "/api/v1/admin/users", Some(request)).await
    }

    pub async fn user(id: i64) -> ApiResult<UserDetail> {
        get(&format!("/api/v1/admin/users/{id}")).await
    }

    pub async fn update_user(id: i64, request: &UpdateUser) -> ApiResult<UserDetail> {
        send(
            Method::Patch,
            &format!("/api/v1/admin/users/{id}"),
            Some(request),
        )
        .await
    }

    pub async fn set_user_password(id: i64, request: &SetPassword) -> ApiResult<()> {
        send::<_, Empty>(
            Method::Put,
            &format!("/api/v1/admin/users/{id}/password"),
            Some(request),
        )
        .await
        .map(drop)
    }

    pub async fn set_user_groups(id: i64, ids: &IdList) -> ApiResult<UserDetail> {
        send(
            Method::Put,
            &format!("/api/v1/admin/users/{id}/groups"),
            Some(ids),
        )
        .await
    }

    pub async fn unlock_user(id: i64) -> ApiResult<UserDetail> {
        send::<(), _>(
            Method::Post,
            &format!("/api/v1/admin/users/{id}/unlock"),
            None,
        )
        .await
    }

    pub async fn delete_user(id: i64) -> ApiResult<()> {
        send::<(), Empty>(Method::Delete, &format!("/api/v1/admin/users/{id}"), None)
            .await
            .map(drop)
    }

    pub async fn groups() -> ApiResult<Vec<GroupSummary>> {
        get("/api/v1/admin/groups").await
    }

    pub async fn create_group(request: &CreateGroup) -> ApiResult<GroupDetail> {
        send(Method::Post, "/api/v1/admin/groups", Some(request)).await
    }

    pub async fn group(id: i64) -> ApiResult<GroupDetail> {
        get(&format!("/api/v1/admin/groups/{id}")).await
    }

    pub async fn update_group(id: i64, request: &UpdateGroup) -> ApiResult<GroupDetail> {
        send(
            Method::Patch,
            &format!("/api/v1/admin/groups/{id}"),
            Some(request),
        )
        .await
    }

    pub async fn delete_group(id: i64) -> ApiResult<()> {
        send::<(), Empty>(Method::Delete, &format!("/api/v1/admin/groups/{id}"), None)
            .await
            .map(drop)
    }

    pub async fn set_group_members(id: i64, ids: &IdList) -> ApiResult<GroupDetail> {
        send(
            Method::Put,
            &format!("/api/v1/admin/groups/{id}/members"),
            Some(ids),
        )
        .await
    }

    pub async fn set_group_address_book(id: i64, book: &AddressBook) -> ApiResult<GroupDetail> {
        send(
            Method::Put,
            &format!("/api/v1/admin/groups/{id}/address-book"),
            Some(book),
        )
        .await
    }

    pub async fn security() -> ApiResult<SecuritySettings> {
        get("/api/v1/admin/settings/security").await
    }

    pub async fn set_security(settings: &SecuritySettings) -> ApiResult<SecuritySettings> {
        send(
            Method::Put,
            "/api/v1/admin/settings/security",
            Some(settings),
        )
        .await
    }

    pub async fn display_fields() -> ApiResult<DisplayFields> {
        get("/api/v1/admin/settings/display-fields").await
    }

    pub async fn set_display_fields(fields: &DisplayFields) -> ApiResult<DisplayFields> {
        send(
            Method::Put,
            "/api/v1/admin/settings/display-fields",
            Some(fields),
        )
        .await
    }

    pub async fn chat_settings() -> ApiResult<ChatSettings> {
        get("/api/v1/admin/settings/chats").await
    }

    pub async fn set_chat_settings(settings: &ChatSettings) -> ApiResult<ChatSettings> {
        send(Method::Put, "/api/v1/admin/settings/chats", Some(settings)).await
    }

    pub async fn file_settings() -> ApiResult<FileSettings> {
        get("/api/v1/admin/settings/files").await
    }

    pub async fn set_file_settings(settings: &FileSettings) -> ApiResult<FileSettings> {
        send(Method::Put, "/api/v1/admin/settings/files", Some(settings)).await
    }

    pub async fn federation() -> ApiResult<FederationSettings> {
        get("/api/v1/admin/federation").await
    }

    pub async fn set_federation(settings: &FederationSettings) -> ApiResult<FederationSettings> {
        send(Method::Put, "/api/v1/admin/federation", Some(settings)).await
    }

    pub async fn federation_status() -> ApiResult<FederationStatus> {
        get("/api/v1/admin/federation/status").await
    }

    pub async fn audit(action: &str, q: &str, before: Option<i64>) -> ApiResult<AuditPage> {
        let mut params = vec![("action", action.to_owned()), ("q", q.to_owned())];
        if let Some(before) = before {
            params.push(("before", before.to_string()));
        }
        get(&format!("/api/v1/admin/audit?{}", encode_query(&params))).await
    }
}

/// `a=1&b=x%20y`: percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_query(params: &[(&str, String)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A success body that is ignored (204, or `{}`).
#[derive(serde::Deserialize)]
struct Empty {}

async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    send::<(), T>(Method::Get, path, None).await
}

#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

#[cfg(feature = "hydrate")]
async fn send<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&B>,
) -> ApiResult<T> {
    use gloo_net::http::Request;

    let builder = match method {
        Method::Get => Request::get(path),
        Method::Post => Request::post(path),
        Method::Put => Request::put(path),
        Method::Patch => Request::patch(path),
        Method::Delete => Request::delete(path),
    }
    .header("Accept", "application/json");
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(to_json(body).map_err(ApiFailure::network)?),
        None => builder.build(),
    }
    .map_err(ApiFailure::network)?;
    read(request.send().await.map_err(ApiFailure::network)?).await
}

/// JSON text of a value, made by the browser's `JSON.stringify`: the client
/// carries no JSON parser or printer of its own (serde_json is a large part of
/// a wasm module; see ADR 052).
#[cfg(feature = "hydrate")]
pub(crate) fn to_json<B: Serialize>(value: &B) -> Result<String, String> {
    let value = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())?;
    js_sys::JSON::stringify(&value)
        .map(String::from)
        .map_err(|_| "the value has no JSON form".to_owned())
}

/// A value from JSON text, read by the browser's `JSON.parse`.
#[cfg(feature = "hydrate")]
pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// A response as the typed result: the body on success, the API error otherwise.
#[cfg(feature = "hydrate")]
async fn read<T: DeserializeOwned>(response: gloo_net::http::Response) -> ApiResult<T> {
    let status = response.status();
    let text = response.text().await.map_err(ApiFailure::network)?;
    interpret(status, &text)
}

/// A status and body as the typed result.
#[cfg(feature = "hydrate")]
fn interpret<T: DeserializeOwned>(status: u16, text: &str) -> ApiResult<T> {
    if (200..300).contains(&status) {
        // An empty success body (204) reads as an empty object.
        let text = if text.is_empty() { "{}" } else { text };
        return from_json(text).map_err(|e| ApiFailure {
            status,
            code: ErrorCode::Internal,
            message: format!("The server sent an answer this page does not understand: {e}"),
        });
    }
    let failure = match from_json::<ApiErrorBody>(text) {
        Ok(body) => ApiFailure {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiFailure {
            status,
            code: ErrorCode::Internal,
            message: format!("The server answered with status {status}."),
        },
    };
    // The account was deactivated: no request of this page will work again.
    if failure.status == 403 && failure.code == ErrorCode::AccountDisabled {
        crate::live::leave(crate::types::SocketEnd::AccountDisabled);
    }
    Err(failure)
}

/// A file upload to a chat with progress and cancel, which `fetch` cannot give:
/// `POST /api/v1/chats/{id}/files?name=` with the file as the body.
#[cfg(feature = "hydrate")]
pub struct Upload {
    xhr: web_sys::XmlHttpRequest,
    _on_progress: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::ProgressEvent)>,
    _on_end: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::ProgressEvent)>,
}

#[cfg(feature = "hydrate")]
impl Upload {
    /// Starts sending `file`. `progress` gets the fraction sent (0 to 1); `done`
    /// is called once, with the stored file or why it failed (also when cancelled).
    pub fn start(
        chat_id: i64,
        file: &web_sys::File,
        progress: impl Fn(f64) + 'static,
        done: impl FnOnce(ApiResult<crate::types::FileInfo>) + 'static,
    ) -> ApiResult<Self> {
        use std::cell::Cell;
        use std::rc::Rc;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;

        let xhr =
            web_sys::XmlHttpRequest::new().map_err(|_| ApiFailure::network("no XMLHttpRequest"))?;
        let url = format!(
            "/api/v1/chats/{chat_id}/files?{}",
            encode_query(&[("name", file.name())])
        );
        xhr.open("POST", &url)
            .map_err(|_| ApiFailure::network("the upload could not start"))?;
        let media_type = if file.type_().is_empty() {
            "application/octet-stream".to_owned()
        } else {
            file.type_()
        };
        let _ = xhr.set_request_header("Content-Type", &media_type);
        let _ = xhr.set_request_header("Accept", "application/json");

        let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
            move |event: web_sys::ProgressEvent| {
                if event.length_computable() && event.total() > 0.0 {
                    progress(event.loaded() / event.total());
                }
            },
        );
        let done = Rc::new(Cell::new(Some(done)));
        let target = xhr.clone();
        let on_end = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
            move |event: web_sys::ProgressEvent| {
                let Some(done) = done.take() else { return };
                let result = match event.type_().as_str() {
                    "load" => interpret(
                        target.status().unwrap_or(0),
                        &target.response_text().ok().flatten().unwrap_or_default(),
                    ),
                    "abort" => Err(ApiFailure {
                        status: 0,
                        code: ErrorCode::Unavailable,
                        message: "The upload was cancelled.".to_owned(),
                    }),
                    _ => Err(ApiFailure::network("the upload broke off")),
                };
                done(result);
            },
        );
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        xhr.set_onload(Some(on_end.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(on_end.as_ref().unchecked_ref()));
        xhr.set_onabort(Some(on_end.as_ref().unchecked_ref()));
        xhr.send_with_opt_blob(Some(file))
            .map_err(|_| ApiFailure::network("the upload could not start"))?;
        Ok(Self {
            xhr,
            _on_progress: on_progress,
            _on_end: on_end,
        })
    }

    pub fn cancel(&self) {
        let _ = self.xhr.abort();
    }
}

#[cfg(not(feature = "hydrate"))]
async fn send<B: Serialize, T: DeserializeOwned>(
    _method: Method,
    path: &str,
    _body: Option<&B>,
) -> ApiResult<T> {
    Err(ApiFailure::network(format!(
        "{path} is called from the browser only"
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_strings_are_encoded() {
        let q =
            super::encode_query(&[("search", "a b&c=d/é".to_owned()), ("page", "2".to_owned())]);
        assert_eq!(q, "search=a%20b%26c%3Dd%2F%C3%A9&page=2");
    }
}
