//! The native model format (docs/model-format.md): a versioned JSON manifest (architecture, neuron
//! parameters, fixed point) and a safetensors file holding every tensor. Loading validates
//! everything and never panics on a malformed file.

use crate::error::{Error, Result};
use crate::ir::{
    Conv2d, Dense, Elem, FixedPoint, InputSpec, Layer, Leak, LifGroup, LifRecurrent, Lifb, Network,
    Pool, PoolKind, Reset,
};
use crate::util;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "lifb-hdl-model";
pub const VERSION: u32 = 1;
const MAX_MANIFEST: u64 = 16 << 20;
const MAX_TENSORS: u64 = 2 << 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: String,
    version: u32,
    name: String,
    /// "float" or "integer".
    precision: String,
    input: InputSpec,
    fixed: Option<FixedPoint>,
    layers: Vec<ManifestLayer>,
    /// File name of the safetensors file, relative to the manifest.
    tensors: String,
    /// sha256 of the tensors file, checked on load.
    tensors_sha256: String,
    #[serde(default)]
    meta: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum ManifestLayer {
    Dense {
        in_features: usize,
        out_features: usize,
        bias: bool,
    },
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        bias: bool,
    },
    SumPool2d {
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    AvgPool2d {
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    Flatten,
    /// LIF and LIFB (max_burst = 1 is LIF). Tensors: threshold, spacing.
    Lifb {
        leak: Leak,
        max_burst: u32,
        reset: Reset,
    },
    /// Tensors: thresholds, rho.
    LifGroup {
        leak: Leak,
        group: u32,
        reset: Reset,
    },
    /// Tensors: thresholds, lateral.
    LifRecurrent {
        leak: Leak,
        group: u32,
    },
}

/// The tensor names of layer i: "layers.{i}.{field}".
fn tname(i: usize, field: &str) -> String {
    format!("layers.{i}.{field}")
}

/// Where the tensors of a model whose manifest is at `manifest` go.
pub fn tensors_path(manifest: &Path) -> PathBuf {
    manifest.with_extension("safetensors")
}

/// Bytes of a number type, little-endian, for safetensors.
pub trait TensorElem: Elem {
    const DT: Dtype;
    fn to_le(v: &[Self]) -> Vec<u8>;
    fn from_le(b: &[u8]) -> Vec<Self>;
}

impl TensorElem for f32 {
    const DT: Dtype = Dtype::F32;
    fn to_le(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    fn from_le(b: &[u8]) -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

impl TensorElem for i32 {
    const DT: Dtype = Dtype::I32;
    fn to_le(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    fn from_le(b: &[u8]) -> Vec<i32> {
        b.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// A network stored in either precision, as loaded from disk.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyNetwork {
    Float(Network<f32>),
    Integer(Network<i32>),
}

impl AnyNetwork {
    pub fn name(&self) -> &str {
        match self {
            AnyNetwork::Float(n) => &n.name,
            AnyNetwork::Integer(n) => &n.name,
        }
    }
}

/// Save a network (manifest at `path`, tensors beside it with the extension .safetensors).
pub fn save<T: TensorElem>(net: &Network<T>, path: &Path) -> Result<()> {
    let tpath = tensors_path(path);
    let tfile = tpath
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if tpath == path {
        return Err(Error::bad_input(format!(
            "{}: a model manifest cannot end in .safetensors (its tensors file would be the same file); name it .json",
            path.display()
        )));
    }
    let (manifest, tensors) = encode(net, &tfile)?;
    // One output of two files: both complete, or neither replaced. Tensors are renamed first, so
    // a manifest on disk always points at complete tensors.
    util::write_atomic_all(&[(&tpath, &tensors), (path, &manifest)])
}

/// The files a model manifest at `path` stands for: the manifest, the tensors file it names (when
/// it can be read) and the tensors file a save to `path` would write. For checking that outputs
/// never alias inputs.
pub fn model_files(path: &Path) -> Vec<PathBuf> {
    #[derive(Deserialize)]
    struct TensorsOnly {
        tensors: String,
    }
    let mut files = vec![path.to_path_buf(), tensors_path(path)];
    if let Ok(bytes) = util::read_limited(path, MAX_MANIFEST) {
        if let Ok(t) = serde_json::from_slice::<TensorsOnly>(&bytes) {
            if !t.tensors.is_empty() && !t.tensors.contains(['/', '\\']) {
                files.push(path.with_file_name(t.tensors));
            }
        }
    }
    files
}

/// The canonical bytes of a model (manifest + tensors) and its hash, without writing anything.
pub fn to_bytes<T: TensorElem>(net: &Network<T>, tensors_file: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    encode(net, tensors_file)
}

/// sha256 of a network's canonical encoding: the same network always gives the same hash.
pub fn model_hash<T: TensorElem>(net: &Network<T>) -> Result<String> {
    let (m, t) = encode(net, "model.safetensors")?;
    Ok(util::sha256_hex(&[&m, &t]))
}

fn encode<T: TensorElem>(net: &Network<T>, tensors_file: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    net.validate()?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut put = |i: usize, name: &str, shape: Vec<usize>, v: &[T]| {
        tensors.push((tname(i, name), shape, T::to_le(v)))
    };
    let mut layers = Vec::new();
    for (i, layer) in net.layers.iter().enumerate() {
        let ml = match layer {
            Layer::Dense(d) => {
                put(i, "weight", vec![d.out_features, d.in_features], &d.weight);
                if let Some(b) = &d.bias {
                    put(i, "bias", vec![d.out_features], b);
                }
                ManifestLayer::Dense {
                    in_features: d.in_features,
                    out_features: d.out_features,
                    bias: d.bias.is_some(),
                }
            }
            Layer::Conv2d(c) => {
                put(
                    i,
                    "weight",
                    vec![c.out_channels, c.in_channels, c.kernel[0], c.kernel[1]],
                    &c.weight,
                );
                if let Some(b) = &c.bias {
                    put(i, "bias", vec![c.out_channels], b);
                }
                ManifestLayer::Conv2d {
                    in_channels: c.in_channels,
                    out_channels: c.out_channels,
                    kernel: c.kernel,
                    stride: c.stride,
                    padding: c.padding,
                    bias: c.bias.is_some(),
                }
            }
            Layer::Pool(p) => match p.kind {
                PoolKind::Sum => ManifestLayer::SumPool2d {
                    kernel: p.kernel,
                    stride: p.stride,
                },
                PoolKind::Avg => ManifestLayer::AvgPool2d {
                    kernel: p.kernel,
                    stride: p.stride,
                },
            },
            Layer::Flatten => ManifestLayer::Flatten,
            Layer::Lifb(n) => {
                put(i, "threshold", vec![n.threshold.len()], &n.threshold);
                put(i, "spacing", vec![n.spacing.len()], &n.spacing);
                ManifestLayer::Lifb {
                    leak: n.leak,
                    max_burst: n.max_burst,
                    reset: n.reset,
                }
            }
            // a group layer's tensors are rows of `group` values (lateral: g x g blocks)
            Layer::LifGroup(n) => {
                let g = n.group as usize;
                put(
                    i,
                    "thresholds",
                    vec![n.thresholds.len() / g, g],
                    &n.thresholds,
                );
                put(i, "rho", vec![n.rho.len() / g, g], &n.rho);
                ManifestLayer::LifGroup {
                    leak: n.leak,
                    group: n.group,
                    reset: n.reset,
                }
            }
            Layer::LifRecurrent(n) => {
                let g = n.group as usize;
                put(
                    i,
                    "thresholds",
                    vec![n.thresholds.len() / g, g],
                    &n.thresholds,
                );
                put(
                    i,
                    "lateral",
                    vec![n.lateral.len() / (g * g), g, g],
                    &n.lateral,
                );
                ManifestLayer::LifRecurrent {
                    leak: n.leak,
                    group: n.group,
                }
            }
        };
        layers.push(ml);
    }
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, s, b)| {
            TensorView::new(T::DT, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::tool(format!("tensor {n}: {e}")))
        })
        .collect::<Result<_>>()?;
    let tensor_bytes = safetensors::serialize(views, None)
        .map_err(|e| Error::tool(format!("writing safetensors: {e}")))?;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        name: net.name.clone(),
        precision: if net.fixed.is_some() {
            "integer".into()
        } else {
            "float".into()
        },
        input: net.input.clone(),
        fixed: net.fixed.clone(),
        layers,
        tensors: tensors_file.into(),
        tensors_sha256: util::sha256_plain_hex(&tensor_bytes),
        meta: net.meta.clone(),
    };
    let mut m =
        serde_json::to_vec_pretty(&manifest).map_err(|e| Error::tool(format!("manifest: {e}")))?;
    m.push(b'\n');
    Ok((m, tensor_bytes))
}

/// Load a model of either precision from its manifest path.
pub fn load(path: &Path) -> Result<AnyNetwork> {
    // read_limited's errors already name the file.
    let bytes = util::read_limited(path, MAX_MANIFEST)?;
    let manifest = parse_manifest(&bytes, &path.display())?;
    let tpath = path.with_file_name(&manifest.tensors);
    let tbytes = util::read_limited(&tpath, MAX_TENSORS).map_err(|e| {
        let m = format!(" (the tensors file of the model {})", path.display());
        Error {
            message: format!("{}{m}", e.message),
            ..e
        }
    })?;
    decode(&manifest, &tbytes, &path.display(), &tpath.display())
}

/// Load a model that must be of precision T.
pub fn load_float(path: &Path) -> Result<Network<f32>> {
    match load(path)? {
        AnyNetwork::Float(n) => Ok(n),
        AnyNetwork::Integer(_) => Err(Error::bad_input(format!(
            "{}: is an integer (quantized) model; this command needs a float model",
            path.display()
        ))),
    }
}

pub fn load_integer(path: &Path) -> Result<Network<i32>> {
    match load(path)? {
        AnyNetwork::Integer(n) => Ok(n),
        AnyNetwork::Float(_) => Err(Error::bad_input(format!(
            "{}: is a float model; quantize it first (lifb-hdl quantize)",
            path.display()
        ))),
    }
}

fn build<T: TensorElem>(m: &Manifest, st: &SafeTensors<'_>) -> Result<Network<T>> {
    let mut used = BTreeSet::new();
    let mut take = |name: String, want_shape: Option<&[usize]>, rank: usize| -> Result<Vec<T>> {
        let view = st.tensor(&name).map_err(|_| {
            Error::bad_input(format!("tensor {name:?} is missing from the tensors file"))
        })?;
        if view.dtype() != T::DT {
            return Err(Error::bad_input(format!(
                "tensor {name:?} has dtype {:?}, expected {:?} for a {} model",
                view.dtype(),
                T::DT,
                m.precision
            )));
        }
        if view.shape().len() != rank {
            return Err(Error::bad_input(format!(
                "tensor {name:?} has shape {:?}, expected rank {rank}",
                view.shape()
            )));
        }
        if let Some(s) = want_shape {
            if view.shape() != s {
                return Err(Error::bad_input(format!(
                    "tensor {name:?} has shape {:?}, expected {s:?}",
                    view.shape()
                )));
            }
        }
        used.insert(name);
        Ok(T::from_le(view.data()))
    };
    let mut layers = Vec::with_capacity(m.layers.len());
    for (i, l) in m.layers.iter().enumerate() {
        let layer = match l {
            ManifestLayer::Dense {
                in_features,
                out_features,
                bias,
            } => {
                let (o, n) = (*out_features, *in_features);
                check_dims(i, &[o, n])?;
                Layer::Dense(Dense {
                    in_features: n,
                    out_features: o,
                    weight: take(tname(i, "weight"), Some(&[o, n]), 2)?,
                    bias: if *bias {
                        Some(take(tname(i, "bias"), Some(&[o]), 1)?)
                    } else {
                        None
                    },
                })
            }
            ManifestLayer::Conv2d {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
                bias,
            } => {
                let s = [*out_channels, *in_channels, kernel[0], kernel[1]];
                check_dims(i, &s)?;
                Layer::Conv2d(Conv2d {
                    in_channels: *in_channels,
                    out_channels: *out_channels,
                    kernel: *kernel,
                    stride: *stride,
                    padding: *padding,
                    weight: take(tname(i, "weight"), Some(&s), 4)?,
                    bias: if *bias {
                        Some(take(tname(i, "bias"), Some(&[*out_channels]), 1)?)
                    } else {
                        None
                    },
                })
            }
            ManifestLayer::SumPool2d { kernel, stride } => Layer::Pool(Pool {
                kind: PoolKind::Sum,
                kernel: *kernel,
                stride: *stride,
            }),
            ManifestLayer::AvgPool2d { kernel, stride } => Layer::Pool(Pool {
                kind: PoolKind::Avg,
                kernel: *kernel,
                stride: *stride,
            }),
            ManifestLayer::Flatten => Layer::Flatten,
            ManifestLayer::Lifb {
                leak,
                max_burst,
                reset,
            } => Layer::Lifb(Lifb {
                leak: *leak,
                max_burst: *max_burst,
                reset: *reset,
                threshold: take(tname(i, "threshold"), None, 1)?,
                spacing: take(tname(i, "spacing"), None, 1)?,
            }),
            ManifestLayer::LifGroup { leak, group, reset } => Layer::LifGroup(LifGroup {
                leak: *leak,
                group: *group,
                reset: *reset,
                thresholds: take(tname(i, "thresholds"), None, 2)?,
                rho: take(tname(i, "rho"), None, 2)?,
            }),
            ManifestLayer::LifRecurrent { leak, group } => Layer::LifRecurrent(LifRecurrent {
                leak: *leak,
                group: *group,
                thresholds: take(tname(i, "thresholds"), None, 2)?,
                lateral: take(tname(i, "lateral"), None, 3)?,
            }),
        };
        layers.push(layer);
    }
    let extra: Vec<String> = st
        .names()
        .into_iter()
        .filter(|n| !used.contains(*n))
        .map(|n| n.to_string())
        .collect();
    if !extra.is_empty() {
        return Err(Error::bad_input(format!(
            "the tensors file has tensors the manifest does not use: {}",
            extra.join(", ")
        )));
    }
    let net = Network {
        name: m.name.clone(),
        input: m.input.clone(),
        layers,
        fixed: m.fixed.clone(),
        meta: m.meta.clone(),
    };
    match (&net.fixed, T::DT) {
        (Some(_), Dtype::I32) | (None, Dtype::F32) => {}
        (None, _) => {
            return Err(Error::bad_input(
                "an integer model needs a \"fixed\" section",
            ))
        }
        (Some(_), _) => {
            return Err(Error::bad_input(
                "a float model must not have a \"fixed\" section",
            ))
        }
    }
    net.validate()?;
    Ok(net)
}

fn check_dims(i: usize, dims: &[usize]) -> Result<()> {
    let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match n {
        Some(n) if n > 0 && n <= crate::ir::MAX_ELEMENTS => Ok(()),
        _ => Err(Error::bad_input(format!(
            "layer {i}: dimensions {dims:?} are zero or too large"
        ))),
    }
}

/// Load a model from the bytes of its manifest and of its tensors file, as [`load`] does with
/// files (the same checks, including the tensors hash; the manifest's `tensors` name is checked
/// but not opened). For tools and fuzzing: nothing is read from disk.
pub fn load_from_bytes(manifest: &[u8], tensors: &[u8]) -> Result<AnyNetwork> {
    if manifest.len() as u64 > MAX_MANIFEST || tensors.len() as u64 > MAX_TENSORS {
        return Err(Error::bad_input(format!(
            "the manifest ({} bytes) or the tensors ({} bytes) exceed the {MAX_MANIFEST}- and {MAX_TENSORS}-byte limits",
            manifest.len(),
            tensors.len()
        )));
    }
    let m = parse_manifest(manifest, &"the manifest")?;
    decode(&m, tensors, &"the manifest", &"the tensors file")
}

/// The manifest checks of [`load`]: JSON, format, version, a plain tensors file name.
/// `path` names the manifest in messages.
fn parse_manifest(bytes: &[u8], path: &dyn std::fmt::Display) -> Result<Manifest> {
    let at = |e: Error| e.context(path);
    let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| {
        Error::bad_input(format!(
            "{path}: not a valid lifb-hdl model manifest ({e}); a model is a .json manifest written by lifb-hdl with a .safetensors file beside it"
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(at(Error::bad_input(format!(
            "format is {:?}, expected {FORMAT:?}",
            manifest.format
        ))));
    }
    if manifest.version != VERSION {
        return Err(at(Error::bad_input(format!(
            "model format version {} is not supported (this lifb-hdl reads version {VERSION})",
            manifest.version
        ))));
    }
    if manifest.tensors.contains('/')
        || manifest.tensors.contains('\\')
        || manifest.tensors.starts_with('.')
    {
        return Err(at(Error::bad_input(format!(
            "tensors file name {:?} must be a plain file name beside the manifest",
            manifest.tensors
        ))));
    }
    Ok(manifest)
}

/// The tensor checks of [`load`]: hash, safetensors structure, then the network itself.
/// `path` and `tpath` name the manifest and the tensors file in messages.
fn decode(
    manifest: &Manifest,
    tbytes: &[u8],
    path: &dyn std::fmt::Display,
    tpath: &dyn std::fmt::Display,
) -> Result<AnyNetwork> {
    let at = |e: Error| e.context(path);
    // tensors_sha256 is the plain sha256 of the file; files written before that change hold the
    // sha256 of the length (u64 LE) followed by the bytes, which is still accepted.
    let want = manifest.tensors_sha256.to_ascii_lowercase();
    if util::sha256_plain_hex(tbytes) != want && util::sha256_hex(&[tbytes]) != want {
        return Err(Error::bad_input(format!(
            "{tpath}: sha256 does not match the manifest's tensors_sha256 (the file is corrupt or belongs to another model)"
        )));
    }
    let st = SafeTensors::deserialize(tbytes)
        .map_err(|e| Error::bad_input(format!("{tpath}: not a valid safetensors file: {e}")))?;
    let net = match manifest.precision.as_str() {
        "float" => AnyNetwork::Float(build::<f32>(manifest, &st).map_err(at)?),
        "integer" => AnyNetwork::Integer(build::<i32>(manifest, &st).map_err(at)?),
        other => {
            return Err(at(Error::bad_input(format!(
                "precision {other:?} is not \"float\" or \"integer\""
            ))))
        }
    };
    Ok(net)
}
