//! One error type for the whole tool. Every failure says what went wrong, where, and what to do;
//! the CLI maps the kind to an exit code (bad input: 2, everything else: 1).

use std::fmt;

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
}

impl Error {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::BadInput,
            message: message.into(),
        }
    }
    pub fn mismatch(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Mismatch,
            message: message.into(),
        }
    }
    pub fn tool(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Tool,
            message: message.into(),
        }
    }
    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Self {
            kind: ErrorKind::Io,
            message: format!("{}: {err}", path.display()),
        }
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

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand for returning a bad-input error with a formatted message.
#[macro_export]
macro_rules! bad_input {
    ($($arg:tt)*) => { return Err($crate::error::Error::bad_input(format!($($arg)*))) };
}
