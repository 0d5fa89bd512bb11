//! DTOs of accounts, groups and address books: the control panel's and the
//! user's own.

use serde::{Deserialize, Serialize};

use super::{CausewayId, Right};

/// The profile fields of an account (everything but login, flags and times).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    DisplayName,
    FirstName,
    LastName,
    Email,
    Phone,
    Company,
    Department,
    Position,
}

impl ProfileField {
    pub const ALL: [ProfileField; 8] = [
        ProfileField::DisplayName,
        ProfileField::FirstName,
        ProfileField::LastName,
        ProfileField::Email,
        ProfileField::Phone,
        ProfileField::Company,
        ProfileField::Department,
        ProfileField::Position,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ProfileField::DisplayName => "Display name",
            ProfileField::FirstName => "First name",
            ProfileField::LastName => "Last name",
            ProfileField::Email => "Email",
            ProfileField::Phone => "Phone",
            ProfileField::Company => "Company",
            ProfileField::Department => "Department",
            ProfileField::Position => "Position",
        }
    }

    /// Longest value accepted, in characters.
    pub fn max_len(self) -> usize {
        match self {
            ProfileField::Email => 254,
            ProfileField::Phone => 40,
            _ => 128,
        }
    }
}

/// A full profile. `display_name` may not be empty; the rest may.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub display_name: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub position: String,
}

impl Profile {
    pub fn get(&self, field: ProfileField) -> &str {
        match field {
            ProfileField::DisplayName => &self.display_name,
            ProfileField::FirstName => &self.first_name,
            ProfileField::LastName => &self.last_name,
            ProfileField::Email => &self.email,
            ProfileField::Phone => &self.phone,
            ProfileField::Company => &self.company,
            ProfileField::Department => &self.department,
            ProfileField::Position => &self.position,
        }
    }

    pub fn get_mut(&mut self, field: ProfileField) -> &mut String {
        match field {
            ProfileField::DisplayName => &mut self.display_name,
            ProfileField::FirstName => &mut self.first_name,
            ProfileField::LastName => &mut self.last_name,
            ProfileField::Email => &mut self.email,
            ProfileField::Phone => &mut self.phone,
            ProfileField::Company => &mut self.company,
            ProfileField::Department => &mut self.department,
            ProfileField::Position => &mut self.position,
        }
    }
}

/// Which of the two built-in groups a group is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinGroup {
    /// "Users without a group": every local user who is in no other group.
    NoGroup,
    /// "Federated Users": every user of another server, as seen from this one.
    Federated,
}

impl BuiltinGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinGroup::NoGroup => "no_group",
            BuiltinGroup::Federated => "federated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "no_group" => Some(BuiltinGroup::NoGroup),
            "federated" => Some(BuiltinGroup::Federated),
            _ => None,
        }
    }
}

/// A user in a list of the control panel.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub is_active: bool,
    pub is_admin: bool,
    /// Locked by too many failed sign-ins, until this time (Unix ms).
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub items: Vec<UserSummary>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    pub id: i64,
    pub name: String,
    pub builtin: Option<BuiltinGroup>,
}

/// One effective right and the groups it comes from.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightGrant {
    pub right: Right,
    pub groups: Vec<GroupRef>,
}

/// A user as the control panel's user page shows it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: i64,
    pub login: String,
    pub causeway_id: CausewayId,
    pub profile: Profile,
    pub is_active: bool,
    pub is_admin: bool,
    pub locked_until: Option<i64>,
    pub avatar_url: Option<String>,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    /// The groups the user is in; "Users without a group" when in none.
    pub groups: Vec<GroupRef>,
    pub effective_rights: Vec<RightGrant>,
}

/// `POST /api/v1/admin/users`
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub login: String,
    pub password: String,
    pub profile: Profile,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub group_ids: Vec<i64>,
}

impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser")
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .field("profile", &self.profile)
            .field("is_admin", &self.is_admin)
            .field("group_ids", &self.group_ids)
            .finish()
    }
}

/// `PATCH /api/v1/admin/users/{id}`: only the fields present change.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
}

/// `PUT /api/v1/admin/users/{id}/password`
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
}

impl std::fmt::Debug for SetPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetPassword { password: <redacted> }")
    }
}

/// `PUT /api/v1/me/password`
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePassword { <redacted> }")
    }
}

/// `PATCH /api/v1/me/profile`: what every user may change about themselves.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOwnProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A list of ids, for membership edits (`PUT …/groups`, `PUT …/members`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdList {
    pub ids: Vec<i64>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub id: i64,
    pub name: String,
    pub builtin: Option<BuiltinGroup>,
    pub rights: Vec<Right>,
    /// Stored members; `None` for the built-ins, whose members are implicit.
    pub member_count: Option<i64>,
    /// Members find each other in their address books.
    pub members_see_each_other: bool,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRef {
    pub id: i64,
    pub login: String,
    pub display_name: String,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub id: i64,
    pub name: String,
    pub builtin: Option<BuiltinGroup>,
    pub rights: Vec<Right>,
    /// For "Users without a group", the users who are in no group now; empty for
    /// "Federated Users".
    pub members: Vec<MemberRef>,
    /// Members find each other in their address books without an entry each
    /// (always off for "Federated Users", who are not members of anything here).
    pub members_see_each_other: bool,
    pub address_book: Vec<AddressBookEntry>,
}

/// `POST /api/v1/admin/groups`
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    pub name: String,
    #[serde(default)]
    pub rights: Vec<Right>,
    /// On unless asked otherwise: a new group's members find each other.
    #[serde(default = "on")]
    pub members_see_each_other: bool,
}

fn on() -> bool {
    true
}

/// `PATCH /api/v1/admin/groups/{id}`
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<Vec<Right>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_see_each_other: Option<bool>,
}

/// An address-book entry: a Causeway ID (local or of another server) and the
/// name to show for it (empty: the person's own display name).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressBookEntry {
    pub causeway_id: CausewayId,
    #[serde(default)]
    pub display_name: String,
    /// The person's own name as this server knows it, so that an entry without
    /// a display name still shows a name. Filled in answers; ignored when a
    /// book is saved.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub person_name: String,
}

impl AddressBookEntry {
    /// The name the entry shows: the one the book gives, else the person's
    /// own, else their login.
    pub fn shown_name(&self) -> String {
        [&self.display_name, &self.person_name]
            .into_iter()
            .find(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| self.causeway_id.login.to_string())
    }
}

/// `PUT` of a whole address book: the entries in order. Adding, removing and
/// reordering are all one atomic replacement.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressBook {
    pub entries: Vec<AddressBookEntry>,
}

/// Where a contact comes from.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContactSource {
    Group { name: String },
    Personal,
}

/// One entry of a user's Contacts page: group and personal address books merged.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub causeway_id: CausewayId,
    pub display_name: String,
    /// On this server (else on the server named in the ID).
    pub is_local: bool,
    /// The person's photo, for people of this server who set one.
    pub avatar_url: Option<String>,
    pub sources: Vec<ContactSource>,
    /// Has a browser tab open on this server now (people of this server only).
    #[serde(default)]
    pub online: bool,
}

/// `GET /api/v1/contacts?search=&page=&per_page=`: one page of the people
/// whose name or ID contains `search`, by name.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    pub contacts: Vec<Contact>,
    /// How many people match, on all pages.
    pub total: u32,
    pub page: u32,
    pub per_page: u32,
    /// May the user edit their personal address book?
    pub can_edit_personal: bool,
    pub personal: Vec<AddressBookEntry>,
}

/// `GET /api/v1/people/lookup?id=`: one person found by their Causeway ID, with
/// the name their server gives them.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub causeway_id: CausewayId,
    pub display_name: String,
}

/// `GET /api/v1/admin/setup`: how far the server's set-up has come.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStatus {
    /// Users who are not administrators.
    pub people: i64,
    /// Groups other than the two built-in ones.
    pub groups: i64,
    /// Federation is on (allow all, or a white list).
    pub federation: bool,
}

impl SetupStatus {
    pub fn complete(&self) -> bool {
        self.people > 0 && self.groups > 0 && self.federation
    }
}

/// `GET /api/v1/me/account`: the signed-in user's own account page.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccount {
    pub causeway_id: CausewayId,
    pub avatar_url: Option<String>,
    pub profile: Profile,
    pub is_admin: bool,
    pub groups: Vec<GroupRef>,
    pub rights: Vec<RightGrant>,
}

/// What a server tells other servers about one of its users: the Causeway ID and
/// only the profile fields its administrator chose under Display Fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedProfile {
    pub causeway_id: CausewayId,
    pub fields: std::collections::BTreeMap<ProfileField, String>,
}
