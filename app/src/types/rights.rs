//! The rights a group grants its members (the seed's list, DESIGN.md).

use serde::{Deserialize, Serialize};

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
