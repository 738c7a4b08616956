//! One source's view: everything the source says, indexed by subject, built from its graph's
//! triples (or read from its file, [`crate::ViewFiles`]).

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::fmt::{Display, Write as _};

use hashbrown::HashTable;
use oxigraph::model::{NamedNodeRef, NamedOrBlankNode, Term, TermRef, Triple};

use musubi_ontology::vocab;
use musubi_store::{GraphStore, StoreError};

use std::sync::Arc;

use crate::node_file::NodeFile;
use crate::node::{self, Node};

/// Orders `a` and `b` as their `to_string()`s compare (the order values and keys have always had),
/// formatting into two reused buffers instead of allocating a string per value.
pub(crate) fn cmp_displayed(a: &dyn Display, b: &dyn Display) -> Ordering {
    thread_local! {
        static BUFFERS: RefCell<(String, String)> = const { RefCell::new((String::new(), String::new())) };
    }
    BUFFERS.with_borrow_mut(|(x, y)| {
        x.clear();
        y.clear();
        // Writing to a String cannot fail.
        let _ = write!(x, "{a}");
        let _ = write!(y, "{b}");
        x.as_str().cmp(y.as_str())
    })
}
/// Everything one source says, indexed by subject.
///
/// A node is handed out owned ([`Node`] shares its bytes): a view kept on disk reads it from its
/// file when asked, so that a hub of a million datasets does not hold gigabytes of node bytes.
#[derive(Debug, Default)]
pub struct SourceView {
    pub source: String,
    /// In the order the store gave their first triple.
    pub(crate) nodes: Nodes,
    /// The predicates, datatypes and language tags the nodes' bytes refer to by number.
    pub(crate) names: Arc<node::Names>,
    /// Positions of nodes, hashed by id (each id is stored once, in its node).
    pub(crate) index: HashTable<u32>,
    pub(crate) hasher: node::IdHasher,
    /// Positions of the nodes of each class (`rdf:type`), by accession.
    pub(crate) types: BTreeMap<Box<str>, Vec<u32>>,
    /// The store generation of the graph the view was projected from, where known (views kept
    /// on disk): it says whether what was derived from the view (the search index on disk) is
    /// still current.
    pub(crate) generation: Option<String>,
}

/// Where a view's nodes are.
#[derive(Debug)]
pub(crate) enum Nodes {
    /// Projected here and not (yet) kept on disk: graphs stored in place, which are small.
    Memory(Vec<Node>),
    /// In the view's file, each read when asked.
    File(NodeFile),
}

impl Default for Nodes {
    fn default() -> Nodes {
        Nodes::Memory(Vec::new())
    }
}

impl SourceView {
    pub fn from_triples(source: &str, triples: impl IntoIterator<Item = Triple>) -> SourceView {
        let mut builder = SourceViewBuilder::default();
        triples.into_iter().for_each(|t| builder.add(t));
        builder.finish(source)
    }

    /// Projects one source graph of `store`, triple by triple (the graph is never held whole).
    pub fn load(store: &dyn GraphStore, graph: NamedNodeRef<'_>, source: &str) -> Result<SourceView, StoreError> {
        let mut builder = SourceViewBuilder::default();
        store.for_each_triple(graph, &mut |t| builder.add(t))?;
        Ok(builder.finish(source))
    }

    pub fn generation(&self) -> Option<&str> {
        self.generation.as_deref()
    }

    /// Marks the view as projected from the graph's `generation` (see [`GraphStore::generation`]).
    pub fn set_generation(&mut self, generation: String) {
        self.generation = Some(generation);
    }

    /// Whether the view's nodes are read from its file (else held in memory).
    pub fn on_disk(&self) -> bool {
        matches!(self.nodes, Nodes::File(_))
    }

    /// What identifies the view's contents: its source and generation, or where it has none (a
    /// graph stored in place: small) a hash of every node, property and value.
    pub fn fingerprint(&self, hasher: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        self.source.hash(hasher);
        match &self.generation {
            Some(g) => g.hash(hasher),
            None => {
                self.names.hash(hasher);
                for node in self.nodes() {
                    node.bytes().hash(hasher);
                }
            }
        }
    }

    /// How many nodes the view has.
    pub fn len(&self) -> usize {
        match &self.nodes {
            Nodes::Memory(nodes) => nodes.len(),
            Nodes::File(file) => file.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The node at `position`; `None` past the end, or where the view's file cannot be read
    /// there (said in the log: the node reads as absent, and the next start projects the view
    /// again if the file is damaged).
    pub(crate) fn node_at(&self, position: u32) -> Option<Node> {
        match &self.nodes {
            Nodes::Memory(nodes) => nodes.get(position as usize).cloned(),
            Nodes::File(file) => file.read(position as usize, &self.names),
        }
    }

    pub fn node(&self, id: &NamedOrBlankNode) -> Option<Node> {
        let id = id.as_ref();
        let hash = node::id_hash(&self.hasher, id);
        let mut found = None;
        // Each candidate (the hash's high bits match: nearly always the one) is read once, and
        // the one whose id is `id` kept.
        self.index.find(hash, |&i| match self.node_at(i) {
            Some(node) if node.id() == id => {
                found = Some(node);
                true
            }
            _ => false,
        });
        found
    }

    pub fn contains(&self, id: &NamedOrBlankNode) -> bool {
        self.node(id).is_some()
    }

    /// Every node the source describes (in the order the store gave them; read from the file
    /// in large blocks for a view on disk).
    pub fn nodes(&self) -> Box<dyn Iterator<Item = Node> + Send + '_> {
        match &self.nodes {
            Nodes::Memory(nodes) => Box::new(nodes.iter().cloned()),
            Nodes::File(file) => Box::new(file.iter(&self.names)),
        }
    }

    /// The nodes typed `class`, by accession.
    pub fn of_type(&self, class: NamedNodeRef<'_>) -> impl Iterator<Item = Node> + '_ {
        self.types.get(class.as_str()).into_iter().flatten().filter_map(|&i| self.node_at(i))
    }

    pub fn datasets(&self) -> impl Iterator<Item = Node> + '_ {
        self.of_type(vocab::DCAT_DATASET)
    }

    pub fn studies(&self) -> impl Iterator<Item = Node> + '_ {
        self.of_type(vocab::MUSUBI_STUDY)
    }

    pub fn samples(&self) -> impl Iterator<Item = Node> + '_ {
        self.of_type(vocab::MUSUBI_SAMPLE)
    }
}

/// A [`SourceView`] being built, one triple at a time.
#[derive(Default)]
pub(crate) struct SourceViewBuilder {
    #[allow(clippy::type_complexity)]
    nodes: Vec<(NamedOrBlankNode, Vec<(Arc<str>, Vec<Term>)>)>,
    index: HashTable<u32>,
    hasher: node::IdHasher,
    /// The view's distinct predicates (a few dozen), shared by the nodes.
    predicates: HashSet<Arc<str>>,
}

impl SourceViewBuilder {
    pub(crate) fn add(&mut self, t: Triple) {
        // A store gives a subject's triples together: the last node is the likely one.
        let position = match self.nodes.last() {
            Some((id, _)) if *id == t.subject => self.nodes.len() - 1,
            _ => {
                let hash = node::id_hash(&self.hasher, t.subject.as_ref());
                let nodes = &self.nodes;
                match self.index.find(hash, |&i| nodes[i as usize].0 == t.subject) {
                    Some(&i) => i as usize,
                    None => {
                        let i = self.nodes.len();
                        let (nodes, hasher) = (&self.nodes, &self.hasher);
                        self.index.insert_unique(hash, i as u32, |&j| node::id_hash(hasher, nodes[j as usize].0.as_ref()));
                        self.nodes.push((t.subject, Vec::new()));
                        i
                    }
                }
            }
        };
        let props = &mut self.nodes[position].1;
        match props.iter_mut().find(|(p, _)| **p == *t.predicate.as_str()) {
            Some((_, values)) => values.push(t.object),
            None => {
                let predicate = match self.predicates.get(t.predicate.as_str()) {
                    Some(p) => p.clone(),
                    None => {
                        let p: Arc<str> = t.predicate.as_str().into();
                        self.predicates.insert(p.clone());
                        p
                    }
                };
                props.push((predicate, vec![t.object]));
            }
        }
    }

    /// The nodes as built (in the order their first triple came), each property's values in
    /// their stable order and each once (a spool may hold a triple twice; a store never does).
    pub(crate) fn into_nodes(self) -> Vec<(NamedOrBlankNode, Vec<(Arc<str>, Vec<Term>)>)> {
        let mut nodes = self.nodes;
        for (_, props) in &mut nodes {
            for (_, values) in props.iter_mut().filter(|(_, values)| values.len() > 1) {
                values.sort_by(|a, b| cmp_displayed(a, b));
                values.dedup();
            }
        }
        nodes
    }

    fn finish(self, source: &str) -> SourceView {
        let mut encoder = node::Encoder::new(self.predicates);
        let encoded: Vec<Vec<u8>> = self
            .nodes
            .into_iter()
            .map(|(id, mut props)| {
                for (_, values) in &mut props {
                    // Stable order of values whatever order the store returned them in.
                    if values.len() > 1 {
                        values.sort_by(|a, b| cmp_displayed(a, b));
                    }
                }
                encoder.node(&id, &props)
            })
            .collect();
        let names = Arc::new(encoder.finish());
        let nodes: Vec<Node> = encoded.into_iter().map(|bytes| Node::encoded(names.clone(), bytes)).collect();
        let mut types: BTreeMap<Box<str>, Vec<u32>> = BTreeMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for class in node.values(vocab::RDF_TYPE) {
                if let TermRef::NamedNode(class) = class {
                    types.entry(class.as_str().into()).or_default().push(i as u32);
                }
            }
        }
        for positions in types.values_mut() {
            positions.sort_by(|&a, &b| nodes[a as usize].accession_ref().cmp(&nodes[b as usize].accession_ref()));
        }
        SourceView { source: source.to_owned(), nodes: Nodes::Memory(nodes), names, index: self.index, hasher: self.hasher, types, generation: None }
    }
}
