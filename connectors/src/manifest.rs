//! Source manifests: one TOML file per partner source.
//!
//! ```toml
//! id = "nbdc-datasets"                   # names the source's graph; [a-z0-9_-]
//! name = "NBDC Human Database: datasets"
//! kind = "json-api"                      # or "rdf-dump", "csv"
//! endpoint = "https://example.org/api/datasets"   # http(s) URL, or a file or folder path
//! mapping = "mappings/humandbs-dataset.rml.ttl"   # RML, relative to this file
//! [paging]                               # json-api only
//! style = "offset"                       # "none", "offset" or "next-link"
//! records = "$.data[*]"                  # where a page keeps its records
//! ```
//! Every problem is reported with the file, line, column and field, before anything runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

/// A manifest that cannot be used, and exactly where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {}{message}", file.display(), field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct ManifestError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub field: Option<String>,
    pub message: String,
}

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
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::JsonApi => "json-api",
            SourceKind::RdfDump => "rdf-dump",
            SourceKind::Csv => "csv",
            SourceKind::Graphql => "graphql",
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
    /// itself if it is an object.
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
    /// JSONPath references to the record's id at the source, tried in order (one source may
    /// serve several record types with differently named ids).
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

impl Secret {
    pub fn read(&self) -> Result<String, String> {
        match self {
            Secret::Env(var) => std::env::var(var).map_err(|_| format!("{}: it is not set", self.describe())),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("{}: {e}", self.describe())),
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
}

/// A validated source manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Further attempts after a 429, a 5xx or a refused connection (default 2).
    pub retries: u32,
    pub auth: Option<Auth>,
    /// How often `musubi serve` harvests the source; `None`: only when asked (`musubi harvest`).
    pub schedule: Option<Duration>,
    /// GraphQL sources: the file holding the query (its variables: the cursor and `first`).
    pub query: Option<PathBuf>,
    /// Source fields left out of the mapping on purpose (`[check] ignore`): `connector check`
    /// reports them as ignored, with the reason, instead of as unmapped.
    pub ignore: Vec<Ignore>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: Spanned<String>,
    name: Option<String>,
    kind: SourceKind,
    endpoint: Spanned<OneOrMany>,
    mapping: Option<Spanned<String>>,
    #[serde(default)]
    construct: Vec<Spanned<String>>,
    paging: Option<RawPaging>,
    record: Option<RawRecord>,
    timeout_secs: Option<Spanned<u64>>,
    max_bytes: Option<Spanned<u64>>,
    max_harvest_bytes: Option<Spanned<u64>>,
    delimiter: Option<Spanned<String>>,
    retries: Option<Spanned<u32>>,
    auth: Option<Spanned<RawAuth>>,
    schedule: Option<Spanned<String>>,
    query: Option<Spanned<String>>,
    check: Option<RawCheck>,
}

/// `[check]`: how `connector check` judges the source.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    field: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
enum AuthKind {
    ApiKey,
    Basic,
}

/// `[auth]`: the secret itself never stands here, only where to find it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    kind: AuthKind,
    header: Option<String>,
    username: Option<String>,
    secret_env: Option<String>,
    secret_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaging {
    #[serde(default)]
    style: PagingStyle,
    records: Option<String>,
    next: Option<String>,
    total: Option<String>,
    offset_param: Option<String>,
    limit_param: Option<String>,
    page_size: Option<Spanned<usize>>,
    cursor: Option<String>,
    has_next: Option<String>,
    cursor_param: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    id: Option<OneOrMany>,
    url: Option<String>,
}

/// Reads and validates one manifest file.
pub fn load_manifest(file: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(file).map_err(|e| ManifestError {
        file: file.to_owned(),
        line: 0,
        column: 0,
        field: None,
        message: format!("cannot read: {e}"),
    })?;
    parse_manifest(&text, file)
}

/// Validates manifest text; `file` is where it came from (for errors and relative paths).
pub fn parse_manifest(text: &str, file: &Path) -> Result<Manifest, ManifestError> {
    let at = |span: Option<std::ops::Range<usize>>, field: Option<&str>, message: String| {
        let (line, column) = line_column(text, span.map_or(0, |s| s.start));
        ManifestError { file: file.to_owned(), line, column, field: field.map(str::to_owned), message }
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let message = e.message().to_owned();
        // serde names the field in its message: "missing field `endpoint`", "unknown variant …".
        let field = message.split('`').nth(1).filter(|_| message.contains("field")).map(str::to_owned);
        // Otherwise the key on the line the error points at ("kind = …").
        let field = field.or_else(|| {
            let start = e.span()?.start.min(text.len());
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line = text[line_start..].lines().next()?;
            line.split_once('=').map(|(k, _)| k.trim().to_owned())
        });
        at(e.span(), field.as_deref(), message)
    })?;

    let id = raw.id.get_ref().clone();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        return Err(at(Some(raw.id.span()), Some("id"), format!("{id:?} is not a valid source id: use a-z, 0-9, '-' and '_'")));
    }
    let base = file.parent().unwrap_or(Path::new("."));
    let endpoint_span = raw.endpoint.span();
    let endpoints = match raw.endpoint.into_inner() {
        OneOrMany::One(e) => vec![e],
        OneOrMany::Many(e) => e,
    };
    if endpoints.is_empty() {
        return Err(at(Some(endpoint_span), Some("endpoint"), "lists no endpoint".to_owned()));
    }
    let endpoints = endpoints
        .iter()
        .map(|e| location(e, base).map_err(|m| at(Some(endpoint_span.clone()), Some("endpoint"), m)))
        .collect::<Result<Vec<_>, _>>()?;

    let mapping = raw.mapping.map(|m| (m.span(), base.join(m.get_ref())));
    if let Some((span, path)) = mapping.as_ref().filter(|(_, path)| !path.is_file()) {
        return Err(at(Some(span.clone()), Some("mapping"), format!("no mapping file at {}", path.display())));
    }
    let query = match raw.query {
        Some(q) => {
            let path = base.join(q.get_ref());
            if !path.is_file() {
                return Err(at(Some(q.span()), Some("query"), format!("no GraphQL query file at {}", path.display())));
            }
            Some(path)
        }
        None if raw.kind == SourceKind::Graphql => {
            return Err(at(None, Some("query"), "a graphql source needs a query file".to_owned()));
        }
        None => None,
    };
    if matches!(raw.kind, SourceKind::JsonApi | SourceKind::Csv | SourceKind::Graphql) && mapping.is_none() {
        return Err(at(None, Some("mapping"), format!("a {} source needs an RML mapping file", raw.kind.name())));
    }
    let delimiter = match raw.delimiter {
        None => None,
        Some(d) => match d.get_ref().as_bytes() {
            [b] if b.is_ascii() => Some(*b),
            _ => return Err(at(Some(d.span()), Some("delimiter"), format!("{:?} is not one ASCII character", d.get_ref()))),
        },
    };
    let mut construct = Vec::new();
    for c in raw.construct {
        let path = base.join(c.get_ref());
        if !path.is_file() {
            return Err(at(Some(c.span()), Some("construct"), format!("no SPARQL file at {}", path.display())));
        }
        construct.push(path);
    }

    let p = raw.paging.unwrap_or(RawPaging {
        style: PagingStyle::None,
        records: None,
        next: None,
        total: None,
        offset_param: None,
        limit_param: None,
        page_size: None,
        cursor: None,
        has_next: None,
        cursor_param: None,
    });
    let page_size = match p.page_size {
        Some(s) if *s.get_ref() == 0 => {
            return Err(at(Some(s.span()), Some("paging.page_size"), "must be at least 1".to_owned()));
        }
        Some(s) => *s.get_ref(),
        None => 100,
    };
    let paging = Paging {
        style: p.style,
        records: p.records,
        next: p.next.unwrap_or_else(|| "$.next".to_owned()),
        total: p.total,
        offset_param: p.offset_param.unwrap_or_else(|| "offset".to_owned()),
        limit_param: p.limit_param.unwrap_or_else(|| "limit".to_owned()),
        page_size,
        cursor: p.cursor.unwrap_or_else(|| "$.cursor".to_owned()),
        has_next: p.has_next,
        cursor_param: p.cursor_param.unwrap_or_else(|| "after".to_owned()),
    };
    let record = raw.record.unwrap_or_default();
    let mut ignore = Vec::new();
    for i in raw.check.map(|c| c.ignore).unwrap_or_default() {
        let span = i.span();
        let i = i.into_inner();
        if i.field.trim().is_empty() {
            return Err(at(Some(span), Some("check.ignore.field"), "is empty: name the source field to leave out".to_owned()));
        }
        if i.reason.trim().is_empty() {
            return Err(at(Some(span), Some("check.ignore.reason"), format!("is empty: say why {:?} is left out", i.field)));
        }
        ignore.push(Ignore { field: i.field, reason: i.reason });
    }

    let timeout = match raw.timeout_secs {
        Some(t) if *t.get_ref() == 0 => return Err(at(Some(t.span()), Some("timeout_secs"), "must be at least 1".to_owned())),
        Some(t) => Duration::from_secs(*t.get_ref()),
        None => Duration::from_secs(30),
    };
    let max_bytes = raw.max_bytes.map_or(256 * 1024 * 1024, |m| *m.get_ref());

    Ok(Manifest {
        file: file.to_owned(),
        name: raw.name.unwrap_or_else(|| id.clone()),
        id,
        kind: raw.kind,
        endpoints,
        mapping: mapping.map(|(_, p)| p),
        construct,
        paging,
        record: RecordIds {
            id: match record.id {
                None => Vec::new(),
                Some(OneOrMany::One(p)) => vec![p],
                Some(OneOrMany::Many(p)) => p,
            },
            url: record.url,
        },
        timeout,
        max_bytes,
        max_harvest_bytes: raw.max_harvest_bytes.map_or(4 * 1024 * 1024 * 1024, |m| *m.get_ref()),
        delimiter,
        auth: match raw.auth {
            None => None,
            Some(a) => {
                let span = a.span();
                let a = a.into_inner();
                let secret = match (a.secret_env, a.secret_file) {
                    (Some(var), None) => Secret::Env(var),
                    (None, Some(file)) => Secret::File(base.join(file)),
                    _ => {
                        return Err(at(
                            Some(span),
                            Some("auth"),
                            "name the secret with exactly one of secret_env (an environment variable) or secret_file (a file); the secret itself never goes in the manifest".to_owned(),
                        ));
                    }
                };
                Some(match a.kind {
                    AuthKind::ApiKey => Auth::ApiKey { header: a.header.unwrap_or_else(|| "X-API-Key".to_owned()), secret },
                    AuthKind::Basic => Auth::Basic {
                        username: a.username.ok_or_else(|| at(Some(span.clone()), Some("auth.username"), "basic authentication needs a username".to_owned()))?,
                        secret,
                    },
                })
            }
        },
        query,
        ignore,
        schedule: match raw.schedule {
            None => None,
            Some(s) => Some(parse_interval(s.get_ref()).map_err(|m| at(Some(s.span()), Some("schedule"), m))?),
        },
        retries: match raw.retries {
            Some(r) if *r.get_ref() > 10 => return Err(at(Some(r.span()), Some("retries"), "at most 10; a partner that fails more is down".to_owned())),
            Some(r) => *r.get_ref(),
            None => 2,
        },
    })
}

fn location(endpoint: &str, base: &Path) -> Result<Location, String> {
    if endpoint.contains("://") {
        let url = Url::parse(endpoint).map_err(|e| format!("{endpoint:?} is not a valid URL: {e}"))?;
        match url.scheme() {
            "http" | "https" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(format!("{endpoint:?} has no host"));
                }
                Ok(Location::Http(url))
            }
            "file" => url.to_file_path().map(Location::File).map_err(|()| format!("{endpoint:?} is not a usable file URL")),
            other => Err(format!("{endpoint:?}: scheme {other:?} is not supported; use http, https or a file path")),
        }
    } else {
        Ok(Location::File(base.join(endpoint)))
    }
}

/// An interval such as "30m", "6h" or "1d" (units s, m, h, d).
fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not an interval: write a number and a unit, e.g. \"6h\" (s, m, h or d)"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?} is not an interval: the unit must be s, m, h or d")),
    };
    if seconds == 0 {
        return Err("the interval must be longer than zero".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
    (line, column)
}

/// Loads every `*.toml` in `dir`, sorted by file name. All problems are returned, not only the
/// first; two manifests with the same id are a problem too.
pub fn load_manifests(dir: &Path) -> Result<Vec<Manifest>, Vec<ManifestError>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return Err(vec![ManifestError {
                file: dir.to_owned(),
                line: 0,
                column: 0,
                field: None,
                message: format!("cannot read the manifest folder: {e}"),
            }]);
        }
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
                    errors.push(ManifestError {
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

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
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

    #[test]
    fn schedules_are_intervals() {
        let m = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\nschedule = \"6h\"\n").unwrap();
        assert_eq!(m.schedule, Some(Duration::from_secs(6 * 3600)));
        let err = parse("id = \"x\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\nschedule = \"weekly\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (4, Some("schedule")), "{err}");
    }

    #[test]
    fn bad_source_id() {
        let err = parse("id = \"Bad Id\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (1, Some("id")), "{err}");
    }
}
