//! Editors' unsaved buffers: files whose text is the editor's, not what is on disk. What kvet
//! reads of a repository — kustomizations, patches, a chart's templates and values, an
//! Application's folder — it reads through [`Buffers`]; what a tool renders, it renders from a
//! temporary copy with the buffers in their files' places ([`Buffers::mirror`]). The user's
//! files are never written.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Buffers by their file's identity ([`crate::repo::identity`]); cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Buffers(Arc<HashMap<PathBuf, Vec<u8>>>);

impl Buffers {
    /// The buffers of existing files whose text differs from the file's: the others change
    /// nothing, and would only cost renders from a copy.
    pub fn new(buffers: impl IntoIterator<Item = (PathBuf, Vec<u8>)>) -> Buffers {
        let changed = buffers
            .into_iter()
            .filter_map(|(path, bytes)| {
                let on_disk = super::read_file(&path).ok()?;
                (on_disk != bytes).then(|| (crate::repo::identity(&path), bytes))
            })
            .collect();
        Buffers(Arc::new(changed))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The buffer of a file, by the file's identity.
    pub fn get(&self, identity: &Path) -> Option<&[u8]> {
        self.0.get(identity).map(Vec::as_slice)
    }

    /// A file's bytes: its buffer's, else what [`super::read_file`] reads.
    pub fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        if !self.is_empty()
            && let Some(bytes) = self.get(&crate::repo::identity(path))
        {
            return Ok(bytes.to_vec());
        }
        super::read_file(path)
    }

    /// A file's text, as [`super::read_file_text`] decodes it.
    pub fn read_text(&self, path: &Path) -> std::io::Result<String> {
        let bytes = self.read(path)?;
        super::decode(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
    }

    /// Whether one of `files` (identities) has a buffer.
    pub fn any<'a>(&self, mut files: impl Iterator<Item = &'a PathBuf>) -> bool {
        !self.is_empty() && files.any(|f| self.0.contains_key(f))
    }

    /// Copies `files` (absolute paths under `base`) into a new temporary folder, each at its
    /// path relative to `base`, with the buffers' text in place of their files'; `links`
    /// (path as written → the path it resolves to) are made symbolic links to their copies,
    /// so that a path through a linked folder leads where it does on disk. Files that cannot
    /// be read are left out, as a tool would fail to read them.
    pub fn mirror(
        &self,
        base: &Path,
        files: &BTreeSet<PathBuf>,
        links: &[(PathBuf, PathBuf)],
    ) -> std::io::Result<Mirror> {
        let dir = tempfile::Builder::new().prefix("kvet-buffers-").tempdir()?;
        let path = std::fs::canonicalize(dir.path())?;
        for file in files {
            let Ok(relative) = file.strip_prefix(base) else {
                continue;
            };
            let Ok(bytes) = self.read(file) else {
                continue;
            };
            let target = path.join(relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(target, bytes)?;
        }
        let mirror = Mirror {
            _dir: dir,
            path,
            base: base.to_path_buf(),
        };
        for (written, resolved) in links {
            let link = mirror.place(written);
            if !link.starts_with(&mirror.path) || link.symlink_metadata().is_ok() {
                continue;
            }
            if let Some(parent) = link.parent() {
                std::fs::create_dir_all(parent)?;
            }
            symlink(&mirror.place(resolved), &link)?;
        }
        Ok(mirror)
    }

    /// Whether a buffer is of a file under `folder` (an identity), or is one of `files`.
    pub fn any_under<'a>(
        &self,
        folder: &Path,
        mut files: impl Iterator<Item = &'a PathBuf>,
    ) -> bool {
        !self.is_empty()
            && (self.0.keys().any(|f| f.starts_with(folder))
                || files.any(|f| self.0.contains_key(f)))
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    if target.is_dir() {
        std::os::windows::fs::symlink_dir(target, link)
    } else {
        std::os::windows::fs::symlink_file(target, link)
    }
}

/// A temporary copy of part of a folder tree (`base`), removed when dropped.
pub struct Mirror {
    _dir: tempfile::TempDir,
    /// The copy's folder, canonical: what tools print.
    path: PathBuf,
    base: PathBuf,
}

impl Mirror {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where a path under `base` is in the copy.
    pub fn place(&self, original: &Path) -> PathBuf {
        match original.strip_prefix(&self.base) {
            Ok(relative) => self.path.join(relative),
            Err(_) => original.to_path_buf(),
        }
    }

    /// The path a path of the copy stands for; others as they are.
    pub fn original(&self, copied: &Path) -> PathBuf {
        match copied.strip_prefix(&self.path) {
            Ok(relative) => self.base.join(relative),
            Err(_) => copied.to_path_buf(),
        }
    }

    /// A tool's message with the copy's paths as the user's.
    pub fn restore(&self, message: &str) -> String {
        message.replace(
            &self.path.display().to_string(),
            &self.base.display().to_string(),
        )
    }
}

/// The deepest folder holding every one of `folders` (absolute), or that folder itself.
pub fn common_folder<'a>(folders: impl IntoIterator<Item = &'a Path>) -> Option<PathBuf> {
    let mut common: Option<PathBuf> = None;
    for folder in folders {
        common = Some(match common {
            None => folder.to_path_buf(),
            Some(c) => c
                .components()
                .zip(folder.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_buffers_that_differ_from_their_files_count() {
        let dir = tempfile::tempdir().unwrap();
        let same = dir.path().join("same.yaml");
        let changed = dir.path().join("changed.yaml");
        std::fs::write(&same, "a: 1\n").unwrap();
        std::fs::write(&changed, "a: 1\n").unwrap();
        let buffers = Buffers::new([
            (same.clone(), b"a: 1\n".to_vec()),
            (changed.clone(), b"a: 2\n".to_vec()),
            (dir.path().join("gone.yaml"), b"a: 3\n".to_vec()),
        ]);
        let ids: Vec<PathBuf> = [&same, &changed].map(|p| crate::repo::identity(p)).into();
        assert!(!buffers.any(ids[..1].iter()));
        assert!(buffers.any(ids.iter()));
        assert_eq!(buffers.read_text(&changed).unwrap(), "a: 2\n");
        assert_eq!(buffers.read_text(&same).unwrap(), "a: 1\n");
    }

    #[test]
    fn a_mirror_holds_the_files_with_the_buffers_and_maps_paths_back() {
        let dir = tempfile::tempdir().unwrap();
        let base = crate::repo::identity(dir.path());
        std::fs::create_dir_all(base.join("app/base")).unwrap();
        let kept = base.join("app/base/deploy.yaml");
        let edited = base.join("app/kustomization.yaml");
        std::fs::write(&kept, "kind: Deployment\n").unwrap();
        std::fs::write(&edited, "resources: [base]\n").unwrap();
        let buffers = Buffers::new([(edited.clone(), b"resources: []\n".to_vec())]);
        let files = BTreeSet::from([kept.clone(), edited.clone()]);
        let mirror = buffers.mirror(&base, &files, &[]).unwrap();
        let read = |p: &Path| std::fs::read_to_string(mirror.place(p)).unwrap();
        assert_eq!(read(&kept), "kind: Deployment\n");
        assert_eq!(read(&edited), "resources: []\n");
        assert_eq!(mirror.original(&mirror.place(&kept)), kept);
        let message = format!("{}/app: no such file", mirror.path().display());
        assert_eq!(
            mirror.restore(&message),
            format!("{}/app: no such file", base.display())
        );
        // The user's file is untouched.
        assert_eq!(
            std::fs::read_to_string(&edited).unwrap(),
            "resources: [base]\n"
        );
        let copy = mirror.path().to_path_buf();
        drop(mirror);
        assert!(!copy.exists());
    }

    #[test]
    fn the_common_folder_is_the_deepest_holding_all() {
        let folders = [
            Path::new("/r/a/b"),
            Path::new("/r/a/c/d"),
            Path::new("/r/a/b"),
        ];
        assert_eq!(common_folder(folders), Some(PathBuf::from("/r/a")));
        assert_eq!(common_folder([Path::new("/r")]), Some(PathBuf::from("/r")));
        assert_eq!(common_folder([]), None);
    }
}
