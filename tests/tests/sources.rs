//! The shipped mappings, one source family each: a partner on loopback serves the real fixture
//! files, the hub harvests them with the shipped mapping, and what a user looks for arrives
//! through GraphQL. Expected values are read from the fixture files where they are not obvious.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use musubi_connectors::source_graph;
use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_ontology::rdf::{Term, Triple};
use musubi_store::{EmbeddedStore, GraphStore};
use musubi_ontology::vocab::Vocabulary;
use musubi_tests::{Partner, file_source_manifests, graphql, jga_manifests, json_records, manifests, write_manifests};
use serde_json::Value;

/// A hub over an in-memory store that has harvested the given manifests.
async fn hub(manifests: &[(&str, String)]) -> (SocketAddr, tempfile::TempDir) {
    let (addr, dir, _) = hub_and_store(manifests).await;
    (addr, dir)
}

/// [`hub`], and its store, to look at what is not (yet) shown through GraphQL.
async fn hub_and_store(manifests: &[(&str, String)]) -> (SocketAddr, tempfile::TempDir, Arc<EmbeddedStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = write_manifests(&dir.path().join("sources"), manifests);
    let manifests = load_manifests(&sources).expect("manifests are valid");
    let store = Arc::new(EmbeddedStore::in_memory());
    let app = App::new(Parts::new(store.clone(), manifests, Vocabulary::builtin())).expect("hub starts");
    support::harvest_all(&app).await;
    let addr = support::serve(app).await;
    (addr, dir, store)
}

/// The values of `property` in a source's graph, as text.
fn values(graph: &[Triple], property: &str) -> Vec<String> {
    let mut v: Vec<String> = graph
        .iter()
        .filter(|t| t.predicate.as_str() == property)
        .map(|t| match &t.object {
            Term::Literal(l) => l.value().to_owned(),
            Term::NamedNode(n) => n.as_str().to_owned(),
            other => other.to_string(),
        })
        .collect();
    v.sort();
    v
}

fn data(response: &Value) -> &Value {
    assert!(response.get("errors").is_none(), "unexpected errors: {response}");
    &response["data"]
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array().expect("a list").iter().map(|t| t["value"].as_str().expect("text").to_owned()).collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().expect("a list").iter().map(|s| s.as_str().expect("string")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nbdc_molecular_data_and_participants_arrive() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let (addr, _dir) = hub(&manifests(&humandbs, &dcat)).await;

    let answer = graphql(
        addr,
        r#"{ dataset(id: "JGAD000002") {
            assays platforms platformVendors libraryKits
            readTypes { value lang } readLengths(lang: "en") { value } dataVolume(lang: "en") { value } dataVolumeGb
            experimentalMethod(lang: "en") { value } platformDescription(lang: "en") { value }
            libraryConstruction(lang: "ja") { value } fragmentation(lang: "ja") { value }
            sampleDescription(lang: "ja") { value } participants(lang: "ja") { value }
            experimentTitles(lang: "en") { value }
            tissues healthStatuses tumorStatuses subjectCount subjectCountType
            diseases { label icd10 }
            submitters versionReleaseDate releaseDate
        } }"#,
    )
    .await;
    let d = &data(&answer)["dataset"];
    assert_eq!(strings(&d["assays"]), ["WGS"]);
    assert_eq!(strings(&d["platforms"]), ["HiSeq 2000"]);
    assert_eq!(strings(&d["platformVendors"]), ["Illumina"]);
    assert_eq!(strings(&d["libraryKits"]), ["TruSeq DNA Sample Prep Kit v2"]);
    let read_types = texts(&d["readTypes"]);
    assert!(read_types.contains(&"Paired-end".to_owned()) && read_types.contains(&"paired-end".to_owned()), "{read_types:?}");
    assert_eq!(texts(&d["readLengths"]), ["100 bp"]);
    assert_eq!(texts(&d["dataVolume"]), ["149 GB(1,627,990,590 reads)"]);
    assert_eq!(d["dataVolumeGb"], 149.0);
    assert_eq!(texts(&d["experimentalMethod"]), ["WGS"]);
    assert_eq!(texts(&d["platformDescription"]), ["Illumina [HiSeq 2000]"]);
    assert_eq!(texts(&d["libraryConstruction"]), ["TrueSeq DNA Sample Prep Kit v2, Set A"]);
    assert_eq!(texts(&d["fragmentation"]), ["超音波断片化(Covaris E220)"]);
    assert_eq!(texts(&d["sampleDescription"]), ["末梢血から抽出したDNA"]);
    assert_eq!(texts(&d["participants"]), ["SCA31患者: 1症例"]);
    assert_eq!(texts(&d["experimentTitles"]), ["JGAS000002"]);
    assert_eq!(strings(&d["tissues"]), ["peripheral blood"]);
    assert_eq!(strings(&d["healthStatuses"]), ["affected"]);
    assert_eq!(strings(&d["tumorStatuses"]), ["normal"]);
    assert_eq!((d["subjectCount"].as_i64(), d["subjectCountType"].as_str()), (Some(1), Some("individual")));
    assert_eq!(d["diseases"][0]["label"], "Early-onset cerebellar ataxia");
    assert_eq!(d["diseases"][0]["icd10"], "G111");
    assert_eq!(strings(&d["submitters"]), ["Individual"]);
    assert_eq!((d["versionReleaseDate"].as_str(), d["releaseDate"].as_str()), (Some("2013-12-01"), Some("2020-09-28")));

    // The DRA record: its submitting laboratory and submission date come from the archive record.
    let answer = graphql(addr, r#"{ dataset(id: "DRA000908") { submitters submissionDate } }"#).await;
    let d = &data(&answer)["dataset"];
    assert!(strings(&d["submitters"]).contains(&"Division of Human Genetics, National Institute of Genetics"), "{d}");
    assert_eq!(d["submissionDate"], "2013-01-10T17:52:16.303+09:00");

    // Data records name one subject's or sample's files: CONTROLLED, so an anonymous caller gets
    // null and a FORBIDDEN error naming the tier, while the public fields are served.
    let answer = graphql(addr, r#"{ dataset(id: "JGAD000001") { accession dataRecords } }"#).await;
    assert_eq!(answer["data"]["dataset"]["accession"], "JGAD000001");
    assert_eq!(answer["data"]["dataset"]["dataRecords"], Value::Null);
    assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN", "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["requiredTier"], "CONTROLLED", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nbdc_approved_uses_projects_and_publication_datasets_arrive() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let (addr, _dir) = hub(&manifests(&humandbs, &dcat)).await;
    let record = json_records("humandbs/research").into_iter().find(|r| r["humId"] == "hum0014").expect("hum0014");
    let users = record["controlledAccessUser"].as_array().expect("users");

    let answer = graphql(
        addr,
        r#"{ study(id: "hum0014") {
            projectNames(lang: "en") { value } relatedPages
            approvedUses { user { name(lang: "en") { value } organization { name(lang: "en") { value } } } startDate endDate datasetAccessions }
            publications { doi datasetAccessions }
        } }"#,
    )
    .await;
    let s = &data(&answer)["study"];
    assert_eq!(texts(&s["projectNames"]), ["Tailor-made Medical Treatment Program (Bio Bank Japan: BBJ)"]);
    assert!(strings(&s["relatedPages"]).contains(&"https://biobankjp.org/en"), "{s}");

    // Every approved use arrives, with its user, organisation, period and datasets.
    let uses = s["approvedUses"].as_array().expect("uses");
    let first = &users[0];
    let found = uses
        .iter()
        .find(|u| u["user"]["name"][0]["value"] == first["name"]["en"]["text"] && u["startDate"] == first["periodOfDataUse"]["startDate"])
        .unwrap_or_else(|| panic!("no approved use for {}", first["name"]["en"]["text"]));
    assert_eq!(found["endDate"], first["periodOfDataUse"]["endDate"]);
    assert_eq!(found["user"]["organization"]["name"][0]["value"], first["organization"]["name"]["en"]["text"]);
    assert_eq!(found["datasetAccessions"].as_array().map(Vec::len), first["datasetIds"].as_array().map(Vec::len));
    let distinct: std::collections::BTreeSet<(String, String)> =
        users.iter().map(|u| (u["name"]["en"]["text"].to_string(), u["periodOfDataUse"]["startDate"].to_string())).collect();
    assert_eq!(uses.len(), distinct.len());

    let publication = s["publications"].as_array().expect("publications").iter().find(|p| p["doi"] == "10.1038/ejhg.2014.110").expect("the PLCL2 paper");
    assert_eq!(strings(&publication["datasetAccessions"]), ["hum0014.v1.freq.v1", "hum0014.v3.T2DM-1.v1", "hum0014.v3.T2DM-2.v1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthdcat_ap_health_terms_arrive() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let (addr, _dir) = hub(&manifests(&humandbs, &dcat)).await;

    let answer = graphql(
        addr,
        r#"{ dataset(id: "http://example.com/dataset/1234567890") {
            healthCategories healthThemes numberOfRecords subjectCount minTypicalAge maxTypicalAge
            populations hdab { name(lang: "en") { value } homepage } trustedDataHolder publisherNote { value }
            codingSystems codeValues { notation prefLabel { value } }
            retentionStart retentionEnd temporalStart temporalEnd
            legalBases purposes personalDataCategories applicableLegislation
            accrualPeriodicity languages themes spatialCoverage otherIdentifiers qualityCertificates provenanceStatement
            analytics { title { value } licenses rightsStatement mediaType }
        } }"#,
    )
    .await;
    let d = &data(&answer)["dataset"];
    let categories = strings(&d["healthCategories"]);
    assert!(categories.contains(&"http://example.com/ontology/resource/authority/healthcategories/PHDR"), "{categories:?}");
    assert_eq!(d["numberOfRecords"], 123_456_789);
    assert_eq!(d["subjectCount"], 7_654_321);
    assert_eq!((d["minTypicalAge"].as_i64(), d["maxTypicalAge"].as_i64()), (Some(0), Some(110)));
    assert_eq!(strings(&d["populations"]), ["This example includes a very non-descript population"]);
    assert_eq!(texts(&d["hdab"]["name"]), ["EU Health Data Access Body"]);
    assert_eq!(d["hdab"]["homepage"], "https://www.example.com/hdab");
    assert_eq!(d["trustedDataHolder"], true);
    // ICD-10 (Wikidata P1690) is among the coding systems. (The fixture's code values name IRIs
    // it does not describe, so `codeValues` has no node to show.)
    assert!(strings(&d["codingSystems"]).contains(&"http://www.wikidata.org/entity/P1690"), "{d}");
    assert_eq!((d["retentionStart"].as_str(), d["retentionEnd"].as_str()), (Some("2020-03-01"), Some("2034-12-31")));
    assert_eq!((d["temporalStart"].as_str(), d["temporalEnd"].as_str()), (Some("2020-03-01"), Some("2024-12-31")));
    assert_eq!(strings(&d["legalBases"]), ["https://w3id.org/dpv#Consent"]);
    assert_eq!(strings(&d["purposes"]), ["https://w3id.org/dpv#AcademicResearch"]);
    assert_eq!(strings(&d["personalDataCategories"]).len(), 3);
    assert_eq!(strings(&d["applicableLegislation"]), ["http://data.europa.eu/eli/reg/2022/868/oj"]);
    assert_eq!(strings(&d["accrualPeriodicity"]), ["http://publications.europa.eu/resource/authority/frequency/DAILY"]);
    assert_eq!(strings(&d["themes"]), ["http://publications.europa.eu/resource/authority/data-theme/HEAL"]);
    assert_eq!(strings(&d["spatialCoverage"]), ["http://publications.europa.eu/resource/authority/country/BEL"]);
    assert_eq!(strings(&d["qualityCertificates"]), ["https://certificates.theodi.org/en/datasets/393/certificate"]);
    assert_eq!(strings(&d["provenanceStatement"]), ["This example dataset is partly sourced from TEHDAS2"]);
    let analytics = &d["analytics"][0];
    assert_eq!(strings(&analytics["licenses"]), ["http://publications.europa.eu/resource/authority/licence/CC_BYNCND_3_0"]);
    assert_eq!(analytics["mediaType"], "http://www.iana.org/assignments/media-types/text/csv");
    assert_eq!(strings(&analytics["rightsStatement"]).len(), 3);

    // The HDAB's e-mail is an address: REGISTERED, so an anonymous caller is refused it.
    let answer = graphql(addr, r#"{ dataset(id: "http://example.com/dataset/1234567890") { hdab { email } } }"#).await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN", "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["requiredTier"], "REGISTERED", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ega_dataset_policy_and_committee_arrive() {
    let partner = Partner::start().await;
    let (addr, _dir, store) = hub_and_store(&file_source_manifests(&partner)).await;

    // The dataset has no accession yet (a submission example): it is known by its alias.
    let answer = graphql(
        addr,
        r#"{ dataset(id: "my-cancer-dataset_231") {
            title { value } description { value } type { value } submitters submissionAccessions attributes { label value }
        } }"#,
    )
    .await;
    let d = &data(&answer)["dataset"];
    assert_eq!(texts(&d["title"]), ["EBI test case-control dataset for cancer"]);
    assert!(texts(&d["description"])[0].starts_with("EBI genome-wide case-control association dataset for Hypertension"), "{d}");
    assert_eq!(texts(&d["type"]), ["phenotype information"]);
    assert_eq!(strings(&d["submitters"]), ["EBI-TEST"]);
    assert_eq!(strings(&d["submissionAccessions"]), ["EGAB00002045411"]);
    assert_eq!(d["attributes"][0]["label"], "Associated project ID");
    assert_eq!(d["attributes"][0]["value"], "X33981-DGH");
    // Its runs and analyses (one sample's files each) are CONTROLLED.
    let answer = graphql(addr, r#"{ dataset(id: "my-cancer-dataset_231") { dataRecords } }"#).await;
    assert_eq!(answer["errors"][0]["extensions"]["requiredTier"], "CONTROLLED", "{answer}");
    let graph = store.graph(source_graph("ega-datasets").as_ref()).expect("graph");
    assert_eq!(values(&graph, "https://w3id.org/musubi/vocab#dataRecord"), ["EGAR00002043412", "EGAR00004343122", "EGAZ00004343122"]);

    // The policy: its text, its DUO codes as DUO IRIs (ega.rq), the datasets it governs.
    let policy = store.graph(source_graph("ega-policies").as_ref()).expect("graph");
    assert_eq!(
        values(&policy, "https://w3id.org/musubi/vocab#dataUseCondition"),
        ["http://purl.obolibrary.org/obo/DUO_0000028", "http://purl.obolibrary.org/obo/DUO_0000032", "http://purl.obolibrary.org/obo/DUO_0000046"]
    );
    assert_eq!(values(&policy, "https://w3id.org/musubi/vocab#datasetAccession"), ["EGAD00002043982", "EGAD00004543981"]);
    assert_eq!(
        values(&policy, "https://w3id.org/musubi/vocab#policyText"),
        ["The data is fully available upon request with the data-access committee of this study."]
    );

    // The committee: accession, the same committee elsewhere, its contacts and their institutions.
    let dac = store.graph(source_graph("ega-dacs").as_ref()).expect("graph");
    assert_eq!(values(&dac, "http://purl.org/dc/terms/identifier"), ["EGAC00000000001"]);
    assert_eq!(values(&dac, "http://www.w3.org/2002/07/owl#sameAs"), ["EGAC00002344532"]);
    assert_eq!(values(&dac, "http://www.w3.org/ns/dcat#contactPoint").len(), 3);
    assert_eq!(values(&dac, "http://xmlns.com/foaf/0.1/mbox"), ["myname2@ebi.ac.uk", "myname3@ebi.ac.uk", "myname@ebi.ac.uk"]);
    assert_eq!(values(&dac, "http://schema.org/telephone"), ["+44 7427512529"]);
    assert!(values(&dac, "http://xmlns.com/foaf/0.1/name").contains(&"European Bioinformatics Institute (EBI)".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_connect_table_arrives_with_its_columns_and_samples() {
    let partner = Partner::start().await;
    let (addr, _dir) = hub(&file_source_manifests(&partner)).await;
    let info: Value = serde_json::from_slice(
        &std::fs::read(musubi_tests::fixtures().join("data-connect/table_info_one_thousand_genomes_sample.json")).expect("fixture"),
    )
    .expect("JSON");

    let answer = graphql(
        addr,
        r#"{ dataset(id: "one_thousand_genomes_sample") {
            title { value } description { value } conformsTo
            columns { name datatype describes { value } allowedValues }
        } }"#,
    )
    .await;
    let d = &data(&answer)["dataset"];
    assert_eq!(texts(&d["title"]), ["one_thousand_genomes_sample"]);
    assert!(texts(&d["description"]).contains(&info["description"].as_str().expect("description").to_owned()), "{d}");
    assert_eq!(strings(&d["conformsTo"]), ["http://json-schema.org/draft-07/schema#"]);
    // Every column of the data model, with its type, description and allowed values.
    let columns = d["columns"].as_array().expect("columns");
    let model = info["data_model"]["properties"].as_object().expect("properties");
    assert_eq!(columns.len(), model.len());
    for (name, spec) in model {
        let column = columns.iter().find(|c| c["name"] == name.as_str()).unwrap_or_else(|| panic!("no column {name}"));
        assert_eq!(column["datatype"], spec["type"], "{name}");
        let allowed = spec["enum"].as_array().map_or(0, Vec::len);
        assert_eq!(column["allowedValues"].as_array().map(Vec::len), Some(allowed), "{name}");
    }

    // The rows name samples and their files: CONTROLLED, refused to an anonymous caller.
    let answer = graphql(addr, r#"{ dataset(id: "one_thousand_genomes_sample") { sampleAttributes downloadUrls } }"#).await;
    assert_eq!(answer["data"]["dataset"]["sampleAttributes"], Value::Null, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["requiredTier"], "CONTROLLED", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ddbj_bioproject_arrives_as_a_study() {
    let partner = Partner::start().await;
    let (addr, _dir) = hub(&file_source_manifests(&partner)).await;

    let answer = graphql(
        addr,
        r#"{ study(id: "PRJNA13193") {
            title { value } description { value } alternativeTitles type { value } methods { value }
            organisms organismNames submitters submissionDate created releaseDate relations relatedPages otherIdentifiers
            landingPages
            publications { pmid title { value } citation creators { name { value } organization { name { value } } } }
        } }"#,
    )
    .await;
    let s = &data(&answer)["study"];
    assert_eq!(texts(&s["title"]), ["cDNA sequencing projects by French-American consortium"]);
    assert!(texts(&s["description"])[0].starts_with("About 30,000 Arabidopsis thaliana ESTs"), "{s}");
    assert_eq!(strings(&s["alternativeTitles"]), ["Arabidopsis thaliana"]);
    let types = texts(&s["type"]);
    assert!(types.contains(&"eTranscriptome".to_owned()) && types.contains(&"transcriptome".to_owned()), "{types:?}");
    assert_eq!(strings(&s["organisms"]), ["http://purl.obolibrary.org/obo/NCBITaxon_3702"]);
    assert_eq!(strings(&s["organismNames"]), ["Arabidopsis thaliana"]);
    assert_eq!(strings(&s["submitters"]), ["NCBI"]);
    assert_eq!((s["submissionDate"].as_str(), s["created"].as_str()), (Some("2004-11-19"), Some("2004-11-19")));
    assert_eq!(s["releaseDate"], "2024-06-11T00:00:00Z");
    assert_eq!(strings(&s["relations"]), ["PRJNA9506"]);
    assert_eq!(strings(&s["relatedPages"]), ["http://weedsworld.arabidopsis.org.uk/Vol2ii/tutorial.fm3.html"]);
    assert_eq!(strings(&s["otherIdentifiers"]), ["13193"]);
    assert_eq!(strings(&s["landingPages"]), ["https://ddbj.nig.ac.jp/resource/bioproject/PRJNA13193"]);

    // Publications with their PubMed ids, citations and authors with their affiliations.
    let record: Value = serde_json::from_slice(
        &std::fs::read(musubi_tests::fixtures().join("ddbj/bioproject-jsonld/PRJNA13193.jsonld")).expect("fixture"),
    )
    .expect("JSON");
    let cited = record["properties"]["Project"]["Project"]["ProjectDescr"]["Publication"].as_array().expect("publications");
    let publications = s["publications"].as_array().expect("publications");
    assert_eq!(publications.len(), cited.len());
    let paper = publications.iter().find(|p| p["pmid"] == "8580968").expect("PMID 8580968");
    assert_eq!(paper["citation"], "The Plant journal : for cell and molecular biology 1996;9(1):101-24");
    let authors: Vec<String> = paper["creators"].as_array().expect("authors").iter().map(|a| a["name"][0]["value"].as_str().expect("name").to_owned()).collect();
    assert!(authors.contains(&"R Cooke".to_owned()), "{authors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jga_relation_tables_tie_datasets_to_policies_and_policies_to_committees() {
    let partner = Partner::start().await;
    let (_addr, _dir, store) = hub_and_store(&file_source_manifests(&partner)).await;
    let rows = |file: &str| -> Vec<(String, String)> {
        std::fs::read_to_string(musubi_tests::fixtures().join(file))
            .expect("fixture")
            .lines()
            .skip(1)
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                (cells[1].to_owned(), cells[2].to_owned())
            })
            .collect()
    };
    // Every row of each table arrives as a link between the two accessions it names.
    for (source, file, property, prefix) in [
        ("jga-dataset-policy", "jga/dataset-policy-relation.csv", "http://www.w3.org/ns/odrl/2/hasPolicy", "https://w3id.org/musubi/policy/"),
        ("jga-policy-dac", "jga/policy-dac-relation.csv", "https://w3id.org/musubi/vocab#dataAccessCommittee", "https://w3id.org/musubi/dac/"),
    ] {
        let graph = store.graph(source_graph(source).as_ref()).expect("graph");
        let expected = rows(file);
        assert!(!expected.is_empty());
        for (child, parent) in &expected {
            let linked = graph.iter().any(|t| {
                t.subject.to_string().ends_with(&format!("/{child}>"))
                    && t.predicate.as_str() == property
                    && t.object == Term::NamedNode(musubi_ontology::rdf::NamedNode::new_unchecked(format!("{prefix}{parent}")))
            });
            assert!(linked, "{source}: {child} -> {parent} is missing");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fair_data_point_creators_languages_themes_and_licences_arrive() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let (addr, _dir) = hub(&manifests(&humandbs, &dcat)).await;

    let answer = graphql(
        addr,
        r#"{ dataset(id: "goNlSvR5") {
            creators { iri name { value } } publishers { iri } languages themes
            distributions { title { value } version licenses mediaType }
        } }"#,
    )
    .await;
    let d = &data(&answer)["dataset"];
    // The FAIR Data Point names its creators and publishers by ORCID only: the IRIs arrive.
    let mut creators: Vec<&str> = d["creators"].as_array().expect("creators").iter().map(|c| c["iri"].as_str().expect("iri")).collect();
    creators.sort_unstable();
    assert_eq!(creators, ["http://orcid.org/0000-0002-1215-167X", "http://orcid.org/0000-0002-6816-4445"]);
    assert_eq!(d["publishers"].as_array().map(Vec::len), Some(2));
    assert_eq!(strings(&d["languages"]), ["http://id.loc.gov/vocabulary/iso639-1/en"]);
    assert_eq!(strings(&d["themes"]).len(), 2);
    // Each distribution: its version (dct:hasVersion, brought over by dcat.rq), licence and media type.
    let distributions = d["distributions"].as_array().expect("distributions");
    assert_eq!(distributions.len(), 2);
    for dist in distributions {
        assert!(dist["version"].is_string(), "{dist}");
        assert_eq!(strings(&dist["licenses"]), ["http://rdflicense.appspot.com/rdflicense/cc-by-nc-nd3.0"], "{dist}");
        assert!(dist["mediaType"].is_string(), "{dist}");
    }
}

/// The text between `open` and the next `close` in `text` (fixture reading by plain search, not
/// by the XPath engine under test).
fn between<'t>(text: &'t str, open: &str, close: &str) -> Option<&'t str> {
    let start = text.find(open)? + open.len();
    Some(&text[start..start + text[start..].find(close)?])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jga_xml_and_dates_arrive_and_merge_with_nbdc_into_one_record() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let jga = Partner::start().await;
    // Without TogoID's pairs: the JGA study's own "NBDC Number" must link it to NBDC's research.
    let mut sources: Vec<(&str, String)> =
        manifests(&humandbs, &dcat).into_iter().filter(|(name, _)| !name.starts_with("togoid")).collect();
    sources.extend(jga_manifests(&jga));
    let (addr, _dir) = hub(&sources).await;

    let xml = std::fs::read_to_string(musubi_tests::fixtures().join("jga/jga-dataset.xml")).expect("fixture");
    let dates = std::fs::read_to_string(musubi_tests::fixtures().join("jga/dataset.date.csv")).expect("fixture");
    let blocks: Vec<&str> = xml.split("<DATASET alias=").skip(1).collect();
    assert!(blocks.len() > 1);
    for block in blocks {
        let accession = between(block, "accession=\"", "\"").expect("accession");
        let title = between(block, "<TITLE>", "</TITLE>").expect("title");
        let policy = between(block, "<POLICY_REF ", "/>").and_then(|r| between(r, "accession=\"", "\"")).expect("policy");
        let published = dates.lines().find_map(|l| l.strip_prefix(&format!("{accession},"))).map(|rest| rest.split(',').nth(1).expect("datepublished"));
        let answer = graphql(
            addr,
            &format!(
                r#"{{ dataset(id: "{accession}") {{ sources title {{ value }} accessLevel policies {{ accession }}
                     claims(field: "releaseDate") {{ value source }} }} }}"#
            ),
        )
        .await;
        let d = &data(&answer)["dataset"];
        assert!(texts(&d["title"]).contains(&title.to_owned()), "{accession}: {answer}");
        assert_eq!(d["accessLevel"], "CONTROLLED", "every JGA dataset is controlled-access: {answer}");
        assert!(d["policies"].as_array().expect("policies").iter().any(|p| p["accession"] == policy), "{accession}: {answer}");
        let sources = strings(&d["sources"]);
        assert!(sources.contains(&"jga"), "{answer}");
        if let Some(published) = published {
            assert!(sources.contains(&"jga-dates"), "{answer}");
            assert!(d["claims"].as_array().expect("claims").contains(&serde_json::json!({ "value": published, "source": "jga-dates" })), "{answer}");
        }
    }

    // JGAD000001 is in NBDC and in JGA: one record, with both sources' values; NBDC says it is
    // part of hum0004, and JGA's study says it is hum0004 ("NBDC Number"): the study is JGA's.
    let nbdc = json_records("humandbs/dataset").into_iter().find(|r| r["datasetId"] == "JGAD000001").expect("NBDC record");
    let answer = graphql(
        addr,
        r#"{ dataset(id: "JGAD000001") { sources study { accession identifiers sources } } datasets(first: 100) { nodes { accession } } }"#,
    )
    .await;
    let d = &data(&answer)["dataset"];
    assert_eq!(strings(&d["sources"]), ["jga", "jga-dates", "nbdc-datasets"], "{answer}");
    assert!(nbdc["humId"].as_str().is_some_and(|h| h == "hum0004"), "the fixture's NBDC record is part of hum0004");
    assert_eq!(d["study"]["accession"], "JGAS000001", "{answer}");
    let listed: Vec<&Value> = answer["data"]["datasets"]["nodes"].as_array().expect("nodes").iter().filter(|n| n["accession"] == "JGAD000001").collect();
    assert_eq!(listed.len(), 1, "listed once: {answer}");

    // A study's principal investigator and organisation, and its PubMed papers.
    let study_xml = std::fs::read_to_string(musubi_tests::fixtures().join("jga/jga-study.xml")).expect("fixture");
    let block = study_xml.split("<STUDY alias=").find(|b| b.contains("<TAG>Principal Investigator</TAG>")).expect("a study with a PI");
    let accession = between(block, "accession=\"", "\"").expect("accession");
    let pi = between(block, "<TAG>Principal Investigator</TAG>", "</VALUE>").expect("PI").trim().trim_start_matches("<VALUE>");
    let org = between(block, "<TAG>Submitting organization</TAG>", "</VALUE>").expect("org").trim().trim_start_matches("<VALUE>");
    let pmids: Vec<&str> = block.split("<PUBLICATION id=\"").skip(1).map(|p| &p[..p.find('"').expect("id")]).collect();
    let answer = graphql(
        addr,
        &format!(r#"{{ study(id: "{accession}") {{ principalInvestigators {{ name {{ value }} organization {{ name {{ value }} }} }} publications {{ iri }} }} }}"#),
    )
    .await;
    let s = &data(&answer)["study"];
    assert_eq!(s["principalInvestigators"][0]["name"][0]["value"], pi, "{answer}");
    assert_eq!(s["principalInvestigators"][0]["organization"]["name"][0]["value"], org, "{answer}");
    let mut iris: Vec<&str> = s["publications"].as_array().expect("publications").iter().filter_map(|p| p["iri"].as_str()).collect();
    iris.sort_unstable();
    let mut wanted: Vec<String> = pmids.iter().map(|id| format!("https://pubmed.ncbi.nlm.nih.gov/{id}/")).collect();
    wanted.sort_unstable();
    assert_eq!(iris, wanted, "{answer}");
}
