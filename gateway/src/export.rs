//! Bulk export: every dataset the caller may see, as NDJSON (`/export/datasets.ndjson`) or
//! JSON-LD (`/export/datasets.jsonld`), streamed a page at a time, resumable with `?after=`.
//!
//! The export runs the `datasets` connection itself, page by page, as the caller, through
//! [`App::execute_uncached`]: the same tier guard and the same audit as any GraphQL query (a field
//! the caller may not read is absent; every CONTROLLED read is logged). Its selection is every
//! field of `Dataset` that needs no argument, read once from introspection: scalars, value
//! objects (titles with their language, agents, distributions) two levels down, and linked
//! records (study, samples) by accession. Memory is one page, whatever the total.
//!
//! Each record carries `_cursor`, the cursor after it: a client that lost the connection asks
//! again with `?after=<last _cursor it received>` and gets the rest, nothing twice.

use std::collections::{BTreeMap, HashMap};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::Principal;
use musubi_schema::limits::Internal;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::caller::Caller;

/// Datasets per internal page.
const PAGE: usize = 100;

/// The export's query parameters.
#[derive(Debug, serde::Deserialize)]
pub struct Params {
    /// Resume after this cursor (a record's `_cursor`).
    pub after: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    NdJson,
    JsonLd,
}

pub async fn ndjson(State(app): State<App>, caller: Caller, Query(params): Query<Params>) -> Response {
    export(app, caller, params, Format::NdJson).await
}

pub async fn jsonld(State(app): State<App>, caller: Caller, Query(params): Query<Params>) -> Response {
    export(app, caller, params, Format::JsonLd).await
}

async fn export(app: App, Caller { principal, affiliation }: Caller, params: Params, format: Format) -> Response {
    let query = match page_query(&app).await {
        Ok(q) => q,
        Err(message) => return failure(StatusCode::INTERNAL_SERVER_ERROR, &message, "INTERNAL_SERVER_ERROR"),
    };
    // The first page runs before the answer starts, so that a bad cursor is a 400, not a
    // truncated 200.
    let first = match fetch(&app, &query, &principal, params.after.as_deref()).await {
        Ok(page) => page,
        Err((status, message, code)) => return failure(status, &message, code),
    };
    // One export is one metered use (fees), however many pages it streams.
    app.meter(affiliation.as_ref(), musubi_platform::fees::MeteredUse::Export).await;
    let context = (format == Format::JsonLd).then(|| context(app.vocabulary()));
    let head = match &context {
        Some(context) => format!("{{\"@context\":{context},\"@graph\":[\n"),
        None => String::new(),
    };
    let state = Stream { app, query, principal, page: Some(first), wrote_any: false, format, done: false };
    let body = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(head)) })
        .chain(futures_util::stream::unfold(state, next_chunk));
    let media = match format {
        Format::NdJson => "application/x-ndjson",
        Format::JsonLd => "application/ld+json",
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, media)], Body::from_stream(body)).into_response()
}

use futures_util::StreamExt as _;

struct Stream {
    app: App,
    query: String,
    principal: Principal,
    /// The page fetched and not yet written.
    page: Option<Page>,
    wrote_any: bool,
    format: Format,
    done: bool,
}

struct Page {
    records: Vec<Value>,
    next: Option<String>,
}

/// Writes the pending page and fetches the next one; ends after the last.
async fn next_chunk(mut s: Stream) -> Option<(Result<Bytes, std::io::Error>, Stream)> {
    if s.done {
        return None;
    }
    let Some(page) = s.page.take() else {
        s.done = true;
        let tail = if s.format == Format::JsonLd { "\n]}\n" } else { "" };
        return Some((Ok(Bytes::from(tail)), s));
    };
    let mut out = Vec::with_capacity(page.records.len() * 1024);
    for record in &page.records {
        if s.format == Format::JsonLd && s.wrote_any {
            out.extend_from_slice(b",\n");
        }
        if s.format == Format::JsonLd {
            serde_json::to_writer(&mut out, &linked_data_record(record.clone())).expect("JSON values serialise");
        } else {
            serde_json::to_writer(&mut out, record).expect("JSON values serialise");
        }
        if s.format == Format::NdJson {
            out.push(b'\n');
        }
        s.wrote_any = true;
    }
    if let Some(after) = page.next {
        match fetch(&s.app, &s.query, &s.principal, Some(&after)).await {
            Ok(p) => s.page = Some(p),
            Err((_, message, _)) => {
                // Mid-stream, the status is sent: end with a line that says what failed and
                // where to resume.
                tracing::warn!(%message, "export stopped");
                let error = json!({ "_error": message, "_resumeAfter": after });
                if s.format == Format::JsonLd {
                    out.extend_from_slice(b",\n");
                }
                serde_json::to_writer(&mut out, &error).expect("JSON values serialise");
                out.push(b'\n');
                s.format = Format::NdJson;
            }
        }
    }
    Some((Ok(Bytes::from(out)), s))
}

/// One page of datasets after `after`, each record pruned of nulls, with its `_cursor` (and
/// shaped as JSON-LD when the export is).
async fn fetch(app: &App, query: &str, principal: &Principal, after: Option<&str>) -> Result<Page, (StatusCode, String, &'static str)> {
    let variables = async_graphql::Variables::from_json(json!({ "after": after, "first": PAGE.min(app.limits().page_size) }));
    let request = async_graphql::Request::new(query).variables(variables).data(Internal);
    let response = app.execute_uncached(request, principal.clone()).await.map_err(|e| {
        tracing::error!(%e, "audit log append failed; the export is withheld");
        (StatusCode::INTERNAL_SERVER_ERROR, "the audit log cannot be written; nothing was served".to_owned(), "INTERNAL_SERVER_ERROR")
    })?;
    // FORBIDDEN fields are absent, as in GraphQL; any other error stops the export.
    if let Some(e) = response.errors.iter().find(|e| code(e) != "FORBIDDEN") {
        let c = code(e);
        let (status, c) = if c == "BAD_USER_INPUT" { (StatusCode::BAD_REQUEST, "BAD_USER_INPUT") } else { (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR") };
        let message = e.message.replace("argument `after`", "parameter `after`");
        return Err((status, message, c));
    }
    let data = response.data.into_json().map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), "INTERNAL_SERVER_ERROR"))?;
    let connection = &data["datasets"];
    let next = (connection["pageInfo"]["hasNextPage"] == true).then(|| connection["pageInfo"]["endCursor"].as_str().map(str::to_owned)).flatten();
    let records = match connection["edges"].as_array() {
        Some(edges) => edges
            .iter()
            .map(|edge| {
                let mut node = prune(edge["node"].clone());
                if let Value::Object(map) = &mut node {
                    map.insert("_cursor".to_owned(), edge["cursor"].clone());
                }
                node
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Page { records, next })
}

fn code(e: &async_graphql::ServerError) -> String {
    e.extensions.as_ref().and_then(|x| x.get("code")).map(|c| c.to_string().trim_matches('"').to_owned()).unwrap_or_default()
}

/// Drops null members (fields the caller may not read, or that the record lacks).
fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, prune(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

/// A record as a JSON-LD node: typed `dcat:Dataset`, its texts as language-tagged values
/// (`{"@value", "@language"}`), its IRI as `@id` (through the context).
fn linked_data_record(record: Value) -> Value {
    match linked_data(record) {
        Value::Object(mut node) => {
            node.insert("@type".to_owned(), json!("http://www.w3.org/ns/dcat#Dataset"));
            Value::Object(node)
        }
        other => other,
    }
}

/// A value inside a record as JSON-LD: a `{value, lang}` text as `{"@value", "@language"}`.
fn linked_data(value: Value) -> Value {
    match value {
        Value::Object(map) if !map.is_empty() && map.keys().all(|k| k == "value" || k == "lang") => {
            let mut literal = Map::new();
            if let Some(v) = map.get("value") {
                literal.insert("@value".to_owned(), v.clone());
            }
            if let Some(l) = map.get("lang") {
                literal.insert("@language".to_owned(), l.clone());
            }
            Value::Object(literal)
        }
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, linked_data(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(linked_data).collect()),
        other => other,
    }
}

/// The JSON-LD context: each GraphQL field that shows a vocabulary property names that
/// property's IRI; texts are language-tagged values; the rest falls in musubi's vocabulary.
pub fn context(vocabulary: &Vocabulary) -> Value {
    let mut terms: BTreeMap<String, Value> = BTreeMap::new();
    for p in vocabulary.properties() {
        if let Some(field) = &p.graphql_field {
            terms.entry(field.clone()).or_insert_with(|| json!({ "@id": p.iri }));
        }
    }
    let mut context = Map::new();
    context.insert("@vocab".to_owned(), json!(musubi_ontology::vocab::MUSUBI));
    context.insert("iri".to_owned(), json!("@id"));
    context.insert("_cursor".to_owned(), Value::Null);
    context.insert("_error".to_owned(), Value::Null);
    context.insert("_resumeAfter".to_owned(), Value::Null);
    for (term, definition) in terms {
        context.entry(term).or_insert(definition);
    }
    Value::Object(context)
}

/// The page query with every field of `Dataset` (see the module docs), from introspection.
async fn page_query(app: &App) -> Result<String, String> {
    const INTROSPECT: &str = "{ __schema { types { name kind fields { name args { type { kind } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
    let response = app.schema().execute(async_graphql::Request::new(INTROSPECT).data(Principal::anonymous())).await;
    if let Some(e) = response.errors.first() {
        return Err(format!("cannot read the schema for the export: {}", e.message));
    }
    let data = response.data.into_json().map_err(|e| e.to_string())?;
    let mut types: HashMap<String, Vec<(String, String, bool)>> = HashMap::new();
    for t in data["__schema"]["types"].as_array().into_iter().flatten() {
        let Some(fields) = t["fields"].as_array() else { continue };
        let name = t["name"].as_str().unwrap_or_default().to_owned();
        let fields = fields
            .iter()
            .filter(|f| !f["args"].as_array().into_iter().flatten().any(|a| a["type"]["kind"] == "NON_NULL"))
            .map(|f| {
                let mut ty = &f["type"];
                while ty["name"].is_null() && !ty["ofType"].is_null() {
                    ty = &ty["ofType"];
                }
                (f["name"].as_str().unwrap_or_default().to_owned(), ty["name"].as_str().unwrap_or_default().to_owned(), ty["kind"] == "OBJECT")
            })
            .collect();
        types.insert(name, fields);
    }
    let selection = select(&types, "Dataset", 0);
    if selection.is_empty() {
        return Err("the schema has no Dataset fields to export".to_owned());
    }
    Ok(format!(
        "query Export($after: String, $first: Int) {{ datasets(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {selection} }} }} }} }}"
    ))
}

/// Records linked from another record are named by accession, not copied.
const RECORD_TYPES: [&str; 3] = ["Dataset", "Study", "Sample"];

fn select(types: &HashMap<String, Vec<(String, String, bool)>>, ty: &str, level: usize) -> String {
    let Some(fields) = types.get(ty) else { return String::new() };
    let mut out = Vec::new();
    for (name, field_type, is_object) in fields {
        if !is_object {
            out.push(name.clone());
        } else if RECORD_TYPES.contains(&field_type.as_str()) {
            out.push(format!("{name} {{ accession }}"));
        } else if level < 2 {
            let inner = select(types, field_type, level + 1);
            if !inner.is_empty() {
                out.push(format!("{name} {{ {inner} }}"));
            }
        }
    }
    out.join(" ")
}

fn failure(status: StatusCode, message: &str, code: &str) -> Response {
    crate::caller::error_response("", status, message, code)
}
