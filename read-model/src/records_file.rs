//! The merged records kept beside the views (`<data>/views/records.merged`), so that a start
//! whose views are those the records were merged from does not merge them again: merging a
//! million datasets across sources (union-find over every IRI, accession and `owl:sameAs` link)
//! was half of such a start.
//!
//! Like a view file it is a cache: it names the fingerprint of the views it was merged from (each
//! view's source and store generation, or its contents where it has none) and is not used for
//! other views, another format version, or when it does not decode; the records are then merged
//! and the file written again. It holds what merging produced and what cannot be derived without
//! reading nodes: the records (members, the IRIs no member has, policy facts), the accession maps, the records of each study and
//! the policies naming each dataset. The map from IRIs to studies is rebuilt from the records.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::Hasher;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use oxigraph::model::{BlankNode, NamedNode, NamedOrBlankNode};

use super::node::write_id;
use super::{EntityKey, Merged, MergedRecord, PolicyFacts, SourceView, ViewFileError, ViewFiles};
use crate::binary::{Reader, Writer};

const MAGIC: &[u8; 15] = b"musubi records\n";
const END: &[u8; 4] = b"end\n";
/// Raised whenever the layout or the way records are merged changes.
const VERSION: u64 = 3;

/// What identifies the views records were merged from.
pub(super) fn fingerprint(views: &BTreeMap<String, Arc<SourceView>>) -> u64 {
    // Fixed keys: the same views give the same number in every process of this build.
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write_u64(VERSION);
    for view in views.values() {
        view.fingerprint(&mut hasher);
    }
    hasher.finish()
}

impl ViewFiles {
    fn records_path(&self) -> PathBuf {
        self.dir().join("records.merged")
    }

    /// The records merged from views whose fingerprint is `fingerprint`, if the file holds them;
    /// `Ok(None)` for no file, or a file of other views or another format version.
    pub(super) fn read_records(&self, fingerprint: u64, sources: &[&str]) -> Result<Option<Merged>, ViewFileError> {
        let path = self.records_path();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ViewFileError { path: path.display().to_string(), message: e.to_string() }),
        };
        let mut input = Reader::new(BufReader::with_capacity(1 << 20, file));
        decode(&mut input, fingerprint, sources).map_err(|message| ViewFileError {
            path: path.display().to_string(),
            message: format!("{message} (at byte {})", input.offset),
        })
    }

    /// Writes the records merged from views whose fingerprint is `fingerprint`, replacing the
    /// file as a whole.
    pub(super) fn write_records(&self, merged: &Merged, fingerprint: u64) -> Result<(), ViewFileError> {
        let path = self.records_path();
        let failed = |e: &dyn std::fmt::Display| ViewFileError { path: path.display().to_string(), message: e.to_string() };
        std::fs::create_dir_all(self.dir()).map_err(|e| failed(&e))?;
        let file = tempfile::NamedTempFile::new_in(self.dir()).map_err(|e| failed(&e))?;
        let mut output = Writer::new(BufWriter::with_capacity(1 << 20, file));
        encode(&mut output, merged, fingerprint).map_err(|e| failed(&e))?;
        let file = output.output.into_inner().map_err(|e| failed(&e.error()))?;
        file.persist(&path).map_err(|e| failed(&e.error))?;
        Ok(())
    }
}

fn encode<W: Write>(out: &mut Writer<W>, merged: &Merged, fingerprint: u64) -> std::io::Result<()> {
    out.bytes(MAGIC)?;
    out.number(VERSION)?;
    out.number(fingerprint)?;
    // Sources by number, in the order keys name them first.
    let mut sources: HashMap<&str, u64> = HashMap::new();
    let all_keys = [&merged.datasets, &merged.studies, &merged.samples]
        .into_iter()
        .flat_map(|records| records.iter().flat_map(|r| &r.members))
        .chain(merged.policies_by_dataset.values().flatten());
    let mut names: Vec<&str> = Vec::new();
    for key in all_keys {
        sources.entry(&key.source).or_insert_with(|| {
            names.push(&key.source);
            names.len() as u64 - 1
        });
    }
    out.number(names.len() as u64)?;
    for name in &names {
        out.string(name)?;
    }
    let key = |out: &mut Writer<W>, key: &EntityKey| -> std::io::Result<()> {
        out.string(&key.accession)?;
        out.number(sources[&*key.source])?;
        write_id(out, key.id.as_ref())
    };
    for records in [&merged.datasets, &merged.studies, &merged.samples] {
        out.number(records.len() as u64)?;
        for r in records {
            out.number(r.members.len() as u64)?;
            for m in &r.members {
                key(out, m)?;
            }
            out.number(r.iris.len() as u64)?;
            for iri in &r.iris {
                out.string(iri.as_str())?;
            }
            policy(out, &r.policy)?;
        }
    }
    for map in [&merged.dataset_by_accession, &merged.study_by_accession, &merged.sample_by_accession] {
        out.number(map.len() as u64)?;
        for (accession, &position) in map {
            out.string(accession)?;
            out.number(position as u64)?;
        }
    }
    for map in [&merged.datasets_by_study, &merged.samples_by_study] {
        out.number(map.len() as u64)?;
        for (&study, positions) in map {
            out.number(study as u64)?;
            out.number(positions.len() as u64)?;
            for &p in positions {
                out.number(p as u64)?;
            }
        }
    }
    out.number(merged.policies_by_dataset.len() as u64)?;
    for (accession, keys) in &merged.policies_by_dataset {
        out.string(accession)?;
        out.number(keys.len() as u64)?;
        for k in keys {
            key(out, k)?;
        }
    }
    out.bytes(END)
}

fn decode<R: BufRead>(input: &mut Reader<R>, fingerprint: u64, sources: &[&str]) -> Result<Option<Merged>, String> {
    input.mark(MAGIC, "musubi records file header")?;
    if input.number()? != VERSION || input.number()? != fingerprint {
        return Ok(None);
    }
    let mut names: Vec<Arc<str>> = Vec::new();
    for _ in 0..input.count()? {
        let name: Arc<str> = input.string()?.into();
        if !sources.contains(&&*name) {
            return Err(format!("records of source {name:?}, which has no view"));
        }
        names.push(name);
    }
    let key = |input: &mut Reader<R>| -> Result<EntityKey, String> {
        let accession = input.string()?;
        let source = names.get(input.count()?).ok_or("a source number past the last source")?.clone();
        let id = match input.byte()? {
            0 => NamedOrBlankNode::NamedNode(NamedNode::new_unchecked(input.string()?)),
            1 => NamedOrBlankNode::BlankNode(BlankNode::new_unchecked(input.string()?)),
            tag => return Err(format!("a node id of unknown kind {tag}")),
        };
        Ok(EntityKey { accession, source, id })
    };
    let mut merged = Merged::default();
    for records in [&mut merged.datasets, &mut merged.studies, &mut merged.samples] {
        let n = input.count()?;
        // Grown as records arrive: a damaged count cannot reserve more than a few pages.
        records.reserve(n.min(1 << 12));
        for _ in 0..n {
            let count = input.count()?;
            if count == 0 {
                return Err("a record with no members".into());
            }
            let mut members = Vec::with_capacity(count.min(1 << 10));
            for _ in 0..count {
                members.push(key(input)?);
            }
            let count = input.count()?;
            let mut iris = Vec::with_capacity(count.min(1 << 10));
            for _ in 0..count {
                iris.push(NamedNode::new_unchecked(input.string()?));
            }
            let policy = read_policy(input)?;
            records.push(MergedRecord { members, iris, policy });
        }
    }
    let lens = [merged.datasets.len(), merged.studies.len(), merged.samples.len()];
    let position = |input: &mut Reader<R>, len: usize| -> Result<usize, String> {
        let p = input.count()?;
        if p < len { Ok(p) } else { Err(format!("a record position {p} past the last of {len}")) }
    };
    // Each map names members' accessions: it is never larger than the members just read, so
    // that many may be reserved at once (a start reads a million; growing rehashes each time).
    let members: usize = [&merged.datasets, &merged.studies, &merged.samples].iter().flat_map(|rs| rs.iter()).map(|r| r.members.len()).sum();
    for (map, &len) in [&mut merged.dataset_by_accession, &mut merged.study_by_accession, &mut merged.sample_by_accession].into_iter().zip(&lens) {
        let n = input.count()?;
        map.reserve(n.min(members));
        for _ in 0..n {
            let accession = input.string()?;
            map.insert(accession, position(input, len)?);
        }
    }
    for (map, &len) in [&mut merged.datasets_by_study, &mut merged.samples_by_study].into_iter().zip(&[lens[0], lens[2]]) {
        for _ in 0..input.count()? {
            let study = position(input, lens[1])?;
            let count = input.count()?;
            let mut positions = Vec::with_capacity(count.min(1 << 10));
            for _ in 0..count {
                positions.push(position(input, len)?);
            }
            map.insert(study, positions);
        }
    }
    for _ in 0..input.count()? {
        let accession = input.string()?;
        let count = input.count()?;
        let mut keys = Vec::with_capacity(count.min(1 << 10));
        for _ in 0..count {
            keys.push(key(input)?);
        }
        merged.policies_by_dataset.insert(accession, keys);
    }
    input.mark(END, "end mark after the last record")?;
    merged.index_studies_by_iri();
    Ok(Some(merged))
}

/// A record's policy facts: a byte of flags (sensitive, undated embargo, dated embargo), then
/// the embargo's date if it has one.
fn policy<W: Write>(out: &mut Writer<W>, facts: &PolicyFacts) -> std::io::Result<()> {
    let flags = u8::from(facts.sensitive) | u8::from(facts.undated_embargo) << 1 | u8::from(facts.latest_embargo.is_some()) << 2;
    out.byte(flags)?;
    match &facts.latest_embargo {
        Some(date) => out.bytes(date),
        None => Ok(()),
    }
}

fn read_policy<R: BufRead>(input: &mut Reader<R>) -> Result<PolicyFacts, String> {
    let flags = input.byte()?;
    if flags > 0b111 {
        return Err(format!("a record's policy flags {flags:#b} (of 3 bits)"));
    }
    let latest_embargo = match flags & 0b100 {
        0 => None,
        _ => {
            let mut date = [0u8; 10];
            input.exact(&mut date)?;
            Some(date)
        }
    };
    Ok(PolicyFacts { sensitive: flags & 1 != 0, undated_embargo: flags & 0b10 != 0, latest_embargo })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_count_is_an_error_that_says_where_not_an_allocation() {
        // A header for no views, then a count of 2^39 datasets with nothing behind it.
        let mut out = Writer::new(Vec::new());
        out.bytes(MAGIC).unwrap();
        out.number(VERSION).unwrap();
        out.number(7).unwrap();
        out.number(0).unwrap();
        out.number(1 << 39).unwrap();
        let bytes = out.output;
        let mut input = Reader::new(&bytes[..]);
        let e = decode(&mut input, 7, &[]).map(|_| ()).expect_err("refused");
        assert_eq!(e, "the file ends early");
        assert_eq!(input.offset, bytes.len() as u64, "read up to the end, no further");
        // Another fingerprint: not these views' records, and not an error.
        assert!(decode(&mut Reader::new(&bytes[..]), 8, &[]).expect("read").is_none());
        // A source the model has no view of.
        let mut out = Writer::new(Vec::new());
        out.bytes(MAGIC).unwrap();
        out.number(VERSION).unwrap();
        out.number(7).unwrap();
        out.number(1).unwrap();
        out.string("gone").unwrap();
        let e = decode(&mut Reader::new(&out.output[..]), 7, &["nbdc"]).map(|_| ()).expect_err("refused");
        assert!(e.contains("\"gone\", which has no view"), "{e}");
    }
}
