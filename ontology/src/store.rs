//! The graph store: where the truth lives.
//!
//! Callers see [`GraphStore`], so that a remote SPARQL 1.1 endpoint (Virtuoso, QLever, Fuseki, …)
//! can stand in for the embedded oxigraph without touching them. The embedded store keeps every
//! source in its own named graph and replaces a graph in one transaction: a reader sees the old
//! graph or the new one, never a mix, and a failed harvest leaves the old one in place.

use std::path::Path;

use oxigraph::model::{GraphNameRef, NamedNode, NamedNodeRef, NamedOrBlankNode, Triple};
use oxigraph::store::Store;

/// One graph's new content, for [`GraphStore::replace`].
#[derive(Debug, Clone, Copy)]
pub struct Replacement<'a> {
    pub graph: NamedNodeRef<'a>,
    pub triples: &'a [Triple],
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data folder {path} is in use by another musubi process (stop it, or use another --data folder)")]
    Locked { path: String },
    #[error("cannot open the graph store in {path}: {message}")]
    Open { path: String, message: String },
    #[error("this musubi was built without on-disk storage (cargo feature `rocksdb`); it can only keep the graph in memory")]
    NoDiskStorage,
    #[error("graph store: {0}")]
    Storage(String),
}

/// A store of named graphs.
pub trait GraphStore: Send + Sync {
    /// Replaces each given graph with its new triples, all in one transaction.
    fn replace(&self, replacements: &[Replacement<'_>]) -> Result<(), StoreError>;
    /// Every triple of one named graph.
    fn graph(&self, graph: NamedNodeRef<'_>) -> Result<Vec<Triple>, StoreError>;
    /// The names of the graphs that hold something.
    fn graph_names(&self) -> Result<Vec<NamedNode>, StoreError>;
}

/// oxigraph in this process: in memory, or on disk in the data folder (RocksDB).
#[derive(Clone)]
pub struct EmbeddedStore {
    store: Store,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbeddedStore")
    }
}

impl EmbeddedStore {
    /// A store that lives as long as the process: for tests and `connector check`.
    pub fn in_memory() -> EmbeddedStore {
        EmbeddedStore { store: Store::new().expect("an in-memory store can always be created") }
    }

    /// Opens (or creates) the store in `path`. Only one process may hold it open.
    #[cfg(feature = "rocksdb")]
    pub fn open(path: &Path) -> Result<EmbeddedStore, StoreError> {
        std::fs::create_dir_all(path)
            .map_err(|e| StoreError::Open { path: path.display().to_string(), message: e.to_string() })?;
        Store::open(path).map(|store| EmbeddedStore { store }).map_err(|e| {
            let message = e.to_string();
            if message.contains("lock") || message.contains("LOCK") {
                StoreError::Locked { path: path.display().to_string() }
            } else {
                StoreError::Open { path: path.display().to_string(), message }
            }
        })
    }

    #[cfg(not(feature = "rocksdb"))]
    pub fn open(_path: &Path) -> Result<EmbeddedStore, StoreError> {
        Err(StoreError::NoDiskStorage)
    }

}

fn storage(e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(e.to_string())
}

impl GraphStore for EmbeddedStore {
    fn replace(&self, replacements: &[Replacement<'_>]) -> Result<(), StoreError> {
        let mut transaction = self.store.start_transaction().map_err(storage)?;
        for r in replacements {
            transaction.clear_graph(r.graph).map_err(storage)?;
            transaction.extend(r.triples.iter().map(|t| t.as_ref().in_graph(r.graph)));
        }
        transaction.commit().map_err(storage)
    }

    fn graph(&self, graph: NamedNodeRef<'_>) -> Result<Vec<Triple>, StoreError> {
        self.store
            .quads_for_pattern(None, None, None, Some(GraphNameRef::NamedNode(graph)))
            .map(|q| q.map(Triple::from).map_err(storage))
            .collect()
    }

    fn graph_names(&self) -> Result<Vec<NamedNode>, StoreError> {
        let mut names = Vec::new();
        for g in self.store.named_graphs() {
            if let NamedOrBlankNode::NamedNode(n) = g.map_err(storage)? {
                names.push(n);
            }
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::model::{Literal, NamedNode};

    fn t(s: &str, o: &str) -> Triple {
        Triple::new(NamedNode::new_unchecked(s), NamedNode::new_unchecked("http://e/p"), Literal::new_simple_literal(o))
    }

    #[test]
    fn replace_swaps_a_graph_and_leaves_the_others() {
        let store = EmbeddedStore::in_memory();
        let a = NamedNode::new_unchecked("http://e/a");
        let b = NamedNode::new_unchecked("http://e/b");
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/1", "old")] }]).unwrap();
        store.replace(&[Replacement { graph: b.as_ref(), triples: &[t("http://e/2", "b")] }]).unwrap();
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/3", "new")] }]).unwrap();
        assert_eq!(store.graph(a.as_ref()).unwrap(), vec![t("http://e/3", "new")]);
        assert_eq!(store.graph(b.as_ref()).unwrap(), vec![t("http://e/2", "b")]);
        let mut names = store.graph_names().unwrap();
        names.sort();
        assert_eq!(names, vec![a, b]);
    }
}
