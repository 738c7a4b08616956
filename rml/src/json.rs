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
            .or_else(|e| {
                // Only a plain key falls back to a quoted one: an expression with JSONPath's own
                // characters (`experiments[*.foo`) is a broken path, not a key, and is refused.
                if expression.contains(|c: char| "$[]*.?@()'\"\\".contains(c)) {
                    return Err(e);
                }
                // A bare key that JSONPath's dotted form cannot hold ("Country Code").
                let quoted = format!("$['{}']", expression.replace('\\', "\\\\").replace('\'', "\\'"));
                JsonPath::parse(&quoted).map_err(|_| e)
            })
            .map(|path| Reference { path })
            .map_err(|e| format!("{expression:?} is not a valid JSONPath: {e}"))
    }

    pub(crate) fn nodes<'a>(&self, item: &'a Value) -> Vec<&'a Value> {
        self.path.query(item).all()
    }

    /// The scalar values the reference finds: null gives nothing; an array or an object is an
    /// error (RML references name single values; iterate with `[*]` to take an array's items).
    pub(crate) fn scalars(&self, item: &Value) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        for v in self.nodes(item) {
            match v {
                Value::Null => {}
                Value::Array(_) | Value::Object(_) => {
                    return Err(format!("reference {} finds {}, not a single value", self.path, if v.is_array() { "an array" } else { "an object" }));
                }
                scalar => out.push(scalar.clone()),
            }
        }
        Ok(out)
    }

    /// The scalar values as strings (numbers and booleans in their JSON form).
    pub(crate) fn strings(&self, item: &Value) -> Result<Vec<String>, String> {
        Ok(self
            .scalars(item)?
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect())
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.path.fmt(f)
    }
}
