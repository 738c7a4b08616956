//! A node held as one byte string (its id and its properties), read in place.
//!
//! Millions of nodes are held at once: a value as an oxigraph `Term` is a heap string or two
//! (the datatype and language tag copied into every literal) behind a 56-byte enum, and a view
//! of a million datasets took ~10 GiB that way. Here a node is one allocation of bytes; its id
//! and values are read from them as [`NamedOrBlankNodeRef`] and [`TermRef`]s that borrow the
//! bytes and the view's [`Names`]. The bytes are also what the node's view file holds, so a view
//! is read from disk by copying them, not by building terms.
//!
//! The layout: the id's kind (0 IRI, 1 blank node) and string, then the properties in the order of
//! their predicate's number (the view's predicates are numbered in IRI order, so that is IRI
//! order), each: the predicate's number, the count of its values,
//! their length in bytes (skipped whole when looking for another property), then each value: a
//! kind (0 IRI, 1 blank node, 2 plain literal, 3 language-tagged, 4 typed), for 3 and 4 the
//! number of its language tag or datatype among the view's tags, and its string. Numbers are
//! LEB128, strings a length and UTF-8 ([`crate::binary`]).

use std::sync::Arc;

use std::hash::{BuildHasher, Hasher};

use oxigraph::model::{BlankNodeRef, LiteralRef, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef};

use crate::binary::{Slice, Writer};
use musubi_ontology::vocab::{self, AccessLevel};

/// What a view's nodes refer to by number.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Names {
    /// The view's predicates, sorted.
    pub(crate) predicates: Vec<Box<str>>,
    /// Datatype IRIs and language tags, in the order they were first met.
    pub(crate) tags: Vec<Box<str>>,
}

/// One entity (a dataset, a study, a sample, a person, …) as one source's graph describes it.
#[derive(Clone)]
pub struct Node {
    names: Arc<Names>,
    /// Shared: a node of a view held in memory is handed out by cloning two `Arc`s.
    bytes: Arc<[u8]>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("id", &self.id()).field("properties", &self.properties().collect::<Vec<_>>()).finish()
    }
}

impl Node {
    /// A node from bytes laid out as the module says, checked against `names` (bytes from a file
    /// are not trusted: a damaged one is an error, never a wrong value later).
    pub(crate) fn from_bytes(names: Arc<Names>, bytes: &[u8]) -> Result<Node, String> {
        let mut id = Slice::new(bytes);
        match id.byte() {
            Some(0 | 1) => {}
            Some(kind) => return Err(format!("a node id of unknown kind {kind}")),
            None => return Err("a node with no id".into()),
        }
        id.str().ok_or("a node id that ends early or is not UTF-8")?;
        check(id.bytes, &names)?;
        Ok(Node { names, bytes: bytes.into() })
    }

    /// A node with its id and nothing else: what a record shows of a node that its view's file
    /// could not give back (damaged; said in the log), instead of failing the request.
    pub fn bare(id: NamedOrBlankNodeRef<'_>) -> Node {
        let mut out = Writer::new(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = write_id(&mut out, id);
        Node { names: Arc::default(), bytes: out.output.into() }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The node's IRI or blank node.
    pub fn id(&self) -> NamedOrBlankNodeRef<'_> {
        self.split().0
    }

    /// The bytes of the properties: after the id, skipped without reading it (every property
    /// lookup starts here).
    fn props_bytes(&self) -> &[u8] {
        let mut bytes = Slice::new(&self.bytes);
        let _kind = bytes.byte();
        let len = bytes.number().unwrap_or(0) as usize;
        bytes.take(len).map_or(&[], |_| bytes.bytes)
    }

    /// The id, and the bytes of the properties after it.
    fn split(&self) -> (NamedOrBlankNodeRef<'_>, &[u8]) {
        let mut bytes = Slice::new(&self.bytes);
        // Checked when made.
        let kind = bytes.byte().unwrap_or(0);
        let s = bytes.str().unwrap_or_default();
        let id = match kind {
            1 => BlankNodeRef::new_unchecked(s).into(),
            _ => NamedNodeRef::new_unchecked(s).into(),
        };
        (id, bytes.bytes)
    }

    /// The values of a property, in the order of their N-Triples form.
    pub fn values(&self, property: NamedNodeRef<'_>) -> Values<'_> {
        match self.names.predicates.binary_search_by(|p| (**p).cmp(property.as_str())) {
            Ok(wanted) => self.props().find(|&(p, _)| p == wanted).map_or_else(|| Values::none(&self.names), |(_, v)| v),
            Err(_) => Values::none(&self.names),
        }
    }

    /// The lexical forms of a property's values (IRIs as their string).
    pub fn strings(&self, property: NamedNodeRef<'_>) -> Vec<&str> {
        self.values(property).filter_map(term_str).collect()
    }

    /// Every property the node has, with its values (e.g. for full-text search), by IRI.
    pub fn properties(&self) -> impl Iterator<Item = (&str, Values<'_>)> {
        self.props().map(|(p, values)| (&*self.names.predicates[p], values))
    }

    pub fn first(&self, property: NamedNodeRef<'_>) -> Option<&str> {
        self.values(property).find_map(term_str)
    }

    pub fn has_type(&self, class: NamedNodeRef<'_>) -> bool {
        self.values(vocab::RDF_TYPE).any(|t| matches!(t, TermRef::NamedNode(n) if n == class))
    }

    /// The public id: `dct:identifier`, else the source's record id, else the IRI.
    pub fn accession(&self) -> String {
        self.accession_ref().into_owned()
    }

    /// [`Node::accession`], borrowed where it can be (sorting nodes by it allocates nothing).
    pub(crate) fn accession_ref(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self.first(vocab::DCT_IDENTIFIER).or_else(|| self.first(vocab::MUSUBI_SOURCE_RECORD_ID)) {
            Some(a) => Cow::Borrowed(a),
            None => match self.id() {
                NamedOrBlankNodeRef::NamedNode(n) => Cow::Borrowed(n.as_str()),
                NamedOrBlankNodeRef::BlankNode(b) => Cow::Owned(format!("_:{}", b.as_str())),
            },
        }
    }

    pub fn access_level(&self) -> Option<AccessLevel> {
        self.values(vocab::MUSUBI_ACCESS_LEVEL).find_map(|t| match t {
            TermRef::NamedNode(n) => AccessLevel::from_iri(n.as_str()),
            _ => None,
        })
    }

    /// Each property's predicate number and values.
    fn props(&self) -> impl Iterator<Item = (usize, Values<'_>)> {
        let mut bytes = Slice::new(self.props_bytes());
        std::iter::from_fn(move || {
            if bytes.is_empty() {
                return None;
            }
            let predicate = bytes.number()? as usize;
            let count = bytes.number()? as usize;
            let len = bytes.number()? as usize;
            Some((predicate, Values { bytes: Slice::new(bytes.take(len)?), names: &self.names, remaining: count }))
        })
    }
}

/// A property's values, read from the node's bytes as they are asked for.
#[derive(Clone)]
pub struct Values<'a> {
    bytes: Slice<'a>,
    names: &'a Names,
    remaining: usize,
}

impl<'a> Values<'a> {
    fn none(names: &'a Names) -> Values<'a> {
        Values { bytes: Slice::new(&[]), names, remaining: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = TermRef<'a>;

    fn next(&mut self) -> Option<TermRef<'a>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let term = read_term(&mut self.bytes, self.names);
        if term.is_none() {
            // Checked when made: unreachable, but a value is never read from the wrong place.
            self.remaining = 0;
        }
        term
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Values<'_> {}

impl std::fmt::Debug for Values<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone().map(|t| t.to_string())).finish()
    }
}

fn read_term<'a>(bytes: &mut Slice<'a>, names: &'a Names) -> Option<TermRef<'a>> {
    let kind = bytes.byte()?;
    let tag = match kind {
        3 | 4 => Some(&**names.tags.get(usize::try_from(bytes.number()?).ok()?)?),
        _ => None,
    };
    let s = bytes.str()?;
    Some(match (kind, tag) {
        (0, _) => NamedNodeRef::new_unchecked(s).into(),
        (1, _) => BlankNodeRef::new_unchecked(s).into(),
        (2, _) => LiteralRef::new_simple_literal(s).into(),
        (3, Some(language)) => LiteralRef::new_language_tagged_literal_unchecked(s, language).into(),
        (4, Some(datatype)) => LiteralRef::new_typed_literal(s, NamedNodeRef::new_unchecked(datatype)).into(),
        _ => return None,
    })
}

/// Whether `props` are laid out as the module says: predicates in range and increasing, each
/// property's values exactly its length, kinds known, tags in range, strings UTF-8.
fn check(props: &[u8], names: &Names) -> Result<(), String> {
    let mut bytes = Slice::new(props);
    let mut last: Option<u64> = None;
    while !bytes.is_empty() {
        let at = props.len() - bytes.bytes.len();
        let cut = || format!("a node's properties end early (at byte {at} of {})", props.len());
        let predicate = bytes.number().ok_or_else(cut)?;
        if predicate >= names.predicates.len() as u64 || last.is_some_and(|l| l >= predicate) {
            return Err(format!("a node's property numbered {predicate} (of {}) out of order", names.predicates.len()));
        }
        last = Some(predicate);
        let count = bytes.number().ok_or_else(cut)?;
        let len = bytes.number().and_then(|n| usize::try_from(n).ok()).ok_or_else(cut)?;
        let mut values = Slice::new(bytes.take(len).ok_or_else(cut)?);
        for _ in 0..count {
            let kind = values.byte().ok_or_else(cut)?;
            if kind > 4 {
                return Err(format!("a value of unknown kind {kind}"));
            }
            if kind >= 3 && values.number().is_none_or(|t| t >= names.tags.len() as u64) {
                return Err("a value whose datatype or language tag is not among the view's".into());
            }
            values.str().ok_or_else(|| format!("a value that ends early or is not UTF-8 (at byte {at})"))?;
        }
        if !values.is_empty() {
            return Err(format!("a property longer than its {count} values (at byte {at})"));
        }
    }
    Ok(())
}

/// Lays out nodes' properties, numbering datatypes and language tags as they are met.
pub(crate) struct Encoder {
    predicates: std::collections::HashMap<Arc<str>, u64>,
    tags: std::collections::HashMap<String, u64>,
    names: Names,
}

impl Encoder {
    pub(crate) fn new(predicates: impl IntoIterator<Item = Arc<str>>) -> Encoder {
        let mut sorted: Vec<Arc<str>> = predicates.into_iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        Encoder {
            predicates: sorted.iter().enumerate().map(|(i, p)| (p.clone(), i as u64)).collect(),
            tags: Default::default(),
            names: Names { predicates: sorted.iter().map(|p| Box::from(&**p)).collect(), tags: Vec::new() },
        }
    }

    /// An encoder that numbers names as `names` does (its predicates, sorted, and its tags in
    /// order; a tag met later comes last): a node it encodes reads with the names it finishes
    /// with, as do the nodes encoded with `names`.
    pub(crate) fn with_names(names: &Names) -> Encoder {
        Encoder {
            predicates: names.predicates.iter().enumerate().map(|(i, p)| (Arc::from(&**p), i as u64)).collect(),
            tags: names.tags.iter().enumerate().map(|(i, t)| (t.to_string(), i as u64)).collect(),
            names: names.clone(),
        }
    }

    /// One node: its id and its properties (each predicate among those the encoder was made
    /// with; values in the order given).
    pub(crate) fn node(&mut self, id: &NamedOrBlankNode, props: &[(Arc<str>, Vec<Term>)]) -> Vec<u8> {
        let mut numbered: Vec<(u64, &Vec<Term>)> = props.iter().map(|(p, values)| (self.predicates[p], values)).collect();
        numbered.sort_unstable_by_key(|&(p, _)| p);
        let mut out = Writer::new(Vec::new());
        let _ = write_id(&mut out, id.as_ref());
        let mut values = Writer::new(Vec::new());
        for (predicate, terms) in numbered {
            values.output.clear();
            for term in terms {
                self.term(&mut values, term.as_ref());
            }
            // Writing to a Vec cannot fail.
            let _ = out.number(predicate);
            let _ = out.number(terms.len() as u64);
            let _ = out.number(values.output.len() as u64);
            let _ = out.bytes(&values.output);
        }
        out.output
    }

    fn term(&mut self, out: &mut Writer<Vec<u8>>, term: TermRef<'_>) {
        let mut tagged = |kind: u8, tag: Option<&str>, s: &str| {
            let _ = out.byte(kind);
            if let Some(tag) = tag {
                let next = self.tags.len() as u64;
                let n = *self.tags.entry(tag.to_owned()).or_insert_with(|| {
                    self.names.tags.push(tag.into());
                    next
                });
                let _ = out.number(n);
            }
            let _ = out.string(s);
        };
        match term {
            TermRef::NamedNode(n) => tagged(0, None, n.as_str()),
            TermRef::BlankNode(b) => tagged(1, None, b.as_str()),
            TermRef::Literal(l) => match l.language() {
                Some(language) => tagged(3, Some(language), l.value()),
                None if l.datatype() == oxigraph::model::vocab::xsd::STRING => tagged(2, None, l.value()),
                None => tagged(4, Some(l.datatype().as_str()), l.value()),
            },
        }
    }

    /// The names so far (a tag is added as a node first uses it).
    pub(crate) fn names(&self) -> &Names {
        &self.names
    }

    pub(crate) fn finish(self) -> Names {
        self.names
    }
}

impl Node {
    /// A node of a view being built: its bytes come from the view's [`Encoder`], whose names
    /// are shared once all nodes are encoded.
    pub(crate) fn encoded(names: Arc<Names>, bytes: Vec<u8>) -> Node {
        let node = Node { names, bytes: bytes.into() };
        debug_assert!(check(node.split().1, &node.names).is_ok());
        node
    }
}

/// An id as the derived files write it: its kind (0 IRI, 1 blank node) and its string.
pub(crate) fn write_id<W: std::io::Write>(out: &mut Writer<W>, id: NamedOrBlankNodeRef<'_>) -> std::io::Result<()> {
    let (kind, s) = match id {
        NamedOrBlankNodeRef::NamedNode(n) => (0, n.as_str()),
        NamedOrBlankNodeRef::BlankNode(b) => (1, b.as_str()),
    };
    out.byte(kind)?;
    out.string(s)
}

/// Hashes node ids for a view's index with SipHash-1-3 under the view's keys: the hashes are
/// kept in the view's file (a start reads them instead of every node's id), so they must be the
/// same in every process and build — `std`'s hashers promise neither — and random keys per view
/// keep a partner from choosing ids that collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdHasher {
    pub(crate) keys: (u64, u64),
}

impl IdHasher {
    pub(crate) fn random() -> IdHasher {
        let random = std::hash::RandomState::new();
        IdHasher { keys: (random.hash_one(0u8), random.hash_one(1u8)) }
    }
}

impl Default for IdHasher {
    fn default() -> IdHasher {
        IdHasher::random()
    }
}

impl BuildHasher for IdHasher {
    type Hasher = siphasher::sip::SipHasher13;

    fn build_hasher(&self) -> Self::Hasher {
        siphasher::sip::SipHasher13::new_with_keys(self.keys.0, self.keys.1)
    }
}

/// The hash a view's index files a node under: its id's kind and string, the same whether the
/// id is owned or borrowed from a node's bytes.
pub(crate) fn id_hash(hasher: &impl BuildHasher, id: NamedOrBlankNodeRef<'_>) -> u64 {
    let mut h = hasher.build_hasher();
    match id {
        NamedOrBlankNodeRef::NamedNode(n) => {
            h.write_u8(0);
            h.write(n.as_str().as_bytes());
        }
        NamedOrBlankNodeRef::BlankNode(b) => {
            h.write_u8(1);
            h.write(b.as_str().as_bytes());
        }
    }
    h.finish()
}

/// The string of an IRI or a literal.
pub(crate) fn term_str(t: TermRef<'_>) -> Option<&str> {
    match t {
        TermRef::NamedNode(n) => Some(n.as_str()),
        TermRef::Literal(l) => Some(l.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::model::{BlankNode, Literal, NamedNode};

    fn encoded(props: &[(&str, Vec<Term>)]) -> Node {
        let props: Vec<(Arc<str>, Vec<Term>)> = props.iter().map(|(p, values)| (Arc::from(*p), values.clone())).collect();
        let mut encoder = Encoder::new(props.iter().map(|(p, _)| p.clone()));
        let id = NamedNode::new_unchecked("http://example.org/n").into();
        let bytes = encoder.node(&id, &props);
        Node::from_bytes(Arc::new(encoder.finish()), &bytes).expect("bytes the encoder wrote")
    }

    #[test]
    fn every_kind_of_value_reads_back_as_it_was_given() {
        let title = "http://purl.org/dc/terms/title";
        let date = NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#date");
        let terms: Vec<Term> = vec![
            NamedNode::new_unchecked("http://example.org/x").into(),
            BlankNode::new_unchecked("b0").into(),
            Literal::new_simple_literal("肺がん").into(),
            Literal::new_language_tagged_literal_unchecked("Lung cancer", "en").into(),
            Literal::new_typed_literal("2021-04-01", date).into(),
            Literal::new_simple_literal("").into(),
        ];
        let node = encoded(&[("http://z.example/last", vec![Literal::new_simple_literal("z").into()]), (title, terms.clone())]);
        let read: Vec<Term> = node.values(NamedNodeRef::new_unchecked(title)).map(TermRef::into_owned).collect();
        assert_eq!(read, terms);
        assert_eq!(node.values(NamedNodeRef::new_unchecked(title)).len(), 6);
        assert!(node.values(vocab::RDF_TYPE).is_empty());
        let order: Vec<&str> = node.properties().map(|(p, _)| p).collect();
        assert_eq!(order, [title, "http://z.example/last"], "by IRI, whatever order they were given in");
        assert_eq!(node.first(NamedNodeRef::new_unchecked("http://z.example/last")), Some("z"));
    }

    #[test]
    fn damaged_bytes_are_refused_with_what_is_wrong() {
        let node = encoded(&[
            ("http://a.example/p", vec![Literal::new_language_tagged_literal_unchecked("x", "ja").into()]),
            ("http://b.example/q", vec![Literal::new_simple_literal("y").into()]),
        ]);
        let names = || node.names.clone();
        let bytes = node.bytes().to_vec();
        let refused = |bytes: Vec<u8>| Node::from_bytes(names(), &bytes).expect_err("refused");
        assert_eq!(node.id(), NamedNodeRef::new_unchecked("http://example.org/n").into());
        // The properties start after the id's kind, length and string.
        let at = 2 + "http://example.org/n".len();
        // An id of no known kind, or cut short.
        let mut id = bytes.clone();
        id[0] = 5;
        assert!(refused(id).contains("id of unknown kind 5"));
        assert!(refused(bytes[..at - 1].to_vec()).contains("id that ends early"));
        // Cut short.
        assert!(refused(bytes[..bytes.len() - 1].to_vec()).contains("end early"));
        // The second property numbered as the first: out of order.
        let mut swapped = bytes.clone();
        let second = bytes.len() - 6;
        assert_eq!(swapped[second], 1, "the second property's number");
        swapped[second] = 0;
        assert!(refused(swapped).contains("out of order"));
        // An unknown kind of value, and a language tag the view does not have.
        let mut kind = bytes.clone();
        kind[at + 3] = 9;
        assert!(refused(kind).contains("unknown kind 9"));
        let mut tag = bytes.clone();
        tag[at + 4] = 7;
        assert!(refused(tag).contains("language tag"));
        // A string that is not UTF-8.
        let mut utf8 = bytes.clone();
        let last = utf8.len() - 1;
        utf8[last] = 0xff;
        assert!(refused(utf8).contains("UTF-8"));
    }
}
