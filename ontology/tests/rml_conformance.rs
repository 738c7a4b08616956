//! The RML-Core conformance suite (W3C KG-Construct, `tests/rml-core/`, JSON sources), read from
//! its own `metadata.csv`, so a new case is picked up without new code.
//!
//! Every case is run. A case passes when it produces its expected output (graph-isomorphic) or,
//! where the suite expects an error, an error. Cases listed with a reason in
//! `rml-core-left-out.txt` may fail; every other case must pass, and a listed case that passes
//! fails the test until it is taken off the list, so the list stays true.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use musubi_ontology::RdfFormat;
use musubi_ontology::mapping::Mapping;
use musubi_ontology::rdf::graph::CanonicalizationAlgorithm;
use musubi_ontology::rdf::{Dataset, Quad};
use musubi_ontology::parse_quads;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rml-core")
}

/// What happened when a case ran: its output, or the error it raised.
fn run_case(dir: &Path, mapping_file: &str, base: &str) -> Result<Vec<Quad>, String> {
    let text = std::fs::read_to_string(dir.join(mapping_file)).map_err(|e| e.to_string())?;
    let mapping = Mapping::from_turtle(&text, mapping_file).map_err(|e| e.to_string())?;
    let mapping = mapping.with_base(base).map_err(|e| e.to_string())?;
    let mut documents = HashMap::new();
    for source in mapping.sources() {
        let bytes = std::fs::read(dir.join(source)).map_err(|e| format!("{source}: {e}"))?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("{source}: {e}"))?;
        documents.insert(source.to_owned(), json);
    }
    let mut quads = Vec::new();
    mapping.map_documents(&|path| path.and_then(|p| documents.get(p)), &mut quads).map_err(|e| e.to_string())?;
    Ok(quads)
}

fn canonical(quads: impl IntoIterator<Item = Quad>) -> Dataset {
    let mut dataset: Dataset = quads.into_iter().collect();
    dataset.canonicalize(CanonicalizationAlgorithm::Unstable);
    dataset
}

#[test]
fn rml_core_conformance() {
    let left_out: BTreeMap<String, String> = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rml-core-left-out.txt"))
        .expect("left-out list")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once(char::is_whitespace).expect("ID reason");
            (id.to_owned(), reason.trim().to_owned())
        })
        .collect();

    let mut reader = csv::Reader::from_path(suite().join("metadata.csv")).expect("metadata.csv");
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (id_col, base_col, mapping_col, output_col, error_col) =
        (column("ID"), column("base_iri"), column("mapping"), column("output1"), column("error"));

    let (mut total, mut passed) = (0, 0);
    let mut unexpected = Vec::new();
    for row in reader.records() {
        let row = row.expect("row");
        let id = &row[id_col];
        let dir = suite().join(id);
        total += 1;
        let outcome = run_case(&dir, &row[mapping_col], &row[base_col]);
        let verdict = if &row[error_col] == "true" {
            match outcome {
                Err(_) => Ok(()),
                Ok(quads) => Err(format!("expected an error, produced {} quads", quads.len())),
            }
        } else {
            let bytes = std::fs::read(dir.join(&row[output_col])).expect("expected output");
            let expected: Vec<Quad> = oxigraph_quads(&bytes);
            match outcome {
                Err(e) => Err(format!("error: {e}")),
                Ok(quads) if canonical(quads.clone()) == canonical(expected.clone()) => Ok(()),
                Ok(quads) => Err(format!("produced {} quads, expected {}", quads.len(), expected.len())),
            }
        };
        match (verdict, left_out.get(id)) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(_)) => {
                passed += 1;
                unexpected.push(format!("{id} passes now: take it off rml-core-left-out.txt"));
            }
            (Err(e), None) => unexpected.push(format!("{id}: {e}")),
            (Err(_), Some(_)) => {}
        }
    }
    println!("RML-Core conformance (JSON): {passed} of {total} cases pass; {} left out with a reason", left_out.len());
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

fn oxigraph_quads(bytes: &[u8]) -> Vec<Quad> {
    parse_quads(bytes, RdfFormat::NQuads, true).expect("expected output is valid N-Quads")
}
