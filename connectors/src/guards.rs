//! Harvest guards: what a harvest must not do without being told to.
//!
//! A partner that changes its page shape, loses its ids, or ships a mapping reference that
//! matches nothing still answers 200 with well-formed JSON: the harvest would "succeed" and
//! replace the source's graph with less. The guards ([`Guards`], per source in `[guards]`, on
//! by default) judge the staged harvest against the source's last landed one before the swap:
//! - it removes more than `max_shrink` of the records (default a fifth);
//! - a property the last harvest stated is stated by no record now;
//! - a record has no id (where the manifest names one: `record.id`), or two records the same (not
//!   rows: several rows of a relation table or a SELECT describe one entity), or a dataset,
//!   study or sample's identifier is empty;
//! - a typed value is not valid for its datatype.
//!
//! A harvest that trips one does not land (the last good graph stays), and its error says what
//! it saw: counts before and after, the properties lost, the first offending records with where
//! they stood. Shrinking and lost properties can be landed deliberately (`musubi harvest
//! --accept-shrink ID`); every guard can be set per source.
//!
//! What a harvest saw is gathered while it stages ([`Census`]): ids as records are mapped,
//! properties and values as triples are spooled or, at the end, as they stand in memory.

use std::collections::{BTreeSet, HashMap};

use musubi_ontology::rdf::{Term, Triple};
use musubi_ontology::vocab::{self, valid_lexical_form};

use crate::status::SourceStatus;
use crate::manifest::{Guards, InvalidValues};

/// How many offending records each guard names.
const EXAMPLES: usize = 5;

/// Offences of one kind: how many, and the first few, said.
#[derive(Debug, Default)]
struct Offences {
    count: usize,
    examples: Vec<String>,
}

impl Offences {
    fn add(&mut self, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(example());
        }
    }

    fn say(&self, what: &str) -> Option<String> {
        (self.count > 0).then(|| {
            let more = if self.count > self.examples.len() { format!(" (and {} more)", self.count - self.examples.len()) } else { String::new() };
            format!("{} {what}: {}{more}", self.count, self.examples.join("; "))
        })
    }
}

/// What a harvest saw of its records and values.
#[derive(Debug, Default)]
pub struct Census {
    /// Each record id and where it first stood.
    ids: HashMap<String, String>,
    /// Whether the manifest names the records' ids (then an entity's empty identifier is that
    /// record's missing id, already counted).
    ids_named: bool,
    without_id: Offences,
    duplicates: Offences,
    bad_values: Offences,
    dropped_values: Offences,
    /// The properties the staged graph states.
    pub properties: BTreeSet<String>,
    /// The mapping's references that no record so far found a value for (`None`: the source is
    /// not mapped by RML, or no record was mapped yet); and how many records were mapped.
    pub(crate) unmatched: Option<musubi_rml::Unmatched>,
    pub(crate) mapped: usize,
    /// The names the records use (keys, elements, attributes), gathered while some reference is
    /// unmatched: a misspelt reference is told by a name near its own.
    pub(crate) names: BTreeSet<String>,
}

/// Names gathered from records at most, for telling misspelt references.
pub(crate) const NAMES: usize = 20_000;

impl Census {
    /// The mapping's references that found no value in any record and read a name near one the
    /// records use: `(reference, its name, the records' name)`.
    pub fn misspelt_references(&self) -> Vec<(String, String, String)> {
        let Some(unmatched) = &self.unmatched else { return Vec::new() };
        unmatched
            .references()
            .filter_map(|r| musubi_rml::Mapping::misspelt(r, &self.names).map(|(name, near)| (r.clone(), name, near)))
            .collect()
    }

    /// The mapping's references that found no value in any record (`connector check` lists
    /// them: misspelt, or for fields these records lack).
    pub fn unmatched_references(&self) -> Vec<String> {
        self.unmatched.iter().flat_map(|u| u.references()).cloned().collect()
    }

    /// A record mapped: its id (`None`: it has none) and where it stood (`URL record #i`).
    /// `unique`: whether two records may not share it (not so for rows of a relation table or a
    /// SELECT, several of which describe one entity).
    pub(crate) fn record(&mut self, id: Option<&str>, position: String, unique: bool) {
        self.ids_named = true;
        match id.map(str::trim).filter(|id| !id.is_empty()) {
            None => self.without_id.add(|| position),
            Some(_) if !unique => {}
            Some(id) => match self.ids.get(id) {
                Some(first) => self.duplicates.add(|| format!("{id:?} at {position}, first at {first}")),
                None => {
                    self.ids.insert(id.to_owned(), position);
                }
            },
        }
    }

    /// A record's N-Triples lines copied from the last harvest (mapped and checked then, with
    /// the same mapping): their properties.
    pub(crate) fn observe_lines(&mut self, lines: &[u8]) {
        for line in lines.split(|b| *b == b'\n') {
            // The predicate is the line's first `<…>` after the subject (an IRI or a blank node).
            let after_subject = match line.first() {
                Some(b'<') => line.iter().position(|b| *b == b'>').map(|i| &line[i + 1..]),
                _ => line.iter().position(|b| *b == b' ').map(|i| &line[i..]),
            };
            let predicate = after_subject
                .and_then(|rest| rest.strip_prefix(b" <"))
                .and_then(|rest| rest.iter().position(|b| *b == b'>').map(|end| &rest[..end]))
                .and_then(|p| std::str::from_utf8(p).ok());
            if let Some(p) = predicate
                && !self.properties.contains(p)
            {
                self.properties.insert(p.to_owned());
            }
        }
    }

    /// Triples staged: their properties, and their values' lexical forms; an invalid value is
    /// noted, or left out of `triples` (`drop`), or let be (`keep`), as the source's guard says.
    pub(crate) fn observe(&mut self, triples: &mut Vec<Triple>, invalid: InvalidValues) {
        if invalid == InvalidValues::Drop {
            let mut dropped = Vec::new();
            let mut i = 0;
            while i < triples.len() {
                if matches!(&triples[i].object, Term::Literal(l) if !valid_lexical_form(l.as_ref())) {
                    dropped.push(triples.swap_remove(i));
                } else {
                    i += 1;
                }
            }
            for t in &dropped {
                self.dropped_values.add(|| describe_invalid(t, triples));
            }
        }
        let mut last = "";
        for t in triples.iter() {
            let p = t.predicate.as_str();
            if p != last && !self.properties.contains(p) {
                self.properties.insert(p.to_owned());
            }
            last = p;
            // A record whose identifier is empty ("" from a partner record without one).
            if t.predicate.as_ref() == vocab::DCT_IDENTIFIER
                && let Term::Literal(l) = &t.object
                && l.value().trim().is_empty()
                && !self.ids_named
                && triples.iter().any(|o| o.subject == t.subject && o.predicate.as_ref() == vocab::RDF_TYPE && is_record_class(&o.object))
            {
                self.without_id.add(|| format!("{} (its dct:identifier is empty)", t.subject));
            }
            if invalid == InvalidValues::Refuse
                && let Term::Literal(l) = &t.object
                && !valid_lexical_form(l.as_ref())
            {
                self.bad_values.add(|| describe_invalid(t, triples));
            }
        }
    }
}

/// An invalid value, and the record it came from when the same batch says.
fn describe_invalid(t: &Triple, batch: &[Triple]) -> String {
    let Term::Literal(l) = &t.object else { return t.to_string() };
    let from = batch
        .iter()
        .find(|o| o.subject == t.subject && o.predicate.as_ref() == vocab::MUSUBI_SOURCE_RECORD_URL)
        .map(|o| format!(" (from {})", o.object))
        .unwrap_or_default();
    format!("{} {} {:?} is not a valid {}{from}", t.subject, t.predicate, l.value(), short(l.datatype().as_str()))
}

fn is_record_class(class: &Term) -> bool {
    matches!(class, Term::NamedNode(c) if [vocab::DCAT_DATASET, vocab::MUSUBI_STUDY, vocab::MUSUBI_SAMPLE].contains(&c.as_ref()))
}

fn short(iri: &str) -> String {
    iri.strip_prefix("http://www.w3.org/2001/XMLSchema#").map_or_else(|| format!("<{iri}>"), |l| format!("xsd:{l}"))
}

/// What a harvest that trips the shrink guards does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shrink {
    /// Stops: the last landed harvest stays.
    Refuse,
    /// Lands, saying what it removed (`musubi harvest --accept-shrink ID`).
    Accept,
}

/// Whether a harvest of `records` records, whose census is `census`, may replace the source's
/// last landed harvest (`before`): `Ok` with what to say even so (a shrink that was accepted),
/// or `Err` with every guard it trips.
pub(crate) fn judge(guards: &Guards, before: &SourceStatus, records: usize, census: &Census, shrink: Shrink) -> Result<Vec<String>, String> {
    let mut tripped = Vec::new();
    let mut said = Vec::new();
    if let Some(previous) = before.record_count.filter(|n| *n > 0) {
        let previous = previous as usize;
        let removed = previous.saturating_sub(records);
        let share = removed as f64 / previous as f64;
        if share > guards.max_shrink {
            let what = format!(
                "it would remove {removed} of the source's {previous} records ({:.0} %; the guard allows {:.0} %): {previous} before, {records} now",
                share * 100.0,
                guards.max_shrink * 100.0
            );
            if shrink == Shrink::Accept { said.push(format!("accepted: {what}")) } else { tripped.push(what) }
        }
    }
    if guards.keep_properties && !before.properties.is_empty() {
        let lost: Vec<&String> = before.properties.iter().filter(|p| !census.properties.contains(*p)).collect();
        if !lost.is_empty() {
            let what = format!(
                "no record states {} now, which the last harvest stated (a mapping reference that matches nothing?)",
                lost.iter().map(|p| format!("<{p}>")).collect::<Vec<_>>().join(", ")
            );
            if shrink == Shrink::Accept { said.push(format!("accepted: {what}")) } else { tripped.push(what) }
        }
    }
    if guards.ids {
        tripped.extend(census.without_id.say("record(s) without an id"));
        tripped.extend(census.duplicates.say("id(s) given to more than one record"));
    }
    tripped.extend(census.bad_values.say("value(s) not valid for their datatype"));
    said.extend(census.misspelt_references().into_iter().map(|(reference, name, near)| {
        format!("mapping reference {reference} found no value in any of the {} records: the records have {near:?}, not {name:?} (misspelt?)", census.mapped)
    }));
    said.extend(census.dropped_values.say("value(s) not valid for their datatype, left out"));
    if tripped.is_empty() {
        Ok(said)
    } else {
        let accept = if tripped.iter().any(|t| t.starts_with("it would remove") || t.starts_with("no record states")) {
            "; to land it anyway: musubi harvest --accept-shrink <source>, or [guards] in the manifest"
        } else {
            "; [guards] in the manifest says which guards hold"
        };
        Err(format!("{}{accept}", tripped.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use musubi_ontology::rdf::{Literal, NamedNode};

    fn status(records: u64, properties: &[&str]) -> SourceStatus {
        SourceStatus { record_count: Some(records), properties: properties.iter().map(|p| (*p).to_owned()).collect(), ..SourceStatus::default() }
    }

    #[test]
    fn each_guard_trips_on_what_it_guards_and_says_what_it_saw() {
        let guards = Guards::default();
        let mut census = Census::default();
        census.record(Some("D1"), "page 1 record #0".into(), true);
        census.record(Some("D1"), "page 2 record #0".into(), true);
        census.record(None, "page 2 record #1".into(), true);
        census.record(Some("  "), "page 2 record #2".into(), true);
        census.record(Some("R1"), "row 1".into(), false);
        census.record(Some("R1"), "row 2".into(), false);
        let date = NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#date");
        let s = NamedNode::new_unchecked("https://e.org/D1");
        let batch = vec![
            Triple::new(s.clone(), NamedNode::new_unchecked("http://purl.org/dc/terms/issued"), Literal::new_typed_literal("not a date", date)),
            Triple::new(s, NamedNode::new_unchecked("https://w3id.org/musubi/vocab#sourceRecordUrl"), NamedNode::new_unchecked("https://p.org/page/2")),
        ];
        census.observe(&mut batch.clone(), InvalidValues::Refuse);
        let err = judge(&guards, &status(10, &["http://purl.org/dc/terms/title"]), 2, &census, Shrink::Refuse).unwrap_err();
        for part in [
            "it would remove 8 of the source's 10 records (80 %; the guard allows 20 %)",
            "no record states <http://purl.org/dc/terms/title> now",
            "2 record(s) without an id: page 2 record #1; page 2 record #2",
            "1 id(s) given to more than one record: \"D1\" at page 2 record #0, first at page 1 record #0",
            "\"not a date\" is not a valid xsd:date (from <https://p.org/page/2>)",
            "--accept-shrink",
        ] {
            assert!(err.contains(part), "{part:?} in {err}");
        }
        // Accepted, the shrink and the lost property land with a word; bad ids never do.
        let said = judge(&guards, &status(10, &["http://purl.org/dc/terms/title"]), 2, &Census::default(), Shrink::Accept).unwrap();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(judge(&guards, &status(10, &[]), 8, &Census::default(), Shrink::Refuse).is_ok(), "a fifth may go");
        assert!(judge(&guards, &SourceStatus::default(), 1, &Census::default(), Shrink::Refuse).is_ok(), "the first harvest has nothing to lose");
        let off = Guards { ids: false, ..guards };
        let mut kept = Census::default();
        kept.observe(&mut batch.clone(), InvalidValues::Keep);
        assert!(judge(&off, &status(2, &[]), 2, &kept, Shrink::Refuse).is_ok(), "guards turned off per source");
        // Dropped: the value leaves the graph, and the harvest lands saying so.
        let (mut dropped, mut triples) = (Census::default(), batch.clone());
        dropped.observe(&mut triples, InvalidValues::Drop);
        assert_eq!(triples.len(), 1, "the invalid value is left out");
        let said = judge(&guards, &status(2, &[]), 2, &dropped, Shrink::Refuse).unwrap();
        assert!(said[0].contains("1 value(s) not valid for their datatype, left out") && said[0].contains("not a date"), "{said:?}");
    }
}
