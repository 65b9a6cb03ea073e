//! NIR (Neuromorphic Intermediate Representation) import and export. docs/import.md has the
//! mapping tables; this module is their executable form.
//!
//! - [`read`]: HDF5 file -> plain tree (pure Rust, `hdf5-reader`), bounded and panic-free.
//! - [`graph`]: tree -> one chain of nodes (subgraphs inlined, edges in any order, recurrent
//!   weights attached to their neuron, branches refused).
//! - [`import`]: chain -> network IR, per exporter preset.
//! - [`export`]: network IR -> NIR file (pure Rust, `hdf5-writer`).

pub mod export;
pub mod graph;
pub mod import;
pub mod read;

pub use export::{export, export_any, ExportOptions, Exported};
pub use import::{f32_above, import, Compare, ImportOptions, Imported, Preset};

use crate::error::Result;
use std::path::Path;

/// Read and import a .nir file.
pub fn import_file(path: &Path, opts: &ImportOptions) -> Result<Imported> {
    let bytes = crate::util::read_limited(path, read::MAX_FILE_BYTES)?;
    import_bytes(&bytes, opts).map_err(|e| e.context(path.display()))
}

/// Import NIR bytes (the whole file).
pub fn import_bytes(bytes: &[u8], opts: &ImportOptions) -> Result<Imported> {
    let file = read::read_bytes(bytes)?;
    import(&file, opts)
}
