//! What a mapping reads: JSON values (JSON records, CSV rows) or XML nodes, and the references
//! into them (JSONPath or XPath, after the logical source's reference formulation).

use serde_json::Value;

use super::Formulation;
use super::json::Reference as JsonReference;
use super::xpath::{XPath, XmlNode};

/// A record, or an iteration item within one: a JSON value (a JSON record, a CSV row as an
/// object) or an XML node.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    Json(&'a Value),
    Xml(XmlNode<'a>),
}

impl<'a> From<&'a Value> for Record<'a> {
    fn from(value: &'a Value) -> Record<'a> {
        Record::Json(value)
    }
}

impl Record<'_> {
    /// A number that names the item within one run (fresh blank nodes are labelled by it).
    pub(crate) fn address(&self) -> usize {
        match self {
            Record::Json(v) => std::ptr::from_ref(*v) as usize,
            Record::Xml(n) => n.address(),
        }
    }

    /// Adds the names the record uses (JSON object keys, XML element and attribute names) to
    /// `names`, while it holds fewer than `cap`: what a misspelt reference is compared with.
    pub fn names(&self, names: &mut std::collections::BTreeSet<String>, cap: usize) {
        match self {
            Record::Json(v) => {
                let mut stack = vec![*v];
                while let Some(v) = stack.pop() {
                    match v {
                        Value::Object(o) => {
                            for (k, v) in o {
                                if names.len() >= cap {
                                    return;
                                }
                                if !names.contains(k) {
                                    names.insert(k.clone());
                                }
                                stack.push(v);
                            }
                        }
                        Value::Array(a) => stack.extend(a),
                        _ => {}
                    }
                }
            }
            Record::Xml(n) => {
                for node in n.subtree().into_iter().flat_map(|e| std::iter::once(e).chain(e.attributes())) {
                    if names.len() >= cap {
                        return;
                    }
                    if node.is_element() || node.is_attribute() {
                        let name = if node.is_attribute() { format!("@{}", node.name()) } else { node.name() };
                        if !names.contains(&name) {
                            names.insert(name);
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn same(&self, other: &Record<'_>) -> bool {
        match (self, other) {
            (Record::Json(a), Record::Json(b)) => std::ptr::eq(*a, *b),
            (Record::Xml(a), Record::Xml(b)) => a.address() == b.address(),
            _ => false,
        }
    }
}

/// A parsed XML document, whose nodes are records (as the document, or split by an XPath).
#[derive(Debug)]
pub struct XmlDocument<'t> {
    doc: roxmltree::Document<'t>,
}

/// XML that does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not well-formed XML at line {line} column {column}: {message}")]
pub struct XmlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Nodes at most in one document, so that a hostile document cannot fill the memory beyond what
/// its size cap already allows.
const MAX_NODES: u32 = 50_000_000;

impl<'t> XmlDocument<'t> {
    pub fn parse(text: &'t str) -> Result<XmlDocument<'t>, XmlError> {
        // DTDs are allowed (SRA-style exports may carry one); roxmltree guards against entity
        // expansion bombs itself.
        let options = roxmltree::ParsingOptions { allow_dtd: true, nodes_limit: MAX_NODES, ..Default::default() };
        roxmltree::Document::parse_with_options(text, options).map(|doc| XmlDocument { doc }).map_err(|e| {
            let (line, column) = match e {
                // roxmltree places these at 1:1; they happen where the text ends.
                roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode => {
                    let last = text.rsplit('\n').next().unwrap_or(text);
                    (text.matches('\n').count() as u32 + 1, last.chars().count() as u32 + 1)
                }
                _ => (e.pos().row, e.pos().col),
            };
            let message = e.to_string();
            // roxmltree ends its message with " at ROW:COL"; the position is given apart.
            let message = message.rsplit_once(" at ").map_or(message.clone(), |(m, _)| m.to_owned());
            XmlError { line, column, message }
        })
    }

    /// The document node: what a mapping over the whole document reads.
    pub fn root(&self) -> Record<'_> {
        Record::Xml(XmlNode::new(self.doc.root()))
    }

    /// The nodes an XPath selects from the document: e.g. its records (`/STUDY_SET/STUDY`).
    pub fn select(&self, path: &XPath) -> Result<Vec<Record<'_>>, crate::SourceError> {
        Ok(path.select(XmlNode::new(self.doc.root()), None)?.into_iter().map(Record::Xml).collect())
    }
}

impl XPath {
    /// The values the XPath finds in an XML record (e.g. its id, `@accession`); a JSON record
    /// has none.
    pub fn values(&self, record: Record<'_>) -> Result<Vec<String>, crate::SourceError> {
        match record {
            Record::Xml(node) => Ok(self.strings(node)?),
            Record::Json(_) => Err(format!("XPath {self} cannot read a JSON record").into()),
        }
    }
}

/// A reference into a record, in the language of its logical source.
#[derive(Debug, Clone)]
pub(crate) enum Reference {
    Json(JsonReference),
    XPath(XPath),
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Json(r) => r.fmt(f),
            Reference::XPath(x) => x.fmt(f),
        }
    }
}

impl Reference {
    pub(crate) fn parse(expression: &str, formulation: Formulation) -> Result<Reference, String> {
        match formulation {
            Formulation::XPath => XPath::parse(expression).map(Reference::XPath).map_err(|e| e.0),
            Formulation::JsonPath | Formulation::Csv => JsonReference::parse(expression).map(Reference::Json),
        }
    }

    /// Whether the reference finds a value (not null) in the item.
    pub(crate) fn finds(&self, item: Record<'_>) -> bool {
        match (self, item) {
            (Reference::Json(r), Record::Json(v)) => r.nodes(v).iter().any(|n| !n.is_null()),
            (Reference::XPath(x), Record::Xml(n)) => x.strings(n).is_ok_and(|s| !s.is_empty()),
            _ => false,
        }
    }

    fn mismatch(&self, item: &Record<'_>) -> String {
        match (self, item) {
            (Reference::Json(r), _) => format!("a JSONPath reference ({r}) cannot read an XML record; the logical source needs rml:referenceFormulation rml:XPath"),
            (Reference::XPath(x), _) => format!("an XPath reference ({x}) cannot read a JSON record or CSV row"),
        }
    }

    /// The scalar values the reference finds (XML values are strings).
    pub(crate) fn scalars(&self, item: Record<'_>) -> Result<Vec<Value>, String> {
        match (self, item) {
            (Reference::Json(r), Record::Json(v)) => r.scalars(v),
            (Reference::XPath(x), Record::Xml(n)) => Ok(x.strings(n)?.into_iter().map(Value::String).collect()),
            _ => Err(self.mismatch(&item)),
        }
    }

    pub(crate) fn strings(&self, item: Record<'_>) -> Result<Vec<String>, String> {
        match (self, item) {
            (Reference::Json(r), Record::Json(v)) => r.strings(v),
            (Reference::XPath(x), Record::Xml(n)) => x.strings(n),
            _ => Err(self.mismatch(&item)),
        }
    }

    /// The iteration items an iterator finds in a record. An absolute XPath finds only what
    /// lies within the record, so one mapping serves a whole document and its records alike.
    pub(crate) fn items<'a>(&self, record: Record<'a>) -> Result<Vec<Record<'a>>, String> {
        match (self, record) {
            (Reference::Json(r), Record::Json(v)) => Ok(r.nodes(v).into_iter().map(Record::Json).collect()),
            (Reference::XPath(x), Record::Xml(n)) if x.is_self() => Ok(vec![Record::Xml(n)]),
            (Reference::XPath(x), Record::Xml(n)) => Ok(x.select(n, Some(n))?.into_iter().map(Record::Xml).collect()),
            _ => Err(self.mismatch(&record)),
        }
    }
}
