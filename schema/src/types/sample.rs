//! A biological sample (BioSample record).

use super::*;

/// A biological sample (a BioSample record): its own record, public except its attributes.
#[derive(Debug, Clone, MergedObject)]
pub struct Sample(RecordFields, SampleFields);

/// The fields only samples have.
#[derive(Debug, Clone)]
pub struct SampleFields(pub(super) Entity);

impl Sample {
    pub(crate) fn new(model: &ReadModel, record: &MergedRecord, today: &str) -> Sample {
        // A sample has no dataset scope: on a sensitive (human) sample, CONTROLLED is for stewards.
        let entity = Entity::merged(model, record, Scope { dataset: None, policy: RecordPolicy::of(record, today) });
        Sample(RecordFields(entity.clone()), SampleFields(entity))
    }
}

#[Object]
impl SampleFields {
    /// The sample's attributes as the submitter named them (REGISTERED; CONTROLLED on human samples).
    async fn characteristics(&self, ctx: &Context<'_>) -> Result<Option<Vec<Attribute>>> {
        Ok(Some(self.0.links(ctx, v::MUSUBI_SAMPLE_CHARACTERISTIC)?.into_iter().map(Attribute).collect()))
    }
    /// The submitter's contact people (their e-mail addresses are REGISTERED).
    async fn contact_points(&self, ctx: &Context<'_>) -> Result<Option<Vec<Agent>>> {
        Ok(Some(self.0.links(ctx, v::DCAT_CONTACT_POINT)?.into_iter().map(Agent::node).collect()))
    }
    /// Whether the sample is sensitive (a human or human-host sample): its REGISTERED fields need
    /// CONTROLLED, which on a sample (no dataset grant) only stewards hold.
    async fn sensitive(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        Ok(self.0.first(ctx, v::MUSUBI_SENSITIVE)?.map(|s| matches!(s.trim(), "true" | "1")))
    }
    /// The checklists (BioSample packages) the record follows.
    async fn models(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_MODEL)?))
    }
    /// The studies (BioProjects) the sample was taken for, as records where the hub has them.
    async fn studies(&self, ctx: &Context<'_>) -> Result<Option<Vec<Study>>> {
        guard(ctx, v::DCT_IS_PART_OF, &self.0.scope)?;
        let model = api(ctx).model();
        let today = today();
        let mut out: Vec<Study> = Vec::new();
        let mut seen = Vec::new();
        for t in self.0.read(ctx, v::DCT_IS_PART_OF)? {
            let TermRef::NamedNode(n) = t else { continue };
            if let Some(record) = model.study_of_node(&NamedOrBlankNode::from(n.into_owned()))
                && !seen.contains(record.key())
                && listed(ctx, RecordPolicy::of(record, &today))
            {
                seen.push(record.key().clone());
                out.push(Study::new(&model, record, &today));
            }
        }
        Ok(Some(out))
    }
    /// Accessions of the studies the sample was taken for, also those the hub has no record of.
    async fn study_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self
            .0
            .read(ctx, v::DCT_IS_PART_OF)?
            .into_iter()
            .filter_map(|t| match t {
                TermRef::NamedNode(n) => Some(n.as_str().rsplit('/').next().unwrap_or(n.as_str()).to_owned()),
                _ => None,
            })
            .collect()))
    }
}
