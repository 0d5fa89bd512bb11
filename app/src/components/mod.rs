//! Pieces shared by several pages.

mod brand;
mod feedback;
mod frame;

pub use brand::Brand;
pub use feedback::{ErrorNotice, Loading, format_time, outcome};
pub use frame::{AdminLayout, Frame, Me, Section};
