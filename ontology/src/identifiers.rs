//! Identifier IRI normalisation: one record, one IRI, whichever database named it.
//!
//! Databases mint different IRIs for the same accession (DDBJ's `search/entry/…` pages and its
//! `resource/…` RDF, identifiers.org, NCBI, the hub's own `w3id.org/musubi/…`). The vocabulary
//! lists, as data, each identifier scheme's alias prefixes and the canonical one; harvests rewrite
//! aliases before storing, so sources that describe the same record meet on one node.

use oxigraph::model::{Graph, NamedNode, NamedNodeRef, NamedOrBlankNode, Term, TermRef, Triple};
use regex::Regex;

use crate::iris;

/// One scheme: `alias + id` becomes `canonical + id` when `id` matches the pattern.
#[derive(Debug, Clone)]
pub struct IdentifierScheme {
    pub name: String,
    pub canonical: String,
    pub aliases: Vec<String>,
    pub id_pattern: Option<Regex>,
}

/// Objects of these properties are web addresses a user follows: kept as the source gave them.
const WEB_ADDRESSES: [NamedNodeRef<'static>; 5] = [
    iris::DCAT_LANDING_PAGE,
    iris::DCAT_ACCESS_URL,
    iris::DCAT_DOWNLOAD_URL,
    iris::MUSUBI_SOURCE_RECORD_URL,
    iris::SCHEMA_URL,
];

/// Every scheme the vocabulary declares.
#[derive(Debug, Clone, Default)]
pub struct IdentifierSchemes {
    schemes: Vec<IdentifierScheme>,
}

impl IdentifierSchemes {
    /// Reads the `musubi:IdentifierScheme`s of a vocabulary graph; `origin` names it in errors.
    pub(crate) fn from_graph(graph: &Graph, origin: &str) -> Result<IdentifierSchemes, String> {
        let literal = |s: NamedOrBlankNode, p| -> Vec<String> {
            graph
                .objects_for_subject_predicate(&s, p)
                .filter_map(|o| match o {
                    TermRef::Literal(l) => Some(l.value().to_owned()),
                    _ => None,
                })
                .collect()
        };
        let mut schemes = Vec::new();
        for subject in graph.subjects_for_predicate_object(iris::RDF_TYPE, iris::MUSUBI_IDENTIFIER_SCHEME) {
            let subject = subject.into_owned();
            let name = subject.to_string();
            let canonical = literal(subject.clone(), iris::MUSUBI_CANONICAL_PREFIX);
            let [canonical] = canonical.as_slice() else {
                return Err(format!("{origin}: identifier scheme {name} declares {} canonical prefixes; declare exactly one", canonical.len()));
            };
            let id_pattern = match literal(subject.clone(), iris::MUSUBI_ID_PATTERN).first() {
                Some(p) => Some(Regex::new(p).map_err(|e| format!("{origin}: identifier scheme {name}: id pattern {p:?}: {e}"))?),
                None => None,
            };
            let aliases = literal(subject, iris::MUSUBI_ALIAS_PREFIX);
            schemes.push(IdentifierScheme { name, canonical: canonical.clone(), aliases, id_pattern });
        }
        schemes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(IdentifierSchemes { schemes })
    }

    pub fn schemes(&self) -> &[IdentifierScheme] {
        &self.schemes
    }

    /// The canonical IRI for `iri`, if a scheme knows it under another name.
    pub fn canonical(&self, iri: &str) -> Option<String> {
        self.schemes.iter().find_map(|s| {
            s.aliases.iter().find_map(|alias| {
                let id = iri.strip_prefix(alias.as_str())?;
                let matches = s.id_pattern.as_ref().is_none_or(|p| p.is_match(id));
                matches.then(|| format!("{}{id}", s.canonical))
            })
        })
    }

    fn named(&self, n: &NamedNode) -> Option<NamedNode> {
        self.canonical(n.as_str()).and_then(|c| NamedNode::new(c).ok())
    }

    /// Rewrites aliases in subjects and in linked objects (not web addresses); returns how many
    /// terms changed.
    pub fn normalise(&self, triples: &mut [Triple]) -> usize {
        if self.schemes.is_empty() {
            return 0;
        }
        let mut changed = 0;
        for t in triples.iter_mut() {
            if let NamedOrBlankNode::NamedNode(n) = &t.subject
                && let Some(c) = self.named(n)
            {
                t.subject = c.into();
                changed += 1;
            }
            if WEB_ADDRESSES.contains(&t.predicate.as_ref()) {
                continue;
            }
            if let Term::NamedNode(n) = &t.object
                && let Some(c) = self.named(n)
            {
                t.object = c.into();
                changed += 1;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use crate::vocab::Vocabulary;

    #[test]
    fn ddbj_search_pages_and_resources_are_one_record() {
        let v = Vocabulary::builtin();
        let ids = v.identifier_schemes();
        let resource = "https://ddbj.nig.ac.jp/resource/bioproject/PRJDB1234";
        assert_eq!(ids.canonical("https://ddbj.nig.ac.jp/search/entry/bioproject/PRJDB1234").as_deref(), Some(resource));
        assert_eq!(ids.canonical("http://identifiers.org/bioproject/PRJDB1234").as_deref(), Some(resource));
        assert_eq!(ids.canonical(resource), None, "canonical IRIs stay");
        assert_eq!(
            ids.canonical("http://ddbj.nig.ac.jp/resource/jga-dataset/JGAD000001").as_deref(),
            Some("https://w3id.org/musubi/dataset/JGAD000001")
        );
        // Only ids of the scheme: other pages under the same prefix are left alone.
        assert_eq!(ids.canonical("https://ddbj.nig.ac.jp/search/entry/bioproject/help"), None);
        assert_eq!(ids.canonical("http://humandbs.biosciencedbc.jp/en/guidelines"), None);
        assert_eq!(ids.canonical("http://humandbs.biosciencedbc.jp/hum0004-v1").as_deref(), Some("https://w3id.org/musubi/study/hum0004-v1"));
    }

    #[test]
    fn landing_pages_keep_the_address_the_source_gave() {
        use oxigraph::model::{NamedNode, Triple};
        let v = Vocabulary::builtin();
        let page = NamedNode::new("https://ddbj.nig.ac.jp/search/entry/bioproject/PRJDB1234").unwrap();
        let mut triples = vec![
            Triple::new(page.clone(), crate::iris::DCAT_LANDING_PAGE, page.clone()),
            Triple::new(page.clone(), crate::iris::OWL_SAME_AS, page.clone()),
        ];
        assert_eq!(v.identifier_schemes().normalise(&mut triples), 3);
        let canonical = NamedNode::new("https://ddbj.nig.ac.jp/resource/bioproject/PRJDB1234").unwrap();
        assert_eq!(triples[0], Triple::new(canonical.clone(), crate::iris::DCAT_LANDING_PAGE, page));
        assert_eq!(triples[1], Triple::new(canonical.clone(), crate::iris::OWL_SAME_AS, canonical));
    }

    #[test]
    fn a_scheme_with_a_bad_pattern_names_itself() {
        let err = Vocabulary::from_turtle(
            r#"<http://e/S> a <https://w3id.org/musubi/vocab#IdentifierScheme> ;
                 <https://w3id.org/musubi/vocab#canonicalPrefix> "http://c/" ;
                 <https://w3id.org/musubi/vocab#idPattern> "([" ."#,
            "custom.ttl",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("custom.ttl") && err.contains("http://e/S"), "{err}");
    }
}
