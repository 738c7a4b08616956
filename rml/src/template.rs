//! RML string templates: `https://example.org/{id}` with `\{` and `\}` as escapes.

use super::Formulation;
use super::record::{Record, Reference};

#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Reference(Reference),
}

impl Template {
    /// Parses a template whose references are in the language of `formulation`.
    pub(crate) fn parse(template: &str, formulation: Formulation) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('{' | '}' | '\\')) => text.push(e),
                    Some(other) => {
                        text.push('\\');
                        text.push(other);
                    }
                    None => return Err(format!("template {template:?} ends with a lone backslash")),
                },
                '{' => {
                    let mut reference = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('\\') => reference.extend(chars.next()),
                            Some(c) => reference.push(c),
                            None => return Err(format!("template {template:?} has an unclosed '{{'")),
                        }
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Reference(Reference::parse(&reference, formulation)?));
                }
                '}' => return Err(format!("template {template:?} has a '}}' with no '{{'")),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// The references the template inserts.
    pub(crate) fn references(&self) -> impl Iterator<Item = &Reference> {
        self.parts.iter().filter_map(|p| match p {
            Part::Reference(r) => Some(r),
            Part::Text(_) => None,
        })
    }

    /// Every combination of the references' values (RML's cartesian product). A reference with
    /// no value makes the template produce nothing. Inserted values are encoded as `encoding`
    /// says.
    pub(crate) fn expand(&self, item: Record<'_>, encoding: Encoding) -> Result<Vec<String>, String> {
        let mut results = vec![String::new()];
        for part in &self.parts {
            match part {
                Part::Text(t) => results.iter_mut().for_each(|r| r.push_str(t)),
                Part::Reference(reference) => {
                    let values = reference.strings(item)?;
                    if values.is_empty() {
                        return Ok(Vec::new());
                    }
                    results = results
                        .iter()
                        .flat_map(|prefix| {
                            values.iter().map(move |v| {
                                let mut s = prefix.clone();
                                match encoding {
                                    Encoding::None => s.push_str(v),
                                    Encoding::IriSafe => percent_encode_into(v, &mut s, false),
                                    Encoding::UriSafe => percent_encode_into(v, &mut s, true),
                                }
                                s
                            })
                        })
                        .collect();
                }
            }
        }
        Ok(results)
    }
}

/// How values inserted into a template are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// As they are (literals, unsafe IRIs).
    None,
    /// IRI-safe: ASCII characters other than letters, digits and `-._~` are percent-encoded;
    /// other Unicode characters stay (RFC 3987 `iunreserved`).
    IriSafe,
    /// URI-safe: every character other than ASCII letters, digits and `-._~` is encoded.
    UriSafe,
}

fn percent_encode_into(value: &str, out: &mut String, encode_non_ascii: bool) {
    for c in value.chars() {
        let unreserved = c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') || (!c.is_ascii() && !encode_non_ascii);
        if unreserved {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
}
