//! Merging: the sources' nodes for one dataset, study or sample grouped into one record
//! ([`MergedRecord`]), across sources, in one global order (union-find over IRIs, accessions and
//! `owl:sameAs` / `skos:exactMatch` links). The merged records are kept on disk beside the views
//! (`records_file`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oxigraph::model::{NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, TermRef};

use musubi_ontology::vocab;

use crate::node::Node;
use crate::view::{SourceView, cmp_displayed};
use crate::PolicyFacts;

/// Where a dataset lives in the read model: the key queries sort and page by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityKey {
    pub accession: String,
    /// Shared by every key of the source (millions of keys, a few sources).
    pub source: Arc<str>,
    pub id: NamedOrBlankNode,
}

impl Ord for EntityKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // The ids as written only when accession and source tie, formatted into reused buffers:
        // sorting a million records must not allocate two strings per comparison.
        self.accession
            .cmp(&other.accession)
            .then_with(|| self.source.cmp(&other.source))
            .then_with(|| cmp_displayed(&self.id, &other.id))
    }
}

impl PartialOrd for EntityKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One record as the hub shows it: the nodes every source has for it, merged.
///
/// Sources meet on a record when they name the same IRI (identifier IRIs are normalised at
/// harvest), state the same accession for the same kind of record, or link the two with
/// `owl:sameAs` / `skos:exactMatch` (e.g. TogoID's JGA study ↔ NBDC research pairs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedRecord {
    /// Every node of the record, typed ones first (the key's first), then untyped nodes that
    /// other sources attach to one of its IRIs (e.g. a policy link from a relation table).
    /// Never empty.
    pub members: Vec<EntityKey>,
    /// The IRIs that name the record besides its nodes' own: those linked to them by
    /// `owl:sameAs` / `skos:exactMatch` even where no source describes them (e.g. an NBDC research
    /// a JGA study says it is), so that a link to any of them reaches the record. (Its nodes'
    /// IRIs are not repeated here: most records have no other, and there are millions.)
    pub iris: Vec<NamedNode>,
    /// What its nodes state about its embargo and sensitivity.
    pub policy: PolicyFacts,
}

impl MergedRecord {
    /// The first typed member in the global order: its accession names the record, its position
    /// orders it.
    pub fn key(&self) -> &EntityKey {
        &self.members[0]
    }

    /// The sources that say something about the record, by id.
    pub fn sources(&self) -> Vec<&str> {
        let mut sources: Vec<&str> = self.members.iter().map(|m| &*m.source).collect();
        sources.sort_unstable();
        sources.dedup();
        sources
    }

    /// Whether the graph node `id` is (or is the same as) the record.
    pub fn names(&self, id: &NamedOrBlankNode) -> bool {
        self.members.iter().any(|m| &m.id == id) || matches!(id, NamedOrBlankNode::NamedNode(n) if self.iris.contains(n))
    }
}

/// What merging the views gives: records across sources, and how to find them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Merged {
    pub(crate) datasets: Vec<MergedRecord>,
    pub(crate) studies: Vec<MergedRecord>,
    /// Biological samples (BioSample records).
    pub(crate) samples: Vec<MergedRecord>,
    /// Every member's accession → position in `datasets` / `studies` / `samples`.
    pub(crate) dataset_by_accession: HashMap<String, usize>,
    pub(crate) study_by_accession: HashMap<String, usize>,
    pub(crate) sample_by_accession: HashMap<String, usize>,
    /// Every member's IRI → position in `studies`.
    pub(crate) study_by_iri: HashMap<NamedOrBlankNode, usize>,
    /// Study position → positions in `datasets` of the datasets that are part of it.
    pub(crate) datasets_by_study: HashMap<usize, Vec<usize>>,
    /// Study position → positions in `samples` of the samples taken for it.
    pub(crate) samples_by_study: HashMap<usize, Vec<usize>>,
    /// Dataset accession → the policies (`odrl:Policy`) that name it by `musubi:datasetAccession`
    /// (EGA policies list their datasets), for DUO matching.
    pub(crate) policies_by_dataset: HashMap<String, Vec<EntityKey>>,
}

impl Merged {
    /// Merges every view's datasets, studies and samples into records.
    pub(crate) fn of(views: &BTreeMap<String, Arc<SourceView>>) -> Merged {
        let links = Links::of(views);
        // Each member's accession, where its node states one, finds the record.
        let positions = |records: &[MergedRecord], read: &[ReadOfMembers]| {
            let mut index = HashMap::new();
            for (i, (r, read)) in records.iter().zip(read).enumerate() {
                for (m, &identified) in r.members.iter().zip(&read.identified) {
                    if identified {
                        index.entry(m.accession.clone()).or_insert(i);
                    }
                }
            }
            index
        };
        let merged = |class: NamedNodeRef<'static>| {
            let (records, read) = merge(views, &links, class);
            let by_accession = positions(&records, &read);
            (records, by_accession, read)
        };
        // Datasets (most of the records) on one thread, studies and samples on this one: merging
        // is most of a start that reads its views from disk.
        let (datasets, studies, samples) = std::thread::scope(|scope| {
            let datasets = scope.spawn(|| merged(vocab::DCAT_DATASET));
            let studies = merged(vocab::MUSUBI_STUDY);
            let samples = merged(vocab::MUSUBI_SAMPLE);
            (datasets.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), studies, samples)
        });
        let mut policies_by_dataset: HashMap<String, Vec<EntityKey>> = HashMap::new();
        for (source, node) in &links.policies {
            for accession in node.strings(vocab::MUSUBI_DATASET_ACCESSION) {
                let key = EntityKey { accession: node.accession(), source: Arc::from(*source), id: node.id().into_owned() };
                policies_by_dataset.entry(accession.to_owned()).or_default().push(key);
            }
        }
        drop(links);
        let mut merged = Merged { policies_by_dataset, ..Merged::default() };
        let (dataset_reads, sample_reads);
        (merged.datasets, merged.dataset_by_accession, dataset_reads) = datasets;
        (merged.studies, merged.study_by_accession, _) = studies;
        (merged.samples, merged.sample_by_accession, sample_reads) = samples;
        merged.index_studies_by_iri();
        merged.datasets_by_study = merged.by_study(&dataset_reads);
        merged.samples_by_study = merged.by_study(&sample_reads);
        merged
    }

    /// Study position → positions in `records` of the records that are part of it
    /// (`dct:isPartOf` one of the study's IRIs, in any source).
    fn by_study(&self, records: &[ReadOfMembers]) -> HashMap<usize, Vec<usize>> {
        let mut out: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, read) in records.iter().enumerate() {
            let mut studies: Vec<usize> = read.part_of.iter().filter_map(|iri| self.study_by_iri.get(iri).copied()).collect();
            studies.sort_unstable();
            studies.dedup();
            for s in studies {
                out.entry(s).or_default().push(i);
            }
        }
        out
    }


    pub(crate) fn index_studies_by_iri(&mut self) {
        self.study_by_iri = HashMap::new();
        for (i, r) in self.studies.iter().enumerate() {
            for m in &r.members {
                self.study_by_iri.entry(m.id.clone()).or_insert(i);
            }
            for iri in &r.iris {
                self.study_by_iri.entry(iri.clone().into()).or_insert(i);
            }
        }
    }
}

/// What merging reads of every node besides the typed ones, gathered in one pass over the views
/// (not one per kind of record: three property lookups per node, millions of nodes).
struct Links<'a> {
    /// `owl:sameAs` / `skos:exactMatch` links to an IRI: (source, node, linked IRI).
    same: Vec<(&'a str, NamedOrBlankNode, String)>,
    /// Named nodes with no `rdf:type`, which sources attach to a record's IRIs.
    untyped: Vec<(&'a str, Node)>,
    /// `odrl:Policy` nodes (EGA policies list their datasets).
    policies: Vec<(&'a str, Node)>,
}

impl<'a> Links<'a> {
    fn of(views: &'a BTreeMap<String, Arc<SourceView>>) -> Links<'a> {
        let mut links = Links { same: Vec::new(), untyped: Vec::new(), policies: Vec::new() };
        for view in views.values() {
            for node in view.nodes() {
                for other in node.values(vocab::OWL_SAME_AS).chain(node.values(vocab::SKOS_EXACT_MATCH)) {
                    if let TermRef::NamedNode(other) = other {
                        links.same.push((&view.source, node.id().into_owned(), other.as_str().to_owned()));
                    }
                }
                if node.values(vocab::RDF_TYPE).is_empty() {
                    if matches!(node.id(), NamedOrBlankNodeRef::NamedNode(_)) {
                        links.untyped.push((&view.source, node));
                    }
                } else if node.has_type(vocab::ODRL_POLICY) {
                    links.policies.push((&view.source, node));
                }
            }
        }
        links
    }
}

/// Groups the nodes `typed` gives (one class's) across sources into merged records (union-find
/// over IRIs, accessions and `owl:sameAs` / `skos:exactMatch` links), in the global order.
fn merge(
    views: &BTreeMap<String, Arc<SourceView>>,
    links: &Links<'_>,
    class: NamedNodeRef<'_>,
) -> (Vec<MergedRecord>, Vec<ReadOfMembers>) {
    let mut sets = UnionFind::default();
    let node_key = |source: &str, id: NamedOrBlankNodeRef<'_>| match id {
        NamedOrBlankNodeRef::NamedNode(n) => n.as_str().to_owned(),
        NamedOrBlankNodeRef::BlankNode(b) => format!("_:{source}\u{0}{}", b.as_str()),
    };
    let mut typed_keys = Vec::new();
    for view in views.values() {
        let source: Arc<str> = Arc::from(view.source.as_str());
        for node in view.of_type(class) {
            let key = EntityKey { accession: node.accession(), source: source.clone(), id: node.id().into_owned() };
            let element = sets.add(node_key(&view.source, node.id()));
            // The same accession for the same kind of record is the same record.
            let accession = sets.add(format!("accession\u{0}{}", key.accession));
            sets.union(element, accession);
            typed_keys.push((element, Member::of(false, key, &node)));
        }
    }
    for (source, id, other) in &links.same {
        let a = sets.add(node_key(source, id.as_ref()));
        let b = sets.add(other.clone());
        sets.union(a, b);
    }
    let mut groups: BTreeMap<usize, Vec<Member>> = BTreeMap::new();
    for (element, member) in typed_keys {
        groups.entry(sets.find(element)).or_default().push(member);
    }
    // Untyped nodes that sources attach to a record's IRIs (a relation table's policy link)
    // belong to it too; nodes typed as something else never do.
    for (source, node) in &links.untyped {
        let NamedOrBlankNodeRef::NamedNode(n) = node.id() else { continue };
        if let Some(element) = sets.get(n.as_str())
            && let Some(group) = groups.get_mut(&sets.find(element))
        {
            let key = EntityKey { accession: node.accession(), source: Arc::from(*source), id: node.id().into_owned() };
            group.push(Member::of(true, key, node));
        }
    }
    let roots: Vec<usize> = groups.keys().copied().collect();
    let mut records: Vec<(MergedRecord, ReadOfMembers)> = groups
        .into_values()
        .map(|mut members| {
            // Typed members first in key order, then the untyped ones.
            members.sort_by(|a, b| a.untyped.cmp(&b.untyped).then_with(|| a.key.cmp(&b.key)));
            let mut policy = PolicyFacts::default();
            let mut read = ReadOfMembers::default();
            for m in &members {
                policy.add(&m.policy);
                read.identified.push(m.identified);
                read.part_of.extend(m.part_of.iter().cloned());
            }
            let members: Vec<EntityKey> = members.into_iter().map(|m| m.key).collect();
            (MergedRecord { members, iris: Vec::new(), policy }, read)
        })
        .collect();
    let position: HashMap<usize, usize> = roots.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    for (key, &element) in &sets.index {
        if key.starts_with("accession\u{0}") || key.starts_with("_:") {
            continue;
        }
        if let Some(&i) = position.get(&sets.find_const(element)) {
            // Every other key is an IRI a node or a link named (already valid).
            let named_by_member = records[i].0.members.iter().any(|m| matches!(&m.id, NamedOrBlankNode::NamedNode(n) if n.as_str() == key));
            if !named_by_member {
                records[i].0.iris.push(NamedNode::new_unchecked(key.as_str()));
            }
        }
    }
    for (r, _) in &mut records {
        r.iris.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    }
    records.sort_by(|a, b| a.0.key().cmp(b.0.key()));
    records.into_iter().unzip()
}

/// One node of a record being merged: its key, and what merging reads of it while it has the
/// node at hand (a view on disk reads each node from its file: read once, not once per use).
struct Member {
    untyped: bool,
    key: EntityKey,
    policy: PolicyFacts,
    /// Whether the node states an accession (`dct:identifier` or the source's record id).
    identified: bool,
    /// The IRIs it says it is part of (`dct:isPartOf`): its studies.
    part_of: Vec<NamedOrBlankNode>,
}

impl Member {
    fn of(untyped: bool, key: EntityKey, node: &Node) -> Member {
        let identified = node.first(vocab::DCT_IDENTIFIER).is_some() || node.first(vocab::MUSUBI_SOURCE_RECORD_ID).is_some();
        let part_of = node
            .values(vocab::DCT_IS_PART_OF)
            .filter_map(|t| match t {
                TermRef::NamedNode(n) => Some(NamedOrBlankNode::from(n.into_owned())),
                _ => None,
            })
            .collect();
        Member { untyped, key, policy: PolicyFacts::of_node(node), identified, part_of }
    }
}

/// What merging read of a record's members' nodes: which state an accession (in member order),
/// and every study IRI they are part of.
#[derive(Default)]
struct ReadOfMembers {
    identified: Vec<bool>,
    part_of: Vec<NamedOrBlankNode>,
}

/// Disjoint sets over string keys, with path halving.
#[derive(Debug, Default)]
struct UnionFind {
    index: HashMap<String, usize>,
    parent: Vec<usize>,
}

impl UnionFind {
    fn add(&mut self, key: String) -> usize {
        let next = self.parent.len();
        let i = *self.index.entry(key).or_insert(next);
        if i == next {
            self.parent.push(next);
        }
        i
    }

    fn get(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// [`UnionFind::find`] without shortening paths.
    fn find_const(&self, mut i: usize) -> usize {
        while self.parent[i] != i {
            i = self.parent[i];
        }
        i
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}
