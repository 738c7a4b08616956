//! `musubi-bench mapping`: the RML engine's throughput, and with `--morph-kgc` the same mapping
//! and files run by morph-kgc (PyPI), the reference RML engine in Python, in the same run.
//!
//! For each of JSON (JSONPath), CSV and XML (XPath) it writes `--records` dataset records and one
//! RML mapping (the legacy `rml:`/`rr:` vocabulary, which both engines read) whose triples maps
//! give each record a class, an IRI from a template, a title in English and Japanese, a
//! description, assay, platform, reference genome, disease, publisher, subject count
//! (`xsd:integer`) and release date (`xsd:date`). Each engine reads the files, maps them and writes
//! N-Triples to a file; the time is the whole of that (for morph-kgc the process, Python's start
//! included, which is also timed alone and said). Both outputs are parsed back and compared as
//! sets of triples: a throughput of different triples would compare nothing.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use musubi_rml::{Mapping, Record, XmlDocument};
use oxigraph::io::{RdfFormat, RdfParser, RdfSerializer};
use oxigraph::model::Triple;

use crate::Failed;

/// `musubi-bench mapping`'s options.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Records per input format.
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,
    /// Where the inputs, mappings and outputs are written.
    #[arg(long, default_value_os_t = std::env::temp_dir().join("musubi-bench-mapping"))]
    pub work: PathBuf,
    /// Runs per engine and format (the figures are the median, with min and max).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Also run morph-kgc (`python3 -m morph_kgc`; `pip install morph-kgc`) on the same files.
    #[arg(long)]
    pub morph_kgc: bool,
    /// The Python that has morph-kgc.
    #[arg(long, default_value = "python3")]
    pub python: String,
}

/// The input formats, each with its file and its logical source in RML.
#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Csv,
    Xml,
}

impl Format {
    const ALL: [Format; 3] = [Format::Json, Format::Csv, Format::Xml];

    fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Csv => "CSV",
            Format::Xml => "XML",
        }
    }

    /// The format's mapping file.
    fn mapping_file(self) -> String {
        format!("mapping-{}.ttl", self.name().to_lowercase())
    }

    fn file(self) -> &'static str {
        match self {
            Format::Json => "records.json",
            Format::Csv => "records.csv",
            Format::Xml => "records.xml",
        }
    }

    /// The logical source's formulation and iterator.
    fn logical_source(self) -> String {
        let (formulation, iterator) = match self {
            Format::Json => ("ql:JSONPath", Some("$.records[*]")),
            Format::Csv => ("ql:CSV", None),
            Format::Xml => ("ql:XPath", Some("/records/record")),
        };
        let iterator = iterator.map(|i| format!(" rml:iterator \"{i}\";")).unwrap_or_default();
        format!("[ rml:source \"{}\"; rml:referenceFormulation {formulation};{iterator} ]", self.file())
    }
}

/// Field → (predicate, datatype or language). Every format names its fields alike.
const FIELDS: &[(&str, &str, &str)] = &[
    ("title_en", "dct:title", "@en"),
    ("title_ja", "dct:title", "@ja"),
    ("description", "dct:description", "@en"),
    ("assay", "ex:assay", ""),
    ("platform", "ex:platform", ""),
    ("genome", "ex:referenceGenome", ""),
    ("disease", "ex:disease", ""),
    ("publisher", "dct:publisher", ""),
    ("subjects", "ex:subjectCount", "xsd:integer"),
    ("released", "dct:issued", "xsd:date"),
];

fn mapping(format: Format) -> String {
    let mut m = String::from(
        "@prefix rr: <http://www.w3.org/ns/r2rml#> .\n@prefix rml: <http://semweb.mmlab.be/ns/rml#> .\n@prefix ql: <http://semweb.mmlab.be/ns/ql#> .\n\
         @prefix dct: <http://purl.org/dc/terms/> .\n@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n\
         @prefix ex: <https://example.org/vocab#> .\n\n",
    );
    let _ = writeln!(m, "<#Datasets> rml:logicalSource {} ;", format.logical_source());
    m.push_str("  rr:subjectMap [ rr:template \"https://example.org/dataset/{accession}\"; rr:class dcat:Dataset ] ;\n");
    m.push_str("  rr:predicateObjectMap [ rr:predicate dct:identifier; rr:objectMap [ rml:reference \"accession\" ] ]");
    for (field, predicate, kind) in FIELDS {
        let object = match *kind {
            "" => format!("rml:reference \"{field}\""),
            k if k.starts_with('@') => format!("rml:reference \"{field}\"; rr:language \"{}\"", &k[1..]),
            datatype => format!("rml:reference \"{field}\"; rr:datatype {datatype}"),
        };
        let _ = write!(m, " ;\n  rr:predicateObjectMap [ rr:predicate {predicate}; rr:objectMap [ {object} ] ]");
    }
    m.push_str(" .\n");
    m
}

/// Record `i`'s fields, as every format writes them.
fn record(i: usize) -> Vec<(&'static str, String)> {
    const ASSAYS: [&str; 5] = ["WGS", "WES", "RNA-seq", "Methylation array", "SNP array"];
    const PLATFORMS: [&str; 4] = ["Illumina NovaSeq 6000", "Illumina HiSeq 2500", "Oxford Nanopore PromethION", "Affymetrix Axiom"];
    const DISEASES: [&str; 4] = ["lung cancer", "type 2 diabetes", "rheumatoid arthritis", "Alzheimer disease"];
    vec![
        ("accession", format!("JGAD{i:06}")),
        ("title_en", format!("Genome analysis of cohort {i} with {} & <controls>", DISEASES[i % 4])),
        ("title_ja", format!("コホート{i}のゲノム解析")),
        ("description", format!("Samples from {} participants, sequenced \"as received\"; see study {}.", 10 + i % 990, i / 3)),
        ("assay", ASSAYS[i % 5].to_owned()),
        ("platform", PLATFORMS[i % 4].to_owned()),
        ("genome", if i % 2 == 0 { "GRCh38" } else { "GRCh37" }.to_owned()),
        ("disease", DISEASES[(i / 7) % 4].to_owned()),
        ("publisher", format!("Institute {}", i % 50)),
        ("subjects", (10 + i % 990).to_string()),
        ("released", format!("20{:02}-{:02}-{:02}", 10 + i % 15, 1 + i % 12, 1 + i % 28)),
    ]
}

fn write_inputs(dir: &Path, records: usize) -> Result<(), Failed> {
    let failed = |e: std::io::Error| Failed(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let create = |name: &str| std::fs::File::create(dir.join(name)).map(|f| BufWriter::with_capacity(1 << 20, f)).map_err(failed);
    let mut json = create(Format::Json.file())?;
    let mut csv = csv::Writer::from_writer(create(Format::Csv.file())?);
    let mut xml = create(Format::Xml.file())?;
    json.write_all(b"{\"records\": [\n").map_err(failed)?;
    xml.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<records>\n").map_err(failed)?;
    let header: Vec<&str> = record(0).iter().map(|(k, _)| *k).collect();
    csv.write_record(&header).map_err(|e| Failed(e.to_string()))?;
    for i in 0..records {
        let fields = record(i);
        let object: serde_json::Map<String, serde_json::Value> = fields.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str()))).collect();
        let comma = if i + 1 < records { "," } else { "" };
        writeln!(json, "{}{comma}", serde_json::Value::Object(object)).map_err(failed)?;
        csv.write_record(fields.iter().map(|(_, v)| v.as_str())).map_err(|e| Failed(e.to_string()))?;
        let mut element = String::from("<record>");
        for (k, v) in &fields {
            let escaped = v.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let _ = write!(element, "<{k}>{escaped}</{k}>");
        }
        element.push_str("</record>\n");
        xml.write_all(element.as_bytes()).map_err(failed)?;
    }
    json.write_all(b"]}\n").map_err(failed)?;
    xml.write_all(b"</records>\n").map_err(failed)?;
    csv.flush().map_err(failed)?;
    json.flush().map_err(failed)?;
    xml.flush().map_err(failed)?;
    for format in Format::ALL {
        std::fs::write(dir.join(format.mapping_file()), mapping(format)).map_err(failed)?;
    }
    Ok(())
}

/// musubi's engine on one format: read the file, parse it, map it, write N-Triples.
fn musubi(dir: &Path, format: Format, out: &Path) -> Result<usize, Failed> {
    let failed = |e: &dyn std::fmt::Display| Failed(format!("musubi ({}): {e}", format.name()));
    let text = std::fs::read_to_string(dir.join(format.mapping_file())).map_err(|e| failed(&e))?;
    let mapping = Mapping::from_turtle(&text, "mapping").map_err(|e| failed(&e))?;
    let bytes = std::fs::read(dir.join(format.file())).map_err(|e| failed(&e))?;
    let mut quads = Vec::new();
    match format {
        Format::Json | Format::Csv => {
            let value = match format {
                Format::Json => serde_json::from_slice(&bytes).map_err(|e| failed(&e))?,
                _ => musubi_rml::csv_rows(&bytes, b',', None).map_err(|e| failed(&e.0))?,
            };
            mapping.map_documents(&|_| Some(Record::Json(&value)), &mut quads).map_err(|e| failed(&e))?;
        }
        Format::Xml => {
            let text = String::from_utf8(bytes).map_err(|e| failed(&e))?;
            let document = XmlDocument::parse(&text).map_err(|e| failed(&e))?;
            mapping.map_documents(&|_| Some(document.root()), &mut quads).map_err(|e| failed(&e))?;
        }
    }
    let file = std::fs::File::create(out).map_err(|e| failed(&e))?;
    let mut serializer = RdfSerializer::from_format(RdfFormat::NTriples).for_writer(BufWriter::with_capacity(1 << 20, file));
    for quad in &quads {
        serializer.serialize_triple(oxigraph::model::TripleRef::new(&quad.subject, &quad.predicate, &quad.object)).map_err(|e| failed(&e))?;
    }
    serializer.finish().map_err(|e| failed(&e))?.flush().map_err(|e| failed(&e))?;
    Ok(quads.len())
}

/// morph-kgc on one format, as a process in `dir` (its paths are relative).
fn morph_kgc(options: &Options, dir: &Path, format: Format, out: &Path) -> Result<(), Failed> {
    let config = dir.join(format!("morph-{}.ini", format.name().to_lowercase()));
    let ini = format!(
        "[CONFIGURATION]\noutput_file={}\noutput_format=N-TRIPLES\n\n[DataSource]\nmappings={}\n",
        out.display(),
        dir.join(format.mapping_file()).display()
    );
    std::fs::write(&config, ini).map_err(|e| Failed(format!("{}: {e}", config.display())))?;
    crate::processes::run(Command::new(&options.python).args(["-m", "morph_kgc"]).arg(&config).current_dir(dir), "morph-kgc")?;
    Ok(())
}

fn triples(path: &Path) -> Result<HashSet<Triple>, Failed> {
    let file = std::fs::File::open(path).map_err(|e| Failed(format!("{}: {e}", path.display())))?;
    RdfParser::from_format(RdfFormat::NTriples)
        .for_reader(std::io::BufReader::new(file))
        .map(|q| q.map(Triple::from).map_err(|e| Failed(format!("{}: {e}", path.display()))))
        .collect()
}

/// (min, median, max) of `runs` timings of `f`.
fn timed(runs: usize, mut f: impl FnMut() -> Result<(), Failed>) -> Result<[Duration; 3], Failed> {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok([times[0], times[times.len() / 2], times[times.len() - 1]])
}

fn rate(records: usize, t: Duration) -> f64 {
    records as f64 / t.as_secs_f64()
}

pub fn run(options: &Options) -> Result<(), Failed> {
    let dir = &options.work;
    println!(
        "musubi-bench mapping: {} records per format, {} run(s) each, work folder {}",
        options.records,
        options.runs,
        dir.display()
    );
    println!("machine: {} cores, {}", std::thread::available_parallelism().map_or(1, |n| n.get()), crate::processes::cpu_model());
    write_inputs(dir, options.records)?;
    let python_start = if options.morph_kgc {
        let version = crate::processes::run(Command::new(&options.python).args(["-c", "import morph_kgc, importlib.metadata as m; print(m.version('morph-kgc'))"]), "morph-kgc")
            .map_err(|e| Failed(format!("{e}\n(install it with `pip install morph-kgc`)")))?;
        println!("morph-kgc {} ({})", version.trim(), options.python);
        let [_, median, _] = timed(options.runs, || crate::processes::run(Command::new(&options.python).args(["-c", "import morph_kgc"]), "python").map(drop))?;
        println!("Python start and `import morph_kgc` alone: {:.2} s (included in morph-kgc's times below)", median.as_secs_f64());
        Some(median)
    } else {
        None
    };
    println!();
    println!("| input | triples | musubi records/s (min–max) | morph-kgc records/s (min–max) | morph-kgc without its start | musubi ÷ morph-kgc | same triples |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for format in Format::ALL {
        let ours = dir.join(format!("musubi-{}.nt", format.name().to_lowercase()));
        let mut count = 0;
        let [fast, median, slow] = timed(options.runs, || musubi(dir, format, &ours).map(|n| count = n))?;
        let ours_rate = format!("{:.0} ({:.0}–{:.0})", rate(options.records, median), rate(options.records, slow), rate(options.records, fast));
        let (theirs_rate, bare, ratio, same) = match python_start {
            Some(start) => {
                let theirs = dir.join(format!("morph-kgc-{}.nt", format.name().to_lowercase()));
                let [t_fast, t_median, t_slow] = timed(options.runs, || morph_kgc(options, dir, format, &theirs))?;
                let (a, b) = (triples(&ours)?, triples(&theirs)?);
                let same = if a == b { "yes".to_owned() } else { format!("no: {} only musubi's, {} only morph-kgc's", a.difference(&b).count(), b.difference(&a).count()) };
                let bare = t_median.saturating_sub(start);
                (
                    format!("{:.0} ({:.0}–{:.0})", rate(options.records, t_median), rate(options.records, t_slow), rate(options.records, t_fast)),
                    format!("{:.0}", rate(options.records, bare)),
                    format!("{:.1}× ({:.1}× without its start)", t_median.as_secs_f64() / median.as_secs_f64(), bare.as_secs_f64() / median.as_secs_f64()),
                    same,
                )
            }
            None => ("–".into(), "–".into(), "–".into(), "–".into()),
        };
        println!("| {} | {count} | {ours_rate} | {theirs_rate} | {bare} | {ratio} | {same} |", format.name());
    }
    Ok(())
}
