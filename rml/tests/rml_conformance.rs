//! RML conformance: the RML-Core suite (`tests/rml-core/`, namespace http://w3id.org/rml/) and
//! the legacy RML test cases (`tests/rml-legacy/`, http://semweb.mmlab.be/ns/rml#), JSON, CSV
//! and XML (XPath) sources, each read from its own `metadata.csv`, so a new case is picked up
//! without new code.
//!
//! Every JSON, CSV and XML case is run (the suites' relational-database cases are out of scope). A case passes when it produces its expected output (graph-isomorphic)
//! or, where the suite expects an error, an error. Cases listed with a reason in the suite's
//! `*-left-out.txt` may fail; every other case must pass, and a listed case that passes fails the
//! test until it is taken off the list, so the list stays true.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use musubi_rml::{Mapping, Record, XmlDocument};
use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::graph::CanonicalizationAlgorithm;
use oxigraph::model::{Dataset, Quad};

/// What happened when a case ran: its output, or the error it raised.
fn run_case(dir: &Path, mapping_file: &str, base: &str) -> Result<Vec<Quad>, String> {
    let text = std::fs::read_to_string(dir.join(mapping_file)).map_err(|e| e.to_string())?;
    let mapping = Mapping::from_turtle(&text, mapping_file).map_err(|e| e.to_string())?;
    let mapping = mapping.with_base(base).map_err(|e| e.to_string())?;
    // XML documents borrow their text: read every source first, then parse.
    let mut json = HashMap::new();
    let mut xml_texts = HashMap::new();
    for source in mapping.sources() {
        let bytes = std::fs::read(dir.join(source)).map_err(|e| format!("{source}: {e}"))?;
        if source.ends_with(".csv") {
            json.insert(source.to_owned(), musubi_rml::csv_rows(&bytes, b',', None)?);
        } else if source.ends_with(".xml") {
            xml_texts.insert(source.to_owned(), String::from_utf8(bytes).map_err(|e| format!("{source}: {e}"))?);
        } else {
            json.insert(source.to_owned(), serde_json::from_slice(&bytes).map_err(|e| format!("{source}: {e}"))?);
        }
    }
    let mut xml = HashMap::new();
    for (source, text) in &xml_texts {
        xml.insert(source.as_str(), XmlDocument::parse(text).map_err(|e| format!("{source}: {e}"))?);
    }
    let documents = |path: Option<&str>| -> Option<Record<'_>> {
        let path = path?;
        json.get(path).map(Record::Json).or_else(|| xml.get(path).map(XmlDocument::root))
    };
    let mut quads = Vec::new();
    mapping.map_documents(&documents, &mut quads).map_err(|e| e.to_string())?;
    Ok(quads)
}

fn canonical(quads: impl IntoIterator<Item = Quad>) -> Dataset {
    let mut dataset: Dataset = quads.into_iter().collect();
    dataset.canonicalize(CanonicalizationAlgorithm::Unstable);
    dataset
}

/// One conformance suite: where it is and how its metadata.csv names things.
struct Suite {
    name: &'static str,
    folder: &'static str,
    left_out: &'static str,
    id: &'static str,
    error: &'static str,
    /// Column saying the input format; rows of other formats are out of scope here.
    format: Option<&'static str>,
    base: Option<&'static str>,
    default_base: &'static str,
    mapping: Option<&'static str>,
    output: Option<&'static str>,
}

/// Runs a suite; returns (passed, run, left out by the list).
fn run_suite(suite: &Suite) -> (usize, usize, usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(suite.folder);
    let left_out: BTreeMap<String, String> = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(suite.left_out))
        .expect("left-out list")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once(char::is_whitespace).expect("ID reason");
            (id.to_owned(), reason.trim().to_owned())
        })
        .collect();

    let mut reader = csv::Reader::from_path(root.join("metadata.csv")).expect("metadata.csv");
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{}: no column {name}", suite.name));
    let cell = |row: &csv::StringRecord, name: Option<&str>, default: &str| -> String {
        name.map(|n| row[column(n)].to_owned()).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
    };

    let (mut run, mut passed) = (0, 0);
    let mut unexpected = Vec::new();
    for row in reader.records() {
        let row = row.expect("row");
        if suite.format.is_some_and(|f| !["JSON", "CSV", "XML"].contains(&&row[column(f)])) {
            continue;
        }
        let id = row[column(suite.id)].to_owned();
        let dir = root.join(&id);
        run += 1;
        let outcome = run_case(&dir, &cell(&row, suite.mapping, "mapping.ttl"), &cell(&row, suite.base, suite.default_base));
        let verdict = if &row[column(suite.error)] == "true" {
            match outcome {
                Err(_) => Ok(()),
                Ok(quads) => Err(format!("expected an error, produced {} quads", quads.len())),
            }
        } else {
            let bytes = std::fs::read(dir.join(cell(&row, suite.output, "output.nq"))).expect("expected output");
            let expected: Vec<Quad> = oxigraph_quads(&bytes);
            match outcome {
                Err(e) => Err(format!("error: {e}")),
                Ok(quads) if canonical(quads.clone()) == canonical(expected.clone()) => Ok(()),
                Ok(quads) => Err(format!("produced {} quads, expected {}", quads.len(), expected.len())),
            }
        };
        match (verdict, left_out.get(&id)) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(_)) => {
                passed += 1;
                unexpected.push(format!("{id} passes now: take it off {}", suite.left_out));
            }
            (Err(e), None) => unexpected.push(format!("{id}: {e}")),
            (Err(_), Some(_)) => {}
        }
    }
    println!("{} (JSON, CSV and XML sources): {passed} of {run} cases pass; {} left out with a reason", suite.name, left_out.len());
    assert!(unexpected.is_empty(), "{}:\n{}", suite.name, unexpected.join("\n"));
    (passed, run, left_out.len())
}

#[test]
fn rml_core_conformance() {
    run_suite(&Suite {
        name: "RML-Core conformance",
        folder: "rml-core",
        left_out: "rml-core-left-out.txt",
        id: "ID",
        error: "error",
        format: None,
        base: Some("base_iri"),
        default_base: "http://example.com/",
        mapping: Some("mapping"),
        output: Some("output1"),
    });
}

#[test]
fn rml_legacy_conformance() {
    run_suite(&Suite {
        name: "RML legacy test cases",
        folder: "rml-legacy",
        left_out: "rml-legacy-left-out.txt",
        id: "RML id",
        error: "error expected?",
        format: Some("data format"),
        base: None,
        default_base: "http://example.com/base/",
        mapping: None,
        output: None,
    });
}

fn oxigraph_quads(bytes: &[u8]) -> Vec<Quad> {
    parse_quads(bytes, RdfFormat::NQuads, true).expect("expected output is valid N-Quads")
}

/// Parses an RDF document into quads, keeping their graphs. `lenient` accepts IRIs that are not
/// valid (as some of the suites' expected outputs write them).
fn parse_quads(bytes: &[u8], format: RdfFormat, lenient: bool) -> Result<Vec<Quad>, String> {
    let mut parser = RdfParser::from_format(format);
    if lenient {
        parser = parser.lenient();
    }
    parser.for_slice(bytes).map(|q| q.map_err(|e| e.to_string())).collect()
}
