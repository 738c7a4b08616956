//! musubi-read-model: documents projected from the graph, which queries are answered from.
//!
//! The graph is the truth; this is derived from it and rebuilt per source after each harvest (and
//! from the store at start). A page of results is a lookup here, never a SPARQL query per field.
//! Each source keeps its own [`SourceView`]; replacing one source swaps one `Arc`.
//!
//! - `view`: one source's view ([`SourceView`]), `file` its file on disk, and `view_spool` a
//!   large harvest's view made from its staged triples ([`ViewSpool`]);
//! - `merging`: one record per dataset, study or sample across sources ([`MergedRecord`]), and
//!   `records_file` the merged records on disk;
//! - here: the [`ReadModel`] — every view and the merged records, opened at start and swapped
//!   per source after a harvest.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oxigraph::model::{NamedNodeRef, NamedOrBlankNode};

use musubi_store::{GraphStore, StoreError};

pub mod binary;
mod file;
mod merging;
mod node;
mod node_file;
mod overlay;
mod policy;
mod records_file;
mod view;
mod view_spool;
pub use file::{ViewFileError, ViewFiles};
pub use merging::{EntityKey, MergedRecord};
use merging::Merged;
pub use node::{Node, Values};
pub use policy::PolicyFacts;
pub use view::SourceView;
pub use view_spool::ViewSpool;
use musubi_ontology::vocab::{self, AccessLevel};

/// All sources' views, and the global order of merged datasets, studies and samples.
#[derive(Debug, Default, Clone)]
pub struct ReadModel {
    views: BTreeMap<String, Arc<SourceView>>,
    merged: Merged,
}

/// Where [`ReadModel::open`] found each source's view.
#[derive(Debug, Default)]
pub struct Opening {
    /// Sources whose view was read from its file.
    pub from_files: Vec<String>,
    /// Sources whose view was projected from the graph (no file, or one of an older generation).
    pub projected: Vec<String>,
    /// Files that could not be read or written: the view was projected (and is served); the
    /// next start projects it again.
    pub warnings: Vec<String>,
    /// Time spent reading and projecting the views, and merging them into records.
    pub views_took: std::time::Duration,
    /// Whether the merged records were read from their file (else merged, and the file written).
    pub records_from_file: bool,
    pub merge_took: std::time::Duration,
}

/// One source's view, and where it came from.
struct Opened {
    view: SourceView,
    from_file: bool,
    generation: Option<String>,
    /// A damaged file, and a file that could not be written after projecting: both are said.
    warnings: Vec<String>,
}

impl Opened {
    fn view(store: &dyn GraphStore, graph: NamedNodeRef<'_>, source: &str, files: Option<(&ViewFiles, bool)>) -> Result<Opened, StoreError> {
        let generation = match files {
            Some(_) => store.generation(graph)?,
            None => None,
        };
        let mut warnings = Vec::new();
        if let (Some((files, true)), Some(g)) = (files, &generation) {
            match files.read(source, g) {
                Ok(Some(view)) => return Ok(Opened { view, from_file: true, generation, warnings }),
                Ok(None) => {}
                Err(e) => warnings.push(format!("{e}; projecting the view from the graph")),
            }
        }
        if files.is_some() {
            tracing::info!(source, "projecting the source's view from the graph (no view file holds its current generation) …");
        }
        let mut view = SourceView::load(store, graph, source)?;
        if let (Some((files, _)), Some(g)) = (files, &generation)
            && let Err(e) = files.keep(&mut view, g)
        {
            warnings.push(format!("cannot keep the view on disk: {e}"));
        }
        Ok(Opened { view, from_file: false, generation, warnings })
    }
}

impl ReadModel {
    /// Projects every source graph in the store, several sources at once (one per core): the
    /// projection is most of `serve`'s start-up, and each source's graph is read on its own.
    pub fn load(store: &dyn GraphStore) -> Result<ReadModel, StoreError> {
        Ok(ReadModel::load_with(store, None)?.0)
    }

    /// [`ReadModel::load`], reading each source's view from `files` where one was written from the
    /// graph's current generation, projecting the others and writing their files. Files of
    /// sources the store no longer holds as a generation are removed.
    pub fn open(store: &dyn GraphStore, files: &ViewFiles) -> Result<(ReadModel, Opening), StoreError> {
        ReadModel::load_with(store, Some((files, true)))
    }

    /// [`ReadModel::open`] reading no file: every source projected from the graph and every file
    /// written anew (`musubi reindex`).
    pub fn rebuild(store: &dyn GraphStore, files: &ViewFiles) -> Result<(ReadModel, Opening), StoreError> {
        ReadModel::load_with(store, Some((files, false)))
    }

    fn load_with(store: &dyn GraphStore, files: Option<(&ViewFiles, bool)>) -> Result<(ReadModel, Opening), StoreError> {
        let names = store.graph_names()?;
        // Popped from the end: in the order of the graph names.
        let pending: Vec<(&str, NamedNodeRef<'_>)> =
            names.iter().filter_map(|g| Some((g.as_str().strip_prefix(vocab::SOURCE_GRAPH_PREFIX)?, g.as_ref()))).rev().collect();
        let threads = std::thread::available_parallelism().map_or(1, usize::from).min(pending.len()).max(1);
        let pending = std::sync::Mutex::new(pending);
        let next = || pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let started = std::time::Instant::now();
        let views: Vec<Result<Opened, StoreError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut views = Vec::new();
                        while let Some((source, graph)) = next() {
                            views.push(Opened::view(store, graph, source, files));
                        }
                        views
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        let mut model = ReadModel::default();
        let mut opening = Opening::default();
        let mut kept = Vec::new();
        for opened in views {
            let opened = opened?;
            let source = opened.view.source.clone();
            if opened.from_file {
                opening.from_files.push(source.clone());
            } else {
                opening.projected.push(source.clone());
            }
            opening.warnings.extend(opened.warnings);
            if opened.generation.is_some() {
                kept.push(source.clone());
            }
            model.views.insert(source, Arc::new(opened.view));
        }
        if let Some((files, _)) = files
            && let Err(e) = files.retain(&kept.iter().map(String::as_str).collect::<Vec<_>>())
        {
            opening.warnings.push(e.to_string());
        }
        opening.from_files.sort();
        opening.projected.sort();
        opening.views_took = started.elapsed();
        match files {
            Some((files, reuse)) => {
                let fingerprint = records_file::fingerprint(&model.views);
                let sources: Vec<&str> = model.views.keys().map(String::as_str).collect();
                let kept = match reuse {
                    true => files.read_records(fingerprint, &sources).unwrap_or_else(|e| {
                        opening.warnings.push(format!("{e}; merging the records again"));
                        None
                    }),
                    false => None,
                };
                match kept {
                    Some(merged) => {
                        model.merged = merged;
                        opening.records_from_file = true;
                    }
                    None => {
                        model.merged = Merged::of(&model.views);
                        if let Err(e) = files.write_records(&model.merged, fingerprint) {
                            opening.warnings.push(format!("cannot keep the merged records on disk: {e}"));
                        }
                    }
                }
            }
            None => model.merged = Merged::of(&model.views),
        }
        opening.merge_took = started.elapsed() - opening.views_took;
        Ok((model, opening))
    }

    /// Writes the merged records beside the views (see [`ReadModel::open`]), for a hub that
    /// merged them after a harvest: the next start reads them instead of merging again.
    pub fn keep_records(&self, files: &ViewFiles) -> Result<(), ViewFileError> {
        files.write_records(&self.merged, records_file::fingerprint(&self.views))
    }

    /// A model with one source's view replaced (or added).
    pub fn with_source(&self, view: SourceView) -> ReadModel {
        let mut model = self.clone();
        model.views.insert(view.source.clone(), Arc::new(view));
        model.merged = Merged::of(&model.views);
        model
    }

    /// The dataset with this accession, as known to any source.
    pub fn dataset(&self, accession: &str) -> Option<&MergedRecord> {
        self.merged.dataset_by_accession.get(accession).map(|&i| &self.merged.datasets[i])
    }

    /// The study with this accession, as known to any source; else the study whose IRIs include
    /// the hub IRI minted from it (an accession only a link names, e.g. the NBDC research a JGA
    /// study says it is).
    pub fn study(&self, accession: &str) -> Option<&MergedRecord> {
        if let Some(&i) = self.merged.study_by_accession.get(accession) {
            return Some(&self.merged.studies[i]);
        }
        let iri = vocab::hub_study(&accession)?;
        self.study_of_node(&iri.into())
    }

    /// The merged study one of whose nodes is `id`.
    pub fn study_of_node(&self, id: &NamedOrBlankNode) -> Option<&MergedRecord> {
        self.merged.study_by_iri.get(id).map(|&i| &self.merged.studies[i])
    }

    /// The datasets, from every source, that are part of the study `study`.
    pub fn datasets_of_study(&self, study: &MergedRecord) -> impl Iterator<Item = &MergedRecord> {
        let position = self.merged.study_by_iri.get(&study.key().id).copied();
        position.and_then(|p| self.merged.datasets_by_study.get(&p)).into_iter().flatten().map(|&i| &self.merged.datasets[i])
    }

    /// The sample with this accession, as known to any source.
    pub fn sample(&self, accession: &str) -> Option<&MergedRecord> {
        self.merged.sample_by_accession.get(accession).map(|&i| &self.merged.samples[i])
    }

    /// The samples, from every source, taken for the study `study`.
    pub fn samples_of_study(&self, study: &MergedRecord) -> impl Iterator<Item = &MergedRecord> {
        let position = self.merged.study_by_iri.get(&study.key().id).copied();
        position.and_then(|p| self.merged.samples_by_study.get(&p)).into_iter().flatten().map(|&i| &self.merged.samples[i])
    }

    pub fn samples(&self) -> &[MergedRecord] {
        &self.merged.samples
    }

    /// Every name (accession, IRI) of a record — dataset, study or sample — that states an
    /// embargo, past or not, with what its nodes state: where a link to one may not be shown
    /// (while the embargo holds), and what search leaves out of other records' text. A name two
    /// records share gets both's facts (it hides while either is embargoed). Few records state
    /// an embargo: the map is small, and empty in most hubs.
    pub fn embargo_names(&self) -> HashMap<String, PolicyFacts> {
        let mut names: HashMap<String, PolicyFacts> = HashMap::new();
        let records = self.merged.datasets.iter().chain(&self.merged.studies).chain(&self.merged.samples);
        for record in records.filter(|r| r.policy.states_embargo()) {
            let ids = record.members.iter().flat_map(|m| {
                let iri = match &m.id {
                    NamedOrBlankNode::NamedNode(n) => Some(n.as_str().to_owned()),
                    NamedOrBlankNode::BlankNode(_) => None,
                };
                std::iter::once(m.accession.clone()).chain(iri)
            });
            for name in ids.chain(record.iris.iter().map(|i| i.as_str().to_owned())).filter(|n| !n.is_empty()) {
                names.entry(name).or_default().add(&record.policy);
            }
        }
        names
    }

    /// The policies that name the dataset `accession` among the datasets they govern.
    pub fn policies_naming(&self, accession: &str) -> impl Iterator<Item = Node> + '_ {
        self.merged.policies_by_dataset.get(accession).into_iter().flatten().filter_map(|k| self.node(k))
    }

    /// Every source's view, by source id.
    pub fn views(&self) -> impl Iterator<Item = &Arc<SourceView>> {
        self.views.values()
    }

    pub fn view(&self, source: &str) -> Option<&Arc<SourceView>> {
        self.views.get(source)
    }

    /// Merged datasets of every source, ordered by key (accession, then source).
    pub fn datasets(&self) -> &[MergedRecord] {
        &self.merged.datasets
    }

    pub fn studies(&self) -> &[MergedRecord] {
        &self.merged.studies
    }

    pub fn node(&self, key: &EntityKey) -> Option<Node> {
        self.views.get(&*key.source)?.node(&key.id)
    }

    /// The nodes of a merged record, with their sources' views.
    pub fn members<'a>(&'a self, record: &'a MergedRecord) -> impl Iterator<Item = (&'a Arc<SourceView>, Node)> + 'a {
        record.members.iter().filter_map(|m| {
            let view = self.views.get(&*m.source)?;
            Some((view, view.node(&m.id)?))
        })
    }

    /// The most restrictive access level the record's sources state (a source that says
    /// "controlled" is not overruled by one that says "open").
    pub fn access_level(&self, record: &MergedRecord) -> Option<AccessLevel> {
        self.members(record).filter_map(|(_, n)| n.access_level()).max()
    }

    /// The first source (by id) that describes `id`, preferring `preferred`.
    pub fn find(&self, id: &NamedOrBlankNode, preferred: &str) -> Option<&Arc<SourceView>> {
        if let Some(v) = self.views.get(preferred).filter(|v| v.contains(id)) {
            return Some(v);
        }
        match id {
            NamedOrBlankNode::NamedNode(_) => self.views.values().find(|v| v.contains(id)),
            NamedOrBlankNode::BlankNode(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::model::NamedNode;
    use musubi_ontology::{RdfFormat, parse_triples};

    fn view(source: &str, turtle: &str) -> SourceView {
        let prefixes = "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> . \
                        @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix odrl: <http://www.w3.org/ns/odrl/2/> . \
                        @prefix m: <https://w3id.org/musubi/vocab#> . @prefix d: <https://w3id.org/musubi/dataset/> . \
                        @prefix s: <https://w3id.org/musubi/study/> . @prefix x: <http://example.org/> .\n";
        let triples = parse_triples(format!("{prefixes}{turtle}").as_bytes(), RdfFormat::Turtle, "http://example.org/").expect("test Turtle");
        SourceView::from_triples(source, triples)
    }

    fn model(views: Vec<SourceView>) -> ReadModel {
        views.into_iter().fold(ReadModel::default(), |m, v| m.with_source(v))
    }

    /// Stores `turtle` as `source`'s graph.
    fn put_graph(store: &musubi_store::EmbeddedStore, source: &str, turtle: &str) {
        use musubi_store::{GraphStore, Replacement};
        let prefixes = "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> . \
                        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix owl: <http://www.w3.org/2002/07/owl#> . \
                        @prefix odrl: <http://www.w3.org/ns/odrl/2/> . @prefix m: <https://w3id.org/musubi/vocab#> . \
                        @prefix x: <http://example.org/> .\n";
        let triples = parse_triples(format!("{prefixes}{turtle}").as_bytes(), RdfFormat::Turtle, "http://example.org/").expect("test Turtle");
        let graph = vocab::source_graph(&source);
        store.replace(&[Replacement { graph: graph.as_ref(), triples: &triples }]).expect("store");
    }

    /// A view as comparable text: each node's id, properties and values, in the view's order.
    fn dump(view: &SourceView) -> Vec<String> {
        let mut lines: Vec<String> = view
            .nodes()
            .map(|n| {
                let props: Vec<String> = n.properties().map(|(p, values)| format!("{p}={values:?}")).collect();
                format!("{} {}", n.id(), props.join(" "))
            })
            .collect();
        lines.extend(view.datasets().map(|n| format!("dataset {}", n.id())));
        lines.extend(view.studies().map(|n| format!("study {}", n.id())));
        lines
    }

    #[test]
    fn a_view_on_disk_reads_as_the_view_in_memory_and_a_damaged_node_reads_as_absent() {
        let turtle = r#"d:D2 a dcat:Dataset ; dct:identifier "D2" ; dct:title "肺がんのゲノム"@ja , "Lung cancer genomes"@en ;
                            dct:publisher [ dct:title "Keio University" ] ; m:subjectCount 120 .
                        d:D1 a dcat:Dataset ; dct:identifier "D1" ; dct:title "Damaged title" ; odrl:hasPolicy x:p1 .
                        x:p1 a odrl:Policy ; dct:identifier "P1" ; m:datasetAccession "D1" .
                        s:S1 a m:Study , dcat:Resource ; dct:identifier "S1" ; owl:sameAs x:hum1 .
                        x:untyped dct:title "no type" ."#;
        // One view, kept: the same blank nodes in both.
        let memory = view("src", turtle);
        let dir = tempfile::tempdir().expect("temp dir");
        let files = ViewFiles::new(dir.path());
        files.write(&memory, "g1").expect("write");
        let mut kept = files.read("src", "g1").expect("read").expect("same generation");
        files.keep(&mut kept, "g1").expect("keep a view read from its file");
        files.keep(&mut kept, "g1").expect("keep");
        assert!(kept.on_disk() && !memory.on_disk());
        assert_eq!(kept.generation(), Some("g1"));
        // Every node, in order (read in blocks of 64 bytes here: the nodes span several), each
        // class's nodes by accession, and each node found by its id.
        assert_eq!(kept.len(), memory.len());
        assert_eq!(dump(&kept), dump(&memory));
        let resource = NamedNodeRef::new_unchecked("http://www.w3.org/ns/dcat#Resource");
        for class in [vocab::DCAT_DATASET, vocab::ODRL_POLICY, vocab::MUSUBI_STUDY, resource] {
            let ids = |v: &SourceView| v.of_type(class).map(|n| n.id().to_string()).collect::<Vec<_>>();
            assert_eq!(ids(&kept), ids(&memory), "{class}");
        }
        assert_eq!(kept.datasets().map(|n| n.accession()).collect::<Vec<_>>(), ["D1", "D2"]);
        for node in memory.nodes() {
            let id = node.id().into_owned();
            assert_eq!(kept.node(&id).map(|n| format!("{n:?}")), Some(format!("{node:?}")), "{id}");
        }
        assert!(!kept.contains(&NamedNode::new_unchecked("http://example.org/elsewhere").into()));

        // A byte of D1's title damaged in place (files are replaced by renaming, so only damage
        // changes a file under a running view): D1 reads as absent; the other nodes still read.
        let path = files.path("src");
        let mut bytes = std::fs::read(&path).expect("read");
        let at = bytes.windows(7).position(|w| w == b"Damaged").expect("the title in the file");
        bytes[at] = 0xff;
        use std::io::{Seek, Write};
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).expect("open");
        file.seek(std::io::SeekFrom::Start(at as u64)).expect("seek");
        file.write_all(&bytes[at..at + 1]).expect("damage");
        drop(file);
        let d1 = NamedOrBlankNode::from(NamedNode::new_unchecked("https://w3id.org/musubi/dataset/D1"));
        assert!(kept.node(&d1).is_none());
        let bare = Node::bare(d1.as_ref());
        assert_eq!((bare.id(), bare.properties().count(), bare.accession()), (d1.as_ref(), 0, d1.to_string().trim_matches(['<', '>']).to_owned()));
        assert_eq!(kept.datasets().map(|n| n.accession()).collect::<Vec<_>>(), ["D2"]);
        assert_eq!(kept.nodes().count(), memory.len() - 1);
        assert!(kept.node(&NamedNode::new_unchecked("http://example.org/p1").into()).is_some());
        // Read again from the file, the damage is found at the first read of that node.
        let reread = files.read("src", "g1").expect("the header is intact").expect("same generation");
        assert!(reread.node(&d1).is_none() && reread.datasets().count() == 1);
        // Another generation is not read; a file cut short is refused at start, saying so.
        assert!(files.read("src", "g2").expect("read").is_none());
        std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("truncate");
        let refused = files.read("src", "g1").expect_err("cut short");
        assert!(refused.to_string().contains("src.view") && refused.to_string().contains("ends early"), "{refused}");
    }

    #[test]
    fn views_kept_on_disk_are_read_back_as_projected_until_the_graph_changes() {
        use musubi_store::EmbeddedStore;
        // Every graph bulk-loaded as a generation, as a national source's is.
        let store = EmbeddedStore::in_memory().with_bulk_threshold(1);
        let dir = tempfile::tempdir().expect("temp dir");
        let files = ViewFiles::new(dir.path().join("views"));
        let put = |source: &str, turtle: &str| put_graph(&store, source, turtle);
        put(
            "alpha",
            r#"<https://w3id.org/musubi/dataset/A2> a dcat:Dataset ; dct:identifier "A2" ; dct:title "肺がん"@ja, "Lung cancer"@en ;
                 dct:issued "2021-04-01"^^xsd:date ; m:subjectCount 12 ; dct:publisher [ dct:title "Keio" ] .
               <https://w3id.org/musubi/dataset/A1> a dcat:Dataset ; dct:identifier "A1" ; dct:title "plain" .
               <https://w3id.org/musubi/study/S1> a m:Study ; dct:identifier "S1" ."#,
        );
        put("beta", r#"<https://w3id.org/musubi/dataset/B1> a dcat:Dataset ; dct:identifier "B1" ; dct:title "genome"@en ."#);

        let (first, opening) = ReadModel::open(&store, &files).expect("open");
        assert_eq!((opening.from_files.len(), opening.projected.len()), (0, 2), "{opening:?}");
        assert!(files.path("alpha").exists() && files.path("beta").exists());
        assert!(first.view("beta").expect("view").on_disk(), "a view kept on disk is read from its file");
        let beta_as_projected = dump(first.view("beta").expect("view"));
        let (second, opening) = ReadModel::open(&store, &files).expect("open");
        assert_eq!(opening.from_files, ["alpha", "beta"], "{opening:?}");
        for source in ["alpha", "beta"] {
            assert_eq!(dump(second.view(source).expect("view")), dump(first.view(source).expect("view")), "{source}");
        }
        let id = NamedOrBlankNode::from(NamedNode::new_unchecked("https://w3id.org/musubi/dataset/A2"));
        assert_eq!(second.view("alpha").and_then(|v| v.node(&id)).and_then(|n| n.first(vocab::DCT_IDENTIFIER).map(str::to_owned)), Some("A2".to_owned()));
        assert_eq!(second.datasets().len(), 3);

        // A harvest lands for alpha: its file is of the old generation and is not read.
        put("alpha", r#"<https://w3id.org/musubi/dataset/A9> a dcat:Dataset ; dct:identifier "A9" ."#);
        let (third, opening) = ReadModel::open(&store, &files).expect("open");
        assert_eq!((opening.projected.as_slice(), opening.from_files.as_slice()), (&["alpha".to_owned()][..], &["beta".to_owned()][..]));
        assert_eq!(third.datasets().iter().map(|d| d.key().accession.as_str()).collect::<Vec<_>>(), ["A9", "B1"]);

        // A damaged file: the view is projected (and served), the warning names the file, and
        // the file is written again.
        let beta = files.path("beta");
        let bytes = std::fs::read(&beta).expect("read");
        std::fs::write(&beta, &bytes[..bytes.len() - 10]).expect("truncate");
        let (fourth, opening) = ReadModel::open(&store, &files).expect("open");
        assert!(opening.projected.contains(&"beta".to_owned()), "{opening:?}");
        assert!(opening.warnings.iter().any(|w| w.contains("beta.view") && w.contains("ends")), "{opening:?}");
        assert_eq!(dump(fourth.view("beta").expect("view")), beta_as_projected);
        assert_eq!(ReadModel::open(&store, &files).expect("open").1.from_files, ["alpha", "beta"]);

        // `reuse: false` (reindex) projects every source; a file no source graph has is removed.
        std::fs::write(files.path("gone"), b"old").expect("write");
        let (_, opening) = ReadModel::rebuild(&store, &files).expect("open");
        assert_eq!(opening.projected, ["alpha", "beta"]);
        assert!(!files.path("gone").exists());
    }

    #[test]
    fn merged_records_kept_on_disk_are_read_back_while_the_views_are_the_same() {
        use musubi_store::EmbeddedStore;
        let store = EmbeddedStore::in_memory().with_bulk_threshold(1);
        let dir = tempfile::tempdir().expect("temp dir");
        let files = ViewFiles::new(dir.path().join("views"));
        let put = |source: &str, turtle: &str| put_graph(&store, source, turtle);
        put("nbdc", r#"x:hum1 a m:Study ; dct:identifier "hum1" .
                       x:d1 a dcat:Dataset ; dct:identifier "JGAD1" ; dct:isPartOf x:hum1 ; m:embargoUntil "2099-01-01" .
                       x:s1 a m:Sample ; dct:identifier "SAMD1" ; dct:isPartOf x:hum1 ."#);
        put("jga", r#"x:jgas1 a m:Study ; dct:identifier "JGAS1" ; owl:sameAs x:hum1 .
                      x:other a dcat:Dataset ; dct:identifier "JGAD1" ; m:sensitive true .
                      x:p1 a odrl:Policy ; dct:identifier "JGAP1" ; m:datasetAccession "JGAD1" ."#);
        // Everything a query reads of the merged records.
        let summary = |m: &ReadModel| {
            let records = |rs: &[MergedRecord]| rs.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>();
            let study = m.study("JGAS1").expect("the JGA study finds the merged one");
            (
                records(m.datasets()),
                records(m.studies()),
                records(m.samples()),
                m.datasets_of_study(study).map(|d| d.key().accession.clone()).collect::<Vec<_>>(),
                m.samples_of_study(study).map(|d| d.key().accession.clone()).collect::<Vec<_>>(),
                m.policies_naming("JGAD1").map(|n| n.accession()).collect::<Vec<_>>(),
                m.study_of_node(&NamedNode::new_unchecked("http://example.org/hum1").into()).map(|s| s.key().accession.clone()),
                m.sample("SAMD1").map(|s| s.key().accession.clone()),
            )
        };

        let (first, opening) = ReadModel::open(&store, &files).expect("open");
        assert!(!opening.records_from_file && dir.path().join("views/records.merged").exists(), "{opening:?}");
        let (second, opening) = ReadModel::open(&store, &files).expect("open");
        assert!(opening.records_from_file, "{opening:?}");
        assert_eq!(summary(&second), summary(&first));
        assert_eq!(summary(&second).3, ["JGAD1"]);
        assert_eq!(summary(&second).5, ["JGAP1"]);
        // Each record's policy facts, from every source's node (read back, not from the nodes).
        let policy = second.dataset("JGAD1").expect("found").policy;
        assert!(policy.sensitive && policy.embargoed_on("2026-11-26") && !policy.embargoed_on("2099-01-01"));

        // A harvest changes a view: the records are merged again, from the new views.
        put("jga", r#"x:jgas1 a m:Study ; dct:identifier "JGAS1" ; owl:sameAs x:hum1 ."#);
        let (third, opening) = ReadModel::open(&store, &files).expect("open");
        assert!(!opening.records_from_file, "{opening:?}");
        assert_eq!(third.dataset("JGAD1").expect("found").sources(), ["nbdc"]);
        assert_eq!(third.policies_naming("JGAD1").count(), 0);

        // A harvest landing in a running hub: its view kept (as the gateway does) and the records
        // it merged kept too, so that the next start reads both.
        put("jga", r#"x:jgas1 a m:Study ; dct:identifier "JGAS1" ; owl:sameAs x:hum1 . x:d2 a dcat:Dataset ; dct:identifier "JGAD2" ."#);
        let graph = vocab::source_graph("jga");
        let mut view = SourceView::load(&store, graph.as_ref(), "jga").expect("project");
        let generation = store.generation(graph.as_ref()).expect("generation").expect("stored as a generation");
        files.keep(&mut view, &generation).expect("keep the view");
        assert!(view.on_disk());
        let running = third.with_source(view);
        running.keep_records(&files).expect("keep the records");
        let (restarted, opening) = ReadModel::open(&store, &files).expect("open");
        assert!(opening.records_from_file && opening.projected.is_empty(), "{opening:?}");
        assert_eq!(summary(&restarted), summary(&running));
        assert!(restarted.dataset("JGAD2").is_some());
        let third = running;

        // A damaged file is said, the records merged (and the file written) again.
        let path = dir.path().join("views/records.merged");
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() - 7]).expect("truncate");
        let (fourth, opening) = ReadModel::open(&store, &files).expect("open");
        assert!(!opening.records_from_file);
        assert!(opening.warnings.iter().any(|w| w.contains("records.merged") && w.contains("merging the records again")), "{opening:?}");
        assert_eq!(summary(&fourth), summary(&third));
        assert!(ReadModel::open(&store, &files).expect("open").1.records_from_file);
        // Reindexing merges again whatever the file holds.
        assert!(!ReadModel::rebuild(&store, &files).expect("open").1.records_from_file);
    }

    #[test]
    fn every_source_graph_in_the_store_is_loaded_as_its_view_and_nothing_else() {
        use musubi_store::{EmbeddedStore, Replacement};
        let store = EmbeddedStore::in_memory();
        let turtle = |n: usize| format!("@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n<https://w3id.org/musubi/dataset/D{n}> a dcat:Dataset ; dct:identifier \"D{n}\" ; dct:title \"t{n}\" .");
        let sources = ["alpha", "beta", "gamma", "delta", "epsilon"];
        for (n, source) in sources.iter().enumerate() {
            let triples = parse_triples(turtle(n).as_bytes(), RdfFormat::Turtle, "http://example.org/").expect("test Turtle");
            let graph = vocab::source_graph(&source);
            store.replace(&[Replacement { graph: graph.as_ref(), triples: &triples }]).expect("store");
        }
        // Not a source graph: left out of the model.
        let other = NamedNode::new_unchecked("https://w3id.org/musubi/process/x");
        let triples = parse_triples(turtle(9).as_bytes(), RdfFormat::Turtle, "http://example.org/").expect("test Turtle");
        store.replace(&[Replacement { graph: other.as_ref(), triples: &triples }]).expect("store");

        let model = ReadModel::load(&store).expect("load");
        let mut loaded: Vec<&str> = model.views().map(|v| v.source.as_str()).collect();
        loaded.sort_unstable();
        let mut expected = sources.to_vec();
        expected.sort_unstable();
        assert_eq!(loaded, expected);
        for (n, source) in sources.iter().enumerate() {
            let view = model.view(source).expect("view");
            let titles: Vec<_> = view.datasets().map(|d| d.first(vocab::DCT_TITLE).map(str::to_owned)).collect();
            assert_eq!(titles, vec![Some(format!("t{n}"))], "{source}");
        }
        let accessions: Vec<_> = model.datasets().iter().map(|r| r.key().accession.clone()).collect();
        assert_eq!(accessions, vec!["D0", "D1", "D2", "D3", "D4"]);
    }

    #[test]
    fn each_property_keeps_its_own_values_in_n_triples_order_whatever_order_the_triples_come_in() {
        // x:a's triples interleaved with x:b's, its titles out of order.
        let v = view("s", r#"x:a dct:title "b" . x:b dct:title "z" . x:a dct:identifier "A1" .
                             x:a dct:title "a"@en , "a" . x:a dcat:keyword "k" . x:b dct:identifier "B1" ."#);
        let a = v.node(&NamedNode::new_unchecked("http://example.org/a").into()).expect("x:a");
        let titles: Vec<String> = a.values(vocab::DCT_TITLE).map(|t| t.to_string()).collect();
        assert_eq!(titles, [r#""a""#, r#""a"@en"#, r#""b""#]);
        assert_eq!(a.strings(vocab::DCT_IDENTIFIER), ["A1"]);
        assert_eq!(a.strings(NamedNodeRef::new_unchecked("http://www.w3.org/ns/dcat#keyword")), ["k"]);
        assert!(a.values(vocab::RDF_TYPE).is_empty());
        let properties: Vec<(&str, usize)> = a.properties().map(|(p, values)| (p, values.len())).collect();
        assert_eq!(
            properties,
            [("http://purl.org/dc/terms/identifier", 1), ("http://purl.org/dc/terms/title", 3), ("http://www.w3.org/ns/dcat#keyword", 1)]
        );
        let b = v.node(&NamedNode::new_unchecked("http://example.org/b").into()).expect("x:b");
        assert_eq!((b.accession(), b.strings(vocab::DCT_TITLE)), ("B1".to_owned(), vec!["z"]));
        assert_eq!(v.nodes().count(), 2);
    }

    #[test]
    fn policies_that_list_a_dataset_are_found_by_its_accession() {
        let m = model(vec![
            view("ega-datasets", r#"x:d1 a dcat:Dataset ; dct:identifier "EGAD00001" ."#),
            view("ega-policies", r#"x:p1 a odrl:Policy ; dct:identifier "EGAP00001" ; m:datasetAccession "EGAD00001" , "EGAD00002" .
                                    x:note m:datasetAccession "EGAD00001" ."#),
        ]);
        let found: Vec<String> = m.policies_naming("EGAD00001").map(|n| n.accession()).collect();
        assert_eq!(found, ["EGAP00001"], "only typed policies");
        assert_eq!(m.policies_naming("EGAD00002").count(), 1);
        assert_eq!(m.policies_naming("EGAD00009").count(), 0);
    }

    #[test]
    fn one_dataset_in_two_sources_is_one_record_with_both_sources() {
        let m = model(vec![
            view("nbdc", r#"d:JGAD000001 a dcat:Dataset ; dct:identifier "JGAD000001" ; dct:title "Lung cancer exomes" ."#),
            view("jga", r#"d:JGAD000001 a dcat:Dataset ; dct:identifier "JGAD000001" ; odrl:hasPolicy x:JGAP000001 .
                           d:JGAD000002 a dcat:Dataset ; dct:identifier "JGAD000002" ."#),
        ]);
        assert_eq!(m.datasets().len(), 2, "JGAD000001 once, JGAD000002 once");
        let record = m.dataset("JGAD000001").expect("found");
        assert_eq!(record.sources(), ["jga", "nbdc"]);
        assert_eq!(&*record.key().source, "jga", "the first source by id names the record");
    }

    #[test]
    fn same_accession_under_different_iris_merges_but_other_kinds_do_not() {
        let m = model(vec![
            view("fdp", r#"x:ds1 a dcat:Dataset ; dct:identifier "EGAD00001" ."#),
            view("ega", r#"x:other a dcat:Dataset ; dct:identifier "EGAD00001" .
                           x:study a m:Study ; dct:identifier "EGAD00001" ."#),
        ]);
        assert_eq!(m.datasets().len(), 1);
        assert_eq!(m.dataset("EGAD00001").expect("found").members.len(), 2);
        assert_eq!(m.studies().len(), 1, "a study with the same accession stays a study");
    }

    #[test]
    fn same_as_links_from_a_third_source_merge_studies_and_name_both_accessions() {
        let m = model(vec![
            view("nbdc", r#"s:hum0001 a m:Study ; dct:identifier "hum0001" ."#),
            view("togoid", r#"s:JGAS000002 dct:identifier "JGAS000002" ; owl:sameAs s:hum0001 ."#),
            view("unrelated", r#"s:JGAS000002 a dcat:Dataset ; dct:identifier "not a study" ."#),
        ]);
        assert_eq!(m.studies().len(), 1);
        let by_jga = m.study("JGAS000002").expect("the JGA accession finds the NBDC study");
        assert_eq!(by_jga, m.study("hum0001").expect("found"));
        assert_eq!(by_jga.sources(), ["nbdc", "togoid"], "a node typed as something else is not merged in");
    }

    #[test]
    fn the_most_restrictive_access_level_wins() {
        let m = model(vec![
            view("a", "d:D1 a dcat:Dataset ; m:accessLevel m:OpenAccess ."),
            view("b", "d:D1 m:accessLevel m:ControlledAccess ."),
        ]);
        let record = &m.datasets()[0];
        assert_eq!(m.access_level(record), Some(AccessLevel::Controlled));
    }

    #[test]
    fn samples_find_their_study_and_merge_by_accession() {
        let m = model(vec![
            view("bioproject", r#"s:PRJDB1 a m:Study ; dct:identifier "PRJDB1" ."#),
            view("biosample-xml", r#"x:SAMD1 a m:Sample ; dct:identifier "SAMD1" ; dct:isPartOf s:PRJDB1 ."#),
            view("biosample-json", r#"x:other a m:Sample ; dct:identifier "SAMD1" ."#),
        ]);
        assert_eq!(m.samples().len(), 1, "one sample from two sources");
        let study = m.study("PRJDB1").expect("found");
        let samples: Vec<Vec<&str>> = m.samples_of_study(study).map(|r| r.sources()).collect();
        assert_eq!(samples, [["biosample-json", "biosample-xml"]]);
        assert!(m.sample("PRJDB1").is_none() && m.study("SAMD1").is_none(), "kinds stay apart");
    }

    #[test]
    fn datasets_find_their_study_through_any_source() {
        let m = model(vec![
            view("nbdc", r#"s:hum0001 a m:Study ; dct:identifier "hum0001" .
                            d:JGAD000001 a dcat:Dataset ; dct:identifier "JGAD000001" ."#),
            view("links", "d:JGAD000001 dct:isPartOf s:hum0001 ."),
        ]);
        let study = m.study("hum0001").expect("found");
        let datasets: Vec<&str> = m.datasets_of_study(study).map(|d| d.key().accession.as_str()).collect();
        assert_eq!(datasets, ["JGAD000001"]);
    }
}
