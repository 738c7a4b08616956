//! The index kept on disk between starts: `<data>/index/<fingerprint>/` holds tantivy's files and
//! the records' values (`records.bin`: each document's kind, position, sort keys and record key,
//! and the facet columns).
//!
//! The fingerprint names what the index was built from: this build of the hub ([`FORMAT`]), the
//! vocabulary's tiers and fields, and each source view (its store generation, or a hash of its
//! contents). A start whose read model has the fingerprint of an index on disk opens it (tantivy
//! maps its files) instead of indexing every record again; any other builds a new one beside it
//! and removes the old. Like the source views, it is a cache of the graph, never the truth.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, BufWriter};
use std::path::Path;

use musubi_read_model::binary::{Reader, Writer};
use musubi_read_model::{MergedRecord, ReadModel};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use tantivy::{Index, ReloadPolicy};

use crate::{Column, Dictionary, Doc, Field, Fields, Kind, SearchError, SearchIndex, tokenizer};

/// Raised whenever what is indexed, or how, changes: an index built by another format is not
/// opened but built again.
const FORMAT: u64 = 2;
const RECORDS: &str = "records.bin";
const MAGIC: &[u8] = b"musubi index records\n";
const END: &[u8] = b"end\n";

/// What [`SearchIndex::open_or_build`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum OnDisk {
    /// Opened the index built from the same read model.
    Opened,
    /// Built it (none matched).
    Built,
    /// Built it: the one that matched could not be opened (why).
    Rebuilt(String),
}

/// What an index of `model` depends on, as a name for its folder.
pub fn fingerprint(model: &ReadModel, vocabulary: &Vocabulary) -> String {
    // SipHash with fixed keys: the same inputs give the same name in every process of a build.
    let mut hasher = std::hash::DefaultHasher::new();
    FORMAT.hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    let mut properties: Vec<String> =
        vocabulary.properties().map(|p| format!("{} {:?} {:?} {}", p.iri, p.tier, p.graphql_field, p.visible_under_embargo)).collect();
    properties.sort_unstable();
    properties.hash(&mut hasher);
    for view in model.views() {
        view.fingerprint(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

impl SearchIndex {
    /// The index of `model` under `root` (`<data>/index`): opened when one was built from the
    /// same read model (see [`fingerprint`]), else built there, and the others removed.
    pub fn open_or_build<F, G>(root: &Path, model: &ReadModel, vocabulary: &Vocabulary, tiers: F) -> Result<(SearchIndex, OnDisk), SearchError>
    where
        F: Fn(&MergedRecord) -> G,
        G: Fn(&str) -> Tier,
    {
        let name = fingerprint(model, vocabulary);
        let path = root.join(&name);
        let mut outcome = OnDisk::Built;
        if path.join(RECORDS).exists() {
            match SearchIndex::open(&path) {
                Ok(index) => return Ok((index, OnDisk::Opened)),
                Err(e) => outcome = OnDisk::Rebuilt(e.to_string()),
            }
        }
        let io = |what: &str, e: std::io::Error| SearchError(format!("{what}: {e}"));
        // Built aside and moved into place whole: a start killed meanwhile leaves no index that
        // looks finished.
        let building = root.join(format!(".building-{name}"));
        remove(&building).map_err(|e| io(&building.display().to_string(), e))?;
        std::fs::create_dir_all(&building).map_err(|e| io(&building.display().to_string(), e))?;
        let (schema, fields) = Fields::schema();
        let built = SearchIndex::fill(Index::create_in_dir(&building, schema)?, fields, model, vocabulary, tiers, true)?;
        built.write_records(&building.join(RECORDS)).map_err(|e| io(&building.join(RECORDS).display().to_string(), e))?;
        drop(built);
        remove(&path).map_err(|e| io(&path.display().to_string(), e))?;
        std::fs::rename(&building, &path).map_err(|e| io(&path.display().to_string(), e))?;
        // Older indexes go (a snapshot still answering from one keeps its mapped files).
        let entries = std::fs::read_dir(root).map_err(|e| io(&root.display().to_string(), e))?;
        for entry in entries.flatten() {
            if entry.file_name() != name.as_str() {
                remove(&entry.path()).map_err(|e| io(&entry.path().display().to_string(), e))?;
            }
        }
        Ok((SearchIndex::open(&path)?, outcome))
    }

    /// Opens an index a data folder kept.
    pub fn open(path: &Path) -> Result<SearchIndex, SearchError> {
        let index = Index::open_in_dir(path)?;
        index.tokenizers().register(tokenizer::ANALYZER, tokenizer::analyzer());
        let fields = Fields::of(&index.schema())?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let records = path.join(RECORDS);
        let file = std::fs::File::open(&records).map_err(|e| SearchError(format!("{}: {e}", records.display())))?;
        let mut input = Reader::new(BufReader::with_capacity(1 << 20, file));
        let (docs, dictionaries, columns) =
            read_records(&mut input).map_err(|e| SearchError(format!("{}: {e} (at byte {})", records.display(), input.offset)))?;
        let indexed = reader.searcher().num_docs();
        if indexed != docs.len() as u64 {
            return Err(SearchError(format!("{}: {} records for {indexed} indexed documents", records.display(), docs.len())));
        }
        Ok(SearchIndex::assemble(index, reader, fields, docs, dictionaries, columns))
    }

    fn write_records(&self, path: &Path) -> std::io::Result<()> {
        let mut w = Writer::new(BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?));
        w.bytes(MAGIC)?;
        w.number(FORMAT)?;
        w.number(self.docs.len() as u64)?;
        for doc in &self.docs {
            w.byte(match doc.kind {
                Kind::Dataset => 0,
                Kind::Study => 1,
            })?;
            w.number(doc.position as u64)?;
            match &doc.release_date {
                Some(date) => {
                    w.byte(1)?;
                    w.string(date)?;
                }
                None => w.byte(0)?,
            }
            match doc.subject_count {
                Some(n) => {
                    w.byte(1)?;
                    w.signed(n)?;
                }
                None => w.byte(0)?,
            }
            w.string(&doc.record_key)?;
            w.number(u64::from(doc.accession_end))?;
        }
        for dictionary in &self.dictionaries {
            w.number(dictionary.values.len() as u64)?;
            for value in &dictionary.values {
                w.string(value)?;
            }
        }
        for column in &self.columns {
            for numbers in [&column.offsets, &column.ids] {
                w.number(numbers.len() as u64)?;
                for &n in numbers {
                    w.number(u64::from(n))?;
                }
            }
        }
        w.bytes(END)?;
        let file = w.output.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

type Records = (Vec<Doc>, Vec<Dictionary>, Vec<Column>);

fn read_records(r: &mut Reader<impl std::io::BufRead>) -> Result<Records, String> {
    r.mark(MAGIC, "musubi index records header")?;
    if r.number()? != FORMAT {
        return Err("written by another format".into());
    }
    let count = r.count()?;
    let mut docs = Vec::with_capacity(count.min(1 << 24));
    for _ in 0..count {
        let kind = match r.byte()? {
            0 => Kind::Dataset,
            1 => Kind::Study,
            k => return Err(format!("a record of unknown kind {k}")),
        };
        let position = r.count()?;
        let release_date = if r.byte()? == 1 { Some(r.string()?) } else { None };
        let subject_count = if r.byte()? == 1 { Some(r.signed()?) } else { None };
        let record_key = r.string()?;
        let accession_end = u32::try_from(r.number()?).ok().filter(|&e| (2..=record_key.len() as u32).contains(&e) && record_key.is_char_boundary(e as usize));
        let Some(accession_end) = accession_end else { return Err(format!("a record key {record_key:?} with no accession in it")) };
        docs.push(Doc { kind, position, release_date, subject_count, record_key, accession_end });
    }
    let mut dictionaries = Vec::with_capacity(Field::ALL.len());
    for _ in Field::ALL {
        let count = r.count()?;
        let mut values = Vec::with_capacity(count.min(1 << 20));
        for _ in 0..count {
            values.push(r.string()?);
        }
        dictionaries.push(Dictionary { values, ids: HashMap::new() });
    }
    let mut columns = Vec::with_capacity(Field::ALL.len());
    for (field, dictionary) in Field::ALL.iter().zip(&dictionaries) {
        let mut numbers = |bound: u64| -> Result<Vec<u32>, String> {
            let count = r.count()?;
            let mut out = Vec::with_capacity(count.min(1 << 24));
            for _ in 0..count {
                match r.number()? {
                    n if n <= bound => out.push(n as u32),
                    n => return Err(format!("field {}: {n} is past its values", field.name())),
                }
            }
            Ok(out)
        };
        let offsets = numbers(u64::from(u32::MAX))?;
        let ids = numbers(dictionary.values.len().saturating_sub(1) as u64)?;
        let consistent = offsets.is_empty() && docs.is_empty()
            || offsets.len() == docs.len() + 1 && offsets.first() == Some(&0) && offsets.windows(2).all(|w| w[0] <= w[1]) && offsets.last() == Some(&(ids.len() as u32));
        if !consistent {
            return Err(format!("field {}: its column does not fit the records", field.name()));
        }
        columns.push(Column { offsets, ids, ..Column::default() });
    }
    r.mark(END, "end mark after the columns")?;
    Ok((docs, dictionaries, columns))
}

/// Removes a folder and what it holds, if it is there.
fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => std::fs::remove_file(path),
        other => other,
    }
}


#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use musubi_read_model::SourceView;
    use musubi_ontology::{RdfFormat, parse_triples};

    use super::*;
    use crate::{Request, SortBy, TextAccess, Visibility};

    fn model(turtle: &str) -> ReadModel {
        let prefixes = "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> . \
                        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix m: <https://w3id.org/musubi/vocab#> . \
                        @prefix d: <https://w3id.org/musubi/dataset/> .\n";
        let triples = parse_triples(format!("{prefixes}{turtle}").as_bytes(), RdfFormat::Turtle, "http://example.org/").expect("test Turtle");
        ReadModel::default().with_source(SourceView::from_triples("nbdc", triples))
    }

    const CATALOGUE: &str = r#"
        d:A a dcat:Dataset ; dct:identifier "A" ; dct:title "日本人の肺がんゲノム解析"@ja, "Lung cancer genomes"@en ; m:assay "WGS" ; dct:issued "2021-04-01"^^xsd:date .
        d:B a dcat:Dataset ; dct:identifier "B" ; dct:title "Gastric cancer exomes"@en ; m:assay "WES" ; m:subjectCount 40 .
        d:C a dcat:Dataset ; dct:identifier "C" ; dct:title "肺腺がんの全ゲノム"@ja ; m:assay "WGS" ."#;

    struct Everything;
    impl Visibility for Everything {
        fn mask(&self, _: usize, _: &Doc) -> Option<u64> {
            Some(u64::MAX)
        }
        fn hidden(&self) -> &[u32] {
            &[]
        }
    }

    /// What a caller sees of a search: the hits' accessions, scores and highlights, the total and
    /// the assay facet.
    fn answers(index: &SearchIndex, text: &str) -> String {
        let grants = HashSet::new();
        let request = Request {
            text: Some(text),
            kinds: None,
            filters: Vec::new(),
            release_date: (None, None),
            subject_count: (None, None),
            facets: vec![Field::Assays],
            sort: SortBy::Relevance,
            descending: false,
            first: 10,
            after: None,
            access: TextAccess { tier: Tier::Steward, grants: &grants },
            highlights: true,
        };
        let page = index.search(&request, &Everything).expect("search");
        let hits: Vec<String> = page.hits.iter().map(|h| format!("{} {:.4} {:?}", index.docs()[h.doc].accession(), h.score, h.highlights)).collect();
        format!("{} {hits:?} {:?}", page.total, page.facets)
    }

    fn steward(_: &MergedRecord) -> fn(&str) -> Tier {
        |_| Tier::Steward
    }

    #[test]
    fn an_index_kept_on_disk_is_opened_at_the_next_start_and_answers_as_one_built_in_memory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("index");
        let vocabulary = Vocabulary::builtin();
        let catalogue = model(CATALOGUE);
        let in_memory = SearchIndex::build(&catalogue, &vocabulary, steward).expect("build");
        let queries = ["肺がん", "cancer", "ゲノム", "exomes"];
        let expected: Vec<String> = queries.iter().map(|q| answers(&in_memory, q)).collect();
        assert!(expected[0].starts_with("1 ") && expected[1].starts_with("2 ") && expected[2].starts_with("2 "), "{expected:?}");

        let (built, outcome) = SearchIndex::open_or_build(&root, &catalogue, &vocabulary, steward).expect("build on disk");
        assert_eq!(outcome, OnDisk::Built);
        assert_eq!(queries.iter().map(|q| answers(&built, q)).collect::<Vec<_>>(), expected);
        drop(built);
        let (opened, outcome) = SearchIndex::open_or_build(&root, &catalogue, &vocabulary, steward).expect("open");
        assert_eq!(outcome, OnDisk::Opened);
        assert_eq!(queries.iter().map(|q| answers(&opened, q)).collect::<Vec<_>>(), expected);
        drop(opened);

        // Another read model (a record changed): a new index; the old one goes.
        let changed = model(&CATALOGUE.replace("Gastric cancer exomes", "Gastric exomes"));
        let (index, outcome) = SearchIndex::open_or_build(&root, &changed, &vocabulary, steward).expect("build");
        assert_eq!(outcome, OnDisk::Built);
        assert!(answers(&index, "cancer").starts_with("1 "), "{}", answers(&index, "cancer"));
        assert_eq!(std::fs::read_dir(&root).expect("root").count(), 1);
        drop(index);

        // A damaged records file: said, and the index built again.
        let records = root.join(fingerprint(&changed, &vocabulary)).join(RECORDS);
        let bytes = std::fs::read(&records).expect("read");
        std::fs::write(&records, &bytes[..bytes.len() / 2]).expect("truncate");
        let (index, outcome) = SearchIndex::open_or_build(&root, &changed, &vocabulary, steward).expect("rebuild");
        assert!(matches!(&outcome, OnDisk::Rebuilt(why) if why.contains("records.bin")), "{outcome:?}");
        assert!(answers(&index, "cancer").starts_with("1 "));
    }
}
