//! Pieces shared by several pages.

mod avatar;
mod brand;
mod delete_card;
mod feedback;
mod frame;
mod group_choices;
mod lazy;
mod people_picker;
mod rich_text;

pub use avatar::{Avatar, initials};
pub use brand::Brand;
pub use delete_card::DeleteCard;
pub use feedback::{
    Confirm, ErrorNotice, Loading, format_time, hydrated, outcome, typed_before_hydration,
};
pub use frame::{AdminLayout, Frame, Me, Saved, Section};
pub use group_choices::GroupChoices;
pub use lazy::Fetched;
pub use people_picker::{Find, PeoplePicker, PickPeople, Picked, later};
pub use rich_text::{
    MentionNames, RichText, day_label, day_of, human_size, local_time, lower, short_time, upper,
};
