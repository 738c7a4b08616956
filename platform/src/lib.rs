//! musubi-platform: the AMED platform's processes as plain domain code.
//!
//! - [`dmp`]: AMED Data Management Plans (JSON-LD and CSV) validated whole into catalog entries,
//!   and the sharing deadlines that run from each data item's generation date;
//! - [`duo`]: DUO matching (may this research purpose use data under these DUO terms?) and DUO
//!   codes suggested from free-text policies.
//!
//! Architecture invariant: never sees GraphQL or HTTP; keeps what it writes in the graph store.

pub mod dmp;
pub mod duo;
