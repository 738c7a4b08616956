use serde_json::json;

use super::*;

const PREFIXES: &str = r#"
@prefix rml: <http://w3id.org/rml/> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"#;

fn run(mapping: &str, record: serde_json::Value) -> Vec<String> {
    let m = Mapping::from_turtle(&format!("{PREFIXES}{mapping}"), "test.rml.ttl").unwrap();
    let mut out = Vec::new();
    m.map_record(&record, &mut out).unwrap();
    let mut lines: Vec<String> = out.iter().map(|t| t.to_string()).collect();
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn references_templates_languages_and_datatypes() {
    let lines = run(
        r#"
        ex:Map rml:logicalSource [ rml:iterator "$" ] ;
          rml:subjectMap [ rml:template "http://example.org/d/{id}" ; rml:class ex:Dataset ] ;
          rml:predicateObjectMap [ rml:predicate ex:title ; rml:objectMap [ rml:reference "title.ja" ; rml:language "ja" ] ] ,
            [ rml:predicate ex:title ; rml:objectMap [ rml:reference "$.title.en" ; rml:language "en" ] ] ,
            [ rml:predicate ex:count ; rml:objectMap [ rml:reference "n" ; rml:datatype xsd:integer ] ] ,
            [ rml:predicate ex:tag ; rml:objectMap [ rml:reference "tags[*]" ] ] ,
            [ rml:predicate ex:page ; rml:objectMap [ rml:template "http://example.org/page/{name}" ] ] ,
            [ rml:predicate ex:missing ; rml:objectMap [ rml:reference "nothing" ] ] ,
            [ rml:predicate ex:kind ; rml:object "constant" ] .
        "#,
        json!({"id": "JGAD1", "title": {"ja": "題", "en": "Title"}, "n": 3, "tags": ["a", "b"], "name": "a b/c", "nothing": null}),
    );
    assert_eq!(
        lines,
        [
            r#"<http://example.org/d/JGAD1> <http://example.org/count> "3"^^<http://www.w3.org/2001/XMLSchema#integer>"#,
            r#"<http://example.org/d/JGAD1> <http://example.org/kind> "constant""#,
            r#"<http://example.org/d/JGAD1> <http://example.org/page> <http://example.org/page/a%20b%2Fc>"#,
            r#"<http://example.org/d/JGAD1> <http://example.org/tag> "a""#,
            r#"<http://example.org/d/JGAD1> <http://example.org/tag> "b""#,
            r#"<http://example.org/d/JGAD1> <http://example.org/title> "Title"@en"#,
            r#"<http://example.org/d/JGAD1> <http://example.org/title> "題"@ja"#,
            r#"<http://example.org/d/JGAD1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/Dataset>"#,
        ]
    );
}

#[test]
fn nested_iterators_and_parent_maps_with_joins() {
    let lines = run(
        r#"
        ex:Study rml:logicalSource [ rml:iterator "$" ] ;
          rml:subjectMap [ rml:template "http://example.org/s/{id}" ] ;
          rml:predicateObjectMap [ rml:predicate ex:grant ;
              rml:objectMap [ rml:parentTriplesMap ex:Grant ; rml:joinCondition [ rml:child "grants[*].id" ; rml:parent "id" ] ] ] .
        ex:Grant rml:logicalSource [ rml:iterator "$.grants[*]" ] ;
          rml:subjectMap [ rml:template "http://example.org/g/{id}" ] ;
          rml:predicateObjectMap [ rml:predicate ex:name ; rml:objectMap [ rml:reference "name" ] ] .
        "#,
        json!({"id": "hum1", "grants": [{"id": "G1", "name": "one"}, {"id": "G2", "name": "two"}]}),
    );
    assert_eq!(
        lines,
        [
            r#"<http://example.org/g/G1> <http://example.org/name> "one""#,
            r#"<http://example.org/g/G2> <http://example.org/name> "two""#,
            r#"<http://example.org/s/hum1> <http://example.org/grant> <http://example.org/g/G1>"#,
            r#"<http://example.org/s/hum1> <http://example.org/grant> <http://example.org/g/G2>"#,
        ]
    );
}

#[test]
fn legacy_namespace_is_read() {
    let lines = run(
        r#"
        @prefix rr: <http://www.w3.org/ns/r2rml#> .
        @prefix lrml: <http://semweb.mmlab.be/ns/rml#> .
        ex:M lrml:logicalSource [ lrml:iterator "$" ] ;
          rr:subjectMap [ rr:template "http://example.org/{id}" ] ;
          rr:predicateObjectMap [ rr:predicate ex:p ; rr:objectMap [ lrml:reference "v" ] ] .
        "#,
        json!({"id": "x", "v": "y"}),
    );
    assert_eq!(lines, [r#"<http://example.org/x> <http://example.org/p> "y""#]);
}

#[test]
fn mapping_errors_name_the_file_and_the_map() {
    let err = Mapping::from_turtle(
        &format!("{PREFIXES} ex:Broken rml:logicalSource [ ] ; rml:subjectMap [ rml:template \"http://e/{{id\" ] ."),
        "partner.rml.ttl",
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("partner.rml.ttl") && msg.contains("<http://example.org/Broken>") && msg.contains("unclosed"), "{msg}");
    assert_eq!(err.term.as_deref(), Some("http://e/{id"), "the template as written");
    let line = PREFIXES.matches('\n').count() + 1;
    assert!(msg.starts_with(&format!("partner.rml.ttl:{line}:")), "placed where the template stands: {msg}");

    let err = Mapping::from_turtle("not turtle at all", "x.ttl").unwrap_err();
    assert!(err.to_string().starts_with("x.ttl:1:1: not valid Turtle"), "{err}");
}

#[test]
fn a_value_that_makes_a_bad_iri_is_a_record_error() {
    let m = Mapping::from_turtle(
        &format!("{PREFIXES} ex:M rml:logicalSource [ ] ; rml:subjectMap [ rml:reference \"url\" ] ; rml:predicateObjectMap [ rml:predicate ex:p ; rml:object ex:o ] ."),
        "m.ttl",
    )
    .unwrap();
    let err = m.map_record(&json!({"url": "not an iri"}), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("\"not an iri\" is not a valid IRI"), "{err}");
}

#[test]
fn fields_no_reference_reads_are_listed() {
    let m = Mapping::from_turtle(
        &format!("{PREFIXES} ex:M rml:logicalSource [ ] ; rml:subjectMap [ rml:template \"http://e/{{id}}\" ] ;
          rml:predicateObjectMap [ rml:predicate ex:t ; rml:objectMap [ rml:reference \"tags[*].name\" ] ] ."),
        "m.ttl",
    )
    .unwrap();
    let record = json!({"id": "x", "tags": [{"name": "a", "code": 1}, {"name": "b"}], "Read Type": "paired", "gone": null});
    let unmapped: Vec<String> = m.unmapped_fields(&record).into_iter().collect();
    assert_eq!(unmapped, ["['Read Type']", "tags[*].code"]);
}

const STUDIES: &str = r#"<?xml version="1.0"?>
<STUDY_SET>
  <STUDY alias="S1" accession="JGAS1" center_name="Individual">
    <IDENTIFIERS><SECONDARY_ID>X1</SECONDARY_ID></IDENTIFIERS>
    <DESCRIPTOR><STUDY_TITLE>First</STUDY_TITLE><STUDY_TYPES><STUDY_TYPE existing_study_type="Exome"/></STUDY_TYPES></DESCRIPTOR>
    <PUBLICATIONS><PUBLICATION id="1"/><PUBLICATION id="2"/></PUBLICATIONS>
    <STUDY_ATTRIBUTES>
      <STUDY_ATTRIBUTE><TAG>NBDC Number</TAG><VALUE>hum0004</VALUE></STUDY_ATTRIBUTE>
      <STUDY_ATTRIBUTE><TAG>Principal Investigator</TAG><VALUE>Someone</VALUE></STUDY_ATTRIBUTE>
    </STUDY_ATTRIBUTES>
  </STUDY>
  <STUDY alias="S2" accession="JGAS2"><DESCRIPTOR><STUDY_TITLE>Second</STUDY_TITLE></DESCRIPTOR></STUDY>
</STUDY_SET>"#;

const STUDY_MAPPING: &str = r#"
    ex:Study rml:logicalSource [ rml:referenceFormulation rml:XPath ; rml:iterator "/STUDY_SET/STUDY" ] ;
      rml:subjectMap [ rml:template "http://example.org/s/{@accession}" ] ;
      rml:predicateObjectMap [ rml:predicate ex:title ; rml:objectMap [ rml:reference "DESCRIPTOR/STUDY_TITLE" ] ] ,
        [ rml:predicate ex:nbdc ; rml:objectMap [ rml:reference "STUDY_ATTRIBUTES/STUDY_ATTRIBUTE[TAG='NBDC Number']/VALUE" ] ] ,
        [ rml:predicate ex:cites ; rml:objectMap [ rml:parentTriplesMap ex:Publication ] ] .
    ex:Publication rml:logicalSource [ rml:referenceFormulation rml:XPath ; rml:iterator "PUBLICATIONS/PUBLICATION" ] ;
      rml:subjectMap [ rml:template "http://example.org/p/{@id}" ] ;
      rml:predicateObjectMap [ rml:predicate ex:study ; rml:objectMap [ rml:template "http://example.org/s/{../../@accession}" ] ] .
"#;

#[test]
fn xml_records_map_with_xpath_and_only_the_record_is_read() {
    let m = Mapping::from_turtle(&format!("{PREFIXES}{STUDY_MAPPING}"), "test.rml.ttl").unwrap();
    let doc = XmlDocument::parse(STUDIES).unwrap();
    let records = doc.select(&XPath::parse("/STUDY_SET/STUDY").unwrap()).unwrap();
    assert_eq!(records.len(), 2);
    let mut out = Vec::new();
    let roots = m.map_record(records[0], &mut out).unwrap();
    // The absolute iterator finds the record itself, not its sibling; the record's own entity
    // gets provenance, the publications do not.
    assert_eq!(roots.iter().map(ToString::to_string).collect::<Vec<_>>(), ["<http://example.org/s/JGAS1>"]);
    let mut lines: Vec<String> = out.iter().map(ToString::to_string).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            r#"<http://example.org/p/1> <http://example.org/study> <http://example.org/s/JGAS1>"#,
            r#"<http://example.org/p/2> <http://example.org/study> <http://example.org/s/JGAS1>"#,
            r#"<http://example.org/s/JGAS1> <http://example.org/nbdc> "hum0004""#,
            r#"<http://example.org/s/JGAS1> <http://example.org/title> "First""#,
        ]
    );
    // What no reference reads: the predicate's TAG counts as read, the other attribute's VALUE not.
    let unmapped: Vec<String> = m.unmapped_fields(records[0]).into_iter().collect();
    assert_eq!(
        unmapped,
        [
            "@alias",
            "@center_name",
            "DESCRIPTOR/STUDY_TYPES/STUDY_TYPE/@existing_study_type",
            "IDENTIFIERS/SECONDARY_ID",
            "STUDY_ATTRIBUTES/STUDY_ATTRIBUTE/VALUE",
        ]
    );
}

#[test]
fn a_jsonpath_mapping_over_an_xml_record_says_what_is_wrong() {
    let m = Mapping::from_turtle(
        &format!("{PREFIXES}ex:M rml:logicalSource [ rml:iterator \"$\" ] ; rml:subjectMap [ rml:template \"http://example.org/{{id}}\" ] ."),
        "test.rml.ttl",
    )
    .unwrap();
    let doc = XmlDocument::parse(STUDIES).unwrap();
    let err = m.map_record(doc.root(), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("rml:XPath"), "{err}");
}

#[test]
fn malformed_xml_says_line_and_column() {
    let err = XmlDocument::parse("<a>\n  <b></a>").unwrap_err();
    assert_eq!((err.line, err.column), (2, 6), "{err}");
    assert!(err.message.contains("expected 'b' tag"), "{err}");
    // A document that breaks off is named where it ends.
    let err = XmlDocument::parse("<a>\n  <b>te").unwrap_err();
    assert_eq!((err.line, err.column), (2, 8), "{err}");
}

#[test]
fn header_less_csv_rows_take_the_named_columns_and_refuse_rows_of_another_width() {
    let columns = ["jga_study".to_owned(), "nbdc_human_db".to_owned()];
    let rows = csv_rows(b"JGAS000001\thum0004\nJGAS000004\thum0006\n", b'\t', Some(&columns)).unwrap();
    assert_eq!(rows, json!([{ "jga_study": "JGAS000001", "nbdc_human_db": "hum0004" }, { "jga_study": "JGAS000004", "nbdc_human_db": "hum0006" }]));
    // A wider first row would otherwise lose its last cell without a word.
    let err = csv_rows(b"JGAS000001\thum0004\textra\n", b'\t', Some(&columns)).unwrap_err();
    assert!(err.0.contains("row 1") && err.0.contains("3 cells") && err.0.contains("2 columns"), "{err}");
}

/// Triples maps that name a file map only the records of that file; others map every record.
#[test]
fn a_map_that_names_its_file_reads_only_that_file() {
    let m = Mapping::from_turtle(
        &format!(
            "{PREFIXES}ex:A rml:logicalSource [ rml:source [ a rml:RelativePathSource ; rml:path \"a.csv\" ] ; rml:referenceFormulation rml:CSV ] ;
               rml:subjectMap [ rml:template \"http://example.org/a/{{id}}\" ] .
             ex:Any rml:logicalSource [ rml:referenceFormulation rml:CSV ] ;
               rml:subjectMap [ rml:template \"http://example.org/any/{{id}}\" ] ."
        ),
        "test.rml.ttl",
    )
    .unwrap();
    let row = json!({ "id": "1" });
    let subjects = |document: &str| -> Vec<String> {
        m.map_record_in(&row, Some(document), &mut Vec::new()).unwrap().iter().map(ToString::to_string).collect()
    };
    assert_eq!(subjects("https://partner.example/files/a.csv"), ["<http://example.org/a/1>", "<http://example.org/any/1>"]);
    assert_eq!(subjects("file:///data/b.csv"), ["<http://example.org/any/1>"]);
}

/// Two CSV mistakes a partner makes, each named for what it is: a quote never closed (it read as
/// a short row, "found record with 1 fields"), and a file in Shift_JIS (it read as "invalid
/// UTF-8" with no hint).
#[test]
fn an_unclosed_quote_and_a_shift_jis_file_are_named() {
    let err = csv_rows(b"id,title\nJGAD1,\"Exomes\nJGAD2,Genomes\n", b',', None).unwrap_err();
    assert!(err.0.contains("a quoted cell opened on line 2 is never closed"), "{err}");
    // "肺がん" in Shift_JIS.
    let shift_jis = [b"id,title\nJGAD1,".as_slice(), &[0x94, 0x78, 0x82, 0xaa, 0x82, 0xf1], b"\n"].concat();
    let err = csv_rows(&shift_jis, b',', None).unwrap_err();
    assert!(err.0.contains("not UTF-8 (line 2, byte 15)") && err.0.contains("Shift_JIS"), "{err}");
    assert!(csv_rows("id,title\nJGAD1,\"肺がん, \"\"quoted\"\"\"\n".as_bytes(), b',', None).is_ok(), "quotes closed and doubled read fine");
}

/// A reference that finds no value is said only where its triples map iterated something: a map
/// for records this source does not have (studies, in an export of datasets) is no misspelling.
#[test]
fn references_of_a_map_that_iterates_nothing_are_not_unmatched() {
    let m = Mapping::from_turtle(
        &format!(
            "{PREFIXES}{}",
            r#"
        ex:Dataset rml:logicalSource [ rml:iterator "$" ] ;
          rml:subjectMap [ rml:template "http://example.org/d/{id}" ] ;
          rml:predicateObjectMap [ rml:predicate ex:title ; rml:objectMap [ rml:reference "TITEL" ] ] ,
            [ rml:predicate ex:size ; rml:objectMap [ rml:reference "size" ] ] .
        ex:Study rml:logicalSource [ rml:iterator "$.studies[*]" ] ;
          rml:subjectMap [ rml:template "http://example.org/s/{accession}" ] ;
          rml:predicateObjectMap [ rml:predicate ex:title ; rml:objectMap [ rml:reference "DESCRIPTOR.TITLE" ] ] .
        "#
        ),
        "test.rml.ttl",
    )
    .unwrap();
    let mut pending = m.references();
    let dataset = json!({"id": "JGAD1", "TITLE": "t", "size": 3});
    m.matched_references(&dataset, None, &mut pending);
    let unmatched: Vec<&String> = pending.references().collect();
    assert_eq!(unmatched, ["<http://example.org/Dataset> $.TITEL"], "the misspelt one only");
    assert!(!pending.is_empty(), "later records are still looked at");
    // A later record with a study: its map's references count from then on.
    m.matched_references(&json!({"id": "JGAD2", "studies": [{"accession": "S1", "DESCRIPTION": {"TITLE": "x"}}]}), None, &mut pending);
    let unmatched: Vec<&String> = pending.references().collect();
    assert_eq!(unmatched, ["<http://example.org/Dataset> $.TITEL", "<http://example.org/Study> $.DESCRIPTOR.TITLE"]);
}
