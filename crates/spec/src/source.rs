//! Spec source files and locations inside them.

use std::fmt;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub(crate) u32);

impl FileId {
    /// The file's position in load order (an index into `Spec::source_files`).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One spec file as read from disk (or made up by a test).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics, usually a path relative to the workspace.
    pub name: String,
    /// The whole text of the file.
    pub text: String,
}

/// All files of one spec, in load order.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile { name: name.into(), text: text.into() });
        id
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// Every file with its id, in load order.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// How many files the map holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the map holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Where something stands in the spec: file, 1-based line and column, byte range, and
/// the YAML path that leads to it (`families[0].routes[3].scopes[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset one past the end (at least `start`).
    pub end: usize,
    /// The YAML path from the document root.
    pub path: String,
}

impl Loc {
    /// The same place under another YAML path.
    pub(crate) fn with_path(&self, path: impl Into<String>) -> Loc {
        Loc { path: path.into(), ..self.clone() }
    }
}

/// A value together with the place in the spec it came from.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub loc: Loc,
}

impl<T> Spanned<T> {
    /// Wraps `value` at `loc`.
    pub fn new(value: T, loc: Loc) -> Self {
        Spanned { value, loc }
    }
}

impl<T: PartialEq> PartialEq<T> for Spanned<T> {
    fn eq(&self, other: &T) -> bool {
        self.value == *other
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}
