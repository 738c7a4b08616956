//! Reading a manifest: its TOML into [`Raw`] (spans kept, so every error points at the line and
//! column it is about), then each part checked in turn — id, endpoints, the files it names,
//! paging, what a SPARQL or XML source needs, guards, credentials, limits — into a [`Manifest`].

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use musubi_rml::sparql::QueryForm;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{
    Auth, ClientAuth, FileError, Guards, Ignore, InvalidValues, Location, Manifest, OAuth2, Paging, PagingStyle, RecordIds, Secret,
    SourceKind, DEFAULT_CONCURRENCY, DEFAULT_RATE_LIMIT, MAX_CONCURRENCY,
};

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
    #[serde(default)]
    columns: Vec<String>,
    retries: Option<Spanned<u32>>,
    auth: Option<Spanned<RawAuth>>,
    schedule: Option<Spanned<String>>,
    query: Option<Spanned<String>>,
    rate_limit: Option<Spanned<f64>>,
    concurrency: Option<Spanned<usize>>,
    check: Option<RawCheck>,
    guards: Option<RawGuards>,
}

/// `[guards]`: what a harvest must not do without being told to.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuards {
    max_shrink: Option<Spanned<f64>>,
    keep_properties: Option<bool>,
    ids: Option<bool>,
    invalid_values: Option<InvalidValues>,
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
    #[serde(rename = "oauth2-client-credentials")]
    OAuth2ClientCredentials,
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
    token_url: Option<String>,
    client_id: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    client_auth: Option<ClientAuth>,
}

#[derive(Deserialize)]
#[serde(untagged, expecting = "a string (a URL or path; for record.id a JSONPath), or a list of them")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPaging {
    style: Option<Spanned<PagingStyle>>,
    records: Option<Spanned<String>>,
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
    id: Option<Spanned<OneOrMany>>,
    url: Option<String>,
}

/// One manifest being read: where it is (relative paths resolve against its folder) and its
/// text (errors are placed in it).
struct Reading<'a> {
    file: &'a Path,
    text: &'a str,
    base: &'a Path,
}

/// A file a manifest names, and where it names it.
type Named = (Range<usize>, std::path::PathBuf);

/// Validates manifest text; `file` is where it came from (for errors and relative paths).
pub fn parse_manifest(text: &str, file: &Path) -> Result<Manifest, FileError> {
    let raw: Raw = musubi_ontology::located::parse_toml(file, text)?;
    let r = Reading { file, text, base: file.parent().unwrap_or(Path::new(".")) };
    let id = r.id(&raw.id)?;
    let endpoint_span = raw.endpoint.span();
    let endpoints = r.endpoints(raw.endpoint)?;
    let mapping = r.named_file(raw.mapping.as_ref(), "mapping", "mapping file")?;
    let query = r.query(raw.kind, raw.query.as_ref())?;
    if matches!(raw.kind, SourceKind::JsonApi | SourceKind::Csv | SourceKind::Graphql | SourceKind::Xml) && mapping.is_none() {
        return Err(r.at(None, "mapping", format!("a {} source needs an RML mapping file", raw.kind.name())));
    }
    let delimiter = r.delimiter(raw.delimiter.as_ref())?;
    let construct = raw
        .construct
        .iter()
        .map(|c| Ok(r.named_file(Some(c), "construct", "SPARQL file")?.expect("given").1))
        .collect::<Result<Vec<_>, FileError>>()?;
    let paging = r.paging(raw.kind, raw.paging)?;
    if raw.kind == SourceKind::Sparql {
        if endpoints.iter().any(|e| matches!(e, Location::File(_))) {
            return Err(r.at(Some(endpoint_span), "endpoint", "a sparql endpoint must be an http(s) URL"));
        }
        r.sparql_query(query.as_ref().expect("checked: sparql sources have a query"), mapping.as_ref(), paging.style)?;
    }
    let record = raw.record.unwrap_or_default();
    if raw.kind == SourceKind::Xml {
        r.xml(&paging, record.id.as_ref())?;
    }
    let ignore = r.ignore(raw.check)?;
    let guards = r.guards(raw.guards)?;
    r.mapping_parses(mapping.as_ref())?;
    Ok(Manifest {
        file: file.to_owned(),
        name: raw.name.unwrap_or_else(|| id.clone()),
        id,
        kind: raw.kind,
        endpoints,
        mapping: mapping.map(|(_, p)| p),
        construct,
        paging: paging.paging,
        record: RecordIds {
            id: match record.id.map(Spanned::into_inner) {
                None => Vec::new(),
                Some(OneOrMany::One(p)) => vec![p],
                Some(OneOrMany::Many(p)) => p,
            },
            url: record.url,
        },
        timeout: match raw.timeout_secs {
            Some(t) if *t.get_ref() == 0 => return Err(r.at(Some(t.span()), "timeout_secs", "must be at least 1")),
            Some(t) => Duration::from_secs(*t.get_ref()),
            None => Duration::from_secs(30),
        },
        max_bytes: raw.max_bytes.map_or(256 * 1024 * 1024, |m| *m.get_ref()),
        max_harvest_bytes: raw.max_harvest_bytes.map_or(4 * 1024 * 1024 * 1024, |m| *m.get_ref()),
        delimiter,
        columns: raw.columns,
        auth: raw.auth.map(|a| r.auth(a)).transpose()?,
        query: query.map(|(_, p)| p),
        ignore,
        guards,
        schedule: match raw.schedule {
            None => None,
            Some(s) => Some(parse_interval(s.get_ref()).map_err(|m| r.at(Some(s.span()), "schedule", m))?),
        },
        rate_limit: match raw.rate_limit {
            Some(l) if !(*l.get_ref() > 0.0 && l.get_ref().is_finite()) => {
                return Err(r.at(Some(l.span()), "rate_limit", "must be a number of requests per second above 0, e.g. 0.5 or 10"));
            }
            Some(l) => *l.get_ref(),
            None => DEFAULT_RATE_LIMIT,
        },
        concurrency: match raw.concurrency {
            Some(c) if !(1..=MAX_CONCURRENCY).contains(c.get_ref()) => {
                return Err(r.at(Some(c.span()), "concurrency", format!("must be between 1 and {MAX_CONCURRENCY}")));
            }
            Some(c) => *c.get_ref(),
            None => DEFAULT_CONCURRENCY,
        },
        retries: match raw.retries {
            Some(n) if *n.get_ref() > 10 => return Err(r.at(Some(n.span()), "retries", "at most 10; a partner that fails more is down")),
            Some(n) => *n.get_ref(),
            None => 2,
        },
    })
}

/// The paging a manifest states, and where it states its style and records.
struct PagingRead {
    paging: Paging,
    style: PagingStyle,
    records: Option<Range<usize>>,
}

impl Reading<'_> {
    fn at(&self, span: Option<Range<usize>>, field: &str, message: impl Into<String>) -> FileError {
        FileError::spanning(self.file, self.text, span, Some(field), message)
    }

    fn id(&self, id: &Spanned<String>) -> Result<String, FileError> {
        let text = id.get_ref();
        if text.is_empty() || !text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
            return Err(self.at(Some(id.span()), "id", format!("{text:?} is not a valid source id: use a-z, 0-9, '-' and '_'")));
        }
        Ok(text.clone())
    }

    fn endpoints(&self, endpoint: Spanned<OneOrMany>) -> Result<Vec<Location>, FileError> {
        let span = endpoint.span();
        let endpoints = match endpoint.into_inner() {
            OneOrMany::One(e) => vec![e],
            OneOrMany::Many(e) => e,
        };
        if endpoints.is_empty() {
            return Err(self.at(Some(span), "endpoint", "lists no endpoint"));
        }
        endpoints.iter().map(|e| location(e, self.base).map_err(|m| self.at(Some(span.clone()), "endpoint", m))).collect()
    }

    /// A file the manifest names in `field` (relative to the manifest), which must exist.
    fn named_file(&self, name: Option<&Spanned<String>>, field: &str, what: &str) -> Result<Option<Named>, FileError> {
        let Some(name) = name else { return Ok(None) };
        let path = self.base.join(name.get_ref());
        if !path.is_file() {
            return Err(self.at(Some(name.span()), field, format!("no {what} at {}", path.display())));
        }
        Ok(Some((name.span(), path)))
    }

    /// The query file a graphql or sparql source needs (and no other kind reads).
    fn query(&self, kind: SourceKind, query: Option<&Spanned<String>>) -> Result<Option<Named>, FileError> {
        let language = if kind == SourceKind::Sparql { "SPARQL" } else { "GraphQL" };
        match self.named_file(query, "query", &format!("{language} query file"))? {
            None if matches!(kind, SourceKind::Graphql | SourceKind::Sparql) => {
                Err(self.at(None, "query", format!("a {} source needs a {language} query file", kind.name())))
            }
            named => Ok(named),
        }
    }

    fn delimiter(&self, delimiter: Option<&Spanned<String>>) -> Result<Option<u8>, FileError> {
        let Some(d) = delimiter else { return Ok(None) };
        match d.get_ref().as_bytes() {
            [b] if b.is_ascii() => Ok(Some(*b)),
            _ => Err(self.at(Some(d.span()), "delimiter", format!("{:?} is not one ASCII character", d.get_ref()))),
        }
    }

    fn paging(&self, kind: SourceKind, paging: Option<RawPaging>) -> Result<PagingRead, FileError> {
        let p = paging.unwrap_or_default();
        let page_size = match p.page_size {
            Some(s) if *s.get_ref() == 0 => return Err(self.at(Some(s.span()), "paging.page_size", "must be at least 1")),
            Some(s) => *s.get_ref(),
            // A SPARQL endpoint answers a thousand solutions as readily as a hundred.
            None if kind == SourceKind::Sparql => 1000,
            None => 100,
        };
        let style = match (kind, p.style) {
            (SourceKind::Sparql, None) => PagingStyle::Offset,
            (SourceKind::Sparql, Some(s)) if matches!(s.get_ref(), PagingStyle::NextLink | PagingStyle::Cursor) => {
                return Err(self.at(
                    Some(s.span()),
                    "paging.style",
                    "a sparql source pages with LIMIT/OFFSET (\"offset\", the default) or sends its query whole (\"none\")",
                ));
            }
            (_, s) => s.map_or(PagingStyle::None, Spanned::into_inner),
        };
        let records = p.records.as_ref().map(Spanned::span);
        let paging = Paging {
            style,
            records: p.records.map(Spanned::into_inner),
            next: p.next.unwrap_or_else(|| "$.next".to_owned()),
            total: p.total,
            offset_param: p.offset_param.unwrap_or_else(|| "offset".to_owned()),
            limit_param: p.limit_param.unwrap_or_else(|| "limit".to_owned()),
            page_size,
            cursor: p.cursor.unwrap_or_else(|| "$.cursor".to_owned()),
            has_next: p.has_next,
            cursor_param: p.cursor_param.unwrap_or_else(|| "after".to_owned()),
        };
        Ok(PagingRead { paging, style, records })
    }

    /// A sparql source's query: parsed and checked now (paged: an ORDER BY, no LIMIT/OFFSET of
    /// its own), and a mapping exactly when it answers rows.
    fn sparql_query(&self, (span, path): &Named, mapping: Option<&Named>, style: PagingStyle) -> Result<(), FileError> {
        let field = |m: String| self.at(Some(span.clone()), "query", format!("{}: {m}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| field(format!("cannot read: {e}")))?;
        let form = musubi_rml::sparql::harvestable(&text, style == PagingStyle::Offset).map_err(|e| field(e.to_string()))?;
        match (form, mapping) {
            (QueryForm::Select, None) => {
                Err(self.at(None, "mapping", "a SELECT query's rows need an RML mapping (mapping = \"….rml.ttl\"); or write a CONSTRUCT"))
            }
            (QueryForm::Construct, Some((span, _))) => Err(self.at(
                Some(span.clone()),
                "mapping",
                "a CONSTRUCT answers RDF, which RML does not read: drop the mapping (post-process with construct = [\"….rq\"]), or write a SELECT",
            )),
            _ => Ok(()),
        }
    }

    /// An xml source: whole documents, and its XPaths checked now, so that a mistake is
    /// reported here rather than at the first harvest.
    fn xml(&self, paging: &PagingRead, ids: Option<&Spanned<OneOrMany>>) -> Result<(), FileError> {
        if paging.style != PagingStyle::None {
            return Err(self.at(None, "paging.style", "an xml source is read as whole documents: leave paging.style out (or \"none\") and list the documents as endpoints"));
        }
        let xpath = |span: Range<usize>, field: &str, path: &str| {
            musubi_rml::XPath::parse(path).map(drop).map_err(|e| self.at(Some(span), field, String::from(e)))
        };
        if let (Some(span), Some(records)) = (&paging.records, &paging.paging.records) {
            xpath(span.clone(), "paging.records", records)?;
        }
        if let Some(ids) = ids {
            match ids.get_ref() {
                OneOrMany::One(id) => xpath(ids.span(), "record.id", id)?,
                OneOrMany::Many(list) => list.iter().try_for_each(|id| xpath(ids.span(), "record.id", id))?,
            }
        }
        Ok(())
    }

    fn ignore(&self, check: Option<RawCheck>) -> Result<Vec<Ignore>, FileError> {
        let mut ignore = Vec::new();
        for i in check.map(|c| c.ignore).unwrap_or_default() {
            let span = i.span();
            let i = i.into_inner();
            if i.field.trim().is_empty() {
                return Err(self.at(Some(span), "check.ignore.field", "is empty: name the source field to leave out"));
            }
            if i.reason.trim().is_empty() {
                return Err(self.at(Some(span), "check.ignore.reason", format!("is empty: say why {:?} is left out", i.field)));
            }
            ignore.push(Ignore { field: i.field, reason: i.reason });
        }
        Ok(ignore)
    }

    fn guards(&self, guards: Option<RawGuards>) -> Result<Guards, FileError> {
        let defaults = Guards::default();
        let Some(g) = guards else { return Ok(defaults) };
        let max_shrink = match g.max_shrink {
            Some(m) if !(0.0..=1.0).contains(m.get_ref()) => {
                return Err(self.at(Some(m.span()), "guards.max_shrink", format!("{} is not a share between 0 and 1 (0.2: a fifth of the records)", m.get_ref())));
            }
            Some(m) => *m.get_ref(),
            None => defaults.max_shrink,
        };
        Ok(Guards {
            max_shrink,
            keep_properties: g.keep_properties.unwrap_or(defaults.keep_properties),
            ids: g.ids.unwrap_or(defaults.ids),
            invalid_values: g.invalid_values.unwrap_or(defaults.invalid_values),
        })
    }

    /// The mapping is read now, whole: every reference, template and iterator parsed, so that a
    /// broken one stops the manifest where it is loaded (serve, harvest, connector check), not a
    /// harvest hours later. Its errors point into the mapping file: line, column, term.
    fn mapping_parses(&self, mapping: Option<&Named>) -> Result<(), FileError> {
        let Some((span, path)) = mapping else { return Ok(()) };
        let text = std::fs::read_to_string(path).map_err(|e| self.at(Some(span.clone()), "mapping", format!("cannot read {}: {e}", path.display())))?;
        if let Err(e) = musubi_rml::Mapping::from_turtle(&text, &path.display().to_string()) {
            let (line, column) = e.position.unwrap_or((1, 1));
            return Err(FileError { file: path.clone(), line, column, field: None, message: e.message });
        }
        Ok(())
    }

    fn auth(&self, auth: Spanned<RawAuth>) -> Result<Auth, FileError> {
        let span = auth.span();
        let a = auth.into_inner();
        let secret = match (a.secret_env, a.secret_file) {
            (Some(var), None) => Secret::Env(var),
            (None, Some(file)) => Secret::File(self.base.join(file)),
            _ => {
                return Err(self.at(
                    Some(span),
                    "auth",
                    "name the secret with exactly one of secret_env (an environment variable) or secret_file (a file); the secret itself never goes in the manifest",
                ));
            }
        };
        let missing = |field: &str, why: &str| self.at(Some(span.clone()), field, why);
        Ok(match a.kind {
            AuthKind::ApiKey => Auth::ApiKey { header: a.header.unwrap_or_else(|| "X-API-Key".to_owned()), secret },
            AuthKind::Basic => Auth::Basic { username: a.username.ok_or_else(|| missing("auth.username", "basic authentication needs a username"))?, secret },
            AuthKind::OAuth2ClientCredentials => {
                let token_url = a.token_url.ok_or_else(|| missing("auth.token_url", "OAuth2 client credentials need the token endpoint's URL"))?;
                let token_url = match location(&token_url, self.base) {
                    Ok(Location::Http(url)) => url,
                    Ok(Location::File(_)) => return Err(missing("auth.token_url", "the token endpoint must be an http(s) URL")),
                    Err(m) => return Err(missing("auth.token_url", &m)),
                };
                Auth::OAuth2(OAuth2 {
                    token_url,
                    client_id: a.client_id.ok_or_else(|| missing("auth.client_id", "OAuth2 client credentials need a client_id"))?,
                    secret,
                    scopes: a.scopes,
                    client_auth: a.client_auth.unwrap_or_default(),
                })
            }
        })
    }
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
