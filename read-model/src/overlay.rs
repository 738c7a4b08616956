//! A view made from the view of the content a delta applies to: the nodes the delta does not
//! touch keep their bytes (copied as they are), the nodes of the subjects it touches are made
//! anew from their old values less the removed triples plus the added ones. A harvest that
//! lands as a delta (1 % of the records changed) so writes its view without parsing and
//! encoding every node again, which making the view whole from the staged triples does.
//!
//! The view is the one made whole would be: the same nodes, properties and values (each value
//! once, in the same order), the same classes by accession; nodes keep their places and new
//! ones come last (where nodes stand in the file no reader sees).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, BufWriter, Seek, Write};
use std::sync::Arc;

use oxigraph::model::{NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple};

use musubi_ontology::vocab;

use crate::file::Layout;
use crate::node::{Encoder, Node, id_hash};
use crate::view::cmp_displayed;
use crate::{SourceView, ViewFileError, ViewFiles};

/// A node the delta touches: its bytes once made anew (`None`: no triple of it is left).
struct Made {
    bytes: Option<Vec<u8>>,
    /// Whether the old view has it (else it comes last).
    found: bool,
}

impl SourceView {
    /// This view (of the content a delta applies to) with `removed` and `added` applied,
    /// written where a harvest writes its view before its graph lands
    /// ([`ViewFiles::write_next`]) as the view of `generation`, and read back from there.
    /// `Ok(None)` when an added triple's property is none of this view's (the view's
    /// properties are numbered in order: the view is then made whole).
    pub fn overlay_next(&self, files: &ViewFiles, generation: &str, removed: &[Triple], added: &[Triple]) -> Result<Option<SourceView>, ViewFileError> {
        let path = files.next_path(&self.source);
        let failed = |e: &dyn std::fmt::Display| ViewFileError { path: path.display().to_string(), message: format!("cannot make the view from the last one: {e}") };
        let known = |t: &Triple| self.names.predicates.binary_search_by(|p| (**p).cmp(t.predicate.as_str())).is_ok();
        if !added.iter().all(known) {
            return Ok(None);
        }
        // The touched subjects' nodes, made anew.
        let mut changes: HashMap<&NamedOrBlankNode, (Vec<&Triple>, Vec<&Triple>)> = HashMap::new();
        for t in removed {
            changes.entry(&t.subject).or_default().0.push(t);
        }
        for t in added {
            changes.entry(&t.subject).or_default().1.push(t);
        }
        let mut encoder = Encoder::with_names(&self.names);
        let mut made = MadeNodes::default();
        for (&subject, (gone, new)) in &changes {
            let old = self.node(subject);
            let mut props: Vec<(Arc<str>, Vec<Term>)> = old
                .as_ref()
                .map(|node| node.properties().map(|(p, values)| (Arc::from(p), values.map(TermRef::into_owned).collect())).collect())
                .unwrap_or_default();
            for t in gone {
                if let Some((_, values)) = props.iter_mut().find(|(p, _)| **p == *t.predicate.as_str()) {
                    values.retain(|v| *v != t.object);
                }
            }
            for t in new {
                match props.iter_mut().find(|(p, _)| **p == *t.predicate.as_str()) {
                    Some((_, values)) => values.push(t.object.clone()),
                    None => props.push((Arc::from(t.predicate.as_str()), vec![t.object.clone()])),
                }
            }
            props.retain(|(_, values)| !values.is_empty());
            for (_, values) in &mut props {
                if values.len() > 1 {
                    values.sort_by(|a, b| cmp_displayed(a, b));
                    values.dedup();
                }
            }
            let bytes = (!props.is_empty()).then(|| encoder.node(subject, &props));
            made.insert(subject, Made { bytes, found: old.is_some() });
        }
        let names = Arc::new(encoder.finish());

        // The nodes' bytes in their new places, until the file's head is known (as a view made
        // whole: a temporary file beside the views).
        std::fs::create_dir_all(files.dir()).map_err(|e| failed(&e))?;
        let mut bytes = BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(files.dir()).map_err(|e| failed(&e))?);
        let (mut lengths, mut hashes) = (Vec::with_capacity(self.len()), Vec::with_capacity(self.len()));
        // Where each old node went (`None`: made anew, or gone), and what each new place holds.
        let mut moved: Vec<Option<u32>> = Vec::with_capacity(self.len());
        let mut remade: Vec<(u32, Node)> = Vec::with_capacity(changes.len());
        let mut write = |node: &Node, lengths: &mut Vec<u64>, hashes: &mut Vec<u64>| -> Result<u32, ViewFileError> {
            let position = u32::try_from(lengths.len()).map_err(|_| failed(&format!("more than {} nodes in one view", u32::MAX)))?;
            lengths.push(node.bytes().len() as u64);
            hashes.push(id_hash(&self.hasher, node.id()));
            bytes.write_all(node.bytes()).map_err(|e| failed(&e))?;
            Ok(position)
        };
        let mut read = 0;
        for node in self.nodes() {
            read += 1;
            match made.get(node.id()) {
                None => moved.push(Some(write(&node, &mut lengths, &mut hashes)?)),
                Some(Made { bytes: Some(b), .. }) => {
                    let node = Node::encoded(names.clone(), b.clone());
                    remade.push((write(&node, &mut lengths, &mut hashes)?, node));
                    moved.push(None);
                }
                Some(Made { bytes: None, .. }) => moved.push(None),
            }
        }
        if read != self.len() {
            // A node the file could not give (said in the log): made whole instead.
            return Ok(None);
        }
        let mut new: Vec<((bool, &str), &Vec<u8>)> = made.iter().filter(|(_, m)| !m.found).filter_map(|(k, m)| Some((k, m.bytes.as_ref()?))).collect();
        new.sort_unstable_by_key(|(k, _)| *k);
        for (_, b) in new {
            let node = Node::encoded(names.clone(), b.clone());
            remade.push((write(&node, &mut lengths, &mut hashes)?, node));
        }

        // Each class's nodes by accession (then id): the old lists where their nodes went, the
        // nodes made anew put in their places.
        // Where each new place's node was in the old view (`u32::MAX`: made anew), 4 bytes a node.
        let mut old_of = vec![u32::MAX; lengths.len()];
        for (old, new) in moved.iter().enumerate() {
            if let Some(new) = new {
                old_of[*new as usize] = old as u32;
            }
        }
        let remade_at: HashMap<u32, &Node> = remade.iter().map(|(p, n)| (*p, n)).collect();
        let node_at = |position: u32| -> Option<Node> {
            match old_of[position as usize] {
                u32::MAX => remade_at.get(&position).map(|n| (*n).clone()),
                old => self.node_at(old),
            }
        };
        let mut types: BTreeMap<Box<str>, Vec<u32>> = self
            .types
            .iter()
            .map(|(class, positions)| (class.clone(), positions.iter().filter_map(|&p| moved.get(p as usize).copied().flatten()).collect()))
            .collect();
        for (position, node) in &remade {
            let id = id_text(node.id());
            let accession = node.accession_ref();
            for class in node.values(vocab::RDF_TYPE) {
                let TermRef::NamedNode(class) = class else { continue };
                let list = types.entry(class.as_str().into()).or_default();
                let at = list.partition_point(|&p| node_at(p).is_some_and(|other| (other.accession_ref(), id_text(other.id())) < (accession.clone(), id.clone())));
                list.insert(at, *position);
            }
        }
        types.retain(|_, list| !list.is_empty());

        let mut bytes = bytes.into_inner().map_err(|e| failed(&e.error()))?;
        bytes.rewind().map_err(|e| failed(&e))?;
        let layout = Layout { source: &self.source, generation, names: &names, hasher: &self.hasher, count: lengths.len(), types: &types };
        files.write_with(&path, |out| {
            layout.write(out, lengths.into_iter(), hashes.into_iter(), |out| {
                std::io::copy(&mut BufReader::with_capacity(1 << 20, &mut bytes), &mut out.output).map(drop)
            })
        })?;
        match files.read_next(&self.source, generation)? {
            Some(view) => Ok(Some(view)),
            None => Err(failed(&"the view just written reads as another generation")),
        }
    }
}

/// The nodes made anew, by subject (IRIs and blank nodes apart: looked up by the text of each
/// old node's id, without making an owned id).
#[derive(Default)]
struct MadeNodes<'a> {
    iris: HashMap<&'a str, Made>,
    blanks: HashMap<&'a str, Made>,
}

impl<'a> MadeNodes<'a> {
    fn insert(&mut self, subject: &'a NamedOrBlankNode, made: Made) {
        match subject {
            NamedOrBlankNode::NamedNode(n) => self.iris.insert(n.as_str(), made),
            NamedOrBlankNode::BlankNode(b) => self.blanks.insert(b.as_str(), made),
        };
    }

    fn get(&self, id: NamedOrBlankNodeRef<'_>) -> Option<&Made> {
        match id {
            NamedOrBlankNodeRef::NamedNode(n) => self.iris.get(n.as_str()),
            NamedOrBlankNodeRef::BlankNode(b) => self.blanks.get(b.as_str()),
        }
    }

    /// Each with whether it is a blank node and its text.
    fn iter(&self) -> impl Iterator<Item = ((bool, &'a str), &Made)> {
        self.iris.iter().map(|(k, m)| ((false, *k), m)).chain(self.blanks.iter().map(|(k, m)| ((true, *k), m)))
    }
}

/// A node's id as text, to order two nodes of one class with one accession (as a view made
/// whole orders them).
fn id_text(id: NamedOrBlankNodeRef<'_>) -> String {
    match id {
        NamedOrBlankNodeRef::NamedNode(n) => n.as_str().to_owned(),
        NamedOrBlankNodeRef::BlankNode(b) => format!("_:{}", b.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ViewSpool;
    use musubi_ontology::{RdfFormat, parse_triples};

    fn triples(turtle: &str) -> Vec<Triple> {
        let prefixes = "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> . \
                        @prefix m: <https://w3id.org/musubi/vocab#> . @prefix x: <http://example.org/> .\n";
        parse_triples(format!("{prefixes}{turtle}").as_bytes(), RdfFormat::Turtle, "http://example.org/").expect("test Turtle")
    }

    /// The view of `triples` made whole (as a spooled harvest makes it), written as `generation`'s.
    fn made_whole(files: &ViewFiles, staging: &std::path::Path, triples: &[Triple], generation: &str) -> SourceView {
        let mut spool = ViewSpool::new(staging).expect("spool");
        spool.append(triples).expect("append");
        spool.write_next(files, "s", generation).expect("written")
    }

    /// Every node (by id) with its properties and values, and each class's nodes in order.
    fn dump(view: &SourceView) -> Vec<String> {
        let mut lines: Vec<String> = view
            .nodes()
            .map(|n| format!("{} {}", n.id(), n.properties().map(|(p, values)| format!("{p}={values:?}")).collect::<Vec<_>>().join(" ")))
            .collect();
        lines.sort();
        for class in view.types.keys() {
            let class = oxigraph::model::NamedNodeRef::new_unchecked(class);
            lines.push(format!("{class}: {}", view.of_type(class).map(|n| n.id().to_string()).collect::<Vec<_>>().join(" ")));
        }
        lines
    }

    /// A delta (a node changed, one gone, one new, a blank node's value changed, a language
    /// tag the last view never used) over the last view makes the view a harvest would make
    /// whole from the new content: the same nodes, values in the same order, each class's nodes
    /// by accession. A property the last view has no name for: made whole instead.
    #[test]
    fn a_delta_over_the_last_view_makes_the_view_made_whole_of_the_new_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (files, staging) = (ViewFiles::new(dir.path().join("views")), dir.path().join("staging"));
        let old = triples(
            r#"x:d1 a dcat:Dataset ; dct:identifier "D1" ; dct:title "Lung"@en ; dct:publisher _:p .
               _:p dct:title "Keio" .
               x:d2 a dcat:Dataset ; dct:identifier "D2" ; dct:title "Gastric"@en , "Colon"@en .
               x:d3 a dcat:Dataset ; dct:identifier "D3" ; m:subjectCount 12 .
               x:s1 a dcat:Catalog ; dct:identifier "S1" ."#,
        );
        let new = triples(
            r#"x:d1 a dcat:Dataset ; dct:identifier "D1" ; dct:title "Lung"@en , "肺"@ja ; dct:publisher _:p .
               _:p dct:title "Keio University" .
               x:d2 a dcat:Dataset ; dct:identifier "D0" ; dct:title "Colon"@en , "Breast"@en .
               x:d4 a dcat:Dataset ; dct:identifier "D25" ; m:subjectCount 7 .
               x:s1 a dcat:Catalog ; dct:identifier "S1" ."#,
        );
        let removed: Vec<Triple> = old.iter().filter(|t| !new.contains(t)).cloned().collect();
        let added: Vec<Triple> = new.iter().filter(|t| !old.contains(t)).cloned().collect();
        made_whole(&files, &staging, &old, "g1");
        let last = files.read("s", "g1").expect("read").expect("moved into place");

        let overlaid = last.overlay_next(&files, "g2", &removed, &added).expect("written").expect("made from the last view");
        assert_eq!(overlaid.generation(), Some("g2"));
        let whole = made_whole(&files, &staging, &new, "g3");
        assert_eq!(dump(&overlaid), dump(&whole));
        let datasets: Vec<String> = overlaid.datasets().map(|n| n.accession()).collect();
        assert_eq!(datasets, ["D0", "D1", "D25"], "by accession, the changed one first");
        assert!(overlaid.node(&NamedOrBlankNode::from(oxigraph::model::NamedNode::new_unchecked("http://example.org/d3"))).is_none());

        let unknown = triples(r#"x:d1 m:aPropertyNeverSeen "x" ."#);
        assert!(last.overlay_next(&files, "g4", &[], &unknown).expect("nothing written").is_none());
    }
}
