//! Paging by cursor, as every connection (`datasets`, `search`, …) pages: Relay's `PageInfo`
//! and the default page-size limit.

use async_graphql::SimpleObject;

/// The default page-size limit (the configured one is [`crate::Limits::page_size`]).
pub const MAX_PAGE_SIZE: i32 = 100;

#[derive(Debug, SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}
