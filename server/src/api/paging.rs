//! Pagination of the API's lists: `page` (from 1) and `per_page` (1 to 500, 100 by default),
//! answered with the total so a script knows when to stop.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::wire::{Route, Service, ServiceFinding};

pub const DEFAULT_PER_PAGE: usize = 100;
pub const MAX_PER_PAGE: usize = 500;

/// The page asked for, as it arrives (text, so a bad value gets a message of ours).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// The page, from 1.
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    /// Items per page, 1 to 500; 100 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    per_page: Option<String>,
}

/// One page of a list, with where it sits in the whole.
macro_rules! page_of {
    ($name:ident, $item:ty) => {
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Items in the whole list, all pages.
            pub total: usize,
            pub page: usize,
            pub per_page: usize,
            pub pages: usize,
        }

        impl From<Window<$item>> for $name {
            fn from(w: Window<$item>) -> Self {
                $name {
                    items: w.items,
                    total: w.total,
                    page: w.page,
                    per_page: w.per_page,
                    pages: w.pages,
                }
            }
        }
    };
}

page_of!(ServicePage, Service);
page_of!(FindingPage, ServiceFinding);
page_of!(RoutePage, Route);

/// A query parameter's value when one was given: an empty value counts as none, as in the
/// pages' forms.
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A page cut from a whole list.
pub struct Window<T> {
    items: Vec<T>,
    total: usize,
    page: usize,
    per_page: usize,
    pages: usize,
}

impl Paging {
    /// The page and its size, or why the query cannot be one.
    pub fn parse(&self) -> Result<(usize, usize), ApiError> {
        let number = |name: &str, value: &Option<String>, default: usize, max: usize| match value
            .as_deref()
            .map(str::trim)
        {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad(format!("{name} must be a whole number from 1 to {max}"))
                }),
        };
        Ok((
            number("page", &self.page, 1, usize::MAX)?,
            number("per_page", &self.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
        ))
    }

    /// Cuts the asked page from `all` (computed before the cut, so `total` counts all).
    pub fn cut<T>(&self, all: Vec<T>) -> Result<Window<T>, ApiError> {
        let (page, per_page) = self.parse()?;
        let total = all.len();
        let pages = total.div_ceil(per_page).max(1);
        let start = (page - 1).saturating_mul(per_page);
        let items = all.into_iter().skip(start).take(per_page).collect();
        Ok(Window {
            items,
            total,
            page,
            per_page,
            pages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(page: &str, per_page: &str) -> Paging {
        Paging {
            page: Some(page.into()),
            per_page: Some(per_page.into()),
        }
    }

    #[test]
    fn pages_cut_the_whole_list_and_count_it() {
        let w = paging("2", "3").cut((1..=8).collect::<Vec<_>>()).unwrap();
        assert_eq!(w.items, vec![4, 5, 6]);
        assert_eq!((w.total, w.page, w.per_page, w.pages), (8, 2, 3, 3));
        let past = paging("9", "3").cut((1..=8).collect::<Vec<_>>()).unwrap();
        assert!(past.items.is_empty());
        let empty = Paging::default().cut(Vec::<i32>::new()).unwrap();
        assert_eq!((empty.total, empty.pages, empty.per_page), (0, 1, 100));
    }

    #[test]
    fn bad_numbers_are_refused_with_the_allowed_range() {
        for (p, pp) in [
            ("0", "10"),
            ("x", "10"),
            ("1", "501"),
            ("1", "-3"),
            ("1", "0"),
        ] {
            let e = paging(p, pp).parse().unwrap_err();
            assert_eq!(e.0, axum::http::StatusCode::BAD_REQUEST, "{p} {pp}");
            assert!(e.1.contains("whole number"), "{}", e.1);
        }
    }
}
