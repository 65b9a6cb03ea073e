//! One error type for the whole tool. Every failure says what went wrong, where, and what to do;
//! the CLI maps the kind to an exit code (bad input: 2, everything else: 1).

use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input (a model, a data file, an option) is wrong. Exit code 2.
    BadInput,
    /// A verification step found a difference (co-simulation mismatch, equivalence failure). Exit code 1.
    Mismatch,
    /// An external tool is missing or failed. Exit code 1.
    Tool,
    /// File system trouble. Exit code 1.
    Io,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The underlying error (an `std::io::Error` for file trouble), kept for `source()` and for
    /// deciding by kind (not by message text) what the failure was.
    pub source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    fn new(kind: ErrorKind, message: String) -> Self {
        Self {
            kind,
            message,
            source: None,
        }
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, message.into())
    }
    pub fn mismatch(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Mismatch, message.into())
    }
    pub fn tool(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Tool, message.into())
    }
    /// File trouble at `path` (exit 1). The `io::Error` stays reachable through `source()` and
    /// [`Error::io_kind`]; readers of user files turn a missing file into bad input with
    /// `into_bad_input_if_missing`.
    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Self {
            kind: ErrorKind::Io,
            message: format!("{}: {err}", path.display()),
            source: Some(Arc::new(err)),
        }
    }
    /// The `std::io::ErrorKind` of the underlying I/O error, if this error came from one.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.source
            .as_ref()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(|e| e.kind())
    }
    /// Keep `source` as the cause of this error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
    /// Prefix the message with where the problem is (file, layer, tensor ...).
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::BadInput => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// `v` if it lies in `range`, else the bad-input error "OPT must be LO..=HI, got V".
pub fn in_range(opt: &str, v: u32, range: std::ops::RangeInclusive<u32>) -> Result<u32> {
    if range.contains(&v) {
        return Ok(v);
    }
    Err(Error::bad_input(format!(
        "{opt} must be {}..={}, got {v}",
        range.start(),
        range.end()
    )))
}
