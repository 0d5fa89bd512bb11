//! `?search=&page=&per_page=`: how lists that grow with the company (users,
//! contacts) are asked for, checked the same way everywhere.

use serde::Deserialize;

use crate::error::ApiError;
use crate::validate;

/// The longest search text a list accepts.
const MAX_SEARCH_CHARS: usize = 100;

/// The most items one page holds.
pub const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Text the items' names or IDs contain (any case).
    #[serde(default)]
    search: String,
    /// From 1.
    page: Option<u32>,
    /// From 1 to 100.
    per_page: Option<u32>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// Trimmed.
    pub search: &'a str,
    pub page: u32,
    pub per_page: u32,
}

impl PageQuery {
    /// The request, or a 422 naming what is wrong. `per_page` defaults to
    /// `default_per_page`.
    pub fn checked(&self, default_per_page: u32) -> Result<Page<'_>, ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(default_per_page);
        if page == 0 || !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::invalid_input(format!(
                "page starts at 1; per_page is from 1 to {MAX_PER_PAGE}."
            )));
        }
        if self.search.chars().count() > MAX_SEARCH_CHARS {
            return Err(ApiError::invalid_input(format!(
                "The search text is longer than {MAX_SEARCH_CHARS} characters."
            )));
        }
        validate::line_text("The search text", &self.search)?;
        Ok(Page {
            search: self.search.trim(),
            page,
            per_page,
        })
    }
}

impl Page<'static> {
    /// The first page of everything.
    pub fn first(per_page: u32) -> Self {
        Page {
            search: "",
            page: 1,
            per_page,
        }
    }
}

impl Page<'_> {
    /// How many items come before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// This page's part of `items` (all of them, in order).
    pub fn of<T>(&self, items: Vec<T>) -> Vec<T> {
        let skip = usize::try_from(self.offset()).unwrap_or(usize::MAX);
        items
            .into_iter()
            .skip(skip)
            .take(self.per_page as usize)
            .collect()
    }
}
