//! The rights a group grants its members (the seed's list, DESIGN.md).

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    EditAddressBook,
    CreateGroupConferences,
    ShareContent,
    ShowSlides,
    SendFiles,
    DownloadFiles,
    RecordConferences,
    RequestRemoteControl,
    AllowRemoteControl,
    Operator,
}

impl Right {
    pub const ALL: [Right; 10] = [
        Right::EditAddressBook,
        Right::CreateGroupConferences,
        Right::ShareContent,
        Right::ShowSlides,
        Right::SendFiles,
        Right::DownloadFiles,
        Right::RecordConferences,
        Right::RequestRemoteControl,
        Right::AllowRemoteControl,
        Right::Operator,
    ];

    /// The stable name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::EditAddressBook => "edit_address_book",
            Right::CreateGroupConferences => "create_group_conferences",
            Right::ShareContent => "share_content",
            Right::ShowSlides => "show_slides",
            Right::SendFiles => "send_files",
            Right::DownloadFiles => "download_files",
            Right::RecordConferences => "record_conferences",
            Right::RequestRemoteControl => "request_remote_control",
            Right::AllowRemoteControl => "allow_remote_control",
            Right::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The label an administrator sees in the control panel.
    pub fn label(self) -> &'static str {
        match self {
            Right::EditAddressBook => "Edit the address book",
            Right::CreateGroupConferences => "Create group conferences",
            Right::ShareContent => "Share content",
            Right::ShowSlides => "Show slides",
            Right::SendFiles => "Send files to chats",
            Right::DownloadFiles => "Download files in chats",
            Right::RecordConferences => "Record conferences",
            Right::RequestRemoteControl => "Request remote control of a participant's desktop",
            Right::AllowRemoteControl => "Allow control of one's own desktop",
            Right::Operator => "Operator rights",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Right;

    #[test]
    fn stored_names_match_the_api_names() {
        for right in Right::ALL {
            let json = serde_json::to_string(&right).unwrap();
            assert_eq!(json, format!("\"{}\"", right.as_str()));
            assert_eq!(Right::parse(right.as_str()), Some(right));
        }
        assert_eq!(Right::parse("root"), None);
    }
}
