//! The one way the hub says what is wrong in a file it reads — source manifests, `identity.toml`,
//! `musubi.toml`, `fees.toml`, `sharing-policy.toml`: the file, the line and the column (counted
//! in characters, so a column after Japanese text is where an editor shows it), the field, and
//! what is wrong or what to write instead.
//!
//! An optional file that is absent is not an error ([`read_optional`] answers `None`); one that
//! exists and cannot be read is.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem in a file, and exactly where. `line` and `column` are 1-based; 0 when the problem is
/// the file as a whole (it cannot be read, or its format's parser names no place). Shown as
/// `file:line:column: field `f`: message`, or `file: message` for the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub field: Option<String>,
    pub message: String,
}

impl std::error::Error for FileError {}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl FileError {
    /// A problem with the file as a whole (no line to point at).
    pub fn whole(file: &Path, message: impl Into<String>) -> FileError {
        FileError { file: file.to_owned(), line: 0, column: 0, field: None, message: message.into() }
    }

    /// A problem at byte `offset` of `text` (the file's content), in `field` when known.
    pub fn at(file: &Path, text: &str, offset: Option<usize>, field: Option<&str>, message: impl Into<String>) -> FileError {
        let (line, column) = line_column(text, offset.unwrap_or(0));
        FileError { file: file.to_owned(), line, column, field: field.map(str::to_owned), message: message.into() }
    }

    /// A problem at the start of byte range `span` (as TOML's spans give it).
    pub fn spanning(file: &Path, text: &str, span: Option<Range<usize>>, field: Option<&str>, message: impl Into<String>) -> FileError {
        FileError::at(file, text, span.map(|s| s.start), field, message)
    }

    /// The file as a whole cannot be read.
    pub fn unreadable(file: &Path, error: &std::io::Error) -> FileError {
        FileError::whole(file, format!("cannot read: {error}"))
    }

    /// A TOML file that does not parse or does not fit its schema: where the parser stopped, and
    /// the field it names (serde says "missing field `endpoint`", "unknown field `x`"), or else
    /// the key on the line it points at.
    pub fn toml(file: &Path, text: &str, error: &toml::de::Error) -> FileError {
        let message = error.message().to_owned();
        let field = message.split('`').nth(1).filter(|_| message.contains("field")).map(str::to_owned);
        let field = field.or_else(|| {
            let start = error.span()?.start.min(text.len());
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line = text[line_start..].lines().next()?;
            line.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_owned())
        });
        FileError::spanning(file, text, error.span(), field.as_deref(), message)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before, |i| &before[i + 1..]).chars().count() + 1;
    (line, column)
}

/// A file's text.
pub fn read(file: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(file).map_err(|e| FileError::unreadable(file, &e))
}

/// An optional file's text: `None` when it does not exist; an error when it exists and cannot
/// be read (a permission, a directory, bytes that are not UTF-8) — never taken as absent.
pub fn read_optional(file: &Path) -> Result<Option<String>, FileError> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileError::unreadable(file, &e)),
    }
}

/// Parses a TOML file's `text` into `T`, the error placed by [`FileError::toml`].
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| FileError::toml(file, text, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "title = \"ゲノム解析\"\nkind = 3\n";
        let offset = text.find('3').unwrap();
        assert_eq!(line_column(text, offset), (2, 8));
        let after_japanese = text.find("\"\n").unwrap();
        assert_eq!(line_column(text, after_japanese), (1, 15), "after 5 Japanese characters, not 15 bytes");
        assert_eq!(line_column(text, after_japanese - 1), (1, 14), "inside a character: its start");
    }

    #[test]
    fn a_toml_error_names_file_line_column_and_field() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Fees {
            currency: String,
        }
        let text = "# 料金\ncurrency = \"JPY\"\ncurency = \"x\"\n";
        let err = parse_toml::<Fees>(Path::new("fees.toml"), text).unwrap_err();
        assert_eq!((err.line, err.column, err.field.as_deref()), (3, 1, Some("curency")), "{err}");
        assert!(err.to_string().starts_with("fees.toml:3:1: field `curency`: unknown field"), "{err}");
    }

    #[test]
    fn an_absent_optional_file_is_none_and_an_unreadable_one_an_error() {
        let dir = std::env::temp_dir().join(format!("musubi-located-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read_optional(&dir.join("absent.toml")).unwrap(), None);
        let err = read_optional(&dir).unwrap_err();
        assert_eq!((err.line, err.column), (0, 0));
        assert!(err.to_string().starts_with(&format!("{}: cannot read", dir.display())), "{err}");
        let bad = dir.join("latin1.toml");
        std::fs::write(&bad, b"name = \"caf\xe9\"\n").unwrap();
        assert!(read_optional(&bad).is_err(), "bytes that are not UTF-8 are not an absent file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
