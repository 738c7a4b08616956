//! Why a harvest failed.

use musubi_store::StoreError;

use crate::fetch::FetchError;

/// Why a source's harvest failed. Each message says where (URL, record, file).
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: {message}")]
    Parse { url: String, message: String },
    #[error("{url}: record {record}: {message}")]
    Mapping { url: String, record: String, message: String },
    #[error("{0}")]
    Protocol(String),
    #[error("{0}")]
    Config(String),
    #[error("the source returned no records; keeping the last good graph")]
    Empty,
    /// A harvest guard tripped (see [`crate::guards`]): what it saw.
    #[error("harvest guard: {0}")]
    Guard(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
