//! musubi-platform: the AMED platform's processes as plain domain code.
//!
//! - [`principal`]: who the caller is (tier, grants, subject), as the platform and the schema see it;
//! - [`dmp`]: AMED Data Management Plans (JSON-LD and CSV) validated whole into catalog entries,
//!   and the sharing deadlines that run from each data item's generation date;
//! - [`duo`]: DUO matching (may this research purpose use data under these DUO terms?) and DUO
//!   codes suggested from free-text policies;
//! - [`ledger`]: the process records — access requests and their review, access grants, research
//!   outcomes — with their state machine, kept in the store;
//! - [`fees`]: use metered per organisation and user class, priced, summed in monthly statements;
//! - [`audit`]: the append-only audit log of CONTROLLED and STEWARD reads and process steps.
//!
//! Architecture invariant: never sees GraphQL or HTTP; keeps what it writes in the graph store
//! (and the audit log in its file).

pub mod audit;
pub mod dmp;
pub mod duo;
pub mod fees;
pub mod ledger;
pub mod principal;
mod triples;

pub use principal::Principal;
pub use triples::Malformed;
