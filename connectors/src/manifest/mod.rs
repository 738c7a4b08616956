//! Source manifests: one TOML file per partner source.
//!
//! ```toml
//! id = "nbdc-datasets"                   # names the source's graph; [a-z0-9_-]
//! name = "NBDC Human Database: datasets"
//! kind = "json-api"                      # or "rdf-dump", "csv", "graphql", "sparql", "xml"
//! endpoint = "https://example.org/api/datasets"   # http(s) URL, or a file or folder path
//! mapping = "mappings/humandbs-dataset.rml.ttl"   # RML, relative to this file
//! [paging]                               # json-api, graphql, sparql, xml
//! style = "offset"                       # "none", "offset", "next-link" or "cursor"
//! records = "$.data[*]"                  # where a page keeps its records (XPath for xml:
//!                                        # "/STUDY_SET/STUDY")
//! ```
//! A `sparql` source names its SPARQL endpoint and `query = "datasets.rq"`: a CONSTRUCT (RDF,
//! optionally post-processed with `construct = [...]`) or a SELECT (its rows mapped with
//! `mapping`, `record.id` naming the id column). It is paged with LIMIT/OFFSET appended
//! (`paging.page_size`, default 1000; `style = "none"` sends the query whole), so a paged query
//! must have a top-level ORDER BY and no LIMIT/OFFSET of its own: the query is parsed and
//! checked here, when the manifest loads.
//!
//! Politeness: `rate_limit` (requests per second, default 10, token requests included) and
//! `concurrency` (pages in flight for offset paging with a stated total, default 2, at most 16).
//! Credentials live outside the manifest; `[auth]` only says where (`secret_env` or
//! `secret_file`) and how:
//!
//! ```toml
//! [auth]
//! kind = "oauth2-client-credentials"     # or "api-key" (header = "X-API-Key"), "basic" (username)
//! token_url = "https://partner.example.org/oauth/token"
//! client_id = "musubi"
//! secret_env = "PARTNER_CLIENT_SECRET"   # the client secret
//! scopes = ["metadata:read"]             # optional
//! client_auth = "basic"                  # client_secret_basic (default) or "post"
//! ```
//! Every problem is reported with the file, line, column and field, before anything runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

mod parse;

pub use parse::parse_manifest;

/// Requests per second when the manifest does not say: polite to a partner's API, and still
/// quick for the page sizes partners use.
pub const DEFAULT_RATE_LIMIT: f64 = 10.0;
/// Pages in flight when the manifest does not say.
pub const DEFAULT_CONCURRENCY: usize = 2;
/// More pages in flight than this is no longer polite.
const MAX_CONCURRENCY: usize = 16;

/// A manifest that cannot be used, and exactly where: the hub's one located file error.
pub use musubi_ontology::located::FileError;

/// The kinds of source musubi can harvest today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A JSON REST API (or JSON files), mapped with RML.
    JsonApi,
    /// An RDF dump: Turtle, N-Triples or JSON-LD.
    RdfDump,
    /// CSV or TSV files, one record per row, mapped with RML.
    Csv,
    /// A partner's own GraphQL endpoint: a query file, cursor paging, RML over the results.
    Graphql,
    /// A SPARQL 1.1 endpoint: a CONSTRUCT (RDF) or a SELECT (rows, mapped with RML), paged with
    /// LIMIT/OFFSET.
    Sparql,
    /// XML documents (SRA/JGA/EGA-style record sets), split into records by an XPath, mapped
    /// with RML over XPath.
    Xml,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::JsonApi => "json-api",
            SourceKind::RdfDump => "rdf-dump",
            SourceKind::Csv => "csv",
            SourceKind::Graphql => "graphql",
            SourceKind::Sparql => "sparql",
            SourceKind::Xml => "xml",
        }
    }
}

/// Where a source's data is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Http(Url),
    /// A file, or a folder whose files are all read (sorted by name).
    File(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Http(u) => f.write_str(u.as_str()),
            Location::File(p) => write!(f, "file://{}", p.display()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PagingStyle {
    /// One request returns everything.
    #[default]
    None,
    /// `?offset=N&limit=M` until a short page (or the stated total).
    Offset,
    /// Follow a link to the next page until there is none.
    NextLink,
    /// Send back the cursor the page gives until there is none.
    Cursor,
}

/// How a JSON API splits its answer into pages and records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub style: PagingStyle,
    /// JSONPath to the records in a page. Default: the elements of a top-level array, or the page
    /// itself if it is an object. For XML sources, the XPath that splits a document into records
    /// (`/STUDY_SET/STUDY`); default: the document element is the one record.
    pub records: Option<String>,
    /// JSONPath to the next page's URL (next-link paging).
    pub next: String,
    /// JSONPath to the total number of records (offset paging; optional).
    pub total: Option<String>,
    pub offset_param: String,
    pub limit_param: String,
    pub page_size: usize,
    /// JSONPath to the next page's cursor (cursor paging).
    pub cursor: String,
    /// JSONPath to a boolean saying whether there is a next page (cursor paging; optional).
    pub has_next: Option<String>,
    /// Query parameter (JSON APIs) or GraphQL variable that carries the cursor.
    pub cursor_param: String,
}

/// How to name each record in provenance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordIds {
    /// JSONPath references to the record's id at the source (XPath for XML sources, e.g.
    /// `@accession`), tried in order (one source may serve several record types with
    /// differently named ids).
    pub id: Vec<String>,
    /// Template for the record's URL at the source (RML template syntax). Default: the URL the
    /// record was fetched from.
    pub url: Option<String>,
}

/// A secret, named by the manifest and kept outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// An environment variable.
    Env(String),
    /// A file whose content (trimmed) is the secret.
    File(PathBuf),
}

/// A source's credentials that cannot be used: where they were to come from (never the secret
/// itself) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct SecretError {
    pub place: String,
    pub problem: String,
}

impl Secret {
    pub fn read(&self) -> Result<String, SecretError> {
        let failed = |problem: String| SecretError { place: self.describe(), problem };
        match self {
            Secret::Env(var) => std::env::var(var).map_err(|_| failed("it is not set".to_owned())),
            Secret::File(path) => std::fs::read_to_string(path).map(|s| s.trim().to_owned()).map_err(|e| failed(e.to_string())),
        }
    }

    /// Where the secret is, for messages (never the secret itself).
    pub fn describe(&self) -> String {
        match self {
            Secret::Env(var) => format!("the secret in environment variable {var}"),
            Secret::File(path) => format!("the secret file {}", path.display()),
        }
    }
}

/// How musubi authenticates to a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// An API key sent in a header.
    ApiKey { header: String, secret: Secret },
    /// HTTP basic authentication.
    Basic { username: String, secret: Secret },
    /// OAuth2 client credentials (RFC 6749 §4.4): a bearer token from the partner's token
    /// endpoint, kept until shortly before it expires.
    OAuth2(OAuth2),
}

/// An OAuth2 client-credentials grant; the client secret is the auth's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2 {
    pub token_url: Url,
    pub client_id: String,
    pub secret: Secret,
    pub scopes: Vec<String>,
    /// How the client authenticates to the token endpoint.
    pub client_auth: ClientAuth,
}

/// How the client id and secret reach the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuth {
    /// HTTP basic (`client_secret_basic`), the default RFC 6749 asks servers to support.
    #[default]
    Basic,
    /// In the form body (`client_secret_post`).
    Post,
}

/// A validated source manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub file: PathBuf,
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub endpoints: Vec<Location>,
    pub mapping: Option<PathBuf>,
    pub construct: Vec<PathBuf>,
    pub paging: Paging,
    pub record: RecordIds,
    pub timeout: Duration,
    pub max_bytes: u64,
    /// Cap on all bytes one harvest of the source reads (default 4 GiB).
    pub max_harvest_bytes: u64,
    /// CSV sources: the field delimiter (default: a comma, or a tab for `.tsv`).
    pub delimiter: Option<u8>,
    /// CSV sources whose files have no header row (e.g. TogoID's ID-pair tables): the column
    /// names, in order. Empty: the first row names the columns.
    pub columns: Vec<String>,
    /// Further attempts after a 429, a 5xx or a refused connection (default 2).
    pub retries: u32,
    pub auth: Option<Auth>,
    /// How often `musubi serve` harvests the source; `None`: only when asked (`musubi harvest`).
    pub schedule: Option<Duration>,
    /// GraphQL sources: the file holding the query (its variables: the cursor and `first`).
    /// SPARQL sources: the CONSTRUCT or SELECT query, with an ORDER BY when paged.
    pub query: Option<PathBuf>,
    /// Requests per second to the partner at most, token requests included (default 10).
    pub rate_limit: f64,
    /// Pages in flight at once, for offset paging with a stated total (default 2).
    pub concurrency: usize,
    /// Source fields left out of the mapping on purpose (`[check] ignore`): `connector check`
    /// reports them as ignored, with the reason, instead of as unmapped.
    pub ignore: Vec<Ignore>,
    /// What a harvest of the source must not do without being told to (`[guards]`).
    pub guards: Guards,
}

/// A source's harvest guards (`[guards]`), on by default: a harvest that trips one does not
/// land; it says what it saw (see `crate::guards`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guards {
    /// The share of the source's records one harvest may remove (0.2: a fifth); more does not
    /// land unless accepted (`musubi harvest --accept-shrink ID`). 1 turns it off.
    pub max_shrink: f64,
    /// A property the last landed harvest stated that no record states now: does not land
    /// unless accepted (a mapping reference gone astray drops a field from every record).
    pub keep_properties: bool,
    /// Every record has an id (where the manifest names one, `record.id`), no two the same, and
    /// no entity an empty identifier.
    pub ids: bool,
    /// What becomes of a typed value that is not valid for its datatype (a date that is not a
    /// date): the harvest does not land (`refuse`), the value is left out and said (`drop`), or
    /// it is kept as the partner wrote it (`keep`).
    pub invalid_values: InvalidValues,
}

/// See [`Guards::invalid_values`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvalidValues {
    Refuse,
    Drop,
    Keep,
}


impl Default for Guards {
    fn default() -> Guards {
        Guards { max_shrink: 0.2, keep_properties: true, ids: true, invalid_values: InvalidValues::Refuse }
    }
}

/// A source field (or, for RDF dumps, a property IRI) deliberately left unmapped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// The field as `connector check` prints it (`experiments[*].header.ja.text`), or a property
    /// IRI; `*` stands for any run of characters, and a pattern also covers the fields under it.
    pub field: String,
    pub reason: String,
}

impl Ignore {
    /// Whether `field` is this pattern, or lies under it (`a.b` covers `a.b.c` and `a.b[*].c`).
    pub fn covers(&self, field: &str) -> bool {
        (0..=field.len()).filter(|&end| field.is_char_boundary(end)).any(|end| {
            let (head, rest) = field.split_at(end);
            (rest.is_empty() || rest.starts_with(['.', '['])) && glob(self.field.as_bytes(), head.as_bytes())
        })
    }
}

/// `*` matches any run of bytes; everything else matches itself.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
        Some((c, rest)) => text.split_first().is_some_and(|(t, text)| t == c && glob(rest, text)),
    }
}

impl Manifest {
    /// The endpoint as shown to users (the first one, and how many more).
    pub fn endpoint_display(&self) -> String {
        match self.endpoints.as_slice() {
            [one] => one.to_string(),
            [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
            [] => String::new(),
        }
    }
}

/// Reads and validates one manifest file.
pub fn load_manifest(file: &Path) -> Result<Manifest, FileError> {
    parse_manifest(&musubi_ontology::located::read(file)?, file)
}


/// Loads every `*.toml` in `dir`, sorted by file name. All problems are returned, not only the
/// first; two manifests with the same id are a problem too.
pub fn load_manifests(dir: &Path) -> Result<Vec<Manifest>, Vec<FileError>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return Err(vec![FileError::unreadable(dir, &e)]),
    };
    let mut files: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    files.sort();
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match load_manifest(&file) {
            Ok(m) => {
                if let Some(other) = manifests.iter().find(|o| o.id == m.id) {
                    errors.push(FileError {
                        file: m.file.clone(),
                        line: 1,
                        column: 1,
                        field: Some("id".to_owned()),
                        message: format!("source id {:?} is already used by {}", m.id, other.file.display()),
                    });
                } else {
                    manifests.push(m);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(manifests) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, FileError> {
        parse_manifest(text, Path::new("/srv/sources/partner.toml"))
    }

    #[test]
    fn a_valid_rdf_dump_manifest() {
        let m = parse("id = \"fdp\"\nkind = \"rdf-dump\"\nendpoint = [\"https://fdp.example.org/a.ttl\", \"dump\"]\n").unwrap();
        assert_eq!(m.kind, SourceKind::RdfDump);
        assert_eq!(m.endpoints[1], Location::File(PathBuf::from("/srv/sources/dump")));
        assert_eq!(m.name, "fdp");
    }

    #[test]
    fn ignored_fields_need_a_reason_and_cover_what_lies_under_them() {
        let base = "id = \"fdp\"\nkind = \"rdf-dump\"\nendpoint = \"dump\"\n[check]\n";
        let m = parse(&format!("{base}ignore = [{{ field = \"experiments[*].*.rawHtml\", reason = \"HTML of a mapped text\" }}]\n")).unwrap();
        let ignore = &m.ignore[0];
        assert!(ignore.covers("experiments[*].data.Platform.ja.rawHtml"));
        assert!(ignore.covers("experiments[*].data['Read Type'].en.rawHtml"));
        assert!(!ignore.covers("experiments[*].data.Platform.ja.text"));
        let under = Ignore { field: "originalMetadata.DATA_REFS".to_owned(), reason: "r".to_owned() };
        assert!(under.covers("originalMetadata.DATA_REFS.DATA_REF[*].refname"));
        assert!(!under.covers("originalMetadata.DATA_REFS_OTHER"));

        let e = parse(&format!("{base}ignore = [{{ field = \"alias\", reason = \" \" }}]\n")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (5, Some("check.ignore.reason")), "{e}");
        let e = parse(&format!("{base}ignore = [{{ field = \"alias\" }}]\n")).unwrap_err();
        assert!(e.to_string().contains("reason"), "{e}");
    }

    #[test]
    fn missing_field_is_named_with_file_and_line() {
        let err = parse("id = \"x\"\nkind = \"rdf-dump\"\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("endpoint"), "{err}");
        assert!(err.to_string().starts_with("/srv/sources/partner.toml:"), "{err}");
    }

    #[test]
    fn unknown_kind_is_named_at_its_line() {
        let err = parse("id = \"x\"\n\nkind = \"ftp-dump\"\nendpoint = \"https://e.org\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (3, Some("kind")), "{err}");
        assert!(err.message.contains("ftp-dump"), "{err}");
    }

    #[test]
    fn bad_url_is_named_at_its_line_and_column() {
        let err = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://exa mple.org/x\"\n").unwrap_err();
        assert_eq!((err.line, err.column, err.field.as_deref()), (3, 12, Some("endpoint")), "{err}");
        assert!(err.message.contains("not a valid URL"), "{err}");
        let err = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"ftp://example.org/x\"\n").unwrap_err();
        assert!(err.message.contains("scheme \"ftp\""), "{err}");
    }

    #[test]
    fn misspelt_field_is_rejected() {
        let err = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\ntimout_secs = 3\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (4, Some("timout_secs")), "{err}");
    }

    #[test]
    fn json_api_needs_a_mapping() {
        let err = parse("id = \"x\"\nkind = \"json-api\"\nendpoint = \"https://e.org\"\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("mapping"), "{err}");
    }

    /// A mapping is read when its manifest is: a broken reference or a misspelt RML term stops the
    /// manifest with the mapping file's line, column and the term (both were found only by a
    /// harvest, or not at all: a JSONPath with a stray bracket was read as a key, and every value
    /// of it silently vanished).
    #[test]
    fn a_broken_mapping_stops_its_manifest_at_the_term() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mapping = |object_map: &str| {
            format!(
                "@prefix rml: <http://w3id.org/rml/> .\n@prefix dct: <http://purl.org/dc/terms/> .\n\n<#Map> rml:logicalSource [ rml:iterator \"$\" ] ;\n  \
                 rml:subjectMap [ rml:template \"https://e.org/{{id}}\" ] ;\n  rml:predicateObjectMap [ rml:predicate dct:title ;\n    rml:objectMap [ {object_map} ] ] .\n"
            )
        };
        let load = |object_map: &str| {
            std::fs::write(dir.path().join("m.rml.ttl"), mapping(object_map)).expect("write");
            parse_manifest("id = \"x\"\nkind = \"json-api\"\nendpoint = \"https://e.org\"\nmapping = \"m.rml.ttl\"\n", &dir.path().join("x.toml"))
        };
        assert!(load("rml:reference \"title\"").is_ok());
        let err = load("rml:reference \"experiments[*.foo\"").unwrap_err();
        assert_eq!((err.file.file_name().and_then(|f| f.to_str()), err.line, err.column), (Some("m.rml.ttl"), 7, 36), "{err}");
        assert!(err.message.contains("experiments[*.foo") && err.message.contains("not a valid JSONPath"), "{err}");
        let err = load("rml:refrence \"title\"").unwrap_err();
        assert_eq!((err.line, err.column), (7, 25), "{err}");
        assert!(err.message.contains("rml:refrence is not an RML term; did you mean rml:reference?"), "{err}");
        // A plain key with a space is still a key.
        assert!(load("rml:reference \"Country Code\"").is_ok());
    }

    /// A value of the wrong kind is named for what was expected (it said "untagged enum
    /// OneOrMany").
    #[test]
    fn an_endpoint_that_is_no_string_says_what_it_should_be() {
        let err = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = 5\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (3, Some("endpoint")), "{err}");
        assert!(err.message.contains("a string (a URL or path") && !err.message.contains("OneOrMany"), "{err}");
    }

    #[test]
    fn schedules_are_intervals() {
        let m = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\nschedule = \"6h\"\n").unwrap();
        assert_eq!(m.schedule, Some(Duration::from_secs(6 * 3600)));
        let err = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\nschedule = \"weekly\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (4, Some("schedule")), "{err}");
    }

    /// A SPARQL source's manifest in a folder with its query (and a mapping), checked.
    fn sparql(query: &str, rest: &str) -> Result<Manifest, FileError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("q.rq"), query).unwrap();
        std::fs::write(dir.path().join("rows.rml.ttl"), "<#M> <http://w3id.org/rml/logicalSource> [] ; <http://w3id.org/rml/subjectMap> [ <http://w3id.org/rml/reference> \"d\" ] .").unwrap();
        let text = format!("id = \"s\"\nkind = \"sparql\"\nendpoint = \"https://e.org/sparql\"\nquery = \"q.rq\"\n{rest}");
        parse_manifest(&text, &dir.path().join("s.toml"))
    }

    const DATASETS: &str = "PREFIX dcat: <http://www.w3.org/ns/dcat#>\nCONSTRUCT { ?d a dcat:Dataset } WHERE { ?d a dcat:Dataset }";

    #[test]
    fn a_sparql_source_pages_an_ordered_query() {
        let m = sparql(&format!("{DATASETS} ORDER BY ?d"), "").unwrap();
        assert_eq!((m.kind, m.paging.style, m.paging.page_size), (SourceKind::Sparql, PagingStyle::Offset, 1000));
        let m = sparql(&format!("{DATASETS} LIMIT 5"), "[paging]\nstyle = \"none\"\n").unwrap();
        assert_eq!(m.paging.style, PagingStyle::None, "a query sent whole needs no ORDER BY");
    }

    #[test]
    fn a_paged_sparql_query_without_order_by_is_refused() {
        let err = sparql(DATASETS, "").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (4, Some("query")), "{err}");
        assert!(err.message.contains("q.rq: the query has no ORDER BY") && err.message.contains("paging.style = \"none\""), "{err}");
        let err = sparql(&format!("{DATASETS} ORDER BY ?d LIMIT 10"), "").unwrap_err();
        assert!(err.message.contains("LIMIT or OFFSET of its own"), "{err}");
        let err = sparql(&format!("{DATASETS} ORDER BY ?d VALUES ?d {{ <http://e.org/d> }}"), "").unwrap_err();
        assert!(err.message.contains("cannot page the query"), "{err}");
    }

    #[test]
    fn a_sparql_query_that_does_not_parse_is_refused_with_its_position() {
        let err = sparql("SELECT ?d WHERE { ?d a ?c } ORDER ?d", "").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("query"), "{err}");
        assert!(err.message.contains("not a valid SPARQL query") && err.message.contains("1:"), "{err}");
        let err = sparql("ASK { ?s ?p ?o }", "").unwrap_err();
        assert!(err.message.contains("ASK"), "{err}");
    }

    #[test]
    fn select_needs_a_mapping_and_construct_takes_none() {
        let select = "SELECT ?d WHERE { ?d a ?c } ORDER BY ?d";
        let err = sparql(select, "").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("mapping"), "{err}");
        assert!(sparql(select, "mapping = \"rows.rml.ttl\"\n").is_ok());
        let err = sparql(&format!("{DATASETS} ORDER BY ?d"), "mapping = \"rows.rml.ttl\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (5, Some("mapping")), "{err}");
    }

    #[test]
    fn a_sparql_source_pages_with_offset_only_and_over_http() {
        let err = sparql(&format!("{DATASETS} ORDER BY ?d"), "[paging]\nstyle = \"cursor\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (6, Some("paging.style")), "{err}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("q.rq"), format!("{DATASETS} ORDER BY ?d")).unwrap();
        let err = parse_manifest("id = \"s\"\nkind = \"sparql\"\nendpoint = \"dump.nt\"\nquery = \"q.rq\"\n", &dir.path().join("s.toml"))
            .unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (3, Some("endpoint")), "{err}");
        let err = parse_manifest("id = \"s\"\nkind = \"sparql\"\nendpoint = \"https://e.org/sparql\"\n", &dir.path().join("s.toml")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("query"), "{err}");
    }

    #[test]
    fn politeness_has_defaults_and_bounds() {
        let base = "id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\n";
        let m = parse(base).unwrap();
        assert_eq!((m.rate_limit, m.concurrency), (DEFAULT_RATE_LIMIT, DEFAULT_CONCURRENCY));
        let m = parse(&format!("{base}rate_limit = 2\nconcurrency = 4\n")).unwrap();
        assert_eq!((m.rate_limit, m.concurrency), (2.0, 4));
        assert_eq!(parse(&format!("{base}rate_limit = 0.5\n")).unwrap().rate_limit, 0.5);
        let err = parse(&format!("{base}rate_limit = 0\n")).unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (4, Some("rate_limit")), "{err}");
        let err = parse(&format!("{base}\nconcurrency = 0\n")).unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (5, Some("concurrency")), "{err}");
        assert!(parse(&format!("{base}concurrency = 17\n")).is_err());
    }

    #[test]
    fn oauth2_client_credentials_name_the_token_endpoint_and_the_client_but_not_the_secret() {
        let base = "id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\n[auth]\nkind = \"oauth2-client-credentials\"\n";
        let m = parse(&format!(
            "{base}token_url = \"https://e.org/oauth/token\"\nclient_id = \"musubi\"\nsecret_env = \"E_SECRET\"\nscopes = [\"read\"]\nclient_auth = \"post\"\n"
        ))
        .unwrap();
        let Some(Auth::OAuth2(grant)) = m.auth else { panic!("{:?}", m.auth) };
        assert_eq!(grant.token_url.as_str(), "https://e.org/oauth/token");
        assert_eq!((grant.client_id.as_str(), &grant.secret, grant.scopes.as_slice()), ("musubi", &Secret::Env("E_SECRET".into()), &["read".to_owned()][..]));
        assert_eq!(grant.client_auth, ClientAuth::Post);

        let err = parse(&format!("{base}client_id = \"musubi\"\nsecret_env = \"E\"\n")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("auth.token_url"), "{err}");
        let err = parse(&format!("{base}token_url = \"https://e.org/t\"\nsecret_env = \"E\"\n")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("auth.client_id"), "{err}");
        let err = parse(&format!("{base}token_url = \"token\"\nclient_id = \"m\"\nsecret_env = \"E\"\n")).unwrap_err();
        assert!(err.message.contains("http(s)"), "{err}");
        let err = parse(&format!("{base}token_url = \"https://e.org/t\"\nclient_id = \"m\"\nclient_secret = \"abc\"\n")).unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (8, Some("client_secret")), "a secret in the manifest is refused: {err}");
    }

    #[test]
    fn xml_sources_split_by_xpath_and_bad_xpath_is_named_where_it_stands() {
        let base = "id = \"jga\"\nkind = \"xml\"\nendpoint = \"https://e.org/study.xml\"\nmapping = \"../mappings/ega-study-xml.rml.ttl\"\n";
        let m = parse_manifest(&format!("{base}[paging]\nrecords = \"/STUDY_SET/STUDY\"\n[record]\nid = \"@accession\"\n"), Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/manifest.rs"))).unwrap();
        assert_eq!((m.kind, m.paging.records.as_deref(), m.record.id.as_slice()), (SourceKind::Xml, Some("/STUDY_SET/STUDY"), ["@accession".to_owned()].as_slice()));
        let err = parse_manifest(&format!("{base}[paging]\nrecords = \"/STUDY_SET/STUDY[\"\n"), Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/manifest.rs"))).unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (6, Some("paging.records")), "{err}");
        let err = parse_manifest(&format!("{base}[record]\nid = \"@@accession\"\n"), Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/manifest.rs"))).unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (6, Some("record.id")), "{err}");
        let err = parse_manifest(&format!("{base}[paging]\nstyle = \"offset\"\n"), Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/manifest.rs"))).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("paging.style"), "{err}");
    }

    #[test]
    fn bad_source_id() {
        let err = parse("id = \"Bad Id\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (1, Some("id")), "{err}");
    }
}
