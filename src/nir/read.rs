//! Reading a NIR file (HDF5) into a plain tree of groups, numeric tensors and strings, with the
//! pure-Rust `hdf5-reader`. Untrusted input: sizes, depths and element counts are bounded, and a
//! crash inside the HDF5 decoder becomes an error, never a panic of the tool.

use crate::error::{Error, Result};
use hdf5_reader::group::Group;
use hdf5_reader::{Dataset, Datatype, Hdf5File, OpenOptions};
use std::collections::BTreeMap;

/// Largest NIR file we read (a NIR graph this tool can use is far smaller).
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Largest single tensor, in elements (the IR's own limit on a layer).
const MAX_TENSOR_ELEMENTS: u64 = crate::ir::MAX_ELEMENTS as u64;
/// Nesting limit for groups (subgraphs nest; a real file is a few levels deep).
const MAX_DEPTH: usize = 32;
/// Limit on the total number of groups and datasets read.
const MAX_OBJECTS: usize = 100_000;
/// Limit on the elements of all datasets together, checked on the declared shapes before any
/// dataset is read: a small file may declare huge datasets (fill values), and every element
/// becomes an f64 here. A network this tool can put on an FPGA is far smaller.
pub const MAX_TOTAL_ELEMENTS: u64 = 1 << 24;

/// A numeric dataset, converted to f64 (exact for every f32, f64 and integer up to 2^53).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
    /// What the file stored: "f32", "f64", "i64", ...
    pub dtype: String,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn is_f64(&self) -> bool {
        self.dtype == "f64"
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Tensor(Tensor),
    /// A string dataset (scalar: one element; edges: E x 2, row-major).
    Strings {
        shape: Vec<usize>,
        values: Vec<String>,
    },
    Group(Tree),
}

/// One HDF5 group: its members by name. `path` is for messages ("/node/nodes/lif1").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree {
    pub path: String,
    pub members: BTreeMap<String, Value>,
}

/// A NIR file: the version string (if any) and the root node group `/node`.
#[derive(Debug, Clone, PartialEq)]
pub struct NirFile {
    pub version: Option<String>,
    pub node: Tree,
}

/// Parse NIR bytes. Errors name the HDF5 object that could not be read.
pub fn read_bytes(bytes: &[u8]) -> Result<NirFile> {
    if bytes.len() < 8 || &bytes[..8] != b"\x89HDF\r\n\x1a\n" {
        return Err(Error::bad_input(
            "not an HDF5 file (the first 8 bytes are not the HDF5 signature); a .nir file is HDF5",
        ));
    }
    // hdf5-reader is hardened against malformed input, but this is untrusted data: a bug in the
    // decoder must become an error, not a crash of the tool.
    let owned = bytes.to_vec();
    match std::panic::catch_unwind(move || read_inner(owned)) {
        Ok(r) => r,
        Err(_) => Err(Error::bad_input(
            "the HDF5 decoder failed on this file (internal error while parsing); the file is corrupt",
        )),
    }
}

fn h5err(what: &str, e: hdf5_reader::error::Error) -> Error {
    Error::bad_input(format!(
        "{what}: {e} (the HDF5 structure is damaged or not what NIR writes)"
    ))
}

fn read_inner(bytes: Vec<u8>) -> Result<NirFile> {
    let opts = OpenOptions {
        max_read_bytes: 1 << 30,
        max_chunk_bytes: 1 << 28,
        chunk_cache_bytes: 1 << 24,
        ..OpenOptions::default()
    };
    let file = Hdf5File::from_vec_with_options(bytes, opts)
        .map_err(|e| h5err("opening the HDF5 file", e))?;
    let root = file.root_group().map_err(|e| h5err("root group", e))?;
    let (groups, datasets) = root.members().map_err(|e| h5err("root group", e))?;
    let version = match datasets.iter().find(|d| base_name(d.name()) == "version") {
        Some(d) => Some(read_scalar_string(d, "/version")?),
        None => None,
    };
    let node = groups
        .into_iter()
        .find(|g| base_name(g.name()) == "node")
        .ok_or_else(|| {
            Error::bad_input(
                "no group /node: this HDF5 file is not a NIR graph (NIR stores its graph in /node)",
            )
        })?;
    // First the declared sizes of everything (headers only), then the data.
    let mut budget = MAX_OBJECTS;
    let mut total = 0u64;
    declared(&node, "/node", 0, &mut budget, &mut total)?;
    let mut budget = MAX_OBJECTS;
    let tree = read_group(&node, "/node".into(), 0, &mut budget)?;
    Ok(NirFile {
        version,
        node: tree,
    })
}

fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn read_group(g: &Group, path: String, depth: usize, budget: &mut usize) -> Result<Tree> {
    if depth > MAX_DEPTH {
        return Err(Error::bad_input(format!(
            "{path}: groups nest deeper than {MAX_DEPTH} levels"
        )));
    }
    let (groups, datasets) = g.members().map_err(|e| h5err(&path, e))?;
    let mut members = BTreeMap::new();
    for d in &datasets {
        take(budget, &path)?;
        let name = base_name(d.name()).to_string();
        let p = format!("{path}/{name}");
        let v = read_dataset(d, &p)?;
        members.insert(name, v);
    }
    for sub in &groups {
        take(budget, &path)?;
        let name = base_name(sub.name()).to_string();
        let p = format!("{path}/{name}");
        let t = read_group(sub, p, depth + 1, budget)?;
        members.insert(name, Value::Group(t));
    }
    Ok(Tree { path, members })
}

/// Walk a group without reading data: count objects and add up the declared elements of every
/// dataset, refusing the file as soon as the total passes [`MAX_TOTAL_ELEMENTS`].
fn declared(
    g: &Group,
    path: &str,
    depth: usize,
    budget: &mut usize,
    total: &mut u64,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::bad_input(format!(
            "{path}: groups nest deeper than {MAX_DEPTH} levels"
        )));
    }
    let (groups, datasets) = g.members().map_err(|e| h5err(path, e))?;
    for d in &datasets {
        take(budget, path)?;
        let n = d.shape().iter().fold(1u64, |a, &x| a.saturating_mul(x));
        *total = total.saturating_add(n);
        if *total > MAX_TOTAL_ELEMENTS {
            return Err(Error::bad_input(format!(
                "{path}/{}: the datasets declared so far hold more than {MAX_TOTAL_ELEMENTS} elements in all, more than this tool accepts in one NIR file",
                base_name(d.name())
            )));
        }
    }
    for sub in &groups {
        take(budget, path)?;
        let p = format!("{path}/{}", base_name(sub.name()));
        declared(sub, &p, depth + 1, budget, total)?;
    }
    Ok(())
}

fn take(budget: &mut usize, path: &str) -> Result<()> {
    if *budget == 0 {
        return Err(Error::bad_input(format!(
            "{path}: more than {MAX_OBJECTS} HDF5 objects; not a NIR graph this tool can use"
        )));
    }
    *budget -= 1;
    Ok(())
}

fn read_scalar_string(d: &Dataset, path: &str) -> Result<String> {
    d.read_string().map_err(|e| h5err(path, e))
}

fn read_dataset(d: &Dataset, path: &str) -> Result<Value> {
    let shape: Vec<usize> = d.shape().iter().map(|&x| x as usize).collect();
    let mut n: u64 = 1;
    for &x in d.shape() {
        n = n.saturating_mul(x);
    }
    if n > MAX_TENSOR_ELEMENTS {
        return Err(Error::bad_input(format!(
            "{path}: {n} elements is more than the {MAX_TENSOR_ELEMENTS} this tool accepts"
        )));
    }
    let dtype = d.dtype().clone();
    let tensor = |data: Vec<f64>, name: &str| {
        Ok(Value::Tensor(Tensor {
            shape: shape.clone(),
            data,
            dtype: name.to_string(),
        }))
    };
    macro_rules! num {
        ($t:ty, $name:expr) => {{
            let a = d.read_array::<$t>().map_err(|e| h5err(path, e))?;
            let v: Vec<f64> = a.iter().map(|&x| x as f64).collect();
            check_count(path, v.len(), n)?;
            tensor(v, $name)
        }};
    }
    match dtype {
        Datatype::FloatingPoint { size: 4, .. } => num!(f32, "f32"),
        Datatype::FloatingPoint { size: 8, .. } => num!(f64, "f64"),
        Datatype::FixedPoint { size, signed, .. } => match (size, signed) {
            (1, true) => num!(i8, "i8"),
            (1, false) => num!(u8, "u8"),
            (2, true) => num!(i16, "i16"),
            (2, false) => num!(u16, "u16"),
            (4, true) => num!(i32, "i32"),
            (4, false) => num!(u32, "u32"),
            (8, true) => num!(i64, "i64"),
            (8, false) => num!(u64, "u64"),
            _ => Err(Error::bad_input(format!(
                "{path}: unsupported integer width of {size} bytes"
            ))),
        },
        Datatype::Enum { ref base, .. }
            if matches!(**base, Datatype::FixedPoint { size: 1, .. }) =>
        {
            // h5py stores numpy bools as an enum over i8.
            let a = d.read_array::<i8>().map_err(|e| h5err(path, e))?;
            tensor(a.iter().map(|&x| x as f64).collect(), "bool")
        }
        Datatype::String { .. } | Datatype::VarLen { .. } => {
            let values = d.read_strings().map_err(|e| h5err(path, e))?;
            check_count(path, values.len(), n)?;
            Ok(Value::Strings { shape, values })
        }
        other => Err(Error::bad_input(format!(
            "{path}: unsupported HDF5 datatype {other:?}; NIR stores numbers and strings only"
        ))),
    }
}

fn check_count(path: &str, got: usize, want: u64) -> Result<()> {
    if got as u64 != want {
        return Err(Error::bad_input(format!(
            "{path}: read {got} elements but the dataset shape says {want}"
        )));
    }
    Ok(())
}
