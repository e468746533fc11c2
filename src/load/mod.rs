//! From bytes to objects: decoding, YAML with positions, Kubernetes objects.

pub mod discover;
pub mod helm;
mod lenient;
pub mod object;
pub mod spans;
pub mod yaml;

use object::{NotAnObject, Object, objects_from_documents};
use yaml::YamlIssue;

/// Files larger than this are refused: no Kubernetes manifest comes near it, and reading one
/// would cost more memory than a lint run should.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Why the bytes of a file are not YAML text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("binary file (it contains NUL bytes); not checked")]
    Binary,
    #[error("not valid UTF-8 (save the file as UTF-8); not checked")]
    NotUtf8 { line: usize, column: usize },
    #[error("UTF-16 text is not supported; save the file as UTF-8")]
    Utf16,
    #[error("file is {size} bytes, more than the {MAX_FILE_BYTES}-byte limit; not checked")]
    TooLarge { size: usize },
}

/// Turns file bytes into text: UTF-8 only, without byte-order marks, lines ending in `\n` or
/// `\r\n`.
pub fn decode(bytes: Vec<u8>) -> Result<String, DecodeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(DecodeError::TooLarge { size: bytes.len() });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(DecodeError::Utf16);
    }
    if bytes.contains(&0) {
        return Err(DecodeError::Binary);
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        DecodeError::NotUtf8 { line, column }
    })?;
    // Byte-order marks start files, and documents of files concatenated from Windows editors;
    // YAML readers skip them.
    if text.starts_with('\u{feff}') {
        text.replace_range(..3, "");
    }
    if text.contains("\n\u{feff}") {
        text = text.replace("\n\u{feff}", "\n");
    }
    // Old Mac line endings: a lone `\r` ends a line for the parser, so it must for positions too.
    let bytes = text.as_bytes();
    let lone_cr = (0..bytes.len()).any(|i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    if lone_cr {
        text = text.replace("\r\n", "\n").replace('\r', "\n");
    }
    Ok(text)
}

/// Everything loaded from one file.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub yaml_issues: Vec<YamlIssue>,
    pub not_objects: Vec<NotAnObject>,
}

impl Loaded {
    /// A file counts as Kubernetes input when it holds at least one object; other YAML (CI
    /// pipelines, Helm values) is skipped unless it cannot even be parsed.
    pub fn is_kubernetes(&self) -> bool {
        !self.objects.is_empty()
    }
}

pub fn load_text(text: &str) -> Loaded {
    let parsed = yaml::parse(text);
    let (objects, not_objects) = objects_from_documents(parsed.documents);
    Loaded {
        objects,
        yaml_issues: parsed.issues,
        not_objects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_drops_byte_order_marks_and_lone_carriage_returns() {
        let text = decode(b"\xef\xbb\xbfa: 1\n---\n\xef\xbb\xbfb: 2\n".to_vec()).unwrap();
        assert_eq!(text, "a: 1\n---\nb: 2\n");
        assert_eq!(decode(b"a: 1\rb: 2\r".to_vec()).unwrap(), "a: 1\nb: 2\n");
        assert_eq!(
            decode(b"a: 1\r\nb: 2\r\n".to_vec()).unwrap(),
            "a: 1\r\nb: 2\r\n"
        );
    }

    #[test]
    fn decode_refuses_what_is_not_utf8_text() {
        assert_eq!(decode(b"a\x00b".to_vec()), Err(DecodeError::Binary));
        assert_eq!(decode(b"\xff\xfea\x00".to_vec()), Err(DecodeError::Utf16));
        assert_eq!(
            decode(b"a: 1\nb: caf\xe9\n".to_vec()),
            Err(DecodeError::NotUtf8 { line: 2, column: 7 })
        );
    }
}
