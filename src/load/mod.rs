//! From bytes to objects: decoding, YAML with positions, Kubernetes objects.

pub mod buffers;
mod chart_values;
pub mod discover;
pub mod helm;
mod helm_error;
mod lenient;
pub mod object;
pub mod render;
pub mod spans;
pub mod template_map;
pub mod test_assertion;
pub mod yaml;

use object::{NotAnObject, Object};
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
    #[error("larger than the 64 MiB limit; not checked")]
    TooLarge { size: usize },
}

/// The bytes of a regular file, read no further than the size limit (one byte more, so that
/// [`decode`] can tell it is too large). A FIFO, device or socket is refused rather than read:
/// reading one may block forever or never end. `/dev/null` reads as empty.
pub fn read_file(path: impl AsRef<std::path::Path>) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let path = path.as_ref();
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a folder, not a file",
        ));
    }
    if !meta.is_file() {
        // `--config /dev/null` is the usual way to say "no config": empty, as it reads.
        if std::fs::canonicalize(path).is_ok_and(|p| p == std::path::Path::new("/dev/null")) {
            return Ok(Vec::new());
        }
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, device or socket is not read)",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A regular file's text: [`read_file`], then UTF-8 (byte-order mark and all, as [`decode`]).
pub fn read_file_text(path: impl AsRef<std::path::Path>) -> std::io::Result<String> {
    let bytes = read_file(path)?;
    decode(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
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
        // Valid by construction: it is the prefix that decoded.
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let (line, column) = end_position(valid);
        DecodeError::NotUtf8 { line, column }
    })?;
    // Old Mac line endings: a lone `\r` ends a line for the parser, so it must for positions too.
    if has_lone_cr(&text) {
        text = text.replace("\r\n", "\n").replace('\r', "\n");
    }
    // Byte-order marks start files, and documents of files concatenated from Windows editors;
    // YAML readers skip them.
    if text.starts_with(BOM) {
        text.replace_range(..BOM.len_utf8(), "");
    }
    if text.contains("\n\u{feff}") {
        text = text.replace("\n\u{feff}", "\n");
    }
    Ok(text)
}

const BOM: char = '\u{feff}';

fn has_lone_cr(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
}

/// 1-based line and column just after `text`, counting lines as the parser does (`\n`, `\r\n`
/// or `\r`) and columns in characters, without a leading byte-order mark.
fn end_position(text: &str) -> (usize, usize) {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let (mut line, mut column) = (1, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' {
                    chars.next_if_eq(&'\n');
                }
                line += 1;
                column = 1;
            }
            _ => column += 1,
        }
    }
    (line, column)
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
        // A `v1 List` is Kubernetes even when none of its items is an object, and so is a
        // manifest that lacks its apiVersion.
        !self.objects.is_empty() || self.not_objects.iter().any(|n| n.manifest)
    }
}

/// A path as kvet names it in its output: as written when it is UTF-8; otherwise with each
/// `\` doubled and each byte that is not UTF-8 as `\xNN`, so that two files never print the
/// same (`b\xfe.yaml` and `b\xff.yaml`, which a lossy conversion shows both as `b�.yaml`) and
/// the name says which bytes the real one has. Files are always read by their real path.
pub fn shown(path: &std::path::Path) -> String {
    #[cfg(unix)]
    {
        use std::fmt::Write;
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if std::str::from_utf8(bytes).is_err() {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(&chunk.valid().replace('\\', "\\\\"));
                for byte in chunk.invalid() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            return out;
        }
    }
    path.display().to_string()
}

pub fn load_text(text: &str) -> Loaded {
    let mut objects = Vec::new();
    let mut not_objects = Vec::new();
    let parsed = yaml::parse_each(text, |document| {
        object::split(document, &mut objects, &mut not_objects)
    });
    Loaded {
        objects,
        yaml_issues: parsed.issues,
        not_objects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn paths_that_are_not_utf8_are_shown_apart() {
        use std::os::unix::ffi::OsStrExt;
        let path = |b: &[u8]| shown(std::path::Path::new(std::ffi::OsStr::from_bytes(b)));
        assert_eq!(path(b"k8s/b\xfe.yaml"), "k8s/b\\xfe.yaml");
        assert_eq!(path(b"k8s/b\xff.yaml"), "k8s/b\\xff.yaml");
        // A backslash in such a name is doubled, so no UTF-8 name reads the same.
        assert_eq!(path(b"a\\b\xfe"), "a\\\\b\\xfe");
        assert_eq!(
            path("caf\u{e9}/a\\b.yaml".as_bytes()),
            "caf\u{e9}/a\\b.yaml"
        );
    }

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
    fn decode_handles_boms_after_lone_carriage_returns() {
        assert_eq!(
            decode(b"a: 1\r---\r\xef\xbb\xbfb: 2\r".to_vec()).unwrap(),
            "a: 1\n---\nb: 2\n"
        );
    }

    #[test]
    fn invalid_utf8_is_placed_as_an_editor_shows_it() {
        let at = |b: &[u8]| match decode(b.to_vec()) {
            Err(DecodeError::NotUtf8 { line, column }) => (line, column),
            other => panic!("{other:?}"),
        };
        assert_eq!(at(b"\xef\xbb\xbfa: caf\xe9\n"), (1, 7));
        assert_eq!(at(b"a: 1\rb: caf\xe9\r"), (2, 7));
        assert_eq!(at(b"a: 1\r\nb: caf\xe9\r\n"), (2, 7));
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
