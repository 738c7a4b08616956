//! The hub vocabulary: the declarations loaded from Turtle (and, re-exported from [`crate::iris`],
//! every IRI the code names).
//!
//! The Turtle file (`vocab/musubi.ttl`, built in; a deployment may load its own copy) is the one
//! place where a property's access tier is declared. Code never hard-codes a tier: it asks
//! [`Vocabulary::tier_of`], which answers [`Tier::Steward`] for anything undeclared.

use std::collections::HashMap;

use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{Graph, NamedNodeRef, NamedOrBlankNode, Term, TermRef, Triple};

use crate::identifiers::IdentifierSchemes;
use crate::tier::Tier;

/// The hub vocabulary as shipped.
pub const BUILTIN_TURTLE: &str = include_str!("../vocab/musubi.ttl");

pub use crate::iris::*;

/// The normalised access level of a dataset, whatever words its source used. Ordered from the
/// most open to the most restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    Open,
    Registered,
    Controlled,
    Closed,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 4] =
        [AccessLevel::Open, AccessLevel::Registered, AccessLevel::Controlled, AccessLevel::Closed];

    pub fn iri(self) -> NamedNodeRef<'static> {
        NamedNodeRef::new_unchecked(match self {
            AccessLevel::Open => "https://w3id.org/musubi/vocab#OpenAccess",
            AccessLevel::Registered => "https://w3id.org/musubi/vocab#RegisteredAccess",
            AccessLevel::Controlled => "https://w3id.org/musubi/vocab#ControlledAccess",
            AccessLevel::Closed => "https://w3id.org/musubi/vocab#ClosedAccess",
        })
    }

    pub fn from_iri(iri: &str) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|l| l.iri().as_str() == iri)
    }
}

/// What the vocabulary declares about one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyDecl {
    pub iri: String,
    /// `None` when the file declares no tier: such a property is steward-only.
    pub tier: Option<Tier>,
    pub graphql_field: Option<String>,
    /// `rdfs:range` when it is a datatype (xsd:…, rdf:langString): values must have it.
    pub datatype: Option<String>,
    /// `musubi:visibleUnderEmbargo true`: shown below STEWARD while its record is embargoed.
    pub visible_under_embargo: bool,
}

/// A vocabulary file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VocabularyError {
    #[error("{origin}: not valid Turtle: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: property <{property}> has tier <{tier}>, which is not one of the four musubi tiers")]
    UnknownTier { origin: String, property: String, tier: String },
    #[error("{origin}: property <{property}> declares {count} tiers; declare exactly one")]
    SeveralTiers { origin: String, property: String, count: usize },
    #[error("{0}")]
    IdentifierScheme(String),
}

/// The loaded hub vocabulary.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    properties: HashMap<String, PropertyDecl>,
    /// Lower-cased source wording or IRI → normalised level.
    access_levels: HashMap<String, AccessLevel>,
    identifiers: IdentifierSchemes,
    /// A hash of the Turtle it was read from (see [`Self::fingerprint`]).
    fingerprint: u64,
}

impl Vocabulary {
    /// The vocabulary shipped in this build. It is checked by this crate's tests, so loading it
    /// cannot fail at run time.
    pub fn builtin() -> Vocabulary {
        Vocabulary::from_turtle(BUILTIN_TURTLE, "built-in vocabulary").expect("the built-in vocabulary is valid")
    }

    /// Loads a vocabulary file; `origin` names it in errors.
    pub fn from_turtle(text: &str, origin: &str) -> Result<Vocabulary, VocabularyError> {
        let mut graph = Graph::new();
        for triple in RdfParser::from_format(RdfFormat::Turtle).for_slice(text.as_bytes()) {
            let triple = triple.map_err(|e| VocabularyError::Syntax {
                origin: origin.to_owned(),
                message: e.to_string(),
            })?;
            graph.insert(&oxigraph::model::Triple::from(triple));
        }

        let mut properties: HashMap<String, PropertyDecl> = HashMap::new();
        let declared = graph
            .triples_for_predicate(MUSUBI_TIER)
            .chain(graph.triples_for_predicate(MUSUBI_GRAPHQL_FIELD))
            .map(|t| t.subject.into_owned());
        for subject in declared.collect::<Vec<_>>() {
            let oxigraph::model::NamedOrBlankNode::NamedNode(property) = &subject else { continue };
            let tiers: Vec<_> = graph.objects_for_subject_predicate(&subject, MUSUBI_TIER).collect();
            if tiers.len() > 1 {
                return Err(VocabularyError::SeveralTiers {
                    origin: origin.to_owned(),
                    property: property.as_str().to_owned(),
                    count: tiers.len(),
                });
            }
            let tier = match tiers.first() {
                Some(TermRef::NamedNode(n)) => Some(Tier::from_iri(n.as_str()).ok_or_else(|| {
                    VocabularyError::UnknownTier {
                        origin: origin.to_owned(),
                        property: property.as_str().to_owned(),
                        tier: n.as_str().to_owned(),
                    }
                })?),
                Some(other) => {
                    return Err(VocabularyError::UnknownTier {
                        origin: origin.to_owned(),
                        property: property.as_str().to_owned(),
                        tier: other.to_string(),
                    });
                }
                None => None,
            };
            let graphql_field = match graph.object_for_subject_predicate(&subject, MUSUBI_GRAPHQL_FIELD) {
                Some(TermRef::Literal(l)) => Some(l.value().to_owned()),
                _ => None,
            };
            let datatype = match graph.object_for_subject_predicate(&subject, RDFS_RANGE) {
                Some(TermRef::NamedNode(n))
                    if n.as_str().starts_with("http://www.w3.org/2001/XMLSchema#") || n.as_str().ends_with("#langString") =>
                {
                    Some(n.as_str().to_owned())
                }
                _ => None,
            };
            let visible_under_embargo = matches!(
                graph.object_for_subject_predicate(&subject, MUSUBI_VISIBLE_UNDER_EMBARGO),
                Some(TermRef::Literal(l)) if l.value() == "true" || l.value() == "1"
            );
            properties.insert(
                property.as_str().to_owned(),
                PropertyDecl { iri: property.as_str().to_owned(), tier, graphql_field, datatype, visible_under_embargo },
            );
        }

        let mut access_levels = HashMap::new();
        for level in AccessLevel::ALL {
            for label in graph.objects_for_subject_predicate(level.iri(), MUSUBI_SOURCE_LABEL) {
                if let TermRef::Literal(l) = label {
                    access_levels.insert(l.value().to_lowercase(), level);
                }
            }
            for same in graph.objects_for_subject_predicate(level.iri(), SKOS_EXACT_MATCH) {
                if let TermRef::NamedNode(n) = same {
                    access_levels.insert(n.as_str().to_owned(), level);
                }
            }
            access_levels.insert(level.iri().as_str().to_owned(), level);
        }

        let identifiers = IdentifierSchemes::from_graph(&graph, origin).map_err(VocabularyError::IdentifierScheme)?;
        let fingerprint = text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        Ok(Vocabulary { properties, access_levels, identifiers, fingerprint })
    }

    /// A hash (FNV-1a) of the Turtle this vocabulary was read from: a harvest mapped under
    /// another vocabulary is not the same content even from the same pages.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The tier needed to read `property`. Undeclared properties are steward-only.
    pub fn tier_of(&self, property: &str) -> Tier {
        self.properties.get(property).and_then(|p| p.tier).unwrap_or(Tier::Steward)
    }

    /// Whether `property` stays visible below STEWARD on an embargoed record. Undeclared: no.
    pub fn visible_under_embargo(&self, property: &str) -> bool {
        self.properties.get(property).is_some_and(|p| p.visible_under_embargo)
    }

    /// Whether an embargoed record asked for by accession answers below STEWARD (with the
    /// properties marked `musubi:visibleUnderEmbargo`): only where a deployment marks some. The
    /// built-in vocabulary marks none, so an embargoed record answers as one the hub lacks.
    pub fn announces_embargoed(&self) -> bool {
        self.properties.values().any(|p| p.visible_under_embargo)
    }

    pub fn property(&self, iri: &str) -> Option<&PropertyDecl> {
        self.properties.get(iri)
    }

    /// The identifier schemes whose alias IRIs harvests rewrite to one canonical IRI.
    pub fn identifier_schemes(&self) -> &IdentifierSchemes {
        &self.identifiers
    }

    pub fn properties(&self) -> impl Iterator<Item = &PropertyDecl> {
        self.properties.values()
    }

    /// What every staged graph goes through before it is swapped in (a harvest's, an ingested
    /// DMP's): identifier IRIs rewritten to their canonical form, so sources meet on one node, and
    /// stated access levels normalised.
    pub fn prepare_staged(&self, triples: &mut Vec<Triple>) {
        self.identifiers.normalise(triples);
        self.add_access_levels(triples);
    }

    /// Normalises what a source says about access: a literal such as NBDC's
    /// "Controlled-access (Type I)" (compared case-insensitively) or an IRI such as the EU
    /// access-right authority's `NON_PUBLIC`.
    pub fn normalise_access_level(&self, stated: &Term) -> Option<AccessLevel> {
        match stated {
            Term::Literal(l) => self.access_levels.get(&l.value().trim().to_lowercase()).copied(),
            Term::NamedNode(n) => self.access_levels.get(n.as_str()).copied(),
            _ => None,
        }
    }

    /// Adds `musubi:accessLevel` wherever a record states its access in words or IRIs the
    /// vocabulary knows (`musubi:sourceAccessLevel` or `dct:accessRights`).
    pub fn add_access_levels(&self, triples: &mut Vec<Triple>) {
        let mut added = Vec::new();
        for t in triples.iter() {
            let states_access = t.predicate.as_ref() == MUSUBI_SOURCE_ACCESS_LEVEL || t.predicate.as_ref() == DCT_ACCESS_RIGHTS;
            if let Some(level) = self.normalise_access_level(&t.object).filter(|_| states_access) {
                added.push(Triple::new(t.subject.clone(), MUSUBI_ACCESS_LEVEL, level.iri()));
            }
        }
        triples.extend(added);
        // Each triple once (in an order of their terms' text: cheaper than formatting each).
        triples.sort_unstable_by(|a, b| triple_key(a).cmp(&triple_key(b)));
        triples.dedup();
    }
}

/// Whether a literal's lexical form is valid for its datatype, for the XSD datatypes the hub
/// reads (dates and times, numbers, booleans); a literal of any other datatype is taken as it is.
/// A partner's "not a date" typed `xsd:date` is not.
pub fn valid_lexical_form(literal: oxigraph::model::LiteralRef<'_>) -> bool {
    use std::str::FromStr;
    const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
    let Some(local) = literal.datatype().as_str().strip_prefix(XSD) else { return true };
    let value = literal.value();
    match local {
        "date" => oxsdatatypes::Date::from_str(value).is_ok(),
        "dateTime" | "dateTimeStamp" => oxsdatatypes::DateTime::from_str(value).is_ok(),
        "time" => oxsdatatypes::Time::from_str(value).is_ok(),
        "gYear" => oxsdatatypes::GYear::from_str(value).is_ok(),
        "gYearMonth" => oxsdatatypes::GYearMonth::from_str(value).is_ok(),
        "duration" => oxsdatatypes::Duration::from_str(value).is_ok(),
        "decimal" => oxsdatatypes::Decimal::from_str(value).is_ok(),
        "double" => oxsdatatypes::Double::from_str(value).is_ok(),
        "float" => oxsdatatypes::Float::from_str(value).is_ok(),
        "boolean" => oxsdatatypes::Boolean::from_str(value).is_ok(),
        "integer" | "long" | "int" | "short" | "byte" => oxsdatatypes::Integer::from_str(value).is_ok(),
        "nonNegativeInteger" | "unsignedLong" | "unsignedInt" | "unsignedShort" | "unsignedByte" => {
            oxsdatatypes::Integer::from_str(value).is_ok_and(|i| i >= oxsdatatypes::Integer::from(0))
        }
        "positiveInteger" => oxsdatatypes::Integer::from_str(value).is_ok_and(|i| i > oxsdatatypes::Integer::from(0)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::model::{Literal, NamedNode};

    #[test]
    fn builtin_vocabulary_declares_tiers_from_the_issue() {
        let v = Vocabulary::builtin();
        assert_eq!(v.tier_of(DCT_TITLE.as_str()), Tier::Public);
        assert_eq!(v.tier_of(MUSUBI_CONTACT_EMAIL.as_str()), Tier::Registered);
        assert_eq!(v.tier_of(DCAT_DOWNLOAD_URL.as_str()), Tier::Controlled);
        assert_eq!(v.tier_of(MUSUBI_SAMPLE_ATTRIBUTE.as_str()), Tier::Controlled);
        assert_eq!(v.tier_of(MUSUBI_INTERNAL_ID.as_str()), Tier::Steward);
        assert_eq!(v.tier_of(MUSUBI_EMBARGO_UNTIL.as_str()), Tier::Steward);
        assert_eq!(v.tier_of(MUSUBI_SENSITIVE.as_str()), Tier::Steward);
    }

    #[test]
    fn nothing_shows_under_embargo_unless_a_deployment_announces_it() {
        let v = Vocabulary::builtin();
        assert_eq!(v.properties().filter(|p| p.visible_under_embargo).count(), 0);
        assert!(!v.announces_embargoed());
        assert!(!v.visible_under_embargo("http://example.org/never-declared"));
        // A deployment's copy that marks the title announces embargoed records by their title.
        let text = BUILTIN_TURTLE.replace(
            "musubi:tier musubi:Public ; musubi:graphqlField \"title\"",
            "musubi:tier musubi:Public ; musubi:visibleUnderEmbargo true ; musubi:graphqlField \"title\"",
        );
        let announcing = Vocabulary::from_turtle(&text, "announcing.ttl").unwrap();
        assert!(announcing.announces_embargoed());
        assert!(announcing.visible_under_embargo(DCT_TITLE.as_str()));
        assert!(!announcing.visible_under_embargo(DCT_ISSUED.as_str()));
    }

    #[test]
    fn undeclared_property_is_steward_only() {
        let v = Vocabulary::builtin();
        assert_eq!(v.tier_of("http://example.org/never-declared"), Tier::Steward);
    }

    #[test]
    fn lexical_forms_are_checked_for_the_datatypes_the_hub_reads() {
        use oxigraph::model::{Literal, NamedNode};
        let typed = |v: &str, t: &str| Literal::new_typed_literal(v, NamedNode::new_unchecked(format!("http://www.w3.org/2001/XMLSchema#{t}")));
        for (v, t, ok) in [
            ("2024-03-31", "date", true),
            ("not a date", "date", false),
            ("2024-02-30", "date", false),
            ("2024-03-31T10:00:00Z", "dateTime", true),
            ("42", "integer", true),
            ("4.2", "integer", false),
            ("-1", "nonNegativeInteger", false),
            ("true", "boolean", true),
            ("yes", "boolean", false),
            ("anything", "string", true),
        ] {
            assert_eq!(valid_lexical_form(typed(v, t).as_ref()), ok, "{v:?} as xsd:{t}");
        }
    }

    #[test]
    fn every_musubi_term_the_code_names_is_declared_in_the_turtle() {
        // A term the code writes but the file does not declare is a term no one can look up.
        let mut declared = std::collections::HashSet::new();
        for t in RdfParser::from_format(RdfFormat::Turtle).for_slice(BUILTIN_TURTLE.as_bytes()) {
            if let oxigraph::model::NamedOrBlankNode::NamedNode(s) = t.unwrap().subject {
                declared.insert(s.into_string());
            }
        }
        let undeclared: Vec<&str> =
            NAMED_IN_CODE.iter().map(|n| n.as_str()).filter(|n| n.starts_with(MUSUBI) && !declared.contains(*n)).collect();
        assert!(undeclared.is_empty(), "named in vocab.rs, not declared in musubi.ttl: {undeclared:?}");
    }

    #[test]
    fn every_property_the_code_names_is_declared_with_a_tier_and_field() {
        // A property the code reads but the file forgot would silently become steward-only.
        let v = Vocabulary::builtin();
        for p in [
            DCT_IDENTIFIER, DCT_TITLE, DCT_DESCRIPTION, DCT_TYPE, DCT_ISSUED, DCT_MODIFIED, DCT_IS_PART_OF,
            DCAT_LANDING_PAGE, DCAT_KEYWORD, DCAT_VERSION, OWL_SAME_AS, ODRL_HAS_POLICY, SCHEMA_FUNDING,
            DCT_IS_REFERENCED_BY, MUSUBI_ACCESS_LEVEL, MUSUBI_SOURCE_ACCESS_LEVEL, MUSUBI_DATA_USE_CONDITION,
            MUSUBI_DATA_ACCESS_COMMITTEE, MUSUBI_PRINCIPAL_INVESTIGATOR, MUSUBI_ASSAY, MUSUBI_PLATFORM,
            MUSUBI_REFERENCE_GENOME, MUSUBI_FILE_TYPE, MUSUBI_DISEASE, MUSUBI_TISSUE, MUSUBI_POPULATION,
            MUSUBI_SEX, MUSUBI_AGE_GROUP, MUSUBI_SUBJECT_COUNT, MUSUBI_DATA_VOLUME_GB, MUSUBI_SOURCE_RECORD_ID,
            MUSUBI_SOURCE_RECORD_URL, PROV_GENERATED_AT_TIME, FOAF_NAME, RDFS_LABEL, MUSUBI_ICD10, MUSUBI_OUTCOME,
        ] {
            let decl = v.property(p.as_str()).unwrap_or_else(|| panic!("{p} is not declared"));
            assert!(decl.tier.is_some(), "{p} declares no tier");
            assert!(decl.graphql_field.is_some(), "{p} declares no GraphQL field");
        }
    }

    #[test]
    fn access_levels_normalise_source_wording_and_iris() {
        let v = Vocabulary::builtin();
        let lit = |s: &str| Term::from(Literal::new_simple_literal(s));
        assert_eq!(v.normalise_access_level(&lit("Controlled-access (Type I)")), Some(AccessLevel::Controlled));
        assert_eq!(v.normalise_access_level(&lit("unrestricted-access")), Some(AccessLevel::Open));
        assert_eq!(v.normalise_access_level(&lit("Unshared")), Some(AccessLevel::Closed));
        assert_eq!(v.normalise_access_level(&lit("something else")), None);
        let non_public =
            NamedNode::new("http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC").unwrap();
        assert_eq!(v.normalise_access_level(&non_public.into()), Some(AccessLevel::Controlled));
    }

    #[test]
    fn a_tier_that_is_not_a_musubi_tier_is_rejected() {
        let err = Vocabulary::from_turtle(
            "<http://e/p> <https://w3id.org/musubi/vocab#tier> <http://e/Secret> .",
            "custom.ttl",
        )
        .unwrap_err();
        assert!(err.to_string().contains("custom.ttl") && err.to_string().contains("http://e/Secret"), "{err}");
    }
}

/// A triple's terms as text, with what tells two apart that share it (kind, datatype, language):
/// equal keys for equal triples only.
fn triple_key(t: &Triple) -> (bool, &str, &str, (u8, &str, &str)) {
    let subject = match &t.subject {
        NamedOrBlankNode::NamedNode(n) => (false, n.as_str()),
        NamedOrBlankNode::BlankNode(b) => (true, b.as_str()),
    };
    let object = match &t.object {
        Term::NamedNode(n) => (0, n.as_str(), ""),
        Term::BlankNode(b) => (1, b.as_str(), ""),
        Term::Literal(l) => match l.language() {
            Some(language) => (2, l.value(), language),
            None => (3, l.value(), l.datatype().as_str()),
        },
    };
    (subject.0, subject.1, t.predicate.as_str(), object)
}
