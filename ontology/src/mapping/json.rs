//! JSONPath references (RFC 9535) into a record or an iteration item.

use serde_json::Value;
use serde_json_path::JsonPath;

/// A JSONPath reference. RML references are relative to the iteration item; both `title.ja` and
/// `$.title.ja` are accepted.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    path: JsonPath,
}

impl Reference {
    pub(crate) fn parse(expression: &str) -> Result<Reference, String> {
        let expression = expression.trim();
        let absolute = if expression.starts_with('$') {
            expression.to_owned()
        } else if expression.starts_with('[') {
            format!("${expression}")
        } else {
            format!("$.{expression}")
        };
        JsonPath::parse(&absolute)
            .map(|path| Reference { path })
            .map_err(|e| format!("{expression:?} is not a valid JSONPath: {e}"))
    }

    pub(crate) fn nodes<'a>(&self, item: &'a Value) -> Vec<&'a Value> {
        self.path.query(item).all()
    }

    /// The values as RML sees them: strings as they are, numbers and booleans in their JSON
    /// form; null, objects and arrays give nothing.
    pub(crate) fn strings(&self, item: &Value) -> Vec<String> {
        self.nodes(item)
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect()
    }
}
