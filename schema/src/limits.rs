//! Query limits: what one request may ask of the hub, checked before anything is resolved.
//!
//! - size (bytes) and token count of the query text, before it is parsed (a hostile text costs
//!   at most one bounded scan);
//! - aliases and page sizes (`first`, variables resolved), on the parsed document;
//! - depth and cost, from async-graphql's own calculation at validation. Every field costs 1; a
//!   list with `first` costs `first ×` its selection, a list without one (e.g. `Study.datasets`)
//!   [`UNPAGED_LIST_WEIGHT`] × its selection.
//!
//! A refused query gets one error with `extensions.code` = [`LIMIT_EXCEEDED`], `limit` (which
//! one), `value` and `max`, and a message with the numbers ("query cost 12,400 exceeds the limit
//! 5,000"). The gateway's export runs its own fixed query with [`Internal`] in the request data,
//! which skips the checks (it is never built from what a caller sends).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, ServerError, ServerResult, ValidationResult, Value, Variables};
use serde::Deserialize;

pub const LIMIT_EXCEEDED: &str = "LIMIT_EXCEEDED";

/// Bracket nesting allowed in the query text beyond the depth limit (arguments' objects and
/// lists nest too).
pub const NESTING_ROOM: usize = 8;

/// The weight of a list field that takes no page size: the number of items it is assumed to hold.
pub const UNPAGED_LIST_WEIGHT: usize = 10;

/// What one query may ask. Deserialises from a `[limits]` table; missing keys keep the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Deepest nesting of selections.
    pub depth: usize,
    /// Highest cost (see the module docs).
    pub cost: usize,
    /// Largest `first` of any paged list.
    pub page_size: usize,
    /// Most aliases in one document.
    pub aliases: usize,
    /// Longest query text, in bytes.
    pub query_bytes: usize,
    /// Most lexical tokens (names, punctuators, values) in the query text.
    pub tokens: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { depth: 12, cost: 5_000, page_size: crate::paging::MAX_PAGE_SIZE as usize, aliases: 128, query_bytes: 32 * 1024, tokens: 4_000 }
    }
}

/// Put in a request's data by the hub itself (the export's fixed query): no limits apply.
#[derive(Debug, Clone, Copy)]
pub struct Internal;

/// `12400` → "12,400".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The error of a refused query: which limit, the value asked and the maximum.
pub fn exceeded(limit: &str, what: &str, value: usize, max: usize) -> ServerError {
    let mut e = ServerError::new(format!("{what} {} exceeds the limit {}", thousands(value), thousands(max)), None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", LIMIT_EXCEEDED);
    ext.set("limit", limit);
    ext.set("value", value as u64);
    ext.set("max", max as u64);
    e.extensions = Some(ext);
    e
}

/// The extension that enforces [`Limits`].
#[derive(Debug)]
pub struct QueryLimits(pub Arc<crate::ApiState>);

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimits(self.0.limits()))
    }
}

/// The limits as they stood when the request arrived.
struct RequestLimits(Limits);

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let internal = ctx.data_opt::<Internal>().is_some();
        let limits = self.0;
        if !internal {
            if query.len() > limits.query_bytes {
                return Err(exceeded("queryBytes", "query size (bytes)", query.len(), limits.query_bytes));
            }
            let (tokens, nesting) = scan(query, limits.tokens + 1);
            // The parser recurses on nesting: a text nested far deeper than the depth limit
            // allows is refused before it reaches it.
            let max_nesting = limits.depth + NESTING_ROOM;
            if nesting > max_nesting {
                return Err(exceeded("depth", "query nesting (brackets)", nesting, max_nesting));
            }
            if tokens > limits.tokens {
                let mut e = exceeded("tokens", "query token count", tokens, limits.tokens);
                e.message = format!("query token count exceeds the limit {} (counting stopped at {})", thousands(limits.tokens), thousands(tokens));
                return Err(e);
            }
        }
        let document = next.run(ctx, query, variables).await?;
        if !internal {
            let mut walk = Walk { aliases: 0, widest: None, variables };
            for (_, operation) in document.operations.iter() {
                walk.selections(&operation.node.selection_set);
            }
            for fragment in document.fragments.values() {
                walk.selections(&fragment.node.selection_set);
            }
            if walk.aliases > limits.aliases {
                return Err(exceeded("aliases", "alias count", walk.aliases, limits.aliases));
            }
            if let Some((field, first)) = walk.widest
                && first > limits.page_size
            {
                return Err(exceeded("pageSize", &format!("page size (`first` of `{field}`)"), first, limits.page_size));
            }
        }
        Ok(document)
    }

    async fn validation(&self, ctx: &ExtensionContext<'_>, next: NextValidation<'_>) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if ctx.data_opt::<Internal>().is_none() {
            if result.depth > self.0.depth {
                return Err(vec![exceeded("depth", "query depth", result.depth, self.0.depth)]);
            }
            if result.complexity > self.0.cost {
                return Err(vec![exceeded("cost", "query cost", result.complexity, self.0.cost)]);
            }
        }
        Ok(result)
    }
}

/// Aliases and the largest `first` in a document's selections.
struct Walk<'a> {
    aliases: usize,
    widest: Option<(String, usize)>,
    variables: &'a Variables,
}

impl Walk<'_> {
    fn selections(&mut self, set: &Positioned<SelectionSet>) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.aliases += usize::from(field.alias.is_some());
                    if let Some(value) = field.get_argument("first") {
                        let value = value.node.clone().into_const_with(|name| Ok::<_, ()>(self.variables.get(&name).cloned().unwrap_or(Value::Null)));
                        if let Ok(Value::Number(n)) = value
                            && let Some(n) = n.as_u64()
                        {
                            let n = usize::try_from(n).unwrap_or(usize::MAX);
                            if self.widest.as_ref().is_none_or(|(_, w)| n > *w) {
                                self.widest = Some((field.name.node.to_string(), n));
                            }
                        }
                    }
                    self.selections(&field.selection_set);
                }
                Selection::InlineFragment(fragment) => self.selections(&fragment.node.selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

/// The GraphQL lexical tokens in `text` (punctuators, names, numbers, strings; whitespace,
/// commas and comments are not tokens), counting no further than `stop`.
pub fn count_tokens(text: &str, stop: usize) -> usize {
    scan(text, stop).0
}

/// The tokens (up to `stop`) and the deepest bracket nesting (`{`, `(`, `[`) seen meanwhile.
fn scan(text: &str, stop: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut count = 0;
    let (mut nesting, mut deepest) = (0usize, 0usize);
    while i < bytes.len() && count < stop {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            0xEF if bytes[i..].starts_with("\u{FEFF}".as_bytes()) => i += 3,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                count += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                count += 1;
                i += 3;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => {
                count += 1;
                i += 1;
                while i < bytes.len() && matches!(bytes[i], b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'+' | b'-') {
                    // `.`, `+` and `-` only continue a number (1.5e-3); names stop at them.
                    if matches!(bytes[i], b'.' | b'+' | b'-') && !(b.is_ascii_digit() || b == b'-') {
                        break;
                    }
                    i += 1;
                }
            }
            _ => {
                if matches!(b, b'{' | b'(' | b'[') {
                    nesting += 1;
                    deepest = deepest.max(nesting);
                } else if matches!(b, b'}' | b')' | b']') {
                    nesting = nesting.saturating_sub(1);
                }
                count += 1;
                i += 1;
            }
        }
    }
    (count, deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_as_graphql_lexes_them() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(count_tokens("query Q($x: Int = 5) { a(first: $x) { ...F } } # no", 100), 23);
        assert_eq!(count_tokens(r#"{ a(s: "x, y \" z", b: """ block "" """) }"#, 100), 11);
        assert_eq!(count_tokens(&"{a}".repeat(10_000), 50), 50, "stops at the bound");
        assert_eq!(scan("{ a(f: {x: [1]}) { b } }", 100).1, 4);
    }

    #[test]
    fn numbers_read_with_separators() {
        assert_eq!(thousands(5), "5");
        assert_eq!(thousands(5_000), "5,000");
        assert_eq!(thousands(1_048_576), "1,048,576");
    }
}
