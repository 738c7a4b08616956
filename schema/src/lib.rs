//! musubi-schema: the GraphQL API.
//!
//! - [`access`]: the caller ([`Principal`]) and the tier guard every field read goes through;
//! - [`types`]: Dataset, Study and the entities they link to, read from the read model;
//! - [`query`]: the root queries and their filters and cursors;
//! - [`errors`]: `extensions.code` on every error.
//!
//! Architecture invariant: the schema never sees HTTP. The gateway hands it a [`Principal`] and a
//! [`Hub`]; resolvers answer from the read model, never with a SPARQL query per field.

pub mod access;
pub mod errors;
pub mod query;
pub mod types;

use std::sync::{Arc, RwLock};

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use musubi_ontology::read_model::{ReadModel, SourceView};
use musubi_ontology::vocab::Vocabulary;

pub use access::Principal;
pub use query::Query;
pub use types::SourceInfo;

/// The schema type served by the gateway.
pub type HubSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// What the schema answers from: the read model, the vocabulary (for tiers) and the sources.
/// Shared by all requests; harvests swap in new read models.
#[derive(Debug)]
pub struct Hub {
    vocabulary: Arc<Vocabulary>,
    model: RwLock<Arc<ReadModel>>,
    sources: RwLock<Arc<Vec<SourceInfo>>>,
}

impl Hub {
    pub fn new(vocabulary: Arc<Vocabulary>, model: ReadModel, sources: Vec<SourceInfo>) -> Hub {
        Hub { vocabulary, model: RwLock::new(Arc::new(model)), sources: RwLock::new(Arc::new(sources)) }
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The read model as of now; a request keeps one snapshot for its whole life.
    pub fn model(&self) -> Arc<ReadModel> {
        self.model.read().expect("read model lock").clone()
    }

    /// Swaps in one source's new projection after a harvest.
    pub fn replace_source(&self, view: SourceView) {
        let mut model = self.model.write().expect("read model lock");
        *model = Arc::new(model.with_source(view));
    }

    pub fn sources(&self) -> Arc<Vec<SourceInfo>> {
        self.sources.read().expect("sources lock").clone()
    }

    pub fn set_sources(&self, sources: Vec<SourceInfo>) {
        *self.sources.write().expect("sources lock") = Arc::new(sources);
    }
}

/// Builds the schema over a hub. Each request must carry a [`Principal`] in its data.
pub fn build(hub: Arc<Hub>) -> HubSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(hub)
        .extension(errors::ErrorCodes)
        .limit_depth(12)
        .limit_complexity(5_000)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary names the GraphQL field that shows each property; a rename on either side
    /// must not leave a property unreachable (or a field reading an undeclared, steward-only one).
    #[test]
    fn every_vocabulary_field_is_in_the_schema() {
        let vocabulary = Arc::new(Vocabulary::builtin());
        let schema = build(Arc::new(Hub::new(vocabulary.clone(), ReadModel::default(), Vec::new())));
        let sdl = schema.sdl();
        let fields: std::collections::HashSet<&str> = sdl
            .lines()
            .map(str::trim)
            .filter_map(|l| l.split(['(', ':']).next())
            .filter(|name| !name.is_empty() && !name.contains(' '))
            .collect();
        let mut missing: Vec<String> = vocabulary
            .properties()
            .filter_map(|p| p.graphql_field.clone())
            .filter(|f| !fields.contains(f.as_str()))
            .collect();
        missing.sort();
        assert!(missing.is_empty(), "declared in the vocabulary but not in the schema: {missing:?}");
    }
}
