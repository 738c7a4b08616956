//! musubi-search: the search index over the read model.
//!
//! One document per merged record (datasets and studies) of a
//! [`ReadModel`], built from it whenever it changes: at
//! start, after each harvest (the hub swaps model and index together), and on `musubi reindex`.
//! The graph stays the truth; the index is rebuilt, never migrated: in memory (a tantivy
//! `RamDirectory`), or for a data folder on disk ([`disk`]: opened again at the next start when it
//! was built from the same read model).
//!
//! - Full text ([`tokenizer`]): Japanese and English, CJK bigrams and stemmed words, BM25 ranked.
//!   Text is indexed per tier (one field per [`Tier`]), so a query only ever searches, scores and
//!   highlights the text the caller may read; CONTROLLED text only on records the caller holds a
//!   grant for. BM25's statistics are counted over that text and the records the caller may see
//!   ([`Stats`]), so no score, cursor or highlight changes with what the caller may not read.
//! - Filters, facets and sort keys ([`Field`]) are kept beside the full text in a table of
//!   normalised values per document. Which of them the caller may read on a record is the
//!   caller's [`Visibility`] (the schema's tier guard): a field the caller may not read on a
//!   record neither matches a filter, nor counts in a facet, nor sorts the record.
//! - Paging is search-after on (sort key, record key): a cursor names a place in the order, not an
//!   offset, so a page after an index change neither skips nor repeats records that were there
//!   before and after.
//!
//! Architecture invariant: imports the ontology only (no schema, no HTTP).

pub mod disk;
pub mod tokenizer;

pub use disk::{OnDisk, fingerprint};

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use musubi_ontology::rdf::{NamedNodeRef, NamedOrBlankNode, TermRef};
use musubi_read_model::{MergedRecord, Node, ReadModel, SourceView};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::{self as v, Vocabulary};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, RegexQuery, TermQuery, TermSetQuery};
use tantivy::schema::{Field as IndexField, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions, Value as _};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocId, DocSet, Index, IndexReader, ReloadPolicy, Searcher, TERMINATED, TantivyDocument, doc};

/// What kind of record a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Dataset,
    Study,
}

impl Kind {
    /// As the index's `kind` field holds it.
    fn term(self) -> &'static str {
        match self {
            Kind::Dataset => "dataset",
            Kind::Study => "study",
        }
    }
}

/// A field search filters, counts and sorts on: its name (as the GraphQL filters and facets
/// name it) and the graph properties reading it reads (the caller must be able to read all of
/// them on a record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Source,
    AccessLevel,
    Type,
    Assays,
    Platforms,
    ReferenceGenomes,
    Diseases,
    DuoCodes,
    Organisations,
    ReleaseDate,
    SubjectCount,
    /// A facet over release dates: the year.
    ReleaseYear,
    /// A facet over subject counts: by order of magnitude.
    SubjectCountRange,
}

impl Field {
    /// Every field, in the order of its bit in [`Visibility::mask`] and of its column in an
    /// index on disk (stable: append only).
    pub const ALL: [Field; 13] = [
        Field::Source,
        Field::AccessLevel,
        Field::Type,
        Field::Assays,
        Field::Platforms,
        Field::ReferenceGenomes,
        Field::Diseases,
        Field::DuoCodes,
        Field::Organisations,
        Field::ReleaseDate,
        Field::SubjectCount,
        Field::ReleaseYear,
        Field::SubjectCountRange,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Source => "source",
            Field::AccessLevel => "accessLevel",
            Field::Type => "type",
            Field::Assays => "assays",
            Field::Platforms => "platforms",
            Field::ReferenceGenomes => "referenceGenomes",
            Field::Diseases => "diseases",
            Field::DuoCodes => "duoCodes",
            Field::Organisations => "organisations",
            Field::ReleaseDate => "releaseDate",
            Field::SubjectCount => "subjectCount",
            Field::ReleaseYear => "releaseYear",
            Field::SubjectCountRange => "subjectCountRange",
        }
    }

    /// The graph properties reading the field reads.
    pub fn reads(self) -> &'static [NamedNodeRef<'static>] {
        match self {
            Field::Source => &[v::MUSUBI_SOURCE],
            Field::AccessLevel => &[v::MUSUBI_ACCESS_LEVEL],
            Field::Type => &[v::DCT_TYPE],
            Field::Assays => &[v::MUSUBI_ASSAY],
            Field::Platforms => &[v::MUSUBI_PLATFORM],
            Field::ReferenceGenomes => &[v::MUSUBI_REFERENCE_GENOME],
            Field::Diseases => &[v::MUSUBI_DISEASE, v::MUSUBI_MONDO],
            Field::DuoCodes => &[v::MUSUBI_DATA_USE_CONDITION, v::ODRL_HAS_POLICY],
            Field::Organisations => &[v::DCT_PUBLISHER, v::FOAF_NAME],
            Field::ReleaseDate | Field::ReleaseYear => &[v::DCT_ISSUED],
            Field::SubjectCount | Field::SubjectCountRange => &[v::MUSUBI_SUBJECT_COUNT],
        }
    }

    /// The field a GraphQL filter or facet names.
    pub fn named(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Its position in [`Field::ALL`]: its bit in a visibility mask, its column.
    pub fn position(self) -> usize {
        self as usize
    }
}

/// One record as the index knows it.
#[derive(Debug, Clone)]
pub struct Doc {
    pub kind: Kind,
    /// Position of the record in the read model's `datasets()` / `studies()` (the model the index
    /// was built from).
    pub position: usize,
    /// The earliest release date any source states (YYYY-MM-DD), the date sort's key.
    pub release_date: Option<String>,
    pub subject_count: Option<i64>,
    /// The stable record key cursors carry: kind, accession, source, IRI.
    pub record_key: String,
    /// Where the accession ends in `record_key` (it starts after the kind): the record's key is
    /// not kept a second time.
    accession_end: u32,
}

impl Doc {
    pub fn release_date(&self) -> Option<&str> {
        self.release_date.as_deref()
    }

    /// The record's accession (its key's).
    pub fn accession(&self) -> &str {
        &self.record_key[2..self.accession_end as usize]
    }
}

/// One field's values for every document, as ids in the field's [`Dictionary`]: document `o`'s
/// are `ids[offsets[o]..offsets[o + 1]]`. Flat arrays, not a list per document: counting a facet
/// over thousands of hits reads two arrays instead of chasing a pointer per document.
#[derive(Debug, Default)]
struct Column {
    offsets: Vec<u32>,
    ids: Vec<u32>,
    /// Each document's value where it has exactly one (most do), in the fewest bytes its
    /// dictionary allows: counting a facet over the hits of a million-record index then reads
    /// one byte a hit, mostly from cache, instead of two arrays of four (made by [`Column::seal`];
    /// kept in memory only).
    single: Single,
}

/// Per document: [`Single::NONE`] for no value, [`Single::SEVERAL`] for more than one, else the
/// value's id + 1.
#[derive(Debug)]
enum Single {
    Narrow(Vec<u8>),
    Wide(Vec<u16>),
    Full(Vec<u32>),
}

impl Default for Single {
    fn default() -> Single {
        Single::Narrow(Vec::new())
    }
}

impl Single {
    const NONE: u32 = 0;
    const SEVERAL: u32 = u32::MAX;

    /// The documents' values of a column whose dictionary holds `values` of them.
    fn of(column: &Column, values: usize) -> Single {
        let docs = column.offsets.len().saturating_sub(1);
        let entry = |o: usize| match column.of(o) {
            [] => Single::NONE,
            [id] => id + 1,
            _ => Single::SEVERAL,
        };
        // The widest entry must stay below the width's largest number (its SEVERAL).
        match values {
            v if v < u8::MAX as usize => Single::Narrow((0..docs).map(|o| narrow(entry(o), u8::MAX as u32) as u8).collect()),
            v if v < u16::MAX as usize => Single::Wide((0..docs).map(|o| narrow(entry(o), u16::MAX as u32) as u16).collect()),
            _ => Single::Full((0..docs).map(entry).collect()),
        }
    }

    /// Document `o`'s entry (as [`Single::of`] says).
    #[inline]
    fn at(&self, o: usize) -> u32 {
        let widen = |v: u32, max: u32| if v == max { Single::SEVERAL } else { v };
        match self {
            Single::Narrow(v) => widen(u32::from(v[o]), u32::from(u8::MAX)),
            Single::Wide(v) => widen(u32::from(v[o]), u32::from(u16::MAX)),
            Single::Full(v) => v[o],
        }
    }
}

/// An entry in a width whose largest number stands for SEVERAL.
fn narrow(entry: u32, max: u32) -> u32 {
    if entry == Single::SEVERAL { max } else { entry }
}

impl Column {
    /// Makes the per-document singles once every document is in (see [`Column::single`]).
    fn seal(mut self, values: usize) -> Column {
        self.single = Single::of(&self, values);
        self
    }

    /// Calls `each` with every value id of document `o`.
    #[inline]
    fn each(&self, o: usize, mut each: impl FnMut(u32)) {
        match self.single.at(o) {
            Single::NONE => {}
            Single::SEVERAL => self.of(o).iter().for_each(|id| each(*id)),
            id => each(id - 1),
        }
    }

    fn push(&mut self, ids: &[u32]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.ids.extend_from_slice(ids);
        self.offsets.push(self.ids.len() as u32);
    }

    fn of(&self, ord: usize) -> &[u32] {
        &self.ids[self.offsets[ord] as usize..self.offsets[ord + 1] as usize]
    }
}

/// The distinct values of one field, each with its id (the map only while the index is built).
#[derive(Debug, Default)]
struct Dictionary {
    values: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Dictionary {
    fn intern(&mut self, value: String) -> u32 {
        if let Some(id) = self.ids.get(&value) {
            return *id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(value, id);
        id
    }

    fn value(&self, id: u32) -> &str {
        &self.values[id as usize]
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

/// What the caller may see, per record (the schema's tier guard, applied to the index).
pub trait Visibility {
    /// `None` when the caller may not see the record at all (embargoed below STEWARD); else a
    /// bit mask of the [`Field`]s the caller may read on it. `ord` is the document's position in
    /// [`SearchIndex::docs`].
    fn mask(&self, ord: usize, doc: &Doc) -> Option<u64>;

    /// The documents `mask` answers `None` for, ascending: relevance statistics are counted
    /// without them (see [`Stats`]).
    fn hidden(&self) -> &[u32];
}

/// Whose text a query searches: the caller's tier and grants.
#[derive(Debug, Clone)]
pub struct TextAccess<'a> {
    pub tier: Tier,
    pub grants: &'a HashSet<String>,
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Best match first (BM25); without query text, by record key.
    Relevance,
    ReleaseDate,
    SubjectCount,
}

/// A place in a result order: the sort value of the last record seen and its record key, and
/// for relevance the corpus statistics the scores were computed with.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub sort: SortValue,
    pub key: String,
    pub stats: Option<Stats>,
}

/// The corpus statistics BM25 scored a search with (documents, tokens per text field, document
/// frequency of each query term), counted over what the caller may read only: the records it
/// may see, each tier's text where it may read it (CONTROLLED text on the datasets it holds a
/// grant for), nothing of a tier it may not read. So a score — and a cursor, which carries the
/// statistics — is the same whatever the caller may not see: a word in text above its tier, or
/// in an embargoed record, changes neither. A relevance cursor carries them so that the next page
/// scores every record exactly as the first did even if the index changed in between: a record's
/// place in the order depends on its own text only, and search-after neither skips nor repeats it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    docs: u64,
    tokens: [u64; 4],
    doc_freqs: BTreeMap<(u8, String), u64>,
}

impl Stats {
    /// As text (terms are letters, digits and CJK characters: no separators in them).
    pub fn encode(&self) -> String {
        let terms: Vec<String> = self.doc_freqs.iter().map(|((t, term), n)| format!("{t}:{term}:{n}")).collect();
        format!("{};{};{}", self.docs, self.tokens.map(|t| t.to_string()).join(","), terms.join("|"))
    }

    pub fn decode(text: &str) -> Option<Stats> {
        let mut parts = text.splitn(3, ';');
        let docs = parts.next()?.parse().ok()?;
        let tokens: Vec<u64> = parts.next()?.split(',').map(|t| t.parse().ok()).collect::<Option<_>>()?;
        let mut doc_freqs = BTreeMap::new();
        for entry in parts.next()?.split('|').filter(|e| !e.is_empty()) {
            let mut f = entry.splitn(3, ':');
            let tier: u8 = f.next()?.parse().ok()?;
            let term = f.next()?.to_owned();
            doc_freqs.insert((tier.min(3), term), f.next()?.parse().ok()?);
        }
        Some(Stats { docs, tokens: tokens.try_into().ok()?, doc_freqs })
    }
}

/// BM25 statistics as tantivy asks for them. Nothing falls back to the live index (whose counts
/// include what the caller may not read): a term the statistics lack (a cursor made for other
/// words) occurs nowhere, and no count exceeds the documents counted (a forged cursor cannot
/// make BM25's idf panic).
struct Frozen<'a> {
    stats: &'a Stats,
    text: &'a [IndexField; 4],
}

impl Frozen<'_> {
    fn tier(&self, field: IndexField) -> Option<u8> {
        self.text.iter().position(|f| *f == field).map(|t| t as u8)
    }
}

impl tantivy::query::Bm25StatisticsProvider for Frozen<'_> {
    fn total_num_tokens(&self, field: IndexField) -> tantivy::Result<u64> {
        Ok(self.tier(field).map_or(0, |t| self.stats.tokens[t as usize]))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.stats.docs)
    }

    fn doc_freq(&self, term: &tantivy::Term) -> tantivy::Result<u64> {
        let known = self.tier(term.field()).zip(term.value().as_str()).and_then(|(t, text)| self.stats.doc_freqs.get(&(t, text.to_owned())));
        Ok(known.copied().unwrap_or(0).min(self.stats.docs))
    }
}

/// A record's sort value. Records whose value is missing or unreadable sort last.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Score(f32),
    Date(Option<String>),
    Count(Option<i64>),
}

impl SortValue {
    /// As text, for cursors.
    pub fn encode(&self) -> String {
        match self {
            SortValue::Score(s) => format!("s{}", s.to_bits()),
            SortValue::Date(d) => format!("d{}", d.as_deref().unwrap_or("")),
            SortValue::Count(c) => format!("c{}", c.map(|c| c.to_string()).unwrap_or_default()),
        }
    }

    pub fn decode(text: &str) -> Option<SortValue> {
        let (tag, rest) = text.split_at_checked(1)?;
        Some(match tag {
            "s" => SortValue::Score(f32::from_bits(rest.parse().ok()?)),
            "d" => SortValue::Date((!rest.is_empty()).then(|| rest.to_owned())),
            "c" => SortValue::Count(if rest.is_empty() { None } else { Some(rest.parse().ok()?) }),
            _ => return None,
        })
    }
}

/// One search.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub text: Option<&'a str>,
    pub kinds: Option<Vec<Kind>>,
    /// Field → accepted values (any of them). Disease terms must already include descendants.
    pub filters: Vec<(Field, Vec<String>)>,
    /// Release dates from..=to (YYYY-MM-DD prefixes compared as text).
    pub release_date: (Option<String>, Option<String>),
    pub subject_count: (Option<i64>, Option<i64>),
    pub facets: Vec<Field>,
    pub sort: SortBy,
    pub descending: bool,
    pub first: usize,
    pub after: Option<After>,
    pub access: TextAccess<'a>,
    /// Whether to make highlights (tokenizing the page's stored text is most of a search's work:
    /// only when the caller asks for them).
    pub highlights: bool,
}

/// One hit of a page.
#[derive(Debug, Clone)]
pub struct Hit {
    pub doc: usize,
    pub score: f32,
    pub sort: SortValue,
    /// Fragments of the text the caller may read where the query matched.
    pub highlights: Vec<Highlight>,
    /// The tiers above REGISTERED whose text on this record holds a word of the query: a hit
    /// found through CONTROLLED or STEWARD text tells the caller something of that text (the
    /// schema audits it as a read).
    pub matched: Vec<Tier>,
}

/// A fragment of a record's text, matched terms in `<em>`, and the tier of the text it is from
/// (a CONTROLLED or STEWARD fragment is a read the schema audits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub tier: Tier,
    pub html: String,
}

/// A record [`SearchIndex::matching`] found.
#[derive(Debug, Clone, Copy)]
pub struct Match {
    /// Its position in [`SearchIndex::docs`].
    pub doc: usize,
    address: Option<DocAddress>,
}

/// A page of results, with totals and facets over every matching record the caller can see.
#[derive(Debug, Clone)]
pub struct Page {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub has_next: bool,
    /// Field → (value, number of matching records with it), most frequent first.
    pub facets: Vec<(Field, Vec<(String, usize)>)>,
    /// The statistics the scores were computed with, for the next page's cursor.
    pub stats: Option<Stats>,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError(e.to_string())
    }
}

/// The index's tantivy fields.
struct Fields {
    /// The document's position in [`SearchIndex::docs`].
    ord: IndexField,
    accession: IndexField,
    kind: IndexField,
    values: Vec<IndexField>,
    text: [IndexField; 4],
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let ord = builder.add_u64_field("ord", tantivy::schema::FAST);
        let accession = builder.add_text_field("accession", STRING);
        let kind = builder.add_text_field("kind", STRING);
        let values: Vec<IndexField> = Field::ALL.iter().map(|f| builder.add_text_field(&format!("value_{}", f.name()), STRING)).collect();
        let options = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default().set_tokenizer(tokenizer::ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let text = Tier::ALL.map(|t| builder.add_text_field(&Fields::text_name(t), options.clone()));
        (builder.build(), Fields { ord, accession, kind, values, text })
    }

    fn text_name(tier: Tier) -> String {
        format!("text_{}", tier.name().to_lowercase())
    }

    /// The fields of an index opened from disk, by name.
    fn of(schema: &Schema) -> Result<Fields, SearchError> {
        let field = |name: &str| schema.get_field(name).map_err(|e| SearchError(format!("the index on disk has no field {name}: {e}")));
        let values = Field::ALL.iter().map(|f| field(&format!("value_{}", f.name()))).collect::<Result<Vec<_>, _>>()?;
        let [a, b, c, d] = Tier::ALL.map(|t| field(&Fields::text_name(t)));
        Ok(Fields { ord: field("ord")?, accession: field("accession")?, kind: field("kind")?, values, text: [a?, b?, c?, d?] })
    }
}

/// The index over one read model.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    accession: IndexField,
    /// The record's kind and, per [`Field`], its values as terms: filters run in the
    /// index (posting lists intersect), so a search visits only the records that pass them.
    kind: IndexField,
    values: Vec<IndexField>,
    /// Text per tier, `Tier as usize`.
    text: [IndexField; 4],
    docs: Vec<Doc>,
    /// Per [`Field`], its values and their ids, and each document's values (normalised:
    /// disease terms as OBO PURLs, dates as YYYY-MM-DD).
    dictionaries: Vec<Dictionary>,
    columns: Vec<Column>,
    /// Whether the documents stand in the order of their record keys (they are added in the read
    /// model's order, which is): then two hits tied on their sort value are ordered by position,
    /// and a page reads no record key but its cursor's. Checked when the index is made or opened;
    /// where it does not hold, ties compare the keys themselves (the same order, slower).
    keys_in_order: bool,
    /// Per text field, the sum of every document's field norm (its length as BM25 reads it):
    /// counted on the first search with text.
    norms: OnceLock<[u64; 4]>,
    /// The documents last hidden from a caller (embargoed records, for every caller below
    /// STEWARD alike), found in the index once and kept while the set stays the same.
    excluded: Mutex<Option<(Vec<u32>, Arc<Excluded>)>>,
}

/// Documents counted out of a caller's statistics: their addresses by segment (ascending) and
/// the sum of their field norms per text field.
#[derive(Debug, Default)]
struct Excluded {
    by_segment: BTreeMap<u32, Vec<DocId>>,
    count: u64,
    norms: [u64; 4],
}

impl Excluded {
    fn contains(&self, address: DocAddress) -> bool {
        self.by_segment.get(&address.segment_ord).is_some_and(|docs| docs.binary_search(&address.doc_id).is_ok())
    }
}

/// How a caller's text query reads one tier's text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// On every record it may see.
    All,
    /// On the datasets it holds a grant for (CONTROLLED below STEWARD).
    Granted,
    /// Not at all.
    Nothing,
}

impl Reads {
    fn of(tier: Tier, access: &TextAccess<'_>) -> Reads {
        match tier {
            Tier::Controlled if access.tier < Tier::Steward => {
                if access.tier >= Tier::Registered && !access.grants.is_empty() { Reads::Granted } else { Reads::Nothing }
            }
            t if t <= access.tier => Reads::All,
            _ => Reads::Nothing,
        }
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("docs", &self.docs.len()).finish()
    }
}

impl SearchIndex {
    /// An index with no records.
    pub fn empty() -> SearchIndex {
        SearchIndex::build(&ReadModel::default(), &Vocabulary::builtin(), |_| |_: &str| Tier::Steward).expect("an empty index builds")
    }

    /// Indexes every dataset and study of `model`. `tiers(record)` gives the tier of each
    /// property on that record (the schema's rule, with record policies) and decides which tier's
    /// text field a value goes to; only properties the API shows (`musubi:graphqlField`) are text.
    pub fn build<F, G>(model: &ReadModel, vocabulary: &Vocabulary, tiers: F) -> Result<SearchIndex, SearchError>
    where
        F: Fn(&MergedRecord) -> G,
        G: Fn(&str) -> Tier,
    {
        let (schema, fields) = Fields::schema();
        SearchIndex::fill(Index::create_in_ram(schema), fields, model, vocabulary, tiers, false)
    }

    /// Indexes `model` into `index` (in RAM, or a folder on disk: then every merge has finished
    /// when this returns, so the folder can be moved).
    fn fill<F, G>(index: Index, fields: Fields, model: &ReadModel, vocabulary: &Vocabulary, tiers: F, settle: bool) -> Result<SearchIndex, SearchError>
    where
        F: Fn(&MergedRecord) -> G,
        G: Fn(&str) -> Tier,
    {
        let Fields { ord, accession, kind: kind_field, values: value_fields, text } = fields;
        index.tokenizers().register(tokenizer::ANALYZER, tokenizer::analyzer());
        // Up to four indexing threads, 40 MB each; several segments are fine (`ord` maps each
        // document back to its record).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let mut writer = index.writer_with_num_threads(threads, threads * 40_000_000)?;
        let mut docs = Vec::new();
        let mut dictionaries: Vec<Dictionary> = Field::ALL.iter().map(|_| Dictionary::default()).collect();
        let mut columns: Vec<Column> = Field::ALL.iter().map(|_| Column::default()).collect();
        // A value naming a record under an embargo (a policy's list of datasets, a relation) is
        // a link to it: not searchable text of another record (an embargoed record's own text is
        // found by stewards only anyway).
        let embargoed = model.embargo_names();
        for (kind, records) in [(Kind::Dataset, model.datasets()), (Kind::Study, model.studies())] {
            for (position, record) in records.iter().enumerate() {
                let n = docs.len() as u64;
                let mut document = doc!(ord => n);
                // Grants name datasets: a study's CONTROLLED text is for stewards only.
                if kind == Kind::Dataset {
                    document.add_text(accession, &record.key().accession);
                }
                for (tier, value) in texts(model, vocabulary, record, &tiers(record)).into_iter().filter(|(_, v)| !embargoed.contains_key(v.as_str())) {
                    document.add_text(text[tier as usize], &value);
                }
                let (doc, values) = extract(model, kind, position, record, &mut dictionaries);
                document.add_text(kind_field, kind.term());
                for (((ids, field), dictionary), column) in values.iter().zip(&value_fields).zip(&dictionaries).zip(&mut columns) {
                    for id in ids {
                        document.add_text(*field, dictionary.value(*id));
                    }
                    column.push(ids);
                }
                writer.add_document(document)?;
                docs.push(doc);
            }
        }
        writer.commit()?;
        if settle {
            writer.wait_merging_threads()?;
        }
        // Values are looked up by id from here on; the map back was only for interning.
        for dictionary in &mut dictionaries {
            dictionary.ids = HashMap::new();
        }
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex::assemble(index, reader, Fields { ord, accession, kind: kind_field, values: value_fields, text }, docs, dictionaries, columns))
    }

    fn assemble(index: Index, reader: IndexReader, fields: Fields, docs: Vec<Doc>, dictionaries: Vec<Dictionary>, columns: Vec<Column>) -> SearchIndex {
        let Fields { ord: _, accession, kind, values, text } = fields;
        let columns = columns.into_iter().zip(&dictionaries).map(|(column, dictionary)| column.seal(dictionary.len())).collect();
        let keys_in_order = docs.windows(2).all(|w| w[0].record_key < w[1].record_key);
        SearchIndex {
            index,
            reader,
            accession,
            kind,
            values,
            text,
            docs,
            dictionaries,
            columns,
            keys_in_order,
            norms: OnceLock::new(),
            excluded: Mutex::new(None),
        }
    }

    pub fn docs(&self) -> &[Doc] {
        &self.docs
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The text query for `access`: every term of `text` must occur in a text field the caller
    /// may read (CONTROLLED text only on records the caller holds a grant for). `None` when the
    /// text has no terms.
    fn text_query(&self, text: &str, access: &TextAccess<'_>) -> Option<Box<dyn Query>> {
        let terms = tokenizer::terms(text);
        if terms.is_empty() {
            return None;
        }
        // Which datasets' CONTROLLED text counts; the restriction itself scores nothing.
        let grants = || {
            let set = TermSetQuery::new(access.grants.iter().map(|g| tantivy::Term::from_field_text(self.accession, g)));
            ConstScoreQuery::new(Box::new(set), 0.0)
        };
        let per_term = terms
            .iter()
            .map(|term| {
                let mut fields: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for tier in Tier::ALL {
                    let field = self.text[tier as usize];
                    let mut chars = term.chars();
                    let query: Box<dyn Query> = match (chars.next(), chars.next()) {
                        // One CJK character ("肺"): the index holds it inside bigrams ("肺腫",
                        // "の肺"), or alone where it stood alone.
                        (Some(c), None) if tokenizer::is_cjk(c) => match RegexQuery::from_pattern(&format!("{c}|{c}.|.{c}"), field) {
                            Ok(q) => Box::new(q),
                            Err(_) => Box::new(TermQuery::new(tantivy::Term::from_field_text(field, term), IndexRecordOption::WithFreqs)),
                        },
                        _ => Box::new(TermQuery::new(tantivy::Term::from_field_text(field, term), IndexRecordOption::WithFreqsAndPositions)),
                    };
                    match Reads::of(tier, access) {
                        Reads::Granted => {
                            let granted = BooleanQuery::new(vec![(Occur::Must, query), (Occur::Must, Box::new(grants()))]);
                            fields.push((Occur::Should, Box::new(granted)));
                        }
                        Reads::All => fields.push((Occur::Should, query)),
                        Reads::Nothing => {}
                    }
                }
                (Occur::Must, Box::new(BooleanQuery::new(fields)) as Box<dyn Query>)
            })
            .collect();
        Some(Box::new(BooleanQuery::new(per_term)))
    }

    /// Runs a search: one pass over the index for the matching records and their scores, then
    /// filters, facets, order and the page from the documents' values, as far as `visibility`
    /// lets the caller read them.
    pub fn search(&self, request: &Request<'_>, visibility: &dyn Visibility) -> Result<Page, SearchError> {
        let searcher = self.reader.searcher();
        let query = request.text.and_then(|t| self.text_query(t, &request.access));
        // The filters as index terms, scoring nothing: the index hands over only records that
        // pass them (before the caller's visibility is checked on each, below).
        let restriction = self.restriction(request);
        // (ord, score, address) of every record the text matches; all records without text.
        let stats = match (&query, request.after.as_ref().and_then(|a| a.stats.clone())) {
            (Some(_), Some(stats)) => Some(stats),
            (Some(_), None) => Some(self.stats(&searcher, request.text.unwrap_or(""), &request.access, visibility.hidden())?),
            (None, _) => None,
        };
        let frozen = stats.as_ref().map(|stats| Frozen { stats, text: &self.text });
        let hits = self.visible(&searcher, request, visibility, query.as_deref(), restriction, frozen.as_ref())?;
        let facets = request
            .facets
            .iter()
            .map(|&field| {
                let f = field.position();
                let dictionary = &self.dictionaries[f];
                // A counter per value when the field has few values (most facets); a map when
                // it has more than the hits could hold.
                let mut few = vec![0usize; if dictionary.len() <= hits.len().saturating_mul(4) { dictionary.len() } else { 0 }];
                let mut many: HashMap<u32, usize> = HashMap::new();
                for (o, _, mask, _) in &hits {
                    if mask & (1 << f) != 0 {
                        // Values are unique per document (see `extract`).
                        self.columns[f].each(*o, |id| match few.get_mut(id as usize) {
                            Some(c) => *c += 1,
                            None => *many.entry(id).or_default() += 1,
                        });
                    }
                }
                let counted = few.iter().enumerate().filter(|(_, c)| **c > 0).map(|(id, c)| (id as u32, *c)).chain(many);
                let mut counts: Vec<(String, usize)> = counted.map(|(id, c)| (dictionary.value(id).to_owned(), c)).collect();
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (field, counts)
            })
            .collect();
        // The order, on borrowed keys; only the page's are made owned (cursors).
        let key = |o: usize, score: f32, mask: u64| -> Key<'_> {
            match request.sort {
                SortBy::Relevance if query.is_some() => Key::Score(score),
                SortBy::Relevance => Key::Score(0.0),
                SortBy::ReleaseDate => Key::Date(self.docs[o].release_date().filter(|_| mask & (1 << Field::ReleaseDate.position()) != 0)),
                SortBy::SubjectCount => Key::Count(self.docs[o].subject_count.filter(|_| mask & (1 << Field::SubjectCount.position()) != 0)),
            }
        };
        let descending = request.descending;
        // Ties on the sort value go by record key: by position where positions are in key order
        // (a number each, no string read per hit), else by the keys.
        let tie = |a: usize, b: usize| if self.keys_in_order { a.cmp(&b) } else { self.docs[a].record_key.cmp(&self.docs[b].record_key) };
        let compare = |a: (&Key<'_>, usize), b: (&Key<'_>, usize)| compare_sort(a.0, b.0, descending).then_with(|| tie(a.1, b.1));
        // Whether a hit comes after the cursor: its sort value, then its key against the cursor's.
        // With positions in key order the cursor's key is placed among them once (2 × position
        // + 1 where a record has it, 2 × where it would stand if none has), so hits compare by
        // number.
        let after = request.after.as_ref().map(|a| {
            let place = match self.keys_in_order.then(|| self.docs.binary_search_by(|d| d.record_key.as_str().cmp(a.key.as_str()))) {
                Some(Ok(found)) => 2 * found + 1,
                Some(Err(insert)) => 2 * insert,
                None => 0,
            };
            (Key::of(&a.sort), a.key.as_str(), place)
        });
        let after_cursor = |key: &Key<'_>, o: usize| match &after {
            None => true,
            Some((k, cursor_key, place)) => match compare_sort(key, k, descending) {
                Ordering::Equal if self.keys_in_order => 2 * o + 1 > *place,
                Ordering::Equal => self.docs[o].record_key.as_str() > *cursor_key,
                other => other == Ordering::Greater,
            },
        };
        // The first `first` records after the cursor, kept in order as the hits come: a hit that
        // does not beat the last kept costs one comparison (no list of every hit, no selection
        // over it); a hit that does is placed by binary search (rarely, past the first pages).
        let mut rest: Vec<(Key<'_>, usize, f32, Option<DocAddress>)> = Vec::with_capacity(request.first + 1);
        let mut after_count = 0usize;
        for &(o, score, mask, a) in &hits {
            let k = key(o, score, mask);
            if !after_cursor(&k, o) {
                continue;
            }
            after_count += 1;
            if rest.len() == request.first && rest.last().is_none_or(|last| compare((&k, o), (&last.0, last.1)) != Ordering::Less) {
                continue;
            }
            let at = rest.partition_point(|kept| compare((&kept.0, kept.1), (&k, o)) == Ordering::Less);
            rest.insert(at, (k, o, score, a));
            rest.truncate(request.first);
        }
        let has_next = after_count > request.first;
        // Fragments are chosen by the terms' weights in the caller's own statistics (tantivy's
        // own generator would weigh them by the whole index's counts).
        let generators: Vec<(Tier, SnippetGenerator)> = match (&query, &stats) {
            (Some(q), Some(stats)) if request.highlights => Tier::ALL
                .into_iter()
                .filter(|t| Reads::of(*t, &request.access) != Reads::Nothing)
                .filter_map(|t| {
                    let field = self.text[t as usize];
                    let mut weights = BTreeMap::new();
                    q.query_terms(&mut |term, _| {
                        if term.field() == field
                            && let Some(text) = term.value().as_str()
                            && let Some(n) = stats.doc_freqs.get(&(t as u8, text.to_owned())).filter(|n| **n > 0)
                        {
                            weights.insert(text.to_owned(), 1.0 / (1.0 + *n as f32));
                        }
                    });
                    let tokenizer = self.index.tokenizer_for_field(field).ok()?;
                    Some((t, SnippetGenerator::new(weights, tokenizer, field, 160)))
                })
                .collect(),
            _ => Vec::new(),
        };
        let terms: Vec<String> = request.text.map(tokenizer::terms).unwrap_or_default();
        let mut page = Vec::new();
        for (sort, o, score, address) in rest {
            let highlights = match address {
                Some(a) if !generators.is_empty() => self.highlights(&searcher, a, &generators, &request.access, &self.docs[o])?,
                _ => Vec::new(),
            };
            let matched = match address {
                Some(a) if query.is_some() => self.matched(&searcher, a, &terms, &request.access, &self.docs[o])?,
                _ => Vec::new(),
            };
            page.push(Hit { doc: o, score, sort: sort.owned(), highlights, matched });
        }
        Ok(Page { hits: page, total: hits.len(), has_next, facets, stats })
    }

    /// Every record `request` matches that the caller may see — its text, kinds, filters and
    /// ranges as [`SearchIndex::search`] applies them, as far as `visibility` lets the caller read
    /// them — by position in [`SearchIndex::docs`], ascending: no scores, order, facets or page,
    /// for a caller that orders and pages the records itself (`datasets(filter:)`, in record-key
    /// order).
    pub fn matching(&self, request: &Request<'_>, visibility: &dyn Visibility) -> Result<Vec<Match>, SearchError> {
        let searcher = self.reader.searcher();
        let query = request.text.and_then(|t| self.text_query(t, &request.access));
        let restriction = self.restriction(request);
        let mut matches: Vec<Match> =
            self.visible(&searcher, request, visibility, query.as_deref(), restriction, None)?.into_iter().map(|(doc, _, _, address)| Match { doc, address }).collect();
        matches.sort_unstable_by_key(|m| m.doc);
        Ok(matches)
    }

    /// For each record of `found` (records [`SearchIndex::matching`] found), the tiers above
    /// REGISTERED whose text on it holds a word of `text`, where `access` reads it (as
    /// [`Hit::matched`]): the schema audits a record found through CONTROLLED or STEWARD text as a
    /// read of it.
    pub fn matched_tiers(&self, found: &[Match], text: &str, access: &TextAccess<'_>) -> Result<Vec<Vec<Tier>>, SearchError> {
        let terms = tokenizer::terms(text);
        let searcher = self.reader.searcher();
        found
            .iter()
            .map(|m| match m.address {
                Some(address) if !terms.is_empty() => self.matched(&searcher, address, &terms, access, &self.docs[m.doc]),
                _ => Ok(Vec::new()),
            })
            .collect()
    }

    /// The records the text and the restriction match, with their scores (under `frozen`'s
    /// statistics; none: the index's own, for a caller that ignores scores), that the caller may
    /// see and whose filtered fields it may read: (position, score, visibility mask, address).
    fn visible(
        &self,
        searcher: &Searcher,
        request: &Request<'_>,
        visibility: &dyn Visibility,
        query: Option<&dyn Query>,
        restriction: Option<Box<dyn Query>>,
        frozen: Option<&Frozen<'_>>,
    ) -> Result<Vec<(usize, f32, u64, Option<DocAddress>)>, SearchError> {
        let matched: Vec<(usize, f32, Option<DocAddress>)> = match (query, request.text) {
            (Some(q), _) => {
                let combined: Box<dyn Query> = match restriction {
                    Some(r) => Box::new(BooleanQuery::new(vec![(Occur::Must, q.box_clone()), (Occur::Must, r)])),
                    None => q.box_clone(),
                };
                let all = AllMatches { ord: "ord" };
                let found = match frozen {
                    Some(frozen) => searcher.search_with_statistics_provider(combined.as_ref(), &all, frozen)?,
                    None => searcher.search(combined.as_ref(), &all)?,
                };
                found.into_iter().map(|(o, s, a)| (o, s, Some(a))).collect()
            }
            // Text with no searchable term (punctuation only) matches nothing.
            (None, Some(t)) if !t.trim().is_empty() => Vec::new(),
            (None, _) => match restriction {
                Some(r) => searcher.search(r.as_ref(), &AllMatches { ord: "ord" })?.into_iter().map(|(o, _, _)| (o, 0.0, None)).collect(),
                None => (0..self.docs.len()).map(|o| (o, 0.0, None)).collect(),
            },
        };
        let mut hits = Vec::new();
        for (o, score, address) in matched {
            let doc = &self.docs[o];
            // (Kinds and filter values were matched by the restriction, in the index.)
            let Some(mask) = visibility.mask(o, doc) else { continue };
            let readable = |f: Field| mask & (1 << f.position()) != 0;
            let ok = request.filters.iter().all(|(f, _)| readable(*f));
            let date_ok = match &request.release_date {
                (None, None) => true,
                (from, to) => readable(Field::ReleaseDate)
                    && doc.release_date().is_some_and(|d| {
                        from.as_deref().is_none_or(|f| d >= f) && to.as_deref().is_none_or(|t| &d[..t.len().min(d.len())] <= t)
                    }),
            };
            let count_ok = match request.subject_count {
                (None, None) => true,
                (min, max) => readable(Field::SubjectCount)
                    && doc.subject_count.is_some_and(|c| min.is_none_or(|m| c >= m) && max.is_none_or(|m| c <= m)),
            };
            if ok && date_ok && count_ok {
                hits.push((o, score, mask, address));
            }
        }
        Ok(hits)
    }

    /// The kinds and value filters of `request` as one query scoring 0 (so relevance scores are
    /// the text's alone); `None` when it has none.
    fn restriction(&self, request: &Request<'_>) -> Option<Box<dyn Query>> {
        // Any of the terms. (A `TermSetQuery` builds an FST per query: costlier than the search
        // itself for the few values a filter names.)
        fn any(terms: impl Iterator<Item = tantivy::Term>) -> Box<dyn Query> {
            let should: Vec<(Occur, Box<dyn Query>)> =
                terms.map(|t| (Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>)).collect();
            Box::new(BooleanQuery::new(should))
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(kinds) = &request.kinds {
            clauses.push((Occur::Must, any(kinds.iter().map(|k| tantivy::Term::from_field_text(self.kind, k.term())))));
        }
        for (f, wanted) in &request.filters {
            clauses.push((Occur::Must, any(wanted.iter().map(|w| tantivy::Term::from_field_text(self.values[f.position()], w)))));
        }
        if clauses.is_empty() {
            return None;
        }
        Some(Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(clauses)), 0.0)))
    }

    /// The corpus statistics for the terms of `text` over what `access` may read: the records
    /// not `hidden`, each tier's text as [`Reads`] says (see [`Stats`]).
    fn stats(&self, searcher: &Searcher, text: &str, access: &TextAccess<'_>, hidden: &[u32]) -> Result<Stats, SearchError> {
        let excluded = self.excluded(searcher, hidden)?;
        let totals = self.norm_totals(searcher)?;
        let terms = tokenizer::terms(text);
        let mut stats = Stats { docs: searcher.num_docs().saturating_sub(excluded.count), ..Stats::default() };
        let mut granted: Option<Excluded> = None;
        for tier in Tier::ALL {
            let t = tier as usize;
            let field = self.text[t];
            let reads = Reads::of(tier, access);
            if reads == Reads::Granted && granted.is_none() {
                granted = Some(self.granted(searcher, access.grants, &excluded)?);
            }
            for term in &terms {
                let key = tantivy::Term::from_field_text(field, term);
                let n = match reads {
                    Reads::All => searcher.doc_freq(&key)?.saturating_sub(containing(searcher, &excluded, &key)?),
                    Reads::Granted => containing(searcher, granted.as_ref().expect("found above"), &key)?,
                    Reads::Nothing => continue,
                };
                stats.doc_freqs.insert((t as u8, term.clone()), n);
            }
            stats.tokens[t] = match reads {
                Reads::All => totals[t].saturating_sub(excluded.norms[t]),
                Reads::Granted => granted.as_ref().expect("found above").norms[t],
                Reads::Nothing => 0,
            };
        }
        Ok(stats)
    }

    /// Every document's field norms, summed per text field (once per index).
    fn norm_totals(&self, searcher: &Searcher) -> Result<[u64; 4], SearchError> {
        if let Some(n) = self.norms.get() {
            return Ok(*n);
        }
        let mut totals = [0u64; 4];
        for segment in searcher.segment_readers() {
            for (t, field) in self.text.iter().enumerate() {
                let norms = segment.get_fieldnorms_reader(*field)?;
                totals[t] += (0..segment.max_doc()).map(|d| u64::from(norms.fieldnorm(d))).sum::<u64>();
            }
        }
        Ok(*self.norms.get_or_init(|| totals))
    }

    /// The documents `ords` (ascending) as [`Excluded`]: found by one pass over the `ord`
    /// column, kept for the next caller with the same set.
    fn excluded(&self, searcher: &Searcher, ords: &[u32]) -> Result<Arc<Excluded>, SearchError> {
        let mut kept = self.excluded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((same, excluded)) = kept.as_ref().filter(|(o, _)| o.as_slice() == ords) {
            debug_assert_eq!(same.as_slice(), ords);
            return Ok(excluded.clone());
        }
        let mut excluded = Excluded::default();
        if !ords.is_empty() {
            for (s, segment) in searcher.segment_readers().iter().enumerate() {
                let column = segment.fast_fields().u64("ord")?;
                let docs: Vec<DocId> =
                    (0..segment.max_doc()).filter(|d| column.first(*d).is_some_and(|o| ords.binary_search(&(o as u32)).is_ok())).collect();
                self.add_norms(segment, &docs, &mut excluded.norms)?;
                excluded.count += docs.len() as u64;
                if !docs.is_empty() {
                    excluded.by_segment.insert(s as u32, docs);
                }
            }
        }
        let excluded = Arc::new(excluded);
        *kept = Some((ords.to_vec(), excluded.clone()));
        Ok(excluded)
    }

    /// The datasets `grants` names that are not `excluded`, with their field norms.
    fn granted(&self, searcher: &Searcher, grants: &HashSet<String>, excluded: &Excluded) -> Result<Excluded, SearchError> {
        let mut found = Excluded::default();
        // Each grant's postings read straight from each segment's term dictionary (a search per
        // grant, with its collector, cost more than the query it serves).
        for (s, segment) in searcher.segment_readers().iter().enumerate() {
            let index = segment.inverted_index(self.accession)?;
            for grant in grants {
                let term = tantivy::Term::from_field_text(self.accession, grant);
                let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic).map_err(|e| SearchError(e.to_string()))? else { continue };
                while postings.doc() != TERMINATED {
                    let address = DocAddress::new(s as u32, postings.doc());
                    if !excluded.contains(address) {
                        found.by_segment.entry(s as u32).or_default().push(address.doc_id);
                    }
                    postings.advance();
                }
            }
        }
        for (s, docs) in &mut found.by_segment {
            docs.sort_unstable();
            docs.dedup();
            found.count += docs.len() as u64;
            self.add_norms(searcher.segment_reader(*s), docs, &mut found.norms)?;
        }
        Ok(found)
    }

    fn add_norms(&self, segment: &tantivy::SegmentReader, docs: &[DocId], norms: &mut [u64; 4]) -> Result<(), SearchError> {
        for (t, field) in self.text.iter().enumerate() {
            let reader = segment.get_fieldnorms_reader(*field)?;
            norms[t] += docs.iter().map(|d| u64::from(reader.fieldnorm(*d))).sum::<u64>();
        }
        Ok(())
    }

    /// The tiers above REGISTERED the caller searches on `doc` whose text holds one of `terms`.
    fn matched(&self, searcher: &Searcher, address: DocAddress, terms: &[String], access: &TextAccess<'_>, doc: &Doc) -> Result<Vec<Tier>, SearchError> {
        let mut out = Vec::new();
        for tier in [Tier::Controlled, Tier::Steward] {
            let searched = match Reads::of(tier, access) {
                Reads::All => true,
                Reads::Granted => doc.kind == Kind::Dataset && access.grants.contains(doc.accession()),
                Reads::Nothing => false,
            };
            if !searched {
                continue;
            }
            let one = Excluded { by_segment: BTreeMap::from([(address.segment_ord, vec![address.doc_id])]), ..Excluded::default() };
            for term in terms {
                if containing(searcher, &one, &tantivy::Term::from_field_text(self.text[tier as usize], term))? > 0 {
                    out.push(tier);
                    break;
                }
            }
        }
        Ok(out)
    }

    fn highlights(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        generators: &[(Tier, SnippetGenerator)],
        access: &TextAccess<'_>,
        doc: &Doc,
    ) -> Result<Vec<Highlight>, SearchError> {
        let stored: TantivyDocument = searcher.doc(address)?;
        let mut out = Vec::new();
        for (tier, generator) in generators {
            // CONTROLLED text only where the caller holds the grant for this record.
            if *tier == Tier::Controlled && access.tier < Tier::Steward && (doc.kind != Kind::Dataset || !access.grants.contains(doc.accession())) {
                continue;
            }
            let field = self.text[*tier as usize];
            for value in stored.get_all(field).filter_map(|v| v.as_str()) {
                let mut snippet = generator.snippet(value);
                if !snippet.highlighted().is_empty() {
                    snippet.set_snippet_prefix_postfix("<em>", "</em>");
                    out.push(Highlight { tier: *tier, html: snippet.to_html() });
                }
            }
        }
        Ok(out)
    }

    /// The tantivy index (for benchmarks that query it raw).
    pub fn tantivy(&self) -> &Index {
        &self.index
    }
}

/// How many of `docs` hold `term` (in its field): each segment's postings sought doc by doc.
fn containing(searcher: &Searcher, docs: &Excluded, term: &tantivy::Term) -> Result<u64, SearchError> {
    let mut n = 0;
    for (s, ids) in &docs.by_segment {
        let index = searcher.segment_reader(*s).inverted_index(term.field())?;
        let Some(mut postings) = index.read_postings(term, IndexRecordOption::Basic).map_err(|e| SearchError(e.to_string()))? else { continue };
        for &d in ids {
            let at = if postings.doc() < d { postings.seek(d) } else { postings.doc() };
            if at == TERMINATED {
                break;
            }
            n += u64::from(at == d);
        }
    }
    Ok(n)
}

/// A sort value, borrowed from the document.
#[derive(Debug, Clone, Copy)]
enum Key<'a> {
    Score(f32),
    Date(Option<&'a str>),
    Count(Option<i64>),
}

impl<'a> Key<'a> {
    fn of(value: &'a SortValue) -> Key<'a> {
        match value {
            SortValue::Score(s) => Key::Score(*s),
            SortValue::Date(d) => Key::Date(d.as_deref()),
            SortValue::Count(c) => Key::Count(*c),
        }
    }

    fn owned(self) -> SortValue {
        match self {
            Key::Score(s) => SortValue::Score(s),
            Key::Date(d) => SortValue::Date(d.map(str::to_owned)),
            Key::Count(c) => SortValue::Count(c),
        }
    }
}

fn compare_sort(a: &Key<'_>, b: &Key<'_>, descending: bool) -> Ordering {
    // Missing values last, whatever the direction.
    fn some_first<T: PartialOrd>(a: &Option<T>, b: &Option<T>, descending: bool) -> Ordering {
        match (a, b) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(y).unwrap_or(Ordering::Equal);
                if descending { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    match (a, b) {
        // Best score first.
        (Key::Score(x), Key::Score(y)) => y.partial_cmp(x).unwrap_or(Ordering::Equal),
        (Key::Date(x), Key::Date(y)) => some_first(x, y, descending),
        (Key::Count(x), Key::Count(y)) => some_first(x, y, descending),
        // A cursor of another sort (the schema refuses those): by record key alone.
        _ => Ordering::Equal,
    }
}

/// Collects every matching document: (ord, score, address).
struct AllMatches {
    ord: &'static str,
}

struct SegmentMatches {
    segment: u32,
    ords: tantivy::columnar::Column<u64>,
    out: Vec<(usize, f32, DocAddress)>,
}

impl Collector for AllMatches {
    type Fruit = Vec<(usize, f32, DocAddress)>;
    type Child = SegmentMatches;

    fn for_segment(&self, segment: tantivy::SegmentOrdinal, reader: &tantivy::SegmentReader) -> tantivy::Result<SegmentMatches> {
        Ok(SegmentMatches { segment, ords: reader.fast_fields().u64(self.ord)?, out: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(usize, f32, DocAddress)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentMatches {
    type Fruit = Vec<(usize, f32, DocAddress)>;

    fn collect(&mut self, doc: tantivy::DocId, score: f32) {
        if let Some(o) = self.ords.first(doc) {
            self.out.push((o as usize, score, DocAddress::new(self.segment, doc)));
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.out
    }
}

/// The literal values of a record the API shows, each with its tier: the record's own
/// properties, and those of nodes it links to (a disease's label, a publisher's name), which need
/// the link's tier too.
fn texts(model: &ReadModel, vocabulary: &Vocabulary, record: &MergedRecord, tier_of: &dyn Fn(&str) -> Tier) -> Vec<(Tier, String)> {
    let shown = |p: &str| vocabulary.property(p).is_some_and(|d| d.graphql_field.is_some());
    let mut out = Vec::new();
    for (view, node) in model.members(record) {
        for (property, values) in node.properties() {
            if !shown(property) {
                continue;
            }
            let tier = tier_of(property);
            for value in values {
                match value {
                    TermRef::Literal(l) => out.push((tier, l.value().to_owned())),
                    TermRef::NamedNode(_) | TermRef::BlankNode(_) => {
                        let Some(target) = linked(model, view, value) else { continue };
                        // Records linked from records (a study's datasets) are documents of their own.
                        if target.has_type(v::DCAT_DATASET) || target.has_type(v::MUSUBI_STUDY) || target.has_type(v::MUSUBI_SAMPLE) {
                            continue;
                        }
                        for (p, vs) in target.properties().filter(|(p, _)| shown(p)) {
                            let t = tier.max(tier_of(p));
                            out.extend(vs.filter_map(|v| match v {
                                TermRef::Literal(l) => Some((t, l.value().to_owned())),
                                _ => None,
                            }));
                        }
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The filter values of a record, normalised.
fn extract(model: &ReadModel, kind: Kind, position: usize, record: &MergedRecord, dictionaries: &mut [Dictionary]) -> (Doc, Vec<Vec<u32>>) {
    let mut values: Vec<Vec<String>> = vec![Vec::new(); Field::ALL.len()];
    let at = |f: Field| f.position();
    values[at(Field::Source)] = record.sources().into_iter().map(str::to_owned).collect();
    if let Some(level) = model.access_level(record) {
        // As GraphQL's AccessLevel enum names it.
        use musubi_ontology::vocab::AccessLevel as L;
        let name = match level {
            L::Open => "OPEN",
            L::Registered => "REGISTERED",
            L::Controlled => "CONTROLLED",
            L::Closed => "CLOSED",
        };
        values[at(Field::AccessLevel)].push(name.to_owned());
    }
    let mut subject_count = None;
    for (view, node) in model.members(record) {
        let strings = |p| node.strings(p).into_iter().map(str::to_owned).collect::<Vec<_>>();
        values[at(Field::Type)].extend(strings(v::DCT_TYPE));
        values[at(Field::Assays)].extend(strings(v::MUSUBI_ASSAY));
        values[at(Field::Platforms)].extend(strings(v::MUSUBI_PLATFORM));
        values[at(Field::ReferenceGenomes)].extend(strings(v::MUSUBI_REFERENCE_GENOME));
        for d in node.values(v::MUSUBI_DISEASE) {
            // A disease node with its MONDO term, or the term itself as the link.
            match (d, linked(model, view, d)) {
                (_, Some(disease)) => {
                    values[at(Field::Diseases)].extend(disease.strings(v::MUSUBI_MONDO).into_iter().map(musubi_ontology::disease::term_iri));
                }
                (TermRef::NamedNode(n), None) if n.as_str().starts_with("http://purl.obolibrary.org/obo/MONDO_") => values[at(Field::Diseases)].push(n.as_str().to_owned()),
                _ => {}
            }
        }
        values[at(Field::DuoCodes)].extend(strings(v::MUSUBI_DATA_USE_CONDITION));
        for p in node.values(v::ODRL_HAS_POLICY) {
            if let Some(policy) = linked(model, view, p) {
                values[at(Field::DuoCodes)].extend(policy.strings(v::MUSUBI_DATA_USE_CONDITION).into_iter().map(str::to_owned));
            }
        }
        for p in node.values(v::DCT_PUBLISHER) {
            match (p, linked(model, view, p)) {
                (_, Some(agent)) => values[at(Field::Organisations)].extend(agent.strings(v::FOAF_NAME).into_iter().map(str::to_owned)),
                (TermRef::Literal(l), None) => values[at(Field::Organisations)].push(l.value().to_owned()),
                _ => {}
            }
        }
        values[at(Field::ReleaseDate)].extend(node.strings(v::DCT_ISSUED).into_iter().filter_map(|d| d.get(..10)).map(str::to_owned));
        for c in node.strings(v::MUSUBI_SUBJECT_COUNT) {
            if let Ok(c) = c.trim().parse::<i64>() {
                subject_count = Some(subject_count.map_or(c, |s: i64| s.max(c)));
            }
        }
    }
    for v in &mut values {
        v.sort();
        v.dedup();
    }
    // The earliest date any source states is the release.
    values[at(Field::ReleaseDate)].truncate(1);
    if let Some(c) = subject_count {
        values[at(Field::SubjectCount)].push(c.to_string());
        values[at(Field::SubjectCountRange)].push(
            match c {
                ..=9 => "1-9",
                10..=99 => "10-99",
                100..=999 => "100-999",
                1000..=9999 => "1000-9999",
                _ => "10000+",
            }
            .to_owned(),
        );
    }
    values[at(Field::ReleaseYear)] = values[at(Field::ReleaseDate)].iter().filter_map(|d| d.get(..4)).map(str::to_owned).collect();
    let kind_name = match kind {
        Kind::Dataset => "d",
        Kind::Study => "s",
    };
    let record_key = format!("{kind_name}\u{1}{}\u{1}{}\u{1}{}", record.key().accession, record.key().source, record.key().id);
    let accession_end = (kind_name.len() + 1 + record.key().accession.len()) as u32;
    let release_date = values[at(Field::ReleaseDate)].first().cloned();
    let values = values
        .into_iter()
        .zip(dictionaries.iter_mut())
        .map(|(values, dictionary): (Vec<String>, &mut Dictionary)| {
            let mut ids: Vec<u32> = values.into_iter().map(|v| dictionary.intern(v)).collect();
            ids.sort_unstable();
            ids
        })
        .collect();
    (Doc { kind, position, release_date, subject_count, record_key, accession_end }, values)
}

/// The node `t` names: in `view` first, else in any source.
fn linked(model: &ReadModel, view: &SourceView, t: TermRef<'_>) -> Option<Node> {
    let id = match t {
        TermRef::NamedNode(n) => NamedOrBlankNode::from(n.into_owned()),
        TermRef::BlankNode(b) => NamedOrBlankNode::from(b.into_owned()),
        _ => return None,
    };
    view.node(&id).or_else(|| model.find(&id, &view.source).and_then(|v| v.node(&id)))
}
