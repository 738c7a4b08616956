//! SPARQL text a partner writes, and the answers a SPARQL endpoint sends back: what a query is
//! (CONSTRUCT or SELECT, ordered, already sliced), and SELECT results as rows for the RML engine.
//! No HTTP here: the connectors send the queries.

use oxigraph::sparql::results::{QueryResultsFormat, QueryResultsParser, SliceQueryResultsParserOutput};
use serde_json::{Map, Value};
use spargebra::algebra::GraphPattern;
use spargebra::{Query, SparqlParser};

use oxigraph::model::Term;

/// The query forms a harvest can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryForm {
    /// Gives RDF.
    Construct,
    /// Gives rows, mapped with RML.
    Select,
}

/// What matters about a query before it is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryShape {
    pub form: QueryForm,
    /// The query has a top-level ORDER BY, so LIMIT/OFFSET pages are stable.
    pub ordered: bool,
    /// The query has a LIMIT or OFFSET of its own.
    pub sliced: bool,
}

/// Parses a query and says what it is. ASK and DESCRIBE are refused: an ASK gives no data and a
/// DESCRIBE's answer is up to the endpoint.
pub fn query_shape(query: &str) -> Result<QueryShape, crate::SourceError> {
    let parsed = SparqlParser::new().parse_query(query).map_err(|e| format!("not a valid SPARQL query: {e}"))?;
    let (form, pattern) = match &parsed {
        Query::Construct { pattern, .. } => (QueryForm::Construct, pattern),
        Query::Select { pattern, .. } => (QueryForm::Select, pattern),
        Query::Ask { .. } => return Err("an ASK query gives no data: write a CONSTRUCT or a SELECT".to_owned().into()),
        Query::Describe { .. } => {
            return Err("a DESCRIBE query's answer is up to the endpoint: write a CONSTRUCT or a SELECT".to_owned().into());
        }
    };
    // The solution modifiers wrap the pattern in this order, outermost first; each at most once
    // (a sub-select below is a pattern of its own, whose ORDER BY does not order the answer).
    let mut p = pattern;
    let sliced = matches!(p, GraphPattern::Slice { .. });
    if let GraphPattern::Slice { inner, .. } = p {
        p = inner;
    }
    if let GraphPattern::Distinct { inner } | GraphPattern::Reduced { inner } = p {
        p = inner;
    }
    if let GraphPattern::Project { inner, .. } = p {
        p = inner;
    }
    Ok(QueryShape { form, ordered: matches!(p, GraphPattern::OrderBy { .. }), sliced })
}

/// Checks that a query can be harvested (paged with LIMIT/OFFSET when `paged`) and says its form.
pub fn harvestable(query: &str, paged: bool) -> Result<QueryForm, crate::SourceError> {
    let shape = query_shape(query)?;
    if paged {
        if shape.sliced {
            return Err("the query has a LIMIT or OFFSET of its own; musubi appends them page by page (paging.page_size): \
                        remove them, or set paging.style = \"none\" to send the query whole"
                .to_owned()
                .into());
        }
        if !shape.ordered {
            return Err("the query has no ORDER BY: without one an endpoint may order the solutions differently on each page, \
                        so pages overlap or miss records; add one (e.g. ORDER BY ?dataset), or set paging.style = \"none\" \
                        to send the query whole"
                .to_owned()
                .into());
        }
        query_shape(&paged_query(query, 1, 0))
            .map_err(|e| format!("cannot page the query by appending LIMIT and OFFSET (does it end with a VALUES clause?): {e}"))?;
    }
    Ok(shape.form)
}

/// The query with one page's LIMIT and OFFSET (on new lines, so a trailing comment ends first).
pub fn paged_query(query: &str, limit: usize, offset: usize) -> String {
    format!("{query}\nLIMIT {limit}\nOFFSET {offset}\n")
}

/// Reads SELECT results (JSON, XML, TSV or CSV, by media type; JSON when unknown) into what the
/// RML engine reads: an array with one object per solution, variable → value as text (the IRI,
/// the literal's lexical form, or the blank node's label). Unbound variables and empty values
/// are left out, so a query that wants a literal's language selects it,
/// `(LANG(?title) AS ?titleLang)`, and a title without one gets no language tag.
pub fn select_rows(bytes: &[u8], media_type: Option<&str>) -> Result<Value, crate::SourceError> {
    let format = media_type.and_then(QueryResultsFormat::from_media_type).unwrap_or(QueryResultsFormat::Json);
    let solutions = match QueryResultsParser::from_format(format).for_slice(bytes).map_err(|e| e.to_string())? {
        SliceQueryResultsParserOutput::Solutions(s) => s,
        SliceQueryResultsParserOutput::Boolean(_) => return Err("a boolean (ASK) answer, not SELECT results".to_owned().into()),
    };
    let mut rows = Vec::new();
    for solution in solutions {
        let solution = solution.map_err(|e| format!("solution #{}: {e}", rows.len()))?;
        let row: Map<String, Value> = solution
            .iter()
            .filter(|(_, term)| !matches!(term, Term::Literal(l) if l.value().is_empty()))
            .map(|(variable, term)| {
                let text = match term {
                    Term::NamedNode(n) => n.as_str().to_owned(),
                    Term::BlankNode(b) => b.as_str().to_owned(),
                    Term::Literal(l) => l.value().to_owned(),
                    #[allow(unreachable_patterns)]
                    other => other.to_string(),
                };
                (variable.as_str().to_owned(), Value::String(text))
            })
            .collect();
        rows.push(Value::Object(row));
    }
    Ok(Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DCAT: &str = "PREFIX dcat: <http://www.w3.org/ns/dcat#>\n";

    #[test]
    fn shapes() {
        let s = query_shape(&format!("{DCAT}CONSTRUCT {{ ?d a dcat:Dataset }} WHERE {{ ?d a dcat:Dataset }} ORDER BY ?d")).unwrap();
        assert_eq!(s, QueryShape { form: QueryForm::Construct, ordered: true, sliced: false });
        let s = query_shape(&format!("{DCAT}SELECT DISTINCT ?d WHERE {{ ?d a dcat:Dataset }} ORDER BY ?d LIMIT 10")).unwrap();
        assert_eq!(s, QueryShape { form: QueryForm::Select, ordered: true, sliced: true });
        let s = query_shape(&format!("{DCAT}SELECT ?d WHERE {{ {{ SELECT ?d WHERE {{ ?d a dcat:Dataset }} ORDER BY ?d }} }}")).unwrap();
        assert!(!s.ordered, "an ORDER BY inside a sub-select does not order the answer");
        assert!(query_shape("ASK { ?s ?p ?o }").unwrap_err().0.contains("ASK"));
        let err = query_shape("SELECT ?s WHERE { ?s ?p ?o } ORDER ?s").unwrap_err();
        assert!(err.0.contains("not a valid SPARQL query") && err.0.contains("1:"), "{err}");
    }

    #[test]
    fn select_rows_are_objects_of_text() {
        let json = r#"{"head":{"vars":["d","title","n"]},"results":{"bindings":[
            {"d":{"type":"uri","value":"http://e.org/d1"},"title":{"type":"literal","value":"GoNL","xml:lang":"en"}},
            {"d":{"type":"bnode","value":"b0"},"title":{"type":"literal","value":""},"n":{"type":"literal","value":"3","datatype":"http://www.w3.org/2001/XMLSchema#integer"}}]}}"#;
        let rows = select_rows(json.as_bytes(), Some("application/sparql-results+json")).unwrap();
        assert_eq!(
            rows,
            serde_json::json!([{ "d": "http://e.org/d1", "title": "GoNL" }, { "d": "b0", "n": "3" }])
        );
        let err = select_rows(b"{\"head\": {\"vars\": [\"d\"]}, \"results\": {\"bindings\": [ <html>", None).unwrap_err();
        assert!(!err.0.is_empty());
    }
}
