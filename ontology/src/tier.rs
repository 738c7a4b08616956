//! Access tiers: who may read a field.
//!
//! The order is the point: a caller at tier T reads every field whose tier is ≤ T. A field that
//! declares no tier is [`Tier::Steward`] (fail closed); see [`crate::vocab::Vocabulary::tier_of`].

use std::fmt;

/// An access tier, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Anyone.
    Public,
    /// An authenticated researcher.
    Registered,
    /// A researcher holding a grant for that very dataset.
    Controlled,
    /// The data access committee and operators.
    Steward,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Public, Tier::Registered, Tier::Controlled, Tier::Steward];

    /// The name used in the vocabulary's `rdfs:label`, in GraphQL and in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Public => "PUBLIC",
            Tier::Registered => "REGISTERED",
            Tier::Controlled => "CONTROLLED",
            Tier::Steward => "STEWARD",
        }
    }

    /// The IRI of the tier in the hub vocabulary.
    pub fn iri(self) -> &'static str {
        match self {
            Tier::Public => "https://w3id.org/musubi/vocab#Public",
            Tier::Registered => "https://w3id.org/musubi/vocab#Registered",
            Tier::Controlled => "https://w3id.org/musubi/vocab#Controlled",
            Tier::Steward => "https://w3id.org/musubi/vocab#Steward",
        }
    }

    pub fn from_iri(iri: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.iri() == iri)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
