//! Records as triples: writing a record's values (typed literals, agents, RDF lists for what is
//! ordered) and reading them back from its graph, with an error that names the graph and what is
//! missing or wrong.

use std::collections::HashMap;

use musubi_ontology::rdf::{BlankNode, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Term, Triple};
use musubi_ontology::vocab as v;

/// A record in its graph that cannot be read back: the graph, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("process record {graph}: {problem}")]
pub struct Malformed {
    pub graph: String,
    pub problem: String,
}

/// Triples being written for one record.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub triples: Vec<Triple>,
}

impl Writer {
    pub fn add(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNodeRef<'_>, o: impl Into<Term>) {
        self.triples.push(Triple::new(s, p, o));
    }

    pub fn string(&mut self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>, value: &str) {
        self.add(s.clone(), p, Literal::new_simple_literal(value));
    }

    pub fn optional(&mut self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>, value: Option<&str>) {
        if let Some(value) = value {
            self.string(s, p, value);
        }
    }

    /// A literal of `datatype` (dates, times): a value that is not of its type stays as written.
    pub fn typed(&mut self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>, value: &str, datatype: NamedNodeRef<'_>) {
        self.add(s.clone(), p, Literal::new_typed_literal(value, datatype));
    }

    pub fn boolean(&mut self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>, value: bool) {
        self.add(s.clone(), p, Literal::from(value));
    }

    pub fn integer(&mut self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>, value: i64) {
        self.add(s.clone(), p, Literal::from(value));
    }

    /// `s p ( items… )`: an RDF list, for values whose order is part of the record.
    pub fn list(&mut self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>, items: impl IntoIterator<Item = Term>) {
        let items: Vec<Term> = items.into_iter().collect();
        let mut rest: Term = v::RDF_NIL.into_owned().into();
        for item in items.into_iter().rev() {
            let cell = BlankNode::default();
            self.add(cell.clone(), v::RDF_FIRST, item);
            self.add(cell.clone(), v::RDF_REST, rest);
            rest = cell.into();
        }
        self.add(s.clone(), p, rest);
    }

    /// A list of plain strings.
    pub fn strings(&mut self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>, values: &[String]) {
        self.list(s, p, values.iter().map(|x| Literal::new_simple_literal(x).into()));
    }
}

/// One record's graph, its triples by subject, read back value by value.
#[derive(Debug)]
pub(crate) struct Reader {
    graph: String,
    by_subject: HashMap<NamedOrBlankNode, Vec<(NamedNode, Term)>>,
}

impl Reader {
    pub fn new(graph: &NamedNode, triples: Vec<Triple>) -> Reader {
        let mut by_subject: HashMap<NamedOrBlankNode, Vec<(NamedNode, Term)>> = HashMap::new();
        for t in triples {
            by_subject.entry(t.subject).or_default().push((t.predicate, t.object));
        }
        Reader { graph: graph.as_str().to_owned(), by_subject }
    }

    pub fn malformed(&self, problem: impl Into<String>) -> Malformed {
        Malformed { graph: self.graph.clone(), problem: problem.into() }
    }

    pub fn term(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Option<&Term> {
        self.by_subject.get(s)?.iter().find(|(q, _)| q.as_ref() == p).map(|(_, o)| o)
    }

    /// Every value of `p` on `s`.
    pub fn terms<'a>(&'a self, s: &NamedOrBlankNode, p: NamedNodeRef<'a>) -> impl Iterator<Item = &'a Term> + 'a {
        self.by_subject.get(s).into_iter().flatten().filter(move |(q, _)| q.as_ref() == p).map(|(_, o)| o)
    }

    pub fn optional(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Option<String> {
        match self.term(s, p)? {
            Term::Literal(l) => Some(l.value().to_owned()),
            Term::NamedNode(n) => Some(n.as_str().to_owned()),
            _ => None,
        }
    }

    pub fn string(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Result<String, Malformed> {
        self.optional(s, p).ok_or_else(|| self.malformed(format!("{s} has no {p}")))
    }

    pub fn boolean(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Result<bool, Malformed> {
        match self.string(s, p)?.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(self.malformed(format!("{s} {p} is {other:?}, not a boolean"))),
        }
    }

    pub fn integer(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Result<i64, Malformed> {
        let text = self.string(s, p)?;
        text.parse().map_err(|_| self.malformed(format!("{s} {p} is {text:?}, not an integer")))
    }

    /// The subject (named or blank) `p` points at.
    pub fn node(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Result<NamedOrBlankNode, Malformed> {
        match self.term(s, p) {
            Some(Term::NamedNode(n)) => Ok(n.clone().into()),
            Some(Term::BlankNode(b)) => Ok(b.clone().into()),
            _ => Err(self.malformed(format!("{s} has no node for {p}"))),
        }
    }

    /// The items of the RDF list `s p ( … )`, in order.
    pub fn list(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Result<Vec<Term>, Malformed> {
        let mut items = Vec::new();
        let mut cell = self.term(s, p).cloned().ok_or_else(|| self.malformed(format!("{s} has no list for {p}")))?;
        // A list longer than the graph's subjects would loop: stop there.
        for _ in 0..=self.by_subject.len() {
            let node: NamedOrBlankNode = match &cell {
                Term::NamedNode(n) if n.as_ref() == v::RDF_NIL => return Ok(items),
                Term::NamedNode(n) => n.clone().into(),
                Term::BlankNode(b) => b.clone().into(),
                _ => break,
            };
            items.push(self.term(&node, v::RDF_FIRST).cloned().ok_or_else(|| self.malformed(format!("a list cell of {p} has no rdf:first")))?);
            cell = self.term(&node, v::RDF_REST).cloned().ok_or_else(|| self.malformed(format!("a list cell of {p} has no rdf:rest")))?;
        }
        Err(self.malformed(format!("the list of {p} does not end")))
    }

    /// A list of plain values (literals' text, IRIs as strings).
    pub fn strings(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Result<Vec<String>, Malformed> {
        self.list(s, p)?
            .into_iter()
            .map(|t| match t {
                Term::Literal(l) => Ok(l.value().to_owned()),
                Term::NamedNode(n) => Ok(n.into_string()),
                other => Err(self.malformed(format!("{other} in the list of {p} is not a value"))),
            })
            .collect()
    }
}
