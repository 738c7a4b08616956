//! The read model: documents projected from the graph, which queries are answered from.
//!
//! The graph is the truth; this is derived from it and rebuilt per source after each harvest (and
//! from the store at start). A page of results is a lookup here, never a SPARQL query per field.
//! Each source keeps its own [`SourceView`]; replacing one source swaps one `Arc`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oxigraph::model::{NamedNodeRef, NamedOrBlankNode, Term, Triple};

use crate::store::{GraphStore, StoreError};
use crate::vocab::{self, AccessLevel};

/// One entity (a dataset, a study, a person, …) as one source's graph describes it.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: NamedOrBlankNode,
    props: HashMap<String, Vec<Term>>,
}

impl Node {
    /// The values of a property, in the order the graph gave them.
    pub fn values(&self, property: NamedNodeRef<'_>) -> &[Term] {
        self.props.get(property.as_str()).map_or(&[], Vec::as_slice)
    }

    /// The lexical forms of a property's values (IRIs as their string).
    pub fn strings(&self, property: NamedNodeRef<'_>) -> Vec<&str> {
        self.values(property).iter().filter_map(term_str).collect()
    }

    pub fn first(&self, property: NamedNodeRef<'_>) -> Option<&str> {
        self.values(property).iter().find_map(term_str)
    }

    pub fn has_type(&self, class: NamedNodeRef<'_>) -> bool {
        self.values(vocab::RDF_TYPE).iter().any(|t| matches!(t, Term::NamedNode(n) if n.as_ref() == class))
    }

    /// The public id: `dct:identifier`, else the source's record id, else the IRI.
    pub fn accession(&self) -> String {
        self.first(vocab::DCT_IDENTIFIER)
            .or_else(|| self.first(vocab::MUSUBI_SOURCE_RECORD_ID))
            .map(str::to_owned)
            .unwrap_or_else(|| match &self.id {
                NamedOrBlankNode::NamedNode(n) => n.as_str().to_owned(),
                NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
            })
    }

    pub fn access_level(&self) -> Option<AccessLevel> {
        self.values(vocab::MUSUBI_ACCESS_LEVEL).iter().find_map(|t| match t {
            Term::NamedNode(n) => AccessLevel::from_iri(n.as_str()),
            _ => None,
        })
    }
}

fn term_str(t: &Term) -> Option<&str> {
    match t {
        Term::NamedNode(n) => Some(n.as_str()),
        Term::Literal(l) => Some(l.value()),
        _ => None,
    }
}

/// Everything one source says, indexed by subject.
#[derive(Debug, Default)]
pub struct SourceView {
    pub source: String,
    nodes: HashMap<NamedOrBlankNode, Node>,
    datasets: Vec<NamedOrBlankNode>,
    studies: Vec<NamedOrBlankNode>,
}

impl SourceView {
    pub fn from_triples(source: &str, triples: impl IntoIterator<Item = Triple>) -> SourceView {
        let mut nodes: HashMap<NamedOrBlankNode, Node> = HashMap::new();
        for t in triples {
            nodes
                .entry(t.subject.clone())
                .or_insert_with(|| Node { id: t.subject.clone(), props: HashMap::new() })
                .props
                .entry(t.predicate.into_string())
                .or_default()
                .push(t.object);
        }
        for node in nodes.values_mut() {
            // Stable order of values whatever order the store returned them in.
            for values in node.props.values_mut() {
                values.sort_by_cached_key(|t| t.to_string());
            }
        }
        let mut datasets: Vec<_> = nodes.values().filter(|n| n.has_type(vocab::DCAT_DATASET)).map(|n| n.id.clone()).collect();
        datasets.sort_by_cached_key(|id| nodes[id].accession());
        let mut studies: Vec<_> = nodes.values().filter(|n| n.has_type(vocab::MUSUBI_STUDY)).map(|n| n.id.clone()).collect();
        studies.sort_by_cached_key(|id| nodes[id].accession());
        SourceView { source: source.to_owned(), nodes, datasets, studies }
    }

    pub fn node(&self, id: &NamedOrBlankNode) -> Option<&Node> {
        self.nodes.get(id)
    }

    pub fn datasets(&self) -> impl Iterator<Item = &Node> {
        self.datasets.iter().map(|id| &self.nodes[id])
    }

    pub fn studies(&self) -> impl Iterator<Item = &Node> {
        self.studies.iter().map(|id| &self.nodes[id])
    }
}

/// Where a dataset lives in the read model: the key queries sort and page by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityKey {
    pub accession: String,
    pub source: String,
    pub id: NamedOrBlankNode,
}

impl Ord for EntityKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.accession, &self.source, self.id.to_string()).cmp(&(&other.accession, &other.source, other.id.to_string()))
    }
}

impl PartialOrd for EntityKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// All sources' views, and the global order of datasets and studies.
#[derive(Debug, Default, Clone)]
pub struct ReadModel {
    views: BTreeMap<String, Arc<SourceView>>,
    datasets: Vec<EntityKey>,
    studies: Vec<EntityKey>,
    /// Accession → first position in `datasets` / `studies` (the first source by id).
    dataset_by_accession: HashMap<String, usize>,
    study_by_accession: HashMap<String, usize>,
    /// Study IRI → positions in `datasets` of the datasets that are part of it.
    datasets_by_study: HashMap<NamedOrBlankNode, Vec<usize>>,
}

impl ReadModel {
    /// Projects every source graph in the store.
    pub fn load(store: &dyn GraphStore) -> Result<ReadModel, StoreError> {
        let mut model = ReadModel::default();
        for graph in store.graph_names()? {
            if let Some(source) = graph.as_str().strip_prefix(vocab::SOURCE_GRAPH_PREFIX) {
                let view = SourceView::from_triples(source, store.graph(graph.as_ref())?);
                model.views.insert(source.to_owned(), Arc::new(view));
            }
        }
        model.reindex();
        Ok(model)
    }

    /// A model with one source's view replaced (or added).
    pub fn with_source(&self, view: SourceView) -> ReadModel {
        let mut model = self.clone();
        model.views.insert(view.source.clone(), Arc::new(view));
        model.reindex();
        model
    }

    fn reindex(&mut self) {
        let keys = |f: fn(&SourceView) -> Vec<&Node>| {
            let mut keys: Vec<EntityKey> = self
                .views
                .values()
                .flat_map(|v| {
                    f(v).into_iter().map(|n| EntityKey { accession: n.accession(), source: v.source.clone(), id: n.id.clone() })
                })
                .collect();
            keys.sort();
            keys
        };
        self.datasets = keys(|v| v.datasets().collect());
        self.studies = keys(|v| v.studies().collect());
        let first_positions = |keys: &[EntityKey]| {
            let mut index = HashMap::new();
            for (i, k) in keys.iter().enumerate() {
                index.entry(k.accession.clone()).or_insert(i);
            }
            index
        };
        self.dataset_by_accession = first_positions(&self.datasets);
        self.study_by_accession = first_positions(&self.studies);
        self.datasets_by_study = HashMap::new();
        for (i, k) in self.datasets.iter().enumerate() {
            let Some(node) = self.views.get(&k.source).and_then(|v| v.node(&k.id)) else { continue };
            for study in node.values(vocab::DCT_IS_PART_OF) {
                if let Term::NamedNode(n) = study {
                    self.datasets_by_study.entry(n.clone().into()).or_default().push(i);
                }
            }
        }
    }

    /// The dataset with this accession (from the first source by id that has it).
    pub fn dataset(&self, accession: &str) -> Option<&EntityKey> {
        self.dataset_by_accession.get(accession).map(|&i| &self.datasets[i])
    }

    /// The study with this accession (from the first source by id that has it).
    pub fn study(&self, accession: &str) -> Option<&EntityKey> {
        self.study_by_accession.get(accession).map(|&i| &self.studies[i])
    }

    /// The datasets, from every source, that are part of the study `study`.
    pub fn datasets_of_study(&self, study: &NamedOrBlankNode) -> impl Iterator<Item = &EntityKey> {
        self.datasets_by_study.get(study).into_iter().flatten().map(|&i| &self.datasets[i])
    }

    pub fn view(&self, source: &str) -> Option<&Arc<SourceView>> {
        self.views.get(source)
    }

    /// Datasets of every source, ordered by accession then source.
    pub fn datasets(&self) -> &[EntityKey] {
        &self.datasets
    }

    pub fn studies(&self) -> &[EntityKey] {
        &self.studies
    }

    pub fn node(&self, key: &EntityKey) -> Option<&Node> {
        self.views.get(&key.source)?.node(&key.id)
    }

    /// The first source (by id) that describes `id`, preferring `preferred`.
    pub fn find(&self, id: &NamedOrBlankNode, preferred: &str) -> Option<&Arc<SourceView>> {
        if let Some(v) = self.views.get(preferred).filter(|v| v.node(id).is_some()) {
            return Some(v);
        }
        match id {
            NamedOrBlankNode::NamedNode(_) => self.views.values().find(|v| v.node(id).is_some()),
            NamedOrBlankNode::BlankNode(_) => None,
        }
    }
}
