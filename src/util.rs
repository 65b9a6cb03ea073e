//! Small file helpers shared by every stage.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Write a file so that a reader never sees a partial one: write a sibling temp file, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Read a whole file, refusing files larger than `limit` bytes (untrusted input).
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f =
        std::fs::File::open(path).map_err(|e| Error::io(path, e).into_bad_input_if_missing())?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if len > limit {
        return Err(Error::bad_input(format!(
            "{}: {len} bytes is larger than the {limit}-byte limit for this kind of file",
            path.display()
        )));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

/// Hex sha256 of some bytes.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Error {
    /// A missing input file is the user's mistake (exit 2), not an I/O failure.
    pub fn into_bad_input_if_missing(self) -> Self {
        if self.message.contains("No such file") {
            Error {
                kind: crate::error::ErrorKind::BadInput,
                ..self
            }
        } else {
            self
        }
    }
}
