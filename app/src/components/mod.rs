//! Pieces shared by several pages.

mod brand;

pub use brand::Brand;
